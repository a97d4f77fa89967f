"""Fixtures for the interop suite: the broker under test, real clients, and a canary check.

Environment:
  MERIDIAN_BIN          the meridian binary (scripts/test sets it to the debug build)
  INTEROP_BROKER        meridian (default) | mosquitto — run the suite against a private Mosquitto
  INTEROP_RUN_MERIDIAN_ONLY=1   also run @meridian_only tests on mosquitto (to inspect its behaviour)
  INTEROP_LOG_LEVEL     passed to meridian as --log-level
"""
from __future__ import annotations

import atexit
import os
import signal
import time
from pathlib import Path

import pytest

import brokers
import mqttwire as w
from brokers import BrokerProcess
from clients import Client


def _interrupt_on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # `timeout` (scripts/test) and CI stop pytest with SIGTERM: turn it into an interrupt so that
    # pytest_sessionfinish still stops every broker this run started (they run in their own sessions).
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    atexit.register(brokers.kill_all)
    if brokers.KIND not in ("meridian", "mosquitto"):
        raise pytest.UsageError(f"INTEROP_BROKER must be meridian or mosquitto, not {brokers.KIND!r}")
    if brokers.KIND == "meridian":
        binary = os.environ.get("MERIDIAN_BIN", "")
        if not binary or not os.access(binary, os.X_OK):
            raise pytest.UsageError(
                f"MERIDIAN_BIN={binary!r} is not an executable; run ./scripts/test, or set MERIDIAN_BIN to "
                "$(swift build --show-bin-path)/meridian, or use INTEROP_BROKER=mosquitto")


def pytest_report_header(config):
    target = os.environ.get("MERIDIAN_BIN") if brokers.KIND == "meridian" else "mosquitto (private instance)"
    return f"broker under test: {brokers.KIND} — {target}"


def pytest_collection_modifyitems(config, items):
    if brokers.KIND == "meridian" or os.environ.get("INTEROP_RUN_MERIDIAN_ONLY") == "1":
        return
    skip = pytest.mark.skip(reason=f"Meridian-only behaviour; broker under test is {brokers.KIND}")
    for item in items:
        if "meridian_only" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of every broker log the test used."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        seen = set()
        for value in getattr(item, "funcargs", {}).values():
            for b in (value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(b, BrokerProcess) and id(b) not in seen:
                    seen.add(id(b))
                    rep.sections.append((f"{b.kind} log ({b.log_path})", b.log_tail(120)))


def pytest_sessionfinish(session, exitstatus):
    brokers.kill_all()


# ------------------------------------------------------------------ brokers
@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> dict:
    """A test CA and server certificate (openssl CLI), for Mosquitto and for --tls-cert tests."""
    return brokers.make_test_pki(tmp_path_factory.mktemp("pki"))


def _start(workdir: Path, pki: dict, **config) -> BrokerProcess:
    b = BrokerProcess(workdir, pki=pki, **{k: v for k, v in config.items() if v is not None})
    b.start()
    return b


@pytest.fixture
def broker(request, tmp_path, pki):
    """A fresh broker for one test, configured by @pytest.mark.broker(limits=..., listeners=...)."""
    marker = request.node.get_closest_marker("broker")
    config = dict(marker.kwargs) if marker else {}
    b = _start(tmp_path / "broker", pki, **config)
    yield b
    b.stop()


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory, pki):
    """One default-config broker shared by a module's tests (tests use unique client ids and topics)."""
    b = _start(tmp_path_factory.mktemp("module-broker"), pki)
    yield b
    b.stop()


# ------------------------------------------------------------------ clients
@pytest.fixture
def clients():
    """Factory for paho clients that are all closed at teardown: clients(broker, version=..., ...)."""
    made: list[Client] = []

    def make(broker, **kw) -> Client:
        c = Client(broker, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def raw():
    """Factory for raw-socket clients, closed at teardown: raw(broker, version=5, port=None)."""
    made: list[w.RawClient] = []

    def make(broker, version: int = w.V5, port: int | None = None, timeout: float = 5.0) -> w.RawClient:
        c = w.RawClient(broker.host, port or broker.mqtt_port, version, timeout)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def canary(broker, timeout: float = 5.0) -> None:
    """The broker still serves a well-behaved client: connect, subscribe, QoS 1 round trip."""
    assert broker.alive(), f"broker process died (exit {broker.proc.returncode})"
    c = w.RawClient(broker.host, broker.mqtt_port, w.V5, timeout)
    try:
        c.connect(w.new_id("canary"))
        topic = f"canary/{w.new_id()}"
        ack = c.subscribe([(topic, 1)], pid=1)
        assert ack.reason_codes == [1], ack
        c.send(w.publish(topic, b"alive", qos=1, pid=2))
        got = {}
        deadline = time.monotonic() + timeout
        while len(got) < 2:
            p = c.recv(max(0.01, deadline - time.monotonic()))
            if p.type == w.PUBACK:
                got["puback"] = p
            elif p.type == w.PUBLISH:
                got["publish"] = p.publish()
                if got["publish"]["qos"]:
                    c.send(w.puback(got["publish"]["pid"]))
        assert got["publish"]["payload"] == b"alive"
        c.send(w.disconnect())
    finally:
        c.close()


@pytest.fixture
def check_canary():
    return canary
