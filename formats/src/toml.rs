//! The TOML codec (being written; not selectable from the command line yet).

use crate::{Document, EmitError, ParseError, WriteOptions};

pub(crate) fn parse(src: &str) -> Result<Document, ParseError> {
    Err(ParseError::at(src, 0, "the TOML format is not available yet"))
}

pub(crate) fn write(_doc: &Document, _src: &str, _opts: WriteOptions<'_>) -> Result<String, EmitError> {
    Err(EmitError { format: "toml", message: "the TOML format is not available yet".into() })
}

pub(crate) fn emit(_doc: &Document, _opts: WriteOptions<'_>) -> Result<String, EmitError> {
    Err(EmitError { format: "toml", message: "the TOML format is not available yet".into() })
}
