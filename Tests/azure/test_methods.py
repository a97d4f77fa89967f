"""Direct methods: azure-iot-hub's `invoke_device_method` reaching an azure-iot-device client over MQTT/TLS."""
from __future__ import annotations

import threading
import time

import pytest
from azure.iot.device import MethodResponse
from azure.iot.hub.models import CloudToDeviceMethod
from msrest.exceptions import HttpOperationError


def answer_methods(client, calls: list):
    def handler(request):
        calls.append((request.name, request.payload))
        if request.name == "slow":
            return  # never answers
        client.send_method_response(MethodResponse.create_from_method_request(
            request, 201, {"echo": request.payload, "name": request.name}))
    client.on_method_request_received = handler


@pytest.mark.parametrize("websockets", [False, True], ids=["mqtts", "websockets"])
def test_invoke_device_method_round_trip(hub, websockets):
    device_id = f"meth-1-{'ws' if websockets else 'tls'}"
    key = hub.create_sas_device(device_id)
    device = hub.device_client(device_id, key, websockets=websockets)
    calls: list = []
    answer_methods(device, calls)
    device.connect()
    try:
        rm = hub.registry_manager()
        result = rm.invoke_device_method(device_id, CloudToDeviceMethod(
            method_name="reboot", payload={"delay": 5}, response_timeout_in_seconds=10))
        assert result.status == 201
        assert result.payload == {"echo": {"delay": 5}, "name": "reboot"}
        assert calls == [("reboot", {"delay": 5})]
        # A payload of None reaches the device as the SDK sends it ("").
        result = rm.invoke_device_method(device_id, CloudToDeviceMethod(method_name="ping", response_timeout_in_seconds=10))
        assert result.status == 201 and result.payload["name"] == "ping"
    finally:
        device.shutdown()


def test_offline_device_is_404_and_silent_device_is_504(hub):
    key = hub.create_sas_device("meth-2")
    rm = hub.registry_manager()
    with pytest.raises(HttpOperationError) as offline:
        rm.invoke_device_method("meth-2", CloudToDeviceMethod(method_name="reboot", payload={}))
    assert offline.value.response.status_code == 404
    assert offline.value.response.headers.get("iothub-errorcode") == "DeviceNotOnline"

    device = hub.device_client("meth-2", key)
    calls: list = []
    answer_methods(device, calls)
    device.connect()
    try:
        started = time.monotonic()
        with pytest.raises(HttpOperationError) as silent:
            rm.invoke_device_method("meth-2", CloudToDeviceMethod(
                method_name="slow", payload={}, response_timeout_in_seconds=5))
        assert silent.value.response.status_code == 504
        assert 4.5 <= time.monotonic() - started < 15
        assert calls and calls[0][0] == "slow"
    finally:
        device.shutdown()


def test_connect_timeout_waits_for_the_device(hub):
    key = hub.create_sas_device("meth-3")
    device = hub.device_client("meth-3", key)
    calls: list = []
    answer_methods(device, calls)
    connector = threading.Timer(1.0, device.connect)
    connector.start()
    try:
        result = hub.registry_manager().invoke_device_method("meth-3", CloudToDeviceMethod(
            method_name="wake", payload=None, response_timeout_in_seconds=10, connect_timeout_in_seconds=15))
        assert result.status == 201
    finally:
        connector.join()
        device.shutdown()


def test_unknown_device_is_404_device_not_found(hub):
    with pytest.raises(HttpOperationError) as missing:
        hub.registry_manager().invoke_device_method("no-such-device", CloudToDeviceMethod(method_name="x", payload={}))
    assert missing.value.response.status_code == 404
    assert missing.value.response.headers.get("iothub-errorcode") == "DeviceNotFound"


def test_cli_method_invoke(hub):
    import json
    import os
    import subprocess
    key = hub.create_sas_device("meth-cli")
    device = hub.device_client("meth-cli", key)
    calls: list = []
    answer_methods(device, calls)
    device.connect()
    try:
        cmd = [os.environ["MERIDIAN_BIN"], "method", "invoke", "meth-cli", "reboot", "--payload", '{"delay":2}',
               "--timeout", "10", "--hub", f"https://127.0.0.1:{hub.process.https_port}",
               "--connection-string", hub.service_connection_string, "--ca", str(hub.process.ca_path), "--json"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"status": 201, "payload": {"echo": {"delay": 2}, "name": "reboot"}}
        offline = subprocess.run(cmd[:3] + ["nobody-here"] + cmd[4:], capture_output=True, text=True, timeout=60)
        assert offline.returncode != 0 and "DeviceNotFound" in offline.stderr
    finally:
        device.shutdown()
