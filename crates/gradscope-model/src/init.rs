//! Weight initialisation schemes and the variance each one implies.
//!
//! Every scheme is described by the standard deviation it gives a weight entry as a function of
//! the layer's fan-in and fan-out, scaled by `sigma_w`. The same number drives the draw and the
//! theory (`fan_in · Var(W)` is the mean-field σ_w²), so the two cannot drift apart.

use std::fmt;
use std::str::FromStr;

use burn::module::Param;
use burn::nn::Initializer;
use burn::tensor::{Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

/// A weight initialisation family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitKind {
    /// Glorot & Bengio 2010: N(0, 2/(fan_in+fan_out)).
    XavierNormal,
    /// Glorot & Bengio 2010: U(−a, a) with the same variance as `XavierNormal`.
    XavierUniform,
    /// He et al. 2015: N(0, 2/fan_in), made for ReLU.
    HeNormal,
    /// He et al. 2015: U(−a, a) with variance 2/fan_in.
    HeUniform,
    /// LeCun 1998: N(0, 1/fan_in).
    LecunNormal,
    /// Saxe et al. 2014: a random orthogonal matrix (every singular value equals the gain).
    Orthogonal,
    /// Plain Gaussian N(0, σ_w²/fan_in), the mean-field parametrisation of any scale.
    Normal,
}

impl InitKind {
    /// Every scheme, in the order the docs list them.
    pub const ALL: [InitKind; 7] = [
        InitKind::XavierNormal,
        InitKind::XavierUniform,
        InitKind::HeNormal,
        InitKind::HeUniform,
        InitKind::LecunNormal,
        InitKind::Orthogonal,
        InitKind::Normal,
    ];

    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            InitKind::XavierNormal => "xavier_normal",
            InitKind::XavierUniform => "xavier_uniform",
            InitKind::HeNormal => "he_normal",
            InitKind::HeUniform => "he_uniform",
            InitKind::LecunNormal => "lecun_normal",
            InitKind::Orthogonal => "orthogonal",
            InitKind::Normal => "normal",
        }
    }
}

impl fmt::Display for InitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InitKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InitKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = InitKind::ALL.iter().map(|k| k.name()).collect();
                format!("expected one of {}", names.join(", "))
            })
    }
}

/// A weight initialiser: a family and its scale.
///
/// `sigma_w` multiplies the family's standard deviation: for `normal` it is the σ_w of
/// N(0, σ_w²/fan_in); for the others it is the gain (1 gives the textbook scheme).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightInit {
    /// The family.
    pub kind: InitKind,
    /// Scale (gain) applied to the family's standard deviation; must be finite and ≥ 0.
    pub sigma_w: f64,
}

impl WeightInit {
    /// A scheme at the given scale.
    pub fn new(kind: InitKind, sigma_w: f64) -> Self {
        Self { kind, sigma_w }
    }

    /// Standard deviation of one weight entry for a layer with these fans.
    ///
    /// For `orthogonal` this is the per-entry spread of a scaled orthogonal matrix,
    /// gain/√max(fan_in, fan_out), which gives the same `fan_in · Var(W) = gain²` for a square
    /// layer.
    pub fn std(&self, fan_in: usize, fan_out: usize) -> f64 {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let base = match self.kind {
            InitKind::XavierNormal | InitKind::XavierUniform => (2.0 / (fi + fo)).sqrt(),
            InitKind::HeNormal | InitKind::HeUniform => (2.0 / fi).sqrt(),
            InitKind::LecunNormal | InitKind::Normal => (1.0 / fi).sqrt(),
            InitKind::Orthogonal => (1.0 / fi.max(fo)).sqrt(),
        };
        self.sigma_w * base
    }

    /// Variance of one weight entry.
    pub fn variance(&self, fan_in: usize, fan_out: usize) -> f64 {
        self.std(fan_in, fan_out).powi(2)
    }

    /// The mean-field σ_w² of this layer: `fan_in · Var(W)`, the factor by which a linear layer
    /// scales the expected squared norm of the signal passing forward through it.
    pub fn sigma_w2_effective(&self, fan_in: usize, fan_out: usize) -> f64 {
        fan_in as f64 * self.variance(fan_in, fan_out)
    }

    /// Draws a `[fan_in, fan_out]` weight (burn's `Linear` layout: `y = x · W`).
    ///
    /// The draw happens now, not lazily, so that the order of draws, and with it every weight
    /// for a given seed, is fixed by the order in which the model is built.
    pub fn draw(&self, fan_in: usize, fan_out: usize, device: &Device) -> Tensor<2> {
        let std = self.std(fan_in, fan_out);
        match self.kind {
            InitKind::XavierUniform | InitKind::HeUniform => {
                let a = 3f64.sqrt() * std;
                Tensor::random([fan_in, fan_out], Distribution::Uniform(-a, a), device)
            }
            InitKind::Orthogonal => {
                let param: Param<Tensor<2>> = Initializer::Orthogonal { gain: self.sigma_w }
                    .init_with([fan_in, fan_out], Some(fan_in), Some(fan_out), device);
                param.val().detach()
            }
            _ if std == 0.0 => Tensor::zeros([fan_in, fan_out], device),
            _ => Tensor::random([fan_in, fan_out], Distribution::Normal(0.0, std), device),
        }
    }
}

/// Draws a bias of `n` entries from N(0, σ_b²); σ_b = 0 gives exact zeros.
pub fn draw_bias(n: usize, sigma_b: f64, device: &Device) -> Tensor<1> {
    if sigma_b == 0.0 {
        Tensor::zeros([n], device)
    } else {
        Tensor::random([n], Distribution::Normal(0.0, sigma_b), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empirical_variance(t: Tensor<2>) -> f64 {
        let v: Vec<f32> = t.into_data().try_to_vec().unwrap();
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n
    }

    /// Each scheme's empirical variance at width 1024 is within 5 % of its formula. With
    /// 1024² ≈ 10⁶ entries the sampling error of a variance is about √(2/10⁶) ≈ 0.14 %, so 5 %
    /// only fails when the formula is wrong.
    #[test]
    fn empirical_variance_matches_formula() {
        let device = crate::BackendKind::Ndarray.device();
        let (fi, fo) = (1024, 1024);
        for kind in InitKind::ALL {
            for sigma_w in [1.0, 1.7] {
                let init = WeightInit::new(kind, sigma_w);
                let got =
                    empirical_variance(crate::with_seed(&device, 7, |d| init.draw(fi, fo, d)));
                let want = init.variance(fi, fo);
                let rel = (got - want).abs() / want;
                assert!(rel < 0.05, "{kind} σ={sigma_w}: got {got}, want {want}");
            }
        }
        // Rectangular fans exercise the fan_in/fan_out distinction of Xavier.
        let init = WeightInit::new(InitKind::XavierNormal, 1.0);
        let got = empirical_variance(crate::with_seed(&device, 7, |d| init.draw(1024, 256, d)));
        assert!((got - 2.0 / 1280.0).abs() / (2.0 / 1280.0) < 0.05);
    }

    /// A square orthogonal draw satisfies WᵀW = gain²·I.
    #[test]
    fn orthogonal_is_orthogonal() {
        let device = crate::BackendKind::Ndarray.device();
        let n = 128;
        let w = crate::with_seed(&device, 3, |d| {
            WeightInit::new(InitKind::Orthogonal, 1.0).draw(n, n, d)
        });
        let wtw: Vec<f32> = w
            .clone()
            .transpose()
            .matmul(w)
            .into_data()
            .try_to_vec()
            .unwrap();
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                let got = wtw[i * n + j];
                assert!((got - want).abs() < 1e-4, "({i},{j}) = {got}");
            }
        }
    }

    #[test]
    fn zero_scale_gives_zeros() {
        let device = crate::BackendKind::Ndarray.device();
        let w = WeightInit::new(InitKind::Normal, 0.0).draw(4, 4, &device);
        let v: Vec<f32> = w.into_data().try_to_vec().unwrap();
        assert!(v.iter().all(|&x| x == 0.0));
    }
}
