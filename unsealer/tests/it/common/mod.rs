//! Helpers shared by the unsealer's integration tests (each test file includes this module).

use std::path::PathBuf;
use std::process::Command;

/// A TEST ONLY file of `keys/testdata/sealing/`.
pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys/testdata/sealing").join(name)
}

/// The text of a file of `keys/testdata/sealing/`.
pub fn read(name: &str) -> String {
    std::fs::read_to_string(testdata(name)).unwrap()
}

/// The peers' python with kubesealpy; missing: `None` with a notice, or a failure under CI.
pub fn kubesealpy() -> Option<PathBuf> {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.peers/venv/bin/python");
    let ok = py.exists()
        && Command::new(&py).args(["-c", "import kubesealpy"]).output().map(|o| o.status.success()).unwrap_or(false);
    match ok {
        true => Some(py),
        false if std::env::var("CI").as_deref() == Ok("true") => panic!("peer kubesealpy missing under CI"),
        false => {
            eprintln!("skipping: kubesealpy not found (run scripts/test to install the peers)");
            None
        }
    }
}
