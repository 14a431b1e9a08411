//! Data keys and master keys for gitseal.
//!
//! A file's values are encrypted with one random 32-byte [`DataKey`]; master keys wrap it (or, with
//! several key groups, one [`shamir`] share of it each). This crate holds the data key, Shamir
//! sharing and the master-key kinds: [`age`] (X25519, SSH and plugin recipients), [`kms`] (AWS KMS,
//! with the default `kms` feature), [`vault`] (Vault transit, with `vault`), [`pgp`] (through
//! the `gpg` binary, as sops does), and RSA sealing keys ([`sealing::RsaRecipient`]); it knows
//! nothing about file formats. [`sealing`] holds the RSA sealing keys of Bitnami Sealed Secrets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod age;
mod data_key;
#[cfg(any(feature = "kms", feature = "vault"))]
mod http;
pub mod kms;
pub mod pgp;
pub mod redact;
pub mod remote;
#[cfg(all(feature = "kms", feature = "vault"))]
pub mod s3;
pub mod sealing;
pub mod shamir;
mod tty;
pub mod vault;

pub use data_key::DataKey;
pub use redact::redact_secrets;
pub use remote::Remote;

/// A master key that can wrap a data key or share: the closed set of kinds gitseal writes.
#[derive(Clone, Debug)]
pub enum MasterKey {
    /// An age recipient (X25519, ssh-ed25519, ssh-rsa or a plugin).
    Age(age::Recipient),
    /// A PGP key, by fingerprint, used through gpg.
    Pgp(pgp::PgpKey),
    /// An RSA sealing key (a gitseal extension): RSA-OAEP-SHA256 under a scope label.
    Rsa(sealing::RsaRecipient),
    /// An AWS KMS key (through aws-sdk-kms with the `kms` feature).
    Kms(kms::KmsKey),
    /// A HashiCorp Vault (or OpenBao) transit key (with the `vault` feature).
    Vault(vault::VaultKey),
}

impl MasterKey {
    /// The metadata name of the kind (`age`, `pgp`, `rsa`, `kms`).
    pub fn kind(&self) -> &'static str {
        match self {
            MasterKey::Age(_) => "age",
            MasterKey::Pgp(_) => "pgp",
            MasterKey::Rsa(_) => "rsa",
            MasterKey::Kms(_) => "kms",
            MasterKey::Vault(_) => "hc_vault",
        }
    }

    /// The key as written in files (recipient, fingerprint, ARN, transit URI).
    pub fn id(&self) -> std::borrow::Cow<'_, str> {
        match self {
            MasterKey::Age(r) => r.as_str().into(),
            MasterKey::Pgp(k) => k.fingerprint().into(),
            MasterKey::Rsa(k) => k.fingerprint().into(),
            MasterKey::Kms(k) => k.arn().into(),
            MasterKey::Vault(k) => k.uri().into(),
        }
    }

    /// Encrypts `secret` (a data key or a share) with this key; the result is the `enc` text.
    /// `rsa_label` is the OAEP label for RSA keys (the caller derives it from the file, see
    /// [`sealing::Scope::label`]); other kinds ignore it. KMS and Vault keys connect through
    /// `remote`.
    pub fn wrap(&self, remote: &Remote, secret: &[u8], rsa_label: &[u8]) -> Result<String, KeyError> {
        match self {
            MasterKey::Age(r) => r.wrap(secret),
            MasterKey::Pgp(k) => k.wrap(secret),
            MasterKey::Rsa(k) => k.wrap(secret, rsa_label),
            MasterKey::Kms(k) => k.wrap(remote, secret),
            MasterKey::Vault(k) => k.wrap(remote, secret),
        }
    }
}

/// A master-key operation that failed. Messages never contain key material: the text a user
/// gave is shown through [`redact_secrets`], so a secret key pasted where a public one belongs
/// is not echoed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A recipient string that is not a valid key.
    #[error("invalid age recipient {:?}: {}", redact_secrets(.0), redact_secrets(.1))]
    InvalidRecipient(String, String),
    /// A key kind this build does not handle.
    #[error("unsupported age recipient {:?}: {}", redact_secrets(.0), redact_secrets(.1))]
    UnsupportedRecipient(String, String),
    /// A key of another kind (PGP fingerprint, KMS ARN) that is malformed.
    #[error("invalid {kind} key {:?}: {}", redact_secrets(.key), redact_secrets(.reason))]
    InvalidKey {
        /// `pgp`, `kms`, `rsa`.
        kind: &'static str,
        /// The key as given.
        key: String,
        /// Why.
        reason: String,
    },
    /// Wrapping the data key failed.
    #[error("could not encrypt the data key to {recipient}: {reason}")]
    Wrap {
        /// The recipient.
        recipient: String,
        /// Why.
        reason: String,
    },
    /// An identity source could not be read or parsed.
    #[error("could not load age identities from {source_name}: {}", redact_secrets(.reason))]
    Identity {
        /// Where the identities came from (a variable or a path).
        source_name: String,
        /// Why (never the key itself).
        reason: String,
    },
    /// No identity could unwrap the data key.
    #[error("{0}")]
    Unwrap(String),
    /// The unwrapped data key has the wrong size.
    #[error("the decrypted data key has {0} bytes, expected 32 (or 33 for a key-group share)")]
    BadKeyLength(usize),
    /// Splitting or combining Shamir shares failed.
    #[error("Shamir secret sharing: {0}")]
    Shamir(String),
}
