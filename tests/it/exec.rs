//! `gitseal exec-env` and `gitseal exec-file`: the values reach the command, its exit code comes
//! back, and no plaintext stays on disk afterwards.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{run, Work, DEMO_RECIPIENT};

/// A work dir with `s.yaml` (encrypted) and an empty `tmp/` to use as TMPDIR.
fn setup(plain: &str) -> Work {
    let work = Work::new();
    work.write("plain.yaml", plain);
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write("s.yaml", &out.stdout);
    std::fs::create_dir(work.path("tmp")).unwrap();
    work
}

fn gitseal(work: &Work) -> Command {
    let mut cmd = work.gitseal_with_key();
    cmd.env("TMPDIR", work.path("tmp"));
    cmd
}

fn assert_tmp_empty(work: &Work) {
    let left: Vec<_> = std::fs::read_dir(work.path("tmp")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

const PLAIN: &str = "DB_USER: admin\nDB_PASS: 'p@ss word'\nPORT: 5432\nDEBUG: true\n";

#[test]
fn exec_env_passes_top_level_values_and_the_exit_code() {
    let work = setup(PLAIN);
    let out =
        run(gitseal(&work).args(["exec-env", "s.yaml", r#"echo "$DB_USER|$DB_PASS|$PORT|$DEBUG"; exit 7"#]), None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "admin|p@ss word|5432|true\n");
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let ok = run(gitseal(&work).args(["exec-env", "s.yaml", "true"]), None);
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn exec_env_pristine_starts_from_an_empty_environment() {
    let work = setup(PLAIN);
    let probe = r#"echo "${OUTSIDE:-unset} $DB_USER""#;
    let inherited = run(gitseal(&work).env("OUTSIDE", "here").args(["exec-env", "s.yaml", probe]), None);
    assert_eq!(String::from_utf8_lossy(&inherited.stdout), "here admin\n");
    let pristine = run(gitseal(&work).env("OUTSIDE", "here").args(["exec-env", "--pristine", "s.yaml", probe]), None);
    assert_eq!(String::from_utf8_lossy(&pristine.stdout), "unset admin\n");
}

#[test]
fn exec_env_refuses_complex_values() {
    let work = setup("a: 1\nnested:\n  b: secret\nlist: [x]\n");
    let out = run(gitseal(&work).args(["exec-env", "s.yaml", "echo ran"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s.yaml") && stderr.contains("nested, list"), "{stderr}");
    assert!(!stderr.contains("secret") && out.stdout.is_empty(), "{stderr}");
}

#[test]
fn exec_file_uses_a_private_fifo_and_removes_it() {
    let work = setup(PLAIN);
    let script = r#"test -p {} || exit 9; stat -c '%a' {} "$(dirname {})"; cat {}"#;
    let out = run(gitseal(&work).args(["exec-file", "s.yaml", script]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("600\n700\n{PLAIN}"));
    assert_tmp_empty(&work);
}

#[test]
fn exec_file_no_fifo_filename_output_type_and_exit_code() {
    let work = setup(PLAIN);
    let script = r#"test -f {} || exit 9; basename {}; stat -c '%a' {}; cat {}; cat {} >/dev/null; exit 5"#;
    let out = run(
        gitseal(&work).args([
            "exec-file",
            "--no-fifo",
            "--filename",
            "db.json",
            "--output-type",
            "json",
            "s.yaml",
            script,
        ]),
        None,
    );
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("db.json\n600\n{\n"), "{stdout}");
    assert!(stdout.contains("\"DB_PASS\": \"p@ss word\""), "{stdout}");
    assert_tmp_empty(&work);
}

/// A command that never opens the FIFO must not leave gitseal waiting for a reader.
#[test]
fn exec_file_returns_when_the_command_ignores_the_fifo() {
    let work = setup(PLAIN);
    let mut child = gitseal(&work)
        .args(["exec-file", "s.yaml", "exit 3"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gitseal exec-file did not return after the command exited");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(3));
    assert_tmp_empty(&work);
}

#[test]
fn exec_file_rejects_a_path_as_filename() {
    let work = setup(PLAIN);
    let out = run(gitseal(&work).args(["exec-file", "--filename", "../x", "s.yaml", "cat {}"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_tmp_empty(&work);
}

/// SIGTERM to gitseal while the command runs: the command is ended and the plaintext removed.
#[test]
fn exec_file_sigterm_removes_the_plaintext() {
    for fifo in [false, true] {
        let work = setup(PLAIN);
        let marker = work.path("started");
        let script = format!(r#"echo {{}} > {}; exec sleep 60"#, marker.display());
        let mut cmd = gitseal(&work);
        cmd.arg("exec-file");
        if !fifo {
            cmd.arg("--no-fifo");
        }
        let mut child = cmd
            .args(["s.yaml", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&marker).is_ok_and(|s| s.ends_with('\n')) {
            assert!(Instant::now() < deadline, "the command did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let plaintext = std::fs::read_to_string(&marker).unwrap().trim_end().to_string();
        assert!(std::path::Path::new(&plaintext).exists());
        assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "gitseal did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(143), "fifo: {fifo}");
        assert_tmp_empty(&work);
    }
}
