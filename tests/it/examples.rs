//! The bundled example repository: every file decrypts with the demo key, to the same data with
//! gitseal and with real sops, and the README's quick-start file is among them.

use crate::peers::{find_peer, manifest_dir, must, Work};

const EXAMPLES: [&str; 3] =
    ["apps/podinfo/secret.enc.yaml", "apps/podinfo/app.enc.env", "clusters/production/values.enc.json"];

#[test]
fn examples_decrypt_with_the_demo_key_and_match_sops() {
    let work = Work::new();
    let sops = find_peer("sops");
    for name in EXAMPLES {
        let path = manifest_dir().join("examples").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains("ENC[AES256_GCM,"), "{name} is not encrypted");
        let plain = must(work.gitseal_with_key().arg("decrypt").arg(&path), None);
        let plain = String::from_utf8(plain).unwrap();
        assert!(!plain.contains("ENC[") && !plain.contains("sops"), "{name} still encrypted:\n{plain}");
        let Some(sops) = &sops else { continue };
        let ours = must(work.gitseal_with_key().args(["decrypt", "--output-type", "json"]).arg(&path), None);
        let theirs = must(work.peer_with_key(sops).args(["decrypt", "--output-type", "json"]).arg(&path), None);
        let ours: serde_json::Value = serde_json::from_slice(&ours).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(&theirs).unwrap();
        assert_eq!(ours, theirs, "{name}: gitseal and sops disagree");
    }
}

#[test]
fn quick_start_file_is_a_secret_with_only_its_payload_encrypted() {
    let path = manifest_dir().join("examples").join(EXAMPLES[0]);
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("kind: Secret\n"), "kind stays readable");
    assert!(text.contains("  name: podinfo-db\n"), "metadata stays readable");
    assert!(text.contains("encrypted_regex: ^(data|stringData)$"));
    let line = text.lines().find(|l| l.trim_start().starts_with("DB_PASSWORD:")).expect("DB_PASSWORD line");
    assert!(line.contains("ENC[AES256_GCM,"), "{line}");
}
