//! gitseal: format-aware encryption of configuration files, compatible with SOPS 3.x.
//!
//! The envelope lives here: which leaves get encrypted ([`selection`]), the value cipher
//! ([`cipher`]), the `sops` metadata ([`metadata`]), whole-file encryption and decryption with
//! the tree walk, the MAC and the layout memory inside ([`envelope`]), the edit session
//! and key changes ([`reencrypt`], [`reencrypt::rotate`]). File formats are in `gitseal-formats`, master keys
//! in `gitseal-keys`. The `gitseal` binary (feature `cli`, on by default) is glue over this
//! library; with `default-features = false` the library builds without any command-line crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod b64;
pub mod cipher;
pub mod config;
pub mod envelope;
pub mod error;
pub mod fs;
pub mod keyring;
pub mod metadata;
pub mod reencrypt;
pub mod sealed;
pub mod selection;
pub mod timefmt;
pub mod treepath;

pub use error::{Error, ErrorKind, KeyFailure, KeyFailures};
/// The document model and the lossless codecs (crate `gitseal-formats`).
pub use gitseal_formats as formats;
/// Data keys and master keys (crate `gitseal-keys`).
pub use gitseal_keys as keys;
