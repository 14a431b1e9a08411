//! Encrypting and decrypting whole files: parse, walk, MAC, metadata, write.
//!
//! Decryption has two phases so that no format code does I/O: [`open`] reads the file and its
//! metadata, the caller obtains the data key ([`crate::keyring`]), then [`Opened::decrypt`]
//! decrypts the document with it.

mod encrypt;
pub(crate) mod layout;
mod open;
pub(crate) mod stash;
pub(crate) mod walk;

pub(crate) use encrypt::readable;
pub use encrypt::{encrypt, encrypt_with, EncryptOptions};
pub use open::{decrypt, open, plaintext_values, DecryptOptions, Decrypted, Opened};

use crate::error::Error;
use crate::keyring::{self, Binding};
use gitseal_formats::{self as formats, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, Span, Style};
use gitseal_keys::MasterKey;
use walk::WalkError;

/// The object a single-document file holds: its top-level `kind` and `metadata.namespace` and
/// `metadata.name`, where they are plaintext strings (an encrypted value does not count).
pub(crate) fn binding_of(doc: &Document) -> Binding {
    let [root] = doc.roots.as_slice() else { return Binding::default() };
    fn plain(node: Option<&Node>, key: &str) -> Option<String> {
        match node?.get(key).map(|e| &e.value) {
            Some(Node::Leaf(Leaf { value: Scalar::Str(s), token_in_source: false, .. })) if !s.starts_with("ENC[") => {
                Some(s.clone())
            }
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
pub(super) fn rsa_labels(groups: &[Vec<MasterKey>], binding: &Binding, file: &str) -> Result<Vec<Vec<u8>>, Error> {
    let rsa_keys = groups.iter().flatten().filter_map(|k| match k {
        MasterKey::Rsa(r) => Some(r),
        _ => None,
    });
    rsa_keys
        .map(|r| binding.label(keyring::rsa_scope(r, binding)))
        .collect::<Result<_, _>>()
        .map_err(|why| Error::Metadata { file: file.into(), message: keyring::bind_error(&why), source: None })
}

pub(crate) fn text<'a>(input: &'a [u8], file: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(input).map_err(|e| Error::Parse {
        file: file.into(),
        message: format!("not valid UTF-8 text at byte {} (use --input-type binary for binary files)", e.valid_up_to()),
        source: None,
    })
}

pub(crate) fn parse(format: Format, src: &str, file: &str) -> Result<Document, Error> {
    parse_as(format, src, file, false)
}

/// [`parse`], or with `tokens_in_source` [`formats::parse_encrypted`] (for a decryption that
/// reads every value).
pub(crate) fn parse_as(format: Format, src: &str, file: &str, tokens_in_source: bool) -> Result<Document, Error> {
    let parsed = if tokens_in_source { formats::parse_encrypted(format, src) } else { formats::parse(format, src) };
    parsed.map_err(|e| Error::Parse {
        file: file.into(),
        message: format!("invalid {}: {e}", format.name()),
        source: Some(Box::new(e)),
    })
}

pub(crate) fn walk_error(e: WalkError, file: &str) -> Error {
    if e.encrypting {
        Error::EncryptValue { file: file.into(), path: e.path, message: e.message, source: None }
    } else {
        Error::DecryptValue { file: file.into(), path: e.path, message: e.message, source: None }
    }
}

pub(crate) fn metadata_key(format: Format) -> fn(&str) -> bool {
    match format {
        Format::Dotenv => |k| k.starts_with("sops_"),
        _ => |k| k == "sops",
    }
}

pub(super) fn strip_metadata(doc: &mut Document) {
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
        token_in_source: false,
    };
    let entry = Entry { key: "data".into(), span: Span::default(), value: Node::Leaf(leaf) };
    Document {
        format: Format::Json,
        roots: vec![Root { node: Node::Map(vec![MapItem::Entry(entry)]), end: 0 }],
        indent: None,
    }
}

pub(super) fn binary_data(doc: &Document) -> Option<Vec<u8>> {
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
        // Metadata that landed inside a value is not metadata.
        let e = readable(Format::Yaml, "a: |\n  x\n  sops:\n    version: 3.11.0\n", "f.yaml").unwrap_err().to_string();
        assert!(e.contains("f.yaml") && e.contains("metadata would not be found"), "{e}");
    }

    /// An encrypted name or namespace binds nothing, whether the parse copied its token or
    /// left it in the source.
    #[test]
    fn an_encrypted_name_is_no_binding_however_parsed() {
        let t = "ENC[AES256_GCM,data:eA==,iv:eQ==,tag:eg==,type:str]";
        let src = format!("kind: Secret\nmetadata:\n    name: {t}\n    namespace: apps\n");
        for tokens_in_source in [false, true] {
            let doc = parse_as(Format::Yaml, &src, "s.yaml", tokens_in_source).unwrap();
            let b = binding_of(&doc);
            assert_eq!((b.name, b.namespace.as_deref(), b.is_secret), (None, Some("apps"), true), "{tokens_in_source}");
        }
    }

    /// A document that ends, without a line break, in a block scalar that is an explicit key:
    /// the metadata cannot be written after it; encryption says so and writes nothing (it
    /// wrote a file that did not decrypt).
    #[test]
    fn a_file_whose_metadata_would_land_inside_a_key_is_not_encrypted() {
        let opts = crate::envelope::EncryptOptions {
            rule: None,
            mac_only_encrypted: false,
            key_groups: vec![vec![gitseal_keys::MasterKey::Age(
                gitseal_keys::age::Recipient::parse("age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d")
                    .unwrap(),
            )]],
            shamir_threshold: None,
            indent: None,
        };
        let e = crate::envelope::encrypt(b"? |\n 00e", Format::Yaml, Format::Yaml, &opts, "k.yaml").unwrap_err();
        assert!(e.to_string().contains("k.yaml") && e.to_string().contains("metadata would not be found"), "{e}");
    }
}
