//! Sealing a Secret into a SealedSecret, as kubeseal's `Seal` does (`reference/sealed-secrets.md`
//! §4): `data` and `stringData` (stringData wins), `--name` override, `--scope`, the default
//! namespace, server fields stripped, the whole input metadata copied into the template, and
//! the top-level metadata holding only name, namespace and scope annotations. Nothing else is
//! added: no `creationTimestamp: null`, no `type: Opaque`.

use gitseal_formats::{Scalar, Value};
use gitseal_keys::sealing::{self, PublicKey, Scope};
use zeroize::Zeroizing;

use super::{describe, map_mut, remove, set, str_field, str_map, SealedError, CLUSTER_WIDE, NAMESPACE_WIDE};

/// Metadata the API server fills in; kubeseal strips it.
const SERVER_FIELDS: &[&str] = &[
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
];

/// Annotations kubectl and kubecfg add; kubeseal strips them.
const LAST_APPLIED: &[&str] =
    &["kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration"];

/// kubeseal's options for sealing Secret manifests.
pub struct SealOptions<'a> {
    /// The sealing key (from the certificate).
    pub key: &'a PublicKey,
    /// `--scope`; `None` or `Some(Strict)` keeps the input's scope annotations (kubeseal quirk:
    /// an explicit strict cannot override them).
    pub scope: Option<Scope>,
    /// `--name`: overrides the Secret's name.
    pub name: Option<&'a str>,
    /// `--namespace`: used when the Secret has none; an error when it has a different one.
    pub namespace: Option<&'a str>,
    /// `--allow-empty-data`.
    pub allow_empty_data: bool,
}

/// Namespace kubeseal uses without a kubeconfig namespace.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Seals one Secret (`index` is its position in the stream, for messages).
pub fn seal_secret(secret: &Value, index: usize, opts: &SealOptions<'_>) -> Result<Value, SealedError> {
    let object = describe(secret, index);
    check_kind(secret, &object, "v1", "Secret")?;
    let plain = plaintext_items(secret, &object)?;
    if plain.is_empty() && !opts.allow_empty_data {
        return Err(SealedError::new(&object, "has no data or stringData; pass --allow-empty-data to seal it anyway"));
    }
    let mut meta = secret.get("metadata").cloned().unwrap_or(Value::Map(Vec::new()));
    if let Some(name) = opts.name {
        set(&mut meta, "name", Value::str(name));
    }
    let name = str_field(&meta, &["name"], &object)?.unwrap_or("").to_string();
    if name.is_empty() {
        return Err(SealedError::at(&object, "metadata.name", "is missing; set it or pass --name"));
    }
    if let Some(scope) = opts.scope.filter(|s| *s != Scope::Strict) {
        set_scope_annotations(&mut meta, scope);
    }
    let scope = super::scope_of(Some(&meta));
    let namespace = resolve_namespace(&mut meta, scope, opts.namespace, &object)?;
    strip_server_fields(&mut meta);
    let label = scope.label(&namespace, &name);
    let mut encrypted = Vec::with_capacity(plain.len());
    for (key, value) in &plain {
        let blob = sealing::seal(opts.key, &label, value)
            .map_err(|e| SealedError::at(&object, format!("data.{key}"), e.to_string()))?;
        encrypted.push((key.as_str(), super::encode_base64(&blob)));
    }
    Ok(sealed_secret(secret, meta, &name, &namespace, scope, encrypted))
}

/// Fails unless `v` is `apiVersion`/`kind` (an absent `apiVersion` is accepted).
pub(crate) fn check_kind(v: &Value, object: &str, api_version: &str, kind: &str) -> Result<(), SealedError> {
    match str_field(v, &["kind"], object)? {
        Some(k) if k == kind => {}
        Some(k) => return Err(SealedError::at(object, "kind", format!("is {k:?}, expected {kind}"))),
        None => return Err(SealedError::at(object, "kind", format!("is missing, expected {kind}"))),
    }
    match str_field(v, &["apiVersion"], object)? {
        Some(a) if a != api_version => {
            Err(SealedError::at(object, "apiVersion", format!("is {a:?}, expected {api_version}")))
        }
        _ => Ok(()),
    }
}

/// The plaintext of every item: `data` (base64) overlaid by `stringData`, sorted by key.
fn plaintext_items(secret: &Value, object: &str) -> Result<super::PlainItems, SealedError> {
    let mut items: std::collections::BTreeMap<String, Zeroizing<Vec<u8>>> = Default::default();
    for (k, v) in str_map(secret, &["data"], object)? {
        let bytes = super::decode_base64(v)
            .ok_or_else(|| SealedError::at(object, format!("data.{k}"), "is not valid base64"))?;
        items.insert(k.to_string(), Zeroizing::new(bytes));
    }
    for (k, v) in str_map(secret, &["stringData"], object)? {
        items.insert(k.to_string(), Zeroizing::new(v.as_bytes().to_vec()));
    }
    Ok(items.into_iter().collect())
}

/// kubeseal `UpdateScopeAnnotations`: drop both scope annotations, then set the one for `scope`.
pub(crate) fn set_scope_annotations(meta: &mut Value, scope: Scope) {
    let annotations = map_mut(meta, "annotations");
    remove(annotations, NAMESPACE_WIDE);
    remove(annotations, CLUSTER_WIDE);
    match scope {
        Scope::NamespaceWide => set(annotations, NAMESPACE_WIDE, Value::str("true")),
        Scope::ClusterWide => set(annotations, CLUSTER_WIDE, Value::str("true")),
        Scope::Strict => {}
    }
    if matches!(annotations, Value::Map(m) if m.is_empty()) {
        remove(meta, "annotations");
    }
}

fn resolve_namespace(meta: &mut Value, scope: Scope, flag: Option<&str>, object: &str) -> Result<String, SealedError> {
    let current = str_field(meta, &["namespace"], object)?.unwrap_or("").to_string();
    match flag.filter(|f| !f.is_empty()) {
        Some(f) if !current.is_empty() && f != current => {
            Err(SealedError::at(object, "metadata.namespace", format!("is {current:?} but --namespace says {f:?}")))
        }
        _ if !current.is_empty() || scope == Scope::ClusterWide => Ok(current),
        f => {
            let ns = f.unwrap_or(DEFAULT_NAMESPACE).to_string();
            set(meta, "namespace", Value::str(ns.clone()));
            Ok(ns)
        }
    }
}

fn strip_server_fields(meta: &mut Value) {
    for f in SERVER_FIELDS.iter().chain(&["ownerReferences"]) {
        remove(meta, f);
    }
    if let Some(annotations) = match meta {
        Value::Map(items) => items.iter_mut().find(|(k, _)| k == "annotations").map(|(_, v)| v),
        _ => None,
    } {
        for a in LAST_APPLIED {
            remove(annotations, a);
        }
        if matches!(annotations, Value::Map(m) if m.is_empty()) {
            remove(meta, "annotations");
        }
    }
}

fn sealed_secret(
    secret: &Value,
    template_meta: Value,
    name: &str,
    namespace: &str,
    scope: Scope,
    encrypted: Vec<(&str, String)>,
) -> Value {
    let mut top = Value::Map(vec![("name".into(), Value::str(name))]);
    if !namespace.is_empty() {
        set(&mut top, "namespace", Value::str(namespace));
    }
    if scope != Scope::Strict {
        set_scope_annotations(&mut top, scope);
    }
    let mut template = Value::Map(Vec::new());
    if !matches!(&template_meta, Value::Map(m) if m.is_empty()) {
        set(&mut template, "metadata", template_meta);
    }
    for f in ["type", "immutable"] {
        if let Some(v) = secret.get(f).filter(|v| !matches!(v, Value::Scalar(Scalar::Null))) {
            set(&mut template, f, v.clone());
        }
    }
    let mut spec = Value::Map(vec![("encryptedData".into(), super::string_map(encrypted))]);
    set(&mut spec, "template", template);
    Value::Map(vec![
        ("apiVersion".into(), Value::str(super::API_VERSION)),
        ("kind".into(), Value::str(super::KIND)),
        ("metadata".into(), top),
        ("spec".into(), spec),
    ])
}

/// Seals one raw value (kubeseal `--raw`): the label needs a namespace unless cluster-wide,
/// and a name when strict.
pub fn seal_raw(
    key: &PublicKey,
    scope: Scope,
    namespace: Option<&str>,
    name: Option<&str>,
    value: &[u8],
) -> Result<String, String> {
    let namespace = namespace.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_NAMESPACE);
    let name = match (scope, name.filter(|n| !n.is_empty())) {
        (Scope::Strict, None) => return Err("--raw with strict scope needs --name (and --namespace)".into()),
        (_, n) => n.unwrap_or(""),
    };
    let blob = sealing::seal(key, &scope.label(namespace, name), value).map_err(|e| e.to_string())?;
    Ok(super::encode_base64(&blob))
}
