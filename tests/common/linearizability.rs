//! A linearizability checker for recorded concurrent histories: the
//! Wing–Gong search with Lowe's memoization, bounded by a budget of states.
//!
//! A history is a list of [`Entry`]s (thread, invocation and response times
//! from one shared counter, the operation, its result). [`check`] looks for an
//! order of the operations that respects real time (an operation that returned
//! before another was invoked comes first) and in which a sequential [`Model`]
//! gives every operation the result it actually returned.

use std::collections::HashSet;
use std::fmt::{self, Debug, Write as _};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

/// The sequential specification: a state and what an operation does to it.
pub trait Model: Clone + Eq + Hash + Debug {
    type Op: Clone + Debug;
    type Ret: Clone + Debug + PartialEq;

    /// The state after `op`, and what `op` returns.
    fn step(&self, op: &Self::Op) -> (Self, Self::Ret);
}

/// One completed operation.
#[derive(Clone, Debug)]
pub struct Entry<Op, Ret> {
    pub thread: usize,
    /// Taken from the [`Ticker`] just before the call.
    pub call: u64,
    /// Taken from the [`Ticker`] just after the return.
    pub ret: u64,
    pub op: Op,
    pub result: Ret,
}

impl<Op: Debug, Ret: Debug> fmt::Display for Entry<Op, Ret> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "thread {} [{}..{}] {:?} -> {:?}",
            self.thread, self.call, self.ret, self.op, self.result
        )
    }
}

/// The shared logical clock: SeqCst ticks order calls and returns across
/// threads consistently with real time.
#[derive(Debug, Default)]
pub struct Ticker(AtomicU64);

impl Ticker {
    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

/// An entry of model `M`'s history.
pub type EntryOf<M> = Entry<<M as Model>::Op, <M as Model>::Ret>;

/// The checker's verdict.
#[derive(Debug)]
pub enum Outcome<M: Model> {
    Linearizable,
    NotLinearizable(Box<Violation<M>>),
    /// The budget ran out before the search could decide.
    Unknown {
        explored: usize,
    },
}

/// Why no linearization exists: the longest one the search could build, and
/// the operations that could come next, none of which returns what the model
/// says it should.
#[derive(Debug)]
pub struct Violation<M: Model> {
    pub ops: usize,
    /// The longest partial linearization found, in order.
    pub prefix: Vec<EntryOf<M>>,
    /// The model's state after `prefix`.
    pub state: M,
    /// Each operation that could go next, with what the model would return.
    pub stuck: Vec<(EntryOf<M>, M::Ret)>,
}

/// How many operations of the prefix the explanation shows.
const PREFIX_SHOWN: usize = 8;

impl<M: Model> fmt::Display for Violation<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "not linearizable: at most {} of {} operations linearize",
            self.prefix.len(),
            self.ops
        )?;
        let skipped = self.prefix.len().saturating_sub(PREFIX_SHOWN);
        writeln!(f, "  the longest linearization ends with:")?;
        if skipped > 0 {
            writeln!(f, "    ... {skipped} earlier operations")?;
        }
        for entry in &self.prefix[skipped..] {
            writeln!(f, "    {entry}")?;
        }
        writeln!(f, "  model state then: {:?}", self.state)?;
        writeln!(f, "  and no operation fits next:")?;
        for (entry, expected) in &self.stuck {
            writeln!(f, "    {entry}   (the model returns {expected:?})")?;
        }
        Ok(())
    }
}

impl<M: Model> Outcome<M> {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Outcome::Linearizable)
    }
}

/// Searches `history` (any order) for a linearization from `init`, exploring
/// at most `budget` distinct (linearized set, state) pairs.
pub fn check<M: Model>(init: M, history: &[EntryOf<M>], budget: usize) -> Outcome<M> {
    let mut order: Vec<usize> = (0..history.len()).collect();
    order.sort_by_key(|&i| history[i].call);
    let mut search = Search {
        history,
        order,
        done: vec![0; history.len().div_ceil(64)],
        seen: HashSet::new(),
        path: Vec::new(),
        explored: 0,
        budget,
        deepest: None,
    };
    match search.from(&init) {
        Ok(true) => Outcome::Linearizable,
        Err(Exhausted) => Outcome::Unknown {
            explored: search.explored,
        },
        Ok(false) => {
            let (path, state, stuck) = search.deepest.expect("a failed search has a deepest point");
            Outcome::NotLinearizable(Box::new(Violation {
                ops: history.len(),
                prefix: path.iter().map(|&i| history[i].clone()).collect(),
                state,
                stuck: stuck
                    .into_iter()
                    .map(|(i, ret)| (history[i].clone(), ret))
                    .collect(),
            }))
        }
    }
}

struct Exhausted;

type Deepest<M> = (Vec<usize>, M, Vec<(usize, <M as Model>::Ret)>);

struct Search<'h, M: Model> {
    history: &'h [EntryOf<M>],
    /// Indices by invocation time.
    order: Vec<usize>,
    /// Bitset of the linearized operations.
    done: Vec<u64>,
    /// Lowe's memo: configurations already explored (and failed).
    seen: HashSet<(Vec<u64>, M)>,
    path: Vec<usize>,
    explored: usize,
    budget: usize,
    deepest: Option<Deepest<M>>,
}

impl<M: Model> Search<'_, M> {
    fn is_done(&self, i: usize) -> bool {
        self.done[i / 64] & (1 << (i % 64)) != 0
    }

    fn flip(&mut self, i: usize) {
        self.done[i / 64] ^= 1 << (i % 64);
    }

    fn from(&mut self, state: &M) -> Result<bool, Exhausted> {
        if self.path.len() == self.history.len() {
            return Ok(true);
        }
        // An operation may go next only if it was invoked before every
        // remaining operation's response.
        let horizon = (0..self.history.len())
            .filter(|&i| !self.is_done(i))
            .map(|i| self.history[i].ret)
            .min()
            .unwrap_or(u64::MAX);
        let mut misfits = Vec::new();
        for k in 0..self.order.len() {
            let i = self.order[k];
            if self.history[i].call > horizon {
                break;
            }
            if self.is_done(i) {
                continue;
            }
            let (next, ret) = state.step(&self.history[i].op);
            if ret != self.history[i].result {
                misfits.push((i, ret));
                continue;
            }
            self.flip(i);
            if self.seen.insert((self.done.clone(), next.clone())) {
                self.explored += 1;
                if self.explored > self.budget {
                    return Err(Exhausted);
                }
                self.path.push(i);
                if self.from(&next)? {
                    return Ok(true);
                }
                self.path.pop();
            }
            self.flip(i);
        }
        // Deeper points are recorded first, so this keeps the deepest one.
        if self
            .deepest
            .as_ref()
            .is_none_or(|(path, ..)| path.len() < self.path.len())
        {
            self.deepest = Some((self.path.clone(), state.clone(), misfits));
        }
        Ok(false)
    }
}

/// The whole history by invocation time, one operation a line.
pub fn render<Op: Debug, Ret: Debug>(history: &[Entry<Op, Ret>]) -> String {
    let mut sorted: Vec<_> = history.iter().collect();
    sorted.sort_by_key(|entry| entry.call);
    let mut text = String::new();
    for entry in sorted {
        let _ = writeln!(text, "    {entry}");
    }
    text
}
