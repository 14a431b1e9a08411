//! Output that must be byte for byte what real sops writes: INI written from YAML and JSON
//! (`decrypt --output-type ini`, keys aligned as gopkg.in/ini.v1 aligns them), and the values of
//! block scalars that end a YAML file without a final line break (`--extract`, both ways).

use crate::peers::{find_peer, run_ok, Peer, Work, DEMO_RECIPIENT};

/// Inputs whose INI form sops and gitseal write alike. (Where sops's INI would read back as
/// other data, gitseal differs on purpose: see `formats/src/ini/emit.rs`.)
const INI_INPUTS: &[(&str, &str)] = &[
    // sops's own functional test `test_ini_values_as_strings`.
    (
        "values.yaml",
        "the_section:\n  int: 123\n  float: 1.23\n  bool: true\n  date: 2025-01-02\n  timestamp: 2025-01-02 03:04:05\n  utc_timestamp: 2025-01-02T03:04:05Z\n  string: this is a string",
    ),
    // Padding per section, in bytes; DEFAULT without a header first, with one elsewhere.
    (
        "sections.yaml",
        "DEFAULT:\n  a: 1\n  longer: x\ns1:\n  k: v\n  ключ: значение\n  é: 1\nempty: {}\nlast:\n  v: 1\n",
    ),
    ("default_empty.yaml", "DEFAULT: {}\na:\n  k: 1\n"),
    ("default_later.yaml", "a:\n  longkeyname: 1\n  s: x\nDEFAULT:\n  x: y\n"),
    (
        "quoting.yaml",
        "s:\n  empty: \"\"\n  sp: \" lead\"\n  trail: \"trail \"\n  hash: a#b\n  semi: a;b\n  nl: \"a\\nb\"\n  bt: \"a`b\"\n  q: a\"b\n",
    ),
    (
        "comments.yaml",
        "# top\ns0:\n  # head\n  # second\n  a: 1\n  # after a\n  # after a 2\n  bb: 2\n  # trailing\n# between\ns1:\n  k: v # inline\n  j: w\n",
    ),
    (
        "floats.yaml",
        "f:\n  a: 1000.0\n  b: 0.000001\n  c: 1.5e300\n  d: -0.0\n  e: .inf\n  f: 3.0\n  g: 12345678.9\n  h: 1e21\n  i: 0.0001\n",
    ),
    // sops 3.11 reads every JSON number as a float.
    (
        "numbers.json",
        "{\"DEFAULT\": {\"top\": \"1\", \"ü\": \"é\"}, \"db\": {\"user\": \"u\", \"pass\": \"a;b\", \"port\": 5432, \"ratio\": 1.5, \"big\": 1e21, \"neg\": -3, \"on\": true}}",
    ),
];

/// Encrypts `name` with sops into `enc_name`.
fn sops_encrypt(work: &Work, sops: &Peer, name: &str, enc_name: &str) {
    run_ok(work.peer(sops).args(["encrypt", "--age", DEMO_RECIPIENT, "--output", enc_name, name]), None)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn ini_output_from_yaml_and_json_is_what_sops_writes() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    for (name, text) in INI_INPUTS {
        work.write(name, text);
        let enc = format!("enc.{name}");
        sops_encrypt(&work, &sops, name, &enc);
        let theirs = run_ok(work.peer_with_key(&sops).args(["decrypt", "--output-type", "ini", &enc]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let ours = run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "ini", &enc]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs), "{name}");
    }
}

/// An encrypted file with every `ENC[...]` token (random IVs) and the `[sops]` section (random
/// key order in sops) left out.
fn shape(ini: &[u8]) -> String {
    let text = String::from_utf8_lossy(ini);
    let data = text.split("[sops]").next().unwrap_or_default();
    let mut out = String::new();
    let mut rest = data;
    while let Some(i) = rest.find("ENC[") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(']').map_or(rest.len(), |j| i + j + 1);
        out.push_str("ENC");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn encrypted_ini_from_yaml_is_laid_out_as_sops_lays_it_out() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let name = "values.yaml";
    work.write(name, INI_INPUTS[0].1);
    let args = ["encrypt", "--age", DEMO_RECIPIENT, "--output-type", "ini", name];
    let theirs = run_ok(work.peer(&sops).args(args), None).unwrap_or_else(|e| panic!("{e}"));
    let ours = run_ok(work.gitseal().args(args), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shape(&ours), shape(&theirs));
    // The `[sops]` section is aligned too.
    let ours = String::from_utf8(ours).unwrap();
    let meta: Vec<&str> = ours.split("[sops]\n").nth(1).expect("a [sops] section").lines().collect();
    let width = meta.iter().map(|l| l.split(" = ").next().unwrap().trim_end().len()).max().unwrap();
    assert!(meta.iter().all(|l| l.find(" = ") == Some(width)), "{ours}");
    // And each reads the other's file.
    work.write("ours.ini", &ours);
    work.write("theirs.ini", &theirs);
    for file in ["ours.ini", "theirs.ini"] {
        let by_sops = run_ok(work.peer_with_key(&sops).args(["decrypt", file]), None).unwrap_or_else(|e| panic!("{e}"));
        let by_us = run_ok(work.gitseal_with_key().args(["decrypt", file]), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(by_us, by_sops, "{file}");
    }
}

/// YAML files that end inside a block scalar without a final line break, the path of that
/// value, and the value as go-yaml (sops) reads it.
const BLOCKS_AT_EOF: &[(&str, &str, &str)] = &[
    // sops's own functional test `extract_string`.
    ("multiline: |\n  multi\n  line", "[\"multiline\"]", "multi\nline"),
    ("k: |+\n  multi\n  line", "[\"k\"]", "multi\nline"),
    ("k: |-\n  multi\n  line", "[\"k\"]", "multi\nline"),
    ("k: >\n  multi\n  line", "[\"k\"]", "multi line"),
    ("k: >-\n  multi\n  line", "[\"k\"]", "multi line"),
    ("k: >+\n  multi\n  line", "[\"k\"]", "multi line"),
    ("k: |2\n   multi\n  line", "[\"k\"]", " multi\nline"),
    ("k: |\n  multi\n\n  ", "[\"k\"]", "multi\n"),
    ("k: |+\n  multi\n\n  ", "[\"k\"]", "multi\n\n"),
    ("k: |\n  x\n     ", "[\"k\"]", "x\n   "),
    ("a:\n  b: 1\n  k: |\n    x\n    y", "[\"a\"][\"k\"]", "x\ny"),
    ("k:\n- |\n  x", "[\"k\"][0]", "x"),
    // With an anchor or a tag before the header (the value was read as `x\n`).
    ("k: &a |\n x", "[\"k\"]", "x"),
    ("k: !!str >\n x", "[\"k\"]", "x"),
    // Plaintext values: the metadata gitseal adds must not give them a line break (the MAC).
    ("a: 1\nk_unencrypted: |\n  multi\n  line", "[\"k_unencrypted\"]", "multi\nline"),
    ("k_unencrypted: |+\n  multi\n\n  ", "[\"k_unencrypted\"]", "multi\n\n"),
];

#[test]
fn block_scalars_at_the_end_of_a_file_extract_as_with_sops() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    for (i, (text, path, want)) in BLOCKS_AT_EOF.iter().enumerate() {
        let name = format!("b{i}.yaml");
        work.write(&name, text);
        let (theirs, ours) = (format!("b{i}.sops.yaml"), format!("b{i}.gitseal.yaml"));
        sops_encrypt(&work, &sops, &name, &theirs);
        run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "--output", &ours, &name]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        for file in [&theirs, &ours] {
            let by_sops = run_ok(work.peer_with_key(&sops).args(["decrypt", "--extract", path, file]), None)
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let by_us = run_ok(work.gitseal_with_key().args(["decrypt", "--extract", path, file]), None)
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(String::from_utf8_lossy(&by_sops), *want, "sops, {file} from {text:?}");
            assert_eq!(String::from_utf8_lossy(&by_us), *want, "gitseal, {file} from {text:?}");
        }
        // gitseal still gives back the file it encrypted, byte for byte.
        let back = run_ok(work.gitseal_with_key().args(["decrypt", &ours]), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&back), *text);
    }
}
