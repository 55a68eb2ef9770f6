//! Nothing is stored that the store cannot read back: data nested too deeply
//! is refused on every write path, and a record that cannot be read during a
//! lookup counts as an unknown cookie, so the next candidate is tried.

use std::sync::{Arc, Mutex};

use crate::common::UnknownId;
use http_session::{Error, FileStore, Headers, Rejection, Session, SessionId, Store};
use serde_json::{json, Value};

/// `{"deep": [[[ … ]]]}` with `depth` levels in all (the data object is one).
fn nested(depth: usize) -> Value {
    let mut value = json!(1);
    for _ in 1..depth {
        value = json!([value]);
    }
    value
}

fn too_deep(result: Result<impl std::fmt::Debug, Error>) {
    match result {
        Err(Error::DataTooDeep { limit: 64 }) => {}
        other => panic!("expected DataTooDeep, got {other:?}"),
    }
}

#[test]
fn data_nested_too_deeply_is_refused_on_every_write_path() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::with_store(FileStore::open(dir.path().join("s")).unwrap());
    let id = session.create(json!({"user": "ana"})).unwrap();
    let deep = || nested(127);

    too_deep(session.create(json!({ "deep": deep() })));
    too_deep(session.update(&id, json!({ "deep": deep() })));
    too_deep(session.update_with(&id, |data| {
        data.insert("deep".into(), deep());
    }));
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let mut handle = session.handle(&request);
    too_deep(handle.insert("deep", deep()));
    too_deep(handle.update("deep", move |_: Option<Value>| nested(127)));
    handle.commit(&mut Headers::new()).unwrap();

    // Nothing was lost or half-written: the session reads back as it was.
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"user": "ana"}).as_object().unwrap()
    );
    // The file, .locks and the cleanup's marker .last-sweep: no temp file.
    assert_eq!(std::fs::read_dir(dir.path().join("s")).unwrap().count(), 3);

    // The deepest data accepted is stored and read back.
    let deepest = json!({ "deep": nested(63) });
    assert!(session.update(&id, &deepest).unwrap());
    assert_eq!(session.get(&id).unwrap().unwrap()["deep"], deepest["deep"]);
}

#[test]
fn an_unreadable_record_counts_as_an_unknown_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path().join("s")).unwrap();
    let reports: Arc<Mutex<Vec<Rejection>>> = Arc::default();
    let sink = Arc::clone(&reports);
    let session = Session::builder()
        .store(store)
        .on_rejection(move |r| sink.lock().unwrap().push(r))
        .build()
        .unwrap();
    let broken = session.create(json!({"user": "old"})).unwrap();
    let live = session.create(json!({"user": "ana"})).unwrap();
    // Damage the first session's file (a disk error, a hand edit).
    let damaged = std::fs::read_dir(dir.path().join("s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .find(|p| {
            session.store().get(&broken).is_ok() && {
                let text = std::fs::read_to_string(p).unwrap();
                text.contains("\"old\"")
            }
        })
        .unwrap();
    std::fs::write(&damaged, "{not json").unwrap();
    assert!(matches!(
        session.store().get(&broken),
        Err(Error::CorruptRecord { .. })
    ));

    let request = Headers::new().with("Cookie", &format!("session_id={broken}; session_id={live}"));
    let (id, data) = session.lookup(&request).unwrap().unwrap();
    assert_eq!((id, &data["user"]), (live.clone(), &json!("ana")));
    let handle = session.handle(&request);
    assert_eq!(
        handle.get::<String>("user").unwrap().as_deref(),
        Some("ana")
    );
    assert_eq!(
        *reports.lock().unwrap(),
        [Rejection::unknown(&broken), Rejection::unknown(&broken)]
    );

    // Alone, it is "no session", not an error on every request.
    let only = Headers::new().with("Cookie", &format!("session_id={broken}"));
    assert_eq!(session.from_request(&only).unwrap(), None);
    let _ = SessionId::generate();
}
