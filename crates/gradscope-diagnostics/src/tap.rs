//! Activation-gradient taps and activation statistics, attached at the network's layer seam.
//!
//! burn keeps no gradient for intermediate tensors, so the tap adds to each layer's output `h_l` a
//! zero-valued leaf `z_l` that requires a gradient. The forward value is unchanged (`h + 0 = h`,
//! exactly, in floating point), every parameter gradient is unchanged, and burn's autodiff reports
//! `∂L/∂z_l = ∂L/∂h_l`: the back-propagated signal at that layer, from autodiff itself rather than
//! a recomputation beside it.

use burn::tensor::{Gradients, Tensor};
use gradscope_model::{Activation, LayerInfo, LayerObserver};

/// Threshold of |tanh| above which a unit counts as saturated.
pub const TANH_SATURATION: f64 = 0.99;
/// Distance from 0 or 1 within which a sigmoid unit counts as saturated.
pub const SIGMOID_SATURATION: f64 = 0.01;

/// Device-side reductions of one layer's output, computed during the forward pass.
#[derive(Debug, Clone)]
pub(crate) struct LayerStats {
    /// Mean and (population) variance of h, two-pass (`[2]`): a one-pass Σh² − (Σh)²/n loses
    /// the spread of a sigmoid layer (mean 0.5, std 10⁻³) to f32 cancellation.
    pub sums: Tensor<1>,
    /// Number of entries of h.
    pub numel: usize,
    /// Number of saturated entries, for tanh and sigmoid layers.
    pub saturated: Option<Tensor<1>>,
    /// Number of units with a positive output somewhere in the batch, for ReLU layers.
    pub alive: Option<Tensor<1>>,
    /// Number of units (columns).
    pub units: usize,
    /// The output itself (outside autodiff), kept for an exact non-finite count when the sums
    /// say there is something to count.
    pub output: Tensor<2>,
}

/// The observer that taps every layer. Build one per forward pass.
#[derive(Debug, Default)]
pub struct Tap {
    with_stats: bool,
    leaves: Vec<Tensor<2>>,
    pub(crate) stats: Vec<LayerStats>,
    pub(crate) activations: Vec<Option<Activation>>,
}

impl Tap {
    /// A tap that records activation gradients, and activation statistics if `with_stats`.
    pub fn new(with_stats: bool) -> Self {
        Self {
            with_stats,
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

impl LayerObserver for Tap {
    fn observe(&mut self, info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        if self.with_stats {
            self.stats
                .push(layer_stats(h.clone().inner(), info.activation));
        }
        self.activations.push(info.activation);
        let leaf = Tensor::<2>::zeros(h.dims(), &h.device()).require_grad();
        self.leaves.push(leaf.clone());
        h.add(leaf)
    }
}

fn layer_stats(h: Tensor<2>, activation: Option<Activation>) -> LayerStats {
    let [_, units] = h.dims();
    let numel = h.shape().num_elements();
    let mean = h.clone().mean();
    let var = h.clone().sub(mean.clone().reshape([1, 1])).square().mean();
    let sums = Tensor::cat(vec![mean, var], 0);
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
    let alive = match activation {
        Some(a) if a.can_die() => Some(h.clone().max_dim(0).greater_elem(0.0).float().sum()),
        _ => None,
    };
    LayerStats {
        sums,
        numel,
        saturated,
        alive,
        units,
        output: h,
    }
}

/// Counts the non-finite entries of a tensor (one extra pass; called only when a cheaper check
/// already saw something non-finite).
pub fn count_nonfinite<const D: usize>(t: Tensor<D>) -> u64 {
    let numel = t.shape().num_elements() as f64;
    let finite: f64 = t.is_finite().float().sum().into_scalar::<f64>();
    (numel - finite).round().max(0.0) as u64
}
