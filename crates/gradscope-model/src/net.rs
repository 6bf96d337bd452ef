//! Networks as stacks of observed layers: the [`Network`] trait and [`DeepNet`], the stack of
//! any [`Block`] with an output head.

use burn::module::{Module, ModuleVisitor, ParamId};
use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::observer::{LayerInfo, LayerObserver, NoObserver};
use crate::{Block, ForwardCtx};

/// A network whose hidden layers can be observed and whose parameters can be visited layer by
/// layer. This is what the diagnostics and the trainer work with.
///
/// Layers are indexed 1..=[`Network::num_layers`]; layer `l`'s output `h_l` is handed to the
/// observer during [`Network::forward_observed`]. The output head (if any) comes after the last
/// observed layer.
pub trait Network: Module {
    /// Number of observed layer boundaries (the depth).
    fn num_layers(&self) -> usize;

    /// Stable name of layer `index` (1-based), also the path prefix of its parameters.
    fn layer_name(&self, index: usize) -> String;

    /// Forward pass that hands each layer's output to `observer` and continues with what the
    /// observer returns.
    fn forward_observed(
        &self,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2>;

    /// Forward pass without observation.
    fn forward(&self, x: Tensor<2>, ctx: &ForwardCtx) -> Tensor<2> {
        self.forward_observed(x, ctx, &mut NoObserver)
    }

    /// Visits the parameters that belong to layer `index` (1-based) alone. Parameters shared by
    /// several layers (a tied chain's w and b) belong to none.
    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V);

    /// The parameters of the output head: what the head-only control trains alone, with every
    /// other parameter frozen. Empty (the default) for a network without a separate head, whose
    /// control then never moves.
    fn head_params(&self) -> Vec<ParamId> {
        Vec::new()
    }

    /// The square matrix that carries layer `index`'s (1-based) state from one time step to
    /// the next (`W_hh`), for a recurrent layer; `None` (the default) for any other. The
    /// recorder reports its spectral norm and spectral radius: with a tanh cell and
    /// ‖W_hh‖₂ < 1 the signal through time must vanish (Pascanu et al. 2013).
    fn recurrent_matrix(&self, index: usize) -> Option<Tensor<2>> {
        let _ = index;
        None
    }
}

/// The parameter ids of a linear layer (weight, then bias).
pub fn linear_params(linear: &Linear) -> Vec<ParamId> {
    std::iter::once(linear.weight.id)
        .chain(linear.bias.as_ref().map(|b| b.id))
        .collect()
}

/// A deep network: a stack of blocks, each observed, then a linear output head.
#[derive(Module, Debug)]
pub struct DeepNet<B: Block> {
    /// The hidden blocks; block `i` is layer `i + 1`.
    pub blocks: Vec<B>,
    /// The output head, separate from the hidden stack.
    pub head: Linear,
}

impl<B: Block> DeepNet<B> {
    /// Stacks `blocks` under `head`.
    pub fn new(blocks: Vec<B>, head: Linear) -> Self {
        Self { blocks, head }
    }
}

impl<B: Block> Network for DeepNet<B> {
    fn num_layers(&self) -> usize {
        self.blocks.len()
    }

    fn layer_name(&self, index: usize) -> String {
        format!("blocks.{}", index - 1)
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        let mut h = x;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h, ctx);
            let name = self.layer_name(i + 1);
            let info = LayerInfo {
                index: i + 1,
                name: &name,
                activation: block.output_activation(),
            };
            h = observer.observe(info, h);
        }
        self.head.forward(h)
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        if let Some(block) = self.blocks.get(index - 1) {
            block.visit(visitor);
        }
    }

    fn head_params(&self) -> Vec<ParamId> {
        linear_params(&self.head)
    }
}
