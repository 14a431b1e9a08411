//! Replays every fuzz target, on stable and without libFuzzer, over every file of its kept
//! corpus (`corpus/<target>/`) and of its regressions (`regressions/<target>/`): a crash found
//! once stays fixed.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    let mut failed = Vec::new();
    for (name, target) in gitseal_fuzz::TARGETS {
        let mut count = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else { continue };
            let mut files: Vec<_> = entries.map(|e| e.expect("readable directory").path()).collect();
            files.sort();
            for file in files.iter().filter(|f| f.is_file()) {
                let data = std::fs::read(file).expect("readable corpus file");
                if std::panic::catch_unwind(|| target(&data)).is_err() {
                    failed.push(format!("{name}: {}", file.display()));
                }
                count += 1;
            }
        }
        assert!(count > 0, "no corpus for the target {name}");
        total += count;
    }
    assert!(failed.is_empty(), "{} of {total} inputs failed their target:\n{}", failed.len(), failed.join("\n"));
    eprintln!("replayed {total} inputs");
}

#[test]
fn every_target_has_a_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in gitseal_fuzz::TARGETS {
        let bin = root.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        assert!(text.contains(&format!("gitseal_fuzz::{name}(data)")), "{} calls another target", bin.display());
    }
}
