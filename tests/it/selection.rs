//! The six selection rules and `--mac-only-encrypted`, both directions against sops, on
//! `tests/fixtures/selection.yaml`. Each rule must encrypt exactly what sops encrypts.
//!
//! sops 3.11 honours the comment regexes and `--mac-only-encrypted` only in legacy mode
//! (`sops -e FLAG … FILE`), so those are encrypted that way on the sops side.

use crate::fixtures::{self, enc_count, encrypted_keys, key_values, same_bytes, same_json, yaml_body};
use crate::peers::{find_peer, must, run_ok, Work, DEMO_RECIPIENT};

const FIXTURE: &str = "selection.yaml";

struct Rule {
    flag: &'static str,
    /// `None` for `--mac-only-encrypted`.
    value: Option<&'static str>,
    /// Only legacy `sops -e` honours the flag in sops 3.11.
    legacy: bool,
    /// Keys whose values must be encrypted.
    encrypted: &'static [&'static str],
    /// Keys whose values must stay plaintext.
    plain: &'static [&'static str],
}

impl Rule {
    fn args(&self) -> Vec<&'static str> {
        std::iter::once(self.flag).chain(self.value).collect()
    }

    fn name(&self) -> String {
        self.args().join(" ")
    }

    /// The metadata field the rule is recorded in: `--encrypted-regex` -> `encrypted_regex`.
    fn metadata_field(&self) -> String {
        self.flag.trim_start_matches('-').replace('-', "_")
    }
}

fn check(rule: Rule) {
    let name = rule.name();
    let work = Work::new();
    work.copy_fixture(FIXTURE);
    let original = work.read(FIXTURE);

    // gitseal encrypts exactly the selected values.
    let ours = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT]).args(rule.args()).arg(FIXTURE), None);
    let ours = String::from_utf8(ours).expect("encrypted YAML is UTF-8");
    work.write("selection.gitseal.yaml", &ours);
    for key in rule.encrypted {
        let values = key_values(&ours, key);
        assert!(
            !values.is_empty() && values.iter().all(|v| v.starts_with("ENC[")),
            "{name}: `{key}` must be encrypted, gitseal wrote {values:?}"
        );
    }
    for key in rule.plain {
        let values = key_values(&ours, key);
        assert!(
            !values.is_empty() && values.iter().all(|v| !v.contains("ENC[")),
            "{name}: `{key}` must stay plaintext, gitseal wrote {values:?}"
        );
    }
    let field = rule.metadata_field();
    let metadata = &ours[yaml_body(&ours).len()..];
    let recorded = metadata.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with(&format!("{field}:")) && l.contains(rule.value.unwrap_or("true"))
    });
    assert!(recorded, "{name}: the sops block does not record `{field}`:\n{metadata}");

    let plain = must(work.gitseal_with_key().args(["decrypt", "selection.gitseal.yaml"]), None);
    same_bytes(&original, &plain).unwrap_or_else(|e| panic!("{name}: gitseal round trip: {e}"));

    // The same selection as sops, and each reads the other's file.
    let Some(sops) = find_peer("sops") else { return };
    let mut cmd = work.peer(&sops);
    if rule.legacy {
        cmd.arg("-e");
    } else {
        cmd.arg("encrypt");
    }
    let theirs = must(cmd.args(["--age", DEMO_RECIPIENT]).args(rule.args()).arg(FIXTURE), None);
    let theirs = String::from_utf8(theirs).expect("sops writes UTF-8");
    work.write("selection.sops.yaml", &theirs);
    assert_eq!(encrypted_keys(&ours), encrypted_keys(&theirs), "{name}: keys encrypted by gitseal vs by sops");
    assert_eq!(enc_count(&ours), enc_count(&theirs), "{name}: ENC[…] strings (values + comments) gitseal vs sops");

    let decrypt_json = |file: &str, with_sops: bool| {
        let mut cmd = if with_sops { work.peer_with_key(&sops) } else { work.gitseal_with_key() };
        run_ok(cmd.args(["decrypt", "--output-type", "json", file]), None).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let reference = decrypt_json("selection.sops.yaml", true);
    same_json(
        "sops decrypt of gitseal's file",
        &decrypt_json("selection.gitseal.yaml", true),
        "sops's own",
        &reference,
        false,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    same_json(
        "gitseal decrypt of sops's file",
        &decrypt_json("selection.sops.yaml", false),
        "sops's own",
        &reference,
        false,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
}

#[test]
fn encrypted_regex() {
    check(Rule {
        flag: "--encrypted-regex",
        value: Some("^pass"),
        legacy: false,
        encrypted: &["password"],
        plain: &["public_host", "api_secret", "label_plain", "tagged", "untagged", "normal", "public_port"],
    });
}

#[test]
fn unencrypted_regex() {
    check(Rule {
        flag: "--unencrypted-regex",
        value: Some("^public"),
        legacy: false,
        // Any other rule turns the default `_unencrypted` suffix off.
        encrypted: &["password", "api_secret", "normal", "note_unencrypted", "tagged"],
        plain: &["public_host", "public_port"],
    });
}

#[test]
fn encrypted_suffix() {
    check(Rule {
        flag: "--encrypted-suffix",
        value: Some("_secret"),
        legacy: false,
        encrypted: &["api_secret"],
        plain: &["password", "public_host", "normal", "note_unencrypted"],
    });
}

#[test]
fn unencrypted_suffix() {
    check(Rule {
        flag: "--unencrypted-suffix",
        value: Some("_plain"),
        legacy: false,
        encrypted: &["password", "public_host", "normal", "note_unencrypted"],
        plain: &["label_plain"],
    });
}

#[test]
fn encrypted_comment_regex() {
    check(Rule {
        flag: "--encrypted-comment-regex",
        value: Some("sops:enc"),
        legacy: true,
        encrypted: &["tagged"],
        plain: &["untagged", "normal", "password", "api_secret"],
    });
}

#[test]
fn unencrypted_comment_regex() {
    check(Rule {
        flag: "--unencrypted-comment-regex",
        value: Some("sops:plain"),
        legacy: true,
        encrypted: &["tagged", "normal", "password"],
        plain: &["untagged"],
    });
}

#[test]
fn mac_only_encrypted() {
    check(Rule {
        flag: "--mac-only-encrypted",
        value: None,
        legacy: true,
        encrypted: &["password", "normal", "tagged"],
        plain: &["note_unencrypted"],
    });
}

#[test]
fn mac_only_encrypted_leaves_plain_values_out_of_the_mac() {
    let work = Work::new();
    work.copy_fixture(FIXTURE);
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--mac-only-encrypted", FIXTURE]), None);
    let enc = String::from_utf8(enc).expect("encrypted YAML is UTF-8");
    assert!(enc.contains("note_unencrypted: readable\n"), "fixture line missing from:\n{enc}");
    work.write("changed.yaml", enc.replace("note_unencrypted: readable\n", "note_unencrypted: changed\n"));

    let plain = must(work.gitseal_with_key().args(["decrypt", "changed.yaml"]), None);
    let expected = String::from_utf8(fixtures::get(FIXTURE).bytes()).unwrap().replace("readable", "changed");
    same_bytes(expected.as_bytes(), &plain).unwrap_or_else(|e| panic!("gitseal decrypt: {e}"));

    let Some(sops) = find_peer("sops") else { return };
    let json = must(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "changed.yaml"]), None);
    assert!(String::from_utf8_lossy(&json).contains("\"changed\""), "sops decrypt: {}", String::from_utf8_lossy(&json));
}
