//! INI codec, in sops's dialect (gopkg.in/ini.v1 as sops loads it).
//!
//! The tree is a map of sections: keys before the first `[header]` are in `DEFAULT` (always the
//! first entry, as in sops, even when empty); every header is an entry of its own (duplicate
//! names allowed, as sops allows them). A section is a map of `key = value` / `key: value`
//! entries (strings, trimmed) and comments.
//!
//! Values follow ini.v1: `"""..."""` and `` `...` `` may span lines (text after the closing
//! quote joins the value's slot, see [`quoted`]); otherwise the value ends at the first `#` or
//! `;` (the rest is an inline comment) and one pair of surrounding `"` or `'` quotes is
//! removed. Comment lines start with `;` or `#`; their text drops the leading comment
//! characters and spaces as sops does, and a comment belongs to the section of the next key or
//! header after it (so that its encryption AAD matches sops's). A comment after a `[header]` on
//! its line belongs to that section too; encrypted, it is written on the line above the header
//! (see [`header_comment`]). A line ending in `\` is refused (ini.v1 would join lines, which
//! cannot be written back losslessly).
//!
//! Files that sops refuses because of indented lines without a delimiter (Python configparser
//! continuation lines, as in `tox.ini` and `setup.cfg`) are read the way Python reads them: every
//! line indented deeper than its key (blank and comment lines between them included) continues
//! that key's value, which is kept raw. The encrypted file has one `key = ENC[...]` line per
//! value, which sops reads. Non-indented lines without a delimiter are errors.
//!
//! Metadata is a `[sops]` section at the end with flattened keys (`age__list_0__map_enc`),
//! sorted, line breaks written as `\n`, aligned as sops aligns it. INI written from a tree
//! (`--output-type ini`) follows sops's layout byte for byte ([`emit`]); a file parsed from INI
//! keeps its own layout.

use crate::dotenv;
use crate::json::apply_checked;
use crate::model::{Comment, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, Span, Style};
use crate::scalar::format_float;
use crate::value::Value;
use crate::{EmitError, ParseError, WriteOptions};

mod emit;

pub(crate) use emit::emit;
use emit::metadata_block;

const UTF8_BOM: &str = "\u{FEFF}";
const DEFAULT: &str = "DEFAULT";

/// Parses INI text.
pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    let doc = match scan(src, false) {
        Err(Failure::NeedsContinuation(_)) => scan(src, true).map_err(Failure::into_error),
        other => other.map_err(Failure::into_error),
    }?;
    reject_duplicate_keys(&doc, src)?;
    Ok(doc)
}

/// sops (ini.v1) keeps only the last of a key repeated in a section, so its MAC would not match
/// a file that encrypts every one: refuse such files, as YAML's duplicate keys are refused.
fn reject_duplicate_keys(doc: &Document, src: &str) -> Result<(), ParseError> {
    for section in sections(doc).into_iter().flatten() {
        let MapItem::Entry(s) = section else { continue };
        let Node::Map(items) = &s.value else { continue };
        let mut seen = std::collections::HashSet::new();
        for item in items {
            if let MapItem::Entry(k) = item {
                if !seen.insert(k.key.as_str()) {
                    return Err(ParseError::at(
                        src,
                        k.span.start,
                        format!("duplicate key {:?} in section [{}] (sops keeps only the last one)", k.key, s.key),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Writes `doc` back into `src`: changed values and comments are replaced in place, the
/// `[sops]` section removed and/or appended as `opts` says.
pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let sections = sections(doc).ok_or_else(mismatch)?;
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let mut edits = Vec::new();
    for section in sections {
        let MapItem::Entry(e) = section else { continue };
        if drop_meta && e.key == "sops" {
            if e.span.end > e.span.start {
                edits.push((crate::toml::removal(src, e.span), String::new()));
            }
            continue;
        }
        let Node::Map(items) = &e.value else { return Err(mismatch()) };
        for item in items {
            match item {
                MapItem::Comment(c) if c.changed => edits.push(comment_edit(c, e.span.start, src)?),
                MapItem::Entry(k) => {
                    if let Node::Leaf(l) = &k.value {
                        if l.changed {
                            edits.push(value_edit(l, &e.key, &k.key)?);
                        }
                    }
                }
                MapItem::Comment(_) => {}
            }
        }
    }
    let mut out = apply_checked(src, edits, "ini")?;
    if let Some(meta) = opts.metadata {
        let nl = if out.contains("\r\n") { "\r\n" } else { "\n" };
        crate::text::append_block(&mut out, metadata_block(meta, nl)?, nl);
    }
    Ok(out)
}

/// The metadata in the `[sops]` section, rebuilt as a tree.
pub(crate) fn metadata(doc: &Document) -> Option<Value> {
    let section = sections(doc)?.iter().find_map(|i| match i {
        MapItem::Entry(e) if e.key == "sops" => Some(e),
        _ => None,
    })?;
    let Node::Map(items) = &section.value else { return None };
    let mut tree = Value::Map(Vec::new());
    for item in items {
        if let MapItem::Entry(Entry { key, value: Node::Leaf(l), .. }) = item {
            dotenv::unflatten_into(&mut tree, key, scalar_text(&l.value).replace("\\n", "\n"));
        }
    }
    Some(tree)
}

/// True when the file has a `[sops]` section.
pub(crate) fn has_metadata(doc: &Document) -> bool {
    sections(doc).is_some_and(|s| s.iter().any(|i| matches!(i, MapItem::Entry(e) if e.key == "sops")))
}

fn emit_error(message: impl Into<String>) -> EmitError {
    EmitError { format: "ini", message: message.into() }
}

fn mismatch() -> EmitError {
    emit_error("the document does not match the source text")
}

fn sections(doc: &Document) -> Option<&[MapItem]> {
    match &doc.roots.first()?.node {
        Node::Map(items) => Some(items),
        _ => None,
    }
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => format_float(*f),
        Scalar::Str(s) | Scalar::Time(s) => s.clone(),
    }
}

fn check_key(key: &str, section: &str) -> Result<(), EmitError> {
    let bad =
        key.is_empty() || key.contains(['=', ':', '\n', '\r']) || key.starts_with(['[', ';', '#']) || key.trim() != key;
    if bad {
        return Err(emit_error(format!("key {section}:{key} cannot be written as an INI key")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing values

/// True when ini.v1 reads `s` back unchanged as an unquoted value.
fn plain_ok(s: &str) -> bool {
    let quoted =
        s.starts_with('`') || (s.len() > 3 && s.starts_with("\"\"\"")) || surrounded(s, '"') || surrounded(s, '\'');
    !(quoted || s.contains(['\n', '#', ';']) || s.trim() != s || s.ends_with('\\'))
}

/// ini.v1's `hasSurroundedQuote`.
fn surrounded(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && s[1..].find(q) == Some(s.len() - 2)
}

/// A value written anew: unquoted when it reads back the same, else in `"""` or backquotes.
fn fresh_value(s: &str, section: &str, key: &str) -> Result<String, EmitError> {
    if plain_ok(s) {
        Ok(s.to_string())
    } else if quoted_ok(s, "\"\"\"") {
        Ok(format!("\"\"\"{s}\"\"\""))
    } else if quoted_ok(s, "`") {
        Ok(format!("`{s}`"))
    } else {
        Err(emit_error(format!("the value at {section}:{key} holds both \"\"\" and `, which INI cannot quote")))
    }
}

/// True when ini.v1 reads `s` back from between two `quote`s: it ends the value at the last
/// quote of the first line that has one.
fn quoted_ok(s: &str, quote: &str) -> bool {
    let mut lines: Vec<&str> = s.split('\n').collect();
    lines.pop();
    !lines.iter().any(|l| l.contains(quote))
}

/// Continuation lines as Python writes them: every line after the first indented or blank, the
/// last one not blank.
fn continuation_ok(s: &str) -> bool {
    let mut lines = s.split('\n');
    let first = lines.next().unwrap_or("");
    let rest: Vec<&str> = lines.collect();
    !rest.is_empty()
        && rest.iter().all(|l| l.trim().is_empty() || l.starts_with(char::is_whitespace))
        && rest.last().is_some_and(|l| !l.trim().is_empty())
        && !first.starts_with(['`', '"', '\''])
}

/// For the envelope's layout memory: the source text of `leaf`'s slot when writing its value
/// back after decryption reproduces the source exactly, else a text that differs from it (the
/// envelope then remembers the source and puts it back as the leaf's literal). A value that
/// cannot be written anew at all (it holds both `"""` and a backquote, read from Python
/// continuation lines) is remembered too.
pub(crate) fn decrypted_text(src: &str, leaf: &Leaf) -> Option<String> {
    let mut l = leaf.clone();
    l.literal = None;
    let source = src.get(leaf.span.start..leaf.span.end)?;
    Some(match value_edit(&l, "", "") {
        Ok((span, text)) if src.get(span.start..span.end) == Some(text.as_str()) => source.to_string(),
        // Longer than the source, so never equal to it (whatever bytes the source ends with).
        _ => format!("{source}\0"),
    })
}

/// The edit that writes a changed value into its slot.
fn value_edit(l: &Leaf, section: &str, key: &str) -> Result<(Span, String), EmitError> {
    // A source text the envelope restored (see [`decrypted_text`]) goes back as it was.
    if let (Some(literal), Scalar::Str(_)) = (&l.literal, &l.value) {
        return Ok((l.span, literal.clone()));
    }
    let s = scalar_text(&l.value);
    let fits = match l.style {
        Style::Plain => plain_ok(&s) || (s.contains('\n') && continuation_ok(&s)),
        Style::DoubleQuoted => !s.contains(['"', '#', ';', '\n']),
        Style::SingleQuoted => !s.contains(['\'', '#', ';', '\n']),
        Style::Folded => quoted_ok(&s, "\"\"\""),
        Style::Literal => quoted_ok(&s, "`"),
    };
    if fits {
        return Ok((l.span, s));
    }
    // Replace the quotes too.
    let (open, close) = match l.style {
        Style::Plain => (0, 0),
        Style::DoubleQuoted | Style::SingleQuoted | Style::Literal => (1, 1),
        Style::Folded => (3, 3),
    };
    let span = Span::new(l.span.start.checked_sub(open).ok_or_else(mismatch)?, l.span.end + close);
    Ok((span, fresh_value(&s, section, key)?))
}

/// The edit that writes a changed comment of the section whose header line starts at
/// `header_at`. The comment of the header line itself (see [`header_comment`]) stays on that
/// line as plain text; encrypted, it goes on the line above, followed by [`HEADER_MARK`].
fn comment_edit(c: &Comment, header_at: usize, src: &str) -> Result<(Span, String), EmitError> {
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    let old = src.get(c.span.start..c.span.end).ok_or_else(mismatch)?;
    let header_line = src.get(header_at..).map(|h| h.split('\n').next().unwrap_or(h));
    let on_header = header_line.is_some_and(|h| h.trim_start().starts_with('['))
        && c.span.end > header_at
        && !src[header_at..c.span.start.max(header_at)].contains('\n');
    if !on_header {
        return Ok((c.span, comment_text(c, old, nl)));
    }
    // The comment's own text and the header line up to it: indentation, `[name]`, blanks.
    let (comment, gap, header_line) = if c.span.start < header_at {
        let (first, header_line) = old.split_once('\n').ok_or_else(mismatch)?;
        let first = first.strip_suffix('\r').unwrap_or(first);
        let (_, gap) = moved_header_comment(strip_comment(first)).ok_or_else(mismatch)?;
        (first, gap, header_line)
    } else {
        let line = &src[header_at..c.span.start];
        let header = line.trim_end();
        (old, &line[header.len()..], header)
    };
    let header = header_line.trim_start();
    let indent = &header_line[..header_line.len() - header.len()];
    let prefix = &comment[..comment.len() - strip_comment(comment).len()];
    let text = if encrypted(&c.text) {
        format!("{prefix}{}{gap}{HEADER_MARK}{nl}{indent}{header}", c.text)
    } else if c.text.contains([']', '\n']) || c.text.ends_with('\r') {
        // It would not read back from the header line: above the header, as sops writes it. (A
        // `\r` inside the text reads back: lines end at `\n`, and only a final `\r` is dropped.)
        format!("{}{nl}{indent}{header}", comment_lines(prefix, &c.text, nl))
    } else {
        format!("{header}{gap}{prefix}{}", c.text)
    };
    let start = if c.span.start < header_at { c.span.start } else { header_at + indent.len() };
    Ok((Span::new(start, c.span.end), text))
}

/// A changed comment with the comment characters it had (`;; `, `#`, ...); `old` is its text
/// in the source.
fn comment_text(c: &Comment, old: &str, nl: &str) -> String {
    comment_lines(&old[..old.len() - strip_comment(old).len()], &c.text, nl)
}

/// `text` as comment lines, the first after `prefix`.
fn comment_lines(prefix: &str, text: &str, nl: &str) -> String {
    let prefix = if prefix.is_empty() { "; " } else { prefix };
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            out.push_str(prefix);
        } else {
            out.push_str(nl);
            // As ini.v1 writes the later lines of a multi-line comment.
            let line = line.strip_suffix('\r').unwrap_or(line);
            match line.chars().next() {
                Some(c @ (';' | '#')) => out.push_str(&format!("{c} {}", line[1..].trim())),
                _ => out.push_str(&format!("; {line}")),
            }
            continue;
        }
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
    }
    out
}

/// sops's `stripCommentChar`: `;` comments lose leading `;` and spaces, `#` comments leading
/// `#` and spaces.
fn strip_comment(s: &str) -> &str {
    if s.starts_with(';') {
        s.trim_start_matches([';', ' '])
    } else if s.starts_with('#') {
        s.trim_start_matches(['#', ' '])
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Scanner

enum Failure {
    /// An indented line without a delimiter: the file needs Python continuation lines.
    NeedsContinuation(ParseError),
    Error(ParseError),
}

impl Failure {
    fn into_error(self) -> ParseError {
        match self {
            Failure::NeedsContinuation(e) | Failure::Error(e) => e,
        }
    }
}

/// One line: `start` of the line, `text` from its first non-blank byte to its end (line break
/// and trailing `\r` excluded), `next` the start of the next line.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    text_start: usize,
    end: usize,
    next: usize,
}

impl Line {
    fn indent(&self) -> usize {
        self.text_start - self.start
    }
}

fn lines(src: &str, from: usize) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = from;
    while start < src.len() {
        let nl = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let end = if nl > start && src.as_bytes()[nl - 1] == b'\r' { nl - 1 } else { nl };
        let text_start = start + (src[start..end].len() - src[start..end].trim_start().len());
        out.push(Line { start, text_start, end, next: (nl + 1).min(src.len()) });
        start = nl + 1;
    }
    out
}

struct Section {
    name: String,
    span: Span,
    items: Vec<MapItem>,
}

fn scan(src: &str, python: bool) -> Result<Document, Failure> {
    let from = if src.starts_with(UTF8_BOM) { UTF8_BOM.len() } else { 0 };
    let lines = lines(src, from);
    let err = |at: usize, m: &str| Failure::Error(ParseError::at(src, at, m));
    let mut sections = vec![Section { name: DEFAULT.into(), span: Span::new(from, from), items: Vec::new() }];
    let mut pending: Vec<Comment> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let text = &src[line.text_start..line.end];
        i += 1;
        if text.is_empty() {
            continue;
        }
        if text.starts_with([';', '#']) {
            let trimmed = text.trim_end();
            let span = Span::new(line.text_start, line.text_start + trimmed.len());
            pending.push(Comment { text: strip_comment(trimmed).to_string(), span, changed: false });
            continue;
        }
        if let Some(rest) = text.strip_prefix('[') {
            let close = rest.rfind(']').ok_or_else(|| err(line.text_start, "unclosed section header (no ']')"))?;
            let name = rest[..close].to_string();
            let after = line.text_start + 1 + close + 1;
            let previous = i.checked_sub(2).map(|p| lines[p].text_start);
            let own = header_comment(src, after, line.end, previous, &mut pending, name != "sops");
            // Comments before `[sops]` stay in the section above (they are the file's own
            // trailing comments, and the metadata section is not walked).
            if name == "sops" {
                if let Some(last) = sections.last_mut() {
                    last.items.extend(pending.drain(..).map(MapItem::Comment));
                }
            }
            let mut items: Vec<MapItem> = pending.drain(..).map(MapItem::Comment).collect();
            items.extend(own.map_err(Failure::Error)?.map(MapItem::Comment));
            sections.push(Section { name, span: Span::new(line.start, line.next), items });
            continue;
        }
        let Some(section) = sections.last_mut() else { return Err(err(line.start, "internal error")) };
        section.items.extend(pending.drain(..).map(MapItem::Comment));
        let Some(delim) = text.find(['=', ':']) else {
            let indented = line.indent() > 0;
            let after_key = section.items.iter().any(|i| matches!(i, MapItem::Entry(_)));
            let e = ParseError::at(src, line.text_start, "line has no '=' or ':' (key = value expected)");
            return Err(if !python && indented && after_key {
                Failure::NeedsContinuation(e)
            } else {
                Failure::Error(e)
            });
        };
        let key = text[..delim].trim();
        if key.is_empty() {
            return Err(err(line.text_start, "empty key name before the delimiter"));
        }
        let value_from = line.text_start + delim + 1;
        let (leaf, comment, last) = value(src, &lines, i - 1, value_from, python).map_err(Failure::Error)?;
        i = last + 1;
        let Some(end_line) = lines.get(last) else { return Err(err(line.start, "internal error")) };
        section.items.push(MapItem::Entry(Entry {
            key: key.to_string(),
            span: Span::new(line.start, end_line.next),
            value: Node::Leaf(leaf),
        }));
        section.span.end = end_line.next;
        section.items.extend(comment.map(MapItem::Comment));
    }
    if let Some(section) = sections.last_mut() {
        section.items.extend(pending.drain(..).map(MapItem::Comment));
    }
    let root = sections
        .into_iter()
        .map(|s| MapItem::Entry(Entry { key: s.name, span: s.span, value: Node::Map(s.items) }))
        .collect();
    let root = Root { node: Node::Map(root), end: src.len() };
    Ok(Document { format: Format::Ini, roots: vec![root], indent: None })
}

/// The comment of the `[header]` line whose `]` ends before `after` (the line ends at `end`),
/// which ini.v1 takes as the section's comment (after the comment lines above the header).
///
/// In the encrypted file it cannot stay on the header line, since ini.v1 ends the section name
/// at the last `]` of the line (an `ENC[...]` there would change the name): it is written on
/// the line above the header, as sops writes a section comment, followed by [`HEADER_MARK`]
/// (`; ENC[...] ;header`, see [`write`]). sops reads that line as the section comment and
/// decrypts the `ENC[...]` at its start; gitseal reads it back here (`previous` is where the
/// text of the line above the header starts, `moved` is false for `[sops]`) as the header
/// line's comment, spanning both lines, so that decryption puts it back on the header line.
///
/// Other text after the `]` (`[s] x`), which ini.v1 ignores, is refused: it would stay in the
/// clear.
fn header_comment(
    src: &str,
    after: usize,
    end: usize,
    previous: Option<usize>,
    pending: &mut Vec<Comment>,
    moved: bool,
) -> Result<Option<Comment>, ParseError> {
    let tail = &src[after..end];
    let text = tail.trim();
    if text.starts_with([';', '#']) {
        return Ok(inline_comment(src, after, end));
    }
    if !text.is_empty() {
        let at = after + (tail.len() - tail.trim_start().len());
        return Err(ParseError::at(
            src,
            at,
            "text after a section header's ']' (ini.v1 ignores it; start it with ';' to make it a comment)",
        ));
    }
    let Some(last) = pending.last().filter(|c| moved && Some(c.span.start) == previous) else { return Ok(None) };
    let Some((enc, _)) = moved_header_comment(&last.text) else { return Ok(None) };
    let comment = Comment { text: enc.to_string(), span: Span::new(last.span.start, after), changed: false };
    pending.pop();
    Ok(Some(comment))
}

/// Written after an encrypted header comment moved to the line above its header.
const HEADER_MARK: &str = ";header";

/// `ENC[...]<blanks>;header` (a comment's text): the encrypted comment and the blanks that were
/// between the header's `]` and the comment.
fn moved_header_comment(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_suffix(HEADER_MARK)?;
    let enc = body.trim_end();
    encrypted(enc).then(|| (enc, &body[enc.len()..]))
}

/// True for an `ENC[...]` text as sops writes it (which holds no blanks).
fn encrypted(s: &str) -> bool {
    s.starts_with("ENC[") && s.ends_with(']') && !s.contains(char::is_whitespace)
}

/// A comment starting at the first `#` or `;` of `src[from..end]`, trailing blanks excluded.
fn inline_comment(src: &str, from: usize, end: usize) -> Option<Comment> {
    let rest = src.get(from..end)?;
    let i = rest.find(['#', ';'])?;
    let text = rest[i..].trim_end();
    let span = Span::new(from + i, from + i + text.len());
    Some(Comment { text: strip_comment(text).to_string(), span, changed: false })
}

fn leaf(value: String, span: Span, style: Style) -> Leaf {
    Leaf {
        value: Scalar::Str(value),
        span,
        style,
        indent: 0,
        changed: false,
        literal: None,
        in_flow: false,
        token_in_source: false,
    }
}

/// The value of the key on line `k` whose text after the delimiter starts at `from`: the leaf,
/// an inline comment, and the index of the value's last line.
fn value(
    src: &str,
    lines: &[Line],
    k: usize,
    from: usize,
    python: bool,
) -> Result<(Leaf, Option<Comment>, usize), ParseError> {
    let line = lines[k];
    let rest = &src[from..line.end];
    let start = from + (rest.len() - rest.trim_start().len());
    let rest = &src[start..line.end];
    for (quote, style) in [("\"\"\"", Style::Folded), ("`", Style::Literal)] {
        if !rest.starts_with(quote) || (quote.len() == 3 && rest.len() <= 3) {
            continue;
        }
        let inner = start + quote.len();
        if let Some(pos) = rest[quote.len()..].rfind(quote) {
            let (leaf, comment) = quoted(src, start, inner + pos, line.end, quote, style);
            return Ok((leaf, comment, k));
        }
        for (j, l) in lines.iter().enumerate().skip(k + 1) {
            if let Some(pos) = src[l.start..l.end].rfind(quote) {
                let (leaf, comment) = quoted(src, start, l.start + pos, l.end, quote, style);
                return Ok((leaf, comment, j));
            }
        }
        return Err(ParseError::at(src, start, format!("missing closing {quote} for this value")));
    }
    if python {
        if let Some(last) = continuation(src, lines, k) {
            let end = lines[last].end;
            return Ok((leaf(src[start..end].to_string(), Span::new(start, end), Style::Plain), None, last));
        }
    }
    let trimmed = rest.trim_end();
    if trimmed.ends_with('\\') {
        return Err(ParseError::at(
            src,
            start + trimmed.len() - 1,
            "a value ending in '\\' (line continuation) is not supported",
        ));
    }
    let (value_text, comment) = match trimmed.find(['#', ';']) {
        Some(i) => (trimmed[..i].trim_end(), inline_comment(src, start + i, start + trimmed.len())),
        None => (trimmed, None),
    };
    // `k = \;x`: a backslash before the comment, which ini.v1 reads as an escape.
    if value_text.ends_with('\\') {
        return Err(ParseError::at(
            src,
            start + value_text.len() - 1,
            "a value ending in '\\' before a comment is not supported",
        ));
    }
    let (inner_start, inner, style) = if surrounded(value_text, '"') {
        (start + 1, &value_text[1..value_text.len() - 1], Style::DoubleQuoted)
    } else if surrounded(value_text, '\'') {
        (start + 1, &value_text[1..value_text.len() - 1], Style::SingleQuoted)
    } else {
        (start, value_text, Style::Plain)
    };
    let span = Span::new(inner_start, inner_start + inner.len());
    Ok((leaf(inner.to_string(), span, style), comment, k))
}

/// A value between the `quote` at `open` and the one at `close`, on a line that ends at `end`.
///
/// ini.v1 ignores what follows the closing quote. A comment there is kept as one; other text
/// (`"""a""" b`) joins the value's slot, from the opening quote to the end of that text, so
/// that encryption replaces it (the envelope's layout memory puts it back on decryption); the
/// slot is then plain, and a value written into it is quoted anew.
fn quoted(src: &str, open: usize, close: usize, end: usize, quote: &str, style: Style) -> (Leaf, Option<Comment>) {
    let inner = open + quote.len();
    let after = close + quote.len();
    let tail = &src[after..end];
    let extra = tail[..tail.find(['#', ';']).unwrap_or(tail.len())].trim_end();
    let comment = inline_comment(src, after + extra.len(), end);
    let value = src[inner..close].to_string();
    if extra.is_empty() {
        (leaf(value, Span::new(inner, close), style), comment)
    } else {
        (leaf(value, Span::new(open, after + extra.len()), Style::Plain), comment)
    }
}

/// Python continuation lines after the key on line `k`: the index of the last one (lines
/// indented deeper than the key; blank and comment lines count only between such lines).
fn continuation(src: &str, lines: &[Line], k: usize) -> Option<usize> {
    let indent = lines[k].indent();
    let mut last = None;
    for (j, l) in lines.iter().enumerate().skip(k + 1) {
        let text = &src[l.text_start..l.end];
        if text.is_empty() {
            continue;
        }
        if l.indent() <= indent {
            break;
        }
        if !text.starts_with([';', '#']) {
            last = Some(j);
        }
    }
    last
}

#[cfg(test)]
mod tests;
