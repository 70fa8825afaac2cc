"""Attack: slow retrieval.

A mirror trickles bytes (or answers nothing at all after accepting the
connection) so that an update never completes while the device waits. Every
transfer of `fleetpatch-agent tuf` must keep up at least 1024 bytes per
second over its stall timeout (--stall-timeout, 30 s by default; 2 s here)
besides the caps in all (60 s per metadata file, 900 s per target). The
client gives up within a few seconds, exits 1 naming the slow transfer, and
keeps nothing of it.
"""
import time
import unittest

from attacklib import AGENT, Client, Mirror, Repo, target_path
import subprocess

FW = b"firmware\n" * 1000
STALL = 2


def trickle(body, delay=0.25, headers=True):
    """Sends the status and headers at once, then one byte every `delay` seconds."""
    def handler(h):
        stop = h.server.mirror.stop
        if headers:
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.flush()
        for i in range(len(body) if headers else 0):
            if stop.wait(delay):
                return
            h.wfile.write(body[i:i + 1])
            h.wfile.flush()
        stop.wait(60)  # headers=False: accept the request and say nothing
    return handler


class SlowRetrieval(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.repo = Repo()
        cls.repo.publish("fw.bin", FW)

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def setUp(self):
        self.mirror = Mirror(self.repo)
        self.client = Client(self.repo, name="c%d" % time.time_ns())
        p = self.client.refresh()
        self.assertEqual(p.returncode, 0, p)
        self.before = self.client.state()

    def tearDown(self):
        self.mirror.close()

    def attack(self, path):
        t0 = time.time()
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url,
                                 extra=["--stall-timeout", str(STALL)])
        elapsed = time.time() - t0
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("gave up on a slow transfer", p.stderr)
        self.assertIn("1024 bytes/s over %d s" % STALL, p.stderr)
        self.assertIn(path, p.stderr)
        self.assertIn(path, self.mirror.hits)
        # Given up after the stall timeout, not after the 60 s / 900 s caps in all.
        self.assertGreaterEqual(elapsed, STALL - 0.5)
        self.assertLess(elapsed, STALL + 8)
        self.assertEqual(self.client.state(), self.before, "the client stored something")

    def test_trickled_target(self):
        path = target_path("fw.bin", FW)
        self.mirror.routes[path] = trickle(FW)
        self.attack(path)

    def test_trickled_timestamp(self):
        self.mirror.routes["metadata/timestamp.json"] = trickle(self.repo.meta("timestamp.json"))
        self.attack("metadata/timestamp.json")

    def test_silent_mirror(self):
        path = target_path("fw.bin", FW)
        self.mirror.routes[path] = trickle(FW, headers=False)
        self.attack(path)

    def test_option_is_checked_and_documented(self):
        p = subprocess.run([AGENT, "tuf", "--help"], capture_output=True, text=True)
        self.assertIn("--stall-timeout SECONDS (default 30", p.stdout)
        for bad in ("0", "3601", "x", ""):
            p = self.client.download("fw.bin", extra=["--stall-timeout", bad])
            self.assertEqual(p.returncode, 1, p)
            self.assertIn("--stall-timeout takes 1 to 3600 seconds", p.stderr)
        self.assertEqual(self.client.state(), self.before)


if __name__ == "__main__":
    unittest.main()
