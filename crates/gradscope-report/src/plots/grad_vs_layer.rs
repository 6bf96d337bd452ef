//! `grad_vs_layer`: ‖∂L/∂h_l‖ against layer for every run, at initialisation (solid), at the last
//! record (lighter, dashed) and as the theory predicts (dotted), on a log axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{RunPlot, nonfinite_label};
use crate::draw::{
    Axis, Chart, DrawResult, LegendEntry, LineKind, MUTED, NONFINITE, build_chart, draw_legend,
    draw_line, draw_markers, draw_mesh, layer_range, lighten, log_range, mark_nonfinite_xs,
    mark_vertical, no_data, split_for_legend,
};
use crate::series::{floats, layer_log_segments, log10_or_none, min_max, nonfinite_layers};

/// The lines of one run.
struct Lines {
    init: Option<(u64, Vec<Option<f64>>)>,
    last: Option<(u64, Vec<Option<f64>>)>,
    theory: Option<Vec<Option<f64>>>,
}

fn lines(run: &RunPlot<'_>) -> Lines {
    let real = run.data.real_records();
    let init = real
        .first()
        .map(|r| (r.step, floats(&r.layers.act_grad_norm)));
    let last = if real.len() > 1 {
        real.last()
            .map(|r| (r.step, floats(&r.layers.act_grad_norm)))
    } else {
        None
    };
    let theory = run.data.summary.theory.as_ref().map(|t| {
        t.predicted_activation_grad_norm
            .iter()
            .map(|v| Some(v.get()))
            .collect()
    });
    Lines { init, last, theory }
}

/// The log-scale chart of a backward signal against positions 1..=`positions` (layers, or time
/// steps), `range` the log10 range of its finite values (`None`: nothing to draw, said on the
/// chart).
pub(super) fn signal_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    positions: usize,
    range: Option<(f64, f64)>,
    x_label: &str,
    quantity: &str,
) -> Result<Chart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let y = range.map_or(-1.0..1.0, |(lo, hi)| log_range(lo, hi));
    let mut chart = build_chart(area, Some(title), layer_range(positions), y, 64)?;
    draw_mesh(
        &mut chart,
        (Axis::Integer, x_label),
        (Axis::Log10, &format!("{quantity} (log scale)")),
    )?;
    if range.is_none() {
        no_data(
            &mut chart,
            &format!("no finite, positive {quantity} recorded"),
        )?;
    }
    Ok(chart)
}

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunPlot<'_>],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all: Vec<Lines> = runs.iter().map(lines).collect();
    let series = |l: &Lines| -> Vec<Vec<Option<f64>>> {
        let mut v = Vec::new();
        v.extend(l.init.iter().map(|(_, s)| s.clone()));
        v.extend(l.last.iter().map(|(_, s)| s.clone()));
        v.extend(l.theory.iter().cloned());
        v
    };
    let mut depth = 1;
    for (run, l) in runs.iter().zip(&all) {
        depth = depth.max(run.data.summary.depth);
        for s in series(l) {
            depth = depth.max(s.len());
        }
        if let Some(nf) = &run.data.summary.first_nonfinite {
            depth = depth.max(nf.layer);
        }
    }
    let logs = all
        .iter()
        .flat_map(series)
        .flatten()
        .filter_map(log10_or_none);
    let range = min_max(logs);

    let (left, right) = split_for_legend(root);
    let mut chart = signal_chart(
        &left,
        "Backward signal ‖∂L/∂hₗ‖ by layer",
        depth,
        range,
        "layer l (1 = input side)",
        "‖∂L/∂hₗ‖",
    )?;

    let mut legend = Vec::new();
    let mut nonfinite_xs = Vec::new();
    // Beyond three runs, three legend entries each no longer fit beside the chart.
    let compact = runs.len() > 3;
    for (run, l) in runs.iter().zip(&all) {
        let c = run.color;
        let pale = lighten(c, 0.45);
        if let Some(theory) = &l.theory {
            for seg in layer_log_segments(theory) {
                draw_line(&mut chart, &seg, c, LineKind::Dotted, 2)?;
            }
        }
        if let Some((_, last)) = &l.last {
            for seg in layer_log_segments(last) {
                draw_line(&mut chart, &seg, pale, LineKind::Dashed, 2)?;
                draw_markers(&mut chart, &seg, pale, 3, true)?;
            }
            nonfinite_xs.extend(nonfinite_layers(last));
        }
        if let Some((_, init)) = &l.init {
            for seg in layer_log_segments(init) {
                draw_line(&mut chart, &seg, c, LineKind::Solid, 2)?;
                draw_markers(&mut chart, &seg, c, 3, true)?;
            }
            nonfinite_xs.extend(nonfinite_layers(init));
        }
        if compact {
            // Many runs: one entry per run (or per family of runs); the line styles are
            // explained once, below.
            if let Some(label) = run.legend_label(runs) {
                legend.push(LegendEntry::new(label, c, LineKind::Solid));
            }
            continue;
        }
        match &l.init {
            Some((step, _)) => legend.push(LegendEntry::new(
                format!("{}: step {step} (init)", run.name),
                c,
                LineKind::Solid,
            )),
            None => legend.push(LegendEntry::new(
                format!("{}: no records", run.name),
                c,
                LineKind::Solid,
            )),
        }
        if let Some((step, _)) = &l.last {
            legend.push(LegendEntry::new(
                format!("{}: step {step} (last)", run.name),
                pale,
                LineKind::Dashed,
            ));
        }
        if l.theory.is_some() {
            legend.push(LegendEntry::new(
                format!("{}: theory", run.name),
                c,
                LineKind::Dotted,
            ));
        }
    }
    if compact {
        let grey = RGBColor(110, 110, 110);
        if runs.iter().any(|r| r.data.family.is_some()) {
            legend.push(LegendEntry::new(
                "colour: architecture; line length: depth",
                MUTED,
                LineKind::Blank,
            ));
        }
        legend.push(LegendEntry::new(
            "solid: initialisation",
            grey,
            LineKind::Solid,
        ));
        if all.iter().any(|l| l.last.is_some()) {
            legend.push(LegendEntry::new(
                "dashed, paler: last record",
                lighten(grey, 0.45),
                LineKind::Dashed,
            ));
        }
        if all.iter().any(|l| l.theory.is_some()) {
            legend.push(LegendEntry::new("dotted: theory", grey, LineKind::Dotted));
        }
    }
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
