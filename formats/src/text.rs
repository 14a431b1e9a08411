//! Small text helpers shared by the codecs.

use crate::model::Span;

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_column(src: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(src, at.min(src.len()));
    let before = &src[..at];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..at].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The text of an edit: owned texts may be decrypted values, wiped once applied.
pub trait EditText: AsRef<str> {
    /// Wipes the text when the edit owns it.
    fn wipe(&mut self);
}

impl EditText for String {
    fn wipe(&mut self) {
        zeroize::Zeroize::zeroize(self);
    }
}

impl EditText for std::borrow::Cow<'_, str> {
    fn wipe(&mut self) {
        if let std::borrow::Cow::Owned(s) = self {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

/// Sorts edits by `key`, stably. A codec collects a large file's edits in source order, where
/// they already are: the check spares the sort's scratch buffer, as large as the list (a 9 MB
/// file's edits take 2.3 MB), at the point where the tree, the input and the output are all
/// held.
pub fn sort_edits<T, K: Ord>(edits: &mut [(Span, T)], key: impl Fn(&Span) -> K) {
    if !edits.is_sorted_by_key(|(s, _)| key(s)) {
        edits.sort_by_key(|(s, _)| key(s));
    }
}

/// Applies non-overlapping replacements, given in any order, to `src`, and wipes their texts.
pub fn apply_edits<T: EditText>(src: &str, edits: &mut [(Span, T)]) -> String {
    sort_edits(edits, |s| (s.start, s.end));
    // The exact length: callers wipe the whole buffer when done with it (decrypted text), and
    // spare capacity would be fresh pages faulted in only to be wiped.
    let (removed, added) =
        edits.iter().fold((0, 0), |(r, a), (span, t)| (r + (span.end - span.start), a + t.as_ref().len()));
    let mut out = String::with_capacity((src.len() + added).saturating_sub(removed));
    let mut pos = 0;
    for (span, text) in edits.iter() {
        debug_assert!(span.start >= pos, "overlapping edits");
        out.push_str(&src[pos..span.start]);
        out.push_str(text.as_ref());
        pos = span.end;
    }
    out.push_str(&src[pos..]);
    edits.iter_mut().for_each(|(_, text)| text.wipe());
    out
}

/// Start of the line that holds byte offset `at`.
pub fn line_start(src: &str, at: usize) -> usize {
    memchr::memrchr(b'\n', &src.as_bytes()[..at]).map_or(0, |i| i + 1)
}

/// Offset just past the newline that ends the line holding `at` (or the end of `src`).
pub fn next_line_start(src: &str, at: usize) -> usize {
    memchr::memchr(b'\n', &src.as_bytes()[at..]).map_or(src.len(), |i| at + i + 1)
}

/// Appends a metadata `block` (ending with `nl`) after a blank line. The result ends with a line
/// break exactly when `out` did, so that stripping the block restores `out` byte for byte.
pub(crate) fn append_block(out: &mut String, mut block: String, nl: &str) {
    if out.is_empty() {
        block.truncate(block.len() - nl.len());
    } else if out.ends_with('\n') {
        out.push_str(nl);
    } else {
        out.push_str(nl);
        out.push_str(nl);
        block.truncate(block.len() - nl.len());
    }
    out.push_str(&block);
}

/// A line without its comment (only used on lines that hold no quoted text).
pub(crate) fn code_of(line: &str) -> &str {
    match line.find('#') {
        Some(h) if h == 0 || line[..h].ends_with([' ', '\t']) => &line[..h],
        _ => line,
    }
}

/// The `?` of an explicit mapping key whose key text starts at `key`, when it stands before the
/// key on the same line or on an earlier one (blank and comment lines between).
pub(crate) fn explicit_key_indicator(src: &str, key: usize) -> Option<usize> {
    let mut end = key;
    loop {
        let ls = line_start(src, end);
        let line = &src[ls..end];
        // Nearly every key's line starts with spaces alone, and the line above holds code and
        // no `?` (a parent's `key:`): decided from the bytes, without the trims below.
        let b = line.as_bytes();
        match b.iter().position(|&c| c != b' ') {
            None if ls > 0 => {
                end = ls - 1;
                continue;
            }
            None => return None,
            Some(i) if b[i].is_ascii_graphic() && b[i] != b'#' && memchr::memchr(b'?', b).is_none() => return None,
            Some(_) => {}
        }
        let code = code_of(line).trim_end();
        if code.ends_with('?') {
            return Some(ls + code.len() - 1);
        }
        if !code.trim().is_empty() || ls == 0 {
            return None;
        }
        end = ls - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `?` search as it was written before its fast path: the reference.
    fn explicit_key_indicator_by_trims(src: &str, key: usize) -> Option<usize> {
        let mut end = key;
        loop {
            let ls = line_start(src, end);
            let code = code_of(&src[ls..end]).trim_end();
            if code.ends_with('?') {
                return Some(ls + code.len() - 1);
            }
            if !code.trim().is_empty() || ls == 0 {
                return None;
            }
            end = ls - 1;
        }
    }

    /// Before every position of texts built from lines of keys, `?`, comments, blanks, tabs and
    /// other whitespace, the fast path finds what the trims find.
    #[test]
    fn the_explicit_key_search_finds_what_the_trims_find() {
        let pieces = ["", "  ", "\t", "?", "? ", "a", "a:", "#", " # c ?", "x?", "\u{a0}", "- ", "?#", "é"];
        let mut checked = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let src = format!("{a}{b}\n{c}{a}\n{b}{c}k: v\n");
                    for key in (0..=src.len()).filter(|&k| src.is_char_boundary(k)) {
                        let expected = explicit_key_indicator_by_trims(&src, key);
                        assert_eq!(explicit_key_indicator(&src, key), expected, "{src:?} at {key}");
                        checked += usize::from(expected.is_some());
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} indicators found");
    }

    #[test]
    fn edits_are_applied_into_a_buffer_of_the_exact_length() {
        let src = "a: ENC[long ciphertext]\nb: 2\n";
        // Out of order, a shrinking, a growing and an empty replacement, and an insertion.
        let mut edits = vec![
            (Span::new(27, 28), "twenty".to_string()),
            (Span::new(3, 23), "x".to_string()),
            (Span::new(29, 29), "c: 3\n".to_string()),
            (Span::new(0, 0), String::new()),
        ];
        let out = apply_edits(src, &mut edits);
        assert_eq!(out, "a: x\nb: twenty\nc: 3\n");
        assert_eq!(out.capacity(), out.len());
        assert!(edits.iter().all(|(_, t)| t.is_empty()), "an applied edit's text was not wiped");
    }

    /// Edits in order stay as they are; others are sorted, and edits with the same key keep
    /// their order (two insertions at one place are written in the order they were made).
    #[test]
    fn edits_are_sorted_stably_whatever_order_they_come_in() {
        let by_start = |s: &Span| s.start;
        let mut edits =
            vec![(Span::new(9, 9), "c"), (Span::new(2, 4), "a"), (Span::new(9, 9), "d"), (Span::new(2, 2), "b")];
        sort_edits(&mut edits, by_start);
        assert_eq!(edits.iter().map(|(_, t)| *t).collect::<String>(), "abcd");
        sort_edits(&mut edits, by_start);
        assert_eq!(edits.iter().map(|(_, t)| *t).collect::<String>(), "abcd");
        let mut reversed: Vec<_> = (0..100).rev().map(|i| (Span::new(i, i + 1), i)).collect();
        sort_edits(&mut reversed, |s| s.start);
        assert!(reversed.iter().enumerate().all(|(i, (s, t))| s.start == i && *t == i));
    }
}
