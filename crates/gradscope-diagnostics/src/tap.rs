//! Activation-gradient taps and activation statistics, attached at the network's layer seam.
//!
//! burn keeps no gradient for intermediate tensors, so the tap attaches something to each layer's
//! output `h_l` that autodiff reports on. Two ways, chosen by [`TapMode`]:
//!
//! - [`TapMode::Hook`] (the default on the CPU backends): `h_l` passes through an identity
//!   operation whose backward step reduces ∂L/∂h_l on the spot ([`crate::hook`]);
//! - [`TapMode::ZeroLeaf`] (the reference, and what every other backend uses): a zero-valued leaf
//!   `z_l` that requires a gradient is added to `h_l`. The forward value is unchanged (`h + 0 = h`,
//!   exactly, in floating point), every parameter gradient is unchanged, and burn's autodiff
//!   reports `∂L/∂z_l = ∂L/∂h_l`, which the recorder reduces after `backward()`.
//!
//! Either way the back-propagated signal comes from autodiff itself, not from a recomputation
//! beside it, and both record the same numbers to the last bit.

use std::sync::Arc;

use burn::tensor::{Gradients, Tensor};
use gradscope_model::{Activation, BackendKind, LayerInfo, LayerObserver};

use crate::hook::{HookSink, hook};
use crate::reduce::{Reducer, Sum};

/// How a [`Tap`] obtains ∂L/∂h of each layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapMode {
    /// A backward hook (a burn backend extension) that reduces the gradient as backward passes
    /// through; on a backend without the hook (the GPU ones), the zero leaf.
    #[default]
    Hook,
    /// A zero-valued leaf added to each output, whose gradient is read after `backward()`: the
    /// reference implementation.
    ZeroLeaf,
}

/// Threshold of |tanh| above which a unit counts as saturated.
pub const TANH_SATURATION: f64 = 0.99;
/// Distance from 0 or 1 within which a sigmoid unit counts as saturated.
pub const SIGMOID_SATURATION: f64 = 0.01;

/// The reductions of one layer's output, on the host or queued on the device; the divisions and
/// the dead-unit count are finished on the host after the read-back.
#[derive(Debug, Clone)]
pub(crate) struct LayerStats {
    /// Σh.
    pub sum: Sum,
    /// Σ(h − mean)², two-pass: a one-pass Σh² − (Σh)²/n loses the spread of a sigmoid layer
    /// (mean 0.5, std 10⁻³) to f32 cancellation.
    pub centred_sq: Sum,
    /// Number of entries of h.
    pub numel: usize,
    /// Number of saturated entries, for tanh and sigmoid layers.
    pub saturated: Option<Sum>,
    /// Column sums of h, for ReLU layers: their output is non-negative, so a unit is alive
    /// (positive somewhere in the batch) exactly when its column sum is positive, a sum of
    /// non-negative floats being 0 only when all of them are.
    pub relu_column_sums: Option<Columns>,
    /// Number of units (columns).
    pub units: usize,
}

/// A layer's column sums.
#[allow(clippy::large_enum_variant)] // see `Sum`
#[derive(Debug, Clone)]
pub(crate) enum Columns {
    /// Reduced on the host.
    Host(Vec<f64>),
    /// Queued on the device (`[units]`).
    Device(Tensor<1>),
}

/// The observer that taps every layer. Build one per forward pass ([`crate::Recorder::tap`]
/// builds one that reuses the zero tensors of the previous step).
#[derive(Debug, Default)]
pub struct Tap {
    with_stats: bool,
    mode: TapMode,
    /// Where the hooks write, in [`TapMode::Hook`] on a backend that has it.
    sink: Option<Arc<HookSink>>,
    /// Slots handed out so far.
    slots: usize,
    /// Per layer (index 0 = layer 1), its zero leaf or its hook's slot.
    taps: Vec<LayerTap>,
    /// Zero tensors (outside autodiff), one per output shape seen: every leaf of that shape
    /// wraps the same read-only buffer, so a tap costs no allocation and no memset per layer.
    pub(crate) zeros: Vec<Tensor<2>>,
    /// Each layer's output outside autodiff, kept for the activation statistics, which the
    /// recorder reduces after `backward()`, in parallel across layers.
    pub(crate) outputs: Vec<Tensor<2>>,
    pub(crate) activations: Vec<Option<Activation>>,
    /// Per layer (index 0 = layer 1), the taps of its hidden state at each time step, in order
    /// (empty for layers without time steps).
    steps: Vec<Vec<LayerTap>>,
}

/// One tapped tensor.
#[allow(clippy::large_enum_variant)] // see `Sum`
#[derive(Debug, Clone)]
enum LayerTap {
    /// The zero leaf added to it.
    Leaf(Tensor<2>),
    /// The hook's slot in the sink.
    Hook(usize),
}

impl LayerTap {
    /// The zero leaf's gradient, outside autodiff (`None` for a hook, which keeps no tensor).
    fn leaf_grad(&self, grads: &Gradients) -> Option<Tensor<2>> {
        match self {
            LayerTap::Leaf(leaf) => leaf.grad(grads).map(Tensor::inner),
            LayerTap::Hook(_) => None,
        }
    }
}

impl Tap {
    /// A tap that keeps every layer's ∂L/∂h as a tensor ([`Tap::activation_grad`]: zero
    /// leaves), and activation statistics if `with_stats`. The recorder's taps
    /// ([`crate::Recorder::tap`]) use the hook instead, which keeps only the norms.
    pub fn new(with_stats: bool) -> Self {
        Self::with_mode(with_stats, TapMode::ZeroLeaf)
    }

    /// A tap that obtains the activation gradients as `mode` says.
    pub fn with_mode(with_stats: bool, mode: TapMode) -> Self {
        Self {
            with_stats,
            mode,
            ..Self::default()
        }
    }

    /// A tap that starts from a cache of zero tensors (see [`crate::Recorder::tap`]).
    pub(crate) fn with_zeros(with_stats: bool, mode: TapMode, zeros: Vec<Tensor<2>>) -> Self {
        Self {
            with_stats,
            mode,
            zeros,
            ..Self::default()
        }
    }

    /// Number of layers tapped so far.
    pub fn len(&self) -> usize {
        self.taps.len()
    }

    /// Whether no layer was tapped.
    pub fn is_empty(&self) -> bool {
        self.taps.is_empty()
    }

    /// Whether activation statistics were recorded.
    pub fn has_stats(&self) -> bool {
        self.with_stats
    }

    /// ∂L/∂h_l for layer `index` (1-based), outside autodiff; `None` if the layer took no part in
    /// the loss.
    /// Only a zero-leaf tap keeps the gradient itself: a hooked layer's was reduced as backward
    /// passed through (the recorder reads its norm), and this answers `None`.
    pub fn activation_grad(&self, index: usize, grads: &Gradients) -> Option<Tensor<2>> {
        self.taps.get(index.checked_sub(1)?)?.leaf_grad(grads)
    }

    /// What the tap has of ∂L/∂h_l for layer `index` (1-based): the hook's reduction or the zero
    /// leaf's gradient; `None` if the layer took no part in the loss.
    pub(crate) fn tapped_grad(&self, index: usize, grads: &Gradients) -> Option<TappedGrad> {
        self.tapped(self.taps.get(index.checked_sub(1)?)?, grads)
    }

    fn tapped(&self, tap: &LayerTap, grads: &Gradients) -> Option<TappedGrad> {
        match tap {
            LayerTap::Leaf(leaf) => leaf.grad(grads).map(|g| TappedGrad::Tensor(g.inner())),
            LayerTap::Hook(slot) => self.sink.as_ref()?.get(*slot).map(TappedGrad::Reduced),
        }
    }

    /// [`Tap::tapped_grad`] of layer `index` (1-based) for every time step it observed, in
    /// order (empty for a layer without time steps).
    pub(crate) fn tapped_step_grads(
        &self,
        index: usize,
        grads: &Gradients,
    ) -> Vec<Option<TappedGrad>> {
        index
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .map(|taps| taps.iter().map(|t| self.tapped(t, grads)).collect())
            .unwrap_or_default()
    }
}

/// A tapped activation gradient as the recorder gets it.
#[allow(clippy::large_enum_variant)] // see `Sum`
#[derive(Debug, Clone)]
pub(crate) enum TappedGrad {
    /// ‖∂L/∂h‖², reduced by the hook during `backward()`.
    Reduced(f64),
    /// ∂L/∂h itself (a zero leaf's gradient), to reduce.
    Tensor(Tensor<2>),
}

impl TappedGrad {
    /// ‖∂L/∂h‖².
    pub(crate) fn sum_sq(self, r: Reducer) -> Sum {
        match self {
            TappedGrad::Reduced(v) => Sum::Host(v),
            TappedGrad::Tensor(g) => r.reduce_sq(g),
        }
    }
}

impl Tap {
    /// A fresh autodiff leaf (its own gradient) over a zero buffer of `h`'s shape, shared by
    /// every leaf of that shape.
    fn zero_leaf(&mut self, h: &Tensor<2>) -> Tensor<2> {
        let dims = h.dims();
        let zero = match self.zeros.iter().find(|z| z.dims() == dims) {
            Some(z) => z.clone(),
            None => {
                let z = Tensor::<2>::zeros(dims, &h.device()).inner();
                self.zeros.push(z.clone());
                z
            }
        };
        Tensor::from_inner(zero).require_grad()
    }

    /// ∂L/∂h_t of layer `index` (1-based) for every time step it observed, in order (empty
    /// for a layer without time steps; `None` for a step that took no part in the loss).
    /// (Zero-leaf taps only, as [`Tap::activation_grad`]; hooked steps answer `None`.)
    pub fn step_grads(&self, index: usize, grads: &Gradients) -> Vec<Option<Tensor<2>>> {
        index
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .map(|taps| taps.iter().map(|t| t.leaf_grad(grads)).collect())
            .unwrap_or_default()
    }

    /// Taps `h`: through the hook where the mode asks for it and the backend has it (a CPU
    /// backend), else with a zero leaf.
    fn attach(&mut self, h: Tensor<2>) -> (Tensor<2>, LayerTap) {
        let hookable = self.mode == TapMode::Hook
            && matches!(
                BackendKind::of(&h.device()),
                Some(BackendKind::Flex | BackendKind::Ndarray)
            );
        if hookable {
            let sink = self.sink.get_or_insert_with(HookSink::new).clone();
            let slot = self.slots;
            self.slots += 1;
            (hook(h, &sink, slot), LayerTap::Hook(slot))
        } else {
            let leaf = self.zero_leaf(&h);
            // `h` is usually referenced nowhere else (autodiff keeps activations' inputs, not
            // their outputs), so the backend adds in place; the statistics then read the sum,
            // which equals h (x + 0 = x; only the sign of a zero can change, which no statistic
            // sees).
            (h.add(leaf.clone()), LayerTap::Leaf(leaf))
        }
    }
}

impl LayerObserver for Tap {
    fn observe_step(&mut self, info: LayerInfo<'_>, _t: usize, h: Tensor<2>) -> Tensor<2> {
        let (out, tap) = self.attach(h);
        let i = info.index.saturating_sub(1);
        if self.steps.len() <= i {
            self.steps.resize(i + 1, Vec::new());
        }
        self.steps[i].push(tap);
        out
    }

    fn observe(&mut self, info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        self.activations.push(info.activation);
        let (out, tap) = self.attach(h);
        self.taps.push(tap);
        if self.with_stats {
            self.outputs.push(out.clone().inner());
        }
        out
    }
}

/// The statistics of one layer's output `h`: in one pass on the host for a [`Reducer::Host`]
/// (a CPU backend), else queued on the device. `ones` is a `[1, batch]` row of ones made once per
/// step for the device column sums.
pub(crate) fn layer_stats(
    h: Tensor<2>,
    activation: Option<Activation>,
    r: Reducer,
    ones: Option<&Tensor<2>>,
) -> LayerStats {
    let [_, units] = h.dims();
    let numel = h.shape().num_elements();
    if r == Reducer::Host
        && let Some(st) =
            crate::host::with_f32(&h, |x| crate::host::layer_stats(x, units, activation))
    {
        return LayerStats {
            sum: Sum::Host(st.sum),
            centred_sq: Sum::Host(st.centred_sq),
            numel,
            saturated: st.saturated.map(Sum::Host),
            relu_column_sums: st.column_sums.map(Columns::Host),
            units,
        };
    }
    let n = numel.max(1) as f64;
    let columns = r.column_sums_with(h.clone(), ones);
    let sum = columns.clone().sum();
    let mean = sum.clone().div_scalar(n).reshape([1, 1]);
    let centred_sq = r.sum_sq(h.clone().sub(mean));
    let saturated = match activation {
        Some(Activation::Tanh) => Some(h.clone().abs().greater_elem(TANH_SATURATION).float().sum()),
        Some(Activation::Sigmoid) => Some(
            h.clone()
                .lower_elem(SIGMOID_SATURATION)
                .bool_or(h.clone().greater_elem(1.0 - SIGMOID_SATURATION))
                .float()
                .sum(),
        ),
        _ => None,
    };
    // A ReLU layer's output is non-negative (the `Block::output_activation` contract), so the
    // column sums the mean came from also say which units are alive.
    let relu_column_sums = match activation {
        Some(a) if a.can_die() => Some(Columns::Device(columns.reshape([units as i64]))),
        _ => None,
    };
    LayerStats {
        sum: Sum::Device(sum),
        centred_sq: Sum::Device(centred_sq),
        numel,
        saturated: saturated.map(Sum::Device),
        relu_column_sums,
        units,
    }
}

/// Counts the non-finite entries of a tensor (one extra pass; called only when a cheaper check
/// already saw something non-finite).
pub fn count_nonfinite<const D: usize>(t: Tensor<D>) -> u64 {
    let numel = t.shape().num_elements() as f64;
    let finite: f64 = t.is_finite().float().sum().into_scalar::<f64>();
    (numel - finite).round().max(0.0) as u64
}
