//! The JSON scanner: one pass, an explicit stack of open containers, every value's span.

use crate::model::{Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, SeqItem, Span, Style};
use crate::ParseError;

/// Deepest nesting of objects and arrays accepted.
pub(super) const MAX_DEPTH: usize = 1000;

pub(super) const UTF8_BOM: &str = "\u{FEFF}";

/// Parses a JSON file whose top level must be an object.
pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    parse_with(src, false)
}

/// [`parse`] for decryption: a sops value token (`"ENC[AES256_GCM,data:...]"`) that is the
/// value of an object member outside the top-level `sops` member, and has no escapes, is left
/// in `src`: its leaf holds an empty string and says so ([`crate::Leaf::token_in_source`]; the
/// token is the text between the quotes of the leaf's span). Decryption reads it from there;
/// the copy of every token a large file holds is saved.
pub(crate) fn parse_encrypted(src: &str) -> Result<Document, ParseError> {
    parse_with(src, true)
}

fn parse_with(src: &str, tokens_in_source: bool) -> Result<Document, ParseError> {
    let mut p = Parser { src, b: src.as_bytes(), pos: 0, stack: Vec::new(), tokens_in_source };
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

/// `items` in a vector of exactly their number.
fn exact<T>(mut items: Vec<T>) -> Vec<T> {
    if items.capacity() == items.len() {
        return items;
    }
    let mut out = Vec::with_capacity(items.len());
    out.append(&mut items);
    out
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
    /// Leave value tokens in the source (see [`parse_encrypted`]).
    tokens_in_source: bool,
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
        let frame = self.stack.pop()?;
        // Nested containers move into vectors of their exact size: a grown vector leaves up to
        // half of it unused, and the tree is most of a large file's memory. The top level, often
        // the largest, keeps its own.
        let nested = !self.stack.is_empty();
        match frame {
            Frame::Map { start, items, .. } => Some((Node::Map(if nested { exact(items) } else { items }), start)),
            Frame::Seq { start, items } => Some((Node::Seq(if nested { exact(items) } else { items }), start)),
        }
    }

    fn scalar(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'"') && self.token_in_source() {
            let value = Scalar::Str(String::new());
            let mut leaf = Leaf::new(value);
            (leaf.span, leaf.style, leaf.token_in_source) = (Span::new(start, self.pos), Style::DoubleQuoted, true);
            return Ok(Node::Leaf(leaf));
        }
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
        Ok(Node::Leaf(Leaf {
            value,
            span,
            style,
            indent: 0,
            changed: false,
            in_flow: false,
            literal,
            token_in_source: false,
        }))
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
        // `-0` is kept a float: as an integer it would lose its sign. Every other integer of the
        // int64 range is an integer, exactly, as sops 3.13.2 reads JSON (getsops/sops#2222;
        // before, sops read every JSON number as a float, which rounds integers beyond 2^53).
        if !float && literal != "-0" {
            if let Ok(i) = literal.parse::<i64>() {
                return Ok(Scalar::Int(i));
            }
        }
        match literal.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Scalar::Float(f)),
            _ => Err(self.err(start, "number out of range")),
        }
    }

    /// At a string's opening quote: when the string is a value token to leave in the source
    /// (see [`parse_encrypted`]), moves past its closing quote and says so.
    fn token_in_source(&mut self) -> bool {
        if !self.tokens_in_source {
            return false;
        }
        // The value of an object member (an array's items are read as they are), outside the
        // top-level `sops` member.
        match (self.stack.first(), self.stack.last()) {
            (Some(Frame::Map { key, .. }), Some(Frame::Map { .. })) if key != "sops" => {}
            _ => return false,
        }
        let from = self.pos + 1;
        let Some(close) = memchr::memchr2(b'"', b'\\', &self.b[from..]).map(|o| from + o) else { return false };
        let text = &self.b[from..close];
        if self.b[close] != b'"' || !text.starts_with(b"ENC[AES256_GCM,data:") || first_control(text).is_some() {
            return false;
        }
        self.pos = close + 1;
        true
    }

    /// Reads a string at its opening quote, decoding escapes.
    fn string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // The next quote or backslash; the bytes before it are the string's own, and must not
            // be control characters (the first one is the error, as in a scan byte by byte).
            let stop = memchr::memchr2(b'"', b'\\', &self.b[self.pos..]).map(|o| self.pos + o);
            let run = &self.b[self.pos..stop.unwrap_or(self.b.len())];
            if let Some(c) = first_control(run) {
                return Err(self.err(self.pos + c, "control character in string (must be escaped)"));
            }
            let Some(stop) = stop else { return Err(self.err(open, "unterminated string")) };
            out.push_str(&self.src[self.pos..stop]);
            self.pos = stop;
            if self.b[stop] == b'"' {
                self.pos += 1;
                return Ok(out);
            }
            self.escape(&mut out)?;
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
pub(super) fn indent_unit(src: &str) -> Option<&str> {
    src.split('\n').skip(1).find_map(|line| {
        let rest = line.trim_start_matches([' ', '\t']);
        let ws = &line[..line.len() - rest.len()];
        (!ws.is_empty() && !rest.is_empty() && rest != "\r").then_some(ws)
    })
}

/// True when `literal` is a JSON number with exactly this value (and type), or an integer that
/// a float value is exactly, up to 2^53: there the float's text ([`super::write::scalar_json`])
/// is that integer's digits. (sops before 3.13.2 read every JSON number as a float: the files it
/// encrypted hold integers as floats. `-0` reads as a float, never as this integer.)
pub(super) fn same_number(literal: &str, value: &Scalar) -> bool {
    let mut p = Parser { src: literal, b: literal.as_bytes(), pos: 0, stack: Vec::new(), tokens_in_source: false };
    let Ok(doc) = p.scalar() else { return false };
    if p.pos != literal.len() {
        return false;
    }
    match (doc, value) {
        (Node::Leaf(Leaf { value: Scalar::Int(a), .. }), Scalar::Int(b)) => a == *b,
        (Node::Leaf(Leaf { value: Scalar::Float(a), .. }), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
        (Node::Leaf(Leaf { value: Scalar::Int(a), .. }), Scalar::Float(b)) => {
            a.unsigned_abs() <= 1 << 53 && (a as f64).to_bits() == b.to_bits()
        }
        _ => false,
    }
}

/// Where the first control character (below U+0020) of `b` is; 16 bytes at a time, without a
/// branch per byte.
fn first_control(b: &[u8]) -> Option<usize> {
    let mut at = 0;
    for chunk in b.chunks(16) {
        if chunk.iter().fold(0u8, |acc, &c| acc | u8::from(c < 0x20)) != 0 {
            return chunk.iter().position(|&c| c < 0x20).map(|p| at + p);
        }
        at += chunk.len();
    }
    None
}
