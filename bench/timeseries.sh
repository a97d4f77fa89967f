#!/usr/bin/env bash
# bench/timeseries.sh — issue 7's comparison: meridian's time-series store against InfluxDB 1.6 on the same
# machine, data and queries, in one run.
#
#   bench/timeseries.sh     1. InfluxDB: ../shared/tools/tsbench/run.sh (a private influxd from Debian's
#                              `influxdb` package, installed here when missing) writes the Drone Delivery data
#                              set (DRONES drones × HOURS h) over HTTP, waits for its compaction to settle and
#                              times the five dashboard queries;
#                           2. meridian: a fresh hub (release build) gets the byte-identical line protocol on
#                              POST /timeseries/write with the same writers and batches, seals and compacts
#                              (POST /timeseries/compact), and answers the same five queries on
#                              POST /timeseries/query (bench/tsbench_meridian.py);
#                           3. the ratios go to the section between <!-- timeseries:begin --> and
#                              <!-- timeseries:end --> of bench/RESULTS.md.
#
# Environment: MERIDIAN_BIN DRONES (10000) HOURS (1) RUNS (5) TSBENCH (../shared/tools/tsbench)
#              RESULTS_MD (bench/RESULTS.md) UPDATE_RESULTS (1) SKIP_INFLUX (reuse $SCRATCH_KEEP/influx.json)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

DRONES="${DRONES:-10000}"
HOURS="${HOURS:-1}"
RUNS="${RUNS:-5}"
TSBENCH="${TSBENCH:-$ROOT/../shared/tools/tsbench}"
RESULTS_MD="${RESULTS_MD:-$ROOT/bench/RESULTS.md}"
[[ -f "$TSBENCH/influx_baseline.py" ]] || { echo "tsbench not found at $TSBENCH (set TSBENCH)" >&2; exit 1; }

BIN="${MERIDIAN_BIN:-$(swift build -c release --show-bin-path)/meridian}"
if [[ -z "${MERIDIAN_BIN:-}" ]] && { [[ ! -x "$BIN" ]] || [[ -n "$(find Sources Package.swift -newer "$BIN" -print -quit)" ]]; }; then
    echo "=== building meridian (release)" >&2
    swift build -c release --product meridian
fi
if ! command -v influxd >/dev/null 2>&1; then
    echo "=== installing influxdb (Debian)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q influxdb >/dev/null
fi
# Debian's package may start a system influxd; the benchmark runs its own private one.
pkill -x influxd 2>/dev/null || true

SCRATCH="$(mktemp -d /tmp/tsbench.XXXXXX)"
HUB_PID=""
cleanup() {
    if [[ -n "$HUB_PID" ]]; then kill -TERM "$HUB_PID" 2>/dev/null || true; wait "$HUB_PID" 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "=== InfluxDB $(influxd version 2>/dev/null | head -1)" >&2
BENCH_DIR="$SCRATCH/influx" HTTP_PORT="$(free_port)" RPC_PORT="$(free_port)" \
    "$TSBENCH/run.sh" --drones "$DRONES" --hours "$HOURS" --runs "$RUNS" > "$SCRATCH/influx.out"
tail -1 "$SCRATCH/influx.out" > "$SCRATCH/influx.json"
sed '$d' "$SCRATCH/influx.out" >&2

echo "=== meridian" >&2
# The data set starts on 2026-01-05, older than the default 30 days of raw retention: keep it for the run.
HTTP_PORT="$(free_port)"
OWNER_KEY="$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')"
MERIDIAN_OWNER_KEY="$OWNER_KEY" "$BIN" serve --data-dir "$SCRATCH/data" --host-name localhost --bind 127.0.0.1 --plain-bind 127.0.0.1 \
    --mqtt-port 0 --mqtts-port 0 --http-port "$HTTP_PORT" --https-port 0 --log-level warning --timeseries-retention-days 3650 \
    > "$SCRATCH/hub.log" 2>&1 < /dev/null &
HUB_PID=$!
for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && break
    kill -0 "$HUB_PID" 2>/dev/null || { cat "$SCRATCH/hub.log" >&2; exit 1; }
    sleep 0.1
done
python3 "$ROOT/bench/tsbench_meridian.py" --url "http://127.0.0.1:$HTTP_PORT" --key "$OWNER_KEY" --pid "$HUB_PID" \
    --data-dir "$SCRATCH/data" --tsbench "$TSBENCH" --drones "$DRONES" --hours "$HOURS" --runs "$RUNS" > "$SCRATCH/meridian.json"

python3 "$ROOT/bench/timeseries_report.py" "$SCRATCH/influx.json" "$SCRATCH/meridian.json" "$(git rev-parse --short HEAD)" \
    "${MERIDIAN_BIN:+binary $MERIDIAN_BIN}" > "$SCRATCH/section.md"
cat "$SCRATCH/section.md"
if [[ "${UPDATE_RESULTS:-1}" == 1 ]]; then
    python3 "$ROOT/bench/sections.py" replace "$RESULTS_MD" timeseries "$SCRATCH/section.md"
    echo "wrote section timeseries of $RESULTS_MD" >&2
fi
