"""Cloud-to-device messages to azure-iot-device 2.14 over MQTT: sent with `meridian c2d send` (the REST form of
the service's send; azure-iot-hub's own send_c2d_message speaks AMQP), received with properties, completed
by the device's PUBACK, feedback read back; and delivery after a SAS-renewal reconnect, which the SDK does
without subscribing again."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import time


def meridian(hub, *args):
    cmd = [os.environ["MERIDIAN_BIN"], *args, "--hub", f"https://127.0.0.1:{hub.process.https_port}",
           "--connection-string", hub.service_connection_string, "--ca", str(hub.process.ca_path), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def feedback_for(hub, message_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in meridian(hub, "c2d", "feedback") or []:
            if record["originalMessageId"] == message_id:
                return record
        time.sleep(0.3)
    raise AssertionError(f"no feedback for {message_id}")


def test_c2d_with_properties_and_feedback(hub):
    key = hub.create_sas_device("c2d-1")
    device = hub.device_client("c2d-1", key)
    received: queue.Queue = queue.Queue()
    device.on_message_received = received.put
    device.connect()
    try:
        sent = meridian(hub, "c2d", "send", "--device-id", "c2d-1", "--data", '{"cmd":"land"}', "--property", "color=red",
                        "--property", "path=/a/b", "--ack", "full", "--message-id", "cmd-1", "--content-type",
                        "application/json")
        assert sent["messageId"] == "cmd-1"
        message = received.get(timeout=10)
        assert json.loads(message.data) == {"cmd": "land"}
        assert message.message_id == "cmd-1"
        assert message.custom_properties == {"color": "red", "path": "/a/b"}
        assert message.content_type == "application/json"
        assert message.ack == "full"
        record = feedback_for(hub, "cmd-1")
        assert record["statusCode"] == "Success" and record["deviceId"] == "c2d-1"
    finally:
        device.shutdown()


def test_c2d_queued_while_offline_is_delivered_on_connect(hub):
    key = hub.create_sas_device("c2d-2")
    first = hub.device_client("c2d-2", key)
    first.on_message_received = lambda m: None
    first.connect()  # subscribes; the persistent session keeps the subscription
    first.disconnect()
    meridian(hub, "c2d", "send", "--device-id", "c2d-2", "--data", "while you were away")
    again = hub.device_client("c2d-2", key)
    received: queue.Queue = queue.Queue()
    again.on_message_received = received.put
    again.connect()
    try:
        assert received.get(timeout=10).data == b"while you were away"
    finally:
        again.shutdown()
        first.shutdown()


def test_c2d_after_sas_renewal_reconnect(hub):
    key = hub.create_sas_device("c2d-3")
    # A 125 s token is renewed 120 s before expiry: the SDK reconnects after about 5 s with a new token and
    # does not subscribe again.
    device = hub.device_client("c2d-3", key, sastoken_ttl=125)
    received: queue.Queue = queue.Queue()
    device.on_message_received = received.put
    device.connect()
    try:
        meridian(hub, "c2d", "send", "--device-id", "c2d-3", "--data", "before")
        assert received.get(timeout=10).data == b"before"
        connected_at = meridian(hub, "device", "show", "c2d-3")["connectionStateUpdatedTime"]
        time.sleep(8)  # the renewal reconnect happens meanwhile
        assert meridian(hub, "device", "show", "c2d-3")["connectionStateUpdatedTime"] != connected_at, "no renewal reconnect"
        meridian(hub, "c2d", "send", "--device-id", "c2d-3", "--data", "after renewal")
        assert received.get(timeout=15).data == b"after renewal"
    finally:
        device.shutdown()


def test_purge(hub):
    hub.create_sas_device("c2d-4")
    for n in range(3):
        meridian(hub, "c2d", "send", "--device-id", "c2d-4", "--data", f"m{n}", "--ack", "negative", "--message-id", f"p{n}")
    assert meridian(hub, "device", "show", "c2d-4")["cloudToDeviceMessageCount"] == 3
    assert hub.registry_manager().get_twin("c2d-4").cloud_to_device_message_count == 3
    assert meridian(hub, "c2d", "purge", "--device-id", "c2d-4")["totalMessagesPurged"] == 3
    assert meridian(hub, "device", "show", "c2d-4")["cloudToDeviceMessageCount"] == 0
    assert feedback_for(hub, "p0")["statusCode"] == "Purged"
