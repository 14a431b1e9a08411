//! The Argo CD Config Management Plugin in `deploy/argocd/`: its `generate` command,
//! `gitseal render .`, run as Argo CD runs it (in the application's directory, with the
//! `ARGOCD_APP_*` and `ARGOCD_ENV_*` variables), and the plugin's own files.

use crate::peers::{demo_key, find_peer, manifest_dir, must, run, Work, DEMO_RECIPIENT};

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n";

/// An application directory: a plain Deployment, an encrypted Secret, a values file that is
/// no Kubernetes object, a kustomization and `.sops.yaml` (neither rendered).
fn app(work: &Work) {
    std::fs::create_dir(work.path("app")).unwrap();
    work.write("app/deployment.yaml", DEPLOYMENT);
    let enc = must(
        work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--filename-override", "s.yaml"]),
        Some(SECRET.as_bytes()),
    );
    work.write("app/secret.enc.yaml", enc);
    work.write("app/values.yaml", "replicas: 3\n");
    work.write("app/kustomization.yaml", "resources: [deployment.yaml]\n");
    work.write("app/.sops.yaml", "creation_rules: []\n");
}

fn generate(work: &Work, with_key: bool) -> std::process::Output {
    let mut cmd = work.gitseal();
    cmd.current_dir(work.path("app"))
        .env("ARGOCD_APP_NAME", "web")
        .env("ARGOCD_APP_NAMESPACE", "prod")
        .env("ARGOCD_APP_REVISION", "0123456789abcdef")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/web")
        .env("ARGOCD_ENV_CLUSTER", "prod-eu")
        .args(["render", "."]);
    if with_key {
        cmd.env("SOPS_AGE_KEY_FILE", demo_key());
    }
    run(&mut cmd, None)
}

#[test]
fn generate_prints_only_the_objects_decrypted() {
    let work = Work::new();
    app(&work);
    let out = generate(&work, true);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{DEPLOYMENT}---\n{SECRET}"));
}

#[test]
fn generate_fails_with_no_output_and_no_secret_without_a_key() {
    let work = Work::new();
    app(&work);
    let out = generate(&work, false);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "a partial render: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("secret.enc.yaml") && !stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn the_plugin_runs_gitseal_render_and_builds_as_a_config_map() {
    let dir = manifest_dir().join("deploy/argocd");
    let plugin = std::fs::read_to_string(dir.join("plugin.yaml")).unwrap();
    let doc = gitseal_formats::parse(gitseal_formats::Format::Yaml, &plugin).unwrap();
    let v = gitseal_formats::Value::from_node(&doc.roots[0].node);
    assert_eq!(v.get("kind").and_then(gitseal_formats::Value::as_str), Some("ConfigManagementPlugin"));
    let command = v.get("spec").and_then(|s| s.get("generate")).and_then(|g| g.get("command"));
    let words: Vec<&str> = match command {
        Some(gitseal_formats::Value::Seq(items)) => items.iter().filter_map(gitseal_formats::Value::as_str).collect(),
        _ => Vec::new(),
    };
    assert_eq!(words, ["gitseal", "render", "."]);
    // The sidecar patch: the CMP server as user 999, the plugin mounted where it looks.
    let patch = std::fs::read_to_string(dir.join("repo-server-patch.yaml")).unwrap();
    gitseal_formats::parse(gitseal_formats::Format::Yaml, &patch).expect("the patch is YAML");
    for expected in [
        "command: [/var/run/argocd/argocd-cmp-server]",
        "runAsUser: 999",
        "mountPath: /home/argocd/cmp-server/config/plugin.yaml, subPath: plugin.yaml",
    ] {
        assert!(patch.contains(expected), "{expected}");
    }
    let Some(kubectl) = find_peer("kubectl") else { return };
    let work = Work::new();
    let built = must(work.peer(&kubectl).args(["kustomize", &dir.display().to_string()]), None);
    let built = String::from_utf8_lossy(&built);
    assert!(built.contains("name: gitseal-cmp-plugin") && built.contains("command: [gitseal, render, .]"), "{built}");
}
