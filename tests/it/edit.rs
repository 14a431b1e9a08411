//! `gitseal edit` with fake editors (shell scripts as SOPS_EDITOR; no terminal): the change
//! lands with only its own ciphertext line plus `lastmodified` and `mac` changed, failures
//! exit with sops's codes and write nothing, and no plaintext is left in TMPDIR, not even
//! after SIGTERM while the editor runs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{find_peer, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "app:\n  user: admin\n  password: hunter2\nport: 5432\n";

/// A work dir with `s.yaml` (PLAIN encrypted by gitseal) and an empty private (0700) `tmp/`
/// for XDG_RUNTIME_DIR and TMPDIR, so the plaintext goes there and not to /dev/shm.
fn setup() -> Work {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write("s.yaml", &out.stdout);
    private_tmp(&work);
    work
}

fn private_tmp(work: &Work) {
    std::fs::create_dir(work.path("tmp")).unwrap();
    std::fs::set_permissions(work.path("tmp"), std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// An executable script `name` in the work dir with `body` (the edited file is "$1").
fn editor(work: &Work, name: &str, body: &str) -> String {
    let path = work.write(name, format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn edit_cmd(work: &Work, editor: &str) -> Command {
    let mut cmd = work.gitseal_with_key();
    cmd.env("TMPDIR", work.path("tmp")).env("XDG_RUNTIME_DIR", work.path("tmp"));
    cmd.env("SOPS_EDITOR", editor).env_remove("EDITOR");
    cmd
}

fn assert_tmp_empty(work: &Work) {
    let left: Vec<_> = std::fs::read_dir(work.path("tmp")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "plaintext left behind: {left:?}");
}

fn decrypted(work: &Work, name: &str) -> String {
    let out = run(work.gitseal_with_key().args(["decrypt", name]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_edit_changes_only_that_value_line_lastmodified_and_mac() {
    let work = setup();
    let before = work.read_string("s.yaml");
    let ed = editor(&work, "ed.sh", r#"sed -i 's/hunter2/changed/' "$1""#);
    let out = run(edit_cmd(&work, &ed).args(["edit", "s.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = work.read_string("s.yaml");
    let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len());
    let changed: Vec<&str> = b
        .iter()
        .zip(&a)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.trim_start().split(':').next().unwrap())
        .filter(|k| *k != "lastmodified")
        .collect();
    assert_eq!(changed, ["password", "mac"]);
    assert_eq!(decrypted(&work, "s.yaml"), PLAIN.replace("hunter2", "changed"));
    assert_tmp_empty(&work);
    if let Some(sops) = find_peer("sops") {
        let out = run(work.peer_with_key(&sops).args(["decrypt", "s.yaml"]), None);
        assert!(out.status.success(), "sops: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("password: changed"));
    }
}

#[test]
fn the_editor_gets_a_private_copy_with_the_files_name() {
    let work = setup();
    let report = work.path("report");
    let body = format!(
        r#"stat -c '%a' "$1" "$(dirname "$1")" > {r}; basename "$1" >> {r}; dirname "$(dirname "$1")" >> {r}"#,
        r = report.display()
    );
    let ed = editor(&work, "ed.sh", &body);
    let out = run(edit_cmd(&work, &ed).args(["edit", "s.yaml"]), None);
    assert_eq!(out.status.code(), Some(200), "{}", String::from_utf8_lossy(&out.stderr));
    let tmp = std::fs::canonicalize(work.path("tmp")).unwrap();
    assert_eq!(work.read_string("report"), format!("600\n700\ns.yaml\n{}\n", tmp.display()));
    assert_tmp_empty(&work);
}

#[test]
fn failures_exit_with_sops_codes_and_leave_the_file_alone() {
    let work = setup();
    let before = work.read("s.yaml");
    let cases = [
        ("fail.sh", r#"sed -i 's/hunter2/lost/' "$1"; exit 1"#, 201, "Could not run editor"),
        ("noop.sh", "true", 200, "File has not changed, exiting."),
        ("bad.sh", r#"printf 'a: [\n' > "$1""#, 2, "s.yaml: invalid yaml after editing"),
        ("meta.sh", r#"printf 'sops: x\n' >> "$1""#, 2, "top-level sops key"),
        ("empty.sh", r#": > "$1""#, 92, "empty"),
    ];
    for (name, body, code, message) in cases {
        let ed = editor(&work, name, body);
        let out = run(edit_cmd(&work, &ed).args(["edit", "s.yaml"]).stdin(Stdio::null()), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
        assert!(stderr.contains(message) && stderr.lines().count() == 1, "{name}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert_eq!(work.read("s.yaml"), before, "{name} changed the file");
        assert_tmp_empty(&work);
    }
    let missing = run(edit_cmd(&work, "/nonexistent/editor").args(["edit", "s.yaml"]), None);
    assert_eq!(missing.status.code(), Some(201));
    assert_tmp_empty(&work);
}

/// sops 3.13 refuses edited content with its own metadata key (getsops/sops#2098): the file
/// would hold two metadata blocks. In every format, with the format's own metadata key.
#[test]
fn edited_content_with_a_metadata_key_is_refused_in_every_format() {
    let work = Work::new();
    private_tmp(&work);
    let cases = [
        ("json", "{\n  \"a\": \"b\"\n}\n", r#"{"a": "c", "sops": {"x": 1}}"#, "top-level sops key"),
        ("toml", "a = \"b\"\n", "a = \"c\"\n[sops]\nx = 1", "top-level sops key"),
        ("ini", "[s]\na = b\n", "[s]\na = c\n[sops]\nx = 1", "a [sops] section"),
        ("env", "A=b\n", "A=c\nsops_x=1", "a key starting with sops_"),
        ("yaml", "a: b\n---\nc: d\n", "a: c\n---\nc: d\nsops: 1", "top-level sops key"),
    ];
    for (ext, plain, edited, message) in cases {
        work.write(&format!("plain.{ext}"), plain);
        let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, &format!("plain.{ext}")]), None);
        assert!(out.status.success(), "{ext}: {}", String::from_utf8_lossy(&out.stderr));
        let name = format!("s.{ext}");
        work.write(&name, &out.stdout);
        let before = work.read(&name);
        let ed = editor(&work, &format!("{ext}.sh"), &format!("printf '%s\\n' '{edited}' > \"$1\""));
        let out = run(edit_cmd(&work, &ed).args(["edit", &name]).stdin(Stdio::null()), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{ext}: {stderr}");
        assert!(stderr.contains(&name) && stderr.contains(message), "{ext}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{ext}: {stderr}");
        assert_eq!(work.read(&name), before, "{ext}: the file changed");
        assert_eq!(decrypted(&work, &name), plain, "{ext}");
        assert_tmp_empty(&work);
    }
}

#[test]
fn a_new_file_starts_from_an_example_and_needs_keys() {
    let work = setup();
    let ed = editor(&work, "ed.sh", r#"sed -i 's/change-me/picked/' "$1""#);
    let out = run(edit_cmd(&work, &ed).args(["edit", "--age", DEMO_RECIPIENT, "new.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(decrypted(&work, "new.yaml").contains("password: picked"));
    // Unchanged: nothing is created.
    let noop = editor(&work, "noop.sh", "true");
    let out = run(edit_cmd(&work, &noop).args(["edit", "--age", DEMO_RECIPIENT, "other.yaml"]), None);
    assert_eq!(out.status.code(), Some(200));
    assert!(!work.exists("other.yaml"));
    // No key: nothing is created, one line says what to pass.
    let out = run(edit_cmd(&work, &ed).args(["edit", "third.yaml"]), None);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--age"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!work.exists("third.yaml"));
    assert_tmp_empty(&work);
}

fn wait_for(what: &str, deadline: Instant, mut done: impl FnMut() -> bool) {
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// sops 3.11 leaves the plaintext behind when killed while the editor runs; gitseal must not.
#[test]
fn sigterm_while_the_editor_runs_leaves_no_plaintext() {
    let work = setup();
    let before = work.read("s.yaml");
    let marker = work.path("editor-started");
    let body = format!(r#"echo "$1" > {}; exec sleep 60"#, marker.display());
    let ed = editor(&work, "slow.sh", &body);
    let mut child = edit_cmd(&work, &ed)
        .args(["edit", "s.yaml"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    wait_for("the editor to start", deadline, || std::fs::read_to_string(&marker).is_ok_and(|s| s.ends_with('\n')));
    let plaintext = std::fs::read_to_string(&marker).unwrap();
    assert!(Path::new(plaintext.trim_end()).exists(), "the editor's file exists while it runs");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut status = None;
    wait_for("gitseal to exit", deadline, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.unwrap().code(), Some(143));
    assert!(!Path::new(plaintext.trim_end()).exists());
    assert_tmp_empty(&work);
    assert_eq!(work.read("s.yaml"), before);
}

/// The same fake editors through sops and gitseal on copies of a sops-encrypted file: the same
/// exit codes and the same data afterwards. (Invalid content is left out: sops 3.11 loops
/// forever on it when standard input is at its end.)
#[test]
fn same_results_as_sops_edit() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    private_tmp(&work);
    work.write("plain.yaml", PLAIN);
    let out = run(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let original = out.stdout;
    let editors = [
        ("change.sh", r#"sed -i 's/hunter2/changed/; s/5432/6543/' "$1""#),
        ("add.sh", r#"printf 'extra: added\n' >> "$1""#),
        ("noop.sh", "true"),
        ("fail.sh", "exit 3"),
    ];
    for (name, body) in editors {
        let ed = editor(&work, name, body);
        work.write("theirs.yaml", &original);
        work.write("ours.yaml", &original);
        let mut theirs = work.peer_with_key(&sops);
        theirs.env("SOPS_EDITOR", &ed).env_remove("EDITOR").args(["edit", "theirs.yaml"]);
        let theirs = run(&mut theirs, None);
        let ours = run(edit_cmd(&work, &ed).args(["edit", "ours.yaml"]), None);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{name}: gitseal said {}, sops said {}",
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
        let data = |file: &str| {
            let out = run(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", file]), None);
            assert!(
                out.status.success(),
                "{name}: sops cannot decrypt {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        assert_eq!(data("ours.yaml"), data("theirs.yaml"), "{name}");
        if name == "change.sh" {
            // Only the two edited values' lines, lastmodified and mac differ from sops's file.
            let before = String::from_utf8(original.clone()).unwrap();
            let after = work.read_string("ours.yaml");
            let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
            assert_eq!(b.len(), a.len());
            let changed: Vec<&str> = b
                .iter()
                .zip(&a)
                .filter(|(x, y)| x != y)
                .map(|(x, _)| x.trim_start().split(':').next().unwrap())
                .filter(|k| *k != "lastmodified")
                .collect();
            assert_eq!(changed, ["password", "port", "mac"]);
        }
    }
    assert_tmp_empty(&work);
}

/// A new file takes its keys from the .sops.yaml creation rule, as `encrypt` does.
#[test]
fn a_new_file_uses_the_creation_rule() {
    let work = setup();
    work.write(".sops.yaml", format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {DEMO_RECIPIENT}\n"));
    let ed = editor(&work, "ed.sh", r#"sed -i 's/change-me/from-rule/' "$1""#);
    let out = run(edit_cmd(&work, &ed).args(["edit", "ruled.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(work.read_string("ruled.yaml").contains(DEMO_RECIPIENT));
    assert!(decrypted(&work, "ruled.yaml").contains("password: from-rule"));
    assert_tmp_empty(&work);
}

/// Value lines (`key: ENC[...]`) of an encrypted YAML file, metadata excluded.
fn value_lines(text: &str) -> Vec<&str> {
    text.lines().take_while(|l| !l.starts_with("sops:")).filter(|l| l.contains("ENC[")).collect()
}

/// `edit -s`: the editor sees the metadata; a recipient added to the age list can open the file
/// afterwards, one removed cannot, and values that did not change keep their ciphertext.
#[test]
fn show_master_keys_adds_and_removes_recipients() {
    let work = setup();
    let before = work.read_string("s.yaml");
    let seen = work.path("seen");
    let body = format!(
        r#"cp "$1" {seen}; sed -i 's/hunter2/changed/; s/^\( *\)age:$/&\n\1  - recipient: {OTHER_RECIPIENT}/' "$1""#,
        seen = seen.display()
    );
    let ed = editor(&work, "add.sh", &body);
    let out = run(edit_cmd(&work, &ed).args(["edit", "-s", "s.yaml"]).stdin(Stdio::null()), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = work.read_string("seen");
    assert!(
        seen.contains("password: hunter2") && seen.contains(DEMO_RECIPIENT) && seen.contains("\nsops:\n"),
        "{seen}"
    );
    let after = work.read_string("s.yaml");
    let (b, a) = (value_lines(&before), value_lines(&after));
    assert_eq!(b.len(), a.len());
    let changed: Vec<_> = b.iter().zip(&a).filter(|(x, y)| x != y).map(|(x, _)| x.trim_start()).collect();
    assert!(changed.len() == 1 && changed[0].starts_with("password:"), "{changed:?}");
    let with_other = run(work.gitseal().env("SOPS_AGE_KEY_FILE", other_key()).args(["decrypt", "s.yaml"]), None);
    assert!(with_other.status.success(), "{}", String::from_utf8_lossy(&with_other.stderr));
    assert_eq!(String::from_utf8_lossy(&with_other.stdout), PLAIN.replace("hunter2", "changed"));
    if let Some(sops) = find_peer("sops") {
        let out = run(work.peer(&sops).env("SOPS_AGE_KEY_FILE", other_key()).args(["decrypt", "s.yaml"]), None);
        assert!(out.status.success(), "sops: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("password: changed"));
    }

    // Remove the demo recipient's entry (its recipient line through the end of its enc block).
    let body = format!(r#"sed -i '/recipient: {DEMO_RECIPIENT}/,/END AGE ENCRYPTED FILE/d' "$1""#);
    let ed = editor(&work, "rm.sh", &body);
    let mut cmd = edit_cmd(&work, &ed);
    cmd.env("SOPS_AGE_KEY_FILE", other_key()).args(["edit", "--show-master-keys", "s.yaml"]).stdin(Stdio::null());
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!work.read_string("s.yaml").contains(DEMO_RECIPIENT));
    let with_demo = run(work.gitseal_with_key().args(["decrypt", "s.yaml"]), None);
    assert_eq!(with_demo.status.code(), Some(128), "{}", String::from_utf8_lossy(&with_demo.stderr));
    assert_tmp_empty(&work);
}

/// What an `edit -s` may not do: drop the metadata, change the selection rule, or leave no
/// key. Without a terminal each fails with one line and the file stays as it was.
#[test]
fn show_master_keys_refuses_what_would_break_the_file() {
    let work = setup();
    let before = work.read("s.yaml");
    let cases = [
        ("nometa.sh", r#"sed -i '/^sops:/,$d' "$1""#, "sops metadata is gone"),
        ("rule.sh", r#"sed -i 's/^\( *\)version:/\1encrypted_regex: ^pass\n&/' "$1""#, "sops.encrypted_regex changed"),
        ("nokeys.sh", r#"sed -i '/recipient:/,/END AGE ENCRYPTED FILE/d' "$1""#, "no master keys"),
        ("badkey.sh", r#"sed -i 's/recipient: age1/recipient: nope1/' "$1""#, "s.yaml"),
        (
            "both.sh",
            r#"sed -i 's/^\( *\)version:/\1key_groups:\n\1  - age:\n\1      - recipient: age1x\n&/' "$1""#,
            "both key_groups and a top-level key list",
        ),
    ];
    for (name, body, message) in cases {
        let ed = editor(&work, name, body);
        let out = run(edit_cmd(&work, &ed).args(["edit", "-s", "s.yaml"]).stdin(Stdio::null()), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(message) && stderr.lines().count() == 1, "{name}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert_eq!(work.read("s.yaml"), before, "{name} changed the file");
        assert_tmp_empty(&work);
    }
    // A key of a kind gitseal does not use, removed: refused, not silently kept.
    let with_gcp = String::from_utf8(before.clone()).unwrap().replace(
        "sops:\n",
        "sops:\n  gcp_kms:\n    - resource_id: projects/p/k1\n      created_at: \"2026-01-01T00:00:00Z\"\n      enc: AAAA\n    - resource_id: projects/p/k2\n      created_at: \"2026-01-01T00:00:00Z\"\n      enc: BBBB\n",
    );
    work.write("g.yaml", &with_gcp);
    let ed = editor(&work, "rmgcp.sh", r#"sed -i '/projects\/p\/k2/,/enc: BBBB/d; s/hunter2/changed/' "$1""#);
    let out = run(edit_cmd(&work, &ed).args(["edit", "-s", "g.yaml"]).stdin(Stdio::null()), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot change the keys") && stderr.contains("gcp_kms"), "{stderr}");
    assert_eq!(work.read_string("g.yaml"), with_gcp);
    // Several YAML documents: each would show a copy of the metadata; refused.
    work.write("m.yaml", "a: 1\n---\nb: 2\n");
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "-i", "m.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let multi = work.read("m.yaml");
    let ed = editor(&work, "any.sh", r#"sed -i 's/1/3/' "$1""#);
    let out = run(edit_cmd(&work, &ed).args(["edit", "-s", "m.yaml"]).stdin(Stdio::null()), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(work.read("m.yaml"), multi);

    let noop = editor(&work, "noop.sh", "true");
    let out = run(edit_cmd(&work, &noop).args(["edit", "-s", "s.yaml"]), None);
    assert_eq!(out.status.code(), Some(200));
    let out = run(edit_cmd(&work, &noop).args(["edit", "-s", "--age", DEMO_RECIPIENT, "new.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!work.exists("new.yaml"));
    assert_tmp_empty(&work);
}

/// Without SOPS_EDITOR/EDITOR and without a terminal, the fallback editors (vim, nano, vi)
/// would wait forever: gitseal fails at once instead.
#[test]
fn no_editor_and_no_terminal_fails_at_once() {
    let work = setup();
    let before = work.read("s.yaml");
    let mut cmd = work.gitseal_with_key();
    cmd.env("TMPDIR", work.path("tmp")).env("XDG_RUNTIME_DIR", work.path("tmp"));
    cmd.env_remove("SOPS_EDITOR").env_remove("EDITOR");
    let out = run(cmd.args(["edit", "s.yaml"]).stdin(Stdio::null()), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(201), "{stderr}");
    assert!(stderr.contains("SOPS_EDITOR") && stderr.lines().count() == 1, "{stderr}");
    assert_eq!(work.read("s.yaml"), before);
    assert_tmp_empty(&work);
}

/// The file changed (here: another `set`) or was deleted while the editor ran: the edit does not
/// overwrite or re-create it; it is kept, encrypted, as `s.edited.yaml`, and the error says so.
#[test]
fn a_file_changed_or_deleted_while_editing_is_not_overwritten() {
    let work = setup();
    let gitseal = env!("CARGO_BIN_EXE_gitseal");
    let key = crate::peers::demo_key();
    let body = format!(
        "SOPS_AGE_KEY_FILE={} {gitseal} set s.yaml '[\"port\"]' 1 || exit 9\nsed -i 's/admin/root/' \"$1\"",
        key.display()
    );
    let ed = editor(&work, "ed.sh", &body);
    let out = run(edit_cmd(&work, &ed).args(["edit", "s.yaml"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("changed by something else") && stderr.contains("s.edited.yaml"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(decrypted(&work, "s.yaml"), PLAIN.replace("5432", "1"), "the other change must stay");
    assert_eq!(decrypted(&work, "s.edited.yaml"), PLAIN.replace("admin", "root"));
    assert_tmp_empty(&work);

    let ed = editor(&work, "rm.sh", "rm s.yaml\nsed -i 's/admin/root/' \"$1\"");
    let out = run(edit_cmd(&work, &ed).args(["edit", "s.yaml"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("deleted while the editor ran"), "{stderr}");
    assert!(!work.exists("s.yaml"), "the deleted file was re-created");
    assert_tmp_empty(&work);
}
