//! `gitseal set` / `gitseal unset`: the change lands, only the changed value's ciphertext plus
//! `lastmodified` and `mac` differ from the input, failures write nothing and exit as sops does,
//! and real sops reads the result (and makes the same data from the same command).

use crate::peers::{find_peer, run, Work, DEMO_RECIPIENT};

const PLAIN: &str = "# top\napp:\n  user: admin\n  password: hunter2\n  port: 5432\nlist:\n  - one\n  - two\nkeep_unencrypted: visible\n";

/// `PLAIN` encrypted by gitseal into `name`.
fn encrypted(work: &Work, name: &str) -> Vec<u8> {
    work.write("plain.yaml", PLAIN);
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write(name, &out.stdout);
    out.stdout
}

fn decrypted(work: &Work, name: &str) -> String {
    let out = run(work.gitseal_with_key().args(["decrypt", name]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Lines that differ between two texts of the same line count (`None` when the counts differ).
fn changed_lines(before: &str, after: &str) -> Option<Vec<(String, String)>> {
    let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
    (b.len() == a.len())
        .then(|| b.iter().zip(&a).filter(|(x, y)| x != y).map(|(x, y)| (x.to_string(), y.to_string())).collect())
}

#[test]
fn set_changes_only_the_value_line_lastmodified_and_mac() {
    let work = Work::new();
    let before = String::from_utf8(encrypted(&work, "s.yaml")).unwrap();
    let out = run(work.gitseal_with_key().args(["set", "s.yaml", r#"["app"]["password"]"#, r#""s3cr3t: new""#]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = work.read_string("s.yaml");
    let diff = changed_lines(&before, &after).expect("same number of lines");
    // lastmodified has one-second resolution: within the same second it does not change.
    let starts: Vec<&str> =
        diff.iter().map(|(b, _)| b.trim_start().split(':').next().unwrap()).filter(|k| *k != "lastmodified").collect();
    assert_eq!(starts, ["password", "mac"], "{diff:#?}");
    assert_eq!(decrypted(&work, "s.yaml"), PLAIN.replace("hunter2", "\"s3cr3t: new\""));
}

#[test]
fn set_creates_keys_sets_list_items_and_keeps_other_ciphertext() {
    let work = Work::new();
    let before = String::from_utf8(encrypted(&work, "s.yaml")).unwrap();
    for (path, value) in [
        (r#"["list"][1]"#, r#""deux""#),
        (r#"["new"]["nested"]"#, r#"{"a": [1, true, null]}"#),
        (r#"["app"]["port"]"#, "6543"),
    ] {
        let out = run(work.gitseal_with_key().args(["set", "s.yaml", path, value]), None);
        assert!(out.status.success(), "set {path}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let plain = decrypted(&work, "s.yaml");
    assert!(plain.contains("  - deux\n") && plain.contains("port: 6543"), "{plain}");
    assert!(plain.contains("new:\n  nested:\n    a:\n      - 1\n      - true\n      - null\n"), "{plain}");
    // The user's ciphertext did not change: nobody touched it.
    let user_line = |t: &str| t.lines().find(|l| l.trim_start().starts_with("user:")).unwrap().to_string();
    assert_eq!(user_line(&before), user_line(&work.read_string("s.yaml")));
}

#[test]
fn unset_removes_keys_and_list_items() {
    let work = Work::new();
    let before = String::from_utf8(encrypted(&work, "s.yaml")).unwrap();
    for path in [r#"["app"]["password"]"#, r#"["list"][0]"#] {
        let out = run(work.gitseal_with_key().args(["unset", "s.yaml", path]), None);
        assert!(out.status.success(), "unset {path}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(decrypted(&work, "s.yaml"), PLAIN.replace("  password: hunter2\n", "").replace("  - one\n", ""));
    let user_line = |t: &str| t.lines().find(|l| l.trim_start().starts_with("user:")).unwrap().to_string();
    assert_eq!(user_line(&before), user_line(&work.read_string("s.yaml")));
}

#[test]
fn failures_exit_with_sops_codes_and_write_nothing() {
    let work = Work::new();
    let before = encrypted(&work, "s.yaml");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["set", "s.yaml", "app", "1"], 7, "invalid set index format"),
        (&["set", "s.yaml", r#"["app"]"#, "not json"], 7, "not valid JSON"),
        (&["set", "s.yaml", r#"["app"]"#, ""], 7, "not valid JSON"),
        (&["set", "s.yaml", r#"["app"]"#], 100, "positional"),
        (&["set", "missing.yaml", r#"["a"]"#, "1"], 2, "missing.yaml"),
        (&["unset", "s.yaml", r#"["app"]["nope"]"#], 1, r#"s.yaml: key not found: ["app"]["nope"]"#),
        (&["unset", "s.yaml", r#"["list"][9]"#], 1, "key not found"),
        (&["set", "--value-file", "s.yaml", r#"["a"]"#, "no-such-value.json"], 1, "no-such-value.json"),
    ];
    for (args, code, message) in cases {
        let out = run(work.gitseal_with_key().args(*args), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {stderr}");
        assert!(stderr.contains(message) && stderr.lines().count() == 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert_eq!(work.read("s.yaml"), before, "{args:?} wrote the file");
    }
    // Without the key: the data key error, nothing written.
    let out = run(work.gitseal().args(["set", "s.yaml", r#"["a"]"#, "1"]), None);
    assert_eq!(out.status.code(), Some(128), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(work.read("s.yaml"), before);
}

#[test]
fn idempotent_writes_nothing_when_nothing_changes() {
    let work = Work::new();
    let before = encrypted(&work, "s.yaml");
    let same = run(work.gitseal_with_key().args(["set", "--idempotent", "s.yaml", r#"["app"]["port"]"#, "5432"]), None);
    assert!(same.status.success(), "{}", String::from_utf8_lossy(&same.stderr));
    let missing = run(work.gitseal_with_key().args(["unset", "--idempotent", "s.yaml", r#"["nope"]"#]), None);
    assert!(missing.status.success(), "{}", String::from_utf8_lossy(&missing.stderr));
    assert_eq!(work.read("s.yaml"), before);
}

#[test]
fn value_file_and_value_stdin() {
    let work = Work::new();
    encrypted(&work, "s.yaml");
    work.write("v.json", r#"{"k": "from file"}"#);
    let out = run(work.gitseal_with_key().args(["set", "--value-file", "s.yaml", r#"["f"]"#, "v.json"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        run(work.gitseal_with_key().args(["set", "--value-stdin", "s.yaml", r#"["s"]"#]), Some(b"\"from stdin\"\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plain = decrypted(&work, "s.yaml");
    assert!(plain.contains("f:\n  k: from file\ns: from stdin\n"), "{plain}");
}

#[test]
fn json_files_change_only_the_value_line() {
    let work = Work::new();
    work.write("p.json", "{\n  \"a\": \"x\",\n  \"b\": 2\n}\n");
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "p.json"]), None);
    work.write("s.json", &out.stdout);
    let before = work.read_string("s.json");
    let out = run(work.gitseal_with_key().args(["set", "s.json", r#"["b"]"#, "3"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let diff = changed_lines(&before, &work.read_string("s.json")).expect("same line count");
    let keys: Vec<&str> = diff
        .iter()
        .map(|(b, _)| b.trim_start().split(':').next().unwrap())
        .filter(|k| *k != "\"lastmodified\"")
        .collect();
    assert_eq!(keys, ["\"b\"", "\"mac\""], "{diff:#?}");
    assert_eq!(decrypted(&work, "s.json"), "{\n  \"a\": \"x\",\n  \"b\": 3\n}\n");
}

/// The same commands on copies of a sops-encrypted file, by sops and by gitseal: the same exit
/// codes and the same data; sops also reads what gitseal wrote.
#[test]
fn same_results_as_sops_set_and_unset() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let out = run(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let original = out.stdout;
    let scenarios: &[&[&str]] = &[
        &["set", "F", r#"["app"]["password"]"#, r#""changed""#],
        &["set", "F", r#"["app"]["port"]"#, "1"],
        &["set", "F", r#"["list"][0]"#, r#""uno""#],
        &["set", "F", r#"["list"][7]"#, r#""appended""#],
        &["set", "F", r#"["new"]["deep"]"#, r#"{"x": ["y", 2]}"#],
        &["set", "F", r#"["app"]"#, r#""now a scalar""#],
        &["set", "F", "bad", "1"],
        &["set", "F", r#"["a"]"#, "{bad"],
        &["unset", "F", r#"["app"]["user"]"#],
        &["unset", "F", r#"["list"][1]"#],
        &["unset", "F", r#"["missing"]"#],
        &["unset", "--idempotent", "F", r#"["missing"]"#],
    ];
    for args in scenarios {
        work.write("theirs.yaml", &original);
        work.write("ours.yaml", &original);
        let with = |name: &'static str| args.iter().map(|a| if *a == "F" { name } else { *a }).collect::<Vec<&str>>();
        let theirs = run(work.peer_with_key(&sops).args(with("theirs.yaml")), None);
        let ours = run(work.gitseal_with_key().args(with("ours.yaml")), None);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}: gitseal said {}, sops said {}",
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
        let data = |name: &str| {
            let out = run(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", name]), None);
            assert!(
                out.status.success(),
                "{args:?}: sops cannot decrypt {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        assert_eq!(data("ours.yaml"), data("theirs.yaml"), "{args:?}");
    }
}

/// RSA keys bind the data key to the Secret's namespace and name: moving it by `set` would
/// write a file that no RSA key opens, so that is refused and the file stays as it was.
#[test]
fn set_refuses_to_move_an_rsa_bound_secret() {
    let work = Work::new();
    let cert = crate::peers::manifest_dir().join("keys/testdata/sealing/test-cert.pem").display().to_string();
    work.write(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: hunter2\n",
    );
    let args =
        ["encrypt", "--rsa", &cert, "--age", DEMO_RECIPIENT, "--encrypted-regex", "^(data|stringData)$", "secret.yaml"];
    let out = run(work.gitseal().args(args), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write("s.yaml", &out.stdout);
    let moved = run(work.gitseal_with_key().args(["set", "s.yaml", r#"["metadata"]["name"]"#, r#""other""#]), None);
    let stderr = String::from_utf8_lossy(&moved.stderr);
    assert_eq!(moved.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s.yaml") && stderr.contains("metadata.name"), "{stderr}");
    assert_eq!(work.read("s.yaml"), out.stdout);
    let value = run(work.gitseal_with_key().args(["set", "s.yaml", r#"["stringData"]["password"]"#, r#""new""#]), None);
    assert!(value.status.success(), "{}", String::from_utf8_lossy(&value.stderr));
    assert!(decrypted(&work, "s.yaml").contains("password: new"));
}

/// On files that sops wrote (YAML with a comment inside a list, JSON, dotenv), `set` of one
/// value changes that value's line, `lastmodified` and `mac`, and nothing else: the metadata
/// keeps sops's own layout byte for byte.
#[test]
fn set_on_sops_files_changes_only_the_value_lastmodified_and_mac() {
    let Some(sops) = find_peer("sops") else { return };
    let cases = [
        (
            "p.yaml",
            "# top\napp:\n  user: admin # who\n  password: hunter2\nlist:\n  - a\n  # in the list\n  - b\n",
            r#"["app"]["password"]"#,
            "password",
        ),
        ("p.json", "{\"a\": \"x\", \"b\": {\"c\": 1}}", r#"["b"]["c"]"#, "\"c\""),
        ("p.env", "A=1\nB=two\n", r#"["B"]"#, "B=ENC"),
    ];
    for (plain, text, path, changed_key) in cases {
        let work = Work::new();
        work.write(plain, text);
        let out = run(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, plain]), None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ext = plain.rsplit('.').next().unwrap();
        let (ours, theirs) = (format!("ours.{ext}"), format!("theirs.{ext}"));
        work.write(&ours, &out.stdout);
        work.write(&theirs, &out.stdout);
        let before = String::from_utf8(out.stdout).unwrap();
        let set = run(work.gitseal_with_key().args(["set", &ours, path, r#""new""#]), None);
        assert!(set.status.success(), "{plain}: {}", String::from_utf8_lossy(&set.stderr));
        let sops_set = run(work.peer_with_key(&sops).args(["set", &theirs, path, r#""new""#]), None);
        assert!(sops_set.status.success(), "{plain}: {}", String::from_utf8_lossy(&sops_set.stderr));
        let diff = changed_lines(&before, &work.read_string(&ours)).expect("same line count");
        let other: Vec<_> = diff
            .iter()
            .filter(|(b, _)| {
                let b = b.trim_start().trim_start_matches('"').trim_start_matches("sops_");
                !(b.starts_with(changed_key.trim_matches('"')) || b.starts_with("lastmodified") || b.starts_with("mac"))
            })
            .collect();
        assert!(other.is_empty() && !diff.is_empty(), "{plain}: {diff:#?}");
        let data = |name: &str| {
            let out = run(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", name]), None);
            assert!(
                out.status.success(),
                "{plain}: sops cannot decrypt {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        assert_eq!(data(&ours), data(&theirs), "{plain}");
    }
}

/// `set --output-type` rewrites the file in that format, as sops does (its own test suite
/// checks this); with `--idempotent` and nothing to change, nothing is written at all.
#[test]
fn set_output_type_rewrites_the_file_in_that_format() {
    let work = Work::new();
    work.write("plain.json", "{\"a\": 2, \"b\": \"ba\"}");
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.json"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write("s.json", &out.stdout);
    let args = ["set", "--output-type", "yaml", "--idempotent", "s.json", r#"["b"]"#, r#""ba""#];
    let same = run(work.gitseal_with_key().args(args), None);
    assert!(same.status.success(), "{}", String::from_utf8_lossy(&same.stderr));
    assert_eq!(work.read("s.json"), out.stdout, "an idempotent no-op wrote the file");

    let args = ["set", "--output-type", "yaml", "s.json", r#"["b"]"#, r#""new""#];
    let changed = run(work.gitseal_with_key().args(args), None);
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
    let after = work.read_string("s.json");
    assert!(after.starts_with("a: ENC[AES256_GCM,"), "{after}");
    let plain = run(work.gitseal_with_key().args(["decrypt", "--input-type", "yaml", "s.json"]), None);
    assert!(plain.status.success(), "{}", String::from_utf8_lossy(&plain.stderr));
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "a: 2\nb: new\n");
    if let Some(sops) = find_peer("sops") {
        // sops takes the output format from the file name unless told.
        let args = ["decrypt", "--input-type", "yaml", "--output-type", "yaml", "s.json"];
        let out = run(work.peer_with_key(&sops).args(args), None);
        assert!(out.status.success(), "sops: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a: 2\nb: new\n");
    }
    let bad = run(work.gitseal_with_key().args(["unset", "--output-type", "xml", "s.json", r#"["b"]"#]), None);
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stderr));
    assert_eq!(work.read_string("s.json"), after);
}

/// A path whose step does not fit the collection in the way (an index into a map, a key into a
/// list) is refused, naming both: replacing the collection would drop everything it holds. A
/// scalar in the way still becomes the collection the path needs, as sops does.
#[test]
fn set_refuses_a_path_of_the_other_collection_kind() {
    let work = Work::new();
    let before = encrypted(&work, "s.yaml");
    let cases = [
        (r#"["app"][0]"#, r#"cannot set ["app"][0]: ["app"] is a map, which an index cannot address"#),
        (r#"["list"]["x"]"#, r#"cannot set ["list"]["x"]: ["list"] is a list, which a key cannot address"#),
        (r#"[0]"#, "cannot set [0]: the top level is a map, which an index cannot address"),
    ];
    for (path, message) in cases {
        let out = run(work.gitseal_with_key().args(["set", "s.yaml", path, r#""v""#]), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{path}: {stderr}");
        assert!(stderr.contains(message) && stderr.lines().count() == 1, "{path}: {stderr}");
        assert_eq!(work.read("s.yaml"), before, "{path} wrote the file");
    }
    let out = run(work.gitseal_with_key().args(["set", "s.yaml", r#"["app"]["port"]["x"]"#, "1"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(decrypted(&work, "s.yaml").contains("  port:\n    x: 1\n"), "{}", decrypted(&work, "s.yaml"));
}
