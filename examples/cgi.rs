//! The login example as a CGI program: one process per request, sessions kept
//! through the per-request handle.
//!
//! Build it with `cargo build --example cgi` and point a CGI host at
//! `target/debug/examples/cgi`; for example lighttpd:
//!
//! ```text
//! server.modules += ("mod_cgi", "mod_alias", "mod_setenv")
//! alias.url = ("/app" => "/path/to/target/debug/examples/cgi")
//! $HTTP["url"] =^ "/app" { cgi.assign = ("" => "") }
//! setenv.add-environment = ("SESSION_DIR" => "/path/to/sessions")
//! # or, for the sessions in one SQLite database file:
//! # setenv.add-environment = ("SESSION_STORE" => "sqlite:/path/to/sessions.db")
//! ```
//!
//! then open http://127.0.0.1:PORT/app/. Routes (after the script's name):
//! `/` (login form), `POST /login`, `/profile` (visit counter), `POST /update-role`,
//! `POST /logout`.
//!
//! **The store.** Each request is a new process, so sessions must live outside
//! it. `$SESSION_STORE` picks where:
//!
//! - `file:/path/to/dir` (the default, with `$SESSION_DIR` or
//!   `http-session-cgi` in the system's temp dir as the directory): a
//!   [`FileStore`], shared safely by every CGI process through file locks;
//! - `sqlite:/path/to/sessions.db`: a `SqliteStore` (this package's feature
//!   `sqlite`: `cargo build --example cgi --features sqlite`), one database file shared by every CGI process through
//!   SQLite's locks, each visit one `BEGIN IMMEDIATE` transaction.
//!
//! `$SESSION_DURABILITY=process-crash` leaves ordinary writes in the
//! operating system's cache instead of waiting for the disk (see
//! [`Durability`]); logouts are synced either way.
//!
//! A `MemoryStore` would start empty on every request: the cookie would be
//! set, but the next process would never have heard of it.

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use http_session::{CgiRequest, CgiResponse, Durability, Error, FileStore, Session, Store};
use support::{escape, field, parse_form};

/// The longest form body read, in bytes.
const MAX_FORM: usize = 4 * 1024;

fn main() {
    let request = CgiRequest::from_env();
    let response = match session() {
        Ok(session) => respond(&session, &request).unwrap_or_else(server_error),
        Err(e) => server_error(e),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = response.write_to(&mut stdout) {
        eprintln!("cannot write the response: {e}");
        std::process::exit(1);
    }
    let _ = stdout.flush();
}

/// The session settings: the defaults (cookie `session_id`, `HttpOnly; Secure;
/// SameSite=Lax`, 30 idle minutes), on a store that outlives the process.
fn session() -> Result<Session<Box<dyn Store>>, Error> {
    Session::builder().store(store()?).build()
}

/// The store `$SESSION_STORE` names (see the top of this file). With no
/// server process to clean up, the stores clean up on writes: a FileStore
/// purges expired files every 15 minutes, a SqliteStore removes a few expired
/// rows at each write (its default).
fn store() -> Result<Box<dyn Store>, Error> {
    // `SESSION_STORE` and `SESSION_DIR`, not `HTTP_` names: clients control
    // every `HTTP_*` variable through their request headers.
    let spec = std::env::var("SESSION_STORE").unwrap_or_default();
    if let Some(path) = spec.strip_prefix("sqlite:") {
        return sqlite_store(path);
    }
    let dir = match spec.strip_prefix("file:") {
        Some(dir) => PathBuf::from(dir),
        None if spec.is_empty() => std::env::var_os("SESSION_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("http-session-cgi")),
        None => {
            return Err(Error::InvalidConfig {
                reason: format!(
                    "SESSION_STORE is {spec:?}: expected file:/path/to/dir or \
                     sqlite:/path/to/sessions.db"
                ),
            })
        }
    };
    let store = FileStore::builder(dir)
        .sweep_interval(Duration::from_secs(15 * 60))
        .durability(durability()?)
        .build()?;
    Ok(Box::new(store))
}

/// `$SESSION_DURABILITY`: `power-cut` (the default: every write is on disk
/// before the response goes out) or `process-crash` (writes are left in the
/// OS's cache, as PHP's sessions are; logouts are still synced). See
/// [`Durability`].
fn durability() -> Result<Durability, Error> {
    match std::env::var("SESSION_DURABILITY")
        .unwrap_or_default()
        .as_str()
    {
        "" | "power-cut" => Ok(Durability::PowerCut),
        "process-crash" => Ok(Durability::ProcessCrash),
        other => Err(Error::InvalidConfig {
            reason: format!(
                "SESSION_DURABILITY is {other:?}: expected power-cut (the default) or \
                 process-crash"
            ),
        }),
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_store(path: &str) -> Result<Box<dyn Store>, Error> {
    let store = http_session::SqliteStore::builder(path)
        .durability(durability()?)
        .build()?;
    Ok(Box::new(store))
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_store(_path: &str) -> Result<Box<dyn Store>, Error> {
    Err(Error::InvalidConfig {
        reason: "SESSION_STORE names a SQLite database, but this build of the example has \
                 no SQLite support: build it with `cargo build --example cgi --features sqlite`"
            .to_owned(),
    })
}

fn respond(session: &Session<Box<dyn Store>>, request: &CgiRequest) -> Result<CgiResponse, Error> {
    let base = request.var("SCRIPT_NAME").unwrap_or("");
    let mut handle = session.handle(request);
    let mut response = match (request.method(), request.path_info()) {
        ("GET", "" | "/") => {
            let user = handle.get::<String>("userId")?;
            let who = match user {
                Some(user) => format!("<p>Logged in as <b>{}</b>.</p>", escape(&user)),
                None => "<p>Not logged in.</p>".to_owned(),
            };
            html(&format!(
                "{who}<form method=\"post\" action=\"{base}/login\">\
                 <label>User name <input name=\"user\" required maxlength=\"32\"></label>\
                 <button>Log in</button></form><p><a href=\"{base}/profile\">Profile</a></p>",
                base = escape(base),
            ))
        }
        ("POST", "/login") => {
            let form = match request.read_body(std::io::stdin().lock(), MAX_FORM) {
                Ok(body) => parse_form(&body).unwrap_or_default(),
                Err(e) => return Ok(text(400, &format!("cannot read the form: {e}\n"))),
            };
            let user = field(&form, "user");
            if user.is_empty() || user.chars().count() > 32 {
                return Ok(text(400, "a user name is 1 to 32 characters\n"));
            }
            // A fresh ID on login: an ID seen or planted before is worthless.
            handle.regenerate()?;
            handle.insert("userId", user)?;
            handle.insert("role", "user")?;
            redirect(&format!("{base}/profile"))
        }
        ("GET", "/profile") => {
            // Atomic: replayed on the stored count under the file lock (or in
            // the SQLite transaction) at commit, so parallel requests
            // (parallel processes) lose no visit.
            let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
            let status = match handle.get::<String>("userId")? {
                Some(user) => format!(
                    "<p id=\"status\">authenticated as <b id=\"user\">{}</b>, role <b id=\"role\">{}</b></p>\
                     <form method=\"post\" action=\"{base}/update-role\"><button>Make me admin</button></form>\
                     <form method=\"post\" action=\"{base}/logout\"><button>Log out</button></form>",
                    escape(&user),
                    escape(&handle.get::<String>("role")?.unwrap_or_default()),
                    base = escape(base),
                ),
                None => "<p id=\"status\">unauthenticated</p>".to_owned(),
            };
            html(&format!(
                "{status}<p>Visits in this session: <b id=\"visits\">{visits}</b></p>"
            ))
        }
        ("POST", "/update-role") => {
            if handle.get::<String>("userId")?.is_none() {
                return Ok(text(401, "Session not found: log in first.\n"));
            }
            handle.insert("role", "admin")?;
            handle.regenerate()?; // privileges changed: a fresh ID
            redirect(&format!("{base}/profile"))
        }
        ("POST", "/logout") => {
            handle.destroy()?;
            redirect(&format!("{base}/profile"))
        }
        (_, "" | "/" | "/login" | "/profile" | "/update-role" | "/logout") => {
            text(405, "method not allowed\n")
        }
        _ => text(404, "not found\n"),
    };
    handle.commit(&mut response)?;
    Ok(response)
}

/// Every answer depends on the session: never cached, varies with the cookie.
fn private(response: CgiResponse) -> CgiResponse {
    response
        .with_header("Cache-Control", "no-store")
        .with_header("Vary", "Cookie")
}

fn html(body: &str) -> CgiResponse {
    private(
        CgiResponse::new()
            .with_header("Content-Type", "text/html; charset=utf-8")
            .with_body(format!(
                "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
                 <title>http-session over CGI</title>{body}</html>\n"
            )),
    )
}

fn text(status: u16, message: &str) -> CgiResponse {
    private(
        CgiResponse::new()
            .with_status(status)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(message),
    )
}

/// `303 See Other`: after a POST, the browser GETs the next page.
fn redirect(to: &str) -> CgiResponse {
    private(
        CgiResponse::new()
            .with_status(303)
            .with_header("Location", to),
    )
}

fn server_error(e: Error) -> CgiResponse {
    eprintln!("session error: {e}"); // stderr goes to the web server's error log
    text(500, "the session store failed; try again\n")
}
