//! Re-encrypting SealedSecrets to a new certificate offline (upstream #365, #842): every item is
//! opened with the old private keys and sealed again with the same scope label. The file is
//! edited in place through the lossless codecs, so only the sealed values change: comments,
//! key order and everything else stay byte for byte.

use gitseal_formats::{Document, Format, MapItem, Node, Scalar, Value, WriteOptions};
use gitseal_keys::sealing::{self, PublicKey, SealingKey};

use super::{describe, SealedError};

/// What a reseal did to one file.
pub struct Resealed {
    /// The new text.
    pub text: String,
    /// How many SealedSecrets were re-encrypted.
    pub objects: usize,
}

/// Reseals every SealedSecret document of `text` (YAML stream or JSON) from `keys` to `to`.
/// `Ok(None)` when the text holds no SealedSecret. All-or-nothing: any item that does not
/// open fails the whole text.
pub fn reseal_text(
    text: &str,
    keys: &[SealingKey],
    to: &PublicKey,
    default_namespace: &str,
) -> Result<Option<Resealed>, SealedError> {
    let format = if text.trim_start().starts_with('{') { Format::Json } else { Format::Yaml };
    let mut doc: Document =
        gitseal_formats::parse(format, text).map_err(|e| SealedError::new("the file", e.to_string()))?;
    let mut objects = 0;
    for (i, root) in doc.roots.iter_mut().enumerate() {
        let value = Value::from_node(&root.node);
        if value.get("kind").and_then(Value::as_str) != Some(super::KIND) {
            continue;
        }
        let object = describe(&value, i);
        let label = label_of(&value, &object, default_namespace)?;
        let Some(spec) = entry_mut(&mut root.node, "spec") else { continue };
        if let Some(Node::Map(items)) = entry_mut(spec, "encryptedData") {
            for item in items.iter_mut() {
                if let MapItem::Entry(e) = item {
                    let path = format!("spec.encryptedData.{}", e.key);
                    reseal_leaf(&mut e.value, &label, keys, to).map_err(|m| SealedError::at(&object, path, m))?;
                }
            }
        }
        if let Some(leaf) = entry_mut(spec, "data") {
            reseal_leaf(leaf, &label, keys, to).map_err(|m| SealedError::at(&object, "spec.data", m))?;
        }
        objects += 1;
    }
    if objects == 0 {
        return Ok(None);
    }
    let out = gitseal_formats::write(&doc, text, WriteOptions::default())
        .map_err(|e| SealedError::new("the file", e.to_string()))?;
    Ok(Some(Resealed { text: out, objects }))
}

fn label_of(value: &Value, object: &str, default_namespace: &str) -> Result<Vec<u8>, SealedError> {
    let name = super::str_field(value, &["metadata", "name"], object)?.unwrap_or("");
    if name.is_empty() {
        return Err(SealedError::at(object, "metadata.name", "is missing"));
    }
    let ns = super::str_field(value, &["metadata", "namespace"], object)?.filter(|n| !n.is_empty());
    Ok(super::scope_of(value.get("metadata")).label(ns.unwrap_or(default_namespace), name))
}

fn entry_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match node {
        Node::Map(items) => items.iter_mut().find_map(|i| match i {
            MapItem::Entry(e) if e.key == key => Some(&mut e.value),
            _ => None,
        }),
        _ => None,
    }
}

fn reseal_leaf(node: &mut Node, label: &[u8], keys: &[SealingKey], to: &PublicKey) -> Result<(), String> {
    let Node::Leaf(leaf) = node else { return Err("must be a string".into()) };
    let Scalar::Str(b64) = &leaf.value else { return Err("must be a string".into()) };
    let blob = super::decode_base64(b64).ok_or("is not valid base64")?;
    let plain = sealing::unseal(keys, label, &blob).map_err(|e| e.to_string())?;
    let fresh = sealing::seal(to, label, &plain).map_err(|e| e.to_string())?;
    leaf.value = Scalar::Str(super::encode_base64(&fresh));
    leaf.changed = true;
    Ok(())
}
