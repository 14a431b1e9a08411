//! `gitseal rotate`: a new data key, every value encrypted anew, and the master keys changed by
//! `--add-*`/`--rm-*` (added keys go to the first key group, as sops does). See [`gitseal::reencrypt::rotate`].

use gitseal_keys::age::Recipient;
use gitseal_keys::kms::{self, KmsKey};
use gitseal_keys::pgp::PgpKey;
use gitseal_keys::vault::VaultKey;
use gitseal_keys::MasterKey;

use super::args::RotateArgs;
use super::io::{read_input, write_output};
use super::opening::open_for_edit;
use super::{exit, Failure};
use gitseal::reencrypt::rotate;

pub(crate) fn run(a: RotateArgs) -> Result<(), Failure> {
    a.foreign.check()?;
    a.keyservice.check()?;
    if let Some(f) = a.io.file.as_ref().filter(|f| f.as_os_str() != "-") {
        if a.changes_keys() && !f.exists() {
            return Err(Failure::new(
                exit::CHANGE_KEYS_OF_MISSING_FILE,
                format!("{}: cannot add or remove keys of a non-existent file", f.display()),
            ));
        }
    }
    let context = kms::parse_context(a.encryption_context.as_deref().unwrap_or_default())
        .map_err(|m| Failure::new(exit::BAD_ENCRYPTION_CONTEXT, format!("invalid --encryption-context: {m}")))?;
    let parse = |kind: &str, list: &Option<String>| -> Result<Vec<MasterKey>, Failure> {
        let list = list.as_deref().unwrap_or_default();
        let keys = match kind {
            "age" => Recipient::parse_list(list).map(|v| v.into_iter().map(MasterKey::Age).collect()),
            "pgp" => PgpKey::parse_list(list).map(|v| v.into_iter().map(MasterKey::Pgp).collect()),
            "hc_vault" => VaultKey::parse_list(list).map(|v| v.into_iter().map(MasterKey::Vault).collect()),
            _ => KmsKey::parse_list(list, &context, "").map(|v| v.into_iter().map(MasterKey::Kms).collect()),
        };
        keys.map_err(|e| Failure::new(exit::GENERIC, e.to_string()))
    };
    let mut add = parse("kms", &a.add_kms)?;
    add.extend(parse("hc_vault", &a.foreign.add_hc_vault_transit)?);
    add.extend(parse("pgp", &a.add_pgp)?);
    add.extend(parse("age", &a.add_age)?);
    let mut rm = parse("kms", &a.rm_kms)?;
    rm.extend(parse("hc_vault", &a.foreign.rm_hc_vault_transit)?);
    rm.extend(parse("pgp", &a.rm_pgp)?);
    rm.extend(parse("age", &a.rm_age)?);

    let io = &a.io;
    let missing = if a.legacy { exit::NO_FILE } else { 2 };
    let input = read_input(io, false).map_err(|f| super::io::missing_file_code(f, missing))?;
    let (plain, mut reenc) = open_for_edit(&input, false, a.decryption_order.as_deref())?;
    reenc.set_output_format(input.output_format);
    let mut groups = rotate::file_key_groups(&reenc)?;
    for g in &mut groups {
        g.retain(|k| !rm.iter().any(|r| same_key(k, r)));
    }
    if let Some(first) = groups.first_mut() {
        for k in add {
            if !first.iter().any(|e| same_key(e, &k)) {
                first.push(k);
            }
        }
    }
    let threshold = rotate::file_threshold(&reenc);
    reenc.rotate(&groups, threshold)?;
    let out = reenc.encrypt(&plain)?;
    write_output(io, &input, &out, false)
}

/// Whether two master keys name the same key (recipient, fingerprint or ARN).
pub(crate) fn same_key(a: &MasterKey, b: &MasterKey) -> bool {
    match (a, b) {
        (MasterKey::Age(x), MasterKey::Age(y)) => x.as_str() == y.as_str(),
        (MasterKey::Pgp(x), MasterKey::Pgp(y)) => x.fingerprint().eq_ignore_ascii_case(y.fingerprint()),
        (MasterKey::Kms(x), MasterKey::Kms(y)) => x.arn() == y.arn(),
        (MasterKey::Rsa(x), MasterKey::Rsa(y)) => x.fingerprint() == y.fingerprint(),
        (MasterKey::Vault(x), MasterKey::Vault(y)) => x == y,
        _ => false,
    }
}
