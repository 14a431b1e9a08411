//! Log lines as the upstream controller writes them with Go's slog: text
//! (`time=... level=INFO msg="..." key=value`) or JSON, info and debug to stdout (with
//! `--log-info-stdout`, the default), warnings and errors to stderr. Callers pass only names,
//! fingerprints and error messages: never a decrypted value.

use std::io::Write;
use std::sync::OnceLock;

use crate::config::LogFormat;

/// Severity, ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something an operator should look at.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    /// Parses slog's level names, case-insensitively.
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_uppercase().as_str() {
            "DEBUG" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            "WARN" | "WARNING" => Some(Level::Warn),
            "ERROR" => Some(Level::Error),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

struct Logger {
    level: Level,
    format: LogFormat,
    info_stdout: bool,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Sets the process's logger (first call wins; without one, nothing is logged, as in tests).
pub fn init(level: Level, format: LogFormat, info_stdout: bool) {
    let _ = LOGGER.set(Logger { level, format, info_stdout });
}

/// Writes one line when `level` is enabled.
pub fn log(level: Level, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    let Some(logger) = LOGGER.get() else { return };
    if level < logger.level {
        return;
    }
    let line = format_line(logger.format, level, &now_rfc3339_millis(), msg, fields);
    if level <= Level::Info && logger.info_stdout {
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    } else {
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// One line (with its newline) in the given format.
pub fn format_line(
    format: LogFormat,
    level: Level,
    time: &str,
    msg: &str,
    fields: &[(&str, &dyn std::fmt::Display)],
) -> String {
    match format {
        LogFormat::Json => {
            let mut obj = serde_json::Map::new();
            obj.insert("time".into(), time.into());
            obj.insert("level".into(), level.as_str().into());
            obj.insert("msg".into(), msg.into());
            for (k, v) in fields {
                obj.insert((*k).into(), v.to_string().into());
            }
            format!("{}\n", serde_json::Value::Object(obj))
        }
        LogFormat::Text => {
            let mut line = format!("time={time} level={} msg={}", level.as_str(), text_value(msg));
            for (k, v) in fields {
                line.push_str(&format!(" {k}={}", text_value(&v.to_string())));
            }
            line.push('\n');
            line
        }
    }
}

/// slog's text quoting: bare when the value has no space, quote, `=` or control character.
fn text_value(s: &str) -> String {
    let needs_quotes = s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control());
    if needs_quotes {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

fn now_rfc3339_millis() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let base = crate::duration::rfc3339(now.as_secs() as i64);
    format!("{}.{:03}Z", base.trim_end_matches('Z'), now.subsec_millis())
}

/// `info("msg", &[("key", &value)])`.
pub fn info(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Info, msg, fields);
}

/// A warning line.
pub fn warn(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Warn, msg, fields);
}

/// An error line.
pub fn error(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Error, msg, fields);
}

/// A debug line.
pub fn debug(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Debug, msg, fields);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_quote_like_slog() {
        let line = format_line(
            LogFormat::Text,
            Level::Info,
            "2026-01-02T03:04:05.000Z",
            "SealedSecret unsealed",
            &[("namespace", &"prod"), ("error", &"no key could decrypt secret")],
        );
        assert_eq!(
            line,
            "time=2026-01-02T03:04:05.000Z level=INFO msg=\"SealedSecret unsealed\" namespace=prod error=\"no key could decrypt secret\"\n"
        );
    }

    #[test]
    fn json_lines_are_objects() {
        let line = format_line(LogFormat::Json, Level::Warn, "t", "key Secret ignored", &[("secret", &"k1")]);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["msg"], "key Secret ignored");
        assert_eq!(v["secret"], "k1");
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
    }
}
