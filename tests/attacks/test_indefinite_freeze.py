"""Attack: indefinite freeze.

A mirror keeps serving a timestamp that was genuine once, so that the
device never learns about a new release. The timestamp carries a short
expiry (here 6 s; the server re-signs it at half its lifetime), so once it
has expired the client refuses it and says so, both a client that trusted
that very timestamp before and a new client, and stores nothing. Meanwhile
the honest repository has moved on and a refresh from it succeeds.
"""
import calendar
import json
import time
import unittest

from attacklib import Client, Mirror, Repo

FW = b"firmware\n" * 500
TS_EXPIRY = 6


class IndefiniteFreeze(unittest.TestCase):
    def setUp(self):
        self.repo = Repo(config="tuf_timestamp_expiry_seconds = %d\n"
                                "tuf_resign_check_seconds = 1\n" % TS_EXPIRY)
        self.repo.publish("fw.bin", FW)
        self.mirror = Mirror(self.repo)

    def tearDown(self):
        self.mirror.close()
        self.repo.close()

    def test_frozen_timestamp_is_refused_after_expiry(self):
        old = Client(self.repo, name="old")
        new = Client(self.repo, name="new")
        # The old client and the attacker see the same timestamp.
        p = old.refresh()
        self.assertEqual(p.returncode, 0, p)
        frozen = self.repo.meta("timestamp.json")
        if json.loads(frozen)["signed"]["version"] != old.trusted("timestamp"):
            # The server re-signed between the two requests; take the client's copy.
            with open(old.md + "/timestamp.json", "rb") as f:
                frozen = f.read()
        sg = json.loads(frozen)["signed"]
        expires = calendar.timegm(time.strptime(sg["expires"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertLessEqual(expires - time.time(), TS_EXPIRY + 1)
        self.mirror.routes["metadata/timestamp.json"] = frozen
        time.sleep(max(0.0, expires - time.time()) + 1.1)

        before = old.state()
        p = old.refresh(self.mirror.meta_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("trusted timestamp metadata v%d expired at %s" %
                      (sg["version"], sg["expires"]), p.stderr)
        self.assertEqual(old.state(), before)

        before = new.state()
        p = new.download("fw.bin", self.mirror.meta_url, self.mirror.target_url)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("new timestamp metadata v%d expired at %s" % (sg["version"], sg["expires"]),
                      p.stderr)
        self.assertEqual(new.state(), before)
        self.assertEqual(list(before[0]), ["root.json"])
        self.assertGreaterEqual(self.mirror.hits.count("metadata/timestamp.json"), 2)

        # The honest repository re-signed in the meantime: no freeze there.
        p = new.download("fw.bin")
        self.assertEqual(p.returncode, 0, p)
        self.assertGreater(new.trusted("timestamp"), sg["version"])


if __name__ == "__main__":
    unittest.main()
