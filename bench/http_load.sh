#!/usr/bin/env bash
# End-to-end load test: tiny_http hello-world (A) against tiny_http with
# http-session doing from_request + an atomic counter increment + set_cookie on
# every request (B), driven by wrk on loopback with 10 connections, in
# alternating rounds A B A B ..., server and wrk pinned to different CPUs.
#
# At the end the shared session's counter must equal the number of successful
# counting responses wrk reported over all B rounds: no update lost. The server
# also counts the increments it made apart from the session, so a response wrk
# did not count is told apart from a lost update.
#
# Usage: bash bench/http_load.sh [ROUNDS] [SECONDS]   (defaults: 8 rounds of 4 s)
# The headline ratio is the median of the per-round ratios B/A: each B round
# runs right after its A round, so a machine whose load drifts (shared CI,
# other builds) disturbs the pair less than it disturbs the overall medians.
# Environment: WORKERS (server threads, default 4), CONNECTIONS (default 10),
#              SERVER_CPU / WRK_CPU (default 0 / 1).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-8}
SECONDS_PER_ROUND=${2:-4}
WORKERS=${WORKERS:-4}
CONNECTIONS=${CONNECTIONS:-10}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
# Last seconds of each round spent on read-only GET /count (see http_load.lua):
# longer than any response takes, so no counting request is in flight when wrk
# stops. The read-only requests skip only the increment (~0.2 us of ~17 us).
TAIL=${TAIL:-1}
PORT_A=${PORT_A:-18081}
PORT_B=${PORT_B:-18082}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (apt)"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

cargo build --release -p http-session-bench --bin http_load_server >/dev/null 2>&1 ||
  cargo build --release -p http-session-bench --bin http_load_server
SERVER=target/release/http_load_server

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

start_server() { # mode port
  taskset -c "$SERVER_CPU" "$SERVER" "$1" "$2" "$WORKERS" >/dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$2/count" && return 0
    sleep 0.05
  done
  echo "server $1 did not start on port $2" >&2
  exit 1
}

start_server hello "$PORT_A"
start_server session "$PORT_B"

# One session; wrk sends its ID among five other cookies, as a browser would.
sid=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT_B/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: session_id=\([^;]*\).*/\1/p')
[ ${#sid} -eq 43 ] || { echo "no session cookie from /login" >&2; exit 1; }
COOKIE="_ga=GA1.2.1848372615.1700000000; theme=dark; session_id=$sid; lang=\"en-US\"; _gid=GA1.2.921334455.1700000000; consent=stats:on"

# wrk over one round; prints "req/s p99_ms counted non2xx socket_errors".
round() { # port
  local out
  out=$(taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_ROUND}s" \
    -H "Cookie: $COOKIE" -s bench/http_load.lua "http://127.0.0.1:$1/" \
    -- "$SECONDS_PER_ROUND" "$TAIL")
  local rps p99 counted non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '/^p99_us:/ {printf "%.2f", $2 / 1000}' <<<"$out")
  counted=$(awk '/^counted:/ {print $2}' <<<"$out")
  non2xx=$(awk '/^non2xx:/ {print $2}' <<<"$out")
  errors=$(awk '/^socket_errors:/ {print $2}' <<<"$out")
  echo "$rps $p99 $counted $non2xx $errors"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "wrk: 1 thread, $CONNECTIONS connections, ${SECONDS_PER_ROUND}s rounds, server on CPU $SERVER_CPU ($WORKERS workers), wrk on CPU $WRK_CPU"
printf '%-6s %-24s %12s %10s %10s\n' round server "req/s" "p99 ms" "counted"
total_counted=0
rps_a=() rps_b=() p99_a=() p99_b=() ratios=()
for r in $(seq 1 "$ROUNDS"); do
  read -r rps p99 counted non2xx errors < <(round "$PORT_A")
  printf '%-6s %-24s %12s %10s %10s\n' "$r" "A hello-world" "$rps" "$p99" "-"
  rps_a+=("$rps"); p99_a+=("$p99")
  read -r rps p99 counted non2xx errors < <(round "$PORT_B")
  printf '%-6s %-24s %12s %10s %10s\n' "$r" "B http-session" "$rps" "$p99" "$counted"
  [ "$non2xx" = 0 ] || echo "  warning: $non2xx non-2xx responses in round $r" >&2
  [ "$errors" = 0 ] || echo "  warning: $errors socket errors in round $r" >&2
  rps_b+=("$rps"); p99_b+=("$p99")
  ratios+=("$(awk -v a="${rps_a[-1]}" -v b="$rps" 'BEGIN {printf "%.4f", b / a}')")
  total_counted=$((total_counted + counted))
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ma=$(median "${rps_a[@]}"); mb=$(median "${rps_b[@]}")
pa=$(median "${p99_a[@]}"); pb=$(median "${p99_b[@]}")
echo
printf 'median  A hello-world     %10.0f req/s   p99 %s ms\n' "$ma" "$pa"
printf 'median  B http-session    %10.0f req/s   p99 %s ms\n' "$mb" "$pb"
awk -v a="$ma" -v b="$mb" 'BEGIN {printf "ratio of the medians B / A %9.3f\n", b / a}'
printf 'median of the per-round ratios B / A %.3f (target >= 0.95)\n' "$(median "${ratios[@]}")"

count=$(curl -s -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT_B/count" | sed 's/count=//')
made=$(curl -s -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT_B/stats" | sed 's/increments=//')
echo "session counter: $count; successful counting responses reported by wrk: $total_counted;"
echo "increments the server made (counted apart from the session): $made"
if [ "$count" != "$made" ]; then
  echo "LOST UPDATES: the counter is $((made - count)) below the increments made" >&2
  exit 1
elif [ "$count" = "$total_counted" ]; then
  echo "OK: no update lost; the counter equals wrk's count"
else
  # Every increment made is in the counter; wrk read fewer (or more) responses.
  echo "OK: no update lost (counter = increments made); wrk counted $((count - total_counted))" \
    "fewer responses than the server answered: responses wrk did not read, not lost updates"
fi
