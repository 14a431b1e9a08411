//! Tree paths as sops writes them for `--extract` and `set`: `["key"][0]['other']`.

use gitseal_formats::{self as formats, Document, Format, MapItem, Node, Root, Scalar, SeqItem, WriteOptions};

/// One step of a tree path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Parses `["a"][0]['b']`. The error says what is wrong (sops exit code 91).
pub fn parse(s: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err("empty tree path".into());
    }
    while !rest.is_empty() {
        let inner =
            rest.strip_prefix('[').ok_or_else(|| format!("tree path component {rest:?} does not start with ["))?;
        if let Some(q) = inner.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let body = &inner[1..];
            let end = body.find(q).ok_or_else(|| format!("unterminated string in tree path {s:?}"))?;
            steps.push(Step::Key(body[..end].to_string()));
            rest = body[end + 1..]
                .strip_prefix(']')
                .ok_or_else(|| format!("tree path component in {s:?} doesn't end with ]"))?;
        } else {
            let end = inner.find(']').ok_or_else(|| format!("tree path component in {s:?} doesn't end with ]"))?;
            let index =
                inner[..end].trim().parse().map_err(|_| format!("invalid index {:?} in tree path", &inner[..end]))?;
            steps.push(Step::Index(index));
            rest = &inner[end + 1..];
        }
    }
    Ok(steps)
}

/// The part of the first document at `steps`, written in `format`: a string raw (no newline),
/// another scalar as text plus a newline, a mapping or sequence as a document of its own.
pub fn extract(doc: &Document, steps: &[Step], format: Format, indent: Option<usize>) -> Result<Vec<u8>, String> {
    let mut node = &doc.roots.first().ok_or("the file has no document")?.node;
    for (n, step) in steps.iter().enumerate() {
        let found = match (step, node) {
            (Step::Key(k), Node::Map(_)) => node.get(k).map(|e| &e.value),
            (Step::Index(i), Node::Seq(items)) => items
                .iter()
                .filter_map(|it| match it {
                    SeqItem::Node { node, .. } => Some(node),
                    SeqItem::Comment(_) => None,
                })
                .nth(*i),
            _ => None,
        };
        node = found.ok_or_else(|| format!("component {} not found in the tree", display(&steps[..=n])))?;
    }
    match node {
        Node::Leaf(l) => Ok(match &l.value {
            Scalar::Str(s) => s.clone().into_bytes(),
            Scalar::Null => b"null\n".to_vec(),
            Scalar::Bool(b) => format!("{b}\n").into_bytes(),
            Scalar::Int(i) => format!("{i}\n").into_bytes(),
            Scalar::Float(f) => format!("{}\n", formats::format_float(*f)).into_bytes(),
            Scalar::Time(t) => format!("{t}\n").into_bytes(),
        }),
        sub => {
            let mut sub = sub.clone();
            if let Node::Map(items) = &mut sub {
                items.retain(|i| matches!(i, MapItem::Entry(_)) || format == Format::Yaml);
            }
            let doc = Document { format, roots: vec![Root { node: sub, end: 0 }], indent: None };
            formats::emit(&doc, format, WriteOptions { indent, ..WriteOptions::default() })
                .map(String::into_bytes)
                .map_err(|e| e.to_string())
        }
    }
}

/// A path written back in sops's syntax.
pub fn display(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => format!("[{k:?}]"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_paths() {
        assert_eq!(
            parse(r#"["a"][0]['b c']"#).unwrap(),
            vec![Step::Key("a".into()), Step::Index(0), Step::Key("b c".into())]
        );
        for bad in ["", "a", "[\"a\"", "[x]", "[\"a\"]b", "[0"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
