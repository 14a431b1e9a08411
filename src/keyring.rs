//! The data key and the master keys: wrapping a new data key for key groups (splitting it into
//! Shamir shares when there are several groups, `reference/sops-format.md` §8) and getting it
//! back, with an error that says, per key group, which keys were tried, why each failed, and
//! what to set.
//!
//! RSA sealing keys bind the data key to the Kubernetes object a file holds through their OAEP
//! label. The keyring stays format-agnostic: the envelope reads the object's namespace and name
//! from the document and passes them in as a [`Binding`].

use std::path::PathBuf;

use gitseal_keys::age::Identities;
use gitseal_keys::kms::KmsKey;
use gitseal_keys::sealing::{self, Scope, SealingKey};
use gitseal_keys::{pgp, shamir, DataKey, KeyError, MasterKey, Remote};
use zeroize::Zeroizing;

use crate::error::{Error, KeyFailure, KeyFailures};
use crate::metadata::{AgeEntry, KeyGroup, KmsEntry, Metadata, PgpEntry, RsaEntry, VaultEntry};

/// The key kinds sops knows, and gitseal's `rsa`, as named in `--decryption-order` and in the
/// metadata.
pub const KEY_KINDS: [&str; 8] = ["age", "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "rsa"];

/// The Kubernetes object a file holds: its top-level `metadata.namespace` and `metadata.name`
/// when they are plaintext strings. RSA master keys bind the data key to it (an OAEP label, as
/// Sealed Secrets scopes do), so the data key no longer opens once the object is moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
    /// True for a single-document `kind: Secret` manifest: RSA keys then default to strict scope.
    pub is_secret: bool,
}

impl Binding {
    /// The OAEP label for `scope` (`namespace/name`, `namespace` or empty), or why the file
    /// cannot give it.
    pub fn label(&self, scope: Scope) -> Result<Vec<u8>, String> {
        let need = |field: &Option<String>, what: &str| {
            field.clone().ok_or_else(|| {
                format!("{} scope needs a plaintext top-level metadata.{what} in the file", scope.as_str())
            })
        };
        Ok(match scope {
            Scope::ClusterWide => Vec::new(),
            Scope::NamespaceWide => scope.label(&need(&self.namespace, "namespace")?, ""),
            Scope::Strict => scope.label(&need(&self.namespace, "namespace")?, &need(&self.name, "name")?),
        })
    }

    /// The scope RSA keys use when none is given: strict for a Secret manifest, else cluster-wide.
    pub fn default_scope(&self) -> Scope {
        if self.is_secret {
            Scope::Strict
        } else {
            Scope::ClusterWide
        }
    }
}

/// The scope of an RSA key: its own, else the default for the object ([`Binding::default_scope`]).
pub fn rsa_scope(key: &sealing::RsaRecipient, binding: &Binding) -> Scope {
    key.scope().unwrap_or_else(|| binding.default_scope())
}

/// The default decryption order (sops `DefaultDecryptionOrder`).
pub const DEFAULT_DECRYPTION_ORDER: [&str; 2] = ["age", "pgp"];

/// Parses `--decryption-order` / `SOPS_DECRYPTION_ORDER` (`age,pgp,...`). A kind named twice is
/// an error (sops exits 112 for it), as is an unknown kind.
pub fn parse_decryption_order(s: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for kind in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if !KEY_KINDS.contains(&kind) {
            return Err(format!("unknown key type {kind:?} in the decryption order; known: {}", KEY_KINDS.join(", ")));
        }
        if out.iter().any(|k| k == kind) {
            return Err(format!("key type {kind:?} appears more than once in the decryption order"));
        }
        out.push(kind.to_string());
    }
    Ok(out)
}

/// Wraps `key` for the given key groups. With one group every key wraps the data key itself;
/// with several, the key is split into one Shamir share per group (any `threshold` of them
/// recover it; default: all) and every key of group i wraps share i.
///
/// RSA keys bind it to `binding` with their scope (see [`rsa_scope`]).
///
/// KMS and Vault keys connect through `remote`.
///
/// Returns the groups for the metadata and the threshold to record (`None` for one group).
pub fn wrap(
    remote: &Remote,
    groups: &[Vec<MasterKey>],
    threshold: Option<usize>,
    key: &DataKey,
    binding: &Binding,
    file: &str,
) -> Result<(Vec<KeyGroup>, Option<i64>), Error> {
    let fail = |message: String| Error::Metadata { file: file.into(), message, source: None };
    if groups.is_empty() {
        return Err(fail("no master key to encrypt with: pass --age, --pgp, --rsa or --key-group".into()));
    }
    if let Some(i) = groups.iter().position(Vec::is_empty) {
        return Err(fail(format!("key group {} is empty: every key group needs at least one master key", i + 1)));
    }
    let (secrets, threshold): (Vec<Zeroizing<Vec<u8>>>, Option<i64>) = if groups.len() == 1 {
        if let Some(t) = threshold.filter(|&t| t > 1) {
            return Err(fail(format!(
                "a Shamir threshold of {t} needs at least {t} key groups, but there is only one"
            )));
        }
        (vec![Zeroizing::new(key.as_bytes().to_vec())], None)
    } else {
        let t = threshold.unwrap_or(groups.len());
        let shares = shamir::split(key.as_bytes(), groups.len(), t)
            .map_err(|e| fail(format!("{e} ({} key groups, threshold {t})", groups.len())))?;
        (shares, Some(t as i64))
    };
    let created_at = crate::timefmt::now_rfc3339();
    let mut out = Vec::with_capacity(groups.len());
    for (keys, secret) in groups.iter().zip(&secrets) {
        let mut g = KeyGroup::default();
        for k in keys {
            let (scope, label) = match k {
                MasterKey::Rsa(r) => {
                    let scope = rsa_scope(r, binding);
                    (scope, binding.label(scope).map_err(|why| fail(bind_error(&why)))?)
                }
                _ => (Scope::ClusterWide, Vec::new()),
            };
            let enc = k.wrap(remote, secret, &label).map_err(|e| fail(e.to_string()))?;
            match k {
                MasterKey::Age(r) => g.age.push(AgeEntry { recipient: r.as_str().to_string(), enc }),
                MasterKey::Pgp(p) => {
                    g.pgp.push(PgpEntry { created_at: created_at.clone(), enc, fp: p.fingerprint().to_string() })
                }
                MasterKey::Kms(k) => g.kms.push(KmsEntry {
                    arn: k.arn().to_string(),
                    role: k.role().unwrap_or_default().to_string(),
                    context: k.context().clone(),
                    created_at: created_at.clone(),
                    enc,
                    aws_profile: k.profile().to_string(),
                }),
                MasterKey::Vault(v) => g.hc_vault.push(VaultEntry {
                    vault_address: v.address().to_string(),
                    engine_path: v.engine_path().to_string(),
                    key_name: v.key_name().to_string(),
                    created_at: created_at.clone(),
                    enc,
                }),
                MasterKey::Rsa(r) => g.rsa.push(RsaEntry {
                    fp: r.fingerprint().to_string(),
                    scope: scope.as_str().to_string(),
                    label: String::from_utf8_lossy(&label).into_owned(),
                    created_at: created_at.clone(),
                    enc,
                }),
            }
        }
        out.push(g);
    }
    Ok((out, threshold))
}

/// Why an RSA key cannot be bound to the file, with the way out.
pub fn bind_error(why: &str) -> String {
    format!("cannot bind the RSA key: {why}; give --rsa-scope cluster-wide to bind it to nothing")
}

/// The master keys this process can use; identities are loaded once, on first need.
pub struct Keyring {
    age: Option<Result<Identities, String>>,
    /// RSA private-key files; `None`: those of `GITSEAL_RSA_PRIVATE_KEYS`.
    rsa_files: Option<Vec<PathBuf>>,
    rsa: Option<Result<Vec<SealingKey>, String>>,
    order: Vec<String>,
    remote: Remote,
}

impl Default for Keyring {
    fn default() -> Keyring {
        Keyring {
            age: None,
            rsa_files: None,
            rsa: None,
            order: DEFAULT_DECRYPTION_ORDER.iter().map(|s| s.to_string()).collect(),
            remote: Remote::new(),
        }
    }
}

/// One master key of a group, as tried during decryption.
/// The transit key of a file's entry (the address stored in the file is the one used).
fn vault_key(e: &VaultEntry) -> gitseal_keys::vault::VaultKey {
    gitseal_keys::vault::VaultKey::new(&e.vault_address, &e.engine_path, &e.key_name)
}

enum Attempt<'a> {
    Age(&'a AgeEntry),
    Pgp(&'a PgpEntry),
    Rsa(&'a RsaEntry),
    Kms(&'a KmsEntry),
    Vault(&'a VaultEntry),
    Unsupported(&'a str),
}

impl Attempt<'_> {
    fn kind(&self) -> &str {
        match self {
            Attempt::Age(_) => "age",
            Attempt::Pgp(_) => "pgp",
            Attempt::Rsa(_) => "rsa",
            Attempt::Kms(_) => "kms",
            Attempt::Vault(_) => "hc_vault",
            Attempt::Unsupported(kind) => kind,
        }
    }

    fn describe(&self) -> String {
        match self {
            Attempt::Age(e) => format!("age {}", short(&e.recipient)),
            Attempt::Pgp(e) => format!("pgp {}", e.fp),
            Attempt::Rsa(e) if e.label.is_empty() => format!("rsa {} ({})", sealing::short_fp(&e.fp), e.scope),
            Attempt::Rsa(e) => format!("rsa {} ({} {})", sealing::short_fp(&e.fp), e.scope, e.label),
            Attempt::Kms(e) if e.role.is_empty() => format!("kms {}", e.arn),
            Attempt::Kms(e) => format!("kms {} (role {})", e.arn, e.role),
            Attempt::Vault(e) => format!("hc_vault {}", vault_key(e).uri()),
            Attempt::Unsupported(kind) => kind.to_string(),
        }
    }
}

/// Adds what to set to an age failure that does not say it already.
fn with_age_hint(why: String, recipient: &str) -> String {
    if why.contains("; set ") {
        return why;
    }
    let hint = if recipient.starts_with("ssh-") {
        "set SOPS_AGE_SSH_PRIVATE_KEY_FILE to the private key of this SSH key (or SOPS_AGE_SSH_PRIVATE_KEY_CMD to a command that prints it)".to_string()
    } else if gitseal_keys::age::is_post_quantum(recipient) {
        format!("{}; decrypt with another key of this group, or with sops 3.13", gitseal_keys::age::PQ_UNSUPPORTED)
    } else if let Some(name) = recipient.strip_prefix("age1").and_then(|r| r.split_once('1')).map(|(n, _)| n) {
        format!("install age-plugin-{name} and add its identity (AGE-PLUGIN-...) to SOPS_AGE_KEY_FILE")
    } else {
        "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the identity of this recipient".to_string()
    };
    format!("{why}; {hint}")
}

/// A long recipient (an SSH key) shortened for messages: its type and the end of its key.
fn short(recipient: &str) -> String {
    if gitseal_keys::age::is_post_quantum(recipient) {
        return gitseal_keys::age::short_recipient(recipient);
    }
    let mut words = recipient.split_whitespace();
    match (words.next(), words.next()) {
        (Some(kind), Some(blob)) if kind.starts_with("ssh-") && blob.chars().count() > 16 => {
            // By characters: the recipient comes from the file and may hold anything.
            let tail: String = blob.chars().skip(blob.chars().count() - 16).collect();
            format!("{kind} ...{tail}")
        }
        _ => recipient.to_string(),
    }
}

impl Keyring {
    /// A keyring that loads identities from the environment when first needed.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// A keyring with the given identities (tests, embedding).
    pub fn with_age(ids: Identities) -> Keyring {
        Keyring { age: Some(Ok(ids)), ..Keyring::default() }
    }

    /// Uses these RSA private-key files (PEM PKCS#1/PKCS#8, or a backup of the controller's key
    /// Secrets) instead of those of `GITSEAL_RSA_PRIVATE_KEYS`. They are read on first need.
    pub fn set_rsa_key_files(&mut self, files: Vec<PathBuf>) {
        self.rsa_files = Some(files);
        self.rsa = None;
    }

    /// A keyring with the given RSA private keys (tests, embedding).
    pub fn with_rsa_keys(mut self, keys: Vec<SealingKey>) -> Keyring {
        self.rsa = Some(Ok(keys));
        self
    }

    fn rsa_keys(&mut self) -> Result<&[SealingKey], String> {
        let files = self.rsa_files.clone();
        self.rsa.get_or_insert_with(|| load_rsa_keys(files)).as_deref().map_err(Clone::clone)
    }

    /// The connections KMS and Vault keys use (shared by the clones of the handle).
    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    /// Uses `remote`'s connections for KMS and Vault keys (to share them with other keyrings
    /// or with encryption, see [`crate::envelope::encrypt_with`]).
    pub fn with_remote(mut self, remote: Remote) -> Keyring {
        self.remote = remote;
        self
    }

    /// Sets the order in which key kinds are tried within a group (see
    /// [`parse_decryption_order`]); kinds not named keep their file order, after those named.
    pub fn set_decryption_order(&mut self, order: Vec<String>) {
        self.order = order;
    }

    fn age(&mut self, recipient: Option<&str>) -> Result<&Identities, String> {
        self.age
            .get_or_insert_with(|| Identities::load_default(recipient).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn try_key(&mut self, attempt: &Attempt<'_>, binding: &Binding) -> Result<Zeroizing<Vec<u8>>, String> {
        match attempt {
            Attempt::Age(e) => self
                .age(Some(&e.recipient))
                .and_then(|ids| ids.unwrap(&e.enc).map_err(|err| with_age_hint(err.to_string(), &e.recipient))),
            Attempt::Pgp(e) => pgp::unwrap(&e.enc).map_err(|e| e.to_string()),
            Attempt::Rsa(e) => self.try_rsa(e, binding),
            Attempt::Kms(e) => {
                let role = Some(e.role.clone());
                KmsKey::new(e.arn.clone(), role, e.context.clone(), e.aws_profile.clone())
                    .and_then(|k| k.unwrap(&self.remote, &e.enc))
                    .map_err(|e| e.to_string())
            }
            Attempt::Vault(e) => vault_key(e).unwrap(&self.remote, &e.enc).map_err(|e| e.to_string()),
            Attempt::Unsupported(kind) => Err(format!(
                "gitseal cannot use {kind} keys; decrypt with a key of another kind in this group, or with sops"
            )),
        }
    }

    fn try_rsa(&mut self, e: &RsaEntry, binding: &Binding) -> Result<Zeroizing<Vec<u8>>, String> {
        let scope = Scope::parse(&e.scope).ok_or_else(|| {
            format!("unknown scope {:?} in the file; expected strict, namespace-wide or cluster-wide", e.scope)
        })?;
        let label = binding.label(scope).map_err(|why| format!("it is bound to {:?}, but the {why}", e.label))?;
        let keys = self.rsa_keys()?;
        sealing::unwrap_data_key(keys, &e.fp, &label, &e.enc).map_err(|err| {
            let now = String::from_utf8_lossy(&label);
            if now != e.label {
                format!(
                    "it is bound to {:?} but the file is now {:?} ({} scope): the object was moved or renamed; move it back to decrypt ({err})",
                    e.label,
                    now,
                    scope.as_str()
                )
            } else if err.to_string().contains("fingerprint") {
                format!(
                    "{err}; pass the private key of this certificate with --rsa-private-key FILE or set {}",
                    sealing::ENV_PRIVATE_KEYS
                )
            } else {
                err.to_string()
            }
        })
    }

    /// The keys of a group in the order sops tries them: the file's order (kms, gcp_kms, hckms,
    /// azure_kv, hc_vault, pgp, age, then gitseal's rsa), stably sorted by the decryption order.
    fn attempts<'a>(&self, g: &'a KeyGroup) -> Vec<Attempt<'a>> {
        let mut out: Vec<Attempt<'a>> = g.kms.iter().map(Attempt::Kms).collect();
        for kind in ["gcp_kms", "hckms", "azure_kv"] {
            for (k, v) in &g.other {
                if k == kind {
                    let n = match v {
                        gitseal_formats::Value::Seq(items) => items.len().max(1),
                        _ => 1,
                    };
                    out.extend((0..n).map(|_| Attempt::Unsupported(kind)));
                }
            }
        }
        out.extend(g.hc_vault.iter().map(Attempt::Vault));
        out.extend(g.pgp.iter().map(Attempt::Pgp));
        out.extend(g.age.iter().map(Attempt::Age));
        out.extend(g.rsa.iter().map(Attempt::Rsa));
        let rank = |a: &Attempt<'_>| self.order.iter().position(|k| k == a.kind()).unwrap_or(usize::MAX);
        out.sort_by_key(rank);
        out
    }

    /// Opens one group: the first key that works gives its secret; else the failures.
    fn open_group(
        &mut self,
        g: &KeyGroup,
        group: Option<usize>,
        binding: &Binding,
    ) -> Result<(Zeroizing<Vec<u8>>, String), Vec<KeyFailure>> {
        let mut failures = Vec::new();
        for attempt in self.attempts(g) {
            match self.try_key(&attempt, binding) {
                Ok(secret) => return Ok((secret, attempt.describe())),
                Err(reason) => failures.push(KeyFailure { group, key: attempt.describe(), reason }),
            }
        }
        Err(failures)
    }

    /// The data key of a file, or an error listing, per group, every key tried and why it failed.
    /// RSA keys need the object the file holds: see [`Keyring::data_key_for`].
    pub fn data_key(&mut self, meta: &Metadata, file: &str) -> Result<DataKey, Error> {
        self.data_key_for(meta, &Binding::default(), file)
    }

    /// [`Keyring::data_key`] for a file that holds `binding` (see [`Binding`],
    /// [`crate::envelope::Opened::binding`]), which RSA keys with a strict or namespace-wide
    /// scope need.
    pub fn data_key_for(&mut self, meta: &Metadata, binding: &Binding, file: &str) -> Result<DataKey, Error> {
        let fail = |message: String| Error::DataKey { file: file.into(), message, source: None };
        let failed = |message: String, tried: Vec<KeyFailure>| Error::DataKey {
            file: file.into(),
            message,
            source: Some(Box::new(KeyFailures { tried })),
        };
        let lines = |tried: &[KeyFailure]| tried.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ");
        let groups = &meta.key_groups;
        if groups.len() == 1 {
            return match self.open_group(&groups[0], None, binding) {
                Ok((secret, _)) => DataKey::from_slice(&secret).map_err(|e| fail(e.to_string())),
                // One key: one line. Several: a summary line, then one line per key.
                Err(tried) if tried.len() == 1 => Err(failed(tried[0].to_string(), tried)),
                Err(tried) => Err(failed(
                    format!("none of the {} master keys could decrypt it\n  {}", tried.len(), lines(&tried)),
                    tried,
                )),
            };
        }
        let threshold = match meta.shamir_threshold {
            None | Some(0) => groups.len(),
            Some(t) if t < 2 || t as usize > groups.len() => {
                return Err(Error::Metadata {
                    file: file.into(),
                    message: format!("invalid shamir_threshold {t} for {} key groups", groups.len()),
                    source: None,
                })
            }
            Some(t) => t as usize,
        };
        let mut shares: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut report = Vec::new();
        let mut tried = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            if shares.len() == threshold {
                break;
            }
            match self.open_group(g, Some(i + 1), binding) {
                Ok((share, by)) if share.len() >= 2 => {
                    shares.push(share);
                    report.push(format!("group {}: opened with {by}", i + 1));
                }
                Ok((share, by)) => {
                    let f = KeyFailure {
                        group: Some(i + 1),
                        key: by,
                        reason: KeyError::BadKeyLength(share.len()).to_string(),
                    };
                    report.push(f.to_string());
                    tried.push(f);
                }
                Err(failures) if failures.is_empty() => report.push(format!("group {}: has no master keys", i + 1)),
                Err(failures) => {
                    report.extend(failures.iter().map(ToString::to_string));
                    tried.extend(failures);
                }
            }
        }
        if shares.len() < threshold {
            return Err(failed(
                format!(
                    "{} of the {} key groups could be opened, {threshold} needed (Shamir threshold)\n  {}",
                    shares.len(),
                    groups.len(),
                    report.join("\n  ")
                ),
                tried,
            ));
        }
        let parts: Vec<&[u8]> = shares.iter().map(|s| s.as_slice()).collect();
        let secret = shamir::combine(&parts).map_err(|e| fail(e.to_string()))?;
        DataKey::from_slice(&secret).map_err(|e| fail(format!("the combined key-group shares are invalid: {e}")))
    }
}

/// The RSA private keys of `files`, or of `GITSEAL_RSA_PRIVATE_KEYS` (colon-separated) when
/// `None`. Errors name the file, never key material.
fn load_rsa_keys(files: Option<Vec<PathBuf>>) -> Result<Vec<SealingKey>, String> {
    let files = match files {
        Some(f) => f,
        None => std::env::var_os(sealing::ENV_PRIVATE_KEYS)
            .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default(),
    };
    if files.is_empty() {
        return Err(format!(
            "no RSA private key given; pass --rsa-private-key FILE or set {} (colon-separated files)",
            sealing::ENV_PRIVATE_KEYS
        ));
    }
    let mut keys = Vec::new();
    for path in &files {
        let bytes =
            std::fs::read(path).map(Zeroizing::new).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| format!("{}: is not a key file", path.display()))?;
        keys.extend(crate::sealed::keyfile::load_keys(text).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decryption_order_rejects_duplicates_and_unknown_kinds() {
        assert_eq!(parse_decryption_order("pgp, age").unwrap(), ["pgp", "age"]);
        assert!(parse_decryption_order("age,age").unwrap_err().contains("more than once"));
        assert!(parse_decryption_order("age,x").unwrap_err().contains("unknown"));
    }

    #[test]
    fn binding_labels_follow_the_scopes() {
        let b = Binding { namespace: Some("prod".into()), name: Some("db".into()), is_secret: true };
        assert_eq!(b.label(Scope::Strict).unwrap(), b"prod/db");
        assert_eq!(b.label(Scope::NamespaceWide).unwrap(), b"prod");
        assert_eq!(b.label(Scope::ClusterWide).unwrap(), b"");
        assert_eq!(b.default_scope(), Scope::Strict);
        let none = Binding::default();
        assert_eq!(none.default_scope(), Scope::ClusterWide);
        assert!(none.label(Scope::Strict).unwrap_err().contains("metadata.namespace"));
        let no_name = Binding { namespace: Some("prod".into()), ..Binding::default() };
        assert!(no_name.label(Scope::Strict).unwrap_err().contains("metadata.name"));
        assert_eq!(no_name.label(Scope::NamespaceWide).unwrap(), b"prod");
    }

    #[test]
    fn ssh_recipients_are_shortened() {
        assert_eq!(short("age1abc"), "age1abc");
        assert_eq!(short("ssh-rsa ééééééééééééééééé x"), "ssh-rsa ...éééééééééééééééé");
        assert_eq!(
            short("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN me@x"),
            "ssh-ed25519 ...M/XXUB+VHtZ6isGN"
        );
    }
}
