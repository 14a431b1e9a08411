//! The unsealer's integration tests, one test binary: each binary links kube, tokio and aws-lc,
//! so one instead of six saves most of the build's link time and disk.

mod binary;
mod cluster;
mod common;
mod controller;
mod deploy;
mod http;
mod leader;
