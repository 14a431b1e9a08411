//! Private-key files as kubeseal's `--recovery-private-key` reads them: PEM (PKCS#1 or PKCS#8),
//! or a backup of the controller's key Secrets (a Secret, a multi-document stream or a
//! `v1.List`, YAML or JSON) whose `data."tls.key"` holds the PEM in base64.

use gitseal_formats::Value;
use gitseal_keys::sealing::SealingKey;
use zeroize::Zeroizing;

use super::{describe, manifest, str_field};

/// The keys in one file's text. Errors say why, without key material (the caller adds the
/// file name).
pub fn load_keys(text: &str) -> Result<Vec<SealingKey>, String> {
    if text.contains("-----BEGIN") && !looks_like_manifest(text) {
        return SealingKey::from_pem(text).map_err(|e| e.to_string());
    }
    let objects = manifest::parse_stream(text).map_err(|e| format!("neither a PEM key nor a Secret backup: {e}"))?;
    let mut keys = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        let object = describe(obj, i);
        if obj.get("kind").and_then(Value::as_str) != Some("Secret") {
            continue;
        }
        let Some(b64) = str_field(obj, &["data", "tls.key"], &object).map_err(|e| e.to_string())? else {
            continue;
        };
        let pem = super::decode_base64(b64)
            .map(Zeroizing::new)
            .ok_or(format!("{object}: data.tls.key is not valid base64"))?;
        let pem = std::str::from_utf8(&pem).map_err(|_| format!("{object}: data.tls.key is not a PEM key"))?;
        keys.extend(SealingKey::from_pem(pem).map_err(|e| format!("{object}: data.tls.key: {e}"))?);
    }
    if keys.is_empty() {
        return Err("no private key found (expected a PEM key, or Secrets with data.\"tls.key\")".into());
    }
    Ok(keys)
}

fn looks_like_manifest(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') || t.lines().any(|l| l.starts_with("kind:") || l.starts_with("apiVersion:"))
}
