"""The audit log: every change is recorded; edits, deletions and reorderings are caught."""
import json
import sqlite3
import unittest

from fpharness import Server


class AuditTest(unittest.TestCase):
    def setUp(self):
        self.s = Server().start()
        self.t = self.s.login()
        for i in range(6):
            r = self.s.request("POST", "/api/v1/devices",
                               {"identity": "serial:AU%d" % i, "model": "m%d" % i}, token=self.t)
            self.assertEqual(r.status, 201)
        r = self.s.request("PATCH", "/api/v1/devices/1", {"owner": "alice"}, token=self.t)
        self.assertEqual(r.status, 200)

    def tearDown(self):
        self.s.close()

    def verify(self):
        r = self.s.request("GET", "/api/v1/audit/verify", token=self.t)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def db(self):
        return sqlite3.connect(self.s.db_path())

    def test_changes_are_recorded_with_before_and_after(self):
        items = self.s.request("GET", "/api/v1/audit?limit=100", token=self.t).json()["items"]
        # user.create (first admin), 6 device.create, 1 device.update
        self.assertEqual([e["action"] for e in items],
                         ["user.create"] + ["device.create"] * 6 + ["device.update"])
        upd = items[-1]
        self.assertEqual(upd["actor"], "user:admin")
        self.assertEqual(upd["object"], "device:1")
        self.assertIsNone(upd["before"]["owner"])
        self.assertEqual(upd["after"]["owner"], "alice")
        self.assertRegex(upd["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(items[0]["prev_hash"], "0" * 64)
        for a, b in zip(items, items[1:]):
            self.assertEqual(b["prev_hash"], a["hash"])
        v = self.verify()
        self.assertTrue(v["ok"])
        self.assertEqual(v["entries"], 8)
        self.assertEqual(v["head"]["hash"], items[-1]["hash"])
        # A refused request records nothing.
        self.s.request("POST", "/api/v1/devices", {"identity": "serial:AU0"}, token=self.t)
        self.assertEqual(self.verify()["entries"], 8)
        # Paging.
        page = self.s.request("GET", "/api/v1/audit?after=2&limit=3", token=self.t).json()
        self.assertEqual([e["seq"] for e in page["items"]], [3, 4, 5])
        self.assertEqual(page["next_after"], 5)
        self.assertEqual(self.s.request("GET", "/api/v1/audit?limit=5000",
                                        token=self.t).status, 400)
        self.assertEqual(self.s.request("GET", "/api/v1/audit?limit=0", token=self.t).status,
                         400)

    def test_export_is_json_lines(self):
        r = self.s.request("GET", "/api/v1/audit/export", token=self.t)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/x-ndjson")
        lines = r.body.strip().split("\n")
        self.assertEqual(len(lines), 8)
        self.assertEqual([json.loads(x)["seq"] for x in lines], list(range(1, 9)))
        r = self.s.request("GET", "/api/v1/audit/export?limit=3", token=self.t)
        self.assertEqual(r.headers["X-FP-Next-After"], "3")

    def test_edit_in_database_is_caught(self):
        con = self.db()
        after = con.execute("SELECT after_json FROM audit_log WHERE seq = 5").fetchone()[0]
        con.execute("UPDATE audit_log SET after_json = ? WHERE seq = 5",
                    (after.replace('"m3"', '"m3-forged"'),))
        con.commit()
        con.close()
        v = self.verify()
        self.assertFalse(v["ok"])
        self.assertEqual(v["first_bad"]["seq"], 5)
        self.assertIn("hash", v["first_bad"]["reason"])

    def test_actor_edit_is_caught(self):
        con = self.db()
        con.execute("UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 3")
        con.commit()
        con.close()
        self.assertEqual(self.verify()["first_bad"]["seq"], 3)

    def test_deletion_is_caught(self):
        con = self.db()
        con.execute("DELETE FROM audit_log WHERE seq = 4")
        con.commit()
        con.close()
        v = self.verify()
        self.assertFalse(v["ok"])
        self.assertEqual(v["first_bad"]["seq"], 4)
        self.assertIn("missing", v["first_bad"]["reason"])

    def test_reordering_is_caught(self):
        con = self.db()
        con.execute("UPDATE audit_log SET seq = -1 WHERE seq = 4")
        con.execute("UPDATE audit_log SET seq = 4 WHERE seq = 5")
        con.execute("UPDATE audit_log SET seq = 5 WHERE seq = -1")
        con.commit()
        con.close()
        v = self.verify()
        self.assertFalse(v["ok"])
        self.assertEqual(v["first_bad"]["seq"], 4)

    def test_consistent_rewrite_is_caught_at_the_next_entry(self):
        # Rewriting an entry together with its own hash (computed here
        # independently, as docs/design/audit.md defines it) still breaks the
        # next entry's link.
        import hashlib
        e = self.s.request("GET", "/api/v1/audit?after=5&limit=1", token=self.t).json()["items"][0]
        e["action"] = "device.forged"
        del e["hash"]
        canon = "fleetpatch-audit-v1\n" + json.dumps(e, sort_keys=True, separators=(",", ":"),
                                                      ensure_ascii=True)
        forged = hashlib.sha256(canon.encode()).hexdigest()
        con = self.db()
        con.execute("UPDATE audit_log SET action = 'device.forged', hash = ? WHERE seq = 6",
                    (forged,))
        con.commit()
        con.close()
        v = self.verify()
        self.assertFalse(v["ok"])
        self.assertEqual(v["first_bad"]["seq"], 7)
        self.assertIn("prev_hash", v["first_bad"]["reason"])

if __name__ == "__main__":
    unittest.main()
