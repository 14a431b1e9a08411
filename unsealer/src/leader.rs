//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does it,
//! so that `replicas: 2` works (upstream runs one replica, #62): only the leader reconciles and
//! makes keys. A Lease is taken over when its record has not changed for `leaseDurationSeconds`
//! of *local* time (clock skew between nodes does not matter), and released on shutdown so the
//! next replica takes over within one retry period.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::Client;
use tokio::time::{Duration, Instant};

/// One candidate.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    lease_duration: Duration,
    /// The last record seen (holder, renew time, transitions) and when it was first seen.
    observed: Option<(String, Instant)>,
    /// When this candidate last renewed successfully as leader.
    last_renew: Option<Instant>,
}

impl Elector {
    /// A candidate `identity` for the Lease `namespace/name`.
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str, lease_duration: Duration) -> Elector {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            lease_duration,
            observed: None,
            last_renew: None,
        }
    }

    /// This candidate's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// One round: acquire or renew the Lease. `Ok(true)` while this candidate leads.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let secs = i32::try_from(self.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.name.clone()), ..ObjectMeta::default() },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(secs),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(self.renewed()),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let record = format!(
            "{holder}|{:?}|{:?}",
            spec.renew_time.as_ref().map(|t| t.0.as_microsecond()),
            spec.lease_transitions
        );
        let local_now = Instant::now();
        let first_seen = match &self.observed {
            Some((r, at)) if *r == record => *at,
            _ => {
                self.observed = Some((record, local_now));
                local_now
            }
        };
        let duration =
            spec.lease_duration_seconds.map(|s| Duration::from_secs(s.max(1) as u64)).unwrap_or(self.lease_duration);
        let expired = holder.is_empty() || local_now.duration_since(first_seen) >= duration;
        if holder != self.identity && !expired {
            self.last_renew = None;
            return Ok(false);
        }
        if holder != self.identity {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(self.identity.clone());
        spec.lease_duration_seconds = Some(secs);
        spec.renew_time = Some(MicroTime(now));
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(self.renewed()),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn renewed(&mut self) -> bool {
        self.last_renew = Some(Instant::now());
        self.observed = None;
        true
    }

    /// Whether a leader that failed to renew must step down: its last renewal is older than
    /// the renew deadline (two thirds of the lease), so another replica may take over soon.
    pub fn must_step_down(&self) -> bool {
        self.last_renew.is_none_or(|at| at.elapsed() >= self.lease_duration * 2 / 3)
    }

    /// Gives the Lease up (on shutdown) so that another replica takes over at once.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else { return Ok(()) };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        self.last_renew = None;
        self.api.replace(&self.name, &PostParams::default(), &lease).await.map(|_| ())
    }
}

/// Campaigns until leading, retrying every `retry`; returns once this candidate leads.
pub async fn acquire(elector: &mut Elector, retry: Duration) {
    loop {
        match elector.try_acquire_or_renew().await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => crate::log::warn("cannot acquire the leader Lease", &[("error", &e)]),
        }
        tokio::time::sleep(retry).await;
    }
}

/// Renews every `retry` while leading; returns when leadership is lost.
pub async fn hold(elector: &mut Elector, retry: Duration) {
    loop {
        tokio::time::sleep(retry).await;
        match elector.try_acquire_or_renew().await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                crate::log::warn("cannot renew the leader Lease", &[("error", &e)]);
                if elector.must_step_down() {
                    return;
                }
            }
        }
    }
}
