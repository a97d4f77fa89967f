#!/usr/bin/env bash
# bench/eventlog-ingest.sh — durable QoS 1 ingest: the hub (PUBACK only once the event log has the message) vs
# Mosquitto, both driven by the same generator (`meridian bench publish`) on this machine over 127.0.0.1.
# Writes the section between <!-- eventlog-ingest:begin --> and <!-- eventlog-ingest:end --> of bench/RESULTS.md.
#
#   bench/eventlog-ingest.sh                      every run, 60 s each (about 11 minutes plus the release build)
#   DURATION=10 WARMUP=2 bench/eventlog-ingest.sh a smoke run
#   RUNS="hub-tls mosq-tls" bench/eventlog-ingest.sh
#
# Runs (RUNS, in this order; default all):
#   hub-tls        meridian, MQTT over TLS (the device port), durability process, flat out
#   mosq-tls       Mosquitto with a TLS listener (throwaway CA), flat out
#   hub-tcp        meridian, plain MQTT listener, flat out
#   mosq-tcp       Mosquitto, plain TCP, flat out
#   hub-tls-rate   meridian over TLS at GOAL_RATE msg/s offered: p99 at the goal's load
#   hub-tls-half   meridian over TLS at GOAL_RATE / 2 msg/s offered: p99 with headroom
#   mosq-tls-rate  Mosquitto over TLS at GOAL_RATE msg/s offered
#   hub-tls-power  meridian over TLS, durability power (fsync per group commit), flat out
#   profile        meridian over TLS, flat out, PROFILE_SECONDS long, with `perf record` on hub and generator
#                  (not in the table; its top symbols go to "where the time goes")
#
# Environment: PERF_RECORD_ARGS (extra `perf record` options of the profile run, e.g. "--call-graph fp") DURATION (60) WARMUP (5) DEVICES (100) PAYLOAD (200) INFLIGHT (100) THREADS (generator event
# loops, 1) GOAL_RATE (100000) GOAL_P99_MS (20) PROFILE_SECONDS (20) HUB_THREADS (hub --event-loop-threads, 0 =
# one per core) BENCH_OUT (bench/out/eventlog-ingest) RESULTS_MD (bench/RESULTS.md) UPDATE_RESULTS (1; 0 = leave
# RESULTS.md alone) FRESH (1; 0 keeps the earlier runs in BENCH_OUT and replaces only those in RUNS, e.g. to
# repeat one that other load on the machine spoiled) KEEP_DATA (0; 1 keeps the hubs' data folders) NOTES (bench/eventlog-ingest-notes.md, included
# in the section if present).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-5}"
DEVICES="${DEVICES:-100}"
PAYLOAD="${PAYLOAD:-200}"
INFLIGHT="${INFLIGHT:-100}"
THREADS="${THREADS:-1}"
GOAL_RATE="${GOAL_RATE:-100000}"
GOAL_P99_MS="${GOAL_P99_MS:-20}"
PROFILE_SECONDS="${PROFILE_SECONDS:-20}"
HUB_THREADS="${HUB_THREADS:-0}"
RUNS="${RUNS:-hub-tls mosq-tls hub-tcp mosq-tcp hub-tls-rate mosq-tls-rate hub-tls-half hub-tls-power profile}"
OUT="${BENCH_OUT:-$ROOT/bench/out/eventlog-ingest}"
RESULTS_MD="${RESULTS_MD:-$ROOT/bench/RESULTS.md}"
NOTES="${NOTES:-$ROOT/bench/eventlog-ingest-notes.md}"
# Each bench run is bounded twice: by its own hard timeout and by this one.
RUN_TIMEOUT=$((DURATION + WARMUP + 120))

for cmd in mosquitto openssl python3 timeout; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "eventlog-ingest.sh: '$cmd' is required (apt-get install -y mosquitto openssl python3 coreutils)" >&2; exit 1; }
done
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

mkdir -p "$OUT"
if [[ "${FRESH:-1}" == 1 ]]; then
    rm -f "$OUT"/*.json "$OUT"/*.md "$OUT"/*.log "$OUT"/runs.jsonl "$OUT"/perf-*.txt "$OUT"/loadavg-before.txt
fi

# ------------------------------------------------------------------ build (skipped when the binary is newer than the sources)
BIN_DIR="$(swift build -c release --show-bin-path 2>/dev/null)"
BIN="$BIN_DIR/meridian"
if [[ -x "$BIN" ]] && [[ -z "$(find Sources Package.swift -newer "$BIN" -print -quit)" ]]; then
    echo "=== meridian (release) is up to date: $BIN" >&2
else
    echo "=== building meridian (release)" >&2
    swift build -c release --product meridian
fi
[[ -x "$BIN" ]] || { echo "no meridian binary at $BIN" >&2; exit 1; }

# ------------------------------------------------------------------ helpers
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # wait_port PORT PID: until 127.0.0.1:PORT accepts (60 s), failing if PID dies
    local port="$1" pid="$2" _
    for _ in $(seq 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { echo "process $pid exited during start-up" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing accepting on 127.0.0.1:$port after 60 s" >&2
    return 1
}

stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL after 20 s
    local pid="$1" _
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

HUB_PID=""
MOSQ_PID=""
SCRATCH="$(mktemp -d /tmp/eventlog-ingest.XXXXXX)"
cleanup() {
    stop_pid "$HUB_PID"
    stop_pid "$MOSQ_PID"
    if [[ "${KEEP_DATA:-0}" == 1 ]]; then echo "data kept in $SCRATCH" >&2; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT

# record ID BROKER TRANSPORT DURABILITY OFFERED EXIT COMMAND...: one line of runs.jsonl
record() {
    local id="$1" broker="$2" transport="$3" durability="$4" offered="$5" rc="$6"
    shift 6
    python3 - "$OUT/runs.jsonl" "$id" "$broker" "$transport" "$durability" "$offered" "$rc" "$OUT/$id.json" "$*" <<'PY'
import json, sys
path, rid, broker, transport, durability, offered, rc, summary, command = sys.argv[1:]
try:
    lines = [ln for ln in open(path).read().splitlines() if ln.strip() and json.loads(ln)["id"] != rid]
except FileNotFoundError:
    lines = []
lines.append(json.dumps({"id": rid, "broker": broker, "transport": transport, "durability": durability,
                         "offered": float(offered), "exit": int(rc), "summary": summary, "command": command}))
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
PY
}

# The bench options common to every run (shown in the report as $COMMON).
COMMON=(--devices "$DEVICES" --payload "$PAYLOAD" --qos 1 --inflight "$INFLIGHT" --warmup "$WARMUP" --threads "$THREADS")

# ------------------------------------------------------------------ the hub
HUB_PLAIN_PORT=""; HUB_TLS_PORT=""; HUB_HTTP_PORT=""; HUB_DATA=""
start_hub() { # start_hub DURABILITY
    local durability="$1"
    HUB_DATA="$SCRATCH/hub-$durability-$RANDOM"
    mkdir -p "$HUB_DATA"
    HUB_PLAIN_PORT="$(free_port)"; HUB_TLS_PORT="$(free_port)"; HUB_HTTP_PORT="$(free_port)"
    local owner_key
    owner_key="$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')"
    export MERIDIAN_CONNECTION_STRING="HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=$owner_key"
    MERIDIAN_OWNER_KEY="$owner_key" "$BIN" serve --data-dir "$HUB_DATA/data" --host-name localhost \
        --bind 127.0.0.1 --plain-bind 127.0.0.1 --mqtt-port "$HUB_PLAIN_PORT" --mqtts-port "$HUB_TLS_PORT" \
        --http-port "$HUB_HTTP_PORT" --https-port 0 --durability "$durability" --event-loop-threads "$HUB_THREADS" \
        --log-level warning > "$OUT/hub-$durability.log" 2>&1 < /dev/null &
    HUB_PID=$!
    wait_port "$HUB_HTTP_PORT" "$HUB_PID" && wait_port "$HUB_TLS_PORT" "$HUB_PID" && wait_port "$HUB_PLAIN_PORT" "$HUB_PID" \
        || { tail -20 "$OUT/hub-$durability.log" >&2; exit 1; }
    echo "=== meridian pid $HUB_PID: mqtt $HUB_PLAIN_PORT, mqtts $HUB_TLS_PORT, http $HUB_HTTP_PORT, durability $durability" >&2
}
stop_hub() {
    stop_pid "$HUB_PID"
    HUB_PID=""
    if [[ "${KEEP_DATA:-0}" != 1 ]]; then rm -rf "$HUB_DATA"; fi
}

# hub_run ID TRANSPORT DURABILITY RATE [DURATION]
hub_run() {
    local id="$1" transport="$2" durability="$3" rate="$4" duration="${5:-$DURATION}" rc=0 port tlsflag
    start_hub "$durability"
    if [[ "$transport" == tls ]]; then port="$HUB_TLS_PORT"; tlsflag=--tls; else port="$HUB_PLAIN_PORT"; tlsflag=--no-tls; fi
    local cmd=("$BIN" bench publish --hub "http://127.0.0.1:$HUB_HTTP_PORT" --ca "$HUB_DATA/data/tls/ca.pem"
        --mqtt-host 127.0.0.1 --mqtt-port "$port" "$tlsflag" "${COMMON[@]}" --rate "$rate" --duration "$duration"
        --broker-pid "$HUB_PID" --label "meridian ($durability)" --summary-json "$OUT/$id.json" --summary-markdown "$OUT/$id.md")
    echo "--- $id" >&2
    if [[ "$id" == profile ]]; then
        timeout "$RUN_TIMEOUT" "${cmd[@]}" > "$OUT/$id.log" 2> "$OUT/$id.progress.log" &
        local wrapper=$! gen
        sleep $((WARMUP + 3))
        gen="$(pgrep -P "$wrapper" | head -1)"  # the bench process under timeout
        perf record -F 499 ${PERF_RECORD_ARGS:-} -p "$HUB_PID${gen:+,$gen}" -o "$SCRATCH/perf.data" -- sleep $((duration / 2)) > /dev/null 2>&1 \
            || echo "perf record failed" >&2
        wait "$wrapper" || rc=$?
        perf_reports "$SCRATCH/perf.data" "$HUB_PID" "$gen"
    else
        timeout "$RUN_TIMEOUT" "${cmd[@]}" 2> "$OUT/$id.progress.log" | tee "$OUT/$id.log" || rc=$?
    fi
    record "$id" meridian "$transport" "$durability" "$rate" "$rc" "meridian bench publish --hub http://127.0.0.1:HTTP --ca DATA/tls/ca.pem --mqtt-host 127.0.0.1 --mqtt-port $( [[ $transport == tls ]] && echo MQTTS || echo MQTT ) $tlsflag ${COMMON[*]} --rate $rate --duration $duration --broker-pid HUB"
    stop_hub
}

# perf_reports DATA HUB_PID GEN_PID: self time by thread, then by library and by symbol for each process
perf_reports() {
    local data="$1" hub="$2" gen="$3" report=(perf report -i "$1" --stdio --no-children)
    [[ -f "$data" ]] || return 0
    { echo "# share of all samples, by process:thread"; "${report[@]}" --sort pid 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12; } \
        > "$OUT/perf-threads.txt" || true
    "${report[@]}" --percentage relative --pid "$hub" --sort dso,sym --percent-limit 0.4 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45 \
        | swift demangle --simplified > "$OUT/perf-hub-symbols.txt" || true
    if [[ -n "$gen" ]]; then
        "${report[@]}" --percentage relative --pid "$gen" --sort dso,sym --percent-limit 0.4 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25 \
            | swift demangle --simplified > "$OUT/perf-generator-symbols.txt" || true
    fi
}

# ------------------------------------------------------------------ Mosquitto
MOSQ_TCP_PORT=""; MOSQ_TLS_PORT=""; MOSQ_DIR=""
start_mosquitto() {
    MOSQ_DIR="$SCRATCH/mosquitto"
    rm -rf "$MOSQ_DIR"; mkdir -p "$MOSQ_DIR/data"
    # A throwaway CA and a server certificate for 127.0.0.1 and localhost, P-256 like the hub's development CA.
    (
        cd "$MOSQ_DIR"
        openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
        openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=eventlog-ingest throwaway CA" -out ca.pem 2>/dev/null
        openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
        openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 2 -extfile ext -out server.pem 2>/dev/null
    )
    MOSQ_TCP_PORT="$(free_port)"; MOSQ_TLS_PORT="$(free_port)"
    # persistence true as a durable deployment would have it: Mosquitto still writes nothing per message, only
    # a snapshot every autosave_interval (1800 s) and at shutdown.
    cat > "$MOSQ_DIR/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence true
persistence_location $MOSQ_DIR/data/
log_dest stderr
log_type error
log_type warning
listener $MOSQ_TCP_PORT 127.0.0.1
listener $MOSQ_TLS_PORT 127.0.0.1
cafile $MOSQ_DIR/ca.pem
certfile $MOSQ_DIR/server.pem
keyfile $MOSQ_DIR/server.key
EOF
    # Started as root, Mosquitto drops to the mosquitto user: let it read the files and write its snapshot.
    chmod 755 "$SCRATCH" "$MOSQ_DIR"; chmod 644 "$MOSQ_DIR"/*; chmod 777 "$MOSQ_DIR/data"
    mosquitto -c "$MOSQ_DIR/mosquitto.conf" > "$OUT/mosquitto.log" 2>&1 < /dev/null &
    MOSQ_PID=$!
    wait_port "$MOSQ_TCP_PORT" "$MOSQ_PID" && wait_port "$MOSQ_TLS_PORT" "$MOSQ_PID" || { tail -20 "$OUT/mosquitto.log" >&2; exit 1; }
    echo "=== mosquitto pid $MOSQ_PID: tcp $MOSQ_TCP_PORT, tls $MOSQ_TLS_PORT" >&2
}

# mosq_run ID TRANSPORT RATE
mosq_run() {
    local id="$1" transport="$2" rate="$3" rc=0 port tlsflag
    [[ -n "$MOSQ_PID" ]] || start_mosquitto
    if [[ "$transport" == tls ]]; then port="$MOSQ_TLS_PORT"; tlsflag=(--tls --ca "$MOSQ_DIR/ca.pem"); else port="$MOSQ_TCP_PORT"; tlsflag=(--no-tls); fi
    echo "--- $id" >&2
    timeout "$RUN_TIMEOUT" "$BIN" bench publish --plain-broker --mqtt-host 127.0.0.1 --mqtt-port "$port" "${tlsflag[@]}" \
        "${COMMON[@]}" --rate "$rate" --duration "$DURATION" --broker-pid "$MOSQ_PID" --label mosquitto \
        --summary-json "$OUT/$id.json" --summary-markdown "$OUT/$id.md" 2> "$OUT/$id.progress.log" | tee "$OUT/$id.log" || rc=$?
    record "$id" mosquitto "$transport" none "$rate" "$rc" "meridian bench publish --plain-broker --mqtt-host 127.0.0.1 --mqtt-port PORT ${tlsflag[0]}$( [[ $transport == tls ]] && echo ' --ca CA.pem' ) ${COMMON[*]} --rate $rate --duration $DURATION --broker-pid MOSQUITTO"
    # A fresh broker for the next run, as for the hub.
    stop_pid "$MOSQ_PID"; MOSQ_PID=""
}

# ------------------------------------------------------------------ the runs
[[ -f "$OUT/loadavg-before.txt" ]] || cat /proc/loadavg > "$OUT/loadavg-before.txt"
for run in $RUNS; do
    case "$run" in
        hub-tls) hub_run hub-tls tls process 0 ;;
        hub-tcp) hub_run hub-tcp tcp process 0 ;;
        hub-tls-rate) hub_run hub-tls-rate tls process "$GOAL_RATE" ;;
        hub-tls-half) hub_run hub-tls-half tls process $((GOAL_RATE / 2)) ;;
        hub-tls-power) hub_run hub-tls-power tls power 0 ;;
        mosq-tls) mosq_run mosq-tls tls 0 ;;
        mosq-tcp) mosq_run mosq-tcp tcp 0 ;;
        mosq-tls-rate) mosq_run mosq-tls-rate tls "$GOAL_RATE" ;;
        profile)
            if perf record -o /dev/null -- true > /dev/null 2>&1; then
                hub_run profile tls process 0 "$PROFILE_SECONDS"
            else
                echo "--- profile: perf is not available (apt-get install linux-perf); skipped" >&2
            fi
            ;;
        *) echo "unknown run $run" >&2; exit 2 ;;
    esac
    sleep 2
done

# ------------------------------------------------------------------ report
python3 "$ROOT/bench/eventlog_report.py" --out-dir "$OUT" --goal-rate "$GOAL_RATE" --goal-p99-ms "$GOAL_P99_MS" \
    --duration "$DURATION" --warmup "$WARMUP" --devices "$DEVICES" --payload "$PAYLOAD" --inflight "$INFLIGHT" \
    --threads "$THREADS" --hub-threads "$HUB_THREADS" --notes "$NOTES" > "$OUT/section.md"
if [[ "${UPDATE_RESULTS:-1}" == 1 ]]; then
    python3 "$ROOT/bench/sections.py" replace "$RESULTS_MD" eventlog-ingest "$OUT/section.md"
else
    echo "section written to $OUT/section.md (RESULTS.md left alone)" >&2
fi
