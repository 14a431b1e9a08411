//! Leader election on a Lease in the in-process API, on tokio's paused clock (virtual time, so
//! the hand-over times below are exact and the test never sleeps for real).

use std::sync::Arc;

use clap::Parser;
use gitseal_unsealer::config::Config;
use gitseal_unsealer::controller::Controller;
use gitseal_unsealer::leader::{acquire, Elector};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use tokio::time::{Duration, Instant};

const LEASE: Duration = Duration::from_secs(15);
const RETRY: Duration = Duration::from_secs(2);

async fn client() -> kube::Client {
    kube_fake_client::ClientBuilder::new().build().await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn one_leader_at_a_time_and_hand_over_on_crash_and_on_release() {
    let client = client().await;
    let mut a = Elector::new(client.clone(), "kube-system", "gitseal-unsealer", "pod-a", LEASE);
    let mut b = Elector::new(client.clone(), "kube-system", "gitseal-unsealer", "pod-b", LEASE);
    assert!(a.try_acquire_or_renew().await.unwrap());
    // While A renews, B never leads.
    for _ in 0..30 {
        tokio::time::sleep(RETRY).await;
        assert!(a.try_acquire_or_renew().await.unwrap());
        assert!(!b.try_acquire_or_renew().await.unwrap());
    }
    // A crashes (stops renewing): B takes over within one lease duration plus one retry.
    let crashed = Instant::now();
    acquire(&mut b, RETRY).await;
    let failover = crashed.elapsed();
    assert!(failover >= LEASE && failover <= LEASE + RETRY, "failover took {failover:?}");
    assert!(!a.try_acquire_or_renew().await.unwrap(), "the old leader must not come back");
    let lease: Lease = Api::namespaced(client.clone(), "kube-system").get("gitseal-unsealer").await.unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("pod-b"));
    assert_eq!(spec.lease_transitions, Some(1));
    // B shuts down cleanly and releases: A takes over at its next retry.
    b.release().await.unwrap();
    let released = Instant::now();
    acquire(&mut a, RETRY).await;
    assert!(released.elapsed() <= RETRY, "hand-over after release took {:?}", released.elapsed());
    println!("failover after a crash: {failover:?}; after a release: {:?}", released.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_leader_that_cannot_renew_steps_down_before_the_lease_expires() {
    let client = client().await;
    let mut a = Elector::new(client, "kube-system", "gitseal-unsealer", "pod-a", LEASE);
    assert!(a.try_acquire_or_renew().await.unwrap());
    assert!(!a.must_step_down());
    tokio::time::sleep(LEASE * 2 / 3).await;
    assert!(a.must_step_down(), "two thirds of the lease without renewal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_starting_together_in_an_empty_namespace_make_exactly_one_key() {
    let client = client().await;
    let cfg = Arc::new(Config::parse_from(["gitseal-unsealer", "--key-size=2048", "--leader-elect"]));
    let replicas: Vec<_> = ["pod-a", "pod-b"]
        .into_iter()
        .map(|id| {
            let ctl = Controller::new(client.clone(), Arc::clone(&cfg), "kube-system", id);
            let elector = Elector::new(client.clone(), "kube-system", "gitseal-unsealer", id, LEASE);
            (ctl, elector)
        })
        .collect();
    // Both start at once; each makes a key only when it leads (as `run` does).
    let starts = replicas.into_iter().map(|(ctl, mut elector)| {
        tokio::spawn(async move {
            if elector.try_acquire_or_renew().await.unwrap() {
                ctl.ensure_key().await.unwrap();
                true
            } else {
                false
            }
        })
    });
    let leaders: Vec<bool> = futures::future::join_all(starts).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(leaders.iter().filter(|l| **l).count(), 1, "{leaders:?}");
    let secrets: Api<Secret> = Api::namespaced(client, "kube-system");
    let keys = secrets
        .list(&ListParams::default().labels("sealedsecrets.bitnami.com/sealed-secrets-key=active"))
        .await
        .unwrap();
    assert_eq!(keys.items.len(), 1);
}
