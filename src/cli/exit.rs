//! Every exit code the command line returns, in one table: sops's (`cmd/sops/codes/codes.go`,
//! `reference/sops-cli.md` §2), so that scripts written for sops see the same numbers, and the
//! mapping of library errors to them.

use gitseal::error::{Error, ErrorKind};

/// Any other failure (sops `ErrorGeneric`).
pub(crate) const GENERIC: i32 = 1;
/// The input could not be read or parsed (sops `CouldNotReadInputFile`).
pub(crate) const CANNOT_READ: i32 = 2;
/// The output could not be written (sops `CouldNotWriteOutputFile`).
pub(crate) const CANNOT_WRITE: i32 = 3;
/// The output could not be produced in its format (sops `ErrorDumpingTree`).
pub(crate) const CANNOT_EMIT: i32 = 4;
/// A bad `--encryption-context` (sops `ErrorInvalidKMSEncryptionContextFormat`).
pub(crate) const BAD_ENCRYPTION_CONTEXT: i32 = 6;
/// A bad `set` path or value (sops `ErrorInvalidSetFormat`).
pub(crate) const INVALID_SET_FORMAT: i32 = 7;
/// Flags that cannot go together (sops `ErrorConflictingParameters`).
pub(crate) const CONFLICT: i32 = 8;
/// A value could not be encrypted (sops `ErrorEncryptingTree`).
pub(crate) const ENCRYPTING_TREE: i32 = 23;
/// A value could not be decrypted (sops `ErrorDecryptingTree`).
pub(crate) const DECRYPTING_TREE: i32 = 25;
/// `--add-*`/`--rm-*` on a missing file (sops `CannotChangeKeysFromNonExistentFile`).
pub(crate) const CHANGE_KEYS_OF_MISSING_FILE: i32 = 49;
/// The MAC does not match, or cannot be read (sops `MacMismatch`).
pub(crate) const MAC_MISMATCH: i32 = 51;
/// A malformed `--extract` path (sops `InvalidTreePathFormat`).
pub(crate) const TREE_PATH: i32 = 91;
/// An empty input (sops `NeedAtLeastOneDocument`).
pub(crate) const EMPTY: i32 = 92;
/// No input file, or it does not exist (sops `NoFileSpecified`).
pub(crate) const NO_FILE: i32 = 100;
/// A key kind named twice in `--decryption-order` (sops `DuplicateDecryptionKeyType`).
pub(crate) const DUPLICATE_DECRYPTION_KEY_TYPE: i32 = 112;
/// No master key gave the data key (sops `CouldNotRetrieveKey`).
pub(crate) const NO_KEY: i32 = 128;
/// `edit` left the file as it was (sops `FileHasNotBeenModified`).
pub(crate) const NOT_MODIFIED: i32 = 200;
/// The editor could not run or failed (sops `NoEditorFound`).
pub(crate) const EDITOR: i32 = 201;
/// Encrypting a file that is encrypted already (sops `FileAlreadyEncrypted`).
pub(crate) const ALREADY_ENCRYPTED: i32 = 203;
/// Added to the number of a signal that ended gitseal or its command, as shells do.
pub(crate) const SIGNAL_BASE: i32 = 128;

/// The exit code sops uses for a library error of this kind.
pub(crate) fn of(e: &Error) -> i32 {
    match e.kind() {
        ErrorKind::Parse => CANNOT_READ,
        ErrorKind::Empty => EMPTY,
        ErrorKind::AlreadyEncrypted => ALREADY_ENCRYPTED,
        ErrorKind::NotEncrypted | ErrorKind::Metadata | ErrorKind::NotFound => GENERIC,
        ErrorKind::DataKey => NO_KEY,
        ErrorKind::DecryptValue => DECRYPTING_TREE,
        ErrorKind::EncryptValue => ENCRYPTING_TREE,
        ErrorKind::Mac => MAC_MISMATCH,
        ErrorKind::Emit => CANNOT_EMIT,
        // A kind added to the library later: sops's code for everything else.
        _ => GENERIC,
    }
}

/// The hint printed below a library error of this kind, on a line of its own; `None` where the
/// message says what to do itself (a data-key failure names, per key, what to set).
pub(crate) fn hint(e: &Error) -> Option<&'static str> {
    match e.kind() {
        ErrorKind::Mac => Some("decrypt anyway with --ignore-mac, if you trust whoever changed the file"),
        _ => None,
    }
}
