//! The INI codec (being written; not selectable from the command line yet).

use crate::{Document, EmitError, ParseError, WriteOptions};
use crate::Value;

pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    Err(ParseError::at(src, 0, "the INI format is not available yet"))
}

pub(crate) fn write(_doc: &Document, _src: &str, _opts: WriteOptions<'_>) -> Result<String, EmitError> {
    Err(EmitError { format: "ini", message: "the INI format is not available yet".into() })
}

pub(crate) fn emit(_doc: &Document, _opts: WriteOptions<'_>) -> Result<String, EmitError> {
    Err(EmitError { format: "ini", message: "the INI format is not available yet".into() })
}

pub(crate) fn metadata(_doc: &Document) -> Option<Value> {
    None
}

pub(crate) fn has_metadata(_doc: &Document) -> bool {
    false
}
