//! Progress reports: how a run or a sweep tells its caller how far it got, without drawing
//! anything itself.
//!
//! The library writes nothing to the terminal: it emits `tracing` events (which go nowhere until
//! the caller installs a subscriber) and, when asked, calls a [`ProgressCallback`] — after every
//! training step with a [`Progress`], after every run of a sweep with a [`SweepProgress`]. The
//! `gradscope` command (crate `gradscope-cli`) turns these into progress bars; a notebook or a
//! service can log them, or leave the callback out.
//!
//! ```
//! use gradscope_trainer::progress::{Progress, ProgressCallback};
//! let every_100 = ProgressCallback::new(|p: Progress| {
//!     if p.step % 100 == 0 {
//!         eprintln!("step {}/{}: loss {:.4}", p.step, p.steps, p.loss);
//!     }
//! });
//! every_100.report(Progress { step: 100, steps: 400, loss: 0.5, baseline_loss: Some(2.3) });
//! ```

use std::fmt;
use std::sync::Arc;

/// A training run after one more step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Steps done so far (1 after the first step).
    pub step: usize,
    /// Steps the run will take if nothing stops it (a non-finite value or an interrupt ends it
    /// earlier, without a report at `steps`).
    pub steps: usize,
    /// The real run's training loss at this step.
    pub loss: f64,
    /// The learning-rate-zero baseline's loss at this step (`None` without a baseline).
    pub baseline_loss: Option<f64>,
}

/// A sweep after one more of its runs ended (finished, failed or interrupted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepProgress {
    /// Runs of this sweep invocation that ended so far.
    pub done: usize,
    /// Runs this invocation has to do (the reused ones not counted).
    pub total: usize,
    /// The id of the run that just ended.
    pub run: String,
}

/// A function called with progress reports of type `T` ([`Progress`] or [`SweepProgress`]).
///
/// It may be called from several threads at once (a parallel sweep reports from each of its
/// workers), so it must be `Send + Sync`; it is called on the thread doing the work, between two
/// pieces of it, so it should return quickly. Cloning shares the function.
pub struct ProgressCallback<T>(Arc<dyn Fn(T) + Send + Sync>);

impl<T> ProgressCallback<T> {
    /// Wraps a function.
    pub fn new(f: impl Fn(T) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Calls the function with `progress`.
    pub fn report(&self, progress: T) {
        (self.0)(progress);
    }
}

impl<T> Clone for ProgressCallback<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> fmt::Debug for ProgressCallback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressCallback(..)")
    }
}

/// Reports `progress` to `callback`, if there is one.
pub(crate) fn report<T>(callback: Option<&ProgressCallback<T>>, progress: T) {
    if let Some(c) = callback {
        c.report(progress);
    }
}
