//! dotenv codec, in sops's dialect: `KEY=value` lines split on `\n` only, the key is everything
//! before the first `=` (not trimmed), the value everything after it with the two characters
//! `\n` meaning a newline; no quoting, `\r` kept. Lines starting with `#` are comments, empty
//! lines are skipped.
//!
//! Metadata is stored as flattened `sops_*` keys (`sops_age__list_0__map_enc=...`), sorted by
//! byte order, after the data.

use crate::json::apply_checked;
use crate::model::{Comment, Document, Entry, Format, Leaf, MapItem, Node, Root, Scalar, Span, Style};
use crate::scalar::format_float;
use crate::value::Value;
use crate::{EmitError, ParseError, WriteOptions};

const PREFIX: &str = "sops_";
const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";
/// Largest list index accepted when rebuilding metadata (sops has at most 255 key groups):
/// guards against huge allocations from a hostile file.
const MAX_LIST_INDEX: usize = 1_000;
/// Most flattened metadata keys read (real metadata has a few dozen): keeps rebuilding linear.
const MAX_METADATA_KEYS: usize = 10_000;

/// Parses dotenv text.
pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    let mut items = Vec::new();
    let mut start = 0;
    while start < src.len() {
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let next = (line_end + 1).min(src.len());
        if line_end > start {
            items.push(parse_line(src, start, line_end, next)?);
        }
        start = line_end + 1;
    }
    let root = Root { node: Node::Map(items), end: src.len() };
    Ok(Document { format: Format::Dotenv, roots: vec![root], indent: None })
}

/// One non-empty line `src[start..end]`; `next` is where the following line starts.
fn parse_line(src: &str, start: usize, end: usize, next: usize) -> Result<MapItem, ParseError> {
    let line = &src[start..end];
    if let Some(text) = line.strip_prefix('#') {
        let span = Span::new(start, end);
        return Ok(MapItem::Comment(Comment { text: text.to_string(), span, changed: false }));
    }
    let eq = line.find('=').ok_or_else(|| ParseError::at(src, start, "line has no '=' (KEY=value expected)"))?;
    if eq == 0 {
        return Err(ParseError::at(src, start, "empty key before '='"));
    }
    let value = line[eq + 1..].replace("\\n", "\n");
    let leaf = Leaf {
        value: Scalar::Str(value),
        span: Span::new(start + eq + 1, end),
        style: Style::Plain,
        indent: 0,
        changed: false,
        in_flow: false,
        literal: None,
        token_in_source: false,
    };
    let entry = Entry { key: line[..eq].to_string(), span: Span::new(start, next), value: Node::Leaf(leaf) };
    Ok(MapItem::Entry(entry))
}

/// Writes `doc` back into `src`: changed values and comments are replaced in place, `sops_*`
/// lines removed and/or appended as `opts` says.
pub(crate) fn write(doc: &Document, src: &str, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let items = root_items(doc).ok_or_else(|| emit_error("the document does not match the source text"))?;
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let mut edits = Vec::new();
    for item in items {
        match item {
            MapItem::Comment(c) if c.changed => edits.push((c.span, format!("#{}", c.text))),
            MapItem::Entry(e) if drop_meta && is_meta_key(&e.key) => edits.push((e.span, String::new())),
            MapItem::Entry(Entry { value: Node::Leaf(l), .. }) if l.changed => {
                edits.push((l.span, escape(&scalar_text(&l.value))));
            }
            _ => {}
        }
    }
    if drop_meta {
        edits.extend(inserted_newline(items, src));
    }
    let mut out = apply_checked(src, edits, "dotenv")?;
    if let Some(meta) = opts.metadata {
        append_metadata(&mut out, meta);
    }
    Ok(out)
}

/// Writes `doc` as new dotenv text: `KEY=value` lines for a top-level map of scalars,
/// comments as `#text` lines, metadata flattened after them.
pub(crate) fn emit(doc: &Document, opts: WriteOptions<'_>) -> Result<String, EmitError> {
    let drop_meta = opts.strip_metadata || opts.metadata.is_some();
    let items = crate::top_level_items(doc, "dotenv")?;
    let mut out = String::new();
    for item in items {
        match item {
            MapItem::Comment(c) => out.push_str(&format!("#{}\n", c.text)),
            MapItem::Entry(e) if drop_meta && (e.key == "sops" || is_meta_key(&e.key)) => {}
            MapItem::Entry(e) => out.push_str(&emit_entry(e)?),
        }
    }
    if let Some(meta) = opts.metadata {
        for (key, value) in flatten(meta) {
            out.push_str(&format!("{key}={}\n", escape(&value)));
        }
    }
    Ok(out)
}

/// The metadata held in the `sops_*` entries, rebuilt as a tree.
pub(crate) fn metadata(doc: &Document) -> Option<Value> {
    let mut tree = Value::Map(Vec::new());
    let mut found = 0usize;
    for e in root_items(doc)?.iter().filter_map(MapItem::entry) {
        let Some(flat) = e.key.strip_prefix(PREFIX) else { continue };
        found += 1;
        if found > MAX_METADATA_KEYS {
            return None;
        }
        let (Some(path), Node::Leaf(leaf)) = (split_path(flat), &e.value) else { continue };
        insert(&mut tree, &path, typed(&path, scalar_text(&leaf.value)));
    }
    (found > 0).then_some(tree)
}

/// True when any top-level key starts with `sops_`.
pub(crate) fn has_metadata(doc: &Document) -> bool {
    root_items(doc).is_some_and(|items| items.iter().filter_map(MapItem::entry).any(|e| is_meta_key(&e.key)))
}

fn emit_error(message: impl Into<String>) -> EmitError {
    EmitError { format: "dotenv", message: message.into() }
}

fn root_items(doc: &Document) -> Option<&[MapItem]> {
    match &doc.roots.first()?.node {
        Node::Map(items) => Some(items),
        _ => None,
    }
}

fn is_meta_key(key: &str) -> bool {
    key.starts_with(PREFIX)
}

fn emit_entry(e: &Entry) -> Result<String, EmitError> {
    if e.key.is_empty() || e.key.contains(['=', '\n']) || e.key.starts_with('#') {
        return Err(emit_error(format!("key {:?} cannot be written as a dotenv key", e.key)));
    }
    match &e.value {
        Node::Leaf(l) => Ok(format!("{}={}\n", e.key, escape(&scalar_text(&l.value)))),
        _ => Err(emit_error(format!("key path {} is a nested value", e.key))),
    }
}

/// A scalar as dotenv text (before newline escaping).
fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => format_float(*f),
        Scalar::Str(s) | Scalar::Time(s) => s.clone(),
    }
}

fn escape(s: &str) -> String {
    s.replace('\n', "\\n")
}

/// When the file ends with a run of `sops_*` lines and no final newline, metadata was written
/// after a newline that the source did not have: the edit removing that newline.
fn inserted_newline(items: &[MapItem], src: &str) -> Option<(Span, String)> {
    let entries: Vec<&Entry> = items.iter().filter_map(MapItem::entry).collect();
    let last = entries.last().filter(|e| is_meta_key(&e.key) && e.span.end == src.len())?;
    if src.ends_with('\n') {
        return None;
    }
    let mut tail_start = last.span.start;
    for pair in entries.windows(2).rev() {
        if !is_meta_key(&pair[0].key) || pair[0].span.end != pair[1].span.start || pair[1].span.start != tail_start {
            break;
        }
        tail_start = pair[0].span.start;
    }
    let before = tail_start.checked_sub(1)?;
    (src.as_bytes().get(before) == Some(&b'\n')).then(|| (Span::new(before, tail_start), String::new()))
}

/// Appends the flattened metadata lines: after a newline of its own when `out` does not end
/// with one (and then without a final newline), so that stripping them restores `out`.
fn append_metadata(out: &mut String, meta: &Value) {
    let lines: Vec<String> = flatten(meta).into_iter().map(|(k, v)| format!("{k}={}", escape(&v))).collect();
    if lines.is_empty() {
        return;
    }
    let block = lines.join("\n");
    if out.is_empty() {
        out.push_str(&block);
    } else if out.ends_with('\n') {
        out.push_str(&block);
        out.push('\n');
    } else {
        out.push('\n');
        out.push_str(&block);
    }
}

/// Flattens metadata into `sops_`-prefixed keys (`__map_<key>`, `__list_<index>`) and their
/// text, nulls dropped, sorted by byte order of the key.
pub(crate) fn flatten(meta: &Value) -> Vec<(String, String)> {
    let mut flat = Vec::new();
    match meta {
        Value::Map(items) => {
            for (k, v) in items {
                flatten_into(format!("{PREFIX}{k}"), v, &mut flat);
            }
        }
        other => flatten_into("sops".to_string(), other, &mut flat),
    }
    flat.sort_by(|a, b| a.0.cmp(&b.0));
    flat
}

fn flatten_into(key: String, v: &Value, flat: &mut Vec<(String, String)>) {
    match v {
        Value::Scalar(Scalar::Null) => {}
        Value::Scalar(s) => flat.push((key, scalar_text(s))),
        Value::Map(items) => {
            for (k, v) in items {
                flatten_into(format!("{key}{MAP_SEP}{k}"), v, flat);
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_into(format!("{key}{LIST_SEP}{i}"), v, flat);
            }
        }
    }
}

/// Puts the metadata value `text` of the flattened key `flat` (without the `sops_` prefix)
/// into `tree`, typed as sops types it; keys with a bad list index are skipped.
pub(crate) fn unflatten_into(tree: &mut Value, flat: &str, text: String) {
    if let Some(path) = split_path(flat) {
        insert(tree, &path, typed(&path, text));
    }
}

/// A step of a flattened key path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits `age__list_0__map_enc` into steps; `None` for a bad list index.
fn split_path(flat: &str) -> Option<Vec<Step>> {
    let (first, mut rest) = split_at_separator(flat);
    let mut path = vec![Step::Key(first.to_string())];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(MAP_SEP) {
            let (k, after) = split_at_separator(r);
            path.push(Step::Key(k.to_string()));
            rest = after;
        } else {
            let r = rest.strip_prefix(LIST_SEP)?;
            let (i, after) = split_at_separator(r);
            let index = i.parse::<usize>().ok().filter(|&i| i <= MAX_LIST_INDEX)?;
            path.push(Step::Index(index));
            rest = after;
        }
    }
    Some(path)
}

/// Splits `s` before its first `__map_` or `__list_`.
fn split_at_separator(s: &str) -> (&str, &str) {
    let at = [s.find(MAP_SEP), s.find(LIST_SEP)].into_iter().flatten().min().unwrap_or(s.len());
    s.split_at(at)
}

/// The typed metadata value: `mac_only_encrypted` is a bool and `shamir_threshold` an int
/// when they parse as such; everything else a string.
fn typed(path: &[Step], text: String) -> Value {
    match path {
        [Step::Key(k)] if k == "mac_only_encrypted" && (text == "true" || text == "false") => {
            Value::Scalar(Scalar::Bool(text == "true"))
        }
        [Step::Key(k)] if k == "shamir_threshold" => match text.parse::<i64>() {
            Ok(i) => Value::Scalar(Scalar::Int(i)),
            Err(_) => Value::str(text),
        },
        _ => Value::str(text),
    }
}

/// Puts `leaf` at `path` under `node`, creating maps and lists on the way (list gaps are null).
fn insert(node: &mut Value, path: &[Step], leaf: Value) {
    let Some((step, rest)) = path.split_first() else {
        *node = leaf;
        return;
    };
    let child = match step {
        Step::Key(k) => {
            if !matches!(node, Value::Map(_)) {
                *node = Value::Map(Vec::new());
            }
            let Value::Map(items) = node else { return };
            let i = match items.iter().position(|(key, _)| key == k) {
                Some(i) => i,
                None => {
                    items.push((k.clone(), Value::Scalar(Scalar::Null)));
                    items.len() - 1
                }
            };
            &mut items[i].1
        }
        Step::Index(i) => {
            if !matches!(node, Value::Seq(_)) {
                *node = Value::Seq(Vec::new());
            }
            let Value::Seq(items) = node else { return };
            if items.len() <= *i {
                items.resize(*i + 1, Value::Scalar(Scalar::Null));
            }
            &mut items[*i]
        }
    };
    insert(child, rest, leaf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{opts, set};

    fn items(doc: &Document) -> &[MapItem] {
        root_items(doc).unwrap()
    }

    fn value_of(doc: &Document, key: &str) -> String {
        match &doc.roots[0].node.get(key).unwrap().value {
            Node::Leaf(Leaf { value: Scalar::Str(s), .. }) => s.clone(),
            _ => panic!("not a string leaf"),
        }
    }

    fn meta() -> Value {
        Value::Map(vec![
            (
                "age".into(),
                Value::Seq(vec![Value::Map(vec![
                    ("recipient".into(), Value::str("age1xyz")),
                    (
                        "enc".into(),
                        Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"),
                    ),
                ])]),
            ),
            ("lastmodified".into(), Value::str("2024-01-02T03:04:05Z")),
            ("mac".into(), Value::str("ENC[AES256_GCM,data:x,type:str]")),
            ("pgp".into(), Value::Scalar(Scalar::Null)),
            ("unencrypted_suffix".into(), Value::str("_unencrypted")),
            ("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))),
            ("shamir_threshold".into(), Value::Scalar(Scalar::Int(2))),
            ("version".into(), Value::str("3.11.0")),
        ])
    }

    const FILES: &[&str] = &[
        "A=1\nB=two words\n",
        "A=1\nB=2",
        "",
        "\n",
        "\n\n",
        "# only a comment",
        "# comment\n\nexport X=\"quoted\"\r\nY=a=b\n\n",
        "K=\n#\nZ=x=y",
        "A=line1\\nline2\n",
        "X=é😀\n#é\n",
    ];

    #[test]
    fn parse_follows_sops_dialect() {
        let src = "# c1\n\nexport X = \"q\"\r\nY=a=b\nZ=l1\\nl2\nE=\n";
        let doc = parse(src).unwrap();
        assert_eq!(doc.format, Format::Dotenv);
        assert_eq!(doc.roots[0].end, src.len());
        let its = items(&doc);
        assert_eq!(its.len(), 5);
        let MapItem::Comment(c) = &its[0] else { panic!() };
        assert_eq!((c.text.as_str(), c.span), (" c1", Span::new(0, 4)));
        assert_eq!(value_of(&doc, "export X "), " \"q\"\r");
        assert_eq!(value_of(&doc, "Y"), "a=b");
        assert_eq!(value_of(&doc, "Z"), "l1\nl2");
        assert_eq!(value_of(&doc, "E"), "");
        let e = doc.roots[0].node.get("Y").unwrap();
        assert_eq!(&src[e.span.start..e.span.end], "Y=a=b\n");
        let Node::Leaf(l) = &e.value else { panic!() };
        assert_eq!(&src[l.span.start..l.span.end], "a=b");
        assert_eq!(l.style, Style::Plain);
        let last = parse("A=1\nB=2").unwrap();
        let e = last.roots[0].node.get("B").unwrap();
        assert_eq!(e.span, Span::new(4, 7));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("A=1\nno equals here\n").unwrap_err();
        assert!(e.message.contains("has no '='"));
        assert_eq!((e.line, e.column), (2, 1));
        assert!(parse("A=1\n=x\n").unwrap_err().message.contains("empty key"));
        assert!(parse("A=1\n   \n").is_err());
        assert!(parse("\r\n").is_err());
    }

    #[test]
    fn unchanged_round_trip_is_identical() {
        for src in FILES {
            let doc = parse(src).unwrap();
            assert_eq!(write(&doc, src, opts()).unwrap(), *src);
        }
    }

    #[test]
    fn changed_values_and_comments_replace_only_their_span() {
        let src = "# hi\nA=1\nB=x\r\nC=3";
        let mut doc = parse(src).unwrap();
        set(&mut doc, "A", Scalar::Str("multi\nline".into()));
        set(&mut doc, "C", Scalar::Float(0.5));
        set(&mut doc, "B", Scalar::Null);
        let Node::Map(its) = &mut doc.roots[0].node else { panic!() };
        let MapItem::Comment(c) = &mut its[0] else { panic!() };
        c.text = "ENC[c]".into();
        c.changed = true;
        assert_eq!(write(&doc, src, opts()).unwrap(), "#ENC[c]\nA=multi\\nline\nB=\nC=0.5");
        set(&mut doc, "C", Scalar::Bool(true));
        set(&mut doc, "B", Scalar::Int(-3));
        assert_eq!(write(&doc, src, opts()).unwrap(), "#ENC[c]\nA=multi\\nline\nB=-3\nC=true");
    }

    #[test]
    fn metadata_is_flattened_and_sorted() {
        let doc = parse("A=1\n").unwrap();
        let out = write(&doc, "A=1\n", WriteOptions { metadata: Some(&meta()), ..opts() }).unwrap();
        assert_eq!(
            out,
            "A=1\n\
             sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n\n\
             sops_age__list_0__map_recipient=age1xyz\n\
             sops_lastmodified=2024-01-02T03:04:05Z\n\
             sops_mac=ENC[AES256_GCM,data:x,type:str]\n\
             sops_mac_only_encrypted=true\n\
             sops_shamir_threshold=2\n\
             sops_unencrypted_suffix=_unencrypted\n\
             sops_version=3.11.0\n"
        );
        let parsed = parse(&out).unwrap();
        assert!(has_metadata(&parsed));
        assert!(!has_metadata(&doc));
        assert_eq!(metadata(&doc), None);
        let back = metadata(&parsed).unwrap();
        let rec = |v: &Value, k: &str| match v.get("age") {
            Some(Value::Seq(list)) => list[0].get(k).cloned(),
            _ => None,
        };
        assert_eq!(rec(&back, "enc"), rec(&meta(), "enc"));
        assert_eq!(rec(&back, "recipient"), rec(&meta(), "recipient"));
        for key in ["lastmodified", "mac", "unencrypted_suffix", "mac_only_encrypted", "shamir_threshold", "version"] {
            assert_eq!(back.get(key), meta().get(key), "{key}");
        }
        assert_eq!(back.get("pgp"), None);
    }

    #[test]
    fn metadata_insert_then_strip_is_identity() {
        let m = meta();
        for src in FILES {
            let doc = parse(src).unwrap();
            let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            assert_eq!(with.ends_with('\n'), src.ends_with('\n'), "{with:?}");
            let parsed = parse(&with).unwrap();
            assert!(has_metadata(&parsed));
            let stripped = write(&parsed, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
            assert_eq!(stripped, *src, "{with:?}");
            let again = write(&parsed, &with, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            assert_eq!(again, with);
        }
        let doc = parse("").unwrap();
        let with = write(&doc, "", WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        assert!(with.starts_with("sops_age") && !with.ends_with('\n'));
    }

    #[test]
    fn strip_keeps_other_content() {
        let src = "sops_a=1\nA=1\nsops_b=2\n# c\nsops_c=3";
        let doc = parse(src).unwrap();
        let out = write(&doc, src, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
        assert_eq!(out, "A=1\n# c");
    }

    #[test]
    fn hostile_metadata_keys_cannot_blow_up_memory() {
        let src: String = (0..2000).map(|i| format!("sops_k{i}__list_10000=x\nsops_j{i}__list_999=y\n")).collect();
        let doc = parse(&src).unwrap();
        let meta = metadata(&doc).unwrap();
        let Value::Map(items) = &meta else { panic!("not a map") };
        // Indexes above the cap are dropped, the rest stay bounded.
        assert!(items.iter().all(|(_, v)| !matches!(v, Value::Seq(s) if s.len() > 1000)));
        let many: String = (0..10_001).map(|i| format!("sops_k{i}=x\n")).collect();
        assert!(metadata(&parse(&many).unwrap()).is_none());
    }

    #[test]
    fn unflatten_handles_groups_and_bad_keys() {
        let src = "sops_key_groups__list_1__map_age__list_0__map_recipient=r2\n\
                   sops_key_groups__list_0__map_age__list_0__map_recipient=r1\n\
                   sops_kms__list_0__map_context__map_app=demo\n\
                   sops_mac_only_encrypted=maybe\n\
                   sops_shamir_threshold=x\n\
                   sops_bad__list_zz=1\n\
                   sops_huge__list_99999999999999=1\n";
        let m = metadata(&parse(src).unwrap()).unwrap();
        let groups = m.get("key_groups").unwrap();
        let Value::Seq(gs) = groups else { panic!() };
        assert_eq!(gs.len(), 2);
        assert_eq!(
            gs[0]
                .get("age")
                .map(|a| matches!(a, Value::Seq(v) if v[0].get("recipient").and_then(Value::as_str) == Some("r1"))),
            Some(true)
        );
        assert_eq!(
            m.get("kms").and_then(|k| if let Value::Seq(v) = k {
                v[0].get("context")?.get("app")?.as_str()
            } else {
                None
            }),
            Some("demo")
        );
        assert_eq!(m.get("mac_only_encrypted").and_then(Value::as_str), Some("maybe"));
        assert_eq!(m.get("shamir_threshold").and_then(Value::as_str), Some("x"));
        assert_eq!(m.get("bad"), None);
        assert_eq!(m.get("huge"), None);
        assert_eq!(
            split_path("a__map_b__list_2"),
            Some(vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(2)])
        );
    }

    #[test]
    fn emit_writes_lines_and_rejects_nested_values() {
        let src = "# c\nA=x\\ny\nsops_old=1\n";
        let doc = parse(src).unwrap();
        assert_eq!(emit(&doc, opts()).unwrap(), src);
        let m = Value::Map(vec![("version".into(), Value::str("3.11.0"))]);
        let out = emit(&doc, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        assert_eq!(out, "# c\nA=x\\ny\nsops_version=3.11.0\n");
        let json =
            crate::json::parse("{\"a\": 1, \"b\": 1.5, \"c\": true, \"d\": null, \"n\": {\"secret\": 1}}").unwrap();
        let err = emit(&json, opts()).unwrap_err();
        assert!(err.message.contains("key path n") && err.message.contains("nested"), "{}", err.message);
        let flat = crate::json::parse("{\"a\": 1, \"b\": 1.5, \"c\": true, \"d\": null}").unwrap();
        assert_eq!(emit(&flat, opts()).unwrap(), "a=1\nb=1.5\nc=true\nd=\n");
        let bad_key = crate::json::parse("{\"a=b\": 1}").unwrap();
        assert!(emit(&bad_key, opts()).is_err());
    }

    #[test]
    fn foreign_documents_are_rejected_not_panicked() {
        let mut doc = parse("LONGKEY=value\n").unwrap();
        set(&mut doc, "LONGKEY", Scalar::Str("x".into()));
        assert!(write(&doc, "A=1", opts()).is_err());
        assert!(write(&doc, "", WriteOptions { strip_metadata: true, ..opts() }).is_err());
    }

    #[test]
    fn random_inputs_never_panic() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = ["=", "\n", "#", "\\", "n", "sops_", "__list_", "0", "__map_", "a", "\r", "é", " "];
        let m = meta();
        let mut parsed_ok = 0;
        for _ in 0..500 {
            let len = (next() % 30) as usize;
            let src: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let Ok(doc) = parse(&src) else { continue };
            parsed_ok += 1;
            assert_eq!(write(&doc, &src, opts()).unwrap(), src);
            let _ = metadata(&doc);
            let _ = emit(&doc, opts());
            if has_metadata(&doc) {
                continue;
            }
            let with = write(&doc, &src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            let parsed = parse(&with).unwrap();
            assert_eq!(write(&parsed, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap(), src);
        }
        assert!(parsed_ok > 50, "{parsed_ok}");
    }
}
