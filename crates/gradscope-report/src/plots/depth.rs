//! `depth`: what depth does to each architecture of a comparison (a sweep). Left, the final test
//! accuracy against depth beside the constant prediction's (for a regression, the test MSE on a
//! log scale beside the constant prediction's); right, the first-to-last gradient ratio
//! ‖∂L/∂h₁‖ / ‖∂L/∂h_L‖ at initialisation, log scale (dashed and lighter: at the last record,
//! after training). One line per architecture (the runs'
//! family), coloured as in the other plots; repeats of an architecture at one depth (runs over
//! several seeds) are pooled into their mean with a bar of ± one sample standard deviation.
//!
//! Recurrent nets compared over the length T of their sequences (a sweep over `data.length`)
//! get the same figure against T ([`Scale::TimeSteps`]): there the ratio is the one through
//! time, ‖∂L/∂h_{t=1}‖ / ‖∂L/∂h_{t=T}‖.
//!
//! The points are computed by [`depth_series`], a pure function of the runs' summaries, so that
//! tests can check the figure's numbers against them.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::RunPlot;
use crate::draw::{
    Axis, Chart, DrawResult, INK, LegendEntry, LineKind, MUTED, bold, build_chart, draw_legend,
    draw_line, draw_markers, font, lighten, log_range, no_data, pin, tick_label,
};
use crate::load::RunData;

/// What the figure's x axis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The depth (`summary.depth`: the model's hidden layers).
    Depth,
    /// The sequence length T of recurrent runs (`summary.time_steps`).
    TimeSteps,
}

impl Scale {
    /// The run's position on this scale.
    pub fn of(self, run: &RunData) -> usize {
        match self {
            Scale::Depth => run.summary.depth,
            Scale::TimeSteps => run.summary.time_steps.unwrap_or(0),
        }
    }

    /// What the runs of a comparison vary along within an architecture: depth where some
    /// architecture was run at two depths or more, else the sequence length where some was run
    /// at two lengths; `None` (no figure) otherwise.
    pub fn of_runs<'a>(runs: impl IntoIterator<Item = &'a RunData> + Clone) -> Option<Scale> {
        [Scale::Depth, Scale::TimeSteps].into_iter().find(|&scale| {
            let mut seen: Vec<(String, usize)> = Vec::new();
            runs.clone().into_iter().any(|r| {
                let (f, x) = (family_of(r), scale.of(r));
                match seen.iter().find(|(g, _)| *g == f) {
                    Some((_, y)) => *y != x,
                    None => {
                        seen.push((f, x));
                        false
                    }
                }
            })
        })
    }

    fn axis(self) -> &'static str {
        match self {
            Scale::Depth => "depth (hidden layers)",
            Scale::TimeSteps => "sequence length T (time steps)",
        }
    }

    /// The name of the report's section (and its link) for the figure.
    pub(crate) fn section(self) -> &'static str {
        match self {
            Scale::Depth => "depth",
            Scale::TimeSteps => "sequence length",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Scale::Depth => "depth",
            Scale::TimeSteps => "length",
        }
    }
}

/// The runs of one architecture at one depth (or length), pooled: the mean of a quantity over
/// them, its sample standard deviation (`None` for a single run) and how many runs had a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthPoint {
    /// The depth (`summary.depth`: the model's hidden layers), or the sequence length T in a
    /// figure over T ([`Scale::TimeSteps`]).
    pub depth: usize,
    /// The mean over the runs.
    pub mean: f64,
    /// The sample standard deviation over the runs (n − 1 in the denominator); `None` below two.
    pub sd: Option<f64>,
    /// The runs pooled.
    pub n: usize,
}

/// One architecture's line in the depth figure.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthSeries {
    /// The architecture: the runs' family (a run without one is its own series, by name).
    pub family: String,
    /// Final test accuracy in percent, by depth (runs with a finite accuracy only).
    pub accuracy: Vec<DepthPoint>,
    /// log₁₀ of the final test MSE of regression runs, by depth (the runs' comparison with the
    /// constant prediction, metric `mse`; finite, positive values only).
    pub log10_mse: Vec<DepthPoint>,
    /// log₁₀ of the first-to-last ratio ‖∂L/∂h₁‖ / ‖∂L/∂h_L‖ at initialisation, by depth: its
    /// mean is the log of the runs' geometric mean, its sd is in decades (runs with a finite,
    /// positive ratio only).
    pub log10_ratio: Vec<DepthPoint>,
    /// The same at the last record (after training), runs with a finite, positive ratio only.
    pub log10_final_ratio: Vec<DepthPoint>,
    /// Depths with runs whose ratio is 0 (the first layer's signal underflowed), and how many.
    pub ratio_underflow: Vec<(usize, usize)>,
    /// Depths, and of the runs there that were compared with the constant prediction, how many
    /// beat it (by more than three standard errors) and how many were compared.
    pub beats_constant: Vec<(usize, usize, usize)>,
}

/// Mean and sample standard deviation (`None` below two values); `None` when `xs` is empty.
pub(crate) fn mean_sd(xs: &[f64]) -> Option<(f64, Option<f64>)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.len() > 1)
        .then(|| (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((mean, sd))
}

/// The family a run is drawn under.
pub(crate) fn family_of(run: &RunData) -> String {
    run.family.clone().unwrap_or_else(|| run.display_name())
}

/// A point of the runs' values at `depth` (`None` without a value).
fn point(depth: usize, values: &[f64]) -> Option<DepthPoint> {
    mean_sd(values).map(|(mean, sd)| DepthPoint {
        depth,
        mean,
        sd,
        n: values.len(),
    })
}

/// [`depth_series`] of any runs.
pub(crate) fn series_of<'a>(
    runs: impl IntoIterator<Item = &'a RunData> + Clone,
) -> Vec<DepthSeries> {
    let scale = Scale::of_runs(runs.clone()).unwrap_or(Scale::Depth);
    let mut families: Vec<String> = Vec::new();
    for run in runs.clone() {
        let f = family_of(run);
        if !families.contains(&f) {
            families.push(f);
        }
    }
    families
        .into_iter()
        .map(|family| {
            let mine: Vec<&RunData> = runs
                .clone()
                .into_iter()
                .filter(|r| family_of(r) == family)
                .collect();
            let depths: BTreeSet<usize> = mine.iter().map(|r| scale.of(r)).collect();
            let mut s = DepthSeries {
                family,
                accuracy: Vec::new(),
                log10_mse: Vec::new(),
                log10_ratio: Vec::new(),
                log10_final_ratio: Vec::new(),
                ratio_underflow: Vec::new(),
                beats_constant: Vec::new(),
            };
            for d in depths {
                let here: Vec<&RunData> =
                    mine.iter().copied().filter(|r| scale.of(r) == d).collect();
                let mse: Vec<f64> = here
                    .iter()
                    .filter_map(|r| r.summary.learning_signal.as_ref())
                    .filter_map(|l| l.versus_chance.as_ref())
                    .filter(|c| c.metric == "mse")
                    .map(|c| c.model.get())
                    .filter(|m| m.is_finite() && *m > 0.0)
                    .map(f64::log10)
                    .collect();
                let accuracy: Vec<f64> = here
                    .iter()
                    .filter_map(|r| r.summary.finals.real.test_accuracy)
                    .map(|a| 100.0 * a.get())
                    .filter(|a| a.is_finite())
                    .collect();
                let ratios: Vec<f64> = here
                    .iter()
                    .filter_map(|r| r.summary.diagnosis.evidence.first_to_last_ratio)
                    .map(|r| r.get())
                    .collect();
                let logs: Vec<f64> = ratios
                    .iter()
                    .filter(|r| r.is_finite() && **r > 0.0)
                    .map(|r| r.log10())
                    .collect();
                let zeros = ratios.iter().filter(|r| **r == 0.0).count();
                let finals: Vec<f64> = here
                    .iter()
                    .filter_map(|r| r.summary.diagnosis.evidence.final_first_to_last_ratio)
                    .map(|r| r.get())
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .map(f64::log10)
                    .collect();
                let judged: Vec<bool> = here
                    .iter()
                    .filter_map(|r| r.summary.learning_signal.as_ref())
                    .filter_map(|l| l.versus_chance.as_ref())
                    .map(|c| c.beats_chance)
                    .collect();
                s.accuracy.extend(point(d, &accuracy));
                s.log10_mse.extend(point(d, &mse));
                s.log10_ratio.extend(point(d, &logs));
                s.log10_final_ratio.extend(point(d, &finals));
                if zeros > 0 {
                    s.ratio_underflow.push((d, zeros));
                }
                if !judged.is_empty() {
                    s.beats_constant
                        .push((d, judged.iter().filter(|b| **b).count(), judged.len()));
                }
            }
            s
        })
        .collect()
}

/// The depth figure's data: one series per architecture (family), in the order the families
/// first appear among `runs`, each with its points in increasing depth (or sequence length, for
/// recurrent runs compared over T: [`Scale::of_runs`]).
pub fn depth_series(runs: &[RunData]) -> Vec<DepthSeries> {
    series_of(runs)
}

/// The constant prediction's test accuracy in percent (`versus_chance.chance` of the summaries
/// whose comparison is by accuracy): each distinct level once (to 0.01 %), increasing.
pub fn constant_accuracy(runs: &[RunData]) -> Vec<f64> {
    constant_levels(runs.iter())
}

fn constant_levels<'a>(runs: impl IntoIterator<Item = &'a RunData>) -> Vec<f64> {
    let mut levels: Vec<f64> = runs
        .into_iter()
        .filter_map(|r| r.summary.learning_signal.as_ref())
        .filter_map(|l| l.versus_chance.as_ref())
        .filter(|c| c.metric == "accuracy" && c.chance.get().is_finite())
        .map(|c| (100.0 * c.chance.get() * 100.0).round() / 100.0)
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    levels
}

/// The constant prediction's test MSE of regression runs, log₁₀, increasing, levels within 5 %
/// of each other once.
fn constant_mse_levels<'a>(runs: impl IntoIterator<Item = &'a RunData>) -> Vec<f64> {
    let mut levels: Vec<f64> = runs
        .into_iter()
        .filter_map(|r| r.summary.learning_signal.as_ref())
        .filter_map(|l| l.versus_chance.as_ref())
        .filter(|c| c.metric == "mse" && c.chance.get().is_finite() && c.chance.get() > 0.0)
        .map(|c| c.chance.get().log10())
        .collect();
    levels.sort_by(f64::total_cmp);
    // Each run's test split has its own constant prediction (1/6 for the adding problem, give or
    // take the split's sampling error): levels within 5 % of each other are one line.
    levels.dedup_by(|a, b| (*a - *b).abs() < 0.02);
    levels
}

/// Whether a report over `runs` has the depth figure: some architecture was run at two depths
/// (or sequence lengths) or more.
pub(crate) fn applies(runs: &[RunPlot<'_>]) -> bool {
    Scale::of_runs(runs.iter().map(|r| r.data)).is_some()
}

/// The figure's caption: how to read it, and what it shows here (which architectures stay above
/// the constant prediction as depth grows, by the runs' own comparison with it).
pub(crate) fn caption(runs: &[RunPlot<'_>]) -> String {
    let data = runs.iter().map(|r| r.data);
    let scale = Scale::of_runs(data.clone()).unwrap_or(Scale::Depth);
    let series = series_of(data);
    let regression = series.iter().all(|s| s.accuracy.is_empty())
        && series.iter().any(|s| !s.log10_mse.is_empty());
    let (metric, ratio, keeps) = match (regression, scale) {
        (false, _) => (
            "Final test accuracy (left; dashed: the constant prediction's)",
            "the first-to-last gradient ratio ‖∂L/∂h₁‖/‖∂L/∂h_L‖",
            "its accuracy stays above the dashed line",
        ),
        (true, Scale::Depth) => (
            "Final test MSE (left, log scale; dashed: the constant prediction's)",
            "the first-to-last gradient ratio ‖∂L/∂h₁‖/‖∂L/∂h_L‖",
            "its error stays below the dashed line",
        ),
        (true, Scale::TimeSteps) => (
            "Final test MSE (left, log scale; dashed: the constant prediction's)",
            "the gradient ratio through time ‖∂L/∂h_{t=1}‖/‖∂L/∂h_{t=T}‖",
            "its error stays below the dashed line",
        ),
    };
    let how = format!(
        "{metric} and {ratio} at initialisation (right, log scale, solid; dashed and lighter: at \
         the last record, after training) against {}, one colour per architecture, repeats as \
         mean ± 1 sd: an architecture keeps learning as {} grows while {keeps} (a ratio falling \
         by orders of magnitude shows why one stops, and a dashed line far above its solid one \
         that training opened the path)",
        scale.axis().split(" (").next().unwrap_or("depth"),
        scale.word(),
    );
    let word = scale.word();
    let mut above = Vec::new();
    let mut below = Vec::new();
    for s in series.iter().filter(|s| !s.beats_constant.is_empty()) {
        // At a depth, an architecture is above the constant prediction when most of its runs
        // there beat it.
        let failing: Vec<String> = s
            .beats_constant
            .iter()
            .filter(|(_, beat, judged)| 2 * beat <= *judged)
            .map(|(d, _, _)| d.to_string())
            .collect();
        match failing.len() {
            0 => above.push(s.family.clone()),
            1 => below.push(format!("{} ({word} {})", s.family, failing[0])),
            _ => below.push(format!("{} ({word}s {})", s.family, failing.join(", "))),
        }
    }
    let list = |v: &[String]| match v {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let rule = "beating it by more than three standard errors on the test split, as the \
                verdicts require";
    let verb = |v: &[String], one: &str, many: &str| {
        if v.len() == 1 {
            one.to_string()
        } else {
            many.to_string()
        }
    };
    let side = if regression { "below" } else { "above" };
    let here = match (above.is_empty(), below.is_empty()) {
        (true, true) => return format!("{how}."),
        (false, true) => format!(
            "{} {} {side} it at every {word} ({rule})",
            list(&above),
            verb(&above, "stays", "stay")
        ),
        (true, false) => format!(
            "{} {} not stay {side} it ({rule})",
            list(&below),
            verb(&below, "does", "do")
        ),
        (false, false) => format!(
            "{} {} {side} it at every {word} ({rule}), while {} {} not",
            list(&above),
            verb(&above, "stays", "stay"),
            list(&below),
            verb(&below, "does", "do")
        ),
    };
    format!("{how}; here {here}.")
}

/// How far apart, in x, the architectures' points at one depth are drawn (so that their error
/// bars do not hide each other).
const DODGE: f64 = 0.22;

/// Draws a vertical error bar from `lo` to `hi` at `x` with short caps.
fn error_bar<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: f64,
    lo: f64,
    hi: f64,
    color: RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let ends = pin(chart, &[(x, lo), (x, hi)]);
    let style = color.stroke_width(2);
    chart.draw_series(std::iter::once(PathElement::new(ends.clone(), style)))?;
    chart.draw_series(
        ends.into_iter()
            .map(|p| EmptyElement::at(p) + PathElement::new(vec![(-5, 0), (5, 0)], style)),
    )?;
    Ok(())
}

/// Grid, axes and labels of a panel whose x is the depths' positions `0..depths.len()`.
fn mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    depths: &[usize],
    x_desc: &str,
    y: (Axis, &str),
    y_labels: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let labels: Vec<usize> = depths.to_vec();
    let xf = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].to_string()
        } else {
            String::new()
        }
    };
    let (y_axis, y_desc) = y;
    let yf = move |v: &f64| tick_label(y_axis, if v.abs() < 1e-9 { 0.0 } else { *v });
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(depths.len().clamp(2, 16))
        .y_labels(y_labels)
        .x_max_light_lines(0)
        .max_light_lines(4)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(font(13.0, INK))
        .axis_desc_style(font(14.0, INK))
        .light_line_style(RGBColor(243, 244, 246))
        .bold_line_style(RGBColor(222, 226, 230))
        .axis_style(RGBColor(134, 142, 150))
        .draw()?;
    Ok(())
}

/// A horizontal reference line across the chart at `y`, with `label` above its left end.
fn reference<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    y: f64,
    kind: LineKind,
    label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let xr = chart.x_range();
    draw_line(chart, &[(xr.start, y), (xr.end, y)], MUTED, kind, 2)?;
    let at = pin(chart, &[(xr.start, y)])[0];
    chart.draw_series(std::iter::once(
        EmptyElement::at(at)
            + Text::new(
                label.to_string(),
                (4, -3),
                bold(12.5, MUTED).pos(Pos::new(HPos::Left, VPos::Bottom)),
            ),
    ))?;
    Ok(())
}

/// One architecture's points in a panel: a line through the means, markers, error bars, and
/// each point's count where it is not `usual_n`.
#[allow(clippy::too_many_arguments)]
fn draw_points<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[DepthPoint],
    depths: &[usize],
    dx: f64,
    color: RGBColor,
    usual_n: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x = |d: usize| depths.iter().position(|&e| e == d).unwrap_or(0) as f64 + dx;
    let xy: Vec<(f64, f64)> = points.iter().map(|p| (x(p.depth), p.mean)).collect();
    draw_line(chart, &xy, color, LineKind::Solid, 2)?;
    for p in points {
        if let Some(sd) = p.sd {
            error_bar(chart, x(p.depth), p.mean - sd, p.mean + sd, color)?;
        }
    }
    draw_markers(chart, &xy, color, 4, true)?;
    for p in points.iter().filter(|p| p.n != usual_n) {
        let at = pin(chart, &[(x(p.depth), p.mean)])[0];
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + Text::new(
                    format!("n={}", p.n),
                    (7, -4),
                    font(12.0, color).pos(Pos::new(HPos::Left, VPos::Bottom)),
                ),
        ))?;
    }
    Ok(())
}

/// Draws the plot.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunPlot<'_>],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let series = series_of(runs.iter().map(|r| r.data));
    let scale = Scale::of_runs(runs.iter().map(|r| r.data)).unwrap_or(Scale::Depth);
    let color_of = |family: &str| {
        runs.iter()
            .find(|r| family_of(r.data) == family)
            .map_or(MUTED, |r| r.color)
    };
    let depths: Vec<usize> = runs
        .iter()
        .map(|r| scale.of(r.data))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let regression = series.iter().all(|s| s.accuracy.is_empty())
        && series.iter().any(|s| !s.log10_mse.is_empty());
    let k = series.len();
    let dodge = |i: usize| {
        if k > 1 {
            DODGE * (i as f64 / (k - 1) as f64 - 0.5)
        } else {
            0.0
        }
    };
    // The usual number of runs behind a point; points of another count are labelled.
    let counts: Vec<usize> = series
        .iter()
        .flat_map(|s| {
            s.accuracy
                .iter()
                .chain(&s.log10_mse)
                .chain(&s.log10_ratio)
                .map(|p| p.n)
        })
        .collect();
    let usual_n = (1..=counts.iter().copied().max().unwrap_or(1))
        .rev()
        .max_by_key(|n| counts.iter().filter(|c| *c == n).count())
        .unwrap_or(1);
    let x_range = -0.5..(depths.len() as f64 - 0.5);

    let (w, _) = root.dim_in_pixel();
    let legend_w = (w / 4).min(270);
    let (panels, legend_area) = root.split_horizontally(w - legend_w);
    let (pw, _) = panels.dim_in_pixel();
    let (left, right) = panels.split_horizontally(pw / 2);

    // Left: accuracy, or for a regression the test MSE on a log scale.
    let (levels, level_label): (Vec<f64>, fn(f64) -> String) = if regression {
        (constant_mse_levels(runs.iter().map(|r| r.data)), |l| {
            format!("constant prediction {}", tick_label(Axis::Log10, l))
        })
    } else {
        (constant_levels(runs.iter().map(|r| r.data)), |l| {
            format!("constant prediction {l:.1} %")
        })
    };
    let mut acc = if regression {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in series.iter().flat_map(|s| &s.log10_mse) {
            let sd = p.sd.unwrap_or(0.0);
            lo = lo.min(p.mean - sd);
            hi = hi.max(p.mean + sd);
        }
        for l in &levels {
            lo = lo.min(*l);
            hi = hi.max(*l);
        }
        let range = log_range(lo, hi);
        let span = range.end - range.start;
        let mut c = build_chart(
            &left,
            Some(&format!("Final test MSE by {}", scale.word())),
            x_range.clone(),
            range,
            64,
        )?;
        mesh(
            &mut c,
            &depths,
            scale.axis(),
            (Axis::Log10, "test MSE (log scale)"),
            if span >= 2.0 {
                (span.round() as usize + 1).clamp(2, 9)
            } else {
                9
            },
        )?;
        c
    } else {
        let mut c = build_chart(
            &left,
            Some(&format!("Final test accuracy by {}", scale.word())),
            x_range.clone(),
            0.0..100.0,
            58,
        )?;
        mesh(
            &mut c,
            &depths,
            scale.axis(),
            (Axis::Linear, "test accuracy (%)"),
            11,
        )?;
        c
    };
    for level in &levels {
        reference(&mut acc, *level, LineKind::Dashed, &level_label(*level))?;
    }
    if series
        .iter()
        .all(|s| s.accuracy.is_empty() && s.log10_mse.is_empty())
    {
        no_data(&mut acc, "no test accuracy recorded")?;
    }
    for (i, s) in series.iter().enumerate() {
        draw_points(
            &mut acc,
            if regression {
                &s.log10_mse
            } else {
                &s.accuracy
            },
            &depths,
            dodge(i),
            color_of(&s.family),
            usual_n,
        )?;
    }

    // Right: the first-to-last ratio, log scale, always showing 1.
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for p in series
        .iter()
        .flat_map(|s| s.log10_ratio.iter().chain(&s.log10_final_ratio))
    {
        let sd = p.sd.unwrap_or(0.0);
        lo = lo.min(p.mean - sd);
        hi = hi.max(p.mean + sd);
    }
    if series.iter().any(|s| !s.ratio_underflow.is_empty()) {
        // Room below the data for the underflow marks.
        lo -= 1.0;
    }
    let (title, y_desc) = match scale {
        Scale::Depth => (
            "First-to-last gradient ratio: init and trained",
            "‖∂L/∂h₁‖ / ‖∂L/∂h_L‖ (log scale)",
        ),
        Scale::TimeSteps => (
            "Gradient ratio through time: init and trained",
            "‖∂L/∂h_(t=1)‖ / ‖∂L/∂h_(t=T)‖ (log scale)",
        ),
    };
    let mut ratio = build_chart(&right, Some(title), x_range, log_range(lo, hi), 64)?;
    mesh(&mut ratio, &depths, scale.axis(), (Axis::Log10, y_desc), {
        // Over two decades or more, one label a decade; below, plotters' own.
        let span = log_range(lo, hi).end - log_range(lo, hi).start;
        if span >= 2.0 {
            (span.round() as usize + 1).clamp(2, 9)
        } else {
            9
        }
    })?;
    reference(&mut ratio, 0.0, LineKind::Dotted, "1: no change")?;
    if series.iter().all(|s| s.log10_ratio.is_empty()) {
        no_data(&mut ratio, "no first-to-last ratio recorded")?;
    }
    let bottom = ratio.y_range().start;
    for (i, s) in series.iter().enumerate() {
        let c = color_of(&s.family);
        // After training: dashed and lighter, under the initialisation's line.
        let xy: Vec<(f64, f64)> = s
            .log10_final_ratio
            .iter()
            .map(|p| {
                let x = depths.iter().position(|&e| e == p.depth).unwrap_or(0) as f64;
                (x + dodge(i), p.mean)
            })
            .collect();
        draw_line(&mut ratio, &xy, lighten(c, 0.35), LineKind::Dashed, 2)?;
        draw_markers(&mut ratio, &xy, lighten(c, 0.35), 3, false)?;
        draw_points(&mut ratio, &s.log10_ratio, &depths, dodge(i), c, usual_n)?;
        for (d, n) in &s.ratio_underflow {
            let x = depths.iter().position(|e| e == d).unwrap_or(0) as f64 + dodge(i);
            let mark = EmptyElement::at((x, bottom))
                + Polygon::new(vec![(-6, -14), (6, -14), (0, -3)], c.filled());
            if *n == usual_n {
                ratio.draw_series(std::iter::once(mark))?;
            } else {
                ratio.draw_series(std::iter::once(
                    mark + Text::new(
                        format!("n={n}"),
                        (8, -16),
                        font(12.0, c).pos(Pos::new(HPos::Left, VPos::Bottom)),
                    ),
                ))?;
            }
        }
    }

    // Legend: the architectures, then how to read the marks.
    let mut legend: Vec<LegendEntry> = series
        .iter()
        .map(|s| LegendEntry::new(s.family.clone(), color_of(&s.family), LineKind::Solid))
        .collect();
    if !levels.is_empty() {
        legend.push(LegendEntry::new(
            "constant prediction",
            MUTED,
            LineKind::Dashed,
        ));
    }
    legend.push(LegendEntry::new("ratio: at init", MUTED, LineKind::Solid));
    if series.iter().any(|s| !s.log10_final_ratio.is_empty()) {
        legend.push(LegendEntry::new(
            "ratio: last record",
            lighten(MUTED, 0.35),
            LineKind::Dashed,
        ));
    }
    legend.push(LegendEntry::new("ratio 1", MUTED, LineKind::Dotted));
    if usual_n > 1 {
        legend.push(LegendEntry::new(
            format!("each point: {usual_n} runs"),
            MUTED,
            LineKind::Blank,
        ));
        legend.push(LegendEntry::new(
            "bars: ± 1 sd over seeds",
            MUTED,
            LineKind::Blank,
        ));
        legend.push(LegendEntry::new(
            "ratio: geometric mean",
            MUTED,
            LineKind::Blank,
        ));
    } else if counts.iter().any(|n| *n > 1) {
        legend.push(LegendEntry::new(
            "bars: ± 1 sd over seeds",
            MUTED,
            LineKind::Blank,
        ));
    }
    if series.iter().any(|s| !s.ratio_underflow.is_empty()) {
        legend.push(LegendEntry::new(
            "▼ at the bottom: ratio 0 (underflow)",
            MUTED,
            LineKind::Blank,
        ));
    }
    draw_legend(&legend_area.margin(36, 0, 0, 0), &legend, false)?;
    Ok(())
}
