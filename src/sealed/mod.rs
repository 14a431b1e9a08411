//! Bitnami Sealed Secrets manifests (`reference/sealed-secrets.md` §2, §4): sealing a Secret
//! into a SealedSecret as kubeseal does ([`seal`]), unsealing it exactly as the controller does
//! ([`unseal`]), with `template.data` rendered by a small Go-template engine ([`template`]),
//! offline checks ([`validate`]), re-encryption to a new certificate ([`reseal`]), and the
//! private-key files kubeseal's `--recovery-private-key` reads ([`keyfile`]).
//!
//! Manifests are plain [`Value`] trees (YAML or JSON, via `gitseal-formats`); the
//! cryptography is `gitseal_keys::sealing`.
//!
//! ```
//! use gitseal::keys::sealing::SealingKey;
//! use gitseal::sealed::manifest::{self, OutputFormat};
//! use gitseal::sealed::seal::{seal_secret, SealOptions};
//! use gitseal::sealed::unseal::{unseal, OwnerReference, UnsealOptions};
//! use gitseal::sealed::validate::{validate, ValidateOptions};
//!
//! let key = SealingKey::generate(2048)?; // the controller's are 4096 bits
//! let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: hunter2}\n";
//! let secret = manifest::parse_stream(secret)?.remove(0);
//! let opts = SealOptions { key: key.public_key(), scope: None, name: None, namespace: None, allow_empty_data: false };
//! let sealed = seal_secret(&secret, 0, &opts)?;
//! assert!(!manifest::emit(&[sealed.clone()], OutputFormat::Yaml)?.contains("hunter2"));
//!
//! // Offline checks against the certificate, then a full unseal with the private key.
//! let keys = [key];
//! let check = ValidateOptions { cert: Some(keys[0].public_key()), keys: &[], default_namespace: "default" };
//! assert!(validate(&sealed, 0, &check).is_empty());
//! let opts = UnsealOptions {
//!     keys: &keys,
//!     owner_reference: OwnerReference::WhenUid,
//!     default_namespace: "default",
//!     render_templates: true,
//! };
//! let opened = manifest::emit(&[unseal(&sealed, 0, &opts)?], OutputFormat::Yaml)?;
//! assert!(opened.contains("password: aHVudGVyMg=="), "{opened}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod keyfile;
pub mod manifest;
pub mod reseal;
pub mod seal;
pub mod template;
pub mod unseal;
pub mod validate;

use gitseal_formats::{Scalar, Value};
use gitseal_keys::sealing::Scope;

/// Items with their plaintext, by key (zeroized on drop).
pub type PlainItems = Vec<(String, zeroize::Zeroizing<Vec<u8>>)>;

/// `apiVersion` of SealedSecrets.
pub const API_VERSION: &str = "bitnami.com/v1alpha1";
/// `kind` of SealedSecrets.
pub const KIND: &str = "SealedSecret";
/// Scope annotation: bound to the namespace only.
pub const NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// Scope annotation: not bound.
pub const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// Template annotation: no owner reference on the unsealed Secret.
pub const SKIP_OWNER_REFERENCES: &str = "sealedsecrets.bitnami.com/skip-set-owner-references";

/// What went wrong with one object: which object, which item, why. Never a value.
#[derive(Debug, thiserror::Error)]
#[error("{object}{}: {message}", .path.as_ref().map(|p| format!(" at {p}")).unwrap_or_default())]
pub struct SealedError {
    /// The object, e.g. `SealedSecret myns/db` or `document 2`.
    pub object: String,
    /// The field or item, e.g. `spec.encryptedData.password`.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl SealedError {
    /// An error about a whole object.
    pub fn new(object: &str, message: impl Into<String>) -> SealedError {
        SealedError { object: object.to_string(), path: None, message: message.into() }
    }

    /// An error about one field or item of an object.
    pub fn at(object: &str, path: impl Into<String>, message: impl Into<String>) -> SealedError {
        SealedError { object: object.to_string(), path: Some(path.into()), message: message.into() }
    }
}

/// The value at a dotted path of mapping keys.
pub fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// A string field; absent or null is `None`, anything else that is not a string an error.
pub fn str_field<'a>(v: &'a Value, path: &[&str], object: &str) -> Result<Option<&'a str>, SealedError> {
    match field(v, path) {
        None | Some(Value::Scalar(Scalar::Null)) => Ok(None),
        Some(x) => x.as_str().map(Some).ok_or_else(|| SealedError::at(object, path.join("."), "must be a string")),
    }
}

/// A `map[string]string` field (labels, data, encryptedData...): absent or null is empty.
pub fn str_map<'a>(v: &'a Value, path: &[&str], object: &str) -> Result<Vec<(&'a str, &'a str)>, SealedError> {
    match field(v, path) {
        None | Some(Value::Scalar(Scalar::Null)) => Ok(Vec::new()),
        Some(Value::Map(items)) => items
            .iter()
            .map(|(k, x)| match x.as_str() {
                Some(s) => Ok((k.as_str(), s)),
                None => Err(SealedError::at(object, format!("{}.{k}", path.join(".")), "must be a string")),
            })
            .collect(),
        Some(_) => Err(SealedError::at(object, path.join("."), "must be a mapping of strings")),
    }
}

/// Sets `key` in a mapping value (replacing it, or appending it); a non-mapping becomes one.
pub fn set(v: &mut Value, key: &str, value: Value) {
    if !matches!(v, Value::Map(_)) {
        *v = Value::Map(Vec::new());
    }
    if let Value::Map(items) = v {
        match items.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => items.push((key.to_string(), value)),
        }
    }
}

/// Removes `key` from a mapping value.
pub fn remove(v: &mut Value, key: &str) -> Option<Value> {
    match v {
        Value::Map(items) => items.iter().position(|(k, _)| k == key).map(|i| items.remove(i).1),
        _ => None,
    }
}

/// The mapping under `key`, created when absent (or not a mapping).
pub fn map_mut<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    if !matches!(v.get(key), Some(Value::Map(_))) {
        set(v, key, Value::Map(Vec::new()));
    }
    match v {
        Value::Map(items) => &mut items.iter_mut().find(|(k, _)| k == key).expect("just set").1,
        _ => unreachable!("set makes a mapping"),
    }
}

/// A mapping of strings as a value, keys sorted.
pub fn string_map<'a>(items: impl IntoIterator<Item = (&'a str, String)>) -> Value {
    let mut v: Vec<(String, Value)> = items.into_iter().map(|(k, s)| (k.to_string(), Value::str(s))).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Map(v)
}

/// The scope an object's annotations ask for (§1.2): the value must be exactly `"true"`, and
/// cluster-wide wins over namespace-wide.
pub fn scope_of(metadata: Option<&Value>) -> Scope {
    let is_true = |key| metadata.and_then(|m| field(m, &["annotations", key])).and_then(Value::as_str) == Some("true");
    if is_true(CLUSTER_WIDE) {
        Scope::ClusterWide
    } else if is_true(NAMESPACE_WIDE) {
        Scope::NamespaceWide
    } else {
        Scope::Strict
    }
}

/// How an object is named in messages: `Kind namespace/name`, or `document N` when unnamed.
pub fn describe(v: &Value, index: usize) -> String {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("object");
    let name = field(v, &["metadata", "name"]).and_then(Value::as_str);
    let ns = field(v, &["metadata", "namespace"]).and_then(Value::as_str);
    match (ns, name) {
        (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
        (None, Some(name)) => format!("{kind} {name}"),
        _ => format!("{kind} (document {})", index + 1),
    }
}

/// Standard base64 with padding, as Go's `StdEncoding`; `\r` and `\n` inside are ignored.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    base64::engine::general_purpose::STANDARD.decode(cleaned).ok()
}

/// Standard base64 with padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests;
