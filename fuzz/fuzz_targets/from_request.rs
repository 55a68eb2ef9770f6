//! `Session::from_request` over arbitrary header sets, with one live session that
//! the fuzzer can plant anywhere: never a panic or an error, at most
//! `MAX_CANDIDATES` store lookups, and the live session found exactly when a
//! leading well-formed candidate names it.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use http_session::{Headers, Response};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/fuzz_checks.rs"]
mod checks;

#[derive(Debug, Arbitrary)]
struct Input {
    headers: Vec<(u8, String, String)>,
    /// Insert `session_id=<live id>` into header `.0` at byte `.1` (clamped).
    plant: Option<(u8, u16)>,
}

fn fixture() -> &'static checks::RequestFixture {
    static FIXTURE: OnceLock<checks::RequestFixture> = OnceLock::new();
    FIXTURE.get_or_init(checks::RequestFixture::new)
}

fuzz_target!(|input: Input| {
    let fixture = fixture();
    let mut values: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(sel, other, value)| (checks::header_name(*sel, other).to_owned(), value.clone()))
        .collect();
    if let Some((which, at)) = input.plant {
        if !values.is_empty() {
            let i = usize::from(which) % values.len();
            let value = &mut values[i].1;
            let mut at = usize::from(at).min(value.len());
            while !value.is_char_boundary(at) {
                at -= 1;
            }
            value.insert_str(at, &format!("session_id={}", fixture.known));
        }
    }
    let mut headers = Headers::new();
    for (name, value) in &values {
        headers.append_header(name, value);
    }
    checks::check_from_request(fixture, &headers);
});
