//! `report.html`: one self-contained page (inline CSS and SVG, no script, no network) with an
//! overview table, the multi-run plots and one section per run.

use std::fmt::Write as _;

use gradscope_record::{DiagnosisKind, FinalMetrics, Real, Summary, Verdict};

use crate::draw::format_sig;
use crate::plots::{PlotKind, PlotSpec, RunPlot};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The id of a plot's wrapper element.
pub(crate) fn plot_id(name: &str) -> String {
    format!("plot-{name}")
}

const STYLE: &str = r#"
:root{--ink:#1f2429;--muted:#5f6b76;--line:#dde2e7;--bg:#f4f6f8;--card:#fff;--accent:#1f6fb4;--head:#17212b}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0;color:var(--ink);background:var(--bg);font:15px/1.55 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.top{background:var(--head);color:#fff;padding:26px 0 22px}
header.top .inner,main{max-width:1240px;margin:0 auto;padding-left:28px;padding-right:28px}
header.top h1{margin:0;font-size:27px;letter-spacing:.2px}
header.top p{margin:6px 0 0;color:#c5ced8;font-size:14.5px}
header.top nav{margin-top:12px;display:flex;flex-wrap:wrap;gap:8px}
header.top nav a{color:#e8eef4;text-decoration:none;border:1px solid #3a4856;border-radius:999px;padding:2px 11px;font-size:13px}
header.top nav a:hover{background:#263442}
main{padding-top:24px;padding-bottom:40px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 24px;margin:0 0 26px;box-shadow:0 1px 3px rgba(16,24,40,.05)}
h2{margin:0 0 4px;font-size:21px}
h2 .badge{vertical-align:3px;margin-left:6px}
h3{margin:22px 0 8px;font-size:16px;color:#33404c}
p.lead{margin:6px 0 14px;color:var(--muted)}
p.summary{font-size:16px;margin:10px 0 14px;padding:10px 14px;border-left:4px solid var(--accent);background:#f5f9fd;border-radius:0 8px 8px 0}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:#eef1f4;font-weight:600;font-size:12.5px;color:#38434e;line-height:1.35;vertical-align:bottom}
tbody tr:hover{background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td a{color:var(--accent);font-weight:600;text-decoration:none}
td.run{min-width:200px}
td .sub{color:var(--muted);font-size:12.5px;line-height:1.4}
.badge{display:inline-block;padding:1px 10px;border-radius:999px;font-size:12.5px;font-weight:600;white-space:nowrap;border:1px solid transparent}
.b-learning,.b-healthy{background:#e3f6e7;color:#1d7a35;border-color:#b8e6c2}
.b-indistinguishable,.b-bias_only{background:#fff4d6;color:#8a5a00;border-color:#f3dc9c}
.b-diverged{background:#fde4e4;color:#a32020;border-color:#f2b8b8}
.b-vanishing{background:#e2effc;color:#17589c;border-color:#b9d6f3}
.b-exploding{background:#fde6e6;color:#b42323;border-color:#f4bcbc}
.b-none{background:#eceff2;color:#4d5963;border-color:#d7dde2}
.nonfinite{color:#b42323;font-weight:600}
.muted{color:var(--muted)}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:2px 28px;margin:8px 0 4px}
dl.facts div{display:flex;gap:10px;padding:4px 0;border-bottom:1px dotted var(--line)}
dl.facts dt{color:var(--muted);min-width:150px;flex-shrink:0}
dl.facts dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
ul.remedies{margin:6px 0 0;padding-left:22px}
ul.remedies li{margin:3px 0}
figure.plot{margin:14px 0;padding:10px 10px 4px;border:1px solid var(--line);border-radius:10px;background:#fff}
figure.plot svg{display:block;width:100%;height:auto}
figure.plot svg text{font-family:"DejaVu Sans",Verdana,sans-serif}
figcaption{color:var(--muted);font-size:13.5px;padding:6px 6px 4px}
figcaption a{color:var(--accent);margin-left:6px}
details{margin-top:14px}
summary{cursor:pointer;color:var(--accent);font-weight:600}
details pre{background:#f7f8fa;border:1px solid var(--line);border-radius:8px;padding:12px 14px;overflow:auto;font:13px/1.45 "DejaVu Sans Mono",ui-monospace,Menlo,Consolas,monospace;max-height:520px}
footer{max-width:1240px;margin:0 auto;padding:0 28px 30px;color:var(--muted);font-size:13px}
"#;

/// A float with three significant digits (`—` when absent).
fn num(v: Option<Real>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format_sig(v.get(), 3))
}

/// An accuracy as a percentage (`—` when absent).
fn pct(v: Option<Real>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{:.1} %", 100.0 * v.get()),
        Some(v) => v.to_string(),
        None => "—".to_string(),
    }
}

/// `real / baseline` of a final metric.
fn pair(summary: &Summary, f: impl Fn(&FinalMetrics) -> String) -> String {
    let real = f(&summary.finals.real);
    match &summary.finals.baseline {
        Some(b) => format!("{} / {}", escape(&real), escape(&f(b))),
        None => format!("{} / <span class=\"muted\">—</span>", escape(&real)),
    }
}

fn verdict_badge(v: Option<Verdict>) -> String {
    match v {
        Some(v) => format!("<span class=\"badge b-{0}\">{0}</span>", v.name()),
        None => "<span class=\"badge b-none\">no baseline</span>".to_string(),
    }
}

fn kind_badge(k: DiagnosisKind) -> String {
    format!("<span class=\"badge b-{0}\">{0}</span>", k.name())
}

fn nonfinite_text(summary: &Summary) -> String {
    match &summary.first_nonfinite {
        Some(nf) => format!(
            "<span class=\"nonfinite\">step {}, {} (layer {}, {})</span>",
            nf.step,
            escape(&nf.layer_name),
            nf.layer,
            nf.kind.name()
        ),
        None => "<span class=\"muted\">none</span>".to_string(),
    }
}

/// The unit of a recurrent net's rates: they are per time step back, not per layer.
fn through_time(e: &gradscope_record::Evidence) -> &'static str {
    if e.through_time {
        " per step (through time)"
    } else {
        ""
    }
}

/// The first non-finite value, short (for the overview table).
fn nonfinite_short(summary: &Summary) -> String {
    match &summary.first_nonfinite {
        Some(nf) => format!(
            "<span class=\"nonfinite\">step {}, {}</span><div class=\"sub\">{}</div>",
            nf.step,
            escape(&nf.layer_name),
            nf.kind.name()
        ),
        None => "<span class=\"muted\">none</span>".to_string(),
    }
}

/// The `<figure>` of one plot with its SVG inline.
fn figure(out: &mut String, spec: &PlotSpec, svg: &str) {
    // Inline SVG in HTML needs no namespace declaration; dropping it keeps the page free of
    // any URL.
    let svg = svg
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!(
                "<svg class=\"plot-svg\" role=\"img\" aria-label=\"{}\" ",
                escape(&spec.name)
            ),
            1,
        );
    let name = escape(&spec.name);
    let _ = write!(
        out,
        "<figure class=\"plot\" id=\"{id}\" data-plot=\"{name}\">\n{svg}<figcaption>{caption} \
         <a href=\"plots/{name}.svg\">SVG</a><a href=\"plots/{name}.png\">PNG</a></figcaption>\n</figure>\n",
        id = escape(&plot_id(&spec.name)),
        caption = escape(&spec.caption),
    );
}

fn fact(out: &mut String, label: &str, value_html: &str) {
    let _ = write!(
        out,
        "<div><dt>{}</dt><dd>{}</dd></div>",
        escape(label),
        value_html
    );
}

/// The overview table.
fn overview(out: &mut String, runs: &[RunPlot<'_>]) {
    out.push_str(
        "<section class=\"card\" id=\"overview\">\n<h2>Overview</h2>\n<p class=\"lead\">Each \
         real run is judged against its learning-rate-0 baseline (verdict) and by how the \
         backward signal changes from the last layer to the first over the whole run \
         (diagnosis: its worst phase); the ratio and rate beside them are at \
         initialisation.</p>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>run · model · data</th>\
         <th>verdict</th><th>diagnosis</th>\
         <th class=\"num\" title=\"‖∂L/∂h₁‖ / ‖∂L/∂h_L‖ at initialisation\">first/last<br>ratio (init)</th>\
         <th class=\"num\" title=\"average factor per layer at initialisation\">per-layer<br>rate (init)</th>\
         <th class=\"num\">test accuracy<br>real / baseline</th>\
         <th class=\"num\">test loss<br>real / baseline</th>\
         <th>first<br>non-finite</th></tr></thead>\n<tbody>\n",
    );
    for run in runs {
        let s = &run.data.summary;
        let e = &s.diagnosis.evidence;
        let _ = writeln!(
            out,
            "<tr><td class=\"run\"><a href=\"#run-{stem}\">{name}</a>\
             <div class=\"sub\">{model}</div><div class=\"sub\">{data}</div></td>\
             <td>{verdict}</td><td>{kind}</td><td class=\"num\">{ratio}</td>\
             <td class=\"num\">{rate}</td><td class=\"num\">{acc}</td><td class=\"num\">{loss}</td>\
             <td>{nf}</td></tr>",
            stem = escape(&run.stem),
            name = escape(&run.name),
            model = escape(&s.model),
            data = escape(&s.dataset),
            verdict = verdict_badge(s.verdict),
            kind = kind_badge(s.diagnosis.kind),
            ratio = escape(&num(e.first_to_last_ratio)),
            rate = escape(&format!("{}{}", num(e.per_layer_rate), through_time(e))),
            acc = pair(s, |m| pct(m.test_accuracy)),
            loss = pair(s, |m| num(Some(m.test_loss))),
            nf = nonfinite_short(s),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// Verdicts as counts, the most frequent first: `3/3 learning`, or `2/3 learning` and
/// `1/3 bias_only` as separate badges; a single run's verdict as its plain badge.
fn verdict_count_badges(verdicts: &[Option<Verdict>]) -> String {
    if let [one] = verdicts {
        return verdict_badge(*one);
    }
    let counts = gradscope_record::verdict_tally(verdicts);
    counts
        .iter()
        .map(|(n, v)| {
            let class = v.map_or("none", |v| v.name());
            let name = v.map_or("no baseline", |v| v.name());
            format!(
                "<span class=\"badge b-{class}\">{n}/{} {name}</span>",
                verdicts.len()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The depth section: the depth figure, then the same runs as a table, architecture × depth
/// (or × sequence length T, for recurrent runs compared over T), each cell the verdicts (counted
/// over repeats) and the test accuracy (or, for a regression, the test MSE), mean ± sd.
fn depth_section(out: &mut String, runs: &[RunPlot<'_>], spec: &PlotSpec, svg: &str) {
    use crate::plots::depth::Scale;
    let data: Vec<&crate::load::RunData> = runs.iter().map(|r| r.data).collect();
    let scale = Scale::of_runs(data.iter().copied()).unwrap_or(Scale::Depth);
    let (title, lead, column) = match scale {
        Scale::Depth => (
            "Depth",
            "What depth does to each architecture: does it still learn, and does its backward \
             signal still reach the first layer?",
            "depth",
        ),
        Scale::TimeSteps => (
            "Sequence length",
            "What the length of the sequence does to each architecture: does it still learn, \
             and does its backward signal still reach the first time step?",
            "T",
        ),
    };
    let _ = write!(
        out,
        "<section class=\"card\" id=\"depth\">\n<h2>{title}</h2>\n<p class=\"lead\">{lead}</p>\n"
    );
    figure(out, spec, svg);
    let series = crate::plots::depth::series_of(data.iter().copied());
    let depths: std::collections::BTreeSet<usize> = data.iter().map(|r| scale.of(r)).collect();
    let _ = write!(
        out,
        "<div class=\"table-wrap\"><table class=\"pivot\">\n<thead><tr><th>architecture \\ {column}</th>"
    );
    for d in &depths {
        let _ = write!(out, "<th>{d}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for s in &series {
        let _ = write!(out, "<tr><th>{}</th>", escape(&s.family));
        for &d in &depths {
            let verdicts: Vec<Option<Verdict>> = data
                .iter()
                .filter(|r| scale.of(r) == d && crate::plots::depth::family_of(r) == s.family)
                .map(|r| r.summary.verdict)
                .collect();
            if verdicts.is_empty() {
                out.push_str("<td class=\"muted\">—</td>");
                continue;
            }
            let accuracy = if let Some(p) = s.accuracy.iter().find(|p| p.depth == d) {
                match p.sd {
                    Some(sd) => format!("{:.1} ± {sd:.1} % (n = {})", p.mean, p.n),
                    None => format!("{:.1} %", p.mean),
                }
            } else if let Some(p) = s.log10_mse.iter().find(|p| p.depth == d) {
                // The geometric mean of the runs' MSE, and its spread as a factor.
                let mse = gradscope_record::format_sig(10f64.powf(p.mean), 3);
                match p.sd {
                    Some(sd) => format!("MSE {mse} ×/÷ {:.2} (n = {})", 10f64.powf(sd), p.n),
                    None => format!("MSE {mse}"),
                }
            } else {
                "—".to_string()
            };
            let _ = write!(
                out,
                "<td>{}<div class=\"sub\">{}</div></td>",
                verdict_count_badges(&verdicts),
                escape(&accuracy)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// The final-metrics table of one run.
fn finals_table(out: &mut String, s: &Summary) {
    out.push_str(
        "<div class=\"table-wrap\"><table>\n<thead><tr><th></th><th class=\"num\">train loss</th>\
         <th class=\"num\">test loss</th><th class=\"num\">train accuracy</th>\
         <th class=\"num\">test accuracy</th></tr></thead>\n<tbody>\n",
    );
    let mut row = |label: &str, m: Option<&FinalMetrics>| {
        let cells = match m {
            Some(m) => [
                num(Some(m.train_loss)),
                num(Some(m.test_loss)),
                pct(m.train_accuracy),
                pct(m.test_accuracy),
            ],
            None => std::array::from_fn(|_| "—".to_string()),
        };
        let _ = write!(out, "<tr><th>{}</th>", escape(label));
        for c in cells {
            let _ = write!(out, "<td class=\"num\">{}</td>", escape(&c));
        }
        out.push_str("</tr>\n");
    };
    row("real run", Some(&s.finals.real));
    row("baseline (lr 0)", s.finals.baseline.as_ref());
    out.push_str("</tbody></table></div>\n");
}

/// One run's section.
/// Beyond this many runs (a sweep), each run's section shows its heading, verdict and diagnosis,
/// and keeps its facts and plots in a closed `<details>`: the page is a list to open, not a long
/// scroll of near-identical sections (still one self-contained file, no script).
const COLLAPSE_ABOVE: usize = 3;

/// A recurrent run's state matrices at the first and the last record, layer by layer:
/// `1 → 3.35 and 1 → 2.15` (spectral norm, then spectral radius); `None` for other runs.
fn recurrent_norms(run: &crate::load::RunData) -> Option<String> {
    let real = run.real_records();
    let (first, last) = (&real.first()?.layers, &real.last()?.layers);
    let layers = first.recurrent_spectral_norm.len();
    let change = |from: &[Option<Real>], to: &[Option<Real>], l: usize| {
        let at = |v: &[Option<Real>]| v.get(l).copied().flatten();
        at(from).map(|a| format!("{} → {}", num(Some(a)), num(at(to))))
    };
    let parts: Vec<String> = (0..layers)
        .filter_map(|l| {
            let norm = change(
                &first.recurrent_spectral_norm,
                &last.recurrent_spectral_norm,
                l,
            )?;
            let radius = change(
                &first.recurrent_spectral_radius,
                &last.recurrent_spectral_radius,
                l,
            )
            .unwrap_or_else(|| "—".into());
            let text = format!("{norm} and {radius}");
            Some(if layers > 1 {
                format!("layer {}: {text}", l + 1)
            } else {
                text
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn run_section(
    out: &mut String,
    run: &RunPlot<'_>,
    figures: &[(&PlotSpec, &str)],
    collapsed: bool,
) {
    let s = &run.data.summary;
    let d = &s.diagnosis;
    let e = &d.evidence;
    let _ = writeln!(
        out,
        "<section class=\"card run\" id=\"run-{stem}\" data-run=\"{stem}\">\n<h2>{name} {verdict} {kind}</h2>",
        stem = escape(&run.stem),
        name = escape(&run.name),
        verdict = verdict_badge(s.verdict),
        kind = kind_badge(d.kind),
    );
    let _ = writeln!(
        out,
        "<p class=\"lead\">{} · {} · {}</p>",
        escape(&s.model),
        escape(&s.dataset),
        escape(&s.loss)
    );
    if let (Some(v), Some(why)) = (s.verdict, &s.verdict_reason) {
        let _ = writeln!(
            out,
            "<p class=\"summary\"><b>Verdict: {}.</b> The real run {}.</p>",
            escape(v.name()),
            escape(why)
        );
    }
    if !e.summary.trim().is_empty() {
        let _ = writeln!(out, "<p class=\"summary\">{}</p>", escape(&e.summary));
    }
    if collapsed {
        out.push_str("<details class=\"run-body\"><summary>facts, remedies and plots</summary>\n");
    }

    out.push_str("<dl class=\"facts\">");
    fact(
        out,
        "status",
        &escape(&format!("{:?}", s.status).to_lowercase()),
    );
    fact(
        out,
        "steps",
        &escape(&format!("{} of {}", s.steps_completed, s.steps_planned)),
    );
    fact(out, "depth", &s.depth.to_string());
    fact(out, "first non-finite", &nonfinite_text(s));
    fact(
        out,
        "first/last ratio (init)",
        &escape(&num(e.first_to_last_ratio)),
    );
    fact(
        out,
        "per-layer rate (init)",
        &escape(&format!("{}{}", num(e.per_layer_rate), through_time(e))),
    );
    fact(
        out,
        "first/last ratio (last)",
        &escape(&num(e.final_first_to_last_ratio)),
    );
    fact(
        out,
        "per-layer rate (last)",
        &escape(&format!(
            "{}{}",
            num(e.final_per_layer_rate),
            through_time(e)
        )),
    );
    if let Some(text) = recurrent_norms(run.data) {
        fact(out, "‖W_hh‖₂ and ρ(W_hh), init → last", &escape(&text));
    }
    fact(
        out,
        "max saturated fraction",
        &escape(&num(e.max_saturated_fraction)),
    );
    fact(out, "max dead fraction", &escape(&num(e.max_dead_fraction)));
    if !e.loss_spikes.is_empty() {
        let spikes: Vec<String> = e.loss_spikes.iter().map(u64::to_string).collect();
        fact(out, "loss spikes at steps", &escape(&spikes.join(", ")));
    }
    if !e.phases.is_empty() {
        let phases: Vec<String> = e
            .phases
            .iter()
            .map(|p| format!("{}–{}: {}", p.from_step, p.to_step, p.kind.name()))
            .collect();
        fact(out, "phases", &escape(&phases.join("; ")));
    }
    if let Some(ls) = &s.learning_signal {
        fact(
            out,
            "learning signal z",
            &escape(&format!(
                "{} (threshold {}, window {})",
                num(Some(ls.z)),
                format_sig(ls.threshold, 3),
                ls.window
            )),
        );
        fact(
            out,
            "left the band for good at",
            &ls.first_step_outside_band.map_or_else(
                || "<span class=\"muted\">never</span>".to_string(),
                |st| format!("step {st}"),
            ),
        );
        if let Some(vc) = &ls.versus_chance {
            fact(
                out,
                "versus chance",
                &escape(&format!(
                    "{} {} vs {} ({} s.e.; {})",
                    vc.metric,
                    num(Some(vc.model)),
                    num(Some(vc.chance)),
                    num(Some(vc.standard_errors)),
                    if vc.beats_chance {
                        "beats chance"
                    } else {
                        "does not beat chance"
                    }
                )),
            );
        }
    }
    fact(
        out,
        "seeds",
        &escape(&format!("init {}, data {}", s.seeds.init, s.seeds.data)),
    );
    fact(out, "device", &escape(&s.device));
    fact(
        out,
        "folder",
        &format!(
            "<code>{}</code>",
            escape(&run.data.dir.display().to_string())
        ),
    );
    out.push_str("</dl>\n");

    out.push_str("<h3>Final metrics</h3>\n");
    finals_table(out, s);

    out.push_str("<h3>Remedies</h3>\n");
    if d.remedies.is_empty() {
        out.push_str("<p class=\"muted\">None suggested.</p>\n");
    } else {
        out.push_str("<ul class=\"remedies\">\n");
        for r in &d.remedies {
            match r.text.split_once(": ") {
                Some((name, why)) => {
                    let _ = writeln!(
                        out,
                        "<li><strong>{}</strong>: {}</li>",
                        escape(name),
                        escape(why)
                    );
                }
                None => {
                    let _ = writeln!(out, "<li>{}</li>", escape(&r.text));
                }
            }
        }
        out.push_str("</ul>\n");
    }

    out.push_str("<h3>Plots</h3>\n");
    for (spec, svg) in figures {
        figure(out, spec, svg);
    }

    out.push_str("<details><summary>config.toml</summary>\n<pre>");
    if run.data.config_toml.is_empty() {
        out.push_str("(no config.toml in the run folder)");
    } else {
        out.push_str(&escape(&run.data.config_toml));
    }
    out.push_str("</pre></details>\n");
    if collapsed {
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

/// The whole page. `svgs[i]` is the SVG of `specs[i]`.
pub(crate) fn render(runs: &[RunPlot<'_>], specs: &[PlotSpec], svgs: &[String]) -> String {
    let mut out = String::new();
    let title = match runs.len() {
        1 => format!("gradscope report: {}", runs[0].name),
        n => format!("gradscope report: {n} runs"),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let depth = specs
        .iter()
        .zip(svgs)
        .find(|(spec, _)| spec.kind == PlotKind::Depth);
    out.push_str(
        "<header class=\"top\"><div class=\"inner\">\n<h1>gradscope report</h1>\n<p>Vanishing \
         and exploding gradients: how the backward signal flows through each network, and \
         whether each run learns more than its learning-rate-0 baseline.</p>\n<nav>",
    );
    if depth.is_some() {
        let scale = crate::plots::depth::Scale::of_runs(runs.iter().map(|r| r.data))
            .unwrap_or(crate::plots::depth::Scale::Depth);
        let _ = write!(out, "<a href=\"#depth\">{}</a>", scale.section());
    }
    out.push_str("<a href=\"#overview\">overview</a><a href=\"#all-runs\">all runs</a>");
    for run in runs {
        let _ = write!(
            out,
            "<a href=\"#run-{}\">{}</a>",
            escape(&run.stem),
            escape(&run.name)
        );
    }
    out.push_str("</nav>\n</div></header>\n<main>\n");

    if runs.is_empty() {
        out.push_str("<section class=\"card\"><p>No runs.</p></section>\n");
    }
    // A comparison over depth (a sweep) opens with its lesson: the depth figure and its table.
    if let Some((spec, svg)) = depth {
        depth_section(&mut out, runs, spec, svg);
    }
    overview(&mut out, runs);

    out.push_str("<section class=\"card\" id=\"all-runs\">\n<h2>All runs</h2>\n");
    for (spec, svg) in specs.iter().zip(svgs) {
        if matches!(
            spec.kind,
            PlotKind::GradVsLayer | PlotKind::GradVsTime | PlotKind::WeightProduct
        ) {
            figure(&mut out, spec, svg);
        }
    }
    out.push_str("</section>\n");

    for (i, run) in runs.iter().enumerate() {
        let figures: Vec<(&PlotSpec, &str)> = specs
            .iter()
            .zip(svgs)
            .filter(|(spec, _)| {
                matches!(spec.kind,
                    PlotKind::Heatmap(j) | PlotKind::TimeHeatmap(j) | PlotKind::Loss(j) | PlotKind::Activations(j) if j == i)
            })
            .map(|(spec, svg)| (spec, svg.as_str()))
            .collect();
        run_section(&mut out, run, &figures, runs.len() > COLLAPSE_ABOVE);
    }
    let _ = write!(
        out,
        "</main>\n<footer>Written by gradscope-report {}. Plots are also in <code>plots/</code> \
         as SVG and PNG.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
