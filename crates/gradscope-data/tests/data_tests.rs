//! End-to-end tests of loading: bundled data, synthetic data, and users' CSV files.

use std::path::PathBuf;

use gradscope_data::{
    BatchSampler, CsvTask, DataError, DataSpec, Dataset, Split, Targets, Task, load,
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
    target: &str,
    task: CsvTask,
    classes: Option<usize>,
    has_header: bool,
) -> DataSpec {
    DataSpec::Csv {
        path: path.to_path_buf(),
        target: target.to_owned(),
        task,
        classes,
        test_fraction: 0.25,
        split_seed: 0,
        has_header,
    }
}

fn csv_err(
    text: &str,
    target: &str,
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
            assert_eq!(target, "label");
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
        "data.csv:4:2: label 3 is out of range for 3 classes (labels must be 0..=2)"
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
        "data.csv:3:1: expected a non-negative integer class label, found 2.5"
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
            target: "last".into(),
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
