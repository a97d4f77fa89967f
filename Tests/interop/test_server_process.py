"""The `meridian serve` process: start-up errors, listener log lines, development CA, graceful SIGTERM."""
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

from brokers import HOST, BrokerProcess, free_ports, port_accepts
from clients import V5, new_topic

LISTENER_LINE = re.compile(r"listener (\S+) on (\S+):(\d+) \((.+)\)")


def meridian(*args, timeout: float = 15) -> subprocess.CompletedProcess:
    return subprocess.run([os.environ["MERIDIAN_BIN"], *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def serve_args(data_dir, mqtt=0, mqtts=0, http=0, https=0) -> list:
    return ["serve", "--allow-anonymous", "--data-dir", str(data_dir), "--plain-bind", HOST, "--bind", HOST,
            "--mqtt-port", str(mqtt), "--mqtts-port", str(mqtts), "--http-port", str(http), "--https-port", str(https)]


def assert_clear_error(result, *needles):
    """Non-zero exit, the needles on stderr, and no crash report or backtrace."""
    assert result.returncode != 0, f"exit 0 for a bad start:\n{result.stderr}"
    assert result.returncode < 128 and result.returncode > 0, f"killed by a signal? rc={result.returncode}"
    err = result.stderr
    for n in needles:
        assert n in err, f"{n!r} not in stderr:\n{err}"
    assert "Fatal error" not in err and "Backtrace" not in err and "Crash" not in err, err


# ---------------------------------------------------------------- start-up errors (Meridian CLI)
@pytest.mark.meridian_only
def test_bad_flag_exits_nonzero_with_message(tmp_path):
    result = meridian(*serve_args(tmp_path), "--no-such-flag")
    assert_clear_error(result, "no-such-flag")


@pytest.mark.meridian_only
def test_bad_port_value_exits_nonzero(tmp_path):
    result = meridian("serve", "--data-dir", str(tmp_path), "--mqtt-port", "seventy")
    assert_clear_error(result)
    assert result.stderr.strip(), "says why"


@pytest.mark.meridian_only
def test_port_in_use_exits_nonzero_naming_the_address(tmp_path):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind((HOST, 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        result = meridian(*serve_args(tmp_path, mqtt=port))
    finally:
        holder.close()
    assert_clear_error(result, str(port), HOST)
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) <= 10, result.stderr


@pytest.mark.meridian_only
@pytest.mark.parametrize("problem", ["missing", "not-pem"])
def test_unreadable_tls_cert_exits_nonzero(tmp_path, pki, problem):
    cert = tmp_path / "cert.pem"
    if problem == "not-pem":
        cert.write_text("this is not a certificate\n")
    (mqtts,) = free_ports(1)
    result = meridian(*serve_args(tmp_path / "data", mqtts=mqtts), "--tls-cert", str(cert),
                      "--tls-key", str(pki["server-key"]))
    assert_clear_error(result)
    assert "cert" in result.stderr.lower(), result.stderr
    assert not port_accepts(mqtts)


# ---------------------------------------------------------------- running process
def test_sigterm_exits_zero_within_10s(tmp_path, pki, clients):
    b = BrokerProcess(tmp_path, pki=pki).start()
    try:
        c = clients(b, version=V5).connect()
        topic = new_topic("term")
        c.subscribe(topic, 1)
        c.publish(topic, b"x", qos=1, retain=True)
        t0 = time.monotonic()
        b.proc.send_signal(signal.SIGTERM)
        rc = b.proc.wait(10)
        assert rc == 0, f"exit code {rc} on SIGTERM:\n{b.log_tail()}"
        assert time.monotonic() - t0 < 10
    finally:
        b.kill()


@pytest.mark.meridian_only
def test_sigint_exits_zero(tmp_path, pki):
    b = BrokerProcess(tmp_path, pki=pki, listeners=("mqtt",)).start()
    try:
        b.proc.send_signal(signal.SIGINT)
        assert b.proc.wait(10) == 0, b.log_tail()
    finally:
        b.kill()


def _listener_lines(b: BrokerProcess, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = b.log_text()
        if "meridian ready" in text:
            break
        time.sleep(0.05)
    text = b.log_text()
    assert "meridian ready" in text, text
    before_ready = text[:text.index("meridian ready")]
    return [m.groups() for m in LISTENER_LINE.finditer(before_ready)]


@pytest.mark.meridian_only
def test_one_log_line_per_listener_then_ready(tmp_path, pki):
    b = BrokerProcess(tmp_path, pki=pki).start()
    try:
        lines = _listener_lines(b)
        ports = sorted(int(p) for _, _, p, _ in lines)
        assert len(lines) == 4, lines
        assert ports == sorted(b.ports.values()), (lines, b.ports)
        assert {h for _, h, _, _ in lines} == {HOST}
        assert len({name for name, _, _, _ in lines}) == 4, "distinct listener names"
    finally:
        b.stop()


@pytest.mark.meridian_only
def test_port_zero_disables_listener(tmp_path, pki):
    b = BrokerProcess(tmp_path, pki=pki, listeners=("mqtt", "http")).start()
    try:
        lines = _listener_lines(b)
        assert sorted(int(p) for _, _, p, _ in lines) == sorted([b.mqtt_port, b.http_port]), lines
        assert b.mqtts_port == 0 and b.https_port == 0
    finally:
        b.stop()


@pytest.mark.meridian_only
def test_development_ca_created_and_reused(tmp_path, pki):
    b = BrokerProcess(tmp_path, pki=pki, listeners=("mqtts",)).start()
    try:
        ca = b.ca_path
        assert ca.is_file(), f"{ca} not created"
        text = subprocess.run(["openssl", "x509", "-in", str(ca), "-noout", "-text"], capture_output=True,
                              text=True, check=True).stdout
        assert "CA:TRUE" in text, text
        ctx = ssl.create_default_context(cafile=str(ca))
        for name in ("localhost", "127.0.0.1"):
            with socket.create_connection((HOST, b.mqtts_port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname=name) as tls:
                    assert tls.version() in ("TLSv1.2", "TLSv1.3")
        before = ca.read_bytes()
        b.restart()
        assert ca.read_bytes() == before, "the development CA is kept across restarts (clients keep trusting it)"
    finally:
        b.stop()


@pytest.mark.meridian_only
def test_explicit_tls_cert_and_key(tmp_path, pki, clients):
    b = BrokerProcess(tmp_path, pki=pki, listeners=("mqtt", "mqtts"),
                      extra_args=["--tls-cert", str(pki["server"]), "--tls-key", str(pki["server-key"])]).start()
    try:
        ctx = ssl.create_default_context(cafile=str(pki["ca"]))
        with socket.create_connection((HOST, b.mqtts_port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        b.stop()


@pytest.mark.meridian_only
def test_config_file_limits_are_advertised(tmp_path, pki, raw):
    """[limits] from --config reach the wire: CONNACK carries Maximum Packet Size, Receive Maximum and
    Topic Alias Maximum."""
    import mqttwire as w
    b = BrokerProcess(tmp_path, pki=pki, listeners=("mqtt",),
                      limits={"max-packet-size": 4096, "receive-maximum": 20, "topic-alias-maximum": 5}).start()
    try:
        ack = raw(b).connect()
        p = ack.properties
        assert p.get(w.MAXIMUM_PACKET_SIZE) == 4096, p
        assert p.get(w.RECEIVE_MAXIMUM) == 20, p
        assert p.get(w.TOPIC_ALIAS_MAXIMUM) == 5, p
    finally:
        b.stop()


@pytest.mark.meridian_only
def test_default_limits_are_advertised(module_broker, raw):
    import mqttwire as w
    p = raw(module_broker).connect().properties
    assert p.get(w.RECEIVE_MAXIMUM, 65535) == 100, p
    assert p.get(w.TOPIC_ALIAS_MAXIMUM) == 10, p
    assert p.get(w.MAXIMUM_PACKET_SIZE) == 263168, p
    assert p.get(w.MAXIMUM_QOS, 2) == 2, p


@pytest.mark.meridian_only
def test_ip_filter_refuses_denied_addresses(tmp_path, pki):
    """--ip-filter rules apply at accept time: a denied address is closed without a CONNACK; the first
    matching rule wins."""
    import mqttwire as w
    denied = BrokerProcess(tmp_path / "deny", pki=pki, listeners=("mqtt",),
                           extra_args=["--ip-filter", "deny 127.0.0.0/8"]).start()
    try:
        with socket.create_connection((HOST, denied.mqtt_port), timeout=5) as s:
            s.settimeout(5)
            try:
                s.sendall(w.connect("ipf", version=w.V5))
                data = s.recv(64)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            assert data == b"", "a denied client gets nothing, not even a CONNACK"
    finally:
        denied.stop()
    allowed = BrokerProcess(tmp_path / "allow", pki=pki, listeners=("mqtt",),
                            extra_args=["--ip-filter", f"allow {HOST}/32", "--ip-filter", "deny 0.0.0.0/0"]).start()
    try:
        with socket.create_connection((HOST, allowed.mqtt_port), timeout=5) as s:
            s.settimeout(5)
            s.sendall(w.connect("ipf", version=w.V5))
            assert s.recv(2)[:1] == b"\x20", "an allowed client gets its CONNACK"
    finally:
        allowed.stop()
