//! Reconcile scenarios against a stateful in-process Kubernetes API (kube-fake-client:
//! resourceVersions, 409 conflicts, status subresources, owner references). The watch streams
//! are replaced by calls to the controller's event handlers; everything from there on (queue,
//! reconcile, Secret writes, status, Events, metrics) is the production code.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use crate::common::{kubesealpy, read, testdata};
use clap::Parser;
use gitseal::keys::sealing::{PublicKey, SealingCert};
use gitseal::sealed::manifest;
use gitseal::sealed::seal::{seal_secret, SealOptions};
use gitseal_unsealer::config::Config;
use gitseal_unsealer::controller::Controller;
use gitseal_unsealer::queue::Key;
use gitseal_unsealer::resource::SealedSecret;
use k8s_openapi::api::core::v1::{Event, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::Client;

struct Env {
    client: Client,
    ctl: Arc<Controller>,
}

async fn env(args: &[&str]) -> Env {
    let client = kube_fake_client::ClientBuilder::new()
        .with_resource::<SealedSecret>()
        .with_status_subresource::<SealedSecret>()
        .build()
        .await
        .unwrap();
    let base = ["gitseal-unsealer", "--key-size=2048"];
    let cfg = Config::parse_from(base.iter().chain(args.iter()).copied());
    let ctl = Controller::new(client.clone(), Arc::new(cfg), "kube-system", "test-replica");
    Env { client, ctl }
}

impl Env {
    fn secrets(&self, ns: &str) -> Api<Secret> {
        Api::namespaced(self.client.clone(), ns)
    }
    fn sealed(&self, ns: &str) -> Api<SealedSecret> {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Stores a key Secret in the Bitnami layout and hands it to the key watch handler.
    async fn add_key(&self, name: &str, key_pem: &str, cert_pem: &str, label: &str) -> Secret {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("kube-system".into()),
                labels: Some(BTreeMap::from([("sealedsecrets.bitnami.com/sealed-secrets-key".into(), label.into())])),
                ..ObjectMeta::default()
            },
            type_: Some("kubernetes.io/tls".into()),
            data: Some(BTreeMap::from([
                ("tls.key".into(), ByteString(key_pem.as_bytes().to_vec())),
                ("tls.crt".into(), ByteString(cert_pem.as_bytes().to_vec())),
            ])),
            ..Secret::default()
        };
        let created = self.secrets("kube-system").create(&PostParams::default(), &secret).await.unwrap();
        self.ctl.on_key_secret(&created).await;
        created
    }

    /// Creates a SealedSecret and hands it to the watch handler.
    async fn apply(&self, ss: SealedSecret) -> SealedSecret {
        let ns = ss.metadata.namespace.clone().unwrap();
        let created = self.sealed(&ns).create(&PostParams::default(), &ss).await.unwrap();
        self.ctl.on_sealed_secret(&created);
        created
    }

    /// Works the queue until it is empty (retries scheduled for later are not waited for).
    async fn drain(&self) {
        while let Some(key) = self.ctl.queue.try_next() {
            self.ctl.process(key).await;
        }
    }

    async fn secret_data(&self, ns: &str, name: &str) -> Option<BTreeMap<String, String>> {
        let s = self.secrets(ns).get_opt(name).await.unwrap()?;
        Some(s.data.unwrap_or_default().into_iter().map(|(k, v)| (k, String::from_utf8(v.0).unwrap())).collect())
    }

    async fn status(&self, ns: &str, name: &str) -> (String, Option<String>, Option<String>) {
        let ss = self.sealed(ns).get(name).await.unwrap();
        let st = ss.status.expect("a status");
        let c = st.conditions.iter().find(|c| c.type_ == "Synced").expect("a Synced condition").clone();
        assert_eq!(st.observed_generation, ss.metadata.generation);
        (c.status, c.message, st.key_fingerprint)
    }

    async fn events(&self, ns: &str) -> Vec<(String, String, String)> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), ns);
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| {
                assert_eq!(e.source.and_then(|s| s.component).as_deref(), Some("sealed-secrets"));
                (e.type_.unwrap_or_default(), e.reason.unwrap_or_default(), e.message.unwrap_or_default())
            })
            .collect()
    }
}

fn secret_yaml(ns: &str, name: &str, data: &[(&str, &str)], annotations: &[(&str, &str)]) -> String {
    let mut y = format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\n");
    if !annotations.is_empty() {
        y.push_str("  annotations:\n");
        for (k, v) in annotations {
            y.push_str(&format!("    {k}: {v:?}\n"));
        }
    }
    y.push_str("stringData:\n");
    for (k, v) in data {
        y.push_str(&format!("  {k}: {v:?}\n"));
    }
    y
}

fn to_sealed_secret(v: &gitseal::formats::Value) -> SealedSecret {
    serde_json::from_value(json_of(v)).unwrap()
}

fn json_of(v: &gitseal::formats::Value) -> serde_json::Value {
    let text = manifest::emit(std::slice::from_ref(v), manifest::OutputFormat::Json).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Seals with the library (what `gitseal seal` runs).
fn seal(cert: &PublicKey, yaml: &str, scope: Option<&str>) -> SealedSecret {
    let secret = manifest::parse_stream(yaml).unwrap().remove(0);
    let scope = scope.map(|s| gitseal::keys::sealing::Scope::parse(s).unwrap());
    let opts = SealOptions { key: cert, scope, name: None, namespace: None, allow_empty_data: false };
    to_sealed_secret(&seal_secret(&secret, 0, &opts).unwrap())
}

fn test_cert() -> PublicKey {
    SealingCert::from_pem(&read("test-cert.pem")).unwrap().public_key().clone()
}

fn fingerprint(cert_file: &str) -> String {
    SealingCert::from_pem(&read(cert_file)).unwrap().public_key().fingerprint()
}

#[tokio::test]
async fn sealed_by_gitseal_becomes_the_secret_with_status_event_and_owner() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    let ss = e
        .apply(seal(&test_cert(), &secret_yaml("prod", "db", &[("password", "hunter2"), ("user", "app")], &[]), None))
        .await;
    e.drain().await;
    let data = e.secret_data("prod", "db").await.expect("the Secret was created");
    assert_eq!(data, BTreeMap::from([("password".into(), "hunter2".into()), ("user".into(), "app".into())]));
    let secret = e.secrets("prod").get("db").await.unwrap();
    let owner = &secret.metadata.owner_references.unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.controller), ("SealedSecret", "db", Some(true)));
    assert_eq!(Some(owner.uid.clone()), ss.metadata.uid);
    let (state, message, fp) = e.status("prod", "db").await;
    assert_eq!((state.as_str(), message), ("True", None));
    assert_eq!(fp.as_deref(), Some(fingerprint("test-cert.pem").as_str()));
    assert!(e.events("prod").await.contains(&(
        "Normal".into(),
        "Unsealed".into(),
        "SealedSecret unsealed successfully".into()
    )));
    let metrics = e.ctl.app.metrics.encode();
    assert!(metrics.contains("sealed_secrets_controller_condition_info{namespace=\"prod\",name=\"db\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"\"} 1"), "{metrics}");
    assert!(
        metrics
            .contains(&format!("gitseal_unsealer_key_objects{{fingerprint=\"{}\"}} 1", fingerprint("test-cert.pem"))),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_unchanged_secret_is_not_rewritten_and_status_is_not_rewritten() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    e.apply(seal(&test_cert(), &secret_yaml("prod", "db", &[("password", "x")], &[]), None)).await;
    e.drain().await;
    let before = e.secrets("prod").get("db").await.unwrap().metadata.resource_version;
    let ss_before = e.sealed("prod").get("db").await.unwrap().metadata.resource_version;
    e.ctl.queue.add(Key::new("prod", "db"));
    e.drain().await;
    assert_eq!(e.secrets("prod").get("db").await.unwrap().metadata.resource_version, before, "Secret rewritten");
    assert_eq!(e.sealed("prod").get("db").await.unwrap().metadata.resource_version, ss_before, "status rewritten");
    // The status write did not queue the object again (no hot loop).
    let ss = e.sealed("prod").get("db").await.unwrap();
    e.ctl.on_sealed_secret(&ss);
    assert!(e.ctl.queue.is_empty(), "a status-only change must not queue a reconcile");
}

#[tokio::test]
async fn a_changed_spec_updates_the_secret() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    e.apply(seal(&test_cert(), &secret_yaml("prod", "db", &[("password", "old")], &[]), None)).await;
    e.drain().await;
    let mut current = e.sealed("prod").get("db").await.unwrap();
    current.spec = seal(&test_cert(), &secret_yaml("prod", "db", &[("password", "new")], &[]), None).spec;
    let updated = e.sealed("prod").replace("db", &PostParams::default(), &current).await.unwrap();
    e.ctl.on_sealed_secret(&updated);
    e.drain().await;
    assert_eq!(e.secret_data("prod", "db").await.unwrap()["password"], "new");
}

/// kubesealpy, an independent implementation, seals in all three scopes to the controller's
/// certificate; each becomes its Secret.
#[tokio::test]
async fn sealed_by_kubesealpy_in_every_scope() {
    let Some(python) = kubesealpy() else { return };
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let name = format!("s-{scope}");
        let yaml = kubesealpy_seal(&python, &testdata("test-cert.pem"), "apps", &name, scope, r#"{"token": "t0k3n"}"#);
        let ss = to_sealed_secret(&manifest::parse_stream(&yaml).unwrap().remove(0));
        e.apply(ss).await;
    }
    e.drain().await;
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let name = format!("s-{scope}");
        assert_eq!(
            e.secret_data("apps", &name).await.unwrap_or_default().get("token").map(String::as_str),
            Some("t0k3n"),
            "{scope}"
        );
        assert_eq!(e.status("apps", &name).await.0, "True", "{scope}");
    }
}

fn kubesealpy_seal(python: &PathBuf, cert: &std::path::Path, ns: &str, name: &str, scope: &str, data: &str) -> String {
    const DRIVER: &str = r#"
import sys, json
from kubesealpy import Sealer, SealingScope
cert, ns, name, scope = sys.argv[1:5]
data = json.loads(sys.stdin.read())
print(Sealer.from_certificate_file(cert).seal(name=name, namespace=ns,
    data={k: v.encode() for k, v in data.items()}, scope=SealingScope(scope)).to_yaml())
"#;
    use std::io::Write;
    let mut child = Command::new(python)
        .args(["-c", DRIVER, cert.to_str().unwrap(), ns, name, scope])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// A cluster moving from the Bitnami controller keeps its key Secrets (here a PKCS#8 key from
/// `openssl req`, as upstream's bring-your-own-certificate guide makes, and the legacy Secret
/// named exactly like the prefix): no new key is made, nothing is re-sealed, and
/// `/v1/cert.pem` serves the newest existing key.
#[tokio::test]
async fn migration_reuses_bitnami_key_secrets_without_making_a_key() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-keyabcde", &read("other-key.pem"), &read("other-cert.pem"), "active").await;
    // The legacy (pre-v0.9) Secret: no label at all.
    let legacy = Secret {
        metadata: ObjectMeta {
            name: Some("sealed-secrets-key".into()),
            namespace: Some("kube-system".into()),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            ("tls.key".into(), ByteString(read("test-key.pem").into_bytes())),
            ("tls.crt".into(), ByteString(read("test-cert.pem").into_bytes())),
        ])),
        ..Secret::default()
    };
    let legacy = e.secrets("kube-system").create(&PostParams::default(), &legacy).await.unwrap();
    e.ctl.on_key_secret(&legacy).await;
    e.ctl.ensure_key().await.unwrap();
    let keys = e.secrets("kube-system").list(&ListParams::default()).await.unwrap().items;
    assert_eq!(keys.len(), 2, "no key may be generated when keys exist");
    let other = SealingCert::from_pem(&read("other-cert.pem")).unwrap().public_key().clone();
    e.apply(seal(&other, &secret_yaml("a", "one", &[("k", "v1")], &[]), None)).await;
    e.apply(seal(&test_cert(), &secret_yaml("a", "two", &[("k", "v2")], &[]), None)).await;
    e.drain().await;
    assert_eq!(e.secret_data("a", "one").await.unwrap()["k"], "v1");
    assert_eq!(e.secret_data("a", "two").await.unwrap()["k"], "v2");
    assert_eq!(e.status("a", "one").await.2.unwrap(), fingerprint("other-cert.pem"));
    assert_eq!(e.status("a", "two").await.2.unwrap(), fingerprint("test-cert.pem"));
}

#[tokio::test]
async fn a_controller_without_keys_makes_one_in_the_upstream_layout() {
    let e = env(&[]).await;
    e.ctl.ensure_key().await.unwrap();
    e.ctl.ensure_key().await.unwrap();
    let keys = e.secrets("kube-system").list(&ListParams::default()).await.unwrap().items;
    assert_eq!(keys.len(), 1, "exactly one key");
    let k = &keys[0];
    assert_eq!(k.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_eq!(k.metadata.labels.as_ref().unwrap()["sealedsecrets.bitnami.com/sealed-secrets-key"], "active");
    let set = e.ctl.ctx.keys.snapshot();
    assert_eq!(set.keys.len(), 1);
    // What it seals to, it opens.
    let cert = set.latest().unwrap().1.cert.public_key().clone();
    e.apply(seal(&cert, &secret_yaml("x", "y", &[("a", "b")], &[]), None)).await;
    e.drain().await;
    assert_eq!(e.secret_data("x", "y").await.unwrap()["a"], "b");
}

#[tokio::test]
async fn key_cutoff_time_makes_a_new_key_when_the_newest_is_older() {
    let e = env(&["--key-cutoff-time=Tue, 01 Jan 2030 00:00:00 +0000"]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    e.ctl.ensure_key().await.unwrap();
    let set = e.ctl.ctx.keys.snapshot();
    assert_eq!(set.keys.len(), 2);
    assert_ne!(set.latest().unwrap().1.fingerprint, fingerprint("test-cert.pem"), "the new key seals");
}

#[tokio::test]
async fn managed_patch_unmanaged_and_immutable_secrets() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    let existing = |name: &str, annotations: &[(&str, &str)], immutable: bool| Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            annotations: Some(annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            labels: Some(BTreeMap::from([("keep".into(), "me".into())])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            ("old".into(), ByteString(b"kept?".to_vec())),
            ("k".into(), ByteString(b"before".to_vec())),
        ])),
        immutable: immutable.then_some(true),
        ..Secret::default()
    };
    for s in [
        existing("managed", &[("sealedsecrets.bitnami.com/managed", "true")], false),
        existing("patched", &[("sealedsecrets.bitnami.com/patch", "true")], false),
        existing("foreign", &[], false),
        existing("frozen", &[("sealedsecrets.bitnami.com/managed", "true")], true),
    ] {
        e.secrets("ns").create(&PostParams::default(), &s).await.unwrap();
    }
    for name in ["managed", "patched", "foreign", "frozen"] {
        e.apply(seal(&test_cert(), &secret_yaml("ns", name, &[("k", "after")], &[]), None)).await;
    }
    e.drain().await;
    // managed: replaced wholesale, now owned.
    let managed = e.secret_data("ns", "managed").await.unwrap();
    assert_eq!(managed, BTreeMap::from([("k".into(), "after".into())]));
    assert!(e.secrets("ns").get("managed").await.unwrap().metadata.owner_references.is_some());
    // patch: merged, other keys and labels kept, no owner taken.
    let patched = e.secrets("ns").get("patched").await.unwrap();
    let data: BTreeMap<_, _> =
        patched.data.unwrap().into_iter().map(|(k, v)| (k, String::from_utf8(v.0).unwrap())).collect();
    assert_eq!(data, BTreeMap::from([("k".into(), "after".into()), ("old".into(), "kept?".into())]));
    assert_eq!(patched.metadata.labels.unwrap()["keep"], "me");
    assert!(patched.metadata.owner_references.is_none());
    // unmanaged: untouched, refused with upstream's message.
    assert_eq!(e.secret_data("ns", "foreign").await.unwrap()["k"], "before");
    let (state, message, _) = e.status("ns", "foreign").await;
    assert_eq!(state, "False");
    assert_eq!(
        message.unwrap(),
        "failed update: Resource \"foreign\" already exists and is not managed by SealedSecret"
    );
    // immutable: untouched, and not retried.
    assert_eq!(e.secret_data("ns", "frozen").await.unwrap()["k"], "before");
    let (state, message, _) = e.status("ns", "frozen").await;
    assert_eq!(state, "False");
    assert!(message.unwrap().contains("the target Secret is immutable"));
    let events = e.events("ns").await;
    assert!(events
        .iter()
        .any(|(t, r, m)| t == "Warning" && r == "ErrUpdateFailed" && m.contains("not managed by SealedSecret")));
    assert!(events.iter().any(|(t, r, m)| t == "Warning" && r == "ErrUpdateFailed" && m.contains("immutable")));
    let metrics = e.ctl.app.metrics.encode();
    assert!(
        metrics.contains("sealed_secrets_controller_unseal_errors_total{reason=\"unmanaged\",namespace=\"ns\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sealed_secrets_controller_unseal_errors_total{reason=\"update\",namespace=\"ns\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_deleted_secret_is_recreated_unless_skip_recreate() {
    for (args, recreated) in [(&[][..], true), (&["--skip-recreate"][..], false)] {
        let e = env(args).await;
        e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
        e.apply(seal(&test_cert(), &secret_yaml("ns", "app", &[("k", "v")], &[]), None)).await;
        e.drain().await;
        let secret = e.secrets("ns").get("app").await.unwrap();
        e.secrets("ns").delete("app", &DeleteParams::default()).await.unwrap();
        e.ctl.on_secret_deleted(&secret.metadata);
        e.drain().await;
        assert_eq!(e.secret_data("ns", "app").await.is_some(), recreated, "{args:?}");
    }
}

#[tokio::test]
async fn live_key_rotation_and_a_relabelled_key() {
    let e = env(&[]).await;
    // A SealedSecret sealed to a key the controller does not have yet fails...
    let other = SealingCert::from_pem(&read("other-cert.pem")).unwrap().public_key().clone();
    e.add_key("k1", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    e.apply(seal(&other, &secret_yaml("ns", "late", &[("k", "v")], &[]), None)).await;
    e.drain().await;
    assert!(e.secret_data("ns", "late").await.is_none());
    let (state, message, _) = e.status("ns", "late").await;
    assert_eq!(state, "False");
    let message = message.unwrap();
    assert!(
        message.contains("no key could decrypt secret") && message.contains(&fingerprint("test-cert.pem")),
        "{message}"
    );
    // ...and opens as soon as that key Secret appears: no restart.
    e.add_key("k2", &read("other-key.pem"), &read("other-cert.pem"), "active").await;
    e.drain().await;
    assert_eq!(e.secret_data("ns", "late").await.unwrap()["k"], "v");
    assert_eq!(e.status("ns", "late").await.0, "True");
    // Relabelled away from active: out of use at once.
    let mut relabelled = e.secrets("kube-system").get("k2").await.unwrap();
    relabelled
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("sealedsecrets.bitnami.com/sealed-secrets-key".into(), "compromised".into());
    let relabelled = e.secrets("kube-system").replace("k2", &PostParams::default(), &relabelled).await.unwrap();
    e.ctl.on_key_secret(&relabelled).await;
    assert_eq!(e.ctl.ctx.keys.snapshot().fingerprints(), [fingerprint("test-cert.pem")]);
    // And a deleted key Secret too.
    e.ctl.on_key_secret_deleted("k1");
    assert!(e.ctl.ctx.keys.snapshot().keys.is_empty());
}

#[tokio::test]
async fn one_malformed_sealed_secret_or_key_secret_disturbs_nothing_else() {
    let e = env(&[]).await;
    // A malformed key Secret: an Event, a log line and a metric; the good key still works.
    let bad = e.add_key("broken", "not a key", "not a cert", "active").await;
    e.add_key("good", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    assert_eq!(e.ctl.ctx.keys.snapshot().keys.len(), 1);
    let events = e.events("kube-system").await;
    assert!(
        events.iter().any(|(t, r, m)| t == "Warning" && r == "ErrKeyInvalid" && m.contains("data.tls.key")),
        "{events:?}"
    );
    assert!(e.ctl.app.metrics.encode().contains("gitseal_unsealer_key_errors_total 1"));
    // The same bad version again is not reported twice.
    e.ctl.on_key_secret(&bad).await;
    assert!(e.ctl.app.metrics.encode().contains("gitseal_unsealer_key_errors_total 1"));

    let mut broken = seal(&test_cert(), &secret_yaml("ns", "broken", &[("k", "v")], &[]), None);
    broken.spec["encryptedData"]["k"] = serde_json::json!("!!not base64!!");
    let mut tampered = seal(&test_cert(), &secret_yaml("ns", "tampered", &[("k", "v")], &[]), None);
    let mut blob = tampered.spec["encryptedData"]["k"].as_str().unwrap().to_string();
    blob.replace_range(blob.len() - 6..blob.len() - 2, "AAAA");
    tampered.spec["encryptedData"]["k"] = serde_json::json!(blob);
    let mut bad_template = seal(&test_cert(), &secret_yaml("ns", "badtemplate", &[("k", "v")], &[]), None);
    bad_template.spec["template"]["data"] = serde_json::json!({"x": "{{ .k | nosuchfunc }}"});
    e.apply(broken).await;
    e.apply(tampered).await;
    e.apply(bad_template).await;
    e.apply(seal(&test_cert(), &secret_yaml("ns", "fine", &[("k", "v")], &[]), None)).await;
    e.drain().await;
    assert_eq!(e.secret_data("ns", "fine").await.unwrap()["k"], "v");
    for name in ["broken", "tampered", "badtemplate"] {
        assert!(e.secret_data("ns", name).await.is_none(), "{name}");
        let (state, message, _) = e.status("ns", name).await;
        assert_eq!(state, "False", "{name}");
        let message = message.unwrap();
        assert!(message.starts_with("Failed to unseal: "), "{message}");
        assert!(!message.contains("\"v\""), "{message}");
    }
    assert!(e.events("ns").await.iter().any(|(t, r, _)| t == "Warning" && r == "ErrUnsealFailed"));
}

#[tokio::test]
async fn a_scope_mismatch_is_explained() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    // Sealed namespace-wide, but the annotation was lost on the way to the cluster.
    let mut ss = seal(&test_cert(), &secret_yaml("ns", "wide", &[("k", "v")], &[]), Some("namespace-wide"));
    ss.metadata.annotations = None;
    e.apply(ss).await;
    e.drain().await;
    let message = e.status("ns", "wide").await.1.unwrap();
    assert!(message.contains("sealed namespace-wide but its annotations say strict"), "{message}");
    // Adding the annotation is enough: a metadata change of the scope is reconciled.
    let mut current = e.sealed("ns").get("wide").await.unwrap();
    current.metadata.annotations =
        Some(BTreeMap::from([("sealedsecrets.bitnami.com/namespace-wide".into(), "true".into())]));
    let updated = e.sealed("ns").replace("wide", &PostParams::default(), &current).await.unwrap();
    e.ctl.on_sealed_secret(&updated);
    e.drain().await;
    assert_eq!(e.secret_data("ns", "wide").await.unwrap()["k"], "v");
}

#[tokio::test]
async fn template_data_uses_v040_semantics() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    let mut ss = seal(
        &test_cert(),
        &secret_yaml("ns", "tpl", &[("user", "app"), ("password", "pw"), ("dropped", "x")], &[]),
        None,
    );
    ss.spec["template"]["data"] = serde_json::json!({
        "dsn": "postgres://{{ .user }}:{{ .password }}@db",
        "password": "plaintext loses to encryptedData",
        "dropped": null,
    });
    ss.spec["template"]["type"] = serde_json::json!("kubernetes.io/basic-auth");
    e.apply(ss).await;
    e.drain().await;
    let Some(data) = e.secret_data("ns", "tpl").await else { panic!("{:?}", e.status("ns", "tpl").await) };
    assert_eq!(data["dsn"], "postgres://app:pw@db");
    assert_eq!(data["password"], "pw", "encryptedData wins on a clash (0.37)");
    assert!(!data.contains_key("dropped"), "a null template key leaves the item out (0.40)");
    assert_eq!(e.secrets("ns").get("tpl").await.unwrap().type_.as_deref(), Some("kubernetes.io/basic-auth"));
}

#[tokio::test]
async fn a_deleted_sealed_secret_is_forgotten_and_old_gc_deletes_its_secret() {
    // Without an owner reference nothing but --old-gc-behavior removes the Secret (with one,
    // the API server's garbage collector does).
    for (args, kept) in [(&[][..], true), (&["--old-gc-behavior"][..], false)] {
        let e = env(args).await;
        e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
        let mut ss = seal(&test_cert(), &secret_yaml("ns", "gone", &[("k", "v")], &[]), None);
        ss.spec["template"]["metadata"]["annotations"] = serde_json::json!({
            "sealedsecrets.bitnami.com/skip-set-owner-references": "true",
            "sealedsecrets.bitnami.com/managed": "true",
        });
        let ss = e.apply(ss).await;
        e.drain().await;
        assert!(e.ctl.app.metrics.encode().contains("name=\"gone\""));
        e.sealed("ns").delete("gone", &DeleteParams::default()).await.unwrap();
        e.ctl.on_sealed_secret_deleted(&ss);
        e.drain().await;
        assert_eq!(e.secret_data("ns", "gone").await.is_some(), kept, "{args:?}");
        assert!(!e.ctl.app.metrics.encode().contains("name=\"gone\""), "condition_info unregistered");
    }
}

#[tokio::test]
async fn skip_set_owner_references_creates_without_owner() {
    let e = env(&[]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    let mut ss = seal(&test_cert(), &secret_yaml("ns", "free", &[("k", "v")], &[]), None);
    ss.spec["template"]["metadata"]["annotations"] = serde_json::json!({"sealedsecrets.bitnami.com/skip-set-owner-references": "true", "sealedsecrets.bitnami.com/managed": "true"});
    e.apply(ss).await;
    e.drain().await;
    let secret = e.secrets("ns").get("free").await.unwrap();
    assert!(secret.metadata.owner_references.is_none());
    assert_eq!(e.status("ns", "free").await.0, "True");
}

#[tokio::test]
async fn deprecated_v1_data_is_refused_when_turned_off() {
    let e = env(&["--accept-deprecated-v1-data=false"]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    let mut ss = seal(&test_cert(), &secret_yaml("ns", "v1", &[("k", "v")], &[]), None);
    ss.spec = serde_json::json!({"data": "AAAA"});
    e.apply(ss).await;
    e.drain().await;
    let message = e.status("ns", "v1").await.1.unwrap();
    assert!(message.contains("using deprecated 'data' field"), "{message}");
}

#[tokio::test]
async fn a_failing_object_is_retried_with_backoff_then_given_up() {
    let e = env(&["--max-unseal-retries=2"]).await;
    e.add_key("sealed-secrets-key", &read("test-key.pem"), &read("test-cert.pem"), "active").await;
    let other = SealingCert::from_pem(&read("other-cert.pem")).unwrap().public_key().clone();
    e.apply(seal(&other, &secret_yaml("ns", "never", &[("k", "v")], &[]), None)).await;
    let key = Key::new("ns", "never");
    // First attempt, then two retries; after that the failure count starts afresh.
    e.drain().await;
    assert_eq!(e.ctl.queue.backoff(&key, 2), Some(std::time::Duration::from_millis(10)), "one failure recorded");
    assert_eq!(e.ctl.queue.backoff(&key, 2), None, "gives up after max retries");
    let requests = e.ctl.app.metrics.encode();
    assert!(requests.contains("sealed_secrets_controller_unseal_requests_total 1"), "{requests}");
}
