//! The `gitseal` binary: the CLI in `gitseal::cli` over the library.

// Parsing allocates many small strings; mimalloc is markedly faster at that than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(gitseal::cli::main())
}
