//! helm-secrets with `HELM_SECRETS_SOPS_PATH=gitseal`: every call its sops backend makes
//! (`scripts/lib/backends/sops.sh`, `reference/gitops-integrations.md` §6), made directly, and
//! the greps it uses to tell encrypted files and their type.

use crate::peers::{must, run, Work, DEMO_RECIPIENT};

/// The backend's calls: `--encrypt`/`--decrypt` with `--input-type T --output-type T`, to stdout,
/// `--output` or `--in-place`, literals through `/dev/stdin`, and edit without a subcommand.
#[test]
fn every_call_of_the_helm_secrets_sops_backend_works() {
    let work = Work::new();
    work.write(".sops.yaml", format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    work.write("values.yaml", "db:\n  password: hunter2\n");
    let gs = |args: &[&str], stdin: Option<&[u8]>| must(work.gitseal_with_key().args(args), stdin);
    let t = ["--input-type", "yaml", "--output-type", "yaml"];
    gs(&[&["--encrypt"][..], &t, &["--output", "values.enc.yaml", "values.yaml"]].concat(), None);
    let enc = work.read_string("values.enc.yaml");
    // helm-secrets: encrypted = a line matching 'mac.*,type:str]'; YAML = a line exactly 'sops:'.
    assert!(enc.lines().any(|l| l.contains("mac") && l.ends_with(",type:str]")), "{enc}");
    assert!(enc.lines().any(|l| l == "sops:"), "{enc}");
    let plain = "db:\n  password: hunter2\n";
    assert_eq!(String::from_utf8(gs(&[&["--decrypt"][..], &t, &["values.enc.yaml"]].concat(), None)).unwrap(), plain);
    gs(&[&["--decrypt"][..], &t, &["--output", "values.yaml.dec", "values.enc.yaml"]].concat(), None);
    assert_eq!(work.read_string("values.yaml.dec"), plain);
    work.write("inplace.yaml", &enc);
    gs(&[&["--decrypt"][..], &t, &["--in-place", "inplace.yaml"]].concat(), None);
    assert_eq!(work.read_string("inplace.yaml"), plain);
    // Literals: JSON through /dev/stdin both ways.
    let j = ["--input-type", "json", "--output-type", "json", "/dev/stdin"];
    let lit = gs(&[&["--encrypt"][..], &j].concat(), Some(b"{\"value\": \"s3cret\"}"));
    assert_eq!(gs(&[&["--decrypt"][..], &j].concat(), Some(&lit)), b"{\"value\": \"s3cret\"}");
    // Binary: the type grep finds '"data": "ENC'.
    work.write("cert.bin", b"\x00binary\xff");
    let b = ["--input-type", "binary", "--output-type", "binary"];
    gs(&[&["--encrypt"][..], &b, &["--output", "cert.enc", "cert.bin"]].concat(), None);
    assert!(work.read_string("cert.enc").contains("\"data\": \"ENC"));
    assert_eq!(gs(&[&["--decrypt"][..], &b, &["cert.enc"]].concat(), None), b"\x00binary\xff");
    // Edit: no subcommand, the types, the file; the editor from EDITOR.
    work.write("ed.sh", "#!/bin/sh\nsed -i s/hunter2/changed/ \"$1\"\n");
    std::fs::set_permissions(work.path("ed.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = run(
        work.gitseal_with_key()
            .env("EDITOR", work.path("ed.sh"))
            .env_remove("SOPS_EDITOR")
            .args([&t[..], &["values.enc.yaml"]].concat()),
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(gs(&["-d", "values.enc.yaml"], None)).unwrap(), "db:\n  password: changed\n");
}
