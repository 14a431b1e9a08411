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

/// Comments at the end of a line (`key: value # note`, also after a flow collection or a list
/// item) are read where sops reads them: before the entry, or inside the flow collection. So
/// every such comment is encrypted at the path sops decrypts it with (none stays in the clear),
/// and a comment regex on an end-of-line comment selects the value on that line, as in sops.
#[test]
fn end_of_line_comments_are_encrypted_and_select_like_sops() {
    let work = Work::new();
    // Also after anchored or tagged flow collections (n8-n10), a flow collection over two lines
    // (n11) and an alias to a collection (n12, written out expanded, its comment inside).
    let plain = concat!(
        "a: 1 # n1\nb:  # n2\n  x: 1\n  y: 2 # n3\nl:\n  - p # n4\n  - q\nf: [1, 2] # n5\ng: {k: 1} # n6\n",
        "h: \"q\" # n7\nan: &x {k: 1} # n8\ntg: !!map {d: 2} # n9\nls:\n  - &y [3] # n10\n",
        "ml: [1,\n  2] # n11\nal: *x # n12\nz: 9\n"
    );
    work.write("c.yaml", plain);
    let enc =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "c.yaml"]), None)).unwrap();
    for n in 1..=12 {
        assert!(!enc.contains(&format!(" n{n}\n")), "comment n{n} left in the clear:\n{enc}");
    }
    work.write("c.enc.yaml", &enc);
    let back = must(work.gitseal_with_key().args(["decrypt", "c.enc.yaml"]), None);
    assert_eq!(String::from_utf8(back).unwrap(), plain);

    let Some(sops) = find_peer("sops") else { return };
    let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "c.enc.yaml"]), None).unwrap();
    let theirs = String::from_utf8(theirs).unwrap();
    for n in 1..=12 {
        assert!(theirs.contains(&format!("# n{n}\n")), "sops did not decrypt comment n{n}:\n{theirs}");
    }

    // `--encrypted-comment-regex` on an end-of-line comment: sops (legacy mode) encrypts that
    // line's value; gitseal must encrypt the same, and sops must read gitseal's file.
    work.write("r.yaml", "a: 1 # sops:enc\nb: 2\nc: 3\n");
    let ours = must(
        work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--encrypted-comment-regex", "sops:enc", "r.yaml"]),
        None,
    );
    let args = ["--encrypted-comment-regex", "sops:enc", "-e", "--age", DEMO_RECIPIENT, "r.yaml"];
    let sops_enc = run_ok(work.peer(&sops).args(args), None).unwrap();
    let (ours, sops_enc) = (String::from_utf8(ours).unwrap(), String::from_utf8(sops_enc).unwrap());
    assert_eq!(encrypted_keys(&ours), ["a"]);
    assert_eq!(encrypted_keys(&ours), encrypted_keys(&sops_enc));
    work.write("r.enc.yaml", &ours);
    let data =
        run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "r.enc.yaml"]), None).unwrap();
    let data: serde_json::Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(data, serde_json::json!({"a": 1, "b": 2, "c": 3}));
}

/// A value kept in the clear that reads like an encrypted value (here a copy of one) is kept
/// as it is by decryption and counted in the MAC as its text, with and without
/// `--mac-only-encrypted`; sops reads the file the same way.
#[test]
fn a_clear_value_that_looks_encrypted_stays_as_it_is() {
    for extra in [None, Some("--mac-only-encrypted")] {
        let work = Work::new();
        work.write("one.yaml", "secret: hunter2\n");
        let one = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "one.yaml"]), None);
        let token = key_values(&String::from_utf8(one).unwrap(), "secret").remove(0);
        assert!(token.starts_with("ENC[AES256_GCM,data:"), "{token}");
        let plain = format!("secret: hunter2\nnested:\n    copy_unencrypted: {token}\n    other: 1\n");
        work.write("two.yaml", &plain);
        let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT]).args(extra).arg("two.yaml"), None);
        let enc = String::from_utf8(enc).expect("encrypted YAML is UTF-8");
        assert!(enc.contains(&format!("copy_unencrypted: {token}\n")), "{extra:?}:\n{enc}");
        work.write("two.enc.yaml", &enc);
        let out = must(work.gitseal_with_key().args(["decrypt", "two.enc.yaml"]), None);
        same_bytes(plain.as_bytes(), &out).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        // Written anew in another format, from the value.
        let json = must(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "two.enc.yaml"]), None);
        assert!(String::from_utf8_lossy(&json).contains(&token), "{extra:?}: {}", String::from_utf8_lossy(&json));
        let Some(sops) = find_peer("sops") else { continue };
        let json = must(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "two.enc.yaml"]), None);
        assert!(String::from_utf8_lossy(&json).contains(&token), "{extra:?}: {}", String::from_utf8_lossy(&json));
    }
}
