//! `FileStore` reading a session file with arbitrary contents: a clear
//! `CorruptRecord` or a valid live record, never a panic; corrupt files are
//! neither overwritten nor purged; other sessions are unaffected.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/fuzz_checks.rs"]
mod checks;

fn fixture() -> &'static checks::FileFixture {
    static FIXTURE: OnceLock<checks::FileFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| checks::FileFixture::reused("http-session-fuzz-file-store"))
}

fuzz_target!(|contents: &[u8]| {
    checks::check_file_store_contents(fixture(), contents);
});
