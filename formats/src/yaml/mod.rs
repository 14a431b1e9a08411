//! The YAML codec.

mod emit;
mod fast;
mod halves;
mod parse;
mod readback;
mod render;
mod resolve;
mod shield;

pub(crate) use emit::{emit, flow_text, has_changed_leaf, write};
pub(crate) use halves::{agree as halves_agree, tree_text};
pub(crate) use parse::{check, parse, parse_encrypted, scanners_agree};
pub(crate) use readback::{agree as readback_agrees, check_beside};
pub(crate) use render::decrypted_text;

#[cfg(test)]
mod tests;
