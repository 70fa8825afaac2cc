"""The remediation plan end to end: real NVD records, releases published as
signed TUF targets with the real CLI, and the plan the server derives.

The expected CVE sets are computed here from the NVD records themselves:
the feed holds only CVEs whose one configuration is a plain OR of
cpe:2.3:o:linux:linux_kernel:* ranges with numeric bounds, so a Python
tuple comparison of the bounds is an independent oracle for which kernel
versions each CVE affects.
"""
import gzip
import json
import os
import re
import subprocess
import tempfile
import time
import unittest

from fpharness import DeviceKey, BUILD, SOURCE, TIMEOUT, Server

CLI = os.path.join(BUILD, "fleetpatch")
DATA = os.path.join(SOURCE, "..", "shared", "data")
NVD = os.path.join(DATA, "nvd", "nvdcve-2.0-modified.json.gz")
KEV = os.path.join(DATA, "kev", "known_exploited_vulnerabilities.json")
KERNEL = "cpe:2.3:o:linux:linux_kernel:"
BOUNDS = ("versionStartIncluding", "versionStartExcluding", "versionEndIncluding",
          "versionEndExcluding")
NUMERIC = re.compile(r"[0-9]+(\.[0-9]+)*")


def vt(s):
    return tuple(int(x) for x in s.split("."))


def simple_kernel_record(cve):
    """True when the record's only configuration is an OR of vulnerable
    linux_kernel:* criteria with numeric bounds and an upper bound."""
    cfgs = cve.get("configurations") or []
    if len(cfgs) != 1 or len(cfgs[0]["nodes"]) != 1:
        return False
    node = cfgs[0]["nodes"][0]
    if node.get("negate") or node["operator"] != "OR":
        return False
    for m in node["cpeMatch"]:
        parts = m["criteria"].split(":")
        if not m["criteria"].startswith(KERNEL) or parts[5] != "*" or not m["vulnerable"]:
            return False
        if any(k in m and not NUMERIC.fullmatch(m[k]) for k in BOUNDS):
            return False
        if "versionEndIncluding" not in m and "versionEndExcluding" not in m:
            return False
    return True


def affects(cve, version):
    """Whether the record's ranges contain the kernel version (NVD semantics)."""
    v = vt(version)
    for m in cve["configurations"][0]["nodes"][0]["cpeMatch"]:
        if "versionStartIncluding" in m and v < vt(m["versionStartIncluding"]):
            continue
        if "versionStartExcluding" in m and v <= vt(m["versionStartExcluding"]):
            continue
        if "versionEndIncluding" in m and v > vt(m["versionEndIncluding"]):
            continue
        if "versionEndExcluding" in m and v >= vt(m["versionEndExcluding"]):
            continue
        return True
    return False


@unittest.skipUnless(os.path.exists(NVD), "shared/data is not beside the project")
class RemediationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-remediation-")
        with gzip.open(NVD) as f:
            feed = json.load(f)
        feed["vulnerabilities"] = [v for v in feed["vulnerabilities"]
                                   if simple_kernel_record(v["cve"])]
        feed["totalResults"] = feed["resultsPerPage"] = len(feed["vulnerabilities"])
        cls.records = {v["cve"]["id"]: v["cve"] for v in feed["vulnerabilities"]}
        assert len(cls.records) > 50, "the modified feed should hold many kernel records"
        with open(KEV, "rb") as f:
            kev_raw = f.read()
        cls.kev_ids = {v["cveID"] for v in json.loads(kev_raw)["vulnerabilities"]}

        cls.s = Server().start()
        cls.t = cls.s.login()
        cls.env = dict(os.environ, FLEETPATCH_SERVER=cls.s.url, FLEETPATCH_TOKEN=cls.t,
                       XDG_CONFIG_HOME=cls.tmp.name,
                       FLEETPATCH_KEY_PASSPHRASE="remediation passphrase")
        # Acme's gateways run a Linux kernel as their firmware.
        for model in ("gw-1", "gw-2"):
            r = cls.s.request("PUT", "/api/v1/model-cpes", {
                "manufacturer": "Acme", "model": model,
                "firmware_cpe": KERNEL + "*:*:*:*:*:*:*:*"}, token=cls.t)
            assert r.status == 200, r
        cls.dev = {}
        cls.keys = {}
        for name, model, fw, exposure in (("a1", "gw-1", "6.1.50", "internet"),
                                          ("a2", "gw-1", "6.1.50", "internet"),
                                          ("a3", "gw-1", "6.1.50", "internal"),
                                          ("b1", "gw-1", "6.6.10", "internal"),
                                          ("c1", "gw-2", "6.1.50", "isolated")):
            # Each has its agent's key registered (pre-authorised), for the rollout test.
            cls.keys[name] = DeviceKey(cls.tmp.name)
            r = cls.s.request("POST", "/api/v1/devices", {
                "identity": "serial:rem-" + name, "manufacturer": "Acme", "model": model,
                "firmware": fw, "exposure": exposure,
                "public_key": cls.keys[name].public_pem}, token=cls.t)
            assert r.status == 201, r
            cls.dev[name] = r.json()["id"]
        cls.feed("kev", kev_raw)
        cls.feed("nvd", json.dumps(feed).encode())
        # Releases for gw-1 only: one older than every device, two newer.
        cls.cli(["key", "generate", "--out", cls.path("root")])
        cls.cli(["key", "generate", "--out", cls.path("targets")])
        cls.cli(["root", "init", "--out", cls.path("root.json"), "--root-key",
                 cls.path("root.pub"), "--targets-key", cls.path("targets.pub"),
                 "--server-keys"])
        cls.cli(["metadata", "sign", cls.path("root.json"), "--key", cls.path("root.key")])
        cls.cli(["metadata", "push", cls.path("root.json")])
        for version in ("6.1.10", "6.1.120", "6.6.30"):
            cls.publish("gw-1", version)

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    def cli(cls, args):
        p = subprocess.run([CLI] + args, env=cls.env, capture_output=True, timeout=TIMEOUT,
                           cwd=cls.tmp.name)
        if p.returncode != 0:
            raise AssertionError("fleetpatch %s: %d\n%s%s" % (" ".join(args), p.returncode,
                                                               p.stdout.decode(),
                                                               p.stderr.decode()))
        return p

    @classmethod
    def publish(cls, model, version):
        art = cls.path("fw-%s.bin" % version)
        with open(art, "wb") as f:
            f.write(("kernel %s image" % version).encode() * 100)
        cls.cli(["release", "upload", art])
        out = cls.path("targets-%s.json" % version)
        cls.cli(["release", "create", "--artifact", art, "--name", "gw-%s.bin" % version,
                 "--version", version, "--hardware", model, "--security-counter", "1",
                 "--backend", "ab", "--from-server", "--out", out])
        cls.cli(["metadata", "sign", out, "--key", cls.path("targets.key")])
        cls.cli(["release", "publish", out])

    @classmethod
    def feed(cls, kind, data):
        r = cls.s.request("POST", "/api/v1/feeds/" + kind, raw=data, token=cls.t)
        assert r.status == 202, r
        deadline = time.time() + TIMEOUT * 6
        while time.time() < deadline:
            j = cls.s.request("GET", "/api/v1/jobs/%d" % r.json()["id"], token=cls.t).json()
            if j["status"] == "succeeded":
                return j
            assert j["status"] != "failed", j
            time.sleep(0.1)
        raise AssertionError("the %s import did not finish" % kind)

    def plan(self, query=""):
        r = self.s.request("GET", "/api/v1/remediation?per_page=100" + query, token=self.t)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def expected(self, before, after):
        now = {c for c, rec in self.records.items() if affects(rec, before)}
        then = {c for c, rec in self.records.items() if affects(rec, after)}
        return now - then, then - now

    def test_rows_follow_the_records(self):
        rows = self.plan()["items"]
        got = {(r["model"], r["firmware_version"], r["release"]["version"]): r for r in rows}
        # gw-1 on 6.1.50 can take 6.1.120 or 6.6.30; on 6.6.10 only 6.6.30. 6.1.10 is
        # older than both, and gw-2 has no release.
        self.assertEqual(set(got), {("gw-1", "6.1.50", "6.1.120"), ("gw-1", "6.1.50", "6.6.30"),
                                    ("gw-1", "6.6.10", "6.6.30")})
        for (model, fw, rel), row in got.items():
            removed, introduced = self.expected(fw, rel)
            self.assertTrue(removed, "the oracle should find CVEs fixed by %s" % rel)
            self.assertEqual(row["removes"]["cves"], len(removed), (fw, rel))
            self.assertEqual(set(row["removes"]["cve_ids"]), set(sorted(removed)[:100]))
            self.assertEqual(row["removes"]["kev"], len(removed & self.kev_ids))
            self.assertEqual(row["introduces"]["cves"], len(introduced), (fw, rel))
            self.assertEqual(row["devices"], 3 if fw == "6.1.50" else 1)
            self.assertEqual(row["release"]["target"], "gw-%s.bin" % rel)
            self.assertEqual(row["release"]["security_counter"], 1)
            self.assertGreater(row["removes"]["risk"], 0)
            self.assertIn("update %d device" % row["devices"], row["summary"])

    def test_ranked_by_removed_risk_and_one_recommendation_each(self):
        rows = self.plan()["items"]
        risks = [r["removes"]["risk"] for r in rows]
        self.assertEqual(risks, sorted(risks, reverse=True))
        # Per firmware, the recommended release is the one with the most net risk
        # removed, and only when that is positive (the oracle decides which CVEs come
        # and go, so the sign follows from the records).
        for fw in ("6.1.50", "6.6.10"):
            peers = [p for p in rows if p["firmware_version"] == fw]
            rec = [p for p in peers if p["recommended"]]
            best = max(p["net_risk"] for p in peers)
            if best > 0:
                self.assertEqual(len(rec), 1, fw)
                self.assertEqual(rec[0]["net_risk"], best)
            else:
                self.assertEqual(rec, [], fw)
            for p in peers:
                removed, introduced = self.expected(fw, p["release"]["version"])
                if not introduced:
                    self.assertEqual(p["net_risk"], p["removes"]["risk"])
        only = self.plan("&recommended=true")
        self.assertEqual(only["total"], sum(1 for r in rows if r["recommended"]))
        self.assertGreater(only["total"], 0)
        self.assertTrue(all(r["recommended"] for r in only["items"]))

    def test_internet_devices_weigh_more(self):
        # The same CVEs on three 6.1.50 devices (two internet-facing) must weigh more
        # than on the single internal 6.6.10 device for the same release, per CVE.
        rows = {(r["firmware_version"], r["release"]["version"]): r for r in self.plan()["items"]}
        a, b = rows[("6.1.50", "6.6.30")], rows[("6.6.10", "6.6.30")]
        self.assertGreater(a["removes"]["risk"] / a["removes"]["cves"],
                           b["removes"]["risk"] / b["removes"]["cves"])

    def test_filters_and_paging(self):
        self.assertEqual(self.plan("&model=gw-2")["total"], 0)
        self.assertEqual(self.plan("&model=gw-1")["total"], 3)
        r = self.s.request("GET", "/api/v1/remediation?per_page=1&page=2", token=self.t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["items"]), 1)
        self.assertEqual(r.json()["total"], 3)

    def test_bad_queries_are_refused(self):
        for q in ("recommended=maybe", "bogus=1", "per_page=0", "model=%01"):
            r = self.s.request("GET", "/api/v1/remediation?" + q, token=self.t)
            self.assertEqual(r.status, 400, q)
            self.assertIn("error", r.json())
        self.assertEqual(self.s.request("GET", "/api/v1/remediation").status, 401)

    def test_cli_prints_the_plan(self):
        api = self.plan("&recommended=true")
        out = json.loads(self.cli(["vuln", "plan", "--recommended", "--json",
                                   "--per-page", "100"]).stdout)
        self.assertEqual(out, api)
        table = self.cli(["vuln", "plan", "--model", "gw-1"]).stdout.decode()
        self.assertIn("REMOVED RISK", table.splitlines()[0])
        self.assertIn("gw-6.1.120.bin", table)
        self.assertNotIn("gw-6.1.10.bin", table)
        p = subprocess.run([CLI, "vuln", "plan", "extra"], env=self.env, capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2, p)

    def test_row_becomes_a_draft_rollout(self):
        # The devices' agents enrol with their registered keys: accepted at once.
        for name in ("a1", "a2", "a3", "b1"):
            r = self.keys[name].auth(self.s, "serial:rem-" + name)
            self.assertEqual(r.status, 200, r)
        before = self.s.request("GET", "/api/v1/rollouts", token=self.t).json()["total"]
        # Bad rows: nothing is created.
        for body, status in (({"model": "gw-1"}, 400),
                             ({"model": "gw-1", "firmware_version": 7}, 400),
                             ({"manufacturer": "Acme", "model": "gw-2",
                               "firmware_version": "6.1.50"}, 404),
                             ({"manufacturer": "Acme", "model": "gw-1",
                               "firmware_version": "6.1.50", "release": "gw-6.1.10.bin"}, 404),
                             ({"manufacturer": "Acme", "model": "gw-1",
                               "firmware_version": "6.1.50", "phases": [{"percent": 50}]},
                              400)):
            r = self.s.request("POST", "/api/v1/remediation/rollouts", body, token=self.t)
            self.assertEqual(r.status, status, (body, r))
        self.assertEqual(
            self.s.request("GET", "/api/v1/rollouts", token=self.t).json()["total"], before)
        # The recommended row for gw-1 on 6.1.50 becomes a draft to exactly its 3 devices.
        rec = [x for x in self.plan()["items"] if x["recommended"] and
               x["firmware_version"] == "6.1.50"]
        self.assertEqual(len(rec), 1)
        r = self.s.request("POST", "/api/v1/remediation/rollouts",
                           {"manufacturer": "Acme", "model": "gw-1",
                            "firmware_version": "6.1.50"}, token=self.t)
        self.assertEqual(r.status, 201, r)
        ro = r.json()
        self.assertEqual(ro["state"], "draft")
        self.assertEqual(ro["release"], rec[0]["release"]["target"])
        self.assertEqual(ro["release_version"], rec[0]["release"]["version"])
        self.assertEqual(ro["devices"], rec[0]["devices"])
        self.assertIn('firmware_version == "6.1.50"', ro["target_set"]["filter"])
        self.assertEqual([p["name"] for p in ro["phases"]], ["canary", "all"])
        devs = self.s.request("GET", "/api/v1/rollouts/%d/devices" % ro["id"],
                              token=self.t).json()["items"]
        self.assertEqual({d["device_id"] for d in devs},
                         {self.dev["a1"], self.dev["a2"], self.dev["a3"]})
        self.s.request("POST", "/api/v1/rollouts/%d/abort" % ro["id"], {}, token=self.t)
        # The CLI does the same, here for the other release of the row, as named.
        other = [x for x in self.plan()["items"] if not x["recommended"] and
                 x["firmware_version"] == "6.1.50"][0]["release"]["target"]
        out = self.cli(["--json", "rollout", "from-plan", "--manufacturer", "Acme", "--model",
                        "gw-1", "--firmware", "6.1.50", "--release", other]).stdout
        ro = json.loads(out)
        self.assertEqual((ro["release"], ro["devices"], ro["state"]), (other, 3, "draft"))
        self.s.request("POST", "/api/v1/rollouts/%d/abort" % ro["id"], {}, token=self.t)

    def test_plan_changes_nothing(self):
        before = self.s.request("GET", "/api/v1/findings?per_page=1", token=self.t).json()
        self.plan()
        after = self.s.request("GET", "/api/v1/findings?per_page=1", token=self.t).json()
        self.assertEqual(before["total"], after["total"])
        # Every current finding of a1 is one the oracle says 6.1.50 has.
        r = self.s.request("GET", "/api/v1/devices/%d/findings?per_page=1000" % self.dev["a1"],
                           token=self.t)
        ids = {f["cve_id"] for f in r.json()["items"]}
        self.assertEqual(ids, {c for c, rec in self.records.items() if affects(rec, "6.1.50")})


if __name__ == "__main__":
    unittest.main()
