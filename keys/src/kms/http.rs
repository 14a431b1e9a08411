//! The HTTP client the AWS SDK sends its requests through (KMS, and STS, SSO and instance
//! metadata for credentials): gitseal's own ([`crate::http`]), not the SDK's default one, which
//! would add HTTP/2, an older hyper and a second rustls to the binary (5.3 MB of its 29 MB), whose
//! relocations every run of gitseal pays for at start-up, KMS keys or not.
//!
//! `AWS_CA_BUNDLE` names a PEM file of extra trusted certificates, as for the AWS CLI and sops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;
use hyper::body::Bytes;

use crate::http::HttpsClient;

/// The connect timeout when the SDK sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A new client for the SDK's requests; its connection pools are made on first use.
pub(crate) fn client() -> SharedHttpClient {
    SharedHttpClient::new(Client::default())
}

/// One connection pool per set of timeouts the SDK asks for (its instance-metadata client asks
/// for shorter ones than KMS's).
#[derive(Debug, Default)]
struct Client {
    pools: Mutex<HashMap<(Duration, Option<Duration>), SharedHttpConnector>>,
}

impl HttpClient for Client {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let connect = settings.connect_timeout().unwrap_or(CONNECT_TIMEOUT);
        let read = settings.read_timeout();
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = pools.entry((connect, read)).or_insert_with(|| {
            let client = crate::http::client(&ca_bundle(), connect).map_err(Arc::from);
            SharedHttpConnector::new(Connector { client, read })
        });
        pool.clone()
    }
}

/// `AWS_CA_BUNDLE`, when set.
fn ca_bundle() -> Vec<std::path::PathBuf> {
    std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty()).map(Into::into).into_iter().collect()
}

/// Sends requests through one pool; a client that could not be made (a bad `AWS_CA_BUNDLE`)
/// fails every request with the reason.
#[derive(Clone)]
struct Connector {
    client: Result<HttpsClient, Arc<str>>,
    read: Option<Duration>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("read", &self.read).finish_non_exhaustive()
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move { this.send(request).await })
    }
}

impl Connector {
    async fn send(self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let client = self.client.map_err(|e| ConnectorError::user(format!("AWS_CA_BUNDLE {e}").into()))?;
        let (parts, body) = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?.into_parts();
        // The SDK's requests (JSON to KMS, STS, SSO; instance metadata) have their bodies in memory.
        let body = body.bytes().ok_or_else(|| ConnectorError::user("the request body is a stream".into()))?;
        let request = hyper::Request::from_parts(parts, http_body_util::Full::new(Bytes::copy_from_slice(body)));
        let exchange = async {
            // Failures to connect or to read the answer are transient: the SDK retries them.
            let response = client.request(request).await.map_err(|e| ConnectorError::io(e.into()))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| ConnectorError::io(e.into()))?.to_bytes();
            Ok::<_, ConnectorError>(hyper::Response::from_parts(parts, SdkBody::from(body)))
        };
        let response = match self.read {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| ConnectorError::timeout(format!("no answer within {} ms", limit.as_millis()).into()))??,
            None => exchange.await?,
        };
        HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::time::Duration;

    use aws_smithy_runtime_api::client::http::HttpConnector;
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;

    use super::Connector;

    fn connector(extra: &[std::path::PathBuf], read: Option<Duration>) -> Connector {
        Connector { client: crate::http::client(extra, Duration::from_secs(5)).map_err(Arc::from), read }
    }

    fn request(url: &str) -> HttpRequest {
        let request = hyper::Request::builder()
            .method("POST")
            .uri(url)
            .header("x-amz-target", "TrentService.Decrypt")
            .body(SdkBody::from(r#"{"KeyId":"k"}"#))
            .unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    /// The request reaches the endpoint as the SDK made it (method, path, headers, body), and
    /// the answer comes back whole (status, headers, body).
    #[test]
    fn requests_and_answers_pass_through_unchanged() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/path?x=1", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&seen).ends_with(r#"{"KeyId":"k"}"#) {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the request ended early: {}", String::from_utf8_lossy(&seen));
                seen.extend_from_slice(&buf[..n]);
            }
            conn.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 7\r\nx-amzn-requestid: r1\r\n\r\n{\"a\":1}")
                .unwrap();
            String::from_utf8(seen).unwrap()
        });
        let response = runtime().block_on(connector(&[], None).call(request(&url))).unwrap();
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r1"));
        assert_eq!(response.body().bytes(), Some(&b"{\"a\":1}"[..]));
        let seen = server.join().unwrap().to_ascii_lowercase();
        assert!(seen.starts_with("post /path?x=1 http/1.1\r\n"), "{seen}");
        assert!(
            seen.contains("x-amz-target: trentservice.decrypt\r\n") && seen.contains("content-length: 13\r\n"),
            "{seen}"
        );
    }

    /// An endpoint that accepts the connection and never answers is given up on after the read
    /// timeout, as a timeout (which the SDK retries, then reports).
    #[test]
    fn a_silent_endpoint_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let hold = std::thread::spawn(move || listener.accept().map(|(conn, _)| conn));
        let err = runtime().block_on(connector(&[], Some(Duration::from_millis(200))).call(request(&url))).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        drop(hold.join());
    }

    /// A CA bundle that cannot be read fails every request, naming the file; no request leaves.
    #[test]
    fn a_bad_ca_bundle_fails_every_request_naming_it() {
        let missing = std::path::PathBuf::from("/nonexistent/gitseal-ca.pem");
        let c = connector(&[missing], None);
        let err = runtime().block_on(c.call(request("http://127.0.0.1:9/"))).unwrap_err();
        let text = format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&err));
        assert!(text.contains("AWS_CA_BUNDLE /nonexistent/gitseal-ca.pem"), "{text}");
        assert!(err.is_user(), "{err:?}");
    }
}
