//! The running controller: watches feed the work queue, workers reconcile, key Secrets are
//! followed live, keys are made and renewed by the leader, and readiness is reported once the
//! caches have synced. The event handlers are plain methods so that tests drive them against
//! an in-process API; [`run`] only wires them to kube-runtime watch streams.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ObjectReference, Secret};
use kube::api::{Api, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Client;

use crate::config::Config;
use crate::events::{self, Kind, Recorder};
use crate::keys::{self, Registry};
use crate::metrics::Metrics;
use crate::queue::{Key, Queue};
use crate::reconcile::{instance_label, Context};
use crate::resource::{SealedSecret, KEY_LABEL, MANAGED};
use crate::server::{AppState, RateLimiter};

/// The controller's shared state.
pub struct Controller {
    /// Reconcile context.
    pub ctx: Arc<Context>,
    /// Work queue.
    pub queue: Arc<Queue>,
    /// HTTP state (keys, readiness, limiter).
    pub app: AppState,
    /// The controller's namespace (where key Secrets live).
    pub namespace: String,
    /// SealedSecrets whose last reconcile failed (retried when the keys change).
    failed: Mutex<HashSet<Key>>,
    /// What was last queued for each SealedSecret: generation and scope annotations.
    seen: Mutex<HashMap<Key, String>>,
    /// Key Secrets seen since the last (re)list of the key watch.
    listed_keys: Mutex<HashSet<String>>,
    /// Key Secrets that could not be read, by name and resourceVersion (reported once).
    bad_keys: Mutex<HashMap<String, String>>,
}

/// The controller's namespace: `$POD_NAMESPACE`, else the service account's, else `default`.
pub fn own_namespace() -> String {
    if let Ok(ns) = std::env::var("POD_NAMESPACE") {
        if !ns.trim().is_empty() {
            return ns.trim().to_string();
        }
    }
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// This replica's name: `$POD_NAME`, else the host name.
pub fn own_identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("gitseal-unsealer-{}", std::process::id()))
}

impl Controller {
    /// A controller over `client`.
    pub fn new(client: Client, cfg: Arc<Config>, namespace: &str, identity: &str) -> Arc<Controller> {
        let metrics = Arc::new(Metrics::new(cfg.metrics_omit_secret_labels));
        let keys = Registry::new();
        let recorder = Recorder::new(client.clone(), identity);
        let app = AppState {
            keys: Arc::clone(&keys),
            metrics: Arc::clone(&metrics),
            ready: Arc::new(AtomicBool::new(false)),
            limiter: Arc::new(RateLimiter::new(cfg.rate_limit, cfg.rate_limit_burst)),
            read_timeout: cfg.read_timeout,
        };
        let ctx = Arc::new(Context::new(client, cfg, keys, metrics, recorder));
        Arc::new(Controller {
            ctx,
            queue: Queue::new(),
            app,
            namespace: namespace.to_string(),
            failed: Mutex::new(HashSet::new()),
            seen: Mutex::new(HashMap::new()),
            listed_keys: Mutex::new(HashSet::new()),
            bad_keys: Mutex::new(HashMap::new()),
        })
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.ctx.client.clone(), &self.namespace)
    }

    /// A key Secret was added or changed: its keys are used, or dropped when it is no longer
    /// labelled `active`. A malformed one is reported (log, Event, metric), never fatal.
    pub async fn on_key_secret(&self, secret: &Secret) {
        let name = secret.metadata.name.clone().unwrap_or_default();
        self.listed_keys.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone());
        if !keys::is_active_key_secret(secret, &self.ctx.cfg.key_prefix) {
            if self.ctx.keys.remove(&name) {
                crate::log::info("unregistered private key", &[("secretname", &name)]);
                self.keys_changed();
            }
            return;
        }
        match keys::parse_key_secret(secret, self.ctx.cfg.key_order_priority) {
            Ok(parsed) => {
                self.bad_keys.lock().unwrap_or_else(|e| e.into_inner()).remove(&name);
                let fps: Vec<String> = parsed.iter().map(|(_, i)| i.fingerprint.clone()).collect();
                if self.ctx.keys.upsert(&name, parsed) {
                    crate::log::info(
                        "registered private key",
                        &[("secretname", &name), ("fingerprint", &fps.join(","))],
                    );
                    self.keys_changed();
                }
            }
            Err(why) => {
                let version = secret.metadata.resource_version.clone().unwrap_or_default();
                let first =
                    self.bad_keys.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), version.clone())
                        != Some(version);
                if self.ctx.keys.remove(&name) {
                    self.keys_changed();
                }
                if first {
                    crate::log::error("Error reading key", &[("secret", &name), ("error", &why)]);
                    self.ctx.metrics.key_error();
                    let reference = ObjectReference {
                        api_version: Some("v1".into()),
                        kind: Some("Secret".into()),
                        name: Some(name.clone()),
                        namespace: Some(self.namespace.clone()),
                        uid: secret.metadata.uid.clone(),
                        ..ObjectReference::default()
                    };
                    let message = format!("key Secret ignored: {why}");
                    self.ctx.recorder.publish(reference, Kind::Warning, events::ERR_KEY_INVALID, &message).await;
                }
            }
        }
    }

    /// A key Secret was deleted (or stopped matching the key label).
    pub fn on_key_secret_deleted(&self, name: &str) {
        self.bad_keys.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
        if self.ctx.keys.remove(name) {
            crate::log::info("unregistered deleted private key", &[("secretname", &name)]);
            self.keys_changed();
        }
    }

    /// The key watch (re)lists: remember which Secrets the list holds.
    pub fn on_key_list_start(&self) {
        self.listed_keys.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The key watch listed everything: Secrets not in the list were deleted meanwhile.
    pub fn on_key_list_done(&self) {
        let listed = self.listed_keys.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for name in self.ctx.keys.secrets() {
            if !listed.contains(&name) {
                self.on_key_secret_deleted(&name);
            }
        }
    }

    fn keys_changed(&self) {
        let set = self.ctx.keys.snapshot();
        self.ctx.metrics.set_keys(set.keys.len(), set.latest().map(|(_, i)| i.order));
        // What failed may open now.
        let failed: Vec<Key> = self.failed.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect();
        for key in failed {
            self.queue.forget(&key);
            self.queue.add(key);
        }
    }

    /// A SealedSecret was added or changed: queued when it is new, its spec changed
    /// (generation) or its scope annotations changed. Status-only updates (ours) are ignored,
    /// so a status write never causes another reconcile.
    pub fn on_sealed_secret(&self, ss: &SealedSecret) {
        let key = ss.key();
        let annotations = ss.metadata.annotations.clone().unwrap_or_default();
        let scope = [gitseal::sealed::CLUSTER_WIDE, gitseal::sealed::NAMESPACE_WIDE]
            .map(|a| annotations.get(a).cloned().unwrap_or_default())
            .join(",");
        let version =
            format!("{}|{scope}|{}", ss.metadata.generation.unwrap_or(0), ss.metadata.uid.clone().unwrap_or_default());
        let changed =
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), version.clone()) != Some(version);
        if changed {
            self.queue.add(key);
        } else {
            crate::log::debug("update suppressed, no changes in spec", &[("sealed-secret", &key)]);
        }
    }

    /// A SealedSecret was deleted.
    pub fn on_sealed_secret_deleted(&self, ss: &SealedSecret) {
        let key = ss.key();
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        self.ctx.forget(&key, &instance_label(ss));
        self.queue.add(key);
    }

    /// A Secret was deleted: re-created when a SealedSecret controls it or it was `managed`
    /// (unless `--skip-recreate`).
    pub fn on_secret_deleted(&self, meta: &kube::api::ObjectMeta) {
        if self.ctx.cfg.skip_recreate {
            return;
        }
        let controlled = meta.owner_references.iter().flatten().any(|r| {
            r.controller == Some(true) && r.kind == crate::resource::KIND && r.api_version.starts_with("bitnami.com/")
        });
        let managed = meta.annotations.as_ref().and_then(|a| a.get(MANAGED)).is_some_and(|v| v == "true");
        if controlled || managed {
            let key = Key::new(meta.namespace.as_deref().unwrap_or_default(), meta.name.as_deref().unwrap_or_default());
            crate::log::info("Secret deleted, re-creating it", &[("secret", &key)]);
            self.queue.add(key);
        }
    }

    /// Queues every SealedSecret seen (the `--resync-period` tick).
    pub fn resync(&self) {
        let keys: Vec<Key> = self.seen.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        for key in keys {
            self.queue.add(key);
        }
    }

    /// Reconciles one key and schedules a retry when it failed (upstream's worker loop).
    pub async fn process(self: &Arc<Self>, key: Key) {
        let result = self.ctx.reconcile(&key).await;
        match result {
            Ok(_) => {
                self.queue.forget(&key);
                self.failed.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            }
            Err(failure) => {
                self.failed.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone());
                let retry = failure.retry.then(|| self.queue.backoff(&key, self.ctx.cfg.max_unseal_retries)).flatten();
                match retry {
                    Some(delay) => {
                        crate::log::error("Error updating, will retry", &[("key", &key), ("error", &failure.message)]);
                        self.queue.add_after(key.clone(), delay);
                    }
                    None => {
                        crate::log::error("Error updating, giving up", &[("key", &key), ("error", &failure.message)]);
                        self.queue.forget(&key);
                    }
                }
            }
        }
        self.queue.done(&key);
    }

    /// Runs `n` workers until the queue is closed.
    pub fn spawn_workers(self: &Arc<Self>, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
        (0..n.max(1))
            .map(|_| {
                let me = Arc::clone(self);
                tokio::spawn(async move {
                    while let Some(key) = me.queue.next().await {
                        me.process(key).await;
                    }
                })
            })
            .collect()
    }

    /// Makes a key when none is in use or the newest is older than `--key-cutoff-time`
    /// (leader only). Restored keys that are fresh enough are used as they are (#1588).
    pub async fn ensure_key(&self) -> Result<(), String> {
        let cutoff = self.ctx.cfg.key_cutoff()?;
        if keys::key_needed(&self.ctx.keys.snapshot(), cutoff) {
            self.generate_key().await?;
        }
        Ok(())
    }

    /// Generates a key, stores its Secret and starts using it at once.
    pub async fn generate_key(&self) -> Result<String, String> {
        let cfg = Arc::clone(&self.ctx.cfg);
        let ns = self.namespace.clone();
        let (_, secret) = tokio::task::spawn_blocking(move || keys::new_key_secret(&cfg, &ns))
            .await
            .map_err(|_| "the key generation task failed".to_string())??;
        let created = self
            .secrets()
            .create(&PostParams::default(), &secret)
            .await
            .map_err(|e| format!("cannot store the new key Secret: {e}"))?;
        let name = created.metadata.name.clone().unwrap_or_default();
        crate::log::info("New key written", &[("namespace", &self.namespace), ("name", &name)]);
        self.on_key_secret(&created).await;
        Ok(name)
    }
}

/// Follows key Secrets in the controller's namespace: those with the key label (any value, so
/// that relabelling away from `active` is seen) and the legacy Secret named `--key-prefix`.
/// `synced` fires once both have listed.
async fn watch_keys(ctl: Arc<Controller>, synced: tokio::sync::mpsc::Sender<()>) {
    let api = ctl.secrets();
    let labelled = watcher::watcher(api.clone(), watcher::Config::default().labels(KEY_LABEL)).default_backoff();
    let legacy_field = format!("metadata.name={}", ctl.ctx.cfg.key_prefix);
    let legacy = watcher::watcher(api, watcher::Config::default().fields(&legacy_field)).default_backoff();
    let labelled = labelled.map(|e| (true, e)).boxed();
    let legacy = legacy.map(|e| (false, e)).boxed();
    let mut both = futures::stream::select(labelled, legacy);
    let mut done = HashSet::new();
    while let Some((is_labelled, event)) = both.next().await {
        match event {
            Ok(Event::Apply(s)) | Ok(Event::InitApply(s)) => ctl.on_key_secret(&s).await,
            Ok(Event::Delete(s)) => {
                let name = s.metadata.name.unwrap_or_default();
                // The legacy Secret may also carry the label: only its own watch deletes it.
                if is_labelled || name == ctl.ctx.cfg.key_prefix {
                    ctl.on_key_secret_deleted(&name);
                }
            }
            Ok(Event::Init) if is_labelled => ctl.on_key_list_start(),
            Ok(Event::InitDone) => {
                if is_labelled {
                    ctl.on_key_list_done();
                }
                if done.insert(is_labelled) && done.len() == 2 {
                    let _ = synced.send(()).await;
                }
            }
            Ok(Event::Init) => {}
            Err(e) => crate::log::warn("key Secret watch failed, retrying", &[("error", &e)]),
        }
    }
}

/// Follows SealedSecrets in one namespace (or all); `synced` fires after the first list.
async fn watch_sealed_secrets(ctl: Arc<Controller>, namespace: Option<String>, synced: tokio::sync::mpsc::Sender<()>) {
    let client = ctl.ctx.client.clone();
    let api: Api<SealedSecret> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut config = watcher::Config::default();
    if !ctl.ctx.cfg.label_selector.is_empty() {
        config = config.labels(&ctl.ctx.cfg.label_selector);
    }
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    let mut first = true;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(ss)) | Ok(Event::InitApply(ss)) => ctl.on_sealed_secret(&ss),
            Ok(Event::Delete(ss)) => ctl.on_sealed_secret_deleted(&ss),
            Ok(Event::InitDone) if first => {
                first = false;
                let _ = synced.send(()).await;
            }
            Ok(_) => {}
            Err(e) => crate::log::warn("SealedSecret watch failed, retrying", &[("error", &e)]),
        }
    }
}

/// Follows Secret deletions, metadata only (Secret data never enters this process through the
/// watch, unlike upstream's informer cache of every Secret).
async fn watch_secret_deletions(ctl: Arc<Controller>, namespace: Option<String>) {
    let client = ctl.ctx.client.clone();
    let api: Api<PartialObjectMeta<Secret>> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut config = watcher::Config::default();
    if !ctl.ctx.cfg.label_selector.is_empty() {
        config = config.labels(&ctl.ctx.cfg.label_selector);
    }
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Delete(meta)) => {
                let meta: PartialObjectMeta<Secret> = meta;
                ctl.on_secret_deleted(&meta.metadata);
            }
            Ok(_) => {}
            Err(e) => crate::log::warn("Secret watch failed, retrying", &[("error", &e)]),
        }
    }
}

/// Generates keys every `--key-renew-period` after the newest one, and on SIGUSR1.
async fn renew_keys(ctl: Arc<Controller>) {
    let period = ctl.ctx.cfg.key_renew_period();
    #[cfg(unix)]
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).ok();
    loop {
        let next = keys::next_renewal(&ctl.ctx.keys.snapshot(), period, crate::duration::now_secs());
        // Look again at least hourly: keys added by hand move the schedule.
        let wait = next.unwrap_or(Duration::from_secs(3600)).min(Duration::from_secs(3600));
        let forced = async {
            #[cfg(unix)]
            if let Some(sig) = usr1.as_mut() {
                sig.recv().await;
                return;
            }
            std::future::pending::<()>().await
        };
        let due = tokio::select! {
            _ = tokio::time::sleep(wait) => next.is_some_and(|n| n <= wait),
            _ = forced => { crate::log::info("SIGUSR1: generating a new key", &[]); true }
        };
        if due {
            if let Err(e) = ctl.generate_key().await {
                crate::log::error("Failed to generate new key", &[("error", &e)]);
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    }
}

/// Runs the controller until SIGTERM/SIGINT (or lost leadership, which exits so that the pod
/// restarts as a candidate).
pub async fn run(cfg: Config) -> Result<(), String> {
    let cfg = Arc::new(cfg);
    let kube_config = match &cfg.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read --kubeconfig {}: {}", path.display(), one_line(&e)))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| format!("cannot use --kubeconfig {}: {}", path.display(), one_line(&e)))?
        }
        None => kube::Config::infer().await.map_err(|e| {
            format!("cannot find the Kubernetes API (not in a cluster, and no kubeconfig): {}", one_line(&e))
        })?,
    };
    let server = kube_config.cluster_url.to_string();
    let client =
        Client::try_from(kube_config).map_err(|e| format!("cannot create the Kubernetes client: {}", one_line(&e)))?;
    // Fail fast and clearly when the API server is unreachable.
    client
        .apiserver_version()
        .await
        .map_err(|e| format!("cannot reach the Kubernetes API server at {server}: {}", one_line(&e)))?;
    let namespace = own_namespace();
    let identity = own_identity();
    crate::log::info(
        "Starting sealed-secrets controller",
        &[("version", &env!("CARGO_PKG_VERSION")), ("namespace", &namespace)],
    );
    let ctl = Controller::new(client.clone(), Arc::clone(&cfg), &namespace, &identity);

    let api = crate::server::router(ctl.app.clone(), cfg.write_timeout);
    let metrics = crate::server::metrics_router(Arc::clone(&ctl.app.metrics));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    for (addr, router, what) in
        [(&cfg.listen_addr, api, "HTTP server"), (&cfg.listen_metrics_addr, metrics, "HTTP metrics server")]
    {
        let listener = crate::server::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        crate::log::info(&format!("{what} serving"), &[("addr", addr)]);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = crate::server::serve(listener, router, shutdown).await {
                crate::log::error("HTTP server exiting", &[("error", &e)]);
            }
        });
    }

    crate::log::info("Searching for existing private keys", &[]);
    let (key_tx, mut key_rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(watch_keys(Arc::clone(&ctl), key_tx));
    key_rx.recv().await;

    let mut elector = cfg.leader_elect.then(|| {
        crate::leader::Elector::new(
            client.clone(),
            &namespace,
            &cfg.leader_elect_lease_name,
            &identity,
            cfg.leader_elect_lease_duration,
        )
    });
    if elector.is_none() {
        ctl.ensure_key().await?;
    }
    let standby_ready = elector.is_some();
    if standby_ready {
        // Standbys serve the certificate (and verify/rotate) from the live key watch.
        crate::server::set_ready(&ctl.app, true);
    }

    let leading = {
        let ctl = Arc::clone(&ctl);
        let cfg = Arc::clone(&cfg);
        async move {
            if let Some(elector) = elector.as_mut() {
                crate::log::info(
                    "waiting to become the leader",
                    &[("lease", &cfg.leader_elect_lease_name), ("identity", &elector.identity())],
                );
                crate::leader::acquire(elector, cfg.leader_elect_retry_period).await;
                crate::log::info("became the leader", &[("identity", &elector.identity())]);
                ctl.ctx.metrics.set_leader(true);
                if let Err(e) = ctl.ensure_key().await {
                    crate::log::error("Failed to generate new key", &[("error", &e)]);
                }
            }
            start_reconciling(&ctl).await;
            match elector.as_mut() {
                Some(elector) => {
                    crate::leader::hold(elector, cfg.leader_elect_retry_period).await;
                    Some(std::mem::replace(
                        elector,
                        crate::leader::Elector::new(ctl.ctx.client.clone(), "", "", "", Duration::ZERO),
                    ))
                }
                None => std::future::pending().await,
            }
        }
    };

    let terminate = async {
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        Ok::<(), String>(())
    };
    let result = tokio::select! {
        lost = leading => {
            drop(lost);
            Err("lost the leader Lease; exiting so that this replica restarts as a candidate".to_string())
        }
        r = terminate => r,
    };
    crate::log::info("shutting down", &[]);
    ctl.queue.close();
    let _ = stop_tx.send(true);
    if cfg.leader_elect {
        let mut elector = crate::leader::Elector::new(
            client,
            &namespace,
            &cfg.leader_elect_lease_name,
            &identity,
            cfg.leader_elect_lease_duration,
        );
        if let Err(e) = elector.release().await {
            crate::log::warn("cannot release the leader Lease", &[("error", &e)]);
        }
    }
    result
}

/// An error and its causes on one line (`a: b: c`), whitespace runs collapsed: kube's errors
/// nest the interesting part (connection refused, a YAML position) several sources deep.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// Starts the watches, the workers, renewal and resync; returns once the SealedSecret caches
/// have synced (and readiness is reported).
async fn start_reconciling(ctl: &Arc<Controller>) {
    let cfg = &ctl.ctx.cfg;
    tokio::spawn(renew_keys(Arc::clone(ctl)));
    ctl.spawn_workers(cfg.worker_count());
    let namespaces: Vec<Option<String>> = match cfg.watched_namespaces(&ctl.namespace) {
        None => vec![None],
        Some(list) => list.into_iter().map(Some).collect(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(namespaces.len().max(1));
    for ns in &namespaces {
        crate::log::info("Starting informer", &[("namespace", &ns.as_deref().unwrap_or("(all)"))]);
        tokio::spawn(watch_sealed_secrets(Arc::clone(ctl), ns.clone(), tx.clone()));
        if !cfg.skip_recreate {
            tokio::spawn(watch_secret_deletions(Arc::clone(ctl), ns.clone()));
        }
    }
    for _ in &namespaces {
        rx.recv().await;
    }
    if !cfg.resync_period.is_zero() {
        let (ctl, period) = (Arc::clone(ctl), cfg.resync_period);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                ctl.resync();
            }
        });
    }
    crate::server::set_ready(&ctl.app, true);
    crate::log::info("caches synced, ready", &[]);
}
