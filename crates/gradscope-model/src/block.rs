//! The [`Block`] trait, the unit a deep network is stacked from, and the built-in
//! [`DenseBlock`] (plain or residual, with optional normalisation).

use burn::module::{Module, ModuleDisplay, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::init::{WeightInit, draw_bias};
use crate::norm::{Norm, NormKind, NormPosition};
use crate::{Activation, ForwardCtx};

/// One layer of a deep network: `[batch, in] → [batch, out]`.
///
/// Implement this for a new architecture and stack it with [`crate::DeepNet`]: the network
/// observes the output of every block, so the diagnostics (gradient taps, activation statistics,
/// parameter gradient and weight norms per block) come with it. `examples/custom_block.rs` shows
/// a highway block done this way.
pub trait Block: Module + ModuleDisplay {
    /// The block's forward pass. `ctx` says whether batch-dependent layers use batch statistics.
    ///
    /// # Shapes
    /// - input `[batch, d_in]`
    /// - output `[batch, d_out]`
    fn forward(&self, x: Tensor<2>, ctx: &ForwardCtx) -> Tensor<2>;

    /// The activation the block's output comes out of, if any: it decides which saturation and
    /// dead-unit statistics are meaningful. `None` (the default) reports mean and spread only.
    /// `Some(a)` promises that the output is `a`'s output as it is (not a sum or a normalisation
    /// of it): for ReLU the recorder relies on the output being non-negative.
    fn output_activation(&self) -> Option<Activation> {
        None
    }
}

/// Builds a `Linear` from an initialiser, drawing its weight (and bias) eagerly.
pub fn linear(
    fan_in: usize,
    fan_out: usize,
    init: &WeightInit,
    bias: Option<f64>,
    device: &Device,
) -> Linear {
    let weight = Param::from_tensor(init.draw(fan_in, fan_out, device));
    let bias = bias.map(|sigma_b| Param::from_tensor(draw_bias(fan_out, sigma_b, device)));
    Linear { weight, bias }
}

/// The shape of a [`DenseBlock`]: everything about it that is not a tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseLayout {
    /// The activation φ.
    pub activation: Activation,
    /// Whether the block has an identity (or projection) skip around its branch.
    pub residual: bool,
    /// Where its normalisation sits, if it has one.
    pub norm_position: NormPosition,
}

/// A fully connected block, plain or residual.
///
/// With `linears = [W₁, …, W_k]`, φ the activation and N a normalisation:
///
/// - plain (`k = 1`): `h = φ(N(W x + b))` for norm position `pre`, `h = N(φ(W x + b))` for `post`;
/// - residual, `pre` (pre-norm, pre-activation ResNet):
///   `h = P x + α·F(x)` with `F(x) = W_k φ(N_k(… W₁ φ(N₁(x)) + b₁ …)) + b_k`;
/// - residual, `post` (post-norm):
///   `h = φ(N(P x + α·F(x)))` with `F(x) = W_k φ(… φ(W₁ x + b₁) …) + b_k`;
///
/// where `P` is the identity, or a bias-free linear projection when the width changes, and `α` is
/// 1 or a learnable scalar (α₀ = 0 is ReZero / SkipInit).
#[derive(Module, Debug)]
pub struct DenseBlock {
    /// The block's linear maps, in order.
    pub linears: Vec<Linear>,
    /// Normalisation layers: one per linear for a residual `pre` block, one for a plain block or
    /// a residual `post` block, none without normalisation.
    pub norms: Vec<Norm>,
    /// Projection on the skip path when input and output widths differ (residual only).
    pub projection: Option<Linear>,
    /// Learnable branch scale α (shape `[1]`), residual only.
    pub alpha: Option<Param<Tensor<1>>>,
    /// What the block looks like.
    #[module(skip)]
    pub layout: DenseLayout,
}

/// Everything needed to build one [`DenseBlock`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseBlockConfig {
    /// Input width.
    pub d_in: usize,
    /// Output width (and the width of every inner layer).
    pub d_out: usize,
    /// Layout: activation, residual or not, norm position.
    pub layout: DenseLayout,
    /// Normalisation kind.
    pub norm: NormKind,
    /// Linear maps per block (1 or 2; a plain block always has 1).
    pub linears: usize,
    /// Weight initialiser.
    pub init: WeightInit,
    /// Bias standard deviation; `None` for no bias.
    pub bias: Option<f64>,
    /// Initial learnable branch scale α₀ (residual only); `None` for a fixed α = 1.
    pub branch_scale: Option<f64>,
}

impl DenseBlockConfig {
    /// Builds the block, drawing its weights now in a fixed order (linears, then projection).
    pub fn init(&self, device: &Device) -> DenseBlock {
        let DenseLayout {
            residual,
            norm_position,
            ..
        } = self.layout;
        let k = if residual { self.linears.max(1) } else { 1 };
        let linears = (0..k)
            .map(|i| {
                let fan_in = if i == 0 { self.d_in } else { self.d_out };
                linear(fan_in, self.d_out, &self.init, self.bias, device)
            })
            .collect();
        let norms = match (residual, norm_position) {
            (true, NormPosition::Pre) => (0..k)
                .filter_map(|i| {
                    let features = if i == 0 { self.d_in } else { self.d_out };
                    self.norm.init(features, device)
                })
                .collect(),
            _ => self.norm.init(self.d_out, device).into_iter().collect(),
        };
        let projection = (residual && self.d_in != self.d_out)
            .then(|| linear(self.d_in, self.d_out, &self.init, None, device));
        let alpha = self
            .branch_scale
            .filter(|_| residual)
            .map(|a0| Param::from_tensor(Tensor::<1>::full([1], a0, device)));
        DenseBlock {
            linears,
            norms,
            projection,
            alpha,
            layout: self.layout,
        }
    }
}

impl DenseBlock {
    fn norm(&self, i: usize, x: Tensor<2>, ctx: &ForwardCtx) -> Tensor<2> {
        match self.norms.get(i) {
            Some(norm) => norm.forward(x, ctx),
            None => x,
        }
    }

    fn add_skip(&self, x: Tensor<2>, branch: Tensor<2>) -> Tensor<2> {
        let skip = match &self.projection {
            Some(p) => p.forward(x),
            None => x,
        };
        let branch = match &self.alpha {
            Some(alpha) => branch.mul(alpha.val().reshape([1, 1])),
            None => branch,
        };
        skip.add(branch)
    }
}

impl Block for DenseBlock {
    fn forward(&self, x: Tensor<2>, ctx: &ForwardCtx) -> Tensor<2> {
        let DenseLayout {
            activation: act,
            residual,
            norm_position,
        } = self.layout;
        match (residual, norm_position) {
            (false, NormPosition::Pre) => {
                act.forward(self.norm(0, self.linears[0].forward(x), ctx))
            }
            (false, NormPosition::Post) => {
                self.norm(0, act.forward(self.linears[0].forward(x)), ctx)
            }
            (true, NormPosition::Pre) => {
                let mut t = x.clone();
                for (i, lin) in self.linears.iter().enumerate() {
                    t = lin.forward(act.forward(self.norm(i, t, ctx)));
                }
                self.add_skip(x, t)
            }
            (true, NormPosition::Post) => {
                let mut t = x.clone();
                let last = self.linears.len() - 1;
                for (i, lin) in self.linears.iter().enumerate() {
                    t = lin.forward(t);
                    if i < last {
                        t = act.forward(t);
                    }
                }
                act.forward(self.norm(0, self.add_skip(x, t), ctx))
            }
        }
    }

    fn output_activation(&self) -> Option<Activation> {
        let DenseLayout {
            activation,
            residual,
            norm_position,
        } = self.layout;
        match (residual, norm_position) {
            // Pre-norm residual output is a sum, not an activation; plain post-norm output is
            // normalised after φ, so φ's saturation range no longer applies.
            (true, NormPosition::Pre) => None,
            (false, NormPosition::Post) if !self.norms.is_empty() => None,
            _ => Some(activation),
        }
    }
}
