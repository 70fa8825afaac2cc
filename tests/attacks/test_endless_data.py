"""Attack: endless data.

A mirror answers with a body that never ends, to fill the device's disk or
memory. The client caps every fetch: a target at its signed length, a
metadata file at the length the metadata above it signs, or else at the
role's cap (timestamp 16 384 bytes). It stops reading as soon as the cap is
crossed (with or without a Content-Length), exits 1 naming the cap, and
keeps nothing of the body.
"""
import hashlib
import time
import unittest

from attacklib import Client, Mirror, Repo, target_path

FW = b"firmware\n" * 1000
LIMIT = 256 << 20  # the attacker's own stop, far above any cap of the client


def endless(prefix=b"", content_length=None):
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        if content_length is not None:
            h.send_header("Content-Length", str(content_length))
        h.end_headers()
        sent, chunk = 0, b"A" * 65536
        h.wfile.write(prefix)
        sent += len(prefix)
        while sent < LIMIT and not h.server.mirror.stop.is_set():
            h.wfile.write(chunk)
            sent += len(chunk)
            h.server.mirror.sent[h.path] = sent
    return handler


class EndlessData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.repo = Repo()
        cls.repo.publish("fw.bin", FW)

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def setUp(self):
        self.mirror = Mirror(self.repo)
        self.mirror.sent = {}
        self.client = Client(self.repo, name="c%d" % time.time_ns())

    def tearDown(self):
        self.mirror.close()

    def attack(self, path, *reasons, prefetch=True, genuine=None):
        if prefetch:
            p = self.client.refresh()
            self.assertEqual(p.returncode, 0, p)
        before = self.client.state()
        t0 = time.time()
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        elapsed = time.time() - t0
        self.assertEqual(p.returncode, 1, p)
        for r in reasons:
            self.assertIn(r, p.stderr)
        # Only genuine metadata above the attacked file may have been stored.
        before[0].update(genuine or {})
        self.assertEqual(self.client.state(), before, "the client stored something")
        self.assertIn(path, self.mirror.hits)
        # The client hung up long before the attacker's own limit.
        self.assertLess(self.mirror.sent.get("/" + path, 0), LIMIT // 4)
        self.assertLess(elapsed, 15)

    def test_target_without_length(self):
        path = target_path("fw.bin", FW)
        self.mirror.routes[path] = endless(FW)
        self.attack(path, "target fw.bin: the mirror sent more than the signed %d bytes" %
                    len(FW))

    def test_target_with_huge_content_length(self):
        path = target_path("fw.bin", FW)
        self.mirror.routes[path] = endless(FW, content_length=1 << 40)
        self.attack(path, "target fw.bin: the mirror sent more than the signed %d bytes" %
                    len(FW))

    def test_timestamp_over_role_cap(self):
        # Nothing signs the timestamp's length: the client's cap for the role applies.
        self.mirror.routes["metadata/timestamp.json"] = endless()
        self.attack("metadata/timestamp.json",
                    "timestamp.json: response is larger than the cap of 16384 bytes",
                    prefetch=False)

    def test_next_root_over_role_cap(self):
        self.mirror.routes["metadata/2.root.json"] = endless()
        self.attack("metadata/2.root.json",
                    "2.root.json: response is larger than the cap of 512000 bytes",
                    prefetch=False)

    def test_snapshot_over_signed_length(self):
        ts = self.repo.meta_json("timestamp.json")["signed"]["meta"]["snapshot.json"]
        name = "metadata/%d.snapshot.json" % ts["version"]
        genuine = self.repo.meta("%d.snapshot.json" % ts["version"])
        self.assertEqual(hashlib.sha256(genuine).hexdigest(), ts["hashes"]["sha256"])
        self.mirror.routes[name] = endless(genuine)
        self.attack(name, "snapshot.json: response is larger than the cap of %d bytes" %
                    ts["length"], prefetch=False,
                    genuine={"timestamp.json": self.repo.meta("timestamp.json")})


if __name__ == "__main__":
    unittest.main()
