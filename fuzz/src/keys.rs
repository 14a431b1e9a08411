//! Key files (`gitseal-keys`): certificates, public and private keys in PEM (and the DER
//! inside), kubeseal recovery-key files, and age identity files and recipients.

use std::sync::OnceLock;
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gitseal::keys::age::{Identities, Recipient};
use gitseal::keys::sealing::{PublicKey, SealingCert, SealingKey};

/// Certificate and key parsing, on the input as PEM text and on the input as the DER inside a
/// PEM block: no panic; what parses writes out (`to_pem`, `to_spki_der`, `to_pkcs1_pem`) to
/// something that parses again to the same key.
pub fn pem(data: &[u8]) {
    der(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    pem_text(text);
    let _ = gitseal::sealed::keyfile::load_keys(text);
}

fn der(data: &[u8]) {
    if let Ok(cert) = SealingCert::from_der(data) {
        check_cert(&cert);
    }
    if let Ok(public) = PublicKey::from_spki_der(data) {
        check_public(&public);
    }
    let b64 = STANDARD.encode(data);
    for label in ["RSA PRIVATE KEY", "PRIVATE KEY", "RSA PUBLIC KEY"] {
        pem_text(&format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n"));
    }
}

fn pem_text(text: &str) {
    if let Ok(cert) = SealingCert::from_pem(text) {
        check_cert(&cert);
    }
    if let Ok(public) = PublicKey::from_pem(text) {
        check_public(&public);
    }
    if let Ok(keys) = SealingKey::from_pem(text) {
        for key in keys {
            let pem = key.to_pkcs1_pem().expect("a parsed private key writes as PKCS#1");
            let again = SealingKey::from_pem(&pem).expect("a written private key parses");
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].public_key().fingerprint(), key.public_key().fingerprint());
        }
    }
}

fn check_cert(cert: &SealingCert) {
    let _ = cert.check_valid_at(SystemTime::UNIX_EPOCH);
    let _ = cert.check_valid_at(SystemTime::now());
    let again = SealingCert::from_pem(&cert.to_pem()).expect("a written certificate parses");
    assert_eq!(again.public_key().fingerprint(), cert.public_key().fingerprint());
    assert_eq!((again.not_before(), again.not_after()), (cert.not_before(), cert.not_after()));
    check_public(cert.public_key());
}

fn check_public(public: &PublicKey) {
    let der = public.to_spki_der().expect("a parsed public key writes as SPKI");
    let again = PublicKey::from_spki_der(&der).expect("a written public key parses");
    assert_eq!(again.fingerprint(), public.fingerprint());
    let _ = public.size();
}

/// A data key wrapped to the demo recipient, for identities to try.
fn wrapped_data_key() -> &'static str {
    static WRAPPED: OnceLock<String> = OnceLock::new();
    WRAPPED.get_or_init(|| {
        let r = Recipient::parse(crate::DEMO_RECIPIENT).expect("the demo recipient parses");
        r.wrap(&[7; 32]).expect("wrapping to an X25519 recipient works")
    })
}

/// Whether this process has a terminal to prompt on (then a passphrase-protected identity file
/// would ask for its passphrase, and such inputs are skipped).
fn has_terminal() -> bool {
    static TTY: OnceLock<bool> = OnceLock::new();
    *TTY.get_or_init(|| std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok())
}

/// An age identity file (`SOPS_AGE_KEY_FILE`) and a recipient list (`--age`): no panic; every
/// identity's public key is a valid recipient; the identities try to open a data key wrapped to
/// the demo recipient (except plugin identities, which would run a program), and when they do,
/// it is the data key.
pub fn age_identity(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Recipient::parse_list(text);
    let start = text.trim_start();
    if (start.starts_with("age-encryption.org") || start.starts_with("-----BEGIN AGE")) && has_terminal() {
        return;
    }
    let Ok(ids) = Identities::from_text(text, "fuzz") else { return };
    for public in ids.recipients() {
        Recipient::parse(&public).unwrap_or_else(|e| panic!("an identity's public key is not a recipient: {e}"));
    }
    if text.contains("AGE-PLUGIN-") {
        return;
    }
    if let Ok(key) = ids.unwrap(wrapped_data_key()) {
        assert_eq!(key.as_slice(), &[7; 32], "an identity opened the demo data key to other bytes");
    }
}
