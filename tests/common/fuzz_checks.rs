//! The properties that the fuzz targets (`fuzz/fuzz_targets/*.rs`) and their
//! proptest mirrors (`tests/security/fuzz_mirrors.rs`) both check: written once, so the
//! always-on mirrors and the coverage-guided fuzzer test the same claims.
//!
//! Each `check_*` function panics (fails) when a property is broken. Inputs are
//! plain Rust values; the fuzz targets build them from `arbitrary` bytes, the
//! mirrors from proptest strategies.

#![allow(dead_code)] // each test crate uses only some of the checks

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_session::cookie::{self, CookieOptions, SameSite};
use http_session::{Data, Error, Headers, Record, Session, SessionId, Store};

/// The name a persistent store (FileStore, RedisStore) keeps session `id`
/// under, computed as the store does: the lowercase hex of the SHA-256 of the
/// ID's 32 bytes (never the ID itself).
pub fn hashed_name(id: &SessionId) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a `FileStore` keeps session `id`, computed as the store does:
/// [`hashed_name`], in the store's directory.
pub trait FilePath {
    fn path_of(&self, id: &SessionId) -> std::path::PathBuf;
}

impl FilePath for http_session::FileStore {
    fn path_of(&self, id: &SessionId) -> std::path::PathBuf {
        self.dir().join(hashed_name(id))
    }
}

/// The report `on_rejection` gets for a well-formed ID the store does not know.
pub trait UnknownId {
    fn unknown(id: &SessionId) -> Self;
}

impl UnknownId for http_session::Rejection {
    fn unknown(id: &SessionId) -> Self {
        http_session::Rejection::UnknownId {
            prefix: http_session::IdPrefix::of(id),
        }
    }
}

/// `cookie::parse` never panics, borrows every pair from the header, and agrees
/// with a plain reference reading of RFC 6265's `cookie-string`.
pub fn check_cookie_parse(header: &str) {
    let pairs: Vec<(&str, &str)> = cookie::parse(header).collect();
    let range = header.as_ptr() as usize..=header.as_ptr() as usize + header.len();
    for (name, value) in &pairs {
        assert!(!name.is_empty(), "empty name from {header:?}");
        assert!(!name.contains([';', '=']), "name {name:?} from {header:?}");
        assert!(!value.contains(';'), "value {value:?} from {header:?}");
        assert!(!name.starts_with([' ', '\t']) && !name.ends_with([' ', '\t']));
        // Zero-copy: both halves point into the header itself.
        for part in [name, value] {
            assert!(range.contains(&(part.as_ptr() as usize)));
            assert!(range.contains(&(part.as_ptr() as usize + part.len())));
        }
    }
    assert!(pairs.len() <= header.matches(';').count() + 1);
    assert_eq!(pairs, reference_parse(header), "header {header:?}");
}

/// A deliberately naive second implementation of the documented rules.
fn reference_parse(header: &str) -> Vec<(&str, &str)> {
    let blank = |c: char| c == ' ' || c == '\t';
    header
        .split(';')
        .filter_map(|segment| {
            let eq = segment.find('=')?;
            let name = segment[..eq].trim_matches(blank);
            let value = segment[eq + 1..].trim_matches(blank);
            if name.is_empty() {
                return None;
            }
            let value = if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
                &value[1..value.len() - 1]
            } else {
                value
            };
            Some((name, value))
        })
        .collect()
}

/// Every input that `CookieOptions` can express, as plain data.
#[derive(Debug, Clone, Default)]
pub struct OptionsInput {
    pub path: Option<String>,
    pub domain: Option<String>,
    pub max_age_secs: Option<u64>,
    /// Seconds relative to 1970, negative for earlier times.
    pub expires_secs: Option<i64>,
    pub http_only: bool,
    pub secure: bool,
    /// 0: unset (the default, Lax), 1: Strict, 2: Lax, 3: None.
    pub same_site: u8,
    pub partitioned: bool,
}

impl OptionsInput {
    pub fn build(&self) -> CookieOptions {
        let mut o = CookieOptions::default()
            .http_only(self.http_only)
            .secure(self.secure)
            .partitioned(self.partitioned);
        if let Some(p) = &self.path {
            o = o.path(p);
        }
        if let Some(d) = &self.domain {
            o = o.domain(d);
        }
        if let Some(s) = self.max_age_secs {
            o = o.max_age(Duration::from_secs(s));
        }
        if let Some(s) = self.expires_secs {
            let t = if s >= 0 {
                UNIX_EPOCH.checked_add(Duration::from_secs(s.unsigned_abs()))
            } else {
                UNIX_EPOCH.checked_sub(Duration::from_secs(s.unsigned_abs()))
            };
            if let Some(t) = t {
                o = o.expires(t);
            }
        }
        match self.same_site % 4 {
            1 => o = o.same_site(SameSite::Strict),
            2 => o = o.same_site(SameSite::Lax),
            3 => o = o.same_site(SameSite::None),
            _ => {}
        }
        o
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Attributes `serialize` may write after the pair, with and without a value.
const VALUED: [&str; 5] = ["Path", "Domain", "Max-Age", "Expires", "SameSite"];
const FLAGS: [&str; 3] = ["HttpOnly", "Secure", "Partitioned"];

/// `cookie::serialize` either refuses with the error that names the real problem,
/// or writes one printable-ASCII header (no CR, LF or other control byte) that
/// parses back to exactly the same pair and holds no attribute it did not mean to.
pub fn check_cookie_serialize(name: &str, value: &str, options: &OptionsInput) {
    let opts = options.build();
    let name_ok = !name.is_empty() && name.bytes().all(is_token_byte);
    let first_bad_value = value.bytes().position(|b| !is_cookie_octet(b));
    match cookie::serialize(name, value, &opts) {
        Err(Error::InvalidCookieName { name: refused }) => {
            assert!(!name_ok, "valid name {name:?} refused");
            assert_eq!(refused, name);
        }
        Err(Error::InvalidCookieValue { position }) => {
            // Either check may run first; the position must be the first bad byte.
            assert_eq!(Some(position), first_bad_value, "value {value:?}");
        }
        Err(Error::InvalidCookieAttribute { attribute, reason }) => {
            assert!(name_ok && first_bad_value.is_none());
            assert!(!attribute.is_empty() && !reason.is_empty());
        }
        Err(other) => panic!("unexpected error {other:?} for {name:?}={value:?}"),
        Ok(header) => {
            assert!(name_ok, "bad name {name:?} accepted: {header:?}");
            assert!(
                name.len() + value.len() <= cookie::MAX_NAME_VALUE_LEN,
                "{header:?}"
            );
            for attribute in [&options.path, &options.domain].into_iter().flatten() {
                assert!(attribute.len() <= 1025, "{attribute:?}"); // Domain may lose a dot
            }
            assert_eq!(
                first_bad_value, None,
                "bad value {value:?} accepted: {header:?}"
            );
            check_header_shape(&header, name, value);
            if let Ok(removal) = cookie::serialize_removal(name, &opts) {
                check_header_shape(&removal, name, "");
                assert!(removal.contains("; Max-Age=0"), "{removal:?}");
            }
        }
    }
}

fn check_header_shape(header: &str, name: &str, value: &str) {
    assert!(
        header.bytes().all(|b| (0x20..0x7F).contains(&b)),
        "control or non-ASCII byte in {header:?}"
    );
    let mut segments = header.split("; ");
    let first = segments.next().unwrap_or_default();
    assert_eq!(first, format!("{name}={value}"), "header {header:?}");
    for attribute in segments {
        let key = attribute.split('=').next().unwrap_or_default();
        let known = if attribute.contains('=') {
            VALUED.contains(&key)
        } else {
            FLAGS.contains(&key)
        };
        assert!(known, "injected attribute {attribute:?} in {header:?}");
    }
    assert_eq!(
        cookie::parse(header).next(),
        Some((name, value)),
        "{header:?}"
    );
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `SessionId::from_str` accepts exactly the canonical 43-character base64url
/// strings, round-trips them, and never shows a whole ID in `Debug`.
pub fn check_session_id(text: &str) {
    let shaped = text.len() == 43 && text.bytes().all(|b| ALPHABET.contains(&b));
    // The last character carries 4 bits of data and 2 unused ones, which must be 0.
    let canonical = shaped
        && ALPHABET
            .iter()
            .position(|&c| Some(&c) == text.as_bytes().last())
            .is_some_and(|v| v & 3 == 0);
    match text.parse::<SessionId>() {
        Ok(id) => {
            assert!(canonical, "accepted {text:?}");
            assert_eq!(id.as_str(), text);
            assert_eq!(id.to_string(), text);
            assert_eq!(SessionId::from_bytes(*id.as_bytes()), id);
            assert!(!format!("{id:?}").contains(text));
        }
        Err(e) => {
            assert!(!canonical, "refused canonical {text:?}");
            assert!(matches!(e, Error::InvalidSessionId), "{e:?}");
            // The message never echoes the input (it may be a near-miss of a real ID).
            let generic = "".parse::<SessionId>().map(|_| ()).unwrap_err().to_string();
            assert_eq!(e.to_string(), generic);
        }
    }
}

/// Any 32 bytes make an ID whose text parses back to the same bytes.
pub fn check_id_bytes(bytes: [u8; 32]) {
    let id = SessionId::from_bytes(bytes);
    check_session_id(id.as_str());
    let again: SessionId = id.as_str().parse().expect("own text parses");
    assert_eq!(again.as_bytes(), &bytes);
}

/// A store wrapper that counts calls, to prove bounds on store traffic.
#[derive(Debug, Default)]
pub struct CountingStore<S> {
    pub inner: S,
    pub gets: AtomicUsize,
    pub writes: AtomicUsize,
    /// Updates whose closure asked to store its change.
    pub stored: AtomicUsize,
}

impl<S> CountingStore<S> {
    pub fn new(inner: S) -> Self {
        CountingStore {
            inner,
            gets: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            stored: AtomicUsize::new(0),
        }
    }

    /// Updates that stored a change.
    pub fn updates(&self) -> usize {
        self.stored.load(Ordering::SeqCst)
    }

    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.gets.store(0, Ordering::SeqCst);
        self.writes.store(0, Ordering::SeqCst);
    }
}

impl<S: Store> Store for CountingStore<S> {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(id)
    }
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.update(id, &mut |record| {
            let store = f(record);
            if store {
                self.stored.fetch_add(1, Ordering::SeqCst);
            }
            store
        })
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.create(id, record)
    }
    fn purge_expired(&self) -> Result<usize, Error> {
        self.inner.purge_expired()
    }
}

/// A session with one known session in it, for `check_from_request`.
pub struct RequestFixture {
    pub session: Session<Arc<CountingStore<http_session::MemoryStore>>>,
    pub store: Arc<CountingStore<http_session::MemoryStore>>,
    pub known: SessionId,
    pub data: Data,
    /// Rejections reported to the `on_rejection` hook.
    pub rejections: Arc<std::sync::Mutex<Vec<http_session::Rejection>>>,
}

impl RequestFixture {
    pub fn new() -> Self {
        let store = Arc::new(CountingStore::new(http_session::MemoryStore::new()));
        let rejections: Arc<std::sync::Mutex<Vec<http_session::Rejection>>> = Arc::default();
        let sink = Arc::clone(&rejections);
        let session = Session::builder()
            .store(Arc::clone(&store))
            .on_rejection(move |r| sink.lock().unwrap_or_else(|p| p.into_inner()).push(r))
            .build()
            .expect("default settings are valid");
        let mut data = Data::new();
        data.insert("user".into(), "ana".into());
        let known = session.create(data.clone()).expect("memory store accepts");
        RequestFixture {
            session,
            store,
            known,
            data,
            rejections,
        }
    }
}

/// How a fuzz input names a header: mostly `Cookie` in some spelling.
pub fn header_name(selector: u8, other: &str) -> &str {
    match selector % 6 {
        0 | 1 => "Cookie",
        2 => "cookie",
        3 => "COOKIE",
        4 => "X-Other",
        _ => other,
    }
}

/// `Session::from_request` over any header set: never panics or errs on a
/// healthy store, asks the store at most `MAX_CANDIDATES` times, and finds the
/// known session exactly when one of the first well-formed candidate IDs names it.
pub fn check_from_request(fixture: &RequestFixture, headers: &Headers) {
    fixture.store.reset();
    let take_reports = || std::mem::take(&mut *fixture.rejections.lock().unwrap());
    take_reports();
    let found = fixture
        .session
        .lookup(headers)
        .expect("a healthy store never fails a lookup");
    assert!(
        fixture.store.gets() <= http_session::MAX_CANDIDATES,
        "{} store lookups",
        fixture.store.gets()
    );
    // Independent oracle: the first MAX_CANDIDATES well-formed values of cookies
    // named like the session's, in every Cookie header, in order.
    let candidates: Vec<SessionId> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| cookie::parse(v))
        .filter(|(n, _)| *n == fixture.session.cookie_name())
        .filter_map(|(_, v)| v.parse().ok())
        .take(http_session::MAX_CANDIDATES)
        .collect();
    let reports = take_reports();
    assert!(
        reports.len() <= http_session::MAX_CANDIDATES + 1,
        "{reports:?}"
    );
    let unknown = reports
        .iter()
        .filter(|r| **r != http_session::Rejection::MalformedCookie);
    assert!(unknown.count() <= fixture.store.gets());
    assert!(!reports.contains(&http_session::Rejection::unknown(&fixture.known)));
    match found {
        Some((id, data)) => {
            assert_eq!(id, fixture.known);
            assert_eq!(data, fixture.data);
            assert!(candidates.contains(&fixture.known));
        }
        None => assert!(!candidates.contains(&fixture.known), "known ID missed"),
    }
    assert_eq!(
        fixture.session.id_from_request(headers),
        candidates.first().cloned()
    );
    // The known session is still intact: a lookup never changes it.
    let now = SystemTime::now();
    let record = fixture.store.inner.get(&fixture.known).expect("healthy");
    assert!(record.is_some_and(|r| !r.is_expired(now) && r.data == fixture.data));
}

/// A `FileStore` in a fresh private directory (on tmpfs when there is one,
/// since the store syncs every write), with one healthy session in it.
pub struct FileFixture {
    pub store: http_session::FileStore,
    pub healthy: SessionId,
    pub healthy_record: Record,
    _dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl FileFixture {
    /// A fixture in a directory of its own, removed when it is dropped.
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        FileFixture::in_dir(&format!(
            "http-session-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ))
    }

    /// A fixture in the fixed directory `name`, emptied first: for the fuzz
    /// target, whose process ends with `exit` and never drops its fixture.
    pub fn reused(name: &str) -> Self {
        FileFixture::in_dir(name)
    }

    fn in_dir(name: &str) -> Self {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let store = http_session::FileStore::open(&dir).expect("temp dir is writable");
        let healthy = SessionId::from_bytes([0x5A; 32]);
        let mut data = Data::new();
        data.insert("user".into(), "ana".into());
        let healthy_record = Record::new(data);
        store
            .set(&healthy, healthy_record.clone())
            .expect("healthy write");
        FileFixture {
            store,
            healthy,
            healthy_record,
            _dir: TempDir(dir),
        }
    }
}

/// `FileStore` reading a session file with any contents (a torn write, a disk
/// error, someone's editor): a `CorruptRecord` error or a valid, live record,
/// never a panic; a corrupt file is never overwritten by an update nor deleted
/// by a purge; other sessions are unaffected.
pub fn check_file_store_contents(fixture: &FileFixture, contents: &[u8]) {
    let store = &fixture.store;
    let id = SessionId::from_bytes([0xC3; 32]);
    let path = store.path_of(&id);
    std::fs::write(&path, contents).expect("tmp file writable");
    let now = SystemTime::now();

    let decoded = std::str::from_utf8(contents).ok().map(Record::decode);
    match store.get(&id) {
        Ok(Some(record)) => {
            assert!(!record.is_expired(now), "expired record returned");
            assert!(
                matches!(decoded, Some(Ok(_))),
                "accepted a file Record::decode refuses"
            );
            record.encode().expect("a record read back encodes again");
        }
        Ok(None) => assert!(
            matches!(&decoded, Some(Ok(r)) if r.is_expired(now)),
            "a present, unexpired file read as absent"
        ),
        Err(Error::CorruptRecord { reason }) => {
            assert!(
                !matches!(decoded, Some(Ok(_))),
                "refused a valid file: {reason}"
            );
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }

    // An update either works on a valid record or leaves the file untouched.
    let updated = store.update(&id, &mut |r| {
        r.data.insert("touched".into(), true.into());
        true
    });
    match updated {
        Ok(true) => {
            let record = store.get(&id).expect("rewritten file reads").expect("live");
            assert_eq!(record.data.get("touched"), Some(&true.into()));
        }
        Ok(false) => assert!(!path.exists(), "expired file left behind by update"),
        Err(Error::CorruptRecord { .. }) => {
            assert_eq!(std::fs::read(&path).expect("still there"), contents);
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }

    // A purge never fails on a bad file and never deletes a corrupt one.
    store.purge_expired().expect("purge skips bad files");
    if matches!(decoded, None | Some(Err(_))) {
        assert!(path.exists(), "purge deleted a corrupt file");
    }
    let _ = std::fs::remove_file(&path);

    assert_eq!(
        store.get(&fixture.healthy).expect("healthy read"),
        Some(fixture.healthy_record.clone())
    );
}
