//! `gitseal decrypt`.

use super::args::DecryptArgs;
use super::io::{read_input, write_output};
use super::{Failure, EXIT_TREE_PATH};

/// sops `DuplicateDecryptionKeyType`: a bad `--decryption-order`.
const EXIT_DUPLICATE_DECRYPTION_KEY_TYPE: i32 = 112;
use crate::envelope::{self, DecryptOptions};
use crate::keyring::{self, Keyring};
use crate::treepath;

pub(crate) fn run(a: DecryptArgs) -> Result<(), Failure> {
    let steps = match &a.extract {
        Some(p) => {
            Some(treepath::parse(p).map_err(|m| Failure::new(EXIT_TREE_PATH, format!("invalid --extract path: {m}")))?)
        }
        None => None,
    };
    let mut keys = Keyring::new();
    if let Some(order) = a.decryption_order.as_deref().filter(|o| !o.trim().is_empty()) {
        let order = keyring::parse_decryption_order(order).map_err(|m| {
            Failure::new(EXIT_DUPLICATE_DECRYPTION_KEY_TYPE, format!("invalid --decryption-order: {m}"))
        })?;
        keys.set_decryption_order(order);
    }
    if !a.rsa_private_key.is_empty() {
        keys.set_rsa_key_files(a.rsa_private_key.clone());
    }
    let input = read_input(&a.io, false)?;
    let opened = envelope::open(&input.bytes, input.input_format, &input.name)?;
    let key = keys.data_key_for(&opened.metadata, &opened.binding(), &input.name)?;
    let opts = DecryptOptions {
        output_format: Some(input.output_format),
        ignore_mac: a.ignore_mac,
        indent: a.io.indent,
        extract: steps.as_deref(),
    };
    let result = opened.decrypt(&key, &opts)?;
    for w in &result.warnings {
        eprintln!("gitseal: warning: {}: {w}", input.name);
    }
    let output = zeroize::Zeroizing::new(result.output);
    write_output(&a.io, &input, &output, true)
}
