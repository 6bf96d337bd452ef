//! The `gradscope` command: see `gradscope --help`.

fn main() {
    std::process::exit(gradscope_trainer::cli::main());
}
