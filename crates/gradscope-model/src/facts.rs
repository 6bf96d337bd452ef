//! Plain facts about a model: what the diagnosis and the mean-field theory read, instead of the
//! model's own configuration type.
//!
//! The diagnostics never match on which built-in model a run used: they ask what it is made of
//! (its depth, activation, initialisation, skips, norms) and choose remedies and theory from
//! that. A built-in architecture states its facts in [`crate::Architecture::facts`]; a network of
//! a user's own can state them too (every field but the depth is optional), or state none, and
//! then gets the remedies that hold for every architecture.

use crate::rnn::{Cell, RecurrentInit};
use crate::{Activation, NormKind, NormPosition, WeightInit};

/// What a model is made of, as far as gradient flow is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFacts {
    /// The shape of the model: a stack of layers, or the lecture's scalar chain.
    pub family: Family,
    /// Observed layers.
    pub depth: usize,
    /// Hidden width, if all hidden layers share one.
    pub width: Option<usize>,
    /// The activation every hidden layer ends in, if there is one.
    pub activation: Option<Activation>,
    /// How the hidden weights were drawn, if by one initialiser.
    pub init: Option<InitFacts>,
    /// Standard deviation of the bias initialisation, when the layers have biases.
    pub bias_std: Option<f64>,
    /// Skip connections, when the blocks have them.
    pub residual: Option<ResidualFacts>,
    /// Normalisation (`NormKind::None` without).
    pub norm: NormKind,
    /// Where the normalisation sits.
    pub norm_position: NormPosition,
}

impl ModelFacts {
    /// A stack of `depth` layers of which nothing else is known.
    pub fn stack(depth: usize) -> Self {
        Self {
            family: Family::Stack,
            depth,
            width: None,
            activation: None,
            init: None,
            bias_std: None,
            residual: None,
            norm: NormKind::None,
            norm_position: NormPosition::Pre,
        }
    }

    /// Whether blocks have skip connections.
    pub fn is_residual(&self) -> bool {
        self.residual.is_some()
    }

    /// Whether the layers are normalised.
    pub fn is_normalised(&self) -> bool {
        self.norm != NormKind::None
    }
}

/// The shape of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// Layers stacked one on the other (MLPs, conv nets, a user's blocks).
    Stack,
    /// The scalar chain `h_k = w·h_{k−1} + b`: every layer multiplies the gradient by `w`.
    ScalarChain {
        /// The initial weight w.
        w: f64,
    },
    /// Stacked recurrent layers unrolled over `steps` time steps (the layers are the stack;
    /// the time steps of each are observed too).
    Recurrent {
        /// The cell.
        cell: Cell,
        /// Time steps of the sequence.
        steps: usize,
        /// Scale ρ of the recurrent matrices at initialisation.
        rho: f64,
        /// How the recurrent matrices were drawn.
        recurrent_init: RecurrentInit,
    },
}

/// How a model's weights were initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitFacts {
    /// The initialiser and its gain (or scale) σ_w.
    pub init: WeightInit,
    /// The effective σ_w² (variance × fan-in) of the first layer's weights.
    pub sigma_w2_first: f64,
    /// The effective σ_w² of the hidden-to-hidden weights.
    pub sigma_w2_hidden: f64,
}

/// Skip connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResidualFacts {
    /// Linear maps in each block's branch.
    pub block_linears: usize,
    /// Initial learnable branch scale α₀ (`None`: fixed α = 1).
    pub branch_scale: Option<f64>,
}
