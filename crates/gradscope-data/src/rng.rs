//! A small deterministic random number generator.
//!
//! Everything random in gradscope's data (synthetic draws, splits, batch order) goes through
//! [`SeededRng`]. Only the raw 64-bit stream comes from `rand`'s [`StdRng`]; the uniform, normal
//! and shuffle algorithms are written here, so the data a seed produces depends on nothing but
//! that seed and this file (and `StdRng`'s stream), not on how `rand` happens to implement its
//! distributions in a given version.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator of uniform and normal numbers and permutations.
#[derive(Debug)]
pub struct SeededRng {
    inner: StdRng,
    /// Box–Muller makes normals in pairs; the second one waits here.
    spare_normal: Option<f64>,
}

impl SeededRng {
    /// A generator determined by `seed` alone.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: StdRng::seed_from_u64(seed),
            spare_normal: None,
        }
    }

    /// An independent generator for one named use (`stream`) of a seed.
    ///
    /// Drawing, say, the teacher's weights, the train set and the test set from separate streams
    /// keeps each of them fixed when the size of another changes.
    pub fn substream(seed: u64, stream: u64) -> Self {
        Self::new(splitmix64(seed ^ splitmix64(stream)))
    }

    /// The next raw 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform number in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (0 when `n` is 0).
    ///
    /// Multiply-and-shift: the bias is below `n / 2^64`, far too small to matter here.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A standard normal number (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A random permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        self.shuffle(&mut order);
        order
    }
}

/// SplitMix64's finaliser: spreads nearby seeds (0, 1, 2, ...) far apart.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.normal().to_bits(), b.normal().to_bits());
            assert_eq!(a.uniform().to_bits(), b.uniform().to_bits());
        }
        let mut c = SeededRng::new(8);
        let mut a = SeededRng::new(7);
        assert_ne!(a.next_u64(), c.next_u64());
        assert_ne!(
            SeededRng::substream(7, 1).next_u64(),
            SeededRng::substream(7, 2).next_u64()
        );
    }

    #[test]
    fn uniform_and_normal_moments() {
        let n = 100_000;
        let mut rng = SeededRng::new(1);
        let u: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean_u = u.iter().sum::<f64>() / n as f64;
        assert!((mean_u - 0.5).abs() < 0.01, "uniform mean {mean_u}");

        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "normal mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
            "normal var {var}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation_and_moves_things() {
        let mut rng = SeededRng::new(3);
        let p = rng.permutation(1000);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        let fixed = p.iter().enumerate().filter(|(i, v)| i == *v).count();
        assert!(fixed < 10, "{fixed} fixed points");
        assert_eq!(rng.below(0), 0);
    }
}
