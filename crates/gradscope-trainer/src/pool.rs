//! Where the compute runs: on a thread of rayon's pool, not beside it.
//!
//! burn-flex hands every large matrix product to rayon (`gemm` with `Parallelism::Rayon`). Called
//! from a thread outside the pool, each product wakes the pool's threads, blocks the caller until
//! they are done, and leaves them spinning for the next one while the caller does the
//! element-wise work: on a machine with as many cores as pool threads, that is one thread more
//! than there are cores, and the scheduler's switches cost a quarter of a width-256 step.
//! Running the whole loop on a pool thread makes the caller one of the workers: the other
//! threads join each product and nothing competes for a core. The numbers do not change:
//! `gemm` splits the output, never a sum, across threads.

/// Runs `f` on a thread of the current rayon pool (the global one unless called inside
/// [`rayon::ThreadPool::install`]); on this thread when it already is one (what
/// [`rayon::scope`] does).
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};
    use gradscope_model::BackendKind;

    use super::on_pool;

    #[test]
    fn runs_on_a_pool_thread_and_directly_when_already_on_one() {
        assert!(
            rayon::current_thread_index().is_none(),
            "the test thread is not a worker"
        );
        assert!(on_pool(|| rayon::current_thread_index().is_some()));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            let here = rayon::current_thread_index();
            assert_eq!(on_pool(rayon::current_thread_index), here);
            assert_eq!(on_pool(rayon::current_num_threads), 2);
        });
    }

    /// A matrix of `rows × cols` with entries that need every bit of an f32 mantissa.
    fn matrix(rows: usize, cols: usize, salt: u64, device: &burn::tensor::Device) -> Tensor<2> {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| {
                let h = (i as u64 ^ salt)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .rotate_left(17);
                (h >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        Tensor::from_data(TensorData::new(values, [rows, cols]), device)
    }

    /// The matrix products of a dense layer's forward and backward passes, large enough for
    /// burn-flex to hand them to rayon (m·n·k ≥ 192³), give the same bits on 1, 2 and 3 threads:
    /// the promise the thread pool's use rests on (`gemm` splits outputs, never a sum).
    #[test]
    fn flex_matrix_products_are_the_same_bits_on_any_thread_count() {
        let device = BackendKind::Flex.device();
        let (batch, width) = (128, 512);
        let x = matrix(batch, width, 1, &device);
        let w = matrix(width, width, 2, &device);
        let g = matrix(batch, width, 3, &device);
        let products = |threads: usize| -> Vec<Vec<f32>> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                [
                    x.clone().matmul(w.clone()),             // forward: x·W
                    g.clone().matmul(w.clone().transpose()), // ∂L/∂x = g·Wᵀ
                    x.clone().transpose().matmul(g.clone()), // ∂L/∂W = xᵀ·g
                ]
                .into_iter()
                .map(|t| t.into_data().try_to_vec::<f32>().unwrap())
                .collect()
            })
        };
        let one = products(1);
        assert!(one.iter().flatten().all(|v| v.is_finite()));
        for threads in [2, 3] {
            let many = products(threads);
            for (k, (a, b)) in one.iter().zip(&many).enumerate() {
                let same = a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "product {k} differs between 1 and {threads} threads");
            }
        }
    }

    /// burn is a dependency without its default features, which would leave burn-flex without
    /// rayon (every matrix product on one core: 1.7× slower at width 1024) and without SIMD.
    /// The workspace asks for both directly; this keeps it that way.
    #[test]
    fn the_workspace_builds_flex_with_rayon_and_simd() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let read = |p: &str| -> toml::Table {
            toml::from_str(&std::fs::read_to_string(root.join(p)).unwrap()).unwrap()
        };
        let workspace = read("Cargo.toml");
        let flex = &workspace["workspace"]["dependencies"]["burn-flex"];
        let features: Vec<&str> = flex["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        assert!(
            features.contains(&"rayon") && features.contains(&"simd"),
            "{features:?}"
        );
        let model = read("crates/gradscope-model/Cargo.toml");
        assert!(
            model["dependencies"].get("burn-flex").is_some(),
            "gradscope-model must depend on burn-flex for its features to apply"
        );
    }
}
