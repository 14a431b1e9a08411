//! Secret hygiene: no secret key echoed in an error or warning, whatever flag or variable it was
//! pasted into; no plaintext left where `git add -A` or a disk image would find it after a run
//! was killed (temp files next to targets, the private directories of edit and exec-file).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{demo_key, manifest_dir, mode, run, Work, DEMO_RECIPIENT};

const PLAIN: &str = "user: admin\npassword: hunter2\n";

/// The demo identity file, and the Bech32 body of its secret key (what must never be shown).
fn demo_secret() -> (String, String) {
    let file = std::fs::read_to_string(demo_key()).unwrap();
    let key = file.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).unwrap().to_string();
    let body = key["AGE-SECRET-KEY-1".len()..].to_string();
    (file, body)
}

/// The command failed, printed no secret (`needle`, in any letter case) and wrote nothing.
fn assert_refused_without_secret(work: &Work, out: &Output, needle: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(c) if c != 0), "{what}: expected a failure, got {}", out.status);
    assert!(!stderr.to_ascii_uppercase().contains(&needle.to_ascii_uppercase()), "{what}: secret echoed: {stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).to_ascii_uppercase().contains(&needle.to_ascii_uppercase()));
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!work.exists("out.yaml"), "{what}: out.yaml was written");
}

fn encrypt_with_age(work: &Work, recipient: &str) -> Output {
    run(work.gitseal().args(["encrypt", "--age", recipient, "--output", "out.yaml", "plain.yaml"]), None)
}

#[test]
fn a_key_file_given_as_age_recipient_is_not_echoed() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let (file, body) = demo_secret();
    let out = encrypt_with_age(&work, &file);
    assert_refused_without_secret(&work, &out, &body, "--age KEYFILE");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a recipient"), "{:?}", out);
    let mut cmd = work.gitseal();
    cmd.env("SOPS_AGE_RECIPIENTS", &file).args(["encrypt", "--output", "out.yaml", "plain.yaml"]);
    assert_refused_without_secret(&work, &run(&mut cmd, None), &body, "SOPS_AGE_RECIPIENTS=KEYFILE");
}

#[test]
fn a_secret_key_inside_recipient_text_or_in_lower_case_is_not_echoed() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let (_, body) = demo_secret();
    let key = format!("AGE-SECRET-KEY-1{body}");
    for text in
        [format!("key={key}"), key.to_ascii_lowercase(), format!("{DEMO_RECIPIENT},x{}", key.to_ascii_lowercase())]
    {
        assert_refused_without_secret(&work, &encrypt_with_age(&work, &text), &body, &text);
    }
}

/// `--age PEM` is refused by clap (the value starts with `-`), `--age=PEM` by the recipient
/// parser; neither may show the key.
#[test]
fn a_pem_private_key_given_as_a_recipient_is_not_echoed() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let pem = std::fs::read_to_string(manifest_dir().join("keys/testdata/sealing/test-key.pem")).unwrap();
    let body_line = pem.lines().nth(1).unwrap().to_string();
    for flag in ["--age", "--pgp"] {
        for args in [vec![flag.to_string(), pem.clone()], vec![format!("{flag}={pem}")]] {
            let out = run(work.gitseal().arg("encrypt").args(&args).args(["--output", "out.yaml", "plain.yaml"]), None);
            assert_refused_without_secret(&work, &out, &body_line, &format!("{flag} PEM ({} args)", args.len()));
        }
    }
}

/// clap quotes the value it refused in its message.
#[test]
fn a_secret_key_as_a_refused_flag_value_is_not_echoed() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let (_, body) = demo_secret();
    let key = format!("AGE-SECRET-KEY-1{body}");
    for value in [key.clone(), key.to_ascii_lowercase()] {
        let out = run(
            work.gitseal().args([
                "encrypt",
                "--age",
                DEMO_RECIPIENT,
                "--indent",
                &value,
                "--output",
                "out.yaml",
                "plain.yaml",
            ]),
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--indent"), "{}", String::from_utf8_lossy(&out.stderr));
        assert_refused_without_secret(&work, &out, &body, "--indent KEY");
    }
    // Help still goes to stdout with exit code 0.
    let help = run(work.gitseal().args(["encrypt", "--help"]), None);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--age"));
}

/// A work dir with `s.yaml` (PLAIN encrypted to the demo key).
fn encrypted_work() -> Work {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write("s.yaml", &out.stdout);
    std::fs::remove_file(work.path("plain.yaml")).unwrap();
    work
}

/// A process id that no process has: above the kernel's largest.
fn dead_pid() -> u64 {
    let max = std::fs::read_to_string("/proc/sys/kernel/pid_max").ok().and_then(|s| s.trim().parse().ok());
    max.unwrap_or(4_194_304u64) + 1
}

/// The names in `dir` that start with `.gitseal-`.
fn temp_files(dir: &Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n.starts_with(".gitseal-")).collect()
}

#[test]
fn decrypt_in_place_removes_temp_files_of_dead_processes_only() {
    let work = encrypted_work();
    let stale = format!(".gitseal-{}-x.tmp", dead_pid());
    let live = format!(".gitseal-{}-x.tmp", std::process::id());
    work.write(&stale, "password: leaked\n");
    work.write(&live, "in progress\n");
    let out = run(work.gitseal_with_key().args(["decrypt", "-i", "s.yaml"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(work.read_string("s.yaml"), PLAIN);
    assert!(!work.exists(&stale), "the dead process's temp file is still there");
    assert!(work.exists(&live), "a live process's temp file was removed");
    let notices: Vec<&str> = stderr.lines().filter(|l| l.contains("removed")).collect();
    assert_eq!(notices.len(), 1, "{stderr}");
    assert!(notices[0].contains(&stale) && !notices[0].contains("leaked"), "{stderr}");
}

#[test]
fn atomic_writes_leave_no_temp_file_and_keep_the_mode_rules() {
    let work = encrypted_work();
    let out = run(work.gitseal_with_key().args(["decrypt", "--output", "new.yaml", "s.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(work.read_string("new.yaml"), PLAIN);
    assert_eq!(mode(&work.path("new.yaml")), 0o600, "new plaintext");
    std::fs::set_permissions(work.path("s.yaml"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(work.gitseal_with_key().args(["decrypt", "-i", "s.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&work.path("s.yaml")), 0o640, "an in-place write keeps the mode");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(temp_files(work.dir()), Vec::<String>::new());
}

/// A 0700 directory of this user for XDG_RUNTIME_DIR, and `tmp/` for TMPDIR.
fn runtime_dirs(work: &Work) -> (PathBuf, PathBuf) {
    let (runtime, tmp) = (work.path("run"), work.path("tmp"));
    for dir in [&runtime, &tmp] {
        std::fs::create_dir(dir).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    (std::fs::canonicalize(runtime).unwrap(), tmp)
}

fn scratch_cmd(work: &Work, runtime: &Path) -> Command {
    let mut cmd = work.gitseal_with_key();
    cmd.env("XDG_RUNTIME_DIR", runtime).env("TMPDIR", work.path("tmp"));
    cmd
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn exec_file_no_fifo_puts_the_plaintext_under_xdg_runtime_dir() {
    let work = encrypted_work();
    let (runtime, _) = runtime_dirs(&work);
    let script = "test -f {} && echo {}";
    let out = run(scratch_cmd(&work, &runtime).args(["exec-file", "--no-fifo", "s.yaml", script]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = String::from_utf8(out.stdout).unwrap();
    assert!(Path::new(path.trim_end()).starts_with(&runtime), "{path} is not under {}", runtime.display());
    assert!(entries(&runtime).is_empty(), "left behind: {:?}", entries(&runtime));
    // Not a private directory of this user: not used.
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(scratch_cmd(&work, &runtime).args(["exec-file", "--no-fifo", "s.yaml", script]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8(out.stdout).unwrap().starts_with(&*runtime.to_string_lossy()));
}

/// An executable script in the work dir (the edited file is "$1").
fn script(work: &Work, name: &str, body: &str) -> String {
    let path = work.write(name, format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// A private directory as a killed run leaves it, with a plaintext file in it.
fn plant_private_dir(runtime: &Path, pid: u64, tag: &str) -> PathBuf {
    let dir = runtime.join(format!("gitseal-{pid}-{tag}"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(dir.join("s.yaml"), PLAIN).unwrap();
    dir
}

#[test]
fn edit_and_exec_file_remove_private_dirs_of_dead_processes_only() {
    let work = encrypted_work();
    let (runtime, _) = runtime_dirs(&work);
    let live = plant_private_dir(&runtime, u64::from(std::process::id()), "live");
    let noop = script(&work, "noop.sh", "true");
    let runs: [(&str, Vec<&str>); 2] =
        [("edit", vec!["edit", "s.yaml"]), ("exec-file", vec!["exec-file", "--no-fifo", "s.yaml", "true"])];
    for (what, args) in runs {
        let stale = plant_private_dir(&runtime, dead_pid(), "stale");
        let out = run(scratch_cmd(&work, &runtime).env("SOPS_EDITOR", &noop).args(&args).stdin(Stdio::null()), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 200)), "{what}: {stderr}");
        assert!(!stale.exists(), "{what}: the stale directory is still there");
        assert!(stderr.contains(&*stale.to_string_lossy()), "{what}: no notice: {stderr}");
        assert!(live.exists(), "{what}: a live process's directory was removed");
    }
    assert_eq!(entries(&runtime), vec![live]);
}

fn wait_for(what: &str, deadline: Instant, mut done: impl FnMut() -> bool) {
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `kill -9` gives gitseal no chance to clean up: the next edit or exec-file does.
#[test]
fn a_private_dir_left_by_kill_9_is_removed_by_the_next_run() {
    for next in ["edit", "exec-file"] {
        let work = encrypted_work();
        let (runtime, _) = runtime_dirs(&work);
        let marker = work.path("editor-started");
        let body =
            format!(r#"printf '%s\n%s\n' "$$" "$1" > {m}.tmp; mv {m}.tmp {m}; exec sleep 60"#, m = marker.display());
        let slow = script(&work, "slow.sh", &body);
        let mut child = scratch_cmd(&work, &runtime)
            .env("SOPS_EDITOR", &slow)
            .args(["edit", "s.yaml"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        wait_for("the editor to start", deadline, || marker.exists());
        let report = work.read_string("editor-started");
        let (editor_pid, plaintext) = report.trim_end().split_once('\n').unwrap();
        let plaintext = PathBuf::from(plaintext);
        assert!(plaintext.starts_with(&runtime), "{}", plaintext.display());
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The editor outlives gitseal; it is ended here so it does not linger.
        let _ = Command::new("kill").args(["-KILL", editor_pid]).status();
        let dir = plaintext.parent().unwrap().to_path_buf();
        assert!(plaintext.exists(), "the killed run's plaintext should still be there for this test");
        let noop = script(&work, "noop.sh", "true");
        let args: Vec<&str> = match next {
            "edit" => vec!["edit", "s.yaml"],
            _ => vec!["exec-file", "--no-fifo", "s.yaml", "true"],
        };
        let out = run(scratch_cmd(&work, &runtime).env("SOPS_EDITOR", &noop).args(&args).stdin(Stdio::null()), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!dir.exists(), "{next}: {} is still there; stderr: {stderr}", dir.display());
        assert!(stderr.contains(&*dir.to_string_lossy()) && !stderr.contains("hunter2"), "{next}: {stderr}");
        assert!(entries(&runtime).is_empty(), "{next}: left behind: {:?}", entries(&runtime));
    }
}

/// A file its user may not write is not replaced through the directory's write permission
/// (a rename needs only that): `encrypt -i` as `nobody` on root's read-only file in a directory
/// `nobody` may write fails with permission denied, the file as it was. Needs root (to become
/// `nobody`, with setpriv from util-linux).
#[test]
fn in_place_writes_respect_the_files_own_write_permission() {
    if !rustix::process::geteuid().is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipping: needs root and setpriv to run as nobody");
        return;
    }
    let work = Work::new();
    std::fs::set_permissions(work.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let file = work.write("s.yaml", "password: hunter2\n");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = run(
        Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_gitseal"))
            .args(["encrypt", "-i", "--age", DEMO_RECIPIENT])
            .arg(&file)
            .current_dir(work.dir()),
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("s.yaml") && stderr.contains("permission denied"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(work.read("s.yaml"), b"password: hunter2\n");
    assert_eq!(std::fs::read_dir(work.dir()).unwrap().count(), 1, "a temp file was left");
}
