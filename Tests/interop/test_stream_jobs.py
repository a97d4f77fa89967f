"""Stream jobs running in the hub (issue 6), end to end: drones publish the reference scenario's status messages
over MQTT/TLS with SAS tokens; a job created with `meridian job sql create` raises an alarm and sends the drone a
cloud-to-device command it receives on its MQTT subscription; the alarm is listed, acknowledged and cleared with
`meridian alarm`; the job's numbers show in `meridian job sql show`; a bad query is refused with its position; a
hub restart neither loses nor repeats a window."""
from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.parse

import pytest

from brokers import BrokerProcess
from test_device_security import OWNER_KEY, Device, cli, cli_args, sas_token
from test_durability import wait_for as _wait_for

pytestmark = pytest.mark.meridian_only


def wait_for(predicate, timeout=15.0):
    return _wait_for(predicate, timeout)


@pytest.fixture
def hub(tmp_path):
    b = BrokerProcess(tmp_path / "hub", listeners=("mqtts", "https"), extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


def drone(hub, device_id, key=None):
    if key is None:
        key = cli(hub, "device", "create", device_id)["authentication"]["symmetricKey"]["primaryKey"]
    d = Device(hub, device_id, sas_token(f"localhost/devices/{device_id}", key, int(time.time()) + 3600))
    d.commands = []
    d.got_command = threading.Event()

    def on_message(client, userdata, message):
        d.commands.append((message.topic, message.payload))
        d.got_command.set()

    d.c.on_message = on_message
    assert d.connect() == 0
    d.c.subscribe(f"devices/{device_id}/messages/devicebound/#", qos=1)
    d.key = key
    return d


def scenario_time(second: int) -> str:
    """The scenario's occurrenceUtcTime format, for 10:00:00 + second today."""
    t = time.gmtime()
    return f"{t.tm_mon:02d}/{t.tm_mday:02d}/{t.tm_year} 10:{second // 60:02d}:{second % 60:02d} +00:00"


def status(d, device_id, second, battery, temperature=70.0):
    body = {"occurrenceUtcTime": scenario_time(second), "deviceId": device_id, "sensorType": "drone-state-sensor;v1",
            "deliveryId": "6b8e4c2e-7d1c-4f5c-9a55-0f0e1b2c3d4e", "temperature": f"{temperature:.2f}",
            "batteryStatus": "low" if battery < 0.2 else "ok", "batteryLevel": f"{battery:.2f}"}
    bag = urllib.parse.urlencode({"$.ct": "application/json", "$.ce": "utf-8"})
    info = d.c.publish(f"devices/{device_id}/messages/events/{bag}", json.dumps(body), qos=1)
    info.wait_for_publish(10)
    assert info.is_published()



def test_a_job_raises_an_alarm_and_commands_the_drone(hub, tmp_path):
    query = tmp_path / "low-battery.sql"
    query.write_text("""
        SELECT deviceId, CAST(batteryLevel AS float) AS level, 'critical' AS severity,
               CONCAT('battery at ', batteryLevel) AS message
        INTO alarms FROM events TIMESTAMP BY occurrenceUtcTime
        WHERE sensorType = 'drone-state-sensor;v1' AND CAST(batteryLevel AS float) < 0.2;

        SELECT deviceId, 'returnToBase' AS command INTO rtb FROM events TIMESTAMP BY occurrenceUtcTime
        WHERE sensorType = 'drone-state-sensor;v1' AND CAST(batteryLevel AS float) < 0.2
    """)
    job = cli(hub, "job", "sql", "create", "low-battery", "--query", str(query), "--output", "alarms=alarm,alarmType=lowBattery",
              "--output", "rtb=c2d")
    assert job["enabled"] is True and job["outputs"]["rtb"]["type"] == "c2d"
    assert wait_for(lambda: cli(hub, "job", "sql", "show", "low-battery")["status"]["state"] == "running")
    d1, d2 = drone(hub, "drone-01"), drone(hub, "drone-02")
    try:
        status(d1, "drone-01", 1, 0.80)
        status(d2, "drone-02", 2, 0.55)
        status(d1, "drone-01", 3, 0.15)
        status(d1, "drone-01", 4, 0.12)  # a repeat: counts on the same active alarm
        # The command reaches the drone over MQTT.
        assert d1.got_command.wait(15), cli(hub, "job", "sql", "show", "low-battery")
        topic, payload = d1.commands[0]
        assert topic.startswith("devices/drone-01/messages/devicebound/")
        assert json.loads(payload) == {"deviceId": "drone-01", "command": "returnToBase"}
        assert "job=low-battery" in urllib.parse.unquote(topic)
        assert not d2.commands
    finally:
        d1.close()
        d2.close()

    assert wait_for(lambda: any(a["count"] == 2 for a in cli(hub, "alarm", "list")))
    alarms = cli(hub, "alarm", "list", "--status", "active")
    assert len(alarms) == 1, alarms
    alarm = alarms[0]
    assert (alarm["deviceId"], alarm["severity"], alarm["type"], alarm["source"]) == ("drone-01", "critical", "lowBattery", "job:low-battery")
    assert alarm["status"] == "active-unacknowledged" and alarm["message"] == "battery at 0.12"
    assert alarm["details"]["level"] == 0.12
    assert cli(hub, "alarm", "counts")["critical"] == 1
    acked = cli(hub, "alarm", "ack", str(alarm["id"]))
    assert acked["status"] == "active-acknowledged"
    cleared = cli(hub, "alarm", "clear", str(alarm["id"]))
    assert cleared["status"] == "cleared-acknowledged" and cleared["clearedTime"]
    assert cli(hub, "alarm", "counts")["critical"] == 0
    def counted():
        shown = cli(hub, "job", "sql", "show", "low-battery")["status"]
        return shown["eventsIn"] == 4 and shown["rowsOut"] == {"alarms": 2, "rtb": 2} and shown["errors"] == 0
    assert wait_for(counted), cli(hub, "job", "sql", "show", "low-battery")["status"]
    p = cli(hub, "alarm", "show", "999999", check=False)
    assert p.returncode != 0 and "no alarm 999999" in p.stderr


def test_bad_jobs_are_refused_with_the_position(hub, tmp_path):
    query = tmp_path / "bad.sql"
    query.write_text("SELECT deviceId\nINTO alarms\nFROM events\nWHERE CAST(batteryLevel AS float) <")
    p = cli(hub, "job", "sql", "create", "bad", "--query", str(query), check=False)
    assert p.returncode != 0 and "line 4, column" in p.stderr, p.stderr
    query.write_text("SELECT deviceId INTO alarms FROM events")
    p = cli(hub, "job", "sql", "create", "bad", "--query", str(query), "--output", "hook=webhook,url=http://127.0.0.1:1/x", check=False)
    assert p.returncode != 0 and "not an INTO target" in p.stderr, p.stderr
    assert cli(hub, "job", "sql", "list") == []


def test_windows_survive_a_hub_restart_once(hub, tmp_path):
    query = tmp_path / "rollup.sql"
    query.write_text("""
        SELECT deviceId, System.Timestamp() AS windowEnd, COUNT(*) AS n
        INTO rollups FROM events TIMESTAMP BY occurrenceUtcTime
        GROUP BY deviceId, TumblingWindow(second, 10)
    """)
    cli(hub, "job", "sql", "create", "rollup", "--query", str(query), "--output", "rollups=fileStorage")
    d = drone(hub, "drone-07")
    try:
        for second in range(1, 25):
            status(d, "drone-07", second, 0.9)
    finally:
        d.close()
    out = hub.data_dir / "jobs" / "rollup" / "rollups"

    def rows():
        return [json.loads(line) for f in sorted(out.glob("*/*/*/*/*/*.jsonl")) for line in f.read_text().splitlines()]
    assert wait_for(lambda: len(rows()) == 2), rows()
    hub.restart()
    key = cli(hub, "device", "show", "drone-07")["authentication"]["symmetricKey"]["primaryKey"]
    d = drone(hub, "drone-07", key)
    try:
        for second in range(25, 42):
            status(d, "drone-07", second, 0.9)
    finally:
        d.close()
    assert wait_for(lambda: len(rows()) == 4), rows()
    time.sleep(0.5)
    got = [(r["windowEnd"][-13:-5], r["n"]) for r in rows()]
    assert got == [("10:00:10", 10), ("10:00:20", 10), ("10:00:30", 10), ("10:00:40", 10)], got
    shown = cli(hub, "job", "sql", "show", "rollup")["status"]
    assert shown["suppressedOnReplay"] >= 2, shown


def test_a_rule_raises_an_alarm_and_calls_the_drone_back(hub):
    """The Remote Monitoring shape: if a drone of type X is too hot, a critical alarm and a command."""
    created = cli(hub, "rule", "create", "overheat", "--field", "temperature", "--operator", ">", "--threshold", "90",
                  "--where", "sensorType = 'drone-state-sensor;v1'", "--device-tag", "type=drone", "--severity", "critical",
                  "--message", "engine too hot", "--c2d", "returnToBase")
    assert created["job"] == "rule-overheat" and "JOIN twins" in created["query"], created
    assert wait_for(lambda: cli(hub, "rule", "show", "overheat")["status"]["state"] == "running")
    hot, other = drone(hub, "drone-hot"), drone(hub, "balloon-1")
    cli(hub, "twin", "update", "drone-hot", "--tags", '{"type": "drone"}')
    cli(hub, "twin", "update", "balloon-1", "--tags", '{"type": "balloon"}')
    time.sleep(0.6)  # the jobs' twin table follows changes within a quarter of a second
    try:
        status(hot, "drone-hot", 1, 0.9, temperature=80.0)
        status(other, "balloon-1", 2, 0.9, temperature=99.0)   # not a drone: no alarm
        status(hot, "drone-hot", 3, 0.9, temperature=95.5)
        assert hot.got_command.wait(15), cli(hub, "rule", "show", "overheat")
        command = json.loads(hot.commands[0][1])
        assert command == {"deviceId": "drone-hot", "command": "returnToBase", "rule": "overheat", "value": 95.5}
        assert not other.commands
    finally:
        hot.close()
        other.close()
    alarms = cli(hub, "alarm", "list", "--source", "job:rule-overheat")
    assert [(a["deviceId"], a["severity"], a["type"], a["message"]) for a in alarms] == \
        [("drone-hot", "critical", "overheat", "engine too hot")], alarms
    assert [r["name"] for r in cli(hub, "rule", "list")] == ["overheat"]
    p = cli(hub, "rule", "create", "bad", "--field", "temp; DROP", "--operator", ">", "--threshold", "1", check=False)
    assert p.returncode != 0 and "field" in p.stderr, p.stderr
    cli(hub, "rule", "delete", "overheat")
    assert cli(hub, "rule", "list") == [] and cli(hub, "job", "sql", "list") == []


def test_job_sql_test_replays_a_time_range_of_the_stored_log(hub, tmp_path):
    d = drone(hub, "drone-r")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    try:
        for second, battery in [(1, 0.5), (2, 0.15), (3, 0.1), (4, 0.9)]:
            status(d, "drone-r", second, battery)
    finally:
        d.close()
    query = tmp_path / "low.sql"
    query.write_text("SELECT deviceId, CAST(batteryLevel AS float) AS level, IoTHub.ConnectionDeviceId AS sender INTO alarms "
                     "FROM events TIMESTAMP BY occurrenceUtcTime WHERE CAST(batteryLevel AS float) < 0.2")
    ended = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    cmd = cli_args(hub, "job", "sql", "test", "--query", str(query), "--from", started, "--to", ended)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert rows == [{"output": "alarms", "deviceId": "drone-r", "level": 0.15, "sender": "drone-r"},
                    {"output": "alarms", "deviceId": "drone-r", "level": 0.1, "sender": "drone-r"}], rows
    assert "4 events, 2 rows" in p.stderr, p.stderr
    p = subprocess.run(cmd[:6] + ["--to", ended], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "--input FILE or --from TIME" in p.stderr, p.stderr
