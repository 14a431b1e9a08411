//! The document model shared by every codec.
//!
//! A parsed file is a [`Document`]: one [`Node`] tree per document (YAML files may hold several),
//! where every leaf and every comment remembers the byte span it came from. The envelope walks the
//! tree, changes the leaves it selects (setting `changed`), and the codec writes the file again by
//! replacing only the spans of changed leaves ([`crate::write`]), or emits a whole new file in
//! another format ([`crate::emit`]).

/// The file formats gitseal reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2, multi-document.
    Yaml,
    /// JSON (RFC 8259).
    Json,
    /// dotenv `KEY=value` lines, as sops reads them.
    Dotenv,
    /// TOML (gitseal's extension; sops has no TOML store).
    Toml,
    /// INI, as sops reads it (sections, `DEFAULT`).
    Ini,
    /// Any bytes, stored as one value.
    Binary,
}

impl Format {
    /// The format for a path, by suffix as sops picks it (plus `.toml`); anything unknown is binary.
    pub fn from_path(path: &str) -> Format {
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Yaml
        } else if path.ends_with(".json") {
            Format::Json
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else if path.ends_with(".toml") {
            Format::Toml
        } else if path.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    /// Parses a `--input-type`/`--output-type` name. Unlike sops, an unknown name is an error
    /// instead of a silent fall back to binary.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" | "env" => Some(Format::Dotenv),
            "toml" => Some(Format::Toml),
            "ini" => Some(Format::Ini),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Toml => "toml",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

/// A byte range in the source text, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A typed scalar value, with the types sops distinguishes.
#[derive(Clone, PartialEq)]
pub enum Scalar {
    /// `null`, `~` or an empty value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string (any UTF-8).
    Str(String),
    /// A timestamp, kept as RFC 3339 text with nanosecond precision (Go's `RFC3339Nano`).
    Time(String),
}

// Values may be secrets: wiped from memory when dropped.
impl Drop for Scalar {
    fn drop(&mut self) {
        if let Scalar::Str(s) | Scalar::Time(s) = self {
            wipe(s);
        }
    }
}

/// Wipes a string that may hold a secret. Most strings a check builds hold nothing: those skip
/// the wiping call, which costs more than their allocation-free drop.
fn wipe(s: &mut String) {
    if s.capacity() > 0 {
        zeroize::Zeroize::zeroize(s);
    }
}

// Values may be secrets: Debug shows only the type.
impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scalar::Null => "Null",
            Scalar::Bool(_) => "Bool(..)",
            Scalar::Int(_) => "Int(..)",
            Scalar::Float(_) => "Float(..)",
            Scalar::Str(_) => "Str(..)",
            Scalar::Time(_) => "Time(..)",
        })
    }
}

/// How a scalar was written in the source, so that a codec can write a new value the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// YAML plain scalar, JSON number/true/false/null, dotenv value.
    Plain,
    /// YAML `'...'`.
    SingleQuoted,
    /// YAML or JSON `"..."`.
    DoubleQuoted,
    /// YAML `|` block.
    Literal,
    /// YAML `>` block.
    Folded,
}

/// A scalar leaf of the tree.
#[derive(Clone)]
pub struct Leaf {
    /// Its value: the parsed value, or the new one once `changed` is set.
    pub value: Scalar,
    /// The bytes to replace when the value changes (for YAML block scalars: from the `|`/`>`
    /// indicator to the end of the last content line; for quoted scalars: the quotes included).
    pub span: Span,
    /// How the source wrote it.
    pub style: Style,
    /// Column (in characters) of the line's indentation where a block scalar's content starts;
    /// used to write a block scalar back at the same indentation.
    pub indent: usize,
    /// True when `value` was set by the envelope and must be written.
    pub changed: bool,
    /// For numbers and booleans: the literal as the source wrote it (`1e3`, `1.0`, `+12`,
    /// `TRUE`). The envelope encrypts this spelling when sops parses it to the same value, and
    /// codecs write it back when it still reads as that value, so such values round-trip.
    /// For a string whose layout the envelope restores (a folded block, an alias, ...): the
    /// exact source text, which the YAML codec writes as it is.
    pub literal: Option<String>,
    /// True inside a YAML flow collection (`{...}`, `[...]`), where plain scalars may not hold
    /// `,[]{}`.
    pub in_flow: bool,
    /// True when the value is a sops value token (`ENC[AES256_GCM,...]`) that the parse left in
    /// the source text at `span` (in JSON, between the quotes there) instead of copying it:
    /// `value` is an empty string until the token is read from there. Only
    /// [`crate::parse_encrypted`] leaves tokens there, for decryption, which reads every one.
    pub token_in_source: bool,
}

/// A comment: the text after its `#` (or `;` for INI), and the span of the whole comment.
#[derive(Clone)]
pub struct Comment {
    /// Text after the comment character, as sops keeps it (`# foo` -> ` foo`).
    pub text: String,
    /// From the comment character (or for a YAML sequence item holding an encrypted comment,
    /// from the `-`) to the end of the line, newline excluded.
    pub span: Span,
    /// True when `text` was set by the envelope and must be written.
    pub changed: bool,
}

impl Leaf {
    /// A leaf with no place in a source text (a value built by the program): plain style, no
    /// span.
    pub fn new(value: Scalar) -> Leaf {
        Leaf {
            value,
            span: Span::default(),
            style: Style::Plain,
            indent: 0,
            changed: false,
            literal: None,
            in_flow: false,
            token_in_source: false,
        }
    }
}

// Leaves may hold secrets (the value, the literal): Debug shows only their shape.
impl std::fmt::Debug for Leaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaf")
            .field("value", &self.value)
            .field("span", &self.span)
            .field("style", &self.style)
            .field("changed", &self.changed)
            .field("literal", &self.literal.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::fmt::Debug for Comment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Comment").field("span", &self.span).field("changed", &self.changed).finish_non_exhaustive()
    }
}

// Comments are encrypted too, so they may hold secrets.
// The literal is the source text of a value (a secret once decrypted).
impl Drop for Leaf {
    fn drop(&mut self) {
        if let Some(l) = self.literal.as_mut() {
            wipe(l);
        }
    }
}

impl Drop for Comment {
    fn drop(&mut self) {
        wipe(&mut self.text);
    }
}

/// A node of the tree.
#[derive(Clone, Debug)]
pub enum Node {
    /// A mapping, in source order.
    Map(Vec<MapItem>),
    /// A sequence, in source order.
    Seq(Vec<SeqItem>),
    /// A scalar.
    Leaf(Leaf),
    /// A YAML alias (`*name`) to a mapping or sequence, expanded as sops does: `node` is a copy
    /// of the anchored collection, walked and encrypted at the alias's own key path.
    Alias(Box<Alias>),
}

/// An alias to a collection and its expansion.
#[derive(Clone, Debug)]
pub struct Alias {
    /// The `*name` text.
    pub span: Span,
    /// The copy of the anchored mapping or sequence (its inner spans are the anchor's).
    pub node: Node,
}

/// An item of a mapping.
#[derive(Clone, Debug)]
pub enum MapItem {
    /// A comment line (or trailing comment) inside the mapping.
    Comment(Comment),
    /// A key and its value.
    Entry(Entry),
}

impl MapItem {
    /// The entry, when this item is one (not a comment).
    pub fn entry(&self) -> Option<&Entry> {
        match self {
            MapItem::Entry(e) => Some(e),
            MapItem::Comment(_) => None,
        }
    }
}

/// A key/value pair.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key, as a string (sops accepts only string keys).
    pub key: String,
    /// The bytes that make up the whole entry, so that it can be removed (used for the `sops`
    /// metadata entry): for YAML from the start of the key's line to the start of the line
    /// after the value; for JSON from the key's opening quote to the end of the value.
    pub span: Span,
    /// The value.
    pub value: Node,
}

/// An item of a sequence.
#[derive(Clone, Debug)]
pub enum SeqItem {
    /// A comment line inside the sequence.
    Comment(Comment),
    /// A value; `start` is where the item begins (the `-` of a YAML block sequence item).
    Node {
        /// Start of the item, its `-` indicator included.
        start: usize,
        /// The value.
        node: Node,
    },
}

/// One document of a file.
#[derive(Clone, Debug)]
pub struct Root {
    /// The top-level node (a mapping for every file sops can read).
    pub node: Node,
    /// Where a metadata block for this document is inserted (YAML: the start of the line of
    /// the next document marker, or the end of the file).
    pub end: usize,
}

/// A parsed file.
#[derive(Clone, Debug)]
pub struct Document {
    /// The format it was parsed as.
    pub format: Format,
    /// Its documents (one except for multi-document YAML).
    pub roots: Vec<Root>,
    /// The indentation step seen in the file (spaces), if any nesting shows one.
    pub indent: Option<usize>,
}

impl Node {
    /// The node itself, or for an alias its expansion.
    pub fn resolved(&self) -> &Node {
        match self {
            Node::Alias(a) => a.node.resolved(),
            other => other,
        }
    }

    /// How many leaves and comments in this node were changed by the envelope (an alias's
    /// expansion counts once): what a codec writing in place has to replace, to size its list.
    pub fn changed_count(&self) -> usize {
        match self {
            Node::Leaf(l) => usize::from(l.changed),
            Node::Map(items) => items
                .iter()
                .map(|i| match i {
                    MapItem::Comment(c) => usize::from(c.changed),
                    MapItem::Entry(e) => e.value.changed_count(),
                })
                .sum(),
            Node::Seq(items) => items
                .iter()
                .map(|i| match i {
                    SeqItem::Comment(c) => usize::from(c.changed),
                    SeqItem::Node { node, .. } => node.changed_count(),
                })
                .sum(),
            Node::Alias(_) => 1,
        }
    }

    /// The entry with key `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match self.resolved() {
            Node::Map(items) => items.iter().find_map(|item| match item {
                MapItem::Entry(e) if e.key == key => Some(e),
                _ => None,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_count_counts_changed_leaves_and_comments() {
        let mut doc = crate::parse(Format::Yaml, "# c\na: 1\nb:\n  - 2\n  # d\n  - x: 3\n").unwrap();
        assert_eq!(doc.roots[0].node.changed_count(), 0);
        let Node::Map(items) = &mut doc.roots[0].node else { panic!("not a map") };
        let MapItem::Comment(c) = &mut items[0] else { panic!("not a comment") };
        c.changed = true;
        let MapItem::Entry(b) = &mut items[2] else { panic!("not an entry") };
        let Node::Seq(seq) = &mut b.value else { panic!("not a sequence") };
        for item in seq.iter_mut() {
            match item {
                SeqItem::Comment(c) => c.changed = true,
                SeqItem::Node { node: Node::Leaf(l), .. } => l.changed = true,
                SeqItem::Node { .. } => {}
            }
        }
        assert_eq!(doc.roots[0].node.changed_count(), 3);
    }
}
