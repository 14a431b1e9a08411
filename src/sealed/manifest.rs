//! Reading a stream of Kubernetes manifests (multi-document YAML, or JSON) and writing objects
//! the way diffs like them: keys sorted, two-space indentation, nothing injected.

use gitseal_formats::WriteOptions;
use gitseal_formats::{Document, Format, Root, Scalar, Value};

/// Output formats of `seal`/`unseal` (kubeseal `-o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Pretty JSON, two-space indent, one object after another.
    Json,
    /// YAML, each document preceded by `---`.
    Yaml,
}

impl OutputFormat {
    /// Parses `json` or `yaml`.
    pub fn parse(s: &str) -> Option<OutputFormat> {
        match s {
            "json" => Some(OutputFormat::Json),
            "yaml" | "yml" => Some(OutputFormat::Yaml),
            _ => None,
        }
    }
}

/// The objects of a manifest stream, in order: YAML documents (empty ones skipped), or one
/// JSON value; `kind: List` (and `*List`) objects are replaced by their `items`.
/// Errors name the line and column (the caller adds the file).
pub fn parse_stream(text: &str) -> Result<Vec<Value>, String> {
    let format = if text.trim_start().starts_with(['{', '[']) { Format::Json } else { Format::Yaml };
    let doc = gitseal_formats::parse(format, text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for root in &doc.roots {
        let v = Value::from_node(&root.node);
        match v {
            Value::Scalar(Scalar::Null) => {}
            Value::Map(ref m) if m.is_empty() => {}
            Value::Seq(items) => out.extend(items),
            Value::Map(_) if is_list(&v) => match v.get("items") {
                Some(Value::Seq(items)) => out.extend(items.iter().cloned()),
                Some(Value::Scalar(Scalar::Null)) | None => {}
                Some(_) => return Err("the items of a List must be a sequence".into()),
            },
            Value::Map(_) => out.push(v),
            Value::Scalar(_) => return Err("a document is a scalar, not a Kubernetes object".into()),
        }
    }
    Ok(out)
}

fn is_list(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str).is_some_and(|k| k == "List" || k.ends_with("List"))
        && v.get("items").is_some()
}

/// Writes objects in `format`, keys sorted at every level.
pub fn emit(objects: &[Value], format: OutputFormat) -> Result<String, String> {
    let mut out = String::new();
    for obj in objects {
        let doc = Document {
            format: Format::Yaml,
            roots: vec![Root { node: obj.sorted().to_node(), end: 0 }],
            indent: Some(2),
        };
        let opts = WriteOptions { indent: Some(2), ..WriteOptions::default() };
        match format {
            OutputFormat::Yaml => {
                out.push_str("---\n");
                out.push_str(&gitseal_formats::emit(&doc, Format::Yaml, opts).map_err(|e| e.to_string())?);
            }
            OutputFormat::Json => {
                out.push_str(&gitseal_formats::emit(&doc, Format::Json, opts).map_err(|e| e.to_string())?)
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_streams_json_and_lists() {
        let yaml = "---\n# only a comment\n---\nkind: Secret\nmetadata: {name: a}\n---\nkind: List\nitems:\n- kind: Secret\n- kind: Secret\n";
        assert_eq!(parse_stream(yaml).unwrap().len(), 3);
        let json = r#"{"kind":"Secret","metadata":{"name":"a"}}"#;
        assert_eq!(parse_stream(json).unwrap().len(), 1);
        assert!(parse_stream("just text").unwrap_err().contains("scalar"));
        assert!(parse_stream("{\"kind\": ").is_err());
    }

    #[test]
    fn writes_sorted_keys() {
        let v = parse_stream("kind: Secret\napiVersion: v1\nmetadata:\n  name: a\n  labels: {z: '1', a: 'true'}\n")
            .unwrap();
        let yaml = emit(&v, OutputFormat::Yaml).unwrap();
        assert_eq!(
            yaml,
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  labels:\n    a: \"true\"\n    z: \"1\"\n  name: a\n"
        );
        let json = emit(&v, OutputFormat::Json).unwrap();
        assert!(json.starts_with("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Secret\""), "{json}");
        assert!(json.ends_with("}\n"));
    }
}
