//! Tampered files and wrong keys: decrypt fails with the sops exit code, a one-line error that
//! names the file (and the key path where there is one) but never a value, and writes nothing.
//! Needs no peers: the files are gitseal's own, changed the way an attacker or a bad merge would.

use std::process::Command;

use crate::peers::{must, other_key, run, Work, DEMO_RECIPIENT};

/// The password in `nested.yaml`; no error message may contain it.
const SECRET: &str = "correct-horse-battery-staple";

/// gitseal's encryption of a fixture, as text.
fn encrypted(work: &Work, fixture: &str) -> String {
    work.copy_fixture(fixture);
    let out = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, fixture]), None);
    String::from_utf8(out).expect("encrypted YAML is UTF-8")
}

/// The index of the first line whose trimmed text starts with `prefix`.
fn line_index(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .position(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{}", lines.join("\n")))
}

fn lines_of(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

/// The `ENC[…]` string on a line.
fn enc_on(line: &str) -> &str {
    let start = line.find("ENC[").unwrap_or_else(|| panic!("no ENC[ on {line:?}"));
    let end = start + line[start..].find(']').expect("ENC[ is closed") + 1;
    &line[start..end]
}

/// Swaps the ENC strings of two lines.
fn swap_enc(lines: &mut [String], a: usize, b: usize) {
    let (ea, eb) = (enc_on(&lines[a]).to_string(), enc_on(&lines[b]).to_string());
    lines[a] = lines[a].replace(&ea, &eb);
    lines[b] = lines[b].replace(&eb, &ea);
}

/// Lines of stderr that are not hints.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().to_ascii_lowercase().starts_with("hint"))
        .collect()
}

/// Decrypting `file` (with the command `decrypt` makes) must fail with `code`, on stdout, with
/// `--output` and with `-i`, and change nothing on disk.
fn expect_failure(work: &Work, file: &str, code: i32, keys: &[&str], decrypt: impl Fn() -> Command) {
    let before = work.read(file);
    let runs: [(&str, Vec<&str>); 3] = [
        ("stdout", vec!["decrypt", file]),
        ("--output", vec!["decrypt", "--output", "out.yaml", file]),
        ("-i", vec!["decrypt", "-i", file]),
    ];
    for (how, args) in runs {
        let out = run(decrypt().args(&args), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{file} ({how}): exit code; stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{file} ({how}): panic: {stderr}");
        assert!(!stderr.contains(SECRET), "{file} ({how}): the error shows a secret value: {stderr}");
        let lines = error_lines(&stderr);
        assert_eq!(lines.len(), 1, "{file} ({how}): expected a one-line error, got: {stderr}");
        assert!(lines[0].contains(file), "{file} ({how}): the error does not name the file: {stderr}");
        if !keys.is_empty() {
            assert!(
                keys.iter().any(|k| lines[0].contains(k)),
                "{file} ({how}): the error names none of the keys {keys:?}: {stderr}"
            );
        }
        assert!(how != "stdout" || out.stdout.is_empty(), "{file}: plaintext on stdout despite the failure");
        assert!(!work.exists("out.yaml"), "{file} ({how}): --output was written despite the failure");
        assert_eq!(work.read(file), before, "{file} ({how}): the file changed");
    }
}

fn with_demo_key(work: &Work) -> impl Fn() -> Command + '_ {
    move || work.gitseal_with_key()
}

#[test]
fn changed_ciphertext_byte_fails_25() {
    let work = Work::new();
    let mut lines = lines_of(&encrypted(&work, "nested.yaml"));
    let at = line_index(&lines, "password: ENC[AES256_GCM,data:");
    let data = lines[at].find("data:").unwrap() + "data:".len();
    let replacement = if lines[at].as_bytes()[data] == b'A' { "B" } else { "A" };
    lines[at].replace_range(data..data + 1, replacement);
    work.write("tampered.yaml", lines.join("\n"));
    expect_failure(&work, "tampered.yaml", 25, &["password"], with_demo_key(&work));
}

#[test]
fn values_swapped_between_keys_fail_25() {
    // Each value's AAD is its key path, so a value moved to another key does not authenticate.
    let work = Work::new();
    let mut lines = lines_of(&encrypted(&work, "nested.yaml"));
    let (user, password) = (line_index(&lines, "user: ENC["), line_index(&lines, "password: ENC["));
    swap_enc(&mut lines, user, password);
    work.write("swapped.yaml", lines.join("\n"));
    expect_failure(&work, "swapped.yaml", 25, &["user", "password"], with_demo_key(&work));
}

#[test]
fn list_items_swapped_under_one_key_fail_51() {
    // Same key path, so both decrypt; the MAC covers the order of values.
    let work = Work::new();
    let mut lines = lines_of(&encrypted(&work, "nested.yaml"));
    let roles = line_index(&lines, "roles:");
    assert!(lines[roles + 1].contains("- ENC[") && lines[roles + 2].contains("- ENC["), "roles list not found");
    swap_enc(&mut lines, roles + 1, roles + 2);
    work.write("reordered.yaml", lines.join("\n"));
    expect_failure(&work, "reordered.yaml", 51, &[], with_demo_key(&work));
}

#[test]
fn changed_unencrypted_value_fails_51_unless_ignore_mac() {
    let work = Work::new();
    let text = encrypted(&work, "unencrypted.yaml");
    assert!(text.contains("username_unencrypted: alice\n"), "plaintext value missing:\n{text}");
    work.write("changed.yaml", text.replace("username_unencrypted: alice\n", "username_unencrypted: mallory\n"));
    expect_failure(&work, "changed.yaml", 51, &[], with_demo_key(&work));

    let plain = must(work.gitseal_with_key().args(["decrypt", "--ignore-mac", "changed.yaml"]), None);
    assert!(String::from_utf8_lossy(&plain).contains("username_unencrypted: mallory"), "--ignore-mac output");
}

#[test]
fn deleted_value_line_fails_51() {
    let work = Work::new();
    let mut lines = lines_of(&encrypted(&work, "nested.yaml"));
    lines.remove(line_index(&lines, "user: ENC["));
    work.write("deleted.yaml", lines.join("\n"));
    expect_failure(&work, "deleted.yaml", 51, &[], with_demo_key(&work));
}

#[test]
fn wrong_key_fails_128() {
    let work = Work::new();
    work.write("secret.yaml", encrypted(&work, "nested.yaml"));
    expect_failure(&work, "secret.yaml", 128, &[], || {
        let mut cmd = work.gitseal();
        cmd.env("SOPS_AGE_KEY_FILE", other_key());
        cmd
    });
}

#[test]
fn no_key_at_all_fails_128() {
    let work = Work::new();
    work.write("secret.yaml", encrypted(&work, "nested.yaml"));
    expect_failure(&work, "secret.yaml", 128, &[], || work.gitseal());
}

/// An encrypted comment whose ciphertext was changed does not open: an error naming the key
/// path, as sops gives (kept as it was, its damaged bytes went into the output, which other
/// YAML readers then rejected).
#[test]
fn a_damaged_encrypted_comment_is_an_error() {
    let work = Work::new();
    work.write("p.yaml", "db:\n  # the admin account\n  user: admin\n");
    let enc = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "p.yaml"]), None);
    assert!(enc.status.success(), "{}", String::from_utf8_lossy(&enc.stderr));
    let text = String::from_utf8(enc.stdout).unwrap();
    let at = text
        .find("#ENC[AES256_GCM,data:")
        .or_else(|| text.find("# ENC[AES256_GCM,data:"))
        .expect("an encrypted comment");
    let data = at + text[at..].find("data:").unwrap() + 5;
    let mut bytes = text.into_bytes();
    bytes[data] = if bytes[data] == b'A' { b'B' } else { b'A' };
    work.write("s.yaml", &bytes);
    expect_failure(&work, "s.yaml", 25, &["db"], || work.gitseal_with_key());
}
