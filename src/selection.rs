//! Which leaves get encrypted: the six sops rules and the `_unencrypted` default (sops-format §5).

use regex::Regex;

/// The default rule when none is given.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// One selection rule (sops allows at most one per file).
#[derive(Clone, Debug)]
pub enum Rule {
    /// Keys with this suffix (and everything under them) stay plaintext.
    UnencryptedSuffix(String),
    /// Only keys with this suffix (and everything under them) are encrypted.
    EncryptedSuffix(String),
    /// Keys matching stay plaintext.
    UnencryptedRegex(Regex),
    /// Only keys matching are encrypted.
    EncryptedRegex(Regex),
    /// Values after a matching comment stay plaintext.
    UnencryptedCommentRegex(Regex),
    /// Only values after a matching comment are encrypted.
    EncryptedCommentRegex(Regex),
}

impl Default for Rule {
    fn default() -> Rule {
        Rule::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_string())
    }
}

impl Rule {
    /// The metadata field name and value for this rule.
    pub fn field(&self) -> (&'static str, &str) {
        match self {
            Rule::UnencryptedSuffix(s) => ("unencrypted_suffix", s),
            Rule::EncryptedSuffix(s) => ("encrypted_suffix", s),
            Rule::UnencryptedRegex(r) => ("unencrypted_regex", r.as_str()),
            Rule::EncryptedRegex(r) => ("encrypted_regex", r.as_str()),
            Rule::UnencryptedCommentRegex(r) => ("unencrypted_comment_regex", r.as_str()),
            Rule::EncryptedCommentRegex(r) => ("encrypted_comment_regex", r.as_str()),
        }
    }

    /// Builds a rule from its metadata field name (a regex error on one line: see
    /// [`regex_error`]).
    pub fn from_field(name: &str, value: &str) -> Result<Option<Rule>, regex::Error> {
        let re = || Regex::new(value);
        Ok(Some(match name {
            "unencrypted_suffix" => Rule::UnencryptedSuffix(value.to_string()),
            "encrypted_suffix" => Rule::EncryptedSuffix(value.to_string()),
            "unencrypted_regex" => Rule::UnencryptedRegex(re()?),
            "encrypted_regex" => Rule::EncryptedRegex(re()?),
            "unencrypted_comment_regex" => Rule::UnencryptedCommentRegex(re()?),
            "encrypted_comment_regex" => Rule::EncryptedCommentRegex(re()?),
            _ => return Ok(None),
        }))
    }

    /// The metadata field names of all rules.
    pub const FIELDS: [&'static str; 6] = [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ];

    /// Whether one key (a path component) matches a key-based rule. Evaluated once per key as
    /// the walk descends, so a leaf's decision costs no regex work.
    pub fn key_matches(&self, key: &str) -> bool {
        match self {
            Rule::UnencryptedSuffix(s) | Rule::EncryptedSuffix(s) => key.ends_with(s.as_str()),
            Rule::UnencryptedRegex(r) | Rule::EncryptedRegex(r) => r.is_match(key),
            Rule::UnencryptedCommentRegex(_) | Rule::EncryptedCommentRegex(_) => false,
        }
    }

    /// Whether a leaf is encrypted. `key_matched`: some key on its path matches the rule;
    /// `comments`: the comments that precede it at each level (for a comment leaf, the last
    /// one of the innermost level is the leaf itself).
    pub fn encrypts(&self, key_matched: bool, comments: &[Vec<String>], leaf_is_comment: bool) -> bool {
        match self {
            Rule::UnencryptedSuffix(_) | Rule::UnencryptedRegex(_) => !key_matched,
            Rule::EncryptedSuffix(_) | Rule::EncryptedRegex(_) => key_matched,
            Rule::UnencryptedCommentRegex(r) => !comments.iter().flatten().any(|c| r.is_match(c)),
            Rule::EncryptedCommentRegex(r) => {
                let last = comments.len().saturating_sub(1);
                comments.iter().enumerate().any(|(level, cs)| {
                    let cs = if leaf_is_comment && level == last { &cs[..cs.len().saturating_sub(1)] } else { cs };
                    cs.iter().any(|c| r.is_match(c))
                })
            }
        }
    }
}

/// A regex error on one line, without the pattern (the regex crate draws a caret under the
/// pattern on lines of their own; the pattern may be something the user did not mean to show).
pub fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rules() {
        let r = Rule::default();
        assert!(r.key_matches("password_unencrypted"));
        assert!(!r.encrypts(true, &[], false));
        assert!(r.encrypts(false, &[], false));
        let e = Rule::EncryptedRegex(Regex::new("^pass").unwrap());
        assert!(e.key_matches("password") && !e.key_matches("user"));
        assert!(e.encrypts(true, &[], false) && !e.encrypts(false, &[], false));
    }

    #[test]
    fn comment_rules_follow_sops() {
        let enc = Rule::EncryptedCommentRegex(Regex::new("sops:enc").unwrap());
        let stack = vec![vec![" sops:enc".to_string()]];
        // The matching comment itself stays plain, what follows it is encrypted.
        assert!(!enc.encrypts(false, &stack, true));
        assert!(enc.encrypts(false, &stack, false));
        let two = vec![vec![" sops:enc".to_string(), " second".to_string()]];
        assert!(enc.encrypts(false, &two, true));
        let plain = Rule::UnencryptedCommentRegex(Regex::new("sops:plain").unwrap());
        assert!(!plain.encrypts(false, &[vec![" sops:plain".into()]], true));
        assert!(plain.encrypts(false, &[vec![" other".into()]], false));
    }
}
