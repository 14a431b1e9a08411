//! `gitseal merge-driver %O %A %B %P`, the merge driver of encrypted files: the three versions
//! are decrypted and merged key by key (three-way), and the result is encrypted into %A with
//! %A's data key and master keys, every unchanged value keeping its ciphertext, the MAC
//! recomputed. sops files always conflict under git's line merge (on `mac` and `lastmodified`,
//! getsops/sops#52). A real conflict (both sides changed one value, one changed what the other
//! removed, the other side changed the master keys) exits 1 and leaves %A as it was: encrypted
//! and valid, no plaintext in the work tree; the conflicting key paths are named, never values.
//!
//! `gitseal merge --resolve FILE` then finishes such a merge: it takes the three versions from
//! git's index, merges what merges key by key, and otherwise opens the decrypted versions with
//! git's conflict markers in the editor, in a private directory (as `edit` does); the resolved
//! text is encrypted into FILE with our data key and master keys.

use std::path::Path;
use std::process::Command;

use gitseal::envelope::{self, DecryptOptions};
use gitseal::keyring::Keyring;
use gitseal::reencrypt::{self, Reencryptor};
use gitseal_formats::{self as formats, Document, Format, Node, Root, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::args::{MergeArgs, MergeDriverArgs};
use super::io::write_atomic;
use super::signals::Signals;
use super::{edit, exit, files, scratch, warn, Failure};

/// The three versions of one file, decrypted; ours with the session that encrypts the result.
struct Three {
    named: String,
    format: Format,
    base: Zeroizing<Vec<u8>>,
    ours: Zeroizing<Vec<u8>>,
    theirs: Zeroizing<Vec<u8>>,
    session: Reencryptor,
    /// Their side changed the master keys (ours are kept).
    their_keys_changed: bool,
}

/// What the key-by-key merge gives.
enum Merged {
    /// Ours already is the result.
    Ours,
    /// The merged plaintext.
    Text(Zeroizing<String>),
    /// Key paths changed on both sides (never values), or why the file cannot be merged by key.
    Conflicts(Vec<String>),
}

pub(crate) fn run(a: MergeDriverArgs) -> Result<(), Failure> {
    // git names the versions by temporary files without the file's extension: the format
    // comes from the path in the repository (%P).
    let named = a.path.as_deref().unwrap_or(&a.ours).display().to_string();
    let read = |p: &Path| {
        std::fs::read(p)
            .map(Zeroizing::new)
            .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{}: cannot read: {e}", p.display())))
    };
    let (base, ours, theirs) = (read(&a.base)?, read(&a.ours)?, read(&a.theirs)?);
    let mut three = decrypt_three(&named, Some(&base), &ours, &theirs)?;
    if three.their_keys_changed {
        return Err(conflict(
            &named,
            "their side changed the master keys; merge by hand (gitseal merge-driver keeps ours)".into(),
        ));
    }
    match merge_three(&three)? {
        Merged::Ours => Ok(()),
        Merged::Conflicts(conflicts) => {
            for c in &conflicts {
                eprintln!("gitseal: {named}: conflict at {c}");
            }
            Err(conflict(
                &named,
                format!(
                    "{} conflicting key path(s); ours is left in place, encrypted (gitseal merge --resolve {named} resolves them)",
                    conflicts.len()
                ),
            ))
        }
        Merged::Text(text) => {
            let out = three.session.encrypt(text.as_bytes())?;
            write_atomic(&a.ours, &out, 0o644)
                .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", a.ours.display())))
        }
    }
}

/// `gitseal merge --resolve FILE`: finishes git's conflicted merge of an encrypted file.
pub(crate) fn resolve(a: MergeArgs) -> Result<(), Failure> {
    let file = a.resolve;
    let named = file.display().to_string();
    let stage = |n: u8| git_stage(&file, n);
    let (base, ours, theirs) = (stage(1)?, stage(2)?, stage(3)?);
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{named}: git has no conflict to resolve here (the index holds no \"ours\" and \"theirs\" versions of it)"),
        ));
    };
    let mut three = decrypt_three(&named, base.as_deref().map(|b| b.as_slice()), &ours, &theirs)?;
    if three.their_keys_changed {
        warn(&format!(
            "{named}: their side changed the master keys; the result keeps ours (run gitseal updatekeys or rotate afterwards)"
        ));
    }
    let text = match merge_three(&three)? {
        Merged::Ours => Zeroizing::new(String::from_utf8_lossy(&three.ours).into_owned()),
        Merged::Text(text) => text,
        Merged::Conflicts(conflicts) => {
            for c in &conflicts {
                eprintln!("gitseal: {named}: conflict at {c}");
            }
            edit_conflict(&three, &file)?
        }
    };
    let out = three.session.encrypt(text.as_bytes())?;
    write_atomic(&file, &out, 0o644)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{named}: cannot write: {e}")))?;
    eprintln!("gitseal: {named}: resolved and encrypted; `git add {named}` marks it resolved");
    Ok(())
}

/// The version of `file` at stage `n` of git's index (1 base, 2 ours, 3 theirs); `None` when
/// the index has none (a file added on both sides has no base).
fn git_stage(file: &Path, n: u8) -> Result<Option<Zeroizing<Vec<u8>>>, Failure> {
    let spec = format!(":{n}:./{}", file.display().to_string().trim_start_matches("./"));
    let out = Command::new("git")
        .args(["cat-file", "blob", &spec])
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{}: cannot run git: {e}", file.display())))?;
    Ok(out.status.success().then(|| Zeroizing::new(out.stdout)))
}

/// Decrypts the three versions: ours opened for a change (its data key, master keys and
/// ciphertexts are the result's), the others with the same keys.
fn decrypt_three(named: &str, base: Option<&[u8]>, ours: &[u8], theirs: &[u8]) -> Result<Three, Failure> {
    let format = Format::from_path(named);
    if format == Format::Binary {
        return Err(conflict(named, "a binary file cannot be merged key by key".into()));
    }
    let mut keys = files::keyring(None)?;
    let (ours_plain, session) = reencrypt::open_for_edit(ours, format, named, &mut keys, false)
        .map_err(|e| conflict(named, format!("cannot decrypt our version: {e}")))?;
    let plain = |bytes: &[u8], side: &str, keys: &mut Keyring| {
        envelope::decrypt(bytes, format, named, keys, &DecryptOptions::default())
            .map(|d| Zeroizing::new(d.output))
            .map_err(|e| conflict(named, format!("cannot decrypt {side} version: {e}")))
    };
    // A file added on both sides has no common version: every key is then "added".
    let base_plain = match base {
        Some(b) => plain(b, "the common", &mut keys)?,
        None => Zeroizing::new(Vec::new()),
    };
    let theirs_plain = plain(theirs, "their", &mut keys)?;
    let ids = |bytes: &[u8]| {
        envelope::open(bytes, format, named)
            .ok()
            .map(|o| o.metadata.key_groups.iter().map(super::edit::key_ids).collect::<Vec<_>>())
    };
    let their_keys = ids(theirs);
    let their_keys_changed = their_keys != base.and_then(ids) && their_keys != ids(ours);
    Ok(Three {
        named: named.to_string(),
        format,
        base: base_plain,
        ours: ours_plain,
        theirs: theirs_plain,
        session,
        their_keys_changed,
    })
}

/// The key-by-key three-way merge of the decrypted versions, written in our layout.
fn merge_three(t: &Three) -> Result<Merged, Failure> {
    let named = &t.named;
    let parse = |text: &[u8]| -> Result<Document, Failure> {
        let text =
            std::str::from_utf8(text).map_err(|_| Failure::new(exit::CANNOT_READ, format!("{named}: not UTF-8")))?;
        formats::parse(t.format, text).map_err(|e| Failure::new(exit::CANNOT_READ, format!("{named}: {e}")))
    };
    let o = if t.base.is_empty() { None } else { Some(parse(&t.base)?) };
    let (mut ours_doc, th) = (parse(&t.ours)?, parse(&t.theirs)?);
    if o.as_ref().is_some_and(|o| o.roots.len() != 1) || ours_doc.roots.len() != 1 || th.roots.len() != 1 {
        return Ok(Merged::Conflicts(vec!["the whole file (multi-document files are merged by hand)".into()]));
    }
    let value = |d: &Document| Value::from_node(&d.roots[0].node);
    let ov = o.as_ref().map_or(Value::Map(Vec::new()), value);
    let (av, tv) = (value(&ours_doc), value(&th));
    let mut conflicts = Vec::new();
    let merged = merge(&ov, &av, &tv, &mut String::new(), &mut conflicts);
    if !conflicts.is_empty() {
        return Ok(Merged::Conflicts(conflicts));
    }
    let Some(merged) = merged else {
        return Ok(Merged::Conflicts(vec!["the whole file (the merge removes the whole document)".into()]));
    };
    if merged == av {
        return Ok(Merged::Ours);
    }
    // Our text, with only the values that changed: when the shape is ours, every other byte
    // stays; otherwise the merged tree is written anew.
    let src = std::str::from_utf8(&t.ours).unwrap_or_default();
    let text = if set_values(&mut ours_doc.roots[0].node, &merged) {
        formats::write(&ours_doc, src, formats::WriteOptions::default())
    } else {
        let doc = Document {
            format: t.format,
            roots: vec![Root { node: merged.to_node(), end: 0 }],
            indent: ours_doc.indent,
        };
        formats::emit(&doc, t.format, formats::WriteOptions { indent: ours_doc.indent, ..Default::default() })
    }
    .map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("{named}: {e}")))?;
    Ok(Merged::Text(Zeroizing::new(text)))
}

/// The decrypted versions merged line by line with git's conflict markers, in a private
/// directory, edited until the text parses and holds no marker; the resolved text.
fn edit_conflict(t: &Three, file: &Path) -> Result<Zeroizing<String>, Failure> {
    let named = &t.named;
    let editor = edit::editor_command()?;
    let signals = Signals::install()?;
    let dir = scratch::private_dir(false)?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        scratch::write_private(&path, bytes)
            .map(|()| path)
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot write the temporary file: {e}")))
    };
    let (o, a, b) = (write("base", &t.base)?, write("ours", &t.ours)?, write("theirs", &t.theirs)?);
    let out = Command::new("git")
        .args(["merge-file", "-p", "--diff3", "-L", "ours", "-L", "base", "-L", "theirs"])
        .args([&a, &o, &b])
        .output()
        .map_err(|e| Failure::new(exit::GENERIC, format!("{named}: cannot run git merge-file: {e}")))?;
    let marked = Zeroizing::new(out.stdout);
    // git merge-file exits with the number of conflicts; a negative status (>127) is an error.
    if out.status.code().is_none_or(|c| c > 127) {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{named}: git merge-file failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ));
    }
    let base = file.file_name().map_or_else(|| "file".into(), |n| n.to_os_string());
    let tmp = dir.path().join(base);
    scratch::write_private(&tmp, &marked)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot write the temporary file: {e}")))?;
    for f in [&o, &a, &b] {
        let _ = std::fs::remove_file(f);
    }
    let before = Sha256::digest(marked.as_slice());
    loop {
        edit::run_editor(&editor, &tmp, &signals)?;
        let edited = Zeroizing::new(
            std::fs::read(&tmp)
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot read the edited file back: {e}")))?,
        );
        let checked = if Sha256::digest(edited.as_slice()) == before && has_markers(&edited) {
            Err(Failure::new(exit::NOT_MODIFIED, format!("{named}: the conflict was left as it was; nothing written")))
        } else if has_markers(&edited) {
            Err(Failure::new(
                exit::GENERIC,
                format!("{named}: conflict markers (<<<<<<<, =======, >>>>>>>) are still in the file"),
            ))
        } else {
            edit::check(&edited, t.format, named)
        };
        match checked {
            Ok(()) => {
                let text = String::from_utf8(edited.to_vec())
                    .map_err(|_| Failure::new(exit::CANNOT_READ, format!("{named}: not UTF-8")))?;
                return Ok(Zeroizing::new(text));
            }
            Err(f) if f.code != exit::NOT_MODIFIED && edit::ask_to_return(&f) => {}
            Err(f) => return Err(f),
        }
    }
}

/// Whether a line of `text` is one of git's conflict markers.
fn has_markers(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n').any(|l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        l.starts_with(b"<<<<<<< ") || l.starts_with(b">>>>>>> ") || l.starts_with(b"||||||| ") || l == b"======="
    })
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
