#!/usr/bin/env python3
"""Turn mqtt-bench RESULT lines (JSON lines, one file per broker) into bench/RESULTS.md.

    bench/report.py --target out/meridian.jsonl --peer out/mosquitto.jsonl --out bench/RESULTS.md \
        [--target-name meridian] [--peer-name mosquitto] [--notes "..."]

Every figure is a ratio against the peer measured in the same run on the same machine. The issue's targets
are checked and marked met / not met / not measured. Sections between `<!-- NAME:begin -->` and
`<!-- NAME:end -->` markers in the existing file (written by other scripts) are kept.
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

import sections  # bench/sections.py: marker-delimited sections other scripts own

# (scenario tag, metric key, comparison, goal, description)
#   "ratio>=": target/peer >= goal;  "<=": target value <= goal
TARGETS = [
    ("q0-fanin-100", "recv_per_s", "ratio>=", 1.5, "QoS 0 fan-in throughput ≥ 1.5× Mosquitto"),
    ("q1-fanin-100", "recv_per_s", "ratio>=", 1.0, "QoS 1 fan-in throughput ≥ 1× Mosquitto"),
    ("lat-q0-10k", "lat_p99_us", "<=", 1000, "p99 latency at 10k msg/s (QoS 0) ≤ 1 ms"),
    ("lat-q1-10k", "lat_p99_us", "<=", 1000, "p99 latency at 10k msg/s (QoS 1) ≤ 1 ms"),
    ("conn-15k", "bytes_per_conn", "<=", 8192, "≤ 8 KiB RSS per idle connection at 15k"),
    ("conn-10k", "connect_s", "<=", 1.0, "10k connects ≤ 1 s"),
]

# metric key, label, unit formatter, better ("up" = higher is better)
PUBSUB_METRICS = [
    ("recv_per_s", "received msg/s", "rate", "up"),
    ("sent_per_s", "sent msg/s", "rate", "up"),
    ("loss_pct", "loss %", "pct", "down"),
    ("lat_p50_us", "latency p50", "us", "down"),
    ("lat_p99_us", "latency p99", "us", "down"),
    ("lat_max_us", "latency max", "us", "down"),
    ("broker_cpu_pct", "broker CPU %", "pct", "down"),
    ("broker_hwm_kb", "broker peak RSS", "kb", "down"),
]
CONN_METRICS = [
    ("connect_s", "connect time for all", "s", "down"),
    ("conn_per_s", "connects/s", "rate", "up"),
    ("connack_p50_us", "CONNACK p50", "us", "down"),
    ("connack_p99_us", "CONNACK p99", "us", "down"),
    ("bytes_per_conn", "RSS per connection", "bytes", "down"),
    ("broker_rss_connected_kb", "broker RSS, all connected", "kb", "down"),
    ("failed", "failed connections", "int", "down"),
]


def load(path: Path) -> dict[str, dict]:
    """One RESULT per tag: the last one, or for a repeated latency scenario the run with the median p99
    (its record gets "runs" and "p99_runs_us" so the report can show the spread)."""
    runs: dict[str, list[dict]] = {}
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        runs.setdefault(r.get("tag", "?"), []).append(r)
    out: dict[str, dict] = {}
    for tag, rs in runs.items():
        if len(rs) > 1 and all("lat_p99_us" in r for r in rs):
            ordered = sorted(rs, key=lambda r: r["lat_p99_us"])
            chosen = dict(ordered[len(ordered) // 2])
            chosen["runs"] = len(rs)
            chosen["p99_runs_us"] = [r["lat_p99_us"] for r in rs]
            out[tag] = chosen
        else:
            out[tag] = rs[-1]
    return out


def fmt(v, kind: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, (int, float)) and v < 0:
        return "n/a"
    if kind == "rate":
        return f"{v:,.0f}"
    if kind == "pct":
        return f"{v:.1f}"
    if kind == "us":
        return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"
    if kind == "kb":
        return f"{v / 1024:.1f} MiB"
    if kind == "bytes":
        return f"{v / 1024:.1f} KiB"
    if kind == "s":
        return f"{v:.3f} s"
    return f"{v}"


def ratio(t, p) -> str:
    if t is None or p is None or not isinstance(t, (int, float)) or not isinstance(p, (int, float)):
        return "—"
    if t < 0 or p <= 0:
        return "—"
    return f"{t / p:.2f}×"


def machine(peer_name: str) -> list[str]:
    def sh(*cmd) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    cpu = "?"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1) if m else "?"
    except OSError:
        pass
    mosq = sh("mosquitto", "-h").splitlines()
    mosq_v = next((ln.replace("mosquitto version ", "") for ln in mosq if ln.startswith("mosquitto version")), "?")
    root = Path(__file__).resolve().parent.parent
    commit = sh("git", "-C", str(root), "rev-parse", "--short", "HEAD")
    dirty = sh("git", "-C", str(root), "status", "--porcelain", "--untracked-files=no")
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return [
        f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} cores (nproc), {cpu}, {mem}; kernel {platform.release()}",
        f"- {peer_name}: Mosquitto {mosq_v}" if peer_name == "mosquitto" else f"- peer: {peer_name}",
        f"- git commit: {commit}{' (with uncommitted changes)' if dirty else ''}",
        "- load generator: mqtt-bench (shared/tools/mqtt-bench), same machine, loopback, both brokers one after "
        "the other",
    ]


def check(target: dict, peer: dict, spec) -> tuple[str, str, str]:
    tag, key, how, goal, _ = spec
    t, p = target.get(tag, {}).get(key), peer.get(tag, {}).get(key)
    if t is None or (isinstance(t, (int, float)) and t < 0):
        return "—", "—", "not measured"
    problems = []
    tr = target.get(tag, {})
    if tr.get("loss_pct", 0) and tr.get("loss_pct", 0) > 0:
        problems.append(f"loss {tr['loss_pct']:.3f} %")
    if tr.get("failed", 0):
        problems.append(f"{tr['failed']} failed connections")
    if how == "ratio>=":
        if p is None or p <= 0:
            return fmt(t, "rate"), "—", "not measured (no peer figure)"
        r = t / p
        ok = r >= goal and not problems
        return fmt(t, "rate"), f"{r:.2f}×", ("met" if ok else "**not met**") + (f" ({', '.join(problems)})" if problems else "")
    kind = {"lat_p99_us": "us", "bytes_per_conn": "bytes", "connect_s": "s"}.get(key, "int")
    ok = t <= goal and not problems
    return fmt(t, kind), ratio(t, p), ("met" if ok else "**not met**") + (f" ({', '.join(problems)})" if problems else "")


def scenario_table(tag: str, target: dict, peer: dict, tname: str, pname: str) -> list[str]:
    t, p = target.get(tag, {}), peer.get(tag, {})
    mode = t.get("mode") or p.get("mode")
    metrics = CONN_METRICS if mode == "conn" else PUBSUB_METRICS
    lines = [f"### {tag}", ""]
    if mode == "conn":
        r = t or p
        lines.append(f"{r.get('conns', '?')} idle connections{', each with a subscription' if r.get('idle_sub') else ''}.")
    else:
        r = t or p
        rate = f", offered {r.get('rate_target'):,.0f} msg/s" if r.get("rate_target") else ", as fast as possible"
        lines.append(f"{r.get('pubs', '?')} publishers → {r.get('subs', '?')} subscriber(s) ({r.get('sub_mode', '?')}), "
                     f"QoS {r.get('qos', '?')}, {r.get('payload', '?')} B payload{rate}; {r.get('sent', '?'):,} sent.")
    for name, r in ((tname, t), (pname, p)):
        if r.get("runs"):
            spread = ", ".join(fmt(v, "us") for v in r.get("p99_runs_us", []))
            lines.append(f"{name}: the run with the median p99 of {r['runs']} runs is shown (p99 per run: {spread}).")
        if r.get("loss_pct", 0) > 0:
            lines.append(f"⚠ {name} lost {r['loss_pct']:.3f} % of the messages it accepted "
                         f"({'acknowledged with PUBACK' if r.get('qos') == 1 else 'QoS 0'}); its msg/s counts only "
                         "what was delivered.")
    busy = [x.get("bg_busy_pct") for x in (t, p) if x.get("bg_busy_pct") is not None]
    if busy and max(busy) > 15:
        lines.append(f"⚠ the machine was {max(busy)} % busy before a run (other processes); figures are skewed.")
    lines += ["", f"| metric | {tname} | {pname} | {tname} ÷ {pname} |", "| --- | ---: | ---: | ---: |"]
    for key, label, kind, better in metrics:
        arrow = "↑" if better == "up" else "↓"
        lines.append(f"| {label} ({arrow} better) | {fmt(t.get(key), kind)} | {fmt(p.get(key), kind)} | "
                     f"{ratio(t.get(key), p.get(key))} |")
    lines.append("")
    return lines


def render(target: dict, peer: dict, tname: str, pname: str, notes: str | None) -> str:
    order = [tag for tag in ("q0-1to1", "q1-1to1", "q0-fanin-100", "q1-fanin-100", "lat-q0-10k", "lat-q1-10k",
                             "conn-10k", "conn-15k")]
    tags = order + sorted((set(target) | set(peer)) - set(order))
    tags = [t for t in tags if t in target or t in peer]
    out = [f"# Benchmarks: {tname} vs {pname}", "",
           "Written by `bench/run.sh` (`bench/report.py`); do not edit by hand. Re-run: `bench/run.sh`. "
           "Sections between `<!-- NAME:begin/end -->` markers are written by other scripts and kept.", ""]
    out += machine(pname) + [""]
    if notes:
        out += [notes, ""]
    out += ["## Targets", "", f"| target | scenario | {tname} | vs {pname} | status |", "| --- | --- | ---: | ---: | --- |"]
    for spec in TARGETS:
        value, vs, status = check(target, peer, spec)
        out.append(f"| {spec[4]} | {spec[0]} | {value} | {vs} | {status} |")
    out += ["", "## Scenarios", ""]
    for tag in tags:
        out += scenario_table(tag, target, peer, tname, pname)
    out += ["## How to read this",
            "- msg/s are messages received by the subscriber(s) per second of wall time (mqtt-bench `recv_per_s`).",
            "- Latency is publish → deliver, end to end, measured by the generator from a timestamp in the payload.",
            "- RSS per connection is (broker RSS with all connections open − RSS before) ÷ connections.",
            "- Both brokers ran on the same 2-core machine as the load generator, so CPU is shared three ways.", ""]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=Path, required=True)
    ap.add_argument("--peer", type=Path, required=True)
    ap.add_argument("--target-name", default="meridian")
    ap.add_argument("--peer-name", default="mosquitto")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--notes")
    a = ap.parse_args()
    target, peer = load(a.target), load(a.peer)
    if not target and not peer:
        print(f"no RESULT lines in {a.target} or {a.peer}")
        return 1
    text = render(target, peer, a.target_name, a.peer_name, a.notes)
    if a.out.exists():
        # Keep the sections other scripts write (e.g. bench/eventlog-ingest.sh) between their markers.
        text = sections.preserve(a.out.read_text(), text)
    a.out.write_text(text)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
