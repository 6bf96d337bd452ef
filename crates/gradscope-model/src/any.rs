//! The built-in models behind one type, so a config can choose between them at run time.

use burn::module::{Module, ModuleVisitor};
use burn::tensor::{Device, Tensor};

use crate::observer::LayerObserver;
use crate::{ChainConfig, DeepNet, DenseBlock, ForwardCtx, MlpConfig, Network, ScalarChain};

/// A checked description of a built-in model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModelSpec {
    /// A deep MLP (plain, residual, normalised).
    Mlp(MlpConfig),
    /// The scalar chain with a linear head.
    Chain(ChainConfig),
}

impl ModelSpec {
    /// Builds the model, every parameter drawn now (see [`crate::materialize_params`]).
    pub fn init(&self, device: &Device) -> AnyNet {
        let net = match self {
            ModelSpec::Mlp(c) => AnyNet::Mlp(c.init(device)),
            ModelSpec::Chain(c) => AnyNet::Chain(c.init(device)),
        };
        crate::materialize_params(&net);
        net
    }

    /// The name of layer `index` (1-based), as the built network's [`Network::layer_name`].
    pub fn layer_name(&self, index: usize) -> String {
        match self {
            ModelSpec::Mlp(_) => format!("blocks.{}", index.saturating_sub(1)),
            ModelSpec::Chain(_) => format!("layers.{}", index.saturating_sub(1)),
        }
    }

    /// How much memory the model takes, from its configuration alone: checked before anything
    /// is built, so that a size that cannot fit is refused instead of aborting the process.
    pub fn footprint(&self) -> Footprint {
        match self {
            ModelSpec::Mlp(c) => {
                // f64 throughout: a width of 10⁹ squared times a depth overflows u64.
                let (d_in, w, out) = (c.input_dim as f64, c.width as f64, c.output_dim as f64);
                let linears = c.block_linears as f64;
                let first = d_in * w
                    + (linears - 1.0) * w * w
                    + if c.residual && c.input_dim != c.width {
                        d_in * w
                    } else {
                        0.0
                    };
                let rest = (c.depth as f64 - 1.0) * linears * w * w;
                // Biases, norm scales and shifts, branch scales: a few vectors per block.
                let vectors = c.depth as f64 * (linears + 3.0) * w;
                Footprint {
                    parameters: first + rest + vectors + w * out + out,
                    // What autodiff keeps per sample and block: each linear's input and output,
                    // the activation, the norm's output, and the observation tap.
                    activations_per_sample: c.depth as f64 * (3.0 * linears + 3.0) * w + out,
                    widest_layer: w.max(d_in).max(out),
                }
            }
            ModelSpec::Chain(c) => {
                let (d_in, out) = c.head.map_or((1.0, 1.0), |(i, o)| (i as f64, o as f64));
                Footprint {
                    parameters: 2.0 * c.depth as f64 + d_in * out + out,
                    activations_per_sample: 3.0 * c.depth as f64 * d_in + out,
                    widest_layer: d_in.max(out),
                }
            }
        }
    }

    /// Number of observed layers.
    pub fn depth(&self) -> usize {
        match self {
            ModelSpec::Mlp(c) => c.depth,
            ModelSpec::Chain(c) => c.depth,
        }
    }
}

/// The sizes of a model that decide its memory, in numbers of f32 values (see
/// [`ModelSpec::footprint`]). Estimates, kept on the generous side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Trainable parameters.
    pub parameters: f64,
    /// Values autodiff keeps per sample of a batch for the backward pass.
    pub activations_per_sample: f64,
    /// The widest layer (an evaluation pass holds about two layers of this width per row).
    pub widest_layer: f64,
}

/// Any built-in model.
#[derive(Module, Debug)]
pub enum AnyNet {
    /// A deep MLP.
    Mlp(DeepNet<DenseBlock>),
    /// The scalar chain.
    Chain(ScalarChain),
}

impl Network for AnyNet {
    fn num_layers(&self) -> usize {
        match self {
            AnyNet::Mlp(n) => n.num_layers(),
            AnyNet::Chain(n) => n.num_layers(),
        }
    }

    fn layer_name(&self, index: usize) -> String {
        match self {
            AnyNet::Mlp(n) => n.layer_name(index),
            AnyNet::Chain(n) => n.layer_name(index),
        }
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        match self {
            AnyNet::Mlp(n) => n.forward_observed(x, ctx, observer),
            AnyNet::Chain(n) => n.forward_observed(x, ctx, observer),
        }
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        match self {
            AnyNet::Mlp(n) => n.visit_layer(index, visitor),
            AnyNet::Chain(n) => n.visit_layer(index, visitor),
        }
    }

    fn head_params(&self) -> Vec<burn::module::ParamId> {
        match self {
            AnyNet::Mlp(n) => n.head_params(),
            AnyNet::Chain(n) => n.head_params(),
        }
    }
}
