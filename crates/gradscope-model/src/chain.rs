//! The lecture's scalar chain: `h_k = w_k · h_{k−1} + b_k`, `h_0 = x`.
//!
//! With one `w` and `b` shared by every layer (tied), the closed forms are
//! `h_k = wᵏ x + b (1 − wᵏ)/(1 − w)` (`x + k b` at `w = 1`) and `∂h_N/∂h_k = w^(N−k)`: the
//! gradient k layers below the output is scaled by a power of w, which vanishes for |w| < 1 and
//! explodes for |w| > 1. Untied chains give each layer its own scalar.
//!
//! With an activation φ the chain is `h_k = w·φ(h_{k−1}) + b` (Bengio et al. 1994). There is no
//! closed form for h_k, but the tied chain settles at a fixed point `a* = w·φ(a*) + b`, where each
//! step scales the gradient by `λ = w·φ'(a*)` ([`chain_fixed_point`]): w = 2 with tanh gives
//! a* = 1.9150 and λ = 0.1664, so the gradient vanishes although |w| > 1: the saturating
//! activation, not the weight, decides. [`chain_reference`] computes the recurrence and its
//! gradient in f64 to compare against.
//!
//! Applied to a `[batch, d]` input the chain acts on every coordinate independently; an optional
//! linear head maps the result to the output dimension, so the chain trains like any other net.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::block::linear;
use crate::error::check_depth;
use crate::facts::{Family, ModelFacts};
use crate::init::{InitKind, WeightInit};
use crate::observer::{LayerInfo, LayerObserver};
use crate::{Activation, Architecture, DataShape, Footprint, ForwardCtx, ModelError, Network};

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
    /// φ in `h_k = w·φ(h_{k−1}) + b`; `None` for the lecture's linear chain.
    pub activation: Option<Activation>,
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
    /// φ applied to each layer's input (`None`: the linear chain).
    #[module(skip)]
    pub activation: Option<Activation>,
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
            activation: self.activation,
        }
    }
}

impl Architecture for ChainConfig {
    type Net = ScalarChain;
    const KIND: &'static str = "chain";

    fn init(&self, device: &Device) -> Self::Net {
        ChainConfig::init(self, device)
    }

    fn with_data(mut self, data: DataShape) -> Self {
        self.head = Some((data.input_dim, data.output_dim));
        self
    }

    fn validate(&self) -> Result<(), ModelError> {
        check_depth(self.depth)?;
        for (key, v) in [("model.w", self.w), ("model.b", self.b)] {
            if !v.is_finite() {
                return Err(ModelError::invalid(key, v.to_string(), "must be finite"));
            }
        }
        Ok(())
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn layer_name(&self, index: usize) -> String {
        format!("layers.{}", index.saturating_sub(1))
    }

    fn footprint(&self) -> Footprint {
        let (d_in, out) = self.head.map_or((1.0, 1.0), |(i, o)| (i as f64, o as f64));
        Footprint {
            parameters: 2.0 * self.depth as f64 + d_in * out + out,
            activations_per_sample: 3.0 * self.depth as f64 * d_in + out,
            widest_layer: d_in.max(out),
        }
    }

    fn facts(&self) -> ModelFacts {
        ModelFacts {
            family: Family::ScalarChain { w: self.w },
            width: Some(1),
            activation: Some(self.activation.unwrap_or(Activation::Identity)),
            ..ModelFacts::stack(self.depth)
        }
    }

    fn describe(&self) -> String {
        format!(
            "chain: {} layers, w = {}, b = {}, {}{}",
            self.depth,
            self.w,
            self.b,
            if self.tied { "tied" } else { "untied" },
            self.activation
                .map_or(String::new(), |a| format!(", h_k = w*{a}(h_(k-1)) + b")),
        )
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
            let input = match self.activation {
                Some(a) => a.forward(h),
                None => h,
            };
            h = input
                .mul(w.val().reshape([1, 1]))
                .add(b.val().reshape([1, 1]));
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

/// The fixed point of the tied chain with activation φ, `a* = w·φ(a*) + b`, and the factor
/// `λ = w·φ'(a*)` by which each step scales the gradient there. Found by iterating the chain from
/// `x` in f64 (what the forward pass does), so it is the fixed point the chain actually reaches;
/// `None` when the iteration does not settle (|λ| ≥ 1, or an oscillation) within 10 000 steps.
pub fn chain_fixed_point(w: f64, b: f64, x: f64, activation: Activation) -> Option<(f64, f64)> {
    let mut a = x;
    for _ in 0..10_000 {
        let next = w * activation.eval(a) + b;
        if !next.is_finite() {
            return None;
        }
        if (next - a).abs() <= 1e-15 * next.abs().max(1.0) {
            return Some((next, w * activation.derivative(next)));
        }
        a = next;
    }
    None
}

/// The tied chain with activation φ computed in f64: `h_k` for k = 1..=N, and `∂h_N/∂h_k`
/// (the product of `w·φ'(h_j)` for j = k..N−1), the reference the f32 forward and autodiff
/// passes are compared with.
pub fn chain_reference(
    w: f64,
    b: f64,
    x: f64,
    depth: usize,
    activation: Activation,
) -> (Vec<f64>, Vec<f64>) {
    let mut h = Vec::with_capacity(depth);
    let mut prev = x;
    for _ in 0..depth {
        prev = w * activation.eval(prev) + b;
        h.push(prev);
    }
    let mut grads = vec![1.0; depth];
    for k in (1..depth).rev() {
        // ∂h_{k+1}/∂h_k = w·φ'(h_k); h_k is h[k − 1].
        grads[k - 1] = grads[k] * w * activation.derivative(h[k - 1]);
    }
    (h, grads)
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
                    activation: None,
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

    /// Bengio et al. 1994: w = 2, b = 0 with tanh settles at a* = 1.9150 where each step keeps
    /// λ = 0.1664 of the gradient (both to the 4 digits the paper gives).
    #[test]
    fn tanh_fixed_point_is_bengios() {
        let (a, lambda) = chain_fixed_point(2.0, 0.0, 1.0, Activation::Tanh).unwrap();
        assert!((a - 1.9150).abs() < 5e-5, "{a}");
        assert!((lambda - 0.1664).abs() < 5e-5, "{lambda}");
        // |λ| ≥ 1 never settles: w = 1.5 with the identity grows without bound.
        assert!(chain_fixed_point(1.5, 0.1, 1.0, Activation::Identity).is_none());
    }

    /// The f32 forward pass and autodiff gradient of the tanh chain match the f64 reference, and
    /// the measured per-step factor ∂h_N/∂h_k ÷ ∂h_N/∂h_(k+1) converges to λ: the chain reaches
    /// a* within ~15 steps (the error shrinks by about λ per step), and f32 rounding of tanh near
    /// saturation stays far below 1e-3 relative.
    #[test]
    fn tanh_chain_factor_converges_to_lambda() {
        let device = crate::BackendKind::Ndarray.autodiff_device();
        let (w, b, x, depth) = (2.0, 0.0, 0.5, 60);
        let chain = ChainConfig {
            depth,
            w,
            b,
            tied: true,
            head: None,
            activation: Some(Activation::Tanh),
        }
        .init(&device);
        let mut tap = crate::observer::CollectOutputs::default();
        let input = Tensor::<2>::from_floats([[x as f32]], &device);
        let out = chain.forward_observed(input, &ForwardCtx::EVAL, &mut tap);
        let (h_ref, _) = chain_reference(w, b, x, depth, Activation::Tanh);
        for (k, h) in tap.outputs.iter().enumerate() {
            let got = f64::from(h.clone().into_scalar::<f32>());
            assert!(
                (got - h_ref[k]).abs() < 1e-5 * h_ref[k].abs().max(1.0),
                "h_{}",
                k + 1
            );
        }
        let _ = out;
        let (_, lambda) = chain_fixed_point(w, b, x, Activation::Tanh).unwrap();
        let (_, g_ref) = chain_reference(w, b, x, depth, Activation::Tanh);
        for k in 30..depth - 1 {
            let factor = g_ref[k - 1] / g_ref[k];
            assert!(
                ((factor - lambda) / lambda).abs() < 1e-3,
                "k={k}: {factor} vs {lambda}"
            );
        }
    }
}
