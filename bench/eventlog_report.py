#!/usr/bin/env python3
"""Render the eventlog-ingest section of bench/RESULTS.md from the runs of bench/eventlog-ingest.sh.

    bench/eventlog_report.py --out-dir bench/out/eventlog-ingest [--goal-rate 100000] [--goal-p99-ms 20] ... > section.md

Reads OUT/runs.jsonl (one line per run: id, broker, transport, durability, offered rate, exit status, command) and
each run's `meridian bench publish --summary-json` file, plus OUT/perf-*.txt and OUT/loadavg-before.txt when present,
and prints the section's Markdown body (without the markers; bench/sections.py adds them).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def rate(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def us(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 1_000_000:
        return f"{v / 1e6:.2f} s"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} %"


def mib(kib: float | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.0f} MiB"


def load_runs(out: Path) -> list[dict]:
    runs = []
    path = out / "runs.jsonl"
    if not path.exists():
        return runs
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        try:
            r["report"] = json.loads(Path(r["summary"]).read_text())
        except (OSError, json.JSONDecodeError):
            r["report"] = None
        runs.append(r)
    return runs


def problems(rep: dict, run: dict) -> str:
    if rep is None:
        return f"**no summary** (exit {run['exit']})"
    out = []
    if rep.get("connectFailures"):
        out.append(f"{rep['connectFailures']} connect failures")
    if rep.get("disconnects"):
        out.append(f"{rep['disconnects']} disconnects")
    if rep.get("errors"):
        out.append(f"{rep['errors']} errors")
    if rep.get("unacked"):
        out.append(f"{rep['unacked']:,} unacked")
    if rep.get("backlogAtEnd"):
        out.append(f"{rep['backlogAtEnd']:,} due but not sent")
    if rep.get("drainTimedOut"):
        out.append("drain timed out")
    return ", ".join(out) if out else "none"


def machine_line() -> str:
    cpu = "?"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1) if m else "?"
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} cores (nproc), {cpu}, {mem}; kernel {platform.release()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--goal-rate", type=float, default=100_000)
    ap.add_argument("--goal-p99-ms", type=float, default=20)
    ap.add_argument("--duration", default="60")
    ap.add_argument("--warmup", default="5")
    ap.add_argument("--devices", default="100")
    ap.add_argument("--payload", default="200")
    ap.add_argument("--inflight", default="100")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--hub-threads", default="0")
    ap.add_argument("--notes", type=Path)
    a = ap.parse_args()
    out = a.out_dir
    order = ["hub-tls", "mosq-tls", "hub-tcp", "mosq-tcp", "hub-tls-rate", "mosq-tls-rate", "hub-tls-half", "hub-tls-power", "profile"]
    runs = sorted(load_runs(out), key=lambda r: order.index(r["id"]) if r["id"] in order else len(order))
    by_id = {r["id"]: r for r in runs}
    table_runs = [r for r in runs if r["id"] != "profile"]

    mosq_v = next((ln.replace("mosquitto version ", "") for ln in sh("mosquitto", "-h").splitlines()
                   if ln.startswith("mosquitto version")), "?")
    commit = sh("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    # Only changes to what the binary is built from matter (this script rewrites bench/RESULTS.md itself).
    dirty = sh("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift")
    load_before = (out / "loadavg-before.txt").read_text().split()[:3] if (out / "loadavg-before.txt").exists() else []
    lines = [
        "## Durable QoS 1 ingest: meridian's event log vs Mosquitto",
        "",
        "Written by `bench/eventlog-ingest.sh` (`bench/eventlog_report.py`); re-running it replaces this section.",
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine_line()}; load average before the runs: {' '.join(load_before) or '?'}",
        f"- git commit: {commit}{' (with uncommitted changes to Sources)' if dirty else ''}; meridian release build, "
        f"`--event-loop-threads {a.hub_threads}`{' (one per core)' if a.hub_threads == '0' else ''}",
        f"- Mosquitto {mosq_v} (Debian), `persistence true`: it writes **nothing to disk per message** (only a "
        "snapshot every `autosave_interval`, 1800 s, and at shutdown), so its PUBACK means \"in memory\". "
        "meridian sends a device's PUBACK only after the message is committed to its on-disk event log "
        "(`--durability process`: written to the segment file, survives `kill -9`; `power`: also fsynced).",
        f"- generator: `meridian bench publish` (same binary), {a.devices} publishers, one connection each, "
        f"MQTT 3.1.1, QoS 1, {a.payload}-byte drone-telemetry JSON, up to {a.inflight} messages in flight per "
        f"publisher, {a.threads} event-loop thread{'s' if a.threads != '1' else ''}; {a.warmup} s warm-up "
        f"(not counted), then {a.duration} s measured; fresh broker and data folder for every run. Hub devices are "
        "registered through the REST API and connect the Azure way (SAS token, `devices/{id}/messages/events/`); "
        "Mosquitto gets the same load with `--plain-broker`.",
        "- everything on one 2-core machine over 127.0.0.1: the broker, the generator and anything else running "
        "share the two cores (\"other\" below is the machine's busy CPU minus broker and generator).",
        "",
    ]

    # Goals.
    hub_flat = [r for r in table_runs if r["broker"] == "meridian" and r["offered"] == 0 and r["durability"] == "process"
                and r["report"]]
    best = max(hub_flat, key=lambda r: r["report"]["messagesPerSecond"], default=None)
    rate_run = by_id.get("hub-tls-rate")
    lines += ["### Goals", "", "| goal | run | measured | met? |", "| --- | --- | ---: | --- |"]
    for r in hub_flat:
        v = r["report"]["messagesPerSecond"]
        ok = v >= a.goal_rate and r["report"].get("disconnects", 0) == 0
        lines.append(f"| ≥ {a.goal_rate:,.0f} msg/s durable QoS 1 ingest, sustained {a.duration} s, over {r['transport'].upper()} "
                     f"| {r['id']} (flat out) | {rate(v)} msg/s | {'yes' if ok else '**no**'} |")
    if not hub_flat:
        lines.append(f"| ≥ {a.goal_rate:,.0f} msg/s durable QoS 1 ingest | — | not measured | — |")
    if rate_run and rate_run["report"] and rate_run["report"].get("latency"):
        rep = rate_run["report"]
        p99 = rep["latency"]["p99"]
        kept_up = rep["messagesPerSecond"] >= 0.99 * a.goal_rate and not rep.get("backlogAtEnd")
        ok = p99 <= a.goal_p99_ms * 1000 and kept_up
        note = "" if kept_up else f" (it acknowledged only {rate(rep['messagesPerSecond'])} msg/s of the {rate(a.goal_rate)} offered)"
        lines.append(f"| p99 PUBACK latency ≤ {a.goal_p99_ms:g} ms at {a.goal_rate:,.0f} msg/s | hub-tls-rate | "
                     f"{us(p99)}{note} | {'yes' if ok else '**no**'} |")
    else:
        lines.append(f"| p99 PUBACK latency ≤ {a.goal_p99_ms:g} ms at {a.goal_rate:,.0f} msg/s | — | not measured | — |")
    if best and best["report"].get("latency"):
        rep = best["report"]
        inflight = rep["connected"] * rep["inflight"]
        lines += ["", f"Flat-out runs keep {inflight:,} messages in flight ({rep['connected']} × {rep['inflight']}), so their "
                  f"latency is queueing by Little's law (≈ in flight ÷ throughput = {inflight / max(1, rep['messagesPerSecond']) * 1000:.1f} ms "
                  f"for {best['id']}, measured p50 {us(rep['latency']['p50'])}); the latency goal is judged at the goal's rate."]
    lines.append("")

    # Results table.
    mosq = {(r["transport"], r["offered"]): r for r in table_runs if r["broker"] == "mosquitto" and r["report"]}
    lines += ["### Results", "",
              "| run | broker | transport | offered msg/s | acked msg/s | p50 | p99 | p99.9 | max | broker CPU | broker RSS (peak) "
              "| generator CPU | other CPU | vs Mosquitto | problems |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in table_runs:
        rep = r["report"]
        name = r["broker"] + (f" ({r['durability']})" if r["broker"] == "meridian" else "")
        offered = "flat out" if r["offered"] == 0 else rate(r["offered"])
        if rep is None:
            lines.append(f"| {r['id']} | {name} | {r['transport'].upper()} | {offered} | — | — | — | — | — | — | — | — | — | — | "
                         f"{problems(rep, r)} |")
            continue
        lat = rep.get("latency") or {}
        broker = rep.get("broker") or {}
        gen = rep.get("generator") or {}
        machine = rep.get("machine") or {}
        other = None
        if machine and broker and gen:
            other = max(0.0, machine["busyPercent"] - broker["cpuPercent"] - gen["cpuPercent"])
        peer = mosq.get((r["transport"], r["offered"]))
        vs = "—"
        if r["broker"] == "meridian" and peer:
            vs = f"{rep['messagesPerSecond'] / max(1e-9, peer['report']['messagesPerSecond']):.2f}×"
        lines.append(
            f"| {r['id']} | {name} | {r['transport'].upper()} | {offered} | **{rate(rep['messagesPerSecond'])}** | "
            f"{us(lat.get('p50'))} | {us(lat.get('p99'))} | {us(lat.get('p999'))} | {us(lat.get('max'))} | "
            f"{pct(broker.get('cpuPercent'))} | {mib(broker.get('rssKiB'))} ({mib(broker.get('peakRSSKiB'))}) | "
            f"{pct(gen.get('cpuPercent'))} | {pct(other)} | {vs} | {problems(rep, r)} |")
    lines += ["", "CPU is percent of one core over the measured window (the machine has 200 %). "
              "\"vs Mosquitto\" compares with Mosquitto on the same transport and offered load.", ""]

    # Where the time goes.
    lines += ["### Where the time goes", ""]
    for r in table_runs:
        rep = r["report"]
        if not rep or not rep.get("broker"):
            continue
        b, g, m = rep["broker"], rep.get("generator") or {}, rep.get("machine") or {}
        threads = ", ".join(f"{t['name']}{' ×' + str(t['count']) if t['count'] > 1 else ''} {t['cpuPercent']:.0f} %"
                            for t in b.get("threads", [])[:6])
        gthreads = ", ".join(f"{t['name']} {t['cpuPercent']:.0f} %" for t in g.get("threads", [])[:3])
        busy = m.get("busyPercent")
        lines.append(f"- **{r['id']}**: machine {pct(busy)} busy of 200 %; broker {pct(b['cpuPercent'])} ({threads}); "
                     f"generator {pct(g.get('cpuPercent'))} ({gthreads}).")
    lines.append("")
    perf_files = [("by process and thread (share of all samples)", "perf-threads.txt"),
                  ("the hub, top symbols", "perf-hub-symbols.txt"),
                  ("the generator, top symbols", "perf-generator-symbols.txt")]
    perf_files = [(title, out / name) for title, name in perf_files if (out / name).exists() and (out / name).read_text().strip()]
    if perf_files:
        prof = by_id.get("profile")
        seconds = prof["report"]["durationSeconds"] if prof and prof["report"] else "?"
        lines += [f"`perf record -F 499` on the hub and the generator for half of a {seconds} s flat-out TLS run (`profile`, "
                  "not in the table), self time (percent of each process's samples unless said otherwise):", ""]
        for title, path in perf_files:
            lines += [f"<details><summary>perf: {title}</summary>", "", "```"]
            lines += [ln.rstrip()[:200] for ln in path.read_text().rstrip().splitlines()]
            lines += ["```", "", "</details>", ""]
    if a.notes and a.notes.exists():
        lines += [a.notes.read_text().rstrip(), ""]

    # Commands.
    lines += ["### Commands", "", "```sh", "DURATION=60 bench/eventlog-ingest.sh    # everything below, then this section", ""]
    for r in runs:
        lines.append(f"# {r['id']}")
        lines.append(r["command"])
    lines += ["```", "",
              "HTTP, MQTT, MQTTS, DATA, HUB: the throw-away hub's ports, data folder and pid (`meridian serve --data-dir DATA "
              "--host-name localhost --bind 127.0.0.1 --mqtt-port MQTT --mqtts-port MQTTS --http-port HTTP --https-port 0 "
              "--durability process|power`, owner key and connection string from the environment); PORT, CA.pem, "
              "MOSQUITTO: the private Mosquitto's (`persistence true`, a TCP and a TLS listener on 127.0.0.1)."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
