//! `.sops.yaml` (`reference/sops-cli.md` §3): discovery, `--config`/`SOPS_CONFIG`, rule
//! matching, keys, selection and stores from the rule, warnings sops does not give, the errors,
//! and real sops reading the same config; plus `filestatus`.

use std::process::Output;

use crate::fixtures::encrypted_keys;
use crate::peers::{demo_key, find_peer, must, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "user: admin\npassword: hunter2\nport: 5432\n";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The age recipients in an encrypted YAML file's metadata.
fn recipients(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.trim().strip_prefix("- recipient: ")).map(str::to_string).collect()
}

fn config(work: &Work, name: &str, text: &str) {
    std::fs::create_dir_all(work.path(name).parent().unwrap()).unwrap();
    work.write(name, text);
}

fn file(work: &Work, name: &str, text: &str) {
    std::fs::create_dir_all(work.path(name).parent().unwrap()).unwrap();
    work.write(name, text);
}

/// Two rules: `prod` anywhere in the path gets the other key, everything else the demo key.
fn two_rules() -> String {
    format!(
        "creation_rules:\n  - path_regex: prod\n    age: {OTHER_RECIPIENT}\n  - path_regex: \\.yaml$\n    age: '{DEMO_RECIPIENT}'\n"
    )
}

#[test]
fn first_matching_rule_wins_and_path_regex_is_unanchored() {
    let work = Work::new();
    config(&work, ".sops.yaml", &two_rules());
    file(&work, "envs/prod/app.yaml", PLAIN);
    file(&work, "dev.yaml", PLAIN);
    let prod = String::from_utf8(must(work.gitseal().args(["encrypt", "envs/prod/app.yaml"]), None)).unwrap();
    assert_eq!(recipients(&prod), [OTHER_RECIPIENT], "`prod` in the middle of the path matches rule 1");
    let dev = String::from_utf8(must(work.gitseal().args(["encrypt", "dev.yaml"]), None)).unwrap();
    assert_eq!(recipients(&dev), [DEMO_RECIPIENT]);
}

#[test]
fn rules_match_the_path_relative_to_the_config_dir() {
    let work = Work::new();
    config(
        &work,
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: ^sub/a\\.yaml$\n    age: {DEMO_RECIPIENT}\n"),
    );
    file(&work, "sub/a.yaml", PLAIN);
    std::fs::create_dir_all(work.path("sub/deeper")).unwrap();
    // Found from a subdirectory (the search starts at the working directory), and the file given
    // relative to it is still matched as `sub/a.yaml`.
    let mut cmd = work.gitseal();
    cmd.current_dir(work.path("sub/deeper")).args(["encrypt", "../a.yaml"]);
    let out = String::from_utf8(must(&mut cmd, None)).unwrap();
    assert_eq!(recipients(&out), [DEMO_RECIPIENT]);
}

#[test]
fn files_outside_the_config_dir_are_matched_by_absolute_path() {
    let work = Work::new();
    config(
        &work,
        "cfg/.sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^outside/\n    age: {OTHER_RECIPIENT}\n  - path_regex: ^/.*/outside/x\\.yaml$\n    age: {DEMO_RECIPIENT}\n"
        ),
    );
    file(&work, "outside/x.yaml", PLAIN);
    let out =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--config", "cfg/.sops.yaml", "outside/x.yaml"]), None))
            .unwrap();
    assert_eq!(recipients(&out), [DEMO_RECIPIENT]);
}

#[test]
fn the_search_does_not_start_at_the_file() {
    // As sops: from outside the project, proj/.sops.yaml is not found.
    let work = Work::new();
    config(&work, "proj/.sops.yaml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    file(&work, "proj/x.yaml", PLAIN);
    let out = run(work.gitseal().args(["encrypt", "proj/x.yaml"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no master key"), "{}", stderr(&out));
}

#[test]
fn config_flag_before_or_after_the_subcommand_and_sops_config() {
    let work = Work::new();
    config(&work, "conf/my.yaml", &format!("creation_rules:\n  - age: {OTHER_RECIPIENT}\n"));
    config(&work, ".sops.yaml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    file(&work, "a.yaml", PLAIN);
    for args in
        [vec!["--config", "conf/my.yaml", "encrypt", "a.yaml"], vec!["encrypt", "a.yaml", "--config", "conf/my.yaml"]]
    {
        let out = String::from_utf8(must(work.gitseal().args(&args), None)).unwrap();
        assert_eq!(recipients(&out), [OTHER_RECIPIENT], "{args:?}");
    }
    let out =
        String::from_utf8(must(work.gitseal().env("SOPS_CONFIG", "conf/my.yaml").args(["encrypt", "a.yaml"]), None))
            .unwrap();
    assert_eq!(recipients(&out), [OTHER_RECIPIENT], "SOPS_CONFIG");

    let out = run(work.gitseal().args(["encrypt", "--config", "conf/missing.yaml", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("conf/missing.yaml: config file not found"), "{}", stderr(&out));
}

#[test]
fn a_sops_yml_gets_a_warning() {
    let work = Work::new();
    config(&work, ".sops.yml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    file(&work, "a.yaml", PLAIN);
    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert!(stderr(&out).contains(".sops.yml: the config file must be called \".sops.yaml\""), "{}", stderr(&out));
    // Ignored, as sops ignores it: no keys.
    assert_eq!(out.status.code(), Some(1));
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "a.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn unknown_keys_get_a_warning_naming_key_and_line() {
    let work = Work::new();
    config(
        &work,
        ".sops.yaml",
        &format!(
            "keys:\n  - &me {DEMO_RECIPIENT}\ncreation_rules:\n  - age: *me\n    reencryption_rule: {{}}\nstores:\n  yaml:\n    indnet: 2\n"
        ),
    );
    file(&work, "a.yaml", PLAIN);
    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 5: unknown key \"reencryption_rule\" in creation rule 1"), "{err}");
    assert!(err.contains("line 8: unknown key \"indnet\" in stores.yaml"), "{err}");
    assert!(!err.contains("\"keys\""), "the anchor block is not reported: {err}");
    assert_eq!(recipients(&stdout(&out)), [DEMO_RECIPIENT], "the alias resolves");
}

#[test]
fn a_broken_config_fails_encrypt_with_its_line_but_only_warns_on_decrypt() {
    let work = Work::new();
    file(&work, "a.yaml", PLAIN);
    must(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "a.yaml"]), None);
    file(&work, "b.yaml", PLAIN);
    config(&work, ".sops.yaml", "creation_rules:\n  - path_regex: '('\n    age: x\n");
    let out = run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "b.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(".sops.yaml: line 2: invalid path_regex"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert_eq!(work.read_string("b.yaml"), PLAIN, "nothing written");

    // Decryption reads only the config's `stores`, as sops does: the rules are not its concern
    // (git's textconv and kustomize decrypt file after file), a config that is no YAML is.
    let out = run(work.gitseal_with_key().args(["decrypt", "a.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), PLAIN);
    assert_eq!(stderr(&out), "", "the rules are not read");
    for (text, line) in [("creation_rules: [\n", 2), ("stores:\n  json:\n    indent: -2\n", 3)] {
        config(&work, ".sops.yaml", text);
        let out = run(work.gitseal_with_key().args(["decrypt", "a.yaml"]), None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), PLAIN);
        let err = stderr(&out);
        assert!(err.contains("warning: ") && err.contains(&format!("line {line}: ")), "{text}: {err}");
    }

    for (text, line, what) in [
        ("creation_rules: [\n", 2, "invalid YAML"),
        ("creation_rules:\n  - shamir_threshold: two\n", 2, "shamir_threshold must be an integer"),
        ("creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n", 3, "only one of the six"),
        ("creation_rules: {}\n", 1, "creation_rules must be a list"),
        ("stores:\n  json:\n    indent: -2\n", 3, "stores.json.indent"),
    ] {
        config(&work, ".sops.yaml", text);
        let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "b.yaml"]), None);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = stderr(&out);
        assert!(err.contains(&format!(".sops.yaml: line {line}: ")) && err.contains(what), "{text}: {err}");
    }
}

#[test]
fn command_line_keys_win_and_work_without_a_matching_rule() {
    let work = Work::new();
    config(&work, ".sops.yaml", &format!("creation_rules:\n  - path_regex: ^never$\n    age: {DEMO_RECIPIENT}\n"));
    file(&work, "a.yaml", PLAIN);
    // sops fails here with "no matching creation rules found".
    let out =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--age", OTHER_RECIPIENT, "a.yaml"]), None)).unwrap();
    assert_eq!(recipients(&out), [OTHER_RECIPIENT]);

    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no creation rule of") && stderr(&out).contains("\"a.yaml\""), "{}", stderr(&out));

    config(&work, ".sops.yaml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    let out =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--age", OTHER_RECIPIENT, "a.yaml"]), None)).unwrap();
    assert_eq!(recipients(&out), [OTHER_RECIPIENT], "flags replace the rule's keys");
}

#[test]
fn a_rule_without_keys_and_unsupported_kinds_are_errors() {
    let work = Work::new();
    file(&work, "a.yaml", PLAIN);
    config(&work, ".sops.yaml", "creation_rules:\n  - encrypted_regex: ^password$\n");
    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("creation rule 1 (line 2)") && stderr(&out).contains("has no keys"),
        "{}",
        stderr(&out)
    );

    config(&work, ".sops.yaml", "creation_rules:\n  - gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n");
    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 2: gcp_kms is not supported"), "{}", stderr(&out));

    config(
        &work,
        ".sops.yaml",
        &format!("creation_rules:\n  - key_groups:\n      - age: [{DEMO_RECIPIENT}]\n        merge: []\n"),
    );
    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert!(stderr(&out).contains("line 4: merge is not supported"), "{}", stderr(&out));

    config(&work, ".sops.yaml", "creation_rules:\n  - age: [notakey]\n");
    let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("a.yaml: .sops.yaml: line 2: invalid age recipient"), "{}", stderr(&out));
}

#[test]
fn key_groups_and_shamir_threshold_from_the_config() {
    let work = Work::new();
    must(work.gitseal().args(["keygen", "-o", "third.txt"]), None);
    let third = work.read_string("third.txt");
    let third = third.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().to_string();
    config(
        &work,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age:\n          - {DEMO_RECIPIENT}\n      - age: [{OTHER_RECIPIENT}]\n      - age: [{third}]\n"
        ),
    );
    file(&work, "a.yaml", PLAIN);
    must(work.gitseal().args(["encrypt", "-i", "a.yaml"]), None);
    let text = work.read_string("a.yaml");
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    assert_eq!(text.matches("key_groups").count(), 1, "{text}");
    assert_eq!(recipients(&text), [DEMO_RECIPIENT, OTHER_RECIPIENT, third.as_str()]);
    // Threshold 2 of 3: the demo and other keys together open it, one alone does not.
    let both = work.write(
        "both.txt",
        std::fs::read_to_string(demo_key()).unwrap() + &std::fs::read_to_string(other_key()).unwrap(),
    );
    let out = must(work.gitseal().env("SOPS_AGE_KEY_FILE", &both).args(["decrypt", "a.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    let out = run(work.gitseal().env("SOPS_AGE_KEY_FILE", demo_key()).args(["decrypt", "a.yaml"]), None);
    assert_eq!(out.status.code(), Some(128));
    // sops reads the same groups and threshold, and opens gitseal's file with two keys.
    if let Some(sops) = find_peer("sops") {
        file(&work, "c.yaml", PLAIN);
        let theirs = String::from_utf8(must(work.peer(&sops).args(["encrypt", "c.yaml"]), None)).unwrap();
        assert!(theirs.contains("shamir_threshold: 2"), "{theirs}");
        assert_eq!(recipients(&theirs), [DEMO_RECIPIENT, OTHER_RECIPIENT, third.as_str()]);
        let plain = must(work.peer(&sops).env("SOPS_AGE_KEY_FILE", &both).args(["decrypt", "a.yaml"]), None);
        assert_eq!(String::from_utf8(plain).unwrap(), PLAIN);
    }
    // The command line's threshold wins.
    file(&work, "b.yaml", PLAIN);
    must(work.gitseal().args(["encrypt", "-i", "--shamir-secret-sharing-threshold", "3", "b.yaml"]), None);
    assert!(work.read_string("b.yaml").contains("shamir_threshold: 3"));
}

#[test]
fn selection_keys_and_mac_only_encrypted_from_the_config() {
    let work = Work::new();
    config(
        &work,
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n    encrypted_regex: ^password$\n    mac_only_encrypted: true\n"),
    );
    file(&work, "a.yaml", PLAIN);
    let text = String::from_utf8(must(work.gitseal().args(["encrypt", "a.yaml"]), None)).unwrap();
    assert_eq!(encrypted_keys(&text), ["password"]);
    assert!(text.contains("encrypted_regex: ^password$") && text.contains("mac_only_encrypted: true"), "{text}");
    // A selection flag replaces the rule's.
    let text =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--unencrypted-regex", "^port$", "a.yaml"]), None))
            .unwrap();
    assert_eq!(encrypted_keys(&text), ["password", "user"]);
    assert!(!text.contains("encrypted_regex: ^password$"), "{text}");
}

#[test]
fn stores_indent_applies_to_what_is_written_anew() {
    let work = Work::new();
    file(&work, "a.yaml", PLAIN);
    config(&work, ".sops.yaml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    let default = String::from_utf8(must(work.gitseal().args(["encrypt", "a.yaml"]), None)).unwrap();
    assert!(default.contains("\n    age:"), "{default}");
    config(
        &work,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - age: {DEMO_RECIPIENT}\nstores:\n  yaml:\n    indent: 2\n  json:\n    indent: 3\n"
        ),
    );
    let two = String::from_utf8(must(work.gitseal().args(["encrypt", "a.yaml"]), None)).unwrap();
    assert!(two.contains("\n  age:") && !two.contains("\n    age:"), "{two}");
    // --indent wins over stores.
    let four = String::from_utf8(must(work.gitseal().args(["encrypt", "--indent", "4", "a.yaml"]), None)).unwrap();
    assert!(four.contains("\n    age:"), "{four}");
    // Decrypt uses stores too: JSON output written anew gets 3 spaces.
    work.write("a.enc.yaml", &two);
    let json =
        String::from_utf8(must(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "a.enc.yaml"]), None))
            .unwrap();
    assert!(json.contains("\n   \"user\""), "{json}");
}

#[test]
fn sops_reads_the_same_config_and_encrypts_the_same_keys() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    config(
        &work,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    encrypted_regex: ^(password|token)$\n    age: {DEMO_RECIPIENT}\n  - path_regex: plain\n    unencrypted_suffix: _public\n    age: [{DEMO_RECIPIENT}]\n"
        ),
    );
    let body = "user: admin\npassword: hunter2\ntoken: abc\nname_public: web\nport: 5432\n";
    for name in ["secrets/app.yaml", "plain/app.yaml"] {
        file(&work, name, body);
        let ours = String::from_utf8(must(work.gitseal().args(["encrypt", name]), None)).unwrap();
        let theirs = String::from_utf8(must(work.peer(&sops).args(["encrypt", name]), None)).unwrap();
        assert_eq!(encrypted_keys(&ours), encrypted_keys(&theirs), "{name}");
        assert_eq!(recipients(&ours), recipients(&theirs), "{name}");
        // Each opens the other's file.
        work.write("ours.yaml", &ours);
        work.write("theirs.yaml", &theirs);
        let plain = must(work.peer_with_key(&sops).args(["decrypt", "ours.yaml"]), None);
        assert_eq!(String::from_utf8(plain).unwrap(), body);
        let plain = must(work.gitseal_with_key().args(["decrypt", "theirs.yaml"]), None);
        assert_eq!(String::from_utf8(plain).unwrap(), body);
    }
}

#[test]
fn filestatus_on_plain_encrypted_and_missing_files() {
    let work = Work::new();
    file(&work, "plain.yaml", PLAIN);
    file(&work, "enc.yaml", PLAIN);
    file(&work, "plain.json", "{\"a\": 1}\n");
    must(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "enc.yaml"]), None);
    let sops = find_peer("sops");
    for (name, expected) in [
        ("plain.yaml", "{\"encrypted\":false}\n"),
        ("plain.json", "{\"encrypted\":false}\n"),
        ("enc.yaml", "{\"encrypted\":true}\n"),
    ] {
        let out = String::from_utf8(must(work.gitseal().args(["filestatus", name]), None)).unwrap();
        assert_eq!(out, expected, "{name}");
        if let Some(sops) = &sops {
            let theirs = String::from_utf8(must(work.peer(sops).args(["filestatus", name]), None)).unwrap();
            assert_eq!(theirs, expected, "sops on {name}");
        }
    }
    // Metadata without a MAC is not a complete sops file.
    let text = work.read_string("enc.yaml");
    let no_mac: String =
        text.lines().filter(|l| !l.trim_start().starts_with("mac:")).map(|l| format!("{l}\n")).collect();
    work.write("nomac.yaml", no_mac);
    assert_eq!(must(work.gitseal().args(["filestatus", "nomac.yaml"]), None), b"{\"encrypted\":false}\n");

    for name in ["missing.yaml", "bad.yaml"] {
        if name == "bad.yaml" {
            file(&work, name, "a: [\n");
        }
        let out = run(work.gitseal().args(["filestatus", name]), None);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(out.stdout.is_empty());
        assert!(stderr(&out).contains(name), "{}", stderr(&out));
        if let Some(sops) = &sops {
            assert_eq!(run(work.peer(sops).args(["filestatus", name]), None).status.code(), Some(1), "sops on {name}");
        }
    }
}

#[test]
fn bad_keys_in_a_rule_name_their_line() {
    let work = Work::new();
    file(&work, "a.yaml", PLAIN);
    for (text, line, what) in [
        ("creation_rules:\n  - pgp: [zz]\n", 2, "invalid pgp key"),
        ("creation_rules:\n  - key_groups:\n      - kms:\n          - arn: nope\n", 4, "invalid kms key"),
        ("creation_rules:\n  - key_groups:\n      - kms:\n          - role: r\n", 4, "needs an arn"),
        ("creation_rules:\n  - kms: arn:aws:kms:nowhere\n", 2, "invalid kms key"),
    ] {
        config(&work, ".sops.yaml", text);
        let out = run(work.gitseal().args(["encrypt", "a.yaml"]), None);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = stderr(&out);
        assert!(err.contains(&format!(".sops.yaml: line {line}: ")) && err.contains(what), "{text}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn a_sops_yml_in_a_parent_is_named_relative_and_decrypt_tolerates_a_missing_config() {
    let work = Work::new();
    config(&work, ".sops.yml", &format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    file(&work, "sub/a.yaml", PLAIN);
    let mut cmd = work.gitseal();
    cmd.current_dir(work.path("sub")).args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "a.yaml"]);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ignoring ../.sops.yml"), "{}", stderr(&out));

    let out = run(work.gitseal_with_key().args(["--config", "nope.yaml", "decrypt", "sub/a.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), PLAIN);
    assert!(stderr(&out).contains("nope.yaml: config file not found"), "{}", stderr(&out));
}

#[test]
fn standard_input_is_matched_by_its_filename_override() {
    let work = Work::new();
    config(
        &work,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^secrets/\n    encrypted_regex: ^password$\n    age: {DEMO_RECIPIENT}\n"
        ),
    );
    let out = must(work.gitseal().args(["encrypt", "--filename-override", "secrets/x.yaml"]), Some(PLAIN.as_bytes()));
    assert_eq!(encrypted_keys(&String::from_utf8(out).unwrap()), ["password"]);
    let out = run(work.gitseal().args(["encrypt", "--filename-override", "other/x.yaml"]), Some(PLAIN.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("\"other/x.yaml\""), "{}", stderr(&out));
}
