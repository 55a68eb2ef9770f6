//! `cookie::parse` on any header text: no panic, zero-copy, and the same pairs as
//! a naive reference reading (see `tests/common/fuzz_checks.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/fuzz_checks.rs"]
mod checks;

fuzz_target!(|header: &str| {
    checks::check_cookie_parse(header);
});
