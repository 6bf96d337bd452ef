//! `sweep.json`: the runs of a sweep as it is defined now, and whether each run's folder holds
//! that run, finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gradscope_record::{Summary, SummaryState, run_folder};
use serde::{Deserialize, Serialize};

use super::file::SEED_KEY;
use crate::error::{Error, Result};
use crate::output::write_atomic;

/// Version of `sweep.json`.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// The manifest's file name in a sweep folder.
pub const MANIFEST_FILE: &str = "sweep.json";

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    /// Position in grid order (0-based).
    pub index: usize,
    /// `<index>-<hash of its config>`: its folder's name under `runs/`.
    pub id: String,
    /// The axis values of this run, by dotted key, as TOML text (`true`, `16`, `"batch"`).
    pub values: BTreeMap<String, String>,
    /// The hash of the config the run is run with (`summary.json`'s `config_hash` when done);
    /// empty until the sweep is executed.
    #[serde(default)]
    pub config_hash: String,
}

/// `sweep.json`: every run of the sweep (all shards), with the hash of its config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of this file.
    pub schema_version: u32,
    /// The sweep's name.
    pub name: String,
    /// Axis keys in order.
    pub keys: Vec<String>,
    /// The runs in grid order.
    pub runs: Vec<SweepRun>,
    /// The sweep file's `[labels]`: a name for an architecture, by the name gradscope gives it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// What a run's folder holds, against the run the sweep would run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// A finished run (completed or non-finite) of exactly this config: reused.
    Done,
    /// Stopped before the end (interrupted, killed, or an unreadable summary): redone.
    Unfinished,
    /// A finished run of another config (the sweep was edited): redone.
    Changed,
    /// Never run.
    New,
}

impl Manifest {
    /// The architecture of a run (its axis values other than depth and seed), named by the sweep
    /// file's `[labels]` where it names it.
    pub fn architecture(&self, values: &BTreeMap<String, String>) -> String {
        let name = architecture(values);
        self.labels.get(&name).cloned().unwrap_or(name)
    }

    /// Reads `dir/sweep.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Invalid {
                    path: dir.to_path_buf(),
                    message: format!(
                        "no {MANIFEST_FILE}: not a sweep folder (or one written by an older \
                         gradscope; rerun its sweep to update it)"
                    ),
                }
            } else {
                Error::io(&path, e)
            }
        })?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| Error::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if m.schema_version != MANIFEST_SCHEMA_VERSION {
            return Err(Error::Invalid {
                path,
                message: format!(
                    "schema_version {} (this gradscope reads {MANIFEST_SCHEMA_VERSION})",
                    m.schema_version
                ),
            });
        }
        Ok(m)
    }

    /// Writes `dir/sweep.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        Ok(write_atomic(&dir.join(MANIFEST_FILE), text.as_bytes())?)
    }

    /// The runs whose folder under `dir` is [`RunState::Done`], with their summaries.
    pub fn done_runs(&self, dir: &Path) -> Vec<(&SweepRun, Summary)> {
        self.runs
            .iter()
            .filter_map(|r| match read_state(dir, r) {
                (RunState::Done, Some(s)) => Some((r, s)),
                _ => None,
            })
            .collect()
    }
}

/// The folder of run `id` in the sweep folder `out`.
pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// The state of `run`'s folder in the sweep folder `out`.
pub fn run_state(out: &Path, run: &SweepRun) -> RunState {
    read_state(out, run).0
}

fn read_state(out: &Path, run: &SweepRun) -> (RunState, Option<Summary>) {
    match run_folder::summary_state(&run_dir(out, &run.id)) {
        SummaryState::Finished(s) if s.config_hash != run.config_hash => (RunState::Changed, None),
        SummaryState::Finished(s) => (RunState::Done, Some(*s)),
        SummaryState::Unfinished => (RunState::Unfinished, None),
        SummaryState::Missing if has_leftover(out, run) => (RunState::Unfinished, None),
        SummaryState::Missing if other_finished_run(out, run) => (RunState::Changed, None),
        SummaryState::Missing => (RunState::New, None),
    }
}

/// Whether a writer of this run died and left its staging folder (see `crate::folder`).
fn has_leftover(out: &Path, run: &SweepRun) -> bool {
    let prefix = format!(".{}.staging-", run.id);
    entries(&out.join("runs")).any(|n| n.starts_with(&prefix))
}

/// Whether a finished run of the same index but another config (an earlier definition of the
/// sweep) is there.
fn other_finished_run(out: &Path, run: &SweepRun) -> bool {
    let prefix = format!("{:04}-", run.index);
    entries(&out.join("runs"))
        .filter(|n| n.starts_with(&prefix) && *n != run.id)
        .any(|n| run_folder::has_summary(&run_dir(out, &n)))
}

fn entries(dir: &Path) -> impl Iterator<Item = String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
}

/// The keys a sweep can scale its architectures along, with their names in tables and plots:
/// the number of layers, or the length T of the sequences a recurrent net reads.
pub const SCALE_KEYS: [(&str, &str); 2] = [("model.depth", "depth"), ("data.length", "T")];

/// The key a sweep with these axis keys scales its architectures along: the first of
/// [`SCALE_KEYS`] it varies (a sweep over depth and length pivots on depth and names each length
/// in its architectures).
pub fn scale_key<'a>(
    keys: impl IntoIterator<Item = &'a String>,
) -> Option<(&'static str, &'static str)> {
    let keys: Vec<&String> = keys.into_iter().collect();
    SCALE_KEYS
        .into_iter()
        .find(|(k, _)| keys.iter().any(|x| x.as_str() == *k))
}

/// A readable name for an architecture from its axis values (all but the scale key and the
/// seed): `plain`, `residual`, `batch norm`, `residual + layer norm`; other keys as
/// `activation relu`.
pub fn architecture(values: &std::collections::BTreeMap<String, String>) -> String {
    let scale = scale_key(values.keys()).map(|(k, _)| k);
    let mut parts = Vec::new();
    for (k, v) in values {
        let v = v.trim_matches('"');
        if Some(k.as_str()) == scale {
            continue;
        }
        match (k.as_str(), v) {
            (SEED_KEY, _) | ("model.residual", "false") | ("model.norm", "none") => {}
            ("model.residual", "true") => parts.push("residual".to_string()),
            ("model.norm", "rms") => parts.push("RMS norm".to_string()),
            ("model.norm", n) => parts.push(format!("{n} norm")),
            (k, v) => parts.push(format!("{} {v}", k.rsplit('.').next().unwrap_or(k))),
        }
    }
    // Residual first, then normalisation, then the rest, whatever the keys' order.
    parts.sort_by_key(|p| (!p.starts_with("residual"), !p.ends_with("norm")));
    if parts.is_empty() {
        "plain".into()
    } else {
        parts.join(" + ")
    }
}
