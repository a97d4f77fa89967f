"""Start and stop the broker under test: the real `meridian` binary, or a private Mosquitto.

INTEROP_BROKER=meridian (default) runs $MERIDIAN_BIN; INTEROP_BROKER=mosquitto runs a private
Mosquitto with an equivalent configuration (plain, TLS, WebSocket and secure WebSocket listeners
on free loopback ports, persistence in the test's data directory, a test CA made with openssl),
so the suite itself can be proven correct against a trusted broker.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
KIND = os.environ.get("INTEROP_BROKER", "meridian").strip().lower()
LISTENERS = ("mqtt", "mqtts", "http", "https")
READY_TIMEOUT = float(os.environ.get("INTEROP_READY_TIMEOUT", "30"))
STOP_TIMEOUT = 10.0

_live: list["BrokerProcess"] = []  # every started process, so a crashed session can still clean up


def free_ports(n: int) -> list[int]:
    """`n` distinct free TCP ports on 127.0.0.1 (held open together so they cannot repeat)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_accepts(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def make_test_pki(directory: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / f"{name}.pem" for name in ("ca", "ca-key", "server", "server-key")}
    if all(p.exists() for p in files.values()):
        return files
    ext = directory / "server-ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                   "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True, timeout=30)  # noqa: E731
    run("req", "-x509", *ec, "-keyout", str(files["ca-key"]), "-out", str(files["ca"]), "-days", "3",
        "-subj", "/CN=Meridian interop test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    csr = directory / "server.csr"
    run("req", *ec, "-keyout", str(files["server-key"]), "-out", str(csr), "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(files["ca"]), "-CAkey", str(files["ca-key"]),
        "-CAcreateserial", "-out", str(files["server"]), "-days", "3", "-extfile", str(ext))
    return files


# limits keys (Meridian's [limits] table) -> Mosquitto option names, where Mosquitto has one
_MOSQUITTO_LIMITS = {
    "max-packet-size": "max_packet_size",
    "max-keep-alive": "max_keepalive",
    "max-queued-messages": "max_queued_messages",
    "max-queued-bytes": "max_queued_bytes",
    "receive-maximum": "max_inflight_messages",
    "topic-alias-maximum": "max_topic_alias",
    "maximum-qos": "max_qos",
}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


class BrokerProcess:
    """One broker process with a data directory that outlives restarts.

    ports: {"mqtt": N, "mqtts": N, "http": N, "https": N}; a listener not in `listeners` gets port 0
    (disabled). `limits` become the [limits] table of a TOML config file (or Mosquitto options).
    """

    def __init__(self, workdir: Path, limits: dict | None = None, listeners=LISTENERS,
                 extra_args=(), kind: str = KIND, pki: dict | None = None):
        self.kind = kind
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.log_path = self.workdir / "broker.log"
        self.limits = dict(limits or {})
        self.listeners = tuple(listeners)
        chosen = iter(free_ports(len(self.listeners)))
        self.ports = {name: (next(chosen) if name in self.listeners else 0) for name in LISTENERS}
        self.extra_args = list(extra_args)
        self.pki = pki
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.returncodes: list[int] = []

    # -- addresses
    host = HOST

    @property
    def mqtt_port(self) -> int:
        return self.ports["mqtt"]

    @property
    def mqtts_port(self) -> int:
        return self.ports["mqtts"]

    @property
    def http_port(self) -> int:
        return self.ports["http"]

    @property
    def https_port(self) -> int:
        return self.ports["https"]

    @property
    def ca_path(self) -> Path:
        """The CA a TLS client trusts: Meridian's development CA (or the test CA given to Mosquitto)."""
        return self.data_dir / "tls" / "ca.pem"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    # -- command lines
    def config_path(self) -> Path | None:
        if not self.limits:
            return None
        path = self.workdir / "meridian.toml"
        path.write_text("[limits]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in self.limits.items()))
        return path

    def command(self) -> list[str]:
        if self.kind == "mosquitto":
            return ["mosquitto", "-c", str(self._mosquitto_conf())]
        binary = os.environ.get("MERIDIAN_BIN", "")
        cmd = [binary, "serve", "--allow-anonymous", "--data-dir", str(self.data_dir),
               "--plain-bind", HOST, "--bind", HOST,
               "--mqtt-port", str(self.ports["mqtt"]), "--mqtts-port", str(self.ports["mqtts"]),
               "--http-port", str(self.ports["http"]), "--https-port", str(self.ports["https"])]
        cfg = self.config_path()
        if cfg:
            cmd += ["--config", str(cfg)]
        if os.environ.get("INTEROP_LOG_LEVEL"):
            cmd += ["--log-level", os.environ["INTEROP_LOG_LEVEL"]]
        return cmd + self.extra_args

    def _mosquitto_conf(self) -> Path:
        pki = self.pki or make_test_pki(self.workdir / "pki")
        tls_dir = self.data_dir / "tls"
        tls_dir.mkdir(exist_ok=True)
        shutil.copyfile(pki["ca"], tls_dir / "ca.pem")  # same place Meridian puts its development CA
        lines = [
            "# generated by Tests/interop/brokers.py",
            "per_listener_settings false",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            "log_dest stderr",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "connection_messages true",
            "log_timestamp_format %H:%M:%S",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise mosquitto drops to user 'mosquitto' and cannot write the tmp dir
        for key, value in self.limits.items():
            if key in _MOSQUITTO_LIMITS:
                lines.append(f"{_MOSQUITTO_LIMITS[key]} {value}")
        tls = [f"certfile {pki['server']}", f"keyfile {pki['server-key']}"]
        if self.ports["mqtt"]:
            lines += [f"listener {self.ports['mqtt']} {HOST}"]
        if self.ports["mqtts"]:
            lines += [f"listener {self.ports['mqtts']} {HOST}", *tls]
        if self.ports["http"]:
            lines += [f"listener {self.ports['http']} {HOST}", "protocol websockets"]
        if self.ports["https"]:
            lines += [f"listener {self.ports['https']} {HOST}", "protocol websockets", *tls]
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    # -- lifecycle
    def start(self, wait: bool = True) -> "BrokerProcess":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts + 1}: {' '.join(self.command())}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=self.workdir)
        log.close()
        self.starts += 1
        _live.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until every enabled listener accepts TCP connections; fails with the log if the process dies or hangs."""
        deadline = time.monotonic() + timeout
        pending = [p for p in self.ports.values() if p]
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} during startup:\n{self.log_tail()}")
            pending = [p for p in pending if not port_accepts(p)]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} not accepting on ports {pending} after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; SIGKILL (and report -9) if it does not exit within `timeout`."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                with open(self.log_path, "ab") as log:
                    log.write(f"\n===== did not exit within {timeout} s of SIGTERM; killed\n".encode())
                self.returncodes.append(-9)
                return -9
        self.returncodes.append(self.proc.returncode)
        if self in _live:
            _live.remove(self)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self in _live:
            _live.remove(self)

    def restart(self) -> None:
        """Graceful stop (SIGTERM) and start again with the same data directory and ports."""
        rc = self.stop()
        assert rc == 0, f"{self.kind} exited with {rc} on SIGTERM:\n{self.log_tail()}"
        self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- observation
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def kill_all() -> None:
    for b in list(_live):
        b.kill()
