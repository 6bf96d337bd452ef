//! Atomic file writes, with the report's errors: the writer itself is
//! [`gradscope_record::run_folder::write_atomic`] (a temporary file in the destination's folder,
//! synced, then renamed), shared by everything gradscope writes.

use std::fs;
use std::path::{Path, PathBuf};

use gradscope_record::{RecordError, run_folder};

use crate::error::ReportError;

/// The temporary name used for `path`: a hidden file in the same folder that keeps the
/// extension (the PNG encoder picks the format from it). See [`run_folder::temp_path`].
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    run_folder::temp_path(path)
}

/// Writes `bytes` to `path` atomically: a hidden temporary file in the same folder (created if
/// needed), then a rename, so a reader never sees half a file. Every gradscope output goes
/// through here (or through [`run_folder::write_atomic`] itself).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    run_folder::write_atomic(path, bytes).map_err(from_record)
}

/// A [`RecordError`] as a [`ReportError`]: a file-system error stays [`ReportError::Io`] naming
/// its path, anything else is [`ReportError::Record`].
pub(crate) fn from_record(e: RecordError) -> ReportError {
    match e {
        RecordError::Io { path, source } => ReportError::io(path, source),
        other => ReportError::Record(other),
    }
}

/// Renames a finished temporary file onto `path` (removing the temporary file on failure).
pub(crate) fn rename_into_place(tmp: &Path, path: &Path) -> Result<(), ReportError> {
    fs::rename(tmp, path).map_err(|e| {
        let _ = fs::remove_file(tmp);
        ReportError::io(path, e)
    })
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))
}
