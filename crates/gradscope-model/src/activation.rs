//! Pointwise activations, on tensors for the network and on `f64` for the theory.
//!
//! The mean-field theory in `gradscope-diagnostics` integrates φ(h)² and φ'(h)² against a
//! Gaussian, so every activation also exposes its value and derivative as plain functions. Keeping
//! both next to the tensor version is what keeps the prediction and the network in agreement.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

/// Slope of `leaky_relu` for negative inputs (PyTorch's default).
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

/// A pointwise non-linearity φ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// φ(x) = x: a deep linear network.
    Identity,
    /// φ(x) = max(0, x).
    Relu,
    /// φ(x) = x for x ≥ 0, 0.01·x otherwise.
    LeakyRelu,
    /// φ(x) = tanh(x); saturates at ±1.
    Tanh,
    /// φ(x) = 1 / (1 + e^(−x)); saturates at 0 and 1.
    Sigmoid,
    /// φ(x) = x·Φ(x) with Φ the standard normal CDF (the exact GELU, not the tanh approximation).
    Gelu,
    /// φ(x) = x·sigmoid(x), also called swish.
    Silu,
}

impl Activation {
    /// Every activation, in the order the docs list them.
    pub const ALL: [Activation; 7] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::Silu,
    ];

    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
        }
    }

    /// Applies φ elementwise to a tensor of any rank.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Identity => x,
            Activation::Relu => activation::relu(x),
            Activation::LeakyRelu => activation::leaky_relu(x, LEAKY_RELU_SLOPE),
            Activation::Tanh => activation::tanh(x),
            Activation::Sigmoid => activation::sigmoid(x),
            Activation::Gelu => activation::gelu(x),
            Activation::Silu => activation::silu(x),
        }
    }

    /// φ(x) in `f64`, for quadrature.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Activation::Identity => x,
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu => {
                if x >= 0.0 {
                    x
                } else {
                    LEAKY_RELU_SLOPE * x
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => sigmoid(x),
            Activation::Gelu => x * normal_cdf(x),
            Activation::Silu => x * sigmoid(x),
        }
    }

    /// φ'(x) in `f64`, for quadrature. At the kink of ReLU the derivative is taken as 0, as
    /// autodiff does; the kink has measure zero under a Gaussian, so the choice does not matter.
    pub fn derivative(self, x: f64) -> f64 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu => {
                if x > 0.0 {
                    1.0
                } else {
                    LEAKY_RELU_SLOPE
                }
            }
            Activation::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Activation::Sigmoid => {
                let s = sigmoid(x);
                s * (1.0 - s)
            }
            Activation::Gelu => normal_cdf(x) + x * normal_pdf(x),
            Activation::Silu => {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }
        }
    }

    /// Whether the activation has bounded outputs that can saturate (tanh, sigmoid).
    pub fn saturates(self) -> bool {
        matches!(self, Activation::Tanh | Activation::Sigmoid)
    }

    /// Whether a unit can die: output exactly zero over a whole batch (ReLU).
    pub fn can_die(self) -> bool {
        matches!(self, Activation::Relu)
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Activation::ALL.iter().map(|a| a.name()).collect();
                format!("expected one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f64 derivative agrees with a central finite difference of the f64 value.
    #[test]
    fn derivative_matches_finite_difference() {
        let h = 1e-6;
        for act in Activation::ALL {
            for &x in &[-2.5, -0.7, -0.1, 0.3, 1.1, 3.0] {
                let fd = (act.eval(x + h) - act.eval(x - h)) / (2.0 * h);
                let d = act.derivative(x);
                assert!((fd - d).abs() < 1e-6, "{act}: x={x} fd={fd} d={d}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(act.name().parse::<Activation>().unwrap(), act);
        }
        let err = "swish2".parse::<Activation>().unwrap_err();
        assert!(err.contains("identity, relu, leaky_relu"), "{err}");
    }
}
