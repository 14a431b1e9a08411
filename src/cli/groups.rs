//! `gitseal groups add` and `gitseal groups delete`: change the key groups of an encrypted file,
//! keeping its data key. Unlike sops, never writes a file that no key can open (a threshold
//! larger than the groups left, or threshold 1 with several groups; `reference/sops-cli.md` §7.2).

use gitseal_keys::age::Recipient;
use gitseal_keys::kms::{self, KmsKey};
use gitseal_keys::pgp::PgpKey;
use gitseal_keys::vault::VaultKey;
use gitseal_keys::MasterKey;

use super::args::IoArgs;
use super::args::{GroupsCommand, GroupsFileArgs};
use super::io::{read_input, write_output};
use super::opening::open_for_edit;
use super::{exit, Failure};
use gitseal::reencrypt::rotate;

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
            if let Some(uris) = &a.foreign.hc_vault_transit {
                group.extend(VaultKey::parse_list(uris).map_err(err)?.into_iter().map(MasterKey::Vault));
            }
            for k in &a.pgp {
                group.extend(PgpKey::parse_list(k).map_err(err)?.into_iter().map(MasterKey::Pgp));
            }
            for k in &a.age {
                group.extend(Recipient::parse_list(k).map_err(err)?.into_iter().map(MasterKey::Age));
            }
            if group.is_empty() {
                return Err(Failure::new(
                    exit::GENERIC,
                    "groups add needs at least one key: --age, --pgp, --kms or --hc-vault-transit",
                ));
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
