//! Decoding a stored session back into a map that already has the same keys,
//! overwriting values in place instead of building a new map.
//!
//! `MemoryStore` keeps each session as compact JSON text written by
//! `serde_json` from a `Data` map, so its members come in ascending key order,
//! without whitespace. Sessions of one application mostly share one shape, so
//! the map decoded for the previous update on this thread usually has exactly
//! the keys of the next one: its keys are kept, string values reuse their
//! buffers, numbers and literals are assigned. That turns the six or so
//! allocations of a fresh decode into none.
//!
//! Anything outside the fast path (other keys, escapes, floats, nested values
//! it cannot reuse) falls back to `serde_json` for that value or for the whole
//! text, so the result is always exactly what `serde_json::from_str` gives.

use serde_json::Value;

use crate::{Data, Error};

/// Makes `map` equal to the JSON object `text`, reusing its allocations when
/// it already holds the same keys.
pub(super) fn decode_into(text: &str, map: &mut Data) -> Result<(), Error> {
    if !reuse(text, map) {
        *map = serde_json::from_str(text)?;
    }
    Ok(())
}

/// The fast path: `true` if `map` now equals `text`; `false` (with `map` in
/// some state the caller overwrites) if the text needs the general decoder.
fn reuse(text: &str, map: &mut Data) -> bool {
    let Some(mut rest) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
        return false;
    };
    // The text's members and the map's entries both come in key order, so the
    // text matches the map's keys exactly when they line up one by one.
    for (i, (key, slot)) in map.iter_mut().enumerate() {
        if i > 0 {
            match rest.strip_prefix(',') {
                Some(after) => rest = after,
                None => return false,
            }
        }
        // `"key":`, the key written as it is. A key without quotes or
        // backslashes needs no escapes (control characters would show up
        // escaped, and so not match), so equal bytes mean an equal key.
        let Some(after) = rest
            .strip_prefix('"')
            .and_then(|after| after.strip_prefix(key.as_str()))
            .and_then(|after| after.strip_prefix("\":"))
        else {
            return false;
        };
        if key.bytes().any(|b| b == b'"' || b == b'\\') {
            return false;
        }
        match assign(after, slot) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    // Every member matched the map's keys in order; none may be left over.
    rest.is_empty()
}

/// Overwrites `slot` with the JSON value at the start of `text` (reusing a
/// string's buffer); returns the text after the value.
fn assign<'t>(text: &'t str, slot: &mut Value) -> Option<&'t str> {
    let bytes = text.as_bytes();
    match bytes.first()? {
        b'"' => {
            let len = bytes[1..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\')?;
            if bytes[1 + len] == b'\\' {
                return general(text, slot);
            }
            let plain = text.get(1..1 + len)?;
            match slot {
                Value::String(s) => {
                    s.clear();
                    s.push_str(plain);
                }
                other => *other = Value::String(plain.to_owned()),
            }
            text.get(len + 2..)
        }
        b'0'..=b'9' => {
            let len = bytes
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(bytes.len());
            // Fractions, exponents, and anything past u64 go the general way;
            // 19 digits always fit a u64.
            if len > 19 || matches!(bytes.get(len), Some(b'.' | b'e' | b'E')) {
                return general(text, slot);
            }
            let n = bytes[..len]
                .iter()
                .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            *slot = Value::from(n);
            text.get(len..)
        }
        b't' => literal(text, "true", Value::Bool(true), slot),
        b'f' => literal(text, "false", Value::Bool(false), slot),
        b'n' => literal(text, "null", Value::Null, slot),
        // Negative numbers, arrays, objects: the general decoder.
        _ => general(text, slot),
    }
}

fn literal<'t>(text: &'t str, word: &str, value: Value, slot: &mut Value) -> Option<&'t str> {
    let rest = text.strip_prefix(word)?;
    *slot = value;
    Some(rest)
}

/// The value at the start of `text` through `serde_json`.
fn general<'t>(text: &'t str, slot: &mut Value) -> Option<&'t str> {
    let end = value_end(text.as_bytes())?;
    *slot = serde_json::from_str(text.get(..end)?).ok()?;
    text.get(end..)
}

/// The length of the compact JSON value at the start of `text`: strings may
/// hold escapes, containers may nest.
fn value_end(text: &[u8]) -> Option<usize> {
    match text.first()? {
        b'"' => string_end(text, 0),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = 0;
            while i < text.len() {
                match text[i] {
                    b'"' => {
                        i = string_end(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        // A number or a literal runs to the next comma (or the end).
        _ => Some(text.iter().position(|&b| b == b',').unwrap_or(text.len())),
    }
}

/// The index just past the string starting at `at` (a quote), escapes skipped.
fn string_end(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(value: Value) -> Data {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn check(text: &str, mut start: Data) {
        let expected: Data = serde_json::from_str(text).unwrap();
        decode_into(text, &mut start).unwrap();
        assert_eq!(start, expected, "{text}");
    }

    #[test]
    fn same_keys_are_reused() {
        let text = r#"{"n":6,"role":"admin","user_id":"123"}"#;
        let mut m = map(json!({"user_id": "999", "role": "user", "n": 5}));
        assert!(reuse(text, &mut m));
        assert_eq!(m, map(json!({"user_id": "123", "role": "admin", "n": 6})));
    }

    #[test]
    fn other_shapes_fall_back() {
        let shapes = [
            r#"{}"#,
            r#"{"a":1}"#,
            r#"{"a":1,"b":2}"#,
            r#"{"a":"x\"y","b":"\u00e9\n"}"#,
            r#"{"a\"k":1}"#,
            r#"{"a":-1,"b":1.5,"c":1e300}"#,
            r#"{"a":[1,"]",{"b":"}"}],"b":{"c":[]}}"#,
            r#"{"a":true,"b":false,"c":null}"#,
            r#"{"a":18446744073709551615,"b":12345678901234567890}"#,
            r#"{"a":1,"b":2}"#,
            r#"{"a":0,"b":10,"c":9999999999999999999}"#,
            r#"{"a":"","b":"é","c":[],"d":{}}"#,
        ];
        let starts = [
            map(json!({})),
            map(json!({"a": 0})),
            map(json!({"a": "s", "b": [1], "c": {"d": 1}})),
            map(json!({"b": 2, "a": 1, "z": 0})),
            // Keys that would line up byte for byte if quotes were not checked.
            map(json!({"a\":1,\"b": 0})),
            map(json!({"a\\": 0, "b": 0})),
            map(json!({"a": "", "b": "", "c": 0, "d": 0})),
        ];
        for text in shapes {
            for start in &starts {
                check(text, start.clone());
            }
        }
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
            "[a-z\"\\\\\\n{}\\[\\],:]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c\"]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn any_map() -> impl Strategy<Value = Data> {
        prop::collection::btree_map("[a-d\\\\\"]{0,3}", any_value(), 0..5)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn equals_serde_json_from_any_start(target in any_map(), start in any_map()) {
            // The reference is serde_json reading the text (floats may not
            // round-trip exactly through text; both sides read the same text).
            let text = serde_json::to_string(&target).unwrap();
            let expected: Data = serde_json::from_str(&text).unwrap();
            let mut got = start;
            decode_into(&text, &mut got).unwrap();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn equals_serde_json_when_keys_match(target in any_map(), seed in any_value()) {
            // Same keys, other values: the reuse path itself.
            let text = serde_json::to_string(&target).unwrap();
            let expected: Data = serde_json::from_str(&text).unwrap();
            let mut got: Data = target.keys().map(|k| (k.clone(), seed.clone())).collect();
            decode_into(&text, &mut got).unwrap();
            prop_assert_eq!(got, expected);
        }
    }
}
