//! YAML that gitseal writes anew (values of sops-written files, `--output-type yaml`, `set`)
//! reads as the same data as sops's output under YAML 1.1 too: Kubernetes decodes YAML with
//! go-yaml v2 semantics, and PyYAML (the reader here) is YAML 1.1 as well. Before, strings such
//! as `yes`, `off`, `y` or `1:20` came out plain and read as booleans and numbers.

use crate::clear_text::{pyyaml, yaml11};
use crate::peers::{find_peer, must, Work, DEMO_RECIPIENT};

/// Strings a YAML 1.1 reader types when they are plain, as values and as keys, and a date.
const TYPED_IN_YAML11: &str = "a: \"yes\"\nb: 'No'\nc: \"on\"\nd: \"OFF\"\ne: \"y\"\nf: \"N\"\ng: \"1:20\"\n\
h: \"-190:20:30.15\"\n\"on\": key\n\"Y\": k2\nlist: [\"yes\", \"n\", \"1:02\"]\nwhen: 2024-01-02\n\
at: 2024-01-02T03:04:05.5+02:00\n";

/// Regression: decrypting a sops-written file wrote `a: yes`, `on: key`, `g: 1:20` and the
/// timestamp `2024-01-02T00:00:00Z` as the date `2024-01-02`.
#[test]
fn values_of_sops_written_files_read_the_same_under_yaml11() {
    let (Some(sops), Some(python)) = (find_peer("sops"), pyyaml()) else { return };
    let work = Work::new();
    work.write("s.yaml", TYPED_IN_YAML11);
    let enc = must(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None);
    work.write("e.yaml", &enc);
    let ours = must(work.gitseal_with_key().args(["decrypt", "e.yaml"]), None);
    let theirs = must(work.peer_with_key(&sops).args(["decrypt", "e.yaml"]), None);
    assert_eq!(yaml11(&python, &ours), yaml11(&python, &theirs), "{}", String::from_utf8_lossy(&ours));
    assert!(String::from_utf8_lossy(&ours).contains("when: 2024-01-02T00:00:00Z"));
}

/// Regression: `--output-type yaml` from JSON wrote the same strings plain.
#[test]
fn yaml_written_from_json_reads_the_same_under_yaml11() {
    let (Some(sops), Some(python)) = (find_peer("sops"), pyyaml()) else { return };
    let work = Work::new();
    let json = r#"{"a": "yes", "b": "Off", "on": "key", "g": "1:20", "l": ["y", "NO", "12:30:45"], "n": {"y": "N"}}"#;
    work.write("s.json", json);
    let enc = must(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "s.json"]), None);
    work.write("e.json", &enc);
    let args = ["decrypt", "--output-type", "yaml", "e.json"];
    let ours = must(work.gitseal_with_key().args(args), None);
    let theirs = must(work.peer_with_key(&sops).args(args), None);
    assert_eq!(yaml11(&python, &ours), yaml11(&python, &theirs), "{}", String::from_utf8_lossy(&ours));
    // And the plain JSON, encrypted by gitseal straight to YAML.
    work.write("p.json", json);
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output-type", "yaml", "p.json"]), None);
    work.write("p.enc.yaml", &enc);
    let ours = must(work.gitseal_with_key().args(["decrypt", "p.enc.yaml"]), None);
    assert_eq!(yaml11(&python, &ours), yaml11(&python, &theirs), "{}", String::from_utf8_lossy(&ours));
}

/// Regression: `set` wrote a new string value `yes` plain.
#[test]
fn values_set_read_the_same_under_yaml11() {
    let (Some(sops), Some(python)) = (find_peer("sops"), pyyaml()) else { return };
    let work = Work::new();
    work.write("s.yaml", "a: x\nb: y\n");
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "s.yaml"]), None);
    work.write("ours.yaml", &enc);
    work.write("theirs.yaml", &enc);
    for (file, value) in [("a", "\"yes\""), ("b", "\"1:20\"")] {
        let path = format!("[\"{file}\"]");
        must(work.gitseal_with_key().args(["set", "ours.yaml", &path, value]), None);
        must(work.peer_with_key(&sops).args(["set", "theirs.yaml", &path, value]), None);
    }
    let ours = must(work.gitseal_with_key().args(["decrypt", "ours.yaml"]), None);
    let theirs = must(work.peer_with_key(&sops).args(["decrypt", "theirs.yaml"]), None);
    assert_eq!(yaml11(&python, &ours), yaml11(&python, &theirs), "{}", String::from_utf8_lossy(&ours));
    assert_eq!(yaml11(&python, &ours), r#"[{"a": "yes", "b": "1:20"}]"#.to_string() + "\n");
}
