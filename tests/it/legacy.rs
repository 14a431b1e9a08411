//! Legacy mode (`gitseal -e/-d/--set ... FILE`, bare `gitseal FILE` = edit), global flags before
//! a subcommand, and the binary invoked under the name `sops`.

use std::path::PathBuf;
use std::process::Command;

use crate::peers::{demo_key, gitseal, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "app:\n    user: admin\n    password: hunter2\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The built binary copied into the work directory as `sops`.
fn as_sops(work: &Work) -> PathBuf {
    let path = work.path("bin/sops");
    std::fs::create_dir_all(work.path("bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_gitseal"), &path).unwrap();
    path
}

/// `sops` (the copy) with the clean environment of `gitseal()`, the demo key, in the work dir.
fn sops_cmd(work: &Work, bin: &PathBuf) -> Command {
    let template = gitseal();
    let mut cmd = Command::new(bin);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("SOPS_AGE_KEY_FILE", demo_key()).current_dir(work.dir());
    cmd
}

#[test]
fn legacy_encrypt_decrypt_and_set() {
    let work = Work::new();
    work.write("s.yaml", PLAIN);
    let out = run(work.gitseal().args(["-e", "--age", DEMO_RECIPIENT, "-i", "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(work.read_string("s.yaml").contains("ENC[AES256_GCM,"));
    let out = run(work.gitseal_with_key().args(["-d", "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), PLAIN);
    let out = run(work.gitseal_with_key().args(["--set", r#"["app"]["password"] "s3cr3t""#, "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(work.gitseal_with_key().args(["--decrypt", "--extract", r#"["app"]["password"]"#, "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"s3cr3t");
    // Several action flags: the last wins, with a warning.
    let out = run(work.gitseal_with_key().args(["-e", "-d", "--output-type", "json", "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""user": "admin""#));
    assert!(stderr(&out).contains("only the last, -d, takes effect"), "{}", stderr(&out));
    // Flags after the file are ignored, with sops's warnings.
    let out = run(work.gitseal_with_key().args(["-d", "s.yaml", "--output-type", "json"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("user: admin"));
    assert!(stderr(&out).contains("--output-type looks like a flag"), "{}", stderr(&out));
}

#[test]
fn global_flags_before_the_subcommand_are_honoured() {
    let work = Work::new();
    work.write("s.yaml", PLAIN);
    let out =
        run(work.gitseal().args(["--indent", "2", "--verbose", "encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    work.write("e.yaml", &out.stdout);
    let out = run(
        work.gitseal_with_key().args(["--indent", "3", "decrypt", "e.yaml", "--output-type", "json", "--verbose"]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("{\n   \"app\": {\n      \"user\""),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn bare_file_is_edit() {
    let work = Work::new();
    work.write("s.yaml", PLAIN);
    assert!(run(work.gitseal().args(["-e", "-i", "--age", DEMO_RECIPIENT, "s.yaml"]), None).status.success());
    // An editor that changes nothing: edit exits 200, as sops.
    let out = run(work.gitseal_with_key().env("SOPS_EDITOR", "true").args(["s.yaml"]), None);
    assert_eq!(out.status.code(), Some(200), "{}", stderr(&out));
}

#[test]
fn legacy_failures_exit_as_sops() {
    let work = Work::new();
    work.write("s.yaml", PLAIN);
    let out = run(work.gitseal().args(["-d"]), None);
    assert_eq!(out.status.code(), Some(100), "{}", stderr(&out));
    assert!(stderr(&out).contains("Error: no file specified"), "{}", stderr(&out));
    let out = run(work.gitseal().args(["--no-such-flag", "s.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("flag provided but not defined: --no-such-flag"), "{}", stderr(&out));
    let out = run(work.gitseal().args(["-e", "--age", DEMO_RECIPIENT, "-i", "--output", "o.yaml", "s.yaml"]), None);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert_eq!(work.read_string("s.yaml"), PLAIN);
    let out = run(work.gitseal().args(["--set", "no-path", "s.yaml"]), None);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
}

#[test]
fn a_binary_named_sops_speaks_sops() {
    let work = Work::new();
    let sops = as_sops(&work);
    work.write("s.yaml", PLAIN);
    let out = run(sops_cmd(&work, &sops).args(["-e", "--age", DEMO_RECIPIENT, "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    work.write("e.yaml", &out.stdout);
    let out = run(sops_cmd(&work, &sops).args(["-d", "e.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), PLAIN);
    let out = run(sops_cmd(&work, &sops).args(["--set", r#"["app"] "b""#, "e.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(sops_cmd(&work, &sops).args(["decrypt", "e.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "app: b\n");
    let out = run(sops_cmd(&work, &sops).args(["-d"]), None);
    assert_eq!(out.status.code(), Some(100), "{}", stderr(&out));
}

#[test]
fn legacy_rotate_with_added_key() {
    let work = Work::new();
    work.write("s.yaml", PLAIN);
    assert!(run(work.gitseal().args(["-e", "-i", "--age", DEMO_RECIPIENT, "s.yaml"]), None).status.success());
    let before = work.read_string("s.yaml");
    let out = run(work.gitseal_with_key().args(["-r", "-i", "--add-age", OTHER_RECIPIENT, "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = work.read_string("s.yaml");
    assert_ne!(before, after);
    assert!(after.contains(OTHER_RECIPIENT), "{after}");
    let out = run(work.gitseal().env("SOPS_AGE_KEY_FILE", other_key()).args(["-d", "s.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), PLAIN);
}
