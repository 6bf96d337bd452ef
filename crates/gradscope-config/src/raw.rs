//! The config file as written: serde structs with documented defaults and no unknown keys.
//!
//! Enumerated settings (activation, init, …) are kept as strings here so that a bad value gets
//! our own message, naming the key and the allowed values, from [`crate::validate`].

use gradscope_record::DiagnosisThresholds;
use serde::{Deserialize, Serialize};

/// A whole experiment config, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// Name of the experiment (default: the config file's stem).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Seed of the weight initialisation.
    pub seed: u64,
    /// Compute backend: `flex` (the default) or `ndarray` (GPU backends with a cargo feature).
    pub device: String,
    /// The model.
    pub model: RawModel,
    /// The data.
    pub data: RawData,
    /// The optimiser.
    pub optim: RawOptim,
    /// The training loop.
    pub train: RawTrain,
    /// Thresholds of the diagnosis.
    pub diagnosis: DiagnosisThresholds,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            name: None,
            seed: 0,
            device: "flex".into(),
            model: RawModel::default(),
            data: RawData::default(),
            optim: RawOptim::default(),
            train: RawTrain::default(),
            diagnosis: DiagnosisThresholds::default(),
        }
    }
}

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawModel {
    /// `mlp`, `chain`, `rnn` or `cnn`.
    pub kind: String,
    /// Hidden layers (1–1000); for the chain, its length N.
    pub depth: usize,
    /// Width of every hidden layer (mlp).
    pub width: usize,
    /// Activation (mlp).
    pub activation: String,
    /// Weight initialisation (mlp).
    pub init: String,
    /// `normal`: std = sigma_w/√fan_in; other inits: a gain on their std.
    pub sigma_w: f64,
    /// Standard deviation of the bias init; 0 = zeros.
    pub sigma_b: f64,
    /// Whether layers have biases.
    pub bias: bool,
    /// Identity skip connections around each block.
    pub residual: bool,
    /// Linear layers per residual block: 1 or 2.
    pub block_linears: usize,
    /// Learnable residual branch scale with this initial value (0 = ReZero/SkipInit); absent =
    /// fixed scale 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_scale: Option<f64>,
    /// `none`, `batch`, `layer` or `rms`.
    pub norm: String,
    /// `pre` or `post` (see the README's model section).
    pub norm_position: String,
    /// Chain: initial weight w.
    pub w: f64,
    /// Chain: initial bias b.
    pub b: f64,
    /// Chain: one shared (w, b) (true) or one per layer.
    pub tied: bool,
    /// Rnn: `linear`, `tanh`, `relu`, `lstm` or `gru` (default `tanh`). The recurrent keys are optional,
    /// so that the configs of other models are saved (and hashed) as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// Rnn: `orthogonal`, `identity` or `normal` (default `orthogonal`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrent_init: Option<String>,
    /// Rnn: scale ρ of the recurrent matrices (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho: Option<f64>,
    /// Rnn: initial forget-gate bias of the LSTM (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forget_bias: Option<f64>,
    /// Rnn and cnn: values per time step or position (default: the data set's, 2 for the
    /// adding problem, else 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_features: Option<usize>,
    /// Cnn: feature maps per block (default 32).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<usize>,
    /// Cnn: kernel width, odd (default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<usize>,
}

impl Default for RawModel {
    fn default() -> Self {
        Self {
            kind: "mlp".into(),
            depth: 20,
            width: 128,
            activation: "tanh".into(),
            init: "xavier_normal".into(),
            sigma_w: 1.0,
            sigma_b: 0.0,
            bias: true,
            residual: false,
            block_linears: 1,
            branch_scale: None,
            norm: "none".into(),
            norm_position: "pre".into(),
            w: 0.9,
            b: 0.0,
            tied: true,
            cell: None,
            recurrent_init: None,
            rho: None,
            forget_bias: None,
            step_features: None,
            channels: None,
            kernel: None,
        }
    }
}

/// `[data]`. Keys a data set does not use must stay unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawData {
    /// `gaussian`, `teacher`, `spirals`, `adding`, `digits`, `mnist1d` or `csv`.
    pub name: String,
    /// Seed of everything drawn for the data: synthetic samples, splits, batch order.
    pub seed: u64,
    /// Input dimension (gaussian, teacher, spirals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Regression targets per row (gaussian, teacher).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<usize>,
    /// Training rows (synthetic sets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_train: Option<usize>,
    /// Test rows (synthetic sets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_test: Option<usize>,
    /// Noise level (teacher: target noise std; spirals: angle noise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    /// Teacher: hidden layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_depth: Option<usize>,
    /// Teacher: hidden width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_width: Option<usize>,
    /// Spirals: number of arms (classes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arms: Option<usize>,
    /// Adding problem: steps per sequence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    /// Share of rows held out for testing (digits, csv).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// Seed of the train/test split (digits, csv; default: `data.seed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
    /// CSV: the file, relative to the config file's folder unless absolute. Validation makes it
    /// absolute in [`crate::Experiment::raw`], so that the saved config reads the same file from
    /// any folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// CSV: the target column: an integer is a 0-based index (`target = 0`), a string a header
    /// name or `"last"` (without a header, a string of digits is an index too). Written back
    /// as it was given, so a printed config reads back the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<gradscope_data::CsvTarget>,
    /// CSV: `auto`, `classification` or `regression`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// CSV: number of classes (default: largest label + 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    /// CSV: whether the first row is a header (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_header: Option<bool>,
}

impl Default for RawData {
    fn default() -> Self {
        Self {
            name: "gaussian".into(),
            seed: 0,
            dim: None,
            outputs: None,
            n_train: None,
            n_test: None,
            noise: None,
            teacher_depth: None,
            teacher_width: None,
            arms: None,
            length: None,
            test_fraction: None,
            split_seed: None,
            path: None,
            target: None,
            task: None,
            classes: None,
            has_header: None,
        }
    }
}

/// `[optim]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOptim {
    /// `sgd`, `adam` or `adamw`.
    pub name: String,
    /// Peak learning rate.
    pub lr: f64,
    /// SGD momentum (0 = none); PyTorch semantics, no dampening.
    pub momentum: f64,
    /// Nesterov momentum (SGD, needs momentum > 0).
    pub nesterov: bool,
    /// Weight decay (L2 for sgd/adam, decoupled for adamw).
    pub weight_decay: f64,
    /// Adam β₁.
    pub beta1: f64,
    /// Adam β₂.
    pub beta2: f64,
    /// Adam ε.
    pub eps: f64,
    /// Clip the global gradient norm to this value (PyTorch's clip_grad_norm_); absent = off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f64>,
    /// Clip each parameter tensor's gradient norm separately (burn's own `Norm` clipping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_norm_per_param: Option<f64>,
    /// Clamp every gradient entry to [−c, c]; absent = off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_value: Option<f64>,
    /// `constant`, `warmup` (linear warm-up then constant) or `cosine` (warm-up then cosine
    /// decay to `min_lr`).
    pub schedule: String,
    /// Warm-up steps (warmup, cosine).
    pub warmup_steps: usize,
    /// Final learning rate of the cosine schedule.
    pub min_lr: f64,
}

impl Default for RawOptim {
    fn default() -> Self {
        Self {
            name: "sgd".into(),
            lr: 0.01,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            clip_norm: None,
            clip_norm_per_param: None,
            clip_value: None,
            schedule: "constant".into(),
            warmup_steps: 0,
            min_lr: 0.0,
        }
    }
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTrain {
    /// Optimiser steps.
    pub steps: usize,
    /// Rows per batch.
    pub batch_size: usize,
    /// Record diagnostics every this many steps (1 = every step).
    pub record_every: usize,
    /// Evaluate on the train and test splits every this many steps (and at the end).
    pub eval_every: usize,
    /// Run the learning-rate-zero baseline beside the real run.
    pub baseline: bool,
    /// Also run the head-only control: same weights and batches, only the output head learns.
    pub head_only: bool,
    /// `auto` (cross-entropy for classification, MSE for regression), `mse` or `cross_entropy`.
    pub loss: String,
    /// Trailing window (in recorded steps) of the learning signal.
    pub signal_window: usize,
    /// |z| beyond which the real run is outside the baseline's band.
    pub signal_z: f64,
    /// Compute threads (0 = all cores).
    pub threads: usize,
}

impl Default for RawTrain {
    fn default() -> Self {
        Self {
            steps: 500,
            batch_size: 64,
            record_every: 1,
            eval_every: 50,
            baseline: true,
            head_only: false,
            loss: "auto".into(),
            signal_window: 50,
            signal_z: 3.0,
            threads: 0,
        }
    }
}
