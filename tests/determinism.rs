//! Same config and seed, same weights, bit for bit; a different seed, different weights.

use gradscope::model::{
    Activation, BackendKind, InitKind, MlpConfig, ModelSpec, NormKind, NormPosition, WeightInit,
    collect_params,
};

fn weights(spec: &ModelSpec, seed: u64) -> Vec<Vec<u32>> {
    let device = BackendKind::Ndarray.autodiff_device();
    let net = spec.init_seeded(seed, &device);
    collect_params(&net, None)
        .into_iter()
        .map(|p| {
            p.value
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
                .into_iter()
                .map(f32::to_bits)
                .collect()
        })
        .collect()
}

#[test]
fn equal_seeds_give_bit_identical_weights() {
    for kind in InitKind::ALL {
        for (residual, norm) in [
            (false, NormKind::None),
            (true, NormKind::Batch),
            (true, NormKind::Layer),
            (false, NormKind::Rms),
        ] {
            let mut c = MlpConfig::new(12, 3, 16, 5, Activation::Gelu, WeightInit::new(kind, 1.3));
            c.bias = true;
            c.sigma_b = 0.1;
            c.residual = residual;
            c.norm = norm;
            c.norm_position = NormPosition::Pre;
            c.block_linears = 2;
            c.branch_scale = residual.then_some(0.5);
            let spec = ModelSpec::Mlp(c);
            let a = weights(&spec, 42);
            let b = weights(&spec, 42);
            assert_eq!(a, b, "{kind} residual={residual} norm={norm}");
            let other = weights(&spec, 43);
            assert_ne!(a, other, "{kind}: seed 43 drew the same weights as 42");
        }
    }
}
