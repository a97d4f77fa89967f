"""Device identity and security end to end: the real `meridian` binary, its CLI against the REST API,
and paho-mqtt devices over TLS with SAS tokens and X.509 certificates (openssl-made at test time)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse

import paho.mqtt.client as mqtt
import pytest

from brokers import HOST, BrokerProcess

pytestmark = pytest.mark.meridian_only

OWNER_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("hub"), listeners=("mqtts", "https"),
                      extra_args=["--owner-key", OWNER_KEY]).start()
    yield b
    b.stop()


def owner_cs(hub) -> str:
    return f"HostName=localhost:{hub.https_port};SharedAccessKeyName=iothubowner;SharedAccessKey={OWNER_KEY}"


def cli_args(hub, *args):
    """The command line of `meridian <args> --json` against the hub as its owner."""
    return [os.environ["MERIDIAN_BIN"], *args, "--hub", f"https://{HOST}:{hub.https_port}",
            "--connection-string", owner_cs(hub), "--ca", str(hub.ca_path), "--json"]


def cli(hub, *args, check=True):
    """Runs `meridian <args> --json` against the hub; returns the parsed JSON (or the process on failure)."""
    p = subprocess.run(cli_args(hub, *args), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if not check:
        return p
    assert p.returncode == 0, f"{args}: rc={p.returncode}\n{p.stderr}"
    return json.loads(p.stdout) if p.stdout.strip() else None


def sas_token(resource: str, key_b64: str, expiry: int) -> str:
    """The Azure SDKs' algorithm, written independently of Meridian."""
    sr = urllib.parse.quote(resource, safe="")
    sig = base64.b64encode(hmac.new(base64.b64decode(key_b64), f"{sr}\n{expiry}".encode(), hashlib.sha256).digest())
    return f"SharedAccessSignature sr={sr}&sig={urllib.parse.quote(sig.decode(), safe='')}&se={expiry}"


# paho's conversion of 3.1.1 CONNACK return codes 1..5 to v5 reason codes, inverted.
V5_TO_V311_CONNACK = {0x84: 1, 0x85: 2, 0x88: 3, 0x86: 4, 0x87: 5}


class Device:
    """A paho 3.1.1 client connecting as an Azure device over TLS."""

    def __init__(self, hub, device_id, password=None, cert=None, key=None):
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv311,
                             clean_session=False)
        ctx = ssl.create_default_context(cafile=str(hub.ca_path))
        if cert:
            ctx.load_cert_chain(str(cert), str(key))
        self.c.tls_set_context(ctx)
        self.c.username_pw_set(f"localhost/{device_id}/?api-version=2021-04-12", password)
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.rc = None
        self.disconnected_at = None
        self.subacks = []

        def on_connect(client, userdata, flags, rc, properties=None):
            # paho 2 reports a 3.1.1 CONNACK return code as the matching v5 reason code; map it back.
            value = rc.value if hasattr(rc, "value") else rc
            self.rc = V5_TO_V311_CONNACK.get(value, value)
            self.connected.set()

        def on_disconnect(client, userdata, flags, rc, properties=None):
            self.disconnected_at = time.monotonic()
            self.disconnected.set()

        def on_subscribe(client, userdata, mid, codes, properties=None):
            self.subacks.append([c.value if hasattr(c, "value") else c for c in codes])

        self.c.on_connect, self.c.on_disconnect, self.c.on_subscribe = on_connect, on_disconnect, on_subscribe
        self.hub = hub

    def connect(self) -> int:
        self.c.connect("localhost", self.hub.mqtts_port, keepalive=30)
        self.c.loop_start()
        assert self.connected.wait(10), "no CONNACK"
        return self.rc

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


def make_cert(directory, name, cn, ca=None, is_ca=False):
    """An EC P-256 certificate: self-signed, or signed by `ca` (a (cert, key) pair)."""
    key, crt = directory / f"{name}.key", directory / f"{name}.pem"
    ext = directory / f"{name}.ext"
    ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" if is_ca
                   else "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    if ca is None:
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                "-out", str(crt), "-days", "2", "-subj", f"/CN={cn}",
                *(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
                  if is_ca else ["-addext", "extendedKeyUsage=clientAuth"]))
    else:
        csr = directory / f"{name}.csr"
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                "-out", str(csr), "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
                "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return crt, key


def thumbprint(cert) -> str:
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha1"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "")


# ------------------------------------------------------------------ SAS devices
def test_sas_device_connects_and_bad_tokens_are_refused(hub):
    dev = cli(hub, "device", "create", "sec-sas")
    key = dev["authentication"]["symmetricKey"]["primaryKey"]
    token = cli(hub, "device", "sas-token", "sec-sas", "--duration", "600")["sasToken"]
    d = Device(hub, "sec-sas", token)
    assert d.connect() == 0
    d.close()
    now = int(time.time())
    refused = {
        "expired": sas_token("localhost/devices/sec-sas", key, now - 400),
        "forged": token.replace("sig=", "sig=A", 1),
        "other key": sas_token("localhost/devices/sec-sas", base64.b64encode(bytes(32)).decode(), now + 600),
        "other resource": sas_token("localhost/devices/sec-other", key, now + 600),
        "other hub": sas_token("elsewhere/devices/sec-sas", key, now + 600),
    }
    for label, bad in refused.items():
        d = Device(hub, "sec-sas", bad)
        assert d.connect() == 5, f"{label} token: CONNACK 5 expected"
        d.close()


def test_device_is_confined_to_its_own_topics(hub):
    cli(hub, "device", "create", "sec-a")
    cli(hub, "device", "create", "sec-b")
    a = Device(hub, "sec-a", cli(hub, "device", "sas-token", "sec-a")["sasToken"])
    assert a.connect() == 0
    try:
        a.c.subscribe("devices/sec-b/messages/devicebound/#", qos=1)
        a.c.subscribe("devices/sec-a/messages/devicebound/#", qos=1)
        deadline = time.monotonic() + 5
        while len(a.subacks) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a.subacks == [[0x80], [1]], a.subacks
        a.c.publish("devices/sec-b/messages/events/", b"spoof", qos=1)
        assert a.disconnected.wait(5), "publishing as another device closes a 3.1.1 connection"
    finally:
        a.close()


def test_disabled_and_deleted_devices_are_disconnected_within_a_second(hub):
    for device_id, action in (("sec-dis", ["device", "disable", "sec-dis"]), ("sec-del", ["device", "delete", "sec-del"])):
        cli(hub, "device", "create", device_id)
        d = Device(hub, device_id, cli(hub, "device", "sas-token", device_id)["sasToken"])
        assert d.connect() == 0
        start = time.monotonic()
        cli(hub, *action)
        answered = time.monotonic()
        assert d.disconnected.wait(5)
        assert d.disconnected_at - answered < 1.0, f"{action[1]}: closed {d.disconnected_at - answered:.3f} s after the API answered"
        assert d.disconnected_at - start < 5
        d.close()
    again = Device(hub, "sec-dis", cli(hub, "device", "sas-token", "sec-dis")["sasToken"])
    assert again.connect() == 5, "a disabled device is refused"
    again.close()


# ------------------------------------------------------------------ X.509 devices
def test_self_signed_and_ca_signed_devices(hub, tmp_path):
    crt, key = make_cert(tmp_path, "selfsigned", "sec-x509")
    cli(hub, "device", "create", "sec-x509", "--auth", "selfSigned", "--primary-thumbprint", thumbprint(crt))
    d = Device(hub, "sec-x509", cert=crt, key=key)
    assert d.connect() == 0, "registered thumbprint"
    d.close()
    stranger_crt, stranger_key = make_cert(tmp_path, "stranger", "sec-x509")
    d = Device(hub, "sec-x509", cert=stranger_crt, key=stranger_key)
    assert d.connect() == 5, "an unregistered certificate with the right CN is refused"
    d.close()

    ca = make_cert(tmp_path, "fleet-ca", "Fleet CA", is_ca=True)
    cli(hub, "ca", "add", "fleet", "--cert", str(ca[0]))
    code = cli(hub, "ca", "verification-code", "fleet")["properties"]["verificationCode"]
    proof = make_cert(tmp_path, "proof", code, ca=ca)
    verified = cli(hub, "ca", "verify", "fleet", "--cert", str(proof[0]))
    assert verified["properties"]["isVerified"] is True
    cli(hub, "device", "create", "sec-ca-dev", "--auth", "certificateAuthority")
    leaf = make_cert(tmp_path, "leaf", "sec-ca-dev", ca=ca)
    d = Device(hub, "sec-ca-dev", cert=leaf[0], key=leaf[1])
    assert d.connect() == 0, "a certificate from a verified CA with CN = device id"
    d.close()
    other_ca = make_cert(tmp_path, "other-ca", "Other CA", is_ca=True)
    foreign = make_cert(tmp_path, "foreign", "sec-ca-dev", ca=other_ca)
    d = Device(hub, "sec-ca-dev", cert=foreign[0], key=foreign[1])
    assert d.connect() == 5, "a chain to an unknown CA is refused"
    d.close()
