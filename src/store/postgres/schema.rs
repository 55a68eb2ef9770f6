//! The tables of a `PostgresStore`: their names, every SQL statement the store
//! runs on them, and the one-time set-up that creates them if missing and
//! checks their schema version.
//!
//! The schema (version 1), with the default prefix `http_session_`:
//!
//! ```sql
//! CREATE TABLE http_session_sessions (
//!     key        bytea PRIMARY KEY,  -- SHA-256 of the session ID (RecordKey), never the ID
//!     data       bytea NOT NULL,     -- Record::encode's JSON, UTF-8
//!     expires_at timestamptz         -- NULL: never expires
//! );
//! CREATE INDEX http_session_sessions_expires_at
//!     ON http_session_sessions (expires_at) WHERE expires_at IS NOT NULL;
//! CREATE TABLE http_session_users (
//!     user_hash  bytea NOT NULL,     -- SHA-256 of the user name, never the name
//!     handle     bytea NOT NULL,     -- the session's RevocationHandle (16 bytes)
//!     record_key bytea NOT NULL,     -- the key of the session's row
//!     PRIMARY KEY (user_hash, handle)
//! );
//! CREATE TABLE http_session_schema (
//!     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
//!     version   integer NOT NULL     -- 1
//! );
//! ```

use std::fmt;

use postgres::Transaction;

use super::pool::Fail;
use crate::Error;

/// The schema version this code reads and writes.
pub(super) const SCHEMA_VERSION: i32 = 1;

/// Default table prefix.
pub(super) const DEFAULT_PREFIX: &str = "http_session_";

/// PostgreSQL's limit on an identifier, in bytes (longer ones are cut).
const MAX_IDENTIFIER: usize = 63;

/// The longest name added to the prefix (`sessions_expires_at`).
const LONGEST_SUFFIX: &str = "sessions_expires_at";

/// Every statement the store prepares, one per kind of step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stmt {
    /// $1 key, $2 now → data of the live row.
    Get,
    /// $1 key, $2 data, $3 expires_at: insert or replace.
    Set,
    /// $1 key.
    Delete,
    /// $1 key, $2 now → data of the live row, locked until the transaction ends.
    GetForUpdate,
    /// $1 key, $2 data, $3 expires_at: the update's write.
    Write,
    /// $1 key, $2 now → data, live: the row, deleted.
    Take,
    /// $1 key, $2 data, $3 expires_at, $4 now: insert unless a live row is there.
    Create,
    /// $1 now, $2 batch size: deletes up to a batch of expired rows.
    Sweep,
    /// The number of rows.
    Count,
    /// $1 user hash → handle, record key.
    Entries,
    /// $1 user hash, $2 handle, $3 record key: insert if absent.
    AddEntry,
    /// $1 user hash, $2 handle, $3 expected key, $4 new key.
    MoveEntry,
    /// $1 user hash, $2 handle, $3 expected key.
    RemoveEntry,
    /// $1 user hash, $2 handle → whether the entry exists.
    HasEntry,
}

impl Stmt {
    pub(super) const ALL: [Stmt; 14] = [
        Stmt::Get,
        Stmt::Set,
        Stmt::Delete,
        Stmt::GetForUpdate,
        Stmt::Write,
        Stmt::Take,
        Stmt::Create,
        Stmt::Sweep,
        Stmt::Count,
        Stmt::Entries,
        Stmt::AddEntry,
        Stmt::MoveEntry,
        Stmt::RemoveEntry,
        Stmt::HasEntry,
    ];

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// The tables' names, quoted and qualified, and the statements' texts.
pub(super) struct Tables {
    /// The schema, if one was given (else the connection's `search_path`).
    pub(super) schema: Option<String>,
    pub(super) prefix: String,
    sql: Vec<String>,
}

/// `"name"`: the builder only lets through names that need no escaping, so
/// the quotes only keep the case and stop keywords from mattering.
fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// Checks a schema name or table prefix: ASCII letters, digits and `_`, not
/// starting with a digit, so it needs no escaping anywhere.
pub(super) fn check_name(what: &str, name: &str, extra: usize) -> Result<(), Error> {
    let first_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    let rest_ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !first_ok || !rest_ok {
        return Err(Error::config(format!(
            "PostgresStore {what} must be ASCII letters, digits and '_', not starting with a \
             digit, and not empty (got {name:?})"
        )));
    }
    if name.len() + extra > MAX_IDENTIFIER {
        return Err(Error::config(format!(
            "PostgresStore {what} is too long: PostgreSQL names are at most {MAX_IDENTIFIER} \
             bytes{}",
            if extra > 0 {
                format!(" and the longest table name adds {extra} bytes to the prefix")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

impl Tables {
    /// The names for `schema` and `prefix` (both already checked).
    pub(super) fn new(schema: Option<String>, prefix: String) -> Result<Tables, Error> {
        if let Some(schema) = &schema {
            check_name("schema", schema, 0)?;
        }
        // An empty prefix is allowed: the tables are then `sessions`, `users`, `schema`.
        if !prefix.is_empty() {
            check_name("table_prefix", &prefix, LONGEST_SUFFIX.len())?;
        }
        let mut tables = Tables {
            schema,
            prefix,
            sql: Vec::new(),
        };
        let sessions = tables.qualified("sessions");
        let users = tables.qualified("users");
        let live = "(expires_at IS NULL OR expires_at > $2)";
        tables.sql = Stmt::ALL
            .iter()
            .map(|stmt| match stmt {
                Stmt::Get => format!("SELECT data FROM {sessions} WHERE key = $1 AND {live}"),
                Stmt::Set => format!(
                    "INSERT INTO {sessions} (key, data, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, \
                     expires_at = EXCLUDED.expires_at"
                ),
                Stmt::Delete => format!("DELETE FROM {sessions} WHERE key = $1"),
                Stmt::GetForUpdate => {
                    format!("SELECT data FROM {sessions} WHERE key = $1 AND {live} FOR UPDATE")
                }
                Stmt::Write => {
                    format!("UPDATE {sessions} SET data = $2, expires_at = $3 WHERE key = $1")
                }
                Stmt::Take => {
                    format!("DELETE FROM {sessions} WHERE key = $1 RETURNING data, {live} AS live")
                }
                Stmt::Create => format!(
                    "INSERT INTO {sessions} AS s (key, data, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, \
                     expires_at = EXCLUDED.expires_at \
                     WHERE s.expires_at IS NOT NULL AND s.expires_at <= $4"
                ),
                Stmt::Sweep => format!(
                    "DELETE FROM {sessions} WHERE key IN (SELECT key FROM {sessions} \
                     WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
                ),
                Stmt::Count => format!("SELECT count(*) FROM {sessions}"),
                Stmt::Entries => {
                    format!("SELECT handle, record_key FROM {users} WHERE user_hash = $1")
                }
                Stmt::AddEntry => format!(
                    "INSERT INTO {users} (user_hash, handle, record_key) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_hash, handle) DO NOTHING"
                ),
                Stmt::MoveEntry => format!(
                    "UPDATE {users} SET record_key = $4 \
                     WHERE user_hash = $1 AND handle = $2 AND record_key = $3"
                ),
                Stmt::RemoveEntry => format!(
                    "DELETE FROM {users} WHERE user_hash = $1 AND handle = $2 AND record_key = $3"
                ),
                Stmt::HasEntry => format!(
                    "SELECT EXISTS (SELECT 1 FROM {users} WHERE user_hash = $1 AND handle = $2)"
                ),
            })
            .collect();
        Ok(tables)
    }

    /// The text of `stmt`.
    pub(super) fn sql(&self, stmt: Stmt) -> &str {
        self.sql.get(stmt.index()).map_or("", String::as_str)
    }

    /// The unquoted name of table `suffix` (`sessions`, `users`, `schema`).
    pub(super) fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// `"schema"."<prefix><suffix>"`, or `"<prefix><suffix>"` without a schema.
    fn qualified(&self, suffix: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote(schema), quote(&self.name(suffix))),
            None => quote(&self.name(suffix)),
        }
    }

    /// The same name as text, for `to_regclass`.
    fn regclass(&self, suffix: &str) -> String {
        self.qualified(suffix)
    }

    /// Creates the tables if the version table is missing, and checks the
    /// version. Runs in `tx`, under a transaction-level advisory lock named
    /// after the tables, so that two processes setting up at once wait for
    /// each other instead of racing on `CREATE TABLE`.
    pub(super) fn set_up(&self, tx: &mut Transaction<'_>) -> Result<(), Fail> {
        // Two keys: a constant for this crate, and the tables' names hashed.
        tx.execute(
            "SELECT pg_advisory_xact_lock(1752462195, hashtext($1))",
            &[&self.regclass("schema")],
        )?;
        let version_table = self.qualified("schema");
        let exists: bool = tx
            .query_one(
                "SELECT to_regclass($1) IS NOT NULL",
                &[&self.regclass("schema")],
            )?
            .try_get(0)?;
        if exists {
            let version: Option<i32> = tx
                .query_opt(&format!("SELECT version FROM {version_table}"), &[])?
                .map(|row| row.try_get(0))
                .transpose()?;
            return match version {
                Some(SCHEMA_VERSION) => Ok(()),
                Some(newer) if newer > SCHEMA_VERSION => Err(Fail::Store(Error::store(
                    "checking the session tables' schema version",
                    format!(
                        "the tables {} were made by a newer version of http-session (schema \
                         version {newer}; this one knows version {SCHEMA_VERSION} at most) and \
                         are left as they are: upgrade http-session, or give this program \
                         another table_prefix or schema",
                        self.describe()
                    ),
                ))),
                other => Err(Fail::Store(Error::store(
                    "checking the session tables' schema version",
                    format!(
                        "the table {version_table} holds {}, not a schema version this \
                         http-session knows ({SCHEMA_VERSION}); it is left as it is",
                        match other {
                            Some(v) => format!("version {v}"),
                            None => "no row".to_owned(),
                        }
                    ),
                ))),
            };
        }
        let sessions = self.qualified("sessions");
        let users = self.qualified("users");
        let index = quote(&self.name("sessions_expires_at"));
        let mut ddl = String::new();
        if let Some(schema) = &self.schema {
            ddl.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote(schema)));
        }
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {sessions} (\n\
             \x20   key bytea PRIMARY KEY,\n\
             \x20   data bytea NOT NULL,\n\
             \x20   expires_at timestamptz\n\
             );\n\
             CREATE INDEX IF NOT EXISTS {index} ON {sessions} (expires_at) \
             WHERE expires_at IS NOT NULL;\n\
             CREATE TABLE IF NOT EXISTS {users} (\n\
             \x20   user_hash bytea NOT NULL,\n\
             \x20   handle bytea NOT NULL,\n\
             \x20   record_key bytea NOT NULL,\n\
             \x20   PRIMARY KEY (user_hash, handle)\n\
             );\n\
             CREATE TABLE {version_table} (\n\
             \x20   singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n\
             \x20   version integer NOT NULL\n\
             );\n\
             INSERT INTO {version_table} (version) VALUES ({SCHEMA_VERSION});"
        ));
        tx.batch_execute(&ddl)?;
        Ok(())
    }

    /// The three tables, for messages.
    pub(super) fn describe(&self) -> String {
        let schema = self
            .schema
            .as_ref()
            .map_or(String::new(), |s| format!("{s}."));
        format!(
            "{schema}{p}sessions, {schema}{p}users and {schema}{p}schema",
            p = self.prefix
        )
    }
}

impl fmt::Debug for Tables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tables")
            .field("schema", &self.schema)
            .field("prefix", &self.prefix)
            .finish()
    }
}
