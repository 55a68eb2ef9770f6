//! The login flow through a tiny_http server started in this process: the
//! login example's own code, on port 0.

use crate::common::web;

#[allow(dead_code)] // its `main` is not called here
#[path = "../../examples/login.rs"]
mod login;

use std::thread;

#[test]
fn the_login_flow_through_an_in_process_tiny_http_server() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    thread::spawn(move || login::serve(server, login::App::new(false)));
    web::login_flow(&format!("http://127.0.0.1:{port}"), "", true);
}
