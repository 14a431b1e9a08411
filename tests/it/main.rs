//! gitseal's integration tests: one test binary (ripgrep style), run by `scripts/test`.
//!
//! Tests that need a real peer (sops, age) skip with a note when it is missing, and fail under
//! CI (`CI=true`); `scripts/install-peers` installs them. Fixtures live in `tests/fixtures/`.

mod age_ssh;
mod argocd;
mod bad_input;
mod check;
mod clear_text;
mod cmd;
mod config;
mod corpus;
mod diff;
mod differential;
mod edit;
mod examples;
mod exec;
mod fidelity;
mod fixtures;
mod flux;
mod git;
mod helm_secrets;
mod hygiene;
mod interop;
mod key_groups;
mod keys;
mod kms;
mod kustomize;
mod legacy;
mod multifile;
mod peers;
mod pgp;
mod process;
mod proofs;
mod rotate;
mod rsa;
mod sealing;
mod selection;
mod set;
mod sops_emit;
mod tamper;
mod toml_ini;
mod vault;
mod yaml11;
