//! [`Record`]: one session as a store keeps it, and its JSON text form
//! ([`Record::encode`], [`Record::decode`]) for stores that keep text.

use std::time::SystemTime;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::clock::{from_millis, to_millis};
use crate::store::{Owner, RevocationHandle};
use crate::{Data, Error};

/// One session as a store keeps it: its data and when it expires.
///
/// ```
/// use http_session::Record;
/// use std::time::{Duration, SystemTime};
///
/// let mut data = http_session::Data::new();
/// data.insert("user".into(), "ana".into());
/// let mut record = Record::new(data);
/// assert!(!record.is_expired(SystemTime::now()));
///
/// record.expires_at = Some(SystemTime::now() - Duration::from_secs(1));
/// assert!(record.is_expired(SystemTime::now()));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The session's data.
    pub data: Data,
    /// When the session ends (`None`: never). Rolled forward on activity when the
    /// session has an idle timeout.
    pub expires_at: Option<SystemTime>,
    /// The absolute end of the session's life (`None`: no cap): activity never
    /// rolls `expires_at` past it.
    pub deadline: Option<SystemTime>,
    /// The user the session is bound to, and what a listing of the user's
    /// sessions shows (`None`: not bound).
    pub owner: Option<Owner>,
}

impl Record {
    /// A record that never expires.
    pub fn new(data: Data) -> Record {
        Record {
            data,
            expires_at: None,
            deadline: None,
            owner: None,
        }
    }

    /// A record that expires at `expires_at`.
    pub fn expiring(data: Data, expires_at: SystemTime) -> Record {
        Record {
            data,
            expires_at: Some(expires_at),
            deadline: None,
            owner: None,
        }
    }

    /// Whether the record has expired at time `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Encodes the record as one JSON document, the format [`Record::decode`] reads:
    /// `{"data":{...},"expires_at":<ms since 1970>,"deadline":<ms since 1970>,"owner":{...}}`
    /// (the times and the owner only when set; the owner as
    /// `{"user":…,"handle":…,"created_at":ms,"last_seen":ms,"user_agent":…,"ip":…}`,
    /// the last two only when set). Stores that keep records as text can use it.
    ///
    /// ```
    /// use http_session::Record;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let mut data = http_session::Data::new();
    /// data.insert("n".into(), 1.into());
    /// let record = Record::expiring(data, UNIX_EPOCH + Duration::from_millis(1_500));
    /// let text = record.encode()?;
    /// assert_eq!(text, r#"{"data":{"n":1},"expires_at":1500}"#);
    /// assert_eq!(Record::decode(&text)?, record);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn encode(&self) -> Result<String, Error> {
        Ok(serde_json::to_string(&Encoding(self))?)
    }

    /// Reads a record written by [`Record::encode`]; anything else is
    /// [`Error::CorruptRecord`].
    pub fn decode(text: &str) -> Result<Record, Error> {
        let corrupt = |reason: &str| Error::CorruptRecord {
            reason: reason.to_owned(),
        };
        let doc: Data = serde_json::from_str(text)
            .map_err(|_| corrupt("not a JSON object with a \"data\" object"))?;
        let mut record = Record::new(Data::new());
        let mut has_data = false;
        for (key, value) in doc {
            match (key.as_str(), value) {
                ("data", Value::Object(data)) => {
                    record.data = data;
                    has_data = true;
                }
                ("expires_at", Value::Number(n)) => {
                    record.expires_at =
                        Some(from_millis(n.as_u64().ok_or_else(|| {
                            corrupt("expires_at is not a whole number")
                        })?))
                }
                ("deadline", Value::Number(n)) => {
                    record.deadline = Some(from_millis(
                        n.as_u64()
                            .ok_or_else(|| corrupt("deadline is not a whole number"))?,
                    ))
                }
                ("owner", Value::Object(owner)) => record.owner = Some(decode_owner(owner)?),
                _ => return Err(corrupt("unexpected field or field type")),
            }
        }
        if !has_data {
            return Err(corrupt("no \"data\" object"));
        }
        Ok(record)
    }
}

/// The document [`Record::encode`] writes, serialized straight from the
/// record (no copy of its data): the fields in the order a JSON object map
/// keeps them (sorted), the times and the owner only when set.
struct Encoding<'a>(&'a Record);

impl Serialize for Encoding<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.0;
        let fields = 1
            + usize::from(record.deadline.is_some())
            + usize::from(record.expires_at.is_some())
            + usize::from(record.owner.is_some());
        let mut doc = serializer.serialize_map(Some(fields))?;
        doc.serialize_entry("data", &record.data)?;
        if let Some(at) = record.deadline {
            doc.serialize_entry("deadline", &to_millis(at))?;
        }
        if let Some(at) = record.expires_at {
            doc.serialize_entry("expires_at", &to_millis(at))?;
        }
        if let Some(owner) = &record.owner {
            doc.serialize_entry("owner", &encode_owner(owner))?;
        }
        doc.end()
    }
}

fn encode_owner(owner: &Owner) -> Data {
    let mut doc = Data::new();
    doc.insert("user".to_owned(), owner.user.clone().into());
    doc.insert("handle".to_owned(), owner.handle.to_string().into());
    doc.insert("created_at".to_owned(), to_millis(owner.created_at).into());
    doc.insert("last_seen".to_owned(), to_millis(owner.last_seen).into());
    if let Some(agent) = &owner.user_agent {
        doc.insert("user_agent".to_owned(), agent.clone().into());
    }
    if let Some(ip) = &owner.ip {
        doc.insert("ip".to_owned(), ip.clone().into());
    }
    doc
}

fn decode_owner(doc: Data) -> Result<Owner, Error> {
    let corrupt = |reason: &str| Error::CorruptRecord {
        reason: format!("owner: {reason}"),
    };
    let (mut user, mut handle, mut created_at, mut last_seen) = (None, None, None, None);
    let (mut user_agent, mut ip) = (None, None);
    for (key, value) in doc {
        match (key.as_str(), value) {
            ("user", Value::String(s)) => user = Some(s),
            ("handle", Value::String(s)) => {
                handle = Some(
                    s.parse::<RevocationHandle>()
                        .map_err(|_| corrupt("handle is not 32 hex digits"))?,
                )
            }
            ("created_at", Value::Number(n)) => created_at = n.as_u64().map(from_millis),
            ("last_seen", Value::Number(n)) => last_seen = n.as_u64().map(from_millis),
            ("user_agent", Value::String(s)) => user_agent = Some(s),
            ("ip", Value::String(s)) => ip = Some(s),
            _ => return Err(corrupt("unexpected field or field type")),
        }
    }
    match (user, handle, created_at, last_seen) {
        (Some(user), Some(handle), Some(created_at), Some(last_seen)) => Ok(Owner {
            user,
            handle,
            created_at,
            last_seen,
            user_agent,
            ip,
        }),
        _ => Err(corrupt("user, handle, created_at or last_seen missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn decode_refuses_foreign_text() {
        for text in [
            "",
            "null",
            "[]",
            "{\"data\":1}",
            "{\"data\":{},\"expires_at\":-1}",
            "{\"data\":{},\"expires_at\":1.5}",
            "{\"data\":{},\"other\":1}",
            "{\"data\":{}",
            "{}",
        ] {
            assert!(
                matches!(Record::decode(text), Err(Error::CorruptRecord { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn encode_decode_round_trip_with_owner() {
        let mut record = Record::new(Data::new());
        let mut owner = Owner::new("ana", UNIX_EPOCH + Duration::from_millis(7));
        owner.user_agent = Some("Firefox".into());
        record.owner = Some(owner.clone());
        assert_eq!(Record::decode(&record.encode().unwrap()).unwrap(), record);
        owner.ip = Some("192.0.2.1".into());
        owner.user_agent = None;
        record.owner = Some(owner);
        assert_eq!(Record::decode(&record.encode().unwrap()).unwrap(), record);
        for bad in [
            r#"{"data":{},"owner":{}}"#,
            r#"{"data":{},"owner":{"user":"a","handle":"zz","created_at":1,"last_seen":1}}"#,
            r#"{"data":{},"owner":{"user":1}}"#,
            r#"{"data":{},"owner":"ana"}"#,
        ] {
            assert!(
                matches!(Record::decode(bad), Err(Error::CorruptRecord { .. })),
                "{bad}"
            );
        }
    }

    /// The encoding as it was written before (a map of the fields, then
    /// `to_string`): the same text, byte for byte.
    #[test]
    fn encode_writes_what_a_map_of_the_fields_writes() {
        let mut data = Data::new();
        data.insert("b".into(), serde_json::json!([1, "two"]));
        data.insert("a".into(), "ü\"".into());
        let mut record = Record::new(data.clone());
        let mut owner = Owner::new("ana", UNIX_EPOCH + Duration::from_millis(7));
        owner.ip = Some("192.0.2.1".into());
        let cases = [
            (None, None, None),
            (Some(5), None, None),
            (None, Some(9), None),
            (Some(5), Some(9), Some(owner)),
        ];
        for (expires, deadline, owner) in cases {
            record.expires_at = expires.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
            record.deadline = deadline.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
            record.owner = owner;
            let mut doc = Data::new();
            doc.insert("data".into(), Value::Object(data.clone()));
            if let Some(ms) = expires {
                doc.insert("expires_at".into(), ms.into());
            }
            if let Some(ms) = deadline {
                doc.insert("deadline".into(), ms.into());
            }
            if let Some(owner) = &record.owner {
                doc.insert("owner".into(), Value::Object(encode_owner(owner)));
            }
            let text = record.encode().unwrap();
            assert_eq!(text, serde_json::to_string(&doc).unwrap());
            assert_eq!(Record::decode(&text).unwrap(), record);
        }
    }

    #[test]
    fn encode_decode_round_trip_with_deadline() {
        let mut data = Data::new();
        data.insert("ü".into(), serde_json::json!({"nested": [1, "two", null]}));
        let mut record = Record::expiring(data, UNIX_EPOCH + Duration::from_millis(5));
        record.deadline = Some(UNIX_EPOCH + Duration::from_millis(9));
        assert_eq!(Record::decode(&record.encode().unwrap()).unwrap(), record);
    }
}
