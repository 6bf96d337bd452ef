//! The tables (`results.csv`, `results.md`) and the report of a sweep folder, and merging the
//! folders of a sharded sweep.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gradscope_record::{Summary, Verdict};
use gradscope_report::RunData;

use super::file::SEED_KEY;
use super::manifest::{Manifest, SweepRun, run_dir, scale_key};
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
    if !keys.iter().any(|k| k == SEED_KEY) {
        // Every row names its model seed, varied or not.
        header.push(SEED_KEY.into());
    }
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
    let mut md = md_table(&header, &md_lines);
    if keys.iter().any(|k| k == SEED_KEY) {
        // Repeats: first one row per configuration (mean ± sd over its seeds), then every run.
        md = format!(
            "## By configuration\n\nRepeats of a configuration are its runs that differ only in \
             `{SEED_KEY}`: verdicts counted, numbers as mean ± sample sd over them, \
             first_to_last_ratio as their geometric mean.\n\n{}\n## Runs\n\n{md}",
            grouped_md(rows, keys)
        );
    }
    (csv, md)
}

/// A Markdown table of `header` and `lines`.
fn md_table(header: &[String], lines: &[Vec<String>]) -> String {
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
    let mut md = md_row(header);
    md.push_str(&format!(
        "|{}|\n",
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    ));
    for l in lines {
        md.push_str(&md_row(l));
    }
    md
}

/// A run's configuration: its axis values without the model seed. Runs of one configuration are
/// repeats of each other.
fn configuration(values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    values
        .iter()
        .filter(|(k, _)| *k != SEED_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Items grouped by `key`, groups in the order their first item comes, items in their order.
fn group_by<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<Vec<T>> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items {
        let k = key(&item);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, items)) => items.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups.into_iter().map(|(_, items)| items).collect()
}

/// Mean and sample standard deviation (`None` for a single value) of `xs`; `None` when empty.
fn mean_sd(xs: &[f64]) -> Option<(f64, Option<f64>)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.len() > 1)
        .then(|| (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((mean, sd))
}

/// Verdicts as counts, the most frequent first (ties in the order learning, bias_only,
/// indistinguishable, diverged, none): `3/3 learning`, `2/3 learning, 1/3 bias_only`.
fn verdict_counts(verdicts: &[Option<Verdict>]) -> String {
    let counts = gradscope_record::verdict_tally(verdicts);
    counts
        .iter()
        .map(|(n, v)| {
            format!(
                "{n}/{} {}",
                verdicts.len(),
                v.map_or("no verdict", |v| v.name())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Accuracies (fractions) as a percentage, mean ± sd over repeats: `93.1 ± 0.4 %`, or `93.3 %`
/// for one. Non-finite values are left out; `None` when none is left.
fn accuracy_text(accuracies: &[f64]) -> Option<String> {
    let finite: Vec<f64> = accuracies
        .iter()
        .filter(|a| a.is_finite())
        .map(|a| 100.0 * a)
        .collect();
    mean_sd(&finite).map(|(m, sd)| match sd {
        Some(sd) => format!("{m:.1} ± {sd:.1} %"),
        None => format!("{m:.1} %"),
    })
}

/// Values as mean ± sd with three significant figures (non-finite ones left out).
fn mean_sd_text(xs: &[f64]) -> String {
    let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    match mean_sd(&finite) {
        Some((m, Some(sd))) => format!(
            "{} ± {}",
            gradscope_record::format_sig(m, 3),
            gradscope_record::format_sig(sd, 3)
        ),
        Some((m, None)) => gradscope_record::format_sig(m, 3),
        None => String::new(),
    }
}

/// The geometric mean of the positive, finite values, three significant figures.
fn geometric_mean_text(xs: &[f64]) -> String {
    let logs: Vec<f64> = xs
        .iter()
        .filter(|x| x.is_finite() && **x > 0.0)
        .map(|x| x.log10())
        .collect();
    mean_sd(&logs).map_or(String::new(), |(m, _)| {
        gradscope_record::format_sig(10f64.powf(m), 3)
    })
}

/// The seeds of a group of runs: `1, 2, 3`.
fn seeds_text(rows: &[&Row<'_>]) -> String {
    rows.iter()
        .map(|r| r.summary.seeds.init.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `results.md`'s table of configurations: one row per configuration, its repeats pooled.
fn grouped_md(rows: &[Row<'_>], keys: &[String]) -> String {
    let keys: Vec<&String> = keys.iter().filter(|k| *k != SEED_KEY).collect();
    let mut header: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    header.extend(
        [
            "runs",
            "seeds",
            "verdicts",
            "test_accuracy % (mean ± sd)",
            "test_loss (mean ± sd)",
            "first_to_last_ratio (geometric mean)",
        ]
        .map(String::from),
    );
    let mut lines = Vec::new();
    for group in group_by(rows, |r| configuration(&r.run.values)) {
        let first = group[0];
        let mut cells: Vec<String> = keys
            .iter()
            .map(|k| {
                first
                    .run
                    .values
                    .get(*k)
                    .map_or("", |v| v.trim_matches('"'))
                    .to_string()
            })
            .collect();
        let summaries: Vec<&Summary> = group.iter().map(|r| &r.summary).collect();
        cells.push(group.len().to_string());
        cells.push(seeds_text(&group));
        cells.push(verdict_counts(
            &summaries.iter().map(|s| s.verdict).collect::<Vec<_>>(),
        ));
        cells.push(
            accuracy_text(
                &summaries
                    .iter()
                    .filter_map(|s| s.finals.real.test_accuracy.map(|a| a.get()))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_default(),
        );
        cells.push(mean_sd_text(
            &summaries
                .iter()
                .map(|s| s.finals.real.test_loss.get())
                .collect::<Vec<_>>(),
        ));
        cells.push(geometric_mean_text(
            &summaries
                .iter()
                .filter_map(|s| s.diagnosis.evidence.first_to_last_ratio.map(|r| r.get()))
                .collect::<Vec<_>>(),
        ));
        lines.push(cells);
    }
    md_table(&header, &lines)
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
        if !keys.iter().any(|k| k == SEED_KEY) {
            cells.push(s.seeds.init.to_string());
        }
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

/// A run's name in a report: its architecture, then every other axis value (`plain · depth 4`,
/// `residual + layer norm · depth 64 · seed 2`).
fn run_label(manifest: &Manifest, values: &std::collections::BTreeMap<String, String>) -> String {
    let mut label = manifest.architecture(values);
    if let Some((name, d)) =
        scale_key(values.keys()).and_then(|(key, name)| Some((name, values.get(key)?)))
    {
        label.push_str(&format!(" · {name} {}", d.trim_matches('"')));
    }
    if let Some(s) = values.get(SEED_KEY) {
        label.push_str(&format!(" · seed {}", s.trim_matches('"')));
    }
    label
}

/// The lesson at a glance, for the terminal when a sweep ends: one row per architecture (the
/// axis values other than the scale key and `seed`), one column per value of the scale key
/// (`model.depth`, or else `data.length`: see [`scale_key`]), each cell the verdict and the test
/// accuracy (or test loss). Where the sweep repeats configurations over seeds, a cell pools its
/// repeats: the verdicts counted (`2/3 learning, 1/3 bias_only`) and the number as mean ± sample
/// sd over them. `None` when the sweep varies neither depth nor length.
pub fn pivot(out: &Path) -> Result<Option<String>> {
    let manifest = Manifest::read(out)?;
    let Some((scale, scale_name)) = scale_key(&manifest.keys) else {
        return Ok(None);
    };
    let repeats = manifest.keys.iter().any(|k| k == SEED_KEY);
    let column_of = |r: &SweepRun| {
        r.values
            .get(scale)
            .and_then(|d| d.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let mut columns: Vec<usize> = manifest.runs.iter().map(column_of).collect();
    columns.sort_unstable();
    columns.dedup();
    let mut archs: Vec<String> = Vec::new();
    for r in &manifest.runs {
        let a = manifest.architecture(&r.values);
        if !archs.contains(&a) {
            archs.push(a);
        }
    }
    let done = manifest.done_runs(out);
    let cell = |arch: &str, column: usize| {
        let here =
            |r: &SweepRun| column_of(r) == column && manifest.architecture(&r.values) == arch;
        let planned = manifest.runs.iter().filter(|r| here(r)).count();
        let summaries: Vec<&Summary> = done
            .iter()
            .filter(|(r, _)| here(r))
            .map(|(_, s)| s)
            .collect();
        pivot_cell(&summaries, planned, repeats)
    };
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once(format!("architecture \\ {scale_name}"))
            .chain(columns.iter().map(|d| d.to_string()))
            .collect(),
    ];
    for a in &archs {
        rows.push(
            std::iter::once(a.clone())
                .chain(columns.iter().map(|&d| cell(a, d)))
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

/// One cell of the [`pivot`]: `-` without a finished run; for one run without repeats its
/// verdict and test accuracy (`learning 93.3 %`, or the test loss); with repeats (or several
/// runs in the cell) the verdicts counted and the accuracy as mean ± sample sd over the runs
/// (`2/3 learning, 1/3 bias_only 61.2 ± 30.1 %`), and how many of the `planned` runs finished
/// when not all did.
fn pivot_cell(summaries: &[&Summary], planned: usize, repeats: bool) -> String {
    let Some(first) = summaries.first() else {
        return "-".to_string();
    };
    if summaries.len() == 1 && !repeats {
        let verdict = first.verdict.map_or("-", |v| v.name());
        return match first.finals.real.test_accuracy {
            Some(a) => format!("{verdict} {:.1} %", 100.0 * a.get()),
            None => format!(
                "{verdict} {}",
                gradscope_record::format_sig(first.finals.real.test_loss.get(), 3)
            ),
        };
    }
    let verdicts = verdict_counts(&summaries.iter().map(|s| s.verdict).collect::<Vec<_>>());
    let accuracies: Vec<f64> = summaries
        .iter()
        .filter_map(|s| s.finals.real.test_accuracy.map(|a| a.get()))
        .collect();
    let number = accuracy_text(&accuracies).unwrap_or_else(|| {
        format!(
            "loss {}",
            mean_sd_text(
                &summaries
                    .iter()
                    .map(|s| s.finals.real.test_loss.get())
                    .collect::<Vec<_>>()
            )
        )
    });
    let missing = if summaries.len() < planned {
        format!(" ({} of {planned} runs)", summaries.len())
    } else {
        String::new()
    };
    format!("{verdicts} {number}{missing}")
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
                run.label = Some(run_label(&manifest, &r.values));
                run.family = Some(manifest.architecture(&r.values));
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
    use crate::sweep::manifest::architecture;

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
        // Repeats of one architecture are one architecture.
        assert_eq!(
            architecture(&v(&[("model.residual", "true"), ("seed", "3")])),
            "residual"
        );
    }

    /// A finished run's summary with the given verdict, test accuracy and first-to-last ratio.
    fn summary(verdict: Option<Verdict>, accuracy: Option<f64>, ratio: f64, seed: u64) -> Summary {
        use gradscope_record::{Diagnosis, DiagnosisKind, Evidence, FinalMetrics, Real};
        let finals = FinalMetrics {
            train_loss: Real(0.3),
            test_loss: Real(0.4),
            test_accuracy: None,
            train_accuracy: None,
        };
        // From JSON, so that fields with defaults need not be named here.
        let json = serde_json::json!({
            "schema_version": 2, "name": "r", "config_hash": "h", "status": "completed",
            "interrupted": false,
            "diagnosis": Diagnosis {
                kind: DiagnosisKind::Healthy,
                evidence: Evidence::default(),
                remedies: vec![],
            },
            "final": { "real": finals, "baseline": finals },
            "depth": 2, "steps_completed": 1, "steps_planned": 1, "steps_per_second": 1.0,
            "wall_time_s": 1.0, "seeds": { "init": 0, "data": 0 }, "device": "cpu",
            "dataset": "d", "loss": "l", "model": "m",
            "versions": { "gradscope": "0", "burn": "0", "summary_schema": 2, "record_schema": 1 },
        });
        let mut s = Summary::from_json(&json.to_string(), "summary.json").unwrap();
        s.verdict = verdict;
        s.finals.real.test_accuracy = accuracy.map(gradscope_record::Real);
        s.diagnosis.evidence.first_to_last_ratio = Some(gradscope_record::Real(ratio));
        s.seeds.init = seed;
        s
    }

    #[test]
    fn repeats_are_counted_and_averaged() {
        use Verdict::*;
        assert_eq!(
            verdict_counts(&[Some(Learning), Some(Learning), Some(Learning)]),
            "3/3 learning"
        );
        assert_eq!(
            verdict_counts(&[Some(BiasOnly), Some(Learning), Some(Learning)]),
            "2/3 learning, 1/3 bias_only"
        );
        assert_eq!(
            verdict_counts(&[None, Some(Indistinguishable)]),
            "1/2 indistinguishable, 1/2 no verdict"
        );
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(m, 2.5);
        assert!((sd.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd(&[2.0]), Some((2.0, None)));
        assert_eq!(mean_sd(&[]), None);
        assert_eq!(
            accuracy_text(&[0.9, 0.92, 0.94]).as_deref(),
            Some("92.0 ± 2.0 %")
        );
        assert_eq!(accuracy_text(&[0.933]).as_deref(), Some("93.3 %"));
        assert_eq!(
            accuracy_text(&[f64::NAN, 0.5]).as_deref(),
            Some("50.0 %"),
            "non-finite values are left out"
        );
        assert_eq!(accuracy_text(&[]), None);
        assert_eq!(geometric_mean_text(&[1e-4, 1e-6, 0.0]), "1.00e-5");
    }

    #[test]
    fn pivot_cells_pool_repeats() {
        use Verdict::*;
        let a = summary(Some(Learning), Some(0.9), 0.5, 1);
        let b = summary(Some(Learning), Some(0.94), 0.5, 2);
        let c = summary(Some(BiasOnly), Some(0.1), 0.5, 3);
        // Without repeats: as before.
        assert_eq!(pivot_cell(&[&a], 1, false), "learning 90.0 %");
        assert_eq!(pivot_cell(&[], 1, false), "-");
        // With repeats: counted, mean ± sd.
        assert_eq!(pivot_cell(&[&a, &b], 2, true), "2/2 learning 92.0 ± 2.8 %");
        assert_eq!(
            pivot_cell(&[&a, &b, &c], 3, true),
            "2/3 learning, 1/3 bias_only 64.7 ± 47.4 %"
        );
        assert_eq!(
            pivot_cell(&[&a], 2, true),
            "1/1 learning 90.0 % (1 of 2 runs)"
        );
        // Regression: the test loss instead.
        let r = summary(Some(Learning), None, 0.5, 1);
        assert!(pivot_cell(&[&r, &r], 2, true).starts_with("2/2 learning loss "));
    }

    #[test]
    fn results_md_groups_repeats_and_the_csv_keeps_every_run() {
        use Verdict::*;
        let v = |depth: &str, seed: &str| {
            [("model.depth", depth), ("seed", seed)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let runs: Vec<SweepRun> = [("2", "1"), ("2", "2"), ("5", "1"), ("5", "2")]
            .iter()
            .enumerate()
            .map(|(index, (d, s))| SweepRun {
                index,
                id: format!("{index:04}-x"),
                values: v(d, s),
                config_hash: String::new(),
            })
            .collect();
        let summaries = [
            summary(Some(Learning), Some(0.9), 0.5, 1),
            summary(Some(Learning), Some(0.8), 0.5, 2),
            summary(Some(Learning), Some(0.7), 1e-4, 1),
            summary(Some(BiasOnly), Some(0.1), 1e-6, 2),
        ];
        let rows: Vec<Row<'_>> = runs
            .iter()
            .zip(summaries)
            .map(|(run, summary)| Row { run, summary })
            .collect();
        let keys = vec!["model.depth".to_string(), "seed".to_string()];
        let (csv, md) = table(&rows, &keys);
        assert_eq!(csv.lines().count(), 5, "{csv}");
        assert!(
            csv.starts_with("index,id,model.depth,seed,status,"),
            "{csv}"
        );
        assert!(md.starts_with("## By configuration"), "{md}");
        assert!(
            md.contains("| 2 | 2 | 1, 2 | 2/2 learning | 85.0 ± 7.1 % |"),
            "{md}"
        );
        assert!(
            md.contains("| 5 | 2 | 1, 2 | 1/2 learning, 1/2 bias_only | 40.0 ± 42.4 % |"),
            "{md}"
        );
        assert!(
            md.contains("| 1.00e-5 |"),
            "geometric mean of the ratios: {md}"
        );
        assert!(md.contains("## Runs"), "{md}");
        // Without a seed axis: one row per run, and the seed column still there.
        let keys = vec!["model.depth".to_string()];
        let (csv, md) = table(&rows[..1], &keys);
        assert!(
            csv.starts_with("index,id,model.depth,seed,status,"),
            "{csv}"
        );
        assert!(
            csv.lines().nth(1).unwrap().starts_with("0,0000-x,2,1,"),
            "{csv}"
        );
        assert!(
            md.starts_with("| index | id | model.depth | seed |"),
            "{md}"
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
