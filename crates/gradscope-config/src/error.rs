//! Config errors: each names the file and line where it can, and the key.

use std::path::PathBuf;

/// What can be wrong with a config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not valid TOML, a value has the wrong type, or a key is unknown.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A value is out of range or not one of the allowed words.
    #[error("{}{key} = {value}: {rule}", location(file, *line))]
    Invalid {
        /// The file, when the value came from one.
        file: Option<String>,
        /// The line of the key, when it could be found.
        line: Option<usize>,
        /// The dotted key, such as `model.depth`.
        key: String,
        /// The value as written (strings quoted).
        value: String,
        /// What is allowed.
        rule: String,
    },
    /// A `--set key=value` override is malformed or names an unknown key.
    #[error("--set {arg}: {message}")]
    Override {
        /// The override as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
}

fn location(file: &Option<String>, line: Option<usize>) -> String {
    match (file, line) {
        (Some(f), Some(l)) => format!("{f}:{l}: "),
        (Some(f), None) => format!("{f}: "),
        _ => String::new(),
    }
}

impl ConfigError {
    /// An invalid value for `key` (file and line filled in later by the loader).
    pub fn invalid(key: &str, value: impl std::fmt::Display, rule: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: None,
            line: None,
            key: key.to_string(),
            value: value.to_string(),
            rule: rule.into(),
        }
    }

    /// The dotted key this error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// `Result` with [`ConfigError`].
pub type Result<T> = std::result::Result<T, ConfigError>;
