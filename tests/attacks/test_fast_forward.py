"""Attack: fast-forward, and the recovery from it.

A thief of the server's online keys signs a timestamp and a snapshot with
huge version numbers, the snapshot naming a huge targets version that does
not exist. These are validly signed, so the client trusts the timestamp and
snapshot (TUF cannot prevent that with the keys stolen) but never a targets
version that the offline targets keys did not sign; afterwards the honest
repository's lower versions look like a rollback and the client is frozen.
The operator recovers by replacing the server's snapshot and timestamp keys
and signing a root that names the new keys: the client follows the root
rotation, deletes its stored timestamp and snapshot because root changed
their keys (TUF 5.3.11), and accepts the repository's versions again, also
when only the timestamp key was replaced.
"""
import hashlib
import json
import os
import time
import unittest

from attacklib import Client, Mirror, Repo, forge, rd, tuf_time

FW1 = b"firmware 1.0\n" * 300
FW2 = b"firmware 2.0\n" * 300
JUMP = 1000000


class FastForward(unittest.TestCase):
    def setUp(self):
        self.repo = Repo()
        self.repo.publish("fw.bin", FW1, version="1.0")
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo)
        p = self.client.refresh()
        self.assertEqual(p.returncode, 0, p)

    def tearDown(self):
        self.mirror.close()
        self.repo.close()

    def fast_forward(self):
        r = self.repo
        snap_key, ts_key = r.online_key("snapshot"), r.online_key("timestamp")
        targets = r.meta("targets.json")
        snap = r.meta_json("snapshot.json")["signed"]
        snap["version"] += JUMP
        snap["meta"]["targets.json"] = {
            "version": JUMP, "length": len(targets),
            "hashes": {"sha256": hashlib.sha256(targets).hexdigest()}}
        snapshot = forge(snap, snap_key)
        ts = r.meta_json("timestamp.json")["signed"]
        ts["version"] += JUMP
        ts["expires"] = tuf_time(time.time() + 3600)
        ts["meta"]["snapshot.json"] = {
            "version": snap["version"], "length": len(snapshot),
            "hashes": {"sha256": hashlib.sha256(snapshot).hexdigest()}}
        self.mirror.routes["metadata/timestamp.json"] = forge(ts, ts_key)
        self.mirror.routes["metadata/%d.snapshot.json" % snap["version"]] = snapshot
        # The thief has no targets key: version JUMP of targets exists nowhere, and
        # the genuine targets metadata served under that name has the wrong version.
        self.mirror.routes["metadata/%d.targets.json" % JUMP] = targets
        return ts["version"], snap["version"]

    def rotate_online_keys(self, roles=("snapshot", "timestamp")):
        """The operator's recovery: new online keys in the server, root 2 naming them."""
        r, s = self.repo, self.repo.server
        s.stop()
        for role in roles:
            for ext in (".pem", ".pub"):
                os.unlink(os.path.join(s.data_dir, "keys", role + ext))
        s.start()
        r.token = s.login()
        r.env["FLEETPATCH_TOKEN"] = r.token
        keys = s.request("GET", "/api/v1/repo/keys").json()
        unsigned = r.path("root-2-unsigned.json")
        r.cli(["root", "rotate", "--in", r.root_path, "--out", unsigned, "--expires-days", "30"])
        md = json.loads(rd(unsigned))
        for role in roles:
            md["signed"]["keys"][keys[role]["keyid"]] = keys[role]["key"]
            md["signed"]["roles"][role]["keyids"] = [keys[role]["keyid"]]
        with open(unsigned, "w") as f:
            json.dump(md, f)
        signed = r.sign_merge(unsigned, ["r1"], r.path("root-2.json"))
        r.cli(["metadata", "push", signed])
        # The server signs snapshot and timestamp with the new keys when targets change.
        r.publish("fw.bin", FW2, version="2.0")

    def test_fast_forward_then_recovery(self):
        ts_v, snap_v = self.fast_forward()
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("targets version 1 is not the version %d that snapshot names" % JUMP,
                      p.stderr)
        # Timestamp and snapshot were validly signed by the stolen keys: trusted.
        self.assertEqual(self.client.trusted("timestamp"), ts_v)
        self.assertEqual(self.client.trusted("snapshot"), snap_v)
        self.assertEqual(self.client.trusted("targets"), 1)
        self.assertEqual(os.listdir(self.client.tg), [])

        # The honest repository now looks like a rollback: the client is frozen.
        honest_ts = self.repo.meta_json("timestamp.json")["signed"]["version"]
        p = self.client.refresh()
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("timestamp version %d is lower than the trusted %d (rollback)" %
                      (honest_ts, ts_v), p.stderr)

        self.rotate_online_keys()
        p = self.client.download("fw.bin", extra=["-v"])
        self.assertEqual(p.returncode, 0, p)
        for f in ("timestamp.json", "snapshot.json"):
            self.assertIn("deleting %s: root rotated the timestamp or snapshot keys" % f,
                          p.stderr)
        self.assertEqual(self.client.trusted("root"), 2)
        self.assertEqual(self.client.trusted("timestamp"),
                         self.repo.meta_json("timestamp.json")["signed"]["version"])
        self.assertLess(self.client.trusted("timestamp"), ts_v)
        self.assertLess(self.client.trusted("snapshot"), snap_v)
        self.assertEqual(self.client.trusted("targets"), 2)
        self.assertEqual(rd(os.path.join(self.client.tg, "fw.bin")), FW2)

    def test_recovery_when_only_the_timestamp_key_is_rotated(self):
        """TUF 5.3.11: when root rotates the timestamp *or* snapshot keys, the client
        deletes both stored files, so a snapshot fast-forwarded with a key that
        stays trusted does not keep the device frozen."""
        ts_v, snap_v = self.fast_forward()
        p = self.client.refresh(self.mirror.meta_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertEqual(self.client.trusted("snapshot"), snap_v)
        self.rotate_online_keys(roles=("timestamp",))
        p = self.client.download("fw.bin", extra=["-v"])
        self.assertEqual(p.returncode, 0, p)
        self.assertIn("deleting snapshot.json: root rotated the timestamp or snapshot keys",
                      p.stderr)
        self.assertEqual(self.client.trusted("root"), 2)
        self.assertLess(self.client.trusted("snapshot"), snap_v)
        self.assertEqual(self.client.trusted("targets"), 2)
        self.assertEqual(rd(os.path.join(self.client.tg, "fw.bin")), FW2)


if __name__ == "__main__":
    unittest.main()
