//! IV reuse for re-encryption (`reference/sops-format.md` §1, `reference/sops-cli.md` §4.1):
//! while a file is decrypted for `edit` or `set`, every value's IV is kept under its key path
//! (the AAD), plaintext and type; encrypting the same value at the same path again reuses the IV,
//! so values that did not change keep their exact ciphertext and Git diffs stay small.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use zeroize::Zeroize;

use crate::cipher::ValueType;

/// `(AAD, plaintext, type) -> IV` of the values decrypted so far. Holds plaintext: no `Debug`,
/// and the keys are zeroized when it is dropped.
#[derive(Default)]
pub struct Stash {
    ivs: HashMap<Vec<u8>, [u8; 32]>,
}

impl Stash {
    /// An empty stash.
    pub fn new() -> Stash {
        Stash::default()
    }

    /// Remembers the IV of `encrypted` (an `ENC[...]` string that decrypted to `plaintext`).
    /// Values with the short IV of old sops files are not remembered (they get a new one).
    pub fn record(&mut self, aad: &str, plaintext: &[u8], ty: ValueType, encrypted: &str) {
        if let Some(iv) = iv_of(encrypted) {
            self.ivs.insert(entry_key(aad, plaintext, ty), iv);
        }
    }

    /// The IV to reuse for `plaintext` at `aad`, when that exact value was decrypted there.
    pub fn iv(&self, aad: &str, plaintext: &[u8], ty: ValueType) -> Option<[u8; 32]> {
        let mut key = entry_key(aad, plaintext, ty);
        let found = self.ivs.get(&key).copied();
        key.zeroize();
        found
    }
}

impl Drop for Stash {
    fn drop(&mut self) {
        for (mut k, _) in self.ivs.drain() {
            k.zeroize();
        }
    }
}

/// An unambiguous byte string for the triple: the AAD's length, the AAD, the type, the value.
fn entry_key(aad: &str, plaintext: &[u8], ty: ValueType) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + aad.len() + plaintext.len());
    k.extend_from_slice(&(aad.len() as u64).to_le_bytes());
    k.extend_from_slice(aad.as_bytes());
    k.push(ty as u8);
    k.extend_from_slice(plaintext);
    k
}

/// The 32-byte IV of an `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]` string.
fn iv_of(encrypted: &str) -> Option<[u8; 32]> {
    let after = &encrypted[encrypted.find(",iv:")? + 4..];
    let b64 = &after[..after.find(',')?];
    B64.decode(b64).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::Cipher;
    use gitseal_keys::DataKey;

    #[test]
    fn reuses_the_iv_only_for_the_same_value_path_and_type() {
        let key = DataKey::generate();
        let c = Cipher::new(&key);
        let enc = c.encrypt(b"v", "a:", ValueType::Str);
        let mut stash = Stash::new();
        stash.record("a:", b"v", ValueType::Str, &enc);
        let iv = stash.iv("a:", b"v", ValueType::Str).expect("recorded");
        assert_eq!(c.encrypt_with_iv(b"v", "a:", ValueType::Str, &iv), enc);
        assert!(stash.iv("b:", b"v", ValueType::Str).is_none());
        assert!(stash.iv("a:", b"w", ValueType::Str).is_none());
        assert!(stash.iv("a:", b"v", ValueType::Int).is_none());
    }
}
