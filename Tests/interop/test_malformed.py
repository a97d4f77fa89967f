"""Malformed and abusive input, written by hand as bytes (reliability plan §2(a), cases M1-M43 that apply to a
generic broker). Every case asserts the exact MQTT 5 reason code (in CONNACK or DISCONNECT) or, for 3.1.1, a
plain close with no response; after every case a canary client must still be served.

Oracles ([MQTT-4.13.1-1], [MQTT-4.13.2-1]): v5 — CONNACK/DISCONNECT with the reason, then close;
v3.1.1 — close the connection, except where the spec defines a CONNACK return code or SUBACK 0x80.
"""
import select
import socket
import time

import pytest

import mqttwire as w
from conftest import canary

pytestmark = pytest.mark.meridian_only

V3, V5 = w.V311, w.V5
BOTH = pytest.mark.parametrize("version", [V3, V5], ids=["v311", "v5"])
CLOSE_TIMEOUT = 3.0


@pytest.fixture(autouse=True)
def canary_after(request):
    """After each case: the broker the test used is alive and serves a canary client.
    (The broker fixture is requested here so that it is torn down after this check.)"""
    used = [request.getfixturevalue(name) for name in ("broker", "module_broker") if name in request.fixturenames]
    yield
    for b in used:
        canary(b)


# ------------------------------------------------------------------ helpers
def connected(broker, raw, version: int, **kw) -> w.RawClient:
    c = raw(broker, version=version)
    c.connect(**kw)
    return c


def closes_with(c: w.RawClient, ptype: int, reason: int, timeout: float = CLOSE_TIMEOUT) -> list:
    """The broker sends exactly one CONNACK/DISCONNECT with `reason`, then closes."""
    got = c.wait_closed(timeout)
    codes = [(p.type, p.reason) for p in got if p.type in (w.CONNACK, w.DISCONNECT)]
    assert codes == [(ptype, reason)], \
        f"expected {w.TYPE_NAMES[ptype]} 0x{reason:02x} then close; got {got!r}"
    return got


def closes_silently(c: w.RawClient, timeout: float = CLOSE_TIMEOUT) -> None:
    got = c.wait_closed(timeout)
    assert got == [], f"expected a close with no response; got {got!r}"


def rejects(c: w.RawClient, reason: int, in_connect: bool = False) -> None:
    """v5: CONNACK (during CONNECT) or DISCONNECT with `reason`, then close; v3.1.1: close, no response."""
    if c.version == V5:
        closes_with(c, w.CONNACK if in_connect else w.DISCONNECT, reason)
    else:
        closes_silently(c)


def send_bad(c: w.RawClient, data: bytes) -> None:
    c.try_send(data)  # the broker may close before it has read everything


def watcher(broker, raw, topic_filter: str) -> w.RawClient:
    """A v5 subscriber that must see nothing from the bad publisher."""
    c = connected(broker, raw, V5)
    assert c.subscribe([(topic_filter, 1)]).reason_codes == [1]
    return c


def assert_nothing_delivered(c: w.RawClient, within: float = 0.5) -> None:
    try:
        p = c.recv(within)
    except TimeoutError:
        return
    raise AssertionError(f"delivered although rejected: {p!r}")


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


# ------------------------------------------------------------------ M1-M4: framing
@BOTH
def test_m1_remaining_length_five_bytes(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, b"\x30\xff\xff\xff\xff\x7f")
    rejects(c, w.RC_MALFORMED)


def test_m1_remaining_length_five_bytes_before_connect(module_broker, raw):
    c = raw(module_broker)
    send_bad(c, b"\x10\xff\xff\xff\xff\x7f")
    closes_silently(c)


@BOTH
def test_m2_declared_length_over_max_packet_size(module_broker, raw, version):
    """268,435,455 declared, 10 bytes sent, then silence: refused on the header, not after waiting."""
    c = connected(module_broker, raw, version)
    t0 = time.monotonic()
    send_bad(c, b"\x30\xff\xff\xff\x7f" + b"\x00\x03a/b" + b"x" * 5)
    rejects(c, w.RC_PACKET_TOO_LARGE)
    assert time.monotonic() - t0 < 2.0


def test_m2_oversized_connect_before_connect(module_broker, raw):
    """A CONNECT declaring 268 MB: closed at once (a v5-format CONNACK 0x95 is also acceptable)."""
    c = raw(module_broker)
    send_bad(c, b"\x10\xff\xff\xff\x7f" + b"\x00\x04MQTT\x05\x02\x00\x3c")
    got = c.wait_closed(2.0)
    assert [(p.type, p.reason) for p in got] in ([], [(w.CONNACK, w.RC_PACKET_TOO_LARGE)]), got


def test_m2_nothing_allocated_from_declared_length(module_broker):
    """1,000 connections each declaring 268 MB add less than 64 MiB RSS; descriptors return to baseline."""
    base_rss, base_fds = rss_kb(module_broker.pid), module_broker.open_fds()
    socks = []
    try:
        for _ in range(1000):
            s = socket.create_connection((module_broker.host, module_broker.mqtt_port), timeout=5)
            s.sendall(b"\x10\xff\xff\xff\x7f\x00\x04MQTT\x05\x02\x00\x3c")
            socks.append(s)
        peak = rss_kb(module_broker.pid)
    finally:
        for s in socks:
            s.close()
    assert peak - base_rss < 64 * 1024, f"RSS grew {(peak - base_rss) / 1024:.1f} MiB"
    deadline = time.monotonic() + 5
    while module_broker.open_fds() > base_fds + 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert module_broker.open_fds() <= base_fds + 5, (base_fds, module_broker.open_fds())


@BOTH
def test_m3_non_minimal_remaining_length(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, b"\xc0\x80\x00")  # PINGREQ whose length 0 is encoded in two bytes [MQTT-1.5.5-1]
    rejects(c, w.RC_MALFORMED)


@pytest.mark.parametrize("first", [
    pytest.param(w.publish("m4/t", b"hi", version=V3), id="publish"),
    pytest.param(b"\x40\x02\x00\x01", id="puback"),
    pytest.param(w.subscribe(1, [("m4/#", 0)], version=V3), id="subscribe"),
    pytest.param(w.pingreq(), id="pingreq"),
])
def test_m4_first_packet_not_connect(module_broker, raw, first):
    c = raw(module_broker)
    send_bad(c, first)
    closes_silently(c)


# ------------------------------------------------------------------ M5-M9: CONNECT
@BOTH
def test_m5_second_connect(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, w.connect(w.new_id(), version=version))
    rejects(c, w.RC_PROTOCOL_ERROR)


def test_m6_protocol_name_mqtx_v311(module_broker, raw):
    c = raw(module_broker, version=V3)
    send_bad(c, w.connect(w.new_id(), version=V3, protocol_name="MQTX"))
    got = c.wait_closed(CLOSE_TIMEOUT)
    assert [(p.type, p.reason) for p in got] == [(w.CONNACK, w.V3_UNACCEPTABLE_PROTOCOL_VERSION)], got


def test_m6_protocol_name_mqtx_v5(module_broker, raw):
    c = raw(module_broker)
    send_bad(c, w.connect(w.new_id(), version=V5, protocol_name="MQTX"))
    closes_with(c, w.CONNACK, w.RC_UNSUPPORTED_PROTOCOL_VERSION)


@pytest.mark.parametrize("level", [2, 6, 255])
def test_m6_unsupported_protocol_level(module_broker, raw, level):
    """The broker cannot know which CONNACK layout such a client reads; 3.1.1's 0x01 [MQTT-3.1.2-2]
    or 5.0's 0x84 are both spec-defined answers."""
    c = raw(module_broker, version=V3)
    send_bad(c, w.connect(w.new_id(), version=V3, level=level))
    got = c.wait_closed(CLOSE_TIMEOUT)
    assert len(got) == 1 and got[0].type == w.CONNACK, got
    assert got[0].reason in (w.V3_UNACCEPTABLE_PROTOCOL_VERSION, w.RC_UNSUPPORTED_PROTOCOL_VERSION), got


@BOTH
def test_m7_connect_reserved_flag(module_broker, raw, version):
    c = raw(module_broker, version=version)
    send_bad(c, w.connect(w.new_id(), version=version, flags=0x03))  # clean start + reserved bit 0
    rejects(c, w.RC_MALFORMED, in_connect=True)


@BOTH
@pytest.mark.parametrize("flags,will", [
    pytest.param(0x02 | 0x04 | (3 << 3), True, id="will-qos-3"),
    pytest.param(0x02 | (1 << 3), False, id="no-will-but-qos-1"),
    pytest.param(0x02 | 0x20, False, id="no-will-but-retain"),
])
def test_m9_will_flags(module_broker, raw, version, flags, will):
    c = raw(module_broker, version=version)
    w_ = {"topic": "m9/will", "payload": b"x"} if will else None
    send_bad(c, w.connect(w.new_id(), version=version, will=w_, flags=flags))
    rejects(c, w.RC_MALFORMED, in_connect=True)


# ------------------------------------------------------------------ M12-M19: PUBLISH
INVALID_UTF8 = [pytest.param(b"\xc0\x80", id="overlong"), pytest.param(b"\xed\xa0\x80", id="surrogate"),
                pytest.param(b"\x00", id="nul")]


@BOTH
@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_m12_invalid_utf8_topic(module_broker, raw, version, bad):
    prefix = w.new_id("m12")
    watch = watcher(module_broker, raw, f"{prefix}/#")
    c = connected(module_broker, raw, version)
    send_bad(c, w.publish(prefix.encode() + b"/" + bad, b"x", version=version))
    rejects(c, w.RC_MALFORMED)
    assert_nothing_delivered(watch)


@BOTH
@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_m12_invalid_utf8_client_id(module_broker, raw, version, bad):
    c = raw(module_broker, version=version)
    send_bad(c, w.connect(b"id" + bad, version=version))
    rejects(c, w.RC_MALFORMED, in_connect=True)


@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_m12_invalid_utf8_user_property(module_broker, raw, bad):
    prefix = w.new_id("m12")
    watch = watcher(module_broker, raw, f"{prefix}/#")
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish(f"{prefix}/t", b"x", properties=w.props([(w.USER_PROPERTY, (b"k" + bad, "v"))])))
    rejects(c, w.RC_MALFORMED)
    assert_nothing_delivered(watch)


@BOTH
def test_m13_string_length_beyond_packet(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, b"\x30\x0a\xff\xff" + b"abcdefgh")  # topic length 65535 inside a 10-byte PUBLISH
    rejects(c, w.RC_MALFORMED)


@BOTH
def test_m14_empty_topic_without_alias(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, w.publish(b"", b"x", version=version))
    rejects(c, w.RC_PROTOCOL_ERROR)


@pytest.mark.parametrize("wildcard", ["+", "#"])
def test_m15_wildcard_topic_qos1_v5_puback_0x90(module_broker, raw, wildcard):
    prefix = w.new_id("m15")
    watch = watcher(module_broker, raw, f"{prefix}/#")
    c = connected(module_broker, raw, V5)
    c.send(w.publish(f"{prefix}/{wildcard}", b"x", qos=1, pid=5))
    ack = c.recv_type(w.PUBACK, skip=())
    assert (ack.packet_id, ack.reason) == (5, w.RC_TOPIC_NAME_INVALID), ack
    c.ping()
    assert_nothing_delivered(watch)


@pytest.mark.parametrize("wildcard", ["+", "#"])
def test_m15_wildcard_topic_qos0_v5_disconnect_0x90(module_broker, raw, wildcard):
    prefix = w.new_id("m15")
    watch = watcher(module_broker, raw, f"{prefix}/#")
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish(f"{prefix}/{wildcard}", b"x"))
    closes_with(c, w.DISCONNECT, w.RC_TOPIC_NAME_INVALID)
    assert_nothing_delivered(watch)


@pytest.mark.parametrize("qos", [0, 1])
@pytest.mark.parametrize("wildcard", ["+", "#"])
def test_m15_wildcard_topic_v311_closes(module_broker, raw, wildcard, qos):
    prefix = w.new_id("m15")
    watch = watcher(module_broker, raw, f"{prefix}/#")
    c = connected(module_broker, raw, V3)
    send_bad(c, w.publish(f"{prefix}/{wildcard}", b"x", qos=qos, version=V3))
    closes_silently(c)
    assert_nothing_delivered(watch)


@BOTH
def test_m16_publish_qos3(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, w.publish("m16/t", b"x", pid=1, version=version, flags=0x06))
    rejects(c, w.RC_MALFORMED)


@BOTH
def test_m17_qos0_with_dup(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, w.publish("m17/t", b"x", version=version, flags=0x08))
    rejects(c, w.RC_MALFORMED)


@BOTH
@pytest.mark.parametrize("packet", ["publish", "subscribe", "unsubscribe"])
def test_m19_packet_id_zero(module_broker, raw, version, packet):
    c = connected(module_broker, raw, version)
    bad = {"publish": lambda: w.publish("m19/t", b"x", qos=1, pid=0, version=version),
           "subscribe": lambda: w.subscribe(0, [("m19/t", 1)], version=version),
           "unsubscribe": lambda: w.unsubscribe(0, ["m19/t"], version=version)}[packet]()
    send_bad(c, bad)
    rejects(c, w.RC_MALFORMED)


# ------------------------------------------------------------------ M21-M26: SUBSCRIBE
@BOTH
@pytest.mark.parametrize("topic_filter", [
    pytest.param("/" * 65000, id="65000-slashes"),
    pytest.param("/".join(["l"] * 33), id="33-levels"),
])
def test_m21_too_many_levels(module_broker, raw, version, topic_filter):
    c = connected(module_broker, raw, version)
    ack = c.subscribe([(topic_filter, 0)])
    assert ack.reason_codes == [w.RC_TOPIC_FILTER_INVALID if version == V5 else 0x80], ack
    c.ping()


@BOTH
def test_m21_thirty_two_levels_accepted(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    assert c.subscribe([("/".join(["l"] * 32), 1)]).reason_codes == [1]


@BOTH
@pytest.mark.parametrize("flags", [0x0, 0x3, 0xA])
def test_m22_subscribe_header_flags(module_broker, raw, version, flags):
    c = connected(module_broker, raw, version)
    send_bad(c, w.subscribe(1, [("m22/t", 0)], version=version, flags=flags))
    rejects(c, w.RC_MALFORMED)


@BOTH
def test_m23_subscribe_without_filters(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    send_bad(c, w.subscribe(1, [], version=version))
    rejects(c, w.RC_PROTOCOL_ERROR)


@pytest.mark.parametrize("options", [
    pytest.param(0xC1, id="reserved-bits"), pytest.param(0x03, id="qos-3"), pytest.param(0x30, id="retain-handling-3"),
])
def test_m24_subscription_options_v5(module_broker, raw, options):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.subscribe(1, [("m24/t", options)]))
    closes_with(c, w.DISCONNECT, w.RC_MALFORMED)


@pytest.mark.parametrize("options", [
    pytest.param(0xC1, id="reserved-bits"), pytest.param(0x03, id="qos-3"), pytest.param(0x04, id="v5-bit-in-v3"),
])
def test_m24_subscription_options_v311(module_broker, raw, options):
    c = connected(module_broker, raw, V3)
    send_bad(c, w.subscribe(1, [("m24/t", options)], version=V3))
    closes_silently(c)


BAD_FILTERS = ["a/#/b", "a+", "#a", "$share/ab", "$share//t", "$share/g/"]


@BOTH
@pytest.mark.parametrize("topic_filter", BAD_FILTERS)
def test_m25_invalid_filters_refused_and_never_stored(module_broker, raw, version, topic_filter):
    c = connected(module_broker, raw, version)
    ack = c.subscribe([(topic_filter, 1)])
    assert ack.reason_codes == [w.RC_TOPIC_FILTER_INVALID if version == V5 else 0x80], ack
    pub = connected(module_broker, raw, V5)
    for topic in ("a/x/b", "a", "ab", "a/b", "t", "g", "g/t"):
        pub.send(w.publish(topic, b"probe"))
    pub.ping()
    assert_nothing_delivered(c)
    c.ping()


def test_m25_bad_filter_among_good_ones(module_broker, raw):
    """One SUBACK code per filter; the valid filters in the same SUBSCRIBE are granted."""
    c = connected(module_broker, raw, V5)
    t = w.new_id("m25")
    ack = c.subscribe([(f"{t}/ok", 1), ("a/#/b", 1), (f"$share/g/{t}", 1)])
    assert ack.reason_codes == [1, w.RC_TOPIC_FILTER_INVALID, 1], ack


def test_m26_shared_subscription_with_no_local(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.subscribe(1, [("$share/g/m26", w.sub_options(qos=1, no_local=True))]))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)


# ------------------------------------------------------------------ M29-M32: v5 properties
def test_m29_duplicate_property_in_connect(module_broker, raw):
    c = raw(module_broker)
    send_bad(c, w.connect(w.new_id(), properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 10),
                                                          (w.SESSION_EXPIRY_INTERVAL, 20)])))
    closes_with(c, w.CONNACK, w.RC_PROTOCOL_ERROR)


def test_m29_duplicate_property_in_publish(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish("m29/t", b"x", properties=w.props([(w.MESSAGE_EXPIRY_INTERVAL, 10),
                                                             (w.MESSAGE_EXPIRY_INTERVAL, 20)])))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)


def test_m30_unknown_property_in_connect(module_broker, raw):
    c = raw(module_broker)
    send_bad(c, w.connect(w.new_id(), properties=w.props(raw=b"\x7f\x00\x00\x00\x01")))
    closes_with(c, w.CONNACK, w.RC_MALFORMED)


def test_m30_unknown_property_in_publish(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish("m30/t", b"x", properties=w.props(raw=b"\x7f\x00\x00\x00\x01")))
    closes_with(c, w.DISCONNECT, w.RC_MALFORMED)


@pytest.mark.parametrize("length", [pytest.param(w.varint(200), id="beyond-packet"),
                                    pytest.param(b"\x80\x80\x80\x80\x00", id="five-byte-varint")])
def test_m31_bad_properties_length_in_connect(module_broker, raw, length):
    c = raw(module_broker)
    send_bad(c, w.connect(w.new_id(), properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 10)], length=length)))
    closes_with(c, w.CONNACK, w.RC_MALFORMED)


@pytest.mark.parametrize("length", [pytest.param(w.varint(200), id="beyond-packet"),
                                    pytest.param(b"\x80\x80\x80\x80\x00", id="five-byte-varint")])
def test_m31_bad_properties_length_in_publish(module_broker, raw, length):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish("m31/t", b"", properties=w.props([(w.MESSAGE_EXPIRY_INTERVAL, 10)], length=length)))
    closes_with(c, w.DISCONNECT, w.RC_MALFORMED)


@pytest.mark.parametrize("alias", [0, 11])
def test_m32_topic_alias_out_of_range(module_broker, raw, alias):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish("m32/t", b"x", properties=w.props([(w.TOPIC_ALIAS, alias)])))
    closes_with(c, w.DISCONNECT, w.RC_TOPIC_ALIAS_INVALID)


def test_m32_topic_alias_at_maximum_accepted(module_broker, raw):
    c = connected(module_broker, raw, V5)
    c.send(w.publish("m32/t", b"x", properties=w.props([(w.TOPIC_ALIAS, 10)])))
    c.send(w.publish(b"", b"y", properties=w.props([(w.TOPIC_ALIAS, 10)])))
    c.ping()


def test_m32_unmapped_alias_with_empty_topic(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish(b"", b"x", properties=w.props([(w.TOPIC_ALIAS, 5)])))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)


# ------------------------------------------------------------------ M33-M36: flow control and sizes
def test_m33_receive_maximum_exceeded(module_broker, raw):
    """Receive Maximum unfinished QoS 2 exchanges (PUBREC sent, no PUBREL yet) are fine; one more is 0x93."""
    c = raw(module_broker)
    ack = c.connect()
    limit = ack.properties.get(w.RECEIVE_MAXIMUM, 65535)
    assert limit == 100, f"default Receive Maximum: {ack.properties}"
    c.send(b"".join(w.publish("m33/t", b"x", qos=2, pid=i) for i in range(1, limit + 1)))
    for _ in range(limit):
        assert c.recv_type(w.PUBREC, skip=()).reason == 0
    send_bad(c, w.publish("m33/t", b"x", qos=2, pid=limit + 1))
    closes_with(c, w.DISCONNECT, w.RC_RECEIVE_MAXIMUM_EXCEEDED)


@BOTH
def test_m34_server_only_packets(module_broker, raw, version):
    packets = [b"\x20\x03\x00\x00\x00" if version == V5 else b"\x20\x02\x00\x00",
               b"\x90\x04\x00\x01\x00\x00" if version == V5 else b"\x90\x03\x00\x01\x00",
               b"\xb0\x04\x00\x01\x00\x00" if version == V5 else b"\xb0\x02\x00\x01",
               b"\xd0\x00"]
    for bad in packets:
        c = connected(module_broker, raw, version)
        send_bad(c, bad)
        rejects(c, w.RC_PROTOCOL_ERROR)


@BOTH
def test_m35_ack_for_unknown_packet_id(module_broker, raw, version):
    c = connected(module_broker, raw, version)
    c.send(w.puback(77, version))
    c.ping()  # ignored, connection in sync
    c.send(w.pubrel(78, version))
    comp = c.recv_type(w.PUBCOMP, skip=())
    assert comp.packet_id == 78
    if version == V5:
        assert comp.reason == w.RC_PACKET_ID_NOT_FOUND, comp
    c.ping()


def test_m36_ten_thousand_user_properties(module_broker, raw):
    c = connected(module_broker, raw, V5)
    t0 = time.monotonic()
    send_bad(c, w.publish("m36/t", b"x", properties=w.props([(w.USER_PROPERTY, ("k", "v"))] * 10_000)))
    closes_with(c, w.DISCONNECT, w.RC_MALFORMED)
    assert time.monotonic() - t0 < 1.0


def test_m36_user_property_cap_boundary(module_broker, raw):
    """64 user properties (the cap) are delivered intact; 65 are refused with 0x81."""
    topic = w.new_id("m36")
    watch = watcher(module_broker, raw, topic)
    c = connected(module_broker, raw, V5)
    sixty_four = [(w.USER_PROPERTY, (f"k{i}", "v")) for i in range(64)]
    c.send(w.publish(topic, b"ok", properties=w.props(sixty_four)))
    got = watch.recv_type(w.PUBLISH, skip=()).publish()
    assert len(got["props"][w.USER_PROPERTY]) == 64
    send_bad(c, w.publish(topic, b"no", properties=w.props(sixty_four + [(w.USER_PROPERTY, ("k64", "v"))])))
    closes_with(c, w.DISCONNECT, w.RC_MALFORMED)
    assert_nothing_delivered(watch)


def test_m36_largest_single_user_property_is_legal(module_broker, raw):
    """One user property is at most 2 x 65,535 bytes (two UTF-8 strings), so the plan's '200 KiB user
    property' cannot be encoded; the largest one (128 KiB) fits the 256 KiB + 1 KiB maximum and is delivered."""
    topic = w.new_id("m36")
    watch = watcher(module_broker, raw, topic)
    c = connected(module_broker, raw, V5)
    big = ("k" * 65535, "v" * 65535)
    c.send(w.publish(topic, b"x", properties=w.props([(w.USER_PROPERTY, big)])))
    got = watch.recv_type(w.PUBLISH, skip=(), timeout=5).publish()
    assert got["props"][w.USER_PROPERTY] == [big]
    c.ping()


def test_m36_huge_user_properties_over_max_packet_size(module_broker, raw):
    """Three maximal user properties (384 KiB) exceed the default maximum packet size: 0x95, quickly."""
    c = connected(module_broker, raw, V5)
    t0 = time.monotonic()
    big = ("k" * 65535, "v" * 65535)
    send_bad(c, w.publish("m36/t", b"x", properties=w.props([(w.USER_PROPERTY, big)] * 3)))
    closes_with(c, w.DISCONNECT, w.RC_PACKET_TOO_LARGE)
    assert time.monotonic() - t0 < 1.0


# ------------------------------------------------------------------ M37-M38: time limits
@BOTH
def test_m37_keep_alive_timeout(module_broker, raw, version):
    c = connected(module_broker, raw, version, keepalive=1)
    t0 = time.monotonic()
    rejects(c, w.RC_KEEP_ALIVE_TIMEOUT)
    assert 1.4 <= time.monotonic() - t0 <= 2.5 + 0.25


@pytest.mark.broker(limits={"connect-timeout": 2})
def test_m38_silent_socket_closed_at_connect_deadline(broker):
    s = socket.create_connection((broker.host, broker.mqtt_port), timeout=5)
    t0 = time.monotonic()
    try:
        s.settimeout(5)
        assert s.recv(16) == b"", "the broker sent something to a client that never sent CONNECT"
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError("a socket that never sent CONNECT is still open after 5 s") from None
    finally:
        s.close()
    assert 1.5 <= time.monotonic() - t0 <= 3.5, time.monotonic() - t0


@pytest.mark.broker(limits={"connect-timeout": 2})
def test_m38_dripped_connect_closed_at_deadline_whatever_the_progress(broker):
    data = w.connect(w.new_id())
    s = socket.create_connection((broker.host, broker.mqtt_port), timeout=5)
    t0, closed_at, i = time.monotonic(), None, 0
    try:
        while time.monotonic() - t0 < 6 and closed_at is None:
            if i < len(data) - 1:  # never send the last byte
                try:
                    s.sendall(data[i:i + 1])
                except OSError:
                    closed_at = time.monotonic()
                    break
                i += 1
            ready, _, _ = select.select([s], [], [], 0.5)
            if ready:
                try:
                    if s.recv(64) == b"":
                        closed_at = time.monotonic()
                except OSError:
                    closed_at = time.monotonic()
    finally:
        s.close()
    assert closed_at is not None, "still open after 6 s"
    assert 1.5 <= closed_at - t0 <= 3.5, closed_at - t0


@pytest.mark.broker(limits={"connect-timeout": 2})
def test_m38_idle_sockets_do_not_block_real_clients(broker):
    """500 silent sockets: a real client still connects at once, and all 500 are closed by the deadline."""
    socks = [socket.create_connection((broker.host, broker.mqtt_port), timeout=5) for _ in range(500)]
    try:
        t0 = time.monotonic()
        canary(broker)
        assert time.monotonic() - t0 < 1.5
        time.sleep(max(0.0, 3.5 - (time.monotonic() - t0)))
        still_open = 0
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) != b"":
                    still_open += 1
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
        assert still_open == 0, f"{still_open} of 500 silent sockets still open after the CONNECT deadline"
    finally:
        for s in socks:
            s.close()


# ------------------------------------------------------------------ M41-M43: protocol errors
def test_m41_response_topic_with_wildcard(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish("m41/t", b"x", properties=w.props([(w.RESPONSE_TOPIC, "m41/+/reply")])))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)


def test_m41_client_publish_with_subscription_identifier(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.publish("m41/t", b"x", properties=w.props([(w.SUBSCRIPTION_IDENTIFIER, 3)])))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)


def test_m42_auth_without_enhanced_authentication(module_broker, raw):
    c = connected(module_broker, raw, V5)
    send_bad(c, w.auth(0x18))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)


def test_m43_disconnect_raising_session_expiry_from_zero(module_broker, raw):
    c = connected(module_broker, raw, V5)  # no Session Expiry Interval: 0
    send_bad(c, w.disconnect(V5, reason=0, properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 60)])))
    closes_with(c, w.DISCONNECT, w.RC_PROTOCOL_ERROR)
