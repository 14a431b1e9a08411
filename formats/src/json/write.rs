//! Writing JSON: span replacement over the source text, and a fresh emitter.

use std::borrow::Cow;

use super::parse::{indent_unit, same_number, UTF8_BOM};
use crate::model::{Document, Entry, Leaf, MapItem, Node, Root, Scalar, SeqItem, Span, Style};
use crate::scalar::format_float;
use crate::text;
use crate::value::Value;
use crate::{EmitError, WriteOptions};

/// Writes `doc` back into `src`'s layout: changed leaves are replaced in place, the top-level
/// `sops` member is removed and/or appended as `opts` says, every other byte is kept.
pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let root = doc.roots.first().ok_or_else(mismatch)?;
    let Node::Map(items) = &root.node else { return Err(mismatch()) };
    let open = object_open(src, root)?;
    let entries: Vec<&Entry> = items.iter().filter_map(MapItem::entry).collect();
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let removed: Vec<bool> = entries.iter().map(|e| drop_meta && e.key == "sops").collect();
    let mut edits = Vec::with_capacity(root.node.changed_count() + entries.len() + 1);
    let mut path = Vec::new();
    for (entry, _) in entries.iter().zip(&removed).filter(|(_, &r)| !r) {
        path.push(Step::Key(&entry.key));
        leaf_edits(&entry.value, &mut path, &mut edits)?;
        path.pop();
    }
    removal_edits(src, open, &entries, &removed, &mut edits);
    if let Some(meta) = opts.metadata {
        let (span, text) = insertion(src, open, &entries, &removed, meta, opts.indent)?;
        edits.push((span, Cow::Owned(text)));
    }
    apply_checked(src, edits, "json")
}

/// Writes `doc` as a new JSON file: `opts.indent` spaces per level (a tab by default), a
/// trailing newline, comments dropped, metadata (if any) as the last top-level member.
pub(crate) fn emit(doc: &Document, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let mut members: Vec<(String, Value)> = crate::top_level_items(doc, "json")?
        .iter()
        .filter_map(MapItem::entry)
        .filter(|e| !(drop_meta && e.key == "sops"))
        .map(|e| (e.key.clone(), Value::from_node(&e.value)))
        .collect();
    if let Some(meta) = opts.metadata {
        members.push(("sops".to_string(), meta.clone()));
    }
    let unit = opts.indent.map_or_else(|| "\t".to_string(), |n| " ".repeat(n));
    let layout = Layout { nl: "\n", unit, base: String::new(), colon: ": " };
    let mut out = String::new();
    layout.value(&Value::Map(members), 0, &mut Vec::new(), &mut out)?;
    out.push('\n');
    Ok(out)
}

/// Applies `edits` to `src` after checking that they fit it (inside the text, on character
/// boundaries, not overlapping), so that a document that does not belong to `src` gives an
/// error instead of a panic.
pub(crate) fn apply_checked<T: text::EditText>(
    src: &str,
    mut edits: Vec<(Span, T)>,
    format: &'static str,
) -> Result<String, EmitError> {
    text::sort_edits(&mut edits, |s| (s.start, s.end));
    let mut pos = 0;
    for (s, _) in &edits {
        let fits = s.start >= pos && s.start <= s.end && s.end <= src.len();
        if !fits || !src.is_char_boundary(s.start) || !src.is_char_boundary(s.end) {
            return Err(EmitError { format, message: "the document does not match the source text".into() });
        }
        pos = s.end;
    }
    Ok(text::apply_edits(src, &mut edits))
}

fn mismatch() -> EmitError {
    emit_error("the document does not match the source text")
}

fn emit_error(message: impl Into<String>) -> EmitError {
    EmitError { format: "json", message: message.into() }
}

/// Offset of the top-level `{` (after an optional BOM and whitespace), checked against `root`.
fn object_open(src: &str, root: &Root) -> Result<usize, EmitError> {
    let body = src.strip_prefix(UTF8_BOM).unwrap_or(src);
    let open = src.len() - body.trim_start_matches([' ', '\t', '\n', '\r']).len();
    let b = src.as_bytes();
    if b.get(open) == Some(&b'{') && b.get(root.end) == Some(&b'}') && open < root.end {
        Ok(open)
    } else {
        Err(mismatch())
    }
}

/// The separator between a member's key and its value as the file writes it (`": "`,
/// `":"`, ...), scanning the key string that starts at `key_start`.
fn colon_of(src: &str, key_start: usize) -> &str {
    let b = src.as_bytes();
    let mut i = key_start + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    let from = i + 1;
    let mut to = from;
    while matches!(b.get(to), Some(b' ' | b'\t' | b':')) {
        to += 1;
    }
    match src.get(from..to) {
        Some(sep) if sep.matches(':').count() == 1 => sep,
        _ => ": ",
    }
}

/// A step of a key path: a member's key or an item's index.
enum Step<'d> {
    Key(&'d str),
    Index(usize),
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Key(k) => f.write_str(k),
            Step::Index(i) => write!(f, "{i}"),
        }
    }
}

fn leaf_edits<'d>(
    node: &'d Node,
    path: &mut Vec<Step<'d>>,
    edits: &mut Vec<(Span, Cow<'d, str>)>,
) -> Result<(), EmitError> {
    match node.resolved() {
        Node::Leaf(leaf) if leaf.changed => {
            let (span, text) = match (&leaf.literal, &leaf.value) {
                // The source text of a string the envelope restores (escapes as written).
                (Some(l), Scalar::Str(_)) if l.starts_with('"') => (leaf.span, Cow::Borrowed(l.as_str())),
                (Some(l), Scalar::Int(_) | Scalar::Float(_)) if same_number(l, &leaf.value) => {
                    (leaf.span, Cow::Borrowed(l.as_str()))
                }
                // A string in place of a string, with nothing to escape (an encrypted value):
                // only the text between the quotes changes.
                (_, Scalar::Str(s))
                    if leaf.style == Style::DoubleQuoted && leaf.span.end - leaf.span.start >= 2 && plain_json(s) =>
                {
                    (Span::new(leaf.span.start + 1, leaf.span.end - 1), Cow::Borrowed(s.as_str()))
                }
                _ => match scalar_json(&leaf.value, &[]) {
                    Ok(text) => (leaf.span, Cow::Owned(text)),
                    // Only the error names the key path.
                    Err(_) => {
                        return Err(scalar_json(&leaf.value, &path.iter().map(ToString::to_string).collect::<Vec<_>>())
                            .err()
                            .unwrap_or_else(mismatch))
                    }
                },
            };
            edits.push((span, text));
        }
        // JSON has no aliases.
        Node::Alias(_) => {}
        Node::Leaf(_) => {}
        Node::Map(items) => {
            for e in items.iter().filter_map(MapItem::entry) {
                path.push(Step::Key(&e.key));
                leaf_edits(&e.value, path, edits)?;
                path.pop();
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if let SeqItem::Node { node, .. } = item {
                    path.push(Step::Index(i));
                    leaf_edits(node, path, edits)?;
                    path.pop();
                }
            }
        }
    }
    Ok(())
}

/// Edits that take the removed top-level members out: with the comma and whitespace before
/// them, or, for leading members, up to the first kept member; when nothing is kept, the
/// whole interior up to the last removed value and one newline after it.
fn removal_edits(src: &str, open: usize, entries: &[&Entry], removed: &[bool], edits: &mut Vec<(Span, Cow<'_, str>)>) {
    let Some(first_kept) = removed.iter().position(|r| !r) else {
        if let Some(last) = entries.last() {
            let rest = src.get(last.span.end..).unwrap_or("");
            let newline = if rest.starts_with("\r\n") { 2 } else { usize::from(rest.starts_with('\n')) };
            edits.push((Span::new(open + 1, last.span.end + newline), Cow::Borrowed("")));
        }
        return;
    };
    if first_kept > 0 {
        edits.push((Span::new(entries[0].span.start, entries[first_kept].span.start), Cow::Borrowed("")));
    }
    for k in first_kept + 1..entries.len() {
        if removed[k] {
            edits.push((Span::new(entries[k - 1].span.end, entries[k].span.end), Cow::Borrowed("")));
        }
    }
}

/// The edit that appends `"sops": <meta>` as the last top-level member.
fn insertion(
    src: &str,
    open: usize,
    entries: &[&Entry],
    removed: &[bool],
    meta: &Value,
    indent: Option<usize>,
) -> Result<(Span, String), EmitError> {
    let unit = indent.map_or_else(|| indent_unit(src).unwrap_or("\t").to_string(), |n| " ".repeat(n));
    let last_kept = entries.iter().zip(removed).rev().find(|(_, &r)| !r).map(|(e, _)| e);
    let (Some(last), Some(first)) = (last_kept, entries.first()) else {
        let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
        let layout = Layout { nl, base: unit.clone(), unit, colon: ": " };
        let text = format!("{nl}{}{}{nl}", layout.base, layout.member("sops", meta)?);
        return Ok((Span::new(open + 1, open + 1), text));
    };
    let sep = src.get(open + 1..first.span.start).ok_or_else(mismatch)?;
    let colon = colon_of(src, first.span.start);
    let layout = match sep.rfind('\n') {
        Some(i) => {
            let nl = if sep.contains("\r\n") { "\r\n" } else { "\n" };
            Layout { nl, unit, base: sep[i + 1..].to_string(), colon }
        }
        None => Layout { nl: "", unit: String::new(), base: String::new(), colon },
    };
    let text = format!(",{sep}{}", layout.member("sops", meta)?);
    Ok((Span::new(last.span.end, last.span.end), text))
}

// ---------------------------------------------------------------------------------------------
// Serializer

/// A value as JSON text, for other codecs that embed JSON (YAML flow mappings): on one line, or
/// on several lines indented by `unit` per level below `base`.
pub(crate) fn value_text(value: &Value, multiline: bool, base: &str, unit: &str) -> Result<String, EmitError> {
    let layout =
        Layout { nl: if multiline { "\n" } else { "" }, unit: unit.to_string(), base: base.to_string(), colon: ": " };
    let mut out = String::new();
    layout.value(value, 0, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// How new JSON text is laid out. An empty `nl` writes minified JSON.
struct Layout<'a> {
    nl: &'a str,
    unit: String,
    /// Indentation of the level the value is written at.
    base: String,
    colon: &'a str,
}

impl Layout<'_> {
    /// `"key": value` at level 0.
    fn member(&self, key: &str, value: &Value) -> Result<String, EmitError> {
        let mut out = quote(key);
        out.push_str(self.colon);
        self.value(value, 0, &mut vec![key.to_string()], &mut out)?;
        Ok(out)
    }

    fn value(&self, v: &Value, level: usize, path: &mut Vec<String>, out: &mut String) -> Result<(), EmitError> {
        match v {
            Value::Scalar(s) => out.push_str(&scalar_json(s, path)?),
            Value::Map(items) if items.is_empty() => out.push_str("{}"),
            Value::Seq(items) if items.is_empty() => out.push_str("[]"),
            Value::Map(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    self.item_start(i, level + 1, out);
                    out.push_str(&quote(k));
                    out.push_str(self.colon);
                    path.push(k.clone());
                    self.value(v, level + 1, path, out)?;
                    path.pop();
                }
                self.newline(level, out);
                out.push('}');
            }
            Value::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    self.item_start(i, level + 1, out);
                    path.push(i.to_string());
                    self.value(v, level + 1, path, out)?;
                    path.pop();
                }
                self.newline(level, out);
                out.push(']');
            }
        }
        Ok(())
    }

    fn item_start(&self, i: usize, level: usize, out: &mut String) {
        if i > 0 {
            out.push(',');
        }
        self.newline(level, out);
    }

    fn newline(&self, level: usize, out: &mut String) {
        if self.nl.is_empty() {
            return;
        }
        out.push_str(self.nl);
        out.push_str(&self.base);
        for _ in 0..level {
            out.push_str(&self.unit);
        }
    }
}

/// What writing `leaf` back decrypted gives, when its value is encrypted as `payload`: strings
/// with minimal escapes, numbers as their payload when it reads as the value.
pub(crate) fn decrypted_text(leaf: &Leaf, payload: Option<&str>) -> Option<String> {
    match (&leaf.value, payload) {
        (Scalar::Int(_) | Scalar::Float(_), Some(p)) if same_number(p, &leaf.value) => Some(p.to_string()),
        (value, _) => scalar_json(value, &[]).ok(),
    }
}

/// Whether [`decrypted_text`] differs from `source`, found without making the text for a string
/// with nothing to escape, a number written as its payload, a boolean or a null.
pub(crate) fn decrypted_text_differs(leaf: &Leaf, payload: Option<&str>, source: &str) -> Option<bool> {
    let same = match (&leaf.value, payload) {
        (Scalar::Str(s), _) if plain_json(s) => {
            source.len() == s.len() + 2
                && source.starts_with('"')
                && source.ends_with('"')
                && &source[1..source.len() - 1] == s
        }
        (Scalar::Int(_) | Scalar::Float(_), Some(p)) if same_number(p, &leaf.value) => p == source,
        (Scalar::Bool(b), _) => source == if *b { "true" } else { "false" },
        (Scalar::Null, _) => source == "null",
        _ => {
            let mut text = decrypted_text(leaf, payload)?;
            let same = text == source;
            zeroize::Zeroize::zeroize(&mut text);
            same
        }
    };
    Some(!same)
}

/// Whether `s` goes between JSON quotes as it is, with nothing to escape.
pub(super) fn plain_json(s: &str) -> bool {
    // A block at a time without branches inside it, so that the loop runs on vectors (a byte at
    // a time, this and `quote` were an eighth of a large JSON file's encryption).
    s.as_bytes().chunks(64).all(|block| block.iter().fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\')))
}

/// A scalar as JSON text. Floats keep a fraction so that they read back as floats; NaN and
/// infinities have no JSON form.
pub(super) fn scalar_json(s: &Scalar, path: &[String]) -> Result<String, EmitError> {
    Ok(match s {
        Scalar::Null => "null".to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        // As Go's encoding/json writes a float64 (what sops prints): shortest digits, fixed
        // notation between 1e-6 and 1e21, otherwise an exponent with a sign (`1e+21`).
        Scalar::Float(f) if f.is_finite() => {
            let a = f.abs();
            if a != 0.0 && !(1e-6..1e21).contains(&a) {
                let t = format!("{f:e}");
                match t.split_once('e') {
                    Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
                    _ => t,
                }
            } else {
                format_float(*f)
            }
        }
        Scalar::Float(_) => {
            return Err(emit_error(format!(
                "key path {} holds NaN or infinity, which JSON cannot represent",
                path.join(":")
            )))
        }
        Scalar::Str(s) | Scalar::Time(s) => quote(s),
    })
}

/// A JSON string literal with minimal escaping (no HTML escaping, `/` and non-ASCII raw).
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    if plain_json(s) {
        out.push_str(s);
        out.push('"');
        return out;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
