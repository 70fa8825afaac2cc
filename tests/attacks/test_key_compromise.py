"""Attack: key compromise below the threshold.

The repository uses thresholds: root 2 of 3 (r1, r2, r3) and targets 2 of 3
(alice, bob, carol). The attacker stole one key of each kind (carol's
targets key with its passphrase, r3's root key) and, on top, the server's
online keys. (1) Targets signed by carol alone are refused by the server's
upload, and by the client when a mirror serves them under a snapshot and
timestamp the thief signed; a forged second signature under alice's key id
does not count. (2) A root 2 signed by r3 alone, handing the targets role to
the attacker, is refused by the server and by the client. Nothing is stored.
"""
import hashlib
import json
import os
import time
import unittest

from attacklib import Client, Mirror, Repo, forge, rd, target_path, tuf_time

FW = b"genuine firmware\n" * 300
EVIL = b"malicious firmware\n" * 300


class KeyCompromise(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = cls.repo = Repo(root_keys=("r1", "r2", "r3"), root_threshold=2,
                            targets_keys=("alice", "bob", "carol"), targets_threshold=2)
        r.publish("fw.bin", FW)  # signed by alice and bob
        root = r.meta_json("root.json")["signed"]
        assert root["roles"]["root"]["threshold"] == 2
        assert root["roles"]["targets"]["threshold"] == 2
        # What the attacker holds: carol's and r3's keys (files and passphrases)
        # and the server's data directory. It signs with the real CLI.
        unsigned = r.targets_file("fw.bin", EVIL)
        cls.carol_only = r.sign(unsigned, "carol")
        assert r.cli(["metadata", "verify", cls.carol_only, "--root", r.root_path],
                     ok=False).returncode == 1

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def setUp(self):
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo, name="c%d" % time.time_ns())
        p = self.client.refresh()
        self.assertEqual(p.returncode, 0, p)
        self.before = self.client.state()
        self.roles = self.repo.status()

    def tearDown(self):
        self.mirror.close()
        self.assertEqual(self.repo.status()["root"], self.roles["root"])
        self.assertEqual(self.repo.status()["targets"], self.roles["targets"])

    def upload(self, role, data):
        return self.repo.server.request("POST", "/api/v1/repo/" + role, raw=data,
                                        token=self.repo.token,
                                        headers={"Content-Type": "application/json"})

    def serve_targets(self, targets):
        """The thief's snapshot and timestamp, with the online keys, naming targets."""
        r = self.repo
        v = json.loads(targets)["signed"]["version"]
        snap = r.meta_json("snapshot.json")["signed"]
        snap["version"] += 1
        snap["meta"]["targets.json"] = {"version": v, "length": len(targets),
                                        "hashes": {"sha256": hashlib.sha256(targets).hexdigest()}}
        snapshot = forge(snap, r.online_key("snapshot"))
        ts = r.meta_json("timestamp.json")["signed"]
        ts["version"] += 1
        ts["expires"] = tuf_time(time.time() + 3600)
        ts["meta"]["snapshot.json"] = {"version": snap["version"], "length": len(snapshot),
                                       "hashes": {"sha256": hashlib.sha256(snapshot).hexdigest()}}
        self.mirror.routes["metadata/timestamp.json"] = forge(ts, r.online_key("timestamp"))
        self.mirror.routes["metadata/%d.snapshot.json" % snap["version"]] = snapshot
        self.mirror.routes["metadata/%d.targets.json" % v] = targets
        self.mirror.routes[target_path("fw.bin", EVIL)] = EVIL
        return v

    def assert_client_refuses(self, reason):
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(reason, p.stderr)
        md, files = self.client.state()
        for f in ("root.json", "targets.json"):
            self.assertEqual(md[f], self.before[0][f], f)
        self.assertEqual(files, [])
        self.assertEqual(rd(os.path.join(self.client.md, "targets.json")),
                         self.repo.meta("targets.json"))

    def test_one_targets_key(self):
        data = rd(self.carol_only)
        self.assertEqual(len(json.loads(data)["signatures"]), 1)
        r = self.upload("targets", data)
        self.assertEqual(r.status, 400, r)
        self.assertIn("targets: 1 valid signature(s) by targets keys, the threshold is 2",
                      r.json()["error"]["message"])
        v = self.serve_targets(data)
        self.assertEqual(v, 2)
        self.assert_client_refuses("targets metadata has 1 valid signatures by targets keys of "
                                   "root v1, threshold 2")
        self.assertIn("metadata/2.targets.json", self.mirror.hits)

    def test_one_key_counted_twice(self):
        md = json.loads(rd(self.carol_only))
        root = self.repo.meta_json("root.json")["signed"]
        alice = [k for k in root["roles"]["targets"]["keyids"]
                 if k != md["signatures"][0]["keyid"]][0]
        md["signatures"].append({"keyid": alice, "sig": md["signatures"][0]["sig"]})
        data = json.dumps(md, sort_keys=True, separators=(",", ":")).encode()
        r = self.upload("targets", data)
        self.assertEqual(r.status, 400, r)
        self.assertIn("1 valid signature(s) by targets keys, the threshold is 2",
                      r.json()["error"]["message"])
        self.serve_targets(data)
        self.assert_client_refuses("targets metadata has 1 valid signatures by targets keys")

    def test_one_root_key(self):
        r = self.repo
        mallory = r.holder("mallory")
        os.makedirs(mallory, exist_ok=True)
        with open(os.path.join(mallory, "pass"), "w") as f:
            f.write("passphrase of mallory\n")
        r.cli(["key", "generate", "--out", os.path.join(mallory, "k"),
               "--passphrase-file", os.path.join(mallory, "pass")])
        unsigned = r.path("evil-root-2.json")
        r.cli(["root", "rotate", "--in", r.root_path, "--out", unsigned,
               "--targets-key", r.pub("mallory"), "--targets-threshold", "1"])
        evil = rd(r.sign(unsigned, "r3"))
        up = self.upload("root", evil)
        self.assertEqual(up.status, 400, up)
        self.assertIn("root metadata has 1 valid signatures by root keys of root v1, threshold 2",
                      up.json()["error"]["message"])
        self.mirror.routes["metadata/2.root.json"] = evil
        self.assert_client_refuses("root metadata has 1 valid signatures by root keys of root "
                                   "v1, threshold 2")
        self.assertEqual(self.client.state(), self.before)


if __name__ == "__main__":
    unittest.main()
