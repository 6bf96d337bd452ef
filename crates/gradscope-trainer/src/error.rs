//! Errors of the trainer and the exit codes the `gradscope` command maps them to.

use std::path::PathBuf;

/// Exit codes of the `gradscope` command (documented in the README).
pub mod exit_code {
    /// Success (a run that turned non-finite is a finding, and also exits 0).
    pub const OK: i32 = 0;
    /// An unexpected internal error.
    pub const INTERNAL: i32 = 1;
    /// Bad command-line usage (clap's own code).
    pub const USAGE: i32 = 2;
    /// A bad config value or override.
    pub const CONFIG: i32 = 3;
    /// A bad or unreadable data file.
    pub const DATA: i32 = 4;
    /// Results could not be written or read.
    pub const IO: i32 = 5;
    /// The run turned non-finite and `--fail-on-nonfinite` was given.
    pub const NONFINITE: i32 = 6;
    /// Another gradscope process is writing the same run or sweep folder.
    pub const BUSY: i32 = 7;
    /// A sweep finished, but some of its runs failed (their errors are logged).
    pub const RUNS_FAILED: i32 = 8;
    /// Interrupted (Ctrl-C or SIGTERM); what was done is written.
    pub const INTERRUPTED: i32 = 130;
}

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config problem.
    #[error(transparent)]
    Config(#[from] gradscope_config::ConfigError),
    /// A data problem.
    #[error(transparent)]
    Data(#[from] gradscope_data::DataError),
    /// A model problem.
    #[error(transparent)]
    Model(#[from] gradscope_model::ModelError),
    /// Reading records.
    #[error(transparent)]
    Record(#[from] gradscope_diagnostics::RecordError),
    /// Drawing the report.
    #[error(transparent)]
    Report(#[from] gradscope_report::ReportError),
    /// A file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file's content is not what it should be.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A sweep file is malformed or inconsistent (a config problem: exit 3).
    #[error("{}: {message}", path.display())]
    Sweep {
        /// The sweep file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another process holds the folder's lock.
    #[error(
        "{}: another gradscope process{} is writing this folder; wait for it or choose another --out",
        path.display(),
        if holder.is_empty() { String::new() } else { format!(" (pid {holder})") }
    )]
    Busy {
        /// The run or sweep folder.
        path: PathBuf,
        /// The process id written by the holder (may be empty).
        holder: String,
    },
    /// What a command would build does not fit in memory.
    #[error(
        "{what} needs about {} but {} {}: refusing before anything is built",
        crate::memory::human_bytes(*need),
        crate::memory::human_bytes(*limit),
        limit_source
    )]
    Memory {
        /// What was sized (a model, a benchmark cell).
        what: String,
        /// The estimate in bytes.
        need: u64,
        /// The limit in bytes.
        limit: u64,
        /// Where the limit comes from (`is available`, `is allowed by --max-memory`).
        limit_source: &'static str,
    },
    /// Standard output was closed by its reader (`| head`): stop quietly, as a pipeline expects.
    #[error("standard output closed")]
    BrokenPipe,
    /// A command-line value is out of range.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Model(_) | Error::Sweep { .. } | Error::Memory { .. } => {
                exit_code::CONFIG
            }
            Error::Busy { .. } => exit_code::BUSY,
            Error::BrokenPipe => exit_code::OK,
            Error::Data(_) => exit_code::DATA,
            Error::Io { .. } | Error::Record(_) | Error::Report(_) | Error::Invalid { .. } => {
                exit_code::IO
            }
            Error::Usage(_) => exit_code::USAGE,
        }
    }

    /// A hint shown under the message, if one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Config(_) => Some(
                "`gradscope config --defaults` prints every key with its default and allowed values",
            ),
            Error::Data(_) => Some("see `gradscope config --defaults` for the [data] keys"),
            Error::Memory { .. } => Some(
                "use a smaller width, depth or batch, or set --max-memory if the estimate is too cautious",
            ),
            _ => None,
        }
    }

    /// An I/O error at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
