//! A login server on tiny_http: `cargo run --example login`, then open the URL it
//! prints (http://127.0.0.1:8080/ unless `PORT` says otherwise).
//!
//! It mirrors the routes of the TypeScript seed's documentation and shows the
//! calls of its `Session` class, plus the per-request handle. Where the seed
//! reads the ID from the cookie and `get`s the session, it calls `lookup`: it
//! returns the ID the store knows, with its data (the first well-formed cookie
//! may be a stale or a planted one).
//!
//! | route | what happens | calls |
//! |---|---|---|
//! | `GET /` | login form; says who is logged in | `from_request` |
//! | `POST /login` | logs in: a fresh session, or the visitor's one under a fresh ID | `lookup`, `regenerate`, `update`, `create`, `set_cookie_with` |
//! | `GET /profile` | authenticated or not, and a visit counter | `handle`, `SessionHandle::{update, data, commit}` |
//! | `POST /update-role` | makes the user an admin (a new ID: privileges changed) | `lookup`, `update`, `regenerate` |
//! | `POST /logout` | deletes the session, clears the cookie | `lookup`, `delete` |
//! | `GET /devices` | the user's sessions: browser, address, sign-in, last seen; this one marked | `lookup`, `sessions_of` |
//! | `POST /devices/revoke` | logs out the session whose handle the form carries | `lookup`, `revoke` |
//! | `POST /devices/revoke-others` | logs out every session of the user but this one | `lookup`, `revoke_all` |
//!
//! Logging in binds the session to the user, with the browser's `User-Agent`
//! and address (`bind_user_with`). The devices page names each session by its
//! revocation handle, never by its ID: the page shows no cookie, and a handle
//! ends only a session of the user who presents it.
//!
//! Cookies are `HttpOnly; SameSite=Lax; Secure`. Browsers accept `Secure`
//! cookies from http://127.0.0.1 because they treat loopback as a secure
//! context (Chrome, Edge and Firefox do; Safari does not). For a client that
//! does not, start with `--insecure-http` to drop `Secure`: never in production.
//!
//! State-changing routes are POST forms: with `SameSite=Lax`, another site
//! cannot make the browser send the cookie with a cross-site POST.

mod support;

use std::io::Read;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime};

use http_session::cookie::CookieOptions;
use http_session::store::RevocationHandle;
use http_session::{
    Error, Request as _, Response as _, Session, SessionEvent, SessionId, SessionInfo,
};
use serde_json::{json, Value};
use support::{escape, field, parse_form};
use tiny_http::{Method, Response, Server};

type Page = Response<std::io::Cursor<Vec<u8>>>;

/// Most sessions one user may hold: a sixth login ends the least recently
/// seen.
const MAX_DEVICES: usize = 5;

/// The longest form body read, in bytes.
const MAX_FORM: usize = 4 * 1024;

fn main() {
    let insecure_http = match parse_args(std::env::args().skip(1)) {
        Ok(insecure_http) => insecure_http,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let port = match std::env::var("PORT") {
        Err(_) => 8080,
        Ok(text) => text.parse::<u16>().unwrap_or_else(|_| {
            eprintln!("PORT must be a port number (0 to 65535), not {text:?}");
            std::process::exit(2);
        }),
    };
    let server = Server::http(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("cannot listen on 127.0.0.1:{port}: {e} (set PORT to another port)");
        std::process::exit(1);
    });
    let port = server
        .server_addr()
        .to_ip()
        .map_or(port, |addr| addr.port());
    println!("http://127.0.0.1:{port}/"); // the first line: the URL to open
    if insecure_http {
        println!("--insecure-http: cookies are sent without Secure (development only)");
    }
    println!("Ctrl-C stops the server.");
    serve(server, App::new(insecure_http));
}

/// `--insecure-http` or nothing; `--help` prints usage.
fn parse_args(args: impl Iterator<Item = String>) -> Result<bool, String> {
    let mut insecure_http = false;
    for arg in args {
        match arg.as_str() {
            "--insecure-http" => insecure_http = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("{USAGE}\nunexpected argument: {arg}")),
        }
    }
    Ok(insecure_http)
}

const USAGE: &str = "usage: cargo run --example login [-- --insecure-http]
Serves http://127.0.0.1:$PORT/ (PORT=8080 by default). --insecure-http drops the
Secure cookie attribute, for clients that refuse Secure cookies over plain HTTP
on 127.0.0.1; never use it in production.";

/// What every worker thread shares.
pub struct App {
    session: Session,
    insecure_http: bool,
}

impl App {
    pub fn new(insecure_http: bool) -> App {
        let options = CookieOptions::default().secure(!insecure_http); // HttpOnly, SameSite=Lax by default
        let session = Session::builder()
            .cookie_options(options)
            .max_sessions_per_user(MAX_DEVICES)
            // One line per session event, so you see what happens: never an
            // ID, only the user and the session's revocation handle.
            .on_event(|event: &SessionEvent| eprintln!("session: {event}"))
            .build()
            .unwrap_or_else(|e| panic!("the example's settings are valid: {e}"));
        App {
            session,
            insecure_http,
        }
    }
}

/// Answers requests on four worker threads, forever (or until the server is
/// unblocked).
pub fn serve(server: Server, app: App) {
    let server = Arc::new(server);
    let app = Arc::new(app);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (server, app) = (Arc::clone(&server), Arc::clone(&app));
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    handle(&app, request);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
}

fn handle(app: &App, mut request: tiny_http::Request) {
    let path = request.url().split('?').next().unwrap_or("/").to_owned();
    let result = match (request.method(), path.as_str()) {
        (Method::Get, "/") => index(app, &request),
        (Method::Post, "/login") => {
            read_form(&mut request).and_then(|form| login(app, &request, &form))
        }
        (Method::Get, "/profile") => profile(app, &request),
        (Method::Post, "/update-role") => update_role(app, &request),
        (Method::Post, "/logout") => logout(app, &request),
        (Method::Get, "/devices") => devices(app, &request),
        (Method::Post, "/devices/revoke") => {
            read_form(&mut request).and_then(|form| revoke(app, &request, &form))
        }
        (Method::Post, "/devices/revoke-others") => revoke_others(app, &request),
        (
            _,
            "/"
            | "/login"
            | "/profile"
            | "/update-role"
            | "/logout"
            | "/devices"
            | "/devices/revoke"
            | "/devices/revoke-others",
        ) => Ok(text(405, "method not allowed: use the page's buttons\n")),
        _ => Ok(text(404, "not found\n")),
    };
    let response = result.unwrap_or_else(|failure| failure);
    let _ = request.respond(response);
}

/// `GET /`: the login form. `from_request` is the seed's `fromRequest(req)`.
fn index(app: &App, request: &tiny_http::Request) -> Result<Page, Page> {
    let data = app.session.from_request(request).map_err(server_error)?;
    let who = match data.as_ref().and_then(|d| d.get("userId")) {
        Some(Value::String(user)) => format!("<p>Logged in as <b>{}</b>.</p>", escape(user)),
        _ => "<p>Not logged in.</p>".to_owned(),
    };
    let body = format!(
        r#"{who}
<form method="post" action="/login">
  <label>User name <input name="user" required maxlength="32" autofocus></label>
  <button type="submit">Log in</button>
</form>
<p><a href="/profile">Profile</a></p>
{cookie}"#,
        cookie = cookie_note(app),
    );
    Ok(html(200, "Log in", &body))
}

/// `POST /login`: the seed's `create(data)` and `setCookie(res, id, options)`;
/// a visitor who already has a session keeps its data under a fresh ID. Then
/// the session is bound to the user, with the browser's `User-Agent` and
/// address, for the devices page.
fn login(app: &App, request: &tiny_http::Request, form: &[(String, String)]) -> Result<Page, Page> {
    let user = field(form, "user");
    if user.is_empty() || user.chars().count() > 32 || user.chars().any(char::is_control) {
        return Err(text(
            400,
            "a user name is 1 to 32 characters, without control characters\n",
        ));
    }
    let session = &app.session;
    let login = json!({"userId": user, "role": "user"});
    let mut response = redirect("/profile");
    // The seed's `req.cookies.get("session_id")` and `get(id)` in one call:
    // the ID the store knows, if the visitor has a session.
    let existing = session
        .lookup(request)
        .map_err(server_error)?
        .map(|(id, _data)| id);
    // Keep the visits counted before login, but never the ID: an ID seen or
    // planted before login is worthless after it.
    let regenerated = match existing {
        Some(old_id) => session
            .regenerate(&old_id, &mut response)
            .map_err(server_error)?,
        None => None,
    };
    let id = match regenerated {
        Some(new_id) => {
            session.update(&new_id, login).map_err(server_error)?;
            new_id
        }
        // No session, or it ended meanwhile (logged out or revoked elsewhere).
        None => {
            let id = session.create(login).map_err(server_error)?;
            // `set_cookie(&mut response, &id)` uses the session's options; this
            // is the seed's three-argument form, with explicit options.
            let options = session
                .cookie_options()
                .clone()
                .max_age(Duration::from_secs(30 * 60)); // the idle timeout
            session
                .set_cookie_with(&mut response, &id, &options)
                .map_err(server_error)?;
            id
        }
    };
    // Listed on the devices page from now on; regenerating keeps the binding.
    let user_agent = request.header("User-Agent");
    let ip = request.remote_addr().map(|addr| addr.ip().to_string());
    session
        .bind_user_with(&id, user, user_agent, ip.as_deref())
        .map_err(server_error)?;
    Ok(response)
}

/// `GET /profile`: authenticated or not, and a visit counter, through the
/// per-request handle: one store write, one cookie when needed. The count is
/// an atomic `update` (replayed on the stored value at commit), so parallel
/// requests lose no visit, where reading, adding one and inserting would.
fn profile(app: &App, request: &tiny_http::Request) -> Result<Page, Page> {
    let mut handle = app.session.handle(request);
    let visits = handle
        .update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)
        .map_err(server_error)?;
    let data = handle.data().map_err(server_error)?;
    let user = data.get("userId").and_then(Value::as_str);
    let status = match user {
        Some(user) => format!(
            "<p id=\"status\">authenticated as <b id=\"user\">{}</b>, role <b id=\"role\">{}</b></p>\n\
             <form method=\"post\" action=\"/update-role\"><button id=\"update-role\">Make me admin</button></form>\n\
             <form method=\"post\" action=\"/logout\"><button id=\"logout\">Log out</button></form>\n\
             <p><a href=\"/devices\" id=\"devices\">Your devices</a>: where you are logged in</p>",
            escape(user),
            escape(data.get("role").and_then(Value::as_str).unwrap_or("")),
        ),
        None => "<p id=\"status\">unauthenticated</p>\n<p><a href=\"/\">Log in</a></p>\n\
                 <p class=\"hint\">Logged in but see this? Either this device was logged out from \
                 another one (its devices page), or your client refused the Secure cookie over plain \
                 HTTP: then restart with <code>cargo run --example login -- --insecure-http</code>.</p>"
            .to_owned(),
    };
    let body = format!(
        "{status}\n<p>Visits in this session: <b id=\"visits\">{visits}</b> (reload to count)</p>\n\
         <pre id=\"data\">{}</pre>\n{}",
        escape(&Value::Object(data).to_string()),
        cookie_note(app),
    );
    let mut response = html(200, "Profile", &body);
    handle.commit(&mut response).map_err(server_error)?;
    Ok(response)
}

/// `POST /update-role`: the seed's `update(id, data)`, then a fresh ID, since the
/// session's privileges changed.
fn update_role(app: &App, request: &tiny_http::Request) -> Result<Page, Page> {
    let session = &app.session;
    let Some((id, _data)) = session.lookup(request).map_err(server_error)? else {
        return Ok(text(401, "Session not found: log in first.\n"));
    };
    if !session
        .update(&id, json!({"role": "admin"}))
        .map_err(server_error)?
    {
        return Ok(text(401, "Session not found: log in first.\n"));
    }
    let mut response = redirect("/profile");
    session
        .regenerate(&id, &mut response)
        .map_err(server_error)?;
    Ok(response)
}

/// `POST /logout`: the seed's `delete(id, res)`: store entry gone, cookie cleared.
fn logout(app: &App, request: &tiny_http::Request) -> Result<Page, Page> {
    let mut response = redirect("/profile");
    match app.session.lookup(request).map_err(server_error)? {
        Some((id, _data)) => app
            .session
            .delete(&id, &mut response)
            .map_err(server_error)?,
        // Expired or unknown: clear the stale cookie all the same.
        None => app.session.clear_cookie(&mut response),
    }
    Ok(response)
}

/// The user a request's session is logged in as, with the session's ID: the
/// ID to mark this device and to keep on "log out everywhere else". `None`
/// for an anonymous visitor.
fn logged_in(app: &App, request: &tiny_http::Request) -> Result<Option<(SessionId, String)>, Page> {
    let found = app.session.lookup(request).map_err(server_error)?;
    Ok(found.and_then(|(id, data)| match data.get("userId") {
        Some(Value::String(user)) => Some((id, user.clone())),
        _ => None,
    }))
}

/// `GET /devices`: the user's sessions, most recently seen first, each with a
/// button that logs it out. Rows carry the session's revocation handle, which
/// ends it through `revoke`; the page never shows a session ID.
fn devices(app: &App, request: &tiny_http::Request) -> Result<Page, Page> {
    let Some((id, user)) = logged_in(app, request)? else {
        let body = "<p id=\"status\">unauthenticated</p>\n<p><a href=\"/\">Log in</a> to see \
                    where you are logged in.</p>";
        return Ok(html(401, "Your devices", body));
    };
    let sessions = app
        .session
        .sessions_of(&user, Some(&id))
        .map_err(server_error)?;
    let now = SystemTime::now();
    let rows: String = sessions.iter().map(|s| device_row(s, now)).collect();
    let body = format!(
        "<p id=\"status\">authenticated as <b id=\"user\">{user}</b>: \
         <b id=\"count\">{count}</b> {sessions_word}</p>\n\
         <table id=\"sessions\">\n<tr><th>Browser</th><th>Address</th><th>Signed in</th>\
         <th>Last seen</th><th></th></tr>\n{rows}</table>\n\
         <form method=\"post\" action=\"/devices/revoke-others\">\
         <button id=\"revoke-others\">Log out everywhere else</button></form>\n\
         <p><a href=\"/profile\">Profile</a></p>\n\
         <p class=\"note\">Each button names its session by a revocation handle, not by its \
         ID: this page holds no cookie, and a handle ends a session of its own user only.</p>",
        user = escape(&user),
        count = sessions.len(),
        sessions_word = if sessions.len() == 1 {
            "session"
        } else {
            "sessions"
        },
    );
    Ok(html(200, "Your devices", &body))
}

/// One session on the devices page: its browser, address and times, and a
/// form that logs it out by its handle.
fn device_row(info: &SessionInfo, now: SystemTime) -> String {
    let (class, marker) = if info.current {
        ("session current", " <b class=\"this\">(this device)</b>")
    } else {
        ("session", "")
    };
    format!(
        "<tr class=\"{class}\"><td class=\"agent\">{agent}{marker}</td><td class=\"ip\">{ip}</td>\
         <td class=\"created\">{created}</td><td class=\"seen\">{seen}</td>\
         <td><form method=\"post\" action=\"/devices/revoke\">\
         <input type=\"hidden\" name=\"handle\" value=\"{handle}\">\
         <button class=\"revoke\">Log out this device</button></form></td></tr>\n",
        agent = escape(info.user_agent.as_deref().unwrap_or("unknown browser")),
        ip = escape(info.ip.as_deref().unwrap_or("unknown")),
        created = ago(now, info.created_at),
        seen = ago(now, info.last_seen),
        handle = info.handle, // 32 hex digits: nothing to escape
    )
}

/// How long before `now` `then` was, for people: "just now", "12 seconds
/// ago", "3 minutes ago", "2 hours ago", "5 days ago".
fn ago(now: SystemTime, then: SystemTime) -> String {
    let secs = now.duration_since(then).map_or(0, |d| d.as_secs());
    let (n, unit) = match secs {
        0 => return "just now".to_owned(),
        1..60 => (secs, "second"),
        60..3_600 => (secs / 60, "minute"),
        3_600..86_400 => (secs / 3_600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural} ago")
}

/// `POST /devices/revoke`: logs out the user's session with the form's
/// handle. A handle of another user's session does nothing (`revoke` looks
/// only among the user's own). Logging out this very device clears its
/// cookie too.
fn revoke(
    app: &App,
    request: &tiny_http::Request,
    form: &[(String, String)],
) -> Result<Page, Page> {
    let Some((id, user)) = logged_in(app, request)? else {
        return Ok(text(401, "Session not found: log in first.\n"));
    };
    let handle: RevocationHandle = field(form, "handle")
        .parse()
        .map_err(|e: Error| text(400, &format!("{e}\n")))?;
    app.session.revoke(&user, &handle).map_err(server_error)?;
    if app.session.get(&id).map_err(server_error)?.is_none() {
        // This device's own session: drop its cookie, as logging out does.
        let mut response = redirect("/profile");
        app.session.clear_cookie(&mut response);
        return Ok(response);
    }
    Ok(redirect("/devices"))
}

/// `POST /devices/revoke-others`: "log out everywhere else", as after a
/// password change. This session stays.
fn revoke_others(app: &App, request: &tiny_http::Request) -> Result<Page, Page> {
    let Some((id, user)) = logged_in(app, request)? else {
        return Ok(text(401, "Session not found: log in first.\n"));
    };
    app.session
        .revoke_all(&user, Some(&id))
        .map_err(server_error)?;
    Ok(redirect("/devices"))
}

fn cookie_note(app: &App) -> String {
    if app.insecure_http {
        "<p class=\"note\">The session cookie is <code>HttpOnly; SameSite=Lax</code> <b>without \
         <code>Secure</code></b>, because this server was started with <code>--insecure-http</code>: \
         over a real network it would travel unencrypted. Never use that flag in production.</p>"
            .to_owned()
    } else {
        "<p class=\"note\">The session cookie is <code>HttpOnly; SameSite=Lax; Secure</code>. This \
         page is plain HTTP, but browsers treat 127.0.0.1 as a secure context and keep Secure \
         cookies for it (Chrome, Edge and Firefox do; Safari does not). If logging in does not \
         stick, restart with <code>cargo run --example login -- --insecure-http</code>, which \
         drops <code>Secure</code>: for development only.</p>"
            .to_owned()
    }
}

/// Reads an `application/x-www-form-urlencoded` body of at most [`MAX_FORM`] bytes.
fn read_form(request: &mut tiny_http::Request) -> Result<Vec<(String, String)>, Page> {
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_FORM as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|_| text(400, "could not read the form\n"))?;
    if body.len() > MAX_FORM {
        return Err(text(413, "form too large\n"));
    }
    parse_form(&body)
        .ok_or_else(|| text(400, "the form is not valid x-www-form-urlencoded UTF-8\n"))
}

/// Every page depends on the session and may set its cookie: never cache it,
/// and tell caches the answer varies with the cookie.
fn page(status: u16, content_type: &str, body: String) -> Page {
    let mut response = Response::from_string(body).with_status_code(status);
    // `append_header` comes from http_session's tiny_http adapter.
    response.append_header("Content-Type", content_type);
    response.append_header("Cache-Control", "no-store");
    response.append_header("Vary", "Cookie");
    response
}

fn html(status: u16, title: &str, body: &str) -> Page {
    let page_text = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} · http-session</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}\
         .note,.hint{{color:#555;font-size:.9em}}pre{{background:#f4f4f4;padding:.5em}}\
         form{{display:inline-block;margin-right:1em}}table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}\
         th,td{{text-align:left;vertical-align:top;padding:.4em .6em;border-bottom:1px solid #ddd}}\
         tr.current{{background:#eef6ff}}td.agent{{word-break:break-word}}td button{{white-space:nowrap}}</style></head>\n\
         <body><h1>{title}</h1>\n{body}\n</body></html>\n"
    );
    page(status, "text/html; charset=utf-8", page_text)
}

fn text(status: u16, message: &str) -> Page {
    page(status, "text/plain; charset=utf-8", message.to_owned())
}

/// `303 See Other`: after a POST, the browser GETs the next page.
fn redirect(to: &str) -> Page {
    let mut response = text(303, "");
    response.append_header("Location", to);
    response
}

/// The store failed: say so, without details (they go to the log).
fn server_error(e: Error) -> Page {
    eprintln!("session error: {e}");
    text(500, "the session store failed; try again\n")
}
