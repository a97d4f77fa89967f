"""The device-side HTTPS API end to end (protocol reference §6): the real `meridian` binary, a device
speaking HTTPS with Python's http.client over TLS (the development CA), an anonymous paho-mqtt 2 MQTT 5
watcher on the plain MQTT port, and the CLI as the service side of cloud-to-device messaging."""
from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse

import paho.mqtt.client as mqtt
import pytest

from brokers import HOST, BrokerProcess
from test_device_security import OWNER_KEY, Device, cli, sas_token

pytestmark = pytest.mark.meridian_only

API_VERSION = "2020-03-13"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Like test_device_security's hub, plus the plain MQTT listener for the anonymous watcher."""
    b = BrokerProcess(tmp_path_factory.mktemp("hub-https"), listeners=("mqtt", "mqtts", "https"),
                      extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


def https(hub, method, path, token, headers=None, body=None):
    """One request to the hub's HTTPS listener, trusting only its development CA; (status, headers, body)."""
    context = ssl.create_default_context(cafile=str(hub.ca_path))
    connection = http.client.HTTPSConnection("localhost", hub.https_port, context=context, timeout=10)
    try:
        all_headers = {"Authorization": token, **(headers or {})}
        connection.request(method, f"{path}?api-version={API_VERSION}", body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def device_token(device_id, key):
    return sas_token(f"localhost/devices/{device_id}", key, int(time.time()) + 600)


class Watcher:
    """An anonymous MQTT 5 client subscribed to every device's telemetry."""

    def __init__(self, hub):
        self.messages = []
        self.arrived = threading.Event()
        subscribed = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="https-watcher", protocol=mqtt.MQTTv5)

        def on_message(client, userdata, message):
            self.messages.append(message)
            self.arrived.set()

        self.c.on_message = on_message
        self.c.on_subscribe = lambda client, userdata, mid, codes, properties: subscribed.set()
        self.c.connect(HOST, hub.mqtt_port, keepalive=30)
        self.c.loop_start()
        self.c.subscribe("devices/+/messages/events/#", qos=1)
        assert subscribed.wait(10), "no SUBACK"

    def next(self, timeout=10):
        assert self.arrived.wait(timeout), "the watcher saw no telemetry"
        self.arrived.clear()
        return self.messages.pop(0)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def stamped_properties(message, device_id, message_id):
    """A watcher's copy of telemetry carries the hub's stamps and the message's properties as MQTT 5 user
    properties, and its content type; returns the user properties."""
    props = dict(message.properties.UserProperty)
    assert props["iothub-connection-device-id"] == device_id
    assert props["iothub-message-source"] == "Telemetry"
    assert json.loads(props["iothub-connection-auth-method"])["type"] == "sas"
    assert "iothub-enqueuedtime" in props
    assert props["message-id"] == message_id
    assert message.properties.ContentType == "application/json"
    return props


def test_https_telemetry_reaches_mqtt_watchers(hub):
    device = cli(hub, "device", "create", "https-dev")
    key = device["authentication"]["symmetricKey"]["primaryKey"]
    watcher = Watcher(hub)
    try:
        status, _, body = https(hub, "POST", "/devices/https-dev/messages/events", device_token("https-dev", key),
                                headers={"iothub-app-temperature": "21.5", "iothub-app-Alert": "true",
                                         "iothub-messageid": "m-1", "Content-Type": "application/json"},
                                body=b'{"t":21.5}')
        assert (status, body) == (204, b"")
        message = watcher.next()
        assert message.topic.startswith("devices/https-dev/messages/events/"), message.topic
        assert message.payload == b'{"t":21.5}'
        props = stamped_properties(message, "https-dev", "m-1")
        assert props["temperature"] == "21.5"
        assert props["Alert"] == "true"
    finally:
        watcher.close()


def test_mqtt_telemetry_reaches_watchers_with_its_properties(hub):
    """The MQTT path adds the watchers' user properties only when a subscription matches: they must be there."""
    cli(hub, "device", "create", "mqtt-dev")
    device = Device(hub, "mqtt-dev", cli(hub, "device", "sas-token", "mqtt-dev")["sasToken"])
    assert device.connect() == 0
    watcher = Watcher(hub)
    try:
        info = device.c.publish("devices/mqtt-dev/messages/events/%24.mid=m-2&%24.ct=application%2Fjson&alert=hi%2Fthere",
                                b'{"battery":81}', qos=1)
        info.wait_for_publish(10)
        message = watcher.next()
        assert message.topic.startswith("devices/mqtt-dev/messages/events/"), message.topic
        assert message.payload == b'{"battery":81}'
        props = stamped_properties(message, "mqtt-dev", "m-2")
        assert props["alert"] == "hi/there"
    finally:
        watcher.close()
        device.close()


def test_https_device_authentication(hub):
    a = cli(hub, "device", "create", "https-a")["authentication"]["symmetricKey"]["primaryKey"]
    cli(hub, "device", "create", "https-b")
    # A's token on B's path, a forged signature, no token at all: 401 IotHubUnauthorizedAccess.
    for token in (device_token("https-a", a), device_token("https-b", a), ""):
        status, headers, body = https(hub, "POST", "/devices/https-b/messages/events", token, body=b"x")
        assert status == 401, body
        assert headers["iothub-errorcode"] == "IotHubUnauthorizedAccess"
        assert b"sig=" not in body, "the token is never echoed"
    # The hub's `device` policy (DeviceConnect) may speak for any device.
    policy = cli(hub, "policy", "show", "device")
    policy_token = sas_token("localhost", policy["primaryKey"], int(time.time()) + 600) + "&skn=device"
    status, _, body = https(hub, "POST", "/devices/https-b/messages/events", policy_token, body=b"x")
    assert status == 204, body


def test_c2d_over_https_with_feedback(hub):
    key = cli(hub, "device", "create", "https-c2d")["authentication"]["symmetricKey"]["primaryKey"]
    token = device_token("https-c2d", key)
    status, _, _ = https(hub, "GET", "/devices/https-c2d/messages/deviceBound", token)
    assert status == 204, "nothing queued yet"

    cli(hub, "c2d", "send", "--device-id", "https-c2d", "--data", "hello over https", "--property", "k=v",
        "--ack", "full")
    status, headers, body = https(hub, "GET", "/devices/https-c2d/messages/deviceBound", token)
    assert status == 200
    assert body == b"hello over https"
    assert headers["iothub-app-k"] == "v"
    assert headers["iothub-ack"] == "full"
    assert headers["iothub-deliverycount"] == "0"
    etag = headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    lock = urllib.parse.quote(etag.strip('"'), safe="")

    status, _, body = https(hub, "DELETE", f"/devices/https-c2d/messages/deviceBound/{lock}", token)
    assert status == 204, body
    status, headers, _ = https(hub, "DELETE", f"/devices/https-c2d/messages/deviceBound/{lock}", token)
    assert status == 404, "a settled lock token is unknown"

    deadline = time.monotonic() + 10
    records = []
    while time.monotonic() < deadline:
        records += cli(hub, "c2d", "feedback") or []
        if any(r["deviceId"] == "https-c2d" for r in records):
            break
        time.sleep(0.2)
    mine = [r for r in records if r["deviceId"] == "https-c2d"]
    assert [r["statusCode"] for r in mine] == ["Success"], records
    status, _, _ = https(hub, "GET", "/devices/https-c2d/messages/deviceBound", token)
    assert status == 204
