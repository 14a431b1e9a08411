//! `gitseal encrypt`.

use gitseal_keys::age::Recipient;
use gitseal_keys::kms::{self, KmsKey};
use gitseal_keys::pgp::PgpKey;
use gitseal_keys::sealing::{RsaRecipient, Scope};
use gitseal_keys::vault::VaultKey;
use gitseal_keys::{KeyError, MasterKey};
use regex::Regex;

use std::path::PathBuf;

use super::args::{EncryptArgs, IoArgs};
use super::files;
use super::io::{read_input, write_output};
use super::sealing_io::load_cert;
use super::{exit, Failure};

/// What KMS keys given on the command line share: the encryption context and the profile.
struct KmsOptions {
    context: std::collections::BTreeMap<String, String>,
    profile: String,
}

/// Everything `add_keys` needs besides the key list.
struct KeyOptions {
    rsa_scope: Option<Scope>,
    kms: KmsOptions,
}
use gitseal::config::Config;
use gitseal::envelope::{self, EncryptOptions};
use gitseal::selection::Rule;

pub(crate) fn run(a: EncryptArgs) -> Result<(), Failure> {
    a.foreign.check()?;
    a.keyservice.check()?;
    let rule = selection_rule(&a)?;
    let rsa_scope = match a.rsa_scope.as_deref() {
        None => None,
        Some(s) => Some(Scope::parse(s).ok_or_else(|| {
            Failure::new(
                exit::GENERIC,
                format!("invalid --rsa-scope {s:?}: expected strict, namespace-wide or cluster-wide"),
            )
        })?),
    };
    let context = kms::parse_context(a.encryption_context.as_deref().unwrap_or_default())
        .map_err(|m| Failure::new(exit::BAD_ENCRYPTION_CONTEXT, format!("invalid --encryption-context: {m}")))?;
    let kms = KmsOptions { context: context.clone(), profile: a.aws_profile.clone().unwrap_or_default() };
    let key_groups = key_groups(&a, &KeyOptions { rsa_scope, kms })?;
    let files = files::expand(a.io.file.as_ref(), &a.more_files, a.recursive)?;
    if files.is_some() {
        files::check_multi_flags(&a.io)?;
        if !a.io.in_place {
            return Err(Failure::new(
                exit::CONFLICT,
                "encrypting several files needs -i (--in-place): each file is replaced by its encrypted form",
            ));
        }
    }
    let config = files::load_config(true)?;
    let plan = Plan { rule, key_groups, context, config };
    match files {
        None => encrypt_one(&a, &a.io, &plan),
        Some(files) => files::each(&files, |f| encrypt_one(&a, &files::io_for(&a.io, f), &plan)),
    }
}

/// What the command line and `.sops.yaml` give every file.
struct Plan {
    /// The selection rule from the command line.
    rule: Option<Rule>,
    /// Master keys from the command line (they win over the creation rule's).
    key_groups: Vec<Vec<MasterKey>>,
    /// `--encryption-context`, also used for the rule's flat KMS keys (as sops does).
    context: std::collections::BTreeMap<String, String>,
    config: Option<Config>,
}

fn encrypt_one(a: &EncryptArgs, io: &IoArgs, plan: &Plan) -> Result<(), Failure> {
    let input = read_input(io, true)?;
    let target = io.filename_override.as_ref().map(PathBuf::from).or(input.path.clone());
    let creation = match (&plan.config, &target) {
        (Some(c), Some(t)) => c.rule_for(t).map(|r| (c, r)),
        _ => None,
    };
    let key_groups = if !plan.key_groups.is_empty() {
        plan.key_groups.clone()
    } else if let Some((cfg, r)) = creation {
        let groups = r
            .key_groups(&cfg.name, &plan.context)
            .map_err(|e| Failure::new(exit::GENERIC, format!("{}: {e}", input.name)))?;
        if groups.iter().all(Vec::is_empty) {
            if super::as_sops() {
                // sops's wording, matched exactly by scripts and sops's own tests.
                return Err(Failure::new(exit::GENERIC, "Could not generate data key: [empty key group provided]"));
            }
            return Err(Failure::new(
                exit::GENERIC,
                format!(
                    "{}: {} of {} has no keys; add age, pgp, kms or key_groups to it, or pass --age RECIPIENT",
                    input.name,
                    r.describe(),
                    cfg.name
                ),
            ));
        }
        groups
    } else if let (Some(cfg), Some(t)) = (&plan.config, &target) {
        return Err(Failure::new(
            exit::GENERIC,
            format!(
                "{}: no creation rule of {} matches {:?}; add a rule, or pass --age RECIPIENT, --pgp FINGERPRINT, --kms ARN, --rsa CERT or --key-group",
                input.name,
                cfg.name,
                cfg.match_path(t)
            ),
        ));
    } else {
        Vec::new()
    };
    if key_groups.is_empty() {
        return Err(Failure::new(
            exit::GENERIC,
            format!(
                "{}: no master key to encrypt with; pass --age RECIPIENT (or set SOPS_AGE_RECIPIENTS), --pgp FINGERPRINT, --kms ARN, --hc-vault-transit URI, --rsa CERT or --key-group, or add a creation rule to .sops.yaml",
                input.name
            ),
        ));
    }
    let rule_of_config = creation.map(|(_, r)| r);
    let selection_of_config = match (&plan.rule, creation) {
        (None, Some((cfg, r))) => {
            r.selection(&cfg.name).map_err(|e| Failure::new(exit::GENERIC, format!("{}: {e}", input.name)))?
        }
        _ => None,
    };
    let opts = EncryptOptions {
        rule: plan.rule.clone().or(selection_of_config),
        mac_only_encrypted: a.mac_only_encrypted || rule_of_config.is_some_and(|r| r.mac_only_encrypted),
        key_groups,
        shamir_threshold: a
            .shamir_secret_sharing_threshold
            .filter(|&t| t > 0)
            .or_else(|| rule_of_config.and_then(|r| r.shamir_threshold)),
        indent: a.indent.indent.or_else(|| plan.config.as_ref().and_then(|c| c.stores.indent_for(input.output_format))),
    };
    let out = envelope::encrypt_with(
        &input.bytes,
        input.input_format,
        input.output_format,
        &opts,
        files::remote(),
        &input.name,
    )?;
    write_output(io, &input, &out, false)
}

/// The key groups: `--age`/`--pgp`/`--rsa` (and their variables) form the first group when
/// given; each `--key-group 'KIND:KEY,KEY;KIND:KEY'` adds one more.
fn key_groups(a: &EncryptArgs, o: &KeyOptions) -> Result<Vec<Vec<MasterKey>>, Failure> {
    let mut groups = Vec::new();
    let mut flat = Vec::new();
    add_keys(&mut flat, "kms", a.kms.as_deref().unwrap_or_default(), o)?;
    add_keys(&mut flat, "hc_vault", a.foreign.hc_vault_transit.as_deref().unwrap_or_default(), o)?;
    add_keys(&mut flat, "age", a.age.as_deref().unwrap_or_default(), o)?;
    add_keys(&mut flat, "pgp", a.pgp.as_deref().unwrap_or_default(), o)?;
    add_keys(&mut flat, "rsa", &a.rsa.join(","), o)?;
    if !flat.is_empty() {
        groups.push(flat);
    }
    for spec in &a.key_group {
        let mut group = Vec::new();
        for part in spec.split(';').filter(|p| !p.trim().is_empty()) {
            let (kind, keys) = part.split_once(':').ok_or_else(|| {
                Failure::new(
                    exit::GENERIC,
                    format!(
                        "--key-group {spec:?}: expected KIND:KEYS, e.g. 'age:age1...;pgp:FINGERPRINT;rsa:cert.pem'"
                    ),
                )
            })?;
            add_keys(&mut group, kind.trim(), keys, o)?;
        }
        if group.is_empty() {
            return Err(Failure::new(
                exit::GENERIC,
                format!("--key-group {spec:?}: a key group needs at least one master key"),
            ));
        }
        groups.push(group);
    }
    Ok(groups)
}

fn add_keys(group: &mut Vec<MasterKey>, kind: &str, list: &str, o: &KeyOptions) -> Result<(), Failure> {
    let keys: Result<Vec<MasterKey>, KeyError> = match kind {
        "age" => Recipient::parse_list(list).map(|v| v.into_iter().map(MasterKey::Age).collect()),
        "pgp" => PgpKey::parse_list(list).map(|v| v.into_iter().map(MasterKey::Pgp).collect()),
        "kms" => KmsKey::parse_list(list, &o.kms.context, &o.kms.profile)
            .map(|v| v.into_iter().map(MasterKey::Kms).collect()),
        "hc_vault" => VaultKey::parse_list(list).map(|v| v.into_iter().map(MasterKey::Vault).collect()),
        "rsa" => return add_rsa_keys(group, list, o.rsa_scope),
        other => {
            return Err(Failure::new(
                exit::GENERIC,
                format!("unknown key kind {other:?} in --key-group; use age, pgp, kms, hc_vault or rsa"),
            ))
        }
    };
    group.extend(keys.map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?);
    Ok(())
}

/// Sealing certificates (PEM files, unexpired, as kubeseal reads them) as RSA master keys.
fn add_rsa_keys(group: &mut Vec<MasterKey>, list: &str, scope: Option<Scope>) -> Result<(), Failure> {
    for path in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let cert = load_cert(Some(path))?;
        let key = RsaRecipient::new(cert.public_key().clone(), path)
            .map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
        group.push(MasterKey::Rsa(key.with_scope(scope)));
    }
    Ok(())
}

fn selection_rule(a: &EncryptArgs) -> Result<Option<Rule>, Failure> {
    let re = |flag: &str, s: &str| {
        Regex::new(s).map_err(|e| {
            Failure::new(
                exit::GENERIC,
                format!("invalid regular expression for --{flag}: {}", gitseal::selection::regex_error(&e)),
            )
        })
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
            exit::CONFLICT,
            "cannot use more than one of --unencrypted-suffix, --encrypted-suffix, --unencrypted-regex, --encrypted-regex, --unencrypted-comment-regex and --encrypted-comment-regex",
        ));
    }
    Ok(rules.pop())
}
