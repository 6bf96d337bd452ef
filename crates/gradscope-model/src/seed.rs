//! Seeded draws that stay reproducible when several threads draw at once.
//!
//! burn draws every random tensor from one process-wide generator per backend, which
//! [`Device::seed`] resets. Two threads that each seed and then draw interleave their draws, and
//! neither gets the weights its seed promises: a sweep of experiments run on threads, or the
//! tests of one binary (which cargo runs in parallel), would give different numbers from one
//! run to the next. Every seeded draw in gradscope goes through [`with_seed`], which holds one
//! lock from the seed to the last draw, so the numbers a seed gives are the same whatever else
//! the process does at the time (as long as other code that seeds burn's generator does so
//! through here too).

use std::sync::{Mutex, PoisonError};

use burn::tensor::Device;

use crate::{AnyNet, ModelSpec};

static GENERATOR: Mutex<()> = Mutex::new(());

/// Seeds burn's generator for `device`'s backend and runs `draw` with it, no other seeded draw
/// in between.
///
/// Everything `draw` takes from the generator (weights, random inputs) is fixed by `seed` and
/// the order of the draws. Keep `draw` to the drawing: the lock serialises every seeded draw in
/// the process.
pub fn with_seed<R>(device: &Device, seed: u64, draw: impl FnOnce(&Device) -> R) -> R {
    // A panic in another thread's draw leaves nothing half-written that matters here: the next
    // draw reseeds first.
    let _guard = GENERATOR.lock().unwrap_or_else(PoisonError::into_inner);
    device.seed(seed);
    draw(device)
}

impl ModelSpec {
    /// Builds the model from `seed`: the same spec and seed give the same weights, bit for bit,
    /// whatever other threads draw meanwhile.
    pub fn init_seeded(&self, seed: u64, device: &Device) -> AnyNet {
        with_seed(device, seed, |d| self.init(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, InitKind, MlpConfig, WeightInit, collect_params};

    fn bits(net: &AnyNet) -> Vec<u32> {
        collect_params(net, None)
            .into_iter()
            .flat_map(|p| p.value.into_data().try_to_vec::<f32>().unwrap())
            .map(f32::to_bits)
            .collect()
    }

    /// Eight threads building models from two seeds at once: every model equals the one its
    /// seed gives alone. Without the lock, seeds and draws interleave and this fails.
    #[test]
    fn seeded_builds_on_many_threads_match_the_lone_build() {
        let spec = ModelSpec::Mlp(MlpConfig::new(
            32,
            4,
            64,
            12,
            Activation::Tanh,
            WeightInit::new(InitKind::XavierNormal, 1.0),
        ));
        let device = crate::BackendKind::Ndarray.device();
        let alone = [
            bits(&spec.init_seeded(1, &device)),
            bits(&spec.init_seeded(2, &device)),
        ];
        assert_ne!(alone[0], alone[1]);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let device = device.clone();
                    s.spawn(move || {
                        (
                            i % 2,
                            (0..5)
                                .map(|_| bits(&spec.init_seeded(1 + i % 2, &device)))
                                .collect::<Vec<_>>(),
                        )
                    })
                })
                .collect();
            for h in handles {
                let (which, got) = h.join().unwrap();
                for g in got {
                    assert_eq!(g, alone[which as usize], "seed {}", 1 + which);
                }
            }
        });
    }
}
