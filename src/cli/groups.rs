//! `gitseal groups add` and `gitseal groups delete`: change the key groups of an encrypted file,
//! keeping its data key. Unlike sops, never writes a file that no key can open (a threshold
//! larger than the groups left, or threshold 1 with several groups; `reference/sops-cli.md` §7.2).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gitseal_keys::age::Recipient;
use gitseal_keys::kms::{self, KmsKey};
use gitseal_keys::pgp::PgpKey;
use gitseal_keys::MasterKey;

use super::args::IoArgs;
use super::io::{read_input, write_output};
use super::set::open_for_edit;
use super::{exit, Failure};
use gitseal::rotate;

#[derive(Subcommand, Debug)]
pub(crate) enum GroupsCommand {
    /// Append a key group made of the given keys
    Add(Box<GroupsAddArgs>),
    /// Delete the key group at INDEX (0-based)
    Delete(GroupsDeleteArgs),
}

/// The file and where the result goes.
#[derive(Args, Debug)]
pub(crate) struct GroupsFileArgs {
    /// The encrypted file
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Write the result back to the file (atomically) instead of standard output
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// How many key groups are needed to decrypt afterwards (default: the file's)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    #[command(flatten)]
    pub keyservice: super::args::KeyserviceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct GroupsAddArgs {
    #[command(flatten)]
    pub common: GroupsFileArgs,
    /// age recipients of the new group (repeatable or comma-separated)
    #[arg(long = "age", value_name = "RECIPIENT")]
    pub age: Vec<String>,
    /// PGP fingerprints of the new group (repeatable or comma-separated)
    #[arg(long = "pgp", value_name = "FINGERPRINT")]
    pub pgp: Vec<String>,
    /// AWS KMS key ARNs of the new group (repeatable or comma-separated)
    #[arg(long = "kms", value_name = "ARN")]
    pub kms: Vec<String>,
    /// KMS encryption context for the keys of --kms, e.g. 'app:web,env:prod'
    #[arg(long = "encryption-context", value_name = "K:V,K2:V2")]
    pub encryption_context: Option<String>,
    /// AWS shared-config profile for the keys of --kms
    #[arg(long = "aws-profile", value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    #[command(flatten)]
    pub foreign: super::args::ForeignKeyArgs,
}

#[derive(Args, Debug)]
pub(crate) struct GroupsDeleteArgs {
    #[command(flatten)]
    pub common: GroupsFileArgs,
    /// The index (0-based) of the group to delete
    pub index: usize,
}

pub(crate) fn run(c: GroupsCommand) -> Result<(), Failure> {
    match c {
        GroupsCommand::Add(a) => {
            a.foreign.check()?;
            a.common.keyservice.check()?;
            let context = kms::parse_context(a.encryption_context.as_deref().unwrap_or_default()).map_err(|m| {
                Failure::new(exit::BAD_ENCRYPTION_CONTEXT, format!("invalid --encryption-context: {m}"))
            })?;
            let profile = a.aws_profile.clone().unwrap_or_default();
            let err = |e: gitseal_keys::KeyError| Failure::new(exit::GENERIC, e.to_string());
            let mut group = Vec::new();
            for k in &a.kms {
                group.extend(KmsKey::parse_list(k, &context, &profile).map_err(err)?.into_iter().map(MasterKey::Kms));
            }
            for k in &a.pgp {
                group.extend(PgpKey::parse_list(k).map_err(err)?.into_iter().map(MasterKey::Pgp));
            }
            for k in &a.age {
                group.extend(Recipient::parse_list(k).map_err(err)?.into_iter().map(MasterKey::Age));
            }
            if group.is_empty() {
                return Err(Failure::new(exit::GENERIC, "groups add needs at least one key: --age, --pgp or --kms"));
            }
            change(&a.common, |groups| {
                groups.push(group);
                Ok(())
            })
        }
        GroupsCommand::Delete(a) => {
            a.common.keyservice.check()?;
            let index = a.index;
            change(&a.common, |groups| {
                if index >= groups.len() {
                    return Err(format!(
                        "there is no key group {index}: the file has {} (indexes start at 0)",
                        groups.len()
                    ));
                }
                groups.remove(index);
                Ok(())
            })
        }
    }
}

/// Opens the file, changes its key groups with `f`, wraps the same data key for them and writes
/// the file (to standard output, or in place with `-i`).
fn change(a: &GroupsFileArgs, f: impl FnOnce(&mut Vec<Vec<MasterKey>>) -> Result<(), String>) -> Result<(), Failure> {
    if a.file.is_none() {
        return Err(Failure::new(exit::NO_FILE, "no file specified: pass --file FILE"));
    }
    let io = IoArgs {
        file: a.file.clone(),
        in_place: a.in_place,
        output: None,
        input_type: a.input_type.clone(),
        output_type: None,
        filename_override: None,
    };
    let input = read_input(&io, false).map_err(|f| super::io::missing_file_code(f, 2))?;
    // sops exits 1 here when no key opens the file (not 128 as elsewhere).
    let (plain, mut reenc) = open_for_edit(&input, false, a.decryption_order.as_deref()).map_err(|f| {
        if f.code == exit::NO_KEY {
            Failure { code: exit::GENERIC, ..f }
        } else {
            f
        }
    })?;
    let mut groups = rotate::file_key_groups(&reenc)?;
    let before = groups.len();
    f(&mut groups).map_err(|m| Failure::new(exit::GENERIC, format!("{}: {m}", input.name)))?;
    // A file of one group records no threshold: then every group is needed, as sops does.
    let threshold = a
        .shamir_secret_sharing_threshold
        .filter(|&t| t > 0)
        .or_else(|| rotate::file_threshold(&reenc).filter(|_| before > 1))
        .or((groups.len() > 1).then_some(groups.len()));
    rotate::check_groups(&groups, threshold)
        .map_err(|m| Failure::new(exit::GENERIC, format!("{}: refusing to write: {m}", input.name)))?;
    reenc.rekey(&groups, threshold)?;
    let out = reenc.encrypt(&plain)?;
    write_output(&io, &input, &out, false)
}
