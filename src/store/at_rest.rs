//! The name a persistent store keeps a session under: never the ID itself.
//!
//! FileStore and RedisStore key each record by the SHA-256 of the session ID's
//! 32 bytes, in lowercase hex, so a directory listing, a Redis `SCAN`, a dump
//! or a backup hands out no working cookie. The ID is 256 random bits, so the
//! hash needs no secret (nothing to rotate) and cannot be reversed or guessed.
//! MemoryStore keeps raw IDs: its memory is the process's own.

use sha2::{Digest, Sha256};

use crate::SessionId;

/// Length of a name: 32 bytes of SHA-256 as lowercase hex.
pub(crate) const NAME_LEN: usize = 64;

/// The SHA-256 of `id`'s 32 bytes.
pub(crate) fn hash(id: &SessionId) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// The SHA-256 of `user`'s UTF-8 bytes: how every persistent store names a
/// user's index (a file, a Redis key, a table's `user_hash`), never by the
/// name itself.
pub(crate) fn user_hash(user: &str) -> [u8; 32] {
    Sha256::digest(user.as_bytes()).into()
}

/// `bytes` in lowercase hex: `hex(&hash(id))` is the name `id`'s record is
/// kept under (64 chars).
pub(crate) fn hex(bytes: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut name = String::with_capacity(NAME_LEN);
    for &b in bytes {
        name.push(char::from(HEX[usize::from(b >> 4)]));
        name.push(char::from(HEX[usize::from(b & 0xF)]));
    }
    name
}

/// The 32 hash bytes a name stands for; `None` for any other string (uppercase
/// hex included, so one record has exactly one name).
pub(crate) fn parse(name: &str) -> Option<[u8; 32]> {
    let digits = name.as_bytes();
    if digits.len() != NAME_LEN {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_lowercase_hex_of_sha256_of_the_id_bytes() {
        // SHA-256 of 32 zero bytes (a known answer).
        let zero = SessionId::from_bytes([0; 32]);
        assert_eq!(
            hex(&hash(&zero)),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        for _ in 0..100 {
            let id = SessionId::generate();
            let name = hex(&hash(&id));
            assert_eq!(name.len(), NAME_LEN);
            assert_ne!(&parse(&name).unwrap(), id.as_bytes());
            assert_eq!(parse(&name), Some(hash(&id)));
            if name.bytes().any(|b| b.is_ascii_alphabetic()) {
                assert_eq!(parse(&name.to_uppercase()), None);
            }
        }
    }

    #[test]
    fn parse_refuses_other_names() {
        for bad in [
            "",
            "ab",
            &"g".repeat(64),
            &"a".repeat(63),
            &"a".repeat(65),
            ".locks",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
