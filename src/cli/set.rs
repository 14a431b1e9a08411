//! `gitseal set` and `gitseal unset`: change one value of an encrypted file in place. The data
//! key and master keys stay, unchanged values keep their ciphertext (see [`gitseal::reencrypt`]).

use std::io::Read;

use gitseal_formats::{self as formats, Document, Entry, Format, MapItem, Node, Scalar, SeqItem, Span, Style};
use zeroize::Zeroizing;

use super::args::{ChangeArgs, SetArgs, UnsetArgs};
use super::io::{read_input, write_atomic};
use super::{exit, warn, Failure};
use gitseal::treepath::{self, Step};

pub(crate) fn run_set(a: SetArgs) -> Result<(), Failure> {
    if a.value_file && a.value_stdin {
        return Err(Failure::new(exit::CONFLICT, "cannot use --value-file together with --value-stdin"));
    }
    let (Some(file), Some(index)) = (&a.file, &a.index) else { return Err(arg_count(3)) };
    if a.value_stdin == a.value.is_some() {
        return Err(arg_count(if a.value_stdin { 2 } else { 3 }));
    }
    let steps = tree_path(index)?;
    let json = read_value(&a)?;
    let value = json_node(&json)?;
    change(file, &a.common, |doc| set(doc, &steps, value).map(|()| true))
}

pub(crate) fn run_unset(a: UnsetArgs) -> Result<(), Failure> {
    let (Some(file), Some(index)) = (&a.file, &a.index) else { return Err(arg_count(2)) };
    let steps = tree_path(index)?;
    let idempotent = a.common.idempotent;
    change(file, &a.common, |doc| match unset(doc, &steps) {
        Ok(()) => Ok(true),
        Err(_) if idempotent => Ok(false),
        Err(m) => Err(m),
    })
}

fn arg_count(n: usize) -> Failure {
    Failure::new(
        exit::NO_FILE,
        format!("no file specified, or index and value are missing: need precisely {n} positional arguments"),
    )
}

fn tree_path(index: &str) -> Result<Vec<Step>, Failure> {
    let steps = treepath::parse(index)
        .map_err(|m| Failure::new(exit::INVALID_SET_FORMAT, format!("invalid set index format: {m}")))?;
    if steps.is_empty() {
        return Err(Failure::new(exit::INVALID_SET_FORMAT, "invalid set index format: empty tree path"));
    }
    Ok(steps)
}

fn read_value(a: &SetArgs) -> Result<Zeroizing<String>, Failure> {
    let mut buf = Zeroizing::new(String::new());
    if a.value_stdin {
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot read the value from standard input: {e}")))?;
    } else if a.value_file {
        let path = a.value.as_deref().unwrap_or_default();
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| Failure::new(exit::GENERIC, format!("{path}: cannot read the value: {e}")))?,
        );
        buf.push_str(
            std::str::from_utf8(&bytes)
                .map_err(|_| Failure::new(exit::INVALID_SET_FORMAT, format!("{path}: the value is not UTF-8")))?,
        );
    } else {
        buf.push_str(a.value.as_deref().unwrap_or_default());
    }
    Ok(buf)
}

/// The JSON value as a tree node, parsed by the JSON codec (a wrapper object makes any JSON
/// value, scalars included, a valid document).
fn json_node(json: &str) -> Result<Node, Failure> {
    let invalid = || Failure::new(exit::INVALID_SET_FORMAT, "the value is not valid JSON");
    if json.trim().is_empty() {
        return Err(invalid());
    }
    let wrapped = Zeroizing::new(format!("{{\"v\":\n{json}\n}}"));
    let doc = formats::parse(Format::Json, &wrapped).map_err(|_| invalid())?;
    let mut node = doc.roots.into_iter().next().and_then(|r| match r.node {
        Node::Map(items) => items.into_iter().find_map(|i| match i {
            MapItem::Entry(e) => Some(e.value),
            MapItem::Comment(_) => None,
        }),
        _ => None,
    });
    let node = node.as_mut().ok_or_else(invalid)?;
    fresh(node);
    Ok(node.clone())
}

/// Makes a node look written anew: plain style where the value allows it, no source spans.
fn fresh(node: &mut Node) {
    match node {
        Node::Leaf(l) => {
            l.style = if matches!(l.value, Scalar::Str(_)) { Style::DoubleQuoted } else { Style::Plain };
            l.span = Span::default();
            l.in_flow = false;
            l.literal = None;
            l.changed = true;
        }
        Node::Map(items) => items.iter_mut().for_each(|i| {
            if let MapItem::Entry(e) = i {
                e.span = Span::default();
                fresh(&mut e.value);
            }
        }),
        Node::Seq(items) => items.iter_mut().for_each(|i| {
            if let SeqItem::Node { start, node } = i {
                *start = 0;
                fresh(node);
            }
        }),
        Node::Alias(a) => fresh(&mut a.node),
    }
}

/// The plaintext being changed: the document, and whether its structure changed (then it is
/// written anew instead of by replacing one value's bytes).
pub(crate) struct Edit {
    doc: Document,
    structural: bool,
}

/// Decrypts `file`, applies `f` to its plaintext tree and writes the file back in place;
/// `f` returning `Ok(false)` means there is nothing to write.
fn change(
    file: &std::path::Path,
    common: &ChangeArgs,
    f: impl FnOnce(&mut Edit) -> Result<bool, String>,
) -> Result<(), Failure> {
    let io = super::args::IoArgs {
        file: Some(file.to_path_buf()),
        in_place: true,
        output: None,
        input_type: common.input_type.clone(),
        output_type: common.output_type.clone(),
        filename_override: None,
    };
    common.keyservice.check()?;
    if common.shamir_secret_sharing_threshold.is_some() {
        warn("--shamir-secret-sharing-threshold has no effect on set and unset (the file keeps its key groups); use groups or updatekeys to change it");
    }
    let input = read_input(&io, false).map_err(|f| super::io::missing_file_code(f, 2))?;
    let name = input.name.clone();
    let (plain, mut reenc) =
        super::opening::open_for_edit(&input, common.ignore_mac, common.decryption_order.as_deref())?;
    reenc.set_output_format(input.output_format);
    if reenc.format() == Format::Binary {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: set and unset need a structured file (not binary); use edit"),
        ));
    }
    let src = std::str::from_utf8(&plain)
        .map_err(|_| Failure::new(exit::CANNOT_READ, format!("{name}: the plaintext is not UTF-8")))?;
    let doc = formats::parse(reenc.format(), src)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: cannot read the decrypted file: {e}")))?;
    let mut edit = Edit { doc, structural: false };
    let changed = f(&mut edit).map_err(|m| Failure::new(exit::GENERIC, format!("{name}: {m}")))?;
    if !changed {
        return Ok(());
    }
    // Written anew, the file keeps its own indentation step.
    let wopts = formats::WriteOptions { indent: edit.doc.indent, ..formats::WriteOptions::default() };
    let new_plain = Zeroizing::new(
        if edit.structural {
            formats::emit(&edit.doc, reenc.format(), wopts)
        } else {
            formats::write(&edit.doc, src, wopts)
        }
        .map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("{name}: {e}")))?,
    );
    if common.idempotent && new_plain.as_bytes() == plain.as_slice() {
        return Ok(());
    }
    let out = reenc.encrypt(new_plain.as_bytes())?;
    let path = input.path.as_deref().unwrap_or(file);
    write_atomic(path, &out, 0o644).map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{name}: cannot write: {e}")))
}

/// The first document's top node.
fn root(doc: &mut Document) -> Result<&mut Node, String> {
    doc.roots.first_mut().map(|r| &mut r.node).ok_or_else(|| "the file has no document".to_string())
}

fn set(edit: &mut Edit, steps: &[Step], value: Node) -> Result<(), String> {
    let mut node = root(&mut edit.doc)?;
    for (n, step) in steps.iter().enumerate() {
        let last = n + 1 == steps.len();
        // A scalar in the way becomes the collection the path needs, as sops does; a map or a
        // list of the other kind is an error (replacing it would drop everything it holds).
        let fits = matches!((step, &*node), (Step::Key(_), Node::Map(_)) | (Step::Index(_), Node::Seq(_)));
        if !fits && !matches!(node, Node::Leaf(_)) {
            let at = if n == 0 { "the top level".to_string() } else { treepath::display(&steps[..n]) };
            let (is, needs) = match step {
                Step::Key(_) => (if matches!(node, Node::Seq(_)) { "a list" } else { "not a map" }, "a key"),
                Step::Index(_) => (if matches!(node, Node::Map(_)) { "a map" } else { "not a list" }, "an index"),
            };
            return Err(format!("cannot set {}: {at} is {is}, which {needs} cannot address", treepath::display(steps)));
        }
        if !fits {
            *node = match step {
                Step::Key(_) => Node::Map(Vec::new()),
                Step::Index(_) => Node::Seq(Vec::new()),
            };
            edit.structural = true;
        }
        let child = match (step, node) {
            (Step::Key(k), Node::Map(items)) => {
                let at = items.iter().position(|i| matches!(i, MapItem::Entry(e) if &e.key == k));
                let at = match at {
                    Some(at) => at,
                    None => {
                        edit.structural = true;
                        let entry = Entry { key: k.clone(), span: Span::default(), value: Node::Map(Vec::new()) };
                        items.push(MapItem::Entry(entry));
                        items.len() - 1
                    }
                };
                match &mut items[at] {
                    MapItem::Entry(e) => &mut e.value,
                    MapItem::Comment(_) => unreachable!("position() found an entry"),
                }
            }
            (Step::Index(i), Node::Seq(items)) => {
                let nodes = items.iter().filter(|it| matches!(it, SeqItem::Node { .. })).count();
                if *i >= nodes {
                    // Past the end appends, as sops does.
                    edit.structural = true;
                    items.push(SeqItem::Node { start: 0, node: Node::Map(Vec::new()) });
                }
                let idx = (*i).min(nodes);
                items
                    .iter_mut()
                    .filter_map(|it| match it {
                        SeqItem::Node { node, .. } => Some(node),
                        SeqItem::Comment(_) => None,
                    })
                    .nth(idx)
                    .ok_or_else(|| format!("cannot set {}", treepath::display(&steps[..=n])))?
            }
            _ => unreachable!("the node was made to fit the step"),
        };
        if last {
            match (&mut *child, value) {
                // One scalar for another: only that value's bytes change.
                (Node::Leaf(old), Node::Leaf(mut new)) if !edit.structural => {
                    if old.value != new.value || old.literal.is_some() {
                        old.value = std::mem::replace(&mut new.value, Scalar::Null);
                        old.literal = None;
                        old.changed = true;
                    }
                }
                (child, value) => {
                    *child = value;
                    edit.structural = true;
                }
            }
            return Ok(());
        }
        node = child;
    }
    Ok(())
}

fn unset(edit: &mut Edit, steps: &[Step]) -> Result<(), String> {
    let not_found = || format!("key not found: {}", treepath::display(steps));
    let (last, parents) = steps.split_last().ok_or_else(not_found)?;
    let mut node = root(&mut edit.doc)?;
    for step in parents {
        node = match (step, node) {
            (Step::Key(k), Node::Map(items)) => items
                .iter_mut()
                .find_map(|i| match i {
                    MapItem::Entry(e) if &e.key == k => Some(&mut e.value),
                    _ => None,
                })
                .ok_or_else(not_found)?,
            (Step::Index(i), Node::Seq(items)) => items
                .iter_mut()
                .filter_map(|it| match it {
                    SeqItem::Node { node, .. } => Some(node),
                    SeqItem::Comment(_) => None,
                })
                .nth(*i)
                .ok_or_else(not_found)?,
            _ => return Err(not_found()),
        };
    }
    let removed = match (last, node) {
        (Step::Key(k), Node::Map(items)) => {
            let at = items.iter().position(|i| matches!(i, MapItem::Entry(e) if &e.key == k));
            at.map(|at| items.remove(at)).is_some()
        }
        (Step::Index(i), Node::Seq(items)) => {
            let at =
                items.iter().enumerate().filter(|(_, it)| matches!(it, SeqItem::Node { .. })).nth(*i).map(|(at, _)| at);
            at.map(|at| items.remove(at)).is_some()
        }
        _ => false,
    };
    if !removed {
        return Err(not_found());
    }
    edit.structural = true;
    Ok(())
}
