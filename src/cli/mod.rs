//! The `gitseal` command line: clap definitions here, the commands in their own modules.

mod args;
mod check;
mod completion;
mod decrypt;
mod diff;
mod edit;
mod encrypt;
mod exec;
mod exit;
mod files;
mod filestatus;
mod flux;
mod git;
mod groups;
pub mod heap;
mod io;
mod keygen;
mod keygen_sealing;
mod kustomize;
mod legacy;
mod merge;
mod opening;
mod publish;
mod render;
mod reseal;
mod rotate;
mod scratch;
mod seal;
mod sealing_io;
mod set;
mod signals;
mod unseal;
mod updatekeys;
mod validate;

use std::io::{IsTerminal, Write};

use clap::Parser;
use gitseal_keys::redact_secrets;

pub use args::Cli;
use args::Command;
pub use heap::exit;

static AS_SOPS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Whether the binary was invoked under the name `sops` (a drop-in): then the messages that
/// scripts and sops's own test suite match exactly are sops's, and errors carry no prefix.
pub(crate) fn as_sops() -> bool {
    *AS_SOPS.get_or_init(|| {
        std::env::args_os().next().is_some_and(|a| std::path::Path::new(&a).file_stem().is_some_and(|n| n == "sops"))
    })
}

/// Prints a failure: `gitseal: message`, or under the name `sops` the message alone (hints,
/// which sops does not print, are left out then; see [`Failure`]). Secret
/// keys in it (a key file passed as a recipient, say) are redacted.
pub(crate) fn report(message: &str) {
    let prefix = if as_sops() { "" } else { "gitseal: " };
    let _ = writeln!(std::io::stderr(), "{prefix}{}", redact_secrets(message));
}

/// Prints a warning, `gitseal: warning: message`, with secret keys redacted.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "gitseal: warning: {}", redact_secrets(message));
}

/// Prints clap's message for a command line it refused, or its help or version text, and
/// returns the exit code: 1 for a usage error (on stderr), 0 for help and version (on stdout).
/// Secret keys are redacted: clap quotes the values it refused, and help shows the values of
/// environment variables.
fn clap_exit(e: clap::Error) -> i32 {
    let to_stderr = e.use_stderr();
    let terminal = if to_stderr { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() };
    let colored = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let rendered = e.render();
    let text = if colored { rendered.ansi().to_string() } else { rendered.to_string() };
    let mut text = redact_secrets(&text).into_owned();
    if !text.ends_with('\n') {
        // A private key without its END line is redacted to the end, newline included.
        text.push('\n');
    }
    if to_stderr {
        let _ = write!(std::io::stderr(), "{text}");
        1
    } else {
        let _ = write!(std::io::stdout(), "{text}");
        0
    }
}

/// A failure of a command: a one-line message and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// One line, naming the file and key path where there is one.
    pub message: String,
    /// What the user can do about it, printed as a line of its own (`hint: ...`).
    pub hint: Option<&'static str>,
}

impl Failure {
    /// A failure with a code.
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), hint: None }
    }

    /// Prints the failure (and its hint) and returns its exit code. An empty message prints
    /// nothing (an exit code that says it all, as `diff` finding differences).
    fn report(&self) -> i32 {
        if self.message.is_empty() {
            return self.code;
        }
        report(&self.message);
        if let Some(hint) = self.hint.filter(|_| !as_sops()) {
            let _ = writeln!(std::io::stderr(), "hint: {hint}");
        }
        self.code
    }
}

impl From<gitseal::Error> for Failure {
    fn from(e: gitseal::Error) -> Failure {
        Failure { code: exit::of(&e), message: e.to_string(), hint: exit::hint(&e) }
    }
}

/// `textconv FILE`, the one form git runs (once per file version: hundreds of times in a
/// `git log -p`), read without building the whole command-line parser; the same values clap
/// would give, from the same environment variables. Anything else goes to clap.
fn textconv_args(args: &[std::ffi::OsString]) -> Option<args::TextconvArgs> {
    let [_, sub, file] = args else { return None };
    if sub != "textconv" || file.as_encoded_bytes().first() == Some(&b'-') {
        return None;
    }
    // A value that is not UTF-8 is clap's error to report.
    let order = std::env::var_os("SOPS_DECRYPTION_ORDER").map(|v| v.into_string()).transpose().ok()?;
    Some(args::TextconvArgs { file: file.into(), decryption_order: order })
}

/// Keys and decrypted values live in this process's memory: no core dump may hold them, and
/// no other process of the user may read that memory through /proc or ptrace. Children start
/// dumpable again (execve resets it) but keep the core size limit of 0.
fn protect_memory() {
    use rustix::process::{getrlimit, set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit};
    let limit = getrlimit(Resource::Core);
    let _ = setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: limit.maximum });
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
}

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    protect_memory();
    // sops's invocation model (`gitseal -d FILE`, a binary named sops) becomes subcommand form.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Installed under KSOPS's name (its kustomize plugin path ends in `ksops`), the one argument
    // is a generator file.
    if args.first().is_some_and(|a| std::path::Path::new(a).file_stem().is_some_and(|n| n == "ksops")) {
        args.insert(1, "kustomize".into());
    }
    let args = match legacy::rewrite(args) {
        Ok(r) => {
            for w in &r.warnings {
                warn(w);
            }
            r.args
        }
        Err(f) => return f.report(),
    };
    if as_sops() && args.len() == 2 && args[1] == "--version" {
        // Scripts and wrappers (helm-secrets, pre-commit hooks) read the second word of
        // `sops --version` as the version: the sops format version gitseal writes.
        println!("sops {} (gitseal {})", gitseal::metadata::SOPS_VERSION, env!("CARGO_PKG_VERSION"));
        return 0;
    }
    if let Some(a) = textconv_args(&args) {
        files::set_config_path(std::env::var_os("SOPS_CONFIG").map(Into::into));
        return match git::textconv(a) {
            Ok(()) => 0,
            Err(f) => f.report(),
        };
    }
    // The commands run once per file parse with a parser of their own (see `OneCommand`).
    let ran = match args.get(1).and_then(|a| a.to_str()) {
        Some("decrypt") => args::OneCommand::<args::DecryptOnly>::try_parse_from(&args).ok().map(|cli| {
            files::set_config_path(cli.config);
            let args::DecryptOnly::Decrypt(a) = cli.command;
            decrypt::run(a)
        }),
        Some("encrypt") => args::OneCommand::<args::EncryptOnly>::try_parse_from(&args).ok().map(|cli| {
            files::set_config_path(cli.config);
            let args::EncryptOnly::Encrypt(a) = cli.command;
            encrypt::run(*a)
        }),
        _ => None,
    };
    if let Some(result) = ran {
        return match result {
            Ok(()) => 0,
            Err(f) => f.report(),
        };
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    files::set_config_path(cli.config.clone());
    let result = match cli.command {
        Command::Encrypt(a) => encrypt::run(*a),
        Command::Decrypt(a) => decrypt::run(a),
        Command::Keygen(a) => keygen::run(a),
        Command::Seal(a) => seal::run(a),
        Command::Unseal(a) => unseal::run(a),
        Command::Reseal(a) => reseal::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Set(a) => set::run_set(a),
        Command::Unset(a) => set::run_unset(a),
        Command::ExecEnv(a) => exec::run_env(a),
        Command::ExecFile(a) => exec::run_file(a),
        Command::Edit(a) => edit::run(*a),
        Command::Filestatus(a) => filestatus::run(a),
        Command::Rotate(a) => rotate::run(*a),
        Command::Updatekeys(a) => updatekeys::run(a),
        Command::Publish(a) => publish::run(a),
        Command::Groups(c) => groups::run(c),
        Command::Completion(a) => completion::run(a),
        Command::Textconv(a) => git::textconv(a),
        Command::Check(a) => check::run(a),
        Command::Diff(a) => diff::run(a),
        Command::MergeDriver(a) => merge::run(a),
        Command::Merge(a) => merge::resolve(a),
        Command::Kustomize(a) => kustomize::run(a),
        Command::Render(a) => render::run(a),
        Command::FluxSecret(a) => flux::run(a),
        Command::Git(args::GitCommand::Setup(a)) => git::setup(a),
    };
    match result {
        Ok(()) => 0,
        Err(f) => f.report(),
    }
}
