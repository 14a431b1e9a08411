//! Flux: `gitseal flux-secret` makes the Secret the kustomize-controller decrypts with, and the
//! example Flux Kustomization points at it.

use gitseal_formats::{Format, Value};

use crate::peers::{demo_key, manifest_dir, must, run, Work};

fn yaml(text: &str) -> Value {
    Value::from_node(&gitseal_formats::parse(Format::Yaml, text).unwrap().roots[0].node)
}

#[test]
fn flux_secret_holds_the_identities_that_open_the_examples() {
    let work = Work::new();
    let out = must(work.gitseal().args(["flux-secret", "--identity"]).arg(demo_key()), None);
    let secret = yaml(&String::from_utf8(out).unwrap());
    let get = |path: &[&str]| path.iter().try_fold(&secret, |v, k| v.get(k)).and_then(Value::as_str);
    assert_eq!(get(&["kind"]), Some("Secret"));
    assert_eq!(get(&["metadata", "name"]), Some("sops-age"));
    assert_eq!(get(&["metadata", "namespace"]), Some("flux-system"));
    let identity = get(&["stringData", "identity.agekey"]).expect("identity.agekey");
    assert!(identity.starts_with("AGE-SECRET-KEY-1") && !identity.contains('#'), "comments are left out");
    // What Flux would read opens the example the Flux Kustomization points at.
    work.write("identity.agekey", identity);
    let kustomization =
        std::fs::read_to_string(manifest_dir().join("examples/clusters/production/podinfo-kustomization.yaml"))
            .unwrap();
    let k = yaml(&kustomization);
    let spec = k.get("spec").unwrap();
    assert_eq!(spec.get("decryption").and_then(|d| d.get("provider")).and_then(Value::as_str), Some("sops"));
    assert_eq!(
        spec.get("decryption").and_then(|d| d.get("secretRef")).and_then(|r| r.get("name")).and_then(Value::as_str),
        Some("sops-age")
    );
    let path = spec.get("path").and_then(Value::as_str).unwrap().trim_start_matches("./");
    let secret = manifest_dir().join(path).join("secret.enc.yaml");
    let plain =
        must(work.gitseal().env("SOPS_AGE_KEY_FILE", work.path("identity.agekey")).arg("decrypt").arg(&secret), None);
    assert!(String::from_utf8_lossy(&plain).contains("DB_PASSWORD:"));
}

#[test]
fn flux_secret_writes_a_private_file_and_refuses_a_file_without_identities() {
    let work = Work::new();
    must(work.gitseal().args(["flux-secret", "--output", "sops-age.yaml", "--identity"]).arg(demo_key()), None);
    assert_eq!(crate::peers::mode(&work.path("sops-age.yaml")), 0o600);
    work.write("not-a-key.txt", "hello world\n");
    let out = run(work.gitseal().args(["flux-secret", "--identity", "not-a-key.txt"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not-a-key.txt") && !stderr.contains("hello world"), "{stderr}");
}
