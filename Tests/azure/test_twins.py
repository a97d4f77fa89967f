"""Device twins and twin queries with the real SDKs: azure-iot-device reads its twin, reports properties and
receives desired patches; azure-iot-hub reads, patches and replaces twins and queries them with paging."""
from __future__ import annotations

import json
import os
import queue
import subprocess

import pytest
from azure.iot.hub.models import QuerySpecification, Twin, TwinProperties
from msrest.exceptions import HttpOperationError


def test_device_reads_twin_and_reports_properties(hub):
    key = hub.create_sas_device("twin-1")
    device = hub.device_client("twin-1", key)
    device.connect()
    try:
        twin = device.get_twin()
        assert twin["desired"]["$version"] >= 1 and "$version" in twin["reported"]
        device.patch_twin_reported_properties({"battery": 0.81, "fw": {"version": "1.2.0"}})
        device.patch_twin_reported_properties({"fw": {"channel": "beta"}})
        service_twin = hub.registry_manager().get_twin("twin-1")
        reported = service_twin.properties.reported
        assert reported["battery"] == 0.81
        assert reported["fw"] == {"version": "1.2.0", "channel": "beta"}
        assert reported["$version"] == twin["reported"]["$version"] + 2
        assert "$metadata" in reported and "battery" in reported["$metadata"]
        # null deletes
        device.patch_twin_reported_properties({"battery": None})
        assert "battery" not in hub.registry_manager().get_twin("twin-1").properties.reported
    finally:
        device.shutdown()


def cli(hub, *args):
    """`meridian <args> --json` against the hub; the parsed output."""
    cmd = [os.environ["MERIDIAN_BIN"], *args, "--hub", f"https://127.0.0.1:{hub.process.https_port}",
           "--connection-string", hub.service_connection_string, "--ca", str(hub.process.ca_path), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def next_patch_with(patches: queue.Queue, key: str) -> dict:
    """The next desired patch carrying `key`. On connect the SDK itself reads the twin and reports the
    current desired properties to the handler (ensure_desired_properties); those arrive first."""
    while True:
        patch = patches.get(timeout=10)
        if key in patch:
            return patch


def test_desired_patches_reach_the_device(hub):
    key = hub.create_sas_device("twin-2")
    device = hub.device_client("twin-2", key)
    patches: queue.Queue = queue.Queue()
    device.on_twin_desired_properties_patch_received = patches.put
    device.connect()
    try:
        rm = hub.registry_manager()
        before = rm.get_twin("twin-2")
        updated = rm.update_twin("twin-2", Twin(properties=TwinProperties(desired={"fan": True, "speed": 3})), before.etag)
        assert updated.properties.desired["fan"] is True
        assert updated.etag != before.etag
        patch = next_patch_with(patches, "fan")
        assert patch["fan"] is True and patch["speed"] == 3
        assert patch["$version"] == updated.properties.desired["$version"]
        # The device's next GET sees the same version.
        assert device.get_twin()["desired"]["$version"] == patch["$version"]
        # A stale etag is refused with 412.
        with pytest.raises(HttpOperationError) as stale:
            rm.update_twin("twin-2", Twin(properties=TwinProperties(desired={"fan": False})), before.etag)
        assert stale.value.response.status_code == 412
        # Tags are for the service only: they change the twin, not the device's view.
        tagged = rm.update_twin("twin-2", Twin(tags={"fleet": "north"}), "*")
        assert tagged.tags == {"fleet": "north"}
        assert "tags" not in device.get_twin()
        # replace_twin: tags and desired are replaced, reported kept.
        replaced = rm.replace_twin("twin-2", Twin(tags={"fleet": "south"}, properties=TwinProperties(desired={"mode": "eco"})))
        assert replaced.tags == {"fleet": "south"}
        assert "fan" not in replaced.properties.desired and replaced.properties.desired["mode"] == "eco"
        full = next_patch_with(patches, "mode")
        assert full["mode"] == "eco"
    finally:
        device.shutdown()


def test_query_iot_hub_with_paging(hub):
    rm = hub.registry_manager()
    for n in range(5):
        hub.create_sas_device(f"q-dev-{n}")
        rm.update_twin(f"q-dev-{n}", Twin(tags={"fleet": "north" if n % 2 == 0 else "south", "n": n}), "*")
    spec = QuerySpecification(query="SELECT * FROM devices WHERE tags.fleet = 'north'")
    first = rm.query_iot_hub(spec, None, 2)
    assert len(first.items) == 2 and first.continuation_token
    ids = [t.device_id for t in first.items]
    token = first.continuation_token
    while token:
        page = rm.query_iot_hub(spec, token, 2)
        ids += [t.device_id for t in page.items]
        token = page.continuation_token
    assert sorted(ids) == ["q-dev-0", "q-dev-2", "q-dev-4"]

    # Aggregates come back as raw rows; the Python SDK only deserializes twins ("returns information about
    # device twins only"), so the rows are checked through `meridian query`.
    counted = rm.query_iot_hub(QuerySpecification(
        query="SELECT tags.fleet AS fleet, COUNT() AS n FROM devices WHERE STARTS_WITH(deviceId, 'q-dev-') GROUP BY tags.fleet"))
    assert counted.type == "raw" and counted.continuation_token is None
    rows = cli(hub, "query", "SELECT tags.fleet AS fleet, COUNT() AS n FROM devices WHERE IS_DEFINED(tags.fleet) "
               "AND STARTS_WITH(deviceId, 'q-dev-') GROUP BY tags.fleet")
    assert sorted((row["fleet"], row["n"]) for row in rows) == [("north", 3), ("south", 2)]
    paged = cli(hub, "query", "SELECT deviceId FROM devices WHERE STARTS_WITH(deviceId, 'q-dev-')", "--page-size", "2")
    assert [row["deviceId"] for row in paged] == [f"q-dev-{n}" for n in range(5)]

    with pytest.raises(HttpOperationError) as bad:
        rm.query_iot_hub(QuerySpecification(query="SELECT * FROM devices WHERE"))
    assert bad.value.response.status_code == 400
    assert "line 1" in bad.value.response.text or "column" in bad.value.response.text


def test_cli_twin_show_and_update(hub):
    hub.create_sas_device("twin-cli")
    updated = cli(hub, "twin", "update", "twin-cli", "--tags", '{"site":"depot-7"}', "--desired", '{"mode":"eco"}')
    assert updated["tags"] == {"site": "depot-7"} and updated["properties"]["desired"]["mode"] == "eco"
    shown = cli(hub, "twin", "show", "twin-cli")
    assert shown["etag"] == updated["etag"] and shown["version"] == updated["version"]
    cmd = [os.environ["MERIDIAN_BIN"], "twin", "update", "twin-cli", "--desired", '{"mode":"x"}', "--etag", "stale",
           "--hub", f"https://127.0.0.1:{hub.process.https_port}", "--connection-string", hub.service_connection_string,
           "--ca", str(hub.process.ca_path)]
    stale = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert stale.returncode != 0 and "PreconditionFailed" in stale.stderr
