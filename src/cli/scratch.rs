//! Where plaintext lives for a moment, and the clean-up of what a killed gitseal left there.
//!
//! Two kinds of place hold plaintext that gitseal removes itself:
//! - a temp file next to the file being written (see [`super::io::write_atomic`]), named
//!   `.gitseal-<pid>-<random>.tmp` whenever it has a name at all;
//! - the private directory of `edit` and `exec-file`, `gitseal-<pid>-<random>` (mode 0700) in a
//!   memory-backed base directory where there is one: `$XDG_RUNTIME_DIR` (when it is a 0700
//!   directory of the current user), else `/dev/shm` (when writable), else the temp directory.
//!
//! A `kill -9` gives gitseal no chance to remove them, so every name carries the owning process
//! id, and later runs remove the ones whose process is gone (`/proc/<pid>` missing; where that
//! cannot be told, those older than an hour), one stderr line each. Only entries of the current
//! user are touched, never one of a live process.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rand::distributions::{Alphanumeric, DistString};

use super::exit;
use super::{warn, Failure};

/// How old an entry whose owner cannot be told must be to count as left behind.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// A fresh name for a temp file next to a target: `.gitseal-<pid>-<random>.tmp`.
pub(crate) fn temp_file_name() -> String {
    format!("{}{}.tmp", temp_file_prefix(), Alphanumeric.sample_string(&mut rand::thread_rng(), 12))
}

/// The start of this process's temp file names, `.gitseal-<pid>-`.
pub(crate) fn temp_file_prefix() -> String {
    format!(".gitseal-{}-", std::process::id())
}

/// Removes the temp files in `dir` that killed gitseal runs left behind, saying so on stderr.
/// Each directory is looked at once per process, so writing many files into one directory
/// (`decrypt -i -r`) stays linear.
pub(crate) fn remove_stale_files(dir: &Path) {
    static SEEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    if !SEEN.lock().map_or(true, |mut seen| seen.insert(dir.to_path_buf())) {
        return;
    }
    for (path, owner) in stale_entries(dir, temp_file_owner, |m| m.file_type().is_file()) {
        match fs::remove_file(&path) {
            Ok(()) => {
                warn(&format!("removed {}, a temporary file left by an interrupted gitseal{owner}", path.display()))
            }
            Err(e) => warn(&format!("cannot remove {}, left by an interrupted gitseal: {e}", path.display())),
        }
    }
}

/// Removes the private directories that killed `edit` or `exec-file` runs left in the base
/// directory a run with this `shared` setting uses (see [`private_dir`]), saying so on stderr.
pub(crate) fn remove_stale_dirs(shared: bool) {
    let base = private_base(shared);
    for (path, owner) in stale_entries(&base, private_dir_owner, |m| m.file_type().is_dir()) {
        // remove_dir_all does not follow symlinks inside the directory.
        match fs::remove_dir_all(&path) {
            Ok(()) => {
                warn(&format!("removed {}, the plaintext directory of an interrupted gitseal{owner}", path.display()))
            }
            Err(e) => warn(&format!("cannot remove {}, left by an interrupted gitseal: {e}", path.display())),
        }
    }
}

/// A new private directory (mode 0700) for plaintext, removed when dropped. `shared`: another
/// account must reach a file in it (`exec-file --user`), so `$XDG_RUNTIME_DIR`, which only
/// its owner may enter, is not used.
pub(crate) fn private_dir(shared: bool) -> Result<tempfile::TempDir, Failure> {
    let base = private_base(shared);
    tempfile::Builder::new()
        .prefix(&format!("gitseal-{}-", std::process::id()))
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(&base)
        .and_then(|d| fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).map(|()| d))
        .map_err(|e| {
            Failure::new(
                exit::CANNOT_WRITE,
                format!("cannot create a private temporary directory in {}: {e}", base.display()),
            )
        })
}

/// Writes plaintext to a new file (mode 0600) in a private directory.
pub(crate) fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// The base directory for private directories: `$XDG_RUNTIME_DIR` when it is an absolute path
/// to a directory of the current user with mode 0700 (and not `shared`), else `/dev/shm` when
/// this process may create entries there, else the temp directory (`$TMPDIR`, `/tmp`).
fn private_base(shared: bool) -> PathBuf {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).filter(|d| d.is_absolute());
    if let Some(dir) = runtime.filter(|_| !shared) {
        let private = fs::metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == my_uid() && m.mode() & 0o777 == 0o700);
        if private {
            return dir;
        }
    }
    let shm = Path::new("/dev/shm");
    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
    if shm.is_dir() && rustix::fs::access(shm, access).is_ok() {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

/// The effective uid, which owns what this process creates.
fn my_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Who made an entry named like a temp file: `Some(Some(pid))` for `.gitseal-<pid>-<x>.tmp`,
/// `Some(None)` for the names of gitseal versions before the pid was in them
/// (`.gitseal-<6 letters or digits>.tmp`), `None` for any other name.
fn temp_file_owner(name: &str) -> Option<Option<u32>> {
    let rest = name.strip_prefix(".gitseal-")?.strip_suffix(".tmp")?;
    match rest.split_once('-') {
        Some((pid, random)) if !random.is_empty() => pid_of(pid).map(Some),
        None if rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()) => Some(None),
        _ => None,
    }
}

/// The pid in a private directory's name, `gitseal-<pid>-<random>`.
fn private_dir_owner(name: &str) -> Option<Option<u32>> {
    let (pid, random) = name.strip_prefix("gitseal-")?.split_once('-')?;
    (!random.is_empty()).then_some(())?;
    pid_of(pid).map(Some)
}

fn pid_of(digits: &str) -> Option<u32> {
    digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
}

/// The entries of `dir` that `owner_of` recognises, of the kind `kind` accepts, owned by the
/// current user and left behind: their process is gone (or, when that cannot be told, they are
/// older than [`STALE_AFTER`]). Each comes with a note on its owner for the message.
fn stale_entries(
    dir: &Path,
    owner_of: fn(&str) -> Option<Option<u32>>,
    kind: fn(&fs::Metadata) -> bool,
) -> Vec<(PathBuf, String)> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let uid = my_uid();
    let mut stale = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(owner_of) else { continue };
        // The entry itself, never what a symlink points to.
        let Ok(meta) = fs::symlink_metadata(entry.path()) else { continue };
        if !kind(&meta) || meta.uid() != uid {
            continue;
        }
        let left = match owner.map(process_alive) {
            Some(Some(alive)) => !alive,
            _ => older_than(&meta, STALE_AFTER),
        };
        if left {
            let note = owner.map_or_else(|| " (an older version)".to_string(), |pid| format!(" (process {pid})"));
            stale.push((entry.path(), note));
        }
    }
    stale
}

/// Whether process `pid` exists: `/proc/<pid>` where /proc is mounted, else `kill(pid, 0)`;
/// `None` when it cannot be told.
fn process_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    if Path::new("/proc/self").exists() {
        return Some(Path::new(&format!("/proc/{pid}")).exists());
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    match rustix::process::test_kill_process(pid) {
        Ok(()) | Err(rustix::io::Errno::PERM) => Some(true),
        Err(rustix::io::Errno::SRCH) => Some(false),
        Err(_) => None,
    }
}

fn older_than(meta: &fs::Metadata, age: Duration) -> bool {
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    SystemTime::now().duration_since(modified).is_ok_and(|d| d > age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_pid() {
        let name = temp_file_name();
        assert_eq!(temp_file_owner(&name), Some(Some(std::process::id())));
        assert_eq!(temp_file_owner(".gitseal-42-abc.tmp"), Some(Some(42)));
        assert_eq!(temp_file_owner(".gitseal-a1B2c3.tmp"), Some(None));
        for other in [".gitseal-.tmp", ".gitseal-42-.tmp", ".gitseal-x1-abc.tmp", ".gitseal-42-abc", "notes.tmp"] {
            assert_eq!(temp_file_owner(other), None, "{other}");
        }
        assert_eq!(private_dir_owner("gitseal-7-Xy12ab"), Some(Some(7)));
        assert_eq!(private_dir_owner("gitseal-it-Xy12ab"), None);
        assert_eq!(private_dir_owner("gitseal-7-"), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert_eq!(process_alive(std::process::id()), Some(true));
    }
}
