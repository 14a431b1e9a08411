//! HashiCorp Vault (and OpenBao) transit master keys, as sops writes them: the data key is sent
//! base64-encoded to `<address>/v1/<engine>/encrypt/<key>` and the `vault:v1:...` ciphertext
//! stored in the file with the address, engine path and key name; decryption uses the address
//! stored in the file. Also the KV v1/v2 write that `publish` needs.
//!
//! Token: `VAULT_TOKEN`, else `~/.vault-token`. TLS: the system roots plus `VAULT_CACERT` (a PEM
//! file) and `VAULT_CAPATH` (a directory of PEM files); `VAULT_SKIP_VERIFY` is not honoured.
//! `SOPS_HC_VAULT_ALLOWLIST` (sops 3.13): `all` (default), `none`, or comma-separated URL
//! prefixes. Every call has a 5 s connect and a 20 s request timeout and is tried three times
//! when the server cannot be reached or answers 5xx; errors name the URI and the reason.

#[cfg(feature = "vault")]
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use crate::remote::Remote;
use crate::KeyError;

/// A transit key: `<address>/v1/<engine path>/keys/<key name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultKey {
    address: String,
    engine_path: String,
    key_name: String,
}

impl VaultKey {
    /// Parses a transit URI as sops does (`https://vault:8200/v1/sops/keys/firstkey`; the
    /// engine path may have several segments).
    pub fn parse(uri: &str) -> Result<VaultKey, KeyError> {
        let bad =
            |reason: &str| KeyError::InvalidKey { kind: "hc_vault", key: uri.to_string(), reason: reason.to_string() };
        let uri = uri.trim();
        let rest = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"))
            .ok_or_else(|| bad("expected <http(s)://address>/v1/<engine path>/keys/<key name>"))?;
        let scheme_len = uri.len() - rest.len();
        let slash = rest.find('/').ok_or_else(|| bad("no /v1/ path"))?;
        let address = &uri[..scheme_len + slash];
        let path = &rest[slash..];
        let path = path.strip_prefix("/v1/").ok_or_else(|| bad("the path must start with /v1/"))?;
        let (engine, key) = path.rsplit_once("/keys/").ok_or_else(|| bad("the path must end in /keys/<key name>"))?;
        if engine.is_empty() || key.is_empty() || key.contains('/') {
            return Err(bad("expected <address>/v1/<engine path>/keys/<key name>"));
        }
        Ok(VaultKey::new(address, engine, key))
    }

    /// Parses a comma-separated list of URIs (empty items skipped).
    pub fn parse_list(s: &str) -> Result<Vec<VaultKey>, KeyError> {
        s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(VaultKey::parse).collect()
    }

    /// A key from the fields stored in a file.
    pub fn new(address: &str, engine_path: &str, key_name: &str) -> VaultKey {
        VaultKey {
            address: address.trim_end_matches('/').to_string(),
            engine_path: engine_path.trim_matches('/').to_string(),
            key_name: key_name.to_string(),
        }
    }

    /// The server address (`https://vault:8200`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The transit engine's mount path (`sops`, `transit`).
    pub fn engine_path(&self) -> &str {
        &self.engine_path
    }

    /// The key's name.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The URI, as given to `--hc-vault-transit`.
    pub fn uri(&self) -> String {
        format!("{}/v1/{}/keys/{}", self.address, self.engine_path, self.key_name)
    }

    /// Encrypts `secret` with the transit key; the result is the `vault:v1:...` text.
    pub fn wrap(&self, remote: &Remote, secret: &[u8]) -> Result<String, KeyError> {
        let fail = |reason: String| KeyError::Wrap { recipient: self.uri(), reason };
        let plaintext = Zeroizing::new(STANDARD.encode(secret));
        let body = Zeroizing::new(serde_json::json!({ "plaintext": plaintext.as_str() }).to_string());
        let url = format!("{}/v1/{}/encrypt/{}", self.address, self.engine_path, self.key_name);
        let answer = call(remote, &self.address, "POST", &url, Some(body.as_bytes())).map_err(fail)?;
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|_| fail("the answer is not JSON".into()))?;
        v.pointer("/data/ciphertext")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| fail("the answer has no data.ciphertext".into()))
    }

    /// Decrypts a `vault:v1:...` text back to the data key.
    pub fn unwrap(&self, remote: &Remote, enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let fail = KeyError::Unwrap;
        let body = serde_json::json!({ "ciphertext": enc }).to_string();
        let url = format!("{}/v1/{}/decrypt/{}", self.address, self.engine_path, self.key_name);
        let answer = Zeroizing::new(call(remote, &self.address, "POST", &url, Some(body.as_bytes())).map_err(fail)?);
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|_| fail("the answer is not JSON".into()))?;
        let b64 = Zeroizing::new(
            v.pointer("/data/plaintext")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| fail("the answer has no data.plaintext".into()))?
                .to_string(),
        );
        STANDARD.decode(b64.as_bytes()).map(Zeroizing::new).map_err(|_| fail("the plaintext is not base64".into()))
    }
}

/// Writes `data` (a JSON object) as the secret at `path` of the KV engine mounted at `mount`
/// (version 1 or 2), as `sops publish` does; `Ok(false)` when it already held exactly that data.
pub fn kv_write(
    remote: &Remote,
    address: &str,
    mount: &str,
    version: u8,
    path: &str,
    data: &serde_json::Value,
) -> Result<bool, String> {
    let address = address.trim_end_matches('/');
    let mount = mount.trim_matches('/');
    let path = path.trim_start_matches('/');
    let (url, body, current) = match version {
        1 => (format!("{address}/v1/{mount}/{path}"), data.clone(), "/data"),
        2 => (format!("{address}/v1/{mount}/data/{path}"), serde_json::json!({ "data": data }), "/data/data"),
        v => return Err(format!("KV version {v} is not supported (1 or 2)")),
    };
    // When the secret already holds exactly this data nothing is written (no new KV v2
    // version); one that does not exist yet (404) or cannot be read is simply written.
    if let Ok(existing) = call(remote, address, "GET", &url, None) {
        let existing = Zeroizing::new(existing);
        let v: serde_json::Value = serde_json::from_slice(&existing).unwrap_or_default();
        if v.pointer(current) == Some(data) {
            return Ok(false);
        }
    }
    let body = Zeroizing::new(body.to_string());
    call(remote, address, "POST", &url, Some(body.as_bytes())).map(|_| true)
}

/// Whether `SOPS_HC_VAULT_ALLOWLIST` lets gitseal talk to `address`.
fn allowed(address: &str) -> Result<(), String> {
    let list = std::env::var("SOPS_HC_VAULT_ALLOWLIST").unwrap_or_default();
    let list = list.trim();
    if list.is_empty() || list == "all" {
        return Ok(());
    }
    // As sops 3.13: both sides end in `/`, so `http://vault:82` does not allow `http://vault:8200`.
    let slash = |s: &str| format!("{}/", s.trim_end_matches('/'));
    let with_slash = slash(address);
    if list == "none" {
        return Err(format!("Allowlist does not allow {address} (SOPS_HC_VAULT_ALLOWLIST=none)"));
    }
    let prefixes: Vec<&str> = list.split(',').map(str::trim).collect();
    if prefixes.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "SOPS_HC_VAULT_ALLOWLIST {list:?} has an empty entry; give URL prefixes separated by commas"
        ));
    }
    let ok = prefixes.iter().any(|p| with_slash.starts_with(&slash(p)));
    if ok {
        Ok(())
    } else {
        Err(format!("Allowlist does not allow {address} (SOPS_HC_VAULT_ALLOWLIST)"))
    }
}

/// The token: `VAULT_TOKEN`, else `~/.vault-token`.
fn token() -> Result<Zeroizing<String>, String> {
    if let Ok(t) = std::env::var("VAULT_TOKEN") {
        if !t.trim().is_empty() {
            return Ok(Zeroizing::new(t.trim().to_string()));
        }
    }
    let home = std::env::var_os("HOME").ok_or("no Vault token: set VAULT_TOKEN (or write ~/.vault-token)")?;
    let path = std::path::Path::new(&home).join(".vault-token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(Zeroizing::new(t.trim().to_string())),
        _ => Err("no Vault token: set VAULT_TOKEN (or write ~/.vault-token)".into()),
    }
}

#[cfg(not(feature = "vault"))]
fn call(_remote: &Remote, address: &str, _method: &str, _url: &str, _body: Option<&[u8]>) -> Result<Vec<u8>, String> {
    allowed(address)?;
    token()?;
    Err("this gitseal was built without Vault support (feature `vault`)".into())
}

/// The HTTPS client a [`Remote`] keeps: the system roots plus `VAULT_CACERT`/`VAULT_CAPATH`.
#[cfg(feature = "vault")]
pub(crate) fn build_client() -> Result<crate::http::HttpsClient, String> {
    let mut extra: Vec<std::path::PathBuf> = Vec::new();
    if let Some(f) = std::env::var_os("VAULT_CACERT").filter(|v| !v.is_empty()) {
        extra.push(f.into());
    }
    if let Some(dir) = std::env::var_os("VAULT_CAPATH").filter(|v| !v.is_empty()) {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("VAULT_CAPATH {}: {e}", dir.to_string_lossy()))?;
        extra.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
    }
    crate::http::client(&extra, Duration::from_secs(5))
}

/// One authenticated JSON call; the body of a 2xx answer, else why not (never the token).
#[cfg(feature = "vault")]
fn call(remote: &Remote, address: &str, method: &str, url: &str, body: Option<&[u8]>) -> Result<Vec<u8>, String> {
    allowed(address)?;
    let token = token()?;
    let headers =
        [("X-Vault-Token", token.as_str()), ("X-Vault-Request", "true"), ("Content-Type", "application/json")];
    let client = remote.https().map_err(|e| format!("cannot set up TLS: {e}"))?;
    let (status, bytes) = remote.block_on(send(client, method, url, &headers, body.unwrap_or_default()))??;
    if (200..300).contains(&status) {
        return Ok(bytes);
    }
    let why = vault_errors(&bytes);
    let suffix = if why.is_empty() { String::new() } else { format!(": {why}") };
    Err(match status {
        403 => format!("permission denied (HTTP 403){suffix}"),
        503 => format!("Vault is sealed or unavailable (HTTP 503){suffix}"),
        code => format!("HTTP {code}{suffix}"),
    })
}

/// Sends one request (three tries when the server cannot be reached or answers 5xx, each
/// bounded); the status and body of the last answer.
#[cfg(feature = "vault")]
pub(crate) async fn send(
    client: &crate::http::HttpsClient,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        let mut request = hyper::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request
            .body(http_body_util::Full::new(hyper::body::Bytes::from(body.to_vec())))
            .map_err(|e| format!("invalid request to {url}: {e}"))?;
        let sent = tokio::time::timeout(Duration::from_secs(20), async {
            let resp = client.request(request).await.map_err(|e| connect_error(&e))?;
            let status = resp.status().as_u16();
            let bytes = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .map_err(|e| format!("cannot read the answer: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, bytes.to_vec()))
        })
        .await;
        match sent {
            Err(_) => last = "no answer within 20 s".into(),
            Ok(Err(e)) => last = e,
            Ok(Ok((status, bytes))) if status >= 500 && attempt < 2 => {
                last = format!("HTTP {status}: {}", vault_errors(&bytes))
            }
            Ok(Ok(answer)) => return Ok(answer),
        }
    }
    Err(last)
}

#[cfg(feature = "vault")]
/// The chain of a connection error, one line (`connection refused`, a TLS certificate error).
fn connect_error(e: &(dyn std::error::Error + 'static)) -> String {
    format!("cannot reach the server: {}", error_chain(e))
}

/// An error and its causes on one line (`a: b: c`), repeats left out.
#[cfg(feature = "vault")]
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.contains(&text) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

#[cfg(feature = "vault")]
/// Vault's `{"errors": [...]}`, joined; control characters removed.
fn vault_errors(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let errors: Vec<String> = v
        .get("errors")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter().filter_map(|e| e.as_str()).map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
        })
        .unwrap_or_default();
    let joined = errors.join("; ");
    if joined.len() > 300 {
        format!(
            "{}...",
            &joined[..joined.char_indices().take_while(|(i, _)| *i < 300).last().map(|(i, _)| i).unwrap_or(0)]
        )
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_as_sops_does() {
        let k = VaultKey::parse("https://vault.example.com:8200/v1/sops/keys/firstkey").unwrap();
        assert_eq!(
            (k.address(), k.engine_path(), k.key_name()),
            ("https://vault.example.com:8200", "sops", "firstkey")
        );
        assert_eq!(k.uri(), "https://vault.example.com:8200/v1/sops/keys/firstkey");
        let k = VaultKey::parse("http://127.0.0.1:8200/v1/team/transit/keys/k-1").unwrap();
        assert_eq!((k.engine_path(), k.key_name()), ("team/transit", "k-1"));
        for bad in [
            "vault.example.com/v1/sops/keys/k",
            "https://vault/sops/keys/k",
            "https://vault/v1/sops/k",
            "https://vault/v1/keys/k",
            "https://vault/v1/sops/keys/",
            "https://vault",
        ] {
            assert!(VaultKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(VaultKey::parse_list("http://a/v1/s/keys/x, http://b/v1/t/keys/y,").unwrap().len(), 2);
    }
}
