//! A large block-YAML file parsed in two halves, on two threads.
//!
//! The line scanner reads every line on its own, in a state made of the block collections open
//! there: a file can be cut at a line between two entries of block mappings, the first half
//! parsed up to it, and the second parsed from it by a scanner started in that state (after
//! the events that open those mappings, read back from the lines' indentation). The first
//! half's scan says whether its end state is the one guessed; the halves' trees are then
//! joined along the mappings open at the cut, and their keys checked for repeats across it.
//! Any doubt (a guess that was wrong, a half outside the subset, an error in either half, a
//! key in both) gives `None`, and the file is parsed whole: errors are always the whole
//! parse's. [`agree`] holds both to the same tree at every line where a cut is possible, in
//! `yaml::tests::a_parse_in_halves_gives_the_whole_parse` and the `yaml` fuzz target.

use std::collections::HashSet;

use super::fast;
use super::parse::{build_half, precheck, Values};
use crate::model::{Document, MapItem, Node, Root};

/// Files smaller than this are parsed on one thread (a thread costs tens of microseconds).
const MIN_BYTES: usize = 512 * 1024;

/// `src` parsed in two halves on two threads, when it is large, the machine has two cores, and
/// the halves join up; `None` otherwise.
pub(super) fn parse(src: &str, values: Values) -> Option<Document> {
    if src.len() < MIN_BYTES || std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        return None;
    }
    let (pos, open) = fast::seam(src)?;
    in_halves(src, pos, &open, values)
}

/// `src` parsed in halves cut at `pos` (a line start), with the mappings `open` there.
pub(super) fn in_halves(src: &str, pos: usize, open: &[fast::Open], values: Values) -> Option<Document> {
    let (first, second) = std::thread::scope(|s| {
        let second = std::thread::Builder::new()
            .stack_size(crate::TREE_STACK)
            .spawn_scoped(s, || build_half(src, Some(pos), open, values))
            .ok()?;
        let first = build_half(&src[..pos], None, open, values);
        Some((first, second.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))))
    })?;
    let (mut first, at_end) = first.ok()?;
    let (second, _) = second.ok()?;
    // The first half's scan ends with the mappings guessed open, and maybe mappings nested
    // deeper (right of them), which the cut's key closes.
    let at_end = at_end?;
    let (outer, _) = at_end.split_at_checked(open.len())?;
    if !outer.iter().eq(open.iter().map(|o| &o.col)) {
        return None;
    }
    if first.roots.len() != 1 || second.roots.len() != 1 {
        return None;
    }
    let Root { node: Node::Map(rest), end } = second.roots.into_iter().next()? else { return None };
    let Node::Map(items) = &mut first.roots[0].node else { return None };
    join(items, rest, open.len() - 1)?;
    first.roots[0].end = end;
    first.indent = first.indent.or(second.indent);
    Some(first)
}

/// Joins a mapping's items from the second half to its items from the first, `depth` mappings
/// above the cut: the last entry of the first half and the first of the second are then the
/// same entry, whose mapping the cut runs through.
fn join(items: &mut Vec<MapItem>, rest: Vec<MapItem>, depth: usize) -> Option<()> {
    let mut rest = rest.into_iter();
    if depth > 0 {
        let Some(MapItem::Entry(head)) = rest.next() else { return None };
        let Some(MapItem::Entry(open)) = items.last_mut() else { return None };
        if open.key != head.key || open.span.start != head.span.start {
            return None;
        }
        let (Node::Map(inner), Node::Map(more)) = (&mut open.value, head.value) else { return None };
        join(inner, more, depth - 1)?;
        open.span.end = head.span.end;
    }
    let rest: Vec<MapItem> = rest.collect();
    if repeats_a_key(items, &rest) {
        return None;
    }
    items.extend(rest);
    Some(())
}

/// Whether a key of `a` is also a key of `b`.
fn repeats_a_key(a: &[MapItem], b: &[MapItem]) -> bool {
    let (small, large) = if a.len() < b.len() { (a, b) } else { (b, a) };
    let small: HashSet<&str, foldhash::fast::RandomState> =
        small.iter().filter_map(MapItem::entry).map(|e| e.key.as_str()).collect();
    !small.is_empty() && large.iter().filter_map(MapItem::entry).any(|e| small.contains(e.key.as_str()))
}

/// Parses `src` in halves at every line where a cut may be made, and compares each tree with
/// the whole parse's (values, spans and comments included), and each check with the whole
/// check: how many cuts joined up, or the first disagreement (which may quote the input). For
/// tests and fuzz targets; `src` is small (a large one could be cut on its own parse).
pub(crate) fn agree(src: &str) -> Result<usize, String> {
    if precheck(src).is_err() {
        return Ok(0);
    }
    let whole = super::parse(src);
    let mut joined = 0;
    for (pos, open) in fast::seams(src) {
        if let Some(doc) = in_halves(src, pos, &open, Values::All) {
            joined += 1;
            match &whole {
                Ok(w) if tree_text(w) == tree_text(&doc) => {}
                Ok(w) => {
                    return Err(format!("cut at {pos}:\nwhole:\n{}\nhalves:\n{}", tree_text(w), tree_text(&doc)));
                }
                Err(e) => return Err(format!("cut at {pos}: halves read it, the whole parse says {e}")),
            }
        }
        if let Some(doc) = in_halves(src, pos, &open, Values::TokensInSource) {
            match super::parse_encrypted(src) {
                Ok(w) if tree_text(&w) == tree_text(&doc) => {}
                _ => return Err(format!("cut at {pos}: halves and the whole parse leave other tokens in the source")),
            }
        }
        if in_halves(src, pos, &open, Values::Check).is_some() && super::check(src).is_err() {
            return Err(format!("cut at {pos}: halves check it, the whole check refuses it"));
        }
    }
    Ok(joined)
}

/// Everything a parsed document holds, values, spans and comments included, as text.
pub(crate) fn tree_text(doc: &Document) -> String {
    use crate::model::{MapItem, Node, Scalar, SeqItem};
    fn node(n: &Node, out: &mut String) {
        match n {
            Node::Leaf(l) => {
                let value = match &l.value {
                    Scalar::Null => "null".to_string(),
                    Scalar::Bool(b) => format!("bool {b}"),
                    Scalar::Int(i) => format!("int {i}"),
                    Scalar::Float(f) => format!("float {f:?}"),
                    Scalar::Str(s) => format!("str {s:?}"),
                    Scalar::Time(t) => format!("time {t:?}"),
                };
                let (span, style, literal) = (l.span, l.style, &l.literal);
                out.push_str(&format!(
                    "{value} {span:?} {style:?} {} {} {literal:?} {} {}\n",
                    l.indent, l.changed, l.in_flow, l.token_in_source
                ));
            }
            Node::Map(items) => {
                out.push_str("map\n");
                for item in items {
                    match item {
                        MapItem::Comment(c) => out.push_str(&format!("comment {:?} {:?}\n", c.text, c.span)),
                        MapItem::Entry(e) => {
                            out.push_str(&format!("key {:?} {:?}\n", e.key, e.span));
                            node(&e.value, out);
                        }
                    }
                }
                out.push_str("end\n");
            }
            Node::Seq(items) => {
                out.push_str("seq\n");
                for item in items {
                    match item {
                        SeqItem::Comment(c) => out.push_str(&format!("comment {:?} {:?}\n", c.text, c.span)),
                        SeqItem::Node { start, node: n } => {
                            out.push_str(&format!("item {start}\n"));
                            node(n, out);
                        }
                    }
                }
                out.push_str("end\n");
            }
            Node::Alias(a) => {
                out.push_str(&format!("alias {:?}\n", a.span));
                node(&a.node, out);
            }
        }
    }
    let mut out = format!("indent {:?}\n", doc.indent);
    for root in &doc.roots {
        out.push_str(&format!("root, ends at {}\n", root.end));
        node(&root.node, &mut out);
    }
    out
}
