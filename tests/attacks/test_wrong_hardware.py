"""Attack: wrong software for the hardware.

The attacker wants a device to install firmware built for other hardware
(bricking it). Defences, each exercised here against the real server and
the real verifier (`fleetpatch-agent director-verify`):
(1) the server refuses to assign a target to a device whose model is not in
the target's signed custom.hardware list, and stores no assignment;
(2) the signed assignment carries the target's hardware list, and the device
checks its own model against it;
(3) an assignment whose hardware list was edited in transit fails its
signature;
(4) a thief of the online director key can sign any assignment, even with a
forged hardware list, but the device checks the target and its hardware
list against the offline-signed targets metadata it trusts (--targets).
"""
import json
import os
import time
import unittest

from attacklib import Client, Repo, forge, tuf_time

FW = b"camera A firmware\n" * 300


class WrongHardware(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.repo = Repo()
        cls.repo.publish("cam-a.bin", FW, hardware="cam-a")
        cls.dev_a, cls.tok_a = cls.repo.device("serial:A1", "cam-a")
        cls.dev_b, cls.tok_b = cls.repo.device("serial:B1", "cam-b")
        # The device's TUF client verified and stored the targets metadata.
        cls.client = Client(cls.repo)
        p = cls.client.refresh()
        assert p.returncode == 0, p
        cls.targets = os.path.join(cls.client.md, "targets.json")

    @classmethod
    def tearDownClass(cls):
        cls.repo.close()

    def test_server_refuses_incompatible_assignment(self):
        s, t = self.repo.server, self.repo.token
        self.assertEqual(self.repo.assign(self.dev_a, "cam-a.bin").status, 200)
        r = self.repo.assign(self.dev_b, "cam-a.bin")
        self.assertEqual(r.status, 422, r)
        self.assertIn("model 'cam-b' is not in its hardware types", r.json()["error"]["message"])
        # Nothing was stored: no assignment to show or to serve, no audit entry.
        self.assertEqual(s.request("GET", "/api/v1/devices/%d/assignment" % self.dev_b,
                                   token=t).status, 404)
        self.assertEqual(s.request("GET", "/api/v1/device/assignment",
                                   token=self.tok_b).status, 404)
        audit = s.request("GET", "/api/v1/audit?limit=1000", token=t).json()["items"]
        entries = [(e["action"], e["object"]) for e in audit]
        self.assertIn(("director.assign", "device:%d" % self.dev_a), entries)
        self.assertNotIn(("director.assign", "device:%d" % self.dev_b), entries)

    def test_device_checks_its_model(self):
        r = self.repo.assign(self.dev_a, "cam-a.bin")
        self.assertEqual(r.status, 200, r)
        doc = self.repo.assignment_doc(self.tok_a)
        self.assertEqual(json.loads(doc)["signed"]["target"]["custom"]["hardware"], ["cam-a"])
        p = self.repo.director_verify(doc, "serial:A1", "--hardware", "cam-a",
                                      "--targets", self.targets)
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(json.loads(p.stdout)["target"]["custom"]["hardware"], ["cam-a"])
        # The same document on a device of another model (say its inventory was
        # wrong when it was assigned) is refused by the device.
        for extra in ([], ["--targets", self.targets]):
            p = self.repo.director_verify(doc, "serial:A1", "--hardware", "cam-b", *extra)
            self.assertEqual(p.returncode, 1, p)
            self.assertIn("target cam-a.bin is not for hardware 'cam-b'", p.stderr)

    def test_hardware_list_edited_in_transit(self):
        self.assertEqual(self.repo.assign(self.dev_a, "cam-a.bin").status, 200)
        md = json.loads(self.repo.assignment_doc(self.tok_a))
        md["signed"]["target"]["custom"]["hardware"].append("cam-b")
        p = self.repo.director_verify(json.dumps(md).encode(), "serial:A1", "--hardware", "cam-b")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("no valid signature by the pinned director key", p.stderr)

    def test_thief_of_director_key_forges_hardware_list(self):
        self.assertEqual(self.repo.assign(self.dev_a, "cam-a.bin").status, 200)
        sg = json.loads(self.repo.assignment_doc(self.tok_a))["signed"]
        sg["device_id"] = "serial:B1"
        sg["target"]["custom"]["hardware"] = ["cam-a", "cam-b"]
        sg["expires"] = tuf_time(time.time() + 3600)
        doc = forge(sg, self.repo.online_key("director"))
        # Validly signed: the director's own list is all a device without the
        # targets metadata could check, so that alone would accept it...
        p = self.repo.director_verify(doc, "serial:B1", "--hardware", "cam-b")
        self.assertEqual(p.returncode, 0, p)
        # ...but the offline-signed targets metadata says cam-a only.
        p = self.repo.director_verify(doc, "serial:B1", "--hardware", "cam-b",
                                      "--targets", self.targets)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("target cam-a.bin is not for hardware 'cam-b'", p.stderr)
        # A target the targets keys never signed, or signed differently, is refused too.
        for field, value in (("name", "other.bin"), ("length", len(FW) + 1)):
            bad = json.loads(json.dumps(sg))
            bad["target"][field] = value
            p = self.repo.director_verify(forge(bad, self.repo.online_key("director")),
                                          "serial:B1", "--targets", self.targets)
            self.assertEqual(p.returncode, 1, p)
            self.assertIn("trusted targets metadata", p.stderr)


if __name__ == "__main__":
    unittest.main()
