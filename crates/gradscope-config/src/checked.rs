//! The checked experiment: every value validated and every word turned into its type.

use std::path::Path;

use gradscope_data::{CsvTask, DataSpec};
use gradscope_model::{
    Activation, BackendKind, Cell, ChainConfig, CnnConfig, DataShape, InitKind, MlpConfig,
    ModelSpec, NormKind, NormPosition, RecurrentInit, RnnConfig, WeightInit,
};
use gradscope_record::DiagnosisThresholds;
use serde::Serialize;

use crate::error::{ConfigError, Result, did_you_mean_word};
use crate::name::{check_name, safe_name};
use crate::raw::{RawConfig, RawData, RawModel, RawOptim, RawTrain};

/// The most compute threads `train.threads` (and the `--threads` flag) may ask for. Each thread
/// is a real OS thread of the compute pool: a typo such as `threads = 100000` would spend its
/// time creating threads rather than training. 512 is above any machine gradscope targets.
pub const MAX_THREADS: usize = 512;

/// The largest integer a config may hold (`i64::MAX`): TOML integers are 64-bit signed, and the
/// config actually used is saved as TOML (`config.toml` in every run folder), so a larger
/// value (a `u64` seed such as 18446744073709551615) would pass here and fail when saved.
pub const MAX_CONFIG_INT: u64 = i64::MAX as u64;

/// The model, before the data fixes its input and output dimensions: a built-in
/// architecture's [`ModelSpec`] whose data dimensions are placeholders until
/// [`ModelSettings::spec`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSettings(pub ModelSpec);

impl ModelSettings {
    /// The model for data of this shape.
    pub fn spec(&self, data: DataShape) -> ModelSpec {
        self.0.with_data(data)
    }
}

/// The `[model]` section of each `model.kind`: the function that checks that kind's keys. One
/// line per built-in architecture (see `gradscope_model::arch` for the other two steps).
const MODEL_SECTIONS: &[(&str, ModelSection)] = &[
    ("mlp", mlp_section),
    ("chain", chain_section),
    ("rnn", rnn_section),
    ("cnn", cnn_section),
];

/// Checks the `[model]` keys of one `model.kind`.
type ModelSection = fn(&RawModel) -> Result<ModelSpec>;

/// The optimiser family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimKind {
    /// SGD, with optional (Nesterov) momentum.
    Sgd,
    /// Adam (L2 weight decay).
    Adam,
    /// AdamW (decoupled weight decay).
    AdamW,
}

/// The learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Schedule {
    /// The same rate every step.
    Constant,
    /// Linear warm-up from 0 over `warmup_steps`, then constant.
    Warmup {
        /// Warm-up length.
        warmup_steps: usize,
    },
    /// Linear warm-up, then a cosine decay to `min_lr` at the last step.
    Cosine {
        /// Warm-up length.
        warmup_steps: usize,
        /// Final rate.
        min_lr: f64,
    },
}

/// Checked optimiser settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OptimSettings {
    /// Family.
    pub kind: OptimKind,
    /// Peak learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Weight decay.
    pub weight_decay: f64,
    /// Adam β₁.
    pub beta1: f64,
    /// Adam β₂.
    pub beta2: f64,
    /// Adam ε.
    pub eps: f64,
    /// Global-norm clipping threshold.
    pub clip_norm: Option<f64>,
    /// Per-parameter norm clipping threshold (burn's `GradientClippingConfig::Norm`).
    pub clip_norm_per_param: Option<f64>,
    /// Value clipping threshold.
    pub clip_value: Option<f64>,
    /// Schedule.
    pub schedule: Schedule,
}

impl OptimSettings {
    /// Learning rate at `step` of `total` steps.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warm = |w: usize| {
            if w > 0 && step < w {
                Some(self.lr * (step + 1) as f64 / w as f64)
            } else {
                None
            }
        };
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Warmup { warmup_steps } => warm(warmup_steps).unwrap_or(self.lr),
            Schedule::Cosine {
                warmup_steps,
                min_lr,
            } => warm(warmup_steps).unwrap_or_else(|| {
                let span = total.saturating_sub(warmup_steps).max(1) as f64;
                let t = (step.saturating_sub(warmup_steps) as f64 / span).min(1.0);
                min_lr + 0.5 * (self.lr - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
            }),
        }
    }

    /// Whether any clipping is on.
    pub fn clipping(&self) -> bool {
        self.clip_norm.is_some() || self.clip_norm_per_param.is_some() || self.clip_value.is_some()
    }
}

/// Which loss to train with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossChoice {
    /// Cross-entropy for classification, MSE for regression.
    Auto,
    /// Mean squared error (one-hot targets for classification).
    Mse,
    /// Cross-entropy (classification only).
    CrossEntropy,
}

/// Checked training-loop settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainSettings {
    /// Optimiser steps.
    pub steps: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Recording cadence.
    pub record_every: usize,
    /// Evaluation cadence.
    pub eval_every: usize,
    /// Whether the baseline runs.
    pub baseline: bool,
    /// Whether the head-only control runs.
    pub head_only: bool,
    /// Loss.
    pub loss: LossChoice,
    /// Learning-signal window (recorded steps).
    pub signal_window: usize,
    /// Learning-signal z threshold.
    pub signal_z: f64,
    /// Compute threads (0 = all cores).
    pub threads: usize,
}

/// A whole checked experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Name (for folders and reports).
    pub name: String,
    /// Initialisation seed.
    pub seed: u64,
    /// Data seed.
    pub data_seed: u64,
    /// Backend.
    pub backend: BackendKind,
    /// Model.
    pub model: ModelSettings,
    /// Data.
    pub data: DataSpec,
    /// Optimiser.
    pub optim: OptimSettings,
    /// Training loop.
    pub train: TrainSettings,
    /// Diagnosis thresholds.
    pub diagnosis: DiagnosisThresholds,
    /// The config actually used (file, defaults and overrides), to be saved with the results.
    pub raw: RawConfig,
}

/// Parses a word-valued key with its type's own rule; `names` (the words it accepts) let the
/// error suggest the one a typo most likely meant.
fn word<T: std::str::FromStr<Err = String>>(key: &str, value: &str, names: &[&str]) -> Result<T> {
    value.parse::<T>().map_err(|rule| {
        let hint = did_you_mean_word(value, names);
        ConfigError::invalid(key, format!("{value:?}"), format!("{rule}{hint}"))
    })
}

fn check(ok: bool, key: &str, value: impl std::fmt::Display, rule: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid(key, value, rule))
    }
}

fn finite_nonneg(key: &str, v: f64) -> Result<()> {
    check(v.is_finite() && v >= 0.0, key, v, "must be finite and ≥ 0")
}

/// Every integer key fits in TOML's i64 ([`MAX_CONFIG_INT`]), so that the checked config can be
/// saved and read back. Checked first: later checks may do arithmetic on these values.
pub(crate) fn validate_integers(raw: &RawConfig) -> Result<()> {
    let (m, d, o, t) = (&raw.model, &raw.data, &raw.optim, &raw.train);
    let as_u64 = |v: usize| v as u64;
    let keys = [
        ("seed", Some(raw.seed)),
        ("model.depth", Some(as_u64(m.depth))),
        ("model.width", Some(as_u64(m.width))),
        ("model.block_linears", Some(as_u64(m.block_linears))),
        ("data.seed", Some(d.seed)),
        ("data.dim", d.dim.map(as_u64)),
        ("data.outputs", d.outputs.map(as_u64)),
        ("data.n_train", d.n_train.map(as_u64)),
        ("data.n_test", d.n_test.map(as_u64)),
        ("data.teacher_depth", d.teacher_depth.map(as_u64)),
        ("data.teacher_width", d.teacher_width.map(as_u64)),
        ("data.arms", d.arms.map(as_u64)),
        ("data.split_seed", d.split_seed),
        ("data.classes", d.classes.map(as_u64)),
        ("optim.warmup_steps", Some(as_u64(o.warmup_steps))),
        ("train.steps", Some(as_u64(t.steps))),
        ("train.batch_size", Some(as_u64(t.batch_size))),
        ("train.record_every", Some(as_u64(t.record_every))),
        ("train.eval_every", Some(as_u64(t.eval_every))),
        ("train.signal_window", Some(as_u64(t.signal_window))),
        ("train.threads", Some(as_u64(t.threads))),
        (
            "diagnosis.spike_window",
            Some(as_u64(raw.diagnosis.spike_window)),
        ),
    ];
    for (key, v) in keys {
        if let Some(v) = v {
            check(
                v <= MAX_CONFIG_INT,
                key,
                v,
                &format!(
                    "must be at most {MAX_CONFIG_INT} (i64::MAX): TOML integers are 64-bit signed, and the config is saved as TOML"
                ),
            )?;
        }
    }
    Ok(())
}

fn validate_model(m: &RawModel) -> Result<ModelSettings> {
    check(
        (1..=gradscope_model::MAX_DEPTH).contains(&m.depth),
        "model.depth",
        m.depth,
        if m.depth == 0 {
            "must be at least 1"
        } else {
            "must be at most 1000"
        },
    )?;
    // Keys of one kind are errors on another (as a data set's keys are), so that a typo in
    // `kind` is not silently a different model.
    let own = [
        ("model.cell", m.cell.is_some(), &["rnn"][..]),
        ("model.recurrent_init", m.recurrent_init.is_some(), &["rnn"]),
        ("model.rho", m.rho.is_some(), &["rnn"]),
        ("model.forget_bias", m.forget_bias.is_some(), &["rnn"]),
        (
            "model.step_features",
            m.step_features.is_some(),
            &["rnn", "cnn"],
        ),
        ("model.channels", m.channels.is_some(), &["cnn"]),
        ("model.kernel", m.kernel.is_some(), &["cnn"]),
    ];
    if let Some((key, _, kinds)) = own
        .iter()
        .find(|(_, set, kinds)| *set && !kinds.contains(&m.kind.as_str()))
    {
        let kinds: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
        return Err(ConfigError::invalid(
            key,
            "(set)",
            format!(
                "is a key of model.kind = {}, not of {:?}",
                kinds.join(" or "),
                m.kind
            ),
        ));
    }
    let Some((_, section)) = MODEL_SECTIONS.iter().find(|(kind, _)| *kind == m.kind) else {
        let kinds: Vec<&str> = MODEL_SECTIONS.iter().map(|(kind, _)| *kind).collect();
        return Err(ConfigError::unknown_word("model.kind", &m.kind, &kinds));
    };
    section(m).map(ModelSettings)
}

fn chain_section(m: &RawModel) -> Result<ModelSpec> {
    check(m.w.is_finite(), "model.w", m.w, "must be finite")?;
    check(m.b.is_finite(), "model.b", m.b, "must be finite")?;
    Ok(ModelSpec::Chain(ChainConfig {
        activation: None,
        depth: m.depth,
        w: m.w,
        b: m.b,
        tied: m.tied,
        head: None,
    }))
}

/// `model.activation`, shared by the kinds that have one.
fn activation(m: &RawModel) -> Result<Activation> {
    word::<Activation>(
        "model.activation",
        &m.activation,
        &Activation::ALL.map(Activation::name),
    )
}

/// `model.init` with `model.sigma_w` (checked finite and ≥ 0 by the caller).
fn weight_init(m: &RawModel) -> Result<WeightInit> {
    let kind = word::<InitKind>("model.init", &m.init, &InitKind::ALL.map(InitKind::name))?;
    Ok(WeightInit::new(kind, m.sigma_w))
}

fn rnn_section(m: &RawModel) -> Result<ModelSpec> {
    check(m.width >= 1, "model.width", m.width, "must be at least 1")?;
    finite_nonneg("model.sigma_w", m.sigma_w)?;
    let rho = m.rho.unwrap_or(1.0);
    finite_nonneg("model.rho", rho)?;
    let forget_bias = m.forget_bias.unwrap_or(1.0);
    check(
        forget_bias.is_finite(),
        "model.forget_bias",
        forget_bias,
        "must be finite",
    )?;
    if let Some(f) = m.step_features {
        check(f >= 1, "model.step_features", f, "must be at least 1")?;
    }
    let cell = m.cell.as_deref().unwrap_or("tanh");
    let recurrent_init = m.recurrent_init.as_deref().unwrap_or("orthogonal");
    Ok(ModelSpec::Rnn(RnnConfig {
        input_dim: 1,
        output_dim: 1,
        step_features: m.step_features.unwrap_or(0),
        width: m.width,
        depth: m.depth,
        cell: word::<Cell>("model.cell", cell, &Cell::ALL.map(Cell::name))?,
        init: weight_init(m)?,
        recurrent_init: word::<RecurrentInit>(
            "model.recurrent_init",
            recurrent_init,
            &RecurrentInit::ALL.map(RecurrentInit::name),
        )?,
        rho,
        forget_bias,
    }))
}

fn cnn_section(m: &RawModel) -> Result<ModelSpec> {
    finite_nonneg("model.sigma_w", m.sigma_w)?;
    finite_nonneg("model.sigma_b", m.sigma_b)?;
    let channels = m.channels.unwrap_or(32);
    check(
        channels >= 1,
        "model.channels",
        channels,
        "must be at least 1",
    )?;
    let kernel = m.kernel.unwrap_or(5);
    check(
        kernel % 2 == 1,
        "model.kernel",
        kernel,
        "must be odd (same padding on both sides)",
    )?;
    if let Some(f) = m.step_features {
        check(f >= 1, "model.step_features", f, "must be at least 1")?;
    }
    let norm = word::<NormKind>("model.norm", &m.norm, &NormKind::ALL.map(NormKind::name))?;
    check(
        norm != NormKind::Rms,
        "model.norm",
        format!("{:?}", m.norm),
        "a conv net takes none, batch or layer",
    )?;
    Ok(ModelSpec::Cnn(CnnConfig {
        input_dim: 1,
        output_dim: 1,
        step_features: m.step_features.unwrap_or(0),
        channels,
        kernel,
        depth: m.depth,
        activation: activation(m)?,
        init: weight_init(m)?,
        bias: m.bias.then_some(m.sigma_b),
        residual: m.residual,
        norm,
    }))
}

fn mlp_section(m: &RawModel) -> Result<ModelSpec> {
    check(m.width >= 1, "model.width", m.width, "must be at least 1")?;
    finite_nonneg("model.sigma_w", m.sigma_w)?;
    finite_nonneg("model.sigma_b", m.sigma_b)?;
    check(
        (1..=2).contains(&m.block_linears),
        "model.block_linears",
        m.block_linears,
        "must be 1 or 2",
    )?;
    if let Some(a) = m.branch_scale {
        check(a.is_finite(), "model.branch_scale", a, "must be finite")?;
        check(
            m.residual,
            "model.branch_scale",
            a,
            "needs model.residual = true",
        )?;
    }
    Ok(ModelSpec::Mlp(MlpConfig {
        input_dim: 1,
        output_dim: 1,
        width: m.width,
        depth: m.depth,
        activation: activation(m)?,
        init: weight_init(m)?,
        bias: m.bias,
        sigma_b: m.sigma_b,
        residual: m.residual,
        block_linears: m.block_linears,
        branch_scale: m.branch_scale,
        norm: word::<NormKind>("model.norm", &m.norm, &NormKind::ALL.map(NormKind::name))?,
        norm_position: word::<NormPosition>(
            "model.norm_position",
            &m.norm_position,
            &[NormPosition::Pre.name(), NormPosition::Post.name()],
        )?,
    }))
}

fn unused(d: &RawData, allowed: &[&str]) -> Result<()> {
    let set = [
        ("dim", d.dim.is_some()),
        ("outputs", d.outputs.is_some()),
        ("n_train", d.n_train.is_some()),
        ("n_test", d.n_test.is_some()),
        ("noise", d.noise.is_some()),
        ("teacher_depth", d.teacher_depth.is_some()),
        ("teacher_width", d.teacher_width.is_some()),
        ("arms", d.arms.is_some()),
        ("length", d.length.is_some()),
        ("test_fraction", d.test_fraction.is_some()),
        ("split_seed", d.split_seed.is_some()),
        ("path", d.path.is_some()),
        ("target", d.target.is_some()),
        ("task", d.task.is_some()),
        ("classes", d.classes.is_some()),
        ("has_header", d.has_header.is_some()),
    ];
    for (key, is_set) in set {
        if is_set && !allowed.contains(&key) {
            return Err(ConfigError::invalid(
                &format!("data.{key}"),
                "(set)",
                format!(
                    "not used by data.name = {:?} (it uses: {})",
                    d.name,
                    if allowed.is_empty() {
                        "nothing else".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

fn validate_data(d: &RawData, base_dir: &Path) -> Result<DataSpec> {
    let spec = match d.name.as_str() {
        "gaussian" => {
            unused(d, &["dim", "outputs", "n_train", "n_test"])?;
            DataSpec::Gaussian {
                dim: d.dim.unwrap_or(128),
                outputs: d.outputs.unwrap_or(1),
                n_train: d.n_train.unwrap_or(1024),
                n_test: d.n_test.unwrap_or(256),
            }
        }
        "teacher" => {
            unused(
                d,
                &[
                    "dim",
                    "outputs",
                    "n_train",
                    "n_test",
                    "noise",
                    "teacher_depth",
                    "teacher_width",
                ],
            )?;
            DataSpec::Teacher {
                dim: d.dim.unwrap_or(32),
                outputs: d.outputs.unwrap_or(1),
                depth: d.teacher_depth.unwrap_or(2),
                width: d.teacher_width.unwrap_or(64),
                noise: d.noise.unwrap_or(0.1),
                n_train: d.n_train.unwrap_or(2048),
                n_test: d.n_test.unwrap_or(512),
            }
        }
        "spirals" => {
            unused(d, &["dim", "n_train", "n_test", "noise", "arms"])?;
            DataSpec::Spirals {
                arms: d.arms.unwrap_or(3),
                dim: d.dim.unwrap_or(2),
                noise: d.noise.unwrap_or(0.2),
                n_train: d.n_train.unwrap_or(1500),
                n_test: d.n_test.unwrap_or(500),
            }
        }
        "adding" => {
            unused(d, &["length", "n_train", "n_test"])?;
            DataSpec::Adding {
                length: d.length.unwrap_or(50),
                n_train: d.n_train.unwrap_or(8192),
                n_test: d.n_test.unwrap_or(2048),
            }
        }
        "digits" => {
            unused(d, &["test_fraction", "split_seed"])?;
            DataSpec::Digits {
                test_fraction: d.test_fraction.unwrap_or(0.2),
                split_seed: d.split_seed.unwrap_or(d.seed),
            }
        }
        "mnist1d" => {
            unused(d, &[])?;
            DataSpec::Mnist1d
        }
        "csv" => {
            unused(
                d,
                &[
                    "path",
                    "target",
                    "task",
                    "classes",
                    "test_fraction",
                    "split_seed",
                    "has_header",
                ],
            )?;
            let path = d.path.as_deref().ok_or_else(|| {
                ConfigError::invalid(
                    "data.path",
                    "(missing)",
                    "data.name = \"csv\" needs the file's path",
                )
            })?;
            check(
                !path.trim().is_empty(),
                "data.path",
                format!("{path:?}"),
                "must name the CSV file",
            )?;
            // Absolute, so that the saved copy of the config (which holds this path, see
            // `validate`) reads the same file from any folder. `absolute` neither needs the file
            // to exist nor resolves symbolic links; joining an absolute path keeps it.
            let path = std::path::absolute(base_dir.join(path)).map_err(|e| {
                ConfigError::invalid(
                    "data.path",
                    format!("{path:?}"),
                    format!(
                        "cannot be made absolute against {}: {e}",
                        base_dir.display()
                    ),
                )
            })?;
            let task = match d.task.as_deref().unwrap_or("auto") {
                "auto" => CsvTask::Auto,
                "classification" => CsvTask::Classification,
                "regression" => CsvTask::Regression,
                other => {
                    return Err(ConfigError::unknown_word(
                        "data.task",
                        other,
                        &["auto", "classification", "regression"],
                    ));
                }
            };
            DataSpec::Csv {
                path,
                target: d.target.clone().unwrap_or_default(),
                task,
                classes: d.classes,
                test_fraction: d.test_fraction.unwrap_or(0.2),
                split_seed: d.split_seed.unwrap_or(d.seed),
                has_header: d.has_header.unwrap_or(true),
            }
        }
        other => {
            return Err(ConfigError::unknown_word(
                "data.name",
                other,
                &[
                    "gaussian", "teacher", "spirals", "adding", "digits", "mnist1d", "csv",
                ],
            ));
        }
    };
    spec.validate().map_err(|e| match e {
        gradscope_data::DataError::Invalid { field, message } => {
            // The data crate's message starts with the value: "1.5: must be in (0, 1)".
            let (value, rule) = message
                .split_once(": ")
                .unwrap_or(("(value)", message.as_str()));
            let key = if field.starts_with("data.") {
                field.clone()
            } else {
                format!("data.{field}")
            };
            ConfigError::invalid(&key, value, rule)
        }
        other => ConfigError::invalid("data", d.name.clone(), other.to_string()),
    })?;
    Ok(spec)
}

fn validate_optim(o: &RawOptim) -> Result<OptimSettings> {
    let kind = match o.name.as_str() {
        "sgd" => OptimKind::Sgd,
        "adam" => OptimKind::Adam,
        "adamw" => OptimKind::AdamW,
        other => {
            return Err(ConfigError::unknown_word(
                "optim.name",
                other,
                &["sgd", "adam", "adamw"],
            ));
        }
    };
    finite_nonneg("optim.lr", o.lr)?;
    check(
        (0.0..1.0).contains(&o.momentum),
        "optim.momentum",
        o.momentum,
        "must be in [0, 1)",
    )?;
    check(
        !o.nesterov || (o.momentum > 0.0 && kind == OptimKind::Sgd),
        "optim.nesterov",
        o.nesterov,
        "needs optim.name = \"sgd\" and optim.momentum > 0",
    )?;
    finite_nonneg("optim.weight_decay", o.weight_decay)?;
    check(
        (0.0..1.0).contains(&o.beta1),
        "optim.beta1",
        o.beta1,
        "must be in [0, 1)",
    )?;
    check(
        (0.0..1.0).contains(&o.beta2),
        "optim.beta2",
        o.beta2,
        "must be in [0, 1)",
    )?;
    check(
        o.eps.is_finite() && o.eps > 0.0,
        "optim.eps",
        o.eps,
        "must be finite and > 0",
    )?;
    for (key, v) in [
        ("optim.clip_norm", o.clip_norm),
        ("optim.clip_norm_per_param", o.clip_norm_per_param),
        ("optim.clip_value", o.clip_value),
    ] {
        if let Some(v) = v {
            check(v.is_finite() && v > 0.0, key, v, "must be finite and > 0")?;
        }
    }
    finite_nonneg("optim.min_lr", o.min_lr)?;
    let schedule = match o.schedule.as_str() {
        "constant" => Schedule::Constant,
        "warmup" => Schedule::Warmup {
            warmup_steps: o.warmup_steps,
        },
        "cosine" => {
            // The decay runs from lr down to min_lr; the other way round it would climb.
            check(
                o.min_lr <= o.lr,
                "optim.min_lr",
                o.min_lr,
                &format!(
                    "must be at most optim.lr ({}) with optim.schedule = \"cosine\", which decays from optim.lr to optim.min_lr",
                    o.lr
                ),
            )?;
            Schedule::Cosine {
                warmup_steps: o.warmup_steps,
                min_lr: o.min_lr,
            }
        }
        other => {
            return Err(ConfigError::unknown_word(
                "optim.schedule",
                other,
                &["constant", "warmup", "cosine"],
            ));
        }
    };
    Ok(OptimSettings {
        kind,
        lr: o.lr,
        momentum: o.momentum,
        nesterov: o.nesterov,
        weight_decay: o.weight_decay,
        beta1: o.beta1,
        beta2: o.beta2,
        eps: o.eps,
        clip_norm: o.clip_norm,
        clip_norm_per_param: o.clip_norm_per_param,
        clip_value: o.clip_value,
        schedule,
    })
}

fn validate_train(t: &RawTrain) -> Result<TrainSettings> {
    check(t.steps >= 1, "train.steps", t.steps, "must be at least 1")?;
    check(
        t.batch_size >= 1,
        "train.batch_size",
        t.batch_size,
        "must be at least 1",
    )?;
    check(
        t.record_every >= 1,
        "train.record_every",
        t.record_every,
        "must be at least 1",
    )?;
    check(
        t.eval_every >= 1,
        "train.eval_every",
        t.eval_every,
        "must be at least 1",
    )?;
    check(
        t.signal_window >= 2,
        "train.signal_window",
        t.signal_window,
        "must be at least 2",
    )?;
    check(
        t.signal_z.is_finite() && t.signal_z > 0.0,
        "train.signal_z",
        t.signal_z,
        "must be finite and > 0",
    )?;
    check(
        t.threads <= MAX_THREADS,
        "train.threads",
        t.threads,
        &format!("must be at most {MAX_THREADS} (0 = all cores)"),
    )?;
    let loss = match t.loss.as_str() {
        "auto" => LossChoice::Auto,
        "mse" => LossChoice::Mse,
        "cross_entropy" => LossChoice::CrossEntropy,
        other => {
            return Err(ConfigError::unknown_word(
                "train.loss",
                other,
                &["auto", "mse", "cross_entropy"],
            ));
        }
    };
    Ok(TrainSettings {
        steps: t.steps,
        batch_size: t.batch_size,
        record_every: t.record_every,
        eval_every: t.eval_every,
        baseline: t.baseline,
        head_only: t.head_only,
        loss,
        signal_window: t.signal_window,
        signal_z: t.signal_z,
        threads: t.threads,
    })
}

/// Cross-entropy needs classes: reject it here for the data sets whose task is known without
/// reading them, rather than when `run` has loaded the data.
fn validate_loss(loss: LossChoice, word: &str, data: &DataSpec) -> Result<()> {
    let regression = match data {
        DataSpec::Gaussian { .. } | DataSpec::Teacher { .. } => {
            Some(format!("data.name = {:?}", data.name()))
        }
        DataSpec::Csv {
            task: CsvTask::Regression,
            ..
        } => Some("data.task = \"regression\"".to_string()),
        _ => None,
    };
    match regression {
        Some(why) if loss == LossChoice::CrossEntropy => Err(ConfigError::invalid(
            "train.loss",
            format!("{word:?}"),
            format!(
                "cross_entropy needs a classification data set, and {why} is regression; use \"mse\" or \"auto\""
            ),
        )),
        _ => Ok(()),
    }
}

fn validate_diagnosis(d: &DiagnosisThresholds) -> Result<()> {
    check(
        d.vanishing_ratio > 0.0 && d.vanishing_ratio < 1.0,
        "diagnosis.vanishing_ratio",
        d.vanishing_ratio,
        "must be in (0, 1)",
    )?;
    check(
        d.exploding_ratio > 1.0 && d.exploding_ratio.is_finite(),
        "diagnosis.exploding_ratio",
        d.exploding_ratio,
        "must be finite and > 1",
    )?;
    check(
        d.spike_factor > 1.0 && d.spike_factor.is_finite(),
        "diagnosis.spike_factor",
        d.spike_factor,
        "must be finite and > 1",
    )?;
    check(
        d.spike_window >= 1,
        "diagnosis.spike_window",
        d.spike_window,
        "must be at least 1",
    )?;
    check(
        (0.0..=1.0).contains(&d.saturated_fraction),
        "diagnosis.saturated_fraction",
        d.saturated_fraction,
        "must be in [0, 1]",
    )?;
    check(
        (0.0..=1.0).contains(&d.dead_fraction),
        "diagnosis.dead_fraction",
        d.dead_fraction,
        "must be in [0, 1]",
    )?;
    Ok(())
}

/// Validates a raw config into an [`Experiment`]. Relative data paths are resolved against
/// `base_dir` (the config file's folder); `default_name` names an experiment without `name`.
///
/// A `name` key must pass [`check_name`]; `default_name` is made to pass with [`safe_name`]
/// instead, since the user never wrote it. The returned [`Experiment::raw`] holds a CSV's path
/// absolute, so that the saved config reads the same file from any folder.
pub fn validate(raw: &RawConfig, base_dir: &Path, default_name: &str) -> Result<Experiment> {
    validate_integers(raw)?;
    let names: Vec<&str> = BackendKind::available()
        .into_iter()
        .map(BackendKind::name)
        .collect();
    let backend = word::<BackendKind>("device", &raw.device, &names)?;
    let model = validate_model(&raw.model)?;
    let data = validate_data(&raw.data, base_dir)?;
    let optim = validate_optim(&raw.optim)?;
    let train = validate_train(&raw.train)?;
    validate_loss(train.loss, &raw.train.loss, &data)?;
    validate_diagnosis(&raw.diagnosis)?;
    let name = match &raw.name {
        Some(name) => {
            check_name(name)?;
            name.clone()
        }
        None => safe_name(default_name),
    };
    let mut raw = raw.clone();
    if let DataSpec::Csv { path, .. } = &data {
        let text = path.to_str().ok_or_else(|| {
            ConfigError::invalid(
                "data.path",
                format!("{:?}", raw.data.path.as_deref().unwrap_or_default()),
                format!(
                    "resolves to {}, which is not valid UTF-8 and so cannot be saved in the config; give a UTF-8 absolute path",
                    path.display()
                ),
            )
        })?;
        raw.data.path = Some(text.to_string());
    }
    Ok(Experiment {
        name,
        seed: raw.seed,
        data_seed: raw.data.seed,
        backend,
        model,
        data,
        optim,
        train,
        diagnosis: raw.diagnosis,
        raw,
    })
}
