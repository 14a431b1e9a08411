//! SealedSecrets through the whole reconcile path (decrypt, Secret create, status, Event,
//! metrics) against the in-process API: wall time, objects per second, peak RSS, and start-up
//! to ready with 10 keys. Not criterion: one large run, numbers printed.
//!
//! `cargo bench -p gitseal-unsealer --bench load` (defaults: 10,000 objects of 3 values, 4096-bit
//! keys, one worker per CPU); `GITSEAL_LOAD_OBJECTS`, `GITSEAL_LOAD_WORKERS` and
//! `GITSEAL_LOAD_KEY_BITS` change them.
//!
//! The in-process API runs in a child process (this binary again, serving it over HTTP on
//! loopback) so that the peak RSS printed is the controller's, not that of an API server holding
//! 30,000 objects.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use gitseal::keys::sealing::{SealingCert, SealingKey};
use gitseal::sealed::manifest;
use gitseal_unsealer::config::Config;
use gitseal_unsealer::controller::Controller;
use gitseal_unsealer::resource::SealedSecret;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// The child: the in-process API behind a loopback HTTP server; prints its port.
async fn serve_api() {
    let client = kube_fake_client::ClientBuilder::new()
        .with_resource::<SealedSecret>()
        .with_status_subresource::<SealedSecret>()
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let client = client.clone();
        async move {
            use http_body_util::BodyExt;
            let (parts, body) = req.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes();
            let request = axum::http::Request::from_parts(parts, kube::client::Body::from(bytes.to_vec()));
            match client.send(request).await {
                Ok(resp) => {
                    let (parts, body) = resp.into_parts();
                    let bytes = body.collect().await.unwrap().to_bytes();
                    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
                }
                Err(e) => {
                    axum::response::IntoResponse::into_response((axum::http::StatusCode::BAD_GATEWAY, e.to_string()))
                }
            }
        }
    });
    axum::serve(listener, app).await.unwrap();
}

fn main() {
    if std::env::var_os("GITSEAL_LOAD_API_CHILD").is_some() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(serve_api());
        return;
    }
    // `cargo bench` passes --bench; nothing else is expected.
    let objects = env("GITSEAL_LOAD_OBJECTS", 10_000);
    let workers = env("GITSEAL_LOAD_WORKERS", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let bits = env("GITSEAL_LOAD_KEY_BITS", 4096);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(objects, workers, bits));
}

async fn run(objects: usize, workers: usize, bits: usize) {
    println!("objects={objects} values_each=3 workers={workers} key_bits={bits}");
    let started = Instant::now();
    let keys: Vec<SealingKey> = (0..10).map(|_| SealingKey::generate(bits).unwrap()).collect();
    println!("generated 10 keys in {:.1} s (setup, not measured)", started.elapsed().as_secs_f64());
    let mut child = Child(
        std::process::Command::new(std::env::current_exe().unwrap())
            .env("GITSEAL_LOAD_API_CHILD", "1")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let port = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(child.0.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        line.trim().to_string()
    };
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let cfg = Config::parse_from(["gitseal-unsealer", &format!("--workers={workers}")]);
    let ctl = Controller::new(client.clone(), Arc::new(cfg), "kube-system", "bench");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "kube-system");
    let mut stored = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let not_before = std::time::SystemTime::now() - std::time::Duration::from_secs(3600 * (10 - i as u64));
        let cert = SealingCert::self_signed(key, "", not_before, gitseal::keys::sealing::DEFAULT_TTL).unwrap();
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(format!("sealed-secrets-key{i}")),
                namespace: Some("kube-system".into()),
                labels: Some(BTreeMap::from([(
                    "sealedsecrets.bitnami.com/sealed-secrets-key".into(),
                    "active".into(),
                )])),
                ..ObjectMeta::default()
            },
            type_: Some("kubernetes.io/tls".into()),
            data: Some(BTreeMap::from([
                ("tls.key".into(), ByteString(key.to_pkcs1_pem().unwrap().as_bytes().to_vec())),
                ("tls.crt".into(), ByteString(cert.to_pem().into_bytes())),
            ])),
            ..Secret::default()
        };
        stored.push(secrets.create(&PostParams::default(), &secret).await.unwrap());
    }
    // Start-up to ready: every key Secret read, parsed and registered (what the key watch's
    // first list does before /readyz turns 200).
    let t = Instant::now();
    for s in &stored {
        ctl.on_key_secret(s).await;
    }
    gitseal_unsealer::server::set_ready(&ctl.app, true);
    println!("start-up to ready with 10 keys: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let newest = ctl.ctx.keys.snapshot().latest().unwrap().1.cert.public_key().clone();

    let api: Api<SealedSecret> = Api::namespaced(client.clone(), "load");
    for i in 0..objects {
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s{i}, namespace: load}}\nstringData: {{user: app{i}, password: pw-{i}-0123456789, url: 'postgres://db:5432/app{i}'}}\n"
        );
        let secret = manifest::parse_stream(&yaml).unwrap().remove(0);
        let opts = gitseal::sealed::seal::SealOptions {
            key: &newest,
            scope: None,
            name: None,
            namespace: None,
            allow_empty_data: false,
        };
        let sealed = gitseal::sealed::seal::seal_secret(&secret, 0, &opts).unwrap();
        let json = manifest::emit(&[sealed], manifest::OutputFormat::Json).unwrap();
        let ss: SealedSecret = serde_json::from_str(&json).unwrap();
        let created = api.create(&PostParams::default(), &ss).await.unwrap();
        ctl.on_sealed_secret(&created);
    }
    println!("peak RSS of the controller process before reconciling: {:.1} MiB", peak_rss_mib());

    let t = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let ctl = Arc::clone(&ctl);
            tokio::spawn(async move {
                while let Some(key) = ctl.queue.try_next() {
                    ctl.process(key).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = t.elapsed().as_secs_f64();
    let metrics = ctl.app.metrics.encode();
    let ok = metrics
        .lines()
        .find(|l| l.starts_with("gitseal_unsealer_key_objects{"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or("0");
    println!(
        "reconciled {objects} SealedSecrets ({} values) in {elapsed:.2} s: {:.0} objects/s, {:.0} values/s; unsealed by the newest key: {ok}",
        objects * 3,
        objects as f64 / elapsed,
        (objects * 3) as f64 / elapsed
    );
    println!("peak RSS of the controller process: {:.1} MiB", peak_rss_mib());
    drop(child);
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
