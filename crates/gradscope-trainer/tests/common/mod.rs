//! Running the real `gradscope` binary from the integration tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (configs live there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `gradscope args…` in `dir`, with no log filter and no shard from the environment.
pub fn gradscope(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradscope"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .expect("the gradscope binary runs")
}
