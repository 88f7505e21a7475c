#!/bin/sh
# bench_http.sh - the HTTP benchmark of the API issue, with wrk on loopback.
#
# A vault on the eTwinning policy served by `sargs serve`; wrk drives it from
# the same machine (they share its cores). In order: GET /healthz (the
# server's own floor: no database, no token; the baseline), POST a person
# (sealed, indexed, audited, one transaction each), GET a random person by id
# (decrypted and audited), GET /v1/may for a random person (one indexed
# read). Each run: 2 wrk threads, 32 connections, DURATION seconds.
#
# usage: bench/bench_http.sh [SARGS [DURATION]]
set -eu
SARGS=$(readlink -f "${1:-build-bench/sargs}")
DURATION=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DIR=$(mktemp -d /tmp/sargs-bench-http-XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT INT TERM
export SARGS_DIR="$DIR/vault"
command -v wrk >/dev/null || { echo "bench_http: wrk is missing (apt-get install wrk)" >&2; exit 1; }

"$SARGS" init --policy "$ROOT/examples/etwinning.yaml" >/dev/null
export SARGS_BENCH_TOKEN=$("$SARGS" --purpose community token create --name bench \
    --role central_support 2>/dev/null)
export SARGS_BENCH_LUA="$HERE/http"

"$SARGS" serve --listen 127.0.0.1:0 --ready-file "$DIR/ready" \
    2>"$DIR/server.log" &
PID=$!
i=0
while [ ! -s "$DIR/ready" ]; do
    i=$((i + 1)); [ $i -lt 200 ] || { cat "$DIR/server.log"; exit 1; }; sleep 0.05
done
URL="http://$(cat "$DIR/ready")"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(uname -sr)"
echo "server: sargs serve (default threads), SQLite (WAL, synchronous=FULL), audit on; client: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), 2 threads, 32 connections, ${DURATION}s each, same machine"
echo

run() {
    # name, script (or ""), path
    name=$1; script=$2; path=$3
    if [ -n "$script" ]; then
        out=$(wrk -t2 -c32 -d"${DURATION}s" --latency -s "$HERE/http/$script" "$URL$path" 2>&1)
    else
        out=$(wrk -t2 -c32 -d"${DURATION}s" --latency "$URL$path" 2>&1)
    fi
    rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errs=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    printf '  %-46s %8s req/s   p50 %8s   p99 %8s%s\n' "$name" "$rps" "$p50" "$p99" \
        "${errs:+   NON-2xx: $errs}"
}

echo "figures:"
run "baseline: GET /healthz (no token, one read)" "" /healthz
run "POST /v1/subjects (a new person)" post.lua /v1/subjects
# The people just added are the population of the reads.
"$SARGS" --json subject list --limit 100000 | awk -F'"' '/"id"/ {print $4}' > "$DIR/ids"
export SARGS_BENCH_IDS="$DIR/ids"
echo "  ($(wc -l < "$DIR/ids") people in the vault)"
run "GET /v1/subjects/{id} (decrypted, audited)" get.lua /
run "GET /v1/may (a decision)" may.lua /
"$SARGS" audit verify | sed 's/^/  /'
