//! The `Set-Cookie` response header: options, validation and serialization.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http_date::{self, LAST_HTTP_DATE};
use crate::Error;

/// Browsers cap a cookie's lifetime at 400 days (RFC 6265bis); so does this crate.
pub(crate) const MAX_COOKIE_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// Browsers drop a cookie whose name and value together exceed this (RFC 6265bis,
/// ASVS 3.3.5): refusing it here beats a cookie that silently never comes back.
pub const MAX_NAME_VALUE_LEN: usize = 4096;
/// Browsers ignore a `Path` or `Domain` longer than this (RFC 6265bis).
const MAX_ATTRIBUTE_LEN: usize = 1024;

/// The `SameSite` attribute: when the browser sends the cookie on cross-site requests.
///
/// ```
/// use http_session::cookie::{serialize, CookieOptions, SameSite};
/// let opts = CookieOptions::default().same_site(SameSite::Strict);
/// assert!(serialize("s", "v", &opts)?.ends_with("SameSite=Strict"));
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Sent only on same-site requests.
    Strict,
    /// Sent on same-site requests and top-level cross-site navigations (the default).
    Lax,
    /// Sent on every request; requires `Secure`.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The attributes of a `Set-Cookie` header.
///
/// The default is the secure one: `Path=/; HttpOnly; Secure; SameSite=Lax`, with no
/// `Domain` (host-only), no `Max-Age` and no `Expires`. Setters chain:
///
/// ```
/// use http_session::cookie::{serialize, CookieOptions, SameSite};
/// use std::time::Duration;
///
/// let opts = CookieOptions::default()
///     .path("/app")
///     .domain("example.com")
///     .max_age(Duration::from_secs(3600))
///     .same_site(SameSite::Strict);
/// assert_eq!(
///     serialize("id", "42", &opts)?,
///     "id=42; Path=/app; Domain=example.com; Max-Age=3600; HttpOnly; Secure; SameSite=Strict"
/// );
/// # Ok::<(), http_session::Error>(())
/// ```
///
/// Plain-HTTP development servers need `.secure(false)`: browsers drop `Secure`
/// cookies sent over `http://` except on `localhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieOptions {
    pub(crate) path: Option<String>,
    pub(crate) domain: Option<String>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) http_only: bool,
    pub(crate) secure: bool,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
}

impl Default for CookieOptions {
    fn default() -> Self {
        CookieOptions {
            path: Some("/".to_owned()),
            domain: None,
            max_age: None,
            expires: None,
            http_only: true,
            secure: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
        }
    }
}

impl CookieOptions {
    /// `Path`: the URL path prefix the cookie is sent for. Default `/`.
    pub fn path(mut self, path: &str) -> Self {
        self.path = Some(path.to_owned());
        self
    }

    /// `Domain`: also send the cookie to subdomains of this domain. Default: none
    /// (host-only, the safer choice). A leading dot is dropped, as browsers do.
    pub fn domain(mut self, domain: &str) -> Self {
        self.domain = Some(domain.strip_prefix('.').unwrap_or(domain).to_owned());
        self
    }

    /// `Max-Age`, in whole seconds. A fraction of a second is rounded **up**
    /// (`999 ms` is written `Max-Age=1`, `1.5 s` is `Max-Age=2`), since
    /// `Max-Age=0` deletes the cookie: only [`Duration::ZERO`] writes
    /// `Max-Age=0`.
    ///
    /// ```
    /// use http_session::cookie::{serialize, CookieOptions};
    /// use std::time::Duration;
    ///
    /// let options = CookieOptions::default().max_age(Duration::from_millis(999));
    /// assert!(serialize("id", "42", &options)?.contains("; Max-Age=1;"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `Expires`: an absolute end for the cookie, written as an HTTP date.
    /// Times before 1970 or after the year 9999 are refused when serializing.
    pub fn expires(mut self, expires: SystemTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// `HttpOnly`: hide the cookie from page scripts. Default `true`.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// `Secure`: send the cookie over HTTPS only. Default `true`.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `SameSite`. Default [`SameSite::Lax`]; [`SameSite::None`] requires `Secure`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// `Partitioned` (CHIPS): keep a third-party cookie per top-level site.
    /// Requires `Secure`. Default `false`.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }
}

/// Writes one `Set-Cookie` header value, or refuses.
///
/// Nothing that could split the header or smuggle in an attribute gets through:
///
/// - the name must be an RFC 7230 token;
/// - the value must be RFC 6265 cookie-octets (no space, `"`, `,`, `;`, `\`,
///   control or non-ASCII byte; callers encode anything else first);
/// - `Path` and `Domain` must be printable ASCII without `;`;
/// - `SameSite=None` and `Partitioned` need `Secure`;
/// - a `__Secure-` name needs `Secure`; a `__Host-` name needs `Secure`, `Path=/`
///   and no `Domain` (prefixes are matched in any case, as browsers do);
///   `__Http-` and `__Host-Http-` names also need `HttpOnly`;
/// - `Expires` must lie between 1970 and the year 9999.
///
/// ```
/// use http_session::cookie::{serialize, CookieOptions};
/// use http_session::Error;
///
/// let ok = serialize("session_id", "abc", &CookieOptions::default())?;
/// assert_eq!(ok, "session_id=abc; Path=/; HttpOnly; Secure; SameSite=Lax");
///
/// let injected = serialize("a", "x; Domain=evil.example", &CookieOptions::default());
/// assert!(matches!(injected, Err(Error::InvalidCookieValue { .. })));
///
/// let insecure_host = serialize("__Host-id", "abc", &CookieOptions::default().secure(false));
/// assert!(insecure_host.is_err());
/// # Ok::<(), Error>(())
/// ```
pub fn serialize(name: &str, value: &str, options: &CookieOptions) -> Result<String, Error> {
    check_name(name)?;
    check_value(value)?;
    check_size(name, value)?;
    check_options(name, options)?;
    write(name, value, options, options.max_age, options.expires)
}

/// [`serialize`] for a value already known to be cookie-octets (a session ID's
/// base64url text), with `Max-Age` and `Expires` given apart from `options`
/// (which supply the rest), so a session can stamp its lifetime on its options
/// without cloning them.
pub(crate) fn serialize_with_lifetime(
    name: &str,
    value: &str,
    options: &CookieOptions,
    max_age: Option<Duration>,
    expires: Option<SystemTime>,
) -> Result<String, Error> {
    debug_assert!(check_value(value).is_ok());
    check_name(name)?;
    check_size(name, value)?;
    check_options(name, options)?;
    write(name, value, options, max_age, expires)
}

/// Writes a checked cookie; only `Expires` is left to check here.
fn write(
    name: &str,
    value: &str,
    options: &CookieOptions,
    max_age: Option<Duration>,
    expires: Option<SystemTime>,
) -> Result<String, Error> {
    let expires = expires.map(expires_secs).transpose()?;

    let path = options.path.as_deref().unwrap_or_default();
    let domain = options.domain.as_deref().unwrap_or_default();
    // Exact for everything but Max-Age's digits (20 at most).
    let capacity = name.len() + value.len() + path.len() + domain.len() + 128;
    let mut out = String::with_capacity(capacity);
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    if options.path.is_some() {
        out.push_str("; Path=");
        out.push_str(path);
    }
    if options.domain.is_some() {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if let Some(max_age) = max_age {
        out.push_str("; Max-Age=");
        push_decimal(&mut out, whole_seconds_up(max_age));
    }
    if let Some(secs) = expires {
        out.push_str("; Expires=");
        http_date::push(&mut out, secs);
    }
    if options.http_only {
        out.push_str("; HttpOnly");
    }
    if options.secure {
        out.push_str("; Secure");
    }
    if let Some(same_site) = options.same_site {
        out.push_str("; SameSite=");
        out.push_str(same_site.as_str());
    }
    if options.partitioned {
        out.push_str("; Partitioned");
    }
    Ok(out)
}

/// Seconds from 1970 to `expires`, if an HTTP date can name it.
fn expires_secs(expires: SystemTime) -> Result<u64, Error> {
    match expires.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= LAST_HTTP_DATE => Ok(d.as_secs()),
        _ => Err(Error::attribute(
            "Expires",
            "must lie between 1970 and the year 9999",
        )),
    }
}

/// `d` in whole seconds, a fraction rounded up: a lifetime under a second
/// must not become `Max-Age=0`, which deletes the cookie.
fn whole_seconds_up(d: Duration) -> u64 {
    let secs = d.as_secs();
    if d.subsec_nanos() == 0 {
        secs
    } else {
        secs.saturating_add(1)
    }
}

/// Appends `n` in decimal, without the formatting machinery.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Digits are ASCII, so this always succeeds.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or("0"));
}

/// Writes the `Set-Cookie` value that deletes cookie `name`: an empty value,
/// `Max-Age=0` and an `Expires` in 1970, with the same `Path`, `Domain` and
/// flags as `options`, so the browser matches and replaces the original.
///
/// ```
/// use http_session::cookie::{serialize_removal, CookieOptions};
/// assert_eq!(
///     serialize_removal("session_id", &CookieOptions::default())?,
///     "session_id=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
/// );
/// # Ok::<(), http_session::Error>(())
/// ```
pub fn serialize_removal(name: &str, options: &CookieOptions) -> Result<String, Error> {
    let removal = options.clone().max_age(Duration::ZERO).expires(UNIX_EPOCH);
    serialize(name, "", &removal)
}

/// A byte class as a table: names and values are checked on every
/// `Set-Cookie`, and one load per byte beats a chain of range tests.
macro_rules! byte_table {
    (|$b:ident| $class:expr) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            table[i] = $class;
            i += 1;
        }
        table
    }};
}

const TOKEN: [bool; 256] = byte_table!(|b| {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
});
const COOKIE_OCTET: [bool; 256] =
    byte_table!(|b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E));

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// RFC 6265 `cookie-octet`.
fn is_cookie_octet(b: u8) -> bool {
    COOKIE_OCTET[usize::from(b)]
}

/// Printable ASCII other than `;`: what `Path` and `Domain` may hold.
fn is_attribute_byte(b: u8) -> bool {
    (0x20..0x7F).contains(&b) && b != b';'
}

pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(Error::InvalidCookieName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), Error> {
    match value.bytes().position(|b| !is_cookie_octet(b)) {
        Some(position) => Err(Error::InvalidCookieValue { position }),
        None => Ok(()),
    }
}

fn check_size(name: &str, value: &str) -> Result<(), Error> {
    if name.len() + value.len() > MAX_NAME_VALUE_LEN {
        return Err(Error::attribute(
            "name and value",
            "longer than 4096 bytes together: browsers drop such cookies; keep the data server-side",
        ));
    }
    Ok(())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn check_options(name: &str, o: &CookieOptions) -> Result<(), Error> {
    if let Some(path) = &o.path {
        if path.is_empty() || path.len() > MAX_ATTRIBUTE_LEN || !path.bytes().all(is_attribute_byte)
        {
            return Err(Error::attribute(
                "Path",
                "must be 1 to 1024 bytes of printable ASCII without ';' (percent-encode other bytes)",
            ));
        }
    }
    if let Some(domain) = &o.domain {
        if domain.is_empty()
            || domain.len() > MAX_ATTRIBUTE_LEN
            || !domain.bytes().all(|b| is_attribute_byte(b) && b != b' ')
        {
            return Err(Error::attribute(
                "Domain",
                "must be a host name of 1 to 1024 bytes of printable ASCII without spaces or ';' (punycode for IDNs)",
            ));
        }
    }
    if o.same_site == Some(SameSite::None) && !o.secure {
        return Err(Error::attribute(
            "SameSite",
            "SameSite=None requires Secure (browsers reject it otherwise)",
        ));
    }
    if o.partitioned && !o.secure {
        return Err(Error::attribute(
            "Partitioned",
            "Partitioned requires Secure",
        ));
    }
    check_prefix(name, o)
}

/// Cookie name prefixes (RFC 6265bis and the layered-cookies draft).
fn check_prefix(name: &str, o: &CookieOptions) -> Result<(), Error> {
    let host = starts_with_ignore_case(name, "__Host-");
    let http =
        starts_with_ignore_case(name, "__Http-") || starts_with_ignore_case(name, "__Host-Http-");
    if (host || http || starts_with_ignore_case(name, "__Secure-")) && !o.secure {
        return Err(Error::attribute(
            "Secure",
            "cookies named __Secure-, __Host- or __Http- must be Secure",
        ));
    }
    if host && (o.path.as_deref() != Some("/") || o.domain.is_some()) {
        return Err(Error::attribute(
            "Path",
            "__Host- cookies need Path=/ and no Domain",
        ));
    }
    if http && !o.http_only {
        return Err(Error::attribute(
            "HttpOnly",
            "__Http- and __Host-Http- cookies must be HttpOnly",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_secure() {
        assert_eq!(
            serialize("a", "b", &CookieOptions::default()).unwrap(),
            "a=b; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn every_attribute() {
        let opts = CookieOptions::default()
            .path("/p")
            .domain(".example.com")
            .max_age(Duration::from_millis(3_599_100))
            .expires(UNIX_EPOCH + Duration::from_secs(784_111_777))
            .same_site(SameSite::None)
            .partitioned(true);
        assert_eq!(
            serialize("a", "b", &opts).unwrap(),
            "a=b; Path=/p; Domain=example.com; Max-Age=3600; \
             Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Secure; SameSite=None; Partitioned"
        );
        let bare = CookieOptions::default().http_only(false).secure(false);
        assert_eq!(
            serialize("a", "b", &bare).unwrap(),
            "a=b; Path=/; SameSite=Lax"
        );
    }

    #[test]
    fn refuses_bad_names() {
        for name in [
            "", "a b", "a;b", "a=b", "a\r\nb", "ñ", "a\"", "a,b", "(a)", "a\0",
        ] {
            assert!(
                matches!(
                    serialize(name, "v", &CookieOptions::default()),
                    Err(Error::InvalidCookieName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn refuses_bad_values() {
        for (value, at) in [
            ("a b", 1),
            ("a;b", 1),
            ("a,b", 1),
            ("\"ab\"", 0),
            ("a\\b", 1),
            ("a\r\nSet-Cookie: x=y", 1),
            ("é", 0),
            ("\x7f", 0),
        ] {
            match serialize("n", value, &CookieOptions::default()) {
                Err(Error::InvalidCookieValue { position }) => assert_eq!(position, at),
                other => panic!("{value:?} gave {other:?}"),
            }
        }
        assert!(serialize("n", "", &CookieOptions::default()).is_ok());
    }

    #[test]
    fn refuses_bad_path_and_domain() {
        for path in ["", "/a;b", "/a\nb", "/é"] {
            let opts = CookieOptions::default().path(path);
            assert!(serialize("n", "v", &opts).is_err(), "{path:?}");
        }
        for domain in ["", ".", "a;b", "a b", "a\r\n"] {
            let opts = CookieOptions::default().domain(domain);
            assert!(serialize("n", "v", &opts).is_err(), "{domain:?}");
        }
    }

    #[test]
    fn refuses_expires_out_of_range() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        let after = UNIX_EPOCH + Duration::from_secs(LAST_HTTP_DATE + 1);
        for t in [before, after] {
            let opts = CookieOptions::default().expires(t);
            assert!(matches!(
                serialize("n", "v", &opts),
                Err(Error::InvalidCookieAttribute {
                    attribute: "Expires",
                    ..
                })
            ));
        }
        let last = UNIX_EPOCH + Duration::from_secs(LAST_HTTP_DATE);
        let header = serialize("n", "v", &CookieOptions::default().expires(last)).unwrap();
        assert!(header.contains("Expires=Fri, 31 Dec 9999 23:59:59 GMT"));
    }

    #[test]
    fn same_site_none_and_partitioned_need_secure() {
        let none = CookieOptions::default()
            .same_site(SameSite::None)
            .secure(false);
        assert!(serialize("n", "v", &none).is_err());
        let part = CookieOptions::default().partitioned(true).secure(false);
        assert!(serialize("n", "v", &part).is_err());
    }

    #[test]
    fn prefixes() {
        let d = CookieOptions::default();
        assert!(serialize("__Host-id", "v", &d).is_ok());
        assert!(serialize("__host-id", "v", &d.clone().secure(false)).is_err());
        assert!(serialize("__HOST-id", "v", &d.clone().path("/app")).is_err());
        assert!(serialize("__Host-id", "v", &d.clone().domain("example.com")).is_err());
        assert!(serialize("__Secure-id", "v", &d).is_ok());
        assert!(serialize("__SECURE-id", "v", &d.clone().secure(false)).is_err());
        assert!(serialize("__Http-id", "v", &d).is_ok());
        assert!(serialize("__Http-id", "v", &d.clone().http_only(false)).is_err());
        assert!(serialize("__Host-Http-id", "v", &d.clone().http_only(false)).is_err());
        assert!(serialize("__Host-Http-id", "v", &d.clone().path("/x")).is_err());
        assert!(serialize("plain", "v", &d.clone().secure(false)).is_ok());
    }

    #[test]
    fn refuses_cookies_browsers_would_drop() {
        let d = CookieOptions::default();
        let name = "n".repeat(100);
        let fits = "v".repeat(MAX_NAME_VALUE_LEN - 100);
        assert!(serialize(&name, &fits, &d).is_ok());
        let over = format!("{fits}v");
        assert!(matches!(
            serialize(&name, &over, &d),
            Err(Error::InvalidCookieAttribute {
                attribute: "name and value",
                ..
            })
        ));
        assert!(serialize("n", "v", &d.clone().path(&"/".repeat(1024))).is_ok());
        assert!(serialize("n", "v", &d.clone().path(&"/".repeat(1025))).is_err());
        let domain = format!("{}.example", "a".repeat(1016));
        assert!(serialize("n", "v", &d.clone().domain(&domain)).is_ok());
        assert!(serialize("n", "v", &d.clone().domain(&format!("a{domain}"))).is_err());
    }

    #[test]
    fn removal_keeps_path_and_domain() {
        let opts = CookieOptions::default()
            .path("/app")
            .domain("example.com")
            .max_age(Duration::from_secs(60));
        assert_eq!(
            serialize_removal("sid", &opts).unwrap(),
            "sid=; Path=/app; Domain=example.com; Max-Age=0; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
        );
    }
}
