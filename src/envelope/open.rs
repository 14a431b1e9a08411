//! Decryption of a whole file in two phases: [`open`] reads the file and its metadata, the
//! caller obtains the data key, [`Opened::decrypt`] decrypts and writes the plaintext.

use crate::cipher::{self, ValueType};
use crate::envelope::layout::{self, Layout};
use crate::envelope::walk::{Direction, Walk};
use crate::error::Error;
use crate::keyring::{Binding, Keyring};
use crate::metadata::Metadata;
use gitseal_formats::{self as formats, Document, Format, Leaf, Node, Scalar, Value, WriteOptions};
use gitseal_keys::DataKey;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use super::{binary_data, binding_of, hex_upper, metadata_key, parse_as, strip_metadata, text, walk_error};

/// An encrypted value's type and ciphertext.
pub(crate) type Sealed = (ValueType, String);

/// A parsed encrypted file, waiting for its data key.
pub struct Opened<'a> {
    pub(crate) doc: Document,
    /// The input's text, borrowed: the emitter edits it into the plaintext.
    pub(crate) src: &'a str,
    pub(crate) input_format: Format,
    pub(crate) file: String,
    /// The file's metadata (which master keys wrap the data key).
    pub metadata: Metadata,
    /// The encrypted layout memory, when the file has one.
    pub(crate) layout: Option<String>,
}

/// What decryption produced.
pub struct Decrypted {
    /// The plaintext file.
    pub output: Vec<u8>,
    /// Non-fatal findings to show the user.
    pub warnings: Vec<String>,
}

/// How to write decrypted output.
#[derive(Default)]
pub struct DecryptOptions<'a> {
    /// Output format.
    pub output_format: Option<Format>,
    /// Skip MAC verification.
    pub ignore_mac: bool,
    /// Indentation for output written anew.
    pub indent: Option<usize>,
    /// Output only this part of the first document.
    pub extract: Option<&'a [crate::treepath::Step]>,
}

/// Decrypts a whole encrypted file in one call, as sops's `decrypt.Data` does: reads it and its
/// metadata ([`open`]), gets the data key from `keys` (which loads identities on first need),
/// and decrypts ([`Opened::decrypt`]). `file` names the input in errors.
///
/// ```
/// use gitseal::envelope::{self, DecryptOptions, EncryptOptions};
/// use gitseal::formats::Format;
/// use gitseal::keyring::Keyring;
/// use gitseal::keys::age::{Identities, Recipient};
/// use gitseal::keys::MasterKey;
///
/// // The repository's public, test-only demo key.
/// let identity = "AGE-SECRET-KEY-1Q24E4E29L976ERVANS8NFG9JCP0N9MWQRE7T038HKRSC7ACXXYRSV5TGYL";
/// let recipient = Recipient::parse("age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d")?;
/// let opts = EncryptOptions {
///     rule: None,
///     mac_only_encrypted: false,
///     key_groups: vec![vec![MasterKey::Age(recipient)]],
///     shamir_threshold: None,
///     indent: None,
/// };
/// let plain = "db:\n  password: hunter2 # rotate monthly\n";
/// let sealed = envelope::encrypt(plain.as_bytes(), Format::Yaml, Format::Yaml, &opts, "db.yaml")?;
/// assert!(!String::from_utf8_lossy(&sealed).contains("hunter2"));
///
/// let mut keys = Keyring::with_age(Identities::from_text(identity, "example")?);
/// let opened = envelope::decrypt(&sealed, Format::Yaml, "db.yaml", &mut keys, &DecryptOptions::default())?;
/// assert_eq!(opened.output, plain.as_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decrypt(
    input: &[u8],
    format: Format,
    file: &str,
    keys: &mut Keyring,
    opts: &DecryptOptions<'_>,
) -> Result<Decrypted, Error> {
    // The walk decrypts every value, reading the tokens that the parse leaves in the input.
    let opened = open_as(input, format, file, true)?;
    let key = keys.data_key_for(&opened.metadata, &opened.binding(), file)?;
    opened.decrypt(&key, opts)
}

/// The key paths of the values that an encrypted file's own selection rule (as its metadata
/// records it) encrypts but that are in the clear: what was added or changed by hand after
/// encryption, and would be committed as plaintext. Needs no key; empty when all is encrypted.
pub fn plaintext_values(input: &[u8], format: Format, file: &str) -> Result<Vec<String>, Error> {
    let mut opened = open(input, format, file)?;
    if format == Format::Binary {
        let data = opened.doc.roots.first().and_then(|r| r.node.get("data")).map(|e| &e.value);
        let clear = !matches!(data, Some(Node::Leaf(Leaf { value: Scalar::Str(s), .. })) if s.is_empty() || cipher::is_encrypted(s));
        return Ok(if clear { vec!["[\"data\"]".to_string()] } else { Vec::new() });
    }
    // No value is decrypted: any key does.
    let key = DataKey::generate();
    let rule = opened.metadata.rule.clone().unwrap_or_default();
    let mut walk =
        Walk::new(&key, rule, opened.metadata.mac_only_encrypted, Direction::Decrypt, metadata_key(opened.doc.format))
            .checking();
    for root in &mut opened.doc.roots {
        walk.document(&mut root.node).map_err(|e| walk_error(e, file))?;
    }
    Ok(walk.plaintext_paths())
}

/// Reads an encrypted file and its metadata.
pub fn open<'a>(input: &'a [u8], input_format: Format, file: &str) -> Result<Opened<'a>, Error> {
    open_as(input, input_format, file, false)
}

/// [`open`]; with `tokens_in_source`, value tokens may be left in the input (see
/// [`formats::parse_encrypted`]), for [`Opened::decrypt`] alone, which reads them all.
fn open_as<'a>(input: &'a [u8], input_format: Format, file: &str, tokens_in_source: bool) -> Result<Opened<'a>, Error> {
    let src = text(input, file)?;
    if src.trim().is_empty() {
        return Err(Error::NotEncrypted { file: file.into() });
    }
    let parse_format = if input_format == Format::Binary { Format::Json } else { input_format };
    // A binary file's one value is read from the tree (see `Opened::binary_plaintext`).
    let tokens_in_source = tokens_in_source && input_format != Format::Binary;
    let doc = parse_as(parse_format, src, file, tokens_in_source).map_err(|e| match e {
        Error::Parse { file, message, source } if input_format == Format::Binary => Error::Parse {
            file,
            message: format!("{message} (binary files are stored as JSON; is --input-type right?)"),
            source,
        },
        other => other,
    })?;
    let value = formats::metadata(&doc).ok_or_else(|| Error::NotEncrypted { file: file.into() })?;
    let metadata = Metadata::from_value(&value).map_err(|e| Error::Metadata {
        file: file.into(),
        message: e.to_string(),
        source: Some(Box::new(e)),
    })?;
    let layout = value.get(layout::FIELD).and_then(Value::as_str).map(str::to_string);
    Ok(Opened { doc, src, input_format, file: file.into(), metadata, layout })
}

impl Opened<'_> {
    /// The Kubernetes object the file holds, for RSA keys (see [`Binding`]).
    pub fn binding(&self) -> Binding {
        binding_of(&self.doc)
    }

    /// Decrypts the document with its data key and writes the plaintext.
    pub fn decrypt(mut self, key: &DataKey, opts: &DecryptOptions<'_>) -> Result<Decrypted, Error> {
        let file = self.file.clone();
        let output_format = opts.output_format.unwrap_or(self.input_format);
        if self.input_format == Format::Binary && output_format == Format::Binary && opts.extract.is_none() {
            return self.decrypt_binary(key, opts);
        }
        let rule = self.metadata.rule.clone().unwrap_or_default();
        let mut walk =
            Walk::new(key, rule, self.metadata.mac_only_encrypted, Direction::Decrypt, metadata_key(self.doc.format))
                .source(self.src);
        if self.doc.format == Format::Json {
            walk = walk.legacy_json_mac();
        }
        for root in &mut self.doc.roots {
            walk.document(&mut root.node).map_err(|e| walk_error(e, &file))?;
        }
        let mut warnings = std::mem::take(&mut walk.warnings);
        if !opts.ignore_mac {
            let (mac, legacy) = walk.macs();
            self.verify_mac(key, &mac, legacy.as_deref())?;
        }
        let mut layout = None;
        if output_format == self.doc.format {
            if let Some(enc) = self.layout.take() {
                layout = self.restore_layout(key, &enc, &mut warnings);
            }
        }
        let emit_err = |e: formats::EmitError| Error::Emit {
            file: file.clone(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        };
        let wopts = WriteOptions { metadata: None, strip_metadata: true, indent: opts.indent };
        let output = if let Some(steps) = opts.extract {
            crate::treepath::extract(&self.doc, steps, output_format, opts.indent)
                .map_err(|m| Error::NotFound { file: file.clone(), message: m })?
        } else if output_format == self.doc.format {
            self.write_checked(layout.as_ref(), opts.indent, &mut warnings)?.into_bytes()
        } else if output_format == Format::Binary {
            binary_data(&self.doc).ok_or_else(|| Error::Emit {
                file: file.clone(),
                message: "binary output needs a top-level \"data\" string".into(),
                source: None,
            })?
        } else {
            strip_metadata(&mut self.doc);
            formats::emit(&self.doc, output_format, wopts).map_err(emit_err)?.into_bytes()
        };
        Ok(Decrypted { output, warnings })
    }

    fn decrypt_binary(&self, key: &DataKey, opts: &DecryptOptions<'_>) -> Result<Decrypted, Error> {
        let (output, _) = self.binary_plaintext(key, opts.ignore_mac)?;
        Ok(Decrypted { output, warnings: Vec::new() })
    }

    /// The plaintext of a binary file (its top-level `data` value) with, when it is not empty,
    /// its value type and ciphertext; the MAC is checked unless `ignore_mac`.
    pub(crate) fn binary_plaintext(&self, key: &DataKey, ignore_mac: bool) -> Result<(Vec<u8>, Option<Sealed>), Error> {
        let file = &self.file;
        let enc = match self.doc.roots.first().and_then(|r| r.node.get("data")).map(|e| &e.value) {
            Some(Node::Leaf(Leaf { value: Scalar::Str(s), .. })) => s.clone(),
            _ => {
                return Err(Error::Metadata {
                    file: file.clone(),
                    message: "no top-level \"data\" value: not a sops binary file (is --input-type right?)".into(),
                    source: None,
                })
            }
        };
        let (data, sealed) = if enc.is_empty() {
            (Vec::new(), None)
        } else {
            let (plain, ty) = cipher::decrypt(key, &enc, "data:").map_err(|e| Error::DecryptValue {
                file: file.clone(),
                path: "[\"data\"]".into(),
                message: e.to_string(),
                source: Some(Box::new(e)),
            })?;
            (plain.to_vec(), Some((ty, enc)))
        };
        if !ignore_mac {
            self.verify_mac(key, &hex_upper(&Sha512::digest(&data)), None)?;
        }
        Ok((data, sealed))
    }

    /// Puts back the source text of values whose layout was remembered; a layout that no longer
    /// fits the file is ignored with a warning (the values are right either way).
    pub(crate) fn restore_layout(&mut self, key: &DataKey, enc: &str, warnings: &mut Vec<String>) -> Option<Layout> {
        let layout = cipher::decrypt(key, enc, layout::AAD)
            .ok()
            .and_then(|(plain, _)| String::from_utf8(plain.to_vec()).ok())
            .and_then(|text| Layout::decode(&text));
        match layout {
            Some(l) if l.apply(&mut self.doc.roots) => Some(l),
            _ => {
                warnings.push(format!(
                    "the remembered layout ({}) does not match the file any more; values are written in canonical form",
                    layout::FIELD
                ));
                None
            }
        }
    }

    /// The decrypted document in its own format, lossless: written over the encrypted file's
    /// text, with the remembered layout. What that keeps from the clear part of the file
    /// (anchors and aliases) and the layout texts it puts back are not under the MAC, and their
    /// meaning depends on the text around them: when there are any, the output is parsed again
    /// and must read as the decrypted values. When it does not (the clear text was edited, e.g.
    /// an anchor moved so that an alias reads another value), the values are written anew in
    /// canonical form, as sops writes them, with a warning. (Every other value's text is written
    /// by the codec from the value; tags in front of encrypted values are dropped by the parser.)
    pub(crate) fn write_checked(
        &mut self,
        layout: Option<&Layout>,
        indent: Option<usize>,
        warnings: &mut Vec<String>,
    ) -> Result<String, Error> {
        let emit_err = |e: formats::EmitError| Error::Emit {
            file: self.file.clone(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        };
        let wopts = WriteOptions { metadata: None, strip_metadata: true, indent };
        let text = formats::write(&self.doc, self.src, wopts).map_err(emit_err)?;
        let text = match layout.filter(|l| !l.aliases.is_empty()) {
            Some(l) => l.restore_aliases(&text),
            None => text,
        };
        // Anchors and aliases (`&`, `*`) can only be where the file has those bytes; a parse
        // costs more than the rest of decryption, so files without them skip it.
        let references = self.doc.format == Format::Yaml && memchr::memchr2(b'&', b'*', self.src.as_bytes()).is_some();
        if layout.is_none() && !references {
            return Ok(text);
        }
        let Some(at) = self.reads_otherwise(&text) else { return Ok(text) };
        warnings.push(format!(
            "the file's clear text (anchors, aliases, tags or layout) would make the output read differently at {at} than its encrypted values; the values are written in canonical form instead (was the file changed by hand?)"
        ));
        strip_metadata(&mut self.doc);
        let wopts = WriteOptions { indent: indent.or(self.doc.indent), ..wopts };
        let canonical = formats::emit(&self.doc, self.doc.format, wopts).map_err(emit_err)?;
        match self.reads_otherwise(&canonical) {
            None => Ok(canonical),
            Some(at) => Err(Error::Emit {
                file: self.file.clone(),
                message: format!(
                    "cannot write the decrypted values faithfully (the output would read differently at {at})"
                ),
                source: None,
            }),
        }
    }

    /// Where `text`, parsed, holds other data than the decrypted document; `None` when the same.
    fn reads_otherwise(&self, text: &str) -> Option<String> {
        match formats::parse(self.doc.format, text) {
            Ok(back) => formats::first_difference(&self.doc, &back, metadata_key(self.doc.format)),
            Err(e) => Some(format!("the top level (the output would not parse: {e})")),
        }
    }

    /// Checks the file's MAC against `computed`, or `legacy` (the MAC as sops before 3.13.2
    /// computed it for this file, see [`Walk::legacy_json_mac`]) when there is one.
    pub(crate) fn verify_mac(&self, key: &DataKey, computed: &str, legacy: Option<&str>) -> Result<(), Error> {
        let mac_err = |m: &str| Error::Mac { file: self.file.clone(), message: m.to_string(), source: None };
        let Some(enc) = &self.metadata.mac else {
            return Err(mac_err("the file has no MAC"));
        };
        let lastmodified = gitseal_formats::parse_rfc3339(&self.metadata.lastmodified)
            .ok_or_else(|| mac_err("cannot verify the MAC: lastmodified is not an RFC 3339 time"))?
            .to_rfc3339();
        let (stored, _) = cipher::decrypt(key, enc, &lastmodified)
            .map_err(|_| mac_err("cannot decrypt the MAC (lastmodified or mac was changed)"))?;
        let matches = |mac: &str| bool::from(stored.as_slice().ct_eq(mac.as_bytes()));
        if matches(computed) || legacy.is_some_and(matches) {
            Ok(())
        } else {
            Err(mac_err(
                "MAC mismatch: the file was changed after it was encrypted (a value, the order of values, or an unencrypted value)",
            ))
        }
    }
}
