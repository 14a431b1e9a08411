//! Unsealing a SealedSecret into a Secret exactly as the controller's `Unseal` does
//! (`reference/sealed-secrets.md` §2): the template's metadata with name and namespace forced,
//! `type`, `immutable`, an owner reference, all-or-nothing decryption of `encryptedData` (the
//! error lists every failing item), `template.data` rendered over the decrypted items, and the
//! legacy v1 `spec.data` blob. The label comes from the SealedSecret's own top-level metadata.

use std::collections::BTreeMap;

use gitseal_formats::{Format, Scalar, Value};
use gitseal_keys::sealing::{self, SealingKey};
use zeroize::Zeroizing;

use super::{describe, field, set, str_field, str_map, SealedError, SKIP_OWNER_REFERENCES};

/// When the output Secret gets an owner reference to its SealedSecret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerReference {
    /// Always, as the controller does (with the SealedSecret's `uid`, empty when it has none).
    Always,
    /// Only when the SealedSecret has a `metadata.uid` (a copy taken from a cluster); offline
    /// output stays applicable otherwise.
    WhenUid,
}

/// Options of [`unseal`].
pub struct UnsealOptions<'a> {
    /// The private keys to try, all of them for every item.
    pub keys: &'a [SealingKey],
    /// Owner reference policy.
    pub owner_reference: OwnerReference,
    /// Namespace to assume when the SealedSecret has none (kubeseal: the kubeconfig's, else
    /// `default`).
    pub default_namespace: &'a str,
    /// Render `spec.template.data` (the controller does; `/v1/verify`-style checks should not).
    pub render_templates: bool,
}

/// Unseals the SealedSecret `sealed` (`index` is its position in the stream, for messages).
pub fn unseal(sealed: &Value, index: usize, opts: &UnsealOptions<'_>) -> Result<Value, SealedError> {
    unseal_reporting(sealed, index, opts).map(|(secret, _)| secret)
}

/// [`unseal`], also returning which of `opts.keys` opened the items (indexes, sorted, without
/// repeats; empty when there was nothing to open).
pub fn unseal_reporting(
    sealed: &Value,
    index: usize,
    opts: &UnsealOptions<'_>,
) -> Result<(Value, Vec<usize>), SealedError> {
    let object = describe(sealed, index);
    super::seal::check_kind(sealed, &object, super::API_VERSION, super::KIND)?;
    let (name, namespace) = identity(sealed, &object, opts.default_namespace)?;
    let label = super::scope_of(sealed.get("metadata")).label(&namespace, &name);
    let legacy = field(sealed, &["spec", "data"]).filter(|v| !matches!(v, Value::Scalar(Scalar::Null)));
    let has_encrypted = !str_map(sealed, &["spec", "encryptedData"], &object)?.is_empty();
    let (mut secret, used) = match legacy {
        Some(_) if has_encrypted => {
            return Err(SealedError::new(&object, "has both spec.data (legacy) and spec.encryptedData"))
        }
        Some(v) => legacy_secret(v, &label, opts.keys, &object)?,
        None => templated_secret(sealed, &label, opts, &object)?,
    };
    let meta = super::map_mut(&mut secret, "metadata");
    set(meta, "name", Value::str(name.clone()));
    if !namespace.is_empty() {
        set(meta, "namespace", Value::str(namespace));
    }
    if wants_owner_reference(sealed, opts.owner_reference) {
        let uid = field(sealed, &["metadata", "uid"]).and_then(Value::as_str).unwrap_or("");
        set(meta, "ownerReferences", owner_reference(&name, uid));
    }
    Ok((secret, used))
}

fn identity(sealed: &Value, object: &str, default_namespace: &str) -> Result<(String, String), SealedError> {
    let name = str_field(sealed, &["metadata", "name"], object)?.unwrap_or("");
    if name.is_empty() {
        return Err(SealedError::at(object, "metadata.name", "is missing"));
    }
    let ns = str_field(sealed, &["metadata", "namespace"], object)?.filter(|n| !n.is_empty());
    Ok((name.to_string(), ns.unwrap_or(default_namespace).to_string()))
}

fn wants_owner_reference(sealed: &Value, policy: OwnerReference) -> bool {
    let skip = field(sealed, &["spec", "template", "metadata", "annotations", SKIP_OWNER_REFERENCES])
        .and_then(Value::as_str)
        == Some("true");
    let has_uid = field(sealed, &["metadata", "uid"]).and_then(Value::as_str).is_some_and(|u| !u.is_empty());
    !skip && (policy == OwnerReference::Always || has_uid)
}

fn owner_reference(name: &str, uid: &str) -> Value {
    Value::Seq(vec![Value::Map(vec![
        ("apiVersion".into(), Value::str(super::API_VERSION)),
        ("controller".into(), Value::Scalar(Scalar::Bool(true))),
        ("kind".into(), Value::str(super::KIND)),
        ("name".into(), Value::str(name)),
        ("uid".into(), Value::str(uid)),
    ])])
}

/// The v2 path: template metadata, type, immutable, decrypted items, rendered templates.
fn templated_secret(
    sealed: &Value,
    label: &[u8],
    opts: &UnsealOptions<'_>,
    object: &str,
) -> Result<(Value, Vec<usize>), SealedError> {
    let (items, used) = decrypt_items_reporting(sealed, label, opts.keys, object)?;
    let mut data: BTreeMap<String, Zeroizing<Vec<u8>>> = items.into_iter().collect();
    if opts.render_templates {
        let (templates, omitted) = template_data(sealed, object)?;
        // Templates see the decrypted items and the other plaintext templates; an encrypted
        // item wins over a template of the same name (v0.37, #1940).
        let mut context: BTreeMap<String, Zeroizing<Vec<u8>>> =
            templates.iter().map(|(k, t)| (k.to_string(), Zeroizing::new(t.as_bytes().to_vec()))).collect();
        context.extend(data.iter().map(|(k, v)| (k.clone(), v.clone())));
        let wanted: Vec<(&str, &str)> = templates.into_iter().filter(|(k, _)| !data.contains_key(*k)).collect();
        let rendered = super::template::render_all(&wanted, &context)
            .map_err(|(key, e)| SealedError::at(object, format!("spec.template.data.{key}"), e))?;
        data.extend(rendered);
        // A template key set to null leaves that item out of the Secret (v0.40, #1871).
        for key in omitted {
            data.remove(key);
        }
    }
    let template = field(sealed, &["spec", "template"]);
    let mut secret = Value::Map(vec![
        ("apiVersion".into(), Value::str("v1")),
        ("kind".into(), Value::str("Secret")),
        ("metadata".into(), template.and_then(|t| t.get("metadata")).cloned().unwrap_or(Value::Map(Vec::new()))),
    ]);
    if !matches!(secret.get("metadata"), Some(Value::Map(_))) {
        set(&mut secret, "metadata", Value::Map(Vec::new()));
    }
    for f in ["type", "immutable"] {
        if let Some(v) = template.and_then(|t| t.get(f)).filter(|v| !matches!(v, Value::Scalar(Scalar::Null))) {
            set(&mut secret, f, v.clone());
        }
    }
    if !data.is_empty() {
        set(&mut secret, "data", super::string_map(data.iter().map(|(k, v)| (k.as_str(), super::encode_base64(v)))));
    }
    Ok((secret, used))
}

/// Templates by key, and the keys set to null (to leave out).
type TemplateData<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// `spec.template.data`: the templates, and the keys set to null (to leave out).
fn template_data<'a>(sealed: &'a Value, object: &str) -> Result<TemplateData<'a>, SealedError> {
    let (mut templates, mut omitted) = (Vec::new(), Vec::new());
    match field(sealed, &["spec", "template", "data"]) {
        None | Some(Value::Scalar(Scalar::Null)) => {}
        Some(Value::Map(items)) => {
            for (k, v) in items {
                match v {
                    Value::Scalar(Scalar::Null) => omitted.push(k.as_str()),
                    _ => match v.as_str() {
                        Some(t) => templates.push((k.as_str(), t)),
                        None => {
                            return Err(SealedError::at(object, format!("spec.template.data.{k}"), "must be a string"))
                        }
                    },
                }
            }
        }
        Some(_) => return Err(SealedError::at(object, "spec.template.data", "must be a mapping of strings")),
    }
    Ok((templates, omitted))
}

/// Every item of `spec.encryptedData`, or an error listing every item that failed.
pub fn decrypt_items(
    sealed: &Value,
    label: &[u8],
    keys: &[SealingKey],
    object: &str,
) -> Result<super::PlainItems, SealedError> {
    decrypt_items_reporting(sealed, label, keys, object).map(|(items, _)| items)
}

/// [`decrypt_items`], also returning which of `keys` opened them (indexes, sorted, no repeats).
pub fn decrypt_items_reporting(
    sealed: &Value,
    label: &[u8],
    keys: &[SealingKey],
    object: &str,
) -> Result<(super::PlainItems, Vec<usize>), SealedError> {
    let mut out = Vec::new();
    let mut used = Vec::new();
    let mut failed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in str_map(sealed, &["spec", "encryptedData"], object)? {
        let opened = super::decode_base64(value)
            .ok_or_else(|| "is not valid base64".to_string())
            .and_then(|blob| sealing::unseal_reporting(keys, label, &blob).map_err(|e| e.to_string()));
        match opened {
            Ok((i, plain)) => {
                used.push(i);
                out.push((key.to_string(), plain));
            }
            Err(why) => failed.entry(why).or_default().push(key.to_string()),
        }
    }
    if failed.is_empty() {
        used.sort_unstable();
        used.dedup();
        return Ok((out, used));
    }
    let parts: Vec<String> = failed.into_iter().map(|(why, keys)| format!("{why} ({})", keys.join(", "))).collect();
    Err(SealedError::at(object, "spec.encryptedData", parts.join("; ")))
}

/// The legacy v1 format: the whole Secret as JSON, sealed once (§1.5). The template is ignored.
fn legacy_secret(
    blob: &Value,
    label: &[u8],
    keys: &[SealingKey],
    object: &str,
) -> Result<(Value, Vec<usize>), SealedError> {
    let at = |m: String| SealedError::at(object, "spec.data", m);
    let b64 = blob.as_str().ok_or_else(|| at("must be a base64 string".into()))?;
    let raw = super::decode_base64(b64).ok_or_else(|| at("is not valid base64".into()))?;
    let (used, plain) = sealing::unseal_reporting(keys, label, &raw).map_err(|e| at(e.to_string()))?;
    let text = Zeroizing::new(String::from_utf8(plain.to_vec()).map_err(|_| at("does not hold a JSON Secret".into()))?);
    let doc = gitseal_formats::parse(Format::Json, &text).map_err(|_| at("does not hold a JSON Secret".into()))?;
    let mut secret = doc.roots.first().map(|r| Value::from_node(&r.node)).ok_or_else(|| at("is empty".into()))?;
    if let Some(Value::Map(string_data)) = super::remove(&mut secret, "stringData") {
        let data = super::map_mut(&mut secret, "data");
        for (k, v) in string_data {
            let s = v.as_str().ok_or_else(|| at(format!("stringData.{k} is not a string")))?;
            set(data, &k, Value::str(super::encode_base64(s.as_bytes())));
        }
    }
    set(&mut secret, "apiVersion", Value::str("v1"));
    set(&mut secret, "kind", Value::str("Secret"));
    Ok((secret, vec![used]))
}
