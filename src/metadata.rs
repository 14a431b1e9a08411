//! The `sops` metadata block (sops-format §6): read leniently, written in sops's field order.

use gitseal_formats::{Scalar, Value};

use crate::selection::Rule;

/// The version written into new files: a semver that sops accepts (it parses it on every decrypt).
pub const SOPS_VERSION: &str = "3.11.0";

/// One age entry of a key group.
#[derive(Clone, Debug)]
pub struct AgeEntry {
    /// The recipient (`age1...`).
    pub recipient: String,
    /// The armored age file holding the data key.
    pub enc: String,
}

/// One PGP entry of a key group (fields in sops's order: `created_at`, `enc`, `fp`).
#[derive(Clone, Debug)]
pub struct PgpEntry {
    /// When the data key was wrapped (RFC 3339).
    pub created_at: String,
    /// The armored `PGP MESSAGE` holding the data key.
    pub enc: String,
    /// The key's fingerprint.
    pub fp: String,
}

/// One AWS KMS entry of a key group (fields in sops's order: `arn`, `role` and `context` when
/// set, `created_at`, `enc`, `aws_profile` always).
#[derive(Clone, Debug, Default)]
pub struct KmsEntry {
    /// The key's ARN.
    pub arn: String,
    /// The role assumed through STS, or empty.
    pub role: String,
    /// The encryption context, sorted by key.
    pub context: std::collections::BTreeMap<String, String>,
    /// When the data key was wrapped (RFC 3339).
    pub created_at: String,
    /// Standard base64 of the KMS ciphertext blob.
    pub enc: String,
    /// The shared-config profile, or empty.
    pub aws_profile: String,
}

/// One RSA sealing-key entry of a key group (a gitseal extension; sops ignores it). Fields in
/// the order written: `fp`, `scope`, `label`, `created_at`, `enc`.
#[derive(Clone, Debug)]
pub struct RsaEntry {
    /// SHA-256 of the key's DER SubjectPublicKeyInfo, lowercase hex.
    pub fp: String,
    /// `strict`, `namespace-wide` or `cluster-wide`: which OAEP label the data key is bound to.
    pub scope: String,
    /// The label as text when the file was encrypted (`namespace/name`, `namespace` or empty),
    /// for people and error messages; decryption derives the label from the file itself.
    pub label: String,
    /// When the data key was wrapped (RFC 3339).
    pub created_at: String,
    /// Standard base64 of the RSA-OAEP ciphertext of the data key (or share).
    pub enc: String,
}

/// One HashiCorp Vault transit entry of a key group (fields in sops's order).
#[derive(Clone, Debug, Default)]
pub struct VaultEntry {
    /// The server address, used for decryption (as sops does).
    pub vault_address: String,
    /// The transit engine's mount path.
    pub engine_path: String,
    /// The transit key's name.
    pub key_name: String,
    /// When the data key was wrapped (RFC 3339).
    pub created_at: String,
    /// The transit ciphertext (`vault:v1:...`) of the base64 data key.
    pub enc: String,
}

/// A key group: the master keys that each wrap the data key (or, with several groups, one
/// Shamir share of it).
#[derive(Clone, Debug, Default)]
pub struct KeyGroup {
    /// AWS KMS keys.
    pub kms: Vec<KmsEntry>,
    /// PGP keys.
    pub pgp: Vec<PgpEntry>,
    /// age keys.
    pub age: Vec<AgeEntry>,
    /// RSA sealing keys.
    pub rsa: Vec<RsaEntry>,
    /// Vault transit keys.
    pub hc_vault: Vec<VaultEntry>,
    /// Master keys of kinds this build does not open (gcp_kms, azure_kv, ...), kept as written.
    pub other: Vec<(String, Value)>,
}

impl KeyGroup {
    /// True when the group has no master key at all.
    pub fn is_empty(&self) -> bool {
        self.kms.is_empty()
            && self.pgp.is_empty()
            && self.age.is_empty()
            && self.rsa.is_empty()
            && self.hc_vault.is_empty()
            && self.other.is_empty()
    }
}

/// The parsed `sops` metadata.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// Key groups; a file with flat keys has exactly one.
    pub key_groups: Vec<KeyGroup>,
    /// Shamir threshold when there are several groups.
    pub shamir_threshold: Option<i64>,
    /// `lastmodified` as written (RFC 3339).
    pub lastmodified: String,
    /// The encrypted MAC, when present.
    pub mac: Option<String>,
    /// The selection rule as written; `None` means the default suffix (and is not written,
    /// as for the binary store).
    pub rule: Option<Rule>,
    /// Whether the MAC covers only encrypted values.
    pub mac_only_encrypted: bool,
    /// `version`.
    pub version: String,
}

const KEY_KINDS: [&str; 8] = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "rsa", "pgp"];

/// Why metadata could not be read. Names the field, never a secret.
#[derive(Debug, thiserror::Error)]
#[error("invalid sops metadata: {0}")]
pub struct MetadataError(pub String);

impl Metadata {
    /// Reads the metadata tree.
    pub fn from_value(v: &Value) -> Result<Metadata, MetadataError> {
        let bad = |m: &str| MetadataError(m.to_string());
        if !matches!(v, Value::Map(_)) {
            return Err(bad("the sops entry is not a mapping"));
        }
        let mut rules = Vec::new();
        for name in Rule::FIELDS {
            if let Some(s) = v.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                let rule = Rule::from_field(name, s)
                    .map_err(|e| MetadataError(format!("{name}: {}", crate::selection::regex_error(&e))))?;
                rules.extend(rule);
            }
        }
        if rules.len() > 1 {
            return Err(bad("more than one of the encrypted/unencrypted suffix and regex fields is set"));
        }
        let key_groups = groups_from(v, true)?;
        if key_groups.is_empty() || key_groups.iter().all(KeyGroup::is_empty) {
            return Err(bad("no master keys found in the file (no age, kms, pgp, rsa, ... entries)"));
        }
        Ok(Metadata {
            key_groups,
            shamir_threshold: match v.get("shamir_threshold") {
                Some(Value::Scalar(Scalar::Int(n))) => Some(*n),
                Some(Value::Scalar(Scalar::Float(f))) => Some(*f as i64),
                Some(Value::Scalar(Scalar::Str(s))) => s.parse().ok(),
                _ => None,
            },
            lastmodified: v.get("lastmodified").and_then(Value::as_str).unwrap_or_default().to_string(),
            mac: v.get("mac").and_then(Value::as_str).map(str::to_string),
            rule: rules.pop(),
            mac_only_encrypted: matches!(v.get("mac_only_encrypted"), Some(Value::Scalar(Scalar::Bool(true))))
                || v.get("mac_only_encrypted").and_then(Value::as_str) == Some("true"),
            version: match v.get("version") {
                Some(Value::Scalar(Scalar::Str(s))) => s.clone(),
                Some(Value::Scalar(Scalar::Float(f))) => f.to_string(),
                _ => String::new(),
            },
        })
    }

    /// The metadata tree in sops's field order, ready to be written.
    pub fn to_value(&self) -> Value {
        let mut m: Vec<(String, Value)> = Vec::new();
        let single = self.key_groups.len() == 1;
        if !single {
            if let Some(t) = self.shamir_threshold {
                m.push(("shamir_threshold".into(), Value::Scalar(Scalar::Int(t))));
            }
            let groups = self.key_groups.iter().map(|g| Value::Map(group_fields(g, true))).collect();
            m.push(("key_groups".into(), Value::Seq(groups)));
        }
        let group = if single { group_fields(&self.key_groups[0], false) } else { Vec::new() };
        let take = |name: &str| group.iter().find(|(k, _)| k == name).cloned();
        for kind in ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "rsa"] {
            m.extend(take(kind));
        }
        m.push(("lastmodified".into(), Value::str(&self.lastmodified)));
        if let Some(mac) = &self.mac {
            m.push(("mac".into(), Value::str(mac)));
        }
        m.extend(take("pgp"));
        if let Some(rule) = &self.rule {
            let (name, value) = rule.field();
            m.push((name.into(), Value::str(value)));
        }
        if self.mac_only_encrypted {
            m.push(("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))));
        }
        m.push(("version".into(), Value::str(&self.version)));
        Value::Map(m)
    }
}

fn group_from(v: &Value, require_enc: bool) -> Result<KeyGroup, MetadataError> {
    let mut g = KeyGroup::default();
    for kind in KEY_KINDS {
        let Some(Value::Seq(entries)) = v.get(kind) else { continue };
        if entries.is_empty() {
            continue;
        }
        if kind == "age" {
            for e in entries {
                let recipient = e.get("recipient").and_then(Value::as_str).unwrap_or_default().to_string();
                let enc = e.get("enc").and_then(Value::as_str).unwrap_or_default().to_string();
                if require_enc && enc.is_empty() {
                    return Err(MetadataError(format!("age entry for {recipient:?} has no enc field")));
                }
                g.age.push(AgeEntry { recipient, enc });
            }
        } else if kind == "rsa" {
            for e in entries {
                let field = |name: &str| e.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
                let fp = field("fp");
                let enc = field("enc");
                if require_enc && enc.is_empty() {
                    return Err(MetadataError(format!("rsa entry for {fp:?} has no enc field")));
                }
                let (scope, label, created_at) = (field("scope"), field("label"), field("created_at"));
                g.rsa.push(RsaEntry { fp, scope, label, created_at, enc });
            }
        } else if kind == "kms" {
            for e in entries {
                let field = |name: &str| e.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
                let arn = field("arn");
                let enc = field("enc");
                if require_enc && enc.is_empty() {
                    return Err(MetadataError(format!("kms entry for {arn:?} has no enc field")));
                }
                let context = match e.get("context") {
                    Some(Value::Map(items)) => items
                        .iter()
                        .map(|(k, v)| match v {
                            Value::Scalar(Scalar::Str(s)) => Ok((k.clone(), s.clone())),
                            _ => Err(MetadataError(format!(
                                "kms entry for {arn:?}: the context value of {k:?} is not a string"
                            ))),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => Default::default(),
                };
                let (role, created_at, aws_profile) = (field("role"), field("created_at"), field("aws_profile"));
                g.kms.push(KmsEntry { arn, role, context, created_at, enc, aws_profile });
            }
        } else if kind == "hc_vault" {
            for e in entries {
                let field = |name: &str| e.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
                let entry = VaultEntry {
                    vault_address: field("vault_address"),
                    engine_path: field("engine_path"),
                    key_name: field("key_name"),
                    created_at: field("created_at"),
                    enc: field("enc"),
                };
                if require_enc && entry.enc.is_empty() {
                    return Err(MetadataError(format!(
                        "hc_vault entry for {:?} has no enc field",
                        format!("{}/v1/{}/keys/{}", entry.vault_address, entry.engine_path, entry.key_name)
                    )));
                }
                g.hc_vault.push(entry);
            }
        } else if kind == "pgp" {
            for e in entries {
                let field = |name: &str| e.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
                let fp = field("fp");
                let enc = field("enc");
                if require_enc && enc.is_empty() {
                    return Err(MetadataError(format!("pgp entry for {fp:?} has no enc field")));
                }
                g.pgp.push(PgpEntry { created_at: field("created_at"), enc, fp });
            }
        } else {
            g.other.push((kind.to_string(), Value::Seq(entries.clone())));
        }
    }
    Ok(g)
}

/// The key groups of a metadata tree: its `key_groups` when it has some (as sops reads it),
/// else its top-level keys as one group.
fn groups_from(v: &Value, require_enc: bool) -> Result<Vec<KeyGroup>, MetadataError> {
    if let Some(Value::Seq(groups)) = v.get("key_groups").filter(|g| matches!(g, Value::Seq(s) if !s.is_empty())) {
        return groups.iter().map(|g| group_from(g, require_enc)).collect();
    }
    let flat = group_from(v, require_enc)?;
    Ok(if flat.is_empty() { Vec::new() } else { vec![flat] })
}

/// The key groups and threshold named by metadata that a person edited (`edit
/// --show-master-keys`): entries may lack `enc` (keys just added), since only which keys are
/// named matters; the data key is wrapped for them anew.
pub fn edited_key_groups(v: &Value) -> Result<(Vec<KeyGroup>, Option<usize>), MetadataError> {
    if !matches!(v, Value::Map(_)) {
        return Err(MetadataError("the sops entry is not a mapping".into()));
    }
    let has_groups = matches!(v.get("key_groups"), Some(Value::Seq(s)) if !s.is_empty());
    if has_groups && !group_from(v, false)?.is_empty() {
        return Err(MetadataError(
            "both key_groups and a top-level key list: keep one (with several groups, list every key under key_groups)"
                .into(),
        ));
    }
    let groups = groups_from(v, false)?;
    let threshold = match v.get("shamir_threshold") {
        None => None,
        Some(Value::Scalar(Scalar::Int(n))) if *n > 0 => Some(*n as usize),
        Some(_) => return Err(MetadataError("shamir_threshold is not a positive whole number".into())),
    };
    Ok((groups, threshold))
}

/// The fields of a group in sops's order, with gitseal's `rsa` right after `age`. Inside
/// `key_groups`, `hc_vault` and `age` are always written (sops does not omit them there).
fn group_fields(g: &KeyGroup, in_groups: bool) -> Vec<(String, Value)> {
    let order: &[&str] = if in_groups {
        &["pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "rsa"]
    } else {
        &["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "rsa", "pgp"]
    };
    let mut out = Vec::new();
    for &kind in order {
        let value = if kind == "pgp" {
            (!g.pgp.is_empty()).then(|| {
                Value::Seq(
                    g.pgp
                        .iter()
                        .map(|p| {
                            Value::Map(vec![
                                ("created_at".into(), Value::str(&p.created_at)),
                                ("enc".into(), Value::str(&p.enc)),
                                ("fp".into(), Value::str(&p.fp)),
                            ])
                        })
                        .collect(),
                )
            })
        } else if kind == "rsa" {
            (!g.rsa.is_empty()).then(|| Value::Seq(g.rsa.iter().map(rsa_entry).collect()))
        } else if kind == "kms" {
            (!g.kms.is_empty()).then(|| Value::Seq(g.kms.iter().map(kms_entry).collect()))
        } else if kind == "hc_vault" {
            (!g.hc_vault.is_empty()).then(|| Value::Seq(g.hc_vault.iter().map(vault_entry).collect()))
        } else if kind == "age" {
            (!g.age.is_empty()).then(|| {
                Value::Seq(
                    g.age
                        .iter()
                        .map(|a| {
                            Value::Map(vec![
                                ("recipient".into(), Value::str(&a.recipient)),
                                ("enc".into(), Value::str(&a.enc)),
                            ])
                        })
                        .collect(),
                )
            })
        } else {
            g.other.iter().find(|(k, _)| k == kind).map(|(_, v)| v.clone())
        };
        match value {
            Some(v) => out.push((kind.to_string(), v)),
            None if in_groups && (kind == "hc_vault" || kind == "age") => {
                out.push((kind.to_string(), Value::Seq(Vec::new())))
            }
            None => {}
        }
    }
    out
}

fn vault_entry(v: &VaultEntry) -> Value {
    Value::Map(vec![
        ("vault_address".into(), Value::str(&v.vault_address)),
        ("engine_path".into(), Value::str(&v.engine_path)),
        ("key_name".into(), Value::str(&v.key_name)),
        ("created_at".into(), Value::str(&v.created_at)),
        ("enc".into(), Value::str(&v.enc)),
    ])
}

fn kms_entry(k: &KmsEntry) -> Value {
    let mut m = vec![("arn".into(), Value::str(&k.arn))];
    if !k.role.is_empty() {
        m.push(("role".into(), Value::str(&k.role)));
    }
    if !k.context.is_empty() {
        m.push(("context".into(), Value::Map(k.context.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect())));
    }
    m.push(("created_at".into(), Value::str(&k.created_at)));
    m.push(("enc".into(), Value::str(&k.enc)));
    m.push(("aws_profile".into(), Value::str(&k.aws_profile)));
    Value::Map(m)
}

fn rsa_entry(r: &RsaEntry) -> Value {
    Value::Map(vec![
        ("fp".into(), Value::str(&r.fp)),
        ("scope".into(), Value::str(&r.scope)),
        ("label".into(), Value::str(&r.label)),
        ("created_at".into(), Value::str(&r.created_at)),
        ("enc".into(), Value::str(&r.enc)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Metadata {
        Metadata {
            key_groups: vec![KeyGroup {
                pgp: vec![],
                age: vec![AgeEntry { recipient: "age1x".into(), enc: "E".into() }],
                ..KeyGroup::default()
            }],
            shamir_threshold: None,
            lastmodified: "2026-11-28T04:35:48Z".into(),
            mac: Some("ENC[...]".into()),
            rule: Some(Rule::default()),
            mac_only_encrypted: false,
            version: SOPS_VERSION.into(),
        }
    }

    #[test]
    fn writes_fields_in_sops_order() {
        let Value::Map(fields) = sample().to_value() else { panic!("not a map") };
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["age", "lastmodified", "mac", "unencrypted_suffix", "version"]);
    }

    #[test]
    fn reads_back_and_rejects_conflicts() {
        let v = sample().to_value();
        let m = Metadata::from_value(&v).unwrap();
        assert_eq!(m.key_groups[0].age[0].recipient, "age1x");
        assert_eq!(m.lastmodified, "2026-11-28T04:35:48Z");
        let Value::Map(mut fields) = v else { unreachable!() };
        fields.push(("encrypted_regex".into(), Value::str("^a")));
        assert!(Metadata::from_value(&Value::Map(fields.clone())).is_err());
        fields.retain(|(k, _)| k != "age");
        assert!(Metadata::from_value(&Value::Map(fields)).is_err());
    }

    #[test]
    fn writes_key_groups_and_pgp_in_sops_order() {
        let mut m = sample();
        let pgp = PgpEntry { created_at: "2026-11-28T04:35:48Z".into(), enc: "P".into(), fp: "ABCD".into() };
        m.key_groups[0].pgp.push(pgp.clone());
        let Value::Map(fields) = m.to_value() else { panic!("not a map") };
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["age", "lastmodified", "mac", "pgp", "unencrypted_suffix", "version"]);
        let Some(Value::Seq(entries)) = fields.iter().find(|(k, _)| k == "pgp").map(|(_, v)| v.clone()) else {
            panic!("no pgp list")
        };
        let Value::Map(entry) = &entries[0] else { panic!("not a map") };
        let names: Vec<&str> = entry.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["created_at", "enc", "fp"]);

        m.key_groups.push(KeyGroup { pgp: vec![pgp], ..KeyGroup::default() });
        m.shamir_threshold = Some(2);
        let v = m.to_value();
        let Value::Map(fields) = &v else { panic!("not a map") };
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["shamir_threshold", "key_groups", "lastmodified", "mac", "unencrypted_suffix", "version"]);
        let Some(Value::Seq(groups)) = v.get("key_groups") else { panic!("no groups") };
        let Value::Map(g0) = &groups[0] else { panic!("not a map") };
        let names: Vec<&str> = g0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["pgp", "hc_vault", "age"]);

        let back = Metadata::from_value(&v).unwrap();
        assert_eq!(back.key_groups.len(), 2);
        assert_eq!(back.shamir_threshold, Some(2));
        assert_eq!(back.key_groups[1].pgp[0].fp, "ABCD");
        assert!(back.key_groups[1].age.is_empty());
    }

    fn rsa(fp: &str) -> RsaEntry {
        RsaEntry {
            fp: fp.into(),
            scope: "strict".into(),
            label: "prod/db".into(),
            created_at: "2026-11-28T04:35:48Z".into(),
            enc: "R".into(),
        }
    }

    fn names(v: &Value) -> Vec<String> {
        let Value::Map(fields) = v else { panic!("not a map") };
        fields.iter().map(|(k, _)| k.clone()).collect()
    }

    #[test]
    fn writes_rsa_after_age_in_a_stable_order() {
        let mut m = sample();
        m.key_groups[0].rsa.push(rsa("ab"));
        m.key_groups[0].pgp.push(PgpEntry { created_at: "t".into(), enc: "P".into(), fp: "ABCD".into() });
        let v = m.to_value();
        assert_eq!(names(&v), ["age", "rsa", "lastmodified", "mac", "pgp", "unencrypted_suffix", "version"]);
        let Some(Value::Seq(entries)) = v.get("rsa") else { panic!("no rsa list") };
        assert_eq!(names(&entries[0]), ["fp", "scope", "label", "created_at", "enc"]);
        let back = Metadata::from_value(&v).unwrap();
        let r = &back.key_groups[0].rsa[0];
        assert_eq!(
            (r.fp.as_str(), r.scope.as_str(), r.label.as_str(), r.enc.as_str()),
            ("ab", "strict", "prod/db", "R")
        );
        // Written again, the tree is the same: the order does not drift.
        assert_eq!(names(&back.to_value()), names(&v));

        // In key groups, rsa comes last; a group with only rsa keys still writes hc_vault and age.
        m.key_groups.push(KeyGroup { rsa: vec![rsa("cd")], ..KeyGroup::default() });
        m.shamir_threshold = Some(2);
        let v = m.to_value();
        let Some(Value::Seq(groups)) = v.get("key_groups") else { panic!("no groups") };
        assert_eq!(names(&groups[0]), ["pgp", "hc_vault", "age", "rsa"]);
        assert_eq!(names(&groups[1]), ["hc_vault", "age", "rsa"]);
        let back = Metadata::from_value(&v).unwrap();
        assert_eq!(back.key_groups[1].rsa[0].fp, "cd");

        // An rsa-only file is a file with keys; an rsa entry without enc is an error.
        let only = Value::Map(vec![("rsa".into(), Value::Seq(vec![rsa_entry(&rsa("ef"))]))]);
        assert_eq!(Metadata::from_value(&only).unwrap().key_groups[0].rsa.len(), 1);
        let no_enc =
            Value::Map(vec![("rsa".into(), Value::Seq(vec![Value::Map(vec![("fp".into(), Value::str("ef"))])]))]);
        assert!(Metadata::from_value(&no_enc).unwrap_err().to_string().contains("rsa entry"));
    }

    #[test]
    fn writes_kms_entries_in_sops_order() {
        let mut m = sample();
        let mut k = KmsEntry {
            arn: "arn:aws:kms:eu-west-1:1:key/x".into(),
            created_at: "t".into(),
            enc: "K".into(),
            ..KmsEntry::default()
        };
        m.key_groups[0].kms.push(k.clone());
        k.role = "arn:aws:iam::1:role/R".into();
        k.context = [("env".to_string(), "test".to_string()), ("app".to_string(), "demo".to_string())].into();
        k.aws_profile = "dev".into();
        m.key_groups[0].kms.push(k);
        let v = m.to_value();
        assert_eq!(names(&v), ["kms", "age", "lastmodified", "mac", "unencrypted_suffix", "version"]);
        let Some(Value::Seq(entries)) = v.get("kms") else { panic!("no kms list") };
        // aws_profile is always written, role and context only when set; context keys sorted.
        assert_eq!(names(&entries[0]), ["arn", "created_at", "enc", "aws_profile"]);
        assert_eq!(names(&entries[1]), ["arn", "role", "context", "created_at", "enc", "aws_profile"]);
        assert_eq!(names(entries[1].get("context").unwrap()), ["app", "env"]);
        let back = Metadata::from_value(&v).unwrap();
        assert_eq!(back.key_groups[0].kms[1].context["env"], "test");
        assert_eq!(back.key_groups[0].kms[1].aws_profile, "dev");
        assert_eq!(names(&back.to_value()), names(&v));

        m.key_groups.push(KeyGroup { kms: m.key_groups[0].kms.clone(), ..KeyGroup::default() });
        m.shamir_threshold = Some(2);
        let v = m.to_value();
        let Some(Value::Seq(groups)) = v.get("key_groups") else { panic!("no groups") };
        assert_eq!(names(&groups[1]), ["kms", "hc_vault", "age"]);
        let bad = Value::Map(vec![(
            "kms".into(),
            Value::Seq(vec![Value::Map(vec![
                ("arn".into(), Value::str("a")),
                ("context".into(), Value::Map(vec![("n".into(), Value::Scalar(Scalar::Int(1)))])),
                ("enc".into(), Value::str("K")),
            ])]),
        )]);
        assert!(Metadata::from_value(&bad).unwrap_err().to_string().contains("not a string"));
    }

    #[test]
    fn empty_groups_and_entries_without_enc_are_errors() {
        let groups = Value::Map(vec![
            ("key_groups".into(), Value::Seq(vec![Value::Map(vec![("age".into(), Value::Seq(vec![]))])])),
            ("lastmodified".into(), Value::str("2026-11-28T04:35:48Z")),
        ]);
        assert!(Metadata::from_value(&groups).is_err());
        let no_enc =
            Value::Map(vec![("pgp".into(), Value::Seq(vec![Value::Map(vec![("fp".into(), Value::str("ABCD"))])]))]);
        assert!(Metadata::from_value(&no_enc).unwrap_err().to_string().contains("no enc"));
    }
}
