//! What a forward pass is for: training, evaluation, or a probe that must leave no trace.

/// How a forward pass treats layers whose behaviour depends on the phase (batch norm).
///
/// Batch norm normalises with the batch's own statistics in training and with running averages in
/// evaluation, and a training forward normally folds the batch statistics into those averages.
/// A learning-rate-zero baseline must treat the running averages exactly as the real run does,
/// and a diagnostic probe must not touch them at all: hence the separate switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardCtx {
    /// Normalise with batch statistics (training) rather than running statistics (evaluation).
    pub batch_stats: bool,
    /// Fold this batch's statistics into the running averages (only meaningful with
    /// `batch_stats`).
    pub update_running_stats: bool,
}

impl ForwardCtx {
    /// A training step: batch statistics, running averages updated.
    pub const TRAIN: ForwardCtx = ForwardCtx {
        batch_stats: true,
        update_running_stats: true,
    };

    /// Evaluation: running statistics, nothing updated.
    pub const EVAL: ForwardCtx = ForwardCtx {
        batch_stats: false,
        update_running_stats: false,
    };

    /// A probe of the training-mode network (for example the diagnostics at initialisation):
    /// batch statistics, as in training, but the running averages stay as they are.
    pub const PROBE: ForwardCtx = ForwardCtx {
        batch_stats: true,
        update_running_stats: false,
    };
}
