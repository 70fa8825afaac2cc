"""Attack: replayed director metadata.

The attacker recorded signed assignments and plays them back to a device:
an older assignment (the operator has since reassigned or cleared it),
another device's assignment, an assignment whose version it edited, an
assignment recorded long ago (expired), or one signed by a key other than
the pinned director key. `fp_director_verify` (run through
`fleetpatch-agent director-verify`) refuses each with its reason and
accepts the current one.
"""
import json
import time
import unittest

from attacklib import Repo, forge, new_key, tuf_time

FW = b"firmware\n" * 300


class ReplayedDirector(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = cls.repo = Repo()
        r.publish("fw.bin", FW, hardware="sim-1")
        cls.dev1, cls.tok1 = r.device("serial:D1", "sim-1")
        cls.dev2, cls.tok2 = r.device("serial:D2", "sim-1")
        assert r.assign(cls.dev1, "fw.bin").status == 200
        cls.v1 = r.assignment_doc(cls.tok1)  # version 1: install fw.bin
        cls.assert_ok = r.server.request("DELETE", "/api/v1/devices/%d/assignment" % cls.dev1,
                                         token=r.token).status == 200
        cls.v2 = r.assignment_doc(cls.tok1)  # version 2: install nothing
        assert r.assign(cls.dev2, "fw.bin").status == 200
        cls.other = r.assignment_doc(cls.tok2)  # D2's version 1

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def verify(self, doc, device="serial:D1", min_version=2):
        return self.repo.director_verify(doc, device, "--min-version", str(min_version))

    def refused(self, doc, reason, **kw):
        p = self.verify(doc, **kw)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(reason, p.stderr)
        self.assertEqual(p.stdout, "")

    def test_current_assignment_is_accepted(self):
        self.assertTrue(self.assert_ok)
        self.assertEqual(json.loads(self.v2)["signed"]["version"], 2)
        p = self.verify(self.v2)
        self.assertEqual(p.returncode, 0, p)
        sg = json.loads(p.stdout)
        self.assertEqual((sg["version"], sg["target"], sg["device_id"]), (2, None, "serial:D1"))
        # Fetched again, the same version is the same assignment.
        p = self.verify(self.repo.assignment_doc(self.tok1))
        self.assertEqual(p.returncode, 0, p)

    def test_older_version_is_a_replay(self):
        self.assertEqual(json.loads(self.v1)["signed"]["version"], 1)
        self.assertEqual(json.loads(self.v1)["signed"]["target"]["name"], "fw.bin")
        self.refused(self.v1, "director: version 1 is lower than version 2 accepted before "
                              "(a replay)")
        # Before the device accepted version 2, version 1 was valid.
        p = self.verify(self.v1, min_version=1)
        self.assertEqual(p.returncode, 0, p)

    def test_another_devices_assignment(self):
        self.assertEqual(json.loads(self.other)["signed"]["device_id"], "serial:D2")
        self.refused(self.other, "director: the assignment is for device 'serial:D2', not "
                                 "this one", min_version=1)
        p = self.verify(self.other, device="serial:D2", min_version=1)
        self.assertEqual(p.returncode, 0, p)

    def test_edited_version(self):
        md = json.loads(self.v1)
        md["signed"]["version"] = 3
        self.refused(json.dumps(md).encode(), "no valid signature by the pinned director key")

    def test_expired_recording(self):
        # The server only hands out fresh documents, so the old recording is made
        # here with the director key; its signature is valid, its time is over.
        sg = json.loads(self.v2)["signed"]
        sg["expires"] = tuf_time(time.time() - 60)
        self.refused(forge(sg, self.repo.online_key("director")),
                     "director: the assignment expired at %s" % sg["expires"])

    def test_signed_by_another_key(self):
        sg = json.loads(self.v2)["signed"]
        sg["version"] = 3
        self.refused(forge(sg, new_key()), "no valid signature by the pinned director key")


if __name__ == "__main__":
    unittest.main()
