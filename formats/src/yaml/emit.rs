//! Writing YAML: span replacement for same-format output, and a block-style emitter for
//! cross-format output and for the `sops` metadata block.

use super::render::{double_quoted, is_plain_safe, render_leaf, render_non_str, render_str};
use crate::model::{Document, Leaf, MapItem, Node, Scalar, SeqItem, Span, Style};
use crate::text::{apply_edits, line_start};
use crate::value::Value;
use crate::{EmitError, WriteOptions};

/// The indentation step sops writes with.
const SOPS_STEP: usize = 4;

pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let step = opts.indent.or(doc.indent).unwrap_or(SOPS_STEP);
    let mut edits = Vec::new();
    for root in &doc.roots {
        collect_edits(&root.node, src, step, &mut edits);
        if opts.strip_metadata {
            if let Some(entry) = root.node.get("sops") {
                edits.push((removal_span(src, entry.span), String::new()));
            }
        }
        if let Some(meta) = opts.metadata {
            let col = root_column(src, &root.node)?;
            let mut block = String::new();
            emit_entry(&mut block, "sops", &node_of(meta), col, step);
            if root.end == src.len() && !src.is_empty() && !src.ends_with('\n') {
                block.pop();
                block.insert(0, '\n');
            }
            edits.push((Span::new(root.end, root.end), block));
        }
    }
    Ok(apply_edits(src, &mut edits))
}

/// The bytes to remove for the metadata entry: its lines, plus the newline that was added before
/// it when the file had no final newline.
fn removal_span(src: &str, span: Span) -> Span {
    let mut span = span;
    if span.end == src.len() && !src.ends_with('\n') && span.start > 0 && src.as_bytes()[span.start - 1] == b'\n' {
        span.start -= 1;
    }
    span
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
    let ls = line_start(src, first.span.start);
    let before = src[..first.span.start].trim_end();
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

fn collect_edits(node: &Node, src: &str, step: usize, edits: &mut Vec<(Span, String)>) {
    match node {
        Node::Leaf(leaf) if leaf.changed => {
            edits.push((leaf.span, render_leaf(leaf, &leaf.value, line_indent(src, leaf.span.start), step)));
        }
        Node::Leaf(_) => {}
        Node::Map(items) => {
            for item in items {
                match item {
                    MapItem::Comment(c) if c.changed => edits.push((c.span, format!("#{}", c.text))),
                    MapItem::Comment(_) => {}
                    MapItem::Entry(e) => collect_edits(&e.value, src, step, edits),
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    SeqItem::Comment(c) if c.changed => edits.push((c.span, format!("#{}", c.text))),
                    SeqItem::Comment(_) => {}
                    SeqItem::Node { node, .. } => collect_edits(node, src, step, edits),
                }
            }
        }
    }
}

fn line_indent(src: &str, at: usize) -> usize {
    let line = &src[line_start(src, at)..];
    line.len() - line.trim_start_matches(' ').len()
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
            emit_entry(&mut out, "sops", &node_of(meta), 0, step);
        }
    }
    Ok(out)
}

fn emit_node_top(out: &mut String, node: &Node, step: usize) {
    match node {
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

fn key_text(key: &str) -> String {
    if is_plain_safe(key, false) {
        key.to_string()
    } else {
        double_quoted(key)
    }
}

fn scalar_text(value: &Scalar, col: usize, step: usize) -> String {
    match value {
        Scalar::Str(s) => render_str(s, Style::Plain, false, 0, col, step),
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
    out.push_str(&key_text(key));
    out.push(':');
    match value {
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
                match node {
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
        }
    }
}

/// A value tree as a node tree without spans, so one emitter serves both.
pub(crate) fn node_of(value: &Value) -> Node {
    match value {
        Value::Scalar(s) => Node::Leaf(Leaf {
            value: s.clone(),
            span: Span::default(),
            style: Style::Plain,
            indent: 0,
            changed: false,
            in_flow: false,
            literal: None,
        }),
        Value::Map(items) => Node::Map(
            items
                .iter()
                .map(|(k, v)| {
                    MapItem::Entry(crate::model::Entry { key: k.clone(), span: Span::default(), value: node_of(v) })
                })
                .collect(),
        ),
        Value::Seq(items) => Node::Seq(items.iter().map(|v| SeqItem::Node { start: 0, node: node_of(v) }).collect()),
    }
}
