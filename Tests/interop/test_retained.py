"""Retained messages: set, replaced, cleared, delivered on subscribe, and kept across a broker restart."""
import pytest

from clients import VERSIONS, new_topic, version_id

pytestmark = pytest.mark.parametrize("version", VERSIONS, ids=version_id)


def test_retained_set_replace_clear(module_broker, clients, version):
    topic = new_topic("retained")
    pub = clients(module_broker, version=version).connect()

    pub.publish(topic, b"first", qos=1, retain=True)
    s1 = clients(module_broker, version=version).connect()
    s1.subscribe(topic, 1)
    (m,) = s1.expect(1)
    assert (m.payload, m.retain) == (b"first", True), "retained message delivered on subscribe with RETAIN=1"

    pub.publish(topic, b"second", qos=1, retain=True)
    (live,) = s1.expect(1)
    assert live.payload == b"second"
    s2 = clients(module_broker, version=version).connect()
    s2.subscribe(topic, 1)
    assert [(m.payload, m.retain) for m in s2.expect(1)] == [(b"second", True)], "replaced, not appended"
    s2.expect_none(0.3)

    pub.publish(topic, b"", qos=1, retain=True)  # empty payload clears [MQTT-3.3.1-10]
    s3 = clients(module_broker, version=version).connect()
    s3.subscribe(topic, 1)
    s3.expect_none(0.5)


def test_retained_matched_by_wildcard_subscription(module_broker, clients, version):
    base = new_topic("retained")
    pub = clients(module_broker, version=version).connect()
    for leaf in ("a", "b", "c/d"):
        pub.publish(f"{base}/{leaf}", leaf.encode(), qos=1, retain=True)
    sub = clients(module_broker, version=version).connect()
    sub.subscribe(f"{base}/+", 0)
    assert sorted(m.payload for m in sub.expect(2)) == [b"a", b"b"]
    sub.expect_none(0.3)


def test_retained_survives_restart(broker, clients, version):
    topic = new_topic("retained")
    pub = clients(broker, version=version).connect()
    pub.publish(topic, b"keep me", qos=1, retain=True)
    pub.publish(f"{topic}/gone", b"x", qos=1, retain=True)
    pub.publish(f"{topic}/gone", b"", qos=1, retain=True)
    pub.disconnect()

    broker.restart()

    sub = clients(broker, version=version).connect()
    sub.subscribe(f"{topic}/#", 1)
    got = sub.drain(quiet=0.5)
    assert [(m.topic, m.payload, m.retain) for m in got] == [(topic, b"keep me", True)]
