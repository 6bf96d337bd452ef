//! Reading run folders: `summary.json`, `metrics.jsonl` and `config.toml`, through
//! [`gradscope_record::run_folder`] (which says what a run folder holds).

use std::path::{Path, PathBuf};

use gradscope_record::{RunKind, StepRecord, Summary, run_folder};

use crate::error::ReportError;
use crate::fsutil::from_record;

/// Name of the summary file that marks a finished run folder ([`run_folder::SUMMARY`]).
pub const SUMMARY_FILE: &str = run_folder::SUMMARY;
/// Name of the per-step records file ([`run_folder::METRICS_JSONL`]).
pub const METRICS_FILE: &str = run_folder::METRICS_JSONL;
/// Name of the config file actually used ([`run_folder::CONFIG`]).
pub const CONFIG_FILE: &str = run_folder::CONFIG;

/// Everything the report needs from one run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// The run folder.
    pub dir: PathBuf,
    /// Its `summary.json`.
    pub summary: Summary,
    /// Its `metrics.jsonl`: real and baseline records, interleaved by step.
    pub records: Vec<StepRecord>,
    /// Its `config.toml` as text (empty when the folder has none).
    pub config_toml: String,
    /// The architecture it stands for in a comparison (a sweep's axis values other than depth,
    /// such as `residual + layer norm`): runs of one family share a colour and one legend entry,
    /// so that the same architecture at several depths reads as one line family. `None` outside
    /// a comparison (set by the caller; [`load_run`] leaves it empty).
    pub family: Option<String>,
    /// The name to show instead of the experiment's (a sweep's `plain · depth 4`, made from its
    /// axis values, rather than the run's key `depth-4_norm-none_residual-false`). `None`: the
    /// experiment's name.
    pub label: Option<String>,
}

impl RunData {
    /// The name shown for the run: its label, else the summary's experiment name, else the folder
    /// name.
    pub fn display_name(&self) -> String {
        if let Some(label) = self.label.as_ref().filter(|l| !l.trim().is_empty()) {
            return label.clone();
        }
        if !self.summary.name.trim().is_empty() {
            return self.summary.name.clone();
        }
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".to_string())
    }

    /// The real run's records, sorted by step.
    pub fn real_records(&self) -> Vec<&StepRecord> {
        self.records_of(RunKind::Real)
    }

    /// The baseline's records, sorted by step (empty without a baseline).
    pub fn baseline_records(&self) -> Vec<&StepRecord> {
        self.records_of(RunKind::Baseline)
    }

    fn records_of(&self, kind: RunKind) -> Vec<&StepRecord> {
        let mut out: Vec<&StepRecord> = self.records.iter().filter(|r| r.run == kind).collect();
        // Stable: records of the same step keep their file order.
        out.sort_by_key(|r| r.step);
        out
    }
}

/// Loads one run folder: `summary.json` and `metrics.jsonl` are required, `config.toml` is read
/// when present.
pub fn load_run(dir: &Path) -> Result<RunData, ReportError> {
    let summary = run_folder::read_summary(dir).map_err(from_record)?;
    let records = run_folder::read_records(dir).map_err(from_record)?;
    let config_toml = run_folder::read_config(dir)
        .map_err(from_record)?
        .unwrap_or_default();
    Ok(RunData {
        dir: dir.to_path_buf(),
        summary,
        records,
        config_toml,
        family: None,
        label: None,
    })
}

/// `dir` itself if it holds `summary.json`, else every sub-folder (searched up to 2 levels down,
/// sorted by path) that does ([`run_folder::find_run_dirs`]). Hidden folders (names starting
/// with `.`) are skipped, and the search does not descend into a run folder.
///
/// Errors with [`ReportError::NoRuns`] when none is found.
pub fn find_runs(dir: &Path) -> Result<Vec<RunData>, ReportError> {
    let found = run_folder::find_run_dirs(dir).map_err(from_record)?;
    if found.is_empty() {
        return Err(ReportError::NoRuns {
            dir: dir.to_path_buf(),
        });
    }
    found.iter().map(|d| load_run(d)).collect()
}
