#!/bin/sh
# Counts the daemon's instructions per notification in one phase of the load bench's
# ingest scenario under callgrind: repeatable on a shared machine, unlike CPU seconds.
# The phase runs twice, with SMALL and LARGE notifications; everything else (start-up,
# subscription, the first reconcile, shutdown) is the same in both runs, so
# (Ir(LARGE) - Ir(SMALL)) / (LARGE - SMALL) is the cost of one notification. The
# simulator runs in its own process, outside valgrind. Kernel time (syscalls, wake-ups,
# fsync) is not counted: this is the user-space share of the per-notification cost.
#
#   scripts/callgrind-ingest.sh [PHASE] [SMALL] [LARGE]
#       PHASE: flood (default) | "paced 10k/s" | "paced 1k/s"; SMALL 10000, LARGE 60000
#
# Needs the bench built (`cargo bench -p wfm-reactor --bench load --no-run`) and valgrind;
# each run takes a few minutes. Keeps target/callgrind/ingest-LARGE.out for
# `callgrind_annotate --inclusive=yes`.
set -eu
phase="${1:-flood}"
small="${2:-10000}"
large="${3:-60000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bench="$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -n 1)"
mkdir -p target/callgrind

count() { # notifications -> total Ir of the run
    out="target/callgrind/ingest-$1.out"
    log="target/callgrind/ingest-$1.log"
    LOAD_INGEST_PHASES="$phase" LOAD_INGEST_TOTAL="$1" valgrind --tool=callgrind \
        --callgrind-out-file="$out" "$bench" --scenario ingest >/dev/null 2>"$log"
    grep -q "ingest phase $phase ends" "$log" || {
        echo "callgrind-ingest: the phase did not complete; see $log" >&2
        exit 1
    }
    grep -F '== Collected :' "$log" | awk '{print $4}'
}

a=$(count "$small")
b=$(count "$large")
echo "phase: $phase; Ir at $small: $a; at $large: $b"
echo "instructions per notification: $(((b - a) / (large - small)))"
