//! From measurements to a verdict: vanishing, exploding or healthy, with the evidence and the
//! remedies that fit.
//!
//! The rule, with its thresholds in [`DiagnosisThresholds`]:
//!
//! - for every record, the **first-to-last ratio** ‖∂L/∂h_1‖ / ‖∂L/∂h_L‖ says how much of the
//!   back-propagated signal reaches the first layer; below `vanishing_ratio` the record counts as
//!   vanishing, above `exploding_ratio` (or non-finite) as exploding. The **per-layer rate** is
//!   that ratio's (L−1)-th root: the average factor one layer applies to the backward signal;
//! - a record with a non-finite value, or whose loss **spiked** (above `spike_factor` times the
//!   running median of the previous `spike_window` losses *and* above the first recorded loss,
//!   so that a well-trained net whose tiny loss jumps back to a small value is not called
//!   exploding), also counts as exploding;
//! - consecutive records of the same kind form **phases**. A phase is **lasting** when it has at
//!   least [`LASTING_RECORDS`] (3) records, or holds every record of a shorter run;
//! - the run is **exploding** when any record is; otherwise **vanishing** when a vanishing phase
//!   lasts, or when at least half of the records vanish (a run that flickers in and out);
//!   otherwise **healthy**. So a network that is healthy at initialisation and whose backward
//!   signal vanishes later, for a lasting stretch, is called vanishing even when that stretch is
//!   a minority of the run: while it lasts, the first layers do not learn.
//!
//! Why three records, and not "persists to the end": each record measures one batch, and the
//! ratio moves from batch to batch (a deep ReLU net trained at a high learning rate crosses the
//! threshold for single records and comes back). Three consecutive records are three batches
//! spanning `2 × train.record_every` steps: no longer one unlucky batch. A last phase of one
//! or two records is still one or two batches, so reaching the end of the run is not enough on
//! its own; a run that ends vanishing for good has a lasting last phase. The rule counts records,
//! not steps, so a sparser `record_every` asks for a longer stretch of steps.
//!
//! The headline is the **worst phase** ([`WorstPhase`]), with its step range: exploding beats
//! vanishing beats healthy. Among exploding phases, the one with the first non-finite value, else
//! the first with a loss spike, else the first lasting one, else the first; among vanishing
//! phases, the first lasting one, else the longest (the earliest of equals). Its **onset** is
//! [`Onset::AtInit`] when it starts at the first record, [`Onset::DuringTraining`] otherwise; a
//! probe of initialisations only (`lr = 0` in [`DiagnosisContext`], one record per seed, as
//! `gradscope inspect` does) is always at initialisation.
//!
//! **Dead and saturated units**: at every record, the worst layer's dead-unit fraction (ReLU
//! output 0 for the whole batch) and saturated fraction (tanh, sigmoid). They **grew** when the
//! first record is at or below `dead_fraction` (`saturated_fraction`) and a lasting stretch of
//! later records is above it ([`UnitTrend::grew`]); a fraction already above it at the first
//! record is the initialisation's doing, not growth. Why 0.5 for `dead_fraction` (the default,
//! the same as `saturated_fraction`'s): with centred pre-activations, as the standard
//! initialisations give, a unit is on for about half of the inputs, and few are off for a whole
//! batch (9 % in the worst layer of the 4-layer `configs/digits-healthy.toml` at step 0). Even
//! 30 plain ReLU layers, whose inputs' representations grow alike with depth, start at about
//! 45 % in their worst layer (41–47 % over the seeds tried). More than half of a layer dead is
//! past what initialisation gives, and is the layer losing most of its width.
//!
//! **Remedies** follow from the worst phase. Exploding: a lower learning rate, global-norm
//! clipping, a matched initialisation, normalisation. Vanishing at initialisation: a matched
//! initialisation, residual connections, normalisation, a non-saturating activation. Vanishing
//! that appears during training: a lower learning rate first (the network was fine at
//! initialisation: the updates took it there); when dead ReLU units grew, leaky ReLU (with the
//! lower rate) and He initialisation if it is not already used; then residual connections with a
//! small branch scale, and batch normalisation. A healthy run whose dead units grew gets the
//! lower rate and leaky ReLU.
//!
//! Checked on `configs/digits-dying-relu.toml` (30 ReLU layers of 128, He init, plain SGD warmed
//! up to 0.2: vanishing during training from step 155, 20.6 % test accuracy): a learning rate ten
//! times lower (78.6 %), residual connections with branch scale 0.1 (96.1 %) and batch
//! normalisation (78.8 %) each keep the gradient healthy and the net learning. Leaky ReLU alone
//! at the same rate vanished too (8.6 %); with the lower rate it learns (47.4 %). GELU at the same
//! rate vanished (10.0 %), layer normalisation vanished (8.6 %), plain residual connections
//! overflowed: none of these is offered for vanishing during training.

use gradscope_model::{Activation, Family, InitKind, ModelFacts, WeightInit};
use gradscope_record::{Change, Real, Remedy, StepRecord, format_sig};
pub use gradscope_record::{
    Diagnosis, DiagnosisKind, DiagnosisThresholds, Evidence, Onset, Phase, UnitTrend, WorstPhase,
};

/// Consecutive records that make a phase (or a stretch of dead or saturated units) lasting.
pub const LASTING_RECORDS: usize = 3;

/// What the remedies may depend on: the model and the optimiser settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiagnosisContext {
    /// What is known about the model ([`gradscope_model::ModelSpec::facts`] for a built-in
    /// one); `None` for a network of which nothing is known, which gets the remedies that hold
    /// for every architecture. Remedies are data ([`Remedy`]): the config keys that make them
    /// are added by whoever built the model from a config.
    pub model: Option<ModelFacts>,
    /// Learning rate of the real run (0 when only the initialisation was probed).
    pub lr: f64,
    /// Whether gradient clipping is on.
    pub clipping: bool,
}

/// (first-to-last ratio, per-layer rate) of one record's activation-gradient norms.
pub fn gradient_ratio(norms: &[f64]) -> Option<(f64, f64)> {
    if norms.len() < 2 {
        return None;
    }
    let (first, last) = (norms[0], norms[norms.len() - 1]);
    let ratio = first / last;
    let rate = if ratio.is_finite() && ratio > 0.0 {
        ratio.powf(1.0 / (norms.len() - 1) as f64)
    } else {
        ratio
    };
    Some((ratio, rate))
}

/// The signal path a record is judged by: through time where its layers observed time steps
/// (‖∂L/∂h‖ at the first layer's first step, …, the top layer's last step: the path from the
/// output back to the first input), else through the layers.
pub fn signal_path(r: &StepRecord) -> (Vec<f64>, bool) {
    let series: Vec<&Vec<Option<Real>>> = r
        .layers
        .act_grad_norm_time
        .iter()
        .filter(|s| !s.is_empty())
        .collect();
    match (series.first(), series.last()) {
        (Some(bottom), Some(top)) => {
            let get = |v: &Option<Real>| v.map_or(f64::NAN, Real::get);
            // First and last are what the ratio reads; the path's length (time steps) sets the
            // per-step rate.
            let mut path: Vec<f64> = bottom.iter().map(get).collect();
            if let Some(end) = path.last_mut() {
                *end = top.last().map_or(f64::NAN, get);
            }
            (path, true)
        }
        _ => (r.act_grad_norms(), false),
    }
}

/// (first-to-last ratio, per-layer or per-step rate) of a record's signal path.
pub fn record_ratio(r: &StepRecord) -> Option<(f64, f64)> {
    gradient_ratio(&signal_path(r).0)
}

fn record_kind(r: &StepRecord, spiked: bool, th: &DiagnosisThresholds) -> DiagnosisKind {
    if r.nonfinite.is_some() || !r.loss.is_finite() || spiked {
        return DiagnosisKind::Exploding;
    }
    match record_ratio(r) {
        Some((ratio, _)) if !ratio.is_finite() || ratio > th.exploding_ratio => {
            DiagnosisKind::Exploding
        }
        Some((ratio, _)) if ratio < th.vanishing_ratio => DiagnosisKind::Vanishing,
        _ => DiagnosisKind::Healthy,
    }
}

/// Steps whose loss exceeds `spike_factor` × the median of the previous `spike_window` losses
/// and the first recorded loss.
pub fn loss_spikes(records: &[StepRecord], th: &DiagnosisThresholds) -> Vec<u64> {
    let mut spikes = Vec::new();
    let mut window: Vec<f64> = Vec::new();
    let start = records.first().map_or(f64::INFINITY, |r| r.loss.get());
    for r in records {
        let loss = r.loss.get();
        if window.len() >= th.spike_window.clamp(1, 5) {
            let mut sorted = window.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            let above_start = !start.is_finite() || loss > start;
            if loss.is_finite() && median > 0.0 && loss > th.spike_factor * median && above_start {
                spikes.push(r.step);
            }
        }
        if loss.is_finite() {
            window.push(loss);
            if window.len() > th.spike_window.max(1) {
                window.remove(0);
            }
        }
    }
    spikes
}

fn max_of(records: &[StepRecord], get: impl Fn(&StepRecord) -> &Vec<Option<Real>>) -> Option<Real> {
    records
        .iter()
        .flat_map(|r| get(r).iter().flatten().map(|x| x.get()))
        .filter(|x| x.is_finite())
        .reduce(f64::max)
        .map(Real)
}

/// The worst layer's fraction (and that layer, 1-based) of one record, if measured.
fn worst_layer(values: &[Option<Real>]) -> Option<(f64, usize)> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (v.get(), i + 1)))
        .filter(|(v, _)| v.is_finite())
        .fold(None, |best, (v, l)| match best {
            Some((b, _)) if b >= v => best,
            _ => Some((v, l)),
        })
}

/// How the worst layer's fraction moved (see the module docs for `grew`).
pub fn unit_trend(
    records: &[StepRecord],
    get: impl Fn(&StepRecord) -> &Vec<Option<Real>>,
    threshold: f64,
) -> Option<UnitTrend> {
    let series: Vec<(u64, f64, usize)> = records
        .iter()
        .filter_map(|r| worst_layer(get(r)).map(|(v, l)| (r.step, v, l)))
        .collect();
    let &(first_step, first, _) = series.first()?;
    let &(last_step, last, _) = series.last()?;
    let (peak_step, peak, peak_layer) = series
        .iter()
        .copied()
        .fold(series[0], |best, x| if x.1 > best.1 { x } else { best });
    let mut run = 0;
    let mut longest = 0;
    for &(_, v, _) in &series[1..] {
        run = if v > threshold { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    Some(UnitTrend {
        first_step,
        first: Real(first),
        peak_step,
        peak: Real(peak),
        peak_layer,
        last_step,
        last: Real(last),
        grew: first <= threshold && longest >= LASTING_RECORDS,
    })
}

/// A phase with the records it covers.
struct Span {
    phase: Phase,
    start: usize,
    len: usize,
}

fn lasting(s: &Span, total: usize) -> bool {
    s.len >= LASTING_RECORDS.min(total.max(1))
}

/// Diagnoses a run from its records (in step order).
pub fn diagnose(
    records: &[StepRecord],
    ctx: &DiagnosisContext,
    th: &DiagnosisThresholds,
) -> Diagnosis {
    let spikes = loss_spikes(records, th);
    let kinds: Vec<DiagnosisKind> = records
        .iter()
        .map(|r| record_kind(r, spikes.contains(&r.step), th))
        .collect();
    let mut spans: Vec<Span> = Vec::new();
    for (i, (r, &k)) in records.iter().zip(&kinds).enumerate() {
        match spans.last_mut() {
            Some(s) if s.phase.kind == k => {
                s.phase.to_step = r.step;
                s.len += 1;
            }
            _ => spans.push(Span {
                phase: Phase {
                    from_step: r.step,
                    to_step: r.step,
                    kind: k,
                },
                start: i,
                len: 1,
            }),
        }
    }
    let first_nonfinite = records.iter().find_map(|r| r.nonfinite.clone());
    let n = records.len();
    let vanishing = kinds
        .iter()
        .filter(|&&k| k == DiagnosisKind::Vanishing)
        .count();
    let of = |kind: DiagnosisKind| spans.iter().filter(move |s| s.phase.kind == kind);
    let kind = if first_nonfinite.is_some() || kinds.contains(&DiagnosisKind::Exploding) {
        DiagnosisKind::Exploding
    } else if of(DiagnosisKind::Vanishing).any(|s| lasting(s, n)) || (n > 0 && 2 * vanishing >= n) {
        DiagnosisKind::Vanishing
    } else {
        DiagnosisKind::Healthy
    };
    let holds = |s: &Span, pred: &dyn Fn(&StepRecord) -> bool| {
        records[s.start..s.start + s.len].iter().any(pred)
    };
    let worst_span: Option<&Span> = match kind {
        DiagnosisKind::Exploding => of(kind)
            .find(|s| holds(s, &|r| r.nonfinite.is_some()))
            .or_else(|| of(kind).find(|s| holds(s, &|r| spikes.contains(&r.step))))
            .or_else(|| of(kind).find(|s| lasting(s, n)))
            .or_else(|| of(kind).next()),
        DiagnosisKind::Vanishing => of(kind).find(|s| lasting(s, n)).or_else(|| {
            // The longest; `max_by_key` keeps the last of equals, so go backwards.
            of(kind)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .max_by_key(|s| s.len)
        }),
        DiagnosisKind::Healthy => None,
    };
    let ratio_of = |r: &StepRecord| record_ratio(r).map(|x| x.0);
    let worst = worst_span.map(|s| {
        let ratios = records[s.start..s.start + s.len]
            .iter()
            .filter_map(ratio_of)
            .filter(|x| x.is_finite());
        let extreme = if kind == DiagnosisKind::Vanishing {
            ratios.reduce(f64::min)
        } else {
            ratios.reduce(f64::max)
        };
        WorstPhase {
            kind,
            from_step: s.phase.from_step,
            to_step: s.phase.to_step,
            records: s.len,
            onset: if s.start == 0 || ctx.lr == 0.0 {
                Onset::AtInit
            } else {
                Onset::DuringTraining
            },
            extreme_ratio: extreme.map(Real),
        }
    });
    let at = |r: Option<&StepRecord>| r.and_then(record_ratio);
    let first = at(records.first());
    let last = at(records.last());
    let brief_vanishing: Vec<Phase> = of(DiagnosisKind::Vanishing)
        .filter(|s| !lasting(s, n))
        .map(|s| s.phase.clone())
        .collect();
    let evidence = Evidence {
        per_layer_rate: first.map(|x| Real(x.1)),
        first_to_last_ratio: first.map(|x| Real(x.0)),
        final_per_layer_rate: last.map(|x| Real(x.1)),
        final_first_to_last_ratio: last.map(|x| Real(x.0)),
        loss_spikes: spikes,
        max_saturated_fraction: max_of(records, |r| &r.layers.act_saturated),
        max_dead_fraction: max_of(records, |r| &r.layers.act_dead),
        summary: String::new(),
        first_nonfinite,
        phases: spans.iter().map(|s| s.phase.clone()).collect(),
        worst,
        dead_units: unit_trend(records, |r| &r.layers.act_dead, th.dead_fraction),
        saturated_units: unit_trend(records, |r| &r.layers.act_saturated, th.saturated_fraction),
        through_time: records.first().is_some_and(|r| signal_path(r).1),
    };
    let facts = Facts {
        records: n,
        vanishing,
        first_vanishing_step: records
            .iter()
            .zip(&kinds)
            .find(|(_, k)| **k == DiagnosisKind::Vanishing)
            .map(|(r, _)| r.step),
        first_step: records.first().map_or(0, |r| r.step),
        last_step: records.last().map_or(0, |r| r.step),
        brief_vanishing,
        probe_only: ctx.lr == 0.0,
    };
    let mut summary = summarise(kind, &evidence, &facts, th);
    if evidence.through_time {
        for word in ["vanishing", "exploding"] {
            if summary.starts_with(word) {
                summary.insert_str(word.len(), " through time");
            }
        }
    }
    let remedies = remedies(kind, &evidence, ctx, th);
    Diagnosis {
        kind,
        evidence: Evidence {
            summary,
            ..evidence
        },
        remedies,
    }
}

/// Counts the sentence needs beyond the evidence.
struct Facts {
    records: usize,
    vanishing: usize,
    first_vanishing_step: Option<u64>,
    first_step: u64,
    last_step: u64,
    brief_vanishing: Vec<Phase>,
    probe_only: bool,
}

fn sig(x: f64) -> String {
    format_sig(x, 3)
}

fn percent(x: Real) -> String {
    format!("{:.0} %", 100.0 * x.get())
}

fn steps(from: u64, to: u64) -> String {
    if from == to {
        format!("step {from}")
    } else {
        format!("steps {from}–{to}")
    }
}

fn unit_sentence(what: &str, t: &UnitTrend) -> String {
    format!(
        "{what} in the worst layer grew from {} at step {} to {} by step {} (layer {}), {} at step {}",
        percent(t.first),
        t.first_step,
        percent(t.peak),
        t.peak_step,
        t.peak_layer,
        percent(t.last),
        t.last_step
    )
}

/// How the sentences name the two ends of the signal path and its unit.
struct PathWords {
    first: &'static str,
    last: &'static str,
    per: &'static str,
}

impl PathWords {
    fn of(e: &Evidence) -> Self {
        if e.through_time {
            PathWords {
                first: "the first time step",
                last: "the last step's",
                per: "step",
            }
        } else {
            PathWords {
                first: "the first layer",
                last: "the last layer's",
                per: "layer",
            }
        }
    }
}

fn summarise(kind: DiagnosisKind, e: &Evidence, f: &Facts, th: &DiagnosisThresholds) -> String {
    let words = PathWords::of(e);
    let ratio = e
        .first_to_last_ratio
        .map(|r| {
            format!(
                "{} receives {} of {} gradient (×{} per {})",
                words.first,
                sig(r.get()),
                words.last,
                sig(e.per_layer_rate.map_or(f64::NAN, Real::get)),
                words.per
            )
        })
        .unwrap_or_else(|| "too few layers to compare".into());
    let count = format!(
        "{} of {} record{}",
        f.vanishing,
        f.records,
        if f.records == 1 { "" } else { "s" }
    );
    let mut s = match (kind, &e.worst) {
        (DiagnosisKind::Vanishing, Some(w)) if w.onset == Onset::DuringTraining => {
            let to = if w.to_step == f.last_step {
                format!("to the end (step {})", w.to_step)
            } else {
                format!("to step {}", w.to_step)
            };
            let mut s = format!(
                "vanishing during training, from step {} {to} ({} records; {count} vanish",
                w.from_step, w.records
            );
            if let Some(first) = f.first_vanishing_step.filter(|&x| x < w.from_step) {
                s.push_str(&format!(", the first at step {first}"));
            }
            s.push_str("): healthy at initialisation, ");
            match (e.first_to_last_ratio, w.extreme_ratio) {
                (Some(r0), Some(x)) => s.push_str(&format!(
                    "where {} receives {} of {} gradient (×{} per {}), then as little as {}, below the threshold {:.0e}",
                    words.first,
                    sig(r0.get()),
                    words.last,
                    sig(e.per_layer_rate.map_or(f64::NAN, Real::get)),
                    words.per,
                    sig(x.get()),
                    th.vanishing_ratio
                )),
                _ => s.push_str(&format!("where {ratio}")),
            }
            s
        }
        (DiagnosisKind::Vanishing, w) => {
            let range = match w {
                Some(w) if !f.probe_only => {
                    let mut r = format!(" ({}, {count} vanish", steps(w.from_step, w.to_step));
                    if let Some(p) = e.phases.iter().find(|p| p.from_step > w.to_step) {
                        r.push_str(&format!(
                            ", then {} from step {}",
                            p.kind.name(),
                            p.from_step
                        ));
                    }
                    r.push(')');
                    r
                }
                _ => String::new(),
            };
            format!(
                "vanishing at initialisation{range}: {ratio}, below the threshold {:.0e}",
                th.vanishing_ratio
            )
        }
        (DiagnosisKind::Exploding, w) => {
            let when = match w {
                Some(w) if !f.probe_only => match w.onset {
                    Onset::AtInit => {
                        format!(" at initialisation ({})", steps(w.from_step, w.to_step))
                    }
                    Onset::DuringTraining => format!(
                        " during training, from step {} ({})",
                        w.from_step,
                        steps(w.from_step, w.to_step)
                    ),
                },
                _ => String::new(),
            };
            if let Some(nf) = &e.first_nonfinite {
                format!(
                    "exploding{when}: the first non-finite value is a {} at step {} in {} (layer {})",
                    nf.kind.name().replace('_', " "),
                    nf.step,
                    nf.layer_name,
                    nf.layer
                )
            } else if !e.loss_spikes.is_empty() {
                format!(
                    "exploding{when}: the loss spiked above {}× its running median at {} step(s), first at step {}; {ratio}",
                    th.spike_factor,
                    e.loss_spikes.len(),
                    e.loss_spikes[0]
                )
            } else {
                let peak = match w {
                    Some(WorstPhase {
                        onset: Onset::DuringTraining,
                        extreme_ratio: Some(x),
                        ..
                    }) => format!(" at initialisation; it rose to {}", sig(x.get())),
                    _ => String::new(),
                };
                format!(
                    "exploding{when}: {ratio}{peak}, above the threshold {:.0e}",
                    th.exploding_ratio
                )
            }
        }
        (DiagnosisKind::Healthy, _) => {
            let mut s = if f.probe_only || f.records == 0 {
                format!("healthy: {ratio}")
            } else {
                format!("healthy over {}: {ratio}", steps(f.first_step, f.last_step))
            };
            if let Some(p) = f.brief_vanishing.first() {
                let k = f.brief_vanishing.len();
                s.push_str(&format!(
                    "; vanishing only briefly ({k} stretch{} of under {LASTING_RECORDS} records, the first at {})",
                    if k == 1 { "" } else { "es" },
                    steps(p.from_step, p.to_step)
                ));
            }
            s
        }
    };
    if let Some(t) = e.dead_units.filter(|t| t.grew) {
        s.push_str("; ");
        s.push_str(&unit_sentence("dead ReLU units", &t));
    }
    if let Some(t) = e.saturated_units.filter(|t| t.grew) {
        s.push_str("; ");
        s.push_str(&unit_sentence("saturated units", &t));
    }
    s
}

/// Whether the initialisation matches the activation (He for the ReLU family, Xavier/LeCun for
/// the rest, orthogonal for both) at σ_w ≈ 1; and the name of the one that would.
fn init_fit(activation: Activation, init: WeightInit) -> (bool, &'static str) {
    let relu_like = matches!(
        activation,
        Activation::Relu | Activation::LeakyRelu | Activation::Gelu | Activation::Silu
    );
    let family = if relu_like {
        matches!(
            init.kind,
            InitKind::HeNormal | InitKind::HeUniform | InitKind::Orthogonal
        )
    } else {
        matches!(
            init.kind,
            InitKind::XavierNormal
                | InitKind::XavierUniform
                | InitKind::LecunNormal
                | InitKind::Orthogonal
        )
    };
    let name = if relu_like {
        "he_normal"
    } else {
        "xavier_normal"
    };
    (family && (init.sigma_w - 1.0).abs() < 0.2, name)
}

fn lower_lr(lr: f64, why: &str) -> Remedy {
    Remedy::new(
        Change::LowerLearningRate {
            now: lr,
            to: lr / 10.0,
        },
        "lower the learning rate",
        why,
    )
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

fn init(kind: &str, name: &str, why: &str) -> Remedy {
    Remedy::new(
        Change::Init {
            init: Some(kind.into()),
        },
        name,
        why,
    )
}

fn normalise(norms: &[&str], name: &str, why: &str) -> Remedy {
    Remedy::new(
        Change::Normalise {
            norms: words(norms),
        },
        name,
        why,
    )
}

fn residual(branch_scale: Option<f64>, name: &str, why: &str) -> Remedy {
    Remedy::new(Change::Residual { branch_scale }, name, why)
}

fn clip() -> Remedy {
    Remedy::new(
        Change::ClipGlobalNorm { max_norm: 1.0 },
        "gradient clipping by global norm",
        "bounds every step whatever the gradient",
    )
}

/// Remedies for ReLU units that died during training (not already in `out`).
fn dying_relu(out: &mut Vec<Remedy>, activation: Activation, matched_init: bool) {
    if activation == Activation::Relu {
        out.push(Remedy::new(
            Change::Activation {
                activations: words(&["leaky_relu"]),
            },
            "leaky ReLU",
            "used with the lower learning rate, a unit that is negative for every input still passes 1 % of the gradient and can come back, where a dead ReLU unit gets none; it keeps units alive, not the steps small",
        ));
    }
    let has_init = out.iter().any(|r| matches!(r.change, Change::Init { .. }));
    if !matched_init && !has_init {
        out.push(init(
            "he_normal",
            "He initialisation",
            "starts every layer's pre-activations centred at unit scale, each unit on for about half of the inputs",
        ));
    }
}

/// The initialisation and normalisation remedies for a network of which only its layers are
/// known: in words, since which initialiser fits depends on an activation gradscope cannot see.
fn gain_near_one(out: &mut Vec<Remedy>) {
    out.push(Remedy::new(
        Change::Init { init: None },
        "an initialisation that keeps each layer's gain near 1",
        "Xavier for tanh and sigmoid, He for ReLU",
    ));
    out.push(normalise(
        &[],
        "normalisation",
        "re-scales every layer's signal",
    ));
}

/// Remedies for a network gradscope knows nothing about beyond its layers: what holds for every
/// architecture.
fn general_remedies(
    kind: DiagnosisKind,
    appeared_during_training: bool,
    dead_grew: bool,
    ctx: &DiagnosisContext,
) -> Vec<Remedy> {
    let mut out = Vec::new();
    match kind {
        DiagnosisKind::Exploding => {
            if ctx.lr > 0.0 {
                out.push(lower_lr(
                    ctx.lr,
                    "the update, not the architecture, may be what overflows",
                ));
            }
            if !ctx.clipping {
                out.push(clip());
            }
            gain_near_one(&mut out);
        }
        DiagnosisKind::Vanishing => {
            if appeared_during_training {
                out.push(lower_lr(ctx.lr, "the signal was healthy at initialisation"));
            }
            if dead_grew {
                out.push(Remedy::new(
                    Change::Activation {
                        activations: words(&["leaky_relu", "gelu"]),
                    },
                    "a leaky ReLU or GELU",
                    "dead ReLU units pass no gradient",
                ));
            }
            out.push(residual(
                None,
                "skip connections around the layers where the signal falls",
                "an identity path carries the gradient past them",
            ));
            gain_near_one(&mut out);
        }
        DiagnosisKind::Healthy => {
            if dead_grew && ctx.lr > 0.0 {
                out.push(lower_lr(ctx.lr, "dead ReLU units grew during training"));
            }
        }
    }
    out
}

/// Remedies for the scalar chain, whose only knob is w.
fn chain_remedies(kind: DiagnosisKind, during: bool, ctx: &DiagnosisContext) -> Vec<Remedy> {
    let trained = ctx.lr > 0.0;
    let mut out = Vec::new();
    match kind {
        DiagnosisKind::Vanishing => {
            if during && trained {
                out.push(lower_lr(
                    ctx.lr,
                    "the updates moved w away from 1 after a healthy start",
                ));
            }
            out.push(Remedy::new(
                Change::WeightTowardOne,
                "use |w| closer to 1",
                "the chain scales the gradient k layers down by w^k",
            ));
        }
        DiagnosisKind::Exploding => {
            out.push(Remedy::new(
                Change::WeightTowardOne,
                "use |w| closer to 1, or fewer layers",
                "w^k overflows",
            ));
            if trained {
                out.push(lower_lr(ctx.lr, ""));
            }
        }
        DiagnosisKind::Healthy => {}
    }
    out
}

/// Remedies for a recurrent stack: clipping for a recurrence that explodes (Pascanu et al.
/// 2013), gating and an orthogonal recurrence of scale 1 for one that vanishes.
fn recurrent_remedies(
    kind: DiagnosisKind,
    appeared_during_training: bool,
    cell: gradscope_model::Cell,
    rho: f64,
    ctx: &DiagnosisContext,
) -> Vec<Remedy> {
    use gradscope_model::Cell;
    let mut out = Vec::new();
    let gated = matches!(cell, Cell::Lstm | Cell::Gru);
    match kind {
        DiagnosisKind::Exploding => {
            if !ctx.clipping {
                out.push(Remedy::new(
                    Change::ClipGlobalNorm { max_norm: 1.0 },
                    "gradient clipping by global norm",
                    "a recurrence multiplies the gradient by the same Jacobian at every step back; clipping bounds the step when that product explodes (Pascanu et al. 2013)",
                ));
            }
            if ctx.lr > 0.0 {
                out.push(lower_lr(
                    ctx.lr,
                    "the updates may be what pushed the recurrence past a gain of 1",
                ));
            }
            if rho > 1.0 {
                out.push(Remedy::new(
                    Change::RecurrentScale {
                        init: "orthogonal".into(),
                        rho: 1.0,
                    },
                    "an orthogonal recurrent matrix at scale 1",
                    "every singular value 1: the linear part of each step neither grows nor shrinks the signal",
                ));
            }
        }
        DiagnosisKind::Vanishing => {
            if appeared_during_training {
                out.push(lower_lr(ctx.lr, "the signal was healthy at initialisation"));
            }
            if !gated {
                out.push(Remedy::new(
                    Change::GatedCell {
                        cells: words(&["lstm", "gru"]),
                    },
                    "a gated cell",
                    "the LSTM's cell state and the GRU's update gate pass the gradient back through time additively, not through the same squashing Jacobian at every step",
                ));
            }
            if rho < 1.0 {
                out.push(Remedy::new(
                    Change::RecurrentScale {
                        init: "orthogonal".into(),
                        rho: 1.0,
                    },
                    "an orthogonal recurrent matrix at scale 1",
                    "with ‖W_hh‖₂ < 1 a linear, tanh or ReLU recurrence (slope at most 1) must shrink the signal at every step back (Pascanu et al. 2013)",
                ));
            }
        }
        DiagnosisKind::Healthy => {}
    }
    out
}

fn remedies(
    kind: DiagnosisKind,
    e: &Evidence,
    ctx: &DiagnosisContext,
    th: &DiagnosisThresholds,
) -> Vec<Remedy> {
    let during = e
        .worst
        .as_ref()
        .is_some_and(|w| w.onset == Onset::DuringTraining);
    let dead_grew = e.dead_units.is_some_and(|t| t.grew);
    let trained = ctx.lr > 0.0;
    let Some(facts) = ctx.model else {
        return general_remedies(kind, during && trained, dead_grew, ctx);
    };
    if let Family::ScalarChain { .. } = facts.family {
        return chain_remedies(kind, during, ctx);
    }
    if let Family::Recurrent { cell, rho, .. } = facts.family {
        return recurrent_remedies(kind, during && trained, cell, rho, ctx);
    }
    // Remedies that name an initialiser or an activation need both known.
    let (Some(activation), Some(init_facts)) = (facts.activation, facts.init) else {
        return general_remedies(kind, during && trained, dead_grew, ctx);
    };
    let mut out = Vec::new();
    let (matched_init, init_name) = init_fit(activation, init_facts.init);
    let saturated = e
        .max_saturated_fraction
        .is_some_and(|s| s.get() > th.saturated_fraction);
    let non_saturating = || {
        Remedy::new(
            Change::Activation {
                activations: words(&["relu", "gelu"]),
            },
            "a non-saturating activation",
            format!(
                "{activation} has a derivative of at most {} and saturates",
                if activation == Activation::Sigmoid {
                    "0.25"
                } else {
                    "1"
                }
            ),
        )
    };
    let residual_on = facts.is_residual();
    let norm_on = facts.is_normalised();
    match kind {
        DiagnosisKind::Exploding => {
            if trained {
                out.push(lower_lr(
                    ctx.lr,
                    "the update, not the architecture, may be what overflows",
                ));
            }
            if !ctx.clipping {
                out.push(clip());
            }
            if !matched_init || init_facts.init.sigma_w > 1.2 {
                out.push(init(
                    init_name,
                    "Xavier/He initialisation",
                    "keeps the product of the layers' norms near 1",
                ));
            }
            if !norm_on {
                out.push(normalise(
                    &["layer", "batch"],
                    "normalisation",
                    "re-scales every layer's signal",
                ));
            }
        }
        DiagnosisKind::Vanishing if during && trained => {
            let why = if dead_grew {
                "the gradient reached the first layer at initialisation; large updates then pushed ReLU units to where they are off for every input, and a dead unit gets no gradient to come back"
            } else {
                "the gradient reached the first layer at initialisation; the updates took the network to where it does not"
            };
            out.push(lower_lr(ctx.lr, why));
            if dead_grew {
                dying_relu(&mut out, activation, matched_init);
            }
            if !residual_on {
                out.push(residual(
                    Some(0.1),
                    "residual connections with a small branch scale",
                    "an identity path carries the gradient past every block, and the small scale keeps the sum of many blocks from blowing up",
                ));
            }
            if !norm_on {
                out.push(normalise(
                    &["batch"],
                    "batch normalisation",
                    "re-centres every unit's pre-activation over the batch at every step, so no unit can drift to where it is off (or saturated) for every input",
                ));
            }
            if activation.saturates() || saturated {
                out.push(non_saturating());
            }
        }
        DiagnosisKind::Vanishing => {
            if !matched_init {
                out.push(init(
                    init_name,
                    "Xavier/He initialisation",
                    "a per-layer factor of 1 at initialisation",
                ));
            }
            if !residual_on {
                out.push(residual(
                    None,
                    "residual connections",
                    "an identity path carries the gradient past every block",
                ));
            }
            if !norm_on {
                out.push(normalise(
                    &["batch", "layer"],
                    "normalisation",
                    "keeps every layer's pre-activations at unit scale",
                ));
            }
            if activation.saturates() || saturated {
                out.push(non_saturating());
            }
            if dead_grew {
                dying_relu(&mut out, activation, matched_init);
            }
        }
        DiagnosisKind::Healthy => {
            if dead_grew {
                if trained {
                    out.push(lower_lr(
                        ctx.lr,
                        "dead ReLU units grew during training: large updates push units to where they are off for every input, and a dead unit gets no gradient to come back",
                    ));
                }
                dying_relu(&mut out, activation, matched_init);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use gradscope_model::{MlpConfig, ModelFacts, ModelSpec};
    use gradscope_record::{LayerSeries, NonFinite, NonFiniteKind, RunKind, SCHEMA_VERSION};

    use super::*;

    /// A record every 5 steps of a 3-layer net whose first layer receives `ratio` of the last
    /// layer's gradient, with `dead` the worst layer's dead-unit fraction.
    fn rec(i: usize, ratio: f64, dead: f64) -> StepRecord {
        let r = |v: f64| Some(Real(v));
        StepRecord {
            schema_version: SCHEMA_VERSION,
            run: RunKind::Real,
            step: 5 * i as u64,
            lr: Real(0.1),
            loss: Real(2.0),
            grad_norm: Real(1.0),
            clipped: false,
            spectral_product: None,
            layers: LayerSeries {
                act_grad_norm: vec![r(ratio), r(ratio.sqrt()), r(1.0)],
                act_dead: vec![r(dead / 2.0), r(dead), r(0.0)],
                ..LayerSeries::default()
            },
            eval: None,
            nonfinite: None,
        }
    }

    /// Records from (ratio, count) runs, with a constant dead fraction.
    fn run(parts: &[(f64, usize)], dead: f64) -> Vec<StepRecord> {
        parts
            .iter()
            .flat_map(|&(ratio, k)| std::iter::repeat_n(ratio, k))
            .enumerate()
            .map(|(i, ratio)| rec(i, ratio, dead))
            .collect()
    }

    fn ctx(lr: f64) -> DiagnosisContext {
        let init = WeightInit::new(InitKind::HeNormal, 1.0);
        DiagnosisContext {
            model: Some(
                ModelSpec::Mlp(MlpConfig::new(64, 10, 128, 30, Activation::Relu, init)).facts(),
            ),
            lr,
            clipping: false,
        }
    }

    fn lowered(lr: f64) -> Change {
        Change::LowerLearningRate {
            now: lr,
            to: lr / 10.0,
        }
    }

    fn leaky() -> Change {
        Change::Activation {
            activations: vec!["leaky_relu".into()],
        }
    }

    fn has(d: &Diagnosis, change: &Change) -> bool {
        d.remedies.iter().any(|r| &r.change == change)
    }

    fn go(records: &[StepRecord]) -> Diagnosis {
        diagnose(records, &ctx(0.1), &DiagnosisThresholds::default())
    }

    const OK: f64 = 1.0;
    const LOW: f64 = 1e-3;

    /// The user's case: healthy at initialisation, a lasting vanishing stretch later, fewer than
    /// half of the records: vanishing, during training, from the stretch's first step.
    #[test]
    fn vanishing_that_appears_during_training_is_the_headline() {
        let records = run(&[(OK, 20), (LOW, 4), (OK, 16)], 0.1);
        let d = go(&records);
        assert_eq!(d.kind, DiagnosisKind::Vanishing, "{}", d.evidence.summary);
        let w = d.evidence.worst.clone().unwrap();
        assert_eq!(w.kind, DiagnosisKind::Vanishing);
        assert_eq!(w.onset, Onset::DuringTraining);
        assert_eq!((w.from_step, w.to_step, w.records), (100, 115, 4));
        assert_eq!(w.extreme_ratio, Some(Real(LOW)));
        let s = &d.evidence.summary;
        assert!(
            s.starts_with("vanishing during training, from step 100 to step 115 (4 records; 4 of 40 records vanish): healthy at initialisation"),
            "{s}"
        );
        assert!(
            s.ends_with("(×1.00 per layer), then as little as 0.00100, below the threshold 1e-2"),
            "{s}"
        );
        assert_eq!(d.remedies[0].change, lowered(0.1));
        assert!(
            d.remedies[0]
                .text
                .starts_with("lower the learning rate (now 0.1): ")
        );
        // The dead fraction stayed low: no dying-ReLU remedy, the architecture ones instead.
        assert!(!has(&d, &leaky()), "{:?}", d.remedies);
        let small_branch = Change::Residual {
            branch_scale: Some(0.1),
        };
        assert!(has(&d, &small_branch), "{:?}", d.remedies);
        let batch = Change::Normalise {
            norms: vec!["batch".into()],
        };
        assert!(has(&d, &batch), "{:?}", d.remedies);
    }

    /// Two records are one unlucky stretch of batches, not a phase: healthy, with the dip named.
    #[test]
    fn a_short_dip_does_not_make_the_run_vanish() {
        let d = go(&run(&[(OK, 20), (LOW, 2), (OK, 18)], 0.1));
        assert_eq!(d.kind, DiagnosisKind::Healthy);
        assert_eq!(d.evidence.worst, None);
        let s = &d.evidence.summary;
        assert!(s.starts_with("healthy over steps 0–195: "), "{s}");
        assert!(
            s.contains(
                "vanishing only briefly (1 stretch of under 3 records, the first at steps 100–105)"
            ),
            "{s}"
        );
        assert!(d.remedies.is_empty(), "{:?}", d.remedies);
    }

    #[test]
    fn vanishing_to_the_end_says_so() {
        let d = go(&run(&[(OK, 30), (LOW, 3)], 0.1));
        assert_eq!(d.kind, DiagnosisKind::Vanishing);
        let w = d.evidence.worst.unwrap();
        assert_eq!(
            (w.from_step, w.to_step, w.onset),
            (150, 160, Onset::DuringTraining)
        );
        assert!(
            d.evidence
                .summary
                .starts_with("vanishing during training, from step 150 to the end (step 160)"),
            "{}",
            d.evidence.summary
        );
    }

    /// Vanishing from the first record is the initialisation's doing: today's remedies (no
    /// learning-rate advice), and the sentence says where it stopped.
    #[test]
    fn vanishing_from_the_start_is_at_initialisation() {
        let init = WeightInit::new(InitKind::XavierNormal, 1.0);
        let ctx = DiagnosisContext {
            model: Some(
                ModelSpec::Mlp(MlpConfig::new(64, 10, 128, 24, Activation::Sigmoid, init)).facts(),
            ),
            lr: 0.03,
            clipping: false,
        };
        let records = run(&[(1e-29, 40)], 0.0);
        let d = diagnose(&records, &ctx, &DiagnosisThresholds::default());
        assert_eq!(d.kind, DiagnosisKind::Vanishing);
        let w = d.evidence.worst.clone().unwrap();
        assert_eq!((w.onset, w.from_step, w.to_step), (Onset::AtInit, 0, 195));
        let s = &d.evidence.summary;
        assert!(
            s.starts_with("vanishing at initialisation (steps 0–195, 40 of 40 records vanish): the first layer receives 1.00e-29 of the last layer's gradient"),
            "{s}"
        );
        assert!(has(&d, &Change::Residual { branch_scale: None }));
        let non_saturating = Change::Activation {
            activations: vec!["relu".into(), "gelu".into()],
        };
        assert!(has(&d, &non_saturating), "{:?}", d.remedies);
        assert!(
            !d.remedies
                .iter()
                .any(|r| matches!(r.change, Change::LowerLearningRate { .. }))
        );

        // A lasting vanishing start that recovers is still named, with where it recovered.
        let d = go(&run(&[(LOW, 5), (OK, 35)], 0.0));
        assert_eq!(d.kind, DiagnosisKind::Vanishing);
        assert_eq!(d.evidence.worst.as_ref().unwrap().onset, Onset::AtInit);
        assert!(
            d.evidence.summary.starts_with(
                "vanishing at initialisation (steps 0–20, 5 of 40 records vanish, then healthy from step 25)"
            ),
            "{}",
            d.evidence.summary
        );
    }

    /// A single probe of the initialisation (`gradscope inspect`) is judged alone, and a probe
    /// of several seeds (lr 0, one record per seed) is never "during training".
    #[test]
    fn probes_of_initialisations_are_at_initialisation() {
        let d = diagnose(
            &run(&[(LOW, 1)], 0.0),
            &ctx(0.0),
            &DiagnosisThresholds::default(),
        );
        assert_eq!(d.kind, DiagnosisKind::Vanishing);
        assert!(
            d.evidence
                .summary
                .starts_with("vanishing at initialisation: ")
        );
        let d = diagnose(
            &run(&[(OK, 1), (LOW, 3)], 0.0),
            &ctx(0.0),
            &DiagnosisThresholds::default(),
        );
        assert_eq!(d.evidence.worst.unwrap().onset, Onset::AtInit);
    }

    /// Exploding beats vanishing: a late blow-up is the headline even after a long vanishing
    /// start, with the step it happened at.
    #[test]
    fn a_late_explosion_beats_an_earlier_vanishing_phase() {
        let mut records = run(&[(LOW, 10), (OK, 10), (1e4, 1), (OK, 3)], 0.1);
        let d = go(&records);
        assert_eq!(d.kind, DiagnosisKind::Exploding);
        let w = d.evidence.worst.clone().unwrap();
        assert_eq!(w.kind, DiagnosisKind::Exploding);
        assert_eq!(
            (w.onset, w.from_step, w.to_step),
            (Onset::DuringTraining, 100, 100)
        );
        assert_eq!(w.extreme_ratio, Some(Real(1e4)));
        assert!(
            d.evidence
                .summary
                .starts_with("exploding during training, from step 100 (step 100): "),
            "{}",
            d.evidence.summary
        );
        let kinds: Vec<_> = d.evidence.phases.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                DiagnosisKind::Vanishing,
                DiagnosisKind::Healthy,
                DiagnosisKind::Exploding,
                DiagnosisKind::Healthy
            ]
        );

        // A non-finite value marks the phase it is in, whatever came before.
        records.truncate(23);
        records[22].nonfinite = Some(NonFinite {
            step: 110,
            layer: 2,
            layer_name: "blocks.1".into(),
            kind: NonFiniteKind::ForwardActivation,
        });
        records[22].layers.act_grad_norm[0] = Some(Real(f64::NAN));
        let d = go(&records);
        let w = d.evidence.worst.clone().unwrap();
        assert_eq!((w.from_step, w.to_step), (110, 110));
        assert!(
            d.evidence.summary.starts_with(
                "exploding during training, from step 110 (step 110): the first non-finite value is a forward activation at step 110 in blocks.1 (layer 2)"
            ),
            "{}",
            d.evidence.summary
        );
    }

    /// A loss spike is an exploding record, so it has a phase and a step range.
    #[test]
    fn a_loss_spike_is_an_exploding_phase() {
        let mut records = run(&[(OK, 30)], 0.1);
        records[25].loss = Real(100.0);
        let d = go(&records);
        assert_eq!(d.kind, DiagnosisKind::Exploding);
        assert_eq!(d.evidence.loss_spikes, vec![125]);
        let w = d.evidence.worst.unwrap();
        assert_eq!(
            (w.from_step, w.to_step, w.onset),
            (125, 125, Onset::DuringTraining)
        );
    }

    /// A recurrent net is judged through time: the ratio is ‖∂L/∂h‖ at the first layer's first
    /// step over the top layer's last (here 0.5 per step over 20 steps: 0.5¹⁹ ≈ 1.9e-6, though
    /// the two layers' outputs are equal), the sentence says so, and a tanh cell is offered
    /// the gated cells. A gated cell whose signal survives is healthy.
    #[test]
    fn recurrent_nets_are_judged_through_time() {
        let with_time = |rate: f64| {
            let mut records = run(&[(OK, 10)], 0.0);
            for r in &mut records {
                r.layers.act_grad_norm = vec![Some(Real(1.0)), Some(Real(1.0))];
                r.layers.act_grad_norm_time = (0..2)
                    .map(|_| (1..=20).map(|t| Some(Real(rate.powi(20 - t)))).collect())
                    .collect();
            }
            records
        };
        let rnn = |cell| {
            ModelSpec::Rnn(gradscope_model::RnnConfig {
                input_dim: 20,
                output_dim: 1,
                step_features: 1,
                width: 16,
                depth: 2,
                cell,
                init: WeightInit::new(InitKind::XavierNormal, 1.0),
                recurrent_init: gradscope_model::RecurrentInit::Orthogonal,
                rho: 1.0,
                forget_bias: 1.0,
            })
        };
        let ctx = |cell| DiagnosisContext {
            model: Some(rnn(cell).facts()),
            lr: 0.01,
            clipping: true,
        };
        let th = DiagnosisThresholds::default();
        let d = diagnose(&with_time(0.5), &ctx(gradscope_model::Cell::Tanh), &th);
        assert_eq!(d.kind, DiagnosisKind::Vanishing);
        assert!(d.evidence.through_time);
        let ratio = d.evidence.first_to_last_ratio.unwrap().get();
        assert!((ratio - 0.5f64.powi(19)).abs() < 1e-12, "{ratio}");
        let per = d.evidence.per_layer_rate.unwrap().get();
        assert!((per - 0.5).abs() < 1e-12, "{per}");
        let s = &d.evidence.summary;
        assert!(
            s.starts_with("vanishing through time at initialisation"),
            "{s}"
        );
        assert!(
            s.contains(
                "the first time step receives 1.91e-6 of the last step's gradient (×0.500 per step)"
            ),
            "{s}"
        );
        let gated = Change::GatedCell {
            cells: vec!["lstm".into(), "gru".into()],
        };
        assert!(has(&d, &gated), "{:?}", d.remedies);
        let d = diagnose(&with_time(0.99), &ctx(gradscope_model::Cell::Lstm), &th);
        assert_eq!(d.kind, DiagnosisKind::Healthy, "{}", d.evidence.summary);
        assert!(d.remedies.is_empty());
    }

    /// The remedies follow the facts, not the type: a network of one's own that states its
    /// activation and init gets the remedies a built-in MLP with the same facts gets; one that
    /// states nothing gets the general ones; the scalar chain gets w's. None names a config key
    /// (the config layer adds those).
    #[test]
    fn remedies_follow_the_facts() {
        let records = run(&[(1e-29, 40)], 0.0);
        let init = WeightInit::new(InitKind::XavierNormal, 1.0);
        let builtin = ModelSpec::Mlp(MlpConfig::new(64, 10, 128, 24, Activation::Sigmoid, init));
        let own = ModelFacts {
            activation: Some(Activation::Sigmoid),
            init: builtin.facts().init,
            ..ModelFacts::stack(24)
        };
        let with = |model: Option<ModelFacts>| {
            let ctx = DiagnosisContext {
                model,
                lr: 0.03,
                clipping: false,
            };
            diagnose(&records, &ctx, &DiagnosisThresholds::default()).remedies
        };
        let changes = |r: &[Remedy]| r.iter().map(|r| r.change.clone()).collect::<Vec<_>>();
        assert_eq!(
            changes(&with(Some(own))),
            changes(&with(Some(builtin.facts())))
        );
        let general = with(None);
        assert!(
            general
                .iter()
                .any(|r| r.change == Change::Init { init: None })
        );
        let chain = ModelSpec::Chain(gradscope_model::ChainConfig {
            depth: 24,
            w: 0.5,
            b: 0.0,
            tied: true,
            head: None,
            activation: None,
        });
        assert_eq!(
            changes(&with(Some(chain.facts()))),
            vec![Change::WeightTowardOne]
        );
        for r in with(Some(own)).iter().chain(&general) {
            assert!(
                r.settings.is_empty() && !r.text.contains("model."),
                "{}",
                r.text
            );
        }
    }

    /// ReLU units dying during training: the numbers, the sentence, the remedies; and none of it
    /// when the dead fraction stays low or was high from the start.
    #[test]
    fn dead_units_that_grow_bring_the_dying_relu_remedies() {
        let mut records = run(&[(OK, 20), (LOW, 4), (OK, 16)], 0.0);
        let dead = |i: usize| {
            if i < 10 {
                0.02
            } else {
                0.73 - 0.001 * i as f64
            }
        };
        for (i, r) in records.iter_mut().enumerate() {
            r.layers.act_dead = vec![Some(Real(0.0)), Some(Real(dead(i))), None];
        }
        let d = go(&records);
        let t = d.evidence.dead_units.unwrap();
        assert!(t.grew);
        assert_eq!((t.first_step, t.first), (0, Real(0.02)));
        assert_eq!((t.peak_step, t.peak_layer), (50, 2));
        assert!((t.peak.get() - 0.72).abs() < 1e-12);
        assert_eq!(t.last_step, 195);
        let s = &d.evidence.summary;
        assert!(
            s.contains("; dead ReLU units in the worst layer grew from 2 % at step 0 to 72 % by step 50 (layer 2), 69 % at step 195"),
            "{s}"
        );
        assert_eq!(d.kind, DiagnosisKind::Vanishing);
        assert_eq!(d.remedies[0].change, lowered(0.1));
        assert_eq!(d.remedies[1].change, leaky(), "{:?}", d.remedies);
        // He init is already used: not offered again.
        assert!(
            !d.remedies
                .iter()
                .any(|r| matches!(r.change, Change::Init { .. }))
        );

        // The same growth in a healthy run still gets the dying-ReLU remedies.
        let mut healthy = records.clone();
        for r in &mut healthy {
            r.layers.act_grad_norm[0] = Some(Real(OK));
        }
        let d = go(&healthy);
        assert_eq!(d.kind, DiagnosisKind::Healthy);
        assert!(
            d.evidence
                .summary
                .contains("dead ReLU units in the worst layer grew")
        );
        assert!(has(&d, &leaky()));

        // Low all along, or high from the start: not "grew".
        for flat in [0.1, 0.6] {
            let mut r = records.clone();
            for x in &mut r {
                x.layers.act_dead = vec![Some(Real(flat)), None, None];
            }
            let d = go(&r);
            assert!(!d.evidence.dead_units.unwrap().grew);
            assert!(!d.evidence.summary.contains("dead ReLU"));
            assert!(!has(&d, &leaky()), "{flat}");
        }

        // Above the threshold for two records only: not lasting, not "grew".
        let mut r = records.clone();
        for (i, x) in r.iter_mut().enumerate() {
            let v = if (10..12).contains(&i) { 0.8 } else { 0.1 };
            x.layers.act_dead = vec![Some(Real(v))];
        }
        assert!(!go(&r).evidence.dead_units.unwrap().grew);
    }

    /// No records: healthy, nothing to show, no panic.
    #[test]
    fn no_records_is_healthy_and_empty() {
        let d = go(&[]);
        assert_eq!(d.kind, DiagnosisKind::Healthy);
        assert_eq!(d.evidence.worst, None);
        assert_eq!(d.evidence.dead_units, None);
        assert!(d.evidence.phases.is_empty());
    }
}
