//! RSA sealing keys as a SOPS master-key kind (`--rsa CERT`, `rsa:` in `--key-group`): round
//! trips, the scope binding of a Secret manifest (a moved Secret does not open), real sops
//! ignoring the `rsa` entries, key groups mixing rsa and age, and the failure paths. Keys are the
//! TEST ONLY RSA-2048 files in `keys/testdata/sealing/`.

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine;

use crate::peers::{demo_key, find_peer, manifest_dir, must, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

fn testkey(name: &str) -> String {
    manifest_dir().join("keys/testdata/sealing").join(name).display().to_string()
}

/// SHA-256 of test-cert.pem's SubjectPublicKeyInfo, as openssl prints it:
/// `openssl x509 -pubkey -noout -in test-cert.pem | openssl pkey -pubin -outform der | sha256sum`.
const TEST_FP: &str = "21c7f6af9858da975fd1cdb6be050e425263aaa28241896c206223e72f840d7c";

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
type: Opaque
stringData:
  # the database password
  password: s3cr3t
  user: admin
";

const CONFIG: &str = "db:\n  password: hunter2\nport: 5432\n";

/// Data and stringData encrypted, metadata plaintext: what a Secret manifest needs for strict scope.
const SECRET_RULE: [&str; 2] = ["--encrypted-regex", "^(data|stringData)$"];

fn encrypt(work: &Work, args: &[&str], file: &str) -> String {
    let out = must(work.gitseal().arg("encrypt").args(args).arg(file), None);
    String::from_utf8(out).unwrap()
}

/// The key of a YAML line indented by exactly `indent` spaces (a `- ` item marker skipped).
fn field(l: &str, indent: usize) -> Option<&str> {
    let rest = l.get(indent..)?;
    (!rest.starts_with(' ')).then(|| rest.trim_start_matches("- ").split(':').next().unwrap_or_default())
}

fn decrypt_with(work: &Work, keys: &[&str], file: &str) -> Output {
    let mut cmd = work.gitseal();
    cmd.arg("decrypt");
    for k in keys {
        cmd.args(["--rsa-private-key", k]);
    }
    run(cmd.arg(file), None)
}

/// A failure: the exit code, nothing on stdout, and stderr (whose first line names the file).
fn fails(out: &Output, code: i32, file: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(err.lines().next().unwrap_or_default().contains(file), "{err}");
    assert!(!err.contains("PRIVATE KEY") && !err.contains("s3cr3t"), "{err}");
    err
}

#[test]
fn secret_round_trips_strict_and_metadata_is_in_order() {
    let work = Work::new();
    work.write("secret.yaml", SECRET);
    let enc = encrypt(&work, &["--rsa", &testkey("test-cert.pem"), SECRET_RULE[0], SECRET_RULE[1]], "secret.yaml");
    work.write("enc.yaml", &enc);
    assert!(enc.contains("name: db\n  namespace: prod\n") && !enc.contains("s3cr3t"), "{enc}");
    // The rsa list comes where age would be, before lastmodified; its fields in a fixed order.
    let sops = enc.split("\nsops:\n").nth(1).unwrap();
    let top: Vec<&str> = sops.lines().filter_map(|l| field(l, 2)).collect();
    assert_eq!(top, ["rsa", "lastmodified", "mac", "encrypted_regex", "version"], "{enc}");
    let entry: Vec<&str> = sops.lines().skip(1).take(5).filter_map(|l| field(l, 4).or_else(|| field(l, 6))).collect();
    assert_eq!(entry, ["fp", "scope", "label", "created_at", "enc"], "{enc}");
    assert!(enc.contains(&format!("fp: {TEST_FP}")), "{enc}");
    assert!(enc.contains("scope: strict") && enc.contains("label: prod/db"), "{enc}");

    let out = decrypt_with(&work, &[&testkey("test-key.pem")], "enc.yaml");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), SECRET);

    // GITSEAL_RSA_PRIVATE_KEYS: colon-separated files; a backup List of the key Secrets works too.
    let pem = std::fs::read(testkey("test-key.pem")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
    let backup = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: sealed-secrets-key1\n  type: kubernetes.io/tls\n  data:\n    tls.key: {b64}\n"
    );
    work.write("backup.yaml", backup);
    let keys = format!("{}:{}", testkey("other-key.pem"), work.path("backup.yaml").display());
    let out = must(work.gitseal().env("GITSEAL_RSA_PRIVATE_KEYS", keys).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), SECRET);
}

#[test]
fn moved_or_renamed_secret_does_not_open() {
    let work = Work::new();
    work.write("secret.yaml", SECRET);
    let key = testkey("test-key.pem");
    let enc = encrypt(&work, &["--rsa", &testkey("test-cert.pem"), SECRET_RULE[0], SECRET_RULE[1]], "secret.yaml");
    work.write("moved.yaml", enc.replace("namespace: prod", "namespace: staging"));
    let mut cmd = work.gitseal();
    let out = run(cmd.args(["decrypt", "--rsa-private-key", &key, "--output", "out.yaml", "moved.yaml"]), None);
    let err = fails(&out, 128, "moved.yaml");
    assert!(err.contains("\"prod/db\"") && err.contains("\"staging/db\"") && err.contains("moved"), "{err}");
    assert!(!work.exists("out.yaml"), "nothing is written on failure");

    work.write("renamed.yaml", enc.replace("name: db", "name: web"));
    let err = fails(&decrypt_with(&work, &[&key], "renamed.yaml"), 128, "renamed.yaml");
    assert!(err.contains("\"prod/web\""), "{err}");

    // Without the namespace the label cannot be made at all.
    work.write("nons.yaml", enc.replace("  namespace: prod\n", ""));
    let err = fails(&decrypt_with(&work, &[&key], "nons.yaml"), 128, "nons.yaml");
    assert!(err.contains("metadata.namespace"), "{err}");

    // The scope in the file is not trusted: making it cluster-wide does not open it either.
    work.write("widened.yaml", enc.replace("scope: strict", "scope: cluster-wide"));
    fails(&decrypt_with(&work, &[&key], "widened.yaml"), 128, "widened.yaml");
    work.write("badscope.yaml", enc.replace("scope: strict", "scope: global"));
    let err = fails(&decrypt_with(&work, &[&key], "badscope.yaml"), 128, "badscope.yaml");
    assert!(err.contains("unknown scope"), "{err}");
}

#[test]
fn namespace_wide_allows_renames_and_other_files_are_cluster_wide() {
    let work = Work::new();
    let key = testkey("test-key.pem");
    let cert = testkey("test-cert.pem");
    work.write("secret.yaml", SECRET);
    // The MAC must leave metadata.name out for a rename to be possible at all.
    let enc = encrypt(
        &work,
        &["--rsa", &cert, "--rsa-scope", "namespace-wide", "--mac-only-encrypted", SECRET_RULE[0], SECRET_RULE[1]],
        "secret.yaml",
    );
    assert!(enc.contains("scope: namespace-wide") && enc.contains("label: prod\n"), "{enc}");
    work.write("renamed.yaml", enc.replace("name: db", "name: web"));
    let out = decrypt_with(&work, &[&key], "renamed.yaml");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), SECRET.replace("name: db", "name: web"));
    work.write("moved.yaml", enc.replace("namespace: prod", "namespace: dev"));
    fails(&decrypt_with(&work, &[&key], "moved.yaml"), 128, "moved.yaml");

    // A plain config file: cluster-wide, an empty label; with the default selection rule.
    work.write("config.yaml", CONFIG);
    let enc = must(work.gitseal().env("GITSEAL_RSA_CERTS", &cert).args(["encrypt", "config.yaml"]), None);
    let enc = String::from_utf8(enc).unwrap();
    assert!(enc.contains("scope: cluster-wide") && enc.contains("label: \"\""), "{enc}");
    work.write("config.enc.yaml", &enc);
    let out = decrypt_with(&work, &[&key], "config.enc.yaml");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), CONFIG);

    // A Secret with an explicit cluster-wide scope opens anywhere.
    let enc = encrypt(&work, &["--rsa", &cert, "--rsa-scope", "cluster-wide"], "secret.yaml");
    assert!(enc.contains("scope: cluster-wide"), "{enc}");
}

#[test]
fn real_sops_ignores_rsa_and_opens_with_age() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    work.write("secret.yaml", SECRET);
    let cert = testkey("test-cert.pem");
    let enc = encrypt(&work, &["--rsa", &cert, "--age", DEMO_RECIPIENT, SECRET_RULE[0], SECRET_RULE[1]], "secret.yaml");
    work.write("enc.yaml", &enc);
    let out = String::from_utf8(must(work.peer_with_key(&sops).args(["decrypt", "enc.yaml"]), None)).unwrap();
    // sops re-indents; the values are what matters.
    assert!(
        out.contains("namespace: prod") && out.contains("password: s3cr3t") && out.contains("user: admin"),
        "{out}"
    );
    // JSON too: sops skips the unknown entry there as well.
    work.write("config.json", "{\"password\": \"hunter2\", \"n\": 1}\n");
    let enc = encrypt(&work, &["--rsa", &cert, "--age", DEMO_RECIPIENT], "config.json");
    assert!(enc.contains("\"rsa\""), "{enc}");
    work.write("enc.json", enc);
    let out = must(work.peer_with_key(&sops).args(["decrypt", "enc.json"]), None);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["password"], "hunter2");
    // gitseal opens the same file with only the RSA key.
    let out = decrypt_with(&work, &[&testkey("test-key.pem")], "enc.json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn wrong_or_missing_private_key_is_reported_per_key() {
    let work = Work::new();
    work.write("secret.yaml", SECRET);
    let enc = encrypt(
        &work,
        &["--rsa", &testkey("test-cert.pem"), "--age", OTHER_RECIPIENT, SECRET_RULE[0], SECRET_RULE[1]],
        "secret.yaml",
    );
    work.write("enc.yaml", enc);
    let out = run(
        work.gitseal_with_key().args(["decrypt", "--rsa-private-key", &testkey("other-key.pem"), "enc.yaml"]),
        None,
    );
    let err = fails(&out, 128, "enc.yaml");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].contains("none of the 2 master keys"), "{err}");
    assert!(lines.iter().any(|l| l.contains("age ") && l.contains("SOPS_AGE_KEY_FILE")), "{err}");
    let rsa = lines.iter().find(|l| l.trim_start().starts_with("rsa ")).expect("an rsa line");
    assert!(rsa.contains(&TEST_FP[..16]) && rsa.contains("strict prod/db"), "{err}");
    assert!(rsa.contains("fingerprint") && rsa.contains("--rsa-private-key"), "{err}");

    let err = fails(&decrypt_with(&work, &[], "enc.yaml"), 128, "enc.yaml");
    assert!(err.contains("GITSEAL_RSA_PRIVATE_KEYS"), "{err}");
    let err = fails(&decrypt_with(&work, &["missing.pem"], "enc.yaml"), 128, "enc.yaml");
    assert!(err.contains("missing.pem"), "{err}");
    work.write("junk.pem", "not a key");
    let err = fails(&decrypt_with(&work, &["junk.pem"], "enc.yaml"), 128, "enc.yaml");
    assert!(err.contains("junk.pem"), "{err}");

    // Tampered ciphertext: the right key, but the block does not open.
    let text = work.read_string("enc.yaml");
    let at = text.find("label: prod/db").unwrap();
    let pos = at + text[at..].find("enc: ").unwrap() + 5 + 20;
    let mut bytes = text.into_bytes();
    bytes[pos] = if bytes[pos] == b'Q' { b'R' } else { b'Q' };
    work.write("tampered.yaml", bytes);
    let err = fails(&decrypt_with(&work, &[&testkey("test-key.pem")], "tampered.yaml"), 128, "tampered.yaml");
    assert!(err.contains("RSA-OAEP decryption failed") || err.contains("base64"), "{err}");
}

#[test]
fn key_groups_mix_rsa_and_age() {
    let work = Work::new();
    work.write("secret.yaml", SECRET);
    let (cert, other_cert) = (testkey("test-cert.pem"), testkey("other-cert.pem"));
    let enc = encrypt(
        &work,
        &[
            "--key-group",
            &format!("age:{DEMO_RECIPIENT};rsa:{cert}"),
            "--key-group",
            &format!("rsa:{other_cert}"),
            "--key-group",
            &format!("age:{OTHER_RECIPIENT}"),
            "--shamir-secret-sharing-threshold",
            "2",
            SECRET_RULE[0],
            SECRET_RULE[1],
        ],
        "secret.yaml",
    );
    work.write("enc.yaml", &enc);
    assert!(enc.contains("shamir_threshold: 2") && enc.matches("scope: strict").count() == 2, "{enc}");
    let (key, other) = (testkey("test-key.pem"), testkey("other-key.pem"));
    // Two RSA keys open groups 1 and 2.
    let out = decrypt_with(&work, &[&key, &other], "enc.yaml");
    assert_eq!(String::from_utf8_lossy(&out.stdout), SECRET, "{}", String::from_utf8_lossy(&out.stderr));
    // age opens group 1, RSA group 2.
    let mut cmd = with_age(work.gitseal(), demo_key());
    let out = run(cmd.args(["decrypt", "--rsa-private-key", &other, "enc.yaml"]), None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), SECRET, "{}", String::from_utf8_lossy(&out.stderr));
    // RSA opens group 1, age group 3.
    let mut cmd = with_age(work.gitseal(), other_key());
    let out = run(cmd.args(["decrypt", "--rsa-private-key", &key, "enc.yaml"]), None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), SECRET, "{}", String::from_utf8_lossy(&out.stderr));
    // One group is not enough; the report names every group.
    let err = fails(&decrypt_with(&work, &[&other], "enc.yaml"), 128, "enc.yaml");
    assert!(err.lines().next().unwrap().contains("1 of the 3 key groups"), "{err}");
    assert!(err.contains("group 2: opened with rsa"), "{err}");
    assert!(err.contains("group 1: rsa") && err.contains("group 3: age"), "{err}");

    // Real sops sees group 2 as empty; with the age keys of groups 1 and 3 it opens the file.
    if let Some(sops) = find_peer("sops") {
        let both = format!(
            "{}{}",
            std::fs::read_to_string(demo_key()).unwrap(),
            std::fs::read_to_string(other_key()).unwrap()
        );
        work.write("both.txt", both);
        let out = must(with_age(work.peer(&sops), work.path("both.txt")).args(["decrypt", "enc.yaml"]), None);
        assert!(String::from_utf8(out).unwrap().contains("password: s3cr3t"));
    }
}

fn with_age(mut cmd: Command, file: PathBuf) -> Command {
    cmd.env("SOPS_AGE_KEY_FILE", file);
    cmd
}

#[test]
fn encrypt_failures_write_nothing() {
    let work = Work::new();
    work.write("secret.yaml", SECRET);
    work.write("config.yaml", CONFIG);
    let cert = testkey("test-cert.pem");
    let encrypt_fails = |args: &[&str], file: &str, code: i32| {
        let out = run(work.gitseal().arg("encrypt").args(args).args(["--output", "out.yaml", file]), None);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!work.exists("out.yaml"));
        err
    };
    // The default rule would encrypt metadata.name/namespace, which the strict label needs.
    let err = encrypt_fails(&["--rsa", &cert], "secret.yaml", 1);
    assert!(err.contains("secret.yaml") && err.contains("--encrypted-regex") && err.contains("cluster-wide"), "{err}");
    // Strict scope on a file that is no Kubernetes object.
    let err = encrypt_fails(&["--rsa", &cert, "--rsa-scope", "strict"], "config.yaml", 1);
    assert!(err.contains("config.yaml") && err.contains("metadata.namespace"), "{err}");
    let err = encrypt_fails(&["--rsa", &cert, "--rsa-scope", "global"], "config.yaml", 1);
    assert!(err.contains("--rsa-scope"), "{err}");
    let err = encrypt_fails(&["--rsa", "missing-cert.pem"], "config.yaml", 100);
    assert!(err.contains("missing-cert.pem"), "{err}");
    let err = encrypt_fails(&["--rsa", &testkey("expired-cert.pem")], "config.yaml", 1);
    assert!(err.contains("expired"), "{err}");
    let err = encrypt_fails(&["--rsa", &testkey("test-key.pem")], "config.yaml", 1);
    assert!(err.contains("CERTIFICATE") && !err.contains("MII"), "{err}");
    let err = encrypt_fails(&["--key-group", "rsa:"], "config.yaml", 1);
    assert!(err.contains("at least one master key"), "{err}");
}
