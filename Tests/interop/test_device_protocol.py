"""The Azure device protocol's refusals over raw MQTT 3.1.1 (paho 2): what the SDKs never send, the hub
closes the connection on, as Azure does (protocol reference §2.8), and nothing of it is stored."""
from __future__ import annotations

import json
import time

import pytest

from test_device_security import Device, cli, hub  # noqa: F401  (the module-scoped hub fixture)

pytestmark = pytest.mark.meridian_only


def connected_device(hub, device_id):  # noqa: F811
    cli(hub, "device", "create", device_id)
    token = cli(hub, "device", "sas-token", device_id)["sasToken"]
    device = Device(hub, device_id, token)
    assert device.connect() == 0
    return device


def closes(device, timeout=5.0) -> bool:
    return device.disconnected.wait(timeout)


@pytest.mark.parametrize("case", ["oversized", "qos2", "unknown-iothub-topic", "malformed-bag", "twin-bad-json-ok"])
def test_bad_device_publishes(hub, case):  # noqa: F811
    device = connected_device(hub, f"proto-{case}")
    try:
        c = device.c
        if case == "oversized":
            c.publish(f"devices/proto-{case}/messages/events/", b"x" * (256 * 1024 + 1), qos=1)
            assert closes(device), "a message over 256 KiB closes the connection"
        elif case == "qos2":
            c.publish(f"devices/proto-{case}/messages/events/", b"{}", qos=2)
            assert closes(device), "QoS 2 closes the connection, as Azure does"
        elif case == "unknown-iothub-topic":
            c.publish("$iothub/twin/DELETE/?$rid=1", b"", qos=1)
            assert closes(device), "an unknown $iothub topic closes the connection"
        elif case == "malformed-bag":
            c.publish(f"devices/proto-{case}/messages/events/a=%zz", b"{}", qos=1)
            assert closes(device), "a property bag with a bad escape closes the connection"
        else:
            # A reported patch that is not JSON gets status 400 on the response topic; the connection stays.
            responses = []
            c.on_message = lambda client, userdata, message: responses.append(message.topic)
            c.subscribe("$iothub/twin/res/#", qos=1)
            time.sleep(0.3)
            c.publish("$iothub/twin/PATCH/properties/reported/?$rid=7", b"{not json", qos=1)
            deadline = time.monotonic() + 5
            while not responses and time.monotonic() < deadline:
                time.sleep(0.05)
            assert responses == ["$iothub/twin/res/400/?$rid=7"]
            assert not device.disconnected.is_set()
    finally:
        device.close()
    if case == "twin-bad-json-ok":
        twin = cli(hub, "twin", "show", f"proto-{case}")
        assert twin["properties"]["reported"]["$version"] == 1, "nothing was stored"


def test_acknowledged_telemetry_is_in_the_event_log_after_kill_9(tmp_path_factory):
    """A PUBACKed device message is in the on-disk event log even when the hub is killed right after
    (SIGKILL: no shutdown, no flush). Checked on the segment files' bytes, after a restart recovered them."""
    import uuid

    from brokers import BrokerProcess
    from test_device_security import OWNER_KEY

    process = BrokerProcess(tmp_path_factory.mktemp("kill9"), listeners=("mqtts", "https"),
                            extra_args=["--owner-key", OWNER_KEY]).start()
    try:
        cli(process, "device", "create", "kill9-dev")
        token = cli(process, "device", "sas-token", "kill9-dev")["sasToken"]
        device = Device(process, "kill9-dev", token)
        assert device.connect() == 0
        markers = [f"marker-{uuid.uuid4().hex}" for _ in range(20)]
        infos = [device.c.publish("devices/kill9-dev/messages/events/", m.encode(), qos=1) for m in markers]
        for info in infos:
            info.wait_for_publish(timeout=10)
            assert info.is_published()
        # The event log's counters reach /metrics (exported every second).
        import ssl
        import urllib.request
        context = ssl.create_default_context(cafile=str(process.ca_path))
        appends = 0.0
        deadline = time.monotonic() + 5
        while appends < len(markers) and time.monotonic() < deadline:
            with urllib.request.urlopen(f"https://localhost:{process.https_port}/metrics", context=context, timeout=5) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("meridian_eventlog_appends "):
                        appends = float(line.split()[1])
            time.sleep(0.2)
        assert appends >= len(markers), "meridian_eventlog_appends"
        process.kill()  # SIGKILL after the PUBACKs (and nothing else)
        process.start()  # recovery runs on open
        logs = b"".join(p.read_bytes() for p in (process.data_dir / "events").glob("*/*.log"))
        missing = [m for m in markers if m.encode() not in logs]
        assert not missing, f"{len(missing)} acknowledged messages not in the log"
    finally:
        process.stop()
