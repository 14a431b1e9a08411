//! Re-encrypting a file after a change (`edit`, `set`, `unset`), as sops does: the data key and
//! the master-key entries stay, every unchanged value keeps its exact ciphertext (the IV is
//! reused for the same plaintext at the same key path, as sops does), and `lastmodified` and the
//! MAC are refreshed. The layout memory is rebuilt from the new plaintext exactly as `encrypt`
//! builds it.

pub mod rotate;

use gitseal_formats::{self as formats, Format, Value, WriteOptions};
use gitseal_keys::DataKey;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::cipher::{self, Cipher, ValueType};
use crate::envelope::layout;
use crate::envelope::stash::Stash;
use crate::envelope::walk::{Direction, Walk};
use crate::envelope::{self, Opened};
use crate::error::Error;
use crate::metadata::Metadata;

/// What encrypts a changed plaintext back into the file it was decrypted from.
pub struct Reencryptor {
    pub(crate) key: DataKey,
    pub(crate) metadata: Metadata,
    pub(crate) stash: Stash,
    format: Format,
    pub(crate) file: String,
    /// The object the RSA keys bind the data key to, as the file had it.
    pub(crate) binding: crate::keyring::Binding,
    /// The master keys changed ([`rotate`]): the file is written anew with the new metadata.
    pub(crate) rekeyed: bool,
    /// The encrypted file as read (tree and text), to change in place when the new content
    /// has the same shape: then every other byte, the metadata's included, stays as it was.
    original: (formats::Document, String),
    /// Write the encrypted file in another format (`--output-type`); `None`: the file's own.
    output_format: Option<Format>,
    /// Non-fatal findings of the decryption (a layout that no longer fits, output written in
    /// canonical form), to show the user.
    pub warnings: Vec<String>,
    /// The connections new KMS and Vault keys are wrapped through ([`Reencryptor::rekey`]).
    pub(crate) remote: gitseal_keys::Remote,
}

/// Opens an encrypted file for a change (`edit`, `set`, key changes): decrypts it with the data
/// key from `keys` and returns the plaintext, in the file's own format and layout, and the
/// [`Reencryptor`] that writes a changed plaintext back (unchanged values keep their
/// ciphertext). Warnings of the decryption are in [`Reencryptor::warnings`].
///
/// ```
/// use gitseal::envelope::{self, EncryptOptions};
/// use gitseal::formats::Format;
/// use gitseal::keyring::Keyring;
/// use gitseal::keys::age::{Identities, Recipient};
/// use gitseal::keys::MasterKey;
/// use gitseal::reencrypt;
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
/// let sealed = envelope::encrypt(b"user: admin\npassword: hunter2\n", Format::Yaml, Format::Yaml, &opts, "f.yaml")?;
///
/// let mut keys = Keyring::with_age(Identities::from_text(identity, "example")?);
/// let (plain, mut session) = reencrypt::open_for_edit(&sealed, Format::Yaml, "f.yaml", &mut keys, false)?;
/// assert_eq!(&plain[..], b"user: admin\npassword: hunter2\n");
/// let changed = session.encrypt(b"user: root\npassword: hunter2\n")?;
/// // Only the changed value's line (and the MAC and date) differ: the password keeps its ciphertext.
/// let line = |file: &[u8], key: &str| {
///     String::from_utf8_lossy(file).lines().find(|l| l.starts_with(key)).map(str::to_string)
/// };
/// assert_eq!(line(&changed, "password:"), line(&sealed, "password:"));
/// assert_ne!(line(&changed, "user:"), line(&sealed, "user:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_for_edit(
    input: &[u8],
    format: Format,
    file: &str,
    keys: &mut crate::keyring::Keyring,
    ignore_mac: bool,
) -> Result<(Zeroizing<Vec<u8>>, Reencryptor), Error> {
    let opened = envelope::open(input, format, file)?;
    let key = keys.data_key_for(&opened.metadata, &opened.binding(), file)?;
    let (plain, mut reenc) = Reencryptor::from_opened(opened, key, ignore_mac)?;
    reenc.remote = keys.remote().clone();
    Ok((plain, reenc))
}

impl Reencryptor {
    /// Decrypts the whole of an opened file for a change: returns the plaintext (in the file's
    /// own format, with its layout) and the [`Reencryptor`] that writes the changed plaintext
    /// back.
    pub fn from_opened(
        mut opened: Opened<'_>,
        key: DataKey,
        ignore_mac: bool,
    ) -> Result<(Zeroizing<Vec<u8>>, Reencryptor), Error> {
        let file = opened.file.clone();
        let binding = opened.binding();
        let original = (opened.doc.clone(), opened.src.to_string());
        let mut stash = if opened.input_format == Format::Json { Stash::new().untyped_numbers() } else { Stash::new() };
        let mut warnings = Vec::new();
        let plaintext = if opened.input_format == Format::Binary {
            Reencryptor::decrypt_binary_stashed(&opened, &key, ignore_mac, &mut stash)?
        } else {
            let rule = opened.metadata.rule.clone().unwrap_or_default();
            let mac_only = opened.metadata.mac_only_encrypted;
            let mut walk =
                Walk::new(&key, rule, mac_only, Direction::Decrypt, envelope::metadata_key(opened.doc.format))
                    .with_stash(stash);
            if opened.doc.format == Format::Json {
                walk = walk.legacy_json_mac();
            }
            for root in &mut opened.doc.roots {
                walk.document(&mut root.node).map_err(|e| envelope::walk_error(e, &file))?;
            }
            stash = walk.take_stash().unwrap_or_default();
            warnings.append(&mut walk.warnings);
            if !ignore_mac {
                let (mac, legacy) = walk.macs();
                opened.verify_mac(&key, &mac, legacy.as_deref())?;
            }
            let restored = match opened.layout.take() {
                Some(enc) => {
                    let l = opened.restore_layout(&key, &enc, &mut warnings);
                    if let Ok((plain, _)) = cipher::decrypt(&key, &enc, layout::AAD) {
                        stash.record(layout::AAD, &plain, ValueType::Str, &enc);
                    }
                    l
                }
                None => None,
            };
            opened.write_checked(restored.as_ref(), None, &mut warnings)?.into_bytes()
        };
        let format = opened.input_format;
        let metadata = opened.metadata;
        Ok((
            Zeroizing::new(plaintext),
            Reencryptor {
                key,
                metadata,
                stash,
                format,
                file,
                binding,
                rekeyed: false,
                original,
                output_format: None,
                warnings,
                remote: gitseal_keys::Remote::new(),
            },
        ))
    }

    fn decrypt_binary_stashed(
        opened: &Opened<'_>,
        key: &DataKey,
        ignore_mac: bool,
        stash: &mut Stash,
    ) -> Result<Vec<u8>, Error> {
        let (data, sealed) = opened.binary_plaintext(key, ignore_mac)?;
        if let Some((ty, enc)) = sealed {
            stash.record("data:", &data, ty, &enc);
        }
        Ok(data)
    }
}

impl Reencryptor {
    /// The file's metadata as it was read (its key groups, threshold and selection rule).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The original file with only the changed values, `lastmodified`, `mac` and the layout
    /// replaced, when `new` has the original's shape (same keys, items and comments in the
    /// same places) and the metadata has those fields; `None` otherwise (the file is then
    /// written anew, as sops always does). After a change of master keys the whole metadata
    /// block is written anew, and every value line still stays as it was unless its value
    /// changed (a rotated data key changes them all).
    fn in_place(
        &self,
        new: &formats::Document,
        meta: &Metadata,
        layout_enc: Option<&str>,
    ) -> Option<Result<Vec<u8>, Error>> {
        if self.output_format.is_some() {
            return None;
        }
        let (orig, src) = &self.original;
        let mut doc = orig.clone();
        let is_meta = envelope::metadata_key(doc.format);
        if doc.roots.len() != new.roots.len() {
            return None;
        }
        for (o, n) in doc.roots.iter_mut().zip(&new.roots) {
            if !transplant(&mut o.node, &n.node, Some(is_meta)) {
                return None;
            }
        }
        if self.rekeyed {
            let mut meta_value = meta.to_value();
            if let (Some(enc), Value::Map(fields)) = (layout_enc, &mut meta_value) {
                fields.push((layout::FIELD.into(), Value::str(enc)));
            }
            let wopts = WriteOptions { metadata: Some(&meta_value), strip_metadata: true, indent: None };
            return Some(formats::write(&doc, src, wopts).map(String::into_bytes).map_err(|e| Error::Emit {
                file: self.file.clone(),
                message: e.to_string(),
                source: Some(Box::new(e)),
            }));
        }
        let mac = meta.mac.as_deref()?;
        let dotenv = doc.format == Format::Dotenv;
        for root in &mut doc.roots {
            let formats::Node::Map(items) = &mut root.node else { return None };
            let mut fields: Vec<(&str, &mut formats::Leaf)> = Vec::new();
            for item in items.iter_mut() {
                let formats::MapItem::Entry(e) = item else { continue };
                match (&mut e.value, dotenv) {
                    (formats::Node::Leaf(l), true) if is_meta(&e.key) => fields.push((&e.key[5..], l)),
                    (formats::Node::Map(children), false) if is_meta(&e.key) => {
                        for c in children.iter_mut() {
                            if let formats::MapItem::Entry(ce) = c {
                                if let formats::Node::Leaf(l) = &mut ce.value {
                                    fields.push((&ce.key, l));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            let wanted =
                [("lastmodified", Some(meta.lastmodified.as_str())), ("mac", Some(mac)), (layout::FIELD, layout_enc)];
            for (name, value) in wanted {
                let found = fields.iter_mut().find(|(k, _)| *k == name);
                match (found, value) {
                    (Some((_, leaf)), Some(v)) => {
                        leaf.value = formats::Scalar::Str(v.to_string());
                        leaf.literal = None;
                        leaf.changed = true;
                    }
                    (None, None) => {}
                    _ => return None,
                }
            }
        }
        let wopts = WriteOptions { metadata: None, strip_metadata: false, indent: None };
        Some(formats::write(&doc, src, wopts).map(String::into_bytes).map_err(|e| Error::Emit {
            file: self.file.clone(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }))
    }

    /// RSA keys bind the data key to the object's namespace and name (and `kind: Secret` picks
    /// their default scope): a change to those would leave a file no key opens.
    fn check_binding(&self, encrypted: &formats::Document) -> Result<(), Error> {
        if self.metadata.key_groups.iter().all(|g| g.rsa.is_empty()) || envelope::binding_of(encrypted) == self.binding
        {
            return Ok(());
        }
        Err(Error::Metadata {
            file: self.file.clone(),
            message: "the file's RSA keys bind the data key to its kind, metadata.namespace and metadata.name; changing them would make the file unreadable, so keep them (or encrypt the new object anew)".into(),
            source: None,
        })
    }

    /// The file's format (what the plaintext is written in).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes the encrypted file in `format` instead of its own (sops `--output-type` of
    /// `set`, `unset` and `rotate`). The file is then written anew, without layout memory,
    /// which only describes a file in its own format.
    pub fn set_output_format(&mut self, format: Format) {
        self.output_format = Some(format).filter(|&f| f != self.format);
    }

    /// Encrypts `plaintext` (the changed file, in [`Reencryptor::format`]) with the file's data
    /// key and master keys. Fails, naming the file, when the plaintext does not parse or holds
    /// a top-level `sops` key.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let file = self.file.clone();
        let file = file.as_str();
        let cipher = Cipher::new(&self.key);
        let reuse = |stash: &Stash, plain: &[u8], aad: &str| match stash.iv(aad, plain, ValueType::Str) {
            Some(iv) => cipher.encrypt_with_iv(plain, aad, ValueType::Str, &iv),
            None => cipher.encrypt(plain, aad, ValueType::Str),
        };
        let (doc, src, mac, layout) = if self.format == Format::Binary {
            let enc = if plaintext.is_empty() { String::new() } else { reuse(&self.stash, plaintext, "data:") };
            let mac = envelope::hex_upper(&Sha512::digest(plaintext));
            (envelope::binary_document(enc), "", mac, layout::Layout::default())
        } else {
            let src = envelope::text(plaintext, file)?;
            if src.trim().is_empty() {
                return Err(Error::Empty { file: file.into() });
            }
            let mut doc = envelope::parse(self.format, src, file)?;
            if formats::has_metadata(&doc) {
                return Err(Error::Parse {
                    file: file.into(),
                    message: "the plaintext has a top-level sops key (or sops_* for dotenv); remove it, gitseal writes the metadata".into(),
                    source: None,
                });
            }
            let rule = self.metadata.rule.clone().unwrap_or_default();
            let mac_only = self.metadata.mac_only_encrypted;
            let mut walk =
                Walk::new(&self.key, rule, mac_only, Direction::Encrypt, envelope::metadata_key(self.format))
                    .with_stash(std::mem::take(&mut self.stash));
            if self.output_format.is_none() {
                walk = walk.remember_layout(self.format, doc.indent, src);
            }
            let walked: Result<(), Error> = doc
                .roots
                .iter_mut()
                .try_for_each(|root| walk.document(&mut root.node).map_err(|e| envelope::walk_error(e, file)));
            self.stash = walk.take_stash().unwrap_or_default();
            walked?;
            let layout = std::mem::take(&mut walk.layout);
            self.check_binding(&doc)?;
            (doc, src, walk.mac(), layout)
        };
        let mut meta = self.metadata.clone();
        meta.lastmodified = crate::timefmt::now_rfc3339();
        meta.mac = Some(cipher.encrypt(mac.as_bytes(), &meta.lastmodified, ValueType::Str));
        let layout_enc = (!layout.entries.is_empty() || !layout.aliases.is_empty())
            .then(|| reuse(&self.stash, layout.encode().as_bytes(), layout::AAD));
        if let Some(out) = self.in_place(&doc, &meta, layout_enc.as_deref()) {
            let out = out?;
            let text = String::from_utf8_lossy(&out);
            let format = if self.format == Format::Binary { Format::Json } else { self.format };
            envelope::readable(format, &text, file)?;
            return Ok(out);
        }
        let mut meta_value = meta.to_value();
        if let Some(enc) = layout_enc {
            if let Value::Map(fields) = &mut meta_value {
                fields.push((layout::FIELD.into(), Value::str(enc)));
            }
        }
        let wopts = WriteOptions { metadata: Some(&meta_value), strip_metadata: false, indent: None };
        let out = match self.output_format {
            Some(format) => formats::emit(&doc, format, wopts),
            None if self.format == Format::Binary => formats::emit(&doc, Format::Json, wopts),
            None => formats::write(&doc, src, wopts),
        };
        let out =
            out.map_err(|e| Error::Emit { file: file.into(), message: e.to_string(), source: Some(Box::new(e)) })?;
        envelope::readable(
            self.output_format.unwrap_or(if self.format == Format::Binary { Format::Json } else { self.format }),
            &out,
            file,
        )?;
        Ok(out.into_bytes())
    }
}

/// Copies the values and comments of `new` into `orig` where they differ; false when the two
/// trees do not have the same shape. `skip` names top-level metadata keys that only `orig` has.
fn transplant(orig: &mut formats::Node, new: &formats::Node, skip: Option<fn(&str) -> bool>) -> bool {
    use formats::{MapItem, Node, SeqItem};
    match (orig, new) {
        (Node::Leaf(o), Node::Leaf(n)) => {
            if o.value != n.value {
                o.value = n.value.clone();
                o.literal = None;
                o.changed = true;
            }
            true
        }
        (Node::Map(o), Node::Map(n)) => {
            let o: Vec<&mut MapItem> =
                o.iter_mut().filter(|i| !matches!((i, skip), (MapItem::Entry(e), Some(f)) if f(&e.key))).collect();
            o.len() == n.len()
                && o.into_iter().zip(n).all(|(o, n)| match (o, n) {
                    (MapItem::Entry(eo), MapItem::Entry(en)) => {
                        eo.key == en.key && transplant(&mut eo.value, &en.value, None)
                    }
                    (MapItem::Comment(co), MapItem::Comment(cn)) => comment(co, cn),
                    _ => false,
                })
        }
        (Node::Seq(o), Node::Seq(n)) => {
            o.len() == n.len()
                && o.iter_mut().zip(n).all(|(o, n)| match (o, n) {
                    (SeqItem::Node { node: no, .. }, SeqItem::Node { node: nn, .. }) => transplant(no, nn, None),
                    (SeqItem::Comment(co), SeqItem::Comment(cn)) => comment(co, cn),
                    // sops writes a comment inside a sequence as an item `- ENC[...,type:comment]`.
                    (SeqItem::Node { node: Node::Leaf(l), .. }, SeqItem::Comment(cn))
                        if matches!(&l.value, formats::Scalar::Str(s) if s.ends_with(",type:comment]"))
                            && cipher::is_encrypted(&cn.text) =>
                    {
                        if !matches!(&l.value, formats::Scalar::Str(s) if *s == cn.text) {
                            l.value = formats::Scalar::Str(cn.text.clone());
                            l.changed = true;
                        }
                        true
                    }
                    _ => false,
                })
        }
        (Node::Alias(o), Node::Alias(n)) => transplant(&mut o.node, &n.node, None),
        _ => false,
    }
}

fn comment(orig: &mut formats::Comment, new: &formats::Comment) -> bool {
    if orig.text != new.text {
        orig.text = new.text.clone();
        orig.changed = true;
    }
    true
}
