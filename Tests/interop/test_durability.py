"""Durability of acknowledged device messages (reliability test plan F1 crash, F2 disk full).

The oracle is the event log on disk, read with `meridian eventlog dump` while the hub is stopped:
- F1: 20 devices flood telemetry (MQTT QoS 1 over TLS, or HTTPS D2C); the hub gets `kill -9` at a random
  moment 1–3 s in (seeded: the seed is printed; set DURABILITY_SEED to replay). After a restart (the hub
  recovers the log) and a graceful stop, every message that got a PUBACK / 204 must be in the log exactly
  once with the bytes and properties that were sent, each device's messages in send order, and offsets
  dense in every partition. Messages without an acknowledgement may or may not be there (counted).
- F2: the data directory on a 64 MiB tmpfs that the log fills. The hub must stay up, acknowledge nothing
  it did not store, answer HTTPS D2C with 503 + a JSON error, show it in /metrics and its log, and resume
  acknowledging by itself once space is freed.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import random
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from brokers import BrokerProcess
from test_device_security import OWNER_KEY, sas_token

pytestmark = pytest.mark.meridian_only

DEVICES = 20
ROUNDS = 3
WINDOW = 20  # QoS 1 messages in flight per MQTT device
API_VERSION = "2020-03-13"
SEED = int(os.environ.get("DURABILITY_SEED", str(time.time_ns() % 1_000_000_007)))


# ------------------------------------------------------------------ hub and registry helpers
def start_hub(workdir: Path, data_dir: Path | None = None) -> BrokerProcess:
    """A hub with MQTT over TLS and HTTPS, the test owner key, and no device HTTPS rate limit."""
    hub = BrokerProcess(workdir, listeners=("mqtts", "https"),
                        extra_args=["--owner-key", OWNER_KEY, "--device-rate", "0"])
    if data_dir is not None:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        hub.data_dir = data_dir
    return hub.start()


def tls_context(hub) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(hub.ca_path))


def owner_token() -> str:
    return sas_token("localhost", OWNER_KEY, int(time.time()) + 3600) + "&skn=iothubowner"


def create_devices(hub, prefix: str, count: int) -> dict[str, str]:
    """`count` SAS devices with keys chosen here (one PUT each); {device id: primary key}."""
    devices = {}
    connection = http.client.HTTPSConnection("localhost", hub.https_port, context=tls_context(hub), timeout=10)
    try:
        for i in range(count):
            device_id = f"{prefix}-{i:02d}"
            key = base64.b64encode(os.urandom(32)).decode()
            body = json.dumps({"deviceId": device_id, "authentication": {
                "type": "sas", "symmetricKey": {"primaryKey": key, "secondaryKey": base64.b64encode(os.urandom(32)).decode()}}})
            connection.request("PUT", f"/devices/{device_id}?api-version={API_VERSION}", body=body,
                               headers={"Authorization": owner_token(), "Content-Type": "application/json"})
            response = connection.getresponse()
            text = response.read()
            assert response.status == 200, (response.status, text)
            devices[device_id] = key
    finally:
        connection.close()
    return devices


def device_token(device_id: str, key: str) -> str:
    return sas_token(f"localhost/devices/{device_id}", key, int(time.time()) + 3600)


def dump_log(hub) -> list[dict]:
    """`meridian eventlog dump` of the stopped hub's data directory, one dict per event."""
    assert not hub.alive(), "dump needs the hub stopped (it takes the data directory's lock)"
    p = subprocess.run([os.environ["MERIDIAN_BIN"], "eventlog", "dump", "--data-dir", str(hub.data_dir)],
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"eventlog dump: rc={p.returncode}\n{p.stderr.decode(errors='replace')}"
    return [json.loads(line) for line in p.stdout.splitlines()]


def metrics(hub) -> dict[str, float]:
    with urllib.request.urlopen(f"https://localhost:{hub.https_port}/metrics", context=tls_context(hub), timeout=5) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("meridian_") and " " in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def post_event(hub, device_id: str, key: str, body: bytes):
    """One HTTPS D2C message (property round=probe) on a new connection; (status, headers, body)."""
    connection = http.client.HTTPSConnection("localhost", hub.https_port, context=tls_context(hub), timeout=10)
    try:
        connection.request("POST", f"/devices/{device_id}/messages/events?api-version={API_VERSION}", body=body,
                           headers={"Authorization": device_token(device_id, key), "Content-Type": "application/json",
                                    "iothub-app-round": "probe"})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# ------------------------------------------------------------------ messages
@dataclass
class Sent:
    """One message as the device sent it: what the log must hold if it was acknowledged."""
    device: str
    seq: int
    body: bytes
    properties: dict[str, str]


def make_message(device: str, seq: int, tag: str, rng: random.Random, filler: int) -> Sent:
    body = json.dumps({"deviceId": device, "seq": seq, "round": tag,
                       "filler": rng.randbytes(filler // 2).hex()}, separators=(",", ":")).encode()
    # A property value that needs escaping in the MQTT property bag and survives an HTTP header.
    properties = {"seq": str(seq), "round": tag, "tag": f"v{rng.randrange(10**6)} a&b=c/d%"}
    return Sent(device, seq, body, properties)


def bag(sent: Sent) -> str:
    """The Azure topic property bag: application properties, then system ones (content type, message id)."""
    application = "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}"
                           for k, v in sent.properties.items())
    return f"{application}&$.ct=application%2Fjson&$.ce=utf-8&$.mid={sent.device}-{sent.seq}"


# ------------------------------------------------------------------ MQTT publishers
class MqttDevice:
    """A paho 3.1.1 device over TLS (Azure username and SAS password) publishing QoS 1 telemetry from its
    own thread with at most WINDOW messages in flight. `acked` gets what a PUBACK acknowledged."""

    def __init__(self, hub, device_id: str, key: str, tag: str, rng: random.Random, filler: int):
        self.device_id, self.tag, self.rng, self.filler = device_id, tag, rng, filler
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv311,
                             clean_session=False)
        self.c.tls_set_context(tls_context(hub))
        self.c.username_pw_set(f"localhost/{device_id}/?api-version=2021-04-12", device_token(device_id, key))
        self.c.max_inflight_messages_set(WINDOW)
        self.c.reconnect_delay_set(min_delay=0.25, max_delay=1)
        self.window = threading.Semaphore(WINDOW)
        self.by_mid: dict[int, Sent] = {}  # written by the publishing thread only
        self.sent: list[Sent] = []
        self.acked_mids: list[int] = []  # appended by paho's thread (under its lock: never take ours there)
        self.connected = threading.Event()
        self.disconnects = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"pub-{device_id}", daemon=True)

        def on_publish(client, userdata, mid, reason_code, properties):
            self.acked_mids.append(mid)
            self.window.release()

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                self.connected.set()

        def on_disconnect(client, userdata, flags, reason_code, properties):
            self.disconnects += 1

        self.c.on_publish, self.c.on_connect, self.c.on_disconnect = on_publish, on_connect, on_disconnect
        self.c.connect("localhost", hub.mqtts_port, keepalive=30)
        self.c.loop_start()

    def start(self):
        self.thread.start()

    def _run(self):
        seq = 0
        while not self.stop.is_set():
            if not self.window.acquire(timeout=0.2):
                continue
            sent = make_message(self.device_id, seq, self.tag, self.rng, self.filler)
            info = self.c.publish(f"devices/{self.device_id}/messages/events/{bag(sent)}", sent.body, qos=1)
            self.by_mid[info.mid] = sent
            self.sent.append(sent)
            seq += 1
            if seq >= 60_000:  # paho's packet ids (the key of by_mid) would repeat
                break

    def halt(self):
        """Stops publishing and tells paho to stop (no reconnect, no resend); `finish` waits for it."""
        self.stop.set()
        self.c.disconnect()

    def finish(self):
        """`halt`, waits for both threads, and returns (sent, acked)."""
        self.halt()
        self.thread.join(10)
        self.c.loop_stop()
        return self.sent, [self.by_mid[mid] for mid in list(self.acked_mids)]

    @property
    def acked_count(self) -> int:
        return len(self.acked_mids)


# ------------------------------------------------------------------ HTTPS senders
class HttpsDevice:
    """A device POSTing telemetry over HTTPS (one keep-alive connection, one request at a time) from its
    own thread; `acked` holds what got 204."""

    def __init__(self, hub, device_id: str, key: str, tag: str, rng: random.Random, filler: int):
        self.hub, self.device_id, self.key, self.tag, self.rng, self.filler = hub, device_id, key, tag, rng, filler
        self.sent: list[Sent] = []
        self.acked: list[Sent] = []
        self.statuses: Counter = Counter()
        self.errors = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"https-{device_id}", daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        context = tls_context(self.hub)
        token = device_token(self.device_id, self.key)
        connection = None
        seq = 0
        while not self.stop.is_set():
            sent = make_message(self.device_id, seq, self.tag, self.rng, self.filler)
            seq += 1
            self.sent.append(sent)
            headers = {"Authorization": token, "Content-Type": "application/json", "iothub-messageid": f"{self.device_id}-{sent.seq}",
                       **{f"iothub-app-{k}": v for k, v in sent.properties.items()}}
            try:
                if connection is None:
                    connection = http.client.HTTPSConnection("localhost", self.hub.https_port, context=context, timeout=5)
                connection.request("POST", f"/devices/{self.device_id}/messages/events?api-version={API_VERSION}",
                                   body=sent.body, headers=headers)
                response = connection.getresponse()
                response.read()
                self.statuses[response.status] += 1
                if response.status == 204:
                    self.acked.append(sent)
            except (OSError, http.client.HTTPException):
                self.errors += 1
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.05)
        if connection is not None:
            connection.close()

    def halt(self):
        self.stop.set()

    def finish(self):
        self.halt()
        self.thread.join(15)
        return self.sent, list(self.acked)

    @property
    def acked_count(self) -> int:
        return len(self.acked)


# ------------------------------------------------------------------ the oracle
@dataclass
class Verdict:
    sent: int
    acked: int
    logged: int
    unacked_logged: int
    duplicates: int
    problems: list[str] = field(default_factory=list)


def check_log_shape(records: list[dict]) -> list[str]:
    """Offsets 0… dense in every partition, and each device's sequence numbers increasing in log order
    (per round: sequence numbers restart with every round's new clients)."""
    problems = []
    by_partition: dict[int, list[dict]] = {}
    for r in records:
        by_partition.setdefault(r["partition"], []).append(r)
    for partition, events in sorted(by_partition.items()):
        offsets = [int(e["offset"]) for e in events]
        if offsets != list(range(len(offsets))):
            problems.append(f"partition {partition}: offsets not dense from 0 ({len(offsets)} events, "
                            f"first gap after {next((a for a, b in zip(offsets, offsets[1:]) if b != a + 1), None)})")
        last: dict[tuple, int] = {}
        for e in events:
            props = e.get("properties", {})
            if "seq" not in props or "round" not in props:
                continue
            key = (e["deviceId"], props["round"])
            seq = int(props["seq"])
            if key in last and seq <= last[key]:
                problems.append(f"{key}: seq {seq} after {last[key]} in partition {partition}")
            last[key] = seq
    return problems


def verify(records: list[dict], tag: str, sent: list[Sent], acked: list[Sent], allow_duplicates: bool = False) -> Verdict:
    """Every acknowledged message in the log once (or, with `allow_duplicates`, at least once) with the body
    and properties sent; nothing in the log that was not sent."""
    problems = []
    sent_by_key = {(s.device, s.seq): s for s in sent}
    acked_keys = {(s.device, s.seq) for s in acked}
    mine = [r for r in records if r.get("properties", {}).get("round") == tag]
    counts = Counter((r["deviceId"], int(r["properties"]["seq"])) for r in mine)
    for r in mine:
        key = (r["deviceId"], int(r["properties"]["seq"]))
        s = sent_by_key.get(key)
        if s is None:
            problems.append(f"{key} is in the log but was never sent")
            continue
        if r.get("bodyEncoding") != "json" or r.get("body") != json.loads(s.body):
            problems.append(f"{key}: body differs ({r.get('bodyEncoding')})")
        elif json.dumps(r["body"], separators=(",", ":")).encode() != s.body:
            problems.append(f"{key}: body bytes differ after a compact re-serialization")
        if r.get("properties") != s.properties:
            problems.append(f"{key}: properties {r.get('properties')} != {s.properties}")
        if r.get("systemProperties", {}).get("message-id") != f"{s.device}-{s.seq}":
            problems.append(f"{key}: message-id {r.get('systemProperties', {}).get('message-id')}")
    missing = sorted(acked_keys - set(counts))
    if missing:
        problems.append(f"{len(missing)} acknowledged messages are not in the log, e.g. {missing[:5]}")
    duplicated = {k: c for k, c in counts.items() if c > 1}
    if duplicated and not allow_duplicates:
        problems.append(f"{len(duplicated)} messages are in the log more than once, e.g. {list(duplicated.items())[:5]}")
    return Verdict(sent=len(sent), acked=len(acked_keys), logged=len(counts),
                   unacked_logged=len(set(counts) - acked_keys), duplicates=sum(c - 1 for c in duplicated.values()),
                   problems=problems)


# ------------------------------------------------------------------ F1: kill -9 under load
def crash_round(workdir: Path, transport: str, round_number: int):
    """One round on a fresh hub and data directory (so each round's dump holds only its own events)."""
    rng = random.Random(f"{SEED}-{transport}-{round_number}")
    tag = f"{transport}{round_number}-{rng.randrange(10**9)}"
    hub = start_hub(workdir)
    try:
        crash_and_check(hub, rng, tag, transport, round_number)
    finally:
        hub.stop()


def crash_and_check(hub, rng: random.Random, tag: str, transport: str, round_number: int):
    print(f"\n{transport} round {round_number}: DURABILITY_SEED={SEED}")
    hub.devices = create_devices(hub, transport, DEVICES)
    kind = MqttDevice if transport == "mqtt" else HttpsDevice
    devices = [kind(hub, d, k, tag, random.Random(rng.random()), filler=rng.choice([64, 256, 1024]))
               for d, k in hub.devices.items()]
    if transport == "mqtt":
        for d in devices:
            assert d.connected.wait(10), f"{d.device_id}: no CONNACK"
    kill_at = rng.uniform(1.0, 3.0)
    started = time.monotonic()
    for d in devices:
        d.start()
    time.sleep(max(0.0, started + kill_at - time.monotonic()))
    acked_before_kill = sum(d.acked_count for d in devices)
    hub.kill()  # SIGKILL: no shutdown, no flush, no fsync
    for d in devices:
        d.halt()
    results = [d.finish() for d in devices]
    sent = [s for r in results for s in r[0]]
    acked = [s for r in results for s in r[1]]
    hub.start()  # the hub recovers the log (a torn tail is truncated)
    recovery = [line for line in hub.log_text().splitlines()[-200:] if "event log partition" in line]
    # The recovered log takes new messages at the right offsets (checked by check_log_shape below).
    probes = list(hub.devices.items())[:4]
    for device_id, key in probes:
        status, _, body = post_event(hub, device_id, key, b'{"probe":"after restart"}')
        assert status == 204, (status, body)
    assert hub.stop() == 0, hub.log_tail()
    records = dump_log(hub)
    verdict = verify(records, tag, sent, acked)
    shape = check_log_shape(records)
    assert sum(r.get("properties", {}).get("round") == "probe" for r in records) == len(probes), "probes after the restart"
    print(f"{transport} round {round_number}: kill -9 at {kill_at:.2f} s; sent {verdict.sent}, "
          f"acked {verdict.acked} ({acked_before_kill} seen before the kill), in the log {verdict.logged} "
          f"(+{verdict.unacked_logged} not acked), not acked and not in the log {verdict.sent - verdict.logged}; "
          f"log holds {len(records)} events; recovery notes: {recovery[-4:] or 'none'}")
    if transport == "https":
        print(f"  HTTP statuses {dict(sum((d.statuses for d in devices), Counter()))}, "
              f"connection errors {sum(d.errors for d in devices)}")
    assert not verdict.problems, "\n".join(verdict.problems[:20])
    assert not shape, "\n".join(shape[:20])
    assert verdict.acked >= 500, f"only {verdict.acked} acknowledged before the kill: the flood did not flood"


@pytest.mark.parametrize("round_number", range(1, ROUNDS + 1))
def test_mqtt_acknowledged_messages_survive_kill_9(tmp_path, round_number):
    crash_round(tmp_path, "mqtt", round_number)


@pytest.mark.parametrize("round_number", range(1, ROUNDS + 1))
def test_https_acknowledged_messages_survive_kill_9(tmp_path, round_number):
    crash_round(tmp_path, "https", round_number)


# ------------------------------------------------------------------ F2: disk full
@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 MiB tmpfs (root only; skipped where mount is not permitted), always unmounted."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mount_point)],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip() or p.returncode}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=30)


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_disk_full_stops_acknowledging_and_recovers_without_restart(tmp_path, small_tmpfs):
    rng = random.Random(f"{SEED}-enospc")
    tag = f"enospc-{rng.randrange(10**9)}"
    hub = start_hub(tmp_path / "enospc-hub", data_dir=small_tmpfs / "data")  # the hub's own log stays off the tmpfs
    publishers = []
    try:
        devices = create_devices(hub, "full", 10)
        ballast = small_tmpfs / "ballast"
        with open(ballast, "wb") as f:
            f.write(b"\0" * (16 * 1024 * 1024))
        # Freed only once the flood has stopped: the publishers would fill the ballast's room again within
        # a second, and the probes below need space that stays free.
        reserve = small_tmpfs / "reserve"
        with open(reserve, "wb") as f:
            f.write(b"\0" * (8 * 1024 * 1024))
        rss_before = hub.rss_kb()
        publishers = [MqttDevice(hub, d, k, tag, random.Random(rng.random()), filler=16 * 1024) for d, k in devices.items()]
        for p in publishers:
            assert p.connected.wait(10)
            p.start()
        # Flood until the acknowledgements stop: the log has filled the tmpfs.
        last, last_change, deadline = -1, time.monotonic(), time.monotonic() + 40
        while time.monotonic() < deadline:
            now = sum(p.acked_count for p in publishers)
            if now != last:
                last, last_change = now, time.monotonic()
            elif time.monotonic() - last_change > 2.0:
                break
            time.sleep(0.1)
        assert time.monotonic() < deadline, f"acknowledgements never stopped ({last} acked): the disk did not fill"
        acked_when_full = last
        free = shutil.disk_usage(small_tmpfs).free
        assert hub.alive(), f"the hub died on a full disk:\n{hub.log_tail()}"
        unacked = sum(len(p.sent) - p.acked_count for p in publishers)
        assert unacked > 0, "nothing waits for an acknowledgement"
        # HTTPS D2C: 503 with a JSON error and Retry-After, nothing stored.
        status, headers, body = post_event(hub, "full-00", devices["full-00"],
                                           json.dumps({"probe": "x" * 100_000}).encode())
        assert status == 503, (status, body)
        error = json.loads(body)
        assert isinstance(error, dict) and error, body
        assert headers.get("Retry-After"), dict(headers)
        # /metrics says so, and so does the hub's log.
        values = metrics(hub)
        assert values.get("meridian_eventlog_write_failures", 0) > 0, {k: v for k, v in values.items() if "eventlog" in k}
        assert values.get("meridian_eventlog_failing_partitions", 0) > 0, {k: v for k, v in values.items() if "eventlog" in k}
        assert re.search(r"event log partition \d+: cannot write \(disk full\)", hub.log_text()), hub.log_tail(40)
        rss_full = hub.rss_kb()
        print(f"\ndisk full after {acked_when_full} acked 16 KiB messages; {unacked} waiting; {free} bytes free; "
              f"HTTPS answer {status} {body[:120]!r}; metrics {({k: v for k, v in values.items() if 'eventlog' in k})}; "
              f"RSS {rss_before // 1024} → {rss_full // 1024} MiB")

        # Free space: acknowledging resumes by itself (no restart), over MQTT and HTTPS.
        ballast.unlink()
        freed_at = time.monotonic()
        assert wait_for(lambda: sum(p.acked_count for p in publishers) > acked_when_full + 50, timeout=10), \
            f"no new PUBACKs within 10 s of freeing space ({sum(p.acked_count for p in publishers)} acked)"
        resumed_after = time.monotonic() - freed_at
        for p in publishers:
            p.halt()
        reserve.unlink()
        status, _, body = post_event(hub, "full-01", devices["full-01"], b'{"probe":"after"}')
        assert status == 204, (status, body)
        assert wait_for(lambda: metrics(hub).get("meridian_eventlog_failing_partitions", 1) == 0, timeout=5)
        assert "writing again" in hub.log_text()
        results = [p.finish() for p in publishers]
        disconnects = sum(p.disconnects for p in publishers)
        publishers = []
        assert hub.alive()
        rss_after = hub.rss_kb()
        assert hub.stop() == 0, hub.log_tail()
        sent = [s for r in results for s in r[0]]
        acked = [s for r in results for s in r[1]]
        records = dump_log(hub)
        # A message the hub stored but could not acknowledge (its connection was closed) is resent: at least once.
        verdict = verify(records, tag, sent, acked, allow_duplicates=True)
        print(f"resumed {resumed_after:.1f} s after freeing space; sent {verdict.sent}, acked {verdict.acked}, "
              f"in the log {verdict.logged} (+{verdict.unacked_logged} not acked, {verdict.duplicates} resent duplicates); "
              f"RSS after {rss_after // 1024} MiB; disconnects {disconnects}")
        assert not verdict.problems, "\n".join(verdict.problems[:20])
        assert rss_after - rss_before < 200 * 1024, f"RSS grew by {(rss_after - rss_before) // 1024} MiB"
    finally:
        for p in publishers:
            p.halt()
        for p in publishers:
            p.finish()
        hub.stop()
