//! The codecs (`gitseal-formats`): parse; when the text parses, writing the unchanged document
//! gives back the same bytes (lossless), writing it anew in every format does not panic, and an
//! encrypt-decrypt round trip through the envelope with the demo age key gives back the input.
//!
//! One documented exception (`formats/tests/spellings/lossy.toml`): TOML spellings that Go's
//! strconv cannot read (`0xFF`, `1_000`, `+inf`, `\u00e9`, line-ending backslashes) come back
//! in canonical form after decryption. For TOML, the decrypted text may therefore differ from
//! the input, but it must hold the same values, and be a fixed point: its own round trip
//! gives it back byte for byte.
//!
//! For YAML, the line scanner that reads block YAML must also give saphyr's events, at the
//! same offsets, on every input it reads, and a parse cut in two halves (as large files are
//! parsed) must give the whole parse's tree at every line where it cuts. Each quick pass of
//! encryption's read-back check (by lines, by the line scanner's events), when it passes a text,
//! must agree with the parse (which reads the text and finds the metadata). For YAML and JSON, the parse for
//! decryption, which leaves value tokens in the text, must give the parse's tree once they are
//! read from there.

use gitseal::envelope::{self, DecryptOptions};
use gitseal::formats::{self, Format, WriteOptions};

use crate::envelope::demo_keyring;
use crate::same_bytes;

/// YAML: see the module documentation.
pub fn yaml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = formats::yaml_scanners_agree(text) {
            panic!("the YAML line scanner and saphyr disagree: {e}");
        }
        if let Err(e) = formats::yaml_halves_agree(text) {
            panic!("a YAML parse in halves and the whole parse disagree: {e}");
        }
        if let Err(e) = formats::tokens_in_source_agree(Format::Yaml, text) {
            panic!("a YAML parse for decryption and the whole parse disagree: {e}");
        }
        // Each quick pass of the read-back check passes only what the parse reads, with the
        // metadata: the input as it is, and with a `sops` entry after it.
        let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
        for text in [text, &format!("{text}{sep}sops:\n    version: 3.13.2\n")] {
            if let Err(e) = formats::yaml_readback_agrees(text) {
                panic!("the quick read-back check and the parse disagree: {e}");
            }
        }
    }
    codec(Format::Yaml, "fuzz.yaml", data);
}

/// JSON: see the module documentation.
pub fn json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = formats::tokens_in_source_agree(Format::Json, text) {
            panic!("a JSON parse for decryption and the whole parse disagree: {e}");
        }
    }
    codec(Format::Json, "fuzz.json", data);
}

/// TOML: see the module documentation.
pub fn toml(data: &[u8]) {
    codec(Format::Toml, "fuzz.toml", data);
}

/// INI: see the module documentation.
pub fn ini(data: &[u8]) {
    codec(Format::Ini, "fuzz.ini", data);
}

/// dotenv: see the module documentation.
pub fn dotenv(data: &[u8]) {
    codec(Format::Dotenv, "fuzz.env", data);
}

const TEXT_FORMATS: [Format; 5] = [Format::Yaml, Format::Json, Format::Toml, Format::Ini, Format::Dotenv];

fn codec(format: Format, file: &str, data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(doc) = formats::parse(format, src) else { return };
    let written = formats::write(&doc, src, WriteOptions::default())
        .unwrap_or_else(|e| panic!("write of an unchanged {} document failed: {e}", format.name()));
    same_bytes(&format!("write(parse(x)) != x for {}", format.name()), data, written.as_bytes());
    for to in TEXT_FORMATS {
        let _ = formats::emit(&doc, to, WriteOptions::default());
    }
    let _ = formats::metadata(&doc);
    let Some(back) = round_trip(format, file, data) else { return };
    if format == Format::Toml && back != data {
        same_values(format, src, &back);
        let again = round_trip(format, file, &back).expect("the canonical TOML encrypts again");
        same_bytes("decrypt(encrypt(y)) != y for the canonical TOML y", &back, &again);
        return;
    }
    same_bytes(&format!("decrypt(encrypt(x)) != x for {}", format.name()), data, &back);
}

/// Panics unless `back` parses to the same values as `src`.
fn same_values(format: Format, src: &str, back: &[u8]) {
    let back = std::str::from_utf8(back).expect("decryption writes UTF-8 text");
    let a = formats::parse(format, src).expect("parsed before");
    let b = formats::parse(format, back)
        .unwrap_or_else(|e| panic!("the decrypted {} does not parse: {e}\n{back:?}", format.name()));
    if let Some(at) = formats::first_difference(&a, &b, |k| k == "sops") {
        panic!("the decrypted {} holds other values at {at}", format.name());
    }
}

/// Encrypts `data` to the demo recipient and decrypts it again: what encrypts must decrypt.
/// `None` when encryption refuses the input.
fn round_trip(format: Format, file: &str, data: &[u8]) -> Option<Vec<u8>> {
    let opts = crate::demo_encrypt_options();
    // Refusals (empty file, already encrypted, an output that would not parse back) are errors,
    // not findings.
    let sealed = envelope::encrypt(data, format, format, &opts, file).ok()?;
    let opened = envelope::decrypt(&sealed, format, file, &mut demo_keyring(), &DecryptOptions::default())
        .unwrap_or_else(|e| {
            panic!("decrypting what gitseal encrypted failed ({}): {e}\nencrypted: {:?}", format.name(), lossy(&sealed))
        });
    Some(opened.output)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
