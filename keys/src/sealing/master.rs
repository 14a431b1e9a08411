//! RSA sealing keys as a SOPS master-key kind (a gitseal extension that sops ignores): a file's
//! data key, or one Shamir share of it, is encrypted with RSA-OAEP-SHA256 (MGF1-SHA-256) to the
//! public key of a sealing certificate, under an OAEP label that binds it to a Kubernetes object
//! exactly as Sealed Secrets scopes do (`reference/sealed-secrets.md` §1.2, [`super::Scope`]).
//!
//! A key is named by the SHA-256 of its DER SubjectPublicKeyInfo in lowercase hex, so that the
//! right private key is tried first and the failure report can say which key is missing. The
//! label is chosen by the caller: this crate knows nothing about the file it protects.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use super::{oaep_decrypt, oaep_encrypt, PublicKey, Scope, SealingKey};
use crate::KeyError;

/// Environment variable with comma-separated sealing certificate files for `encrypt`.
pub const ENV_CERTS: &str = "GITSEAL_RSA_CERTS";
/// Environment variable with colon-separated private-key files for `decrypt`.
pub const ENV_PRIVATE_KEYS: &str = "GITSEAL_RSA_PRIVATE_KEYS";

/// The public half of a sealing key pair, as a master key.
#[derive(Clone)]
pub struct RsaRecipient {
    public: PublicKey,
    fp: String,
    source: String,
    scope: Option<Scope>,
}

impl RsaRecipient {
    /// A recipient for `public`; `source` (the certificate file) is only used in messages.
    pub fn new(public: PublicKey, source: impl Into<String>) -> Result<RsaRecipient, KeyError> {
        let source = source.into();
        let fp = spki_fingerprint(&public).map_err(|reason| KeyError::InvalidKey {
            kind: "rsa",
            key: source.clone(),
            reason,
        })?;
        Ok(RsaRecipient { public, fp, source, scope: None })
    }

    /// The same key with a scope: what its label binds the data key to. Without one, the caller
    /// picks (gitseal: strict for a Kubernetes Secret manifest, else cluster-wide).
    pub fn with_scope(mut self, scope: Option<Scope>) -> RsaRecipient {
        self.scope = scope;
        self
    }

    /// The scope given with [`RsaRecipient::with_scope`].
    pub fn scope(&self) -> Option<Scope> {
        self.scope
    }

    /// The key's name in files: SHA-256 of its SubjectPublicKeyInfo, lowercase hex.
    pub fn fingerprint(&self) -> &str {
        &self.fp
    }

    /// Where the key came from (a certificate file).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Encrypts `secret` under the OAEP `label`; the result is the `enc` text (standard base64
    /// with padding, as sops stores KMS ciphertexts).
    pub fn wrap(&self, secret: &[u8], label: &[u8]) -> Result<String, KeyError> {
        let block = oaep_encrypt(&self.public, label, secret).map_err(|e| KeyError::Wrap {
            recipient: format!("RSA key {} ({})", short_fp(&self.fp), self.source),
            reason: e.to_string(),
        })?;
        Ok(STANDARD.encode(block))
    }
}

impl std::fmt::Debug for RsaRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaRecipient").field("fp", &self.fp).field("source", &self.source).finish()
    }
}

/// SHA-256 of the key's DER SubjectPublicKeyInfo, lowercase hex (as
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum` prints it).
pub fn spki_fingerprint(public: &PublicKey) -> Result<String, String> {
    use rsa::sha2::{Digest, Sha256};
    let der = public.to_spki_der().map_err(|e| e.to_string())?;
    Ok(Sha256::digest(&der).iter().map(|b| format!("{b:02x}")).collect())
}

/// The first 16 hex digits of a fingerprint, for messages.
pub fn short_fp(fp: &str) -> &str {
    fp.get(..16).unwrap_or(fp)
}

/// Decrypts an `enc` text with the private key whose fingerprint is `fp` (every key when `fp` is
/// empty) under the OAEP `label`. The error says whether no loaded key has that fingerprint or
/// the key is there but the block does not open (wrong label, or tampered), never anything
/// secret.
pub fn unwrap(keys: &[SealingKey], fp: &str, label: &[u8], enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let compact: String = enc.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let block = STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| KeyError::Unwrap("the enc field is not valid base64".into()))?;
    let candidates: Vec<&SealingKey> = if fp.is_empty() {
        keys.iter().collect()
    } else {
        keys.iter().filter(|k| spki_fingerprint(k.public_key()).is_ok_and(|f| f.eq_ignore_ascii_case(fp))).collect()
    };
    if candidates.is_empty() {
        return Err(KeyError::Unwrap(format!(
            "none of the {} loaded RSA private key{} has this fingerprint",
            keys.len(),
            if keys.len() == 1 { "" } else { "s" }
        )));
    }
    for key in &candidates {
        if key.public_key().size() != block.len() {
            continue;
        }
        if let Ok(secret) = oaep_decrypt(key, label, &block) {
            return Ok(secret);
        }
    }
    Err(KeyError::Unwrap(format!(
        "RSA-OAEP decryption failed: the label does not match (the object was moved, renamed or the scope changed) or the data was tampered with ({} bytes for a {}-bit key)",
        block.len(),
        candidates[0].public_key().size() * 8
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealing::Scope;

    fn key() -> SealingKey {
        let pem = include_str!("../../testdata/sealing/test-key.pem");
        SealingKey::from_pem(pem).unwrap().remove(0)
    }

    #[test]
    fn wraps_and_unwraps_under_the_label_only() {
        let k = key();
        let r = RsaRecipient::new(k.public_key().clone(), "cert.pem").unwrap();
        assert_eq!(r.fingerprint().len(), 64);
        let label = Scope::Strict.label("prod", "db");
        let secret = [7u8; 33];
        let enc = r.wrap(&secret, &label).unwrap();
        let keys = [k];
        assert_eq!(unwrap(&keys, r.fingerprint(), &label, &enc).unwrap().as_slice(), &secret);
        // Line breaks in the base64 are accepted; the fingerprint may be upper case or absent.
        let broken = format!("{}\n{}", &enc[..10], &enc[10..]);
        assert!(unwrap(&keys, &r.fingerprint().to_uppercase(), &label, &broken).is_ok());
        assert!(unwrap(&keys, "", &label, &enc).is_ok());

        let moved = Scope::Strict.label("staging", "db");
        assert!(unwrap(&keys, r.fingerprint(), &moved, &enc).unwrap_err().to_string().contains("label"));
        assert!(unwrap(&keys, &"0".repeat(64), &label, &enc).unwrap_err().to_string().contains("fingerprint"));
        assert!(unwrap(&keys, r.fingerprint(), &label, "!!").unwrap_err().to_string().contains("base64"));
        assert!(unwrap(&keys, r.fingerprint(), &label, "AAAA").is_err());
        assert!(!format!("{r:?}").contains("BEGIN"));
    }
}
