//! `gitseal merge-driver %O %A %B %P`, the merge driver of encrypted files: the three versions
//! are decrypted and merged key by key (three-way), and the result is encrypted into %A with
//! %A's data key and master keys, every unchanged value keeping its ciphertext, the MAC
//! recomputed. sops files always conflict under git's line merge (on `mac` and `lastmodified`,
//! getsops/sops#52). A real conflict (both sides changed one value, one changed what the other
//! removed, the other side changed the master keys) exits 1 and leaves %A as it was: encrypted
//! and valid, no plaintext in the work tree; the conflicting key paths are named, never values.

use std::path::Path;

use gitseal::envelope::{self, DecryptOptions};
use gitseal::reencrypt;
use gitseal_formats::{self as formats, Document, Format, Node, Root, Value};
use zeroize::Zeroizing;

use super::args::MergeDriverArgs;
use super::io::write_atomic;
use super::{exit, files, Failure};

pub(crate) fn run(a: MergeDriverArgs) -> Result<(), Failure> {
    // git names the versions by temporary files without the file's extension: the format
    // comes from the path in the repository (%P).
    let named = a.path.as_deref().unwrap_or(&a.ours).display().to_string();
    let format = Format::from_path(&named);
    if format == Format::Binary {
        return Err(conflict(&named, "a binary file cannot be merged key by key".into()));
    }
    let read = |p: &Path| {
        std::fs::read(p)
            .map(Zeroizing::new)
            .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{}: cannot read: {e}", p.display())))
    };
    let (base, ours, theirs) = (read(&a.base)?, read(&a.ours)?, read(&a.theirs)?);
    let mut keys = files::keyring(None)?;
    let (ours_plain, mut session) = reencrypt::open_for_edit(&ours, format, &named, &mut keys, false)
        .map_err(|e| conflict(&named, format!("cannot decrypt our version: {e}")))?;
    let plain = |bytes: &[u8], side: &str, keys: &mut gitseal::keyring::Keyring| {
        envelope::decrypt(bytes, format, &named, keys, &DecryptOptions::default())
            .map(|d| Zeroizing::new(d.output))
            .map_err(|e| conflict(&named, format!("cannot decrypt {side} version: {e}")))
    };
    let base_plain = plain(&base, "the common", &mut keys)?;
    let theirs_plain = plain(&theirs, "their", &mut keys)?;
    // Master keys: ours are kept; a change on their side only cannot be merged into them.
    let ids = |bytes: &[u8]| {
        envelope::open(bytes, format, &named)
            .ok()
            .map(|o| o.metadata.key_groups.iter().map(super::edit::key_ids).collect::<Vec<_>>())
    };
    let (base_keys, their_keys) = (ids(&base), ids(&theirs));
    if their_keys != base_keys && their_keys != ids(&ours) {
        return Err(conflict(
            &named,
            "their side changed the master keys; merge by hand (gitseal merge-driver keeps ours)".into(),
        ));
    }
    let parse = |text: &[u8]| -> Result<Document, Failure> {
        let text =
            std::str::from_utf8(text).map_err(|_| Failure::new(exit::CANNOT_READ, format!("{named}: not UTF-8")))?;
        formats::parse(format, text).map_err(|e| Failure::new(exit::CANNOT_READ, format!("{named}: {e}")))
    };
    let (o, mut ours_doc, t) = (parse(&base_plain)?, parse(&ours_plain)?, parse(&theirs_plain)?);
    if o.roots.len() != 1 || ours_doc.roots.len() != 1 || t.roots.len() != 1 {
        return Err(conflict(&named, "multi-document files are merged by hand".into()));
    }
    let value = |d: &Document| Value::from_node(&d.roots[0].node);
    let (ov, av, tv) = (value(&o), value(&ours_doc), value(&t));
    let mut conflicts = Vec::new();
    let merged = merge(&ov, &av, &tv, &mut String::new(), &mut conflicts);
    if !conflicts.is_empty() {
        for c in &conflicts {
            eprintln!("gitseal: {named}: conflict at {c}");
        }
        return Err(conflict(
            &named,
            format!("{} conflicting key path(s); ours is left in place, encrypted", conflicts.len()),
        ));
    }
    let Some(merged) = merged else { return Err(conflict(&named, "the merge removes the whole document".into())) };
    if merged == av {
        return Ok(());
    }
    // Our text, with only the values that changed: when the shape is ours, every other byte
    // stays; otherwise the merged tree is written anew.
    let src = std::str::from_utf8(&ours_plain).unwrap_or_default();
    let text = Zeroizing::new(
        if set_values(&mut ours_doc.roots[0].node, &merged) {
            formats::write(&ours_doc, src, formats::WriteOptions::default())
        } else {
            let doc =
                Document { format, roots: vec![Root { node: merged.to_node(), end: 0 }], indent: ours_doc.indent };
            formats::emit(&doc, format, formats::WriteOptions { indent: ours_doc.indent, ..Default::default() })
        }
        .map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("{named}: {e}")))?,
    );
    let out = session.encrypt(text.as_bytes())?;
    write_atomic(&a.ours, &out, 0o644)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", a.ours.display())))
}

/// A failed merge: git's conflict (exit 1), ours left in place.
fn conflict(named: &str, why: String) -> Failure {
    Failure::new(exit::GENERIC, format!("{named}: cannot merge: {why}"))
}

/// The three-way merge of one node: `None` when the result has no value there (removed).
/// Conflicting key paths go to `conflicts`.
fn merge(o: &Value, a: &Value, b: &Value, path: &mut String, conflicts: &mut Vec<String>) -> Option<Value> {
    if a == b || b == o {
        return Some(a.clone());
    }
    if a == o {
        return Some(b.clone());
    }
    match (o, a, b) {
        (Value::Map(om), Value::Map(am), Value::Map(bm)) => {
            let get = |m: &[(String, Value)], k: &str| m.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            let mut keys: Vec<&String> = am.iter().map(|(k, _)| k).collect();
            keys.extend(bm.iter().map(|(k, _)| k).filter(|k| !am.iter().any(|(ak, _)| ak == *k)));
            let mut out = Vec::new();
            for k in keys {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                let (ov, av, bv) = (get(om, k), get(am, k), get(bm, k));
                let merged = match (&ov, &av, &bv) {
                    (_, Some(a), Some(b)) if a == b => Some(a.clone()),
                    (None, Some(a), None) | (None, None, Some(a)) => Some(a.clone()),
                    (None, Some(_), Some(_)) => {
                        conflicts.push(format!("{path} (added on both sides with different values)"));
                        None
                    }
                    (Some(o), Some(a), None) | (Some(o), None, Some(a)) => {
                        if a == o {
                            None
                        } else {
                            conflicts.push(format!("{path} (changed on one side, removed on the other)"));
                            None
                        }
                    }
                    (Some(o), Some(a), Some(b)) => merge(o, a, b, path, conflicts),
                    (_, None, None) => None,
                };
                path.truncate(len);
                if let Some(v) = merged {
                    out.push((k.clone(), v));
                }
            }
            Some(Value::Map(out))
        }
        _ => {
            conflicts.push(format!("{} (changed on both sides)", if path.is_empty() { "the top level" } else { path }));
            None
        }
    }
}

/// Gives the leaves of `node` the values of `merged` when both have the same shape (same keys
/// in the same order, same list lengths); false, changing nothing, otherwise.
fn set_values(node: &mut Node, merged: &Value) -> bool {
    fn same_shape(node: &Node, v: &Value) -> bool {
        match (node.resolved(), v) {
            (Node::Leaf(_), Value::Scalar(_)) => true,
            (Node::Map(items), Value::Map(m)) => {
                let entries: Vec<_> = items.iter().filter_map(formats::MapItem::entry).collect();
                entries.len() == m.len()
                    && entries.iter().zip(m).all(|(e, (k, v))| &e.key == k && same_shape(&e.value, v))
            }
            (Node::Seq(items), Value::Seq(s)) => {
                let nodes: Vec<&Node> = items
                    .iter()
                    .filter_map(|i| match i {
                        formats::SeqItem::Node { node, .. } => Some(node),
                        formats::SeqItem::Comment(_) => None,
                    })
                    .collect();
                nodes.len() == s.len() && nodes.iter().zip(s).all(|(n, v)| same_shape(n, v))
            }
            _ => false,
        }
    }
    fn apply(node: &mut Node, v: &Value) {
        match (node, v) {
            (Node::Leaf(l), Value::Scalar(s)) if l.value != *s => {
                l.value = s.clone();
                l.literal = None;
                l.changed = true;
            }
            (Node::Map(items), Value::Map(m)) => {
                for (e, (_, v)) in items
                    .iter_mut()
                    .filter_map(|i| match i {
                        formats::MapItem::Entry(e) => Some(e),
                        formats::MapItem::Comment(_) => None,
                    })
                    .zip(m)
                {
                    apply(&mut e.value, v);
                }
            }
            (Node::Seq(items), Value::Seq(s)) => {
                for (n, v) in items
                    .iter_mut()
                    .filter_map(|i| match i {
                        formats::SeqItem::Node { node, .. } => Some(node),
                        formats::SeqItem::Comment(_) => None,
                    })
                    .zip(s)
                {
                    apply(n, v);
                }
            }
            _ => {}
        }
    }
    if matches!(node, Node::Alias(_)) || !same_shape(node, merged) {
        return false;
    }
    apply(node, merged);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(yaml: &str) -> Value {
        Value::from_node(&formats::parse(Format::Yaml, yaml).unwrap().roots[0].node)
    }

    fn merged(o: &str, a: &str, b: &str) -> (Option<Value>, Vec<String>) {
        let mut conflicts = Vec::new();
        let m = merge(&v(o), &v(a), &v(b), &mut String::new(), &mut conflicts);
        (m, conflicts)
    }

    #[test]
    fn each_side_keeps_its_changes_key_by_key() {
        let (m, c) = merged("a: 1\nb: 1\nc: 1\n", "a: 2\nb: 1\nc: 1\n", "a: 1\nb: 3\n");
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(m, Some(v("a: 2\nb: 3\n")));
        let (m, c) = merged("a: {x: 1}\n", "a: {x: 1, y: 2}\n", "a: {x: 1}\nz: 9\n");
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(m, Some(v("a: {x: 1, y: 2}\nz: 9\n")));
        // The same change on both sides is no conflict.
        assert_eq!(merged("a: 1\n", "a: 2\n", "a: 2\n"), (Some(v("a: 2\n")), vec![]));
    }

    #[test]
    fn conflicts_name_the_key_path() {
        let (_, c) = merged("a: {x: 1}\n", "a: {x: 2}\n", "a: {x: 3}\n");
        assert_eq!(c, [r#"["a"]["x"] (changed on both sides)"#]);
        let (_, c) = merged("a: 1\nb: 1\n", "a: 2\nb: 1\n", "b: 1\n");
        assert_eq!(c, [r#"["a"] (changed on one side, removed on the other)"#]);
        let (_, c) = merged("b: 1\n", "a: 1\nb: 1\n", "b: 1\na: 2\n");
        assert_eq!(c, [r#"["a"] (added on both sides with different values)"#]);
        let (_, c) = merged("l: [1, 2]\n", "l: [1, 3]\n", "l: [4, 2]\n");
        assert_eq!(c, [r#"["l"] (changed on both sides)"#]);
    }
}
