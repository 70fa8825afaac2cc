"""The offline `fleetpatch artifact …` commands as a device maker uses them:
create and inspect an artifact, verify it against hashes computed here with
hashlib, make a delta artifact and apply it, and the failures a device must
see (a wrong base, a corrupt artifact, a wrong target hash) with exit 1 and
no output file left behind."""
import hashlib
import json
import os
import random
import subprocess
import tempfile
import unittest

from fpharness import BUILD, TIMEOUT

CLI = os.path.join(BUILD, "fleetpatch")


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=TIMEOUT)


class ArtifactCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-artifact-")
        self.d = self.tmp.name
        rnd = random.Random(7)
        # An "image" of 3 MiB: text-like blocks, some moved and changed in the new one.
        blocks = [bytes(rnd.choice(b"abcdefgh \n") for _ in range(4096)) for _ in range(768)]
        self.old = os.path.join(self.d, "old.img")
        self.new = os.path.join(self.d, "new.img")
        with open(self.old, "wb") as f:
            f.write(b"".join(blocks))
        nb = blocks[100:300] + blocks[:100] + [os.urandom(4096) for _ in range(20)] + blocks[300:]
        nb[5] = nb[5][:100] + b"CHANGED" + nb[5][107:]
        with open(self.new, "wb") as f:
            f.write(b"".join(nb))

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.d, name)

    def test_create_inspect_verify(self):
        conf = self.path("app.conf")
        with open(conf, "w") as f:
            f.write("interval=300\n")
        art = self.path("release.fpa")
        r = run("artifact", "create", "--out", art, "--version", "2.0", "--compatible", "rpi4",
                "--payload", "rootfs:image:" + self.new + ":zstd", "--payload", "conf:file:" + conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("artifact", "inspect", art, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        with open(art, "rb") as f:
            data = f.read()
        self.assertEqual(info["length"], len(data))
        self.assertEqual(info["hashes"]["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(info["hashes"]["sha512"], hashlib.sha512(data).hexdigest())
        self.assertEqual(info["version"], "2.0")
        self.assertEqual([p["name"] for p in info["payloads"]], ["rootfs", "conf"])
        self.assertEqual(info["payloads"][0]["compression"], "zstd")
        self.assertEqual(info["payloads"][0]["content_size"], os.path.getsize(self.new))
        r = run("artifact", "verify", art, "--length", str(len(data)),
                "--sha256", hashlib.sha256(data).hexdigest(),
                "--sha512", hashlib.sha512(data).hexdigest())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("verified", r.stdout)
        wrong = hashlib.sha256(data + b"x").hexdigest()
        r = run("artifact", "verify", art, "--length", str(len(data)), "--sha256", wrong)
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT verified", r.stderr)
        # A corrupt payload byte: inspect names the payload.
        bad = self.path("bad.fpa")
        with open(bad, "wb") as f:
            f.write(data[:-3] + bytes([data[-3] ^ 1]) + data[-2:])
        r = run("artifact", "inspect", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn('payload "conf" is corrupt', r.stderr)
        # Truncated.
        with open(bad, "wb") as f:
            f.write(data[:-1])
        r = run("artifact", "inspect", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("truncated", r.stderr)

    def test_delta_round_trip_and_wrong_base(self):
        delta = self.path("delta.fpa")
        r = run("artifact", "delta", "--base", self.old, "--new", self.new, "--out", delta,
                "--base-version", "1.0", "--version", "1.1", "--level", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(os.path.getsize(delta), os.path.getsize(self.new) // 5)
        r = run("artifact", "inspect", delta, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        p = json.loads(r.stdout)["payloads"][0]
        with open(self.new, "rb") as f:
            new = f.read()
        with open(self.old, "rb") as f:
            old = f.read()
        self.assertEqual(p["delta"]["target_sha256"], hashlib.sha256(new).hexdigest())
        self.assertEqual(p["delta"]["base_sha256"], hashlib.sha256(old).hexdigest())
        self.assertEqual(p["delta"]["base_version"], "1.0")
        out = self.path("out.img")
        r = run("artifact", "apply-delta", "--base", self.old, "--delta", delta, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), new)
        # A wrong base (the new image itself, or one changed byte) fails before writing.
        os.unlink(out)
        r = run("artifact", "apply-delta", "--base", self.new, "--delta", delta, "--out", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("wrong base", r.stderr)
        changed = self.path("changed.img")
        with open(changed, "wb") as f:
            f.write(old[:1000] + bytes([old[1000] ^ 1]) + old[1001:])
        r = run("artifact", "apply-delta", "--base", changed, "--delta", delta, "--out", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("full download", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([n for n in os.listdir(self.d) if ".tmp-" in n], [])
        # Too little memory allowed.
        r = run("artifact", "apply-delta", "--base", self.old, "--delta", delta, "--out", out,
                "--mem-max", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("memory", r.stderr)

    def test_usage(self):
        for args in (["artifact"], ["artifact", "create"], ["artifact", "inspect"],
                     ["artifact", "verify"], ["artifact", "delta"], ["artifact", "apply-delta"]):
            r = run(*args, "--help")
            self.assertEqual(r.returncode, 0, args)
            self.assertTrue(r.stdout.startswith("usage: fleetpatch artifact"), args)
        r = run("artifact", "create", "--out", self.path("x"))
        self.assertEqual(r.returncode, 2)
        r = run("artifact", "create", "--out", self.path("x"), "--payload", "nocolons")
        self.assertEqual(r.returncode, 2)
        r = run("artifact", "frobnicate")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
