//! The one error type of this crate.
//!
//! Every message names the file (or the spec field) it is about and, where there is one, the
//! 1-based line and column, so a user can go straight to the bad cell.

use std::path::PathBuf;

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
        "{path}: no target column {target:?}; available: {} (or \"last\")",
        available.join(", ")
    )]
    MissingTarget {
        /// The file, as shown to the user.
        path: String,
        /// The target as written in the spec.
        target: String,
        /// The column names (with a header) or the valid 0-based indices (without).
        available: Vec<String>,
    },

    /// A class label is not below the number of classes.
    #[error(
        "{path}:{line}:{column}: label {label} is out of range for {classes} classes \
         (labels must be 0..={})",
        classes.saturating_sub(1)
    )]
    LabelOutOfRange {
        /// The file, as shown to the user.
        path: String,
        /// 1-based line in the file.
        line: usize,
        /// 1-based cell index of the target column.
        column: usize,
        /// The offending label.
        label: f64,
        /// The number of classes it was checked against.
        classes: usize,
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
            label: 3.0,
            classes: 3,
        };
        assert_eq!(
            e.to_string(),
            "d.csv:4:2: label 3 is out of range for 3 classes (labels must be 0..=2)"
        );

        let e = DataError::MissingTarget {
            path: "d.csv".into(),
            target: "y".into(),
            available: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "d.csv: no target column \"y\"; available: a, b (or \"last\")"
        );
    }
}
