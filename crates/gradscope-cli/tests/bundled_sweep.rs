//! The bundled sweeps tell their lessons, and the README quotes them as the sweeps print them:
//! the depth-4 plain net learns, the depth-64 plain net does not, the residual and
//! batch-normalised nets learn at every depth; every recurrent cell learns the adding problem at
//! T = 10, at T = 100 only the gated ones; the depth-32 plain conv net does not learn, the conv
//! ResNet does at every depth.

mod common;

use common::{gradscope, repo};

/// The lines of the architecture × depth table in `text`, from its header to the first blank
/// line.
fn pivot(text: &str) -> Vec<String> {
    tables(text).into_iter().next().unwrap_or_default()
}

/// Every architecture × depth (or × T) table in `text`, each from its header to the first blank
/// line or code fence.
fn tables(text: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .filter(|&i| lines[i].starts_with("architecture \\ "))
        .map(|i| {
            lines[i..]
                .iter()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("```"))
                .map(|l| l.trim_end().to_string())
                .collect()
        })
        .collect()
}

/// Runs the bundled sweep `file` to its end with two jobs; the printed pivot.
fn sweep(file: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let sweep = repo().join("configs").join(file);
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
    pivot(&String::from_utf8_lossy(&o.stdout))
}

/// The README quotes `printed`, cell for cell, as one of its tables.
fn assert_readme_quotes(printed: &[String]) {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        tables(&readme).iter().any(|t| t == printed),
        "README.md quotes another table: {printed:#?}"
    );
}

/// The row of `printed` that starts with `name`, split into its cells' words.
fn row(printed: &[String], name: &str) -> Vec<String> {
    printed
        .iter()
        .find(|l| l.starts_with(&format!("{name}  ")))
        .unwrap_or_else(|| panic!("no row {name}: {printed:#?}"))
        .trim_start_matches(name)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The adding problem through time: each cell's verdict and test MSE at T = 10, 50, 100. Every
/// cell learns at T = 10; at T = 100 the tanh RNN stays near the constant prediction's 1/6 (not
/// below 1/8) while the LSTM and GRU reach a tenth of it (1/60), and the README quotes the table.
#[test]
fn rnn_vs_lstm_separates_by_length_as_the_readme_says() {
    let printed = sweep("rnn-vs-lstm.toml");
    assert_eq!(printed.len(), 4, "header and three cells: {printed:#?}");
    assert!(
        printed[0]
            .split_whitespace()
            .eq(["architecture", "\\", "T", "10", "50", "100"])
    );
    for cell in ["tanh RNN", "LSTM", "GRU"] {
        let cells = row(&printed, cell);
        assert_eq!(cells.len(), 6, "{cell}: {cells:?}");
        assert_eq!(cells[0], "learning", "{cell} at T = 10: {cells:?}");
        let mse_100: f64 = cells[5].parse().unwrap();
        if cell == "tanh RNN" {
            assert_ne!(cells[4], "learning", "{cells:?}");
            assert!(mse_100 > 1.0 / 8.0, "{cells:?}");
        } else {
            assert_eq!(cells[4], "learning", "{cell}: {cells:?}");
            assert!(mse_100 < 1.0 / 60.0, "{cell}: {cells:?}");
        }
    }
    assert_readme_quotes(&printed);
}

/// Depth through convolutions: the depth-32 plain conv net does not learn, the pre-activation
/// ResNet with batch norm learns at every depth, and the README quotes the table.
#[test]
fn cnn_plain_vs_resnet_separates_by_depth_as_the_readme_says() {
    let printed = sweep("cnn-plain-vs-resnet.toml");
    assert_eq!(
        printed.len(),
        3,
        "header and two architectures: {printed:#?}"
    );
    let verdicts = |cells: Vec<String>| -> Vec<String> {
        cells
            .into_iter()
            .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect()
    };
    let plain = verdicts(row(&printed, "plain"));
    assert_eq!(plain.len(), 3, "{plain:?}");
    assert_eq!(plain[0], "learning", "{plain:?}");
    assert_ne!(plain[2], "learning", "depth 32: {plain:?}");
    let resnet = verdicts(row(&printed, "residual + batch norm"));
    assert_eq!(resnet, ["learning", "learning", "learning"], "{resnet:?}");
    assert_readme_quotes(&printed);
}

#[test]
fn plain_vs_resnet_separates_by_depth_as_the_readme_says() {
    let printed = sweep("plain-vs-resnet.toml");
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
