#!/usr/bin/env bash
# What starting a process costs on this machine: the floor under every CGI
# request (see BENCHMARKS.md, "CGI end to end, against PHP"). Times, in turn
# and in the same rounds (bench/src/bin/process_floor.rs):
#   nolibc         a static program that writes a CGI response with two system
#                  calls and no C library: exec and exit alone
#   glibc-static   the same response from a static C program (glibc): its
#                  start-up on top
#   ours-file      our CGI example (as bench/cgi_vs_php.sh builds it) counting
#                  a visit with FileStore, Durability::ProcessCrash
#   ours-sqlite    the same with SqliteStore
# one request after another (no concurrency, no web server); then SQLite's
# part, step by step, in a static program that goes only as far as each step
# on the SQLite example's database (none, init, open, read, schema: see
# sqlite_step in bench/src/bin/process_floor.rs); and the time one CPUID
# instruction takes, the instruction a hypervisor may trap and glibc's
# start-up runs dozens of times.
#
# Usage: bash bench/process_floor.sh   (ROUNDS, default 15; RUNS per round,
# default 200). Needs gcc. No server and no network: its files go in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-15}
RUNS=${RUNS:-200}
command -v gcc >/dev/null || { echo "needs gcc" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/process_floor.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"

cat >"$WORK/glibc.c" <<'C'
#include <stdio.h>
int main(void) {
    fputs("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhi\n", stdout);
    return 0;
}
C
cat >"$WORK/nolibc.c" <<'C'
static const char msg[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhi\n";
void _start(void) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(1), "D"(1), "S"(msg), "d"(sizeof msg - 1)
                     : "rcx", "r11", "memory");
    __asm__ volatile("syscall" : : "a"(60), "D"(0) : "rcx", "r11", "memory");
    for (;;) {}
}
C
gcc -O2 -static -o "$WORK/glibc" "$WORK/glibc.c"
gcc -O2 -static -nostdlib -o "$WORK/nolibc" "$WORK/nolibc.c"

# The CGI example as bench/cgi_vs_php.sh builds it: release, static.
cargo rustc --release -p http-session-examples --example cgi --features sqlite \
  -- -C target-feature=+crt-static
# Static too, as it is also the program of the SQLite steps.
cargo rustc --release -p http-session-bench --bin process_floor \
  -- -C target-feature=+crt-static
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -d "$TARGET_DIR" ] || TARGET_DIR=target
CGI="$TARGET_DIR/release/examples/cgi"

# One session per store, made by a first request; each timed run counts a visit.
mkdir -m 700 "$WORK/files"
CGI_ENV=(REQUEST_METHOD=GET PATH_INFO=/profile SCRIPT_NAME=/app GATEWAY_INTERFACE=CGI/1.1
  SESSION_DURABILITY=process-crash)
cookie() {
  env "${CGI_ENV[@]}" SESSION_STORE="$1" "$CGI" |
    sed -n 's/^Set-Cookie: \(session_id=[^;]*\).*/\1/p'
}
file_cookie=$(cookie "file:$WORK/files")
sqlite_cookie=$(cookie "sqlite:$WORK/sessions.db")
[ -n "$file_cookie" ] && [ -n "$sqlite_cookie" ] || { echo "no session cookie" >&2; exit 1; }
plus() { for kv in "${CGI_ENV[@]}"; do printf '+%s\n' "$kv"; done; }
mapfile -t cgi_vars < <(plus)

"$TARGET_DIR/release/process_floor" cpuid
"$TARGET_DIR/release/process_floor" "$ROUNDS" "$RUNS" \
  nolibc="$WORK/nolibc" \
  glibc-static="$WORK/glibc" \
  ours-file="$CGI" "${cgi_vars[@]}" +SESSION_STORE="file:$WORK/files" +HTTP_COOKIE="$file_cookie" \
  ours-sqlite="$CGI" "${cgi_vars[@]}" +SESSION_STORE="sqlite:$WORK/sessions.db" +HTTP_COOKIE="$sqlite_cookie"
echo "SQLite's part, step by step (each step includes the ones before it):"
steps=()
for step in none init open read schema; do
  steps+=("sqlite-$step=$TARGET_DIR/release/process_floor" +PROCESS_FLOOR_STEP=$step
    +PROCESS_FLOOR_DB="$WORK/sessions.db")
done
"$TARGET_DIR/release/process_floor" "$ROUNDS" "$RUNS" "${steps[@]}"
