//! The lecture's scalar chain: `h_k = w_k · h_{k−1} + b_k`, `h_0 = x`.
//!
//! With one `w` and `b` shared by every layer (tied), the closed forms are
//! `h_k = wᵏ x + b (1 − wᵏ)/(1 − w)` (`x + k b` at `w = 1`) and `∂h_N/∂h_k = w^(N−k)`: the
//! gradient k layers below the output is scaled by a power of w, which vanishes for |w| < 1 and
//! explodes for |w| > 1. Untied chains give each layer its own scalar.
//!
//! Applied to a `[batch, d]` input the chain acts on every coordinate independently; an optional
//! linear head maps the result to the output dimension, so the chain trains like any other net.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::block::linear;
use crate::init::{InitKind, WeightInit};
use crate::observer::{LayerInfo, LayerObserver};
use crate::{ForwardCtx, Network};

/// Configuration of a [`ScalarChain`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainConfig {
    /// Number of layers N (≥ 1).
    pub depth: usize,
    /// Initial weight w (every layer's, tied or not).
    pub w: f64,
    /// Initial bias b.
    pub b: f64,
    /// One shared (w, b) for all layers (the lecture's model) or one per layer.
    pub tied: bool,
    /// `(d_in, d_out)` of a linear output head (LeCun init, zero bias), or `None` for the bare
    /// chain whose output is h_N.
    pub head: Option<(usize, usize)>,
}

/// The scalar chain network. See the module docs.
#[derive(Module, Debug)]
pub struct ScalarChain {
    /// Per-layer weights (one entry when tied), each of shape `[1]`.
    pub weights: Vec<Param<Tensor<1>>>,
    /// Per-layer biases (one entry when tied), each of shape `[1]`.
    pub biases: Vec<Param<Tensor<1>>>,
    /// Optional output head.
    pub head: Option<Linear>,
    /// Number of layers.
    #[module(skip)]
    pub depth: usize,
}

impl ChainConfig {
    /// Builds the chain on `device`.
    pub fn init(&self, device: &Device) -> ScalarChain {
        let n = if self.tied { 1 } else { self.depth };
        let scalar = |v: f64| Param::from_tensor(Tensor::<1>::full([1], v, device));
        ScalarChain {
            weights: (0..n).map(|_| scalar(self.w)).collect(),
            biases: (0..n).map(|_| scalar(self.b)).collect(),
            head: self.head.map(|(d_in, d_out)| {
                linear(
                    d_in,
                    d_out,
                    &WeightInit::new(InitKind::LecunNormal, 1.0),
                    Some(0.0),
                    device,
                )
            }),
            depth: self.depth,
        }
    }
}

impl ScalarChain {
    /// Whether all layers share one (w, b).
    pub fn is_tied(&self) -> bool {
        self.weights.len() == 1 && self.depth > 1
    }

    fn layer_params(&self, index: usize) -> (&Param<Tensor<1>>, &Param<Tensor<1>>) {
        let i = if self.weights.len() == 1 {
            0
        } else {
            index - 1
        };
        (&self.weights[i], &self.biases[i])
    }
}

impl Network for ScalarChain {
    fn num_layers(&self) -> usize {
        self.depth
    }

    fn layer_name(&self, index: usize) -> String {
        format!("layers.{}", index - 1)
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        _ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        let mut h = x;
        for k in 1..=self.depth {
            let (w, b) = self.layer_params(k);
            h = h.mul(w.val().reshape([1, 1])).add(b.val().reshape([1, 1]));
            let name = self.layer_name(k);
            let info = LayerInfo {
                index: k,
                name: &name,
                activation: None,
            };
            h = observer.observe(info, h);
        }
        match &self.head {
            Some(head) => head.forward(h),
            None => h,
        }
    }

    fn head_params(&self) -> Vec<burn::module::ParamId> {
        self.head
            .as_ref()
            .map(crate::net::linear_params)
            .unwrap_or_default()
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        if self.is_tied() || index == 0 || index > self.depth {
            return;
        }
        let (w, b) = self.layer_params(index);
        visitor.enter_module("weight", "Struct:ScalarLayer");
        w.visit(visitor);
        visitor.exit_module("weight", "Struct:ScalarLayer");
        visitor.enter_module("bias", "Struct:ScalarLayer");
        b.visit(visitor);
        visitor.exit_module("bias", "Struct:ScalarLayer");
    }
}

/// Closed form of the tied chain's activation after k layers: `wᵏ x + b (1 − wᵏ)/(1 − w)`, and
/// `x + k b` at `w = 1`.
pub fn chain_activation_closed_form(w: f64, b: f64, x: f64, k: usize) -> f64 {
    let wk = w.powi(k as i32);
    if w == 1.0 {
        x + k as f64 * b
    } else {
        wk * x + b * (1.0 - wk) / (1.0 - w)
    }
}

/// Closed form of the tied chain's gradient `∂h_N/∂h_k = w^(N−k)`.
pub fn chain_grad_closed_form(w: f64, depth: usize, k: usize) -> f64 {
    w.powi((depth - k) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::CollectOutputs;

    /// The forward pass matches the closed form for a range of w, to f32 rounding: each layer
    /// adds at most a couple of ulps of relative error, so 50 layers stay well inside 1e-5.
    #[test]
    fn forward_matches_closed_form() {
        let device = crate::BackendKind::Ndarray.device();
        for &w in &[0.5, 0.9, 1.0, 1.1, 2.0, -0.7] {
            for tied in [true, false] {
                let n = 50;
                let (b, x) = (0.1, 1.0);
                let chain = ChainConfig {
                    depth: n,
                    w,
                    b,
                    tied,
                    head: None,
                }
                .init(&device);
                let mut obs = CollectOutputs::default();
                let input = Tensor::<2>::from_floats([[x as f32]], &device);
                let _ = chain.forward_observed(input, &ForwardCtx::EVAL, &mut obs);
                for (k, h) in obs.outputs.into_iter().enumerate() {
                    let got = h.into_scalar::<f32>() as f64;
                    let want = chain_activation_closed_form(w, b, x, k + 1);
                    let rel = (got - want).abs() / want.abs().max(1e-30);
                    assert!(rel <= 1e-5, "w={w} k={} got {got} want {want}", k + 1);
                }
            }
        }
    }
}
