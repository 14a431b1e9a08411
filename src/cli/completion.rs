//! `gitseal completion SHELL`: a shell completion script on standard output (sops has the same
//! subcommand). Under the name `sops` the script completes `sops`.

use clap::CommandFactory;

use super::args::CompletionArgs;
use super::exit;
use super::{Cli, Failure};

pub(crate) fn run(a: CompletionArgs) -> Result<(), Failure> {
    let name = if super::as_sops() { "sops" } else { "gitseal" };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, name, &mut out);
    use std::io::Write;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot write the script: {e}")))
}
