//! `Debug` output is for logs: it shows counts and settings, never a session
//! ID, a key derived from one, session data, or a credential.

use http_session::{Headers, Session};
use serde_json::json;

#[test]
fn session_and_builder_debug_show_no_id_and_no_data() {
    let session = Session::builder()
        .cookie_name("sid")
        .on_rejection(|_| {})
        .build()
        .unwrap();
    let ids: Vec<_> = (0..20)
        .map(|i| {
            session
                .create(json!({"secret": format!("s3cr3t-{i}")}))
                .unwrap()
        })
        .collect();
    let request = Headers::new().with("Cookie", &format!("sid={}", ids[0]));
    let handle = session.handle(&request);
    handle.get::<String>("secret").unwrap();
    for shown in [
        format!("{session:?}"),
        format!("{session:#?}"),
        format!("{:?}", Session::builder()),
        format!("{handle:?}"),
    ] {
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("Key("), "{shown}");
        for id in &ids {
            assert!(!shown.contains(id.as_str()), "{shown}");
            assert!(!shown.contains(&id.as_str()[..12]), "{shown}");
        }
        assert!(shown.len() < 2_000, "{} bytes: {shown}", shown.len());
    }
    let shown = format!("{session:?}");
    assert!(
        shown.contains("\"sid\"") && shown.contains("ttl"),
        "{shown}"
    );
}
