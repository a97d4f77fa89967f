#!/usr/bin/env python3
"""Markdown section for bench/RESULTS.md from one bench/timeseries.sh run: InfluxDB's and meridian's JSON
results side by side, the ratios, and issue 7's goals.

    timeseries_report.py influx.json meridian.json GIT_COMMIT [BUILD_NOTE]
"""
import datetime, json, os, sys

influx, meridian = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:3])
commit = sys.argv[3]
build = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else "release build"
cpu = "?"
if os.path.exists("/proc/cpuinfo"):
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break

I, M = influx, meridian
d = M["data"]
mib = lambda b: f"{b / 2**20:,.0f} MiB" if b else "-"
q_names = {
    "a_raw_one_drone": "(a) raw velocity of one drone, 1 h",
    "b_mean_1m_one_drone": "(b) its per-minute mean",
    "c_mean_1m_all_drones": "(c) per-minute mean across all drones",
    "d_last_position_all": "(d) last position of every drone (the map)",
    "e_max_temp_per_drone": "(e) max temperature per drone",
}
q_goal = {"a_raw_one_drone": 1.0, "b_mean_1m_one_drone": 1.0, "c_mean_1m_all_drones": 0.5, "d_last_position_all": 0.5, "e_max_temp_per_drone": 0.5}

ingest_ratio = M["ingest"]["field_values_per_s"] / I["ingest"]["field_values_per_s"]
bpv_m = M["disk"]["bytes_per_field_value"]
bpv_i = I.get("disk", {}).get("bytes_per_field_value")
rss_m, rss_i = M["memory"]["rss_peak_bytes"], I["memory"]["rss_peak_bytes"]

goals = [("ingest ≥ 2 × InfluxDB (field values/s)", f"{M['ingest']['field_values_per_s']:,} vs {I['ingest']['field_values_per_s']:,} = {ingest_ratio:.2f}×",
          ingest_ratio >= 2),
         ("≤ 2 bytes per field value on disk (same data)", f"{bpv_m:.3f} B (InfluxDB {bpv_i} B)", bpv_m <= 2)]
for name, goal in q_goal.items():
    m, i = M["queries"][name]["median_ms"], I["queries"][name]["median_ms"]
    ratio = m / i if i else float("inf")
    label = "no slower than InfluxDB" if goal == 1 else "≤ ½ of InfluxDB"
    goals.append((f"{q_names[name]}: {label}", f"{m:,.2f} ms vs {i:,.2f} ms = {ratio:.3f}×", ratio <= goal))
goals.append(("RSS peak ≤ InfluxDB's", f"{mib(rss_m)} vs {mib(rss_i)}", rss_m <= rss_i))

out = [
    "## Time series: meridian's store vs InfluxDB 1.6 (tsbench)",
    "",
    "Written by `bench/timeseries.sh` (`bench/tsbench_meridian.py`, `bench/timeseries_report.py`); re-running it replaces this section.",
    "",
    f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; git commit {commit}; meridian {build}; "
    f"InfluxDB {I['params'].get('server_version')} (Debian, tsm1 engine, inmem index, `wal-fsync-delay = 0s`); {os.cpu_count()} cores, {cpu}",
    f"- data: the Drone Delivery set of `../shared/tools/tsbench` — {d['drones'] if 'drones' in d else M['params']['drones']:,} drones × "
    f"{M['params']['hours']} h: {d['points']:,} points, {d['field_values']:,} field values (2-decimal random walks; flight data every 5 s, "
    f"status every 20 s), byte-identical line protocol for both stores ({d['line_protocol_bytes'] / 1e6:,.0f} MB), "
    f"{M['params']['concurrency']} HTTP writers × {M['params']['batch_lines']:,} lines per request",
    "- both stores ran one after the other on the same idle machine; every number below is from this one run. "
    "InfluxDB's disk is measured after its cache snapshot and full compaction settled; meridian's after `POST /timeseries/compact` "
    "(seals every head, merges each closed partition into one block per series). Query times are medians of "
    f"{M['params']['runs']} runs after a warm-up, over HTTP on 127.0.0.1, client included.",
    f"- stored counts checked: InfluxDB {I['check']['ok']}, meridian {M['check']['ok']}",
    "",
    "### Goals",
    "",
    "| goal | measured | met? |",
    "| --- | ---: | --- |",
]
out += [f"| {g} | {m} | {'yes' if ok else 'no'} |" for g, m, ok in goals]
out += [
    "",
    "### Side by side",
    "",
    "| | InfluxDB 1.6 | meridian | meridian ÷ InfluxDB |",
    "| --- | ---: | ---: | ---: |",
    f"| ingest wall time | {I['ingest']['wall_s']} s | {M['ingest']['wall_s']} s | {M['ingest']['wall_s'] / I['ingest']['wall_s']:.2f} |",
    f"| ingest field values/s | {I['ingest']['field_values_per_s']:,} | {M['ingest']['field_values_per_s']:,} | {ingest_ratio:.2f} |",
    f"| server CPU during ingest | {I['ingest'].get('influxd_cpu_s')} s | {M['ingest']['hub_cpu_s']} s | "
    f"{M['ingest']['hub_cpu_s'] / I['ingest']['influxd_cpu_s']:.2f} |" if I['ingest'].get('influxd_cpu_s') else "| server CPU during ingest | - | - | - |",
    f"| disk after compaction | {mib(I.get('disk', {}).get('bytes'))} | {mib(M['disk']['bytes'])} | "
    f"{M['disk']['bytes'] / I['disk']['bytes']:.2f} |" if I.get("disk") else "| disk | - | - | - |",
    f"| bytes per field value | {bpv_i} | {bpv_m} | {bpv_m / bpv_i:.2f} |" if bpv_i else f"| bytes per field value | - | {bpv_m} | - |",
    f"| RSS peak | {mib(rss_i)} | {mib(rss_m)} | {rss_m / rss_i:.2f} |",
]
for name in q_goal:
    m, i = M["queries"][name], I["queries"][name]
    out.append(f"| {q_names[name]} | {i['median_ms']:,.2f} ms ({i['series']} series, {i['rows']:,} rows) | "
               f"{m['median_ms']:,.2f} ms ({m['series']} series, {m['rows']:,} rows) | {m['median_ms'] / i['median_ms']:.3f} |")
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeseries-notes.md")
if os.path.exists(notes):
    out += ["", open(notes).read().rstrip()]
print("\n".join(out))
