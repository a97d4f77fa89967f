#!/usr/bin/env bash
# bench/eventlog-startup.sh — how long the event log takes to open (recover) when it holds 10 GB.
#
#   bench/eventlog-startup.sh        build a 10 GB log under /tmp through the EventLog API, time a cold and
#                                    a warm open, print the numbers, delete the log
#
# The log is written and opened by StartupCostTests.startupBenchmark (Tests/HubEventLogTests), which runs
# only when MERIDIAN_EVENTLOG_STARTUP_BYTES is set: it appends through the real EventLog (hub defaults: 4
# partitions, 64 MiB segments, 4 KiB index interval, `process` durability) and times `EventLog.init`, i.e.
# exactly what `meridian serve` does with <data-dir>/events at start-up, counting the bytes it reads.
# A cold open follows `echo 3 > /proc/sys/vm/drop_caches` (root only; skipped otherwise).
#
# Environment:
#   STARTUP_BYTES=10000000000                   record bytes to write
#   STARTUP_DIR=/tmp/meridian-eventlog-startup  where the log goes (deleted at the end unless KEEP=1)
#   RECORD_BYTES=1024                           message body bytes (records are ~110 B larger)
#   KEEP=1                                      keep the log; a later run then skips writing it
#   SWIFT_BUILD_FLAGS=""                        e.g. "-c release" where the machine allows it (default: debug)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

STARTUP_BYTES="${STARTUP_BYTES:-10000000000}"
STARTUP_DIR="${STARTUP_DIR:-/tmp/meridian-eventlog-startup}"
RECORD_BYTES="${RECORD_BYTES:-1024}"
# shellcheck disable=SC2206  # word splitting of the flags is wanted
BUILD_FLAGS=(${SWIFT_BUILD_FLAGS:-})

parent="$(dirname "$STARTUP_DIR")"
mkdir -p "$parent"
existing=$(du -sb "$STARTUP_DIR" 2>/dev/null | cut -f1 || echo 0)
need=$(( STARTUP_BYTES + STARTUP_BYTES / 20 + 2000000000 - existing ))
avail=$(( $(df --output=avail -B1 "$parent" | tail -1) ))
if (( need > avail )); then
    echo "bench/eventlog-startup.sh: need about $((need / 1000000000)) GB free in $parent, have $((avail / 1000000000)) GB" >&2
    exit 1
fi
if [[ "${KEEP:-}" != 1 ]]; then
    trap 'rm -rf "$STARTUP_DIR"' EXIT
fi

echo "==> swift build --build-tests ${BUILD_FLAGS[*]:-(debug)}"
swift build --build-tests "${BUILD_FLAGS[@]}" 2>&1 | tail -1

# One test process: opens (and, when the log is short of STARTUP_BYTES, grows) the log; prints `startup:` lines.
run_bench() {
    MERIDIAN_EVENTLOG_STARTUP_BYTES="$STARTUP_BYTES" MERIDIAN_EVENTLOG_STARTUP_DIR="$STARTUP_DIR" \
        MERIDIAN_EVENTLOG_STARTUP_RECORD_BYTES="$RECORD_BYTES" \
        swift test --skip-build "${BUILD_FLAGS[@]}" --filter 'StartupCostTests/startupBenchmark' 2>&1 | grep '^startup:' || {
        echo "bench/eventlog-startup.sh: the benchmark test printed nothing (did it run?)" >&2
        exit 1
    }
}
open_ms() { sed -n 's/^startup: open \([0-9]*\) ms.*/\1/p' | head -1; }

echo "==> writing $((STARTUP_BYTES / 1000000)) MB of ${RECORD_BYTES}-byte messages to $STARTUP_DIR"
start=$SECONDS
run_bench
echo "    ($((SECONDS - start)) s)"
sync

cold="n/a"
echo "==> cold open (page cache dropped)"
if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
    out=$(run_bench)
    echo "$out"
    cold=$(open_ms <<<"$out")
else
    echo "    cannot drop the page cache (needs root): no cold number"
fi

echo "==> warm opens"
warm=()
for _ in 1 2 3; do
    out=$(run_bench)
    echo "$out"
    warm+=("$(open_ms <<<"$out")")
done
mapfile -t sorted < <(printf '%s\n' "${warm[@]}" | sort -n)

summary=$(head -1 <<<"$out" | sed 's/^startup: open [0-9]* ms; //')
echo
echo "event log start-up, $(nproc) cores, $(git rev-parse --short HEAD), ${SWIFT_BUILD_FLAGS:-debug} build"
echo "  log:        $summary"
echo "  cold open:  ${cold} ms"
echo "  warm open:  ${sorted[1]} ms (median of ${warm[*]} ms)"
