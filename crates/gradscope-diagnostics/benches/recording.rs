//! Overhead of full recording over an unrecorded training step: depth 32, width 256, batch 128,
//! ReLU, MSE, SGD, on the ndarray backend (the reference cell), with the backward hook
//! and with the zero-leaf reference tap. Run with
//! `cargo bench -p gradscope-diagnostics --bench recording`.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Distribution, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use gradscope_diagnostics::{RecordOptions, Recorder, TapMode};
use gradscope_model::{
    Activation, ForwardCtx, InitKind, MlpConfig, ModelSpec, Network, NoObserver, WeightInit, loss,
};

fn bench(c: &mut Criterion) {
    let device = gradscope_model::BackendKind::Ndarray.autodiff_device();
    let (depth, width, batch) = (32, 256, 128);
    let mut config = MlpConfig::new(
        width,
        width,
        width,
        depth,
        Activation::Relu,
        WeightInit::new(InitKind::HeNormal, 1.0),
    );
    config.bias = true;
    let spec = ModelSpec::Mlp(config);
    let (x, y) = gradscope_model::with_seed(&device, 0, |d| {
        (
            Tensor::<2>::random([batch, width], Distribution::Normal(0.0, 1.0), d),
            Tensor::<2>::random([batch, width], Distribution::Normal(0.0, 1.0), d),
        )
    });
    let mut group = c.benchmark_group("step_d32_w256_b128_ndarray");
    group.sample_size(30);

    let mut net = Some(spec.init_seeded(0, &device));
    let mut optim = SgdConfig::new().init();
    group.bench_function("plain", |b| {
        b.iter(|| {
            let model = net.take().unwrap();
            let out = model.forward_observed(x.clone(), &ForwardCtx::TRAIN, &mut NoObserver);
            let l = loss::mse(out, y.clone());
            let grads = l.backward();
            let value = l.into_scalar::<f32>();
            let gp = GradientsParams::from_grads(grads, &model);
            net = Some(optim.step(1e-3, model, gp));
            value
        })
    });

    for (name, tap_mode) in [
        ("full", TapMode::Hook),
        ("full_zero_leaf", TapMode::ZeroLeaf),
    ] {
        let mut net = Some(spec.init_seeded(0, &device));
        let mut optim = SgdConfig::new().init();
        let mut recorder = Recorder::new(RecordOptions {
            tap: tap_mode,
            ..RecordOptions::default()
        });
        group.bench_function(name, |b| {
            b.iter(|| {
                let model = net.take().unwrap();
                let mut tap = recorder.tap();
                let out = model.forward_observed(x.clone(), &ForwardCtx::TRAIN, &mut tap);
                let l = loss::mse(out, y.clone());
                let grads = l.backward();
                let pending = recorder.after_backward(&model, &tap, &l, &grads);
                let gp = GradientsParams::from_grads(grads, &model);
                let stepped = optim.step(1e-3, model, gp);
                let m = pending.finish(Some(&stepped));
                net = Some(stepped);
                m.loss
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
