//! The read-back check of an encrypted file, without a parse.
//!
//! Encryption parses its output before writing it (`yaml::check`): a file gitseal could not
//! read back is never written. A parse builds a tree; the check needs only to know that the
//! parse would succeed and find the metadata. For the block YAML the line scanner reads (sops'
//! own output is in it), the build can refuse only a few things: a repeated key, a plain key
//! that is not a string, an integer beyond 64 signed bits, nesting past the limit. Two passes
//! look for those, holding only the keys of the mappings open at a time (borrowed from the
//! text), and say "certainly readable" or "cannot tell":
//!
//! - [`by_lines`] reads the text line by line with the line scanner's own rules
//!   (`yaml::fast`), keeping only the columns of the open collections. It gives no events: an
//!   encrypted file's line costs two searches and a few comparisons.
//! - [`by_events`] reads the line scanner's events; it decides the few texts the first leaves
//!   (a document marker on a line with a key, say).
//!
//! On "cannot tell" from both (a refusal, a document the scanner leaves to saphyr, no
//! metadata) the whole parse decides, so its errors are the ones reported.
//!
//! `yaml::tests::the_quick_read_back_check_never_passes_what_the_parse_refuses` and the `yaml`
//! fuzz target hold each pass to the parse: whenever one passes a text, the parse reads that
//! text and finds the metadata.

use std::borrow::Cow;

use saphyr_parser::{Event, ScalarStyle};

use super::fast::{self, is_dash, key_end, line_end, quoted, rest_of_line, skip_spaces};
use super::parse::{forbidden_char, parse_check, repeated, MAX_DEPTH};
use super::render::is_value_token;
use super::resolve::{plain_is_unsigned, plain_reads_as_str};
use crate::ParseError;

/// True when the parse of `src` certainly succeeds and finds a top-level `sops` entry in its
/// one document; false when neither pass can tell (the parse then decides). (Read in halves on
/// two threads, as a large file's parse is, the events pass was no faster: in encryption the
/// check already runs beside the release of the tree.)
pub(super) fn readable(src: &str) -> bool {
    looked_at(src) && (by_lines(src) || by_events(src))
}

/// [`super::check`], with `beside` run on this thread while the pass by lines runs on another;
/// this thread then looks at the text. What they leave is decided as `check` decides it, on a
/// thread with the stack the deepest tree needs.
pub(crate) fn check_beside(src: &str, beside: impl FnOnce()) -> Result<bool, ParseError> {
    let (seen, lines) = std::thread::scope(|s| {
        let lines = std::thread::Builder::new().spawn_scoped(s, || by_lines(src));
        beside();
        let seen = looked_at(src);
        let lines = match lines {
            Ok(lines) => lines.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => by_lines(src),
        };
        (seen, lines)
    });
    if seen && lines {
        return Ok(true);
    }
    let rest = || if seen && by_events(src) { Ok(true) } else { parse_check(src) };
    std::thread::scope(|s| match std::thread::Builder::new().stack_size(crate::TREE_STACK).spawn_scoped(s, rest) {
        Ok(rest) => rest.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(_) => rest(),
    })
}

/// What both passes refuse at a glance: what the parse refuses before it reads a token, and
/// what the line scanner leaves to saphyr.
pub(super) fn looked_at(src: &str) -> bool {
    // (Past the quick look, which refuses every carriage return, the precheck is this search.)
    fast::quick_look(src).is_ok() && forbidden_char(src).is_none()
}

/// A block collection open at a column.
#[derive(Clone, Copy)]
enum Block {
    /// A mapping, and where its keys start in the key list.
    Map {
        col: usize,
        keys: usize,
    },
    Seq {
        col: usize,
    },
}

impl Block {
    fn col(self) -> usize {
        match self {
            Block::Map { col, .. } | Block::Seq { col } => col,
        }
    }
}

/// The state of the pass by lines.
struct Lines<'s> {
    src: &'s str,
    open: Vec<Block>,
    /// The keys of the open mappings, outermost first.
    keys: Vec<Cow<'s, str>>,
    /// The column of the mapping whose last key has no value on its own line.
    pending: Option<usize>,
    /// Whether a `---` line was read, and whether the top-level mapping was.
    marker: bool,
    started: bool,
    metadata: bool,
}

/// The pass by lines: true when it finds the text readable, with the metadata; false when it
/// cannot tell. Once past [`looked_at`], it reads what the line scanner reads, by the same
/// rules, or stops.
pub(super) fn by_lines(src: &str) -> bool {
    let b = src.as_bytes();
    // (Past `looked_at`, the text ends with a line break: a block scalar's next line is found.)
    if !src.ends_with('\n') {
        return false;
    }
    let mut pass = Lines {
        src,
        open: Vec::new(),
        keys: Vec::new(),
        pending: None,
        marker: false,
        started: false,
        metadata: false,
    };
    let mut pos = 0;
    while pos < b.len() {
        let ls = pos;
        let le = line_end(b, ls);
        let p = skip_spaces(b, ls, le);
        pos = le + 1;
        // Blank and comment lines.
        if p == le || b[p] == b'#' {
            continue;
        }
        match pass.line(ls, p, le) {
            Some(next) => pos = next,
            None => return false,
        }
    }
    pass.end()
}

impl<'s> Lines<'s> {
    /// A line holding a token at `p` (its start `ls`, its end `le`): the start of the next line
    /// to read, or `None` when the pass cannot tell.
    fn line(&mut self, ls: usize, p: usize, le: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let col = p - ls;
        // A tab before the token, a directive.
        if b[p] == b'\t' || b[p] == b'%' {
            return None;
        }
        if col == 0 && (b[p..].starts_with(b"---") || b[p..].starts_with(b"...")) {
            // A `---` line of its own before the first token starts the document; any other
            // marker (or what may be one) is left to the events.
            if !self.started && !self.marker && le == p + 3 && b[p] == b'-' {
                self.marker = true;
                return Some(le + 1);
            }
            return None;
        }
        if !self.started {
            // The document's top level: a mapping.
            self.started = true;
            return self.mapping(ls, p, le);
        }
        if let Some(at) = self.pending.take() {
            if col > at || (col == at && is_dash(b, p, le)) {
                // The pending key's value: a collection on the lines below.
                if is_dash(b, p, le) {
                    self.open(Block::Seq { col })?;
                    return self.item(ls, p, le);
                }
                return self.mapping(ls, p, le);
            }
            // Else the pending key's value is empty (a null).
        }
        while let Some(&block) = self.open.last() {
            let c = block.col();
            if c > col || (matches!(block, Block::Seq { .. }) && c == col && !is_dash(b, p, le)) {
                self.close()?;
            } else {
                break;
            }
        }
        match self.open.last() {
            Some(&Block::Seq { col: c }) if c == col => self.item(ls, p, le),
            Some(&Block::Map { col: c, .. }) if c == col => {
                let key = key_end(self.src, p, le).ok()??;
                self.entry(key, le)
            }
            _ => None,
        }
    }

    /// Opens a collection; the parse counts the scalars inside too.
    fn open(&mut self, block: Block) -> Option<()> {
        if self.open.len() + 2 > MAX_DEPTH {
            return None;
        }
        self.open.push(block);
        Some(())
    }

    /// Closes the innermost collection: a mapping's keys must differ.
    fn close(&mut self) -> Option<()> {
        if let Some(Block::Map { keys: from, .. }) = self.open.pop() {
            if repeated(self.keys[from..].iter(), self.keys.len() - from, |k| k.as_ref()).is_some() {
                return None;
            }
            self.keys.truncate(from);
        }
        Some(())
    }

    /// A block mapping whose first key is at `p`.
    fn mapping(&mut self, ls: usize, p: usize, le: usize) -> Option<usize> {
        let key = key_end(self.src, p, le).ok()??;
        self.open(Block::Map { col: p - ls, keys: self.keys.len() })?;
        self.entry(key, le)
    }

    /// A `key: value` line of the innermost mapping, from its key (as `fast::key_end` gives it).
    fn entry(&mut self, (key, style, _, colon): (Cow<'s, str>, ScalarStyle, usize, usize), le: usize) -> Option<usize> {
        if style == ScalarStyle::Plain && !plain_reads_as_str(&key) {
            return None;
        }
        self.metadata |= self.open.len() == 1 && key == "sops";
        self.keys.push(key);
        let b = self.src.as_bytes();
        let r = skip_spaces(b, colon + 1, le);
        if r == le || b[r] == b'#' {
            self.pending = self.open.last().map(|block| block.col());
            return Some(le + 1);
        }
        self.value(r, le)
    }

    /// A sequence item whose `-` is at `p`: a scalar, a mapping, or a sequence on the line.
    fn item(&mut self, ls: usize, mut p: usize, le: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        loop {
            let q = skip_spaces(b, p + 1, le);
            if q == le || b[q] == b'#' || q == p + 1 {
                return None;
            }
            if is_dash(b, q, le) {
                self.open(Block::Seq { col: q - ls })?;
                p = q;
                continue;
            }
            if let Some(key) = key_end(self.src, q, le).ok()? {
                self.open(Block::Map { col: q - ls, keys: self.keys.len() })?;
                return self.entry(key, le);
            }
            return self.value(q, le);
        }
    }

    /// A scalar (or empty flow collection) value at `r`, in the innermost collection.
    fn value(&mut self, r: usize, le: usize) -> Option<usize> {
        let src = self.src;
        let b = src.as_bytes();
        let end = match b[r] {
            b'"' | b'\'' => quoted(src, r, le).ok()?.1,
            b'|' => {
                let col = self.open.last()?.col();
                return fast::literal(src, r, le, col, None).ok().map(|(_, _, next)| next);
            }
            open @ (b'[' | b'{') => {
                if b.get(r + 1) != Some(&(open + 2)) || self.open.len() + 2 > MAX_DEPTH {
                    return None;
                }
                r + 2
            }
            // A value token to the end of the line: a plain scalar, a string (most lines of an
            // encrypted file end with one).
            _ if is_value_token(&src[r..le]) => le,
            _ => {
                let end = fast::plain_end(b, r, le).ok()?;
                if plain_is_unsigned(&src[r..end]) {
                    return None;
                }
                end
            }
        };
        rest_of_line(b, end, le).ok()?;
        Some(le + 1)
    }

    /// The end of the text: what is open closes.
    fn end(mut self) -> bool {
        if !self.started {
            return false;
        }
        while !self.open.is_empty() {
            if self.close().is_none() {
                return false;
            }
        }
        self.metadata
    }
}

/// A collection open in the event stream.
enum Open {
    /// A mapping: where its keys start in the key list, and whether a key comes next.
    Map {
        keys: usize,
        key_next: bool,
    },
    Seq,
}

/// The state of the pass.
#[derive(Default)]
struct Pass<'s> {
    open: Vec<Open>,
    /// The keys of the open mappings, outermost first.
    keys: Vec<Cow<'s, str>>,
    metadata: bool,
}

/// The pass by events: true when it finds the text readable, with the metadata; false when it
/// cannot tell. (Past [`looked_at`].)
pub(super) fn by_events(src: &str) -> bool {
    let Ok(mut events) = fast::Events::new(src) else { return false };
    let mut pass = Pass::default();
    pass.run(&mut events) && pass.metadata && pass.open.is_empty()
}

impl<'s> Pass<'s> {
    /// Reads the events to the end; false when it cannot tell.
    fn run(&mut self, events: &mut fast::Events<'s>) -> bool {
        loop {
            let event = match events.next() {
                Ok(Some((event, _, _))) => event,
                Ok(None) => return true,
                Err(fast::Unsupported) => return false,
            };
            if !self.event(event) {
                return false;
            }
        }
    }

    fn event(&mut self, event: Event<'s>) -> bool {
        let collection = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        // Whether this node is a mapping's key (else a value, an item or the document's root).
        let mut key = false;
        if collection || matches!(event, Event::Scalar(..)) {
            match self.open.last_mut() {
                Some(Open::Map { key_next, .. }) => {
                    key = *key_next;
                    *key_next = !*key_next;
                }
                Some(Open::Seq) => {}
                // The scanner's documents are mappings.
                None if collection => {}
                None => return false,
            }
        }
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::DocumentEnd => {}
            // A key that is a collection.
            Event::MappingStart(..) | Event::SequenceStart(..) if key => return false,
            // (The scanner gives no anchors or tags, whose names the parse checks.)
            Event::MappingStart(0, None) | Event::SequenceStart(0, None) => {
                // The parse counts the scalars inside too.
                if self.open.len() + 2 > MAX_DEPTH {
                    return false;
                }
                self.open.push(match event {
                    Event::MappingStart(..) => Open::Map { keys: self.keys.len(), key_next: true },
                    _ => Open::Seq,
                });
            }
            Event::MappingEnd => {
                let Some(Open::Map { keys: from, key_next: true }) = self.open.pop() else { return false };
                if repeated(self.keys[from..].iter(), self.keys.len() - from, |k| k.as_ref()).is_some() {
                    return false;
                }
                self.keys.truncate(from);
            }
            Event::SequenceEnd => {
                let Some(Open::Seq) = self.open.pop() else { return false };
            }
            Event::Scalar(text, style, 0, None) => {
                let plain = style == ScalarStyle::Plain;
                if key {
                    if plain && !plain_reads_as_str(&text) {
                        return false;
                    }
                    self.metadata |= self.open.len() == 1 && text == "sops";
                    self.keys.push(text);
                } else if plain && plain_is_unsigned(&text) {
                    return false;
                }
            }
            _ => return false,
        }
        true
    }
}

/// Whether each pass of [`readable`] agrees with the parse on `src`: `Ok(true)` when one
/// passes `src` and the parse reads it and finds the metadata, `Ok(false)` when neither can
/// tell, an error when one passes what the parse refuses (or finds no metadata in).
pub(crate) fn agree(src: &str) -> Result<bool, String> {
    let seen = looked_at(src);
    let by = match (seen && by_lines(src), seen && by_events(src)) {
        (false, false) => return Ok(false),
        (true, true) => "the lines and the events",
        (true, false) => "the lines",
        (false, true) => "the events",
    };
    match parse_check(src) {
        Ok(true) => Ok(true),
        Ok(false) => Err(format!("passed by {by}, but the parse finds no top-level sops entry")),
        Err(e) => Err(format!("passed by {by}, but the parse refuses it: {e}")),
    }
}
