//! From measurements to a verdict: vanishing, exploding or healthy, with the evidence and the
//! remedies that fit.
//!
//! The rule, with its thresholds in [`DiagnosisThresholds`]:
//!
//! - for every record, the **first-to-last ratio** ‖∂L/∂h_1‖ / ‖∂L/∂h_L‖ says how much of the
//!   back-propagated signal reaches the first layer; below `vanishing_ratio` the record counts as
//!   vanishing, above `exploding_ratio` as exploding. The **per-layer rate** is that ratio's
//!   (L−1)-th root: the average factor one layer applies to the backward signal;
//! - a non-finite value anywhere, or a **loss spike** (a loss above `spike_factor` times the
//!   running median of the previous `spike_window` losses *and* above the first recorded loss,
//!   so that a well-trained net whose tiny loss jumps back to a small value is not called
//!   exploding), makes the run exploding;
//! - otherwise the run is vanishing when at least half of its records are, else healthy.
//!
//! Consecutive records of the same kind form **phases**, so a run that starts vanishing and ends
//! healthy (or explodes late) shows both.

use gradscope_model::{Activation, InitKind, ModelSpec, NormKind};
pub use gradscope_record::{Diagnosis, DiagnosisKind, DiagnosisThresholds, Evidence, Phase};
use gradscope_record::{Real, StepRecord};

/// What the remedies may depend on: the model and the optimiser settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiagnosisContext {
    /// The model.
    pub model: ModelSpec,
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

fn record_kind(r: &StepRecord, th: &DiagnosisThresholds) -> DiagnosisKind {
    if r.nonfinite.is_some() || !r.loss.is_finite() {
        return DiagnosisKind::Exploding;
    }
    match gradient_ratio(&r.act_grad_norms()) {
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

/// Diagnoses a run from its records (in step order).
pub fn diagnose(
    records: &[StepRecord],
    ctx: &DiagnosisContext,
    th: &DiagnosisThresholds,
) -> Diagnosis {
    let kinds: Vec<DiagnosisKind> = records.iter().map(|r| record_kind(r, th)).collect();
    let mut phases: Vec<Phase> = Vec::new();
    for (r, &k) in records.iter().zip(&kinds) {
        match phases.last_mut() {
            Some(p) if p.kind == k => p.to_step = r.step,
            _ => phases.push(Phase {
                from_step: r.step,
                to_step: r.step,
                kind: k,
            }),
        }
    }
    let first_nonfinite = records.iter().find_map(|r| r.nonfinite.clone());
    let spikes = loss_spikes(records, th);
    let vanishing = kinds
        .iter()
        .filter(|&&k| k == DiagnosisKind::Vanishing)
        .count();
    let kind = if first_nonfinite.is_some()
        || !spikes.is_empty()
        || kinds.contains(&DiagnosisKind::Exploding)
    {
        DiagnosisKind::Exploding
    } else if !kinds.is_empty() && 2 * vanishing >= kinds.len() {
        DiagnosisKind::Vanishing
    } else {
        DiagnosisKind::Healthy
    };
    let at = |r: Option<&StepRecord>| r.and_then(|r| gradient_ratio(&r.act_grad_norms()));
    let first = at(records.first());
    let last = at(records.last());
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
        phases,
    };
    let summary = summarise(kind, &evidence, th);
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

fn summarise(kind: DiagnosisKind, e: &Evidence, th: &DiagnosisThresholds) -> String {
    let ratio = e
        .first_to_last_ratio
        .map(|r| {
            format!(
                "the first layer receives {} of the last layer's gradient (×{} per layer)",
                gradscope_record::format_sig(r.get(), 3),
                gradscope_record::format_sig(e.per_layer_rate.map_or(f64::NAN, Real::get), 3)
            )
        })
        .unwrap_or_else(|| "too few layers to compare".into());
    match kind {
        DiagnosisKind::Vanishing => format!(
            "vanishing: {ratio}, below the threshold {:.0e}",
            th.vanishing_ratio
        ),
        DiagnosisKind::Exploding => {
            if let Some(nf) = &e.first_nonfinite {
                format!(
                    "exploding: the first non-finite value is a {} at step {} in {} (layer {})",
                    nf.kind.name().replace('_', " "),
                    nf.step,
                    nf.layer_name,
                    nf.layer
                )
            } else if !e.loss_spikes.is_empty() {
                format!(
                    "exploding: the loss spiked above {}× its running median at {} step(s), first at step {}; {ratio}",
                    th.spike_factor,
                    e.loss_spikes.len(),
                    e.loss_spikes[0]
                )
            } else {
                format!(
                    "exploding: {ratio}, above the threshold {:.0e}",
                    th.exploding_ratio
                )
            }
        }
        DiagnosisKind::Healthy => format!("healthy: {ratio}"),
    }
}

fn remedies(
    kind: DiagnosisKind,
    e: &Evidence,
    ctx: &DiagnosisContext,
    th: &DiagnosisThresholds,
) -> Vec<String> {
    let mut out = Vec::new();
    let ModelSpec::Mlp(m) = ctx.model else {
        match kind {
            DiagnosisKind::Vanishing => out.push(
                "use |w| closer to 1: the chain scales the gradient k layers down by w^k".into(),
            ),
            DiagnosisKind::Exploding => {
                out.push("use |w| closer to 1, or fewer layers: w^k overflows".into());
                if ctx.lr > 0.0 {
                    out.push(format!("lower the learning rate (now {})", ctx.lr));
                }
            }
            DiagnosisKind::Healthy => {}
        }
        return out;
    };
    let matched_init = match m.activation {
        Activation::Relu | Activation::LeakyRelu | Activation::Gelu | Activation::Silu => {
            matches!(
                m.init.kind,
                InitKind::HeNormal | InitKind::HeUniform | InitKind::Orthogonal
            ) && (m.init.sigma_w - 1.0).abs() < 0.2
        }
        _ => {
            matches!(
                m.init.kind,
                InitKind::XavierNormal
                    | InitKind::XavierUniform
                    | InitKind::LecunNormal
                    | InitKind::Orthogonal
            ) && (m.init.sigma_w - 1.0).abs() < 0.2
        }
    };
    let init_name = match m.activation {
        Activation::Relu | Activation::LeakyRelu | Activation::Gelu | Activation::Silu => {
            "he_normal"
        }
        _ => "xavier_normal",
    };
    match kind {
        DiagnosisKind::Exploding => {
            if ctx.lr > 0.0 {
                out.push(format!(
                    "lower the learning rate (optim.lr, now {}): the update, not the architecture, may be what overflows",
                    ctx.lr
                ));
            }
            if !ctx.clipping {
                out.push("gradient clipping by global norm (optim.clip_norm = 1.0): bounds every step whatever the gradient".into());
            }
            if !matched_init || m.init.sigma_w > 1.2 {
                out.push(format!(
                    "Xavier/He initialisation (model.init = \"{init_name}\", model.sigma_w = 1): keeps the product of the layers' norms near 1"
                ));
            }
            if m.norm == NormKind::None {
                out.push("normalisation (model.norm = \"layer\" or \"batch\"): re-scales every layer's signal".into());
            }
        }
        DiagnosisKind::Vanishing => {
            if !matched_init {
                out.push(format!(
                    "Xavier/He initialisation (model.init = \"{init_name}\", model.sigma_w = 1): a per-layer factor of 1 at initialisation"
                ));
            }
            if !m.residual {
                out.push("residual connections (model.residual = true): an identity path carries the gradient past every block".into());
            }
            if m.norm == NormKind::None {
                out.push("normalisation (model.norm = \"batch\" or \"layer\"): keeps every layer's pre-activations at unit scale".into());
            }
            let saturated = e
                .max_saturated_fraction
                .is_some_and(|s| s.get() > th.saturated_fraction);
            if m.activation.saturates() || saturated {
                out.push(format!(
                    "a non-saturating activation (model.activation = \"relu\" or \"gelu\"): {} has a derivative of at most {} and saturates",
                    m.activation,
                    if m.activation == Activation::Sigmoid { "0.25" } else { "1" }
                ));
            }
        }
        DiagnosisKind::Healthy => {}
    }
    out
}
