//! `weight_product`: the running product ∏_{k≤l} ‖W_k‖₂ of the layers' spectral norms at
//! initialisation, against l, one line per run, on a log axis (solid). The product alone bounds
//! nothing about the backward signal: each layer also multiplies it by the activation's slope.
//! So for plain stacks the plot adds the bound γ^(l−1) ∏_{2≤k≤l} ‖W_k‖₂ on the gain from layer l
//! down to layer 1, with γ the activation's largest slope (sigmoid 1/4; tanh, ReLU 1) (dashed), and
//! the measured gain ‖∂L/∂h₁‖/‖∂L/∂hₗ‖ (dotted), which stays below it. A residual or normalised
//! block has no such bound: its legend entry says so.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{RunPlot, nonfinite_label};
use crate::draw::{
    Axis, DrawResult, LegendEntry, LineKind, MUTED, NONFINITE, build_chart, draw_legend, draw_line,
    draw_markers, draw_mesh, layer_range, log_range, mark_nonfinite_xs, mark_vertical, no_data,
    split_for_legend,
};
use crate::series::{
    activation_slope, floats, layer_segments, log_backward_bound, log_backward_gain,
    log_running_product, min_max, nonfinite_layers,
};

/// What one run draws: spectral norms at init, and the log10 series of the product, the
/// bound (plain stacks only) and the measured backward gain.
struct Lines {
    norms: Vec<Option<f64>>,
    product: Vec<Option<f64>>,
    bound: Option<Vec<Option<f64>>>,
    gain: Vec<Option<f64>>,
}

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunPlot<'_>],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let data: Vec<Lines> = runs
        .iter()
        .map(|run| {
            let first = run.data.real_records().first().copied();
            let norms = first
                .map(|r| floats(&r.layers.spectral_norm))
                .unwrap_or_default();
            let gain = first
                .map(|r| log_backward_gain(&floats(&r.layers.act_grad_norm)))
                .unwrap_or_default();
            Lines {
                product: log_running_product(&norms),
                bound: activation_slope(&run.data.config_toml)
                    .map(|gamma| log_backward_bound(&norms, gamma)),
                gain,
                norms,
            }
        })
        .collect();
    let mut depth = 1;
    for (run, Lines { norms, .. }) in runs.iter().zip(&data) {
        depth = depth.max(run.data.summary.depth).max(norms.len());
        if let Some(nf) = &run.data.summary.first_nonfinite {
            depth = depth.max(nf.layer);
        }
    }
    let range = min_max(data.iter().flat_map(|l| {
        l.product
            .iter()
            .chain(l.bound.iter().flatten())
            .chain(&l.gain)
            .flatten()
            .copied()
    }));

    let (left, right) = split_for_legend(root);
    // Always show the product 1 (an isometric stack) for reference.
    let y = range.map_or(-1.0..1.0, |(lo, hi)| log_range(lo.min(0.0), hi.max(0.0)));
    let mut chart = build_chart(
        &left,
        Some(
            "Product of spectral norms, the plain-stack bound and the measured gain, at initialisation",
        ),
        layer_range(depth),
        y,
        64,
    )?;
    draw_mesh(
        &mut chart,
        (Axis::Integer, "layer l (1 = input side)"),
        (Axis::Log10, "∏ₖ≤ₗ ‖Wₖ‖₂, bound, gain (log scale)"),
    )?;
    let xr = chart.x_range();
    draw_line(
        &mut chart,
        &[(xr.start, 0.0), (xr.end, 0.0)],
        MUTED,
        LineKind::Dotted,
        1,
    )?;
    if range.is_none() {
        no_data(&mut chart, "no spectral norms recorded at initialisation")?;
    }

    let mut legend = Vec::new();
    let mut nonfinite_xs = Vec::new();
    for (run, l) in runs.iter().zip(&data) {
        for seg in layer_segments(&l.product) {
            draw_line(&mut chart, &seg, run.color, LineKind::Solid, 2)?;
            draw_markers(&mut chart, &seg, run.color, 3, true)?;
        }
        if let Some(bound) = &l.bound {
            for seg in layer_segments(bound) {
                draw_line(&mut chart, &seg, run.color, LineKind::Dashed, 2)?;
            }
            for seg in layer_segments(&l.gain) {
                draw_line(&mut chart, &seg, run.color, LineKind::Dotted, 2)?;
            }
        }
        nonfinite_xs.extend(nonfinite_layers(&l.norms));
        let Some(name) = run.legend_label(runs) else {
            continue;
        };
        let label = if !l.product.iter().any(Option::is_some) {
            format!("{name} (not measured)")
        } else if l.bound.is_none() {
            // Residual and normalised blocks, and networks that are not built-in MLPs, have no
            // plain-stack bound.
            format!("{name} (no plain-stack bound)")
        } else {
            name
        };
        legend.push(LegendEntry::new(label, run.color, LineKind::Solid));
    }
    if data.iter().any(|l| l.bound.is_some()) {
        let grey = RGBColor(110, 110, 110);
        legend.push(LegendEntry::new("solid: ∏ ‖Wₖ‖₂", grey, LineKind::Solid));
        legend.push(LegendEntry::new(
            "dashed: bound, γ^(l−1) ∏₂..ₗ ‖Wₖ‖₂",
            grey,
            LineKind::Dashed,
        ));
        legend.push(LegendEntry::new(
            "dotted: measured ‖∂L/∂h₁‖/‖∂L/∂hₗ‖",
            grey,
            LineKind::Dotted,
        ));
    }
    legend.push(LegendEntry::new(
        "product 1 (norm-preserving)",
        MUTED,
        LineKind::Dotted,
    ));
    if !nonfinite_xs.is_empty() {
        mark_nonfinite_xs(&mut chart, &nonfinite_xs)?;
    }
    let mut row = 0;
    for run in runs {
        if let Some(nf) = &run.data.summary.first_nonfinite {
            let label = format!("{}: {}", run.name, nonfinite_label(nf));
            mark_vertical(&mut chart, nf.layer as f64, NONFINITE, &label, row)?;
            row += 1;
        }
    }
    if !nonfinite_xs.is_empty() || row > 0 {
        legend.push(LegendEntry::new(
            "non-finite (NaN/inf)",
            NONFINITE,
            LineKind::Marker,
        ));
    }
    draw_legend(&right.margin(36, 0, 0, 0), &legend, false)?;
    Ok(())
}
