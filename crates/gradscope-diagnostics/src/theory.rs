//! What theory predicts for the backward signal of a network at initialisation.
//!
//! Mean-field theory (Poole et al. 2016, Schoenholz et al. 2017) follows the variance of the
//! pre-activations of a wide random network layer by layer,
//!
//! `q_{l+1} = σ_w² · E[φ(z)²] + σ_b²`, `z ~ N(0, q_l)`,
//!
//! and the factor by which one layer scales the expected squared backward signal,
//!
//! `χ_l = σ_w² · E[φ'(z)²]`, `z ~ N(0, q_l)`,
//!
//! so that `E‖∂L/∂h_l‖² = χ_{l+1} · E‖∂L/∂h_{l+1}‖²`. Here σ_w² is `fan_in · Var(W)`. The
//! expectations are Gauss–Hermite quadratures, except where they have closed forms: identity
//! (χ = σ_w²) and ReLU (χ = σ_w²/2, E[φ²] = q/2).
//!
//! Two more cases have known factors: a plain Linear → BatchNorm → ReLU stack multiplies the
//! squared gradient by π/(π−1) ≈ 1.467 per layer (Yang et al. 2019, "A mean field theory of
//! batch normalization"), and a residual stream `h_{l+1} = h_l + α(W φ(h_l) + b)` by
//! `1 + α²σ_w² E[φ'(h_l)²]` while its variance grows by `α²(σ_w² E[φ(h_l)²] + σ_b²)` per block.

use std::sync::OnceLock;

use gradscope_model::{
    Activation, Cell, Family, ModelFacts, NormKind, NormPosition, RecurrentInit,
};
use serde::Serialize;

/// Number of Gauss–Hermite nodes.
pub const QUADRATURE_NODES: usize = 96;

/// Gauss–Hermite nodes and weights for ∫ e^(−x²) f(x) dx (Golub–Welsch-free Newton iteration,
/// as in Numerical Recipes' `gauher`).
fn gauss_hermite() -> &'static (Vec<f64>, Vec<f64>) {
    static NODES: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    NODES.get_or_init(|| {
        let n = QUADRATURE_NODES;
        let pim4 = std::f64::consts::PI.powf(-0.25);
        let mut x = vec![0.0; n];
        let mut w = vec![0.0; n];
        let m = n.div_ceil(2);
        let nf = n as f64;
        let mut z: f64 = 0.0;
        for i in 0..m {
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-0.16667),
                1 => z - 1.14 * nf.powf(0.426) / z,
                2 => 1.86 * z - 0.86 * x[0],
                3 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 2],
            };
            let mut pp = 0.0;
            for _ in 0..100 {
                let mut p1 = pim4;
                let mut p2 = 0.0;
                for j in 0..n {
                    let p3 = p2;
                    p2 = p1;
                    let jf = j as f64;
                    p1 = z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
                }
                pp = (2.0 * nf).sqrt() * p2;
                let z1 = z;
                z = z1 - p1 / pp;
                if (z - z1).abs() <= 1e-14 {
                    break;
                }
            }
            x[i] = z;
            x[n - 1 - i] = -z;
            w[i] = 2.0 / (pp * pp);
            w[n - 1 - i] = w[i];
        }
        (x, w)
    })
}

/// E[f(z)] for z ~ N(0, q), by Gauss–Hermite quadrature.
pub fn gaussian_expectation(q: f64, f: impl Fn(f64) -> f64) -> f64 {
    let (x, w) = gauss_hermite();
    let s = (2.0 * q.max(0.0)).sqrt();
    let total: f64 = x.iter().zip(w).map(|(&xi, &wi)| wi * f(s * xi)).sum();
    total / std::f64::consts::PI.sqrt()
}

/// E[φ(z)²] for z ~ N(0, q).
pub fn mean_square_activation(act: Activation, q: f64) -> f64 {
    match act {
        Activation::Identity => q,
        Activation::Relu => q / 2.0,
        _ => gaussian_expectation(q, |z| act.eval(z).powi(2)),
    }
}

/// E[φ'(z)²] for z ~ N(0, q).
pub fn mean_square_derivative(act: Activation, q: f64) -> f64 {
    match act {
        Activation::Identity => 1.0,
        Activation::Relu => 0.5,
        _ => gaussian_expectation(q, |z| act.derivative(z).powi(2)),
    }
}

/// The per-layer factor of the squared backward signal for batch-normalised ReLU nets.
pub const BATCHNORM_RELU_FACTOR: f64 = std::f64::consts::PI / (std::f64::consts::PI - 1.0);

/// A network family with a known prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "case", rename_all = "snake_case")]
pub enum TheoryCase {
    /// Plain fully connected layers `h = φ(W h + b)`.
    Plain {
        /// The activation.
        activation: Activation,
        /// σ_w² = fan_in·Var(W) of the hidden (square) layers.
        sigma_w2: f64,
        /// σ_b².
        sigma_b2: f64,
        /// Pre-activation variance of the first layer.
        q1: f64,
    },
    /// Linear → BatchNorm → ReLU.
    BatchNormRelu,
    /// Pre-activation residual blocks without normalisation, `h + α(W φ(h) + b)`.
    Residual {
        /// The activation.
        activation: Activation,
        /// σ_w² of the branch's linear map.
        sigma_w2: f64,
        /// σ_b².
        sigma_b2: f64,
        /// Branch scale α at initialisation.
        alpha: f64,
        /// Variance of the first block's output.
        q1: f64,
    },
}

impl TheoryCase {
    /// Chooses the case for a model at initialisation, if theory covers it.
    /// `input_mean_square` is E[x²] of the input entries; `first_output_mean_square` the mean
    /// square of the first layer's output (used by residual streams).
    pub fn for_model(
        facts: &ModelFacts,
        input_mean_square: f64,
        first_output_mean_square: f64,
    ) -> Option<TheoryCase> {
        if let Family::Recurrent { .. } = facts.family {
            // The layers of a recurrent stack are not the i.i.d. layers mean-field theory
            // describes; its closed form is through time (see the recurrence test).
            return None;
        }
        if let Family::ScalarChain { w } = facts.family {
            return (facts.activation == Some(Activation::Identity)).then_some(TheoryCase::Plain {
                activation: Activation::Identity,
                sigma_w2: w * w,
                sigma_b2: 0.0,
                q1: 1.0,
            });
        }
        let activation = facts.activation?;
        let init = facts.init?;
        let sigma_w2 = init.sigma_w2_hidden;
        let sigma_b2 = facts.bias_std.map_or(0.0, |s| s * s);
        match (facts.residual, facts.norm, facts.norm_position) {
            (None, NormKind::None, _) => Some(TheoryCase::Plain {
                activation,
                sigma_w2,
                sigma_b2,
                q1: init.sigma_w2_first * input_mean_square + sigma_b2,
            }),
            (None, NormKind::Batch, NormPosition::Pre) if activation == Activation::Relu => {
                Some(TheoryCase::BatchNormRelu)
            }
            (Some(r), NormKind::None, NormPosition::Pre) if r.block_linears == 1 => {
                Some(TheoryCase::Residual {
                    activation,
                    sigma_w2,
                    sigma_b2,
                    alpha: r.branch_scale.unwrap_or(1.0),
                    q1: first_output_mean_square,
                })
            }
            _ => None,
        }
    }

    /// Per-layer factors of the expected squared backward signal: element `l − 1` (for
    /// `l = 1..depth−1`) is E‖∂L/∂h_l‖² / E‖∂L/∂h_{l+1}‖². Also returns the forward variances.
    pub fn backward_factors(&self, depth: usize) -> Vec<f64> {
        let mut factors = Vec::with_capacity(depth.saturating_sub(1));
        match *self {
            TheoryCase::Plain {
                activation,
                sigma_w2,
                sigma_b2,
                q1,
            } => {
                // q[l] is the pre-activation variance of layer l; the factor between h_l and
                // h_{l+1} involves layer l+1's pre-activation.
                let mut q = q1;
                for _ in 1..depth {
                    q = sigma_w2 * mean_square_activation(activation, q) + sigma_b2;
                    factors.push(sigma_w2 * mean_square_derivative(activation, q));
                }
            }
            TheoryCase::BatchNormRelu => {
                factors.resize(depth.saturating_sub(1), BATCHNORM_RELU_FACTOR)
            }
            TheoryCase::Residual {
                activation,
                sigma_w2,
                sigma_b2,
                alpha,
                q1,
            } => {
                // q is the variance of the stream h_l, the input of block l+1.
                let mut q = q1;
                for _ in 1..depth {
                    factors.push(
                        1.0 + alpha * alpha * sigma_w2 * mean_square_derivative(activation, q),
                    );
                    q += alpha
                        * alpha
                        * (sigma_w2 * mean_square_activation(activation, q) + sigma_b2);
                }
            }
        }
        factors
    }

    /// Predicted ‖∂L/∂h_l‖ for l = 1..depth, anchored at the measured norm of the last layer.
    pub fn predicted_norms(&self, depth: usize, last_layer_norm: f64) -> Vec<f64> {
        let factors = self.backward_factors(depth);
        let mut norms = vec![0.0; depth];
        if depth == 0 {
            return norms;
        }
        norms[depth - 1] = last_layer_norm;
        for l in (0..depth - 1).rev() {
            norms[l] = norms[l + 1] * factors[l].sqrt();
        }
        norms
    }
}

/// What theory says of the backward signal through time of a recurrent layer at
/// initialisation: through the top layer, `∂L/∂h_{t−1} = ∂L/∂h_t · diag(φ'(a_t)) · W_hhᵀ`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecurrenceTheory {
    /// The factor per step back where it is exact: ρ for a linear cell whose W_hh is ρQ (Q
    /// orthogonal, or the identity), since then ‖g·ρQᵀ‖ = ρ‖g‖ for every g.
    pub per_step: Option<f64>,
    /// γ, the cell's largest slope, for the cells with one fixed activation (linear, tanh,
    /// ReLU: 1): the signal shrinks or grows by at most γ·‖W_hh‖₂ per step back, so below 1
    /// it must vanish (Pascanu et al. 2013). `None` for the gated cells, whose gates scale it.
    pub gamma: Option<f64>,
}

impl RecurrenceTheory {
    /// The theory for a recurrent model's facts (`None` for other families).
    pub fn for_model(facts: &ModelFacts) -> Option<Self> {
        let Family::Recurrent {
            cell,
            rho,
            recurrent_init,
            ..
        } = facts.family
        else {
            return None;
        };
        let exact = cell == Cell::Linear
            && matches!(
                recurrent_init,
                RecurrentInit::Orthogonal | RecurrentInit::Identity
            );
        Some(Self {
            per_step: exact.then_some(rho),
            gamma: match cell {
                Cell::Linear | Cell::Tanh | Cell::Relu => Some(1.0),
                Cell::Lstm | Cell::Gru => None,
            },
        })
    }
}

/// The σ_w² at which a tanh network with bias variance `sigma_b2` sits on the edge of chaos
/// (χ = 1 at the forward fixed point), found by bisection.
pub fn edge_of_chaos_tanh(sigma_b2: f64) -> f64 {
    let chi_at_fixed_point = |sw2: f64| {
        let mut q = 1.0;
        for _ in 0..2000 {
            q = sw2 * mean_square_activation(Activation::Tanh, q) + sigma_b2;
        }
        sw2 * mean_square_derivative(Activation::Tanh, q)
    };
    let (mut lo, mut hi) = (1.0, 4.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if chi_at_fixed_point(mid) < 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_integrates_moments() {
        // E[z²] = q, E[z⁴] = 3q², E[1] = 1.
        let q = 2.5;
        assert!((gaussian_expectation(q, |_| 1.0) - 1.0).abs() < 1e-12);
        assert!((gaussian_expectation(q, |z| z * z) - q).abs() < 1e-10);
        assert!((gaussian_expectation(q, |z| z.powi(4)) - 3.0 * q * q).abs() < 1e-8);
        // A smooth non-polynomial: E[cos z] = e^(−q/2).
        assert!((gaussian_expectation(q, f64::cos) - (-q / 2.0).exp()).abs() < 1e-10);
    }

    #[test]
    fn exact_cases() {
        assert_eq!(mean_square_derivative(Activation::Relu, 3.0), 0.5);
        assert_eq!(mean_square_derivative(Activation::Identity, 3.0), 1.0);
        let f = TheoryCase::Plain {
            activation: Activation::Relu,
            sigma_w2: 2.0,
            sigma_b2: 0.0,
            q1: 1.0,
        }
        .backward_factors(5);
        assert!(f.iter().all(|&x| (x - 1.0).abs() < 1e-15), "{f:?}");
    }

    /// The literature puts the tanh edge of chaos at σ_b² = 0.05 near σ_w² ≈ 1.76.
    #[test]
    fn tanh_edge_of_chaos() {
        let sw2 = edge_of_chaos_tanh(0.05);
        assert!((sw2 - 1.761).abs() < 0.01, "{sw2}");
    }
}
