//! gradscope: see, measure and fix vanishing and exploding gradients in deep networks.
//!
//! This umbrella crate re-exports the workspace's crates, one concern each:
//!
//! - [`model`]: the scalar chain, deep MLPs (residual, normalised), the `Block`, `Network` and
//!   `Architecture` traits, the observer seam (layers, channels, time steps), `ModelFacts`;
//! - [`diagnostics`]: per-layer gradient flow through burn's autodiff, the theory, the diagnosis
//!   and its remedies;
//! - [`data`]: synthetic and bundled real data sets, user CSV files;
//! - [`config`]: the TOML experiment config, its validation, and the config keys of remedies;
//! - [`record`]: the file formats (`metrics.jsonl`, `summary.json`) and the run folder;
//! - [`report`]: the plots and the self-contained HTML report, TensorBoard event files;
//! - [`trainer`]: training any network beside its learning-rate-zero baseline and head-only
//!   control, run folders, sweeps, benchmarks (the `gradscope` command itself is the
//!   `gradscope-cli` crate).

pub use gradscope_config as config;
pub use gradscope_data as data;
pub use gradscope_diagnostics as diagnostics;
pub use gradscope_model as model;
pub use gradscope_record as record;
pub use gradscope_report as report;
pub use gradscope_trainer as trainer;
