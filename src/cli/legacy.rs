//! The sops invocation model on top of gitseal's subcommands.
//!
//! sops has two modes: legacy `sops [flags] FILE`, where `-e`, `-d`, `-r` or `--set` picks the
//! action and none of them means edit, and `sops [global flags] SUBCOMMAND [flags] ARGS`. This
//! module rewrites the process arguments of either into gitseal's subcommand form before clap
//! sees them, so `gitseal -d f.yaml`, a binary named `sops`, and global flags given before the
//! subcommand all work. Unlike sops, global flags before a subcommand are honoured when the
//! subcommand has them.

use std::ffi::{OsStr, OsString};

use clap::CommandFactory;

use super::{exit, Cli, Failure};

/// The arguments to hand to clap, and warnings to print first.
#[derive(Debug, PartialEq)]
pub(crate) struct Rewritten {
    pub args: Vec<OsString>,
    pub warnings: Vec<String>,
}

/// A legacy action flag.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Encrypt,
    Decrypt,
    Rotate,
    Set,
}

/// sops's global flags: (long, short, takes a value).
const SOPS_GLOBALS: &[(&str, Option<&str>, bool)] = &[
    ("encrypt", Some("e"), false),
    ("decrypt", Some("d"), false),
    ("rotate", Some("r"), false),
    ("set", None, true),
    ("in-place", Some("i"), false),
    ("output", None, true),
    ("extract", None, true),
    ("input-type", None, true),
    ("output-type", None, true),
    ("filename-override", None, true),
    ("indent", None, true),
    ("config", None, true),
    ("kms", Some("k"), true),
    ("aws-profile", None, true),
    ("encryption-context", None, true),
    ("gcp-kms", None, true),
    ("hckms", None, true),
    ("azure-kv", None, true),
    ("hc-vault-transit", None, true),
    ("pgp", Some("p"), true),
    ("age", Some("a"), true),
    ("add-kms", None, true),
    ("add-pgp", None, true),
    ("add-gcp-kms", None, true),
    ("add-hckms", None, true),
    ("add-azure-kv", None, true),
    ("add-hc-vault-transit", None, true),
    ("add-age", None, true),
    ("rm-kms", None, true),
    ("rm-pgp", None, true),
    ("rm-gcp-kms", None, true),
    ("rm-hckms", None, true),
    ("rm-azure-kv", None, true),
    ("rm-hc-vault-transit", None, true),
    ("rm-age", None, true),
    ("shamir-secret-sharing-threshold", None, true),
    ("unencrypted-suffix", None, true),
    ("encrypted-suffix", None, true),
    ("unencrypted-regex", None, true),
    ("encrypted-regex", None, true),
    ("unencrypted-comment-regex", None, true),
    ("encrypted-comment-regex", None, true),
    ("mac-only-encrypted", None, false),
    ("ignore-mac", None, false),
    ("decryption-order", None, true),
    ("show-master-keys", Some("s"), false),
    ("enable-local-keyservice", None, false),
    ("keyservice", None, true),
    ("verbose", None, false),
    ("disable-version-check", None, false),
    ("check-for-updates", None, false),
];

/// Global flags gitseal accepts and has no use for: dropped without a word.
const NO_OPS: &[&str] =
    &["verbose", "disable-version-check", "check-for-updates", "enable-local-keyservice", "keyservice"];

/// sops subcommands gitseal does not have, and why (else `sops publish f` would edit a file
/// named `publish`).
const UNSUPPORTED: &[(&str, &str)] = &[("keyservice", "gitseal uses the keys of this machine and runs no key service")];

/// The subcommands a legacy invocation can become.
const TARGETS: &[&str] = &["encrypt", "decrypt", "edit", "set", "rotate"];

/// One flag given before the file or subcommand.
#[derive(Clone, Debug)]
struct Flag {
    /// As typed, for messages.
    typed: String,
    /// The long name (sops's, or gitseal's when sops has no such flag).
    long: String,
    /// The value (`--flag value`, `--flag=value`; for a boolean only `--flag=value`).
    value: Option<OsString>,
    takes_value: bool,
}

/// What clap knows about the subcommands. The command tree is built on first use only: most
/// calls (`gitseal textconv FILE`, `gitseal decrypt FILE`) never need it, and building it is
/// a fifth of a small file's decryption. The legacy actions' subcommands ([`TARGETS`], where
/// a sops-style call's flags are looked up) are built on their own, each when first asked
/// about: `gitseal -e --age KEY FILE` needs only `encrypt`'s flags.
struct Model {
    cmd: std::cell::OnceCell<clap::Command>,
    targets: [std::cell::OnceCell<clap::Command>; TARGETS.len()],
}

impl Model {
    fn new() -> Model {
        Model { cmd: std::cell::OnceCell::new(), targets: Default::default() }
    }

    fn cmd(&self) -> &clap::Command {
        self.cmd.get_or_init(Cli::command)
    }

    /// Subcommand `sub` with its own arguments (as the whole tree holds it, before clap
    /// propagates global flags into it).
    fn subcommand(&self, sub: &str) -> Option<&clap::Command> {
        use super::args::{DecryptArgs, EditArgs, EncryptArgs, RotateArgs, SetArgs};
        let Some(i) = TARGETS.iter().position(|t| *t == sub) else { return self.cmd().find_subcommand(sub) };
        Some(self.targets[i].get_or_init(|| {
            let cmd = clap::Command::new(TARGETS[i]);
            match TARGETS[i] {
                "encrypt" => <EncryptArgs as clap::Args>::augment_args(cmd),
                "decrypt" => <DecryptArgs as clap::Args>::augment_args(cmd),
                "edit" => <EditArgs as clap::Args>::augment_args(cmd),
                "set" => <SetArgs as clap::Args>::augment_args(cmd),
                _ => <RotateArgs as clap::Args>::augment_args(cmd),
            }
        }))
    }

    fn is_subcommand(&self, name: &str) -> bool {
        name == "help" || <super::args::Command as clap::Subcommand>::has_subcommand(name)
    }

    /// The long name and whether it takes a value, for a flag of subcommand `sub` named `name`
    /// (long, or short when one character).
    fn lookup(&self, sub: &str, name: &str) -> Option<(String, bool)> {
        let sub = self.subcommand(sub)?;
        let short = single_char(name);
        sub.get_arguments()
            .filter(|a| !a.is_positional())
            .find(|a| a.get_long() == Some(name) || (short.is_some() && a.get_short() == short))
            .map(|a| (a.get_long().unwrap_or(name).to_string(), a.get_action().takes_values()))
    }

    /// Whether subcommand `sub` has the long flag `long`, and if so whether it takes a value.
    fn accepts(&self, sub: &str, long: &str) -> Option<bool> {
        self.lookup(sub, long).map(|(_, v)| v)
    }
}

fn single_char(name: &str) -> Option<char> {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Splits `-name`, `--name` or `--name=value` into the name and the inline value.
fn split_flag(arg: &str) -> (&str, Option<&str>) {
    let body = arg.strip_prefix("--").unwrap_or_else(|| &arg[1..]);
    match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    }
}

fn is_flag(arg: &OsStr) -> bool {
    let b = arg.as_encoded_bytes();
    b.len() > 1 && b[0] == b'-' && b != b"--"
}

/// Rewrites the process arguments (`args[0]` is the program) into gitseal's subcommand form.
pub(crate) fn rewrite(args: Vec<OsString>) -> Result<Rewritten, Failure> {
    rewrite_with(&Model::new(), args)
}

fn rewrite_with(model: &Model, args: Vec<OsString>) -> Result<Rewritten, Failure> {
    let unchanged = |args: Vec<OsString>| Ok(Rewritten { args, warnings: Vec::new() });
    if args.len() < 2 {
        if super::as_sops() {
            return Err(Failure::new(exit::NO_FILE, "Error: no file specified"));
        }
        return unchanged(args);
    }
    let mut flags = Vec::new();
    let mut i = 1;
    let mut positional: Option<usize> = None;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            positional = (i + 1 < args.len()).then_some(i + 1);
            break;
        }
        if !is_flag(arg) {
            positional = Some(i);
            break;
        }
        let text = arg.to_string_lossy().into_owned();
        let (name, inline) = split_flag(&text);
        if matches!(name, "h" | "help" | "v" | "V" | "version") {
            let mut out = vec![args[0].clone()];
            out.push(if matches!(name, "h" | "help") { "--help" } else { "--version" }.into());
            return unchanged(out);
        }
        let known = SOPS_GLOBALS
            .iter()
            .find(|(long, short, _)| *long == name || *short == Some(name))
            .map(|(long, _, v)| (long.to_string(), *v))
            .or_else(|| TARGETS.iter().find_map(|t| model.lookup(t, name)));
        let Some((long, takes_value)) = known else {
            return Err(Failure::new(exit::GENERIC, format!("flag provided but not defined: {text}")));
        };
        let value = match (inline, takes_value) {
            (Some(v), _) => Some(OsString::from(v)),
            (None, true) => {
                i += 1;
                let v = args
                    .get(i)
                    .ok_or_else(|| Failure::new(exit::GENERIC, format!("flag needs an argument: {text}")))?;
                Some(v.clone())
            }
            (None, false) => None,
        };
        flags.push(Flag { typed: text.clone(), long, value, takes_value });
        i += 1;
    }
    let mut warnings = Vec::new();
    if let Some(p) = positional {
        let first = args[p].to_string_lossy();
        let named = p == 1 || args[p - 1] != "--";
        if args[p] != "--" && model.is_subcommand(&first) && named {
            return subcommand_mode(model, &args, p, &flags);
        }
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(name, _)| *name == first).filter(|_| named) {
            return Err(Failure::new(exit::GENERIC, format!("sops {first} is not supported: {why}")));
        }
    }
    // Legacy mode.
    let Some(p) = positional else {
        return Err(Failure::new(exit::NO_FILE, "Error: no file specified"));
    };
    let file = args[p].clone();
    let rest = &args[p + 1..];
    if !rest.is_empty() {
        warnings.push("More than one positional argument provided. Only the first one will be used!".to_string());
        for extra in rest.iter().filter(|a| is_flag(a)) {
            warnings.push(format!(
                "{} looks like a flag. Flags must always be provided before the first positional argument!",
                extra.to_string_lossy()
            ));
        }
    }
    let mut action = None;
    let mut actions = Vec::new();
    let mut set_arg = None;
    for f in &flags {
        let a = match f.long.as_str() {
            "encrypt" => Action::Encrypt,
            "decrypt" => Action::Decrypt,
            "rotate" => Action::Rotate,
            "set" => {
                set_arg = f.value.clone();
                Action::Set
            }
            _ => continue,
        };
        if bool_value(f) == Some(false) {
            continue;
        }
        actions.push(f.typed.clone());
        action = Some(a);
    }
    if actions.len() > 1 {
        warnings.push(format!(
            "more than one action flag given ({}): only the last, {}, takes effect",
            actions.join(", "),
            actions[actions.len() - 1]
        ));
    }
    let target = match action {
        None => "edit",
        Some(Action::Encrypt) => "encrypt",
        Some(Action::Decrypt) => "decrypt",
        Some(Action::Set) => "set",
        Some(Action::Rotate) if model.is_subcommand("rotate") => "rotate",
        Some(Action::Rotate) => return Err(Failure::new(exit::GENERIC, "rotate is not supported yet")),
    };
    let mut out = vec![args[0].clone()];
    let mut sub_flags = Vec::new();
    for f in flags.iter().filter(|f| !matches!(f.long.as_str(), "encrypt" | "decrypt" | "rotate" | "set")) {
        place(model, target, f, &mut out, &mut sub_flags, &mut warnings);
    }
    out.push(target.into());
    out.extend(sub_flags);
    if target == "rotate" {
        out.push("--legacy-rotate".into());
    }
    out.push("--".into());
    out.push(file);
    if target == "set" {
        let set = set_arg.unwrap_or_default();
        let (path, value) = split_set(&set.to_string_lossy())?;
        out.push(path.into());
        out.push(value.into());
    }
    Ok(Rewritten { args: out, warnings })
}

/// `Some(bool)` for a boolean flag given as `--flag=value`.
fn bool_value(f: &Flag) -> Option<bool> {
    if f.takes_value {
        return None;
    }
    let v = f.value.as_ref()?.to_string_lossy().to_ascii_lowercase();
    Some(matches!(v.as_str(), "1" | "t" | "true"))
}

/// Puts flag `f` where subcommand `sub` takes it: `--config` before the subcommand, flags the
/// subcommand has after it, no-ops nowhere, and anything else nowhere with a warning.
fn place(
    model: &Model,
    sub: &str,
    f: &Flag,
    before: &mut Vec<OsString>,
    after: &mut Vec<OsString>,
    warnings: &mut Vec<String>,
) {
    if f.long == "config" {
        let mut a = OsString::from("--config=");
        a.push(f.value.clone().unwrap_or_default());
        before.push(a);
        return;
    }
    if NO_OPS.contains(&f.long.as_str()) {
        return;
    }
    match model.accepts(sub, &f.long) {
        Some(true) => {
            let mut a = OsString::from(format!("--{}=", f.long));
            a.push(f.value.clone().unwrap_or_default());
            after.push(a);
        }
        Some(false) => {
            if bool_value(f) != Some(false) {
                after.push(format!("--{}", f.long).into());
            }
        }
        None => warnings.push(format!("{} does not apply to {sub}; ignored", f.typed)),
    }
}

/// Subcommand mode: the flags before the subcommand move after it.
fn subcommand_mode(model: &Model, args: &[OsString], p: usize, flags: &[Flag]) -> Result<Rewritten, Failure> {
    let sub = args[p].to_string_lossy().into_owned();
    let mut warnings = Vec::new();
    let mut out = vec![args[0].clone()];
    let mut sub_flags = Vec::new();
    for f in flags {
        if matches!(f.long.as_str(), "encrypt" | "decrypt" | "rotate" | "set") {
            warnings.push(format!("{} is a legacy action flag and does nothing before a subcommand; ignored", f.typed));
            continue;
        }
        place(model, &sub, f, &mut out, &mut sub_flags, &mut warnings);
    }
    out.push(args[p].clone());
    out.extend(sub_flags);
    // No-op globals after the subcommand are dropped too, up to a `--`.
    let mut tail = args[p + 1..].iter();
    for a in tail.by_ref() {
        if a == "--" {
            out.push(a.clone());
            break;
        }
        let text = a.to_string_lossy();
        if is_flag(a) && text.starts_with("--") {
            let (name, _) = split_flag(&text);
            if NO_OPS.contains(&name)
                && SOPS_GLOBALS.iter().any(|g| g.0 == name && !g.2)
                && model.accepts(&sub, name).is_none()
            {
                continue;
            }
        }
        out.push(a.clone());
    }
    out.extend(tail.cloned());
    Ok(Rewritten { args: out, warnings })
}

/// Splits a legacy `--set` argument at the first `] `, as sops does: `["a"][0] VALUE`.
fn split_set(set: &str) -> Result<(String, String), Failure> {
    match set.find("] ") {
        Some(at) => Ok((set[..at + 1].to_string(), set[at + 2..].to_string())),
        None => Err(Failure::new(
            exit::INVALID_SET_FORMAT,
            format!("Invalid --set format: {set:?} (expected '[\"key\"] VALUE')"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcommands_are_known_without_building_the_tree() {
        let model = Model::new();
        for s in Cli::command().get_subcommands() {
            assert!(model.is_subcommand(s.get_name()), "{}", s.get_name());
        }
        for name in ["secrets.yaml", "textconv.yaml", "decrypt2", ""] {
            assert!(!model.is_subcommand(name), "{name}");
        }
        assert!(model.cmd.get().is_none());
    }

    /// The legacy actions' subcommands, built on their own, know every flag the whole tree
    /// gives them, long and short, and whether it takes a value; asking about them builds
    /// neither the tree nor the other actions' subcommands.
    #[test]
    fn a_legacy_action_looks_its_flags_up_without_the_tree() {
        let whole = Cli::command();
        for (i, target) in TARGETS.iter().enumerate() {
            let model = Model::new();
            let theirs = whole.find_subcommand(target).unwrap();
            let mut asked = 0;
            for a in theirs.get_arguments().filter(|a| !a.is_positional()) {
                let names = a.get_long().map(str::to_string).into_iter().chain(a.get_short().map(String::from));
                for name in names {
                    let expected = (a.get_long().unwrap_or(&name).to_string(), a.get_action().takes_values());
                    assert_eq!(model.lookup(target, &name), Some(expected), "{target} --{name}");
                    asked += 1;
                }
            }
            assert!(asked > 3, "{target}: {asked} flags");
            assert_eq!(model.lookup(target, "no-such-flag"), None);
            assert!(model.cmd.get().is_none(), "{target} built the tree");
            let built = model.targets.iter().filter(|t| t.get().is_some()).count();
            assert!(built == 1 && model.targets[i].get().is_some(), "{target}");
        }
        // Another subcommand is looked up in the tree.
        let model = Model::new();
        let _ = model.lookup("keygen", "output");
        assert!(model.cmd.get().is_some());
    }

    fn run(args: &[&str]) -> Result<Vec<String>, (i32, String)> {
        let args = args.iter().map(OsString::from).collect();
        rewrite(args)
            .map(|r| r.args.iter().map(|a| a.to_string_lossy().into_owned()).collect())
            .map_err(|f| (f.code, f.message))
    }

    #[test]
    fn maps_legacy_and_global_flags() {
        let table: &[(&[&str], &[&str])] = &[
            (&["sops", "-d", "f.yaml"], &["sops", "decrypt", "--", "f.yaml"]),
            (&["gitseal", "--decrypt", "f.yaml"], &["gitseal", "decrypt", "--", "f.yaml"]),
            (&["sops", "-e", "--age", "R", "f.yaml"], &["sops", "encrypt", "--age=R", "--", "f.yaml"]),
            (&["sops", "-e", "-a=R", "-i", "f.yaml"], &["sops", "encrypt", "--age=R", "--in-place", "--", "f.yaml"]),
            (&["sops", "-d", "--extract", "[\"a\"]", "f"], &["sops", "decrypt", "--extract=[\"a\"]", "--", "f"]),
            (&["sops", "-d", "--output-type", "json", "f"], &["sops", "decrypt", "--output-type=json", "--", "f"]),
            (&["sops", "-d", "--config", "c.yaml", "f"], &["sops", "--config=c.yaml", "decrypt", "--", "f"]),
            (&["sops", "-d", "--verbose", "--ignore-mac", "f"], &["sops", "decrypt", "--ignore-mac", "--", "f"]),
            (&["sops", "-e", "--ignore-mac=false", "f"], &["sops", "encrypt", "--", "f"]),
            (&["sops", "--set", "[\"a\"] \"b\"", "f"], &["sops", "set", "--", "f", "[\"a\"]", "\"b\""]),
            (&["sops", "--set=[\"a\"][0] -5", "f"], &["sops", "set", "--", "f", "[\"a\"][0]", "-5"]),
            (&["sops", "-e", "-d", "f"], &["sops", "decrypt", "--", "f"]),
            (&["sops", "-s", "f"], &["sops", "edit", "--show-master-keys", "--", "f"]),
            (&["gitseal", "f.yaml"], &["gitseal", "edit", "--", "f.yaml"]),
            (&["gitseal", "--", "decrypt"], &["gitseal", "edit", "--", "decrypt"]),
            (&["sops", "-d", "f", "--extract", "x"], &["sops", "decrypt", "--", "f"]),
            // Subcommand mode: globals before the subcommand move after it.
            (&["gitseal", "decrypt", "f"], &["gitseal", "decrypt", "f"]),
            (&["gitseal", "--indent", "2", "encrypt", "f"], &["gitseal", "encrypt", "--indent=2", "f"]),
            (&["gitseal", "--verbose", "decrypt", "f"], &["gitseal", "decrypt", "f"]),
            (&["gitseal", "decrypt", "--verbose", "f"], &["gitseal", "decrypt", "f"]),
            (&["gitseal", "--config", "c", "decrypt", "f"], &["gitseal", "--config=c", "decrypt", "f"]),
            (&["gitseal", "-d", "decrypt", "f"], &["gitseal", "decrypt", "f"]),
            (&["gitseal", "--indent", "2", "set", "f", "[0]", "1"], &["gitseal", "set", "f", "[0]", "1"]),
            (&["gitseal", "exec-env", "f", "--", "--verbose"], &["gitseal", "exec-env", "f", "--", "--verbose"]),
            (&["gitseal", "--help"], &["gitseal", "--help"]),
            (&["sops", "-v"], &["sops", "--version"]),
            (&["gitseal"], &["gitseal"]),
        ];
        for (input, want) in table {
            assert_eq!(run(input), Ok(want.iter().map(|s| s.to_string()).collect()), "{input:?}");
        }
    }

    #[test]
    fn refuses_what_sops_refuses() {
        let table: &[(&[&str], i32, &str)] = &[
            (&["sops", "-d"], 100, "Error: no file specified"),
            (&["sops", "--config", "c"], 100, "Error: no file specified"),
            (&["sops", "--bogus", "f"], 1, "flag provided but not defined: --bogus"),
            (&["sops", "-d", "--output"], 1, "flag needs an argument: --output"),
            (&["sops", "--set", "nope", "f"], 7, "Invalid --set format"),
        ];
        for (input, code, text) in table {
            let got = run(input).expect_err(&format!("{input:?}"));
            assert_eq!(got.0, *code, "{input:?}: {}", got.1);
            assert!(got.1.contains(text), "{input:?}: {}", got.1);
        }
    }

    #[test]
    fn rotate_when_there_is_a_rotate_command() {
        if Model::new().is_subcommand("rotate") {
            assert_eq!(
                run(&["sops", "-r", "f"]),
                Ok(["sops", "rotate", "--legacy-rotate", "--", "f"].map(String::from).to_vec())
            );
        } else {
            assert_eq!(run(&["sops", "-r", "f"]), Err((1, "rotate is not supported yet".to_string())));
        }
    }

    #[test]
    fn warns_about_ignored_arguments_and_several_actions() {
        let r = rewrite(["sops", "-e", "-d", "f", "--age", "x"].iter().map(OsString::from).collect()).unwrap();
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("More than one positional argument"));
        assert!(r.warnings[1].contains("--age looks like a flag"));
        assert!(r.warnings[2].contains("only the last, -d, takes effect"));
        let r = rewrite(["sops", "-d", "--age", "R", "f"].iter().map(OsString::from).collect()).unwrap();
        assert_eq!(r.warnings, ["--age does not apply to decrypt; ignored"]);
    }
}
