//! The `gitseal` binary: the command line (`cli`) over the `gitseal` library.

// Parsing allocates many small strings; mimalloc is markedly faster at that than glibc malloc
// (built without transparent huge pages: see cli::heap).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;

fn main() {
    let code = cli::main();
    cli::exit(code)
}
