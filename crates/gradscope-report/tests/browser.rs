//! Opens a report in headless Chromium, when one is on PATH: the page loads without console
//! errors, its DOM holds every plot, and a screenshot is written (the test's artifact, kept in
//! `CARGO_TARGET_TMPDIR`). Without Chromium the test says so and passes.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gradscope_report::{RunData, plot_names, write_report};

/// How long one Chromium invocation may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The first of the usual Chromium commands found on PATH.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The output of one Chromium run.
struct Output {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// Runs `chromium` with `args`, killing it after [`TIMEOUT`].
fn run(chromium: &Path, args: &[String]) -> Output {
    let mut child = Command::new(chromium)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", chromium.display()));
    // Drain both pipes on threads: the dumped DOM is large.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    Output {
        success: status.is_some_and(|s| s.success()),
        status: status.map_or_else(|| format!("timed out after {TIMEOUT:?}"), |s| s.to_string()),
        stdout,
        stderr,
    }
}

/// Console messages in Chromium's log (`…:INFO:CONSOLE:1] "Uncaught Error: boom", source: …`).
/// This Chromium logs every console message at INFO, whatever its level, so the level cannot be
/// told from the log; the report has no script, so any console message at all (an uncaught
/// exception, a refused or failed load) is an error here.
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("CONSOLE")).collect()
}

/// Files Chromium loaded other than the report itself (the report must need none).
fn other_file_loads<'a>(stderr: &'a str, report: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter_map(|l| {
            l.split_once("FileURLLoader::Start: ")
                .map(|(_, url)| url.trim())
        })
        .filter(|url| !url.ends_with(report))
        .collect()
}

fn common_args(profile: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--hide-scrollbars".into(),
        "--enable-logging=stderr".into(),
        "--v=1".into(),
        format!("--user-data-dir={}", profile.display()),
    ]
}

#[test]
fn report_opens_in_headless_chromium() {
    let runs: Vec<RunData> = common::all_runs();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-report");
    let _ = std::fs::remove_dir_all(&out_dir);
    let files = write_report(&out_dir, &runs).unwrap();
    let names = plot_names(&runs);
    println!("report: {}", files.html.display());

    let Some(chromium) = find_chromium() else {
        println!("skipped: no chromium on PATH (install Debian's chromium)");
        return;
    };
    println!("browser: {}", chromium.display());
    let url = format!("file://{}", files.html.canonicalize().unwrap().display());

    // 1. The DOM after loading.
    let profile = tempfile::tempdir().unwrap();
    let mut args = common_args(profile.path());
    args.push("--dump-dom".into());
    args.push(url.clone());
    let dom = run(&chromium, &args);
    assert!(
        dom.success,
        "chromium --dump-dom: {}\n{}",
        dom.status,
        tail(&dom.stderr)
    );
    assert!(
        dom.stdout.contains("</html>"),
        "no DOM dumped:\n{}",
        tail(&dom.stderr)
    );
    for name in &names {
        assert!(
            dom.stdout.contains(&format!("id=\"plot-{name}\"")),
            "plot {name} missing from the DOM"
        );
    }
    assert_eq!(dom.stdout.matches("data-plot=\"").count(), names.len());
    assert_eq!(dom.stdout.matches("<svg").count(), names.len());
    let errors = console_messages(&dom.stderr);
    assert!(
        errors.is_empty(),
        "console messages:\n{}",
        errors.join("\n")
    );
    let loads = other_file_loads(&dom.stderr, "report.html");
    assert!(loads.is_empty(), "the report loaded other files: {loads:?}");

    // 2. A screenshot of the page.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let mut args = common_args(profile.path());
    args.push(format!("--screenshot={}", shot.display()));
    args.push("--window-size=1280,4000".into());
    args.push(url);
    let shot_run = run(&chromium, &args);
    assert!(
        shot_run.success,
        "chromium --screenshot: {}\n{}",
        shot_run.status,
        tail(&shot_run.stderr)
    );
    let errors = console_messages(&shot_run.stderr);
    assert!(
        errors.is_empty(),
        "console messages:\n{}",
        errors.join("\n")
    );
    let len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(len > 0, "no screenshot at {}", shot.display());
    println!("screenshot: {} ({len} bytes)", shot.display());
}

/// A sweep over depth (two architectures at depths 4 and 16, two seeds each) opens in Chromium
/// with the depth figure as the page's first figure, before the other plots and the overview.
#[test]
fn a_sweep_report_opens_with_the_depth_figure_in_chromium() {
    let mut runs: Vec<RunData> = Vec::new();
    for (family, depth, accuracy) in [
        ("plain", 4, 0.6),
        ("plain", 16, 0.1),
        ("residual", 4, 0.9),
        ("residual", 16, 0.92),
    ] {
        for seed in 0..2u64 {
            let mut run = common::vanishing_run();
            run.summary.name = format!("{family}-{depth}_seed-{seed}");
            run.summary.depth = depth;
            run.summary.seeds.init = seed;
            run.summary.finals.real.test_accuracy =
                Some(gradscope_record::Real(accuracy + 0.01 * seed as f64));
            run.dir = format!("runs/{}", run.summary.name).into();
            run.family = Some(family.to_string());
            runs.push(run);
        }
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-sweep-report");
    let _ = std::fs::remove_dir_all(&out_dir);
    let files = write_report(&out_dir, &runs).unwrap();
    assert_eq!(plot_names(&runs)[0], "depth");
    let Some(chromium) = find_chromium() else {
        println!("skipped: no chromium on PATH (install Debian's chromium)");
        return;
    };
    let url = format!("file://{}", files.html.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().unwrap();
    let mut args = common_args(profile.path());
    args.push("--dump-dom".into());
    args.push(url);
    let dom = run(&chromium, &args);
    assert!(
        dom.success,
        "chromium --dump-dom: {}\n{}",
        dom.status,
        tail(&dom.stderr)
    );
    let first = dom.stdout.find("<figure").expect("figures in the DOM");
    assert!(
        dom.stdout[first..].starts_with("<figure class=\"plot\" id=\"plot-depth\""),
        "the first figure is not the depth figure: {}",
        &dom.stdout[first..(first + 120).min(dom.stdout.len())]
    );
    assert!(first < dom.stdout.find("id=\"overview\"").unwrap());
    assert_eq!(dom.stdout.matches("data-plot=\"depth\"").count(), 1);
    let errors = console_messages(&dom.stderr);
    assert!(
        errors.is_empty(),
        "console messages:\n{}",
        errors.join("\n")
    );
}

/// The last lines of a log, for failure messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn log_lines_are_recognised() {
    // Lines as this Chromium writes them for a page with an error and an image.
    let log = "[1:2:1129/062240.608980:VERBOSE1:content/browser/loader/file_url_loader_factory.cc:477] FileURLLoader::Start: file:///tmp/r/report.html\n\
               [1:2:1129/062240.608980:VERBOSE1:content/browser/loader/file_url_loader_factory.cc:477] FileURLLoader::Start: file:///tmp/r/missing.png\n\
               [1:1:1129/062240.620027:INFO:CONSOLE:1] \"bad thing\", source: file:///tmp/r/report.html (1)\n\
               [1:1:1129/062240.626153:INFO:CONSOLE:1] \"Uncaught Error: boom\", source: file:///tmp/r/report.html (1)\n\
               [1:2:1129/062245.245789:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n";
    assert_eq!(console_messages(log).len(), 2);
    assert_eq!(
        other_file_loads(log, "report.html"),
        vec!["file:///tmp/r/missing.png"]
    );
}
