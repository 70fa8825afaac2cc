"""Attack: malicious mirror.

The mirror is never trusted (artifacts may sit on any HTTP server or CDN).
A mirror that holds no key tampers with every file it serves: a new root
of its own, metadata re-signed with its own keys, metadata edited in
place, garbage, wrong HTTP answers, and the target bytes. A new device that
trusts only the root it was provisioned with (TUF 5.2) and downloads
through such a mirror exits 1 and trusts and stores nothing: its metadata
directory holds exactly the provisioned root.json, and its target directory
stays empty.
"""
import hashlib
import json
import time
import unittest

from attacklib import Client, Mirror, Repo, forge, key_object, keyid, new_key, target_path, tuf_time

FW = b"genuine firmware\n" * 300
EVIL = b"malicious firmware\n" * 300


class MaliciousMirror(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = cls.repo = Repo()
        r.publish("fw.bin", FW)
        cls.ts = r.meta_json("timestamp.json")
        cls.snap_v = cls.ts["signed"]["meta"]["snapshot.json"]["version"]
        cls.snap = r.meta_json("%d.snapshot.json" % cls.snap_v)
        cls.targets = r.meta_json("1.targets.json")
        cls.mkey = new_key()  # the mirror's own key

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def setUp(self):
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo, name="c%d" % time.time_ns())
        self.before = self.client.state()
        self.assertEqual(list(self.before[0]), ["root.json"])

    def tearDown(self):
        self.mirror.close()

    def evil_root(self):
        """Root 2 that hands every role to the mirror's key, signed by that key."""
        sg = json.loads(json.dumps(self.repo.meta_json("root.json")["signed"]))
        sg["version"] = 2
        sg["keys"] = {keyid(self.mkey): key_object(self.mkey)}
        for role in sg["roles"].values():
            role["keyids"] = [keyid(self.mkey)]
            role["threshold"] = 1
        return forge(sg, self.mkey)

    def resigned(self, md):
        return forge(json.loads(json.dumps(md["signed"])), self.mkey)

    def evil_targets(self):
        sg = json.loads(json.dumps(self.targets["signed"]))
        sg["targets"]["fw.bin"]["hashes"] = {"sha256": hashlib.sha256(EVIL).hexdigest()}
        return forge(sg, self.mkey)

    def edited(self, md, field, value):
        """md with one field of its signed part changed and its signatures kept."""
        md = json.loads(json.dumps(md))
        md["signed"][field] = value
        return json.dumps(md).encode()

    def attack(self, routes, reason, genuine=()):
        self.mirror.routes.update(routes)
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(reason, p.stderr)
        if routes:
            self.assertTrue(set(routes) & set(self.mirror.hits), self.mirror.hits)
        # Nothing but the genuine metadata above the first tampered file was stored.
        md, files = self.client.state()
        self.assertEqual(md, dict(self.before[0], **{f: self.repo.meta(f) for f in genuine}))
        self.assertEqual(files, [])

    def not_found(self, h):
        h.send(404, b"")

    def test_root_of_its_own(self):
        self.attack({"metadata/2.root.json": self.evil_root()},
                    "root metadata has 0 valid signatures by root keys of root v1")

    def test_timestamp_signed_by_its_key(self):
        self.attack({"metadata/timestamp.json": self.resigned(self.ts)},
                    "timestamp metadata has 0 valid signatures by timestamp keys")

    def test_timestamp_edited(self):
        far = tuf_time(time.time() + 10 * 365 * 86400)
        self.attack({"metadata/timestamp.json": self.edited(self.ts, "expires", far)},
                    "timestamp metadata has 0 valid signatures by timestamp keys")

    def test_snapshot_signed_by_its_key(self):
        self.attack({"metadata/%d.snapshot.json" % self.snap_v: self.resigned(self.snap)},
                    "snapshot: sha256 does not match the signed hash", genuine=["timestamp.json"])

    def test_targets_of_its_own(self):
        evil = self.evil_targets()
        signed_length = self.snap["signed"]["meta"]["targets.json"]["length"]
        reason = ("targets has %d bytes, not the signed %d" % (len(evil), signed_length)
                  if len(evil) != signed_length else "targets: sha256 does not match")
        self.attack({"metadata/1.targets.json": evil}, reason,
                    genuine=["timestamp.json", "snapshot.json"])

    def test_garbage(self):
        self.attack({"metadata/timestamp.json": b"<html>Welcome to the free Wi-Fi</html>"},
                    "timestamp metadata: line 1, column 1")

    def test_hides_the_timestamp(self):
        self.attack({"metadata/timestamp.json": self.not_found}, "timestamp.json: HTTP 404")

    def test_redirects_to_a_local_file(self):
        def redirect(h):
            h.send_response(302)
            h.send_header("Location", "file:///etc/hostname")
            h.send_header("Content-Length", "0")
            h.end_headers()
        self.attack({"metadata/timestamp.json": redirect},
                    "timestamp.json: Protocol \"file\" not supported or disabled")

    def test_everything_tampered(self):
        routes = {
            "metadata/2.root.json": self.evil_root(),
            "metadata/timestamp.json": self.resigned(self.ts),
            "metadata/%d.snapshot.json" % self.snap_v: self.resigned(self.snap),
            "metadata/1.targets.json": self.evil_targets(),
            target_path("fw.bin", FW): EVIL[:len(FW)],
            target_path("fw.bin", EVIL): EVIL,
        }
        self.attack(routes, "root metadata has 0 valid signatures by root keys of root v1")
        # Without the root of its own, the first tampered file stops the client.
        del self.mirror.routes["metadata/2.root.json"]
        self.attack({}, "timestamp metadata has 0 valid signatures by timestamp keys")
        self.assertNotIn(target_path("fw.bin", FW), self.mirror.hits)


if __name__ == "__main__":
    unittest.main()
