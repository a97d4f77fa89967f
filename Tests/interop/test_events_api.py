"""Reading the built-in events endpoint over HTTPS (issue 5): `/events/{consumerGroup}` as a JSON batch and as
Server-Sent Events, checkpoints per consumer group (independent groups, resume after a restart with no gaps and
no re-delivery), consumer-group management and service-policy authentication. Device messages are sent over the
device HTTPS API, so each is stored (204) before the test reads it."""
from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import time

import pytest

from brokers import BrokerProcess
from test_device_security import OWNER_KEY, cli, sas_token

pytestmark = pytest.mark.meridian_only


@pytest.fixture
def hub(tmp_path):
    b = BrokerProcess(tmp_path / "hub", listeners=("mqtts", "https"), extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


def owner_token():
    return sas_token("localhost", OWNER_KEY, int(time.time()) + 600) + "&skn=iothubowner"


def request(hub, method, path, token=None, body=None, headers=None):
    context = ssl.create_default_context(cafile=str(hub.ca_path))
    connection = http.client.HTTPSConnection("localhost", hub.https_port, context=context, timeout=10)
    try:
        all_headers = {"Authorization": token if token is not None else owner_token(), **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data and response.headers.get("Content-Type", "").startswith("application/json") else data)
    finally:
        connection.close()


def send(hub, device_id, key, bodies):
    token = sas_token(f"localhost/devices/{device_id}", key, int(time.time()) + 600)
    for body in bodies:
        status, answer = request(hub, "POST", f"/devices/{device_id}/messages/events?api-version=2020-03-13", token,
                                 headers={"Content-Type": "application/json", "iothub-app-kind": "test"},
                                 body=body)
        assert status == 204, answer


def read_all(hub, group, query=""):
    """Every event the group would read now (one JSON batch per partition, at most 1000 each)."""
    events, positions = [], []
    for partition in range(4):
        status, batch = request(hub, "GET", f"/events/{group}?limit=1000&partition={partition}{query}")
        assert status == 200, batch
        events += batch["events"]
        positions += batch["positions"]
    return events, positions


def create_device(hub, device_id):
    return cli(hub, "device", "create", device_id)["authentication"]["symmetricKey"]["primaryKey"]


def test_batch_read_shape_and_auth(hub):
    key = create_device(hub, "ev-dev")
    send(hub, "ev-dev", key, [{"seq": i, "velocity": "58.08"} for i in range(5)])
    events, positions = read_all(hub, "$Default", "&from=earliest")
    mine = [e for e in events if e["deviceId"] == "ev-dev" and e["systemProperties"].get("iothub-message-source") == "Telemetry"]
    assert [e["body"] for e in mine] == [{"seq": i, "velocity": "58.08"} for i in range(5)]
    e = mine[0]
    assert e["bodyEncoding"] == "json"
    assert e["properties"] == {"kind": "test"}, e["properties"]
    assert e["systemProperties"]["iothub-connection-device-id"] == "ev-dev"
    assert {"partition", "offset", "sequenceNumber", "enqueuedTime"} <= e.keys()
    offsets = [m["offset"] for m in mine]
    assert offsets == sorted(offsets) and len({m["partition"] for m in mine}) == 1, "one device, one partition, in order"
    assert len(positions) == 4
    # Service policy auth: no token → 401, a device policy (no ServiceConnect) → 403.
    status, body = request(hub, "GET", "/events/$Default", token="")
    assert status == 401, body
    device_policy = cli(hub, "policy", "show", "device")
    token = sas_token("localhost", device_policy["primaryKey"], int(time.time()) + 600) + "&skn=device"
    status, body = request(hub, "GET", "/events/$Default", token=token)
    assert status == 403, body
    # Bad input: clear 400s and 404s.
    for query in ("from=yesterday", "partition=9", "limit=0", "checkpoint=sometimes"):
        status, body = request(hub, "GET", f"/events/$Default?{query}")
        assert status == 400, (query, body)
        assert isinstance(body, dict) and body.get("Message"), body
    status, body = request(hub, "GET", "/events/no-such-group")
    assert status == 404, body


def test_groups_are_independent_and_resume_from_checkpoints_after_restart(hub):
    key = create_device(hub, "cp-dev")
    send(hub, "cp-dev", key, [{"n": i} for i in range(10)])
    status, body = request(hub, "PUT", "/consumergroups/analytics")
    assert status == 200, body
    status, names = request(hub, "GET", "/consumergroups")
    assert names == ["$Default", "analytics"], names

    def mine(events):
        return [e for e in events if e["deviceId"] == "cp-dev" and e["systemProperties"].get("iothub-message-source") == "Telemetry"]

    first, _ = read_all(hub, "$Default")
    got = mine(first)
    assert [e["body"]["n"] for e in got] == list(range(10))
    # $Default processed the first 6 and checkpoints the 6th; analytics checkpoints nothing.
    sixth = got[5]
    status, cps = request(hub, "POST", "/events/$Default/checkpoints",
                          body={"checkpoints": [{"partition": sixth["partition"], "offset": sixth["offset"]}]})
    assert status == 200, cps
    entry = next(p for p in cps["partitions"] if p["partition"] == sixth["partition"])
    assert entry["offset"] == sixth["offset"] and entry["lag"] >= 4
    hub.stop()
    hub.start()
    send(hub, "cp-dev", key, [{"n": 10}])
    resumed, _ = read_all(hub, "$Default")
    assert [e["body"]["n"] for e in mine(resumed)] == [6, 7, 8, 9, 10], "no gap, no re-delivery before the checkpoint"
    other, _ = read_all(hub, "analytics")
    assert [e["body"]["n"] for e in mine(other)] == list(range(11)), "the other group is untouched"
    status, body = request(hub, "DELETE", "/consumergroups/$Default")
    assert status == 400, body
    status, body = request(hub, "DELETE", "/consumergroups/analytics")
    assert status == 204, body


def test_server_sent_events_stream_live_events(hub):
    key = create_device(hub, "sse-dev")
    context = ssl.create_default_context(cafile=str(hub.ca_path))
    connection = http.client.HTTPSConnection("localhost", hub.https_port, context=context, timeout=10)
    try:
        connection.request("GET", "/events/$Default?from=latest", headers={"Authorization": owner_token(), "Accept": "text/event-stream"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        send(hub, "sse-dev", key, [{"live": i} for i in range(3)])
        seen, last_id = [], None
        deadline = time.monotonic() + 10
        while len(seen) < 3 and time.monotonic() < deadline:
            line = response.fp.readline().decode().rstrip("\n")
            if line.startswith("id: "):
                last_id = line[4:]
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                if event["deviceId"] == "sse-dev" and event["systemProperties"].get("iothub-message-source") == "Telemetry":
                    seen.append(event["body"]["live"])
        assert seen == [0, 1, 2]
        assert last_id and len(last_id.split(",")) == 4, last_id
        # A reader still connected does not hold up a graceful shutdown.
        started = time.monotonic()
        assert hub.stop() == 0
        assert time.monotonic() - started < 8
    finally:
        connection.close()


def test_meridian_monitor_filters_and_exits_when_idle(hub):
    import os
    import subprocess

    from test_device_security import owner_cs
    key = create_device(hub, "mon-a")
    create_device(hub, "mon-b")
    send(hub, "mon-a", key, [{"a": i} for i in range(3)])
    base = [os.environ["MERIDIAN_BIN"], "monitor", "--hub", f"https://127.0.0.1:{hub.https_port}",
            "--connection-string", owner_cs(hub), "--ca", str(hub.ca_path), "--from", "earliest", "--timeout", "2"]
    started = time.monotonic()
    p = subprocess.run([*base, "--json", "--device-id", "mon-a"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - started < 15, "--timeout ends an idle monitor"
    events = [json.loads(line) for line in p.stdout.splitlines()]
    telemetry = [e for e in events if e["systemProperties"].get("iothub-message-source") == "Telemetry"]
    assert [e["body"] for e in telemetry] == [{"a": 0}, {"a": 1}, {"a": 2}]
    assert all(e["deviceId"] == "mon-a" for e in events)
    p = subprocess.run([*base, "--property", "kind=test"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert '"origin" : "mon-a"' in p.stdout and '"payload"' in p.stdout, p.stdout[:500]
    p = subprocess.run([*base, "--property", "kind=other", "--json"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "", p.stdout[:300]
    p = subprocess.run([*base, "--consumer-group", "nope"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "nope" in p.stderr, p.stderr


def test_metrics_show_commit_latency_and_consumer_lag(hub):
    key = create_device(hub, "lag-dev")
    send(hub, "lag-dev", key, [{"n": i} for i in range(7)])
    request(hub, "PUT", "/consumergroups/laggard")
    deadline = time.monotonic() + 5
    lines = []
    while time.monotonic() < deadline:
        status, body = request(hub, "GET", "/metrics", token="")
        assert status == 200
        lines = body.decode().splitlines()
        lag = {l.split("{")[1].split("}")[0]: float(l.split()[-1]) for l in lines if l.startswith("meridian_eventlog_consumer_lag{")}
        if any('group="laggard"' in k for k in lag):
            break
        time.sleep(0.3)
    total = sum(v for k, v in lag.items() if 'group="laggard"' in k)
    assert total >= 7, lag  # nothing checkpointed: everything retained is lag
    count = [float(l.split()[-1]) for l in lines if l.startswith("meridian_eventlog_commit_latency_count")]
    assert count and count[0] >= 7 / 512, "one observation per committed batch"
    assert any(l.startswith('meridian_eventlog_commit_latency_bucket{le="0.001"}') for l in lines), "millisecond buckets"


def test_event_log_settings_from_flags(tmp_path):
    """`--event-partitions` sizes a new log (an existing one keeps its count); bad values stop the hub with a
    clear message."""
    b = BrokerProcess(tmp_path / "hub2", listeners=("mqtts", "https"),
                      extra_args=["--owner-key", OWNER_KEY, "--event-partitions", "2", "--event-retention-hours", "48",
                                  "--event-batch-delay-ms", "1", "--event-batch-records", "64"]).start()
    try:
        status, cps = request(b, "GET", "/events/$Default/checkpoints")
        assert status == 200, cps
        assert [p["partition"] for p in cps["partitions"]] == [0, 1]
    finally:
        assert b.stop() == 0
    b = BrokerProcess(tmp_path / "hub2", listeners=("mqtts", "https"),
                      extra_args=["--owner-key", OWNER_KEY, "--event-partitions", "8"]).start()
    try:
        status, cps = request(b, "GET", "/events/$Default/checkpoints")
        assert [p["partition"] for p in cps["partitions"]] == [0, 1], "the recorded count wins"
    finally:
        b.stop()
    for flag, value in (("--event-partitions", "0"), ("--event-retention-hours", "200"), ("--event-batch-delay-ms", "-1")):
        p = subprocess.run([os.environ["MERIDIAN_BIN"], "serve", "--data-dir", str(tmp_path / "bad"), flag, value],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert p.returncode != 0, (flag, value)
        assert flag.lstrip("-") in p.stderr, p.stderr
