//! S3 PutObject for `publish` (the re-encrypted file goes to `s3_bucket`/`s3_prefix`), without
//! the large S3 SDK: credentials and region come from aws-config (as for KMS keys: environment,
//! shared config and profiles, SSO, instance roles), the request is signed with SigV4 by
//! aws-sigv4, and sent by gitseal's HTTPS client (`crate::http`, as Vault's requests are).
//! `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` selects another endpoint (path-style addressing,
//! as for MinIO or moto).

use std::time::SystemTime;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use sha2::{Digest, Sha256};

/// Uploads `body` as `s3://bucket/key`, through `remote`'s connections.
pub fn put_object(remote: &crate::Remote, bucket: &str, key: &str, body: &[u8]) -> Result<(), String> {
    let client = remote.https().map_err(|e| format!("cannot set up TLS: {e}"))?;
    remote.block_on(put(client, remote, bucket, key, body))?
}

async fn put(
    client: &crate::http::HttpsClient,
    remote: &crate::Remote,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Result<(), String> {
    let config = aws_config::defaults(BehaviorVersion::latest()).http_client(remote.aws_http()).load().await;
    let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_string());
    let provider =
        config.credentials_provider().ok_or("no AWS credentials found (AWS_ACCESS_KEY_ID, a profile, ...)")?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| format!("cannot load AWS credentials: {}", crate::vault::error_chain(&e)))?;
    let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()));
    let path = key.split('/').map(encode_segment).collect::<Vec<_>>().join("/");
    let (url, host) = match endpoint {
        Some(ep) => {
            let ep = ep.trim_end_matches('/').to_string();
            let host =
                ep.split_once("://").map(|(_, h)| h).unwrap_or(&ep).split('/').next().unwrap_or_default().to_string();
            (format!("{ep}/{}/{path}", encode_segment(bucket)), host)
        }
        None => {
            let host = format!("{bucket}.s3.{region}.amazonaws.com");
            (format!("https://{host}/{path}"), host)
        }
    };
    let payload_hash = hex(&Sha256::digest(body));
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let headers = [("host", host.as_str()), ("content-type", "application/octet-stream")];
    let signable = SignableRequest::new("PUT", url.clone(), headers.iter().copied(), SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("cannot sign the request: {e}"))?.into_parts();
    let (signed, _) = instructions.into_parts();
    let mut all: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.extend(signed.iter().map(|h| (h.name().to_string(), h.value().to_string())));
    if !all.iter().any(|(k, _)| k.eq_ignore_ascii_case("x-amz-content-sha256")) {
        all.push(("x-amz-content-sha256".into(), payload_hash));
    }
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, answer) = crate::vault::send(client, "PUT", &url, &refs, body).await?;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&answer);
    let code = between(&text, "<Code>", "</Code>").unwrap_or_default();
    let message = between(&text, "<Message>", "</Message>").unwrap_or_default();
    Err(format!("HTTP {status}{}", if code.is_empty() { String::new() } else { format!(": {code}: {message}") }))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)? + i;
    Some(&text[i..j])
}

/// RFC 3986 percent-encoding of one path segment (unreserved characters kept).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded_once() {
        assert_eq!(encode_segment("a b+c.yaml"), "a%20b%2Bc.yaml");
        assert_eq!(encode_segment("secret.enc.yaml"), "secret.enc.yaml");
        assert_eq!(between("<Error><Code>NoSuchBucket</Code></Error>", "<Code>", "</Code>"), Some("NoSuchBucket"));
    }
}
