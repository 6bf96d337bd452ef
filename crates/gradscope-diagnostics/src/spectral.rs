//! Spectral norms by power iteration, warm-started from the previous step.
//!
//! The largest singular value of W is what multiplies the worst-case signal through a layer:
//! the product of the layers' spectral norms bounds how much the whole stack can amplify. Weights
//! change little from one step to the next, so one iteration from the previous step's singular
//! vector keeps the estimate converged at the cost of two matrix-vector products.

use burn::tensor::{Device, Tensor};

use crate::reduce::{Reducer, Sum};

/// Iterations used the first time a matrix is seen (cold start).
pub const COLD_ITERATIONS: usize = 30;
/// Iterations per step afterwards (warm start): the previous step's vector is already close, and
/// each iteration costs a dozen small tensor operations per layer, which is most of the price of
/// recording at moderate widths.
pub const WARM_ITERATIONS: usize = 1;

/// Power-iteration state for a fixed list of matrices (one right singular vector each).
#[derive(Debug, Default, Clone)]
pub struct SpectralState {
    vectors: Vec<Option<PowerVector>>,
}

/// A power iteration's current unit vector: on the host (CPU backends, [`Reducer::Host`]) or a
/// `[cols, 1]` device tensor.
#[allow(clippy::large_enum_variant)] // see `Sum`
#[derive(Debug, Clone)]
pub(crate) enum PowerVector {
    Host(Vec<f64>),
    Device(Tensor<2>),
}

impl SpectralState {
    /// An empty state; vectors are created on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Estimates ‖W‖₂ for matrix slot `slot` (its position in a fixed enumeration of the
    /// model's weights), returning a `[1]` tensor on W's device.
    ///
    /// The start vector of a cold slot is deterministic (all ones plus nothing random), so that
    /// recording never consumes the backend's random stream and runs stay reproducible.
    pub fn estimate(&mut self, slot: usize, w: &Tensor<2>) -> Tensor<1> {
        let previous = self.take(slot);
        let device = w.device();
        let step = power_iteration(w, previous, Reducer::for_device(&device));
        self.put(slot, step.v);
        match (step.u_sq, step.z_sq) {
            (Sum::Host(u), Sum::Host(z)) => Tensor::from_floats([sigma(u, z) as f32], &device),
            (u, z) => {
                let (u, z) = (u.into_tensor(&device), z.into_tensor(&device));
                z.sqrt().div(u.sqrt().add_scalar(1e-30))
            }
        }
    }

    /// Removes and returns the vector of `slot` (to iterate on it elsewhere, such as on another
    /// thread); [`SpectralState::put`] stores the next one.
    pub(crate) fn take(&mut self, slot: usize) -> Option<PowerVector> {
        self.vectors.get_mut(slot).and_then(Option::take)
    }

    /// Stores the vector of `slot`.
    pub(crate) fn put(&mut self, slot: usize, v: PowerVector) {
        if self.vectors.len() <= slot {
            self.vectors.resize(slot + 1, None);
        }
        self.vectors[slot] = Some(v);
    }
}

/// The last iteration of a power iteration, for v the current unit vector: ‖u‖² with u = W·v,
/// ‖z‖² with z = Wᵀ·u, and the next vector z/‖z‖. The estimate is σ = ‖z‖/‖u‖ (= ‖Wᵀû‖), which
/// the recorder finishes on the host ([`sigma`]).
pub(crate) struct PowerStep {
    pub u_sq: Sum,
    pub z_sq: Sum,
    pub v: PowerVector,
    /// ‖W‖²_F, where the iteration summed it on its way over W (on the host).
    pub w_sq: Option<Sum>,
}

/// σ from the read-back squared norms of a [`PowerStep`] (0 for a zero matrix; non-finite when
/// the matrix is).
pub(crate) fn sigma(u_sq: f64, z_sq: f64) -> f64 {
    if u_sq == 0.0 && z_sq == 0.0 {
        0.0
    } else {
        z_sq.sqrt() / u_sq.sqrt()
    }
}

/// Power iteration on `w` from `previous` (warm: [`WARM_ITERATIONS`]) or from a fixed start
/// vector (cold: [`COLD_ITERATIONS`]): on the host for a [`Reducer::Host`] (two passes over W
/// per iteration, `crate::host::power_step`), else through device operations.
pub(crate) fn power_iteration(
    w: &Tensor<2>,
    previous: Option<PowerVector>,
    reducer: Reducer,
) -> PowerStep {
    let [_, cols] = w.dims();
    // The previous vector goes to whichever side it was made on (a mismatch starts cold).
    let (host_start, device_start) = match previous {
        Some(PowerVector::Host(v)) if v.len() == cols => (Some(v), None),
        Some(PowerVector::Device(v)) if v.dims() == [cols, 1] => (None, Some(v)),
        _ => (None, None),
    };
    if reducer == Reducer::Host {
        let host = crate::host::with_f32(w, |m| {
            let (mut v, iterations) = match host_start {
                Some(v) => (v, WARM_ITERATIONS),
                None => (crate::host::start_vector(cols), COLD_ITERATIONS),
            };
            let (mut u_sq, mut z_sq, mut w_sq) = (0.0, 0.0, 0.0);
            for _ in 0..iterations {
                let (u, z, next, w) = crate::host::power_step(m, cols, &v);
                (u_sq, z_sq, v, w_sq) = (u, z, next, w);
            }
            PowerStep {
                u_sq: Sum::Host(u_sq),
                z_sq: Sum::Host(z_sq),
                v: PowerVector::Host(v),
                w_sq: Some(Sum::Host(w_sq)),
            }
        });
        if let Some(step) = host {
            return step;
        }
    }
    let device = w.device();
    let (mut v, iterations) = match device_start {
        Some(v) => (v, WARM_ITERATIONS),
        None => (start_vector(cols, &device), COLD_ITERATIONS),
    };
    let mut u_sq = Tensor::<1>::zeros([1], &device);
    let mut z_sq = Tensor::<1>::zeros([1], &device);
    for _ in 0..iterations {
        let u = reducer.matvec(w.clone(), v.clone()); // [rows, 1]
        u_sq = reducer.sum_sq(u.clone());
        // zᵀ = uᵀW, without materialising Wᵀ.
        let z = reducer.vecmat(u, w.clone());
        z_sq = reducer.sum_sq(z.clone());
        v = z
            .div(z_sq.clone().sqrt().add_scalar(1e-30).reshape([1, 1]))
            .reshape([cols as i64, 1]);
    }
    PowerStep {
        u_sq: Sum::Device(u_sq),
        z_sq: Sum::Device(z_sq),
        v: PowerVector::Device(v),
        w_sq: None,
    }
}

/// Squarings in the spectral-radius estimate ([`radius_sums`]).
pub const RADIUS_SQUARINGS: usize = 16;

/// The squared Frobenius norms from which [`spectral_radius`] finishes ρ(A), the largest
/// eigenvalue modulus of a square `a`, by Gelfand's formula ρ = lim ‖Aᵐ‖^(1/m) at m = 2^k,
/// k = [`RADIUS_SQUARINGS`]: B₀ = A/‖A‖, then B_j = B_{j−1}²/‖B_{j−1}²‖, so that
/// ln‖A^(2^k)‖ / 2^k = ln‖A‖ + Σ_j 2^−j ln‖B_{j−1}²‖ with no overflow or underflow on the way.
/// For a diagonalisable A = VΛV⁻¹ the estimate is off by at most ln(κ(V)·√n)/2^k in ln ρ
/// (‖A^m‖_F lies between ρ^m and κ(V)·√n·ρ^m): below 2·10⁻⁴ relative for κ(V)·√n up to 10⁶.
/// Unlike power iteration it needs no gap between the eigenvalues and converges for complex
/// pairs, which a real non-symmetric W_hh usually has at the top of its spectrum.
pub(crate) fn radius_sums(a: &Tensor<2>, reducer: Reducer) -> Vec<Tensor<1>> {
    let mut sums = Vec::with_capacity(RADIUS_SQUARINGS + 1);
    let normalise =
        |m: Tensor<2>, sq: &Tensor<1>| m.div(sq.clone().sqrt().add_scalar(1e-30).reshape([1, 1]));
    let s0 = reducer.sum_sq(a.clone());
    let mut b = normalise(a.clone(), &s0);
    sums.push(s0);
    for _ in 0..RADIUS_SQUARINGS {
        let sq = b.clone().matmul(b);
        let s = reducer.sum_sq(sq.clone());
        b = normalise(sq, &s);
        sums.push(s);
    }
    sums
}

/// ρ(A) from the read-back sums of [`radius_sums`] (0 for a nilpotent or zero matrix).
pub(crate) fn spectral_radius(sums: &[f64]) -> f64 {
    let mut log = 0.0;
    let mut weight = 1.0;
    for s in sums {
        log += weight * 0.5 * s.ln();
        weight *= 0.5;
    }
    log.exp()
}

fn start_vector(n: usize, device: &Device) -> Tensor<2> {
    // A fixed, non-degenerate start: alternating ramp, so it is not orthogonal to the top
    // singular vector except by accident, and needs no random draw.
    let values: Vec<f32> = (0..n)
        .map(|i| 1.0 + 0.5 * ((i * 7919) % 13) as f32 / 13.0)
        .collect();
    let t = Tensor::<1>::from_floats(values.as_slice(), device).reshape([n as i64, 1]);
    let norm = t.clone().square().sum().sqrt().reshape([1, 1]);
    t.div(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_matrix(rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        Tensor::random(
            [rows, cols],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            device,
        )
    }

    fn radius_of(m: Tensor<2>) -> f64 {
        let sums: Vec<f64> = radius_sums(&m, Reducer::for_device(&m.device()))
            .into_iter()
            .map(|s| s.into_scalar::<f32>() as f64)
            .collect();
        spectral_radius(&sums)
    }

    /// Gelfand's formula on matrices whose eigenvalues are known: ρQ (every |λ| = ρ; bound
    /// ln(√64)/2¹⁶ = 3.2e-5 relative), a non-normal triangular matrix (eigenvalues on its
    /// diagonal, ρ = 0.9, far from its spectral norm), a scaled rotation (a complex pair, where
    /// power iteration never settles) and a nilpotent matrix (ρ = 0, ‖A‖₂ = 1).
    #[test]
    fn spectral_radius_of_known_spectra() {
        let device = gradscope_model::BackendKind::Ndarray.device();
        for rho in [0.9, 1.0, 1.1] {
            let q = gradscope_model::with_seed(&device, 5, |d| {
                gradscope_model::WeightInit::new(gradscope_model::InitKind::Orthogonal, 1.0)
                    .draw(64, 64, d)
            });
            let got = radius_of(q.mul_scalar(rho));
            assert!((got / rho - 1.0).abs() < 1e-4, "rho {rho}: {got}");
        }
        let tri = Tensor::<2>::from_floats(
            [[0.5, 1.0, 1.0], [0.0, -0.9, 1.0], [0.0, 0.0, 0.3]],
            &device,
        );
        let got = radius_of(tri);
        assert!((got / 0.9 - 1.0).abs() < 1e-3, "triangular: {got}");
        let (c, s) = (1.1 * 0.7f64.cos(), 1.1 * 0.7f64.sin());
        let rot = Tensor::<2>::from_floats([[c as f32, -s as f32], [s as f32, c as f32]], &device);
        let got = radius_of(rot);
        assert!((got / 1.1 - 1.0).abs() < 1e-4, "rotation: {got}");
        let nil = Tensor::<2>::from_floats([[0.0, 1.0], [0.0, 0.0]], &device);
        assert_eq!(radius_of(nil), 0.0);
    }

    /// A diagonal matrix has its largest |entry| as spectral norm.
    #[test]
    fn diagonal_matrix() {
        let device = gradscope_model::BackendKind::Ndarray.device();
        let w = Tensor::<2>::from_floats(
            [[3.0, 0.0, 0.0], [0.0, -5.0, 0.0], [0.0, 0.0, 1.0]],
            &device,
        );
        let mut s = SpectralState::new();
        let sigma = s.estimate(0, &w).into_scalar::<f32>();
        assert!((sigma - 5.0).abs() < 1e-4, "{sigma}");
    }

    /// A scaled orthogonal matrix has every singular value equal to the scale; warm restarts
    /// follow the matrix as it changes.
    #[test]
    fn warm_start_tracks_a_changing_matrix() {
        let device = gradscope_model::BackendKind::Ndarray.device();
        let w = gradscope_model::with_seed(&device, 1, |d| random_matrix(64, 64, d));
        let mut s = SpectralState::new();
        let cold = s.estimate(0, &w).into_scalar::<f32>();
        // Reference: many more iterations from scratch.
        let mut reference = SpectralState::new();
        for _ in 0..20 {
            reference.estimate(0, &w);
        }
        let exact = reference.estimate(0, &w).into_scalar::<f32>();
        assert!(
            (cold - exact).abs() / exact < 2e-2,
            "cold {cold} exact {exact}"
        );
        let w2 = w.mul_scalar(1.5);
        let warm = s.estimate(0, &w2).into_scalar::<f32>();
        assert!(
            (warm - 1.5 * exact).abs() / (1.5 * exact) < 2e-2,
            "warm {warm}"
        );
    }
}
