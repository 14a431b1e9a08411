//! `gitseal diff`: the semantic diff of two versions by key path, with and without a key,
//! masked, and against git revisions.

use crate::peers::{demo_key, find_peer, must, run, Work};

const SOPS_YAML: &str = "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: AGE\n";
const PLAIN: &str = "db:\n  user: admin\n  password: hunter2\nreplicas: 2\nold_flag: true\n";

/// `s.enc.yaml` (PLAIN encrypted) and `t.enc.yaml`: the same file after `set` and `unset`.
fn two_versions(work: &Work) {
    work.write(".sops.yaml", SOPS_YAML.replace("AGE", crate::peers::DEMO_RECIPIENT));
    work.write("s.enc.yaml", PLAIN);
    must(work.gitseal().args(["encrypt", "-i", "s.enc.yaml"]), None);
    work.write("t.enc.yaml", work.read("s.enc.yaml"));
    must(work.gitseal_with_key().args(["set", "t.enc.yaml", r#"["db"]["password"]"#, r#""s3cret""#]), None);
    must(work.gitseal_with_key().args(["set", "t.enc.yaml", r#"["db"]["port"]"#, "5432"]), None);
    must(work.gitseal_with_key().args(["unset", "t.enc.yaml", r#"["old_flag"]"#]), None);
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out).lines().map(str::to_string).collect()
}

#[test]
fn diff_names_changed_added_and_removed_values_by_key_path() {
    let work = Work::new();
    two_versions(&work);
    let out = run(work.gitseal_with_key().args(["diff", "s.enc.yaml", "t.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        lines(&out.stdout),
        [r#"~ ["db"]["password"]: "hunter2" -> "s3cret""#, r#"+ ["db"]["port"]: 5432"#, r#"- ["old_flag"]: true"#]
    );
    // The same version: no output, exit 0, as diff(1).
    let same = run(work.gitseal_with_key().args(["diff", "s.enc.yaml", "s.enc.yaml"]), None);
    assert!(same.status.success() && same.stdout.is_empty());
}

#[test]
fn masked_diff_shows_no_value() {
    let work = Work::new();
    two_versions(&work);
    let out = run(work.gitseal_with_key().args(["diff", "--mask", "s.enc.yaml", "t.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout), [r#"~ ["db"]["password"] (changed)"#, r#"+ ["db"]["port"]"#, r#"- ["old_flag"]"#]);
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(!all.contains("hunter2") && !all.contains("s3cret") && !all.contains("5432"), "{all}");
}

#[test]
fn without_a_key_the_structure_is_compared_and_the_rest_named() {
    let work = Work::new();
    two_versions(&work);
    let out = run(work.gitseal().args(["diff", "s.enc.yaml", "t.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        lines(&out.stdout),
        [
            r#"~ ["db"]["password"] (ciphertext differs; no key to compare s.enc.yaml with t.enc.yaml)"#,
            r#"+ ["db"]["port"] (encrypted; no key to show it)"#,
            r#"- ["old_flag"] (encrypted; no key to show it)"#,
        ]
    );
}

#[test]
fn one_file_is_compared_with_its_version_at_head() {
    let Some(git) = find_peer("git") else { return };
    let work = Work::new();
    work.sops_repo(&git, SOPS_YAML, "app.enc.yaml", PLAIN);
    must(work.git(&git).args(["add", "-A"]), None);
    must(work.git(&git).args(["commit", "-q", "-m", "init"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["replicas"]"#, "3"]), None);
    let out = run(work.gitseal().env("SOPS_AGE_KEY_FILE", demo_key()).args(["diff", "app.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines(&out.stdout), [r#"~ ["replicas"]: 2 -> 3"#]);
    let out = run(work.gitseal_with_key().args(["diff", "HEAD:app.enc.yaml", "HEAD:app.enc.yaml"]), None);
    assert!(out.status.success() && out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = run(work.gitseal().args(["diff", "nope:app.enc.yaml", "app.enc.yaml"]), None);
    assert_eq!(bad.status.code(), Some(100), "{}", String::from_utf8_lossy(&bad.stderr));
}

/// A multi-document file whose key moved from one document to another: one `>` line naming
/// both documents (with the value change, masked or not), not a removal and an addition.
#[test]
fn keys_moved_between_documents_are_named_as_moves() {
    let work = Work::new();
    work.write(".sops.yaml", SOPS_YAML.replace("AGE", crate::peers::DEMO_RECIPIENT));
    work.write("a.enc.yaml", "name: one\ntoken: abc\n---\nname: two\n");
    work.write("b.enc.yaml", "name: one\n---\nname: two\ntoken: abc\nport: 1\n");
    work.write("c.enc.yaml", "name: one\n---\nname: two\ntoken: xyz\n");
    for f in ["a.enc.yaml", "b.enc.yaml", "c.enc.yaml"] {
        must(work.gitseal().args(["encrypt", "-i", f]), None);
    }
    let out = run(work.gitseal_with_key().args(["diff", "a.enc.yaml", "b.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        lines(&out.stdout),
        [r#"> ["token"]: moved from document 1 to document 2"#, r#"+ (document 2) ["port"]: 1"#]
    );
    let out = run(work.gitseal_with_key().args(["diff", "a.enc.yaml", "c.enc.yaml"]), None);
    assert_eq!(lines(&out.stdout), [r#"> ["token"]: moved from document 1 to document 2, changed: "abc" -> "xyz""#]);
    let out = run(work.gitseal_with_key().args(["diff", "--mask", "a.enc.yaml", "c.enc.yaml"]), None);
    assert_eq!(lines(&out.stdout), [r#"> ["token"]: moved from document 1 to document 2, and changed"#]);
}
