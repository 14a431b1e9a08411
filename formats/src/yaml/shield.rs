//! A pre-pass that keeps long sops value tokens away from the YAML scanner.
//!
//! An encrypted file is mostly `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]` tokens, which
//! are opaque to YAML, yet saphyr scans them one character at a time (most of the parse time).
//! Before parsing, every such token that makes up a whole scalar (after `: `, `- `, a quote or
//! a block scalar's indentation, and before a closing quote, a comment or the end of the line)
//! is swapped for a short placeholder; event positions are mapped back to the original text and
//! the values put back. Tokens anywhere else (e.g. unquoted inside a flow collection, where they
//! are invalid YAML) are left alone, so the parser still sees and rejects them.

use std::borrow::Cow;

/// Placeholders are `~g<index>~`: plain ASCII, valid in every scalar style, and short. A value
/// is only ever matched against the placeholders of the tokens inside its own span.
const OPEN: &str = "~g";
const CLOSE: char = '~';

/// The text the parser sees, with the means to map back.
pub(crate) struct Shielded {
    /// Text with placeholders.
    pub text: String,
    /// Original byte ranges of the tokens, in order.
    tokens: Vec<(usize, usize)>,
    /// For each token: the byte offset just past its placeholder in `text`, and how many bytes
    /// shorter `text` is than the original up to that point.
    marks: Vec<(usize, usize)>,
    /// Where the last lookup ended: positions arrive in order, so lookups are amortised O(1).
    cursor: std::cell::Cell<usize>,
}

impl Shielded {
    /// The shielded text, or `None` when there is nothing to shield (the parser then reads the
    /// source as it is).
    pub fn new(src: &str) -> Option<Shielded> {
        const PREFIX: &[u8] = b"ENC[AES256_GCM,data:";
        let b = src.as_bytes();
        let mut tokens = Vec::new();
        let mut i = 0;
        let finder = memchr::memmem::Finder::new(PREFIX);
        while let Some(off) = finder.find(&b[i..]) {
            let start = i + off;
            i = start + 1;
            if let Some(end) = token_end(src, start) {
                if opens_scalar(src, start) && closes_scalar(src, end) {
                    tokens.push((start, end));
                    i = end;
                }
            }
        }
        // A placeholder must never match text of the file itself.
        if tokens.is_empty() || src.contains(OPEN) {
            return None;
        }
        let mut text = String::with_capacity(src.len() / 4);
        let mut marks = Vec::with_capacity(tokens.len());
        let mut pos = 0;
        let mut shrink = 0;
        for (i, &(s, e)) in tokens.iter().enumerate() {
            text.push_str(&src[pos..s]);
            let before = text.len();
            text.push_str(OPEN);
            push_decimal(&mut text, i);
            text.push(CLOSE);
            shrink += (e - s) - (text.len() - before);
            marks.push((text.len(), shrink));
            pos = e;
        }
        text.push_str(&src[pos..]);
        Some(Shielded { text, tokens, marks, cursor: std::cell::Cell::new(0) })
    }

    /// The original byte offset of byte offset `pos` of the shielded text. Event boundaries
    /// never fall inside a placeholder.
    pub fn to_original(&self, pos: usize) -> usize {
        let mut n = self.cursor.get();
        if n > 0 && self.marks[n - 1].0 > pos {
            n = self.marks.partition_point(|&(end, _)| end <= pos);
        }
        while n < self.marks.len() && self.marks[n].0 <= pos {
            n += 1;
        }
        self.cursor.set(n);
        if n == 0 {
            pos
        } else {
            pos + self.marks[n - 1].1
        }
    }

    /// The value of the scalar at original range `start..end` (quotes included), given the
    /// value the parser read: a scalar that is exactly one token is that token; otherwise the
    /// placeholders of the tokens inside the range are put back.
    pub fn restore<'v>(&self, src: &str, value: Cow<'v, str>, start: usize, end: usize) -> Cow<'v, str> {
        let first = self.tokens.partition_point(|&(s, _)| s < start);
        let Some(&(s, e)) = self.tokens.get(first).filter(|&&(s, _)| s < end) else { return value };
        if (s, e) == (start, end) || (s, e) == (start + 1, end - 1) {
            return Cow::Owned(src[s..e].to_string());
        }
        // One pass over the value: each `~g<index>~` of a token inside this span becomes it.
        let last = self.tokens.partition_point(|&(s, _)| s < end);
        let mut out = String::with_capacity(value.len() + 160 * (last - first));
        let mut rest: &str = &value;
        while let Some(at) = rest.find(OPEN) {
            out.push_str(&rest[..at]);
            let after = &rest[at + OPEN.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let index = after[..digits].parse::<usize>().ok().filter(|i| (first..last).contains(i));
            match (index, after[digits..].starts_with(CLOSE)) {
                (Some(i), true) => {
                    let (s, e) = self.tokens[i];
                    out.push_str(&src[s..e]);
                    rest = &after[digits + CLOSE.len_utf8()..];
                }
                _ => {
                    out.push_str(OPEN);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
}

/// Bytes of standard base64 with padding.
static BASE64: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c == b'+' as usize || c == b'/' as usize || c == b'=' as usize;
        c += 1;
    }
    t
};

/// End of the run of base64 bytes that starts at `i`; eight bytes at a time (this scan is most
/// of the shield's work).
fn base64_run(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        if !chunk.iter().all(|&c| BASE64[usize::from(c)]) {
            break;
        }
        i += 8;
    }
    while i < b.len() && BASE64[usize::from(b[i])] {
        i += 1;
    }
    i
}

/// End of a well-formed token starting at `start`: base64 fields, a lower-case type, `]`.
fn token_end(src: &str, start: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = start + "ENC[AES256_GCM,".len();
    for field in ["data:", ",iv:", ",tag:"] {
        if !src[i..].starts_with(field) {
            return None;
        }
        i = base64_run(b, i + field.len());
    }
    if !src[i..].starts_with(",type:") {
        return None;
    }
    i += ",type:".len();
    let t = i;
    while i < b.len() && b[i].is_ascii_lowercase() {
        i += 1;
    }
    (i > t && b.get(i) == Some(&b']')).then_some(i + 1)
}

fn opens_scalar(src: &str, start: usize) -> bool {
    let before = &src.as_bytes()[..start];
    match before.last() {
        None | Some(b'\n' | b'"' | b'\'') => true,
        Some(b' ') => {
            let trimmed = before.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
            matches!(before.get(trimmed.wrapping_sub(1)), None | Some(b'\n' | b':' | b'-')) || trimmed == 0
        }
        _ => false,
    }
}

fn closes_scalar(src: &str, end: usize) -> bool {
    let rest = &src.as_bytes()[end..];
    match rest.first() {
        None | Some(b'\n' | b'\r' | b'"' | b'\'') => true,
        Some(b' ' | b'\t') => {
            let t = rest.iter().position(|&c| c != b' ' && c != b'\t').unwrap_or(rest.len());
            matches!(rest.get(t), None | Some(b'\n' | b'\r' | b'#'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ENC[AES256_GCM,data:aGk=,iv:AAAA,tag:BBBB,type:str]";

    #[test]
    fn shields_whole_scalars_only() {
        let src = format!("a: {TOKEN}\nb: \"{TOKEN}\"\n- {TOKEN} # c\n#{TOKEN}\nf: {{x: {TOKEN}, y: 1}}\n");
        let s = Shielded::new(&src).unwrap();
        assert_eq!(s.tokens.len(), 3, "{}", s.text);
        assert!(s.text.contains(&format!("f: {{x: {TOKEN}, y: 1}}")), "flow token left for the parser");
        let at = s.text.find("b: \"").unwrap() + 4;
        assert_eq!(&src[s.to_original(at)..][..TOKEN.len()], TOKEN);
        let (b0, b1) = s.tokens[1];
        assert_eq!(s.restore(&src, Cow::Borrowed("~g1~"), b0 - 1, b1 + 1), TOKEN);
        let block = s.restore(&src, Cow::Borrowed("x ~g1~\n"), 0, src.len());
        assert_eq!(block, format!("x {TOKEN}\n"));
    }

    #[test]
    fn files_that_contain_a_placeholder_are_not_shielded() {
        assert!(Shielded::new(&format!("k: |\n  ~g0~\n  {TOKEN}\n")).is_none());
    }

    #[test]
    fn many_tokens_in_one_scalar_restore_in_one_pass() {
        let lines: String = (0..2000).map(|_| format!("  {TOKEN}\n")).collect();
        let src = format!("k: |\n{lines}");
        let s = Shielded::new(&src).unwrap();
        let value: String = (0..2000).map(|i| format!("~g{i}~\n")).collect();
        let restored = s.restore(&src, Cow::Owned(value), 0, src.len());
        assert_eq!(restored, (0..2000).map(|_| format!("{TOKEN}\n")).collect::<String>());
    }

    #[test]
    fn leaves_malformed_tokens_alone() {
        assert!(Shielded::new("a: ENC[AES256_GCM,data:x y,iv:a,tag:b,type:str]\n").is_none());
        assert!(Shielded::new("a: ENC[AES256_GCM,data:xx,iv:a,tag:b,type:str]tail\n").is_none());
        assert!(Shielded::new("plain: file\n").is_none());
    }
}
