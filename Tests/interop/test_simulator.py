"""`meridian simulate` end to end (issue 8): 50 simulated drones fly for 60 s against a hub over MQTT/TLS as
real devices. The event log holds the expected flight-data and status messages per drone (±1) in the
scenario's format; a `returnToBase` direct method is answered and the drone's reported twin changes; the
summary counts what happened."""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse

import pytest

from brokers import BrokerProcess
from test_device_security import OWNER_KEY, cli_args
from test_durability import wait_for
from test_events_api import request

pytestmark = pytest.mark.meridian_only

DRONES = 50
SECONDS = 60


@pytest.fixture
def hub(tmp_path):
    b = BrokerProcess(tmp_path / "hub", listeners=("mqtts", "https"), extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


def drone_id(i: int) -> str:
    return f"Simulated.drone-{i // 100 + 1:02d}.{i % 100:02d}"


def read_events(hub):
    """Every telemetry event in the log, by reading each partition from its start in pages."""
    events = []
    for partition in range(4):
        offset = "earliest"
        while True:
            status, batch = request(hub, "GET", f"/events/$Default?limit=1000&partition={partition}&from={offset}")
            assert status == 200, batch
            events += batch["events"]
            if len(batch["events"]) < 1000:
                break
            offset = str(batch["events"][-1]["offset"] + 1)
    return [e for e in events if e["systemProperties"].get("iothub-message-source") == "Telemetry"]


def query_twins(hub, where):
    status, answer = request(hub, "POST", "/devices/query", body={"query": f"SELECT * FROM devices WHERE {where}"})
    assert status == 200, answer
    return answer


@pytest.mark.timeout(SECONDS + 90)
def test_fifty_drones_fly_for_a_minute(hub, tmp_path):
    summary = tmp_path / "summary.json"
    args = cli_args(hub, "simulate", "--drones", str(DRONES), "--duration", str(SECONDS), "--seed", "7", "--faults-per-hour", "0",
                    "--mqtts-port", str(hub.mqtts_port), "--summary-json", str(summary))
    started = time.time()
    sim = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        # Every drone connects and reports its twin.
        assert wait_for(lambda: len(query_twins(hub, "is_defined(properties.reported.mode)")) == DRONES, 30), sim.poll()
        # A drone in flight is told to come back by a direct method; it answers and its twin says so.
        flying = []
        assert wait_for(lambda: flying.extend(t["deviceId"] for t in query_twins(hub, "properties.reported.mode = 'delivering'")) or flying, 40), sim.poll()
        target = flying[0]
        status, answer = request(hub, "POST", f"/twins/{urllib.parse.quote(target, safe='')}/methods",
                                 body={"methodName": "returnToBase", "payload": {}, "responseTimeoutInSeconds": 10})
        assert status == 200 and answer["status"] == 200 and answer["payload"]["accepted"] is True, answer
        assert answer["payload"]["phase"] == "returning", answer

        def reported_mode():
            status, twin = request(hub, "GET", f"/twins/{urllib.parse.quote(target, safe='')}")
            return twin["properties"]["reported"].get("mode")
        assert wait_for(lambda: reported_mode() == "returning", 10), reported_mode()
        status, answer = request(hub, "POST", f"/twins/{urllib.parse.quote(target, safe='')}/methods",
                                 body={"methodName": "getStatus", "payload": {}, "responseTimeoutInSeconds": 10})
        assert status == 200 and answer["status"] == 200 and answer["payload"]["phase"] in ("returning", "landing", "charging"), answer
        status, answer = request(hub, "POST", f"/twins/{urllib.parse.quote(target, safe='')}/methods",
                                 body={"methodName": "selfDestruct", "payload": {}, "responseTimeoutInSeconds": 10})
        assert status == 200 and answer["status"] == 404, answer
        out, err = sim.communicate(timeout=SECONDS + 60)
    finally:
        if sim.poll() is None:
            sim.kill()
    assert sim.returncode == 0, err
    elapsed = time.time() - started
    report = json.loads(summary.read_text())
    assert report["drones"] == DRONES and report["connectAttempts"] == DRONES and report["disconnects"] == 0, report
    assert report["methods"] == 3 and report["methodResponses"] == 3, report
    assert report["unacknowledged"] == 0 and report["dropped"] == 0 and report["acknowledged"] > 0, report
    assert report["pubackLatencyMs"]["p99"] > 0, report

    # The event log: 12 flight-data and 3 status messages per drone in 60 s (±1), in the scenario's format.
    events = read_events(hub)
    per = {}
    for e in events:
        body = e["body"]
        per.setdefault((e["deviceId"], body["sensorType"]), []).append(body)
    for i in range(DRONES):
        flights = per.get((drone_id(i), "drone-event-sensor;v1"), [])
        statuses = per.get((drone_id(i), "drone-state-sensor;v1"), [])
        assert abs(len(flights) - SECONDS // 5) <= 1, (drone_id(i), len(flights))
        assert abs(len(statuses) - SECONDS // 20) <= 1, (drone_id(i), len(statuses))
    assert sum(len(v) for v in per.values()) == report["flightMessages"] + report["statusMessages"]
    flight = per[(drone_id(0), "drone-event-sensor;v1")][0]
    status = per[(drone_id(0), "drone-state-sensor;v1")][0]
    assert list(flight) == ["occurrenceUtcTime", "deviceId", "deliveryId", "sensorType", "velocity", "acceleration", "position", "flightStatus"]
    assert list(status) == ["occurrenceUtcTime", "deviceId", "deliveryId", "sensorType", "temperature", "batteryStatus", "batteryLevel"]
    assert all(isinstance(v, str) for v in [*flight.values(), *status.values()])
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \+00:00", flight["occurrenceUtcTime"])
    assert re.fullmatch(r"-?\d+\.\d{6}\|-?\d+\.\d{6}\|-?\d+\.\d{2}", flight["position"])
    assert flight["deviceId"] == drone_id(0) and status["batteryStatus"] in ("ok", "low", "critical")
    # Messages carry JSON content type and encoding, so routing and stream queries can read the bodies.
    e0 = next(e for e in events if e["deviceId"] == drone_id(0))
    assert e0["systemProperties"].get("content-type") == "application/json", e0["systemProperties"]
    assert elapsed < SECONDS + 40
