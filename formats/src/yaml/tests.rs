//! Round-trip and structure tests of the YAML codec.

use crate::model::{MapItem, Node, Scalar, SeqItem};
use crate::value::Value;
use crate::{parse, write, Format, WriteOptions};

const LAYOUTS: &[&str] = &[
    "a: 1\n",
    "a: 1",
    "---\na: 1\n",
    "a: 1\n---\nb: 2",
    "a: 1\n...\n---\nb: 2\n...\n",
    "a: 1\r\nb: x\r\n",
    "\u{feff}a: 1\nb: x\n",
    "# only a comment\n",
    "%YAML 1.2\n---\na: x\n",
    "a:\n  - x\n  - - y\n    - z\n  - k: v\n    l: w\n",
    "k: \"multi\\nline\"\n",
    "a: |+\n  keep\n\nb: 1\n",
    "a: |2\n   lead space\n",
    "a: >-\n  folded\n  text\nb: 'single ''q'''\n",
    "a: {b: 1, c: [x, y]}\n",
    "# head\nroot:\n    four: spaces   # trailing\n\n    more: 2\n\n\n# tail\n",
    "list:\n- a\n# between\n- b\n",
    "{a: 1, b: [x, y]}\n",
    "{\n  a: 1,\n  b: {c: 2,},\n}\n",
    "{a: 1,}",
    "---\n{\n  a: \"x\"\n}\n---\n{b: 'y'}\n",
];

fn meta() -> Value {
    Value::Map(vec![
        ("age".into(), Value::Seq(vec![Value::Map(vec![("enc".into(), Value::str("line1\nline2\n"))])])),
        ("lastmodified".into(), Value::str("2026-11-28T04:35:48Z")),
        ("version".into(), Value::str("3.11.0")),
    ])
}

#[test]
fn unchanged_documents_are_written_back_byte_for_byte() {
    for src in LAYOUTS {
        let doc = parse(Format::Yaml, src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        assert_eq!(write(&doc, src, WriteOptions::default()).unwrap(), *src, "{src:?}");
    }
}

#[test]
fn metadata_added_then_stripped_gives_the_original() {
    let m = meta();
    for src in LAYOUTS {
        let doc = parse(Format::Yaml, src).unwrap();
        let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..WriteOptions::default() }).unwrap();
        let again = parse(Format::Yaml, &with).unwrap_or_else(|e| panic!("{src:?} -> {with:?}: {e}"));
        assert_eq!(again.roots.len(), doc.roots.len().max(1), "{with}");
        for root in &again.roots {
            assert!(root.node.get("sops").is_some(), "every document carries the metadata: {with}");
        }
        assert_eq!(crate::metadata(&again).as_ref(), Some(&m), "{with}");
        let stripped = write(&again, &with, WriteOptions { strip_metadata: true, ..WriteOptions::default() }).unwrap();
        assert_eq!(stripped, *src, "{with}");
    }
}

fn leaf_mut<'a>(node: &'a mut Node, key: &str) -> &'a mut crate::Leaf {
    let Node::Map(items) = node else { panic!("not a map") };
    for item in items {
        if let MapItem::Entry(e) = item {
            if e.key == key {
                if let Node::Leaf(l) = &mut e.value {
                    return l;
                }
            }
        }
    }
    panic!("no leaf {key}")
}

#[test]
fn a_changed_value_replaces_only_its_own_bytes_in_its_own_style() {
    let src = "a: 'x'   # keep me\nb: \"y\"\nc: |\n  z\n";
    let mut doc = parse(Format::Yaml, src).unwrap();
    for (key, new) in [("a", "it's"), ("b", "tab\there"), ("c", "two\nlines\n")] {
        let l = leaf_mut(&mut doc.roots[0].node, key);
        l.value = Scalar::Str(new.into());
        l.changed = true;
    }
    let out = write(&doc, src, WriteOptions::default()).unwrap();
    assert_eq!(out, "a: 'it''s'   # keep me\nb: \"tab\\there\"\nc: |\n  two\n  lines\n");
}

fn comment_texts(items: &[MapItem]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|i| match i {
            MapItem::Comment(c) => Some(c.text.as_str()),
            _ => None,
        })
        .collect()
}

fn map<'a>(node: &'a Node, key: &str) -> &'a [MapItem] {
    match &node.get(key).expect("key").value {
        Node::Map(items) => items,
        _ => panic!("{key} is not a map"),
    }
}

/// sops decrypts a comment only with the key path of the collection go-yaml attaches it to.
#[test]
fn comments_belong_where_go_yaml_puts_them() {
    let src = "a:\n  b:\n    c: 1\n  # foot\nd: 1\n# head of e\ne:\n  f: 1\nk: # on the key\n  l: 1\n";
    let doc = parse(Format::Yaml, src).unwrap();
    let root = &doc.roots[0].node;
    let Node::Map(top) = root else { panic!() };
    assert_eq!(comment_texts(map(map_node(root, "a"), "b")), [" foot"]);
    assert_eq!(comment_texts(top), [" head of e", " on the key"]);
    assert!(comment_texts(map(root, "k")).is_empty());

    let list = "l:\n  - x\n  # in list\n  - y\n";
    let doc = parse(Format::Yaml, list).unwrap();
    let Node::Seq(items) = &doc.roots[0].node.get("l").unwrap().value else { panic!() };
    assert!(matches!(&items[1], SeqItem::Comment(c) if c.text == " in list"));
}

fn map_node<'a>(node: &'a Node, key: &str) -> &'a Node {
    &node.get(key).expect("key").value
}

#[test]
fn bad_yaml_is_a_positioned_error_not_a_panic() {
    let cases = [
        ("a: [1, 2\n", 2),
        ("a: 1\na: 2\n", 2),
        ("200: ok\n", 1),
        ("- a\n- b\n", 1),
        ("a: *nope\n", 1),
        ("a: 'unterminated\n", 2),
        ("a:\n\tb: 1\n", 2),
        ("? [a, b]\n: c\n", 1),
        ("a: 18446744073709551615\n", 1),
    ];
    for (src, line) in cases {
        let err = parse(Format::Yaml, src).expect_err(src);
        assert!(err.line >= 1 && err.line <= line + 1, "{src:?}: {err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn deep_nesting_is_handled_without_overflowing() {
    let deep: String =
        (0..1000).map(|i| format!("{}k:\n", " ".repeat(i))).collect::<String>() + &" ".repeat(1000) + "v\n";
    let handle = std::thread::Builder::new().stack_size(8 << 20).spawn(move || parse(Format::Yaml, &deep).is_ok());
    assert!(handle.unwrap().join().unwrap());
    let deeper = "[".repeat(5000) + &"]".repeat(5000);
    let src = format!("a: {deeper}\n");
    assert!(parse(Format::Yaml, &src).is_err());
}

/// Mutated inputs (bytes flipped, cut, duplicated) parse or fail cleanly, and whatever parses
/// writes back unchanged and survives a metadata round trip.
#[test]
fn mutated_inputs_never_panic() {
    let token = "ENC[AES256_GCM,data:aGk=,iv:AAAA,tag:BBBB,type:str]";
    let mut corpus: Vec<String> = LAYOUTS.iter().map(|s| s.to_string()).collect();
    corpus.push(format!("a: {token}\nb: \"{token}\"\nc:\n  - {token}\n#{token}\nd: |-\n  {token}\n"));
    let pieces =
        [":", "- ", "\"", "'", "#", "\n", "  ", "{", "}", "[", "]", "&a", "*a", "!!str", "|", ">", "---", "é", "\t"];
    let m = meta();
    for base in &corpus {
        for src in crate::mutate::mutations(base, 600, &pieces, 0x9e37_79b9_7f4a_7c15) {
            if let Ok(doc) = parse(Format::Yaml, &src) {
                assert_eq!(write(&doc, &src, WriteOptions::default()).unwrap(), src, "{src:?}");
                if let Ok(with) = write(&doc, &src, WriteOptions { metadata: Some(&m), ..WriteOptions::default() }) {
                    let again = parse(Format::Yaml, &with).unwrap_or_else(|e| panic!("{src:?} -> {with:?}: {e}"));
                    let back = write(&again, &with, WriteOptions { strip_metadata: true, ..WriteOptions::default() });
                    assert_eq!(back.unwrap(), src, "{with:?}");
                }
            }
        }
    }
}

#[test]
fn several_documents_cannot_become_one_json_or_dotenv_file() {
    let doc = parse(Format::Yaml, "a: 1\n---\nb: 2\n").unwrap();
    for format in [Format::Json, Format::Dotenv] {
        let err = crate::emit(&doc, format, WriteOptions::default()).unwrap_err().to_string();
        assert!(err.contains("2 YAML documents"), "{err}");
    }
    assert!(crate::emit(&doc, Format::Yaml, WriteOptions::default()).unwrap().contains("---\nb: 2\n"));
}

#[test]
fn aliases_to_collections_are_expanded_in_place_when_their_values_change() {
    let src = "base: &b\n  x: 1\n  y: two\nsvc:\n  <<: *b\n  z: 3\nlist: &l [a, b]\nother: *l\n";
    let mut doc = parse(Format::Yaml, src).unwrap();
    // Untouched, the alias is written back as it is.
    assert_eq!(write(&doc, src, WriteOptions::default()).unwrap(), src);
    let svc = leaf_or_alias(&mut doc.roots[0].node, "svc");
    let Node::Alias(alias) = leaf_or_alias(svc, "<<") else { panic!("<< is an alias") };
    assert_eq!(&src[alias.span.start..alias.span.end], "*b");
    // Once a value inside changes, the expansion replaces the alias, in flow style.
    let Node::Map(inner) = &mut alias.node else { panic!() };
    if let MapItem::Entry(e) = &mut inner[1] {
        if let Node::Leaf(l) = &mut e.value {
            l.value = Scalar::Str("ENC[x]".into());
            l.changed = true;
        }
    }
    let out = write(&doc, src, WriteOptions::default()).unwrap();
    // `y` is a boolean to YAML 1.1 readers: a quoted key.
    assert!(out.contains("  <<: {x: 1, \"y\": \"ENC[x]\"}\n"), "{out}");
    assert!(out.contains("other: *l\n"), "{out}");
}

fn leaf_or_alias<'a>(node: &'a mut Node, key: &str) -> &'a mut Node {
    let Node::Map(items) = node else { panic!("not a map") };
    items
        .iter_mut()
        .find_map(|i| match i {
            MapItem::Entry(e) if e.key == key => Some(&mut e.value),
            _ => None,
        })
        .unwrap()
}

/// Regression: saphyr's span of an anchored collection runs over the comments after the
/// anchor, which were then left out of the tree (and so never encrypted).
#[test]
fn comments_after_an_anchor_belong_to_the_collection() {
    let src = "x: &h\n  # after the anchor\n  a: 1\ny: !tag\n  - # in a tagged list\n    b\n";
    let doc = parse(Format::Yaml, src).unwrap();
    assert_eq!(comment_texts(map(&doc.roots[0].node, "x")), [" after the anchor"]);
    let Node::Seq(items) = &doc.roots[0].node.get("y").unwrap().value else { panic!() };
    assert!(items.iter().any(|i| matches!(i, SeqItem::Comment(c) if c.text == " in a tagged list")), "{items:?}");
}

#[test]
fn debug_output_shows_no_values_literals_or_comments() {
    let doc = parse(Format::Yaml, "# db password is hunter2\nport: 0x1F\nkey: s3cr3t\n").unwrap();
    let shown = format!("{doc:?}");
    for secret in ["hunter2", "0x1F", "s3cr3t"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

/// Block scalars that run to the end of a file without a final line break, and their values as
/// go-yaml v3 (sops 3.11) reads them (each checked with `sops decrypt --extract`).
const BLOCKS_AT_EOF: &[(&str, &str)] = &[
    ("k: |\n  multi\n  line", "multi\nline"),
    ("k: |\n  multi\n  line\n", "multi\nline\n"),
    ("k: |+\n  multi\n  line", "multi\nline"),
    ("k: |-\n  multi\n  line", "multi\nline"),
    ("k: >\n  multi\n  line", "multi line"),
    ("k: >-\n  multi\n  line", "multi line"),
    ("k: >+\n  multi\n  line", "multi line"),
    ("k: |2\n   multi\n  line", " multi\nline"),
    ("k: |+\n  multi\n  line\n\n", "multi\nline\n\n"),
    ("k: |+\n  multi\n\n  ", "multi\n\n"),
    ("k: |\n  multi\n\n  ", "multi\n"),
    ("k: |\n    multi\n  ", "multi\n"),
    ("k: |+\n  x\n ", "x\n"),
    ("k: |+\n  ", ""),
    ("k: |+\n ", ""),
    ("a: 1\nk: |+\n\n  ", "\n"),
    ("k: >\n  a\n\n  b", "a\nb"),
    ("k: >+\n  a\n\n  b\n\n   ", "a\nb\n\n "),
    ("k: |\r\n  x\r\n  y", "x\ny"),
    ("k: |+ # a-b\n  x", "x"),
    ("k: &a |\n  x", "x"),
    ("k: !!str |\n  x", "x"),
    ("k: |\n  x\n\n# c", "x\n"),
];

fn value_at(src: &str, key: &str) -> Value {
    let doc = parse(Format::Yaml, src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    Value::from_node(&doc.roots[0].node).get(key).cloned().unwrap_or_else(|| panic!("{src:?}: no {key}"))
}

#[test]
fn block_scalars_at_the_end_of_the_file_keep_only_the_line_breaks_that_are_there() {
    for (src, want) in BLOCKS_AT_EOF {
        assert_eq!(value_at(src, "k"), Value::str(*want), "{src:?}");
    }
    let nested = "a:\n  b: 1\n  k: |\n    x\n    y";
    assert_eq!(value_at(nested, "a").get("k"), Some(&Value::str("x\ny")));
    let Value::Seq(items) = value_at("k:\n- |\n  x", "k") else { panic!("not a list") };
    assert_eq!(items, [Value::str("x")]);
}

#[test]
fn metadata_after_a_block_scalar_at_the_end_of_the_file_leaves_its_value_alone() {
    let m = meta();
    let mut sources: Vec<String> = BLOCKS_AT_EOF.iter().map(|(s, _)| s.to_string()).collect();
    sources.extend(
        ["a:\n  b: 1\n  k: |\n    x\n    y", "k:\n- |\n  x", "# c\nfirst: 1\n# c2\nk: |\n  x"].map(String::from),
    );
    for src in &sources {
        let doc = parse(Format::Yaml, src).unwrap();
        let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..WriteOptions::default() }).unwrap();
        let again = parse(Format::Yaml, &with).unwrap_or_else(|e| panic!("{src:?} -> {with:?}: {e}"));
        let mut values = Value::from_node(&again.roots[0].node);
        if let Value::Map(items) = &mut values {
            items.retain(|(k, _)| k != "sops");
        }
        assert_eq!(values, Value::from_node(&doc.roots[0].node), "{with}");
        let stripped = write(&again, &with, WriteOptions { strip_metadata: true, ..WriteOptions::default() });
        assert_eq!(stripped.unwrap(), *src, "{with}");
        // Encrypting again replaces the metadata where it stands.
        let twice =
            write(&again, &with, WriteOptions { metadata: Some(&m), strip_metadata: true, ..WriteOptions::default() });
        assert_eq!(twice.unwrap(), with, "{src:?}");
    }
    // The metadata goes before the last top-level key, at the end when it can.
    let src = "a: 1\nk: |\n  x";
    let with =
        write(&parse(Format::Yaml, src).unwrap(), src, WriteOptions { metadata: Some(&m), ..WriteOptions::default() });
    let with = with.unwrap();
    assert!(with.starts_with("a: 1\nsops:\n") && with.ends_with("\nk: |\n  x"), "{with}");
    let src = "k: |-\n  x";
    let with =
        write(&parse(Format::Yaml, src).unwrap(), src, WriteOptions { metadata: Some(&m), ..WriteOptions::default() });
    assert!(with.unwrap().starts_with("k: |-\n  x\nsops:\n"));
}

#[test]
fn a_blank_line_indented_deeper_than_a_block_scalar_is_part_of_it() {
    // `     ` under content indented by 2 holds three blanks of the value: go-yaml reads
    // `x\n   \n` (clip). A changed value must replace that line too, or it would be left
    // behind as content of the new value.
    for (src, value) in [
        ("k: |\n  x\n     \nb: 1\n", "x\n   \n"),
        ("k: |\n  x\n     ", "x\n   "),
        ("k: |-\n  x\n     \n  \nb: 1", "x\n   "),
        ("k: |\n  x\n  \n\nb: 1\n", "x\n"),
    ] {
        assert_eq!(value_at(src, "k"), Value::str(value), "{src:?}");
        let mut doc = parse(Format::Yaml, src).unwrap();
        let l = leaf_mut(&mut doc.roots[0].node, "k");
        l.value = Scalar::Str("ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]".into());
        l.changed = true;
        let out = write(&doc, src, WriteOptions::default()).unwrap();
        assert_eq!(value_at(&out, "k"), Value::str("ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]"), "{out:?}");
    }
}

/// Found by the mutation sweep: a first collection with an anchor gave its anchor's column as
/// the file's indentation (10 for `longer_key: &x`), and everything gitseal wrote anew took it.
#[test]
fn an_anchored_collection_does_not_set_the_indentation() {
    let doc = parse(Format::Yaml, "longer_key: &x\n  adapter: postgres\nother:\n  k: v\n").unwrap();
    assert_eq!(doc.indent, Some(2));
    let doc = parse(Format::Yaml, "a: !!map\n    k: v\n").unwrap();
    assert_eq!(doc.indent, None);
}

/// Found by the mutation sweep: written anew, a merge key came out quoted (`"<<":`), which
/// every YAML reader takes for a key named `<<`, not a merge. Before a map it stays plain; a
/// `<<` key holding a scalar (no merge) is still quoted.
#[test]
fn a_merge_key_written_anew_stays_a_merge_key() {
    let src = "base: &b\n  adapter: postgres\ndev:\n  <<: *b\n  db: dev\nodd:\n  \"<<\": text\n";
    let doc = parse(Format::Yaml, src).unwrap();
    let out = crate::emit(&doc, Format::Yaml, WriteOptions::default()).unwrap();
    assert!(out.contains("\n    <<:\n        adapter: postgres\n"), "{out}");
    assert!(out.contains("\n    \"<<\": text\n"), "{out}");
}

/// Every YAML sample in the repository (codec corpus, CLI fixtures, fuzz corpus and regressions,
/// deployment manifests) and a set of edge cases: the line scanner reads each one to the same
/// events as saphyr, or leaves it to saphyr.
#[test]
fn fast_scanner_agrees_with_saphyr() {
    let samples = samples();
    let mut failures = Vec::new();
    for (name, src) in &samples {
        if let Err(e) = super::scanners_agree(src) {
            failures.push(format!("{name}: {e}"));
        }
        // The check that keeps no values accepts and refuses what the parse does.
        let (parsed, checked) = (super::parse(src).map(drop), super::check(src).map(drop));
        if parsed.as_ref().map_err(ToString::to_string) != checked.as_ref().map_err(ToString::to_string) {
            failures.push(format!("{name}: parse {parsed:?}, check {checked:?}"));
        }
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    // What the scanner is for: it reads these itself, or it is of no use.
    for src in FAST_READS {
        assert_eq!(super::scanners_agree(src), Ok(true), "{src:?}");
    }
}

/// A parse cut in two halves at any line where a cut may be made gives the tree of the whole
/// parse, or declines (and the whole parse is used): never another tree, never a tree for a
/// file the whole parse refuses.
#[test]
fn a_parse_in_halves_gives_the_whole_parse() {
    let mut samples = samples();
    for (n, src) in HALVES_DECLINE.iter().enumerate() {
        samples.push((format!("halves case {n}"), src.to_string()));
    }
    samples.push(("services".to_string(), services(12)));
    let (mut joined, mut failures) = (0, Vec::new());
    for (name, src) in &samples {
        match super::halves::agree(src) {
            Ok(n) => joined += n,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    // The cut is of use: most samples have lines where it is made.
    assert!(joined > 300, "only {joined} parses in halves");
    let services = services(12);
    assert_eq!(super::scanners_agree(&services), Ok(true), "the line scanner reads the services sample");
    let cuts = super::fast::seams(&services);
    let joined = cuts
        .iter()
        .filter(|(pos, open)| super::halves::in_halves(&services, *pos, open, super::parse::Values::All).is_some())
        .count();
    assert!(joined > 50 && cuts.iter().any(|(_, open)| open.len() == 4), "{joined} of {} cuts joined", cuts.len());
    for src in HALVES_DECLINE {
        for (pos, open) in super::fast::seams(src) {
            assert!(
                super::halves::in_halves(src, pos, &open, super::parse::Values::All).is_none(),
                "{src:?} cut at {pos}"
            );
        }
    }
}

/// A configuration file of `n` services, of the shapes the line scanner reads: mappings nested
/// four deep, sequences of mappings, literal block scalars (one at the end of a service),
/// quoted values, empty collections, comments on their own lines and after values.
fn services(n: usize) -> String {
    let mut s = String::from("# services\nversion: 3\nservices:\n");
    for i in 0..n {
        s.push_str(&format!("  svc-{i}:\n    name: \"svc {i}\"\n    labels:\n      app: a{i}\n      tier: 'web'\n"));
        s.push_str("    spec:\n      replicas: 2\n      ports:\n        - name: http\n          port: 80\n");
        s.push_str("        - name: https # tls\n          port: 443\n      env: []\n      extra: {}\n");
        s.push_str("      # resources\n      limits:\n        cpu: 1\n        memory: 1Gi\n");
        if i % 3 == 0 {
            s.push_str("    script: |\n      run --fast\n        indented\n\n      done\n");
        } else {
            s.push_str("    empty:\n    flag: true\n");
        }
    }
    s.push_str("tail:\n  a: 1\n");
    s
}

/// Cuts the halves must refuse: a key on both sides of the cut, a guess of what is open that
/// is wrong (a block scalar, a sequence item, a key with a comment after it), an error after the
/// cut.
const HALVES_DECLINE: &[&str] = &[
    "a:\n  x: 1\n  y: 2\n  x: 3\n",
    "x: 1\na:\n  y: 2\nx: 3\n",
    "a: |\n  k:\n    b: 1\n    c: 2\n",
    "a:\n  - k:\n      b: 1\n      c: 2\n",
    "a: # note\n  b: 1\n  c: 2\n",
    "a:\n  b: 1\n  c: 2\n   d: 3\n",
    "a:\n  - x\n  b: 1\n",
];

/// Every YAML sample in the repository (codec corpus, CLI fixtures, fuzz corpus and
/// regressions, deployment manifests) and the scanner's edge cases.
fn samples() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut samples: Vec<(String, String)> = Vec::new();
    for dir in ["formats/tests/corpus/yaml", "tests/fixtures", "fuzz/corpus/yaml", "fuzz/regressions/yaml", "deploy"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    samples.push((path.display().to_string(), text));
                }
            }
        }
    }
    for (n, src) in FAST_READS.iter().chain(FAST_EDGES).enumerate() {
        samples.push((format!("edge case {n}"), src.to_string()));
    }
    samples
}

/// Block YAML the line scanner reads itself (compared with saphyr as the other samples are).
const FAST_READS: &[&str] = &[
    "a: 1\n",
    "a: 1\nb:\n  c: 2\n",
    "# lead\na: 1 # trail\n# foot\n",
    "a:\n- 1\n- 2\nb: 3\n",
    "a:\n  - 1\n  # mid\n  - x: 1\n    y: 2\n  - - 3\n    - 4\nb: 3\n",
    "a:\nb:\n",
    "a: # note\n  b: 1\n",
    "a: \"x\" # c\nb: 'y''z'\nc: ''\nd: \"\"\n",
    "k: |\n  x\n  y\nn: 1\n",
    "k: |-\n  x\n\n  y\n\n\nn: 1\n",
    "k: |+\n  x\n\n\nn: 1\n",
    "k: |\n  x\n  # not a comment\n# a comment\nn: 1\n",
    "k: | # note\n    x\n",
    "s:\n    age:\n        - r: a\n          enc: |\n            -----BEGIN-----\n            abc\n            -----END-----\n    mac: ENC[AES256_GCM,data:aGk=,iv:AAAA,tag:BBBB,type:str]\n",
    "---\n# c\na: 1\n",
    "  a: 1\n  b: 2\n",
    "a: x #y\na2: x#y\na3: http://x:8080/p\n",
    "\"q\": 1\n'r': 2\n",
    "key with spaces: v\nx.y/z: w\n",
    "a:\n  b:\n    c:\n      d: 1\ne: 2\n",
    "a:\n  b: 1\n  # foot of a\n# head of c\nc: 2\n",
    "a:\n- k: |\n    x\n  j: 1\n- |\n  y\n",
    "a: ~\nb: null\nc: true\nd: 0x1F\ne: 1.5e3\nf: 2001-12-14t21:59:43.10-05:00\n",
    "é: ü\n",
    "a: []\nb: {}\nc:\n  - []\n  - {} # c\n  - d: []\n",
];

/// Edge cases either reader may take: what the line scanner reads must agree with saphyr.
const FAST_EDGES: &[&str] = &[
    "a:\n",
    "k: |+\n  x\n\n",
    "k: |\n  x\n",
    "---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n...\n",
    "a: b: c\n",
    "a: b:\n",
    "a: x #y\n",
    "a: x#y\n",
    "a: http://x:8080/p\n",
    "a: -1\nb: - 1\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n  b: 1\n   c: 2\n",
    "a: 1\n  b: 2\n",
    "a:\n  - 1\n  b: 2\n",
    "a: [1, 2]\n",
    "a: {b: 1}\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: >\n  x\n",
    "a: |2\n   x\n",
    "a: \"x\\ny\"\n",
    "a: \"x\n  y\"\n",
    "a: x\n  y\n",
    "a:\tb\n",
    "a: b\t\n",
    "\ta: 1\n",
    "a: 1",
    "a: 1\r\n",
    "",
    "# only\n",
    "- a\n",
    "a\n",
    "a: 1\na: 2\n",
    "? a\n: 1\n",
    "a:\n  -\n  - 1\n",
    "a:\n  - \n",
    "\"q\": 1\n'r': 2\n\"s\" : 3\n",
    "a: 'x' y\n",
    "a: 'x'#c\n",
    "a: 1\n\n\n# end\n\n",
    "k: |\n  x\n\n",
    "k: |-\n    x\n  \n",
    "k: |\n   x\n  y\n",
    "- k: |\n    x\n",
    "a:\n- k: |\n    x\n  j: 1\n",
    "a:\n- |\n  x\n- y\n",
    "a: 99999999999999999999\n",
    "a: -\n",
    "a: x # c1\n  # c2\nb: 1\n",
    "a:\n  - 1\n  # foot\nc: 2\n",
    "a:\n- 1\n# foot\nc: 2\n",
    "a: \u{feff}x\n",
    "a: x\u{85}y\n",
    "a: x\u{2028}y\nb: \u{2029}\n",
    "a: é\u{a0}\u{2027}\u{202a}\n",
    "%YAML 1.2\n---\na: 1\n",
    "--- a: 1\n",
    "---a: 1\n",
    "a: ---\n",
    "a:\n  ---: 1\n",
];

/// Each pass of the read-back check (by lines, by the line scanner's events) passes a text only
/// when the parse reads it and finds the metadata; what the parse would refuse goes to the parse.
#[test]
fn the_quick_read_back_check_never_passes_what_the_parse_refuses() {
    const META: &str = "sops:\n    age:\n        - recipient: age1x\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWdl\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2026-12-07T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n    version: 3.13.2\n";
    let mut texts = samples();
    texts.push(("services".to_string(), services(12)));
    // Each sample also with the metadata at its end, as encryption writes it.
    for (name, src) in texts.clone() {
        let sep = if src.is_empty() || src.ends_with('\n') { "" } else { "\n" };
        texts.push((format!("{name} with metadata"), format!("{src}{sep}{META}")));
    }
    for (n, src) in HALVES_DECLINE.iter().enumerate() {
        texts.push((format!("halves case {n} with metadata"), format!("{src}{META}")));
    }
    let (mut passed, mut failures) = (0, Vec::new());
    for (name, src) in &texts {
        match super::readback_agrees(src) {
            Ok(p) => passed += usize::from(p),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    assert!(passed > 100, "only {passed} texts passed");
    // The pass by lines reads what the events pass reads (but a marker on a line with a key).
    use super::readback::{by_events, by_lines, looked_at};
    let lines = texts.iter().filter(|(_, src)| looked_at(src) && by_lines(src)).count();
    let events = texts.iter().filter(|(_, src)| looked_at(src) && by_events(src)).count();
    assert!(lines > 100 && lines + 2 >= events, "{lines} passed by lines, {events} by events");
    let encrypted = format!("a: ENC[AES256_GCM,data:eA==,iv:aXY=,tag:dGFn,type:str]\nb:\n    - ENC[AES256_GCM,data:eQ==,iv:aXY=,tag:dGFn,type:int]\n{META}");
    assert_eq!(super::readback_agrees(&encrypted), Ok(true), "an encrypted file is passed");
    assert!(looked_at(&encrypted) && by_lines(&encrypted), "an encrypted file is passed by lines");
    // The check split between two threads answers as the check does, and runs what it is
    // given beside once.
    for (name, src) in texts.iter().map(|(n, s)| (n.as_str(), s.as_str())).chain([("encrypted", encrypted.as_str())]) {
        let mut ran = 0;
        let split = super::check_beside(src, || ran += 1);
        assert_eq!(ran, 1, "{name}");
        match (split, super::check(src)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
            (a, b) => panic!("{name}: {a:?} beside, {b:?} alone"),
        }
    }
    // Each of these would be read by the line scanner, but is refused by the parse (or has no
    // metadata where the parse looks): both quick passes leave it to the parse.
    let many: String = (0..20).map(|i| format!("k{i}: 1\n")).collect();
    let deep: String =
        (0..2001).map(|d| format!("{}k:\n", " ".repeat(d))).collect::<String>() + &" ".repeat(2001) + "v: 1\n";
    let refused = [
        format!("a: 1\nb: 2\na: 3\n{META}"),
        format!("{many}k7: 2\n{META}"),
        format!("x:\n  - a: 1\n    a: 2\n{META}"),
        format!("{META}sops: 1\n"),
        format!("1: a\n{META}"),
        format!("true: a\n{META}"),
        format!("~: a\n{META}"),
        format!("a: 18446744073709551615\n{META}"),
        format!("a:\n  - 9223372036854775808\n{META}"),
        format!("{deep}{META}"),
        "a:\n  sops: 1\n".to_string(),
        "a: 1\n".to_string(),
        format!("a: \u{1}\n{META}"),
    ];
    // (The parse of the deepest case needs more than a test thread's stack.)
    let parses = std::thread::Builder::new().stack_size(crate::TREE_STACK).spawn(move || {
        for src in &refused {
            let short = &src[..src.len().min(60)];
            assert_eq!(super::readback_agrees(src), Ok(false), "{short:?}");
            assert!(!matches!(super::parse::parse_check(src), Ok(true)), "{short:?} is not refused by the parse");
        }
    });
    parses.unwrap().join().unwrap();
}

/// A sops-encrypted file of the shapes decryption meets: tokens as mapping values at every
/// depth, in sequences, quoted, after comments, and in the metadata.
fn encrypted_sample() -> String {
    let t = |d: &str| format!("ENC[AES256_GCM,data:{d}=,iv:aXY=,tag:dGFn,type:str]");
    format!(
        "# services\ntop: {}\nquoted: \"{}\"\nsingle: '{}'\nnested:\n    deeper:\n        k: {} # note\n    list:\n        - {}\n        - item: {}\n          other: 12\n    clear_unencrypted: plain text\n    empty: \"\"\nsops:\n    mac: {}\n    version: 3.13.2\n",
        t("dG9w"),
        t("cXVv"),
        t("c2lu"),
        t("aw"),
        t("bGk"),
        t("aXQ"),
        t("bWFj")
    )
}

/// A parse for decryption leaves the plain tokens of mapping values in the source, and only
/// those (not quoted ones, sequence items or the metadata's); read back from there, the tree
/// is the whole parse's. Where the line scanner does not read the file (a tag sends it to
/// saphyr), nothing is left there.
#[test]
fn a_parse_for_decryption_leaves_tokens_in_the_source() {
    let src = encrypted_sample();
    assert_eq!(crate::tokens_in_source_agree(crate::Format::Yaml, &src), Ok(3));
    let doc = super::parse_encrypted(&src).unwrap();
    let top = leaf_of(&doc.roots[0].node, "top");
    assert!(top.token_in_source && matches!(&top.value, Scalar::Str(s) if s.is_empty()));
    assert!(src[top.span.start..top.span.end].starts_with("ENC[AES256_GCM,data:dG9w=,"));
    assert!(!leaf_of(&doc.roots[0].node, "quoted").token_in_source);
    let tagged = src.replace("clear_unencrypted: plain text", "clear_unencrypted: !!str plain text");
    assert_eq!(crate::tokens_in_source_agree(crate::Format::Yaml, &tagged), Ok(0));
    // Every cut of the file in halves leaves the same tokens there as the whole parse.
    assert!(super::halves::agree(&src).unwrap() > 3);
    for (name, src) in samples() {
        assert!(crate::tokens_in_source_agree(crate::Format::Yaml, &src).is_ok(), "{name}");
    }
}

fn leaf_of<'a>(node: &'a Node, key: &str) -> &'a crate::Leaf {
    match node.get(key).map(|e| &e.value) {
        Some(Node::Leaf(l)) => l,
        _ => panic!("no leaf {key}"),
    }
}

/// The check for characters YAML forbids reads whole blocks of plain text at once: a
/// forbidden character is found wherever it stands (in a block, at its edges, in the short
/// tail), the first of several, and the allowed ones that leave the plain-text path (tab,
/// carriage return, non-ASCII, NEL) pass.
#[test]
fn forbidden_characters_are_found_wherever_they_stand() {
    fn reference(src: &str) -> Option<(usize, char)> {
        src.char_indices().find(|&(_, c)| {
            let u = c as u32;
            (u < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
                || ((0x7f..=0x9f).contains(&u) && u != 0x85)
                || u == 0xfffe
                || u == 0xffff
        })
    }
    let base: String = (0..10).map(|i| format!("key{i}: value number {i} here\n")).collect();
    assert!(base.len() > 200);
    let mut found = 0;
    for c in
        ['\u{1}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{fffe}', '\u{ffff}', '\t', '\r', 'é', '\u{85}', '\u{a0}']
    {
        for at in 0..=base.len() {
            let mut src = base.clone();
            src.insert(at, c);
            let want = reference(&src);
            assert_eq!(super::parse::forbidden_char(&src), want, "{c:?} at {at}");
            found += usize::from(want.is_some());
            // A second one further on: the first is reported.
            src.push(c);
            assert_eq!(super::parse::forbidden_char(&src), reference(&src), "{c:?} at {at} and the end");
        }
    }
    assert_eq!(found, 7 * (base.len() + 1));
}
