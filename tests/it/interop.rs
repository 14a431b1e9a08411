//! Both directions against real sops, for every fixture: gitseal reads what sops writes, and
//! sops reads what gitseal writes, with the same result as sops on its own files.

use crate::fixtures::{self, same_bytes, same_json, without_comment_lines, Fixture, Format};
use crate::peers::{find_peer, run_ok, Peer, Work, DEMO_RECIPIENT};

/// `sops encrypt --age DEMO fixture` into `<stem>.sops.<ext>`; returns that name.
fn sops_encrypt(work: &Work, sops: &Peer, fx: &Fixture) -> Result<String, String> {
    let enc = fx.sibling("sops");
    run_ok(work.peer(sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &enc, &fx.name]), None)?;
    Ok(enc)
}

/// `gitseal encrypt --age DEMO fixture` (to stdout) into `<stem>.gitseal.<ext>`; returns that name.
fn gitseal_encrypt(work: &Work, fx: &Fixture) -> Result<String, String> {
    let enc = fx.sibling("gitseal");
    let out = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, &fx.name]), None)?;
    work.write(&enc, out);
    Ok(enc)
}

/// What sops makes of a plaintext YAML text: encrypt it and decrypt it again. Normalises
/// formatting, so two texts with the same content give the same bytes.
fn sops_normalised(work: &Work, sops: &Peer, fx: &Fixture, plain: &[u8]) -> Result<Vec<u8>, String> {
    let (plain_name, enc_name) = (fx.sibling("normalise-plain"), fx.sibling("normalise-enc"));
    work.write(&plain_name, plain);
    run_ok(work.peer(sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &enc_name, &plain_name]), None)?;
    run_ok(work.peer_with_key(sops).args(["decrypt", &enc_name]), None)
}

#[test]
fn gitseal_decrypts_what_sops_encrypted() {
    let Some(sops) = find_peer("sops") else { return };
    fixtures::for_each(fixtures::all(), |fx| {
        let work = Work::new();
        work.copy_fixture(&fx.name);
        let enc = sops_encrypt(&work, &sops, fx)?;

        if fx.format == Format::Binary {
            let ours = run_ok(work.gitseal_with_key().args(["decrypt", &enc]), None)?;
            return same_bytes(&fx.bytes(), &ours).map_err(|e| format!("gitseal decrypt: {e}"));
        }

        if fx.is_multi_doc() {
            // sops writes only the first document of a YAML stream as JSON and drops the others
            // without a word; gitseal refuses instead of losing data.
            if run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", &enc]), None).is_ok() {
                return Err("gitseal wrote a multi-document file as one JSON document".into());
            }
        } else {
            let ours = run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", &enc]), None)?;
            let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", &enc]), None)?;
            same_json("gitseal decrypt", &ours, "sops decrypt", &theirs, false)?;
        }

        if fx.is_multi_doc() {
            // All documents: gitseal's YAML output, normalised by sops, against sops's own output.
            let ours = run_ok(work.gitseal_with_key().args(["decrypt", &enc]), None)?;
            let ours = sops_normalised(&work, &sops, fx, &ours)?;
            let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", &enc]), None)?;
            same_bytes(without_comment_lines(&theirs).as_bytes(), without_comment_lines(&ours).as_bytes())
                .map_err(|e| format!("multi-document YAML (sops-normalised, comments aside): {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn sops_decrypts_what_gitseal_encrypted() {
    let Some(sops) = find_peer("sops") else { return };
    fixtures::for_each(fixtures::all(), |fx| {
        let work = Work::new();
        work.copy_fixture(&fx.name);
        let ours = gitseal_encrypt(&work, fx)?;
        let theirs = sops_encrypt(&work, &sops, fx)?;

        if fx.format == Format::Binary {
            let plain = run_ok(work.peer_with_key(&sops).args(["decrypt", &ours]), None)?;
            return same_bytes(&fx.bytes(), &plain).map_err(|e| format!("sops decrypt of gitseal's file: {e}"));
        }

        let from_ours = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", &ours]), None)?;
        let from_theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", &theirs]), None)?;
        let same =
            same_json("sops decrypt of gitseal's file", &from_ours, "sops decrypt of sops's file", &from_theirs, false);
        if same.is_err() && fx.format == Format::Json {
            // sops 3.11 rounds JSON integers beyond 2^53 in its own files, sops 3.13.2 keeps
            // them (getsops/sops#2222), as gitseal does: the plaintext is the reference then.
            same_json("sops decrypt of gitseal's file", &from_ours, "the plaintext", &fx.bytes(), false)?;
        } else {
            same?;
        }

        // A comment or value sops could not decrypt would stay an ENC[…] string.
        let native = run_ok(work.peer_with_key(&sops).args(["decrypt", &ours]), None)?;
        for (what, out) in [("as JSON", &from_ours), ("in its own format", &native)] {
            if String::from_utf8_lossy(out).contains("ENC[") {
                return Err(format!(
                    "sops decrypt of gitseal's file {what} still holds ENC[…]:\n{}",
                    fixtures::excerpt(out)
                ));
            }
        }

        if fx.is_multi_doc() {
            let from_theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", &theirs]), None)?;
            same_bytes(without_comment_lines(&from_theirs).as_bytes(), without_comment_lines(&native).as_bytes())
                .map_err(|e| format!("multi-document YAML, sops decrypt of gitseal's vs sops's file: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn gitseal_encrypts_the_same_leaves_and_comments_as_sops() {
    let Some(sops) = find_peer("sops") else { return };
    fixtures::for_each(fixtures::all(), |fx| {
        let work = Work::new();
        work.copy_fixture(&fx.name);
        let ours = String::from_utf8_lossy(&work.read(&gitseal_encrypt(&work, fx)?)).into_owned();
        let theirs = String::from_utf8_lossy(&work.read(&sops_encrypt(&work, &sops, fx)?)).into_owned();
        // Every encrypted value, encrypted comment and the MAC is one ENC[…] string. gitseal may
        // add one more in its metadata: the encrypted layout memory (`gitseal_layout`).
        let layout = ours.lines().filter(|l| l.contains("gitseal_layout")).count();
        let (n_ours, n_theirs) = (ours.matches("ENC[").count() - layout, theirs.matches("ENC[").count());
        if n_ours != n_theirs {
            return Err(format!(
                "gitseal wrote {n_ours} ENC[…] strings, sops {n_theirs}\ngitseal:\n{}",
                fixtures::excerpt(ours.as_bytes())
            ));
        }
        if fx.format == Format::Yaml {
            let (k_ours, k_theirs) = (fixtures::encrypted_keys(&ours), fixtures::encrypted_keys(&theirs));
            if k_ours != k_theirs {
                return Err(format!("keys with encrypted values: gitseal {k_ours:?}, sops {k_theirs:?}"));
            }
        }
        Ok(())
    });
}

#[test]
fn encrypt_from_stdin_uses_the_filename_override() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let fx = fixtures::get("nested.yaml");
    let out = run_ok(
        work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--filename-override", "from-stdin.yaml"]),
        Some(&fx.bytes()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    work.write("from-stdin.yaml", &out);
    let ours = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "from-stdin.yaml"]), None)
        .unwrap_or_else(|e| panic!("{e}"));

    work.copy_fixture(&fx.name);
    let enc = sops_encrypt(&work, &sops, &fx).unwrap_or_else(|e| panic!("{e}"));
    let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", &enc]), None)
        .unwrap_or_else(|e| panic!("{e}"));
    same_json("gitseal (stdin)", &ours, "sops", &theirs, false).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn encrypt_takes_recipients_from_sops_age_recipients() {
    let work = Work::new();
    work.copy_fixture("nested.yaml");
    let out = run_ok(work.gitseal().env("SOPS_AGE_RECIPIENTS", DEMO_RECIPIENT).args(["encrypt", "nested.yaml"]), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(String::from_utf8_lossy(&out).contains(DEMO_RECIPIENT), "recipient missing from the sops block");
    work.write("nested.enc.yaml", out);
    let plain =
        run_ok(work.gitseal_with_key().args(["decrypt", "nested.enc.yaml"]), None).unwrap_or_else(|e| panic!("{e}"));
    same_bytes(&work.read("nested.yaml"), &plain).unwrap_or_else(|e| panic!("nested.yaml: {e}"));
}

#[test]
fn extract_prints_what_sops_prints() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let fx = fixtures::get("nested.yaml");
    work.copy_fixture(&fx.name);
    let enc = sops_encrypt(&work, &sops, &fx).unwrap_or_else(|e| panic!("{e}"));

    // Scalars: a string is printed raw without a newline, other scalars as in the output format.
    for path in [
        r#"["app"]["database"]["password"]"#,
        r#"["app"]["replicas"]"#,
        r#"["app"]["features"]["beta"]"#,
        r#"["servers"][0]["name"]"#,
    ] {
        let ours = run_ok(work.gitseal_with_key().args(["decrypt", "--extract", path, &enc]), None);
        let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "--extract", path, &enc]), None);
        let (ours, theirs) = (ours.unwrap_or_else(|e| panic!("{e}")), theirs.unwrap_or_else(|e| panic!("{e}")));
        same_bytes(&theirs, &ours).unwrap_or_else(|e| panic!("--extract {path}: {e}"));
    }

    // A subtree, compared as JSON.
    let path = r#"["app"]["database"]"#;
    let args = ["decrypt", "--output-type", "json", "--extract", path, enc.as_str()];
    let ours = run_ok(work.gitseal_with_key().args(args), None).unwrap_or_else(|e| panic!("{e}"));
    let theirs = run_ok(work.peer_with_key(&sops).args(args), None).unwrap_or_else(|e| panic!("{e}"));
    same_json("gitseal", &ours, "sops", &theirs, false).unwrap_or_else(|e| panic!("--extract {path}: {e}"));
}

/// JSON integers keep every digit of the int64 range through encryption, for every reader, as
/// in sops 3.13.2 (getsops/sops#2222): they are encrypted as `type:int`, which sops 3.11 also
/// reads exactly, so `--extract`, cross-format output and sops all see 9007199254740993 (before,
/// gitseal read them as floats, as sops 3.11 does, and the others saw 9007199254740992).
#[test]
fn json_integers_keep_every_digit_of_the_int64_range() {
    let work = Work::new();
    let plain = "{\"id\": 9007199254740993, \"max\": [9223372036854775807], \"pw\": \"x\"}\n";
    work.write("big.json", plain);
    let enc = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "big.json"]), None).unwrap();
    let text = String::from_utf8(enc).unwrap();
    assert_eq!(text.matches(",type:int]").count(), 2, "{text}");
    work.write("big.enc.json", &text);
    let ours = run_ok(work.gitseal_with_key().args(["decrypt", "big.enc.json"]), None).unwrap();
    assert_eq!(String::from_utf8_lossy(&ours), plain);
    let id = run_ok(work.gitseal_with_key().args(["decrypt", "--extract", r#"["id"]"#, "big.enc.json"]), None);
    assert_eq!(String::from_utf8_lossy(&id.unwrap()), "9007199254740993\n");
    let yaml = run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "yaml", "big.enc.json"]), None);
    let yaml = String::from_utf8(yaml.unwrap()).unwrap();
    assert!(yaml.contains("id: 9007199254740993\n") && yaml.contains("- 9223372036854775807\n"), "{yaml}");
    let Some(sops) = find_peer("sops") else { return };
    let theirs =
        run_ok(work.peer_with_key(&sops).args(["decrypt", "big.enc.json"]), None).unwrap_or_else(|e| panic!("{e}"));
    let theirs = String::from_utf8(theirs).unwrap();
    assert!(theirs.contains("9007199254740993") && theirs.contains("9223372036854775807"), "sops: {theirs}");
}

/// An integer beyond 2^53 left in the clear is where sops versions disagree: sops 3.11 reads it
/// as a float and its MAC covers 9007199254740992, sops 3.13.2 covers 9007199254740993. gitseal
/// writes the MAC of 3.13.2 (the target) and accepts both, so the files sops 3.11 wrote open.
#[test]
fn json_integers_beyond_2_53_in_the_clear_open_from_either_sops() {
    let work = Work::new();
    let plain = "{\"id_unencrypted\": 9007199254740993, \"pw\": \"x\"}\n";
    work.write("big.json", plain);
    let enc = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "big.json"]), None).unwrap();
    work.write("big.enc.json", enc);
    let ours =
        run_ok(work.gitseal_with_key().args(["decrypt", "big.enc.json"]), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&ours), plain);
    let Some(sops) = find_peer("sops") else { return };
    run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", "sops.json", "big.json"]), None)
        .unwrap();
    run_ok(work.gitseal_with_key().args(["decrypt", "sops.json"]), None).unwrap_or_else(|e| panic!("{e}"));
}
