//! Opening an encrypted file for a change, as `set`, `unset`, `edit`, `rotate`, `updatekeys` and
//! `groups` do: decrypted with the keys the command line allows, its warnings printed.

use zeroize::Zeroizing;

use gitseal::reencrypt::{self, Reencryptor};

use super::Failure;

/// Opens and decrypts an encrypted file for a change (shared with `edit` and the key commands),
/// printing the warnings of the decryption.
pub(crate) fn open_for_edit(
    input: &super::io::Input,
    ignore_mac: bool,
    decryption_order: Option<&str>,
) -> Result<(Zeroizing<Vec<u8>>, Reencryptor), Failure> {
    let mut keys = super::files::keyring(decryption_order)?;
    let (plain, mut reenc) =
        reencrypt::open_for_edit(&input.bytes, input.input_format, &input.name, &mut keys, ignore_mac)?;
    for w in std::mem::take(&mut reenc.warnings) {
        super::warn(&format!("{}: {w}", input.name));
    }
    Ok((plain, reenc))
}
