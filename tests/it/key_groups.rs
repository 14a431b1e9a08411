//! Key groups and Shamir secret sharing (`reference/sops-format.md` §8): files with 3 groups and
//! threshold 2, written by gitseal and by sops, open with the keys of any 2 groups and fail with
//! the keys of 1; the metadata layout; the encrypt-time checks; the decryption order.

use std::path::PathBuf;
use std::process::Command;

use crate::peers::{demo_key, find_peer, must, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "db:\n    user: admin\n    password: hunter2\nport: 5432\n";

/// Three identities (demo, other, a fresh third) and their recipients.
struct Keys {
    files: [PathBuf; 3],
    recipients: [String; 3],
}

fn keys(work: &Work) -> Keys {
    must(work.gitseal().args(["keygen", "-o", "third.txt"]), None);
    let text = work.read_string("third.txt");
    let third = text.lines().find_map(|l| l.strip_prefix("# public key: ")).expect("public key line").to_string();
    Keys {
        files: [demo_key(), other_key(), work.path("third.txt")],
        recipients: [DEMO_RECIPIENT.to_string(), OTHER_RECIPIENT.to_string(), third],
    }
}

/// A key file holding the identities of the given groups (0-based).
fn key_file(work: &Work, k: &Keys, groups: &[usize]) -> PathBuf {
    let mut text = String::new();
    for &g in groups {
        text.push_str(&std::fs::read_to_string(&k.files[g]).unwrap());
    }
    let name = format!("keys-{}.txt", groups.iter().map(|g| g.to_string()).collect::<String>());
    work.write(&name, text)
}

fn with_keys(mut cmd: Command, file: &PathBuf) -> Command {
    cmd.env("SOPS_AGE_KEY_FILE", file);
    cmd
}

/// gitseal writes 3 groups with threshold 2.
fn gitseal_three_groups(work: &Work, k: &Keys) -> String {
    work.write("plain.yaml", PLAIN);
    let out = must(
        work.gitseal().args([
            "encrypt",
            "--key-group",
            &format!("age:{}", k.recipients[0]),
            "--key-group",
            &format!("age:{}", k.recipients[1]),
            "--key-group",
            &format!("age:{}", k.recipients[2]),
            "--shamir-secret-sharing-threshold",
            "2",
            "plain.yaml",
        ]),
        None,
    );
    work.write("enc.yaml", out);
    "enc.yaml".into()
}

/// sops writes 3 groups with threshold 2 from a .sops.yaml creation rule.
fn sops_three_groups(work: &Work, sops: &crate::peers::Peer, k: &Keys) -> String {
    let config = format!(
        "creation_rules:\n  - path_regex: .*\n    shamir_threshold: 2\n    key_groups:\n      - age: ['{}']\n      - age: ['{}']\n      - age: ['{}']\n",
        k.recipients[0], k.recipients[1], k.recipients[2]
    );
    work.write(".sops.yaml", config);
    work.write("plain.yaml", PLAIN);
    must(work.peer(sops).args(["encrypt", "--output", "sops-enc.yaml", "plain.yaml"]), None);
    "sops-enc.yaml".into()
}

/// Any 2 groups open the file, any single group does not (exit 128, a report per group).
fn check_threshold(work: &Work, k: &Keys, file: &str) {
    for pair in [[0, 1], [0, 2], [1, 2]] {
        let out = must(with_keys(work.gitseal(), &key_file(work, k, &pair)).args(["decrypt", file]), None);
        assert_eq!(String::from_utf8(out).unwrap(), PLAIN, "groups {pair:?}");
    }
    for single in 0..3 {
        let out = run(with_keys(work.gitseal(), &key_file(work, k, &[single])).args(["decrypt", file]), None);
        assert_eq!(out.status.code(), Some(128), "group {single} alone");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap();
        assert!(first.contains(file) && first.contains("1 of the 3 key groups") && first.contains("2 needed"), "{err}");
        for g in 1..=3 {
            assert!(err.contains(&format!("group {g}: ")), "group {g} missing in report: {err}");
        }
        assert!(err.contains(&format!("group {}: opened with age {}", single + 1, k.recipients[single])), "{err}");
        assert!(err.contains("SOPS_AGE_KEY_FILE"), "{err}");
        assert!(!err.contains("AGE-SECRET-KEY"), "{err}");
    }
}

#[test]
fn gitseal_three_groups_threshold_two() {
    let work = Work::new();
    let k = keys(&work);
    let file = gitseal_three_groups(&work, &k);
    check_threshold(&work, &k, &file);
}

#[test]
fn sops_reads_gitseal_key_groups() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let k = keys(&work);
    let file = gitseal_three_groups(&work, &k);
    for pair in [[0, 1], [1, 2]] {
        let out = must(with_keys(work.peer(&sops), &key_file(&work, &k, &pair)).args(["decrypt", &file]), None);
        assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    }
    let out = run(with_keys(work.peer(&sops), &key_file(&work, &k, &[2])).args(["decrypt", &file]), None);
    assert_eq!(out.status.code(), Some(128));
}

#[test]
fn gitseal_reads_sops_key_groups() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let k = keys(&work);
    let file = sops_three_groups(&work, &sops, &k);
    check_threshold(&work, &k, &file);
}

/// The `sops` block has the same fields in the same order as sops writes (threshold first, then
/// the groups, each with `hc_vault` and `age`).
#[test]
fn metadata_layout_matches_sops() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let k = keys(&work);
    let ours = work.read_string(&gitseal_three_groups(&work, &k));
    let theirs = work.read_string(&sops_three_groups(&work, &sops, &k));
    // Field names in order, indentation aside (go-yaml indents lists inside key groups by 2).
    let shape = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| *l != "sops:")
            .filter_map(|l| {
                let t = l.trim_start().trim_start_matches("- ");
                let (name, _) = t.split_once(':')?;
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_').then(|| name.to_string())
            })
            .collect()
    };
    assert_eq!(shape(&ours), shape(&theirs), "ours:\n{ours}\ntheirs:\n{theirs}");
    assert!(ours.contains("\n    shamir_threshold: 2\n    key_groups:\n"), "{ours}");
}

#[test]
fn default_threshold_is_all_groups() {
    let work = Work::new();
    let k = keys(&work);
    work.write("plain.yaml", PLAIN);
    let enc = must(
        work.gitseal().args([
            "encrypt",
            "--key-group",
            &format!("age:{}", k.recipients[0]),
            "--key-group",
            &format!("age:{}", k.recipients[1]),
            "plain.yaml",
        ]),
        None,
    );
    let text = String::from_utf8(enc).unwrap();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    work.write("enc.yaml", text);
    let out = run(with_keys(work.gitseal(), &key_file(&work, &k, &[0])).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(128));
    must(with_keys(work.gitseal(), &key_file(&work, &k, &[0, 1])).args(["decrypt", "enc.yaml"]), None);
}

/// `--age` forms the first group and `--key-group` adds more; a group may mix kinds.
#[test]
fn flat_flags_form_the_first_group() {
    let work = Work::new();
    let k = keys(&work);
    work.write("plain.yaml", PLAIN);
    let enc = must(
        work.gitseal().args([
            "encrypt",
            "--age",
            &k.recipients[0],
            "--key-group",
            &format!("age:{},{}", k.recipients[1], k.recipients[2]),
            "--shamir-secret-sharing-threshold",
            "2",
            "plain.yaml",
        ]),
        None,
    );
    let text = String::from_utf8(enc).unwrap();
    let first = text.find(&k.recipients[0]).unwrap();
    let second = text.find(&k.recipients[1]).unwrap();
    assert!(first < second && text.contains(&k.recipients[2]));
    assert_eq!(text.matches("- hc_vault: []").count(), 2, "{text}");
    work.write("enc.yaml", &text);
    must(with_keys(work.gitseal(), &key_file(&work, &k, &[0, 2])).args(["decrypt", "enc.yaml"]), None);
    let out = run(with_keys(work.gitseal(), &key_file(&work, &k, &[1, 2])).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(128), "both keys of one group are still one share");
}

#[test]
fn bad_group_settings_fail_and_write_nothing() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let g = |r: &str| format!("age:{r}");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--key-group".into(),
                g(DEMO_RECIPIENT),
                "--key-group".into(),
                g(OTHER_RECIPIENT),
                "--shamir-secret-sharing-threshold".into(),
                "3".into(),
            ],
            "threshold",
        ),
        (
            vec!["--age".into(), DEMO_RECIPIENT.into(), "--shamir-secret-sharing-threshold".into(), "2".into()],
            "only one",
        ),
        (vec!["--key-group".into(), ";".into()], "at least one master key"),
        (vec!["--key-group".into(), "gcp:projects/x".into()], "unknown key kind"),
        (vec!["--key-group".into(), "age1nocolon".into()], "KIND:KEYS"),
        (vec!["--key-group".into(), "age:age1bogus".into()], "invalid age recipient"),
    ];
    for (args, expect) in cases {
        let out = run(work.gitseal().arg("encrypt").args(&args).args(["--output", "out.yaml", "plain.yaml"]), None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!work.exists("out.yaml"));
    }
}

/// A group whose entry was replaced by another group's (same share twice) cannot be combined.
#[test]
fn a_copied_share_is_detected() {
    let work = Work::new();
    let k = keys(&work);
    let file = gitseal_three_groups(&work, &k);
    let text = work.read_string(&file);
    let marker = "-----BEGIN AGE ENCRYPTED FILE-----";
    let end = "-----END AGE ENCRYPTED FILE-----";
    let blocks: Vec<&str> = text.split(marker).collect();
    let first = &blocks[1][..blocks[1].find(end).unwrap()];
    let second_len = blocks[2].find(end).unwrap();
    let copied =
        format!("{}{marker}{}{marker}{first}{}{marker}{}", blocks[0], blocks[1], &blocks[2][second_len..], blocks[3]);
    work.write("copied.yaml", copied);
    let out = run(with_keys(work.gitseal(), &key_file(&work, &k, &[0, 1])).args(["decrypt", "copied.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("duplicate"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn decryption_order_is_checked() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    work.write("enc.yaml", enc);
    let out = run(work.gitseal_with_key().args(["decrypt", "--decryption-order", "age,age", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(112));
    let out = run(work.gitseal_with_key().env("SOPS_DECRYPTION_ORDER", "age,foo").args(["decrypt", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(112));
    must(work.gitseal_with_key().args(["decrypt", "--decryption-order", "pgp,age", "enc.yaml"]), None);
}

/// When no key opens a file: a summary first line, then one line per key tried with why it
/// failed and what to set; kinds gitseal cannot use are listed too.
#[test]
fn report_lists_every_key_with_why_and_what_to_set() {
    let work = Work::new();
    let k = keys(&work);
    work.write("plain.yaml", PLAIN);
    let enc = must(
        work.gitseal().args(["encrypt", "--age", &format!("{},{}", k.recipients[0], k.recipients[1]), "plain.yaml"]),
        None,
    );
    let text = String::from_utf8(enc).unwrap().replace(
        "\nsops:\n",
        "\nsops:\n    gcp_kms:\n        - resource_id: projects/p/locations/l/keyRings/r/cryptoKeys/k\n          created_at: \"2026-11-28T04:35:48Z\"\n          enc: Zm9v\n",
    );
    work.write("enc.yaml", text);
    let out = run(with_keys(work.gitseal(), &k.files[2]).args(["decrypt", "enc.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(lines[0].contains("enc.yaml") && lines[0].contains("none of the 3 master keys"), "{err}");
    // The default order tries age first, then the kinds it does not name, in file order.
    for (line, recipient) in lines[1..3].iter().zip(&k.recipients[..2]) {
        assert!(line.starts_with(&format!("  age {recipient}: none of the 1 age identities")), "{err}");
        assert!(
            line.contains("SOPS_AGE_KEY_FILE (") && line.contains("set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY)"),
            "{err}"
        );
    }
    assert!(lines[3].starts_with("  gcp_kms: gitseal cannot use gcp_kms keys"), "{err}");

    // No identity anywhere: the places searched and what to set.
    let out = run(work.gitseal().args(["decrypt", "enc.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no age identity found (looked in ") && err.contains("set SOPS_AGE_KEY_FILE"), "{err}");
}

/// A threshold in the file that no set of groups can meet is a metadata error, not a panic.
#[test]
fn impossible_threshold_in_the_file() {
    let work = Work::new();
    let k = keys(&work);
    let file = gitseal_three_groups(&work, &k);
    for bad in ["5", "1", "-3", "x"] {
        let text = work.read_string(&file).replace("shamir_threshold: 2", &format!("shamir_threshold: {bad}"));
        work.write("bad.yaml", text);
        let out = run(with_keys(work.gitseal(), &key_file(&work, &k, &[0, 1, 2])).args(["decrypt", "bad.yaml"]), None);
        let err = String::from_utf8_lossy(&out.stderr);
        match bad {
            // Unreadable: the default, all groups.
            "x" => assert!(out.status.success(), "{err}"),
            _ => {
                assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
                assert!(err.contains("invalid shamir_threshold"), "{err}");
            }
        }
    }
}
