//! Command-line snapshot cases (trycmd style): each file in `tests/cmd/` is one case that pins a
//! command's exact exit code and standard error, so a change to any message or code shows up
//! as a failing case. Needs no peers.
//!
//! A case is a list of lines, run in a fresh work directory:
//!
//! ```text
//! # what the case checks (lines starting with # are comments)
//! fixture nested.yaml               copy tests/fixtures/nested.yaml in
//! encrypt nested.yaml enc.yaml      gitseal-encrypt a file (written before, else a fixture)
//!                                   for the demo key into enc.yaml
//! write f.yaml                      a file holding the lines up to the next `end` line
//! replace enc.yaml OLD => NEW       replace the first OLD in a file by NEW (`\n`: a line break)
//! env NAME=VALUE                    set a variable for the command
//! key                               run with the demo identity (SOPS_AGE_KEY_FILE)
//! key other                         run with the other test identity (not the demo recipient)
//! run ARG ARG ...                   the command's arguments ('single quotes' group words)
//! code N                            its exit code
//! stdout TEXT                       its standard output is TEXT (`\n`: a line break) and a line
//!                                   break (without this line: anything)
//! stderr                            its standard error: every line after this one, exactly
//! ```
//!
//! In the output, the test's empty HOME reads `[HOME]`, the repository `[ROOT]`, the work
//! directory `[CWD]`.

use std::path::Path;

use crate::peers::{demo_key, empty_home, fixtures_dir, manifest_dir, must, other_key, run, Work, DEMO_RECIPIENT};

/// Splits a `run` line into words; 'single quotes' group words and are removed.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// Runs one case; `Err` says what differed.
fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let work = Work::new();
    let mut lines = text.split_inclusive('\n');
    let mut cmd = work.gitseal();
    let (mut args, mut code, mut stdout, mut stderr) = (None, None, None, None);
    while let Some(raw) = lines.next() {
        let line = raw.trim_end_matches('\n');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        match verb {
            "fixture" => {
                work.copy_fixture(rest);
            }
            "encrypt" => {
                let (fixture, to) = rest.split_once(' ').ok_or("encrypt FILE TO")?;
                if !work.exists(fixture) {
                    work.copy_fixture(fixture);
                }
                let out = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, fixture]), None);
                work.write(to, out);
            }
            "write" => {
                let mut body = String::new();
                for l in lines.by_ref() {
                    if l.trim_end_matches('\n') == "end" {
                        break;
                    }
                    body.push_str(l);
                }
                work.write(rest, body);
            }
            "replace" => {
                let (file, change) = rest.split_once(' ').ok_or("replace FILE OLD => NEW")?;
                let (old, new) = change.split_once(" => ").ok_or("replace FILE OLD => NEW")?;
                let (old, new) = (old.replace("\\n", "\n"), new.replace("\\n", "\n"));
                let (old, new) = (old.as_str(), new.as_str());
                let content = work.read_string(file);
                if !content.contains(old) {
                    return Err(format!("replace: {old:?} is not in {file}"));
                }
                work.write(file, content.replacen(old, new, 1));
            }
            "env" => {
                let (k, v) = rest.split_once('=').ok_or("env NAME=VALUE")?;
                cmd.env(k, v);
            }
            "key" => {
                cmd.env("SOPS_AGE_KEY_FILE", if rest == "other" { other_key() } else { demo_key() });
            }
            "run" => args = Some(words(rest)),
            "code" => code = Some(rest.parse::<i32>().map_err(|e| format!("code: {e}"))?),
            "stdout" => stdout = Some(format!("{}\n", rest.replace("\\n", "\n"))),
            "stderr" => {
                stderr = Some(lines.by_ref().collect::<String>());
            }
            other => return Err(format!("unknown line {other:?}")),
        }
    }
    let args = args.ok_or("no run line")?;
    let out = run(cmd.args(&args), None);
    let mut diffs = Vec::new();
    if out.status.code() != code {
        diffs.push(format!("exit code: expected {code:?}, got {:?}", out.status.code()));
    }
    let placeholders = |text: &[u8]| {
        String::from_utf8_lossy(text)
            .replace(&work.dir().display().to_string(), "[CWD]")
            .replace(&empty_home().display().to_string(), "[HOME]")
            .replace(&manifest_dir().display().to_string(), "[ROOT]")
    };
    let got_err = placeholders(&out.stderr);
    if let Some(expected) = &stderr {
        if got_err != expected.as_str() {
            diffs.push(format!("stderr:\n--- expected\n{expected}--- got\n{got_err}---"));
        }
    }
    if let Some(expected) = &stdout {
        let got = placeholders(&out.stdout);
        if got != expected.as_str() {
            diffs.push(format!("stdout:\n--- expected\n{expected}--- got\n{got}---"));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("\n"))
    }
}

#[test]
fn every_case_gives_its_exact_exit_code_and_stderr() {
    let dir = manifest_dir().join("tests/cmd");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cmd")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases in {}", cases.len(), dir.display());
    assert!(fixtures_dir().is_dir());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("{}:\n{e}", c.file_name().unwrap().to_string_lossy())))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

#[test]
fn run_lines_split_like_a_shell_without_expansion() {
    assert_eq!(words("decrypt --extract '[\"a\"] [0]' f.yaml"), ["decrypt", "--extract", "[\"a\"] [0]", "f.yaml"]);
    assert_eq!(words("set f '' x"), ["set", "f", "", "x"]);
}
