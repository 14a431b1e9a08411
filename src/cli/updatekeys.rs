//! `gitseal updatekeys`: sync the master keys of encrypted files to their creation rule in
//! `.sops.yaml`. The data key is kept and wrapped for the new keys; values keep their exact
//! ciphertext. The change is shown as a unified diff of the key lists and confirmed unless
//! `-y`; without a terminal on standard input, `-y` is required (sops fails with an EOF error).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use super::args::IoArgs;
use super::args::UpdatekeysArgs;
use super::exit;
use super::files;
use super::io::{ask_yes, read_input, write_atomic};
use super::opening::open_for_edit;
use super::rotate::same_key;
use super::{report, Failure};
use gitseal::config::Config;
use gitseal::reencrypt::rotate;

pub(crate) fn run(a: UpdatekeysArgs) -> Result<(), Failure> {
    a.keyservice.check()?;
    let config = files::load_config(true)?.ok_or_else(|| {
        Failure::new(
            exit::GENERIC,
            "no .sops.yaml found (searched the working directory and its parents); pass --config PATH",
        )
    })?;
    if a.files.len() == 1 {
        return update(&a, &config, &a.files[0]);
    }
    let mut failed = 0;
    for f in &a.files {
        if let Err(e) = update(&a, &config, f) {
            report(&e.message);
            failed += 1;
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::new(exit::GENERIC, format!("{n} of {} files could not be updated", a.files.len()))),
    }
}

fn update(a: &UpdatekeysArgs, config: &Config, file: &Path) -> Result<(), Failure> {
    if !file.exists() {
        // sops: 1 (its stat error), not NoFileSpecified.
        return Err(Failure::new(exit::GENERIC, format!("{}: cannot operate on non-existent file", file.display())));
    }
    let rule = config.rule_for(file).ok_or_else(|| {
        Failure::new(
            exit::GENERIC,
            format!("{}: no creation rule of {} matches {:?}", file.display(), config.name, config.match_path(file)),
        )
    })?;
    let name = file.display().to_string();
    let wanted = rule
        .key_groups(&config.name, &BTreeMap::new())
        .map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}")))?;
    if wanted.iter().all(Vec::is_empty) {
        return Err(Failure::new(exit::GENERIC, format!("{name}: {} of {} has no keys", rule.describe(), config.name)));
    }
    let io = IoArgs {
        file: Some(file.to_path_buf()),
        in_place: true,
        output: None,
        input_type: a.input_type.clone(),
        output_type: None,
        filename_override: None,
    };
    let input = read_input(&io, false)?;
    let (plain, mut reenc) = open_for_edit(&input, false, a.decryption_order.as_deref())?;
    let current = rotate::file_key_groups(&reenc)?;
    let old_threshold = rotate::file_threshold(&reenc);
    let threshold = rule.shamir_threshold.filter(|&t| t > 0).or((wanted.len() > 1).then_some(wanted.len()));
    let old_text = rotate::describe_groups(&current, old_threshold);
    let new_text = rotate::describe_groups(&wanted, threshold);
    if old_text == new_text && !a.rotate {
        eprintln!("{name}: already up to date");
        return Ok(());
    }
    if old_text != new_text {
        let diff = similar::TextDiff::from_lines(&old_text, &new_text);
        let shown = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("{name} (now)"), &format!("{name} (rule)"))
            .to_string();
        eprintln!("The following changes will be made to the file's key groups:\n{shown}");
    }
    if a.rotate {
        eprintln!("{name}: a new data key will be made and every value encrypted anew");
    }
    if !a.yes {
        // The answer may come from a pipe (`yes | gitseal updatekeys ...`), as with sops; only
        // when there is none does the hint about -y come instead of sops's end-of-file error.
        let Some(yes) = ask_yes("Is this okay? (y/n): ")? else {
            if !std::io::stdin().is_terminal() {
                eprintln!();
            }
            return Err(Failure::new(
                exit::GENERIC,
                format!("{name}: no answer on standard input, so the change was not applied; pass -y (--yes) to apply it without asking"),
            ));
        };
        if !yes {
            eprintln!("{name}: changes not applied");
            return Ok(());
        }
    }
    rotate::check_groups(&wanted, threshold)
        .map_err(|m| Failure::new(exit::NO_KEY, format!("{name}: refusing to write: {m}")))?;
    let removed = current.iter().flatten().any(|k| !wanted.iter().flatten().any(|w| same_key(k, w)));
    if a.rotate { reenc.rotate(&wanted, threshold) } else { reenc.rekey(&wanted, threshold) }
        .map_err(|e| Failure::new(exit::NO_KEY, e.to_string()))?;
    let out = reenc.encrypt(&plain)?;
    let path = input.path.as_deref().unwrap_or(file);
    write_atomic(path, &out, 0o644)
        .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{name}: cannot write: {e}")))?;
    match (a.rotate, old_text == new_text) {
        (true, true) => eprintln!("{name}: new data key"),
        (true, false) => eprintln!("{name}: key groups updated, new data key"),
        (false, _) => eprintln!("{name}: key groups updated"),
    }
    if removed && !a.rotate {
        eprintln!("{name}: note: a removed key's holder may have kept the data key; run updatekeys --rotate (or rotate -i) to make a new one");
    }
    Ok(())
}
