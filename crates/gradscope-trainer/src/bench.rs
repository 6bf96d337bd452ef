//! `gradscope bench`: the cost of one training step of a deep MLP, with and without the
//! diagnostics, measured the way `../shared/peers/torch_mlp_bench.py` measures PyTorch, so the two
//! can be compared cell by cell.
//!
//! The model is `depth` Linear layers of `width → width`, ReLU after every layer but the last
//! (the hidden stack here has `depth − 1` blocks and the head is the last Linear), He-normal
//! weights and zero biases; the data a teacher–student stream, `y = tanh(x·T/√width)` on a pool
//! of 8 pre-generated batches of `x ~ N(0, 1)`; MSE and plain SGD. Modes:
//!
//! - `plain`: forward, loss, backward, SGD step, the loss read back;
//! - `gradnorms`: plus every layer's weight- and bias-gradient norm, read back in the same
//!   transfer;
//! - `full`: plus activation-gradient taps, activation statistics, weight and spectral norms and
//!   update ratios: everything the recorder writes at cadence 1.
//!
//! One step costs about `6·batch·depth·width²` FLOPs.

use std::time::Instant;

use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use gradscope_data::SeededRng;
pub use gradscope_diagnostics::TapMode;
use gradscope_diagnostics::{RecordOptions, Recorder};
use gradscope_model::{
    Activation, AnyNet, BackendKind, ForwardCtx, InitKind, MlpConfig, ModelSpec, Network,
    NoObserver, WeightInit, loss,
};
use serde::Serialize;

/// What a step measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchMode {
    /// Forward, backward, step, loss read back.
    Plain,
    /// Plus per-layer parameter-gradient norms.
    Gradnorms,
    /// Plus everything the recorder writes.
    Full,
}

/// A part of the `full` recording that can be left out, to see what each part costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// Activation mean, spread, dead and saturated fractions.
    ActivationStats,
    /// Weight Frobenius and spectral norms.
    WeightNorms,
    /// Update-to-weight ratios.
    UpdateRatios,
}

/// One cell of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Linear layers.
    pub depth: usize,
    /// Width of every layer.
    pub width: usize,
    /// Batch size.
    pub batch: usize,
    /// Mode.
    pub mode: BenchMode,
    /// Parts of `full` left out (all false: everything).
    pub skip: Skip,
    /// How `full` taps the activation gradients (the backward hook, or the zero-leaf
    /// reference).
    pub tap: TapMode,
}

/// The cell's model: `depth − 1` hidden ReLU layers (He init, biases) and a head, all `width`
/// wide, so that `depth` counts the linear layers as PyTorch's peer benchmark does.
fn model_config(cell: &Cell) -> MlpConfig {
    let mut config = MlpConfig::new(
        cell.width,
        cell.width,
        cell.width,
        cell.depth.saturating_sub(1).max(1),
        Activation::Relu,
        WeightInit::new(InitKind::HeNormal, 1.0),
    );
    config.bias = true;
    config
}

/// What one cell holds at once, for the memory check (the same model as [`Bench::new`] builds:
/// `depth − 1` hidden layers and a head, all `width` wide, SGD without momentum, no baseline).
pub fn workload(cell: &Cell) -> crate::memory::Workload {
    crate::memory::Workload {
        footprint: ModelSpec::Mlp(model_config(cell)).footprint(),
        batch: cell.batch,
        eval_rows: 0,
        // The pool of teacher batches.
        data_values: 16 * cell.batch * cell.width + cell.width * cell.width,
        optimizer_slots: 0,
        arms: 1,
    }
}

/// Which parts of `full` are left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Skip {
    /// See [`Part::ActivationStats`].
    pub activation_stats: bool,
    /// See [`Part::WeightNorms`].
    pub weight_norms: bool,
    /// See [`Part::UpdateRatios`].
    pub update_ratios: bool,
}

impl Skip {
    /// The parts listed.
    pub fn of(parts: &[Part]) -> Self {
        Self {
            activation_stats: parts.contains(&Part::ActivationStats),
            weight_norms: parts.contains(&Part::WeightNorms),
            update_ratios: parts.contains(&Part::UpdateRatios),
        }
    }
}

/// The measurement of a cell, named like the PyTorch script's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellResult {
    /// Linear layers.
    pub depth: usize,
    /// Width.
    pub width: usize,
    /// Batch size.
    pub batch: usize,
    /// Mode.
    pub mode: BenchMode,
    /// Parts of `full` left out.
    pub skip: Skip,
    /// How `full` tapped the activation gradients.
    pub tap: TapMode,
    /// Backend.
    pub device: String,
    /// Compute threads (the rayon pool).
    pub threads: usize,
    /// Timed steps.
    pub steps: usize,
    /// Untimed warm-up steps.
    pub warmup: usize,
    /// Median time of a step (ms).
    pub ms_per_step_median: f64,
    /// Mean time of a step (ms).
    pub ms_per_step_mean: f64,
    /// 10th percentile (ms).
    pub ms_per_step_p10: f64,
    /// 90th percentile (ms).
    pub ms_per_step_p90: f64,
    /// Steps per second over the timed steps.
    pub steps_per_s: f64,
    /// GFLOP/s at the median step time (6·batch·depth·width² FLOPs a step).
    pub gflops_at_median: f64,
    /// Peak resident memory of the process so far (MiB).
    pub peak_rss_mib: f64,
    /// The last loss.
    pub last_loss: f64,
}

/// A prepared cell: model, optimiser, batches.
pub struct Bench {
    cell: Cell,
    model: Option<AnyNet>,
    optim: burn::optim::ModuleOptimizer,
    pool: Vec<(Tensor<2>, Tensor<2>)>,
    recorder: Recorder,
    step: usize,
}

impl Bench {
    /// Builds the model and the batch pool of `cell` on `backend` (seeded, deterministic).
    pub fn new(cell: Cell, backend: BackendKind) -> Self {
        let device = backend.autodiff_device();
        let model = ModelSpec::Mlp(model_config(&cell)).init_seeded(0, &device);
        let pool = teacher_pool(cell.width, cell.batch, &device);
        let options = match cell.mode {
            BenchMode::Full => RecordOptions {
                activation_stats: !cell.skip.activation_stats,
                weight_norms: !cell.skip.weight_norms,
                update_ratios: !cell.skip.update_ratios,
                tap: cell.tap,
            },
            _ => RecordOptions {
                activation_stats: false,
                weight_norms: false,
                update_ratios: false,
                tap: cell.tap,
            },
        };
        Self {
            cell,
            model: Some(model),
            optim: SgdConfig::new().init(),
            pool,
            recorder: Recorder::new(options),
            step: 0,
        }
    }

    /// One training step; returns the loss (read back, as every mode does).
    pub fn step(&mut self) -> f64 {
        let (x, y) = self.pool[self.step % self.pool.len()].clone();
        self.step += 1;
        let Some(model) = self.model.take() else {
            return f64::NAN;
        };
        let (loss, model) = match self.cell.mode {
            BenchMode::Plain => {
                let out = model.forward_observed(x, &ForwardCtx::TRAIN, &mut NoObserver);
                let l = loss::mse(out, y);
                let grads = l.backward();
                let value = l.into_scalar::<f32>() as f64;
                let gp = GradientsParams::from_grads(grads, &model);
                (value, self.optim.step(1e-3, model, gp))
            }
            BenchMode::Gradnorms | BenchMode::Full => {
                let loss_fn = |out| loss::mse(out, y);
                let step = if self.cell.mode == BenchMode::Full {
                    self.recorder.record(&model, x, &ForwardCtx::TRAIN, loss_fn)
                } else {
                    self.recorder
                        .record_without_taps(&model, x, &ForwardCtx::TRAIN, loss_fn)
                };
                let optim = &mut self.optim;
                let (stepped, m) = step.update(model, |model, grads| {
                    let gp = GradientsParams::from_grads(grads, &model);
                    optim.step(1e-3, model, gp)
                });
                (m.loss, stepped)
            }
        };
        self.model = Some(model);
        loss
    }
}

fn teacher_pool(width: usize, batch: usize, device: &Device) -> Vec<(Tensor<2>, Tensor<2>)> {
    let mut rng = SeededRng::new(12345);
    let mut draw = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.normal() as f32).collect() };
    let teacher =
        Tensor::<2>::from_data(TensorData::new(draw(width * width), [width, width]), device)
            .div_scalar((width as f64).sqrt());
    (0..8)
        .map(|_| {
            let x = Tensor::<2>::from_data(
                TensorData::new(draw(batch * width), [batch, width]),
                device,
            );
            let y = x.clone().matmul(teacher.clone()).tanh();
            (x, y)
        })
        .collect()
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Times `steps` steps of `cell` after `warmup` untimed ones.
pub fn run_cell(cell: Cell, backend: BackendKind, steps: usize, warmup: usize) -> CellResult {
    crate::pool::on_pool(|| run_cell_here(cell, backend, steps, warmup))
}

fn run_cell_here(cell: Cell, backend: BackendKind, steps: usize, warmup: usize) -> CellResult {
    let mut bench = Bench::new(cell, backend);
    let mut last = f64::NAN;
    for _ in 0..warmup {
        last = bench.step();
    }
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let t = Instant::now();
        last = bench.step();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total: f64 = times.iter().sum();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len().max(1);
    let median = if sorted.is_empty() {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    };
    let pick = |q: f64| {
        sorted
            .get(((q * n as f64) as usize).min(n - 1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let flops = 6.0 * cell.batch as f64 * cell.depth as f64 * (cell.width as f64).powi(2);
    CellResult {
        depth: cell.depth,
        width: cell.width,
        batch: cell.batch,
        mode: cell.mode,
        skip: cell.skip,
        tap: cell.tap,
        device: backend.name().to_string(),
        threads: rayon::current_num_threads(),
        steps,
        warmup,
        ms_per_step_median: median,
        ms_per_step_mean: total / n as f64,
        ms_per_step_p10: pick(0.1),
        ms_per_step_p90: pick(0.9),
        steps_per_s: steps as f64 / (total / 1e3).max(1e-12),
        gflops_at_median: flops / (median * 1e-3) / 1e9,
        peak_rss_mib: peak_rss_mib(),
        last_loss: last,
    }
}

/// The default grid: depth {8, 32, 64} × width {64, 256, 1024}, batch 128, every mode.
pub fn default_grid() -> Vec<Cell> {
    let mut cells = Vec::new();
    for depth in [8, 32, 64] {
        for width in [64, 256, 1024] {
            for mode in [BenchMode::Plain, BenchMode::Gradnorms, BenchMode::Full] {
                cells.push(Cell {
                    depth,
                    width,
                    batch: 128,
                    mode,
                    skip: Skip::default(),
                    tap: TapMode::default(),
                });
            }
        }
    }
    cells
}

/// Steps to time for a cell so that the grid takes minutes, not hours, on two cores.
pub fn default_steps(cell: &Cell) -> usize {
    let gflop = 6.0 * cell.batch as f64 * cell.depth as f64 * (cell.width as f64).powi(2) / 1e9;
    ((2.0 / gflop.max(1e-3)) as usize).clamp(10, 200)
}
