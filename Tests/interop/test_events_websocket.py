"""The WebSocket flavour of the events endpoint (issue 5): `GET /events/{consumerGroup}` upgraded to a WebSocket
streams one JSON event per text frame, takes checkpoint commands, answers pings and closes, and is refused before
the upgrade with the REST API's JSON errors (401/403/404/400). A real client (websocket-client from PyPI) over
TLS on 127.0.0.1."""
from __future__ import annotations

import json
import signal
import ssl
import time

import pytest
import websocket

from test_events_api import create_device, hub, owner_token, request, send  # noqa: F401 (fixture)
from test_device_security import cli, sas_token

pytestmark = pytest.mark.meridian_only


def connect(hub, path, token=None):
    ws = websocket.WebSocket(sslopt={"ca_certs": str(hub.ca_path), "cert_reqs": ssl.CERT_REQUIRED})
    ws.settimeout(10)
    ws.connect(f"wss://localhost:{hub.https_port}{path}",
               header=[f"Authorization: {token if token is not None else owner_token()}"])
    return ws


def telemetry_of(event, device_id):
    return event.get("deviceId") == device_id and event["systemProperties"].get("iothub-message-source") == "Telemetry"


def receive_mine(ws, device_id, count, deadline=10.0):
    """The next `count` telemetry events of `device_id`, skipping the hub's own events."""
    mine, end = [], time.monotonic() + deadline
    while len(mine) < count and time.monotonic() < end:
        opcode, data = ws.recv_data()
        assert opcode == websocket.ABNF.OPCODE_TEXT, opcode
        event = json.loads(data)
        if telemetry_of(event, device_id):
            mine.append(event)
    return mine


def close_code(ws):
    """The status code of the hub's close frame (frames before it are skipped)."""
    frame = ws.recv_frame()
    while frame.opcode != websocket.ABNF.OPCODE_CLOSE:
        frame = ws.recv_frame()
    return int.from_bytes(frame.data[:2], "big")


def test_websocket_streams_events_and_commits_checkpoints(hub):
    key = create_device(hub, "ws-dev")
    send(hub, "ws-dev", key, [{"n": i} for i in range(5)])
    ws = connect(hub, "/events/$Default?from=earliest")
    try:
        first = receive_mine(ws, "ws-dev", 5)
        assert [e["body"]["n"] for e in first] == list(range(5))
        e = first[0]
        assert {"deviceId", "partition", "offset", "sequenceNumber", "enqueuedTime", "properties", "systemProperties", "body"} <= e.keys()
        assert e["properties"] == {"kind": "test"} and e["bodyEncoding"] == "json"
        # Live: events sent while connected arrive without asking.
        send(hub, "ws-dev", key, [{"n": i} for i in range(5, 8)])
        live = receive_mine(ws, "ws-dev", 3)
        assert [e["body"]["n"] for e in live] == [5, 6, 7]
        # A checkpoint command is answered with the group's checkpoints.
        last = live[-1]
        ws.send(json.dumps({"checkpoints": [{"partition": last["partition"], "offset": last["offset"]}]}))
        reply = None
        while reply is None:
            message = json.loads(ws.recv())
            if "consumerGroup" in message:
                reply = message
        entry = next(p for p in reply["partitions"] if p["partition"] == last["partition"])
        assert entry["offset"] == last["offset"], reply
        # Pings are answered with the same data.
        ws.ping(b"are-you-there")
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_PONG:
                assert data == b"are-you-there"
                break
        # A bad command gets an error frame and the stream goes on.
        ws.send("{not json")
        while True:
            message = json.loads(ws.recv())
            if "error" in message:
                assert message["error"]["code"] == "ArgumentInvalid", message
                break
        send(hub, "ws-dev", key, [{"n": 8}])
        assert [e["body"]["n"] for e in receive_mine(ws, "ws-dev", 1)] == [8]
        # Close: the hub answers with the same status code.
        ws.send_close(websocket.STATUS_NORMAL)
        assert close_code(ws) == websocket.STATUS_NORMAL
    finally:
        ws.shutdown()
    # The checkpoint is durable and visible over REST; a new reader from the checkpoint starts after event 7.
    status, cps = request(hub, "GET", "/events/$Default/checkpoints")
    assert status == 200
    assert next(p for p in cps["partitions"] if p["partition"] == last["partition"])["offset"] == last["offset"]
    ws = connect(hub, f"/events/$Default?partition={last['partition']}")
    try:
        assert [e["body"]["n"] for e in receive_mine(ws, "ws-dev", 1)] == [8]
    finally:
        ws.close()


def test_websocket_upgrade_is_refused_with_json_errors(hub):
    device_policy = cli(hub, "policy", "show", "device")
    device_token = sas_token("localhost", device_policy["primaryKey"], int(time.time()) + 600) + "&skn=device"
    cases = [
        ("/events/$Default", "", 401),
        ("/events/$Default", device_token, 403),
        ("/events/no-such-group", None, 404),
        ("/events/$Default?from=yesterday", None, 400),
        ("/events/$Default?partition=9", None, 400),
    ]
    for path, token, status in cases:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            connect(hub, path, token)
        assert refused.value.status_code == status, (path, refused.value)
        body = json.loads(refused.value.resp_body)
        assert json.loads(body["Message"])["errorCode"] // 1000 == (401 if status == 403 else status), body


def test_websocket_binary_frames_are_refused_and_slow_readers_lose_nothing(hub):
    key = create_device(hub, "ws-slow")
    ws = connect(hub, "/events/$Default?from=latest")
    try:
        # The reader does not read while 300 events are stored, then reads them all, in order.
        send(hub, "ws-slow", key, [{"n": i, "pad": "x" * 2000} for i in range(300)])
        assert [e["body"]["n"] for e in receive_mine(ws, "ws-slow", 300, deadline=20)] == list(range(300))
        ws.send_binary(b"\x00\x01")
        assert close_code(ws) == websocket.STATUS_UNSUPPORTED_DATA_TYPE
    finally:
        ws.shutdown()


def test_websocket_reader_is_closed_going_away_on_shutdown(hub):
    ws = connect(hub, "/events/$Default?from=latest")
    try:
        started = time.monotonic()
        hub.proc.send_signal(signal.SIGTERM)
        assert close_code(ws) == websocket.STATUS_GOING_AWAY
        ws.send_close()
        assert hub.stop() == 0
        assert time.monotonic() - started < 8
    finally:
        ws.shutdown()
