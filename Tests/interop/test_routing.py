"""Message routing end to end (issue 6): the real `meridian` binary, devices publishing over MQTT/TLS with SAS
tokens, routes and endpoints made with the CLI. A webhook endpoint posts to a real HTTP server in this process,
a file storage endpoint writes JSON lines that DuckDB reads as they are, a queue endpoint is a log of its own.
A webhook that is down (and a hub restart) loses nothing: the endpoint falls behind, its lag shows in
`meridian route endpoint list` and /metrics, and it catches up when the receiver returns."""
from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
import urllib.parse

import pytest

from brokers import BrokerProcess
from test_device_security import OWNER_KEY, Device, cli, cli_args, sas_token
from test_durability import metrics, wait_for as _wait_for

pytestmark = pytest.mark.meridian_only


def wait_for(predicate, timeout=15.0):
    return _wait_for(predicate, timeout)


@pytest.fixture
def hub(tmp_path):
    b = BrokerProcess(tmp_path / "hub", listeners=("mqtts", "https"), extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


class Receiver:
    """A webhook receiver: answers POSTs with `status` and keeps the records of the ones it accepted."""

    def __init__(self):
        self.status = 200
        self.records: list[dict] = []
        self.requests: list[dict] = []
        self.refused = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = receiver.status
                    if 200 <= status < 300:
                        receiver.records.extend(json.loads(body))
                        receiver.requests.append(dict(self.headers))
                    else:
                        receiver.refused += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/ingest"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def device(hub, device_id):
    key = cli(hub, "device", "create", device_id)["authentication"]["symmetricKey"]["primaryKey"]
    d = Device(hub, device_id, sas_token(f"localhost/devices/{device_id}", key, int(time.time()) + 3600))
    assert d.connect() == 0
    return d


def publish(d, device_id, body: dict, properties: dict | None = None):
    """Azure device telemetry with a JSON content type (so routes can read $body), QoS 1, waited for."""
    bag = {"$.ct": "application/json", "$.ce": "utf-8", **(properties or {})}
    topic = f"devices/{device_id}/messages/events/{urllib.parse.urlencode(bag)}"
    info = d.c.publish(topic, json.dumps(body), qos=1)
    info.wait_for_publish(10)
    assert info.is_published()



def stored_files(hub, endpoint):
    return sorted((hub.data_dir / "routing" / "storage" / endpoint).glob("*/*/*/*/*/*.jsonl"))


def test_routes_endpoints_enrichments_and_duckdb_reads_the_cold_path(hub, receiver):
    cli(hub, "route", "endpoint", "create", "alerts", "--type", "webhook", "--url", receiver.url,
        "--header", "Authorization: Bearer hook-secret", "--max-batch-size", "5")
    cli(hub, "route", "endpoint", "create", "cold", "--type", "fileStorage")
    cli(hub, "route", "create", "hot", "--endpoint", "alerts",
        "--condition", "$body.temperature > 80 OR severity = 'critical'")
    cli(hub, "route", "create", "everything", "--endpoint", "cold")
    cli(hub, "route", "enrichment", "set", "zone", "$twin.tags.zone", "--endpoint", "alerts")
    cli(hub, "route", "enrichment", "set", "pipeline", "drones-v1", "--endpoint", "alerts", "--endpoint", "cold")
    drones = {name: device(hub, name) for name in ("drone-a", "drone-b")}
    # Tags are set once the device exists.
    assert cli(hub, "twin", "update", "drone-a", "--tags", '{"zone": "north"}') is not None
    # Routing reads twins through a cache at most 1 s old (the devices' connection events above read them).
    time.sleep(1.2)
    table = cli(hub, "route", "list")
    assert [r["name"] for r in table["routes"]] == ["hot", "everything"]

    try:
        for i in range(40):
            name = "drone-a" if i % 2 == 0 else "drone-b"
            props = {"severity": "critical"} if i == 7 else {}
            publish(drones[name], name, {"i": i, "temperature": 60 + i}, props)
    finally:
        for d in drones.values():
            d.close()

    hot = {7} | {i for i in range(40) if 60 + i > 80}
    assert wait_for(lambda: len(receiver.records) >= len(hot)), (len(receiver.records), cli(hub, "route", "endpoint", "list"))
    assert sorted(r["body"]["i"] for r in receiver.records) == sorted(hot)
    for r in receiver.records:
        assert r["properties"]["pipeline"] == "drones-v1"
        assert r["properties"].get("zone") == ("north" if r["deviceId"] == "drone-a" else None), r
        assert r["systemProperties"]["content-type"] == "application/json"
    assert all(h.get("Authorization") == "Bearer hook-secret" for h in receiver.requests)
    assert all(len(batch) <= 5 for batch in [receiver.records[i:i + 5] for i in range(0, len(receiver.records), 5)])

    # The cold path: every message, JSON lines per partition and minute; DuckDB reads them as they are.
    assert wait_for(lambda: sum(len(f.read_text().splitlines()) for f in stored_files(hub, "cold")) == 40)
    import duckdb
    pattern = str(hub.data_dir / "routing" / "storage" / "cold" / "*" / "*" / "*" / "*" / "*" / "*.jsonl")
    rows = duckdb.sql(f"""
        SELECT deviceId, count(*) AS n, max(CAST(body.temperature AS INTEGER)) AS hottest,
               count(DISTINCT partition) AS partitions, min(properties.pipeline) AS pipeline
        FROM read_json_auto('{pattern}') GROUP BY deviceId ORDER BY deviceId""").fetchall()
    assert rows == [("drone-a", 20, 98, 1, "drones-v1"), ("drone-b", 20, 99, 1, "drones-v1")], rows

    def settled():
        status = {e["name"]: e for e in cli(hub, "route", "endpoint", "list")}
        return (status["alerts"]["health"] == "healthy" and status["alerts"]["delivered"] == len(hot)
                and status["cold"]["delivered"] == 40 and status["cold"]["lag"] == 0)
    assert wait_for(settled), cli(hub, "route", "endpoint", "list")

    # Route test: which routes a message would take.
    result = cli(hub, "route", "test", "--body", '{"temperature": 90}', "--device-id", "drone-a")
    assert result["matchedRoutes"] == ["hot", "everything"] and result["endpoints"] == ["alerts", "cold"]
    result = cli(hub, "route", "test", "--body", '{"temperature": 20}')
    assert result["matchedRoutes"] == ["everything"]


def test_a_webhook_that_is_down_falls_behind_and_catches_up_losing_nothing(hub, receiver):
    cli(hub, "route", "endpoint", "create", "hook", "--type", "webhook", "--url", receiver.url)
    cli(hub, "route", "endpoint", "create", "cold", "--type", "fileStorage")
    cli(hub, "route", "create", "all-to-hook", "--endpoint", "hook")
    cli(hub, "route", "fallback", "--endpoint", "cold")
    d = device(hub, "drone-x")
    try:
        for i in range(10):
            publish(d, "drone-x", {"i": i})
        assert wait_for(lambda: len(receiver.records) == 10)
        receiver.status = 503
        for i in range(10, 60):
            publish(d, "drone-x", {"i": i})
        # Down: the endpoint is unhealthy and behind; ingestion goes on (every PUBACK arrived above).
        assert wait_for(lambda: receiver.refused >= 2)
        hook = {e["name"]: e for e in cli(hub, "route", "endpoint", "list")}["hook"]
        assert hook["health"] == "unhealthy" and hook["lag"] == 50 and hook["lastError"] == "webhook: HTTP 503", hook
        lag_metric = 'meridian_routing_lag{endpoint="hook"}'
        assert wait_for(lambda: metrics(hub).get(lag_metric) == 50.0), \
            {k: v for k, v in metrics(hub).items() if "routing" in k}
        assert metrics(hub).get('meridian_routing_healthy{endpoint="hook"}') == 0.0
        # The fallback is only for messages no route took: none here.
        assert not stored_files(hub, "cold")
        # A restart while the receiver is down: the position is durable, nothing is skipped.
        d.close()
        hub.restart()
        d = device_reconnect(hub, "drone-x")
        for i in range(60, 70):
            publish(d, "drone-x", {"i": i})
        receiver.status = 200
        assert wait_for(lambda: len(receiver.records) >= 70, timeout=30), len(receiver.records)
        time.sleep(0.5)
        indexes = [r["body"]["i"] for r in receiver.records]
        assert sorted(indexes) == list(range(70)), "each message delivered, none lost"
        assert indexes == sorted(indexes), "in order (one device, one partition)"
        def caught_up():
            hook = {e["name"]: e for e in cli(hub, "route", "endpoint", "list")}["hook"]
            return hook["health"] == "healthy" and hook["lag"] == 0
        assert wait_for(caught_up), cli(hub, "route", "endpoint", "list")
        print(f"\nwebhook refused {receiver.refused} attempts while down (lag 50 in /metrics); "
              f"caught up with {len(indexes)} records")
    finally:
        d.close()


def device_reconnect(hub, device_id):
    """The device again after a restart: same identity, a fresh token."""
    key = cli(hub, "device", "show", device_id)["authentication"]["symmetricKey"]["primaryKey"]
    d = Device(hub, device_id, sas_token(f"localhost/devices/{device_id}", key, int(time.time()) + 3600))
    assert d.connect() == 0
    return d


def test_bad_routes_are_refused_with_a_clear_error_and_change_nothing(hub):
    cli(hub, "route", "endpoint", "create", "q", "--type", "queue")
    p = cli(hub, "route", "create", "broken", "--endpoint", "q", "--condition", "$body.a >", check=False)
    assert p.returncode != 0
    assert "line 1" in p.stderr and "column 10" in p.stderr, p.stderr
    p = cli(hub, "route", "create", "nowhere", "--endpoint", "missing", check=False)
    assert p.returncode != 0 and "no endpoint named 'missing'" in p.stderr, p.stderr
    cli(hub, "route", "create", "ok", "--endpoint", "q")
    p = cli(hub, "route", "endpoint", "delete", "q", check=False)
    assert p.returncode != 0 and "used by ok" in p.stderr, p.stderr
    p = cli(hub, "route", "endpoint", "create", "w", "--type", "webhook", "--url", "ftp://example.test", check=False)
    assert p.returncode != 0 and "http://" in p.stderr, p.stderr
    assert [r["name"] for r in cli(hub, "route", "list")["routes"]] == ["ok"]
    # A service policy without every right may read endpoint health but not change routes.
    cs = f"HostName=localhost:{hub.https_port};SharedAccessKeyName=service;SharedAccessKey=" + \
        cli(hub, "policy", "show", "service")["primaryKey"]
    def as_service(*args):
        command = cli_args(hub, *args)
        command[command.index("--connection-string") + 1] = cs
        return subprocess.run(command, capture_output=True, text=True, timeout=60)
    ok = as_service("route", "endpoint", "list")
    assert ok.returncode == 0, ok.stderr
    refused = as_service("route", "create", "x", "--endpoint", "q")
    assert refused.returncode != 0 and ("401" in refused.stderr or "403" in refused.stderr), refused.stderr


def test_a_webhook_down_for_30_seconds_gets_everything_and_queues_are_readable(hub, receiver):
    """The issue's end-to-end case: a webhook sink down for 30 s receives every event once it is back, in order;
    a queue endpoint keeps what its route selects, readable like the built-in endpoint."""
    cli(hub, "route", "endpoint", "create", "hook", "--type", "webhook", "--url", receiver.url)
    cli(hub, "route", "endpoint", "create", "q", "--type", "queue")
    cli(hub, "route", "create", "to-hook", "--endpoint", "hook")
    cli(hub, "route", "create", "odd-to-queue", "--endpoint", "q", "--condition", "$body.i % 2 = 1")
    d = device(hub, "drone-long")
    receiver.status = 503
    sent = 0
    try:
        down_until = time.monotonic() + 30
        while time.monotonic() < down_until:
            publish(d, "drone-long", {"i": sent})
            sent += 1
            time.sleep(0.25)
        hook = {e["name"]: e for e in cli(hub, "route", "endpoint", "list")}["hook"]
        assert hook["health"] == "unhealthy" and hook["lag"] >= sent - 1, hook
        receiver.status = 200
        for _ in range(5):
            publish(d, "drone-long", {"i": sent})
            sent += 1
    finally:
        d.close()
    # Back-off is capped at 30 s, so the endpoint retries within 30 s of the receiver's return.
    assert wait_for(lambda: len(receiver.records) >= sent, timeout=45), (len(receiver.records), sent)
    indexes = [r["body"]["i"] for r in receiver.records]
    assert indexes == list(range(sent)), "everything, once, in order"
    read = subprocess.run(cli_args(hub, "route", "read", "q", "--limit", "1000"), capture_output=True, text=True, timeout=60)
    queued = [json.loads(line) for line in read.stdout.splitlines()]
    assert [e["body"]["i"] for e in queued] == list(range(1, sent, 2)), queued[:3]
    print(f"\nwebhook down 30 s: {receiver.refused} refused attempts, then {sent} records delivered in order")

