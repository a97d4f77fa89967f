"""Transports: MQTT over TLS, over WebSocket (ws and wss), TLS protocol versions, CLI clients over TLS."""
import base64
import os
import socket
import ssl
import subprocess
import time

import pytest

from clients import V5, VERSIONS, cli_roundtrip, new_topic, version_id


def roundtrip(clients, broker, version, **transport):
    """Subscribe and publish QoS 1 over the given transport (both clients on it)."""
    topic = new_topic("transport")
    sub = clients(broker, version=version, **transport).connect()
    sub.subscribe(topic, 1)
    pub = clients(broker, version=version, **transport).connect()
    pub.publish(topic, b"over the wire", qos=1)
    assert [m.payload for m in sub.expect(1)] == [b"over the wire"]


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_tls_client_trusting_ca_file(module_broker, clients, version):
    roundtrip(clients, module_broker, version, tls=True)


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_websocket_client(module_broker, clients, version):
    roundtrip(clients, module_broker, version, transport="websockets", ws_path="/mqtt")


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_secure_websocket_client(module_broker, clients, version):
    roundtrip(clients, module_broker, version, transport="websockets", ws_path="/mqtt", tls=True)


def test_secure_websocket_iothub_path(module_broker, clients):
    """Azure IoT SDKs use wss://host/$iothub/websocket."""
    roundtrip(clients, module_broker, V5, transport="websockets", ws_path="/$iothub/websocket", tls=True)


def test_tls_and_websocket_clients_see_each_other(module_broker, clients):
    topic = new_topic("mixed")
    subs = [clients(module_broker, version=V5, **t).connect() for t in
            ({}, {"tls": True}, {"transport": "websockets"}, {"transport": "websockets", "tls": True})]
    for s in subs:
        s.subscribe(topic, 1)
    clients(module_broker, version=V5, tls=True).connect().publish(topic, b"x", qos=1)
    for s in subs:
        assert [m.payload for m in s.expect(1)] == [b"x"]


def websocket_upgrade(port: int, path: str, tls_ca=None) -> str:
    """Send a raw HTTP/1.1 WebSocket upgrade asking for subprotocol `mqtt`; return the response head."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls_ca:
        ctx = ssl.create_default_context(cafile=str(tls_ca))
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
                 .encode())
    head = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in head and time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    sock.close()
    return head.decode("latin-1")


def test_websocket_upgrade_negotiates_mqtt_subprotocol(module_broker):
    head = websocket_upgrade(module_broker.http_port, "/mqtt")
    assert head.startswith("HTTP/1.1 101"), head
    assert "sec-websocket-protocol: mqtt" in head.lower(), head


# ---------------------------------------------------------------- TLS protocol versions
def s_client(port: int, *args, ca=None, timeout: float = 15) -> subprocess.CompletedProcess:
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", *args]
    if ca:
        cmd += ["-CAfile", str(ca), "-verify_return_error"]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def handshake_ok(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == 0 and "Cipher is (NONE)" not in result.stdout and "Cipher is" in result.stdout


@pytest.fixture(scope="session")
def openssl_can_do_tls11(pki, tmp_path_factory):
    """Prove the local openssl client can still negotiate TLS 1.1 (against an `openssl s_server -tls1_1`),
    so that 'the broker refused TLS 1.1' is not vacuous."""
    from brokers import free_ports
    (port,) = free_ports(1)
    server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(pki["server"]),
                               "-key", str(pki["server-key"]), "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and b"ACCEPT" not in server.stdout.readline():
            pass
        result = s_client(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
        return handshake_ok(result) and "TLSv1.1" in result.stdout
    finally:
        server.kill()
        server.wait(5)


@pytest.mark.parametrize("listener", ["mqtts", "https"])
def test_tls11_refused(module_broker, openssl_can_do_tls11, listener):
    if not openssl_can_do_tls11:
        pytest.fail("this openssl client cannot negotiate TLS 1.1 even with a TLS 1.1 server; test would be vacuous")
    result = s_client(module_broker.ports[listener], "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert not handshake_ok(result), f"TLS 1.1 handshake succeeded:\n{result.stdout[-2000:]}"


@pytest.mark.parametrize("listener", ["mqtts", "https"])
def test_tls10_refused(module_broker, listener):
    result = s_client(module_broker.ports[listener], "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert not handshake_ok(result), result.stdout[-2000:]


@pytest.mark.parametrize("flag,name", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
@pytest.mark.parametrize("listener", ["mqtts", "https"])
def test_tls12_and_tls13_accepted_and_verified(module_broker, listener, flag, name):
    result = s_client(module_broker.ports[listener], flag, ca=module_broker.ca_path)
    assert handshake_ok(result), result.stdout[-2000:] + result.stderr[-2000:]
    assert f"Protocol  : {name}" in result.stdout or f"New, {name}" in result.stdout, result.stdout[-2000:]
    assert "Verify return code: 0 (ok)" in result.stdout


def test_dev_ca_verifies_localhost_and_ip(module_broker):
    """The server certificate is valid for both `localhost` and 127.0.0.1 under the CA file."""
    ctx = ssl.create_default_context(cafile=str(module_broker.ca_path))
    for server_hostname in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", module_broker.mqtts_port), timeout=5) as raw_sock:
            with ctx.wrap_socket(raw_sock, server_hostname=server_hostname) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_mosquitto_cli_over_tls(module_broker, version):
    v = "mqttv5" if version == V5 else "mqttv311"
    cli_roundtrip(["-h", "localhost", "-p", str(module_broker.mqtts_port), "--cafile", str(module_broker.ca_path),
                   "-V", v, "-t", new_topic("cli-tls")], 2, "tls")
