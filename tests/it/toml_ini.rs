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

/// sops 3.13.0 and 3.13.1 wrote the line breaks of `[sops]` values as real ones, in `"""`
/// quotes; 3.13.2 writes `\n` again and reads both (getsops/sops#2189). A file of the
/// 3.13.1 form, made here from one gitseal wrote, decrypts, and is written back in the 3.13.2
/// form when its metadata changes.
#[test]
fn ini_metadata_with_the_line_breaks_of_sops_3_13_1_is_read() {
    let work = Work::new();
    let ini = "[database]\nuser = admin\npassword = s3cr3t\n";
    work.write("a.ini", ini);
    let recipients = format!("{DEMO_RECIPIENT},{}", crate::peers::OTHER_RECIPIENT);
    let enc = run_ok(work.gitseal().args(["encrypt", "--age", &recipients, "a.ini"]), None).unwrap();
    let enc = String::from_utf8(enc).unwrap();
    let escaped = |text: &str| text.lines().filter(|l| l.contains("= -----BEGIN AGE ENCRYPTED FILE-----\\n")).count();
    assert_eq!(escaped(&enc), 2, "gitseal writes the 3.13.2 form:\n{enc}");
    assert!(!enc.contains("\"\"\""), "{enc}");
    // The 3.13.1 form: each value with `\n` in `"""`, its line breaks real.
    let (data, meta) = enc.split_at(enc.find("[sops]").unwrap());
    let old: String = meta
        .lines()
        .map(|l| match l.split_once(" = ") {
            Some((k, v)) if v.contains("\\n") => format!("{k} = \"\"\"{}\"\"\"\n", v.replace("\\n", "\n")),
            _ => format!("{l}\n"),
        })
        .collect();
    assert!(
        old.contains("= \"\"\"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl") && old.contains("-----\n\"\"\"\n"),
        "{old}"
    );
    work.write("old.ini", format!("{data}{old}"));
    let out = run_ok(work.gitseal_with_key().args(["decrypt", "old.ini"]), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&out), ini);
    let other = crate::peers::other_key();
    let out = run_ok(work.gitseal().env("SOPS_AGE_KEY_FILE", &other).args(["decrypt", "old.ini"]), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&out), ini);
    if let Some(sops) = find_peer("sops") {
        let args = ["decrypt", "--output-type", "json", "old.ini"];
        let theirs = run_ok(work.peer_with_key(&sops).args(args), None).unwrap_or_else(|e| panic!("{e}"));
        let ours = run_ok(work.gitseal_with_key().args(args), None).unwrap();
        assert_eq!(json(&theirs), json(&ours), "sops reads the 3.13.1 form too");
    }
    // New data-key wraps are written in the 3.13.2 form.
    run_ok(work.gitseal_with_key().args(["rotate", "-i", "old.ini"]), None).unwrap_or_else(|e| panic!("{e}"));
    let rotated = work.read_string("old.ini");
    assert_eq!(escaped(&rotated), 2, "{rotated}");
    assert!(!rotated.contains("\"\"\""), "{rotated}");
    let out = run_ok(work.gitseal_with_key().args(["decrypt", "old.ini"]), None).unwrap();
    assert_eq!(String::from_utf8_lossy(&out), ini);
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

/// Text that ini.v1 reads as a section comment (after a `[header]` on its line) or ignores
/// (after a closing `"""` or backquote) is encrypted: none of it stays in the clear, gitseal
/// decrypts to the exact bytes, and sops reads gitseal's file, comment included, without a
/// warning, to the data of its own encryption.
#[test]
fn ini_header_comments_and_text_after_closing_quotes_are_encrypted() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let cases = [
        ("[s] ; secret\na = 1\n", Some("secret")),
        ("; c1\n  [s]\t# secret\r\nk = v\r\n", Some("c1")),
        ("a = 1\n[DEFAULT] ; secret\nb = 2\n\n[e] # secret 2\n", Some("secret 2")),
        ("[s]\nk = \"\"\"a\"\"\" secret\n", None),
        ("[s]\nk = \"\"\"a\nb\"\"\" secret ; c\nq = \"v\" ; secret 3\nbt = `x` secret 4\n", None),
    ];
    for (i, (src, shown)) in cases.into_iter().enumerate() {
        let (plain, ours, theirs) = (format!("p{i}.ini"), format!("g{i}.ini"), format!("s{i}.ini"));
        work.write(&plain, src);
        run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &ours, &plain]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let enc = work.read_string(&ours);
        assert!(!enc.contains("secret"), "{src:?}:\n{enc}");
        assert_eq!(run_ok(work.gitseal_with_key().args(["decrypt", &ours]), None).unwrap(), src.as_bytes(), "{enc}");
        // sops decrypts the comments gitseal encrypted, with no "possibly unencrypted" warning.
        let out = run(work.peer_with_key(&sops).args(["decrypt", &ours]), None);
        let (text, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && !err.contains("unencrypted"), "{src:?}: {err}\n{enc}");
        if let Some(comment) = shown {
            assert!(text.contains(comment), "{src:?}:\n{text}");
        }
        let by_sops = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", &ours]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &theirs, &plain]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let own = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", &theirs]), None).unwrap();
        assert_eq!(json(&by_sops), json(&own), "{src:?}");
    }
}

/// Text after a section header's `]` that is not a comment is ignored by ini.v1 and would stay
/// in the clear: refused, as a one-line error naming the file and line.
#[test]
fn ini_text_after_a_section_header_is_refused() {
    let work = Work::new();
    work.write("h.ini", "[s]\nk = v\n[t] secret\n");
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", "out", "h.ini"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("h.ini") && err.contains("line 3") && !err.contains("secret"), "{err}");
    assert!(!work.exists("out"));
}

/// Found by fuzzing: Python-style continuation lines are read only when some indented line
/// could not be a key, and encrypting a value can remove the only such line, so the encrypted
/// file read other keys and never decrypted (MAC mismatch). Encryption now reads its output
/// back and refuses, writing nothing.
#[test]
fn an_ini_file_that_would_not_read_back_is_not_written() {
    let work = Work::new();
    work.write("c.ini", "_unencrypted=\n `:\np=\n _\n");
    let out = run(work.gitseal().args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "c.ini"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("c.ini: the encrypted file would not read back as written"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(work.read("c.ini"), b"_unencrypted=\n `:\np=\n _\n");
}

/// Found by fuzzing: values whose text ends in a NUL after the closing `"""` (which ini.v1
/// ignores), and a Python continuation value holding both `"""` and a backquote (which no INI
/// quoting can write anew), were encrypted but came back changed or not at all. Both are kept
/// in the encrypted layout memory now, and come back byte for byte.
#[test]
fn ini_values_that_cannot_be_written_anew_come_back_exactly() {
    let work = Work::new();
    for (i, src) in
        ["~=\"\"\" \"\"\"\0", "q=\"p\"\"\"`\n v", "[s]\nk = \"\"\"a\"\"\"\0\0\nl = x\n"].into_iter().enumerate()
    {
        let (plain, enc) = (format!("p{i}.ini"), format!("e{i}.ini"));
        work.write(&plain, src);
        run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &enc, &plain]), None)
            .unwrap_or_else(|e| panic!("{src:?}: {e}"));
        let back =
            run_ok(work.gitseal_with_key().args(["decrypt", &enc]), None).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        assert_eq!(String::from_utf8_lossy(&back), src);
    }
}
