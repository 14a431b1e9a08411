//! The Sealed Secrets hybrid scheme, byte for byte (`reference/sealed-secrets.md` §1.1):
//!
//! ```text
//! u16 BE k | RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session key), k bytes | AES-256-GCM(session
//! key, nonce = 12 zero bytes, no AAD)(plaintext) = ciphertext || 16-byte tag
//! ```
//!
//! A fresh 32-byte session key per value makes the zero nonce safe.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rsa::rand_core::TryCryptoRng;
use rsa::sha2::Sha256;
use rsa::Oaep;
use zeroize::Zeroizing;

use super::key::{PublicKey, SealingKey};
use super::SealError;

const SESSION_KEY_BYTES: usize = 32;

/// Seals `plaintext` to `key` under the OAEP `label` (see [`super::Scope::label`]).
pub fn seal(key: &PublicKey, label: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    seal_with_rng(&mut crypto_common::getrandom::SysRng, key, label, plaintext)
}

/// [`seal`] with a given generator: the session key is read first, then the OAEP seed (the
/// order of Go's `HybridEncrypt`, which the known-answer test relies on).
pub(crate) fn seal_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut session = Zeroizing::new([0u8; SESSION_KEY_BYTES]);
    rsa::rand_core::TryRng::try_fill_bytes(rng, session.as_mut())
        .map_err(|_| SealError::Seal("the random generator failed".into()))?;
    let rsa_part = oaep_encrypt_with_rng(rng, key, label, session.as_ref())?;
    let k = u16::try_from(rsa_part.len()).map_err(|_| SealError::Seal("RSA key too large".into()))?;
    let aead = Aes256Gcm::new_from_slice(session.as_ref()).map_err(|_| SealError::Seal("bad session key".into()))?;
    let aes_part = aead
        .encrypt(Nonce::from_slice(&[0u8; 12]), plaintext)
        .map_err(|_| SealError::Seal("AES-GCM encryption failed".into()))?;
    let mut out = Vec::with_capacity(2 + rsa_part.len() + aes_part.len());
    out.extend_from_slice(&k.to_be_bytes());
    out.extend_from_slice(&rsa_part);
    out.extend_from_slice(&aes_part);
    Ok(out)
}

/// Opens a sealed value with the first of `keys` that can (the controller tries every key; there
/// is no key id in the format). The error says "no key could decrypt", with a hint when the
/// RSA block does not even have the size of any key.
pub fn unseal(keys: &[SealingKey], label: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    unseal_reporting(keys, label, blob).map(|(_, plain)| plain)
}

/// [`unseal`], also saying which of `keys` (its index) opened the value: the unsealer records
/// it so that operators can see which SealedSecrets still need an old key.
pub fn unseal_reporting(
    keys: &[SealingKey],
    label: &[u8],
    blob: &[u8],
) -> Result<(usize, Zeroizing<Vec<u8>>), SealError> {
    let (rsa_part, aes_part) = split(blob)?;
    for (i, key) in keys.iter().enumerate().filter(|(_, k)| k.public_key().size() == rsa_part.len()) {
        if let Some(plain) = open_with(key, label, rsa_part, aes_part) {
            return Ok((i, plain));
        }
    }
    let sizes_match = keys.iter().any(|k| k.public_key().size() == rsa_part.len());
    Err(SealError::NoKey { rsa_bits: (!sizes_match).then_some(rsa_part.len() * 8) })
}

/// The RSA block and the AES part of a sealed value (Go `singleDecrypt`'s length checks).
pub fn split(blob: &[u8]) -> Result<(&[u8], &[u8]), SealError> {
    if blob.len() < 2 {
        return Err(SealError::TooShort);
    }
    let k = usize::from(u16::from_be_bytes([blob[0], blob[1]]));
    if blob.len() < k + 2 {
        return Err(SealError::TooShort);
    }
    Ok((&blob[2..2 + k], &blob[2 + k..]))
}

fn open_with(key: &SealingKey, label: &[u8], rsa_part: &[u8], aes_part: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let session = oaep_decrypt(key, label, rsa_part).ok()?;
    let aead = Aes256Gcm::new_from_slice(&session).ok()?;
    aead.decrypt(Nonce::from_slice(&[0u8; 12]), aes_part).ok().map(Zeroizing::new)
}

/// RSA-OAEP (SHA-256 for the label hash and MGF1) of `bytes` to `key` under `label`: the
/// primitive of the hybrid scheme, also used to wrap a SOPS data key to a sealing key.
pub fn oaep_encrypt(key: &PublicKey, label: &[u8], bytes: &[u8]) -> Result<Vec<u8>, SealError> {
    oaep_encrypt_with_rng(&mut crypto_common::getrandom::SysRng, key, label, bytes)
}

fn oaep_encrypt_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    label: &[u8],
    bytes: &[u8],
) -> Result<Vec<u8>, SealError> {
    key.rsa()
        .encrypt(rng, Oaep::<Sha256>::new_with_label(label), bytes)
        .map_err(|e| SealError::Seal(format!("RSA-OAEP encryption failed: {e}")))
}

/// Inverse of [`oaep_encrypt`], with a constant-time, blinded private-key operation. Any
/// failure (wrong key, wrong label, tampered block) is the same opaque error.
pub fn oaep_decrypt(key: &SealingKey, label: &[u8], bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    #[cfg(feature = "aws-lc")]
    if let Some(fast) = key.fast() {
        let mut out = Zeroizing::new(vec![0u8; fast.min_output_size()]);
        let algorithm = &aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256;
        let n = fast
            .decrypt(algorithm, bytes, &mut out, Some(label))
            .map_err(|_| SealError::NoKey { rsa_bits: None })?
            .len();
        out.truncate(n);
        return Ok(out);
    }
    key.rsa()
        .decrypt(Oaep::<Sha256>::new_with_label(label), bytes)
        .map(Zeroizing::new)
        .map_err(|_| SealError::NoKey { rsa_bits: None })
}

/// A generator for tests that hands out a fixed byte string, then fails.
#[cfg(test)]
pub(crate) struct FixedRng(pub Vec<u8>);

#[cfg(test)]
impl rsa::rand_core::TryRng for FixedRng {
    type Error = std::fmt::Error;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if dst.len() > self.0.len() {
            return Err(std::fmt::Error);
        }
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

#[cfg(test)]
impl TryCryptoRng for FixedRng {}
