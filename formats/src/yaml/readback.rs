//! The read-back check of an encrypted file, from the line scanner's events alone.
//!
//! Encryption parses its output before writing it (`yaml::check`): a file gitseal could not
//! read back is never written. A parse builds a tree; the check needs only to know that the
//! parse would succeed and find the metadata. For the block YAML the line scanner reads (sops'
//! own output is in it), the build can refuse only a few things: a repeated key, a plain key
//! that is not a string, an integer beyond 64 signed bits, nesting past the limit. This pass
//! looks for those in the events, holding only the keys of the mappings open at a time
//! (borrowed from the text), and says "certainly readable" or "cannot tell". On "cannot tell"
//! (a refusal, a document the scanner leaves to saphyr, no metadata) the whole parse decides,
//! so its errors are the ones reported.
//!
//! `yaml::tests::the_quick_read_back_check_never_passes_what_the_parse_refuses` and the `yaml`
//! fuzz target hold it to the parse: whenever it passes a text, the parse reads that text and
//! finds the metadata.

use std::borrow::Cow;

use saphyr_parser::{Event, ScalarStyle};

use super::fast;
use super::parse::{precheck, repeated, MAX_DEPTH};
use super::resolve::{plain_is_unsigned, plain_reads_as_str};

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

/// True when the parse of `src` certainly succeeds and finds a top-level `sops` entry in its
/// one document; false when this pass cannot tell (the parse then decides). (Read in halves on
/// two threads, as a large file's parse is, the pass was no faster: in encryption it already
/// runs beside the release of the tree.)
pub(super) fn readable(src: &str) -> bool {
    if precheck(src).is_err() {
        return false;
    }
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

/// Whether [`readable`] agrees with the parse on `src`: `Ok(true)` when it passes `src` and the
/// parse reads it and finds the metadata, `Ok(false)` when it cannot tell, an error when it
/// passes what the parse refuses (or finds no metadata in).
pub(crate) fn agree(src: &str) -> Result<bool, String> {
    if !readable(src) {
        return Ok(false);
    }
    match super::parse::parse_check(src) {
        Ok(true) => Ok(true),
        Ok(false) => Err("passed by the events, but the parse finds no top-level sops entry".into()),
        Err(e) => Err(format!("passed by the events, but the parse refuses it: {e}")),
    }
}
