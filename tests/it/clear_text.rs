//! Edits of the clear part of an encrypted YAML file (anchors, aliases, tags) never change the
//! data a reader of the decrypted output gets. The MAC covers values, not anchors or tags, and
//! gitseal keeps those in its lossless output, so it checks the output against the decrypted
//! values; when they disagree it writes the values in canonical form with a warning.
//!
//! Each case decrypts the tampered file with gitseal and with real sops and reads both outputs
//! with PyYAML, an independent YAML 1.1 reader (the typing Kubernetes-era tools apply).

use crate::peers::{find_peer, must, run, Peer, Work, DEMO_RECIPIENT};

/// Every document of `yaml`, as PyYAML's `safe_load_all` reads it, in JSON.
pub fn yaml11(python: &Peer, yaml: &[u8]) -> String {
    let script = "import sys, json, yaml\nprint(json.dumps(list(yaml.safe_load_all(sys.stdin)), default=str))";
    let out = run(python.cmd().args(["-c", script]), Some(yaml));
    assert!(
        out.status.success(),
        "PyYAML cannot read:\n{}\n{}",
        String::from_utf8_lossy(yaml),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("JSON is UTF-8")
}

/// python3 with PyYAML (scripts/install-peers puts both in .peers/venv).
pub fn pyyaml() -> Option<Peer> {
    let python = find_peer("python3")?;
    let ok = run(python.cmd().args(["-c", "import yaml"]), None).status.success();
    if !ok && std::env::var("CI").as_deref() == Ok("true") {
        panic!("PyYAML missing under CI (scripts/install-peers installs it)");
    }
    ok.then_some(python)
}

/// Encrypts `plain` with gitseal, applies `tamper` to the encrypted text, and checks that
/// gitseal's decryption reads as sops's, warning at `path` (or with no warning when `None`).
fn check(plain: &str, extra: &[&str], tamper: impl Fn(&str) -> String, path: Option<&str>) {
    let (Some(sops), Some(python)) = (find_peer("sops"), pyyaml()) else { return };
    let work = Work::new();
    work.write("s.yaml", plain);
    let mut args = vec!["encrypt", "--age", DEMO_RECIPIENT];
    args.extend(extra);
    args.push("s.yaml");
    let encrypted = String::from_utf8(must(work.gitseal().args(&args), None)).unwrap();
    let tampered = tamper(&encrypted);
    assert_ne!(tampered, encrypted, "the tamper changed nothing");
    work.write("t.yaml", &tampered);
    let ours = run(work.gitseal_with_key().args(["decrypt", "t.yaml"]), None);
    let stderr = String::from_utf8_lossy(&ours.stderr);
    assert!(ours.status.success(), "gitseal decrypt failed: {stderr}");
    let theirs = must(work.peer_with_key(&sops).args(["decrypt", "t.yaml"]), None);
    assert_eq!(
        yaml11(&python, &ours.stdout),
        yaml11(&python, &theirs),
        "gitseal's output reads otherwise than sops's:\n{}",
        String::from_utf8_lossy(&ours.stdout)
    );
    match path {
        Some(p) => assert!(stderr.contains("warning") && stderr.contains(p), "no warning naming {p}: {stderr}"),
        None => assert!(stderr.is_empty(), "unexpected warning: {stderr}"),
    }
}

const ANCHORED: &str = "db_password: &pw s3cret\nport: &port 5432\napp:\n  password: *pw\n  port: *port\n";

/// Regression: moving `&pw` to a new key with an empty value (outside sops's MAC) made
/// `app.password: *pw` read the attacker's value.
#[test]
fn an_anchor_moved_to_an_empty_value_does_not_redirect_an_alias() {
    check(
        ANCHORED,
        &[],
        |t| t.replacen("db_password: &pw ", "db_password: ", 1).replacen("app:", "evil: &pw \"\"\napp:", 1),
        Some(r#"["app"]["password"]"#),
    );
    // A null value is skipped by the MAC too.
    check(
        ANCHORED,
        &[],
        |t| t.replacen("db_password: &pw ", "db_password: ", 1).replacen("app:", "evil: &pw\napp:", 1),
        Some(r#"["app"]["password"]"#),
    );
}

/// Regression: with --mac-only-encrypted a plaintext value is outside the MAC; an anchor moved
/// onto it must not become what the alias reads.
#[test]
fn an_anchor_moved_to_a_plaintext_value_does_not_redirect_an_alias() {
    check(
        ANCHORED,
        &["--mac-only-encrypted"],
        |t| t.replacen("db_password: &pw ", "db_password: ", 1).replacen("app:", "evil_unencrypted: &pw mine\napp:", 1),
        Some(r#"["app"]["password"]"#),
    );
}

/// An alias added in the clear under --mac-only-encrypted reads, for sops, as the anchor's
/// ciphertext; gitseal must not turn it into the decrypted secret.
#[test]
fn an_alias_added_in_the_clear_does_not_copy_a_secret() {
    check(
        "db_password: &pw s3cret\nnote_unencrypted: hello\n",
        &["--mac-only-encrypted"],
        |t| t.replacen("note_unencrypted: hello", "note_unencrypted: *pw", 1),
        Some(r#"["note_unencrypted"]"#),
    );
}

/// An anchor on a collection moved to another collection: the alias, written out in the
/// encrypted file and swapped back to `*base` on decryption, must still read the values it
/// was encrypted with.
#[test]
fn a_collection_anchor_moved_does_not_redirect_its_alias() {
    check(
        "base: &base\n  user: admin\n  password: s3cret\nother:\n  user: guest\n  password: guest\nsvc: *base\n",
        &[],
        |t| t.replacen("base: &base\n", "base:\n", 1).replacen("other:\n", "other: &base\n", 1),
        Some(r#"["svc"]"#),
    );
}

/// Regression: a tag added to an encrypted value survived decryption (`n: !!str 12` reads as a
/// string, `!custom` is kept); sops drops both. A tag in front of an encrypted value is never
/// taken from the clear text: the author's tags come back from the encrypted layout memory.
#[test]
fn tags_added_to_encrypted_values_do_not_survive() {
    check("n: 12\n", &[], |t| t.replacen("n: ENC[", "n: !!str ENC[", 1), None);
    check("e: secret\n", &[], |t| t.replacen("e: ENC[", "e: !custom ENC[", 1), None);
}

/// Tagged values are encrypted without their tag, as sops writes them (a `!!binary` block was
/// refused: its tag stayed in front of the ciphertext), and come back as the author wrote them.
#[test]
fn tagged_values_round_trip_and_sops_reads_them() {
    let Some(sops) = find_peer("sops") else { return };
    let plain = "k: !!binary |\n  aGVsbG8=\nj: !!binary aGVsbG8=\nm: !!str |\n  12\nc: !custom &a x\nd: *a\n";
    let work = Work::new();
    work.write("s.yaml", plain);
    let enc =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None)).unwrap();
    assert!(!enc.contains('!'), "a tag is left in the encrypted file:\n{enc}");
    work.write("e.yaml", &enc);
    let out = run(work.gitseal_with_key().args(["decrypt", "e.yaml"]), None);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain);
    let by_sops = String::from_utf8(must(work.peer_with_key(&sops).args(["decrypt", "e.yaml"]), None)).unwrap();
    assert!(by_sops.contains("k: hello") && by_sops.contains("j: hello"), "{by_sops}");
}

/// Anchors, aliases and tags the author wrote come back as written, with no warning.
#[test]
fn untouched_anchors_aliases_and_tags_round_trip_without_warning() {
    let Some(_) = find_peer("sops") else { return };
    let plain = "db_password: &pw s3cret\napp:\n  password: *pw\nbase: &b {u: admin, p: x}\nsvc: *b\nt: !!str 12\n";
    let work = Work::new();
    work.write("s.yaml", plain);
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None);
    work.write("e.yaml", &enc);
    let out = run(work.gitseal_with_key().args(["decrypt", "e.yaml"]), None);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain);
    // The tamper checks above compare with sops; here the untouched file must need no fallback.
    check(plain, &[], |t| t.replacen("sops:", "# reviewed\nsops:", 1), None);
}

/// Regression: `set` on such a file decrypted it with the moved anchor and encrypted the
/// attacker's value back as `app.password`. Now the values it keeps are the encrypted ones, and
/// it warns.
#[test]
fn set_on_a_file_with_a_moved_anchor_keeps_the_encrypted_values() {
    let Some(python) = pyyaml() else { return };
    let work = Work::new();
    work.write("s.yaml", ANCHORED);
    let encrypted =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None)).unwrap();
    let tampered =
        encrypted.replacen("db_password: &pw ", "db_password: ", 1).replacen("app:", "evil: &pw \"\"\napp:", 1);
    work.write("t.yaml", &tampered);
    let out = run(work.gitseal_with_key().args(["set", "t.yaml", r#"["port"]"#, "5433"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(r#"["app"]["password"]"#), "no warning: {stderr}");
    let plain = must(work.gitseal_with_key().args(["decrypt", "t.yaml"]), None);
    assert_eq!(
        yaml11(&python, &plain),
        r#"[{"db_password": "s3cret", "port": 5433, "evil": "", "app": {"password": "s3cret", "port": 5432}}]"#
            .to_string()
            + "\n",
        "{}",
        String::from_utf8_lossy(&plain)
    );
}

/// Found by the mutation sweep (`scripts/proofs/mutate.py`) on files sops wrote: clear-text
/// damage that gitseal passed through where other readers read it otherwise. A damaged
/// `!!merge` tag, a YAML type tag that cannot fit its node and a control character are refused
/// (a one-line error naming the place, nothing written), as sops refuses most of them; the last
/// line break removed after a multi-line value keeps the value's final line break.
#[test]
fn clear_text_damage_found_by_the_sweep_is_refused_or_read_as_sops_reads_it() {
    let (Some(sops), Some(python)) = (find_peer("sops"), pyyaml()) else { return };
    let work = Work::new();
    let plain = "# settings\nbase: &b\n  user: admin\napp:\n  <<: *b\n  port: 80\nnote_unencrypted: visible\nkey: |\n  line one\n  line two\n";
    work.write("p.yaml", plain);
    let enc =
        String::from_utf8(must(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "p.yaml"]), None)).unwrap();
    assert!(enc.contains("!!merge <<:"), "sops writes the merge key tagged:\n{enc}");
    let refused = [
        ("!!merge <<:", "!!mergd <<:", "!!mergd"),
        ("!!merge <<:", "!#merge <<:", "!#merge"),
        ("note_unencrypted: visible", "note_unencrypted: !!map visible", "!!map"),
        ("#ENC[AES256_GCM", "#ENC[AES256_\u{7}CM", "U+0007"),
    ];
    for (from, to, named) in refused {
        work.write("t.yaml", enc.replacen(from, to, 1));
        let out = run(work.gitseal_with_key().args(["decrypt", "--output", "out.yaml", "t.yaml"]), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(named) && stderr.trim().lines().count() == 1,
            "{to}: {stderr}"
        );
        assert!(!work.path("out.yaml").exists(), "{to}: output written");
    }
    // The final line break of the file removed: the multi-line value keeps its own.
    work.write("t.yaml", enc.trim_end_matches('\n'));
    let ours = run(work.gitseal_with_key().args(["decrypt", "t.yaml"]), None);
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
    let theirs = must(work.peer_with_key(&sops).args(["decrypt", "t.yaml"]), None);
    assert_eq!(yaml11(&python, &ours.stdout), yaml11(&python, &theirs), "{}", String::from_utf8_lossy(&ours.stdout));
}

/// Found by the mutation sweep: a multi-line value (a plain `ENC[...]` in a file sops wrote)
/// moved to the last line, with no line break after it, was written as a block scalar that lost
/// its final line break, so the output read as another value than sops's.
#[test]
fn a_multi_line_value_on_a_last_line_without_line_break_keeps_its_final_break() {
    let (Some(sops), Some(python)) = (find_peer("sops"), pyyaml()) else { return };
    let work = Work::new();
    work.write("p.yaml", "a: 1\nmulti: |\n  line one\n  line two\n");
    let encrypted =
        String::from_utf8(must(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "p.yaml"]), None)).unwrap();
    let (multi, rest): (Vec<&str>, Vec<&str>) = encrypted.lines().partition(|l| l.starts_with("multi: "));
    assert_eq!(multi.len(), 1, "{encrypted}");
    work.write("m.yaml", format!("{}\n{}", rest.join("\n"), multi[0]));
    let ours = must(work.gitseal_with_key().args(["decrypt", "m.yaml"]), None);
    let theirs = must(work.peer_with_key(&sops).args(["decrypt", "m.yaml"]), None);
    assert_eq!(yaml11(&python, &ours), yaml11(&python, &theirs), "{}", String::from_utf8_lossy(&ours));
    assert!(String::from_utf8(ours).unwrap().ends_with("line two\n"));
}
