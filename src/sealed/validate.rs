//! Offline checks of SealedSecrets (kubeseal has none; upstream #1444): without a private key,
//! the structure, base64, RSA block length against the certificate's modulus, and scope
//! annotations against name and namespace; with private keys, a full unseal as well.

use gitseal_formats::Value;
use gitseal_keys::sealing::{self, PublicKey, Scope};

use super::unseal::{unseal, OwnerReference, UnsealOptions};
use super::{describe, field, str_field, str_map, SealedError, CLUSTER_WIDE, NAMESPACE_WIDE};

/// What to check against.
pub struct ValidateOptions<'a> {
    /// The certificate's key: every RSA block must have its modulus size.
    pub cert: Option<&'a PublicKey>,
    /// Private keys: when given, every SealedSecret must unseal (templates included).
    pub keys: &'a [gitseal_keys::sealing::SealingKey],
    /// Namespace assumed when a SealedSecret has none.
    pub default_namespace: &'a str,
}

/// Every problem of one SealedSecret (empty when it is fine).
pub fn validate(sealed: &Value, index: usize, opts: &ValidateOptions<'_>) -> Vec<SealedError> {
    let object = describe(sealed, index);
    let mut problems = Vec::new();
    if let Err(e) = super::seal::check_kind(sealed, &object, super::API_VERSION, super::KIND) {
        return vec![e];
    }
    problems.extend(check_identity(sealed, &object).err());
    problems.extend(check_scope_annotations(sealed, &object));
    problems.extend(check_items(sealed, &object, opts.cert));
    if problems.is_empty() && !opts.keys.is_empty() {
        let uo = UnsealOptions {
            keys: opts.keys,
            owner_reference: OwnerReference::WhenUid,
            default_namespace: opts.default_namespace,
            render_templates: true,
        };
        problems.extend(unseal(sealed, index, &uo).err());
    }
    problems
}

fn check_identity(sealed: &Value, object: &str) -> Result<(), SealedError> {
    let name = str_field(sealed, &["metadata", "name"], object)?.unwrap_or("");
    if name.is_empty() {
        return Err(SealedError::at(object, "metadata.name", "is missing"));
    }
    let scope = super::scope_of(sealed.get("metadata"));
    let ns = str_field(sealed, &["metadata", "namespace"], object)?.unwrap_or("");
    if ns.is_empty() && scope != Scope::ClusterWide {
        return Err(SealedError::at(
            object,
            "metadata.namespace",
            format!("is missing, but a {} SealedSecret is bound to the namespace it was sealed for", scope.as_str()),
        ));
    }
    let t_name = str_field(sealed, &["spec", "template", "metadata", "name"], object)?;
    let t_ns = str_field(sealed, &["spec", "template", "metadata", "namespace"], object)?;
    if scope == Scope::Strict && t_name.is_some_and(|t| t != name) {
        return Err(SealedError::at(
            object,
            "spec.template.metadata.name",
            format!(
                "is {:?}: renamed after sealing? a strict SealedSecret only unseals under its sealed name",
                t_name.unwrap_or("")
            ),
        ));
    }
    if scope != Scope::ClusterWide && t_ns.is_some_and(|t| t != ns) {
        return Err(SealedError::at(
            object,
            "spec.template.metadata.namespace",
            format!("is {:?}: moved after sealing? it only unseals in its sealed namespace", t_ns.unwrap_or("")),
        ));
    }
    Ok(())
}

fn check_scope_annotations(sealed: &Value, object: &str) -> Vec<SealedError> {
    let mut problems = Vec::new();
    let top = |a: &str| field(sealed, &["metadata", "annotations", a]).and_then(Value::as_str);
    let tmpl = |a: &str| field(sealed, &["spec", "template", "metadata", "annotations", a]).and_then(Value::as_str);
    for a in [NAMESPACE_WIDE, CLUSTER_WIDE] {
        if let Some(v) = top(a).filter(|v| *v != "true" && v.eq_ignore_ascii_case("true")) {
            problems.push(SealedError::at(
                object,
                format!("metadata.annotations.{a}"),
                format!("is {v:?}; only the exact string \"true\" counts, so this is read as strict"),
            ));
        }
        if tmpl(a) == Some("true") && top(a) != Some("true") {
            problems.push(SealedError::at(
                object,
                format!("metadata.annotations.{a}"),
                "is missing although the template has it; the controller reads the scope from the top-level metadata",
            ));
        }
    }
    problems
}

fn check_items(sealed: &Value, object: &str, cert: Option<&PublicKey>) -> Vec<SealedError> {
    let items = match str_map(sealed, &["spec", "encryptedData"], object) {
        Ok(items) => items,
        Err(e) => return vec![e],
    };
    let has_legacy = field(sealed, &["spec", "data"]).is_some();
    if items.is_empty() && !has_legacy {
        return vec![SealedError::at(object, "spec.encryptedData", "is missing or empty")];
    }
    if has_legacy && !items.is_empty() {
        return vec![SealedError::new(object, "has both spec.data (legacy) and spec.encryptedData")];
    }
    let mut problems = Vec::new();
    for (key, value) in items {
        let path = format!("spec.encryptedData.{key}");
        let Some(blob) = super::decode_base64(value) else {
            problems.push(SealedError::at(object, path, "is not valid base64 (standard alphabet, padded)"));
            continue;
        };
        let (rsa, aes) = match sealing::split(&blob) {
            Ok(parts) => parts,
            Err(e) => {
                problems.push(SealedError::at(object, path, e.to_string()));
                continue;
            }
        };
        if aes.len() < 16 {
            problems.push(SealedError::at(object, path, "sealed data is too short (no AES-GCM tag)"));
        } else if let Some(cert) = cert.filter(|c| c.size() != rsa.len()) {
            problems.push(SealedError::at(
                object,
                path,
                format!(
                    "was sealed to a {}-bit key, but the certificate's key has {} bits",
                    rsa.len() * 8,
                    cert.size() * 8
                ),
            ));
        }
    }
    problems
}
