//! Where the first inf or NaN appeared: the step, the layer that produced it, and the kind of
//! quantity (located by `gradscope-diagnostics`).

use serde::{Deserialize, Serialize};

/// The kind of quantity where a non-finite value appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonFiniteKind {
    /// A layer's output in the forward pass.
    ForwardActivation,
    /// The loss (produced by the output head or the loss itself when every layer was finite).
    Loss,
    /// The back-propagated signal ∂L/∂h at a layer.
    BackwardSignal,
    /// A parameter gradient.
    ParameterGradient,
    /// A weight after the optimiser step.
    Weight,
}

impl NonFiniteKind {
    /// The name used in records.
    pub fn name(self) -> &'static str {
        match self {
            NonFiniteKind::ForwardActivation => "forward_activation",
            NonFiniteKind::Loss => "loss",
            NonFiniteKind::BackwardSignal => "backward_signal",
            NonFiniteKind::ParameterGradient => "parameter_gradient",
            NonFiniteKind::Weight => "weight",
        }
    }
}

/// Where the first non-finite value appeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonFinite {
    /// The training step (0 = the first).
    pub step: u64,
    /// The layer (1-based); `depth + 1` stands for the output head and loss.
    pub layer: usize,
    /// The layer's name (`blocks.3`, or `head`).
    pub layer_name: String,
    /// What kind of quantity.
    pub kind: NonFiniteKind,
}
