//! A plain value tree without spans, used for metadata and for values built by the envelope.

use crate::model::{MapItem, Node, Scalar, SeqItem};

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
