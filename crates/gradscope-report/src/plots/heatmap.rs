//! `heatmap_<run>`: log10 ‖∂L/∂h_l‖ of the real run as a layer × step heatmap, with a colour
//! bar; `heatmap_time_<run>`, for a recurrent run, log10 ‖∂L/∂h_t‖ of its first layer as a
//! time step × training step heatmap (how the signal through time changes as the net trains).
//! Non-finite cells are red, missing or zero ones grey; long runs, very deep networks and long
//! sequences are binned (mean of the logs) to keep the SVG small.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{RunPlot, nonfinite_label};
use crate::draw::{
    Axis, DrawResult, INK, LegendEntry, LineKind, NONFINITE, bold, build_chart, draw_legend,
    draw_mesh, font, layer_range, tick_label,
};
use crate::series::{floats, log10_or_none, min_max};

/// Most columns drawn; more recorded steps are binned.
const MAX_COLUMNS: usize = 160;
/// Most rows drawn; more layers are binned.
const MAX_ROWS: usize = 96;
/// Colour of missing or zero cells.
const MISSING: RGBColor = RGBColor(206, 212, 218);

/// One cell's content.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    /// Mean log10 ‖∂L/∂h‖.
    Value(f64),
    /// A NaN or ±inf in the cell.
    NonFinite,
    /// Not measured, or zero.
    Missing,
}

/// A rectangle of the heatmap.
struct Rect {
    x: (f64, f64),
    y: (f64, f64),
    cell: Cell,
}

/// Groups `0..n` into at most `max` consecutive ranges of equal size (the last may be shorter).
fn bins(n: usize, max: usize) -> Vec<std::ops::Range<usize>> {
    let size = n.div_ceil(max.max(1)).max(1);
    (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect()
}

/// Left and right edges of each step's column: half-way to its neighbours.
fn edges(steps: &[f64]) -> Vec<(f64, f64)> {
    let n = steps.len();
    (0..n)
        .map(|i| {
            let left_gap = if i > 0 {
                steps[i] - steps[i - 1]
            } else if n > 1 {
                steps[1] - steps[0]
            } else {
                1.0
            };
            let right_gap = if i + 1 < n {
                steps[i + 1] - steps[i]
            } else if n > 1 {
                steps[n - 1] - steps[n - 2]
            } else {
                1.0
            };
            (steps[i] - left_gap / 2.0, steps[i] + right_gap / 2.0)
        })
        .collect()
}

/// What a heatmap shows along its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// The layers, ‖∂L/∂h_l‖.
    Layers,
    /// The first layer's time steps, ‖∂L/∂h_t‖.
    TimeSteps,
}

/// The real run's grid: one column per record, one row per layer (or time step).
pub(crate) fn grid(run: &RunPlot<'_>, rows: Rows) -> (Vec<Vec<Option<f64>>>, Vec<f64>) {
    let real = run.data.real_records();
    let grid = real
        .iter()
        .map(|r| match rows {
            Rows::Layers => floats(&r.layers.act_grad_norm),
            Rows::TimeSteps => r
                .layers
                .act_grad_norm_time
                .first()
                .map(|t| floats(t))
                .unwrap_or_default(),
        })
        .collect();
    (grid, real.iter().map(|r| r.step as f64).collect())
}

/// The cells of the heatmap, and its number of rows.
fn cells(run: &RunPlot<'_>, rows: Rows) -> (Vec<Rect>, usize) {
    let (grid, steps) = grid(run, rows);
    let depth = grid.iter().map(Vec::len).max().unwrap_or(0);
    let edges = edges(&steps);
    let mut out = Vec::new();
    for cols in bins(grid.len(), MAX_COLUMNS) {
        let x = (edges[cols.start].0, edges[cols.end - 1].1);
        for rows in bins(depth, MAX_ROWS) {
            let mut nonfinite = false;
            let mut logs = Vec::new();
            for col in &grid[cols.clone()] {
                for v in col.get(rows.clone()).unwrap_or(&[]) {
                    match v {
                        Some(v) if !v.is_finite() => nonfinite = true,
                        _ => logs.extend(log10_or_none(*v)),
                    }
                }
            }
            let cell = if nonfinite {
                Cell::NonFinite
            } else if logs.is_empty() {
                Cell::Missing
            } else {
                Cell::Value(logs.iter().sum::<f64>() / logs.len() as f64)
            };
            let y = (rows.start as f64 + 0.5, rows.end as f64 + 0.5);
            out.push(Rect { x, y, cell });
        }
    }
    (out, depth)
}

/// Viridis, sampled at 9 points and interpolated linearly; `t` in 0..=1.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunPlot<'_>,
    rows: Rows,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (rects, depth) = cells(run, rows);
    let range = min_max(rects.iter().filter_map(|r| match r.cell {
        Cell::Value(v) => Some(v),
        _ => None,
    }));
    let (lo, hi) = match range {
        Some((lo, hi)) if hi - lo > 1e-9 => (lo, hi),
        Some((lo, _)) => (lo - 0.5, lo + 0.5),
        None => (-1.0, 1.0),
    };
    let color_of = |cell: Cell| match cell {
        Cell::Value(v) => viridis((v - lo) / (hi - lo)),
        Cell::NonFinite => NONFINITE,
        Cell::Missing => MISSING,
    };

    let (w, h) = root.dim_in_pixel();
    let nf = run.data.summary.first_nonfinite.as_ref();
    let (title, y_label) = match rows {
        Rows::Layers => (
            format!("{}: log₁₀ ‖∂L/∂hₗ‖ by layer and step (real run)", run.name),
            "layer l (1 = input side)",
        ),
        Rows::TimeSteps => (
            format!(
                "{}: log₁₀ ‖∂L/∂hₜ‖ by time step and training step (layer 1, real run)",
                run.name
            ),
            "time step t (1 = first input)",
        ),
    };
    let (upper, note) = root.split_vertically(if nf.is_some() { h - 30 } else { h });
    let (_, h) = upper.dim_in_pixel();
    let (main, bar) = upper.split_horizontally(w - 150);
    let x_range = match (rects.first(), rects.last()) {
        (Some(a), Some(b)) => a.x.0..b.x.1,
        _ => -0.5..0.5,
    };
    let mut chart = build_chart(&main, Some(&title), x_range, layer_range(depth), 56)?;
    draw_mesh(
        &mut chart,
        (Axis::Integer, "training step"),
        (Axis::Integer, y_label),
    )?;
    chart.draw_series(
        rects
            .iter()
            .map(|r| Rectangle::new([(r.x.0, r.y.0), (r.x.1, r.y.1)], color_of(r.cell).filled())),
    )?;
    if rects.is_empty() {
        crate::draw::no_data(&mut chart, "no ‖∂L/∂h‖ recorded")?;
    }
    if let Some(nf) = nf.filter(|_| rows == Rows::Layers) {
        // Ring the cell where the first non-finite value appeared (the head sits above the top
        // layer).
        let xr = chart.x_range();
        let yr = chart.y_range();
        let x = (nf.step as f64).clamp(xr.start, xr.end);
        let y = (nf.layer as f64).clamp(yr.start, yr.end);
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, y))
                + Circle::new((0, 0), 7, WHITE.stroke_width(4))
                + Circle::new((0, 0), 7, NONFINITE.stroke_width(2)),
        ))?;
    }
    if let Some(nf) = nf {
        // Name it below the plot.
        note.draw(&Circle::new((82, 12), 6, NONFINITE.stroke_width(2)))?;
        note.draw(&Text::new(
            nonfinite_label(nf),
            (96, 12),
            bold(13.0, NONFINITE).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }

    // The colour bar, with the key of the special colours below it.
    let bar_top = 56;
    let bar_bottom = (h as i32 - 150).max(bar_top + 60);
    let bar_area = bar.margin(
        bar_top as u32,
        (h as i32 - bar_bottom).max(0) as u32,
        62,
        40,
    );
    let mut cb = ChartBuilder::on(&bar_area)
        .y_label_area_size(0)
        .x_label_area_size(0)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    let n = 96;
    cb.draw_series((0..n).map(|i| {
        let a = lo + (hi - lo) * i as f64 / n as f64;
        let b = lo + (hi - lo) * (i + 1) as f64 / n as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            viridis((i as f64 + 0.5) / n as f64).filled(),
        )
    }))?;
    // Tick labels on the left of the bar.
    let ticks = colour_bar_ticks(lo, hi);
    for t in ticks {
        let (px, py) = cb.backend_coord(&(0.0, t));
        let (bx, by) = bar.get_base_pixel();
        let (rx, ry) = (px - bx, py - by);
        bar.draw(&PathElement::new(
            vec![(rx - 5, ry), (rx, ry)],
            INK.stroke_width(1),
        ))?;
        bar.draw(&Text::new(
            tick_label(Axis::Log10, t),
            (rx - 8, ry),
            font(12.0, INK).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    bar.draw(&Text::new(
        "‖∂L/∂h‖",
        (62 + 24, bar_top - 14),
        bold(13.0, INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
    ))?;
    let mut key = vec![LegendEntry::new("NaN / inf", NONFINITE, LineKind::Swatch)];
    if rects.iter().any(|r| r.cell == Cell::Missing) {
        key.push(LegendEntry::new("0 / missing", MISSING, LineKind::Swatch));
    }
    if let Some(nf) = nf.filter(|_| rows == Rows::Layers) {
        key.push(LegendEntry::new(
            format!("first at step {}", nf.step),
            NONFINITE,
            LineKind::Ring,
        ));
    }
    draw_legend(&bar.margin((bar_bottom + 16) as u32, 0, 0, 0), &key, false)?;
    Ok(())
}

/// Tick values (log10) for the colour bar: whole decades when the range spans at least two,
/// else five evenly spaced values.
fn colour_bar_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if span >= 2.0 {
        let step = (span / 6.0).ceil().max(1.0);
        let first = (lo / step).ceil() * step;
        let mut out = Vec::new();
        let mut t = first;
        while t <= hi + 1e-9 {
            out.push(t);
            t += step;
        }
        out
    } else {
        (0..5).map(|i| lo + span * i as f64 / 4.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_everything() {
        assert_eq!(bins(5, 160), vec![0..1, 1..2, 2..3, 3..4, 4..5]);
        let b = bins(1000, 160);
        assert!(b.len() <= 160);
        assert_eq!(b.first().unwrap().start, 0);
        assert_eq!(b.last().unwrap().end, 1000);
        assert!(bins(0, 160).is_empty());
    }

    #[test]
    fn edges_are_midpoints() {
        assert_eq!(
            edges(&[0.0, 2.0, 4.0]),
            vec![(-1.0, 1.0), (1.0, 3.0), (3.0, 5.0)]
        );
        assert_eq!(edges(&[7.0]), vec![(6.5, 7.5)]);
    }

    #[test]
    fn colour_map_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
    }

    #[test]
    fn bar_ticks() {
        assert_eq!(colour_bar_ticks(-3.2, 0.4), vec![-3.0, -2.0, -1.0, 0.0]);
        assert_eq!(colour_bar_ticks(0.0, 1.0).len(), 5);
    }
}
