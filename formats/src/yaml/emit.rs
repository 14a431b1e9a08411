//! Writing YAML: span replacement for same-format output, and a block-style emitter for
//! cross-format output and for the `sops` metadata block.

use std::borrow::Cow;

use super::render::{
    double_quoted, is_plain_safe, line_indent, needs_line_indent, render_leaf, render_non_str, render_str,
};
use crate::model::{Comment, Document, Leaf, MapItem, Node, Scalar, SeqItem, Span, Style};
use crate::text::{apply_edits, code_of, explicit_key_indicator, line_start};
use crate::value::Value;
use crate::{EmitError, WriteOptions};

/// The indentation step sops writes with.
const SOPS_STEP: usize = 4;

pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let step = opts.indent.or(doc.indent).unwrap_or(SOPS_STEP);
    // Sized once: a large file has an edit per value, and a list that grows moves them all.
    let mut edits = Vec::with_capacity(doc.roots.iter().map(|r| r.node.changed_count() + 2).sum());
    let mut added_in_flow = false;
    for root in &doc.roots {
        collect_edits(&root.node, src, step, &mut edits);
        let flow = flow_root(src, &root.node, root.end);
        if opts.strip_metadata {
            if let Some(entry) = root.node.get("sops") {
                let span = if flow.is_some() {
                    flow_removal_span(src, entry.span)
                } else {
                    removal_span(src, entry.span, &root.node, &edits)
                };
                edits.push((span, Cow::Borrowed("")));
            }
        }
        if let (Some(meta), Some(close)) = (opts.metadata, flow) {
            added_in_flow = true;
            let (span, text) = flow_insertion(src, &root.node, close, meta)?;
            edits.push((span, Cow::Owned(text)));
        } else if let Some(meta) = opts.metadata {
            let col = root_column(src, &root.node)?;
            let mut block = String::new();
            emit_entry(&mut block, "sops", &meta.to_node(), col, step);
            if root.end == src.len() && !src.is_empty() && !src.ends_with('\n') {
                if let Some(at) = before_open_block_scalar(src, &root.node, root.end) {
                    edits.push((Span::new(at, at), Cow::Owned(block)));
                    continue;
                }
                block.pop();
                block.insert(0, '\n');
            }
            edits.push((Span::new(root.end, root.end), Cow::Owned(block)));
        }
    }
    drop_contained(&mut edits);
    let out = apply_edits(src, &mut edits);
    if added_in_flow && !every_document_has_metadata(&out, doc.roots.len()) {
        return Err(EmitError {
            format: "yaml",
            message: "could not place the sops metadata inside this top-level flow mapping".into(),
        });
    }
    Ok(out)
}

/// Drops the edits that lie inside another edit's span: a block scalar's header comment is
/// part of the scalar's span, and goes (and comes back) with its value when that is replaced.
fn drop_contained(edits: &mut Vec<(Span, Cow<'_, str>)>) {
    crate::text::sort_edits(edits, |s| (s.start, std::cmp::Reverse(s.end)));
    let mut reach = 0;
    edits.retain(|(s, _)| {
        let inside = s.start < reach && s.end <= reach;
        if !inside {
            reach = reach.max(s.end);
        }
        !inside
    });
}

/// For a document that ends the file without a final line break: when its last value is a block
/// scalar (`|`, `>`, not `-`) that runs to the end and stays as it is, where to put the metadata
/// instead of after it: the start of the line of the last top-level key. A line break after
/// that scalar would add a line break to its value (for sops and for gitseal), so the MAC would
/// no longer match; the metadata entry is read (and removed) wherever it stands.
fn before_open_block_scalar(src: &str, node: &Node, end: usize) -> Option<usize> {
    let (last, leaf) = last_data_leaf(node)?;
    let open = matches!(leaf.style, Style::Literal | Style::Folded)
        && !leaf.changed
        && !leaf.in_flow
        && !super::parse::block_header(src, leaf.span.start).contains('-')
        && src.get(leaf.span.end..end).is_some_and(|tail| tail.bytes().all(|b| matches!(b, b' ' | b'\r' | b'\n')));
    let at = last.span.start;
    (open && (at == 0 || src[..at].ends_with('\n'))).then_some(at)
}

/// Checks a flow-style insertion (rare, and hard to place by position alone) by reading back.
fn every_document_has_metadata(out: &str, roots: usize) -> bool {
    super::parse(out).is_ok_and(|d| d.roots.len() == roots && d.roots.iter().all(|r| r.node.get("sops").is_some()))
}

/// The last top-level entry but `sops` of a block mapping, and the last leaf in its value.
fn last_data_leaf(node: &Node) -> Option<(&crate::model::Entry, &Leaf)> {
    let Node::Map(items) = node else { return None };
    let last = items.iter().rev().find_map(|i| match i {
        MapItem::Entry(e) if e.key != "sops" => Some(e),
        _ => None,
    })?;
    let mut value = &last.value;
    loop {
        value = match value {
            Node::Leaf(l) => return Some((last, l)),
            Node::Map(items) => items.iter().rev().find_map(|i| match i {
                MapItem::Entry(e) => Some(&e.value),
                MapItem::Comment(_) => None,
            })?,
            Node::Seq(items) => items.iter().rev().find_map(|i| match i {
                SeqItem::Node { node, .. } => Some(node),
                SeqItem::Comment(_) => None,
            })?,
            Node::Alias(_) => return None,
        };
    }
}

/// The bytes to remove for the metadata entry: its lines, plus the newline that was added before
/// it when the file had no final newline. That newline stays when the value written just before
/// it is a block scalar that keeps its final line break (`|`, `>`, `|+`): at the end of the file
/// without it, the scalar would read without its last line break (a file whose final newline was
/// removed by hand after sops wrote a multi-line value there).
fn removal_span(src: &str, span: Span, node: &Node, edits: &[(Span, Cow<'_, str>)]) -> Span {
    let mut span = span;
    if span.end == src.len() && !src.ends_with('\n') && span.start > 0 && src.as_bytes()[span.start - 1] == b'\n' {
        let keeps_break = last_data_leaf(node).is_some_and(|(_, leaf)| {
            leaf.changed
                && leaf.span.end + 1 == span.start
                && matches!(&leaf.value, Scalar::Str(s) if s.ends_with('\n'))
                && edits.iter().any(|(at, text)| *at == leaf.span && block_keeps_final_break(text))
        });
        if !keeps_break {
            span.start -= 1;
        }
    }
    span
}

/// True when `text` is a block scalar (an optional tag, then `|` or `>`) whose header does not
/// strip the final line break and whose last line holds content: at the end of the file without
/// a line break after it, it would read without its final one.
fn block_keeps_final_break(text: &str) -> bool {
    let header = text.split('\n').next().unwrap_or_default().trim_end();
    let header = header.rsplit(' ').next().unwrap_or_default();
    let last_line = text.rsplit('\n').next().unwrap_or_default();
    text.contains('\n') && header.starts_with(['|', '>']) && !header.contains('-') && !last_line.trim().is_empty()
}

/// For a top-level flow mapping (`{ ... }`, as in JSON-style YAML): where its closing `}` is.
fn flow_root(src: &str, node: &Node, end: usize) -> Option<usize> {
    let Node::Map(items) = node else { return None };
    if !items.iter().any(|i| matches!(i, MapItem::Entry(_))) {
        // An empty mapping: `{}` when the last code (comments aside) before the end is `}`.
        let mut line_end = end;
        for line in src[..end].lines().rev() {
            let line_start = line_end.saturating_sub(line.len());
            let code = code_of(line).trim_end();
            line_end = line_start.saturating_sub(1);
            if code.trim().is_empty() {
                continue;
            }
            return code.ends_with('}').then(|| line_start + code.len() - 1);
        }
        return None;
    }
    let entries: Vec<&crate::model::Entry> = items
        .iter()
        .filter_map(|i| match i {
            MapItem::Entry(e) => Some(e),
            MapItem::Comment(_) => None,
        })
        .collect();
    let first = entries.first()?;
    if !opens_flow_mapping(&src[..first.span.start]) {
        return None;
    }
    let last = entries.last()?;
    let b = src.as_bytes();
    let mut i = last.span.end;
    while i < b.len() {
        match b[i] {
            b'}' => return Some(i),
            b'#' => i = src[i..].find('\n').map_or(src.len(), |n| i + n),
            b' ' | b'\t' | b'\r' | b'\n' | b',' => i += 1,
            _ => return None,
        }
    }
    None
}

/// True when the text before a document's first key ends with `{`, comments aside (only
/// markers, directives, comments and the `{` can stand there).
fn opens_flow_mapping(before: &str) -> bool {
    for line in before.lines().rev() {
        let code = code_of(line).trim();
        if !code.is_empty() {
            return code.ends_with('{');
        }
    }
    false
}

/// The `sops` entry added to a top-level flow mapping, written as JSON (which YAML's flow style
/// reads). On its own line before a `}` that has its own line, else inline before the `}`. After
/// a trailing comma the entry gets one of its own; otherwise the comma goes before it, so that
/// [`flow_removal_span`] knows which bytes were added.
fn flow_insertion(src: &str, node: &Node, close: usize, meta: &Value) -> Result<(Span, String), EmitError> {
    // After the last entry come only blanks, commas and comments; a comment runs to the end of
    // its line, so a separating comma must go before it, right after the entry.
    let last_end = match node {
        Node::Map(items) => items.iter().rev().find_map(|i| i.entry().map(|e| e.span.end)),
        _ => None,
    };
    let (after_last, trailing_comma) = match last_end {
        Some(end) if end <= close => (end, flow_gap_has_comma(&src[end..close])),
        _ => (close, true),
    };
    let close_on_own_line = src[line_start(src, close)..close].trim().is_empty();
    let first_line = match node {
        Node::Map(items) => items.iter().find_map(|i| match i {
            MapItem::Entry(e) => Some(line_start(src, e.span.start)),
            MapItem::Comment(_) => None,
        }),
        _ => None,
    };
    let indent: String =
        first_line.map_or("  ".to_string(), |ls| src[ls..].chars().take_while(|c| *c == ' ').collect::<String>());
    let json = crate::json::value_text(meta, close_on_own_line, &indent, "  ")?;
    Ok(match (trailing_comma, close_on_own_line) {
        (true, true) => {
            let at = line_start(src, close);
            (Span::new(at, at), format!("{indent}sops: {json},\n"))
        }
        (true, false) => (Span::new(close, close), format!("sops: {json},")),
        (false, true) => (Span::new(after_last, after_last), format!(",\n{indent}sops: {json}")),
        (false, false) => (Span::new(after_last, after_last), format!(", sops: {json}")),
    })
}

/// Whether the bytes between a flow mapping's last entry and its `}` (blanks, commas and
/// comments) hold a comma outside the comments.
fn flow_gap_has_comma(gap: &str) -> bool {
    let mut in_comment = false;
    gap.bytes().any(|c| {
        match c {
            b'\n' => in_comment = false,
            b'#' => in_comment = true,
            _ => {}
        }
        c == b',' && !in_comment
    })
}

/// The bytes [`flow_insertion`] added for the entry at `span`.
fn flow_removal_span(src: &str, span: Span) -> Span {
    let b = src.as_bytes();
    let mut after = span.end;
    while after < b.len() && b[after] == b' ' {
        after += 1;
    }
    if b.get(after) == Some(&b',') {
        let ls = line_start(src, span.start);
        if src[ls..span.start].trim().is_empty() && b.get(after + 1) == Some(&b'\n') {
            return Span::new(ls, after + 2);
        }
        return Span::new(span.start, after + 1);
    }
    let comma = src[..span.start].rfind(',').unwrap_or(span.start);
    Span::new(comma, span.end)
}

/// Column of a block mapping at the top of a document; metadata is written there.
fn root_column(src: &str, node: &Node) -> Result<usize, EmitError> {
    let Node::Map(items) = node else { return Ok(0) };
    let Some(first) = items.iter().find_map(|i| match i {
        MapItem::Entry(e) => Some(e),
        MapItem::Comment(_) => None,
    }) else {
        return Ok(0);
    };
    let before = src[..first.span.start].trim_end();
    // An explicit key (`?` then the key) starts at its `?`, which may stand on a line of its own.
    let ls = line_start(src, explicit_key_indicator(src, first.span.start).unwrap_or(first.span.start));
    if before.ends_with('{') || before.ends_with(',') {
        return Err(EmitError {
            format: "yaml",
            message: "a top-level flow mapping ({...}) cannot take the sops metadata block yet".into(),
        });
    }
    let line = &src[ls..];
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    if line[..line.len() - line.trim_start_matches([' ', '\t']).len()].contains('\t') {
        return Err(EmitError {
            format: "yaml",
            message: "the top-level keys are indented with tabs, which YAML does not allow for indentation".into(),
        });
    }
    Ok(line.len() - line.trim_start_matches(' ').len())
}

fn collect_edits<'d>(node: &'d Node, src: &str, step: usize, edits: &mut Vec<(Span, Cow<'d, str>)>) {
    match node {
        Node::Leaf(leaf) if leaf.changed => {
            // Measured only for block output, which needs it (most values are written plain or
            // quoted).
            let indent = || if needs_line_indent(leaf) { line_indent(src, leaf.span.start) } else { 0 };
            let mut text = render_leaf(leaf, &leaf.value, &indent, step);
            // A block scalar's last line break is the one after its span; at the end of a file
            // that has none, a value ending with one would lose it (a remembered source layout
            // is written as it was).
            let block = leaf.literal.is_none() && text.starts_with(['|', '>']);
            if block
                && matches!(&leaf.value, Scalar::Str(s) if s.ends_with('\n'))
                && !src[leaf.span.end..].contains('\n')
            {
                text.to_mut().push('\n');
            }
            edits.push((leaf.span, text));
        }
        Node::Leaf(_) => {}
        Node::Map(items) => {
            for item in items {
                match item {
                    MapItem::Comment(c) if c.changed => edits.push((c.span, Cow::Owned(format!("#{}", c.text)))),
                    MapItem::Comment(_) => {}
                    MapItem::Entry(e) => collect_edits(&e.value, src, step, edits),
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    SeqItem::Comment(c) if c.changed => edits.push((c.span, Cow::Owned(format!("#{}", c.text)))),
                    SeqItem::Comment(_) => {}
                    SeqItem::Node { node, .. } => collect_edits(node, src, step, edits),
                }
            }
        }
        // An alias whose expansion holds encrypted values is written out, as sops does, in flow
        // style in place of the `*name`; an untouched one stays an alias.
        Node::Alias(a) => {
            if has_changed_leaf(&a.node) {
                edits.push((a.span, Cow::Owned(flow_text(&a.node))));
            }
            // A comment after the alias, placed inside its expansion (the expansion's own
            // comments are the anchor's, written where the anchor is).
            let after = |c: &Comment| c.changed && c.span.start >= a.span.end;
            match &a.node {
                Node::Map(items) => items.iter().for_each(|i| match i {
                    MapItem::Comment(c) if after(c) => edits.push((c.span, Cow::Owned(format!("#{}", c.text)))),
                    _ => {}
                }),
                Node::Seq(items) => items.iter().for_each(|i| match i {
                    SeqItem::Comment(c) if after(c) => edits.push((c.span, Cow::Owned(format!("#{}", c.text)))),
                    _ => {}
                }),
                _ => {}
            }
        }
    }
}

/// True when a leaf inside `node` was changed by the envelope.
pub(crate) fn has_changed_leaf(node: &Node) -> bool {
    match node {
        Node::Leaf(l) => l.changed,
        Node::Map(items) => items.iter().any(|i| matches!(i, MapItem::Entry(e) if has_changed_leaf(&e.value))),
        Node::Seq(items) => items.iter().any(|i| matches!(i, SeqItem::Node { node, .. } if has_changed_leaf(node))),
        Node::Alias(a) => has_changed_leaf(&a.node),
    }
}

/// A node on one line in flow style: strings double-quoted (an encrypted value cannot be plain
/// there), other scalars as their literal when it still reads as the value. Comments are left
/// out (flow collections written here replace an alias, which has none).
pub(crate) fn flow_text(node: &Node) -> String {
    match node.resolved() {
        Node::Leaf(l) => match &l.value {
            Scalar::Str(s) => double_quoted(s),
            _ => render_leaf(l, &l.value, &|| 0, 2).into_owned(),
        },
        Node::Map(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    MapItem::Entry(e) => {
                        let key = if is_plain_safe(&e.key, true) { e.key.clone() } else { double_quoted(&e.key) };
                        Some(format!("{key}: {}", flow_text(&e.value)))
                    }
                    MapItem::Comment(_) => None,
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Node::Seq(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    SeqItem::Node { node, .. } => Some(flow_text(node)),
                    SeqItem::Comment(_) => None,
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Node::Alias(_) => unreachable!("resolved"),
    }
}

/// Writes a whole document set as block-style YAML (cross-format output).
pub(crate) fn emit(doc: &Document, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let step = opts.indent.unwrap_or(SOPS_STEP).max(1);
    let mut out = String::new();
    for (n, root) in doc.roots.iter().enumerate() {
        if n > 0 {
            out.push_str("---\n");
        }
        match &root.node {
            Node::Map(items) => emit_map(&mut out, items, 0, step, opts.strip_metadata),
            other => emit_node_top(&mut out, other, step),
        }
        if let Some(meta) = opts.metadata {
            emit_entry(&mut out, "sops", &meta.to_node(), 0, step);
        }
    }
    Ok(out)
}

fn emit_node_top(out: &mut String, node: &Node, step: usize) {
    match node.resolved() {
        Node::Alias(a) => emit_node_top(out, &a.node, step),
        Node::Seq(items) => emit_seq(out, items, 0, step),
        Node::Leaf(l) => {
            out.push_str(&scalar_text(&l.value, 0, step));
            out.push('\n');
        }
        Node::Map(items) => emit_map(out, items, 0, step, false),
    }
}

fn pad(out: &mut String, col: usize) {
    out.extend(std::iter::repeat_n(' ', col));
}

/// A key as written anew: plain when that reads back as the same string, else double-quoted.
/// `<<` before a map (or a list of maps) is a merge key, as the file it came from had it (gitseal
/// writes merges so in encrypted files, as sops does): quoting it would turn the merge into a
/// key named `<<` for every YAML reader.
fn key_text(key: &str, value: &Node) -> String {
    let merge = key == "<<" && matches!(value, Node::Map(_) | Node::Seq(_) | Node::Alias(_));
    if merge || is_plain_safe(key, false) {
        key.to_string()
    } else {
        double_quoted(key)
    }
}

fn scalar_text(value: &Scalar, col: usize, step: usize) -> String {
    match value {
        Scalar::Str(s) => render_str(s, Style::Plain, false, 0, &|| col, step).into_owned(),
        other => render_non_str(other),
    }
}

fn emit_map(out: &mut String, items: &[MapItem], col: usize, step: usize, skip_sops: bool) {
    for item in items {
        match item {
            MapItem::Comment(c) => {
                pad(out, col);
                out.push('#');
                out.push_str(&c.text);
                out.push('\n');
            }
            MapItem::Entry(e) if skip_sops && e.key == "sops" => {}
            MapItem::Entry(e) => emit_entry(out, &e.key, &e.value, col, step),
        }
    }
}

fn emit_entry(out: &mut String, key: &str, value: &Node, col: usize, step: usize) {
    pad(out, col);
    out.push_str(&key_text(key, value));
    out.push(':');
    emit_value_after_key(out, value, col, step);
}

/// The value of an entry at `col`, after its `key:`.
fn emit_value_after_key(out: &mut String, value: &Node, col: usize, step: usize) {
    match value {
        Node::Alias(a) => emit_value_after_key(out, &a.node, col, step),
        Node::Leaf(Leaf { value: Scalar::Null, .. }) => out.push('\n'),
        Node::Leaf(l) => {
            out.push(' ');
            out.push_str(&scalar_text(&l.value, col, step));
            out.push('\n');
        }
        Node::Map(items) if !has_entries_map(items) => out.push_str(" {}\n"),
        Node::Seq(items) if !has_entries_seq(items) => out.push_str(" []\n"),
        Node::Map(items) => {
            out.push('\n');
            emit_map(out, items, col + step, step, false);
        }
        Node::Seq(items) => {
            out.push('\n');
            emit_seq(out, items, col + step, step);
        }
    }
}

fn has_entries_map(items: &[MapItem]) -> bool {
    items.iter().any(|i| matches!(i, MapItem::Entry(_)))
}

fn has_entries_seq(items: &[SeqItem]) -> bool {
    items.iter().any(|i| matches!(i, SeqItem::Node { .. }))
}

fn emit_seq(out: &mut String, items: &[SeqItem], col: usize, step: usize) {
    for item in items {
        match item {
            SeqItem::Comment(c) => {
                pad(out, col);
                out.push('#');
                out.push_str(&c.text);
                out.push('\n');
            }
            SeqItem::Node { node, .. } => {
                pad(out, col);
                out.push('-');
                emit_seq_item(out, node, col, step);
            }
        }
    }
}

/// A sequence item's value after its `-`.
fn emit_seq_item(out: &mut String, node: &Node, col: usize, step: usize) {
    match node {
        Node::Alias(a) => emit_seq_item(out, &a.node, col, step),
        Node::Leaf(l) => {
            out.push(' ');
            out.push_str(&scalar_text(&l.value, col, step));
            out.push('\n');
        }
        Node::Map(m) if !has_entries_map(m) => out.push_str(" {}\n"),
        Node::Seq(s) if !has_entries_seq(s) => out.push_str(" []\n"),
        Node::Map(m) => {
            let mut inner = String::new();
            emit_map(&mut inner, m, col + 2, step, false);
            out.push(' ');
            out.push_str(&inner[col + 2..]);
        }
        Node::Seq(s) => {
            let mut inner = String::new();
            emit_seq(&mut inner, s, col + 2, step);
            out.push(' ');
            out.push_str(&inner[col + 2..]);
        }
    }
}
