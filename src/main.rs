//! The `gitseal` binary: the command line (`cli`) over the `gitseal` library.

// Parsing allocates many small strings; mimalloc is markedly faster at that than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;

fn main() {
    std::process::exit(cli::main())
}
