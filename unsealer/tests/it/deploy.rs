//! The manifests in deploy/: the base (deploy/), the HA overlay (deploy/ha) and the
//! monitoring objects (deploy/monitoring), rendered with `kubectl kustomize`, schema-checked
//! offline by kubernetes-validate, and checked for the facts that kubeseal, the restricted Pod
//! Security level and Prometheus depend on. The Dockerfile is checked as text (no registry
//! here to build it).
//!
//! A missing peer (kubectl, kubernetes-validate, a python with PyYAML to read the rendered
//! YAML) skips a test with a note, and fails it under CI=true; scripts/install-peers puts
//! kubernetes-validate and PyYAML in .peers/venv.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NS: &str = "kube-system";
const NAME: &str = "sealed-secrets-controller";

/// Kubernetes versions the manifests must be valid for: the oldest the unsealer is built
/// against (k8s-openapi `v1_32`) and kubernetes-validate's newest (its default).
const VERSIONS: [Option<&str>; 2] = [Some("1.32.0"), None];

/// Every metric the binary exposes; alerts and dashboards may use no other.
const METRICS: [&str; 12] = [
    "sealed_secrets_controller_build_info",
    "sealed_secrets_controller_unseal_requests_total",
    "sealed_secrets_controller_unseal_errors_total",
    "sealed_secrets_controller_condition_info",
    "sealed_secrets_controller_http_requests_total",
    "sealed_secrets_controller_http_request_duration_seconds",
    "gitseal_unsealer_ready",
    "gitseal_unsealer_leader",
    "gitseal_unsealer_keys",
    "gitseal_unsealer_sealing_key_timestamp_seconds",
    "gitseal_unsealer_key_objects",
    "gitseal_unsealer_key_errors_total",
];

// --- peers --------------------------------------------------------------------------------

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn deploy(sub: &str) -> PathBuf {
    repo().join("deploy").join(sub)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

/// The project's venv first (what scripts/install-peers installs), then PATH.
fn venv_or_path(name: &str) -> Option<PathBuf> {
    let venv = repo().join(".peers/venv/bin").join(name);
    if is_executable(&venv) {
        Some(venv)
    } else {
        on_path(name)
    }
}

/// A missing peer: a failure under CI, else a note and a skip. `hint`: where it comes from.
fn missing<T>(tool: &str, hint: &str) -> Option<T> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{tool} not found under CI ({hint})");
    }
    eprintln!("skipped: {tool} not found ({hint})");
    None
}

struct Peers {
    kubectl: PathBuf,
    validate: PathBuf,
    python: PathBuf,
}

fn has_pyyaml(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn peers() -> Option<Peers> {
    let venv = "run scripts/install-peers";
    let kubectl = on_path("kubectl").or_else(|| missing("kubectl", "needs kubectl >= 1.27, with kustomize v5"))?;
    let validate = venv_or_path("kubernetes-validate").or_else(|| missing("kubernetes-validate", venv))?;
    let python = [venv_or_path("python"), on_path("python3")]
        .into_iter()
        .flatten()
        .find(|p| has_pyyaml(p))
        .or_else(|| missing("python with PyYAML", venv))?;
    Some(Peers { kubectl, validate, python })
}

fn run(cmd: &mut Command, stdin: &str) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.as_bytes().to_vec();
    // A separate writer: a large input must not deadlock against a full stdout pipe.
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("cannot wait for {cmd:?}: {e}"));
    feeder.join().expect("stdin feeder");
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// --- rendering and validation -------------------------------------------------------------

/// `kubectl kustomize deploy/<sub>` as YAML and as one JSON value per object.
fn render(peers: &Peers, sub: &str) -> (String, Vec<Value>) {
    let dir = deploy(sub);
    let out = run(Command::new(&peers.kubectl).arg("kustomize").arg(&dir), "");
    assert!(out.status.success(), "kubectl kustomize {} failed:\n{}", dir.display(), text(&out.stderr));
    let yaml = text(&out.stdout);
    let script = "import sys, json, yaml\n\
                  json.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)";
    let out = run(Command::new(&peers.python).args(["-c", script]), &yaml);
    assert!(out.status.success(), "cannot read the rendering of {sub:?} as YAML:\n{}", text(&out.stderr));
    let docs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("python printed JSON");
    assert!(!docs.is_empty(), "{sub:?} renders no object");
    (yaml, docs)
}

/// Schema-checks a rendering with `kubernetes-validate --strict` (unknown fields are errors)
/// for each of VERSIONS. It has schemas for built-in kinds and the CRD kind only; the
/// custom-resource kinds in `unchecked` are the only ones it may skip.
fn validate(peers: &Peers, sub: &str, yaml: &str, unchecked: &[&str]) {
    for version in VERSIONS {
        let mut cmd = Command::new(&peers.validate);
        cmd.args(["--strict", "--quiet"]);
        if let Some(v) = version {
            cmd.args(["--kubernetes-version", v]);
        }
        let out = run(cmd.arg("-"), yaml);
        let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
        let at = version.unwrap_or("its default version");
        assert!(out.status.success(), "kubernetes-validate rejects {sub:?} for {at}:\n{report}");
        for line in report.lines().filter(|l| !l.trim().is_empty()) {
            let skipped = unchecked.iter().any(|kind| {
                line.starts_with("WARN") && line.contains(&format!("Couldn't find schema for kind {kind} "))
            });
            assert!(skipped, "kubernetes-validate on {sub:?} for {at}: {line}");
        }
    }
}

// --- looking into the objects -------------------------------------------------------------

fn describe(docs: &[Value]) -> Vec<String> {
    docs.iter().map(|d| format!("{}/{}", str_at(d, "/kind"), str_at(d, "/metadata/name"))).collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among {:?}", describe(docs)))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// Every key/value of `selector` (a label map) is among `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(selector) = selector.as_object().filter(|m| !m.is_empty()) else { return false };
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The (apiGroup, resource, verb) triples a Role or ClusterRole grants, with the
/// resourceNames a rule is limited to (empty: all).
fn grants(role: &Value) -> Vec<(String, String, String, Vec<String>)> {
    let mut out = Vec::new();
    for rule in array_at(role, "/rules") {
        let list = |key: &str| -> Vec<String> {
            array_at(rule, key).iter().map(|v| v.as_str().unwrap_or("").to_string()).collect()
        };
        let names = list("/resourceNames");
        for group in list("/apiGroups") {
            for resource in list("/resources") {
                for verb in list("/verbs") {
                    out.push((group.clone(), resource.clone(), verb, names.clone()));
                }
            }
        }
    }
    out
}

fn triples(role: &Value) -> BTreeSet<(String, String, String)> {
    grants(role).into_iter().map(|(g, r, v, _)| (g, r, v)).collect()
}

fn expect_triples(group: &str, resource: &str, verbs: &[&str]) -> BTreeSet<(String, String, String)> {
    verbs.iter().map(|v| (group.to_string(), resource.to_string(), v.to_string())).collect()
}

/// A binding in `docs` from `role` (kind, name) to a subject (kind, name, namespace).
fn is_bound(docs: &[Value], role: (&str, &str), subject: (&str, &str, Option<&str>)) -> bool {
    docs.iter().filter(|d| d["kind"] == "RoleBinding" || d["kind"] == "ClusterRoleBinding").any(|b| {
        str_at(b, "/roleRef/kind") == role.0
            && str_at(b, "/roleRef/name") == role.1
            && array_at(b, "/subjects").iter().any(|s| {
                str_at(s, "/kind") == subject.0
                    && str_at(s, "/name") == subject.1
                    && subject.2.is_none_or(|ns| str_at(s, "/namespace") == ns)
            })
    })
}

fn controller(docs: &[Value]) -> &Value {
    find(docs, "Deployment", NAME)
}

fn container(deployment: &Value) -> &Value {
    array_at(deployment, "/spec/template/spec/containers")
        .iter()
        .find(|c| c["name"] == NAME)
        .unwrap_or_else(|| panic!("no container {NAME} in the Deployment"))
}

fn pod_labels(docs: &[Value]) -> &Value {
    &controller(docs)["spec"]["template"]["metadata"]["labels"]
}

/// A securityContext field of the container, else of the pod (where Kubernetes falls back).
fn security<'a>(deployment: &'a Value, field: &str) -> &'a Value {
    let c = &container(deployment)["securityContext"];
    let p = &deployment["spec"]["template"]["spec"]["securityContext"];
    c.pointer(field).or_else(|| p.pointer(field)).unwrap_or(&Value::Null)
}

// --- the controller, in the base and the HA overlay ----------------------------------------

/// What both deploy/ and deploy/ha must render: the controller as upstream lays it out.
fn check_controller(docs: &[Value]) {
    let cluster_scoped = ["CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace"];
    for d in docs.iter().filter(|d| !cluster_scoped.contains(&str_at(d, "/kind"))) {
        assert_eq!(str_at(d, "/metadata/namespace"), NS, "{} is not in {NS}", describe(std::slice::from_ref(d))[0]);
    }
    find(docs, "ServiceAccount", NAME);

    // kubeseal: GET the Service, then proxy to http:<name>:<name of its first port>.
    let svc = find(docs, "Service", NAME);
    let first = &array_at(svc, "/spec/ports")[0];
    assert_eq!(first["name"], "http", "the first port of Service {NAME} must be named http: {first}");
    assert_eq!(first["port"], 8080, "{first}");
    assert!(first["targetPort"] == "http" || first["targetPort"] == 8080, "{first}");
    assert!(selects(&svc["spec"]["selector"], pod_labels(docs)), "Service {NAME} selects no controller pod");

    let metrics = find(docs, "Service", &format!("{NAME}-metrics"));
    let port = array_at(metrics, "/spec/ports").iter().find(|p| p["name"] == "metrics");
    assert_eq!(port.map(|p| &p["port"]), Some(&Value::from(8081)), "metrics Service: {metrics}");
    assert!(selects(&metrics["spec"]["selector"], pod_labels(docs)), "the metrics Service selects no controller pod");

    let dep = controller(docs);
    assert_eq!(dep["metadata"]["labels"]["name"], NAME);
    assert_eq!(pod_labels(docs)["name"], NAME);
    assert!(selects(&dep["spec"]["selector"]["matchLabels"], pod_labels(docs)), "Deployment selector");
    assert_eq!(str_at(dep, "/spec/template/spec/serviceAccountName"), NAME);
    let c = container(dep);
    assert_eq!(str_at(c, "/image"), "ghcr.io/gitseal/gitseal-unsealer:0.1.0");
    assert_eq!(c["command"], serde_json::json!(["gitseal-unsealer"]));
    let port_of =
        |name: &str| array_at(c, "/ports").iter().find(|p| p["name"] == name).map(|p| p["containerPort"].clone());
    assert_eq!(port_of("http"), Some(Value::from(8080)));
    assert_eq!(port_of("metrics"), Some(Value::from(8081)));
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(str_at(c, &format!("/{probe}/httpGet/path")), path, "{probe}");
        assert_eq!(str_at(c, &format!("/{probe}/httpGet/port")), "http", "{probe}");
    }
    for (var, field) in [("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")] {
        let env = array_at(c, "/env").iter().find(|e| e["name"] == var);
        let from = env.map(|e| str_at(e, "/valueFrom/fieldRef/fieldPath"));
        assert_eq!(from, Some(field), "env {var} from the downward API");
    }
    for (kind, res) in [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")] {
        assert!(c["resources"][kind][res].is_string(), "resources.{kind}.{res} unset");
    }

    // The restricted Pod Security Standard, on the container itself.
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{sc}");
    assert_eq!(sc["runAsNonRoot"], true, "{sc}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{sc}");
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{sc}");
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{sc}");
    assert!(sc.get("privileged").is_none_or(|p| p == false), "{sc}");
    assert_eq!(security(dep, "/runAsUser"), 65532, "uid");
    let pod = &dep["spec"]["template"]["spec"];
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        assert!(pod.get(host).is_none_or(|v| v == false), "{host}");
    }
    // The only writable path, since the root filesystem is read-only.
    let tmp = array_at(c, "/volumeMounts").iter().find(|m| m["mountPath"] == "/tmp").expect("/tmp mounted");
    let vol = array_at(pod, "/volumes").iter().find(|v| v["name"] == tmp["name"]).expect("the /tmp volume");
    assert!(vol["emptyDir"].is_object(), "/tmp is an emptyDir: {vol}");

    check_rbac(docs);
}

fn check_rbac(docs: &[Value]) {
    // Least privilege: no wildcard anywhere.
    for role in docs.iter().filter(|d| d["kind"] == "Role" || d["kind"] == "ClusterRole") {
        for (g, r, v, _) in grants(role) {
            assert!(
                ![&g, &r, &v].iter().any(|s| s.contains('*')),
                "wildcard in {}: {g} {r} {v}",
                role["metadata"]["name"]
            );
        }
    }

    // Exactly upstream's grants (controller.jsonnet), no more.
    let unsealer = find(docs, "ClusterRole", "secrets-unsealer");
    let mut want = expect_triples("bitnami.com", "sealedsecrets", &["get", "list", "watch"]);
    want.extend(expect_triples("bitnami.com", "sealedsecrets/status", &["update"]));
    want.extend(expect_triples("", "secrets", &["get", "list", "create", "update", "delete", "watch"]));
    want.extend(expect_triples("", "events", &["create", "patch"]));
    want.extend(expect_triples("", "namespaces", &["get"]));
    assert_eq!(triples(unsealer), want, "ClusterRole secrets-unsealer");
    let sa = ("ServiceAccount", NAME, Some(NS));
    assert!(is_bound(docs, ("ClusterRole", "secrets-unsealer"), sa), "secrets-unsealer is not bound to the controller");

    // Key Secrets: create and list as upstream; reads to watch them live, nothing else.
    let keys = find(docs, "Role", "sealed-secrets-key-admin");
    let got = triples(keys);
    assert!(expect_triples("", "secrets", &["create", "list"]).is_subset(&got), "key-admin: {got:?}");
    assert!(
        got.is_subset(&expect_triples("", "secrets", &["create", "list", "get", "watch", "update"])),
        "key-admin: {got:?}"
    );
    assert!(is_bound(docs, ("Role", "sealed-secrets-key-admin"), sa), "sealed-secrets-key-admin is not bound");

    // kubeseal through the API server's service proxy, for every signed-in user, in this
    // namespace only.
    let proxier = find(docs, "Role", "sealed-secrets-service-proxier");
    let g = grants(proxier);
    let allows = |res: &str, verb: &str, name: &str| {
        g.iter().any(|(gr, r, v, n)| gr.is_empty() && r == res && v == verb && n.iter().any(|x| x == name))
    };
    assert!(allows("services", "get", NAME), "proxier: get the Service");
    for verb in ["get", "create"] {
        assert!(
            allows("services/proxy", verb, "http:sealed-secrets-controller:http"),
            "proxier: {verb} services/proxy"
        );
    }
    let everyone = ("Group", "system:authenticated", None);
    assert!(is_bound(docs, ("Role", "sealed-secrets-service-proxier"), everyone), "the proxier Role is not bound");
    for b in docs.iter().filter(|d| d["kind"] == "ClusterRoleBinding") {
        for s in array_at(b, "/subjects") {
            let who = str_at(s, "/name");
            assert!(!who.starts_with("system:") || s["kind"] == "ServiceAccount", "cluster-wide grant to {who} in {b}");
        }
    }
}

#[test]
fn base_renders_valid_manifests_laid_out_like_upstream() {
    let Some(peers) = peers() else { return };
    let (yaml, docs) = render(&peers, "");
    validate(&peers, "deploy/", &yaml, &[]);
    check_controller(&docs);

    let crd = find(&docs, "CustomResourceDefinition", "sealedsecrets.bitnami.com");
    assert_eq!(str_at(crd, "/spec/group"), "bitnami.com");
    assert_eq!(str_at(crd, "/spec/names/kind"), "SealedSecret");
    assert_eq!(str_at(crd, "/spec/scope"), "Namespaced");
    let v1alpha1 = array_at(crd, "/spec/versions").iter().find(|v| v["name"] == "v1alpha1").expect("v1alpha1");
    assert_eq!(v1alpha1["served"], true);
    assert_eq!(v1alpha1["storage"], true);
    // The controller writes status through the subresource (sealedsecrets/status update).
    assert!(v1alpha1["subresources"]["status"].is_object(), "no status subresource");

    // One replica without leader election: never two at once.
    let dep = controller(&docs);
    assert_eq!(dep["spec"]["replicas"], 1);
    assert_eq!(str_at(dep, "/spec/strategy/type"), "Recreate");
    assert!(array_at(container(dep), "/args").iter().all(|a| a != "--leader-elect"));
}

#[test]
fn ha_overlay_runs_two_replicas_with_leader_election() {
    let Some(peers) = peers() else { return };
    let (yaml, docs) = render(&peers, "ha");
    validate(&peers, "deploy/ha", &yaml, &[]);
    check_controller(&docs);

    let dep = controller(&docs);
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_ne!(str_at(dep, "/spec/strategy/type"), "Recreate", "two replicas roll one at a time");
    let args: Vec<&str> = array_at(container(dep), "/args").iter().filter_map(Value::as_str).collect();
    assert!(args.contains(&"--leader-elect"), "args: {args:?}");
    assert!(args.contains(&"--workers=4"), "args: {args:?}");

    let lease = docs
        .iter()
        .find(|d| d["kind"] == "Role" && triples(d).iter().any(|(g, r, _)| g == "coordination.k8s.io" && r == "leases"))
        .expect("a Role for the leader Lease");
    assert_eq!(str_at(lease, "/metadata/namespace"), NS);
    assert_eq!(triples(lease), expect_triples("coordination.k8s.io", "leases", &["get", "create", "update"]));
    let lease_name = str_at(lease, "/metadata/name");
    assert!(is_bound(&docs, ("Role", lease_name), ("ServiceAccount", NAME, Some(NS))), "{lease_name} is not bound");

    let pdb = docs.iter().find(|d| d["kind"] == "PodDisruptionBudget").expect("a PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert!(selects(&pdb["spec"]["selector"]["matchLabels"], pod_labels(&docs)), "the PDB selects no controller pod");

    let spread =
        array_at(dep, "/spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution");
    assert!(
        spread.iter().any(|t| {
            t["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
                && selects(&t["podAffinityTerm"]["labelSelector"]["matchLabels"], pod_labels(&docs))
        }),
        "no preferred anti-affinity across nodes: {spread:?}"
    );
}

// --- monitoring ---------------------------------------------------------------------------

/// The metric names an expression uses (histogram series suffixes removed).
fn metrics_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in ["sealed_secrets_controller_", "gitseal_unsealer_"] {
        for (at, _) in expr.match_indices(prefix) {
            let before = expr[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let name: String =
                expr[at..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
            let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
            out.push(base.to_string());
        }
    }
    out
}

fn assert_known_metrics(what: &str, expr: &str) {
    let used = metrics_in(expr);
    assert!(!used.is_empty(), "{what} uses none of the unsealer's metrics: {expr}");
    for m in used {
        assert!(METRICS.contains(&m.as_str()), "{what} uses {m}, which the unsealer does not expose: {expr}");
    }
}

/// Every `expr` in a Grafana dashboard, rows' nested panels included.
fn dashboard_exprs(panels: &[Value], out: &mut Vec<String>) {
    for p in panels {
        for t in array_at(p, "/targets") {
            out.push(str_at(t, "/expr").to_string());
        }
        dashboard_exprs(array_at(p, "/panels"), out);
    }
}

#[test]
fn monitoring_scrapes_alerts_and_graphs_the_unsealer_metrics() {
    let Some(peers) = peers() else { return };
    let (yaml, docs) = render(&peers, "monitoring");
    validate(&peers, "deploy/monitoring", &yaml, &["ServiceMonitor", "PrometheusRule"]);
    let (_, base) = render(&peers, "");

    // The ServiceMonitor scrapes the metrics Service (and not the API one) on its named port.
    let sm = docs.iter().find(|d| d["kind"] == "ServiceMonitor").expect("a ServiceMonitor");
    assert_eq!(str_at(sm, "/apiVersion"), "monitoring.coreos.com/v1");
    let selector = &sm["spec"]["selector"]["matchLabels"];
    let metrics_svc = find(&base, "Service", &format!("{NAME}-metrics"));
    assert!(selects(selector, &metrics_svc["metadata"]["labels"]), "the ServiceMonitor misses the metrics Service");
    assert!(
        !selects(selector, &find(&base, "Service", NAME)["metadata"]["labels"]),
        "the ServiceMonitor also selects the API Service"
    );
    let names = array_at(sm, "/spec/namespaceSelector/matchNames");
    assert!(names.iter().any(|n| n == NS), "namespaceSelector: {names:?}");
    let endpoint =
        array_at(sm, "/spec/endpoints").iter().find(|e| e["port"] == "metrics").expect("an endpoint on port metrics");
    // unseal_errors_total and condition_info carry the SealedSecret's own namespace label.
    assert_eq!(endpoint["honorLabels"], true);

    // Alerts: each on the metric it is about, with a severity and a summary.
    let rule = docs.iter().find(|d| d["kind"] == "PrometheusRule").expect("a PrometheusRule");
    let alerts: Vec<&Value> = array_at(rule, "/spec/groups").iter().flat_map(|g| array_at(g, "/rules")).collect();
    let alert = |needle: &str| -> &Value {
        alerts
            .iter()
            .copied()
            .find(|a| str_at(a, "/expr").contains(needle))
            .unwrap_or_else(|| panic!("no alert on {needle}"))
    };
    for a in &alerts {
        let name = str_at(a, "/alert");
        assert!(!name.is_empty(), "a recording rule or a nameless alert: {a}");
        assert_known_metrics(name, str_at(a, "/expr"));
        assert!(!str_at(a, "/labels/severity").is_empty(), "{name} has no severity");
        assert!(!str_at(a, "/annotations/summary").is_empty(), "{name} has no summary");
    }
    let errors = alert("rate(sealed_secrets_controller_unseal_errors_total[5m])");
    assert_eq!(errors["for"], "15m");
    for label in ["namespace", "reason"] {
        assert!(str_at(errors, "/expr").contains(label), "unseal errors not by {label}");
    }
    assert!(str_at(alert("gitseal_unsealer_sealing_key_timestamp_seconds"), "/expr").contains("35 * 24 * 3600"));
    assert_eq!(alert("gitseal_unsealer_ready == 0")["for"], "10m");
    alert("absent(gitseal_unsealer_ready");
    assert!(str_at(alert("increase(gitseal_unsealer_key_errors_total[15m])"), "/expr").trim_end().ends_with("> 0"));

    // The dashboard: a ConfigMap the Grafana sidecar picks up, a panel per metric.
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("the dashboard ConfigMap");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    let json = str_at(cm, "/data/dashboard.json");
    let dash: Value = serde_json::from_str(json).expect("dashboard.json is JSON");
    assert!(!str_at(&dash, "/uid").is_empty() && !str_at(&dash, "/title").is_empty());
    let panels = array_at(&dash, "/panels");
    let ids: BTreeSet<String> = panels.iter().map(|p| p["id"].to_string()).collect();
    assert_eq!(ids.len(), panels.len(), "duplicate panel ids");
    assert!(panels.iter().all(|p| p["gridPos"].is_object()), "a panel without gridPos");
    let mut exprs = Vec::new();
    dashboard_exprs(panels, &mut exprs);
    for e in &exprs {
        assert_known_metrics("the dashboard", e);
    }
    let used: BTreeSet<String> = exprs.iter().flat_map(|e| metrics_in(e)).collect();
    for m in [
        "sealed_secrets_controller_unseal_requests_total",
        "sealed_secrets_controller_unseal_errors_total",
        "sealed_secrets_controller_condition_info",
        "sealed_secrets_controller_http_requests_total",
        "sealed_secrets_controller_http_request_duration_seconds",
        "gitseal_unsealer_key_objects",
        "gitseal_unsealer_keys",
        "gitseal_unsealer_leader",
        "gitseal_unsealer_ready",
    ] {
        assert!(used.contains(m), "no dashboard panel shows {m}");
    }
    assert!(exprs.iter().any(|e| e.contains("histogram_quantile(0.95")), "no p95 latency panel");
}

// --- the image ----------------------------------------------------------------------------

#[test]
fn dockerfile_builds_a_static_nonroot_unsealer() {
    let path = deploy("Dockerfile");
    let file = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&str> = file.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    let froms: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "not a multi-stage build");
    assert!(lines[froms[0]].starts_with("FROM rust:"), "the build stage is not the official rust image");
    let build = lines[froms[0]..*froms.last().unwrap()].join("\n");
    assert!(build.contains("-p gitseal-unsealer") && build.contains("--locked"), "{build}");
    assert!(build.contains("musl") && build.contains("crt-static"), "not a static musl build: {build}");

    let last = &lines[*froms.last().unwrap()..];
    let base = last[0];
    assert!(base.contains("gcr.io/distroless/static") || base == "FROM scratch", "final stage: {base}");
    assert!(last.iter().any(|l| l.starts_with("USER 65532")), "the final stage does not run as 65532");
    assert!(last.contains(&r#"ENTRYPOINT ["gitseal-unsealer"]"#), "ENTRYPOINT");

    // The context is the repository root: without this the cargo target directory is sent.
    let ignore = std::fs::read_to_string(deploy("Dockerfile.dockerignore")).expect("deploy/Dockerfile.dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target"), "target/ is not ignored");
}
