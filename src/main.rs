fn main() {
    std::process::exit(gitseal::cli::main())
}
