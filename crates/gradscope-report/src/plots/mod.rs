//! The plots: which ones a report has, and drawing each as SVG text or a PNG file.

mod activations;
pub(crate) mod depth;
mod grad_vs_layer;
pub(crate) mod grad_vs_time;
pub(crate) mod heatmap;
mod loss;
mod weight_product;

use std::path::Path;

use gradscope_record::NonFinite;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::draw::{DrawResult, run_color};
use crate::error::ReportError;
use crate::fsutil::{rename_into_place, temp_path};
use crate::load::RunData;

/// A run as the plots see it: its data, display name, file stem and colour.
pub(crate) struct RunPlot<'a> {
    /// The run.
    pub data: &'a RunData,
    /// Its name.
    pub name: String,
    /// Its file-name-safe stem (unique within the report).
    pub stem: String,
    /// Its colour in multi-run plots (one per family where the runs have families).
    pub color: RGBColor,
}

impl<'a> RunPlot<'a> {
    /// The runs of a report, with unique stems and colours: one per family, in the order the
    /// families first appear, when the runs have families (so no colour stands for two
    /// architectures while the palette lasts); else one per run, in order.
    pub(crate) fn all(runs: &'a [RunData]) -> Vec<RunPlot<'a>> {
        let names: Vec<String> = runs.iter().map(RunData::display_name).collect();
        let stems = crate::names::unique_stems(names.iter().map(String::as_str));
        let mut families: Vec<&str> = Vec::new();
        runs.iter()
            .zip(names)
            .zip(stems)
            .enumerate()
            .map(|(i, ((data, name), stem))| {
                let color = match &data.family {
                    Some(f) => {
                        let k = families.iter().position(|g| g == f).unwrap_or_else(|| {
                            families.push(f);
                            families.len() - 1
                        });
                        run_color(k)
                    }
                    None => run_color(i),
                };
                RunPlot {
                    data,
                    name,
                    stem,
                    color,
                }
            })
            .collect()
    }

    /// The legend entry that stands for this run in a plot of every run: its family (once per
    /// family: `None` for the family's later runs), or its name.
    pub(crate) fn legend_label(&self, runs: &[RunPlot<'_>]) -> Option<String> {
        match &self.data.family {
            Some(f) => {
                let first = runs.iter().find(|r| r.data.family.as_ref() == Some(f));
                first
                    .is_some_and(|r| std::ptr::eq(r.data, self.data))
                    .then(|| f.clone())
            }
            None => Some(self.name.clone()),
        }
    }
}

/// The kind of a plot (with the index of its run for per-run plots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlotKind {
    /// Test accuracy and first-to-last gradient ratio against depth, one line per architecture.
    Depth,
    /// ‖∂L/∂h_l‖ against layer, every run.
    GradVsLayer,
    /// ‖∂L/∂h_t‖ against time step, every recurrent layer of every run.
    GradVsTime,
    /// Running product of spectral norms, every run.
    WeightProduct,
    /// Layer × step heatmap of one run.
    Heatmap(usize),
    /// Time step × training step heatmap of one recurrent run.
    TimeHeatmap(usize),
    /// Loss against the baseline, one run.
    Loss(usize),
    /// Activation statistics, one run.
    Activations(usize),
}

/// One plot of the report.
#[derive(Debug, Clone)]
pub(crate) struct PlotSpec {
    /// File stem and id (`grad_vs_layer`, `heatmap_<run>`, …).
    pub name: String,
    /// What it is.
    pub kind: PlotKind,
    /// One sentence saying what it shows (the report's caption).
    pub caption: String,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// The loss plot's caption: how to read it, and the verdict with its reason.
fn loss_caption(run: &RunPlot<'_>) -> String {
    let s = &run.data.summary;
    let how = "Training loss of the real run (bold: its mean over the learning signal's window; \
               thin: each step) against its learning-rate-0 baseline (same initial weights, same \
               batches, no updates), whose band is drawn at the verdict's threshold: the run has \
               left it where the bold line is below the band. Dotted: the loss of the best \
               constant prediction, where a net that learns only its output bias plateaus.";
    match (s.verdict, &s.verdict_reason) {
        (Some(v), Some(why)) => format!("{how} Verdict: {} — the real run {why}.", v.name()),
        _ => how.to_string(),
    }
}

/// The plots of a report over `runs`: the depth figure where some architecture was run at two
/// depths (or sequence lengths) or more, the through-time plot where a run observed time steps,
/// the two by-layer plots where some run has two layers or more, then per run its heatmaps,
/// loss and activations.
pub(crate) fn plan(runs: &[RunPlot<'_>]) -> Vec<PlotSpec> {
    let mut out = Vec::new();
    if depth::applies(runs) {
        out.push(PlotSpec {
            name: "depth".into(),
            kind: PlotKind::Depth,
            caption: depth::caption(runs),
            size: (1240, 520),
        });
    }
    // Recurrent runs tell their story through time: that plot first.
    if grad_vs_time::applies(runs) {
        // A comparison over sequence lengths draws one panel per length: wider.
        let lengths =
            grad_vs_time::lengths(&runs.iter().map(grad_vs_time::lines).collect::<Vec<_>>());
        let wide = lengths.len() > 1;
        out.push(PlotSpec {
            name: "grad_vs_time".into(),
            kind: PlotKind::GradVsTime,
            caption: String::from(
                "The backward signal through time, ‖∂L/∂hₜ‖ at each time step of each recurrent \
                 layer: solid at initialisation, dashed and lighter at the last record. The same \
                 recurrent Jacobian multiplies it at every step back, so a line falling towards \
                 t = 1 means the gradient vanishes through time (the first inputs cannot be \
                 learned from), a rising one that it explodes. A comparison over sequence \
                 lengths T has one panel per length.",
            ),
            size: (if wide { 1500 } else { 1100 }, 520),
        });
    }
    // Against the layer, a network of one observed layer is a single point: those two plots
    // need some run with two layers or more.
    let layered = runs.iter().any(|r| r.data.summary.depth > 1);
    out.extend(
        [
            PlotSpec {
                name: "grad_vs_layer".into(),
                kind: PlotKind::GradVsLayer,
                caption: String::from(
                    "The backward signal ‖∂L/∂hₗ‖ at each layer: solid at initialisation, \
                      dashed and lighter at the last record, dotted as the theory predicts. A \
                      line falling towards layer 1 means vanishing gradients, a rising one \
                      exploding gradients.",
                ),
                size: (1100, 560),
            },
            PlotSpec {
                name: "weight_product".into(),
                kind: PlotKind::WeightProduct,
                caption: String::from(
                    "Solid: the running product of the layers' spectral norms at initialisation, \
                 ∏ₖ≤ₗ ‖Wₖ‖₂, which alone bounds nothing about the gradient. Dashed, for plain \
                 stacks: times the activation's largest slope γ per layer (sigmoid 1/4; tanh, \
                 ReLU 1), the most the backward signal can grow from layer l down to layer 1; \
                 a falling dashed line means the gradient must vanish. Dotted: the gain \
                 measured by autodiff, below its bound. Residual and normalised blocks have no \
                 such bound.",
                ),
                size: (1100, 520),
            },
        ]
        .into_iter()
        .filter(|_| layered),
    );
    for (i, run) in runs.iter().enumerate() {
        let recurrent = !grad_vs_time::lines(run).is_empty();
        if recurrent {
            out.push(PlotSpec {
                name: format!("heatmap_time_{}", run.stem),
                kind: PlotKind::TimeHeatmap(i),
                caption: String::from(
                    "log₁₀ ‖∂L/∂hₜ‖ of the real run's first recurrent layer at every time step \
                     (rows) and recorded training step (columns): a dark band at the bottom is \
                     a signal that vanishes before it reaches the first inputs; watch whether \
                     training lifts it.",
                ),
                size: (1000, 460),
            });
        }
        // One recurrent layer makes a one-row layer heatmap: the time heatmap says it all.
        if !recurrent || run.data.summary.depth > 1 {
            out.push(PlotSpec {
                name: format!("heatmap_{}", run.stem),
                kind: PlotKind::Heatmap(i),
                caption: String::from(
                    "log₁₀ ‖∂L/∂hₗ‖ of the real run at every recorded step and layer.",
                ),
                size: (1000, 460),
            });
        }
        out.push(PlotSpec {
            name: format!("loss_{}", run.stem),
            kind: PlotKind::Loss(i),
            caption: loss_caption(run),
            size: (1000, 460),
        });
        out.push(PlotSpec {
            name: format!("activations_{}", run.stem),
            kind: PlotKind::Activations(i),
            caption: String::from(
                "Per-layer activation statistics at initialisation and at the last record.",
            ),
            size: (1000, 440),
        });
    }
    out
}

/// The label of a first non-finite value.
pub(crate) fn nonfinite_label(nf: &NonFinite) -> String {
    format!(
        "first non-finite: step {}, {} (layer {}, {})",
        nf.step,
        nf.layer_name,
        nf.layer,
        nf.kind.name()
    )
}

impl PlotSpec {
    /// Draws the plot on `root`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        runs: &[RunPlot<'_>],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        match self.kind {
            PlotKind::Depth => depth::draw(root, runs)?,
            PlotKind::GradVsLayer => grad_vs_layer::draw(root, runs)?,
            PlotKind::GradVsTime => grad_vs_time::draw(root, runs)?,
            PlotKind::WeightProduct => weight_product::draw(root, runs)?,
            PlotKind::Heatmap(i) => heatmap::draw(root, &runs[i], heatmap::Rows::Layers)?,
            PlotKind::TimeHeatmap(i) => heatmap::draw(root, &runs[i], heatmap::Rows::TimeSteps)?,
            PlotKind::Loss(i) => loss::draw(root, &runs[i])?,
            PlotKind::Activations(i) => activations::draw(root, &runs[i])?,
        }
        root.present()?;
        Ok(())
    }

    /// The plot as SVG text; `path` names it in errors.
    pub(crate) fn render_svg(
        &self,
        runs: &[RunPlot<'_>],
        path: &Path,
    ) -> Result<String, ReportError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            self.draw(&root, runs).map_err(|e| ReportError::Plot {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        Ok(svg)
    }

    /// Writes the plot as a PNG to `path` (atomically).
    pub(crate) fn write_png(&self, runs: &[RunPlot<'_>], path: &Path) -> Result<(), ReportError> {
        let tmp = temp_path(path);
        let drawn = {
            let root = BitMapBackend::new(&tmp, self.size).into_drawing_area();
            self.draw(&root, runs)
        };
        if let Err(e) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(ReportError::Plot {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
        rename_into_place(&tmp, path)
    }
}
