//! Synthetic runs for the tests: built in memory, and written out as run folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use gradscope_record::{
    Change, Diagnosis, DiagnosisKind, EvalRecord, Evidence, FinalMetrics, Finals, LayerSeries,
    LearningSignal, NonFinite, NonFiniteKind, Phase, Real, Remedy, RunKind, SCHEMA_VERSION,
    SUMMARY_SCHEMA_VERSION, Seeds, Setting, Status, StepRecord, Summary, TheoryPrediction, Verdict,
    Versions, VersusChance, write_jsonl,
};
// The including crate brings `RunData` into scope (the library itself, or an integration test).
use super::RunData;

fn r(v: f64) -> Option<Real> {
    Some(Real(v))
}

/// A summary with the given name, depth and diagnosis; the rest plausible.
pub fn summary(name: &str, depth: usize, kind: DiagnosisKind, verdict: Option<Verdict>) -> Summary {
    Summary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        name: name.to_string(),
        config_hash: "0123abcd".into(),
        status: Status::Completed,
        interrupted: false,
        verdict,
        verdict_reason: verdict.map(|v| format!("was judged {}", v.name())),
        constant_loss: Some(Real(std::f64::consts::LN_10)),
        learning_signal: verdict.map(|v| LearningSignal {
            z: Real(if v == Verdict::Learning { 14.2 } else { 0.7 }),
            first_step_outside_band: (v == Verdict::Learning).then_some(12),
            window: 10,
            threshold: 3.0,
            gap_early: Some(Real(0.05)),
            gap_late: Some(Real(0.8)),
            gap_growing: Some(true),
            versus_chance: Some(VersusChance {
                metric: "accuracy".into(),
                model: Real(0.91),
                chance: Real(0.1),
                standard_errors: Real(40.0),
                beats_chance: true,
            }),
            trace: Vec::new(),
        }),
        head_only: None,
        diagnosis: Diagnosis {
            kind,
            evidence: Evidence {
                per_layer_rate: Some(Real(0.0625)),
                first_to_last_ratio: Some(Real(1.2e-29)),
                final_per_layer_rate: Some(Real(0.07)),
                final_first_to_last_ratio: Some(Real(3.0e-28)),
                loss_spikes: vec![],
                first_nonfinite: None,
                max_saturated_fraction: Some(Real(0.8)),
                max_dead_fraction: Some(Real(0.0)),
                worst: None,
                dead_units: None,
                saturated_units: None,
                phases: vec![Phase {
                    from_step: 0,
                    to_step: 59,
                    kind,
                }],
                through_time: false,
                summary: format!(
                    "{}: the first layer receives 1.200e-29 of the last layer's gradient (×0.0625 per layer)",
                    kind.name()
                ),
            },
            remedies: vec![
                Remedy::new(
                    Change::Residual { branch_scale: None },
                    "residual connections",
                    "an identity path carries the gradient past every block",
                )
                .with_settings(vec![Setting::new("model.residual", "true")]),
                Remedy::new(
                    Change::LowerLearningRate { now: 0.1, to: 0.01 },
                    "lower the learning rate",
                    "",
                ),
            ],
        },
        first_nonfinite: None,
        finals: Finals {
            real: FinalMetrics {
                train_loss: Real(0.31),
                test_loss: Real(0.35),
                test_accuracy: Some(Real(0.912)),
                train_accuracy: Some(Real(0.95)),
            },
            baseline: verdict.map(|_| FinalMetrics {
                train_loss: Real(2.30),
                test_loss: Real(2.31),
                test_accuracy: Some(Real(0.1)),
                train_accuracy: Some(Real(0.1)),
            }),
        },
        theory: None,
        depth,
        time_steps: None,
        steps_completed: 60,
        steps_planned: 60,
        steps_per_second: 100.0,
        wall_time_s: 1.2,
        seeds: Seeds { init: 0, data: 1 },
        device: "ndarray".into(),
        dataset: "digits (8×8 handwritten digits, 1797 samples)".into(),
        loss: "cross_entropy".into(),
        model: format!("mlp depth {depth} width 64, sigmoid, xavier_normal"),
        versions: Versions {
            gradscope: "0.1.0".into(),
            burn: "0.22.1".into(),
            summary_schema: SUMMARY_SCHEMA_VERSION,
            record_schema: SCHEMA_VERSION,
        },
    }
}

/// A record of `run` at `step` with per-layer ‖∂L/∂h‖ from `grad(layer)` (1-based).
pub fn record(
    run: RunKind,
    step: u64,
    depth: usize,
    loss: f64,
    grad: impl Fn(usize) -> f64,
) -> StepRecord {
    let per_layer = |f: &dyn Fn(usize) -> f64| (1..=depth).map(|l| r(f(l))).collect::<Vec<_>>();
    StepRecord {
        schema_version: SCHEMA_VERSION,
        run,
        step,
        lr: Real(if run == RunKind::Real { 0.1 } else { 0.0 }),
        loss: Real(loss),
        grad_norm: Real(1.0),
        clipped: false,
        spectral_product: None,
        layers: LayerSeries {
            act_grad_norm: per_layer(&grad),
            weight_grad_norm: per_layer(&|l| grad(l) * 0.5),
            bias_grad_norm: per_layer(&|l| grad(l) * 0.1),
            weight_norm: per_layer(&|_| 8.0),
            spectral_norm: per_layer(&|l| 0.9 + 0.05 * l as f64),
            update_ratio: per_layer(&|_| 1e-3),
            act_mean: per_layer(&|_| 0.5),
            act_std: per_layer(&|l| 0.3 / l as f64),
            act_saturated: per_layer(&|l| (0.1 * l as f64).min(1.0)),
            act_dead: per_layer(&|l| (0.02 * l as f64).min(1.0)),
            act_nonfinite: vec![Some(0); depth],
            act_grad_norm_time: vec![],
            recurrent_spectral_norm: vec![],
            recurrent_spectral_radius: vec![],
        },
        eval: step.is_multiple_of(20).then_some(EvalRecord {
            train_loss: Real(loss),
            test_loss: Real(loss * 1.05),
            test_accuracy: Some(Real(0.5)),
            train_accuracy: Some(Real(0.5)),
        }),
        nonfinite: None,
    }
}

/// A deep plain net whose gradient vanishes; 60 steps, a baseline, the theory's prediction.
/// Its name needs HTML escaping.
pub fn vanishing_run() -> RunData {
    let depth = 12;
    let mut s = summary(
        "plain <deep> & \"sigmoid\"",
        depth,
        DiagnosisKind::Vanishing,
        Some(Verdict::Indistinguishable),
    );
    s.theory = Some(TheoryPrediction {
        case: serde_json::json!({"plain": {"sigma_w": 1.0}}),
        predicted_activation_grad_norm: (1..=depth)
            .map(|l| Real(0.3f64.powi((depth - l) as i32) * 0.9))
            .collect(),
    });
    let mut records = Vec::new();
    for step in 0..60u64 {
        let t = step as f64;
        let loss = 2.3 - 0.1 * (1.0 - (-t / 5.0).exp()) + 0.02 * (t * 1.7).sin();
        records.push(record(RunKind::Real, step, depth, loss, |l| {
            0.25f64.powi((depth - l) as i32) * (1.0 + 0.01 * t)
        }));
        let base = 2.3 + 0.02 * (t * 1.3).cos();
        records.push(record(RunKind::Baseline, step, depth, base, |l| {
            0.25f64.powi((depth - l) as i32)
        }));
    }
    RunData {
        dir: PathBuf::from("runs/plain-deep-1234"),
        summary: s,
        records,
        config_toml:
            "seed = 0\n\n[model]\ndepth = 12\nactivation = \"sigmoid\" # <b>not bold</b>\n".into(),
        family: None,
        label: None,
    }
}

/// A net that explodes: stops at step 6 with an inf backward signal at layer 3 and a NaN loss,
/// a zero in one layer's norm and a spectral norm of inf.
pub fn exploding_run() -> RunData {
    let depth = 8;
    let mut s = summary(
        "exploding relu",
        depth,
        DiagnosisKind::Exploding,
        Some(Verdict::Indistinguishable),
    );
    let nf = NonFinite {
        step: 6,
        layer: 3,
        layer_name: "blocks.2".into(),
        kind: NonFiniteKind::BackwardSignal,
    };
    s.status = Status::Nonfinite;
    s.first_nonfinite = Some(nf.clone());
    s.diagnosis.evidence.first_nonfinite = Some(nf.clone());
    s.diagnosis.evidence.summary =
        "exploding: the first non-finite value is a backward signal at step 6 in blocks.2 (layer 3)".into();
    s.finals.real.test_loss = Real(f64::NAN);
    s.finals.real.test_accuracy = Some(Real(f64::NAN));
    s.steps_completed = 7;
    let mut records = Vec::new();
    for step in 0..7u64 {
        let t = step as f64;
        let mut real = record(RunKind::Real, step, depth, 2.3 * 4f64.powf(t), |l| {
            1.6f64.powi((depth - l) as i32) * 10f64.powf(t)
        });
        // A zero and a missing value must not break the log plots.
        real.layers.act_grad_norm[depth - 1] = Some(Real(0.0));
        real.layers.act_std[0] = None;
        if step == 6 {
            real.loss = Real(f64::NAN);
            real.layers.act_grad_norm[2] = Some(Real(f64::INFINITY));
            real.layers.act_grad_norm[1] = Some(Real(f64::NAN));
            real.layers.act_std[4] = Some(Real(f64::INFINITY));
            real.layers.act_saturated[4] = Some(Real(f64::NAN));
            real.nonfinite = Some(nf.clone());
        }
        if step == 0 {
            real.layers.spectral_norm[5] = Some(Real(f64::INFINITY));
        }
        records.push(real);
        records.push(record(RunKind::Baseline, step, depth, 2.3, |l| {
            1.6f64.powi((depth - l) as i32)
        }));
    }
    RunData {
        dir: PathBuf::from("runs/exploding-5678"),
        summary: s,
        records,
        config_toml: "[optim]\nlr = 2.0\n".into(),
        family: None,
        label: None,
    }
}

/// One layer, one record, no baseline, no theory.
pub fn tiny_run() -> RunData {
    let mut s = summary("tiny/one layer", 1, DiagnosisKind::Healthy, None);
    s.diagnosis.evidence = Evidence {
        summary: "healthy: too few layers to compare".into(),
        ..Evidence::default()
    };
    s.diagnosis.remedies.clear();
    s.steps_completed = 1;
    s.steps_planned = 1;
    RunData {
        dir: PathBuf::from("runs/tiny"),
        summary: s,
        records: vec![record(RunKind::Real, 0, 1, 0.7, |_| 0.4)],
        config_toml: String::new(),
        family: None,
        label: None,
    }
}

/// A run with no records at all (interrupted before the first one).
pub fn empty_run() -> RunData {
    let mut s = summary("interrupted", 4, DiagnosisKind::Healthy, None);
    s.status = Status::Interrupted;
    s.interrupted = true;
    RunData {
        dir: PathBuf::from("runs/interrupted"),
        summary: s,
        records: vec![],
        config_toml: "[train]\nsteps = 10\n".into(),
        family: None,
        label: None,
    }
}

/// The runs most tests use.
pub fn all_runs() -> Vec<RunData> {
    vec![vanishing_run(), exploding_run(), tiny_run(), empty_run()]
}

/// Writes `run` as a run folder under `dir` and returns the run with `dir` set to it.
pub fn write_run_dir(dir: &Path, run: &RunData) -> RunData {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("summary.json"), run.summary.to_json()).unwrap();
    let mut buf = Vec::new();
    write_jsonl(&mut buf, &run.records).unwrap();
    std::fs::write(dir.join("metrics.jsonl"), buf).unwrap();
    std::fs::write(dir.join("config.toml"), &run.config_toml).unwrap();
    RunData {
        dir: dir.to_path_buf(),
        ..run.clone()
    }
}

/// A long, deep run: `steps` recorded steps of `depth` layers, with a baseline.
pub fn long_run(steps: u64, depth: usize) -> RunData {
    let mut run = vanishing_run();
    run.summary = summary(
        "long deep",
        depth,
        DiagnosisKind::Vanishing,
        Some(Verdict::Learning),
    );
    run.records.clear();
    for step in 0..steps {
        let t = step as f64;
        let loss = 2.3 * (-t / 200.0).exp() + 0.05 * (t * 0.37).sin().abs();
        run.records
            .push(record(RunKind::Real, step, depth, loss, |l| {
                0.5f64.powi((depth - l) as i32) * (1.0 + t / 100.0)
            }));
        run.records.push(record(
            RunKind::Baseline,
            step,
            depth,
            2.3 + 0.03 * (t * 0.7).sin(),
            |l| 0.5f64.powi((depth - l) as i32),
        ));
    }
    run.dir = PathBuf::from("runs/long-deep");
    run
}

/// A two-layer recurrent net observed through time: at every record, layer l's ‖∂L/∂h_t‖ falls
/// by `rho` per step back from t = 30 (ρ = 0.8 for layer 1, 0.9 for layer 2), and the last record
/// falls faster (ρ² per step).
pub fn recurrent_run() -> RunData {
    let depth = 2;
    let steps = 30;
    let mut records = Vec::new();
    for step in 0..10u64 {
        let t = step as f64;
        let mut rec = record(RunKind::Real, step, depth, 1.0 - 0.01 * t, |_| 1.0);
        let last = step == 9;
        rec.layers.act_grad_norm_time = [0.8f64, 0.9]
            .iter()
            .map(|&rho| {
                let rho = if last { rho * rho } else { rho };
                (1..=steps).map(|s| r(rho.powi(steps - s))).collect()
            })
            .collect();
        // Each layer's state matrix: ‖W_hh‖₂ 1 and ρ(W_hh) 0.9 until the last record, then 1.5
        // and 1.25.
        let (norm, radius) = if last { (1.5, 1.25) } else { (1.0, 0.9) };
        rec.layers.recurrent_spectral_norm = vec![r(norm); depth];
        rec.layers.recurrent_spectral_radius = vec![r(radius); depth];
        records.push(rec);
        records.push(record(RunKind::Baseline, step, depth, 1.0, |_| 1.0));
    }
    RunData {
        dir: PathBuf::from("runs/rnn-1"),
        summary: summary("rnn", depth, DiagnosisKind::Vanishing, None),
        records,
        config_toml: "seed = 0\n".into(),
        family: None,
        label: None,
    }
}
