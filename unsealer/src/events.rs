//! Kubernetes Events about SealedSecrets, as the upstream controller records them: core/v1
//! Events from component `sealed-secrets`, reasons `Unsealed`, `ErrUnsealFailed` and
//! `ErrUpdateFailed`, also written to the log. Messages carry names, fingerprints and error
//! texts only, never a decrypted value.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::Client;

use crate::resource::SealedSecret;

/// The event source component, as upstream.
pub const COMPONENT: &str = "sealed-secrets";
/// Reason of a successful unseal.
pub const UNSEALED: &str = "Unsealed";
/// Reason when decryption failed.
pub const ERR_UNSEAL_FAILED: &str = "ErrUnsealFailed";
/// Reason when the Secret could not be written.
pub const ERR_UPDATE_FAILED: &str = "ErrUpdateFailed";
/// Reason (on a key Secret) when it cannot be read as a key (gitseal).
pub const ERR_KEY_INVALID: &str = "ErrKeyInvalid";

/// Normal or Warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Things went as they should.
    Normal,
    /// Something failed.
    Warning,
}

/// Longest message the API server accepts for an Event.
const MAX_MESSAGE: usize = 1024;

/// Writes Events.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    instance: String,
}

impl Recorder {
    /// A recorder; `instance` names this replica (the pod name).
    pub fn new(client: Client, instance: &str) -> Recorder {
        Recorder { client, instance: instance.to_string() }
    }

    /// Records an Event about a SealedSecret (failures to record are logged, not returned: an
    /// Event is never worth failing a reconcile for).
    pub async fn sealed_secret(&self, ss: &SealedSecret, kind: Kind, reason: &str, message: &str) {
        let reference = ObjectReference {
            api_version: Some(ss.api_version.clone()),
            kind: Some(ss.kind.clone()),
            name: ss.metadata.name.clone(),
            namespace: ss.metadata.namespace.clone(),
            uid: ss.metadata.uid.clone(),
            resource_version: ss.metadata.resource_version.clone(),
            field_path: None,
        };
        self.publish(reference, kind, reason, message).await;
    }

    /// Records an Event about any object.
    pub async fn publish(&self, reference: ObjectReference, kind: Kind, reason: &str, message: &str) {
        let kind_str = match kind {
            Kind::Normal => "Normal",
            Kind::Warning => "Warning",
        };
        let namespace = reference.namespace.clone().unwrap_or_else(|| "default".into());
        let name = reference.name.clone().unwrap_or_default();
        crate::log::info(
            "Event",
            &[
                ("object", &format!("{}/{namespace}/{name}", reference.kind.as_deref().unwrap_or_default())),
                ("type", &kind_str),
                ("reason", &reason),
                ("message", &message),
            ],
        );
        let now = Timestamp::now();
        let mut message = message.to_string();
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE - 3;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str("...");
        }
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{name}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: reference,
            reason: Some(reason.to_string()),
            message: Some(message),
            type_: Some(kind_str.to_string()),
            source: Some(EventSource { component: Some(COMPONENT.to_string()), host: None }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: None::<MicroTime>,
            count: Some(1),
            reporting_component: Some(COMPONENT.to_string()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            crate::log::warn("cannot record event", &[("reason", &reason), ("error", &e)]);
        }
    }
}
