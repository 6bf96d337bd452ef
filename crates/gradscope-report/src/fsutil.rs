//! Atomic file writes: write a temporary file in the destination's folder, then rename it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// The temporary name used for `path`: a hidden file in the same folder that keeps the
/// extension (the PNG encoder picks the format from it).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp{ext}", std::process::id()))
}

/// Writes `bytes` to `path` atomically: a hidden temporary file in the same folder (created if
/// needed), then a rename, so a reader never sees half a file. Every gradscope output goes
/// through here.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(ReportError::io(path, e));
    }
    rename_into_place(&tmp, path)
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
