//! Reading input and writing output safely: atomic writes (temp file in the same directory,
//! unnamed while it is written where Linux allows, fsync, rename), mode 0600 for new plaintext
//! files, the mode kept for in-place writes.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gitseal_formats::Format;
use zeroize::Zeroizing;

use super::args::IoArgs;
use super::{exit, scratch, Failure};

/// The resolved input: its bytes, the name used in messages, and the formats.
pub(crate) struct Input {
    pub bytes: Zeroizing<Vec<u8>>,
    pub name: String,
    pub path: Option<PathBuf>,
    pub input_format: Format,
    pub output_format: Format,
}

/// Checks the flag combination, reads the input, and decides the formats.
/// `sniff` picks a format for unnamed standard input by looking at it.
pub(crate) fn read_input(io: &IoArgs, encrypting: bool) -> Result<Input, Failure> {
    if io.in_place && io.output.is_some() {
        return Err(Failure::new(exit::CONFLICT, "cannot use --in-place together with --output"));
    }
    let (bytes, name, path) = match &io.file {
        Some(p) if p.as_os_str() != "-" => {
            let name = p.display().to_string();
            let bytes = fs::read(p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    Failure::new(exit::NO_FILE, format!("{name}: cannot operate on non-existent file"))
                }
                _ => Failure::new(exit::CANNOT_READ, format!("{name}: cannot read: {e}")),
            })?;
            (Zeroizing::new(bytes), name, Some(p.clone()))
        }
        _ => {
            if io.in_place {
                return Err(Failure::new(exit::CONFLICT, "cannot use --in-place with standard input"));
            }
            let mut buf = Zeroizing::new(Vec::new());
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot read standard input: {e}")))?;
            (buf, "<stdin>".to_string(), None)
        }
    };
    let named = io.filename_override.as_deref().or(path.as_deref().and_then(Path::to_str));
    let input_format = match (&io.input_type, named) {
        (Some(t), _) => parse_format(t, "--input-type")?,
        (None, Some(n)) => Format::from_path(n),
        (None, None) if encrypting => {
            return Err(Failure::new(
                exit::CONFLICT,
                "reading standard input needs --filename-override NAME or --input-type TYPE to choose the format",
            ))
        }
        (None, None) => sniff(&bytes),
    };
    let output_format = match (&io.output_type, encrypting, &io.output, &io.input_type) {
        (Some(t), ..) => parse_format(t, "--output-type")?,
        (None, true, _, _) => input_format,
        (None, false, Some(out), None) if io.filename_override.is_none() && path.is_none() => {
            out.to_str().map_or(input_format, Format::from_path)
        }
        _ => input_format,
    };
    Ok(Input { bytes, name, path, input_format, output_format })
}

/// sops's subcommands disagree on the exit code for a missing input file (100 for
/// encrypt/decrypt and legacy `-r`; 2 for set, unset, rotate and groups; 1 for updatekeys):
/// gives a missing-file failure of [`read_input`] the code `code`.
pub(crate) fn missing_file_code(f: Failure, code: i32) -> Failure {
    if f.code == exit::NO_FILE {
        Failure { code, ..f }
    } else {
        f
    }
}

fn parse_format(name: &str, flag: &str) -> Result<Format, Failure> {
    Format::from_name(name).ok_or_else(|| {
        Failure::new(
            exit::GENERIC,
            format!("unknown {flag} {name:?}: expected yaml, json, dotenv, ini, toml or binary"),
        )
    })
}

/// Encrypted input on standard input without a name: JSON (or the binary store, which is JSON
/// with only `data` and `sops`) when it starts with `{`, otherwise YAML.
fn sniff(bytes: &[u8]) -> Format {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim_start();
    if !t.starts_with('{') {
        return Format::Yaml;
    }
    match gitseal_formats::parse(Format::Json, t) {
        Ok(doc) => {
            let keys: Vec<&str> = match doc.roots.first().map(|r| &r.node) {
                Some(gitseal_formats::Node::Map(items)) => items
                    .iter()
                    .filter_map(|i| match i {
                        gitseal_formats::MapItem::Entry(e) => Some(e.key.as_str()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if keys.len() == 2 && keys.contains(&"data") && keys.contains(&"sops") {
                Format::Binary
            } else {
                Format::Json
            }
        }
        Err(_) => Format::Json,
    }
}

/// Where the result goes and how new files are created.
pub(crate) fn write_output(io: &IoArgs, input: &Input, data: &[u8], plaintext: bool) -> Result<(), Failure> {
    let target = if io.in_place { input.path.clone() } else { io.output.clone() };
    match target {
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(data).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::new(exit::CANNOT_WRITE, format!("cannot write standard output: {e}"))),
                Ok(()) => Ok(()),
            }
        }
        Some(path) => {
            let new_mode = if plaintext { 0o600 } else { 0o644 };
            write_atomic(&path, data, new_mode)
                .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", path.display())))
        }
    }
}

/// Writes `data` to `path` through a temp file in the same directory, fsync and rename. An
/// existing file keeps its mode (and a symlink keeps pointing at the file it names); a new file
/// gets `new_mode` (masked by the umask for non-secret output).
///
/// The temp file has no name while it is written where the filesystem allows (Linux
/// `O_TMPFILE`): it is linked under a `.gitseal-<pid>-<random>.tmp` name only once complete and
/// synced, and renamed over the target at once, so a process killed meanwhile leaves nothing,
/// or for a few microseconds a complete file. Elsewhere it is written under such a name. Either
/// way, temp files that killed runs left in the directory are removed first (see
/// [`scratch::remove_stale_files`]).
pub fn write_atomic(path: &Path, data: &[u8], new_mode: u32) -> std::io::Result<()> {
    let target = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let mode = match fs::metadata(&target) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(_) if new_mode == 0o600 => 0o600,
        Err(_) => new_mode & !current_umask(),
    };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    scratch::remove_stale_files(dir);
    #[cfg(target_os = "linux")]
    let written = write_unnamed(dir, &target, data, mode)?;
    #[cfg(not(target_os = "linux"))]
    let written = false;
    if !written {
        write_named(dir, &target, data, mode)?;
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The temp file as a named file from the start (`.gitseal-<pid>-<random>.tmp`, mode 0600
/// until written), then renamed over `target`.
fn write_named(dir: &Path, target: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new().prefix(&scratch::temp_file_prefix()).suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// The temp file without a name (`O_TMPFILE`) while it is written; linked under a temp name
/// through `/proc/self/fd` and renamed over `target`. `Ok(false)` when the filesystem (or the
/// kernel, or a missing /proc) does not allow it: nothing was written.
#[cfg(target_os = "linux")]
fn write_unnamed(dir: &Path, target: &Path, data: &[u8], mode: u32) -> std::io::Result<bool> {
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
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(data)?;
    file.sync_all()?;
    let unnamed = format!("/proc/self/fd/{}", file.as_raw_fd());
    for _ in 0..8 {
        let tmp = dir.join(scratch::temp_file_name());
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
        write_named(dir.path(), &target, b"a: 1\n", 0o640).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"a: 1\n");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(names(dir.path()), ["out.yaml"]);
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
}
