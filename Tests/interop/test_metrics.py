"""Prometheus metrics on /metrics of the HTTP listeners: text exposition, counters that move."""
from __future__ import annotations

import re
import time
import urllib.request

import pytest

from brokers import HOST

pytestmark = pytest.mark.meridian_only


def scrape(broker) -> dict[str, float]:
    with urllib.request.urlopen(f"http://{HOST}:{broker.http_port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_exposition_counts_connections_and_messages(module_broker, clients):
    before = scrape(module_broker)
    assert all(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?", name) for name in before)
    c = clients(module_broker, client_id="metrics-probe")
    c.connect()
    c.publish("metrics/probe", b"x", qos=1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = scrape(module_broker)
        if after.get("meridian_mqtt_messages_received", 0) > before.get("meridian_mqtt_messages_received", 0):
            break
        time.sleep(0.3)
    assert after["meridian_mqtt_connections_accepted"] > before.get("meridian_mqtt_connections_accepted", 0)
    assert after["meridian_mqtt_messages_received"] > before.get("meridian_mqtt_messages_received", 0)
