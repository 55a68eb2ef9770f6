//! Session data: [`Data`], a JSON object, and the checks every write path
//! runs on it, fast: whether it fits a size limit (its exact compact-JSON
//! length, computed without writing it) and how deep it nests.

use serde_json::Value;

/// A session's data: a JSON object.
pub type Data = serde_json::Map<String, serde_json::Value>;

/// Whether `data` nests arrays and objects more than `limit` deep (`data`
/// itself is depth 1). The walk stops at `limit`, so a hostile value cannot
/// make it recurse deeper than that.
pub(crate) fn nested_deeper_than(data: &Data, limit: usize) -> bool {
    fn deeper(value: &Value, depth: usize, limit: usize) -> bool {
        match value {
            Value::Array(items) => {
                depth > limit || items.iter().any(|item| deeper(item, depth + 1, limit))
            }
            Value::Object(map) => {
                depth > limit || map.values().any(|item| deeper(item, depth + 1, limit))
            }
            _ => false,
        }
    }
    limit == 0 || data.values().any(|value| deeper(value, 2, limit))
}

/// The length in bytes of `data` written as compact JSON by `serde_json`,
/// computed without writing it: a byte-class pass over each string instead of
/// the serializer's escaping machinery.
pub(crate) fn json_len(data: &Data) -> usize {
    // Braces, a colon per member and commas between members.
    2 + data.len() + data.len().saturating_sub(1) + members_len(data)
}

/// `None` if `data` as compact JSON is at most `limit` bytes; otherwise its
/// exact length. Sessions are mostly far below their limit, so a bound from
/// lengths alone (no pass over any string's bytes) usually settles it; only a
/// session near the limit pays for [`json_len`].
pub(crate) fn len_over(data: &Data, limit: usize) -> Option<usize> {
    if object_bound(data) <= limit {
        return None;
    }
    Some(json_len(data)).filter(|&len| len > limit)
}

/// At least the compact-JSON length of `data`: every byte of a string counted
/// as its longest escape (`\u00XX`, six bytes), every number as 25 bytes.
fn object_bound(data: &Data) -> usize {
    data.iter().fold(2 + 2 * data.len(), |sum, (key, value)| {
        sum.saturating_add(string_bound(key))
            .saturating_add(value_bound(value))
    })
}

fn value_bound(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        // The longest a serde_json number gets: `-2.2250738585072014e-308` is 24.
        Value::Number(_) => 25,
        Value::String(s) => string_bound(s),
        Value::Array(items) => items.iter().fold(2 + items.len(), |sum, item| {
            sum.saturating_add(value_bound(item))
        }),
        Value::Object(map) => object_bound(map),
    }
}

fn string_bound(s: &str) -> usize {
    s.len().saturating_mul(6).saturating_add(2)
}

fn members_len(data: &Data) -> usize {
    data.iter()
        .map(|(key, value)| string_len(key) + value_len(value))
        .sum()
}

fn value_len(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => digits(u),
            (None, Some(i)) => 1 + digits(i.unsigned_abs()),
            // Floats go through the serializer itself (ryu), to be exact.
            _ => serde_json::to_string(n).map_or(0, |s| s.len()),
        },
        Value::String(s) => string_len(s),
        Value::Array(items) => {
            2 + items.len().saturating_sub(1) + items.iter().map(value_len).sum::<usize>()
        }
        Value::Object(map) => json_len(map),
    }
}

fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// Extra bytes `serde_json` writes for each byte of a string: `\"`, `\\`, the
/// short escapes `\b \t \n \f \r`, `\u00XX` for other control characters.
const EXTRA: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = match b {
            0x08 | 0x09 | 0x0A | 0x0C | 0x0D => 1,
            _ => 5,
        };
        b += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 1;
    table
};

fn string_len(s: &str) -> usize {
    2 + s.len()
        + s.bytes()
            .map(|b| usize::from(EXTRA[usize::from(b)]))
            .sum::<usize>()
}

/// Property-test inputs for session data, shared by the tests of every module
/// that reads or writes it: all JSON value kinds, nested, with the strings
/// that need escaping or are not ASCII.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;
    use serde_json::Value;

    use crate::Data;

    pub(crate) fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            "[\\x00-\\x20\"\\\\\\x7f]{0,6}".prop_map(Value::from),
            "[a-z\"\\\\\\n]{0,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Session data with few, short keys, so that maps often share keys.
    pub(crate) fn any_map() -> impl Strategy<Value = Data> {
        prop::collection::btree_map("[a-d\\\\\"\\né]{0,3}", any_value(), 0..5)
            .prop_map(|m| m.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::any_map;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn known_lengths() {
        for value in [
            json!({}),
            json!({"a": 1}),
            json!({"user_id": "123", "role": "admin", "n": 5}),
            json!({"esc": "\"\\\n\t\u{1}\u{7f}é", "neg": -12, "f": 1.5, "e": 1e300}),
            json!({"nested": [1, [2, {"x": null}], {"y": true, "z": false}], "": []}),
            json!({"max": u64::MAX, "min": i64::MIN}),
        ] {
            let Value::Object(map) = value else {
                unreachable!()
            };
            let reference = serde_json::to_string(&map).unwrap();
            assert_eq!(json_len(&map), reference.len(), "{map:?}");
        }
    }

    proptest! {
        #[test]
        fn json_len_equals_serde_json(map in any_map()) {
            prop_assert_eq!(json_len(&map), serde_json::to_string(&map).unwrap().len());
        }

        #[test]
        fn len_over_is_exact_around_the_limit(map in any_map(), delta in -3i64..3) {
            let len = serde_json::to_string(&map).unwrap().len();
            prop_assert!(object_bound(&map) >= len);
            let limit = usize::try_from(len as i64 + delta).unwrap_or(0);
            prop_assert_eq!(len_over(&map, limit), (len > limit).then_some(len));
        }
    }
}
