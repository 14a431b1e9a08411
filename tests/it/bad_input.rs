//! Bad input and bad flags: a one-line error, the sops exit code, no panic, and nothing written
//! (no `--output` file, an `-i` file left as it was). Needs no peers.

use crate::peers::{run, Work, DEMO_RECIPIENT};

/// Lines of stderr that are not hints.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().to_ascii_lowercase().starts_with("hint"))
        .collect()
}

/// Runs `gitseal <command> [extra] FILE` three ways (stdout, `--output`, `-i`); each must fail
/// with `code` (any non-zero code for `None`) and leave the directory as it was.
fn expect_rejected(work: &Work, command: &str, extra: &[&str], file: &str, code: Option<i32>, names_file: bool) {
    let before = work.exists(file).then(|| work.read(file));
    let ways: [(&str, &[&str]); 3] = [("stdout", &[]), ("--output", &["--output", "out.txt"]), ("-i", &["-i"])];
    for (how, output_args) in ways {
        let mut cmd = if command == "decrypt" { work.gitseal_with_key() } else { work.gitseal() };
        cmd.arg(command);
        if command == "encrypt" {
            cmd.args(["--age", DEMO_RECIPIENT]);
        }
        let out = run(cmd.args(extra).args(output_args).arg(file), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("gitseal {command} {} ({how})", extra.join(" "));
        match code {
            Some(code) => assert_eq!(out.status.code(), Some(code), "{what} on {file}: exit code; stderr: {stderr}"),
            None => assert!(
                matches!(out.status.code(), Some(c) if c != 0),
                "{what} on {file}: expected a non-zero exit, got {}; stderr: {stderr}",
                out.status
            ),
        }
        assert!(!stderr.contains("panicked"), "{what} on {file}: panic: {stderr}");
        let lines = error_lines(&stderr);
        assert_eq!(lines.len(), 1, "{what} on {file}: expected a one-line error, got: {stderr}");
        if names_file {
            assert!(lines[0].contains(file), "{what}: the error does not name {file}: {stderr}");
        }
        assert!(!work.exists("out.txt"), "{what} on {file}: --output was written despite the failure");
        let after = work.exists(file).then(|| work.read(file));
        assert_eq!(after, before, "{what}: {file} changed (or appeared)");
    }
}

#[test]
fn malformed_yaml_fails_2() {
    let work = Work::new();
    work.write("bad.yaml", "key: value\n  bad: [x\n- item\n");
    expect_rejected(&work, "encrypt", &[], "bad.yaml", Some(2), true);
}

#[test]
fn malformed_json_fails_2() {
    let work = Work::new();
    work.write("bad.json", "{\"a\": 1,, }\n");
    expect_rejected(&work, "encrypt", &[], "bad.json", Some(2), true);
}

#[test]
fn dotenv_line_without_equals_fails_2() {
    let work = Work::new();
    work.write("bad.env", "GOOD=1\nNO_EQUALS_SIGN\n");
    expect_rejected(&work, "encrypt", &[], "bad.env", Some(2), true);
}

#[test]
fn empty_file_fails_92() {
    let work = Work::new();
    work.write("empty.yaml", "");
    expect_rejected(&work, "encrypt", &[], "empty.yaml", Some(92), true);
}

/// Found by fuzzing: a YAML stream of document markers only (`...`) was "encrypted" to itself,
/// with no metadata (sops refuses it as a parse error).
#[test]
fn a_yaml_stream_without_a_document_fails_92_as_empty() {
    let work = Work::new();
    work.write("dots.yaml", "...\n");
    expect_rejected(&work, "encrypt", &[], "dots.yaml", Some(92), true);
}

/// go-yaml (and so sops) allows only ASCII letters, digits, `-` and `_` in anchor and alias
/// names; readers that accept more disagree on where a name ends (fuzzing found encrypted
/// files that did not decrypt behind `&~`, `&|`, `&"` and `&a:`), so gitseal refuses them too.
#[test]
fn anchor_names_go_yaml_refuses_fail_2() {
    let work = Work::new();
    for (i, src) in [
        "x: &a.b 1\ny: *a.b\n",
        "(: &| >\n x",
        "{&\" \" #I\n\",a: l}",
        "a: &a|b |\n  x\n",
        " &a:\ns:\n-\n#s\n",
        "x: &ä 1\n",
        "x: *~\n",
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("anchor{i}.yaml");
        work.write(&name, src);
        expect_rejected(&work, "encrypt", &[], &name, Some(2), true);
    }
    for (i, src) in ["x: &a-b_C9 1\ny: *a-b_C9\n", "x: !!str &a 1\n", "x: &a [1]\ny: [*a]\n"].into_iter().enumerate() {
        let name = format!("ok{i}.yaml");
        work.write(&name, src);
        let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, &name]), None);
        assert!(out.status.success(), "{src:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Found by fuzzing: a tab where a block scalar's indentation is (go-yaml, so sops, refuses it;
/// saphyr read it as content, and the encrypted value kept the tabs after its ciphertext).
#[test]
fn tabs_in_block_scalar_indentation_fail_2() {
    let work = Work::new();
    for (i, src) in ["a: |\n   \t\t  ", "a: >-\n  x\n \ty\n", "a: |\n\n \tx\n", "a: |\n  \tx\n"].into_iter().enumerate()
    {
        let name = format!("tab{i}.yaml");
        work.write(&name, src);
        expect_rejected(&work, "encrypt", &[], &name, Some(2), true);
    }
    // A tab at or after the content's column is content.
    for (i, src) in ["a: |2\n  \tx\n", "a: |\n  x\n  \ty\n"].into_iter().enumerate() {
        let name = format!("ok{i}.yaml");
        work.write(&name, src);
        let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, &name]), None);
        assert!(out.status.success(), "{src:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn decrypting_an_empty_file_fails_1_as_not_encrypted() {
    let work = Work::new();
    work.write("empty.yaml", "");
    expect_rejected(&work, "decrypt", &[], "empty.yaml", Some(1), true);
}

#[test]
fn extracting_a_missing_key_fails_1() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let enc = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "nested.yaml"]), None);
    assert!(enc.status.success());
    work.write("nested.enc.yaml", &enc.stdout);
    let out = run(work.gitseal_with_key().args(["decrypt", "--extract", "[\"zzz\"]", "nested.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("zzz"));
}

#[test]
fn encrypting_an_encrypted_file_fails_203() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "-i", "nested.yaml"]), None);
    assert!(out.status.success(), "encrypt -i: {}", String::from_utf8_lossy(&out.stderr));
    expect_rejected(&work, "encrypt", &[], "nested.yaml", Some(203), true);
}

#[test]
fn decrypting_a_plain_file_fails() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    expect_rejected(&work, "decrypt", &[], "nested.yaml", None, true);
}

#[test]
fn unknown_input_type_fails() {
    // sops silently falls back to binary here; gitseal refuses.
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    expect_rejected(&work, "encrypt", &["--input-type", "xml"], "nested.yaml", None, false);
}

#[test]
fn missing_file_fails_100() {
    let work = Work::new();
    expect_rejected(&work, "encrypt", &[], "missing.yaml", Some(100), true);
    expect_rejected(&work, "decrypt", &[], "missing.yaml", Some(100), true);
}

#[test]
fn conflicting_flags_fail_8() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let before = work.read("nested.yaml");
    let cases: [&[&str]; 3] = [
        &["encrypt", "--age", DEMO_RECIPIENT, "-i", "--output", "out.txt", "nested.yaml"],
        &[
            "encrypt",
            "--age",
            DEMO_RECIPIENT,
            "--encrypted-regex",
            "^pass",
            "--unencrypted-suffix",
            "_plain",
            "nested.yaml",
        ],
        &[
            "encrypt",
            "--age",
            DEMO_RECIPIENT,
            "--encrypted-comment-regex",
            "x",
            "--encrypted-suffix",
            "_s",
            "nested.yaml",
        ],
    ];
    for args in cases {
        let out = run(work.gitseal().args(args), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(8), "gitseal {}: exit code; stderr: {stderr}", args.join(" "));
        assert!(!stderr.contains("panicked"), "gitseal {}: panic: {stderr}", args.join(" "));
        assert_eq!(error_lines(&stderr).len(), 1, "gitseal {}: expected a one-line error: {stderr}", args.join(" "));
        assert!(!work.exists("out.txt"), "gitseal {}: wrote out.txt", args.join(" "));
        assert_eq!(work.read("nested.yaml"), before, "gitseal {}: changed the input", args.join(" "));
    }
}

/// An invalid regular expression (flag or `.sops.yaml`) is one line naming what is wrong; the
/// regex crate's picture of the pattern with a caret is not printed.
#[test]
fn an_invalid_selection_regex_is_one_line() {
    let work = Work::new();
    work.write("p.yaml", "a: 1\n");
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--encrypted-regex", "(x", "p.yaml"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(error_lines(&stderr), ["gitseal: invalid regular expression for --encrypted-regex: unclosed group"]);
    work.write(".sops.yaml", format!("creation_rules:\n  - encrypted_regex: '(x'\n    age: {DEMO_RECIPIENT}\n"));
    let out = run(work.gitseal().args(["encrypt", "p.yaml"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("unclosed group") && !stderr.contains('^'), "{stderr}");
}

/// A document nested as deep as the YAML codec accepts (2,000 levels, 2 MB of block YAML,
/// parsed in halves on two threads) encrypts and decrypts, in YAML and as JSON; one level
/// deeper is a one-line error. Threads with a default stack overflowed at 1,500 levels, and the
/// main thread with a usual 8 MiB limit at about 1,230 (the process died on SIGSEGV).
#[test]
fn the_deepest_accepted_yaml_round_trips_and_deeper_is_refused() {
    let nested = |levels: usize| -> String {
        (0..levels).map(|d| format!("{}k:\n", " ".repeat(d))).collect::<String>() + &" ".repeat(levels) + "v: 1\n"
    };
    let work = Work::new();
    let plain = nested(1998);
    work.write("deep.yaml", &plain);
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "-i", "deep.yaml"]), None);
    assert!(out.status.success(), "encrypt: {}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(work.read("deep.yaml"), plain.as_bytes(), "the file was not encrypted");
    let out = run(work.gitseal_with_key().args(["decrypt", "deep.yaml"]), None);
    assert!(out.status.success(), "decrypt: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == plain.as_bytes(), "the decrypted file differs from the original");
    let out = run(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "deep.yaml"]), None);
    assert!(out.status.success(), "decrypt to JSON: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"v\": 1"), "the innermost value is not in the JSON");
    work.write("deeper.yaml", nested(1999));
    expect_rejected(&work, "encrypt", &[], "deeper.yaml", Some(2), true);
}
