//! TOML (gitseal's extension) and INI against real sops: a TOML file encrypted as JSON is a
//! file sops decrypts, sops's JSON decrypts to TOML, INI goes both ways; malformed TOML and INI
//! are one-line errors with line and column.

use crate::peers::{find_peer, run, run_ok, Work, DEMO_RECIPIENT};

const TOML: &str = "# service settings\ntitle = \"demo\"\n\n[database]\nuser = \"admin\"\npassword = \"s3cr3t\" # rotate\nports = [8000, 8001]\nratio = 0.5\nenabled = true\n\n[[servers]]\nname = \"alpha\"\n";

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

#[test]
fn toml_round_trips_and_encrypted_as_json_is_read_by_sops() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    work.write("app.toml", TOML);
    // gitseal's own round trip is exact.
    let enc = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "app.toml"]), None).unwrap();
    let enc_text = String::from_utf8_lossy(&enc).into_owned();
    assert!(enc_text.contains("[sops]") && !enc_text.contains("s3cr3t"), "{enc_text}");
    work.write("app.enc.toml", &enc);
    assert_eq!(run_ok(work.gitseal_with_key().args(["decrypt", "app.enc.toml"]), None).unwrap(), TOML.as_bytes());
    // As JSON, the same data is a file real sops decrypts.
    let as_json =
        run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output-type", "json", "app.toml"]), None)
            .unwrap();
    work.write("app.enc.json", &as_json);
    let theirs =
        run_ok(work.peer_with_key(&sops).args(["decrypt", "app.enc.json"]), None).unwrap_or_else(|e| panic!("{e}"));
    let ours =
        run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "app.enc.toml"]), None).unwrap();
    assert_eq!(json(&theirs), json(&ours));
}

#[test]
fn sops_json_decrypts_to_toml() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    work.write("c.json", "{\"db\": {\"user\": \"admin\", \"port\": 5432}, \"tags\": [\"a\", \"b\"]}\n");
    run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", "c.enc.json", "c.json"]), None)
        .unwrap();
    let toml = run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "toml", "c.enc.json"]), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let toml = String::from_utf8(toml).unwrap();
    assert!(toml.contains("[db]") && toml.contains("user = \"admin\"") && toml.contains("port = 5432"), "{toml}");
    // And it reads back as the same data.
    work.write("back.toml", &toml);
    let plain = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "back.toml"]), None).unwrap();
    work.write("back.enc.toml", &plain);
    let again =
        run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "back.enc.toml"]), None).unwrap();
    assert_eq!(json(&again), json(&run_ok(work.peer_with_key(&sops).args(["decrypt", "c.enc.json"]), None).unwrap()));
}

#[test]
fn ini_interoperates_with_sops_both_ways() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let ini = "; settings\nglobal = 1\n\n[database]\nuser = admin\npassword = s3cr3t\n\n[cache]\nhost = localhost\n";
    work.write("a.ini", ini);
    // sops encrypts, gitseal decrypts to what sops prints.
    run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", "s.ini", "a.ini"]), None).unwrap();
    let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "s.ini"]), None).unwrap();
    let ours = run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "s.ini"]), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json(&ours), json(&theirs));
    // gitseal encrypts, sops decrypts to the original data, and gitseal to the original bytes.
    run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", "g.ini", "a.ini"]), None).unwrap();
    let by_sops = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "g.ini"]), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json(&by_sops), json(&theirs));
    assert_eq!(run_ok(work.gitseal_with_key().args(["decrypt", "g.ini"]), None).unwrap(), ini.as_bytes());
}

#[test]
fn malformed_toml_and_ini_are_positioned_one_line_errors() {
    let work = Work::new();
    for (name, text, line) in [
        ("bad.toml", "a = 1\nb = [1, 2\n", "line"),
        ("dup.toml", "a = 1\na = 2\n", "line 2"),
        ("bad.ini", "[s]\nthis line has no delimiter\n", "line 2"),
        ("dup.ini", "[s]\nk = 1\nk = 2\n", "line 3"),
    ] {
        work.write(name, text);
        let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", "out", name]), None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(name) && err.contains(line) && !err.contains("panicked"), "{name}: {err}");
        assert!(!work.exists("out"), "{name}: nothing is written");
    }
}

/// INI values that gitseal cannot write back in their own quoting (a Python-style continuation
/// whose lines hold quotes) come back exactly through the encrypted layout memory; sops still
/// reads the file.
#[test]
fn ini_values_with_unusual_quoting_round_trip_exactly() {
    let work = Work::new();
    let src = "[s]\nk = \"\"x\n\t\"\"\"\nplain = v\nq = \"\"\"a\"\"\" # c\n";
    work.write("odd.ini", src);
    let enc = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "odd.ini"]), None).unwrap();
    let enc_text = String::from_utf8(enc).unwrap();
    assert!(!enc_text.contains("x\n") && enc_text.contains("gitseal_layout"), "{enc_text}");
    work.write("odd.enc.ini", &enc_text);
    let back = run_ok(work.gitseal_with_key().args(["decrypt", "odd.enc.ini"]), None).unwrap();
    assert_eq!(String::from_utf8(back).unwrap(), src);
    let Some(sops) = find_peer("sops") else { return };
    let out = run(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "odd.enc.ini"]), None);
    assert!(out.status.success(), "sops: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out.stdout)["s"]["plain"], "v");
}
