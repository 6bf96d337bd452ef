//! [`BatchSampler`]: the deterministic order in which training rows are visited.

use crate::rng::SeededRng;

/// Deterministic mini-batches of row indices.
///
/// Each epoch is a fresh seeded permutation of `0..n`, cut into consecutive batches of
/// `batch_size`; the `n % batch_size` rows left at the end of a permutation are dropped and the
/// next batch comes from a new permutation (drawn from the same random stream). So the sequence
/// of batches depends on `(n, batch_size, seed)` alone, and two samplers built with the same
/// arguments yield identical batches: this is what lets a run and its learning-rate-zero
/// baseline see the same data in the same order.
///
/// If `batch_size ≥ n`, every batch is the whole set, freshly permuted. With `n == 0` or
/// `batch_size == 0` every batch is empty.
#[derive(Debug)]
pub struct BatchSampler {
    n: usize,
    batch_size: usize,
    rng: SeededRng,
    order: Vec<usize>,
    /// Position in `order` of the next batch's first index.
    next: usize,
    epochs: u64,
}

impl BatchSampler {
    /// A sampler over rows `0..n` with batches of `batch_size` (at most `n`), seeded by `seed`.
    pub fn new(n: usize, batch_size: usize, seed: u64) -> Self {
        Self {
            n,
            batch_size: batch_size.min(n),
            rng: SeededRng::new(seed),
            order: Vec::new(),
            // Nothing is left of the (not yet drawn) first epoch, so the first call draws it.
            next: 0,
            epochs: 0,
        }
    }

    /// The indices of the next batch.
    pub fn next_indices(&mut self) -> Vec<usize> {
        if self.batch_size == 0 {
            return Vec::new();
        }
        if self.order.is_empty() || self.next + self.batch_size > self.n {
            self.order = self.rng.permutation(self.n);
            self.next = 0;
            self.epochs += 1;
        }
        let batch = self.order[self.next..self.next + self.batch_size].to_vec();
        self.next += self.batch_size;
        batch
    }

    /// The number of rows sampled from.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no rows to sample.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Rows per batch (the requested size, capped at `n`).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Full batches per epoch, `n / batch_size` (0 when there are none).
    pub fn batches_per_epoch(&self) -> usize {
        self.n.checked_div(self.batch_size).unwrap_or(0)
    }

    /// How many epochs (permutations) batches have been taken from so far; the last batch
    /// returned belongs to epoch `epochs() - 1`, counting from 0.
    pub fn epochs(&self) -> u64 {
        self.epochs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_epoch_covers_every_row_once() {
        let mut sampler = BatchSampler::new(12, 4, 5);
        assert_eq!(sampler.batches_per_epoch(), 3);
        let mut previous = Vec::new();
        for epoch in 1..=4 {
            let mut seen: Vec<usize> = (0..3).flat_map(|_| sampler.next_indices()).collect();
            assert_eq!(sampler.epochs(), epoch);
            let order = seen.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..12).collect::<Vec<_>>());
            assert_ne!(order, previous, "epoch {epoch} repeats the previous order");
            previous = order;
        }
    }

    #[test]
    fn leftovers_are_dropped() {
        let mut sampler = BatchSampler::new(10, 4, 1);
        let a = sampler.next_indices();
        let b = sampler.next_indices();
        assert_eq!(sampler.epochs(), 1);
        let c = sampler.next_indices();
        assert_eq!(sampler.epochs(), 2);
        let mut first: Vec<usize> = a.iter().chain(&b).copied().collect();
        first.sort_unstable();
        first.dedup();
        assert_eq!(first.len(), 8);
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn big_batches_are_the_whole_set() {
        let mut sampler = BatchSampler::new(5, 100, 2);
        for _ in 0..3 {
            let mut batch = sampler.next_indices();
            batch.sort_unstable();
            assert_eq!(batch, vec![0, 1, 2, 3, 4]);
        }
        assert!(BatchSampler::new(0, 4, 0).next_indices().is_empty());
        assert!(BatchSampler::new(4, 0, 0).next_indices().is_empty());
    }
}
