//! A store that forwards to another and logs every call that could change
//! it (`set`, `create`, a stored `update`, `take`, `delete`) with the ID it
//! touched: for tests that check what was written under which ID.

use std::sync::Mutex;

use http_session::{Error, Record, SessionId, Store};

/// Logs the calls that touched each ID, in order.
#[derive(Default)]
pub struct WriteLog<S> {
    inner: S,
    writes: Mutex<Vec<(&'static str, SessionId)>>,
}

impl<S> WriteLog<S> {
    pub fn new(inner: S) -> Self {
        WriteLog {
            inner,
            writes: Mutex::default(),
        }
    }
    fn log(&self, what: &'static str, id: &SessionId) {
        self.writes.lock().unwrap().push((what, id.clone()));
    }
    /// The calls that touched `id`, in order: `"set"`, `"create"`,
    /// `"update"` (stored ones only), `"take"`, `"delete"`.
    pub fn writes_to(&self, id: &SessionId) -> Vec<&'static str> {
        let writes = self.writes.lock().unwrap();
        writes
            .iter()
            .filter(|(_, w)| w == id)
            .map(|(what, _)| *what)
            .collect()
    }
}

impl<S> WriteLog<S> {
    /// Whether anything was written under `id`: a `set`, `create` or stored
    /// `update` (`take` and `delete` remove, they do not write).
    pub fn wrote(&self, id: &SessionId) -> bool {
        self.writes_to(id)
            .iter()
            .any(|what| matches!(*what, "set" | "create" | "update"))
    }

    /// Forgets what was logged so far.
    pub fn forget(&self) {
        self.writes.lock().unwrap().clear();
    }
}

impl<S: Store> Store for WriteLog<S> {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.inner.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.log("set", id);
        self.inner.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.log("delete", id);
        self.inner.delete(id)
    }
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let mut stored = false;
        let found = self.inner.update(id, &mut |record| {
            stored = f(record);
            stored
        })?;
        if found && stored {
            self.log("update", id);
        }
        Ok(found)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.log("create", id);
        self.inner.create(id, record)
    }
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.log("take", id);
        self.inner.take(id)
    }
    fn purge_expired(&self) -> Result<usize, Error> {
        self.inner.purge_expired()
    }
}
