//! Encryption of a whole file: parse, select, encrypt the values, MAC, metadata, and a check
//! that the output reads back before anything is written.

use crate::cipher::{self, ValueType};
use crate::envelope::layout::{self, Layout};
use crate::envelope::walk::{Direction, Walk};
use crate::error::Error;
use crate::keyring::{self, Binding};
use crate::metadata::{Metadata, SOPS_VERSION};
use crate::selection::Rule;
use gitseal_formats::{self as formats, Document, Format, Value, WriteOptions};
use gitseal_keys::{DataKey, MasterKey};
use sha2::{Digest, Sha512};

use super::{binary_document, binding_of, hex_upper, metadata_key, parse, rsa_labels, text, walk_error};

/// How to encrypt a file.
pub struct EncryptOptions {
    /// The selection rule; `None` is the `_unencrypted` default.
    pub rule: Option<Rule>,
    /// MAC only the encrypted values.
    pub mac_only_encrypted: bool,
    /// Key groups of master keys. With one group, every key wraps the data key; with several,
    /// the data key is split into one Shamir share per group (`reference/sops-format.md` §8).
    pub key_groups: Vec<Vec<MasterKey>>,
    /// How many groups are needed to decrypt (only with several groups; default: all).
    pub shamir_threshold: Option<usize>,
    /// Indentation for what is written anew (metadata, cross-format output).
    pub indent: Option<usize>,
}

/// Encrypts `input` (a file in `input_format`) and returns the encrypted file in `output_format`.
/// KMS and Vault keys connect through connections made for this call; to share them across
/// calls, use [`encrypt_with`].
pub fn encrypt(
    input: &[u8],
    input_format: Format,
    output_format: Format,
    opts: &EncryptOptions,
    file: &str,
) -> Result<Vec<u8>, Error> {
    encrypt_with(input, input_format, output_format, opts, &gitseal_keys::Remote::new(), file)
}

/// [`encrypt`], with KMS and Vault keys connecting through `remote` (for instance
/// [`crate::keyring::Keyring::remote`]).
pub fn encrypt_with(
    input: &[u8],
    input_format: Format,
    output_format: Format,
    opts: &EncryptOptions,
    remote: &gitseal_keys::Remote,
    file: &str,
) -> Result<Vec<u8>, Error> {
    if opts.key_groups.iter().all(Vec::is_empty) {
        return Err(Error::Metadata {
            file: file.into(),
            message: "no master key to encrypt with: pass --age RECIPIENT or set SOPS_AGE_RECIPIENTS".into(),
            source: None,
        });
    }
    let key = DataKey::generate();
    let mut binding = Binding::default();
    let (doc, src, mac, rule, layout) = if input_format == Format::Binary {
        rsa_labels(&opts.key_groups, &binding, file)?;
        let enc = if input.is_empty() { String::new() } else { cipher::encrypt(&key, input, "data:", ValueType::Str) };
        (binary_document(enc), "", hex_upper(&Sha512::digest(input)), None, Layout::default())
    } else {
        let src = text(input, file)?;
        if src.trim().is_empty() {
            return Err(Error::Empty { file: file.into() });
        }
        let mut doc = parse(input_format, src, file)?;
        if doc.roots.is_empty() {
            // Only document markers (`...`): no document to hold the metadata.
            return Err(Error::Empty { file: file.into() });
        }
        if formats::has_metadata(&doc) {
            return Err(Error::AlreadyEncrypted { file: file.into() });
        }
        binding = binding_of(&doc);
        let labels = rsa_labels(&opts.key_groups, &binding, file)?;
        let rule = opts.rule.clone().unwrap_or_default();
        let mut walk =
            Walk::new(&key, rule.clone(), opts.mac_only_encrypted, Direction::Encrypt, metadata_key(input_format));
        if output_format == input_format {
            walk = walk.remember_layout(input_format, doc.indent, src);
        }
        for root in &mut doc.roots {
            walk.document(&mut root.node).map_err(|e| walk_error(e, file))?;
        }
        let layout = std::mem::take(&mut walk.layout);
        // The label must still be readable from the encrypted file, or nothing could decrypt it.
        let after = Binding { is_secret: binding.is_secret, ..binding_of(&doc) };
        if labels != rsa_labels(&opts.key_groups, &after, file).unwrap_or_default() {
            return Err(Error::Metadata {
                file: file.into(),
                message: "the RSA key binds the data key to metadata.namespace and metadata.name (its scope), but the selection rule encrypts them; keep them plaintext (e.g. --encrypted-regex '^(data|stringData)$') or give --rsa-scope cluster-wide".into(),
                source: None,
            });
        }
        // The source text stays borrowed from the (zeroized) input: no plaintext copy.
        (doc, src, walk.mac(), Some(rule), layout)
    };
    let lastmodified = crate::timefmt::now_rfc3339();
    let (key_groups, shamir_threshold) =
        keyring::wrap(remote, &opts.key_groups, opts.shamir_threshold, &key, &binding, file)?;
    let meta = Metadata {
        key_groups,
        shamir_threshold,
        mac: Some(cipher::encrypt(&key, mac.as_bytes(), &lastmodified, ValueType::Str)),
        lastmodified,
        rule,
        mac_only_encrypted: opts.mac_only_encrypted,
        version: SOPS_VERSION.into(),
    };
    let mut meta_value = meta.to_value();
    if !layout.entries.is_empty() || !layout.aliases.is_empty() {
        if let Value::Map(fields) = &mut meta_value {
            let encoded = zeroize::Zeroizing::new(layout.encode());
            let enc = cipher::encrypt(&key, encoded.as_bytes(), layout::AAD, ValueType::Str);
            fields.push((layout::FIELD.into(), Value::str(enc)));
        }
    }
    let wopts = WriteOptions { metadata: Some(&meta_value), strip_metadata: false, indent: opts.indent };
    let out_format = if output_format == Format::Binary { Format::Json } else { output_format };
    let out = if out_format == doc.format && input_format != Format::Binary {
        formats::write(&doc, src, wopts)
    } else {
        formats::emit(&doc, out_format, wopts)
    };
    let out = out.map_err(|e| Error::Emit { file: file.into(), message: e.to_string(), source: Some(Box::new(e)) })?;
    if out_format == Format::Ini && input_format == Format::Ini {
        reads_back_as(&doc, &out, file)?;
    }
    if out_format == Format::Yaml && out.len() >= 1 << 20 {
        // A large file's read-back check runs beside the release of the tree (every string in
        // it is zeroized on drop), which would otherwise follow it.
        read_back(formats::check_beside(out_format, &out, move || drop(doc)), file)?;
    } else {
        readable(out_format, &out, file)?;
    }
    Ok(out.into_bytes())
}

/// Checks that an encrypted INI file reads back as the tree that was encrypted: INI's lossless
/// writing depends on the file as a whole (continuation lines are read only when some indented
/// line could not be a key, and encrypting a value can remove the only such line), so a file
/// whose keys would read otherwise, and not decrypt, is never written. INI files are small: the
/// parse costs little.
fn reads_back_as(doc: &Document, out: &str, file: &str) -> Result<(), Error> {
    let fail = |why: String| Error::Emit {
        file: file.into(),
        message: format!("the encrypted file would not read back as written ({why}); nothing was written"),
        source: None,
    };
    let back = formats::parse(doc.format, out).map_err(|e| fail(e.to_string()))?;
    match formats::first_difference(doc, &back, metadata_key(doc.format)) {
        None => Ok(()),
        Some(at) => Err(fail(format!("at {at}"))),
    }
}

/// Checks that an encrypted YAML file parses back, so that no file is written that gitseal
/// itself (and so, likely, sops) could not read: a last guard against the YAML codec, whose
/// in-place writing has the most shapes to get right, writing what its own parser rejects. (The
/// other codecs write simpler text; random testing found no such case for them, and the check
/// costs a parse.)
pub(crate) fn readable(format: Format, out: &str, file: &str) -> Result<(), Error> {
    if format != Format::Yaml {
        return Ok(());
    }
    read_back(formats::check(format, out), file)
}

/// The error for an encrypted file whose check ([`formats::check`]) found it unreadable.
fn read_back(check: Result<bool, formats::ParseError>, file: &str) -> Result<(), Error> {
    match check {
        Ok(true) => Ok(()),
        // Written in the wrong place (inside a value), the metadata would not be found.
        Ok(false) => Err(Error::Emit {
            file: file.into(),
            message: "the encrypted file would not read back as encrypted (its sops metadata would not be found at the top level); nothing was written".into(),
            source: None,
        }),
        Err(e) => Err(Error::Emit {
            file: file.into(),
            message: format!("the encrypted file would not parse back ({e}); nothing was written"),
            source: Some(Box::new(e)),
        }),
    }
}
