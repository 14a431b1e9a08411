//! Round-trip, structure and error tests of the TOML codec.

use crate::model::{Comment, Leaf, MapItem, Node, Scalar, SeqItem, Style};
use crate::testing::opts;
use crate::value::Value;
use crate::{parse, write, Document, Format, WriteOptions};

fn toml(src: &str) -> Document {
    parse(Format::Toml, src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn meta() -> Value {
    Value::Map(vec![
        (
            "age".into(),
            Value::Seq(vec![Value::Map(vec![
                ("recipient".into(), Value::str("age1xyz")),
                (
                    "enc".into(),
                    Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\"\"\"\\\n-----END AGE ENCRYPTED FILE-----\n"),
                ),
            ])]),
        ),
        ("lastmodified".into(), Value::str("2024-01-02T03:04:05Z")),
        ("mac".into(), Value::str("ENC[AES256_GCM,data:x,type:str]")),
        ("pgp".into(), Value::Scalar(Scalar::Null)),
        ("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))),
        ("shamir_threshold".into(), Value::Scalar(Scalar::Int(2))),
        (
            "key_groups".into(),
            Value::Seq(vec![Value::Map(vec![
                ("hc_vault".into(), Value::Seq(vec![])),
                ("age".into(), Value::Seq(vec![Value::Map(vec![("recipient".into(), Value::str("r"))])])),
            ])]),
        ),
        ("version".into(), Value::str("3.11.0")),
    ])
}

/// Maps with sorted keys and nulls dropped, so that values can be compared whatever the order
/// the TOML layout put them in.
fn normal(v: &Value) -> Value {
    match v {
        Value::Map(items) => {
            let mut items: Vec<(String, Value)> = items
                .iter()
                .filter(|(_, v)| !matches!(v, Value::Scalar(Scalar::Null)))
                .map(|(k, v)| (k.clone(), normal(v)))
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(items)
        }
        Value::Seq(items) => Value::Seq(items.iter().map(normal).collect()),
        Value::Scalar(_) => v.clone(),
    }
}

const LAYOUTS: &[&str] = &[
    "a = 1\n",
    "a = 1",
    "",
    "\n",
    "\n\n",
    "# only a comment",
    "a = 'x'\n\n\n",
    "a = 1\r\n[b]\r\nc = 2\r\n",
    "\u{feff}a = \"é\"\n",
    "[t]\nk = \"\"\"\nml\n\"\"\"",
    "[[x]]\na = 1\n[[x]]\na = 2\n",
    "k = [\n  1, # one\n  2,\n]\n",
    "a.b.c = true # dotted\n",
];

fn corpus() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/toml");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 16, "{}", files.len());
    files
}

#[test]
fn unchanged_documents_are_written_back_byte_for_byte() {
    for src in LAYOUTS {
        assert_eq!(write(&toml(src), src, opts()).unwrap(), *src);
    }
    for (name, src) in corpus() {
        assert_eq!(write(&toml(&src), &src, opts()).unwrap(), src, "{name}");
    }
}

#[test]
fn metadata_added_then_stripped_gives_the_original() {
    let m = meta();
    let mut sources: Vec<String> = LAYOUTS.iter().map(|s| s.to_string()).collect();
    sources.extend(corpus().into_iter().map(|(_, s)| s));
    for src in &sources {
        let doc = toml(src);
        assert!(!crate::has_metadata(&doc));
        let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        assert_eq!(with.ends_with('\n'), src.ends_with('\n') || src.is_empty() && with.ends_with('\n'), "{with}");
        let again = parse(Format::Toml, &with).unwrap_or_else(|e| panic!("{e}:\n{with}"));
        assert!(crate::has_metadata(&again));
        assert_eq!(crate::metadata(&again).map(|v| normal(&v)), Some(normal(&m)), "{with}");
        let stripped = write(&again, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
        assert_eq!(stripped, *src, "{with:?}");
        let twice = write(&again, &with, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        assert_eq!(twice, with, "re-encrypting replaces the metadata");
    }
}

#[test]
fn metadata_layout() {
    let m = Value::Map(vec![
        (
            "age".into(),
            Value::Seq(vec![Value::Map(vec![
                ("recipient".into(), Value::str("age1")),
                ("enc".into(), Value::str("-----BEGIN-----\nabc\n-----END-----\n")),
            ])]),
        ),
        ("lastmodified".into(), Value::str("2024-01-02T03:04:05Z")),
        ("version".into(), Value::str("3.11.0")),
    ]);
    let out = write(&toml("a = 1\n"), "a = 1\n", WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
    assert_eq!(
        out,
        "a = 1\n\n[sops]\nlastmodified = \"2024-01-02T03:04:05Z\"\nversion = \"3.11.0\"\n\n[[sops.age]]\n\
         recipient = \"age1\"\nenc = \"\"\"\n-----BEGIN-----\nabc\n-----END-----\n\"\"\"\n"
    );
    let crlf = write(&toml("a = 1\r\n"), "a = 1\r\n", WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
    assert!(crlf.starts_with("a = 1\r\n\r\n[sops]\r\n") && crlf.ends_with("\"\"\"\r\n"), "{crlf:?}");
    assert_eq!(crlf.replace("\r\n", "\n"), out);
}

/// What the envelope does to a leaf when it encrypts it (`None`: left alone).
fn enc_token(v: &Scalar) -> Option<String> {
    let ty = match v {
        Scalar::Null => return None,
        Scalar::Str(s) if s.is_empty() => return None,
        Scalar::Str(_) => "str",
        Scalar::Int(_) => "int",
        Scalar::Float(_) => "float",
        Scalar::Bool(_) => "bool",
        Scalar::Time(_) => "time",
    };
    Some(format!("ENC[AES256_GCM,data:eHg=,iv:eXk=,tag:eno=,type:{ty}]"))
}

/// The literal the envelope sets on a decrypted number or boolean: the source spelling when
/// Go's strconv reads it as the same value, else the canonical text (see `src/envelope/walk.rs`).
fn decrypted_literal(l: &Leaf) -> Option<String> {
    let lit = l.literal.as_deref().unwrap_or("");
    match l.value {
        Scalar::Int(i) => {
            let d = lit.strip_prefix(['+', '-']).unwrap_or(lit);
            let ok = !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && lit.parse::<i64>() == Ok(i);
            Some(if ok { lit.to_string() } else { i.to_string() })
        }
        Scalar::Float(f) => {
            let ok = lit.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
                && lit.parse::<f64>().is_ok_and(|p| p.to_bits() == f.to_bits());
            Some(if ok { lit.to_string() } else { crate::format_float(f) })
        }
        Scalar::Bool(b) => Some(if b { "True" } else { "False" }.to_string()),
        _ => None,
    }
}

fn visit(node: &mut Node, leaf: &mut dyn FnMut(&mut Leaf), comment: &mut dyn FnMut(&mut Comment)) {
    match node {
        Node::Alias(a) => visit(&mut a.node, leaf, comment),
        Node::Leaf(l) => leaf(l),
        Node::Map(items) => {
            for i in items {
                match i {
                    MapItem::Entry(e) => visit(&mut e.value, leaf, comment),
                    MapItem::Comment(c) => comment(c),
                }
            }
        }
        Node::Seq(items) => {
            for i in items {
                match i {
                    SeqItem::Node { node, .. } => visit(node, leaf, comment),
                    SeqItem::Comment(c) => comment(c),
                }
            }
        }
    }
}

/// Simulates encryption then decryption: every value and comment replaced by an ENC token,
/// written, parsed again, then the original values put back the way the envelope does.
fn encrypt_decrypt(src: &str) -> (String, String) {
    let original = toml(src);
    let mut leaves: Vec<Leaf> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut doc = original.clone();
    visit(
        &mut doc.roots[0].node,
        &mut |l| {
            leaves.push(l.clone());
            if let Some(t) = enc_token(&l.value) {
                l.value = Scalar::Str(t);
                l.changed = true;
            }
        },
        &mut |c| {
            comments.push(c.text.clone());
            if !c.text.is_empty() {
                c.text = "ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment]".into();
                c.changed = true;
            }
        },
    );
    let encrypted = write(&doc, src, opts()).unwrap();
    let mut back = toml(&encrypted);
    let (mut li, mut ci) = (leaves.into_iter(), comments.into_iter());
    visit(
        &mut back.roots[0].node,
        &mut |l| {
            let orig = li.next().expect("same shape");
            if enc_token(&orig.value).is_some() {
                assert!(matches!(&l.value, Scalar::Str(s) if s.starts_with("ENC[")), "{encrypted}");
                l.literal = decrypted_literal(&orig);
                l.value = orig.value.clone();
                l.changed = true;
            }
        },
        &mut |c| {
            let orig = ci.next().expect("same shape");
            if !orig.is_empty() {
                c.text = orig;
                c.changed = true;
            }
        },
    );
    assert!(li.next().is_none() && ci.next().is_none(), "same shape");
    (encrypted.clone(), write(&back, &encrypted, opts()).unwrap())
}

#[test]
fn spellings_go_strconv_cannot_read_come_back_canonical() {
    let src = include_str!("../../tests/spellings/lossy.toml");
    let (_, decrypted) = encrypt_decrypt(src);
    let want = src
        .replace("0xDEAD_BEEF", "3735928559")
        .replace("0o755", "493")
        .replace("0b1101", "13")
        .replace("1_000_000", "1000000")
        .replace("224_617.445_991", "224617.445991")
        .replace("[inf, -inf, nan, +inf]", "[inf, -inf, nan, inf]")
        .replace("\\u00e9", "é")
        .replace(
            "brown \\\n       fox jumps over \\\n       the lazy dog.\\\n       ",
            "brown fox jumps over the lazy dog.",
        );
    assert_eq!(decrypted, want);
    let doc = toml(src);
    assert!(matches!(leaf(&doc, &["hex"]).value, Scalar::Int(0xDEAD_BEEF)));
    assert_eq!(leaf(&doc, &["hex"]).literal.as_deref(), Some("0xDEAD_BEEF"));
    assert!(matches!(leaf(&doc, &["oct"]).value, Scalar::Int(0o755)));
    assert!(matches!(leaf(&doc, &["float6"]).value, Scalar::Float(f) if f == 224_617.445_991));
    assert!(
        matches!(&leaf(&doc, &["ml_cont"]).value, Scalar::Str(s) if s == "The quick brown fox jumps over the lazy dog.")
    );
    assert!(matches!(&leaf(&doc, &["title"]).value, Scalar::Str(s) if s == "TOML \"example\" é"));
    assert_eq!(write(&doc, src, opts()).unwrap(), src);
}

#[test]
fn corpus_survives_encryption_and_decryption() {
    let mut n = 0;
    for (name, src) in corpus() {
        let (encrypted, decrypted) = encrypt_decrypt(&src);
        assert_eq!(decrypted, src, "{name}:\n{encrypted}");
        n += 1;
    }
    assert!(n >= 16);
}

fn leaf<'a>(doc: &'a Document, path: &[&str]) -> &'a Leaf {
    let mut node = &doc.roots[0].node;
    for k in path {
        node = &node.get(k).unwrap_or_else(|| panic!("no {k}")).value;
    }
    match node {
        Node::Leaf(l) => l,
        _ => panic!("not a leaf"),
    }
}

#[test]
fn scalars_types_and_styles() {
    let src = include_str!("../../tests/corpus/toml/synthetic__everything.toml");
    let doc = toml(src);
    let s = |p: &[&str]| match &leaf(&doc, p).value {
        Scalar::Str(s) => s.clone(),
        _ => panic!("{p:?} is not a string"),
    };
    assert_eq!(s(&["title"]), "TOML \"example\" é");
    assert_eq!(leaf(&doc, &["title"]).style, Style::DoubleQuoted);
    assert_eq!(s(&["literal"]), "C:\\Users\\nodejs\\templates");
    assert_eq!(leaf(&doc, &["literal"]).style, Style::SingleQuoted);
    assert_eq!(s(&["dotted", "key", "here"]), "nested");
    assert!(matches!(leaf(&doc, &["plus"]).value, Scalar::Int(99)));
    assert!(matches!(leaf(&doc, &["float4"]).value, Scalar::Float(f) if f == 5e22));
    assert!(matches!(&leaf(&doc, &["odt1"]).value, Scalar::Time(t) if t == "1979-05-27T07:32:00Z"));
    assert!(matches!(&leaf(&doc, &["odt3"]).value, Scalar::Time(t) if t == "1979-05-27T00:32:00.999999-07:00"));
    for k in ["odt4", "odt5", "ldt1", "ldt2", "ld1", "lt1", "lt2"] {
        assert_eq!(leaf(&doc, &[k]).style, Style::Plain, "{k}");
        assert!(matches!(leaf(&doc, &[k]).value, Scalar::Str(_)), "{k}");
    }
    assert_eq!(s(&["ml_basic"]), "Roses are red\nViolets are \"blue");
    assert_eq!(leaf(&doc, &["ml_basic"]).style, Style::Folded);
    assert_eq!(s(&["ml_cont"]), "The quick brown fox jumps over the lazy dog.");
    assert_eq!(s(&["quotes"]), "Here are two quotation marks: \"\". Simple enough.");
    assert_eq!(
        s(&["ml_lit"]),
        "The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"
    );
    assert_eq!(leaf(&doc, &["ml_lit"]).style, Style::Literal);
    assert_eq!(s(&["table", "sub", "deep"]), "yes");
    assert!(matches!(leaf(&doc, &["a", "b", "c", "d"]).value, Scalar::Int(1)));
    assert!(matches!(leaf(&doc, &["a", "b", "f"]).value, Scalar::Int(3)));
    assert!(matches!(leaf(&doc, &["fruit", "apple", "taste", "sweet"]).value, Scalar::Bool(true)));
    assert!(matches!(leaf(&doc, &["fruit", "apple", "texture", "smooth"]).value, Scalar::Bool(true)));
    assert_eq!(s(&["quoted.header", "with spaces", "k"]), "v");
    assert_eq!(s(&["spaced", "header", "k"]), "v");
    let Node::Seq(products) = &doc.roots[0].node.get("products").unwrap().value else { panic!() };
    assert_eq!(products.len(), 3);
    let SeqItem::Node { node: third, start } = &products[2] else { panic!() };
    assert!(src[*start..].starts_with("[[products]]\nname = \"Nail\""));
    assert!(third.get("details").is_some() && third.get("parts").is_some());
    let v = Value::from_node(&doc.roots[0].node);
    let Some(Value::Seq(infs)) = v.get("infs") else { panic!() };
    assert_eq!(infs.len(), 3);
    let Node::Seq(arr) = &doc.roots[0].node.get("multiline_arr").unwrap().value else { panic!() };
    let kinds: Vec<bool> = arr.iter().map(|i| matches!(i, SeqItem::Comment(_))).collect();
    assert_eq!(kinds, [true, false, true, false, true]);
    // Comments belong to the table they are written in.
    let table = &doc.roots[0].node.get("table").unwrap().value;
    let Node::Map(items) = table else { panic!() };
    let texts: Vec<&str> =
        items.iter().filter_map(|i| if let MapItem::Comment(c) = i { Some(c.text.as_str()) } else { None }).collect();
    assert_eq!(texts, [" header comment", " indented comment"]);
}

#[test]
fn changed_leaves_keep_their_kind_of_slot() {
    let cases: &[(&str, Scalar, &str)] = &[
        ("k = 'lit'\n", Scalar::Str("new".into()), "k = 'new'\n"),
        ("k = 'lit'\n", Scalar::Str("it's".into()), "k = \"it's\"\n"),
        ("k = \"b\"\n", Scalar::Str("a\"b\\c\td\u{1}".into()), "k = \"a\\\"b\\\\c\\td\\u0001\"\n"),
        ("k = \"\"\"\nx\"\"\"\n", Scalar::Str("y\nz\"".into()), "k = \"\"\"\ny\nz\\\"\"\"\"\n"),
        ("k = \"\"\"x\"\"\"\n", Scalar::Str("\nlead".into()), "k = \"\"\"\n\nlead\"\"\"\n"),
        ("k = '''\nx'''\n", Scalar::Str("a'''b".into()), "k = \"\"\"\na'''b\"\"\"\n"),
        ("k = 1\n", Scalar::Str("ENC[x]".into()), "k = \"ENC[x]\"\n"),
        ("k = 1979-05-27\n", Scalar::Str("ENC[x]".into()), "k = '''ENC[x]'''\n"),
        ("k = 1979-05-27T07:32:00Z\n", Scalar::Str("ENC[x]".into()), "k = \"ENC[x]\"\n"),
        ("k = '''ENC[x]'''\n", Scalar::Str("1979-05-27".into()), "k = 1979-05-27\n"),
        ("k = '''ENC[x]'''\n", Scalar::Str("07:32:00".into()), "k = 07:32:00\n"),
        ("k = \"ENC[x]\"\n", Scalar::Str("1979-05-27".into()), "k = \"1979-05-27\"\n"),
        ("k = \"x\"\n", Scalar::Int(-5), "k = -5\n"),
        ("k = \"x\"\n", Scalar::Float(1000.0), "k = 1000.0\n"),
        ("k = \"x\"\n", Scalar::Float(f64::NEG_INFINITY), "k = -inf\n"),
        ("k = \"x\"\n", Scalar::Float(f64::NAN), "k = nan\n"),
        ("k = \"x\"\n", Scalar::Bool(false), "k = false\n"),
        ("k = \"x\"\n", Scalar::Time("2024-01-02T03:04:05Z".into()), "k = 2024-01-02T03:04:05Z\n"),
    ];
    for (src, v, want) in cases {
        let mut doc = toml(src);
        let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
        let MapItem::Entry(e) = &mut items[0] else { panic!() };
        let Node::Leaf(l) = &mut e.value else { panic!() };
        l.value = v.clone();
        l.literal = None;
        l.changed = true;
        let out = write(&doc, src, opts()).unwrap();
        assert_eq!(out, *want, "{src:?}");
        toml(&out);
    }
}

#[test]
fn literals_are_kept_when_they_still_read_as_the_value() {
    let src = "a = 0x1F\nb = 1e3\nc = 2024-01-02T03:04:05.5Z\n";
    let mut doc = toml(src);
    let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
    for i in items.iter_mut() {
        if let MapItem::Entry(e) = i {
            if let Node::Leaf(l) = &mut e.value {
                l.changed = true;
            }
        }
    }
    assert_eq!(write(&doc, src, opts()).unwrap(), src);
    let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
    let MapItem::Entry(e) = &mut items[0] else { panic!() };
    let Node::Leaf(l) = &mut e.value else { panic!() };
    l.value = Scalar::Int(32);
    assert_eq!(write(&doc, src, opts()).unwrap(), src.replace("0x1F", "32"));
}

#[test]
fn null_cannot_be_written() {
    let src = "[t]\nk = 1\n";
    let mut doc = toml(src);
    let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
    let MapItem::Entry(t) = &mut items[0] else { panic!() };
    let Node::Map(items) = &mut t.value else { panic!() };
    let MapItem::Entry(e) = &mut items[0] else { panic!() };
    let Node::Leaf(l) = &mut e.value else { panic!() };
    l.value = Scalar::Null;
    l.changed = true;
    let err = write(&doc, src, opts()).unwrap_err();
    assert!(err.message.contains("t:k") && err.message.contains("null"), "{}", err.message);
}

#[test]
fn emit_writes_tables_and_arrays_of_tables() {
    let json = crate::parse(
        Format::Json,
        r#"{"title": "x", "n": 1, "f": 1.5, "ok": true, "list": [1, "a", [2], {"in": "line"}],
            "server": {"host": "h", "ports": [80, 443], "tls": {"on": false}, "empty": {}},
            "users": [{"name": "a", "roles": [{"r": 1}]}, {"name": "b"}],
            "text": "l1\nl2", "weird key": "q", "sops": {"old": "1"}}"#,
    )
    .unwrap();
    let out = crate::emit(&json, Format::Toml, opts()).unwrap();
    assert_eq!(
        out,
        "title = \"x\"\nn = 1\nf = 1.5\nok = true\nlist = [1, \"a\", [2], { in = \"line\" }]\n\
         text = \"\"\"\nl1\nl2\"\"\"\n\"weird key\" = \"q\"\n\n\
         [server]\nhost = \"h\"\nports = [80, 443]\n\n[server.tls]\non = false\n\n[server.empty]\n\n\
         [[users]]\nname = \"a\"\n\n[[users.roles]]\nr = 1\n\n[[users]]\nname = \"b\"\n\n[sops]\nold = \"1\"\n"
    );
    let back = toml(&out);
    assert_eq!(normal(&Value::from_node(&back.roots[0].node)), normal(&Value::from_node(&json.roots[0].node)));
    let m = Value::Map(vec![("version".into(), Value::str("3.11.0"))]);
    let with = crate::emit(&json, Format::Toml, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
    assert!(with.ends_with("[sops]\nversion = \"3.11.0\"\n") && with.matches("[sops]").count() == 1, "{with}");
    let yaml = crate::parse(Format::Yaml, "# c\na: 1\nb:\n  c: null\n").unwrap();
    let err = crate::emit(&yaml, Format::Toml, opts()).unwrap_err();
    assert!(err.message.contains("b:c"), "{}", err.message);
    let toml_doc = toml("# head\na = 1 # tail\n[t]\n# in t\nb = 2\n");
    assert_eq!(crate::emit(&toml_doc, Format::Toml, opts()).unwrap(), "# head\na = 1\n# tail\n\n[t]\n# in t\nb = 2\n");
}

#[test]
fn malformed_input_is_rejected_with_position() {
    let bad: &[(&str, &str, (usize, usize))] = &[
        ("a = 1\nb = \n", "expected a value", (2, 5)),
        ("a = 1\na = 2\n", "duplicate key", (2, 1)),
        ("[t]\n[t]\n", "defined twice", (2, 2)),
        ("a = 1\n[a]\n", "holds a value", (2, 2)),
        ("a = \"x\n", "unterminated string", (1, 5)),
        ("a = \"\"\"x\n", "unterminated multi-line", (1, 5)),
        ("a = [1, 2\n", "unterminated array", (1, 5)),
        ("a = {x = 1\n", "unterminated inline table", (1, 5)),
        ("a = 1 b = 2\n", "end of the line", (1, 7)),
        ("a = 01\n", "invalid value", (1, 5)),
        ("a = 1__0\n", "invalid value", (1, 5)),
        ("a = 0x\n", "invalid value", (1, 5)),
        ("a = 1.\n", "invalid value", (1, 5)),
        ("a = 9223372036854775808\n", "invalid value", (1, 5)),
        ("a = 1979-02-30\n", "invalid value", (1, 5)),
        ("a = True\n", "invalid value", (1, 5)),
        ("a = \"\\q\"\n", "escape", (1, 6)),
        ("a = \"\\uD800\"\n", "unicode", (1, 6)),
        ("a\n", "expected '='", (1, 2)),
        ("= 1\n", "expected a key", (1, 1)),
        ("[a\n", "expected ']'", (1, 3)),
        ("[[a]\n", "']]'", (1, 4)),
        ("[a]]\n", "end of the line", (1, 4)),
        ("a = 1\r", "carriage return", (1, 6)),
        ("a = \"\u{1}\"\n", "control character", (1, 6)),
        ("# bad \u{7f}\n", "control character", (1, 7)),
        ("a = {b = 1}\na.c = 2\n", "inline table", (2, 1)),
        ("a = {b = 1}\n[a.c]\n", "inline table", (2, 2)),
        ("[a]\nb.c = 1\n[a.b]\n", "dotted keys", (3, 4)),
        ("a = [1]\n[[a]]\n", "not an array of tables", (2, 3)),
        ("[[a]]\n[a]\n", "array of tables", (2, 2)),
        ("a = '''x''''''\n", "too many quotes", (1, 14)),
        ("\"\"\"k\"\"\" = 1\n", "multi-line", (1, 1)),
    ];
    for (src, msg, pos) in bad {
        match parse(Format::Toml, src) {
            Ok(_) => panic!("accepted {src:?}"),
            Err(e) => {
                assert!(e.message.contains(msg), "{src:?}: {} (wanted {msg:?})", e.message);
                assert_eq!((e.line, e.column), *pos, "{src:?}: {}", e.message);
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse(Format::Toml, &deep).unwrap_err().message.contains("too deep"));
    let keys = vec!["k"; 100_000].join(".");
    assert!(parse(Format::Toml, &format!("{keys} = 1\n")).unwrap_err().message.contains("too deep"));
    assert!(parse(Format::Toml, &format!("[{keys}]\n")).unwrap_err().message.contains("too deep"));
    let ok = format!("a = {}{}\n", "[".repeat(300), "]".repeat(300));
    let doc = toml(&ok);
    assert_eq!(write(&doc, &ok, opts()).unwrap(), ok);
    assert!(crate::emit(&doc, Format::Toml, opts()).is_ok());
}

#[test]
fn mutated_inputs_never_panic() {
    let mut bases: Vec<String> = LAYOUTS.iter().map(|s| s.to_string()).collect();
    bases.push(include_str!("../../tests/corpus/toml/synthetic__everything.toml").to_string());
    bases.push(include_str!("../../tests/corpus/toml/tokio-rs__tokio__Cargo.toml").to_string());
    let pieces = [
        "=",
        "\"",
        "'",
        "'''",
        "\"\"\"",
        "#",
        "\n",
        "\r\n",
        "[",
        "]",
        "[[",
        "]]",
        "{",
        "}",
        ",",
        ".",
        "\\",
        "1979-05-27",
        " ",
        "é",
        "\t",
        "0x",
        "_",
        "e",
        "sops",
        "[sops]\n",
    ];
    let m = meta();
    let mut parsed = 0;
    for base in &bases {
        for src in crate::mutate::mutations(base, 300, &pieces, 0x2545_f491_4f6c_dd1d) {
            let Ok(doc) = parse(Format::Toml, &src) else { continue };
            parsed += 1;
            assert_eq!(write(&doc, &src, opts()).unwrap(), src, "{src:?}");
            let _ = crate::emit(&doc, Format::Toml, opts());
            let _ = crate::metadata(&doc);
            if crate::has_metadata(&doc) {
                let _ = write(&doc, &src, WriteOptions { strip_metadata: true, ..opts() });
                continue;
            }
            let with = write(&doc, &src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            let again = parse(Format::Toml, &with).unwrap_or_else(|e| panic!("{src:?} -> {with:?}: {e}"));
            let back = write(&again, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
            assert_eq!(back, src, "{with:?}");
        }
    }
    assert!(parsed > 300, "{parsed}");
}

#[test]
fn foreign_documents_are_rejected_not_panicked() {
    let mut doc = toml("long_key_name = \"value\"\n");
    let Node::Map(items) = &mut doc.roots[0].node else { panic!() };
    let MapItem::Entry(e) = &mut items[0] else { panic!() };
    let Node::Leaf(l) = &mut e.value else { panic!() };
    l.value = Scalar::Str("x".into());
    l.changed = true;
    assert!(write(&doc, "a = 1", opts()).is_err());
    assert!(write(&doc, "", opts()).is_err());
    assert!(write(&doc, "é = 'ü'", WriteOptions { strip_metadata: true, ..opts() }).is_err());
    let json = crate::parse(Format::Json, "{\"a\": 1}").unwrap();
    assert!(crate::toml::write(&json, "{", WriteOptions { strip_metadata: true, ..opts() }).is_err());
}
