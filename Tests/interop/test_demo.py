"""`meridian demo` (issue 8): one command starts a hub with embedded storage, creates the drone-delivery
rules as stream jobs, registers and flies a simulated fleet, prints how to reach it, and stops cleanly."""
from __future__ import annotations

import re
import subprocess
import time
import types

import pytest

from brokers import free_ports
from test_device_security import sas_token
from test_durability import wait_for
from test_events_api import request

pytestmark = pytest.mark.meridian_only

DRONES = 20
SECONDS = 60
JOBS = {"drone-rollups", "drone-battery-drop", "drone-silent", "drone-no-fly-zone", "drone-overheating", "drone-low-battery"}


@pytest.mark.timeout(SECONDS + 90)
def test_demo_runs_hub_rules_and_fleet(tmp_path):
    import os
    mqtts, https = free_ports(2)
    data = tmp_path / "demo"
    args = [os.environ["MERIDIAN_BIN"], "demo", "--data-dir", str(data), "--drones", str(DRONES), "--duration", str(SECONDS),
            "--mqtts-port", str(mqtts), "--https-port", str(https), "--rate-multiplier", "2"]
    demo = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        owner = None
        banner = []
        for line in demo.stdout:
            banner.append(line)
            m = re.search(r"owner\s+HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=(\S+)", line)
            if m:
                owner = m.group(1)
            if line.startswith("Ctrl-C"):
                break
        assert owner, "".join(banner)
        text = "".join(banner)
        assert f"https://localhost:{https}" in text and str(data / "tls" / "ca.pem") in text
        assert re.search(r"a drone\s+HostName=localhost;DeviceId=Simulated\.drone-01\.00;SharedAccessKey=", text)
        hub = types.SimpleNamespace(https_port=https, ca_path=data / "tls" / "ca.pem")

        def call(method, path, body=None):
            token = sas_token("localhost", owner, int(time.time()) + 600) + "&skn=iothubowner"
            return request(hub, method, path, token=token, body=body)

        # The six rules run over the fleet's telemetry.
        def jobs():
            status, items = call("GET", "/jobs/sql")
            assert status == 200, items
            return {j["name"]: j["status"] for j in items}
        assert wait_for(lambda: set(jobs()) == JOBS and all(s["state"] == "running" for s in jobs().values()), 30), jobs()
        assert wait_for(lambda: jobs()["drone-rollups"]["eventsIn"] > 0 and jobs()["drone-no-fly-zone"]["eventsIn"] > 0, 30), jobs()
        status, job = call("GET", "/jobs/sql/drone-no-fly-zone")
        assert status == 200 and len(job["referenceData"]["noFlyZones"]) == 3, job
        # Every drone is a registered device with a reported twin, and its telemetry reaches the time-series store.
        status, twins = call("POST", "/devices/query", {"query": "SELECT * FROM devices WHERE is_defined(properties.reported.mode)"})
        assert status == 200 and len(twins) == DRONES, twins
        assert wait_for(lambda: len({s["deviceId"] for s in call("GET", "/timeseries/series?measure=velocity")[1]}) == DRONES, 30)
        # The 30-second roll-ups land in the store as rollup30s.* series.
        assert wait_for(lambda: len(call("GET", "/timeseries/series?measure=rollup30s.avgVelocity")[1]) > 0, SECONDS), jobs()["drone-rollups"]
        out, err = demo.communicate(timeout=SECONDS + 40)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, err
    summary = err
    assert re.search(rf"{DRONES} drones, \d+ s: \d+ flight \+ \d+ status messages", summary), summary
    assert "connections: 20 up at the end, 20 attempts, 0 lost" in summary, summary
    assert (data / "tls" / "ca.pem").exists() and (data / "timeseries").is_dir()
