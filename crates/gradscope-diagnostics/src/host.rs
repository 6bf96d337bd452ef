//! The recorder's reductions on the CPU backends, in place, one pass each.
//!
//! On `flex` and `ndarray` a tensor's memory is host memory, so the cheapest way to reduce it is
//! to read it where it lies: no device operation to dispatch, no temporary, no thread pool to
//! wake, no read-back. Each reduction here is one sequential loop over the tensor's own buffer
//! (borrowed, not copied, when the tensor is contiguous), summed in f32 lanes over short blocks
//! and in f64 across blocks, in a fixed order, so the result does not depend on how many threads
//! the backend or rayon use. At width 64 a
//! recorded layer used to be a dozen dispatched operations of a few microseconds each for a few
//! microseconds of arithmetic (see `reduce.rs`); here it is the arithmetic alone.
//!
//! Anything else (a GPU backend, a half-precision tensor) answers `None`, and the caller keeps
//! the device formulation of [`crate::Reducer`].

// burn-ndarray is deprecated in favour of flex, but it is still a backend users choose.
#![allow(deprecated)]

use burn::backend::flex::FlexTensor;
use burn::backend::ndarray::NdArrayTensor;
use burn::backend::{BackendTensor, DispatchTensorKind};
use burn::tensor::Tensor;
use gradscope_model::Activation;

use crate::tap::{SIGMOID_SATURATION, TANH_SATURATION};

/// Calls `f` with the f32 entries of `t` in row-major order, borrowed where the tensor is
/// contiguous; `None` where `t` is not an f32 tensor of a CPU backend (outside autodiff).
pub(crate) fn with_f32<const D: usize, R>(t: &Tensor<D>, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    let dispatch = t.clone().into_dispatch();
    match &dispatch.kind {
        DispatchTensorKind::Flex(BackendTensor::Float(ft)) => flex_f32(ft, f),
        DispatchTensorKind::NdArray(BackendTensor::Float(nt)) => ndarray_f32(nt, f),
        _ => None,
    }
}

/// The f32 entries of a flex tensor.
pub(crate) fn flex_f32<R>(t: &FlexTensor, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    match t.as_slice::<f32>() {
        Some(s) => Some(f(s)),
        None if t.dtype() == burn::tensor::DType::F32 => {
            let c = t.to_contiguous();
            c.as_slice::<f32>().map(f)
        }
        None => None,
    }
}

/// The f32 entries of an ndarray tensor.
pub(crate) fn ndarray_f32<R>(t: &NdArrayTensor, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    match t {
        NdArrayTensor::F32(storage) => {
            let view = storage.view();
            match view.as_slice() {
                Some(s) => Some(f(s)),
                None => {
                    let owned: Vec<f32> = view.iter().copied().collect();
                    Some(f(&owned))
                }
            }
        }
        _ => None,
    }
}

/// Lanes of the f32 partial sums: sixteen independent accumulators, which the compiler keeps
/// in vector registers without reassociating anything itself.
const LANES: usize = 16;
/// Entries summed in f32 before the partial sums are added into the f64 total. Blocked summation
/// bounds the rounding error by about (BLOCK/LANES + n/BLOCK)·ε relative instead of n·ε, and the
/// f32 lanes run twice as many entries per instruction as f64 ones would.
const BLOCK: usize = 256;
/// Lanes where a loop keeps two accumulators (so that both fit the vector registers).
const PAIR_LANES: usize = 8;

fn lanes_f64(acc: &[f32]) -> f64 {
    acc.iter().map(|&a| a as f64).sum()
}

/// Σ f(x) over `x`, blocked as above; `f` is applied entry by entry.
#[inline(always)]
fn blocked_sum(x: &[f32], f: impl Fn(f32) -> f32 + Copy) -> f64 {
    let mut total = 0.0f64;
    for block in x.chunks(BLOCK) {
        let mut acc = [0.0f32; LANES];
        let chunks = block.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for k in 0..LANES {
                acc[k] += f(c[k]);
            }
        }
        for (k, &v) in tail.iter().enumerate() {
            acc[k] += f(v);
        }
        total += lanes_f64(&acc);
    }
    total
}

/// Σx².
pub(crate) fn sum_sq(x: &[f32]) -> f64 {
    blocked_sum(x, |v| v * v)
}

/// (Σ(a − b)², Σa²) in one pass over two equally long slices (the update ratio's numerator and
/// denominator, `a` the weights before the step and `b` after).
pub(crate) fn diff_sq_and_sq(a: &[f32], b: &[f32]) -> (f64, f64) {
    if a.len() != b.len() {
        // Not the same matrix: say so rather than compare a prefix.
        return (f64::NAN, sum_sq(a));
    }
    let (mut dd, mut ss) = (0.0f64, 0.0f64);
    for (ba, bb) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        // Two accumulators: half the lanes of one, so that both stay in registers.
        let mut d = [0.0f32; PAIR_LANES];
        let mut s = [0.0f32; PAIR_LANES];
        let n = ba.len() / PAIR_LANES * PAIR_LANES;
        for (ca, cb) in ba[..n]
            .chunks_exact(PAIR_LANES)
            .zip(bb[..n].chunks_exact(PAIR_LANES))
        {
            for k in 0..PAIR_LANES {
                let (x, y) = (ca[k], cb[k]);
                d[k] += (x - y) * (x - y);
                s[k] += x * x;
            }
        }
        for (k, (&x, &y)) in ba[n..].iter().zip(&bb[n..]).enumerate() {
            d[k] += (x - y) * (x - y);
            s[k] += x * x;
        }
        dd += lanes_f64(&d);
        ss += lanes_f64(&s);
    }
    (dd, ss)
}

/// The dot product of two equally long rows in f32, eight lanes added pairwise at the end (a
/// row of a power iteration: at most a few thousand terms, and the estimate's own error is
/// far larger than f32's).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; PAIR_LANES];
    let n = a.len().min(b.len()) / PAIR_LANES * PAIR_LANES;
    for (ca, cb) in a[..n]
        .chunks_exact(PAIR_LANES)
        .zip(b[..n].chunks_exact(PAIR_LANES))
    {
        for k in 0..PAIR_LANES {
            acc[k] += ca[k] * cb[k];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in a[n..].iter().zip(&b[n..]) {
        tail += x * y;
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// What one pass over a layer's output gives: the activation statistics of the record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostStats {
    /// Σh.
    pub sum: f64,
    /// Σ(h − mean)².
    pub centred_sq: f64,
    /// Saturated entries (tanh, sigmoid).
    pub saturated: Option<f64>,
    /// Column sums (ReLU-like layers: a unit is alive where its sum is positive).
    pub column_sums: Option<Vec<f64>>,
}

/// The statistics of a `[rows, cols]` layer output in row-major order: one pass for the sums,
/// the saturated count and the column sums, then one for the centred squares (the two-pass form
/// keeps a sigmoid layer's tiny spread, mean 0.5 and std 10⁻³, that Σh² − (Σh)²/n would lose).
pub(crate) fn layer_stats(h: &[f32], cols: usize, activation: Option<Activation>) -> HostStats {
    let cols = cols.max(1);
    let want_columns = activation.is_some_and(|a| a.can_die());
    let saturation = matches!(activation, Some(Activation::Tanh | Activation::Sigmoid));
    let (sum, columns) = if want_columns {
        // Column sums in f64, row by row (a unit is alive where its column sum is positive);
        // the total is their sum.
        let mut columns = vec![0.0f64; cols];
        let mut block = vec![0.0f32; cols];
        for rows in h.chunks(cols * 16) {
            block.iter_mut().for_each(|b| *b = 0.0);
            for row in rows.chunks(cols) {
                for (b, &v) in block.iter_mut().zip(row) {
                    *b += v;
                }
            }
            for (c, &b) in columns.iter_mut().zip(&block) {
                *c += b as f64;
            }
        }
        (columns.iter().sum(), Some(columns))
    } else {
        (blocked_sum(h, |v| v), None)
    };
    let saturated = match activation {
        Some(Activation::Tanh) => {
            let t = TANH_SATURATION as f32;
            h.iter().filter(|v| v.abs() > t).count()
        }
        Some(Activation::Sigmoid) => {
            let (lo, hi) = (SIGMOID_SATURATION as f32, (1.0 - SIGMOID_SATURATION) as f32);
            h.iter().filter(|&&v| v < lo || v > hi).count()
        }
        _ => 0,
    };
    let mean = (sum / h.len().max(1) as f64) as f32;
    let centred_sq = blocked_sum(h, |v| (v - mean) * (v - mean));
    HostStats {
        sum,
        centred_sq,
        saturated: saturation.then_some(saturated as f64),
        column_sums: columns,
    }
}

/// One power iteration on a row-major `[rows, cols]` matrix from the unit vector `v`:
/// u = W·v, z = Wᵀ·u; returns (‖u‖², ‖z‖², z/‖z‖, ‖W‖²_F). Products in f32 (the estimate's own
/// error, one warm iteration a step, is far larger), norms in f64; the weight norm while W is in
/// cache.
pub(crate) fn power_step(w: &[f32], cols: usize, v: &[f64]) -> (f64, f64, Vec<f64>, f64) {
    let cols = cols.max(1);
    let vf: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let u: Vec<f32> = w.chunks(cols).map(|row| dot(row, &vf)).collect();
    // W is in cache after the pass above: its norm costs a pass through it, not a load.
    let w_sq = sum_sq(w);
    let mut z = vec![0.0f32; cols];
    for (row, &ui) in w.chunks(cols).zip(&u) {
        for (zj, &x) in z.iter_mut().zip(row) {
            *zj += ui * x;
        }
    }
    let u_sq: f64 = u.iter().map(|&x| (x as f64) * (x as f64)).sum();
    let z_sq: f64 = z.iter().map(|&x| (x as f64) * (x as f64)).sum();
    let norm = z_sq.sqrt() + 1e-30;
    let next = z.iter().map(|&x| x as f64 / norm).collect();
    (u_sq, z_sq, next, w_sq)
}

/// The fixed start vector of a cold power iteration (the device one's, `spectral.rs`), unit
/// length.
pub(crate) fn start_vector(n: usize) -> Vec<f64> {
    let v: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.5 * ((i * 7919) % 13) as f64 / 13.0)
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradscope_model::BackendKind;

    /// Both CPU backends lend their buffer; a transposed (non-contiguous) tensor is read in its
    /// logical order.
    #[test]
    fn reads_cpu_tensors_in_logical_order() {
        for kind in [BackendKind::Ndarray, BackendKind::Flex] {
            let t = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], &kind.device());
            assert_eq!(
                with_f32(&t, |s| s.to_vec()).unwrap(),
                vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
            );
            assert_eq!(
                with_f32(&t.transpose(), |s| s.to_vec()).unwrap(),
                vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0],
                "{kind:?}"
            );
        }
    }

    /// The one-pass reductions against the obvious f64 formulas, tails included (lengths that
    /// are not multiples of the lanes).
    #[test]
    fn reductions_match_the_definitions() {
        let x: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let y: Vec<f32> = x.iter().map(|v| v * 0.9 + 0.01).collect();
        let exact: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
        assert!((sum_sq(&x) - exact).abs() <= 1e-6 * exact);
        let (d, s) = diff_sq_and_sq(&x, &y);
        let d_exact: f64 = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
            .sum();
        assert!((d - d_exact).abs() <= 1e-6 * d_exact && (s - exact).abs() <= 1e-6 * exact);
        assert!(diff_sq_and_sq(&x, &y[..5]).0.is_nan());

        // A [4, 9] tanh-like output.
        let h: Vec<f32> = (0..36).map(|i| ((i as f32) * 0.61).cos()).collect();
        let st = layer_stats(&h, 9, Some(Activation::Tanh));
        let mean = h.iter().map(|&v| v as f64).sum::<f64>() / 36.0;
        let var: f64 = h.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        assert!((st.sum - mean * 36.0).abs() < 1e-5 && (st.centred_sq - var).abs() < 1e-5 * var);
        let sat = h
            .iter()
            .filter(|v| v.abs() as f64 > TANH_SATURATION)
            .count() as f64;
        assert_eq!(st.saturated, Some(sat));
        assert!(st.column_sums.is_none());
        let relu: Vec<f32> = h.iter().map(|v| v.max(0.0)).collect();
        let st = layer_stats(&relu, 9, Some(Activation::Relu));
        let cols = st.column_sums.unwrap();
        for (c, got) in cols.iter().enumerate() {
            let want: f64 = (0..4).map(|r| relu[r * 9 + c] as f64).sum();
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    /// Power iteration on a diagonal matrix converges to its largest |entry|.
    #[test]
    fn power_step_finds_the_top_singular_value() {
        let w: Vec<f32> = vec![3.0, 0.0, 0.0, 0.0, -5.0, 0.0, 0.0, 0.0, 1.0];
        let mut v = start_vector(3);
        let mut sigma = 0.0;
        for _ in 0..60 {
            let (u_sq, z_sq, next, w_sq) = power_step(&w, 3, &v);
            assert_eq!(w_sq, 35.0);
            sigma = z_sq.sqrt() / u_sq.sqrt();
            v = next;
        }
        assert!((sigma - 5.0).abs() < 1e-6, "{sigma}");
    }
}
