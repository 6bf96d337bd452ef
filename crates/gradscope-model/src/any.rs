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

    /// Number of observed layers.
    pub fn depth(&self) -> usize {
        match self {
            ModelSpec::Mlp(c) => c.depth,
            ModelSpec::Chain(c) => c.depth,
        }
    }
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
}
