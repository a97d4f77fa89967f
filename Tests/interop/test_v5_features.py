"""MQTT 5.0 features with paho-mqtt and raw packets: shared subscriptions, topic aliases, no-local,
subscription identifiers, retain-as-published, retain handling, user properties, request/response,
maximum packet size, session takeover and keep-alive."""
import time

import pytest

import mqttwire as w
from clients import V5, VERSIONS, new_topic, props, sub_options, version_id
from paho.mqtt.packettypes import PacketTypes


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_shared_subscription_each_message_to_exactly_one_member(module_broker, clients, version):
    topic = new_topic("shared")
    group = f"$share/g{w.new_id('')[2:]}/{topic}"
    members = [clients(module_broker, version=version).connect() for _ in range(2)]
    for m in members:
        assert m.subscribe(group, 1)[0].value == 1
    plain = clients(module_broker, version=version).connect()
    plain.subscribe(topic, 1)
    pub = clients(module_broker, version=version).connect()
    sent = [f"s{i}".encode() for i in range(40)]
    for p in sent:
        pub.publish(topic, p, qos=1)
    assert [m.payload for m in plain.expect(40)] == sent, "non-shared subscriber still gets everything"
    received = [c.drain(quiet=0.5) for c in members]
    per_member = [[m.payload for m in msgs] for msgs in received]
    assert sorted(per_member[0] + per_member[1]) == sorted(sent), f"each message to exactly one member: {per_member}"
    assert {m.topic for msgs in received for m in msgs} == {topic}, "delivered with the published topic name"


def test_topic_alias_from_client(module_broker, clients):
    topic = new_topic("alias")
    sub = clients(module_broker, version=V5).connect()
    sub.subscribe(topic, 1)
    pub = clients(module_broker, version=V5).connect()
    assert pub.connack_props.TopicAliasMaximum >= 1, "broker advertises a Topic Alias Maximum"
    pub.publish(topic, b"with topic", qos=1, properties=props(TopicAlias=1))
    pub.publish("", b"alias only", qos=1, properties=props(TopicAlias=1))
    got = sub.expect(2)
    assert [(m.topic, m.payload) for m in got] == [(topic, b"with topic"), (topic, b"alias only")]


def test_topic_alias_remapped(module_broker, clients, raw):
    t1, t2 = new_topic("alias"), new_topic("alias")
    sub = clients(module_broker, version=V5).connect()
    sub.subscribe(t1, 0)
    sub.subscribe(t2, 0)
    c = raw(module_broker)
    c.connect()
    c.send(w.publish(t1, b"1", properties=w.props([(w.TOPIC_ALIAS, 2)])))
    c.send(w.publish(t2, b"2", properties=w.props([(w.TOPIC_ALIAS, 2)])))  # alias 2 now means t2
    c.send(w.publish("", b"3", properties=w.props([(w.TOPIC_ALIAS, 2)])))
    c.ping()
    assert [(m.topic, m.payload) for m in sub.expect(3)] == [(t1, b"1"), (t2, b"2"), (t2, b"3")]


def test_no_local(module_broker, clients):
    topic = new_topic("nolocal")
    me = clients(module_broker, version=V5).connect()
    me.subscribe(topic, options=sub_options(qos=1, no_local=True))
    other = clients(module_broker, version=V5).connect()
    other.subscribe(topic, 1)
    me.publish(topic, b"mine", qos=1)
    assert [m.payload for m in other.expect(1)] == [b"mine"]
    me.expect_none(0.5)
    other.publish(topic, b"theirs", qos=1)
    assert [m.payload for m in me.expect(1)] == [b"theirs"]


def test_subscription_identifiers_echoed(module_broker, clients):
    base = new_topic("subid")
    c = clients(module_broker, version=V5).connect()
    c.subscribe(f"{base}/#", 1, properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7))
    c.subscribe(f"{base}/+/x", 1, properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=300))
    pub = clients(module_broker, version=V5).connect()
    pub.publish(f"{base}/only-hash", b"a", qos=1)
    (m,) = c.expect(1)
    assert m.properties.SubscriptionIdentifier == [7]
    pub.publish(f"{base}/y/x", b"b", qos=1)
    ids = sorted(i for m in c.drain(quiet=0.5) for i in m.properties.SubscriptionIdentifier)
    # one message carrying both identifiers, or one copy per subscription [MQTT-3.3.4-3..5]
    assert ids == [7, 300]


def test_retain_as_published(module_broker, clients):
    topic = new_topic("rap")
    keep = clients(module_broker, version=V5).connect()
    keep.subscribe(topic, options=sub_options(qos=1, retain_as_published=True))
    clear = clients(module_broker, version=V5).connect()
    clear.subscribe(topic, options=sub_options(qos=1, retain_as_published=False))
    pub = clients(module_broker, version=V5).connect()
    pub.publish(topic, b"r", qos=1, retain=True)
    assert [m.retain for m in keep.expect(1)] == [True]
    assert [m.retain for m in clear.expect(1)] == [False], "RETAIN cleared on live forwarding [MQTT-3.3.1-13]"
    pub.publish(topic, b"", qos=1, retain=True)


def test_retain_handling(module_broker, clients):
    topic = new_topic("rh")
    pub = clients(module_broker, version=V5).connect()
    pub.publish(topic, b"retained", qos=1, retain=True)

    rh2 = clients(module_broker, version=V5).connect()
    rh2.subscribe(topic, options=sub_options(qos=1, retain_handling=2))
    rh2.expect_none(0.5)  # 2: never send retained messages on subscribe

    rh1 = clients(module_broker, version=V5).connect()
    rh1.subscribe(topic, options=sub_options(qos=1, retain_handling=1))
    assert [m.payload for m in rh1.expect(1)] == [b"retained"]
    rh1.subscribe(topic, options=sub_options(qos=1, retain_handling=1))
    rh1.expect_none(0.5)  # 1: only if the subscription did not exist

    rh0 = clients(module_broker, version=V5).connect()
    rh0.subscribe(topic, options=sub_options(qos=1, retain_handling=0))
    rh0.expect(1)
    rh0.subscribe(topic, options=sub_options(qos=1, retain_handling=0))
    assert [m.payload for m in rh0.expect(1)] == [b"retained"]  # 0: on every subscribe
    pub.publish(topic, b"", qos=1, retain=True)


def test_user_properties_and_request_response_pass_through(module_broker, clients):
    topic = new_topic("req")
    sub = clients(module_broker, version=V5).connect()
    sub.subscribe(topic, 1)
    pub = clients(module_broker, version=V5).connect()
    p = props(ResponseTopic=f"{topic}/reply", CorrelationData=b"\x00\x01corr\xff",
              ContentType="application/json", PayloadFormatIndicator=1)
    p.UserProperty = [("a", "1"), ("b", "2"), ("a", "3")]
    pub.publish(topic, b'{"x":1}', qos=1, properties=p)
    (m,) = sub.expect(1)
    mp = m.properties
    assert mp.UserProperty == [("a", "1"), ("b", "2"), ("a", "3")], "order and duplicates kept [MQTT-3.3.2-18]"
    assert mp.ResponseTopic == f"{topic}/reply"
    assert mp.CorrelationData == b"\x00\x01corr\xff"
    assert mp.ContentType == "application/json"
    assert mp.PayloadFormatIndicator == 1


@pytest.mark.broker(limits={"max-packet-size": 2048})
def test_oversized_publish_disconnects_with_0x95(broker, raw, clients):
    watcher = clients(broker, version=V5).connect()
    topic = new_topic("big")
    watcher.subscribe(topic, 0)
    c = raw(broker)
    ack = c.connect()
    assert ack.properties.get(w.MAXIMUM_PACKET_SIZE) == 2048, f"CONNACK advertises it: {ack.properties}"
    c.send(w.publish(topic, b"x" * 1000))  # fits
    c.send(w.publish(topic, b"x" * 4096))  # does not
    got = c.wait_closed(5)
    assert [(p.type, p.reason) for p in got if p.type == w.DISCONNECT] == [(w.DISCONNECT, w.RC_PACKET_TOO_LARGE)], got
    assert [len(m.payload) for m in watcher.drain(quiet=0.5)] == [1000]


@pytest.mark.broker(limits={"max-packet-size": 2048})
def test_oversized_publish_v311_closes(broker, raw):
    c = raw(broker, version=w.V311)
    c.connect()
    c.send(w.publish("big", b"x" * 4096, version=w.V311))
    assert c.wait_closed(5) == []


@pytest.mark.parametrize("version", [w.V311, w.V5], ids=["v311", "v5"])
def test_session_takeover(module_broker, raw, version):
    """The same client id connecting again closes the first connection [MQTT-3.1.4-3]."""
    cid = w.new_id("takeover")
    first = raw(module_broker, version=version)
    first.connect(cid)
    second = raw(module_broker, version=version)
    second.connect(cid)
    got = first.wait_closed(5)
    if version == w.V311:
        assert got == [], "3.1.1: the old connection is just closed [MQTT-3.1.4-2]"
    second.ping()


@pytest.mark.meridian_only
def test_session_takeover_v5_reason(module_broker, raw):
    """v5: the old connection gets DISCONNECT 0x8E Session taken over (Mosquitto 2.0.11 just closes it)."""
    cid = w.new_id("takeover")
    first = raw(module_broker)
    first.connect(cid)
    second = raw(module_broker)
    second.connect(cid)
    got = first.wait_closed(5)
    assert [(p.type, p.reason) for p in got] == [(w.DISCONNECT, w.RC_SESSION_TAKEN_OVER)], got
    second.ping()


@pytest.mark.parametrize("version", [w.V311, w.V5], ids=["v311", "v5"])
def test_keep_alive_expiry(module_broker, raw, version):
    """Keep Alive 1 s and silence: closed after 1.5 s, no later than 1.5 s + 1 s [MQTT-3.1.2-24].
    (Mosquitto 2.0.11 checks keep-alive on a coarse timer and takes 5-6 s, so it gets a wider bound.)"""
    limit = 2.5 if module_broker.kind == "meridian" else 8.0
    c = raw(module_broker, version=version)
    c.connect(keepalive=1)
    t0 = time.monotonic()
    got = c.wait_closed(limit + 0.5)
    elapsed = time.monotonic() - t0
    assert 1.4 <= elapsed <= limit + 0.25, f"closed after {elapsed:.2f} s"
    if version == w.V5:
        assert [(p.type, p.reason) for p in got] in ([], [(w.DISCONNECT, w.RC_KEEP_ALIVE_TIMEOUT)]), got


@pytest.mark.meridian_only
def test_keep_alive_expiry_v5_reason(module_broker, raw):
    """Meridian sends DISCONNECT 0x8D before closing (reliability plan M37)."""
    c = raw(module_broker)
    c.connect(keepalive=1)
    got = c.wait_closed(4)
    assert [(p.type, p.reason) for p in got] == [(w.DISCONNECT, w.RC_KEEP_ALIVE_TIMEOUT)], got


def test_keep_alive_respected_with_pings(module_broker, raw):
    c = raw(module_broker)
    c.connect(keepalive=1)
    for _ in range(4):
        time.sleep(0.6)
        c.ping()
