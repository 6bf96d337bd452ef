//! The progress bars of `gradscope run` and `gradscope sweep`, drawn on standard error from the
//! library's progress callbacks ([`gradscope_trainer::progress`]).

use gradscope_trainer::progress::{Progress, ProgressCallback, SweepProgress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar of one run of `steps` steps, named `name` (hidden when standard error is not a
/// terminal).
pub fn run_bar(steps: usize, name: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

/// Moves `bar` on after every training step, with the losses as its message; clears it after
/// the last step.
pub fn run_callback(bar: &ProgressBar) -> ProgressCallback<Progress> {
    let bar = bar.clone();
    ProgressCallback::new(move |p: Progress| {
        bar.set_message(match p.baseline_loss {
            Some(bl) => format!("loss {:.4} (baseline {bl:.4})", p.loss),
            None => format!("loss {:.4}", p.loss),
        });
        bar.set_position(p.step as u64);
        if p.step >= p.steps {
            bar.finish_and_clear();
        }
    })
}

/// The bar of a sweep's runs (its length comes with the first report).
pub fn sweep_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} runs [{bar:30}] {pos}/{len} ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Moves `bar` on after every run of the sweep that ends, with the run's id as its message.
pub fn sweep_callback(bar: &ProgressBar) -> ProgressCallback<SweepProgress> {
    let bar = bar.clone();
    ProgressCallback::new(move |p: SweepProgress| {
        bar.set_length(p.total as u64);
        bar.set_message(p.run);
        bar.inc(1);
    })
}
