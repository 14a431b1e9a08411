//! Scalar text rules that sops (Go) applies: float formatting and RFC 3339 timestamps.

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that
/// round-trip, never an exponent, `+Inf`, `-Inf`, `NaN`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        // Rust's Display for f64 prints the shortest round-trip digits in fixed notation.
        format!("{v}")
    }
}

/// A timestamp as YAML and RFC 3339 write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// Year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day, 1-31.
    pub day: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Nanoseconds.
    pub nanos: u32,
    /// Offset from UTC in minutes; `None` is `Z`.
    pub offset: Option<i32>,
}

impl Timestamp {
    /// Go's `time.RFC3339Nano`: fraction without trailing zeros, `Z` or `±hh:mm`.
    pub fn to_rfc3339_nano(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        self.push_offset(&mut s);
        s
    }

    /// Go's `time.RFC3339`: whole seconds, `Z` or `±hh:mm`.
    pub fn to_rfc3339(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        self.push_offset(&mut s);
        s
    }

    fn push_offset(&self, s: &mut String) {
        // Go's `Z07:00` writes a zero offset as `Z` whatever the zone.
        match self.offset {
            None | Some(0) => s.push('Z'),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                s.push_str(&format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60));
            }
        }
    }

    /// True for a plain date at midnight UTC, as YAML `2024-01-02` resolves.
    pub fn is_date_only(&self) -> bool {
        self.hour == 0 && self.minute == 0 && self.second == 0 && self.nanos == 0 && self.offset.is_none()
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Parses RFC 3339 (`2006-01-02T15:04:05.999999999Z07:00`, `T` or `t`, `Z` or `z` accepted).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut t = Timestamp {
        year: num(0..4)? as i32,
        month: num(5..7)?,
        day: num(8..10)?,
        hour: num(11..13)?,
        minute: num(14..16)?,
        second: num(17..19)?,
        nanos: 0,
        offset: None,
    };
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
        t.nanos = num(start..i)? * 10u32.pow(9 - (i - start) as u32);
    }
    t.offset = parse_offset(&s[i..])?;
    valid(&t).then_some(t)
}

/// Parses `Z`, `z` or `±hh:mm` (the whole string). `Some(None)` is UTC.
pub(crate) fn parse_offset(s: &str) -> Option<Option<i32>> {
    match s {
        "Z" | "z" => Some(None),
        _ => {
            let b = s.as_bytes();
            if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
                return None;
            }
            let h: i32 = s[1..3].parse().ok()?;
            let m: i32 = s[4..6].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            Some(Some(if b[0] == b'-' { -total } else { total }))
        }
    }
}

pub(crate) fn valid(t: &Timestamp) -> bool {
    let leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1..=12).contains(&t.month)
        && t.day >= 1
        && t.day <= days[(t.month - 1) as usize]
        && t.hour < 24
        && t.minute < 60
        && t.second < 60
}

/// sops encrypts every boolean as `True` or `False`, whatever the author wrote: such a payload
/// is no spelling, and decrypts to the canonical `true`/`false`. (An author's `True` comes back
/// through gitseal's layout memory instead.)
pub fn is_canonical_bool_payload(payload: &str) -> bool {
    payload == "True" || payload == "False"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_float(1000.0), "1000");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(-0.0), "-0");
        assert_eq!(format_float(1e-7), "0.0000001");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
        let big = format_float(1.5e300);
        assert!(big.starts_with("15") && big.len() == 301 && big[2..].bytes().all(|b| b == b'0'));
    }

    #[test]
    fn rfc3339_round_trips_and_rejects_garbage() {
        let t = parse_rfc3339("2024-01-02T03:04:05.120+02:00").unwrap();
        assert_eq!(t.to_rfc3339_nano(), "2024-01-02T03:04:05.12+02:00");
        assert_eq!(t.to_rfc3339(), "2024-01-02T03:04:05+02:00");
        assert_eq!(parse_rfc3339("2026-11-28T04:35:48Z").unwrap().to_rfc3339(), "2026-11-28T04:35:48Z");
        assert!(parse_rfc3339("2024-02-30T00:00:00Z").is_none());
        assert_eq!(parse_rfc3339("2024-01-02T03:04:05+00:00").unwrap().to_rfc3339_nano(), "2024-01-02T03:04:05Z");
        assert!(parse_rfc3339("2024-01-02 03:04:05Z").is_none());
        assert!(parse_rfc3339("not a time at all, no").is_none());
    }
}
