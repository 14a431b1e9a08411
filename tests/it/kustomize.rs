//! The kustomize plugin end to end with the real `kubectl kustomize --enable-alpha-plugins`:
//! gitseal installed under KSOPS's legacy plugin path (`viaduct.ai/v1/ksops/ksops`) takes a
//! KSOPS generator unchanged.

use crate::peers::{demo_key, find_peer, must, run, Work, DEMO_RECIPIENT};

const GENERATOR: &str = concat!(
    "apiVersion: viaduct.ai/v1\n",
    "kind: ksops\n",
    "metadata:\n",
    "  name: example\n",
    "files:\n",
    "  - ./secret.enc.yaml\n",
    "secretFrom:\n",
    "  - metadata:\n",
    "      name: app-env\n",
    "      labels: {app: web}\n",
    "    envs:\n",
    "      - ./app.enc.env\n",
    "    files:\n",
    "      - config.json=./config.enc.json\n",
    "    binaryFiles:\n",
    "      - ./tls.crt.enc\n",
);

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kustomize.config.k8s.io/needs-hash: \"true\"\ntype: Opaque\nstringData:\n  password: hunter2\n";

/// A kustomization in `app/` with the generator, its encrypted inputs, and gitseal installed as
/// KSOPS in `xdg/`.
fn setup(work: &Work) {
    std::fs::create_dir_all(work.path("app")).unwrap();
    let plugin = work.path("xdg/kustomize/plugin/viaduct.ai/v1/ksops");
    std::fs::create_dir_all(&plugin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gitseal"), plugin.join("ksops")).unwrap();
    let enc = |name: &str, plain: &[u8], extra: &[&str]| {
        let mut args = vec!["encrypt", "--age", DEMO_RECIPIENT, "--filename-override", name];
        args.extend(extra);
        let out = must(work.gitseal().args(&args), Some(plain));
        work.write(&format!("app/{name}"), out);
    };
    enc("secret.enc.yaml", SECRET.as_bytes(), &["--encrypted-regex", "^(data|stringData)$"]);
    enc("app.enc.env", b"API_TOKEN=abc123\nDEBUG=1\n", &[]);
    enc("config.enc.json", b"{\"url\": \"postgres://db\"}\n", &[]);
    enc("tls.crt.enc", b"\x00\x01cert", &["--input-type", "binary"]);
    work.write("app/generator.yaml", GENERATOR);
    work.write("app/kustomization.yaml", "generators:\n  - generator.yaml\n");
}

#[test]
fn kubectl_kustomize_runs_gitseal_as_ksops() {
    let Some(kubectl) = find_peer("kubectl") else { return };
    let work = Work::new();
    setup(&work);
    let build = |with_key: bool| {
        let mut cmd = work.peer(&kubectl);
        cmd.env("XDG_CONFIG_HOME", work.path("xdg")).args(["kustomize", "--enable-alpha-plugins", "app"]);
        if with_key {
            cmd.env("SOPS_AGE_KEY_FILE", demo_key());
        }
        run(&mut cmd, None)
    };
    let out = build(true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The decrypted manifest, with kustomize's name hash (needs-hash honoured).
    assert!(text.contains("  password: hunter2\n") && text.contains("  name: db-"), "{text}");
    // secretFrom: envs and files into stringData, binaryFiles base64 into data.
    for expected in [
        "  name: app-env\n",
        "    app: web\n",
        "  API_TOKEN: abc123\n",
        "  DEBUG: \"1\"\n",
        "  config.json: |\n    {\"url\": \"postgres://db\"}\n",
        "  tls.crt.enc: AAFjZXJ0\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Without a key the build fails, naming the file, with no secret on stdout.
    let out = build(false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret.enc.yaml"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
}

#[test]
fn a_generator_without_files_or_secret_from_is_an_error() {
    let work = Work::new();
    work.write("g.yaml", "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: x}\n");
    let out = run(work.gitseal().args(["kustomize", "g.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("g.yaml: missing the required 'files' or 'secretFrom' key"));
}

/// The KRM exec-function mode (no argument, a ResourceList on stdin), end to end through the
/// real `kubectl kustomize`: kubectl runs no `exec:` function, so the generator is declared as a
/// `container:` function and a `docker` shim on PATH runs gitseal with the exact stdin kustomize
/// gives a function (`reference/gitops-integrations.md` §1.4).
#[test]
fn kubectl_kustomize_runs_gitseal_as_a_krm_function() {
    let Some(kubectl) = find_peer("kubectl") else { return };
    let work = Work::new();
    setup(&work);
    let krm = GENERATOR.replace(
        "metadata:\n  name: example\n",
        "metadata:\n  name: example\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: gitseal:dev\n",
    );
    work.write("app/generator.yaml", &krm);
    std::fs::create_dir_all(work.path("shim")).unwrap();
    let shim = work.write(
        "shim/docker",
        format!("#!/bin/sh\nset -e\ntee \"$KRM_STDIN\" | {} kustomize\n", env!("CARGO_BIN_EXE_gitseal")),
    );
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", work.path("shim").display(), std::env::var("PATH").unwrap_or_default());
    let build = |with_key: bool| {
        let mut cmd = work.peer(&kubectl);
        cmd.env("PATH", &path).env("KRM_STDIN", work.path("stdin.yaml")).args([
            "kustomize",
            "--enable-alpha-plugins",
            "app",
        ]);
        if with_key {
            cmd.env("SOPS_AGE_KEY_FILE", demo_key());
        } else {
            cmd.env_remove("SOPS_AGE_KEY_FILE");
        }
        run(&mut cmd, None)
    };
    let out = build(true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // kustomize really handed gitseal a ResourceList holding the generator.
    let stdin = work.read_string("stdin.yaml");
    assert!(stdin.contains("kind: ResourceList") && stdin.contains("kind: ksops"), "{stdin}");
    assert!(text.contains("  password: hunter2\n") && text.contains("  name: db-"), "{text}");
    assert!(text.contains("  API_TOKEN: abc123\n") && text.contains("  tls.crt.enc: AAFjZXJ0\n"), "{text}");
    assert!(!text.contains("kind: ksops"), "the generator itself must not be an output object: {text}");
    // Without a key: the build fails, the error names the file, nothing secret on stdout.
    let out = build(false);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("secret.enc.yaml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
}

#[test]
fn the_krm_mode_refuses_what_is_not_a_resource_list() {
    let work = Work::new();
    for (stdin, expect) in [
        (&b"apiVersion: v1\nkind: Secret\n"[..], "expected a ResourceList"),
        (b"kind: ResourceList\nitems: {a: 1}\n", "items must be a list"),
        (b"kind: ResourceList\nitems:\n  - kind: Other\n    metadata: {name: x}\n", "generator x: kind \"Other\""),
        (b"{{{", "invalid YAML"),
        (b"kind: ResourceList\nitems: []\n# \xff\n", "not UTF-8"),
    ] {
        let out = run(work.gitseal().args(["kustomize"]), Some(stdin));
        let stdin = String::from_utf8_lossy(stdin);
        assert!(matches!(out.status.code(), Some(1 | 2)), "{stdin}: {:?}", out.status);
        assert!(out.stdout.is_empty(), "{stdin}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{stdin}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // An empty list generates an empty list.
    let out = must(
        work.gitseal().args(["kustomize"]),
        Some(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"),
    );
    assert!(String::from_utf8_lossy(&out).contains("kind: ResourceList"));
}

/// `kustomize install DIR`, what an Argo CD init container runs: the binary at `DIR/ksops` and
/// under the legacy plugin path, executable, and working from there.
#[test]
fn install_puts_the_binary_where_kustomize_and_argo_cd_look() {
    let work = Work::new();
    must(work.gitseal().args(["kustomize", "install", work.path("tools").to_str().unwrap()]), None);
    for path in ["tools/ksops", "tools/kustomize/plugin/viaduct.ai/v1/ksops/ksops"] {
        let meta = std::fs::metadata(work.path(path)).unwrap();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777, 0o755, "{path}");
        assert_eq!(std::fs::read(work.path(path)).unwrap(), std::fs::read(env!("CARGO_BIN_EXE_gitseal")).unwrap());
    }
    // Installed as ksops, with no argument and a ResourceList: the KRM mode.
    let out = must(
        &mut std::process::Command::new(work.path("tools/ksops")),
        Some(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"),
    );
    assert!(String::from_utf8_lossy(&out).contains("kind: ResourceList"));
    // A directory that cannot be made: one line, non-zero.
    work.write("file", "x");
    let out = run(work.gitseal().args(["kustomize", "install", work.path("file/sub").to_str().unwrap()]), None);
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
