//! The diagnosis of a run as written to files: vanishing, exploding or healthy, with its
//! evidence and remedies (computed by `gradscope-diagnostics`, whose docs give the rule).

use serde::{Deserialize, Serialize};

use crate::nonfinite::NonFinite;
use crate::real::Real;

/// Thresholds of the diagnosis (config section `[diagnosis]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiagnosisThresholds {
    /// First-to-last ratio of the activation-gradient norm below which gradients vanish.
    pub vanishing_ratio: f64,
    /// First-to-last ratio above which gradients explode.
    pub exploding_ratio: f64,
    /// A loss above this multiple of the running median is a spike.
    pub spike_factor: f64,
    /// Number of previous recorded losses in the running median.
    pub spike_window: usize,
    /// Saturated fraction above which a layer is reported as saturated.
    pub saturated_fraction: f64,
    /// Dead-unit fraction above which a layer is reported as dying.
    pub dead_fraction: f64,
}

impl Default for DiagnosisThresholds {
    fn default() -> Self {
        Self {
            vanishing_ratio: 1e-2,
            exploding_ratio: 1e2,
            spike_factor: 10.0,
            spike_window: 20,
            saturated_fraction: 0.5,
            dead_fraction: 0.5,
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisKind {
    /// The backward signal shrinks towards the input.
    Vanishing,
    /// The backward signal grows, values overflow or the loss spikes.
    Exploding,
    /// Neither.
    Healthy,
}

impl DiagnosisKind {
    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            DiagnosisKind::Vanishing => "vanishing",
            DiagnosisKind::Exploding => "exploding",
            DiagnosisKind::Healthy => "healthy",
        }
    }
}

/// A stretch of consecutive records with the same kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// First step of the phase.
    pub from_step: u64,
    /// Last step of the phase.
    pub to_step: u64,
    /// Kind during the phase.
    pub kind: DiagnosisKind,
}

/// What the verdict rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evidence {
    /// Average per-layer factor of ‖∂L/∂h‖ going from the last layer to the first, at the first
    /// record (initialisation).
    pub per_layer_rate: Option<Real>,
    /// ‖∂L/∂h_1‖ / ‖∂L/∂h_L‖ at the first record.
    pub first_to_last_ratio: Option<Real>,
    /// The same two at the last record.
    pub final_per_layer_rate: Option<Real>,
    /// First-to-last ratio at the last record.
    pub final_first_to_last_ratio: Option<Real>,
    /// Steps whose loss spiked.
    pub loss_spikes: Vec<u64>,
    /// The first non-finite value.
    pub first_nonfinite: Option<NonFinite>,
    /// Largest saturated fraction of any layer at any record.
    pub max_saturated_fraction: Option<Real>,
    /// Largest dead-unit fraction of any layer at any record.
    pub max_dead_fraction: Option<Real>,
    /// Phases of the run.
    pub phases: Vec<Phase>,
    /// One sentence for people.
    pub summary: String,
}

/// A diagnosis: kind, evidence and remedies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// vanishing, exploding or healthy.
    pub kind: DiagnosisKind,
    /// What it rests on.
    pub evidence: Evidence,
    /// Remedies that fit this model, most relevant first (`"name: why"`).
    pub remedies: Vec<String>,
}
