//! One SealedSecret to one Secret (upstream `unseal`, v0.40 semantics): decrypt with every key
//! (the key that opened it last is tried first), create the Secret or update it only when it
//! differs, honour the `managed` and `patch` annotations, refuse to touch a Secret that is not
//! ours, never retry an immutable Secret, then record the `Synced` condition, an Event and the
//! metrics. A failure to decrypt says why: the fingerprints tried, and whether the object opens
//! under another scope than its annotations say.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use gitseal::formats::Value;
use gitseal::keys::sealing::Scope;
use gitseal::sealed::unseal::{decrypt_items, unseal_reporting, OwnerReference, UnsealOptions};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, PostParams};
use kube::Client;

use crate::config::Config;
use crate::events::{self, Kind, Recorder};
use crate::keys::{KeySet, Registry};
use crate::metrics::{ErrorReason, Metrics};
use crate::queue::Key;
use crate::resource::{Condition, SealedSecret, Status, MANAGED, PATCH};

/// What a reconcile needs; shared by every worker.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// Flags.
    pub cfg: Arc<Config>,
    /// The keys.
    pub keys: Arc<Registry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events.
    pub recorder: Recorder,
    /// Fingerprint of the key that opened each object last (tried first next time).
    hints: Mutex<HashMap<Key, String>>,
}

/// What a successful reconcile did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The SealedSecret no longer exists.
    Gone,
    /// The Secret is as the SealedSecret says.
    Unsealed {
        /// Whether the Secret was created or updated (false: it already matched).
        written: bool,
        /// The key that opened the object (the oldest one, when items need several).
        fingerprint: Option<String>,
    },
}

/// Why a reconcile failed, and whether trying again may help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The error, as it goes into the status and the Event (names only, never values).
    pub message: String,
    /// Whether to retry with backoff.
    pub retry: bool,
}

impl Failure {
    fn retry(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), retry: true }
    }
    fn fatal(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), retry: false }
    }
}

const UNSEAL_OK: &str = "SealedSecret unsealed successfully";

impl Context {
    /// A context.
    pub fn new(
        client: Client,
        cfg: Arc<Config>,
        keys: Arc<Registry>,
        metrics: Arc<Metrics>,
        recorder: Recorder,
    ) -> Context {
        Context { client, cfg, keys, metrics, recorder, hints: Mutex::new(HashMap::new()) }
    }

    /// Forgets what is remembered about a deleted SealedSecret.
    pub fn forget(&self, key: &Key, instance: &str) {
        self.hints.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        self.metrics.forget(key, instance);
    }

    fn hint(&self, key: &Key) -> Option<String> {
        self.hints.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    /// Reconciles the SealedSecret `key`.
    pub async fn reconcile(&self, key: &Key) -> Result<Outcome, Failure> {
        self.metrics.unseal_request();
        let api: Api<SealedSecret> = Api::namespaced(self.client.clone(), &key.namespace);
        let ss = match api.get_opt(&key.name).await {
            Ok(Some(ss)) => ss,
            Ok(None) => return self.gone(key).await,
            Err(e) => {
                self.metrics.unseal_error(ErrorReason::Fetch, "");
                return Err(Failure::retry(format!("cannot read SealedSecret {key}: {e}")));
            }
        };
        crate::log::info("Updating", &[("key", key)]);
        let result = self.unseal_and_write(key, &ss).await;
        let instance = instance_label(&ss);
        if self.cfg.update_status {
            if let Err(e) = self.write_status(&api, &ss, &result).await {
                crate::log::error("Error updating SealedSecret status", &[("sealed-secret", key), ("error", &e)]);
                self.metrics.unseal_error(ErrorReason::Status, &key.namespace);
            }
        }
        self.metrics.condition(key, &instance, result.is_ok());
        result
    }

    async fn gone(&self, key: &Key) -> Result<Outcome, Failure> {
        if self.cfg.old_gc_behavior {
            crate::log::info("SealedSecret has gone, deleting Secret", &[("sealed-secret", key)]);
            let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &key.namespace);
            match secrets.delete(&key.name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(Failure::retry(format!("cannot delete Secret {key}: {e}"))),
            }
        }
        Ok(Outcome::Gone)
    }

    async fn unseal_and_write(&self, key: &Key, ss: &SealedSecret) -> Result<Outcome, Failure> {
        let keys = self.keys.snapshot();
        let opened = {
            let (ss, keys, hint, cfg) = (ss.clone(), Arc::clone(&keys), self.hint(key), Arc::clone(&self.cfg));
            let ns = key.namespace.clone();
            // RSA private-key operations: on a blocking thread, so that workers run in parallel
            // on every core and the HTTP side stays responsive.
            tokio::task::spawn_blocking(move || open(&ss, &keys, hint.as_deref(), &ns, &cfg))
                .await
                .unwrap_or_else(|_| Err("the unseal task failed".to_string()))
        };
        let (secret, fingerprint) = match opened {
            Ok(x) => x,
            Err(message) => {
                let message = format!("Failed to unseal: {message}");
                self.recorder.sealed_secret(ss, Kind::Warning, events::ERR_UNSEAL_FAILED, &message).await;
                self.metrics.unseal_error(ErrorReason::Unseal, &key.namespace);
                return Err(Failure::retry(message));
            }
        };
        let written = self.write_secret(key, ss, secret).await?;
        if let Some(fp) = &fingerprint {
            self.hints.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), fp.clone());
            self.metrics.opened_by(key, fp);
        }
        self.recorder.sealed_secret(ss, Kind::Normal, events::UNSEALED, UNSEAL_OK).await;
        Ok(Outcome::Unsealed { written, fingerprint })
    }

    /// Creates or updates the Secret; `Ok(true)` when it wrote.
    async fn write_secret(&self, key: &Key, ss: &SealedSecret, new: Secret) -> Result<bool, Failure> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &key.namespace);
        let update_failed = |message: String| async move {
            self.recorder.sealed_secret(ss, Kind::Warning, events::ERR_UPDATE_FAILED, &message).await;
            self.metrics.unseal_error(ErrorReason::Update, &key.namespace);
            message
        };
        let existing = match secrets.get_opt(&key.name).await {
            Ok(x) => x,
            Err(e) => return Err(Failure::retry(update_failed(e.to_string()).await)),
        };
        let Some(existing) = existing else {
            return match secrets.create(&PostParams::default(), &new).await {
                Ok(_) => Ok(true),
                Err(e) => Err(Failure::retry(update_failed(e.to_string()).await)),
            };
        };
        let annotated =
            |a: &str| existing.metadata.annotations.as_ref().and_then(|m| m.get(a)).is_some_and(|v| v == "true");
        let (managed, patch) = (annotated(MANAGED), annotated(PATCH));
        if !controlled_by(&existing, ss) && !managed && !patch {
            let message = format!("Resource {:?} already exists and is not managed by SealedSecret", key.name);
            self.recorder.sealed_secret(ss, Kind::Warning, events::ERR_UPDATE_FAILED, &message).await;
            self.metrics.unseal_error(ErrorReason::Unmanaged, &key.namespace);
            return Err(Failure::retry(format!("failed update: {message}")));
        }
        let merged = merge(&existing, &new, patch, managed);
        if same_secret(&existing, &merged) {
            return Ok(false);
        }
        if existing.immutable == Some(true) {
            let message = format!(
                "Error updating {key}: the target Secret is immutable. Once a Secret is marked as immutable, it is not \
                 possible to revert this change nor to mutate the contents of the data field. You can only delete and \
                 recreate the Secret."
            );
            return Err(Failure::fatal(update_failed(message).await));
        }
        match secrets.replace(&key.name, &PostParams::default(), &merged).await {
            Ok(_) => Ok(true),
            Err(e) => Err(Failure::retry(update_failed(e.to_string()).await)),
        }
    }

    /// Writes the `Synced` condition when it flipped, the generation moved on, the message
    /// changed or another key opened the object. A status write never triggers a reconcile
    /// (updates that leave the spec alone are ignored by the watch), so this cannot loop.
    async fn write_status(
        &self,
        api: &Api<SealedSecret>,
        ss: &SealedSecret,
        result: &Result<Outcome, Failure>,
    ) -> Result<(), kube::Error> {
        let now = crate::duration::rfc3339(crate::duration::now_secs());
        let Some(status) = next_status(ss, result, &now) else { return Ok(()) };
        let mut obj = ss.clone();
        obj.status = Some(status.clone());
        let name = ss.metadata.name.clone().unwrap_or_default();
        match api.replace_status(&name, &PostParams::default(), &obj).await {
            Err(kube::Error::Api(s)) if s.code == 409 => {
                // Someone else wrote the object meanwhile: once more on a fresh copy.
                let mut fresh = api.get(&name).await?;
                fresh.status = Some(status);
                api.replace_status(&name, &PostParams::default(), &fresh).await.map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }
}

/// The `app.kubernetes.io/instance` label of a SealedSecret (`condition_info`'s last label).
pub fn instance_label(ss: &SealedSecret) -> String {
    ss.metadata.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/instance")).cloned().unwrap_or_default()
}

/// The status to write after a reconcile, or `None` when the current one still holds.
pub fn next_status(ss: &SealedSecret, result: &Result<Outcome, Failure>, now: &str) -> Option<Status> {
    let old = ss.status.clone().unwrap_or_default();
    let old_cond = old.conditions.iter().find(|c| c.type_ == "Synced");
    let (state, message, reason) = match result {
        Ok(_) => ("True", None, None),
        Err(f) => ("False", Some(f.message.clone()), Some("UnsealFailed".to_string())),
    };
    let fingerprint = match result {
        Ok(Outcome::Unsealed { fingerprint: Some(fp), .. }) => Some(fp.clone()),
        _ => old.key_fingerprint.clone(),
    };
    let flipped = old_cond.map(|c| c.status.as_str()) != Some(state);
    let changed = flipped
        || old.observed_generation != ss.metadata.generation
        || old_cond.and_then(|c| c.message.clone()) != message
        || old.key_fingerprint != fingerprint;
    if !changed {
        return None;
    }
    let transition = match old_cond {
        Some(c) if !flipped => c.last_transition_time.clone(),
        _ => Some(now.to_string()),
    };
    let condition = Condition {
        type_: "Synced".into(),
        status: state.into(),
        last_update_time: Some(now.to_string()),
        last_transition_time: transition,
        reason,
        message,
    };
    let mut conditions: Vec<Condition> = old.conditions.into_iter().filter(|c| c.type_ != "Synced").collect();
    conditions.insert(0, condition);
    Some(Status { observed_generation: ss.metadata.generation, conditions, key_fingerprint: fingerprint })
}

/// Decrypts a SealedSecret into its Secret; also returns the fingerprint of the key used.
fn open(
    ss: &SealedSecret,
    keys: &KeySet,
    hint: Option<&str>,
    namespace: &str,
    cfg: &Config,
) -> Result<(Secret, Option<String>), String> {
    let value = ss.to_value().map_err(|e| format!("cannot read the object: {e}"))?;
    let has_v1_data = value
        .get("spec")
        .and_then(|s| s.get("data"))
        .is_some_and(|d| !matches!(d, Value::Scalar(s) if s == &gitseal::formats::Scalar::Null));
    if has_v1_data && !cfg.accept_deprecated_v1_data {
        return Err("using deprecated 'data' field, use 'encryptedData' or flip the feature flag".into());
    }
    if keys.keys.is_empty() {
        return Err("no key could decrypt secret: the controller has no keys yet".into());
    }
    let opts = |keys| UnsealOptions {
        keys,
        owner_reference: OwnerReference::Always,
        default_namespace: namespace,
        render_templates: true,
    };
    // The key that opened it last, alone first: one RSA operation per item instead of one per
    // key per item.
    let hinted = hint
        .and_then(|fp| keys.position(fp))
        .and_then(|i| unseal_reporting(&value, 0, &opts(&keys.keys[i..=i])).ok().map(|(s, _)| (s, vec![i])));
    let (secret, used) = match hinted {
        Some(x) => x,
        None => unseal_reporting(&value, 0, &opts(&keys.keys)).map_err(|e| diagnose(&value, keys, namespace, e))?,
    };
    let fingerprint = used.iter().max().map(|&i| keys.info[i].fingerprint.clone());
    let secret: Secret = serde_json::from_value(crate::convert::to_json(&secret))
        .map_err(|e| format!("the unsealed Secret is not valid: {e}"))?;
    Ok((secret, fingerprint))
}

/// Says more than "no key could decrypt": the keys tried, and whether the object opens under
/// another scope than its annotations give (upstream #285, #322, #1364).
fn diagnose(value: &Value, keys: &KeySet, namespace: &str, err: gitseal::sealed::SealedError) -> String {
    let message = match &err.path {
        Some(p) => format!("{p}: {}", err.message),
        None => err.message.clone(),
    };
    if !err.message.contains("no key could decrypt") {
        return message;
    }
    let name = value.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default();
    let declared = gitseal::sealed::scope_of(value.get("metadata"));
    for other in [Scope::NamespaceWide, Scope::ClusterWide, Scope::Strict] {
        if other == declared || (other == Scope::Strict && name.is_empty()) {
            continue;
        }
        let label = other.label(namespace, name);
        if decrypt_items(value, &label, &keys.keys, "").is_ok() {
            let fix = match other {
                Scope::NamespaceWide => "annotate it sealedsecrets.bitnami.com/namespace-wide: \"true\"",
                Scope::ClusterWide => "annotate it sealedsecrets.bitnami.com/cluster-wide: \"true\"",
                Scope::Strict => "remove its scope annotations",
            };
            return format!(
                "{message}: it was sealed {} but its annotations say {}; {fix}",
                other.as_str(),
                declared.as_str()
            );
        }
    }
    format!(
        "{message}: tried keys {}; it was sealed with another controller's key, or for another namespace or name",
        keys.fingerprints().join(", ")
    )
}

/// Whether the Secret has an owner reference with `controller: true` to this SealedSecret.
fn controlled_by(secret: &Secret, ss: &SealedSecret) -> bool {
    let uid = ss.metadata.uid.as_deref().unwrap_or_default();
    secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && !uid.is_empty() && r.uid == uid)
}

/// The Secret to write over `existing` (upstream's semantics): `patch` merges data, labels and
/// annotations (owner references only when also `managed`); otherwise they are replaced.
/// `type` is taken when the template sets one; `immutable` and finalizers are left alone.
pub fn merge(existing: &Secret, new: &Secret, patch: bool, managed: bool) -> Secret {
    let mut out = existing.clone();
    if patch {
        let data = out.data.get_or_insert_with(BTreeMap::new);
        data.extend(new.data.clone().unwrap_or_default());
        let labels = out.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.extend(new.metadata.labels.clone().unwrap_or_default());
        let annotations = out.metadata.annotations.get_or_insert_with(BTreeMap::new);
        annotations.extend(new.metadata.annotations.clone().unwrap_or_default());
        if managed {
            out.metadata.owner_references = new.metadata.owner_references.clone();
        }
    } else {
        out.data = new.data.clone();
        out.metadata.labels = new.metadata.labels.clone();
        out.metadata.annotations = new.metadata.annotations.clone();
        out.metadata.owner_references = new.metadata.owner_references.clone();
    }
    if new.type_.is_some() {
        out.type_ = new.type_.clone();
    }
    out
}

/// Equal as the API server stores them: an absent map is an empty one, no type is `Opaque`.
pub fn same_secret(a: &Secret, b: &Secret) -> bool {
    fn map<V: Clone>(m: &Option<BTreeMap<String, V>>) -> BTreeMap<String, V> {
        m.clone().unwrap_or_default()
    }
    let data = |s: &Secret| -> BTreeMap<String, ByteString> { map(&s.data) };
    let kind = |s: &Secret| s.type_.clone().unwrap_or_else(|| "Opaque".into());
    data(a) == data(b)
        && map(&a.metadata.labels) == map(&b.metadata.labels)
        && map(&a.metadata.annotations) == map(&b.metadata.annotations)
        && a.metadata.owner_references.clone().unwrap_or_default()
            == b.metadata.owner_references.clone().unwrap_or_default()
        && kind(a) == kind(b)
}
