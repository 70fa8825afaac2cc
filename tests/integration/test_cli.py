"""The operator CLI `fleetpatch` against a real fleetpatchd on loopback: login
and the credentials file, devices, groups, imports, users and roles, tokens,
the audit export verified offline (and caught when edited), help texts, and
the exit codes 0-4 that scripts rely on."""
import json
import os
import signal
import stat
import subprocess
import tempfile
import unittest

from fpharness import BUILD, TIMEOUT, Server, free_port

CLI = os.path.join(BUILD, "fleetpatch")

# Every command and group, for the --help check.
HELP = [
    [], ["login"], ["logout"], ["whoami"], ["version"],
    ["device"], ["device", "list"], ["device", "show"], ["device", "add"],
    ["device", "update"], ["device", "delete"], ["device", "accept"], ["device", "reject"],
    ["group"], ["group", "list"], ["group", "show"], ["group", "create"], ["group", "update"],
    ["group", "delete"], ["group", "devices"], ["group", "add"], ["group", "remove"],
    ["import"], ["import", "list"], ["import", "show"],
    ["user"], ["user", "list"], ["user", "show"], ["user", "add"], ["user", "passwd"],
    ["user", "set"], ["user", "delete"],
    ["token"], ["token", "list"], ["token", "create"], ["token", "revoke"],
    ["audit"], ["audit", "list"], ["audit", "export"], ["audit", "verify"],
]


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-cli-")
        cls.s = Server().start()
        cls.cfg = os.path.join(cls.tmp.name, "admin-config")
        r = cls.run_cli(["login", "--username", "admin", "--password-stdin"],
                        stdin=cls.s.admin_password + "\n")
        if r.returncode != 0:
            raise AssertionError("login failed: %r" % r)

    @classmethod
    def tearDownClass(cls):
        rc = cls.s.stop(signal.SIGTERM)
        cls.s.close()
        cls.tmp.cleanup()
        if rc != 0:
            raise AssertionError("fleetpatchd exited %r after SIGTERM" % rc)

    @classmethod
    def run_cli(cls, args, stdin=None, cfg=None, token=None, server=None):
        env = {k: v for k, v in os.environ.items()
               if k not in ("FLEETPATCH_TOKEN", "FLEETPATCH_SERVER")}
        env["FLEETPATCH_SERVER"] = server or cls.s.url
        env["XDG_CONFIG_HOME"] = cfg or cls.cfg
        if token:
            env["FLEETPATCH_TOKEN"] = token
        return subprocess.run([CLI] + args, input=stdin, capture_output=True, text=True,
                              env=env, timeout=TIMEOUT)

    def ok(self, args, **kw):
        r = self.run_cli(args, **kw)
        self.assertEqual(r.returncode, 0, "%s: %r" % (args, r))
        return r

    def json(self, args, **kw):
        return json.loads(self.ok(args + ["--json"], **kw).stdout)

    # ---- sessions ----

    def test_login_saves_private_credentials_and_logout_removes_them(self):
        path = os.path.join(self.cfg, "fleetpatch", "credentials.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            saved = json.load(f)
        self.assertEqual(saved["server"], self.s.url)
        self.assertTrue(saved["token"].startswith("fpu"))
        me = self.json(["whoami"])
        self.assertEqual((me["username"], me["role"]), ("admin", "admin"))

        cfg = os.path.join(self.tmp.name, "logout-config")
        self.ok(["login", "--username", "admin", "--password-stdin"],
                stdin=self.s.admin_password + "\n", cfg=cfg)
        self.ok(["logout"], cfg=cfg)
        self.assertFalse(os.path.exists(os.path.join(cfg, "fleetpatch", "credentials.json")))
        self.assertEqual(self.run_cli(["whoami"], cfg=cfg).returncode, 4)

    def test_wrong_password_exits_4(self):
        cfg = os.path.join(self.tmp.name, "wrong-config")
        r = self.run_cli(["login", "--username", "admin", "--password-stdin"],
                         stdin="not-the-password\n", cfg=cfg)
        self.assertEqual(r.returncode, 4, r)
        self.assertIn("fleetpatch: wrong username or password", r.stderr)

    # ---- devices and groups ----

    def test_device_lifecycle(self):
        d = self.json(["device", "add", "--identity", "serial:CLI-1", "--set", "name=cam-1",
                       "--set", "mac=AA:BB:CC:00:11:22", "--set", "firmware=5.4.1",
                       "--tag", "camera", "--tag", "lab"])
        self.assertEqual(d["identity"], "serial:CLI-1")
        self.assertEqual(d["mac"], "aa:bb:cc:00:11:22")
        self.assertEqual(d["firmware_version"], "5.4.1")
        self.assertEqual(sorted(d["tags"]), ["camera", "lab"])
        did = str(d["id"])

        listed = self.json(["device", "list", "--filter", 'identity == "serial:CLI-1"'])
        self.assertEqual(listed["total"], 1)
        self.assertEqual(listed["items"][0]["id"], d["id"])
        self.assertEqual(self.json(["device", "show", did])["name"], "cam-1")

        u = self.json(["device", "update", did, "--set", "name=cam-one", "--clear",
                       "firmware_version"])
        self.assertEqual(u["name"], "cam-one")
        self.assertIsNone(u["firmware_version"])
        self.assertEqual(u["mac"], "aa:bb:cc:00:11:22")

        # The human table names the device too.
        self.assertIn("cam-one", self.ok(["device", "list"]).stdout)

        self.assertEqual(self.json(["device", "delete", did])["deleted"], d["id"])
        r = self.run_cli(["device", "show", did])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("fleetpatch: no device with id", r.stderr)

    def test_device_bad_field_is_a_usage_error(self):
        r = self.run_cli(["device", "add", "--identity", "x", "--set", "exposure=sky"])
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("exposure", r.stderr)
        self.assertEqual(self.run_cli(["device", "add", "--set", "name=x"]).returncode, 2)

    def test_dynamic_group(self):
        for i in range(3):
            self.ok(["device", "add", "--identity", "serial:GRP-%d" % i, "--set",
                     "exposure=" + ("internet" if i < 2 else "internal"), "--tag", "grp"])
        g = self.json(["group", "create", "exposed", "--description", "on the internet",
                       "--filter", "exposure == internet and tags == grp"])
        self.assertEqual(g["type"], "dynamic")
        members = self.json(["group", "devices", "exposed"])
        self.assertEqual(sorted(m["identity"] for m in members["items"]),
                         ["serial:GRP-0", "serial:GRP-1"])
        self.assertEqual(self.json(["group", "show", "exposed"])["device_count"], 2)
        # --all merges every page into one listing.
        merged = self.json(["group", "devices", "exposed", "--all", "--per-page", "1"])
        self.assertEqual(merged["total"], 2)
        self.assertEqual(len(merged["items"]), 2)

    # ---- imports ----

    def test_import_csv_and_reimport(self):
        path = os.path.join(self.tmp.name, "fleet.csv")
        with open(path, "w") as f:
            f.write("identity,name,mac,tags\n"
                    "serial:IMP-1,imp-1,02:00:00:00:00:01,imported\n"
                    "serial:IMP-2,imp-2,02:00:00:00:00:02,imported\n"
                    "serial:IMP-3,imp-3,02:00:00:00:00:03,imported\n"
                    "serial:IMP-4,imp-4,not-a-mac,imported\n")
        job = self.json(["import", path, "--format", "csv"])
        self.assertEqual(job["status"], "succeeded")
        rep = job["report"]
        self.assertEqual((rep["created"], rep["updated"], rep["unchanged"]), (3, 0, 0))
        self.assertEqual([r["line"] for r in rep["rejected"]], [5])

        again = self.json(["import", path, "--format", "csv"])["report"]
        self.assertEqual((again["created"], again["updated"], again["unchanged"]), (0, 0, 3))

        text = self.ok(["import", path, "--format", "csv", "--dry-run"]).stdout
        self.assertIn("unchanged: 3", text)
        self.assertIn("line 5:", text)
        r = self.run_cli(["import", path, "--format", "xls"])
        self.assertEqual(r.returncode, 2, r)

    # ---- users, roles and tokens ----

    def test_viewer_cannot_add_devices(self):
        pw = "viewer-password-123"
        self.json(["user", "add", "vera", "--role", "viewer", "--password-stdin"],
                  stdin=pw + "\n")
        cfg = os.path.join(self.tmp.name, "viewer-config")
        self.ok(["login", "--username", "vera", "--password-stdin"], stdin=pw + "\n", cfg=cfg)
        self.assertEqual(self.json(["whoami"], cfg=cfg)["role"], "viewer")
        self.ok(["device", "list"], cfg=cfg)
        r = self.run_cli(["device", "add", "--identity", "serial:NOPE"], cfg=cfg)
        self.assertEqual(r.returncode, 4, r)
        self.assertIn("operator role", r.stderr)

    def test_token_create_and_revoke(self):
        t = self.json(["token", "create", "ci-script", "--days", "7"])
        token = t["token"]
        me = self.json(["whoami"], token=token, cfg=os.path.join(self.tmp.name, "none"))
        self.assertEqual(me["username"], "admin")
        self.ok(["token", "revoke", str(t["id"])])
        r = self.run_cli(["whoami"], token=token, cfg=os.path.join(self.tmp.name, "none"))
        self.assertEqual(r.returncode, 4, r)

    # ---- audit ----

    def test_audit_export_verify_and_tamper(self):
        self.ok(["device", "add", "--identity", "serial:AUD-1", "--set", "name=audited"])
        self.ok(["device", "add", "--identity", "serial:AUD-2"])
        path = os.path.join(self.tmp.name, "audit.jsonl")
        self.ok(["audit", "export", "-o", path])
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertGreaterEqual(len(lines), 2)
        r = self.ok(["audit", "verify", "--file", path])
        self.assertIn("audit log intact: %d entries" % len(lines), r.stdout)
        # Without --file the CLI fetches the export and checks it itself.
        self.assertIn("audit log intact", self.ok(["audit", "verify"]).stdout)

        # Change one character of an "after" value in the entry that created the device.
        for i, line in enumerate(lines):
            e = json.loads(line)
            if e["action"] == "device.create" and e["after"]["identity"] == "serial:AUD-1":
                break
        else:
            self.fail("no audit entry for serial:AUD-1")
        key = '"identity":"serial:AUD-1"'
        at = line.index(key, line.index('"after":')) + len(key) - 2
        lines[i] = line[:at] + "2" + line[at + 1:]
        bad = os.path.join(self.tmp.name, "audit-edited.jsonl")
        with open(bad, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = self.run_cli(["audit", "verify", "--file", bad], server="http://127.0.0.1:1")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("audit log TAMPERED at entry %d" % e["seq"], r.stdout)

        # Deleting an entry, or swapping two, is caught at the first entry out of place.
        original = [json.loads(x) for x in lines[:i] + [line] + lines[i + 1:]]
        self.assertGreaterEqual(len(original), 3)
        for name, edited in (("deleted", original[:1] + original[2:]),
                             ("swapped", [original[0], original[2], original[1]] + original[3:])):
            path2 = os.path.join(self.tmp.name, "audit-%s.jsonl" % name)
            with open(path2, "w") as f:
                f.write("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in edited))
            r = self.run_cli(["audit", "verify", "--file", path2], server="http://127.0.0.1:1")
            self.assertEqual(r.returncode, 1, (name, r))
            self.assertIn("audit log TAMPERED at entry %d" % original[1]["seq"], r.stdout, name)

    # ---- help and exit codes ----

    def test_help_everywhere(self):
        for args in HELP:
            r = self.run_cli(args + ["--help"])
            self.assertEqual(r.returncode, 0, "%s: %r" % (args, r))
            self.assertIn("usage: fleetpatch", r.stdout, args)
        self.assertIn("Exit codes", self.ok(["--help"]).stdout)

    def test_usage_errors_exit_2(self):
        for args in (["device", "list", "--no-such-flag"], ["no-such-command"],
                     ["device"], ["device", "show"], ["device", "show", "abc"],
                     ["audit", "list", "--limit", "0"], ["device", "list", "--page", "x"]):
            r = self.run_cli(args)
            self.assertEqual(r.returncode, 2, "%s: %r" % (args, r))
            self.assertIn("fleetpatch: ", r.stderr)

    def test_unreachable_server_exits_3(self):
        closed = "http://127.0.0.1:%d" % free_port()
        r = self.run_cli(["device", "list"], server=closed)
        self.assertEqual(r.returncode, 3, r)
        self.assertIn("cannot reach", r.stderr)


if __name__ == "__main__":
    unittest.main()
