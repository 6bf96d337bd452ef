//! `loss_<run>`: the real run's training loss against its learning-rate-zero baseline, drawn from
//! exactly what the verdict compares (`learning_signal.trace`): the band is the baseline's mean ±
//! threshold × sd over the signal's window, and the bold line the real run's mean over the same
//! window, so the bold line is below the band exactly where z exceeds the threshold. The raw
//! per-step loss is drawn thin, the best constant prediction's loss (where a net that learns only
//! its output bias plateaus) as a dotted line, the step the run left the band for good and the
//! first non-finite value as markers. With a head-only control (only the output head learns), its
//! loss over the same window is drawn too: a real run on top of it learned nothing below the head.
//! Summaries without a trace (written before it existed) get
//! the older band, mean ± sd over the recorded steps.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{RunPlot, nonfinite_label};
use crate::draw::{
    Axis, DrawResult, LegendEntry, LineKind, MUTED, NONFINITE, build_chart, draw_legend, draw_line,
    draw_markers, draw_mesh, linear_range, log_range, mark_nonfinite_xs, mark_vertical, no_data,
};
use crate::series::{baseline_band, log_ok, min_max, segments};

/// Window used when the summary has no learning signal (no baseline).
const DEFAULT_WINDOW: usize = 20;
/// Colour of the baseline.
const BASELINE: RGBColor = RGBColor(90, 98, 110);
/// Colour of the "outside the band" marker.
const OUTSIDE: RGBColor = RGBColor(25, 135, 84);
/// Colour of the constant prediction's loss.
const CONSTANT: RGBColor = RGBColor(136, 84, 168);
/// Colour of the head-only control: near-black, outside the run palette, so that it never takes
/// the colour of the run it is drawn over (a comparison's second run is orange).
const HEAD_ONLY: RGBColor = crate::draw::INK;

/// The head-only control's windowed mean loss at the trace's steps (empty without one).
pub(crate) fn head_only_series(summary: &gradscope_record::Summary) -> Vec<(f64, f64)> {
    summary
        .learning_signal
        .as_ref()
        .map(|s| {
            s.trace
                .iter()
                .filter_map(|p| p.head_only_mean.map(|m| (p.step as f64, m.get())))
                .collect()
        })
        .unwrap_or_default()
}

/// The band to draw: (step, lower, centre, upper), and the real run's windowed mean.
type Band = (Vec<(f64, f64, f64, f64)>, Vec<(f64, f64)>);

/// The verdict's band from the signal's trace (`None` without one).
fn verdict_band(summary: &gradscope_record::Summary) -> Option<(Band, f64, usize)> {
    let s = summary.learning_signal.as_ref()?;
    // A run stopped after a few steps (a divergence) has no band to speak of: its raw losses are
    // drawn instead, as for a summary without a trace.
    let drawable = s
        .trace
        .iter()
        .filter(|p| p.real_mean.get().is_finite() && p.baseline_mean.get().is_finite())
        .count();
    if drawable < 2 {
        return None;
    }
    let band = s
        .trace
        .iter()
        .map(|p| {
            let (m, sd) = (p.baseline_mean.get(), p.baseline_sd.get());
            (p.step as f64, m - s.threshold * sd, m, m + s.threshold * sd)
        })
        .collect();
    let real = s
        .trace
        .iter()
        .map(|p| (p.step as f64, p.real_mean.get()))
        .collect();
    Some(((band, real), s.threshold, s.window))
}
/// Series with fewer points than this get point markers.
const MARKERS_BELOW: usize = 40;

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunPlot<'_>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let summary = &run.data.summary;
    let real = run.data.real_records();
    let baseline = run.data.baseline_records();
    let window = summary
        .learning_signal
        .as_ref()
        .map_or(DEFAULT_WINDOW, |s| s.window);
    // The verdict's own band where the summary has it; else the older ± sd band.
    let verdict = verdict_band(summary);
    let band: Option<Vec<(f64, f64, f64, f64)>> = match &verdict {
        Some(((b, _), _, _)) => Some(b.clone()),
        None => baseline_band(&baseline, window).map(|b| {
            b.iter()
                .map(|p| (p.step, p.mean - p.sd, p.mean, p.mean + p.sd))
                .collect()
        }),
    };
    let constant = summary
        .constant_loss
        .map(|c| c.get())
        .filter(|c| c.is_finite());
    let real_pts: Vec<(f64, f64)> = real.iter().map(|r| (r.step as f64, r.loss.get())).collect();
    let base_pts: Vec<(f64, f64)> = baseline
        .iter()
        .map(|r| (r.step as f64, r.loss.get()))
        .collect();

    // Log axis when every loss is positive and they span more than three decades.
    let mut shown: Vec<f64> = real_pts.iter().chain(&base_pts).map(|p| p.1).collect();
    shown.retain(|v| v.is_finite());
    let log = !shown.is_empty()
        && shown.iter().all(|v| log_ok(*v))
        && min_max(shown.iter().copied()).is_some_and(|(lo, hi)| hi / lo > 1e3);
    let ty = |v: f64| -> Option<f64> {
        if log {
            log_ok(v).then(|| v.log10())
        } else {
            v.is_finite().then_some(v)
        }
    };
    let mut y_values: Vec<f64> = shown.iter().filter_map(|v| ty(*v)).collect();
    if let Some(band) = &band {
        y_values.extend(band.iter().filter_map(|b| ty(b.3)));
        y_values.extend(band.iter().filter_map(|b| ty(b.1)));
    }
    y_values.extend(constant.and_then(ty));
    let head_only = head_only_series(summary);
    y_values.extend(head_only.iter().filter_map(|p| ty(p.1)));
    let y_range = min_max(y_values.iter().copied()).map(|(lo, hi)| {
        if log {
            log_range(lo, hi)
        } else {
            linear_range(lo, hi)
        }
    });
    let x_range = match min_max(real_pts.iter().chain(&base_pts).map(|p| p.0)) {
        Some((lo, hi)) if hi > lo => lo..hi,
        Some((lo, _)) => (lo - 0.5)..(lo + 0.5),
        None => 0.0..1.0,
    };

    let (_, h) = root.dim_in_pixel();
    let (main, legend_area) = root.split_vertically(h - 44);
    let title = match summary.verdict {
        Some(v) => format!(
            "{}: {} — training loss against the learning-rate-0 band",
            run.name,
            v.name()
        ),
        None => format!(
            "{}: training loss, real run against its learning-rate-0 baseline",
            run.name
        ),
    };
    let mut chart = build_chart(
        &main,
        Some(&title),
        x_range,
        y_range.clone().unwrap_or(0.0..1.0),
        64,
    )?;
    let y_axis = if log { Axis::Log10 } else { Axis::Linear };
    let y_desc = if log {
        "loss on the step's batch (log scale)"
    } else {
        "loss on the step's batch"
    };
    draw_mesh(&mut chart, (Axis::Integer, "step"), (y_axis, y_desc))?;
    if y_range.is_none() {
        no_data(&mut chart, "no finite loss recorded")?;
    }
    let y_floor = chart.y_range().start;

    let mut legend = Vec::new();
    match &verdict {
        Some((_, _, w)) => legend.push(LegendEntry::new(
            format!("real run, mean over {w} steps (thin: each step)"),
            run.color,
            LineKind::Solid,
        )),
        None => legend.push(LegendEntry::new("real run", run.color, LineKind::Solid)),
    }
    match &band {
        Some(band) => {
            // The band: upper edge forward, lower edge back.
            let upper: Vec<(f64, f64)> = band
                .iter()
                .filter_map(|b| ty(b.3).map(|y| (b.0, y)))
                .collect();
            let lower: Vec<(f64, f64)> = band
                .iter()
                .map(|b| (b.0, ty(b.1).unwrap_or(y_floor)))
                .collect();
            if upper.len() == lower.len() {
                let polygon: Vec<(f64, f64)> = upper
                    .iter()
                    .copied()
                    .chain(lower.iter().rev().copied())
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    crate::draw::pin(&chart, &polygon),
                    BASELINE.mix(0.22).filled(),
                )))?;
            }
            let mean = segments(band.iter().map(|b| (b.0, ty(b.2))));
            for seg in &mean {
                draw_line(&mut chart, seg, BASELINE, LineKind::Dashed, 2)?;
            }
            legend.push(LegendEntry::new(
                match &verdict {
                    Some((_, z, w)) => format!(
                        "LR-0 band: baseline mean ± {} sd over {w} steps (the verdict's threshold)",
                        crate::draw::format_sig(*z, 3)
                    ),
                    None => format!("baseline: mean ± sd over {window} recorded steps"),
                },
                BASELINE,
                LineKind::Band,
            ));
        }
        None if !base_pts.is_empty() => {
            for seg in segments(base_pts.iter().map(|(x, y)| (*x, ty(*y)))) {
                draw_line(&mut chart, &seg, BASELINE, LineKind::Dashed, 2)?;
                draw_markers(&mut chart, &seg, BASELINE, 3, true)?;
            }
            legend.push(LegendEntry::new(
                "baseline (learning rate 0)",
                BASELINE,
                LineKind::Dashed,
            ));
        }
        None => legend.push(LegendEntry::new(
            "no baseline recorded",
            MUTED,
            LineKind::Blank,
        )),
    }

    if let Some(c) = constant.and_then(ty) {
        let (x0, x1) = (chart.x_range().start, chart.x_range().end);
        draw_line(
            &mut chart,
            &[(x0, c), (x1, c)],
            CONSTANT,
            LineKind::Dotted,
            2,
        )?;
        legend.push(LegendEntry::new(
            format!(
                "best constant prediction: {}",
                crate::draw::format_sig(constant.unwrap_or(c), 3)
            ),
            CONSTANT,
            LineKind::Dotted,
        ));
    }
    let real_segments = segments(real_pts.iter().map(|(x, y)| (*x, ty(*y))));
    // With the verdict's windowed mean drawn bold, each step's loss is the thin line under it.
    let (raw_color, raw_width) = if verdict.is_some() {
        (crate::draw::lighten(run.color, 0.6), 1)
    } else {
        (run.color, 2)
    };
    for seg in &real_segments {
        draw_line(&mut chart, seg, raw_color, LineKind::Solid, raw_width)?;
        if real_pts.len() < MARKERS_BELOW {
            draw_markers(&mut chart, seg, raw_color, 3, true)?;
        }
    }
    if let Some(((_, real_mean), _, _)) = &verdict {
        for seg in segments(real_mean.iter().map(|(x, y)| (*x, ty(*y)))) {
            draw_line(&mut chart, &seg, run.color, LineKind::Solid, 3)?;
        }
    }
    // Drawn over the real run, dashed, so that where the two coincide (nothing below the head
    // learned) both stay visible.
    if !head_only.is_empty() {
        for seg in segments(head_only.iter().map(|(x, y)| (*x, ty(*y)))) {
            draw_line(&mut chart, &seg, HEAD_ONLY, LineKind::Dashed, 2)?;
        }
        legend.push(LegendEntry::new(
            format!("head-only control (only the output head learns), mean over {window} steps"),
            HEAD_ONLY,
            LineKind::Dashed,
        ));
    }
    let nonfinite: Vec<f64> = real_pts
        .iter()
        .filter(|p| !p.1.is_finite())
        .map(|p| p.0)
        .collect();
    if !nonfinite.is_empty() {
        mark_nonfinite_xs(&mut chart, &nonfinite)?;
    }

    let mut row = 0;
    if let Some(step) = summary
        .learning_signal
        .as_ref()
        .and_then(|s| s.first_step_outside_band)
    {
        let label = format!("left the band at step {step}");
        mark_vertical(&mut chart, step as f64, OUTSIDE, &label, row)?;
        legend.push(LegendEntry::new(
            "left the band for good",
            OUTSIDE,
            LineKind::Dashed,
        ));
        row += 1;
    }
    if let Some(nf) = &summary.first_nonfinite {
        mark_vertical(
            &mut chart,
            nf.step as f64,
            NONFINITE,
            &nonfinite_label(nf),
            row,
        )?;
    }
    if !nonfinite.is_empty() || summary.first_nonfinite.is_some() {
        legend.push(LegendEntry::new(
            "non-finite (NaN/inf)",
            NONFINITE,
            LineKind::Marker,
        ));
    }
    draw_legend(&legend_area.margin(4, 0, 64, 0), &legend, true)?;
    Ok(())
}
