//! Nothing lost, nothing trusted by mistake: interrupts, resume, concurrent writers, limits and
//! hostile inputs, through the real binary.

#![cfg(unix)]

mod common;

use common::{command, gradscope, write_sweep};

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
}

/// Starts `gradscope args…` in `dir` in a process group of its own (so that a signal to the
/// group reaches it and its children, as a terminal's Ctrl-C does, and nothing else).
fn spawn(args: &[&str], dir: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    command(args, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("the gradscope binary starts")
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for a child at most `limit`, killing it (and failing) past that.
fn finish(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            panic!("gradscope did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Whether a run (or its staging folder) has started under `runs`.
fn some_run_started(runs: &Path) -> bool {
    names(runs).iter().any(|n| n.contains(".staging-"))
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

/// Starts the tiny sweep (400 steps a run) with 2 jobs into `d/s` and waits for a run to start.
fn start_tiny_sweep(d: &Path) -> Child {
    write_sweep(d, 400);
    let child = spawn(
        &[
            "sweep",
            "tiny.toml",
            "--out",
            "s",
            "--jobs",
            "2",
            "--no-progress",
        ],
        d,
    );
    wait_until("a run to start", Duration::from_secs(120), || {
        some_run_started(&d.join("s/runs"))
    });
    child
}

/// The run folders under `runs` (not the hidden locks and staging folders).
fn run_folders(runs: &Path) -> Vec<String> {
    names(runs)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect()
}

/// Ctrl-C to the sweep's process group (the terminal's way) stops it: nothing more is launched,
/// the running runs write interrupted summaries, the table lists only finished runs, the exit
/// code is 130. The resumed sweep redoes the interrupted runs and its table equals, byte for
/// byte, that of a sweep never interrupted.
#[test]
fn an_interrupted_sweep_stops_and_resumes_to_the_uninterrupted_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = start_tiny_sweep(d);
    killpg(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let out = finish(child, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    // At most the two running runs were written, and only finished ones are in the table.
    let runs = run_folders(&d.join("s/runs"));
    assert!(runs.len() <= 2, "{runs:?}");
    let table = csv_rows(&d.join("s/results.csv"));
    assert!(column(&table, "status").iter().all(|s| s == "completed"));
    let interrupted = runs
        .iter()
        .filter(|r| {
            std::fs::read_to_string(d.join("s/runs").join(r).join("summary.json"))
                .unwrap()
                .contains("\"interrupted\"")
        })
        .count();
    assert!(interrupted >= 1, "{runs:?}");

    let resumed = gradscope(&["sweep", "tiny.toml", "--out", "s", "--no-progress"], d);
    ok(&resumed);
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        log.contains(&format!("{interrupted} redone (unfinished or interrupted)")),
        "{log}"
    );
    ok(&gradscope(
        &["sweep", "tiny.toml", "--out", "fresh", "--no-progress"],
        d,
    ));
    assert_eq!(
        std::fs::read_to_string(d.join("s/results.csv")).unwrap(),
        std::fs::read_to_string(d.join("fresh/results.csv")).unwrap()
    );
}

/// A signal to the sweep process alone (here SIGTERM, as `kill`, `timeout` or a scheduler sends
/// it) is forwarded to its running children: they write what they have, and the sweep exits 130 without launching more.
#[test]
fn a_signal_to_the_sweep_alone_reaches_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = start_tiny_sweep(d);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let out = finish(child, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let runs = run_folders(&d.join("s/runs"));
    assert!(!runs.is_empty() && runs.len() <= 2, "{runs:?}");
    // No child left running: nothing is still writing into the folder.
    std::thread::sleep(Duration::from_millis(300));
    assert!(!some_run_started(&d.join("s/runs")), "a run is still going");
}

/// An edited sweep never mixes stale runs into its table: every row is a run of the sweep as it
/// is now, and the log says how many were redone because their config changed.
#[test]
fn an_edited_sweep_redoes_the_changed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_sweep(d, 12);
    ok(&gradscope(
        &["sweep", "tiny.toml", "--out", "s", "--no-progress"],
        d,
    ));
    write_sweep(d, 10);
    let again = gradscope(&["sweep", "tiny.toml", "--out", "s", "--no-progress"], d);
    ok(&again);
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains("0 reused"), "{log}");
    assert!(log.contains("6 redone (config changed)"), "{log}");
    let table = csv_rows(&d.join("s/results.csv"));
    assert_eq!(table.len(), 7);
    for id in column(&table, "id") {
        let s: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.join("s/runs").join(&id).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(s["steps_planned"], 10, "{id}");
    }
    // The report shows the six current runs, not the six stale ones beside them.
    let html = std::fs::read_to_string(d.join("s/report.html")).unwrap();
    for id in column(&table, "id") {
        assert!(html.contains(&id), "{id} missing from the report");
    }
    // Unchanged again: everything reused.
    let third = gradscope(&["sweep", "tiny.toml", "--out", "s", "--no-progress"], d);
    ok(&third);
    assert!(
        String::from_utf8_lossy(&third.stderr).contains("6 reused"),
        "{}",
        text(&third)
    );
}

/// A relative `data.path` in a sweep's base config resolves against that config's folder,
/// wherever the run configs are copied; a run that fails at run time makes the sweep exit 8.
#[test]
fn relative_data_paths_work_in_sweeps_and_failed_runs_have_their_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("cfg")).unwrap();
    let mut csv = String::from("a,b,y\n");
    for i in 0..60 {
        let (a, b) = ((i % 7) as f64 / 7.0, (i % 5) as f64 / 5.0);
        csv.push_str(&format!("{a},{b},{}\n", i % 2));
    }
    std::fs::write(d.join("cfg/x.csv"), &csv).unwrap();
    std::fs::write(
        d.join("cfg/base.toml"),
        "[model]\ndepth = 2\nwidth = 8\n[data]\nname = \"csv\"\npath = \"x.csv\"\n[train]\nsteps = 5\nsignal_window = 2\n",
    )
    .unwrap();
    std::fs::write(
        d.join("cfg/s.toml"),
        "base = \"base.toml\"\n[axes]\n\"model.depth\" = [1, 2]\n",
    )
    .unwrap();
    let o = gradscope(&["sweep", "cfg/s.toml", "--out", "out", "--no-progress"], d);
    ok(&o);
    assert_eq!(
        csv_rows(&d.join("out/results.csv")).len(),
        3,
        "{}",
        text(&o)
    );

    // Axis values (here a CSV column named like an HTML tag) are inert text in results.md.
    let tag = "<img src=x onerror=alert(1)>";
    std::fs::write(
        d.join("cfg/h.csv"),
        csv.replacen(",y\n", &format!(",{tag}\n"), 1),
    )
    .unwrap();
    std::fs::write(
        d.join("cfg/s3.toml"),
        format!(
            "base = \"base.toml\"\n[set]\n\"data.path\" = \"h.csv\"\n[axes]\n\"data.target\" = [{tag:?}]\n"
        ),
    )
    .unwrap();
    let o = gradscope(
        &["sweep", "cfg/s3.toml", "--out", "out3", "--no-progress"],
        d,
    );
    ok(&o);
    let md = std::fs::read_to_string(d.join("out3/results.md")).unwrap();
    assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"), "{md}");
    assert!(!md.contains("<img"), "{md}");

    // One run's file is missing at run time (its config is valid): exit 8, the other runs finish.
    std::fs::write(
        d.join("cfg/s2.toml"),
        "base = \"base.toml\"\n[axes]\n\"data.path\" = [\"x.csv\", \"gone.csv\"]\n",
    )
    .unwrap();
    let o = gradscope(
        &["sweep", "cfg/s2.toml", "--out", "out2", "--no-progress"],
        d,
    );
    assert_eq!(o.status.code(), Some(8), "{}", text(&o));
    assert_eq!(csv_rows(&d.join("out2/results.csv")).len(), 2);
}

/// Sweep-file errors are config errors (exit 3); merging folders with no finished run, or shards
/// of different sweeps, is an error.
#[test]
fn sweep_file_and_merge_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.toml"), "base = 3\n").unwrap();
    let o = gradscope(&["sweep", "bad.toml", "--no-progress"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    std::fs::write(d.join("dots.toml"), "name = \"..\"\n[base]\n").unwrap();
    let o = gradscope(&["sweep", "dots.toml", "--no-progress"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // A sweep file, or a sweep's base, that is not a regular file is refused at once.
    let o = gradscope(&["sweep", "/dev/zero", "--no-progress"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    std::fs::write(d.join("zero-base.toml"), "base = \"/dev/zero\"\n").unwrap();
    let o = gradscope(&["sweep", "zero-base.toml", "--no-progress"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a regular file"),
        "{}",
        text(&o)
    );

    std::fs::create_dir(d.join("empty")).unwrap();
    let o = gradscope(&["merge", "empty", "--out", "m"], d);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a sweep folder"));

    write_sweep(d, 6);
    ok(&gradscope(
        &[
            "sweep",
            "tiny.toml",
            "--out",
            "a",
            "--shard",
            "0/2",
            "--no-progress",
        ],
        d,
    ));
    write_sweep(d, 7);
    ok(&gradscope(
        &[
            "sweep",
            "tiny.toml",
            "--out",
            "b",
            "--shard",
            "1/2",
            "--no-progress",
        ],
        d,
    ));
    let o = gradscope(&["merge", "a", "b", "--out", "m"], d);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another sweep"),
        "{}",
        text(&o)
    );
}

const LONG_RUN: &str = "[model]\ndepth = 3\nwidth = 16\n[data]\nname = \"gaussian\"\ndim = 8\n[train]\nsteps = 1000000\n";

/// Two writers into one run folder: the second is refused at once with exit 7, and the first
/// finishes undisturbed.
#[test]
fn a_second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("long.toml"), LONG_RUN).unwrap();
    let first = spawn(
        &["run", "long.toml", "--out", "same", "-q", "--no-report"],
        d,
    );
    wait_until("the first run to start", Duration::from_secs(60), || {
        some_run_started(d)
    });
    let second = gradscope(
        &["run", "long.toml", "--seed", "2", "--out", "same", "-q"],
        d,
    );
    assert_eq!(second.status.code(), Some(7), "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another gradscope process"), "{err}");
    assert!(err.contains(&first.id().to_string()), "{err}");
    kill(Pid::from_raw(first.id() as i32), Signal::SIGINT).unwrap();
    let out = finish(first, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(130));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("same/summary.json")).unwrap()).unwrap();
    assert_eq!(s["seeds"]["init"], 0, "the second writer's seed got in");

    // Two sweeps into one folder: the same.
    write_sweep(d, 400);
    let sweep = spawn(&["sweep", "tiny.toml", "--out", "s", "--no-progress"], d);
    wait_until("the sweep to start", Duration::from_secs(60), || {
        some_run_started(&d.join("s/runs"))
    });
    let other = gradscope(&["sweep", "tiny.toml", "--out", "s", "--no-progress"], d);
    assert_eq!(other.status.code(), Some(7), "{}", text(&other));
    killpg(Pid::from_raw(sweep.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(
        finish(sweep, Duration::from_secs(60)).status.code(),
        Some(130)
    );
}

/// A rerun killed midway leaves the previous run whole (its summary, config and metrics
/// together), never the new config beside the old summary.
#[test]
fn a_rerun_killed_midway_leaves_the_old_run_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("short.toml"),
        "[model]\ndepth = 2\nwidth = 8\n[data]\nname = \"gaussian\"\ndim = 4\n[train]\nsteps = 5\nsignal_window = 2\n",
    )
    .unwrap();
    ok(&gradscope(&["run", "short.toml", "--out", "r", "-q"], d));
    let before: Vec<(String, Vec<u8>)> = ["summary.json", "config.toml", "metrics.jsonl"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(d.join("r").join(f)).unwrap()))
        .collect();
    let child = spawn(
        &[
            "run",
            "short.toml",
            "--out",
            "r",
            "--set",
            "train.steps=1000000",
            "-q",
        ],
        d,
    );
    wait_until("the rerun to start", Duration::from_secs(60), || {
        some_run_started(d)
    });
    std::thread::sleep(Duration::from_millis(300));
    killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    let _ = finish(child, Duration::from_secs(30));
    for (f, bytes) in &before {
        assert_eq!(&std::fs::read(d.join("r").join(f)).unwrap(), bytes, "{f}");
    }
    // The next writer cleans up what the killed one left, and replaces the run whole.
    ok(&gradscope(
        &[
            "run",
            "short.toml",
            "--out",
            "r",
            "--seed",
            "3",
            "-q",
            "--no-report",
        ],
        d,
    ));
    assert!(!some_run_started(d), "{:?}", names(d));
    assert!(
        !d.join("r/report.html").exists(),
        "an old file survived the swap"
    );
    let s = std::fs::read_to_string(d.join("r/summary.json")).unwrap();
    assert!(s.contains("\"init\": 3"), "{s}");
}

/// An `--out` that cannot be written is found before the first step (the run here would never end).
#[test]
fn an_unwritable_out_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("long.toml"), LONG_RUN).unwrap();
    std::fs::write(d.join("file"), "not a folder").unwrap();
    let child = spawn(&["run", "long.toml", "--out", "file/x", "-q"], d);
    let out = finish(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    // A folder the user already has is never taken for a run's.
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/notes.txt"), "precious").unwrap();
    let out = finish(
        spawn(&["run", "long.toml", "--out", "mine", "-q"], d),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(d.join("mine/notes.txt").exists());
}

/// SIGTERM is Ctrl-C: the run writes what it recorded and exits 130; a second signal while it
/// stops does not throw that away.
#[test]
fn sigterm_and_a_second_signal_still_write_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("long.toml"), LONG_RUN).unwrap();
    let child = spawn(
        &["run", "long.toml", "--out", "out", "-q", "--no-report"],
        d,
    );
    wait_until("the run to start", Duration::from_secs(60), || {
        some_run_started(d)
    });
    std::thread::sleep(Duration::from_millis(500));
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGTERM).unwrap();
    let _ = kill(pid, Signal::SIGINT);
    let out = finish(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(s["status"], "interrupted");
    assert!(s["steps_completed"].as_u64().unwrap() > 0);
}

/// Sizes that cannot fit are refused before anything is built, with the estimate and the limit
/// (exit 3), instead of an allocator abort (exit 134); thread counts have a ceiling.
#[test]
fn sizes_that_cannot_fit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), "[data]\nname = \"gaussian\"\ndim = 8\n").unwrap();
    let o = gradscope(&["run", "c.toml", "--set", "model.width=100000", "-q"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("needs about") && err.contains("available"),
        "{err}"
    );
    let o = gradscope(&["bench", "--depth", "2", "--width", "1000000000"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = gradscope(&["--max-memory", "1M", "inspect", "c.toml"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-memory"));
    let o = gradscope(&["--threads", "100000", "run", "c.toml"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = gradscope(&["run", "c.toml", "--set", "train.threads=100000"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

/// A reader that goes away (`| head`) ends the command quietly with exit 0, never a panic.
#[test]
fn broken_pipes_end_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("c.toml"),
        "[model]\ndepth = 2\nwidth = 8\n[data]\nname = \"gaussian\"\ndim = 4\n[train]\nsteps = 3\nsignal_window = 2\n",
    )
    .unwrap();
    for args in [
        vec!["chain", "--depth", "1000", "--w", "0.8"],
        vec!["inspect", "c.toml", "--json", "--seeds", "1"],
        vec!["config", "--defaults"],
        vec!["run", "c.toml", "--json", "--no-report", "--out", "r"],
        vec![
            "bench", "--depth", "2", "--width", "8", "--steps", "2", "--warmup", "0",
        ],
    ] {
        let mut child = command(&args, d)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Config files with ordinary names (spaces, brackets, '=', non-ASCII) load: the experiment's
/// default name is made folder-safe instead of failing validation.
#[test]
fn ordinary_config_file_names_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in ["my net (v2)=.toml", "a b.toml", "é.toml", "ネット.toml"] {
        std::fs::write(d.join(name), "[data]\nname = \"gaussian\"\n").unwrap();
        ok(&gradscope(&["config", name], d));
    }
    // /dev/zero as a config is refused at once, not read into gigabytes.
    let o = gradscope(&["config", "/dev/zero"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}
