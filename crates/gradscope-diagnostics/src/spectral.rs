//! Spectral norms by power iteration, warm-started from the previous step.
//!
//! The largest singular value of W is what multiplies the worst-case signal through a layer:
//! the product of the layers' spectral norms bounds how much the whole stack can amplify. Weights
//! change little from one step to the next, so one iteration from the previous step's singular
//! vector keeps the estimate converged at the cost of two matrix-vector products.

use burn::tensor::{Device, Tensor};

use crate::reduce::Reducer;

/// Iterations used the first time a matrix is seen (cold start).
pub const COLD_ITERATIONS: usize = 30;
/// Iterations per step afterwards (warm start): the previous step's vector is already close, and
/// each iteration costs a dozen small tensor operations per layer, which is most of the price of
/// recording at moderate widths.
pub const WARM_ITERATIONS: usize = 1;

/// Power-iteration state for a fixed list of matrices (one right singular vector each).
#[derive(Debug, Default, Clone)]
pub struct SpectralState {
    vectors: Vec<Option<Tensor<2>>>,
}

impl SpectralState {
    /// An empty state; vectors are created on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Estimates ‖W‖₂ for matrix slot `slot` (its position in a fixed enumeration of the
    /// model's weights), returning a `[1]` tensor on W's device without reading it back.
    ///
    /// The start vector of a cold slot is deterministic (all ones plus nothing random), so that
    /// recording never consumes the backend's random stream and runs stay reproducible.
    pub fn estimate(&mut self, slot: usize, w: &Tensor<2>) -> Tensor<1> {
        let previous = self.take(slot);
        let step = power_iteration(w, previous, Reducer::for_device(&w.device()));
        self.put(slot, step.v);
        step.z_sq.sqrt().div(step.u_sq.sqrt().add_scalar(1e-30))
    }

    /// Removes and returns the vector of `slot` (to iterate on it elsewhere, such as on another
    /// thread); [`SpectralState::put`] stores the next one.
    pub(crate) fn take(&mut self, slot: usize) -> Option<Tensor<2>> {
        self.vectors.get_mut(slot).and_then(Option::take)
    }

    /// Stores the vector of `slot`.
    pub(crate) fn put(&mut self, slot: usize, v: Tensor<2>) {
        if self.vectors.len() <= slot {
            self.vectors.resize(slot + 1, None);
        }
        self.vectors[slot] = Some(v);
    }
}

/// The last iteration of a power iteration, for v the current unit vector: ‖u‖² with u = W·v,
/// ‖z‖² with z = Wᵀ·u, and the next vector z/‖z‖. The estimate is σ = ‖z‖/‖u‖ (= ‖Wᵀû‖), which
/// the recorder finishes on the host ([`sigma`]) to spare the device a few tiny operations.
pub(crate) struct PowerStep {
    pub u_sq: Tensor<1>,
    pub z_sq: Tensor<1>,
    pub v: Tensor<2>,
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
/// vector (cold: [`COLD_ITERATIONS`]).
pub(crate) fn power_iteration(
    w: &Tensor<2>,
    previous: Option<Tensor<2>>,
    reducer: Reducer,
) -> PowerStep {
    let [_, cols] = w.dims();
    let device = w.device();
    let (mut v, iterations) = match previous {
        Some(v) if v.dims() == [cols, 1] => (v, WARM_ITERATIONS),
        _ => (start_vector(cols, &device), COLD_ITERATIONS),
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
    PowerStep { u_sq, z_sq, v }
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
