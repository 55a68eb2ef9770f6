//! `cookie::parse` on any header text: no panic, zero-copy, and the same pairs as
//! a naive reference reading (see `tests/fuzz_checks`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_checks/mod.rs"]
mod checks;

fuzz_target!(|header: &str| {
    checks::check_cookie_parse(header);
});
