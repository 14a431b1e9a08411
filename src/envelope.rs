//! Encrypting and decrypting whole files: parse, walk, MAC, metadata, write.
//!
//! Decryption has two phases so that no format code does I/O: [`open`] reads the file and its
//! metadata, the caller obtains the data key ([`crate::keyring`]), then [`Opened::decrypt`]
//! decrypts the document with it.

use gitseal_formats::{
    self as formats, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, Span, Style, Value, WriteOptions,
};
use gitseal_keys::{DataKey, MasterKey};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::cipher::{self, ValueType};
use crate::error::Error;
use crate::keyring::{self, Binding, Keyring};
use crate::layout::{self, Layout};
use crate::metadata::{Metadata, SOPS_VERSION};
use crate::selection::Rule;
use crate::walk::{Direction, Walk, WalkError};

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
    let out = out.map_err(|e| Error::Emit { file: file.into(), message: e.to_string() })?;
    readable(out_format, &out, file)?;
    if out_format == Format::Ini && input_format == Format::Ini {
        reads_back_as(&doc, &out, file)?;
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
    match formats::parse(format, out) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Emit {
            file: file.into(),
            message: format!("the encrypted file would not parse back ({e}); nothing was written"),
        }),
    }
}

/// A parsed encrypted file, waiting for its data key.
pub struct Opened {
    pub(crate) doc: Document,
    pub(crate) src: String,
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
    let opened = open(input, format, file)?;
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
pub fn open(input: &[u8], input_format: Format, file: &str) -> Result<Opened, Error> {
    let src = text(input, file)?;
    if src.trim().is_empty() {
        return Err(Error::NotEncrypted { file: file.into() });
    }
    let parse_format = if input_format == Format::Binary { Format::Json } else { input_format };
    let doc = parse(parse_format, src, file).map_err(|e| match e {
        Error::Parse { file, message } if input_format == Format::Binary => Error::Parse {
            file,
            message: format!("{message} (binary files are stored as JSON; is --input-type right?)"),
        },
        other => other,
    })?;
    let value = formats::metadata(&doc).ok_or_else(|| Error::NotEncrypted { file: file.into() })?;
    let metadata =
        Metadata::from_value(&value).map_err(|e| Error::Metadata { file: file.into(), message: e.to_string() })?;
    let layout = value.get(layout::FIELD).and_then(Value::as_str).map(str::to_string);
    Ok(Opened { doc, src: src.to_string(), input_format, file: file.into(), metadata, layout })
}

impl Opened {
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
            Walk::new(key, rule, self.metadata.mac_only_encrypted, Direction::Decrypt, metadata_key(self.doc.format));
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
        let emit_err = |e: formats::EmitError| Error::Emit { file: file.clone(), message: e.to_string() };
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
            })?
        } else {
            strip_metadata(&mut self.doc);
            formats::emit(&self.doc, output_format, wopts).map_err(emit_err)?.into_bytes()
        };
        Ok(Decrypted { output, warnings })
    }

    fn decrypt_binary(&self, key: &DataKey, opts: &DecryptOptions<'_>) -> Result<Decrypted, Error> {
        let file = &self.file;
        let enc = match self.doc.roots.first().and_then(|r| r.node.get("data")).map(|e| &e.value) {
            Some(Node::Leaf(Leaf { value: Scalar::Str(s), .. })) => s.clone(),
            _ => {
                return Err(Error::Metadata {
                    file: file.clone(),
                    message: "no top-level \"data\" value: not a sops binary file (is --input-type right?)".into(),
                })
            }
        };
        let data = if enc.is_empty() {
            Vec::new()
        } else {
            let (plain, _) = cipher::decrypt(key, &enc, "data:").map_err(|e| Error::DecryptValue {
                file: file.clone(),
                path: "[\"data\"]".into(),
                message: e.to_string(),
            })?;
            plain.to_vec()
        };
        if !opts.ignore_mac {
            self.verify_mac(key, &hex_upper(&Sha512::digest(&data)), None)?;
        }
        Ok(Decrypted { output: data, warnings: Vec::new() })
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
        let emit_err = |e: formats::EmitError| Error::Emit { file: self.file.clone(), message: e.to_string() };
        let wopts = WriteOptions { metadata: None, strip_metadata: true, indent };
        let text = formats::write(&self.doc, &self.src, wopts).map_err(emit_err)?;
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
        let mac_err = |m: &str| Error::Mac { file: self.file.clone(), message: m.to_string() };
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

/// The object a single-document file holds: its top-level `kind` and `metadata.namespace` and
/// `metadata.name`, where they are plaintext strings (an encrypted value does not count).
pub(crate) fn binding_of(doc: &Document) -> Binding {
    let [root] = doc.roots.as_slice() else { return Binding::default() };
    fn plain(node: Option<&Node>, key: &str) -> Option<String> {
        match node?.get(key).map(|e| &e.value) {
            Some(Node::Leaf(Leaf { value: Scalar::Str(s), .. })) if !s.starts_with("ENC[") => Some(s.clone()),
            _ => None,
        }
    }
    let metadata = root.node.get("metadata").map(|e| &e.value);
    Binding {
        namespace: plain(metadata, "namespace"),
        name: plain(metadata, "name"),
        is_secret: plain(Some(&root.node), "kind").as_deref() == Some("Secret"),
    }
}

/// The OAEP label of every RSA key for the object, or an error that says how to fix the file.
fn rsa_labels(groups: &[Vec<MasterKey>], binding: &Binding, file: &str) -> Result<Vec<Vec<u8>>, Error> {
    let rsa_keys = groups.iter().flatten().filter_map(|k| match k {
        MasterKey::Rsa(r) => Some(r),
        _ => None,
    });
    rsa_keys
        .map(|r| binding.label(keyring::rsa_scope(r, binding)))
        .collect::<Result<_, _>>()
        .map_err(|why| Error::Metadata { file: file.into(), message: keyring::bind_error(&why) })
}

pub(crate) fn text<'a>(input: &'a [u8], file: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(input).map_err(|e| Error::Parse {
        file: file.into(),
        message: format!("not valid UTF-8 text at byte {} (use --input-type binary for binary files)", e.valid_up_to()),
    })
}

pub(crate) fn parse(format: Format, src: &str, file: &str) -> Result<Document, Error> {
    formats::parse(format, src)
        .map_err(|e| Error::Parse { file: file.into(), message: format!("invalid {}: {e}", format.name()) })
}

pub(crate) fn walk_error(e: WalkError, file: &str) -> Error {
    if e.encrypting {
        Error::EncryptValue { file: file.into(), path: e.path, message: e.message }
    } else {
        Error::DecryptValue { file: file.into(), path: e.path, message: e.message }
    }
}

pub(crate) fn metadata_key(format: Format) -> fn(&str) -> bool {
    match format {
        Format::Dotenv => |k| k.starts_with("sops_"),
        _ => |k| k == "sops",
    }
}

fn strip_metadata(doc: &mut Document) {
    let is_meta = metadata_key(doc.format);
    for root in &mut doc.roots {
        if let Node::Map(items) = &mut root.node {
            items.retain(|i| !matches!(i, MapItem::Entry(e) if is_meta(&e.key)));
        }
    }
}

pub(crate) fn binary_document(enc: String) -> Document {
    let leaf = Leaf {
        value: Scalar::Str(enc),
        span: Span::default(),
        style: Style::DoubleQuoted,
        indent: 0,
        changed: true,
        in_flow: false,
        literal: None,
    };
    let entry = Entry { key: "data".into(), span: Span::default(), value: Node::Leaf(leaf) };
    Document {
        format: Format::Json,
        roots: vec![Root { node: Node::Map(vec![MapItem::Entry(entry)]), end: 0 }],
        indent: None,
    }
}

fn binary_data(doc: &Document) -> Option<Vec<u8>> {
    match &doc.roots.first()?.node.get("data")?.value {
        Node::Leaf(Leaf { value: Scalar::Str(s), .. }) => Some(s.clone().into_bytes()),
        _ => None,
    }
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_yaml_output_is_an_error_naming_the_file() {
        assert!(readable(Format::Yaml, "a: 1\nsops:\n  version: 3.11.0\n", "f.yaml").is_ok());
        let e = readable(Format::Yaml, "a: [1,\nb: {\n", "f.yaml").unwrap_err().to_string();
        assert!(e.contains("f.yaml") && e.contains("would not parse back"), "{e}");
    }
}
