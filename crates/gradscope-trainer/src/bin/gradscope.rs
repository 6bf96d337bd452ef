//! The `gradscope` command: see `gradscope --help`.

fn main() {
    gradscope_trainer::alloc::tune_allocator();
    std::process::exit(gradscope_trainer::cli::main());
}
