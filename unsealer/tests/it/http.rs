//! The HTTP API and the metrics over real HTTP on loopback, with the controller wired to an
//! in-process Kubernetes API: kubesealpy fetches the certificate and seals against it, then
//! verify (200/409, templates never rendered), rotate (re-sealed to the newest key, scope from
//! the top-level metadata only), the 10 MiB cap (413) and the rate limiter (429).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use crate::common::{kubesealpy, read};
use clap::Parser;
use gitseal::keys::sealing::{SealingCert, SealingKey};
use gitseal::sealed::manifest;
use gitseal::sealed::unseal::{unseal, OwnerReference, UnsealOptions};
use gitseal_unsealer::config::Config;
use gitseal_unsealer::controller::Controller;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    ctl: Arc<Controller>,
    api: String,
    metrics: String,
}

async fn server(args: &[&str]) -> Server {
    let client = kube_fake_client::ClientBuilder::new().build().await.unwrap();
    let base = ["gitseal-unsealer", "--key-size=2048"];
    let cfg = Config::parse_from(base.iter().chain(args.iter()).copied());
    let write_timeout = cfg.write_timeout;
    let ctl = Controller::new(client, Arc::new(cfg), "kube-system", "test");
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (api_addr, metrics_addr) = (api.local_addr().unwrap(), metrics.local_addr().unwrap());
    let router = gitseal_unsealer::server::router(ctl.app.clone(), write_timeout);
    tokio::spawn(gitseal_unsealer::server::serve(api, router, std::future::pending()));
    let metrics_router = gitseal_unsealer::server::metrics_router(Arc::clone(&ctl.app.metrics));
    tokio::spawn(gitseal_unsealer::server::serve(metrics, metrics_router, std::future::pending()));
    Server { ctl, api: api_addr.to_string(), metrics: metrics_addr.to_string() }
}

fn key_secret(name: &str, key: &str, cert: &str) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("kube-system".into()),
            labels: Some(BTreeMap::from([("sealedsecrets.bitnami.com/sealed-secrets-key".into(), "active".into())])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            ("tls.key".into(), ByteString(key.as_bytes().to_vec())),
            ("tls.crt".into(), ByteString(cert.as_bytes().to_vec())),
        ])),
        ..Secret::default()
    }
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request (Connection: close), read to the end.
async fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // A server may answer (413) before reading a large body; a write error then is fine.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, headers: head.to_lowercase(), body: body.to_string() }
}

/// kubesealpy fetches the certificate from `url` and seals `{"password": "hunter2"}`.
fn kubesealpy_seal_from_url(python: &PathBuf, url: &str, ns: &str, name: &str, scope: &str) -> String {
    const DRIVER: &str = r#"
import sys
from kubesealpy import Sealer, SealingScope
url, ns, name, scope = sys.argv[1:5]
print(Sealer.from_certificate_url(url).seal(name=name, namespace=ns,
    data={"password": b"hunter2"}, scope=SealingScope(scope)).to_yaml())
"#;
    let out = Command::new(python).args(["-c", DRIVER, url, ns, name, scope]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_certificate() {
    let s = server(&[]).await;
    let healthz = request(&s.api, "GET", "/healthz", &[], b"").await;
    assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok\n"));
    let readyz = request(&s.api, "GET", "/readyz", &[], b"").await;
    assert_eq!((readyz.status, readyz.body.as_str()), (503, "not ready\n"));
    let cert = request(&s.api, "GET", "/v1/cert.pem", &[], b"").await;
    assert_eq!((cert.status, cert.body.as_str()), (500, "cannot get certificate\n"));
    s.ctl.on_key_secret(&key_secret("k1", &read("test-key.pem"), &read("test-cert.pem"))).await;
    gitseal_unsealer::server::set_ready(&s.ctl.app, true);
    let readyz = request(&s.api, "GET", "/readyz", &[], b"").await;
    assert_eq!((readyz.status, readyz.body.as_str()), (200, "ok\n"));
    let cert = request(&s.api, "GET", "/v1/cert.pem", &[], b"").await;
    assert_eq!(cert.status, 200);
    assert!(cert.headers.contains("content-type: application/x-pem-file"), "{}", cert.headers);
    assert_eq!(
        SealingCert::from_pem(&cert.body).unwrap().public_key(),
        SealingCert::from_pem(&read("test-cert.pem")).unwrap().public_key()
    );
    let missing = request(&s.api, "GET", "/v2/nothing", &[], b"").await;
    assert_eq!(missing.status, 404);
    let metrics = request(&s.metrics, "GET", "/metrics", &[], b"").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains(
            "sealed_secrets_controller_http_requests_total{path=\"/v1/cert.pem\",code=\"200\",method=\"get\"} 1"
        ),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains(
        "sealed_secrets_controller_http_requests_total{path=\"/v1/cert.pem\",code=\"500\",method=\"get\"} 1"
    ));
    assert!(metrics.body.contains("gitseal_unsealer_ready 1"));
    assert!(!metrics.body.contains("path=\"/healthz\""), "probes are not instrumented");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubesealpy_seals_against_the_served_certificate_and_verify_answers() {
    let Some(python) = kubesealpy() else { return };
    let s = server(&["--rate-limit=100", "--rate-limit-burst=100"]).await;
    s.ctl.on_key_secret(&key_secret("k1", &read("test-key.pem"), &read("test-cert.pem"))).await;
    let url = format!("http://{}/v1/cert.pem", s.api);
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let py = python.clone();
        let u = url.clone();
        let yaml =
            tokio::task::spawn_blocking(move || kubesealpy_seal_from_url(&py, &u, "prod", "db", scope)).await.unwrap();
        let ok = request(&s.api, "POST", "/v1/verify", &[], yaml.as_bytes()).await;
        assert_eq!(ok.status, 200, "{scope}");
        // Moved to another namespace: strict and namespace-wide no longer open.
        let moved = yaml.replace("namespace: prod", "namespace: other");
        let expect = if scope == "cluster-wide" { 200 } else { 409 };
        assert_eq!(request(&s.api, "POST", "/v1/verify", &[], moved.as_bytes()).await.status, expect, "{scope}");
    }
    // Not a SealedSecret, two documents, garbage: decode errors are 500 as upstream.
    for body in ["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "a: 1\n---\nb: 2\n", "{{{"] {
        assert_eq!(request(&s.api, "POST", "/v1/verify", &[], body.as_bytes()).await.status, 500, "{body}");
    }
}

fn sealed_yaml(cert: &str, ns: &str, name: &str, extra_spec: &str) -> String {
    let key = SealingCert::from_pem(cert).unwrap().public_key().clone();
    let secret = format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{password: hunter2}}\n");
    let secret = manifest::parse_stream(&secret).unwrap().remove(0);
    let opts = gitseal::sealed::seal::SealOptions {
        key: &key,
        scope: None,
        name: None,
        namespace: None,
        allow_empty_data: false,
    };
    let sealed = gitseal::sealed::seal::seal_secret(&secret, 0, &opts).unwrap();
    let mut yaml = manifest::emit(&[sealed], manifest::OutputFormat::Yaml).unwrap();
    yaml.push_str(extra_spec);
    yaml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_never_renders_templates() {
    let s = server(&["--rate-limit=100", "--rate-limit-burst=100"]).await;
    s.ctl.on_key_secret(&key_secret("k1", &read("test-key.pem"), &read("test-cert.pem"))).await;
    // A template that would fail to render (or, crafted, leak one bit of the value through
    // success or failure) does not change the answer: only decryption is checked.
    let mut doc = manifest::parse_stream(&sealed_yaml(&read("test-cert.pem"), "prod", "db", "")).unwrap().remove(0);
    let spec = gitseal::sealed::map_mut(&mut doc, "spec");
    let template = gitseal::sealed::map_mut(spec, "template");
    gitseal::sealed::set(
        template,
        "data",
        gitseal::formats::Value::Map(vec![(
            "probe".into(),
            gitseal::formats::Value::str(
                "{{ if eq .password \"hunter2\" }}{{ fail \"x\" }}{{ end }}{{ .nosuch | b64dec }}",
            ),
        )]),
    );
    let body = manifest::emit(&[doc], manifest::OutputFormat::Json).unwrap();
    assert_eq!(request(&s.api, "POST", "/v1/verify", &[], body.as_bytes()).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_reseals_to_the_newest_key_in_the_declared_scope() {
    let s = server(&["--rate-limit=100", "--rate-limit-burst=100"]).await;
    s.ctl.on_key_secret(&key_secret("old", &read("test-key.pem"), &read("test-cert.pem"))).await;
    // A strict SealedSecret whose template claims cluster-wide (CVE-2026-22728's attack).
    let yaml = sealed_yaml(&read("test-cert.pem"), "prod", "db", "");
    let mut doc = manifest::parse_stream(&yaml).unwrap().remove(0);
    let spec = gitseal::sealed::map_mut(&mut doc, "spec");
    let template = gitseal::sealed::map_mut(spec, "template");
    let meta = gitseal::sealed::map_mut(template, "metadata");
    gitseal::sealed::set(
        meta,
        "annotations",
        gitseal::sealed::string_map([("sealedsecrets.bitnami.com/cluster-wide", "true".to_string())]),
    );
    let body = manifest::emit(&[doc], manifest::OutputFormat::Json).unwrap();
    // A newer key arrives; rotate moves the object to it.
    let newer = SealingKey::generate(2048).unwrap();
    let newer_cert = SealingCert::self_signed(
        &newer,
        "",
        std::time::SystemTime::now() + std::time::Duration::from_secs(60),
        gitseal::keys::sealing::DEFAULT_TTL,
    )
    .unwrap();
    s.ctl.on_key_secret(&key_secret("new", &newer.to_pkcs1_pem().unwrap(), &newer_cert.to_pem())).await;
    let reply = request(&s.api, "POST", "/v1/rotate", &[], body.as_bytes()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rotated = manifest::parse_stream(&reply.body).unwrap().remove(0);
    let opts = |keys| UnsealOptions {
        keys,
        owner_reference: OwnerReference::WhenUid,
        default_namespace: "prod",
        render_templates: false,
    };
    let only_new = [newer];
    let secret = unseal(&rotated, 0, &opts(&only_new)).expect("opens with the newest key alone");
    let text = manifest::emit(&[secret], manifest::OutputFormat::Yaml).unwrap();
    assert!(text.contains("password: aHVudGVyMg=="), "{text}");
    // Still strict: moved to another name it does not open, whatever the template says.
    let renamed = reply.body.replace("\"name\":\"db\"", "\"name\":\"other\"");
    let renamed = manifest::parse_stream(&renamed).unwrap().remove(0);
    assert!(unseal(&renamed, 0, &opts(&only_new)).is_err(), "the scope was widened");
    // An object no key opens: 500, as upstream.
    let foreign = sealed_yaml(&read("other-cert.pem"), "prod", "db", "");
    assert_eq!(request(&s.api, "POST", "/v1/rotate", &[], foreign.as_bytes()).await.status, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_ten_mebibytes_are_refused() {
    let s = server(&["--rate-limit=100", "--rate-limit-burst=100"]).await;
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    for path in ["/v1/verify", "/v1/rotate"] {
        assert_eq!(request(&s.api, "POST", path, &[], &big).await.status, 413, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_rotate_are_rate_limited_per_client_and_path() {
    // One a second sustained, two more back to back: the fourth quick request is refused.
    let s = server(&["--rate-limit=1", "--rate-limit-burst=2"]).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(request(&s.api, "POST", "/v1/verify", &[("X-Forwarded-For", "10.0.0.1")], b"").await.status);
    }
    assert!(codes[..3].iter().all(|c| *c != 429), "{codes:?}");
    let limited = request(&s.api, "POST", "/v1/verify", &[("X-Forwarded-For", "10.0.0.1")], b"").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body, "limit exceeded\n");
    assert!(limited.headers.contains("retry-after: "), "{}", limited.headers);
    // Another client, and another path, have their own budget.
    assert_ne!(request(&s.api, "POST", "/v1/verify", &[("X-Forwarded-For", "10.0.0.2")], b"").await.status, 429);
    assert_ne!(request(&s.api, "POST", "/v1/rotate", &[("X-Forwarded-For", "10.0.0.1")], b"").await.status, 429);
    let metrics = request(&s.metrics, "GET", "/metrics", &[], b"").await;
    assert!(metrics.body.contains("path=\"/v1/verify\",code=\"429\",method=\"post\""), "{}", metrics.body);
}
