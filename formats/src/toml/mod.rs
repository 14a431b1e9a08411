//! TOML codec (gitseal's extension: sops has no TOML store).
//!
//! A hand-written scanner (TOML 1.0, plus 1.1's multi-line inline tables and `\e`/`\x`
//! escapes) builds the tree: tables and inline tables are maps, arrays are sequences, an array of
//! tables `[[x]]` is a sequence of maps under `x`, dotted keys (`a.b.c = 1`) nest maps. Every
//! leaf and comment keeps its byte span, so [`write`] replaces only what changed.
//!
//! Types: strings (all four kinds) are `Str` (the kind is kept in `Leaf::style`: `"` double,
//! `'` single, `'''` literal, `"""` folded); integers (hex, octal, binary, underscores) are
//! `Int` and floats `Float`, both with their source spelling in `Leaf::literal`; an offset
//! date-time spelled exactly as RFC 3339 writes it (`1979-05-27T07:32:00Z`) is `Time`.
//!
//! Local dates, times and date-times (and offset date-times spelled differently from RFC 3339,
//! e.g. with a space) cannot be held by sops's `time` type without changing them, so they are
//! `Str` leaves holding the TOML text: sops and gitseal encrypt them as `type:str`. So that they
//! come back bare (not quoted) after decryption, an encrypted value that replaced a bare
//! date/time is written as `'''ENC[...]'''`, and a date/time string written into a one-line
//! `'''...'''` slot is written bare.
//!
//! Comments are the text after `#` (encrypted like YAML comments, with the path of the table
//! they are in). Metadata is a `[sops]` table at the end of the file that mirrors the JSON
//! `sops` object (`[[sops.age]]` arrays of tables, armored keys as `"""` strings).

mod datetime;
mod parse;
mod write;

#[cfg(test)]
mod tests;

pub(crate) use parse::parse;
pub(crate) use write::{emit, removal, write};
