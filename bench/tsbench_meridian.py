#!/usr/bin/env python3
"""The tsbench workload against Meridian's time-series store: the identical Drone Delivery data set that
../shared/tools/tsbench/influx_baseline.py writes to InfluxDB (its `generate_steps` is imported, so both stores
get byte-identical line protocol), written to `POST /timeseries/write?precision=s` by the same number of HTTP
writers with the same batch size, then the five dashboard queries as `POST /timeseries/query`.

Usage: tsbench_meridian.py --url http://127.0.0.1:PORT --key OWNER_KEY --pid HUB_PID --data-dir DIR
       [--tsbench DIR] [--hours 1] [--drones 10000] [--batch 10000] [--concurrency 2] [--runs 5] [--json-out F]
Prints a table, then one JSON line shaped like influx_baseline.py's (same keys where they mean the same).
"""
import argparse, base64, hashlib, hmac, http.client, json, os, statistics, sys, threading, time, urllib.parse


def sas_token(host, key, policy="iothubowner", ttl=3600):
    expiry = int(time.time()) + ttl
    resource = urllib.parse.quote(host, safe="").lower()
    sig = base64.b64encode(hmac.new(base64.b64decode(key), f"{resource}\n{expiry}".encode(), hashlib.sha256).digest()).decode()
    return (f"SharedAccessSignature sr={resource}&sig={urllib.parse.quote(sig, safe='')}&se={expiry}&skn={policy}")


class Hub:
    def __init__(self, url, key, host_name):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.token = sas_token(host_name, key)

    def conn(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=900)

    def call(self, method, path, body=None, conn=None, content_type="application/json"):
        c = conn or self.conn()
        headers = {"Authorization": self.token}
        if body is not None:
            headers["Content-Type"] = content_type
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
        c.request(method, path, body, headers)
        r = c.getresponse(); data = r.read()
        if conn is None: c.close()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
        return json.loads(data) if data else None


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem(pid):
    m = {}
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("VmRSS", "VmHWM"):
                m[k] = int(v.split()[0]) * 1024
    return m


def du(path):
    alloc = files = 0
    for root, _dirs, names in os.walk(path):
        for fn in names:
            try: st = os.lstat(os.path.join(root, fn))
            except FileNotFoundError: continue
            alloc += st.st_blocks * 512; files += 1
    return alloc, files


def ingest(hub, batches, concurrency):
    idx = [0]; lock = threading.Lock(); errors = []

    def worker():
        c = hub.conn()
        while True:
            with lock:
                k = idx[0]; idx[0] += 1
            if k >= len(batches) or errors: break
            try:
                hub.call("POST", "/timeseries/write?precision=s", batches[k], conn=c, content_type="text/plain")
            except Exception as e:
                errors.append(repr(e)); return
        c.close()

    ths = [threading.Thread(target=worker) for _ in range(concurrency)]
    for th in ths: th.start()
    for th in ths: th.join()
    if errors: raise RuntimeError(f"ingest failed: {errors[:3]}")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True, help="the iothubowner key")
    ap.add_argument("--host-name", default="localhost")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--data-dir", required=True, help="the hub's --data-dir (its timeseries folder is measured)")
    ap.add_argument("--tsbench", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/tools/tsbench"))
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--drones", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json-out", default="")
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.tsbench))
    import influx_baseline as ib  # the reference generator: identical data for both stores

    log = lambda *x: print(*x, file=sys.stderr, flush=True)
    hub = Hub(a.url, a.key, a.host_name)
    res = {"tool": "tsbench_meridian", "store": "meridian", "params": {
        "drones": a.drones, "hours": a.hours, "seed": a.seed, "batch_lines": a.batch, "concurrency": a.concurrency,
        "t0": ib.T0, "runs": a.runs}}

    log(f"generating {a.hours} h x {a.drones} drones ...")
    g0 = time.time()
    batches, nf, ns = ib.build_batches(a.drones, a.hours, a.seed, a.batch)
    nvals = nf * len(ib.FLIGHT_FIELDS) + ns * len(ib.STATUS_FIELDS)
    npts = nf + ns
    res["data"] = {"flight_points": nf, "status_points": ns, "points": npts, "field_values": nvals,
                   "line_protocol_bytes": sum(len(b) for b in batches), "batches": len(batches), "generate_s": round(time.time() - g0, 2)}
    log(f"generated {npts} points / {nvals} field values in {len(batches)} batches")

    ts_dir = os.path.join(a.data_dir, "timeseries")
    cpu0 = proc_cpu(a.pid); w0 = time.time()
    ingest(hub, batches, a.concurrency)
    wall = time.time() - w0
    cpu1 = proc_cpu(a.pid)
    del batches
    res["ingest"] = {"wall_s": round(wall, 2), "points_per_s": round(npts / wall), "field_values_per_s": round(nvals / wall),
                     "hub_cpu_s": round(cpu1 - cpu0, 2), "rss_after_ingest_bytes": proc_mem(a.pid).get("VmRSS"),
                     "disk_right_after_ingest_bytes": du(ts_dir)[0]}
    log(f"ingest: {wall:.1f} s, {nvals / wall:,.0f} values/s")

    # Seal every head and compact (InfluxDB's run gets its cache snapshot and full compaction the same way).
    s0 = time.time(); c0 = proc_cpu(a.pid)
    hub.call("POST", "/timeseries/compact", {})
    al, nfiles = du(ts_dir)
    res["disk"] = {"compact_s": round(time.time() - s0, 2), "compaction_cpu_s": round(proc_cpu(a.pid) - c0, 2), "bytes": al, "files": nfiles,
                   "bytes_per_field_value": round(al / nvals, 3), "bytes_per_point": round(al / npts, 3)}
    log(f"disk: {al / 1e6:.1f} MB, {al / nvals:.3f} B/value")

    span = min(3600, int(round(a.hours * 3600)))
    window = {"from": iso(ib.T0), "to": iso(ib.T0 + span)}
    one = ib.device_id(min(42, a.drones - 1))
    queries = [
        ("a_raw_one_drone", {"deviceIds": [one], "measures": ["velocity"], **window}),
        ("b_mean_1m_one_drone", {"deviceIds": [one], "measures": ["velocity"], **window, "interval": "PT1M", "aggregates": ["avg"]}),
        ("c_mean_1m_all_drones", {"measures": ["velocity"], **window, "interval": "PT1M", "aggregates": ["avg"], "groupBy": "none"}),
        ("d_last_position_all", {"measures": ["lat", "lon"], **window, "last": True}),
        ("e_max_temp_per_drone", {"measures": ["temperature"], **window, "aggregates": ["max"]}),
    ]
    res["queries"] = {}
    qc = hub.conn()
    for name, q in queries:
        body = hub.call("POST", "/timeseries/query", q, conn=qc)  # warm-up
        series = body["series"]
        rows = sum(len(s["points"]) for s in series)
        ts = []
        for _ in range(a.runs):
            q0 = time.perf_counter(); hub.call("POST", "/timeseries/query", q, conn=qc); ts.append(time.perf_counter() - q0)
        res["queries"][name] = {"median_ms": round(statistics.median(ts) * 1000, 2), "min_ms": round(min(ts) * 1000, 2),
                                "max_ms": round(max(ts) * 1000, 2), "series": len(series), "rows": rows, "request": q}
        log(f"{name}: median {statistics.median(ts) * 1000:.1f} ms ({len(series)} series, {rows} rows)")

    counts = hub.call("POST", "/timeseries/query", {"measures": ["velocity", "temperature"], **window, "aggregates": ["count"], "groupBy": "none"}, conn=qc)
    qc.close()
    got = {s["measure"]: s["points"][0]["count"] if s["points"] else 0 for s in counts["series"]}
    res["check"] = {"flight_points_stored": got.get("velocity"), "status_points_stored": got.get("temperature"),
                    "ok": got.get("velocity") == nf and got.get("temperature") == ns}
    mem = proc_mem(a.pid)
    res["memory"] = {"rss_end_bytes": mem.get("VmRSS"), "rss_peak_bytes": mem.get("VmHWM")}
    line = json.dumps(res, separators=(",", ":"))
    if a.json_out:
        with open(a.json_out, "w") as f: f.write(line + "\n")
    print(line)
    if not res["check"]["ok"]:
        sys.exit(f"stored counts differ: {res['check']}")


if __name__ == "__main__":
    main()
