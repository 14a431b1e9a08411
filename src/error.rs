//! Errors of the envelope, each with the sops exit code scripts rely on.
//!
//! Messages name the file and the key path, never a value.

/// An operation on a file that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be parsed.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// The input is empty.
    #[error("{file}: file is empty, nothing to encrypt")]
    Empty {
        /// The file.
        file: String,
    },
    /// Encrypting a file that already has sops metadata.
    #[error("{file}: file is already encrypted (it has sops metadata)")]
    AlreadyEncrypted {
        /// The file.
        file: String,
    },
    /// Decrypting a file without sops metadata.
    #[error("{file}: sops metadata not found; the file is not encrypted")]
    NotEncrypted {
        /// The file.
        file: String,
    },
    /// The metadata is unusable.
    #[error("{file}: {message}")]
    Metadata {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// No master key could produce the data key.
    #[error("{file}: could not retrieve the data key: {message}")]
    DataKey {
        /// The file.
        file: String,
        /// Each key tried and why it failed.
        message: String,
    },
    /// A value failed to decrypt.
    #[error("{file}: cannot decrypt the value at {path}: {message}")]
    DecryptValue {
        /// The file.
        file: String,
        /// Key path (`a:b:`), or `the top level`.
        path: String,
        /// Why.
        message: String,
    },
    /// A value could not be encrypted (e.g. a type sops cannot store).
    #[error("{file}: cannot encrypt the value at {path}: {message}")]
    EncryptValue {
        /// The file.
        file: String,
        /// Key path.
        path: String,
        /// Why.
        message: String,
    },
    /// The MAC does not match or is missing.
    #[error("{file}: {message}")]
    Mac {
        /// The file.
        file: String,
        /// What failed.
        message: String,
    },
    /// `--extract` named a part of the tree that is not there (sops exits 1 too).
    #[error("{file}: {message}")]
    NotFound {
        /// The file.
        file: String,
        /// Which path component is missing.
        message: String,
    },
    /// The output could not be produced in the requested format.
    #[error("{file}: {message}")]
    Emit {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

impl Error {
    /// The exit code sops uses for this failure (`reference/sops-cli.md` §2).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Parse { .. } => 2,
            Error::Empty { .. } => 92,
            Error::AlreadyEncrypted { .. } => 203,
            Error::NotEncrypted { .. } | Error::Metadata { .. } | Error::NotFound { .. } => 1,
            Error::DataKey { .. } => 128,
            Error::DecryptValue { .. } => 25,
            Error::EncryptValue { .. } => 23,
            Error::Mac { .. } => 51,
            Error::Emit { .. } => 4,
        }
    }
}
