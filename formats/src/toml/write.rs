//! Writing TOML: span replacement into the source ([`write`]) and whole new files ([`emit`]).

use crate::json::apply_checked;
use crate::model::{Comment, Document, Leaf, MapItem, Node, Scalar, SeqItem, Span};
use crate::value::Value;
use crate::{EmitError, WriteOptions};

use super::datetime::{self, Temporal};
use super::parse::{parse_float, parse_int, scan};

fn emit_error(message: impl Into<String>) -> EmitError {
    EmitError { format: "toml", message: message.into() }
}

fn mismatch() -> EmitError {
    emit_error("the document does not match the source text")
}

/// Writes `doc` back into `src`: changed leaves and comments are replaced in place, the
/// `[sops]` tables removed and/or appended at the end as `opts` says.
pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let root = doc.roots.first().ok_or_else(mismatch)?;
    let Node::Map(items) = &root.node else { return Err(mismatch()) };
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let mut edits = Vec::new();
    let mut path = Vec::new();
    for item in items {
        match item {
            MapItem::Entry(e) if drop_meta && e.key == "sops" => {}
            MapItem::Entry(e) => {
                path.push(e.key.clone());
                node_edits(&e.value, src, &mut path, &mut edits)?;
                path.pop();
            }
            MapItem::Comment(c) => comment_edit(c, &path, &mut edits)?,
        }
    }
    if drop_meta {
        let regions = scan(src).map_err(|_| mismatch())?.sops_regions;
        edits.retain(|(s, _)| !regions.iter().any(|r| r.start <= s.start && s.end <= r.end));
        for r in &regions {
            edits.push((removal(src, *r), String::new()));
        }
    }
    let mut out = apply_checked(src, edits, "toml")?;
    if let Some(meta) = opts.metadata {
        append_metadata(&mut out, meta)?;
    }
    Ok(out)
}

/// Writes `doc` as a new TOML file: scalars, arrays and inline tables as `key = value` lines,
/// maps as `[tables]`, sequences of maps as `[[arrays of tables]]`, comments as `#` lines.
pub(crate) fn emit(doc: &Document, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let items = crate::top_level_items(doc, "toml")?;
    let mut e = Emitter { nl: "\n", out: String::new() };
    let kept: Vec<&MapItem> =
        items.iter().filter(|i| !(drop_meta && matches!(i, MapItem::Entry(e) if e.key == "sops"))).collect();
    e.body(&kept, &mut Vec::new(), &mut Vec::new())?;
    if let Some(meta) = opts.metadata {
        e.metadata(meta)?;
    }
    Ok(e.out)
}

fn node_edits(
    node: &Node,
    src: &str,
    path: &mut Vec<String>,
    edits: &mut Vec<(Span, String)>,
) -> Result<(), EmitError> {
    match node.resolved() {
        Node::Leaf(l) if l.changed => edits.push((l.span, render_leaf(l, src, path)?)),
        // TOML has no aliases.
        Node::Alias(_) => {}
        Node::Leaf(_) => {}
        Node::Map(items) => {
            for item in items {
                match item {
                    MapItem::Entry(e) => {
                        path.push(e.key.clone());
                        node_edits(&e.value, src, path, edits)?;
                        path.pop();
                    }
                    MapItem::Comment(c) => comment_edit(c, path, edits)?,
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    SeqItem::Node { node, .. } => node_edits(node, src, path, edits)?,
                    SeqItem::Comment(c) => comment_edit(c, path, edits)?,
                }
            }
        }
    }
    Ok(())
}

fn comment_edit(c: &Comment, path: &[String], edits: &mut Vec<(Span, String)>) -> Result<(), EmitError> {
    if c.changed {
        if !comment_ok(&c.text) {
            return Err(emit_error(format!("a comment at key path {} holds a line break", path_text(path))));
        }
        edits.push((c.span, format!("#{}", c.text)));
    }
    Ok(())
}

fn comment_ok(text: &str) -> bool {
    !text.chars().any(|c| c != '\t' && (c < ' ' || c == '\u{7f}'))
}

fn path_text(path: &[String]) -> String {
    if path.is_empty() {
        "(top level)".into()
    } else {
        path.join(":")
    }
}

/// The bytes to remove for a metadata region; at the end of the file also the line break(s)
/// that [`append_metadata`] put before it.
pub(crate) fn removal(src: &str, r: Span) -> Span {
    if r.end != src.len() {
        return r;
    }
    let mut start = r.start;
    // The line break the metadata block was written with.
    let nl = if src.get(r.start..r.end).is_some_and(|b| b.contains("\r\n")) { "\r\n" } else { "\n" };
    let strip_nl = |at: usize| -> Option<usize> { src.get(..at)?.strip_suffix(nl).map(str::len) };
    let Some(one) = strip_nl(start) else { return r };
    if src.ends_with('\n') {
        // A blank line was added after the file's own final line break.
        if src[..one].ends_with('\n') {
            start = one;
        }
    } else {
        // The file had no final line break: two were added.
        start = strip_nl(one).unwrap_or(one);
    }
    Span::new(start, r.end)
}

/// Appends the `[sops]` tables after a blank line. The result ends with a line break exactly
/// when `out` did, so that [`removal`] can restore `out`.
fn append_metadata(out: &mut String, meta: &Value) -> Result<(), EmitError> {
    let nl = if out.contains("\r\n") { "\r\n" } else { "\n" };
    let mut e = Emitter { nl, out: String::new() };
    e.metadata(meta)?;
    crate::text::append_block(out, e.out, nl);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scalars

/// A changed leaf as TOML text, in the same kind of slot where the source allows it.
fn render_leaf(leaf: &Leaf, src: &str, path: &[String]) -> Result<String, EmitError> {
    let slot = src.get(leaf.span.start..leaf.span.end).ok_or_else(mismatch)?;
    let lit = leaf.literal.as_deref();
    Ok(match &leaf.value {
        Scalar::Str(s) => render_str(s, slot),
        Scalar::Int(i) => match lit {
            Some(l) if parse_int(l) == Some(*i) => l.to_string(),
            _ => i.to_string(),
        },
        Scalar::Float(f) => match lit.and_then(|l| Some((l, parse_float(l)?))) {
            Some((l, v)) if v.to_bits() == f.to_bits() || (v.is_nan() && f.is_nan()) => l.to_string(),
            _ => float_text(*f),
        },
        Scalar::Time(t) => match lit.and_then(datetime::parse) {
            Some(Temporal::Offset(ts)) if ts.to_rfc3339_nano() == *t => lit.unwrap_or(t).to_string(),
            _ => time_text(t),
        },
        other => scalar_text(other, path)?,
    })
}

/// A scalar as a fresh TOML value.
fn scalar_text(s: &Scalar, path: &[String]) -> Result<String, EmitError> {
    Ok(match s {
        Scalar::Null => {
            return Err(emit_error(format!("key path {} is null, which TOML cannot represent", path_text(path))))
        }
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => float_text(*f),
        Scalar::Time(t) => time_text(t),
        Scalar::Str(s) if s.contains('\n') => format!("\"\"\"\n{}\"\"\"", ml_basic(s)),
        Scalar::Str(s) => basic(s),
    })
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        // Debug prints the shortest round-trip digits and always a `.0` or an exponent.
        format!("{f:?}")
    }
}

fn time_text(t: &str) -> String {
    match datetime::parse(t) {
        Some(Temporal::Offset(_)) => t.to_string(),
        _ => basic(t),
    }
}

/// A string written into the slot `slot` (the source text it replaces): the same kind of string
/// when the value allows it; a bare TOML date/time slot (kept as a string, see the module
/// docs) is written back bare, and anything else put there is marked by `'''...'''` quotes,
/// which turn back into a bare date/time when the value is one again.
fn render_str(s: &str, slot: &str) -> String {
    let is_dt = |t: &str| datetime::parse(t).is_some();
    let lead_nl = |t: &str| t.starts_with('\n') || t.starts_with("\r\n");
    if let Some(rest) = slot.strip_prefix("\"\"\"") {
        let open = match opening(rest, true) {
            Opening::Trivia(t) if !s.starts_with([' ', '\t', '\n', '\r']) => t,
            Opening::Trivia(_) => "\n",
            Opening::Newline(nl) => nl,
            Opening::Direct if lead_nl(s) => "\n",
            Opening::Direct => "",
        };
        return format!("\"\"\"{open}{}\"\"\"", ml_basic(s));
    }
    if let Some(rest) = slot.strip_prefix("'''") {
        let open = match opening(rest, false) {
            Opening::Newline(nl) => nl,
            _ if lead_nl(s) => "\n",
            _ => "",
        };
        if open.is_empty() && !s.contains('\n') && is_dt(s) {
            return s.to_string();
        }
        if ml_literal_ok(s) {
            return format!("'''{open}{s}'''");
        }
        let open = if open.is_empty() && lead_nl(s) { "\n" } else { open };
        return format!("\"\"\"{open}{}\"\"\"", ml_basic(s));
    }
    if slot.starts_with('\'') {
        return if literal_ok(s) { format!("'{s}'") } else { basic(s) };
    }
    if slot.starts_with('"') {
        return basic(s);
    }
    // A bare slot: a date/time kept as a string, or a number/boolean being encrypted.
    if is_dt(s) {
        s.to_string()
    } else if is_dt(slot) && !is_time_slot(slot) && !s.contains('\n') && ml_literal_ok(s) {
        format!("'''{s}'''")
    } else {
        basic(s)
    }
}

/// True for the offset date-times the parser reads as `Time` (they need no marker).
fn is_time_slot(slot: &str) -> bool {
    matches!(super::parse::bare_value(slot), Some((Scalar::Time(_), _)))
}

/// What follows the opening quotes of a multi-line string before its content.
enum Opening<'a> {
    Direct,
    /// A line break, dropped by TOML.
    Newline(&'a str),
    /// A line-ending backslash and the whitespace it swallows (basic strings only).
    Trivia(&'a str),
}

fn opening(rest: &str, basic: bool) -> Opening<'_> {
    if rest.starts_with("\r\n") {
        return Opening::Newline("\r\n");
    }
    if rest.starts_with('\n') {
        return Opening::Newline("\n");
    }
    if basic && rest.starts_with('\\') {
        let after = rest[1..].trim_start_matches([' ', '\t']);
        if after.starts_with(['\n', '\r']) {
            let content = after.trim_start_matches([' ', '\t', '\n', '\r']);
            return Opening::Trivia(&rest[..rest.len() - content.len()]);
        }
    }
    Opening::Direct
}

fn literal_ok(s: &str) -> bool {
    !s.chars().any(|c| c == '\'' || (c != '\t' && (c < ' ' || c == '\u{7f}')))
}

fn ml_literal_ok(s: &str) -> bool {
    if s.contains("'''") || s.ends_with('\'') {
        return false;
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' => {}
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c < ' ' || c == '\u{7f}' => return false,
            _ => {}
        }
    }
    true
}

fn push_control(out: &mut String, c: char) {
    match c {
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => out.push_str(&format!("\\u{:04X}", c as u32)),
    }
}

/// A basic string `"..."`.
pub(super) fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c < ' ' || c == '\u{7f}' => push_control(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The content of a multi-line basic string: line breaks and tabs raw, a quote escaped when it
/// would make a run of three or stand before the closing delimiter.
fn ml_basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut quotes = 0;
    while let Some(c) = chars.next() {
        quotes = if c == '"' { quotes + 1 } else { 0 };
        match c {
            '\\' => out.push_str("\\\\"),
            '"' if quotes == 3 || chars.peek().is_none() => {
                out.push_str("\\\"");
                quotes = 0;
            }
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            c if c < ' ' || c == '\u{7f}' => push_control(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

fn key_text(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
        k.to_string()
    } else {
        basic(k)
    }
}

// ---------------------------------------------------------------------------------------------
// Whole tables

struct Emitter<'a> {
    nl: &'a str,
    out: String,
}

/// True for a value written as a `[table]` or `[[array of tables]]` rather than inline.
fn is_table(n: &Node) -> bool {
    match n.resolved() {
        Node::Alias(a) => is_table(&a.node),
        Node::Map(_) => true,
        Node::Seq(items) => {
            let mut nodes = items.iter().filter_map(|i| match i {
                SeqItem::Node { node, .. } => Some(node),
                SeqItem::Comment(_) => None,
            });
            let mut any = false;
            let all = nodes.all(|n| {
                any = true;
                matches!(n, Node::Map(_))
            });
            any && all
        }
        Node::Leaf(_) => false,
    }
}

impl Emitter<'_> {
    /// A table's body: comments and inline entries, then its sub-tables. `keys` are the
    /// header keys of this table (as written), `path` the plain key path (for errors).
    fn body(&mut self, items: &[&MapItem], keys: &mut Vec<String>, path: &mut Vec<String>) -> Result<(), EmitError> {
        let mut tables = Vec::new();
        for item in items {
            match item {
                MapItem::Comment(c) => {
                    if comment_ok(&c.text) {
                        self.out.push('#');
                        self.out.push_str(&c.text);
                        self.out.push_str(self.nl);
                    }
                }
                MapItem::Entry(e) if is_table(&e.value) => tables.push(e),
                MapItem::Entry(e) => {
                    path.push(e.key.clone());
                    let v = inline(&e.value, path)?;
                    path.pop();
                    self.out.push_str(&format!("{} = {v}{}", key_text(&e.key), self.nl));
                }
            }
        }
        for e in tables {
            keys.push(key_text(&e.key));
            path.push(e.key.clone());
            match e.value.resolved() {
                Node::Map(items) => {
                    self.header(&format!("[{}]", keys.join(".")));
                    self.body(&items.iter().collect::<Vec<_>>(), keys, path)?;
                }
                Node::Seq(elements) => {
                    for el in elements {
                        if let SeqItem::Node { node, .. } = el {
                            if let Node::Map(items) = node.resolved() {
                                self.header(&format!("[[{}]]", keys.join(".")));
                                self.body(&items.iter().collect::<Vec<_>>(), keys, path)?;
                            }
                        }
                    }
                }
                Node::Leaf(_) | Node::Alias(_) => {}
            }
            keys.pop();
            path.pop();
        }
        Ok(())
    }

    fn header(&mut self, h: &str) {
        if !self.out.is_empty() {
            self.out.push_str(self.nl);
        }
        self.out.push_str(h);
        self.out.push_str(self.nl);
    }

    /// The metadata as a `[sops]` table (null values left out).
    fn metadata(&mut self, meta: &Value) -> Result<(), EmitError> {
        let Some(node) = meta.without_nulls().map(|v| v.to_node()) else {
            return Err(emit_error("the metadata is null"));
        };
        let Node::Map(items) = &node else { return Err(emit_error("the metadata is not a mapping")) };
        self.header("[sops]");
        let items: Vec<&MapItem> = items.iter().collect();
        self.body(&items, &mut vec!["sops".to_string()], &mut vec!["sops".to_string()])
    }
}

/// An inline value: a scalar, `[a, b]` or `{ k = v }`.
fn inline(n: &Node, path: &mut Vec<String>) -> Result<String, EmitError> {
    match n.resolved() {
        Node::Alias(a) => inline(&a.node, path),
        Node::Leaf(l) => scalar_text(&l.value, path),
        Node::Seq(items) => {
            let mut parts = Vec::new();
            for item in items {
                if let SeqItem::Node { node, .. } = item {
                    parts.push(inline(node, path)?);
                }
            }
            Ok(format!("[{}]", parts.join(", ")))
        }
        Node::Map(items) => {
            let mut parts = Vec::new();
            for item in items {
                if let MapItem::Entry(e) = item {
                    path.push(e.key.clone());
                    parts.push(format!("{} = {}", key_text(&e.key), inline(&e.value, path)?));
                    path.pop();
                }
            }
            Ok(if parts.is_empty() { "{}".into() } else { format!("{{ {} }}", parts.join(", ")) })
        }
    }
}
