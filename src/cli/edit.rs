//! `gitseal edit FILE`: decrypt into a private temporary directory, run the editor, and encrypt
//! the result back in place, keeping the data key, the master keys and the ciphertext of every
//! value that did not change (see [`gitseal::reencrypt`]).
//!
//! The plaintext exists only in a fresh 0700 directory, memory-backed where the system has such
//! a place (see [`super::scratch`]), as a 0600 file with the target's base name (so editors pick
//! the syntax); the directory is removed on every way out: success, an unchanged file, an editor
//! failure, invalid content without a terminal, and SIGINT, SIGTERM or SIGHUP while the editor
//! runs. After a `kill -9`, the next `edit` or `exec-file` removes it.

use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gitseal_formats::{self as formats, Format};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use gitseal_keys::MasterKey;

use super::args::EditArgs;
use super::io::{read_input, write_atomic};
use super::scratch;
use super::signals::Signals;
use super::{exit, report, Failure};
use gitseal::metadata::{edited_key_groups, KeyGroup};
use gitseal::reencrypt::rotate;
use gitseal::reencrypt::Reencryptor;
use gitseal::selection::Rule;

pub(crate) fn run(mut a: EditArgs) -> Result<(), Failure> {
    a.enc.foreign.check()?;
    a.enc.keyservice.check()?;
    if a.enc.io.output.is_some() || !a.enc.more_files.is_empty() {
        return Err(Failure::new(exit::CONFLICT, "edit works on one file in place: no --output, no further files"));
    }
    let target = match a.enc.io.file.clone() {
        Some(p) if p.as_os_str() != "-" => p,
        _ => return Err(Failure::new(exit::NO_FILE, "edit needs a file name (standard input cannot be edited)")),
    };
    let name = target.display().to_string();
    scratch::remove_stale_dirs(false);
    let editor = editor_command()?;
    let exists = target.exists();
    if a.show_master_keys && !exists {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: --show-master-keys needs an existing encrypted file; a new file takes its keys from --age/--pgp/--kms or its creation rule"),
        ));
    }
    // The encrypted file as it was read: when something else changes it while the editor runs,
    // the edit must not silently undo that change.
    let mut on_disk = None;
    let (original, mut reenc, format) = if exists {
        a.enc.io.in_place = false;
        let input = read_input(&a.enc.io, false)?;
        on_disk = Some(Sha256::digest(&input.bytes[..]));
        let (plain, reenc) = super::opening::open_for_edit(&input, a.ignore_mac, a.decryption_order.as_deref())?;
        let format = reenc.format();
        (plain, Some(reenc), format)
    } else {
        let format = match &a.enc.io.input_type {
            Some(t) => Format::from_name(t)
                .ok_or_else(|| Failure::new(exit::GENERIC, format!("unknown --input-type {t:?}")))?,
            None => Format::from_path(&name),
        };
        (Zeroizing::new(example(format).as_bytes().to_vec()), None, format)
    };
    let shown = match (&reenc, a.show_master_keys) {
        (Some(reenc), true) => with_metadata(&original, reenc, &name)?,
        _ => original,
    };
    // From here on a signal must not end gitseal before the plaintext copy is removed.
    let signals = Signals::install()?;
    let dir = scratch::private_dir(false)?;
    let base = target.file_name().map_or_else(|| "file".into(), |n| n.to_os_string());
    let tmp = dir.path().join(base);
    scratch::write_private(&tmp, &shown)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("cannot write the temporary file: {e}")))?;
    let before = Sha256::digest(shown.as_slice());
    drop(shown);
    let (edited, new_keys) = loop {
        run_editor(&editor, &tmp, &signals)?;
        let edited = Zeroizing::new(
            fs::read(&tmp)
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot read the edited file back: {e}")))?,
        );
        if Sha256::digest(edited.as_slice()) == before {
            return Err(Failure::new(exit::NOT_MODIFIED, format!("{name}: File has not changed, exiting.")));
        }
        let checked = match (&reenc, a.show_master_keys) {
            (Some(reenc), true) => without_metadata(&edited, reenc, &name),
            _ => Ok((edited, None)),
        }
        .and_then(|(plain, keys)| check(&plain, format, &name).map(|()| (plain, keys)));
        match checked {
            Ok(done) => break done,
            Err(f) if ask_to_return(&f) => {}
            Err(f) => return Err(f),
        }
    };
    match reenc.as_mut() {
        Some(reenc) => {
            if let Some((groups, threshold)) = new_keys {
                reenc.rekey(&groups, threshold).map_err(|e| Failure::new(exit::NO_KEY, e.to_string()))?;
            }
            let out = reenc.encrypt(&edited)?;
            if let Some(why) = changed_meanwhile(&target, on_disk) {
                return Err(save_aside(&target, &out, &why));
            }
            write_atomic(&target, &out, 0o644)
                .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{name}: cannot write: {e}")))
        }
        None => {
            // A new file is encrypted exactly as `encrypt` would: keys and rules from the
            // command line or the creation rule for the target's name.
            let mut enc = a.enc;
            enc.io.file = Some(tmp.clone());
            enc.io.filename_override = Some(name.clone());
            enc.io.output = Some(target.clone());
            enc.io.in_place = false;
            super::encrypt::run(enc)
        }
    }
}

/// Why `target` is no longer the file the edit started from (`digest` of its bytes then), if
/// it is not.
fn changed_meanwhile(target: &Path, digest: Option<impl AsRef<[u8]>>) -> Option<String> {
    let digest = digest?;
    match fs::read(target) {
        Ok(now) if Sha256::digest(&now).as_slice() == digest.as_ref() => None,
        Ok(_) => Some("it was changed by something else while the editor ran".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("it was deleted while the editor ran".into()),
        Err(e) => Some(format!("it cannot be read back: {e}")),
    }
}

/// Keeps the edit, encrypted, beside `target` (`NAME.edited.EXT`, so the format stays known)
/// instead of overwriting a file that changed meanwhile; the failure to report.
fn save_aside(target: &Path, encrypted: &[u8], why: &str) -> Failure {
    let name = target.display();
    let stem = target.file_stem().map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
    let aside = target.with_file_name(match target.extension() {
        Some(ext) => format!("{stem}.edited.{}", ext.to_string_lossy()),
        None => format!("{stem}.edited"),
    });
    match write_atomic(&aside, encrypted, 0o644) {
        Ok(()) => Failure::new(
            exit::CANNOT_WRITE,
            format!(
                "{name}: not saved: {why}; your edit is in {} (encrypted): compare and merge by hand",
                aside.display()
            ),
        ),
        Err(e) => Failure::new(
            exit::CANNOT_WRITE,
            format!("{name}: not saved: {why}; your edit could not be kept in {} either: {e}", aside.display()),
        ),
    }
}

/// The plaintext with the file's sops metadata, for `--show-master-keys`: the metadata block
/// as the encrypted file has it (without gitseal's layout memory), the values in the clear.
fn with_metadata(plain: &[u8], reenc: &Reencryptor, name: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let format = reenc.format();
    if format == Format::Binary {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: --show-master-keys needs a structured file; a binary file has no place for the metadata"),
        ));
    }
    let text = std::str::from_utf8(plain)
        .map_err(|_| Failure::new(exit::CANNOT_READ, format!("{name}: the plaintext is not UTF-8")))?;
    let doc = formats::parse(format, text)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: cannot read the decrypted file: {e}")))?;
    if doc.roots.len() > 1 {
        // Every document would show a copy of the metadata, and only one could be read back.
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: --show-master-keys works on single-document files; change the keys with updatekeys, rotate or groups"),
        ));
    }
    let meta = reenc.metadata().to_value();
    let wopts = formats::WriteOptions { metadata: Some(&meta), strip_metadata: false, indent: doc.indent };
    let shown =
        formats::write(&doc, text, wopts).map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("{name}: {e}")))?;
    Ok(Zeroizing::new(shown.into_bytes()))
}

/// Master keys to wrap the data key for anew, and the threshold, when a `--show-master-keys`
/// edit changed them.
type NewKeys = Option<(Vec<Vec<MasterKey>>, Option<usize>)>;

/// Splits a `--show-master-keys` edit into the plaintext and the key change it asks for.
/// Only the key lists and `shamir_threshold` may change: `lastmodified`, `mac`, `version` and
/// the `enc` blobs are rewritten anyway, and a change of the selection rule would change which
/// values are encrypted, which an edit cannot do safely.
fn without_metadata(edited: &[u8], reenc: &Reencryptor, name: &str) -> Result<(Zeroizing<Vec<u8>>, NewKeys), Failure> {
    let format = reenc.format();
    let invalid = |m: String| Failure::new(exit::CANNOT_READ, format!("{name}: {m}"));
    let text = std::str::from_utf8(edited).map_err(|_| invalid("the edited file is not UTF-8".into()))?;
    let doc =
        formats::parse(format, text).map_err(|e| invalid(format!("invalid {} after editing: {e}", format.name())))?;
    let meta = formats::metadata(&doc).ok_or_else(|| {
        invalid("the sops metadata is gone; keep the sops block when editing with --show-master-keys".into())
    })?;
    let current = reenc.metadata().to_value();
    for field in Rule::FIELDS.into_iter().chain(["mac_only_encrypted"]) {
        if meta.get(field) != current.get(field) {
            return Err(invalid(format!(
                "sops.{field} changed: an edit cannot change which values are encrypted; decrypt the file and encrypt it anew with the new rule"
            )));
        }
    }
    let (groups, threshold) = edited_key_groups(&meta).map_err(|e| invalid(e.to_string()))?;
    let wopts = formats::WriteOptions { metadata: None, strip_metadata: true, indent: None };
    let plain =
        formats::write(&doc, text, wopts).map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("{name}: {e}")))?;
    let plain = Zeroizing::new(plain.into_bytes());
    let threshold = threshold.filter(|_| groups.len() > 1);
    let old_threshold = reenc.metadata().shamir_threshold.and_then(|t| usize::try_from(t).ok());
    let old_threshold = old_threshold.filter(|_| reenc.metadata().key_groups.len() > 1);
    let same = groups.len() == reenc.metadata().key_groups.len()
        && groups.iter().zip(&reenc.metadata().key_groups).all(|(a, b)| key_ids(a) == key_ids(b))
        && threshold.unwrap_or(groups.len()) == old_threshold.unwrap_or(groups.len());
    if same {
        return Ok((plain, None));
    }
    let keys = groups
        .iter()
        .map(rotate::master_keys)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| invalid(format!("cannot change the keys: {m}")))?;
    if keys.iter().all(Vec::is_empty) {
        return Err(invalid("no master keys are left, so nobody could open the file; keep at least one".into()));
    }
    let threshold = threshold.or((keys.len() > 1).then_some(keys.len()));
    rotate::check_groups(&keys, threshold).map_err(|m| invalid(format!("cannot change the keys: {m}")))?;
    Ok((plain, Some((keys, threshold))))
}

/// What identifies each master key of a group (not its wrapped data key), in a stable order.
pub(crate) fn key_ids(g: &KeyGroup) -> Vec<String> {
    let mut ids: Vec<String> = g.age.iter().map(|k| format!("age {}", k.recipient)).collect();
    ids.extend(g.pgp.iter().map(|k| format!("pgp {}", k.fp.to_ascii_uppercase())));
    ids.extend(g.kms.iter().map(|k| format!("kms {} {} {:?} {}", k.arn, k.role, k.context, k.aws_profile)));
    ids.extend(g.rsa.iter().map(|k| format!("rsa {} {}", k.fp, k.scope)));
    ids.extend(g.other.iter().map(|(kind, v)| format!("{kind} {}", value_ids(v))));
    ids.sort();
    ids
}

/// The identifying fields of a key entry of a kind gitseal does not use (`resource_id`,
/// `vaultUrl`, ...): every scalar but the wrapped data key and its date.
fn value_ids(v: &formats::Value) -> String {
    match v {
        formats::Value::Map(fields) => fields
            .iter()
            .filter(|(k, _)| k != "enc" && k != "created_at")
            .map(|(k, v)| format!("{k}={}", value_ids(v)))
            .collect::<Vec<_>>()
            .join(","),
        formats::Value::Seq(items) => items.iter().map(value_ids).collect::<Vec<_>>().join(";"),
        formats::Value::Scalar(s) => match s {
            formats::Scalar::Str(s) => s.clone(),
            formats::Scalar::Int(i) => i.to_string(),
            formats::Scalar::Bool(b) => b.to_string(),
            _ => String::new(),
        },
    }
}

/// Checks the edited plaintext before anything is encrypted; a failure names the file.
pub(crate) fn check(plain: &[u8], format: Format, name: &str) -> Result<(), Failure> {
    if format == Format::Binary {
        return Ok(());
    }
    let text = std::str::from_utf8(plain)
        .map_err(|_| Failure::new(exit::CANNOT_READ, format!("{name}: the edited file is not UTF-8")))?;
    if text.trim().is_empty() {
        return Err(Failure::new(exit::EMPTY, format!("{name}: the edited file is empty")));
    }
    let doc = formats::parse(format, text).map_err(|e| {
        Failure::new(exit::CANNOT_READ, format!("{name}: invalid {} after editing: {e}", format.name()))
    })?;
    if formats::has_metadata(&doc) {
        // sops 3.13 refuses it too: the file would hold two metadata blocks and not decrypt.
        let what = match format {
            Format::Dotenv => "a key starting with sops_",
            Format::Ini => "a [sops] section",
            _ => "a top-level sops key",
        };
        return Err(Failure::new(
            exit::CANNOT_READ,
            format!("{name}: the edited file has {what}; remove it (gitseal writes the metadata)"),
        ));
    }
    Ok(())
}

/// After an edit that cannot be saved: on a terminal, says why and asks whether to return to
/// the editor (Enter) or give up; false without a terminal or at the end of input.
pub(crate) fn ask_to_return(f: &Failure) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    report(&f.message);
    eprint!("gitseal: press Enter to return to the editor, or Ctrl-C to give up (the change is lost) ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok_and(|n| n > 0)
}

/// SOPS_EDITOR, then EDITOR (split like a shell would, no expansion), then the first of vim,
/// nano and vi on PATH.
pub(crate) fn editor_command() -> Result<Vec<String>, Failure> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            let words = gitseal_keys::age::split_command(&v).filter(|w| !w.is_empty()).ok_or_else(|| {
                Failure::new(exit::EDITOR, format!("{var}: cannot split {v:?} into words (unbalanced quotes)"))
            })?;
            return Ok(words);
        }
    }
    if !std::io::stdin().is_terminal() {
        // vim and friends would wait forever for a terminal that is not there.
        return Err(Failure::new(
            exit::EDITOR,
            "no editor: set SOPS_EDITOR or EDITOR (standard input is not a terminal, so vim, nano or vi cannot run)",
        ));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["vim", "nano", "vi"] {
        if std::env::split_paths(&path).any(|d| d.join(name).is_file()) {
            return Ok(vec![name.to_string()]);
        }
    }
    Err(Failure::new(exit::EDITOR, "no editor found: set SOPS_EDITOR or EDITOR"))
}

/// Runs the editor on `file` and waits; a signal to gitseal ends the editor and the edit.
pub(crate) fn run_editor(editor: &[String], file: &Path, signals: &Signals) -> Result<(), Failure> {
    let mut child = Command::new(&editor[0])
        .args(&editor[1..])
        .arg(file)
        .spawn()
        .map_err(|e| Failure::new(exit::EDITOR, format!("could not run editor {:?}: {e}", editor[0])))?;
    loop {
        if let Some(sig) = signals.received() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::new(
                128 + sig,
                "interrupted; the plaintext copy was removed and the file left as it was",
            ));
        }
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(Failure::new(exit::EDITOR, format!("Could not run editor: {status}"))),
            Ok(None) => std::thread::sleep(Duration::from_millis(25)),
            Err(e) => return Err(Failure::new(exit::EDITOR, format!("could not wait for the editor: {e}"))),
        }
    }
}

/// What a new file starts with: a short example of the format.
fn example(format: Format) -> &'static str {
    match format {
        Format::Yaml => "# A new file: replace these examples with your values. Keys ending in\n# _unencrypted stay readable.\ngreeting: hello from gitseal\ndatabase:\n  user: app\n  password: change-me\nports:\n  - 8080\n  - 8443\nenabled: true\nnote_unencrypted: visible in the encrypted file\n",
        Format::Json => "{\n  \"greeting\": \"hello from gitseal\",\n  \"database\": {\n    \"user\": \"app\",\n    \"password\": \"change-me\"\n  },\n  \"ports\": [8080, 8443],\n  \"enabled\": true\n}\n",
        Format::Dotenv => "# A new file: replace these examples with your values.\nGREETING=hello from gitseal\nDB_PASSWORD=change-me\n",
        Format::Toml => "# A new file: replace these examples with your values.\ngreeting = \"hello from gitseal\"\n\n[database]\nuser = \"app\"\npassword = \"change-me\"\n",
        Format::Ini => "; A new file: replace these examples with your values.\n[database]\nuser = app\npassword = change-me\n",
        Format::Binary => "A new file: replace this text with your secret.\n",
    }
}
