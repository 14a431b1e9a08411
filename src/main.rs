//! The `gitseal` binary: the command line (`cli`) over the `gitseal` library.
//!
//! The binary starts at the C `main` (`no_main`): Rust's own start-up finds the main thread's
//! stack by reading and parsing `/proc/self/maps`, to print a message on a stack overflow
//! (about 0.1 ms, a twentieth of decrypting a small file); gitseal's parsers bound their depth
//! instead. What else that start-up does is done here: standard descriptors opened when closed,
//! SIGPIPE ignored, a panic's exit code.
#![cfg_attr(not(test), no_main)]

// The C library's allocator for small inputs, mimalloc for large ones (see cli::heap).
#[global_allocator]
static GLOBAL: cli::heap::Heap = cli::heap::Heap;

mod cli;

/// The process's entry point, called by the C runtime (the arguments are read through
/// `std::env`, which the C runtime also hands them to).
#[cfg_attr(not(test), no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    cli::heap::start();
    // A panic is a bug; it is reported as Rust reports it (the hook prints it) and exits 101.
    let code = std::panic::catch_unwind(cli::main).unwrap_or(101);
    cli::exit(code)
}
