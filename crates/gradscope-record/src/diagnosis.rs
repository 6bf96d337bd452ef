//! The diagnosis of a run as written to files: vanishing, exploding or healthy, with its
//! evidence and remedies (computed by `gradscope-diagnostics`, whose docs give the rule).

use serde::{Deserialize, Serialize};

use crate::nonfinite::NonFinite;
use crate::real::Real;
use crate::remedy::Remedy;

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

/// When the worst phase began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Onset {
    /// At the first record: the network was built that way (initialisation, architecture).
    AtInit,
    /// After a first record of another kind: training drove the network there.
    DuringTraining,
}

impl Onset {
    /// `at_init` or `during_training`.
    pub fn name(self) -> &'static str {
        match self {
            Onset::AtInit => "at_init",
            Onset::DuringTraining => "during_training",
        }
    }
}

/// The phase the headline rests on: the worst stretch of the run (see the rule in
/// `gradscope_diagnostics::diagnosis`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstPhase {
    /// `vanishing` or `exploding` (a healthy run has no worst phase).
    pub kind: DiagnosisKind,
    /// First step of the phase.
    pub from_step: u64,
    /// Last step of the phase.
    pub to_step: u64,
    /// Number of records in the phase.
    pub records: usize,
    /// At initialisation, or appeared during training.
    pub onset: Onset,
    /// The most extreme first-to-last ratio in the phase: the smallest for a vanishing phase,
    /// the largest for an exploding one (`null` when none is finite).
    pub extreme_ratio: Option<Real>,
}

/// How a per-layer unit fraction (dead or saturated units) moved over the run. At every record
/// the fraction is the largest over the layers (the worst layer).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitTrend {
    /// Step of the first record with the measure.
    pub first_step: u64,
    /// The worst layer's fraction at that record.
    pub first: Real,
    /// Step of the largest fraction (the first such record).
    pub peak_step: u64,
    /// The largest fraction of any layer at any record.
    pub peak: Real,
    /// The layer (1-based) that reached it.
    pub peak_layer: usize,
    /// Step of the last record with the measure.
    pub last_step: u64,
    /// The worst layer's fraction there.
    pub last: Real,
    /// Whether the fraction grew during training past the threshold (`dead_fraction` or
    /// `saturated_fraction`): at or below it at the first record, above it for a lasting stretch
    /// of records later.
    pub grew: bool,
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
    /// The worst phase, which the headline names (`null` for a healthy run, and in files
    /// written before it existed).
    #[serde(default)]
    pub worst: Option<WorstPhase>,
    /// Dead ReLU units over the run (`null` without ReLU layers).
    #[serde(default)]
    pub dead_units: Option<UnitTrend>,
    /// Saturated tanh/sigmoid units over the run (`null` without such layers).
    #[serde(default)]
    pub saturated_units: Option<UnitTrend>,
    /// Whether the ratios and rates are through time (a recurrent net: ‖∂L/∂h‖ at the first
    /// layer's first time step over the top layer's last, the rate per step back in time)
    /// rather than through the layers.
    #[serde(default)]
    pub through_time: bool,
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
    /// Remedies that fit this model, most relevant first.
    pub remedies: Vec<Remedy>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diagnosis written before `worst`, `dead_units` and `saturated_units` existed still
    /// loads, with those fields empty; a new one round-trips.
    #[test]
    fn older_evidence_loads_and_new_fields_round_trip() {
        let old = r#"{"kind":"vanishing","remedies":[],"evidence":{
            "per_layer_rate":0.5,"first_to_last_ratio":0.001,"final_per_layer_rate":null,
            "final_first_to_last_ratio":null,"loss_spikes":[],"first_nonfinite":null,
            "max_saturated_fraction":null,"max_dead_fraction":0.7,
            "phases":[{"from_step":0,"to_step":10,"kind":"vanishing"}],"summary":"vanishing"}}"#;
        let d: Diagnosis = serde_json::from_str(old).unwrap();
        assert_eq!(d.evidence.worst, None);
        assert_eq!(d.evidence.dead_units, None);
        assert_eq!(d.evidence.saturated_units, None);

        let mut new = d.clone();
        new.evidence.worst = Some(WorstPhase {
            kind: DiagnosisKind::Vanishing,
            from_step: 85,
            to_step: 200,
            records: 24,
            onset: Onset::DuringTraining,
            extreme_ratio: Some(Real(0.004)),
        });
        new.evidence.dead_units = Some(UnitTrend {
            first_step: 0,
            first: Real(0.02),
            peak_step: 150,
            peak: Real(0.73),
            peak_layer: 29,
            last_step: 299,
            last: Real(0.6),
            grew: true,
        });
        let text = serde_json::to_string(&new).unwrap();
        assert!(text.contains(r#""onset":"during_training""#), "{text}");
        let back: Diagnosis = serde_json::from_str(&text).unwrap();
        assert_eq!(back, new);
    }
}
