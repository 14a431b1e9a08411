//! gitseal's integration tests: one test binary (ripgrep style), run by `scripts/test`.
//!
//! Tests that need a real peer (sops, age) skip with a note when it is missing, and fail under
//! CI (`CI=true`); `scripts/install-peers` installs them. Fixtures live in `tests/fixtures/`.

mod bad_input;
mod examples;
mod fidelity;
mod fixtures;
mod interop;
mod keys;
mod peers;
mod sealing;
mod selection;
mod tamper;
