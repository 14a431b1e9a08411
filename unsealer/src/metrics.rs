//! Prometheus metrics: the upstream controller's (`sealed_secrets_controller_*`, same names
//! and labels) and gitseal's own (`gitseal_unsealer_*`: readiness, leadership, keys, and how
//! many SealedSecrets each key opened, so that an operator can see when an old key can be
//! retired). Labels carry names and fingerprints only, never a value.

use std::collections::HashMap;
use std::sync::Mutex;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::queue::Key;

type Labels = Vec<(&'static str, String)>;

/// Prometheus's default histogram buckets (Go client's `DefBuckets`).
const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Every metric, registered in one registry.
pub struct Metrics {
    registry: Registry,
    omit_secret_labels: bool,
    unseal_requests: Counter,
    unseal_errors: Family<Labels, Counter>,
    condition_info: Family<Labels, Gauge>,
    http_requests: Family<Labels, Counter>,
    http_duration: Family<Labels, Histogram>,
    ready: Gauge,
    leader: Gauge,
    keys: Gauge,
    sealing_key_timestamp: Gauge,
    key_objects: Family<Labels, Gauge>,
    key_errors: Counter,
    opened_by: Mutex<HashMap<Key, String>>,
}

/// Why an unseal failed (upstream's `reason` label values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorReason {
    /// The SealedSecret could not be read.
    Fetch,
    /// It could not be decrypted.
    Unseal,
    /// The Secret could not be written.
    Update,
    /// The Secret exists and is not managed by the SealedSecret.
    Unmanaged,
    /// The status could not be written.
    Status,
}

impl ErrorReason {
    fn as_str(self) -> &'static str {
        match self {
            ErrorReason::Fetch => "fetch",
            ErrorReason::Unseal => "unseal",
            ErrorReason::Update => "update",
            ErrorReason::Unmanaged => "unmanaged",
            ErrorReason::Status => "status",
        }
    }
}

impl Metrics {
    /// The metrics; `omit_secret_labels` is `--metrics-omit-secret-labels`.
    pub fn new(omit_secret_labels: bool) -> Metrics {
        let mut registry = Registry::default();
        let build_info = Family::<Labels, Gauge>::default();
        build_info.get_or_create(&vec![("revision", env!("CARGO_PKG_VERSION").to_string())]).set(1);
        let histogram = || Histogram::new(DEFAULT_BUCKETS);
        let m = Metrics {
            registry: Registry::default(),
            omit_secret_labels,
            unseal_requests: Counter::default(),
            unseal_errors: Family::default(),
            condition_info: Family::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(histogram as fn() -> Histogram),
            ready: Gauge::default(),
            leader: Gauge::default(),
            keys: Gauge::default(),
            sealing_key_timestamp: Gauge::default(),
            key_objects: Family::default(),
            key_errors: Counter::default(),
            opened_by: Mutex::new(HashMap::new()),
        };
        let p = "sealed_secrets_controller_";
        registry.register(format!("{p}build_info"), "Build of this controller (label revision); always 1", build_info);
        registry.register(
            format!("{p}unseal_requests"),
            "SealedSecrets taken into reconcile",
            m.unseal_requests.clone(),
        );
        registry.register(
            format!("{p}unseal_errors"),
            "Failed reconciles, by reason (fetch, unseal, update, unmanaged, status) and namespace",
            m.unseal_errors.clone(),
        );
        registry.register(
            format!("{p}condition_info"),
            "The Synced condition of each SealedSecret: 1 true, -1 false, 0 unknown",
            m.condition_info.clone(),
        );
        registry.register(
            format!("{p}http_requests"),
            "Answered requests to /v1/cert.pem, /v1/verify and /v1/rotate, by path, status code and method",
            m.http_requests.clone(),
        );
        registry.register(
            format!("{p}http_request_duration_seconds"),
            "Time to answer /v1/* requests, in seconds, by path and method",
            m.http_duration.clone(),
        );
        let g = "gitseal_unsealer_";
        registry.register(
            format!("{g}ready"),
            "1 when the caches have synced and requests are served",
            m.ready.clone(),
        );
        registry.register(format!("{g}leader"), "1 on the replica that holds the leader Lease", m.leader.clone());
        registry.register(format!("{g}keys"), "Number of private keys in use", m.keys.clone());
        registry.register(
            format!("{g}sealing_key_timestamp_seconds"),
            "Ordering time (certificate NotBefore by default) of the newest key, seconds since the epoch",
            m.sealing_key_timestamp.clone(),
        );
        registry.register(
            format!("{g}key_objects"),
            "SealedSecrets whose last successful unseal used the key with this fingerprint",
            m.key_objects.clone(),
        );
        registry.register(format!("{g}key_errors"), "Key Secrets that could not be read", m.key_errors.clone());
        Metrics { registry, ..m }
    }

    /// The text exposition (OpenMetrics).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// One SealedSecret went into reconcile.
    pub fn unseal_request(&self) {
        self.unseal_requests.inc();
    }

    /// One unseal failed.
    pub fn unseal_error(&self, reason: ErrorReason, namespace: &str) {
        self.unseal_errors
            .get_or_create(&vec![("reason", reason.as_str().into()), ("namespace", namespace.into())])
            .inc();
    }

    fn condition_labels(&self, key: &Key, instance: &str) -> Labels {
        let mut labels = Vec::with_capacity(4);
        if !self.omit_secret_labels {
            labels.push(("namespace", key.namespace.clone()));
            labels.push(("name", key.name.clone()));
        }
        labels.push(("condition", "Synced".to_string()));
        labels.push(("ss_app_kubernetes_io_instance", instance.to_string()));
        labels
    }

    /// Sets the `Synced` condition gauge of one SealedSecret (`instance` is its
    /// `app.kubernetes.io/instance` label).
    pub fn condition(&self, key: &Key, instance: &str, synced: bool) {
        if self.omit_secret_labels {
            return;
        }
        self.condition_info.get_or_create(&self.condition_labels(key, instance)).set(if synced { 1 } else { -1 });
    }

    /// Forgets a deleted SealedSecret.
    pub fn forget(&self, key: &Key, instance: &str) {
        self.condition_info.remove(&self.condition_labels(key, instance));
        let old = self.opened_by.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        if let Some(fp) = old {
            self.key_objects.get_or_create(&vec![("fingerprint", fp)]).dec();
        }
    }

    /// Records which key opened a SealedSecret.
    pub fn opened_by(&self, key: &Key, fingerprint: &str) {
        let old = self.opened_by.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), fingerprint.to_string());
        if old.as_deref() == Some(fingerprint) {
            return;
        }
        if let Some(fp) = old {
            self.key_objects.get_or_create(&vec![("fingerprint", fp)]).dec();
        }
        self.key_objects.get_or_create(&vec![("fingerprint", fingerprint.to_string())]).inc();
    }

    /// One HTTP request was answered.
    pub fn http_request(&self, path: &str, method: &str, code: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&vec![("path", path.into()), ("code", code.to_string()), ("method", method.into())])
            .inc();
        self.http_duration.get_or_create(&vec![("path", path.into()), ("method", method.into())]).observe(seconds);
    }

    /// Readiness changed.
    pub fn set_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    /// Leadership changed.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// The key set changed.
    pub fn set_keys(&self, count: usize, newest: Option<i64>) {
        self.keys.set(count as i64);
        self.sealing_key_timestamp.set(newest.unwrap_or(0));
    }

    /// A key Secret could not be read.
    pub fn key_error(&self) {
        self.key_errors.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_and_labels() {
        let m = Metrics::new(false);
        let key = Key::new("prod", "db");
        m.unseal_request();
        m.unseal_error(ErrorReason::Unseal, "prod");
        m.condition(&key, "app1", false);
        m.http_request("/v1/cert.pem", "GET", 200, 0.001);
        m.opened_by(&key, "SHA256:abc");
        let text = m.encode();
        for line in [
            "sealed_secrets_controller_build_info{revision=\"",
            "sealed_secrets_controller_unseal_requests_total 1",
            "sealed_secrets_controller_unseal_errors_total{reason=\"unseal\",namespace=\"prod\"} 1",
            "sealed_secrets_controller_condition_info{namespace=\"prod\",name=\"db\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"app1\"} -1",
            "sealed_secrets_controller_http_requests_total{path=\"/v1/cert.pem\",code=\"200\",method=\"GET\"} 1",
            "sealed_secrets_controller_http_request_duration_seconds_bucket{le=\"0.005\",path=\"/v1/cert.pem\",method=\"GET\"} 1",
            "gitseal_unsealer_key_objects{fingerprint=\"SHA256:abc\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        m.forget(&key, "app1");
        let text = m.encode();
        assert!(!text.contains("name=\"db\""), "{text}");
        assert!(text.contains("gitseal_unsealer_key_objects{fingerprint=\"SHA256:abc\"} 0"), "{text}");
    }

    #[test]
    fn omitting_secret_labels_leaves_no_object_names() {
        let m = Metrics::new(true);
        m.condition(&Key::new("prod", "db"), "", true);
        let text = m.encode();
        assert!(!text.contains("prod") && !text.contains("\"db\""), "{text}");
    }
}
