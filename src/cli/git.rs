//! The git integration: `gitseal textconv FILE`, the textconv of the `gitseal` diff driver, so
//! that `git diff` and `git log -p` show the lines that really changed in an encrypted file; and
//! `gitseal git setup`, which configures the diff and merge drivers (the merge driver is
//! [`super::merge`]) and marks the files `.sops.yaml` covers in `.gitattributes`
//! (`reference/gitops-integrations.md` §4.1, §4.2).

use std::path::{Path, PathBuf};
use std::process::Command;

use gitseal::config::{self, Config};
use gitseal::envelope::{self, DecryptOptions};
use gitseal::ErrorKind;
use gitseal_formats::Format;
use zeroize::Zeroizing;

use super::args::{GitSetupArgs, TextconvArgs};
use super::io::write_atomic;
use super::{exit, warn, Failure};

/// The diff driver's name in `.gitattributes` (`diff=gitseal`) and in the git config.
const DRIVER: &str = "gitseal";

/// Names to mark when there is no `.sops.yaml`: the usual ones for encrypted files.
const CONVENTIONAL: &[&str] = &[
    "*.enc.yaml",
    "*.enc.yml",
    "*.enc.json",
    "*.enc.env",
    "*.enc.ini",
    "*.enc.toml",
    "*.sops.yaml",
    "*.sops.yml",
    "*.sops.json",
];

/// Prints the decrypted file, as the file's own format writes it, for git to diff. Never fails
/// a diff: a file that is not encrypted is printed as it is, and one that cannot be decrypted
/// (no key, damaged) as it is too, with one notice on stderr. Standard input is never read.
pub(crate) fn textconv(a: TextconvArgs) -> Result<(), Failure> {
    let name = a.file.display().to_string();
    let bytes = match super::io::read_file(&a.file) {
        Ok(b) => Zeroizing::new(b),
        Err(e) => {
            warn(&format!("{name}: cannot read: {e}; the diff shows nothing for it"));
            return Ok(());
        }
    };
    let format = Format::from_path(&name);
    let mut keys = super::files::keyring(a.decryption_order.as_deref()).unwrap_or_default();
    let shown = match envelope::decrypt(&bytes, format, &name, &mut keys, &DecryptOptions::default()) {
        Ok(d) => {
            for w in &d.warnings {
                warn(&format!("{name}: {w}"));
            }
            Zeroizing::new(d.output)
        }
        // Not a sops file of its format: shown as it is, without a word.
        Err(e) if matches!(e.kind(), ErrorKind::NotEncrypted | ErrorKind::Parse) && !looks_encrypted(&bytes) => bytes,
        Err(e) => {
            warn(&format!("{e}; the diff shows the encrypted file"));
            bytes
        }
    };
    super::io::print(&shown)
}

/// Whether text holds sops ciphertext, so that a file that no longer parses still gets a notice.
fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.windows(15).any(|w| w == b"ENC[AES256_GCM,")
}

/// Configures the `gitseal` diff driver (in the repository, or with `--global` for the user)
/// and adds `PATTERN diff=gitseal` lines to the repository's `.gitattributes` for the files the
/// `.sops.yaml` creation rules cover. Idempotent. Never sets `cachetextconv`, which would keep
/// the plaintext in `refs/notes/textconv/`, and turns it off where it was set.
pub(crate) fn setup(a: GitSetupArgs) -> Result<(), Failure> {
    let root = git(&["rev-parse", "--show-toplevel"], None)
        .map(|out| PathBuf::from(out.trim_end_matches('\n')))
        .map_err(|e| Failure::new(exit::GENERIC, format!("not in a git repository ({e}); run git setup inside one")))?;
    let scope: &[&str] = if a.global { &["--global"] } else { &["--local"] };
    let textconv = format!("{} textconv", self_command());
    let key = format!("diff.{DRIVER}.textconv");
    if git(&[&["config"], scope, &["--get", &key]].concat(), Some(&root)).ok().as_deref().map(str::trim)
        != Some(&textconv)
    {
        git(&[&["config"], scope, &[key.as_str(), textconv.as_str()]].concat(), Some(&root))
            .map_err(|e| Failure::new(exit::GENERIC, format!("cannot set {key}: {e}")))?;
        eprintln!("set {key} = {textconv}{}", if a.global { " (global)" } else { "" });
    }
    let merge_driver = format!("{} merge-driver %O %A %B %P", self_command());
    for (key, value) in [
        (format!("merge.{DRIVER}.name"), "gitseal: merge encrypted files key by key".to_string()),
        (format!("merge.{DRIVER}.driver"), merge_driver),
    ] {
        if git(&[&["config"], scope, &["--get", &key]].concat(), Some(&root)).ok().as_deref().map(str::trim)
            != Some(&value)
        {
            git(&[&["config"], scope, &[key.as_str(), value.as_str()]].concat(), Some(&root))
                .map_err(|e| Failure::new(exit::GENERIC, format!("cannot set {key}: {e}")))?;
            eprintln!("set {key} = {value}{}", if a.global { " (global)" } else { "" });
        }
    }
    let cache = format!("diff.{DRIVER}.cachetextconv");
    for where_ in [&["--local"][..], &["--global"][..]] {
        let on =
            git(&[&["config"], where_, &["--get", &cache]].concat(), Some(&root)).is_ok_and(|v| v.trim() == "true");
        if on {
            git(&[&["config"], where_, &["--unset", &cache]].concat(), Some(&root))
                .map_err(|e| Failure::new(exit::GENERIC, format!("cannot unset {cache}: {e}")))?;
            warn(&format!(
                "{cache} was on ({}): it keeps decrypted files in refs/notes/textconv/{DRIVER}; turned off (delete that ref: git update-ref -d refs/notes/textconv/{DRIVER})",
                &where_[0][2..]
            ));
        }
    }
    let patterns = patterns(&root)?;
    let attributes = root.join(".gitattributes");
    let before = match std::fs::read_to_string(&attributes) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Failure::new(exit::CANNOT_READ, format!("{}: cannot read: {e}", attributes.display()))),
    };
    let wanted = [format!("diff={DRIVER}"), format!("merge={DRIVER}")];
    let mut lines: Vec<String> = before.lines().map(str::to_string).collect();
    for pattern in &patterns {
        let line = format!("{pattern} {}", wanted.join(" "));
        let has = |l: &str, attr: &str| l.split_whitespace().skip(1).any(|w| w == attr);
        match lines.iter_mut().find(|l| l.split_whitespace().next() == Some(pattern.as_str()) && has(l, &wanted[0])) {
            // A line from before the merge driver: it gets it.
            Some(l) if !has(l, &wanted[1]) => {
                l.push_str(&format!(" {}", wanted[1]));
                eprintln!("{}: {l}", attributes.display());
            }
            Some(_) => {}
            None => {
                eprintln!("{}: {line}", attributes.display());
                lines.push(line);
            }
        }
    }
    let mut after = lines.join("\n");
    if !after.is_empty() {
        after.push('\n');
    }
    let after = if after.trim_end() == before.trim_end() { before.clone() } else { after };
    if after != before {
        write_atomic(&attributes, after.as_bytes(), 0o644)
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", attributes.display())))?;
    }
    Ok(())
}

/// How git should run this binary: `gitseal` when that name on PATH is this binary, else its
/// absolute path.
fn self_command() -> String {
    let me = std::env::current_exe().ok().and_then(|p| p.canonicalize().ok());
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("gitseal"))
            .find(|p| p.is_file())
            .and_then(|p| p.canonicalize().ok())
    });
    match (me, on_path) {
        (Some(me), Some(found)) if me == found => "gitseal".to_string(),
        (Some(me), _) => shell_word(&me.to_string_lossy()),
        _ => "gitseal".to_string(),
    }
}

/// `s` quoted for the shell git runs the textconv command with, when it needs quoting.
fn shell_word(s: &str) -> String {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `.gitattributes` patterns for the files the creation rules of the repository's
/// `.sops.yaml` cover; the conventional names when there is none.
fn patterns(root: &Path) -> Result<Vec<String>, Failure> {
    let located = config::locate(None, root);
    let Some(path) = located.path else {
        warn("no .sops.yaml: marking the usual names of encrypted files (*.enc.*, *.sops.*)");
        return Ok(CONVENTIONAL.iter().map(|p| p.to_string()).collect());
    };
    let path = if path.is_absolute() { path } else { root.join(path) };
    let cfg = Config::load(&path).map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
    let prefix = cfg.dir.strip_prefix(root).unwrap_or(Path::new("")).to_string_lossy().into_owned();
    let mut out: Vec<String> = Vec::new();
    for rule in &cfg.rules {
        let Some(regex) = rule.path_regex().filter(|r| !r.is_empty()) else {
            warn(&format!(
                "{}: {} matches every file; mark its files in .gitattributes by hand",
                cfg.name,
                rule.describe()
            ));
            continue;
        };
        match globs(regex) {
            Some(globs) => {
                for g in globs {
                    let g = if prefix.is_empty() { g } else { format!("/{prefix}{}", g.strip_prefix('/').map_or_else(|| format!("/**/{g}"), |r| format!("/{r}"))) };
                    if !out.contains(&g) {
                        out.push(g);
                    }
                }
            }
            None => warn(&format!(
                "{}: {} has a path_regex ({regex:?}) that no .gitattributes pattern can express; mark its files by hand",
                cfg.name,
                rule.describe()
            )),
        }
    }
    Ok(out)
}

/// `.gitattributes` patterns matching the paths an unanchored, sops-style `path_regex` matches,
/// for the regexes people write (`\.enc\.yaml$`, `^secrets/.*\.json$`, `(dev|prod)/.*`); `None`
/// for anything else. A top-level alternation becomes one pattern per branch.
pub(crate) fn globs(regex: &str) -> Option<Vec<String>> {
    let branches = split_alternation(regex)?;
    branches.iter().map(|b| glob(b)).collect()
}

/// The top-level branches of `a|b`, or of one group spanning the literal parts: `x(a|b)y` gives
/// `xay`, `xby`. Nested groups are not handled.
fn split_alternation(regex: &str) -> Option<Vec<String>> {
    match (regex.find('('), regex.rfind(')')) {
        (Some(open), Some(close)) if open < close => {
            let (head, inner, tail) = (&regex[..open], &regex[open + 1..close], &regex[close + 1..]);
            let inner = inner.strip_prefix("?:").unwrap_or(inner);
            if inner.contains(['(', ')']) || head.contains('|') || tail.contains('|') {
                return None;
            }
            Some(inner.split('|').map(|b| format!("{head}{b}{tail}")).collect())
        }
        (None, None) => Some(regex.split('|').map(str::to_string).collect()),
        _ => None,
    }
}

/// One branch as a pattern: literals, `\.`-style escapes, `.*`/`.+` (any text, across
/// directories) and `[^/]*` (within one name) as wildcards, `^` and `$` anchors.
fn glob(branch: &str) -> Option<String> {
    // Any text, across directories, until the pattern is laid out.
    const ANY: char = '\u{1}';
    let (anchored, rest) = match branch.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, branch),
    };
    let (ends, rest) = match rest.strip_suffix('$') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                c @ ('.' | '/' | '-' | '_' | '+' | '(' | ')' | '{' | '}' | '|' | '$' | '^') => out.push(c),
                _ => return None,
            },
            '.' if matches!(chars.peek(), Some('*' | '+')) => {
                chars.next();
                out.push(ANY);
            }
            '[' => {
                let class: String = chars.by_ref().take_while(|&c| c != ']').collect();
                if class != "^/" || !matches!(chars.next(), Some('*' | '+')) {
                    return None;
                }
                out.push('*');
            }
            '.' | '*' | '+' | '?' | '{' | '}' | ']' => return None,
            c => out.push(c),
        }
    }
    // Unanchored at the end, the path may go on after what the regex names.
    if !ends && !out.ends_with([ANY, '*']) {
        out.push(ANY);
    }
    let has_dir = out.trim_end_matches([ANY, '*']).contains('/');
    let mut pattern = if has_dir { out.replacen(&format!("/{ANY}"), "/**/*", 1) } else { out };
    pattern = pattern.replace(ANY, "*");
    if anchored {
        pattern.insert(0, '/');
    } else if has_dir {
        pattern.insert_str(0, "**/");
    } else if !pattern.starts_with('*') {
        pattern.insert(0, '*');
    }
    Some(pattern)
}

/// Runs git (in `dir` when given); its standard output, or why it failed.
fn git(args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    let mut cmd = Command::new("git");
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::globs;

    #[test]
    fn common_path_regexes_become_gitattributes_patterns() {
        let g = |r: &str| globs(r).map(|v| v.join(" "));
        assert_eq!(g(r"\.enc\.yaml$").as_deref(), Some("*.enc.yaml"));
        assert_eq!(g(r".*\.enc\.yaml$").as_deref(), Some("*.enc.yaml"));
        assert_eq!(g(r"\.(yaml|json)$").as_deref(), Some("*.yaml *.json"));
        assert_eq!(g(r"^secrets/.*\.json$").as_deref(), Some("/secrets/**/*.json"));
        assert_eq!(g(r"prod/.*").as_deref(), Some("**/prod/**/*"));
        assert_eq!(g(r"^(dev|prod)/[^/]*\.env$").as_deref(), Some("/dev/*.env /prod/*.env"));
        assert_eq!(g(r"\.sops\.").as_deref(), Some("*.sops.*"));
        for unsupported in [r"a+b", r"\d+\.yaml", r"x(a|(b|c))", r"[abc]\.yaml", r"a?\.yaml", r"x{2}"] {
            assert_eq!(g(unsupported), None, "{unsupported}");
        }
    }
}
