//! Lossless codecs for the file formats gitseal encrypts: YAML, JSON, TOML, dotenv and INI (and
//! binary, which the envelope stores as JSON).
//!
//! A codec turns text into a [`Document`] whose leaves and comments carry their byte spans, and
//! writes a changed document back by replacing only those spans ([`write()`]), so everything the
//! envelope did not touch (indentation, quoting, comments, blank lines, key order) stays byte for
//! byte. [`emit`] writes a whole document in another format (`--output-type`).
//!
//! This crate knows nothing about cryptography: the envelope decides which leaves change and what
//! they become.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod compare;
mod dotenv;
mod ini;
mod json;
mod model;
#[cfg(test)]
mod mutate;
mod scalar;
#[cfg(test)]
mod testing;
mod text;
mod toml;
mod value;
mod yaml;

pub use compare::first_difference;
pub use model::{Alias, Comment, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, SeqItem, Span, Style};
pub use scalar::{format_float, is_canonical_bool_payload, parse_rfc3339, Timestamp};
pub use value::Value;

/// The stack for a thread that parses, walks, writes or drops a document tree: enough for the
/// deepest nesting the codecs accept (2,000 YAML levels). A thread's default 2 MiB overflowed
/// in the parse of 1,500 levels, a main thread's usual 8 MiB in the walk of about 1,230. Only
/// the pages used are ever touched.
pub const TREE_STACK: usize = 64 << 20;

/// Whether YAML's line scanner and saphyr read `src` to the same events: `Ok(true)` when they
/// do, `Ok(false)` when the line scanner leaves `src` to saphyr, an error naming the first
/// difference otherwise. For tests and fuzz targets; the error may quote the input.
#[doc(hidden)]
pub fn yaml_scanners_agree(src: &str) -> Result<bool, String> {
    yaml::scanners_agree(src)
}

/// Whether a YAML parse cut in two halves (as large files are parsed, on two threads) gives the
/// whole parse's tree at every line of `src` where a cut may be made: how many cuts joined up,
/// or an error naming the first that did not give the same tree. For tests and fuzz targets;
/// the error may quote the input.
#[doc(hidden)]
pub fn yaml_halves_agree(src: &str) -> Result<usize, String> {
    yaml::halves_agree(src)
}

/// Whether each quick pass of the read-back check of an encrypted YAML file (by lines, by the
/// line scanner's events) agrees with the parse: `Ok(true)` when one passes `src` and the parse
/// reads it and finds the metadata, `Ok(false)` when both leave it to the parse, an error
/// otherwise. For tests and fuzz targets; the error may quote the input.
#[doc(hidden)]
pub fn yaml_readback_agrees(src: &str) -> Result<bool, String> {
    yaml::readback_agrees(src)
}

/// Whether [`parse_encrypted`] reads `src` as [`parse`] does once every value token it left in
/// the source is read from there: how many it left, or an error naming the first difference.
/// For tests and fuzz targets; the error may quote the input.
#[doc(hidden)]
pub fn tokens_in_source_agree(format: Format, src: &str) -> Result<usize, String> {
    fn fill(node: &mut Node, src: &str, left: &mut usize) {
        match node {
            Node::Leaf(l) if l.token_in_source => {
                *left += 1;
                let text = &src[l.span.start..l.span.end];
                let token = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
                l.value = Scalar::Str(token.to_string());
                l.token_in_source = false;
            }
            Node::Leaf(_) => {}
            Node::Map(items) => items.iter_mut().for_each(|i| {
                if let MapItem::Entry(e) = i {
                    fill(&mut e.value, src, left)
                }
            }),
            Node::Seq(items) => items.iter_mut().for_each(|i| {
                if let SeqItem::Node { node, .. } = i {
                    fill(node, src, left)
                }
            }),
            Node::Alias(a) => fill(&mut a.node, src, left),
        }
    }
    match (parse(format, src), parse_encrypted(format, src)) {
        (Ok(whole), Ok(mut tokens)) => {
            let mut left = 0;
            tokens.roots.iter_mut().for_each(|r| fill(&mut r.node, src, &mut left));
            let (a, b) = (yaml::tree_text(&whole), yaml::tree_text(&tokens));
            if a == b {
                Ok(left)
            } else {
                Err(format!("parse:\n{a}\nwith tokens left in the source, read back:\n{b}"))
            }
        }
        (Err(a), Err(b)) if a.to_string() == b.to_string() => Ok(0),
        (a, b) => Err(format!("parse: {:?}; with tokens left in the source: {:?}", a.err(), b.err())),
    }
}

/// A file that could not be parsed. Messages name the line and column, never a value.
#[derive(Debug, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl ParseError {
    /// An error at byte offset `at` of `src`.
    pub fn at(src: &str, at: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = text::line_column(src, at);
        ParseError { message: message.into(), line, column }
    }
}

/// A document that cannot be written in the requested format.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {format} output: {message}")]
pub struct EmitError {
    /// The output format.
    pub format: &'static str,
    /// Why (names the key path, never a value).
    pub message: String,
}

/// What to add to or take out of a document when writing it.
#[derive(Clone, Copy, Default)]
pub struct WriteOptions<'a> {
    /// Metadata to append under the top-level key `sops` (every YAML document gets a copy).
    pub metadata: Option<&'a Value>,
    /// Remove the top-level `sops` metadata from the output.
    pub strip_metadata: bool,
    /// Indentation (spaces) for what the codec writes anew; `None` keeps the file's own.
    pub indent: Option<usize>,
}

/// The items of the first document's top-level mapping, for the emitters of formats that hold
/// one mapping (JSON, dotenv, INI, TOML); no items for an empty document.
pub(crate) fn top_level_items<'d>(doc: &'d Document, format: &'static str) -> Result<&'d [MapItem], EmitError> {
    match doc.roots.first().map(|r| &r.node) {
        None => Ok(&[]),
        Some(Node::Map(items)) => Ok(items),
        Some(_) => Err(EmitError { format, message: "the top level is not a mapping".into() }),
    }
}

/// Parses `src` as `format`. Binary input is not parsed (the envelope handles it).
pub fn parse(format: Format, src: &str) -> Result<Document, ParseError> {
    match format {
        Format::Yaml => yaml::parse(src),
        Format::Json | Format::Binary => json::parse(src),
        Format::Dotenv => dotenv::parse(src),
        Format::Toml => toml::parse(src),
        Format::Ini => ini::parse(src),
    }
}

/// Parses an encrypted file for decryption: [`parse`], except that a sops value token written
/// as sops writes them (in YAML a plain scalar, in JSON a string without escapes, the value of a
/// mapping entry) may be left in `src` rather than copied ([`Leaf::token_in_source`]). The
/// caller reads every such token from `src` at the leaf's span (in JSON, between its quotes)
/// before the tree is written or its values are used. A binary file's value is always copied.
pub fn parse_encrypted(format: Format, src: &str) -> Result<Document, ParseError> {
    match format {
        Format::Yaml => yaml::parse_encrypted(src),
        Format::Json => json::parse_encrypted(src),
        other => parse(other, src),
    }
}

/// Whether `src` (a file just encrypted) parses as `format`, [`parse`]'s answer, and then
/// whether its `sops` metadata is found there ([`has_metadata`]; for YAML, in each document).
/// At less cost than [`parse`] where the codec can answer without building the tree (YAML:
/// block YAML is checked from the line scanner's events; anything else is parsed, keeping no
/// values).
pub fn check(format: Format, src: &str) -> Result<bool, ParseError> {
    match format {
        Format::Yaml => yaml::check(src),
        other => parse(other, src).map(|doc| has_metadata(&doc)),
    }
}

/// [`check`], with `beside` run on this thread meanwhile (encryption releases the tree it
/// wrote its output from while the output is checked). A large YAML file's check is split
/// between the two threads.
pub fn check_beside(format: Format, src: &str, beside: impl FnOnce()) -> Result<bool, ParseError> {
    match format {
        Format::Yaml => yaml::check_beside(src, beside),
        other => {
            beside();
            check(other, src)
        }
    }
}

/// Writes `doc` (parsed from `src`) back in its own format, replacing the spans of changed
/// leaves and comments, and adding or removing the `sops` metadata as `opts` says.
pub fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    match doc.format {
        Format::Yaml => yaml::write(doc, src, opts),
        Format::Json | Format::Binary => json::write(doc, src, opts),
        Format::Dotenv => dotenv::write(doc, src, opts),
        Format::Toml => toml::write(doc, src, opts),
        Format::Ini => ini::write(doc, src, opts),
    }
}

/// Writes `doc` as a whole new file in `format` (cross-format output), with its current values.
/// Comments are kept where the output format has them (INI places them as sops does, which
/// keeps only some).
pub fn emit(doc: &Document, format: Format, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    if doc.roots.len() > 1 && format != Format::Yaml {
        return Err(EmitError {
            format: format.name(),
            message: format!(
                "the input has {} YAML documents and {} holds one; keep YAML output or --extract one document's part",
                doc.roots.len(),
                format.name()
            ),
        });
    }
    match format {
        Format::Yaml => yaml::emit(doc, opts),
        Format::Json | Format::Binary => json::emit(doc, opts),
        Format::Dotenv => dotenv::emit(doc, opts),
        Format::Toml => toml::emit(doc, opts),
        Format::Ini => ini::emit(doc, opts),
    }
}

/// For a leaf about to be encrypted in a document of `format` whose indentation step is
/// `indent`: the text decrypting will write in its place (see the envelope's layout memory).
/// `payload` is the text its value is encrypted as. `None` for formats whose output already
/// reproduces every value's source text. The text may be borrowed from the leaf's value; an
/// owned one may hold a secret (the caller wipes it).
pub fn decrypted_text<'a>(
    format: Format,
    indent: Option<usize>,
    src: &str,
    leaf: &'a Leaf,
    payload: Option<&str>,
) -> Option<std::borrow::Cow<'a, str>> {
    match format {
        Format::Yaml => Some(yaml::decrypted_text(src, indent.unwrap_or(4), leaf, payload)),
        Format::Json => json::decrypted_text(leaf, payload).map(std::borrow::Cow::Owned),
        Format::Ini => ini::decrypted_text(src, leaf).map(std::borrow::Cow::Owned),
        _ => None,
    }
}

/// Whether decrypting writes other text than `source` (the leaf's text in `src`) in place of
/// `leaf`: [`decrypted_text`] compared with `source`, the text wiped once compared. `None` where
/// [`decrypted_text`] is. JSON's usual values (strings with nothing to escape, numbers written
/// as their payload, booleans, nulls) are compared without making their text.
pub fn decrypted_text_differs(
    format: Format,
    indent: Option<usize>,
    src: &str,
    leaf: &Leaf,
    payload: Option<&str>,
    source: &str,
) -> Option<bool> {
    if format == Format::Json {
        return json::decrypted_text_differs(leaf, payload, source);
    }
    let text = decrypted_text(format, indent, src, leaf, payload)?;
    let differs = text != source;
    if let std::borrow::Cow::Owned(mut copy) = text {
        zeroize::Zeroize::zeroize(&mut copy);
    }
    Some(differs)
}

/// YAML flow-style text of a node on one line (strings double-quoted), as the codec writes an
/// alias expansion that holds encrypted values.
pub fn yaml_flow_text(node: &Node) -> String {
    yaml::flow_text(node)
}

/// True when a leaf inside `node` was changed (an alias expansion the codec will write out).
pub fn yaml_has_changed_leaf(node: &Node) -> bool {
    yaml::has_changed_leaf(node)
}

/// The `sops` metadata of a parsed document (from its first root), as a plain value tree:
/// the top-level `sops` entry for YAML and JSON, the flattened `sops_*` keys for dotenv.
pub fn metadata(doc: &Document) -> Option<Value> {
    match doc.format {
        Format::Dotenv => dotenv::metadata(doc),
        Format::Ini => ini::metadata(doc),
        _ => doc.roots.first()?.node.get("sops").map(|e| Value::from_node(&e.value)),
    }
}

/// True when the document has top-level sops metadata (a `sops` key, or `sops_*` keys for
/// dotenv) in any of its documents.
pub fn has_metadata(doc: &Document) -> bool {
    match doc.format {
        Format::Dotenv => dotenv::has_metadata(doc),
        Format::Ini => ini::has_metadata(doc),
        _ => doc.roots.iter().any(|r| r.node.get("sops").is_some()),
    }
}
