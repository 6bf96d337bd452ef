//! Reading a config: file → TOML → overrides → serde structs → checked [`Experiment`].

use std::path::Path;

use serde::Deserialize;

use crate::checked::{Experiment, validate};
use crate::error::{ConfigError, Result};
use crate::locate::{key_line, line_column};
use crate::raw::RawConfig;

/// One `--set key=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The argument as given.
    pub arg: String,
    /// The dotted key.
    pub key: Vec<String>,
    /// The value, parsed as TOML (a bare word that is not valid TOML is taken as a string).
    pub value: toml::Value,
}

impl Override {
    /// Parses `key=value`.
    pub fn parse(arg: &str) -> Result<Override> {
        let bad = |message: &str| ConfigError::Override {
            arg: arg.to_string(),
            message: message.to_string(),
        };
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key=value, such as model.depth=40"))?;
        let key: Vec<String> = key
            .trim()
            .split('.')
            .map(|s| s.trim().to_string())
            .collect();
        if key.iter().any(|k| k.is_empty()) {
            return Err(bad("the key is empty or has an empty part"));
        }
        let value = value.trim();
        let value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
            Ok(mut t) => t
                .remove("v")
                .unwrap_or(toml::Value::String(value.to_string())),
            Err(_) => toml::Value::String(value.to_string()),
        };
        Ok(Override {
            arg: arg.to_string(),
            key,
            value,
        })
    }

    fn apply(&self, table: &mut toml::Table) -> Result<()> {
        let mut current = table;
        for part in &self.key[..self.key.len() - 1] {
            let entry = current
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            current = entry.as_table_mut().ok_or_else(|| ConfigError::Override {
                arg: self.arg.clone(),
                message: format!("`{part}` is a value, not a table"),
            })?;
        }
        let last = self.key[self.key.len() - 1].clone();
        current.insert(last, self.value.clone());
        Ok(())
    }
}

fn syntax_error(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
    ConfigError::Syntax {
        file: file.to_string(),
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

/// Reads a config from `text`. `file` names it in errors, `base_dir` resolves relative data
/// paths, `default_name` names the experiment when the config does not.
pub fn parse_config(
    text: &str,
    file: &str,
    base_dir: &Path,
    default_name: &str,
    overrides: &[Override],
) -> Result<Experiment> {
    // First from the text itself, so that type errors and unknown keys point at a line.
    let mut raw: RawConfig = toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
    if !overrides.is_empty() {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
        for o in overrides {
            o.apply(&mut table)?;
        }
        raw = RawConfig::deserialize(toml::Value::Table(table)).map_err(|e| {
            let arg = overrides
                .iter()
                .map(|o| o.arg.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            ConfigError::Override {
                arg,
                message: e.message().trim().to_string(),
            }
        })?;
    }
    validate(&raw, base_dir, default_name).map_err(|e| match e {
        ConfigError::Invalid {
            key, value, rule, ..
        } => {
            let overridden = overrides.iter().find(|o| o.key.join(".") == key);
            match overridden {
                Some(o) => ConfigError::Override {
                    arg: o.arg.clone(),
                    message: format!("{key} = {value}: {rule}"),
                },
                None => ConfigError::Invalid {
                    file: Some(file.to_string()),
                    line: key_line(text, &key),
                    key,
                    value,
                    rule,
                },
            }
        }
        other => other,
    })
}

/// Reads and checks the config file at `path`, with overrides.
pub fn load_config(path: &Path, overrides: &[Override]) -> Result<Experiment> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("experiment");
    parse_config(
        &text,
        &path.display().to_string(),
        base_dir,
        stem,
        overrides,
    )
}

/// The config actually used, as TOML (defaults filled in, overrides applied).
pub fn to_toml(raw: &RawConfig) -> String {
    toml::to_string(raw).unwrap_or_default()
}

/// A short stable hash of a config (FNV-1a over its TOML form), for folder names and run ids.
pub fn config_hash(raw: &RawConfig) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in to_toml(raw).bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", (h >> 32) ^ (h & 0xffff_ffff))
}
