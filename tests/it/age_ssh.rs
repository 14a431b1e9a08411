//! age with SSH keys (ssh-ed25519, ssh-rsa) made by ssh-keygen, both ways with real sops; the
//! default `~/.ssh` keys; passphrase-protected keys and identity files with and without a
//! terminal; plugin recipients whose plugin is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::peers::{find_peer, must, run, Work};

const PLAIN: &str = "api:\n    token: s3cr3t-t0ken\nreplicas: 2\n";

/// `ssh-keygen -t KIND -N PASSPHRASE -f dir/name`; returns the private key path and the public line.
fn ssh_key(work: &Work, name: &str, kind: &str, passphrase: &str) -> Option<(PathBuf, String)> {
    let keygen = find_peer("ssh-keygen")?;
    let path = work.path(name);
    let mut cmd = keygen.cmd();
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", &format!("{name}@test"), "-f"]).arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    must(&mut cmd, None);
    let public = std::fs::read_to_string(format!("{}.pub", path.display())).unwrap();
    Some((path, public.trim().to_string()))
}

fn with_ssh(mut cmd: Command, key: &Path) -> Command {
    cmd.env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key);
    cmd
}

fn round_trip(kind: &str) {
    let work = Work::new();
    let Some((key, public)) = ssh_key(&work, "id", kind, "") else { return };
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", &public, "plain.yaml"]), None);
    let text = String::from_utf8(enc).unwrap();
    // The whole public key line, comment included, is the recipient (as sops writes it).
    assert!(text.contains(&format!("- recipient: {public}\n")), "{text}");
    work.write("enc.yaml", &text);
    let out = must(with_ssh(work.gitseal(), &key).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);

    let Some(sops) = find_peer("sops") else { return };
    let out = must(with_ssh(work.peer(&sops), &key).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN, "sops reads gitseal's {kind} file");
    must(work.peer(&sops).args(["encrypt", "--age", &public, "--output", "sops.yaml", "plain.yaml"]), None);
    let out = must(with_ssh(work.gitseal(), &key).args(["decrypt", "sops.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN, "gitseal reads sops's {kind} file");
}

#[test]
fn ssh_ed25519_round_trip_and_interop() {
    round_trip("ed25519");
}

#[test]
fn ssh_rsa_round_trip_and_interop() {
    round_trip("rsa");
}

/// Without SOPS_AGE_SSH_PRIVATE_KEY_FILE, `~/.ssh/id_ed25519` and `~/.ssh/id_rsa` are used.
#[test]
fn default_ssh_keys_in_home() {
    let work = Work::new();
    std::fs::create_dir(work.path(".ssh")).unwrap();
    let Some((_, ed)) = ssh_key(&work, ".ssh/id_ed25519", "ed25519", "") else { return };
    let Some((_, rsa)) = ssh_key(&work, ".ssh/id_rsa", "rsa", "") else { return };
    work.write("plain.yaml", PLAIN);
    for public in [ed, rsa] {
        let enc = must(work.gitseal().args(["encrypt", "--age", &public, "plain.yaml"]), None);
        work.write("enc.yaml", enc);
        let out = must(work.gitseal().env("HOME", work.dir()).args(["decrypt", "enc.yaml"]), None);
        assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
        // With another HOME the key is not found, and the error says where gitseal looked.
        let out = run(work.gitseal().args(["decrypt", "enc.yaml"]), None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(128), "{err}");
        assert!(err.contains("~/.ssh/id_ed25519") && err.contains("SOPS_AGE_SSH_PRIVATE_KEY_FILE"), "{err}");
    }
}

/// A passphrase-protected SSH key without a terminal: a clear error, no hang, nothing written.
#[test]
fn passphrase_ssh_key_without_terminal() {
    let work = Work::new();
    let Some((key, public)) = ssh_key(&work, "id", "ed25519", "correct horse") else { return };
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", &public, "plain.yaml"]), None);
    work.write("enc.yaml", enc);
    let mut cmd = detached(with_ssh(work.gitseal(), &key));
    let out = run(cmd.args(["decrypt", "--output", "out.yaml", "enc.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("no terminal to ask for its passphrase"), "{err}");
    assert!(!err.contains("correct horse"));
    assert!(!work.exists("out.yaml"));
}

/// With a terminal, the passphrase of an SSH key is asked for there (not on stdin).
#[test]
fn passphrase_ssh_key_with_terminal() {
    let Some(script) = find_peer("script") else { return };
    let work = Work::new();
    let Some((key, public)) = ssh_key(&work, "id", "ed25519", "correct horse") else { return };
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", &public, "plain.yaml"]), None);
    work.write("enc.yaml", enc);
    let out = in_terminal(&work, &script, &key, "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "correct horse\n");
    assert!(out.contains("replicas: 2"), "{out}");
    let out = in_terminal(&work, &script, &key, "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "wrong\n");
    assert!(!out.contains("replicas: 2") && out.contains("exit 128"), "{out}");
}

/// Runs `gitseal decrypt --output out.yaml enc.yaml` in a pseudo-terminal (util-linux `script`),
/// typing `typed`; returns the terminal transcript, the output file and the exit code.
fn in_terminal(work: &Work, script: &crate::peers::Peer, key: &Path, var: &str, typed: &str) -> String {
    let _ = std::fs::remove_file(work.path("out.yaml"));
    let bin = std::env::var("GITSEAL_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_gitseal").to_string());
    let mut cmd = work.peer(script);
    cmd.env(var, key).args(["-qec", &format!("'{bin}' decrypt --output out.yaml enc.yaml; echo exit $?"), "/dev/null"]);
    let out = run(&mut cmd, Some(typed.as_bytes()));
    let transcript = String::from_utf8_lossy(&out.stdout).into_owned();
    let written = std::fs::read_to_string(work.path("out.yaml")).unwrap_or_default();
    format!("{transcript}\n{written}")
}

/// The command in a new session, without a controlling terminal, even when the tests run in one.
fn detached(cmd: Command) -> Command {
    match find_peer("setsid") {
        Some(setsid) => {
            let mut c = setsid.cmd();
            c.arg(cmd.get_program()).args(cmd.get_args());
            for (k, v) in cmd.get_envs() {
                match v {
                    Some(v) => c.env(k, v),
                    None => c.env_remove(k),
                };
            }
            if let Some(dir) = cmd.get_current_dir() {
                c.current_dir(dir);
            }
            c
        }
        None => cmd,
    }
}

/// A passphrase-protected age identity file (`age -p` of a key file): asked for on the terminal,
/// a clear error without one.
#[test]
fn passphrase_identity_file() {
    let Some(script) = find_peer("script") else { return };
    let work = Work::new();
    must(work.gitseal().args(["keygen", "-o", "key.txt"]), None);
    let key = work.read_string("key.txt");
    let public = key.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().to_string();
    // Encrypt the key file with a passphrase through age in a terminal (age asks twice).
    let mut cmd = work.peer(&script);
    cmd.args(["-qec", "age -p -a -o key.age key.txt", "/dev/null"]);
    if find_peer("age").is_none() {
        return;
    }
    run(&mut cmd, Some(b"pass phrase\npass phrase\n"));
    if !work.exists("key.age") {
        panic!("age -p did not write key.age");
    }
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", &public, "plain.yaml"]), None);
    work.write("enc.yaml", enc);
    let key_age = work.path("key.age");

    let mut cmd = detached({
        let mut c = work.gitseal();
        c.env("SOPS_AGE_KEY_FILE", &key_age);
        c
    });
    let out = run(cmd.args(["decrypt", "enc.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("passphrase-protected") && err.contains("no terminal"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let out = in_terminal(&work, &script, &key_age, "SOPS_AGE_KEY_FILE", "pass phrase\n");
    assert!(out.contains("replicas: 2"), "{out}");
}

/// bech32 (BIP 173) of `data` under `hrp`, to make plugin recipients for tests.
fn bech32(hrp: &str, data: &[u8]) -> String {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut five = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            five.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        five.push(((acc << (5 - bits)) & 31) as u8);
    }
    let polymod = |values: &[u8]| {
        const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
        let mut chk = 1u32;
        for &v in values {
            let top = chk >> 25;
            chk = ((chk & 0x1ffffff) << 5) ^ v as u32;
            for (i, g) in GEN.iter().enumerate() {
                if (top >> i) & 1 == 1 {
                    chk ^= g;
                }
            }
        }
        chk
    };
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    values.extend(&five);
    values.extend([0; 6]);
    let m = polymod(&values) ^ 1;
    five.extend((0..6).map(|i| ((m >> (5 * (5 - i))) & 31) as u8));
    format!("{hrp}1{}", five.iter().map(|&d| CHARSET[d as usize] as char).collect::<String>())
}

/// A plugin recipient whose `age-plugin-<name>` is not installed: a clear one-line error.
#[test]
fn missing_plugin_is_a_clear_error() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let recipient = bech32("age1gitsealtest", &[7u8; 32]);
    let out = run(work.gitseal().args(["encrypt", "--age", &recipient, "--output", "out.yaml", "plain.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("age-plugin-gitsealtest") && err.contains("not found on PATH"), "{err}");
    assert!(err.contains("plain.yaml"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!work.exists("out.yaml"));

    // An unsupported SSH key type and a malformed plugin recipient are rejected up front.
    let out = run(work.gitseal().args(["encrypt", "--age", "ssh-dss AAAAB3NzaC1kc3M= x", "plain.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    let out = run(work.gitseal().args(["encrypt", "--age", "age1gitsealtest1qqqq", "plain.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
}

/// A passphrase-protected `~/.ssh/id_ed25519` is never asked about for a file it cannot open,
/// so files for other keys decrypt without a prompt (and without a terminal).
#[test]
fn locked_default_ssh_key_does_not_get_in_the_way() {
    let work = Work::new();
    std::fs::create_dir(work.path(".ssh")).unwrap();
    let Some((_, locked)) = ssh_key(&work, ".ssh/id_ed25519", "ed25519", "pw") else { return };
    let Some((other, other_public)) = ssh_key(&work, "other", "ed25519", "") else { return };
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", crate::peers::DEMO_RECIPIENT, "plain.yaml"]), None);
    work.write("x25519.yaml", enc);
    let mut cmd = detached(work.gitseal_with_key());
    let out = must(cmd.env("HOME", work.dir()).args(["decrypt", "x25519.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    // A file for another SSH key, which is missing: the locked key's .pub shows the stanza is not
    // its own, so it is not asked about (no "no terminal" complaint), and the error is plain.
    let _ = locked;
    let enc = must(work.gitseal().args(["encrypt", "--age", &other_public, "plain.yaml"]), None);
    work.write("ssh.yaml", enc);
    std::fs::remove_file(&other).unwrap();
    let mut cmd = detached(work.gitseal());
    let out = run(cmd.env("HOME", work.dir()).args(["decrypt", "ssh.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("matches") && !err.contains("terminal"), "{err}");
}

/// `SOPS_AGE_SSH_PRIVATE_KEY_CMD` (sops 3.12, getsops/sops#2070): a command, run without a
/// shell with `SOPS_AGE_RECIPIENT` set, whose output is the SSH private key. A command that
/// fails, prints no key or a passphrase-protected one is a one-line error naming the variable.
#[test]
fn ssh_private_key_from_a_command() {
    let work = Work::new();
    let Some((key, public)) = ssh_key(&work, "id", "ed25519", "") else { return };
    let Some((locked, _)) = ssh_key(&work, "locked", "ed25519", "pw") else { return };
    work.write("plain.yaml", PLAIN);
    let enc = must(work.gitseal().args(["encrypt", "--age", &public, "plain.yaml"]), None);
    work.write("enc.yaml", enc);
    let seen = work.path("seen");
    let cmd = format!("sh -c 'printf %s \"$SOPS_AGE_RECIPIENT\" > {}; cat {}'", seen.display(), key.display());
    let out = must(work.gitseal().env("SOPS_AGE_SSH_PRIVATE_KEY_CMD", &cmd).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    assert_eq!(work.read_string("seen"), public, "the command gets the recipient");

    let locked_cmd = format!("cat {}", locked.display());
    for (cmd, why) in [
        ("false", "failed"),
        ("echo not-a-key", "not a supported SSH private key"),
        (locked_cmd.as_str(), "passphrase-protected"),
    ] {
        let out = run(work.gitseal().env("SOPS_AGE_SSH_PRIVATE_KEY_CMD", cmd).args(["decrypt", "enc.yaml"]), None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(128), "{cmd}: {err}");
        assert!(err.contains("SOPS_AGE_SSH_PRIVATE_KEY_CMD") && err.contains(why), "{cmd}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("PRIVATE KEY-----"), "{err}");
    }
}

/// A post-quantum recipient `age1pq1...` (sops 3.13 through age 1.3, getsops/sops#2033) as
/// bech32 of 1,216 bytes, the size of an ML-KEM-768 + X25519 public key.
fn pq_recipient() -> String {
    bech32("age1pq", &[9u8; 1216])
}

/// The age crate gitseal is built on (0.12) has no post-quantum hybrid type: such a recipient
/// is refused with a one-line reason, not a parse error, and nothing is written; a
/// post-quantum identity is skipped, so the other identities still open the file, and the
/// error says why when none does.
#[test]
fn post_quantum_age_keys_are_refused_with_the_reason() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let pq = pq_recipient();
    let out = run(work.gitseal().args(["encrypt", "--age", &pq, "--output", "out.yaml", "plain.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("post-quantum") && err.contains("not supported by this build"), "{err}");
    assert!(err.contains("age crate") && err.contains(&format!("\"{}...", &pq[..16])), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.len() < 600 && !err.contains(&pq[20..60]), "the recipient is shortened: {err}");
    assert!(!work.exists("out.yaml"));

    // A file that sops 3.13 wrapped for a post-quantum recipient: the hint says why it cannot
    // open here (not "install age-plugin-pq").
    let enc = must(work.gitseal().args(["encrypt", "--age", crate::peers::OTHER_RECIPIENT, "plain.yaml"]), None);
    let enc = String::from_utf8(enc).unwrap().replace(crate::peers::OTHER_RECIPIENT, &pq);
    work.write("pq.yaml", enc);
    let out = run(work.gitseal_with_key().args(["decrypt", "pq.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("post-quantum") && !err.contains("age-plugin-pq"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    // A post-quantum identity beside a usable one is skipped.
    let demo = std::fs::read_to_string(crate::peers::demo_key()).unwrap();
    let pq_identity = "AGE-SECRET-KEY-PQ-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    work.write("keys.txt", format!("{pq_identity}\n{demo}"));
    let enc = must(work.gitseal().args(["encrypt", "--age", crate::peers::DEMO_RECIPIENT, "plain.yaml"]), None);
    work.write("demo.yaml", enc);
    let out = must(work.gitseal().env("SOPS_AGE_KEY_FILE", work.path("keys.txt")).args(["decrypt", "demo.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    // Alone, it opens nothing, and the error says why without showing it.
    let out = run(work.gitseal().env("SOPS_AGE_KEY", pq_identity).args(["decrypt", "demo.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("post-quantum identity at SOPS_AGE_KEY line 1") && err.contains("not supported"), "{err}");
    assert!(!err.contains("QQQQQQ"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
