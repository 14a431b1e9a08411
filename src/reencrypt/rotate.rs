//! Changing a file's keys: `rotate` (a new data key, every value encrypted anew), and
//! `updatekeys` and `groups add`/`groups delete` (the data key kept and wrapped again for new
//! master keys, every value's ciphertext unchanged). Both work on a [`Reencryptor`] obtained from
//! [`Reencryptor::from_opened`]; its `encrypt` then writes the file.

use gitseal_keys::age::Recipient;
use gitseal_keys::kms::KmsKey;
use gitseal_keys::pgp::PgpKey;
use gitseal_keys::{DataKey, MasterKey};

use crate::envelope::stash::Stash;
use crate::error::Error;
use crate::keyring;
use crate::metadata::KeyGroup;
use crate::reencrypt::Reencryptor;

/// The master keys of a key group as recorded in a file, ready to wrap a data key again.
/// RSA sealing keys and key kinds gitseal does not know cannot be rebuilt from the metadata.
pub fn master_keys(group: &KeyGroup) -> Result<Vec<MasterKey>, String> {
    if !group.rsa.is_empty() {
        return Err("the file has RSA sealing keys, which cannot be wrapped again from the metadata alone (their certificate is needed); encrypt the file anew with --rsa".into());
    }
    if let Some((kind, _)) = group.other.first() {
        return Err(format!("the file has {kind} keys, which gitseal cannot use yet"));
    }
    let mut keys = Vec::new();
    for k in &group.kms {
        let role = Some(k.role.clone());
        let key = KmsKey::new(k.arn.clone(), role, k.context.clone(), k.aws_profile.clone());
        keys.push(MasterKey::Kms(key.map_err(|e| e.to_string())?));
    }
    for k in &group.hc_vault {
        keys.push(MasterKey::Vault(gitseal_keys::vault::VaultKey::new(&k.vault_address, &k.engine_path, &k.key_name)));
    }
    for k in &group.pgp {
        keys.push(MasterKey::Pgp(PgpKey::parse(&k.fp).map_err(|e| e.to_string())?));
    }
    for k in &group.age {
        keys.push(MasterKey::Age(Recipient::parse(&k.recipient).map_err(|e| e.to_string())?));
    }
    Ok(keys)
}

/// The master keys of every group of the file.
pub fn file_key_groups(reenc: &Reencryptor) -> Result<Vec<Vec<MasterKey>>, Error> {
    let fail = |message: String| Error::Metadata { file: reenc.file.clone(), message, source: None };
    reenc.metadata.key_groups.iter().map(|g| master_keys(g).map_err(fail)).collect()
}

/// The key lists of master keys, one line per key under a line per group, to show a change.
pub fn describe_groups(groups: &[Vec<MasterKey>], threshold: Option<usize>) -> String {
    let mut out = String::new();
    if groups.len() > 1 {
        out.push_str(&format!("shamir_threshold: {}\n", threshold.unwrap_or(groups.len())));
    }
    for (i, g) in groups.iter().enumerate() {
        out.push_str(&format!("group {i}:\n"));
        for k in g {
            let line = match k {
                MasterKey::Age(r) => format!("    age: {}\n", r.as_str()),
                MasterKey::Pgp(p) => format!("    pgp: {}\n", p.fingerprint()),
                MasterKey::Kms(k) => match k.role() {
                    Some(role) => format!("    kms: {}+{}\n", k.arn(), role),
                    None => format!("    kms: {}\n", k.arn()),
                },
                MasterKey::Rsa(r) => format!("    rsa: {}\n", r.fingerprint()),
                MasterKey::Vault(v) => format!("    hc_vault: {}\n", v.uri()),
            };
            out.push_str(&line);
        }
    }
    out
}

/// The threshold a file records (`None` when it has one group or none recorded).
pub fn file_threshold(reenc: &Reencryptor) -> Option<usize> {
    reenc.metadata.shamir_threshold.and_then(|t| usize::try_from(t).ok()).filter(|&t| t > 0)
}

/// Checks that `groups` with `threshold` make a file some keys can open: at least one group,
/// none empty, and with several groups a threshold between 2 and the number of groups (Shamir
/// cannot split a secret with threshold 1; sops then writes a file no key opens).
pub fn check_groups(groups: &[Vec<MasterKey>], threshold: Option<usize>) -> Result<(), String> {
    if groups.is_empty() {
        return Err("no key group would be left, so no key could open the file".into());
    }
    if let Some(i) = groups.iter().position(Vec::is_empty) {
        return Err(format!("key group {i} would have no master key"));
    }
    let n = groups.len();
    match threshold {
        Some(t) if t > n => Err(format!(
            "the Shamir threshold is {t} but only {n} key group{} would be left, so no key could open the file; pass --shamir-secret-sharing-threshold {n} or lower",
            if n == 1 { "" } else { "s" }
        )),
        Some(t) if n > 1 && t < 2 => Err(format!(
            "a Shamir threshold of {t} cannot be used with {n} key groups (Shamir secret sharing needs at least 2 shares), so no key could open the file; pass --shamir-secret-sharing-threshold 2 or more"
        )),
        _ => Ok(()),
    }
}

impl Reencryptor {
    /// Keeps the data key and wraps it for `groups` (split across them with `threshold` when
    /// there are several). Values keep their exact ciphertext when the file is written.
    pub fn rekey(&mut self, groups: &[Vec<MasterKey>], threshold: Option<usize>) -> Result<(), Error> {
        check_groups(groups, threshold).map_err(|message| Error::Metadata {
            file: self.file.clone(),
            message,
            source: None,
        })?;
        let threshold = threshold.filter(|_| groups.len() > 1);
        let (key_groups, t) = keyring::wrap(&self.remote, groups, threshold, &self.key, &self.binding, &self.file)?;
        self.metadata.key_groups = key_groups;
        self.metadata.shamir_threshold = t;
        self.rekeyed = true;
        Ok(())
    }

    /// Makes a new data key, wrapped for `groups`; every value is then encrypted anew with it
    /// (fresh IVs) when the file is written.
    pub fn rotate(&mut self, groups: &[Vec<MasterKey>], threshold: Option<usize>) -> Result<(), Error> {
        let old = std::mem::replace(&mut self.key, DataKey::generate());
        if let Err(e) = self.rekey(groups, threshold) {
            self.key = old;
            return Err(e);
        }
        self.stash = Stash::new();
        Ok(())
    }
}
