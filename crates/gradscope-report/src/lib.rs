//! Plots and a self-contained HTML report from gradscope run folders.
//!
//! A run folder (written by `gradscope run`) holds `summary.json`, `metrics.jsonl`,
//! `metrics.csv` and `config.toml`. [`find_runs`] finds and [`load_run`] reads them;
//! [`write_report`] draws, for every run together,
//!
//! - `depth` (first, and only where some architecture, a [`RunData::family`], was run at two
//!   depths or more, as in a sweep over depth, or else at two sequence lengths): final test
//!   accuracy (or a regression's test MSE) against depth (or T) beside the constant
//!   prediction's, and the first-to-last gradient ratio at initialisation and at the last
//!   record, one line per architecture, repeats over seeds as mean ± sd (the points:
//!   [`depth_series`]);
//! - `grad_vs_time` (where a run observed time steps): ‖∂L/∂h_t‖ against t at initialisation and
//!   at the last record, one panel per sequence length;
//! - `grad_vs_layer` (where some run has two layers or more): ‖∂L/∂h_l‖ against layer at
//!   initialisation, at the last record and as the theory predicts, log scale;
//! - `weight_product` (likewise): the running product ∏_{k≤l} ‖W_k‖₂ of spectral norms at
//!   initialisation;
//!
//! and for each run `heatmap_<run>` (log10 ‖∂L/∂h‖, layer × step; `heatmap_time_<run>`, time
//! step × training step, for a recurrent run), `loss_<run>` (the real loss
//! against the baseline's noise band) and `activations_<run>` (activation std, saturated and
//! dead fractions per layer), each as `plots/<name>.svg` and `plots/<name>.png`, and
//! `report.html`: one self-contained page with every plot inline. Text is drawn with an
//! embedded font (DejaVu Sans), so rendering needs no system fonts. Output is deterministic:
//! the same runs give byte-identical files.
//!
//! [`write_tensorboard`] exports a run's records as TensorBoard event files.
//!
//! Non-finite values and zeros never reach a log axis: they leave gaps, non-finite ones are
//! marked with red crosses, and the run's first non-finite value is marked in red.
//!
//! ```
//! use gradscope_report::{sanitize_stem, write_report};
//!
//! assert_eq!(sanitize_stem("plain deep/σ=2"), "plain_deep_2");
//! let out = std::env::temp_dir().join(format!("gradscope-report-doctest-{}", std::process::id()));
//! let files = write_report(&out, &[]).unwrap();
//! assert!(std::fs::read_to_string(&files.html).unwrap().contains("gradscope report"));
//! assert!(files.plots.is_empty()); // no runs, no plots: the page says so
//! std::fs::remove_dir_all(&out).unwrap();
//! ```

mod draw;
pub mod error;
mod font;
mod fsutil;
pub mod html;
pub mod load;
mod names;
mod plots;
mod series;
pub mod tensorboard;

use std::path::{Path, PathBuf};

pub use error::ReportError;
pub use fsutil::write_atomic;
pub use load::{RunData, find_runs, load_run};
pub use names::sanitize_stem;
pub use plots::depth::{DepthPoint, DepthSeries, Scale, constant_accuracy, depth_series};
pub use tensorboard::{LiveTensorboard, write_tensorboard};

use crate::fsutil::create_dir;
use crate::plots::RunPlot;

/// Name of the HTML report inside the output folder.
pub const REPORT_FILE: &str = "report.html";
/// Name of the plot folder inside the output folder.
pub const PLOTS_DIR: &str = "plots";

/// The files a report consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `out_dir/report.html`.
    pub html: PathBuf,
    /// Every plot: `out_dir/plots/<name>.svg` and `.png`, in the report's order.
    pub plots: Vec<PathBuf>,
}

/// The names of the plots [`write_report`] draws for `runs`, in order: `depth` (where it
/// applies), `grad_vs_layer`, `weight_product`, then per run `heatmap_<stem>`, `loss_<stem>`, `activations_<stem>` (stems
/// from [`sanitize_stem`], made unique). In `report.html` each plot's `<figure>` has
/// `id="plot-<name>"` and `data-plot="<name>"`.
pub fn plot_names(runs: &[RunData]) -> Vec<String> {
    plots::plan(&RunPlot::all(runs))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Removes the `.svg` and `.png` files in `plots_dir` that this report did not write: plots of an
/// earlier report of the folder whose runs had other names, which the new report no longer
/// shows and which would otherwise pass for current. Only plot files are touched; a file that
/// cannot be removed is left (the report itself is written).
fn remove_stale_plots(plots_dir: &Path, written: &[std::path::PathBuf]) {
    let Ok(entries) = std::fs::read_dir(plots_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let plot = path.extension().is_some_and(|e| e == "svg" || e == "png");
        if plot && path.is_file() && !written.contains(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Writes `out_dir/plots/<name>.svg` and `.png` for every plot, and `out_dir/report.html`.
/// Deterministic output for the same input; every file is written atomically (a temporary file
/// in the same folder, then a rename). Folders are created as needed.
pub fn write_report(out_dir: &Path, runs: &[RunData]) -> Result<ReportFiles, ReportError> {
    font::ensure_registered()?;
    let plots_dir = out_dir.join(PLOTS_DIR);
    create_dir(&plots_dir)?;
    let run_plots = RunPlot::all(runs);
    let specs = plots::plan(&run_plots);
    let mut files = Vec::with_capacity(2 * specs.len());
    let mut svgs = Vec::with_capacity(specs.len());
    for spec in &specs {
        let svg_path = plots_dir.join(format!("{}.svg", spec.name));
        let svg = spec.render_svg(&run_plots, &svg_path)?;
        write_atomic(&svg_path, svg.as_bytes())?;
        let png_path = plots_dir.join(format!("{}.png", spec.name));
        spec.write_png(&run_plots, &png_path)?;
        files.push(svg_path);
        files.push(png_path);
        svgs.push(svg);
    }
    let html = html::render(&run_plots, &specs, &svgs);
    let html_path = out_dir.join(REPORT_FILE);
    write_atomic(&html_path, html.as_bytes())?;
    remove_stale_plots(&plots_dir, &files);
    Ok(ReportFiles {
        html: html_path,
        plots: files,
    })
}

#[cfg(test)]
mod tests;
