//! Re-encrypting a file after a change (`edit`, `set`, `unset`), as sops does: the data key and
//! the master-key entries stay, every unchanged value keeps its exact ciphertext (IV reuse, see
//! [`crate::stash`]), and `lastmodified` and the MAC are refreshed. The layout memory is rebuilt
//! from the new plaintext exactly as `encrypt` builds it.

use gitseal_formats::{self as formats, Format, Value, WriteOptions};
use gitseal_keys::DataKey;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::cipher::{self, Cipher, ValueType};
use crate::envelope::{self, Opened};
use crate::error::Error;
use crate::layout;
use crate::metadata::Metadata;
use crate::stash::Stash;
use crate::walk::{Direction, Walk};

/// What encrypts a changed plaintext back into the file it was decrypted from.
pub struct Reencryptor {
    key: DataKey,
    metadata: Metadata,
    stash: Stash,
    format: Format,
    file: String,
    /// The object the RSA keys bind the data key to, as the file had it.
    binding: crate::keyring::Binding,
}

impl Opened {
    /// Decrypts the whole file for a change: returns the plaintext (in the file's own format,
    /// with its layout) and the [`Reencryptor`] that writes the changed plaintext back.
    pub fn decrypt_for_edit(
        mut self,
        key: DataKey,
        ignore_mac: bool,
    ) -> Result<(Zeroizing<Vec<u8>>, Reencryptor), Error> {
        let file = self.file.clone();
        let binding = self.binding();
        let mut stash = Stash::new();
        let plaintext = if self.input_format == Format::Binary {
            self.decrypt_binary_stashed(&key, ignore_mac, &mut stash)?
        } else {
            let rule = self.metadata.rule.clone().unwrap_or_default();
            let mac_only = self.metadata.mac_only_encrypted;
            let mut walk = Walk::new(&key, rule, mac_only, Direction::Decrypt, envelope::metadata_key(self.doc.format))
                .with_stash(stash);
            for root in &mut self.doc.roots {
                walk.document(&mut root.node).map_err(|e| envelope::walk_error(e, &file))?;
            }
            stash = walk.take_stash().unwrap_or_default();
            if !ignore_mac {
                self.verify_mac(&key, &walk.mac())?;
            }
            let mut warnings = Vec::new();
            let restored = match self.layout.take() {
                Some(enc) => {
                    let l = self.restore_layout(&key, &enc, &mut warnings);
                    if let Ok((plain, _)) = cipher::decrypt(&key, &enc, layout::AAD) {
                        stash.record(layout::AAD, &plain, ValueType::Str, &enc);
                    }
                    l
                }
                None => None,
            };
            let wopts = WriteOptions { metadata: None, strip_metadata: true, indent: None };
            let text = formats::write(&self.doc, &self.src, wopts)
                .map_err(|e| Error::Emit { file: file.clone(), message: e.to_string() })?;
            match restored.filter(|l| !l.aliases.is_empty()) {
                Some(l) => l.restore_aliases(&text).into_bytes(),
                None => text.into_bytes(),
            }
        };
        let format = self.input_format;
        let metadata = self.metadata;
        Ok((Zeroizing::new(plaintext), Reencryptor { key, metadata, stash, format, file, binding }))
    }

    fn decrypt_binary_stashed(&self, key: &DataKey, ignore_mac: bool, stash: &mut Stash) -> Result<Vec<u8>, Error> {
        let enc = match self.doc.roots.first().and_then(|r| r.node.get("data")).map(|e| &e.value) {
            Some(formats::Node::Leaf(formats::Leaf { value: formats::Scalar::Str(s), .. })) => s.clone(),
            _ => {
                return Err(Error::Metadata {
                    file: self.file.clone(),
                    message: "no top-level \"data\" value: not a sops binary file (is --input-type right?)".into(),
                })
            }
        };
        let data = if enc.is_empty() {
            Vec::new()
        } else {
            let (plain, ty) = cipher::decrypt(key, &enc, "data:").map_err(|e| Error::DecryptValue {
                file: self.file.clone(),
                path: "[\"data\"]".into(),
                message: e.to_string(),
            })?;
            stash.record("data:", &plain, ty, &enc);
            plain.to_vec()
        };
        if !ignore_mac {
            self.verify_mac(key, &envelope::hex_upper(&Sha512::digest(&data)))?;
        }
        Ok(data)
    }
}

impl Reencryptor {
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
        })
    }

    /// The file's format (what the plaintext is written in).
    pub fn format(&self) -> Format {
        self.format
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
                });
            }
            let rule = self.metadata.rule.clone().unwrap_or_default();
            let mac_only = self.metadata.mac_only_encrypted;
            let mut walk =
                Walk::new(&self.key, rule, mac_only, Direction::Encrypt, envelope::metadata_key(self.format))
                    .remember_layout(self.format, doc.indent, src)
                    .with_stash(std::mem::take(&mut self.stash));
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
        let mut meta_value = meta.to_value();
        if !layout.entries.is_empty() || !layout.aliases.is_empty() {
            if let Value::Map(fields) = &mut meta_value {
                fields.push((
                    layout::FIELD.into(),
                    Value::str(reuse(&self.stash, layout.encode().as_bytes(), layout::AAD)),
                ));
            }
        }
        let wopts = WriteOptions { metadata: Some(&meta_value), strip_metadata: false, indent: None };
        let out = if self.format == Format::Binary {
            formats::emit(&doc, Format::Json, wopts)
        } else {
            formats::write(&doc, src, wopts)
        };
        out.map(String::into_bytes).map_err(|e| Error::Emit { file: file.into(), message: e.to_string() })
    }
}
