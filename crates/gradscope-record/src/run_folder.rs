//! What a run folder is: the files in it, how they are written, when the run in it is finished,
//! and how to read it back.
//!
//! `gradscope run` writes one folder per experiment:
//!
//! | file | what |
//! |---|---|
//! | [`CONFIG`] `config.toml` | the config actually used, every default spelled out |
//! | [`METRICS_JSONL`] `metrics.jsonl` | the per-step records of the real run and its baseline ([`StepRecord`]) |
//! | [`METRICS_CSV`] `metrics.csv` | the same numbers in long CSV (`run,step,layer,quantity,value`) |
//! | [`SUMMARY`] `summary.json` | how the run ended, its verdict and diagnosis ([`Summary`]) |
//! | [`REPORT`] `report.html` | the HTML report, when one is drawn |
//! | [`PLOTS`] `plots/` | the report's plots (SVG and PNG) |
//! | [`TENSORBOARD`] `tensorboard/` | TensorBoard event files, when asked for |
//!
//! **`summary.json` is written last**, after the records: a folder holding one is a run that
//! ended, and its `status` says how. A run that ended by itself (`completed`, or stopped at its
//! first non-finite value: `nonfinite`) is **finished** ([`is_finished`]): its results are whole
//! and a sweep reuses it. An `interrupted` run, a summary that does not parse, or no summary at
//! all is not finished, and a sweep runs it again. Readers that show whatever there is (the
//! report) take every folder holding a `summary.json` ([`find_run_dirs`]).
//!
//! Every file goes through [`write_atomic`] (a temporary file in the same folder, flushed to
//! disk, then renamed into place), so a reader, or a resumed sweep, sees a file whole or not at
//! all, never half of one. Locking a folder against a second writer and swapping a whole new run
//! into place are the trainer's (`gradscope_trainer::folder`).
//!
//! ```
//! use gradscope_record::run_folder;
//!
//! let dir = std::env::temp_dir().join(format!("gradscope-run-folder-doc-{}", std::process::id()));
//! run_folder::write_atomic(&dir.join(run_folder::CONFIG), b"name = \"demo\"\n").unwrap();
//! assert_eq!(run_folder::read_config(&dir).unwrap().as_deref(), Some("name = \"demo\"\n"));
//! assert!(!run_folder::is_finished(&dir)); // no summary.json yet
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use crate::step::{RecordError, StepRecord, read_jsonl};
use crate::summary::{Status, Summary};

/// The run's summary, written last: its presence marks a run that ended.
pub const SUMMARY: &str = "summary.json";
/// The per-step records (JSON Lines), real run and baseline interleaved by step.
pub const METRICS_JSONL: &str = "metrics.jsonl";
/// The per-step records as a long CSV.
pub const METRICS_CSV: &str = "metrics.csv";
/// The config actually used.
pub const CONFIG: &str = "config.toml";
/// The HTML report.
pub const REPORT: &str = "report.html";
/// The folder of the report's plots.
pub const PLOTS: &str = "plots";
/// The folder of TensorBoard event files.
pub const TENSORBOARD: &str = "tensorboard";

/// Every entry a run writes into its folder, in the order above.
pub const ENTRIES: &[&str] = &[
    CONFIG,
    METRICS_JSONL,
    METRICS_CSV,
    SUMMARY,
    REPORT,
    PLOTS,
    TENSORBOARD,
];

fn io_error(path: &Path, source: std::io::Error) -> RecordError {
    RecordError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The temporary name [`write_atomic`] uses for `path`: a hidden file in the same folder, named
/// after the process, that keeps the extension (an encoder that picks its format from the
/// extension, such as PNG, still works on it).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp{ext}", std::process::id()))
}

/// Writes `bytes` to `path` atomically: creates the folder if needed, writes a hidden temporary
/// file beside `path` ([`temp_path`]), syncs it to disk, and renames it onto `path`, so that a
/// reader never sees half a file. On failure the temporary file is removed and the error names
/// the file (or the folder that could not be created).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error(path, e)
    })
}

/// Writes `dir/summary.json` ([`Summary::to_json`]) atomically. Write it after everything else:
/// it marks the run as ended.
pub fn write_summary(dir: &Path, summary: &Summary) -> Result<(), RecordError> {
    write_atomic(&dir.join(SUMMARY), summary.to_json().as_bytes())
}

/// Writes `dir/metrics.jsonl` (one [`StepRecord`] a line) atomically.
pub fn write_records(dir: &Path, records: &[StepRecord]) -> Result<(), RecordError> {
    let mut text = String::new();
    for r in records {
        text.push_str(&r.to_json_line());
        text.push('\n');
    }
    write_atomic(&dir.join(METRICS_JSONL), text.as_bytes())
}

/// Writes `dir/config.toml` atomically.
pub fn write_config(dir: &Path, toml: &str) -> Result<(), RecordError> {
    write_atomic(&dir.join(CONFIG), toml.as_bytes())
}

/// Reads `dir/summary.json`; errors name the file, and the line where it does not parse.
pub fn read_summary(dir: &Path) -> Result<Summary, RecordError> {
    let path = dir.join(SUMMARY);
    let text = fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    Summary::from_json(&text, &path.display().to_string())
}

/// Reads `dir/metrics.jsonl` (blank lines skipped); errors name the file, and the line of a
/// record that does not parse or has another schema version.
pub fn read_records(dir: &Path) -> Result<Vec<StepRecord>, RecordError> {
    let path = dir.join(METRICS_JSONL);
    let file = fs::File::open(&path).map_err(|e| io_error(&path, e))?;
    read_jsonl(BufReader::new(file), &path.display().to_string())
}

/// Reads `dir/config.toml` as text: `None` when the folder has none, an error naming the file
/// when it cannot be read.
pub fn read_config(dir: &Path) -> Result<Option<String>, RecordError> {
    let path = dir.join(CONFIG);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path, e)),
    }
}

/// What a folder's `summary.json` says about the run in it.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryState {
    /// No `summary.json` that can be read: never run, or stopped before it was written.
    Missing,
    /// A `summary.json` that does not parse, or whose status is `interrupted`.
    Unfinished,
    /// A finished run: `summary.json` parses and its status is `completed` or `nonfinite`.
    Finished(Box<Summary>),
}

/// Reads `dir/summary.json` and tells whether the run in `dir` is finished (see the module docs).
pub fn summary_state(dir: &Path) -> SummaryState {
    let Ok(text) = fs::read_to_string(dir.join(SUMMARY)) else {
        return SummaryState::Missing;
    };
    match Summary::from_json(&text, SUMMARY) {
        Ok(s) if matches!(s.status, Status::Completed | Status::Nonfinite) => {
            SummaryState::Finished(Box::new(s))
        }
        _ => SummaryState::Unfinished,
    }
}

/// The summary of the run in `dir` when that run is finished: `summary.json` parses and its
/// status is `completed` or `nonfinite`.
pub fn finished_summary(dir: &Path) -> Option<Summary> {
    match summary_state(dir) {
        SummaryState::Finished(s) => Some(*s),
        SummaryState::Missing | SummaryState::Unfinished => None,
    }
}

/// Whether `dir` holds a finished run ([`finished_summary`]).
pub fn is_finished(dir: &Path) -> bool {
    matches!(summary_state(dir), SummaryState::Finished(_))
}

/// Whether `dir` holds a `summary.json` at all: a run that ended, however it ended.
pub fn has_summary(dir: &Path) -> bool {
    dir.join(SUMMARY).is_file()
}

/// The run folders at `dir`: `dir` itself when it holds a `summary.json`, else every sub-folder
/// (searched up to 2 levels down, sorted by path) that does. Hidden folders (names starting with
/// `.`: staging folders, runs set aside) are skipped, and the search does not descend into a run
/// folder. Empty when there is none; an error when `dir` is not a readable folder.
pub fn find_run_dirs(dir: &Path) -> Result<Vec<PathBuf>, RecordError> {
    if !dir.is_dir() {
        let e = fs::metadata(dir)
            .err()
            .unwrap_or_else(|| std::io::Error::other("not a folder"));
        return Err(io_error(dir, e));
    }
    if has_summary(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found = Vec::new();
    for child in sub_folders(dir)? {
        if has_summary(&child) {
            found.push(child);
            continue;
        }
        for grandchild in sub_folders(&child)? {
            if has_summary(&grandchild) {
                found.push(grandchild);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The non-hidden sub-folders of `dir`, sorted.
fn sub_folders(dir: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let entries = fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let path = entry.path();
        if !hidden && path.is_dir() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::{
        Diagnosis, DiagnosisKind, Evidence, Onset, Phase, UnitTrend, WorstPhase,
    };
    use crate::nonfinite::{NonFinite, NonFiniteKind};
    use crate::real::Real;
    use crate::step::{EvalRecord, LayerSeries, RunKind, SCHEMA_VERSION};
    use crate::summary::{
        FinalMetrics, Finals, HeadOnlyControl, LearningSignal, SUMMARY_SCHEMA_VERSION, Seeds,
        SignalPoint, TheoryPrediction, Verdict, Versions, VersusChance,
    };

    fn r(v: f64) -> Real {
        Real(v)
    }

    fn nonfinite() -> NonFinite {
        NonFinite {
            step: 180,
            layer: 3,
            layer_name: "blocks.2".into(),
            kind: NonFiniteKind::BackwardSignal,
        }
    }

    fn unit_trend(peak: f64, grew: bool) -> UnitTrend {
        UnitTrend {
            first_step: 0,
            first: r(0.0625),
            peak_step: 150,
            peak: r(peak),
            peak_layer: 2,
            last_step: 180,
            last: r(0.5),
            grew,
        }
    }

    /// A summary with every optional field filled, every value fixed: the snapshot of
    /// `summary.json`'s fields.
    fn full_summary() -> Summary {
        Summary {
            schema_version: SUMMARY_SCHEMA_VERSION,
            name: "plain-deep".into(),
            config_hash: "3f2a9c1e".into(),
            status: Status::Nonfinite,
            interrupted: false,
            verdict: Some(Verdict::Diverged),
            verdict_reason: Some("a non-finite value at step 180 ended the run".into()),
            constant_loss: Some(r(2.25)),
            learning_signal: Some(LearningSignal {
                z: r(4.5),
                first_step_outside_band: Some(40),
                window: 20,
                threshold: 3.0,
                gap_early: Some(r(0.125)),
                gap_late: Some(r(0.375)),
                gap_growing: Some(true),
                versus_chance: Some(VersusChance {
                    metric: "accuracy".into(),
                    model: r(0.625),
                    chance: r(0.125),
                    standard_errors: r(12.5),
                    beats_chance: true,
                }),
                trace: vec![
                    SignalPoint {
                        step: 19,
                        real_mean: r(2.25),
                        baseline_mean: r(2.5),
                        baseline_sd: r(0.0625),
                        head_only_mean: Some(r(2.375)),
                    },
                    SignalPoint {
                        step: 179,
                        real_mean: r(1.5),
                        baseline_mean: r(2.5),
                        baseline_sd: r(0.0625),
                        head_only_mean: Some(r(2.0)),
                    },
                ],
            }),
            head_only: Some(HeadOnlyControl {
                finals: FinalMetrics {
                    train_loss: r(2.0),
                    test_loss: r(2.125),
                    test_accuracy: Some(r(0.25)),
                    train_accuracy: Some(r(0.3125)),
                },
                metric: "accuracy".into(),
                real: r(0.625),
                head_only: r(0.25),
                standard_errors: r(9.5),
                layers_contributed: true,
                reason: "the layers below the head contributed".into(),
            }),
            diagnosis: Diagnosis {
                kind: DiagnosisKind::Exploding,
                evidence: Evidence {
                    per_layer_rate: Some(r(1.5)),
                    first_to_last_ratio: Some(r(128.0)),
                    final_per_layer_rate: Some(r(2.0)),
                    final_first_to_last_ratio: Some(r(f64::INFINITY)),
                    loss_spikes: vec![170, 175],
                    first_nonfinite: Some(nonfinite()),
                    max_saturated_fraction: Some(r(0.75)),
                    max_dead_fraction: Some(r(0.625)),
                    phases: vec![
                        Phase {
                            from_step: 0,
                            to_step: 99,
                            kind: DiagnosisKind::Healthy,
                        },
                        Phase {
                            from_step: 100,
                            to_step: 180,
                            kind: DiagnosisKind::Exploding,
                        },
                    ],
                    worst: Some(WorstPhase {
                        kind: DiagnosisKind::Exploding,
                        from_step: 100,
                        to_step: 180,
                        records: 9,
                        onset: Onset::DuringTraining,
                        extreme_ratio: Some(r(4096.0)),
                    }),
                    dead_units: Some(unit_trend(0.625, true)),
                    saturated_units: Some(unit_trend(0.75, false)),
                    through_time: false,
                    summary: "gradients explode from step 100".into(),
                },
                remedies: vec![
                    crate::remedy::Remedy::new(
                        crate::remedy::Change::ClipGlobalNorm { max_norm: 1.0 },
                        "gradient clipping by global norm",
                        "bounds the update",
                    )
                    .with_settings(vec![crate::remedy::Setting::new("optim.clip_norm", "1.0")]),
                ],
            },
            first_nonfinite: Some(nonfinite()),
            finals: Finals {
                real: FinalMetrics {
                    train_loss: r(1.5),
                    test_loss: r(1.625),
                    test_accuracy: Some(r(0.625)),
                    train_accuracy: Some(r(0.6875)),
                },
                baseline: Some(FinalMetrics {
                    train_loss: r(2.5),
                    test_loss: r(2.5),
                    test_accuracy: Some(r(0.125)),
                    train_accuracy: Some(r(0.125)),
                }),
            },
            theory: Some(TheoryPrediction {
                case: serde_json::json!({"plain": {"gain": 2.0}}),
                predicted_activation_grad_norm: vec![r(4.0), r(2.0), r(1.0)],
            }),
            depth: 3,
            time_steps: None,
            steps_completed: 181,
            steps_planned: 300,
            steps_per_second: 250.0,
            wall_time_s: 0.75,
            seeds: Seeds { init: 7, data: 11 },
            device: "ndarray (cpu)".into(),
            dataset: "digits: 1437 train, 360 test".into(),
            loss: "cross_entropy".into(),
            model: "mlp 64-32x3-10, tanh".into(),
            versions: Versions {
                gradscope: "0.0.0-test".into(),
                burn: "0.22.1".into(),
                summary_schema: SUMMARY_SCHEMA_VERSION,
                record_schema: SCHEMA_VERSION,
            },
        }
    }

    /// A record with every per-layer series filled and every optional field set: the snapshot of
    /// a `metrics.jsonl` line's fields.
    fn full_record(run: RunKind, step: u64) -> StepRecord {
        let s = |v: [f64; 3]| v.iter().map(|&x| Some(r(x))).collect::<Vec<_>>();
        StepRecord {
            schema_version: SCHEMA_VERSION,
            run,
            step,
            lr: r(0.125),
            loss: r(2.25),
            grad_norm: r(f64::INFINITY),
            clipped: true,
            spectral_product: Some(r(3.375)),
            layers: LayerSeries {
                act_grad_norm: s([4.0, 2.0, f64::NEG_INFINITY]),
                weight_grad_norm: s([0.5, 0.25, 0.125]),
                bias_grad_norm: s([0.0625, 0.03125, 0.015625]),
                weight_norm: s([8.0, 8.5, 9.0]),
                spectral_norm: s([1.5, 1.5, 1.5]),
                update_ratio: s([0.001, 0.002, 0.004]),
                act_mean: s([0.0, -0.25, 0.25]),
                act_std: s([1.0, 0.75, 0.5]),
                act_saturated: s([0.0, 0.125, 0.75]),
                act_dead: s([0.5, 0.625, 0.0]),
                act_nonfinite: vec![Some(0), Some(0), Some(3)],
                act_grad_norm_time: vec![],
                recurrent_spectral_norm: vec![],
                recurrent_spectral_radius: vec![],
            },
            eval: Some(EvalRecord {
                train_loss: r(2.0),
                test_loss: r(2.125),
                test_accuracy: Some(r(0.25)),
                train_accuracy: Some(r(0.3125)),
            }),
            nonfinite: Some(nonfinite()),
        }
    }

    /// `summary.json` exactly as written. A renamed, added or removed field changes it: update the
    /// snapshot on purpose (`INSTA_UPDATE=always`) and bump `SUMMARY_SCHEMA_VERSION` when old
    /// readers break.
    #[test]
    fn summary_json_snapshot() {
        insta::assert_snapshot!("summary_json", full_summary().to_json());
    }

    /// A `metrics.jsonl` record's fields and values, pretty-printed by the same serializer (the
    /// file has it on one line, checked below). Same rule as above, with `SCHEMA_VERSION`.
    #[test]
    fn metrics_record_snapshot() {
        let record = full_record(RunKind::Real, 180);
        let pretty = serde_json::to_string_pretty(&record).unwrap();
        insta::assert_snapshot!("metrics_record", pretty);
        // The line in the file is the same JSON without the whitespace.
        let line: serde_json::Value = serde_json::from_str(&record.to_json_line()).unwrap();
        let snap: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(line, snap);
        assert!(!record.to_json_line().contains('\n'));
    }

    /// Written with the writer, read back with the reader: the same summary, records and config.
    #[test]
    fn folder_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let summary = full_summary();
        let records = vec![
            full_record(RunKind::Real, 0),
            full_record(RunKind::Baseline, 0),
            full_record(RunKind::Real, 10),
        ];
        let config = "name = \"plain-deep\"\n[model]\ndepth = 3\n";
        write_config(&dir, config).unwrap();
        write_records(&dir, &records).unwrap();
        assert_eq!(summary_state(&dir), SummaryState::Missing);
        write_summary(&dir, &summary).unwrap();

        assert_eq!(read_summary(&dir).unwrap(), summary);
        assert_eq!(read_records(&dir).unwrap(), records);
        assert_eq!(read_config(&dir).unwrap().as_deref(), Some(config));
        assert_eq!(finished_summary(&dir), Some(summary));
        assert!(is_finished(&dir));
        // No temporary file is left behind.
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [CONFIG, METRICS_JSONL, SUMMARY]);
    }

    /// The sweep's rule: completed and non-finite runs are finished; an interrupted run, a
    /// summary that does not parse and a missing one are not.
    #[test]
    fn finished_rule() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert_eq!(summary_state(dir), SummaryState::Missing);
        assert!(!has_summary(dir));

        let mut s = full_summary();
        for (status, finished) in [
            (Status::Completed, true),
            (Status::Nonfinite, true),
            (Status::Interrupted, false),
        ] {
            s.status = status;
            write_summary(dir, &s).unwrap();
            assert!(has_summary(dir));
            assert_eq!(is_finished(dir), finished, "{status:?}");
            let state = summary_state(dir);
            if finished {
                assert_eq!(state, SummaryState::Finished(Box::new(s.clone())));
            } else {
                assert_eq!(state, SummaryState::Unfinished);
                assert_eq!(finished_summary(dir), None);
            }
        }

        write_atomic(&dir.join(SUMMARY), b"{\"schema_version\": 3,").unwrap();
        assert_eq!(summary_state(dir), SummaryState::Unfinished);
        assert!(has_summary(dir));
    }

    /// Reader errors name the file, and the line for a record or summary that does not parse.
    #[test]
    fn reader_errors_name_path_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();

        let err = read_summary(dir).unwrap_err();
        assert!(matches!(err, RecordError::Io { .. }), "{err}");
        assert!(err.to_string().contains(SUMMARY), "{err}");
        let err = read_records(dir).unwrap_err();
        assert!(err.to_string().contains(METRICS_JSONL), "{err}");
        assert_eq!(read_config(dir).unwrap(), None);

        write_atomic(
            &dir.join(SUMMARY),
            b"{\n  \"schema_version\": 3,\n  \"name\": 1\n}\n",
        )
        .unwrap();
        let err = read_summary(dir).unwrap_err();
        let summary_path = dir.join(SUMMARY).display().to_string();
        assert!(
            matches!(&err, RecordError::Parse { path, line: 3, .. } if *path == summary_path),
            "{err}"
        );

        let good = full_record(RunKind::Real, 0).to_json_line();
        write_atomic(
            &dir.join(METRICS_JSONL),
            format!("{good}\n\n{{\"schema_version\":1}}\n").as_bytes(),
        )
        .unwrap();
        let err = read_records(dir).unwrap_err();
        let metrics_path = dir.join(METRICS_JSONL).display().to_string();
        assert!(
            matches!(&err, RecordError::Parse { path, line: 3, .. } if *path == metrics_path),
            "{err}"
        );
    }

    /// `dir` itself when it is a run, else runs one and two levels down, sorted, hidden folders
    /// and folders inside a run skipped.
    #[test]
    fn finds_run_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mark = |p: &Path| write_atomic(&p.join(SUMMARY), b"{}").unwrap();
        mark(&root.join("b"));
        mark(&root.join("a/x"));
        mark(&root.join("b/inner")); // inside a run: not searched
        mark(&root.join(".b.staging-1")); // hidden
        mark(&root.join("c/d/e")); // three levels down
        fs::create_dir_all(root.join("empty")).unwrap();

        assert_eq!(
            find_run_dirs(root).unwrap(),
            [root.join("a/x"), root.join("b")]
        );
        assert_eq!(find_run_dirs(&root.join("b")).unwrap(), [root.join("b")]);
        assert!(find_run_dirs(&root.join("empty")).unwrap().is_empty());
        let err = find_run_dirs(&root.join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    /// The temporary file sits beside the target, hidden, with the target's extension.
    #[test]
    fn temp_path_is_hidden_beside_the_file() {
        let tmp = temp_path(Path::new("out/plots/loss.png"));
        assert_eq!(tmp.parent(), Some(Path::new("out/plots")));
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".loss.png."), "{name}");
        assert!(name.ends_with(".tmp.png"), "{name}");
    }
}
