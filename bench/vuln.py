#!/usr/bin/env python3
"""bench/run.sh vuln — the vulnerability engine on real NVD data, at fleet scale.

1. Imports every yearly NVD feed in ../shared/data/nvd (the 2002-2016 files)
   through the API, one job after another; measures the uncompressed JSON
   throughput and the server's peak resident memory (VmHWM).
2. Builds a fleet of FP_BENCH_VULN_DEVICES (100,000) devices over
   FP_BENCH_VULN_CONFIGS (2,000) distinct (model, firmware) images, each image
   with an SBOM of FP_BENCH_VULN_COMPONENTS (300) components whose CPEs are
   products that the NVD data names (so every component has candidate CVEs to
   evaluate); FP_BENCH_VULN_OLD_SHARE (0.2) of them at a version NVD lists,
   the rest at a later release. Times a full assessment.
3. Imports the NVD "modified" feed and reports the time of the incremental
   re-assessment it triggers.

Prints `bench: nvd_import_mb_s`, `bench: nvd_import_peak_rss_mb`,
`bench: assess_100k_s` and `bench: reassess_s`, plus info lines. Loopback only.
"""
import glob
import gzip
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DATA = os.path.join(SRC, "..", "shared", "data", "nvd")
BUILD = os.path.join(SRC, "build-bench")
DEVICES = int(os.environ.get("FP_BENCH_VULN_DEVICES", "100000"))
CONFIGS = int(os.environ.get("FP_BENCH_VULN_CONFIGS", "2000"))
COMPONENTS = int(os.environ.get("FP_BENCH_VULN_COMPONENTS", "300"))
# Share of an image's components at a version that NVD names as vulnerable;
# the others are at a later release than any the feeds list.
OLD_SHARE = float(os.environ.get("FP_BENCH_VULN_OLD_SHARE", "0.2"))


def info(name, value, unit=""):
    print("info: %s %s %s" % (name, value, unit), flush=True)


def bench(name, value, unit):
    print("bench: %s %s %s" % (name, value, unit), flush=True)


class Api:
    def __init__(self, url):
        self.url = url
        self.token = None

    def call(self, method, path, body=None, raw=None, timeout=3600):
        data, headers = None, {}
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def job(self, status_body, what):
        status, body = status_body
        if status != 202:
            sys.exit("bench: error: %s: %s %s" % (what, status, body))
        while True:
            _, j = self.call("GET", "/api/v1/jobs/%d" % body["id"])
            if j["status"] in ("succeeded", "failed"):
                if j["status"] == "failed":
                    sys.exit("bench: error: %s failed: %s" % (what, j["error"]))
                return j
            time.sleep(0.05)


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def product_pool(files):
    """Application CPE criteria (vendor, product, version) that the feeds name."""
    pool = {}
    pat = re.compile(rb'"criteria":"cpe:2\.3:a:([^:"]+):([^:"]+):([^:"]+):')
    for path in files:
        with gzip.open(path) as f:
            for m in pat.finditer(f.read()):
                vendor, product, version = (x.decode() for x in m.groups())
                if "\\" in vendor + product:
                    continue
                versions = pool.setdefault((vendor, product), set())
                if version not in ("*", "-") and "\\" not in version and len(versions) < 8:
                    versions.add(version)
    return sorted((k, sorted(v)) for k, v in pool.items() if v)


def main():
    yearly = sorted(glob.glob(os.path.join(DATA, "nvdcve-2.0-2[0-9][0-9][0-9].json.gz")))
    modified = os.path.join(DATA, "nvdcve-2.0-modified.json.gz")
    if not yearly:
        sys.exit("bench: error: no NVD feeds in %s" % DATA)
    subprocess.run(["sh", os.path.join(SRC, "scripts", "deps.sh")], check=True)
    subprocess.run(["cmake", "-S", SRC, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j2", "--target", "fleetpatchd"], check=True,
                   stdout=subprocess.DEVNULL)
    tmp = tempfile.TemporaryDirectory(prefix="fp-bench-vuln-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(tmp.name, "server.log"), "wb")
    proc = subprocess.Popen([os.path.join(BUILD, "fleetpatchd"), "--listen",
                             "127.0.0.1:%d" % port, "--data-dir", os.path.join(tmp.name, "d")],
                            stdout=log, stderr=log)
    try:
        api = Api("http://127.0.0.1:%d" % port)
        for _ in range(200):
            try:
                if api.call("GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        text = open(os.path.join(tmp.name, "server.log")).read()
        password = re.search(r"password: (\S+)", text).group(1)
        _, login = api.call("POST", "/api/v1/auth/login",
                            {"username": "admin", "password": password})
        api.token = login["token"]

        # 1. NVD import.
        raw_bytes = 0
        for path in yearly:
            with gzip.open(path) as f:
                raw_bytes += len(f.read())
        records = 0
        t0 = time.monotonic()
        for path in yearly:
            with open(path, "rb") as f:
                j = api.job(api.call("POST", "/api/v1/feeds/nvd", raw=f.read()), path)
            records += j["report"]["rows"]
        elapsed = time.monotonic() - t0
        info("nvd_files", len(yearly))
        info("nvd_records", records)
        info("nvd_json_mb", "%.1f" % (raw_bytes / 1e6), "MB")
        info("nvd_import_s", "%.2f" % elapsed, "s")
        bench("nvd_import_mb_s", "%.1f" % (raw_bytes / 1e6 / elapsed), "MB/s")
        bench("nvd_import_peak_rss_mb", "%.0f" % peak_rss_mb(proc.pid), "MB")

        # 2. The fleet: image SBOMs, then devices.
        rng = random.Random(20261121)
        pool = product_pool(yearly[-4:])
        info("component_pool_products", len(pool))
        info("old_component_share", OLD_SHARE)
        t0 = time.monotonic()
        for c in range(CONFIGS):
            comps = []
            for (vendor, product), versions in rng.sample(pool, min(COMPONENTS, len(pool))):
                v = rng.choice(versions) if rng.random() < OLD_SHARE else "9999.1"
                comps.append({"type": "library", "name": product, "version": v,
                              "cpe": "cpe:2.3:a:%s:%s:%s:*:*:*:*:*:*:*" % (vendor, product, v)})
            doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                   "components": comps}
            status, body = api.call("PUT", "/api/v1/sboms?manufacturer=benchco&model=m%04d"
                                    "&firmware=1.%d" % (c // 4, c % 4),
                                    raw=json.dumps(doc).encode())
            if status != 200:
                sys.exit("bench: error: sbom upload: %s %s" % (status, body))
        info("sbom_upload_s", "%.1f" % (time.monotonic() - t0), "s")
        fleet = [{"identity": "serial:b%06d" % i, "manufacturer": "benchco",
                  "model": "m%04d" % ((i % CONFIGS) // 4), "firmware_version": "1.%d" % (i % 4),
                  "exposure": ("internet", "internal", "isolated")[i % 3]}
                 for i in range(DEVICES)]
        t0 = time.monotonic()
        j = api.job(api.call("POST", "/api/v1/imports?format=json",
                             raw=json.dumps(fleet).encode()), "device import")
        info("device_import_s", "%.1f" % (time.monotonic() - t0), "s")
        info("devices", j["report"]["created"])
        # The import job assesses the new configurations itself: the first assessment.
        first = j["report"]["assessment"]
        info("first_assessment_in_import_s", "%.2f" % (first["elapsed_ms"] / 1000.0), "s")
        info("first_assessment_findings", first["findings"])

        # 3. A full assessment: every configuration matched again.
        t0 = time.monotonic()
        j = api.job(api.call("POST", "/api/v1/assessments"), "assessment")
        wall = time.monotonic() - t0
        rep = j["report"]
        info("assess_configurations", rep["configurations"])
        info("assess_candidates", rep["candidates"])
        info("assess_findings_per_config_total", rep["findings"])
        info("assess_engine_s", "%.2f" % (rep["elapsed_ms"] / 1000.0), "s")
        bench("assess_100k_s", "%.2f" % wall, "s")
        _, st = api.call("GET", "/api/v1/feeds")
        info("device_findings", st["findings"])

        # 4. The modified feed and the incremental re-assessment it triggers.
        with open(modified, "rb") as f:
            j = api.job(api.call("POST", "/api/v1/feeds/nvd", raw=f.read()), "modified feed")
        rep = j["report"]
        info("modified_records", rep["rows"])
        info("modified_created", rep["created"])
        info("modified_updated", rep["updated"])
        info("reassess_configurations_matched", rep["assessment"]["configurations_matched"])
        bench("reassess_s", "%.2f" % (rep["assessment"]["elapsed_ms"] / 1000.0), "s")
        info("peak_rss_end_mb", "%.0f" % peak_rss_mb(proc.pid), "MB")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        tmp.cleanup()


if __name__ == "__main__":
    main()
