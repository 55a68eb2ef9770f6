//! A user's sessions (issue 11): the cost of each new operation with 10,000
//! sessions bound over 1,000 users (10 each), against a plain `Session::get`
//! of an unbound session in the same store and the same run.
//!
//! The store holds 20,000 sessions: the 10,000 bound ones and 10,000 unbound
//! ones (the baseline `get` visits those, so both `get`s walk 10,000 IDs).
//! Every session's data is `{"user_id":"123","role":"admin","n":5}`. Users
//! are `user-0000` .. `user-0999`; each operation visits them in turn, so
//! every call finds its user at 10 sessions. Operations:
//!
//! - `get, unbound (baseline)` / `get, bound`: `Session::get` of one
//!   session; the difference is what the owner field costs on the hot path.
//! - `bind_user`: binds a fresh session (created beforehand, not timed) to a
//!   user with 10; afterwards (not timed) it is revoked again.
//! - `bind_user at the cap`: the same, on a `Session` with
//!   `max_sessions_per_user(10)` over the same store: the bind lists the
//!   user's 11 sessions and ends the least recently seen one.
//! - `sessions_of`: lists a user's 10 sessions, marking the current one
//!   (`Some(&id)`, as a "your devices" page does).
//! - `revoke`: ends one session by its handle; afterwards (not timed) a new
//!   session is created and bound in its place.
//! - `revoke_all, 9 of 10`: ends every session of a user but one ("log out
//!   everywhere else"); afterwards (not timed) 9 new sessions are bound.
//! - `RecordKey::of (SHA-256)`: the hash that names a record at rest, which
//!   several of the operations above compute (a reference, not an operation).
//!
//! Every store of this crate that has a user index ([`Store::user_index`])
//! is measured: `MemoryStore`, and `FileStore` in a temporary directory. A
//! store without one is skipped with a note on stderr.
//!
//! `cargo bench -p http-session-bench --bench user_sessions`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Bencher, Criterion};
use http_session::store::{RecordKey, RevocationHandle};
use http_session::{FileStore, MemoryStore, Session, SessionId, Store};
use serde_json::{json, Value};

const USERS: usize = 1_000;
const PER_USER: usize = 10;
const UNBOUND: usize = USERS * PER_USER;

fn initial() -> Value {
    json!({"user_id": "123", "role": "admin", "n": 5})
}

/// A bound session: its ID and the handle that revokes it.
struct Bound {
    id: SessionId,
    handle: RevocationHandle,
}

/// The population, and the two sessions (without and with the cap) over the
/// one store.
struct Population<S: Store> {
    session: Session<Arc<S>>,
    capped: Session<Arc<S>>,
    users: Vec<String>,
    bound: Vec<Vec<Bound>>,
    unbound: Vec<SessionId>,
    /// The next user an operation visits.
    next: usize,
}

impl<S: Store> Population<S> {
    fn new(store: S) -> Population<S> {
        let store = Arc::new(store);
        let session = Session::builder()
            .store(Arc::clone(&store))
            .build()
            .expect("valid settings");
        let capped = Session::builder()
            .store(store)
            .max_sessions_per_user(PER_USER)
            .build()
            .expect("valid settings");
        let users: Vec<String> = (0..USERS).map(|u| format!("user-{u:04}")).collect();
        let mut population = Population {
            session,
            capped,
            users,
            bound: Vec::with_capacity(USERS),
            unbound: Vec::with_capacity(UNBOUND),
            next: 0,
        };
        for u in 0..USERS {
            let sessions = (0..PER_USER).map(|_| population.bind_new(u)).collect();
            population.bound.push(sessions);
        }
        for _ in 0..UNBOUND {
            let id = population.session.create(initial()).expect("create");
            population.unbound.push(id);
        }
        population.check();
        population
    }

    /// A fresh session, unbound.
    fn fresh(&self) -> SessionId {
        self.session.create(initial()).expect("create")
    }

    /// The handle of session `id`'s binding.
    fn handle_of(&self, id: &SessionId) -> RevocationHandle {
        self.session
            .store()
            .get(id)
            .expect("store")
            .and_then(|record| record.owner)
            .expect("a bound session")
            .handle
    }

    /// A fresh session bound to user `u`.
    fn bind_new(&self, u: usize) -> Bound {
        let id = self.fresh();
        assert!(self.session.bind_user(&id, &self.users[u]).expect("bind"));
        let handle = self.handle_of(&id);
        Bound { id, handle }
    }

    /// The next `k` users (at most all of them, so each once).
    fn take_users(&mut self, k: usize) -> Vec<usize> {
        let k = k.min(USERS);
        let users = (0..k).map(|i| (self.next + i) % USERS).collect();
        self.next = (self.next + k) % USERS;
        users
    }

    /// Every user lists exactly their 10 sessions, and the store holds the
    /// whole population.
    fn check(&self) {
        for (u, user) in self.users.iter().enumerate() {
            let listed = self.session.sessions_of(user, None).expect("list");
            assert_eq!(listed.len(), PER_USER, "{user}");
            for bound in &self.bound[u] {
                assert!(listed.iter().any(|info| info.handle == bound.handle));
            }
        }
        if let Some(count) = self.session.store().count().expect("count") {
            assert_eq!(count, (USERS * PER_USER + UNBOUND) as u64);
        }
    }
}

/// Runs `iters` timed calls of `op`, in rounds over distinct users: before
/// each round `prepare(population, user)` (not timed) makes each call's
/// input, after it `restore` (not timed) brings the user back to 10.
fn rounds<S: Store, P, R>(
    b: &mut Bencher<'_>,
    population: &mut Population<S>,
    mut prepare: impl FnMut(&Population<S>, usize) -> P,
    mut op: impl FnMut(&Population<S>, usize, &P) -> R,
    mut restore: impl FnMut(&mut Population<S>, usize, P, R),
) {
    b.iter_custom(|iters| {
        let mut timed = Duration::ZERO;
        let mut left = iters as usize;
        while left > 0 {
            let users = population.take_users(left);
            left -= users.len();
            let inputs: Vec<P> = users.iter().map(|&u| prepare(population, u)).collect();
            let start = Instant::now();
            let outputs: Vec<R> = users
                .iter()
                .zip(&inputs)
                .map(|(&u, input)| black_box(op(population, u, input)))
                .collect();
            timed += start.elapsed();
            for ((u, input), output) in users.into_iter().zip(inputs).zip(outputs) {
                restore(population, u, input, output);
            }
        }
        timed
    });
}

fn bench_store<S: Store>(c: &mut Criterion, name: &str, store: S) {
    if store.user_index().is_none() {
        eprintln!("user_sessions: {name} has no user index on this commit: skipped");
        return;
    }
    let setup = Instant::now();
    let mut population = Population::new(store);
    eprintln!(
        "user_sessions: {name}: {} users x {PER_USER} bound + {UNBOUND} unbound sessions in {:.1?}",
        USERS,
        setup.elapsed()
    );

    let mut g = c.benchmark_group(format!("user_sessions/{name}"));
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    // The baseline and the hot path: a plain `get`, of unbound and of bound
    // sessions, each walking 10,000 IDs.
    let unbound = population.unbound.clone();
    let bound: Vec<SessionId> = population
        .bound
        .iter()
        .flatten()
        .map(|b| b.id.clone())
        .collect();
    for (label, ids) in [
        ("get, unbound (baseline)", &unbound),
        ("get, bound", &bound),
    ] {
        let session = &population.session;
        let mut i = 0;
        g.bench_function(label, |b| {
            b.iter(|| {
                i = (i + 1) % ids.len();
                let data = session.get(black_box(&ids[i])).expect("get");
                assert!(data.is_some());
                data
            })
        });
    }

    {
        let population = &population;
        let mut u = 0;
        g.bench_function("sessions_of (10, current marked)", |b| {
            b.iter(|| {
                u = (u + 1) % USERS;
                let current = &population.bound[u][0].id;
                let listed = population
                    .session
                    .sessions_of(black_box(&population.users[u]), Some(current))
                    .expect("sessions_of");
                assert_eq!(listed.len(), PER_USER);
                listed
            })
        });
    }

    g.bench_function("bind_user (fresh session, user with 10)", |b| {
        rounds(
            b,
            &mut population,
            |p, _| p.fresh(),
            |p, u, id| p.session.bind_user(id, &p.users[u]).expect("bind"),
            |p, u, id, bound| {
                assert!(bound);
                let handle = p.handle_of(&id);
                assert!(p.session.revoke(&p.users[u], &handle).expect("revoke"));
            },
        )
    });

    g.bench_function("bind_user at the cap (10, ends 1)", |b| {
        rounds(
            b,
            &mut population,
            |p, _| p.fresh(),
            |p, u, id| p.capped.bind_user(id, &p.users[u]).expect("bind"),
            |p, u, id, bound| {
                assert!(bound);
                let handle = p.handle_of(&id);
                // The cap ended one of the 10: the new session takes its place.
                let store = p.session.store();
                let ended = p.bound[u]
                    .iter()
                    .position(|b| store.get(&b.id).expect("get").is_none())
                    .expect("the cap ended one session");
                p.bound[u][ended] = Bound { id, handle };
            },
        )
    });

    let mut slot = 0;
    g.bench_function("revoke (one handle)", |b| {
        rounds(
            b,
            &mut population,
            |_, _| {
                slot = (slot + 1) % PER_USER;
                slot
            },
            |p, u, &s| {
                p.session
                    .revoke(&p.users[u], &p.bound[u][s].handle)
                    .expect("revoke")
            },
            |p, u, s, revoked| {
                assert!(revoked);
                p.bound[u][s] = p.bind_new(u);
            },
        )
    });

    g.bench_function("revoke_all (9 of 10, except one)", |b| {
        rounds(
            b,
            &mut population,
            |_, _| (),
            |p, u, ()| {
                p.session
                    .revoke_all(&p.users[u], Some(&p.bound[u][0].id))
                    .expect("revoke_all")
            },
            |p, u, (), ended| {
                assert_eq!(ended, PER_USER - 1);
                for s in 1..PER_USER {
                    p.bound[u][s] = p.bind_new(u);
                }
            },
        )
    });

    let id = SessionId::generate();
    g.bench_function("RecordKey::of (SHA-256, reference)", |b| {
        b.iter(|| RecordKey::of(black_box(&id)))
    });
    g.finish();

    // Nothing drifted: every user still has their 10 sessions.
    population.check();
}

fn bench(c: &mut Criterion) {
    let memory = MemoryStore::builder().max_sessions(100_000).build();
    bench_store(c, "MemoryStore", memory);

    let dir = std::env::temp_dir().join(format!("user-sessions-bench-{}", std::process::id()));
    let file = FileStore::open(&dir).expect("a temporary directory");
    bench_store(c, "FileStore", file);
    let _ = std::fs::remove_dir_all(&dir);

    // RedisStore: not measured here yet (its user index is not on this
    // commit; the bench package has no `redis` feature).
}

criterion_group!(benches, bench);
criterion_main!(benches);
