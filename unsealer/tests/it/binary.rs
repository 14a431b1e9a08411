//! The `gitseal-unsealer` binary run for real, for what needs no Kubernetes API server: the
//! `crd` subcommand, `--help` and `--version`, refused flag and environment values, and the
//! `SEALED_SECRETS_*` environment variables with the command line winning over them.
//!
//! Every run gets a clean environment (no `KUBECONFIG`, no `KUBERNETES_SERVICE_HOST`, `HOME` an
//! empty temporary directory), so the controller fails fast: either with no API to find at all,
//! or with a kubeconfig whose server is `https://127.0.0.1:1`, a closed port. Env handling is
//! shown by what the binary does before (or instead of) talking to the API: the format of the
//! log line it writes when it stops, the kubeconfig it reads, and values it refuses before any
//! API call. A run that lasts longer than [`LIMIT`] is killed and fails its test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gitseal-unsealer");

/// A run longer than this is killed and fails the test.
const LIMIT: Duration = Duration::from_secs(20);

/// What "fails fast" means for an unreachable API server (a closed local port).
const FAST: Duration = Duration::from_secs(10);

/// The server the sandbox kubeconfig points at: a port nothing listens on.
const CLOSED_SERVER: &str = "https://127.0.0.1:1";

/// Upstream's flags (sealed-secrets v0.40 `cmd/controller/main.go` and `server.go`).
const UPSTREAM_FLAGS: [&str; 30] = [
    "key-prefix",
    "key-size",
    "key-ttl",
    "my-cn",
    "key-renew-period",
    "key-order-priority",
    "key-cutoff-time",
    "accept-deprecated-v1-data",
    "all-namespaces",
    "additional-namespaces",
    "label-selector",
    "rate-limit",
    "rate-limit-burst",
    "privatekey-annotations",
    "privatekey-labels",
    "old-gc-behavior",
    "update-status",
    "watch-for-secrets",
    "skip-recreate",
    "max-unseal-retries",
    "kubeclient-qps",
    "kubeclient-burst",
    "log-info-stdout",
    "log-level",
    "log-format",
    "listen-addr",
    "listen-metrics-addr",
    "read-timeout",
    "write-timeout",
    "metrics-omit-secret-labels",
];

/// gitseal's own flags.
const OWN_FLAGS: [&str; 2] = ["leader-elect", "workers"];

// --- running the binary -------------------------------------------------------------------

/// A finished run.
struct Run {
    what: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Everything, for assertion messages.
    fn dump(&self) -> String {
        format!(
            "{}\nstatus: {:?} after {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.what, self.status, self.elapsed, self.stdout, self.stderr
        )
    }

    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| !l.trim().is_empty()).collect()
    }

    /// No Rust panic, no abort by a signal.
    fn assert_no_panic(&self) {
        assert!(!self.stderr.contains("panicked"), "panic text in stderr:\n{}", self.dump());
        assert!(!self.stdout.contains("panicked"), "panic text in stdout:\n{}", self.dump());
        assert!(!self.stderr.contains("RUST_BACKTRACE"), "panic hint in stderr:\n{}", self.dump());
        assert!(self.code().is_some(), "killed by a signal:\n{}", self.dump());
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `cmd` to the end (stdin closed, output captured); kills it and fails after [`LIMIT`].
fn run(mut cmd: Command) -> Run {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child: Child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
    let out = reader(child.stdout.take().expect("stdout is piped"));
    let err = reader(child.stderr.take().expect("stderr is piped"));
    let status = loop {
        match child.try_wait().expect("try_wait") {
            Some(status) => break status,
            None if start.elapsed() > LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
                panic!("still running after {LIMIT:?}, killed: {what}\n--- stdout\n{stdout}--- stderr\n{stderr}---");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let elapsed = start.elapsed();
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    Run { what, status, stdout, stderr, elapsed }
}

/// A clean environment for the binary: nothing inherited (no `KUBECONFIG`,
/// `KUBERNETES_SERVICE_HOST`, `SEALED_SECRETS_*` or `POD_NAMESPACE` from the test's own
/// environment), `HOME` an empty directory, and a kubeconfig file pointing at a closed port.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).expect("home dir");
        let kubeconfig = format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: closed\n  cluster:\n    server: {CLOSED_SERVER}\n\
             contexts:\n\
             - name: closed\n  context:\n    cluster: closed\n    user: nobody\n    namespace: default\n\
             users:\n\
             - name: nobody\n  user:\n    token: not-a-real-token\n\
             current-context: closed\n"
        );
        std::fs::write(dir.path().join("closed.kubeconfig"), kubeconfig).expect("write kubeconfig");
        Sandbox { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A kubeconfig whose only server is [`CLOSED_SERVER`].
    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("closed.kubeconfig")
    }

    /// A path where no file is.
    fn missing(&self) -> PathBuf {
        self.dir.path().join("no-such.kubeconfig")
    }

    fn command(&self, args: &[&str], envs: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().env("HOME", self.home()).current_dir(self.dir.path()).args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        run(self.command(args, envs))
    }

    /// Runs with `KUBECONFIG` set to the closed-port kubeconfig (plus `envs`).
    fn run_closed(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let kc = self.kubeconfig();
        let mut all = vec![("KUBECONFIG", kc.to_str().expect("utf-8 temp path"))];
        all.extend_from_slice(envs);
        self.run(args, &all)
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The run stopped at the API (it got past parsing and validating its configuration): exit 1,
/// no panic, and on stderr the log lines of the stop followed by one plain line
/// `gitseal-unsealer: <error>`, which is returned (without the prefix).
fn controller_failure(r: &Run) -> String {
    r.assert_no_panic();
    assert_eq!(r.code(), Some(1), "expected the controller to stop with exit 1:\n{}", r.dump());
    let lines = r.stderr_lines();
    let plain: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("gitseal-unsealer: ")).collect();
    assert_eq!(plain.len(), 1, "expected one `gitseal-unsealer: <error>` line:\n{}", r.dump());
    assert_eq!(lines.last(), plain.first(), "the plain error line is not the last line:\n{}", r.dump());
    for line in &lines[..lines.len() - 1] {
        assert!(
            line.starts_with("time=") || line.starts_with('{'),
            "stderr line {line:?} is neither a log line nor the error line:\n{}",
            r.dump()
        );
    }
    plain[0].trim_start_matches("gitseal-unsealer: ").to_string()
}

/// Stopped because the API server did not answer (the closed port).
fn assert_unreachable(r: &Run) -> String {
    let error = controller_failure(r);
    assert!(error.starts_with("cannot reach the Kubernetes API server"), "not an unreachable-API error:\n{}", r.dump());
    assert!(r.elapsed < FAST, "took {:?} to give up on a closed port:\n{}", r.elapsed, r.dump());
    error
}

/// Refused at startup for a bad value (before any API call): exit 2, nothing on stdout, a short
/// error whose first line names `flag` and `value`.
fn assert_refused(r: &Run, flag: &str, value: &str) {
    r.assert_no_panic();
    assert_eq!(r.code(), Some(2), "expected exit 2 for a bad value:\n{}", r.dump());
    assert_eq!(r.stdout, "", "a refused run printed on stdout:\n{}", r.dump());
    let lines = r.stderr_lines();
    let first = lines.first().copied().unwrap_or_default();
    assert!(
        first.starts_with("error: ") || first.starts_with("gitseal-unsealer: "),
        "first stderr line {first:?} is not an error line:\n{}",
        r.dump()
    );
    assert!(first.contains(&format!("--{flag}")), "the error does not name --{flag}:\n{}", r.dump());
    assert!(first.contains(value), "the error does not quote the value {value:?}:\n{}", r.dump());
    assert!(lines.len() <= 4, "error longer than a short clap message:\n{}", r.dump());
    assert!(!r.stderr.contains("Kubernetes API"), "the API was looked for despite the bad value:\n{}", r.dump());
}

/// The log lines a run wrote (stdout and stderr, without the plain error line).
fn log_lines(r: &Run) -> Vec<String> {
    r.stdout
        .lines()
        .chain(r.stderr.lines())
        .filter(|l| !l.trim().is_empty() && !l.starts_with("gitseal-unsealer: "))
        .map(String::from)
        .collect()
}

/// The "controller stopped" line, as JSON: every log line must be a JSON object.
fn json_stop_line(r: &Run) -> serde_json::Value {
    let lines = log_lines(r);
    assert!(!lines.is_empty(), "no log line:\n{}", r.dump());
    let mut stop = None;
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("log line {line:?} is not JSON ({e}):\n{}", r.dump()));
        assert!(v.is_object(), "log line {line:?} is not a JSON object");
        for field in ["time", "level", "msg"] {
            assert!(v[field].is_string(), "log line {line:?} lacks {field}");
        }
        if v["msg"] == "controller stopped" {
            stop = Some(v);
        }
    }
    stop.unwrap_or_else(|| panic!("no \"controller stopped\" log line:\n{}", r.dump()))
}

/// The "controller stopped" line, in slog's text form: no log line may be JSON.
fn text_stop_line(r: &Run) -> String {
    let lines = log_lines(r);
    assert!(!lines.is_empty(), "no log line:\n{}", r.dump());
    for line in &lines {
        assert!(line.starts_with("time="), "log line {line:?} is not slog text:\n{}", r.dump());
        assert!(serde_json::from_str::<serde_json::Value>(line).is_err(), "log line {line:?} is JSON");
    }
    lines
        .iter()
        .find(|l| l.contains(" level=ERROR msg=\"controller stopped\" error="))
        .cloned()
        .unwrap_or_else(|| panic!("no text \"controller stopped\" line:\n{}", r.dump()))
}

// --- crd, help, version -------------------------------------------------------------------

#[test]
fn crd_prints_the_deployed_crd() {
    let expected = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/controller/crd.yaml"))
        .expect("deploy/controller/crd.yaml");
    assert!(expected.contains("kind: CustomResourceDefinition"), "deploy/controller/crd.yaml is not a CRD");
    let sandbox = Sandbox::new();
    let r = sandbox.run(&["crd"], &[]);
    r.assert_no_panic();
    assert_eq!(r.code(), Some(0), "{}", r.dump());
    assert!(r.stdout == expected, "`crd` output differs from deploy/controller/crd.yaml:\n{}", r.dump());
    assert_eq!(r.stderr, "", "{}", r.dump());

    // Needs no cluster, whatever the environment points at.
    let r = sandbox.run_closed(&["crd"], &[("SEALED_SECRETS_LOG_FORMAT", "json")]);
    assert_eq!((r.code(), r.stdout == expected), (Some(0), true), "{}", r.dump());

    // A subcommand does not take the controller's flags after it.
    let r = sandbox.run(&["crd", "--bogus"], &[]);
    r.assert_no_panic();
    assert_eq!(r.code(), Some(2), "{}", r.dump());
    assert_eq!(r.stdout, "", "{}", r.dump());
}

/// `--name` as a flag in help text: followed by a space, `[=`, `=` or the end of the line (so
/// that `--rate-limit` is not found in `--rate-limit-burst`).
fn has_flag(help: &str, name: &str) -> bool {
    let needle = format!("--{name}");
    help.match_indices(&needle).any(|(i, _)| {
        help[i + needle.len()..].chars().next().is_none_or(|c| c == ' ' || c == '[' || c == '=' || c == '\n')
    })
}

#[test]
fn help_lists_every_upstream_flag_and_its_env_variable() {
    let sandbox = Sandbox::new();
    let r = sandbox.run(&["--help"], &[]);
    r.assert_no_panic();
    assert_eq!(r.code(), Some(0), "{}", r.dump());
    let help = &r.stdout;
    let mut missing = Vec::new();
    for name in UPSTREAM_FLAGS.iter().chain(OWN_FLAGS.iter()) {
        if !has_flag(help, name) {
            missing.push(format!("--{name}"));
        }
        let env = format!("[env: SEALED_SECRETS_{}=]", name.to_uppercase().replace('-', "_"));
        if !help.contains(&env) {
            missing.push(env);
        }
    }
    assert!(missing.is_empty(), "--help lacks {missing:?}:\n{help}");
    assert!(has_flag(help, "kubeconfig") && has_flag(help, "version") && help.contains("crd"), "{help}");
    // The helper itself: a prefix of a listed flag is not a flag.
    assert!(!has_flag(help, "rate") && !has_flag(help, "key"), "has_flag matches prefixes");

    // The short form lists them too.
    let r = sandbox.run(&["-h"], &[]);
    assert_eq!(r.code(), Some(0), "{}", r.dump());
    for name in UPSTREAM_FLAGS.iter().chain(OWN_FLAGS.iter()) {
        assert!(has_flag(&r.stdout, name), "-h lacks --{name}:\n{}", r.stdout);
    }
}

#[test]
fn version_prints_the_crate_version() {
    let sandbox = Sandbox::new();
    let r = sandbox.run(&["--version"], &[]);
    r.assert_no_panic();
    assert_eq!(r.code(), Some(0), "{}", r.dump());
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.dump());
    assert!(r.stdout.contains(env!("CARGO_PKG_VERSION")), "no version {} in:\n{}", env!("CARGO_PKG_VERSION"), r.dump());
    assert_eq!(r.stderr, "", "{}", r.dump());
}

// --- refused values -----------------------------------------------------------------------

#[test]
fn bad_flag_values_are_refused_before_the_api_is_contacted() {
    let sandbox = Sandbox::new();
    // (argument, flag named in the error, value quoted in the error)
    let cases: &[(&str, &str, &str)] = &[
        ("--key-ttl=10days", "key-ttl", "10days"),
        ("--key-ttl=-1h", "key-ttl", "-1h"),
        ("--all-namespaces=maybe", "all-namespaces", "maybe"),
        ("--update-status=yes", "update-status", "yes"),
        ("--leader-elect=on", "leader-elect", "on"),
        ("--key-prefix=UPPER", "key-prefix", "UPPER"),
        ("--key-prefix=under_score", "key-prefix", "under_score"),
        ("--log-format=xml", "log-format", "xml"),
        ("--log-level=chatty", "log-level", "chatty"),
        ("--key-cutoff-time=yesterday", "key-cutoff-time", "yesterday"),
        ("--key-size=big", "key-size", "big"),
        ("--key-size=512", "key-size", "512"),
        ("--key-order-priority=Newest", "key-order-priority", "Newest"),
        ("--privatekey-labels=novalue", "privatekey-labels", "novalue"),
        ("--privatekey-annotations==v", "privatekey-annotations", "=v"),
        ("--read-timeout=2", "read-timeout", "2"),
        ("--write-timeout=soon", "write-timeout", "soon"),
        ("--key-renew-period=monthly", "key-renew-period", "monthly"),
        ("--rate-limit=-1", "rate-limit", "-1"),
        ("--max-unseal-retries=many", "max-unseal-retries", "many"),
        ("--kubeclient-qps=fast", "kubeclient-qps", "fast"),
        ("--kubeclient-burst=1.5", "kubeclient-burst", "1.5"),
        ("--workers=all", "workers", "all"),
    ];
    for (arg, flag, value) in cases {
        // With a kubeconfig, so that a value wrongly accepted ends at the API error instead.
        let r = sandbox.run_closed(&[arg], &[]);
        assert_refused(&r, flag, value);
    }
    // An unknown flag is refused too.
    let r = sandbox.run_closed(&["--no-such-flag"], &[]);
    r.assert_no_panic();
    assert_eq!(r.code(), Some(2), "{}", r.dump());
    assert!(r.stderr.lines().next().unwrap_or_default().contains("--no-such-flag"), "{}", r.dump());
}

#[test]
fn bad_env_values_are_refused_before_the_api_is_contacted() {
    let sandbox = Sandbox::new();
    // (variable, value, flag named in the error)
    let cases: &[(&str, &str, &str)] = &[
        ("SEALED_SECRETS_KEY_SIZE", "big", "key-size"),
        ("SEALED_SECRETS_KEY_TTL", "10days", "key-ttl"),
        ("SEALED_SECRETS_ALL_NAMESPACES", "maybe", "all-namespaces"),
        ("SEALED_SECRETS_SKIP_RECREATE", "yes", "skip-recreate"),
        ("SEALED_SECRETS_KEY_PREFIX", "UPPER", "key-prefix"),
        ("SEALED_SECRETS_LOG_FORMAT", "xml", "log-format"),
        ("SEALED_SECRETS_LOG_LEVEL", "chatty", "log-level"),
        ("SEALED_SECRETS_KEY_CUTOFF_TIME", "garbage", "key-cutoff-time"),
        ("SEALED_SECRETS_KEY_ORDER_PRIORITY", "Newest", "key-order-priority"),
        ("SEALED_SECRETS_READ_TIMEOUT", "2", "read-timeout"),
        ("SEALED_SECRETS_WORKERS", "all", "workers"),
        ("SEALED_SECRETS_ROTATE_PERIOD", "monthly", "rotate-period"),
    ];
    for (var, value, flag) in cases {
        let r = sandbox.run_closed(&[], &[(var, value)]);
        assert_refused(&r, flag, value);
    }
}

// --- no cluster ---------------------------------------------------------------------------

#[test]
fn no_kubeconfig_and_not_in_a_cluster_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let r = sandbox.run(&[], &[]);
    let error = controller_failure(&r);
    assert!(
        error.starts_with("cannot find the Kubernetes API (not in a cluster, and no kubeconfig)"),
        "unclear error:\n{}",
        r.dump()
    );
    // It says where it looked.
    let home_config = sandbox.home().join(".kube").join("config");
    assert!(error.contains(path_str(&home_config)), "the error does not name {home_config:?}:\n{}", r.dump());
    // The same stop is logged (text by default, to stderr).
    let line = text_stop_line(&r);
    assert!(line.contains("cannot find the Kubernetes API"), "{line}");
    assert_eq!(r.stdout, "", "{}", r.dump());

    // In-cluster variables half set (no token file here) are no better, and no panic.
    let r = sandbox.run(&[], &[("KUBERNETES_SERVICE_HOST", "127.0.0.1"), ("KUBERNETES_SERVICE_PORT", "1")]);
    let error = controller_failure(&r);
    assert!(error.contains("Kubernetes API"), "unclear error:\n{}", r.dump());
}

#[test]
fn unreachable_api_server_fails_fast() {
    let sandbox = Sandbox::new();
    let kc = sandbox.kubeconfig();
    // Through KUBECONFIG, --kubeconfig <path>, SEALED_SECRETS_KUBECONFIG and --kubeconfig=<path>.
    for (args, envs) in [
        (vec![], vec![("KUBECONFIG", path_str(&kc))]),
        (vec!["--kubeconfig", path_str(&kc)], vec![]),
        (vec![], vec![("SEALED_SECRETS_KUBECONFIG", path_str(&kc))]),
    ] {
        let r = sandbox.run(&args, &envs);
        let error = assert_unreachable(&r);
        assert!(!error.contains('\n'));
        // Nothing claims the controller started: that comes only after the API answered.
        assert!(!r.stdout.contains("Starting sealed-secrets controller"), "{}", r.dump());
        assert!(!r.stderr.contains("serving"), "{}", r.dump());
    }
    let owned = format!("--kubeconfig={}", path_str(&kc));
    assert_unreachable(&sandbox.run(&[&owned], &[]));
}

// --- environment variables, and the command line winning ----------------------------------

#[test]
fn env_log_format_is_read_and_the_command_line_wins() {
    let sandbox = Sandbox::new();

    // Default: slog text.
    let r = sandbox.run_closed(&[], &[]);
    assert_unreachable(&r);
    let line = text_stop_line(&r);
    assert!(line.contains("error=\"cannot reach the Kubernetes API server"), "{line}");

    // The env variable selects JSON.
    let r = sandbox.run_closed(&[], &[("SEALED_SECRETS_LOG_FORMAT", "json")]);
    let error = assert_unreachable(&r);
    let stop = json_stop_line(&r);
    assert_eq!(stop["level"], "ERROR", "{stop}");
    assert_eq!(stop["error"].as_str(), Some(error.as_str()), "the JSON line and the plain line disagree");

    // The command line overrides it back to text.
    let r = sandbox.run_closed(&["--log-format=text"], &[("SEALED_SECRETS_LOG_FORMAT", "json")]);
    assert_unreachable(&r);
    text_stop_line(&r);
    let r = sandbox.run_closed(&["--log-format", "text"], &[("SEALED_SECRETS_LOG_FORMAT", "json")]);
    assert_unreachable(&r);
    text_stop_line(&r);

    // And to JSON over a text env value.
    let r = sandbox.run_closed(&["--log-format=json"], &[("SEALED_SECRETS_LOG_FORMAT", "text")]);
    assert_unreachable(&r);
    json_stop_line(&r);

    // An invalid env value does not matter when the command line sets the flag.
    let r = sandbox.run_closed(&["--log-format=json"], &[("SEALED_SECRETS_LOG_FORMAT", "xml")]);
    assert_unreachable(&r);
    json_stop_line(&r);
}

#[test]
fn env_key_cutoff_time_is_read_and_the_command_line_wins() {
    let sandbox = Sandbox::new();
    let garbage = [("SEALED_SECRETS_KEY_CUTOFF_TIME", "garbage")];

    // From the environment: refused in main, before any API call.
    let r = sandbox.run_closed(&[], &garbage);
    assert_refused(&r, "key-cutoff-time", "garbage");
    assert_eq!(r.stderr_lines().len(), 1, "not a one-line error:\n{}", r.dump());

    // An empty value on the command line overrides it: the run gets to the API.
    for args in [&["--key-cutoff-time="][..], &["--key-cutoff-time", ""]] {
        assert_unreachable(&sandbox.run_closed(args, &garbage));
    }
    // So does a valid one.
    assert_unreachable(&sandbox.run_closed(&["--key-cutoff-time=Mon, 02 Jan 2006 15:04:05 -0700"], &garbage));

    // A valid env value is accepted; an invalid command-line value over it is refused.
    let valid = [("SEALED_SECRETS_KEY_CUTOFF_TIME", "Tue, 01 Sep 2026 10:00:00 +0200")];
    assert_unreachable(&sandbox.run_closed(&[], &valid));
    let r = sandbox.run_closed(&["--key-cutoff-time=yesterday"], &valid);
    assert_refused(&r, "key-cutoff-time", "yesterday");
}

#[test]
fn env_kubeconfig_is_read_and_the_command_line_wins() {
    let sandbox = Sandbox::new();
    let (kc, missing) = (sandbox.kubeconfig(), sandbox.missing());
    let missing_flag = format!("--kubeconfig={}", path_str(&missing));
    let kc_flag = format!("--kubeconfig={}", path_str(&kc));

    // Without it there is no API to find; with it, the configured server is tried.
    let error = controller_failure(&sandbox.run(&[], &[]));
    assert!(error.contains("no kubeconfig"), "{error}");
    assert_unreachable(&sandbox.run(&[], &[("SEALED_SECRETS_KUBECONFIG", path_str(&kc))]));

    // A missing file named by the env variable is reported as such (and by path).
    let r = sandbox.run(&[], &[("SEALED_SECRETS_KUBECONFIG", path_str(&missing))]);
    let error = controller_failure(&r);
    assert!(error.starts_with("cannot read --kubeconfig"), "{}", r.dump());
    assert!(error.contains(path_str(&missing)), "{}", r.dump());

    // The command line wins over the env variable, both ways.
    let r = sandbox.run(&[&missing_flag], &[("SEALED_SECRETS_KUBECONFIG", path_str(&kc))]);
    let error = controller_failure(&r);
    assert!(error.starts_with("cannot read --kubeconfig") && error.contains(path_str(&missing)), "{}", r.dump());
    assert_unreachable(&sandbox.run(&[&kc_flag], &[("SEALED_SECRETS_KUBECONFIG", path_str(&missing))]));

    // And over KUBECONFIG, which only the default lookup reads.
    let r = sandbox.run(&[&missing_flag], &[("KUBECONFIG", path_str(&kc))]);
    let error = controller_failure(&r);
    assert!(error.starts_with("cannot read --kubeconfig") && error.contains(path_str(&missing)), "{}", r.dump());
    let r = sandbox.run(&[], &[("KUBECONFIG", path_str(&missing))]);
    let error = controller_failure(&r);
    assert!(error.starts_with("cannot find the Kubernetes API") && error.contains(path_str(&missing)), "{}", r.dump());
}

#[test]
fn a_command_line_value_replaces_an_invalid_env_value() {
    let sandbox = Sandbox::new();
    // (variable, invalid value, command-line argument that makes it irrelevant)
    let cases: &[(&str, &str, &str)] = &[
        ("SEALED_SECRETS_KEY_SIZE", "big", "--key-size=2048"),
        ("SEALED_SECRETS_KEY_TTL", "10days", "--key-ttl=24h"),
        ("SEALED_SECRETS_KEY_PREFIX", "UPPER", "--key-prefix=my-keys"),
        ("SEALED_SECRETS_ALL_NAMESPACES", "maybe", "--all-namespaces=false"),
        ("SEALED_SECRETS_ALL_NAMESPACES", "maybe", "--all-namespaces"),
        ("SEALED_SECRETS_UPDATE_STATUS", "yes", "--update-status=F"),
        ("SEALED_SECRETS_LOG_LEVEL", "chatty", "--log-level=debug"),
        ("SEALED_SECRETS_KEY_ORDER_PRIORITY", "Newest", "--key-order-priority=SecretCreationTimestamp"),
        ("SEALED_SECRETS_PRIVATEKEY_LABELS", "novalue", "--privatekey-labels=team=infra"),
        ("SEALED_SECRETS_WORKERS", "all", "--workers=2"),
    ];
    for (var, value, arg) in cases {
        // Refused alone...
        let r = sandbox.run_closed(&[], &[(var, value)]);
        assert_eq!(r.code(), Some(2), "{var}={value} was not refused:\n{}", r.dump());
        // ...accepted when the command line sets the flag.
        assert_unreachable(&sandbox.run_closed(&[arg], &[(var, value)]));
    }
}

#[test]
fn go_forms_are_accepted_from_flags_and_env() {
    let sandbox = Sandbox::new();
    let flag_sets: &[&[&str]] = &[
        &["--all-namespaces=F", "--additional-namespaces=a, b"],
        &["--skip-recreate", "--old-gc-behavior=TRUE", "--update-status=0", "--watch-for-secrets=t"],
        &["--accept-deprecated-v1-data=False", "--log-info-stdout=1", "--metrics-omit-secret-labels"],
        &["--key-renew-period=1h30m", "--read-timeout=90s", "--write-timeout=500ms", "--key-ttl=87600h"],
        &["--rotate-period=24h", "--key-renew-period=0"],
        &["--privatekey-labels=team=infra,tier=keys", "--privatekey-annotations=a=b=c"],
        &["--kubeclient-qps=-1", "--kubeclient-burst=20", "--rate-limit=0", "--rate-limit-burst=5"],
        &["--log-level=warn", "--my-cn=sealed", "--label-selector=app=x"],
        &["--leader-elect", "--workers=4", "--listen-addr=127.0.0.1:0", "--listen-metrics-addr=127.0.0.1:0"],
    ];
    for args in flag_sets {
        assert_unreachable(&sandbox.run_closed(args, &[]));
    }
    let env: &[(&str, &str)] = &[
        ("SEALED_SECRETS_ALL_NAMESPACES", "FALSE"),
        ("SEALED_SECRETS_SKIP_RECREATE", "T"),
        ("SEALED_SECRETS_UPDATE_STATUS", "f"),
        ("SEALED_SECRETS_LOG_INFO_STDOUT", "false"),
        ("SEALED_SECRETS_KEY_RENEW_PERIOD", "720h"),
        ("SEALED_SECRETS_ROTATE_PERIOD", "1h"),
        ("SEALED_SECRETS_KEY_SIZE", "2048"),
        ("SEALED_SECRETS_KEY_PREFIX", "custom-key-1"),
        ("SEALED_SECRETS_LEADER_ELECT", "true"),
        ("SEALED_SECRETS_LOG_LEVEL", "Debug"),
    ];
    assert_unreachable(&sandbox.run_closed(&[], env));
}

// --- errors that name their cause, and repeated flags ---------------------------------------

#[test]
fn malformed_kubeconfig_is_a_one_line_error() {
    let sandbox = Sandbox::new();
    let bad = sandbox.dir.path().join("bad.kubeconfig");
    std::fs::write(&bad, "not: [yaml\n").expect("write");
    let r = sandbox.run(&["--kubeconfig", path_str(&bad)], &[]);
    r.assert_no_panic();
    assert_eq!(r.code(), Some(1), "{}", r.dump());
    let plain: Vec<&str> = r.stderr_lines().into_iter().filter(|l| !l.starts_with("time=")).collect();
    assert_eq!(plain.len(), 1, "not a one-line error:\n{}", r.dump());
    assert!(plain[0].starts_with("gitseal-unsealer: cannot read --kubeconfig"), "{}", r.dump());
}

#[test]
fn unreachable_api_error_names_the_server() {
    let sandbox = Sandbox::new();
    let r = sandbox.run_closed(&[], &[]);
    let error = assert_unreachable(&r);
    assert!(error.contains("127.0.0.1:1"), "the error does not say which server:\n{}", r.dump());
    assert!(error.to_lowercase().contains("refused"), "the error does not say why:\n{}", r.dump());
}

#[test]
fn a_repeated_flag_takes_the_last_value() {
    let sandbox = Sandbox::new();
    let r = sandbox.run_closed(&["--log-format=text", "--log-format=json"], &[]);
    assert_unreachable(&r);
    json_stop_line(&r);
    assert_unreachable(&sandbox.run_closed(&["--all-namespaces=false", "--all-namespaces"], &[]));
}
