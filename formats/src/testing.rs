//! Helpers shared by the codecs' tests.

use crate::model::{Document, Entry, MapItem, Node, Scalar};
use crate::WriteOptions;

/// Write options that add and remove nothing.
pub(crate) fn opts() -> WriteOptions<'static> {
    WriteOptions::default()
}

/// Gives the top-level leaf `key` a new value, marked changed, as the envelope does.
pub(crate) fn set(doc: &mut Document, key: &str, value: Scalar) {
    let Node::Map(items) = &mut doc.roots[0].node else { panic!("the top level is not a mapping") };
    for item in items {
        if let MapItem::Entry(Entry { key: k, value: Node::Leaf(l), .. }) = item {
            if k == key {
                l.value = value.clone();
                l.changed = true;
            }
        }
    }
}
