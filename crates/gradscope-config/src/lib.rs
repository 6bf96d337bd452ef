//! The experiment config of gradscope.
//!
//! A config is TOML. It is read into our own serde structs ([`RawConfig`], every key with a
//! documented default, unknown keys rejected), overridden by `--set key=value`, then validated
//! into checked types ([`Experiment`]) before anything runs. Every error names the key, the value
//! and what is allowed, with the file and line when the value came from a file:
//!
//! ```text
//! configs/bad.toml:4: model.depth = 0: must be at least 1
//! configs/bad.toml:5: model.activation = "swish2": expected one of identity, relu, leaky_relu, tanh, sigmoid, gelu, silu
//! ```
//!
//! ```
//! use std::path::Path;
//! use gradscope_config::{parse_config, Override};
//!
//! let text = "seed = 1\n[model]\ndepth = 8\n";
//! let exp = parse_config(text, "demo.toml", Path::new("."), "demo", &[Override::parse("model.width=32").unwrap()]).unwrap();
//! assert_eq!(exp.raw.model.width, 32);
//! let err = parse_config("[model]\ndepth = 0\n", "bad.toml", Path::new("."), "bad", &[]).unwrap_err();
//! assert_eq!(err.to_string(), "bad.toml:2: model.depth = 0: must be at least 1");
//! ```

pub mod checked;
pub mod defaults;
pub mod error;
pub mod load;
pub mod locate;
pub mod name;
pub mod raw;
pub mod remedy;

pub use checked::{
    Experiment, LossChoice, MAX_CONFIG_INT, MAX_THREADS, ModelSettings, OptimKind, OptimSettings,
    Schedule, TrainSettings,
};
pub use defaults::DEFAULTS_TOML;
pub use error::{ConfigError, Result, closest};
pub use load::{
    MAX_CONFIG_BYTES, Override, config_hash, load_config, parse_config, read_config_text,
    short_hash, to_toml,
};
pub use name::{MAX_DERIVED_NAME_LEN, MAX_NAME_LEN, check_name, safe_name};
pub use raw::{RawConfig, RawData, RawModel, RawOptim, RawTrain};
pub use remedy::{settings_for, with_config_settings};
