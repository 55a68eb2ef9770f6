//! `cookie::serialize` with any name, value and options: an error that names the
//! real problem, or a header without CR/LF that parses back to the same pair.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/fuzz_checks.rs"]
mod checks;

#[derive(Debug, Arbitrary)]
struct Input {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    max_age_secs: Option<u64>,
    expires_secs: Option<i64>,
    http_only: bool,
    secure: bool,
    same_site: u8,
    partitioned: bool,
}

fuzz_target!(|input: Input| {
    let options = checks::OptionsInput {
        path: input.path,
        domain: input.domain,
        max_age_secs: input.max_age_secs,
        expires_secs: input.expires_secs,
        http_only: input.http_only,
        secure: input.secure,
        same_site: input.same_site,
        partitioned: input.partitioned,
    };
    checks::check_cookie_serialize(&input.name, &input.value, &options);
});
