//! Errors of the envelope, each of a [`ErrorKind`] (the command line maps kinds to sops's exit
//! codes).
//!
//! Messages name the file and the key path, never a value. A message includes the text of its
//! cause; where the cause is a typed error (a parse error with its line and column, a key error,
//! the value cipher's error, ...), [`std::error::Error::source`] returns it too, for programs that
//! branch on it (so do not print both).

/// The typed cause of an [`Error`], as [`std::error::Error::source`] returns it.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An operation on a file that failed.
///
/// ```
/// use std::error::Error as _;
/// use gitseal::envelope::{self, DecryptOptions, EncryptOptions};
/// use gitseal::formats::{Format, ParseError};
/// use gitseal::keyring::Keyring;
/// use gitseal::keys::age::{Identities, Recipient};
/// use gitseal::keys::MasterKey;
/// use gitseal::{ErrorKind, KeyFailures};
///
/// // A parse error keeps the codec's error, with its line and column, as its source.
/// let err = envelope::open(b"a: 1\nb: [2\n", Format::Yaml, "bad.yaml").err().unwrap();
/// assert_eq!(err.kind(), ErrorKind::Parse);
/// let cause = err.source().and_then(|c| c.downcast_ref::<ParseError>()).unwrap();
/// assert!(cause.line >= 2);
///
/// // No master key opens the data key: the source lists each key tried and why it failed.
/// let recipient = Recipient::parse("age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d")?;
/// let opts = EncryptOptions {
///     rule: None,
///     mac_only_encrypted: false,
///     key_groups: vec![vec![MasterKey::Age(recipient)]],
///     shamir_threshold: None,
///     indent: None,
/// };
/// let sealed = envelope::encrypt(b"token: t0k3n\n", Format::Yaml, Format::Yaml, &opts, "app.yaml")?;
/// let (other, _) = gitseal::keys::age::generate_identity_file("2026-01-01T00:00:00Z");
/// let mut keys = Keyring::with_age(Identities::from_text(&other, "another key")?);
/// let err = envelope::decrypt(&sealed, Format::Yaml, "app.yaml", &mut keys, &DecryptOptions::default())
///     .err()
///     .unwrap();
/// assert_eq!(err.kind(), ErrorKind::DataKey);
/// let failures = err.source().and_then(|c| c.downcast_ref::<KeyFailures>()).unwrap();
/// assert_eq!(failures.tried.len(), 1);
/// assert!(failures.tried[0].key.contains("age1sv4edj3t7tzg9"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be parsed.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong, with line and column.
        message: String,
        /// The typed cause, when there is one.
        source: Option<Cause>,
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
        /// The typed cause, when there is one.
        source: Option<Cause>,
    },
    /// No master key could produce the data key.
    #[error("{file}: could not retrieve the data key: {message}")]
    DataKey {
        /// The file.
        file: String,
        /// Each key tried and why it failed.
        message: String,
        /// The typed cause, when there is one.
        source: Option<Cause>,
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
        /// The typed cause, when there is one.
        source: Option<Cause>,
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
        /// The typed cause, when there is one.
        source: Option<Cause>,
    },
    /// The MAC does not match or is missing.
    #[error("{file}: {message}")]
    Mac {
        /// The file.
        file: String,
        /// What failed.
        message: String,
        /// The typed cause, when there is one.
        source: Option<Cause>,
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
        /// The typed cause, when there is one.
        source: Option<Cause>,
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

/// The cause of an [`Error::DataKey`]: every master key tried, in order, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailures {
    /// The keys tried.
    pub tried: Vec<KeyFailure>,
}

/// One master key that did not give the data key (or its key group's share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailure {
    /// The key group (1-based) in a file with several groups (Shamir); `None` with one group.
    pub group: Option<usize>,
    /// The key, as the file names it (`age age1...`, `kms arn:...`).
    pub key: String,
    /// Why it failed (never key material).
    pub reason: String,
}

impl std::fmt::Display for KeyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.group {
            Some(g) => write!(f, "group {g}: {}: {}", self.key, self.reason),
            None => write!(f, "{}: {}", self.key, self.reason),
        }
    }
}

impl std::fmt::Display for KeyFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, k) in self.tried.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

impl std::error::Error for KeyFailures {}
