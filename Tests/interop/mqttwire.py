"""Hand-written MQTT 3.1.1 / 5.0 packet encoding and decoding for the interop tests.

Deliberately independent of the Swift codec: the bytes here are written from the
specifications (MQTT 3.1.1 OASIS standard, MQTT 5.0 OASIS standard), so a bug in
Meridian's codec cannot hide behind the same bug in the test's encoder.

Every builder takes escape hatches (raw flags, raw lengths, raw property bytes) so
the malformed-input suite can produce exactly the bytes it needs.
"""
from __future__ import annotations

import socket
import struct
import time
import uuid
from dataclasses import dataclass

# --- packet types (MQTT 5.0 §2.1.2)
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15
TYPE_NAMES = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
    8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
    14: "DISCONNECT", 15: "AUTH",
}

V311, V5 = 4, 5

# --- property identifiers and their wire types (MQTT 5.0 §2.2.2.2)
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _STR, _BIN, _PAIR = "byte", "u16", "u32", "varint", "str", "bin", "pair"
PROPERTY_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _STR, 0x08: _STR, 0x09: _BIN, 0x0B: _VARINT, 0x11: _U32,
    0x12: _STR, 0x13: _U16, 0x15: _STR, 0x16: _BIN, 0x17: _BYTE, 0x18: _U32, 0x19: _BYTE,
    0x1A: _STR, 0x1C: _STR, 0x1F: _STR, 0x21: _U16, 0x22: _U16, 0x23: _U16, 0x24: _BYTE,
    0x25: _BYTE, 0x26: _PAIR, 0x27: _U32, 0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}
# properties that may legally appear more than once
_REPEATABLE = {USER_PROPERTY, SUBSCRIPTION_IDENTIFIER}

# --- reason codes used by the tests (MQTT 5.0 §2.4)
RC_SUCCESS = 0x00
RC_NO_MATCHING_SUBSCRIBERS = 0x10
RC_DISCONNECT_WITH_WILL = 0x04
RC_UNSPECIFIED = 0x80
RC_MALFORMED = 0x81
RC_PROTOCOL_ERROR = 0x82
RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84
RC_CLIENT_ID_NOT_VALID = 0x85
RC_KEEP_ALIVE_TIMEOUT = 0x8D
RC_SESSION_TAKEN_OVER = 0x8E
RC_TOPIC_FILTER_INVALID = 0x8F
RC_TOPIC_NAME_INVALID = 0x90
RC_PACKET_ID_NOT_FOUND = 0x92
RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93
RC_TOPIC_ALIAS_INVALID = 0x94
RC_PACKET_TOO_LARGE = 0x95
RC_QOS_NOT_SUPPORTED = 0x9B
# MQTT 3.1.1 CONNACK return codes (§3.2.2.3)
V3_UNACCEPTABLE_PROTOCOL_VERSION = 0x01
V3_IDENTIFIER_REJECTED = 0x02


# ----------------------------------------------------------------- primitives
def varint(n: int) -> bytes:
    """Variable Byte Integer, minimal encoding (§1.5.5)."""
    if n < 0 or n > 268_435_455:
        raise ValueError(f"varint out of range: {n}")
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def u16(n: int) -> bytes:
    return struct.pack(">H", n)


def u32(n: int) -> bytes:
    return struct.pack(">I", n)


def _raw(s: str | bytes) -> bytes:
    return s if isinstance(s, bytes) else s.encode("utf-8")


def utf8(s: str | bytes) -> bytes:
    """UTF-8 Encoded String with a 2-byte length. Pass bytes to send invalid UTF-8 on purpose."""
    b = _raw(s)
    return u16(len(b)) + b


def binary(b: bytes) -> bytes:
    return u16(len(b)) + b


def prop(pid: int, value) -> bytes:
    """One property: identifier + value encoded by its type."""
    t = PROPERTY_TYPES[pid]
    if t == _BYTE:
        v = bytes([value])
    elif t == _U16:
        v = u16(value)
    elif t == _U32:
        v = u32(value)
    elif t == _VARINT:
        v = varint(value)
    elif t == _STR:
        v = utf8(value)
    elif t == _BIN:
        v = binary(value)
    else:  # string pair
        k, val = value
        v = utf8(k) + utf8(val)
    return bytes([pid]) + v


def props(items=None, raw: bytes | None = None, length: bytes | None = None) -> bytes:
    """A property block: Properties Length (varint) + properties.

    items  -- list of (identifier, value) pairs, encoded in order (duplicates allowed on purpose)
    raw    -- extra bytes appended after the encoded items (e.g. an unknown identifier)
    length -- exact bytes to use as the Properties Length instead of the correct varint
    """
    body = b"".join(prop(pid, v) for pid, v in (items or [])) + (raw or b"")
    return (length if length is not None else varint(len(body))) + body


def fixed(ptype: int, flags: int, body: bytes, remaining: bytes | None = None) -> bytes:
    """Fixed header + body. `remaining` overrides the Remaining Length bytes (for malformed input)."""
    return bytes([(ptype << 4) | (flags & 0x0F)]) + (remaining if remaining is not None else varint(len(body))) + body


# ----------------------------------------------------------------- builders
def connect(client_id: str | bytes = "", version: int = V5, clean: bool = True, keepalive: int = 60,
            properties: bytes | None = None, will: dict | None = None, username=None, password=None,
            flags: int | None = None, protocol_name: str | bytes = "MQTT", level: int | None = None) -> bytes:
    """CONNECT (§3.1). `will` = {topic, payload, qos, retain, properties(bytes, v5)}; `flags` overrides the flag byte."""
    f = 0
    if clean:
        f |= 0x02
    payload = utf8(client_id)
    if will is not None:
        f |= 0x04 | ((will.get("qos", 0) & 3) << 3) | (0x20 if will.get("retain") else 0)
        if version == V5:
            payload += will.get("properties", props())
        payload += utf8(will["topic"]) + binary(_raw(will.get("payload", b"")))
    if username is not None:
        f |= 0x80
        payload += utf8(username)
    if password is not None:
        f |= 0x40
        payload += binary(_raw(password))
    if flags is not None:
        f = flags
    vh = utf8(protocol_name) + bytes([level if level is not None else version, f]) + u16(keepalive)
    if version == V5:
        vh += properties if properties is not None else props()
    return fixed(CONNECT, 0, vh + payload)


def publish(topic: str | bytes, payload: bytes | str = b"", qos: int = 0, retain: bool = False, dup: bool = False,
            pid: int | None = None, version: int = V5, properties: bytes | None = None,
            flags: int | None = None, remaining: bytes | None = None) -> bytes:
    """PUBLISH (§3.3). `pid` defaults to 1 for QoS > 0; `flags` overrides the fixed-header flags."""
    f = (0x08 if dup else 0) | ((qos & 3) << 1) | (0x01 if retain else 0)
    if flags is not None:
        f = flags
    body = utf8(topic)
    if qos > 0 or pid is not None:
        body += u16(pid if pid is not None else 1)
    if version == V5:
        body += properties if properties is not None else props()
    body += _raw(payload)
    return fixed(PUBLISH, f, body, remaining)


def _ack(ptype: int, pid: int, version: int, reason: int | None, properties: bytes | None, flags: int = 0) -> bytes:
    body = u16(pid)
    if version == V5 and (reason is not None or properties is not None):
        body += bytes([reason or 0])
        if properties is not None:
            body += properties
    return fixed(ptype, flags, body)


def puback(pid: int, version: int = V5, reason: int | None = None, properties: bytes | None = None) -> bytes:
    return _ack(PUBACK, pid, version, reason, properties)


def pubrec(pid: int, version: int = V5, reason: int | None = None, properties: bytes | None = None) -> bytes:
    return _ack(PUBREC, pid, version, reason, properties)


def pubrel(pid: int, version: int = V5, reason: int | None = None, properties: bytes | None = None) -> bytes:
    return _ack(PUBREL, pid, version, reason, properties, flags=0x2)  # [MQTT-3.6.1-1]


def pubcomp(pid: int, version: int = V5, reason: int | None = None, properties: bytes | None = None) -> bytes:
    return _ack(PUBCOMP, pid, version, reason, properties)


def subscribe(pid: int, filters, version: int = V5, properties: bytes | None = None, flags: int = 0x2) -> bytes:
    """SUBSCRIBE (§3.8). filters = [(filter, options_byte)]; options byte = QoS | NL<<2 | RAP<<3 | RH<<4."""
    body = u16(pid)
    if version == V5:
        body += properties if properties is not None else props()
    for flt, opts in filters:
        body += utf8(flt) + bytes([opts])
    return fixed(SUBSCRIBE, flags, body)


def sub_options(qos: int = 0, no_local: bool = False, retain_as_published: bool = False, retain_handling: int = 0) -> int:
    return (qos & 3) | (0x04 if no_local else 0) | (0x08 if retain_as_published else 0) | ((retain_handling & 3) << 4)


def unsubscribe(pid: int, filters, version: int = V5, properties: bytes | None = None, flags: int = 0x2) -> bytes:
    body = u16(pid)
    if version == V5:
        body += properties if properties is not None else props()
    for flt in filters:
        body += utf8(flt)
    return fixed(UNSUBSCRIBE, flags, body)


def pingreq() -> bytes:
    return b"\xc0\x00"


def disconnect(version: int = V5, reason: int | None = None, properties: bytes | None = None) -> bytes:
    body = b""
    if version == V5 and (reason is not None or properties is not None):
        body = bytes([reason or 0]) + (properties if properties is not None else b"")
    return fixed(DISCONNECT, 0, body)


def auth(reason: int = 0x18, properties: bytes | None = None) -> bytes:
    return fixed(AUTH, 0, bytes([reason]) + (properties if properties is not None else props()))


# ----------------------------------------------------------------- decoding
def decode_varint(buf: bytes, off: int) -> tuple[int, int]:
    mult, value = 1, 0
    for i in range(4):
        if off + i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[off + i]
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, off + i + 1
        mult *= 128
    raise ValueError("varint longer than 4 bytes")


def decode_props(buf: bytes, off: int) -> tuple[dict, int]:
    """Returns ({identifier: value or [values] for repeatable}, offset after the block)."""
    n, off = decode_varint(buf, off)
    end, out = off + n, {}
    while off < end:
        pid = buf[off]
        off += 1
        t = PROPERTY_TYPES.get(pid)
        if t == _BYTE:
            v, off = buf[off], off + 1
        elif t == _U16:
            v, off = struct.unpack_from(">H", buf, off)[0], off + 2
        elif t == _U32:
            v, off = struct.unpack_from(">I", buf, off)[0], off + 4
        elif t == _VARINT:
            v, off = decode_varint(buf, off)
        elif t in (_STR, _BIN):
            ln = struct.unpack_from(">H", buf, off)[0]
            raw = buf[off + 2: off + 2 + ln]
            v, off = (raw.decode("utf-8") if t == _STR else raw), off + 2 + ln
        elif t == _PAIR:
            kl = struct.unpack_from(">H", buf, off)[0]
            k = buf[off + 2: off + 2 + kl].decode("utf-8")
            off += 2 + kl
            vl = struct.unpack_from(">H", buf, off)[0]
            v = (k, buf[off + 2: off + 2 + vl].decode("utf-8"))
            off += 2 + vl
        else:
            raise ValueError(f"unknown property identifier 0x{pid:02x}")
        if pid in _REPEATABLE:
            out.setdefault(pid, []).append(v)
        else:
            out[pid] = v
    return out, end


@dataclass
class Packet:
    """One received control packet. `version` is the protocol level the connection negotiated."""
    type: int
    flags: int
    body: bytes
    version: int = V5

    @property
    def name(self) -> str:
        return TYPE_NAMES.get(self.type, f"type{self.type}")

    @property
    def reason(self) -> int:
        """Reason / return code of CONNACK, DISCONNECT, PUBACK..PUBCOMP, AUTH (0 when omitted)."""
        if self.type == CONNACK:
            return self.body[1]
        if self.type in (DISCONNECT, AUTH):
            return self.body[0] if self.body else 0
        if self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            return self.body[2] if len(self.body) > 2 else 0
        raise ValueError(f"{self.name} has no single reason code")

    @property
    def session_present(self) -> bool:
        assert self.type == CONNACK
        return bool(self.body[0] & 1)

    @property
    def packet_id(self) -> int:
        if self.type == PUBLISH:
            return self.publish()["pid"]
        return struct.unpack_from(">H", self.body, 0)[0]

    @property
    def properties(self) -> dict:
        if self.version != V5:
            return {}
        if self.type == CONNACK:
            return decode_props(self.body, 2)[0] if len(self.body) > 2 else {}
        if self.type in (DISCONNECT, AUTH):
            return decode_props(self.body, 1)[0] if len(self.body) > 1 else {}
        if self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            return decode_props(self.body, 3)[0] if len(self.body) > 3 else {}
        if self.type in (SUBACK, UNSUBACK):
            return decode_props(self.body, 2)[0]
        if self.type == PUBLISH:
            return self.publish()["props"]
        return {}

    @property
    def reason_codes(self) -> list[int]:
        """SUBACK / UNSUBACK payload codes."""
        assert self.type in (SUBACK, UNSUBACK), self.name
        off = 2
        if self.version == V5:
            _, off = decode_props(self.body, off)
        return list(self.body[off:])

    def publish(self) -> dict:
        assert self.type == PUBLISH, self.name
        qos = (self.flags >> 1) & 3
        tl = struct.unpack_from(">H", self.body, 0)[0]
        topic = self.body[2:2 + tl]
        off = 2 + tl
        pid = None
        if qos:
            pid = struct.unpack_from(">H", self.body, off)[0]
            off += 2
        pr = {}
        if self.version == V5:
            pr, off = decode_props(self.body, off)
        return {"topic": topic.decode("utf-8", "replace"), "topic_bytes": topic, "qos": qos,
                "retain": bool(self.flags & 1), "dup": bool(self.flags & 8), "pid": pid,
                "props": pr, "payload": self.body[off:]}

    def __repr__(self) -> str:
        extra = ""
        try:
            if self.type in (CONNACK, DISCONNECT, PUBACK, PUBREC, PUBREL, PUBCOMP, AUTH):
                extra = f" reason=0x{self.reason:02x}"
            elif self.type in (SUBACK, UNSUBACK):
                extra = " codes=" + ",".join(f"0x{c:02x}" for c in self.reason_codes)
            elif self.type == PUBLISH:
                p = self.publish()
                extra = f" topic={p['topic']!r} qos={p['qos']} retain={p['retain']} len={len(p['payload'])}"
        except Exception:  # noqa: BLE001 - repr must never raise
            pass
        return f"<{self.name}{extra}>"


class Closed(Exception):
    """The peer closed the connection."""


class RawClient:
    """A blocking MQTT client over a plain socket that sends exactly the bytes it is given.

    It never answers anything on its own: tests decide what to send.
    """

    def __init__(self, host: str, port: int, version: int = V5, timeout: float = 5.0):
        self.version = version
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed = False

    # -- sending
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def try_send(self, data: bytes) -> bool:
        """Send, reporting False instead of raising when the broker already closed the socket."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    # -- receiving
    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no packet before the deadline")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as e:
            raise TimeoutError("no packet before the deadline") from e
        except ConnectionResetError as e:
            self.closed = True
            raise Closed("connection reset") from e
        if not chunk:
            self.closed = True
            raise Closed("connection closed")
        self.buf += chunk

    def recv(self, timeout: float = 5.0) -> Packet:
        """Next packet; raises Closed when the peer closes, TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                try:
                    n, off = decode_varint(self.buf, 1)
                except ValueError as e:
                    if len(self.buf) < 5:
                        self._fill(deadline)
                        continue
                    raise AssertionError(f"broker sent a bad Remaining Length: {self.buf[:5].hex()}") from e
                if len(self.buf) >= off + n:
                    first, body = self.buf[0], self.buf[off:off + n]
                    self.buf = self.buf[off + n:]
                    return Packet(first >> 4, first & 0x0F, body, self.version)
            if self.closed:
                raise Closed("connection closed")
            self._fill(deadline)

    def recv_type(self, ptype: int, timeout: float = 5.0, skip=(PUBLISH,)) -> Packet:
        """Next packet of `ptype`, skipping packet types in `skip`; anything else is a failure."""
        deadline = time.monotonic() + timeout
        while True:
            p = self.recv(max(0.01, deadline - time.monotonic()))
            if p.type == ptype:
                return p
            if p.type not in skip:
                raise AssertionError(f"expected {TYPE_NAMES[ptype]}, got {p!r}")

    def wait_closed(self, timeout: float = 5.0) -> list[Packet]:
        """Packets received until the broker closes the connection; fails if it stays open past `timeout`."""
        got: list[Packet] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                got.append(self.recv(max(0.01, deadline - time.monotonic())))
            except Closed:
                return got
            except TimeoutError:
                raise AssertionError(f"connection still open after {timeout} s; received {got!r}") from None

    def is_open_after(self, seconds: float) -> bool:
        """True if nothing closes the connection within `seconds` (packets received meanwhile are kept)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                p = self.recv(max(0.01, deadline - time.monotonic()))
                self.buf = b""  # drop; callers that need packets use recv
                _ = p
        except TimeoutError:
            return True
        except Closed:
            return False

    def connect(self, client_id: str | None = None, **kw) -> Packet:
        """Send CONNECT and return the CONNACK (asserting success unless expect_ok=False)."""
        expect_ok = kw.pop("expect_ok", True)
        self.send(connect(client_id if client_id is not None else new_id(), version=self.version, **kw))
        ack = self.recv(5.0)
        if expect_ok:
            assert ack.type == CONNACK and ack.reason == 0, f"CONNECT refused: {ack!r}"
        return ack

    def subscribe(self, filters, pid: int = 1, properties: bytes | None = None) -> Packet:
        self.send(subscribe(pid, filters, self.version, properties))
        return self.recv_type(SUBACK)

    def ping(self, timeout: float = 5.0) -> None:
        """PINGREQ → PINGRESP round trip: proves the connection is alive and in sync."""
        self.send(pingreq())
        self.recv_type(PINGRESP, timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"

