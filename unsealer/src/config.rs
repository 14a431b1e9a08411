//! The controller's flags: the sealed-secrets controller's v0.40 flags with the same names,
//! defaults and `SEALED_SECRETS_<FLAG>` environment variables (the command line wins), plus
//! gitseal's own (`--leader-elect`, `--workers`, `--resync-period`). Booleans take Go's forms
//! (`--flag`, `--flag=false`, `1`, `t`, `TRUE`...), durations Go's (`720h`, `2m`).

use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

/// How the newest key is chosen (`--key-order-priority`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyOrder {
    /// By the certificate's NotBefore (upstream's default).
    #[value(name = "CertNotBefore")]
    CertNotBefore,
    /// By the key Secret's creationTimestamp.
    #[value(name = "SecretCreationTimestamp")]
    SecretCreationTimestamp,
}

/// Log line format (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `time=... level=INFO msg="..." key=value`, as Go's slog text handler.
    Text,
    /// One JSON object a line.
    Json,
}

/// The controller's configuration.
#[derive(Parser, Clone, Debug)]
#[command(
    name = "gitseal-unsealer",
    version,
    // As pflag: a flag given twice takes the last value (deployments append overrides).
    args_override_self = true,
    about = "Turns SealedSecrets into Secrets in the cluster: a drop-in for the sealed-secrets controller",
    long_about = "Turns SealedSecrets (bitnami.com/v1alpha1) into Secrets in the cluster: a drop-in for the \
sealed-secrets controller v0.40. Every flag can also be set by an environment variable \
SEALED_SECRETS_<FLAG> (upper case, dashes as underscores); the command line wins."
)]
pub struct Config {
    /// Name prefix of the key Secrets this controller makes (generateName).
    #[arg(long, env = "SEALED_SECRETS_KEY_PREFIX", default_value = "sealed-secrets-key", value_parser = key_prefix)]
    pub key_prefix: String,
    /// RSA key size, in bits, of new keys.
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1024..=16384))]
    pub key_size: u32,
    /// How long the certificate of a new key stays valid.
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h", value_parser = go_duration)]
    pub key_ttl: Duration,
    /// CN of new certificates (subject and issuer); empty gives an empty DN.
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,
    /// How often a new key is made, counted from the newest one (0 turns renewal off).
    #[arg(long, env = "SEALED_SECRETS_KEY_RENEW_PERIOD", value_parser = go_duration)]
    pub key_renew_period: Option<Duration>,
    /// Deprecated alias of --key-renew-period.
    #[arg(long, env = "SEALED_SECRETS_ROTATE_PERIOD", value_parser = go_duration, hide = true)]
    pub rotate_period: Option<Duration>,
    /// What decides which key is newest: its certificate's NotBefore or its Secret's creation time.
    #[arg(long, env = "SEALED_SECRETS_KEY_ORDER_PRIORITY", value_enum, default_value = "CertNotBefore")]
    pub key_order_priority: KeyOrder,
    /// Make a key at start-up when the newest one predates this time (as `date -R` prints it).
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "")]
    pub key_cutoff_time: String,
    /// Open SealedSecrets in the old v1 layout (one blob in spec.data).
    #[arg(long, env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA", default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub accept_deprecated_v1_data: bool,
    /// Watch every namespace (false: the controller's own, plus --additional-namespaces).
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub all_namespaces: bool,
    /// More namespaces to watch besides the controller's own, comma-separated.
    #[arg(long, env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES", default_value = "")]
    pub additional_namespaces: String,
    /// Only SealedSecrets (and Secrets) matching this label selector are handled.
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", default_value = "")]
    pub label_selector: String,
    /// Sustained /v1/verify and /v1/rotate requests a second, per client and path.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT", default_value_t = 2)]
    pub rate_limit: u32,
    /// Extra /v1/verify and /v1/rotate requests allowed back to back above --rate-limit.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT_BURST", default_value_t = 2)]
    pub rate_limit_burst: u32,
    /// Annotations put on the key Secrets this controller makes (k=v,k2=v2).
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS", default_value = "", value_parser = key_values)]
    pub privatekey_annotations: KeyValues,
    /// Labels put on the key Secrets this controller makes (k=v,k2=v2).
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "", value_parser = key_values)]
    pub privatekey_labels: KeyValues,
    /// Delete the Secret explicitly when its SealedSecret is deleted (instead of relying on the
    /// owner reference).
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", default_value = "false", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub old_gc_behavior: bool,
    /// Write the Synced condition into each SealedSecret's status.
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub update_status: bool,
    /// Accepted for compatibility: key Secrets are always watched live (added, relabelled,
    /// deleted).
    #[arg(long, env = "SEALED_SECRETS_WATCH_FOR_SECRETS", default_value = "false", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub watch_for_secrets: bool,
    /// Do not re-create a Secret that was deleted.
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE", default_value = "false", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub skip_recreate: bool,
    /// How often a failing SealedSecret is retried (with backoff) before waiting for its next change.
    #[arg(long, env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES", default_value_t = 5)]
    pub max_unseal_retries: u32,
    /// Accepted for compatibility and not applied: client-side throttling at upstream's 5 qps
    /// would cap unsealing at about 2 objects a second; the API server's priority and fairness
    /// limits apply instead.
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_QPS", default_value_t = 5.0)]
    pub kubeclient_qps: f32,
    /// Accepted for compatibility and not applied (see --kubeclient-qps).
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_BURST", default_value_t = 10)]
    pub kubeclient_burst: u32,
    /// Log info messages to stdout (warnings and errors go to stderr).
    #[arg(long, env = "SEALED_SECRETS_LOG_INFO_STDOUT", default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub log_info_stdout: bool,
    /// Log level (DEBUG, INFO, WARN, ERROR).
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "INFO", value_parser = log_level)]
    pub log_level: crate::log::Level,
    /// Log format (text or json).
    #[arg(long, env = "SEALED_SECRETS_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Address of the HTTP API (Go form: :8080 is every interface).
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080")]
    pub listen_addr: String,
    /// Address of the Prometheus metrics endpoint.
    #[arg(long, env = "SEALED_SECRETS_LISTEN_METRICS_ADDR", default_value = ":8081")]
    pub listen_metrics_addr: String,
    /// Longest time to read a request.
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m", value_parser = go_duration)]
    pub read_timeout: Duration,
    /// Longest time to answer a request.
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m", value_parser = go_duration)]
    pub write_timeout: Duration,
    /// Leave the namespace and name labels out of the condition_info metric.
    #[arg(long, env = "SEALED_SECRETS_METRICS_OMIT_SECRET_LABELS", default_value = "false", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub metrics_omit_secret_labels: bool,
    /// Path to a kubeconfig (only needed outside a cluster).
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// gitseal: elect a leader with a coordination.k8s.io Lease so that several replicas can
    /// run; only the leader reconciles and makes keys, every replica serves the HTTP API.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT", default_value = "false", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub leader_elect: bool,
    /// gitseal: name of the leader-election Lease (in the controller's namespace).
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_LEASE_NAME", default_value = "gitseal-unsealer")]
    pub leader_elect_lease_name: String,
    /// gitseal: how long a leader's Lease is valid without renewal.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_LEASE_DURATION", default_value = "15s", value_parser = go_duration)]
    pub leader_elect_lease_duration: Duration,
    /// gitseal: how often the leader renews and candidates retry.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_RETRY_PERIOD", default_value = "2s", value_parser = go_duration)]
    pub leader_elect_retry_period: Duration,
    /// gitseal: SealedSecrets unsealed in parallel (0 = one per CPU). One object is never
    /// reconciled twice at once.
    #[arg(long, env = "SEALED_SECRETS_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// gitseal: re-check every SealedSecret this often (0 = never, as upstream), which repairs
    /// Secrets edited by hand.
    #[arg(long, env = "SEALED_SECRETS_RESYNC_PERIOD", default_value = "0", value_parser = go_duration)]
    pub resync_period: Duration,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands (the controller runs when there is none).
#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Print the SealedSecret CustomResourceDefinition (YAML).
    Crd,
}

impl Config {
    /// `--key-renew-period`, else the deprecated `--rotate-period`, else 720h.
    pub fn key_renew_period(&self) -> Duration {
        self.key_renew_period.or(self.rotate_period).unwrap_or(Duration::from_secs(720 * 3600))
    }

    /// `--key-cutoff-time` in seconds since the epoch, when set.
    pub fn key_cutoff(&self) -> Result<Option<i64>, String> {
        match self.key_cutoff_time.trim() {
            "" => Ok(None),
            t => crate::duration::parse_rfc1123z(t).map(Some).map_err(|e| format!("--key-cutoff-time: {e}")),
        }
    }

    /// Worker count, with 0 meaning one per CPU.
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        }
    }

    /// Namespaces to watch: `None` for all, else the controller's own plus the additional ones.
    pub fn watched_namespaces(&self, own: &str) -> Option<Vec<String>> {
        let extra: Vec<String> =
            self.additional_namespaces.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        if self.all_namespaces && extra.is_empty() {
            return None;
        }
        let mut all = vec![own.to_string()];
        for ns in extra {
            if !all.contains(&ns) {
                all.push(ns);
            }
        }
        Some(all)
    }
}

/// `k=v,k2=v2` pairs, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyValues(pub Vec<(String, String)>);

fn key_values(s: &str) -> Result<KeyValues, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| format!("{part:?} is not key=value"))?;
        if k.is_empty() {
            return Err(format!("{part:?} has an empty key"));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(KeyValues(out))
}

/// Go's `strconv.ParseBool`.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {s:?} (expected true or false)")),
    }
}

fn go_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

fn key_prefix(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 245 || !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(format!("{s:?} must be 1 to 245 characters of a-z, 0-9 and -"));
    }
    Ok(s.to_string())
}

fn log_level(s: &str) -> Result<crate::log::Level, String> {
    crate::log::Level::parse(s).ok_or_else(|| format!("invalid log level {s:?} (DEBUG, INFO, WARN or ERROR)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("gitseal-unsealer").chain(args.iter().copied()))
    }

    #[test]
    fn upstream_defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.key_prefix, "sealed-secrets-key");
        assert_eq!(c.key_size, 4096);
        assert_eq!(c.key_ttl, Duration::from_secs(87_600 * 3600));
        assert_eq!(c.key_renew_period(), Duration::from_secs(720 * 3600));
        assert_eq!(c.key_order_priority, KeyOrder::CertNotBefore);
        assert!(c.accept_deprecated_v1_data && c.all_namespaces && c.update_status && c.log_info_stdout);
        assert!(!c.skip_recreate && !c.old_gc_behavior && !c.leader_elect && !c.metrics_omit_secret_labels);
        assert_eq!((c.rate_limit, c.rate_limit_burst, c.max_unseal_retries), (2, 2, 5));
        assert_eq!((c.listen_addr.as_str(), c.listen_metrics_addr.as_str()), (":8080", ":8081"));
        assert_eq!(c.watched_namespaces("kube-system"), None);
    }

    #[test]
    fn go_style_values() {
        let c =
            parse(&["--all-namespaces=false", "--skip-recreate", "--key-renew-period=0", "--update-status=F"]).unwrap();
        assert!(!c.all_namespaces && c.skip_recreate && !c.update_status);
        assert_eq!(c.key_renew_period(), Duration::ZERO);
        assert_eq!(c.watched_namespaces("kube-system"), Some(vec!["kube-system".to_string()]));
        let c = parse(&["--rotate-period=24h"]).unwrap();
        assert_eq!(c.key_renew_period(), Duration::from_secs(86_400));
        let c = parse(&["--additional-namespaces=a, b,,kube-system"]).unwrap();
        assert_eq!(c.watched_namespaces("kube-system").unwrap(), ["kube-system", "a", "b"]);
        let c = parse(&["--privatekey-labels=team=infra,tier=keys"]).unwrap();
        assert_eq!(c.privatekey_labels.0, [("team".into(), "infra".into()), ("tier".into(), "keys".into())]);
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            &["--key-prefix=Bad_Prefix"][..],
            &["--key-ttl=10 days"],
            &["--all-namespaces=maybe"],
            &["--key-order-priority=Newest"],
            &["--log-format=xml"],
            &["--privatekey-labels=novalue"],
            &["--log-level=chatty"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
        let c = parse(&["--key-cutoff-time=yesterday"]).unwrap();
        assert!(c.key_cutoff().unwrap_err().contains("--key-cutoff-time"));
    }
}
