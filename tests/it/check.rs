//! `gitseal check`, the pre-commit guard, on its own and through the real pre-commit with the
//! hook this repository ships (`.pre-commit-hooks.yaml`).

use std::path::Path;

use crate::peers::{demo_key, find_peer, manifest_dir, must, run, Peer, Work};

const SOPS_YAML: &str = "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: AGE\n";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
const TOKEN: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";

/// A repository with `.sops.yaml` and `app.enc.yaml` encrypted.
fn repo(git: &Peer) -> Work {
    let work = Work::new();
    work.sops_repo(git, SOPS_YAML, "app.enc.yaml", "db:\n  user: admin\n  password: hunter2\nnote_unencrypted: hi\n");
    work
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out).lines().map(str::to_string).collect()
}

#[test]
fn check_reports_plaintext_where_encryption_belongs_without_the_values() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    let clean = run(work.gitseal().args(["check", "app.enc.yaml"]), None);
    assert!(clean.status.success() && clean.stdout.is_empty(), "{}", String::from_utf8_lossy(&clean.stdout));
    // A value put back in the clear, a covered file never encrypted, a plaintext Secret, a token.
    let enc = work.read_string("app.enc.yaml");
    let start = enc.find("user: ENC[").unwrap() + 6;
    let end = start + enc[start..].find(']').unwrap() + 1;
    work.write("app.enc.yaml", format!("{}admin{}", &enc[..start], &enc[end..]));
    work.write("new.enc.yaml", "api_key: hunter2\n");
    work.write("db-secret.yaml", SECRET);
    work.write("ci.env", format!("GITHUB_TOKEN={TOKEN}\n"));
    let out = run(work.gitseal().args(["check", "app.enc.yaml", "new.enc.yaml", "db-secret.yaml", "ci.env"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        lines(&out.stdout),
        [
            r#"app.enc.yaml: the value at ["db"]["user"] is not encrypted, but the file's rule encrypts it (added after encryption?)"#,
            "new.enc.yaml: not encrypted, but creation rule 1 (line 2) of .sops.yaml covers it; encrypt it: gitseal encrypt -i new.enc.yaml",
            "db-secret.yaml: a Kubernetes Secret with data in the clear; encrypt it (gitseal encrypt -i db-secret.yaml) or seal it (gitseal seal)",
            "ci.env:1: github-token (value not shown)",
        ]
    );
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("hunter2") && !all.contains(TOKEN) && !all.contains("admin"), "{all}");
}

#[test]
fn check_verifies_the_mac_when_a_key_is_at_hand() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    let text = work.read_string("app.enc.yaml").replace("note_unencrypted: hi", "note_unencrypted: changed");
    work.write("app.enc.yaml", text);
    // Without a key the structure is all that can be checked; with one, the MAC tells.
    assert!(run(work.gitseal().args(["check", "app.enc.yaml"]), None).status.success());
    let out = run(work.gitseal().env("SOPS_AGE_KEY_FILE", demo_key()).args(["check", "app.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("app.enc.yaml: MAC mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_staged_reads_what_a_commit_would_record() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    work.write("later.enc.yaml", "token: hunter2\n");
    must(work.git(&git).args(["add", "-A"]), None);
    // Encrypted in the work tree afterwards, but the index still holds the plaintext.
    must(work.gitseal().args(["encrypt", "-i", "later.enc.yaml"]), None);
    let out = run(work.gitseal().args(["check", "--staged"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        lines(&out.stdout),
        ["later.enc.yaml: not encrypted, but creation rule 1 (line 2) of .sops.yaml covers it; encrypt it: gitseal encrypt -i later.enc.yaml"]
    );
    must(work.git(&git).args(["add", "later.enc.yaml"]), None);
    let out = run(work.gitseal().args(["check", "--staged"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// The hook this repository ships, run by the real pre-commit (`try-repo` against this
/// checkout), with the gitseal under test on PATH.
#[test]
fn pre_commit_runs_the_shipped_hook() {
    let (Some(git), Some(pre_commit)) = (find_peer("git"), find_peer("pre-commit")) else { return };
    let work = repo(&git);
    work.write("db-secret.yaml", SECRET);
    work.write("notes.yaml", "a: 1\n");
    must(work.git(&git).args(["add", "-A"]), None);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gitseal")).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let home = Work::new();
    let mut cmd = pre_commit.cmd();
    cmd.current_dir(work.dir()).env("PATH", path).env("PRE_COMMIT_HOME", home.dir()).env("GIT_CONFIG_NOSYSTEM", "1");
    let root = manifest_dir().display().to_string();
    let out = run(
        cmd.args([
            "try-repo",
            &root,
            "gitseal-check-system",
            "--files",
            "db-secret.yaml",
            "notes.yaml",
            "app.enc.yaml",
        ]),
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("db-secret.yaml: a Kubernetes Secret with data in the clear"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("notes.yaml"), "{text}");
}
