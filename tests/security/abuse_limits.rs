//! Abuse limits: what an attacker can make this crate do with hostile cookies,
//! floods of sessions and oversized data, bounded by counting the work (store
//! lookups, allocations, entries held), never by timing it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use crate::common::fuzz_checks::CountingStore;
use http_session::{
    cookie, Error, Headers, MemoryStore, Session, SessionId, DEFAULT_MAX_DATA_SIZE, MAX_CANDIDATES,
};
use serde_json::json;

// ---------------------------------------------------------------------------
// An allocator that counts, per thread, so parallel tests do not disturb it.

struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn note(allocs: usize, bytes: isize) {
    // `try_with`: the thread-local may be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + allocs));
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + bytes));
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(1, new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Allocations made on this thread while `f` runs.
fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

// ---------------------------------------------------------------------------

fn counted_session() -> (Session<Arc<CountingStore<MemoryStore>>>, SessionId) {
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    let session = Session::with_store(store);
    let id = session.create(json!({"user": "ana"})).unwrap();
    session.store().reset();
    (session, id)
}

fn cookie_header(value: &str) -> Headers {
    Headers::new().with("Cookie", value)
}

/// Text built to hurt a naive parser: quotes, separators, blanks, `=` runs.
fn pathological(bytes: usize) -> String {
    const PIECES: [&str; 8] = [
        "\"\"\"",
        ";;;",
        "===",
        " \t ",
        "a=\"",
        "\";",
        "session_id=\"",
        "=;=",
    ];
    let mut out = String::with_capacity(bytes + 16);
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(PIECES[i % PIECES.len()]);
        i += 1;
    }
    out
}

#[test]
fn a_one_megabyte_cookie_header_is_read_without_reaching_the_store() {
    let (session, id) = counted_session();
    let junk = pathological(1 << 20);
    assert_eq!(session.from_request(&cookie_header(&junk)).unwrap(), None);
    assert_eq!(session.store().gets(), 0);

    // The real cookie after a megabyte of junk is still found, with one lookup.
    let header = format!("{junk}; session_id={id}");
    assert!(session
        .from_request(&cookie_header(&header))
        .unwrap()
        .is_some());
    assert_eq!(session.store().gets(), 1);
}

#[test]
fn ten_thousand_cookies_cost_one_lookup() {
    let (session, id) = counted_session();
    let mut header: String = (0..10_000).map(|i| format!("c{i}=v{i}; ")).collect();
    header.push_str(&format!("session_id={id}"));
    assert!(session
        .from_request(&cookie_header(&header))
        .unwrap()
        .is_some());
    assert_eq!(session.store().gets(), 1);

    // The same cookies as 10,000 separate Cookie headers (HTTP/2 style).
    let mut req: Headers = (0..10_000)
        .map(|i| format!("c{i}=v{i}"))
        .collect::<Vec<_>>()
        .iter()
        .map(|v| ("Cookie", v.as_str()))
        .collect();
    req = req.with("Cookie", &format!("session_id={id}"));
    session.store().reset();
    assert!(session.from_request(&req).unwrap().is_some());
    assert_eq!(session.store().gets(), 1);
}

#[test]
fn ten_thousand_same_name_session_cookies_cost_at_most_four_lookups() {
    let (session, id) = counted_session();
    let unknown: Vec<SessionId> = (0..10_000).map(|_| SessionId::generate()).collect();
    let header = unknown
        .iter()
        .map(|u| format!("session_id={u}"))
        .collect::<Vec<_>>()
        .join("; ");
    assert_eq!(session.from_request(&cookie_header(&header)).unwrap(), None);
    assert_eq!(session.store().gets(), MAX_CANDIDATES);

    // The live ID among the first four well-formed candidates is found...
    for position in 0..MAX_CANDIDATES {
        session.store().reset();
        let mut values: Vec<String> = unknown[..100]
            .iter()
            .map(|u| format!("session_id={u}"))
            .collect();
        values.insert(position, format!("session_id={id}"));
        let found = session.lookup(&cookie_header(&values.join("; "))).unwrap();
        assert_eq!(found.map(|(matched, _)| matched), Some(id.clone()));
        // Every candidate is asked, never more: a second known one would be
        // a tossed cookie.
        assert_eq!(session.store().gets(), MAX_CANDIDATES);
    }
    // ...and past them it is not even looked up: the bound holds first.
    session.store().reset();
    let header = format!(
        "{}; session_id={id}",
        unknown[..MAX_CANDIDATES]
            .iter()
            .map(|u| format!("session_id={u}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert_eq!(session.from_request(&cookie_header(&header)).unwrap(), None);
    assert_eq!(session.store().gets(), MAX_CANDIDATES);
}

#[test]
fn duplicate_candidates_are_looked_up_once() {
    let (session, _) = counted_session();
    let unknown = SessionId::generate();
    let header = vec![format!("session_id={unknown}"); 10_000].join("; ");
    assert_eq!(session.from_request(&cookie_header(&header)).unwrap(), None);
    assert_eq!(session.store().gets(), 1);
}

#[test]
fn malformed_session_cookies_never_reach_the_store_nor_use_up_candidates() {
    let (session, id) = counted_session();
    let mut header: String = (0..10_000)
        .map(|i| format!("session_id=\"{}.{i}\"; ", "A".repeat(i % 50)))
        .collect();
    header.push_str(&format!("session_id={id}"));
    assert!(session
        .from_request(&cookie_header(&header))
        .unwrap()
        .is_some());
    assert_eq!(session.store().gets(), 1);
}

/// Parsing allocates nothing, however big or strange the header: its cost is one
/// pass over the bytes (the criterion bench `abuse` compares 1x and 10x inputs).
#[test]
fn parsing_hostile_headers_allocates_nothing() {
    for header in [
        pathological(1 << 20),
        ";".repeat(1 << 20),
        "=".repeat(1 << 20),
        "\"".repeat(1 << 20),
        " ".repeat(1 << 20),
        "a=".repeat(1 << 19),
    ] {
        let (pairs, allocations) = allocations_during(|| cookie::parse(&header).count());
        assert_eq!(allocations, 0, "{pairs} pairs");
    }
}

/// Reading a session from a hostile request allocates the same small amount
/// whatever the request's size: the work grows with the header only as a scan.
#[test]
fn request_lookup_allocations_do_not_grow_with_the_header() {
    let (session, id) = counted_session();
    let measure = |copies: usize| {
        let mut header = pathological(10_000 * copies);
        header.push_str(&format!("; session_id={id}"));
        let req = cookie_header(&header);
        let (found, allocations) = allocations_during(|| session.from_request(&req).unwrap());
        assert!(found.is_some());
        allocations
    };
    // The first read on a thread also sets up the store's per-thread scratch
    // record (allocations made once, not per request).
    measure(1);
    let small = measure(1);
    let large = measure(10);
    assert_eq!(small, large, "allocations for 1x and 10x headers");
    assert!(small < 32, "{small} allocations to read one small session");
}

/// A million creates against a store bounded at 10,000 keep it at 10,000, and
/// its memory flat: the bound is what an attacker who can create sessions
/// (every anonymous visitor can) is able to consume. `cargo test` runs 200,000
/// creates to stay quick; `.ci/run` runs the full million (`FLOOD_CREATES`).
#[test]
fn a_flood_of_creates_keeps_the_memory_store_at_its_bound() {
    let creates: usize = std::env::var("FLOOD_CREATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let bound = 10_000;
    let session = Session::with_store(MemoryStore::builder().max_sessions(bound).build());
    let mut baseline = None;
    for i in 1..=creates {
        session.create(json!({"n": i})).unwrap();
        if i % (creates / 10).max(1) == 0 {
            let len = session.store().len();
            assert!(len <= bound.min(i), "{len} sessions after {i} creates");
            if i >= 2 * bound {
                // A full shard frees 1/64 of itself at a time: never far below.
                assert!(
                    len >= bound - bound / 32,
                    "{len} sessions after {i} creates"
                );
            }
            // Once every shard's map has grown to its final size, memory stays put.
            if i >= 5 * bound {
                let live = live_bytes();
                let base = *baseline.get_or_insert(live);
                // Maps never shrink and entries vary by a few bytes: allow 10 %.
                assert!(
                    (live - base).abs() < base / 10,
                    "live bytes {live} after {i} creates, {base} earlier"
                );
            }
        }
    }
    assert!(session.store().len() <= bound);
    // The newest session survives the flood.
    let newest = session.create(json!({"last": true})).unwrap();
    assert!(session.get(&newest).unwrap().is_some());
}

#[test]
fn oversized_data_is_refused_with_a_clear_error_and_nothing_is_lost() {
    let limit = 1_000;
    let session = Session::builder().max_data_size(limit).build().unwrap();

    // create: refused, nothing stored.
    let big = json!({"blob": "x".repeat(limit)});
    match session.create(&big) {
        Err(Error::DataTooLarge { size, limit: l }) => {
            assert_eq!(l, limit);
            assert_eq!(size, serde_json::to_string(&big).unwrap().len());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.store().len(), 0);
    let message = session.create(&big).unwrap_err().to_string();
    assert!(message.contains("max_data_size"), "{message}");

    // Exactly at the limit is accepted; one byte more is not.
    let pad = |n: usize| json!({"p": "x".repeat(n - r#"{"p":""}"#.len())});
    let at_limit = session.create(pad(limit)).unwrap();
    assert!(matches!(
        session.create(pad(limit + 1)),
        Err(Error::DataTooLarge { .. })
    ));

    // update: a patch that would push the session over is refused, and the
    // session keeps its data and stays usable.
    let id = session.create(json!({"user": "ana", "n": 1})).unwrap();
    let before = session.get(&id).unwrap();
    let err = session
        .update(&id, json!({"blob": "y".repeat(limit - 20)}))
        .unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
    assert_eq!(session.get(&id).unwrap(), before);
    assert!(session.update(&id, json!({"n": 2})).unwrap());
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 2);

    // Many small patches cannot grow a session past the limit either.
    let mut refused = 0;
    for i in 0..100 {
        match session.update(&id, json!({format!("k{i}"): "v".repeat(20)})) {
            Ok(true) => {}
            Err(Error::DataTooLarge { .. }) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(refused > 0);
    let size = serde_json::to_string(&session.get(&id).unwrap().unwrap())
        .unwrap()
        .len();
    assert!(size <= limit, "{size}");
    assert!(session.get(&at_limit).unwrap().is_some());
}

#[test]
fn default_data_limit_is_64_kib() {
    let session = Session::new();
    assert_eq!(session.max_data_size(), DEFAULT_MAX_DATA_SIZE);
    assert_eq!(DEFAULT_MAX_DATA_SIZE, 64 * 1024);
    assert!(matches!(
        session.create(json!({"x": "x".repeat(64 * 1024)})),
        Err(Error::DataTooLarge { .. })
    ));
}

#[test]
fn non_object_data_is_refused_and_nothing_is_stored() {
    let session = Session::new();
    for (data, kind) in [
        (json!(null), "null"),
        (json!(1), "a number"),
        (json!("s"), "a string"),
        (json!([1]), "an array"),
        (json!(true), "a boolean"),
    ] {
        match session.create(&data) {
            Err(Error::NotAnObject { found }) => assert_eq!(found, kind),
            other => panic!("{data} gave {other:?}"),
        }
    }
    assert_eq!(session.store().len(), 0);
    let id = session.create(json!({"keep": true})).unwrap();
    assert!(matches!(
        session.update(&id, json!([1, 2])),
        Err(Error::NotAnObject { .. })
    ));
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"keep": true}).as_object().unwrap()
    );
}

#[test]
fn oversized_data_is_refused_and_nothing_is_lost() {
    let session = Session::builder().max_data_size(100).build().unwrap();
    let err = session.create(json!({"x": "y".repeat(200)})).unwrap_err();
    assert!(
        matches!(err, Error::DataTooLarge { limit: 100, .. }),
        "{err}"
    );
    assert_eq!(session.store().len(), 0);

    let id = session.create(json!({"a": "b".repeat(40)})).unwrap();
    let err = session
        .update(&id, json!({"a": "short", "c": "d".repeat(90)}))
        .unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }));
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"a": "b".repeat(40)}).as_object().unwrap(),
        "a refused merge leaves every key as it was"
    );
    assert!(session.update(&id, json!({"c": "small"})).unwrap());
}
