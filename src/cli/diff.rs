//! `gitseal diff [--mask] A [B]`: a semantic diff of two versions of a file, by key path, on the
//! decrypted values: keys added, removed, moved between the documents of a YAML stream, and
//! values changed. `--mask` says which values changed without printing them (for CI logs and
//! pull-request comments). Without a key the structure is still compared, and values whose
//! ciphertext differs are named as not comparable. A version is a file, or `REV:PATH` from git; with one argument the file is
//! compared with its version at `HEAD`.

use std::process::Command;

use gitseal::envelope::{self, DecryptOptions};
use gitseal::ErrorKind;
use gitseal_formats::{self as formats, Format, MapItem, Node, Scalar, SeqItem};
use zeroize::Zeroizing;

use super::args::DiffArgs;
use super::{exit, files, Failure};

/// One version's leaves, by key path, in document order.
struct Side {
    name: String,
    leaves: Vec<(String, Shown)>,
}

/// A leaf's value as the diff knows it.
#[derive(PartialEq)]
enum Shown {
    /// Decrypted, or never encrypted: its text.
    Value(String),
    /// Still encrypted (no key): its ciphertext, comparable only for equality.
    Cipher(String),
}

// Values may be secrets: wiped when the diff is done.
impl Drop for Shown {
    fn drop(&mut self) {
        let (Shown::Value(s) | Shown::Cipher(s)) = self;
        zeroize::Zeroize::zeroize(s);
    }
}

pub(crate) fn run(a: DiffArgs) -> Result<(), Failure> {
    let (old, new) = match &a.new {
        Some(new) => (a.old.clone(), new.clone()),
        None => (format!("HEAD:./{}", a.old.trim_start_matches("./")), a.old.clone()),
    };
    let mut keys = files::keyring(None)?;
    let old = side(&old, &mut keys)?;
    let new = side(&new, &mut keys)?;
    let lines = compare(&old, &new, a.mask);
    for l in &lines {
        println!("{l}");
    }
    if lines.is_empty() {
        Ok(())
    } else {
        // diff(1): 1 when the versions differ, with nothing more to say on stderr.
        Err(Failure::new(exit::GENERIC, ""))
    }
}

/// Reads, decrypts where a key is at hand, and flattens one version.
fn side(spec: &str, keys: &mut gitseal::keyring::Keyring) -> Result<Side, Failure> {
    let (bytes, name) = read_version(spec)?;
    let format = Format::from_path(&name);
    let decrypted = match envelope::decrypt(&bytes, format, spec, keys, &DecryptOptions::default()) {
        Ok(d) => Some(Zeroizing::new(d.output)),
        Err(e) if e.kind() == ErrorKind::NotEncrypted || e.kind() == ErrorKind::DataKey => None,
        Err(e) => return Err(e.into()),
    };
    let text = decrypted.as_deref().map(|d| d.as_slice()).unwrap_or(bytes.as_slice());
    let text =
        std::str::from_utf8(text).map_err(|_| Failure::new(exit::CANNOT_READ, format!("{spec}: not UTF-8 text")))?;
    let doc = formats::parse(if format == Format::Binary { Format::Json } else { format }, text)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{spec}: invalid {}: {e}", format.name())))?;
    let encrypted = decrypted.is_none() && formats::has_metadata(&doc);
    let mut leaves = Vec::new();
    let is_meta = |k: &str| if format == Format::Dotenv { k.starts_with("sops_") } else { k == "sops" };
    for (n, root) in doc.roots.iter().enumerate() {
        let prefix = if doc.roots.len() > 1 { format!("(document {}) ", n + 1) } else { String::new() };
        flatten(&root.node, &mut prefix.clone(), &mut leaves, encrypted, &|k| is_meta(k), true);
    }
    Ok(Side { name: spec.to_string(), leaves })
}

/// A file's bytes and its name (for the format), or `REV:PATH` from git.
fn read_version(spec: &str) -> Result<(Zeroizing<Vec<u8>>, String), Failure> {
    if std::path::Path::new(spec).exists() {
        let bytes =
            std::fs::read(spec).map_err(|e| Failure::new(exit::CANNOT_READ, format!("{spec}: cannot read: {e}")))?;
        return Ok((Zeroizing::new(bytes), spec.to_string()));
    }
    let Some((_, path)) = spec.split_once(':') else {
        return Err(Failure::new(exit::NO_FILE, format!("{spec}: no such file (or REV:PATH)")));
    };
    let out = Command::new("git")
        .args(["show", spec])
        .output()
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Failure::new(
            exit::NO_FILE,
            format!("{spec}: {}", String::from_utf8_lossy(&out.stderr).trim().trim_start_matches("fatal: ")),
        ));
    }
    Ok((Zeroizing::new(out.stdout), path.to_string()))
}

fn flatten(
    node: &Node,
    path: &mut String,
    out: &mut Vec<(String, Shown)>,
    encrypted: bool,
    meta: &dyn Fn(&str) -> bool,
    top: bool,
) {
    match node.resolved() {
        Node::Map(items) => {
            for e in items.iter().filter_map(MapItem::entry).filter(|e| !(top && meta(&e.key))) {
                let len = path.len();
                path.push_str(&format!("[{:?}]", e.key));
                flatten(&e.value, path, out, encrypted, meta, false);
                path.truncate(len);
            }
        }
        Node::Seq(items) => {
            for (i, node) in items
                .iter()
                .filter_map(|i| match i {
                    SeqItem::Node { node, .. } => Some(node),
                    SeqItem::Comment(_) => None,
                })
                .enumerate()
            {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                flatten(node, path, out, encrypted, meta, false);
                path.truncate(len);
            }
        }
        Node::Leaf(l) => {
            let text = match &l.value {
                Scalar::Null => "null".to_string(),
                Scalar::Bool(b) => b.to_string(),
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => formats::format_float(*f),
                Scalar::Str(s) | Scalar::Time(s) => format!("{s:?}"),
            };
            let shown = match &l.value {
                Scalar::Str(s) if encrypted && s.starts_with("ENC[") => Shown::Cipher(s.clone()),
                _ => Shown::Value(text),
            };
            out.push((path.clone(), shown));
        }
        Node::Alias(_) => unreachable!("resolved"),
    }
}

/// The diff lines: `- PATH: VALUE` removed, `+ PATH: VALUE` added, `~ PATH: OLD -> NEW` changed
/// (with `--mask`, no values), in document order of the paths; in a multi-document file, a key
/// path removed from one document and added to another is `> PATH: moved from document I to
/// document J` (with its value change, if any).
fn compare(old: &Side, new: &Side, mask: bool) -> Vec<String> {
    let old_paths: Vec<&str> = old.leaves.iter().map(|(p, _)| p.as_str()).collect();
    let new_paths: Vec<&str> = new.leaves.iter().map(|(p, _)| p.as_str()).collect();
    let value = |v: &Shown| match v {
        Shown::Value(t) if !mask => format!(": {t}"),
        Shown::Value(_) => String::new(),
        Shown::Cipher(_) => " (encrypted; no key to show it)".to_string(),
    };
    let changed = |path: &str, a: &Shown, b: &Shown| match (a, b) {
        (x, y) if x == y => None,
        (Shown::Value(x), Shown::Value(y)) if !mask => Some(format!("~ {path}: {x} -> {y}")),
        (Shown::Value(_), Shown::Value(_)) => Some(format!("~ {path} (changed)")),
        _ => Some(format!("~ {path} (ciphertext differs; no key to compare {} with {})", old.name, new.name)),
    };
    // Removed and added leaves, by index, in diff order; moves are paired up below.
    enum Op {
        Line(String),
        Removed(usize),
        Added(usize),
    }
    let mut ops = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_paths, &new_paths) {
        match op {
            similar::DiffOp::Equal { old_index, new_index, len } => {
                for k in 0..len {
                    let (path, a) = &old.leaves[old_index + k];
                    ops.extend(changed(path, a, &new.leaves[new_index + k].1).map(Op::Line));
                }
            }
            similar::DiffOp::Delete { old_index, old_len, .. } => {
                ops.extend((old_index..old_index + old_len).map(Op::Removed));
            }
            similar::DiffOp::Insert { new_index, new_len, .. } => {
                ops.extend((new_index..new_index + new_len).map(Op::Added));
            }
            similar::DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                ops.extend((old_index..old_index + old_len).map(Op::Removed));
                ops.extend((new_index..new_index + new_len).map(Op::Added));
            }
        }
    }
    // A leaf removed from document I and added at the same path in document J moved; values
    // that stayed put are preferred partners, so a key copied to a second document while it
    // changed in the first is not taken for a move.
    let mut added: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for op in &ops {
        if let Op::Added(j) = op {
            if let (Some(_), sub) = split_document(&new.leaves[*j].0) {
                added.entry(sub).or_default().push(*j);
            }
        }
    }
    let mut moved_to: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut taken = std::collections::HashSet::new();
    for op in &ops {
        let Op::Removed(i) = op else { continue };
        let (Some(from), sub) = split_document(&old.leaves[*i].0) else { continue };
        let Some(candidates) = added.get(sub) else { continue };
        let free = |j: &&usize| !taken.contains(*j) && split_document(&new.leaves[**j].0).0 != Some(from);
        let same = candidates.iter().filter(free).find(|j| new.leaves[**j].1 == old.leaves[*i].1);
        if let Some(&j) = same.or_else(|| candidates.iter().find(free)) {
            taken.insert(j);
            moved_to.insert(*i, j);
        }
    }
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Line(l) => out.push(l),
            Op::Removed(i) => {
                let (path, a) = &old.leaves[i];
                match moved_to.get(&i) {
                    Some(&j) => {
                        let (to, b) = &new.leaves[j];
                        let (from_doc, sub) = split_document(path);
                        let to_doc = split_document(to).0;
                        let what = format!(
                            "{sub}: moved from document {} to document {}",
                            from_doc.unwrap_or_default(),
                            to_doc.unwrap_or_default()
                        );
                        out.push(match (a, b) {
                            (x, y) if x == y => format!("> {what}"),
                            (Shown::Value(x), Shown::Value(y)) if !mask => format!("> {what}, changed: {x} -> {y}"),
                            (Shown::Value(_), Shown::Value(_)) => format!("> {what}, and changed"),
                            _ => format!("> {what} (ciphertext differs; no key to compare the values)"),
                        });
                    }
                    None => out.push(format!("- {path}{}", value(a))),
                }
            }
            Op::Added(j) if taken.contains(&j) => {}
            Op::Added(j) => {
                let (path, v) = &new.leaves[j];
                out.push(format!("+ {path}{}", value(v)));
            }
        }
    }
    out
}

/// `(document N) PATH` split into N and PATH; no document for a single-document file.
fn split_document(path: &str) -> (Option<&str>, &str) {
    path.strip_prefix("(document ")
        .and_then(|rest| rest.split_once(") "))
        .map_or((None, path), |(n, sub)| (Some(n), sub))
}
