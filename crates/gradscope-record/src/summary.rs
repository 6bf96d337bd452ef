//! `summary.json`: how a run ended, its verdict, diagnosis and final metrics.
//!
//! Written last in a run folder: a folder with a `summary.json` is a finished run. Every field is
//! deterministic for a given config and seed except the timing fields `steps_per_second` and
//! `wall_time_s`.

use serde::{Deserialize, Serialize};

use crate::diagnosis::Diagnosis;
use crate::nonfinite::NonFinite;
use crate::real::Real;

/// Version of `summary.json`.
///
/// 2: verdicts `bias_only` and `diverged`, and `verdict_reason`.
/// 3: the head-only control (`head_only`, and `head_only_mean` in the learning signal's trace).
/// 4: remedies as objects (`change` and its fields, `name`, `why`, `settings`, `text`) instead
/// of sentences; sentences of older summaries still load (as `change: "other"`).
/// 5: `time_steps`, the sequence length a recurrent net reads (absent for other nets).
pub const SUMMARY_SCHEMA_VERSION: u32 = 5;

/// What the real run did, judged against its learning-rate-zero baseline (the rule is in
/// `gradscope_trainer::signal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Left the baseline's noise band for good, and beats the best constant prediction on the
    /// test split by more than three standard errors.
    Learning,
    /// Left the band for good, but is no better than the best constant prediction (the class
    /// frequencies, or the target mean): the output layer's bias learned, the network did not.
    BiasOnly,
    /// Never left the band: not distinguishable from not training at all.
    Indistinguishable,
    /// A non-finite value or a loss spike ended or wrecked the run.
    Diverged,
}

impl Verdict {
    /// `learning`, `bias_only`, `indistinguishable` or `diverged`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Learning => "learning",
            Verdict::BiasOnly => "bias_only",
            Verdict::Indistinguishable => "indistinguishable",
            Verdict::Diverged => "diverged",
        }
    }
}

/// Repeats' verdicts counted, the most frequent first (ties in the order learning, bias_only,
/// indistinguishable, diverged, none: `None` is a run without a verdict); only verdicts that
/// occur. What the pivot's `2/3 learning, 1/3 bias_only` and the report's badges show.
pub fn verdict_tally(verdicts: &[Option<Verdict>]) -> Vec<(usize, Option<Verdict>)> {
    let order = [
        Some(Verdict::Learning),
        Some(Verdict::BiasOnly),
        Some(Verdict::Indistinguishable),
        Some(Verdict::Diverged),
        None,
    ];
    let mut counts: Vec<(usize, Option<Verdict>)> = order
        .iter()
        .map(|v| (verdicts.iter().filter(|w| *w == v).count(), *v))
        .filter(|(n, _)| *n > 0)
        .collect();
    counts.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    counts
}

/// How the real model compares with the best constant prediction on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersusChance {
    /// `accuracy` (higher is better) or `mse` (lower is better).
    pub metric: String,
    /// The real model's value.
    pub model: Real,
    /// The constant prediction's value.
    pub chance: Real,
    /// Improvement over chance in standard errors of the paired per-sample difference.
    pub standard_errors: Real,
    /// Whether the improvement exceeds three standard errors.
    pub beats_chance: bool,
}

/// One point of the learning signal at a step: exactly what the verdict compares, so that a
/// plot drawn from it cannot disagree with the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalPoint {
    /// The step (the window ends here).
    pub step: u64,
    /// Mean training loss of the real run over the window.
    pub real_mean: Real,
    /// Mean training loss of the baseline over the window.
    pub baseline_mean: Real,
    /// Standard deviation of the baseline's loss over the window.
    pub baseline_sd: Real,
    /// Mean training loss of the head-only control over the window (`null` without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_only_mean: Option<Real>,
}

/// The learning-signal evidence (see `gradscope_trainer::signal` for the rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearningSignal {
    /// z at the last step.
    pub z: Real,
    /// First step from which z stays above the threshold to the end; `null` if none.
    pub first_step_outside_band: Option<u64>,
    /// Trailing window (steps).
    pub window: usize,
    /// z threshold.
    pub threshold: f64,
    /// Mean baseline − mean real loss over the window ending at a quarter of the run.
    pub gap_early: Option<Real>,
    /// The same over the last window.
    pub gap_late: Option<Real>,
    /// Whether the gap kept growing after the early phase.
    pub gap_growing: Option<bool>,
    /// Test-split comparison against the best constant prediction.
    pub versus_chance: Option<VersusChance>,
    /// The windows behind z, at up to a few hundred steps (always the first step outside the
    /// band and the last step): the real run is outside the band exactly where
    /// `real_mean < baseline_mean − threshold × baseline_sd`.
    #[serde(default)]
    pub trace: Vec<SignalPoint>,
}

/// The head-only control: a third arm from the same initial weights and batches in which only
/// the output head learns (same optimiser, same learning rate). Whatever the real run achieves
/// beyond it is what the layers below the head contributed: with vanishing gradients, nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadOnlyControl {
    /// The head-only arm's final metrics.
    pub finals: FinalMetrics,
    /// `accuracy` (higher is better) or `mse` (lower is better).
    pub metric: String,
    /// The real run's value on the test split.
    pub real: Real,
    /// The head-only arm's value on the test split.
    pub head_only: Real,
    /// The real run's advantage over the head-only arm, in standard errors of the paired
    /// per-sample difference on the test split.
    pub standard_errors: Real,
    /// Whether that advantage exceeds three standard errors: the layers below the head
    /// contributed to what the real run learned.
    pub layers_contributed: bool,
    /// The comparison in words (also the last clause of the verdict's reason).
    pub reason: String,
}

/// Final metrics of one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FinalMetrics {
    /// Loss on the whole training split.
    pub train_loss: Real,
    /// Loss on the test split.
    pub test_loss: Real,
    /// Accuracy on the test split (`null` for regression).
    pub test_accuracy: Option<Real>,
    /// Accuracy on the training split (`null` for regression).
    pub train_accuracy: Option<Real>,
}

/// Final metrics of both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finals {
    /// The real run.
    pub real: FinalMetrics,
    /// The learning-rate-zero baseline (`null` without one).
    pub baseline: Option<FinalMetrics>,
}

/// Seeds of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seeds {
    /// Weight initialisation.
    pub init: u64,
    /// Data (samples, splits, batch order).
    pub data: u64,
}

/// Versions that produced a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// gradscope.
    pub gradscope: String,
    /// burn.
    pub burn: String,
    /// Version of `summary.json`.
    pub summary_schema: u32,
    /// Version of the records in `metrics.jsonl`.
    pub record_schema: u32,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every step ran.
    Completed,
    /// Stopped at the first non-finite loss or quantity.
    Nonfinite,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// The theory's prediction for the network at initialisation, where theory covers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoryPrediction {
    /// Which theory (`plain`, `batch_norm_relu`, `residual`) and its parameters.
    pub case: serde_json::Value,
    /// Predicted ‖∂L/∂h_l‖ per layer at initialisation, anchored at the measured last layer.
    pub predicted_activation_grad_norm: Vec<Real>,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Experiment name.
    pub name: String,
    /// Hash of the config actually used.
    pub config_hash: String,
    /// How the run ended.
    pub status: Status,
    /// Whether Ctrl-C stopped it.
    pub interrupted: bool,
    /// `learning`, `bias_only`, `indistinguishable` or `diverged` (`null` without a baseline,
    /// except `diverged`, which needs none).
    pub verdict: Option<Verdict>,
    /// The verdict's reason in words, the same sentence the console and the report show.
    #[serde(default)]
    pub verdict_reason: Option<String>,
    /// The training loss of the best constant prediction (the class frequencies, or the target
    /// mean): where a net that learns only its output bias plateaus.
    #[serde(default)]
    pub constant_loss: Option<Real>,
    /// The learning-signal evidence (`null` without a baseline).
    pub learning_signal: Option<LearningSignal>,
    /// The head-only control (`null` unless `train.head_only` is on).
    #[serde(default)]
    pub head_only: Option<HeadOnlyControl>,
    /// Vanishing / exploding / healthy, evidence, remedies (from the real run's records).
    pub diagnosis: Diagnosis,
    /// First non-finite value of the real run.
    pub first_nonfinite: Option<NonFinite>,
    /// Final metrics.
    #[serde(rename = "final")]
    pub finals: Finals,
    /// The theory's prediction at initialisation.
    pub theory: Option<TheoryPrediction>,
    /// Depth (observed layers).
    pub depth: usize,
    /// Time steps of the sequence a recurrent net unrolls over (absent for other nets, and in
    /// summaries older than version 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_steps: Option<usize>,
    /// Steps run.
    pub steps_completed: usize,
    /// Steps configured.
    pub steps_planned: usize,
    /// Training steps per second (real and baseline together); a timing field.
    pub steps_per_second: f64,
    /// Wall time in seconds; a timing field.
    pub wall_time_s: f64,
    /// Seeds.
    pub seeds: Seeds,
    /// Backend.
    pub device: String,
    /// Data set, one line.
    pub dataset: String,
    /// Loss used.
    pub loss: String,
    /// Model, one line.
    pub model: String,
    /// Versions.
    pub versions: Versions,
}

impl Summary {
    /// The JSON text (pretty, with a trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses a `summary.json` text; `path` names it in errors.
    pub fn from_json(text: &str, path: &str) -> Result<Summary, crate::RecordError> {
        serde_json::from_str(text).map_err(|e| crate::RecordError::Parse {
            path: path.to_string(),
            line: e.line(),
            message: e.to_string(),
        })
    }
}
