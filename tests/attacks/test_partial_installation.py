"""Attack: partial installation.

The attacker (or bad luck: a dropped link, a killed process) stops a
download half way, hoping the device uses what it has. The client writes a
target into a hidden temporary file and renames it to the target's name
only after its length and hashes match, so: (1) a body cut short leaves
nothing in the target directory; (2) a client killed mid-download leaves no
file under the target's name, and the next run removes the stale temporary
file and completes; (3) a wrong or truncated file already under the target's
name is not trusted, but fetched again and replaced. (The device side, A/B
slots and power cuts during install, belongs to the device agent.)
"""
import os
import signal
import subprocess
import time
import unittest

from attacklib import AGENT, Client, Mirror, Repo, TIMEOUT, rd, target_path

FW = os.urandom(200000)
HALF = len(FW) // 2


def cut_short(close=True):
    """Announces the full length, sends half, then closes (or hangs until the end)."""
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(FW)))
        h.end_headers()
        h.wfile.write(FW[:HALF])
        h.wfile.flush()
        if not close:
            h.server.mirror.stop.wait(60)
    return handler


class PartialInstallation(unittest.TestCase):
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
        self.path = target_path("fw.bin", FW)

    def tearDown(self):
        self.mirror.close()

    def complete(self):
        """A run against the honest repository installs the whole, right file."""
        p = self.client.download("fw.bin")
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(os.listdir(self.client.tg), ["fw.bin"])
        self.assertEqual(rd(os.path.join(self.client.tg, "fw.bin")), FW)

    def test_body_cut_short(self):
        self.mirror.routes[self.path] = cut_short()
        p = self.client.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(self.path, p.stderr)
        self.assertIn("transfer closed with %d bytes remaining" % (len(FW) - HALF), p.stderr)
        self.assertEqual(self.client.state(), self.before, "a partial file was kept")
        self.complete()

    def test_killed_mid_download(self):
        self.mirror.routes[self.path] = cut_short(close=False)
        c = self.client
        proc = subprocess.Popen([AGENT, "tuf", "--metadata-dir", c.md, "--metadata-url",
                                 self.mirror.meta_url, "--target-base-url",
                                 self.mirror.target_url, "--target-dir", c.tg,
                                 "--target-name", "fw.bin", "download"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until the first half is on disk, then cut the power (SIGKILL).
        deadline = time.time() + TIMEOUT
        temp = None
        while time.time() < deadline and temp is None:
            for f in os.listdir(c.tg):
                if os.path.getsize(os.path.join(c.tg, f)) == HALF:
                    temp = f
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT)
        self.assertIsNotNone(temp, "the download never reached half way")
        # What a kill leaves: a hidden temporary file, never the target's name.
        self.assertTrue(temp.startswith(".fw.bin.tmp-"), temp)
        self.assertEqual(os.listdir(c.tg), [temp])
        # The next run completes and clears what the killed run left behind.
        self.complete()

    def test_wrong_file_under_target_name(self):
        with open(os.path.join(self.client.tg, "fw.bin"), "wb") as f:
            f.write(FW[:HALF])
        self.complete()
        with open(os.path.join(self.client.tg, "fw.bin"), "r+b") as f:
            f.seek(HALF)
            f.write(b"\0")
        self.complete()


if __name__ == "__main__":
    unittest.main()
