//! Locating the first inf or NaN: the step, the layer that produced it, and the kind of quantity.
//!
//! Once a value overflows it spreads: forward to every later layer, backward to every earlier
//! one, then into the weights. The producer is the first place in the order the step computes
//! things: forward activations from the first layer up, the loss, the backward signal from the
//! last layer down, parameter gradients, then the weights the update wrote.

pub use gradscope_record::{NonFinite, NonFiniteKind};

use crate::measure::StepMeasure;

fn bad(v: Option<f64>) -> bool {
    v.is_some_and(|x| !x.is_finite())
}

/// Finds the producer of the first non-finite value in a step's measurements, if any. Layer
/// names come from `name(l)`.
pub fn locate(step: u64, m: &StepMeasure, name: impl Fn(usize) -> String) -> Option<NonFinite> {
    let depth = m.layers.len();
    let found = |layer: usize, kind| {
        Some(NonFinite {
            step,
            layer,
            layer_name: if layer > depth {
                "head".into()
            } else {
                name(layer)
            },
            kind,
        })
    };
    for (i, l) in m.layers.iter().enumerate() {
        if l.act_nonfinite.is_some_and(|n| n > 0) {
            return found(i + 1, NonFiniteKind::ForwardActivation);
        }
    }
    if !m.loss.is_finite() {
        return found(depth + 1, NonFiniteKind::Loss);
    }
    for (i, l) in m.layers.iter().enumerate().rev() {
        if bad(l.act_grad_norm) {
            return found(i + 1, NonFiniteKind::BackwardSignal);
        }
    }
    if m.other_grad_nonfinite {
        return found(depth + 1, NonFiniteKind::ParameterGradient);
    }
    for (i, l) in m.layers.iter().enumerate().rev() {
        if bad(l.weight_grad_norm) || bad(l.bias_grad_norm) {
            return found(i + 1, NonFiniteKind::ParameterGradient);
        }
    }
    if !m.grad_norm.is_finite() {
        return found(depth + 1, NonFiniteKind::ParameterGradient);
    }
    for (i, l) in m.layers.iter().enumerate() {
        if l.weight_after_finite == Some(false) {
            return found(i + 1, NonFiniteKind::Weight);
        }
    }
    None
}
