//! The gradscope trainer: every real run beside its learning-rate-zero baseline.
//!
//! - [`experiment::run_experiment`] trains a checked config: the real run and a baseline with the
//!   same initial weights and the same batches but no updates, both recorded every
//!   `train.record_every` steps by `gradscope-diagnostics`, stopped at the first non-finite value,
//!   and written atomically to a run folder ([`output`]);
//! - [`signal`] decides whether the real run learns or only moves as the baseline's batch noise;
//! - [`inspect`] and [`chain`] are the `gradscope inspect` and `gradscope chain` commands;
//! - [`sweep`] expands, runs (in parallel, resumably, sharded) and merges sweeps;
//! - [`bench`] times training steps with and without the diagnostics (`gradscope bench`);
//! - [`progress`] is how a run or a sweep reports how far it got.
//!
//! The library draws nothing on the terminal: it emits `tracing` events, calls the progress
//! callback it is given, and starts a parallel sweep's runs through the [`sweep::Launcher`] it
//! is given. The `gradscope` command, with its argument parsing, log subscriber, progress bars
//! and signal handling, is the crate `gradscope-cli`.

mod arm;
pub mod batches;
pub mod bench;
pub mod chain;
pub mod error;
pub mod experiment;
pub mod folder;
pub mod inspect;
pub mod memory;
pub mod optimizer;
pub mod output;
pub mod pool;
pub mod progress;
pub mod report_text;
pub mod signal;
pub mod sweep;

pub use error::{Error, Result, exit_code};
pub use experiment::{NetworkInfo, RunOptions, RunOutcome, run_experiment, train};
pub use progress::{Progress, ProgressCallback, SweepProgress};
