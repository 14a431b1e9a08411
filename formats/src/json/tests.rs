use super::parse::MAX_DEPTH;
use super::write::{plain_json, quote, scalar_json};
use super::*;
use crate::model::{Document, Entry, Leaf, MapItem, Node, Scalar, SeqItem, Style};
use crate::testing::{opts, set};
use crate::value::Value;
use crate::{Format, WriteOptions};

fn entries(doc: &Document) -> Vec<&Entry> {
    match &doc.roots[0].node {
        Node::Map(items) => items.iter().filter_map(MapItem::entry).collect(),
        _ => panic!("root is not a map"),
    }
}

fn leaf<'a>(doc: &'a Document, key: &str) -> &'a Leaf {
    match &doc.roots[0].node.get(key).expect("key").value {
        Node::Leaf(l) => l,
        _ => panic!("not a leaf"),
    }
}

fn meta() -> Value {
    Value::Map(vec![
        (
            "age".into(),
            Value::Seq(vec![Value::Map(vec![
                ("recipient".into(), Value::str("age1xyz")),
                ("enc".into(), Value::str("-----BEGIN AGE-----\nabc\n-----END AGE-----\n")),
            ])]),
        ),
        ("lastmodified".into(), Value::str("2024-01-02T03:04:05Z")),
        ("mac".into(), Value::str("ENC[x]")),
        ("version".into(), Value::str("3.11.0")),
    ])
}

const LAYOUTS: &[&str] = &[
    "{\n\t\"a\": \"x\",\n\t\"b\": {\n\t\t\"c\": [1, 2.5, true, null]\n\t}\n}\n",
    "{\n  \"a\": \"x\",\n  \"b\": {\n    \"c\": [1, 2.5, true, null]\n  }\n}\n",
    "{\n    \"a\": \"x\",\n    \"b\": {\n        \"c\": [1, 2.5, true, null]\n    }\n}\n",
    "{\"a\":\"x\",\"b\":{\"c\":[1,2.5,true,null]}}",
    "{ \"a\" : \"x\" , \"b\" : { } }",
    "{\r\n  \"a\": \"x\",\r\n  \"b\": [\r\n    1\r\n  ]\r\n}\r\n",
    "{\n  \"a\": \"x\"\n}",
    "\u{FEFF}{\n\t\"a\": \"é\"\n}\n",
    "{}",
    "{ }",
    "{\n}\n",
    "  {}  \n",
    "{\n\"a\": 1,\n\"b\": {\n  \"c\": 2\n}\n}\n",
];

#[test]
fn unchanged_round_trip_is_identical() {
    for src in LAYOUTS {
        let doc = parse(src).unwrap();
        assert_eq!(write(&doc, src, opts()).unwrap(), *src);
    }
}

#[test]
fn metadata_insert_then_strip_is_identity() {
    let m = meta();
    for src in LAYOUTS {
        let doc = parse(src).unwrap();
        let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        let parsed = parse(&with).unwrap_or_else(|e| panic!("{e}: {with}"));
        assert_eq!(crate::metadata(&parsed), Some(m.clone()), "{with}");
        assert_eq!(entries(&parsed).last().unwrap().key, "sops");
        let stripped = write(&parsed, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
        assert_eq!(stripped, *src, "{with}");
        // Re-encrypting: old metadata replaced, not duplicated.
        let again = write(&parsed, &with, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        assert_eq!(again, with);
    }
}

#[test]
fn metadata_follows_the_file_layout() {
    let m = Value::Map(vec![("a".into(), Value::Seq(vec![Value::str("x")])), ("v".into(), Value::str("1"))]);
    let with = |src: &str, indent: Option<usize>| {
        let doc = parse(src).unwrap();
        write(&doc, src, WriteOptions { metadata: Some(&m), indent, ..opts() }).unwrap()
    };
    assert_eq!(
        with("{\n\t\"k\": 1\n}\n", None),
        "{\n\t\"k\": 1,\n\t\"sops\": {\n\t\t\"a\": [\n\t\t\t\"x\"\n\t\t],\n\t\t\"v\": \"1\"\n\t}\n}\n"
    );
    assert_eq!(
        with("{\n  \"k\": 1\n}", None),
        "{\n  \"k\": 1,\n  \"sops\": {\n    \"a\": [\n      \"x\"\n    ],\n    \"v\": \"1\"\n  }\n}"
    );
    assert_eq!(
        with("{\n  \"k\": 1\n}", Some(4)),
        "{\n  \"k\": 1,\n  \"sops\": {\n      \"a\": [\n          \"x\"\n      ],\n      \"v\": \"1\"\n  }\n}"
    );
    assert_eq!(with("{\"k\":1}", None), "{\"k\":1,\"sops\":{\"a\":[\"x\"],\"v\":\"1\"}}");
    assert_eq!(with("{}", None), "{\n\t\"sops\": {\n\t\t\"a\": [\n\t\t\t\"x\"\n\t\t],\n\t\t\"v\": \"1\"\n\t}\n}");
    assert_eq!(with("{\r\n  \"k\": 1\r\n}\r\n", None).matches("\r\n").count(), 9);
}

#[test]
fn strip_removes_sops_anywhere() {
    let cases = [
        ("{\n  \"sops\": {},\n  \"a\": 1\n}", "{\n  \"a\": 1\n}"),
        ("{\"a\":1,\"sops\":{\"x\":[1]},\"b\":2}", "{\"a\":1,\"b\":2}"),
        ("{\"sops\":1,\"sops\":2}", "{}"),
        ("{\"sops\":1,\"a\":1,\"sops\":2}", "{\"a\":1}"),
        ("{\"a\":{\"sops\":1}}", "{\"a\":{\"sops\":1}}"),
    ];
    for (src, want) in cases {
        let doc = parse(src).unwrap();
        assert_eq!(write(&doc, src, WriteOptions { strip_metadata: true, ..opts() }).unwrap(), want);
    }
}

#[test]
fn changed_leaf_replaces_only_its_span() {
    let src = "{\n  \"a\": \"x\",  \"n\": 1.50, \"b\": true,\n  \"z\": null\n}\n";
    let mut doc = parse(src).unwrap();
    set(&mut doc, "n", Scalar::Str("ENC[a\"b]".into()));
    assert_eq!(write(&doc, src, opts()).unwrap(), src.replace("1.50", "\"ENC[a\\\"b]\""));
    set(&mut doc, "a", Scalar::Float(1.0));
    set(&mut doc, "b", Scalar::Int(-7));
    set(&mut doc, "z", Scalar::Time("2024-01-02T03:04:05Z".into()));
    let out = write(&doc, src, opts()).unwrap();
    assert_eq!(out, "{\n  \"a\": 1,  \"n\": \"ENC[a\\\"b]\", \"b\": -7,\n  \"z\": \"2024-01-02T03:04:05Z\"\n}\n");
}

#[test]
fn decrypted_text_is_what_write_produces() {
    let doc = parse("{\"a\": \"caf\\u00e9\", \"n\": 1.50, \"m\": 7}").unwrap();
    assert_eq!(decrypted_text(leaf(&doc, "a"), None).unwrap(), "\"café\"");
    assert_eq!(decrypted_text(leaf(&doc, "n"), Some("1.50")).unwrap(), "1.50");
    assert_eq!(decrypted_text(leaf(&doc, "m"), Some("7")).unwrap(), "7");
}

/// Whether decryption writes a leaf's source text back, decided without the quoted copy for
/// strings with nothing to escape, is what comparing the copy decides: for source texts with
/// and without escapes, of every kind of value, in objects and arrays.
#[test]
fn a_plain_string_is_compared_with_its_source_where_it_is() {
    let src = r#"{"a": "x", "b": "caf\u00e9", "c": "café", "d": "a\/b", "e": "", "f": "q\"q",
        "g": 1.50, "h": 7, "i": true, "j": null, "k": ["x", "\u0041", "tab\t", 2e3],
        "l": "ENC[AES256_GCM,data:eA==,iv:aXY=,tag:dGFn,type:str]", "m": "\\"}"#;
    let doc = parse(src).unwrap();
    let mut leaves = Vec::new();
    let mut stack = vec![&doc.roots[0].node];
    while let Some(node) = stack.pop() {
        match node {
            Node::Map(items) => stack.extend(items.iter().filter_map(MapItem::entry).map(|e| &e.value)),
            Node::Seq(items) => stack.extend(items.iter().filter_map(|i| match i {
                SeqItem::Node { node, .. } => Some(node),
                SeqItem::Comment(_) => None,
            })),
            Node::Leaf(leaf) => leaves.push(leaf),
            Node::Alias(_) => {}
        }
    }
    assert_eq!(leaves.len(), 16);
    let (mut same, mut differ) = (0, 0);
    for leaf in leaves {
        let source = &src[leaf.span.start..leaf.span.end];
        // A number's payload is its text as encrypted: the source's, or another spelling.
        let payloads: &[Option<&str>] = match &leaf.value {
            Scalar::Int(_) | Scalar::Float(_) => &[Some(source), Some("2000"), Some("1.5"), None],
            _ => &[None],
        };
        for &payload in payloads {
            let expected = crate::decrypted_text(Format::Json, None, src, leaf, payload).map(|t| t != source);
            let found = crate::decrypted_text_differs(Format::Json, None, src, leaf, payload, source);
            assert_eq!(found, expected, "{source} as {payload:?}");
            match expected {
                Some(true) => differ += 1,
                _ => same += 1,
            }
        }
    }
    assert!(same >= 12 && differ >= 8, "{same} written back, {differ} not");
}

#[test]
fn nan_cannot_be_written() {
    let src = "{\"secret\": 1}";
    let mut doc = parse(src).unwrap();
    set(&mut doc, "secret", Scalar::Float(f64::NAN));
    let err = write(&doc, src, opts()).unwrap_err();
    assert!(err.message.contains("secret") && err.message.contains("NaN"), "{}", err.message);
    set(&mut doc, "secret", Scalar::Float(f64::INFINITY));
    assert!(emit(&doc, opts()).is_err());
}

/// Every integer of the int64 range is read exactly, as sops 3.13.2 reads JSON
/// (getsops/sops#2222); beyond it, a float, as in sops.
#[test]
fn integers_keep_every_digit_of_the_int64_range() {
    let src = "{\"a\": 9007199254740993, \"min\": -9223372036854775808, \"max\": 9223372036854775807, \"over\": 9223372036854775808, \"e\": 9007199254740993e0}";
    let doc = parse(src).unwrap();
    assert!(matches!(leaf(&doc, "a").value, Scalar::Int(9007199254740993)));
    assert!(matches!(leaf(&doc, "min").value, Scalar::Int(i64::MIN)));
    assert!(matches!(leaf(&doc, "max").value, Scalar::Int(i64::MAX)));
    assert!(matches!(leaf(&doc, "over").value, Scalar::Float(f) if f == 9223372036854775808.0));
    assert!(matches!(leaf(&doc, "e").value, Scalar::Float(_)));
}

#[test]
fn scalars_and_spans() {
    let src = "{\"s\": \"q\", \"i\": -42, \"big\": 12345678901234567890, \"f\": 1e3, \"z\": -0,\n \"t\": true, \"f2\": false, \"n\": null, \"l\": [1, {\"x\": 2}]}";
    let doc = parse(src).unwrap();
    assert!(matches!(leaf(&doc, "s").value, Scalar::Str(ref s) if s == "q"));
    assert_eq!(leaf(&doc, "s").style, Style::DoubleQuoted);
    assert_eq!(&src[leaf(&doc, "s").span.start..leaf(&doc, "s").span.end], "\"q\"");
    assert!(matches!(leaf(&doc, "i").value, Scalar::Int(-42)));
    assert_eq!(leaf(&doc, "i").style, Style::Plain);
    assert!(matches!(leaf(&doc, "big").value, Scalar::Float(f) if f == 12345678901234567890.0));
    assert!(matches!(leaf(&doc, "f").value, Scalar::Float(f) if f == 1000.0));
    assert!(matches!(leaf(&doc, "z").value, Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
    assert!(matches!(leaf(&doc, "t").value, Scalar::Bool(true)));
    assert!(matches!(leaf(&doc, "f2").value, Scalar::Bool(false)));
    assert!(matches!(leaf(&doc, "n").value, Scalar::Null));
    let e = doc.roots[0].node.get("l").unwrap();
    assert_eq!(&src[e.span.start..e.span.end], "\"l\": [1, {\"x\": 2}]");
    let Node::Seq(items) = &e.value else { panic!() };
    let starts: Vec<usize> =
        items.iter().map(|i| if let SeqItem::Node { start, .. } = i { *start } else { 0 }).collect();
    assert_eq!(&src[starts[0]..starts[0] + 1], "1");
    assert_eq!(&src[starts[1]..starts[1] + 1], "{");
    assert_eq!(doc.roots[0].end, src.len() - 1);
    assert_eq!(doc.format, Format::Json);
}

#[test]
fn duplicate_keys_are_kept() {
    let doc = parse("{\"a\": 1, \"a\": 2}").unwrap();
    assert_eq!(entries(&doc).len(), 2);
}

#[test]
fn indent_is_detected() {
    assert_eq!(parse(LAYOUTS[0]).unwrap().indent, None);
    assert_eq!(parse(LAYOUTS[1]).unwrap().indent, Some(2));
    assert_eq!(parse(LAYOUTS[2]).unwrap().indent, Some(4));
    assert_eq!(parse(LAYOUTS[3]).unwrap().indent, None);
    assert_eq!(parse(LAYOUTS[12]).unwrap().indent, Some(2));
}

#[test]
fn escapes_decode_and_encode() {
    let src = r#"{"k\"ey": "\"\\\/\b\f\n\r\t\u00e9\u0001\ud83d\ude00 é/<>&"}"#;
    let doc = parse(src).unwrap();
    let e = entries(&doc)[0];
    assert_eq!(e.key, "k\"ey");
    let Node::Leaf(l) = &e.value else { panic!() };
    let want = "\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1}\u{1F600} é/<>&";
    assert!(matches!(&l.value, Scalar::Str(s) if s == want));
    assert_eq!(quote(want), r#""\"\\/\b\f\n\r\té\u0001😀 é/<>&""#);
    let back = parse(&format!("{{\"k\": {}}}", quote(want))).unwrap();
    assert!(matches!(&leaf(&back, "k").value, Scalar::Str(s) if s == want));
}

#[test]
fn floats_are_written_as_go_and_sops_write_them() {
    let f = |v: f64| scalar_json(&Scalar::Float(v), &[]).unwrap();
    assert_eq!(f(1.0), "1");
    assert_eq!(f(0.5), "0.5");
    assert_eq!(f(-0.0), "-0");
    assert_eq!(f(1e15), "1000000000000000");
    assert_eq!(f(1e21), "1e+21");
    assert_eq!(f(1e-7), "1e-7");
    let back = parse(&format!("{{\"x\": {}}}", f(1.5e300))).unwrap();
    assert!(matches!(leaf(&back, "x").value, Scalar::Float(v) if v == 1.5e300));
}

#[test]
fn emit_writes_tabs_or_spaces_and_metadata() {
    let src = "{\"a\": \"x\", \"b\": {\"c\": [1, 2.5, {}], \"d\": []}, \"sops\": {\"old\": 1}}";
    let doc = parse(src).unwrap();
    assert_eq!(
        emit(&doc, opts()).unwrap(),
        "{\n\t\"a\": \"x\",\n\t\"b\": {\n\t\t\"c\": [\n\t\t\t1,\n\t\t\t2.5,\n\t\t\t{}\n\t\t],\n\t\t\"d\": []\n\t},\n\t\"sops\": {\n\t\t\"old\": 1\n\t}\n}\n"
    );
    let m = Value::Map(vec![("v".into(), Value::str("1"))]);
    let out = emit(&doc, WriteOptions { metadata: Some(&m), indent: Some(2), ..opts() }).unwrap();
    assert!(out.starts_with("{\n  \"a\": \"x\",\n  \"b\": {\n    \"c\": [\n      1,"), "{out}");
    assert!(out.ends_with("  },\n  \"sops\": {\n    \"v\": \"1\"\n  }\n}\n"), "{out}");
    assert_eq!(out.matches("sops").count(), 1);
    let empty = Document { format: Format::Json, roots: vec![], indent: None };
    assert_eq!(emit(&empty, opts()).unwrap(), "{}\n");
}

#[test]
fn foreign_documents_are_rejected_not_panicked() {
    let src = "{\"a\": \"x\"}";
    let mut doc = parse(src).unwrap();
    set(&mut doc, "a", Scalar::Int(1));
    assert!(write(&doc, "{}", opts()).is_err());
    assert!(write(&doc, "", opts()).is_err());
    let other = parse("{\"long\": \"é€😀\", \"b\": 1}").unwrap();
    assert!(write(&other, "{\"a\": \"x\"}", opts()).is_err());
}

#[test]
fn malformed_input_is_rejected_with_position() {
    let bad: &[(&str, &str)] = &[
        ("", "top level"),
        ("   ", "top level"),
        ("[1, 2]", "top level"),
        ("\"s\"", "top level"),
        ("42", "top level"),
        ("{", "end of input"),
        ("{\"a\"", "':'"),
        ("{\"a\":", "end of input"),
        ("{\"a\": 1", "end of input"),
        ("{\"a\": 1,", "string key"),
        ("{\"a\": 1,}", "string key"),
        ("{\"a\" 1}", "':'"),
        ("{a: 1}", "string key"),
        ("{\"a\": [1, 2}", "']'"),
        ("{\"a\": [1,]}", "value"),
        ("{\"a\": 1 \"b\": 2}", "','"),
        ("{\"a\": 1}}", "after the top-level"),
        ("{\"a\": 1} x", "after the top-level"),
        ("{} {}", "after the top-level"),
        ("{\"a\": \"unterminated}", "unterminated"),
        ("{\"a\": \"bad \\x escape\"}", "escape"),
        ("{\"a\": \"\\u12g4\"}", "hex"),
        ("{\"a\": \"\\u12\"}", "hex"),
        ("{\"a\": \"\\ud800\"}", "surrogate"),
        ("{\"a\": \"\\ud800\\u0041\"}", "surrogate"),
        ("{\"a\": \"\\udc00\"}", "surrogate"),
        ("{\"a\": \"tab\there\"}", "control"),
        ("{\"a\": \"nl\nhere\"}", "control"),
        ("{\"a\": \"0123456789abcdefghij\u{1}\"}", "control"),
        ("{\"a\": \"unterminated, then \u{2}", "control"),
        ("{\"a\": \"ok \\n then\u{3}\"}", "control"),
        ("{\"a\": 01}", "leading zeros"),
        ("{\"a\": -}", "digit"),
        ("{\"a\": 1.}", "digit"),
        ("{\"a\": .5}", "unexpected character"),
        ("{\"a\": 1e}", "exponent"),
        ("{\"a\": 1e+}", "exponent"),
        ("{\"a\": +1}", "unexpected character"),
        ("{\"a\": 1e400}", "out of range"),
        ("{\"a\": tru}", "literal"),
        ("{\"a\": nul", "literal"),
        ("{\"a\": True}", "unexpected character"),
        ("{\"a\": truex}", "','"),
        ("{\"a\": NaN}", "unexpected character"),
        ("{\"a\": 'x'}", "unexpected character"),
        ("{\"a\": \"x\\", "unterminated"),
        ("\u{FEFF}\u{FEFF}{}", "top level"),
        ("{\"é\": é}", "unexpected character"),
    ];
    for (src, msg) in bad {
        match parse(src) {
            Ok(_) => panic!("accepted {src:?}"),
            Err(e) => assert!(e.message.contains(msg), "{src:?}: {} (wanted {msg:?})", e.message),
        }
    }
    // A control character is found where it stands, past the first 16 bytes of a string too.
    let e = parse("{\"a\": \"0123456789abcdefghij\tx\"}").unwrap_err();
    assert_eq!((e.line, e.column), (1, 28), "{}", e.message);
    let e = parse("{\n  \"a\": 1,\n  \"b\": x\n}").unwrap_err();
    assert_eq!((e.line, e.column), (3, 8));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{{\"a\": {}{}}}", "[".repeat(200_000), "]".repeat(200_000));
    assert!(parse(&deep).unwrap_err().message.contains("nesting too deep"));
    let depth = MAX_DEPTH - 1;
    let ok = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let doc = parse(&ok).unwrap();
    assert_eq!(write(&doc, &ok, opts()).unwrap(), ok);
    assert!(emit(&doc, opts()).is_ok());
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let alphabet = [
        "{", "}", "[", "]", ":", ",", "\"", "\\", "u", "d8", "0", "1", "-", ".", "e", "true", "null", " ", "\n", "é",
        "😀", "\t", "\u{1}", "a",
    ];
    for _ in 0..400 {
        let mut s = String::from("{");
        for _ in 0..rng.below(40) {
            s.push_str(alphabet[rng.below(alphabet.len())]);
        }
        check_no_panic(&s);
        let bytes: Vec<u8> = (0..rng.below(30)).map(|_| rng.next() as u8).collect();
        check_no_panic(&String::from_utf8_lossy(&bytes));
    }
    let base = LAYOUTS[1];
    for _ in 0..400 {
        let mut chars: Vec<char> = base.chars().collect();
        let i = rng.below(chars.len());
        match rng.below(3) {
            0 => drop(chars.remove(i)),
            1 => chars.insert(i, alphabet[rng.below(alphabet.len())].chars().next().unwrap()),
            _ => chars.truncate(i),
        }
        check_no_panic(&chars.into_iter().collect::<String>());
    }
}

fn check_no_panic(src: &str) {
    let m = meta();
    if let Ok(doc) = parse(src) {
        assert_eq!(write(&doc, src, opts()).unwrap(), src);
        let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        let parsed = parse(&with).unwrap();
        assert_eq!(write(&parsed, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap(), src);
        assert!(emit(&doc, opts()).is_ok());
    }
}

/// A string written between the quotes as it is (how an encrypted value replaces another in
/// place) is exactly what quoting it gives.
#[test]
fn strings_with_nothing_to_escape_are_their_quoted_form() {
    for s in ["", "ENC[AES256_GCM,data:aGk=,iv:AAAA,tag:BBBB,type:str]", "é ü € <>&'", "a b\u{7f}"] {
        assert!(plain_json(s), "{s:?}");
        assert_eq!(quote(s), format!("\"{s}\""));
    }
    for s in ["a\"b", "a\\b", "a\nb", "\t", "\u{1}", "\u{1f}"] {
        assert!(!plain_json(s), "{s:?}");
        assert_ne!(quote(s), format!("\"{s}\""));
    }
    // Every ASCII character, before, in and after the first 64-byte block: only controls, the
    // quote and the backslash need escaping, and the quoted form reads back as the string.
    for c in (0..0x80_u8).map(char::from) {
        for at in [0, 63, 64, 100] {
            let s: String = (0..130).map(|i| if i == at { c } else { 'x' }).collect();
            assert_eq!(plain_json(&s), c >= ' ' && c != '"' && c != '\\', "{c:?} at {at}");
            let doc = parse(&format!("{{\"k\": {}}}", quote(&s))).unwrap();
            let Node::Map(items) = &doc.roots[0].node else { panic!("not a mapping") };
            let value = &items.iter().find_map(MapItem::entry).expect("an entry").value;
            assert!(matches!(value, Node::Leaf(l) if l.value == Scalar::Str(s.clone())), "{c:?} at {at}");
        }
    }
}

/// NaN has no JSON form: writing it is an error that names the value's key path (items by
/// index), not a panic.
#[test]
fn a_nan_in_place_is_an_error_naming_its_key_path() {
    let src = "{\"a\": [1, {\"b\": 2}], \"c\": 3}";
    let mut doc = parse(src).unwrap();
    let Node::Map(items) = &mut doc.roots[0].node else { panic!("not a mapping") };
    let MapItem::Entry(a) = &mut items[0] else { panic!("not an entry") };
    let Node::Seq(seq) = &mut a.value else { panic!("not a sequence") };
    let SeqItem::Node { node: Node::Map(inner), .. } = &mut seq[1] else { panic!("not a mapping") };
    let MapItem::Entry(Entry { value: Node::Leaf(leaf), .. }) = &mut inner[0] else { panic!("not a leaf") };
    (leaf.value, leaf.changed) = (Scalar::Float(f64::NAN), true);
    let e = write(&doc, src, opts()).unwrap_err().to_string();
    assert!(e.contains("key path a:1:b holds NaN"), "{e}");
    set(&mut doc, "c", Scalar::Str("x".into()));
    assert!(write(&doc, src, opts()).is_err());
}

/// An integer literal is taken for a float value only where writing the literal gives the text
/// the float would be written as: every integer up to 2^53 either way, none beyond (where the
/// float is often not that integer; where it is, the float is formatted); a negative zero is
/// written as the float it reads as.
#[test]
fn an_integer_literal_stands_for_a_float_exactly_where_it_is_the_floats_text() {
    let limit = 1i64 << 53;
    let mut ints: Vec<i64> = (-1100..1100).collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..4000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let magnitude = (x >> (x % 64)) as i64 & ((1i64 << 62) - 1);
        ints.push(if x & 1 == 0 { magnitude } else { -magnitude });
    }
    ints.extend([limit - 1, limit, limit + 1, -limit, -limit - 1, i64::MAX, i64::MIN + 1]);
    let mut taken = 0;
    for a in ints {
        let literal = a.to_string();
        let value = Scalar::Float(a as f64);
        let same = super::parse::same_number(&literal, &value);
        let written = scalar_json(&value, &[]).unwrap();
        assert!(!same || written == literal, "{literal} taken, but the float is written {written}");
        assert_eq!(same, a.unsigned_abs() <= 1 << 53, "{literal}");
        taken += usize::from(same);
    }
    assert!(taken > 2000, "only {taken} literals taken");
    // The integer differs from the float it reads as: not taken.
    assert!(!super::parse::same_number("9007199254740993", &Scalar::Float(9007199254740992.0)));
    // `-0` reads as a float (a negative zero), which is written `-0`; a float zero is `0`.
    assert!(!super::parse::same_number("-0", &Scalar::Float(0.0)));
    assert_eq!(scalar_json(&Scalar::Float(-0.0), &[]).unwrap(), "-0");
    assert!(super::parse::same_number("0", &Scalar::Float(0.0)));
    assert!(!super::parse::same_number("0", &Scalar::Float(-0.0)));
    assert!(!super::parse::same_number("5", &Scalar::Float(5.5)));
}

/// A parse for decryption leaves in the source the tokens that are the values of object
/// members, at every depth, and only those: not an array's items, not one with an escape, not
/// the top-level `sops` member's (the metadata, read from the tree), not a string that is no
/// token. Read back from there, the tree is the whole parse's; a file without tokens, and a
/// refused one, read the same either way.
#[test]
fn a_parse_for_decryption_leaves_tokens_in_the_source() {
    let t = |d: &str| format!("ENC[AES256_GCM,data:{d}=,iv:aXY=,tag:dGFn,type:str]");
    let src = format!(
        "{{\n  \"top\": \"{}\",\n  \"nested\": {{\"deeper\": {{\"k\": \"{}\", \"n\": 12}}, \"list\": [\"{}\", {{\"item\": \"{}\"}}]}},\n  \"escaped\": \"{}\",\n  \"plain\": \"text\",\n  \"inner\": {{\"sops\": \"{}\"}},\n  \"sops\": {{\"mac\": \"{}\", \"version\": \"3.13.2\"}}\n}}\n",
        t("dG9w"),
        t("aw"),
        t("bGk"),
        t("aXQ"),
        t("ZXNj").replace("data:", "data\\u003a"),
        t("aW4"),
        t("bWFj"),
    );
    // top, nested.deeper.k, nested.list[1].item, inner.sops.
    assert_eq!(crate::tokens_in_source_agree(Format::Json, &src), Ok(4));
    let doc = crate::parse_encrypted(Format::Json, &src).unwrap();
    let top = leaf(&doc, "top");
    assert!(top.token_in_source && matches!(&top.value, Scalar::Str(s) if s.is_empty()));
    assert_eq!(&src[top.span.start..top.span.end], format!("\"{}\"", t("dG9w")));
    assert!(!leaf(&doc, "escaped").token_in_source && !leaf(&doc, "plain").token_in_source);
    let Some(Node::Map(meta)) = doc.roots[0].node.get("sops").map(|e| &e.value) else { panic!("no metadata") };
    assert!(meta.iter().filter_map(MapItem::entry).all(|e| matches!(&e.value, Node::Leaf(l) if !l.token_in_source)));
    // What the plain parse refuses, this one refuses alike.
    for bad in [src.replace("\"plain\": \"text\"", "\"plain\": \"te\u{1}xt\""), src.replace("dG9w=", "dG9w=\u{1}")] {
        assert!(crate::parse(Format::Json, &bad).is_err());
        assert_eq!(crate::tokens_in_source_agree(Format::Json, &bad), Ok(0));
    }
    assert_eq!(crate::tokens_in_source_agree(Format::Json, "{\"a\": [1, \"x\"], \"b\": {}}\n"), Ok(0));
}
