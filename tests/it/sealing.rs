//! Sealed Secrets: `seal`, `unseal`, `reseal`, `validate` and `keygen --sealing`, with interop
//! both ways against kubesealpy (PyPI, in `.peers/venv`) for all three scopes, and the failure
//! paths. Keys are the TEST ONLY RSA-2048 files in `keys/testdata/sealing/`.

use std::path::PathBuf;
use std::process::Command;

use crate::peers::{manifest_dir, mode, must, run, run_ok, Work};

fn testkey(name: &str) -> PathBuf {
    manifest_dir().join("keys/testdata/sealing").join(name)
}

fn key() -> String {
    testkey("test-key.pem").display().to_string()
}

fn cert() -> String {
    testkey("test-cert.pem").display().to_string()
}

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels:
    app: web
  annotations:
    team: blue
type: kubernetes.io/basic-auth
immutable: true
data:
  username: YWRtaW4=
stringData:
  password: s3cr3t
";

const SCOPES: [&str; 3] = ["strict", "namespace-wide", "cluster-wide"];

/// The venv python with kubesealpy; missing: skip, or fail under CI.
fn kubesealpy() -> Option<PathBuf> {
    let py = manifest_dir().join(".peers/venv/bin/python");
    let ok = py.exists()
        && Command::new(&py).args(["-c", "import kubesealpy"]).output().map(|o| o.status.success()).unwrap_or(false);
    match ok {
        true => Some(py),
        false if std::env::var("CI").as_deref() == Ok("true") => panic!("peer kubesealpy missing under CI"),
        false => {
            eprintln!("skipping: kubesealpy not found (run scripts/install-peers)");
            None
        }
    }
}

/// A small driver for kubesealpy: `seal CERT NS NAME SCOPE` (JSON data on stdin) prints a
/// SealedSecret; `unseal KEY` (SealedSecret YAML on stdin) prints the data as sorted JSON.
const KUBESEALPY: &str = r#"
import sys, json, base64
from kubesealpy import Sealer, Unsealer, SealedSecret, SealingScope
if sys.argv[1] == "seal":
    cert, ns, name, scope = sys.argv[2:6]
    data = json.loads(sys.stdin.read())
    ss = Sealer.from_certificate_file(cert).seal(name=name, namespace=ns,
        data={k: v.encode() for k, v in data.items()}, scope=SealingScope(scope), labels={"team": "a"})
    print(ss.to_yaml())
else:
    secret = Unsealer.from_private_key_file(sys.argv[2]).unseal(SealedSecret.from_yaml(sys.stdin.read()))
    print(json.dumps({k: base64.b64decode(v).decode() for k, v in secret.data.items()}, sort_keys=True))
"#;

fn py(python: &PathBuf, args: &[&str], stdin: &[u8]) -> Result<Vec<u8>, String> {
    run_ok(Command::new(python).arg("-c").arg(KUBESEALPY).args(args), Some(stdin))
}

fn seal(work: &Work, args: &[&str], input: &str) -> String {
    let out = must(work.gitseal().args(["seal", "--cert", &cert(), "-o", "yaml"]).args(args), Some(input.as_bytes()));
    String::from_utf8(out).unwrap()
}

fn unseal(work: &Work, sealed: &str) -> Result<String, String> {
    run_ok(work.gitseal().args(["unseal", "-o", "yaml", "--recovery-private-key", &key()]), Some(sealed.as_bytes()))
        .map(|o| String::from_utf8(o).unwrap())
}

fn fails(cmd: &mut Command, stdin: Option<&[u8]>, expect: &str) -> String {
    let out = run(cmd, stdin);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected failure: {err}");
    assert!(err.contains(expect), "stderr should contain {expect:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one-line error expected: {err}");
    err
}

#[test]
fn kubesealpy_unseals_what_gitseal_sealed_in_every_scope() {
    let Some(python) = kubesealpy() else { return };
    let work = Work::new();
    for scope in SCOPES {
        let sealed = seal(&work, &["--scope", scope], SECRET);
        let plain = py(&python, &["unseal", &key()], sealed.as_bytes()).unwrap_or_else(|e| panic!("{scope}: {e}"));
        assert_eq!(String::from_utf8(plain).unwrap().trim(), r#"{"password": "s3cr3t", "username": "admin"}"#);
    }
}

#[test]
fn gitseal_unseals_what_kubesealpy_sealed_in_every_scope() {
    let Some(python) = kubesealpy() else { return };
    let work = Work::new();
    for scope in SCOPES {
        let sealed = py(&python, &["seal", &cert(), "prod", "db", scope], br#"{"a": "1", "b": "two"}"#).unwrap();
        let secret = unseal(&work, std::str::from_utf8(&sealed).unwrap()).unwrap_or_else(|e| panic!("{scope}: {e}"));
        assert!(secret.contains("  a: MQ==\n  b: dHdv\n"), "{scope}: {secret}");
        assert!(secret.contains("labels:\n    team: a\n"), "{secret}");
    }
}

#[test]
fn raw_values_interoperate() {
    let Some(python) = kubesealpy() else { return };
    let work = Work::new();
    let raw = must(
        work.gitseal().args(["seal", "--raw", "--cert", &cert(), "--scope", "strict", "-n", "prod", "--name", "db"]),
        Some(b"rawvalue"),
    );
    let doc = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod\nspec:\n  encryptedData:\n    k: {}\n",
        String::from_utf8(raw).unwrap()
    );
    let plain = py(&python, &["unseal", &key()], doc.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap().trim(), r#"{"k": "rawvalue"}"#);
}

#[test]
fn template_metadata_type_and_immutable_survive() {
    let work = Work::new();
    let sealed = seal(&work, &[], SECRET);
    assert!(!sealed.contains("creationTimestamp"), "{sealed}");
    let secret = unseal(&work, &sealed).unwrap();
    let expected = "---
apiVersion: v1
data:
  password: czNjcjN0
  username: YWRtaW4=
immutable: true
kind: Secret
metadata:
  annotations:
    team: blue
  labels:
    app: web
  name: db
  namespace: prod
type: kubernetes.io/basic-auth
";
    assert_eq!(secret, expected);
}

#[test]
fn template_data_is_rendered() {
    let work = Work::new();
    let sealed = seal(&work, &[], SECRET);
    let with_template = sealed.replace(
        "    type: kubernetes.io/basic-auth\n",
        "    type: kubernetes.io/basic-auth\n    data:\n      config.json: '{\"user\": {{ toJson .username }}, \"pw\": {{ .password | quote }}}'\n",
    );
    assert_ne!(with_template, sealed);
    let secret = unseal(&work, &with_template).unwrap();
    // {"user": "admin", "pw": "s3cr3t"}
    assert!(secret.contains("config.json: eyJ1c2VyIjogImFkbWluIiwgInB3IjogInMzY3IzdCJ9\n"), "{secret}");
    let bad = sealed.replace(
        "    type: kubernetes.io/basic-auth\n",
        "    type: kubernetes.io/basic-auth\n    data:\n      x: '{{ if .username }}y{{ end }}'\n",
    );
    fails(
        work.gitseal().args(["unseal", "--recovery-private-key", &key()]),
        Some(bad.as_bytes()),
        "spec.template.data.x",
    );
}

#[test]
fn wrong_name_namespace_or_scope_fails() {
    let work = Work::new();
    let strict = seal(&work, &[], SECRET);
    let namespaced = seal(&work, &["--scope", "namespace-wide"], SECRET);
    let cases = [
        (strict.replace("  name: db\n  namespace: prod\nspec", "  name: other\n  namespace: prod\nspec"), "renamed"),
        (strict.replace("  name: db\n  namespace: prod\nspec", "  name: db\n  namespace: dev\nspec"), "moved"),
        (
            strict.replace(
                "metadata:\n  name: db\n",
                "metadata:\n  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n  name: db\n",
            ),
            "scope widened",
        ),
        (namespaced.replace("  namespace: prod\nspec", "  namespace: dev\nspec"), "namespace-wide moved"),
    ];
    for (text, what) in cases {
        assert_ne!(text, strict, "{what}: the edit did not apply");
        let err = unseal(&work, &text).unwrap_err();
        assert!(err.contains("no key could decrypt secret (password, username)"), "{what}: {err}");
    }
    // Namespace-wide survives a rename.
    let renamed = namespaced.replace("  name: db\n  namespace: prod\nspec", "  name: other\n  namespace: prod\nspec");
    assert!(unseal(&work, &renamed).unwrap().contains("name: other"));
}

#[test]
fn tampered_value_fails() {
    let work = Work::new();
    let sealed = seal(&work, &[], SECRET);
    let at = sealed.find("password: ").unwrap() + "password: ".len() + 300;
    let mut bytes = sealed.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let err = unseal(&work, std::str::from_utf8(&bytes).unwrap()).unwrap_err();
    assert!(err.contains("no key could decrypt secret (password)"), "{err}");
}

#[test]
fn seal_failure_paths() {
    let work = Work::new();
    let expired = testkey("expired-cert.pem").display().to_string();
    let args = |cert: &str| vec!["seal".to_string(), "--cert".into(), cert.into(), "-w".into(), "out.yaml".into()];
    fails(work.gitseal().args(args(&expired)), Some(SECRET.as_bytes()), "expired at 2021-01-01");
    fails(work.gitseal().args(args(&cert())), Some(b"kind: Secret\nmetadata: [1\n"), "<stdin>:");
    fails(work.gitseal().args(args(&cert())), Some(b"kind: ConfigMap\nmetadata: {name: a}\n"), "expected Secret");
    let no_data = "kind: Secret\nmetadata: {name: a}\n";
    fails(work.gitseal().args(args(&cert())), Some(no_data.as_bytes()), "--allow-empty-data");
    let bad_b64 = "kind: Secret\nmetadata: {name: a}\ndata: {k: '!!'}\n";
    fails(work.gitseal().args(args(&cert())), Some(bad_b64.as_bytes()), "at data.k: is not valid base64");
    fails(work.gitseal().args(["seal", "--cert", &cert(), "-n", "dev"]), Some(SECRET.as_bytes()), "--namespace says");
    fails(work.gitseal().args(["seal", "--raw", "--cert", &cert(), "-n", "prod"]), Some(b"v"), "needs --name");
    fails(work.gitseal().args(["seal"]), Some(SECRET.as_bytes()), "--cert");
    fails(
        work.gitseal().args(["seal", "--cert", "https://example.invalid/cert.pem"]),
        Some(b""),
        "https is not supported",
    );
    fails(work.gitseal().args(["seal", "--cert", &key()]), Some(SECRET.as_bytes()), "no CERTIFICATE");
    assert!(!work.exists("out.yaml"), "nothing is written on failure");
}

#[test]
fn unseal_failure_paths() {
    let work = Work::new();
    let sealed = seal(&work, &[], SECRET);
    let other = testkey("other-key.pem").display().to_string();
    let wrong = ["unseal", "--recovery-private-key", &other, "-w", "out.yaml"];
    fails(work.gitseal().args(wrong), Some(sealed.as_bytes()), "no key could decrypt secret (password, username)");
    fails(work.gitseal().args(["unseal"]), Some(sealed.as_bytes()), "--recovery-private-key");
    let malformed =
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec: {encryptedData: {a: 5}}\n";
    fails(
        work.gitseal().args(["unseal", "--recovery-private-key", &key()]),
        Some(malformed.as_bytes()),
        "spec.encryptedData.a",
    );
    fails(
        work.gitseal().args(["unseal", "--recovery-private-key", &cert()]),
        Some(sealed.as_bytes()),
        "no RSA PRIVATE KEY",
    );
    assert!(!work.exists("out.yaml"));
}

#[test]
fn unsealed_output_file_is_private_and_keys_load_from_secret_backups() {
    let work = Work::new();
    let sealed = seal(&work, &[], SECRET);
    let b64 = |p: PathBuf| {
        use std::io::Write;
        let mut out = Vec::new();
        let bytes = std::fs::read(p).unwrap();
        let mut enc = base64_writer(&mut out);
        enc.write_all(&bytes).unwrap();
        drop(enc);
        String::from_utf8(out).unwrap()
    };
    let backup = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: sealed-secrets-keyabc}}\n  type: kubernetes.io/tls\n  data:\n    tls.crt: {}\n    tls.key: {}\n",
        b64(testkey("test-cert.pem")),
        b64(testkey("test-key.pem"))
    );
    work.write("backup.yaml", backup);
    must(
        work.gitseal().args(["unseal", "--recovery-private-key", "backup.yaml", "-w", "secret.yaml"]),
        Some(sealed.as_bytes()),
    );
    assert!(work.read_string("secret.yaml").contains("password: czNjcjN0"));
    assert_eq!(mode(&work.path("secret.yaml")), 0o600);
}

/// Standard base64 without pulling a crate into the tests: `base64` from coreutils.
fn base64_writer(out: &mut Vec<u8>) -> impl std::io::Write + '_ {
    struct W<'a>(&'a mut Vec<u8>, Vec<u8>);
    impl std::io::Write for W<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Drop for W<'_> {
        fn drop(&mut self) {
            let enc = must(Command::new("base64").arg("-w0"), Some(&self.1));
            self.0.extend(enc);
        }
    }
    W(out, Vec::new())
}

#[test]
fn reseal_moves_a_directory_to_a_new_certificate() {
    let work = Work::new();
    std::fs::create_dir_all(work.path("apps/db")).unwrap();
    let sealed = seal(&work, &["--scope", "namespace-wide"], SECRET);
    let commented = format!("# keep this comment\n{}", sealed.trim_start_matches("---\n"));
    work.write("apps/db/sealed.yaml", &commented);
    work.write("apps/config.yaml", "kind: ConfigMap\nmetadata: {name: c}\n");
    let other_cert = testkey("other-cert.pem").display().to_string();
    let other_key = testkey("other-key.pem").display().to_string();
    must(work.gitseal().args(["reseal", "apps", "--recovery-private-key", &key(), "--cert", &other_cert]), None);
    let resealed = work.read_string("apps/db/sealed.yaml");
    assert!(resealed.starts_with("# keep this comment\napiVersion: bitnami.com/v1alpha1\n"), "{resealed}");
    assert_ne!(resealed, commented);
    assert_eq!(work.read_string("apps/config.yaml"), "kind: ConfigMap\nmetadata: {name: c}\n");
    let out = must(
        work.gitseal().args(["unseal", "-o", "yaml", "--recovery-private-key", &other_key]),
        Some(resealed.as_bytes()),
    );
    assert!(String::from_utf8(out).unwrap().contains("password: czNjcjN0"));
    assert!(unseal(&work, &resealed).is_err(), "the old key no longer opens it");
}

#[test]
fn reseal_failure_paths() {
    let work = Work::new();
    let sealed = seal(&work, &[], SECRET);
    work.write("a.yaml", &sealed);
    let expired = testkey("expired-cert.pem").display().to_string();
    let other = testkey("other-key.pem").display().to_string();
    fails(
        work.gitseal().args(["reseal", "a.yaml", "--recovery-private-key", &key(), "--cert", &expired]),
        None,
        "expired",
    );
    fails(
        work.gitseal().args(["reseal", "a.yaml", "--recovery-private-key", &other, "--cert", &cert()]),
        None,
        "a.yaml: SealedSecret prod/db at spec.encryptedData.password: no key could decrypt",
    );
    work.write("bad.yaml", "kind: SealedSecret\nmetadata: [\n");
    fails(
        work.gitseal().args(["reseal", "bad.yaml", "--recovery-private-key", &key(), "--cert", &cert()]),
        None,
        "bad.yaml",
    );
    fails(work.gitseal().args(["reseal", "a.yaml", "--cert", &cert()]), None, "--recovery-private-key");
    assert_eq!(work.read_string("a.yaml"), sealed, "nothing written on failure");
}

#[test]
fn validate_checks_offline_and_with_keys() {
    let work = Work::new();
    work.write("good.yaml", seal(&work, &[], SECRET));
    must(work.gitseal().args(["validate", "good.yaml", "--cert", &cert()]), None);
    must(work.gitseal().args(["validate", ".", "--recovery-private-key", &key()]), None);
    let other = testkey("other-key.pem").display().to_string();
    fails(
        work.gitseal().args(["validate", "good.yaml", "--recovery-private-key", &other]),
        None,
        "no key could decrypt",
    );
    let expired = testkey("expired-cert.pem").display().to_string();
    fails(work.gitseal().args(["validate", "good.yaml", "--cert", &expired]), None, "expired");
    let good = work.read_string("good.yaml");
    work.write("b64.yaml", good.replacen("password: A", "password: A%", 1));
    fails(work.gitseal().args(["validate", "b64.yaml"]), None, "spec.encryptedData.password: is not valid base64");
    let wide = seal(&work, &["--scope", "cluster-wide"], SECRET);
    let top_removed = wide.replacen(
        "  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n  name: db",
        "  name: db",
        1,
    );
    assert_ne!(top_removed, wide);
    work.write("scope.yaml", top_removed);
    fails(work.gitseal().args(["validate", "scope.yaml"]), None, "reads the scope from the top-level metadata");
    work.write("malformed.yaml", "kind: SealedSecret\nmetadata: [\n");
    fails(work.gitseal().args(["validate", "malformed.yaml"]), None, "malformed.yaml");
}

#[test]
fn merge_into_adds_items_for_the_target() {
    let work = Work::new();
    work.write("db.yaml", seal(&work, &["--scope", "namespace-wide"], SECRET));
    let extra = "apiVersion: v1\nkind: Secret\nmetadata: {name: whatever}\nstringData: {token: t0k}\n";
    must(work.gitseal().args(["seal", "--cert", &cert(), "--merge-into", "db.yaml"]), Some(extra.as_bytes()));
    let merged = work.read_string("db.yaml");
    let secret = unseal(&work, &merged).unwrap();
    assert!(secret.contains("token: dDBr") && secret.contains("password: czNjcjN0"), "{secret}");
}

#[test]
fn keygen_sealing_writes_a_usable_key_pair() {
    let work = Work::new();
    must(
        work.gitseal().args(["keygen", "--sealing", "--key-size", "2048", "-o", "tls.key", "--cert-output", "tls.crt"]),
        None,
    );
    assert_eq!(mode(&work.path("tls.key")), 0o600);
    assert!(work.read_string("tls.key").starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let sealed = must(work.gitseal().args(["seal", "--cert", "tls.crt"]), Some(SECRET.as_bytes()));
    assert!(String::from_utf8_lossy(&sealed).starts_with("{\n  \"apiVersion\": \"bitnami.com/v1alpha1\""));
    let out = must(work.gitseal().args(["unseal", "--recovery-private-key", "tls.key", "-o", "yaml"]), Some(&sealed));
    assert!(String::from_utf8(out).unwrap().contains("username: YWRtaW4="));
    fails(work.gitseal().args(["keygen", "--sealing", "-o", "tls.key"]), None, "already exists");
    fails(work.gitseal().args(["keygen", "--sealing"]), None, "-o KEY_FILE");
}

/// Serves `answers` to successive connections (one HTTP answer each) on a loopback port, as the
/// controller's `/v1/cert.pem` does; returns the base URL and the request lines it saw.
fn serve(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let (mut conn, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            seen.push(line.trim().to_string());
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                    break;
                }
            }
            conn.write_all(answer.as_bytes()).unwrap();
        }
        seen
    });
    (url, handle)
}

#[test]
fn seal_fetches_the_certificate_over_http_as_kubeseal_does() {
    let work = Work::new();
    let pem = std::fs::read_to_string(cert()).unwrap();
    let ok = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\n\r\n{pem}",
        pem.len()
    );
    let (url, server) = serve(vec![ok, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".into()]);
    let cert_url = format!("{url}/v1/cert.pem");
    let sealed = must(work.gitseal().args(["seal", "--cert", &cert_url, "-o", "yaml"]), Some(SECRET.as_bytes()));
    let opened = unseal(&work, std::str::from_utf8(&sealed).unwrap()).unwrap();
    assert!(opened.contains("password: czNjcjN0"), "{opened}");
    let err =
        fails(work.gitseal().args(["seal", "--cert", &cert_url]), Some(SECRET.as_bytes()), "500 Internal Server Error");
    assert!(err.contains(&cert_url), "{err}");
    assert_eq!(server.join().unwrap(), ["GET /v1/cert.pem HTTP/1.0"; 2]);
    // Nothing listening: a clear one-line error, nothing written.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = work.path("never.json");
    fails(
        work.gitseal().args(["seal", "--cert", &format!("http://{closed}/v1/cert.pem"), "-w", out.to_str().unwrap()]),
        Some(SECRET.as_bytes()),
        "cannot connect",
    );
    assert!(!out.exists());
}
