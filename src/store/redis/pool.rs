//! The connection pool of a `RedisStore`: at most `size` connections, opened
//! on demand, reused, dropped when broken; a call waits a bounded time for one.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::{ConnectionLike, RedisResult};

/// A connection to one Redis server or to a cluster.
pub(super) type Connection = Box<dyn ConnectionLike + Send>;
pub(super) type Connect = Box<dyn Fn() -> RedisResult<Connection> + Send + Sync>;

/// Open connections: idle ones to reuse, and a count bounded by `size`.
pub(super) struct Pool {
    connect: Connect,
    pub(super) size: usize,
    wait: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections open, idle or in use.
    open: usize,
}

/// A connection lent out by the pool; it goes back on drop unless broken.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Connection>,
    pub(super) reused: bool,
    pub(super) broken: bool,
}

impl Pool {
    /// An empty pool of at most `size` connections opened by `connect`; a
    /// call waits at most `wait` for one.
    pub(super) fn new(connect: Connect, size: usize, wait: Duration) -> Pool {
        Pool {
            connect,
            size,
            wait,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Every change under the lock is a single push, pop or count change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn get(&self) -> Result<Pooled<'_>, Box<dyn std::error::Error + Send + Sync>> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(self.lend(conn, true));
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match (self.connect)() {
                    Ok(conn) => Ok(self.lend(conn, false)),
                    Err(e) => {
                        self.release_slot();
                        Err(Box::new(e))
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "all {} pooled connections stayed busy for {:?}; raise pool_size",
                    self.size, self.wait
                )
                .into());
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lend(&self, conn: Connection, reused: bool) -> Pooled<'_> {
        Pooled {
            pool: self,
            conn: Some(conn),
            reused,
            broken: false,
        }
    }

    /// Closes every idle connection.
    pub(super) fn drain_idle(&self) {
        let mut state = self.lock();
        let idle = std::mem::take(&mut state.idle);
        state.open = state.open.saturating_sub(idle.len());
        drop(state);
        drop(idle);
        self.freed.notify_all();
    }

    fn release_slot(&self) {
        let mut state = self.lock();
        state.open = state.open.saturating_sub(1);
        drop(state);
        self.freed.notify_one();
    }
}

impl Pooled<'_> {
    pub(super) fn connection(&mut self) -> &mut dyn ConnectionLike {
        match &mut self.conn {
            Some(conn) => conn.as_mut(),
            // `conn` is only taken in `drop`.
            None => unreachable!("pooled connection used after drop"),
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        match self.conn.take() {
            Some(conn) if !self.broken && conn.is_open() => {
                self.pool.lock().idle.push(conn);
                self.pool.freed.notify_one();
            }
            _ => self.pool.release_slot(),
        }
    }
}
