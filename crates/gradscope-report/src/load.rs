//! Reading run folders: `summary.json`, `metrics.jsonl` and `config.toml`.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use gradscope_record::{RunKind, StepRecord, Summary, read_jsonl};

use crate::error::ReportError;

/// Name of the summary file that marks a finished run folder.
pub const SUMMARY_FILE: &str = "summary.json";
/// Name of the per-step records file.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// Name of the config file actually used.
pub const CONFIG_FILE: &str = "config.toml";

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
}

impl RunData {
    /// The name shown for the run: the summary's experiment name, or the folder name when that
    /// is empty.
    pub fn display_name(&self) -> String {
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
    let summary_path = dir.join(SUMMARY_FILE);
    let text = fs::read_to_string(&summary_path).map_err(|e| ReportError::io(&summary_path, e))?;
    let summary = Summary::from_json(&text, &summary_path.display().to_string())?;

    let metrics_path = dir.join(METRICS_FILE);
    let file = fs::File::open(&metrics_path).map_err(|e| ReportError::io(&metrics_path, e))?;
    let records = read_jsonl(BufReader::new(file), &metrics_path.display().to_string())?;

    let config_path = dir.join(CONFIG_FILE);
    let config_toml = match fs::read_to_string(&config_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ReportError::io(&config_path, e)),
    };

    Ok(RunData {
        dir: dir.to_path_buf(),
        summary,
        records,
        config_toml,
        family: None,
    })
}

/// `dir` itself if it holds `summary.json`, else every sub-folder (searched up to 2 levels down,
/// sorted by path) that does. Hidden folders (names starting with `.`) are skipped, and the
/// search does not descend into a run folder.
///
/// Errors with [`ReportError::NoRuns`] when none is found.
pub fn find_runs(dir: &Path) -> Result<Vec<RunData>, ReportError> {
    if !dir.is_dir() {
        let e = fs::metadata(dir)
            .err()
            .unwrap_or_else(|| std::io::Error::other("not a folder"));
        return Err(ReportError::io(dir, e));
    }
    if dir.join(SUMMARY_FILE).is_file() {
        return Ok(vec![load_run(dir)?]);
    }
    let mut found = Vec::new();
    for child in sub_folders(dir)? {
        if child.join(SUMMARY_FILE).is_file() {
            found.push(child);
            continue;
        }
        for grandchild in sub_folders(&child)? {
            if grandchild.join(SUMMARY_FILE).is_file() {
                found.push(grandchild);
            }
        }
    }
    if found.is_empty() {
        return Err(ReportError::NoRuns {
            dir: dir.to_path_buf(),
        });
    }
    found.sort();
    found.iter().map(|d| load_run(d)).collect()
}

/// The non-hidden sub-folders of `dir`, sorted.
fn sub_folders(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let entries = fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(dir, e))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let path = entry.path();
        if !hidden && path.is_dir() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
