//! The bundled sweep tells the lesson, and the README quotes it as the sweep prints it: the
//! depth-4 plain net learns, the depth-64 plain net does not, the residual and batch-normalised
//! nets learn at every depth.

mod common;

use common::{gradscope, repo};

/// The lines of the architecture × depth table in `text`, from its header to the first blank
/// line.
fn pivot(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("architecture \\ depth"))
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("```"))
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn plain_vs_resnet_separates_by_depth_as_the_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = repo().join("configs/plain-vs-resnet.toml");
    let o = gradscope(
        &[
            "sweep",
            sweep.to_str().unwrap(),
            "--jobs",
            "2",
            "--out",
            "s",
            "--no-progress",
            "-q",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed = pivot(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        printed.len(),
        6,
        "header and five architectures: {printed:#?}"
    );
    let row = |name: &str| {
        printed
            .iter()
            .find(|l| l.starts_with(&format!("{name}  ")))
            .unwrap_or_else(|| panic!("no row {name}: {printed:#?}"))
            .clone()
    };
    // The lesson, in the verdicts: depth 4, 16, 64 left to right.
    let verdicts = |line: String| -> Vec<String> {
        line.split_whitespace()
            .filter(|w| {
                ["learning", "bias_only", "indistinguishable", "diverged"]
                    .iter()
                    .any(|v| w.contains(v))
            })
            .map(str::to_string)
            .collect()
    };
    let plain = verdicts(row("plain"));
    assert!(plain[0].contains("learning"), "{plain:?}");
    assert!(!plain[2].contains("learning"), "{plain:?}");
    for arch in ["residual", "batch norm"] {
        let v = verdicts(row(arch));
        assert!(v.iter().all(|x| x.contains("learning")), "{arch}: {v:?}");
    }
    // The README's table is this one, cell for cell.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert_eq!(pivot(&readme), printed, "README.md quotes another table");
}
