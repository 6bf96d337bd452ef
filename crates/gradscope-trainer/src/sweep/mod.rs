//! Sweeps: one base config, axes over any config key, every combination run exactly as
//! `gradscope run` would, in parallel processes, resumable, and sharded across machines.
//!
//! # The sweep file ([`file`])
//! ```toml
//! base = "digits-plain.toml"          # a config path relative to this file, or an inline [base] table
//! name = "plain-vs-resnet"            # optional, default: the file's stem made folder-safe
//! repeats = 3                         # optional (1 to 100, default 1): runs of each configuration
//! [set]                               # optional: keys fixed for every run (dotted keys)
//! "train.steps" = 300
//! [axes]                              # the grid: the product of every list
//! "model.residual" = [false, true]
//! "model.depth" = [4, 16, 64]
//! [zip]                               # optional: lists of equal length varied together, as one axis
//! "model.norm" = ["none", "batch"]
//! "optim.lr" = [0.1, 0.05]
//! ```
//! A key may appear in only one of `[set]`, `[axes]` and `[zip]`. A relative `data.path` resolves
//! against the folder of the file that wrote it (the base config's, or the sweep file's for a
//! value under `[set]`, `[axes]` or `[zip]`), and is saved absolute in every run's config.
//!
//! `repeats = N` runs every configuration N times, with the model seeds `seed`, `seed + 1`, …,
//! `seed + N - 1` (`seed` as the base and `[set]` give it): it is one more axis, last, over the
//! top-level key `seed`, exactly as `[axes] seed = [s, s + 1, …]` would be (which it may not be
//! combined with). Only the initialisation varies: `data.seed` (the synthetic samples, the split
//! and the batch order) stays the same, so that the spread over repeats is that of the
//! initialisation alone; vary `data.seed` as an axis to see the data's. Runs that differ only in
//! `seed` are repeats of one configuration: their names end in `_seed-<s>`, `results.csv` keeps
//! one row per run (every table has a `seed` column), and `results.md`, the terminal's pivot and
//! the report's depth figure pool them (verdicts counted, numbers as mean ± sd over the seeds).
//!
//! # Layout of a sweep folder
//! `sweep.json` (the [`Manifest`]: every run of the sweep as it is defined now, with the hash of
//! its config), `configs/<id>.toml` (each run's full config), `runs/<id>/` (each run's folder, as
//! `gradscope run` writes it), `results.csv` and `results.md` (one row per finished run, in grid
//! order; no timing columns, so the table is reproducible byte for byte; with repeats,
//! `results.md` starts with one row per configuration), and the report.
//!
//! # Resuming ([`execute`])
//! A run's id is `<index>-<hash of its config>`. A run counts as done only when its folder holds a
//! `summary.json` whose status is `completed` or `nonfinite` **and** whose config hash equals the
//! one the sweep would run now; anything else (interrupted, killed, written by an edited sweep) is
//! run again, and the log says how many runs were reused and why the others were redone. The
//! tables and the report list only the runs of the sweep as it is defined now.
//!
//! # Sharding and merging ([`shard`], [`table`])
//! `--shard I/N` (or Slurm's `SLURM_ARRAY_TASK_ID`/`SLURM_ARRAY_TASK_COUNT`, or Kubernetes'
//! `JOB_COMPLETION_INDEX` with `GRADSCOPE_SHARDS`) runs the runs whose index is I modulo N;
//! `gradscope merge` combines shard folders of one sweep into one whose tables equal the
//! unsharded sweep's.

pub mod execute;
pub mod file;
pub mod manifest;
pub mod shard;
pub mod table;

pub use execute::{Launcher, RunSpec, SweepOptions, SweepOutcome, run_sweep};
pub use file::{Sweep, load_sweep};
pub use manifest::{Manifest, RunState, SweepRun};
pub use shard::Shard;
pub use table::{merge, pivot, report_runs, write_report, write_tables};
