//! Sweeps through the real binary: sharding and merging, and resuming after SIGKILL.

mod common;

use common::{gradscope, write_sweep};

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn three_shards_merge_into_the_unsharded_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_sweep(d, 12);
    let full = gradscope(
        &[
            "sweep",
            "tiny.toml",
            "--out",
            "full",
            "--jobs",
            "2",
            "--no-progress",
        ],
        d,
    );
    ok(&full);
    // The terminal ends with the architecture × depth pivot, on stdout.
    let stdout = String::from_utf8_lossy(&full.stdout);
    let pivot: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("architecture \\ depth"))
        .take(4)
        .collect();
    assert_eq!(pivot.len(), 4, "{stdout}");
    assert!(
        pivot[0]
            .split_whitespace()
            .eq(["architecture", "\\", "depth", "2", "5"])
    );
    for (row, arch) in pivot[1..].iter().zip(["plain", "residual", "layer norm"]) {
        assert!(row.starts_with(arch), "{row}");
        assert_eq!(row.matches(" %").count(), 2, "{row}");
    }
    for i in 0..3 {
        ok(&gradscope(
            &[
                "sweep",
                "tiny.toml",
                "--out",
                &format!("shard{i}"),
                "--shard",
                &format!("{i}/3"),
                "--no-progress",
            ],
            d,
        ));
    }
    ok(&gradscope(
        &["merge", "shard0", "shard1", "shard2", "--out", "merged"],
        d,
    ));
    let full = std::fs::read_to_string(d.join("full/results.csv")).unwrap();
    let merged = std::fs::read_to_string(d.join("merged/results.csv")).unwrap();
    assert_eq!(full.lines().count(), 7, "{full}");
    assert_eq!(full, merged);
    // Each shard ran only its slice.
    let shard0 = std::fs::read_to_string(d.join("shard0/results.csv")).unwrap();
    assert_eq!(shard0.lines().count(), 3, "{shard0}");
    // Same config and seed in different processes: byte-identical records.
    let runs: Vec<_> = std::fs::read_dir(d.join("full/runs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !n.to_string_lossy().starts_with('.')) // locks of the run folders
        .collect();
    assert_eq!(runs.len(), 6, "{runs:?}");
    for r in runs {
        let a = std::fs::read(d.join("full/runs").join(&r).join("metrics.jsonl")).unwrap();
        let b = std::fs::read(d.join("merged/runs").join(&r).join("metrics.jsonl")).unwrap();
        assert_eq!(a, b, "{r:?}");
    }
}

#[test]
fn a_killed_sweep_resumes_without_losing_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_sweep(d, 150);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gradscope"))
        .args([
            "sweep",
            "tiny.toml",
            "--out",
            "s",
            "--jobs",
            "1",
            "--no-progress",
            "-q",
        ])
        .current_dir(d)
        .spawn()
        .unwrap();
    let runs = d.join("s/runs");
    let started = Instant::now();
    let finished = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(&runs)
            .map(|it| {
                it.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .map(|e| e.path())
                    .filter(|p| p.join("summary.json").exists())
                    .collect()
            })
            .unwrap_or_default();
        if !done.is_empty() {
            break done;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no run finished in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // SIGKILL the sweep: with --jobs 1 it runs in-process, so the run it is in the middle of dies
    // with it. (Never signal a process group here: a mistaken group can be the test runner's.)
    child.kill().unwrap();
    let _ = child.wait();
    let before: Vec<(PathBuf, Vec<u8>)> = finished
        .iter()
        .map(|p| (p.clone(), std::fs::read(p.join("summary.json")).unwrap()))
        .collect();
    // Whatever is there is either a whole summary or none.
    for e in std::fs::read_dir(&runs).unwrap().flatten() {
        let s = e.path().join("summary.json");
        if s.exists() {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&s).unwrap())
                .expect("a complete summary");
        }
    }
    ok(&gradscope(
        &["sweep", "tiny.toml", "--out", "s", "--no-progress"],
        d,
    ));
    let table = std::fs::read_to_string(d.join("s/results.csv")).unwrap();
    assert_eq!(table.lines().count(), 7, "{table}");
    for (p, bytes) in before {
        assert_eq!(
            std::fs::read(p.join("summary.json")).unwrap(),
            bytes,
            "a finished run was redone"
        );
    }
}

/// The bundled sweep file with its numbers made small (`edits` applied to its text), run to its
/// end in `d`: the printed pivot's lines (header first) and the report's scale figure as SVG.
fn bundled_sweep_in_miniature(
    d: &std::path::Path,
    file: &str,
    edits: &[(&str, &str)],
) -> (Vec<String>, String) {
    let mut text = std::fs::read_to_string(common::repo().join("configs").join(file)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{file} no longer has {from:?}");
        text = text.replace(from, to);
    }
    // A `base` path resolves against the sweep file's folder: keep the copy beside the original.
    let configs = common::repo().join("configs");
    text = text.replace(
        "base = \"",
        &format!("base = \"{}/", configs.to_str().unwrap()),
    );
    std::fs::write(d.join(file), text).unwrap();
    let o = gradscope(
        &["sweep", file, "--out", "s", "--jobs", "2", "--no-progress"],
        d,
    );
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let pivot = stdout
        .lines()
        .skip_while(|l| !l.starts_with("architecture \\"))
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("results:"))
        .map(str::to_string)
        .collect();
    let svg = std::fs::read_to_string(d.join("s/plots/depth.svg")).unwrap();
    (pivot, svg)
}

/// `configs/rnn-vs-lstm.toml`, short: its pivot has one column per sequence length T and one
/// row per cell under its label, and its report opens with the figure against T (test MSE, the
/// ratio through time). The full sweep's numbers are quoted in the README.
#[test]
fn the_bundled_recurrent_sweep_pivots_on_the_sequence_length() {
    let dir = tempfile::tempdir().unwrap();
    let (pivot, svg) = bundled_sweep_in_miniature(
        dir.path(),
        "rnn-vs-lstm.toml",
        &[
            ("steps = 800", "steps = 12"),
            ("record_every = 20", "record_every = 4"),
            ("eval_every = 400", "eval_every = 6"),
            ("length = 10\n", "length = 10\nn_train = 256\nn_test = 64\n"),
            (
                "\"data.length\" = [10, 50, 100]",
                "\"data.length\" = [3, 6]",
            ),
        ],
    );
    assert_eq!(pivot.len(), 4, "{pivot:?}");
    assert!(
        pivot[0]
            .split_whitespace()
            .eq(["architecture", "\\", "T", "3", "6"]),
        "{pivot:?}"
    );
    for (row, label) in pivot[1..].iter().zip(["tanh RNN", "LSTM", "GRU"]) {
        assert!(row.starts_with(label), "{row}");
    }
    assert!(svg.contains("Final test MSE by length"), "left panel");
    assert!(svg.contains("sequence length T"), "x axis");
    assert!(svg.contains("Gradient ratio through time"), "right panel");
}

/// `configs/cnn-plain-vs-resnet.toml`, short: plain and residual conv nets by depth, with the
/// depth figure of test accuracy.
#[test]
fn the_bundled_conv_sweep_pivots_on_depth() {
    let dir = tempfile::tempdir().unwrap();
    let (pivot, svg) = bundled_sweep_in_miniature(
        dir.path(),
        "cnn-plain-vs-resnet.toml",
        &[
            ("\"train.steps\" = 400", "\"train.steps\" = 8"),
            ("\"train.record_every\" = 20", "\"train.record_every\" = 4"),
            ("\"train.eval_every\" = 200", "\"train.eval_every\" = 4"),
            ("\"model.depth\" = [4, 16, 32]", "\"model.depth\" = [1, 2]"),
        ],
    );
    assert_eq!(pivot.len(), 3, "{pivot:?}");
    assert!(
        pivot[0]
            .split_whitespace()
            .eq(["architecture", "\\", "depth", "1", "2"]),
        "{pivot:?}"
    );
    assert!(pivot[1].starts_with("plain"), "{pivot:?}");
    assert!(pivot[2].starts_with("residual + batch norm"), "{pivot:?}");
    assert!(svg.contains("Final test accuracy by depth"), "left panel");
}
