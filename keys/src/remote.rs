//! The connections the remote master keys (AWS KMS, Vault transit) and `publish`'s uploads
//! (Vault KV, S3) use: a current-thread tokio runtime, the KMS clients (one per region, profile
//! and role), the AWS SDK's HTTP client and the HTTPS client, each made on first use and kept as
//! long as the [`Remote`] (or a clone of it) lives. Nothing of it is process-wide: an embedder that opens files for
//! several tenants gives each its own `Remote`, and dropping it closes the connections.
//!
//! The callers are synchronous. A caller that is itself inside a tokio runtime (the in-cluster
//! unsealer) cannot block on another runtime from its thread, so there a call runs on a
//! short-lived thread of its own: never a nested runtime. A `Remote` is
//! `Send + Sync` and may be used from several threads at once.

use std::sync::Arc;
#[cfg(feature = "kms")]
use std::sync::Mutex;
#[cfg(any(feature = "kms", feature = "vault"))]
use std::sync::OnceLock;

/// A handle on the connections of the remote master keys; clones share them. Cheap to make:
/// nothing is set up until a KMS or Vault key is used.
#[derive(Clone, Default)]
pub struct Remote {
    #[cfg_attr(not(any(feature = "kms", feature = "vault")), allow(dead_code))]
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    #[cfg(any(feature = "kms", feature = "vault"))]
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
    #[cfg(feature = "kms")]
    kms: Mutex<std::collections::HashMap<crate::kms::ClientId, aws_sdk_kms::Client>>,
    #[cfg(feature = "kms")]
    aws_http: OnceLock<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    #[cfg(feature = "vault")]
    https: OnceLock<Result<crate::http::HttpsClient, String>>,
}

// Dropping a tokio runtime blocks, which panics inside an async context (an embedder that drops
// its keyring in a task): the runtime is shut down in the background instead.
#[cfg(any(feature = "kms", feature = "vault"))]
impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(Ok(runtime)) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").finish_non_exhaustive()
    }
}

impl Remote {
    /// A new handle with no connection yet.
    pub fn new() -> Remote {
        Remote::default()
    }

    /// Drives `fut` to completion on this handle's runtime: on this thread, or on a scoped
    /// thread of its own when this thread is inside a tokio runtime already (where blocking on
    /// another runtime would panic).
    #[cfg(any(feature = "kms", feature = "vault"))]
    pub(crate) fn block_on<F>(&self, fut: F) -> Result<F::Output, String>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        let runtime = self
            .inner
            .runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the async runtime for remote keys: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(runtime.block_on(fut));
        }
        std::thread::scope(|s| match s.spawn(|| runtime.block_on(fut)).join() {
            Ok(out) => Ok(out),
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }

    /// The KMS client made for `id`, if one was made already.
    #[cfg(feature = "kms")]
    pub(crate) fn kms_client(&self, id: &crate::kms::ClientId) -> Option<aws_sdk_kms::Client> {
        self.inner.kms.lock().ok().and_then(|m| m.get(id).cloned())
    }

    /// Keeps the KMS client made for `id`.
    #[cfg(feature = "kms")]
    pub(crate) fn keep_kms_client(&self, id: crate::kms::ClientId, client: aws_sdk_kms::Client) {
        if let Ok(mut m) = self.inner.kms.lock() {
            m.insert(id, client);
        }
    }

    /// The HTTP client the AWS SDK sends requests through, shared by every KMS client and by
    /// the credential providers.
    #[cfg(feature = "kms")]
    pub(crate) fn aws_http(&self) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        self.inner.aws_http.get_or_init(crate::kms::http::client).clone()
    }

    /// The HTTPS client (system roots plus `VAULT_CACERT`/`VAULT_CAPATH`, read when it is made).
    #[cfg(feature = "vault")]
    pub(crate) fn https(&self) -> Result<&crate::http::HttpsClient, String> {
        self.inner.https.get_or_init(crate::vault::build_client).as_ref().map_err(Clone::clone)
    }
}

#[cfg(all(test, any(feature = "kms", feature = "vault")))]
mod tests {
    use super::Remote;

    /// Regression: a KMS call from inside a tokio runtime (an async embedder) panicked with
    /// "Cannot start a runtime from within a runtime".
    #[test]
    fn calls_work_from_inside_tokio_runtimes_and_from_several_threads() {
        let remote = Remote::new();
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let r = remote.clone();
        let got = multi.block_on(async { tokio::spawn(async move { r.block_on(async { 7 }) }).await.unwrap() });
        assert_eq!(got, Ok(7));
        let single = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(single.block_on(async { remote.block_on(async { 8 }) }), Ok(8));
        let remote = &remote;
        let sum: i32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|i| s.spawn(move || remote.block_on(async move { i }).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(sum, 6);
    }

    /// The last handle dropped inside an async task (an embedder dropping its keyring there).
    #[test]
    fn can_be_dropped_inside_async_code() {
        let remote = Remote::new();
        assert_eq!(remote.block_on(async { 1 }), Ok(1));
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        multi.block_on(async move { tokio::spawn(async move { drop(remote) }).await.unwrap() });
    }

    #[test]
    fn is_shared_between_threads() {
        fn send_sync<T: Send + Sync + Clone>() {}
        send_sync::<Remote>();
    }
}
