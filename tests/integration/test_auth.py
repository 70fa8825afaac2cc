"""Operators: login, rate limiting, tokens, roles, and bad input that changes nothing."""
import sqlite3
import time
import unittest

from fpharness import Server

STRONG = "correct-horse-battery"


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server(config="login_max_failures = 3\nlogin_window_seconds = 120\n").start()
        cls.admin = cls.s.login()
        for name, role in (("vera", "viewer"), ("otto", "operator"), ("anna", "approver")):
            r = cls.s.request("POST", "/api/v1/users",
                              {"username": name, "role": role, "password": STRONG},
                              token=cls.admin)
            assert r.status == 201, r
        cls.viewer = cls.s.login("vera", STRONG)
        cls.operator = cls.s.login("otto", STRONG)

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def snapshot(self):
        con = sqlite3.connect(self.s.db_path())
        try:
            return {t: con.execute("SELECT * FROM %s ORDER BY 1" % t).fetchall()
                    for t in ("users", "devices", "device_groups", "audit_log")}
        finally:
            con.close()

    def assertError(self, r, status, code=None, msg=None):
        self.assertEqual(r.status, status, r)
        e = r.json()["error"]
        self.assertIsInstance(e["message"], str)
        self.assertTrue(e["message"])
        if code:
            self.assertEqual(e["code"], code)
        if msg:
            self.assertIn(msg, e["message"])

    def test_whoami_and_roles(self):
        r = self.s.request("GET", "/api/v1/auth/whoami", token=self.viewer)
        self.assertEqual(r.json()["role"], "viewer")
        before = self.snapshot()
        self.assertEqual(self.s.request("GET", "/api/v1/devices", token=self.viewer).status, 200)
        self.assertError(self.s.request("POST", "/api/v1/devices", {"identity": "x:1"},
                                        token=self.viewer), 403, "forbidden", "operator role")
        self.assertError(self.s.request("GET", "/api/v1/users", token=self.viewer), 403)
        self.assertError(self.s.request("POST", "/api/v1/users",
                                        {"username": "evil", "role": "admin",
                                         "password": STRONG}, token=self.operator), 403)
        self.assertError(self.s.request("PATCH", "/api/v1/users/vera", {"role": "admin"},
                                        token=self.viewer), 403)
        self.assertError(self.s.request("GET", "/api/v1/users/otto", token=self.viewer), 403)
        self.assertEqual(self.snapshot(), before)
        r = self.s.request("POST", "/api/v1/devices", {"identity": "serial:op-1"},
                           token=self.operator)
        self.assertEqual(r.status, 201, r)
        self.s.request("DELETE", "/api/v1/devices/%d" % r.json()["id"], token=self.operator)

    def test_missing_forged_revoked_and_expired_tokens(self):
        self.assertError(self.s.request("GET", "/api/v1/devices"), 401, "unauthorized")
        self.assertError(self.s.request("GET", "/api/v1/devices", token="fpu_" + "A" * 43), 401,
                         "unauthorized", "not valid")
        self.assertError(self.s.request("GET", "/api/v1/devices", token="garbage"), 401)
        self.assertError(self.s.request("GET", "/api/v1/devices", token="fpd_1_0_9999999999_" +
                                        "0" * 64), 401)
        r = self.s.request("POST", "/api/v1/tokens", {"name": "ci", "expires_in_days": 1},
                           token=self.operator)
        self.assertEqual(r.status, 201, r)
        api = r.json()
        self.assertTrue(api["token"].startswith("fpu_"))
        self.assertEqual(self.s.request("GET", "/api/v1/devices", token=api["token"]).status, 200)
        # Tokens are stored hashed.
        con = sqlite3.connect(self.s.db_path())
        rows = [r[0] for r in con.execute("SELECT token_hash FROM api_tokens")]
        self.assertNotIn(api["token"], rows)
        con.close()
        lst = self.s.request("GET", "/api/v1/tokens", token=self.operator).json()
        self.assertIn(api["id"], [t["id"] for t in lst["items"]])
        self.assertNotIn("token", lst["items"][0])
        # Someone else's token is invisible to a non-admin.
        self.assertError(self.s.request("DELETE", "/api/v1/tokens/%d" % api["id"],
                                        token=self.viewer), 404)
        r = self.s.request("DELETE", "/api/v1/tokens/%d" % api["id"], token=self.operator)
        self.assertEqual(r.status, 200, r)
        self.assertError(self.s.request("GET", "/api/v1/devices", token=api["token"]), 401,
                         msg="revoked")
        # Expiry: move a fresh token's expiry into the past.
        t = self.s.login("otto", STRONG)
        con = sqlite3.connect(self.s.db_path())
        con.execute("UPDATE api_tokens SET expires_at = 1000 WHERE id = "
                    "(SELECT MAX(id) FROM api_tokens)")
        con.commit()
        con.close()
        self.assertError(self.s.request("GET", "/api/v1/devices", token=t), 401, msg="expired")
        self.assertError(self.s.request("POST", "/api/v1/tokens",
                                        {"name": "x", "expires_in_days": 100000},
                                        token=self.operator), 400, msg="expires_in_days")

    def test_login_rate_limit(self):
        r = self.s.request("POST", "/api/v1/users",
                           {"username": "rl", "role": "viewer", "password": STRONG},
                           token=self.admin)
        self.assertEqual(r.status, 201)
        for _ in range(3):
            self.assertError(self.s.request("POST", "/api/v1/auth/login",
                                            {"username": "rl", "password": "wrong-password"}),
                             401, "unauthorized", "wrong username or password")
        r = self.s.request("POST", "/api/v1/auth/login", {"username": "rl", "password": STRONG})
        self.assertError(r, 429, "rate_limited")
        self.assertGreater(int(r.headers["Retry-After"]), 0)
        # Unknown users answer the same way as wrong passwords.
        self.assertError(self.s.request("POST", "/api/v1/auth/login",
                                        {"username": "nobody", "password": "whatever-it-is"}),
                         401, msg="wrong username or password")

    def test_password_change_and_last_admin(self):
        r = self.s.request("POST", "/api/v1/users",
                           {"username": "pia", "role": "viewer", "password": STRONG},
                           token=self.admin)
        self.assertEqual(r.status, 201)
        t = self.s.login("pia", STRONG)
        self.assertError(self.s.request("PATCH", "/api/v1/users/pia",
                                        {"password": "new-password-123"}, token=t), 403,
                         msg="current_password")
        self.assertError(self.s.request("PATCH", "/api/v1/users/pia",
                                        {"password": "short", "current_password": STRONG},
                                        token=t), 400, msg="password")
        r = self.s.request("PATCH", "/api/v1/users/pia",
                           {"password": "new-password-123", "current_password": STRONG}, token=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s.login("pia", "new-password-123")[:4], "fpu_")
        self.assertError(self.s.request("PATCH", "/api/v1/users/admin", {"role": "viewer"},
                                        token=self.admin), 409, msg="last active admin")
        self.assertError(self.s.request("DELETE", "/api/v1/users/admin", token=self.admin), 409)
        r = self.s.request("PATCH", "/api/v1/users/pia", {"disabled": True}, token=self.admin)
        self.assertEqual(r.status, 200)
        self.assertError(self.s.request("GET", "/api/v1/auth/whoami", token=t), 401,
                         msg="disabled")

    def test_bad_input_changes_nothing(self):
        before = self.snapshot()
        cases = [
            (b'{"identity": "serial:1",', 400, "not valid JSON"),
            (b'{"identity": "serial:1", "identity": "serial:2"}', 400, "duplicate"),
            (b'{"identity": 42}', 400, "identity: expected a string"),
            (b'{"identity": "serial:1", "modle": "x"}', 400, "unknown device field 'modle'"),
            (b'{"identity": "serial:\xff\xfe"}', 400, None),
            (b'[1,2,3]', 400, "JSON object"),
            (b'{"identity": "serial:1", "exposure": "dmz"}', 400, "exposure"),
            (b'{"identity": "serial:1", "tags": "lab"}', 400, "tags"),
            (b'{"identity": "serial:1\\u0000x"}', 400, None),
            (b'{"identity": "' + b"a" * 300 + b'"}', 400, "at most 256"),
        ]
        for raw, status, msg in cases:
            r = self.s.request("POST", "/api/v1/devices", raw=raw, token=self.operator,
                               headers={"Content-Type": "application/json"})
            self.assertError(r, status, msg=msg)
        self.assertEqual(self.s.status_of_oversized("POST", "/api/v1/devices", (1 << 20) + 1,
                                                    token=self.operator), 413)
        self.assertEqual(self.s.status_of_oversized("POST", "/api/v1/auth/login", 16385), 413)
        # A chunked body has no declared length; the cap still holds.
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=30)
        chunks = (b"x" * 65536 for _ in range(20))
        c.request("POST", "/api/v1/devices", body=chunks, encode_chunked=True,
                  headers={"Authorization": "Bearer " + self.operator,
                           "Transfer-Encoding": "chunked"})
        resp = c.getresponse()
        self.assertEqual(resp.status, 413)
        self.assertIn(b"too_large", resp.read())
        c.close()
        self.assertError(self.s.request("GET", "/api/v1/devices?bogus=1", token=self.viewer),
                         400, msg="unknown query parameter 'bogus'")
        self.assertError(self.s.request("GET", "/api/v1/devices?per_page=100000",
                                        token=self.viewer), 400, msg="per_page")
        self.assertError(self.s.request("POST", "/api/v1/users",
                                        {"username": "Robert'); DROP TABLE users;--",
                                         "role": "viewer", "password": STRONG},
                                        token=self.admin), 400, msg="username")
        self.assertEqual(self.snapshot(), before)

    def test_sql_metacharacters_are_data(self):
        evil = "x'); DROP TABLE devices;-- \" OR 1=1"
        r = self.s.request("POST", "/api/v1/devices", {"identity": "serial:sqli", "name": evil},
                           token=self.operator)
        self.assertEqual(r.status, 201, r)
        d = self.s.request("GET", "/api/v1/devices/%d" % r.json()["id"], token=self.viewer).json()
        self.assertEqual(d["name"], evil)
        lst = self.s.request("GET", "/api/v1/devices?filter=name%20%3D%3D%20%22x%27%29%3B%20"
                                    "DROP%20TABLE%20devices%3B--%20%5C%22%20OR%201%3D1%22",
                             token=self.viewer)
        self.assertEqual(lst.status, 200, lst)
        self.assertEqual([x["name"] for x in lst.json()["items"]], [evil])
        self.s.request("DELETE", "/api/v1/devices/%d" % r.json()["id"], token=self.operator)

    def test_logout_revokes_session(self):
        t = self.s.login("vera", STRONG)
        self.assertEqual(self.s.request("POST", "/api/v1/auth/logout", token=t).status, 200)
        self.assertError(self.s.request("GET", "/api/v1/auth/whoami", token=t), 401)


if __name__ == "__main__":
    unittest.main()
