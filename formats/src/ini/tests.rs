//! Round-trip, structure and error tests of the INI codec.

use crate::model::{Comment, Leaf, MapItem, Node, Scalar, Style};
use crate::testing::opts;
use crate::value::Value;
use crate::{parse, write, Document, Format, WriteOptions};

fn ini(src: &str) -> Document {
    parse(Format::Ini, src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
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
        ("encrypted_regex".into(), Value::str("^(pass;word|#x) $")),
        ("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))),
        ("version".into(), Value::str("3.11.0")),
    ])
}

const LAYOUTS: &[&str] = &[
    "a = 1\n",
    "a = 1",
    "",
    "\n",
    "; only a comment",
    "[s]\nk = v\n\n\n",
    "[s]\r\nk = v\r\n",
    "\u{feff}[s]\nk=é\n",
    "[s]\nk = \"\"\"x\ny\"\"\"",
];

fn corpus() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/ini");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{}", files.len());
    files
}

fn sections(doc: &Document) -> Vec<(&str, &[MapItem])> {
    let Node::Map(items) = &doc.roots[0].node else { panic!() };
    items
        .iter()
        .map(|i| match i {
            MapItem::Entry(e) => match &e.value {
                Node::Map(items) => (e.key.as_str(), items.as_slice()),
                _ => panic!("not a section"),
            },
            MapItem::Comment(_) => panic!("comment at the top"),
        })
        .collect()
}

fn value(doc: &Document, section: &str, key: &str) -> String {
    let (_, items) = sections(doc).into_iter().find(|(n, _)| *n == section).expect("section");
    let e = items
        .iter()
        .find_map(|i| match i {
            MapItem::Entry(e) if e.key == key => Some(e),
            _ => None,
        })
        .expect("key");
    match &e.value {
        Node::Leaf(Leaf { value: Scalar::Str(s), .. }) => s.clone(),
        _ => panic!(),
    }
}

fn comments<'a>(doc: &'a Document, section: &str) -> Vec<&'a str> {
    let (_, items) = sections(doc).into_iter().find(|(n, _)| *n == section).expect("section");
    items.iter().filter_map(|i| if let MapItem::Comment(c) = i { Some(c.text.as_str()) } else { None }).collect()
}

#[test]
fn unchanged_documents_are_written_back_byte_for_byte() {
    for src in LAYOUTS {
        assert_eq!(write(&ini(src), src, opts()).unwrap(), *src);
    }
    for (name, src) in corpus() {
        assert_eq!(write(&ini(&src), &src, opts()).unwrap(), src, "{name}");
    }
}

#[test]
fn metadata_added_then_stripped_gives_the_original() {
    let m = meta();
    let mut sources: Vec<String> = LAYOUTS.iter().map(|s| s.to_string()).collect();
    sources.extend(corpus().into_iter().map(|(_, s)| s));
    for src in &sources {
        let doc = ini(src);
        assert!(!crate::has_metadata(&doc));
        let with = write(&doc, src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        let again = parse(Format::Ini, &with).unwrap_or_else(|e| panic!("{e}:\n{with}"));
        assert!(crate::has_metadata(&again));
        assert_eq!(crate::metadata(&again).map(|v| v.sorted()), Some(m.sorted()), "{with}");
        let stripped = write(&again, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
        assert_eq!(stripped, *src, "{with:?}");
        let twice = write(&again, &with, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
        assert_eq!(twice, with, "re-encrypting replaces the metadata");
    }
}

/// sops 3.13.0 and 3.13.1 wrote metadata line breaks as real ones inside `"""` (ini.v1's
/// multi-line quotes), 3.13.2 as `\n` again, and reads both (getsops/sops#2189): so does this
/// codec, PGP armor's blank line and a value without a final line break included.
#[test]
fn metadata_line_breaks_of_sops_3_13_0_and_3_13_2_read_the_same() {
    let pgp = "-----BEGIN PGP MESSAGE-----\n\nwcBMAyUp\n=j3Rn\n-----END PGP MESSAGE-----";
    let age = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n";
    let escaped = format!(
        "[foo]\nbar = x\n\n[sops]\nage__list_0__map_enc = {}\npgp__list_0__map_enc = {}\nversion = 3.13.2\n",
        age.replace('\n', "\\n"),
        pgp.replace('\n', "\\n")
    );
    let quoted = format!(
        "[foo]\nbar = x\n\n[sops]\nage__list_0__map_enc = \"\"\"{age}\"\"\"\npgp__list_0__map_enc = \"\"\"{pgp}\"\"\"\nversion = 3.13.1\n"
    );
    let enc = |doc: &Document, kind: &str| {
        let m = crate::metadata(doc).unwrap_or_else(|| panic!("no metadata"));
        let Some(Value::Seq(items)) = m.get(kind).cloned() else { panic!("no {kind}: {m:?}") };
        items[0].get("enc").and_then(Value::as_str).unwrap_or_else(|| panic!("no enc")).to_string()
    };
    for src in [escaped, quoted] {
        let doc = ini(&src);
        assert_eq!(enc(&doc, "age"), age, "{src}");
        assert_eq!(enc(&doc, "pgp"), pgp, "{src}");
        assert_eq!(value(&doc, "foo", "bar"), "x");
    }
}

#[test]
fn metadata_layout() {
    let out = write(&ini("[a]\nk = v\n"), "[a]\nk = v\n", WriteOptions { metadata: Some(&meta()), ..opts() }).unwrap();
    assert_eq!(
        out,
        "[a]\nk = v\n\n[sops]\n\
         age__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n\n\
         age__list_0__map_recipient = age1xyz\n\
         encrypted_regex            = `^(pass;word|#x) $`\n\
         lastmodified               = 2024-01-02T03:04:05Z\n\
         mac                        = ENC[AES256_GCM,data:x,type:str]\n\
         mac_only_encrypted         = true\n\
         version                    = 3.11.0\n"
    );
    // The file's own line breaks, and the keys aligned as sops aligns its `[sops]` section.
    let crlf = "[a]\r\nk = v\r\n";
    let m = Value::Map(vec![("mac".into(), Value::str("m")), ("version".into(), Value::str("3.11.0"))]);
    let out = write(&ini(crlf), crlf, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
    assert_eq!(out, "[a]\r\nk = v\r\n\r\n[sops]\r\nmac     = m\r\nversion = 3.11.0\r\n");
}

fn visit(doc: &mut Document, leaf: &mut dyn FnMut(&mut Leaf), comment: &mut dyn FnMut(&mut Comment)) {
    let Node::Map(sections) = &mut doc.roots[0].node else { panic!() };
    for s in sections {
        let MapItem::Entry(e) = s else { panic!() };
        let Node::Map(items) = &mut e.value else { panic!() };
        for i in items {
            match i {
                MapItem::Entry(e) => match &mut e.value {
                    Node::Leaf(l) => leaf(l),
                    _ => panic!(),
                },
                MapItem::Comment(c) => comment(c),
            }
        }
    }
}

/// Simulates encryption then decryption (every non-empty value and comment).
fn encrypt_decrypt(src: &str) -> (String, String) {
    let mut doc = ini(src);
    let mut values = Vec::new();
    let mut texts = Vec::new();
    // The envelope's layout memory: source texts that writing the value would not reproduce.
    let mut remembered = Vec::new();
    visit(
        &mut doc,
        &mut |l| {
            let Scalar::Str(s) = &l.value else { panic!() };
            let source = &src[l.span.start..l.span.end];
            remembered.push(super::decrypted_text(src, l).filter(|t| t != source).map(|_| source.to_string()));
            values.push(s.clone());
            if !s.is_empty() {
                l.value = Scalar::Str("ENC[AES256_GCM,data:eHg=,iv:eXk=,tag:eno=,type:str]".into());
                l.changed = true;
            }
        },
        &mut |c| {
            texts.push(c.text.clone());
            if !c.text.is_empty() {
                c.text = "ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment]".into();
                c.changed = true;
            }
        },
    );
    let encrypted = write(&doc, src, opts()).unwrap();
    let mut back = parse(Format::Ini, &encrypted).unwrap_or_else(|e| panic!("{e}\n{encrypted}"));
    let (mut vi, mut ti, mut ri) = (values.into_iter(), texts.into_iter(), remembered.into_iter());
    visit(
        &mut back,
        &mut |l| {
            let v = vi.next().expect("same shape");
            let literal = ri.next().expect("same shape");
            if !v.is_empty() {
                assert!(matches!(&l.value, Scalar::Str(s) if s.starts_with("ENC[")), "{encrypted}");
                l.value = Scalar::Str(v);
                l.literal = literal;
                l.changed = true;
            }
        },
        &mut |c| {
            let t = ti.next().expect("same shape");
            if !t.is_empty() {
                assert!(c.text.starts_with("ENC["), "{encrypted}");
                c.text = t;
                c.changed = true;
            }
        },
    );
    assert!(vi.next().is_none() && ti.next().is_none(), "same shape:\n{src}\n{encrypted}");
    (encrypted.clone(), write(&back, &encrypted, opts()).unwrap())
}

#[test]
fn corpus_survives_encryption_and_decryption() {
    for (name, src) in corpus() {
        let (encrypted, decrypted) = encrypt_decrypt(&src);
        assert_eq!(decrypted, src, "{name}:\n{encrypted}");
        // The encrypted file is one `key = value` line per value (sops can read it).
        assert!(
            encrypted.lines().all(|l| {
                let t = l.trim();
                t.is_empty() || t.starts_with(['[', ';', '#']) || t.contains(['=', ':'])
            }),
            "{name}:\n{encrypted}"
        );
    }
}

#[test]
fn structure_follows_ini_v1() {
    let src = include_str!("../../tests/corpus/ini/synthetic__colon_and_comments.ini");
    let doc = ini(src);
    let names: Vec<&str> = sections(&doc).iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["DEFAULT", "server", " spaced name ", "other"]);
    assert_eq!(value(&doc, "DEFAULT", "top"), "1");
    assert_eq!(comments(&doc, "DEFAULT"), ["head comment", "hash comment"]);
    assert_eq!(value(&doc, "server", "host"), "example.org");
    assert_eq!(value(&doc, "server", "port"), "8080");
    assert_eq!(value(&doc, "server", "url"), "http://x/");
    assert_eq!(value(&doc, "server", "q"), "quoted value");
    assert_eq!(value(&doc, "server", "sq"), "single");
    assert_eq!(value(&doc, "server", "trip"), "multi\nline\nvalue");
    assert_eq!(value(&doc, "server", "bt"), "back;tick");
    assert_eq!(value(&doc, "server", "empty"), "");
    assert_eq!(value(&doc, "server", "indented"), "yes");
    assert_eq!(comments(&doc, "server"), ["inline after value", "frag", "after"]);
    // Comments before a header belong to that section, as in sops.
    // So does the comment on the header line, after them (ini.v1 appends it).
    assert_eq!(comments(&doc, " spaced name "), ["three", "header comment"]);
    assert_eq!(comments(&doc, "other"), ["trailing before other", "end of file comment"]);
    let empty = ini("[a]\nk = v\n");
    assert_eq!(sections(&empty).iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["DEFAULT", "a"]);
    let dup = ini(include_str!("../../tests/corpus/ini/synthetic__duplicates.ini"));
    let names: Vec<&str> = sections(&dup).iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["DEFAULT", "DEFAULT", "x", "x"]);
    let py = ini(include_str!("../../tests/corpus/ini/synthetic__python_continuation.ini"));
    assert_eq!(
        value(&py, "metadata", "classifiers"),
        "\n    Development Status :: 5\n    License :: MIT\n\n    # a comment inside\n    Topic :: Utilities"
    );
    assert_eq!(value(&py, "options", "install_requires"), "\n\tfoo>=1\n\tbar;python_version<\"3.11\"");
    assert_eq!(value(&py, "options", "zip_safe"), "no");
    assert_eq!(comments(&py, "options"), ["comment after a value"]);
}

#[test]
fn a_key_repeated_in_a_section_is_refused() {
    let err = crate::parse(crate::Format::Ini, "[x]\nc=3\nc=4\n").unwrap_err();
    assert!(err.to_string().contains("duplicate key \"c\" in section [x]"), "{err}");
    assert_eq!(err.line, 3);
    // Repeated sections are fine (ini.v1 keeps them apart).
    assert!(crate::parse(crate::Format::Ini, "[x]\nc=3\n[x]\nc=4\n").is_ok());
}

#[test]
fn changed_values_keep_or_change_their_quoting() {
    let cases: &[(&str, &str, &str)] = &[
        ("[s]\nk = v\n", "new value", "[s]\nk = new value\n"),
        ("[s]\nk = v\n", "a;b", "[s]\nk = \"\"\"a;b\"\"\"\n"),
        ("[s]\nk = v\n", " pad ", "[s]\nk = \"\"\" pad \"\"\"\n"),
        ("[s]\nk = v\n", "l1\nl2", "[s]\nk = \"\"\"l1\nl2\"\"\"\n"),
        ("[s]\nk = v\n", "\n  cont\n  more", "[s]\nk = \n  cont\n  more\n"),
        ("[s]\nk = v\n", "\"q\"", "[s]\nk = \"\"\"\"q\"\"\"\"\n"),
        ("[s]\nk = v\n", "x\"\"\"y", "[s]\nk = x\"\"\"y\n"),
        ("[s]\nk = v\n", "\"\"\"y;", "[s]\nk = \"\"\"\"\"\"y;\"\"\"\n"),
        ("[s]\nk = \"v\"\n", "w x", "[s]\nk = \"w x\"\n"),
        ("[s]\nk = \"v\"\n", "a#b", "[s]\nk = \"\"\"a#b\"\"\"\n"),
        ("[s]\nk = 'v'\n", "it's", "[s]\nk = it's\n"),
        ("[s]\nk = `v`\n", "a`b", "[s]\nk = `a`b`\n"),
        ("[s]\nk = `v`\n", "`a\n;b", "[s]\nk = \"\"\"`a\n;b\"\"\"\n"),
        ("[s]\nk = \"\"\"v\"\"\"\n", "a\"\"\"b", "[s]\nk = \"\"\"a\"\"\"b\"\"\"\n"),
        ("[s]\nk = \"\"\"v\"\"\"\n", "a\"\"\"b;", "[s]\nk = \"\"\"a\"\"\"b;\"\"\"\n"),
        ("[s]\nk = \"\"\"v\"\"\"\n", "a\"\"\"\nb;", "[s]\nk = `a\"\"\"\nb;`\n"),
    ];
    for (src, v, want) in cases {
        let mut doc = ini(src);
        visit(
            &mut doc,
            &mut |l| {
                l.value = Scalar::Str(v.to_string());
                l.changed = true;
            },
            &mut |_| {},
        );
        let out = write(&doc, src, opts()).unwrap();
        assert_eq!(out, *want, "{src:?} <- {v:?}");
        if !v.starts_with('\n') {
            assert_eq!(value(&ini(&out), "s", "k"), *v, "{out:?}");
        }
    }
    let mut doc = ini("[s]\nk = \"\"\"a`b\"\"\"\n");
    visit(
        &mut doc,
        &mut |l| {
            l.value = Scalar::Str("x\"\"\"`\ny;".into());
            l.changed = true;
        },
        &mut |_| {},
    );
    assert!(write(&doc, "[s]\nk = \"\"\"a`b\"\"\"\n", opts()).unwrap_err().message.contains("s:k"));
}

#[test]
fn changed_comments_keep_their_comment_characters() {
    let src = ";; two\n#one\n[s]\nk = v ;inline\n";
    let mut doc = ini(src);
    visit(&mut doc, &mut |_| {}, &mut |c| {
        c.text = format!("<{}>", c.text);
        c.changed = true;
    });
    assert_eq!(write(&doc, src, opts()).unwrap(), ";; <two>\n#<one>\n[s]\nk = v ;<inline>\n");
    visit(&mut doc, &mut |_| {}, &mut |c| {
        c.text = "first\n;; second\nthird".into();
    });
    assert_eq!(
        write(&doc, src, opts()).unwrap().lines().take(4).collect::<Vec<_>>(),
        [";; first", "; ; second", "; third", "#first"]
    );
}

#[test]
fn emit_writes_sections() {
    let json = crate::parse(
        Format::Json,
        r#"{"DEFAULT": {"top": "1"}, "db": {"user": "u", "pass": "a;b", "port": 5432, "on": true, "none": null},
            "sops": {"x": "1"}}"#,
    )
    .unwrap();
    let out = crate::emit(&json, Format::Ini, opts()).unwrap();
    assert_eq!(out, "top = 1\n\n[db]\nuser = u\npass = `a;b`\nport = 5432\non   = true\nnone = \n\n[sops]\nx = 1\n");
    let back = ini(&out);
    assert_eq!(value(&back, "db", "pass"), "a;b");
    let m = Value::Map(vec![("version".into(), Value::str("3.11.0"))]);
    let with = crate::emit(&json, Format::Ini, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
    assert!(
        with.ends_with("[db]\nuser = u\npass = `a;b`\nport = 5432\non   = true\nnone = \n\n[sops]\nversion = 3.11.0\n")
    );
    let nested = crate::parse(Format::Json, r#"{"a": {"b": {"c": 1}}}"#).unwrap();
    assert!(crate::emit(&nested, Format::Ini, opts()).unwrap_err().message.contains("a:b"));
    let flat = crate::parse(Format::Json, r#"{"a": 1}"#).unwrap();
    assert!(crate::emit(&flat, Format::Ini, opts()).unwrap_err().message.contains("key path a"));
    let src = include_str!("../../tests/corpus/ini/synthetic__colon_and_comments.ini");
    let again = ini(&crate::emit(&ini(src), Format::Ini, opts()).unwrap());
    assert_eq!(Value::from_node(&again.roots[0].node), Value::from_node(&ini(src).roots[0].node));
}

#[test]
fn malformed_input_is_rejected_with_position() {
    let bad: &[(&str, &str, (usize, usize))] = &[
        ("[s]\nno delimiter\n", "no '=' or ':'", (2, 1)),
        ("  indented first\n", "no '=' or ':'", (1, 3)),
        ("[s]\n  orphan\n", "no '=' or ':'", (2, 3)),
        ("[s]\nk = v\nbare\n", "no '=' or ':'", (3, 1)),
        ("[s\nk = v\n", "unclosed section", (1, 1)),
        ("[s]\n = v\n", "empty key", (2, 2)),
        ("[s]\nk = \"\"\"open\nmore\n", "missing closing", (2, 5)),
        ("[s]\nk = a \\\n  b\n", "continuation", (2, 7)),
        // ini.v1 ignores text after the `]`: it would stay in the clear.
        ("[s] x\nk = v\n", "text after a section header's ']'", (1, 5)),
        ("[s]\t\tx ; c\n", "text after a section header's ']'", (1, 6)),
    ];
    for (src, msg, pos) in bad {
        match parse(Format::Ini, src) {
            Ok(_) => panic!("accepted {src:?}"),
            Err(e) => {
                assert!(e.message.contains(msg), "{src:?}: {} (wanted {msg:?})", e.message);
                assert_eq!((e.line, e.column), *pos, "{src:?}: {}", e.message);
            }
        }
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let mut bases: Vec<String> = LAYOUTS.iter().map(|s| s.to_string()).collect();
    bases.extend(corpus().into_iter().filter(|(n, _)| n.starts_with("synthetic")).map(|(_, s)| s));
    let pieces = [
        "=", ":", ";", "#", "\n", "\r\n", "[", "]", "\"", "'", "`", "\"\"\"", "\\", "    ", "\t", "é", "sops",
        "[sops]\n",
    ];
    let m = meta();
    let mut parsed = 0;
    for base in &bases {
        for src in crate::mutate::mutations(base, 300, &pieces, 0x9e37_79b9_7f4a_7c15) {
            let Ok(doc) = parse(Format::Ini, &src) else { continue };
            parsed += 1;
            assert_eq!(write(&doc, &src, opts()).unwrap(), src, "{src:?}");
            let _ = crate::emit(&doc, Format::Ini, opts());
            let _ = crate::metadata(&doc);
            if crate::has_metadata(&doc) {
                let _ = write(&doc, &src, WriteOptions { strip_metadata: true, ..opts() });
                continue;
            }
            let (_, decrypted) = encrypt_decrypt(&src);
            assert_eq!(decrypted, src);
            let with = write(&doc, &src, WriteOptions { metadata: Some(&m), ..opts() }).unwrap();
            let again = parse(Format::Ini, &with).unwrap_or_else(|e| panic!("{src:?} -> {with:?}: {e}"));
            let back = write(&again, &with, WriteOptions { strip_metadata: true, ..opts() }).unwrap();
            assert_eq!(back, src, "{with:?}");
        }
    }
    assert!(parsed > 300, "{parsed}");
}

#[test]
fn styles_are_recorded() {
    let doc = ini("[s]\na = x\nb = \"x\"\nc = 'x'\nd = \"\"\"x\"\"\"\ne = `x`\n");
    let (_, items) = sections(&doc)[1];
    let styles: Vec<Style> = items
        .iter()
        .filter_map(|i| match i {
            MapItem::Entry(e) => match &e.value {
                Node::Leaf(l) => Some(l.style),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(styles, [Style::Plain, Style::DoubleQuoted, Style::SingleQuoted, Style::Folded, Style::Literal]);
}

#[test]
fn trailing_comments_stay_out_of_the_metadata_section() {
    let src = "[a]\nk = v\n; last words\n";
    let with = write(&ini(src), src, WriteOptions { metadata: Some(&meta()), ..opts() }).unwrap();
    let doc = ini(&with);
    assert_eq!(comments(&doc, "a"), ["last words"]);
    assert_eq!(comments(&doc, "sops"), Vec::<&str>::new());
}

fn yaml_to_ini(yaml: &str) -> String {
    let doc = parse(Format::Yaml, yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"));
    crate::emit(&doc, Format::Ini, opts()).unwrap_or_else(|e| panic!("{yaml:?}: {e}"))
}

// The expected texts below are what sops 3.11 writes for the same YAML (`decrypt --output-type
// ini`); tests/it/sops_emit.rs compares against the real binary.

#[test]
fn emit_pads_keys_to_the_longest_in_each_section_like_sops() {
    // sops's functional test `test_ini_values_as_strings`.
    let yaml = "the_section:\n  int: 123\n  float: 1.23\n  bool: true\n  date: 2025-01-02\n  \
                timestamp: 2025-01-02 03:04:05\n  utc_timestamp: 2025-01-02T03:04:05Z\n  string: this is a string";
    assert_eq!(
        yaml_to_ini(yaml),
        "[the_section]\nint           = 123\nfloat         = 1.23\nbool          = true\n\
         date          = 2025-01-02T00:00:00Z\ntimestamp     = 2025-01-02T03:04:05Z\n\
         utc_timestamp = 2025-01-02T03:04:05Z\nstring        = this is a string\n"
    );
    // Each section on its own, key lengths in bytes (as Go counts them), DEFAULT first without
    // a header, a blank line between sections but not after the last.
    assert_eq!(
        yaml_to_ini("DEFAULT:\n  a: 1\n  longer: x\ns1:\n  k: v\n  ключ: значение\n  é: 1\nempty: {}\n"),
        "a      = 1\nlonger = x\n\n[s1]\nk        = v\nключ = значение\né       = 1\n\n[empty]\n"
    );
    // An empty DEFAULT first is not written; DEFAULT anywhere else has its header.
    assert_eq!(yaml_to_ini("DEFAULT: {}\na:\n  longkeyname: 1\n  s: x\n"), "[a]\nlongkeyname = 1\ns           = x\n");
    assert_eq!(yaml_to_ini("a:\n  k: 1\nDEFAULT:\n  x: y\n"), "[a]\nk = 1\n\n[DEFAULT]\nx = y\n");
    assert_eq!(yaml_to_ini("{}\n"), "");
}

#[test]
fn emit_quotes_values_like_sops_unless_that_changes_them() {
    let yaml = "s2:\n  empty: \"\"\n  sp: \" lead\"\n  hash: a#b\n  semi: a;b\n  nl: \"a\\nb\"\n  bt: \"a`b\"\n";
    assert_eq!(
        yaml_to_ini(yaml),
        "[s2]\nempty = \nsp    = \" lead\"\nhash  = `a#b`\nsemi  = `a;b`\nnl    = \"\"\"a\nb\"\"\"\nbt    = \"\"\"a`b\"\"\"\n"
    );
    // sops writes `"quoted"` and `'x'` as they are, which ini.v1 reads back without the quotes;
    // gitseal writes what reads back the same.
    let yaml = "s:\n  q: '\"quoted\"'\n  sq: \"'x'\"\n  pad: ' a\"b '\n  trip: '\"\"\"x'\n  bs: 'a\\'\n";
    let out = yaml_to_ini(yaml);
    assert_eq!(
        out,
        "[s]\nq    = \"\"\"\"quoted\"\"\"\"\nsq   = \"\"\"'x'\"\"\"\npad  = \"\"\" a\"b \"\"\"\n\
         trip = \"\"\"\"\"\"x\"\"\"\nbs   = \"\"\"a\\\"\"\"\n"
    );
    let back = ini(&out);
    for (k, v) in [("q", "\"quoted\""), ("sq", "'x'"), ("pad", " a\"b "), ("trip", "\"\"\"x"), ("bs", "a\\")] {
        assert_eq!(value(&back, "s", k), v, "{out}");
    }
}

#[test]
fn emit_writes_scalars_as_sops_value_to_string() {
    let yaml = "s:\n  f: 1000.0\n  g: 0.000001\n  b: false\n  i: -7\n  n: null\n  t: 2025-01-02T03:04:05+02:00\n";
    assert_eq!(
        yaml_to_ini(yaml),
        "[s]\nf = 1000.0\ng = 1E-06\nb = false\ni = -7\nn = \nt = 2025-01-02T03:04:05+02:00\n"
    );
    // sops drops a fraction of a second; gitseal keeps it.
    assert_eq!(yaml_to_ini("s:\n  t: 2025-01-02T03:04:05.5Z\n"), "[s]\nt = 2025-01-02T03:04:05.5Z\n");
}

#[test]
fn floats_are_written_as_go_format_g() {
    use super::emit::float_text;
    let cases: &[(f64, &str)] = &[
        (1.23, "1.23"),
        (3.0, "3.0"),
        (1000.0, "1000.0"),
        (123456.0, "123456.0"),
        (1234567.0, "1.234567E+06"),
        (12345678.9, "1.23456789E+07"),
        (123456789012345678.0, "1.2345678901234568E+17"),
        (1e21, "1E+21"),
        (1.5e300, "1.5E+300"),
        (0.0001, "0.0001"),
        (0.00001, "1E-05"),
        (1e-6, "1E-06"),
        (-2.5e-10, "-2.5E-10"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for (v, want) in cases {
        assert_eq!(float_text(*v), *want, "{v}");
    }
}

#[test]
fn emit_places_comments_as_sops_does() {
    // A section's first comment goes above its header; a later comment replaces the comment of
    // the key before it and goes above that key; top-level comments are dropped.
    assert_eq!(
        yaml_to_ini("a:\n  k: v\n  # foot of a\n# between\nb:\n  # first\n  k: v\n  j: w\n# end\n"),
        "[a]\n; foot of a\nk = v\n\n;  first\n[b]\nk = v\nj = w\n"
    );
    assert_eq!(
        yaml_to_ini(
            "other:\n  k: v\n  # c1\n  \"x\": \"  \"\n  ## hashes\n  y: \"\"\n  #\n  z: 1\n  # ;semi\nthird: {}\n"
        ),
        "[other]\n; c1\nk = v\n# hashes\nx = \"  \"\ny = \n; ;semi\nz = 1\n\n[third]\n"
    );
    assert_eq!(
        yaml_to_ini("# top\ns0:\n  # head\n  # second\n  a: 1\n  # after a\n  # after a 2\n  bb: 2\n"),
        ";  head\n[s0]\n; after a 2\na  = 1\nbb = 2\n"
    );
}

/// Found by fuzzing (`fuzz/regressions/ini/header-comment-bare-cr`): a header comment holding a
/// bare `\r` was put back above its header on decryption.
#[test]
fn a_header_comment_with_a_bare_carriage_return_comes_back_on_the_header_line() {
    let src = "[s]#\rsecret\n[t] ; a\rb\nk = v\n";
    let (encrypted, decrypted) = encrypt_decrypt(src);
    assert!(!encrypted.contains("secret"), "{encrypted}");
    assert_eq!(decrypted, src, "{encrypted}");
}

/// The comment after a `[header]` (which ini.v1 reads as the section's comment) is encrypted at
/// the section's path, written on the line above the header (ini.v1 would read an `ENC[...]` on
/// the header line as part of the name) and put back on the header line on decryption.
#[test]
fn header_line_comments_are_encrypted_above_the_header_and_come_back_on_it() {
    let cases: &[(&str, &str)] = &[
        ("[s] ; secret\na = 1\n", "; ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment] ;header\n[s]\na = "),
        ("[s]#secret\n", "#ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment];header\n[s]\n"),
        (
            "; c1\r\n  [s]\t;; secret  \r\nk = v\r\n",
            "; ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment]\r\n  \
             ;; ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment]\t;header\r\n  [s]  \r\n",
        ),
        ("a = 1\n[DEFAULT] # secret\nb = 2\n", "\n# ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment] ;header\n"),
        (
            "[e] ; secret\n[t] ; secret 2\n",
            "type:comment] ;header\n[e]\n; ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment] ;header\n[t]\n",
        ),
    ];
    for (src, part) in cases {
        let (encrypted, decrypted) = encrypt_decrypt(src);
        assert!(!encrypted.contains("secret") && encrypted.contains(part), "{src:?}:\n{encrypted}");
        assert_eq!(decrypted, *src, "{encrypted}");
    }
    // Read as a comment of the header's section, before the keys (where sops has it).
    let doc = ini("; c1\n[s] ; secret\nk = v\n");
    assert_eq!(comments(&doc, "s"), ["c1", "secret"]);
    let (encrypted, _) = encrypt_decrypt("; c1\n[s] ; secret\nk = v\n");
    assert_eq!(comments(&ini(&encrypted), "s").len(), 2, "{encrypted}");
    // As sops writes a section comment, from a tree.
    let out = crate::emit(&ini("[s] ; secret\nk = v\n"), Format::Ini, opts()).unwrap();
    assert_eq!(out, "; secret\n[s]\nk = v\n");
    // An empty one is not encrypted, and a marked line above `[sops]` is an ordinary comment.
    assert_eq!(encrypt_decrypt("[s] ;\n").0, "[s] ;\n");
    let marked = "; ENC[AES256_GCM,data:Yw==,iv:aQ==,tag:dA==,type:comment] ;header\n[sops]\nversion = 3\n";
    assert_eq!(comments(&ini(marked), "DEFAULT").len(), 1);
    // Changed to text that cannot stay on the header line: above it.
    let src = "[s] ; c\n";
    let mut doc = ini(src);
    visit(&mut doc, &mut |_| {}, &mut |c| {
        c.text = "a]b".into();
        c.changed = true;
    });
    assert_eq!(write(&doc, src, opts()).unwrap(), "; a]b\n[s]\n");
}

/// ini.v1 ignores the text after a closing `"""` or backquote; it joins the value's slot, so it
/// is replaced by the encrypted value and comes back through the layout memory.
#[test]
fn text_after_a_closing_quote_is_part_of_the_value_slot() {
    for (src, want) in [
        ("[s]\nk = \"\"\"a\"\"\" secret\n", "a"),
        ("[s]\nk = `a` secret ; c\n", "a"),
        ("[s]\nk = \"\"\"a\nb\"\"\"  secret # c\nj = 1\n", "a\nb"),
    ] {
        assert_eq!(value(&ini(src), "s", "k"), want);
        let (encrypted, decrypted) = encrypt_decrypt(src);
        assert!(!encrypted.contains("secret"), "{encrypted}");
        assert!(encrypted.starts_with("[s]\nk = ENC[AES256_GCM,data:eHg=,iv:eXk=,tag:eno=,type:str]"), "{encrypted}");
        assert_eq!(decrypted, src);
    }
    // Without the layout memory, the value is written anew.
    let src = "[s]\nk = \"\"\"a;b\"\"\" x # c\n";
    let mut doc = ini(src);
    visit(&mut doc, &mut |l| l.changed = true, &mut |_| {});
    assert_eq!(write(&doc, src, opts()).unwrap(), "[s]\nk = \"\"\"a;b\"\"\" # c\n");
    // Blanks alone leave the quotes as they are.
    let doc = ini("[s]\nk = `a`  \n");
    assert!(
        matches!(&sections(&doc)[1].1[0], MapItem::Entry(e) if matches!(&e.value, Node::Leaf(l) if l.style == Style::Literal))
    );
}
