//! YAML parsing into the span-carrying document model.
//!
//! saphyr-parser gives the events with character spans; comments are not events, so they are
//! found in the gaps between events. Each comment then goes to the collection it sits in: the
//! one whose next item follows it, or at the end of a block collection the innermost one whose
//! items are not indented deeper than the comment.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::fast;
use super::resolve::{plain_is_str, plain_reads_as_str, resolve_plain, Resolved};
use super::shield::Shielded;
use crate::model::{Comment, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, SeqItem, Span, Style};
use crate::text::{explicit_key_indicator, line_start, next_line_start};
use crate::ParseError;

/// Deepest nesting accepted; deeper input is rejected rather than risking the stack.
pub(super) const MAX_DEPTH: usize = 2000;

/// The first of `count` items whose key an earlier one has: compared in pairs for a few (most
/// mappings), hashed for more. The parse refuses such a mapping, as sops (go-yaml) does, and the
/// read-back pass leaves it to the parse.
pub(super) fn repeated<'i, T>(
    items: impl Iterator<Item = &'i T> + Clone,
    count: usize,
    key: impl Fn(&'i T) -> &'i str,
) -> Option<&'i T> {
    if count <= 16 {
        return items
            .clone()
            .enumerate()
            .find(|&(n, it)| items.clone().take(n).any(|e| key(e) == key(it)))
            .map(|(_, it)| it);
    }
    let mut seen = HashSet::with_capacity_and_hasher(count, foldhash::fast::RandomState::default());
    items.into_iter().find(|&it| !seen.insert(key(it)))
}

struct Ev<'a> {
    event: Event<'a>,
    start: usize,
    end: usize,
    col: usize,
    /// For block scalars: where the `|`/`>` header starts.
    header: Option<usize>,
    /// Where the text between the previous event and this one starts (an anchor may stand
    /// there rather than inside this event's span).
    gap: usize,
}

struct RawComment {
    start: usize,
    end: usize,
    col: usize,
    own_line: bool,
}

/// Maps saphyr's positions to byte offsets. It uses the line and column of each mark rather
/// than its character index, which saphyr miscounts after non-ASCII text in a `%` directive.
/// Marks arrive in order, so a cursor that walks forward makes each lookup amortised O(1).
struct CharMap<'s> {
    text: &'s str,
    ascii: bool,
    /// (line, byte where that line starts, column, byte of that column).
    cursor: std::cell::Cell<(usize, usize, usize, usize)>,
}

impl<'s> CharMap<'s> {
    fn new(text: &'s str) -> CharMap<'s> {
        let map = CharMap { text, ascii: text.is_ascii(), cursor: std::cell::Cell::new((1, 0, 0, 0)) };
        map.reset();
        map
    }

    /// Back to line 1; a byte-order mark is not counted in columns.
    fn reset(&self) {
        let bom = if self.text.starts_with('\u{feff}') { 3 } else { 0 };
        self.cursor.set((1, bom, 0, bom));
    }

    fn byte(&self, line: usize, col: usize) -> usize {
        let (cur_line, _, cur_col, _) = self.cursor.get();
        if line < cur_line || (line == cur_line && col < cur_col) {
            self.reset();
        }
        let (mut l, mut ls, mut c, mut b) = self.cursor.get();
        let bytes = self.text.as_bytes();
        while l < line {
            match memchr::memchr(b'\n', &bytes[ls..]) {
                Some(p) => {
                    ls += p + 1;
                    l += 1;
                    (c, b) = (0, ls);
                }
                None => return self.text.len(),
            }
        }
        if self.ascii {
            // One byte per column: jump.
            let target = (b + (col - c)).min(bytes.len());
            self.cursor.set((l, ls, col, target));
            return target;
        }
        while c < col && b < bytes.len() && bytes[b] != b'\n' {
            b += match bytes[b] {
                x if x < 0x80 => 1,
                x if x >= 0xf0 => 4,
                x if x >= 0xe0 => 3,
                _ => 2,
            };
            c += 1;
        }
        let b = b.min(bytes.len());
        self.cursor.set((l, ls, c, b));
        b
    }
}

pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    parse_with(src, Values::All)
}

/// [`parse`] for decryption: sops value tokens may be left in `src` (see
/// [`Values::TokensInSource`]).
pub(crate) fn parse_encrypted(src: &str) -> Result<Document, ParseError> {
    parse_with(src, Values::TokensInSource)
}

/// What a parse keeps of the values it reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Values {
    /// Every value but strings, which are left empty: a check that the text parses.
    Check,
    /// Every value.
    All,
    /// Every value, except that a sops value token (`ENC[AES256_GCM,data:...]`) that the line
    /// scanner reads as a plain scalar, as the value of a mapping entry outside the top-level
    /// `sops` entry, is left in the source: its leaf holds an empty string and says so
    /// ([`crate::Leaf::token_in_source`]). Decryption reads the token from the source and
    /// replaces it; the copy of every token a large file holds is saved.
    TokensInSource,
}

/// Whether `src` parses, as [`parse`] decides it, and then whether each of its documents holds
/// a top-level `sops` entry. Most encrypted files are passed from the line scanner's events
/// alone (`yaml::readback`); otherwise the parse decides.
pub(crate) fn check(src: &str) -> Result<bool, ParseError> {
    if super::readback::readable(src) {
        return Ok(true);
    }
    parse_check(src)
}

/// [`check`] by a parse, always; the document built has empty strings for its string values (a
/// check of a large file copies none of them).
pub(super) fn parse_check(src: &str) -> Result<bool, ParseError> {
    let doc = parse_with(src, Values::Check)?;
    Ok(!doc.roots.is_empty() && doc.roots.iter().all(|r| r.node.get("sops").is_some()))
}

fn parse_with(src: &str, values: Values) -> Result<Document, ParseError> {
    let parse_text = |text: &str| parse_text(text, values);
    let first = match parse_text(src) {
        Ok(doc) => return Ok(doc),
        Err(e) => e,
    };
    // go-yaml (and so sops) accepts a flow collection's closing bracket at or left of its
    // key's column, and sops writes one itself for `k: [] # note`; saphyr rejects it. Retry
    // with a blank before each such bracket, then map the positions back to the source.
    let mut inserts: Vec<usize> = Vec::new();
    let mut err = first;
    for _ in 0..64 {
        if !err.message.contains("invalid indentation") {
            break;
        }
        let shifted = with_blanks(src, &inserts);
        let at = byte_at(&shifted, err.line, err.column);
        let line = &shifted[line_start(&shifted, at)..at];
        if !matches!(shifted.as_bytes().get(at), Some(b']' | b'}')) || !line.bytes().all(|b| b == b' ') {
            break;
        }
        let orig = at - inserts.iter().enumerate().filter(|&(j, &i)| i + j < at).count();
        inserts.push(orig);
        inserts.sort_unstable();
        match parse_text(&with_blanks(src, &inserts)) {
            Ok(mut doc) => {
                unshift_document(&mut doc, &inserts);
                return Ok(doc);
            }
            Err(e) => err = e,
        }
    }
    Err(if inserts.is_empty() { err } else { parse_text(src).err().unwrap_or(err) })
}

/// `src` with a blank inserted before each of the (sorted) byte offsets `inserts`.
fn with_blanks(src: &str, inserts: &[usize]) -> String {
    let mut out = String::with_capacity(src.len() + inserts.len());
    let mut from = 0;
    for &i in inserts {
        out.push_str(&src[from..i]);
        out.push(' ');
        from = i;
    }
    out.push_str(&src[from..]);
    out
}

/// The byte offset of a 1-based line and character column.
fn byte_at(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => return text.len(),
        }
    }
    text[start..].char_indices().nth(column.saturating_sub(1)).map_or(text.len(), |(b, _)| start + b)
}

/// Maps every position of a document parsed from `with_blanks(src, inserts)` back to `src`.
fn unshift_document(doc: &mut Document, inserts: &[usize]) {
    let back = |x: usize| x - inserts.iter().enumerate().filter(|&(j, &i)| i + j < x).count();
    fn walk(node: &mut Node, f: &dyn Fn(usize) -> usize) {
        let span = |s: &mut Span| {
            s.start = f(s.start);
            s.end = f(s.end);
        };
        match node {
            Node::Leaf(l) => span(&mut l.span),
            Node::Map(items) => {
                for item in items {
                    match item {
                        MapItem::Comment(c) => span(&mut c.span),
                        MapItem::Entry(e) => {
                            span(&mut e.span);
                            walk(&mut e.value, f);
                        }
                    }
                }
            }
            Node::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Comment(c) => span(&mut c.span),
                        SeqItem::Node { start, node } => {
                            *start = f(*start);
                            walk(node, f);
                        }
                    }
                }
            }
            Node::Alias(a) => {
                span(&mut a.span);
                walk(&mut a.node, f);
            }
        }
    }
    for root in &mut doc.roots {
        root.end = back(root.end);
        walk(&mut root.node, &back);
    }
}

fn parse_text(src: &str, values: Values) -> Result<Document, ParseError> {
    // The block YAML most files are made of is read by a line scanner; anything it does not
    // read, and every error (so that errors are saphyr's, word for word), goes to saphyr. A
    // large file is read in halves, whose scanners look at their own half, after the
    // precheck of that half (the precheck and the quick look over the whole text come after,
    // when the halves decline).
    if let Some(doc) = super::halves::parse(src, values) {
        return Ok(doc);
    }
    precheck(src)?;
    if let Ok(events) = fast::Events::new(src) {
        if let Ok(doc) = build(src, Raw::Fast(events), None, values) {
            return Ok(doc);
        }
    }
    let shield = Shielded::new(src);
    let text = shield.as_ref().map_or(src, |s| s.text.as_str());
    let raw = Raw::Saphyr { parser: Parser::new_from_str(text), map: CharMap::new(text) };
    // Tokens are left in the source only where the line scanner reads them.
    let values = if values == Values::TokensInSource { Values::All } else { values };
    build(src, raw, shield.as_ref(), values)
}

/// What is refused in the whole text before any token is read: lone carriage returns and
/// control characters.
pub(super) fn precheck(src: &str) -> Result<(), ParseError> {
    let bytes = src.as_bytes();
    if let Some(at) = memchr::memchr_iter(b'\r', bytes).find(|&i| bytes.get(i + 1) != Some(&b'\n')) {
        return Err(ParseError::at(
            src,
            at,
            "a carriage return without a line feed (old Mac line ending) is not supported",
        ));
    }
    if let Some((at, c)) = forbidden_char(src) {
        return Err(ParseError::at(
            src,
            at,
            format!("control character U+{:04X} is not allowed in YAML (sops refuses it too)", c as u32),
        ));
    }
    Ok(())
}

fn build<'s>(src: &'s str, raw: Raw<'s>, shield: Option<&'s Shielded>, values: Values) -> Result<Document, ParseError> {
    build_from(src, raw, shield, values, 0, false).map(|(doc, _)| doc)
}

/// One half of a parse split in two (see `yaml::halves`): `src[..pos]` when `pos` is `None`,
/// else the rest of `src` from `pos`, read by the line scanner resumed inside the mappings
/// `open`. The first half comes with the mappings open where it ends.
pub(super) fn build_half(
    src: &str,
    pos: Option<usize>,
    open: &[fast::Open],
    values: Values,
) -> Result<(Document, Option<Vec<usize>>), ParseError> {
    let events = match pos {
        None => fast::Events::new(src),
        Some(p) => fast::Events::resume(src, p, open),
    };
    let events = events.map_err(|_| ParseError::at(src, 0, "outside the block YAML subset"))?;
    // After the scanner's quick look, which declines most text outside the subset (the whole
    // parse prechecks it then). A line start: the half is whole lines, and a line is refused or
    // not on its own.
    precheck(pos.map_or(src, |p| &src[p..]))?;
    let (doc, raw) = build_from(src, Raw::Fast(events), None, values, pos.unwrap_or(0), true)?;
    let at_end = match raw {
        Raw::Fast(events) if pos.is_none() => events.open_at_end().map(<[usize]>::to_vec),
        _ => None,
    };
    Ok((doc, at_end))
}

/// [`build`], with the events read from `prev_end` on (earlier ones, which a resumed scanner
/// gives to open what is open there, have no gaps and so no comments). The `half` of a split
/// parse keeps its nested collections when only checking, for the halves to be joined.
fn build_from<'s>(
    src: &'s str,
    raw: Raw<'s>,
    shield: Option<&'s Shielded>,
    values: Values,
    prev_end: usize,
    half: bool,
) -> Result<(Document, Raw<'s>), ParseError> {
    let mut b = Builder {
        src,
        values,
        drop_nested: values == Values::Check && !half,
        entry_value: false,
        in_metadata: false,
        events: Source { raw, shield, prev_end, ended: false },
        comments: Vec::new(),
        ci: 0,
        anchors: HashMap::new(),
        flow: 0,
        depth: 0,
        indent: None,
        root_col: 0,
        value_comments: Vec::new(),
        path: Vec::new(),
        map_items: Vec::new(),
        seq_items: Vec::new(),
    };
    let roots = b.documents()?;
    Ok((Document { format: Format::Yaml, roots, indent: b.indent }, b.events.raw))
}

/// Where the events come from: saphyr (reading the text it is given, maybe shielded), or the
/// line scanner for block YAML. One lives for each parse, so its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Raw<'s> {
    Saphyr {
        parser: Parser<'s, saphyr_parser::StrInput<'s>>,
        /// Character index to byte offset, in the text the parser reads.
        map: CharMap<'s>,
    },
    Fast(fast::Events<'s>),
}

/// The events with byte offsets, read one at a time; the comments in the gaps between them are
/// collected as the events go by.
struct Source<'s> {
    raw: Raw<'s>,
    /// When the parser reads a shielded copy: how to map back to the source.
    shield: Option<&'s Shielded>,
    prev_end: usize,
    ended: bool,
}

impl<'s> Source<'s> {
    /// The next event and its span in the source, as the raw source gives it.
    fn raw_next(&mut self, src: &str) -> Result<Option<(Event<'s>, usize, usize)>, ParseError> {
        match &mut self.raw {
            Raw::Fast(events) => {
                events.next().map_err(|fast::Unsupported| ParseError::at(src, 0, "outside the block YAML subset"))
            }
            Raw::Saphyr { parser, map } => {
                let byte = |mark: &saphyr_parser::Marker| {
                    let b = map.byte(mark.line(), mark.col());
                    self.shield.map_or(b, |s| s.to_original(b))
                };
                match parser.next_event() {
                    None => Ok(None),
                    Some(Ok((event, span))) => Ok(Some((event, byte(&span.start), byte(&span.end)))),
                    Some(Err(e)) => Err(ParseError::at(src, byte(e.marker()), e.info().to_string())),
                }
            }
        }
    }

    fn next(&mut self, src: &'s str, comments: &mut Vec<RawComment>) -> Result<Option<Ev<'s>>, ParseError> {
        if self.ended {
            return Ok(None);
        }
        let Some((event, start, mut end)) = self.raw_next(src)? else {
            self.ended = true;
            find_comments(src, self.prev_end, src.len(), comments);
            return Ok(None);
        };
        let prev_end = self.prev_end;
        let mut header = None;
        let mut gap_end = start;
        let mut inside = None;
        match event {
            // saphyr's span of a quoted scalar runs on over a trailing comment: end it at the
            // closing quote so the comment is seen (and encrypted) as a comment.
            Event::Scalar(_, style @ (ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted), _, _) => {
                end = quoted_end(src, start, end, style == ScalarStyle::SingleQuoted);
            }
            // A collection's span runs on over the comments between its anchor or tag and its
            // first item; it ends with those properties (or its bracket).
            Event::MappingStart(..) | Event::SequenceStart(..) => end = properties_end(src, start, end),
            // A flow collection's end may be reported at a trailing comma, its span running on
            // over comments before the bracket: those are the collection's own.
            Event::MappingEnd | Event::SequenceEnd => {
                let bracket = if matches!(event, Event::MappingEnd) { b'}' } else { b']' };
                let close = flow_close(src, start, bracket);
                if close > start {
                    inside = Some((prev_end.max(start), close - 1));
                    end = close;
                }
            }
            Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, _, _) => {
                let h = find_block_header(src, prev_end, start, end);
                header = Some(h);
                gap_end = gap_end.min(h);
            }
            _ => {}
        }
        if prev_end < gap_end {
            find_comments(src, prev_end, gap_end, comments);
        }
        if let Some((from, to)) = inside {
            find_comments(src, from, to, comments);
        }
        if let Event::StreamEnd = event {
            self.ended = true;
            find_comments(src, prev_end.max(end), src.len(), comments);
        }
        self.prev_end = prev_end.max(end);
        let col = match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => src[line_start(src, start)..start].chars().count(),
            _ => 0,
        };
        Ok(Some(Ev { event, start, end, col, header, gap: prev_end.min(start) }))
    }
}

/// The `|` or `>` that starts a block scalar whose content starts at `content`.
fn find_block_header(src: &str, from: usize, content: usize, end: usize) -> usize {
    let b = src.as_bytes();
    let mut i = from;
    while i < content {
        match b[i] {
            b'|' | b'>' if i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b':' => return i,
            b'#' if i == 0 || b[i - 1].is_ascii_whitespace() => i = next_line_start(src, i),
            _ => i += 1,
        }
    }
    // Anchored or tagged block scalars: the header is inside the event's own span, after the
    // properties (an anchor's name may itself hold `|` or `>`), on their line or a later one.
    let mut i = content;
    while i < end {
        match b[i] {
            b'&' | b'!' => i = skip_properties(src, i, end, true),
            b'#' => i = next_line_start(src, i),
            b'|' | b'>' => return i,
            c if c.is_ascii_whitespace() => i += 1,
            _ => break,
        }
    }
    content
}

/// Comments between `from` and `to`, where no YAML token is.
fn find_comments(src: &str, from: usize, to: usize, out: &mut Vec<RawComment>) {
    let b = src.as_bytes();
    // Most gaps hold only blanks and line breaks.
    let Some(first) = memchr::memchr(b'#', &b[from..to.max(from)]) else { return };
    let mut i = from + first;
    while i < to {
        if b[i] == b'#' && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r')) {
            let ls = line_start(src, i);
            let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
            let end = if end > i && b[end - 1] == b'\r' { end - 1 } else { end };
            out.push(RawComment {
                start: i,
                end,
                col: src[ls..i].chars().count(),
                own_line: src[ls..i].bytes().all(|c| c == b' ' || c == b'\t'),
            });
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
}

struct Builder<'s> {
    src: &'s str,
    /// What is kept of the values.
    values: Values,
    /// Set for the node read next when it is a mapping entry's value.
    entry_value: bool,
    /// Inside the value of a top-level `sops` entry (the metadata).
    in_metadata: bool,
    /// Only checking, not a half of a split parse: nested collections are dropped once read.
    drop_nested: bool,
    events: Source<'s>,
    comments: Vec<RawComment>,
    ci: usize,
    anchors: HashMap<usize, Node>,
    flow: usize,
    depth: usize,
    indent: Option<usize>,
    /// Column of the current document's top-level mapping.
    root_col: usize,
    /// Comments inside the scalar just built: between its properties and its value
    /// (`k: &a # note`), and on a block scalar's header line (`k: | # note`), for the collection
    /// holding it to put before its entry, where sops reads them.
    value_comments: Vec<Comment>,
    /// Spans of the keys on the path to the node being built (for error messages only).
    path: Vec<(usize, usize)>,
    /// The items of the mappings and sequences being built, innermost last: each collection
    /// takes its own off the top when it ends, in a vector of its exact size (the tree of a
    /// large file is most of its memory, and growing each vector would leave a third unused).
    map_items: Vec<MapItem>,
    seq_items: Vec<SeqItem>,
}

impl<'s> Builder<'s> {
    fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.src, at, msg)
    }

    fn path_text(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            let keys: Vec<&str> = self.path.iter().map(|&(a, b)| &self.src[a..b]).collect();
            format!("key path {}", keys.join(":"))
        }
    }

    fn next(&mut self) -> Result<Ev<'s>, ParseError> {
        self.events
            .next(self.src, &mut self.comments)?
            .ok_or_else(|| ParseError::at(self.src, self.src.len(), "unexpected end of YAML input"))
    }

    fn documents(&mut self) -> Result<Vec<Root>, ParseError> {
        let mut roots = Vec::new();
        loop {
            let ev = self.next()?;
            match ev.event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => roots.push(self.document()?),
                _ => return Err(self.err(ev.start, "unexpected YAML event outside a document")),
            }
        }
        if roots.is_empty() && self.ci < self.comments.len() {
            // A file of comments only: one empty mapping that holds them (sops cannot read it,
            // but its comments are still encrypted rather than left in the clear).
            let items = self.take_comments_before(self.src.len());
            roots.push(Root { node: Node::Map(items), end: self.src.len() });
        }
        Ok(roots)
    }

    fn document(&mut self) -> Result<Root, ParseError> {
        let ev = self.next()?;
        let start = ev.start;
        self.root_col = self.src[line_start(self.src, start)..start].chars().count();
        let mut lead = self.take_comments_before(start);
        let (node, _) = self.node(ev, None)?;
        let mut node =
            match node {
                Node::Map(items) => Node::Map(items),
                Node::Leaf(Leaf { value: Scalar::Null, .. }) => Node::Map(Vec::new()),
                _ => return Err(self.err(
                    start,
                    "the top level of a YAML document must be a mapping (sops cannot read sequences or scalars there)",
                )),
            };
        let end_ev = self.next()?;
        let Event::DocumentEnd = end_ev.event else {
            return Err(self.err(end_ev.start, "expected the end of the YAML document"));
        };
        let explicit = end_ev.end > end_ev.start;
        let doc_end = if explicit { line_start(self.src, end_ev.start) } else { self.src.len() };
        let trailing = self.take_comments_before(if explicit { end_ev.start } else { self.src.len() });
        if let Node::Map(items) = &mut node {
            lead.append(items);
            lead.extend(trailing);
            *items = lead;
        }
        Ok(Root { node, end: doc_end })
    }

    fn take_comments_before(&mut self, pos: usize) -> Vec<MapItem> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.ci).filter(|c| c.start < pos) {
            out.push(MapItem::Comment(self.comment(c)));
            self.ci += 1;
        }
        out
    }

    fn comment(&self, c: &RawComment) -> Comment {
        Comment { text: self.src[c.start + 1..c.end].to_string(), span: Span::new(c.start, c.end), changed: false }
    }

    /// Takes the comments before `pos` for the collection being built. At the close of a block
    /// collection (`closing` is `Some((indentless, next_col))`), comments are foot comments of
    /// this innermost collection, as go-yaml v3 attaches them, except from the first own-line
    /// comment that sits at the column of the token after the close (a head comment of that
    /// next key).
    fn take_item_comments(&mut self, pos: usize, closing: Option<(bool, Option<usize>)>) -> Vec<Comment> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.ci).filter(|c| c.start < pos) {
            if let Some((indentless, next_col)) = closing {
                // At the end of a document the encrypted file goes on with the `sops` key at
                // the top level: decide as for that key, so that gitseal and sops attach the
                // comment where they will find it when decrypting.
                let n = next_col.unwrap_or(self.root_col);
                // A sequence whose `-` stands at the next key's column ends at any comment
                // left of it (go-yaml v3).
                let leaves = c.col == n || (indentless && c.col < n);
                if c.own_line && leaves {
                    break;
                }
            }
            out.push(self.comment(c));
            self.ci += 1;
        }
        out
    }

    /// Column of the token that follows a block collection closing at `pos` (saphyr places the
    /// close at that token): its line's indentation, which for a sequence item is its `-`.
    /// `None` at the end of the document.
    fn next_token_col(&self, pos: usize) -> Option<usize> {
        let rest = &self.src[pos.min(self.src.len())..];
        if rest.is_empty() || rest.starts_with("---") || rest.starts_with("...") {
            return None;
        }
        let line = &self.src[line_start(self.src, pos)..pos];
        Some(line.len() - line.trim_start_matches(' ').len())
    }

    /// Inline comments before a block collection's first item (`key: # note`) belong to the
    /// enclosing collection, as go-yaml v3 keeps them on the key.
    fn take_inline_comments_before(&mut self, pos: usize) -> Vec<Comment> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.ci).filter(|c| c.start < pos && !c.own_line) {
            out.push(self.comment(c));
            self.ci += 1;
        }
        out
    }

    /// A comment on the rest of the line after a scalar or flow collection that ends at `pos`
    /// (`key: value # note`). It is taken here, before the parser reaches it: saphyr's span of a
    /// flow collection's end runs on over it, so the gap scan would never see it (it stayed in
    /// the clear).
    fn trailing_comment(&mut self, pos: usize) -> Option<Comment> {
        let b = self.src.as_bytes();
        let mut i = pos;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if i == pos || b.get(i) != Some(&b'#') {
            return None;
        }
        if let Some(c) = self.comments.get(self.ci).filter(|c| c.start == i) {
            let c = self.comment(c);
            self.ci += 1;
            return Some(c);
        }
        if self.comments[self.ci..].iter().any(|c| c.start <= i) {
            return None;
        }
        let end = self.src[i..].find('\n').map_or(self.src.len(), |n| i + n);
        let end = if end > i && b[end - 1] == b'\r' { end - 1 } else { end };
        self.events.prev_end = self.events.prev_end.max(end);
        Some(Comment { text: self.src[i + 1..end].to_string(), span: Span::new(i, end), changed: false })
    }

    /// The comment on a block scalar's header line, `header` being its `|`/`>` and `content`
    /// where saphyr starts its content. The scalar's span still covers it: when the value is
    /// replaced, the comment goes with it (and comes back through the layout memory).
    fn header_line_comment(&self, header: usize, content: usize) -> Option<Comment> {
        // An anchored or tagged scalar's event starts before its header.
        let line_end = self.src[header..].find('\n').map_or(self.src.len(), |n| header + n);
        let line_end = if content > header { line_end.min(content) } else { line_end };
        let line = &self.src[header..line_end];
        let hash = line
            .bytes()
            .enumerate()
            .position(|(i, b)| b == b'#' && i > 0 && matches!(line.as_bytes()[i - 1], b' ' | b'\t'))?;
        let start = header + hash;
        let end = if line.ends_with('\r') { line_end - 1 } else { line_end };
        Some(Comment { text: self.src[start + 1..end].to_string(), span: Span::new(start, end), changed: false })
    }

    /// Refuses an anchor or alias name go-yaml refuses (see [`bad_anchor_name`]). Called for
    /// every node; nearly none has a name.
    #[inline]
    fn check_anchor_name(&self, ev: &Ev<'s>) -> Result<(), ParseError> {
        let named = match &ev.event {
            Event::Scalar(_, _, anchor, _) | Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                *anchor > 0
            }
            Event::Alias(_) => true,
            _ => false,
        };
        if named {
            self.check_named(ev)
        } else {
            Ok(())
        }
    }

    #[cold]
    fn check_named(&self, ev: &Ev<'s>) -> Result<(), ParseError> {
        if let Some(at) = bad_anchor_name(self.src, ev.gap, ev.end) {
            return Err(self.err(
                at,
                format!(
                    "the anchor or alias name at {} holds a character other than a letter, a digit, - or _ (go-yaml, and so sops, refuses it)",
                    self.path_text()
                ),
            ));
        }
        Ok(())
    }

    /// Builds the node that starts with `ev`; returns it and the end of its last token.
    fn node(&mut self, ev: Ev<'s>, parent_col: Option<usize>) -> Result<(Node, usize), ParseError> {
        let entry_value = std::mem::take(&mut self.entry_value);
        self.check_anchor_name(&ev)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(ev.start, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let collection_tag = match &ev.event {
            Event::MappingStart(_, Some(t)) => Some((t, &["map", "set"][..])),
            Event::SequenceStart(_, Some(t)) => Some((t, &["seq", "omap", "pairs"][..])),
            _ => None,
        };
        if let Some((t, fits)) = collection_tag.filter(|(t, _)| t.handle == "tag:yaml.org,2002:") {
            if !fits.contains(&t.suffix.as_str()) {
                self.depth -= 1;
                return Err(
                    self.err(ev.start, format!("the collection at {} cannot be !!{}", self.path_text(), t.suffix))
                );
            }
        }
        let result = match ev.event {
            Event::Scalar(..) => self.scalar(ev, parent_col, entry_value),
            Event::Alias(id) => self.alias(&ev, id),
            Event::MappingStart(anchor, _) => self.mapping(&ev, parent_col).map(|r| self.remember(anchor, r)),
            Event::SequenceStart(anchor, _) => self.sequence(&ev, parent_col).map(|r| self.remember(anchor, r)),
            _ => Err(self.err(ev.start, "unexpected YAML token")),
        };
        self.depth -= 1;
        if !self.drop_nested || self.depth == 0 {
            return result;
        }
        // Only checking: a nested collection's items are dropped once read and checked, so the
        // check of a large file holds one path of the tree at a time, not the whole tree.
        result.map(|(node, end)| match node {
            Node::Map(_) => (Node::Map(Vec::new()), end),
            Node::Seq(_) => (Node::Seq(Vec::new()), end),
            other => (other, end),
        })
    }

    fn remember(&mut self, anchor: usize, r: (Node, usize)) -> (Node, usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, r.0.clone());
        }
        r
    }

    fn scalar(
        &mut self,
        ev: Ev<'s>,
        parent_col: Option<usize>,
        entry_value: bool,
    ) -> Result<(Node, usize), ParseError> {
        let (start, end, header) = (ev.start, ev.end, ev.header);
        let ev_start = start;
        let Event::Scalar(text, style, anchor, tag) = ev.event else { unreachable!("checked by caller") };
        let tag_suffix = tag.as_ref().map(|t| (t.handle.clone(), t.suffix.clone()));
        let mut header_comment = None;
        let (st, span, indent) = match style {
            ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let vstart = scalar_start(self.src, start, end);
                let st = match style {
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    _ => Style::Plain,
                };
                (st, Span::new(vstart, end), 0)
            }
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let header = header.unwrap_or(start);
                // Without a content line saphyr starts (and ends) the scalar at the next token:
                // the blank lines after the header line are the content then.
                let (start, end) = if start == end && start > header && text.trim_matches(['\n', ' ']).is_empty() {
                    let first = next_line_start(self.src, header).min(start);
                    // Up to the first line that is not blank (a comment line, or the next token).
                    let mut end = first;
                    while end < start {
                        let next = next_line_start(self.src, end);
                        if next > start || !self.src[end..next].trim().is_empty() {
                            break;
                        }
                        end = next;
                    }
                    (first, end.min(line_start(self.src, start)).max(first))
                } else {
                    (start, end)
                };
                let st = if style == ScalarStyle::Literal { Style::Literal } else { Style::Folded };
                // The indicators right after `|`/`>` (not a comment on the header line).
                let header_text: &str = {
                    let line = self.src[header..start.max(header)].lines().next().unwrap_or("");
                    let n = line.bytes().skip(1).take_while(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-')).count();
                    &line[..(1 + n).min(line.len())]
                };
                let explicit = header_text.bytes().find(u8::is_ascii_digit).map(|d| usize::from(d - b'0'));
                let content_from = if start <= header { next_line_start(self.src, header).min(end) } else { start };
                let indent = match explicit {
                    // Relative to the collection holding the scalar (`- k: |2` is at column 2).
                    // A header on a line of its own says nothing about the indentation.
                    Some(d) => {
                        let ls = line_start(self.src, header);
                        let line = &self.src[ls..];
                        let line_indent = line.len() - line.trim_start_matches(' ').len();
                        match parent_col {
                            Some(c) if ls + line_indent == header => c + d,
                            Some(c) => c.max(line_indent) + d,
                            None => line_indent + d,
                        }
                    }
                    // An anchored or tagged scalar's event starts before its header: its
                    // content starts on the next line.
                    None => match self.src[content_from.min(end)..end].lines().find(|l| !l.trim().is_empty()) {
                        Some(l) => {
                            l.len() - l.trim_start_matches(' ').len()
                                + (content_from - line_start(self.src, content_from))
                        }
                        // No content: one step in from the header's line (only for writing).
                        None => {
                            let line = &self.src[line_start(self.src, header)..];
                            line.len() - line.trim_start_matches(' ').len() + 2
                        }
                    },
                };
                let explicit_indent = explicit.map(|_| indent);
                if let Some(at) = block_indent_tab(self.src, next_line_start(self.src, header), end, explicit_indent) {
                    return Err(self.err(
                        at,
                        format!(
                            "a tab where the indentation of the block scalar at {} is (YAML allows only spaces there; sops refuses it too)",
                            self.path_text()
                        ),
                    ));
                }
                let content_end = block_content_end(self.src, start, end, header_text.contains('+'), indent);
                header_comment = self.header_line_comment(header, start);
                // A tag on the header's line belongs to the value (see `skip_properties`).
                let from =
                    if tag_suffix.is_some() { scalar_start(self.src, start.min(header), header) } else { header };
                let from = if self.src[from..header].contains('\n') { header } else { from };
                (st, Span::new(from, content_end), indent)
            }
        };
        // Comments between the properties and the value are outside the value's span: they
        // stay where they are, encrypted as the scalar's neighbours.
        let mut inside = Vec::new();
        find_comments(self.src, ev_start, span.start, &mut inside);
        self.value_comments = inside.iter().map(|c| self.comment(c)).chain(header_comment).collect();
        let text = match self.events.shield {
            Some(sh) => sh.restore(self.src, text, span.start, span.end),
            None => text,
        };
        let text = match st {
            Style::Literal | Style::Folded => eof_chomped(self.src, header.unwrap_or(start), end, indent, text),
            _ => text,
        };
        if entry_value && anchor == 0 && tag_suffix.is_none() && self.token_in_source(&text, st, span) {
            let leaf = Leaf {
                value: Scalar::Str(String::new()),
                span,
                style: st,
                indent,
                changed: false,
                in_flow: self.flow > 0,
                literal: None,
                token_in_source: true,
            };
            return Ok((Node::Leaf(leaf), span.end));
        }
        let value = self.typed(text, st, tag_suffix.as_ref(), start)?;
        let literal = match (&value, st, &tag_suffix) {
            (Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_), Style::Plain, None) => {
                Some(self.src[span.start..span.end].to_string())
            }
            _ => None,
        };
        let in_flow = self.flow > 0;
        let leaf = Leaf { value, span, style: st, indent, changed: false, in_flow, literal, token_in_source: false };
        let node = Node::Leaf(leaf);
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok((node, span.end))
    }

    /// Whether a mapping entry's untagged, unanchored scalar `text` with `style` and `span` is
    /// left in the source (see [`Values::TokensInSource`]): a plain sops value token that the
    /// line scanner read as the source text at `span`, outside the top-level `sops` entry.
    fn token_in_source(&self, text: &str, style: Style, span: Span) -> bool {
        self.values == Values::TokensInSource
            && style == Style::Plain
            && matches!(self.events.raw, Raw::Fast(_))
            && self.events.shield.is_none()
            && text.starts_with("ENC[AES256_GCM,data:")
            // The scanner's text is the source's own (not a copy that was unescaped or unfolded).
            && self.src.get(span.start..span.end).is_some_and(|s| std::ptr::eq(text, s))
            && !self.in_metadata
    }

    /// A string value; empty when only checking.
    fn string(&self, text: Cow<'_, str>) -> Scalar {
        Scalar::Str(if self.values == Values::Check { String::new() } else { text.into_owned() })
    }

    fn typed(
        &self,
        text: std::borrow::Cow<'_, str>,
        style: Style,
        tag: Option<&(String, String)>,
        at: usize,
    ) -> Result<Scalar, ParseError> {
        let core = tag.filter(|(h, _)| h == "tag:yaml.org,2002:").map(|(_, s)| s.as_str());
        if let Some(t) =
            core.filter(|t| !matches!(*t, "str" | "int" | "float" | "bool" | "null" | "binary" | "timestamp"))
        {
            let what = if CORE_TAGS.contains(&t) { "is a scalar and cannot be" } else { "has an unknown YAML tag" };
            return Err(self.err(at, format!("value at {} {what} !!{t}", self.path_text())));
        }
        let wanted = match (tag, core) {
            (_, Some("binary")) => {
                return decode_base64(&text)
                    .and_then(|b| String::from_utf8(b).ok())
                    .map(Scalar::Str)
                    .ok_or_else(|| self.err(at, format!("invalid !!binary value at {}", self.path_text())));
            }
            (_, Some(t @ ("int" | "float" | "bool" | "null" | "timestamp"))) => Some(t),
            (None, None) if style == Style::Plain => None,
            _ => return Ok(self.string(text)),
        };
        if wanted.is_none() && plain_is_str(&text) {
            return Ok(self.string(text));
        }
        match (resolve_plain(&text), wanted) {
            (Resolved::Value(Scalar::Int(n)), Some("float")) => Ok(Scalar::Float(n as f64)),
            (Resolved::Value(Scalar::Str(_)), Some(t)) => {
                Err(self.err(at, format!("value at {} cannot be read as !!{t}", self.path_text())))
            }
            (Resolved::Value(Scalar::Str(_)), None) => Ok(self.string(text)),
            (Resolved::Value(v), _) => Ok(v),
            (Resolved::Unsigned, _) => Err(self.err(
                at,
                format!(
                    "integer at {} is larger than a signed 64-bit integer, which sops cannot store; quote it to keep it as a string",
                    self.path_text()
                ),
            )),
        }
    }

    fn alias(&mut self, ev: &Ev<'s>, id: usize) -> Result<(Node, usize), ParseError> {
        let (start, end) = (ev.start, ev.end);
        match self.anchors.get(&id) {
            Some(Node::Leaf(l)) => {
                let leaf = Leaf {
                    value: l.value.clone(),
                    span: Span::new(start, end),
                    style: Style::Plain,
                    indent: 0,
                    changed: false,
                    in_flow: self.flow > 0,
                    literal: l.literal.clone(),
                    // An anchored value is never left in the source.
                    token_in_source: false,
                };
                Ok((Node::Leaf(leaf), end))
            }
            Some(node) => {
                let node = node.clone();
                Ok((Node::Alias(Box::new(crate::model::Alias { span: Span::new(start, end), node })), end))
            }
            None => Err(self.err(start, "alias refers to an unknown anchor")),
        }
    }

    fn block_collection_start(&mut self, ev: &Ev<'s>, parent_col: Option<usize>, open: u8) -> bool {
        let flow = flow_event(self.src, ev) == Some(open);
        // A collection with an anchor or a tag starts, for saphyr, at that property (on the
        // parent's line): its column says nothing about the indentation.
        let property = matches!(self.src.as_bytes().get(ev.start), Some(b'&' | b'!'));
        if !flow && !property {
            if let (None, Some(p)) = (self.indent, parent_col) {
                if ev.col > p {
                    self.indent = Some(ev.col - p);
                }
            }
        }
        self.flow += usize::from(flow);
        flow
    }

    fn mapping(&mut self, ev: &Ev<'s>, parent_col: Option<usize>) -> Result<(Node, usize), ParseError> {
        let base = self.map_items.len();
        match self.mapping_items(ev, parent_col) {
            Ok((entries, last)) => {
                // A document's top level, often the largest, keeps the vector it grew in.
                let items = if self.depth == 1 {
                    std::mem::take(&mut self.map_items)
                } else {
                    self.map_items.drain(base..).collect()
                };
                self.check_duplicates(&items, entries)?;
                Ok((Node::Map(items), last))
            }
            Err(e) => {
                self.map_items.truncate(base);
                Err(e)
            }
        }
    }

    /// Reads a mapping's items onto `map_items`; returns how many are entries, and where the
    /// mapping ends.
    fn mapping_items(&mut self, ev: &Ev<'s>, parent_col: Option<usize>) -> Result<(usize, usize), ParseError> {
        let mut col = ev.col;
        let flow = self.block_collection_start(ev, parent_col, b'{');
        let mut last = ev.end;
        let mut entries = 0usize;
        loop {
            let kev = self.next()?;
            if let Event::MappingEnd = kev.event {
                let closing = (!flow).then(|| (false, self.next_token_col(kev.start)));
                if flow {
                    last = flow_close(self.src, kev.start, b'}');
                }
                let comments = self.take_item_comments(last.max(kev.start), closing);
                self.map_items.extend(comments.into_iter().map(MapItem::Comment));
                break;
            }
            let (kstart, kend) = (kev.start, kev.end);
            if entries == 0 && !flow {
                // An anchor or tag puts the mapping's event on the line before its first key;
                // an explicit key (`?` then the key) starts at its `?`, maybe a line above.
                let at = explicit_key_indicator(self.src, kstart).unwrap_or(kstart);
                col = self.src[line_start(self.src, at)..at].chars().count();
                if self.depth == 1 {
                    // The top level's keys, not its anchor or tag, stand where the `sops` key
                    // will follow in the encrypted file.
                    self.root_col = col;
                }
            }
            let comments = self.take_item_comments(kstart, None);
            self.map_items.extend(comments.into_iter().map(MapItem::Comment));
            let key = self.key(kev)?;
            let v = self.next()?;
            let vstart = v.start;
            let block_value = matches!(v.event, Event::MappingStart(..) | Event::SequenceStart(..))
                && flow_event(self.src, &v).is_none();
            if block_value {
                let comments = self.take_inline_comments_before(vstart);
                self.map_items.extend(comments.into_iter().map(MapItem::Comment));
            }
            self.path.push((kstart, kend));
            self.entry_value = true;
            if self.depth == 1 {
                self.in_metadata = key == "sops";
            }
            let built = self.node(v, Some(col));
            self.path.pop();
            let (mut value, vend) = built?;
            last = vend;
            if !flow && !block_value {
                if let Some(c) = self.trailing_comment(vend) {
                    let stack = &mut self.map_items;
                    place_trailing(c, &mut value, &mut |c| stack.push(MapItem::Comment(c)));
                }
            }
            self.map_items.extend(self.value_comments.drain(..).map(MapItem::Comment));
            let ls = line_start(self.src, kstart);
            let entry_start =
                if !flow && self.src[ls..kstart].bytes().all(|c| c == b' ' || c == b'\t') { ls } else { kstart };
            let entry_end = if flow { vend } else { next_line_start(self.src, vend.max(kstart)) };
            self.map_items.push(MapItem::Entry(Entry { key, span: Span::new(entry_start, entry_end), value }));
            entries += 1;
        }
        self.flow -= usize::from(flow);
        Ok((entries, last))
    }

    /// sops (go-yaml) rejects a mapping that repeats a key.
    fn check_duplicates(&self, items: &[MapItem], entries: usize) -> Result<(), ParseError> {
        match repeated(items.iter().filter_map(MapItem::entry), entries, |e| e.key.as_str()) {
            Some(e) => Err(self.duplicate(e)),
            None => Ok(()),
        }
    }

    fn duplicate(&self, e: &Entry) -> ParseError {
        let at = self.src[e.span.start..].find(|c: char| !c.is_whitespace()).map_or(e.span.start, |o| e.span.start + o);
        self.err(at, format!("duplicate key {:?} at {}", e.key, self.path_text()))
    }

    fn key(&mut self, ev: Ev<'s>) -> Result<String, ParseError> {
        self.check_anchor_name(&ev)?;
        match ev.event {
            Event::Scalar(text, style, _, tag) => {
                if let Some(t) = &tag {
                    let core = (t.handle == "tag:yaml.org,2002:").then_some(t.suffix.as_str());
                    // A merge key with any tag but `!!merge` (go-yaml reads it as a merge or
                    // not, by version; PyYAML as a plain key or not at all), or a key with a
                    // YAML type tag other than `!!str` (sops keys are strings).
                    let ok = match core {
                        Some("merge") => text == "<<",
                        _ if text == "<<" => false,
                        Some(t) => t == "str",
                        None => true,
                    };
                    if !ok {
                        let shown = if core.is_some() {
                            format!("!!{}", t.suffix)
                        } else {
                            format!("{}{}", t.handle, t.suffix)
                        };
                        return Err(self.err(
                            ev.start,
                            format!(
                                "key {:?} at {} has the tag {shown}, which YAML readers disagree on",
                                text.as_ref(),
                                self.path_text()
                            ),
                        ));
                    }
                }
                // (Most keys are plainly strings: no value is built to find that out.)
                let plain_non_str = style == ScalarStyle::Plain && tag.is_none() && !plain_reads_as_str(&text);
                if plain_non_str {
                    return Err(self.err(
                        ev.start,
                        format!(
                            "key {:?} at {} is not a string (sops accepts only string keys); quote it",
                            text.as_ref(),
                            self.path_text()
                        ),
                    ));
                }
                Ok(text.into_owned())
            }
            Event::Alias(_) => Err(self.err(ev.start, format!("alias used as a key at {}", self.path_text()))),
            _ => Err(self.err(ev.start, format!("complex (non-scalar) key at {}", self.path_text()))),
        }
    }

    fn sequence(&mut self, ev: &Ev<'s>, parent_col: Option<usize>) -> Result<(Node, usize), ParseError> {
        let base = self.seq_items.len();
        match self.sequence_items(ev, parent_col) {
            Ok(last) => {
                let items = if self.depth == 1 {
                    std::mem::take(&mut self.seq_items)
                } else {
                    self.seq_items.drain(base..).collect()
                };
                Ok((Node::Seq(items), last))
            }
            Err(e) => {
                self.seq_items.truncate(base);
                Err(e)
            }
        }
    }

    /// Reads a sequence's items onto `seq_items`; returns where the sequence ends.
    fn sequence_items(&mut self, ev: &Ev<'s>, parent_col: Option<usize>) -> Result<usize, ParseError> {
        let col = ev.col;
        let flow = self.block_collection_start(ev, parent_col, b'[');
        let mut dash_col = None;
        let mut last = ev.end;
        loop {
            let kev = self.next()?;
            if let Event::SequenceEnd = kev.event {
                let next = self.next_token_col(kev.start);
                // At the end of a document, the `sops` key will follow at the top level's column.
                let indentless = dash_col.is_some() && dash_col == Some(next.unwrap_or(self.root_col));
                let closing = (!flow).then_some((indentless, next));
                if flow {
                    last = flow_close(self.src, kev.start, b']');
                }
                let comments = self.take_item_comments(last.max(kev.start), closing);
                self.seq_items.extend(comments.into_iter().map(SeqItem::Comment));
                break;
            }
            let kstart = kev.start;
            let comments = self.take_item_comments(kstart, None);
            self.seq_items.extend(comments.into_iter().map(SeqItem::Comment));
            let item_start = if flow { kstart } else { dash_before(self.src, kstart) };
            if dash_col.is_none() && !flow {
                dash_col = Some(self.src[line_start(self.src, item_start)..item_start].chars().count());
            }
            let block_value = matches!(kev.event, Event::MappingStart(..) | Event::SequenceStart(..))
                && flow_event(self.src, &kev).is_none();
            let (mut node, vend) = self.node(kev, Some(col))?;
            last = vend;
            if !flow && !block_value {
                if let Some(c) = self.trailing_comment(vend) {
                    let stack = &mut self.seq_items;
                    place_trailing(c, &mut node, &mut |c| stack.push(SeqItem::Comment(c)));
                }
            }
            self.seq_items.extend(self.value_comments.drain(..).map(SeqItem::Comment));
            self.seq_items.push(SeqItem::Node { start: item_start, node });
        }
        self.flow -= usize::from(flow);
        Ok(last)
    }
}

/// Where a node that starts at `start` begins after its anchor and tag (`&a {`, `!t [`).
fn after_properties(src: &str, start: usize) -> usize {
    skip_properties_and_comments(src, start, src.len(), true)
}

/// The bracket of a collection-start event that opens a flow collection (`{`/`[`, after any
/// anchor or tag, inside the event's span); `None` for a block collection. A block sequence
/// starts at its first item's content, which may itself be a bracket (`- [1]`, `- {a: 1}`),
/// but its event is empty there.
fn flow_event(src: &str, ev: &Ev<'_>) -> Option<u8> {
    let at = after_properties(src, ev.start);
    let open = match ev.event {
        Event::MappingStart(..) => b'{',
        Event::SequenceStart(..) => b'[',
        _ => return None,
    };
    // An anchored or tagged collection's event may end before a comment that stands between
    // its properties and the bracket.
    let anchored = ev.end > ev.start && matches!(src.as_bytes()[ev.start], b'&' | b'!');
    ((at < ev.end || anchored) && src.as_bytes().get(at) == Some(&open)).then_some(open)
}

/// The first character YAML does not allow in a stream (go-yaml's reader refuses it: "control
/// characters are not allowed"): C0 controls but tab, line feed and carriage return, DEL, C1
/// controls but NEL, U+FFFE and U+FFFF. Readers that accept them disagree on what follows.
pub(super) fn forbidden_char(src: &str) -> Option<(usize, char)> {
    let forbidden = |c: char| {
        let u = c as u32;
        (u < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
            || ((0x7f..=0x9f).contains(&u) && u != 0x85)
            || u == 0xfffe
            || u == 0xffff
    };
    // Printable ASCII and line feeds (nearly every byte of a config file) are checked 64 bytes
    // at a time without branches; only a block holding anything else (a tab, say) is decoded
    // and checked character by character.
    let plain = |c: u8| (c.wrapping_sub(0x20) < 0x5f) | (c == b'\n');
    let b = src.as_bytes();
    let mut at = 0;
    while at < b.len() {
        let mut end = (at + 64).min(b.len());
        let clean = match b[at..end].first_chunk::<64>() {
            // A whole block, of a length the compiler knows: one vector pass.
            Some(block) => block.iter().fold(true, |ok, &c| ok & plain(c)),
            None => b[at..end].iter().all(|&c| plain(c)),
        };
        if clean {
            at = end;
            continue;
        }
        while !src.is_char_boundary(end) {
            end += 1;
        }
        if let Some((i, c)) = src[at..end].char_indices().find(|&(_, c)| forbidden(c)) {
            return Some((at + i, c));
        }
        at = end;
    }
    None
}

/// The tags of the YAML 1.1 and 1.2 type repository (`!!name`). Any other `!!name` is refused:
/// readers disagree on it (PyYAML refuses it, go-yaml reads the value as if untagged).
const CORE_TAGS: &[&str] = &[
    "str",
    "int",
    "float",
    "bool",
    "null",
    "binary",
    "timestamp",
    "map",
    "seq",
    "omap",
    "pairs",
    "set",
    "merge",
    "value",
    "yaml",
];

/// Puts a trailing comment where sops (go-yaml v3) reads it: a line comment after a flow
/// collection belongs inside it, before its first item; after a scalar it comes before the
/// entry or item it follows (`push`), so comment-based selection rules see it first. After an
/// alias to a collection it goes inside the alias's expansion, where it is when the alias is
/// written out as a flow collection (with encrypted values), so its key path stays the same.
fn place_trailing(c: Comment, node: &mut Node, push: &mut impl FnMut(Comment)) {
    match node {
        Node::Map(items) => items.insert(0, MapItem::Comment(c)),
        Node::Seq(items) => items.insert(0, SeqItem::Comment(c)),
        Node::Alias(a) if matches!(a.node, Node::Map(_) | Node::Seq(_)) => place_trailing(c, &mut a.node, push),
        Node::Leaf(_) | Node::Alias(_) => push(c),
    }
}

/// One past the bracket that closes a flow collection whose end saphyr reports at `from` (it
/// reports a trailing comma there): skips blanks, commas and comments.
fn flow_close(src: &str, from: usize, bracket: u8) -> usize {
    let b = src.as_bytes();
    let mut i = from;
    while i < b.len() {
        match b[i] {
            c if c == bracket => return i + 1,
            b'#' => i = src[i..].find('\n').map_or(src.len(), |n| i + n),
            b' ' | b'\t' | b'\r' | b'\n' | b',' => i += 1,
            _ => break,
        }
    }
    from
}

/// Start of a scalar's span: after any `&anchor`, at its `!tag` when it has one.
///
/// A tag is part of the value: an encrypted value is a plain string, so the tag goes when the
/// value is replaced (as sops drops it), and the layout memory brings the author's tag back on
/// decryption. A tag found in front of an encrypted value is so never taken from the clear text.
/// Where a scalar's value starts, after its anchor and the comments that may follow it (a
/// tag stays part of the value).
fn scalar_start(src: &str, start: usize, end: usize) -> usize {
    skip_properties_and_comments(src, start, end, false)
}

/// Skips properties as [`skip_properties`] does, and the comments between and after them.
fn skip_properties_and_comments(src: &str, start: usize, end: usize, tags: bool) -> usize {
    let b = src.as_bytes();
    let mut i = skip_properties(src, start, end, tags);
    while i < end && b[i] == b'#' && i > start && b[i - 1].is_ascii_whitespace() {
        i = next_line_start(src, i).min(end);
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i = skip_properties(src, i, end, tags);
    }
    i
}

/// Where the name of an anchor (`&name`) or alias (`*name`) between `from` and `to` (an event
/// and the gap before it) breaks go-yaml's rule (ASCII letters, digits, `-` and `_`, at least
/// one): go-yaml refuses such a file, and readers that accept it disagree on where the name ends.
fn bad_anchor_name(src: &str, from: usize, to: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = from;
    while i < to {
        match b[i] {
            b'#' if i == from || b[i - 1].is_ascii_whitespace() => i = next_line_start(src, i),
            b'!' => {
                while i < to && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
            b'&' | b'*' => {
                let name = i + 1;
                let mut j = name;
                while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b',' | b'[' | b']' | b'{' | b'}') {
                    if !(b[j].is_ascii_alphanumeric() || matches!(b[j], b'-' | b'_')) {
                        return Some(j);
                    }
                    j += 1;
                }
                if j == name {
                    return Some(i);
                }
                i = j;
            }
            b'-' | b'?' | b':' | b',' | b'{' | b'[' => i += 1,
            c if c.is_ascii_whitespace() => i += 1,
            _ => return None,
        }
    }
    None
}

/// Skips the `&anchor` (and with `tags`, the `!tag`) properties that start at `start`.
fn skip_properties(src: &str, start: usize, end: usize, tags: bool) -> usize {
    let b = src.as_bytes();
    let mut i = start;
    while i < end && (b[i] == b'&' || (tags && b[i] == b'!')) {
        // An anchor name ends at a blank or a flow indicator.
        let anchor = b[i] == b'&';
        while i < end && !b[i].is_ascii_whitespace() && !(anchor && matches!(b[i], b'{' | b'[' | b']' | b'}' | b',')) {
            i += 1;
        }
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
    }
    i
}

/// End of the `&anchor`/`!tag` properties (and a `{`/`[`) that start at `start`.
fn properties_end(src: &str, start: usize, end: usize) -> usize {
    let b = src.as_bytes();
    let mut i = start;
    let mut last = start;
    while i < end {
        match b[i] {
            b'&' | b'!' => {
                while i < end && !b[i].is_ascii_whitespace() && !matches!(b[i], b'{' | b'[') {
                    i += 1;
                }
                last = i;
            }
            b'{' | b'[' => return i + 1,
            c if c.is_ascii_whitespace() => i += 1,
            _ => break,
        }
    }
    last
}

/// One past the closing quote of the quoted scalar that starts (after any properties) in
/// `start..end`.
fn quoted_end(src: &str, start: usize, end: usize, single: bool) -> usize {
    let b = src.as_bytes();
    let q = if single { b'\'' } else { b'"' };
    let Some(open) = b[start..end].iter().position(|&c| c == q).map(|p| start + p) else { return end };
    let mut i = open + 1;
    while i < end {
        match b[i] {
            b'\\' if !single => i += 2,
            c if c == q && single && b.get(i + 1) == Some(&q) => i += 2,
            c if c == q => return i + 1,
            _ => i += 1,
        }
    }
    end
}

/// End of a block scalar's last content line (newline excluded). With keep chomping (`+`) the
/// trailing blank lines are content, so only the final newline is left out. A line of blanks
/// that runs past the content's indentation `indent` is content too (its extra blanks are
/// part of the value).
fn block_content_end(src: &str, start: usize, end: usize, keep: bool, indent: usize) -> usize {
    let text = &src[start..end];
    if keep {
        // saphyr may end the scalar at the next token, after that token's indentation, which
        // is not part of the scalar.
        let end = match text.rfind('\n') {
            Some(nl) if text.len() - nl - 1 < indent && text[nl + 1..].bytes().all(|b| b == b' ' || b == b'\t') => {
                start + nl + 1
            }
            _ => end,
        };
        return if src[start..end].ends_with('\n') { end - 1 } else { end };
    }
    let mut e = end;
    for line in text.lines().rev() {
        let line_end_pos = start + (line.as_ptr() as usize - text.as_ptr() as usize) + line.len();
        let whole = &src[line_start(src, line_end_pos)..line_end_pos];
        let lead = whole.len() - whole.trim_start_matches(' ').len();
        if !line.trim().is_empty() || (lead >= indent && whole.len() > indent) {
            e = line_end_pos;
            break;
        }
        e = start;
    }
    if e > start && src.as_bytes()[e - 1] == b'\r' {
        e -= 1;
    }
    e
}

/// Where a tab stands in a block scalar's indentation, as go-yaml (and so sops) refuses it: in
/// the blank lines before the first content line while the indentation is not known yet, and
/// before the content's column on any later line. `indent` is the column an indentation
/// indicator gives; without one the first content line sets it. saphyr reads such tabs as content.
fn block_indent_tab(src: &str, from: usize, end: usize, indent: Option<usize>) -> Option<usize> {
    let mut indent = indent;
    let mut blank_max = 0;
    let mut at = from;
    while at < end {
        let line_end = src[at..end].find('\n').map_or(end, |n| at + n);
        let line = &src[at..line_end];
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let next = line[spaces..].chars().next().filter(|&c| c != '\r');
        match (indent, next) {
            (None, Some('\t')) => return Some(at + spaces),
            (None, None) => blank_max = blank_max.max(spaces),
            (None, Some(_)) => indent = Some(spaces.max(blank_max)),
            (Some(i), Some('\t')) if spaces < i => return Some(at + spaces),
            // A line left of the content's column ends the scalar.
            (Some(i), Some(_)) if spaces < i => return None,
            _ => {}
        }
        at = line_end + 1;
    }
    None
}

/// The value of a block scalar whose header starts at `header` and whose text runs to `end`,
/// read as go-yaml v3 (and so sops) reads it. saphyr takes the end of a file without a final
/// line break for one: it adds a line break to a clipped or kept value whose last line is at
/// least as indented as its content (`|` then `  multi` then `  line` at the end of the file:
/// `multi\nline\n`), and gives `|+` followed by one blank line at the end of the file the value
/// `\n`. YAML keeps only the line breaks that are there (`multi\nline`, and the empty string).
fn eof_chomped<'t>(src: &str, header: usize, end: usize, indent: usize, text: Cow<'t, str>) -> Cow<'t, str> {
    let last_line = &src[line_start(src, src.len())..];
    if end < src.len() || last_line.is_empty() || src.ends_with('\r') || !text.ends_with('\n') {
        return text;
    }
    if block_header(src, header).contains('-') {
        return text;
    }
    if text.bytes().all(|b| b == b'\n') {
        // No content lines: the value is the line breaks after the header's line.
        let breaks = src[next_line_start(src, header)..].matches('\n').count();
        return Cow::Owned("\n".repeat(breaks));
    }
    if last_line.chars().count() >= indent.max(1) {
        let mut text = text.into_owned();
        text.pop();
        return Cow::Owned(text);
    }
    text
}

/// The header of a block scalar starting at `at` (`|+2`), without a comment after it.
pub(super) fn block_header(src: &str, at: usize) -> &str {
    let line = &src[at..next_line_start(src, at)];
    line.split('#').next().unwrap_or("")
}

/// The `-` indicator before a block sequence item starting at `pos`.
fn dash_before(src: &str, pos: usize) -> usize {
    let b = src.as_bytes();
    let mut i = pos;
    while i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') {
        i -= 1;
    }
    if i > 0 && b[i - 1] == b'-' {
        i - 1
    } else {
        pos
    }
}

/// Standard base64 with optional whitespace (line breaks inside `!!binary`).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Holds the line scanner to saphyr: `Ok(true)` when both read `src` to the same events at the
/// same offsets, with the same comments; `Ok(false)` when the line scanner leaves it to saphyr;
/// an error naming the first difference otherwise.
pub(crate) fn scanners_agree(src: &str) -> Result<bool, String> {
    fn trace<'s>(src: &'s str, raw: Raw<'s>) -> Result<Vec<String>, String> {
        let mut source = Source { raw, shield: None, prev_end: 0, ended: false };
        let mut comments = Vec::new();
        let mut out = Vec::new();
        while let Some(ev) = source.next(src, &mut comments).map_err(|e| e.message)? {
            out.push(format!(
                "{:?} {}..{} col={} header={:?} gap={}",
                ev.event, ev.start, ev.end, ev.col, ev.header, ev.gap
            ));
        }
        out.extend(
            comments.iter().map(|c| format!("comment {}..{} col={} own_line={}", c.start, c.end, c.col, c.own_line)),
        );
        Ok(out)
    }
    if forbidden_char(src).is_some() {
        return Ok(false);
    }
    let Ok(events) = fast::Events::new(src) else { return Ok(false) };
    let Ok(fast) = trace(src, Raw::Fast(events)) else { return Ok(false) };
    let saphyr = trace(src, Raw::Saphyr { parser: Parser::new_from_str(src), map: CharMap::new(src) })
        .map_err(|e| format!("saphyr refuses what the line scanner reads: {e}"))?;
    match fast.iter().zip(&saphyr).position(|(a, b)| a != b) {
        Some(n) => Err(format!("event {n}: line scanner {:?}, saphyr {:?}", fast[n], saphyr[n])),
        None if fast.len() != saphyr.len() => {
            Err(format!("line scanner: {} events, saphyr: {}", fast.len(), saphyr.len()))
        }
        None => Ok(true),
    }
}
