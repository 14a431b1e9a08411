//! How a plain YAML scalar resolves to a type, following go-yaml v3 (what sops uses): YAML 1.2
//! core schema plus 1.1 octals (`0777`), `_` digit separators, and plain timestamps.

use crate::model::Scalar;
use crate::scalar::{parse_offset, valid, Timestamp};

/// The outcome of resolving a plain scalar.
pub(crate) enum Resolved {
    /// A value sops can hold.
    Value(Scalar),
    /// An integer above `i64::MAX` but within `u64`: sops cannot walk it.
    Unsigned,
}

/// Resolves plain scalar text as go-yaml v3 does for an untyped target.
/// True when [`resolve_plain`] reads `text` as a string, known without building the value (most
/// plain scalars: anything that does not start like a number and is no null, boolean or
/// special float word).
pub(crate) fn plain_is_str(text: &str) -> bool {
    match text.as_bytes().first() {
        None => false,
        Some(b) if b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'~') => false,
        Some(_) => !matches!(text, "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"),
    }
}

/// Whether plain `text` reads as a string, found without copying it into a value. As a mapping
/// key: sops accepts only string keys (the parse refuses any other, and the read-back pass
/// leaves such a text to the parse). As a value to write: plain, it reads back as itself.
pub(crate) fn plain_reads_as_str(text: &str) -> bool {
    plain_is_str(text) || matches!(resolve_plain(text), Resolved::Value(Scalar::Str(_)))
}

/// Whether plain `text`, as a value, is an integer beyond 64 signed bits, which the parse
/// refuses.
pub(crate) fn plain_is_unsigned(text: &str) -> bool {
    !plain_is_str(text) && matches!(resolve_plain(text), Resolved::Unsigned)
}

pub(crate) fn resolve_plain(text: &str) -> Resolved {
    use Resolved::Value as V;
    if plain_is_str(text) {
        return V(Scalar::Str(text.to_string()));
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return V(Scalar::Null),
        "true" | "True" | "TRUE" => return V(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return V(Scalar::Bool(false)),
        ".nan" | ".NaN" | ".NAN" => return V(Scalar::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return V(Scalar::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return V(Scalar::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        return match go_parse_float(text) {
            Some(f) => V(Scalar::Float(f)),
            None => V(Scalar::Str(text.to_string())),
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return V(Scalar::Str(text.to_string()));
    }
    if let Some(t) = parse_timestamp(text) {
        return V(Scalar::Time(t.to_rfc3339_nano()));
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    match parse_int_base0(&plain) {
        Some(IntValue::Signed(i)) => return V(Scalar::Int(i)),
        Some(IntValue::Unsigned) => return Resolved::Unsigned,
        None => {}
    }
    if is_yaml_float(&plain) {
        if let Some(f) = go_parse_float(&plain) {
            return V(Scalar::Float(f));
        }
    }
    V(Scalar::Str(text.to_string()))
}

enum IntValue {
    Signed(i64),
    Unsigned,
}

/// Go's `strconv.ParseInt(s, 0, 64)` falling back to `ParseUint`: sign, then `0x`, `0o`, `0b`
/// or a leading `0` (octal) prefix. (The `0b`/`0o` fallbacks of go-yaml reduce to the same.)
fn parse_int_base0(s: &str) -> Option<IntValue> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u128 + 1 {
            return Some(IntValue::Signed((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    if magnitude <= i64::MAX as u128 {
        Some(IntValue::Signed(magnitude as i64))
    } else if magnitude <= u64::MAX as u128 && !s.starts_with('+') {
        Some(IntValue::Unsigned)
    } else {
        None
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (hex floats and `inf` words are not
/// reached from YAML resolution except through the map above).
fn go_parse_float(s: &str) -> Option<f64> {
    if !s.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    // Out of range (`1e400`) is an error for Go, so go-yaml (and sops) read the text as a string.
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The timestamp forms go-yaml v3 accepts: `2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00` (also
/// `t`), and `2006-1-2 15:4:5.999999999` (UTC).
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut p = Cursor { s, i: 5 };
    let year: i32 = s[..4].parse().ok()?;
    let month = p.num(1, 2)?;
    p.expect(b'-')?;
    let day = p.num(1, 2)?;
    let mut t = Timestamp { year, month, day, hour: 0, minute: 0, second: 0, nanos: 0, offset: None };
    if p.i == b.len() {
        return valid(&t).then_some(t);
    }
    let sep = b[p.i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    p.i += 1;
    t.hour = p.num(1, 2)?;
    p.expect(b':')?;
    t.minute = p.num(1, 2)?;
    p.expect(b':')?;
    t.second = p.num(1, 2)?;
    if p.i < b.len() && b[p.i] == b'.' {
        p.i += 1;
        let start = p.i;
        let frac = p.num(1, 9)?;
        t.nanos = frac * 10u32.pow(9 - (p.i - start) as u32);
    }
    if sep == b' ' {
        if p.i != b.len() {
            return None;
        }
    } else {
        t.offset = parse_offset(&s[p.i..])?;
        if t.offset == Some(0) {
            t.offset = None;
        }
    }
    valid(&t).then_some(t)
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl Cursor<'_> {
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let b = self.s.as_bytes();
        let start = self.i;
        while self.i < b.len() && self.i - start < max && b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        self.s[start..self.i].parse().ok()
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.s.as_bytes().get(self.i) == Some(&c)).then(|| self.i += 1)
    }
}

#[cfg(test)]
mod tests {

    /// The shortcut agrees with the full resolution wherever it answers.
    #[test]
    fn plain_is_str_agrees_with_resolve_plain() {
        for t in [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "no",
            "yes",
            "on",
            ".nan",
            ".inf",
            "-.inf",
            "+1",
            "-1",
            "1",
            "0x1f",
            "1e3",
            "1_000",
            "2001-12-14",
            "ENC[AES256_GCM,data:]",
            "abc",
            "a1",
            "_1",
            "Infinity",
            "NaN",
            "é",
        ] {
            if plain_is_str(t) {
                assert!(matches!(resolve_plain(t), Resolved::Value(Scalar::Str(_))), "{t:?}");
            }
        }
        assert!(plain_is_str("ENC[AES256_GCM,data:]") && plain_is_str("abc") && !plain_is_str("1"));
    }
    use super::*;

    fn r(s: &str) -> Scalar {
        match resolve_plain(s) {
            Resolved::Value(v) => v,
            Resolved::Unsigned => panic!("unsigned"),
        }
    }

    #[test]
    fn resolves_like_go_yaml_v3() {
        assert_eq!(r("5432"), Scalar::Int(5432));
        assert_eq!(r("+12"), Scalar::Int(12));
        assert_eq!(r("0x1F"), Scalar::Int(31));
        assert_eq!(r("0o17"), Scalar::Int(15));
        assert_eq!(r("017"), Scalar::Int(15));
        assert_eq!(r("0b101"), Scalar::Int(5));
        assert_eq!(r("1_000"), Scalar::Int(1000));
        assert_eq!(r("-9223372036854775808"), Scalar::Int(i64::MIN));
        assert!(matches!(resolve_plain("18446744073709551615"), Resolved::Unsigned));
        assert_eq!(r("18446744073709551616"), Scalar::Float(18446744073709551616.0));
        assert_eq!(r("1e3"), Scalar::Float(1000.0));
        assert_eq!(r("1e400"), Scalar::Str("1e400".into()));
        assert_eq!(r("-1e400"), Scalar::Str("-1e400".into()));
        assert_eq!(r("08"), Scalar::Float(8.0));
        assert_eq!(r("0.5"), Scalar::Float(0.5));
        assert_eq!(r(".5"), Scalar::Float(0.5));
        assert_eq!(r("1."), Scalar::Float(1.0));
        assert!(matches!(r("-0.0"), Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(matches!(r(".nan"), Scalar::Float(f) if f.is_nan()));
        assert_eq!(r("-.inf"), Scalar::Float(f64::NEG_INFINITY));
        assert_eq!(r("true"), Scalar::Bool(true));
        assert_eq!(r("FALSE"), Scalar::Bool(false));
        assert_eq!(r("yes"), Scalar::Str("yes".into()));
        assert_eq!(r("off"), Scalar::Str("off".into()));
        assert_eq!(r("~"), Scalar::Null);
        assert_eq!(r(""), Scalar::Null);
        assert_eq!(r("1.2.3"), Scalar::Str("1.2.3".into()));
        assert_eq!(r("0x"), Scalar::Str("0x".into()));
        assert_eq!(r("-"), Scalar::Str("-".into()));
        assert_eq!(r("+"), Scalar::Str("+".into()));
    }

    #[test]
    fn resolves_timestamps() {
        assert_eq!(r("2024-01-02"), Scalar::Time("2024-01-02T00:00:00Z".into()));
        assert_eq!(r("2024-1-2T3:4:5Z"), Scalar::Time("2024-01-02T03:04:05Z".into()));
        assert_eq!(r("2024-01-02T03:04:05.123+02:00"), Scalar::Time("2024-01-02T03:04:05.123+02:00".into()));
        assert_eq!(r("2024-01-02 03:04:05.5"), Scalar::Time("2024-01-02T03:04:05.5Z".into()));
        assert_eq!(r("2024-01-02T03:04:05"), Scalar::Str("2024-01-02T03:04:05".into()));
        assert_eq!(r("2024-13-02"), Scalar::Str("2024-13-02".into()));
    }
}
