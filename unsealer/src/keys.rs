//! The key registry: which private keys the controller has, which one seals (the newest), and
//! how key Secrets are read and made. Key Secrets keep the upstream layout (type
//! `kubernetes.io/tls`, `tls.key` PKCS#1 or PKCS#8, `tls.crt`, label
//! `sealedsecrets.bitnami.com/sealed-secrets-key=active`, or the legacy Secret named exactly
//! `--key-prefix`), so a cluster moves between the Bitnami controller and this one with its
//! keys as they are. Keys are never deleted.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, UNIX_EPOCH};

use gitseal::keys::sealing::{SealingCert, SealingKey};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;

use crate::config::{Config, KeyOrder};
use crate::resource::KEY_LABEL;

/// What is known about one key besides the private key itself.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// The key Secret's name.
    pub secret: String,
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The certificate (served by `/v1/cert.pem` when this is the newest key).
    pub cert: SealingCert,
    /// Ordering time (cert NotBefore or Secret creation), seconds since the epoch.
    pub order: i64,
}

/// An immutable snapshot of the keys, newest first; `keys[i]` goes with `info[i]`.
#[derive(Default)]
pub struct KeySet {
    /// Private keys.
    pub keys: Vec<SealingKey>,
    /// Their details.
    pub info: Vec<KeyInfo>,
}

impl KeySet {
    /// The sealing key: the one with the newest ordering time.
    pub fn latest(&self) -> Option<(&SealingKey, &KeyInfo)> {
        self.keys.first().zip(self.info.first())
    }

    /// The index of the key with this fingerprint.
    pub fn position(&self, fingerprint: &str) -> Option<usize> {
        self.info.iter().position(|i| i.fingerprint == fingerprint)
    }

    /// Every fingerprint, newest first.
    pub fn fingerprints(&self) -> Vec<&str> {
        self.info.iter().map(|i| i.fingerprint.as_str()).collect()
    }
}

/// The keys of every key Secret, with a snapshot rebuilt on each change.
#[derive(Default)]
pub struct Registry {
    by_secret: RwLock<BTreeMap<String, Vec<(SealingKey, KeyInfo)>>>,
    current: RwLock<Arc<KeySet>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Arc<Registry> {
        Arc::new(Registry::default())
    }

    /// The current keys.
    pub fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Adds or replaces the keys of the key Secret `name`. Returns whether anything changed.
    pub fn upsert(&self, name: &str, keys: Vec<(SealingKey, KeyInfo)>) -> bool {
        let mut by = self.by_secret.write().unwrap_or_else(|e| e.into_inner());
        let same = by.get(name).is_some_and(|old| {
            old.len() == keys.len()
                && old.iter().zip(&keys).all(|(a, b)| a.1.fingerprint == b.1.fingerprint && a.1.order == b.1.order)
        });
        if same {
            return false;
        }
        by.insert(name.to_string(), keys);
        self.rebuild(&by);
        true
    }

    /// Drops the keys of the key Secret `name` (deleted, or relabelled away from `active`).
    /// Returns whether it had any.
    pub fn remove(&self, name: &str) -> bool {
        let mut by = self.by_secret.write().unwrap_or_else(|e| e.into_inner());
        if by.remove(name).is_none() {
            return false;
        }
        self.rebuild(&by);
        true
    }

    /// Names of the key Secrets in use.
    pub fn secrets(&self) -> Vec<String> {
        self.by_secret.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }

    fn rebuild(&self, by: &BTreeMap<String, Vec<(SealingKey, KeyInfo)>>) {
        let mut all: Vec<&(SealingKey, KeyInfo)> = by.values().flatten().collect();
        // Newest first; ties broken by Secret name so every replica picks the same key.
        all.sort_by(|a, b| b.1.order.cmp(&a.1.order).then_with(|| b.1.secret.cmp(&a.1.secret)));
        let mut set = KeySet::default();
        for (key, info) in all {
            if set.position(&info.fingerprint).is_none() {
                set.keys.push(key.clone());
                set.info.push(info.clone());
            }
        }
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
    }
}

/// Whether a Secret is a key Secret this controller uses: labelled `active`, or the legacy
/// Secret named exactly like the key prefix.
pub fn is_active_key_secret(secret: &Secret, prefix: &str) -> bool {
    let labelled = secret.metadata.labels.as_ref().and_then(|l| l.get(KEY_LABEL)).is_some_and(|v| v == "active");
    labelled || secret.metadata.name.as_deref() == Some(prefix)
}

/// The keys of a key Secret. Errors say what is wrong without any key material.
pub fn parse_key_secret(secret: &Secret, order: KeyOrder) -> Result<Vec<(SealingKey, KeyInfo)>, String> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let field = |f: &str| -> Result<zeroize::Zeroizing<String>, String> {
        let bytes = secret.data.as_ref().and_then(|d| d.get(f)).ok_or_else(|| format!("has no data.{f}"))?;
        String::from_utf8(bytes.0.clone()).map(zeroize::Zeroizing::new).map_err(|_| format!("data.{f} is not PEM text"))
    };
    let keys = SealingKey::from_pem(&field("tls.key")?).map_err(|e| format!("data.tls.key: {e}"))?;
    let cert = SealingCert::from_pem(&field("tls.crt")?).map_err(|e| format!("data.tls.crt: {e}"))?;
    let created = secret.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second());
    let mut out = Vec::new();
    for key in keys {
        if key.public_key() != cert.public_key() {
            return Err("data.tls.crt does not hold the public key of data.tls.key".into());
        }
        let order = match order {
            KeyOrder::CertNotBefore => cert.not_before() as i64,
            KeyOrder::SecretCreationTimestamp => created.unwrap_or(cert.not_before() as i64),
        };
        let fingerprint = key.public_key().fingerprint();
        out.push((key, KeyInfo { secret: name.clone(), fingerprint, cert: cert.clone(), order }));
    }
    Ok(out)
}

/// Whether a new key is due: there is none, or the newest is older than `--key-cutoff-time`.
pub fn key_needed(set: &KeySet, cutoff: Option<i64>) -> bool {
    match set.latest() {
        None => true,
        Some((_, info)) => cutoff.is_some_and(|c| info.order < c),
    }
}

/// How long until the next renewal: `period` after the newest key (now when overdue);
/// `None` when renewal is off.
pub fn next_renewal(set: &KeySet, period: Duration, now: i64) -> Option<Duration> {
    if period.is_zero() {
        return None;
    }
    let newest = set.latest().map(|(_, i)| i.order).unwrap_or(i64::MIN / 2);
    let due = newest.saturating_add(period.as_secs() as i64);
    Some(Duration::from_secs(due.saturating_sub(now).max(0) as u64))
}

/// The characters the API server uses for `generateName` suffixes.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Makes a new key and its key Secret in `namespace`, as the upstream controller does:
/// `generateName: <prefix>` (the name is chosen here in the same form, so that the Secret can be
/// referred to before the server answers), type `kubernetes.io/tls`, PKCS#1 `tls.key`, a
/// self-signed `tls.crt`, the `active` label plus `--privatekey-labels`, and
/// `--privatekey-annotations`. Slow (RSA key generation): call it on a blocking thread.
pub fn new_key_secret(cfg: &Config, namespace: &str) -> Result<(SealingKey, Secret), String> {
    let key = SealingKey::generate(cfg.key_size as usize).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now();
    // Whole seconds: certificates and Secret timestamps have no finer precision.
    let now = UNIX_EPOCH + Duration::from_secs(now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    let cert = SealingCert::self_signed(&key, &cfg.my_cn, now, cfg.key_ttl).map_err(|e| e.to_string())?;
    let pem = key.to_pkcs1_pem().map_err(|e| e.to_string())?;
    let suffix: String = (0..5).map(|_| NAME_ALPHABET[rand::random::<usize>() % NAME_ALPHABET.len()] as char).collect();
    let mut labels: BTreeMap<String, String> = cfg.privatekey_labels.0.iter().cloned().collect();
    labels.insert(KEY_LABEL.to_string(), "active".to_string());
    let annotations: BTreeMap<String, String> = cfg.privatekey_annotations.0.iter().cloned().collect();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(format!("{}{suffix}", cfg.key_prefix)),
            generate_name: Some(cfg.key_prefix.clone()),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".to_string()),
        data: Some(BTreeMap::from([
            ("tls.crt".to_string(), ByteString(cert.to_pem().into_bytes())),
            ("tls.key".to_string(), ByteString(pem.as_bytes().to_vec())),
        ])),
        ..Secret::default()
    };
    Ok((key, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cfg(args: &[&str]) -> Config {
        Config::parse_from(std::iter::once("gitseal-unsealer").chain(args.iter().copied()))
    }

    #[test]
    fn new_key_secrets_have_the_upstream_layout_and_read_back() {
        let c = cfg(&["--key-size=2048", "--privatekey-labels=team=infra", "--privatekey-annotations=note=x"]);
        let (key, secret) = new_key_secret(&c, "kube-system").unwrap();
        let name = secret.metadata.name.clone().unwrap();
        assert!(name.starts_with("sealed-secrets-key") && name.len() == "sealed-secrets-key".len() + 5, "{name}");
        assert_eq!(secret.metadata.generate_name.as_deref(), Some("sealed-secrets-key"));
        assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
        let labels = secret.metadata.labels.clone().unwrap();
        assert_eq!(labels.get(KEY_LABEL).map(String::as_str), Some("active"));
        assert_eq!(labels.get("team").map(String::as_str), Some("infra"));
        let data = secret.data.clone().unwrap();
        assert!(String::from_utf8_lossy(&data["tls.key"].0).starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(is_active_key_secret(&secret, "sealed-secrets-key"));
        let parsed = parse_key_secret(&secret, KeyOrder::CertNotBefore).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].1.fingerprint, key.public_key().fingerprint());
        assert!((parsed[0].1.order - crate::duration::now_secs()).abs() < 120);
    }

    #[test]
    fn malformed_key_secrets_are_refused_with_a_reason() {
        let c = cfg(&["--key-size=2048"]);
        let (_, good) = new_key_secret(&c, "kube-system").unwrap();
        let (_, other) = new_key_secret(&c, "kube-system").unwrap();
        let with = |f: &str, v: Option<&[u8]>| {
            let mut s = good.clone();
            let data = s.data.as_mut().unwrap();
            match v {
                Some(v) => data.insert(f.to_string(), ByteString(v.to_vec())),
                None => data.remove(f),
            };
            s
        };
        let mismatched = with("tls.crt", Some(&other.data.as_ref().unwrap()["tls.crt"].0));
        for (secret, why) in [
            (with("tls.key", None), "has no data.tls.key"),
            (with("tls.crt", None), "has no data.tls.crt"),
            (with("tls.key", Some(b"not pem")), "data.tls.key"),
            (with("tls.crt", Some(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), "data.tls.crt"),
            (with("tls.key", Some(&[0xff, 0xfe])), "is not PEM text"),
            (mismatched, "does not hold the public key"),
        ] {
            let err = parse_key_secret(&secret, KeyOrder::CertNotBefore).unwrap_err();
            assert!(err.contains(why), "{err}");
            assert!(!err.contains("-----BEGIN") && !err.contains("MII"), "no key material in {err}");
        }
    }

    #[test]
    fn the_newest_key_seals_and_renewal_is_scheduled_from_it() {
        let c = cfg(&["--key-size=2048"]);
        let reg = Registry::new();
        assert!(key_needed(&reg.snapshot(), None));
        let (_, a) = new_key_secret(&c, "ks").unwrap();
        let (_, b) = new_key_secret(&c, "ks").unwrap();
        let mut pa = parse_key_secret(&a, KeyOrder::CertNotBefore).unwrap();
        let mut pb = parse_key_secret(&b, KeyOrder::CertNotBefore).unwrap();
        pa[0].1.order = 1_000;
        pb[0].1.order = 2_000;
        let (fa, fb) = (pa[0].1.fingerprint.clone(), pb[0].1.fingerprint.clone());
        assert!(reg.upsert("a", pa.clone()));
        assert!(!reg.upsert("a", pa), "same keys: no change");
        assert!(reg.upsert("b", pb));
        let set = reg.snapshot();
        assert_eq!(set.latest().unwrap().1.fingerprint, fb);
        assert_eq!(set.fingerprints(), [fb.as_str(), fa.as_str()]);
        assert!(!key_needed(&set, None));
        assert!(!key_needed(&set, Some(1_500)));
        assert!(key_needed(&set, Some(2_500)));
        assert_eq!(next_renewal(&set, Duration::from_secs(500), 2_100), Some(Duration::from_secs(400)));
        assert_eq!(next_renewal(&set, Duration::from_secs(500), 9_999), Some(Duration::ZERO));
        assert_eq!(next_renewal(&set, Duration::ZERO, 2_100), None);
        assert!(reg.remove("b"));
        assert!(!reg.remove("b"));
        assert_eq!(reg.snapshot().latest().unwrap().1.fingerprint, fa);
    }
}
