#!/usr/bin/env bash
# CGI end to end, against PHP (issue 12, acceptance point "CGI end to end,
# against PHP"). The issue says `benches/`; in this repository the benchmarks
# live in `bench/` (the package http-session-bench), so the script is here,
# beside bench/http_load.sh.
#
# ONE lighttpd on a free loopback port serves the same counter page for every
# variant below (VARIANTS): our CGI example (examples/cgi.rs, GET /profile:
# `SessionHandle::update` of the session's `visits`, one process per request)
# and PHP's own sessions (php-cgi, `session_start(); $_SESSION['n'] =
# ($_SESSION['n'] ?? 0) + 1; echo $_SESSION['n'];`, session.save_handler=files
# with a private save_path). For each variant one session cookie is obtained,
# then wrk drives that one session in interleaved rounds (round r runs every
# variant once, the order rotating from round to round), each round bounded by
# wrk's -d and a timeout.
#
# Per variant it reports:
#   req/s    counting 200s wrk read / the counting window (first counting
#            request sent -> last counting response read), median of the rounds
#   p99      of the counting requests' service time as lighttpd logged it
#            (%D: request read -> response done), all rounds pooled; the
#            per-round lines also show wrk's own p99 (all requests of the round)
#   lost     updates lost = the 200s lighttpd logged for the counter page
#            (setup request + rounds) - (final counter - 1), the final counter
#            read back with one more request (the -1 is that read's own visit)
# and the req/s ratio against PHP: the goal's verdict uses the median of the
# per-round ratios (each round's pair ran back to back). The last TAIL seconds
# of each round send the variant's read-only page instead (see
# bench/cgi_vs_php.lua), so no counting request is in flight when wrk stops;
# the counting 200s wrk read are checked against the ones lighttpd logged.
#
# Usage:
#   bash bench/cgi_vs_php.sh            5 rounds x 6 s per variant (about 3 minutes here)
#   bash bench/cgi_vs_php.sh quick      1 round x 3 s (for CI: checks that nothing is lost)
#   bash bench/cgi_vs_php.sh long       5 rounds x 30 s
#   ROUNDS=4 ROUND_SECONDS=20 bash bench/cgi_vs_php.sh   any other shape
# Environment: CONNECTIONS (wrk connections, default 4), TAIL (read-only
#   seconds at the end of each round, default 1), EXAMPLE_FEATURES (cargo
#   features for building the CGI example, default none), KEEP=1 (keep the
#   work directory: config, logs, session files), TMPDIR (where the work
#   directory, and so every variant's session files, go; default /tmp, on
#   disk here; TMPDIR=/dev/shm puts them all on tmpfs, where fsync costs
#   nothing: a diagnostic, not what a CGI host runs).
# The report is printed and written to target/cgi_vs_php.txt. Exit status 1
# if any variant lost an update or answered the counter page with other than
# 200; the req/s goal is reported, never asserted (timings are not CI checks).
#
# Installs lighttpd, php-cgi, wrk and curl with apt-get if missing. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

mode=${1:-default}
case "$mode" in
  quick)   ROUNDS=${ROUNDS:-1} ROUND_SECONDS=${ROUND_SECONDS:-3} ;;
  default) ROUNDS=${ROUNDS:-5} ROUND_SECONDS=${ROUND_SECONDS:-6} ;;
  long)    ROUNDS=${ROUNDS:-5} ROUND_SECONDS=${ROUND_SECONDS:-30} ;;
  *) echo "usage: bash bench/cgi_vs_php.sh [quick|long]" >&2; exit 2 ;;
esac
CONNECTIONS=${CONNECTIONS:-4}
TAIL=${TAIL:-1}
EXAMPLE_FEATURES=${EXAMPLE_FEATURES:-}
if ! awk -v s="$ROUND_SECONDS" -v t="$TAIL" 'BEGIN {exit !(s > t + 0.5)}'; then
  echo "ROUND_SECONDS ($ROUND_SECONDS) must exceed TAIL ($TAIL) by more than 0.5" >&2
  exit 2
fi

# ---- the variants: ONE LINE EACH ---------------------------------------------
# Fields: NAME KIND [EXAMPLE [VAR=VALUE ...]]
#   KIND cgi: our CGI example target/release/examples/EXAMPLE, served at
#             /NAME.cgi with the VAR=VALUE environment; counter page
#             /NAME.cgi/profile, read-only page /NAME.cgi/ (the login form,
#             which reads the session).
#   KIND php: php-cgi at /php/counter.php (read-only page /php/read.php); one
#             php variant at most, named php: the ratios are against it.
# @WORK@ stands for this run's private work directory.
# The -pc variants run with Durability::ProcessCrash (SESSION_DURABILITY=
# process-crash): writes left in the OS's cache, as PHP leaves its session
# files (it never syncs them); logouts still synced. The others run the
# default, Durability::PowerCut: every write synced before the response.
VARIANTS=(
  "ours-file      cgi  cgi  SESSION_DIR=@WORK@/ours-file-sessions"
  "ours-sqlite    cgi  cgi  SESSION_STORE=sqlite:@WORK@/ours-sqlite.db"
  "ours-file-pc   cgi  cgi  SESSION_DIR=@WORK@/ours-file-pc-sessions SESSION_DURABILITY=process-crash"
  "ours-sqlite-pc cgi  cgi  SESSION_STORE=sqlite:@WORK@/ours-sqlite-pc.db SESSION_DURABILITY=process-crash"
  "php            php"
)
# -----------------------------------------------------------------------------

step() { printf '\n==> %s\n' "$*" >&2; }

# ---- set-up on a fresh machine ------------------------------------------------
missing=""
command -v lighttpd >/dev/null 2>&1 || [ -x /usr/sbin/lighttpd ] || missing="$missing lighttpd"
command -v php-cgi >/dev/null 2>&1 || missing="$missing php-cgi"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
if [ -n "$missing" ]; then
  step "installing$missing (apt-get)"
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
PHP_CGI=$(command -v php-cgi)

step "building the CGI example (release)"
examples=$(for v in "${VARIANTS[@]}"; do read -r _ kind example _ <<<"$v"; if [ "$kind" = cgi ]; then echo "$example"; fi; done | sort -u)
# Linked statically (CGI_LINK=static, the default), as we advise for CGI: a
# process per request pays the dynamic loader on every request. CGI_LINK=dynamic
# builds it the default way. `cargo rustc` applies the flag to the example
# alone: the dependencies are the ones `cargo build` built.
link_flags=()
case "${CGI_LINK:-static}" in
  static) link_flags=(-C target-feature=+crt-static) ;;
  dynamic) ;;
  *) echo "CGI_LINK is static or dynamic" >&2; exit 2 ;;
esac
for e in $examples; do
  # The SQLite variant needs the examples package's feature `sqlite`.
  cargo rustc --release -p http-session-examples --example "$e" \
    --features "${EXAMPLE_FEATURES:-sqlite}" -- "${link_flags[@]}"
done
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -d "$TARGET_DIR" ] || TARGET_DIR="$ROOT/target"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgi_vs_php.XXXXXX")
LIGHTTPD_PID=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$LIGHTTPD_PID" ]; then
    kill "$LIGHTTPD_PID" 2>/dev/null || true
    wait "$LIGHTTPD_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir -p "$WORK/docroot" "$WORK/php" "$WORK/php-ini" "$WORK/php-sessions"
chmod 700 "$WORK/php-sessions"

# ---- the PHP pages and their settings --------------------------------------
cat >"$WORK/php/counter.php" <<'PHP'
<?php
session_start(); $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; echo $_SESSION['n'];
PHP
# Read-only, for the tail of each round: the session is read and closed, not written.
cat >"$WORK/php/read.php" <<'PHP'
<?php
session_start(['read_and_close' => true]); echo 'read n=', $_SESSION['n'] ?? 0;
PHP
# Added after the distribution's own ini files (PHP_INI_SCAN_DIR starting
# with ':' keeps the default scan directory): PHP as a CGI user runs it,
# with the session files in this run's private directory.
cat >"$WORK/php-ini/zz-cgi-bench.ini" <<INI
session.save_handler = files
session.save_path = "$WORK/php-sessions"
INI

# ---- one lighttpd serving every variant ----------------------------------------
names=() count_paths=() read_paths=()
conf="$WORK/lighttpd.conf"
php_name=""
for v in "${VARIANTS[@]}"; do
  read -r name kind example envs <<<"$v"
  names+=("$name")
  case "$kind" in
    cgi)
      program="$TARGET_DIR/release/examples/$example"
      [ -x "$program" ] || { echo "missing $program" >&2; exit 1; }
      count_paths+=("/$name.cgi/profile"); read_paths+=("/$name.cgi/")
      env_list=""
      for kv in ${envs//@WORK@/$WORK}; do
        env_list="$env_list${env_list:+, }\"${kv%%=*}\" => \"${kv#*=}\""
        case "${kv%%=*}" in SESSION_DIR) mkdir -p "${kv#*=}" && chmod 700 "${kv#*=}" ;; esac
      done
      cat >>"$conf.variants" <<EOF
alias.url += ("/$name.cgi" => "$program")
\$HTTP["url"] =^ "/$name.cgi" {
  cgi.assign = ("" => "")
  setenv.add-environment = ($env_list)
}
EOF
      ;;
    php)
      [ -z "$php_name" ] || { echo "one php variant at most" >&2; exit 2; }
      php_name=$name
      count_paths+=("/php/counter.php"); read_paths+=("/php/read.php")
      cat >>"$conf.variants" <<EOF
alias.url += ("/php/" => "$WORK/php/")
\$HTTP["url"] =^ "/php/" {
  cgi.assign = (".php" => "$PHP_CGI")
  setenv.add-environment = ("PHP_INI_SCAN_DIR" => ":$WORK/php-ini")
}
EOF
      ;;
    *) echo "unknown variant kind: $kind" >&2; exit 2 ;;
  esac
done

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_lighttpd() {
  local port=$1
  cat >"$conf" <<EOF
server.document-root = "$WORK/docroot"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$WORK/error.log"
# the CGI programs' stderr (session store errors, PHP warnings)
server.breakagelog = "$WORK/cgi-stderr.log"
server.modules += ("mod_alias", "mod_cgi", "mod_setenv", "mod_accesslog")
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
accesslog.filename = "$WORK/access.log"
# status, microseconds spent on the request, request line
accesslog.format = "%s %D \"%r\""
EOF
  cat "$conf.variants" >>"$conf"
  "$LIGHTTPD" -tt -f "$conf" >/dev/null
  "$LIGHTTPD" -D -f "$conf" 2>>"$WORK/error.log" &
  LIGHTTPD_PID=$!
  for _ in $(seq 1 100); do
    kill -0 "$LIGHTTPD_PID" 2>/dev/null || break
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  kill "$LIGHTTPD_PID" 2>/dev/null || true
  wait "$LIGHTTPD_PID" 2>/dev/null || true
  LIGHTTPD_PID=""
  return 1
}
PORT=""
for _ in $(seq 1 20); do
  p=$((20000 + RANDOM % 40000))
  port_free "$p" || continue
  if start_lighttpd "$p"; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { echo "lighttpd did not start; $WORK/error.log:" >&2; cat "$WORK/error.log" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"

# lighttpd buffers its access log (flushed every few seconds); SIGHUP makes it
# write what it holds ("logfiles cycled"). Then wait (boundedly) until it stops growing.
settle_log() {
  local before after
  kill -HUP "$LIGHTTPD_PID"
  sleep 0.2
  for _ in $(seq 1 20); do
    before=$(wc -l <"$WORK/access.log" 2>/dev/null || echo 0)
    sleep 0.5
    after=$(wc -l <"$WORK/access.log" 2>/dev/null || echo 0)
    [ "$before" = "$after" ] && return 0
  done
}

# The counter shown on a page: `<b id="visits">N</b>` or a bare N.
counter_of() {
  local n
  n=$(sed -n 's/.*id="visits">\([0-9]*\)<.*/\1/p' "$1" | head -1)
  [ -n "$n" ] || n=$(tr -d ' \r\n' <"$1" | grep -E '^[0-9]+$' || true)
  echo "$n"
}

# ---- one session per variant -------------------------------------------------
cookies=()
for i in "${!names[@]}"; do
  curl -s --max-time 10 -D "$WORK/setup.headers" -o "$WORK/setup.body" \
    "$BASE${count_paths[$i]}?round=setup" || true
  cookie=$(tr -d '\r' <"$WORK/setup.headers" | sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' | head -1)
  first=$(counter_of "$WORK/setup.body")
  if [ -z "$cookie" ] || [ "$first" != 1 ]; then
    echo "${names[$i]}: no session from ${count_paths[$i]} (cookie '$cookie', counter '$first')" >&2
    cat "$WORK/setup.headers" "$WORK/setup.body" "$WORK/error.log" "$WORK/cgi-stderr.log" >&2 2>/dev/null || true
    exit 1
  fi
  cookies+=("$cookie")
done

# ---- interleaved rounds ------------------------------------------------------------
# Everything from here is the report: printed and written to target/cgi_vs_php.txt.
report() {
set -e
echo "CGI end to end against PHP: bash bench/cgi_vs_php.sh $*"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "lighttpd $("$LIGHTTPD" -v 2>&1 | head -1 | sed 's/^lighttpd\///; s/ .*//'), $("$PHP_CGI" -v | head -1 | cut -d' ' -f1-2), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nothing pinned"
echo "session files under $WORK ($(df --output=fstype "$WORK" | tail -1))"
echo "rounds: $ROUNDS x ${ROUND_SECONDS}s per variant (last ${TAIL}s of each read-only), wrk 1 thread, $CONNECTIONS connections, one session per variant, lighttpd on 127.0.0.1:$PORT"
echo
printf '%-5s %-14s %9s %12s %10s %10s %10s\n' round variant "req/s" "wrk p99 ms" "200s wrk" "200s log" "other log"

declare -A rps
status=0
nv=${#names[@]}
for r in $(seq 1 "$ROUNDS"); do
  for k in $(seq 0 $((nv - 1))); do
    i=$(( (k + r - 1) % nv ))
    marker="${count_paths[$i]}?round=$r"
    res=$(timeout $((${ROUND_SECONDS%.*} + 60)) wrk -t1 -c"$CONNECTIONS" -d"${ROUND_SECONDS}s" --timeout 30s \
      -H "Cookie: ${cookies[$i]}" -s bench/cgi_vs_php.lua "$BASE/" \
      -- "$marker" "${read_paths[$i]}" "$ROUND_SECONDS" "$TAIL") || {
      echo "wrk failed or overran on ${names[$i]}, round $r" >&2; return 1; }
    counted=$(awk '/^counted:/ {print $2}' <<<"$res")
    window=$(awk '/^window_s:/ {print $2}' <<<"$res")
    wp99=$(awk '/^p99_us:/ {printf "%.1f", $2 / 1000}' <<<"$res")
    non2xx=$(awk '/^non2xx:/ {print $2}' <<<"$res")
    errors=$(awk '/^socket_errors:/ {print $2}' <<<"$res")
    settle_log
    logged=$(awk -v m="\"GET $marker " '$1 == 200 && index($0, m) {n++} END {print n + 0}' "$WORK/access.log")
    other=$(awk -v m="\"GET $marker " '$1 != 200 && index($0, m) {n++} END {print n + 0}' "$WORK/access.log")
    rate=$(awk -v c="$counted" -v w="$window" 'BEGIN {printf "%.1f", (w > 0 ? c / w : 0)}')
    rps[$i]="${rps[$i]:-} $rate"
    printf '%-5s %-14s %9s %12s %10s %10s %10s\n' "$r" "${names[$i]}" "$rate" "$wp99" "$counted" "$logged" "$other"
    [ "$counted" = "$logged" ] || echo "      note: wrk read $counted counting 200s, lighttpd logged $logged"
    [ "$non2xx" = 0 ] || echo "      warning: $non2xx non-2xx responses (wrk)"
    [ "$errors" = 0 ] || echo "      warning: $errors socket errors (wrk)"
  done
done

# ---- read back, count, report -----------------------------------------------
median() { tr ' ' '\n' <<<"$*" | grep . | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
declare -A med p99 log200 logother final lost
for i in "${!names[@]}"; do
  curl -s --max-time 10 -H "Cookie: ${cookies[$i]}" -o "$WORK/final.body" "$BASE${count_paths[$i]}?round=final" || true
  final[$i]=$(counter_of "$WORK/final.body")
  [ -n "${final[$i]}" ] || { echo "${names[$i]}: no counter in the final read" >&2; cat "$WORK/final.body" >&2; return 1; }
done
settle_log
for i in "${!names[@]}"; do
  path=${count_paths[$i]}
  # every logged request of the counter page before the final read: setup + rounds
  log200[$i]=$(awk -v p="\"GET $path?round=" '$1 == 200 && index($0, p) && !index($0, "round=final ") {n++} END {print n + 0}' "$WORK/access.log")
  logother[$i]=$(awk -v p="\"GET $path?round=" '$1 != 200 && index($0, p) {n++} END {print n + 0}' "$WORK/access.log")
  p99[$i]=$(awk -v p="\"GET $path?round=" '$1 == 200 && index($0, p) && !index($0, "round=setup ") && !index($0, "round=final ") {print $2}' "$WORK/access.log" |
    sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print "-"; exit} i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1; printf "%.1f", a[i] / 1000}')
  lost[$i]=$(( log200[$i] - (final[$i] - 1) ))
  med[$i]=$(median "${rps[$i]}")
done

php_i=""
for i in "${!names[@]}"; do [ "${names[$i]}" = "$php_name" ] && php_i=$i; done
echo
printf '%-14s %8s %-40s %8s %9s %8s %5s %7s\n' variant "req/s" "(rounds)" "p99 ms" "200s log" "counter" lost "vs php"
for i in "${!names[@]}"; do
  ratio="-"
  [ -n "$php_i" ] && ratio=$(awk -v a="${med[$i]}" -v b="${med[$php_i]}" 'BEGIN {printf "%.2fx", a / b}')
  printf '%-14s %8.1f %-40s %8s %9s %8s %5s %7s\n' "${names[$i]}" "${med[$i]}" "(${rps[$i]# })" "${p99[$i]}" \
    "${log200[$i]}" "$((final[$i] - 1))" "${lost[$i]}" "$ratio"
done
echo
echo "req/s: counting 200s per second of each round's counting window, median of the rounds (each round listed)."
echo "p99: service time lighttpd logged (%D) for the counter page's 200s, all rounds pooled."
echo "200s log: the counter page's 200s lighttpd logged (setup + rounds); counter: the final"
echo "value read back minus that read's own visit; lost = 200s log - counter."
echo "vs php: ratio of the req/s medians."
if [ -n "$php_i" ]; then
  echo
  for i in "${!names[@]}"; do
    [ "$i" = "$php_i" ] && continue
    ratio=$(awk -v a="${med[$i]}" -v b="${med[$php_i]}" 'BEGIN {printf "%.2f", a / b}')
    # Each round runs every variant back to back, so the ratio within a round
    # is disturbed less by the drift of a shared machine than the medians are:
    # the headline is the median of the per-round ratios (as in bench/http_load.sh).
    paired=$(paste <(tr ' ' '\n' <<<"${rps[$i]# }") <(tr ' ' '\n' <<<"${rps[$php_i]# }") | awk '{printf "%.2f ", $1 / $2}')
    headline=$(median "$paired")
    verdict="NOT MET"
    awk -v r="$headline" 'BEGIN {exit !(r >= 10)}' && [ "${lost[$i]}" = 0 ] && [ "${logother[$i]}" = 0 ] && verdict="met"
    printf 'goal for %s (>= 10x PHP'"'"'s req/s, 0 updates lost): %s: %.2fx PHP (median of the per-round ratios: %s; ratio of the medians %sx), %s lost\n' \
      "${names[$i]}" "$verdict" "$headline" "${paired% }" "$ratio" "${lost[$i]}"
  done
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!names[@]}"; do
  if [ "${lost[$i]}" != 0 ]; then echo "LOST UPDATES: ${names[$i]} lost ${lost[$i]}" >&2; status=1; fi
  if [ "${logother[$i]}" != 0 ]; then echo "${names[$i]}: ${logother[$i]} counter-page answers other than 200 (see lighttpd's log)" >&2; status=1; fi
done
if [ -s "$WORK/cgi-stderr.log" ]; then
  echo "the CGI programs wrote to stderr ($(wc -l <"$WORK/cgi-stderr.log") lines), the first 5:"
  head -5 "$WORK/cgi-stderr.log"
fi
return $status
}

out="$ROOT/target/cgi_vs_php.txt"
mkdir -p "$(dirname "$out")"
set +e
report "$@" | tee "$out"
status=${PIPESTATUS[0]}
set -e
echo "written to target/cgi_vs_php.txt" >&2
exit "$status"
