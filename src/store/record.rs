//! [`Record`]: one session as a store keeps it, and its JSON text form
//! ([`Record::encode`], [`Record::decode`]) for stores that keep text.

use std::fmt;
use std::time::SystemTime;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
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
        serde_json::from_str::<Fields>(text)
            .map_err(|_| corrupt("not a JSON object with a \"data\" object"))?
            .into_record()
    }
}

fn corrupt(reason: &str) -> Error {
    Error::CorruptRecord {
        reason: reason.to_owned(),
    }
}

/// The top-level members of a record's document, read straight from the
/// text: no map of them is built, and the four known names are matched
/// without being copied. Every value is read as a [`Value`] all the same, so
/// the text is checked exactly as reading the document into a map checks it
/// (the same syntax, string and number errors, the same nesting limit).
///
/// Reading the document into a map kept the last of repeated names and
/// judged the members in the order of their names; [`Fields::into_record`]
/// does the same, so every text gets the same record or the same error.
#[derive(Default)]
struct Fields {
    data: Option<Value>,
    deadline: Option<Value>,
    expires_at: Option<Value>,
    owner: Option<Value>,
    /// The first, in name order, of the names that are not a record's.
    other: Option<String>,
}

impl Fields {
    fn into_record(self) -> Result<Record, Error> {
        let unexpected = || corrupt("unexpected field or field type");
        // Any member named before `name` that is not a record's is judged first.
        let other_before = |name: &str| self.other.as_deref().is_some_and(|other| other < name);
        let mut record = Record::new(Data::new());
        if other_before("data") {
            return Err(unexpected());
        }
        let has_data = match self.data {
            Some(Value::Object(data)) => {
                record.data = data;
                true
            }
            Some(_) => return Err(unexpected()),
            None => false,
        };
        if other_before("deadline") {
            return Err(unexpected());
        }
        record.deadline = millis(self.deadline, "deadline is not a whole number")?;
        if other_before("expires_at") {
            return Err(unexpected());
        }
        record.expires_at = millis(self.expires_at, "expires_at is not a whole number")?;
        if other_before("owner") {
            return Err(unexpected());
        }
        record.owner = match self.owner {
            Some(Value::Object(owner)) => Some(decode_owner(owner)?),
            Some(_) => return Err(unexpected()),
            None => None,
        };
        if self.other.is_some() {
            return Err(unexpected());
        }
        if !has_data {
            return Err(corrupt("no \"data\" object"));
        }
        Ok(record)
    }
}

/// A time member: a whole number of ms since 1970, or absent.
fn millis(value: Option<Value>, not_whole: &str) -> Result<Option<SystemTime>, Error> {
    match value {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|ms| Some(from_millis(ms)))
            .ok_or_else(|| corrupt(not_whole)),
        Some(_) => Err(corrupt("unexpected field or field type")),
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record's JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Fields, A::Error> {
        let mut fields = Fields::default();
        while let Some(name) = members.next_key::<Name>()? {
            let value = members.next_value::<Value>()?;
            match name {
                Name::Data => fields.data = Some(value),
                Name::Deadline => fields.deadline = Some(value),
                Name::ExpiresAt => fields.expires_at = Some(value),
                Name::Owner => fields.owner = Some(value),
                Name::Other(name) => {
                    if fields.other.as_ref().is_none_or(|first| name < *first) {
                        fields.other = Some(name);
                    }
                }
            }
        }
        Ok(fields)
    }
}

/// A top-level member's name: one of a record's, matched where it lies in
/// the text, or another (copied: only a corrupt record has one).
enum Name {
    Data,
    Deadline,
    ExpiresAt,
    Owner,
    Other(String),
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl Visitor<'_> for NameVisitor {
    type Value = Name;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Name, E> {
        Ok(match name {
            "data" => Name::Data,
            "deadline" => Name::Deadline,
            "expires_at" => Name::ExpiresAt,
            "owner" => Name::Owner,
            other => Name::Other(other.to_owned()),
        })
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

    /// How [`Record::decode`] read a record before it read the members
    /// straight from the text: the whole document into a map first, then
    /// each member in name order. The reference the new reading must agree
    /// with, record for record and error for error.
    fn decode_through_a_map(text: &str) -> Result<Record, Error> {
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

    /// Both readings give the same record, or both the same error.
    fn assert_decodes_as_before(text: &str) {
        match (Record::decode(text), decode_through_a_map(text)) {
            (Ok(new), Ok(old)) => assert_eq!(new, old, "{text}"),
            (
                Err(Error::CorruptRecord { reason: new }),
                Err(Error::CorruptRecord { reason: old }),
            ) => assert_eq!(new, old, "{text}"),
            (new, old) => panic!("{text}: now {new:?}, before {old:?}"),
        }
    }

    #[test]
    fn decode_reads_every_text_as_reading_a_map_first_did() {
        const OWNER: &str = r#"{"created_at":7,"handle":"00112233445566778899aabbccddeeff","ip":"192.0.2.1","last_seen":9,"user":"ana","user_agent":"Firefox"}"#;
        let deep = format!(
            "{{\"data\":{{\"a\":{}1{}}}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        let mut texts = vec![
            // As every version of `encode` wrote them.
            r#"{"data":{}}"#.to_owned(),
            r#"{"data":{"n":5,"role":"admin","user_id":"123"},"expires_at":1796045211173}"#
                .to_owned(),
            format!(
                r#"{{"data":{{"ü\"":[1,"two",null,{{"x":1.5}}]}},"deadline":9,"expires_at":5,"owner":{OWNER}}}"#
            ),
            // Written by hand: members in any order, spaces, escaped names,
            // a name given twice (the last one counts).
            format!(r#" {{ "owner" : {OWNER} , "expires_at" : 5 , "data" : {{ }} }} "#),
            r#"{"d\u0061ta":{"a":1}}"#.to_owned(),
            r#"{"data":1,"data":{"a":1}}"#.to_owned(),
            r#"{"data":{"a":1},"data":[]}"#.to_owned(),
            r#"{"expires_at":1.5,"expires_at":3,"data":{}}"#.to_owned(),
            r#"{"expires_at":3,"expires_at":-3,"data":{}}"#.to_owned(),
            // Corrupt in one way.
            "".to_owned(),
            "null".to_owned(),
            "[]".to_owned(),
            "\"data\"".to_owned(),
            "{}".to_owned(),
            r#"{"data":{}"#.to_owned(),
            r#"{"data":{}}x"#.to_owned(),
            r#"{"data":{},}"#.to_owned(),
            r#"{"data":null}"#.to_owned(),
            r#"{"data":{},"expires_at":-1}"#.to_owned(),
            r#"{"data":{},"expires_at":1e3}"#.to_owned(),
            r#"{"data":{},"expires_at":18446744073709551616}"#.to_owned(),
            r#"{"data":{},"deadline":"5"}"#.to_owned(),
            r#"{"data":{},"owner":"ana"}"#.to_owned(),
            r#"{"data":{},"owner":{}}"#.to_owned(),
            r#"{"data":{},"other":1}"#.to_owned(),
            r#"{"data":{},"other":"\ud800"}"#.to_owned(),
            r#"{"data":{},"other":1e999}"#.to_owned(),
            r#"{"data":{"s":"\ud800"}}"#.to_owned(),
            r#"{"data":{"s":"a\u0001b"}}"#.to_owned(),
            "{\"data\":{\"s\":\"a\u{1}b\"}}".to_owned(),
            deep,
            // Corrupt in several ways: the one named first is reported.
            r#"{"data":{},"expires_at":1.5,"other":1}"#.to_owned(),
            r#"{"zz":1,"data":{},"expires_at":1.5}"#.to_owned(),
            r#"{"a":1,"data":5}"#.to_owned(),
            r#"{"deadline":-1,"expires_at":-1}"#.to_owned(),
            r#"{"dat":1,"owner":{},"expires_at":"x"}"#.to_owned(),
            r#"{"owner":{},"p":1,"data":{}}"#.to_owned(),
            r#"{"owner":{"user":1},"data":{}}"#.to_owned(),
            r#"{"zz":1,"owner":{"user":1},"data":{}}"#.to_owned(),
            r#"{"expires_at":-1}"#.to_owned(),
            r#"{"other":1}"#.to_owned(),
        ];
        // Every text `encode` writes.
        let mut owner = Owner::new("ana", UNIX_EPOCH + Duration::from_millis(7));
        owner.user_agent = Some("Mozilla \"5\"".into());
        let mut record = Record::expiring(Data::new(), UNIX_EPOCH + Duration::from_millis(5));
        record.data.insert("n".into(), 5.into());
        record
            .data
            .insert("é".into(), serde_json::json!({"x": [true, null, -1]}));
        texts.push(record.encode().unwrap());
        record.deadline = Some(UNIX_EPOCH + Duration::from_millis(u64::MAX >> 1));
        record.owner = Some(owner);
        texts.push(record.encode().unwrap());
        for text in &texts {
            assert_decodes_as_before(text);
        }
        assert!(Record::decode(&texts[1]).is_ok());
        assert!(Record::decode(&texts[2]).unwrap().owner.is_some());
    }

    proptest::proptest! {
        /// Documents made of record members and others, right and wrong, in
        /// any order, names repeated: both readings agree on every one.
        #[test]
        fn decode_agrees_with_reading_a_map_first(
            members in proptest::collection::vec((0..8usize, 0..12usize), 0..6),
            cut in proptest::option::of(0..200usize),
        ) {
            const NAMES: [&str; 8] =
                ["data", "deadline", "expires_at", "owner", "a", "dat", "p", "zz"];
            const VALUES: [&str; 12] = [
                "{}",
                r#"{"n":5,"s":"x"}"#,
                "5",
                "0",
                "-1",
                "1.5",
                r#""5""#,
                "null",
                "[1]",
                r#"{"user":"ana","handle":"00112233445566778899aabbccddeeff","created_at":1,"last_seen":2}"#,
                r#"{"user":"ana"}"#,
                "1e999",
            ];
            let mut text = String::from("{");
            for (i, (name, value)) in members.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(&format!("\"{}\":{}", NAMES[*name], VALUES[*value]));
            }
            text.push('}');
            if let Some(cut) = cut {
                text.truncate(cut.min(text.len()));
            }
            assert_decodes_as_before(&text);
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
