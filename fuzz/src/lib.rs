//! The bodies of gitseal's fuzz targets, one plain function per input surface, so that the same
//! code runs under libFuzzer (`fuzz_targets/`, nightly) and on stable (`tests/replay.rs`, over
//! the kept corpus and the regressions).
//!
//! Every function takes arbitrary bytes. Invariants: no panic on any input, and where a
//! function states a property (a lossless write, an encrypt-decrypt round trip, a parse of what
//! was written), a failing property panics, which libFuzzer reports as a crash.
//!
//! Keys are fixed and public test keys of the repository (`keys/testdata/`), never real ones. No
//! input reaches the network or a subprocess: the library is built without KMS, Vault and the
//! command line, PGP entries are dropped before a data key is looked for, age plugin identities
//! are never used, and a passphrase-protected identity file is only read when there is no
//! terminal to prompt on (the fuzzers run under `setsid`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod codec;
mod config;
mod envelope;
mod keys;
mod sealed;

pub use codec::{dotenv, ini, json, toml, yaml};
pub use config::config;
pub use envelope::{enc_value, metadata, ENC_VALUE_KEY};
pub use keys::{age_identity, pem};
pub use sealed::{sealed_manifest, sealed_template};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz_targets/` binary and its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("yaml", yaml),
    ("json", json),
    ("toml", toml),
    ("ini", ini),
    ("dotenv", dotenv),
    ("enc_value", enc_value),
    ("metadata", metadata),
    ("config", config),
    ("sealed_manifest", sealed_manifest),
    ("sealed_template", sealed_template),
    ("pem", pem),
    ("age_identity", age_identity),
];

/// The repository's public, test-only demo age identity (`keys/testdata/demo-age-key.txt`).
pub const DEMO_IDENTITY: &str = include_str!("../../keys/testdata/demo-age-key.txt");

/// The public key of [`DEMO_IDENTITY`].
pub const DEMO_RECIPIENT: &str = "age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d";

/// Encryption to [`DEMO_RECIPIENT`] with the default selection rule, as the targets and the seed
/// writer encrypt.
pub fn demo_encrypt_options() -> gitseal::envelope::EncryptOptions {
    let recipient = gitseal::keys::age::Recipient::parse(DEMO_RECIPIENT).expect("the demo recipient parses");
    gitseal::envelope::EncryptOptions {
        rule: None,
        mac_only_encrypted: false,
        key_groups: vec![vec![gitseal::keys::MasterKey::Age(recipient)]],
        shamir_threshold: None,
        indent: None,
    }
}

/// The test-only RSA-2048 sealing key of `keys/testdata/sealing/` and its certificate.
pub const SEALING_KEY: &str = include_str!("../../keys/testdata/sealing/test-key.pem");
/// The certificate of [`SEALING_KEY`].
pub const SEALING_CERT: &str = include_str!("../../keys/testdata/sealing/test-cert.pem");

/// Panics unless `actual` is `expected`, naming the first differing byte and the text around
/// it (both sides escaped), so that a crash report says where a round trip went wrong.
pub(crate) fn same_bytes(what: &str, expected: &[u8], actual: &[u8]) {
    if expected == actual {
        return;
    }
    let at = expected.iter().zip(actual).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
    let around = |s: &[u8]| {
        let from = at.saturating_sub(40);
        let to = (at + 40).min(s.len());
        format!("{:?}", String::from_utf8_lossy(&s[from.min(to)..to]))
    };
    panic!(
        "{what}: differs at byte {at} (lengths {} and {}): expected ...{}..., got ...{}...",
        expected.len(),
        actual.len(),
        around(expected),
        around(actual)
    );
}
