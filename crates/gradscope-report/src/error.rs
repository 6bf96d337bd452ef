//! Errors of loading runs and writing reports; every variant names the file or folder.

use std::path::PathBuf;

use gradscope_record::RecordError;

/// Why a run could not be loaded or a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `metrics.jsonl` or `summary.json` is not valid (the message names the file and line).
    #[error(transparent)]
    Record(#[from] RecordError),
    /// No run folder (a folder holding `summary.json`) was found.
    #[error("{}: no run folder (a folder holding summary.json) found here or up to 2 levels down", dir.display())]
    NoRuns {
        /// The folder searched.
        dir: PathBuf,
    },
    /// Drawing a plot failed.
    #[error("{}: drawing the plot failed: {message}", path.display())]
    Plot {
        /// The plot file being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The embedded font could not be registered with plotters.
    #[error("the embedded font (assets/DejaVuSans.ttf) could not be loaded")]
    Font,
}

impl ReportError {
    /// An [`ReportError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }
}
