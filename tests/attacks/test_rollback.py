"""Attack: rollback.

After the client trusted release 2, the attacker tries to bring back the
state of release 1 (an older firmware with known vulnerabilities):
(1) a mirror replays the whole old repository state (old timestamp, snapshot
and targets, all validly signed); (2) a thief of the server's online keys
signs a *newer* timestamp and snapshot that point at the old targets
version. The client refuses both (TUF 5.4.3, 5.5.5), exits 1 naming the
rollback, and keeps release 2's metadata.
"""
import hashlib
import json
import time
import unittest

from attacklib import Client, Mirror, Repo, forge, tuf_time

FW1 = b"firmware 1.0 (vulnerable)\n" * 100
FW2 = b"firmware 2.0 (fixed)\n" * 100


class Rollback(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.repo = Repo()
        cls.repo.publish("fw.bin", FW1, version="1.0")
        # What an attacker recorded while release 1 was current.
        cls.old = {f: cls.repo.meta(f) for f in ("timestamp.json", "1.snapshot.json",
                                                  "1.targets.json")}
        cls.repo.publish("fw.bin", FW2, version="2.0")

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def setUp(self):
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo, name="client-%d" % time.time_ns())
        p = self.client.refresh()
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(self.client.trusted("targets"), 2)
        self.before = self.client.state()

    def tearDown(self):
        self.mirror.close()

    def attack(self, *reasons):
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        for r in reasons:
            self.assertIn(r, p.stderr)
        self.assertEqual(self.client.state(), self.before, "the client stored something")

    def test_replayed_old_repository(self):
        old_ts = self.old["timestamp.json"]
        old_v = json.loads(old_ts)["signed"]["version"]
        new_v = self.repo.meta_json("timestamp.json")["signed"]["version"]
        self.assertLess(old_v, new_v)
        self.mirror.routes["metadata/timestamp.json"] = old_ts
        self.mirror.routes["metadata/1.snapshot.json"] = self.old["1.snapshot.json"]
        self.mirror.routes["metadata/1.targets.json"] = self.old["1.targets.json"]
        self.attack("timestamp version %d is lower than the trusted %d (rollback)" %
                    (old_v, new_v))
        self.assertIn("metadata/timestamp.json", self.mirror.hits)

    def test_thief_points_new_snapshot_at_old_targets(self):
        r = self.repo
        snap_key, ts_key = r.online_key("snapshot"), r.online_key("timestamp")
        old_targets = self.old["1.targets.json"]
        snap = r.meta_json("snapshot.json")["signed"]
        snap["version"] += 1
        snap["meta"]["targets.json"] = {
            "version": 1, "length": len(old_targets),
            "hashes": {"sha256": hashlib.sha256(old_targets).hexdigest()}}
        snapshot = forge(snap, snap_key)
        ts = r.meta_json("timestamp.json")["signed"]
        ts["version"] += 1
        ts["expires"] = tuf_time(time.time() + 3600)
        ts["meta"]["snapshot.json"] = {
            "version": snap["version"], "length": len(snapshot),
            "hashes": {"sha256": hashlib.sha256(snapshot).hexdigest()}}
        timestamp = forge(ts, ts_key)
        self.mirror.routes["metadata/timestamp.json"] = timestamp
        self.mirror.routes["metadata/%d.snapshot.json" % snap["version"]] = snapshot
        self.mirror.routes["metadata/1.targets.json"] = old_targets
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("new snapshot lists targets.json version 1, lower than the trusted 2 "
                      "(rollback)", p.stderr)
        self.assertIn("metadata/%d.snapshot.json" % snap["version"], self.mirror.hits)
        # The thief's timestamp is validly signed and is kept (TUF 5.4); the
        # snapshot and targets the client trusts are still release 2's.
        md, files = self.client.state()
        self.assertEqual(md["timestamp.json"], timestamp)
        for f in ("root.json", "snapshot.json", "targets.json"):
            self.assertEqual(md[f], self.before[0][f], f)
        self.assertEqual(files, [])
        self.assertNotIn("metadata/1.targets.json", self.mirror.hits)


if __name__ == "__main__":
    unittest.main()
