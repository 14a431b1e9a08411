//! `gitseal encrypt`.

use gitseal_keys::age::Recipient;
use regex::Regex;

use super::args::EncryptArgs;
use super::io::{read_input, write_output};
use super::{Failure, EXIT_CONFLICT};
use crate::envelope::{self, EncryptOptions};
use crate::selection::Rule;

pub(crate) fn run(a: EncryptArgs) -> Result<(), Failure> {
    let rule = selection_rule(&a)?;
    let age = match a.age.as_deref() {
        Some(list) => Recipient::parse_list(list).map_err(|e| Failure::new(1, e.to_string()))?,
        None => Vec::new(),
    };
    let input = read_input(&a.io, true)?;
    if age.is_empty() {
        return Err(Failure::new(
            1,
            format!("{}: no master key to encrypt with; pass --age RECIPIENT or set SOPS_AGE_RECIPIENTS", input.name),
        ));
    }
    let opts = EncryptOptions { rule, mac_only_encrypted: a.mac_only_encrypted, age, indent: a.io.indent };
    let out = envelope::encrypt(&input.bytes, input.input_format, input.output_format, &opts, &input.name)?;
    write_output(&a.io, &input, &out, false)
}

fn selection_rule(a: &EncryptArgs) -> Result<Option<Rule>, Failure> {
    let re = |flag: &str, s: &str| {
        Regex::new(s).map_err(|e| Failure::new(1, format!("invalid regular expression for --{flag}: {e}")))
    };
    let mut rules = Vec::new();
    if let Some(s) = &a.unencrypted_suffix {
        rules.push(Rule::UnencryptedSuffix(s.clone()));
    }
    if let Some(s) = &a.encrypted_suffix {
        rules.push(Rule::EncryptedSuffix(s.clone()));
    }
    if let Some(s) = &a.unencrypted_regex {
        rules.push(Rule::UnencryptedRegex(re("unencrypted-regex", s)?));
    }
    if let Some(s) = &a.encrypted_regex {
        rules.push(Rule::EncryptedRegex(re("encrypted-regex", s)?));
    }
    if let Some(s) = &a.unencrypted_comment_regex {
        rules.push(Rule::UnencryptedCommentRegex(re("unencrypted-comment-regex", s)?));
    }
    if let Some(s) = &a.encrypted_comment_regex {
        rules.push(Rule::EncryptedCommentRegex(re("encrypted-comment-regex", s)?));
    }
    if rules.len() > 1 {
        return Err(Failure::new(
            EXIT_CONFLICT,
            "cannot use more than one of --unencrypted-suffix, --encrypted-suffix, --unencrypted-regex, --encrypted-regex, --unencrypted-comment-regex and --encrypted-comment-regex",
        ));
    }
    Ok(rules.pop())
}
