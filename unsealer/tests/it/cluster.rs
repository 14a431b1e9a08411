//! The scenarios against a real cluster (ignored by default: there is no API server on the
//! build machines). Run with a disposable cluster, e.g. kind:
//!
//! ```sh
//! kind create cluster --name gitseal
//! kubectl apply -f deploy/controller/crd.yaml
//! KUBECONFIG=~/.kube/config cargo test -p gitseal-unsealer --test it cluster -- --ignored --test-threads=1
//! ```
//!
//! The controller runs in the test process with its real watches (`controller::run`), in a
//! namespace of its own; each test makes objects through the API and waits for the result.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Parser;
use gitseal::keys::sealing::SealingCert;
use gitseal::sealed::manifest;
use gitseal_unsealer::config::Config;
use gitseal_unsealer::resource::SealedSecret;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::Client;

const NS: &str = "gitseal-unsealer-it";

async fn setup() -> Client {
    assert!(std::env::var_os("KUBECONFIG").is_some(), "set KUBECONFIG to a disposable cluster");
    let client = Client::try_default().await.expect("a reachable cluster");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns =
        Namespace { metadata: ObjectMeta { name: Some(NS.into()), ..ObjectMeta::default() }, ..Namespace::default() };
    let _ = namespaces.create(&PostParams::default(), &ns).await;
    std::env::set_var("POD_NAMESPACE", NS);
    let cfg = Config::parse_from([
        "gitseal-unsealer",
        "--key-size=2048",
        "--listen-addr=127.0.0.1:0",
        "--listen-metrics-addr=127.0.0.1:0",
        "--all-namespaces=false",
    ]);
    tokio::spawn(gitseal_unsealer::controller::run(cfg));
    client
}

/// Polls `f` until it returns `Some` (a cluster is asynchronous; 60 s at most).
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(mut f: impl FnMut() -> F) -> T {
    for _ in 0..120 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("timed out waiting for the cluster");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Kubernetes cluster (KUBECONFIG)"]
async fn a_sealed_secret_becomes_a_secret_and_is_recreated_after_deletion() {
    let client = setup().await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
    // The controller makes its key; seal to the certificate it stores.
    let key = eventually(|| {
        let secrets = secrets.clone();
        async move {
            let list = secrets
                .list(&ListParams::default().labels("sealedsecrets.bitnami.com/sealed-secrets-key=active"))
                .await
                .ok()?;
            list.items.into_iter().next()
        }
    })
    .await;
    let cert = SealingCert::from_pem(std::str::from_utf8(&key.data.unwrap()["tls.crt"].0).unwrap()).unwrap();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: {NS}}}\nstringData: {{password: hunter2}}\n"
    );
    let secret = manifest::parse_stream(&secret).unwrap().remove(0);
    let opts = gitseal::sealed::seal::SealOptions {
        key: cert.public_key(),
        scope: None,
        name: None,
        namespace: None,
        allow_empty_data: false,
    };
    let sealed = gitseal::sealed::seal::seal_secret(&secret, 0, &opts).unwrap();
    let json = manifest::emit(&[sealed], manifest::OutputFormat::Json).unwrap();
    let ss: SealedSecret = serde_json::from_str(&json).unwrap();
    let api: Api<SealedSecret> = Api::namespaced(client.clone(), NS);
    let _ = api.delete("app", &DeleteParams::default()).await;
    api.create(&PostParams::default(), &ss).await.unwrap();
    let get = || {
        let secrets = secrets.clone();
        async move { secrets.get_opt("app").await.ok().flatten().and_then(|s| s.data) }
    };
    let data: BTreeMap<_, _> = eventually(get).await;
    assert_eq!(data["password"].0, b"hunter2");
    secrets.delete("app", &DeleteParams::default()).await.unwrap();
    let data = eventually(get).await;
    assert_eq!(data["password"].0, b"hunter2", "re-created");
    let status = eventually(|| {
        let api = api.clone();
        async move { api.get("app").await.ok()?.status }
    })
    .await;
    assert_eq!(status.conditions[0].status, "True");
}
