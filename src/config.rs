//! `.sops.yaml`: finding it, reading it, and picking the creation rule for a file
//! (`reference/sops-cli.md` §3).
//!
//! The file is read with gitseal's own YAML codec, so every error names the config file and the
//! line. Unlike sops, unknown keys are reported as warnings instead of being dropped silently, and
//! key strings are turned into master keys only when their rule is used.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use gitseal_formats::{Format, MapItem, Node, Scalar, SeqItem, Value};
use gitseal_keys::age::Recipient;
use gitseal_keys::kms::KmsKey;
use gitseal_keys::pgp::PgpKey;
use gitseal_keys::MasterKey;
use regex::Regex;

use crate::selection::Rule;

/// The name sops looks for.
pub const FILE_NAME: &str = ".sops.yaml";
/// How many directories the upward search visits (sops `maxDepth`).
const MAX_DEPTH: usize = 100;

/// A `.sops.yaml` problem: the file, the line when known, and what is wrong (never a key).
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The config file as the user knows it.
    pub file: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The result of the upward search.
pub struct Located {
    /// The config file, if one was found.
    pub path: Option<PathBuf>,
    /// `.sops.yml` files seen on the way (sops ignores them too, but says so only once).
    pub warnings: Vec<String>,
}

/// Finds the config file as sops does: `explicit` (from `--config` or `SOPS_CONFIG`) if given,
/// else the first `.sops.yaml` in `cwd` or one of its parents (at most 100 levels), as a path
/// relative to `cwd` (`.sops.yaml`, `../.sops.yaml`, ...), which must be the working directory.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Located {
    if let Some(p) = explicit {
        return Located { path: Some(p.to_path_buf()), warnings: Vec::new() };
    }
    let mut warnings = Vec::new();
    // Named relative to the working directory in messages, as sops does (`../.sops.yaml`).
    let mut up = PathBuf::new();
    let mut dir = Some(cwd);
    for _ in 0..MAX_DEPTH {
        let Some(d) = dir else { break };
        if d.join(FILE_NAME).is_file() {
            return Located { path: Some(up.join(FILE_NAME)), warnings };
        }
        if d.join(".sops.yml").exists() {
            warnings.push(format!(
                "ignoring {}: the config file must be called \".sops.yaml\" (sops ignores it too)",
                up.join(".sops.yml").display()
            ));
        }
        up.push("..");
        dir = d.parent();
    }
    Located { path: None, warnings }
}

/// Per-format options from `stores`.
#[derive(Clone, Debug, Default)]
pub struct Stores {
    /// `stores.yaml.indent`.
    pub yaml_indent: Option<usize>,
    /// `stores.json.indent` (`None` for the default, a tab).
    pub json_indent: Option<usize>,
    /// `stores.json_binary.indent`.
    pub json_binary_indent: Option<usize>,
}

impl Stores {
    /// The indentation configured for output in `format`.
    pub fn indent_for(&self, format: Format) -> Option<usize> {
        match format {
            Format::Yaml => self.yaml_indent,
            Format::Json => self.json_indent,
            Format::Binary => self.json_binary_indent,
            _ => None,
        }
    }
}

/// A parsed `.sops.yaml`.
#[derive(Debug)]
pub struct Config {
    /// The file as the user named it (for messages).
    pub name: String,
    /// The absolute directory the file is in; rule paths are relative to it.
    pub dir: PathBuf,
    /// `creation_rules`, in order.
    pub rules: Vec<CreationRule>,
    /// `stores`.
    pub stores: Stores,
    /// `destination_rules` (for `publish`), in order.
    pub destinations: Vec<DestinationRule>,
    /// Unknown keys, one message each.
    pub warnings: Vec<String>,
}

/// A key string from the config and the line it is on.
#[derive(Clone, Debug)]
struct KeyText {
    text: String,
    line: usize,
}

/// A KMS entry of a key group.
#[derive(Clone, Debug)]
struct KmsEntry {
    arn: String,
    role: Option<String>,
    context: BTreeMap<String, String>,
    aws_profile: String,
    line: usize,
}

/// One entry of `key_groups`.
#[derive(Clone, Debug, Default)]
struct GroupSpec {
    age: Vec<KeyText>,
    pgp: Vec<KeyText>,
    kms: Vec<KmsEntry>,
    hc_vault: Vec<KeyText>,
    /// Key kinds gitseal cannot use yet, with their line.
    unsupported: Vec<(String, usize)>,
}

/// Where `publish` sends a file: one entry of `destination_rules`.
#[derive(Debug)]
pub struct DestinationRule {
    /// 1-based position in `destination_rules`.
    pub number: usize,
    path_regex: Option<PathRegex>,
    /// Where to.
    pub target: Destination,
    /// Leave the file's extension out of the destination name.
    pub omit_extensions: bool,
    /// `reencryption_rule` (also read as `recreation_rule`): the keys S3 copies are
    /// re-encrypted for.
    pub recreation: Option<CreationRule>,
}

/// The store of a destination rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Vault KV: the decrypted data as a secret at `<mount><path><file name>`.
    Vault {
        /// `vault_address` (default `VAULT_ADDR`, else `https://127.0.0.1:8200`).
        address: String,
        /// `vault_kv_mount_name` (default `secret/`).
        mount: String,
        /// `vault_kv_version` (default 2).
        version: u8,
        /// `vault_path`.
        path: String,
    },
    /// An S3 bucket (the re-encrypted file).
    S3 {
        /// `s3_bucket`.
        bucket: String,
        /// `s3_prefix`.
        prefix: String,
    },
    /// A GCS bucket (the re-encrypted file).
    Gcs {
        /// `gcs_bucket`.
        bucket: String,
        /// `gcs_prefix`.
        prefix: String,
    },
}

/// A rule's `path_regex`: its syntax is checked when the config is read, its automaton built
/// when a path is first matched against it. Most commands match one rule, or none: decryption
/// reads the config for its `stores` settings only, and a config may have many rules.
#[derive(Debug)]
struct PathRegex {
    text: String,
    /// The literals that every match starts with (`regex_syntax`'s prefix extraction from the
    /// parsed pattern): a path that holds none of them cannot match, and is answered without
    /// an automaton (a path is tried against each rule until one matches: most do not). `None`
    /// when the pattern has no such finite set.
    starts: Option<Vec<Vec<u8>>>,
    /// `None` only if building fails after the syntax was accepted (then nothing matches).
    compiled: std::sync::OnceLock<Option<Regex>>,
    /// The same pattern without Unicode, for ASCII paths (nearly all): on an ASCII text it
    /// matches exactly where the Unicode automaton does (`.`, `\w`, `\b`, case folding and
    /// classes differ only on other characters), and building it costs a fraction (a Unicode
    /// `.` is an automaton over UTF-8). `None` when the pattern needs Unicode (`\p{..}`, a
    /// class of other characters): then the Unicode automaton answers. It is built with only the
    /// engines one short path needs (no lazy or full DFA, no one-pass DFA), whose setup was most
    /// of its cost; the engines differ in speed, never in what they match.
    ascii: std::sync::OnceLock<Option<regex_automata::meta::Regex>>,
}

/// Checks a config pattern's syntax as the regex crate reads it, without building the regex
/// (a fraction of the cost), and gives the pattern parsed; a pattern refused is handed to the
/// regex crate, for its own error (or, should the crate accept it, no parsed pattern).
fn check_syntax(text: &str) -> Result<Option<regex_syntax::hir::Hir>, regex::Error> {
    match regex_syntax::Parser::new().parse(text) {
        Ok(hir) => Ok(Some(hir)),
        Err(_) => Regex::new(text).map(|_| None),
    }
}

impl PathRegex {
    fn new(text: String) -> Result<PathRegex, regex::Error> {
        let starts = check_syntax(&text)?.and_then(|hir| {
            let prefixes = regex_syntax::hir::literal::Extractor::new().extract(&hir);
            prefixes.literals().map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
        });
        Ok(PathRegex { text, starts, compiled: std::sync::OnceLock::new(), ascii: std::sync::OnceLock::new() })
    }

    fn is_match(&self, path: &str) -> bool {
        if let Some(starts) = &self.starts {
            if !starts.iter().any(|s| memchr::memmem::find(path.as_bytes(), s).is_some()) {
                return false;
            }
        }
        // The size limit guards against patterns from untrusted input; a config's own path
        // patterns are the repository's, and were accepted as syntax.
        if path.is_ascii() {
            let ascii = self.ascii.get_or_init(|| {
                use regex_automata::{meta, util::syntax};
                let engines = meta::Config::new().nfa_size_limit(Some(1 << 30)).hybrid(false).dfa(false).onepass(false);
                meta::Builder::new()
                    .configure(engines)
                    .syntax(syntax::Config::new().unicode(false).utf8(false))
                    .build(&self.text)
                    .ok()
            });
            if let Some(re) = ascii {
                return re.is_match(path.as_bytes());
            }
        }
        let compiled =
            self.compiled.get_or_init(|| regex::RegexBuilder::new(&self.text).size_limit(1 << 30).build().ok());
        compiled.as_ref().is_some_and(|re| re.is_match(path))
    }
}

/// A rule's selection key as the config writes it: a regex's syntax is checked when the config
/// is read, the regex built when the rule is used. Decryption reads the config for its `stores`
/// settings only, and building `^(data|stringData)$` was a twentieth of a small file's
/// decryption.
#[derive(Clone, Debug)]
struct SelectionText {
    field: &'static str,
    text: String,
    line: usize,
}

/// One entry of `creation_rules`.
#[derive(Debug)]
pub struct CreationRule {
    /// 1-based position in `creation_rules`.
    pub number: usize,
    /// The line the rule starts on.
    pub line: usize,
    path_regex: Option<PathRegex>,
    age: Vec<KeyText>,
    pgp: Vec<KeyText>,
    kms: Vec<KeyText>,
    hc_vault: Vec<KeyText>,
    aws_profile: String,
    groups: Vec<GroupSpec>,
    unsupported: Vec<(String, usize)>,
    /// `shamir_threshold`.
    pub shamir_threshold: Option<usize>,
    /// The selection key (at most one of the six), built by [`CreationRule::selection`].
    selection: Option<SelectionText>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
}

impl Config {
    /// Reads and parses the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_parts(path, false)
    }

    /// Reads the config file at `path` for its `stores` settings alone, as sops's decryption
    /// does: the file must be YAML with a mapping at the top; the rules are not read (nor
    /// checked), and hold none.
    pub fn load_stores(path: &Path) -> Result<Config, ConfigError> {
        Config::load_parts(path, true)
    }

    fn load_parts(path: &Path, stores_only: bool) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: name.clone(),
            line: None,
            message: match e.kind() {
                std::io::ErrorKind::NotFound => "config file not found".into(),
                _ => format!("cannot read the config file: {e}"),
            },
        })?;
        let src = String::from_utf8(bytes).map_err(|_| ConfigError {
            file: name.clone(),
            line: None,
            message: "the config file is not UTF-8".into(),
        })?;
        let dir = absolute(path).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
        Config::parse_parts(&src, &name, dir, stores_only)
    }

    /// Parses config text; `name` is used in messages, `dir` anchors relative rule paths.
    pub fn parse(src: &str, name: &str, dir: PathBuf) -> Result<Config, ConfigError> {
        Config::parse_parts(src, name, dir, false)
    }

    /// [`Config::parse`], or with `stores_only` the `stores` settings alone (see
    /// [`Config::load_stores`]).
    fn parse_parts(src: &str, name: &str, dir: PathBuf, stores_only: bool) -> Result<Config, ConfigError> {
        let p = Parser { src, file: name };
        let doc = gitseal_formats::parse(Format::Yaml, src).map_err(|e| ConfigError {
            file: name.into(),
            line: Some(e.line),
            message: format!("invalid YAML: {}", e.message),
        })?;
        let mut cfg = Config {
            name: name.into(),
            dir,
            rules: Vec::new(),
            stores: Stores::default(),
            destinations: Vec::new(),
            warnings: vec![],
        };
        let Some(root) = doc.roots.first() else { return Ok(cfg) };
        let items = match root.node.resolved() {
            Node::Map(items) => items,
            Node::Leaf(l) if matches!(l.value, Scalar::Null) => return Ok(cfg),
            _ => return Err(p.err(1, "the top level must be a mapping (creation_rules, stores, ...)")),
        };
        for (key, value, line) in entries(items, src) {
            if stores_only && key != "stores" {
                continue;
            }
            match key {
                "creation_rules" => {
                    for (i, (node, line)) in p.list(value, line, "creation_rules")?.into_iter().enumerate() {
                        cfg.rules.push(p.rule(node, line, i + 1, &mut cfg.warnings)?);
                    }
                }
                "stores" => cfg.stores = p.stores(value, line, &mut cfg.warnings)?,
                "destination_rules" => {
                    for (i, (node, line)) in p.list(value, line, "destination_rules")?.into_iter().enumerate() {
                        cfg.destinations.push(p.destination(node, line, i + 1, &mut cfg.warnings)?);
                    }
                }
                // `keys` is the usual home of anchors.
                "keys" => {}
                other => cfg.warnings.push(p.unknown(line, other, "at the top level")),
            }
        }
        Ok(cfg)
    }

    /// The first rule whose `path_regex` matches `file` (sops: the path relative to the config
    /// directory, or the absolute path for files outside it; the search is unanchored).
    pub fn rule_for(&self, file: &Path) -> Option<&CreationRule> {
        let rel = self.match_path(file);
        self.rules.iter().find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)))
    }

    /// The first destination rule whose `path_regex` matches `file` (as [`Config::rule_for`]).
    pub fn destination_for(&self, file: &Path) -> Option<&DestinationRule> {
        let rel = self.match_path(file);
        self.destinations.iter().find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)))
    }

    /// The text `path_regex` is matched against for `file`.
    pub fn match_path(&self, file: &Path) -> String {
        let abs = absolute(file).to_string_lossy().into_owned();
        let mut dir = self.dir.to_string_lossy().into_owned();
        if !dir.ends_with('/') {
            dir.push('/');
        }
        abs.strip_prefix(&dir).map(str::to_string).unwrap_or(abs)
    }
}

impl CreationRule {
    /// The rule's `path_regex` as written; `None` when the rule matches every file.
    pub fn path_regex(&self) -> Option<&str> {
        self.path_regex.as_ref().map(|re| re.text.as_str())
    }

    /// The rule's selection key (at most one of the six), its regex built now. `config` names
    /// the config file in the error of a regex that cannot be built.
    pub fn selection(&self, config: &str) -> Result<Option<Rule>, ConfigError> {
        let Some(sel) = &self.selection else { return Ok(None) };
        Rule::from_field(sel.field, &sel.text).map_err(|e| ConfigError {
            file: config.into(),
            line: Some(sel.line),
            message: format!("invalid {}: {}", sel.field, crate::selection::regex_error(&e)),
        })
    }

    /// Where the rule is, for messages: `creation rule 2 (line 7)`.
    pub fn describe(&self) -> String {
        format!("creation rule {} (line {})", self.number, self.line)
    }

    /// The rule's master keys: `key_groups` when given, else one group of the flat keys.
    /// `context` is the KMS encryption context from the command line, used for flat KMS keys.
    pub fn key_groups(
        &self,
        config: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Vec<Vec<MasterKey>>, ConfigError> {
        let err = |line: usize, message: String| ConfigError { file: config.into(), line: Some(line), message };
        if let Some((what, line)) = self.unsupported.first().or(self.groups.iter().find_map(|g| g.unsupported.first()))
        {
            return Err(err(
                *line,
                format!("{what} is not supported by gitseal yet; use age, pgp, kms or hc_vault keys"),
            ));
        }
        let age =
            |k: &KeyText| Recipient::parse(k.text.trim()).map(MasterKey::Age).map_err(|e| err(k.line, e.to_string()));
        let pgp =
            |k: &KeyText| PgpKey::parse(k.text.trim()).map(MasterKey::Pgp).map_err(|e| err(k.line, e.to_string()));
        let vault = |k: &KeyText| {
            gitseal_keys::vault::VaultKey::parse(k.text.trim())
                .map(MasterKey::Vault)
                .map_err(|e| err(k.line, e.to_string()))
        };
        if !self.groups.is_empty() {
            let mut groups = Vec::new();
            for g in &self.groups {
                let mut keys = Vec::new();
                for k in &g.kms {
                    let key = KmsKey::new(k.arn.clone(), k.role.clone(), k.context.clone(), k.aws_profile.clone())
                        .map_err(|e| err(k.line, e.to_string()))?;
                    keys.push(MasterKey::Kms(key));
                }
                keys.extend(g.hc_vault.iter().map(vault).collect::<Result<Vec<_>, _>>()?);
                keys.extend(g.pgp.iter().map(pgp).collect::<Result<Vec<_>, _>>()?);
                keys.extend(g.age.iter().map(age).collect::<Result<Vec<_>, _>>()?);
                groups.push(keys);
            }
            return Ok(groups);
        }
        let mut keys = Vec::new();
        for k in &self.kms {
            let key =
                KmsKey::parse(&k.text, context.clone(), &self.aws_profile).map_err(|e| err(k.line, e.to_string()))?;
            keys.push(MasterKey::Kms(key));
        }
        keys.extend(self.hc_vault.iter().map(vault).collect::<Result<Vec<_>, _>>()?);
        keys.extend(self.pgp.iter().map(pgp).collect::<Result<Vec<_>, _>>()?);
        keys.extend(self.age.iter().map(age).collect::<Result<Vec<_>, _>>()?);
        Ok(if keys.is_empty() { Vec::new() } else { vec![keys] })
    }
}

/// The entries of a mapping with their 1-based lines.
fn entries<'a>(items: &'a [MapItem], src: &str) -> Vec<(&'a str, &'a Node, usize)> {
    items
        .iter()
        .filter_map(|i| match i {
            MapItem::Entry(e) => Some((e.key.as_str(), &e.value, line_of(src, e.span.start))),
            MapItem::Comment(_) => None,
        })
        .collect()
}

fn line_of(src: &str, at: usize) -> usize {
    src.as_bytes()[..at.min(src.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

struct Parser<'a> {
    src: &'a str,
    file: &'a str,
}

/// Key kinds of sops that gitseal does not implement.
const UNSUPPORTED_KINDS: [&str; 4] = ["gcp_kms", "azure_keyvault", "hckms", "merge"];

impl Parser<'_> {
    fn err(&self, line: usize, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.into(), line: Some(line), message: message.into() }
    }

    fn unknown(&self, line: usize, key: &str, place: &str) -> String {
        format!("{}: line {line}: unknown key {key:?} {place} (ignored)", self.file)
    }

    fn map<'n>(&self, node: &'n Node, line: usize, what: &str) -> Result<&'n [MapItem], ConfigError> {
        match node.resolved() {
            Node::Map(items) => Ok(items),
            _ => Err(self.err(line, format!("{what} must be a mapping"))),
        }
    }

    /// The items of a sequence with their lines (a null value is an empty list).
    fn list<'n>(&self, node: &'n Node, line: usize, what: &str) -> Result<Vec<(&'n Node, usize)>, ConfigError> {
        match node.resolved() {
            Node::Seq(items) => Ok(items
                .iter()
                .filter_map(|i| match i {
                    SeqItem::Node { start, node } => Some((node, line_of(self.src, *start))),
                    SeqItem::Comment(_) => None,
                })
                .collect()),
            Node::Leaf(l) if matches!(l.value, Scalar::Null) => Ok(Vec::new()),
            _ => Err(self.err(line, format!("{what} must be a list"))),
        }
    }

    fn string(&self, node: &Node, line: usize, what: &str) -> Result<String, ConfigError> {
        match &Value::from_node(node) {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone()),
            Value::Scalar(Scalar::Null) => Ok(String::new()),
            _ => Err(self.err(line, format!("{what} must be a string"))),
        }
    }

    fn int(&self, node: &Node, line: usize, what: &str) -> Result<i64, ConfigError> {
        match &Value::from_node(node) {
            Value::Scalar(Scalar::Int(i)) => Ok(*i),
            _ => Err(self.err(line, format!("{what} must be an integer"))),
        }
    }

    /// A key list: a comma-separated string or a YAML list of strings (sops 3.11 takes both).
    fn keys(&self, node: &Node, line: usize, what: &str) -> Result<Vec<KeyText>, ConfigError> {
        if let Node::Seq(_) = node.resolved() {
            let mut out = Vec::new();
            for (item, l) in self.list(node, line, what)? {
                let text = self.string(item, l, &format!("each entry of {what}"))?;
                if !text.trim().is_empty() {
                    out.push(KeyText { text: text.trim().to_string(), line: l });
                }
            }
            return Ok(out);
        }
        let text = self.string(node, line, &format!("{what} (a comma-separated string or a list)"))?;
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| KeyText { text: k.to_string(), line })
            .collect())
    }

    /// A `path_regex` (of a creation or destination rule); empty matches every file.
    fn path_regex(&self, node: &Node, line: usize) -> Result<Option<PathRegex>, ConfigError> {
        let text = self.string(node, line, "path_regex")?;
        if text.is_empty() {
            return Ok(None);
        }
        PathRegex::new(text)
            .map(Some)
            .map_err(|e| self.err(line, format!("invalid path_regex: {}", crate::selection::regex_error(&e))))
    }

    fn rule(
        &self,
        node: &Node,
        line: usize,
        number: usize,
        warnings: &mut Vec<String>,
    ) -> Result<CreationRule, ConfigError> {
        let place = format!("creation rule {number}");
        let mut rule = CreationRule {
            number,
            line,
            path_regex: None,
            age: vec![],
            pgp: vec![],
            kms: vec![],
            hc_vault: vec![],
            aws_profile: String::new(),
            groups: vec![],
            unsupported: vec![],
            shamir_threshold: None,
            selection: None,
            mac_only_encrypted: false,
        };
        let mut selection: Vec<(&str, usize)> = Vec::new();
        for (key, value, l) in entries(self.map(node, line, &place)?, self.src) {
            match key {
                "path_regex" => rule.path_regex = self.path_regex(value, l)?,
                "age" => rule.age = self.keys(value, l, "age")?,
                "pgp" => rule.pgp = self.keys(value, l, "pgp")?,
                "kms" => rule.kms = self.keys(value, l, "kms")?,
                "hc_vault_transit_uri" => rule.hc_vault = self.keys(value, l, "hc_vault_transit_uri")?,
                "aws_profile" => rule.aws_profile = self.string(value, l, "aws_profile")?,
                "key_groups" => {
                    for (g, gl) in self.list(value, l, "key_groups")? {
                        rule.groups.push(self.group(g, gl, &place, warnings)?);
                    }
                }
                "shamir_threshold" => {
                    let n = self.int(value, l, "shamir_threshold")?;
                    if n < 0 {
                        return Err(self.err(l, "shamir_threshold must not be negative"));
                    }
                    rule.shamir_threshold = usize::try_from(n).ok().filter(|&n| n > 0);
                }
                "mac_only_encrypted" => match &Value::from_node(value) {
                    Value::Scalar(Scalar::Bool(b)) => rule.mac_only_encrypted = *b,
                    _ => return Err(self.err(l, "mac_only_encrypted must be true or false")),
                },
                k if Rule::FIELDS.contains(&k) => {
                    let text = self.string(value, l, k)?;
                    let field = Rule::FIELDS.into_iter().find(|f| *f == k).unwrap_or_default();
                    if field.ends_with("_regex") {
                        check_syntax(&text)
                            .map(drop)
                            .map_err(|e| self.err(l, format!("invalid {k}: {}", crate::selection::regex_error(&e))))?;
                    }
                    rule.selection = Some(SelectionText { field, text, line: l });
                    selection.push((k, l));
                }
                k if UNSUPPORTED_KINDS.contains(&k) => rule.unsupported.push((k.to_string(), l)),
                other => warnings.push(self.unknown(l, other, &format!("in {place}"))),
            }
        }
        if selection.len() > 1 {
            let names: Vec<&str> = selection.iter().map(|(k, _)| *k).collect();
            return Err(self.err(
                selection[1].1,
                format!("{place} uses {}; a rule can use only one of the six selection keys", names.join(" and ")),
            ));
        }
        Ok(rule)
    }

    fn destination(
        &self,
        node: &Node,
        line: usize,
        number: usize,
        warnings: &mut Vec<String>,
    ) -> Result<DestinationRule, ConfigError> {
        let place = format!("destination rule {number}");
        let mut path_regex = None;
        let mut omit_extensions = false;
        let mut fields: BTreeMap<&str, (String, usize)> = BTreeMap::new();
        let mut version: Option<(i64, usize)> = None;
        let mut recreation = None;
        for (key, value, l) in entries(self.map(node, line, &place)?, self.src) {
            match key {
                "path_regex" => path_regex = self.path_regex(value, l)?,
                "omit_extensions" => match &Value::from_node(value) {
                    Value::Scalar(Scalar::Bool(b)) => omit_extensions = *b,
                    _ => return Err(self.err(l, "omit_extensions must be true or false")),
                },
                "vault_kv_version" => version = Some((self.int(value, l, "vault_kv_version")?, l)),
                k @ ("vault_path"
                | "vault_address"
                | "vault_kv_mount_name"
                | "s3_bucket"
                | "s3_prefix"
                | "gcs_bucket"
                | "gcs_prefix") => {
                    fields.insert(k, (self.string(value, l, k)?, l));
                }
                // The creation rule S3 and GCS copies are re-encrypted with.
                "reencryption_rule" | "recreation_rule" => recreation = Some(self.rule(value, l, number, warnings)?),
                other => warnings.push(self.unknown(l, other, &format!("in {place}"))),
            }
        }
        let get = |k: &str| fields.get(k).map(|(v, _)| v.clone()).filter(|v| !v.is_empty());
        let kinds: Vec<&str> = [("s3_bucket", "S3"), ("gcs_bucket", "GCS"), ("vault_path", "Vault")]
            .iter()
            .filter(|(k, _)| get(k).is_some())
            .map(|(_, n)| *n)
            .collect();
        let target =
            match kinds.as_slice() {
                ["S3"] => Destination::S3 {
                    bucket: get("s3_bucket").unwrap_or_default(),
                    prefix: get("s3_prefix").unwrap_or_default(),
                },
                ["GCS"] => Destination::Gcs {
                    bucket: get("gcs_bucket").unwrap_or_default(),
                    prefix: get("gcs_prefix").unwrap_or_default(),
                },
                ["Vault"] => {
                    let version = match version {
                        None => 2,
                        Some((v @ (1 | 2), _)) => v as u8,
                        Some((v, l)) => return Err(self.err(l, format!("vault_kv_version must be 1 or 2, not {v}"))),
                    };
                    // As sops: VAULT_ADDR, else Vault's own default.
                    let address = get("vault_address")
                        .or_else(|| std::env::var("VAULT_ADDR").ok().filter(|a| !a.is_empty()))
                        .unwrap_or_else(|| "https://127.0.0.1:8200".into());
                    let mount = get("vault_kv_mount_name").unwrap_or_else(|| "secret/".into());
                    Destination::Vault { address, mount, version, path: get("vault_path").unwrap_or_default() }
                }
                [] => {
                    return Err(self
                        .err(line, format!("{place} names no destination: set s3_bucket, gcs_bucket or vault_path")))
                }
                many => {
                    return Err(self
                        .err(line, format!("{place} names more than one destination ({}); use one", many.join(", "))))
                }
            };
        Ok(DestinationRule { number, path_regex, target, omit_extensions, recreation })
    }

    fn group(
        &self,
        node: &Node,
        line: usize,
        place: &str,
        warnings: &mut Vec<String>,
    ) -> Result<GroupSpec, ConfigError> {
        let mut g = GroupSpec::default();
        for (key, value, l) in entries(self.map(node, line, "each entry of key_groups")?, self.src) {
            match key {
                "age" => g.age = self.keys(value, l, "age")?,
                "pgp" => g.pgp = self.keys(value, l, "pgp")?,
                "hc_vault" => g.hc_vault = self.keys(value, l, "hc_vault")?,
                "kms" => {
                    for (k, kl) in self.list(value, l, "kms in a key group")? {
                        g.kms.push(self.kms_entry(k, kl, warnings)?);
                    }
                }
                k if UNSUPPORTED_KINDS.contains(&k) => g.unsupported.push((k.to_string(), l)),
                other => warnings.push(self.unknown(l, other, &format!("in a key group of {place}"))),
            }
        }
        Ok(g)
    }

    fn kms_entry(&self, node: &Node, line: usize, warnings: &mut Vec<String>) -> Result<KmsEntry, ConfigError> {
        let mut k =
            KmsEntry { arn: String::new(), role: None, context: BTreeMap::new(), aws_profile: String::new(), line };
        let items = self.map(node, line, "a kms entry of a key group ({arn: ..., role: ..., context: ...})")?;
        for (key, value, l) in entries(items, self.src) {
            match key {
                "arn" => k.arn = self.string(value, l, "arn")?,
                "role" => k.role = Some(self.string(value, l, "role")?),
                "aws_profile" => k.aws_profile = self.string(value, l, "aws_profile")?,
                "context" => {
                    for (ck, cv, cl) in entries(self.map(value, l, "context")?, self.src) {
                        k.context.insert(ck.to_string(), self.string(cv, cl, "a context value")?);
                    }
                }
                other => warnings.push(self.unknown(l, other, "in a kms entry")),
            }
        }
        if k.arn.is_empty() {
            return Err(self.err(line, "a kms entry of a key group needs an arn"));
        }
        Ok(k)
    }

    fn stores(&self, node: &Node, line: usize, warnings: &mut Vec<String>) -> Result<Stores, ConfigError> {
        let mut s = Stores::default();
        for (key, value, l) in entries(self.map(node, line, "stores")?, self.src) {
            match key {
                "yaml" | "json" | "json_binary" | "dotenv" | "ini" => {}
                other => {
                    warnings.push(self.unknown(l, other, "in stores"));
                    continue;
                }
            }
            for (opt, v, ol) in entries(self.map(value, l, &format!("stores.{key}"))?, self.src) {
                if opt != "indent" || key == "dotenv" || key == "ini" {
                    warnings.push(self.unknown(ol, opt, &format!("in stores.{key}")));
                    continue;
                }
                let n = self.int(v, ol, &format!("stores.{key}.indent"))?;
                let indent = match (key, n) {
                    ("yaml", n) if n >= 0 => Some(n as usize),
                    ("yaml", _) => return Err(self.err(ol, "stores.yaml.indent must not be negative")),
                    (_, -1) => None,
                    (_, n) if n >= 0 => Some(n as usize),
                    _ => return Err(self.err(ol, format!("stores.{key}.indent must be -1 (a tab) or more"))),
                };
                match key {
                    "yaml" => s.yaml_indent = indent,
                    "json" => s.json_indent = indent,
                    _ => s.json_binary_indent = indent,
                }
            }
        }
        Ok(s)
    }
}

/// `path` made absolute against the working directory and cleaned of `.` and `..` without
/// touching the file system (Go's `filepath.Abs`).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(path)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(src: &str) -> Config {
        Config::parse(src, ".sops.yaml", PathBuf::from("/repo")).unwrap()
    }

    #[test]
    fn first_matching_rule_wins_and_regex_is_unanchored() {
        let c = cfg("creation_rules:\n  - path_regex: prod\n    age: a\n  - path_regex: ''\n    age: b\n");
        assert_eq!(c.rule_for(Path::new("/repo/x/prod/a.yaml")).unwrap().number, 1);
        assert_eq!(c.rule_for(Path::new("/repo/dev.yaml")).unwrap().number, 2);
        assert_eq!(c.match_path(Path::new("/repo/sub/a.yaml")), "sub/a.yaml");
        assert_eq!(c.match_path(Path::new("/elsewhere/a.yaml")), "/elsewhere/a.yaml");
    }

    /// On an ASCII path the automaton without Unicode matches where the Unicode one does, for
    /// patterns whose two readings differ only on other characters (case folding, word
    /// characters and boundaries, negated classes, `.`, escapes past ASCII); patterns that need
    /// Unicode fall back to it, and other paths always take it.
    #[test]
    fn ascii_paths_match_as_the_unicode_pattern_matches() {
        let patterns = [
            r"examples/.*secret.*\.yaml$",
            r"(?i)K8S/.*\.YAML$",
            r"(?i)ks",
            r"\bprod\b",
            r"^\w+/\w+\.ya?ml$",
            r"[^a]\.env$",
            r"\W",
            r"\S+\s",
            r"^.{3}$",
            r"(?s)a.b",
            r"\xFF",
            r"[\x00-\xFF]+",
            r"[^\x00-\x7F]",
            r"\d{2}",
            r"[[:alpha:]]+\.json",
            r"\pL+/",
            r"[é]",
            r"é",
            "",
        ];
        let paths = [
            "examples/db-secret.yaml",
            "k8s/app.yaml",
            "K8S/APP.YAML",
            "ks",
            "KS",
            "prod/app.yaml",
            "production/a.yaml",
            "a b",
            "a.env",
            "b.env",
            "abc",
            "a\nb",
            "ab12",
            "x.json",
            "",
            "ÿ",
            "é/a.yaml",
            "K\u{212a}s",
        ];
        for p in patterns {
            let re = PathRegex::new(p.to_string()).unwrap();
            let unicode = Regex::new(p).unwrap();
            for path in paths {
                assert_eq!(re.is_match(path), unicode.is_match(path), "{p:?} on {path:?}");
            }
        }
        // A path without a literal every match starts with is answered without an automaton.
        let re = PathRegex::new(r"examples/.*secret.*\.yaml$".into()).unwrap();
        assert!(!re.is_match("k8s/examples.yaml") && re.ascii.get().is_none() && re.compiled.get().is_none());
        // The ASCII automaton is what answered where it could be built.
        let re = PathRegex::new(r"examples/.*secret.*\.yaml$".into()).unwrap();
        assert!(re.is_match("examples/db-secret.yaml"));
        assert!(re.ascii.get().is_some_and(Option::is_some) && re.compiled.get().is_none());
        let re = PathRegex::new(r"\pL+/".into()).unwrap();
        assert!(re.is_match("ab/c"));
        assert!(re.ascii.get().is_some_and(Option::is_none) && re.compiled.get().is_some());
    }

    /// Read for its stores alone, a config gives its stores and no rules, whatever its rules
    /// hold; a config that is no YAML, or whose stores are wrong, is still refused.
    #[test]
    fn a_config_read_for_its_stores_reads_nothing_else() {
        let text = "creation_rules:\n  - path_regex: '('\n    shamir_threshold: two\nunknown: 1\nstores:\n  yaml:\n    indent: 2\n";
        assert!(Config::parse(text, "c", PathBuf::from("/")).is_err());
        let c = Config::parse_parts(text, "c", PathBuf::from("/"), true).unwrap();
        assert_eq!(c.stores.indent_for(Format::Yaml), Some(2));
        assert!(c.rules.is_empty() && c.warnings.is_empty(), "{:?}", c.warnings);
        for bad in ["creation_rules: [\n", "stores:\n  yaml:\n    indent: -2\n", "- a\n"] {
            assert!(Config::parse_parts(bad, "c", PathBuf::from("/"), true).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = Config::parse("creation_rules:\n  - path_regex: '('\n", ".sops.yaml", PathBuf::from("/")).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = Config::parse("creation_rules:\n  - shamir_threshold: x\n", "c", PathBuf::from("/")).unwrap_err();
        assert!(e.to_string().starts_with("c: line 2: shamir_threshold"), "{e}");
    }

    #[test]
    fn two_selection_keys_are_refused() {
        let e = Config::parse("creation_rules:\n  - encrypted_regex: a\n    encrypted_suffix: b\n", "c", "/".into())
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    /// A selection regex's syntax is checked when the config is read; the regex is built when
    /// the rule is used, and one too large to build is then an error naming the config and line.
    #[test]
    fn selection_regexes_are_checked_when_read_and_built_when_used() {
        let c = Config::parse("creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n", "c", "/".into()).unwrap();
        let Some(Rule::EncryptedRegex(re)) = c.rules[0].selection("c").unwrap() else { panic!("not the regex rule") };
        assert!(re.is_match("stringData") && !re.is_match("metadata"));
        let e = Config::parse("creation_rules:\n  - age: x\n    encrypted_regex: '(x'\n", "c", "/".into()).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (Some(3), "invalid encrypted_regex: unclosed group"), "{e}");
        let huge =
            Config::parse("creation_rules:\n  - unencrypted_regex: '(\\w{100}){100}'\n", "c", "/".into()).unwrap();
        let e = huge.rules[0].selection("c.yaml").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("c.yaml", Some(2)), "{e}");
        assert!(e.message.starts_with("invalid unencrypted_regex: ") && !e.message.contains('\n'), "{e}");
        assert!(cfg("creation_rules:\n  - age: x\n").rules[0].selection("c").unwrap().is_none());
    }

    #[test]
    fn empty_config_has_no_rules() {
        assert!(cfg("").rules.is_empty());
        assert!(cfg("# only a comment\n").rules.is_empty());
    }

    #[test]
    fn absolute_cleans_dots() {
        assert_eq!(absolute(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
    }
}
