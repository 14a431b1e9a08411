//! Several files in one command, which sops lacks (getsops/sops #945): `encrypt -i a b`,
//! `--recursive` directories, `decrypt a b` as one YAML stream; per-file failures named, the
//! other files still processed, the first failure's exit code, nothing written for a failure.

use std::process::Output;

use crate::peers::{must, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const A: &str = "user: admin\npassword: hunter2\n";
const B: &str = "# b\ntoken: abc\n";
const J: &str = "{\n    \"key\": \"value\"\n}\n";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(work: &Work, name: &str, text: &str) {
    std::fs::create_dir_all(work.path(name).parent().unwrap()).unwrap();
    work.write(name, text);
}

fn is_encrypted(work: &Work, name: &str) -> bool {
    work.read_string(name).contains("ENC[AES256_GCM")
}

#[test]
fn encrypt_in_place_many_files_each_with_its_own_rule_and_decrypt_them_back() {
    let work = Work::new();
    write(
        &work,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^b\\.yaml$\n    age: {OTHER_RECIPIENT}\n  - age: {DEMO_RECIPIENT}\n"
        ),
    );
    write(&work, "a.yaml", A);
    write(&work, "b.yaml", B);
    write(&work, "c.json", J);
    must(work.gitseal().args(["encrypt", "-i", "a.yaml", "b.yaml", "c.json"]), None);
    assert!(work.read_string("a.yaml").contains(DEMO_RECIPIENT));
    assert!(
        work.read_string("b.yaml").contains(OTHER_RECIPIENT) && !work.read_string("b.yaml").contains(DEMO_RECIPIENT)
    );
    assert!(work.read_string("c.json").contains("\"sops\""));

    let mut cmd = work.gitseal_with_key();
    cmd.env("SOPS_AGE_KEY_FILE", work.write("both.txt", both_keys()));
    must(cmd.args(["decrypt", "-i", "a.yaml", "b.yaml", "c.json"]), None);
    assert_eq!(work.read_string("a.yaml"), A);
    assert_eq!(work.read_string("b.yaml"), B);
    assert_eq!(work.read_string("c.json"), J);
}

fn both_keys() -> String {
    std::fs::read_to_string(crate::peers::demo_key()).unwrap()
        + &std::fs::read_to_string(crate::peers::other_key()).unwrap()
}

#[test]
fn decrypt_several_files_to_one_yaml_stream() {
    let work = Work::new();
    write(&work, "a.yaml", A);
    write(&work, "b.yaml", B);
    write(&work, "c.json", J);
    must(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "a.yaml", "b.yaml", "c.json"]), None);
    let out = must(work.gitseal_with_key().args(["decrypt", "a.yaml", "b.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), format!("{A}---\n{B}"));

    // JSON does not fit a YAML stream: that file fails by name, the others are still written.
    let out = run(work.gitseal_with_key().args(["decrypt", "a.yaml", "c.json", "b.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), format!("{A}---\n{B}"));
    let err = stderr(&out);
    assert!(err.contains("c.json: decrypts to json") && err.contains("use -i"), "{err}");
    assert!(err.contains("1 of 3 files failed"), "{err}");
    // ... unless it is turned into YAML.
    let out = must(work.gitseal_with_key().args(["decrypt", "--output-type", "yaml", "a.yaml", "c.json"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), format!("{A}---\nkey: value\n"));
}

#[test]
fn one_bad_file_among_good_ones() {
    let work = Work::new();
    write(&work, "a.yaml", A);
    write(&work, "bad.yaml", "a: [\n");
    write(&work, "b.yaml", B);
    let out =
        run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "a.yaml", "bad.yaml", "b.yaml"]), None);
    assert_eq!(out.status.code(), Some(2), "the parse error's code");
    let err = stderr(&out);
    assert!(err.contains("bad.yaml:"), "{err}");
    assert!(err.lines().last().unwrap().contains("1 of 3 files failed"), "{err}");
    assert!(is_encrypted(&work, "a.yaml") && is_encrypted(&work, "b.yaml"));
    assert_eq!(work.read_string("bad.yaml"), "a: [\n", "nothing written for the failing file");

    // The exit code is the first failure's: missing (100) before already encrypted (203).
    let out = run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "missing.yaml", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(100), "{}", stderr(&out));
    let out = run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "a.yaml", "missing.yaml"]), None);
    assert_eq!(out.status.code(), Some(203), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.yaml"), "{}", stderr(&out));

    // Decrypt in place: the plaintext file fails, the encrypted ones are decrypted.
    let out = run(work.gitseal_with_key().args(["decrypt", "-i", "a.yaml", "bad.yaml", "b.yaml"]), None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(work.read_string("a.yaml"), A);
    assert_eq!(work.read_string("b.yaml"), B);

    // A wrong key fails every file with 128 and writes nothing.
    must(work.gitseal().args(["encrypt", "-i", "--age", OTHER_RECIPIENT, "a.yaml", "b.yaml"]), None);
    let before = work.read_string("a.yaml");
    let out = run(work.gitseal_with_key().args(["decrypt", "-i", "a.yaml", "b.yaml"]), None);
    assert_eq!(out.status.code(), Some(128));
    assert!(stderr(&out).contains("2 of 2 files failed"), "{}", stderr(&out));
    assert_eq!(work.read_string("a.yaml"), before);
}

#[test]
fn several_files_refuse_flags_that_take_one_file() {
    let work = Work::new();
    write(&work, "a.yaml", A);
    write(&work, "b.yaml", B);
    for args in [
        vec!["encrypt", "--age", DEMO_RECIPIENT, "a.yaml", "b.yaml"],
        vec!["encrypt", "--age", DEMO_RECIPIENT, "--output", "x.yaml", "a.yaml", "b.yaml"],
        vec!["decrypt", "--output", "x.yaml", "a.yaml", "b.yaml"],
        vec!["decrypt", "--extract", "[\"user\"]", "a.yaml", "b.yaml"],
        vec!["decrypt", "a.yaml", "-"],
    ] {
        let out = run(work.gitseal().args(&args), None);
        assert_eq!(out.status.code(), Some(8), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(work.read_string("a.yaml"), A);
    assert!(!work.exists("x.yaml"));
}

#[test]
fn directories_need_recursive() {
    let work = Work::new();
    write(&work, "dir/a.yaml", A);
    write(&work, "dir/sub/b.yaml", B);
    write(&work, "dir/.hidden/c.yaml", A);
    write(&work, "dir/.sops.yaml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    let out = run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "dir"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("dir: is a directory; pass --recursive"), "{}", stderr(&out));
    assert_eq!(work.read_string("dir/a.yaml"), A);

    // `dir/*` as a shell expands it: a subdirectory among the files is refused up front.
    let out = run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "dir/a.yaml", "dir/sub"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(work.read_string("dir/a.yaml"), A, "nothing processed");

    // With --recursive (and a file named twice), hidden files and directories are skipped.
    must(work.gitseal().args(["encrypt", "-i", "--recursive", "--age", DEMO_RECIPIENT, "dir", "dir/a.yaml"]), None);
    assert!(is_encrypted(&work, "dir/a.yaml") && is_encrypted(&work, "dir/sub/b.yaml"));
    assert_eq!(work.read_string("dir/.hidden/c.yaml"), A);
    assert!(!is_encrypted(&work, "dir/.sops.yaml"));

    let out = must(work.gitseal_with_key().args(["decrypt", "--recursive", "dir"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), format!("{A}---\n{B}"));
    must(work.gitseal_with_key().args(["decrypt", "-i", "--recursive", "dir"]), None);
    assert_eq!(work.read_string("dir/a.yaml"), A);
    assert_eq!(work.read_string("dir/sub/b.yaml"), B);

    std::fs::create_dir_all(work.path("empty")).unwrap();
    let out = run(work.gitseal().args(["encrypt", "-i", "--recursive", "--age", DEMO_RECIPIENT, "empty"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("empty: no files"), "{}", stderr(&out));
}

#[test]
fn recursive_encrypt_uses_each_files_rule_and_reports_files_without_one() {
    let work = Work::new();
    write(
        &work,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^password$\n    age: {DEMO_RECIPIENT}\n"
        ),
    );
    write(&work, "dir/a.yaml", A);
    write(&work, "dir/notes.txt", "hello\n");
    let out = run(work.gitseal().args(["encrypt", "-i", "--recursive", "dir"]), None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("dir/notes.txt: no creation rule"), "{err}");
    let a = work.read_string("dir/a.yaml");
    assert!(a.contains("password: ENC[") && a.contains("user: admin"), "{a}");
    assert_eq!(work.read_string("dir/notes.txt"), "hello\n");
}
