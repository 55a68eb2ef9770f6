//! The example programs as users run them, driven over HTTP by real clients:
//! the login example, one session counted by parallel clients, the CGI
//! example under lighttpd, and the login example in headless Chromium.
//!
//! The lighttpd and Chromium tests are `#[ignore]`d (they need those
//! programs): `bash .ci/run` installs them and runs
//! `cargo test --test end_to_end -- --ignored`.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod cgi_host;
mod login_example;
mod parallel_counter;
