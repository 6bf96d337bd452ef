//! `weight_product`: the running product ∏_{k≤l} ‖W_k‖₂ of the layers' spectral norms at
//! initialisation, against l, one line per run, on a log axis. The backward signal through a
//! plain stack is bounded by this product.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{RunPlot, nonfinite_label};
use crate::draw::{
    Axis, DrawResult, LegendEntry, LineKind, MUTED, NONFINITE, build_chart, draw_legend, draw_line,
    draw_markers, draw_mesh, layer_range, log_range, mark_nonfinite_xs, mark_vertical, no_data,
};
use crate::series::{floats, layer_segments, log_running_product, min_max, nonfinite_layers};

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunPlot<'_>],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Per run: (spectral norms at the first real record, log10 running product).
    type NormsAndProduct = (Vec<Option<f64>>, Vec<Option<f64>>);
    let data: Vec<NormsAndProduct> = runs
        .iter()
        .map(|run| {
            let norms = run
                .data
                .real_records()
                .first()
                .map(|r| floats(&r.layers.spectral_norm))
                .unwrap_or_default();
            let product = log_running_product(&norms);
            (norms, product)
        })
        .collect();
    let mut depth = 1;
    for (run, (norms, _)) in runs.iter().zip(&data) {
        depth = depth.max(run.data.summary.depth).max(norms.len());
        if let Some(nf) = &run.data.summary.first_nonfinite {
            depth = depth.max(nf.layer);
        }
    }
    let range = min_max(data.iter().flat_map(|(_, p)| p.iter().flatten().copied()));

    let (w, _) = root.dim_in_pixel();
    let legend_w = (w / 3).min(300);
    let (left, right) = root.split_horizontally(w - legend_w);
    // Always show the product 1 (an isometric stack) for reference.
    let y = range.map_or(-1.0..1.0, |(lo, hi)| log_range(lo.min(0.0), hi.max(0.0)));
    let mut chart = build_chart(
        &left,
        Some("Running product of spectral norms ∏ₖ≤ₗ ‖Wₖ‖₂ at initialisation"),
        layer_range(depth),
        y,
        64,
    )?;
    draw_mesh(
        &mut chart,
        (Axis::Integer, "layer l (1 = input side)"),
        (Axis::Log10, "∏ₖ≤ₗ ‖Wₖ‖₂ (log scale)"),
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
    for (run, (norms, product)) in runs.iter().zip(&data) {
        for seg in layer_segments(product) {
            draw_line(&mut chart, &seg, run.color, LineKind::Solid, 2)?;
            draw_markers(&mut chart, &seg, run.color, 3, true)?;
        }
        nonfinite_xs.extend(nonfinite_layers(norms));
        let Some(name) = run.legend_label(runs) else {
            continue;
        };
        let label = if product.iter().any(Option::is_some) {
            name
        } else {
            format!("{name} (not measured)")
        };
        legend.push(LegendEntry::new(label, run.color, LineKind::Solid));
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
