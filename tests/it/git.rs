//! The git integration end to end with the real git: `gitseal git setup` writes the diff and
//! merge drivers and `.gitattributes`; `git diff` / `git log -p` then show the plaintext lines
//! that changed, with or without a key (without one the diff still works, on the ciphertext),
//! and `git merge` merges encrypted files key by key.

use crate::peers::{demo_key, find_peer, must, run, Peer, Work, DEMO_RECIPIENT};

const SOPS_YAML: &str = "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: AGE\n  - path_regex: ^secrets/.*\\.json$\n    age: AGE\n";

/// A repository with `.sops.yaml` and one committed encrypted file, `app.enc.yaml`.
fn repo(git: &Peer) -> Work {
    let work = Work::new();
    work.sops_repo(git, SOPS_YAML, "app.enc.yaml", "db:\n  user: admin\n  password: hunter2\n");
    must(work.git(git).args(["add", "-A"]), None);
    must(work.git(git).args(["commit", "-q", "-m", "init"]), None);
    work
}

#[test]
fn git_setup_writes_the_driver_and_the_attributes_once() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    let out = run(work.gitseal().args(["git", "setup"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        work.read_string(".gitattributes"),
        "*.enc.yaml diff=gitseal merge=gitseal\n/secrets/**/*.json diff=gitseal merge=gitseal\n"
    );
    let textconv = must(work.git(&git).args(["config", "--get", "diff.gitseal.textconv"]), None);
    assert!(String::from_utf8_lossy(&textconv).trim_end().ends_with(" textconv"), "{textconv:?}");
    // Idempotent: nothing changes, nothing is said.
    let again = run(work.gitseal().args(["git", "setup"]), None);
    assert!(again.status.success() && again.stderr.is_empty(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(
        work.read_string(".gitattributes"),
        "*.enc.yaml diff=gitseal merge=gitseal\n/secrets/**/*.json diff=gitseal merge=gitseal\n"
    );
    // git itself finds the driver for the files the rules cover, and only for them.
    let attr = must(work.git(&git).args(["check-attr", "diff", "app.enc.yaml", "secrets/a/b.json", "x.yaml"]), None);
    assert_eq!(
        String::from_utf8_lossy(&attr),
        "app.enc.yaml: diff: gitseal\nsecrets/a/b.json: diff: gitseal\nx.yaml: diff: unspecified\n"
    );
}

#[test]
fn git_diff_and_log_show_the_changed_plaintext_lines() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    must(work.gitseal().args(["git", "setup"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["password"]"#, r#""s3cret""#]), None);
    let diff = run(work.git(&git).env("SOPS_AGE_KEY_FILE", demo_key()).args(["diff", "app.enc.yaml"]), None);
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(diff.status.success() && diff.stderr.is_empty(), "{}", String::from_utf8_lossy(&diff.stderr));
    let changed: Vec<&str> =
        text.lines().filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++")).collect();
    assert_eq!(changed, ["-  password: hunter2", "+  password: s3cret"], "{text}");
    must(work.git(&git).args(["commit", "-q", "-am", "rotate"]), None);
    let log = must(work.git(&git).env("SOPS_AGE_KEY_FILE", demo_key()).args(["log", "-p", "-1"]), None);
    let log = String::from_utf8_lossy(&log);
    assert!(log.contains("+  password: s3cret") && !log.contains("ENC["), "{log}");
}

#[test]
fn git_diff_without_a_key_still_works_on_the_ciphertext() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    must(work.gitseal().args(["git", "setup"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["password"]"#, r#""s3cret""#]), None);
    let diff = run(work.git(&git).args(["diff", "app.enc.yaml"]), None);
    let (text, stderr) = (String::from_utf8_lossy(&diff.stdout), String::from_utf8_lossy(&diff.stderr));
    assert!(diff.status.success(), "{stderr}");
    assert!(text.contains("+  password: ENC[AES256_GCM,"), "{text}");
    // One notice per side, naming the file, never a value.
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stderr.lines().all(|l| l.contains("app.enc.yaml") && l.contains("the diff shows the encrypted file")),
        "{stderr}"
    );
}

#[test]
fn textconv_passes_other_files_through_and_never_reads_stdin() {
    let work = Work::new();
    work.write("notes.yaml", "a: 1\n");
    work.write(
        "enc.yaml",
        must(
            work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--filename-override", "x.yaml"]),
            Some(b"k: v\n"),
        ),
    );
    for (file, expected) in [("notes.yaml", "a: 1\n"), ("enc.yaml", "k: v\n")] {
        let out = run(work.gitseal_with_key().args(["textconv", file]), Some(b"other: input\n"));
        assert!(out.status.success() && out.stderr.is_empty(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{file}");
    }
    // A file that cannot be read: nothing shown, a notice, still exit 0 (git goes on).
    let out = run(work.gitseal().args(["textconv", "missing.yaml"]), None);
    assert!(out.status.success() && out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));
}

#[test]
fn git_setup_turns_cachetextconv_off() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    must(work.git(&git).args(["config", "diff.gitseal.cachetextconv", "true"]), None);
    let out = run(work.gitseal().args(["git", "setup"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("cachetextconv"), "{stderr}");
    let cache = run(work.git(&git).args(["config", "--get", "diff.gitseal.cachetextconv"]), None);
    assert!(!cache.status.success(), "still set: {}", String::from_utf8_lossy(&cache.stdout));
}

#[test]
fn git_setup_global_writes_the_users_config() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    let home = Work::new();
    let out = run(work.gitseal().env("HOME", home.dir()).args(["git", "setup", "--global"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(home.read_string(".gitconfig").contains("[diff \"gitseal\"]"), "{}", home.read_string(".gitconfig"));
    let local = run(work.git(&git).args(["config", "--local", "--get", "diff.gitseal.textconv"]), None);
    assert!(!local.status.success());
    assert!(work.read_string(".gitattributes").contains("*.enc.yaml diff=gitseal merge=gitseal"));
}

/// Two branches that change different keys of one encrypted file merge without a conflict (sops
/// files always conflict on `mac`); the result holds both changes, sops reads it, and the merge
/// commit changes only the merged value's line and the MAC and date.
#[test]
fn git_merge_of_different_keys_is_clean_and_sops_reads_it() {
    let (Some(git), Some(sops)) = (find_peer("git"), find_peer("sops")) else { return };
    let work = repo(&git);
    must(work.gitseal().args(["git", "setup"]), None);
    must(work.git(&git).args(["add", "-A"]), None);
    must(work.git(&git).args(["commit", "-q", "-m", "setup"]), None);
    must(work.git(&git).args(["checkout", "-q", "-b", "feature"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["user"]"#, r#""root""#]), None);
    must(work.git(&git).args(["commit", "-q", "-am", "user"]), None);
    must(work.git(&git).args(["checkout", "-q", "-"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["password"]"#, r#""s3cret""#]), None);
    must(work.git(&git).args(["commit", "-q", "-am", "password"]), None);
    let merge =
        run(work.git(&git).env("SOPS_AGE_KEY_FILE", demo_key()).args(["merge", "-q", "--no-edit", "feature"]), None);
    assert!(
        merge.status.success(),
        "{}{}",
        String::from_utf8_lossy(&merge.stdout),
        String::from_utf8_lossy(&merge.stderr)
    );
    let plain = must(work.gitseal_with_key().args(["decrypt", "app.enc.yaml"]), None);
    assert_eq!(String::from_utf8_lossy(&plain), "db:\n  user: root\n  password: s3cret\n");
    let by_sops = must(work.peer_with_key(&sops).args(["decrypt", "app.enc.yaml"]), None);
    assert!(String::from_utf8_lossy(&by_sops).contains("user: root"), "{}", String::from_utf8_lossy(&by_sops));
    let raw = must(work.git(&git).args(["diff", "--no-textconv", "HEAD~1", "HEAD", "--", "app.enc.yaml"]), None);
    let changed: Vec<String> = String::from_utf8_lossy(&raw)
        .lines()
        .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"))
        .map(|l| l[1..].trim_start().split(':').next().unwrap_or("").to_string())
        // The date changes unless the merge runs within the second of the last commit.
        .filter(|k| k != "lastmodified")
        .collect();
    assert_eq!(changed, ["user", "user", "mac", "mac"], "{}", String::from_utf8_lossy(&raw));
}

/// Both branches change one value: a conflict that names the key path (never a value), and our
/// version stays in the work tree, encrypted and valid.
#[test]
fn git_merge_of_one_key_changed_twice_is_a_clean_conflict() {
    let Some(git) = find_peer("git") else { return };
    let work = repo(&git);
    must(work.gitseal().args(["git", "setup"]), None);
    must(work.git(&git).args(["add", "-A"]), None);
    must(work.git(&git).args(["commit", "-q", "-m", "setup"]), None);
    must(work.git(&git).args(["checkout", "-q", "-b", "feature"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["password"]"#, r#""theirs-secret""#]), None);
    must(work.git(&git).args(["commit", "-q", "-am", "theirs"]), None);
    must(work.git(&git).args(["checkout", "-q", "-"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["password"]"#, r#""ours-secret""#]), None);
    must(work.git(&git).args(["commit", "-q", "-am", "ours"]), None);
    let merge = run(work.git(&git).env("SOPS_AGE_KEY_FILE", demo_key()).args(["merge", "--no-edit", "feature"]), None);
    let out = format!("{}{}", String::from_utf8_lossy(&merge.stdout), String::from_utf8_lossy(&merge.stderr));
    assert!(!merge.status.success(), "{out}");
    assert!(out.contains(r#"conflict at ["db"]["password"]"#) && !out.contains("secret\""), "{out}");
    assert!(!out.contains("ours-secret") && !out.contains("theirs-secret"), "{out}");
    let plain = must(work.gitseal_with_key().args(["decrypt", "app.enc.yaml"]), None);
    assert_eq!(String::from_utf8_lossy(&plain), "db:\n  user: admin\n  password: ours-secret\n");
}

/// Two branches changed the same value: the merge driver leaves a conflict, and
/// `gitseal merge --resolve` opens the decrypted versions with git's markers in the editor (an
/// editor that takes their side), then encrypts the result with our keys; sops reads it. The
/// editor sees the plaintext in a private directory, never in the work tree.
#[test]
fn merge_resolve_opens_the_decrypted_conflict_in_the_editor() {
    let (Some(git), Some(sops)) = (find_peer("git"), find_peer("sops")) else { return };
    let work = conflicted(&git, true);
    // Takes their side of every conflict, and says where it was run and what it saw.
    let out = resolve_with(
        &work,
        "printf '%s\\n' \"$1\" > \"$(dirname \"$0\")/edited-at\"\ncp \"$1\" \"$(dirname \"$0\")/seen\"\n\
         awk '/^<<<<<<< /{skip=1;next} /^=======$/{skip=0;next} /^>>>>>>> /{next} !skip' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(r#"conflict at ["db"]["password"]"#) && !stderr.contains("-secret"), "{stderr}");
    let seen = work.read_string("seen");
    assert!(seen.contains("<<<<<<< ours") && seen.contains("theirs-secret") && seen.contains("ours-secret"), "{seen}");
    let edited_at = work.read_string("edited-at");
    assert!(!edited_at.starts_with(&work.dir().display().to_string()), "{edited_at}");
    let plain = must(work.gitseal_with_key().args(["decrypt", "app.enc.yaml"]), None);
    assert_eq!(String::from_utf8_lossy(&plain), "db:\n  user: admin\n  password: theirs-secret\n");
    let by_sops = must(work.peer_with_key(&sops).args(["decrypt", "app.enc.yaml"]), None);
    assert!(String::from_utf8_lossy(&by_sops).contains("password: theirs-secret"));
    // git add marks it resolved; the merge commits.
    must(work.git(&git).args(["add", "app.enc.yaml"]), None);
    must(work.git(&git).args(["commit", "-q", "--no-edit"]), None);
}

/// An editor that leaves a marker in place: nothing is written, the conflict stays; and a
/// file with no conflict in git's index is refused with a one-line error.
#[test]
fn merge_resolve_refuses_markers_left_and_files_not_in_conflict() {
    let Some(git) = find_peer("git") else { return };
    let work = conflicted(&git, true);
    let before = work.read("app.enc.yaml");
    let out = resolve_with(&work, "sed -i 's/ours-secret/mine/' \"$1\"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("conflict markers"), "{stderr}");
    assert!(!stderr.contains("mine"), "{stderr}");
    assert_eq!(work.read("app.enc.yaml"), before);
    let clean = repo(&git);
    let out = run(clean.gitseal_with_key().args(["merge", "--resolve", "app.enc.yaml"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("app.enc.yaml: git has no conflict"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Without the merge driver, git's line merge conflicts on `mac` even when the branches changed
/// different keys; `merge --resolve` merges them key by key and never starts the editor.
#[test]
fn merge_resolve_without_the_driver_merges_key_by_key() {
    let Some(git) = find_peer("git") else { return };
    let work = conflicted(&git, false);
    let out = run(
        work.gitseal_with_key().env("SOPS_EDITOR", "false").env_remove("EDITOR").args([
            "merge",
            "--resolve",
            "app.enc.yaml",
        ]),
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plain = must(work.gitseal_with_key().args(["decrypt", "app.enc.yaml"]), None);
    assert_eq!(String::from_utf8_lossy(&plain), "db:\n  user: root\n  password: ours-secret\n");
}

/// `gitseal merge --resolve app.enc.yaml` with an editor script of `body` (the file is "$1").
fn resolve_with(work: &Work, body: &str) -> std::process::Output {
    let editor = work.write("ed.sh", format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cmd = work.gitseal_with_key();
    cmd.env("SOPS_EDITOR", &editor).env_remove("EDITOR").args(["merge", "--resolve", "app.enc.yaml"]);
    run(&mut cmd, None)
}

/// A repository in the middle of a merge of `app.enc.yaml`. With `driver`, gitseal's merge
/// driver is set up and both branches changed the password (a real conflict); without it, the
/// branches changed different keys and git's line merge conflicts on the metadata.
fn conflicted(git: &Peer, driver: bool) -> Work {
    let work = repo(git);
    if driver {
        must(work.gitseal().args(["git", "setup"]), None);
        must(work.git(git).args(["add", "-A"]), None);
        must(work.git(git).args(["commit", "-q", "-m", "setup"]), None);
    }
    let (theirs, value) =
        if driver { (r#"["db"]["password"]"#, r#""theirs-secret""#) } else { (r#"["db"]["user"]"#, r#""root""#) };
    must(work.git(git).args(["checkout", "-q", "-b", "feature"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", theirs, value]), None);
    must(work.git(git).args(["commit", "-q", "-am", "theirs"]), None);
    must(work.git(git).args(["checkout", "-q", "-"]), None);
    must(work.gitseal_with_key().args(["set", "app.enc.yaml", r#"["db"]["password"]"#, r#""ours-secret""#]), None);
    must(work.git(git).args(["commit", "-q", "-am", "ours"]), None);
    let merge =
        run(work.git(git).env("SOPS_AGE_KEY_FILE", demo_key()).args(["merge", "-q", "--no-edit", "feature"]), None);
    assert!(!merge.status.success(), "{}", String::from_utf8_lossy(&merge.stdout));
    work
}
