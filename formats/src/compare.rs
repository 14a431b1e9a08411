//! Data equality of two documents: what a reader of each gets. Comments, layout, anchors and
//! tags are not data; aliases count as what they expand to.
//!
//! The envelope uses it to check decrypted output against the decrypted values before writing
//! it: everything the lossless writer keeps from the clear part of a file (anchors, aliases,
//! tags, remembered layouts) must leave the data as the values say.

use crate::model::{Document, Format, MapItem, Node, Scalar, SeqItem};

/// The first place where `a` and `b` hold different data, as a key path (`["a"][0]["b"]`, or
/// `the top level`); `None` when they hold the same. Top-level keys for which `skip` is true
/// (the `sops` metadata) are left out on both sides. In JSON, numbers compare by value (`42`
/// and `42.0` are one JSON number); dotenv and INI values are all strings to their readers, so
/// a typed value there (decrypted from a file written from YAML) matches any string.
pub fn first_difference(a: &Document, b: &Document, skip: fn(&str) -> bool) -> Option<String> {
    let loose_numbers = a.format == Format::Json || b.format == Format::Json;
    let typed = ![a.format, b.format].iter().any(|f| matches!(f, Format::Dotenv | Format::Ini));
    if a.roots.len() != b.roots.len() {
        return Some(format!("the number of documents ({} against {})", a.roots.len(), b.roots.len()));
    }
    let mut path = Vec::new();
    for (n, (ra, rb)) in a.roots.iter().zip(&b.roots).enumerate() {
        let cmp = Compare { loose_numbers, typed, skip };
        if !cmp.node(&ra.node, &rb.node, &mut path, true) {
            let at = if path.is_empty() { "the top level".to_string() } else { path.concat() };
            return Some(if a.roots.len() > 1 { format!("{at} of document {}", n + 1) } else { at });
        }
    }
    None
}

struct Compare {
    loose_numbers: bool,
    typed: bool,
    skip: fn(&str) -> bool,
}

impl Compare {
    /// True when equal; otherwise `path` holds where they first differ.
    fn node(&self, a: &Node, b: &Node, path: &mut Vec<String>, top: bool) -> bool {
        match (a.resolved(), b.resolved()) {
            (Node::Leaf(x), Node::Leaf(y)) => self.scalar(&x.value, &y.value),
            (Node::Map(x), Node::Map(y)) => {
                let keep = |e: &&crate::model::Entry| !(top && (self.skip)(&e.key));
                let mut xs = x.iter().filter_map(MapItem::entry).filter(keep);
                let mut ys = y.iter().filter_map(MapItem::entry).filter(keep);
                loop {
                    match (xs.next(), ys.next()) {
                        (None, None) => return true,
                        (Some(e), Some(f)) if e.key == f.key => {
                            path.push(format!("[{:?}]", e.key));
                            if !self.node(&e.value, &f.value, path, false) {
                                return false;
                            }
                            path.pop();
                        }
                        (Some(e), _) | (None, Some(e)) => {
                            path.push(format!("[{:?}]", e.key));
                            return false;
                        }
                    }
                }
            }
            (Node::Seq(x), Node::Seq(y)) => {
                let mut xs = x.iter().filter_map(item);
                let mut ys = y.iter().filter_map(item);
                let mut i = 0;
                loop {
                    match (xs.next(), ys.next()) {
                        (None, None) => return true,
                        (Some(p), Some(q)) => {
                            path.push(format!("[{i}]"));
                            if !self.node(p, q, path, false) {
                                return false;
                            }
                            path.pop();
                        }
                        _ => {
                            path.push(format!("[{i}]"));
                            return false;
                        }
                    }
                    i += 1;
                }
            }
            _ => false,
        }
    }

    fn scalar(&self, a: &Scalar, b: &Scalar) -> bool {
        match (a, b) {
            (Scalar::Float(x), Scalar::Float(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            (Scalar::Int(i), Scalar::Float(f)) | (Scalar::Float(f), Scalar::Int(i)) if self.loose_numbers => {
                *i as f64 == *f && f.fract() == 0.0
            }
            // Formats without types: a typed value (decrypted from a file written from YAML)
            // is the text the codec writes for it; only strings compare.
            (Scalar::Str(x), Scalar::Str(y)) if !self.typed => x == y,
            (Scalar::Str(_), _) | (_, Scalar::Str(_)) if !self.typed => true,
            _ => a == b,
        }
    }
}

fn item(item: &SeqItem) -> Option<&Node> {
    match item {
        SeqItem::Node { node, .. } => Some(node),
        SeqItem::Comment(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(format: Format, a: &str, b: &str) -> Option<String> {
        let (a, b) = (crate::parse(format, a).unwrap(), crate::parse(format, b).unwrap());
        first_difference(&a, &b, |k| k == "sops")
    }

    #[test]
    fn layout_comments_anchors_and_aliases_are_not_data() {
        let a = "a: &x 1\nb: *x\nl: [1, 'two']\n";
        let b = "# c\na: 1 # d\nb:   1\nl:\n  - 1\n  - \"two\"\nsops: {mac: x}\n";
        assert_eq!(diff(Format::Yaml, a, b), None);
        assert_eq!(diff(Format::Yaml, "m: &m {k: v}\nn: *m\n", "m: {k: v}\nn:\n  k: v\n"), None);
    }

    #[test]
    fn the_first_difference_is_named_by_its_key_path() {
        assert_eq!(diff(Format::Yaml, "a:\n  b: [1, 2]\n", "a:\n  b: [1, 3]\n").as_deref(), Some("[\"a\"][\"b\"][1]"));
        assert_eq!(diff(Format::Yaml, "n: 12\n", "n: !!str 12\n").as_deref(), Some("[\"n\"]"));
        assert_eq!(diff(Format::Yaml, "n: 1\n", "n: 1.0\n").as_deref(), Some("[\"n\"]"));
        assert_eq!(diff(Format::Yaml, "a: 1\nb: 2\n", "b: 2\na: 1\n").as_deref(), Some("[\"a\"]"));
        assert_eq!(diff(Format::Yaml, "a: 1\n", "a: 1\nb: 2\n").as_deref(), Some("[\"b\"]"));
        assert_eq!(diff(Format::Yaml, "a: [1]\n", "a: []\n").as_deref(), Some("[\"a\"][0]"));
        assert_eq!(
            diff(Format::Yaml, "a: 1\n---\nb: 2\n", "a: 1\n---\nb: 3\n").as_deref(),
            Some("[\"b\"] of document 2")
        );
        assert!(diff(Format::Yaml, "a: 1\n", "a: 1\n---\nb: 2\n").is_some());
        // An alias reads as its anchor, wherever that now is.
        assert_eq!(
            diff(Format::Yaml, "p: &pw s\nq: x\nr: s\n", "p: s\nq: &pw x\nr: *pw\n").as_deref(),
            Some("[\"r\"]")
        );
    }

    #[test]
    fn dotenv_and_ini_values_are_strings() {
        let yaml = crate::parse(Format::Yaml, "DEFAULT: {}\ns:\n  n: 42\n  t: x\n").unwrap();
        let ini = crate::parse(Format::Ini, "[s]\nn = 42\nt = x\n").unwrap();
        assert_eq!(first_difference(&yaml, &ini, |_| false), None);
        let other = crate::parse(Format::Ini, "[s]\nn = 42\nt = y\n").unwrap();
        assert_eq!(first_difference(&ini, &other, |_| false).as_deref(), Some("[\"s\"][\"t\"]"));
    }

    #[test]
    fn json_numbers_compare_by_value() {
        assert_eq!(diff(Format::Json, "{\"n\": 42}", "{\"n\": 42.0}"), None);
        assert!(diff(Format::Json, "{\"n\": 42}", "{\"n\": 42.5}").is_some());
        assert!(diff(Format::Json, "{\"n\": 42}", "{\"n\": \"42\"}").is_some());
    }
}
