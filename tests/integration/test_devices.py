"""Devices: inventory, listings with filters, groups, and enrolment with device keys."""
import sqlite3
import tempfile
import time
import unittest
import urllib.parse

from fpharness import DeviceKey, Server


def q(expr):
    return urllib.parse.quote(expr, safe="")


class DevicesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.s = Server().start()
        cls.t = cls.s.login()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.tmp.cleanup()

    def add(self, **fields):
        r = self.s.request("POST", "/api/v1/devices", fields, token=self.t)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def test_crud_and_listing(self):
        fleet = [
            dict(identity="serial:A1", model="archer-c7", firmware="1.1.9", exposure="internet",
                 tags=["router", "lab"]),
            dict(identity="serial:A2", model="archer-c7", firmware="1.10.0",
                 exposure="internet"),
            dict(identity="serial:A3", model="archer-c7", firmware="1.1.9", exposure="internal"),
            dict(identity="serial:A4", model="r7000", firmware="1.0.9", exposure="internet",
                 eol_date="2023-01-31", criticality="high", attributes={"rack": "r1"}),
        ]
        ids = [self.add(**f)["id"] for f in fleet]
        d = self.s.request("GET", "/api/v1/devices/%d" % ids[0], token=self.t).json()
        self.assertEqual(d["status"], "discovered")
        self.assertEqual(d["firmware_version"], "1.1.9")
        self.assertEqual(d["tags"], ["router", "lab"])
        self.assertIsNotNone(d["first_seen"])
        expr = 'model == "archer-c7" and firmware < "1.2.0" and exposure == "internet"'
        r = self.s.request("GET", "/api/v1/devices?filter=" + q(expr), token=self.t)
        self.assertEqual(r.status, 200, r)
        # 1.10.0 is newer than 1.2.0: version-aware, not string, comparison.
        self.assertEqual([x["identity"] for x in r.json()["items"]], ["serial:A1"])
        r = self.s.request("GET", "/api/v1/devices?filter=" + q("tags == lab or attr.rack == r1"),
                           token=self.t).json()
        self.assertEqual(sorted(x["identity"] for x in r["items"]), ["serial:A1", "serial:A4"])
        r = self.s.request("GET", "/api/v1/devices?filter=" + q('eol_date < "2024-01-01"'),
                           token=self.t).json()
        self.assertEqual([x["identity"] for x in r["items"]], ["serial:A4"])
        bad = self.s.request("GET", "/api/v1/devices?filter=" + q("modle == x"), token=self.t)
        self.assertEqual(bad.status, 400)
        self.assertIn("modle", bad.json()["error"]["message"])
        bad = self.s.request("GET", "/api/v1/devices?filter=" + q("model =="), token=self.t)
        self.assertEqual(bad.status, 400)
        # Sorting by firmware is version-aware; paging splits the result.
        r = self.s.request("GET", "/api/v1/devices?sort=-firmware_version&filter=" +
                           q("identity ~ 'serial:A*'") + "&per_page=2&page=1",
                           token=self.t).json()
        self.assertEqual(r["total"], 4)
        self.assertEqual([x["firmware_version"] for x in r["items"]], ["1.10.0", "1.1.9"])
        r2 = self.s.request("GET", "/api/v1/devices?sort=-firmware_version&filter=" +
                            q("identity ~ 'serial:A*'") + "&per_page=2&page=2",
                            token=self.t).json()
        self.assertEqual([x["firmware_version"] for x in r2["items"]], ["1.1.9", "1.0.9"])
        self.assertEqual(self.s.request("GET", "/api/v1/devices?sort=bogus",
                                        token=self.t).status, 400)
        # PATCH merges; null clears; identity conflicts are refused and change nothing.
        r = self.s.request("PATCH", "/api/v1/devices/%d" % ids[1],
                           {"owner": "netops", "exposure": None}, token=self.t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["owner"], "netops")
        self.assertIsNone(r.json()["exposure"])
        self.assertEqual(r.json()["model"], "archer-c7")
        r = self.s.request("PATCH", "/api/v1/devices/%d" % ids[1], {"owner": ""}, token=self.t)
        self.assertIsNone(r.json()["owner"])
        r = self.s.request("PATCH", "/api/v1/devices/%d" % ids[1], {"identity": "serial:A1"},
                           token=self.t)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.s.request("GET", "/api/v1/devices/%d" % ids[1],
                                        token=self.t).json()["identity"], "serial:A2")
        r = self.add(identity="serial:dup")
        r = self.s.request("POST", "/api/v1/devices", {"identity": "serial:dup"}, token=self.t)
        self.assertEqual(r.status, 409)
        # Identity is derived from serial, then MAC, then IP.
        self.assertEqual(self.add(mac="AA-BB-CC-00-11-22")["identity"], "mac:aa:bb:cc:00:11:22")
        self.assertEqual(self.s.request("POST", "/api/v1/devices", {"model": "x"},
                                        token=self.t).status, 400)
        for i in ids:
            self.assertEqual(self.s.request("DELETE", "/api/v1/devices/%d" % i,
                                            token=self.t).status, 200)
        self.assertEqual(self.s.request("GET", "/api/v1/devices/%d" % ids[0],
                                        token=self.t).status, 404)
        self.assertEqual(self.s.request("GET", "/api/v1/devices/abc", token=self.t).status, 404)

    def test_groups(self):
        a = self.add(identity="serial:G1", model="archer-c7", firmware="1.1.9",
                     exposure="internet")["id"]
        b = self.add(identity="serial:G2", model="archer-c7", firmware="1.2.1",
                     exposure="internet")["id"]
        expr = 'model == "archer-c7" and firmware < "1.2.0" and exposure == "internet"'
        r = self.s.request("POST", "/api/v1/groups", {"name": "old-archers", "filter": expr},
                           token=self.t)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["type"], "dynamic")
        r = self.s.request("GET", "/api/v1/groups/old-archers/devices", token=self.t).json()
        self.assertEqual([x["id"] for x in r["items"]], [a])
        # Dynamic membership follows inventory changes.
        self.s.request("PATCH", "/api/v1/devices/%d" % b, {"firmware": "1.1.0"}, token=self.t)
        r = self.s.request("GET", "/api/v1/groups/old-archers", token=self.t).json()
        self.assertEqual(r["device_count"], 2)
        self.assertEqual(self.s.request("POST", "/api/v1/groups",
                                        {"name": "bad", "filter": "firmware <"},
                                        token=self.t).status, 400)
        self.assertEqual(self.s.request("POST", "/api/v1/groups/old-archers/members",
                                        {"device_ids": [a]}, token=self.t).status, 409)
        r = self.s.request("POST", "/api/v1/groups", {"name": "lab", "description": "bench"},
                           token=self.t)
        self.assertEqual(r.json()["type"], "static")
        r = self.s.request("POST", "/api/v1/groups/lab/members", {"device_ids": [a, 999999]},
                           token=self.t)
        self.assertEqual(r.status, 404)
        self.assertIn("999999", r.json()["error"]["message"])
        self.assertEqual(self.s.request("GET", "/api/v1/groups/lab", token=self.t)
                         .json()["device_count"], 0, "a failed add must add nothing")
        r = self.s.request("POST", "/api/v1/groups/lab/members", {"device_ids": [a, b, a]},
                           token=self.t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["device_count"], 2)
        r = self.s.request("DELETE", "/api/v1/groups/lab/members/%d" % b, token=self.t)
        self.assertEqual(r.status, 200)
        r = self.s.request("GET", "/api/v1/groups/lab/devices", token=self.t).json()
        self.assertEqual([x["id"] for x in r["items"]], [a])
        self.assertEqual(self.s.request("POST", "/api/v1/groups", {"name": "lab"},
                                        token=self.t).status, 409)
        self.assertEqual(self.s.request("POST", "/api/v1/groups", {"name": "../x"},
                                        token=self.t).status, 400)
        names = [g["name"] for g in
                 self.s.request("GET", "/api/v1/groups", token=self.t).json()["items"]]
        self.assertIn("lab", names)
        self.assertEqual(self.s.request("DELETE", "/api/v1/groups/lab", token=self.t).status,
                         200)
        self.assertEqual(self.s.request("GET", "/api/v1/groups/lab", token=self.t).status, 404)

    def test_enrolment_pending_accept_checkin_inventory(self):
        key = DeviceKey(self.tmp.name)
        inv = {"model": "sim-1", "firmware_version": "1.0.0"}
        r = key.auth(self.s, "serial:E1", inv)
        self.assertEqual(r.status, 202, r)
        dev = r.json()["device_id"]
        self.assertEqual(r.json()["status"], "pending")
        d = self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()
        self.assertEqual((d["status"], d["model"]), ("pending", "sim-1"))
        self.assertEqual(len(d["key_fingerprint"]), 64)
        self.assertEqual(self.s.request("POST", "/api/v1/devices/%d/accept" % dev,
                                        token=self.t).json()["status"], "accepted")
        r = key.auth(self.s, "serial:E1")
        self.assertEqual(r.status, 200, r)
        tok = r.json()["token"]
        self.assertTrue(tok.startswith("fpd_"))
        c = self.s.request("GET", "/api/v1/device/checkin", token=tok)
        self.assertEqual(c.status, 200, c)
        self.assertIsNone(c.json()["assignment"])
        self.assertGreater(c.json()["poll_interval_s"], 0)
        # Operator tokens are not device tokens and the reverse.
        self.assertEqual(self.s.request("GET", "/api/v1/device/checkin", token=self.t).status,
                         401)
        self.assertEqual(self.s.request("GET", "/api/v1/devices", token=tok).status, 401)
        r = self.s.request("PUT", "/api/v1/device/inventory",
                           {"firmware_version": "1.0.1",
                            "components": [{"name": "openssl", "version": "3.0.11"}]}, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["changed"])
        d = self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()
        self.assertEqual(d["firmware_version"], "1.0.1")
        self.assertEqual(d["components"], [{"name": "openssl", "version": "3.0.11"}])
        self.assertIsNotNone(d["last_seen"])
        # A device cannot set operator-owned fields about itself.
        r = self.s.request("PUT", "/api/v1/device/inventory", {"criticality": "low"}, token=tok)
        self.assertEqual(r.status, 400)
        # Another key for the same identity is refused.
        other = DeviceKey(self.tmp.name)
        self.assertEqual(other.auth(self.s, "serial:E1").status, 403)
        # Rejection ends the token at once.
        self.assertEqual(self.s.request("POST", "/api/v1/devices/%d/reject" % dev,
                                        token=self.t).status, 200)
        self.assertEqual(self.s.request("GET", "/api/v1/device/checkin", token=tok).status, 401)
        self.assertEqual(key.auth(self.s, "serial:E1").status, 403)

    def test_preauthorized_and_bad_signatures(self):
        key = DeviceKey(self.tmp.name)
        r = self.s.request("POST", "/api/v1/devices",
                           {"identity": "serial:P1", "public_key": key.public_pem}, token=self.t)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "preauthorized")
        # A wrong signature, a stale timestamp and a bad key all fail without changes.
        import json
        body = json.dumps({"identity": "serial:P1", "public_key": key.public_pem,
                           "timestamp": int(time.time())}).encode()
        r = self.s.request("POST", "/api/v1/device/auth", raw=body,
                           headers={"X-FP-Signature": key.sign(body + b" ")})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.s.request("POST", "/api/v1/device/auth", raw=body).status, 401)
        r = key.auth(self.s, "serial:P1", timestamp=int(time.time()) - 3600)
        self.assertEqual(r.status, 401)
        self.assertIn("timestamp", r.json()["error"]["message"])
        d = self.s.request("GET", "/api/v1/devices/%d" % r.json().get("device_id", 0) if False
                           else "/api/v1/devices?filter=" + q("identity == serial:P1"),
                           token=self.t).json()["items"][0]
        self.assertEqual(d["status"], "preauthorized")
        r = key.auth(self.s, "serial:P1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "accepted")
        # The same signed request sent again is a replay and gets no token.
        body = json.dumps({"identity": "serial:P1", "public_key": key.public_pem,
                           "timestamp": key.last_ts}).encode()
        r = self.s.request("POST", "/api/v1/device/auth", raw=body,
                           headers={"X-FP-Signature": key.sign(body)})
        self.assertEqual(r.status, 401, r)
        self.assertIn("replayed", r.json()["error"]["message"])
        con = sqlite3.connect(self.s.db_path())
        actions = [a for (a,) in con.execute("SELECT action FROM audit_log WHERE object = ?",
                                            ("device:%d" % d["id"],))]
        con.close()
        self.assertEqual(actions, ["device.preauthorize", "device.enroll_preauthorized"])


if __name__ == "__main__":
    unittest.main()
