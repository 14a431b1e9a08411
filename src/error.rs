//! Errors of the envelope, each of a [`ErrorKind`] (the command line maps kinds to sops's exit
//! codes).
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

/// What kind of failure an [`Error`] is, for callers that map failures to codes of their own
/// (the command line maps them to sops's exit codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be parsed.
    Parse,
    /// The input is empty.
    Empty,
    /// Encrypting a file that has sops metadata.
    AlreadyEncrypted,
    /// Decrypting a file without sops metadata.
    NotEncrypted,
    /// The metadata is unusable.
    Metadata,
    /// No master key gave the data key.
    DataKey,
    /// A value failed to decrypt.
    DecryptValue,
    /// A value could not be encrypted.
    EncryptValue,
    /// The MAC does not match or is missing.
    Mac,
    /// A requested part of the tree is not there.
    NotFound,
    /// The output could not be produced in the requested format.
    Emit,
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse { .. } => ErrorKind::Parse,
            Error::Empty { .. } => ErrorKind::Empty,
            Error::AlreadyEncrypted { .. } => ErrorKind::AlreadyEncrypted,
            Error::NotEncrypted { .. } => ErrorKind::NotEncrypted,
            Error::Metadata { .. } => ErrorKind::Metadata,
            Error::DataKey { .. } => ErrorKind::DataKey,
            Error::DecryptValue { .. } => ErrorKind::DecryptValue,
            Error::EncryptValue { .. } => ErrorKind::EncryptValue,
            Error::Mac { .. } => ErrorKind::Mac,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Emit { .. } => ErrorKind::Emit,
        }
    }
}
