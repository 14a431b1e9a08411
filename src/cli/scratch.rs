//! Where the command line keeps plaintext for a moment (see [`gitseal::fs`]), and its notices
//! about what killed runs left behind: one stderr line for each entry removed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gitseal::fs::{self as gfs, Removed};

use super::exit;
use super::{warn, Failure};

pub(crate) use gitseal::fs::write_private;

/// Removes the temp files in `dir` that killed gitseal runs left behind, saying so on stderr.
/// Each directory is looked at once per process, so writing many files into one directory
/// (`decrypt -i -r`) stays linear.
pub(crate) fn remove_stale_files(dir: &Path) {
    static SEEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    if !SEEN.lock().map_or(true, |mut seen| seen.insert(dir.to_path_buf())) {
        return;
    }
    report(gfs::remove_stale_temp_files(dir), "a temporary file");
}

/// Removes the private directories that killed `edit` or `exec-file` runs left in the base
/// directory a run with this `shared` setting uses, saying so on stderr.
pub(crate) fn remove_stale_dirs(shared: bool) {
    report(gfs::remove_stale_private_dirs(shared), "the plaintext directory");
}

/// A new private directory (mode 0700) for plaintext, removed when dropped (see
/// [`gitseal::fs::private_dir`]).
pub(crate) fn private_dir(shared: bool) -> Result<tempfile::TempDir, Failure> {
    gfs::private_dir(shared)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot create a private temporary directory {e}")))
}

fn report(removed: Vec<Removed>, what: &str) {
    for r in removed {
        let owner = r.owner.map_or_else(|| " (an older version)".to_string(), |pid| format!(" (process {pid})"));
        match r.result {
            Ok(()) => warn(&format!("removed {}, {what} left by an interrupted gitseal{owner}", r.path.display())),
            Err(e) => warn(&format!("cannot remove {}, left by an interrupted gitseal: {e}", r.path.display())),
        }
    }
}
