//! The adapters and the servers they serve: CGI request bodies, header
//! injection through every response type, the login flow through tiny_http,
//! rouille, `http` and a hand-rolled `TcpListener` server, and the README's
//! handlers as printed.

#[path = "../common/mod.rs"]
mod common;

mod header_injection;
#[cfg(feature = "http")]
mod http_flow;
mod readme_handlers;
mod request_body_limits;
#[cfg(feature = "rouille")]
mod rouille_flow;
mod tcp_listener_flow;
mod tiny_http_flow;
