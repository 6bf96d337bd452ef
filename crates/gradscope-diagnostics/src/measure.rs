//! One step's measurements: everything per layer, reduced on the device and read back once.
//!
//! The flow of a recorded step is
//!
//! 1. forward with a [`Tap`] as the observer, loss, `backward()`;
//! 2. [`Recorder::after_backward`]: per-layer squared sums of activation gradients, parameter
//!    gradients and weights, spectral-norm estimates, and the global gradient norm, all as device
//!    tensors (nothing read back yet; the global norm is available for clipping);
//! 3. the optimiser step;
//! 4. [`PendingStep::finish`]: update-to-weight ratios against the new weights, then every
//!    scalar stacked into one tensor and read back in one transfer.

use std::collections::HashMap;

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::tensor::{Gradients, Tensor};
use gradscope_model::{CollectedParam, Network, ParamCollector, collect_params};

use gradscope_record::{LayerSeries, Real, RunKind, SCHEMA_VERSION, StepRecord};

use crate::spectral::SpectralState;
use crate::tap::{Tap, count_nonfinite};

/// What a recorded step measures beyond the loss, gradient norms and activation gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordOptions {
    /// Activation statistics (mean, spread, saturated and dead fractions, non-finite count).
    pub activation_stats: bool,
    /// Weight norms (Frobenius and spectral).
    pub weight_norms: bool,
    /// Update-to-weight ratios ‖ΔW‖/‖W‖ after the optimiser step.
    pub update_ratios: bool,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            activation_stats: true,
            weight_norms: true,
            update_ratios: true,
        }
    }
}

/// Host-side measurements of one layer at one step. `None` means "not measured" or "not
/// applicable" (a dead fraction for tanh); non-finite values are kept as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerMeasure {
    /// ‖∂L/∂h_l‖, the back-propagated signal at the layer's output.
    pub act_grad_norm: Option<f64>,
    /// ‖∂L/∂W‖ over the layer's weight matrices (rank-2 parameters).
    pub weight_grad_norm: Option<f64>,
    /// ‖∂L/∂b‖ over the layer's other trainable parameters (biases, norm scales, α).
    pub bias_grad_norm: Option<f64>,
    /// Frobenius norm of the layer's weight matrices.
    pub weight_norm: Option<f64>,
    /// Product of the spectral norms of the layer's weight matrices.
    pub spectral_norm: Option<f64>,
    /// ‖W_after − W_before‖ / ‖W_before‖ over the step.
    pub update_ratio: Option<f64>,
    /// Mean of the layer's output over batch and units.
    pub act_mean: Option<f64>,
    /// Standard deviation (population) of the layer's output.
    pub act_std: Option<f64>,
    /// Fraction of saturated entries (tanh: |h| > 0.99; sigmoid: within 0.01 of 0 or 1).
    pub act_saturated: Option<f64>,
    /// Fraction of dead units (ReLU output 0 for the whole batch).
    pub act_dead: Option<f64>,
    /// Number of non-finite entries of the output.
    pub act_nonfinite: Option<u64>,
    /// Whether the weights after the step are all finite.
    pub weight_after_finite: Option<bool>,
}

/// Host-side measurements of one step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepMeasure {
    /// The loss.
    pub loss: f64,
    /// Global L2 norm of all parameter gradients, before any clipping.
    pub grad_norm: f64,
    /// Per-layer measurements, index 0 = layer 1.
    pub layers: Vec<LayerMeasure>,
    /// Whether any parameter outside the layers (the head, shared parameters) has a non-finite
    /// gradient.
    pub other_grad_nonfinite: bool,
}

fn reals(v: impl Iterator<Item = Option<f64>>) -> Vec<Option<Real>> {
    v.map(|x| x.map(Real)).collect()
}

impl StepMeasure {
    /// The measurements as a record of the `metrics.jsonl` format (without evaluation or
    /// non-finite location, which the caller adds).
    pub fn to_record(&self, run: RunKind, step: u64, lr: f64, clipped: bool) -> StepRecord {
        let l = &self.layers;
        let layers = LayerSeries {
            act_grad_norm: reals(l.iter().map(|x| x.act_grad_norm)),
            weight_grad_norm: reals(l.iter().map(|x| x.weight_grad_norm)),
            bias_grad_norm: reals(l.iter().map(|x| x.bias_grad_norm)),
            weight_norm: reals(l.iter().map(|x| x.weight_norm)),
            spectral_norm: reals(l.iter().map(|x| x.spectral_norm)),
            update_ratio: reals(l.iter().map(|x| x.update_ratio)),
            act_mean: reals(l.iter().map(|x| x.act_mean)),
            act_std: reals(l.iter().map(|x| x.act_std)),
            act_saturated: reals(l.iter().map(|x| x.act_saturated)),
            act_dead: reals(l.iter().map(|x| x.act_dead)),
            act_nonfinite: l.iter().map(|x| x.act_nonfinite).collect(),
        };
        StepRecord {
            schema_version: SCHEMA_VERSION,
            run,
            step,
            lr: Real(lr),
            loss: Real(self.loss),
            grad_norm: Real(self.grad_norm),
            clipped,
            spectral_product: self.spectral_product().map(Real),
            layers,
            eval: None,
            nonfinite: None,
        }
    }

    /// The product of the layers' spectral norms, ∏‖W_l‖₂ (the matrix version of wⁿ).
    pub fn spectral_product(&self) -> Option<f64> {
        let mut product = 1.0;
        for layer in &self.layers {
            product *= layer.spectral_norm?;
        }
        (!self.layers.is_empty()).then_some(product)
    }
}

/// Scalars waiting on the device, read back in one transfer.
#[derive(Debug, Default)]
struct ScalarBatch {
    parts: Vec<Tensor<1>>,
    len: usize,
}

impl ScalarBatch {
    fn push(&mut self, t: Tensor<1>) -> usize {
        let at = self.len;
        self.len += t.dims()[0];
        self.parts.push(t);
        at
    }

    fn read(self) -> Vec<f64> {
        if self.parts.is_empty() {
            return Vec::new();
        }
        let all = Tensor::cat(self.parts, 0);
        all.into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .unwrap_or_default()
    }
}

/// Per-layer indices into the scalar batch.
#[derive(Debug, Default)]
struct PendingLayer {
    act_grad_sq: Option<usize>,
    weight_grad_sq: Option<usize>,
    bias_grad_sq: Option<usize>,
    weight_sq: Option<usize>,
    spectral: Vec<usize>,
    sums: Option<usize>,
    numel: usize,
    saturated: Option<usize>,
    alive: Option<usize>,
    units: usize,
    output: Option<Tensor<2>>,
    weight_paths: Vec<String>,
    old_weights: Vec<Tensor<2>>,
    /// Σ‖W‖² before the step, when the weight norms already computed it.
    old_sq: Option<Tensor<1>>,
    update: Option<(usize, usize)>,
}

/// Measurements of a step between `backward()` and the read-back.
#[derive(Debug)]
pub struct PendingStep {
    batch: ScalarBatch,
    loss: usize,
    grad_norm_sq: Tensor<1>,
    grad_norm_sq_at: usize,
    layers: Vec<PendingLayer>,
    other_grad_sq: Option<usize>,
    update_ratios: bool,
}

/// Collects the ids of a layer's parameters, and nothing else: which of the already collected
/// parameters belong to the layer is all `after_backward` needs, so it does not touch the values
/// a second time.
#[derive(Default)]
struct LayerIds(Vec<ParamId>);

impl ModuleVisitor for LayerIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id);
    }
}

/// Records steps of one network; holds the power-iteration state across steps.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    options: RecordOptions,
    spectral: SpectralState,
}

fn sum_sq(t: Tensor<1>) -> Tensor<1> {
    t.square().sum()
}

fn add_all(parts: Vec<Tensor<1>>) -> Option<Tensor<1>> {
    parts.into_iter().reduce(|a, b| a.add(b))
}

impl Recorder {
    /// A recorder measuring what `options` asks for.
    pub fn new(options: RecordOptions) -> Self {
        Self {
            options,
            spectral: SpectralState::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> RecordOptions {
        self.options
    }

    /// Queues every per-layer reduction of the step on the device. `tap` is the observer the
    /// forward pass ran with, `loss` the scalar loss, `grads` the result of `loss.backward()`
    /// (read without being consumed).
    pub fn after_backward<N: Network>(
        &mut self,
        net: &N,
        tap: &Tap,
        loss: &Tensor<1>,
        grads: &Gradients,
    ) -> PendingStep {
        let mut batch = ScalarBatch::default();
        let loss_at = batch.push(loss.clone().inner().reshape([1]));

        // Every parameter once, with its gradient; then assign them to layers by id.
        let all = collect_params(net, Some(grads));
        let index: HashMap<ParamId, usize> =
            all.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let grad_sq: Vec<Option<Tensor<1>>> =
            all.iter().map(|p| p.grad.clone().map(sum_sq)).collect();
        let mut claimed = vec![false; all.len()];

        let mut layers = Vec::with_capacity(net.num_layers());
        let mut slot = 0;
        for l in 1..=net.num_layers() {
            let mut pending = PendingLayer::default();
            if let Some(g) = tap.activation_grad(l, grads) {
                pending.act_grad_sq = Some(batch.push(g.square().sum()));
            }
            let mut ids = LayerIds::default();
            net.visit_layer(l, &mut ids);
            let mut weight_grads = Vec::new();
            let mut bias_grads = Vec::new();
            let mut weights: Vec<&CollectedParam> = Vec::new();
            for id in &ids.0 {
                let Some(&i) = index.get(id) else { continue };
                claimed[i] = true;
                let param = &all[i];
                if let Some(g) = &grad_sq[i] {
                    if param.rank == 2 {
                        weight_grads.push(g.clone());
                    } else {
                        bias_grads.push(g.clone());
                    }
                }
                if param.rank == 2 && param.grad.is_some() {
                    weights.push(param);
                }
            }
            pending.weight_grad_sq = add_all(weight_grads).map(|t| batch.push(t));
            pending.bias_grad_sq = add_all(bias_grads).map(|t| batch.push(t));
            if self.options.weight_norms && !weights.is_empty() {
                let sq = add_all(weights.iter().map(|p| sum_sq(p.value.clone())).collect());
                pending.old_sq = sq.clone();
                pending.weight_sq = sq.map(|t| batch.push(t));
                for p in &weights {
                    if let Some(m) = &p.matrix {
                        pending
                            .spectral
                            .push(batch.push(self.spectral.estimate(slot, m)));
                        slot += 1;
                    }
                }
            }
            if self.options.update_ratios {
                pending.weight_paths = weights.iter().map(|p| p.path.clone()).collect();
                pending.old_weights = weights.iter().filter_map(|p| p.matrix.clone()).collect();
            }
            if let Some(stats) = tap.stats.get(l - 1) {
                pending.sums = Some(batch.push(stats.sums.clone()));
                pending.numel = stats.numel;
                pending.saturated = stats.saturated.clone().map(|t| batch.push(t));
                pending.alive = stats.alive.clone().map(|t| batch.push(t));
                pending.units = stats.units;
                pending.output = Some(stats.output.clone());
            }
            layers.push(pending);
        }

        let unclaimed: Vec<Tensor<1>> = grad_sq
            .iter()
            .zip(&claimed)
            .filter(|(_, c)| !**c)
            .filter_map(|(g, _)| g.clone())
            .collect();
        let other = add_all(unclaimed);
        let other_grad_sq = other.clone().map(|t| batch.push(t));
        let total = add_all(grad_sq.into_iter().flatten().collect())
            .unwrap_or_else(|| Tensor::zeros([1], &loss.device().inner()));
        let grad_norm_sq_at = batch.push(total.clone());
        PendingStep {
            batch,
            loss: loss_at,
            grad_norm_sq: total,
            grad_norm_sq_at,
            layers,
            other_grad_sq,
            update_ratios: self.options.update_ratios,
        }
    }
}

/// The global squared gradient norm of every parameter of `net`, on the device (for clipping on
/// steps that are not recorded).
pub fn global_grad_norm_sq<N: Network>(net: &N, grads: &Gradients) -> Option<Tensor<1>> {
    add_all(
        collect_params(net, Some(grads))
            .into_iter()
            .filter_map(|p| p.grad.map(sum_sq))
            .collect(),
    )
}

impl PendingStep {
    /// The global squared gradient norm, still on the device (for global-norm clipping).
    pub fn grad_norm_sq(&self) -> Tensor<1> {
        self.grad_norm_sq.clone()
    }

    /// Completes the step: update ratios against `net_after` (the network after the optimiser
    /// step, if there was one), then one read-back of every scalar.
    pub fn finish<N: Network>(mut self, net_after: Option<&N>) -> StepMeasure {
        if let (true, Some(net)) = (self.update_ratios, net_after) {
            for (l, pending) in self.layers.iter_mut().enumerate() {
                if pending.old_weights.is_empty() {
                    continue;
                }
                let mut now = ParamCollector::new(None);
                net.visit_layer(l + 1, &mut now);
                let new: HashMap<&str, &Tensor<2>> = now
                    .params
                    .iter()
                    .filter_map(|p| p.matrix.as_ref().map(|m| (p.path.as_str(), m)))
                    .collect();
                let mut delta = Vec::new();
                let mut old = Vec::new();
                for (path, w_old) in pending.weight_paths.iter().zip(&pending.old_weights) {
                    if let Some(w_new) = new.get(path.as_str()) {
                        // A non-finite new weight shows up as a non-finite delta.
                        let d = (*w_new).clone().sub(w_old.clone());
                        delta.push(d.square().sum());
                        if pending.old_sq.is_none() {
                            old.push(w_old.clone().square().sum());
                        }
                    }
                }
                let old = pending.old_sq.clone().or_else(|| add_all(old));
                if let (Some(d), Some(o)) = (add_all(delta), old) {
                    let d_at = self.batch.push(d);
                    let o_at = self.batch.push(o);
                    pending.update = Some((d_at, o_at));
                }
            }
        }

        let values = self.batch.read();
        let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
        let layers = self
            .layers
            .into_iter()
            .map(|p| {
                let mut m = LayerMeasure {
                    act_grad_norm: p.act_grad_sq.map(|i| at(i).sqrt()),
                    weight_grad_norm: p.weight_grad_sq.map(|i| at(i).sqrt()),
                    bias_grad_norm: p.bias_grad_sq.map(|i| at(i).sqrt()),
                    weight_norm: p.weight_sq.map(|i| at(i).sqrt()),
                    spectral_norm: (!p.spectral.is_empty())
                        .then(|| p.spectral.iter().map(|&i| at(i)).product()),
                    ..LayerMeasure::default()
                };
                if let Some((d, o)) = p.update {
                    let (d, o) = (at(d), at(o));
                    m.update_ratio = Some(d.sqrt() / o.sqrt());
                    m.weight_after_finite = Some(d.is_finite());
                }
                if let Some(i) = p.sums {
                    let n = p.numel as f64;
                    let (mean, var) = (at(i), at(i + 1));
                    m.act_mean = Some(mean);
                    m.act_std = Some(var.sqrt());
                    let finite = mean.is_finite() && var.is_finite();
                    m.act_nonfinite = Some(match (finite, &p.output) {
                        (true, _) => 0,
                        (false, Some(out)) => count_nonfinite(out.clone()),
                        (false, None) => p.numel as u64,
                    });
                    m.act_saturated = p.saturated.map(|j| at(j) / n);
                    m.act_dead = p.alive.map(|j| 1.0 - at(j) / p.units as f64);
                }
                m
            })
            .collect();
        StepMeasure {
            loss: at(self.loss),
            grad_norm: at(self.grad_norm_sq_at).sqrt(),
            layers,
            other_grad_nonfinite: self.other_grad_sq.is_some_and(|i| !at(i).is_finite()),
        }
    }
}
