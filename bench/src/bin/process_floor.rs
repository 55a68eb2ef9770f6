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

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
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
                let status = Command::new(&*program)
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
