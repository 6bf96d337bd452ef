//! Activation-gradient taps and activation statistics, attached at the network's layer seam.
//!
//! burn keeps no gradient for intermediate tensors, so the tap adds to each layer's output `h_l` a
//! zero-valued leaf `z_l` that requires a gradient. The forward value is unchanged (`h + 0 = h`,
//! exactly, in floating point), every parameter gradient is unchanged, and burn's autodiff reports
//! `∂L/∂z_l = ∂L/∂h_l`: the back-propagated signal at that layer, from autodiff itself rather than
//! a recomputation beside it.

use burn::tensor::{Gradients, Tensor};
use gradscope_model::{Activation, LayerInfo, LayerObserver};

use crate::reduce::Reducer;

/// Threshold of |tanh| above which a unit counts as saturated.
pub const TANH_SATURATION: f64 = 0.99;
/// Distance from 0 or 1 within which a sigmoid unit counts as saturated.
pub const SIGMOID_SATURATION: f64 = 0.01;

/// Device-side reductions of one layer's output; the divisions and the dead-unit count are
/// finished on the host after the read-back, which saves several tiny device operations per
/// layer (their dispatch, not their arithmetic, is what costs at small widths).
#[derive(Debug, Clone)]
pub(crate) struct LayerStats {
    /// Σh (`[1]`).
    pub sum: Tensor<1>,
    /// Σ(h − mean)² (`[1]`), two-pass: a one-pass Σh² − (Σh)²/n loses the spread of a sigmoid
    /// layer (mean 0.5, std 10⁻³) to f32 cancellation.
    pub centred_sq: Tensor<1>,
    /// Number of entries of h.
    pub numel: usize,
    /// Number of saturated entries, for tanh and sigmoid layers.
    pub saturated: Option<Tensor<1>>,
    /// Column sums of h (`[units]`), for ReLU layers: their output is non-negative, so a unit is
    /// alive (positive somewhere in the batch) exactly when its column sum is positive, a sum of
    /// non-negative floats being 0 only when all of them are.
    pub relu_column_sums: Option<Tensor<1>>,
    /// Number of units (columns).
    pub units: usize,
}

/// The observer that taps every layer. Build one per forward pass ([`crate::Recorder::tap`]
/// builds one that reuses the zero tensors of the previous step).
#[derive(Debug, Default)]
pub struct Tap {
    with_stats: bool,
    leaves: Vec<Tensor<2>>,
    /// Zero tensors (outside autodiff), one per output shape seen: every leaf of that shape
    /// wraps the same read-only buffer, so a tap costs no allocation and no memset per layer.
    pub(crate) zeros: Vec<Tensor<2>>,
    /// Each layer's output outside autodiff, kept for the activation statistics, which the
    /// recorder reduces after `backward()`, in parallel across layers.
    pub(crate) outputs: Vec<Tensor<2>>,
    pub(crate) activations: Vec<Option<Activation>>,
    /// Per layer (index 0 = layer 1), the zero leaves added to its hidden state at each time
    /// step, in order (empty for layers without time steps).
    steps: Vec<Vec<Tensor<2>>>,
}

impl Tap {
    /// A tap that records activation gradients, and activation statistics if `with_stats`.
    pub fn new(with_stats: bool) -> Self {
        Self {
            with_stats,
            ..Self::default()
        }
    }

    /// A tap that starts from a cache of zero tensors (see [`crate::Recorder::tap`]).
    pub(crate) fn with_zeros(with_stats: bool, zeros: Vec<Tensor<2>>) -> Self {
        Self {
            with_stats,
            zeros,
            ..Self::default()
        }
    }

    /// Number of layers tapped so far.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether no layer was tapped.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Whether activation statistics were recorded.
    pub fn has_stats(&self) -> bool {
        self.with_stats
    }

    /// ∂L/∂h_l for layer `index` (1-based), outside autodiff; `None` if the layer took no part in
    /// the loss.
    pub fn activation_grad(&self, index: usize, grads: &Gradients) -> Option<Tensor<2>> {
        self.leaves
            .get(index.checked_sub(1)?)
            .and_then(|leaf| leaf.grad(grads))
            .map(Tensor::inner)
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
    pub fn step_grads(&self, index: usize, grads: &Gradients) -> Vec<Option<Tensor<2>>> {
        index
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .map(|leaves| {
                leaves
                    .iter()
                    .map(|leaf| leaf.grad(grads).map(Tensor::inner))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl LayerObserver for Tap {
    fn observe_step(&mut self, info: LayerInfo<'_>, _t: usize, h: Tensor<2>) -> Tensor<2> {
        let leaf = self.zero_leaf(&h);
        let i = info.index.saturating_sub(1);
        if self.steps.len() <= i {
            self.steps.resize(i + 1, Vec::new());
        }
        self.steps[i].push(leaf.clone());
        h.add(leaf)
    }

    fn observe(&mut self, info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        self.activations.push(info.activation);
        let leaf = self.zero_leaf(&h);
        self.leaves.push(leaf.clone());
        // `h` is usually referenced nowhere else (autodiff keeps activations' inputs, not their
        // outputs), so the backend adds in place; the statistics then read the sum, which equals
        // h (x + 0 = x; only the sign of a zero can change, which no statistic sees).
        let out = h.add(leaf);
        if self.with_stats {
            self.outputs.push(out.clone().inner());
        }
        out
    }
}

/// The statistics of one layer's output `h`, queued on the device. `ones` is a `[1, batch]` row
/// of ones made once per step for the column sums.
pub(crate) fn layer_stats(
    h: Tensor<2>,
    activation: Option<Activation>,
    r: Reducer,
    ones: Option<&Tensor<2>>,
) -> LayerStats {
    let [_, units] = h.dims();
    let numel = h.shape().num_elements();
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
        Some(a) if a.can_die() => Some(columns.reshape([units as i64])),
        _ => None,
    };
    LayerStats {
        sum,
        centred_sq,
        numel,
        saturated,
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
