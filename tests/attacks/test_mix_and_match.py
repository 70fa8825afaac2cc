"""Attack: mix-and-match.

The attacker combines metadata that was never current together, each file
validly signed on its own: (1) the targets metadata of release 1 served in
place of release 2's, which the snapshot names; (2) the snapshot of release
1 served in place of the one the timestamp names; (3) with the online keys
stolen, a new snapshot that names targets version 2 but carries the length
and hash of release 1's targets metadata, which it then serves. The client
checks every file against the length, hashes and version the metadata
above it signs, exits 1, and trusts nothing of the mix.
"""
import hashlib
import json
import time
import unittest

from attacklib import Client, Mirror, Repo, forge, tuf_time

FW1 = b"firmware 1\n" * 300
FW2 = b"firmware 2\n" * 300


def mismatch(what, got, signed_length):
    """The message of a length or, for equal lengths, a hash mismatch."""
    if len(got) != signed_length:
        return "%s has %d bytes, not the signed %d" % (what, len(got), signed_length)
    return "%s: sha256 does not match the signed hash" % what


class MixAndMatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = cls.repo = Repo()
        r.publish("fw-1.bin", FW1)
        cls.old = {f: r.meta(f) for f in ("1.targets.json", "timestamp.json")}
        cls.old_snap_v = json.loads(cls.old["timestamp.json"])["signed"]["meta"][
            "snapshot.json"]["version"]
        cls.old["snapshot"] = r.meta("%d.snapshot.json" % cls.old_snap_v)
        r.publish("fw-2.bin", FW2)

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def setUp(self):
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo, name="c%d" % time.time_ns())
        self.ts = self.repo.meta_json("timestamp.json")["signed"]
        self.snap = self.repo.meta_json("snapshot.json")["signed"]

    def tearDown(self):
        self.mirror.close()

    def attack(self, path, reason, genuine):
        p = self.client.download("fw-2.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(reason, p.stderr)
        self.assertIn(path, self.mirror.hits)
        md, files = self.client.state()
        # Only the genuine files above the mixed-in one were stored, nothing else.
        self.assertEqual(md, dict({"root.json": md["root.json"]},
                                  **{f: self.repo.meta(f) for f in genuine}))
        self.assertEqual(files, [])

    def test_old_targets_in_place_of_new(self):
        meta = self.snap["meta"]["targets.json"]
        self.assertEqual(meta["version"], 2)
        old = self.old["1.targets.json"]
        self.mirror.routes["metadata/2.targets.json"] = old
        self.attack("metadata/2.targets.json", mismatch("targets", old, meta["length"]),
                    genuine=("timestamp.json", "snapshot.json"))

    def test_old_snapshot_in_place_of_new(self):
        meta = self.ts["meta"]["snapshot.json"]
        self.assertGreater(meta["version"], self.old_snap_v)
        old = self.old["snapshot"]
        path = "metadata/%d.snapshot.json" % meta["version"]
        self.mirror.routes[path] = old
        self.attack(path, mismatch("snapshot", old, meta["length"]),
                    genuine=("timestamp.json",))

    def test_thief_matches_old_targets_to_new_snapshot(self):
        r = self.repo
        old = self.old["1.targets.json"]
        snap = dict(self.snap)
        snap["version"] += 1
        snap["meta"] = {"targets.json": {"version": 2, "length": len(old),
                                         "hashes": {"sha256": hashlib.sha256(old).hexdigest()}}}
        snapshot = forge(snap, r.online_key("snapshot"))
        ts = dict(self.ts)
        ts["version"] += 1
        ts["expires"] = tuf_time(time.time() + 3600)
        ts["meta"] = {"snapshot.json": {"version": snap["version"], "length": len(snapshot),
                                        "hashes": {"sha256": hashlib.sha256(snapshot).hexdigest()}}}
        timestamp = forge(ts, r.online_key("timestamp"))
        self.mirror.routes["metadata/timestamp.json"] = timestamp
        self.mirror.routes["metadata/%d.snapshot.json" % snap["version"]] = snapshot
        self.mirror.routes["metadata/2.targets.json"] = old
        p = self.client.download("fw-2.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("targets version 1 is not the version 2 that snapshot names", p.stderr)
        self.assertIn("metadata/2.targets.json", self.mirror.hits)
        md, files = self.client.state()
        # The thief's timestamp and snapshot are validly signed (a stolen server
        # can do that); the mixed-in targets metadata is never stored.
        self.assertEqual((md["timestamp.json"], md["snapshot.json"]), (timestamp, snapshot))
        self.assertNotIn("targets.json", md)
        self.assertEqual(files, [])


if __name__ == "__main__":
    unittest.main()
