//! The envelope: the `ENC[...]` value format, and opening an encrypted file (its `sops`
//! metadata block, the data key through the demo age identity, then decryption).

use std::sync::OnceLock;

use gitseal::cipher::{self, Cipher, CipherError, ValueType};
use gitseal::envelope::{self, DecryptOptions};
use gitseal::formats::Format;
use gitseal::keyring::Keyring;
use gitseal::keys::age::Identities;
use gitseal::keys::DataKey;
use gitseal::metadata::Metadata;

use crate::same_bytes;

/// The fixed data key of the `enc_value` target (its seeds are encrypted with it).
pub const ENC_VALUE_KEY: [u8; 32] = [0x42; 32];

/// A keyring holding only the demo age identity (and no RSA keys, so none is read from the
/// environment).
pub(crate) fn demo_keyring() -> Keyring {
    let ids = Identities::from_text(crate::DEMO_IDENTITY, "demo").expect("the demo identity parses");
    Keyring::with_age(ids).with_rsa_keys(Vec::new())
}

fn enc_value_cipher() -> &'static Cipher {
    static CIPHER: OnceLock<Cipher> = OnceLock::new();
    CIPHER.get_or_init(|| Cipher::new(&DataKey::from_slice(&ENC_VALUE_KEY).expect("32 bytes")))
}

/// An `ENC[AES256_GCM,...]` value (lossy UTF-8 of the input): decrypting it with the fixed key
/// and the empty key path does not panic, and only what [`cipher::is_encrypted`] accepts gets
/// past the format check. Then the input as plaintext, under itself as key path, decrypts
/// back to itself.
pub fn enc_value(data: &[u8]) {
    let c = enc_value_cipher();
    let text = String::from_utf8_lossy(data);
    match c.decrypt(&text, "") {
        Err(CipherError::Format) => {}
        _ => assert!(cipher::is_encrypted(&text), "a value that is_encrypted rejects got past the format check"),
    }
    let sealed = c.encrypt(data, &text, ValueType::Str);
    assert!(cipher::is_encrypted(&sealed), "an encrypted value is not is_encrypted: {sealed}");
    let (plain, ty) = c.decrypt(&sealed, &text).expect("decrypts what it encrypted");
    same_bytes("decrypt(encrypt(x)) != x", data, &plain);
    assert_eq!(ty, ValueType::Str);
}

const ALL_FORMATS: [Format; 6] =
    [Format::Yaml, Format::Json, Format::Toml, Format::Ini, Format::Dotenv, Format::Binary];

/// An encrypted file, read as each format in turn: opening it (the `sops` metadata) and
/// listing its plaintext values do not panic; metadata that was read writes back
/// ([`Metadata::to_value`]) to a tree that reads again to the same tree; and where the demo
/// age identity opens the data key, decryption does not panic.
pub fn metadata(data: &[u8]) {
    for format in ALL_FORMATS {
        let _ = envelope::plaintext_values(data, format, "fuzz");
        let Ok(mut opened) = envelope::open(data, format, "fuzz") else { continue };
        let tree = opened.metadata.to_value();
        let again = Metadata::from_value(&tree)
            .unwrap_or_else(|e| panic!("metadata written by to_value does not read back ({}): {e}", format.name()));
        assert!(again.to_value() == tree, "metadata changes on a write and read ({})", format.name());
        // No subprocess (gpg) and no network (KMS, Vault): only age and RSA entries are tried.
        for group in &mut opened.metadata.key_groups {
            group.pgp.clear();
            group.kms.clear();
            group.hc_vault.clear();
        }
        let Ok(key) = demo_keyring().data_key_for(&opened.metadata, &opened.binding(), "fuzz") else { continue };
        let _ = opened.decrypt(&key, &DecryptOptions::default());
    }
}
