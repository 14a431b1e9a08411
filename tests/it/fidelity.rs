//! Lossless round trips: decrypting what gitseal encrypted gives back the original bytes
//! (indentation, quoting, comments, blank lines, key order, document markers).
//! Needs no peers (one test also compares with sops when it is installed).

use crate::fixtures::{self, same_bytes};
use crate::peers::{mode, run_ok, Work, DEMO_RECIPIENT};

#[test]
fn decrypt_of_encrypt_is_byte_identical() {
    // Every fixture, folded and multi-line scalars included (their layout is kept in the
    // encrypted `gitseal_layout` metadata).
    fixtures::for_each(fixtures::all(), |fx| {
        let work = Work::new();
        work.copy_fixture(&fx.name);
        let encrypted = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, &fx.name]), None)?;
        let enc = fx.sibling("enc");
        work.write(&enc, &encrypted);
        let plain = run_ok(work.gitseal_with_key().args(["decrypt", &enc]), None)?;
        same_bytes(&fx.bytes(), &plain)
    });
}

#[test]
fn in_place_round_trip_restores_the_file_and_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    fixtures::for_each(fixtures::text(), |fx| {
        let work = Work::new();
        let path = work.copy_fixture(&fx.name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).map_err(|e| e.to_string())?;
        run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "-i", &fx.name]), None)?;
        if work.read(&fx.name) == fx.bytes() {
            return Err("encrypt -i left the file as it was".into());
        }
        if mode(&path) != 0o640 {
            return Err(format!("encrypt -i changed the mode to {:o}", mode(&path)));
        }
        run_ok(work.gitseal_with_key().args(["decrypt", "-i", &fx.name]), None)?;
        if mode(&path) != 0o640 {
            return Err(format!("decrypt -i changed the mode to {:o}", mode(&path)));
        }
        same_bytes(&fx.bytes(), &work.read(&fx.name))
    });
}

/// Encrypts `src` as `f.yaml` with the demo recipient into `f.enc.yaml`, checks that
/// decrypting gives `src` back byte for byte, and returns the encrypted text.
fn round_trip(work: &Work, src: &str) -> String {
    work.write("f.yaml", src);
    let enc = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "f.yaml"]), None)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"));
    work.write("f.enc.yaml", &enc);
    let back = run_ok(work.gitseal_with_key().args(["decrypt", "f.enc.yaml"]), None)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"));
    assert_eq!(String::from_utf8_lossy(&back), src);
    String::from_utf8(enc).unwrap()
}

/// What sops decrypts `file` to (as JSON); with `quiet`, sops must not warn about a comment it
/// cannot decrypt.
fn sops_data(work: &Work, sops: &crate::peers::Peer, file: &str, src: &str, quiet: bool) -> serde_json::Value {
    let out = crate::peers::run(work.peer_with_key(sops).args(["decrypt", "--output-type", "json", file]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{src:?}: sops: {stderr}");
    assert!(!quiet || !stderr.contains("unencrypted comment"), "{src:?}: sops: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// sops's own encryption of `f.yaml`, written to `f.sops.yaml`.
fn sops_encrypted(work: &Work, sops: &crate::peers::Peer) {
    let theirs = run_ok(work.peer(sops).args(["encrypt", "--age", DEMO_RECIPIENT, "f.yaml"]), None).unwrap();
    work.write("f.sops.yaml", &theirs);
}

/// Block scalars without a content line (`|+` then a blank line, `>` then the next key), where
/// the YAML parser puts the scalar at the next token: the file gitseal writes keeps every key,
/// decrypts to the same bytes, and real sops reads the same data from it as from its own file.
#[test]
fn block_scalars_without_content_keep_the_keys_after_them() {
    let cases = [
        "n: |+\n\nr: x\n",
        "n: |\n\nr: x\n",
        "n: |+\n\n\nr: x\n",
        "b: {x: 1} #c\nn: |+\n\ne: |\n  x\nf: >-\n  y\n  ",
        "r: x #---\nn: |+\n\nk: [a, # in\n  b] # out\n",
        "l:\n  - |+\n\n  - x\n",
        "n: >\n\nr: 1",
        "a:\n  n: |-\n\n  r: x\n",
    ];
    let sops = crate::peers::find_peer("sops");
    for src in cases {
        let work = Work::new();
        round_trip(&work, src);
        let Some(sops) = &sops else { continue };
        sops_encrypted(&work, sops);
        assert_eq!(
            sops_data(&work, sops, "f.enc.yaml", src, false),
            sops_data(&work, sops, "f.sops.yaml", src, false),
            "{src:?}"
        );
    }
}

/// Inputs found by random differential testing against sops: each is encrypted with nothing
/// marked `secret` left in the clear (comments included), decrypts to the same bytes, and is
/// read by sops without warnings to the same data as sops's own encryption of it.
#[test]
fn randomly_found_inputs_are_safe_exact_and_read_by_sops() {
    let cases = [
        // A flow collection as a list item, then an end-of-line comment (was a panic).
        "d:\n- {a: 1}\n- v # secret\n",
        "k:\n- [a]  # secret\n",
        // `|+` followed by a sibling at an indentation (the next key was glued to the value).
        "a:\n  k: |+\n    v\n  p: 1\n",
        "c:\n  - |+\n      v\n  -",
        // Indentation indicator in a mapping inside a list item; a digit in a header comment.
        "d:\n- k: |2\n    v\n",
        "k:\n- k: | # 0\n    v\n  j: 1\n",
        // Out of range for a float: a string for go-yaml.
        "k: 1e400\nk_unencrypted: 1e400\n",
        // Own-line comments closing an anchored or less indented mapping.
        "a: &d\n  b: 1\n  # secret\n",
        "a:\n  b: 1\n # secret\n",
        // A comment after a list whose `-` stands at the next key's column.
        "x:\n  b_unencrypted:\n  - 1\n# secret\n  k: 1\n",
        "a_unencrypted:\n- [4]\n# secret\nb: 1\n",
        // Aliases left in the clear to encrypted anchors (the MAC did not match).
        "i: &a v\nk_unencrypted: *a\n",
        "a: &n 7\nb_unencrypted: [*n, 17, k7]\nc_unencrypted: *n\n",
        "user: &base1\n- \"x\"\nk_unencrypted:\n    - *base1\n",
        "base: &b\n  x: 1\n  y: [1, 2]\nu_unencrypted:\n  <<: *b\n  z: 3\n",
        // A header comment after an anchor.
        "k_unencrypted: &x >\t#  secret\n   hello\n",
    ];
    let sops = crate::peers::find_peer("sops");
    for src in cases {
        let work = Work::new();
        let enc = round_trip(&work, src);
        assert!(!enc.contains("secret"), "{src:?}: left in the clear");
        let Some(sops) = &sops else { continue };
        sops_encrypted(&work, sops);
        assert_eq!(
            sops_data(&work, sops, "f.enc.yaml", src, true),
            sops_data(&work, sops, "f.sops.yaml", src, true),
            "{src:?}"
        );
    }
}

/// Comments inside a flow collection before its closing bracket, and on a block scalar's header
/// line (sops reads it before the key; gitseal keeps it on the header line in its own round
/// trip): encrypted, also under an `_unencrypted` key.
#[test]
fn comments_before_a_closing_bracket_and_on_block_headers_are_encrypted() {
    let cases = [
        "a: {\n  p: 1, # secret\n  }\n",
        "a: {p: 1,\n # secret\n }\nb: [1,\n  # secret\n  ]\n",
        "p: | # secret\nq: 1\n",
        "a_unencrypted: | # secret\n  x\n",
        "l:\n  - > # secret\n    folded\n    text\n",
    ];
    let sops = crate::peers::find_peer("sops");
    for src in cases {
        let work = Work::new();
        let enc = round_trip(&work, src);
        assert!(!enc.contains("secret"), "{src:?}: left in the clear");
        let Some(sops) = &sops else { continue };
        sops_data(&work, sops, "f.enc.yaml", src, true);
    }
}

/// A flow collection's closing bracket at or left of its key's column: go-yaml (and sops)
/// accept it, and sops writes it itself for `k: [] # note`. gitseal reads both forms.
#[test]
fn closing_brackets_at_the_keys_column_are_read() {
    let cases =
        ["i: [\n  1\n]\nz: 1\n", "i: [\n  \"a\"\n]\n", "p:\n  - [\n  ]\n", "c: [] # z\n", "a:\n  b: {} # n\nd: 1\n"];
    let sops = crate::peers::find_peer("sops");
    for src in cases {
        let work = Work::new();
        round_trip(&work, src);
        let Some(sops) = &sops else { continue };
        // sops's own file (it writes `k: [\n    #ENC[...]\n]` for a commented empty list).
        sops_encrypted(&work, sops);
        let ours = run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "f.sops.yaml"]), None)
            .unwrap_or_else(|e| panic!("{src:?}: {e}"));
        let ours: serde_json::Value = serde_json::from_slice(&ours).unwrap();
        assert_eq!(ours, sops_data(&work, sops, "f.sops.yaml", src, false), "{src:?}");
    }
}

/// A multi-line value that sops wrote as one ENC string, in a mapping opened on a list item's
/// line (`- - p: ...`): gitseal's decrypted YAML indents the block scalar past the key, so it
/// reads back as the same data.
#[test]
fn block_scalars_written_for_sops_values_in_list_items_read_back() {
    let Some(sops) = crate::peers::find_peer("sops") else { return };
    for src in ["k:\n- - p: |\n      i\n      j\n", "k:\n- p: |\n    i\n    j\n", "l:\n- |\n  a\n  b\n"] {
        let work = Work::new();
        work.write("f.yaml", src);
        let theirs = run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "f.yaml"]), None).unwrap();
        work.write("f.sops.yaml", &theirs);
        let ours = run_ok(work.gitseal_with_key().args(["decrypt", "f.sops.yaml"]), None).unwrap();
        work.write("back.yaml", &ours);
        let json = |cmd: &mut std::process::Command| {
            let out = run_ok(cmd, None).unwrap_or_else(|e| panic!("{src:?}: {e}"));
            serde_json::from_slice::<serde_json::Value>(&out).unwrap()
        };
        let direct = json(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "f.sops.yaml"]));
        // What gitseal wrote, read by sops: encrypted again by sops, decrypted to JSON.
        let again = run_ok(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, "back.yaml"]), None)
            .unwrap_or_else(|e| panic!("{src:?}: sops cannot read gitseal's output: {e}"));
        work.write("again.yaml", &again);
        let reread = json(work.peer_with_key(&sops).args(["decrypt", "--output-type", "json", "again.yaml"]));
        assert_eq!(direct, reread, "{src:?}");
    }
}

/// Found by fuzzing a real Argo CD manifest (`goTemplate: True`): a boolean spelled `True` or
/// `False` came back as `true`/`false`. The spelling now comes back through the layout memory
/// (sops's payload for every boolean is `True`/`False`, so the payload cannot carry it).
#[test]
fn booleans_keep_their_spelling() {
    let work = Work::new();
    let enc = round_trip(&work, "a: True\nb: False\nc: true\nd: TRUE\ne: [True, false]\n");
    assert!(!enc.contains("True") && !enc.contains("False"), "spellings must not show: {enc}");
}

/// Found by fuzzing: a comment after the last entry of a top-level flow mapping took the comma
/// that joins the `sops` entry (`#ENC[...],`), so the comment never decrypted. (A block scalar
/// whose anchor name held `|` or `>` had its header found inside the name; such names are now
/// refused, see `bad_input::anchor_names_go_yaml_refuses_fail_2`.)
#[test]
fn flow_mapping_comments_round_trip() {
    for src in
        ["{\n#s\n}", "{a: 1, # c\n}", "{a: 1 # c\n}", "{a: [1, 2], b: \"x # y\" # c\n, d: 4}\n", "a: &ab |\n  x\n"]
    {
        let work = Work::new();
        let enc = round_trip(&work, src);
        assert!(!enc.contains("type:comment],"), "{src:?}: a comma joined an encrypted comment:\n{enc}");
    }
}

/// Found by fuzzing: when the top-level mapping's anchor or tag stands left of its first key
/// (` &a` on the line before `s:`), a comment at the end of the document was encrypted under
/// the last list's key path and read back under the top level, so the file never decrypted.
#[test]
fn a_top_level_anchor_left_of_the_keys_keeps_comment_paths() {
    for src in [" &a\ns:\n- x\n#s\n", " &a\ns:\n  - x\n#s\n", " &a\ns:\n-\n#s\n", "  !!map\ns:\n- - x\n  - y\n# z\n"] {
        let work = Work::new();
        round_trip(&work, src);
    }
}

/// Found by fuzzing (`regressions/yaml/comment-of-an-anchor-left-of-the-document`): a comment in
/// an anchored collection was encrypted at the anchor and again, as a copy, in an alias's
/// expansion; when the alias was kept (no value under it changed), decryption read the anchor's
/// ciphertext in the expansion under the alias's key path: the file never decrypted.
#[test]
fn a_comment_in_an_anchored_collection_is_encrypted_once_at_the_anchor() {
    for src in [
        "  r: &ers\n   e: []\n#s\n  m: *ers\n",
        "r: &a\n  e: []\n  # c\nm: *a\n",
        "r: &a\n  e: []\n  # c\nm: *a # trailing\n",
        "r: &a\n  e: 1\n  # c\nm: *a # trailing\n",
    ] {
        let work = Work::new();
        let enc = round_trip(&work, src);
        assert!(!enc.contains("# c") && !enc.contains("#s"), "{src:?}: a comment is in the clear:\n{enc}");
    }
}

/// Found by fuzzing: a block scalar whose `|` stands on the line below its anchor (`- &a` then
/// ` |`) was replaced from the anchor on, so the anchor was lost and the ciphertext was written
/// at the header's indentation, where the comment after it read as part of the value. A
/// comment between an anchor and its value was lost (plain scalars) or left in the clear
/// (block scalars).
#[test]
fn a_block_header_below_its_anchor_keeps_the_anchor_and_comments_between_are_encrypted() {
    for src in [
        "e:\n- &a\n |\n  x\n #\n",
        "e:\n- &a # c1\n  !!str\n |\n  x\n #d\n",
        "k: &a\n  >-\n   folded\n",
        "e:\n- &a # c1\n  x\n",
        "e: &a # c1\n  |\n  x\n",
        "e: &a # c1\n  # c2\n  !!str x\n",
    ] {
        let work = Work::new();
        let enc = round_trip(&work, src);
        assert!(enc.contains("&a"), "{src:?}: the anchor is gone:\n{enc}");
        assert!(!enc.contains("# c"), "{src:?}: a comment is in the clear:\n{enc}");
    }
}

/// Found by fuzzing: a comment at column 0 after the indentless list that ends an indented
/// document (`    s:` / `    -` / `#0`) was kept in the list when encrypting and read at the top
/// level when decrypting (where the `sops` key follows), so the file never decrypted; and a
/// comment between an anchor and a flow collection's bracket made the collection read as a
/// block one, so the file did not decrypt either.
#[test]
fn comments_after_a_last_list_and_before_an_anchored_bracket_keep_their_paths() {
    for src in [
        "    s:\n    -\n#0\n",
        "  s:\n  - a\n# c\n",
        "    a:\n      s:\n      -\n#0\n",
        "&s #c\n{c: 1}\n",
        "a: &s #c\n  {c: 1}\n",
        "a: &s #c\n  [1, 2]\n",
    ] {
        let work = Work::new();
        round_trip(&work, src);
    }
}

/// Found by fuzzing: a block scalar's indentation indicator counts from the parent's
/// indentation, also when the header stands on a line of its own; gitseal counted from the
/// header's line, so the value's end was misplaced and the encrypted file kept a blank after the
/// ciphertext, and never decrypted. The values are read as sops reads them.
#[test]
fn an_indentation_indicator_on_its_own_line_counts_from_the_parent() {
    for (src, want) in [
        ("e:\n |1\n  ", serde_json::json!({"e": " "})),
        ("e:\n |1\n  \n", serde_json::json!({"e": " \n"})),
        ("e:\n  |1\n   \n", serde_json::json!({"e": "  \n"})),
        ("e:\n |1\n  x\n", serde_json::json!({"e": " x\n"})),
        ("a:\n  -\n   |2\n     x\n", serde_json::json!({"a": [" x\n"]})),
    ] {
        let work = Work::new();
        round_trip(&work, src);
        let json =
            run_ok(work.gitseal_with_key().args(["decrypt", "--output-type", "json", "f.enc.yaml"]), None).unwrap();
        let got: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(got, want, "{src:?}");
    }
}

/// Found by fuzzing: when the first top-level key is explicit with its `?` on a line of its own
/// (`?` then ` C` then `:`, comment lines between or not), the `sops` block was written at the
/// key's column, inside the entry, so the file had no metadata at the top level and did not decrypt.
#[test]
fn an_explicit_first_key_on_its_own_line_keeps_the_metadata_at_the_top() {
    for src in [
        "?\n C\n:",
        "?\n C\n:\n",
        "?\n C\n: x\n# end\n",
        "  ?\n   C\n  : x\n#e\n",
        "a: 1\n?\n  b\n: 2\n",
        "?\n#\n C\n:",
        "? # c\n\n C\n: 1\n",
    ] {
        let work = Work::new();
        let enc = round_trip(&work, src);
        // The metadata stands at the column of the first key's `?`.
        let question = src.lines().find(|l| l.trim_start().starts_with('?')).unwrap();
        let indent = question.len() - question.trim_start().len();
        assert!(enc.lines().any(|l| l == format!("{}sops:", " ".repeat(indent))), "{src:?}:\n{enc}");
    }
}

#[test]
fn a_file_over_half_a_megabyte_round_trips_from_a_file_and_from_standard_input() {
    // Inputs from 512 KiB on take another heap set-up (huge pages asked for before the input is
    // read).
    let mut src = String::from("# large\n");
    for i in 0..12_000 {
        src.push_str(&format!("key{i}:\n  name: value-{i}\n  list: [a, 'b', \"c{i}\"]\n"));
    }
    assert!(src.len() > 512 * 1024);
    let work = Work::new();
    let enc = round_trip(&work, &src);
    assert!(enc.len() > src.len());
    let back = run_ok(
        work.gitseal_with_key().args(["decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"]),
        Some(enc.as_bytes()),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&back), src);
}
