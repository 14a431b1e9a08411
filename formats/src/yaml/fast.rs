//! A line scanner for the block YAML that configuration files and sops' own output are made of.
//!
//! It gives the events saphyr gives, at the same byte offsets, for a subset of YAML: one
//! document (an optional `---` first), block mappings and sequences indented with spaces, plain
//! keys and values on one line, quoted scalars on one line without escapes, literal block
//! scalars (`|`, `|-`, `|+`), empty flow collections (`[]`, `{}`) and comments. On anything else
//! (other flow collections, anchors, tags, folded or multi-line scalars, tabs, escapes, errors of
//! any kind) it stops and says so: the parse is then done again with saphyr, which reads (or
//! refuses) the whole of YAML. The subset is chosen so that every line is read on its own, with
//! a few `memchr` calls: an encrypted file's values are long opaque tokens, which saphyr scans a
//! character at a time.
//!
//! `yaml::tests::fast_scanner_agrees_with_saphyr` holds the two to the same events on every
//! sample, and the `yaml` fuzz target on any input.

use std::borrow::Cow;
use std::collections::VecDeque;

use saphyr_parser::{Event, ScalarStyle};

use crate::text::line_start;

/// The input leaves the subset: parse it with saphyr.
#[derive(Debug)]
pub(crate) struct Unsupported;

/// The longest key read here (saphyr refuses implicit keys over 1024 characters).
const MAX_KEY: usize = 1000;

/// How many bytes of a line [`key_end`] looks at a word at a time before it searches.
const NEAR: usize = 24;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Map,
    Seq,
}

/// A `key:` whose value is on the lines below (or is empty).
struct Pending {
    /// The key's `:`, where an empty value stands.
    colon: usize,
    /// Column of the mapping holding the key.
    col: usize,
}

pub(crate) struct Events<'s> {
    src: &'s str,
    /// Start of the next line to read.
    pos: usize,
    queue: VecDeque<(Event<'s>, usize, usize)>,
    /// The open block collections, innermost last, with their columns.
    open: Vec<(Kind, usize)>,
    pending: Option<Pending>,
    started: bool,
    in_document: bool,
    done: bool,
    /// At the end of the input, when only block mappings were open there: their columns,
    /// outermost first (see [`Events::open_at_end`]).
    at_end: Option<Vec<usize>>,
}

/// A block mapping open at a line where a parse may be split in two (see `yaml::halves`).
pub(crate) struct Open {
    /// The column of its keys.
    pub col: usize,
    /// Its first key, where its event stands.
    pub first: usize,
    /// The key that opens it, and the end of that key's line; `None` for the top level.
    pub opener: Option<(usize, usize)>,
}

impl<'s> Events<'s> {
    /// A scanner over `src`, or `Unsupported` when a quick look finds what it does not read.
    pub fn new(src: &'s str) -> Result<Events<'s>, Unsupported> {
        quick_look(src)?;
        Ok(Events::at(src, 0))
    }

    fn at(src: &'s str, pos: usize) -> Events<'s> {
        Events {
            src,
            pos,
            queue: VecDeque::new(),
            open: Vec::new(),
            pending: None,
            started: false,
            in_document: false,
            done: false,
            at_end: None,
        }
    }

    /// A scanner over the rest of `src` from `pos`, the start of a line, inside the block
    /// mappings `open` (outermost first, the top level first of all): it first gives the events
    /// that open them, then reads on from `pos` in the state a scanner from the start of `src`
    /// is in there, when [`Events::open_at_end`] of one over `src[..pos]` says `open`.
    pub fn resume(src: &'s str, pos: usize, open: &[Open]) -> Result<Events<'s>, Unsupported> {
        // The text before `pos` is the first half's, which its own scanner looks at.
        quick_look(&src[pos..])?;
        let mut e = Events::at(src, pos);
        (e.started, e.in_document) = (true, true);
        e.push(Event::StreamStart, 0, 0);
        e.push(Event::DocumentStart(false), 0, 0);
        for o in open {
            if let Some((p, le)) = o.opener {
                let (text, style, kend, _) = key_end(src, p, le)?.ok_or(Unsupported)?;
                e.scalar(text, style, p, kend);
            }
            e.push(Event::MappingStart(0, None), o.first, o.first);
            e.open.push((Kind::Map, o.col));
        }
        Ok(e)
    }

    /// Once the input has ended with only block mappings open: their key columns. (A key
    /// without a value, or a block scalar, at the end gives the events it gives before a key of
    /// the mapping that holds it.)
    pub fn open_at_end(&self) -> Option<&[usize]> {
        self.at_end.as_deref()
    }

    /// The next event and its byte span.
    pub fn next(&mut self) -> Result<Option<(Event<'s>, usize, usize)>, Unsupported> {
        while self.queue.is_empty() {
            if self.done {
                return Ok(None);
            }
            self.step()?;
        }
        Ok(self.queue.pop_front())
    }

    fn push(&mut self, event: Event<'s>, start: usize, end: usize) {
        self.queue.push_back((event, start, end));
    }

    fn scalar(&mut self, text: Cow<'s, str>, style: ScalarStyle, start: usize, end: usize) {
        self.push(Event::Scalar(text, style, 0, None), start, end);
    }

    /// Reads the next line that holds a token, and queues its events.
    fn step(&mut self) -> Result<(), Unsupported> {
        if !self.started {
            self.started = true;
            self.push(Event::StreamStart, 0, 0);
            return Ok(());
        }
        let Some((ls, p, le)) = self.next_content_line()? else { return self.end() };
        let b = self.src.as_bytes();
        let col = p - ls;
        if col == 0 && (b[p..le].starts_with(b"---") || b[p..le].starts_with(b"...")) {
            let after = b.get(p + 3).copied();
            if matches!(after, Some(b' ' | b'\n')) {
                if self.in_document || b[p] == b'.' || after == Some(b' ') {
                    return Err(Unsupported);
                }
                // A `---` line of its own before the first token.
                self.in_document = true;
                self.push(Event::DocumentStart(true), p, p + 3);
                self.pos = le + 1;
                let Some((ls, p, le)) = self.next_content_line()? else { return Err(Unsupported) };
                return self.top(ls, p, le);
            }
        }
        if b[p] == b'%' {
            return Err(Unsupported);
        }
        if !self.in_document {
            self.in_document = true;
            self.push(Event::DocumentStart(false), p, p);
            return self.top(ls, p, le);
        }
        if let Some(pending) = self.pending.take() {
            if col > pending.col {
                return self.nested(ls, p, le);
            }
            if col == pending.col && is_dash(b, p, le) {
                // A sequence at its key's column starts, for saphyr, at its first item's content.
                let q = skip_spaces(b, p + 1, le);
                self.push(Event::SequenceStart(0, None), q, q);
                self.open.push((Kind::Seq, col));
                return self.item(ls, p, le);
            }
            self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, pending.colon, pending.colon);
        }
        while let Some(&(kind, c)) = self.open.last() {
            if c > col || (kind == Kind::Seq && c == col && !is_dash(b, p, le)) {
                self.open.pop();
                self.close(kind, p);
            } else {
                break;
            }
        }
        match self.open.last() {
            Some(&(Kind::Seq, c)) if c == col => self.item(ls, p, le),
            Some(&(Kind::Map, c)) if c == col => self.entry(p, le, col),
            _ => Err(Unsupported),
        }
    }

    fn close(&mut self, kind: Kind, at: usize) {
        let event = if kind == Kind::Map { Event::MappingEnd } else { Event::SequenceEnd };
        self.push(event, at, at);
    }

    /// The end of the input: what is still open closes.
    fn end(&mut self) -> Result<(), Unsupported> {
        if !self.in_document {
            return Err(Unsupported);
        }
        let len = self.src.len();
        if self.open.iter().all(|&(k, _)| k == Kind::Map) {
            self.at_end = Some(self.open.iter().map(|&(_, c)| c).collect());
        }
        if let Some(pending) = self.pending.take() {
            self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, pending.colon, pending.colon);
        }
        while let Some((kind, _)) = self.open.pop() {
            self.close(kind, len);
        }
        self.push(Event::DocumentEnd, len, len);
        self.push(Event::StreamEnd, len, len);
        self.done = true;
        Ok(())
    }

    /// The document's top level: a mapping.
    fn top(&mut self, ls: usize, p: usize, le: usize) -> Result<(), Unsupported> {
        if key_end(self.src, p, le)?.is_none() {
            return Err(Unsupported);
        }
        self.push(Event::MappingStart(0, None), p, p);
        self.open.push((Kind::Map, p - ls));
        self.entry(p, le, p - ls)
    }

    /// A block collection that starts at `p`, the first token of its line, as a value.
    fn nested(&mut self, ls: usize, p: usize, le: usize) -> Result<(), Unsupported> {
        if is_dash(self.src.as_bytes(), p, le) {
            self.push(Event::SequenceStart(0, None), p, p);
            self.open.push((Kind::Seq, p - ls));
            return self.item(ls, p, le);
        }
        self.top(ls, p, le)
    }

    /// A sequence item whose `-` is at `p`.
    fn item(&mut self, ls: usize, p: usize, le: usize) -> Result<(), Unsupported> {
        let b = self.src.as_bytes();
        let q = skip_spaces(b, p + 1, le);
        if q == le || b[q] == b'#' || q == p + 1 {
            return Err(Unsupported);
        }
        let col = self.open.last().map_or(0, |&(_, c)| c);
        if is_dash(b, q, le) {
            self.push(Event::SequenceStart(0, None), q, q);
            self.open.push((Kind::Seq, q - ls));
            return self.item(ls, q, le);
        }
        if key_end(self.src, q, le)?.is_some() {
            self.push(Event::MappingStart(0, None), q, q);
            self.open.push((Kind::Map, q - ls));
            return self.entry(q, le, q - ls);
        }
        self.value(q, le, col)
    }

    /// A `key: value` line of the mapping at column `col`, its key at `p`.
    fn entry(&mut self, p: usize, le: usize, col: usize) -> Result<(), Unsupported> {
        let (text, style, kend, colon) = key_end(self.src, p, le)?.ok_or(Unsupported)?;
        self.scalar(text, style, p, kend);
        let b = self.src.as_bytes();
        let r = skip_spaces(b, colon + 1, le);
        if r == le || b[r] == b'#' {
            self.pending = Some(Pending { colon, col });
            self.pos = le + 1;
            return Ok(());
        }
        self.value(r, le, col)
    }

    /// A scalar value starting at `r`, on a line ending at `le`, inside a collection at column
    /// `col`.
    fn value(&mut self, r: usize, le: usize, col: usize) -> Result<(), Unsupported> {
        let src = self.src;
        let b = src.as_bytes();
        let end = match b[r] {
            b'"' | b'\'' => {
                let (text, close) = quoted(src, r, le)?;
                let style = if b[r] == b'"' { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
                self.scalar(text, style, r, close);
                close
            }
            b'|' => return self.literal(r, le, col),
            // An empty flow collection (`kms: []`, `annotations: {}`).
            open @ (b'[' | b'{') => {
                let (start, end) = if open == b'[' {
                    (Event::SequenceStart(0, None), Event::SequenceEnd)
                } else {
                    (Event::MappingStart(0, None), Event::MappingEnd)
                };
                if b.get(r + 1) != Some(&(open + 2)) {
                    return Err(Unsupported);
                }
                self.push(start, r, r + 1);
                self.push(end, r + 1, r + 2);
                r + 2
            }
            _ => {
                let end = plain_end(b, r, le)?;
                self.scalar(Cow::Borrowed(&src[r..end]), ScalarStyle::Plain, r, end);
                end
            }
        };
        rest_of_line(b, end, le)?;
        self.pos = le + 1;
        Ok(())
    }

    /// A literal block scalar whose `|` is at `h`, in a collection at column `col`.
    fn literal(&mut self, h: usize, le: usize, col: usize) -> Result<(), Unsupported> {
        let mut text = String::new();
        let (start, stop, next) = literal(self.src, h, le, col, Some(&mut text))?;
        self.scalar(Cow::Owned(text), ScalarStyle::Literal, start, stop);
        self.pos = next;
        Ok(())
    }

    /// The next line with a token on it: (line start, first token, line end). Blank and comment
    /// lines are skipped; a tab before the first token leaves the subset.
    fn next_content_line(&mut self) -> Result<Option<(usize, usize, usize)>, Unsupported> {
        let b = self.src.as_bytes();
        while self.pos < b.len() {
            let ls = self.pos;
            let le = line_end(b, ls);
            let p = skip_spaces(b, ls, le);
            self.pos = le + 1;
            if p == le || b[p] == b'#' {
                continue;
            }
            if b[p] == b'\t' {
                return Err(Unsupported);
            }
            self.pos = ls;
            return Ok(Some((ls, p, le)));
        }
        Ok(None)
    }
}

/// A line past the middle of `src` where a parse may be split in two, with the block mappings
/// open there: the line starts with a key of the innermost one, and the line before it holds a
/// token and no `#` (no comment falls between the halves). The mappings are read back from the
/// lines' indentation, which can be wrong (a line inside a block scalar, a sequence): the scan
/// of the first half says whether its end state is that one ([`Events::open_at_end`]).
pub(crate) fn seam(src: &str) -> Option<(usize, Vec<Open>)> {
    let b = src.as_bytes();
    let mut ls = line_end(b, src.len() / 2) + 1;
    let limit = (ls + src.len() / 8).min(b.len());
    while ls < limit {
        let le = line_end(b, ls);
        if let Some(open) = open_around(src, ls, le) {
            return Some((ls, open));
        }
        ls = le + 1;
    }
    None
}

/// Every line where [`seam`] may cut `src` (wherever it is), with the mappings it takes to be
/// open there.
pub(crate) fn seams(src: &str) -> Vec<(usize, Vec<Open>)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut ls = 0;
    while ls < b.len() {
        let le = line_end(b, ls);
        out.extend(open_around(src, ls, le).map(|open| (ls, open)));
        ls = le + 1;
    }
    out
}

/// The block mappings around a key at the start of the line `ls..le` (see [`seam`]).
fn open_around(src: &str, ls: usize, le: usize) -> Option<Vec<Open>> {
    let b = src.as_bytes();
    let p = skip_spaces(b, ls, le);
    if p == le || matches!(b[p], b'#' | b'-' | b'\t') || !matches!(key_end(src, p, le), Ok(Some(_))) || ls == 0 {
        return None;
    }
    let prev = &b[line_start(src, ls - 1)..ls - 1];
    if prev.iter().all(|&c| c == b' ') || memchr::memchr(b'#', prev).is_some() {
        return None;
    }
    // From the innermost mapping out: each is opened by the nearest line above that is
    // indented less, which must be a `key:` with nothing after it.
    let mut col = p - ls;
    let mut openers = Vec::new();
    let mut at = ls;
    while col > 0 {
        let ple = at.checked_sub(1)?;
        let pls = line_start(src, ple);
        at = pls;
        let pp = skip_spaces(b, pls, ple);
        if pp == ple || b[pp] == b'#' || pp - pls >= col {
            continue;
        }
        let (_, _, _, colon) = key_end(src, pp, ple).ok()??;
        if skip_spaces(b, colon + 1, ple) != ple {
            return None;
        }
        openers.push((col, pp, ple));
        col = pp - pls;
    }
    let mut first = first_token(src, 0)?;
    if src[first..].starts_with("---") {
        first = first_token(src, line_end(b, first) + 1)?;
    }
    let mut open = vec![Open { col: 0, first, opener: None }];
    for &(col, p, le) in openers.iter().rev() {
        open.push(Open { col, first: first_token(src, le + 1)?, opener: Some((p, le)) });
    }
    Some(open)
}

/// The first token on the lines from `ls` on (blank and comment lines skipped).
fn first_token(src: &str, mut ls: usize) -> Option<usize> {
    let b = src.as_bytes();
    while ls < b.len() {
        let le = line_end(b, ls);
        let p = skip_spaces(b, ls, le);
        if p < le && b[p] != b'#' {
            return Some(p);
        }
        ls = le + 1;
    }
    None
}

/// A literal block scalar whose `|` is at `h`, on a line ending at `le`, in a collection at
/// column `col`: where its content starts, where it stops, and the start of the line after it.
/// `text`, when given, receives its value.
pub(super) fn literal(
    src: &str,
    h: usize,
    le: usize,
    col: usize,
    mut text: Option<&mut String>,
) -> Result<(usize, usize, usize), Unsupported> {
    let b = src.as_bytes();
    let mut i = h + 1;
    let chomp = match b.get(i) {
        Some(&c @ (b'-' | b'+')) => {
            i += 1;
            c
        }
        _ => b' ',
    };
    if i < le && b[i] != b' ' {
        return Err(Unsupported);
    }
    rest_of_line(b, i, le)?;
    // Content: the first line sets the indentation; no blank lines before it.
    let first = le + 1;
    let fe = line_end(b, first);
    let indent = b[first..fe].iter().take_while(|&&c| c == b' ').count();
    if indent <= col || first + indent == fe || b[first + indent] == b'\t' {
        return Err(Unsupported);
    }
    // The first line is content; `breaks` counts the line breaks since the last content line.
    let mut breaks = 0usize;
    let mut line = first;
    let stop = loop {
        if line >= b.len() {
            break b.len();
        }
        let e = line_end(b, line);
        let lead = b[line..e].iter().take_while(|&&c| c == b' ').count();
        if line + lead == e {
            // A blank line; one of blanks past the indentation holds content.
            if lead > indent {
                return Err(Unsupported);
            }
            breaks += 1;
        } else if lead >= indent {
            if let Some(text) = text.as_deref_mut() {
                for _ in 0..breaks {
                    text.push('\n');
                }
                text.push_str(&src[line + indent..e]);
            }
            breaks = 1;
        } else if b[line + lead] == b'\t' {
            return Err(Unsupported);
        } else {
            break line + lead;
        }
        line = e + 1;
    };
    if let Some(text) = text {
        match chomp {
            b'-' => {}
            b'+' => text.extend(std::iter::repeat_n('\n', breaks)),
            _ => text.push('\n'),
        }
    }
    Ok((first + indent, stop, line.min(b.len())))
}

/// What the scanner refuses at a glance: line endings other than `\n`, a byte-order mark, and
/// characters that YAML 1.1 readers take for line breaks; a last line without its line break.
pub(super) fn quick_look(src: &str) -> Result<(), Unsupported> {
    if memchr::memchr(b'\r', src.as_bytes()).is_some() || !src.ends_with('\n') || odd_break(src) {
        return Err(Unsupported);
    }
    Ok(())
}

/// Whether `src` holds U+FEFF, U+0085, U+2028 or U+2029: one pass for their first bytes, which
/// a file in ASCII never has.
fn odd_break(src: &str) -> bool {
    let b = src.as_bytes();
    memchr::memchr3_iter(0xC2, 0xE2, 0xEF, b).any(|i| {
        matches!(
            b.get(i..(i + 3).min(b.len())),
            Some([0xC2, 0x85, ..] | [0xE2, 0x80, 0xA8 | 0xA9] | [0xEF, 0xBB, 0xBF])
        )
    })
}

pub(super) fn line_end(b: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &b[from..]).map_or(b.len(), |i| from + i)
}

/// The first byte at or after `i` (and before `end`) that is not a space. Eight bytes at a
/// time: indentation is most of the bytes before a nested file's keys (sops indents by four).
pub(super) fn skip_spaces(b: &[u8], mut i: usize, end: usize) -> usize {
    while let Some(chunk) = b.get(i..end).and_then(<[u8]>::first_chunk::<8>) {
        // Bytes that are spaces become zero; the lowest byte that is not ends the run.
        let blanks = (u64::from_le_bytes(*chunk) ^ 0x2020_2020_2020_2020).trailing_zeros() as usize / 8;
        i += blanks;
        if blanks < 8 {
            return i;
        }
    }
    while i < end && b[i] == b' ' {
        i += 1;
    }
    i
}

/// A block sequence's `-` at `p`: followed by a blank or the end of the line.
pub(super) fn is_dash(b: &[u8], p: usize, le: usize) -> bool {
    b[p] == b'-' && (p + 1 == le || b[p + 1] == b' ')
}

/// After a value: blanks, then the end of the line or a comment.
pub(super) fn rest_of_line(b: &[u8], from: usize, le: usize) -> Result<(), Unsupported> {
    let i = skip_spaces(b, from, le);
    if i == le || (i > from && b[i] == b'#') {
        Ok(())
    } else {
        Err(Unsupported)
    }
}

/// Whether a plain scalar may start with `c` (then `next`) here; indicators leave the subset.
fn plain_start(c: u8, next: Option<u8>) -> bool {
    match c {
        b'-' => matches!(next, Some(n) if n != b' ' && n != b'\n' && n != b'\t'),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"'
        | b'%' | b'@' | b'`' | b' ' | b'\t' | b'\n' => false,
        _ => true,
    }
}

/// End of a plain scalar starting at `r` on a line ending at `le`: before a comment or the
/// line's end, trailing blanks left out. A `: ` or a tab inside leaves the subset.
#[inline(always)]
pub(super) fn plain_end(b: &[u8], r: usize, le: usize) -> Result<usize, Unsupported> {
    if !plain_start(b[r], b.get(r + 1).copied()) {
        return Err(Unsupported);
    }
    // Everything that ends the scalar or leaves the subset is at a blank (`: `, ` #`, a tab) or
    // at the end of the line (a last `:`): the blanks are looked for, so that an encrypted
    // value's token (`data:`, `iv:`, with no blank) takes one search.
    let mut i = r;
    let mut end = le;
    while let Some(off) = memchr::memchr2(b' ', b'\t', &b[i..le]) {
        let at = i + off;
        // (`r` holds no blank: `at > r`.)
        if b[at] == b'\t' || b[at - 1] == b':' {
            return Err(Unsupported);
        }
        if b.get(at + 1) == Some(&b'#') && at + 1 < le {
            end = at + 1;
            break;
        }
        i = at + 1;
    }
    if end == le && b[le - 1] == b':' {
        return Err(Unsupported);
    }
    while end > r && b[end - 1] == b' ' {
        end -= 1;
    }
    Ok(end)
}

/// A quoted scalar on one line, its opening quote at `q`: its value and one past its closing
/// quote. Escapes in double quotes leave the subset.
pub(super) fn quoted(src: &str, q: usize, le: usize) -> Result<(Cow<'_, str>, usize), Unsupported> {
    let b = src.as_bytes();
    if b[q] == b'"' {
        let close = memchr::memchr2(b'"', b'\\', &b[q + 1..le]).map(|i| q + 1 + i).ok_or(Unsupported)?;
        if b[close] == b'\\' {
            return Err(Unsupported);
        }
        return Ok((Cow::Borrowed(&src[q + 1..close]), close + 1));
    }
    let mut i = q + 1;
    let mut owned: Option<String> = None;
    loop {
        let at = memchr::memchr(b'\'', &b[i..le]).map(|o| i + o).ok_or(Unsupported)?;
        if b.get(at + 1) == Some(&b'\'') {
            let s = owned.get_or_insert_with(String::new);
            s.push_str(&src[i..=at]);
            i = at + 2;
            continue;
        }
        return Ok(match owned {
            Some(mut s) => {
                s.push_str(&src[i..at]);
                (Cow::Owned(s), at + 1)
            }
            None => (Cow::Borrowed(&src[q + 1..at]), at + 1),
        });
    }
}

/// The first of eight bytes (in little-endian order) that is a `:`, a `#` or a tab. A byte equal
/// to one of them becomes zero, and the lowest zero byte is found without a carry reaching it.
fn key_stop_in(word: u64) -> Option<usize> {
    const LOW: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let zero = |v: u64| v.wrapping_sub(LOW) & !v & HIGH;
    let hits = zero(word ^ u64::from_le_bytes([b':'; 8]))
        | zero(word ^ u64::from_le_bytes([b'#'; 8]))
        | zero(word ^ u64::from_le_bytes([b'\t'; 8]));
    (hits != 0).then(|| hits.trailing_zeros() as usize / 8)
}

/// When the line from `p` to `le` starts with a key: its text and style, where the key ends, and
/// its `:`. `None` when the line holds no key (a scalar); `Unsupported` for what may be a key
/// this scanner does not read.
#[allow(clippy::type_complexity)]
pub(super) fn key_end(
    src: &str,
    p: usize,
    le: usize,
) -> Result<Option<(Cow<'_, str>, ScalarStyle, usize, usize)>, Unsupported> {
    let b = src.as_bytes();
    if matches!(b[p], b'"' | b'\'') {
        let (text, close) = quoted(src, p, le)?;
        let style = if b[p] == b'"' { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
        return match b.get(close) {
            Some(b':') if close + 1 == le || b[close + 1] == b' ' => Ok(Some((text, style, close, close))),
            _ => Ok(None),
        };
    }
    if !plain_start(b[p], b.get(p + 1).copied()) {
        return if matches!(b[p], b'|' | b'[' | b'{') { Ok(None) } else { Err(Unsupported) };
    }
    // A key's `:` is most often within a few bytes, before a search would have set itself up:
    // the first words of the line are looked at eight bytes at a time, the rest searched.
    let near = (p + NEAR).min(le);
    let mut i = p;
    loop {
        let word = b.get(i..le).and_then(<[u8]>::first_chunk::<8>).filter(|_| i < near);
        let at = if let Some(word) = word {
            match key_stop_in(u64::from_le_bytes(*word)) {
                Some(off) => i + off,
                None => {
                    i += 8;
                    continue;
                }
            }
        } else {
            match memchr::memchr3(b':', b'#', b'\t', &b[i..le]) {
                Some(off) => i + off,
                None => return Ok(None),
            }
        };
        match b[at] {
            b':' if at + 1 == le || b[at + 1] == b' ' => {
                let mut end = at;
                while b[end - 1] == b' ' {
                    end -= 1;
                }
                if end - p > MAX_KEY {
                    return Err(Unsupported);
                }
                return Ok(Some((Cow::Borrowed(&src[p..end]), ScalarStyle::Plain, end, at)));
            }
            b'#' if b[at - 1] == b' ' => return Ok(None),
            b'\t' => return Err(Unsupported),
            _ => {}
        }
        i = at + 1;
    }
}

#[cfg(test)]
mod tests {
    /// Runs of every length, shorter and longer than a word, stop at the first other byte and
    /// never pass the end they are given.
    #[test]
    fn spaces_are_skipped_to_the_first_other_byte_or_the_end() {
        for run in 0..40 {
            for tail in ["", "x", "\n", "\t", "#"] {
                let line = format!("{}{tail}", " ".repeat(run));
                let b = line.as_bytes();
                assert_eq!(super::skip_spaces(b, 0, b.len()), run, "{line:?}");
                for end in 0..=run {
                    assert_eq!(super::skip_spaces(b, 0, end), end, "{line:?} to {end}");
                }
                assert_eq!(super::skip_spaces(b, run.min(3), b.len()), run, "{line:?} from 3");
            }
        }
    }

    /// Every word of bytes drawn from the stops, their neighbours (a borrow in the word test
    /// could pass a byte one off), and high bytes: the first stop, as a byte-by-byte look finds it.
    #[test]
    fn the_first_key_stop_in_a_word_is_the_first_byte_that_is_one() {
        let alphabet =
            [b':', b'#', b'\t', b'9', b';', b'"', b'$', b'\x08', b'\n', 0, 0x80, 0xBA, 0xA3, 0xFF, b'a', b' '];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let word: [u8; 8] = std::array::from_fn(|i| alphabet[(state >> (4 * i)) as usize & 15]);
            let expected = word.iter().position(|c| matches!(c, b':' | b'#' | b'\t'));
            assert_eq!(super::key_stop_in(u64::from_le_bytes(word)), expected, "{word:?}");
        }
    }

    #[test]
    fn line_breaks_of_yaml_1_1_and_the_byte_order_mark_are_found_among_other_characters() {
        for (src, odd) in [
            ("a: x\u{85}\n", true),
            ("a: \u{2028}\n", true),
            ("\u{2029}", true),
            ("a: \u{feff}\n", true),
            ("a: é ü € \u{a0} \u{2027} \u{202a} \u{fefe}\n", false),
            ("plain ascii\n", false),
            ("\u{c2}", false),
        ] {
            assert_eq!(super::odd_break(src), odd, "{src:?}");
        }
    }
}
