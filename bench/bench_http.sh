#!/bin/sh
# bench_http.sh - the HTTP benchmark of the API issue, with wrk on loopback.
#
# A vault on the eTwinning policy served by `sargs serve`; wrk drives it from
# the same machine (they share its cores). In order: GET /healthz (the
# server's own floor: no database, no token; the baseline), POST a person
# (sealed, indexed, audited, one transaction each), GET a random person by id
# (decrypted and audited), GET /v1/may for a random person (one indexed
# read), POST /v1/may/batch with 1,000 questions a call (req/s x 1,000 is
# decisions/s). Each run: 32 connections in all, DURATION seconds.
#
# On SQLite by default. With SARGS_STORE set to a postgres:// address the
# vault lives there, and with NODES=2 two `sargs serve` processes share it,
# each driven by its own wrk with half the connections; the rates are summed
# (the latencies are the first node's). `make bench` runs it on a throw-away
# PostgreSQL cluster too (scripts/pg-test-cluster run --durable).
#
# usage: [SARGS_STORE=postgres://...] [NODES=1|2] bench/bench_http.sh [SARGS [DURATION]]
set -eu
SARGS=$(readlink -f "${1:-build-bench/sargs}")
DURATION=${2:-10}
NODES=${NODES:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DIR=$(mktemp -d /tmp/sargs-bench-http-XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$DIR"' EXIT INT TERM
export SARGS_DIR="$DIR/vault"
command -v wrk >/dev/null || { echo "bench_http: wrk is missing (apt-get install wrk)" >&2; exit 1; }
case "$NODES" in 1|2) ;; *) echo "bench_http: NODES is 1 or 2" >&2; exit 2 ;; esac
if [ -n "${SARGS_STORE:-}" ]; then
    store="PostgreSQL (synchronous_commit on)"
else
    store="SQLite (WAL, synchronous=FULL)"
fi

"$SARGS" init --policy "$ROOT/examples/etwinning.yaml" >/dev/null
export SARGS_BENCH_TOKEN=$("$SARGS" --purpose community token create --name bench \
    --role central_support 2>/dev/null)
export SARGS_BENCH_LUA="$HERE/http"

URLS=""
n=1
while [ $n -le "$NODES" ]; do
    "$SARGS" serve --listen 127.0.0.1:0 --ready-file "$DIR/ready$n" \
        2>"$DIR/server$n.log" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$DIR/ready$n" ]; do
        i=$((i + 1)); [ $i -lt 200 ] || { cat "$DIR/server$n.log"; exit 1; }; sleep 0.05
    done
    URLS="$URLS http://$(cat "$DIR/ready$n")"
    n=$((n + 1))
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(uname -sr)"
echo "server: $NODES x sargs serve (default threads), $store, audit on; client: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), 32 connections in all, ${DURATION}s each, same machine"
echo

run() {
    # name, script (or ""), path
    name=$1; script=$2; path=$3
    conns=$((32 / NODES))
    k=1
    wrks=""
    for url in $URLS; do
        if [ -n "$script" ]; then
            wrk -t2 -c$conns -d"${DURATION}s" --latency -s "$HERE/http/$script" "$url$path" \
                >"$DIR/wrk$k" 2>&1 &
        else
            wrk -t2 -c$conns -d"${DURATION}s" --latency "$url$path" >"$DIR/wrk$k" 2>&1 &
        fi
        wrks="$wrks $!"
        k=$((k + 1))
    done
    for w in $wrks; do wait "$w"; done
    rps=$(cat "$DIR"/wrk[0-9]* | awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}')
    p50=$(awk '$1 == "50%" {print $2}' "$DIR/wrk1")
    p99=$(awk '$1 == "99%" {print $2}' "$DIR/wrk1")
    errs=$(cat "$DIR"/wrk[0-9]* | awk '/Non-2xx/ {s += $5} END {if (s) print s}')
    printf '  %-46s %8s req/s   p50 %8s   p99 %8s%s\n' "$name" "$rps" "$p50" "$p99" \
        "${errs:+   NON-2xx: $errs}"
    rm -f "$DIR"/wrk[0-9]*
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
run "POST /v1/may/batch (1,000 decisions a call)" may_batch.lua /
"$SARGS" audit verify | sed 's/^/  /'
