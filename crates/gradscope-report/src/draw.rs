//! Drawing helpers shared by the plots: colours, fonts, axes with log-scale labels, legends,
//! non-finite markers and the "no data" message.
//!
//! Every chart is a plain linear `f64 × f64` chart; a log axis plots log10 of the values and
//! labels its ticks with the values themselves. Values that cannot be shown on it (zero,
//! negative, NaN, ±inf, missing) are skipped by the callers, leaving gaps.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::font::FAMILY;

/// What drawing functions return.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// The chart type of every plot.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Run colours (Tableau 10 without its red, which marks non-finite values).
pub(crate) const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of everything that marks a non-finite value.
pub(crate) const NONFINITE: RGBColor = RGBColor(214, 39, 40);
/// Colour of text.
pub(crate) const INK: RGBColor = RGBColor(33, 37, 41);
/// Colour of secondary text and reference lines.
pub(crate) const MUTED: RGBColor = RGBColor(108, 117, 125);
/// Colour of the light grid.
const GRID_LIGHT: RGBColor = RGBColor(243, 244, 246);
/// Colour of the main grid.
const GRID_BOLD: RGBColor = RGBColor(222, 226, 230);
/// Colour of the axes.
const AXIS: RGBColor = RGBColor(134, 142, 150);

/// The colour of the `i`-th run.
pub(crate) fn run_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `c` mixed with white: `t = 0` keeps it, `t = 1` is white.
pub(crate) fn lighten(c: RGBColor, t: f64) -> RGBColor {
    let mix = |v: u8| {
        (v as f64 + (255.0 - v as f64) * t)
            .round()
            .clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The embedded font at `size` in `color`.
pub(crate) fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&color)
}

/// The embedded font, bold.
pub(crate) fn bold(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FAMILY, size)
        .into_font()
        .style(FontStyle::Bold)
        .color(&color)
}

/// How an axis maps and labels its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    /// Plain values.
    Linear,
    /// The chart holds log10 of the values; ticks are labelled with the values.
    Log10,
    /// Whole numbers (layers); ticks between them are left unlabelled.
    Integer,
}

/// A number with `sig` significant digits, as short as possible: `0.012`, `3.5`, `1.2e-29`,
/// `NaN`, `inf`.
pub(crate) fn format_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return gradscope_record::format_real(v);
    }
    if v == 0.0 {
        return "0".into();
    }
    let sig = sig.max(1);
    let e = v.abs().log10().floor() as i32;
    if (-3..5).contains(&e) {
        let decimals = (sig as i32 - 1 - e).max(0) as usize;
        // Keep only `sig` significant digits left of the point too (3162 -> 3200).
        let v = if e + 1 > sig as i32 {
            let scale = 10f64.powi(e + 1 - sig as i32);
            (v / scale).round() * scale
        } else {
            v
        };
        let s = format!("{v:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s == "-0" { "0".into() } else { s }
    } else {
        let s = format!("{:.*e}", sig - 1, v);
        match s.split_once('e') {
            Some((m, exp)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{exp}")
            }
            None => s,
        }
    }
}

/// The label of a tick at chart value `v`.
pub(crate) fn tick_label(axis: Axis, v: f64) -> String {
    match axis {
        Axis::Linear => format_sig(v, 4),
        Axis::Integer => {
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        }
        Axis::Log10 => {
            let r = v.round();
            if (v - r).abs() < 1e-6 {
                let e = r as i32;
                if (-2..=3).contains(&e) {
                    format_sig(10f64.powi(e), 1)
                } else {
                    format!("1e{e}")
                }
            } else {
                format_sig(10f64.powf(v), 2)
            }
        }
    }
}

/// The chart range for log10 values spanning `lo..hi`: whole decades when they span more than
/// one, else padded by 10 %.
pub(crate) fn log_range(lo: f64, hi: f64) -> Range<f64> {
    let span = hi - lo;
    if span >= 1.5 {
        (lo - 0.05).floor()..(hi + 0.05).ceil()
    } else {
        let pad = (0.1 * span).max(0.15);
        (lo - pad)..(hi + pad)
    }
}

/// Largest magnitude of a plain axis: beyond it the range's span would overflow.
const LINEAR_LIMIT: f64 = 1e300;

/// The chart range for plain values spanning `lo..hi`, padded by 5 % (and kept within
/// ±1e300, so that its span stays finite).
pub(crate) fn linear_range(lo: f64, hi: f64) -> Range<f64> {
    let lo = lo.clamp(-LINEAR_LIMIT, LINEAR_LIMIT);
    let hi = hi.clamp(-LINEAR_LIMIT, LINEAR_LIMIT);
    let span = hi - lo;
    let pad = if span > 0.0 {
        0.05 * span
    } else {
        (0.1 * lo.abs()).max(0.5)
    };
    (lo - pad)..(hi + pad)
}

/// The chart range for layers `1..=n`.
pub(crate) fn layer_range(n: usize) -> Range<f64> {
    0.5..(n.max(1) as f64 + 0.5)
}

/// The plot area and, on its right, the legend's column (a third of the width, at most 300
/// pixels): the layout of every plot with one chart and a legend beside it.
pub(crate) fn split_for_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let (w, _) = root.dim_in_pixel();
    root.split_horizontally(w - (w / 3).min(300))
}

/// A chart on `area` with an optional caption and the usual margins.
pub(crate) fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<&str>,
    x: Range<f64>,
    y: Range<f64>,
    y_label_width: u32,
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(8)
        .margin_left(10)
        .margin_right(18)
        .margin_bottom(6)
        .x_label_area_size(46)
        .y_label_area_size(y_label_width);
    if let Some(c) = caption {
        builder.caption(c, bold(16.0, INK));
    }
    builder.build_cartesian_2d(x, y)
}

/// How many tick labels to ask plotters for on an axis spanning `span` chart units: on integer
/// axes and log axes over two decades or more, few enough that ticks fall on whole numbers
/// (layers, steps, decades).
fn label_count(axis: Axis, span: f64, default: usize) -> usize {
    match axis {
        Axis::Integer => (span.round() as usize).clamp(2, 12),
        Axis::Log10 if span >= 2.0 => (span.round() as usize + 1).clamp(2, default),
        _ => default,
    }
}

/// Draws grid, axes, tick labels and axis titles.
pub(crate) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: (Axis, &str),
    y: (Axis, &str),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x_axis, x_desc) = x;
    let (y_axis, y_desc) = y;
    let xr = chart.x_range();
    let yr = chart.y_range();
    // Ticks computed as multiples of a step can miss 0 by 1e-17: snap those to 0.
    let x_eps = 1e-9 * (xr.end - xr.start).abs();
    let y_eps = 1e-9 * (yr.end - yr.start).abs();
    let snap = |v: f64, eps: f64| if v.abs() < eps { 0.0 } else { v };
    let xf = move |v: &f64| tick_label(x_axis, snap(*v, x_eps));
    let yf = move |v: &f64| tick_label(y_axis, snap(*v, y_eps));
    let x_labels = label_count(x_axis, xr.end - xr.start, 10);
    let y_labels = label_count(y_axis, yr.end - yr.start, 9);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(x_labels)
        .y_labels(y_labels)
        .max_light_lines(4)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(font(13.0, INK))
        .axis_desc_style(font(14.0, INK))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(AXIS)
        .draw()?;
    Ok(())
}

/// `points` pinned into the chart's ranges. Values far outside would overflow plotters' pixel
/// arithmetic (only a plain axis clipped at ±1e300 can leave values outside).
pub(crate) fn pin<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    points: &[(f64, f64)],
) -> Vec<(f64, f64)> {
    let xr = chart.x_range();
    let yr = chart.y_range();
    points
        .iter()
        .map(|(x, y)| (x.clamp(xr.start, xr.end), y.clamp(yr.start, yr.end)))
        .collect()
}

/// Draws one segment of a series: solid, dashed or dotted, with optional point markers.
pub(crate) fn draw_line<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    kind: LineKind,
    width: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style = color.stroke_width(width);
    let points = pin(chart, points);
    match kind {
        LineKind::Solid => {
            chart.draw_series(LineSeries::new(points.iter().copied(), style))?;
        }
        LineKind::Dashed => {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, style))?;
        }
        LineKind::Dotted => {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 3, 4, style))?;
        }
        LineKind::Band | LineKind::Marker | LineKind::Blank | LineKind::Swatch | LineKind::Ring => {
        }
    }
    Ok(())
}

/// Draws a marker at every point.
pub(crate) fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    radius: u32,
    filled: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style = if filled {
        color.filled()
    } else {
        color.stroke_width(2)
    };
    chart.draw_series(
        pin(chart, points)
            .into_iter()
            .map(|p| Circle::new(p, radius, style)),
    )?;
    Ok(())
}

/// Marks non-finite values of a series with red crosses along the top of the chart, at their x.
pub(crate) fn mark_nonfinite_xs<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    xs: &[f64],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let top = chart.y_range().end;
    chart.draw_series(
        xs.iter()
            .map(|x| Cross::new((*x, top), 6, NONFINITE.stroke_width(3))),
    )?;
    Ok(())
}

/// A red dashed vertical line at `x` across the chart with `label` near its top (row `row` of
/// labels, so that several do not overlap).
pub(crate) fn mark_vertical<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: f64,
    color: RGBColor,
    label: &str,
    row: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let xr = chart.x_range();
    let yr = chart.y_range();
    let x = x.clamp(xr.start, xr.end);
    chart.draw_series(DashedLineSeries::new(
        [(x, yr.start), (x, yr.end)],
        6,
        4,
        color.stroke_width(2),
    ))?;
    let right_half = x > xr.start + 0.6 * (xr.end - xr.start);
    let (dx, h) = if right_half {
        (-6, HPos::Right)
    } else {
        (6, HPos::Left)
    };
    let dy = 6 + 17 * row as i32;
    let style = bold(13.0, color).pos(Pos::new(h, VPos::Top));
    chart.draw_series(std::iter::once(
        EmptyElement::at((x, yr.end))
            + Circle::new((0, dy + 7), 4, color.filled())
            + Text::new(
                label.to_string(),
                (dx + if right_half { -4 } else { 4 }, dy),
                style,
            ),
    ))?;
    Ok(())
}

/// Writes `message` in the middle of the chart (for plots without data).
pub(crate) fn no_data<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, message: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let xr = chart.x_range();
    let yr = chart.y_range();
    let centre = ((xr.start + xr.end) / 2.0, (yr.start + yr.end) / 2.0);
    let style = font(15.0, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(std::iter::once(Text::new(
        message.to_string(),
        centre,
        style,
    )))?;
    Ok(())
}

/// How a legend entry (and its series) is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// A solid line.
    Solid,
    /// A dashed line.
    Dashed,
    /// A dotted line.
    Dotted,
    /// A filled band.
    Band,
    /// A red marker (non-finite values).
    Marker,
    /// No sample: a note.
    Blank,
    /// A solid colour swatch (heatmap keys).
    Swatch,
    /// A ring (the heatmap's first non-finite cell).
    Ring,
}

/// One entry of a legend.
#[derive(Debug, Clone)]
pub(crate) struct LegendEntry {
    /// The text.
    pub label: String,
    /// The colour.
    pub color: RGBColor,
    /// How its sample is drawn.
    pub kind: LineKind,
}

impl LegendEntry {
    /// A new entry.
    pub(crate) fn new(label: impl Into<String>, color: RGBColor, kind: LineKind) -> Self {
        LegendEntry {
            label: label.into(),
            color,
            kind,
        }
    }
}

/// `text` cut to fit `max_width` pixels (with "…").
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'_>,
    max_width: u32,
) -> String {
    let width = |t: &str| area.estimate_text_size(t, style).map(|s| s.0).unwrap_or(0);
    if width(text) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let t: String = chars[..n].iter().collect::<String>() + "…";
        if width(&t) <= max_width {
            return t;
        }
    }
    "…".into()
}

/// Draws a legend on `area`: one entry a line (`horizontal = false`), or entries side by side,
/// wrapping (`horizontal = true`).
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    horizontal: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, _h) = area.dim_in_pixel();
    let style = font(13.0, INK);
    let line_h = 20;
    let sample_w = 30;
    let (mut x, mut y) = (10i32, 14i32);
    for e in entries {
        let max_text = if horizontal {
            (w as i32 / 2).max(80) as u32
        } else {
            (w as i32 - 10 - sample_w - 18).max(40) as u32
        };
        let label = fit_text(area, &e.label, &style, max_text);
        let text_w = area.estimate_text_size(&label, &style)?.0 as i32;
        if horizontal && x > 10 && x + sample_w + 8 + text_w > w as i32 - 6 {
            x = 10;
            y += line_h;
        }
        draw_sample(area, e, (x, y), sample_w)?;
        area.draw(&Text::new(
            label,
            (x + sample_w + 8, y),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        if horizontal {
            x += sample_w + 8 + text_w + 22;
        } else {
            y += line_h;
        }
    }
    Ok(())
}

/// The sample of one legend entry, left end at `at`.
fn draw_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    e: &LegendEntry,
    at: (i32, i32),
    width: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x, y) = at;
    let style = e.color.stroke_width(3);
    match e.kind {
        LineKind::Solid => area.draw(&PathElement::new(vec![(x, y), (x + width, y)], style))?,
        LineKind::Dashed => area.draw(&DashedPathElement::new(
            vec![(x, y), (x + width, y)],
            8,
            5,
            style,
        ))?,
        LineKind::Dotted => area.draw(&DashedPathElement::new(
            vec![(x, y), (x + width, y)],
            3,
            4,
            style,
        ))?,
        LineKind::Band => area.draw(&Rectangle::new(
            [(x, y - 6), (x + width, y + 6)],
            e.color.mix(0.35).filled(),
        ))?,
        LineKind::Marker => {
            area.draw(&Cross::new((x + width / 2, y), 6, e.color.stroke_width(3)))?
        }
        LineKind::Swatch => area.draw(&Rectangle::new(
            [(x + 4, y - 7), (x + width - 4, y + 7)],
            e.color.filled(),
        ))?,
        LineKind::Ring => {
            area.draw(&Circle::new((x + width / 2, y), 6, e.color.stroke_width(2)))?
        }
        LineKind::Blank => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(format_sig(0.012345, 3), "0.0123");
        assert_eq!(format_sig(3.5, 3), "3.5");
        assert_eq!(format_sig(1.234e-29, 3), "1.23e-29");
        assert_eq!(format_sig(1e5, 3), "1e5");
        assert_eq!(format_sig(12345.0, 3), "12300");
        assert_eq!(format_sig(3162.3, 2), "3200");
        assert_eq!(format_sig(1234.5, 5), "1234.5");
        assert_eq!(format_sig(-2.0, 3), "-2");
        assert_eq!(format_sig(f64::NAN, 3), "NaN");
        assert_eq!(format_sig(f64::NEG_INFINITY, 3), "-inf");
        assert_eq!(format_sig(0.0, 3), "0");
    }

    #[test]
    fn log_ticks_show_values() {
        assert_eq!(tick_label(Axis::Log10, -3.0), "1e-3");
        assert_eq!(tick_label(Axis::Log10, -2.0), "0.01");
        assert_eq!(tick_label(Axis::Log10, 0.0), "1");
        assert_eq!(tick_label(Axis::Log10, 2.0), "100");
        assert_eq!(tick_label(Axis::Log10, 12.0), "1e12");
        assert_eq!(tick_label(Axis::Log10, 0.5), "3.2");
        assert_eq!(tick_label(Axis::Integer, 3.0), "3");
        assert_eq!(tick_label(Axis::Integer, 2.5), "");
    }

    #[test]
    fn ranges_are_padded() {
        assert_eq!(log_range(-29.3, 0.2), -30.0..1.0);
        let r = log_range(0.0, 0.0);
        assert!(r.start < 0.0 && r.end > 0.0);
        let r = linear_range(2.0, 2.0);
        assert!(r.start < 2.0 && r.end > 2.0);
        let r = linear_range(-f64::MAX, f64::MAX);
        assert!((r.end - r.start).is_finite());
        assert_eq!(layer_range(1), 0.5..1.5);
    }
}
