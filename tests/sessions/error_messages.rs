//! Error messages name what went wrong, never a session value: messages and
//! `Debug` output end up in logs.

use http_session::{Error, Headers, Session};
use serde_json::json;

/// Display, `Debug` and every message down the `source()` chain.
fn everything_said(err: &Error) -> String {
    let mut said = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        said.push_str(&format!("\n{cause}\n{cause:?}"));
        source = cause.source();
    }
    said
}

#[test]
fn a_value_read_as_the_wrong_type_is_not_quoted() {
    let session = Session::new();
    let id = session
        .create(json!({"csrf": "secret-csrf-token"}))
        .unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let handle = session.handle(&request);

    let err = handle.get::<u32>("csrf").unwrap_err();
    let said = everything_said(&err);
    assert!(!said.contains("secret-csrf-token"), "{said}");
    assert!(!said.contains(id.as_str()), "{said}");
}

#[test]
fn values_inside_arrays_and_objects_are_not_quoted_either() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Profile {
        age: u32,
    }
    let session = Session::new();
    let id = session
        .create(json!({
            "tokens": ["secret-in-array"],
            "profile": {"age": "secret-in-object"},
        }))
        .unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let handle = session.handle(&request);

    let err = handle.get::<Vec<u32>>("tokens").unwrap_err();
    let said = everything_said(&err);
    assert!(!said.contains("secret-in-array"), "{said}");
    assert!(said.contains("an array"), "{said}");

    let err = handle.get::<Profile>("profile").unwrap_err();
    let said = everything_said(&err);
    assert!(!said.contains("secret-in-object"), "{said}");
    assert!(said.contains("an object"), "{said}");
}

#[test]
fn the_error_names_the_key_the_kind_found_and_the_type_asked_for() {
    let session = Session::new();
    let id = session
        .create(json!({"csrf": "secret-csrf-token"}))
        .unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let err = session.handle(&request).get::<u32>("csrf").unwrap_err();
    assert!(
        matches!(&err, Error::Deserialize { key, found, expected }
            if key == "csrf" && *found == "a string" && *expected == "u32"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("\"csrf\""), "{message}");
    assert!(message.contains("a string"), "{message}");
    assert!(message.contains("u32"), "{message}");
}
