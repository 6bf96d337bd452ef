//! `gradscope inspect`: a network at initialisation, layer by layer, beside the theory.

use burn::tensor::{Tensor, TensorData};
use gradscope_config::Experiment;
use gradscope_data::{BatchSampler, SeededRng};
use gradscope_diagnostics::{
    Diagnosis, DiagnosisContext, Real, RecordOptions, RecurrenceTheory, RunKind, StepMeasure,
    TheoryCase, diagnose, gradient_ratio, locate, probe,
};
use serde::Serialize;

use crate::batches::batch;
use crate::error::Result;
use crate::experiment::{build_model, prepare};

/// One layer of the inspection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectLayer {
    /// 1 = first hidden layer.
    pub index: usize,
    /// Layer name.
    pub name: String,
    /// ‖∂L/∂h_l‖, geometric mean over seeds.
    pub activation_grad_norm: Real,
    /// ‖∂L/∂W_l‖, geometric mean over seeds.
    pub weight_grad_norm: Option<Real>,
    /// Standard deviation of h_l, mean over seeds.
    pub activation_std: Option<Real>,
    /// Mean of h_l, mean over seeds.
    pub activation_mean: Option<Real>,
    /// Saturated fraction (tanh, sigmoid), mean over seeds.
    pub saturated_fraction: Option<Real>,
    /// Dead-unit fraction (ReLU), mean over seeds.
    pub dead_fraction: Option<Real>,
    /// Spectral norm of the layer's weights, geometric mean over seeds.
    pub spectral_norm: Option<Real>,
    /// Theory's ‖∂L/∂h_l‖, anchored at the measured last layer (`null` where theory has no
    /// prediction for this architecture).
    pub predicted_activation_grad_norm: Option<Real>,
}

/// The whole inspection (`gradscope inspect --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    /// Experiment name.
    pub name: String,
    /// Model, one line.
    pub model: String,
    /// Data set, one line.
    pub dataset: String,
    /// Seeds averaged over.
    pub seeds: usize,
    /// Batch size of each probe.
    pub batch: usize,
    /// What was back-propagated.
    pub probe_loss: ProbeLoss,
    /// Per layer.
    pub layers: Vec<InspectLayer>,
    /// The theory used for the prediction.
    pub theory: Option<TheoryCase>,
    /// Measured per-layer factor of ‖∂L/∂h‖ (last → first, geometric mean).
    pub measured_per_layer_rate: Option<Real>,
    /// Predicted per-layer factor.
    pub predicted_per_layer_rate: Option<Real>,
    /// The backward signal through time, for a recurrent network.
    pub through_time: Option<ThroughTime>,
    /// Diagnosis at initialisation.
    pub diagnosis: Diagnosis,
}

/// One recurrent layer through time, at initialisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeLayer {
    /// 1 = the lowest recurrent layer.
    pub index: usize,
    /// ‖W_hh‖₂ of its state matrix, geometric mean over seeds.
    pub recurrent_spectral_norm: Option<Real>,
    /// ρ(W_hh), geometric mean over seeds.
    pub recurrent_spectral_radius: Option<Real>,
    /// ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ within the layer, geometric mean over seeds.
    pub first_to_last: Option<Real>,
    /// Its (T − 1)-th root: the factor per step back in time.
    pub per_step_rate: Option<Real>,
}

/// The backward signal through time of a recurrent network at initialisation, beside the theory
/// for its top layer (the only one whose signal through time comes from its own later steps
/// alone; a lower layer's also receives the layer above's at every step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThroughTime {
    /// Time steps T.
    pub steps: usize,
    /// Per recurrent layer.
    pub layers: Vec<TimeLayer>,
    /// The theory.
    pub theory: RecurrenceTheory,
    /// The most the top layer's signal can grow per step back, γ·‖W_hh‖₂ (Pascanu et al.
    /// 2013), where the cell has one fixed slope bound γ.
    pub bound_per_step: Option<Real>,
}

/// The through-time section of an inspection, from each seed's measures.
fn through_time(measures: &[StepMeasure], theory: Option<RecurrenceTheory>) -> Option<ThroughTime> {
    let theory = theory?;
    let depth = measures.first()?.layers.len();
    let steps = measures.first()?.layers.first()?.act_grad_norm_time.len();
    let geo = |v: Vec<f64>| (!v.is_empty()).then(|| Real(geo_mean(v.into_iter())));
    let layers: Vec<TimeLayer> = (0..depth)
        .map(|l| {
            let of = |f: &dyn Fn(&gradscope_diagnostics::LayerMeasure) -> Option<f64>| {
                geo(measures
                    .iter()
                    .filter_map(|m| f(m.layers.get(l)?))
                    .collect())
            };
            let first_to_last = of(&|x| {
                let t = &x.act_grad_norm_time;
                Some(t.first().copied()?? / t.last().copied()??)
            });
            TimeLayer {
                index: l + 1,
                recurrent_spectral_norm: of(&|x| x.recurrent_spectral_norm),
                recurrent_spectral_radius: of(&|x| x.recurrent_spectral_radius),
                first_to_last,
                per_step_rate: first_to_last
                    .filter(|_| steps > 1)
                    .map(|r| Real(r.get().powf(1.0 / (steps - 1) as f64))),
            }
        })
        .collect();
    let bound_per_step = theory.gamma.and_then(|g| {
        let norm = layers.last()?.recurrent_spectral_norm?;
        Some(Real(g * norm.get()))
    });
    Some(ThroughTime {
        steps,
        layers,
        theory,
        bound_per_step,
    })
}

fn geo_mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    if v.iter().any(|x| !x.is_finite()) {
        return v.into_iter().find(|x| !x.is_finite()).unwrap_or(f64::NAN);
    }
    if v.contains(&0.0) {
        return 0.0;
    }
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len().max(1) as f64).exp()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// What is back-propagated from the output in a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeLoss {
    /// `L = Σ y ⊙ r` with a fixed random `r ~ N(0, 1)`: the backward pass starts from a random
    /// direction independent of the network, which is what mean-field theory assumes (the
    /// gradient-independence assumption). The default.
    Readout,
    /// The config's loss on the batch's targets. Its top gradient depends on the network's own
    /// output, which correlates the backward pass with the forward one (for a linear net with
    /// σ_w² = 2 the first-to-last ratio comes out about 25 % above the theory).
    Data,
}

/// Probes the experiment's model at initialisation with `seeds` seeds and batches of `batch_size`.
pub fn inspect(
    exp: &Experiment,
    seeds: usize,
    batch_size: usize,
    probe_loss: ProbeLoss,
    max_memory: Option<u64>,
) -> Result<InspectReport> {
    crate::pool::on_pool(|| inspect_here(exp, seeds, batch_size, probe_loss, max_memory))
}

fn inspect_here(
    exp: &Experiment,
    seeds: usize,
    batch_size: usize,
    probe_loss: ProbeLoss,
    max_memory: Option<u64>,
) -> Result<InspectReport> {
    let (data, spec, loss) = prepare(exp)?;
    let mut need = crate::experiment::workload(exp, &data, &spec, 1);
    need.batch = batch_size;
    need.optimizer_slots = 0;
    crate::memory::check(
        &format!("{} ({})", exp.name, spec.describe()),
        &need,
        max_memory,
    )?;
    let device = exp.backend.autodiff_device();
    let depth = spec.depth();
    let mut measures: Vec<StepMeasure> = Vec::new();
    let mut records = Vec::new();
    let mut input_ms = Vec::new();
    for s in 0..seeds.max(1) {
        let net = build_model(&spec, exp.seed.wrapping_add(s as u64), &device);
        let mut sampler = BatchSampler::new(
            data.train.n,
            batch_size,
            exp.data_seed.wrapping_add(s as u64),
        );
        let b = batch(&data.train, &sampler.next_indices(), &device);
        input_ms.push(b.x.clone().square().mean().into_scalar::<f32>() as f64);
        let options = RecordOptions {
            update_ratios: false,
            ..RecordOptions::default()
        };
        let m = match probe_loss {
            ProbeLoss::Data => probe(&net, b.x.clone(), |y| loss.compute(y, &b.target), options),
            ProbeLoss::Readout => {
                let outputs = data.task.output_dim();
                let mut rng =
                    SeededRng::new(exp.data_seed.wrapping_add(1_000_003 * (s as u64 + 1)));
                let r: Vec<f32> = (0..b.rows * outputs).map(|_| rng.normal() as f32).collect();
                let r = Tensor::<2>::from_data(TensorData::new(r, [b.rows, outputs]), &device);
                probe(&net, b.x.clone(), |y| y.mul(r).sum(), options)
            }
        };
        let mut r = m.to_record(RunKind::Real, s as u64, 0.0, false);
        r.nonfinite = locate(0, &m, |l| spec.layer_name(l));
        records.push(r);
        measures.push(m);
    }
    let per_layer = |l: usize, f: &dyn Fn(&StepMeasure) -> Option<f64>| -> Vec<f64> {
        measures
            .iter()
            .filter_map(|m| f(m).filter(|_| l < m.layers.len()))
            .collect()
    };
    let mut layers = Vec::with_capacity(depth);
    for l in 0..depth {
        let act_grad = geo_mean(per_layer(l, &|m| m.layers[l].act_grad_norm).into_iter());
        let opt = |values: Vec<f64>, geo: bool| {
            (!values.is_empty()).then(|| {
                Real(if geo {
                    geo_mean(values.into_iter())
                } else {
                    mean(values.into_iter())
                })
            })
        };
        layers.push(InspectLayer {
            index: l + 1,
            name: spec.layer_name(l + 1),
            activation_grad_norm: Real(act_grad),
            weight_grad_norm: opt(per_layer(l, &|m| m.layers[l].weight_grad_norm), true),
            activation_std: opt(per_layer(l, &|m| m.layers[l].act_std), false),
            activation_mean: opt(per_layer(l, &|m| m.layers[l].act_mean), false),
            saturated_fraction: opt(per_layer(l, &|m| m.layers[l].act_saturated), false),
            dead_fraction: opt(per_layer(l, &|m| m.layers[l].act_dead), false),
            spectral_norm: opt(per_layer(l, &|m| m.layers[l].spectral_norm), true),
            predicted_activation_grad_norm: None,
        });
    }
    let first_out_ms = mean(measures.iter().filter_map(|m| {
        let l = m.layers.first()?;
        Some(l.act_mean? * l.act_mean? + l.act_std? * l.act_std?)
    }));
    let theory = TheoryCase::for_model(&spec.facts(), mean(input_ms.into_iter()), first_out_ms);
    let last = layers.last().map(|l| l.activation_grad_norm.get());
    if let (Some(case), Some(last)) = (theory, last.filter(|x| x.is_finite())) {
        for (layer, p) in layers.iter_mut().zip(case.predicted_norms(depth, last)) {
            layer.predicted_activation_grad_norm = Some(Real(p));
        }
    }
    let measured: Vec<f64> = layers
        .iter()
        .map(|l| l.activation_grad_norm.get())
        .collect();
    let predicted: Option<Vec<f64>> = layers
        .iter()
        .map(|l| l.predicted_activation_grad_norm.map(Real::get))
        .collect();
    let through_time = through_time(&measures, RecurrenceTheory::for_model(&spec.facts()));
    let ctx = DiagnosisContext {
        model: Some(spec.facts()),
        lr: 0.0,
        clipping: exp.optim.clipping(),
    };
    Ok(InspectReport {
        name: exp.name.clone(),
        model: spec.describe(),
        dataset: data.description.clone(),
        seeds: seeds.max(1),
        batch: batch_size,
        probe_loss,
        measured_per_layer_rate: gradient_ratio(&measured).map(|(_, r)| Real(r)),
        predicted_per_layer_rate: predicted
            .as_deref()
            .and_then(gradient_ratio)
            .map(|(_, r)| Real(r)),
        layers,
        theory,
        through_time,
        diagnosis: gradscope_config::with_config_settings(diagnose(&records, &ctx, &exp.diagnosis)),
    })
}

fn fmt(v: Option<Real>) -> String {
    match v {
        None => "-".into(),
        Some(r) => {
            let x = r.get();
            if !x.is_finite() {
                r.to_string()
            } else {
                format!("{x:.3e}")
            }
        }
    }
}

/// The through-time section of [`inspect_table`].
fn through_time_table(t: &ThroughTime) -> String {
    let mut s = format!(
        "through time ({} steps; |dL/dh_t| within each recurrent layer):\n{:>5} {:>11} {:>11} {:>11} {:>9}\n",
        t.steps, "layer", "|W_hh|_2", "rho(W_hh)", "first/last", "per step"
    );
    for l in &t.layers {
        s.push_str(&format!(
            "{:>5} {:>11} {:>11} {:>11} {:>9}\n",
            l.index,
            fmt(l.recurrent_spectral_norm),
            fmt(l.recurrent_spectral_radius),
            fmt(l.first_to_last),
            l.per_step_rate
                .map_or("-".into(), |x| format!("{:.5}", x.get())),
        ));
    }
    let top = t.layers.last().and_then(|l| l.per_step_rate);
    if let (Some(p), Some(m)) = (t.theory.per_step, top) {
        s.push_str(&format!(
            "factor per step back (top layer): measured {:.6}, theory {p:.6} (a linear recurrence \
             with W_hh = rho*Q scales |dL/dh_t| by exactly rho per step back)\n",
            m.get()
        ));
    }
    if let (Some(b), Some(g)) = (t.bound_per_step, t.theory.gamma) {
        let verdict = if b.get() < 1.0 {
            "below 1: the signal through time must vanish"
        } else {
            "not below 1: vanishing is not forced"
        };
        s.push_str(&format!(
            "bound (Pascanu et al. 2013): at most gamma x |W_hh|_2 = {g} x {} = {} per step back, {verdict}\n",
            fmt(t.layers.last().and_then(|l| l.recurrent_spectral_norm)),
            fmt(Some(b)),
        ));
    }
    s.push('\n');
    s
}

/// The inspection as a table for people.
pub fn inspect_table(r: &InspectReport) -> String {
    let mut s = format!(
        "{}\n  model: {}\n  data:  {}\n  at initialisation, {} seed(s), batch {}, back-propagating {}\n\n",
        r.name,
        r.model,
        r.dataset,
        r.seeds,
        r.batch,
        match r.probe_loss {
            ProbeLoss::Readout => "a random output direction",
            ProbeLoss::Data => "the config's loss",
        }
    );
    s.push_str(&format!(
        "{:>5} {:>11} {:>11} {:>11} {:>9} {:>9} {:>7} {:>7}\n",
        "layer", "|dL/dh|", "theory", "|dL/dW|", "act std", "spectral", "satur.", "dead"
    ));
    for l in &r.layers {
        s.push_str(&format!(
            "{:>5} {:>11} {:>11} {:>11} {:>9} {:>9} {:>7} {:>7}\n",
            l.index,
            fmt(Some(l.activation_grad_norm)),
            fmt(l.predicted_activation_grad_norm),
            fmt(l.weight_grad_norm),
            fmt(l.activation_std),
            fmt(l.spectral_norm),
            l.saturated_fraction
                .map_or("-".into(), |x| format!("{:.2}", x.get())),
            l.dead_fraction
                .map_or("-".into(), |x| format!("{:.2}", x.get())),
        ));
    }
    s.push('\n');
    if let Some(m) = r.measured_per_layer_rate {
        s.push_str(&format!(
            "per-layer factor of |dL/dh| (last -> first): measured {}",
            fmt(Some(m))
        ));
        if let Some(p) = r.predicted_per_layer_rate {
            s.push_str(&format!(", theory {}", fmt(Some(p))));
        }
        s.push('\n');
    }
    if let Some(t) = &r.through_time {
        s.push_str(&through_time_table(t));
    }
    s.push_str(&format!("diagnosis: {}\n", r.diagnosis.evidence.summary));
    for remedy in &r.diagnosis.remedies {
        s.push_str(&format!("  - {remedy}\n"));
    }
    s
}
