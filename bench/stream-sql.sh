#!/usr/bin/env bash
# bench/stream-sql.sh — in-process throughput of one stream SQL job (issue 6's goal: ≥ 1,000,000 events/s on one
# core for a GROUP BY deviceId, TumblingWindow(second, 10) average over 10,000 devices).
#
#   bench/stream-sql.sh               release build if needed, then `meridian bench sql` (3 runs, best reported),
#                                     and the section between <!-- stream-sql:begin --> and <!-- stream-sql:end -->
#                                     of bench/RESULTS.md
#
# Environment: DEVICES (10000) EVENTS (2000000) RUNS (3) QUERY (a file; default: the GROUP BY benchmark)
# RESULTS_MD (bench/RESULTS.md) UPDATE_RESULTS (1; 0 prints the section only)
#
# There is no peer to run beside it on this machine (Azure Stream Analytics is a cloud service); the number is
# compared with the issue's absolute goal.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

DEVICES="${DEVICES:-10000}"
EVENTS="${EVENTS:-2000000}"
RUNS="${RUNS:-3}"
RESULTS_MD="${RESULTS_MD:-$ROOT/bench/RESULTS.md}"
GOAL=1000000

BIN="$(swift build -c release --show-bin-path)/meridian"
if [[ ! -x "$BIN" ]] || [[ -n "$(find Sources Package.swift -newer "$BIN" -print -quit)" ]]; then
    echo "=== building meridian (release)" >&2
    swift build -c release --product meridian
fi

SCRATCH="$(mktemp -d /tmp/stream-sql.XXXXXX)"
trap 'rm -rf "$SCRATCH"' EXIT
ARGS=(bench sql --devices "$DEVICES" --events "$EVENTS" --runs "$RUNS" --summary-json "$SCRATCH/summary.json")
[[ -n "${QUERY:-}" ]] && ARGS+=(--query "$QUERY")
"$BIN" "${ARGS[@]}"

python3 - "$SCRATCH/summary.json" "$GOAL" "$(git rev-parse --short HEAD)" > "$SCRATCH/section.md" <<'PY'
import json, os, sys, datetime
summary, goal, commit = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
rate = int(summary["eventsPerSecond"])
cpu = os.popen("grep -m1 'model name' /proc/cpuinfo").read().split(":")[-1].strip()
print("## Stream SQL: one job's throughput on one thread")
print()
print("Written by `bench/stream-sql.sh` (`meridian bench sql`); re-running it replaces this section.")
print()
print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; git commit {commit}; release build; {cpu}")
print(f"- {summary['events']:,} drone events (deviceId, velocity) from {summary['devices']:,} devices, made in memory first, fed to one "
      f"`SQLJob` on one thread; the best of the runs; {summary['rows']:,} rows out")
print("- query:")
print()
print("```sql")
print(summary["query"].strip())
print("```")
print()
print("| goal | measured | met? |")
print("| --- | ---: | --- |")
print(f"| ≥ {goal:,} events/s on one core | {rate:,} events/s | {'yes' if rate >= goal else 'not yet'} |")
print()
PY
if [[ -f bench/stream-sql-notes.md ]]; then cat bench/stream-sql-notes.md >> "$SCRATCH/section.md"; fi
if [[ "${UPDATE_RESULTS:-1}" == 1 ]]; then
    python3 bench/sections.py replace "$RESULTS_MD" stream-sql "$SCRATCH/section.md"
else
    cat "$SCRATCH/section.md"
fi
