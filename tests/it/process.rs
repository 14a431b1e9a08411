//! The process around a command. The binary sets it up itself (it starts at the C `main`), so
//! these pin what Rust's start-up used to give.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use crate::peers::{Work, DEMO_RECIPIENT};

/// A file whose encryption is far larger than a pipe's buffer.
fn large(work: &Work) {
    let mut src = String::new();
    for i in 0..4000 {
        src.push_str(&format!("key{i}: value-{i}\n"));
    }
    work.write("big.yaml", src);
}

#[test]
fn a_reader_that_goes_away_early_is_no_failure() {
    let work = Work::new();
    large(&work);
    let mut child = work
        .gitseal()
        .args(["encrypt", "--age", DEMO_RECIPIENT, "big.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's reader is gone: the next write gets EPIPE, not a SIGPIPE that kills.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), None, "killed by a signal");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
