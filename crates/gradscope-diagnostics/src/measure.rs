//! One step's measurements: everything per layer, reduced on the device and read back once.
//!
//! The flow of a recorded step is
//!
//! 1. forward with a [`Tap`] as the observer, loss, `backward()`;
//! 2. [`Recorder::after_backward`]: per-layer squared sums of activation gradients, parameter
//!    gradients and weights, spectral-norm estimates, and the global gradient norm (the global
//!    norm is then available for clipping);
//! 3. the optimiser step;
//! 4. [`PendingStep::finish`]: update-to-weight ratios against the new weights, then every
//!    scalar still on the device stacked into one tensor and read back in one transfer.
//!
//! On the CPU backends ([`Reducer::Host`]) every reduction is one pass over the tensor's own
//! buffer, on the host, as soon as it is queued (the activation gradients even during
//! `backward()`, by the hook), so that nothing is left to read back; on other backends each is a
//! device operation and nothing is read back before step 4.

use std::collections::HashMap;

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::tensor::{Gradients, Tensor};
use gradscope_model::{CollectedParam, Network, ParamCollector};

use gradscope_record::{LayerSeries, Real, RunKind, SCHEMA_VERSION, StepRecord};

use rayon::prelude::*;

use crate::host;
use crate::reduce::{Reducer, Sum};
use crate::spectral::{
    PowerStep, PowerVector, SpectralState, power_iteration, radius_sums, sigma, spectral_radius,
};
use crate::tap::{Columns, LayerStats, Tap, TapMode, TappedGrad, count_nonfinite, layer_stats};

/// What a recorded step measures beyond the loss, gradient norms and activation gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordOptions {
    /// Activation statistics (mean, spread, saturated and dead fractions, non-finite count).
    pub activation_stats: bool,
    /// Weight norms (Frobenius and spectral).
    pub weight_norms: bool,
    /// Update-to-weight ratios ‖ΔW‖/‖W‖ after the optimiser step.
    pub update_ratios: bool,
    /// How the activation gradients are tapped (the hook, or the zero-leaf reference).
    pub tap: TapMode,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            activation_stats: true,
            weight_norms: true,
            update_ratios: true,
            tap: TapMode::default(),
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
    /// ‖W_hh‖₂ of a recurrent layer's state matrix ([`Network::recurrent_matrix`]).
    pub recurrent_spectral_norm: Option<f64>,
    /// ρ(W_hh), its largest eigenvalue modulus.
    pub recurrent_spectral_radius: Option<f64>,
    /// ‖∂L/∂h_t‖ at each time step t = 1, 2, … the layer observed (empty for a layer without
    /// time steps; `None` for a step that took no part in the loss).
    pub act_grad_norm_time: Vec<Option<f64>>,
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

/// A per-layer series that only some networks have (recurrent layers): empty, and so left out of
/// the record, when no layer has it.
fn where_measured(
    layers: &[LayerMeasure],
    f: impl Fn(&LayerMeasure) -> Option<f64>,
) -> Vec<Option<Real>> {
    if layers.iter().any(|x| f(x).is_some()) {
        reals(layers.iter().map(f))
    } else {
        Vec::new()
    }
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
            act_grad_norm_time: if l.iter().any(|x| !x.act_grad_norm_time.is_empty()) {
                l.iter()
                    .map(|x| reals(x.act_grad_norm_time.iter().copied()))
                    .collect()
            } else {
                Vec::new()
            },
            recurrent_spectral_norm: where_measured(l, |x| x.recurrent_spectral_norm),
            recurrent_spectral_radius: where_measured(l, |x| x.recurrent_spectral_radius),
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

/// The step's scalars: those reduced on the host, and those waiting on the device, read back in
/// one transfer.
#[derive(Debug, Default)]
struct ScalarBatch {
    len: usize,
    host: Vec<(usize, f64)>,
    parts: Vec<(usize, Tensor<1>)>,
}

impl ScalarBatch {
    fn push(&mut self, s: Sum) -> usize {
        match s {
            Sum::Host(v) => {
                let at = self.len;
                self.host.push((at, v));
                self.len += 1;
                at
            }
            Sum::Device(t) => self.push_tensor(t),
        }
    }

    fn push_tensor(&mut self, t: Tensor<1>) -> usize {
        let at = self.len;
        self.len += t.dims()[0];
        self.parts.push((at, t));
        at
    }

    fn push_columns(&mut self, c: Columns) -> usize {
        match c {
            Columns::Host(v) => {
                let at = self.len;
                self.len += v.len();
                self.host
                    .extend(v.into_iter().enumerate().map(|(k, x)| (at + k, x)));
                at
            }
            Columns::Device(t) => self.push_tensor(t),
        }
    }

    fn read(self) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.len];
        for (i, v) in self.host {
            out[i] = v;
        }
        if self.parts.is_empty() {
            return out;
        }
        let spans: Vec<(usize, usize)> = self
            .parts
            .iter()
            .map(|(at, t)| (*at, t.dims()[0]))
            .collect();
        let all = Tensor::cat(self.parts.into_iter().map(|(_, t)| t).collect(), 0);
        let values = all
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .unwrap_or_default();
        let mut k = 0;
        for (at, n) in spans {
            if let Some(v) = values.get(k..k + n) {
                out[at..at + n].copy_from_slice(v);
            }
            k += n;
        }
        out
    }
}

/// Per-layer indices into the scalar batch.
#[derive(Debug, Default)]
struct PendingLayer {
    act_grad_sq: Option<usize>,
    weight_grad_sq: Option<usize>,
    bias_grad_sq: Option<usize>,
    weight_sq: Option<usize>,
    /// (‖u‖², ‖z‖²) of each weight matrix's power iteration.
    spectral: Vec<(usize, usize)>,
    /// (Σh, Σ(h − mean)²)
    sums: Option<(usize, usize)>,
    numel: usize,
    saturated: Option<usize>,
    /// Start of the `units` ReLU column sums.
    alive: Option<usize>,
    units: usize,
    output: Option<Tensor<2>>,
    /// Ids of the layer's weight matrices (ids survive the optimiser step; paths from a
    /// per-layer walk are relative to the layer, so they would not match the network-wide ones).
    weight_ids: Vec<ParamId>,
    old_weights: Vec<Tensor<2>>,
    /// Σ‖W‖² before the step, when the weight norms already computed it.
    old_sq: Option<Sum>,
    update: Option<(usize, usize)>,
    /// ‖∂L/∂h_t‖² of each time step.
    time_grad_sq: Vec<Option<usize>>,
    /// (‖u‖², ‖z‖²) of the recurrent state matrix's power iteration.
    recurrent_spectral: Option<(usize, usize)>,
    /// The recurrent state matrix's squared norms for its spectral radius.
    recurrent_radius: Vec<usize>,
}

/// Measurements of a step between `backward()` and the read-back.
#[derive(Debug)]
pub struct PendingStep {
    /// Whether the reductions are worth the thread pool ([`PARALLEL_MIN_ENTRIES`]).
    parallel: bool,
    batch: ScalarBatch,
    loss: usize,
    grad_norm_sq: Sum,
    grad_norm_sq_at: usize,
    /// The device of the parameters' gradients (outside autodiff).
    device: burn::tensor::Device,
    layers: Vec<PendingLayer>,
    other_grad_sq: Option<usize>,
    update_ratios: bool,
    reducer: Reducer,
}

/// The squared global gradient norm that clips a recorded step, on the device: per layer its
/// matrices' sums then its other parameters', then the parameters outside the layers, each
/// through device operations ([`Reducer::on_device`]), added in the order they always were. It is
/// a training input, so it does not follow how the recorder reduces for the record (on the host,
/// on the CPU backends), and training is the same whether or not, and however, a step is
/// recorded. Built on demand (only clipped runs pay for it), so that the step holds no gradient
/// beyond the optimiser's.
pub fn clip_norm_sq<N: Network>(net: &N, grads: &Gradients) -> Option<Tensor<1>> {
    let all = collect_unnamed(net, Some(grads));
    let device = all.first()?.value.device();
    let r = Reducer::on_device(&device);
    let (layers, other) = assign_to_layers(net, &all);
    let sum = |ids: &mut dyn Iterator<Item = &usize>| {
        ids.filter_map(|&i| all[i].grad.clone())
            .map(|g| r.sum_sq(g))
            .reduce(|a, b| a.add(b))
    };
    let mut parts = Vec::new();
    for params in &layers {
        parts.extend(sum(&mut params.iter().filter(|&&i| all[i].rank == 2)));
        parts.extend(sum(&mut params.iter().filter(|&&i| all[i].rank != 2)));
    }
    parts.extend(sum(&mut other.iter()));
    Some(
        parts
            .into_iter()
            .reduce(|a, b| a.add(b))
            .unwrap_or_else(|| Tensor::zeros([1], &device)),
    )
}

/// Which of `all` (collected from `net`) belong to each layer, in layer order, and which to none
/// (the head, shared parameters): indices into `all`.
fn assign_to_layers<N: Network>(net: &N, all: &[CollectedParam]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let index: HashMap<ParamId, usize> = all.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let mut claimed = vec![false; all.len()];
    let layers = (1..=net.num_layers())
        .map(|l| {
            let mut ids = LayerIds::default();
            net.visit_layer(l, &mut ids);
            ids.0
                .iter()
                .filter_map(|id| index.get(id).copied())
                .inspect(|&i| claimed[i] = true)
                .collect()
        })
        .collect();
    let other = (0..all.len()).filter(|&i| !claimed[i]).collect();
    (layers, other)
}

/// Every parameter of `net` (with its gradient, given `grads`), without paths (the recorder
/// matches by id).
fn collect_unnamed<N: Network>(net: &N, grads: Option<&Gradients>) -> Vec<CollectedParam> {
    let mut c = ParamCollector::unnamed(grads);
    net.visit(&mut c);
    c.params
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

/// Collects a layer's weight matrices by id, outside autodiff, and nothing else (no paths, no
/// flattened copies): what the update ratios need of the network after the step.
#[derive(Default)]
struct LayerMatrices(HashMap<ParamId, Tensor<2>>);

impl ModuleVisitor for LayerMatrices {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D == 2 {
            // Already rank 2: retyped, no reshape dispatched.
            let w: Tensor<2> = Tensor::from_dispatch(param.val().inner().into_dispatch());
            self.0.insert(param.id, w);
        }
    }
}

/// Below this many parameter entries a step's host reductions run on the calling thread. With
/// the loop on a pool thread ([`Recorder::record`] is called there by the trainer and the bench)
/// the other threads are woken cheaply, and across layers the reductions gained at depth 32 ×
/// width 256 (2 million entries, 17.1 → 16.7 ms a step) and lost nothing at width 64 (131 072).
pub const PARALLEL_MIN_ENTRIES: usize = 1 << 16;

/// `f` over the layers' jobs, in order: on the thread pool or on this thread. Each job reduces
/// the same way wherever it runs, so the results do not depend on the choice.
fn map_layers<T: Send, R: Send>(
    items: Vec<T>,
    parallel: bool,
    f: impl Fn(T) -> R + Sync + Send,
) -> Vec<R> {
    if parallel {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

/// Records steps of one network; holds the power-iteration state and the taps' zero tensors
/// across steps.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    options: RecordOptions,
    spectral: SpectralState,
    zeros: Vec<Tensor<2>>,
}

fn add_all(parts: Vec<Sum>) -> Option<Sum> {
    parts.into_iter().reduce(|a, b| a + b)
}

impl Recorder {
    /// A recorder measuring what `options` asks for.
    pub fn new(options: RecordOptions) -> Self {
        Self {
            options,
            spectral: SpectralState::new(),
            zeros: Vec::new(),
        }
    }

    /// A [`Tap`] for the next forward pass, with activation statistics if the options ask for
    /// them, reusing the zero tensors of earlier steps.
    pub fn tap(&self) -> Tap {
        Tap::with_zeros(
            self.options.activation_stats,
            self.options.tap,
            self.zeros.clone(),
        )
    }

    /// The options.
    pub fn options(&self) -> RecordOptions {
        self.options
    }

    /// Queues every per-layer reduction of the step on the device. `tap` is the observer the
    /// forward pass ran with, `loss` the scalar loss, `grads` the result of `loss.backward()`
    /// (read without being consumed).
    ///
    /// The layers' reductions are independent of each other, and on the CPU backends most of
    /// them are too small for the backend to spread over its threads, so on a large network
    /// they run in parallel across layers (rayon, from [`PARALLEL_MIN_ENTRIES`]); each is
    /// computed the same way whichever thread runs it, so the results do not depend on the
    /// schedule. [`Recorder::record`] does the same work but starts what needs only the forward
    /// pass (activation statistics, weight norms, power iterations) on another thread while
    /// `backward()` runs.
    pub fn after_backward<N: Network>(
        &mut self,
        net: &N,
        tap: &Tap,
        loss: &Tensor<1>,
        grads: &Gradients,
    ) -> PendingStep {
        let mut forward = self.forward_part(net, tap, &loss.device());
        let (early, ()) = forward.run_alongside(false, || ());
        self.backward_part(net, tap, loss, grads, forward, early)
    }

    /// What a recorded step can measure once the forward pass has run: the weights (collected
    /// outside autodiff), their assignment to layers, and each layer's forward-only job. Cheap
    /// bookkeeping; nothing is reduced yet.
    pub(crate) fn forward_part<N: Network>(
        &mut self,
        net: &N,
        tap: &Tap,
        device: &burn::tensor::Device,
    ) -> ForwardPart {
        let reducer = Reducer::for_device(device);
        if tap.zeros.len() > self.zeros.len() {
            self.zeros = tap.zeros.clone();
        }
        let params = collect_unnamed(net, None);
        let (layer_params, unclaimed) = assign_to_layers(net, &params);
        let mut jobs = Vec::with_capacity(layer_params.len());
        let mut slot = 0;
        for (l, ids) in (1..).zip(&layer_params) {
            let matrices: Vec<usize> = ids
                .iter()
                .copied()
                .filter(|&i| params[i].rank == 2 && params[i].matrix.is_some())
                .collect();
            let mut spectral = Vec::new();
            let mut recurrent = None;
            if self.options.weight_norms {
                for &i in &matrices {
                    spectral.push((i, slot, self.spectral.take(slot)));
                    slot += 1;
                }
                if let Some(u) = net.recurrent_matrix(l) {
                    recurrent = Some((u.inner(), slot, self.spectral.take(slot)));
                    slot += 1;
                }
            }
            jobs.push(ForwardJob {
                spectral,
                recurrent,
                output: tap
                    .outputs
                    .get(l - 1)
                    .map(|h| (h.clone(), tap.activations.get(l - 1).copied().flatten())),
            });
        }
        // One row of ones for every layer's column sums (all layers see the same batch).
        let ones = match (reducer, tap.outputs.first()) {
            (Reducer::Matmul, Some(h)) => Some(Tensor::<2>::ones([1, h.dims()[0]], &h.device())),
            _ => None,
        };
        let numel: usize = params.iter().map(|p| p.value.dims()[0]).sum();
        ForwardPart {
            parallel: numel >= PARALLEL_MIN_ENTRIES || reducer != Reducer::Host,
            reducer,
            params,
            layer_params,
            unclaimed,
            jobs,
            ones,
        }
    }

    /// Completes the step's queue once `grads` exist: the activation and parameter gradients'
    /// sums, the forward part's results, and the global gradient norm, into one scalar batch in
    /// layer order.
    pub(crate) fn backward_part<N: Network>(
        &mut self,
        net: &N,
        tap: &Tap,
        loss: &Tensor<1>,
        grads: &Gradients,
        forward: ForwardPart,
        early: Vec<ForwardSums>,
    ) -> PendingStep {
        let ForwardPart {
            parallel,
            reducer,
            params: mut all,
            layer_params,
            unclaimed,
            ..
        } = forward;
        let mut batch = ScalarBatch::default();
        let loss_inner = loss.clone().inner().reshape([1]);
        let loss_host = (reducer == Reducer::Host)
            .then(|| host::with_f32(&loss_inner, |x| x.first().map(|&v| v as f64)))
            .flatten()
            .flatten();
        let loss_at = match loss_host {
            Some(v) => batch.push(Sum::Host(v)),
            None => batch.push_tensor(loss_inner),
        };

        // The parameters collected before backward, now with their gradients.
        gradscope_model::read_grads(net, &mut all, grads);

        let jobs: Vec<BackwardJob> = (1..)
            .zip(layer_params)
            .map(|(l, params)| BackwardJob {
                act_grad: tap.tapped_grad(l, grads),
                step_grads: tap.tapped_step_grads(l, grads),
                params,
            })
            .collect();
        let done: Vec<BackwardSums> = map_layers(jobs, parallel, |job| job.reduce(&all, reducer));

        // Into the scalar batch, in layer order.
        let weight_norms = self.options.weight_norms;
        let mut early = early.into_iter();
        let mut layers = Vec::with_capacity(done.len());
        let mut grad_parts = Vec::new();
        for late in done {
            let early = early.next().unwrap_or_default();
            let mut pending = PendingLayer {
                act_grad_sq: late.act_grad_sq.map(|t| batch.push(t)),
                time_grad_sq: late
                    .time_grad_sq
                    .into_iter()
                    .map(|t| t.map(|t| batch.push(t)))
                    .collect(),
                ..PendingLayer::default()
            };
            grad_parts.extend(late.weight_grad_sq.clone());
            grad_parts.extend(late.bias_grad_sq.clone());
            pending.weight_grad_sq = late.weight_grad_sq.map(|t| batch.push(t));
            pending.bias_grad_sq = late.bias_grad_sq.map(|t| batch.push(t));
            // Every matrix's vector goes back for the next step; the record reports the
            // matrices that have a gradient (the layer's weights), in order.
            // (matrix, ‖u‖², ‖z‖², ‖W‖²)
            let mut spectral: Vec<(usize, Sum, Sum, Option<Sum>)> = Vec::new();
            for (i, slot, step) in early.spectral {
                let PowerStep {
                    u_sq,
                    z_sq,
                    v,
                    w_sq,
                } = step;
                self.spectral.put(slot, v);
                if late.weights.contains(&i) {
                    spectral.push((i, u_sq, z_sq, w_sq));
                }
            }
            // ‖W‖² from the power iteration's own pass over W where it summed it (on the host).
            let weight_sq = if weight_norms && !late.weights.is_empty() {
                add_all(
                    late.weights
                        .iter()
                        .map(|&i| {
                            spectral
                                .iter()
                                .find(|(j, ..)| *j == i)
                                .and_then(|(.., w_sq)| w_sq.clone())
                                .unwrap_or_else(|| reducer.reduce_sq(all[i].value.clone()))
                        })
                        .collect(),
                )
            } else {
                None
            };
            pending.old_sq = weight_sq.clone();
            pending.weight_sq = weight_sq.map(|t| batch.push(t));
            for (_, u_sq, z_sq, _) in spectral {
                let u = batch.push(u_sq);
                let z = batch.push(z_sq);
                pending.spectral.push((u, z));
            }
            if let Some((slot, step, radius)) = early.recurrent {
                self.spectral.put(slot, step.v);
                let u = batch.push(step.u_sq);
                let z = batch.push(step.z_sq);
                pending.recurrent_spectral = Some((u, z));
                pending.recurrent_radius =
                    radius.into_iter().map(|t| batch.push_tensor(t)).collect();
            }
            if self.options.update_ratios {
                for &i in &late.weights {
                    if let Some(m) = &all[i].matrix {
                        pending.weight_ids.push(all[i].id);
                        // Held across the optimiser step, which then writes the new weights
                        // to new buffers (the allocator recycles them): measured no slower than
                        // copying the old ones out and updating in place, and faster at width
                        // 1024.
                        pending.old_weights.push(m.clone());
                    }
                }
            }
            if let Some((stats, output)) = early.stats {
                pending.sums = Some((batch.push(stats.sum), batch.push(stats.centred_sq)));
                pending.numel = stats.numel;
                pending.saturated = stats.saturated.map(|t| batch.push(t));
                pending.alive = stats.relu_column_sums.map(|c| batch.push_columns(c));
                pending.units = stats.units;
                pending.output = Some(output);
            }
            layers.push(pending);
        }

        let other = add_all(
            unclaimed
                .iter()
                .filter_map(|&i| all[i].grad.clone().map(|g| reducer.reduce_sq(g)))
                .collect(),
        );
        let other_grad_sq = other.clone().map(|t| batch.push(t));
        grad_parts.extend(other);
        let total = add_all(grad_parts).unwrap_or(Sum::Host(0.0));
        let grad_norm_sq_at = batch.push(total.clone());
        PendingStep {
            parallel,
            batch,
            loss: loss_at,
            grad_norm_sq: total,
            grad_norm_sq_at,
            device: loss.device().inner(),
            layers,
            other_grad_sq,
            update_ratios: self.options.update_ratios,
            reducer,
        }
    }
}

/// A recorded step's forward-only work, queued by [`Recorder::forward_part`].
pub(crate) struct ForwardPart {
    parallel: bool,
    reducer: Reducer,
    /// Every parameter, collected without gradients.
    params: Vec<CollectedParam>,
    layer_params: Vec<Vec<usize>>,
    unclaimed: Vec<usize>,
    jobs: Vec<ForwardJob>,
    ones: Option<Tensor<2>>,
}

impl ForwardPart {
    /// Runs the forward-only reductions, and `f` (the backward pass) beside them: with
    /// `overlap` and on the CPU backends the reductions are spawned on the thread pool first, so
    /// an idle core does them while this thread runs `f`; otherwise one after the other. Either
    /// way each reduction is computed the same way, so the results are the same.
    pub(crate) fn run_alongside<R>(
        &mut self,
        overlap: bool,
        f: impl FnOnce() -> R,
    ) -> (Vec<ForwardSums>, R) {
        let jobs = std::mem::take(&mut self.jobs);
        let (parallel, reducer) = (self.parallel, self.reducer);
        let (params, ones) = (&self.params, self.ones.as_ref());
        let reduce = move |jobs: Vec<ForwardJob>| {
            map_layers(jobs, parallel, |job| job.reduce(params, reducer, ones))
        };
        if overlap && reducer == Reducer::Host && rayon::current_num_threads() > 1 {
            let mut sums = Vec::new();
            let r = rayon::in_place_scope(|s| {
                let sums = &mut sums;
                s.spawn(move |_| *sums = reduce(jobs));
                f()
            });
            (sums, r)
        } else {
            let r = f();
            (reduce(jobs), r)
        }
    }
}

/// One layer's forward-only share of a recorded step.
struct ForwardJob {
    /// (parameter, power-iteration slot, previous singular vector) of each weight matrix
    spectral: Vec<(usize, usize, Option<PowerVector>)>,
    /// (recurrent state matrix, its power-iteration slot, previous singular vector)
    recurrent: Option<(Tensor<2>, usize, Option<PowerVector>)>,
    output: Option<(Tensor<2>, Option<gradscope_model::Activation>)>,
}

/// What a [`ForwardJob`] reduced.
#[derive(Default)]
pub(crate) struct ForwardSums {
    /// (parameter, power-iteration slot, its last iteration)
    spectral: Vec<(usize, usize, PowerStep)>,
    /// The recurrent state matrix's (slot, last power iteration, spectral-radius sums).
    recurrent: Option<(usize, PowerStep, Vec<Tensor<1>>)>,
    stats: Option<(LayerStats, Tensor<2>)>,
}

impl ForwardJob {
    fn reduce(self, all: &[CollectedParam], r: Reducer, ones: Option<&Tensor<2>>) -> ForwardSums {
        // Empty unless the options ask for weight norms (`Recorder::forward_part`).
        let spectral = self
            .spectral
            .into_iter()
            .filter_map(|(i, slot, previous)| {
                let m = all[i].matrix.as_ref()?;
                Some((i, slot, power_iteration(m, previous, r)))
            })
            .collect();
        let recurrent = self.recurrent.map(|(u, slot, previous)| {
            (slot, power_iteration(&u, previous, r), radius_sums(&u, r))
        });
        ForwardSums {
            spectral,
            recurrent,
            stats: self
                .output
                .map(|(h, activation)| (layer_stats(h.clone(), activation, r, ones), h)),
        }
    }
}

/// One layer's share of a recorded step once its gradients exist: indices into the step's
/// collected parameters, and the tapped activation gradients.
struct BackwardJob {
    act_grad: Option<TappedGrad>,
    /// ∂L/∂h_t of each time step (recurrent layers).
    step_grads: Vec<Option<TappedGrad>>,
    params: Vec<usize>,
}

/// What a [`BackwardJob`] reduced.
struct BackwardSums {
    act_grad_sq: Option<Sum>,
    time_grad_sq: Vec<Option<Sum>>,
    weight_grad_sq: Option<Sum>,
    bias_grad_sq: Option<Sum>,
    /// The layer's weight matrices with a gradient, in order.
    weights: Vec<usize>,
}

impl BackwardJob {
    fn reduce(self, all: &[CollectedParam], r: Reducer) -> BackwardSums {
        let mut weight_grads = Vec::new();
        let mut bias_grads = Vec::new();
        for &i in &self.params {
            if let Some(g) = &all[i].grad {
                let sq = r.reduce_sq(g.clone());
                if all[i].rank == 2 {
                    weight_grads.push(sq);
                } else {
                    bias_grads.push(sq);
                }
            }
        }
        BackwardSums {
            act_grad_sq: self.act_grad.map(|g| g.sum_sq(r)),
            time_grad_sq: self
                .step_grads
                .into_iter()
                .map(|g| g.map(|g| g.sum_sq(r)))
                .collect(),
            weight_grad_sq: add_all(weight_grads),
            bias_grad_sq: add_all(bias_grads),
            weights: self
                .params
                .iter()
                .copied()
                .filter(|&i| all[i].rank == 2 && all[i].grad.is_some())
                .collect(),
        }
    }
}

/// The global squared gradient norm of every parameter of `net`, on the device (for clipping on
/// steps that are not recorded).
///
/// Computed through device operations ([`Reducer::on_device`]) whatever the backend, as the
/// clipping norm of recorded steps is ([`PendingStep::grad_norm_sq`]): the norm that scales
/// the update is a training input, so it stays what it was before the recorder reduced on the
/// host, and the bundled sweeps' results with it.
pub fn global_grad_norm_sq<N: Network>(net: &N, grads: &Gradients) -> Option<Tensor<1>> {
    let params = collect_unnamed(net, Some(grads));
    let reducer = Reducer::on_device(&params.first()?.value.device());
    params
        .into_iter()
        .filter_map(|p| p.grad.map(|g| reducer.sum_sq(g)))
        .reduce(|a, b| a.add(b))
}

impl PendingStep {
    /// The global squared gradient norm the record reports, as a `[1]` tensor (the one that
    /// clips a step is [`clip_norm_sq`]'s).
    pub fn grad_norm_sq(&self) -> Tensor<1> {
        self.grad_norm_sq.clone().into_tensor(&self.device)
    }

    /// Completes the step: update ratios against `net_after` (the network after the optimiser
    /// step, if there was one), then one read-back of every scalar.
    pub fn finish<N: Network>(mut self, net_after: Option<&N>) -> StepMeasure {
        if let (true, Some(net)) = (self.update_ratios, net_after) {
            // Pair every weight before the step with itself after it (cheap, in order) ...
            let mut pairs: Vec<(usize, Vec<(Tensor<2>, Tensor<2>)>)> = Vec::new();
            for (l, pending) in self.layers.iter_mut().enumerate() {
                if pending.old_weights.is_empty() {
                    continue;
                }
                // Moved out, so that after the step (which wrote the new weights to new buffers)
                // the old ones are referenced only here and the subtraction below reuses their
                // memory instead of allocating.
                let olds = std::mem::take(&mut pending.old_weights);
                let mut new = LayerMatrices::default();
                net.visit_layer(l + 1, &mut new);
                let layer_pairs = pending
                    .weight_ids
                    .iter()
                    .zip(olds)
                    .filter_map(|(id, w_old)| new.0.remove(id).map(|w_new| (w_new, w_old)))
                    .collect();
                pairs.push((l, layer_pairs));
            }
            // ... then reduce ‖ΔW‖² (and ‖W‖² where the weight norms did not) across layers,
            // in parallel where that pays.
            let reducer = self.reducer;
            let layers = &self.layers;
            let sums: Vec<(usize, Option<Sum>, Option<Sum>)> =
                map_layers(pairs, self.parallel, |(l, pairs)| {
                    let need_old = layers[l].old_sq.is_none();
                    let mut delta = Vec::new();
                    let mut old = Vec::new();
                    for (w_new, w_old) in pairs {
                        // On the host: both in one pass over the two buffers, no difference
                        // materialised.
                        if reducer == Reducer::Host
                            && let Some(Some((d, o))) = host::with_f32(&w_old, |a| {
                                host::with_f32(&w_new, |b| host::diff_sq_and_sq(a, b))
                            })
                        {
                            delta.push(Sum::Host(d));
                            old.push(Sum::Host(o));
                            continue;
                        }
                        if need_old {
                            old.push(reducer.reduce_sq(w_old.clone()));
                        }
                        // A non-finite new weight shows up as a non-finite delta. `w_old` first:
                        // it is the operand the backend can overwrite in place.
                        delta.push(reducer.reduce_sq(w_old.sub(w_new)));
                    }
                    (l, add_all(delta), add_all(old))
                });
            for (l, delta, old) in sums {
                let pending = &mut self.layers[l];
                let old = pending.old_sq.clone().or(old);
                if let (Some(d), Some(o)) = (delta, old) {
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
                    act_grad_norm_time: p
                        .time_grad_sq
                        .iter()
                        .map(|t| t.map(|i| at(i).sqrt()))
                        .collect(),
                    weight_grad_norm: p.weight_grad_sq.map(|i| at(i).sqrt()),
                    bias_grad_norm: p.bias_grad_sq.map(|i| at(i).sqrt()),
                    weight_norm: p.weight_sq.map(|i| at(i).sqrt()),
                    spectral_norm: (!p.spectral.is_empty()).then(|| {
                        p.spectral
                            .iter()
                            .map(|&(u, z)| sigma(at(u), at(z)))
                            .product()
                    }),
                    recurrent_spectral_norm: p.recurrent_spectral.map(|(u, z)| sigma(at(u), at(z))),
                    recurrent_spectral_radius: (!p.recurrent_radius.is_empty()).then(|| {
                        spectral_radius(
                            &p.recurrent_radius
                                .iter()
                                .map(|&i| at(i))
                                .collect::<Vec<_>>(),
                        )
                    }),
                    ..LayerMeasure::default()
                };
                if let Some((d, o)) = p.update {
                    let (d, o) = (at(d), at(o));
                    m.update_ratio = Some(d.sqrt() / o.sqrt());
                    m.weight_after_finite = Some(d.is_finite());
                }
                if let Some((sum, centred)) = p.sums {
                    let n = p.numel.max(1) as f64;
                    let (mean, var) = (at(sum) / n, at(centred) / n);
                    m.act_mean = Some(mean);
                    m.act_std = Some(var.sqrt());
                    let finite = mean.is_finite() && var.is_finite();
                    m.act_nonfinite = Some(match (finite, &p.output) {
                        (true, _) => 0,
                        (false, Some(out)) => count_nonfinite(out.clone()),
                        (false, None) => p.numel as u64,
                    });
                    m.act_saturated = p.saturated.map(|j| at(j) / n);
                    m.act_dead = p.alive.map(|start| {
                        let alive = (start..start + p.units).filter(|&j| at(j) > 0.0).count();
                        1.0 - alive as f64 / p.units.max(1) as f64
                    });
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
