"""Will messages: published on an abnormal disconnect, not on DISCONNECT; v5 Will Delay Interval."""
import time

import pytest

import mqttwire as w
from clients import V5, VERSIONS, new_topic, version_id


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_will_published_on_abnormal_disconnect(module_broker, clients, raw, version):
    topic = new_topic("will")
    watcher = clients(module_broker, version=version).connect()
    watcher.subscribe(topic, 1)
    c = raw(module_broker, version=version)
    c.connect(will={"topic": topic, "payload": b"gone", "qos": 1})
    c.ping()
    c.close()  # socket closed without DISCONNECT
    (m,) = watcher.expect(1, timeout=5)
    assert (m.topic, m.payload) == (topic, b"gone")


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_will_published_when_paho_connection_drops(module_broker, clients, version):
    topic = new_topic("will")
    watcher = clients(module_broker, version=version).connect()
    watcher.subscribe(topic, 1)
    dev = clients(module_broker, version=version).connect(will={"topic": topic, "payload": b"paho gone", "qos": 1})
    dev.abort()
    assert [m.payload for m in watcher.expect(1)] == [b"paho gone"]


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_no_will_on_normal_disconnect(module_broker, clients, raw, version):
    topic = new_topic("will")
    watcher = clients(module_broker, version=version).connect()
    watcher.subscribe(topic, 1)
    c = raw(module_broker, version=version)
    c.connect(will={"topic": topic, "payload": b"gone", "qos": 1})
    c.send(w.disconnect(version))
    c.wait_closed(5)
    watcher.expect_none(1.0)


def test_v5_disconnect_with_will_message_reason_sends_will(module_broker, clients, raw):
    """DISCONNECT with reason 0x04 asks the broker to publish the Will [MQTT-3.14.4-3]."""
    topic = new_topic("will")
    watcher = clients(module_broker, version=V5).connect()
    watcher.subscribe(topic, 1)
    c = raw(module_broker)
    c.connect(will={"topic": topic, "payload": b"asked", "qos": 1})
    c.send(w.disconnect(w.V5, reason=w.RC_DISCONNECT_WITH_WILL))
    assert [m.payload for m in watcher.expect(1)] == [b"asked"]


def test_v5_will_delay_interval(module_broker, clients, raw):
    """Will Delay 2 s (session expiry 30 s): not before ~2 s, and within a bounded time after."""
    topic = new_topic("will")
    watcher = clients(module_broker, version=V5).connect()
    watcher.subscribe(topic, 1)
    c = raw(module_broker)
    c.connect(properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 30)]),
              will={"topic": topic, "payload": b"late", "qos": 1,
                    "properties": w.props([(w.WILL_DELAY_INTERVAL, 2)])})
    c.close()
    t0 = time.monotonic()
    watcher.expect_none(1.5)
    (m,) = watcher.expect(1, timeout=5)
    elapsed = time.monotonic() - t0
    assert m.payload == b"late"
    assert 1.5 <= elapsed <= 6.5, elapsed


def test_v5_will_delay_cancelled_by_reconnect(module_broker, clients, raw):
    """Reconnecting within the Will Delay Interval suppresses the will [MQTT-3.1.3-9]."""
    topic = new_topic("will")
    cid = w.new_id("will")
    watcher = clients(module_broker, version=V5).connect()
    watcher.subscribe(topic, 1)
    c = raw(module_broker)
    c.connect(cid, properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 30)]),
              will={"topic": topic, "payload": b"late", "qos": 1,
                    "properties": w.props([(w.WILL_DELAY_INTERVAL, 3)])})
    c.close()
    time.sleep(0.5)
    again = raw(module_broker)
    ack = again.connect(cid, clean=False, properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 30)]))
    assert ack.session_present
    watcher.expect_none(4.0)
    again.send(w.disconnect(w.V5, reason=0, properties=w.props([(w.SESSION_EXPIRY_INTERVAL, 0)])))
