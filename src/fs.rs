//! Files that hold plaintext for a moment, written so that a killed process leaves none
//! behind, and the clean-up of what one left anyway.
//!
//! - [`write_atomic`]: a file written through a temp file in its directory, fsync, rename; on
//!   Linux the temp file has no name until it is complete (`O_TMPFILE`), so a `kill -9` leaves
//!   nothing, or for a few microseconds a complete file. A temp file that has a name is called
//!   `.gitseal-<pid>-<random>.tmp`.
//! - [`private_dir`]: the private directory (mode 0700) where `edit` and `exec-file` put the
//!   plaintext, `gitseal-<pid>-<random>`, in a memory-backed place where there is one:
//!   `$XDG_RUNTIME_DIR` (when it is a 0700 directory of the current user), else `/dev/shm` (when
//!   writable), else the temp directory.
//!
//! Every name carries the owning process id, so [`remove_stale_temp_files`] and
//! [`remove_stale_private_dirs`] can remove what processes that are gone left (`/proc/<pid>`
//! missing; where that cannot be told, entries older than an hour). Only entries of the current
//! user are touched, never one of a live process; what was removed is returned for the caller to
//! report.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rand::distributions::{Alphanumeric, DistString};

/// An entry a process that is gone left behind, and what removing it gave.
#[derive(Debug)]
pub struct Removed {
    /// The temp file or private directory.
    pub path: PathBuf,
    /// The process that made it, when its name says.
    pub owner: Option<u32>,
    /// Whether it could be removed.
    pub result: std::io::Result<()>,
}

/// How old an entry whose owner cannot be told must be to count as left behind.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// A fresh name for a temp file next to a target: `.gitseal-<pid>-<random>.tmp`.
fn temp_file_name() -> String {
    format!("{}{}.tmp", temp_file_prefix(), Alphanumeric.sample_string(&mut rand::thread_rng(), 12))
}

/// The start of this process's temp file names, `.gitseal-<pid>-`.
fn temp_file_prefix() -> String {
    format!(".gitseal-{}-", std::process::id())
}

/// Removes the temp files in `dir` that processes that are gone left behind.
pub fn remove_stale_temp_files(dir: &Path) -> Vec<Removed> {
    stale_entries(dir, temp_file_owner, |m| m.file_type().is_file())
        .into_iter()
        .map(|(path, owner)| Removed { result: fs::remove_file(&path), path, owner })
        .collect()
}

/// Removes the private directories that processes that are gone left in the base directory a
/// call of [`private_dir`] with this `shared` setting uses.
pub fn remove_stale_private_dirs(shared: bool) -> Vec<Removed> {
    let base = private_base(shared);
    // remove_dir_all does not follow symlinks inside the directory.
    stale_entries(&base, private_dir_owner, |m| m.file_type().is_dir())
        .into_iter()
        .map(|(path, owner)| Removed { result: fs::remove_dir_all(&path), path, owner })
        .collect()
}

/// A new private directory (mode 0700) for plaintext, removed when dropped. `shared`: another
/// account must reach a file in it (`exec-file --user`), so `$XDG_RUNTIME_DIR`, which only
/// its owner may enter, is not used.
pub fn private_dir(shared: bool) -> std::io::Result<tempfile::TempDir> {
    let base = private_base(shared);
    tempfile::Builder::new()
        .prefix(&format!("gitseal-{}-", std::process::id()))
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(&base)
        .and_then(|d| fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).map(|()| d))
        .map_err(|e| std::io::Error::new(e.kind(), format!("in {}: {e}", base.display())))
}

/// Writes plaintext to a new file (mode 0600) in a private directory.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// The base directory for private directories: `$XDG_RUNTIME_DIR` when it is an absolute path
/// to a directory of the current user with mode 0700 (and not `shared`), else `/dev/shm` when
/// this process may create entries there, else the temp directory (`$TMPDIR`, `/tmp`).
pub fn private_base(shared: bool) -> PathBuf {
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
/// older than [`STALE_AFTER`]), each with its owner's pid when its name has one.
fn stale_entries(
    dir: &Path,
    owner_of: fn(&str) -> Option<Option<u32>>,
    kind: fn(&fs::Metadata) -> bool,
) -> Vec<(PathBuf, Option<u32>)> {
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
            stale.push((entry.path(), owner));
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

/// Writes `data` to `path` through a temp file in the same directory, fsync and rename. An
/// existing file keeps its mode (and a symlink keeps pointing at the file it names); a new file
/// gets `new_mode` (masked by the umask for non-secret output).
///
/// The temp file has no name while it is written where the filesystem allows (Linux
/// `O_TMPFILE`): it is linked under a `.gitseal-<pid>-<random>.tmp` name only once complete and
/// synced, and renamed over the target at once, so a process killed meanwhile leaves nothing,
/// or for a few microseconds a complete file. Elsewhere it is written under such a name. Either
/// way, remove the temp files that killed runs left in the directory with
/// [`remove_stale_temp_files`] (once per directory).
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("secrets.yaml");
/// assert!(gitseal::fs::remove_stale_temp_files(dir.path()).is_empty());
/// gitseal::fs::write_atomic(&path, b"password: hunter2\n", 0o600)?;
/// assert_eq!(std::fs::read(&path)?, b"password: hunter2\n");
/// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
/// // Nothing else is left in the directory.
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomic(path: &Path, data: &[u8], new_mode: u32) -> std::io::Result<()> {
    let target = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let existing = fs::metadata(&target).ok();
    if let Some(m) = &existing {
        replaceable(&target, m)?;
    }
    let mode = match &existing {
        Some(m) => m.permissions().mode() & 0o7777,
        None if new_mode == 0o600 => 0o600,
        None => new_mode & !current_umask(),
    };
    let owner = existing.as_ref().map(|m| (m.uid(), m.gid()));
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    #[cfg(target_os = "linux")]
    let written = write_unnamed(dir, &target, data, mode, owner)?;
    #[cfg(not(target_os = "linux"))]
    let written = false;
    if !written {
        write_named(dir, &target, data, mode, owner)?;
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Whether the existing file at `target` may be replaced: it must be writable by this process,
/// as an in-place write would need (a rename only needs the directory), and have no other hard
/// link, whose name would keep the old content (plaintext, when encrypting in place).
fn replaceable(target: &Path, m: &fs::Metadata) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    if m.is_file() && m.nlink() > 1 {
        return Err(Error::other(format!(
            "it has {} hard links; replacing it would leave the old content under the other names (write elsewhere with --output, or remove the other links)",
            m.nlink()
        )));
    }
    rustix::fs::access(target, rustix::fs::Access::WRITE_OK).map_err(|e| {
        let e = Error::from(e);
        if e.kind() == ErrorKind::PermissionDenied {
            Error::new(ErrorKind::PermissionDenied, "permission denied (the file is not writable)")
        } else {
            e
        }
    })
}

/// Gives the temp file the owner of the file it replaces, as an in-place write keeps it; a
/// user who may not (only root may give a file away) keeps the file as their own.
fn keep_owner(file: &fs::File, owner: Option<(u32, u32)>) {
    let Some((uid, gid)) = owner else { return };
    let ours = rustix::process::geteuid().as_raw();
    if uid == ours && gid == rustix::process::getegid().as_raw() {
        return;
    }
    let (uid, gid) = (rustix::fs::Uid::from_raw(uid), rustix::fs::Gid::from_raw(gid));
    if rustix::fs::fchown(file, Some(uid), Some(gid)).is_err() {
        // Not root: at least the group, when the user is in it.
        let _ = rustix::fs::fchown(file, None, Some(gid));
    }
}

/// The temp file as a named file from the start (`.gitseal-<pid>-<random>.tmp`, mode 0600
/// until written), then renamed over `target`.
fn write_named(dir: &Path, target: &Path, data: &[u8], mode: u32, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new().prefix(&temp_file_prefix()).suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(data)?;
    keep_owner(tmp.as_file(), owner);
    // After the owner: chown clears the set-id bits.
    tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// The temp file without a name (`O_TMPFILE`) while it is written; linked under a temp name
/// through `/proc/self/fd` and renamed over `target`. `Ok(false)` when the filesystem (or the
/// kernel, or a missing /proc) does not allow it: nothing was written.
#[cfg(target_os = "linux")]
fn write_unnamed(
    dir: &Path,
    target: &Path,
    data: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> std::io::Result<bool> {
    use rustix::fs::{linkat, openat, AtFlags, Mode, OFlags, CWD};
    use rustix::io::Errno;
    use std::os::fd::AsRawFd;

    if !Path::new("/proc/self/fd").is_dir() {
        return Ok(false);
    }
    let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
    let fd = match openat(CWD, dir, flags, Mode::from_raw_mode(0o600)) {
        Ok(fd) => fd,
        // No O_TMPFILE here: EOPNOTSUPP from the filesystem, EISDIR or EINVAL from older kernels.
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let mut file = fs::File::from(fd);
    keep_owner(&file, owner);
    // After the owner: chown clears the set-id bits.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(data)?;
    file.sync_all()?;
    let unnamed = format!("/proc/self/fd/{}", file.as_raw_fd());
    for _ in 0..8 {
        let tmp = dir.join(temp_file_name());
        match linkat(CWD, unnamed.as_str(), CWD, &tmp, AtFlags::SYMLINK_FOLLOW) {
            Ok(()) => {
                return match fs::rename(&tmp, target) {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        let _ = fs::remove_file(&tmp);
                        Err(e)
                    }
                };
            }
            Err(Errno::EXIST) => continue,
            // Not linkable here after all: write it again under a name.
            Err(_) => return Ok(false),
        }
    }
    Ok(false)
}

/// The process umask, read from /proc (no syscall needed); 022 when unknown.
fn current_umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|v| v.trim().to_string())))
        .and_then(|v| u32::from_str_radix(&v, 8).ok())
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }

    /// The named temp file, used where O_TMPFILE is not available, is renamed away too.
    #[test]
    fn the_named_fallback_sets_the_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.yaml");
        write_named(dir.path(), &target, b"a: 1\n", 0o640, None).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"a: 1\n");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(names(dir.path()), ["out.yaml"]);
    }

    /// A file with another hard link is not replaced: the other name would keep the old
    /// content (the plaintext, for `encrypt -i`).
    #[test]
    fn write_atomic_refuses_a_file_with_other_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("s.yaml");
        fs::write(&target, b"password: hunter2\n").unwrap();
        fs::hard_link(&target, dir.path().join("other.yaml")).unwrap();
        let e = write_atomic(&target, b"ENC\n", 0o600).unwrap_err();
        assert!(e.to_string().contains("2 hard links"), "{e}");
        assert_eq!(fs::read(&target).unwrap(), b"password: hunter2\n");
        let mut left = names(dir.path());
        left.sort();
        assert_eq!(left, ["other.yaml", "s.yaml"]);
    }

    /// The replaced file keeps its owner and group (run as root, who may give files away).
    #[test]
    fn write_atomic_keeps_the_owner_when_root() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipping: only root may give a file another owner");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("s.yaml");
        fs::write(&target, b"old\n").unwrap();
        std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&target, b"new\n", 0o600).unwrap();
        let m = fs::metadata(&target).unwrap();
        assert_eq!((m.uid(), m.gid(), m.permissions().mode() & 0o7777), (65534, 65534, 0o640));
        assert_eq!(fs::read(&target).unwrap(), b"new\n");
    }

    #[test]
    fn write_atomic_keeps_an_existing_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("s.yaml");
        write_atomic(&target, b"new\n", 0o600).unwrap();
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o600);
        fs::set_permissions(&target, fs::Permissions::from_mode(0o604)).unwrap();
        write_atomic(&target, b"again\n", 0o600).unwrap();
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o604);
        assert_eq!(fs::read(&target).unwrap(), b"again\n");
        assert_eq!(names(dir.path()), ["s.yaml"]);
    }

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
