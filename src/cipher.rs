//! The sops value cipher: `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]`, AES-256-GCM
//! with a 32-byte IV and the key path as additional data (sops-format §1, §3).

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use gitseal_formats::Scalar;
use gitseal_keys::DataKey;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::b64;

type Aes256Gcm32 = AesGcm<Aes256, U32>;

/// The type tag of an encrypted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// `str`
    Str,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `time`
    Time,
    /// `comment`
    Comment,
    /// `bytes` (written only by the old Python sops; read only)
    Bytes,
}

impl ValueType {
    fn name(self) -> &'static str {
        match self {
            ValueType::Str => "str",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Time => "time",
            ValueType::Comment => "comment",
            ValueType::Bytes => "bytes",
        }
    }

    fn from_name(s: &str) -> Option<ValueType> {
        Some(match s {
            "str" => ValueType::Str,
            "int" => ValueType::Int,
            "float" => ValueType::Float,
            "bool" => ValueType::Bool,
            "time" => ValueType::Time,
            "comment" => ValueType::Comment,
            "bytes" => ValueType::Bytes,
            _ => return None,
        })
    }
}

/// Why a value could not be decrypted. Never holds plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    /// Not an `ENC[...]` string.
    #[error("value is not in sops' ENC[AES256_GCM,...] format")]
    Format,
    /// Bad base64 in one of the fields.
    #[error("invalid base64 in the encrypted value")]
    Base64,
    /// Unknown `type:`.
    #[error("unknown value type {0:?}")]
    Type(String),
    /// Authentication failed: wrong key, tampered data, or the value moved to another key path.
    #[error("authentication failed (tampered value, wrong data key, or value moved to another key)")]
    Auth,
}

/// The value cipher for one data key: the AES key schedule is expanded once, and IVs come from
/// the thread's CSPRNG (ChaCha, seeded and reseeded from the OS) instead of a system call each.
#[derive(Clone)]
pub struct Cipher {
    aes: Aes256Gcm32,
    aes12: aes_gcm::Aes256Gcm,
}

impl Cipher {
    /// A cipher for `key`.
    pub fn new(key: &DataKey) -> Cipher {
        Cipher {
            aes: Aes256Gcm32::new_from_slice(key.as_bytes()).expect("32-byte key"),
            aes12: aes_gcm::Aes256Gcm::new_from_slice(key.as_bytes()).expect("32-byte key"),
        }
    }

    /// Encrypts `plaintext` with a fresh random IV.
    pub fn encrypt(&self, plaintext: &[u8], aad: &str, ty: ValueType) -> String {
        let mut iv = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut iv);
        self.encrypt_with_iv(plaintext, aad, ty, &iv)
    }

    /// Encrypts with a given IV (IV reuse keeps ciphertext stable for unchanged values).
    pub fn encrypt_with_iv(&self, plaintext: &[u8], aad: &str, ty: ValueType, iv: &[u8; 32]) -> String {
        let sealed = self
            .aes
            .encrypt(Nonce::<U32>::from_slice(iv), Payload { msg: plaintext, aad: aad.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let (data, tag) = sealed.split_at(sealed.len() - 16);
        // Built as bytes, all ASCII, and checked once.
        let mut out = Vec::with_capacity(112 + data.len().div_ceil(3) * 4);
        out.extend_from_slice(b"ENC[AES256_GCM,data:");
        b64::encode_into(data, &mut out);
        out.extend_from_slice(b",iv:");
        b64::encode_into(iv, &mut out);
        out.extend_from_slice(b",tag:");
        b64::encode_into(tag, &mut out);
        out.extend_from_slice(b",type:");
        out.extend_from_slice(ty.name().as_bytes());
        out.push(b']');
        String::from_utf8(out).unwrap_or_default()
    }

    /// Decrypts an `ENC[...]` string; returns the plaintext and its type.
    pub fn decrypt(&self, value: &str, aad: &str) -> Result<(Zeroizing<Vec<u8>>, ValueType), CipherError> {
        let mut plain = Zeroizing::new(Vec::new());
        let ty = self.decrypt_into(value, aad, &mut plain)?;
        Ok((plain, ty))
    }

    /// [`Cipher::decrypt`] into `plain`, which is emptied first and grows only by moving into a
    /// larger buffer (the old one wiped): a walk over many values decrypts them all in one.
    pub fn decrypt_into(
        &self,
        value: &str,
        aad: &str,
        plain: &mut Zeroizing<Vec<u8>>,
    ) -> Result<ValueType, CipherError> {
        let parts = parse(value)?;
        let ty = ValueType::from_name(parts.ty).ok_or_else(|| CipherError::Type(parts.ty.to_string()))?;
        // IV and tag go to the stack, the data is decrypted where it was decoded.
        let (mut iv_buf, mut tag_buf) = ([0u8; 48], [0u8; 24]);
        let iv_len = b64::decode(parts.iv, &mut iv_buf).map_err(base64_error)?;
        let tag_len = b64::decode(parts.tag, &mut tag_buf).map_err(base64_error)?;
        let (iv, tag) = (&iv_buf[..iv_len], &tag_buf[..tag_len]);
        if tag.len() != 16 {
            return Err(CipherError::Format);
        }
        // Room for the longest decoding of the field: nothing is too short for it.
        let room = parts.data.len().div_ceil(4) * 3;
        if plain.capacity() < room {
            *plain = Zeroizing::new(Vec::with_capacity(room.max(plain.capacity() * 2)));
        }
        plain.clear();
        plain.resize(room, 0);
        let len = b64::decode(parts.data, plain).map_err(|_| CipherError::Base64)?;
        plain.truncate(len);
        let (aad, tag) = (aad.as_bytes(), aes_gcm::Tag::from_slice(tag));
        let opened = match iv.len() {
            32 => self.aes.decrypt_in_place_detached(Nonce::<U32>::from_slice(iv), aad, plain, tag),
            12 => self.aes12.decrypt_in_place_detached(aes_gcm::Nonce::from_slice(iv), aad, plain, tag),
            _ => return Err(CipherError::Format),
        };
        opened.map(|()| ty).map_err(|_| CipherError::Auth)
    }
}

/// A field too long for its buffer is a format error as much as bad base64 is.
fn base64_error(e: base64::DecodeSliceError) -> CipherError {
    match e {
        base64::DecodeSliceError::OutputSliceTooSmall => CipherError::Format,
        base64::DecodeSliceError::DecodeError(_) => CipherError::Base64,
    }
}

/// Encrypts one value with a fresh random IV (see [`Cipher`] for many values).
pub fn encrypt(key: &DataKey, plaintext: &[u8], aad: &str, ty: ValueType) -> String {
    Cipher::new(key).encrypt(plaintext, aad, ty)
}

/// True when `s` looks like an encrypted value.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,data:")
}

/// Decrypts one `ENC[...]` string (see [`Cipher`] for many values).
pub fn decrypt(key: &DataKey, value: &str, aad: &str) -> Result<(Zeroizing<Vec<u8>>, ValueType), CipherError> {
    Cipher::new(key).decrypt(value, aad)
}

struct Parts<'a> {
    data: &'a str,
    iv: &'a str,
    tag: &'a str,
    ty: &'a str,
}

fn parse(s: &str) -> Result<Parts<'_>, CipherError> {
    // Fields are base64 (no commas) and a type name, in a fixed order.
    let body = s.strip_prefix("ENC[AES256_GCM,").and_then(|r| r.strip_suffix(']')).ok_or(CipherError::Format)?;
    let mut rest = body;
    let mut field = |name: &str, last: bool| -> Result<&str, CipherError> {
        let after = rest.strip_prefix(name).ok_or(CipherError::Format)?;
        let end = if last { after.len() } else { memchr::memchr(b',', after.as_bytes()).ok_or(CipherError::Format)? };
        let (value, tail) = after.split_at(end);
        rest = tail.strip_prefix(',').unwrap_or(tail);
        Ok(value)
    };
    let parts = Parts {
        data: field("data:", false)?,
        iv: field("iv:", false)?,
        tag: field("tag:", false)?,
        ty: field("type:", true)?,
    };
    if parts.ty.contains(',') {
        return Err(CipherError::Format);
    }
    Ok(parts)
}

/// The bytes sops encrypts and hashes for a value (`ToBytes`), and its type tag. Strings and
/// times are borrowed (no copy of every value); other values are written out.
pub fn plaintext(v: &Scalar) -> (Plain<'_>, ValueType) {
    let (bytes, ty) = match v {
        Scalar::Str(s) => return (Plain::Borrowed(s.as_bytes()), ValueType::Str),
        Scalar::Time(t) => return (Plain::Borrowed(t.as_bytes()), ValueType::Time),
        Scalar::Int(i) => (i.to_string().into_bytes(), ValueType::Int),
        Scalar::Float(f) => (gitseal_formats::format_float(*f).into_bytes(), ValueType::Float),
        Scalar::Bool(b) => ((if *b { "True" } else { "False" }).as_bytes().to_vec(), ValueType::Bool),
        Scalar::Null => (Vec::new(), ValueType::Str),
    };
    (Plain::Owned(Zeroizing::new(bytes)), ty)
}

/// A value's plaintext bytes (see [`plaintext`]): borrowed from the value, or written out (and
/// wiped when dropped).
pub enum Plain<'a> {
    /// The value's own text.
    Borrowed(&'a [u8]),
    /// The value written out.
    Owned(Zeroizing<Vec<u8>>),
}

impl std::ops::Deref for Plain<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Plain::Borrowed(b) => b,
            Plain::Owned(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        let hex = "63db210c3309712091b472ce1002c74c48ad9dae20f628be7d8f337c838e934d";
        let bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        DataKey::from_slice(&bytes).unwrap()
    }

    /// The worked example of reference/sops-format.md §12, produced by real sops.
    #[test]
    fn decrypts_values_written_by_sops() {
        let k = key();
        let user = "ENC[AES256_GCM,data:esqkKg4=,iv:QrWEvFecmAQ0KL98STIgf7dNULMHES3VIdyxUFOrVSg=,tag:FWEjQO05GlCkCIz2+IfdXw==,type:str]";
        let (p, t) = decrypt(&k, user, "db:user:").unwrap();
        assert_eq!((p.as_slice(), t), (&b"admin"[..], ValueType::Str));
        let enabled = "ENC[AES256_GCM,data:hI0jWw==,iv:Gv85R9bhUHmIK2nq7GWVkqybQmHgasGpAxtsTtBvpaI=,tag:hziKkxzBvopjzqtr2vcYXw==,type:bool]";
        assert_eq!(decrypt(&k, enabled, "db:enabled:").unwrap().0.as_slice(), b"True");
        let comment = "ENC[AES256_GCM,data:v5PPtfgvkQqWfbaK,iv:lsQ/V8EPlvdkmfElH80YuZYy+w14DPlbXwulooyQKHY=,tag:9tl5MVadpnvqBwb90VtSRA==,type:comment]";
        assert_eq!(decrypt(&k, comment, ":").unwrap(), (Zeroizing::new(b" db settings".to_vec()), ValueType::Comment));
        assert_eq!(decrypt(&k, user, "db:other:").unwrap_err(), CipherError::Auth);
    }

    #[test]
    fn round_trips_and_detects_tampering() {
        let k = DataKey::generate();
        let enc = encrypt(&k, b"secret", "a:b:", ValueType::Str);
        assert!(is_encrypted(&enc));
        assert_eq!(decrypt(&k, &enc, "a:b:").unwrap().0.as_slice(), b"secret");
        let flipped = enc.replacen("data:", "data:A", 1);
        assert!(decrypt(&k, &flipped, "a:b:").is_err());
        assert_eq!(decrypt(&DataKey::generate(), &enc, "a:b:").unwrap_err(), CipherError::Auth);
        assert_eq!(decrypt(&k, "plain", "a:").unwrap_err(), CipherError::Format);
        assert_eq!(decrypt(&k, "ENC[AES256_GCM,data:,iv:,tag:,type:str]", "a:").unwrap_err(), CipherError::Format);
        let same_iv = [9u8; 32];
        let c = Cipher::new(&k);
        assert_eq!(
            c.encrypt_with_iv(b"x", "p:", ValueType::Str, &same_iv),
            c.encrypt_with_iv(b"x", "p:", ValueType::Str, &same_iv)
        );
        assert_ne!(c.encrypt(b"x", "p:", ValueType::Str), c.encrypt(b"x", "p:", ValueType::Str));
    }
}
