//! Running a sweep: which runs to (re)do, running them in this process or as child processes
//! (started by the caller's [`Launcher`]), stopping cleanly on Ctrl-C or SIGTERM, and writing the
//! tables of what finished.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use gradscope_config::{Override, load_config};
use tracing::{info, warn};

use super::file::Sweep;
use super::manifest::{MANIFEST_SCHEMA_VERSION, Manifest, RunState, SweepRun, run_dir, run_state};
use super::shard::Shard;
use super::table::{write_report, write_tables};
use crate::error::{Error, Result, exit_code};
use crate::experiment::{RunOptions, run_experiment};
use crate::folder::FolderLock;
use crate::output::write_atomic;
use crate::progress::{ProgressCallback, SweepProgress};

/// One run of a parallel sweep, as a [`Launcher`] is asked to start it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSpec<'a> {
    /// The run's id (`<index>-<config hash>`).
    pub id: &'a str,
    /// The run's full config (`configs/<id>.toml` in the sweep folder).
    pub config: &'a Path,
    /// The run folder to write (`runs/<id>/` in the sweep folder).
    pub out_dir: &'a Path,
    /// Compute threads the run may use (the cores divided among the sweep's jobs).
    pub threads: usize,
    /// Memory the run may use, in bytes (its share of the sweep's), when there is a limit.
    pub max_memory: Option<u64>,
    /// The sweep's backend override (`--device`), if any.
    pub device: Option<&'a str>,
    /// Also write TensorBoard event files.
    pub tensorboard: bool,
}

/// Starts the runs of a parallel sweep (`jobs` > 1) as child processes: one process per run,
/// because burn's CPU backends use one global thread pool per process.
///
/// The sweep spawns the command with standard input and output closed, reads its standard error
/// (the reason, when the run fails), sends it SIGINT once when the sweep is interrupted, and
/// waits for it. The command must therefore behave as `gradscope run CONFIG --out DIR
/// --no-report` does: train `config` into `out_dir` (a run folder, without the report: the sweep
/// draws one for all its runs) with at most `threads` threads and `max_memory` bytes, exit 0 when
/// the run ended (completed or non-finite), exit [`exit_code::INTERRUPTED`] when SIGINT stopped
/// it (having written what it recorded), and any other code, with the reason on standard error,
/// when it failed. The `gradscope` command passes one that runs its own executable.
pub trait Launcher: std::fmt::Debug + Send + Sync {
    /// The command that runs `run` to its end.
    fn command(&self, run: &RunSpec<'_>) -> Command;
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
    /// Called after every run of this invocation ends (`None`: no reports).
    pub progress: Option<ProgressCallback<SweepProgress>>,
    /// Starts the runs as child processes when `jobs` > 1 (required then; unused with one job,
    /// which runs them in this process).
    pub launcher: Option<Arc<dyn Launcher>>,
    /// Global `--device`, passed to every run.
    pub device: Option<String>,
    /// Draw the sweep's report at the end.
    pub report: bool,
    /// Write TensorBoard event files for every run.
    pub tensorboard: bool,
    /// Set by Ctrl-C or SIGTERM: launch nothing more, let running runs write what they have.
    pub interrupt: Arc<AtomicBool>,
    /// Memory all runs together may use (default: what the system has available).
    pub max_memory: Option<u64>,
}

/// How a sweep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Runs that failed (their errors are logged).
    pub failed: usize,
    /// Whether Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    /// Finished runs in the table.
    pub finished: usize,
}

/// How the runs of this shard stand before it starts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Plan {
    reused: usize,
    unfinished: usize,
    changed: usize,
    new: usize,
}

/// How one run ended.
enum RunEnd {
    Finished,
    Interrupted,
    Failed(String),
}

/// Runs a sweep: locks its folder, writes every run's config and the manifest, skips the runs
/// that are done (see the [module docs](super) for the rule), runs the rest one by one in this
/// process (`jobs` = 1) or `jobs` at a time as child processes started by `opts.launcher` (each
/// with `threads = cores / jobs`; without a launcher, `jobs` > 1 is an [`Error::Usage`]), then
/// writes the tables and the report of what finished. `opts.progress` hears of every run that
/// ends.
///
/// On Ctrl-C or SIGTERM nothing more is launched; running runs get the signal (forwarded where
/// only this process received it), write what they recorded and end; the tables are written
/// of what finished, and the outcome says it was interrupted.
pub fn run_sweep(sweep: &Sweep, opts: &SweepOptions) -> Result<SweepOutcome> {
    let out = &opts.out_dir;
    std::fs::create_dir_all(out.join("configs")).map_err(|e| Error::io(out, e))?;
    let _lock = FolderLock::acquire(&out.join(".sweep.lock"), out)?;
    let device_override = opts
        .device
        .as_ref()
        .map(|d| Override::parse(&format!("device=\"{d}\"")))
        .transpose()?;
    // Every run's config, and the hash of the config it will actually run with (the device
    // override included), which a finished run's summary must carry to be reused.
    let mut runs: Vec<SweepRun> = Vec::with_capacity(sweep.runs.len());
    let mut costs: HashMap<String, f64> = HashMap::new();
    for (r, cfg) in &sweep.runs {
        let path = config_path(out, &r.id);
        write_atomic(&path, cfg.as_bytes())?;
        let exp = load_config(&path, device_override.as_slice())?;
        costs.insert(r.id.clone(), estimated_cost(&exp));
        runs.push(SweepRun {
            config_hash: gradscope_config::config_hash(&exp.raw),
            ..r.clone()
        });
    }
    let manifest = Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        name: sweep.name.clone(),
        keys: sweep.keys.clone(),
        runs,
        labels: sweep.labels.clone(),
    };
    manifest.write(out)?;

    let mine: Vec<&SweepRun> = manifest
        .runs
        .iter()
        .filter(|r| opts.shard.is_none_or(|s| s.owns(r.index)))
        .collect();
    let mut plan = Plan::default();
    let mut todo: Vec<&SweepRun> = Vec::new();
    for r in &mine {
        match run_state(out, r) {
            RunState::Done => plan.reused += 1,
            state => {
                match state {
                    RunState::Unfinished => plan.unfinished += 1,
                    RunState::Changed => plan.changed += 1,
                    _ => plan.new += 1,
                }
                todo.push(r);
            }
        }
    }
    info!(
        "sweep {}: {} runs{}: {} reused, {} redone (unfinished or interrupted), {} redone \
         (config changed), {} new",
        sweep.name,
        sweep.runs.len(),
        opts.shard.map_or(String::new(), |s| format!(
            " ({} in shard {}/{})",
            mine.len(),
            s.index,
            s.count
        )),
        plan.reused,
        plan.unfinished,
        plan.changed,
        plan.new
    );

    let total = todo.len();
    let done = AtomicUsize::new(0);
    let ended = |id: &str| {
        let done = done.fetch_add(1, Ordering::SeqCst) + 1;
        crate::progress::report(
            opts.progress.as_ref(),
            SweepProgress {
                done,
                total,
                run: id.to_string(),
            },
        );
    };
    let failures = AtomicUsize::new(0);
    let fail = |id: &str, why: &str| {
        failures.fetch_add(1, Ordering::SeqCst);
        warn!(run = %id, "run failed: {why}");
    };
    let interrupted =
        |end: &RunEnd| matches!(end, RunEnd::Interrupted) || opts.interrupt.load(Ordering::SeqCst);
    let jobs = opts.jobs.max(1);
    if jobs == 1 {
        // One at a time: in this process, with every core.
        for r in &todo {
            if opts.interrupt.load(Ordering::SeqCst) {
                break;
            }
            let end = run_in_process(out, r, device_override.as_ref(), opts);
            if let RunEnd::Failed(why) = &end {
                fail(&r.id, why);
            }
            ended(&r.id);
            if interrupted(&end) {
                break;
            }
        }
    } else {
        // Several at a time: child processes, each with cores/jobs threads, so that the runs do
        // not fight over the cores (burn's CPU backends use one global thread pool per process).
        // Longest first, so that no long run starts last and leaves the other cores idle at the
        // end (results are keyed by run index, so the order changes nothing in them).
        let order = longest_first(&todo, |r| costs.get(&r.id).copied().unwrap_or(0.0));
        let launcher = opts.launcher.as_deref().ok_or_else(|| {
            Error::Usage(format!(
                "a sweep with {jobs} jobs starts its runs as child processes, and needs a \
                 launcher for them (SweepOptions::launcher)"
            ))
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / jobs).max(1);
        // Each run may use its share of the memory.
        let memory_share =
            crate::memory::limit(opts.max_memory).map(|(bytes, _)| (bytes / jobs as u64).max(1));
        let queue = std::sync::Mutex::new(order.into_iter());
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    loop {
                        if opts.interrupt.load(Ordering::SeqCst) {
                            break;
                        }
                        let next = queue.lock().ok().and_then(|mut q| q.next());
                        let Some(r) = next else { break };
                        let config = config_path(out, &r.id);
                        let out_dir = run_dir(out, &r.id);
                        let cmd = launcher.command(&RunSpec {
                            id: &r.id,
                            config: &config,
                            out_dir: &out_dir,
                            threads,
                            max_memory: memory_share,
                            device: opts.device.as_deref(),
                            tensorboard: opts.tensorboard,
                        });
                        let end = run_child(cmd, &opts.interrupt);
                        if let RunEnd::Failed(why) = &end {
                            fail(&r.id, why);
                        }
                        ended(&r.id);
                    }
                });
            }
        });
    }
    let stopped = opts.interrupt.load(Ordering::SeqCst);
    if stopped {
        warn!("sweep interrupted: launching nothing more; writing the table of what finished");
    }
    let finished = write_tables(out)?;
    if opts.report && finished > 0 {
        write_report(out)?;
    }
    Ok(SweepOutcome {
        failed: failures.into_inner(),
        interrupted: stopped,
        finished,
    })
}

fn config_path(out: &Path, id: &str) -> PathBuf {
    out.join("configs").join(format!("{id}.toml"))
}

/// Runs one run in this process (`jobs` = 1), sharing the sweep's interrupt flag.
fn run_in_process(
    out: &Path,
    r: &SweepRun,
    device: Option<&Override>,
    opts: &SweepOptions,
) -> RunEnd {
    let result = load_config(
        &config_path(out, &r.id),
        device.map_or(&[], std::slice::from_ref),
    )
    .map_err(Error::from)
    .and_then(|exp| {
        let run_opts = RunOptions {
            out_dir: run_dir(out, &r.id),
            no_baseline: false,
            progress: None,
            interrupt: opts.interrupt.clone(),
            report: false,
            tensorboard: opts.tensorboard,
            max_memory: opts.max_memory,
        };
        run_experiment(&exp, &run_opts)
    });
    match result {
        Ok(o) if o.summary.status == crate::output::Status::Interrupted => RunEnd::Interrupted,
        Ok(_) => RunEnd::Finished,
        Err(e) => RunEnd::Failed(e.to_string()),
    }
}

/// Runs one child process to its end. When the interrupt flag is set, the child is sent SIGINT
/// once (a terminal's Ctrl-C reaches it anyway, being in the same process group; a signal to
/// this process alone, as `kill` or a scheduler sends it, does not), and then waited for: it
/// writes what it recorded and exits 130.
fn run_child(mut cmd: Command, interrupt: &AtomicBool) -> RunEnd {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return RunEnd::Failed(format!("could not start: {e}")),
    };
    // Read its error output on the side, so that a chatty child never blocks on a full pipe.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let mut forwarded = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if !forwarded && interrupt.load(Ordering::SeqCst) {
            forward_interrupt(child.id());
            forwarded = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader.join().unwrap_or_default();
    match status {
        Ok(s) if s.success() => RunEnd::Finished,
        Ok(s) if s.code() == Some(exit_code::INTERRUPTED) => {
            if interrupt.load(Ordering::SeqCst) {
                RunEnd::Interrupted
            } else {
                RunEnd::Failed("interrupted from outside the sweep".into())
            }
        }
        Ok(s) => RunEnd::Failed(format!("{} ({s})", text.trim())),
        Err(e) => RunEnd::Failed(format!("lost track of the run: {e}")),
    }
}

/// Sends SIGINT to a child (the runs treat it like Ctrl-C).
#[cfg(unix)]
fn forward_interrupt(pid: u32) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    if let Ok(pid) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
}

/// Elsewhere the console's Ctrl-C reaches every process attached to it.
#[cfg(not(unix))]
fn forward_interrupt(_pid: u32) {}

/// The runs ordered by decreasing `cost` (ties keep their order).
fn longest_first<'a>(todo: &[&'a SweepRun], cost: impl Fn(&SweepRun) -> f64) -> Vec<&'a SweepRun> {
    let costs: HashMap<&str, f64> = todo.iter().map(|r| (r.id.as_str(), cost(r))).collect();
    let mut order = todo.to_vec();
    order.sort_by(|a, b| costs[b.id.as_str()].total_cmp(&costs[a.id.as_str()]));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(index: usize) -> SweepRun {
        SweepRun {
            index,
            id: format!("{index:04}-x"),
            values: BTreeMap::new(),
            config_hash: String::new(),
        }
    }

    /// Parallel sweeps start the most expensive runs first (so none starts last and runs alone),
    /// equal costs in grid order.
    #[test]
    fn longest_runs_are_scheduled_first() {
        let runs: Vec<SweepRun> = (0..5).map(run).collect();
        let todo: Vec<&SweepRun> = runs.iter().collect();
        let cost = [1.0, 50.0, 7.0, 50.0, 3.0];
        let order = longest_first(&todo, |r| cost[r.index]);
        let got: Vec<usize> = order.iter().map(|r| r.index).collect();
        assert_eq!(got, vec![1, 3, 2, 4, 0]);
    }

    /// The cost grows with the work of the matrix products and doubles with the baseline.
    #[test]
    fn estimated_cost_follows_the_products() {
        let load = |extra: &[&str]| {
            let mut o: Vec<Override> = extra.iter().map(|s| Override::parse(s).unwrap()).collect();
            o.push(Override::parse("train.steps=100").unwrap());
            gradscope_config::parse_config(
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
