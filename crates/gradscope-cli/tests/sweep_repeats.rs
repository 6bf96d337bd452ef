//! `repeats = N` through the real binary: every configuration runs once per seed, the CSV keeps
//! one row per run, and `results.md`, the terminal's pivot and the report pool the repeats.

mod common;

use common::{gradscope, write_sweep};

#[test]
fn repeats_run_each_configuration_per_seed_and_the_tables_pool_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = write_sweep(d, 10);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("repeats = 2\n{text}")).unwrap();
    let o = gradscope(
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
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stdout: {stdout}\nstderr: {stderr}");

    // 6 configurations × 2 seeds, one CSV row each, seeds 1 and 2 (the base's seed is 1).
    let csv = std::fs::read_to_string(d.join("s/results.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 13, "{csv}");
    let seed = rows[0]
        .iter()
        .position(|h| *h == "seed")
        .expect("a seed column");
    let seeds: Vec<&str> = rows[1..].iter().map(|r| r[seed]).collect();
    assert_eq!(seeds, ["1", "2"].repeat(6), "{csv}");
    // The runs' names end in their seed, and each run was trained with it.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("s/sweep.json")).unwrap()).unwrap();
    for run in manifest["runs"].as_array().unwrap() {
        let id = run["id"].as_str().unwrap();
        let s: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.join("s/runs").join(id).join("summary.json")).unwrap(),
        )
        .unwrap();
        let seed = run["values"]["seed"].as_str().unwrap();
        assert!(
            s["name"]
                .as_str()
                .unwrap()
                .ends_with(&format!("_seed-{seed}")),
            "{s}"
        );
        assert_eq!(s["seeds"]["init"].to_string(), seed);
        assert_eq!(s["seeds"]["data"], 0, "the data seed stays the same");
    }

    // The pivot: one row per architecture, each cell its two seeds' verdicts counted and the
    // accuracy as mean ± sd.
    let pivot: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("architecture \\ depth"))
        .take(4)
        .collect();
    assert_eq!(pivot.len(), 4, "{stdout}");
    assert!(
        pivot[0]
            .split_whitespace()
            .eq(["architecture", "\\", "depth", "2", "5"]),
        "{stdout}"
    );
    for (row, arch) in pivot[1..].iter().zip(["plain", "residual", "layer norm"]) {
        assert!(row.starts_with(arch), "{row}");
        assert!(!row.contains("seed"), "{row}");
        let counts = row.matches("/2 ").count();
        assert!(counts >= 2, "two cells, each with n/2 counts: {row}");
        assert!(row.contains("2/2 ") || row.contains("1/2 "), "{row}");
        assert_eq!(row.matches(" ± ").count(), 2, "{row}");
    }
    // results.md: the configurations first, then every run.
    let md = std::fs::read_to_string(d.join("s/results.md")).unwrap();
    assert!(md.starts_with("## By configuration"), "{md}");
    assert_eq!(md.matches("| 1, 2 |").count(), 6, "{md}");
    assert!(md.contains("## Runs"), "{md}");
    // The report opens with the depth figure.
    let html = std::fs::read_to_string(d.join("s/report.html")).unwrap();
    let depth = html.find("data-plot=\"depth\"").expect("a depth figure");
    assert_eq!(html.find("data-plot=\""), Some(depth), "the first figure");
    assert!(d.join("s/plots/depth.png").is_file());

    // Unchanged, the sweep reuses all twelve runs.
    let again = gradscope(&["sweep", "tiny.toml", "--out", "s", "--no-progress"], d);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("12 reused"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
