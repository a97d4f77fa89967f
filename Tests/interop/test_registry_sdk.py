"""The service REST API against the real Azure service SDK: azure-iot-hub 2.7.0 (msrest), over HTTPS.

The hub is the real `meridian` binary, started with `--owner-key`, reached with the SDK's own
connection string `HostName=localhost:<https port>;SharedAccessKeyName=iothubowner;SharedAccessKey=…`
and the development CA through REQUESTS_CA_BUNDLE (protocol reference §9.3).
"""
from __future__ import annotations

import base64
import os
import secrets

import pytest
from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import AuthenticationMechanism, ExportImportDevice, SymmetricKey
from msrest.exceptions import HttpOperationError

from brokers import BrokerProcess

pytestmark = pytest.mark.meridian_only


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def status_of(excinfo) -> int:
    return excinfo.value.response.status_code


@pytest.fixture(scope="module")
def hub(tmp_path_factory, pki):
    owner_key = new_key()
    b = BrokerProcess(tmp_path_factory.mktemp("registry-sdk"), pki=pki, extra_args=["--owner-key", owner_key]).start()
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(b.ca_path)
    b.owner_key = owner_key
    yield b
    if previous is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous
    b.stop()


def manager(hub, key: str | None = None, policy: str = "iothubowner") -> IoTHubRegistryManager:
    return IoTHubRegistryManager.from_connection_string(
        f"HostName=localhost:{hub.https_port};SharedAccessKeyName={policy};SharedAccessKey={key or hub.owner_key}")


def test_sas_device_lifecycle(hub):
    rm = manager(hub)
    primary, secondary = new_key(), new_key()
    created = rm.create_device_with_sas("sdk-dev1", primary, secondary, "enabled")
    assert created.device_id == "sdk-dev1"
    assert created.authentication.type == "sas"
    assert created.authentication.symmetric_key.primary_key == primary
    assert created.connection_state == "Disconnected"
    assert created.etag

    got = rm.get_device("sdk-dev1")
    assert got.etag == created.etag and got.generation_id == created.generation_id

    updated = rm.update_device_with_sas("sdk-dev1", created.etag, primary, secondary, "disabled", status_reason="test")
    assert updated.status == "disabled" and updated.status_reason == "test"
    assert updated.etag != created.etag

    # Stale etag: 412.
    with pytest.raises(HttpOperationError) as stale:
        rm.update_device_with_sas("sdk-dev1", created.etag, primary, secondary, "enabled")
    assert status_of(stale) == 412
    # Duplicate create: 409.
    with pytest.raises(HttpOperationError) as duplicate:
        rm.create_device_with_sas("sdk-dev1", primary, secondary, "enabled")
    assert status_of(duplicate) == 409

    rm.delete_device("sdk-dev1")  # If-Match: "*"
    with pytest.raises(HttpOperationError) as gone:
        rm.get_device("sdk-dev1")
    assert status_of(gone) == 404


def test_generated_keys_x509_and_ca_devices(hub):
    rm = manager(hub)
    generated = rm.create_device_with_sas("sdk-gen", None, None, "enabled")
    assert base64.b64decode(generated.authentication.symmetric_key.primary_key)
    thumb1, thumb2 = "A" * 40, "b" * 64
    x509 = rm.create_device_with_x509("sdk-x509", thumb1, thumb2, "enabled")
    assert x509.authentication.type == "selfSigned"
    assert x509.authentication.x509_thumbprint.primary_thumbprint.upper() == thumb1
    updated = rm.update_device_with_x509("sdk-x509", x509.etag, thumb2, None, "enabled")
    assert updated.authentication.x509_thumbprint.primary_thumbprint.upper() == thumb2.upper()
    ca = rm.create_device_with_certificate_authority("sdk-ca", "enabled", iot_edge=True)
    assert ca.authentication.type == "certificateAuthority" and ca.capabilities.iot_edge is True
    listed = {d.device_id for d in rm.get_devices(max_number_of_devices=100)}
    assert {"sdk-gen", "sdk-x509", "sdk-ca"} <= listed
    assert len(rm.get_devices(max_number_of_devices=1)) == 1
    for device_id in ("sdk-gen", "sdk-x509", "sdk-ca"):
        rm.delete_device(device_id)


def test_bulk_create_update_delete(hub):
    rm = manager(hub)

    def entry(device_id, mode, etag=None):
        auth = AuthenticationMechanism(type="sas", symmetric_key=SymmetricKey(primary_key=new_key(), secondary_key=new_key()))
        return ExportImportDevice(id=device_id, import_mode=mode, status="enabled", authentication=auth, e_tag=etag)

    result = rm.bulk_create_or_update_devices([entry("sdk-bulk1", "create"), entry("sdk-bulk2", "create")])
    assert result.is_successful is True and not result.errors
    assert rm.get_device("sdk-bulk2").status == "enabled"

    # A failed entry: HTTP 400 with the same result shape, which the SDK deserializes too.
    failed = rm.bulk_create_or_update_devices([entry("sdk-bulk1", "create")])
    assert failed.is_successful is False
    assert failed.errors[0].device_id == "sdk-bulk1" and failed.errors[0].error_code == "DeviceAlreadyExists"

    result = rm.bulk_create_or_update_devices([entry("sdk-bulk1", "delete"), entry("sdk-bulk2", "delete")])
    assert result.is_successful is True


def test_statistics(hub):
    rm = manager(hub)
    rm.create_device_with_sas("sdk-stats-on", None, None, "enabled")
    rm.create_device_with_sas("sdk-stats-off", None, None, "disabled")
    stats = rm.get_device_registry_statistics()
    assert stats.total_device_count >= 2
    assert stats.enabled_device_count >= 1 and stats.disabled_device_count >= 1
    assert stats.total_device_count == stats.enabled_device_count + stats.disabled_device_count
    assert rm.get_service_statistics().connected_device_count >= 0
    rm.delete_device("sdk-stats-on")
    rm.delete_device("sdk-stats-off")


def test_modules(hub):
    rm = manager(hub)
    rm.create_device_with_sas("sdk-moddev", None, None, "enabled")
    key = new_key()
    module = rm.create_module_with_sas("sdk-moddev", "mod1", None, key, key)
    assert module.module_id == "mod1" and module.device_id == "sdk-moddev"
    assert module.authentication.symmetric_key.primary_key == key
    got = rm.get_module("sdk-moddev", "mod1")
    assert got.etag == module.etag
    updated = rm.update_module_with_sas("sdk-moddev", "mod1", "someone", module.etag, new_key(), key)
    assert updated.managed_by == "someone"
    rm.create_module_with_x509("sdk-moddev", "mod2", None, "C" * 40, None)
    assert sorted(m.module_id for m in rm.get_modules("sdk-moddev")) == ["mod1", "mod2"]
    with pytest.raises(HttpOperationError) as stale:
        rm.delete_module("sdk-moddev", "mod1", etag=module.etag)
    assert status_of(stale) == 412
    rm.delete_module("sdk-moddev", "mod1")
    with pytest.raises(HttpOperationError) as gone:
        rm.get_module("sdk-moddev", "mod1")
    assert status_of(gone) == 404
    rm.delete_device("sdk-moddev")


def test_wrong_key_is_401_and_read_only_policy_cannot_write(hub):
    with pytest.raises(HttpOperationError) as wrong:
        manager(hub, key=new_key()).get_devices()
    assert status_of(wrong) == 401
    assert wrong.value.response.headers.get("iothub-errorcode") == "IotHubUnauthorizedAccess"
    # The error body is Azure's, and it never echoes the signature.
    assert "Message" in wrong.value.response.json()
    assert "sig=" not in wrong.value.response.text
