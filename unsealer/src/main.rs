//! `gitseal-unsealer`: the in-cluster controller binary.

use std::process::ExitCode;

use clap::Parser;
use gitseal_unsealer::config::{Command, Config};

fn main() -> ExitCode {
    let cfg = Config::parse();
    if let Some(Command::Crd) = cfg.command {
        print!("{}", gitseal_unsealer::crd::YAML);
        return ExitCode::SUCCESS;
    }
    gitseal_unsealer::log::init(cfg.log_level, cfg.log_format, cfg.log_info_stdout);
    if let Err(e) = cfg.key_cutoff() {
        eprintln!("gitseal-unsealer: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gitseal-unsealer: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(gitseal_unsealer::controller::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            gitseal_unsealer::log::error("controller stopped", &[("error", &e)]);
            eprintln!("gitseal-unsealer: {e}");
            ExitCode::FAILURE
        }
    }
}
