//! gitseal: format-aware encryption of configuration files, compatible with SOPS 3.x.
//!
//! The envelope lives here: which leaves get encrypted ([`selection`]), the value cipher
//! ([`cipher`]), the tree walk and MAC ([`walk`]), the `sops` metadata ([`metadata`]), and whole-file
//! encryption and decryption ([`envelope`]). File formats are in `gitseal-formats`, master keys
//! in `gitseal-keys`; the CLI in `cli` is glue over this library.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cipher;
pub mod cli;
pub mod config;
pub mod envelope;
pub mod error;
pub mod keyring;
pub mod layout;
pub mod metadata;
pub mod reencrypt;
pub mod rotate;
pub mod sealed;
pub mod selection;
pub mod stash;
pub mod timefmt;
pub mod treepath;
pub mod walk;

pub use error::Error;
