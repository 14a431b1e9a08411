//! `gitseal-unsealer`: the in-cluster controller that turns Bitnami SealedSecrets into Secrets, a
//! drop-in for the sealed-secrets controller v0.40 (same CRD, key Secrets, flags, HTTP API,
//! metric names and Events), with leader election, parallel workers, live key Secrets and a
//! record of which key opened each SealedSecret.
//!
//! The pieces, in the order data flows through them:
//! - [`config`]: flags and their `SEALED_SECRETS_*` environment variables;
//! - [`keys`]: the key registry (key Secrets in, sealing keys and certificates out), key
//!   generation and renewal;
//! - [`reconcile`]: one SealedSecret to one Secret, with status and Events;
//! - [`queue`]: the work queue (one object never reconciled twice at once, retries with
//!   backoff);
//! - [`controller`]: watches that feed the queue, the workers, readiness;
//! - [`leader`]: Lease-based leader election;
//! - [`server`]: the HTTP API (`/v1/cert.pem`, `/v1/verify`, `/v1/rotate`, probes) and metrics.

pub mod config;
pub mod controller;
pub mod convert;
pub mod crd;
pub mod duration;
pub mod events;
pub mod keys;
pub mod leader;
pub mod log;
pub mod metrics;
pub mod queue;
pub mod reconcile;
pub mod resource;
pub mod server;
