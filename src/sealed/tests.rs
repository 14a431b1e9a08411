//! Library tests of sealing and unsealing manifests (TEST ONLY keys from keys/testdata).

use gitseal_formats::Value;
use gitseal_keys::sealing::{self, PublicKey, Scope, SealingCert, SealingKey};

use super::manifest::{emit, parse_stream, OutputFormat};
use super::seal::{seal_secret, SealOptions};
use super::unseal::{unseal, OwnerReference, UnsealOptions};
use super::validate::{validate, ValidateOptions};

fn key() -> SealingKey {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/testdata/sealing/test-key.pem");
    SealingKey::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap().remove(0)
}

fn one(text: &str) -> Value {
    parse_stream(text).unwrap().remove(0)
}

fn sealed(text: &str, k: &SealingKey) -> Value {
    let opts = SealOptions { key: k.public_key(), scope: None, name: None, namespace: None, allow_empty_data: false };
    seal_secret(&one(text), 0, &opts).unwrap()
}

fn opened(v: &Value, k: &SealingKey, owner: OwnerReference) -> Result<String, String> {
    let keys = std::slice::from_ref(k);
    let opts = UnsealOptions { keys, owner_reference: owner, default_namespace: "default", render_templates: true };
    unseal(v, 0, &opts).map(|s| emit(&[s], OutputFormat::Yaml).unwrap()).map_err(|e| e.to_string())
}

#[test]
fn owner_reference_as_the_controller_sets_it() {
    let k = key();
    let mut ss = sealed("kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {x: y}\n", &k);
    assert!(!opened(&ss, &k, OwnerReference::WhenUid).unwrap().contains("ownerReferences"));
    super::set(super::map_mut(&mut ss, "metadata"), "uid", Value::str("1234"));
    let out = opened(&ss, &k, OwnerReference::WhenUid).unwrap();
    assert!(out.contains("ownerReferences:\n    - apiVersion: bitnami.com/v1alpha1\n      controller: true\n      kind: SealedSecret\n      name: a\n      uid: \"1234\"\n"), "{out}");
    let skip = "kind: Secret\nmetadata: {name: a, namespace: n, annotations: {sealedsecrets.bitnami.com/skip-set-owner-references: 'true'}}\nstringData: {x: y}\n";
    assert!(!opened(&sealed(skip, &k), &k, OwnerReference::Always).unwrap().contains("ownerReferences"));
}

#[test]
fn legacy_spec_data_unseals_and_conflicts_with_encrypted_data() {
    let k = key();
    let secret = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"ignored"},"stringData":{"s":"t"},"data":{"d":"ZQ=="}}"#;
    let blob = sealing::seal(k.public_key(), &Scope::Strict.label("n", "old"), secret.as_bytes()).unwrap();
    let text = format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: old, namespace: n}}\nspec:\n  data: {}\n", super::encode_base64(&blob));
    let out = opened(&one(&text), &k, OwnerReference::WhenUid).unwrap();
    assert!(out.contains("data:\n  d: ZQ==\n  s: dA==\n") && out.contains("name: old\n"), "{out}");
    let both = format!("{text}  encryptedData: {{x: AAAA}}\n");
    assert!(opened(&one(&both), &k, OwnerReference::WhenUid).unwrap_err().contains("both spec.data"));
}

#[test]
fn decryption_is_all_or_nothing_and_lists_every_item() {
    let k = key();
    let ss = sealed("kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {x: '1', y: '2'}\n", &k);
    let text = emit(&[ss], OutputFormat::Yaml).unwrap();
    // `y` is a boolean to YAML 1.1 readers: written as a quoted key.
    let broken = text.replacen("x: A", "x: !!str =A", 1).replacen("\"y\": A", "\"y\": B", 1);
    let err = opened(&one(&broken), &k, OwnerReference::WhenUid).unwrap_err();
    assert!(err.contains("is not valid base64 (x)") && err.contains("too short (y)"), "{err}");
}

#[test]
fn seal_scope_and_namespace_rules() {
    let k = key();
    let opts = |scope| SealOptions {
        key: k.public_key(),
        scope,
        name: Some("renamed"),
        namespace: None,
        allow_empty_data: true,
    };
    let plain = one("kind: Secret\nmetadata: {name: a}\n");
    let strict = seal_secret(&plain, 0, &opts(None)).unwrap();
    assert_eq!(super::field(&strict, &["metadata", "namespace"]).and_then(Value::as_str), Some("default"));
    assert_eq!(super::field(&strict, &["metadata", "name"]).and_then(Value::as_str), Some("renamed"));
    let wide = seal_secret(&plain, 0, &opts(Some(Scope::ClusterWide))).unwrap();
    assert!(super::field(&wide, &["metadata", "namespace"]).is_none());
    assert_eq!(super::scope_of(wide.get("metadata")), Scope::ClusterWide);
    assert_eq!(super::scope_of(super::field(&wide, &["spec", "template", "metadata"])), Scope::ClusterWide);
    // kubeseal quirk: an explicit strict does not override the input's annotation.
    let annotated =
        one("kind: Secret\nmetadata: {name: a, annotations: {sealedsecrets.bitnami.com/namespace-wide: 'true'}}\n");
    let kept = seal_secret(&annotated, 0, &opts(Some(Scope::Strict))).unwrap();
    assert_eq!(super::scope_of(kept.get("metadata")), Scope::NamespaceWide);
    // "True" is not "true".
    let upper = one("metadata: {annotations: {sealedsecrets.bitnami.com/cluster-wide: 'True'}}");
    assert_eq!(super::scope_of(upper.get("metadata")), Scope::Strict);
}

#[test]
fn validate_compares_the_rsa_block_with_the_certificate() {
    let k = key();
    let ss = sealed("kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {x: y}\n", &k);
    let small = SealingKey::generate(1024).unwrap();
    let cert = SealingCert::self_signed(&small, "", std::time::SystemTime::now(), sealing::DEFAULT_TTL).unwrap();
    let wrong: &PublicKey = cert.public_key();
    let opts = ValidateOptions { cert: Some(wrong), keys: &[], default_namespace: "default" };
    let problems = validate(&ss, 0, &opts);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].to_string().contains("sealed to a 2048-bit key, but the certificate's key has 1024 bits"));
    let right =
        ValidateOptions { cert: Some(k.public_key()), keys: std::slice::from_ref(&k), default_namespace: "default" };
    assert!(validate(&ss, 0, &right).is_empty());
}

#[test]
fn template_data_has_v040_semantics() {
    let k = key();
    let mut ss =
        sealed("kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {user: app, pw: s3cr3t, gone: x}\n", &k);
    let template = super::map_mut(super::map_mut(&mut ss, "spec"), "template");
    let data = one("dsn: '{{ .user }}@{{ .host }}'\nhost: db.local\npw: plaintext\ngone: null\n");
    super::set(template, "data", data);
    let out = opened(&ss, &k, OwnerReference::WhenUid).unwrap();
    // Templates see the decrypted items and the other plaintext templates.
    assert!(out.contains(&format!("dsn: {}\n", super::encode_base64(b"app@db.local"))), "{out}");
    // An encrypted item wins over a template of the same name (v0.37).
    assert!(out.contains(&format!("pw: {}\n", super::encode_base64(b"s3cr3t"))), "{out}");
    // A template key set to null leaves the item out (v0.40).
    assert!(!out.contains("gone:"), "{out}");
}

#[test]
fn unseal_reports_the_key_that_opened_each_object() {
    let (k, other) = (key(), SealingKey::generate(1024).unwrap());
    let ss = sealed("kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {x: y}\n", &k);
    let keys = [other, k];
    let opts = UnsealOptions {
        keys: &keys,
        owner_reference: OwnerReference::WhenUid,
        default_namespace: "default",
        render_templates: true,
    };
    let (_, used) = super::unseal::unseal_reporting(&ss, 0, &opts).unwrap();
    assert_eq!(used, [1]);
}
