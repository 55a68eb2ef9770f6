//! Where a `RedisStore` connects: its URL or cluster node URLs ([`Target`]),
//! checked and turned into a connector for the pool, and shown in `Debug`
//! without credentials.

use std::fmt;

use redis::RedisError;

use super::pool::{Connect, Connection};
use super::RedisStoreBuilder;
use crate::Error;

/// The server a store talks to: one Redis, or a cluster through its nodes.
#[derive(Clone)]
pub(super) enum Target {
    Single(String),
    #[cfg(feature = "redis-cluster")]
    Cluster(Vec<String>),
}

fn invalid_url(e: RedisError) -> Error {
    Error::config(format!(
        "not a usable Redis URL ({e}); expected redis://host:port/db, rediss://... \
         (feature redis-tls) or unix:///path"
    ))
}

pub(super) fn single_connector(
    url: &str,
    settings: &RedisStoreBuilder,
) -> Result<(Connect, String), Error> {
    let (connect_timeout, command_timeout) = (settings.connect_timeout, settings.command_timeout);
    if !["redis://", "rediss://", "unix://", "redis+unix://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(Error::config(
            "a Redis URL starts with redis://, rediss:// or unix://",
        ));
    }
    let info = redis::IntoConnectionInfo::into_connection_info(url).map_err(invalid_url)?;
    // No `CLIENT SETINFO` on connect: it is a round trip per new connection,
    // and its replies are read with errors ignored, which doubles the time a
    // connection to a hung server takes to fail.
    let redis_settings = info.redis_settings().clone().set_skip_set_lib_name();
    let info = info.set_redis_settings(redis_settings);
    #[cfg(feature = "redis-tls")]
    let client = match &settings.tls_root_certificates {
        Some(pem) => redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.clone()),
            },
        ),
        None => redis::Client::open(info),
    }
    .map_err(invalid_url)?;
    #[cfg(not(feature = "redis-tls"))]
    let client = redis::Client::open(info).map_err(invalid_url)?;
    // Only the address: the URL may hold a password.
    let server = format!("Redis at {}", client.get_connection_info().addr());
    let connect: Connect = Box::new(move || {
        let conn = client.get_connection_with_timeout(connect_timeout)?;
        conn.set_read_timeout(Some(command_timeout))?;
        conn.set_write_timeout(Some(command_timeout))?;
        Ok(Box::new(conn) as Connection)
    });
    Ok((connect, server))
}

#[cfg(feature = "redis-cluster")]
pub(super) fn cluster_connector(
    urls: &[String],
    settings: &RedisStoreBuilder,
) -> Result<(Connect, String), Error> {
    let first = urls
        .first()
        .ok_or_else(|| Error::config("a Redis Cluster needs at least one node URL"))?;
    let builder = redis::cluster::ClusterClientBuilder::new(urls.iter().map(String::as_str))
        .connection_timeout(settings.connect_timeout)
        .response_timeout(settings.command_timeout)
        // Few retries, so a call on a broken cluster still fails in bounded time.
        .retries(2);
    #[cfg(feature = "redis-tls")]
    let builder = match &settings.tls_root_certificates {
        Some(pem) => builder.certs(redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        }),
        None => builder,
    };
    let client = builder.build().map_err(invalid_url)?;
    let addr = redis::Client::open(first.as_str())
        .map_err(invalid_url)?
        .get_connection_info()
        .addr()
        .to_string();
    let server = format!("Redis Cluster at {addr} (and its nodes)");
    let connect: Connect = Box::new(move || Ok(Box::new(client.get_connection()?) as Connection));
    Ok((connect, server))
}

/// A URL for `Debug`, with no credential in any form redis-rs reads: the
/// userinfo (`user:password@`, any scheme) becomes `…`, and the query string
/// (`?user=…&pass=…` of `unix://` URLs) and fragment are dropped whole.
/// Malformed URLs are cut short rather than risk showing a secret.
fn redact(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(end) => (&url[..end + 3], &url[end + 3..]),
        None => ("", url),
    };
    let query = rest.find(['?', '#']);
    let at = rest.rfind('@');
    let tail = if query.is_some() { "?…" } else { "" };
    match (at, query) {
        // An '@' after a '?' may end a userinfo whose password holds a '?',
        // or sit in a query value: either way nothing here is safe to show.
        (Some(at), Some(query)) if at > query => format!("{scheme}…{tail}"),
        (Some(at), _) => {
            let end = query.unwrap_or(rest.len());
            format!("{scheme}…@{}{tail}", &rest[at + 1..end])
        }
        (None, _) => format!("{scheme}{}{tail}", &rest[..query.unwrap_or(rest.len())]),
    }
}

/// Shows the URLs without their credentials (see [`redact`]).
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Single(url) => f.debug_tuple("Single").field(&redact(url)).finish(),
            #[cfg(feature = "redis-cluster")]
            Target::Cluster(urls) => f
                .debug_tuple("Cluster")
                .field(&urls.iter().map(|u| redact(u)).collect::<Vec<_>>())
                .finish(),
        }
    }
}
