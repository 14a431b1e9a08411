//! What several commands share: loading `.sops.yaml` for the CLI, and the multi-file mode
//! (several files or `--recursive` directories in one process, which sops lacks: getsops/sops #945).

use std::path::{Path, PathBuf};

use super::args::IoArgs;
use super::{exit, report, warn, Failure};
use gitseal::config::{self, Config};
use gitseal::keyring::{self, Keyring};

static EXPLICIT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

/// Records the config file named by `--config` (or `SOPS_CONFIG`) for this run.
pub(crate) fn set_config_path(path: Option<PathBuf>) {
    let _ = EXPLICIT.set(path.filter(|p| !p.as_os_str().is_empty()));
}

/// The connections of KMS and Vault keys for this process: one runtime and one set of clients,
/// shared by every file a command opens or writes.
pub(crate) fn remote() -> &'static gitseal_keys::Remote {
    static REMOTE: std::sync::OnceLock<gitseal_keys::Remote> = std::sync::OnceLock::new();
    REMOTE.get_or_init(gitseal_keys::Remote::new)
}

/// The keyring for a decrypting command: identities load from the environment on first need,
/// key kinds are tried in `--decryption-order` (or `SOPS_DECRYPTION_ORDER`) when given.
pub(crate) fn keyring(decryption_order: Option<&str>) -> Result<Keyring, Failure> {
    let mut keys = Keyring::new().with_remote(remote().clone());
    if let Some(order) = decryption_order.filter(|o| !o.trim().is_empty()) {
        let order = keyring::parse_decryption_order(order).map_err(|m| {
            Failure::new(exit::DUPLICATE_DECRYPTION_KEY_TYPE, format!("invalid --decryption-order: {m}"))
        })?;
        keys.set_decryption_order(order);
    }
    Ok(keys)
}

/// Finds and reads `.sops.yaml` (from `--config`/`SOPS_CONFIG`, else by searching upwards from
/// the working directory), printing its warnings. With `required`, a broken config is an error;
/// without, it is a warning and no config is used.
pub(crate) fn load_config(required: bool) -> Result<Option<Config>, Failure> {
    load_config_with(required, Config::load)
}

/// The config found for this run, read for its `stores` settings alone (decryption, as sops);
/// one that cannot be read is a warning.
pub(crate) fn load_stores_config() -> Result<Option<Config>, Failure> {
    load_config_with(false, Config::load_stores)
}

fn load_config_with(
    required: bool,
    load: fn(&Path) -> Result<Config, config::ConfigError>,
) -> Result<Option<Config>, Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let located = config::locate(EXPLICIT.get().and_then(|p| p.as_deref()), &cwd);
    for w in &located.warnings {
        warn(w);
    }
    let Some(path) = located.path else { return Ok(None) };
    match load(&path) {
        Ok(cfg) => {
            for w in &cfg.warnings {
                warn(w);
            }
            Ok(Some(cfg))
        }
        Err(e) if required => Err(Failure::new(exit::GENERIC, e.to_string())),
        Err(e) => {
            warn(&format!("{e} (the config is not used)"));
            Ok(None)
        }
    }
}

/// The files of a multi-file command, or `None` for the classic single-file (or stdin) mode.
/// Directories are refused unless `recursive`; then the regular files under them are taken,
/// sorted, skipping hidden names (such as `.git` and `.sops.yaml`). Duplicates are dropped.
pub(crate) fn expand(
    first: Option<&PathBuf>,
    more: &[PathBuf],
    recursive: bool,
) -> Result<Option<Vec<PathBuf>>, Failure> {
    let Some(first) = first else { return Ok(None) };
    if more.is_empty() && !first.is_dir() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for arg in std::iter::once(first).chain(more) {
        if arg.as_os_str() == "-" {
            return Err(Failure::new(exit::CONFLICT, "standard input (-) cannot be combined with other files"));
        }
        if arg.is_dir() {
            if !recursive {
                return Err(Failure::new(
                    exit::GENERIC,
                    format!(
                        "{}: is a directory; pass --recursive to process the files under it, or name the files (e.g. {}/*.yaml)",
                        arg.display(),
                        arg.display().to_string().trim_end_matches('/')
                    ),
                ));
            }
            let found = walk(arg, &|_| true)
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{}: cannot list: {e}", arg.display())))?;
            if found.is_empty() {
                return Err(Failure::new(exit::GENERIC, format!("{}: no files under this directory", arg.display())));
            }
            files.extend(found);
        } else {
            files.push(arg.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(config::absolute(f)));
    Ok(Some(files))
}

/// The files under `dir` that `keep` accepts, sorted by path, for every command that takes a
/// directory: hidden entries (a leading `.`) are skipped, symlinks to files are followed, and
/// symlinks to directories are not (so a link cannot make a cycle).
pub(crate) fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    fn visit(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                visit(&path, keep, out)?;
            } else if path.is_file() && keep(&path) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(dir, keep, &mut out)?;
    out.sort();
    Ok(out)
}

/// The I/O settings for one file of a multi-file command.
pub(crate) fn io_for(io: &IoArgs, file: &Path) -> IoArgs {
    IoArgs {
        file: Some(file.to_path_buf()),
        in_place: io.in_place,
        output: None,
        input_type: io.input_type.clone(),
        output_type: io.output_type.clone(),
        filename_override: None,
    }
}

/// Checks the flags that make no sense with several files.
pub(crate) fn check_multi_flags(io: &IoArgs) -> Result<(), Failure> {
    if io.output.is_some() {
        return Err(Failure::new(
            exit::CONFLICT,
            "--output takes one file; with several files use -i (--in-place), or run once per file",
        ));
    }
    if io.filename_override.is_some() {
        return Err(Failure::new(exit::CONFLICT, "--filename-override takes one file; with several files drop it"));
    }
    Ok(())
}

/// Runs `one` on every file; a failure is reported (with the file name) and the others still
/// run. The result fails with the exit code of the first failure.
pub(crate) fn each(files: &[PathBuf], mut one: impl FnMut(&Path) -> Result<(), Failure>) -> Result<(), Failure> {
    let mut first_code = None;
    let mut failed = 0;
    for f in files {
        if let Err(e) = one(f) {
            let name = f.display().to_string();
            if e.message.starts_with(&name) {
                report(&e.message);
            } else {
                report(&format!("{name}: {}", e.message));
            }
            failed += 1;
            first_code.get_or_insert(e.code);
        }
    }
    match first_code {
        None => Ok(()),
        Some(code) => Err(Failure::new(code, format!("{failed} of {} files failed", files.len()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One walker for every directory argument: sorted, hidden entries skipped, links to files
    /// followed, links to directories not (the sealing commands' own walker followed them, so a
    /// link to a parent directory never ended).
    #[test]
    fn walk_is_sorted_skips_hidden_and_does_not_follow_directory_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["b", "a", ".git"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        for f in ["b/2.yaml", "a/1.yaml", "a/notes.txt", ".git/config.yaml", ".hidden.yaml"] {
            std::fs::write(d.join(f), "k: v\n").unwrap();
        }
        std::os::unix::fs::symlink(d.join("a/1.yaml"), d.join("link.yaml")).unwrap();
        std::os::unix::fs::symlink(d, d.join("a/loop")).unwrap();
        let yaml = |p: &Path| p.extension().is_some_and(|e| e == "yaml");
        let found: Vec<String> =
            walk(d, &yaml).unwrap().iter().map(|p| p.strip_prefix(d).unwrap().display().to_string()).collect();
        assert_eq!(found, ["a/1.yaml", "b/2.yaml", "link.yaml"]);
    }
}
