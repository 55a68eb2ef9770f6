//! The `Cookie` request header, read as browsers and proxies really send it.

/// Reads a `Cookie` request header into `(name, value)` pairs borrowed from it.
///
/// The header is an RFC 6265 `cookie-string`, read leniently: segments are split
/// on `;`, spaces and tabs around names and values are trimmed, each segment is
/// split at its first `=`, one pair of surrounding double quotes is stripped from
/// the value, and every other byte is kept as it is (no percent-decoding).
/// Empty segments, segments without `=` and segments with an empty name are
/// skipped. Duplicates are kept, in order.
///
/// The iterator allocates nothing and visits each byte a bounded number of times,
/// so any header, however large or strange, costs time linear in its length.
///
/// ```
/// use http_session::cookie::parse;
///
/// let header = r#" a=1;; b = two ;novalue; =anon; q="quoted"; a=again; eq=x=y "#;
/// let pairs: Vec<(&str, &str)> = parse(header).collect();
/// assert_eq!(
///     pairs,
///     [("a", "1"), ("b", "two"), ("q", "quoted"), ("a", "again"), ("eq", "x=y")]
/// );
/// ```
pub fn parse(header: &str) -> Cookies<'_> {
    Cookies { rest: header }
}

/// The iterator returned by [`parse`].
#[derive(Debug, Clone)]
pub struct Cookies<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Cookies<'a> {
    type Item = (&'a str, &'a str);

    /// One pass over the bytes of each segment. Every index where the header is
    /// sliced sits next to an ASCII byte (`;`, `=`, space, tab, `"`) or at an end,
    /// so each slice falls on a character boundary.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = self.rest;
            let bytes = text.as_bytes();
            let len = bytes.len();
            if len == 0 {
                return None;
            }
            let name_start = skip_blanks(bytes, 0);
            let Some(k) = find_either(&bytes[name_start..], b'=', b';') else {
                self.rest = "";
                return None; // a last segment without '='
            };
            let i = name_start + k;
            if bytes[i] == b';' {
                self.rest = &text[i + 1..];
                continue; // a segment without '='
            }
            let name_end = trim_end(bytes, name_start, i);
            let value_start = skip_blanks(bytes, i + 1);
            let value_stop = match find_either(&bytes[value_start..], b';', b';') {
                Some(k) => value_start + k,
                None => len,
            };
            self.rest = if value_stop < len {
                &text[value_stop + 1..]
            } else {
                ""
            };
            if name_end == name_start {
                continue; // an empty name
            }
            let mut value_end = trim_end(bytes, value_start, value_stop);
            let mut value_start = value_start;
            if value_end - value_start >= 2
                && bytes[value_start] == b'"'
                && bytes[value_end - 1] == b'"'
            {
                value_start += 1;
                value_end -= 1;
            }
            return Some((&text[name_start..name_end], &text[value_start..value_end]));
        }
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The first index at or after `i` that is not a space or tab.
fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_blank(bytes[i]) {
        i += 1;
    }
    i
}

/// `end` moved back over trailing spaces and tabs, never before `start`.
fn trim_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && is_blank(bytes[end - 1]) {
        end -= 1;
    }
    end
}

/// Position of the first byte equal to `a` or `b`, eight bytes at a time.
///
/// A word XORed with a repeated needle has a zero byte where the needle is;
/// `(w - 0x01..) & !w & 0x80..` flags zero bytes, and its lowest flag is always
/// exact (a borrow can only flag bytes above a real zero), so the lowest set
/// bit of both masks ORed together is the first match.
fn find_either(bytes: &[u8], a: u8, b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (pa, pb) = (LO * u64::from(a), LO * u64::from(b));
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let (xa, xb) = (w ^ pa, w ^ pb);
        let hits = (xa.wrapping_sub(LO) & !xa | xb.wrapping_sub(LO) & !xb) & HI;
        if hits != 0 {
            return Some(base + (hits.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == a || c == b)
        .map(|k| base + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(header: &str) -> Vec<(&str, &str)> {
        parse(header).collect()
    }

    #[test]
    fn plain_pairs() {
        assert_eq!(pairs("a=1; b=2"), [("a", "1"), ("b", "2")]);
        assert_eq!(pairs("a=1;b=2"), [("a", "1"), ("b", "2")]);
    }

    #[test]
    fn whitespace_is_trimmed() {
        assert_eq!(pairs(" \ta = 1 \t;  b\t=\t2  "), [("a", "1"), ("b", "2")]);
    }

    #[test]
    fn quotes_stripped_once() {
        assert_eq!(pairs(r#"a="1""#), [("a", "1")]);
        assert_eq!(pairs(r#"a=""x"""#), [("a", "\"x\"")]);
        assert_eq!(pairs(r#"a=""#), [("a", "\"")]);
        assert_eq!(pairs(r#"a="""#), [("a", "")]);
        assert_eq!(pairs(r#"a="x"#), [("a", "\"x")]);
    }

    #[test]
    fn equals_inside_values() {
        assert_eq!(pairs("a=b=c==; d=="), [("a", "b=c=="), ("d", "=")]);
    }

    #[test]
    fn skipped_segments() {
        assert_eq!(pairs(";;a=1;novalue;=x; =y;;"), [("a", "1")]);
        assert_eq!(pairs(""), []);
        assert_eq!(pairs(";"), []);
        assert_eq!(pairs("   "), []);
    }

    #[test]
    fn empty_values_are_kept() {
        assert_eq!(pairs("a=; b= "), [("a", ""), ("b", "")]);
    }

    #[test]
    fn duplicates_kept_in_order() {
        assert_eq!(pairs("a=1; a=2; a=3"), [("a", "1"), ("a", "2"), ("a", "3")]);
    }

    /// The straightforward reading of the rules, as the byte scanner must behave.
    fn reference(header: &str) -> Vec<(&str, &str)> {
        fn trim(s: &str) -> &str {
            s.trim_matches([' ', '\t'])
        }
        header
            .split(';')
            .filter_map(|segment| segment.split_once('='))
            .map(|(name, value)| (trim(name), trim(value)))
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, value)| {
                let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    Some(inner) => inner,
                    None => value,
                };
                (name, value)
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn scanner_matches_the_reference(header in "[a-c =;\"\t\u{e9}]{0,64}") {
            proptest::prop_assert_eq!(pairs(&header), reference(&header));
        }

        #[test]
        fn scanner_matches_the_reference_on_any_text(header in ".{0,80}") {
            proptest::prop_assert_eq!(pairs(&header), reference(&header));
        }
    }

    #[test]
    fn find_either_agrees_with_a_plain_search() {
        let text: Vec<u8> = (0u32..300).map(|i| (i * 37 % 251) as u8).collect();
        for start in 0..40 {
            for end in start..text.len().min(start + 40) {
                let slice = &text[start..end];
                for (a, b) in [(b';', b'='), (b';', b';'), (0x80, 0xFF), (0, 1)] {
                    let expected = slice.iter().position(|&c| c == a || c == b);
                    assert_eq!(find_either(slice, a, b), expected, "{start}..{end} {a} {b}");
                }
            }
        }
        // Bytes one below the needle make the borrow trick misfire if done wrong.
        assert_eq!(find_either(b":::::::::;", b';', b';'), Some(9));
        assert_eq!(find_either(b"<<<<<<<<=", b'=', b';'), Some(8));
        assert_eq!(
            find_either(b"\x00;\x00\x00\x00\x00\x00\x00", b';', b';'),
            Some(1)
        );
    }

    #[test]
    fn other_bytes_kept_as_they_are() {
        assert_eq!(pairs("ñ=ü€; x=%20"), [("ñ", "ü€"), ("x", "%20")]);
        assert_eq!(pairs("a b=c d"), [("a b", "c d")]);
    }
}
