//! The plaintext fixtures in `tests/fixtures/`, and ways to compare what tools make of them.
//!
//! Every file there is picked up by the table-driven tests; its format comes from its suffix,
//! as sops detects it (`.yaml`, `.json`, `.env`, anything else is binary).

use std::path::PathBuf;

use serde_json::Value;

use crate::peers::fixtures_dir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Binary,
}

#[derive(Clone, Debug)]
pub struct Fixture {
    /// File name, e.g. `nested.yaml`.
    pub name: String,
    pub format: Format,
}

impl Fixture {
    pub fn path(&self) -> PathBuf {
        fixtures_dir().join(&self.name)
    }

    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(self.path()).unwrap_or_else(|e| panic!("fixture {}: {e}", self.name))
    }

    /// `nested.yaml` with infix `sops` -> `nested.sops.yaml` (keeps the suffix, so the format is
    /// detected the same way).
    pub fn sibling(&self, infix: &str) -> String {
        match self.name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{infix}.{ext}"),
            None => format!("{}.{infix}", self.name),
        }
    }

    /// A YAML stream with more than one document.
    pub fn is_multi_doc(&self) -> bool {
        self.format == Format::Yaml && String::from_utf8_lossy(&self.bytes()).contains("\n---")
    }
}

fn format_of(name: &str) -> Format {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("yaml") | Some("yml") => Format::Yaml,
        Some("json") => Format::Json,
        Some("env") => Format::Dotenv,
        _ => Format::Binary,
    }
}

/// Every fixture, sorted by name (dotfiles such as `.gitattributes` are not fixtures).
pub fn all() -> Vec<Fixture> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("read tests/fixtures")
        .map(|entry| entry.expect("fixture dir entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in tests/fixtures");
    names.into_iter().map(|name| Fixture { format: format_of(&name), name }).collect()
}

/// Every fixture that is not binary.
pub fn text() -> Vec<Fixture> {
    all().into_iter().filter(|f| f.format != Format::Binary).collect()
}

/// One fixture by name.
pub fn get(name: &str) -> Fixture {
    all().into_iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no fixture named {name}"))
}

/// Runs `check` for every fixture and fails once at the end, listing every fixture that failed.
pub fn for_each(fixtures: Vec<Fixture>, mut check: impl FnMut(&Fixture) -> Result<(), String>) {
    let failures: Vec<String> = fixtures
        .iter()
        .filter_map(|fixture| check(fixture).err().map(|e| format!("  {}: {e}", fixture.name)))
        .collect();
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// Parses a JSON text that may hold several values one after another (sops and gitseal write one
/// value per YAML document).
pub fn json_docs(bytes: &[u8]) -> Result<Vec<Value>, String> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not JSON ({e}): {}", excerpt(bytes)))
}

/// Numbers compare as f64, so `1000`, `1e3` and `1000.0` are equal. Integers compare exactly;
/// anything else within a few ulps, since serde_json (without `float_roundtrip`) may parse
/// `9007199254740991.0` one ulp off.
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    let (x, y) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
    x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
}

/// Compares two JSON outputs as values (numbers as f64, object keys in any order). With `first_doc_only`, only the first value of each is
/// compared (sops writes only the first document of a multi-document YAML file as JSON).
pub fn same_json(
    left_name: &str,
    left: &[u8],
    right_name: &str,
    right: &[u8],
    first_doc_only: bool,
) -> Result<(), String> {
    let mut l = json_docs(left).map_err(|e| format!("{left_name}: {e}"))?;
    let mut r = json_docs(right).map_err(|e| format!("{right_name}: {e}"))?;
    if first_doc_only {
        l.truncate(1);
        r.truncate(1);
    }
    if l.len() != r.len() {
        return Err(format!("{left_name} has {} JSON value(s), {right_name} has {}", l.len(), r.len()));
    }
    for (i, (a, b)) in l.iter().zip(&r).enumerate() {
        if let Some(at) = first_difference(a, b, String::new()) {
            return Err(format!(
                "{left_name} and {right_name} differ in document {i} at {at}\n{left_name}:\n{}\n{right_name}:\n{}",
                pretty(a),
                pretty(b)
            ));
        }
    }
    Ok(())
}

/// The path of the first place where two values differ, e.g. `.servers[1].name: "a" vs "b"`.
fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k}: missing on the right")),
                }
            }
            y.keys().find(|k| !x.contains_key(*k)).map(|k| format!("{path}.{k}: missing on the left"))
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(v, w, format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: {} vs {} items", x.len(), y.len()))
        }
        (Value::Number(x), Value::Number(y)) if same_number(x, y) => None,
        _ => (a != b).then(|| format!("{}: {a} vs {b}", if path.is_empty() { "." } else { &path })),
    }
}

fn pretty(v: &Value) -> String {
    excerpt(serde_json::to_string_pretty(v).unwrap_or_default().as_bytes())
}

/// At most 60 lines of a text, for failure messages.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= 60 {
        text.into_owned()
    } else {
        format!("{}\n… ({} more lines)", lines[..60].join("\n"), lines.len() - 60)
    }
}

/// Compares bytes; on a difference says where (line and both versions of that line).
pub fn same_bytes(expected: &[u8], actual: &[u8]) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let at = expected.iter().zip(actual).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
    let line = expected[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let line_of = |bytes: &[u8]| -> String {
        let start = bytes[..at.min(bytes.len())].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let end = bytes[start..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| start + p);
        format!("{:?}", String::from_utf8_lossy(&bytes[start..end]))
    };
    Err(format!(
        "bytes differ at offset {at} (line {line}; lengths {} vs {}):\n  expected: {}\n  actual:   {}",
        expected.len(),
        actual.len(),
        line_of(expected),
        line_of(actual)
    ))
}

/// The part of an encrypted YAML file before its first top-level `sops:` block.
pub fn yaml_body(text: &str) -> &str {
    if text.starts_with("sops:") {
        return "";
    }
    match text.find("\nsops:") {
        Some(at) => &text[..at + 1],
        None => text,
    }
}

/// Every `key: value` in the data part of a YAML text, in order, as (key, value text). For a
/// block scalar (`key: |-`) the value text is the first line of its content. List item markers
/// (`- `) and quotes are looked through: `- "ENC[…]"` has the value text `ENC[…]"`.
pub fn yaml_pairs(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = yaml_body(text).lines().collect();
    let mut pairs = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let item = line.trim_start().trim_start_matches("- ").trim_start();
        if item.starts_with('#') {
            continue;
        }
        let Some((key, value)) = item.split_once(": ").or_else(|| item.strip_suffix(':').map(|k| (k, ""))) else {
            continue;
        };
        let mut value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            value = lines.get(i + 1).map_or("", |next| next.trim());
        }
        let value = value.trim_start_matches(['"', '\'']);
        pairs.push((key.trim().trim_matches(['"', '\'']).to_string(), value.to_string()));
    }
    pairs
}

/// The value texts of a key (every occurrence, at any depth) in a YAML text.
pub fn key_values(text: &str, key: &str) -> Vec<String> {
    yaml_pairs(text).into_iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect()
}

/// The keys whose value is an `ENC[…]` string, sorted, in the data part of an encrypted YAML file.
pub fn encrypted_keys(text: &str) -> Vec<String> {
    let mut keys: Vec<String> =
        yaml_pairs(text).into_iter().filter(|(_, v)| v.starts_with("ENC[")).map(|(k, _)| k).collect();
    keys.sort();
    keys
}

/// How many `ENC[` strings (values and comments) the data part of an encrypted YAML file holds.
pub fn enc_count(text: &str) -> usize {
    yaml_body(text).matches("ENC[").count()
}

/// A text without its comment lines (for comparing YAML that sops re-emitted).
pub fn without_comment_lines(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}
