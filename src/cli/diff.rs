//! `gitseal diff [--mask] A [B]`: a semantic diff of two versions of a file, by key path, on the
//! decrypted values: keys added, removed, and values changed. `--mask` says which values
//! changed without printing them (for CI logs and pull-request comments). Without a key the
//! structure is still compared, and values whose ciphertext differs are named as not
//! comparable. A version is a file, or `REV:PATH` from git; with one argument the file is
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
/// (with `--mask`, no values), in document order of the paths.
fn compare(old: &Side, new: &Side, mask: bool) -> Vec<String> {
    let old_paths: Vec<&str> = old.leaves.iter().map(|(p, _)| p.as_str()).collect();
    let new_paths: Vec<&str> = new.leaves.iter().map(|(p, _)| p.as_str()).collect();
    let value = |v: &Shown| match v {
        Shown::Value(t) if !mask => format!(": {t}"),
        Shown::Value(_) => String::new(),
        Shown::Cipher(_) => " (encrypted; no key to show it)".to_string(),
    };
    let mut out = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_paths, &new_paths) {
        match op {
            similar::DiffOp::Equal { old_index, new_index, len } => {
                for k in 0..len {
                    let (path, a) = &old.leaves[old_index + k];
                    let b = &new.leaves[new_index + k].1;
                    match (a, b) {
                        (x, y) if x == y => {}
                        (Shown::Value(x), Shown::Value(y)) if !mask => out.push(format!("~ {path}: {x} -> {y}")),
                        (Shown::Value(_), Shown::Value(_)) => out.push(format!("~ {path} (changed)")),
                        _ => out.push(format!(
                            "~ {path} (ciphertext differs; no key to compare {} with {})",
                            old.name, new.name
                        )),
                    }
                }
            }
            similar::DiffOp::Delete { old_index, old_len, .. } => {
                for (path, v) in &old.leaves[old_index..old_index + old_len] {
                    out.push(format!("- {path}{}", value(v)));
                }
            }
            similar::DiffOp::Insert { new_index, new_len, .. } => {
                for (path, v) in &new.leaves[new_index..new_index + new_len] {
                    out.push(format!("+ {path}{}", value(v)));
                }
            }
            similar::DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                for (path, v) in &old.leaves[old_index..old_index + old_len] {
                    out.push(format!("- {path}{}", value(v)));
                }
                for (path, v) in &new.leaves[new_index..new_index + new_len] {
                    out.push(format!("+ {path}{}", value(v)));
                }
            }
        }
    }
    out
}
