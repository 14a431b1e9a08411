//! TOML date and time literals (RFC 3339 with TOML's relaxations: a space may separate date and
//! time, the offset may be missing, a date or a time may stand alone).

use crate::scalar::{parse_offset, valid, Timestamp};

/// The four TOML date/time types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// `1979-05-27T07:32:00Z`, `1979-05-27 00:32:00.5-07:00`.
    Offset(Timestamp),
    /// `1979-05-27T07:32:00`.
    LocalDateTime,
    /// `1979-05-27`.
    LocalDate,
    /// `07:32:00.999`.
    LocalTime,
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// `YYYY-MM-DD`.
fn date(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    Some((num(s.get(0..4)?)? as i32, num(s.get(5..7)?)?, num(s.get(8..10)?)?))
}

/// Hour, minute, second, nanoseconds.
type Clock = (u32, u32, u32, u32);

/// `HH:MM:SS(.fraction)?` and what follows it.
fn time(s: &str) -> Option<(Clock, &str)> {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (num(s.get(0..2)?)?, num(s.get(3..5)?)?, num(s.get(6..8)?)?);
    let mut rest = s.get(8..)?;
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits = frac.get(..n.min(9))?;
        nanos = num(digits)? * 10u32.pow(9 - digits.len() as u32);
        rest = frac.get(n..)?;
    }
    Some(((h, m, sec, nanos), rest))
}

/// Parses any TOML date/time literal.
pub(crate) fn parse(s: &str) -> Option<Temporal> {
    if let Some(((h, m, sec, _), "")) = time(s) {
        return (h < 24 && m < 60 && sec < 60).then_some(Temporal::LocalTime);
    }
    let (year, month, day) = date(s.get(0..10)?)?;
    let mut t = Timestamp { year, month, day, hour: 0, minute: 0, second: 0, nanos: 0, offset: None };
    if s.len() == 10 {
        return valid(&t).then_some(Temporal::LocalDate);
    }
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let ((h, m, sec, nanos), rest) = time(s.get(11..)?)?;
    (t.hour, t.minute, t.second, t.nanos) = (h, m, sec, nanos);
    if !valid(&t) {
        return None;
    }
    if rest.is_empty() {
        return Some(Temporal::LocalDateTime);
    }
    t.offset = parse_offset(rest)?;
    Some(Temporal::Offset(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(matches!(parse("1979-05-27T07:32:00Z"), Some(Temporal::Offset(_))));
        assert!(matches!(parse("1979-05-27 00:32:00.999999-07:00"), Some(Temporal::Offset(_))));
        assert_eq!(parse("1979-05-27T07:32:00"), Some(Temporal::LocalDateTime));
        assert_eq!(parse("1979-05-27t07:32:00.5"), Some(Temporal::LocalDateTime));
        assert_eq!(parse("1979-05-27"), Some(Temporal::LocalDate));
        assert_eq!(parse("07:32:00"), Some(Temporal::LocalTime));
        assert_eq!(parse("00:32:00.999999"), Some(Temporal::LocalTime));
        for bad in ["1979-13-27", "1979-02-30", "25:00:00", "07:32", "07:32:00.", "1979-05-27X07:32:00", "1979-5-27"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse("1979-05-27T07:32:00+25:00"), None);
        assert_eq!(parse("1979-05-27T07:32:00Zjunk"), None);
        assert_eq!(parse("é"), None);
    }
}
