//! Redaction of secret keys in text that is about to be shown: error messages, warnings, logs.
//!
//! A user who passes a key file where a public key belongs (`--age "$(cat keys.txt)"`,
//! `SOPS_AGE_RECIPIENTS`), or a secret key as the value of any flag, must not see it echoed into
//! a terminal, a CI log or a bug report. [`redact_secrets`] replaces, in any letter case:
//!
//! - age identities: `AGE-SECRET-KEY-1...` (and other `AGE-SECRET-KEY-...-1...` kinds) and plugin
//!   identities `AGE-PLUGIN-<NAME>-1...`, up to the end of their Bech32 text;
//! - PEM private-key blocks (`-----BEGIN ... PRIVATE KEY-----`, PGP's `PRIVATE KEY BLOCK`), up
//!   to their `-----END ...-----` line, or to the end of the text when there is none.
//!
//! One pass over the text: every position is looked at once, and a match moves the scan past it.

use std::borrow::Cow;

/// What a redacted secret becomes.
pub const REDACTED: &str = "<secret key>";

/// The text with every age identity and PEM private-key block replaced by [`REDACTED`];
/// borrowed when there is none.
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match secret_at(bytes, i) {
            Some(end) => {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Whether `text` holds a secret key that [`redact_secrets`] would replace.
pub fn contains_secret(text: &str) -> bool {
    matches!(redact_secrets(text), Cow::Owned(_))
}

/// The end of the secret that starts at `i`, if one does.
fn secret_at(b: &[u8], i: usize) -> Option<usize> {
    match b[i] {
        b'a' | b'A' => age_identity_at(b, i),
        b'-' => pem_private_key_at(b, i),
        _ => None,
    }
}

/// `AGE-SECRET-KEY-` or `AGE-PLUGIN-`, then a name and data (`[A-Za-z0-9_+-]`) in which a `1`
/// (the Bech32 separator; the data alphabet has none) is followed by at least one data
/// character. Text such as `AGE-SECRET-KEY-1...` in a hint has no data and is left alone.
fn age_identity_at(b: &[u8], i: usize) -> Option<usize> {
    let start = ["AGE-SECRET-KEY-", "AGE-PLUGIN-"]
        .iter()
        .find(|p| starts_with_ignore_case(b, i, p.as_bytes()))
        .map(|p| i + p.len())?;
    let len = b[start..].iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-')).count();
    let run = &b[start..start + len];
    let has_data = run.iter().position(|&c| c == b'1').is_some_and(|sep| sep + 1 < run.len());
    has_data.then_some(start + len)
}

/// `-----BEGIN <label>-----` where the label (spaces ignored, since some parsers strip them)
/// names a private key, up to the end of its `-----END <label>-----` line; to the end of the
/// text when the block is not closed.
fn pem_private_key_at(b: &[u8], i: usize) -> Option<usize> {
    const BEGIN: &[u8] = b"-----BEGIN";
    if !starts_with_ignore_case(b, i, BEGIN) {
        return None;
    }
    let label_start = i + BEGIN.len();
    // The scan for the label's end stops at the next `-----`, where the next block would start.
    let label_end = find_ignore_case(b, label_start, b"-----").unwrap_or(b.len());
    let label = &b[label_start..label_end];
    let label = &label[..label.iter().position(|&c| c == b'\n').unwrap_or(label.len())];
    let squashed: Vec<u8> = label.iter().filter(|c| !c.is_ascii_whitespace()).map(u8::to_ascii_uppercase).collect();
    if !squashed.windows(10).any(|w| w == b"PRIVATEKEY") {
        return None;
    }
    let Some(end_marker) = find_ignore_case(b, label_end, b"-----END") else { return Some(b.len()) };
    let after = end_marker + b"-----END".len();
    Some(find_ignore_case(b, after, b"-----").map_or(b.len(), |n| n + 5))
}

fn starts_with_ignore_case(b: &[u8], i: usize, needle: &[u8]) -> bool {
    b.len() - i >= needle.len() && b[i..i + needle.len()].eq_ignore_ascii_case(needle)
}

/// The first position at or after `from` where `needle` (a few bytes) starts, in any case.
fn find_ignore_case(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    (from..b.len()).find(|&i| starts_with_ignore_case(b, i, needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../testdata/demo-age-key.txt");
    const SECRET: &str = "AGE-SECRET-KEY-1Q24E4E29L976ERVANS8NFG9JCP0N9MWQRE7T038HKRSC7ACXXYRSV5TGYL";

    #[test]
    fn text_without_secrets_is_borrowed() {
        for text in [
            "",
            "invalid age recipient \"age1abc\": bad checksum",
            "line 2 is not an age identity (AGE-SECRET-KEY-1... or AGE-PLUGIN-...)",
            "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n",
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
            "ünïcödé -----",
        ] {
            assert!(matches!(redact_secrets(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn age_identities_are_replaced_anywhere_in_any_case() {
        assert_eq!(redact_secrets(SECRET), REDACTED);
        assert_eq!(redact_secrets(&format!("key={SECRET}, next")), format!("key={REDACTED}, next"));
        assert_eq!(redact_secrets(&SECRET.to_ascii_lowercase()), REDACTED);
        let file = redact_secrets(DEMO);
        assert!(!file.contains(&SECRET[16..]) && file.contains("# public key: age1sv4"), "{file}");
        assert_eq!(redact_secrets(&format!("{SECRET}\"{SECRET}")), format!("{REDACTED}\"{REDACTED}"));
    }

    #[test]
    fn plugin_and_other_identities_are_replaced() {
        let plugin = "AGE-PLUGIN-YUBIKEY-1QQPQZQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS9X3VF";
        assert_eq!(redact_secrets(&format!("x {plugin} y")), format!("x {REDACTED} y"));
        assert_eq!(redact_secrets("age-plugin-fido2-hmac-1qqpqzq"), REDACTED);
        assert_eq!(redact_secrets("AGE-SECRET-KEY-PQ-1QQPQZQS"), REDACTED);
    }

    #[test]
    fn pem_private_keys_are_replaced_to_their_end_line_or_the_end() {
        let block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----";
        assert_eq!(redact_secrets(&format!("bad {block}\nafter")), format!("bad {REDACTED}\nafter"));
        assert_eq!(redact_secrets("x -----begin rsa private key-----\nMIIE"), format!("x {REDACTED}"));
        let pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----\n";
        assert_eq!(redact_secrets(pgp), format!("{REDACTED}\n"));
        let squashed = "-----BEGINPGPPRIVATEKEYBLOCK-----lQOYBF-----ENDPGPPRIVATEKEYBLOCK-----";
        assert_eq!(redact_secrets(squashed), REDACTED);
        assert_eq!(redact_secrets("-----BEGIN PRIVATE KEY"), REDACTED);
    }

    #[test]
    fn contains_secret_agrees() {
        assert!(contains_secret(DEMO));
        assert!(!contains_secret("age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d"));
    }
}
