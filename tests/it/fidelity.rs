//! Lossless round trips: decrypting what gitseal encrypted gives back the original bytes
//! (indentation, quoting, comments, blank lines, key order, document markers).
//! Needs no peers.

use crate::fixtures::{self, same_bytes};
use crate::peers::{mode, run_ok, Work, DEMO_RECIPIENT};

#[test]
fn decrypt_of_encrypt_is_byte_identical() {
    // Every fixture, folded and multi-line scalars included (their layout is kept in the
    // encrypted `gitseal_layout` metadata).
    fixtures::for_each(fixtures::all(), |fx| {
        let work = Work::new();
        work.copy_fixture(&fx.name);
        let encrypted = run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, &fx.name]), None)?;
        let enc = fx.sibling("enc");
        work.write(&enc, &encrypted);
        let plain = run_ok(work.gitseal_with_key().args(["decrypt", &enc]), None)?;
        same_bytes(&fx.bytes(), &plain)
    });
}

#[test]
fn in_place_round_trip_restores_the_file_and_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    fixtures::for_each(fixtures::text(), |fx| {
        let work = Work::new();
        let path = work.copy_fixture(&fx.name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).map_err(|e| e.to_string())?;
        run_ok(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "-i", &fx.name]), None)?;
        if work.read(&fx.name) == fx.bytes() {
            return Err("encrypt -i left the file as it was".into());
        }
        if mode(&path) != 0o640 {
            return Err(format!("encrypt -i changed the mode to {:o}", mode(&path)));
        }
        run_ok(work.gitseal_with_key().args(["decrypt", "-i", &fx.name]), None)?;
        if mode(&path) != 0o640 {
            return Err(format!("decrypt -i changed the mode to {:o}", mode(&path)));
        }
        same_bytes(&fx.bytes(), &work.read(&fx.name))
    });
}
