//! The login flow through a rouille server started in this process, written
//! with the per-request handle.

use crate::common::web;

use http_session::{Error, Session};
use rouille::{router, Request, Response};

fn app(session: &Session, request: &Request) -> Response {
    let answer = router!(request,
        (GET) (/) => { home(session, request) },
        (POST) (/login) => { login(session, request) },
        (GET) (/profile) => { profile(session, request) },
        (POST) (/update-role) => { update_role(session, request) },
        (POST) (/logout) => { logout(session, request) },
        _ => Ok(Response::empty_404()),
    );
    answer
        .unwrap_or_else(|e| Response::text(e.to_string()).with_status_code(500))
        .with_additional_header("Cache-Control", "no-store")
        .with_additional_header("Vary", "Cookie")
}

fn home(session: &Session, request: &Request) -> Result<Response, Error> {
    let user = session.handle(request).get::<String>("userId")?;
    Ok(Response::html(match user {
        Some(user) => format!("Logged in as {}", escape(&user)),
        None => "Not logged in".to_owned(),
    }))
}

fn login(session: &Session, request: &Request) -> Result<Response, Error> {
    let Ok(form) = rouille::post_input!(request, { user: String }) else {
        return Ok(Response::text("a user name, please").with_status_code(400));
    };
    let mut handle = session.handle(request);
    handle.regenerate()?;
    handle.insert("userId", form.user)?;
    handle.insert("role", "user")?;
    let mut response = Response::redirect_303("/profile");
    handle.commit(&mut response)?;
    Ok(response)
}

fn profile(session: &Session, request: &Request) -> Result<Response, Error> {
    let mut handle = session.handle(request);
    let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    let status = match handle.get::<String>("userId")? {
        Some(user) => format!(
            "<p id=\"status\">authenticated as <b id=\"user\">{}</b> <b id=\"role\">{}</b></p>",
            escape(&user),
            escape(&handle.get::<String>("role")?.unwrap_or_default())
        ),
        None => "<p id=\"status\">unauthenticated</p>".to_owned(),
    };
    let mut response = Response::html(format!("{status}<b id=\"visits\">{visits}</b>"));
    handle.commit(&mut response)?;
    Ok(response)
}

fn update_role(session: &Session, request: &Request) -> Result<Response, Error> {
    let mut handle = session.handle(request);
    if handle.get::<String>("userId")?.is_none() {
        return Ok(Response::text("Session not found").with_status_code(401));
    }
    handle.insert("role", "admin")?;
    handle.regenerate()?;
    let mut response = Response::redirect_303("/profile");
    handle.commit(&mut response)?;
    Ok(response)
}

fn logout(session: &Session, request: &Request) -> Result<Response, Error> {
    let mut handle = session.handle(request);
    handle.destroy()?;
    let mut response = Response::redirect_303("/profile");
    handle.commit(&mut response)?;
    Ok(response)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn the_login_flow_through_an_in_process_rouille_server() {
    let session = Session::new();
    let server =
        rouille::Server::new("127.0.0.1:0", move |request| app(&session, request)).unwrap();
    let port = server.server_addr().port();
    let (running, stop) = server.stoppable();
    web::login_flow(&format!("http://127.0.0.1:{port}"), "", true);
    stop.send(()).unwrap();
    running.join().unwrap();
}
