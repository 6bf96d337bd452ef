//! Generators of the synthetic data sets (`gaussian`, `teacher`, `spirals`).
//!
//! Each draws from separate substreams of the data seed (teacher weights, train rows, test
//! rows), so changing `n_test` leaves the train set and the teacher unchanged, and vice versa.
//! Callers validate the spec first ([`DataSpec::validate`](crate::DataSpec::validate)).

use crate::dataset::{Split, Targets};
use crate::rng::SeededRng;

const STREAM_TEACHER: u64 = 1;
const STREAM_TRAIN: u64 = 2;
const STREAM_TEST: u64 = 3;

/// Gain on the teacher's hidden weights: large enough that tanh saturates now and then, so the
/// teacher is clearly non-linear, small enough that it does not collapse to a sign function.
const TEACHER_GAIN: f64 = 1.5;

/// Standard deviation of a spiral coordinate before scaling: the radius is uniform on [0, 1],
/// so each coordinate has a second moment of E[r²]/2 = 1/6.
const SPIRAL_SCALE: f64 = 2.449_489_742_783_178; // sqrt(6)

/// The seeds for the train and test rows of `data_seed`.
fn split_rngs(data_seed: u64) -> [SeededRng; 2] {
    [
        SeededRng::substream(data_seed, STREAM_TRAIN),
        SeededRng::substream(data_seed, STREAM_TEST),
    ]
}

fn normals(rng: &mut SeededRng, count: usize) -> Vec<f32> {
    (0..count).map(|_| rng.normal() as f32).collect()
}

/// Pure-noise regression: inputs and targets independent standard normals.
pub(crate) fn gaussian(
    dim: usize,
    outputs: usize,
    n_train: usize,
    n_test: usize,
    data_seed: u64,
) -> [Split; 2] {
    let [mut train_rng, mut test_rng] = split_rngs(data_seed);
    let make = |n: usize, rng: &mut SeededRng| {
        let x = normals(rng, n * dim);
        let y = normals(rng, n * outputs);
        Split {
            n,
            dim,
            x,
            targets: Targets::Values(y),
        }
    };
    [make(n_train, &mut train_rng), make(n_test, &mut test_rng)]
}

/// A fixed random tanh MLP, evaluated in plain `f32`.
struct Teacher {
    /// Per layer: `(weights out × in row-major, in, out)`; every layer but the last is tanh.
    layers: Vec<(Vec<f32>, usize, usize)>,
}

impl Teacher {
    fn new(dim: usize, outputs: usize, depth: usize, width: usize, rng: &mut SeededRng) -> Self {
        let mut layers = Vec::with_capacity(depth + 1);
        let mut fan_in = dim;
        for layer in 0..=depth {
            let (fan_out, gain) = if layer < depth {
                (width, TEACHER_GAIN)
            } else {
                (outputs, 1.0)
            };
            let std = gain / (fan_in as f64).sqrt();
            let weights = (0..fan_in * fan_out)
                .map(|_| (rng.normal() * std) as f32)
                .collect();
            layers.push((weights, fan_in, fan_out));
            fan_in = fan_out;
        }
        Self { layers }
    }

    fn forward(&self, x: &[f32]) -> Vec<f32> {
        let last = self.layers.len() - 1;
        let mut h = x.to_vec();
        for (index, (weights, fan_in, fan_out)) in self.layers.iter().enumerate() {
            h = (0..*fan_out)
                .map(|o| {
                    let row = &weights[o * fan_in..(o + 1) * fan_in];
                    let z: f32 = row.iter().zip(&h).map(|(w, v)| w * v).sum();
                    if index < last { z.tanh() } else { z }
                })
                .collect();
        }
        h
    }
}

/// Regression on a random teacher network plus Gaussian noise.
#[allow(clippy::too_many_arguments)] // mirrors the spec's fields one to one
pub(crate) fn teacher(
    dim: usize,
    outputs: usize,
    depth: usize,
    width: usize,
    noise: f64,
    n_train: usize,
    n_test: usize,
    data_seed: u64,
) -> [Split; 2] {
    let teacher = Teacher::new(
        dim,
        outputs,
        depth,
        width,
        &mut SeededRng::substream(data_seed, STREAM_TEACHER),
    );
    let noise = noise as f32;
    let [mut train_rng, mut test_rng] = split_rngs(data_seed);
    let make = |n: usize, rng: &mut SeededRng| {
        let x = normals(rng, n * dim);
        let mut y = Vec::with_capacity(n * outputs);
        for row in x.chunks_exact(dim) {
            y.extend(
                teacher
                    .forward(row)
                    .into_iter()
                    .map(|v| v + noise * rng.normal() as f32),
            );
        }
        Split {
            n,
            dim,
            x,
            targets: Targets::Values(y),
        }
    };
    [make(n_train, &mut train_rng), make(n_test, &mut test_rng)]
}

/// Interleaved spirals: row `i` belongs to arm `i % arms`, so the classes are balanced to within
/// one row.
pub(crate) fn spirals(
    arms: usize,
    dim: usize,
    noise: f64,
    n_train: usize,
    n_test: usize,
    data_seed: u64,
) -> [Split; 2] {
    let [mut train_rng, mut test_rng] = split_rngs(data_seed);
    let make = |n: usize, rng: &mut SeededRng| {
        let mut x = Vec::with_capacity(n * dim);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let arm = i % arms;
            let r = rng.uniform();
            // Arms start evenly spaced around the circle and each winds 4 radians outwards
            // (the CS231n spiral), with Gaussian jitter on the angle.
            let angle =
                std::f64::consts::TAU * arm as f64 / arms as f64 + 4.0 * r + noise * rng.normal();
            x.push((SPIRAL_SCALE * r * angle.sin()) as f32);
            x.push((SPIRAL_SCALE * r * angle.cos()) as f32);
            x.extend((2..dim).map(|_| rng.normal() as f32));
            // arms ≤ MAX_CLASSES (validated), so the label fits in u32.
            labels.push(arm as u32);
        }
        Split {
            n,
            dim,
            x,
            targets: Targets::Classes(labels),
        }
    };
    [make(n_train, &mut train_rng), make(n_test, &mut test_rng)]
}

/// The adding problem (see [`crate::DataSpec::Adding`]): two distinct marked steps drawn
/// uniformly per row.
pub(crate) fn adding(length: usize, n_train: usize, n_test: usize, data_seed: u64) -> [Split; 2] {
    let [mut train_rng, mut test_rng] = split_rngs(data_seed);
    let make = |n: usize, rng: &mut SeededRng| {
        let dim = 2 * length;
        let mut x = Vec::with_capacity(n * dim);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let values: Vec<f32> = (0..length).map(|_| rng.uniform() as f32).collect();
            // Two distinct positions, uniformly: the second drawn from the other length − 1.
            let first = ((rng.uniform() * length as f64) as usize).min(length - 1);
            let mut second = ((rng.uniform() * (length - 1) as f64) as usize).min(length - 2);
            if second >= first {
                second += 1;
            }
            for (t, &v) in values.iter().enumerate() {
                x.push(v);
                x.push(if t == first || t == second { 1.0 } else { 0.0 });
            }
            y.push(values[first] + values[second]);
        }
        Split {
            n,
            dim,
            x,
            targets: Targets::Values(y),
        }
    };
    [make(n_train, &mut train_rng), make(n_test, &mut test_rng)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(split: &Split) -> &[f32] {
        match &split.targets {
            Targets::Values(v) => v,
            Targets::Classes(_) => panic!("expected values"),
        }
    }

    #[test]
    fn teacher_forward_is_tanh_mlp() {
        // A hand-built 1-2-1 teacher: tanh hidden layer, linear output.
        let t = Teacher {
            layers: vec![(vec![1.0, -2.0], 1, 2), (vec![0.5, 0.25], 2, 1)],
        };
        let y = t.forward(&[0.3])[0];
        let expected = 0.5 * 0.3f32.tanh() + 0.25 * (-0.6f32).tanh();
        assert!((y - expected).abs() < 1e-6, "{y} vs {expected}");
    }

    #[test]
    fn test_set_does_not_depend_on_train_size() {
        let [_, a] = gaussian(3, 1, 10, 5, 9);
        let [_, b] = gaussian(3, 1, 20, 5, 9);
        assert_eq!(a, b);
        let [_, a] = teacher(3, 1, 2, 8, 0.0, 10, 5, 9);
        let [_, b] = teacher(3, 1, 2, 8, 0.0, 30, 5, 9);
        assert_eq!(values(&a), values(&b));
    }

    #[test]
    fn spiral_coordinates_have_unit_ish_variance() {
        let [train, _] = spirals(3, 2, 0.1, 9000, 3, 0);
        for c in 0..2 {
            let col: Vec<f64> = train
                .x
                .iter()
                .skip(c)
                .step_by(2)
                .map(|&v| f64::from(v))
                .collect();
            let var = col.iter().map(|v| v * v).sum::<f64>() / col.len() as f64;
            assert!(
                (var - 1.0).abs() < 0.1,
                "coordinate {c}: second moment {var}"
            );
        }
    }

    /// Every row has exactly two markers, its target is the sum of the two marked values, and
    /// the targets' variance is Var(u + u') = 1/6, the constant prediction's MSE: with 20,000
    /// rows its sampling error is √(1.4/36/20000) ≈ 0.0014 (the sum's kurtosis is 2.4), so 3 %
    /// relative (≈ 3.6 sd) fails only on a bug.
    #[test]
    fn adding_rows_are_two_marked_values_and_their_sum() {
        let [train, test] = adding(7, 20_000, 50, 3);
        assert_eq!(train.dim, 14);
        let y = values(&train);
        for (row, &target) in train.x.chunks(14).zip(y) {
            let marked: Vec<f32> = row
                .chunks(2)
                .filter(|step| step[1] == 1.0)
                .map(|step| step[0])
                .collect();
            assert_eq!(marked.len(), 2, "{row:?}");
            assert!(
                row.chunks(2)
                    .all(|s| (0.0..1.0).contains(&s[0]) && (s[1] == 0.0 || s[1] == 1.0))
            );
            assert_eq!(target, marked[0] + marked[1]);
        }
        let n = y.len() as f64;
        let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = y
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!((var - 1.0 / 6.0).abs() < 0.03 / 6.0, "{var}");
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        // Every position is marked about equally often (no off-by-one at the ends).
        let mut counts = [0usize; 7];
        for row in train.x.chunks(14) {
            for (t, step) in row.chunks(2).enumerate() {
                counts[t] += usize::from(step[1] == 1.0);
            }
        }
        let expected = 2.0 * 20_000.0 / 7.0;
        for c in counts {
            assert!(
                (c as f64 - expected).abs() < 5.0 * expected.sqrt(),
                "{counts:?}"
            );
        }
        assert_eq!(test.n, 50);
    }
}
