"""Publish/subscribe basics with paho-mqtt (3.1.1 and 5.0) and the mosquitto_pub/mosquitto_sub CLIs."""
import pytest

from clients import V5, VERSIONS, cli_roundtrip, new_topic, version_id

pytestmark = pytest.mark.parametrize("version", VERSIONS, ids=version_id)


def test_exact_topic_roundtrip_qos0(module_broker, clients, version):
    topic = new_topic()
    sub = clients(module_broker, version=version).connect()
    assert sub.subscribe(topic, 0)[0].value == 0
    pub = clients(module_broker, version=version).connect()
    pub.publish(topic, b"hello", qos=0)
    (m,) = sub.expect(1)
    assert (m.topic, m.payload, m.qos) == (topic, b"hello", 0)


def test_single_level_wildcard(module_broker, clients, version):
    base = new_topic()
    sub = clients(module_broker, version=version).connect()
    sub.subscribe(f"{base}/+/temp", 1)
    pub = clients(module_broker, version=version).connect()
    for t in (f"{base}/a/temp", f"{base}/b/temp", f"{base}/a/b/temp", f"{base}/temp", f"{base}/a/hum"):
        pub.publish(t, t.encode(), qos=1)
    got = sorted(m.topic for m in sub.drain())
    assert got == [f"{base}/a/temp", f"{base}/b/temp"]


def test_multi_level_wildcard(module_broker, clients, version):
    base = new_topic()
    sub = clients(module_broker, version=version).connect()
    sub.subscribe(f"{base}/#", 1)
    pub = clients(module_broker, version=version).connect()
    topics = [base, f"{base}/x", f"{base}/x/y/z"]
    for t in topics + [f"{base}x", f"other/{base}"]:
        pub.publish(t, b"m", qos=1)
    # '#' also matches the parent level itself [MQTT-4.7.1-2]
    assert sorted(m.topic for m in sub.drain()) == sorted(topics)


def test_dollar_topics_not_matched_by_leading_wildcards(module_broker, clients, version):
    """`#` and `+/...` never match topics starting with `$` [MQTT-4.7.2-1]; `$x/#` does."""
    tag = new_topic("").strip("/")
    everything = clients(module_broker, version=version).connect()
    everything.subscribe("#", 0)
    plus = clients(module_broker, version=version).connect()
    plus.subscribe(f"+/{tag}", 0)
    dollar = clients(module_broker, version=version).connect()
    dollar.subscribe(f"$interop/{tag}", 0)
    pub = clients(module_broker, version=version).connect()
    pub.publish(f"$interop/{tag}", b"dollar", qos=1)
    pub.publish(f"plain/{tag}", b"plain", qos=1)
    assert [m.payload for m in dollar.expect(1)] == [b"dollar"]
    assert [m.payload for m in plus.expect(1)] == [b"plain"]
    seen = everything.drain(quiet=0.5)
    assert not [m.topic for m in seen if m.topic.startswith("$")], "a $-topic matched '#'"
    assert any(m.payload == b"plain" for m in seen)


def test_qos1_delivery_and_downgrade(module_broker, clients, version):
    topic = new_topic()
    sub1 = clients(module_broker, version=version).connect()
    sub0 = clients(module_broker, version=version).connect()
    assert sub1.subscribe(topic, 1)[0].value == 1
    assert sub0.subscribe(topic, 0)[0].value == 0
    pub = clients(module_broker, version=version).connect()
    for i in range(20):
        pub.publish(topic, str(i).encode(), qos=1)
    got1 = sub1.expect(20)
    assert [m.payload for m in got1] == [str(i).encode() for i in range(20)], "QoS 1 order per publisher"
    assert {m.qos for m in got1} == {1}
    assert {m.qos for m in sub0.expect(20)} == {0}, "delivered QoS is min(publish, subscription)"


def test_qos2_delivery(module_broker, clients, version):
    topic = new_topic()
    sub = clients(module_broker, version=version).connect()
    assert sub.subscribe(topic, 2)[0].value == 2
    pub = clients(module_broker, version=version).connect()
    for i in range(10):
        pub.publish(topic, str(i).encode(), qos=2)
    got = sub.expect(10)
    assert [m.payload for m in got] == [str(i).encode() for i in range(10)]
    assert {m.qos for m in got} == {2}
    sub.expect_none(0.3)


def test_unsubscribe_stops_delivery(module_broker, clients, version):
    topic = new_topic()
    sub = clients(module_broker, version=version).connect()
    sub.subscribe(topic, 1)
    pub = clients(module_broker, version=version).connect()
    pub.publish(topic, b"1", qos=1)
    sub.expect(1)
    sub.unsubscribe(topic)
    pub.publish(topic, b"2", qos=1)
    sub.expect_none(0.5)


def test_mosquitto_cli_pub_sub(module_broker, version):
    """mosquitto_sub receives what mosquitto_pub sends, over plain TCP."""
    v = "mqttv5" if version == V5 else "mqttv311"
    cli_roundtrip(["-h", module_broker.host, "-p", str(module_broker.mqtt_port), "-V", v, "-t", new_topic()], 3, "cli")
