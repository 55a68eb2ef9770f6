//! What starting a process costs on this machine: the floor under every CGI
//! request, whatever the program does. Run by `bench/process_floor.sh`,
//! which builds the programs it times.
//!
//! ```sh
//! process_floor cpuid                 # the time one CPUID instruction takes
//! process_floor ROUNDS RUNS NAME=PROGRAM [+VAR=VALUE ...] [NAME=PROGRAM ...]
//! ```
//!
//! The second form runs each PROGRAM (no arguments, this process's
//! environment with the `+VAR=VALUE`s that follow it, its output discarded)
//! RUNS times a round, the programs in
//! turn within each round so that all see the same load, and prints each
//! one's median over the ROUNDS rounds of the mean wall time per run
//! (spawn to exit, the wait included). A run that fails stops everything.
//!
//! With `PROCESS_FLOOR_STEP` set, it is instead one of the programs timed:
//! it takes SQLite as far as that step on the session database
//! `PROCESS_FLOOR_DB` and exits (see [`sqlite_step`]), so that the steps'
//! times, told apart, show what opening the database in each process costs.

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    if let Some(step) = std::env::var_os("PROCESS_FLOOR_STEP") {
        let db = std::env::var_os("PROCESS_FLOOR_DB").unwrap_or_default();
        return sqlite_step(&step.to_string_lossy(), std::path::Path::new(&db));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode] if mode == "cpuid" => {
            cpuid();
            ExitCode::SUCCESS
        }
        [rounds, runs, programs @ ..] if !programs.is_empty() => {
            match (rounds.parse(), runs.parse()) {
                (Ok(rounds), Ok(runs)) if rounds > 0 && runs > 0 => time(rounds, runs, programs),
                _ => usage(),
            }
        }
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: process_floor cpuid | \
         process_floor ROUNDS RUNS NAME=PROGRAM [+VAR=VALUE ...] [NAME=PROGRAM ...]"
    );
    ExitCode::from(2)
}

/// CPUID is the instruction a hypervisor may trap: each one then leaves the
/// guest. glibc's start-up runs it dozens of times (CPU features, caches).
#[cfg(target_arch = "x86_64")]
fn cpuid() {
    const CALLS: u32 = 2_000;
    let mut sum = 0u32;
    let start = Instant::now();
    for leaf in 0..CALLS {
        // The leaves glibc asks about AMD's caches, in turn.
        let regs = std::arch::x86_64::__cpuid_count(0x8000_001D, leaf % 4);
        sum = sum.wrapping_add(regs.eax);
    }
    let each = start.elapsed() / CALLS;
    std::hint::black_box(sum);
    println!(
        "cpuid: {:.2} µs a call ({CALLS} calls)",
        each.as_secs_f64() * 1e6
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid() {
    println!("cpuid: not an x86-64 machine");
}

/// A program to time, and its times.
struct Program<'a> {
    name: &'a str,
    program: &'a str,
    /// Variables set for it, on top of this process's environment.
    env: Vec<(&'a str, &'a str)>,
    /// The mean time a run took, in seconds, of each round.
    means: Vec<f64>,
}

fn time(rounds: usize, runs: usize, programs: &[String]) -> ExitCode {
    let mut named: Vec<Program<'_>> = Vec::new();
    for spec in programs {
        if let Some(var) = spec.strip_prefix('+') {
            match (var.split_once('='), named.last_mut()) {
                (Some(pair), Some(last)) => last.env.push(pair),
                _ => return usage(),
            }
        } else if let Some((name, program)) = spec.split_once('=') {
            named.push(Program {
                name,
                program,
                env: Vec::new(),
                means: Vec::with_capacity(rounds),
            });
        } else {
            return usage();
        }
    }
    for _ in 0..rounds {
        for Program {
            name,
            program,
            env,
            means,
        } in &mut named
        {
            let start = Instant::now();
            for _ in 0..runs {
                let status = Command::new(*program)
                    .envs(env.iter().copied())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .status();
                match status {
                    Ok(status) if status.success() => {}
                    Ok(status) => {
                        eprintln!("{name} ({program}) exited with {status}");
                        return ExitCode::FAILURE;
                    }
                    Err(e) => {
                        eprintln!("{name} ({program}) could not start: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            means.push(start.elapsed().as_secs_f64() / runs as f64);
        }
    }
    for Program { name, means, .. } in &mut named {
        means.sort_by(f64::total_cmp);
        let median = means[means.len() / 2];
        println!(
            "{name:<14} {:8.1} µs a run (median of {rounds} rounds of {runs})",
            median * 1e6
        );
    }
    ExitCode::SUCCESS
}

/// One process's use of SQLite, up to `step`, each step including the ones
/// before it:
/// - `none`: SQLite untouched (the program's own start and exit);
/// - `init`: SQLite set up, an in-memory database opened and closed;
/// - `open`: the file `db` opened as the store opens it (read-write, no
///   checkpoint on close) and closed, nothing read;
/// - `read`: a first read (`PRAGMA user_version`): the log's index set up
///   again by a process alone (the `-shm` file cut to nothing and grown
///   again, the log read through);
/// - `schema`: a read of the sessions table, which parses the schema.
fn sqlite_step(step: &str, db: &std::path::Path) -> ExitCode {
    use rusqlite::{config::DbConfig, Connection, OpenFlags};
    let steps = ["none", "init", "open", "read", "schema"];
    let Some(last) = steps.iter().position(|s| *s == step) else {
        eprintln!("PROCESS_FLOOR_STEP is one of {steps:?}");
        return ExitCode::from(2);
    };
    let result = (|| -> rusqlite::Result<()> {
        if last >= 1 {
            drop(Connection::open_in_memory()?);
        }
        if last >= 2 {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(db, flags)?;
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
            if last >= 3 {
                conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))?;
            }
            if last >= 4 {
                conn.query_row("SELECT count(*) FROM sessions", [], |row| {
                    row.get::<_, i64>(0)
                })?;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("step {step}: {e}");
            ExitCode::FAILURE
        }
    }
}
