//! The one error type of this crate.
//!
//! Every message names the file (or the spec field) it is about and, where there is one, the
//! 1-based line and column, so a user can go straight to the bad cell.

use std::path::PathBuf;

use crate::spec::CsvTarget;

/// Everything that can go wrong while loading or checking a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read (or an embedded file could not be decompressed).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A cell (or a line) could not be understood.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line in the file (the header, if any, is line 1).
        line: usize,
        /// 1-based cell index on that line.
        column: usize,
        /// What was expected and what was found.
        message: String,
    },

    /// The file holds no data rows (it is empty, blank, or only a header).
    #[error("{path}: the file has no data rows")]
    Empty {
        /// The file, as shown to the user.
        path: String,
    },

    /// The target column named in the spec is not in the file.
    #[error(
        "{path}: no target column {target}; available: {} (or \"last\"){hint}",
        available.join(", ")
    )]
    MissingTarget {
        /// The file, as shown to the user.
        path: String,
        /// The target as given in the spec.
        target: CsvTarget,
        /// The column names (with a header) or the valid 0-based indices (without).
        available: Vec<String>,
        /// Empty, or `; ` and what was probably meant (e.g. an index written in quotes).
        hint: String,
    },

    /// The target in the spec fits more than one column (a header name used twice, or `"last"`
    /// with a column named `last` that is not the last one): picking one silently could train
    /// on the wrong column.
    #[error(
        "{path}: target {target} could be column {} (0-based); write the 0-based index of the \
         one you mean as an integer, e.g. target = {}",
        join_indices(columns),
        columns.last().copied().unwrap_or(0)
    )]
    AmbiguousTarget {
        /// The file, as shown to the user.
        path: String,
        /// The target as given in the spec.
        target: CsvTarget,
        /// The 0-based indices of the columns it could mean.
        columns: Vec<usize>,
    },

    /// A class label is not below the number of classes.
    #[error(
        "{path}:{line}:{column}: label {label}{} is out of range for {classes} classes \
         (labels must be 0..={})",
        in_column(column_name.as_deref()),
        classes.saturating_sub(1)
    )]
    LabelOutOfRange {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line in the file.
        line: usize,
        /// 1-based cell index of the target column.
        column: usize,
        /// The target column's header name, if the file has a header.
        column_name: Option<String>,
        /// The offending label.
        label: f64,
        /// The number of classes it was checked against.
        classes: usize,
    },

    /// `data.path` names something that is not a regular file (a directory, a FIFO, a device
    /// such as `/dev/zero`): reading it could block forever or never end, so it is refused
    /// before it is opened.
    #[error("{}: not a regular file (it is {kind}); data.path must name a CSV file", path.display())]
    NotRegularFile {
        /// The path as configured.
        path: PathBuf,
        /// What it is instead, e.g. `a FIFO (named pipe)`.
        kind: &'static str,
    },

    /// The file is larger than [`MAX_CSV_BYTES`](crate::MAX_CSV_BYTES).
    #[error(
        "{path}: {}, more than the {} a CSV file may hold",
        size.map_or_else(|| "read on and on".to_owned(), |s| format!("{s} bytes")),
        bytes_text(*limit)
    )]
    TooLarge {
        /// The file, as shown to the user.
        path: String,
        /// Its size, when known before reading (`None`: it kept growing while being read).
        size: Option<u64>,
        /// The limit it broke.
        limit: u64,
    },

    /// A record (a line, with any line breaks inside quotes) is longer than
    /// [`MAX_CSV_RECORD_BYTES`](crate::MAX_CSV_RECORD_BYTES).
    #[error(
        "{path}:{line}: the record starting on this line is longer than {} (an unclosed \
         double quote runs to the end of the file; binary data has no line breaks)",
        bytes_text(*limit as u64)
    )]
    RecordTooLong {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line where the record starts.
        line: usize,
        /// The limit it broke.
        limit: usize,
    },

    /// A row has more cells than [`MAX_CSV_COLUMNS`](crate::MAX_CSV_COLUMNS).
    #[error("{path}:{line}: {found} cells, more than the {limit} columns a CSV file may have")]
    TooManyColumns {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line of the row.
        line: usize,
        /// Cells on that line.
        found: usize,
        /// The limit it broke.
        limit: usize,
    },

    /// The table holds more values than [`MAX_ELEMENTS`](crate::MAX_ELEMENTS).
    #[error(
        "{path}:{line}: by this line the table holds more than {limit} values, the most a data \
         set may hold in memory"
    )]
    TooManyValues {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line on which the limit was passed.
        line: usize,
        /// The limit it broke.
        limit: usize,
    },

    /// Too few data rows for a train split of at least
    /// [`MIN_TRAIN_ROWS`](crate::MIN_TRAIN_ROWS) and a test split of at least
    /// [`MIN_TEST_ROWS`](crate::MIN_TEST_ROWS) rows.
    #[error(
        "{path}: {} with data.test_fraction = {test_fraction} splits into {train} train / \
         {test} test rows; training needs at least {} train rows and at least {} (add rows or \
         change test_fraction)",
        count(*rows, "data row"),
        crate::MIN_TRAIN_ROWS,
        count(crate::MIN_TEST_ROWS, "test row")
    )]
    TooFewRows {
        /// The file, as shown to the user.
        path: String,
        /// Data rows in the file.
        rows: usize,
        /// The test fraction asked for.
        test_fraction: f64,
        /// Rows it leaves for training.
        train: usize,
        /// Rows it leaves for testing.
        test: usize,
    },

    /// Every row that is trained on has the same target: one class, or a constant regression
    /// value (standard deviation 0). There is nothing to learn, and the gradients that vanish
    /// once the model fits the constant would later be misread as a network's fault.
    #[error(
        "{path}: every {scope} has the target {value} (in {}); {}",
        column_label(*column, column_name.as_deref()),
        if *classification {
            "classification needs at least 2 distinct classes"
        } else {
            "a regression target must vary (its standard deviation is 0)"
        }
    )]
    ConstantTarget {
        /// The file, as shown to the user.
        path: String,
        /// Which rows: `row of the file`, or the training split with its seed.
        scope: String,
        /// 1-based cell index of the target column.
        column: usize,
        /// The target column's header name, if the file has a header.
        column_name: Option<String>,
        /// The one target value.
        value: f64,
        /// Whether the target is a class label (else a regression value).
        classification: bool,
    },

    /// A row has a different number of cells than the first row.
    #[error("{path}:{line}: expected {expected} cells (as in the first row), found {found}")]
    Ragged {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line in the file.
        line: usize,
        /// Cells in the first row (the header, if any).
        expected: usize,
        /// Cells on this line.
        found: usize,
    },

    /// A value in the spec is not allowed, e.g. `data.test_fraction = 1.5: must be in (0, 1)`.
    #[error("{field} = {message}")]
    Invalid {
        /// The spec field, e.g. `data.test_fraction`.
        field: String,
        /// The offending value, a colon, and why it is wrong.
        message: String,
    },
}

impl DataError {
    /// A [`DataError::Invalid`] for spec field `data.<field>` holding `value`.
    pub(crate) fn invalid(field: &str, value: impl std::fmt::Display, why: &str) -> Self {
        DataError::Invalid {
            field: format!("data.{field}"),
            message: format!("{value}: {why}"),
        }
    }
}

/// ` in column "name"` for a column with a header name, else nothing.
fn in_column(name: Option<&str>) -> String {
    name.map(|n| format!(" in column {n:?}"))
        .unwrap_or_default()
}

/// `1 GiB`, `1 MiB`, or `1000 bytes`: a size limit as it was chosen.
fn bytes_text(n: u64) -> String {
    match n {
        0 => "0 bytes".to_owned(),
        n if n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n => format!("{n} bytes"),
    }
}

/// `1 data row`, `2 data rows`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `column 3, "y"` (1-based, as in `file:line:column`) or `column 3` without a header.
fn column_label(column: usize, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("column {column}, {n:?}"),
        None => format!("column {column}"),
    }
}

/// `1 or 3`, `0, 2 or 5`.
fn join_indices(columns: &[usize]) -> String {
    let text: Vec<String> = columns.iter().map(ToString::to_string).collect();
    match text.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => text.join(""),
    }
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, DataError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_position_and_value() {
        let e = DataError::Parse {
            path: "data.csv".into(),
            line: 12,
            column: 3,
            message: "expected a number, found \"abc\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "data.csv:12:3: expected a number, found \"abc\""
        );

        let e = DataError::invalid("test_fraction", 1.5, "must be in (0, 1)");
        assert_eq!(e.to_string(), "data.test_fraction = 1.5: must be in (0, 1)");

        let e = DataError::LabelOutOfRange {
            path: "d.csv".into(),
            line: 4,
            column: 2,
            column_name: None,
            label: 3.0,
            classes: 3,
        };
        assert_eq!(
            e.to_string(),
            "d.csv:4:2: label 3 is out of range for 3 classes (labels must be 0..=2)"
        );

        let e = DataError::MissingTarget {
            path: "d.csv".into(),
            target: CsvTarget::from("y"),
            available: vec!["a".into(), "b".into()],
            hint: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "d.csv: no target column \"y\"; available: a, b (or \"last\")"
        );

        let e = DataError::TooLarge {
            path: "d.csv".into(),
            size: None,
            limit: 1 << 30,
        };
        assert_eq!(
            e.to_string(),
            "d.csv: read on and on, more than the 1 GiB a CSV file may hold"
        );

        let e = DataError::AmbiguousTarget {
            path: "d.csv".into(),
            target: CsvTarget::Last,
            columns: vec![0, 3, 4],
        };
        assert_eq!(
            e.to_string(),
            "d.csv: target \"last\" could be column 0, 3 or 4 (0-based); write the 0-based index \
             of the one you mean as an integer, e.g. target = 4"
        );

        let e = DataError::ConstantTarget {
            path: "d.csv".into(),
            scope: "row of the file".into(),
            column: 2,
            column_name: Some("y".into()),
            value: 1.0,
            classification: true,
        };
        assert_eq!(
            e.to_string(),
            "d.csv: every row of the file has the target 1 (in column 2, \"y\"); classification \
             needs at least 2 distinct classes"
        );
    }
}
