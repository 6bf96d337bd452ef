//! The reductions a recorded step is made of, in the formulation each backend runs fastest.
//!
//! A recorded step of a 32-deep MLP is a few hundred reductions of activation-, weight- and
//! gradient-sized tensors: sums of squares, column sums, matrix-vector products. Written the
//! obvious way (`x.square().sum()`, `h.max_dim(0)`), each is two or three passes over memory and
//! as many dispatched operations, each waking the backend's thread pool; together they cost
//! about half as much again as the training step itself. Measured on the project's 2-core
//! machine (128×256 and 256×256 f32, the test profile's optimised dependencies):
//!
//! - on `flex`, a sum of squares as the dot product `x·x` through `matmul` (one read, no
//!   temporary) is about 5× faster than `square().sum()`, a column sum as `1ᵀ·h` about 8× faster
//!   than `max_dim(0)`, and a matrix-vector product runs in microseconds;
//! - on `ndarray`, the same products are 20–50× *slower* than the element-wise forms:
//!   `matrixmultiply` packs a 1×n·n×1 product into full panels.
//!
//! Faster than either, on both CPU backends, is no device operation at all: [`Reducer::Host`]
//! reads the tensor's buffer in place and reduces it in one pass (`host.rs`), which is what the
//! recorder uses there. The device formulations remain for the GPU backends ([`Reducer::Elementwise`]:
//! they fuse the element-wise chains), for what the host cannot read, and for the clipping norm,
//! a training input that stays computed as it always was ([`Reducer::on_device`]: `Matmul` on
//! `flex`, `Elementwise` elsewhere). All compute the same quantities; only the rounding differs,
//! which the tests bound.

use burn::tensor::{Device, Tensor};
use gradscope_model::BackendKind;

/// How a reduction is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    /// Through matrix products (dot products, `1ᵀ·h`, `W·v`).
    Matmul,
    /// Through element-wise operations and reductions along a dimension.
    Elementwise,
    /// On the host, in place, one pass per quantity (the CPU backends: `crate::host`); whatever
    /// the host cannot read, and what only a tensor answer will do for, falls back to
    /// [`Reducer::on_device`].
    Host,
}

/// The device formulations, which every device operation below is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Matmul,
    Elementwise,
}

/// A reduced scalar: already on the host, or still a `[1]` tensor on the device.
// A burn tensor handle is a few hundred bytes; a step holds a handful of these per layer, moved
// rather than copied, so boxing the device variant would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Sum {
    /// Reduced on the host.
    Host(f64),
    /// Queued on the device.
    Device(Tensor<1>),
}

impl std::ops::Add for Sum {
    type Output = Sum;

    /// `self + other` (on the host when both are).
    fn add(self, other: Sum) -> Sum {
        match (self, other) {
            (Sum::Host(a), Sum::Host(b)) => Sum::Host(a + b),
            (Sum::Device(a), Sum::Device(b)) => Sum::Device(a.add(b)),
            (Sum::Host(a), Sum::Device(b)) | (Sum::Device(b), Sum::Host(a)) => {
                Sum::Device(b.add_scalar(a))
            }
        }
    }
}

impl Sum {
    /// As a `[1]` tensor on `device` (for clipping, which scales on the device).
    pub fn into_tensor(self, device: &Device) -> Tensor<1> {
        match self {
            Sum::Host(v) => Tensor::from_floats([v as f32], device),
            Sum::Device(t) => t,
        }
    }
}

impl Reducer {
    /// The faster formulation for tensors on `device`: on the host for the CPU backends.
    pub fn for_device(device: &Device) -> Self {
        match BackendKind::of(device) {
            Some(BackendKind::Flex | BackendKind::Ndarray) => Reducer::Host,
            _ => Reducer::Elementwise,
        }
    }

    /// The faster formulation through device operations (what [`Reducer::Host`] falls back to,
    /// and what the matrix products of the spectral radius use).
    pub fn on_device(device: &Device) -> Self {
        match BackendKind::of(device) {
            Some(BackendKind::Flex) => Reducer::Matmul,
            _ => Reducer::Elementwise,
        }
    }

    /// The device formulation this reducer uses ([`Reducer::on_device`]'s for
    /// [`Reducer::Host`]).
    fn form(self, device: &Device) -> Form {
        match self {
            Reducer::Matmul => Form::Matmul,
            Reducer::Elementwise => Form::Elementwise,
            Reducer::Host => Reducer::on_device(device).form(device),
        }
    }

    /// Σx² over every entry: on the host where the reducer and the tensor allow, else queued.
    pub fn reduce_sq<const D: usize>(self, t: Tensor<D>) -> Sum {
        if self == Reducer::Host
            && let Some(v) = crate::host::with_f32(&t, crate::host::sum_sq)
        {
            return Sum::Host(v);
        }
        Sum::Device(self.sum_sq(t))
    }

    /// Σx² over every entry, as a `[1]` tensor.
    pub fn sum_sq<const D: usize>(self, t: Tensor<D>) -> Tensor<1> {
        match self.form(&t.device()) {
            Form::Matmul => {
                let n = t.shape().num_elements();
                let row = t.reshape([1, n]);
                row.clone().matmul(row.reshape([n, 1])).reshape([1])
            }
            Form::Elementwise => t.square().sum(),
        }
    }

    /// Σ over rows: `[rows, cols] → [1, cols]`.
    pub fn column_sums(self, h: Tensor<2>) -> Tensor<2> {
        self.column_sums_with(h, None)
    }

    /// [`Reducer::column_sums`] with a `[1, rows]` row of ones made once for many calls (used
    /// when its shape fits).
    pub fn column_sums_with(self, h: Tensor<2>, ones: Option<&Tensor<2>>) -> Tensor<2> {
        match self.form(&h.device()) {
            Form::Matmul => {
                let [rows, _] = h.dims();
                match ones {
                    Some(o) if o.dims() == [1, rows] => o.clone().matmul(h),
                    _ => Tensor::<2>::ones([1, rows], &h.device()).matmul(h),
                }
            }
            Form::Elementwise => h.sum_dim(0),
        }
    }

    /// `W·v` for `W: [rows, cols]`, `v: [cols, 1]`: `[rows, 1]`.
    pub fn matvec(self, w: Tensor<2>, v: Tensor<2>) -> Tensor<2> {
        match self.form(&w.device()) {
            Form::Matmul => w.matmul(v),
            Form::Elementwise => w.mul(v.transpose()).sum_dim(1),
        }
    }

    /// `uᵀ·W` for `u: [rows, 1]`, `W: [rows, cols]`: `[1, cols]`.
    pub fn vecmat(self, u: Tensor<2>, w: Tensor<2>) -> Tensor<2> {
        match self.form(&w.device()) {
            Form::Matmul => u.transpose().matmul(w),
            Form::Elementwise => w.mul(u).sum_dim(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn close(a: Tensor<1>, b: f64, rel: f64) {
        let a = a.into_scalar::<f64>();
        assert!((a - b).abs() <= rel * b.abs().max(1e-30), "{a} vs {b}");
    }

    /// Both formulations agree with a float64 reference on every backend; f32 accumulation over
    /// n = 65 536 terms bounds the relative error well below 1e-4.
    #[test]
    fn formulations_agree_with_f64_reference() {
        for kind in BackendKind::available() {
            let device = kind.device();
            let (w, v) = gradscope_model::with_seed(&device, 3, |d| {
                (
                    Tensor::<2>::random([256, 256], Distribution::Normal(0.5, 1.0), d),
                    Tensor::<2>::random([256, 1], Distribution::Normal(0.0, 1.0), d),
                )
            });
            let host: Vec<f64> = w.to_data().convert::<f64>().try_to_vec::<f64>().unwrap();
            let vh: Vec<f64> = v.to_data().convert::<f64>().try_to_vec::<f64>().unwrap();
            let sq: f64 = host.iter().map(|x| x * x).sum();
            let col0: f64 = (0..256).map(|r| host[r * 256]).sum();
            let wv0: f64 = (0..256).map(|c| host[c] * vh[c]).sum();
            let vw0: f64 = (0..256).map(|r| vh[r] * host[r * 256]).sum();
            for r in [Reducer::Matmul, Reducer::Elementwise, Reducer::Host] {
                close(r.sum_sq(w.clone()), sq, 1e-4);
                match r.reduce_sq(w.clone()) {
                    Sum::Host(v) => {
                        assert_eq!(r, Reducer::Host);
                        // Blocked summation: each f32 lane adds 16 terms of a block of 256
                        // before the f64 total, so ≤ 16·ε₃₂ ≈ 1e-6 relative.
                        assert!((v - sq).abs() <= 2e-6 * sq, "{v} vs {sq}");
                    }
                    Sum::Device(t) => {
                        assert_ne!(r, Reducer::Host);
                        close(t, sq, 1e-4);
                    }
                }
                let cols = r.column_sums(w.clone());
                assert_eq!(cols.dims(), [1, 256]);
                close(cols.slice([0..1, 0..1]).reshape([1]), col0, 1e-4);
                let wv = r.matvec(w.clone(), v.clone());
                assert_eq!(wv.dims(), [256, 1]);
                close(wv.slice([0..1, 0..1]).reshape([1]), wv0, 1e-3);
                let vw = r.vecmat(v.clone(), w.clone());
                assert_eq!(vw.dims(), [1, 256]);
                close(vw.slice([0..1, 0..1]).reshape([1]), vw0, 1e-3);
            }
        }
    }

    /// Non-finite entries stay visible through every formulation (the recorder detects them from
    /// these sums).
    #[test]
    fn non_finite_propagates() {
        for kind in BackendKind::available() {
            let device = kind.device();
            let t = Tensor::<2>::from_floats([[1.0, f32::INFINITY], [2.0, 3.0]], &device);
            let n = Tensor::<2>::from_floats([[1.0, f32::NAN], [2.0, 3.0]], &device);
            for r in [Reducer::Matmul, Reducer::Elementwise] {
                let a = r.sum_sq(t.clone()).into_scalar::<f32>();
                let b = r.sum_sq(n.clone()).into_scalar::<f32>();
                assert!(!a.is_finite() && !b.is_finite(), "{r:?}: {a} {b}");
                let c = r.column_sums(n.clone()).sum().into_scalar::<f32>();
                assert!(c.is_nan(), "{r:?}: {c}");
            }
        }
    }
}
