//! `run --tensorboard` writes its event files as it records, so that `tensorboard --logdir`
//! follows a run in progress; the finished files hold exactly the run's records.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{command, gradscope, repo, write_sweep};

/// The real arm's event file anywhere under `dir` (the staging folder while the run is on).
fn real_event_file(dir: &Path) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).ok()?.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.ends_with("tensorboard/real/events.out.tfevents.0.gradscope") {
                return Some(p);
            }
        }
    }
    None
}

#[test]
fn event_files_grow_while_the_run_is_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/digits-plain-deep.toml");
    let mut child = command(
        &[
            "run",
            config.to_str().unwrap(),
            "--out",
            "out",
            "--tensorboard",
            "--no-progress",
            "--no-report",
            "-q",
            "--set",
            "train.steps=20000",
        ],
        dir.path(),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut sizes: Vec<u64> = Vec::new();
    while sizes.len() < 3 {
        if let Some(len) = real_event_file(dir.path())
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            && sizes.last() != Some(&len)
        {
            sizes.push(len);
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before its event file grew three times: {sizes:?}");
        }
        assert!(Instant::now() < deadline, "no growth in 300 s: {sizes:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !dir.path().join("out/summary.json").exists(),
        "the run had finished"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The finished run's event files are those written from its `metrics.jsonl` at once.
#[test]
fn finished_event_files_hold_the_run_records() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(dir.path(), 30);
    // The sweep fixture's base config, run alone.
    let text = std::fs::read_to_string(&sweep).unwrap();
    let base = text
        .split("[axes]")
        .next()
        .unwrap()
        .replace("name = \"tiny\"\n", "")
        .replace("[base]\n", "")
        .replace("[base.", "[");
    std::fs::write(dir.path().join("one.toml"), base).unwrap();
    let o = gradscope(
        &[
            "run",
            "one.toml",
            "--out",
            "out",
            "--tensorboard",
            "--no-progress",
            "--no-report",
            "-q",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("out");
    let text = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let records = gradscope_record::read_jsonl(text.as_bytes(), "metrics.jsonl").unwrap();
    let again = tempfile::tempdir().unwrap();
    let written = gradscope_report::write_tensorboard(again.path(), &records).unwrap();
    assert_eq!(written.len(), 2, "real and baseline");
    for path in written {
        let rel = path.strip_prefix(again.path()).unwrap();
        assert_eq!(
            std::fs::read(out.join(rel)).unwrap(),
            std::fs::read(&path).unwrap(),
            "{}",
            rel.display()
        );
    }
}
