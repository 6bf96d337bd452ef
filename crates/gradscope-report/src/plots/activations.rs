//! `activations_<run>`: per layer, the activation standard deviation (left, log axis) and the
//! saturated and dead fractions (right, 0..1), at initialisation (solid) and at the last record
//! (lighter, dashed).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{RunPlot, nonfinite_label};
use crate::draw::{
    Axis, DrawResult, INK, LegendEntry, LineKind, NONFINITE, bold, build_chart, draw_legend,
    draw_line, draw_markers, draw_mesh, layer_range, lighten, log_range, mark_nonfinite_xs,
    mark_vertical, no_data,
};
use crate::series::{
    floats, layer_log_segments, layer_segments, log10_or_none, min_max, nonfinite_layers,
};

/// Colour of the activation std.
const STD: RGBColor = RGBColor(31, 119, 180);
/// Colour of the saturated fraction.
const SATURATED: RGBColor = RGBColor(255, 127, 14);
/// Colour of the dead fraction.
const DEAD: RGBColor = RGBColor(148, 103, 189);

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunPlot<'_>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let real = run.data.real_records();
    let first = real.first().copied();
    let last = if real.len() > 1 {
        real.last().copied()
    } else {
        None
    };
    let records: Vec<_> = first.iter().chain(last.iter()).copied().collect();
    let mut depth = run.data.summary.depth.max(1);
    for r in &records {
        depth = depth
            .max(r.layers.act_std.len())
            .max(r.layers.act_saturated.len())
            .max(r.layers.act_dead.len());
    }
    let nf = run.data.summary.first_nonfinite.as_ref();
    if let Some(nf) = nf {
        depth = depth.max(nf.layer);
    }

    let (w, _) = root.dim_in_pixel();
    let title = format!("{}: activations by layer (real run)", run.name);
    let body = root.titled(&title, bold(16.0, INK))?;
    let (_, body_h) = body.dim_in_pixel();
    let (panels, legend_area) = body.split_vertically(body_h as i32 - 44);
    let (left, right) = panels.split_horizontally(w / 2);

    // Left: std, log axis.
    let std_logs = records
        .iter()
        .flat_map(|r| floats(&r.layers.act_std))
        .filter_map(log10_or_none);
    let range = min_max(std_logs);
    let mut chart = build_chart(
        &left,
        Some("activation std"),
        layer_range(depth),
        range.map_or(-1.0..1.0, |(lo, hi)| log_range(lo, hi)),
        64,
    )?;
    draw_mesh(
        &mut chart,
        (Axis::Integer, "layer l"),
        (Axis::Log10, "std of hₗ (log scale)"),
    )?;
    if range.is_none() {
        no_data(&mut chart, "no finite, positive std recorded")?;
    }
    let mut nonfinite = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let (color, kind) = style(STD, i);
        let values = floats(&r.layers.act_std);
        for seg in layer_log_segments(&values) {
            draw_line(&mut chart, &seg, color, kind, 2)?;
            draw_markers(&mut chart, &seg, color, 3, true)?;
        }
        nonfinite.extend(nonfinite_layers(&values));
    }
    if !nonfinite.is_empty() {
        mark_nonfinite_xs(&mut chart, &nonfinite)?;
    }
    if let Some(nf) = nf {
        let label = format!("first non-finite (step {})", nf.step);
        mark_vertical(&mut chart, nf.layer as f64, NONFINITE, &label, 0)?;
    }

    // Right: fractions, 0..1.
    let mut chart = build_chart(
        &right,
        Some("saturated and dead fraction"),
        layer_range(depth),
        -0.03..1.03,
        56,
    )?;
    draw_mesh(
        &mut chart,
        (Axis::Integer, "layer l"),
        (Axis::Linear, "fraction of units"),
    )?;
    let mut any = false;
    let mut nonfinite_fr = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (base, values) in [
            (SATURATED, floats(&r.layers.act_saturated)),
            (DEAD, floats(&r.layers.act_dead)),
        ] {
            let (color, kind) = style(base, i);
            for seg in layer_segments(&values) {
                any = true;
                draw_line(&mut chart, &seg, color, kind, 2)?;
                draw_markers(&mut chart, &seg, color, 3, true)?;
            }
            nonfinite_fr.extend(nonfinite_layers(&values));
        }
    }
    if !any {
        no_data(&mut chart, "no fractions recorded")?;
    }
    if !nonfinite_fr.is_empty() {
        mark_nonfinite_xs(&mut chart, &nonfinite_fr)?;
    }
    if let Some(nf) = nf {
        let label = format!("first non-finite (step {})", nf.step);
        mark_vertical(&mut chart, nf.layer as f64, NONFINITE, &label, 0)?;
    }

    let mut legend = vec![
        LegendEntry::new("activation std", STD, LineKind::Solid),
        LegendEntry::new("saturated fraction", SATURATED, LineKind::Solid),
        LegendEntry::new("dead fraction", DEAD, LineKind::Solid),
    ];
    if let Some(r) = first {
        legend.push(LegendEntry::new(
            format!("solid: step {} (init)", r.step),
            INK,
            LineKind::Solid,
        ));
    }
    if let Some(r) = last {
        legend.push(LegendEntry::new(
            format!("dashed, lighter: step {} (last)", r.step),
            lighten(INK, 0.45),
            LineKind::Dashed,
        ));
    }
    if let Some(nf) = nf {
        legend.push(LegendEntry::new(
            nonfinite_label(nf),
            NONFINITE,
            LineKind::Marker,
        ));
    } else if !nonfinite.is_empty() || !nonfinite_fr.is_empty() {
        legend.push(LegendEntry::new("non-finite", NONFINITE, LineKind::Marker));
    }
    draw_legend(&legend_area.margin(4, 0, 64, 0), &legend, true)?;
    Ok(())
}

/// Colour and line of record `i` (0 = initialisation, 1 = last).
fn style(base: RGBColor, i: usize) -> (RGBColor, LineKind) {
    if i == 0 {
        (base, LineKind::Solid)
    } else {
        (lighten(base, 0.45), LineKind::Dashed)
    }
}
