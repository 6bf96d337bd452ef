//! `grad_vs_time`: ‖∂L/∂h_t‖ against the time step t for every recurrent layer of every run, at
//! initialisation (solid) and at the last record (lighter, dashed), on a log axis: the backward
//! signal through time, where the same recurrent Jacobian multiplies it at every step back.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::RunPlot;
use crate::draw::{
    DrawResult, LegendEntry, LineKind, MUTED, draw_legend, draw_line, draw_markers, lighten,
    split_for_legend,
};
use crate::series::{floats, layer_log_segments, log10_or_none, min_max};

/// One recurrent layer's lines: (layer, init (step, series), last (step, series)).
pub(crate) struct TimeLines {
    pub(crate) layer: usize,
    pub(crate) init: (u64, Vec<Option<f64>>),
    pub(crate) last: Option<(u64, Vec<Option<f64>>)>,
}

/// The through-time lines of a run: one per layer that observed time steps.
pub(crate) fn lines(run: &RunPlot<'_>) -> Vec<TimeLines> {
    let real = run.data.real_records();
    let (Some(first), last) = (real.first(), real.last().filter(|_| real.len() > 1)) else {
        return Vec::new();
    };
    let layers = first.layers.act_grad_norm_time.len();
    (0..layers)
        .filter(|&l| !first.layers.act_grad_norm_time[l].is_empty())
        .map(|l| TimeLines {
            layer: l + 1,
            init: (first.step, floats(&first.layers.act_grad_norm_time[l])),
            last: last.and_then(|r| {
                let series = r.layers.act_grad_norm_time.get(l)?;
                (!series.is_empty()).then(|| (r.step, floats(series)))
            }),
        })
        .collect()
}

/// Whether any run has a layer observed through time.
pub(crate) fn applies(runs: &[RunPlot<'_>]) -> bool {
    runs.iter().any(|r| !lines(r).is_empty())
}

/// The sequence lengths of the runs' lines, increasing: a comparison over lengths gets one
/// panel each, so that every line of a panel ends at the same last step.
pub(crate) fn lengths(all: &[Vec<TimeLines>]) -> Vec<usize> {
    let mut v: Vec<usize> = all.iter().flatten().map(|l| l.init.1.len()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Most panels side by side; more lengths share one panel.
const MAX_PANELS: usize = 4;

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunPlot<'_>],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all: Vec<Vec<TimeLines>> = runs.iter().map(lines).collect();
    fn series(l: &TimeLines) -> Vec<Vec<Option<f64>>> {
        std::iter::once(l.init.1.clone())
            .chain(l.last.iter().map(|(_, s)| s.clone()))
            .collect()
    }
    // One y range for every panel, so that heights compare across lengths.
    let range = min_max(
        all.iter()
            .flatten()
            .flat_map(series)
            .flatten()
            .filter_map(log10_or_none),
    );
    let lengths = lengths(&all);
    let panels: Vec<Option<usize>> = if (2..=MAX_PANELS).contains(&lengths.len()) {
        lengths.iter().copied().map(Some).collect()
    } else {
        vec![None]
    };
    // With families (a sweep), the colour says the family and the legend says it once; the line
    // style says initialisation or last record.
    let by_family = runs.iter().all(|r| r.data.family.is_some());

    let (left, right) = split_for_legend(root);
    let areas = left.split_evenly((1, panels.len()));
    let mut legend = Vec::new();
    for (area, panel) in areas.iter().zip(&panels) {
        let here = |l: &TimeLines| panel.is_none_or(|t| l.init.1.len() == t);
        let steps = panel.unwrap_or_else(|| lengths.last().copied().unwrap_or(1));
        let title = match panel {
            Some(t) => format!("‖∂L/∂hₜ‖ through time, T = {t}"),
            None => "Backward signal through time ‖∂L/∂hₜ‖".to_string(),
        };
        let mut chart = super::grad_vs_layer::signal_chart(
            area,
            &title,
            steps,
            range,
            "time step t (1 = first input)",
            "‖∂L/∂hₜ‖",
        )?;
        for (run, layers) in runs.iter().zip(&all) {
            // Stacked recurrent layers of one run: the lower ones paler.
            let n = layers.len();
            for (k, l) in layers.iter().enumerate().filter(|(_, l)| here(l)) {
                let c = lighten(run.color, 0.5 * (n - 1 - k) as f64 / (n - 1).max(1) as f64);
                let pale = lighten(c, 0.45);
                let who = if n > 1 {
                    format!("{} · layer {}", run.name, l.layer)
                } else {
                    run.name.clone()
                };
                if let Some((step, last)) = &l.last {
                    for seg in layer_log_segments(last) {
                        draw_line(&mut chart, &seg, pale, LineKind::Dashed, 2)?;
                    }
                    if !by_family {
                        legend.push(LegendEntry::new(
                            format!("{who}: step {step} (last)"),
                            pale,
                            LineKind::Dashed,
                        ));
                    }
                }
                for seg in layer_log_segments(&l.init.1) {
                    draw_line(&mut chart, &seg, c, LineKind::Solid, 2)?;
                    draw_markers(&mut chart, &seg, c, 2, true)?;
                }
                if !by_family {
                    legend.insert(
                        legend.len() - usize::from(l.last.is_some()),
                        LegendEntry::new(
                            format!("{who}: step {} (init)", l.init.0),
                            c,
                            LineKind::Solid,
                        ),
                    );
                }
            }
        }
    }
    if by_family {
        for run in runs {
            if let Some(label) = run.legend_label(runs) {
                legend.push(LegendEntry::new(label, run.color, LineKind::Solid));
            }
        }
        legend.push(LegendEntry::new(
            "solid: at initialisation",
            MUTED,
            LineKind::Solid,
        ));
        legend.push(LegendEntry::new(
            "dashed: last record",
            lighten(MUTED, 0.45),
            LineKind::Dashed,
        ));
    }
    draw_legend(&right.margin(36, 0, 0, 0), &legend, false)?;
    Ok(())
}
