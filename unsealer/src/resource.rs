//! The SealedSecret resource as the Kubernetes client sees it: metadata typed, `spec` kept as
//! JSON (the library reads it), and the status this controller writes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// API group of SealedSecrets.
pub const GROUP: &str = "bitnami.com";
/// API version of SealedSecrets.
pub const VERSION: &str = "v1alpha1";
/// Kind.
pub const KIND: &str = "SealedSecret";

/// Secret annotation: the controller may take over an existing Secret and replace it.
pub const MANAGED: &str = "sealedsecrets.bitnami.com/managed";
/// Secret annotation: the controller may merge into an existing Secret.
pub const PATCH: &str = "sealedsecrets.bitnami.com/patch";
/// Key Secret label (value `active` puts the key in use).
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

/// A `bitnami.com/v1alpha1` SealedSecret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SealedSecret {
    /// `bitnami.com/v1alpha1`.
    #[serde(rename = "apiVersion", default = "api_version")]
    pub api_version: String,
    /// `SealedSecret`.
    #[serde(default = "kind")]
    pub kind: String,
    /// Standard metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The spec, as JSON (sealed values are not secret; the library parses it).
    #[serde(default)]
    pub spec: serde_json::Value,
    /// What the controller last saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

impl Default for SealedSecret {
    fn default() -> SealedSecret {
        SealedSecret {
            api_version: api_version(),
            kind: kind(),
            metadata: ObjectMeta::default(),
            spec: serde_json::Value::Object(serde_json::Map::new()),
            status: None,
        }
    }
}

fn api_version() -> String {
    format!("{GROUP}/{VERSION}")
}

fn kind() -> String {
    KIND.to_string()
}

/// `status` (upstream's fields, plus `keyFingerprint`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Synced` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// gitseal: fingerprint of the sealing key that opened this object last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
}

/// One status condition, upstream's shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Synced`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// When the condition was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    /// When the status last flipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// Why (empty when synced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error, when not synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl kube::Resource for SealedSecret {
    type DynamicType = ();
    type Scope = kube::core::NamespaceResourceScope;

    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        KIND.into()
    }
    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        VERSION.into()
    }
    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        "sealedsecrets".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl SealedSecret {
    /// `namespace/name`.
    pub fn key(&self) -> crate::queue::Key {
        crate::queue::Key::new(
            self.metadata.namespace.as_deref().unwrap_or_default(),
            self.metadata.name.as_deref().unwrap_or_default(),
        )
    }

    /// The whole object as a library value (for `gitseal::sealed`).
    pub fn to_value(&self) -> Result<gitseal::formats::Value, serde_json::Error> {
        Ok(crate::convert::from_json(&serde_json::to_value(self)?))
    }
}
