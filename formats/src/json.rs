//! JSON codec: a hand-written, single-pass scanner that records the byte span of every value,
//! span-replacement writing that keeps the file's layout byte for byte, and a fresh emitter
//! (tab indent by default, like sops).
//!
//! The scanner is iterative (an explicit stack of open containers), so deep nesting cannot
//! overflow the call stack; nesting deeper than [`MAX_DEPTH`] is rejected anyway because the
//! rest of the pipeline walks trees recursively.

use crate::model::{Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, SeqItem, Span, Style};
use crate::scalar::format_float;
use crate::text;
use crate::value::Value;
use crate::{EmitError, ParseError, WriteOptions};

/// Deepest nesting of objects and arrays accepted.
const MAX_DEPTH: usize = 1000;

const UTF8_BOM: &str = "\u{FEFF}";

/// Parses a JSON file whose top level must be an object.
pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    let mut p = Parser { src, b: src.as_bytes(), pos: 0, stack: Vec::new() };
    p.pos = src.strip_prefix(UTF8_BOM).map_or(0, |_| UTF8_BOM.len());
    p.skip_ws();
    if p.peek() != Some(b'{') {
        return Err(p.err(p.pos, "expected a JSON object at the top level"));
    }
    let node = p.value()?;
    let end = p.pos - 1;
    p.skip_ws();
    if p.pos < src.len() {
        return Err(p.err(p.pos, "unexpected data after the top-level object"));
    }
    let indent = indent_unit(src).filter(|u| u.bytes().all(|b| b == b' ')).map(str::len);
    Ok(Document { format: Format::Json, roots: vec![Root { node, end }], indent })
}

/// Writes `doc` back into `src`'s layout: changed leaves are replaced in place, the top-level
/// `sops` member is removed and/or appended as `opts` says, every other byte is kept.
pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let root = doc.roots.first().ok_or_else(mismatch)?;
    let Node::Map(items) = &root.node else { return Err(mismatch()) };
    let open = object_open(src, root)?;
    let entries: Vec<&Entry> = items.iter().filter_map(as_entry).collect();
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let removed: Vec<bool> = entries.iter().map(|e| drop_meta && e.key == "sops").collect();
    let mut edits = Vec::new();
    let mut path = Vec::new();
    for (entry, _) in entries.iter().zip(&removed).filter(|(_, &r)| !r) {
        path.push(entry.key.clone());
        leaf_edits(&entry.value, &mut path, &mut edits)?;
        path.pop();
    }
    removal_edits(src, open, &entries, &removed, &mut edits);
    if let Some(meta) = opts.metadata {
        edits.push(insertion(src, open, &entries, &removed, meta, opts.indent)?);
    }
    apply_checked(src, edits, "json")
}

/// Writes `doc` as a new JSON file: `opts.indent` spaces per level (a tab by default), a
/// trailing newline, comments dropped, metadata (if any) as the last top-level member.
pub(crate) fn emit(doc: &Document, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let mut members: Vec<(String, Value)> = match doc.roots.first().map(|r| &r.node) {
        None => Vec::new(),
        Some(Node::Map(items)) => items
            .iter()
            .filter_map(as_entry)
            .filter(|e| !(drop_meta && e.key == "sops"))
            .map(|e| (e.key.clone(), Value::from_node(&e.value)))
            .collect(),
        Some(_) => return Err(emit_error("the top level is not a mapping")),
    };
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
pub(crate) fn apply_checked(
    src: &str,
    mut edits: Vec<(Span, String)>,
    format: &'static str,
) -> Result<String, EmitError> {
    edits.sort_by_key(|(s, _)| (s.start, s.end));
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

fn as_entry(item: &MapItem) -> Option<&Entry> {
    match item {
        MapItem::Entry(e) => Some(e),
        MapItem::Comment(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Scanner

/// An object or array whose closing bracket has not been read yet.
enum Frame {
    Map { start: usize, items: Vec<MapItem>, key: String, key_start: usize },
    Seq { start: usize, items: Vec<SeqItem> },
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    stack: Vec<Frame>,
}

impl Parser<'_> {
    fn err(&self, at: usize, msg: &str) -> ParseError {
        ParseError::at(self.src, at, msg)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Reads one complete value (with everything nested in it) starting at `pos`.
    fn value(&mut self) -> Result<Node, ParseError> {
        loop {
            self.skip_ws();
            let start = self.pos;
            let finished = match self.peek() {
                Some(b'{') => self.open_map()?,
                Some(b'[') => self.open_seq()?,
                _ => Some(self.scalar()?),
            };
            let Some(mut node) = finished else { continue };
            let mut node_start = start;
            loop {
                if self.stack.is_empty() {
                    return Ok(node);
                }
                match self.attach(node, node_start)? {
                    Some((closed, closed_start)) => (node, node_start) = (closed, closed_start),
                    None => break,
                }
            }
        }
    }

    fn push(&mut self, frame: Frame) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.err(self.pos, "nesting too deep"));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// At `{`: an empty object is returned at once, otherwise a frame is opened and its first
    /// key read.
    fn open_map(&mut self) -> Result<Option<Node>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Some(Node::Map(Vec::new())));
        }
        self.push(Frame::Map { start, items: Vec::new(), key: String::new(), key_start: 0 })?;
        self.key()?;
        Ok(None)
    }

    fn open_seq(&mut self) -> Result<Option<Node>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Some(Node::Seq(Vec::new())));
        }
        self.push(Frame::Seq { start, items: Vec::new() })?;
        Ok(None)
    }

    /// Reads `"key" :` into the innermost (object) frame.
    fn key(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.err(self.pos, "unexpected end of input, expected a string key")),
            Some(_) => return Err(self.err(self.pos, "expected a string key")),
        }
        let key_start = self.pos;
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.err(self.pos, "expected ':' after the key"));
        }
        self.pos += 1;
        if let Some(Frame::Map { key: k, key_start: ks, .. }) = self.stack.last_mut() {
            *k = key;
            *ks = key_start;
        }
        Ok(())
    }

    /// Adds a finished value to the innermost open container and reads what follows it: a
    /// `,` (then the next key, for objects) or the closing bracket. Returns the container when
    /// it closed, with its start offset.
    fn attach(&mut self, node: Node, start: usize) -> Result<Option<(Node, usize)>, ParseError> {
        let end = self.pos;
        self.skip_ws();
        let next = self.peek();
        let is_map = match self.stack.last_mut() {
            Some(Frame::Map { items, key, key_start, .. }) => {
                let key = std::mem::take(key);
                items.push(MapItem::Entry(Entry { key, span: Span::new(*key_start, end), value: node }));
                true
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(SeqItem::Node { start, node });
                false
            }
            None => return Ok(Some((node, start))),
        };
        match (next, is_map) {
            (Some(b','), true) => {
                self.pos += 1;
                self.key().map(|_| None)
            }
            (Some(b','), false) => {
                self.pos += 1;
                Ok(None)
            }
            (Some(b'}'), true) | (Some(b']'), false) => {
                self.pos += 1;
                Ok(self.close())
            }
            (None, _) => Err(self.err(self.pos, "unexpected end of input inside an object or array")),
            (_, true) => Err(self.err(self.pos, "expected ',' or '}' after an object member")),
            (_, false) => Err(self.err(self.pos, "expected ',' or ']' after an array element")),
        }
    }

    fn close(&mut self) -> Option<(Node, usize)> {
        match self.stack.pop()? {
            Frame::Map { start, items, .. } => Some((Node::Map(items), start)),
            Frame::Seq { start, items } => Some((Node::Seq(items), start)),
        }
    }

    fn scalar(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        let (value, style) = match self.peek() {
            Some(b'"') => (Scalar::Str(self.string()?), Style::DoubleQuoted),
            Some(b't') => (self.literal("true", Scalar::Bool(true))?, Style::Plain),
            Some(b'f') => (self.literal("false", Scalar::Bool(false))?, Style::Plain),
            Some(b'n') => (self.literal("null", Scalar::Null)?, Style::Plain),
            Some(b'-' | b'0'..=b'9') => (self.number()?, Style::Plain),
            Some(_) => return Err(self.err(start, "unexpected character, expected a JSON value")),
            None => return Err(self.err(start, "unexpected end of input, expected a JSON value")),
        };
        let span = Span::new(start, self.pos);
        let literal = matches!(value, Scalar::Int(_) | Scalar::Float(_)).then(|| self.src[start..self.pos].to_string());
        Ok(Node::Leaf(Leaf { value, span, style, indent: 0, changed: false, in_flow: false, literal }))
    }

    fn literal(&mut self, word: &str, value: Scalar) -> Result<Scalar, ParseError> {
        if self.b.get(self.pos..).is_some_and(|rest| rest.starts_with(word.as_bytes())) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err(self.pos, "invalid literal, expected true, false or null"))
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<Scalar, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.err(start, "invalid number: leading zeros are not allowed"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err(self.pos, "invalid number: expected a digit")),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if self.digits() == 0 {
                return Err(self.err(self.pos, "invalid number: expected a digit after '.'"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err(self.pos, "invalid number: expected a digit in the exponent"));
            }
        }
        self.number_value(start, float)
    }

    fn number_value(&self, start: usize, float: bool) -> Result<Scalar, ParseError> {
        let literal = &self.src[start..self.pos];
        // `-0` is kept a float: as an integer it would lose its sign.
        // Integers beyond 2^53 are floats, as sops (<= 3.13.1) reads every JSON number: its MAC
        // covers the float's digits, which for such integers differ from the integer's.
        if !float && literal != "-0" {
            if let Ok(i) = literal.parse::<i64>() {
                if i.unsigned_abs() <= 1 << 53 {
                    return Ok(Scalar::Int(i));
                }
            }
        }
        match literal.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Scalar::Float(f)),
            _ => Err(self.err(start, "number out of range")),
        }
    }

    /// Reads a string at its opening quote, decoding escapes.
    fn string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.err(open, "unterminated string")),
                Some(b'"') => {
                    out.push_str(&self.src[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.src[run..self.pos]);
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                Some(0..=0x1f) => return Err(self.err(self.pos, "control character in string (must be escaped)")),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Decodes one escape sequence at its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let at = self.pos;
        let decoded = match self.b.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(out),
            None => return Err(self.err(at, "unterminated string")),
            Some(_) => return Err(self.err(at, "invalid escape sequence")),
        };
        out.push(decoded);
        self.pos += 2;
        Ok(())
    }

    /// Decodes `\uXXXX`, or a surrogate pair `\uD8XX\uDCXX`.
    fn unicode_escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let at = self.pos;
        let high = self.hex4(at + 2)?;
        self.pos = at + 6;
        let code = match high {
            0xD800..=0xDBFF => {
                let low = match self.b.get(self.pos..self.pos + 2) {
                    Some(b"\\u") => self.hex4(self.pos + 2)?,
                    _ => return Err(self.err(at, "lone surrogate in \\u escape")),
                };
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.err(at, "lone surrogate in \\u escape"));
                }
                self.pos += 6;
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.err(at, "lone surrogate in \\u escape")),
            _ => high,
        };
        let c = char::from_u32(code).ok_or_else(|| self.err(at, "invalid \\u escape"))?;
        out.push(c);
        Ok(())
    }

    fn hex4(&self, at: usize) -> Result<u32, ParseError> {
        let bad = || self.err(at, "invalid \\u escape: expected 4 hex digits");
        let digits = self.b.get(at..at + 4).ok_or_else(bad)?;
        digits.iter().try_fold(0u32, |acc, &d| Ok(acc * 16 + (d as char).to_digit(16).ok_or_else(bad)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Layout of an existing file

/// The indentation unit of the file: the leading whitespace of the first indented line.
fn indent_unit(src: &str) -> Option<&str> {
    src.split('\n').skip(1).find_map(|line| {
        let rest = line.trim_start_matches([' ', '\t']);
        let ws = &line[..line.len() - rest.len()];
        (!ws.is_empty() && !rest.is_empty() && rest != "\r").then_some(ws)
    })
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

fn leaf_edits(node: &Node, path: &mut Vec<String>, edits: &mut Vec<(Span, String)>) -> Result<(), EmitError> {
    match node.resolved() {
        Node::Leaf(leaf) if leaf.changed => {
            let text = match (&leaf.literal, &leaf.value) {
                // The source text of a string the envelope restores (escapes as written).
                (Some(l), Scalar::Str(_)) if l.starts_with('"') => l.clone(),
                (Some(l), Scalar::Int(_) | Scalar::Float(_)) if same_number(l, &leaf.value) => l.clone(),
                _ => scalar_json(&leaf.value, path)?,
            };
            edits.push((leaf.span, text));
        }
        // JSON has no aliases.
        Node::Alias(_) => {}
        Node::Leaf(_) => {}
        Node::Map(items) => {
            for e in items.iter().filter_map(as_entry) {
                path.push(e.key.clone());
                leaf_edits(&e.value, path, edits)?;
                path.pop();
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if let SeqItem::Node { node, .. } = item {
                    path.push(i.to_string());
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
fn removal_edits(src: &str, open: usize, entries: &[&Entry], removed: &[bool], edits: &mut Vec<(Span, String)>) {
    let Some(first_kept) = removed.iter().position(|r| !r) else {
        if let Some(last) = entries.last() {
            let rest = src.get(last.span.end..).unwrap_or("");
            let newline = if rest.starts_with("\r\n") { 2 } else { usize::from(rest.starts_with('\n')) };
            edits.push((Span::new(open + 1, last.span.end + newline), String::new()));
        }
        return;
    };
    if first_kept > 0 {
        edits.push((Span::new(entries[0].span.start, entries[first_kept].span.start), String::new()));
    }
    for k in first_kept + 1..entries.len() {
        if removed[k] {
            edits.push((Span::new(entries[k - 1].span.end, entries[k].span.end), String::new()));
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

/// True when `literal` is a JSON number with exactly this value (and type).
fn same_number(literal: &str, value: &Scalar) -> bool {
    let mut p = Parser { src: literal, b: literal.as_bytes(), pos: 0, stack: Vec::new() };
    let Ok(doc) = p.scalar() else { return false };
    if p.pos != literal.len() {
        return false;
    }
    match (doc, value) {
        (Node::Leaf(Leaf { value: Scalar::Int(a), .. }), Scalar::Int(b)) => a == *b,
        (Node::Leaf(Leaf { value: Scalar::Float(a), .. }), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
        _ => false,
    }
}

/// A scalar as JSON text. Floats keep a fraction so that they read back as floats; NaN and
/// infinities have no JSON form.
fn scalar_json(s: &Scalar, path: &[String]) -> Result<String, EmitError> {
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
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
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

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> WriteOptions<'static> {
        WriteOptions::default()
    }

    fn entries(doc: &Document) -> Vec<&Entry> {
        match &doc.roots[0].node {
            Node::Map(items) => items.iter().filter_map(as_entry).collect(),
            _ => panic!("root is not a map"),
        }
    }

    fn leaf<'a>(doc: &'a Document, key: &str) -> &'a Leaf {
        match &doc.roots[0].node.get(key).expect("key").value {
            Node::Leaf(l) => l,
            _ => panic!("not a leaf"),
        }
    }

    fn set(doc: &mut Document, key: &str, value: Scalar) {
        let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
        for item in items {
            if let MapItem::Entry(Entry { key: k, value: Node::Leaf(l), .. }) = item {
                if k == key {
                    l.value = value.clone();
                    l.changed = true;
                }
            }
        }
    }

    fn meta() -> Value {
        Value::Map(vec![
            (
                "age".into(),
                Value::Seq(vec![Value::Map(vec![
                    ("recipient".into(), Value::str("age1xyz")),
                    ("enc".into(), Value::str("-----BEGIN AGE-----\nabc\n-----END AGE-----\n")),
                ])]),
            ),
            ("lastmodified".into(), Value::str("2024-01-02T03:04:05Z")),
            ("mac".into(), Value::str("ENC[x]")),
            ("version".into(), Value::str("3.11.0")),
        ])
    }

    const LAYOUTS: &[&str] = &[
        "{\n\t\"a\": \"x\",\n\t\"b\": {\n\t\t\"c\": [1, 2.5, true, null]\n\t}\n}\n",
        "{\n  \"a\": \"x\",\n  \"b\": {\n    \"c\": [1, 2.5, true, null]\n  }\n}\n",
        "{\n    \"a\": \"x\",\n    \"b\": {\n        \"c\": [1, 2.5, true, null]\n    }\n}\n",
        "{\"a\":\"x\",\"b\":{\"c\":[1,2.5,true,null]}}",
        "{ \"a\" : \"x\" , \"b\" : { } }",
        "{\r\n  \"a\": \"x\",\r\n  \"b\": [\r\n    1\r\n  ]\r\n}\r\n",
        "{\n  \"a\": \"x\"\n}",
        "\u{FEFF}{\n\t\"a\": \"é\"\n}\n",
        "{}",
        "{ }",
        "{\n}\n",
        "  {}  \n",
        "{\n\"a\": 1,\n\"b\": {\n  \"c\": 2\n}\n}\n",
    ];

    #[test]
    fn unchanged_round_trip_is_identical() {
        for src in LAYOUTS {
            let doc = parse(src).unwrap();
            assert_eq!(write(&doc, src, opts()).unwrap(), *src);
        }
    }

    #[test]
    fn metadata_insert_then_strip_is_identity() {
        let m = meta();
        for src in LAYOUTS {
            let doc = parse(src).unwrap();
            let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            let parsed = parse(&with).unwrap_or_else(|e| panic!("{e}: {with}"));
            assert_eq!(crate::metadata(&parsed), Some(m.clone()), "{with}");
            assert_eq!(entries(&parsed).last().unwrap().key, "sops");
            let stripped = write(&parsed, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
            assert_eq!(stripped, *src, "{with}");
            // Re-encrypting: old metadata replaced, not duplicated.
            let again = write(&parsed, &with, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            assert_eq!(again, with);
        }
    }

    #[test]
    fn metadata_follows_the_file_layout() {
        let m = Value::Map(vec![("a".into(), Value::Seq(vec![Value::str("x")])), ("v".into(), Value::str("1"))]);
        let with = |src: &str, indent: Option<usize>| {
            let doc = parse(src).unwrap();
            write(&doc, src, WriteOptions { metadata: Some(&m), indent, ..opts() }).unwrap()
        };
        assert_eq!(
            with("{\n\t\"k\": 1\n}\n", None),
            "{\n\t\"k\": 1,\n\t\"sops\": {\n\t\t\"a\": [\n\t\t\t\"x\"\n\t\t],\n\t\t\"v\": \"1\"\n\t}\n}\n"
        );
        assert_eq!(
            with("{\n  \"k\": 1\n}", None),
            "{\n  \"k\": 1,\n  \"sops\": {\n    \"a\": [\n      \"x\"\n    ],\n    \"v\": \"1\"\n  }\n}"
        );
        assert_eq!(
            with("{\n  \"k\": 1\n}", Some(4)),
            "{\n  \"k\": 1,\n  \"sops\": {\n      \"a\": [\n          \"x\"\n      ],\n      \"v\": \"1\"\n  }\n}"
        );
        assert_eq!(with("{\"k\":1}", None), "{\"k\":1,\"sops\":{\"a\":[\"x\"],\"v\":\"1\"}}");
        assert_eq!(with("{}", None), "{\n\t\"sops\": {\n\t\t\"a\": [\n\t\t\t\"x\"\n\t\t],\n\t\t\"v\": \"1\"\n\t}\n}");
        assert_eq!(with("{\r\n  \"k\": 1\r\n}\r\n", None).matches("\r\n").count(), 9);
    }

    #[test]
    fn strip_removes_sops_anywhere() {
        let cases = [
            ("{\n  \"sops\": {},\n  \"a\": 1\n}", "{\n  \"a\": 1\n}"),
            ("{\"a\":1,\"sops\":{\"x\":[1]},\"b\":2}", "{\"a\":1,\"b\":2}"),
            ("{\"sops\":1,\"sops\":2}", "{}"),
            ("{\"sops\":1,\"a\":1,\"sops\":2}", "{\"a\":1}"),
            ("{\"a\":{\"sops\":1}}", "{\"a\":{\"sops\":1}}"),
        ];
        for (src, want) in cases {
            let doc = parse(src).unwrap();
            assert_eq!(write(&doc, src, WriteOptions { strip_metadata: true, ..opts() }).unwrap(), want);
        }
    }

    #[test]
    fn changed_leaf_replaces_only_its_span() {
        let src = "{\n  \"a\": \"x\",  \"n\": 1.50, \"b\": true,\n  \"z\": null\n}\n";
        let mut doc = parse(src).unwrap();
        set(&mut doc, "n", Scalar::Str("ENC[a\"b]".into()));
        assert_eq!(write(&doc, src, opts()).unwrap(), src.replace("1.50", "\"ENC[a\\\"b]\""));
        set(&mut doc, "a", Scalar::Float(1.0));
        set(&mut doc, "b", Scalar::Int(-7));
        set(&mut doc, "z", Scalar::Time("2024-01-02T03:04:05Z".into()));
        let out = write(&doc, src, opts()).unwrap();
        assert_eq!(out, "{\n  \"a\": 1,  \"n\": \"ENC[a\\\"b]\", \"b\": -7,\n  \"z\": \"2024-01-02T03:04:05Z\"\n}\n");
    }

    #[test]
    fn decrypted_text_is_what_write_produces() {
        let doc = parse("{\"a\": \"caf\\u00e9\", \"n\": 1.50, \"m\": 7}").unwrap();
        assert_eq!(decrypted_text(leaf(&doc, "a"), None).unwrap(), "\"café\"");
        assert_eq!(decrypted_text(leaf(&doc, "n"), Some("1.50")).unwrap(), "1.50");
        assert_eq!(decrypted_text(leaf(&doc, "m"), Some("7")).unwrap(), "7");
    }

    #[test]
    fn nan_cannot_be_written() {
        let src = "{\"secret\": 1}";
        let mut doc = parse(src).unwrap();
        set(&mut doc, "secret", Scalar::Float(f64::NAN));
        let err = write(&doc, src, opts()).unwrap_err();
        assert!(err.message.contains("secret") && err.message.contains("NaN"), "{}", err.message);
        set(&mut doc, "secret", Scalar::Float(f64::INFINITY));
        assert!(emit(&doc, opts()).is_err());
    }

    #[test]
    fn scalars_and_spans() {
        let src = "{\"s\": \"q\", \"i\": -42, \"big\": 12345678901234567890, \"f\": 1e3, \"z\": -0,\n \"t\": true, \"f2\": false, \"n\": null, \"l\": [1, {\"x\": 2}]}";
        let doc = parse(src).unwrap();
        assert!(matches!(leaf(&doc, "s").value, Scalar::Str(ref s) if s == "q"));
        assert_eq!(leaf(&doc, "s").style, Style::DoubleQuoted);
        assert_eq!(&src[leaf(&doc, "s").span.start..leaf(&doc, "s").span.end], "\"q\"");
        assert!(matches!(leaf(&doc, "i").value, Scalar::Int(-42)));
        assert_eq!(leaf(&doc, "i").style, Style::Plain);
        assert!(matches!(leaf(&doc, "big").value, Scalar::Float(f) if f == 12345678901234567890.0));
        assert!(matches!(leaf(&doc, "f").value, Scalar::Float(f) if f == 1000.0));
        assert!(matches!(leaf(&doc, "z").value, Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(matches!(leaf(&doc, "t").value, Scalar::Bool(true)));
        assert!(matches!(leaf(&doc, "f2").value, Scalar::Bool(false)));
        assert!(matches!(leaf(&doc, "n").value, Scalar::Null));
        let e = doc.roots[0].node.get("l").unwrap();
        assert_eq!(&src[e.span.start..e.span.end], "\"l\": [1, {\"x\": 2}]");
        let Node::Seq(items) = &e.value else { panic!() };
        let starts: Vec<usize> =
            items.iter().map(|i| if let SeqItem::Node { start, .. } = i { *start } else { 0 }).collect();
        assert_eq!(&src[starts[0]..starts[0] + 1], "1");
        assert_eq!(&src[starts[1]..starts[1] + 1], "{");
        assert_eq!(doc.roots[0].end, src.len() - 1);
        assert_eq!(doc.format, Format::Json);
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let doc = parse("{\"a\": 1, \"a\": 2}").unwrap();
        assert_eq!(entries(&doc).len(), 2);
    }

    #[test]
    fn indent_is_detected() {
        assert_eq!(parse(LAYOUTS[0]).unwrap().indent, None);
        assert_eq!(parse(LAYOUTS[1]).unwrap().indent, Some(2));
        assert_eq!(parse(LAYOUTS[2]).unwrap().indent, Some(4));
        assert_eq!(parse(LAYOUTS[3]).unwrap().indent, None);
        assert_eq!(parse(LAYOUTS[12]).unwrap().indent, Some(2));
    }

    #[test]
    fn escapes_decode_and_encode() {
        let src = r#"{"k\"ey": "\"\\\/\b\f\n\r\t\u00e9\u0001\ud83d\ude00 é/<>&"}"#;
        let doc = parse(src).unwrap();
        let e = entries(&doc)[0];
        assert_eq!(e.key, "k\"ey");
        let Node::Leaf(l) = &e.value else { panic!() };
        let want = "\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1}\u{1F600} é/<>&";
        assert!(matches!(&l.value, Scalar::Str(s) if s == want));
        assert_eq!(quote(want), r#""\"\\/\b\f\n\r\té\u0001😀 é/<>&""#);
        let back = parse(&format!("{{\"k\": {}}}", quote(want))).unwrap();
        assert!(matches!(&leaf(&back, "k").value, Scalar::Str(s) if s == want));
    }

    #[test]
    fn floats_are_written_as_go_and_sops_write_them() {
        let f = |v: f64| scalar_json(&Scalar::Float(v), &[]).unwrap();
        assert_eq!(f(1.0), "1");
        assert_eq!(f(0.5), "0.5");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(1e15), "1000000000000000");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e-7), "1e-7");
        let back = parse(&format!("{{\"x\": {}}}", f(1.5e300))).unwrap();
        assert!(matches!(leaf(&back, "x").value, Scalar::Float(v) if v == 1.5e300));
    }

    #[test]
    fn emit_writes_tabs_or_spaces_and_metadata() {
        let src = "{\"a\": \"x\", \"b\": {\"c\": [1, 2.5, {}], \"d\": []}, \"sops\": {\"old\": 1}}";
        let doc = parse(src).unwrap();
        assert_eq!(
            emit(&doc, opts()).unwrap(),
            "{\n\t\"a\": \"x\",\n\t\"b\": {\n\t\t\"c\": [\n\t\t\t1,\n\t\t\t2.5,\n\t\t\t{}\n\t\t],\n\t\t\"d\": []\n\t},\n\t\"sops\": {\n\t\t\"old\": 1\n\t}\n}\n"
        );
        let m = Value::Map(vec![("v".into(), Value::str("1"))]);
        let out = emit(&doc, WriteOptions { metadata: Some(&m), indent: Some(2), ..opts() }).unwrap();
        assert!(out.starts_with("{\n  \"a\": \"x\",\n  \"b\": {\n    \"c\": [\n      1,"), "{out}");
        assert!(out.ends_with("  },\n  \"sops\": {\n    \"v\": \"1\"\n  }\n}\n"), "{out}");
        assert_eq!(out.matches("sops").count(), 1);
        let empty = Document { format: Format::Json, roots: vec![], indent: None };
        assert_eq!(emit(&empty, opts()).unwrap(), "{}\n");
    }

    #[test]
    fn foreign_documents_are_rejected_not_panicked() {
        let src = "{\"a\": \"x\"}";
        let mut doc = parse(src).unwrap();
        set(&mut doc, "a", Scalar::Int(1));
        assert!(write(&doc, "{}", opts()).is_err());
        assert!(write(&doc, "", opts()).is_err());
        let other = parse("{\"long\": \"é€😀\", \"b\": 1}").unwrap();
        assert!(write(&other, "{\"a\": \"x\"}", opts()).is_err());
    }

    #[test]
    fn malformed_input_is_rejected_with_position() {
        let bad: &[(&str, &str)] = &[
            ("", "top level"),
            ("   ", "top level"),
            ("[1, 2]", "top level"),
            ("\"s\"", "top level"),
            ("42", "top level"),
            ("{", "end of input"),
            ("{\"a\"", "':'"),
            ("{\"a\":", "end of input"),
            ("{\"a\": 1", "end of input"),
            ("{\"a\": 1,", "string key"),
            ("{\"a\": 1,}", "string key"),
            ("{\"a\" 1}", "':'"),
            ("{a: 1}", "string key"),
            ("{\"a\": [1, 2}", "']'"),
            ("{\"a\": [1,]}", "value"),
            ("{\"a\": 1 \"b\": 2}", "','"),
            ("{\"a\": 1}}", "after the top-level"),
            ("{\"a\": 1} x", "after the top-level"),
            ("{} {}", "after the top-level"),
            ("{\"a\": \"unterminated}", "unterminated"),
            ("{\"a\": \"bad \\x escape\"}", "escape"),
            ("{\"a\": \"\\u12g4\"}", "hex"),
            ("{\"a\": \"\\u12\"}", "hex"),
            ("{\"a\": \"\\ud800\"}", "surrogate"),
            ("{\"a\": \"\\ud800\\u0041\"}", "surrogate"),
            ("{\"a\": \"\\udc00\"}", "surrogate"),
            ("{\"a\": \"tab\there\"}", "control"),
            ("{\"a\": \"nl\nhere\"}", "control"),
            ("{\"a\": 01}", "leading zeros"),
            ("{\"a\": -}", "digit"),
            ("{\"a\": 1.}", "digit"),
            ("{\"a\": .5}", "unexpected character"),
            ("{\"a\": 1e}", "exponent"),
            ("{\"a\": 1e+}", "exponent"),
            ("{\"a\": +1}", "unexpected character"),
            ("{\"a\": 1e400}", "out of range"),
            ("{\"a\": tru}", "literal"),
            ("{\"a\": nul", "literal"),
            ("{\"a\": True}", "unexpected character"),
            ("{\"a\": truex}", "','"),
            ("{\"a\": NaN}", "unexpected character"),
            ("{\"a\": 'x'}", "unexpected character"),
            ("{\"a\": \"x\\", "unterminated"),
            ("\u{FEFF}\u{FEFF}{}", "top level"),
            ("{\"é\": é}", "unexpected character"),
        ];
        for (src, msg) in bad {
            match parse(src) {
                Ok(_) => panic!("accepted {src:?}"),
                Err(e) => assert!(e.message.contains(msg), "{src:?}: {} (wanted {msg:?})", e.message),
            }
        }
        let e = parse("{\n  \"a\": 1,\n  \"b\": x\n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 8));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(200_000), "]".repeat(200_000));
        assert!(parse(&deep).unwrap_err().message.contains("nesting too deep"));
        let depth = MAX_DEPTH - 1;
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
        let doc = parse(&ok).unwrap();
        assert_eq!(write(&doc, &ok, opts()).unwrap(), ok);
        assert!(emit(&doc, opts()).is_ok());
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_inputs_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let alphabet = [
            "{", "}", "[", "]", ":", ",", "\"", "\\", "u", "d8", "0", "1", "-", ".", "e", "true", "null", " ", "\n",
            "é", "😀", "\t", "\u{1}", "a",
        ];
        for _ in 0..400 {
            let mut s = String::from("{");
            for _ in 0..rng.below(40) {
                s.push_str(alphabet[rng.below(alphabet.len())]);
            }
            check_no_panic(&s);
            let bytes: Vec<u8> = (0..rng.below(30)).map(|_| rng.next() as u8).collect();
            check_no_panic(&String::from_utf8_lossy(&bytes));
        }
        let base = LAYOUTS[1];
        for _ in 0..400 {
            let mut chars: Vec<char> = base.chars().collect();
            let i = rng.below(chars.len());
            match rng.below(3) {
                0 => drop(chars.remove(i)),
                1 => chars.insert(i, alphabet[rng.below(alphabet.len())].chars().next().unwrap()),
                _ => chars.truncate(i),
            }
            check_no_panic(&chars.into_iter().collect::<String>());
        }
    }

    fn check_no_panic(src: &str) {
        let m = meta();
        if let Ok(doc) = parse(src) {
            assert_eq!(write(&doc, src, opts()).unwrap(), src);
            let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            let parsed = parse(&with).unwrap();
            assert_eq!(write(&parsed, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap(), src);
            assert!(emit(&doc, opts()).is_ok());
        }
    }
}
