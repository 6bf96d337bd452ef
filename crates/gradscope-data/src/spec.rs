//! [`DataSpec`]: the checked description of which data to load.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// Largest number of `f32` values a synthetic split (or a teacher) may hold: 2^28 (1 GiB), so a
/// typo in a size fails with a message instead of exhausting memory.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Largest number of classes a classification data set may have.
pub const MAX_CLASSES: usize = 100_000;

/// How to treat a CSV file's target column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvTask {
    /// Classification if every target is a non-negative integer, there are at most 50 distinct
    /// values and the largest is below 1,000 (so years or ids are not taken for labels); else
    /// regression.
    #[default]
    Auto,
    /// The target is a class label (a non-negative integer).
    Classification,
    /// The target is a real value.
    Regression,
}

/// Which column of a CSV file is the target.
///
/// In a config it is an integer (a 0-based column index) or a string (a header name, or
/// `"last"`); without a header a string of digits is an index too, as it always was. It
/// serialises back to the same TOML/JSON value, so `gradscope config` prints a config that reads
/// back to the same thing (and hashes as before for the strings that were valid then).
///
/// A name is looked up exactly (after trimming spaces); a name that more than one header column
/// carries is an error rather than a silent pick of the first, and so is `"last"` when a column
/// other than the last one is named `last`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CsvTarget {
    /// The column with this 0-based index.
    Index(usize),
    /// The column with this header name (without a header: a string of digits, as an index).
    Name(String),
    /// The last column.
    #[default]
    Last,
}

impl CsvTarget {
    /// `"last"` is [`CsvTarget::Last`]; any other string is a [`CsvTarget::Name`].
    pub fn from_name(name: &str) -> Self {
        if name.trim() == "last" {
            CsvTarget::Last
        } else {
            CsvTarget::Name(name.to_owned())
        }
    }
}

impl From<usize> for CsvTarget {
    fn from(index: usize) -> Self {
        CsvTarget::Index(index)
    }
}

impl From<&str> for CsvTarget {
    fn from(name: &str) -> Self {
        CsvTarget::from_name(name)
    }
}

/// As written in a config: `3`, `"y"` or `"last"`.
impl fmt::Display for CsvTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvTarget::Index(index) => write!(f, "{index}"),
            CsvTarget::Name(name) => write!(f, "{name:?}"),
            CsvTarget::Last => f.write_str("\"last\""),
        }
    }
}

impl Serialize for CsvTarget {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            // A usize always fits in u64 on the platforms Rust supports.
            CsvTarget::Index(index) => serializer.serialize_u64(*index as u64),
            CsvTarget::Name(name) => serializer.serialize_str(name),
            CsvTarget::Last => serializer.serialize_str("last"),
        }
    }
}

impl<'de> Deserialize<'de> for CsvTarget {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(CsvTargetVisitor)
    }
}

/// Reads an integer as an index and a string as a name, with a message saying both are allowed
/// (serde's own untagged enums only say "did not match any variant").
struct CsvTargetVisitor;

impl<'de> Visitor<'de> for CsvTargetVisitor {
    type Value = CsvTarget;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a 0-based column index (an integer such as 0) or a column name (a string such as \"y\" or \"last\")",
        )
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<CsvTarget, E> {
        usize::try_from(v)
            .map(CsvTarget::Index)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<CsvTarget, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<CsvTarget, E> {
        Ok(CsvTarget::from_name(v))
    }
}

/// Which data set to load, and how.
///
/// Built by the config crate; [`load()`](fn@crate::load) checks it with [`DataSpec::validate`]
/// before doing anything. The synthetic sets draw everything from the `data_seed` given to
/// `load`; `Digits` and `Csv` are split by their own `split_seed`; `Mnist1d` draws nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum DataSpec {
    /// Pure-noise regression, a null control: x ~ N(0, I_dim) and y ~ N(0, I_outputs) drawn
    /// independently of x, so there is nothing to learn.
    Gaussian {
        /// Features per row.
        dim: usize,
        /// Targets per row.
        outputs: usize,
        /// Training rows.
        n_train: usize,
        /// Test rows.
        n_test: usize,
    },
    /// Regression on a fixed random teacher network: x ~ N(0, I), y = teacher(x) + noise·ε.
    ///
    /// The teacher is a tanh MLP with `depth` hidden layers of `width` units, hidden weights
    /// N(0, 1/fan_in) times a gain of 1.5 (so it is clearly non-linear), a linear output layer
    /// with N(0, 1/fan_in) weights, and zero biases.
    Teacher {
        /// Features per row.
        dim: usize,
        /// Targets per row.
        outputs: usize,
        /// Hidden layers of the teacher (0: a linear teacher).
        depth: usize,
        /// Units per hidden layer.
        width: usize,
        /// Standard deviation of the Gaussian noise added to the targets.
        noise: f64,
        /// Training rows.
        n_train: usize,
        /// Test rows.
        n_test: usize,
    },
    /// Interleaved spirals, one arm per class.
    Spirals {
        /// Number of arms, i.e. classes (at least 2).
        arms: usize,
        /// Features per row (at least 2): the first two are the spiral, the rest N(0, 1) noise.
        dim: usize,
        /// Standard deviation of the noise on each point's angle (radians).
        noise: f64,
        /// Training rows.
        n_train: usize,
        /// Test rows.
        n_test: usize,
    },
    /// The adding problem (Hochreiter & Schmidhuber 1997): `length` steps of two channels, a
    /// value from U[0, 1) and a marker that is 1 on exactly two steps; the target is the sum of
    /// the two marked values. A row holds the steps in order, `[u_1, m_1, u_2, m_2, …]`, so a
    /// recurrent net reads it as `[length, 2]`. The best constant prediction (1) has an MSE of
    /// Var(u + u') = 1/6.
    Adding {
        /// Steps per sequence T (at least 2).
        length: usize,
        /// Training rows.
        n_train: usize,
        /// Test rows.
        n_test: usize,
    },
    /// The bundled 8×8 handwritten digits (1,797 rows, 64 features, 10 classes), split by a
    /// seeded shuffle and standardised with the train split's statistics.
    Digits {
        /// Share of rows held out for testing, in (0, 1).
        test_fraction: f64,
        /// Seed of the shuffle that splits the rows.
        split_seed: u64,
    },
    /// The bundled MNIST-1D (40 features, 10 classes), its fixed 4,000 / 1,000 split as shipped.
    Mnist1d,
    /// A user's CSV file of numbers.
    Csv {
        /// The file.
        path: PathBuf,
        /// The target column: a 0-based index, a header name, or the last column.
        target: CsvTarget,
        /// How to treat the target.
        task: CsvTask,
        /// Number of classes (classification only); default: largest label + 1.
        classes: Option<usize>,
        /// Share of rows held out for testing, in (0, 1).
        test_fraction: f64,
        /// Seed of the shuffle that splits the rows.
        split_seed: u64,
        /// Whether the first row names the columns.
        has_header: bool,
    },
}

impl DataSpec {
    /// The short name used in configs: `gaussian`, `teacher`, `spirals`, `digits`, `mnist1d`
    /// or `csv`.
    pub fn name(&self) -> &'static str {
        match self {
            DataSpec::Gaussian { .. } => "gaussian",
            DataSpec::Teacher { .. } => "teacher",
            DataSpec::Spirals { .. } => "spirals",
            DataSpec::Adding { .. } => "adding",
            DataSpec::Digits { .. } => "digits",
            DataSpec::Mnist1d => "mnist1d",
            DataSpec::Csv { .. } => "csv",
        }
    }

    /// Checks every value that does not need the data itself; [`DataError::Invalid`] names the
    /// first bad field (as `data.<field>`).
    pub fn validate(&self) -> Result<()> {
        match self {
            &DataSpec::Gaussian {
                dim,
                outputs,
                n_train,
                n_test,
            } => {
                at_least("dim", dim, 1)?;
                at_least("outputs", outputs, 1)?;
                check_rows(n_train, n_test, dim.max(outputs))
            }
            &DataSpec::Teacher {
                dim,
                outputs,
                depth,
                width,
                noise,
                n_train,
                n_test,
            } => {
                at_least("dim", dim, 1)?;
                at_least("outputs", outputs, 1)?;
                if depth > 0 {
                    at_least("width", width, 1)?;
                    let params = width
                        .checked_mul(width.max(dim).max(outputs))
                        .and_then(|layer| layer.checked_mul(depth + 1));
                    if params.is_none_or(|p| p > MAX_ELEMENTS) {
                        return Err(DataError::invalid(
                            "width",
                            width,
                            &format!(
                                "a teacher this large (depth {depth}) would not fit in memory"
                            ),
                        ));
                    }
                }
                check_noise(noise)?;
                check_rows(n_train, n_test, dim.max(outputs))
            }
            &DataSpec::Spirals {
                arms,
                dim,
                noise,
                n_train,
                n_test,
            } => {
                at_least("arms", arms, 2)?;
                if arms > MAX_CLASSES {
                    return Err(DataError::invalid(
                        "arms",
                        arms,
                        &format!("must be at most {MAX_CLASSES}"),
                    ));
                }
                at_least("dim", dim, 2)?;
                check_noise(noise)?;
                check_rows(n_train, n_test, dim)
            }
            &DataSpec::Adding {
                length,
                n_train,
                n_test,
            } => {
                at_least("length", length, 2)?;
                let width = length
                    .checked_mul(2)
                    .ok_or_else(|| DataError::invalid("length", length, "is too large"))?;
                check_rows(n_train, n_test, width)
            }
            &DataSpec::Digits { test_fraction, .. } => check_fraction(test_fraction),
            DataSpec::Mnist1d => Ok(()),
            DataSpec::Csv {
                target,
                task,
                classes,
                test_fraction,
                ..
            } => {
                if matches!(target, CsvTarget::Name(name) if name.trim().is_empty()) {
                    return Err(DataError::invalid(
                        "target",
                        target,
                        "name the target column (a header name, \"last\", or a 0-based index \
                         written as an integer)",
                    ));
                }
                if let Some(c) = *classes {
                    if *task == CsvTask::Regression {
                        return Err(DataError::invalid(
                            "classes",
                            c,
                            "only applies to classification, but the task is regression",
                        ));
                    }
                    if !(1..=MAX_CLASSES).contains(&c) {
                        return Err(DataError::invalid(
                            "classes",
                            c,
                            &format!("must be in 1..={MAX_CLASSES}"),
                        ));
                    }
                }
                check_fraction(*test_fraction)
            }
        }
    }
}

fn at_least(field: &str, value: usize, min: usize) -> Result<()> {
    if value < min {
        return Err(DataError::invalid(
            field,
            value,
            &format!("must be at least {min}"),
        ));
    }
    Ok(())
}

fn check_rows(n_train: usize, n_test: usize, width: usize) -> Result<()> {
    for (field, n) in [("n_train", n_train), ("n_test", n_test)] {
        at_least(field, n, 1)?;
        if n.checked_mul(width).is_none_or(|size| size > MAX_ELEMENTS) {
            return Err(DataError::invalid(
                field,
                n,
                &format!("too many rows: {n} × {width} values exceeds the limit of {MAX_ELEMENTS}"),
            ));
        }
    }
    Ok(())
}

fn check_noise(noise: f64) -> Result<()> {
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(DataError::invalid(
            "noise",
            noise,
            "must be a finite number ≥ 0",
        ));
    }
    Ok(())
}

fn check_fraction(fraction: f64) -> Result<()> {
    // Written so that NaN fails too.
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::invalid(
            "test_fraction",
            fraction,
            "must be in (0, 1)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(task: CsvTask, classes: Option<usize>, test_fraction: f64) -> DataSpec {
        DataSpec::Csv {
            path: "x.csv".into(),
            target: CsvTarget::Last,
            task,
            classes,
            test_fraction,
            split_seed: 0,
            has_header: false,
        }
    }

    #[test]
    fn names() {
        assert_eq!(DataSpec::Mnist1d.name(), "mnist1d");
        assert_eq!(csv(CsvTask::Auto, None, 0.2).name(), "csv");
        assert_eq!(
            DataSpec::Digits {
                test_fraction: 0.2,
                split_seed: 0
            }
            .name(),
            "digits"
        );
    }

    #[test]
    fn csv_targets_read_integers_as_indices_and_strings_as_names() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error;
        fn read<T: IntoDeserializer<'static, Error>>(
            value: T,
        ) -> std::result::Result<CsvTarget, Error> {
            CsvTarget::deserialize(value.into_deserializer())
        }
        assert_eq!(read(0u64), Ok(CsvTarget::Index(0)));
        assert_eq!(read(2i64), Ok(CsvTarget::Index(2)));
        assert_eq!(read("y"), Ok(CsvTarget::Name("y".into())));
        assert_eq!(read("last"), Ok(CsvTarget::Last));
        let negative = read(-1i64).unwrap_err().to_string();
        assert!(
            negative.contains("expected a 0-based column index (an integer such as 0)"),
            "{negative}"
        );
        let float = read(1.5f64).unwrap_err().to_string();
        assert!(float.contains("or a column name"), "{float}");

        // Shown as written in a config.
        assert_eq!(CsvTarget::Index(3).to_string(), "3");
        assert_eq!(CsvTarget::from("y").to_string(), "\"y\"");
        assert_eq!(CsvTarget::from("last"), CsvTarget::Last);
        assert_eq!(CsvTarget::default().to_string(), "\"last\"");

        let mut empty = csv(CsvTask::Auto, None, 0.2);
        if let DataSpec::Csv { target, .. } = &mut empty {
            *target = CsvTarget::Name(" ".into());
        }
        assert!(
            empty
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("data.target = \" \": name the target column"),
        );
    }

    #[test]
    fn bad_values_are_named() {
        let e = DataSpec::Digits {
            test_fraction: 1.5,
            split_seed: 0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.to_string(), "data.test_fraction = 1.5: must be in (0, 1)");

        let e = DataSpec::Spirals {
            arms: 1,
            dim: 2,
            noise: 0.1,
            n_train: 10,
            n_test: 10,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.to_string(), "data.arms = 1: must be at least 2");

        let e = DataSpec::Teacher {
            dim: 4,
            outputs: 1,
            depth: 2,
            width: 8,
            noise: f64::NAN,
            n_train: 10,
            n_test: 10,
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().starts_with("data.noise = NaN"), "{e}");

        let e = DataSpec::Gaussian {
            dim: 1 << 20,
            outputs: 1,
            n_train: 1 << 20,
            n_test: 1,
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().starts_with("data.n_train = "), "{e}");

        let e = csv(CsvTask::Regression, Some(3), 0.2)
            .validate()
            .unwrap_err();
        assert!(e.to_string().starts_with("data.classes = 3"), "{e}");

        let e = csv(CsvTask::Auto, None, f64::NAN).validate().unwrap_err();
        assert!(matches!(e, DataError::Invalid { .. }));
        csv(CsvTask::Auto, None, 0.2).validate().unwrap();
    }
}
