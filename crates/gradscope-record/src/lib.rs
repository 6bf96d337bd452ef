//! The stable file formats of gradscope.
//!
//! Everything a run writes is a versioned contract, readable without burn: the per-step records
//! of `metrics.jsonl` ([`StepRecord`], with a long-CSV export), the run's `summary.json`
//! ([`Summary`]), and the diagnosis and non-finite location they carry. Floats go through
//! [`Real`], which keeps NaN and ±inf visible in JSON (serde_json alone writes them as `null`).
//!
//! ```
//! use gradscope_record::Real;
//! assert_eq!(serde_json::to_string(&Real(f64::INFINITY)).unwrap(), r#""inf""#);
//! ```

pub mod diagnosis;
pub mod nonfinite;
pub mod real;
pub mod remedy;
pub mod run_folder;
pub mod step;
pub mod summary;

pub use diagnosis::{
    Diagnosis, DiagnosisKind, DiagnosisThresholds, Evidence, Onset, Phase, UnitTrend, WorstPhase,
};
pub use nonfinite::{NonFinite, NonFiniteKind};
pub use real::{Real, format_real, format_short, format_sig, parse_real};
pub use remedy::{Change, Remedy, Setting};
pub use run_folder::{SummaryState, write_atomic};
pub use step::{
    EvalRecord, LayerSeries, OLDEST_SCHEMA_VERSION, RecordError, RunKind, SCHEMA_VERSION,
    StepRecord, read_jsonl, write_jsonl, write_long_csv,
};
pub use summary::{
    FinalMetrics, Finals, HeadOnlyControl, LearningSignal, SUMMARY_SCHEMA_VERSION, Seeds,
    SignalPoint, Status, Summary, TheoryPrediction, Verdict, Versions, VersusChance, verdict_tally,
};
