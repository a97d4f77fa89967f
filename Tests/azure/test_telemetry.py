"""Device-to-cloud telemetry with azure-iot-device 2.14 (SAS and X.509, MQTT over TLS and over WebSockets),
watched through the broker's topic space by an MQTT 5 client, which sees the hub's stamps as user properties."""
from __future__ import annotations

import json
import queue
import subprocess
import time

import paho.mqtt.client as paho
import pytest
from azure.iot.device import IoTHubDeviceClient, Message, X509
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


class Watcher:
    """An anonymous MQTT 5 client on the plain listener subscribed to every device's telemetry."""

    def __init__(self, hub, topic_filter="devices/+/messages/events/#"):
        self.messages: queue.Queue = queue.Queue()
        self.client = paho.Client(client_id=f"watcher-{time.monotonic_ns()}", protocol=paho.MQTTv5)
        subscribed = queue.Queue()
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_subscribe = lambda c, u, mid, codes, props: subscribed.put(codes)
        self.client.connect("127.0.0.1", hub.process.mqtt_port)
        self.client.loop_start()
        self.client.subscribe(topic_filter, qos=1)
        subscribed.get(timeout=10)

    def next(self, timeout=10):
        return self.messages.get(timeout=timeout)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def user_properties(message) -> dict:
    return dict(getattr(message.properties, "UserProperty", []) or [])


@pytest.mark.parametrize("websockets", [False, True], ids=["mqtts", "websockets"])
def test_sas_device_telemetry_with_properties(hub, websockets):
    device_id = f"tel-sas-{'ws' if websockets else 'tls'}"
    key = hub.create_sas_device(device_id)
    watcher = Watcher(hub)
    device = hub.device_client(device_id, key, websockets=websockets)
    device.connect()
    try:
        message = Message(json.dumps({"temp": 21.5}), message_id="m 1", content_encoding="utf-8",
                          content_type="application/json")
        message.correlation_id = "corr/1"
        message.custom_properties["alert"] = "hi/there & more"
        message.custom_properties["level"] = "3"
        device.send_message(message)
        seen = watcher.next()
        assert seen.topic.startswith(f"devices/{device_id}/messages/events/")
        assert json.loads(seen.payload) == {"temp": 21.5}
        props = user_properties(seen)
        assert props["iothub-connection-device-id"] == device_id
        assert json.loads(props["iothub-connection-auth-method"])["type"] == "sas"
        assert props["message-id"] == "m 1" and props["correlation-id"] == "corr/1"
        assert props["content-type"] == "application/json" and props["content-encoding"] == "utf-8"
        assert props["alert"] == "hi/there & more" and props["level"] == "3"
        assert props["iothub-message-source"] == "Telemetry" and props["iothub-enqueuedtime"].endswith("Z")
        assert not seen.retain
    finally:
        device.shutdown()
        watcher.close()


def test_x509_device_telemetry(hub, tmp_path):
    key, cert = tmp_path / "dev.key", tmp_path / "dev.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=tel-x509"],
                   check=True, capture_output=True, timeout=30)
    fingerprint = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha1"],
                                 check=True, capture_output=True, text=True).stdout.split("=", 1)[1].strip().replace(":", "")
    hub.registry_manager().create_device_with_x509("tel-x509", fingerprint, fingerprint, "enabled")
    watcher = Watcher(hub, "devices/tel-x509/messages/events/#")
    device = IoTHubDeviceClient.create_from_x509_certificate(
        x509=X509(str(cert), str(key)), hostname="localhost", device_id="tel-x509",
        server_verification_cert=hub.ca_pem, connection_retry=False)
    device.connect()
    try:
        device.send_message("plain text body")
        seen = watcher.next()
        assert seen.payload == b"plain text body"
        props = user_properties(seen)
        assert props["iothub-connection-device-id"] == "tel-x509"
        assert json.loads(props["iothub-connection-auth-method"])["type"] == "x509Certificate"
    finally:
        device.shutdown()
        watcher.close()


def test_module_client_telemetry_twin_and_method(hub):
    from azure.iot.device import IoTHubModuleClient, MethodResponse
    from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties
    import base64
    import secrets
    rm = hub.registry_manager()
    hub.create_sas_device("mod-host")
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    rm.create_module_with_sas("mod-host", "camera", None, key, key)
    watcher = Watcher(hub, "devices/mod-host/modules/camera/messages/events/#")
    module = IoTHubModuleClient.create_from_connection_string(
        f"HostName=localhost;DeviceId=mod-host;ModuleId=camera;SharedAccessKey={key}",
        server_verification_cert=hub.ca_pem, connection_retry=False)
    patches: queue.Queue = queue.Queue()
    module.on_twin_desired_properties_patch_received = patches.put
    module.on_method_request_received = lambda request: module.send_method_response(
        MethodResponse.create_from_method_request(request, 200, {"module": True}))
    module.connect()
    try:
        module.send_message(Message("frame", content_type="text/plain"))
        seen = watcher.next()
        props = user_properties(seen)
        assert props["iothub-connection-device-id"] == "mod-host" and props["iothub-connection-module-id"] == "camera"
        module.patch_twin_reported_properties({"fps": 30})
        assert rm.get_module_twin("mod-host", "camera").properties.reported["fps"] == 30
        rm.update_module_twin("mod-host", "camera", Twin(properties=TwinProperties(desired={"fps": 15})), "*")
        while True:
            patch = patches.get(timeout=10)
            if "fps" in patch:
                break
        assert patch["fps"] == 15
        answer = rm.invoke_device_module_method("mod-host", "camera", CloudToDeviceMethod(method_name="snap", payload={}))
        assert answer.status == 200 and answer.payload == {"module": True}
        from azure.iot.hub.models import QuerySpecification
        modules = rm.query_iot_hub(QuerySpecification(query="SELECT * FROM devices.modules WHERE properties.reported.fps = 30"))
        assert [(t.device_id, t.module_id) for t in modules.items] == [("mod-host", "camera")]
    finally:
        module.shutdown()
        watcher.close()
