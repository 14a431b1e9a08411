//! A plain value tree without spans, used for metadata and for values built by the envelope.

use crate::model::{Entry, Leaf, MapItem, Node, Scalar, SeqItem, Span};

/// A plain value tree (no spans, no comments).
#[derive(Clone, PartialEq)]
pub enum Value {
    /// A mapping with ordered keys.
    Map(Vec<(String, Value)>),
    /// A sequence.
    Seq(Vec<Value>),
    /// A scalar.
    Scalar(Scalar),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Map(items) => f.debug_map().entries(items.iter().map(|(k, v)| (k, v))).finish(),
            Value::Seq(items) => f.debug_list().entries(items).finish(),
            Value::Scalar(s) => s.fmt(f),
        }
    }
}

impl Value {
    /// A string scalar.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Scalar(Scalar::Str(s.into()))
    }

    /// The tree of a parsed node, comments dropped.
    pub fn from_node(node: &Node) -> Value {
        match node.resolved() {
            Node::Alias(a) => Value::from_node(&a.node),
            Node::Map(items) => Value::Map(
                items
                    .iter()
                    .filter_map(|i| match i {
                        MapItem::Entry(e) => Some((e.key.clone(), Value::from_node(&e.value))),
                        MapItem::Comment(_) => None,
                    })
                    .collect(),
            ),
            Node::Seq(items) => Value::Seq(
                items
                    .iter()
                    .filter_map(|i| match i {
                        SeqItem::Node { node, .. } => Some(Value::from_node(node)),
                        SeqItem::Comment(_) => None,
                    })
                    .collect(),
            ),
            Node::Leaf(l) => Value::Scalar(l.value.clone()),
        }
    }

    /// The value as a node tree without spans (plain style), so that the codecs' emitters, which
    /// write node trees, write values too.
    pub fn to_node(&self) -> Node {
        match self {
            Value::Scalar(s) => Node::Leaf(Leaf::new(s.clone())),
            Value::Map(items) => Node::Map(
                items
                    .iter()
                    .map(|(k, v)| MapItem::Entry(Entry { key: k.clone(), span: Span::default(), value: v.to_node() }))
                    .collect(),
            ),
            Value::Seq(items) => {
                Node::Seq(items.iter().map(|v| SeqItem::Node { start: 0, node: v.to_node() }).collect())
            }
        }
    }

    /// The value with every mapping's keys sorted, at every level.
    pub fn sorted(&self) -> Value {
        match self {
            Value::Map(items) => {
                let mut items: Vec<(String, Value)> = items.iter().map(|(k, v)| (k.clone(), v.sorted())).collect();
                items.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Map(items)
            }
            Value::Seq(items) => Value::Seq(items.iter().map(Value::sorted).collect()),
            Value::Scalar(s) => Value::Scalar(s.clone()),
        }
    }

    /// The value without its nulls (entries and items that are null are left out), for formats
    /// that cannot hold one; `None` when the value itself is null.
    pub fn without_nulls(&self) -> Option<Value> {
        Some(match self {
            Value::Scalar(Scalar::Null) => return None,
            Value::Scalar(s) => Value::Scalar(s.clone()),
            Value::Map(items) => {
                Value::Map(items.iter().filter_map(|(k, v)| Some((k.clone(), v.without_nulls()?))).collect())
            }
            Value::Seq(items) => Value::Seq(items.iter().filter_map(Value::without_nulls).collect()),
        })
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string when this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Scalar(Scalar::Str(s)) | Value::Scalar(Scalar::Time(s)) => Some(s),
            _ => None,
        }
    }
}
