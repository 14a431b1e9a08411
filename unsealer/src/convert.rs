//! The library works on `gitseal_formats::Value` trees; the Kubernetes client on
//! `serde_json::Value`. These convert between the two without going through text.

use gitseal::formats::{Scalar, Value};

/// A JSON value as a library value (key order kept).
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Scalar(Scalar::Null),
        serde_json::Value::Bool(b) => Value::Scalar(Scalar::Bool(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Scalar(Scalar::Int(i)),
            None => Value::Scalar(Scalar::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        serde_json::Value::String(s) => Value::str(s.clone()),
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// A library value as JSON (timestamps as RFC 3339 strings, non-finite floats as null).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Map(items) => serde_json::Value::Object(items.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Scalar(s) => match s {
            Scalar::Null => serde_json::Value::Null,
            Scalar::Bool(b) => (*b).into(),
            Scalar::Int(i) => (*i).into(),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map(serde_json::Value::Number).unwrap_or_default(),
            Scalar::Str(s) => s.clone().into(),
            Scalar::Time(t) => t.clone().into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_order_and_types() {
        let j = serde_json::json!({"z": 1, "a": [true, null, 1.5, "s"], "m": {"k": -3}});
        let v = from_json(&j);
        assert_eq!(to_json(&v), j);
        assert_eq!(serde_json::to_string(&to_json(&v)).unwrap(), serde_json::to_string(&j).unwrap());
    }
}
