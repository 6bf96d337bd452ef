//! The tables (`results.csv`, `results.md`) and the report of a sweep folder, and merging the
//! folders of a sharded sweep.

use std::path::{Path, PathBuf};

use gradscope_record::Summary;
use gradscope_report::RunData;

use super::manifest::{Manifest, SweepRun, run_dir};
use crate::error::{Error, Result};
use crate::folder::{FolderLock, RunFolder};
use crate::output::write_atomic;

/// A finished run as a table row.
struct Row<'a> {
    run: &'a SweepRun,
    summary: Summary,
}

/// A table cell for Markdown: the pipe escaped, and HTML made inert, because Markdown renderers
/// pass raw HTML through (a CSV header such as `<img src=x onerror=…>` would run in a viewer).
fn md_cell(c: &str) -> String {
    let mut out = String::with_capacity(c.len());
    for ch in c.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Every digit, for `results.csv` (a file that programs read).
fn full(v: Option<f64>) -> String {
    v.map(gradscope_record::format_real).unwrap_or_default()
}

/// Three significant figures, for `results.md` and the terminal (what people read).
fn short(v: Option<f64>) -> String {
    v.map(|x| gradscope_record::format_sig(x, 3))
        .unwrap_or_default()
}

fn table(rows: &[Row<'_>], keys: &[String]) -> (String, String) {
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
    let csv_lines = lines(rows, keys, full);
    let md_lines = lines(rows, keys, short);
    let csv_cell = |c: &String| {
        if c.contains([',', '"', '\n']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c.clone()
        }
    };
    let mut csv = header.iter().map(csv_cell).collect::<Vec<_>>().join(",") + "\n";
    for l in &csv_lines {
        csv.push_str(&(l.iter().map(csv_cell).collect::<Vec<_>>().join(",") + "\n"));
    }
    let md_row = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells
                .iter()
                .map(|c| md_cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    };
    let mut md = md_row(&header);
    md.push_str(&format!(
        "|{}|\n",
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    ));
    for l in &md_lines {
        md.push_str(&md_row(l));
    }
    (csv, md)
}

/// The table's rows as text, numbers written by `num`.
fn lines(rows: &[Row<'_>], keys: &[String], num: fn(Option<f64>) -> String) -> Vec<Vec<String>> {
    let mut lines: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let s = &r.summary;
        let e = &s.diagnosis.evidence;
        let mut cells = vec![r.run.index.to_string(), r.run.id.clone()];
        cells.extend(keys.iter().map(|k| {
            r.run
                .values
                .get(k)
                .cloned()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string()
        }));
        cells.push(format!("{:?}", s.status).to_lowercase());
        cells.push(s.diagnosis.kind.name().to_string());
        cells.push(num(e.per_layer_rate.map(|x| x.get())));
        cells.push(num(e.first_to_last_ratio.map(|x| x.get())));
        cells.push(num(s.learning_signal.as_ref().map(|l| l.z.get())));
        cells.push(s.verdict.map_or(String::new(), |v| v.name().to_string()));
        cells.push(num(Some(s.finals.real.train_loss.get())));
        cells.push(num(Some(s.finals.real.test_loss.get())));
        cells.push(num(s.finals.real.test_accuracy.map(|x| x.get())));
        cells.push(num(s.finals.baseline.map(|b| b.test_loss.get())));
        cells.push(num(s
            .finals
            .baseline
            .and_then(|b| b.test_accuracy)
            .map(|x| x.get())));
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
    lines
}

/// A readable name for an architecture from its axis values (all but depth): `plain`,
/// `residual`, `batch norm`, `residual + layer norm`; other keys as `activation relu`.
fn architecture(values: &std::collections::BTreeMap<String, String>) -> String {
    let mut parts = Vec::new();
    for (k, v) in values {
        let v = v.trim_matches('"');
        match (k.as_str(), v) {
            ("model.depth", _) | ("model.residual", "false") | ("model.norm", "none") => {}
            ("model.residual", "true") => parts.push("residual".to_string()),
            ("model.norm", "rms") => parts.push("RMS norm".to_string()),
            ("model.norm", n) => parts.push(format!("{n} norm")),
            (k, v) => parts.push(format!("{} {v}", k.rsplit('.').next().unwrap_or(k))),
        }
    }
    // Residual first, then normalisation, then the rest, whatever the keys' order.
    parts.sort_by_key(|p| (!p.starts_with("residual"), !p.ends_with("norm")));
    if parts.is_empty() {
        "plain".into()
    } else {
        parts.join(" + ")
    }
}

/// The lesson at a glance, for the terminal when a sweep ends: one row per architecture (the
/// axis values other than `model.depth`), one column per depth, each cell the verdict and the
/// test accuracy (or test loss). `None` when the sweep has no `model.depth` axis.
pub fn pivot(out: &Path) -> Result<Option<String>> {
    let manifest = Manifest::read(out)?;
    if !manifest.keys.iter().any(|k| k == "model.depth") {
        return Ok(None);
    }
    let depth_of = |r: &SweepRun| {
        r.values
            .get("model.depth")
            .and_then(|d| d.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let mut depths: Vec<usize> = manifest.runs.iter().map(depth_of).collect();
    depths.sort_unstable();
    depths.dedup();
    let mut archs: Vec<String> = Vec::new();
    for r in &manifest.runs {
        let a = architecture(&r.values);
        if !archs.contains(&a) {
            archs.push(a);
        }
    }
    let done = manifest.done_runs(out);
    let cell = |arch: &str, depth: usize| {
        done.iter()
            .find(|(r, _)| depth_of(r) == depth && architecture(&r.values) == arch)
            .map_or("-".to_string(), |(_, s)| {
                let verdict = s.verdict.map_or("-", |v| v.name());
                match s.finals.real.test_accuracy {
                    Some(a) => format!("{verdict} {:.1} %", 100.0 * a.get()),
                    None => format!(
                        "{verdict} {}",
                        gradscope_record::format_sig(s.finals.real.test_loss.get(), 3)
                    ),
                }
            })
    };
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("architecture \\ depth".to_string())
            .chain(depths.iter().map(|d| d.to_string()))
            .collect(),
    ];
    for a in &archs {
        rows.push(
            std::iter::once(a.clone())
                .chain(depths.iter().map(|&d| cell(a, d)))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    Ok(Some(text))
}

/// Writes `results.csv` and `results.md` of the finished runs of the sweep in `out` (as its
/// `sweep.json` defines it: runs of an earlier definition are left out); returns their number.
pub fn write_tables(out: &Path) -> Result<usize> {
    let manifest = Manifest::read(out)?;
    let rows: Vec<Row<'_>> = manifest
        .done_runs(out)
        .into_iter()
        .map(|(run, summary)| Row { run, summary })
        .collect();
    let (csv, md) = table(&rows, &manifest.keys);
    write_atomic(&out.join("results.csv"), csv.as_bytes())?;
    write_atomic(&out.join("results.md"), md.as_bytes())?;
    Ok(rows.len())
}

/// The runs a report of `dir` shows: a sweep folder's finished runs (as its `sweep.json` defines
/// them), or every run folder found under `dir`.
pub fn report_runs(dir: &Path) -> Result<Vec<RunData>> {
    if !dir.join(super::manifest::MANIFEST_FILE).is_file() {
        return Ok(gradscope_report::find_runs(dir)?);
    }
    let manifest = Manifest::read(dir)?;
    // Each run's family is its architecture (the axis values other than depth), so that the
    // report colours one architecture alike at every depth.
    let runs = manifest
        .done_runs(dir)
        .into_iter()
        .map(|(r, _)| {
            gradscope_report::load_run(&run_dir(dir, &r.id)).map(|mut run| {
                run.family = Some(architecture(&r.values));
                run
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if runs.is_empty() {
        return Err(gradscope_report::ReportError::NoRuns {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    Ok(runs)
}

/// Draws the plots and `report.html` of the runs of `dir` (see [`report_runs`]).
pub fn write_report(dir: &Path) -> Result<PathBuf> {
    let runs = report_runs(dir)?;
    Ok(gradscope_report::write_report(dir, &runs)?.html)
}

/// Merges shard folders of one sweep into `out`: copies their finished runs (each swapped into
/// place whole) and configs, and writes the manifest, the tables (equal, byte for byte, to those
/// of the same sweep run unsharded) and the report. The folders must hold the same sweep (the
/// same `sweep.json` runs); a merge that finds no finished run is an error.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize> {
    let manifests = dirs
        .iter()
        .map(|d| Manifest::read(d))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = manifests.first() else {
        return Err(Error::Usage("merge: name at least one sweep folder".into()));
    };
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        if m.runs != first.runs || m.keys != first.keys {
            return Err(Error::Invalid {
                path: d.clone(),
                message: format!(
                    "holds another sweep than {} (its runs or configs differ): only shards of \
                     one sweep can be merged",
                    dirs[0].display()
                ),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let _lock = FolderLock::acquire(&out.join(".sweep.lock"), out)?;
    // Which runs each folder has finished, read once per folder.
    let done: Vec<Vec<String>> = dirs
        .iter()
        .zip(&manifests)
        .map(|(d, m)| {
            m.done_runs(d)
                .into_iter()
                .map(|(r, _)| r.id.clone())
                .collect()
        })
        .collect();
    let mut merged = 0;
    for run in &first.runs {
        let from = dirs
            .iter()
            .zip(&done)
            .find_map(|(d, ids)| ids.contains(&run.id).then_some(d));
        let Some(from) = from else { continue };
        merged += 1;
        let config = format!("{}.toml", run.id);
        let config_from = from.join("configs").join(&config);
        if let Ok(bytes) = std::fs::read(&config_from) {
            write_atomic(&out.join("configs").join(&config), &bytes)?;
        }
        let (src, dest) = (run_dir(from, &run.id), run_dir(out, &run.id));
        if same_folder(&src, &dest) {
            continue;
        }
        let folder = RunFolder::open(&dest)?;
        copy_tree(&src, folder.staging())?;
        folder.commit()?;
    }
    if merged == 0 {
        return Err(Error::Invalid {
            path: dirs[0].clone(),
            message: format!(
                "no finished run in {}: nothing to merge",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    first.write(out)?;
    write_tables(out)?;
    write_report(out)?;
    Ok(merged)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|e| Error::io(from, e))?;
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

    #[test]
    fn architectures_are_named_from_their_axis_values() {
        let v = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        assert_eq!(
            architecture(&v(&[
                ("model.depth", "4"),
                ("model.residual", "false"),
                ("model.norm", "\"none\"")
            ])),
            "plain"
        );
        assert_eq!(
            architecture(&v(&[
                ("model.norm", "\"layer\""),
                ("model.residual", "true")
            ])),
            "residual + layer norm"
        );
        assert_eq!(
            architecture(&v(&[
                ("model.activation", "\"relu\""),
                ("model.norm", "\"batch\"")
            ])),
            "batch norm + activation relu"
        );
    }

    #[test]
    fn markdown_cells_carry_no_live_html() {
        assert_eq!(
            md_cell("<img src=x onerror=alert(1)>|a"),
            "&lt;img src=x onerror=alert(1)&gt;\\|a"
        );
        assert_eq!(md_cell("a & b\nc"), "a &amp; b c");
    }
}
