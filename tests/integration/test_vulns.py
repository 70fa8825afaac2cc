"""Vulnerability intelligence end to end, on real NVD, KEV and EPSS data.

Every expected match below comes from reading the NVD record (quoted in the
comments), not from the program's output.
"""
import gzip
import json
import os
import time
import unittest

from fpharness import SOURCE, TIMEOUT, Server

DATA = os.path.join(SOURCE, "..", "shared", "data")
NVD = os.path.join(DATA, "nvd", "nvdcve-2.0-kev-iot-2018-2025.json.gz")
KEV = os.path.join(DATA, "kev", "known_exploited_vulnerabilities.json")
EPSS = os.path.join(DATA, "epss", "epss_scores.csv.gz")
TESTDATA = os.path.join(SOURCE, "tests", "data", "vuln")


def read(path):
    with open(path, "rb") as f:
        return f.read()


@unittest.skipUnless(os.path.exists(NVD), "shared/data is not beside the project")
class VulnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server().start()
        cls.t = cls.s.login()
        cls.dev = {}
        # CVE-2018-6530, first configuration:
        #   AND( OR[cpe:2.3:o:dlink:dir-860l_firmware:* versionEndIncluding a1_fw110b04, vulnerable],
        #        OR[cpe:2.3:h:dlink:dir-860l:-, not vulnerable] )
        # and the same shape for dir-868l with versionEndIncluding a1_fw112b04.
        cls.add("A", manufacturer="D-Link", model="DIR-860L", firmware="a1_fw110b04",
                exposure="internal", criticality="medium")
        cls.add("B", manufacturer="D-Link", model="DIR-860L", firmware="a1_fw112b04")
        cls.add("C", manufacturer="dlink", model="DIR-868L", firmware="a1_fw112b04")
        # CVE-2018-13379: cpe:2.3:o:fortinet:fortios:* from 6.0.0 (incl.) to 6.0.5 (excl.).
        cls.add("D", manufacturer="Fortinet", model="FortiGate-60E", firmware="6.0.4")
        cls.add("E", manufacturer="Fortinet", model="FortiGate-60E", firmware="6.0.5")
        # A phone whose SBOM names an ARM Mali driver (added later).
        cls.add("F", manufacturer="Acme", model="phone-1", firmware="2024.03")
        # Two cameras whose firmware image has an SBOM of its own (uploaded once for
        # the model and firmware), and a third on another firmware.
        cls.add("G1", manufacturer="Acme", model="cam-2", firmware="1.0")
        cls.add("G2", manufacturer="Acme", model="cam-2", firmware="1.0")
        cls.add("G3", manufacturer="Acme", model="cam-2", firmware="1.1")
        # D-Link's CPE vendor is "dlink" and FortiGates run "fortios": the mapping says so.
        for body in ({"manufacturer": "D-Link", "model": "DIR-860L",
                      "firmware_cpe": "cpe:2.3:o:dlink:dir-860l_firmware:*:*:*:*:*:*:*:*",
                      "hardware_cpe": "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*"},
                     {"manufacturer": "Fortinet", "model": "FortiGate-60E",
                      "firmware_cpe": "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"}):
            r = cls.s.request("PUT", "/api/v1/model-cpes", body, token=cls.t)
            assert r.status == 200, r
        r = cls.s.request("POST", "/api/v1/devices/%d/sbom" % cls.dev["F"],
                          raw=read(os.path.join(TESTDATA, "mali-sbom.cdx.json")), token=cls.t)
        assert r.status == 200, r
        r = cls.s.request("PUT", "/api/v1/sboms?manufacturer=Acme&model=cam-2&firmware=1.0",
                          raw=read(os.path.join(TESTDATA, "mali-sbom.cdx.json")), token=cls.t)
        assert r.status == 200, r
        cls.kev = cls.feed("kev", read(KEV))
        cls.epss = cls.feed("epss", read(EPSS))
        cls.nvd = cls.feed("nvd", read(NVD))

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    @classmethod
    def add(cls, name, **f):
        f["identity"] = "serial:vuln-" + name
        r = cls.s.request("POST", "/api/v1/devices", f, token=cls.t)
        assert r.status == 201, r
        cls.dev[name] = r.json()["id"]

    @classmethod
    def feed(cls, kind, data):
        r = cls.s.request("POST", "/api/v1/feeds/" + kind, raw=data, token=cls.t)
        assert r.status == 202, r
        return cls.wait(r.json()["id"])

    @classmethod
    def wait(cls, job):
        deadline = time.time() + TIMEOUT * 6
        while time.time() < deadline:
            j = cls.s.request("GET", "/api/v1/jobs/%d" % job, token=cls.t).json()
            if j["status"] in ("succeeded", "failed"):
                return j
            time.sleep(0.1)
        raise AssertionError("job %d did not finish" % job)

    def cves_of(self, name, query=""):
        r = self.s.request("GET", "/api/v1/devices/%d/findings?per_page=1000%s"
                           % (self.dev[name], query), token=self.t)
        self.assertEqual(r.status, 200, r)
        return {f["cve_id"]: f for f in r.json()["items"]}

    def test_feeds_imported(self):
        with gzip.open(NVD) as f:
            records = json.load(f)["vulnerabilities"]
        self.assertEqual(self.nvd["status"], "succeeded", self.nvd)
        self.assertEqual(self.nvd["report"]["rows"], len(records))
        self.assertEqual(self.nvd["report"]["created"], len(records))
        self.assertEqual(self.kev["status"], "succeeded", self.kev)
        self.assertEqual(self.kev["report"]["rows"], 1404)
        self.assertEqual(self.epss["status"], "succeeded", self.epss)
        self.assertEqual(self.epss["report"]["rows"], 360142)
        st = self.s.request("GET", "/api/v1/feeds", token=self.t).json()
        self.assertEqual(st["cves"], len(records))
        self.assertEqual(st["unassessed_cves"],
                         sum(1 for v in records if not v["cve"].get("configurations")))
        c = self.s.request("GET", "/api/v1/cves/CVE-2018-6530", token=self.t).json()
        self.assertEqual(c["cvss"], 9.8)
        self.assertEqual(c["cvss_version"], "3.1")
        self.assertEqual(c["kev"]["due_date"], "2022-09-29")
        self.assertTrue(c["kev"]["ransomware"])
        self.assertAlmostEqual(c["epss"]["score"], 0.96682, places=5)
        self.assertEqual(self.s.request("GET", "/api/v1/cves/CVE-1999-0001",
                                        token=self.t).status, 404)
        self.assertEqual(self.s.request("GET", "/api/v1/cves/nonsense", token=self.t).status,
                         404)

    def test_firmware_on_hardware_semantics(self):
        self.assertIn("CVE-2018-6530", self.cves_of("A"))   # end bound is inclusive
        self.assertNotIn("CVE-2018-6530", self.cves_of("B"))  # above 860L's bound; the
        # 868L range covers a1_fw112b04, but only on h:dlink:dir-868l hardware
        self.assertIn("CVE-2018-6530", self.cves_of("C"))   # derived CPEs, 868L bound
        a = self.cves_of("A")["CVE-2018-6530"]
        self.assertEqual(a["matched_cpe"],
                         "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*")

    def test_version_range_edges(self):
        self.assertIn("CVE-2018-13379", self.cves_of("D"))     # 6.0.4 < 6.0.5
        self.assertNotIn("CVE-2018-13379", self.cves_of("E"))  # end is exclusive

    def test_sbom_components_and_vex(self):
        # CVE-2021-28663: bifrost r0p0 <= v < r29p0; CVE-2022-38181: r0p0 <= v <= r38p1.
        found = self.cves_of("F", "&include_suppressed=true")
        self.assertIn("CVE-2021-28663", found)
        self.assertIn("CVE-2022-38181", found)
        r = self.s.request("POST", "/api/v1/vex",
                           raw=read(os.path.join(TESTDATA, "mali-vex.cdx.json")), token=self.t)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("CVE-2021-28663", self.cves_of("F"))
        kept = self.cves_of("F", "&include_suppressed=true")["CVE-2021-28663"]
        self.assertEqual(kept["vex"], {"state": "not_affected",
                                       "justification": "code_not_reachable"})
        self.assertIn("CVE-2022-38181", self.cves_of("F"))

    def test_firmware_image_sbom(self):
        # The image SBOM names bifrost r28p0: CVE-2022-38181 (r0p0 <= v <= r38p1) applies to
        # every device on that model and firmware, and not to the one on 1.1.
        for name in ("G1", "G2"):
            self.assertIn("CVE-2022-38181", self.cves_of(name, "&include_suppressed=true"))
        self.assertNotIn("CVE-2022-38181", self.cves_of("G3", "&include_suppressed=true"))
        lst = self.s.request("GET", "/api/v1/sboms", token=self.t).json()
        self.assertEqual([(x["model"], x["firmware"], x["components"]) for x in lst["items"]],
                         [("cam-2", "1.0", 2)])
        bad = self.s.request("PUT", "/api/v1/sboms?manufacturer=Acme&model=cam-2",
                             raw=read(os.path.join(TESTDATA, "mali-sbom.cdx.json")), token=self.t)
        self.assertEqual(bad.status, 400)
        bad = self.s.request("PUT", "/api/v1/sboms?manufacturer=Acme&model=cam-2&firmware=9",
                             raw=b'{"bomFormat":"CycloneDX","specVersion":"9.9"}', token=self.t)
        self.assertIn(bad.status, (400, 422))
        self.assertEqual(self.s.request("GET", "/api/v1/sboms", token=self.t).json()["total"], 1)

    def test_risk_is_explained(self):
        f = self.cves_of("A")["CVE-2018-6530"]
        risk = f["risk"]
        # Formula of docs/design/risk.md with default weights: CVSS 9.8, in KEV with known
        # ransomware use, internal (0.6), medium criticality (0.7):
        # 100 x 0.98 x 1.0 x (0.6 x 0.7 x 1.0 x 1.2) = 49.392 -> 49.4
        self.assertEqual(risk["score"], 49.4)
        self.assertEqual(risk["inputs"]["cvss"], 9.8)
        self.assertTrue(risk["inputs"]["kev"])
        self.assertTrue(risk["inputs"]["ransomware"])
        self.assertEqual(risk["weights"]["exposure"], 0.6)
        self.assertTrue(f["kev"])
        self.assertEqual(f["kev_due"], "2022-09-29")
        everyone = self.s.request("GET", "/api/v1/findings?kev=true&per_page=1000",
                                  token=self.t).json()["items"]
        scores = [x["risk"]["score"] for x in everyone]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertTrue(all(x["kev"] for x in everyone))

    def test_reimport_is_idempotent_and_bad_feeds_change_nothing(self):
        again = self.feed("nvd", read(NVD))
        self.assertEqual(again["status"], "succeeded", again)
        self.assertEqual(again["report"]["created"], 0)
        self.assertEqual(again["report"]["unchanged"], again["report"]["rows"])
        before = self.s.request("GET", "/api/v1/feeds", token=self.t).json()
        data = read(NVD)
        # Every record changed, so the writer has stored many of them when the
        # reader finds the end missing: none of them may stay.
        changed = gzip.decompress(data).replace(b'"lastModified":"20', b'"lastModified":"29')
        cve = self.s.request("GET", "/api/v1/cves/CVE-2018-6530", token=self.t).json()
        for bad, why in ((data[: len(data) // 2], "truncated"),
                         (changed[: len(changed) * 9 // 10], "changed, truncated"),
                         (gzip.compress(changed)[:-20], "changed, gzip truncated"),
                         (b'{"format":"NVD_CVE","version":"1.0","vulnerabilities":[]}', "version"),
                         (b"not json at all", None)):
            j = self.feed("nvd", bad)
            self.assertEqual(j["status"], "failed", (why, j))
            self.assertTrue(j["error"])
            if why == "version":
                self.assertIn("1.0", j["error"])
        self.assertEqual(self.s.request("GET", "/api/v1/feeds", token=self.t).json(), before)
        self.assertEqual(self.s.request("GET", "/api/v1/cves/CVE-2018-6530",
                                        token=self.t).json(), cve)
        bad = self.s.request("PUT", "/api/v1/model-cpes",
                             {"manufacturer": "X", "model": "Y", "firmware_cpe": "cpe:2.3:h:x"},
                             token=self.t)
        self.assertEqual(bad.status, 400)
        self.assertEqual(self.s.request("POST", "/api/v1/feeds/osv", raw=b"{}",
                                        token=self.t).status, 404)

    def test_inventory_change_and_exposure_window(self):
        # B moves to a vulnerable firmware, then back; its window opens and closes.
        # The change is assessed at once, without an assessment run.
        r = self.s.request("PATCH", "/api/v1/devices/%d" % self.dev["B"],
                           {"firmware": "a1_fw110b04"}, token=self.t)
        self.assertEqual(r.status, 200)
        self.assertIn("CVE-2018-6530", self.cves_of("B"))
        self.s.request("PATCH", "/api/v1/devices/%d" % self.dev["B"],
                       {"firmware": "a1_fw112b04"}, token=self.t)
        self.assertNotIn("CVE-2018-6530", self.cves_of("B"))
        j = self.wait(self.s.request("POST", "/api/v1/assessments",
                                     token=self.t).json()["id"])
        self.assertEqual(j["status"], "succeeded", j)
        self.assertNotIn("CVE-2018-6530", self.cves_of("B"))
        # Per group: a static group of A and B, and a dynamic one by manufacturer.
        r = self.s.request("POST", "/api/v1/groups", {"name": "dlink-static"}, token=self.t)
        self.assertEqual(r.status, 201, r)
        self.s.request("POST", "/api/v1/groups/dlink-static/members",
                       {"device_ids": [self.dev["A"], self.dev["B"]]}, token=self.t)
        self.s.request("POST", "/api/v1/groups",
                       {"name": "dlink-dynamic", "filter": 'manufacturer == "D-Link"'},
                       token=self.t)
        for name in ("dlink-static", "dlink-dynamic"):
            g = self.s.request("GET", "/api/v1/groups/%s/exposures" % name, token=self.t).json()
            self.assertEqual(g["devices"], 2, g)
            self.assertEqual(g["devices_exposed"], 1, g)   # A is still exposed, B was fixed
            self.assertGreaterEqual(g["open"], 1)
            self.assertGreaterEqual(g["fixed"], 1)
            self.assertIsNotNone(g["mean_time_to_remediate_days"])
            self.assertGreaterEqual(g["kev_overdue"], 1)
        self.assertEqual(self.s.request("GET", "/api/v1/groups/nope/exposures",
                                        token=self.t).status, 404)
        # A device imported after the feeds is assessed by its import job.
        r = self.s.request("POST", "/api/v1/imports?format=json",
                           raw=json.dumps([{"identity": "serial:vuln-H", "manufacturer": "dlink",
                                            "model": "DIR-868L",
                                            "firmware_version": "a1_fw112b04"}]), token=self.t)
        self.assertEqual(r.status, 202, r)
        deadline = time.time() + TIMEOUT
        while self.s.request("GET", "/api/v1/imports/%d" % r.json()["id"],
                             token=self.t).json()["status"] not in ("succeeded", "failed"):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        h = self.s.request("GET", "/api/v1/devices?filter=identity%20%3D%3D%20%22serial%3Avuln-H%22",
                           token=self.t).json()["items"][0]["id"]
        found = self.s.request("GET", "/api/v1/devices/%d/findings" % h, token=self.t).json()
        self.assertIn("CVE-2018-6530", [f["cve_id"] for f in found["items"]])
        ex = self.s.request("GET", "/api/v1/devices/%d/exposures" % self.dev["B"],
                            token=self.t).json()
        w = [x for x in ex["windows"] if x["cve_id"] == "CVE-2018-6530"]
        self.assertEqual(len(w), 1, ex)
        self.assertFalse(w[0]["open"])
        self.assertIsNotNone(w[0]["fixed_at"], "the window closes when the device is fixed")
        self.assertLessEqual(w[0]["first_seen"], w[0]["fixed_at"])
        self.assertGreaterEqual(ex["fixed"], 1)
        self.assertIsNotNone(ex["mean_time_to_remediate_days"])
        # A device still exposed has an open window.
        ex = self.s.request("GET", "/api/v1/devices/%d/exposures" % self.dev["A"],
                            token=self.t).json()
        w = [x for x in ex["windows"] if x["cve_id"] == "CVE-2018-6530" and x["open"]]
        self.assertEqual(len(w), 1, ex)
        # KEV's due date for CVE-2018-6530 is 2022-09-29; the window is still open.
        self.assertEqual(w[0]["kev_due"], "2022-09-29")
        self.assertTrue(w[0]["kev_overdue"])
        self.assertGreaterEqual(ex["kev_overdue"], 1)



def nvd_feed(records):
    """An NVD CVE API 2.0 feed of (id, lastModified, [(criteria, bounds)]) records."""
    vulns = []
    for cve, modified, matches in records:
        cpe_match = []
        for criteria, bounds in matches:
            m = {"vulnerable": True, "criteria": criteria}
            m.update(bounds)
            cpe_match.append(m)
        vulns.append({"cve": {
            "id": cve, "published": "2099-01-01T00:00:00.000", "lastModified": modified,
            "vulnStatus": "Analyzed", "descriptions": [{"lang": "en", "value": cve}],
            "configurations": [{"nodes": [{"operator": "OR", "negate": False,
                                           "cpeMatch": cpe_match}]}]}})
    return json.dumps({"format": "NVD_CVE", "version": "2.0", "vulnerabilities": vulns}).encode()


WIDGET = "cpe:2.3:o:acme:widget_firmware:*:*:*:*:*:*:*:*"
GADGET = "cpe:2.3:o:acme:gadget_firmware:*:*:*:*:*:*:*:*"


class IncrementalTest(unittest.TestCase):
    """After an NVD import, known configurations are matched against the changed CVEs
    only; the findings must be those a full assessment gives."""

    def setUp(self):
        self.s = Server().start()
        self.t = self.s.login()
        self.dev = {}
        for name, model in (("w", "widget"), ("g", "gadget"), ("m", "thing")):
            r = self.s.request("POST", "/api/v1/devices",
                               {"identity": "serial:inc-" + name, "manufacturer": "Acme",
                                "model": model, "firmware": "1.5"}, token=self.t)
            self.assertEqual(r.status, 201, r)
            self.dev[name] = r.json()["id"]

    def tearDown(self):
        self.s.close()

    def job(self, r):
        self.assertEqual(r.status, 202, r)
        deadline = time.time() + TIMEOUT * 6
        while time.time() < deadline:
            j = self.s.request("GET", "/api/v1/jobs/%d" % r.json()["id"], token=self.t).json()
            if j["status"] in ("succeeded", "failed"):
                self.assertEqual(j["status"], "succeeded", j)
                return j
            time.sleep(0.05)
        raise AssertionError("job did not finish")

    def feed(self, records):
        return self.job(self.s.request("POST", "/api/v1/feeds/nvd", raw=nvd_feed(records),
                                       token=self.t))

    def open_cves(self, name):
        r = self.s.request("GET", "/api/v1/devices/%d/findings?per_page=1000" % self.dev[name],
                           token=self.t)
        self.assertEqual(r.status, 200, r)
        return sorted(f["cve_id"] for f in r.json()["items"])

    def snapshot(self):
        return {name: self.open_cves(name) for name in self.dev}

    def test_changed_records_only(self):
        t1, t2 = "2099-01-02T00:00:00.000", "2099-01-03T00:00:00.000"
        self.feed([("CVE-2099-0001", t1, [(WIDGET, {"versionEndExcluding": "2.0"})]),
                   ("CVE-2099-0002", t1, [(GADGET, {"versionEndIncluding": "1.5"})]),
                   ("CVE-2099-0004", t1, [(WIDGET, {"versionStartIncluding": "1.0"})])])
        self.assertEqual(self.snapshot(), {"w": ["CVE-2099-0001", "CVE-2099-0004"],
                                           "g": ["CVE-2099-0002"], "m": []})
        # 0001's range now ends below 1.5 (fixed on w); 0002 moves from gadget to widget
        # (fixed on g, new on w); 0003 is new; 0004 is unchanged and stays.
        j = self.feed([("CVE-2099-0001", t2, [(WIDGET, {"versionEndExcluding": "1.5"})]),
                       ("CVE-2099-0002", t2, [(WIDGET, {"versionEndIncluding": "1.5"})]),
                       ("CVE-2099-0003", t2, [(WIDGET, {})]),
                       ("CVE-2099-0004", t1, [(WIDGET, {"versionStartIncluding": "1.0"})])])
        self.assertEqual((j["report"]["created"], j["report"]["updated"],
                          j["report"]["unchanged"]), (1, 2, 1))
        self.assertEqual(j["report"]["assessment"]["configurations_matched"], 2)
        after = self.snapshot()
        self.assertEqual(after, {"w": ["CVE-2099-0002", "CVE-2099-0003", "CVE-2099-0004"],
                                 "g": [], "m": []})
        ex = self.s.request("GET", "/api/v1/devices/%d/exposures" % self.dev["w"],
                            token=self.t).json()
        fixed = [x["cve_id"] for x in ex["windows"] if not x["open"]]
        self.assertEqual(fixed, ["CVE-2099-0001"])
        self.job(self.s.request("POST", "/api/v1/assessments", token=self.t))
        self.assertEqual(self.snapshot(), after)

    def test_mapping_change_and_removal(self):
        self.feed([("CVE-2099-0001", "2099-01-02T00:00:00.000",
                    [(WIDGET, {"versionEndExcluding": "2.0"})])])
        self.assertEqual(self.open_cves("m"), [])
        # "thing" runs widget firmware: its devices are matched again with the mapping.
        r = self.s.request("PUT", "/api/v1/model-cpes",
                           {"manufacturer": "Acme", "model": "thing", "firmware_cpe": WIDGET},
                           token=self.t)
        self.assertEqual(r.status, 200, r)
        self.job(self.s.request("POST", "/api/v1/assessments", token=self.t))
        self.assertEqual(self.open_cves("m"), ["CVE-2099-0001"])
        r = self.s.request("DELETE", "/api/v1/model-cpes/%d" % r.json()["id"], token=self.t)
        self.assertEqual(r.status, 200, r)
        self.job(self.s.request("POST", "/api/v1/assessments", token=self.t))
        self.assertEqual(self.open_cves("m"), [])


@unittest.skipUnless(os.path.exists(NVD), "shared/data is not beside the project")
class RiskWeightsTest(unittest.TestCase):
    def test_weights_from_the_config_file(self):
        with Server(config="risk_exposure_internal = 0.3\n") as s:
            t = s.login()
            r = s.request("POST", "/api/v1/devices",
                          {"identity": "serial:w1", "manufacturer": "dlink", "model": "DIR-868L",
                           "firmware": "a1_fw112b04", "exposure": "internal",
                           "criticality": "medium"}, token=t)
            self.assertEqual(r.status, 201, r)
            dev = r.json()["id"]
            for kind, path in (("kev", KEV), ("nvd", NVD)):
                job = s.request("POST", "/api/v1/feeds/" + kind, raw=read(path), token=t).json()
                deadline = time.time() + TIMEOUT * 6
                while s.request("GET", "/api/v1/jobs/%d" % job["id"],
                                token=t).json()["status"] not in ("succeeded", "failed"):
                    self.assertLess(time.time(), deadline)
                    time.sleep(0.1)
            f = {x["cve_id"]: x for x in s.request(
                "GET", "/api/v1/devices/%d/findings?per_page=1000" % dev,
                token=t).json()["items"]}["CVE-2018-6530"]
            # 100 x 0.98 x 1.0 x (0.3 x 0.7 x 1.2) = 24.696 -> 24.7 with internal weighted 0.3
            self.assertEqual(f["risk"]["weights"]["exposure"], 0.3)
            self.assertEqual(f["risk"]["score"], 24.7)

    def test_bad_weight_is_refused(self):
        s = Server(config="risk_exposure_internet = 11\n")
        try:
            self.assertEqual(s.start(expect_ok=False), 1)
            self.assertIn("risk_exposure_internet must be a number from 0 to 10", s.read_log())
        finally:
            if s.tmp:
                s.tmp.cleanup()


@unittest.skipUnless(os.path.exists(NVD), "shared/data is not beside the project")
class FeedFetchTest(unittest.TestCase):
    def test_configured_urls_are_fetched_on_schedule(self):
        import functools
        import http.server
        import shutil
        import tempfile
        import threading
        with tempfile.TemporaryDirectory() as www:
            shutil.copy(KEV, os.path.join(www, "kev.json"))
            shutil.copy(NVD, os.path.join(www, "nvd.json.gz"))
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=www)
            httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            base = "http://127.0.0.1:%d/" % httpd.server_address[1]
            cfg = ("feed_kev_url = %skev.json\nfeed_nvd_url = %snvd.json.gz\n"
                   "feed_epss_url = %smissing.csv\nfeed_interval_seconds = 5\n"
                   % (base, base, base))
            try:
                with Server(config=cfg) as s:
                    t = s.login()
                    deadline = time.time() + TIMEOUT * 3
                    st = {}
                    while time.time() < deadline:
                        st = s.request("GET", "/api/v1/feeds", token=t).json()
                        if st["kev"] == 1404 and st["cves"] == 80:
                            break
                        time.sleep(0.2)
                    self.assertEqual((st["kev"], st["cves"]), (1404, 80), st)
                    # The missing EPSS file is logged and the server goes on.
                    self.assertRegex(s.read_log(), r'feed fetch failed.*kind=epss')
                    self.assertEqual(s.request("GET", "/api/v1/health").status, 200)
            finally:
                httpd.shutdown()

    def test_feed_url_must_be_http(self):
        s = Server(config="feed_nvd_url = file:///etc/passwd\n")
        try:
            self.assertEqual(s.start(expect_ok=False), 1)
            self.assertIn("feed_nvd_url must be an http:// or https:// URL", s.read_log())
        finally:
            if s.tmp:
                s.tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
