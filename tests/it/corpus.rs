//! The real-world corpus (formats/tests/corpus, 58 files from public repositories; SOURCES.md
//! says where each comes from): every file gitseal accepts round-trips byte for byte through
//! encrypt and decrypt, the files it refuses are refused for the documented reason, and real
//! sops decrypts gitseal's output to the data its own round trip gives.

use std::path::PathBuf;

use gitseal::envelope::{self, DecryptOptions, EncryptOptions};
use gitseal::keyring::Keyring;
use gitseal_formats::Format;
use gitseal_keys::age::{Identities, Recipient};
use gitseal_keys::MasterKey;

use crate::fixtures::without_comment_lines;
use crate::peers::{find_peer, manifest_dir, run_ok, Work, DEMO_RECIPIENT};

/// Files gitseal refuses, with a word of the error that says why.
const REFUSED: &[(&str, &str)] = &[
    // sops cannot read non-string keys (`200:`) or a top-level sequence; gitseal says so.
    ("OAI__OpenAPI-Specification__examples__v3.0__petstore.yaml", "not a string"),
    ("geerlingguy__mac-dev-playbook__main.yml", "must be a mapping"),
    // Already sops-encrypted samples.
    ("getsops__sops__example.yaml", "already encrypted"),
    ("getsops__sops__example.json", "already encrypted"),
];

fn corpus() -> Vec<PathBuf> {
    let dir = manifest_dir().join("formats/tests/corpus");
    let mut files = Vec::new();
    for sub in ["yaml", "json", "dotenv", "toml", "ini"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
        files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
    }
    files.sort();
    assert!(files.len() >= 40, "corpus missing: {} files under {}", files.len(), dir.display());
    files
}

/// The format by the corpus directory a file sits in (`setup.cfg` is INI, `.env.example` dotenv).
fn format_of(path: &std::path::Path) -> Format {
    let dir = path.parent().and_then(|p| p.file_name()).map(|d| d.to_string_lossy().into_owned());
    dir.as_deref().and_then(Format::from_name).unwrap_or_else(|| Format::from_path(&path.to_string_lossy()))
}

fn options() -> EncryptOptions {
    EncryptOptions {
        rule: None,
        mac_only_encrypted: false,
        key_groups: vec![vec![MasterKey::Age(Recipient::parse(DEMO_RECIPIENT).unwrap())]],
        shamir_threshold: None,
        indent: None,
    }
}

#[test]
fn every_accepted_file_round_trips_byte_for_byte() {
    let demo = std::fs::read_to_string(crate::peers::demo_key()).unwrap();
    let mut failures = Vec::new();
    let mut round_tripped = 0;
    for path in corpus() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let format = format_of(&path);
        let original = std::fs::read(&path).unwrap();
        let refused = REFUSED.iter().find(|(n, _)| *n == name).map(|(_, why)| *why);
        match (envelope::encrypt(&original, format, format, &options(), &name), refused) {
            (Err(e), Some(why)) if e.to_string().contains(why) => continue,
            (Err(e), _) => failures.push(format!("{name}: encrypt failed: {e}")),
            (Ok(_), Some(why)) => failures.push(format!("{name}: expected a refusal ({why})")),
            (Ok(encrypted), None) => {
                let opened = envelope::open(&encrypted, format, &name).unwrap();
                let mut keyring = Keyring::with_age(Identities::from_text(&demo, "demo").unwrap());
                let key = keyring.data_key(&opened.metadata, &name).unwrap();
                let plain = opened.decrypt(&key, &DecryptOptions::default()).unwrap();
                if plain.output != original {
                    failures.push(format!("{name}: decrypt(encrypt(f)) differs from f"));
                } else if !plain.warnings.is_empty() {
                    failures.push(format!("{name}: warnings {:?}", plain.warnings));
                } else {
                    round_tripped += 1;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of the corpus failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("corpus: {round_tripped} files round-tripped byte for byte, {} refused as documented", REFUSED.len());
    assert!(round_tripped >= 40, "only {round_tripped} files round-tripped");
}

/// For each text file sops itself can encrypt and decrypt: sops decrypts gitseal's file to the
/// same data as its own round trip of the original (the same bytes, comment lines aside), with
/// nothing left encrypted.
#[test]
fn sops_reads_gitseal_corpus_files_as_its_own() {
    let Some(sops) = find_peer("sops") else { return };
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in corpus() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let format = format_of(&path);
        if REFUSED.iter().any(|(n, _)| *n == name)
            || !matches!(format, Format::Yaml | Format::Json | Format::Dotenv | Format::Ini)
        {
            continue;
        }
        let work = Work::new();
        let ext = match format {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Ini => "ini",
            _ => "env",
        };
        let plain = format!("plain.{ext}");
        work.write(&plain, std::fs::read(&path).unwrap());
        let theirs_enc = format!("theirs.{ext}");
        let encrypt =
            run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &theirs_enc, &plain]), None);
        let theirs = encrypt.and_then(|_| run_ok(work.peer_with_key(&sops).args(["decrypt", &theirs_enc]), None));
        let Ok(theirs) = theirs else { continue }; // sops cannot round-trip this file itself
        let ours_enc = format!("ours.{ext}");
        match run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &ours_enc, &plain]), None)
            .and_then(|_| run_ok(work.peer_with_key(&sops).args(["decrypt", &ours_enc]), None))
        {
            // sops copies an anchor's comments into every alias it expands; gitseal writes an
            // expansion without them. Comment lines aside, the outputs must be identical, and
            // every comment of gitseal's file must have decrypted.
            Ok(ours) if String::from_utf8_lossy(&ours).contains("ENC[") => {
                failures.push(format!("{name}: sops left something encrypted in gitseal's file"))
            }
            Ok(ours) if format == Format::Ini && ini_data(&ours) == ini_data(&theirs) => compared += 1,
            Ok(ours) if format != Format::Ini && without_comment_lines(&ours) == without_comment_lines(&theirs) => {
                compared += 1
            }
            Ok(_) => failures.push(format!("{name}: sops decrypts gitseal's file to other bytes than its own")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("corpus: sops decrypts {compared} gitseal files exactly as its own");
    assert!(compared >= 30, "only {compared} corpus files compared");
}

/// An INI file's lines other than comments (sops moves and merges INI comments on its own).
fn ini_data(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(';') && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}
