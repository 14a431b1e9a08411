//! INI written from a tree (`--output-type ini`, the `[sops]` metadata section), byte for byte
//! as sops writes it: sops fills a gopkg.in/ini.v1 file and calls `WriteTo` with ini.v1's
//! defaults (`PrettyFormat`, `PrettySection`, no `DefaultHeader`).
//!
//! - Each section's keys are padded with spaces to its longest key, counted in bytes
//!   (`key           = value`); a section is padded on its own, `DEFAULT` and `[sops]` too.
//! - A blank line follows every section but the last. `DEFAULT` is written without a header
//!   when it is the first section, and not at all when it is also empty.
//! - Values: `"""v"""` when `v` holds a line break or a backquote, `` `v` `` when it holds
//!   `#` or `;`, `"v"` when it has surrounding blanks, else as is (an empty value leaves
//!   `key = ` with its trailing blank). Numbers, booleans and times as sops's `ValToString`
//!   writes them (`1.0`, `1E-06`, `true`, RFC 3339).
//! - Comments as sops places them (`stores/ini/store.go` `encodeTree`): a comment that is the
//!   first item of a section is written above the `[header]`; every later comment replaces the
//!   comment of the key before it and is written above that key (an empty one clears it);
//!   comments outside sections are dropped.
//!
//! Where sops's text would read back as something else, gitseal writes what reads back the
//! same and differs from sops: values such as `"quoted"` (sops drops the quotes), a timestamp's
//! fraction of a second (sops drops it), `null` (sops writes `<nil>`; gitseal an empty value).
//! Lists and maps inside a section (sops writes Go's `[a b]`) and keys holding `=` or `:`
//! (which ini.v1 quotes and gitseal's reader does not unquote) are refused; a key holding `"`
//! or a backquote is written as it is, where sops quotes it.

use super::{check_key, emit_error, fresh_value, plain_ok, quoted_ok, DEFAULT};
use crate::dotenv;
use crate::model::{Document, MapItem, Node, Scalar};
use crate::value::Value;
use crate::{EmitError, WriteOptions};

/// A section about to be written: its name, its comment, and its keys with their values as
/// written (quoted) and their comments.
struct Section<'a> {
    name: &'a str,
    comment: Option<&'a str>,
    keys: Vec<Key<'a>>,
}

struct Key<'a> {
    name: &'a str,
    value: String,
    comment: Option<&'a str>,
}

/// Writes `doc` as new INI text: a top-level map of sections holding scalars.
pub(crate) fn emit(doc: &Document, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let items = crate::top_level_items(doc, "ini")?;
    let mut sections = Vec::new();
    for item in items {
        match item {
            MapItem::Entry(e) if !(drop_meta && e.key == "sops") => sections.push(section(&e.key, &e.value)?),
            _ => {}
        }
    }
    let flat;
    if let Some(meta) = opts.metadata {
        flat = flat_metadata(meta);
        sections.push(metadata_section(&flat)?);
    }
    Ok(render(&sections, "\n"))
}

/// The metadata flattened into a `[sops]` section, ending with a line break.
pub(super) fn metadata_block(meta: &Value, nl: &str) -> Result<String, EmitError> {
    let flat = flat_metadata(meta);
    Ok(render(&[metadata_section(&flat)?], nl))
}

/// The metadata's keys (without dotenv's `sops_` prefix) and values, line breaks as `\n`.
fn flat_metadata(meta: &Value) -> Vec<(String, String)> {
    dotenv::flatten(meta)
        .into_iter()
        .map(|(key, value)| (key.strip_prefix("sops_").unwrap_or(&key).to_string(), value.replace('\n', "\\n")))
        .collect()
}

fn metadata_section(flat: &[(String, String)]) -> Result<Section<'_>, EmitError> {
    let keys = flat
        .iter()
        .map(|(k, v)| Ok(Key { name: k, value: value_text(v, "sops", k)?, comment: None }))
        .collect::<Result<_, EmitError>>()?;
    Ok(Section { name: "sops", comment: None, keys })
}

/// One section of the tree, with its comments placed as sops places them.
fn section<'a>(name: &'a str, node: &'a Node) -> Result<Section<'a>, EmitError> {
    let Node::Map(items) = node else {
        return Err(emit_error(format!("key path {name} is not a section of key = value pairs")));
    };
    if name.contains([']', '\n', '\r']) {
        return Err(emit_error(format!("section name {name:?} cannot be written in INI")));
    }
    let mut out = Section { name, comment: None, keys: Vec::new() };
    for (i, item) in items.iter().enumerate() {
        match item {
            MapItem::Comment(c) if i == 0 => out.comment = Some(&c.text),
            MapItem::Comment(c) => {
                // sops sets it as the comment of the key before; before any key it is lost.
                if let Some(last) = out.keys.last_mut() {
                    last.comment = Some(&c.text);
                }
            }
            MapItem::Entry(kv) => {
                let Node::Leaf(l) = &kv.value else {
                    return Err(emit_error(format!(
                        "key path {name}:{} is a nested value, which INI cannot hold",
                        kv.key
                    )));
                };
                check_key(&kv.key, name)?;
                let value = value_text(&scalar_text(&l.value), name, &kv.key)?;
                out.keys.push(Key { name: &kv.key, value, comment: None });
            }
        }
    }
    Ok(out)
}

/// ini.v1's `writeToBuffer` with `PrettyFormat` and `PrettySection`.
fn render(sections: &[Section<'_>], nl: &str) -> String {
    let mut out = String::new();
    for (i, s) in sections.iter().enumerate() {
        push_comment(&mut out, s.comment, false, nl);
        if i == 0 && s.name == DEFAULT {
            if s.keys.is_empty() {
                continue;
            }
        } else {
            out.push_str(&format!("[{}]{nl}", s.name));
        }
        let width = s.keys.iter().map(|k| k.name.len()).max().unwrap_or(0);
        for k in &s.keys {
            push_comment(&mut out, k.comment, true, nl);
            // Padded in bytes, as Go counts a string's length.
            let pad = " ".repeat(width - k.name.len());
            out.push_str(&format!("{}{pad} = {}{nl}", k.name, k.value));
        }
        if i + 1 < sections.len() {
            out.push_str(nl);
        }
    }
    out
}

/// A comment's lines as ini.v1 writes them: a line starting with `#` or `;` keeps that
/// character and one space before the rest, trimmed; any other line gets `; ` before it (and is
/// trimmed when it is a key's comment). An empty comment is not written.
fn push_comment(out: &mut String, comment: Option<&str>, trim: bool, nl: &str) {
    for line in comment.filter(|c| !c.is_empty()).into_iter().flat_map(|c| c.split('\n')) {
        match line.as_bytes().first() {
            Some(b'#' | b';') => out.push_str(&format!("{} {}", &line[..1], line[1..].trim())),
            _ if trim => out.push_str(&format!("; {}", line.trim())),
            _ => out.push_str(&format!("; {line}")),
        }
        out.push_str(nl);
    }
}

/// A value as ini.v1 quotes it, unless that would read back as something else: then as
/// gitseal writes a fresh value (see [`fresh_value`]).
fn value_text(v: &str, section: &str, key: &str) -> Result<String, EmitError> {
    let (text, reads_back) = if v.contains(['\n', '`']) {
        (format!("\"\"\"{v}\"\"\""), quoted_ok(v, "\"\"\""))
    } else if v.contains(['#', ';']) {
        (format!("`{v}`"), true)
    } else if v.trim() != v {
        (format!("\"{v}\""), !v.contains('"'))
    } else {
        (v.to_string(), plain_ok(v))
    };
    if reads_back {
        Ok(text)
    } else {
        fresh_value(v, section, key)
    }
}

/// sops's `stores.ValToString`, except where noted in the module documentation.
fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => float_text(*f),
        Scalar::Str(s) | Scalar::Time(s) => s.clone(),
    }
}

/// Go's `strconv.FormatFloat(v, 'G', -1, 64)`, with `.0` added when that reads as an integer
/// (sops's `ValToString`): `1.0`, `1.5`, `123456.0`, `1.234567E+06`, `1E-05`, `-0.0`, `+Inf`.
pub(super) fn float_text(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` writes the shortest round-trip digits, as Go's `-1` precision does.
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Go uses %E when the exponent is < -4 or >= the precision, 6 for shortest digits.
    let text = if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    };
    if text.contains(['.', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}
