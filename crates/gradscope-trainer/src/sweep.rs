//! Sweeps: one base config, axes over any config key, every combination run exactly as
//! `gradscope run` would, in parallel processes, resumable, and sharded across machines.
//!
//! # The sweep file
//! ```toml
//! base = "digits-plain.toml"          # a config path relative to this file, or an inline [base] table
//! name = "plain-vs-resnet"            # optional, default: the file's stem
//! [set]                               # optional: keys fixed for every run (dotted keys)
//! "train.steps" = 300
//! [axes]                              # the grid: the product of every list
//! "model.residual" = [false, true]
//! "model.depth" = [4, 16, 64]
//! [zip]                               # optional: lists of equal length varied together, as one axis
//! "model.norm" = ["none", "batch"]
//! "optim.lr" = [0.1, 0.05]
//! ```
//!
//! # Layout of a sweep folder
//! `configs/<id>.toml` (each run's full config), `runs/<id>/` (each run's folder, as `gradscope run`
//! writes it, plus `sweep_run.json`: its index and axis values), `results.csv` and `results.md`
//! (one row per finished run, in grid order; no timing columns, so the table is reproducible byte
//! for byte), and the report.
//!
//! A run's id is `<index>-<hash of its config>`; a run is done when its `summary.json` exists
//! (written last and atomically), so a rerun skips it: a sweep killed at any point resumes without
//! losing a finished run and without trusting a half-written one. `--shard I/N` (or Slurm's
//! `SLURM_ARRAY_TASK_ID`/`SLURM_ARRAY_TASK_COUNT`, or Kubernetes' `JOB_COMPLETION_INDEX` with
//! `GRADSCOPE_SHARDS`) runs the runs whose index is I modulo N; `gradscope merge` combines shard
//! folders into one whose tables equal the unsharded sweep's.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use gradscope_config::{Override, RawConfig, config_hash, load_config, parse_config, to_toml};
use gradscope_record::Summary;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::experiment::{RunOptions, run_experiment};
use crate::output::write_atomic;

/// The sweep file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    base: toml::Value,
    name: Option<String>,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    zip: toml::Table,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    /// Position in grid order (0-based).
    pub index: usize,
    /// `<index>-<config hash>`.
    pub id: String,
    /// The axis values of this run, by dotted key, as TOML text (`true`, `16`, `"batch"`).
    pub values: BTreeMap<String, String>,
}

/// An expanded sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Name.
    pub name: String,
    /// Axis keys in order (grid axes, then zipped keys).
    pub keys: Vec<String>,
    /// The runs in grid order, with their full configs (TOML text).
    pub runs: Vec<(SweepRun, String)>,
}

fn sweep_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Reads and expands a sweep file; every combination is validated before anything runs.
pub fn load_sweep(path: &Path) -> Result<Sweep> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let raw: RawSweep =
        toml::from_str(&text).map_err(|e| sweep_err(path, e.message().trim().to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = raw.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("sweep")
            .to_string()
    });

    // The base as a raw config, with data paths made absolute so runs work from any folder.
    let (base_text, base_dir) = match &raw.base {
        toml::Value::String(p) => {
            let p = dir.join(p);
            let t = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            (t, p.parent().unwrap_or(Path::new(".")).to_path_buf())
        }
        toml::Value::Table(t) => (toml::to_string(t).unwrap_or_default(), dir.to_path_buf()),
        _ => {
            return Err(sweep_err(
                path,
                "base: expected a config path or a [base] table",
            ));
        }
    };
    let fixed = raw
        .set
        .iter()
        .map(|(k, v)| Override::parse(&format!("{k}={}", value_text(v))))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let base_exp = parse_config(
        &base_text,
        &format!("{} (base)", path.display()),
        &base_dir,
        &name,
        &fixed,
    )?;
    let mut base: RawConfig = base_exp.raw.clone();
    if let Some(p) = &base.data.path {
        let abs = base_dir.join(p);
        base.data.path = Some(abs.display().to_string());
    }
    base.name = None;

    // Axes: grid axes in file order, then one combined axis for the zipped lists.
    let mut axes: Vec<(Vec<String>, Vec<Vec<toml::Value>>)> = Vec::new();
    for (key, values) in &raw.axes {
        let list = values
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| sweep_err(path, format!("axes.\"{key}\": expected a non-empty list")))?;
        axes.push((
            vec![key.clone()],
            list.iter().map(|v| vec![v.clone()]).collect(),
        ));
    }
    if !raw.zip.is_empty() {
        let mut keys = Vec::new();
        let mut lists: Vec<&Vec<toml::Value>> = Vec::new();
        for (key, values) in &raw.zip {
            let list = values.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
                sweep_err(path, format!("zip.\"{key}\": expected a non-empty list"))
            })?;
            keys.push(key.clone());
            lists.push(list);
        }
        let n = lists[0].len();
        if let Some((k, l)) = keys.iter().zip(&lists).find(|(_, l)| l.len() != n) {
            return Err(sweep_err(
                path,
                format!(
                    "zip.\"{k}\" has {} values but zip.\"{}\" has {n}: zipped lists must have equal length",
                    l.len(),
                    keys[0]
                ),
            ));
        }
        let combos = (0..n)
            .map(|i| lists.iter().map(|l| l[i].clone()).collect())
            .collect();
        axes.push((keys, combos));
    }
    let keys: Vec<String> = axes.iter().flat_map(|(k, _)| k.clone()).collect();

    // The grid, last axis fastest.
    let total: usize = axes.iter().map(|(_, v)| v.len()).product();
    let mut runs = Vec::with_capacity(total);
    for index in 0..total {
        let mut rest = index;
        let mut choice = vec![0; axes.len()];
        for (a, (_, values)) in axes.iter().enumerate().rev() {
            choice[a] = rest % values.len();
            rest /= values.len();
        }
        let mut overrides = Vec::new();
        let mut values = BTreeMap::new();
        for (a, (akeys, avalues)) in axes.iter().enumerate() {
            for (k, v) in akeys.iter().zip(&avalues[choice[a]]) {
                let arg = format!("{k}={}", value_text(v));
                overrides.push(Override::parse(&arg)?);
                values.insert(k.clone(), value_text(v));
            }
        }
        let base_toml = to_toml(&base);
        let exp = parse_config(
            &base_toml,
            &format!("{} run {index}", path.display()),
            &base_dir,
            &name,
            &overrides,
        )?;
        let mut run_raw = exp.raw.clone();
        let id = format!("{index:04}-{}", config_hash(&run_raw));
        run_raw.name = Some(run_label(&values).unwrap_or_else(|| format!("{name}-{index:04}")));
        runs.push((SweepRun { index, id, values }, to_toml(&run_raw)));
    }
    Ok(Sweep { name, keys, runs })
}

/// A readable, file-safe run name from its axis values: `depth-16_norm-layer_residual-true`.
fn run_label(values: &BTreeMap<String, String>) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let label = values
        .iter()
        .map(|(k, v)| {
            let key = k.rsplit('.').next().unwrap_or(k);
            format!("{key}-{}", v.trim_matches('"'))
        })
        .collect::<Vec<_>>()
        .join("_");
    Some(
        label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect(),
    )
}

/// Which slice of a sweep this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            Error::Usage(format!(
                "--shard {s}: expected I/N with 0 ≤ I < N, such as 0/3"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard from the environment: Slurm array jobs, or a Kubernetes Indexed Job with
    /// `GRADSCOPE_SHARDS` set to its completion count.
    pub fn from_env() -> Result<Option<Shard>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let pair = match (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
            (Some(i), Some(n)) => Some((i, n)),
            _ => var("JOB_COMPLETION_INDEX").zip(var("GRADSCOPE_SHARDS")),
        };
        pair.map(|(i, n)| Shard::parse(&format!("{i}/{n}")))
            .transpose()
    }

    /// Whether run `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count == self.index
    }
}

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The sweep folder.
    pub out_dir: PathBuf,
    /// Runs at a time.
    pub jobs: usize,
    /// The slice to run.
    pub shard: Option<Shard>,
    /// Show progress.
    pub progress: bool,
    /// Global `--device`, passed to every run.
    pub device: Option<String>,
    /// Draw the sweep's report at the end.
    pub report: bool,
    /// Write TensorBoard event files for every run.
    pub tensorboard: bool,
    /// Set by Ctrl-C: stop after the current run.
    pub interrupt: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Whether a run folder holds a finished run (a `summary.json` that parses).
pub fn is_done(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .is_some_and(|t| Summary::from_json(&t, "").is_ok())
}

/// Runs a sweep: skips finished runs, runs the rest one by one in this process (`jobs` = 1) or
/// `jobs` at a time as child processes (each with `threads = cores / jobs`), then writes the
/// tables. Returns the number of runs that
/// failed (their errors are logged; the others still complete).
pub fn run_sweep(sweep: &Sweep, opts: &SweepOptions) -> Result<usize> {
    let out = &opts.out_dir;
    std::fs::create_dir_all(out.join("configs")).map_err(|e| Error::io(out, e))?;
    let mine: Vec<&(SweepRun, String)> = sweep
        .runs
        .iter()
        .filter(|(r, _)| opts.shard.is_none_or(|s| s.owns(r.index)))
        .collect();
    let todo: Vec<&(SweepRun, String)> = mine
        .iter()
        .copied()
        .filter(|(r, _)| !is_done(&run_dir(out, &r.id)))
        .collect();
    info!(
        sweep = %sweep.name,
        total = sweep.runs.len(),
        this_shard = mine.len(),
        to_run = todo.len(),
        "sweep"
    );
    for (r, cfg) in &todo {
        write_atomic(
            &out.join("configs").join(format!("{}.toml", r.id)),
            cfg.as_bytes(),
        )?;
        let meta = serde_json::to_string_pretty(r).unwrap_or_default() + "\n";
        write_atomic(&run_dir(out, &r.id).join("sweep_run.json"), meta.as_bytes())?;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = opts.jobs.max(1);
    let threads = (cores / jobs).max(1);
    let exe = std::env::current_exe().map_err(|e| Error::io("gradscope", e))?;
    let bar = if opts.progress {
        let b =
            ProgressBar::with_draw_target(Some(todo.len() as u64), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} runs [{bar:30}] {pos}/{len} ETA {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let failures = std::sync::atomic::AtomicUsize::new(0);
    let fail = |id: &str, why: String| {
        failures.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        warn!(run = %id, "run failed: {why}");
    };
    if jobs == 1 {
        // One at a time: in this process, with every core.
        for (r, _) in &todo {
            let config = out.join("configs").join(format!("{}.toml", r.id));
            let mut overrides = Vec::new();
            if let Some(d) = &opts.device {
                overrides.push(Override::parse(&format!("device=\"{d}\""))?);
            }
            let outcome = load_config(&config, &overrides)
                .map_err(Error::from)
                .and_then(|exp| {
                    let run_opts = RunOptions {
                        out_dir: run_dir(out, &r.id),
                        no_baseline: false,
                        progress: false,
                        interrupt: opts.interrupt.clone(),
                        report: false,
                        tensorboard: opts.tensorboard,
                    };
                    run_experiment(&exp, &run_opts)
                });
            if let Err(e) = outcome {
                fail(&r.id, e.to_string());
            }
            bar.set_message(r.id.clone());
            bar.inc(1);
            if opts.interrupt.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
        }
    } else {
        // Several at a time: child processes, each with cores/jobs threads, so that the runs do
        // not fight over the cores (burn's CPU backends use one global thread pool per process).
        // Longest first, so that no long run starts last and leaves the other cores idle at the
        // end (results are keyed by run index, so the order changes nothing in them).
        let order = longest_first(&todo, |r| {
            let config = out.join("configs").join(format!("{}.toml", r.id));
            load_config(&config, &[]).map_or(0.0, |e| estimated_cost(&e))
        });
        let queue = std::sync::Mutex::new(order.iter());
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.next().copied());
                        let Some((r, _)) = next else { break };
                        let mut cmd = Command::new(&exe);
                        cmd.arg("run")
                            .arg(out.join("configs").join(format!("{}.toml", r.id)))
                            .arg("--out")
                            .arg(run_dir(out, &r.id))
                            .args([
                                "--threads",
                                &threads.to_string(),
                                "--no-progress",
                                "--no-report",
                                "-q",
                            ]);
                        if let Some(d) = &opts.device {
                            cmd.args(["--device", d]);
                        }
                        if opts.tensorboard {
                            cmd.arg("--tensorboard");
                        }
                        match cmd.output() {
                            Ok(o) if o.status.success() || is_done(&run_dir(out, &r.id)) => {}
                            Ok(o) => {
                                fail(&r.id, String::from_utf8_lossy(&o.stderr).trim().to_string())
                            }
                            Err(e) => fail(&r.id, format!("could not start: {e}")),
                        }
                        bar.set_message(r.id.clone());
                        bar.inc(1);
                    }
                });
            }
        });
    }
    bar.finish_and_clear();
    write_tables(out, &sweep.keys)?;
    if opts.report {
        write_report(out)?;
    }
    Ok(failures.into_inner())
}

/// The runs ordered by decreasing `cost` (ties keep their order).
fn longest_first<'a>(
    todo: &[&'a (SweepRun, String)],
    cost: impl Fn(&SweepRun) -> f64,
) -> Vec<&'a (SweepRun, String)> {
    let costs: HashMap<&str, f64> = todo.iter().map(|(r, _)| (r.id.as_str(), cost(r))).collect();
    let mut order = todo.to_vec();
    order.sort_by(|(a, _), (b, _)| costs[b.id.as_str()].total_cmp(&costs[a.id.as_str()]));
    order
}

/// A run's relative cost, for scheduling: steps × batch × depth × width² (the matrix products),
/// twice with the baseline.
fn estimated_cost(e: &gradscope_config::Experiment) -> f64 {
    let m = &e.raw.model;
    let arms = if e.train.baseline { 2.0 } else { 1.0 };
    arms * e.train.steps as f64
        * e.train.batch_size as f64
        * m.depth.max(1) as f64
        * (m.width.max(1) as f64).powi(2)
}

/// Draws the plots and `report.html` of every finished run under `dir`.
pub fn write_report(dir: &Path) -> Result<PathBuf> {
    let runs = gradscope_report::find_runs(dir)?;
    Ok(gradscope_report::write_report(dir, &runs)?.html)
}

/// A finished run as a table row.
struct Row {
    meta: SweepRun,
    summary: Summary,
}

fn collect_rows(dirs: &[PathBuf]) -> Result<(Vec<Row>, Vec<String>)> {
    let mut rows: BTreeMap<usize, Row> = BTreeMap::new();
    let mut keys: Vec<String> = Vec::new();
    for dir in dirs {
        let runs = dir.join("runs");
        let Ok(entries) = std::fs::read_dir(&runs) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for run in entries {
            let (Ok(meta), Ok(summary)) = (
                std::fs::read_to_string(run.join("sweep_run.json")),
                std::fs::read_to_string(run.join("summary.json")),
            ) else {
                continue;
            };
            let meta: SweepRun = serde_json::from_str(&meta).map_err(|e| Error::Invalid {
                path: run.join("sweep_run.json"),
                message: e.to_string(),
            })?;
            let summary =
                Summary::from_json(&summary, &run.join("summary.json").display().to_string())?;
            for k in meta.values.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
            rows.insert(meta.index, Row { meta, summary });
        }
    }
    Ok((rows.into_values().collect(), keys))
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(gradscope_record::format_real).unwrap_or_default()
}

fn table(rows: &[Row], keys: &[String]) -> (String, String) {
    let mut header: Vec<String> = vec!["index".into(), "id".into()];
    header.extend(keys.iter().cloned());
    header.extend(
        [
            "status",
            "diagnosis",
            "per_layer_rate",
            "first_to_last_ratio",
            "z",
            "verdict",
            "train_loss",
            "test_loss",
            "test_accuracy",
            "baseline_test_loss",
            "baseline_test_accuracy",
            "first_nonfinite_step",
            "first_nonfinite_layer",
        ]
        .map(String::from),
    );
    let mut lines: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let s = &r.summary;
        let e = &s.diagnosis.evidence;
        let mut cells = vec![r.meta.index.to_string(), r.meta.id.clone()];
        cells.extend(keys.iter().map(|k| {
            r.meta
                .values
                .get(k)
                .cloned()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string()
        }));
        cells.push(format!("{:?}", s.status).to_lowercase());
        cells.push(s.diagnosis.kind.name().to_string());
        cells.push(fmt_opt(e.per_layer_rate.map(|x| x.get())));
        cells.push(fmt_opt(e.first_to_last_ratio.map(|x| x.get())));
        cells.push(fmt_opt(s.learning_signal.as_ref().map(|l| l.z.get())));
        cells.push(s.verdict.map_or(String::new(), |v| v.name().to_string()));
        cells.push(fmt_opt(Some(s.finals.real.train_loss.get())));
        cells.push(fmt_opt(Some(s.finals.real.test_loss.get())));
        cells.push(fmt_opt(s.finals.real.test_accuracy.map(|x| x.get())));
        cells.push(fmt_opt(s.finals.baseline.map(|b| b.test_loss.get())));
        cells.push(fmt_opt(
            s.finals
                .baseline
                .and_then(|b| b.test_accuracy)
                .map(|x| x.get()),
        ));
        cells.push(
            s.first_nonfinite
                .as_ref()
                .map_or(String::new(), |n| n.step.to_string()),
        );
        cells.push(
            s.first_nonfinite
                .as_ref()
                .map_or(String::new(), |n| n.layer_name.clone()),
        );
        lines.push(cells);
    }
    let csv_cell = |c: &String| {
        if c.contains([',', '"', '\n']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c.clone()
        }
    };
    let mut csv = header.iter().map(csv_cell).collect::<Vec<_>>().join(",") + "\n";
    for l in &lines {
        csv.push_str(&(l.iter().map(csv_cell).collect::<Vec<_>>().join(",") + "\n"));
    }
    let mut md = format!(
        "| {} |\n|{}|\n",
        header.join(" | "),
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for l in &lines {
        md.push_str(&format!(
            "| {} |\n",
            l.iter()
                .map(|c| c.replace('|', "\\|"))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    (csv, md)
}

/// Writes `results.csv` and `results.md` of the finished runs under `out/runs`.
pub fn write_tables(out: &Path, keys: &[String]) -> Result<usize> {
    let (rows, found) = collect_rows(&[out.to_path_buf()])?;
    let keys: Vec<String> = if keys.is_empty() {
        found
    } else {
        keys.to_vec()
    };
    let (csv, md) = table(&rows, &keys);
    write_atomic(&out.join("results.csv"), csv.as_bytes())?;
    write_atomic(&out.join("results.md"), md.as_bytes())?;
    Ok(rows.len())
}

/// Merges shard folders into `out`: copies their finished runs and writes the combined tables
/// (equal, byte for byte, to those of the same sweep run unsharded).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize> {
    let (rows, keys) = collect_rows(dirs)?;
    for dir in dirs {
        for sub in ["runs", "configs"] {
            let from = dir.join(sub);
            if from == out.join(sub) {
                continue;
            }
            copy_tree(&from, &out.join(sub))?;
        }
    }
    let (csv, md) = table(&rows, &keys);
    write_atomic(&out.join("results.csv"), csv.as_bytes())?;
    write_atomic(&out.join("results.md"), md.as_bytes())?;
    if !rows.is_empty() {
        write_report(out)?;
    }
    Ok(rows.len())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue; // temporary files of interrupted writes
        }
        let dest = to.join(&name);
        if p.is_dir() {
            copy_tree(&p, &dest)?;
        } else {
            let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
            write_atomic(&dest, &bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(index: usize) -> (SweepRun, String) {
        let run = SweepRun {
            index,
            id: format!("{index:04}-x"),
            values: BTreeMap::new(),
        };
        (run, String::new())
    }

    /// Parallel sweeps start the most expensive runs first (so none starts last and runs alone),
    /// equal costs in grid order.
    #[test]
    fn longest_runs_are_scheduled_first() {
        let runs: Vec<(SweepRun, String)> = (0..5).map(run).collect();
        let todo: Vec<&(SweepRun, String)> = runs.iter().collect();
        let cost = [1.0, 50.0, 7.0, 50.0, 3.0];
        let order = longest_first(&todo, |r| cost[r.index]);
        let got: Vec<usize> = order.iter().map(|(r, _)| r.index).collect();
        assert_eq!(got, vec![1, 3, 2, 4, 0]);
    }

    /// The cost grows with the work of the matrix products and doubles with the baseline.
    #[test]
    fn estimated_cost_follows_the_products() {
        let load = |extra: &[&str]| {
            let mut o: Vec<Override> = extra.iter().map(|s| Override::parse(s).unwrap()).collect();
            o.push(Override::parse("train.steps=100").unwrap());
            parse_config(
                gradscope_config::DEFAULTS_TOML,
                "d.toml",
                Path::new("."),
                "d",
                &o,
            )
            .unwrap()
        };
        let base = estimated_cost(&load(&["model.depth=4", "model.width=32"]));
        let wide = estimated_cost(&load(&["model.depth=4", "model.width=64"]));
        let deep = estimated_cost(&load(&["model.depth=8", "model.width=32"]));
        assert!((wide / base - 4.0).abs() < 1e-9, "{wide} {base}");
        assert!((deep / base - 2.0).abs() < 1e-9, "{deep} {base}");
    }
}
