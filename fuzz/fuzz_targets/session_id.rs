//! `SessionId::from_str` on any text, and `SessionId::from_bytes` on any 32 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/fuzz_checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        checks::check_session_id(text);
    }
    if let Ok(bytes) = <[u8; 32]>::try_from(data) {
        checks::check_id_bytes(bytes);
    }
});
