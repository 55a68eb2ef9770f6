//! A visit counter on rouille, kept in the session through the per-request
//! handle: `cargo run --example rouille_counter --features rouille`, then open
//! the URL it prints (port from `PORT`, default 8080).
//!
//! - `GET /` counts the visit: the first one creates the session, later ones
//!   write through `Store::update`; each answer sets the cookie again, since its
//!   idle timeout rolled forward.
//! - `POST /reset` destroys the session and clears the cookie.
//!
//! Pass `--insecure-http` to drop the cookie's `Secure` attribute, for clients
//! that refuse Secure cookies over plain HTTP on 127.0.0.1 (browsers accept them).

use http_session::cookie::CookieOptions;
use http_session::{Error, Session};
use rouille::{router, Request, Response};

fn main() {
    let insecure_http = std::env::args().skip(1).any(|arg| arg == "--insecure-http");
    let port: u16 = match std::env::var("PORT").map(|p| p.parse()) {
        Err(_) => 8080,
        Ok(Ok(port)) => port,
        Ok(Err(_)) => {
            eprintln!("PORT must be a port number (0 to 65535)");
            std::process::exit(2);
        }
    };
    let session = Session::builder()
        .cookie_options(CookieOptions::default().secure(!insecure_http))
        .build()
        .unwrap_or_else(|e| panic!("the example's settings are valid: {e}"));
    let server = rouille::Server::new(("127.0.0.1", port), move |request| {
        respond(&session, request)
    })
    .unwrap_or_else(|e| {
        eprintln!("cannot listen on 127.0.0.1:{port}: {e} (set PORT to another port)");
        std::process::exit(1);
    });
    println!("http://127.0.0.1:{}/", server.server_addr().port());
    server.run();
}

/// Every answer depends on the session: never cached, varies with the cookie.
fn respond(session: &Session, request: &Request) -> Response {
    let response = router!(request,
        (GET) (/) => { count(session, request) },
        (POST) (/reset) => { reset(session, request) },
        _ => Ok(Response::empty_404()),
    );
    response
        .unwrap_or_else(|e| {
            eprintln!("session error: {e}");
            Response::text("the session store failed; try again\n").with_status_code(500)
        })
        .with_additional_header("Cache-Control", "no-store")
        .with_additional_header("Vary", "Cookie")
}

fn count(session: &Session, request: &Request) -> Result<Response, Error> {
    let mut handle = session.handle(request);
    // Atomic per key: parallel requests of one session lose no visit.
    let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    let mut response = Response::html(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Counter</title>\
         <p>Visits in this session: <b id=\"visits\">{visits}</b> (reload to count)</p>\
         <form method=\"post\" action=\"/reset\"><button>Reset</button></form>"
    ));
    handle.commit(&mut response)?;
    Ok(response)
}

fn reset(session: &Session, request: &Request) -> Result<Response, Error> {
    let mut handle = session.handle(request);
    handle.destroy()?;
    let mut response = Response::redirect_303("/");
    handle.commit(&mut response)?;
    Ok(response)
}
