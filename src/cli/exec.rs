//! `gitseal exec-env` and `gitseal exec-file`: run a command with the decrypted values, in its
//! environment or in a file (a FIFO by default) inside a private directory, memory-backed where
//! the system has such a place (see [`super::scratch`]), that is removed when the command exits. The command runs under `/bin/sh -c`; its exit code is passed through.
//! `--user` runs it as another account (see [`RunAs`]); exec-env can also replace gitseal with
//! the command (`--same-process`) or leave it running (`--background`, deprecated as in sops).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};

use gitseal_formats::{self as formats, Format, MapItem, Node, Scalar};
use zeroize::Zeroizing;

use super::args::IoArgs;
use super::args::{ExecEnvArgs, ExecFileArgs};
use super::io::read_input;
use super::scratch;
use super::signals::Signals;
use super::{exit, warn, Failure};
use gitseal::envelope::{self, DecryptOptions};

pub(crate) fn run_env(a: ExecEnvArgs) -> Result<(), Failure> {
    if a.same_process && a.background {
        return Err(Failure::new(exit::CONFLICT, "--same-process and --background cannot be used together"));
    }
    a.keyservice.check()?;
    let user = a.user.as_deref().map(RunAs::lookup).transpose()?;
    let (plain, format, name) = decrypt(&a.file, a.input_type.clone(), None, a.decryption_order.as_deref())?;
    if format == Format::Binary {
        return Err(Failure::new(exit::GENERIC, format!("{name}: exec-env needs a structured file (not binary)")));
    }
    let src = std::str::from_utf8(&plain)
        .map_err(|_| Failure::new(exit::CANNOT_READ, format!("{name}: the plaintext is not UTF-8")))?;
    let doc = formats::parse(format, src).map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: {e}")))?;
    let mut vars = Vec::new();
    let mut complex = Vec::new();
    if let Some(Node::Map(items)) = doc.roots.first().map(|r| r.node.resolved()) {
        for item in items {
            let MapItem::Entry(e) = item else { continue };
            if e.key.contains('=') || e.key.is_empty() || e.key.contains('\0') {
                return Err(Failure::new(
                    exit::GENERIC,
                    format!("{name}: the key {:?} cannot be an environment variable name", e.key),
                ));
            }
            match e.value.resolved() {
                Node::Leaf(l) => vars.push((e.key.clone(), Zeroizing::new(env_text(&l.value, l.literal.as_deref())))),
                _ => complex.push(e.key.clone()),
            }
        }
    }
    if !complex.is_empty() {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: cannot use complex value in environment; offending keys: {}", complex.join(", ")),
        ));
    }
    if vars.iter().any(|(_, v)| v.contains('\0')) {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: a value holds a NUL byte and cannot be an environment variable"),
        ));
    }
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(&a.command);
    if a.pristine {
        cmd.env_clear();
    }
    if let Some(user) = &user {
        user.apply(&mut cmd);
    }
    // The file's values come last: a key named HOME or USER wins over --user's.
    for (k, v) in &vars {
        cmd.env(k, v.as_str());
    }
    if a.same_process {
        // Returns only if the exec (or the switch to --user) failed.
        let e = cmd.exec();
        return Err(Failure::new(exit::GENERIC, format!("cannot run /bin/sh: {e}")));
    }
    if a.background {
        warn("--background is deprecated: the command's exit code is not reported");
        return cmd.spawn().map(drop).map_err(|e| Failure::new(exit::GENERIC, format!("cannot run /bin/sh: {e}")));
    }
    finish(cmd.status())
}

pub(crate) fn run_file(mut a: ExecFileArgs) -> Result<(), Failure> {
    // As sops 3.13 (which refuses names that are not local paths): a plain name inside the
    // private directory, never a way out of it. An empty name is the default, as in sops.
    if a.filename.is_empty() {
        a.filename = "tmp-file".into();
    }
    if a.filename.contains(['/', '\0']) || a.filename == "." || a.filename == ".." {
        return Err(Failure::new(
            exit::GENERIC,
            format!(
                "--filename {:?}: must be a plain file name inside the private directory, not a path (no '/', not '.' or '..')",
                a.filename
            ),
        ));
    }
    if a.background {
        return Err(Failure::new(
            exit::GENERIC,
            "exec-file cannot use --background: the plaintext file is removed when gitseal returns, before a \
             command left running could read it",
        ));
    }
    a.keyservice.check()?;
    let user = a.user.as_deref().map(RunAs::lookup).transpose()?;
    // Another account must reach the file when the command runs as one.
    let shared = user.as_ref().is_some_and(|u| u.switch);
    scratch::remove_stale_dirs(shared);
    let (plain, _, _) = decrypt(&a.file, a.input_type.clone(), a.output_type.clone(), a.decryption_order.as_deref())?;
    let signals = Signals::install()?;
    let dir = scratch::private_dir(shared)?;
    let path = dir.path().join(&a.filename);
    let command = a.command.replace("{}", &path.to_string_lossy());
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(&command);
    if a.no_fifo {
        scratch::write_private(&path, &plain)
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", path.display())))?;
    } else {
        make_fifo(&path)?;
    }
    if let Some(user) = &user {
        user.share(dir.path(), &path).map_err(|e| {
            Failure::new(
                exit::CANNOT_WRITE,
                format!("cannot give the plaintext file to user {:?}: {e}", user.name.to_string_lossy()),
            )
        })?;
        user.apply(&mut cmd);
    }
    let status = if a.no_fifo {
        drop(plain);
        wait(cmd, &signals)
    } else {
        feed_fifo(&path, plain, cmd, &signals)
    };
    // The directory (and the plaintext in it) goes before the exit code is passed on.
    let removed = dir.close();
    let result = match status {
        Ok(status) => finish(status),
        Err(sig) => Err(Failure::new(exit::SIGNAL_BASE + sig, "interrupted; the plaintext file was removed")),
    };
    removed.map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot remove the temporary directory: {e}")))?;
    result
}

/// Decrypts `file` into the output format (default: its own); returns the plaintext, that
/// format and the file's name for messages.
fn decrypt(
    file: &Path,
    input_type: Option<String>,
    output_type: Option<String>,
    decryption_order: Option<&str>,
) -> Result<(Zeroizing<Vec<u8>>, Format, String), Failure> {
    let io = IoArgs {
        file: Some(file.to_path_buf()),
        in_place: false,
        output: None,
        input_type,
        output_type,
        filename_override: None,
    };
    let input = read_input(&io, false)?;
    let mut keys = super::files::keyring(decryption_order)?;
    let opts = DecryptOptions { output_format: Some(input.output_format), ..DecryptOptions::default() };
    let result = envelope::decrypt(&input.bytes, input.input_format, &input.name, &mut keys, &opts)?;
    for w in &result.warnings {
        warn(&format!("{}: {w}", input.name));
    }
    Ok((Zeroizing::new(result.output), input.output_format, input.name))
}

/// A value as the environment gets it: strings as they are, other scalars as text.
fn env_text(value: &Scalar, literal: Option<&str>) -> String {
    match (value, literal) {
        (Scalar::Str(s), _) => s.clone(),
        (_, Some(l)) => l.to_string(),
        (Scalar::Int(i), None) => i.to_string(),
        (Scalar::Float(f), None) => formats::format_float(*f),
        (Scalar::Bool(b), None) => b.to_string(),
        (Scalar::Time(t), None) => t.clone(),
        (Scalar::Null, None) => String::new(),
    }
}

/// Makes a FIFO (mode 0600) at `path`.
fn make_fifo(path: &Path) -> Result<(), Failure> {
    let made = Command::new("mkfifo")
        .arg("-m")
        .arg("600")
        .arg("--")
        .arg(path)
        .status()
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot run mkfifo: {e} (use --no-fifo)")))?;
    if !made.success() {
        return Err(Failure::new(
            exit::CANNOT_WRITE,
            format!("mkfifo {} failed ({made}); use --no-fifo", path.display()),
        ));
    }
    Ok(())
}

/// Feeds the FIFO at `path` the plaintext once from a thread, and runs the command. A command
/// that never opens the FIFO leaves the writer waiting; it is then released by opening the FIFO
/// here and discarding what it writes.
fn feed_fifo(path: &Path, plain: Zeroizing<Vec<u8>>, cmd: Command, signals: &Signals) -> Waited {
    let fifo = path.to_path_buf();
    let writer = std::thread::Builder::new().spawn(move || {
        // A reader that goes away early makes the write fail (EPIPE): nothing to report.
        if let Ok(mut f) = fs::OpenOptions::new().write(true).open(&fifo) {
            let _ = f.write_all(&plain);
        }
        drop(plain);
    });
    // Without a thread to feed it, the command is not run (it would wait on the FIFO).
    let writer = match writer {
        Ok(w) => w,
        Err(e) => return Ok(Err(std::io::Error::other(format!("no thread to feed the FIFO: {e}")))),
    };
    let status = wait(cmd, signals);
    if !writer.is_finished() {
        let fifo = path.to_path_buf();
        let drain = std::thread::Builder::new().spawn(move || {
            if let Ok(mut f) = fs::File::open(&fifo) {
                let mut sink = Zeroizing::new(vec![0u8; 65536]);
                while matches!(f.read(&mut sink), Ok(n) if n > 0) {}
            }
        });
        // Without one, the writer is left waiting; the process ends without it.
        if drain.is_err() {
            return status;
        }
    }
    let _ = writer.join();
    status
}

/// How the command ended, or the signal that ended gitseal's wait for it.
type Waited = Result<std::io::Result<std::process::ExitStatus>, i32>;

/// Runs the command and waits for it; a signal to gitseal kills it (so the plaintext can be
/// removed) and is returned as `Err`.
fn wait(mut cmd: Command, signals: &Signals) -> Waited {
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    loop {
        if let Some(sig) = signals.received() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(sig);
        }
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Ok(status)),
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Ok(Err(e)),
        }
    }
}

/// The child's exit code passed through (128 + the signal for a child killed by one).
fn finish(status: std::io::Result<std::process::ExitStatus>) -> Result<(), Failure> {
    let status = status.map_err(|e| Failure::new(exit::GENERIC, format!("cannot run /bin/sh: {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Failure::new(code, format!("exit status {code}"))),
        None => {
            let signal = status.signal().unwrap_or(0);
            Err(Failure::new(exit::SIGNAL_BASE + signal, format!("the command was killed by signal {signal}")))
        }
    }
}

/// The account `--user` names, as the system's user database has it.
///
/// The command gets the account's uid and the primary gid of its passwd entry (sops 3.11 used
/// the uid as the gid), and HOME, USER and LOGNAME. Supplementary groups are dropped rather than
/// set to the account's own: std's `CommandExt::uid` calls `setgroups(0)` when gitseal runs as
/// root, while `initgroups` would need a `pre_exec` hook, which is unsafe code, forbidden in this
/// crate. A command that needs a group gets it as the account's primary group.
///
/// The lookup runs `getent passwd NAME` (a name or a uid, through NSS, so LDAP or sssd users are
/// found), or reads /etc/passwd where there is no getent: calling `getpwnam_r` would also need
/// unsafe code.
struct RunAs {
    /// The account's name, for USER and LOGNAME.
    name: OsString,
    uid: u32,
    gid: u32,
    home: OsString,
    /// Whether the ids change (gitseal runs as root); a user who names themselves keeps theirs.
    switch: bool,
}

impl RunAs {
    /// Looks `user` up. Refuses an unknown user, and another user when gitseal is not root (the
    /// switch would fail in the child).
    fn lookup(user: &str) -> Result<RunAs, Failure> {
        let unknown = || Failure::new(exit::GENERIC, format!("--user {user:?}: no such user"));
        if user.is_empty() || user.starts_with('-') || user.contains([':', '\n', '\0']) {
            return Err(unknown());
        }
        let line = passwd_entry(user)?.ok_or_else(unknown)?;
        let malformed = || Failure::new(exit::GENERIC, format!("--user {user:?}: malformed user database entry"));
        let fields: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        let [name, _, uid, gid, _, home, _] = fields[..] else { return Err(malformed()) };
        let number = |f: &[u8]| std::str::from_utf8(f).ok().and_then(|s| s.parse::<u32>().ok());
        let (Some(uid), Some(gid)) = (number(uid), number(gid)) else { return Err(malformed()) };
        let switch = match effective_uid() {
            Some(me) if me != 0 && me != uid => {
                return Err(Failure::new(
                    exit::GENERIC,
                    format!("--user {user:?}: gitseal runs as uid {me}, not root, so it cannot switch to another user"),
                ))
            }
            Some(me) => me == 0,
            // Not known here: try, and the switch fails in the child if not allowed.
            None => true,
        };
        let text = |f: &[u8]| OsStr::from_bytes(f).to_os_string();
        Ok(RunAs { name: text(name), uid, gid, home: text(home), switch })
    }

    /// Sets the command's ids (when gitseal is root) and HOME, USER and LOGNAME.
    fn apply(&self, cmd: &mut Command) {
        if self.switch {
            cmd.gid(self.gid).uid(self.uid);
        }
        cmd.env("HOME", &self.home).env("USER", &self.name).env("LOGNAME", &self.name);
    }

    /// Lets the account read the plaintext: the file (or FIFO) becomes its own, still mode 0600;
    /// the directory stays root's, mode 0710 with the account's primary group, so the account
    /// can reach the file but can neither list nor change the directory. Giving it the directory
    /// would let it swap the FIFO for a symlink that gitseal, as root, then writes through.
    fn share(&self, dir: &Path, file: &Path) -> std::io::Result<()> {
        if !self.switch {
            return Ok(());
        }
        std::os::unix::fs::chown(file, Some(self.uid), Some(self.gid))?;
        std::os::unix::fs::chown(dir, None, Some(self.gid))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o710))
    }
}

/// The passwd line of `user` (a name, or a uid), or `None` when there is no such user.
fn passwd_entry(user: &str) -> Result<Option<Vec<u8>>, Failure> {
    let first_line = |text: &[u8]| text.split(|&b| b == b'\n').next().map(<[u8]>::to_vec);
    let getent =
        Command::new("getent").args(["passwd", "--", user]).stdin(Stdio::null()).stderr(Stdio::null()).output();
    match getent {
        Ok(out) if out.status.success() => Ok(first_line(&out.stdout)),
        // getent: "One or more supplied key could not be found in the database."
        Ok(out) if out.status.code() == Some(2) => Ok(None),
        Ok(out) => Err(Failure::new(exit::GENERIC, format!("--user {user:?}: getent passwd failed ({})", out.status))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let all = fs::read("/etc/passwd")
                .map_err(|e| Failure::new(exit::GENERIC, format!("--user {user:?}: cannot read /etc/passwd: {e}")))?;
            let field = |line: &[u8], n: usize| line.split(|&b| b == b':').nth(n).map(<[u8]>::to_vec);
            let by = |n: usize| all.split(|&b| b == b'\n').find(|l| field(l, n).as_deref() == Some(user.as_bytes()));
            let by_uid = || user.bytes().all(|b| b.is_ascii_digit()).then(|| by(2)).flatten();
            Ok(by(0).or_else(by_uid).map(<[u8]>::to_vec))
        }
        Err(e) => Err(Failure::new(exit::GENERIC, format!("--user {user:?}: cannot run getent: {e}"))),
    }
}

/// gitseal's effective uid, from /proc/self/status (Linux); `None` where that is not available.
fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let ids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    ids.split_whitespace().nth(1)?.parse().ok()
}
