"""Attack: arbitrary installation.

The attacker wants the device to install bytes the targets keys never
signed: (1) a mirror swaps a published target for other bytes of the same
length; (2) a mirror serves targets metadata naming a malicious file,
signed by the attacker's own key; (3) a thief of the server (both online
keys, snapshot and timestamp) re-signs snapshot and timestamp so that the
malicious targets metadata matches them, and signs it with the snapshot key
for good measure. In every case the client exits 1 naming the reason and
stores nothing new.
"""
import hashlib
import json
import os
import time
import unittest

from attacklib import Client, Mirror, Repo, forge, new_key, target_path, tuf_time

FW = b"genuine firmware 1.0\n" * 200
EVIL = b"malicious payload!!!\n" * 200  # the same length as FW


class ArbitraryInstallation(unittest.TestCase):
    def setUp(self):
        self.repo = Repo()
        self.repo.publish("fw.bin", FW)
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo)
        # The client already trusts the current metadata; the attack is in what follows.
        p = self.client.refresh()
        self.assertEqual(p.returncode, 0, p)
        self.before = self.client.state()
        self.assertEqual(len(EVIL), len(FW))

    def tearDown(self):
        self.mirror.close()
        self.repo.close()

    def attack(self, *reasons):
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        for r in reasons:
            self.assertIn(r, p.stderr)
        self.assertEqual(self.client.state(), self.before, "the client stored something")
        return p

    def test_swapped_target_bytes(self):
        path = target_path("fw.bin", FW)
        self.mirror.routes[path] = EVIL
        self.attack("target fw.bin", "sha256 does not match the signed hash")
        self.assertIn(path, self.mirror.hits)
        # The same request through the honest repository succeeds, so the refusal
        # above is about the bytes and nothing else.
        p = self.client.download("fw.bin")
        self.assertEqual(p.returncode, 0, p)
        with open(os.path.join(self.client.tg, "fw.bin"), "rb") as f:
            self.assertEqual(f.read(), FW)

    def evil_targets(self):
        """The genuine targets metadata with fw.bin pointing at EVIL, version bumped."""
        t = self.repo.meta_json("targets.json")
        sg = t["signed"]
        sg["version"] += 1
        sg["targets"]["fw.bin"]["hashes"] = {"sha256": hashlib.sha256(EVIL).hexdigest(),
                                             "sha512": hashlib.sha512(EVIL).hexdigest()}
        return sg

    def test_targets_signed_by_attacker_key(self):
        sg = self.evil_targets()
        # Served where the client looks for the current targets version...
        cur = self.repo.meta_json("targets.json")["signed"]["version"]
        self.mirror.routes["metadata/%d.targets.json" % cur] = forge(sg, new_key())
        self.mirror.routes[target_path("fw.bin", EVIL)] = EVIL
        # (the stored targets still matches the snapshot, so drop it to make the
        # client fetch the mirror's copy, as a new device would)
        os.unlink(os.path.join(self.client.md, "targets.json"))
        self.before = self.client.state()
        self.attack("targets", "sha256 does not match")
        self.assertIn("metadata/%d.targets.json" % cur, self.mirror.hits)

    def test_thief_of_online_keys_cannot_sign_targets(self):
        r = self.repo
        snap_key, ts_key = r.online_key("snapshot"), r.online_key("timestamp")
        sg = self.evil_targets()
        # The thief signs the malicious targets with every key it has.
        targets = forge(sg, new_key(), snap_key, ts_key)
        snap = r.meta_json("snapshot.json")["signed"]
        snap["version"] += 1
        snap["meta"]["targets.json"] = {
            "version": sg["version"], "length": len(targets),
            "hashes": {"sha256": hashlib.sha256(targets).hexdigest()}}
        snapshot = forge(snap, snap_key)
        ts = r.meta_json("timestamp.json")["signed"]
        ts["version"] += 1
        ts["expires"] = tuf_time(time.time() + 3600)
        ts["meta"]["snapshot.json"] = {
            "version": snap["version"], "length": len(snapshot),
            "hashes": {"sha256": hashlib.sha256(snapshot).hexdigest()}}
        self.mirror.routes["metadata/timestamp.json"] = forge(ts, ts_key)
        self.mirror.routes["metadata/%d.snapshot.json" % snap["version"]] = snapshot
        self.mirror.routes["metadata/%d.targets.json" % sg["version"]] = targets
        self.mirror.routes[target_path("fw.bin", EVIL)] = EVIL
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("targets metadata has 0 valid signatures by targets keys", p.stderr)
        self.assertIn("metadata/%d.targets.json" % sg["version"], self.mirror.hits)
        # A thief's timestamp and snapshot are validly signed, so the client keeps
        # them (TUF 5.4, 5.5): that is the freeze a stolen server can cause. What it
        # never trusts or stores is the targets metadata, and no file is installed.
        md, files = self.client.state()
        self.assertEqual(md["targets.json"], self.before[0]["targets.json"])
        self.assertEqual(json.loads(md["targets.json"])["signed"]["version"], sg["version"] - 1)
        self.assertEqual(files, [])
        self.assertNotIn(target_path("fw.bin", EVIL), self.mirror.hits)


if __name__ == "__main__":
    unittest.main()
