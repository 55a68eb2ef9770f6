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

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            let (segment, rest) = match self.rest.find(';') {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, ""),
            };
            self.rest = rest;
            let Some((name, value)) = segment.split_once('=') else {
                continue;
            };
            let name = trim(name);
            if name.is_empty() {
                continue;
            }
            return Some((name, unquote(trim(value))));
        }
        None
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

fn unquote(value: &str) -> &str {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner,
        None => value,
    }
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

    #[test]
    fn other_bytes_kept_as_they_are() {
        assert_eq!(pairs("ñ=ü€; x=%20"), [("ñ", "ü€"), ("x", "%20")]);
        assert_eq!(pairs("a b=c d"), [("a b", "c d")]);
    }
}
