//! Running the real `gradscope` binary from the integration tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (configs live there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `gradscope args…` in `dir`, with no log filter and no shard from the environment.
pub fn command(args: &[&str], dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gradscope"));
    c.args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    c
}

/// Runs [`command`] to its end.
pub fn gradscope(args: &[&str], dir: &Path) -> Output {
    command(args, dir)
        .output()
        .expect("the gradscope binary runs")
}

/// A small sweep (6 runs: depth 2 and 5 × plain, residual, layer norm) on spirals, written as
/// `tiny.toml` in `dir`, each run `steps` long.
pub fn write_sweep(dir: &Path, steps: usize) -> PathBuf {
    let p = dir.join("tiny.toml");
    std::fs::write(&p, SWEEP.replace("STEPS", &steps.to_string())).unwrap();
    p
}

const SWEEP: &str = r#"
name = "tiny"
[base]
seed = 1
[base.model]
depth = 3
width = 16
activation = "tanh"
[base.data]
name = "spirals"
n_train = 96
n_test = 48
[base.train]
steps = STEPS
batch_size = 32
eval_every = 10
signal_window = 5
[axes]
"model.depth" = [2, 5]
[zip]
"model.residual" = [false, true, false]
"model.norm" = ["none", "none", "layer"]
"#;
