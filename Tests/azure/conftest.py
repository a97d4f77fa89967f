"""Fixtures for the Azure SDK suite: one hub per module (the real `meridian` binary on free loopback
ports, with a fixed owner key), SDK clients aimed at it, and devices created through the service SDK.

The device SDK dials 8883 (MQTT) and 443 (MQTT over WebSockets) without a way to change them
(protocol reference §9.2), so `paho.mqtt.client.Client.connect` is wrapped to map those two ports to
the hub's test ports — the recipe of §9.3 step 5. Nothing else in the SDKs is touched.
"""
from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

import paho.mqtt.client as paho
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "interop"))
from brokers import BrokerProcess  # noqa: E402

_PORT_MAP: dict[int, int] = {}
_original_connect = paho.Client.connect


def _mapped_connect(self, host, port=1883, keepalive=60, *args, **kwargs):
    return _original_connect(self, host, _PORT_MAP.get(int(port), int(port)), keepalive, *args, **kwargs)


paho.Client.connect = _mapped_connect


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Hub:
    """A running hub and the connection strings to reach it."""

    def __init__(self, process: BrokerProcess, owner_key: str):
        self.process = process
        self.owner_key = owner_key
        self.ca_pem = Path(process.ca_path).read_text()

    @property
    def service_connection_string(self) -> str:
        return (f"HostName=localhost:{self.process.https_port};SharedAccessKeyName=iothubowner;"
                f"SharedAccessKey={self.owner_key}")

    def device_connection_string(self, device_id: str, key: str) -> str:
        return f"HostName=localhost;DeviceId={device_id};SharedAccessKey={key}"

    def registry_manager(self):
        from azure.iot.hub import IoTHubRegistryManager
        return IoTHubRegistryManager.from_connection_string(self.service_connection_string)

    def create_sas_device(self, device_id: str) -> str:
        """Creates a SAS device through the service SDK; returns its primary key."""
        key = new_key()
        self.registry_manager().create_device_with_sas(device_id, key, new_key(), "enabled")
        return key

    def device_client(self, device_id: str, key: str, **kwargs):
        from azure.iot.device import IoTHubDeviceClient
        return IoTHubDeviceClient.create_from_connection_string(
            self.device_connection_string(device_id, key), server_verification_cert=self.ca_pem,
            keep_alive=30, connection_retry=False, **kwargs)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    owner_key = new_key()
    process = BrokerProcess(tmp_path_factory.mktemp("azure-hub"), listeners=("mqtt", "mqtts", "https"),
                            extra_args=["--owner-key", owner_key]).start()
    previous_ports = dict(_PORT_MAP)
    _PORT_MAP.update({8883: process.mqtts_port, 443: process.https_port})
    previous_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(process.ca_path)
    yield Hub(process, owner_key)
    _PORT_MAP.clear()
    _PORT_MAP.update(previous_ports)
    if previous_bundle is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous_bundle
    process.stop()
