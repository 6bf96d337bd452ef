//! The short human summary printed at the end of a run.

use std::path::Path;

use gradscope_record::{Real, format_sig};

use crate::experiment::RunOutcome;
use crate::output::{Status, Summary};

/// A result for people: 3 significant figures.
fn sig(x: Real) -> String {
    format_sig(x.get(), 3)
}

/// Verdict, learning signal, diagnosis, remedies and where the files are.
pub fn summary_text(s: &Summary, out_dir: &Path) -> String {
    let mut t = String::new();
    t.push_str(&format!("\n{}  ({})\n", s.name, s.model));
    match s.status {
        Status::Completed => t.push_str(&format!(
            "  {} steps in {:.1} s\n",
            s.steps_completed, s.wall_time_s
        )),
        Status::Nonfinite => t.push_str(&format!(
            "  stopped at step {} of {}: a value turned non-finite\n",
            s.steps_completed.saturating_sub(1),
            s.steps_planned
        )),
        Status::Interrupted => t.push_str(&format!(
            "  interrupted after {} of {} steps\n",
            s.steps_completed, s.steps_planned
        )),
    }
    let real = &s.finals.real;
    t.push_str(&format!(
        "  final test loss {} (train {})",
        sig(real.test_loss),
        sig(real.train_loss)
    ));
    if let Some(a) = real.test_accuracy {
        t.push_str(&format!(", test accuracy {:.1} %", 100.0 * a.get()));
    }
    if let Some(b) = &s.finals.baseline {
        t.push_str(&format!(
            "; learning-rate-0 baseline: test loss {}",
            sig(b.test_loss)
        ));
        if let Some(a) = b.test_accuracy {
            t.push_str(&format!(", accuracy {:.1} %", 100.0 * a.get()));
        }
    }
    t.push('\n');
    if let Some(v) = s.verdict {
        t.push_str(&format!("  verdict: {}", v.name()));
        if let Some(why) = &s.verdict_reason {
            t.push_str(&format!(": the real run {why}"));
        }
        t.push('\n');
    }
    t.push_str(&format!("  diagnosis: {}\n", s.diagnosis.evidence.summary));
    for r in &s.diagnosis.remedies {
        t.push_str(&format!("    - {r}\n"));
    }
    t.push_str(&format!("  results: {}\n", out_dir.display()));
    t
}

/// Several runs side by side: the lecture's comparison in one table.
pub fn comparison_table(outcomes: &[RunOutcome]) -> String {
    let mut t = format!(
        "\n{:<28} {:>10} {:>12} {:>10} {:>10} {:>18} {:<11}\n",
        "run", "diagnosis", "first/last", "per layer", "test acc", "verdict", "non-finite"
    );
    for o in outcomes {
        let s = &o.summary;
        let e = &s.diagnosis.evidence;
        let ratio = e.first_to_last_ratio.map_or("-".into(), sig);
        let rate = e.per_layer_rate.map_or("-".into(), sig);
        let acc = s
            .finals
            .real
            .test_accuracy
            .map_or("-".into(), |a| format!("{:.1} %", 100.0 * a.get()));
        let nf = s
            .first_nonfinite
            .as_ref()
            .map_or("-".into(), |n| format!("step {} {}", n.step, n.layer_name));
        t.push_str(&format!(
            "{:<28} {:>10} {:>12} {:>10} {:>10} {:>18} {:<11}\n",
            s.name,
            s.diagnosis.kind.name(),
            ratio,
            rate,
            acc,
            s.verdict.map_or("-", |v| v.name()),
            nf
        ));
    }
    t.push_str(
        "\nfirst/last: |dL/dh| at the first hidden layer over the last, at initialisation\n",
    );
    if outcomes
        .iter()
        .any(|o| o.summary.diagnosis.evidence.through_time)
    {
        t.push_str(
            "  (recurrent nets: through time, the first layer's first step over the top layer's last; the rate is per step)\n",
        );
    }
    t
}
