//! `rotate`, `updatekeys` and `groups add`/`groups delete` (`reference/sops-cli.md` §1.2, §7.2):
//! rotate makes a new data key and encrypts every value anew; updatekeys and groups keep the data
//! key (every value keeps its ciphertext) and wrap it for new master keys; files no key could
//! open are refused; real sops decrypts every result.

use std::path::PathBuf;
use std::process::Command;

use crate::peers::{demo_key, find_peer, must, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "db:\n    user: admin\n    password: hunter2 # the old one\nport: 5432\nlist:\n    - a\n    - b\n";

fn with_keys(mut cmd: Command, file: &PathBuf) -> Command {
    cmd.env("SOPS_AGE_KEY_FILE", file);
    cmd
}

/// A key file with both the demo and the other identity.
fn both_keys(work: &Work) -> PathBuf {
    let text = std::fs::read_to_string(demo_key()).unwrap() + &std::fs::read_to_string(other_key()).unwrap();
    work.write("both.txt", text)
}

/// `enc.yaml`, encrypted by gitseal for the demo recipient.
fn encrypted(work: &Work) {
    work.write("plain.yaml", PLAIN);
    let out = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    work.write("enc.yaml", out);
}

/// The value ciphertexts (`ENC[...]` before the metadata), in file order.
fn value_ciphertexts(text: &str) -> Vec<String> {
    let body = text.split("\nsops:").next().unwrap();
    body.split("ENC[").skip(1).map(|s| s.split(']').next().unwrap().to_string()).collect()
}

fn decrypts_to_plain(work: &Work, keys: &PathBuf, file: &str) {
    let out = must(with_keys(work.gitseal(), keys).args(["decrypt", file]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    if let Some(sops) = find_peer("sops") {
        let out = must(with_keys(work.peer(&sops), keys).args(["decrypt", file]), None);
        let sops_view = String::from_utf8(out).unwrap();
        assert!(sops_view.contains("hunter2") && sops_view.contains("5432"), "{sops_view}");
    }
}

fn fails_to_decrypt(work: &Work, keys: &PathBuf, file: &str) {
    let out = run(with_keys(work.gitseal(), keys).args(["decrypt", file]), None);
    assert_eq!(out.status.code(), Some(128), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn rotate_changes_the_data_key_and_every_ciphertext() {
    let work = Work::new();
    encrypted(&work);
    let before = work.read_string("enc.yaml");
    // Without -i the result goes to standard output and the file stays.
    let out = must(work.gitseal_with_key().args(["rotate", "enc.yaml"]), None);
    assert_eq!(work.read_string("enc.yaml"), before);
    work.write("stdout.yaml", out);
    decrypts_to_plain(&work, &demo_key(), "stdout.yaml");

    must(work.gitseal_with_key().args(["rotate", "-i", "enc.yaml"]), None);
    let after = work.read_string("enc.yaml");
    let (old, new) = (value_ciphertexts(&before), value_ciphertexts(&after));
    assert_eq!(old.len(), new.len());
    assert!(old.len() >= 5, "{before}");
    for (o, n) in old.iter().zip(&new) {
        assert_ne!(o, n, "a value kept its ciphertext");
        let iv = |s: &str| s.split(",iv:").nth(1).unwrap().split(',').next().unwrap().to_string();
        assert_ne!(iv(o), iv(n), "a value kept its IV");
    }
    // A new data key: the old wrapped key no longer opens the new values.
    let enc_of = |t: &str| t.split("enc: |").nth(1).unwrap().split("-----END").next().unwrap().to_string();
    assert_ne!(enc_of(&before), enc_of(&after));
    decrypts_to_plain(&work, &demo_key(), "enc.yaml");
}

#[test]
fn rotate_adds_and_removes_age_recipients() {
    let work = Work::new();
    encrypted(&work);
    fails_to_decrypt(&work, &other_key(), "enc.yaml");
    must(work.gitseal_with_key().args(["rotate", "-i", "--add-age", OTHER_RECIPIENT, "enc.yaml"]), None);
    decrypts_to_plain(&work, &other_key(), "enc.yaml");
    decrypts_to_plain(&work, &demo_key(), "enc.yaml");
    must(with_keys(work.gitseal(), &other_key()).args(["rotate", "-i", "--rm-age", DEMO_RECIPIENT, "enc.yaml"]), None);
    assert!(!work.read_string("enc.yaml").contains(DEMO_RECIPIENT));
    fails_to_decrypt(&work, &demo_key(), "enc.yaml");
    decrypts_to_plain(&work, &other_key(), "enc.yaml");
    // Removing the last key would leave a file no key opens.
    let before = work.read_string("enc.yaml");
    let out = run(
        with_keys(work.gitseal(), &other_key()).args(["rotate", "-i", "--rm-age", OTHER_RECIPIENT, "enc.yaml"]),
        None,
    );
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(work.read_string("enc.yaml"), before);
}

#[test]
fn rotate_on_a_missing_file() {
    let work = Work::new();
    // sops: 2 for the subcommand (it fails reading the file), 100 for the legacy `-r`.
    let out = run(work.gitseal_with_key().args(["rotate", "missing.yaml"]), None);
    assert_eq!(out.status.code(), Some(2));
    let out = run(work.gitseal_with_key().args(["-r", "missing.yaml"]), None);
    assert_eq!(out.status.code(), Some(100));
    let out = run(work.gitseal_with_key().args(["rotate", "--add-age", OTHER_RECIPIENT, "missing.yaml"]), None);
    assert_eq!(out.status.code(), Some(49));
    let out = run(work.gitseal_with_key().args(["rotate", "--rm-age", OTHER_RECIPIENT, "missing.yaml"]), None);
    assert_eq!(out.status.code(), Some(49));
}

#[test]
fn updatekeys_adds_a_recipient_from_the_creation_rule() {
    let work = Work::new();
    encrypted(&work);
    work.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: enc\\.yaml$\n    age: {DEMO_RECIPIENT},{OTHER_RECIPIENT}\n"),
    );
    let before = work.read_string("enc.yaml");
    // Without -y and without an answer: a hint, nothing written; a piped "n" is a no.
    let out = run(work.gitseal_with_key().args(["updatekeys", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-y"), "{err}");
    assert_eq!(work.read_string("enc.yaml"), before);
    let out = run(work.gitseal_with_key().args(["updatekeys", "enc.yaml"]), Some(b"n\n"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(work.read_string("enc.yaml"), before);

    let out = run(work.gitseal_with_key().args(["updatekeys", "-y", "enc.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("+    age: {OTHER_RECIPIENT}")), "{err}");
    assert!(err.contains("@@"), "not a unified diff: {err}");
    let after = work.read_string("enc.yaml");
    // The data key is kept: every value keeps its exact ciphertext.
    assert_eq!(value_ciphertexts(&before), value_ciphertexts(&after));
    decrypts_to_plain(&work, &other_key(), "enc.yaml");
    decrypts_to_plain(&work, &demo_key(), "enc.yaml");

    // In sync: nothing to do, nothing written.
    let out = run(work.gitseal_with_key().args(["updatekeys", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(work.read_string("enc.yaml"), after);

    // --rotate in sync: a new data key, every value encrypted anew, still opened by both keys.
    let out = run(work.gitseal_with_key().args(["updatekeys", "-y", "--rotate", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rotated = work.read_string("enc.yaml");
    let (old, new) = (value_ciphertexts(&after), value_ciphertexts(&rotated));
    assert_eq!(old.len(), new.len());
    assert!(old.iter().all(|c| !new.contains(c)), "a value kept its ciphertext");
    decrypts_to_plain(&work, &other_key(), "enc.yaml");
    decrypts_to_plain(&work, &demo_key(), "enc.yaml");

    // Removing a key without --rotate: done, with a note that the data key is still the old one.
    work.write(".sops.yaml", format!("creation_rules:\n  - path_regex: enc\\.yaml$\n    age: {DEMO_RECIPIENT}\n"));
    let out = run(work.gitseal_with_key().args(["updatekeys", "-y", "enc.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("--rotate"), "{err}");
    assert_eq!(value_ciphertexts(&rotated), value_ciphertexts(&work.read_string("enc.yaml")));
    fails_to_decrypt(&work, &other_key(), "enc.yaml");
}

#[test]
fn groups_add_and_delete() {
    let work = Work::new();
    let both = both_keys(&work);
    encrypted(&work);
    let before = work.read_string("enc.yaml");
    // To standard output without -i.
    let out = must(work.gitseal_with_key().args(["groups", "add", "-f", "enc.yaml", "--age", OTHER_RECIPIENT]), None);
    assert_eq!(work.read_string("enc.yaml"), before);
    assert!(String::from_utf8(out).unwrap().contains(OTHER_RECIPIENT));

    must(work.gitseal_with_key().args(["groups", "add", "-f", "enc.yaml", "-i", "--age", OTHER_RECIPIENT]), None);
    let two = work.read_string("enc.yaml");
    assert!(two.contains("shamir_threshold: 2"), "{two}");
    assert_eq!(value_ciphertexts(&before), value_ciphertexts(&two));
    decrypts_to_plain(&work, &both, "enc.yaml");
    fails_to_decrypt(&work, &demo_key(), "enc.yaml");
    fails_to_decrypt(&work, &other_key(), "enc.yaml");

    // Deleting a group would leave fewer groups than the threshold: refused, nothing written.
    let out = run(with_keys(work.gitseal(), &both).args(["groups", "delete", "-f", "enc.yaml", "-i", "1"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshold"));
    assert_eq!(work.read_string("enc.yaml"), two);
    // An index out of range is an error, not a crash.
    let out = run(with_keys(work.gitseal(), &both).args(["groups", "delete", "-f", "enc.yaml", "5"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key group 5"));

    let args = ["groups", "delete", "-f", "enc.yaml", "-i", "--shamir-secret-sharing-threshold", "1", "1"];
    must(with_keys(work.gitseal(), &both).args(args), None);
    let one = work.read_string("enc.yaml");
    assert!(!one.contains(OTHER_RECIPIENT) && !one.contains("shamir_threshold"), "{one}");
    assert_eq!(value_ciphertexts(&before), value_ciphertexts(&one));
    decrypts_to_plain(&work, &demo_key(), "enc.yaml");

    // Adding a group with threshold 1 would break Shamir (sops writes such a file): refused.
    let args =
        ["groups", "add", "-f", "enc.yaml", "-i", "--shamir-secret-sharing-threshold", "1", "--age", OTHER_RECIPIENT];
    let out = run(work.gitseal_with_key().args(args), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshold"));
    assert_eq!(work.read_string("enc.yaml"), one);
    // A missing -f.
    let out = run(work.gitseal_with_key().args(["groups", "delete", "0"]), None);
    assert_eq!(out.status.code(), Some(100));
}
