"""The TUF repository end to end with the real CLI and server: offline keys
made in separate directories (one per key holder), a root with a 2-of-3
targets threshold, threshold signing and merging, publishing, the server's
snapshot and timestamp, a full client check, refusals (wrong role,
duplicate keys, non-canonical JSON, a length that lies, an expired root,
a rotation without the old keys), root rotation, timestamp re-signing,
expiry alerts, and the director's signed per-device assignment."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from fpharness import BUILD, TIMEOUT, DeviceKey, Server

CLI = os.path.join(BUILD, "fleetpatch")
TS_EXPIRY = 10  # seconds; the server re-signs at half of it


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class RepoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-repo-")
        cls.s = Server(config="tuf_timestamp_expiry_seconds = %d\n"
                              "tuf_resign_check_seconds = 1\n" % TS_EXPIRY).start()
        cls.t = cls.s.login()
        cls.env = dict(os.environ, FLEETPATCH_SERVER=cls.s.url, FLEETPATCH_TOKEN=cls.t,
                       XDG_CONFIG_HOME=cls.tmp.name)
        cls.env.pop("FLEETPATCH_KEY_PASSPHRASE", None)
        # One directory per key holder, each with its own passphrase file.
        for who in ("r1", "r2", "alice", "bob", "carol"):
            d = cls.dir(who)
            os.makedirs(d)
            with open(os.path.join(d, "pass"), "w") as f:
                f.write("passphrase of %s\n" % who)
            cls.cli(["key", "generate", "--out", os.path.join(d, "k"),
                     "--passphrase-file", os.path.join(d, "pass")])
        cls.fw = os.urandom(5000)
        cls.fw_path = os.path.join(cls.tmp.name, "fw.bin")
        with open(cls.fw_path, "wb") as f:
            f.write(cls.fw)
        r = cls.s.request("POST", "/api/v1/artifacts", raw=cls.fw, token=cls.t)
        assert r.status == 201, r
        cls.setup_repo()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.tmp.cleanup()

    @classmethod
    def dir(cls, who):
        return os.path.join(cls.tmp.name, who)

    @classmethod
    def cli(cls, args, ok=True, cwd=None):
        p = subprocess.run([CLI] + args, env=cls.env, capture_output=True, timeout=TIMEOUT,
                           cwd=cwd or cls.tmp.name)
        if ok and p.returncode != 0:
            raise AssertionError("fleetpatch %s: %d\n%s%s" % (" ".join(args), p.returncode,
                                                               p.stdout.decode(),
                                                               p.stderr.decode()))
        return p

    @classmethod
    def sign(cls, file, who, out=None):
        """Signs a copy of file in who's own directory, as on their own machine."""
        mine = os.path.join(cls.dir(who), os.path.basename(out or file))
        shutil.copy(file, mine)
        cls.cli(["metadata", "sign", mine, "--key", os.path.join(cls.dir(who), "k.key"),
                 "--passphrase-file", os.path.join(cls.dir(who), "pass")])
        return mine

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    def setup_repo(cls):
        pub = lambda who: os.path.join(cls.dir(who), "k.pub")
        cls.cli(["root", "init", "--out", cls.path("root.json"), "--root-key", pub("r1"),
                 "--targets-key", ",".join(pub(w) for w in ("alice", "bob", "carol")),
                 "--targets-threshold", "2", "--server-keys", "--expires-days", "10"])
        signed = cls.sign(cls.path("root.json"), "r1")
        shutil.copy(signed, cls.path("root.json"))
        cls.cli(["metadata", "verify", cls.path("root.json")])
        cls.cli(["metadata", "push", cls.path("root.json")])
        cls.cli(["release", "create", "--artifact", cls.fw_path, "--name", "fw-1.0.bin",
                 "--version", "1.0", "--hardware", "sim-1,sim-2", "--security-counter", "3",
                 "--backend", "ab", "--from-server", "--out", cls.path("targets.json")])
        a = cls.sign(cls.path("targets.json"), "alice")
        b = cls.sign(cls.path("targets.json"), "bob")
        cls.cli(["metadata", "merge", "--out", cls.path("targets-signed.json"), a, b])
        cls.cli(["release", "publish", cls.path("targets-signed.json")])

    def status(self):
        r = self.s.request("GET", "/api/v1/repo/status", token=self.t)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def next_targets(self, name, length_delta=0):
        """An unsigned next targets version naming the uploaded firmware as `name`."""
        out = self.path("next-%s.json" % name)
        self.cli(["release", "create", "--artifact", self.fw_path, "--name", name,
                  "--version", "1.1", "--hardware", "sim-1", "--security-counter", "4",
                  "--backend", "ab", "--from-server", "--out", out])
        if length_delta:
            md = json.loads(rd(out))
            md["signed"]["targets"][name]["length"] += length_delta
            with open(out, "w") as f:
                json.dump(md, f)
        return out

    def push_raw(self, role, data):
        return self.s.request("POST", "/api/v1/repo/" + role, raw=data, token=self.t,
                              headers={"Content-Type": "application/json"})

    def test_1_published_and_client_verifies(self):
        st = self.status()
        self.assertEqual(st["roles"]["root"]["version"], 1)
        self.assertEqual(st["roles"]["targets"]["version"], 1)
        self.assertGreaterEqual(st["roles"]["snapshot"]["version"], 1)
        self.assertGreaterEqual(st["roles"]["timestamp"]["version"], 1)
        # Metadata is public, and served for consistent snapshots.
        for f in ("root.json", "1.root.json", "timestamp.json", "1.targets.json",
                  "1.snapshot.json"):
            self.assertEqual(self.s.request("GET", "/api/v1/repo/metadata/" + f).status, 200, f)
        self.assertEqual(self.s.request("GET", "/api/v1/repo/metadata/1.timestamp.json").status,
                         404)
        got = self.path("got.bin")
        p = self.cli(["--json", "repo", "check", "--root", self.path("root.json"), "--target",
                      "fw-1.0.bin", "--out", got])
        res = json.loads(p.stdout)
        self.assertTrue(res["valid"])
        self.assertEqual(res["target_sha256"], hashlib.sha256(self.fw).hexdigest())
        self.assertEqual(rd(got), self.fw)
        # The target file is served under its hash; another hash is not.
        sha = hashlib.sha256(self.fw).hexdigest()
        self.assertEqual(self.s.request("GET", "/api/v1/repo/targets/%s.fw-1.0.bin" % sha).status,
                         200)
        self.assertEqual(self.s.request("GET", "/api/v1/repo/targets/%s.fw-1.0.bin" %
                                        ("0" * 64)).status, 404)
        # A single signature is below the 2-of-3 threshold.
        one = self.sign(self.next_targets("fw-single.bin"), "carol")
        self.assertEqual(self.cli(["metadata", "verify", one, "--root", self.path("root.json")],
                                  ok=False).returncode, 1)
        r = self.push_raw("targets", rd(one))
        self.assertEqual(r.status, 400, r)
        self.assertIn("threshold", r.json()["error"]["message"])

    def test_1b_agent_tuf_client(self):
        """The device agent's plain TUF client against the server's layout."""
        agent = os.path.join(BUILD, "fleetpatch-agent")
        if not os.path.exists(agent):
            self.skipTest("no fleetpatch-agent in this build")
        md, tg = self.path("agent-md"), self.path("agent-targets")
        os.makedirs(tg)
        base = self.s.url + "/api/v1/repo"
        run = lambda a: subprocess.run([agent, "tuf", "--metadata-dir", md] + a,
                                       capture_output=True, timeout=TIMEOUT)
        os.makedirs(md)
        p = run(["init", self.path("root.json")])
        self.assertEqual(p.returncode, 0, p)
        p = run(["--metadata-url", base + "/metadata", "--target-name", "fw-1.0.bin",
                 "--target-base-url", base + "/targets/", "--target-dir", tg, "download"])
        self.assertEqual(p.returncode, 0, p)
        files = os.listdir(tg)
        self.assertEqual(len(files), 1, files)
        self.assertEqual(rd(os.path.join(tg, files[0])), self.fw)

    def test_2_refusals_store_nothing(self):
        before = self.status()["roles"]
        # Signatures by the wrong role (a root key) do not count for targets.
        f = self.next_targets("fw-wrongrole.bin")
        a = self.sign(f, "alice")
        r1 = self.sign(f, "r1")
        merged = self.path("wrongrole.json")
        self.cli(["metadata", "merge", "--out", merged, a, r1])
        r = self.push_raw("targets", rd(merged))
        self.assertEqual(r.status, 400, r)
        self.assertIn("not the role", r.json()["error"]["message"])
        # Duplicate keys.
        body = rd(self.path("targets-signed.json"))
        dup = body.replace(b'{"signatures":', b'{"signatures":[],"signatures":', 1)
        r = self.push_raw("targets", dup)
        self.assertEqual(r.status, 400, r)
        self.assertIn("duplicate", r.json()["error"]["message"].lower())
        # Truncated and oversized.
        self.assertEqual(self.push_raw("targets", body[:-10]).status, 400)
        self.assertEqual(self.s.status_of_oversized("POST", "/api/v1/repo/targets", 5000001,
                                                    token=self.t), 413)
        # Non-canonical JSON of a valid, well-signed document.
        f = self.next_targets("fw-pretty.bin")
        merged = self.path("pretty.json")
        self.cli(["metadata", "merge", "--out", merged, self.sign(f, "alice"),
                  self.sign(f, "bob")])
        pretty = json.dumps(json.loads(rd(merged)), indent=2).encode()
        r = self.push_raw("targets", pretty)
        self.assertEqual(r.status, 400, r)
        self.assertIn("canonical", r.json()["error"]["message"])
        # A target whose length lies, correctly signed.
        f = self.next_targets("fw-lie.bin", length_delta=1)
        merged = self.path("lie.json")
        self.cli(["metadata", "merge", "--out", merged, self.sign(f, "alice"),
                  self.sign(f, "bob")])
        r = self.push_raw("targets", rd(merged))
        self.assertEqual(r.status, 400, r)
        self.assertIn("length", r.json()["error"]["message"])
        # An expired root, signed by the right key.
        self.cli(["root", "rotate", "--in", self.path("root.json"), "--out",
                  self.path("expired.json")])
        md = json.loads(rd(self.path("expired.json")))
        md["signed"]["expires"] = "2001-01-01T00:00:00Z"
        with open(self.path("expired.json"), "w") as fh:
            json.dump(md, fh)
        r = self.push_raw("root", rd(self.sign(self.path("expired.json"), "r1")))
        self.assertEqual(r.status, 400, r)
        self.assertIn("expired", r.json()["error"]["message"])
        # Roles: an operator may not upload targets, only an approver may not upload root.
        self.assertEqual(self.s.request("POST", "/api/v1/repo/root", raw=b"{}").status, 401)
        after = self.status()["roles"]
        for role in ("root", "targets"):
            self.assertEqual(before[role], after[role])

    def test_3_root_rotation(self):
        pub = lambda who: os.path.join(self.dir(who), "k.pub")
        new = self.path("root2.json")
        self.cli(["root", "rotate", "--in", self.path("root.json"), "--out", new,
                  "--root-key", pub("r1") + "," + pub("r2"), "--root-threshold", "2",
                  "--expires-days", "365"])
        # Signed by the new key only: the old root's threshold is missing.
        only_new = self.sign(new, "r2", out="root2-r2.json")
        r = self.push_raw("root", rd(only_new))
        self.assertEqual(r.status, 400, r)
        signed = self.path("root2-signed.json")
        self.cli(["metadata", "merge", "--out", signed, self.sign(new, "r1"), only_new])
        self.cli(["metadata", "verify", signed, "--root", self.path("root.json")])
        self.cli(["metadata", "push", signed])
        self.assertEqual(self.status()["roles"]["root"]["version"], 2)
        # A client that trusts root 1 follows the rotation.
        p = self.cli(["--json", "repo", "check", "--root", self.path("root.json")])
        self.assertEqual(json.loads(p.stdout)["root"], 2)

    def test_4_timestamp_resigned_and_alerts(self):
        v0 = self.status()["roles"]["timestamp"]["version"]
        deadline = time.time() + TS_EXPIRY + TIMEOUT
        while time.time() < deadline and self.status()["roles"]["timestamp"]["version"] == v0:
            time.sleep(0.5)
        self.assertGreater(self.status()["roles"]["timestamp"]["version"], v0)
        self.assertIn("re-signed timestamp", self.s.read_log())
        # Root 1 expires in 10 days: inside the 14-day window.
        alerts = self.s.request("GET", "/api/v1/alerts", token=self.t).json()
        roles = {a["role"] for a in alerts["items"]}
        if self.status()["roles"]["root"]["version"] == 1:
            self.assertIn("root", roles)
            self.assertIn("alert: TUF role close to expiry\" role=root", self.s.read_log())
        self.assertNotIn("targets", roles)
        self.assertNotIn("timestamp", roles)
        metrics = self.s.request("GET", "/metrics").body
        self.assertIn("fleetpatch_tuf_expires_seconds{role=\"timestamp\"}", metrics)
        self.assertIn("fleetpatch_alerts ", metrics)

    def test_5_director(self):
        keys = self.s.request("GET", "/api/v1/repo/keys").json()
        dkey = keys["director"]
        key = DeviceKey(self.tmp.name)
        r = key.auth(self.s, "serial:D1", {"model": "sim-1"})
        dev = r.json()["device_id"]
        self.s.request("POST", "/api/v1/devices/%d/accept" % dev, token=self.t)
        tok = key.auth(self.s, "serial:D1").json()["token"]
        self.assertEqual(self.s.request("GET", "/api/v1/device/assignment", token=tok).status,
                         404)
        path = "/api/v1/devices/%d/assignment" % dev
        r = self.s.request("POST", path, {"target": "fw-1.0.bin",
                                          "deadline": "2030-01-01T00:00:00Z"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], 1)
        doc = self.s.request("GET", "/api/v1/device/assignment", token=tok)
        self.assertEqual(doc.status, 200, doc)
        md = doc.json()
        sg = md["signed"]
        self.assertEqual((sg["_type"], sg["device_id"], sg["version"]),
                         ("director-assignment", "serial:D1", 1))
        self.assertEqual(sg["target"]["hashes"]["sha256"], hashlib.sha256(self.fw).hexdigest())
        self.assertEqual(sg["target"]["length"], len(self.fw))
        self.assertEqual(sg["target"]["custom"]["hardware"], ["sim-1", "sim-2"])
        self.assertEqual(md["signatures"][0]["keyid"], dkey["keyid"])
        c = self.s.request("GET", "/api/v1/device/checkin", token=tok).json()
        self.assertEqual(c["assignment"], {"version": 1, "url": "/api/v1/device/assignment"})
        self.verify_ed25519(dkey["public_key_pem"], canonical(sg), md["signatures"][0]["sig"])
        # Versions increase with every change.
        p = self.cli(["--json", "release", "assign", str(dev), "--target", "fw-1.0.bin"])
        self.assertEqual(json.loads(p.stdout)["version"], 2)
        self.assertIn(b"fw-1.0.bin", self.cli(["release", "assignment", str(dev)]).stdout)
        p = self.cli(["--json", "release", "unassign", str(dev)])
        self.assertEqual(json.loads(p.stdout)["version"], 3)
        sg = self.s.request("GET", "/api/v1/device/assignment", token=tok).json()["signed"]
        self.assertEqual((sg["version"], sg["target"]), (3, None))
        self.assertEqual(self.s.request("GET", path, token=self.t).status, 404)
        # Wrong hardware and unknown targets are refused and change nothing.
        key2 = DeviceKey(self.tmp.name)
        dev2 = key2.auth(self.s, "serial:D2", {"model": "other-hw"}).json()["device_id"]
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev2,
                           {"target": "fw-1.0.bin"}, token=self.t)
        self.assertEqual(r.status, 422, r)
        self.assertIn("hardware", r.json()["error"]["message"])
        r = self.s.request("POST", path, {"target": "no-such.bin"}, token=self.t)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(self.s.request("POST", "/api/v1/devices/999/assignment",
                                        {"target": "fw-1.0.bin"}, token=self.t).status, 404)
        audit = self.s.request("GET", "/api/v1/audit?limit=1000", token=self.t).json()["items"]
        actions = [e["action"] for e in audit]
        for a in ("repo.root", "repo.targets", "director.assign", "director.unassign"):
            self.assertIn(a, actions)

    def verify_ed25519(self, pem, msg, sig_hex):
        d = tempfile.mkdtemp(dir=self.tmp.name)
        for name, data in (("k.pem", pem.encode()), ("m", msg),
                           ("s", bytes.fromhex(sig_hex))):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                            os.path.join(d, "k.pem"), "-rawin", "-in", os.path.join(d, "m"),
                            "-sigfile", os.path.join(d, "s")], capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_6_keys_are_encrypted_and_private(self):
        k = os.path.join(self.dir("alice"), "k.key")
        self.assertEqual(os.stat(k).st_mode & 0o777, 0o600)
        self.assertIn(b"ENCRYPTED PRIVATE KEY", rd(k))
        # A wrong passphrase cannot sign.
        bad = os.path.join(self.tmp.name, "badpass")
        with open(bad, "w") as f:
            f.write("not the passphrase\n")
        p = self.cli(["metadata", "sign", self.path("targets.json"), "--key", k,
                      "--passphrase-file", bad, "--out", self.path("x.json")], ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"passphrase", p.stderr)
        # The server's online keys are 0600 too.
        for name in ("snapshot", "timestamp", "director"):
            st = os.stat(os.path.join(self.s.data_dir, "keys", name + ".pem"))
            self.assertEqual(st.st_mode & 0o777, 0o600)

    def test_7_help_and_usage(self):
        for args in (["key"], ["key", "generate"], ["key", "id"], ["root"], ["root", "init"],
                     ["root", "rotate"], ["metadata"], ["metadata", "sign"],
                     ["metadata", "merge"], ["metadata", "verify"], ["metadata", "push"],
                     ["release"], ["release", "create"], ["release", "publish"],
                     ["release", "upload"], ["release", "artifacts"], ["release", "assign"],
                     ["release", "assignment"], ["release", "unassign"], ["repo"], ["repo", "keys"],
                     ["repo", "status"], ["repo", "check"]):
            p = self.cli(args + ["--help"])
            self.assertIn(b"usage: fleetpatch", p.stdout, args)
        for args in (["key", "generate"], ["release", "create", "--new"],
                     ["metadata", "verify", self.path("targets.json")]):
            self.assertEqual(self.cli(args, ok=False).returncode, 2, args)
        # Artifacts through the CLI.
        p = self.cli(["--json", "release", "upload", self.fw_path])
        self.assertTrue(json.loads(p.stdout)["existed"])
        self.assertIn(hashlib.sha256(self.fw).hexdigest().encode(),
                      self.cli(["release", "artifacts"]).stdout)


if __name__ == "__main__":
    unittest.main()
