//! [`load()`]: from a [`DataSpec`] to a [`Dataset`], and the CSV parser behind the file-based sets.

use std::path::Path;

use flate2::read::GzDecoder;

use crate::dataset::{Dataset, Split, Targets, Task};
use crate::error::{DataError, Result};
use crate::rng::SeededRng;
use crate::spec::{CsvTarget, CsvTask, DataSpec, MAX_CLASSES};
use crate::synthetic;
use crate::table::MAX_CSV_BYTES;
use crate::table::{CsvReader, Limits, Table, read_table};

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

/// Fewest training rows a CSV file's split may leave: 2. One row has no spread to standardise
/// the features by, and every batch would be that row, so neither the baseline's noise band nor
/// the gradient statistics would mean anything.
pub const MIN_TRAIN_ROWS: usize = 2;

/// Fewest test rows a CSV file's split may leave: 1. Test loss and accuracy, and the verdict's
/// comparison with the best constant prediction, are means over the test split; over no rows
/// they are NaN, and a NaN loss was read as a model that learns.
pub const MIN_TEST_ROWS: usize = 1;

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
        &DataSpec::Adding {
            length,
            n_train,
            n_test,
        } => Ok(synthetic_dataset(
            spec.name(),
            Task::Regression { outputs: 1 },
            synthetic::adding(length, n_train, n_test, data_seed),
            format!(
                "the adding problem over {length} steps (value and marker per step; the target is \
                 the sum of the two marked values), data seed {data_seed}"
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

/// Parses a CSV file of numbers already in memory: the optional header's names and every data
/// row.
///
/// The same reader as for users' files ([`load()`] streams them from disk): the `csv` crate
/// splits the records, so a quoted cell may hold commas (`"b,x"`), doubled quotes and line
/// breaks; cells are trimmed, and one pair of double quotes after leading spaces (`a, "b" ,c`)
/// is removed too. Rules, each with its error: a record is at most [`MAX_CSV_RECORD_BYTES`](crate::MAX_CSV_RECORD_BYTES)
/// long (`RecordTooLong`) with at most [`MAX_CSV_COLUMNS`](crate::MAX_CSV_COLUMNS) cells (`TooManyColumns`); the text
/// is UTF-8 (`Parse`); every row has as many cells as the first (`Ragged`); every data cell is a
/// number finite as an `f32`, the type it is trained in, so `inf`, `nan` and `1e39` are refused
/// (`Parse`, with line and column, and the header name of the column when there is one);
/// trailing blank lines are skipped but a blank line before data is a `Parse` error; no data
/// rows is `Empty`. Lines may end in `\n` or `\r\n`, and a leading UTF-8 byte-order mark is
/// ignored. Lines are those of the file, quoted line breaks included.
pub fn parse_csv_bytes(bytes: &[u8], path_for_errors: &str, has_header: bool) -> Result<CsvTable> {
    let mut reader = CsvReader::new(bytes, path_for_errors, has_header, Limits::DEFAULT)?;
    let mut rows = Vec::new();
    let mut row = Vec::new();
    while reader.next_row(&mut row)?.is_some() {
        rows.push(row.clone());
    }
    if rows.is_empty() {
        return Err(DataError::Empty {
            path: path_for_errors.to_owned(),
        });
    }
    Ok((reader.header().map(<[String]>::to_vec), rows))
}

/// Decompresses one of the bundled files as it parses it (no header; the class label last, in
/// `0..10`) and checks that it has `features` features.
fn embedded_table(gz: &[u8], name: &str, features: usize) -> Result<Table> {
    let table = read_table(
        GzDecoder::new(gz),
        name,
        false,
        &CsvTarget::Index(features),
        Some(DIGIT_CLASSES),
        Limits::DEFAULT,
    )?;
    // A guard against a wrong file.
    if table.dim != features {
        return Err(DataError::Ragged {
            path: name.to_owned(),
            line: 1,
            expected: features + 1,
            found: table.dim + 1,
        });
    }
    Ok(table)
}

/// A table's rows as one split, the targets class labels (already checked to be labels).
fn labelled_split(table: Table) -> Split {
    let labels = table.y.iter().map(|&v| v as u32).collect();
    Split {
        n: table.n,
        dim: table.dim,
        x: table.x,
        targets: Targets::Classes(labels),
    }
}

fn load_digits(test_fraction: f64, split_seed: u64) -> Result<Dataset> {
    let name = "digits.csv.gz (bundled)";
    let all = labelled_split(embedded_table(DIGITS_GZ, name, DIGITS_FEATURES)?);
    let classes = DIGIT_CLASSES;
    let [mut train, mut test] = shuffle_split(&all, test_fraction, split_seed);
    standardise(&mut train, &mut test);
    let description = format!(
        "digits: {} train / {} test, {DIGITS_FEATURES} features, {classes} classes, \
         shuffle split seed {split_seed}, standardised on train",
        train.n, test.n
    );
    Ok(Dataset {
        step_features: 1,
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
        Ok(labelled_split(embedded_table(gz, name, MNIST1D_FEATURES)?))
    };
    let train = part(MNIST1D_TRAIN_GZ, "mnist1d_train.csv.gz (bundled)")?;
    let test = part(MNIST1D_TEST_GZ, "mnist1d_test.csv.gz (bundled)")?;
    let description = format!(
        "mnist1d: {} train / {} test, {MNIST1D_FEATURES} features, {DIGIT_CLASSES} classes, \
         fixed split as shipped, features standardised by the generator",
        train.n, test.n
    );
    Ok(Dataset {
        step_features: 1,
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

/// Loads a user's CSV file: refused unless it is a regular file within [`MAX_CSV_BYTES`],
/// streamed (never read whole), and checked for what would make training meaningless: too few
/// rows for both splits ([`MIN_TRAIN_ROWS`], [`MIN_TEST_ROWS`]) and a target with a single
/// value in the file or in the training split.
fn load_csv(
    path: &Path,
    target: &CsvTarget,
    task: CsvTask,
    classes: Option<usize>,
    test_fraction: f64,
    split_seed: u64,
    has_header: bool,
) -> Result<Dataset> {
    let shown = path.display().to_string();
    let file = open_regular_file(path, MAX_CSV_BYTES)?;

    // Labels are checked row by row (so errors name the line) whenever the task is known to be
    // classification before reading; a target `Auto` detects as labels is valid by detection.
    let labels_below = match task {
        CsvTask::Classification => Some(classes.unwrap_or(MAX_CLASSES)),
        CsvTask::Auto => classes,
        CsvTask::Regression => None,
    };
    let table = read_table(
        file,
        &shown,
        has_header,
        target,
        labels_below,
        Limits::DEFAULT,
    )?;

    let n_test = test_rows(table.n, test_fraction);
    let n_train = table.n - n_test;
    if n_train < MIN_TRAIN_ROWS || n_test < MIN_TEST_ROWS {
        return Err(DataError::TooFewRows {
            path: shown,
            rows: table.n,
            test_fraction,
            train: n_train,
            test: n_test,
        });
    }

    let classify = match task {
        CsvTask::Classification => true,
        CsvTask::Regression => false,
        CsvTask::Auto => classes.is_some() || looks_like_labels(&table.y),
    };
    let target_col = table.target_col;
    let target_name = table.target_name().map(str::to_owned);
    let constant = |scope: String, value: f64| DataError::ConstantTarget {
        path: shown.clone(),
        scope,
        column: target_col + 1,
        column_name: target_name.clone(),
        value,
        classification: classify,
    };
    if let Some(value) = single_value(&table.y, classify) {
        return Err(constant("row of the file".to_owned(), value));
    }

    let dim = table.dim;
    let (all, task_found) = if classify {
        // Labels were checked as the rows were read, or detected as integers in 0..1000.
        let largest = table.y.iter().copied().fold(0.0, f64::max) as usize;
        (
            labelled_split(table),
            Task::Classification {
                classes: classes.unwrap_or(largest + 1),
            },
        )
    } else {
        let values = table.y.iter().map(|&v| v as f32).collect();
        let split = Split {
            n: table.n,
            dim,
            x: table.x,
            targets: Targets::Values(values),
        };
        (split, Task::Regression { outputs: 1 })
    };

    let [mut train, mut test] = shuffle_split(&all, test_fraction, split_seed);
    drop(all);
    let train_targets: Vec<f64> = match &train.targets {
        Targets::Classes(labels) => labels.iter().map(|&l| f64::from(l)).collect(),
        Targets::Values(values) => values.iter().map(|&v| f64::from(v)).collect(),
    };
    if let Some(value) = single_value(&train_targets, classify) {
        return Err(constant(
            format!(
                "row of the training split ({} rows, split_seed {split_seed}; another seed or \
                 more rows may help)",
                train.n
            ),
            value,
        ));
    }
    standardise(&mut train, &mut test);

    let name = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("csv")
        .to_owned();
    let target_name = target_name.unwrap_or_else(|| format!("column {target_col}"));
    let detected = if task == CsvTask::Auto {
        ", detected"
    } else {
        ""
    };
    let description = format!(
        "{name}: {} train / {} test, {dim} features, target {target_name:?} ({task_found}{detected}), \
         shuffle split seed {split_seed}, standardised on train",
        train.n, test.n
    );
    Ok(Dataset {
        step_features: 1,
        name,
        task: task_found,
        input_dim: dim,
        train,
        test,
        description,
    })
}

/// Opens `path` for reading if it is a regular file of at most `max_bytes`.
///
/// The type is checked with [`std::fs::metadata`] before opening, because opening a FIFO
/// blocks until a writer appears, and a device such as `/dev/zero` never ends. (A file swapped
/// for a FIFO between the check and the open could still block; that takes someone racing us on
/// purpose.) The size is checked here to fail at once; the reader enforces it again while
/// reading, for a file that grows.
fn open_regular_file(path: &Path, max_bytes: u64) -> Result<std::fs::File> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(DataError::NotRegularFile {
            path: path.to_path_buf(),
            kind: file_kind(&meta.file_type()),
        });
    }
    if meta.len() > max_bytes {
        return Err(DataError::TooLarge {
            path: path.display().to_string(),
            size: Some(meta.len()),
            limit: max_bytes,
        });
    }
    std::fs::File::open(path).map_err(io)
}

/// What a file that is not a regular file is, in words (for errors that refuse it; the config
/// crate's reader uses it too).
pub fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO, a named pipe";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The one value every target has, if they all have the same (as trained on: class labels, or
/// regression values rounded to `f32`), else `None`.
fn single_value(targets: &[f64], classification: bool) -> Option<f64> {
    let as_trained = |v: f64| {
        if classification {
            v
        } else {
            f64::from(v as f32)
        }
    };
    let first = as_trained(*targets.first()?);
    targets
        .iter()
        .all(|&v| as_trained(v) == first)
        .then_some(first)
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
        // The adding problem's rows are [u_1, m_1, u_2, m_2, …].
        step_features: if name == "adding" { 2 } else { 1 },
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
            "t.csv:3:2: expected a finite number in column \"y\", found \"nan\""
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
