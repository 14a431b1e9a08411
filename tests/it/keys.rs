//! Keys: `gitseal keygen` writes identities that real age accepts, decrypt finds identities in
//! every place sops looks, and plaintext written to a new file is private (0600).

use std::ffi::OsStr;

use crate::fixtures::same_bytes;
use crate::peers::{
    demo_key, find_peer, fixtures_dir, mode, must, other_key, run, Work, DEMO_RECIPIENT, OTHER_RECIPIENT,
};

#[test]
fn keygen_identity_round_trips_with_age() {
    let Some(age) = find_peer("age") else { return };
    let Some(age_keygen) = find_peer("age-keygen") else { return };
    let work = Work::new();
    must(work.gitseal().args(["keygen", "-o", "k.txt"]), None);
    let key = work.read_string("k.txt");
    assert!(key.lines().any(|l| l.starts_with("AGE-SECRET-KEY-1")), "no identity in k.txt:\n{key}");
    assert_eq!(mode(&work.path("k.txt")) & 0o077, 0, "k.txt is readable by others: {:o}", mode(&work.path("k.txt")));

    let recipient = must(work.peer(&age_keygen).args(["-y", "k.txt"]), None);
    let recipient = String::from_utf8(recipient).expect("recipient is text").trim().to_string();
    assert!(recipient.starts_with("age1"), "age-keygen -y gave {recipient:?}");

    let message = b"the launch code is 0000\n";
    must(work.peer(&age).args(["-e", "-r", &recipient, "-o", "msg.age"]), Some(message));
    let plain = must(work.peer(&age).args(["-d", "-i", "k.txt", "msg.age"]), None);
    same_bytes(message, &plain).unwrap_or_else(|e| panic!("age -d with gitseal's key: {e}"));
}

#[test]
fn keygen_identity_works_with_gitseal() {
    let work = Work::new();
    let out = must(work.gitseal().args(["keygen", "-o", "k.txt"]), None);
    let key = work.read_string("k.txt");
    // age-keygen writes `# public key: age1…`; gitseal keygen may also print it.
    let recipient = key
        .lines()
        .chain(String::from_utf8_lossy(&out).lines())
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("age1")).map(str::to_string))
        .unwrap_or_else(|| panic!("no recipient in k.txt or on stdout:\n{key}"));
    work.copy_fixture("nested.yaml");
    let enc = must(work.gitseal().args(["encrypt", "--age", &recipient, "nested.yaml"]), None);
    work.write("nested.enc.yaml", enc);
    let plain =
        must(work.gitseal().env("SOPS_AGE_KEY_FILE", work.path("k.txt")).args(["decrypt", "nested.enc.yaml"]), None);
    same_bytes(&work.read("nested.yaml"), &plain).unwrap_or_else(|e| panic!("nested.yaml: {e}"));
}

#[test]
fn plaintext_written_with_output_is_private() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "nested.yaml"]), None);
    work.write("nested.enc.yaml", enc);
    must(work.gitseal_with_key().args(["decrypt", "--output", "plain.yaml", "nested.enc.yaml"]), None);
    assert_eq!(mode(&work.path("plain.yaml")), 0o600, "mode of a new plaintext file");
    same_bytes(&work.read("nested.yaml"), &work.read("plain.yaml")).unwrap_or_else(|e| panic!("plain.yaml: {e}"));
}

/// A variable to set, or to remove (`None`).
type EnvChange<'a> = (&'a str, Option<&'a OsStr>);

#[test]
fn identities_come_from_every_source() {
    // SOPS_AGE_KEY (the key text), SOPS_AGE_KEY_CMD (a command's stdout), and the default
    // keys.txt under XDG_CONFIG_HOME and under HOME/.config.
    let work = Work::new();
    let expected = std::fs::read(fixtures_dir().join("nested.yaml")).unwrap();
    work.copy_fixture("nested.yaml");
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "nested.yaml"]), None);
    work.write("secret.yaml", enc);

    let key_text = std::fs::read_to_string(demo_key()).unwrap();
    let config = work.path("config");
    std::fs::create_dir_all(config.join("sops/age")).unwrap();
    std::fs::write(config.join("sops/age/keys.txt"), &key_text).unwrap();
    let home = work.path("home");
    std::fs::create_dir_all(home.join(".config/sops/age")).unwrap();
    std::fs::write(home.join(".config/sops/age/keys.txt"), &key_text).unwrap();

    let key_cmd = format!("cat {}", demo_key().display());
    let sources: [(&str, Vec<EnvChange>); 4] = [
        ("SOPS_AGE_KEY", vec![("SOPS_AGE_KEY", Some(key_text.as_ref()))]),
        ("SOPS_AGE_KEY_CMD", vec![("SOPS_AGE_KEY_CMD", Some(key_cmd.as_ref()))]),
        ("keys.txt under XDG_CONFIG_HOME", vec![("XDG_CONFIG_HOME", Some(config.as_os_str()))]),
        ("keys.txt under HOME/.config", vec![("HOME", Some(home.as_os_str())), ("XDG_CONFIG_HOME", None)]),
    ];
    for (source, vars) in sources {
        let mut cmd = work.gitseal();
        for (var, value) in vars {
            match value {
                Some(value) => cmd.env(var, value),
                None => cmd.env_remove(var),
            };
        }
        let out = run(cmd.args(["decrypt", "secret.yaml"]), None);
        assert!(out.status.success(), "{source}: {}", String::from_utf8_lossy(&out.stderr));
        same_bytes(&expected, &out.stdout).unwrap_or_else(|e| panic!("{source}: {e}"));
    }
}

#[test]
fn either_of_two_recipients_decrypts() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let recipients = format!("{DEMO_RECIPIENT},{OTHER_RECIPIENT}");
    let enc = must(work.gitseal().args(["encrypt", "--age", &recipients, "nested.yaml"]), None);
    work.write("nested.enc.yaml", enc);
    let sops = find_peer("sops");
    for key in [demo_key(), other_key()] {
        let plain = must(work.gitseal().env("SOPS_AGE_KEY_FILE", &key).args(["decrypt", "nested.enc.yaml"]), None);
        same_bytes(&work.read("nested.yaml"), &plain).unwrap_or_else(|e| panic!("gitseal, {}: {e}", key.display()));
        if let Some(sops) = &sops {
            let args = ["decrypt", "--output-type", "json", "nested.enc.yaml"];
            must(work.peer(sops).env("SOPS_AGE_KEY_FILE", &key).args(args), None);
        }
    }
}

/// The `AGE-SECRET-KEY-1...` line of an identity file.
fn secret_of(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).unwrap().to_string()
}

/// sops 3.13 reads several identities from one line of `SOPS_AGE_KEY`, separated by spaces
/// (getsops/sops#2086); every one is used. Identity files keep one per line.
#[test]
fn sops_age_key_holds_several_identities_on_one_line() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    for (name, recipient) in [("demo.yaml", DEMO_RECIPIENT), ("other.yaml", OTHER_RECIPIENT)] {
        let enc = must(work.gitseal().args(["encrypt", "--age", recipient, "nested.yaml"]), None);
        work.write(name, enc);
    }
    let line = format!("{}  {}\t", secret_of(&demo_key()), secret_of(&other_key()));
    for name in ["demo.yaml", "other.yaml"] {
        let out = run(work.gitseal().env("SOPS_AGE_KEY", &line).args(["decrypt", name]), None);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        same_bytes(&work.read("nested.yaml"), &out.stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // A bad word is named by its place, never echoed.
    let bad = format!("{} AGE-SECRET-KEY-1NOTAKEY", secret_of(&demo_key()));
    let out = run(work.gitseal().env("SOPS_AGE_KEY", &bad).args(["decrypt", "demo.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("SOPS_AGE_KEY") && err.contains("line 1, word 2"), "{err}");
    assert!(!err.contains("NOTAKEY") && !err.contains(&secret_of(&demo_key())[16..]), "{err}");
    // In a key file, two identities on a line are an error, as in sops.
    work.write("two.txt", &line);
    let out = run(work.gitseal().env("SOPS_AGE_KEY_FILE", work.path("two.txt")).args(["decrypt", "demo.yaml"]), None);
    assert_eq!(out.status.code(), Some(128), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `SOPS_AGE_KEY_CMD` runs with `SOPS_AGE_RECIPIENT` set to the recipient whose identity is
/// wanted (getsops/sops#2045), without a shell, as sops runs it.
#[test]
fn key_command_gets_the_recipient() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let enc = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "nested.yaml"]), None);
    work.write("secret.yaml", enc);
    let seen = work.path("seen");
    let cmd = format!("sh -c 'printf %s \"$SOPS_AGE_RECIPIENT\" > {}; cat {}'", seen.display(), demo_key().display());
    let out = run(work.gitseal().env("SOPS_AGE_KEY_CMD", &cmd).args(["decrypt", "secret.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(work.read_string("seen"), DEMO_RECIPIENT);
}
