//! Writing YAML scalars: in the style the source used where the value allows it, otherwise in
//! the nearest style that keeps the value and its type.

use super::resolve::{plain_reads_as_str, resolve_plain, Resolved};
use crate::model::{Leaf, Scalar, Style};
use crate::scalar::format_float;
use crate::text::line_start;
use std::borrow::Cow;

/// Text for `value` in place of `leaf` (its span), keeping the leaf's style where possible.
/// `line_indent` gives the indentation of the line the leaf sits on (asked only for block
/// output), `step` is the file's indent step.
pub(crate) fn render_leaf<'a>(
    leaf: &'a Leaf,
    value: &'a Scalar,
    line_indent: &dyn Fn() -> usize,
    step: usize,
) -> Cow<'a, str> {
    match value {
        // A string's literal is its source text (restored layout); a number's spelling left
        // on a leaf that now holds a string is not.
        Scalar::Str(_) if leaf.literal.as_deref().is_some_and(plain_reads_as_str) => {
            Cow::Borrowed(leaf.literal.as_deref().unwrap_or_default())
        }
        Scalar::Str(s) => render_str(s, leaf.style, leaf.in_flow, leaf.indent, line_indent, step),
        other => match &leaf.literal {
            Some(l) if literal_reads_as(l, other) => Cow::Borrowed(l),
            _ => Cow::Owned(render_non_str(other)),
        },
    }
}

/// What decrypting will write for `leaf` (of `src`), once the envelope has encrypted it and
/// read it back: the encrypted form keeps the leaf's style (quotes, block indicator and
/// indentation), and `payload` is the text the value was encrypted as (numbers keep their
/// spelling). The envelope compares this with the source to know which layouts to remember.
pub(crate) fn decrypted_text<'a>(src: &str, step: usize, leaf: &'a Leaf, payload: Option<&str>) -> Cow<'a, str> {
    // Measured as the writer measures it, so the prediction matches what decryption writes.
    let line_indent = || if needs_line_indent(leaf) { line_indent(src, leaf.span.start) } else { 0 };
    let (style, indent) = match leaf.style {
        Style::Plain if leaf.in_flow => (Style::SingleQuoted, 0),
        Style::Literal | Style::Folded if !leaf.in_flow => {
            let line_indent = line_indent();
            (leaf.style, if leaf.indent > line_indent { leaf.indent } else { line_indent + step.max(1) })
        }
        Style::Literal | Style::Folded => (Style::DoubleQuoted, 0),
        other => (other, 0),
    };
    let literal = payload.filter(|p| !crate::is_canonical_bool_payload(p));
    if let (Scalar::Str(s), None) = (&leaf.value, literal) {
        // What `render_leaf` writes for a string with no literal, borrowed from the value: a
        // large file's strings are mostly written as they are, and need no copy to compare.
        return render_str(s, style, leaf.in_flow, indent, &line_indent, step);
    }
    let reread = Leaf {
        value: Scalar::Null,
        span: leaf.span,
        style,
        indent,
        changed: true,
        in_flow: leaf.in_flow,
        literal: literal.map(str::to_string),
        token_in_source: false,
    };
    Cow::Owned(render_leaf(&reread, &leaf.value, &line_indent, step).into_owned())
}

/// Only block scalars (kept or new) depend on the indentation of the leaf's line.
pub(crate) fn needs_line_indent(leaf: &Leaf) -> bool {
    match &leaf.value {
        Scalar::Str(s) => {
            leaf.literal.is_none() && (matches!(leaf.style, Style::Literal | Style::Folded) || s.contains('\n'))
        }
        _ => false,
    }
}

/// The indentation a block scalar's content is measured from: the line's, or for a mapping
/// value on a line that opens list items (`- - key: value`), the key's column.
pub(crate) fn line_indent(src: &str, at: usize) -> usize {
    let ls = line_start(src, at);
    let line = &src[ls..at.max(ls)];
    let spaces = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[spaces..];
    let mut col = spaces;
    while let Some(r) = rest.strip_prefix("- ") {
        let blanks = r.len() - r.trim_start_matches(' ').len();
        col += 2 + blanks;
        rest = &r[blanks..];
    }
    if col > spaces && rest.contains(": ") {
        col
    } else {
        spaces
    }
}

/// True when `literal` resolves as a plain YAML scalar to exactly `value`.
fn literal_reads_as(literal: &str, value: &Scalar) -> bool {
    match (resolve_plain(literal), value) {
        (Resolved::Value(Scalar::Int(a)), Scalar::Int(b)) => a == *b,
        (Resolved::Value(Scalar::Float(a)), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
        (Resolved::Value(Scalar::Bool(a)), Scalar::Bool(b)) => a == *b,
        (Resolved::Value(Scalar::Time(ref a)), Scalar::Time(b)) => a == b,
        _ => false,
    }
}

/// A non-string scalar as plain YAML that resolves back to the same type and value.
pub(crate) fn render_non_str(value: &Scalar) -> String {
    match value {
        Scalar::Null => "null".to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => yaml_float(*f),
        // The timestamp the payload holds, as sops prints it (a date the author wrote as a
        // date comes back through the layout memory).
        Scalar::Time(t) => t.clone(),
        Scalar::Str(s) => double_quoted(s),
    }
}

/// A float as YAML text that resolves to a float again (`1000.0`, not `1000`).
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        return format!("{f:e}");
    }
    let s = format_float(f);
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// A string in the requested style, or the nearest style that can hold it.
/// `line_indent` gives the indentation a block scalar is measured from; it is asked only for
/// block output (most values are written plain or quoted, and finding it reads the line).
pub(crate) fn render_str<'s>(
    s: &'s str,
    style: Style,
    in_flow: bool,
    indent: usize,
    line_indent: &dyn Fn() -> usize,
    step: usize,
) -> Cow<'s, str> {
    // Inside flow collections an ENC string cannot be plain: plain and single-quoted values
    // are both written single-quoted there, so on the way back a single-quoted one becomes
    // plain again whenever the value allows it.
    if in_flow && matches!(style, Style::Plain | Style::SingleQuoted) {
        return if is_plain_safe(s, true) && !(style == Style::Plain && s.starts_with("ENC[")) {
            Cow::Borrowed(s)
        } else if single_quotable(s) && !s.contains('\n') {
            Cow::Owned(single_quoted(s))
        } else {
            Cow::Owned(double_quoted(s))
        };
    }
    Cow::Owned(match style {
        Style::Plain if is_plain_safe(s, in_flow) => return Cow::Borrowed(s),
        Style::Plain if s.contains('\n') && !in_flow => {
            let line_indent = line_indent();
            block(s, '|', line_indent + step.max(1), line_indent).unwrap_or_else(|| double_quoted(s))
        }
        Style::Plain => double_quoted(s),
        Style::SingleQuoted if single_quotable(s) => single_quoted(s),
        Style::SingleQuoted | Style::DoubleQuoted => double_quoted(s),
        Style::Literal | Style::Folded if in_flow => double_quoted(s),
        Style::Literal | Style::Folded => {
            let line_indent = line_indent();
            let indent = if indent > line_indent { indent } else { line_indent + step.max(1) };
            let kind = if style == Style::Literal || s.trim_end_matches('\n').contains('\n') { '|' } else { '>' };
            block(s, kind, indent, line_indent).unwrap_or_else(|| double_quoted(s))
        }
    })
}

/// A sops value token (`ENC[AES256_GCM,data:...,type:str]`) of printable ASCII without spaces:
/// in block context such a text is a plain scalar that reads as this string (it starts with a
/// letter, ends with `]`, and without a space or tab it holds no `: ` and no ` #`). Most values
/// a file holds once it is encrypted are these, hence the quick check.
pub(crate) fn is_value_token(s: &str) -> bool {
    // One range test per byte and no early exit: the loop runs on vectors.
    s.starts_with("ENC[AES256_GCM,data:")
        && s.ends_with(']')
        && s.bytes().fold(true, |ok, c| ok & (c.wrapping_sub(b'!') < b'~' - b'!' + 1))
}

const ORDINARY: u8 = 0;
const BLANK: u8 = 1;
const HASH: u8 = 2;
const FLOW: u8 = 3;
const CONTROL: u8 = 4;

/// What each byte means to a plain scalar (non-ASCII bytes are checked apart).
static CLASS: [u8; 256] = {
    let mut t = [ORDINARY; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = CONTROL;
        c += 1;
    }
    t[0x7f] = CONTROL;
    t[b' ' as usize] = BLANK;
    t[b'\t' as usize] = BLANK;
    t[b'#' as usize] = HASH;
    t[b',' as usize] = FLOW;
    t[b'[' as usize] = FLOW;
    t[b']' as usize] = FLOW;
    t[b'{' as usize] = FLOW;
    t[b'}' as usize] = FLOW;
    t
};

/// True when `s` can be written as a plain scalar and reads back as this same string.
pub(crate) fn is_plain_safe(s: &str, in_flow: bool) -> bool {
    (!in_flow && is_value_token(s)) || plain_safe(s, in_flow)
}

/// [`is_plain_safe`] without the quick check for value tokens.
fn plain_safe(s: &str, in_flow: bool) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' || first == b'\t' || last == b'\t' || last == b':' {
        return false;
    }
    let next_is_space = b.get(1).is_none_or(|c| *c == b' ' || *c == b'\t');
    match first {
        b'-' | b'?' | b':' if next_is_space => return false,
        b'-' if s.starts_with("---") => return false,
        b'.' if s.starts_with("...") => return false,
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
        | b'`' => return false,
        _ => {}
    }
    // One pass: no ": " or " #" (or tab forms), no flow indicators inside flow collections,
    // no control characters. Most bytes are ordinary, which the class table finds in one step.
    let mut prev = 0u8;
    for &c in b {
        let bad = match CLASS[usize::from(c)] {
            ORDINARY => false,
            BLANK => prev == b':',
            HASH => prev == b' ' || prev == b'\t',
            FLOW => in_flow,
            _ => true,
        };
        if bad {
            return false;
        }
        prev = c;
    }
    if !s.is_ascii()
        && s.chars().any(|c| c.is_control() || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}'))
    {
        return false;
    }
    plain_reads_as_str(s) && !yaml11_typed(s)
}

/// Plain text that go-yaml v3 reads as a string but a YAML 1.1 reader (go-yaml v2, which
/// Kubernetes decodes with, PyYAML, Ruby) reads otherwise: the old booleans (`yes`, `off`, `Y`),
/// sexagesimal numbers (`1:20`), the merge key `<<` and the value key `=`. go-yaml v3, which
/// sops writes with, quotes the first two; quoting them all keeps the data one for every reader.
fn yaml11_typed(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
            | "<<"
            | "="
    ) || is_base60(s)
}

/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`, go-yaml's sexagesimal float.
fn is_base60(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit() || **c == b'_').count();
    if b.first().is_none_or(|c| !c.is_ascii_digit()) {
        return false;
    }
    let mut i = digits(0);
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 2 || (n == 2 && b[i + 1] > b'5') {
            return false;
        }
        i += 1 + n;
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1 + digits(i + 1);
    }
    i == b.len()
}

fn single_quotable(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || c == '\u{feff}')
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A double-quoted scalar with YAML escapes for everything that is not printable.
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() || c == '\u{feff}' => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A block scalar (`|` or `>`) with content at column `indent` under a parent indented by
/// `parent`, written from its header up to the end of its last line (no final newline: the
/// source's own newline follows). `None` when the value cannot be a block scalar.
fn block(s: &str, kind: char, indent: usize, parent: usize) -> Option<String> {
    if s.is_empty() || s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}') {
        return None;
    }
    let body = s.trim_end_matches('\n');
    if body.is_empty() {
        return None;
    }
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let lines: Vec<&str> = body.split('\n').collect();
    let leading_space = lines.iter().find(|l| !l.is_empty()).is_some_and(|l| l.starts_with(' '));
    if kind == '>' && lines.len() > 1 {
        return None;
    }
    let mut out = String::with_capacity(s.len() + lines.len() * (indent + 1) + 4);
    out.push(kind);
    if leading_space {
        let indicator = indent.checked_sub(parent).filter(|d| (1..=9).contains(d))?;
        out.push_str(&indicator.to_string());
    }
    out.push_str(chomp);
    let pad = " ".repeat(indent);
    for line in &lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_safety() {
        assert!(is_value_token("ENC[AES256_GCM,data:x+/=,iv:y,tag:z,type:str]"));
        assert!(!is_value_token("ENC[AES256_GCM,data:x y,iv:y,tag:z,type:str]"));
        assert!(!is_value_token("ENC[AES256_GCM,data:x: y]"));
        // Every character, in the middle of a token and at its end: the quick check takes
        // printable ASCII without spaces, and whatever it takes, the whole check takes too.
        for c in (0..=0x7f_u8).map(char::from).chain(['\u{80}', 'é', '\u{2028}', '\u{feff}']) {
            for token in [
                format!("ENC[AES256_GCM,data:a{c}b,iv:y,tag:z,type:str]"),
                format!("ENC[AES256_GCM,data:{c}]"),
                format!("ENC[AES256_GCM,data:a{c}]"),
                format!("ENC[AES256_GCM,data:a{c}{c}b]"),
            ] {
                let allowed = c.is_ascii_graphic();
                assert_eq!(is_value_token(&token), allowed, "{token:?}");
                if allowed {
                    assert!(plain_safe(&token, false), "{token:?}");
                }
            }
        }
        for s in ["hello", "a:b", "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", "x-y", "-x", "a#b"] {
            assert!(is_plain_safe(s, false), "{s}");
        }
        for s in ["", " a", "a ", "123", "true", "null", "a: b", "a #b", "- x", "#x", "'q", "1e3", "2024-01-02", "~"] {
            assert!(!is_plain_safe(s, false), "{s}");
        }
        assert!(!is_plain_safe("a,b", true));
    }

    /// Regression: strings a YAML 1.1 reader types (booleans, sexagesimals) came out plain.
    #[test]
    fn yaml11_booleans_and_sexagesimals_are_quoted() {
        for s in ["yes", "No", "OFF", "on", "y", "N", "1:20", "-1:20:30.5", "190:20:30", "1_0:59", "<<", "="] {
            assert!(!is_plain_safe(s, false), "{s}");
        }
        for s in ["yess", "1:60", ":20", "1::2", "a1:20", "1:20x", "1:200", "ya", "onn"] {
            assert!(is_plain_safe(s, false), "{s}");
        }
    }

    #[test]
    fn floats_stay_floats() {
        assert_eq!(yaml_float(1000.0), "1000.0");
        assert_eq!(yaml_float(-0.0), "-0.0");
        assert_eq!(yaml_float(0.5), "0.5");
        assert_eq!(yaml_float(1.5e300), "1.5e300");
        assert_eq!(yaml_float(f64::INFINITY), ".inf");
    }

    #[test]
    fn blocks_follow_chomping() {
        assert_eq!(block("a\nb\n", '|', 2, 0).unwrap(), "|\n  a\n  b");
        assert_eq!(block("a\nb", '|', 2, 0).unwrap(), "|-\n  a\n  b");
        assert_eq!(block("a\n\n", '|', 2, 0).unwrap(), "|+\n  a\n");
        assert_eq!(block(" a\n", '|', 2, 0).unwrap(), "|2\n   a");
        assert_eq!(block(" a\n", '|', 6, 4).unwrap(), "|2\n       a");
        assert_eq!(block("a\n\nb\n", '|', 4, 2).unwrap(), "|\n    a\n\n    b");
    }

    #[test]
    fn double_quotes_escape() {
        assert_eq!(double_quoted("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\x01\"");
    }
}
