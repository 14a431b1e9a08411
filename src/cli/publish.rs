//! `gitseal publish`: each file goes to the destination of the first `.sops.yaml`
//! `destination_rules` entry whose `path_regex` matches it, as `sops publish` does. Vault KV v1
//! and v2 receive the decrypted data as a secret at `<mount><vault_path><file name>`; S3
//! receives the file, re-encrypted for the keys of `reencryption_rule` when it has one, at
//! `<s3_prefix><file name>`. GCS is refused (gitseal links no GCS client). Nothing is
//! published for a file that does not decrypt; without `--yes` each upload is confirmed on the
//! terminal.

use std::io::IsTerminal;
use std::path::Path;

use gitseal::config::Destination;
use gitseal::envelope::{self, DecryptOptions};
use gitseal_formats::Format;

use super::args::PublishArgs;
use super::{exit, files, Failure};

pub(crate) fn run(a: PublishArgs) -> Result<(), Failure> {
    a.keyservice.check()?;
    let config = files::load_config(true)?.ok_or_else(|| {
        Failure::new(exit::GENERIC, "publish needs a .sops.yaml with destination_rules; none was found")
    })?;
    let mut keys = files::keyring(a.decryption_order.as_deref())?;
    let list = match files::expand(a.files.first(), &a.files[1..], a.recursive)? {
        Some(list) => list,
        None => a.files.clone(),
    };
    let mut one = |file: &Path| -> Result<(), Failure> {
        let name = file.display().to_string();
        let rule = config.destination_for(file).ok_or_else(|| {
            Failure::new(exit::GENERIC, format!("{name}: no destination rule of {} matches this file", config.name))
        })?;
        let (address, mount, version, path) = match &rule.target {
            Destination::Vault { address, mount, version, path } => (address, mount, *version, path),
            Destination::S3 { bucket, prefix } => {
                let object = format!("{prefix}{}", destination_name(file, a.omit_extensions || rule.omit_extensions));
                return publish_s3(file, &name, &config, rule, bucket, &object, a.yes, &mut keys);
            }
            Destination::Gcs { bucket, .. } => {
                return Err(Failure::new(
                    exit::GENERIC,
                    format!("{name}: destination rule {} publishes to GCS bucket {bucket:?}, which gitseal does not support; copy the file with `gcloud storage cp`", rule.number),
                ))
            }
        };
        let secret_path = format!("{path}{}", destination_name(file, a.omit_extensions || rule.omit_extensions));
        let mount_path = mount.trim_matches('/');
        let shown = match version {
            1 => format!("{}/v1/{mount_path}/{secret_path}", address.trim_end_matches('/')),
            _ => format!("{}/v1/{mount_path}/data/{secret_path}", address.trim_end_matches('/')),
        };
        // Decrypt first: nothing is asked or sent for a file that does not open.
        let bytes = std::fs::read(file)
            .map_err(|e| Failure::new(exit::GENERIC, format!("{name}: cannot read the file: {e}")))?;
        let format = Format::from_path(&name);
        let opts = DecryptOptions { output_format: Some(Format::Json), ignore_mac: false, indent: None, extract: None };
        let opened = envelope::decrypt(&bytes, format, &name, &mut keys, &opts)?;
        let data: serde_json::Value = serde_json::from_slice(&opened.output)
            .map_err(|_| Failure::new(exit::GENERIC, format!("{name}: the decrypted data is not a JSON object")))?;
        if !data.is_object() {
            return Err(Failure::new(
                exit::GENERIC,
                format!("{name}: only a file whose top level is a mapping can be a Vault secret"),
            ));
        }
        if !a.yes && !confirm(&format!("uploading {} to {shown} ? (y/n): ", file.display()), &name)? {
            eprintln!("{name}: not published");
            return Ok(());
        }
        let written = gitseal_keys::vault::kv_write(files::remote(), address, mount, version, &secret_path, &data)
            .map_err(|e| Failure::new(exit::GENERIC, format!("{name}: cannot publish to {shown}: {e}")))?;
        if !written {
            eprintln!("{name}: {shown} already holds this data; not written again");
        }
        Ok(())
    };
    match list.as_slice() {
        [file] => one(file),
        _ => files::each(&list, one),
    }
}

/// Re-encrypts the file for the re-encryption rule's keys (or takes it as it is without one), then
/// uploads it to `s3://bucket/object`.
#[allow(clippy::too_many_arguments)]
fn publish_s3(
    file: &Path,
    name: &str,
    config: &gitseal::config::Config,
    rule: &gitseal::config::DestinationRule,
    bucket: &str,
    object: &str,
    yes: bool,
    keys: &mut gitseal::keyring::Keyring,
) -> Result<(), Failure> {
    let bytes =
        std::fs::read(file).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: cannot read the file: {e}")))?;
    let format = Format::from_path(name);
    let (plain, mut reenc) = gitseal::reencrypt::open_for_edit(&bytes, format, name, keys, false)?;
    let upload = match &rule.recreation {
        None => bytes,
        Some(recreation) => {
            let groups = recreation
                .key_groups(&config.name, &Default::default())
                .map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
            if groups.is_empty() {
                return Err(Failure::new(
                    exit::GENERIC,
                    format!("{name}: the reencryption_rule of destination rule {} names no keys", rule.number),
                ));
            }
            reenc.rotate(&groups, recreation.shamir_threshold)?;
            reenc.encrypt(&plain)?
        }
    };
    let shown = format!("s3://{bucket}/{object}");
    if !yes && !confirm(&format!("uploading {} to {shown} ? (y/n): ", file.display()), name)? {
        eprintln!("{name}: not published");
        return Ok(());
    }
    s3_put(bucket, object, &upload)
        .map_err(|e| Failure::new(exit::GENERIC, format!("{name}: cannot publish to {shown}: {e}")))
}

#[cfg(all(feature = "kms", feature = "vault"))]
fn s3_put(bucket: &str, object: &str, body: &[u8]) -> Result<(), String> {
    gitseal_keys::s3::put_object(files::remote(), bucket, object, body)
}

#[cfg(not(all(feature = "kms", feature = "vault")))]
fn s3_put(_bucket: &str, _object: &str, _body: &[u8]) -> Result<(), String> {
    Err("this gitseal was built without S3 support (features `kms` and `vault`)".into())
}

/// The name a file gets at its destination: its base name, without its last extension when
/// asked (`secret.enc.yaml` -> `secret.enc`, as sops does).
fn destination_name(file: &Path, omit_extensions: bool) -> String {
    let base = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match (omit_extensions, base.rfind('.')) {
        (true, Some(i)) if i > 0 => base[..i].to_string(),
        _ => base,
    }
}

/// Asks on the terminal; without one (or without an answer) says to pass `--yes`.
fn confirm(question: &str, name: &str) -> Result<bool, Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: not published: there is no terminal to confirm on; pass --yes to publish without asking"),
        ));
    }
    Ok(super::io::ask_yes(question)?.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_names() {
        assert_eq!(destination_name(Path::new("a/secret.enc.yaml"), false), "secret.enc.yaml");
        assert_eq!(destination_name(Path::new("a/secret.enc.yaml"), true), "secret.enc");
        assert_eq!(destination_name(Path::new(".env"), true), ".env");
    }
}
