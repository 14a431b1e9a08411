//! The AWS side of KMS keys: one SDK client per (region, profile, role), made on first use and
//! kept by the caller's [`Remote`], whose runtime drives the calls.
//!
//! Calls are bounded in time so that an unreachable endpoint fails instead of hanging: a 5 s
//! connect timeout, a 15 s timeout per attempt, 30 s for the whole operation, and the SDK's
//! standard retry mode with 3 attempts (an `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` setting wins).

use std::collections::HashMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use zeroize::Zeroizing;

use super::{ClientId, KmsKey};
use crate::remote::Remote;

/// `sops@<hostname>` with the characters STS refuses removed, at most 64 long (as sops names its
/// role sessions, so that IAM conditions written for sops still match).
fn session_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = format!("sops@{}", host.trim())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c))
        .take(64)
        .collect();
    name
}

fn client(remote: &Remote, key: &KmsKey) -> Result<Client, String> {
    let id: ClientId = (key.region().to_string(), key.profile().to_string(), key.role().map(str::to_string));
    if let Some(c) = remote.kms_client(&id) {
        return Ok(c);
    }
    let client = remote.block_on(async {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(remote.aws_http())
            .region(Region::new(key.region().to_string()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(15))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            );
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() && std::env::var_os("AWS_RETRY_MODE").is_none() {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(3));
        }
        if !key.profile().is_empty() {
            loader = loader.profile_name(key.profile());
        }
        let config = loader.load().await;
        let mut builder = aws_sdk_kms::config::Builder::from(&config);
        if let Some(role) = key.role() {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name(session_name())
                .configure(&config)
                .build()
                .await;
            builder = builder.credentials_provider(provider);
        }
        Client::from_conf(builder.build())
    })?;
    remote.keep_kms_client(id, client.clone());
    Ok(client)
}

fn context(key: &KmsKey) -> Option<HashMap<String, String>> {
    Some(key.context().iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// One line from an SDK error and its causes (never a secret: requests are not printed).
fn describe<E: std::error::Error>(e: E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    format!(
        "{}; check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...), the key's permissions and encryption context, and AWS_ENDPOINT_URL if set",
        text.replace('\n', " ")
    )
}

/// `kms:Encrypt` of `secret`; the ciphertext blob.
pub(super) fn encrypt(remote: &Remote, key: &KmsKey, secret: &[u8]) -> Result<Vec<u8>, String> {
    let client = client(remote, key)?;
    let request = client
        .encrypt()
        .key_id(key.arn())
        .plaintext(Blob::new(secret.to_vec()))
        .set_encryption_context(context(key))
        .send();
    let out = remote.block_on(request)?.map_err(describe)?;
    out.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| "KMS returned no ciphertext".to_string())
}

/// `kms:Decrypt` of a ciphertext blob with the key's ARN and context; the plaintext.
pub(super) fn decrypt(remote: &Remote, key: &KmsKey, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let client = client(remote, key)?;
    let request = client
        .decrypt()
        .key_id(key.arn())
        .ciphertext_blob(Blob::new(blob.to_vec()))
        .set_encryption_context(context(key))
        .send();
    let out = remote.block_on(request)?.map_err(describe)?;
    out.plaintext.map(|b| Zeroizing::new(b.into_inner())).ok_or_else(|| "KMS returned no plaintext".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_names_are_what_sts_accepts() {
        let n = super::session_name();
        assert!(n.starts_with("sops@") && n.len() <= 64);
        assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c)));
    }
}
