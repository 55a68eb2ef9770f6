//! How `MemoryStore` keeps a session's data: a compact binary form of the JSON
//! object, and decoding it back, into a fresh map or into the map the last
//! update on this thread used.
//!
//! Every string and container carries its length up front, so decoding never
//! scans for quotes or escapes, and encoding never escapes anything: the
//! per-byte work of JSON text is gone from the hot path. For the usual small
//! session it is also shorter than the JSON (30 bytes against 38 for
//! `{"user_id":"123","role":"admin","n":5}`).
//!
//! The form (lengths and counts as LEB128 varints):
//!
//! ```text
//! object  = count (key value){count}         key = len bytes (UTF-8)
//! value   = 0 null | 1 false | 2 true
//!         | 3 varint            a u64
//!         | 4 varint            a negative i64, as its magnitude
//!         | 5 len bytes         any other number, as serde_json writes it
//!         | 6 len bytes         a string (UTF-8)
//!         | 7 count value*      an array
//!         | 8 object
//!         | 9 8 bytes           a float, its bits little-endian (exact)
//! ```
//!
//! Sessions of one application mostly share one shape, so the map decoded for
//! the previous update on this thread usually has exactly the keys of the next
//! one: [`decode_into`] then keeps its keys and string buffers and only
//! overwrites values, allocating nothing.

use serde_json::{Map, Number, Value};

use crate::{Data, Error};

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UINT: u8 = 3;
const NEG_INT: u8 = 4;
const OTHER_NUMBER: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;
const FLOAT: u8 = 9;

/// Appends `data` in the binary form.
pub(super) fn encode(data: &Data, out: &mut Vec<u8>) {
    write_varint(data.len() as u64, out);
    for (key, value) in data {
        write_bytes(key.as_bytes(), out);
        write_value(value, out);
    }
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => {
                out.push(UINT);
                write_varint(u, out);
            }
            (None, Some(i)) => {
                out.push(NEG_INT);
                write_varint(i.unsigned_abs(), out);
            }
            _ => match n
                .as_f64()
                .filter(|&f| Number::from_f64(f).as_ref() == Some(n))
            {
                Some(f) => {
                    out.push(FLOAT);
                    out.extend_from_slice(&f.to_bits().to_le_bytes());
                }
                // A number an f64 does not hold exactly (serde_json's
                // `arbitrary_precision`) keeps its text.
                None => {
                    out.push(OTHER_NUMBER);
                    write_bytes(n.to_string().as_bytes(), out);
                }
            },
        },
        Value::String(s) => {
            out.push(STRING);
            write_bytes(s.as_bytes(), out);
        }
        Value::Array(items) => {
            out.push(ARRAY);
            write_varint(items.len() as u64, out);
            for item in items {
                write_value(item, out);
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            encode(map, out);
        }
    }
}

#[inline]
fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

#[inline]
fn write_varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Makes `map` equal to the data in `bytes`, reusing its keys and string
/// buffers when it already holds the same keys.
pub(super) fn decode_into(bytes: &[u8], map: &mut Data) -> Result<(), Error> {
    let mut input = Input { bytes };
    if !reuse(&mut input, map)? {
        let mut input = Input { bytes };
        *map = input.object()?;
        input.finish()?;
    }
    Ok(())
}

/// The fast path: `Ok(true)` if `map` now equals the data; `Ok(false)` (with
/// `map` in some state the caller overwrites) if the keys differ.
fn reuse(input: &mut Input<'_>, map: &mut Data) -> Result<bool, Error> {
    if input.count()? != map.len() {
        return Ok(false);
    }
    // Both the encoding and the map list keys in the map's order, so equal key
    // lists line up one by one.
    for (key, slot) in map.iter_mut() {
        if input.bytes()? != key.as_bytes() {
            return Ok(false);
        }
        match input.byte()? {
            STRING => {
                let text = input.bytes()?;
                match slot {
                    // Sessions often share values (a role, a flag): then
                    // there is nothing to copy.
                    Value::String(s) if s.as_bytes() == text => {}
                    Value::String(s) => {
                        s.clear();
                        s.push_str(utf8(text)?);
                    }
                    other => *other = Value::String(utf8(text)?.to_owned()),
                }
            }
            UINT => *slot = Value::from(input.varint()?),
            tag => *slot = input.value_after(tag)?,
        }
    }
    input.finish()?;
    Ok(true)
}

/// The part of the binary form not read yet.
struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    #[inline]
    fn byte(&mut self) -> Result<u8, Error> {
        let (&first, rest) = self
            .bytes
            .split_first()
            .ok_or_else(|| corrupt("cut short"))?;
        self.bytes = rest;
        Ok(first)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, Error> {
        // One byte: every length and count below 128, the usual case.
        if let Some((&first, rest)) = self.bytes.split_first() {
            if first < 0x80 {
                self.bytes = rest;
                return Ok(u64::from(first));
            }
        }
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= u64::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                return Ok(n);
            }
        }
        Err(corrupt("length too long"))
    }

    /// A count or length, which cannot exceed what is left to read.
    #[inline(always)]
    fn count(&mut self) -> Result<usize, Error> {
        match usize::try_from(self.varint()?) {
            Ok(n) if n <= self.bytes.len() => Ok(n),
            _ => Err(corrupt("length past the end")),
        }
    }

    #[inline(always)]
    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let len = self.count()?;
        let (bytes, rest) = self
            .bytes
            .split_at_checked(len)
            .ok_or_else(|| corrupt("length past the end"))?;
        self.bytes = rest;
        Ok(bytes)
    }

    /// A length-prefixed UTF-8 string.
    fn text(&mut self) -> Result<&'a str, Error> {
        utf8(self.bytes()?)
    }

    fn object(&mut self) -> Result<Data, Error> {
        let count = self.count()?;
        let mut map = Map::new();
        for _ in 0..count {
            let key = self.text()?.to_owned();
            let tag = self.byte()?;
            map.insert(key, self.value_after(tag)?);
        }
        Ok(map)
    }

    fn value_after(&mut self, tag: u8) -> Result<Value, Error> {
        Ok(match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UINT => Value::from(self.varint()?),
            NEG_INT => {
                let magnitude = self.varint()?;
                let n = 0i64
                    .checked_sub_unsigned(magnitude)
                    .ok_or_else(|| corrupt("integer out of range"))?;
                Value::from(n)
            }
            OTHER_NUMBER => Value::Number(
                self.text()?
                    .parse::<Number>()
                    .map_err(|_| corrupt("number"))?,
            ),
            FLOAT => {
                let (bits, rest) = self
                    .bytes
                    .split_first_chunk::<8>()
                    .ok_or_else(|| corrupt("cut short"))?;
                self.bytes = rest;
                Number::from_f64(f64::from_bits(u64::from_le_bytes(*bits)))
                    .map(Value::Number)
                    .ok_or_else(|| corrupt("not a finite number"))?
            }
            STRING => Value::String(self.text()?.to_owned()),
            ARRAY => {
                let count = self.count()?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    let tag = self.byte()?;
                    items.push(self.value_after(tag)?);
                }
                Value::Array(items)
            }
            OBJECT => Value::Object(self.object()?),
            _ => return Err(corrupt("unknown value type")),
        })
    }

    fn finish(&self) -> Result<(), Error> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(corrupt("bytes left over"))
        }
    }
}

/// `bytes` as the UTF-8 text they were written from.
fn utf8(bytes: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(bytes).map_err(|_| corrupt("text is not UTF-8"))
}

fn corrupt(what: &str) -> Error {
    Error::CorruptRecord {
        reason: format!("memory store entry: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{any_map, any_value};
    use proptest::prelude::*;
    use serde_json::json;

    fn map(value: Value) -> Data {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    /// A decode into a new map: the fallback path, since no keys match.
    fn decode(bytes: &[u8]) -> Result<Data, Error> {
        let mut map = Data::new();
        decode_into(bytes, &mut map).map(|()| map)
    }

    fn encoded(data: &Data) -> Vec<u8> {
        let mut out = Vec::new();
        encode(data, &mut out);
        out
    }

    #[test]
    fn the_usual_session_is_30_bytes() {
        let data = map(json!({"user_id": "123", "role": "admin", "n": 5}));
        let bytes = encoded(&data);
        assert_eq!(bytes.len(), 30);
        assert_eq!(decode(&bytes).unwrap(), data);
    }

    #[test]
    fn same_keys_are_reused() {
        let bytes = encoded(&map(json!({"user_id": "123", "role": "admin", "n": 6})));
        let mut m = map(json!({"user_id": "999", "role": "user", "n": 5}));
        let mut input = Input { bytes: &bytes };
        assert!(reuse(&mut input, &mut m).unwrap());
        assert_eq!(m, map(json!({"user_id": "123", "role": "admin", "n": 6})));
    }

    #[test]
    fn numbers_at_their_limits() {
        let data = map(json!({
            "max": u64::MAX, "min": i64::MIN, "neg": -1, "zero": 0,
            "f": 1.5, "tiny": 5e-324, "big": 1.7976931348623157e308, "whole": 2.0,
        }));
        assert_eq!(decode(&encoded(&data)).unwrap(), data);
        let mut start = map(
            json!({"max": 0, "min": 0, "neg": 0, "zero": "", "f": 0, "tiny": null, "big": [], "whole": {}}),
        );
        decode_into(&encoded(&data), &mut start).unwrap();
        assert_eq!(start, data);
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let bytes = encoded(&map(json!({"a": "text", "b": [1, {"c": -2.5}], "é": null})));
        // Every truncation, and every single-byte change, either decodes to
        // some map or is refused; never a panic.
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "cut to {len}");
        }
        for i in 0..bytes.len() {
            for b in [0x00, 0x07, 0x09, 0x7F, 0x80, 0xC3, 0xFF] {
                let mut damaged = bytes.clone();
                damaged[i] = b;
                let _ = decode(&damaged);
                let _ = decode_into(&damaged, &mut map(json!({"a": "", "b": 0, "é": 0})));
            }
        }
        assert!(matches!(
            decode(&[1, 1, b'a', 99]),
            Err(Error::CorruptRecord { .. })
        ));
        assert!(decode(&[0xFF; 11]).is_err(), "varint past 64 bits");
        assert!(decode(&[1, 1, 0xFF, NULL]).is_err(), "key not UTF-8");
    }

    proptest! {
        #[test]
        fn round_trips(data in any_map()) {
            prop_assert_eq!(decode(&encoded(&data)).unwrap(), data);
        }

        #[test]
        fn decode_into_equals_decode_from_any_start(data in any_map(), start in any_map()) {
            let mut got = start;
            decode_into(&encoded(&data), &mut got).unwrap();
            prop_assert_eq!(got, data);
        }

        #[test]
        fn decode_into_when_keys_match(data in any_map(), seed in any_value()) {
            let mut got: Data = data.keys().map(|k| (k.clone(), seed.clone())).collect();
            decode_into(&encoded(&data), &mut got).unwrap();
            prop_assert_eq!(got, data);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
            let _ = decode_into(&bytes, &mut Data::new());
        }
    }
}
