#!/usr/bin/env bash
# bench/run.sh — Meridian vs Mosquitto, one after the other on loopback, with mqtt-bench; writes bench/RESULTS.md.
#
#   bench/run.sh                                   build meridian (release), run the default scenarios, report
#   BENCH_SCENARIOS="smoke conn-1k" bench/run.sh   a subset (names from `run.sh list`, plus conn-15k)
#
# Environment:
#   MQTT_BENCH_DIR     mqtt-bench folder (default ../shared/tools/mqtt-bench, relative to the repo root)
#   BENCH_SCENARIOS    default: q0-1to1 q1-1to1 q0-fanin-100 q1-fanin-100 lat-q0-10k lat-q1-10k conn-10k conn-15k
#                      (conn-15k = conn-10k with --conns 15000 --hold 10: RSS per idle connection at 15k)
#   BENCH_TARGET_CMD   start this (bash -c, with $PORT and $DATA_DIR set; use exec) instead of meridian, e.g. a
#                      second Mosquitto to prove the pipeline. Then RESULTS.md goes to $BENCH_OUT, not bench/.
#   BENCH_TARGET_NAME  label of the target (default: meridian, or "target" with BENCH_TARGET_CMD)
#   BENCH_OUT          output folder for JSON lines and logs (default bench/out, git-ignored)
#   RESULTS_MD         report path (default bench/RESULTS.md; $BENCH_OUT/RESULTS.md with BENCH_TARGET_CMD)
#   MOSQUITTO_PERSISTENCE=1   run the Mosquitto peer with persistence on (default off, as run.sh)
#   BENCH_REPEAT       runs of each lat-* scenario (default 3); the report uses the run with the median p99
#   MERIDIAN_ARGS      extra flags for meridian serve (e.g. "--event-loop-threads 1")
#   MERIDIAN_LOG_LEVEL (default warning), WAIT_IDLE / IDLE_MAX / GEN_CPU / BROKER_CPU: passed to mqtt-bench run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BENCH_DIR="${MQTT_BENCH_DIR:-../shared/tools/mqtt-bench}"
[[ "$BENCH_DIR" == /* ]] || BENCH_DIR="$ROOT/$BENCH_DIR"
BENCH="$BENCH_DIR/run.sh"
if [[ ! -f "$BENCH" ]]; then
    echo "bench/run.sh: mqtt-bench not found at $BENCH" >&2
    echo "  set MQTT_BENCH_DIR to the folder holding mqtt-bench's run.sh and mqtt-bench.c" >&2
    echo "  (default ../shared/tools/mqtt-bench, relative to the repo root $ROOT)" >&2
    exit 1
fi
for cmd in mosquitto cc python3 ss; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "bench/run.sh: '$cmd' is required (apt-get install mosquitto gcc python3 iproute2)" >&2; exit 1; }
done
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

SCENARIOS="${BENCH_SCENARIOS:-q0-1to1 q1-1to1 q0-fanin-100 q1-fanin-100 lat-q0-10k lat-q1-10k conn-10k conn-15k}"
OUT="${BENCH_OUT:-$ROOT/bench/out}"
if [[ -n "${BENCH_TARGET_CMD:-}" ]]; then
    TARGET_NAME="${BENCH_TARGET_NAME:-target}"
    RESULTS_MD="${RESULTS_MD:-$OUT/RESULTS.md}"
else
    TARGET_NAME="${BENCH_TARGET_NAME:-meridian}"
    RESULTS_MD="${RESULTS_MD:-$ROOT/bench/RESULTS.md}"
fi
mkdir -p "$OUT"
PEER_JSON="$OUT/mosquitto.jsonl"
TARGET_JSON="$OUT/$TARGET_NAME.jsonl"
rm -f "$PEER_JSON" "$TARGET_JSON"
export BUILD_DIR="$OUT/mqtt-bench-build"

# idle-connection scenarios need many descriptors in the generator and in the brokers we start
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # wait_port PORT PID: until the port accepts (30 s), failing if PID dies
    local port="$1" pid="$2" _
    for _ in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { echo "broker (pid $pid) exited during start-up" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing accepting on 127.0.0.1:$port after 30 s" >&2
    return 1
}

listener_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }

# run_scenarios PORT PID JSONL LABEL
run_scenarios() {
    local port="$1" pid="$2" json="$3" label="$4" s rc=0
    for s in $SCENARIOS; do
        echo "--- $label: $s" >&2
        if [[ "$s" == conn-15k ]]; then
            RESULTS="$json" TAG=conn-15k "$BENCH" conn-10k --port "$port" --broker-pid "$pid" -- --conns 15000 --hold 10 || rc=$?
        elif [[ "$s" == lat-* ]]; then
            # latency tails are noisy on a shared 2-core VM: repeat, the report takes the median run
            local i
            for i in $(seq "${BENCH_REPEAT:-3}"); do
                RESULTS="$json" TAG="$s" "$BENCH" "$s" --port "$port" --broker-pid "$pid" || rc=$?
                sleep 1
            done
        else
            RESULTS="$json" TAG="$s" "$BENCH" "$s" --port "$port" --broker-pid "$pid" || rc=$?
        fi
        sleep 1
    done
    return $rc
}

"$BENCH" build

# ------------------------------------------------------------------ build the target
if [[ -z "${BENCH_TARGET_CMD:-}" ]]; then
    echo "=== building meridian (release)" >&2
    swift build -c release --product meridian
    MERIDIAN_BIN="$(swift build -c release --show-bin-path)/meridian"
    [[ -x "$MERIDIAN_BIN" ]] || { echo "no meridian binary at $MERIDIAN_BIN" >&2; exit 1; }
fi

PEER_PORT=""
PEER_DIR="$OUT/mosquitto"
TARGET_PID=""
cleanup() {
    if [[ -n "$PEER_PORT" ]]; then
        "$BENCH" mosquitto-stop --port "$PEER_PORT" --dir "$PEER_DIR" >/dev/null 2>&1 || true
    fi
    if [[ -n "$TARGET_PID" ]] && kill -0 "$TARGET_PID" 2>/dev/null; then
        kill -TERM "$TARGET_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

FAILURES=0

# ------------------------------------------------------------------ peer: private mosquitto
PEER_PORT="$(free_port)"
rm -rf "$PEER_DIR"
persist=()
[[ "${MOSQUITTO_PERSISTENCE:-0}" == 1 ]] && persist=(--persistence)
PEER_PID="$("$BENCH" mosquitto-start --port "$PEER_PORT" --dir "$PEER_DIR" "${persist[@]}" | tail -1)"
wait_port "$PEER_PORT" "$PEER_PID"
echo "=== mosquitto pid $PEER_PID on 127.0.0.1:$PEER_PORT" >&2
run_scenarios "$PEER_PORT" "$PEER_PID" "$PEER_JSON" mosquitto || FAILURES=$((FAILURES + 1))
"$BENCH" mosquitto-stop --port "$PEER_PORT" --dir "$PEER_DIR"
PEER_PORT=""

# ------------------------------------------------------------------ target: meridian (or BENCH_TARGET_CMD)
TARGET_PORT="$(free_port)"
TARGET_DIR="$OUT/$TARGET_NAME-data"
rm -rf "$TARGET_DIR"
mkdir -p "$TARGET_DIR"
if [[ -n "${BENCH_TARGET_CMD:-}" ]]; then
    PORT="$TARGET_PORT" DATA_DIR="$TARGET_DIR" nohup bash -c "$BENCH_TARGET_CMD" \
        > "$OUT/$TARGET_NAME.log" 2>&1 < /dev/null &
else
    nohup "$MERIDIAN_BIN" serve --allow-anonymous --data-dir "$TARGET_DIR" --plain-bind 127.0.0.1 --bind 127.0.0.1 \
        --mqtt-port "$TARGET_PORT" --mqtts-port 0 --http-port 0 --https-port 0 \
        --log-level "${MERIDIAN_LOG_LEVEL:-warning}" ${MERIDIAN_ARGS:-} > "$OUT/$TARGET_NAME.log" 2>&1 < /dev/null &
fi
TARGET_PID=$!
wait_port "$TARGET_PORT" "$TARGET_PID" || { tail -20 "$OUT/$TARGET_NAME.log" >&2; exit 1; }
LISTENER_PID="$(listener_pid "$TARGET_PORT")"
echo "=== $TARGET_NAME pid ${LISTENER_PID:-$TARGET_PID} on 127.0.0.1:$TARGET_PORT" >&2
run_scenarios "$TARGET_PORT" "${LISTENER_PID:-$TARGET_PID}" "$TARGET_JSON" "$TARGET_NAME" || FAILURES=$((FAILURES + 1))
kill -TERM "$TARGET_PID" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.1; done
TARGET_PID=""

# ------------------------------------------------------------------ report
python3 "$ROOT/bench/report.py" --target "$TARGET_JSON" --peer "$PEER_JSON" \
    --target-name "$TARGET_NAME" --peer-name mosquitto --out "$RESULTS_MD"
if [[ $FAILURES -gt 0 ]]; then
    echo "bench/run.sh: some scenarios reported errors (loss, failed connections or a timeout); see $RESULTS_MD" >&2
    exit 3
fi
