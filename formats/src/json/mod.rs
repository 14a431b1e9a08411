//! JSON codec: a hand-written, single-pass scanner that records the byte span of every value,
//! span-replacement writing that keeps the file's layout byte for byte, and a fresh emitter
//! (tab indent by default, like sops).
//!
//! The scanner is iterative (an explicit stack of open containers), so deep nesting cannot
//! overflow the call stack; nesting deeper than [`MAX_DEPTH`] is rejected anyway because the
//! rest of the pipeline walks trees recursively.

mod parse;
#[cfg(test)]
mod tests;
mod write;

pub(crate) use parse::{parse, parse_encrypted};
pub(crate) use write::{apply_checked, decrypted_text, decrypted_text_differs, emit, value_text, write};
