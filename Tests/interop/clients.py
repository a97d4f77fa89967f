"""A thin, blocking wrapper around paho-mqtt 2.x (CallbackAPIVersion.VERSION2) for the interop tests.

Every wait is bounded; received messages are collected in a queue so tests can assert
on counts, order and properties.
"""
from __future__ import annotations

import os
import queue
import select
import ssl
import subprocess
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

V311, V5 = mqtt.MQTTv311, mqtt.MQTTv5
VERSIONS = (V311, V5)
TIMEOUT = 5.0


def version_id(v: int) -> str:
    return "v5" if v == V5 else "v311"


def new_topic(prefix: str = "interop") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:10]}"


def props(packet_type=PacketTypes.PUBLISH, **values) -> Properties:
    """paho Properties from keyword arguments, e.g. props(MessageExpiryInterval=5)."""
    p = Properties(packet_type)
    for k, v in values.items():
        setattr(p, k, v)
    return p


class Client:
    """One paho client with its network loop in a background thread."""

    def __init__(self, broker, version: int = V5, client_id: str | None = None, transport: str = "tcp",
                 tls: bool = False, clean: bool = True, ws_path: str = "/mqtt", port: int | None = None):
        self.broker = broker
        self.version = version
        self.client_id = client_id or f"paho-{uuid.uuid4().hex[:10]}"
        self.clean = clean
        kwargs = {}
        if version == V311:
            kwargs["clean_session"] = clean
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=version,
                             transport=transport, **kwargs)
        if transport == "websockets":
            self.c.ws_set_options(path=ws_path)
        if tls:
            self.c.tls_set(ca_certs=str(broker.ca_path), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if port is None:
            port = {("tcp", False): broker.mqtt_port, ("tcp", True): broker.mqtts_port,
                    ("websockets", False): broker.http_port, ("websockets", True): broker.https_port}[(transport, tls)]
        self.port = port
        self.messages: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.connack = None
        self.session_present = None
        self.connack_props = None
        self.disconnect_reason = None
        self.disconnect_props = None
        self._subacks: dict[int, list] = {}
        self._suback_event = threading.Condition()
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_subscribe

    # -- callbacks
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = reason_code
        self.session_present = flags.session_present
        self.connack_props = properties
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.disconnect_reason = reason_code
        self.disconnect_props = properties
        self.disconnected.set()

    def _on_message(self, client, userdata, msg):
        self.messages.put(msg)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._suback_event:
            self._subacks[mid] = reason_codes
            self._suback_event.notify_all()

    # -- operations
    def connect(self, keepalive: int = 30, properties: Properties | None = None, will: dict | None = None,
                timeout: float = TIMEOUT, expect_ok: bool = True) -> "Client":
        if will:
            self.c.will_set(will["topic"], will.get("payload"), will.get("qos", 0), will.get("retain", False),
                            will.get("properties"))
        kw = {"keepalive": keepalive}
        if self.version == V5:
            kw["clean_start"] = self.clean
            if properties is not None:
                kw["properties"] = properties
        self.connected.clear()
        self.disconnected.clear()
        self.c.connect(self.broker.host, self.port, **kw)
        self.c.loop_start()
        assert self.connected.wait(timeout), f"no CONNACK within {timeout} s"
        if expect_ok:
            assert not self.connack.is_failure, f"CONNECT refused: {self.connack}"
        return self

    def subscribe(self, topic, qos: int = 0, options: SubscribeOptions | None = None,
                  properties: Properties | None = None, timeout: float = TIMEOUT) -> list:
        """Subscribe and wait for the SUBACK; returns its reason codes."""
        if options is not None:
            rc, mid = self.c.subscribe(topic, options=options, properties=properties)
        else:
            rc, mid = self.c.subscribe(topic, qos, properties=properties)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        return self._wait_ack(mid, timeout, f"SUBACK for {topic!r}")

    def unsubscribe(self, topic, timeout: float = TIMEOUT) -> None:
        rc, mid = self.c.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        self._wait_ack(mid, timeout, f"UNSUBACK for {topic!r}")

    def _wait_ack(self, mid: int, timeout: float, what: str) -> list:
        """Reason codes of the SUBACK/UNSUBACK for message id `mid`."""
        deadline = time.monotonic() + timeout
        with self._suback_event:
            while mid not in self._subacks:
                left = deadline - time.monotonic()
                assert left > 0, f"no {what} within {timeout} s"
                self._suback_event.wait(left)
            return self._subacks.pop(mid)

    def publish(self, topic: str, payload=b"", qos: int = 0, retain: bool = False,
                properties: Properties | None = None, timeout: float = TIMEOUT):
        """Publish and wait until it is written (QoS 0) or acknowledged (QoS 1/2)."""
        info = self.c.publish(topic, payload, qos, retain, properties)
        info.wait_for_publish(timeout)
        assert info.is_published(), f"publish to {topic!r} not completed within {timeout} s"
        return info

    def expect(self, n: int = 1, timeout: float = TIMEOUT) -> list:
        """Exactly the next `n` messages (fails if fewer arrive within `timeout`)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            try:
                out.append(self.messages.get(timeout=max(0.0, left)))
            except queue.Empty:
                raise AssertionError(f"received {len(out)} of {n} messages within {timeout} s: "
                                     f"{[(m.topic, m.payload) for m in out]}") from None
        return out

    def expect_none(self, within: float = 0.5) -> None:
        try:
            m = self.messages.get(timeout=within)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected message on {m.topic!r}: {m.payload!r}")

    def drain(self, quiet: float = 0.5, limit: float = TIMEOUT) -> list:
        """Messages until none arrives for `quiet` seconds (at most `limit` seconds in all)."""
        out = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                out.append(self.messages.get(timeout=quiet))
            except queue.Empty:
                break
        return out

    def disconnect(self, properties: Properties | None = None, timeout: float = TIMEOUT) -> None:
        if self.c.is_connected():
            self.c.disconnect(properties=properties)
            self.disconnected.wait(timeout)
        self.c.loop_stop()

    def wait_disconnected(self, timeout: float = TIMEOUT):
        assert self.disconnected.wait(timeout), f"still connected after {timeout} s"
        return self.disconnect_reason

    def abort(self) -> None:
        """Stop the loop and close the socket without sending DISCONNECT (an abnormal disconnect)."""
        self.c.loop_stop()
        sock = self.c.socket()
        if sock is not None:
            try:
                sock.shutdown(2)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        try:
            self.c.disconnect()
        except Exception:  # noqa: BLE001 - teardown must not mask the test's own failure
            pass
        self.c.loop_stop()


def sub_options(qos: int = 0, no_local: bool = False, retain_as_published: bool = False,
                retain_handling: int = 0) -> SubscribeOptions:
    return SubscribeOptions(qos=qos, noLocal=no_local, retainAsPublished=retain_as_published,
                            retainHandling=retain_handling)


# ------------------------------------------------------------------ mosquitto_pub / mosquitto_sub
def cli_roundtrip(args: list, count: int, label: str) -> None:
    """mosquitto_sub receives, in order, `count` QoS 1 messages that mosquitto_pub sends.
    `args` = connection options plus -V and -t, shared by both tools."""
    topic = args[args.index("-t") + 1]
    sub = cli_subscriber([*args, "-q", "1", "-C", str(count), "-W", "10"])
    try:
        for i in range(count):
            subprocess.run(["mosquitto_pub", *args, "-q", "1", "-m", f"{label}-{i}"], check=True, timeout=10,
                           capture_output=True)
        out, err = proc_output(sub)
    finally:
        sub.kill()
    assert sub.returncode == 0, err
    assert cli_messages(out) == [f"{topic} {label}-{i}" for i in range(count)]


def cli_subscriber(args: list, timeout: float = 10.0) -> subprocess.Popen:
    """Start mosquitto_sub -d -v and return once it has its SUBACK (its debug output says so).
    Output read while waiting is kept in `proc.early_output` (reading the raw fd: select() on a
    buffered pipe misses lines already buffered)."""
    proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-d", "-v", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while b"received SUBACK" not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            proc.kill()
            raise AssertionError(f"mosquitto_sub got no SUBACK within {timeout} s: {seen!r} {proc.stderr.read()!r}")
        seen += chunk
    proc.early_output = seen.decode()
    return proc


def proc_output(proc: subprocess.Popen, timeout: float = 15) -> tuple[str, str]:
    """Wait for a cli_subscriber to exit; (stdout including what was read early, stderr)."""
    out, err = proc.communicate(timeout=timeout)
    return proc.early_output + out.decode(), err.decode()


def cli_messages(out: str) -> list:
    """mosquitto_sub -d -v output without its debug lines."""
    return [ln for ln in out.splitlines() if ln and not ln.startswith("Client ") and not ln.startswith("Subscribed")]
