"""`meridian job sql test` (issue 6): the real binary runs a drone-scenario query over a JSON-lines file of events and
prints every output row; the same input gives the same output; bad queries and bad lines are refused with their
position and exit code 65."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.meridian_only

ROLLUPS = """
SELECT deviceId, System.Timestamp() AS windowEnd,
       AVG(CAST(velocity AS float)) AS avgVelocity, MAX(CAST(acceleration AS float)) AS maxAcceleration,
       COUNT(*) AS messages
INTO rollups
FROM events TIMESTAMP BY occurrenceUtcTime OVER deviceId
WHERE sensorType = 'drone-event-sensor;v1'
GROUP BY deviceId, TumblingWindow(second, 30);
"""


def flight(device, second, velocity):
    minute, second = divmod(second, 60)
    return {"deviceId": device, "sensorType": "drone-event-sensor;v1",
            "occurrenceUtcTime": f"04/17/2018 20:{25 + minute:02d}:{second:02d} +00:00",
            "velocity": f"{velocity:.2f}", "acceleration": "2.52", "position": "47.476075|-122.192026|124.38"}


def sql_test(tmp_path, query, events, *extra):
    (tmp_path / "q.sql").write_text(query)
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" if isinstance(e, dict) else e for e in events))
    return subprocess.run([os.environ["MERIDIAN_BIN"], "job", "sql", "test", "--query", str(tmp_path / "q.sql"),
                           "--input", str(tmp_path / "events.jsonl"), *extra],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_rollups_over_a_file_of_drone_events(tmp_path):
    # Two drones, flight data every 5 s for 70 s, interleaved; drone b reports from a clock 2 minutes behind.
    events = []
    for s in range(0, 70, 5):
        events.append(flight("Simulated.drone-01.1", s, 50 + s / 5))
        events.append(flight("Simulated.drone-01.2", s - 120 if s >= 120 else s, 30))
    events.append({"deviceId": "Simulated.drone-01.1", "sensorType": "drone-state-sensor;v1",
                   "occurrenceUtcTime": "04/17/2018 20:25:03 +00:00", "temperature": "74.74"})
    p = sql_test(tmp_path, ROLLUPS, events, "--json")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert {r["output"] for r in rows} == {"rollups"}
    one = [r for r in rows if r["deviceId"] == "Simulated.drone-01.1"]
    # (start, end] windows: 20:25:00 alone, then (00, 30], (30, 60], (60, 90].
    assert [r["windowEnd"] for r in one] == ["2018-04-17T20:25:00.000Z", "2018-04-17T20:25:30.000Z",
                                              "2018-04-17T20:26:00.000Z", "2018-04-17T20:26:30.000Z"]
    assert [r["messages"] for r in one] == [1, 6, 6, 1]
    assert one[1]["avgVelocity"] == pytest.approx(sum(50 + s / 5 for s in range(5, 31, 5)) / 6)
    assert "0 failed" in p.stderr and "29 events" in p.stderr, p.stderr
    again = sql_test(tmp_path, ROLLUPS, events, "--json")
    assert again.stdout == p.stdout, "the same input gives the same output"


def test_bad_queries_and_lines_are_refused_with_their_position(tmp_path):
    p = sql_test(tmp_path, "SELECT deviceId\nFROM events\nWHERE Nope(1) = 1", [flight("d", 0, 1)])
    assert p.returncode == 65 and "q.sql:3:7: unknown function Nope" in p.stderr, p.stderr
    p = sql_test(tmp_path, ROLLUPS, [flight("d", 0, 1), "{not json\n"])
    assert p.returncode == 65 and "events.jsonl:2:" in p.stderr, p.stderr
    p = sql_test(tmp_path, "SELECT CAST(velocity AS bigint) AS v FROM events", [{"velocity": "x"}, {"velocity": "7"}], "--json")
    assert p.returncode == 0 and [json.loads(line) for line in p.stdout.splitlines()] == [{"output": "output", "v": 7}]
    assert "1 failed" in p.stderr and "cannot cast" in p.stderr, p.stderr
    p = sql_test(tmp_path, ROLLUPS, [flight("d", 0, 1)], "--late-policy", "sometimes")
    assert p.returncode == 64, p.stderr


def test_reference_data_from_csv_and_json_files(tmp_path):
    (tmp_path / "fleet.csv").write_text('deviceId,fleet\n"Simulated.drone-01.1",north\nSimulated.drone-01.2,"south, coast"\n')
    (tmp_path / "twins.json").write_text(json.dumps([{"deviceId": "Simulated.drone-01.1", "properties": {"reported": {"mode": "delivering"}}}]))
    query = """
        SELECT e.deviceId, f.fleet, t.properties.reported.mode AS mode
        FROM events e
        JOIN fleet f ON e.deviceId = f.deviceId
        LEFT OUTER JOIN twins t ON e.deviceId = t.deviceId
    """
    events = [flight("Simulated.drone-01.1", 0, 50), flight("Simulated.drone-01.2", 5, 40), flight("Simulated.drone-01.3", 10, 30)]
    p = sql_test(tmp_path, query, events, "--json", "--reference", f"fleet={tmp_path / 'fleet.csv'}",
                 "--reference", f"twins={tmp_path / 'twins.json'}")
    assert p.returncode == 0, p.stderr
    assert [json.loads(line) for line in p.stdout.splitlines()] == [
        {"output": "output", "deviceId": "Simulated.drone-01.1", "fleet": "north", "mode": "delivering"},
        {"output": "output", "deviceId": "Simulated.drone-01.2", "fleet": "south, coast", "mode": None},
    ]
    p = sql_test(tmp_path, query, events, "--reference", f"fleet={tmp_path / 'fleet.csv'}")
    assert p.returncode == 65 and "unknown reference input twins" in p.stderr, p.stderr
