//! gradscope: see, measure and fix vanishing and exploding gradients in deep networks.
//!
//! This umbrella crate re-exports the workspace's crates, one concern each:
//!
//! - [`model`]: the scalar chain, deep MLPs (residual, normalised), the `Block` trait;
//! - [`diagnostics`]: per-layer gradient flow through burn's autodiff, the theory, the diagnosis;
//! - [`data`]: synthetic and bundled real data sets, user CSV files;
//! - [`config`]: the TOML experiment config and its validation;
//! - [`trainer`]: runs beside their learning-rate-zero baselines, and the `gradscope` command.

pub use gradscope_config as config;
pub use gradscope_data as data;
pub use gradscope_diagnostics as diagnostics;
pub use gradscope_model as model;
pub use gradscope_record as record;
pub use gradscope_report as report;
pub use gradscope_trainer as trainer;
