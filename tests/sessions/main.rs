//! The session API by ID and its data: the documented calls (create, read,
//! update, delete, cookies, a custom store), `update_with`, error messages,
//! and what data may be stored.

#[path = "../common/mod.rs"]
mod common;

mod error_messages;
mod events;
mod id_api;
mod readable_records;
mod update_with;
