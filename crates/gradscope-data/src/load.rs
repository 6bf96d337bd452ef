//! [`load()`]: from a [`DataSpec`] to a [`Dataset`], and the CSV parser behind the file-based sets.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::dataset::{Dataset, Split, Targets, Task};
use crate::error::{DataError, Result};
use crate::rng::SeededRng;
use crate::spec::{CsvTask, DataSpec, MAX_CLASSES};
use crate::synthetic;

// The bundled data travels inside the binary, so a run works from any folder.
const DIGITS_GZ: &[u8] = include_bytes!("../../../data/digits.csv.gz");
const MNIST1D_TRAIN_GZ: &[u8] = include_bytes!("../../../data/mnist1d_train.csv.gz");
const MNIST1D_TEST_GZ: &[u8] = include_bytes!("../../../data/mnist1d_test.csv.gz");

const DIGITS_FEATURES: usize = 64;
const MNIST1D_FEATURES: usize = 40;
const DIGIT_CLASSES: usize = 10;

/// In `Auto` mode a target is taken for class labels only with at most this many distinct
/// values ...
const AUTO_MAX_DISTINCT: usize = 50;
/// ... all below this, so a column of years or ids is not mistaken for labels.
const AUTO_MAX_LABEL: f64 = 1000.0;

/// A parsed CSV file: the header's column names (if it has one) and the data rows.
pub type CsvTable = (Option<Vec<String>>, Vec<Vec<f64>>);

/// Loads the data set `spec` describes.
///
/// The spec is checked first ([`DataSpec::validate`]). `data_seed` drives everything the
/// synthetic sets (`gaussian`, `teacher`, `spirals`) draw: inputs, noise and the teacher's
/// weights. `digits` and `csv` are split by their own `split_seed` and ignore `data_seed`;
/// `mnist1d` draws nothing.
pub fn load(spec: &DataSpec, data_seed: u64) -> Result<Dataset> {
    spec.validate()?;
    match spec {
        &DataSpec::Gaussian {
            dim,
            outputs,
            n_train,
            n_test,
        } => Ok(synthetic_dataset(
            spec.name(),
            Task::Regression { outputs },
            synthetic::gaussian(dim, outputs, n_train, n_test, data_seed),
            format!(
                "{outputs} outputs, pure noise (targets independent of inputs), data seed {data_seed}"
            ),
        )),
        &DataSpec::Teacher {
            dim,
            outputs,
            depth,
            width,
            noise,
            n_train,
            n_test,
        } => Ok(synthetic_dataset(
            spec.name(),
            Task::Regression { outputs },
            synthetic::teacher(
                dim, outputs, depth, width, noise, n_train, n_test, data_seed,
            ),
            format!(
                "{outputs} outputs, tanh teacher with {depth} hidden layers of {width}, \
                 noise {noise}, data seed {data_seed}"
            ),
        )),
        &DataSpec::Spirals {
            arms,
            dim,
            noise,
            n_train,
            n_test,
        } => Ok(synthetic_dataset(
            spec.name(),
            Task::Classification { classes: arms },
            synthetic::spirals(arms, dim, noise, n_train, n_test, data_seed),
            format!(
                "{arms} classes, 2 spiral + {} noise dims, angle noise {noise}, data seed {data_seed}",
                dim - 2
            ),
        )),
        &DataSpec::Digits {
            test_fraction,
            split_seed,
        } => load_digits(test_fraction, split_seed),
        DataSpec::Mnist1d => load_mnist1d(),
        DataSpec::Csv {
            path,
            target,
            task,
            classes,
            test_fraction,
            split_seed,
            has_header,
        } => load_csv(
            path,
            target,
            *task,
            *classes,
            *test_fraction,
            *split_seed,
            *has_header,
        ),
    }
}

/// Parses a CSV file of numbers: the optional header's names and every data row.
///
/// Used for the bundled files and for users' files alike. Cells are split on commas, trimmed,
/// and may be wrapped in double quotes (no commas inside quotes). Rules, each with its error:
/// the text must be UTF-8 (`Parse`); every row has as many cells as the first (`Ragged`); every
/// data cell is a finite number (`Parse`, with line and column); trailing blank lines are
/// skipped but a blank line inside the data is a `Parse` error; no data rows is `Empty`. Lines
/// may end in `\n` or `\r\n`, and a leading UTF-8 byte-order mark is ignored. Data row `i`
/// (0-based) is on line `i + 1`, or `i + 2` with a header.
pub fn parse_csv_bytes(bytes: &[u8], path_for_errors: &str, has_header: bool) -> Result<CsvTable> {
    let path = path_for_errors;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        DataError::Parse {
            path: path.to_owned(),
            line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            column: before[line_start..].iter().filter(|&&b| b == b',').count() + 1,
            message: "the file is not UTF-8 text".to_owned(),
        }
    })?;
    // Spreadsheet programs like to start a CSV with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut lines: Vec<&str> = text.lines().collect();
    while lines.last().is_some_and(|line| line.trim().is_empty()) {
        lines.pop();
    }
    let mut numbered = lines.into_iter().enumerate().map(|(i, line)| (i + 1, line));

    let header = if has_header {
        let Some((_, line)) = numbered.next() else {
            return Err(DataError::Empty {
                path: path.to_owned(),
            });
        };
        Some(
            line.split(',')
                .map(|cell| unquote(cell).to_owned())
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };

    let mut expected = header.as_ref().map(Vec::len);
    let mut rows = Vec::new();
    for (line, text) in numbered {
        if text.trim().is_empty() {
            return Err(DataError::Parse {
                path: path.to_owned(),
                line,
                column: 1,
                message: "blank line inside the data (only blank lines at the end are skipped)"
                    .to_owned(),
            });
        }
        let cells: Vec<&str> = text.split(',').collect();
        let expected = *expected.get_or_insert(cells.len());
        if cells.len() != expected {
            return Err(DataError::Ragged {
                path: path.to_owned(),
                line,
                expected,
                found: cells.len(),
            });
        }
        let row = cells
            .iter()
            .enumerate()
            .map(|(c, cell)| parse_cell(cell, path, line, c + 1, has_header))
            .collect::<Result<Vec<f64>>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    }
    Ok((header, rows))
}

/// A cell without surrounding spaces and one pair of surrounding double quotes.
fn unquote(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .map_or(cell, str::trim)
}

fn parse_cell(cell: &str, path: &str, line: usize, column: usize, has_header: bool) -> Result<f64> {
    let text = unquote(cell);
    let problem = match text.parse::<f64>() {
        Ok(value) if value.is_finite() => return Ok(value),
        Ok(_) => format!("expected a finite number, found {text:?}"),
        Err(_) if text.is_empty() => "expected a number, found an empty cell".to_owned(),
        Err(_) => format!("expected a number, found {text:?}"),
    };
    // Words on the first line of a file read without a header are most likely column names.
    let hint = if line == 1 && !has_header {
        "; if the first row names the columns, set has_header"
    } else {
        ""
    };
    Err(DataError::Parse {
        path: path.to_owned(),
        line,
        column,
        message: format!("{problem}{hint}"),
    })
}

/// Decompresses one of the bundled files and parses it (no header).
fn embedded_rows(gz: &[u8], name: &str) -> Result<Vec<Vec<f64>>> {
    let mut bytes = Vec::new();
    GzDecoder::new(gz)
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            path: name.into(),
            source,
        })?;
    let (_, rows) = parse_csv_bytes(&bytes, name, false)?;
    Ok(rows)
}

/// Checks that a bundled table has the expected width (a guard against a wrong file).
fn expect_width(rows: &[Vec<f64>], name: &str, width: usize) -> Result<()> {
    match rows.first() {
        Some(row) if row.len() == width => Ok(()),
        _ => Err(DataError::Ragged {
            path: name.to_owned(),
            line: 1,
            expected: width,
            found: rows.first().map_or(0, Vec::len),
        }),
    }
}

fn load_digits(test_fraction: f64, split_seed: u64) -> Result<Dataset> {
    let name = "digits.csv.gz (bundled)";
    let rows = embedded_rows(DIGITS_GZ, name)?;
    expect_width(&rows, name, DIGITS_FEATURES + 1)?;
    let (labels, classes) = class_labels(&rows, DIGITS_FEATURES, Some(DIGIT_CLASSES), name, 1)?;
    let all = table_split(&rows, DIGITS_FEATURES, Targets::Classes(labels));
    let [mut train, mut test] = shuffle_split(&all, test_fraction, split_seed);
    standardise(&mut train, &mut test);
    let description = format!(
        "digits: {} train / {} test, {DIGITS_FEATURES} features, {classes} classes, \
         shuffle split seed {split_seed}, standardised on train",
        train.n, test.n
    );
    Ok(Dataset {
        name: "digits".to_owned(),
        task: Task::Classification { classes },
        input_dim: DIGITS_FEATURES,
        train,
        test,
        description,
    })
}

fn load_mnist1d() -> Result<Dataset> {
    // The generator already standardised the features, and the split is the published one,
    // so both parts are used exactly as shipped.
    let part = |gz: &[u8], name: &str| -> Result<Split> {
        let rows = embedded_rows(gz, name)?;
        expect_width(&rows, name, MNIST1D_FEATURES + 1)?;
        let (labels, _) = class_labels(&rows, MNIST1D_FEATURES, Some(DIGIT_CLASSES), name, 1)?;
        Ok(table_split(
            &rows,
            MNIST1D_FEATURES,
            Targets::Classes(labels),
        ))
    };
    let train = part(MNIST1D_TRAIN_GZ, "mnist1d_train.csv.gz (bundled)")?;
    let test = part(MNIST1D_TEST_GZ, "mnist1d_test.csv.gz (bundled)")?;
    let description = format!(
        "mnist1d: {} train / {} test, {MNIST1D_FEATURES} features, {DIGIT_CLASSES} classes, \
         fixed split as shipped, features standardised by the generator",
        train.n, test.n
    );
    Ok(Dataset {
        name: "mnist1d".to_owned(),
        task: Task::Classification {
            classes: DIGIT_CLASSES,
        },
        input_dim: MNIST1D_FEATURES,
        train,
        test,
        description,
    })
}

fn load_csv(
    path: &Path,
    target: &str,
    task: CsvTask,
    classes: Option<usize>,
    test_fraction: f64,
    split_seed: u64,
    has_header: bool,
) -> Result<Dataset> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (header, rows) = parse_csv_bytes(&bytes, &shown, has_header)?;
    let columns = rows.first().map_or(0, Vec::len);
    let target_col = resolve_target(header.as_deref(), target, columns, &shown)?;
    if columns < 2 {
        return Err(DataError::invalid(
            "target",
            format!("{target:?}"),
            &format!("{shown} has a single column, which leaves no features"),
        ));
    }
    let first_line = 1 + usize::from(has_header);

    let values: Vec<f64> = rows.iter().map(|row| row[target_col]).collect();
    let classify = match task {
        CsvTask::Classification => true,
        CsvTask::Regression => false,
        CsvTask::Auto => classes.is_some() || looks_like_labels(&values),
    };
    let (targets, task_found) = if classify {
        let (labels, classes) = class_labels(&rows, target_col, classes, &shown, first_line)?;
        (Targets::Classes(labels), Task::Classification { classes })
    } else {
        let values = values.iter().map(|&v| v as f32).collect();
        (Targets::Values(values), Task::Regression { outputs: 1 })
    };

    let all = table_split(&rows, target_col, targets);
    let [mut train, mut test] = shuffle_split(&all, test_fraction, split_seed);
    standardise(&mut train, &mut test);

    let name = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("csv")
        .to_owned();
    let target_name = header
        .as_ref()
        .and_then(|names| names.get(target_col).cloned())
        .unwrap_or_else(|| format!("column {target_col}"));
    let detected = if task == CsvTask::Auto {
        ", detected"
    } else {
        ""
    };
    let description = format!(
        "{name}: {} train / {} test, {} features, target {target_name:?} ({task_found}{detected}), \
         shuffle split seed {split_seed}, standardised on train",
        train.n, test.n, all.dim
    );
    Ok(Dataset {
        name,
        task: task_found,
        input_dim: all.dim,
        train,
        test,
        description,
    })
}

/// The 0-based index of the target column: a header name, a 0-based index (without a header)
/// or `last`.
fn resolve_target(
    header: Option<&[String]>,
    target: &str,
    columns: usize,
    path: &str,
) -> Result<usize> {
    let wanted = target.trim();
    let found = match header {
        Some(names) => names.iter().position(|name| name == wanted),
        None => wanted.parse::<usize>().ok().filter(|&i| i < columns),
    };
    match found {
        Some(index) => Ok(index),
        None if wanted == "last" && columns > 0 => Ok(columns - 1),
        None => Err(DataError::MissingTarget {
            path: path.to_owned(),
            target: target.to_owned(),
            available: match header {
                Some(names) => names.to_vec(),
                None => (0..columns).map(|i| i.to_string()).collect(),
            },
        }),
    }
}

/// Whether `Auto` should treat these target values as class labels.
fn looks_like_labels(values: &[f64]) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    for &v in values {
        if !((0.0..AUTO_MAX_LABEL).contains(&v) && v.fract() == 0.0) {
            return false;
        }
        seen.insert(v as u32);
        if seen.len() > AUTO_MAX_DISTINCT {
            return false;
        }
    }
    true
}

/// Column `column` of every row as class labels, and the number of classes (`classes`, or the
/// largest label + 1). Data row `i` is reported as line `first_line + i`.
fn class_labels(
    rows: &[Vec<f64>],
    column: usize,
    classes: Option<usize>,
    path: &str,
    first_line: usize,
) -> Result<(Vec<u32>, usize)> {
    let limit = classes.unwrap_or(MAX_CLASSES);
    let mut labels = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let label = row[column];
        if !(label >= 0.0 && label.fract() == 0.0) {
            return Err(DataError::Parse {
                path: path.to_owned(),
                line: first_line + i,
                column: column + 1,
                message: format!("expected a non-negative integer class label, found {label}"),
            });
        }
        if label >= limit as f64 {
            return Err(DataError::LabelOutOfRange {
                path: path.to_owned(),
                line: first_line + i,
                column: column + 1,
                label,
                classes: limit,
            });
        }
        // Below `limit` ≤ MAX_CLASSES, so the conversion is exact.
        labels.push(label as u32);
    }
    let classes = classes.unwrap_or_else(|| labels.iter().max().map_or(0, |&m| m as usize + 1));
    Ok((labels, classes))
}

/// All rows as one split: every column but `target_col` is a feature.
fn table_split(rows: &[Vec<f64>], target_col: usize, targets: Targets) -> Split {
    let dim = rows.first().map_or(0, |row| row.len().saturating_sub(1));
    let mut x = Vec::with_capacity(rows.len() * dim);
    for row in rows {
        x.extend(
            row.iter()
                .enumerate()
                .filter(|&(c, _)| c != target_col)
                .map(|(_, &v)| v as f32),
        );
    }
    Split {
        n: rows.len(),
        dim,
        x,
        targets,
    }
}

/// Rows held out for a test fraction: rounded, and at least one (but not all) when n ≥ 2.
fn test_rows(n: usize, fraction: f64) -> usize {
    if n < 2 {
        return 0;
    }
    ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
}

/// Splits `all` into `[train, test]` by a seeded shuffle; each part keeps the file's row order.
fn shuffle_split(all: &Split, fraction: f64, seed: u64) -> [Split; 2] {
    let n_test = test_rows(all.n, fraction);
    let mut order = SeededRng::new(seed).permutation(all.n);
    let (test, train) = order.split_at_mut(n_test);
    test.sort_unstable();
    train.sort_unstable();
    let subset = |indices: &[usize]| {
        let (x, targets) = all.gather(indices);
        Split {
            n: indices.len(),
            dim: all.dim,
            x,
            targets,
        }
    };
    [subset(train), subset(test)]
}

/// Standardises every feature with the train split's mean and (population) standard deviation,
/// applied to both splits. A feature constant on the train split is only centred: there is no
/// scale to divide by.
fn standardise(train: &mut Split, test: &mut Split) {
    let dim = train.dim;
    if train.n == 0 || dim == 0 {
        return;
    }
    for j in 0..dim {
        let column = || train.x.iter().skip(j).step_by(dim).map(|&v| f64::from(v));
        let mean = column().sum::<f64>() / train.n as f64;
        let first = train.x[j];
        let constant = train.x.iter().skip(j).step_by(dim).all(|&v| v == first);
        let scale = if constant {
            1.0
        } else {
            let var = column().map(|v| (v - mean).powi(2)).sum::<f64>() / train.n as f64;
            1.0 / var.sqrt()
        };
        for split in [&mut *train, &mut *test] {
            for v in split.x.iter_mut().skip(j).step_by(dim) {
                *v = ((f64::from(*v) - mean) * scale) as f32;
            }
        }
    }
}

fn synthetic_dataset(
    name: &str,
    task: Task,
    [train, test]: [Split; 2],
    details: String,
) -> Dataset {
    let description = format!(
        "{name}: {} train / {} test, {} features, {details}",
        train.n, test.n, train.dim
    );
    Dataset {
        name: name.to_owned(),
        task,
        input_dim: train.dim,
        train,
        test,
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str, has_header: bool) -> String {
        parse_csv_bytes(text.as_bytes(), "t.csv", has_header)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_headers_quotes_crlf_and_trailing_blanks() {
        let text = "\u{feff}a, \"b\" ,c\r\n1, 2.5 ,\"3\"\r\n-4,5e1,6\r\n\r\n  \n";
        let (header, rows) = parse_csv_bytes(text.as_bytes(), "t.csv", true).unwrap();
        assert_eq!(header.unwrap(), vec!["a", "b", "c"]);
        assert_eq!(rows, vec![vec![1.0, 2.5, 3.0], vec![-4.0, 50.0, 6.0]]);
    }

    #[test]
    fn parse_errors_point_at_the_cell() {
        assert_eq!(
            parse_err("1,2\n3,abc\n", false),
            "t.csv:2:2: expected a number, found \"abc\""
        );
        assert_eq!(
            parse_err("x,y\n1,2\n3,nan\n", true),
            "t.csv:3:2: expected a finite number, found \"nan\""
        );
        assert_eq!(
            parse_err("1,2\n3,\n", false),
            "t.csv:2:2: expected a number, found an empty cell"
        );
        assert_eq!(
            parse_err("1,2\n\n3,4\n", false),
            "t.csv:2:1: blank line inside the data (only blank lines at the end are skipped)"
        );
        assert!(parse_err("x,y\n1,2\n", false).contains("set has_header"));
        assert_eq!(
            parse_err("1,2\n3\n", false),
            "t.csv:2: expected 2 cells (as in the first row), found 1"
        );
        assert_eq!(parse_err("", false), "t.csv: the file has no data rows");
        assert_eq!(
            parse_err("a,b\n\n", true),
            "t.csv: the file has no data rows"
        );
        let bad_utf8 = parse_csv_bytes(b"1,2\n3,\xff\n", "t.csv", false)
            .unwrap_err()
            .to_string();
        assert_eq!(bad_utf8, "t.csv:2:2: the file is not UTF-8 text");
    }

    #[test]
    fn targets_resolve_by_name_index_or_last() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(resolve_target(Some(&names), "b", 2, "t").unwrap(), 1);
        assert_eq!(resolve_target(Some(&names), "last", 2, "t").unwrap(), 1);
        assert_eq!(resolve_target(None, "0", 2, "t").unwrap(), 0);
        assert_eq!(resolve_target(None, "last", 2, "t").unwrap(), 1);
        let e = resolve_target(None, "2", 2, "t").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t: no target column \"2\"; available: 0, 1 (or \"last\")"
        );
    }

    #[test]
    fn auto_detection() {
        assert!(looks_like_labels(&[0.0, 2.0, 1.0, 2.0]));
        assert!(!looks_like_labels(&[0.0, 0.5]));
        assert!(!looks_like_labels(&[0.0, -1.0]));
        assert!(!looks_like_labels(&[1990.0, 2000.0]));
        let many: Vec<f64> = (0..51).map(f64::from).collect();
        assert!(!looks_like_labels(&many));
        assert!(looks_like_labels(&many[..50]));
    }

    #[test]
    fn test_fraction_rounds_and_keeps_both_sides() {
        assert_eq!(test_rows(1797, 0.2), 359);
        assert_eq!(test_rows(10, 0.01), 1);
        assert_eq!(test_rows(10, 0.99), 9);
        assert_eq!(test_rows(1, 0.5), 0);
    }

    #[test]
    fn standardise_uses_train_statistics() {
        let mut train = Split {
            n: 2,
            dim: 2,
            x: vec![1.0, 5.0, 3.0, 5.0],
            targets: Targets::Classes(vec![0, 1]),
        };
        let mut test = Split {
            n: 1,
            dim: 2,
            x: vec![4.0, 7.0],
            targets: Targets::Classes(vec![0]),
        };
        standardise(&mut train, &mut test);
        // Column 0: mean 2, std 1. Column 1: constant 5, centred only.
        assert_eq!(train.x, vec![-1.0, 0.0, 1.0, 0.0]);
        assert_eq!(test.x, vec![2.0, 2.0]);
    }
}
