"""Persistent sessions: queued QoS 1/2 messages across reconnects and broker restarts, exactly-once QoS 2."""
import time

import pytest

import mqttwire as w
from clients import V5, VERSIONS, new_topic, props, version_id
from paho.mqtt.packettypes import PacketTypes

SESSION_EXPIRY = 300


def persistent(clients, broker, version, client_id):
    """A paho client that resumes its session: clean_session=False (3.1.1) / clean_start=False + expiry (5.0)."""
    c = clients(broker, version=version, client_id=client_id, clean=False)
    p = props(PacketTypes.CONNECT, SessionExpiryInterval=SESSION_EXPIRY) if version == V5 else None
    return c.connect(properties=p)


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_qos2_exactly_once_for_offline_persistent_session(module_broker, clients, version):
    topic, cid = new_topic("s"), w.new_id("sess")
    sub = persistent(clients, module_broker, version, cid)
    assert sub.subscribe(topic, 2)[0].value == 2
    sub.disconnect()
    pub = clients(module_broker, version=version).connect()
    for i in range(20):
        pub.publish(topic, f"m{i}".encode(), qos=2)
    again = persistent(clients, module_broker, version, cid)
    assert again.session_present
    got = [m.payload for m in again.drain(quiet=0.7)]
    assert got == [f"m{i}".encode() for i in range(20)], "each queued QoS 2 message exactly once, in order"


@pytest.mark.parametrize("version", [w.V311, w.V5], ids=["v311", "v5"])
def test_qos2_no_duplicate_after_pubrec_and_reconnect(module_broker, clients, raw, version):
    """Receiver sent PUBREC, then the connection dropped: on resume the broker sends PUBREL, not the PUBLISH again
    ([MQTT-4.4.0-1], QoS 2 method B); a PUBLISH not yet acknowledged is resent with DUP=1."""
    topic, cid = new_topic("s"), w.new_id("q2")
    session = {"properties": w.props([(w.SESSION_EXPIRY_INTERVAL, SESSION_EXPIRY)])} if version == w.V5 else {}
    sub = raw(module_broker, version=version)
    sub.connect(cid, clean=False, **session)
    assert sub.subscribe([(topic, 2)]).reason_codes == [2]
    sub.send(w.disconnect(version))
    sub.wait_closed()

    sub = raw(module_broker, version=version)
    ack = sub.connect(cid, clean=False, **session)
    assert ack.session_present
    pub = clients(module_broker, version=(V5 if version == w.V5 else version)).connect()
    pub.publish(topic, b"once", qos=2)
    pub.publish(topic, b"twice?", qos=2)

    first = sub.recv_type(w.PUBLISH, skip=()).publish()
    second = sub.recv_type(w.PUBLISH, skip=()).publish()
    assert (first["payload"], first["qos"], second["payload"]) == (b"once", 2, b"twice?")
    sub.send(w.pubrec(first["pid"], version))  # acknowledge only the first
    sub.recv_type(w.PUBREL, skip=())
    sub.close()  # drop before PUBCOMP; the second PUBLISH is unacknowledged

    sub = raw(module_broker, version=version)
    ack = sub.connect(cid, clean=False, **session)
    assert ack.session_present
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not ({"pubrel", "publish"} <= {s[0] for s in seen}):
        p = sub.recv(max(0.01, deadline - time.monotonic()))
        if p.type == w.PUBREL:
            seen.append(("pubrel", p.packet_id))
            sub.send(w.pubcomp(p.packet_id, version))
        elif p.type == w.PUBLISH:
            d = p.publish()
            seen.append(("publish", d["payload"], d["dup"]))
            sub.send(w.pubrec(d["pid"], version))
            sub.recv_type(w.PUBREL, skip=())
            sub.send(w.pubcomp(d["pid"], version))
    assert ("pubrel", first["pid"]) in seen, f"PUBREL for the PUBREC'd message must be resent: {seen}"
    assert [s for s in seen if s[0] == "publish"] == [("publish", b"twice?", True)], \
        f"only the unacknowledged PUBLISH is resent, with DUP=1: {seen}"
    sub.ping()
    sub.send(w.disconnect(version, reason=0 if version == w.V5 else None,
                          properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 0)]) if version == w.V5 else None))


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_persistent_session_survives_broker_restart(broker, clients, version):
    """Subscriptions and queued QoS 1 messages of an offline session are flushed and restored."""
    topic, cid = new_topic("s"), w.new_id("sess")
    sub = persistent(clients, broker, version, cid)
    sub.subscribe(topic, 1)
    sub.disconnect()
    pub = clients(broker, version=version).connect()
    for i in range(5):
        pub.publish(topic, f"queued-{i}".encode(), qos=1)
    pub.disconnect()

    broker.restart()

    again = persistent(clients, broker, version, cid)
    assert again.session_present, "session restored after restart"
    assert [m.payload for m in again.expect(5)] == [f"queued-{i}".encode() for i in range(5)]
    pub = clients(broker, version=version).connect()
    pub.publish(topic, b"after restart", qos=1)
    assert [m.payload for m in again.expect(1)] == [b"after restart"], "subscription restored without resubscribing"
    again.expect_none(0.3)


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_clean_session_discards_state(module_broker, clients, version):
    topic, cid = new_topic("s"), w.new_id("sess")
    sub = persistent(clients, module_broker, version, cid)
    sub.subscribe(topic, 1)
    sub.disconnect()
    clean = clients(module_broker, version=version, client_id=cid, clean=True).connect()
    assert not clean.session_present
    clients(module_broker, version=version).connect().publish(topic, b"x", qos=1)
    clean.expect_none(0.5)


def test_v5_message_expiry_while_offline(module_broker, clients):
    """A queued message whose Message Expiry Interval passes while the subscriber is offline is dropped;
    one still alive is delivered with the remaining interval [MQTT-3.3.2-5, MQTT-3.3.2-6]."""
    topic, cid = new_topic("s"), w.new_id("exp")
    sub = persistent(clients, module_broker, V5, cid)
    sub.subscribe(topic, 1)
    sub.disconnect()
    pub = clients(module_broker, version=V5).connect()
    pub.publish(topic, b"short", qos=1, properties=props(MessageExpiryInterval=1))
    pub.publish(topic, b"long", qos=1, properties=props(MessageExpiryInterval=60))
    time.sleep(2.2)
    again = persistent(clients, module_broker, V5, cid)
    got = again.drain(quiet=0.7)
    assert [m.payload for m in got] == [b"long"]
    remaining = got[0].properties.MessageExpiryInterval
    assert 1 <= remaining <= 58, f"expiry interval must be reduced by the time waited, got {remaining}"


def test_v5_session_expires(module_broker, clients):
    """Session Expiry Interval 1 s: after 2.5 s offline the session is gone."""
    topic, cid = new_topic("s"), w.new_id("exp")
    c = clients(module_broker, version=V5, client_id=cid, clean=False)
    c.connect(properties=props(PacketTypes.CONNECT, SessionExpiryInterval=1))
    c.subscribe(topic, 1)
    c.disconnect()
    time.sleep(2.5)
    again = clients(module_broker, version=V5, client_id=cid, clean=False)
    again.connect(properties=props(PacketTypes.CONNECT, SessionExpiryInterval=1))
    assert not again.session_present


def test_v311_empty_client_id_needs_clean_session(module_broker, raw):
    """3.1.1: a zero-length ClientId with CleanSession=0 is refused with CONNACK 0x02 [MQTT-3.1.3-8];
    with CleanSession=1 it is accepted [MQTT-3.1.3-6]."""
    c = raw(module_broker, version=w.V311)
    ack = c.connect("", clean=False, expect_ok=False)
    assert (ack.type, ack.reason) == (w.CONNACK, w.V3_IDENTIFIER_REJECTED), ack
    assert c.wait_closed(3) == []
    ok = raw(module_broker, version=w.V311)
    ok.connect("", clean=True)
    ok.ping()


def test_v5_empty_client_id_gets_assigned_identifier(module_broker, raw):
    """5.0: the broker assigns a ClientId and returns it in CONNACK [MQTT-3.2.2-16]."""
    c = raw(module_broker)
    ack = c.connect("")
    assigned = ack.properties.get(w.ASSIGNED_CLIENT_IDENTIFIER)
    assert assigned, f"no Assigned Client Identifier: {ack.properties}"
    c.ping()
