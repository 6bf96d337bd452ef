//! Errors of model construction.

/// An invalid model setting, named by its config key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key} = {value}: {rule}")]
pub struct ModelError {
    /// The config key, such as `model.depth`.
    pub key: String,
    /// The offending value as written.
    pub value: String,
    /// What is allowed.
    pub rule: String,
}

impl ModelError {
    /// An invalid value for `key`.
    pub fn invalid(key: &str, value: impl Into<String>, rule: &str) -> Self {
        Self {
            key: key.to_string(),
            value: value.into(),
            rule: rule.to_string(),
        }
    }
}
