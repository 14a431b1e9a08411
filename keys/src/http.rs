//! The HTTPS client of the remote master keys: hyper 1 over HTTP/1.1, rustls on aws-lc-rs, the
//! system's trusted roots plus the CA files a key kind names (`VAULT_CACERT`, `AWS_CA_BUNDLE`).
//! Vault and `publish` send their requests with it, and the AWS SDK sends KMS, STS, SSO and
//! instance-metadata requests through it (`kms::http`).

use std::path::PathBuf;
use std::time::Duration;

/// A pooled HTTPS (or plain HTTP, for local endpoints) client.
pub(crate) type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<hyper::body::Bytes>,
>;

/// A client that trusts the system's roots and the certificates in the PEM files `extra`,
/// giving up on a connection after `connect_timeout`. A CA file is read as Go's `crypto/x509`
/// reads one (the AWS CLI, sops and Vault's own client): a certificate that cannot be used is
/// skipped, and a file that cannot be read, or holds none that can, is an error naming it.
pub(crate) fn client(extra: &[PathBuf], connect_timeout: Duration) -> Result<HttpsClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    for path in extra {
        use rustls::pki_types::pem::PemObject;
        let certs =
            rustls::pki_types::CertificateDer::pem_file_iter(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let added = certs.filter_map(Result::ok).map(|cert| roots.add(cert).is_ok()).filter(|added| *added).count();
        if added == 0 {
            return Err(format!("{}: no certificate in it can be used", path.display()));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.set_connect_timeout(Some(connect_timeout));
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    /// A CA file may hold certificates that cannot be used among ones that can (they are
    /// skipped); one with none that can, or that cannot be read, is an error naming it.
    #[test]
    fn ca_files_need_one_usable_certificate() {
        let cert = include_str!("../testdata/sealing/test-cert.pem");
        let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let dir = std::env::temp_dir();
        let file = |name: &str, text: &str| {
            let path = dir.join(format!("gitseal-http-{}-{name}.pem", std::process::id()));
            std::fs::write(&path, text).unwrap();
            path
        };
        let mixed = file("mixed", &format!("{broken}{cert}"));
        let none = file("none", broken);
        let missing = PathBuf::from("/nonexistent/gitseal-ca.pem");
        let t = Duration::from_secs(5);
        assert!(super::client(std::slice::from_ref(&mixed), t).is_ok());
        for bad in [&none, &missing] {
            let err = super::client(&[mixed.clone(), bad.clone()], t).expect_err("a bad CA file was accepted");
            assert!(err.starts_with(&bad.display().to_string()), "{err}");
        }
        let _ = (std::fs::remove_file(mixed), std::fs::remove_file(none));
    }
}
