//! One training step of a deep MLP in the three modes of `gradscope bench` (plain, gradnorms,
//! full), over depth {8, 32, 64} × width {64, 256, 1024}, batch 128, on the default backend.
//! `cargo bench -p gradscope-trainer --bench step` (set `GRADSCOPE_BENCH_DEVICE=flex` for flex;
//! `RAYON_NUM_THREADS` to pin threads). Compare with `../shared/peers/torch_mlp_bench.py`.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gradscope_model::BackendKind;
use gradscope_trainer::bench::{Bench, default_grid};

fn bench(c: &mut Criterion) {
    let backend: BackendKind = std::env::var("GRADSCOPE_BENCH_DEVICE")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or_default();
    let mut group = c.benchmark_group(format!("step_{}", backend.name()));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for cell in default_grid() {
        let mut b = Bench::new(cell, backend);
        let id = BenchmarkId::new(
            format!("{:?}", cell.mode).to_lowercase(),
            format!("d{}_w{}_b{}", cell.depth, cell.width, cell.batch),
        );
        group.bench_function(id, |bencher| bencher.iter(|| b.step()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
