//! The files a run writes, and writing them atomically.
//!
//! A run folder holds `config.toml` (the config actually used), `metrics.jsonl` (the records of
//! both runs, see `gradscope_record::step`), `metrics.csv` (the same, long format) and
//! `summary.json`, written last: a folder with a `summary.json` is a finished run. Every file is
//! written to a temporary name in the same folder and renamed into place, so a reader (or a
//! resumed sweep) never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

pub use gradscope_record::{
    FinalMetrics, Finals, SUMMARY_SCHEMA_VERSION, Seeds, Status, Summary, TheoryPrediction,
    Verdict, Versions,
};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// The versions of this build, for `summary.json`.
pub fn versions() -> Versions {
    Versions {
        gradscope: env!("CARGO_PKG_VERSION").to_string(),
        burn: "0.22.1".to_string(),
        summary_schema: SUMMARY_SCHEMA_VERSION,
        record_schema: gradscope_record::SCHEMA_VERSION,
    }
}
