//! Hostile input and faults: session IDs and fixation, abuse limits counted
//! by work done (this binary's global allocator counts allocations per
//! thread), the brute-force signal, redacted `Debug` output, faults in
//! user code and stores, and the fuzz properties (proptest mirrors and
//! regression inputs).

#[path = "../common/mod.rs"]
mod common;

mod abuse_limits;
mod brute_force_signal;
mod debug_output;
mod fault_behaviour;
mod fuzz_mirrors;
mod fuzz_regressions;
mod session_ids;
