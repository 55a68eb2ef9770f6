//! Session IDs: 256 random bits, written as 43 characters of base64url.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use rand::Rng;

use crate::Error;

/// Length of a session ID's text form.
const ID_LEN: usize = 43;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Maps an ASCII byte to its base64url value, or `INVALID`.
const INVALID: u8 = 0xFF;
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// A session ID: 256 bits from a cryptographically secure generator.
///
/// The text form is exactly 43 characters of base64url without padding
/// (`A-Z a-z 0-9 - _`), canonical: the last character's two unused bits are zero,
/// so no two strings name one ID. Parsing is strict, and a [`Store`](crate::Store)
/// only ever sees a `&SessionId`, so no unchecked string from a client reaches a
/// store (no path tricks in a file store, no key games in Redis).
///
/// `Debug` shows only a short prefix: a full ID in a log is a stolen session.
/// The raw text is available through [`as_str`](SessionId::as_str) and `Display`.
///
/// ```
/// use http_session::SessionId;
///
/// let id = SessionId::generate();
/// assert_eq!(id.as_str().len(), 43);
///
/// let parsed: SessionId = id.as_str().parse()?;
/// assert_eq!(parsed, id);
///
/// assert!("not-an-id".parse::<SessionId>().is_err());
/// assert!(!format!("{id:?}").contains(id.as_str()));
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId {
    bytes: [u8; 32],
    text: [u8; ID_LEN],
}

impl SessionId {
    /// Generates a fresh ID: 256 bits from a cryptographically secure
    /// generator (`rand`'s thread-local generator, seeded and periodically
    /// re-seeded by the operating system). IDs are unpredictable, from each
    /// other too: seeing any number of them tells nothing about the next.
    ///
    /// ```
    /// use http_session::SessionId;
    /// assert_ne!(SessionId::generate(), SessionId::generate());
    /// ```
    pub fn generate() -> SessionId {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SessionId::from_bytes(bytes)
    }

    /// Builds the ID that these 32 bytes encode.
    ///
    /// Meant for stores that keep the raw bytes; new IDs come from [`generate`](SessionId::generate).
    ///
    /// ```
    /// use http_session::SessionId;
    /// let id = SessionId::generate();
    /// assert_eq!(SessionId::from_bytes(*id.as_bytes()), id);
    /// ```
    pub fn from_bytes(bytes: [u8; 32]) -> SessionId {
        SessionId {
            bytes,
            text: encode(&bytes),
        }
    }

    /// The ID as it travels in the cookie: 43 characters of base64url.
    ///
    /// ```
    /// let id = http_session::SessionId::from_bytes([0; 32]);
    /// assert_eq!(id.as_str(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    /// ```
    pub fn as_str(&self) -> &str {
        // The text holds only bytes from ALPHABET, which are ASCII.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The 32 random bytes behind the ID.
    ///
    /// ```
    /// let id = http_session::SessionId::from_bytes([7; 32]);
    /// assert_eq!(id.as_bytes(), &[7; 32]);
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

/// Base64url without padding: 32 bytes become 43 characters.
fn encode(bytes: &[u8; 32]) -> [u8; ID_LEN] {
    let mut out = [0u8; ID_LEN];
    let mut o = 0;
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0] as u32;
        let b1 = chunk.get(1).copied().unwrap_or(0) as u32;
        let b2 = chunk.get(2).copied().unwrap_or(0) as u32;
        let n = (b0 << 16) | (b1 << 8) | b2;
        let emit = chunk.len() + 1; // 3 bytes -> 4 chars, 2 bytes -> 3 chars
        for k in 0..emit {
            out[o] = ALPHABET[((n >> (18 - 6 * k)) & 0x3F) as usize];
            o += 1;
        }
    }
    out
}

/// Strict decoding: exactly 43 base64url characters, canonical last character.
/// Ten groups of four characters make 30 bytes; the last three make two.
fn decode(text: &[u8]) -> Option<[u8; 32]> {
    let text: &[u8; ID_LEN] = text.try_into().ok()?;
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    let mut value = |c: u8| {
        let v = DECODE[usize::from(c)];
        invalid |= v; // INVALID is 0xFF; valid values stay below 64
        u32::from(v & 0x3F)
    };
    for group in 0..10 {
        let c = &text[group * 4..group * 4 + 4];
        let n = value(c[0]) << 18 | value(c[1]) << 12 | value(c[2]) << 6 | value(c[3]);
        out[group * 3] = (n >> 16) as u8;
        out[group * 3 + 1] = (n >> 8) as u8;
        out[group * 3 + 2] = n as u8;
    }
    let n = value(text[40]) << 18 | value(text[41]) << 12 | value(text[42]) << 6;
    out[30] = (n >> 16) as u8;
    out[31] = (n >> 8) as u8;
    if invalid & 0x40 != 0 || n & 0xFF != 0 {
        return None; // a byte outside the alphabet, or unused low bits set
    }
    Some(out)
}

impl FromStr for SessionId {
    type Err = Error;

    /// Parses an ID; anything but 43 canonical base64url characters is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = decode(s.as_bytes()).ok_or(Error::InvalidSessionId)?;
        let mut text = [0u8; ID_LEN];
        text.copy_from_slice(s.as_bytes());
        Ok(SessionId { bytes, text })
    }
}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Four characters (24 bits) tell IDs apart in a log without giving one away.
        let prefix = self.as_str().get(..4).unwrap_or_default();
        write!(f, "SessionId({prefix}…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_bytes() {
        for _ in 0..1000 {
            let id = SessionId::generate();
            assert_eq!(id.as_str().len(), ID_LEN);
            assert!(id
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            let again: SessionId = id.as_str().parse().unwrap();
            assert_eq!(again.as_bytes(), id.as_bytes());
        }
    }

    #[test]
    fn known_vectors() {
        assert_eq!(SessionId::from_bytes([0; 32]).as_str(), "A".repeat(43));
        let ones = SessionId::from_bytes([0xFF; 32]);
        assert_eq!(ones.as_str(), format!("{}8", "_".repeat(42)));
        // RFC 4648 test vector shape: "foobar" prefix.
        let mut bytes = [0u8; 32];
        bytes[..6].copy_from_slice(b"foobar");
        assert!(SessionId::from_bytes(bytes)
            .as_str()
            .starts_with("Zm9vYmFy"));
    }

    #[test]
    fn refuses_non_canonical_last_character() {
        let id = SessionId::from_bytes([0xFF; 32]);
        let mut text = id.as_str().to_owned();
        text.pop();
        for last in ['9', '-', '_'] {
            let candidate = format!("{text}{last}");
            assert!(candidate.parse::<SessionId>().is_err(), "{candidate}");
        }
        assert!(format!("{text}8").parse::<SessionId>().is_ok());
    }

    #[test]
    fn refuses_malformed_text() {
        let good = SessionId::generate().as_str().to_owned();
        let cases = [
            String::new(),
            good[..42].to_owned(),
            format!("{good}A"),
            format!("{}=", &good[..42]),
            format!("+{}", &good[1..]),
            format!("/{}", &good[1..]),
            format!("é{}", &good[2..]),
            format!(" {}", &good[1..]),
            "../../../../etc/passwd/../../../../../../../..".to_owned(),
        ];
        for case in cases {
            assert!(matches!(
                case.parse::<SessionId>(),
                Err(Error::InvalidSessionId)
            ));
        }
    }

    /// The straightforward decoder the fast one must agree with.
    fn reference_decode(text: &[u8]) -> Option<[u8; 32]> {
        if text.len() != ID_LEN {
            return None;
        }
        let mut bits = Vec::new();
        for &c in text {
            let v = ALPHABET.iter().position(|&a| a == c)?;
            bits.extend((0..6).rev().map(|k| (v >> k) & 1));
        }
        if bits[256..].iter().any(|&b| b != 0) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = bits[i * 8..i * 8 + 8]
                .iter()
                .fold(0, |acc, &b| acc << 1 | b as u8);
        }
        Some(out)
    }

    proptest::proptest! {
        #[test]
        fn decode_matches_the_reference(text in "[A-Za-z0-9_+/=. -]{43}") {
            proptest::prop_assert_eq!(decode(text.as_bytes()), reference_decode(text.as_bytes()));
        }

        #[test]
        fn decode_inverts_encode(bytes in proptest::prelude::any::<[u8; 32]>()) {
            proptest::prop_assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn debug_is_redacted() {
        let id = SessionId::generate();
        let shown = format!("{id:?}");
        assert!(!shown.contains(id.as_str()));
        assert!(shown.contains(&id.as_str()[..4]));
    }
}
