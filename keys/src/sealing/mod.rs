//! RSA sealing keys: the Bitnami Sealed Secrets hybrid scheme (`reference/sealed-secrets.md` §1).
//!
//! - [`SealingKey`], [`PublicKey`]: RSA key pairs (4096 bits and e = 65537 by default), read
//!   from PKCS#1 or PKCS#8 PEM; private-key operations are constant time and blinded (`rsa`
//!   0.10).
//! - [`SealingCert`]: a controller-style self-signed certificate, and lenient parsing of any
//!   RSA certificate (KeyUsage EncipherOnly is accepted).
//! - [`seal`], [`unseal`]: one sealed value, byte for byte as Go's `HybridEncrypt`.
//! - [`oaep_encrypt`], [`oaep_decrypt`]: the bare RSA-OAEP-SHA256 primitive with a label.
//! - [`Scope`]: the three OAEP labels that bind a value to a namespace and name.
//! - [`RsaRecipient`], [`unwrap_data_key`]: a sealing key as a SOPS master key (a file's data
//!   key wrapped with RSA-OAEP-SHA256 under a scope label).

mod cert;
mod hybrid;
mod key;
mod master;
mod pem;

pub use cert::{SealingCert, DEFAULT_TTL};
pub use hybrid::{oaep_decrypt, oaep_encrypt, seal, split, unseal, unseal_reporting};
pub use key::{PublicKey, SealingKey, DEFAULT_KEY_BITS};
pub use master::{short_fp, spki_fingerprint, unwrap as unwrap_data_key, RsaRecipient, ENV_CERTS, ENV_PRIVATE_KEYS};

/// A sealing operation that failed. Messages never contain key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A private key could not be generated, read or written.
    #[error("{0}")]
    Key(String),
    /// A certificate or public key could not be read or made.
    #[error("{0}")]
    Cert(String),
    /// The certificate is past its NotAfter.
    #[error("the certificate expired at {0}")]
    Expired(String),
    /// Encryption failed (random generator, key size).
    #[error("{0}")]
    Seal(String),
    /// Shorter than its length prefix says (Go `ErrTooShort`).
    #[error("sealed data is too short")]
    TooShort,
    /// No key opened it: wrong key, wrong scope/name/namespace, or tampered data.
    #[error("no key could decrypt secret{}", .rsa_bits.map(|b| format!(" (it was sealed to a {b}-bit key; no loaded key has that size)")).unwrap_or_default())]
    NoKey {
        /// Set when no loaded key even has the size of the RSA block.
        rsa_bits: Option<usize>,
    },
}

/// How a sealed value is bound to where it may be unsealed (§1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Bound to namespace and name (the default).
    Strict,
    /// Bound to the namespace; the Secret may be renamed.
    NamespaceWide,
    /// Not bound: any namespace, any name.
    ClusterWide,
}

impl Scope {
    /// The OAEP label: `namespace/name`, `namespace`, or empty.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// Parses kubeseal's `--scope` names.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "strict" => Some(Scope::Strict),
            "namespace-wide" => Some(Scope::NamespaceWide),
            "cluster-wide" => Some(Scope::ClusterWide),
            _ => None,
        }
    }

    /// The `--scope` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

#[cfg(test)]
mod tests;
