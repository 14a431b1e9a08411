//! Layout memory: exact YAML round trips for values whose text cannot be rebuilt from the value.
//!
//! A folded (`>`) or multi-line plain scalar, an alias (`*port`), `0x1F`, an escape such as
//! `"\u00e9"`: decrypting yields the value, not how it was written. At encryption gitseal
//! compares, for every value it encrypts, the text decryption would write with the source text;
//! the ones that differ are kept, in order, in one extra metadata field `gitseal_layout`,
//! encrypted with the file's data key (so it reveals nothing but its length). sops ignores the
//! field, and drops it when it rewrites a file; gitseal then writes the canonical form. The
//! values themselves stay under the MAC; the layout is applied only when the number of
//! encrypted values still matches, and each text only to a value that still hashes as the one
//! it was written for (so a value changed by a tool that kept the field gets no stale text).

use std::collections::HashMap;

use gitseal_formats::{MapItem, Node, Scalar, SeqItem};
use sha2::{Digest, Sha256};

/// The metadata field that holds the encrypted layout.
pub const FIELD: &str = "gitseal_layout";
/// Additional data for the layout's encryption.
pub const AAD: &str = "gitseal_layout:";

/// Remembered source texts, by index among the encrypted values in walk order.
#[derive(Default)]
pub struct Layout {
    /// How many values were encrypted.
    pub count: usize,
    /// `(index, source text, value hash)` of the values whose text differs from the canonical
    /// one. The hash ([`value_hash`]) binds the text to its value; files written before it
    /// existed have none.
    pub entries: Vec<(usize, String, Option<u64>)>,
    /// Aliases written out as their expansion: (the text decryption writes for the expansion,
    /// the `*name` text to put back, how many copies of that text come first after the previous
    /// alias: the anchor's own definition reads the same), in document order.
    pub aliases: Vec<(String, String, usize)>,
}

// The remembered texts are source text of encrypted values.
impl Drop for Layout {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, text, _) in &mut self.entries {
            text.zeroize();
        }
        for (expansion, alias, _) in &mut self.aliases {
            expansion.zeroize();
            alias.zeroize();
        }
    }
}

impl Layout {
    /// `count` line, then for each entry `index length [hash]` and the text.
    pub fn encode(&self) -> String {
        let mut out = format!("{}\n", self.count);
        for (i, text, hash) in &self.entries {
            match hash {
                Some(h) => out.push_str(&format!("{i} {} {h:016x}\n{text}", text.len())),
                None => out.push_str(&format!("{i} {}\n{text}", text.len())),
            }
        }
        for (expansion, alias, skip) in &self.aliases {
            out.push_str(&format!("* {} {} {skip}\n{expansion}{alias}", expansion.len(), alias.len()));
        }
        out
    }

    /// Swaps the alias expansions in decrypted output back to their `*name`, in order. An
    /// expansion that is not found (the file was changed by another tool) stays expanded.
    pub fn restore_aliases(&self, output: &str) -> String {
        let mut out = String::with_capacity(output.len());
        let mut rest = output;
        for (expansion, alias, skip) in &self.aliases {
            if let Some(at) = value_occurrences(rest, expansion).nth(*skip) {
                out.push_str(&rest[..at]);
                out.push_str(alias);
                rest = &rest[at + expansion.len()..];
            }
        }
        out.push_str(rest);
        out
    }

    /// Reads [`Layout::encode`]'s output; `None` when it is malformed.
    pub fn decode(s: &str) -> Option<Layout> {
        let (count, mut rest) = s.split_once('\n')?;
        let mut layout = Layout { count: count.parse().ok()?, entries: Vec::new(), aliases: Vec::new() };
        while !rest.is_empty() {
            let (head, tail) = rest.split_once('\n')?;
            if let Some(lens) = head.strip_prefix("* ") {
                let mut fields = lens.split(' ');
                let (a, b): (usize, usize) = (fields.next()?.parse().ok()?, fields.next()?.parse().ok()?);
                let skip: usize = match fields.next() {
                    Some(s) => s.parse().ok()?,
                    None => 0,
                };
                let expansion = tail.get(..a)?;
                let alias = tail.get(a..a.checked_add(b)?)?;
                layout.aliases.push((expansion.to_string(), alias.to_string(), skip));
                rest = &tail[a + b..];
                continue;
            }
            let mut fields = head.split(' ');
            let (i, len, hash) = (fields.next()?, fields.next()?, fields.next());
            let hash = match hash {
                Some(h) => Some(u64::from_str_radix(h, 16).ok()?),
                None => None,
            };
            let len: usize = len.parse().ok()?;
            let text = tail.get(..len)?;
            layout.entries.push((i.parse().ok()?, text.to_string(), hash));
            rest = &tail[len..];
        }
        Some(layout)
    }

    /// Gives the remembered texts back to the decrypted leaves (those marked `changed`, in walk
    /// order). Returns false, changing nothing, when the file no longer has the same number of
    /// encrypted values.
    pub fn apply(&self, roots: &mut [gitseal_formats::Root]) -> bool {
        let mut leaves = Vec::new();
        for root in roots.iter_mut() {
            changed_leaves(&mut root.node, &mut leaves);
        }
        if leaves.len() != self.count {
            return false;
        }
        let by_index: HashMap<usize, (&String, Option<u64>)> =
            self.entries.iter().map(|(i, t, h)| (*i, (t, *h))).collect();
        for (i, leaf) in leaves.into_iter().enumerate() {
            if let Some((text, hash)) = by_index.get(&i) {
                if hash.is_none_or(|h| h == value_hash(&leaf.value)) {
                    leaf.literal = Some((*text).clone());
                }
            }
        }
        true
    }
}

/// Where `needle` stands in `hay` as a whole value: after a blank, a line start or a flow
/// indicator, and before a line end, a blank or a flow indicator (so `7` is not found inside
/// `17` or `k7:`). Non-overlapping, left to right.
pub fn value_occurrences<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let b = hay.as_bytes();
    hay.match_indices(needle).map(|(at, _)| at).filter(move |&at| {
        let before = at.checked_sub(1).map(|i| b[i]);
        let after = b.get(at + needle.len()).copied();
        matches!(before, None | Some(b' ' | b'\t' | b'\n' | b'[' | b'{' | b','))
            && matches!(after, None | Some(b'\n' | b'\r' | b' ' | b'\t' | b',' | b']' | b'}'))
    })
}

/// What binds a remembered text to its value: the first 8 bytes of SHA-256 over the value's
/// type and canonical text (what the MAC covers). It is stored only inside the encrypted layout.
pub fn value_hash(v: &Scalar) -> u64 {
    let (bytes, ty) = crate::cipher::plaintext(v);
    let mut h = Sha256::new();
    h.update([ty as u8]);
    h.update(&*bytes);
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("SHA-256 has 32 bytes"))
}

fn changed_leaves<'a>(node: &'a mut Node, out: &mut Vec<&'a mut gitseal_formats::Leaf>) {
    match node {
        Node::Alias(a) => changed_leaves(&mut a.node, out),
        Node::Leaf(l) if l.changed => out.push(l),
        Node::Leaf(_) => {}
        Node::Map(items) => {
            for item in items {
                if let MapItem::Entry(e) = item {
                    changed_leaves(&mut e.value, out);
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                if let SeqItem::Node { node, .. } = item {
                    changed_leaves(node, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_any_text() {
        let l = Layout {
            count: 7,
            entries: vec![
                (0, ">\n  a\n  b".into(), Some(0x0123_4567_89ab_cdef)),
                (5, "*x".into(), None),
                (6, String::new(), Some(7)),
            ],
            aliases: vec![("{a: 1}".into(), "*base".into(), 1)],
        };
        let back = Layout::decode(&l.encode()).unwrap();
        // The first `{a: 1}` is the anchor's own definition: skipped.
        let out = back.restore_aliases("x: {a: 1}\ny: {a: 1}\n");
        assert_eq!((back.count, &back.entries, &back.aliases), (7, &l.entries, &l.aliases));
        assert_eq!(out, "x: {a: 1}\ny: *base\n");
        // Written before the count existed: the first copy.
        let old = Layout::decode("0\n* 6 5\n{a: 1}*base").unwrap();
        assert_eq!(old.restore_aliases("x: {a: 1}\ny: {a: 1}\n"), "x: *base\ny: {a: 1}\n");
        assert!(Layout::decode("x\n").is_none());
        assert!(Layout::decode("1\n0 99\nshort").is_none());
        assert!(Layout::decode("1\n0 1 nothex\nx").is_none());
    }

    #[test]
    fn a_text_is_given_back_only_to_the_value_it_was_written_for() {
        let mut doc = gitseal_formats::parse(gitseal_formats::Format::Yaml, "a: x\nb: y\nc: z\n").unwrap();
        let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
        for item in items.iter_mut() {
            if let MapItem::Entry(e) = item {
                if let Node::Leaf(l) = &mut e.value {
                    l.changed = true;
                }
            }
        }
        let hash = |s: &str| value_hash(&Scalar::Str(s.into()));
        let l = Layout {
            count: 3,
            entries: vec![
                (0, "'x'".into(), Some(hash("x"))),
                (1, "'old'".into(), Some(hash("old"))),
                (2, "\"z\"".into(), None),
            ],
            aliases: Vec::new(),
        };
        assert!(l.apply(&mut doc.roots));
        let literals: Vec<Option<String>> = match &doc.roots[0].node {
            Node::Map(items) => items
                .iter()
                .filter_map(|i| match i {
                    MapItem::Entry(e) => match &e.value {
                        Node::Leaf(l) => Some(l.literal.clone()),
                        _ => None,
                    },
                    MapItem::Comment(_) => None,
                })
                .collect(),
            _ => panic!(),
        };
        assert_eq!(literals, [Some("'x'".to_string()), None, Some("\"z\"".to_string())]);
        assert_ne!(hash("x"), hash("y"));
        assert_ne!(value_hash(&Scalar::Int(1)), value_hash(&Scalar::Str("1".into())));
    }
}
