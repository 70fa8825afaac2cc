"""The CLI's vulnerability commands (`feeds`, `vuln`, `device sbom`) against a real
fleetpatchd, importing the real NVD and KEV feeds with the CLI.

The expected match comes from reading the NVD record, not from the program's
output: CVE-2018-6530 has the configuration
  AND( OR[cpe:2.3:o:dlink:dir-868l_firmware:* versionEndIncluding a1_fw112b04],
       OR[cpe:2.3:h:dlink:dir-868l:-] )
and a device with manufacturer "dlink", model "DIR-868L" has the derived CPE
names o:dlink:dir-868l_firmware:FIRMWARE and h:dlink:dir-868l:-.
"""
import gzip
import json
import os
import subprocess
import tempfile
import unittest

from fpharness import BUILD, SOURCE, TIMEOUT, Server

CLI = os.path.join(BUILD, "fleetpatch")

DATA = os.path.join(SOURCE, "..", "shared", "data")
NVD = os.path.join(DATA, "nvd", "nvdcve-2.0-kev-iot-2018-2025.json.gz")
KEV = os.path.join(DATA, "kev", "known_exploited_vulnerabilities.json")
TESTDATA = os.path.join(SOURCE, "tests", "data", "vuln")

HELP = [
    ["feeds"], ["feeds", "import"], ["feeds", "status"],
    ["vuln"], ["vuln", "findings"], ["vuln", "cve"], ["vuln", "assess"], ["vuln", "job"],
    ["vuln", "vex"], ["vuln", "model-cpe"], ["vuln", "model-cpe", "list"],
    ["vuln", "model-cpe", "set"], ["vuln", "model-cpe", "delete"], ["device", "sbom"],
]


@unittest.skipUnless(os.path.exists(NVD) and os.path.exists(KEV),
                     "shared/data is not beside the project")
class CliVulnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-cli-vuln-")
        cls.s = Server().start()
        cls.cfg = os.path.join(cls.tmp.name, "config")
        r = cls.run_cli(["login", "--username", "admin", "--password-stdin"],
                        stdin=cls.s.admin_password + "\n")
        if r.returncode != 0:
            raise AssertionError("login failed: %r" % r)
        r = cls.run_cli(["device", "add", "--identity", "serial:cli-vuln-868", "--json",
                         "--set", "manufacturer=dlink", "--set", "model=DIR-868L",
                         "--set", "firmware=a1_fw112b04"])
        if r.returncode != 0:
            raise AssertionError("device add failed: %r" % r)
        cls.dev = json.loads(r.stdout)["id"]
        # One invocation per feed, like an operator would; the --json output is
        # one final job per line.
        cls.imports = {}
        for kind, path in (("kev", KEV), ("nvd", NVD)):
            r = cls.run_cli(["feeds", "import", "--kind", kind, path, "--json"],
                            timeout=TIMEOUT * 6)
            if r.returncode != 0:
                raise AssertionError("feeds import %s failed: %r" % (kind, r))
            cls.imports[kind] = [json.loads(line) for line in r.stdout.splitlines()]

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.tmp.cleanup()

    @classmethod
    def run_cli(cls, args, stdin=None, timeout=TIMEOUT):
        env = {k: v for k, v in os.environ.items()
               if k not in ("FLEETPATCH_TOKEN", "FLEETPATCH_SERVER")}
        env["FLEETPATCH_SERVER"] = cls.s.url
        env["XDG_CONFIG_HOME"] = cls.cfg
        return subprocess.run([CLI] + args, input=stdin, capture_output=True, text=True,
                              env=env, timeout=timeout)

    def ok(self, args, **kw):
        r = self.run_cli(args, **kw)
        self.assertEqual(r.returncode, 0, "%s: %r" % (args, r))
        return r

    def json(self, args, **kw):
        return json.loads(self.ok(args + ["--json"], **kw).stdout)

    def test_imports_report_and_status(self):
        with gzip.open(NVD) as f:
            records = json.load(f)["vulnerabilities"]
        (nvd,) = self.imports["nvd"]
        self.assertEqual(nvd["status"], "succeeded", nvd)
        self.assertEqual(nvd["format"], "nvd")
        self.assertEqual(nvd["report"]["rows"], len(records))
        (kev,) = self.imports["kev"]
        self.assertEqual(kev["status"], "succeeded", kev)
        st = self.json(["feeds", "status"])
        self.assertEqual(st["cves"], 80)
        self.assertEqual(st["cves"], len(records))
        self.assertEqual(st["kev"], kev["report"]["rows"])
        # Without --json: the human summary, with thousands separators.
        r = self.ok(["feeds", "import", "--kind", "nvd", NVD], timeout=TIMEOUT * 6)
        self.assertEqual(r.stdout,
                         "%s: %d records: 0 created, 0 updated, %d unchanged, %d unassessed\n"
                         % (NVD, len(records), len(records),
                            sum(1 for v in records if not v["cve"].get("configurations"))))
        self.assertIn("records: catalogue version ",
                      self.ok(["feeds", "import", "--kind", "kev", KEV]).stdout)
        self.assertIn("cves:", self.ok(["feeds", "status"]).stdout)

    def test_device_findings(self):
        found = self.json(["vuln", "findings", "--device", str(self.dev), "--all"])
        by_cve = {f["cve_id"]: f for f in found["items"]}
        self.assertIn("CVE-2018-6530", by_cve)
        f = by_cve["CVE-2018-6530"]
        self.assertEqual(f["device_id"], self.dev)
        self.assertEqual(f["matched_cpe"],
                         "cpe:2.3:o:dlink:dir-868l_firmware:a1_fw112b04:*:*:*:*:*:*:*")
        self.assertTrue(f["kev"])
        # The same through the fleet-wide listing and its filters.
        one = self.json(["vuln", "findings", "--cve", "CVE-2018-6530", "--kev"])
        self.assertEqual([x["device_id"] for x in one["items"]], [self.dev])
        self.assertEqual(self.json(["vuln", "findings", "--min-risk", "100"])["total"], 0)
        table = self.ok(["vuln", "findings", "--device", str(self.dev)]).stdout
        self.assertIn("MATCHED CPE", table.splitlines()[0])
        self.assertIn("CVE-2018-6530", table)
        r = self.run_cli(["vuln", "findings", "--device", "999999"])
        self.assertEqual(r.returncode, 1, r)

    def test_cve(self):
        c = self.json(["vuln", "cve", "CVE-2018-6530"])
        self.assertEqual(c["id"], "CVE-2018-6530")
        self.assertEqual(c["kev"]["due_date"], "2022-09-29")
        self.assertGreaterEqual(c["affected_devices"], 1)
        self.assertIn("due_date", self.ok(["vuln", "cve", "CVE-2018-6530"]).stdout)
        self.assertEqual(self.run_cli(["vuln", "cve", "CVE-1999-0001"]).returncode, 1)

    def test_assess_and_job(self):
        j = self.json(["vuln", "assess"])
        self.assertEqual(j["status"], "succeeded", j)
        self.assertEqual(j["format"], "assessment")
        self.assertEqual(self.json(["vuln", "job", str(j["id"])])["id"], j["id"])
        self.assertRegex(self.ok(["vuln", "assess"]).stdout,
                         r"^assessment \d+ succeeded: \d+ configurations")
        q = self.json(["vuln", "assess", "--no-wait"])
        self.assertIn(q["status"], ("queued", "running", "succeeded"))

    def test_model_cpe_set_list_delete(self):
        m = self.json(["vuln", "model-cpe", "set", "--manufacturer", "Fortinet", "--model",
                       "FortiGate-60E", "--firmware-cpe",
                       "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"])
        self.assertEqual(m["firmware_cpe"], "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*")
        listed = self.json(["vuln", "model-cpe", "list"])
        self.assertIn(m["id"], [x["id"] for x in listed["items"]])
        self.ok(["vuln", "model-cpe", "delete", str(m["id"])])
        self.assertEqual(self.run_cli(["vuln", "model-cpe", "delete", str(m["id"])]).returncode,
                         1)
        r = self.run_cli(["vuln", "model-cpe", "set", "--manufacturer", "X", "--model", "Y",
                          "--firmware-cpe", "cpe:2.3:h:x:y"])
        self.assertEqual(r.returncode, 2, r)

    def test_sbom_and_vex(self):
        d = self.json(["device", "add", "--identity", "serial:cli-vuln-phone",
                       "--set", "manufacturer=Acme", "--set", "model=phone-1"])
        sb = self.json(["device", "sbom", str(d["id"]),
                        os.path.join(TESTDATA, "mali-sbom.cdx.json")])
        self.assertEqual(sb["device_id"], d["id"])
        self.assertGreater(sb["components"], 0)
        v = self.json(["vuln", "vex", os.path.join(TESTDATA, "mali-vex.cdx.json")])
        self.assertGreater(v["statements"], 0)
        self.assertEqual(self.run_cli(["device", "sbom", str(d["id"]), KEV]).returncode, 1)

    def test_truncated_feed_fails_naming_the_file(self):
        with open(NVD, "rb") as f:
            data = f.read()
        bad = os.path.join(self.tmp.name, "truncated.json.gz")
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        before = self.json(["feeds", "status"])
        r = self.run_cli(["feeds", "import", "--kind", "nvd", bad])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("fleetpatch: %s: import job" % bad, r.stderr)
        self.assertIn("failed: ", r.stderr)
        self.assertEqual(self.json(["feeds", "status"]), before)
        # Every file is tried; the good one after the bad one is still imported.
        r = self.run_cli(["feeds", "import", "--kind", "kev", bad, KEV])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(os.path.basename(KEV) + ": ", r.stdout)
        # A missing file is refused before anything is sent.
        r = self.run_cli(["feeds", "import", "--kind", "kev", bad + ".missing"])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("cannot open", r.stderr)

    def test_help_everywhere(self):
        for args in HELP:
            r = self.run_cli(args + ["--help"])
            self.assertEqual(r.returncode, 0, "%s: %r" % (args, r))
            self.assertIn("usage: fleetpatch", r.stdout, args)
        top = self.ok(["--help"]).stdout
        self.assertIn("feeds ...", top)
        self.assertIn("vuln ...", top)
        self.assertIn("sbom ID FILE", self.ok(["device", "--help"]).stdout)

    def test_usage_errors_exit_2(self):
        for args in (["feeds", "import", "--kind", "nvd", NVD, "--no-such-flag"],
                     ["feeds", "import", "--kind", "osv", NVD], ["feeds", "import", NVD],
                     ["feeds", "import", "--kind", "nvd"], ["feeds", "status", "extra"],
                     ["feeds"], ["vuln"], ["vuln", "nope"],
                     ["vuln", "findings", "--bad-flag"], ["vuln", "findings", "--min-risk", "x"],
                     ["vuln", "findings", "--min-risk", "101"],
                     ["vuln", "findings", "--device", "abc"], ["vuln", "cve"],
                     ["vuln", "assess", "--bad"], ["vuln", "job", "x"], ["vuln", "vex"],
                     ["vuln", "model-cpe"], ["vuln", "model-cpe", "set", "--model", "X"],
                     ["vuln", "model-cpe", "delete", "x"], ["device", "sbom", "1"],
                     ["device", "sbom", "x", KEV]):
            r = self.run_cli(args)
            self.assertEqual(r.returncode, 2, "%s: %r" % (args, r))
            self.assertIn("fleetpatch: ", r.stderr)


if __name__ == "__main__":
    unittest.main()
