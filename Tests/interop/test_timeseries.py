"""The time-series store end to end (issue 7): device messages become series through the event-log feed; line
protocol writes; golden raw, bucketed and last-value queries checked against a brute-force computation here;
clear 400s; the cold-path export read by DuckDB with aggregates equal to Meridian's; the daily report (CSV and
HTML); and a kill -9 during ingestion after which every acknowledged point is queryable."""
from __future__ import annotations

import calendar
import http.client
import json
import math
import os
import random
import ssl
import subprocess
import threading
import time

import pytest

from brokers import BrokerProcess
from test_device_security import OWNER_KEY, cli, cli_args
from test_durability import wait_for
from test_events_api import create_device, owner_token, request, send

pytestmark = pytest.mark.meridian_only


@pytest.fixture
def hub(tmp_path):
    b = BrokerProcess(tmp_path / "hub", listeners=("mqtts", "https"), extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def parse_iso(text: str) -> int:
    base, _, frac = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + (int(frac[:3].ljust(3, "0")) if frac else 0)


def scenario(ms: int) -> str:
    t = time.gmtime(ms // 1000)
    return f"{t.tm_mon:02d}/{t.tm_mday:02d}/{t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +00:00"


def query(hub, body, expect=200):
    status, answer = request(hub, "POST", "/timeseries/query", body=body)
    assert status == expect, answer
    return answer


def write(hub, text, precision="ms", expect=(204,)):
    status, answer = _write(hub, text, precision)
    assert status in expect, answer
    return answer


def _write(hub, text, precision):
    """POST /timeseries/write with a line-protocol body; (status, JSON answer or None)."""
    c = http.client.HTTPSConnection("localhost", hub.https_port, context=ssl.create_default_context(cafile=str(hub.ca_path)), timeout=30)
    try:
        c.request("POST", f"/timeseries/write?precision={precision}", body=text.encode(),
                  headers={"Authorization": owner_token(), "Content-Type": "text/plain"})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def brute(points, start, end, interval, aligned=True):
    """{bucket start: {aggregate: value}} over [start, end) for (t, v) points, as the API defines it."""
    buckets = {}
    for t, v in sorted(points):
        if start <= t < end:
            b = (t // interval) * interval if aligned else start
            buckets.setdefault(b, []).append((t, v))
    out = {}
    for b, pts in buckets.items():
        vs = [v for _, v in pts]
        out[b] = {"count": len(vs), "sum": sum(vs), "avg": sum(vs) / len(vs), "min": min(vs), "max": max(vs),
                  "first": pts[0][1], "last": pts[-1][1], "p50": nearest_rank(vs, 50), "p90": nearest_rank(vs, 90),
                  "p99": nearest_rank(vs, 99)}
    return out


AGGREGATES = ["avg", "min", "max", "sum", "count", "first", "last", "p50", "p90", "p99"]


def assert_buckets(series_points, expected, start_of=lambda p: parse_iso(p["t"])):
    got = {start_of(p): p for p in series_points}
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    for b, agg in expected.items():
        for name, value in agg.items():
            if name in got[b]:
                assert got[b][name] == pytest.approx(value, rel=1e-9, abs=1e-9), (b, name, got[b][name], value)


def test_device_messages_become_series_through_the_feed(hub):
    now = int(time.time() * 1000)
    t0 = (now // 60_000) * 60_000 - 10 * 60_000
    rng = random.Random(7)
    sent = {}
    for device in ("ts-drone-1", "ts-drone-2"):
        key = create_device(hub, device)
        bodies = []
        for i in range(48):  # every 5 s for 4 minutes
            t = t0 + i * 5000
            v = round(rng.uniform(0, 25), 2)
            lat, lon, alt = round(47.6 + i * 0.001, 6), round(-122.3 - i * 0.001, 6), round(100 + i, 2)
            bodies.append({"occurrenceUtcTime": scenario(t), "deviceId": device, "sensorType": "drone-event-sensor;v1",
                           "velocity": f"{v:.2f}", "acceleration": "0.50", "position": f"{lat}|{lon}|{alt}", "flightStatus": "1",
                           "armed": i % 2 == 0})
            sent.setdefault(device, []).append((t, v, lat, lon))
        send(hub, device, key, bodies)
    window = {"from": iso(t0), "to": iso(t0 + 10 * 60_000)}
    wait_for(lambda: sum(len(s["points"]) for s in query(hub, {"measures": ["velocity"], **window})["series"]) == 96, 20)

    raw = query(hub, {"deviceIds": ["ts-drone-1"], "measures": ["velocity", "position.lat"], **window})
    by = {s["measure"]: s for s in raw["series"]}
    assert set(by) == {"velocity", "position.lat"} and raw["truncated"] is False
    assert [(parse_iso(p["t"]), p["v"]) for p in by["velocity"]["points"]] == [(t, v) for t, v, _, _ in sent["ts-drone-1"]]
    assert [p["v"] for p in by["position.lat"]["points"]] == [lat for _, _, lat, _ in sent["ts-drone-1"]]

    # Per-minute aggregates, every one of them, against the brute force.
    agg = query(hub, {"deviceIds": ["ts-drone-2"], "measures": ["velocity"], **window, "interval": "PT1M", "aggregates": AGGREGATES})
    expected = brute([(t, v) for t, v, _, _ in sent["ts-drone-2"]], t0, t0 + 600_000, 60_000)
    assert_buckets(agg["series"][0]["points"], expected)

    # The fleet together (groupBy none): one series per measure.
    fleet = query(hub, {"measures": ["velocity"], **window, "interval": "PT1M", "aggregates": ["avg", "count"], "groupBy": "none",
                        "deviceIds": ["ts-drone-1", "ts-drone-2"]})
    assert len(fleet["series"]) == 1 and "deviceId" not in fleet["series"][0]
    both = [(t, v) for d in sent.values() for t, v, _, _ in d]
    assert_buckets(fleet["series"][0]["points"], brute(both, t0, t0 + 600_000, 60_000))

    # Last values: the map's query.
    last = query(hub, {"measures": ["position.lat", "position.lon"], "last": True, **window,
                       "deviceIds": ["ts-drone-1", "ts-drone-2"]})
    got = {(s["deviceId"], s["measure"]): s["points"][0] for s in last["series"]}
    for device, rows in sent.items():
        t, _, lat, lon = rows[-1]
        assert got[(device, "position.lat")] == {"t": iso(t), "v": lat}
        assert got[(device, "position.lon")] == {"t": iso(t), "v": lon}

    # The CLI: a table, CSV and a sparkline.
    p = subprocess.run(cli_args(hub, "ts", "query", "--device-id", "ts-drone-1", "--measure", "velocity", "--from", window["from"],
                                "--to", window["to"], "--interval", "PT1M", "--aggregate", "max", "--csv")[:-1],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0] == "deviceId,measure,time,max" and len(lines) == 1 + 4
    p = subprocess.run(cli_args(hub, "ts", "query", "--measure", "velocity", "--from", window["from"], "--to", window["to"],
                                "--sparkline")[:-1], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "ts-drone-1" in p.stdout and any(c in p.stdout for c in "▁▂▃▄▅▆▇█"), p.stdout + p.stderr
    stats = cli(hub, "ts", "stats")
    # velocity, acceleration, position.lat|lon|alt, flightStatus, armed
    assert stats["feed"]["points"] >= 96 * 7 and stats["series"] >= 2 * 7
    armed = query(hub, {"deviceIds": ["ts-drone-1"], "measures": ["armed"], **window})["series"][0]["points"]
    assert [p["v"] for p in armed] == [i % 2 == 0 for i in range(48)]  # booleans stay booleans


def test_line_protocol_golden_aggregates_and_errors(hub):
    now = int(time.time() * 1000)
    base = (now // 3_600_000) * 3_600_000 - 3_600_000  # the previous whole hour
    rng = random.Random(11)
    points = []
    lines = []
    # 10-second buckets: points exactly on bucket starts, inside, an empty bucket, a single-point bucket.
    offsets = [0, 3_000, 9_999, 10_000, 25_000, 41_000, 41_500, 59_999, 60_000, 90_000]
    for k, off in enumerate(offsets):
        v = round(rng.uniform(-50, 50), 3)
        points.append((base + off, v))
        lines.append(f"drones,deviceId=lp-1 temp={v},count={k}i,ok={'true' if k % 2 else 'false'} {base + off}")
    assert write(hub, "\n".join(lines) + "\n") is None
    full = {"deviceIds": ["lp-1"], "from": iso(base), "to": iso(base + 100_000)}
    raw = query(hub, {**full, "measures": ["temp", "count", "ok"]})
    by = {s["measure"]: [p["v"] for p in s["points"]] for s in raw["series"]}
    assert by["temp"] == [v for _, v in points]
    assert by["count"] == list(range(len(offsets)))  # integers stay integers
    assert by["ok"] == [bool(k % 2) for k in range(len(offsets))]  # booleans stay booleans

    agg = query(hub, {**full, "measures": ["temp"], "interval": "PT10S", "aggregates": AGGREGATES})
    assert_buckets(agg["series"][0]["points"], brute(points, base, base + 100_000, 10_000))
    # `to` is exclusive and the range clips the first bucket.
    clipped = query(hub, {"deviceIds": ["lp-1"], "measures": ["temp"], "from": iso(base + 3_000), "to": iso(base + 60_000),
                          "interval": "PT10S", "aggregates": ["count", "first"]})
    assert_buckets(clipped["series"][0]["points"], {b: {"count": a["count"], "first": a["first"]} for b, a in
                                                     brute(points, base + 3_000, base + 60_000, 10_000).items()},
                   start_of=lambda p: parse_iso(p["t"]) // 10_000 * 10_000)
    # Aggregates without an interval: one bucket for the whole range.
    whole = query(hub, {**full, "measures": ["temp"], "aggregates": ["max", "count", "avg"]})
    assert whole["series"][0]["points"] == [{"t": iso(base), "max": max(v for _, v in points), "count": len(points),
                                             "avg": pytest.approx(sum(v for _, v in points) / len(points))}]
    # Minute and hour intervals read roll-ups once sealed; the answer is the same.
    request(hub, "POST", "/timeseries/compact", body={})
    hourly = query(hub, {**full, "to": iso(base + 3_600_000), "measures": ["temp"], "interval": "PT1H", "aggregates": ["sum", "count", "min", "max"]})
    assert_buckets(hourly["series"][0]["points"], brute(points, base, base + 3_600_000, 3_600_000))

    # Errors are 400s with a reason, and nothing of a bad body is stored.
    status, answer = _write(hub, "drones,deviceId=lp-1 temp=1 " + str(base + 95_000) + "\ndrones,deviceId=lp-1 temp=oops 1\n", "ms")
    assert status == 400 and "line 2" in answer["Message"], answer
    assert len(query(hub, {**full, "measures": ["temp"]})["series"][0]["points"]) == len(points)
    status, answer = _write(hub, "drones temp=1 1\n", "ms")
    assert status == 400 and "deviceId" in answer["Message"]
    for body, words in [({"interval": "P1M", "aggregates": ["avg"]}, "interval"), ({"from": iso(base + 10), "to": iso(base)}, "before"),
                        ({"aggregates": ["mode"]}, "aggregate"), ({"interval": "PT1S", "from": iso(0)}, "intervals"),
                        ({"bogus": 1}, "unknown field"), ({"last": True, "interval": "PT1M"}, "last")]:
        status, answer = request(hub, "POST", "/timeseries/query", body={"deviceIds": ["lp-1"], **{"from": iso(base), "to": iso(base + 1000)}, **body})
        assert status == 400 and words in answer["Message"], (body, answer)
    status, _ = request(hub, "POST", "/timeseries/query", token="SharedAccessSignature sr=x&sig=y&se=1", body={})
    assert status == 401

    # A point older than the series' out-of-order window is refused and counted, never silently dropped.
    late = _write(hub, f"drones,deviceId=lp-1 temp=1 {base - 3_600_000}\n", "ms")
    assert late[0] == 200 and late[1]["rejectedLate"] == 1 and late[1]["accepted"] == 0, late
    assert cli(hub, "ts", "stats")["rejectedLate"] >= 1


def test_export_is_read_by_duckdb_with_equal_aggregates(hub, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    now = int(time.time() * 1000)
    day = (now // 86_400_000) * 86_400_000
    start = day - 3 * 3_600_000  # three hours before midnight: the export spans two day partitions
    rng = random.Random(5)
    lines = []
    for device in ("ex-1", "ex-2", "ex-3"):
        v = 10.0
        for i in range(0, 6 * 3600, 30):
            t = start + i * 1000
            if t >= now:
                break
            v = round(v + rng.uniform(-1, 1), 2)
            lines.append(f"flight,deviceId={device} velocity={v},alt={round(rng.uniform(50, 60), 1)} {t}")
    assert write(hub, "\n".join(lines)) is None
    end = min(now, start + 6 * 3_600_000)
    for fmt, reader in (("jsonl", "read_json_auto"), ("csv", "read_csv_auto")):
        out = tmp_path / f"export-{fmt}"
        summary = cli(hub, "export", "--from", iso(start), "--to", iso(end), "--format", fmt, "--out", str(out))
        assert summary["rows"] == 2 * len(lines) and summary["files"] == (2 if end > day else 1), summary
        con = duckdb.connect()
        rows = con.execute(
            f"SELECT deviceId, measure, count(*), avg(value), min(value), max(value) FROM {reader}('{out}/*/*.{fmt}', hive_partitioning = true) "
            "GROUP BY deviceId, measure ORDER BY deviceId, measure").fetchall()
        meridian = query(hub, {"deviceIds": ["ex-1", "ex-2", "ex-3"], "from": iso(start), "to": iso(end), "aggregates": ["count", "avg", "min", "max"]})
        expected = sorted((s["deviceId"], s["measure"], s["points"][0]["count"], s["points"][0]["avg"], s["points"][0]["min"], s["points"][0]["max"])
                          for s in meridian["series"])
        assert len(rows) == len(expected) == 6
        for got, want in zip(rows, expected):
            assert got[:3] == want[:3] and got[3] == pytest.approx(want[3], rel=1e-12) and got[4:] == want[4:], (fmt, got, want)
        dates = con.execute(f"SELECT DISTINCT date FROM {reader}('{out}/*/*.{fmt}', hive_partitioning = true) ORDER BY 1").fetchall()
        assert len(dates) == summary["files"]


def test_string_and_tagged_series_through_feed_line_protocol_api_cli_and_duckdb(hub, tmp_path):
    """String values (the scenario's batteryStatus) and series tags (line protocol) are stored, queried, listed,
    printed and exported; count/first/last of strings per bucket match a brute force; kinds never mix."""
    now = int(time.time() * 1000)
    t0 = (now // 60_000) * 60_000 - 10 * 60_000
    # The feed: status messages every 20 s with a string batteryStatus (identifiers such as sensorType are not measures).
    key = create_device(hub, "st-drone")
    statuses = ["ok", "ok", "low", "low", "low", "critical", "charging", "ok"]
    sent = []
    bodies = []
    for i in range(24):
        t = t0 + i * 20_000
        text = statuses[(i // 3) % len(statuses)]
        sent.append((t, text))
        bodies.append({"occurrenceUtcTime": scenario(t), "deviceId": "st-drone", "sensorType": "drone-state-sensor;v1",
                       "temperature": "74.74", "batteryStatus": text, "batteryLevel": f"{1 - i / 100:.2f}"})
    send(hub, "st-drone", key, bodies)
    window = {"deviceIds": ["st-drone"], "from": iso(t0), "to": iso(t0 + 20 * 60_000)}
    wait_for(lambda: sum(len(s["points"]) for s in query(hub, {**window, "measures": ["batteryStatus"]})["series"]) == 24, 20)
    raw = query(hub, {**window, "measures": ["batteryStatus"]})["series"][0]
    assert [(parse_iso(p["t"]), p["v"]) for p in raw["points"]] == sent
    listed = {(s["measure"], s["type"]) for s in request(hub, "GET", "/timeseries/series?deviceId=st-drone")[1]}
    assert listed == {("temperature", "float"), ("batteryStatus", "string"), ("batteryLevel", "float")}
    agg = query(hub, {**window, "measures": ["batteryStatus"], "interval": "PT1M", "aggregates": ["count", "first", "last", "max"]})
    expected = {}
    for t, text in sent:
        expected.setdefault(t // 60_000 * 60_000, []).append(text)
    got = {parse_iso(p["t"]): p for p in agg["series"][0]["points"]}
    assert sorted(got) == sorted(expected)
    for b, texts in expected.items():
        assert got[b] == {"t": iso(b), "count": len(texts), "first": texts[0], "last": texts[-1], "max": None}, (b, got[b])
    last = query(hub, {**window, "measures": ["batteryStatus"], "last": True})["series"][0]["points"]
    assert last == [{"t": iso(sent[-1][0]), "v": sent[-1][1]}]

    # Line protocol: tags other than deviceId make separate series; string fields are string series.
    base = t0
    lines = []
    for i in range(30):
        for motor, rpm in (("front", 5000 + i), ("rear", 4000 + i)):
            state = "spinning" if i % 10 else "starting"
            lines.append(f'motors,deviceId=tg-1,motor={motor},side=left rpm={rpm}i,state="{state}" {base + i * 10_000}')
    assert write(hub, "\n".join(lines)) is None
    rear = query(hub, {"deviceIds": ["tg-1"], "from": iso(base), "to": iso(base + 600_000), "measures": ["rpm"], "seriesTags": {"motor": "rear"}})
    assert [(s["measure"], s["tags"]) for s in rear["series"]] == [("rpm", {"motor": "rear", "side": "left"})]
    assert [p["v"] for p in rear["series"][0]["points"]] == [4000 + i for i in range(30)]
    both = query(hub, {"deviceIds": ["tg-1"], "from": iso(base), "to": iso(base + 600_000), "measures": ["rpm", "state"],
                       "seriesTags": {"side": "left"}, "aggregates": ["count", "max", "last"]})
    summary = {(s["measure"], s["tags"]["motor"]): s["points"][0] for s in both["series"]}
    assert summary[("rpm", "front")]["max"] == 5029 and summary[("rpm", "rear")]["count"] == 30
    assert {k: v for k, v in summary[("state", "front")].items() if k != "t"} == {"count": 30, "max": None, "last": "spinning"}
    status, answer = _write(hub, f"motors,deviceId=tg-1,motor=front,side=left state=5i {base + 400_000}\n", "ms")
    assert status == 400 and "strings or numbers" in answer["Message"], answer
    status, answer = request(hub, "POST", "/timeseries/query", body={"seriesTags": {"motor": 1}})
    assert status == 400 and "seriesTags" in answer["Message"], answer
    p = subprocess.run(cli_args(hub, "ts", "query", "--device-id", "tg-1", "--measure", "rpm", "--series-tag", "motor=rear", "--from", iso(base),
                                "--to", iso(base + 600_000), "--csv")[:-1], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    rows = p.stdout.strip().splitlines()
    assert rows[0] == "deviceId,measure,time,v" and len(rows) == 31, rows[:2]
    assert rows[1].startswith('tg-1,"rpm{motor=rear,side=left}",') and rows[1].endswith(",4000"), rows[1]

    # The export keeps numbers in `value`, strings in `text` and the tags in `tags`; DuckDB reads them as they are.
    duckdb = pytest.importorskip("duckdb")
    for fmt, reader in (("jsonl", "read_json_auto"), ("csv", "read_csv_auto")):
        out = tmp_path / f"export-{fmt}"
        cli(hub, "export", "--from", iso(t0), "--to", iso(t0 + 20 * 60_000), "--format", fmt, "--out", str(out))
        con = duckdb.connect()
        source = f"{reader}('{out}/*/*.{fmt}', hive_partitioning = true)"
        texts = con.execute(f"SELECT text, count(*) FROM {source} WHERE deviceId = 'st-drone' AND measure = 'batteryStatus' GROUP BY text ORDER BY text").fetchall()
        counts = {}
        for _, text in sent:
            counts[text] = counts.get(text, 0) + 1
        assert texts == sorted(counts.items()), (fmt, texts)
        tagged = con.execute(f"SELECT tags, count(*), max(value) FROM {source} WHERE deviceId = 'tg-1' AND measure = 'rpm' GROUP BY tags ORDER BY tags").fetchall()
        assert tagged == [("motor=front,side=left", 30, 5029), ("motor=rear,side=left", 30, 4029)], (fmt, tagged)


def test_feed_mapping_settings_tag_fields_ignored_fields_and_string_limit(tmp_path):
    """timeseries-tag-field, timeseries-ignore-field and timeseries-max-strings shape what the feed stores."""
    b = BrokerProcess(tmp_path / "hub", listeners=("mqtts", "https"), extra_args=[
        "--owner-key", OWNER_KEY, "--timeseries-tag-field", "motor", "--timeseries-ignore-field", "serial", "--timeseries-ignore-field", "deviceId",
        "--timeseries-max-strings", "2"]).start()
    try:
        key = create_device(b, "map-1")
        t0 = (int(time.time() * 1000) // 1000) * 1000 - 60_000
        send(b, "map-1", key, [
            {"timestamp": iso(t0), "motor": "front", "rpm": 5000, "mode": "cruise", "serial": "SN-1"},
            {"timestamp": iso(t0 + 1000), "motor": "rear", "rpm": 4000, "mode": "hover", "serial": "SN-1"},
            {"timestamp": iso(t0 + 2000), "rpm": 1, "mode": "landing", "deviceId": "map-1"},
        ])
        wait_for(lambda: request(b, "GET", "/timeseries/stats")[1]["feed"]["events"] >= 3, 20)
        listed = sorted((s["measure"], s["type"], json.dumps(s.get("tags", {}), sort_keys=True))
                        for s in request(b, "GET", "/timeseries/series?deviceId=map-1")[1])
        assert listed == sorted([
            ("rpm", "float", '{"motor": "front"}'), ("mode", "string", '{"motor": "front"}'),
            ("rpm", "float", '{"motor": "rear"}'), ("mode", "string", '{"motor": "rear"}'),
            ("rpm", "float", "{}"), ("mode", "string", "{}"),
        ]), listed
        stats = request(b, "GET", "/timeseries/stats")[1]
        # The third distinct string is one too many: refused and counted, the rest of its message stored.
        assert stats["stringValues"] == 2 and stats["rejectedStrings"] == 1 and stats["feed"]["rejected"] == 1, stats
        raw = query(b, {"deviceIds": ["map-1"], "from": iso(t0), "to": iso(t0 + 10_000), "measures": ["mode", "rpm"]})
        assert sorted((s["measure"], s.get("tags", {}).get("motor", ""), [p["v"] for p in s["points"]]) for s in raw["series"]) == sorted([
            ("mode", "front", ["cruise"]), ("mode", "rear", ["hover"]), ("rpm", "front", [5000]), ("rpm", "rear", [4000]), ("rpm", "", [1]),
        ])
    finally:
        b.stop()


def test_daily_report_table_csv_and_html(hub, tmp_path):
    day = (int(time.time() * 1000) // 86_400_000) * 86_400_000 - 86_400_000  # yesterday
    date = time.strftime("%Y-%m-%d", time.gmtime(day // 1000))
    metres_per_degree = 6_371_000 * math.pi / 180
    lines = []
    for i in range(180):  # 15 minutes every 5 s from 08:00: flying north at 10 m/s for 10 minutes, then parked
        t = day + 8 * 3_600_000 + i * 5000
        flying = i < 120
        lat = 47.0 + (min(i, 120)) * 50 / metres_per_degree
        lines.append(f"flight,deviceId=rep-1 velocity={10 if flying else 0},lat={lat!r},lon=-122.0 {t}")
        if i % 4 == 0:
            lines.append(f"status,deviceId=rep-1 batteryLevel={90 - i / 10} {t + 1}")
    assert write(hub, "\n".join(lines)) is None
    report = cli(hub, "report", "daily", "--date", date)
    row = next(r for r in report["rows"] if r["deviceId"] == "rep-1")
    assert row["messages"] == 180 + 45 and row["flightSeconds"] == 600 and row["distanceKm"] == pytest.approx(6.0, abs=1e-3)
    assert row["maxVelocity"] == 10 and row["minBattery"] == pytest.approx(90 - 17.6) and row["alarms"] == 0
    csv_path, html_path = tmp_path / "report.csv", tmp_path / "report.html"
    for fmt, path in (("csv", csv_path), ("html", html_path)):
        p = subprocess.run(cli_args(hub, "report", "daily", "--date", date, "--format", fmt, "--out", str(path))[:-1],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
    csv_lines = csv_path.read_text().splitlines()
    assert csv_lines[0] == "deviceId,messages,flightMinutes,distanceKm,avgVelocity,maxVelocity,minBattery,alarms"
    assert "rep-1,225,10.0,6.000," in csv_path.read_text()
    html = html_path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "rep-1" in html and "<script" not in html


def test_kill9_during_ingestion_loses_no_acknowledged_point(hub):
    key = create_device(hub, "crash-1")
    now = int(time.time() * 1000)
    base = now - 30 * 60_000
    acked_lines = []
    acked_messages = []
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            batch = [f"m,deviceId=crash-lp v={n + k} {base + (n + k) * 10}" for k in range(200)]
            try:
                status, _ = _write(hub, "\n".join(batch), "ms")
            except Exception:
                return
            if status == 204:
                acked_lines.extend(range(n, n + 200))
            n += 200

    def device():
        i = 0
        while not stop.is_set():
            body = {"occurrenceUtcTime": scenario(base + i * 1000), "velocity": f"{i}.5"}
            try:
                send(hub, "crash-1", key, [body])
            except Exception:
                return
            acked_messages.append(i)
            i += 1

    threads = [threading.Thread(target=writer), threading.Thread(target=device)]
    for t in threads:
        t.start()
    time.sleep(random.Random(os.getpid()).uniform(1.5, 3.0))
    hub.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert acked_lines and acked_messages
    hub.start()
    window = {"from": iso(base - 60_000), "to": iso(now + 60_000)}
    lp = query(hub, {"deviceIds": ["crash-lp"], "measures": ["v"], **window, "limit": 10_000_000})
    stored = {int(p["v"]) for s in lp["series"] for p in s["points"]}
    missing = set(acked_lines) - stored
    assert not missing, f"{len(missing)} acknowledged line-protocol points lost, e.g. {sorted(missing)[:5]}"

    def device_points():
        r = query(hub, {"deviceIds": ["crash-1"], "measures": ["velocity"], **window, "limit": 10_000_000})
        return {round(p["v"] - 0.5) for s in r["series"] for p in s["points"]}
    wait_for(lambda: set(acked_messages) <= device_points(), 20)


def test_a_stream_job_writes_its_rows_as_series(hub, tmp_path):
    key = create_device(hub, "job-drone")
    t0 = (int(time.time() * 1000) // 60_000) * 60_000 - 5 * 60_000
    sql = tmp_path / "rollup.sql"
    sql.write_text("SELECT deviceId, AVG(CAST(velocity AS float)) AS avgVelocity, COUNT(*) AS messages INTO ts "
                   "FROM events TIMESTAMP BY occurrenceUtcTime GROUP BY deviceId, TumblingWindow(second, 10)")
    cli(hub, "job", "sql", "create", "rollup", "--query", str(sql), "--output", "ts=timeSeries,measurePrefix=rollup.", "--start-from", "earliest")
    send(hub, "job-drone", key, [{"occurrenceUtcTime": scenario(t0 + i * 1000), "deviceId": "job-drone", "velocity": str(i)} for i in range(35)])
    window = {"deviceIds": ["job-drone"], "from": iso(t0), "to": iso(t0 + 60_000)}

    def rows():
        r = query(hub, {**window, "measures": ["rollup.avgVelocity", "rollup.messages"]})
        return {s["measure"]: [(parse_iso(p["t"]), p["v"]) for p in s["points"]] for s in r["series"]}
    wait_for(lambda: len(rows().get("rollup.avgVelocity", [])) >= 4, 20)
    got = rows()
    # Windows are (start, end] and a row's time is its window's end: {0}, {1..10}, {11..20}, {21..30}.
    assert got["rollup.avgVelocity"][:4] == [(t0, 0.0), (t0 + 10_000, 5.5), (t0 + 20_000, 15.5), (t0 + 30_000, 25.5)]
    assert got["rollup.messages"][:4] == [(t0, 1), (t0 + 10_000, 10), (t0 + 20_000, 10), (t0 + 30_000, 10)]
