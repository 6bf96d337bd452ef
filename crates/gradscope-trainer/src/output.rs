//! The files a run writes, and writing them atomically.
//!
//! What a run folder holds, the file names, the atomic writer and the rule for a finished run
//! are in [`gradscope_record::run_folder`] (re-exported here as [`run_folder`]): `config.toml`
//! (the config actually used), `metrics.jsonl` (the records of both runs, see
//! `gradscope_record::step`), `metrics.csv` (the same, long format) and `summary.json`, written
//! last: a folder with a `summary.json` is a run that ended. Every file is written to a
//! temporary name in the same folder and renamed into place, so a reader (or a resumed sweep)
//! never sees half a file.

pub use gradscope_record::{
    FinalMetrics, Finals, SUMMARY_SCHEMA_VERSION, Seeds, Status, Summary, TheoryPrediction,
    Verdict, Versions,
};

pub use gradscope_record::run_folder::{self, write_atomic};

/// The versions of this build, for `summary.json`.
pub fn versions() -> Versions {
    Versions {
        gradscope: env!("CARGO_PKG_VERSION").to_string(),
        burn: "0.22.1".to_string(),
        summary_schema: SUMMARY_SCHEMA_VERSION,
        record_schema: gradscope_record::SCHEMA_VERSION,
    }
}
