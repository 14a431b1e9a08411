//! Legacy mode (`gitseal -e/-d/--set ... FILE`, bare `gitseal FILE` = edit), global flags before
//! a subcommand, and the binary invoked under the name `sops`.

use std::path::PathBuf;
use std::process::Command;

use crate::peers::{demo_key, gitseal, must, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "app:\n    user: admin\n    password: hunter2\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The built binary, linked into the work directory as `sops`. (A copy could fail to start
/// with "text file busy" while another test's child still holds it open for writing.)
fn as_sops(work: &Work) -> PathBuf {
    let path = work.path("bin/sops");
    std::fs::create_dir_all(work.path("bin")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gitseal"), &path).unwrap();
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

#[test]
fn as_sops_the_messages_scripts_match_are_sops_own() {
    let work = Work::new();
    let sops = as_sops(&work);
    // No arguments at all: sops's error and code, not a help page.
    let out = run(&mut sops_cmd(&work, &sops), None);
    assert_eq!(out.status.code(), Some(100), "{}", stderr(&out));
    assert_eq!(stderr(&out), "Error: no file specified\n");
    // A creation rule without keys: sops's exact stderr (its own test suite compares it whole).
    work.write(".sops.yaml", "creation_rules:\n  - path_regex: empty\\.yaml$\n    key_groups: []\n");
    work.write("empty.yaml", PLAIN);
    let out = run(sops_cmd(&work, &sops).args(["encrypt", "empty.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "Could not generate data key: [empty key group provided]\n");
    assert!(out.stdout.is_empty());
    // `sops --version`: wrappers take the second word as sops's version.
    for flag in ["--version", "-v"] {
        let out = run(sops_cmd(&work, &sops).arg(flag), None);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let version = text.split_whitespace().nth(1).unwrap_or_default();
        assert!(text.starts_with("sops 3.") && version.split('.').count() == 3, "{text}");
    }
    // Under its own name gitseal says which rule and what to do.
    let out = run(work.gitseal().args(["encrypt", "empty.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("gitseal: empty.yaml: creation rule 1"), "{}", stderr(&out));
}

#[test]
fn sops_subcommands_gitseal_lacks_are_refused_not_edited() {
    let work = Work::new();
    let sops = as_sops(&work);
    work.write("f.json", "{\"a\": 1}\n");
    let marker = work.path("editor-ran");
    let editor = work.write("ed.sh", format!("#!/bin/sh\ntouch {}\n", marker.display()));
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = run(sops_cmd(&work, &sops).env("SOPS_EDITOR", &editor).args(["keyservice", "--yes", "f.json"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("sops keyservice is not supported: "), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    // publish is a command of its own now: without destination rules it says so.
    let out = run(sops_cmd(&work, &sops).env("SOPS_EDITOR", &editor).args(["publish", "--yes", "f.json"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("publish needs a .sops.yaml with destination_rules"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(!marker.exists(), "a subcommand started an editor");
}

#[test]
fn key_services_and_foreign_key_kinds_are_refused_with_a_reason() {
    let work = Work::new();
    work.write("s.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None);
    work.write("e.yaml", &enc);
    // The local key service is what gitseal always uses: accepted.
    let out = run(work.gitseal_with_key().args(["decrypt", "--enable-local-keyservice", "e.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(work.gitseal_with_key().args(["--enable-local-keyservice=true", "-d", "e.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let cases: &[&[&str]] = &[
        &["decrypt", "--keyservice", "tcp://localhost:5000", "e.yaml"],
        &["encrypt", "--age", DEMO_RECIPIENT, "--gcp-kms", "projects/p/locations/l/keyRings/r/cryptoKeys/k", "s.yaml"],
        &["encrypt", "--age", DEMO_RECIPIENT, "--azure-kv", "https://v.vault.azure.net/keys/k/1", "s.yaml"],
        &["rotate", "-i", "--add-hckms", "tr-west-1:0000", "e.yaml"],
        &["groups", "add", "-f", "e.yaml", "--hckms", "tr-west-1:0000"],
        &["-e", "--hckms", "tr-west-1:0000", "--age", DEMO_RECIPIENT, "s.yaml"],
    ];
    let before = work.read_string("e.yaml");
    for args in cases {
        let out = run(work.gitseal_with_key().args(*args), None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not supported"), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?} wrote output");
    }
    assert_eq!(work.read_string("e.yaml"), before);
    assert_eq!(work.read_string("s.yaml"), PLAIN);
}

/// `completion` (a sops subcommand too): a script the shell accepts, for the name invoked.
#[test]
fn completion_scripts_parse_and_name_the_binary() {
    let work = Work::new();
    let script = work.path("gitseal.bash");
    let out = must(work.gitseal().args(["completion", "bash"]), None);
    std::fs::write(&script, &out).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "{}", stderr(&syntax));
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("_gitseal()") && text.contains("updatekeys"), "{text}");
    let sops = as_sops(&work);
    let out = run(sops_cmd(&work, &sops).args(["completion", "zsh"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("#compdef sops"));
    let bad = run(work.gitseal().args(["completion", "tcsh"]), None);
    assert_ne!(bad.status.code(), Some(0));
    assert!(bad.stdout.is_empty());
}
