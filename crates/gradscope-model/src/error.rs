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

/// `model.depth` between 1 and [`crate::MAX_DEPTH`].
pub(crate) fn check_depth(depth: usize) -> Result<(), ModelError> {
    if depth == 0 || depth > crate::MAX_DEPTH {
        return Err(ModelError::invalid(
            "model.depth",
            depth.to_string(),
            &format!("must be between 1 and {}", crate::MAX_DEPTH),
        ));
    }
    Ok(())
}

/// A scale that must be finite and ≥ 0 (`model.sigma_w`, `model.rho`, …).
pub(crate) fn check_scale(key: &str, v: f64) -> Result<(), ModelError> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(ModelError::invalid(
            key,
            v.to_string(),
            "must be finite and ≥ 0",
        ));
    }
    Ok(())
}

/// `model.step_features` dividing a row of `input_dim` values into `what` (time steps,
/// positions).
pub(crate) fn check_step_features(
    step_features: usize,
    input_dim: usize,
    what: &str,
) -> Result<(), ModelError> {
    if step_features == 0 || !input_dim.is_multiple_of(step_features) {
        return Err(ModelError::invalid(
            "model.step_features",
            step_features.to_string(),
            &format!("must divide the data's {input_dim} values per row into {what}"),
        ));
    }
    Ok(())
}
