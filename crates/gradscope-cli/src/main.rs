//! The `gradscope` command: see `gradscope --help`.
//!
//! Everything that belongs to a terminal lives here, not in the library crates: argument parsing
//! (clap), the log subscriber (tracing-subscriber), progress bars (indicatif), Ctrl-C/SIGTERM
//! handling (ctrlc), writing results to standard output, exit codes, and the launcher that runs a
//! parallel sweep's runs as child processes of this executable.

mod cli;
mod progress;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
