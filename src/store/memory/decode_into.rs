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
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') || bytes.last() != Some(&b'}') {
        return false;
    }
    let end = bytes.len() - 1;
    let mut at = 1;
    // The text's members and the map's entries both come in key order, so the
    // text matches the map's keys exactly when they line up one by one.
    let mut slots = map.iter_mut();
    while at < end {
        if at > 1 {
            if bytes[at] != b',' {
                return false;
            }
            at += 1;
        }
        // The key: a string without escapes, equal to the map's next key.
        let Some(key_end) = plain_string_end(bytes, at) else {
            return false;
        };
        let Some((key, slot)) = slots.next() else {
            return false;
        };
        if text[at + 1..key_end - 1] != **key || bytes.get(key_end) != Some(&b':') {
            return false;
        }
        let value_start = key_end + 1;
        let Some(value_end) = value_end(bytes, value_start, end) else {
            return false;
        };
        if !assign(&text[value_start..value_end], slot) {
            return false;
        }
        at = value_end;
    }
    // Every member matched the map's keys in order; none may be left over.
    slots.next().is_none()
}

/// Overwrites `slot` with the JSON value `raw`, reusing a string's buffer.
fn assign(raw: &str, slot: &mut Value) -> bool {
    let bytes = raw.as_bytes();
    match bytes.first() {
        Some(b'"') => {
            if plain_string_end(bytes, 0) != Some(bytes.len()) {
                // Escapes inside: let serde_json unescape it.
                return match serde_json::from_str(raw) {
                    Ok(value) => {
                        *slot = value;
                        true
                    }
                    Err(_) => false,
                };
            }
            let inner = &raw[1..raw.len() - 1];
            match slot {
                Value::String(s) => {
                    s.clear();
                    s.push_str(inner);
                }
                other => *other = Value::String(inner.to_owned()),
            }
            true
        }
        Some(b'0'..=b'9') if bytes.len() <= 19 && bytes.iter().all(u8::is_ascii_digit) => {
            // Compact JSON has no leading zeros; 19 digits always fit a u64.
            let n = bytes
                .iter()
                .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            *slot = Value::from(n);
            true
        }
        _ => match raw {
            "true" => {
                *slot = Value::Bool(true);
                true
            }
            "false" => {
                *slot = Value::Bool(false);
                true
            }
            "null" => {
                *slot = Value::Null;
                true
            }
            // Negative numbers, floats, arrays, objects: the general decoder.
            _ => match serde_json::from_str(raw) {
                Ok(value) => {
                    *slot = value;
                    true
                }
                Err(_) => false,
            },
        },
    }
}

/// If a string without escapes starts at `at`, the index just past its closing
/// quote.
fn plain_string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let len = bytes[at + 1..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\')?;
    let close = at + 1 + len;
    (bytes[close] == b'"').then_some(close + 1)
}

/// The index just past the JSON value starting at `at`, for compact JSON
/// ending before `end`: strings may hold escapes, containers may nest.
fn value_end(bytes: &[u8], at: usize, end: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at, end),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < end {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i, end)?;
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
        // A number or a literal runs to the next comma.
        _ => Some(
            bytes[at..end]
                .iter()
                .position(|&b| b == b',')
                .map_or(end, |len| at + len),
        ),
    }
}

/// The index just past the string starting at `at` (a quote), escapes skipped.
fn string_end(bytes: &[u8], at: usize, end: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < end {
        match bytes[i] {
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
        ];
        let starts = [
            map(json!({})),
            map(json!({"a": 0})),
            map(json!({"a": "s", "b": [1], "c": {"d": 1}})),
            map(json!({"b": 2, "a": 1, "z": 0})),
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
