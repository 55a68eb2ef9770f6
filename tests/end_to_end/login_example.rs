//! `cargo run --example login`, as a newcomer runs it: the real program, on a
//! free port, driven by a real HTTP client with a cookie jar.

use crate::common::web;

use std::process::Command;

use web::{example, login_flow, start_example};

fn origin(url: &str) -> &str {
    url.trim_end_matches('/')
}

#[test]
fn the_login_example_serves_the_whole_flow_with_secure_cookies() {
    let (_server, url) = start_example("login", &[]);
    login_flow(origin(&url), "", true);
}

#[test]
fn with_insecure_http_the_cookie_drops_secure_and_the_page_says_why() {
    let (_server, url) = start_example("login", &["--insecure-http"]);
    login_flow(origin(&url), "", false);
    let page = web::Client::new().get(&url);
    assert!(page.body.contains("--insecure-http"), "{}", page.body);
    assert!(page.body.contains("Never use that flag in production"));
}

#[test]
fn the_page_explains_the_secure_cookie_on_plain_http() {
    let (_server, url) = start_example("login", &[]);
    let page = web::Client::new().get(&url);
    assert!(
        page.body.contains("HttpOnly; SameSite=Lax; Secure"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("cargo run --example login -- --insecure-http"));
}

#[test]
fn a_bad_port_or_argument_is_a_clear_error() {
    let out = Command::new(example("login"))
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PORT must be a port number"), "{stderr}");

    let out = Command::new(example("login"))
        .arg("--secure-please")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unexpected argument: --secure-please"),
        "{stderr}"
    );
    assert!(
        stderr.contains("usage: cargo run --example login"),
        "{stderr}"
    );
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(example("login"))
        .env("PORT", port.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}
