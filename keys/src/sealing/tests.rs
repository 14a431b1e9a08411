//! Sealing tests: the known-answer vector of `reference/sealed-secrets.md` §1.6, scopes,
//! tampering, truncation, certificates and key files. Keys are TEST ONLY RSA-2048 files in
//! `keys/testdata/sealing/`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::sha2::{Digest, Sha256};

use super::hybrid::{seal_with_rng, FixedRng};
use super::*;

const KAT_SEALED: &str = "AQBGO3TYlYJDYEAdFRJWx72a4itt0QGNmrh/0v7gpeaTtBYmRSbxR7aHAHeXKvy6CEoFDs4CN5SwsvFfX0a9+Zvblk4by+tOPF1KrMBxYfEtkmSZcibuZjpb/PDXu2L4D22Q+I5HvkVPldVsLVJ1+d5aZqNm8I8jFySMCEl3L8kkZ6LYHQqZPc7sO2LEmiZGuUdlddkx+XIxP8umORvVqlTs+cWsD5jfAdqqOcA9OyElHUmTvPXFIXi8eWlpvstDrjFwaaTcuymYPZAE/1A/drT6gkOSngyqucX8ZR3w53b+rDqIfxIfZrbg36V0dsWTasy5ynTPGfFPkIWx8kKS6LlpfcnFu8df5t56zd1ZLab48F8Ylgary/q5PMMD";

fn testdata(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sealing/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn key(name: &str) -> SealingKey {
    SealingKey::from_pem(&testdata(name)).unwrap().remove(0)
}

#[test]
fn reproduces_the_known_answer_vector() {
    let kat = key("kat-key.pem");
    let mut rng = FixedRng((0u8..0x40).collect());
    let blob = seal_with_rng(&mut rng, kat.public_key(), b"myns/mysecret", b"supersecret").unwrap();
    assert_eq!(blob.len(), 285);
    assert_eq!(&blob[..2], &[0x01, 0x00]);
    assert_eq!(hex(&Sha256::digest(&blob)), "a9faf7090ccc4c194e09c78daba0500205b30e49110fed988753f6fe6d27429e");
    assert_eq!(hex(&blob[2 + 256..]), "7dc9c5bbc75fe6de7acddd592da6f8f05f189606abcbfab93cc303");
    assert_eq!(STANDARD.encode(&blob), KAT_SEALED);
    assert_eq!(kat.public_key().fingerprint(), "SHA256:BReFnkd1jD8L9Xd0dkP5J5Fs6xPQE0c4O9TZDryjK9A");
    let plain = unseal(&[kat], b"myns/mysecret", &STANDARD.decode(KAT_SEALED).unwrap()).unwrap();
    assert_eq!(plain.as_slice(), b"supersecret");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn scope_labels() {
    assert_eq!(Scope::Strict.label("myns", "mysecret"), b"myns/mysecret");
    assert_eq!(Scope::NamespaceWide.label("myns", "mysecret"), b"myns");
    assert_eq!(Scope::ClusterWide.label("myns", "mysecret"), b"");
    for s in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
        assert_eq!(Scope::parse(s.as_str()), Some(s));
    }
    assert_eq!(Scope::parse("Strict"), None);
}

#[test]
fn every_scope_round_trips_and_wrong_labels_fail() {
    let k = key("test-key.pem");
    for scope in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
        let label = scope.label("ns", "name");
        let blob = seal(k.public_key(), &label, b"value").unwrap();
        assert_eq!(blob.len(), 2 + 256 + 5 + 16);
        assert_eq!(unseal(std::slice::from_ref(&k), &label, &blob).unwrap().as_slice(), b"value");
        for other in [&b"ns/other"[..], b"other/name", b"ns", b"", b"ns/name"] {
            if other != label.as_slice() {
                let err = unseal(std::slice::from_ref(&k), other, &blob).unwrap_err();
                assert!(matches!(err, SealError::NoKey { rsa_bits: None }), "{err}");
            }
        }
    }
}

#[test]
fn empty_plaintext_is_just_a_tag() {
    let k = key("test-key.pem");
    let blob = seal(k.public_key(), b"", b"").unwrap();
    assert_eq!(blob.len(), 2 + 256 + 16);
    assert!(unseal(&[k], b"", &blob).unwrap().is_empty());
}

#[test]
fn tampering_and_wrong_keys_fail() {
    let k = key("test-key.pem");
    let other = key("other-key.pem");
    let blob = seal(k.public_key(), b"ns/name", b"value").unwrap();
    for at in [2, 100, 2 + 255, 2 + 256, blob.len() - 1] {
        let mut bad = blob.clone();
        bad[at] ^= 1;
        assert!(unseal(std::slice::from_ref(&k), b"ns/name", &bad).is_err(), "flipped byte {at}");
    }
    assert!(unseal(std::slice::from_ref(&other), b"ns/name", &blob).is_err());
    // The right key among others still opens it.
    assert_eq!(unseal(&[other, k], b"ns/name", &blob).unwrap().as_slice(), b"value");
}

#[test]
fn truncated_input_is_too_short() {
    let k = key("test-key.pem");
    let blob = seal(k.public_key(), b"", b"value").unwrap();
    for len in [0, 1, 2, 257] {
        let err = unseal(std::slice::from_ref(&k), b"", &blob[..len]).unwrap_err();
        assert!(matches!(err, SealError::TooShort), "{len}: {err}");
    }
    // Cut inside the AES part: the tag no longer verifies.
    assert!(matches!(unseal(std::slice::from_ref(&k), b"", &blob[..270]).unwrap_err(), SealError::NoKey { .. }));
    // A length prefix that matches no key says so.
    let mut odd = vec![0x02, 0x00];
    odd.extend(vec![7u8; 512 + 16]);
    let err = unseal(&[k], b"", &odd).unwrap_err().to_string();
    assert!(err.contains("4096-bit"), "{err}");
}

#[test]
fn oaep_primitive_round_trips_with_label() {
    let k = key("test-key.pem");
    let ct = oaep_encrypt(k.public_key(), b"label", &[9u8; 32]).unwrap();
    assert_eq!(ct.len(), 256);
    assert_eq!(oaep_decrypt(&k, b"label", &ct).unwrap().as_slice(), &[9u8; 32]);
    assert!(oaep_decrypt(&k, b"other", &ct).is_err());
}

#[test]
fn reads_pkcs1_and_pkcs8_keys() {
    let pkcs1 = testdata("test-key.pem");
    let pkcs8 = testdata("other-key.pem");
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    let both = SealingKey::from_pem(&format!("{pkcs1}{}{pkcs8}", testdata("test-cert.pem"))).unwrap();
    assert_eq!(both.len(), 2);
    // PKCS#1 written back reads as the same key.
    let again = SealingKey::from_pem(&both[1].to_pkcs1_pem().unwrap()).unwrap();
    assert_eq!(again[0].public_key(), both[1].public_key());
}

#[test]
fn bad_key_files_are_clear_errors() {
    let err = |t: &str| SealingKey::from_pem(t).unwrap_err().to_string();
    assert!(err("").contains("no RSA PRIVATE KEY"));
    assert!(err(&testdata("test-cert.pem")).contains("no RSA PRIVATE KEY"));
    assert!(err("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n").contains("PKCS#1"));
    assert!(
        err("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n").contains("encrypted")
    );
    let proc_type = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert!(err(proc_type).contains("encrypted"));
}

#[test]
fn debug_never_shows_key_material() {
    let k = key("test-key.pem");
    let shown = format!("{k:?} {:?}", k.public_key());
    assert!(shown.starts_with("SealingKey(\"SHA256:"), "{shown}");
    let pem = k.to_pkcs1_pem().unwrap();
    let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
    assert!(!shown.contains(&body));
}

#[test]
fn reads_the_controller_style_certificate_with_encipher_only() {
    let cert = SealingCert::from_pem(&testdata("test-cert.pem")).unwrap();
    assert_eq!(cert.public_key(), key("test-key.pem").public_key());
    cert.check_valid_at(SystemTime::now()).unwrap();
    // openssl-made, CN set, keyUsage critical encipherOnly, PKCS#8 key.
    let other = SealingCert::from_pem(&testdata("other-cert.pem")).unwrap();
    assert_eq!(other.public_key(), key("other-key.pem").public_key());
}

#[test]
fn self_signed_certificate_has_the_controller_layout() {
    let k = key("test-key.pem");
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let cert = SealingCert::self_signed(&k, "", start, DEFAULT_TTL).unwrap();
    assert_eq!(cert.not_before(), 1_700_000_000);
    assert_eq!(cert.not_after(), 1_700_000_000 + 87_600 * 3600);
    assert_eq!(cert.public_key(), k.public_key());
    let der = STANDARD.decode(cert.to_pem().lines().filter(|l| !l.starts_with("-----")).collect::<String>()).unwrap();
    let has = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
    // KeyUsage critical encipherOnly; BasicConstraints critical CA:TRUE; empty issuer/subject.
    assert!(has(&[0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04, 0x03, 0x02, 0x00, 0x01]));
    assert!(has(&[0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff]));
    assert!(has(&[0x30, 0x00, 0x30, 0x1e, 0x17, 0x0d]));
    let named = SealingCert::self_signed(&k, "gitseal", start, DEFAULT_TTL).unwrap();
    assert!(named.to_pem() != cert.to_pem());
}

#[test]
fn expired_and_non_certificates_are_refused() {
    let expired = SealingCert::from_pem(&testdata("expired-cert.pem")).unwrap();
    let err = expired.check_valid_at(SystemTime::now()).unwrap_err().to_string();
    assert!(err.contains("expired at 2021-01-01T00:00:00Z"), "{err}");
    let public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert!(SealingCert::from_pem(public).unwrap_err().to_string().contains("bare public key"));
    assert!(SealingCert::from_pem("hello").unwrap_err().to_string().contains("no CERTIFICATE"));
    let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(SealingCert::from_pem(junk).unwrap_err().to_string().contains("not a valid X.509"));
    // PublicKey::from_pem takes certificates and bare keys alike.
    let spki = super::pem::encode("PUBLIC KEY", &key("test-key.pem").public_key().to_spki_der().unwrap());
    assert_eq!(PublicKey::from_pem(&spki).unwrap(), PublicKey::from_pem(&testdata("test-cert.pem")).unwrap());
}

/// Regenerates the certificates in `keys/testdata/sealing/` (run with `--ignored`).
#[test]
#[ignore]
fn write_testdata_certificates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sealing/");
    let k = key("test-key.pem");
    let now = SystemTime::now();
    let cert = SealingCert::self_signed(&k, "", now, Duration::from_secs(100 * 365 * 86_400)).unwrap();
    std::fs::write(format!("{dir}test-cert.pem"), cert.to_pem()).unwrap();
    let start = UNIX_EPOCH + Duration::from_secs(1_577_836_800); // 2020-01-01
    let expired = SealingCert::self_signed(&k, "", start, Duration::from_secs(366 * 86_400)).unwrap();
    std::fs::write(format!("{dir}expired-cert.pem"), expired.to_pem()).unwrap();
}

#[test]
fn generates_keys() {
    let k = SealingKey::generate(1024).unwrap();
    assert_eq!(k.public_key().size(), 128);
}
