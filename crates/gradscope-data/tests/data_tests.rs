//! End-to-end tests of loading: bundled data, synthetic data, and users' CSV files.

use std::path::PathBuf;

use gradscope_data::{
    BatchSampler, CsvTarget, CsvTask, DataError, DataSpec, Dataset, MAX_CSV_BYTES, MAX_CSV_COLUMNS,
    MAX_CSV_RECORD_BYTES, Split, Targets, Task, load,
};

fn digits(split_seed: u64) -> Dataset {
    load(
        &DataSpec::Digits {
            test_fraction: 0.2,
            split_seed,
        },
        0,
    )
    .expect("digits load")
}

fn labels(split: &Split) -> &[u32] {
    match &split.targets {
        Targets::Classes(labels) => labels,
        Targets::Values(_) => panic!("expected class labels"),
    }
}

fn values(split: &Split) -> &[f32] {
    match &split.targets {
        Targets::Values(values) => values,
        Targets::Classes(_) => panic!("expected values"),
    }
}

/// Per feature (mean, population std) of a split, in f64.
fn column_stats(split: &Split) -> Vec<(f64, f64)> {
    (0..split.dim)
        .map(|j| {
            let col: Vec<f64> = split
                .x
                .iter()
                .skip(j)
                .step_by(split.dim)
                .map(|&v| f64::from(v))
                .collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
            (mean, var.sqrt())
        })
        .collect()
}

#[test]
fn digits_shape_labels_and_standardisation() {
    let data = digits(0);
    assert_eq!(data.task, Task::Classification { classes: 10 });
    assert_eq!(data.input_dim, 64);
    assert_eq!(data.train.n + data.test.n, 1797);
    assert_eq!(data.test.n, 359);
    assert_eq!(data.train.x.len(), data.train.n * 64);
    assert_eq!(data.test.x.len(), data.test.n * 64);
    assert_eq!(
        data.description,
        "digits: 1438 train / 359 test, 64 features, 10 classes, shuffle split seed 0, standardised on train"
    );

    let mut counts = data.train.class_counts(10).unwrap();
    for (c, t) in counts.iter_mut().zip(data.test.class_counts(10).unwrap()) {
        *c += t;
    }
    assert_eq!(counts.iter().sum::<usize>(), 1797);
    assert!(counts.iter().all(|&c| c >= 170), "class counts {counts:?}");
    assert!(labels(&data.train).iter().all(|&l| l < 10));

    let stats = column_stats(&data.train);
    let mut scaled = 0;
    for (j, &(mean, std)) in stats.iter().enumerate() {
        assert!(mean.abs() < 1e-4, "feature {j}: mean {mean}");
        if std > 0.0 {
            assert!((std - 1.0).abs() < 1e-4, "feature {j}: std {std}");
            scaled += 1;
        }
    }
    // A few border pixels are always 0 in the bundled digits; most features vary.
    assert!((55..64).contains(&scaled), "{scaled} non-constant features");

    let chance = data.chance_accuracy().unwrap();
    assert!((0.1..0.15).contains(&chance), "chance {chance}");
}

#[test]
fn digits_split_depends_on_split_seed_only() {
    let a = digits(0);
    assert_eq!(a, digits(0));
    // data_seed does not touch the digits.
    let same = load(
        &DataSpec::Digits {
            test_fraction: 0.2,
            split_seed: 0,
        },
        99,
    )
    .unwrap();
    assert_eq!(a, same);
    let b = digits(1);
    assert_ne!(a.test.x, b.test.x);
    assert_ne!(labels(&a.test), labels(&b.test));
}

#[test]
fn mnist1d_is_the_shipped_split() {
    let data = load(&DataSpec::Mnist1d, 0).unwrap();
    assert_eq!(
        (data.train.n, data.test.n, data.input_dim),
        (4000, 1000, 40)
    );
    assert_eq!(data.task, Task::Classification { classes: 10 });
    assert_eq!(data.train.x.len(), 4000 * 40);
    // First bundled row, untouched.
    assert_eq!(data.train.x[0], -0.332006);
    assert_eq!(labels(&data.train)[0], 2);
    let counts = data.train.class_counts(10).unwrap();
    assert!(counts.iter().all(|&c| c > 300), "{counts:?}");
    assert_eq!(data, load(&DataSpec::Mnist1d, 5).unwrap());
}

#[test]
fn gaussian_moments_within_statistical_tolerance() {
    let spec = DataSpec::Gaussian {
        dim: 1,
        outputs: 1,
        n_train: 20_000,
        n_test: 10,
    };
    let data = load(&spec, 3).unwrap();
    assert_eq!(data.task, Task::Regression { outputs: 1 });
    let n = 20_000.0_f64;
    for (what, sample) in [("x", &data.train.x[..]), ("y", values(&data.train))] {
        let mean = sample.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = sample
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 5.0 / n.sqrt(), "{what} mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(),
            "{what} var {var}"
        );
    }
    // Targets are independent of inputs: their correlation is at noise level.
    let corr = data
        .train
        .x
        .iter()
        .zip(values(&data.train))
        .map(|(&a, &b)| f64::from(a * b))
        .sum::<f64>()
        / n;
    assert!(corr.abs() < 5.0 / n.sqrt(), "corr {corr}");
    assert_eq!(data, load(&spec, 3).unwrap());
    assert_ne!(data.train.x, load(&spec, 4).unwrap().train.x);
}

#[test]
fn teacher_targets_are_a_deterministic_nontrivial_function() {
    let spec = |noise| DataSpec::Teacher {
        dim: 8,
        outputs: 2,
        depth: 3,
        width: 32,
        noise,
        n_train: 2000,
        n_test: 100,
    };
    let a = load(&spec(0.0), 7).unwrap();
    let b = load(&spec(0.0), 7).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(values(&a.train)), bits(values(&b.train)));
    assert_eq!(bits(&a.train.x), bits(&b.train.x));
    assert_eq!(values(&a.train).len(), 2000 * 2);

    let y = values(&a.train);
    let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / y.len() as f64;
    let var = y
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / y.len() as f64;
    assert!(var > 0.1 && var < 10.0, "teacher target variance {var}");

    // Noise is added on top of the same teacher and inputs.
    let noisy = load(&spec(0.5), 7).unwrap();
    assert_eq!(noisy.train.x, a.train.x);
    let diff: Vec<f64> = values(&noisy.train)
        .iter()
        .zip(y)
        .map(|(&p, &q)| f64::from(p - q))
        .collect();
    let noise_var = diff.iter().map(|d| d * d).sum::<f64>() / diff.len() as f64;
    assert!(
        (noise_var - 0.25).abs() < 0.03,
        "noise variance {noise_var}"
    );

    // Another seed, another teacher.
    let other = load(&spec(0.0), 8).unwrap();
    assert_ne!(values(&other.train), y);
}

#[test]
fn spirals_are_balanced() {
    let spec = DataSpec::Spirals {
        arms: 3,
        dim: 5,
        noise: 0.2,
        n_train: 1000,
        n_test: 300,
    };
    let data = load(&spec, 0).unwrap();
    assert_eq!(data.task, Task::Classification { classes: 3 });
    assert_eq!(data.input_dim, 5);
    assert_eq!(data.train.class_counts(3).unwrap(), vec![334, 333, 333]);
    assert_eq!(data.test.class_counts(3).unwrap(), vec![100, 100, 100]);
    assert!((data.chance_accuracy().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(data, load(&spec, 0).unwrap());
}

#[test]
fn sampler_is_reproducible() {
    let mut a = BatchSampler::new(100, 16, 42);
    let mut b = BatchSampler::new(100, 16, 42);
    let mut c = BatchSampler::new(100, 16, 43);
    let mut differs = false;
    for _ in 0..50 {
        let batch = a.next_indices();
        assert_eq!(batch, b.next_indices());
        differs |= batch != c.next_indices();
        assert_eq!(batch.len(), 16);
    }
    assert!(differs);
}

// ---- CSV files -------------------------------------------------------------------------------

struct Csv {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn write_csv(text: &str) -> Csv {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv");
    std::fs::write(&path, text).unwrap();
    Csv { _dir: dir, path }
}

fn csv_spec(
    path: &std::path::Path,
    target: impl Into<CsvTarget>,
    task: CsvTask,
    classes: Option<usize>,
    has_header: bool,
) -> DataSpec {
    DataSpec::Csv {
        path: path.to_path_buf(),
        target: target.into(),
        task,
        classes,
        test_fraction: 0.25,
        split_seed: 0,
        has_header,
    }
}

fn csv_err(
    text: &str,
    target: impl Into<CsvTarget>,
    task: CsvTask,
    classes: Option<usize>,
    has_header: bool,
) -> (DataError, String) {
    let file = write_csv(text);
    let err = load(&csv_spec(&file.path, target, task, classes, has_header), 0).unwrap_err();
    let shown = file.path.display().to_string();
    let message = err.to_string().replace(&shown, "data.csv");
    (err, message)
}

#[test]
fn csv_ragged_row() {
    let (err, msg) = csv_err("a,b,y\n1,2,0\n3,4\n", "y", CsvTask::Auto, None, true);
    assert!(
        matches!(
            err,
            DataError::Ragged {
                line: 3,
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        msg,
        "data.csv:3: expected 3 cells (as in the first row), found 2"
    );
}

#[test]
fn csv_non_numeric_cell() {
    let (err, msg) = csv_err("1,2,0\n3,abc,1\n", "last", CsvTask::Auto, None, false);
    assert!(
        matches!(
            err,
            DataError::Parse {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(msg, "data.csv:2:2: expected a number, found \"abc\"");
}

#[test]
fn csv_missing_target() {
    let (err, msg) = csv_err("a,b,y\n1,2,0\n", "label", CsvTask::Auto, None, true);
    match &err {
        DataError::MissingTarget {
            target, available, ..
        } => {
            assert_eq!(target, &CsvTarget::Name("label".into()));
            assert_eq!(available, &["a", "b", "y"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        msg,
        "data.csv: no target column \"label\"; available: a, b, y (or \"last\")"
    );
    // Without a header, an index past the last column.
    let (err, _) = csv_err("1,2,0\n", "3", CsvTask::Auto, None, false);
    assert!(matches!(err, DataError::MissingTarget { .. }), "{err:?}");
}

#[test]
fn csv_empty_and_header_only() {
    let (err, msg) = csv_err("", "last", CsvTask::Auto, None, false);
    assert!(matches!(err, DataError::Empty { .. }), "{err:?}");
    assert_eq!(msg, "data.csv: the file has no data rows");
    let (err, _) = csv_err("a,b,y\r\n", "y", CsvTask::Auto, None, true);
    assert!(matches!(err, DataError::Empty { .. }), "{err:?}");
}

#[test]
fn csv_label_out_of_range() {
    let (err, msg) = csv_err(
        "x,y\n0.5,0\n0.1,2\n0.7,3\n",
        "y",
        CsvTask::Classification,
        Some(3),
        true,
    );
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                line: 4,
                column: 2,
                classes: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        msg,
        "data.csv:4:2: label 3 in column \"y\" is out of range for 3 classes (labels must be 0..=2)"
    );
}

#[test]
fn csv_non_integer_label() {
    let (err, msg) = csv_err(
        "y,x\n1,0.5\n2.5,0.1\n",
        "y",
        CsvTask::Classification,
        None,
        true,
    );
    assert!(
        matches!(
            err,
            DataError::Parse {
                line: 3,
                column: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        msg,
        "data.csv:3:1: expected a non-negative integer class label in column \"y\", found 2.5"
    );
}

#[test]
fn csv_missing_file_is_io() {
    let dir = tempfile::tempdir().unwrap();
    let spec = csv_spec(
        &dir.path().join("nope.csv"),
        "last",
        CsvTask::Auto,
        None,
        false,
    );
    assert!(matches!(load(&spec, 0), Err(DataError::Io { .. })));
}

#[test]
fn csv_auto_detects_classification_and_regression() {
    let rows: String = (0..20)
        .map(|i| format!("{},{},{}\n", i, i * i % 7, i % 3))
        .collect();
    let file = write_csv(&format!("a,b,label\r\n{rows}\r\n\r\n"));
    let data = load(&csv_spec(&file.path, "label", CsvTask::Auto, None, true), 0).unwrap();
    assert_eq!(data.task, Task::Classification { classes: 3 });
    assert_eq!(data.name, "data");
    assert_eq!((data.train.n, data.test.n, data.input_dim), (15, 5, 2));
    assert!(
        data.description
            .contains("target \"label\" (classification, 3 classes, detected)"),
        "{}",
        data.description
    );
    // Train features standardised.
    for (mean, std) in column_stats(&data.train) {
        assert!(
            mean.abs() < 1e-4 && (std - 1.0).abs() < 1e-4,
            "{mean} {std}"
        );
    }

    // The same file, first column as a real-valued target (values 0..19 with 20 distinct
    // values would pass as labels, so scale them).
    let rows: String = (0..20)
        .map(|i| format!("{},{},{}\n", f64::from(i) * 0.5, i % 7, i % 3))
        .collect();
    let file = write_csv(&rows);
    let data = load(&csv_spec(&file.path, "0", CsvTask::Auto, None, false), 0).unwrap();
    assert_eq!(data.task, Task::Regression { outputs: 1 });
    // Regression targets are kept as they are.
    let mut all: Vec<f32> = values(&data.train)
        .iter()
        .chain(values(&data.test))
        .copied()
        .collect();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, (0..20).map(|i| i as f32 * 0.5).collect::<Vec<_>>());

    // Forcing regression on integer labels works too, and seeds change the split.
    let a = load(
        &csv_spec(&file.path, "last", CsvTask::Regression, None, false),
        0,
    )
    .unwrap();
    assert_eq!(a.task, Task::Regression { outputs: 1 });
    let b = load(
        &DataSpec::Csv {
            path: file.path.clone(),
            target: CsvTarget::Last,
            task: CsvTask::Auto,
            classes: None,
            test_fraction: 0.25,
            split_seed: 1,
            has_header: false,
        },
        0,
    )
    .unwrap();
    assert_eq!(b.task, Task::Classification { classes: 3 });
    assert_ne!(a.test.x, b.test.x);
}

// ---- CSV files: what must never be taken silently (issue 10) ----------------------------------

/// A `load` of `path` as a CSV with target "last" and no header.
fn load_path(path: &std::path::Path) -> gradscope_data::Result<Dataset> {
    load(&csv_spec(path, "last", CsvTask::Auto, None, false), 0)
}

#[test]
fn csv_refuses_what_is_not_a_regular_file() {
    // A directory.
    let dir = tempfile::tempdir().unwrap();
    let err = load_path(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::NotRegularFile {
                kind: "a directory",
                ..
            }
        ),
        "{err:?}"
    );
    let shown = dir.path().display().to_string();
    assert_eq!(
        err.to_string(),
        format!("{shown}: not a regular file (it is a directory); data.path must name a CSV file")
    );

    // A device that never ends: refused before it is opened, so this returns at once.
    #[cfg(unix)]
    {
        let zero = std::path::Path::new("/dev/zero");
        if zero.exists() {
            let err = load_path(zero).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("/dev/zero: not a regular file (it is a character device)"),
                "{err}"
            );
        }
    }
}

/// A FIFO blocks whoever opens it until a writer comes; `load` must refuse it without opening.
#[cfg(unix)]
#[test]
fn csv_refuses_a_fifo_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(status) if status.success() => {}
        other => {
            eprintln!("skipped: mkfifo is not available ({other:?})");
            return;
        }
    }
    let err = load_path(&fifo).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::NotRegularFile {
                kind: "a FIFO, a named pipe",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("pipe.csv: not a regular file"),
        "{err}"
    );
}

#[test]
fn csv_over_the_size_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    // Sparse: takes no disk space, and is never read.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_CSV_BYTES + 1).unwrap();
    let err = load_path(&path).unwrap_err();
    match &err {
        DataError::TooLarge { size, limit, .. } => {
            assert_eq!((*size, *limit), (Some(MAX_CSV_BYTES + 1), MAX_CSV_BYTES));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with("huge.csv: 1073741825 bytes, more than the 1 GiB a CSV file may hold"),
        "{err}"
    );
}

#[test]
fn csv_absurd_records_name_their_line() {
    // One line longer than the limit.
    let long = format!(
        "a,y\n1,0\n2,1\n3,{}\n4,0\n",
        "9".repeat(MAX_CSV_RECORD_BYTES)
    );
    let (err, msg) = csv_err(&long, "y", CsvTask::Auto, None, true);
    assert!(
        matches!(err, DataError::RecordTooLong { line: 4, .. }),
        "{err:?}"
    );
    assert!(
        msg.starts_with("data.csv:4: the record starting on this line is longer than 1 MiB"),
        "{msg}"
    );

    // An unclosed quote swallows the rest of the file: named where it opens.
    let open = format!(
        "a,y\n1,0\n\"2,1\n{}",
        "3,0\n".repeat(MAX_CSV_RECORD_BYTES / 4 + 1)
    );
    let (err, msg) = csv_err(&open, "y", CsvTask::Auto, None, true);
    assert!(
        matches!(err, DataError::RecordTooLong { line: 3, .. }),
        "{err:?}"
    );
    assert!(msg.contains("unclosed double quote"), "{msg}");

    // Too many columns.
    let wide = format!("{}\n", vec!["0"; MAX_CSV_COLUMNS + 1].join(","));
    let (err, msg) = csv_err(&wide, "last", CsvTask::Auto, None, false);
    assert!(
        matches!(err, DataError::TooManyColumns { line: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        msg,
        format!(
            "data.csv:1: {} cells, more than the {MAX_CSV_COLUMNS} columns a CSV file may have",
            MAX_CSV_COLUMNS + 1
        )
    );
}

#[test]
fn csv_quoted_commas_crlf_and_quotes_are_read_by_the_csv_crate() {
    let text = "a,\"b,x\",\"y\"\r\n1,\"2,5\",0\r\n";
    // A quoted comma is a comma inside the cell (here, in a number: named as such).
    let (err, msg) = csv_err(text, "y", CsvTask::Auto, None, true);
    assert!(
        matches!(
            err,
            DataError::Parse {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        msg,
        "data.csv:2:2: expected a number in column \"b,x\", found \"2,5\""
    );

    let rows: String = (0..8)
        .map(|i| format!("{i},\"{}\",{}\r\n", i * 3 % 5, i % 2))
        .collect();
    let file = write_csv(&format!("a,\"b,x\",\"y\"\r\n{rows}\r\n"));
    let data = load(&csv_spec(&file.path, "y", CsvTask::Auto, None, true), 0).unwrap();
    assert_eq!(data.input_dim, 2);
    assert_eq!(data.task, Task::Classification { classes: 2 });
    // The quoted name is a name like any other.
    let data = load(
        &csv_spec(&file.path, "b,x", CsvTask::Regression, None, true),
        0,
    )
    .unwrap();
    assert!(
        data.description.contains("target \"b,x\""),
        "{}",
        data.description
    );

    // Line numbers stay exact with CRLF line ends.
    let (_, msg) = csv_err(
        "a,b,y\r\n1,2,0\r\n3,abc,1\r\n",
        "y",
        CsvTask::Auto,
        None,
        true,
    );
    assert_eq!(
        msg,
        "data.csv:3:2: expected a number in column \"b\", found \"abc\""
    );
}

#[test]
fn csv_too_few_rows_for_both_splits() {
    // One data row: it used to train as "1 train / 0 test" with a NaN test loss.
    let (err, msg) = csv_err("a,y\n1,0\n", "y", CsvTask::Auto, None, true);
    assert!(
        matches!(
            err,
            DataError::TooFewRows {
                rows: 1,
                train: 1,
                test: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        msg,
        "data.csv: 1 data row with data.test_fraction = 0.25 splits into 1 train / 0 test \
         rows; training needs at least 2 train rows and at least 1 test row (add rows or \
         change test_fraction)"
    );
    // Two rows leave one to train on.
    let (err, _) = csv_err("a,y\n1,0\n2,1\n", "y", CsvTask::Auto, None, true);
    assert!(
        matches!(
            err,
            DataError::TooFewRows {
                rows: 2,
                train: 1,
                test: 1,
                ..
            }
        ),
        "{err:?}"
    );
    // Three rows are enough at 0.25 (2 + 1) but not at 0.5 (1 + 2).
    let file = write_csv("a,y\n1,0\n2,1\n3,0\n");
    load(&csv_spec(&file.path, "y", CsvTask::Auto, None, true), 0).unwrap();
    let spec = DataSpec::Csv {
        path: file.path.clone(),
        target: CsvTarget::Last,
        task: CsvTask::Auto,
        classes: None,
        test_fraction: 0.5,
        split_seed: 0,
        has_header: true,
    };
    let err = load(&spec, 0).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::TooFewRows {
                rows: 3,
                train: 1,
                test: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("3 data rows with data.test_fraction = 0.5"),
        "{err}"
    );
}

#[test]
fn csv_target_with_a_single_value_is_refused() {
    let rows: String = (0..10).map(|i| format!("{i},{},0\n", i * i)).collect();
    // Classification, given or detected: one class.
    for task in [CsvTask::Classification, CsvTask::Auto] {
        let (err, msg) = csv_err(&format!("a,b,y\n{rows}"), "y", task, None, true);
        assert!(
            matches!(
                err,
                DataError::ConstantTarget {
                    column: 3,
                    classification: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            msg,
            "data.csv: every row of the file has the target 0 (in column 3, \"y\"); \
             classification needs at least 2 distinct classes"
        );
    }
    // Also with a class count given: the labels are in range, but there is one class.
    let (err, _) = csv_err(&format!("a,b,y\n{rows}"), "y", CsvTask::Auto, Some(3), true);
    assert!(matches!(err, DataError::ConstantTarget { .. }), "{err:?}");

    // Regression on a constant: standard deviation 0.
    let rows: String = (0..10).map(|i| format!("2.5,{i}\n")).collect();
    let (err, msg) = csv_err(&rows, CsvTarget::Index(0), CsvTask::Regression, None, false);
    assert!(
        matches!(
            err,
            DataError::ConstantTarget {
                column: 1,
                classification: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        msg,
        "data.csv: every row of the file has the target 2.5 (in column 1); a regression target \
         must vary (its standard deviation is 0)"
    );
}

#[test]
fn csv_training_split_with_a_single_class_is_refused() {
    // Four rows, one of them class 1: whenever the test split draws it, training sees one
    // class only. Some seeds do, some don't; each must be an error or a two-class training set.
    let file = write_csv("a,y\n1,0\n2,0\n3,0\n4,1\n");
    let mut refused = 0;
    for split_seed in 0..40 {
        let spec = DataSpec::Csv {
            path: file.path.clone(),
            target: CsvTarget::Last,
            task: CsvTask::Classification,
            classes: None,
            test_fraction: 0.25,
            split_seed,
            has_header: true,
        };
        match load(&spec, 0) {
            Ok(data) => assert_eq!(data.train.class_counts(2).unwrap(), vec![2, 1]),
            Err(err) => {
                assert!(
                    err.to_string().contains(&format!(
                        "every row of the training split (3 rows, split_seed {split_seed}; \
                         another seed or more rows may help) has the target 0"
                    )),
                    "{err}"
                );
                refused += 1;
            }
        }
    }
    assert!((1..40).contains(&refused), "{refused} of 40 seeds refused");
}

#[test]
fn csv_values_not_finite_in_f32_are_refused_with_row_and_column() {
    for (cell, what) in [
        ("1e39", "within f32's range"),
        ("1e308", "within f32's range"),
        ("-1e39", "within f32's range"),
        ("inf", "finite"),
        ("nan", "finite"),
    ] {
        let text = format!("a,b,y\n1,2,0\n3,4,1\n5,{cell},0\n6,7,1\n");
        let (err, msg) = csv_err(&text, "y", CsvTask::Auto, None, true);
        assert!(
            matches!(
                err,
                DataError::Parse {
                    line: 4,
                    column: 2,
                    ..
                }
            ),
            "{cell}: {err:?}"
        );
        assert!(
            msg.starts_with("data.csv:4:2: expected a") && msg.contains(what),
            "{cell}: {msg}"
        );
        assert!(
            msg.contains("in column \"b\"") && msg.ends_with(&format!("found \"{cell}\"")),
            "{msg}"
        );
    }
    // The largest f32 itself is fine.
    let file = write_csv("3.4028234e38,0\n1,1\n2,0\n-3.4028234e38,1\n");
    load(&csv_spec(&file.path, "last", CsvTask::Auto, None, false), 0).unwrap();
}

#[test]
fn csv_target_as_an_integer_index() {
    let rows: String = (0..12)
        .map(|i| format!("{},{},{}\n", i % 3, f64::from(i) * 0.5, i % 2))
        .collect();
    let file = write_csv(&format!("k,v,y\n{rows}"));
    // An integer is a 0-based index, with or without a header.
    let data = load(&csv_spec(&file.path, 0usize, CsvTask::Auto, None, true), 0).unwrap();
    assert_eq!(data.task, Task::Classification { classes: 3 });
    assert!(
        data.description.contains("target \"k\""),
        "{}",
        data.description
    );
    let data = load(&csv_spec(&file.path, 1usize, CsvTask::Auto, None, true), 0).unwrap();
    assert_eq!(data.task, Task::Regression { outputs: 1 });

    // Past the last column: the available columns and the largest index.
    let (err, msg) = csv_err(&format!("k,v,y\n{rows}"), 3usize, CsvTask::Auto, None, true);
    assert!(matches!(err, DataError::MissingTarget { .. }), "{err:?}");
    assert_eq!(
        msg,
        "data.csv: no target column 3; available: k, v, y (or \"last\"); the file has 3 \
         columns, so a 0-based index is at most 2"
    );
    // With a header, "0" in quotes is a name; the error says how to write an index.
    let (_, msg) = csv_err(&format!("k,v,y\n{rows}"), "0", CsvTask::Auto, None, true);
    assert!(
        msg.contains("for the 0-based index write target = 0, without quotes"),
        "{msg}"
    );
    // Without a header a string of digits is still an index.
    let file = write_csv(&rows);
    let data = load(&csv_spec(&file.path, "2", CsvTask::Auto, None, false), 0).unwrap();
    assert_eq!(data.task, Task::Classification { classes: 2 });
}
