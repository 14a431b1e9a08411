//! Data keys and master keys for gitseal.
//!
//! A file's values are encrypted with one random 32-byte [`DataKey`]; master keys wrap it. This
//! crate holds the data key and the master-key kinds (age for now); it knows nothing about file
//! formats. [`sealing`] holds the RSA sealing keys of Bitnami Sealed Secrets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod age;
mod data_key;
pub mod sealing;

pub use data_key::DataKey;

/// A master-key operation that failed. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A recipient string that is not a valid key.
    #[error("invalid age recipient {0:?}: {1}")]
    InvalidRecipient(String, String),
    /// A key kind this build does not handle yet.
    #[error("unsupported age recipient {0:?}: only X25519 recipients (age1...) are supported so far")]
    UnsupportedRecipient(String),
    /// Wrapping the data key failed.
    #[error("could not encrypt the data key to {recipient}: {reason}")]
    Wrap {
        /// The recipient.
        recipient: String,
        /// Why.
        reason: String,
    },
    /// An identity source could not be read or parsed.
    #[error("could not load age identities from {source_name}: {reason}")]
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
}
