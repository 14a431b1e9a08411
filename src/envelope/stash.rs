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
    /// Booleans and numbers by AAD: `(type, payload, ENC string)`, for [`Stash::same_value`].
    scalars: HashMap<String, Vec<(ValueType, String, String)>>,
    /// The file's format does not tell integers from floats (JSON).
    untyped_numbers: bool,
}

impl Stash {
    /// An empty stash.
    pub fn new() -> Stash {
        Stash::default()
    }

    /// For a format whose numbers carry no int/float type (JSON): a float-typed value written
    /// back as an integer of the same spelling is the same value.
    pub fn untyped_numbers(mut self) -> Stash {
        self.untyped_numbers = true;
        self
    }

    /// Remembers the IV of `encrypted` (an `ENC[...]` string that decrypted to `plaintext`).
    /// Values with the short IV of old sops files are not remembered (they get a new one).
    pub fn record(&mut self, aad: &str, plaintext: &[u8], ty: ValueType, encrypted: &str) {
        if let Some(iv) = iv_of(encrypted) {
            self.ivs.insert(entry_key(aad, plaintext, ty), iv);
        }
        if matches!(ty, ValueType::Bool | ValueType::Int | ValueType::Float) {
            if let Ok(payload) = std::str::from_utf8(plaintext) {
                let entry = (ty, payload.to_string(), encrypted.to_string());
                self.scalars.entry(aad.to_string()).or_default().push(entry);
            }
        }
    }

    /// The ENC string decrypted at `aad` that holds the same boolean or number as `payload`
    /// of type `ty` in another spelling, to be written again unchanged. Other tools spell some
    /// values differently from how gitseal writes them back after decryption: sops encrypts a
    /// boolean as `true` (gitseal once wrote `True`), a whole float as `2` (shown as `2.0` in
    /// YAML, to stay a float), and every JSON number as a float (`1`, read back as an int; only
    /// for [`Stash::untyped_numbers`]: in YAML `2` is an int, a change). Without this,
    /// each such value would get a new ciphertext on every edit of a sops-written file.
    pub fn same_value(&self, aad: &str, payload: &[u8], ty: ValueType) -> Option<&str> {
        let payload = std::str::from_utf8(payload).ok()?;
        self.scalars.get(aad)?.iter().find_map(|(rty, rpayload, enc)| {
            let same = match (rty, ty) {
                (ValueType::Bool, ValueType::Bool) => payload.eq_ignore_ascii_case(rpayload),
                (ValueType::Float, ValueType::Float) => payload.strip_suffix(".0") == Some(rpayload.as_str()),
                // Only where the float is the integer exactly: beyond 2^53 the old ENC string
                // reads (in sops) as another number than the integer the MAC now covers.
                (ValueType::Float, ValueType::Int) => {
                    self.untyped_numbers
                        && payload == rpayload
                        && payload.parse::<i64>().is_ok_and(|i| i.unsigned_abs() <= 1 << 53)
                }
                _ => false,
            };
            same.then_some(enc.as_str())
        })
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
        for (_, entries) in self.scalars.iter_mut() {
            for (_, payload, _) in entries.iter_mut() {
                payload.zeroize();
            }
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

    #[test]
    fn the_same_boolean_or_number_in_another_spelling_keeps_its_ciphertext() {
        let key = DataKey::generate();
        let c = Cipher::new(&key);
        let mut stash = Stash::new();
        let t = c.encrypt(b"true", "on:", ValueType::Bool);
        let two = c.encrypt(b"2", "whole:", ValueType::Float);
        let one = c.encrypt(b"1", "n:", ValueType::Float);
        stash.record("on:", b"true", ValueType::Bool, &t);
        stash.record("whole:", b"2", ValueType::Float, &two);
        stash.record("n:", b"1", ValueType::Float, &one);
        assert_eq!(stash.same_value("on:", b"True", ValueType::Bool), Some(t.as_str()));
        assert_eq!(stash.same_value("whole:", b"2.0", ValueType::Float), Some(two.as_str()));
        // Another value, another path or another type: no reuse.
        assert_eq!(stash.same_value("on:", b"false", ValueType::Bool), None);
        assert_eq!(stash.same_value("other:", b"true", ValueType::Bool), None);
        assert_eq!(stash.same_value("whole:", b"2.5", ValueType::Float), None);
        assert_eq!(stash.same_value("whole:", b"2", ValueType::Int), None);
        assert_eq!(stash.same_value("n:", b"1", ValueType::Str), None);
        assert_eq!(stash.same_value("n:", b"1.0", ValueType::Str), None);
        // A float written back as an int is a change, except where numbers have no type (JSON).
        assert_eq!(stash.same_value("n:", b"1", ValueType::Int), None);
        let mut json = Stash::new().untyped_numbers();
        json.record("n:", b"1", ValueType::Float, &one);
        assert_eq!(json.same_value("n:", b"1", ValueType::Int), Some(one.as_str()));
        // Beyond 2^53 the float of an old ENC string is another number than the integer.
        let big = c.encrypt(b"9007199254740993", "big:", ValueType::Float);
        json.record("big:", b"9007199254740993", ValueType::Float, &big);
        assert_eq!(json.same_value("big:", b"9007199254740993", ValueType::Int), None);
    }
}
