//! The TOML scanner: one pass over the text, building the table tree with the byte span of
//! every leaf and comment.

use std::collections::HashMap;

use crate::model::{Comment, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, SeqItem, Span, Style};
use crate::ParseError;

use super::datetime::{self, Temporal};

/// Deepest nesting (tables, arrays, inline tables together) accepted; the rest of the pipeline
/// walks trees recursively.
pub(crate) const MAX_DEPTH: usize = 400;

const UTF8_BOM: &str = "\u{FEFF}";

/// A parsed file plus what only the writer needs.
pub(crate) struct Scanned {
    pub doc: Document,
    /// Byte ranges that hold the `sops` metadata: whole lines, from a `[sops...]` header to the
    /// next header (or a top-level `sops... = ` line), in file order, adjacent ranges merged.
    pub sops_regions: Vec<Span>,
}

/// Parses TOML text into a document.
pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    scan(src).map(|s| s.doc)
}

/// Parses TOML text, also returning where the metadata tables are.
pub(crate) fn scan(src: &str) -> Result<Scanned, ParseError> {
    let mut p = Parser { src, b: src.as_bytes(), pos: 0, root: Table::new(Kind::Header), current: Vec::new() };
    p.pos = if src.starts_with(UTF8_BOM) { UTF8_BOM.len() } else { 0 };
    let mut regions: Vec<Span> = Vec::new();
    let mut open_region: Option<usize> = None;
    loop {
        p.skip_ws();
        let Some(c) = p.peek() else { break };
        let line = crate::text::line_start(src, p.pos);
        match c {
            b'\n' => p.pos += 1,
            b'\r' => p.newline()?,
            b'#' => {
                let c = p.comment()?;
                p.current_table()?.items.push(Item::Comment(c));
                p.end_of_line()?;
            }
            b'[' => {
                let is_sops = p.header()?;
                if let Some(start) = open_region.take() {
                    regions.push(Span::new(start, line));
                }
                if is_sops {
                    open_region = Some(line);
                }
            }
            _ => {
                let start = p.pos;
                let sops_line = p.current.is_empty() && p.first_key_is_sops();
                p.keyval_line()?;
                if sops_line && open_region.is_none() {
                    let end = crate::text::next_line_start(src, p.pos.min(src.len()));
                    regions.push(Span::new(crate::text::line_start(src, start), end));
                }
            }
        }
    }
    if let Some(start) = open_region {
        regions.push(Span::new(start, src.len()));
    }
    let mut merged: Vec<Span> = Vec::new();
    for r in regions {
        match merged.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => merged.push(r),
        }
    }
    let root = Root { node: table_node(p.root), end: src.len() };
    Ok(Scanned { doc: Document { format: Format::Toml, roots: vec![root], indent: None }, sops_regions: merged })
}

// ---------------------------------------------------------------------------------------------
// The tree while it is being built: tables can be reopened by later headers, so they keep an
// index of their keys.

struct Table {
    items: Vec<Item>,
    index: HashMap<String, usize>,
    kind: Kind,
}

/// How a table came to exist, which decides what may still be added to it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Created as the parent of a header (`a` for `[a.b]`); a later `[a]` may define it.
    Implicit,
    /// Defined by a `[header]` (or the root).
    Header,
    /// Created by a dotted key (`a.b = 1`).
    Dotted,
    /// An inline table `{...}`: closed once written.
    Inline,
    /// An element of an array of tables.
    Element,
}

enum Item {
    Comment(Comment),
    Entry { key: String, span: Span, val: Val },
}

enum Val {
    Leaf(Leaf),
    Table(Table),
    /// A static array `[...]`.
    Array(Vec<ArrayItem>),
    /// An array of tables `[[x]]`: each element with the offset of its header.
    Tables(Vec<(usize, Table)>),
}

enum ArrayItem {
    Comment(Comment),
    Value(usize, Val),
}

impl Table {
    fn new(kind: Kind) -> Table {
        Table { items: Vec::new(), index: HashMap::new(), kind }
    }

    fn push(&mut self, key: String, span: Span, val: Val) -> usize {
        let i = self.items.len();
        self.index.insert(key.clone(), i);
        self.items.push(Item::Entry { key, span, val });
        i
    }

    fn val_mut(&mut self, key: &str) -> Option<&mut Val> {
        let i = *self.index.get(key)?;
        match self.items.get_mut(i)? {
            Item::Entry { val, .. } => Some(val),
            Item::Comment(_) => None,
        }
    }
}

fn table_node(t: Table) -> Node {
    Node::Map(
        t.items
            .into_iter()
            .map(|item| match item {
                Item::Comment(c) => MapItem::Comment(c),
                Item::Entry { key, span, val } => MapItem::Entry(Entry { key, span, value: val_node(val) }),
            })
            .collect(),
    )
}

fn val_node(v: Val) -> Node {
    match v {
        Val::Leaf(l) => Node::Leaf(l),
        Val::Table(t) => table_node(t),
        Val::Array(items) => Node::Seq(
            items
                .into_iter()
                .map(|i| match i {
                    ArrayItem::Comment(c) => SeqItem::Comment(c),
                    ArrayItem::Value(start, v) => SeqItem::Node { start, node: val_node(v) },
                })
                .collect(),
        ),
        Val::Tables(ts) => {
            Node::Seq(ts.into_iter().map(|(start, t)| SeqItem::Node { start, node: table_node(t) }).collect())
        }
    }
}

/// A key of a dotted key path, with where it starts.
type Key = (String, usize);

// ---------------------------------------------------------------------------------------------
// Scanner

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    root: Table,
    /// The keys of the last table header (empty: the root table).
    current: Vec<String>,
}

impl Parser<'_> {
    fn err(&self, at: usize, msg: &str) -> ParseError {
        ParseError::at(self.src, at, msg)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b.get(self.pos..).is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// At `\n` or `\r\n`: steps over it.
    fn newline(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') if self.peek_at(self.pos + 1) == Some(b'\n') => self.pos += 2,
            _ => return Err(self.err(self.pos, "carriage return without a line feed")),
        }
        Ok(())
    }

    /// Whitespace, newlines and comments inside arrays and inline tables; comments are returned.
    fn skip_blank(&mut self, comments: &mut Vec<Comment>) -> Result<(), ParseError> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'\n' | b'\r') => self.newline()?,
                Some(b'#') => comments.push(self.comment()?),
                _ => return Ok(()),
            }
        }
    }

    /// After a key/value pair or a header: an optional comment (added to the current table)
    /// and the end of the line.
    fn end_of_line(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() == Some(b'#') {
            let c = self.comment()?;
            self.current_table()?.items.push(Item::Comment(c));
        }
        match self.peek() {
            None => Ok(()),
            Some(b'\n' | b'\r') => self.newline(),
            Some(_) => Err(self.err(self.pos, "expected the end of the line (or a comment)")),
        }
    }

    /// A comment at its `#`, up to the end of the line.
    fn comment(&mut self) -> Result<Comment, ParseError> {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            match c {
                b'\n' => break,
                b'\r' if self.peek_at(self.pos + 1) == Some(b'\n') => break,
                b'\t' => {}
                0..=0x1f | 0x7f => return Err(self.err(self.pos, "control character in a comment")),
                _ => {}
            }
            self.pos += 1;
        }
        let text = self.src[start + 1..self.pos].to_string();
        Ok(Comment { text, span: Span::new(start, self.pos), changed: false })
    }

    /// The table the last header opened.
    fn current_table(&mut self) -> Result<&mut Table, ParseError> {
        let at = self.pos;
        let mut t = &mut self.root;
        for k in &self.current {
            t = match t.val_mut(k) {
                Some(Val::Table(x)) => x,
                Some(Val::Tables(v)) => match v.last_mut() {
                    Some((_, x)) => x,
                    None => return Err(ParseError::at(self.src, at, "internal error: empty array of tables")),
                },
                _ => return Err(ParseError::at(self.src, at, "internal error: the current table is gone")),
            };
        }
        Ok(t)
    }

    fn first_key_is_sops(&self) -> bool {
        let rest = &self.b[self.pos..];
        let key_end = rest.iter().position(|c| !is_bare(*c)).unwrap_or(rest.len());
        if &rest[..key_end] == b"sops" {
            return true;
        }
        rest.starts_with(b"\"sops\"") || rest.starts_with(b"'sops'")
    }

    // --- keys

    /// A dotted key: `a.b."c d"`.
    fn key_path(&mut self) -> Result<Vec<Key>, ParseError> {
        let mut keys = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            let key = match self.peek() {
                Some(b'"') => {
                    if self.starts_with("\"\"\"") {
                        return Err(self.err(start, "a key cannot be a multi-line string"));
                    }
                    self.basic_string()?
                }
                Some(b'\'') => {
                    if self.starts_with("'''") {
                        return Err(self.err(start, "a key cannot be a multi-line string"));
                    }
                    self.literal_string()?
                }
                Some(c) if is_bare(c) => {
                    while self.peek().is_some_and(is_bare) {
                        self.pos += 1;
                    }
                    self.src[start..self.pos].to_string()
                }
                None => return Err(self.err(start, "unexpected end of input, expected a key")),
                Some(_) => return Err(self.err(start, "expected a key")),
            };
            keys.push((key, start));
            if keys.len() > MAX_DEPTH {
                return Err(self.err(start, "nesting too deep"));
            }
            self.skip_ws();
            if self.peek() == Some(b'.') {
                self.pos += 1;
            } else {
                return Ok(keys);
            }
        }
    }

    // --- headers

    /// `[a.b]` or `[[a.b]]` with the rest of its line. True when its first key is `sops`.
    fn header(&mut self) -> Result<bool, ParseError> {
        let start = self.pos;
        let array = self.starts_with("[[");
        self.pos += if array { 2 } else { 1 };
        let keys = self.key_path()?;
        let close = if array { "]]" } else { "]" };
        if !self.starts_with(close) {
            return Err(self.err(self.pos, if array { "expected ']]' to close the header" } else { "expected ']'" }));
        }
        self.pos += close.len();
        let depth = keys.len() * 2;
        if depth > MAX_DEPTH {
            return Err(self.err(start, "nesting too deep"));
        }
        let src = self.src;
        let err = |at: usize, m: &str| ParseError::at(src, at, m);
        let Some(((last, last_at), parents)) = keys.split_last() else {
            return Err(err(start, "empty table header"));
        };
        let mut t = &mut self.root;
        for (k, at) in parents {
            if t.val_mut(k).is_none() {
                t.push(k.clone(), Span::new(start, start), Val::Table(Table::new(Kind::Implicit)));
            }
            t = match t.val_mut(k) {
                Some(Val::Table(x)) if x.kind != Kind::Inline => x,
                Some(Val::Tables(v)) => match v.last_mut() {
                    Some((_, x)) => x,
                    None => return Err(err(*at, "internal error: empty array of tables")),
                },
                Some(Val::Table(_)) => return Err(err(*at, "cannot add to an inline table")),
                _ => return Err(err(*at, "this key already holds a value, not a table")),
            };
        }
        let span = Span::new(start, self.pos);
        match (t.val_mut(last), array) {
            (None, false) => {
                t.push(last.clone(), span, Val::Table(Table::new(Kind::Header)));
            }
            (None, true) => {
                t.push(last.clone(), span, Val::Tables(vec![(start, Table::new(Kind::Element))]));
            }
            (Some(Val::Table(x)), false) if x.kind == Kind::Implicit => x.kind = Kind::Header,
            (Some(Val::Table(x)), false) if x.kind == Kind::Dotted => {
                return Err(err(*last_at, "table already defined by dotted keys"))
            }
            (Some(Val::Table(_)), false) => return Err(err(*last_at, "table defined twice")),
            (Some(Val::Tables(v)), true) => v.push((start, Table::new(Kind::Element))),
            (Some(Val::Tables(_)), false) => return Err(err(*last_at, "this key is an array of tables")),
            (Some(_), true) => return Err(err(*last_at, "this key is not an array of tables")),
            (Some(_), false) => return Err(err(*last_at, "this key already holds a value, not a table")),
        }
        self.current = keys.into_iter().map(|(k, _)| k).collect();
        self.end_of_line()?;
        Ok(self.current.first().is_some_and(|k| k == "sops"))
    }

    // --- key/value pairs

    fn keyval_line(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let keys = self.key_path()?;
        let depth = self.current.len() * 2 + keys.len();
        let val = self.after_key(depth)?;
        let span = Span::new(start, self.pos);
        let src = self.src;
        let table = self.current_table()?;
        insert(table, keys, val, span).map_err(|(at, m)| ParseError::at(src, at, m))?;
        self.end_of_line()
    }

    /// `= value` after a key.
    fn after_key(&mut self, depth: usize) -> Result<Val, ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Err(self.err(self.pos, "expected '=' after the key"));
        }
        self.pos += 1;
        self.skip_ws();
        self.value(depth, false)
    }

    fn value(&mut self, depth: usize, in_flow: bool) -> Result<Val, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.pos, "nesting too deep"));
        }
        let start = self.pos;
        let (value, style) = match self.peek() {
            Some(b'"') if self.starts_with("\"\"\"") => (Scalar::Str(self.ml_basic_string()?), Style::Folded),
            Some(b'"') => (Scalar::Str(self.basic_string()?), Style::DoubleQuoted),
            Some(b'\'') if self.starts_with("'''") => (Scalar::Str(self.ml_literal_string()?), Style::Literal),
            Some(b'\'') => (Scalar::Str(self.literal_string()?), Style::SingleQuoted),
            Some(b'[') => return self.array(depth + 1),
            Some(b'{') => return self.inline_table(depth + 1),
            None | Some(b'\n' | b'\r' | b'#') => return Err(self.err(start, "expected a value")),
            Some(_) => return self.bare(in_flow),
        };
        let span = Span::new(start, self.pos);
        Ok(Val::Leaf(Leaf {
            value,
            span,
            style,
            indent: 0,
            changed: false,
            literal: None,
            in_flow,
            token_in_source: false,
        }))
    }

    fn array(&mut self, depth: usize) -> Result<Val, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        let mut comments = Vec::new();
        loop {
            self.skip_blank(&mut comments)?;
            items.extend(comments.drain(..).map(ArrayItem::Comment));
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Val::Array(items));
                }
                None => return Err(self.err(open, "unterminated array")),
                _ => {}
            }
            let start = self.pos;
            let v = self.value(depth, true)?;
            items.push(ArrayItem::Value(start, v));
            self.skip_blank(&mut comments)?;
            items.extend(comments.drain(..).map(ArrayItem::Comment));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Val::Array(items));
                }
                None => return Err(self.err(open, "unterminated array")),
                Some(_) => return Err(self.err(self.pos, "expected ',' or ']' in an array")),
            }
        }
    }

    /// `{ k = v, ... }` (newlines, comments and a trailing comma are accepted, as TOML 1.1 does).
    fn inline_table(&mut self, depth: usize) -> Result<Val, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut t = Table::new(Kind::Inline);
        let mut comments = Vec::new();
        loop {
            self.skip_blank(&mut comments)?;
            t.items.extend(comments.drain(..).map(Item::Comment));
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Val::Table(t));
                }
                None => return Err(self.err(open, "unterminated inline table")),
                _ => {}
            }
            let start = self.pos;
            let keys = self.key_path()?;
            let val = self.after_key(depth + keys.len())?;
            let span = Span::new(start, self.pos);
            insert(&mut t, keys, val, span).map_err(|(at, m)| self.err(at, m))?;
            self.skip_blank(&mut comments)?;
            t.items.extend(comments.drain(..).map(Item::Comment));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Val::Table(t));
                }
                None => return Err(self.err(open, "unterminated inline table")),
                Some(_) => return Err(self.err(self.pos, "expected ',' or '}' in an inline table")),
            }
        }
    }

    // --- scalars

    /// A bare value: boolean, number or date/time.
    fn bare(&mut self, in_flow: bool) -> Result<Val, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-' | b'.' | b':')) {
            self.pos += 1;
        }
        // A date and a time may be separated by one space.
        if self.pos - start == 10
            && self.peek() == Some(b' ')
            && self.peek_at(self.pos + 1).is_some_and(|c| c.is_ascii_digit())
            && datetime::parse(&self.src[start..self.pos]).is_some()
        {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b':')) {
                self.pos += 1;
            }
        }
        let text = &self.src[start..self.pos];
        if text.is_empty() {
            return Err(self.err(start, "expected a value"));
        }
        let (value, literal) = match bare_value(text) {
            Some(v) => v,
            None => return Err(self.err(start, "invalid value (not a string, number, boolean or date)")),
        };
        let span = Span::new(start, self.pos);
        Ok(Val::Leaf(Leaf {
            value,
            span,
            style: Style::Plain,
            indent: 0,
            changed: false,
            literal,
            in_flow,
            token_in_source: false,
        }))
    }

    fn basic_string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.err(open, "unterminated string")),
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
                Some(b'\t') => self.pos += 1,
                Some(0..=0x1f | 0x7f) => return Err(self.err(self.pos, "control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// `"""..."""`: a newline right after the opening quotes is dropped, a backslash at the end
    /// of a line drops the line break and the whitespace after it.
    fn ml_basic_string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 3;
        self.skip_first_newline();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err(open, "unterminated multi-line string")),
                Some(b'"') => {
                    if self.closing_quotes(b'"', &mut out)? {
                        return Ok(out);
                    }
                }
                Some(b'\\') => {
                    let mut i = self.pos + 1;
                    while matches!(self.peek_at(i), Some(b' ' | b'\t')) {
                        i += 1;
                    }
                    if matches!(self.peek_at(i), Some(b'\n' | b'\r')) {
                        self.pos = i;
                        self.newline()?;
                        loop {
                            match self.peek() {
                                Some(b' ' | b'\t') => self.pos += 1,
                                Some(b'\n' | b'\r') => self.newline()?,
                                _ => break,
                            }
                        }
                    } else {
                        self.escape(&mut out)?;
                    }
                }
                Some(b'\r') => {
                    self.newline()?;
                    out.push_str("\r\n");
                }
                Some(b'\n' | b'\t') => {
                    out.push(self.b[self.pos] as char);
                    self.pos += 1;
                }
                Some(0..=0x1f | 0x7f) => return Err(self.err(self.pos, "control character in a string")),
                Some(_) => self.push_char(&mut out),
            }
        }
    }

    fn literal_string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.err(open, "unterminated string")),
                Some(b'\'') => {
                    self.pos += 1;
                    return Ok(self.src[open + 1..self.pos - 1].to_string());
                }
                Some(b'\t') => self.pos += 1,
                Some(0..=0x1f | 0x7f) => return Err(self.err(self.pos, "control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn ml_literal_string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 3;
        self.skip_first_newline();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err(open, "unterminated multi-line string")),
                Some(b'\'') => {
                    if self.closing_quotes(b'\'', &mut out)? {
                        return Ok(out);
                    }
                }
                Some(b'\r') => {
                    self.newline()?;
                    out.push_str("\r\n");
                }
                Some(b'\n' | b'\t') => {
                    out.push(self.b[self.pos] as char);
                    self.pos += 1;
                }
                Some(0..=0x1f | 0x7f) => return Err(self.err(self.pos, "control character in a string")),
                Some(_) => self.push_char(&mut out),
            }
        }
    }

    fn skip_first_newline(&mut self) {
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        } else if self.starts_with("\r\n") {
            self.pos += 2;
        }
    }

    fn push_char(&mut self, out: &mut String) {
        let c = self.src[self.pos..].chars().next().unwrap_or('\u{FFFD}');
        out.push(c);
        self.pos += c.len_utf8().max(1);
    }

    /// A run of quotes inside a multi-line string: three or more close it (up to two of them
    /// belong to the content). True when the string ended.
    fn closing_quotes(&mut self, q: u8, out: &mut String) -> Result<bool, ParseError> {
        let start = self.pos;
        while self.peek() == Some(q) {
            self.pos += 1;
        }
        let n = self.pos - start;
        if n < 3 {
            out.push_str(&self.src[start..self.pos]);
            return Ok(false);
        }
        if n > 5 {
            return Err(self.err(start + 5, "too many quotes at the end of a multi-line string"));
        }
        out.push_str(&self.src[start..start + n - 3]);
        Ok(true)
    }

    /// One escape sequence at its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let at = self.pos;
        let c = match self.peek_at(at + 1) {
            Some(b'b') => '\u{8}',
            Some(b't') => '\t',
            Some(b'n') => '\n',
            Some(b'f') => '\u{c}',
            Some(b'r') => '\r',
            Some(b'e') => '\u{1b}',
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'u') => return self.unicode(at, 4, out),
            Some(b'U') => return self.unicode(at, 8, out),
            Some(b'x') => return self.unicode(at, 2, out),
            _ => return Err(self.err(at, "invalid escape sequence")),
        };
        out.push(c);
        self.pos += 2;
        Ok(())
    }

    fn unicode(&mut self, at: usize, n: usize, out: &mut String) -> Result<(), ParseError> {
        let bad = || self.err(at, "invalid unicode escape");
        let digits = self.src.get(at + 2..at + 2 + n).ok_or_else(bad)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let code = u32::from_str_radix(digits, 16).map_err(|_| bad())?;
        out.push(char::from_u32(code).ok_or_else(bad)?);
        self.pos = at + 2 + n;
        Ok(())
    }
}

fn is_bare(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Puts `val` at the dotted key path `keys` under `t`, creating dotted tables on the way.
fn insert(t: &mut Table, keys: Vec<Key>, val: Val, span: Span) -> Result<(), (usize, &'static str)> {
    let Some(((last, last_at), parents)) = keys.split_last() else { return Err((span.start, "expected a key")) };
    let mut t = t;
    for (k, at) in parents {
        if t.val_mut(k).is_none() {
            t.push(k.clone(), span, Val::Table(Table::new(Kind::Dotted)));
        }
        t = match t.val_mut(k) {
            Some(Val::Table(x)) => match x.kind {
                Kind::Dotted | Kind::Implicit => {
                    x.kind = Kind::Dotted;
                    x
                }
                Kind::Inline => return Err((*at, "cannot add to an inline table")),
                _ => return Err((*at, "cannot add to a table defined elsewhere")),
            },
            Some(Val::Tables(_)) => return Err((*at, "cannot add to a table defined elsewhere")),
            _ => return Err((*at, "this key already holds a value")),
        };
    }
    if t.index.contains_key(last) {
        return Err((*last_at, "duplicate key"));
    }
    t.push(last.clone(), span, val);
    Ok(())
}

/// A bare token as a typed value and the literal to keep. Offset date-times spelled exactly as
/// RFC 3339 (what sops's `time` type writes back) are times; other date/time forms are kept
/// as strings (see the module docs).
pub(crate) fn bare_value(text: &str) -> Option<(Scalar, Option<String>)> {
    let lit = Some(text.to_string());
    match text {
        "true" => return Some((Scalar::Bool(true), lit)),
        "false" => return Some((Scalar::Bool(false), lit)),
        "inf" | "+inf" => return Some((Scalar::Float(f64::INFINITY), lit)),
        "-inf" => return Some((Scalar::Float(f64::NEG_INFINITY), lit)),
        "nan" | "+nan" => return Some((Scalar::Float(f64::NAN), lit)),
        "-nan" => return Some((Scalar::Float(-f64::NAN), lit)),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Some((Scalar::Int(i), lit));
    }
    if let Some(f) = parse_float(text) {
        return Some((Scalar::Float(f), lit));
    }
    match datetime::parse(text)? {
        Temporal::Offset(t) if t.offset != Some(0) && t.to_rfc3339_nano() == text => {
            Some((Scalar::Time(text.to_string()), lit))
        }
        _ => Some((Scalar::Str(text.to_string()), None)),
    }
}

/// Digits of `radix` with single underscores between them.
fn digits_ok(s: &str, radix: u32) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0] != b'_'
        && b[b.len() - 1] != b'_'
        && !s.contains("__")
        && b.iter().all(|&c| c == b'_' || (c as char).is_digit(radix))
}

/// A TOML integer: decimal (sign, no leading zeros), `0x`, `0o`, `0b`; underscores between digits.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(d) = text.strip_prefix(prefix) {
            if !digits_ok(d, radix) {
                return None;
            }
            return i64::from_str_radix(&d.replace('_', ""), radix).ok();
        }
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !digits_ok(digits, 10) || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// A TOML float: `[+-]int(.frac)?([eE][+-]?exp)?` with a fraction or an exponent, or inf/nan.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    match text {
        "inf" | "+inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => return Some(f64::NAN),
        _ => {}
    }
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    if frac.is_none() && exp.is_none() {
        return None;
    }
    if !digits_ok(int, 10) || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    if frac.is_some_and(|f| !digits_ok(f, 10)) {
        return None;
    }
    if let Some(e) = exp {
        if !digits_ok(e.strip_prefix(['+', '-']).unwrap_or(e), 10) {
            return None;
        }
    }
    let v: f64 = text.replace('_', "").parse().ok()?;
    v.is_finite().then_some(v)
}
