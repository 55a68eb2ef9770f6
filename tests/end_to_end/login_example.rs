//! `cargo run --example login`, as a newcomer runs it: the real program, on a
//! free port, driven by a real HTTP client with a cookie jar.

use crate::common::web;

use std::process::Command;

use web::{example, follow, login_flow, start_example, start_example_with_stderr, Answer, Client};

fn origin(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// One session as the devices page lists it.
#[derive(Debug)]
struct Row {
    /// The revocation handle its "Log out this device" form carries.
    handle: String,
    /// Marked "(this device)".
    current: bool,
}

/// The rows of a devices page, in order.
fn rows(page: &Answer) -> Vec<Row> {
    page.body
        .split("<tr class=\"session")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").expect("a closed row")];
            let start = row.find("name=\"handle\" value=\"").expect("a handle") + 21;
            let end = row[start..].find('"').expect("a quoted handle") + start;
            let current = row.starts_with(" current\"");
            assert_eq!(current, row.contains("(this device)"), "{row}");
            Row {
                handle: row[start..end].to_owned(),
                current,
            }
        })
        .collect()
}

/// Logs `client` in as `user`; returns its session cookie's value.
fn log_in(client: &Client, origin: &str, user: &str) -> String {
    let login = client.post(&format!("{origin}/login"), &[("user", user)]);
    assert_eq!(login.status, 303, "{login:?}");
    let cookie = client.session_cookie().expect("a session cookie");
    cookie
        .strip_prefix("session_id=")
        .expect("the session cookie")
        .to_owned()
}

/// Whom `client`'s profile says it is logged in as; `None` if anonymous.
fn logged_in_as(client: &Client, origin: &str) -> Option<String> {
    let profile = client.get(&format!("{origin}/profile"));
    assert_eq!(profile.status, 200, "{profile:?}");
    match profile.element("status") {
        Some("unauthenticated") => None,
        Some(_) => Some(profile.element("user").expect("a user").to_owned()),
        None => panic!("no status: {}", profile.body),
    }
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

#[test]
fn the_devices_page_lists_each_browser_and_logs_one_out_from_another() {
    let (_server, url) = start_example("login", &[]);
    let origin = origin(&url);
    let at = |path: &str| format!("{origin}{path}");
    // Two browsers (two cookie jars), one user.
    let (a, b) = (Client::new(), Client::new());
    let mut cookies = vec![log_in(&a, origin, "ana"), log_in(&b, origin, "ana")];
    assert_ne!(cookies[0], cookies[1], "two sessions");
    let mut pages = Vec::new();

    let profile = a.get(&at("/profile"));
    assert!(
        profile.body.contains("href=\"/devices\""),
        "{}",
        profile.body
    );

    // A sees both sessions, its own marked; B sees the same two, the other way round.
    let on_a = a.get(&at("/devices"));
    assert_eq!(on_a.status, 200, "{on_a:?}");
    assert_eq!(on_a.header("Cache-Control"), Some("no-store"));
    assert_eq!(on_a.element("user"), Some("ana"));
    assert_eq!(on_a.element("count"), Some("2"), "{}", on_a.body);
    let rows_a = rows(&on_a);
    assert_eq!(rows_a.len(), 2, "{rows_a:?}");
    assert_eq!(rows_a.iter().filter(|r| r.current).count(), 1, "{rows_a:?}");
    assert!(
        on_a.body.contains("127.0.0.1"),
        "the address: {}",
        on_a.body
    );
    let on_b = b.get(&at("/devices"));
    let rows_b = rows(&on_b);
    let a_handle = &rows_a.iter().find(|r| r.current).unwrap().handle;
    let b_handle = &rows_a.iter().find(|r| !r.current).unwrap().handle;
    assert_eq!(a_handle.len(), 32, "a handle is 32 hex digits: {a_handle}");
    assert!(
        rows_b.iter().any(|r| r.current && r.handle == *b_handle),
        "{rows_b:?}"
    );
    assert!(
        rows_b.iter().any(|r| !r.current && r.handle == *a_handle),
        "{rows_b:?}"
    );
    pages.extend([on_a, on_b]);

    // A logs B out by its handle: back to the devices page, one session left.
    let revoked = a.post(&at("/devices/revoke"), &[("handle", b_handle)]);
    assert_eq!(revoked.header("Location"), Some("/devices"), "{revoked:?}");
    let after = follow(&a, origin, &revoked);
    assert_eq!(after.element("count"), Some("1"), "{}", after.body);
    let left = rows(&after);
    assert!(left.len() == 1 && left[0].current, "{left:?}");
    pages.push(after);

    // B's next request is anonymous; A is still logged in.
    assert_eq!(logged_in_as(&b, origin), None);
    let b_devices = b.get(&at("/devices"));
    assert_eq!(b_devices.status, 401, "{b_devices:?}");
    assert_eq!(b_devices.element("status"), Some("unauthenticated"));
    assert_eq!(logged_in_as(&a, origin).as_deref(), Some("ana"));

    // A third browser logs in; "log out everywhere else" on A ends it, not A.
    let c = Client::new();
    cookies.push(log_in(&c, origin, "ana"));
    let before = a.get(&at("/devices"));
    assert_eq!(before.element("count"), Some("2"), "{}", before.body);
    pages.push(before);
    let others = a.post(&at("/devices/revoke-others"), &[]);
    assert_eq!(others.header("Location"), Some("/devices"), "{others:?}");
    let after = follow(&a, origin, &others);
    assert_eq!(after.element("count"), Some("1"), "{}", after.body);
    assert!(rows(&after)[0].current);
    pages.push(after);
    assert_eq!(logged_in_as(&c, origin), None);
    assert_eq!(logged_in_as(&a, origin).as_deref(), Some("ana"));

    // No page showed a cookie: only handles.
    for page in &pages {
        for cookie in &cookies {
            assert!(
                !page.body.contains(cookie.as_str()),
                "a session ID on the page"
            );
        }
    }
}

#[test]
fn a_garbage_handle_is_refused_and_another_users_handle_ends_nothing() {
    let (_server, url) = start_example("login", &[]);
    let origin = origin(&url);
    let at = |path: &str| format!("{origin}{path}");
    let (ana, bob) = (Client::new(), Client::new());
    log_in(&ana, origin, "ana");
    log_in(&bob, origin, "bob");

    for garbage in ["not-a-handle", "", "0123456789ABCDEF0123456789ABCDEF"] {
        let refused = ana.post(&at("/devices/revoke"), &[("handle", garbage)]);
        assert_eq!(refused.status, 400, "{garbage:?}: {refused:?}");
        assert!(
            refused.body.contains("not a revocation handle"),
            "{}",
            refused.body
        );
    }

    // Bob's handle, presented by ana: bob stays logged in.
    let bobs = rows(&bob.get(&at("/devices")));
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    let tried = ana.post(&at("/devices/revoke"), &[("handle", &bobs[0].handle)]);
    assert_eq!(tried.status, 303, "{tried:?}");
    assert_eq!(logged_in_as(&bob, origin).as_deref(), Some("bob"));
    assert_eq!(logged_in_as(&ana, origin).as_deref(), Some("ana"));
    let listed = ana.get(&at("/devices"));
    assert!(!listed.body.contains(&bobs[0].handle), "{}", listed.body);

    // Without a login: no page, no revoking.
    let anonymous = Client::new();
    let page = anonymous.get(&at("/devices"));
    assert_eq!(page.status, 401, "{page:?}");
    assert_eq!(page.element("status"), Some("unauthenticated"));
    let tried = anonymous.post(&at("/devices/revoke"), &[("handle", &bobs[0].handle)]);
    assert_eq!(tried.status, 401, "{tried:?}");
    let tried = anonymous.post(&at("/devices/revoke-others"), &[]);
    assert_eq!(tried.status, 401, "{tried:?}");
    assert_eq!(logged_in_as(&bob, origin).as_deref(), Some("bob"));
}

#[test]
fn the_login_example_prints_each_session_event_to_stderr_without_an_id() {
    let (_server, url, stderr) = start_example_with_stderr("login", &[]);
    let origin = origin(&url);
    let (a, b) = (Client::new(), Client::new());
    let mut cookies = vec![log_in(&a, origin, "ana"), log_in(&b, origin, "ana")];
    // A privilege change regenerates A's session, keeping its user.
    let role = a.post(&format!("{origin}/update-role"), &[]);
    assert_eq!(role.status, 303, "{role:?}");
    cookies.push(a.session_cookie().expect("a cookie"));
    let other = a.post(&format!("{origin}/devices/revoke-others"), &[]);
    assert_eq!(other.status, 303, "{other:?}");
    let text = stderr.wait_for("session: revoked");
    for line in [
        "session: created",
        "session: regenerated (user \"ana\")",
        "session: bound to user \"ana\"",
        "session: revoked",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    // B's next request: its cookie leads nowhere, reported as a rejection.
    assert_eq!(logged_in_as(&b, origin), None);
    let text = stderr.wait_for("session: rejected");
    assert!(
        text.contains("session: rejected: unknown or expired session ID"),
        "{text}"
    );
    for cookie in &cookies {
        assert!(
            !text.contains(cookie.as_str()),
            "a cookie value on stderr:\n{text}"
        );
    }
}
