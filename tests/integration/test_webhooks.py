"""Webhooks: signed deliveries to a real receiver on 127.0.0.1, retries with
backoff, bad input refused with nothing stored, and deliveries that survive a
kill -9 of the server (docs/design/webhooks.md)."""
import hashlib
import hmac
import http.server
import json
import signal
import sqlite3
import threading
import time
import unittest

from fpharness import TIMEOUT, Server, free_port

SECRET = "receiver-shared-secret-0123"
CONFIG = "webhook_retry_base_seconds = 1\n"


class Receiver:
    """A small HTTP receiver that verifies each delivery's signature independently."""

    def __init__(self, secret, port=None, statuses=()):
        self.secret = secret.encode()
        self.statuses = list(statuses)  # answered in turn, then 200
        self.got = []
        self.cv = threading.Condition()
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers.get("X-Fleetpatch-Timestamp", "")
                want = "sha256=" + hmac.new(rx.secret, ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                sig = self.headers.get("X-Fleetpatch-Signature", "")
                fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 300
                with rx.cv:
                    status = rx.statuses.pop(0) if rx.statuses else 200
                    rx.got.append({"headers": dict(self.headers), "body": body,
                                   "valid": fresh and hmac.compare_digest(sig, want),
                                   "answered": status})
                    rx.cv.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n):
        deadline = time.time() + TIMEOUT
        with self.cv:
            while len(self.got) < n:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("%d deliveries arrived, %d expected" % (len(self.got), n))
                self.cv.wait(left)
            return list(self.got)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class WebhookTest(unittest.TestCase):
    def setUp(self):
        self.s = Server(config=CONFIG).start()
        self.t = self.s.login()
        self.rx = None

    def tearDown(self):
        if self.rx:
            self.rx.close()
        self.s.close()

    def create(self, url, secret=SECRET, events=("rollout.*",)):
        body = {"url": url, "events": list(events)}
        if secret is not None:
            body["secret"] = secret
        return self.s.request("POST", "/api/v1/webhooks", body, token=self.t)

    def deliveries(self, wid):
        r = self.s.request("GET", "/api/v1/webhooks/%d/deliveries?per_page=10" % wid,
                           token=self.t)
        self.assertEqual(r.status, 200, r)
        return r.json()["items"]

    def wait_state(self, wid, state):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            items = self.deliveries(wid)
            if items and items[0]["state"] == state:
                return items[0]
            time.sleep(0.05)
        raise AssertionError("delivery not %s: %r" % (state, self.deliveries(wid)))

    def test_ping_arrives_signed_with_the_right_headers(self):
        self.rx = Receiver(SECRET)
        r = self.create(self.rx.url)
        self.assertEqual(r.status, 201, r)
        w = r.json()
        self.assertNotIn("secret", w)  # the caller chose it; it is not echoed
        self.assertEqual(w["events"], ["rollout.*"])
        r = self.s.request("POST", "/api/v1/webhooks/%d/test" % w["id"], token=self.t)
        self.assertEqual(r.status, 202, r)
        did = r.json()["delivery_id"]
        got = self.rx.wait(1)[0]
        self.assertTrue(got["valid"], got)
        h = got["headers"]
        self.assertEqual(h["Content-Type"], "application/json")
        self.assertEqual(h["X-Fleetpatch-Event"], "ping")
        self.assertEqual(h["X-Fleetpatch-Delivery"], str(did))
        body = json.loads(got["body"])
        self.assertEqual(body["id"], did)
        self.assertEqual(body["event"], "ping")
        self.assertEqual(body["data"]["webhook_id"], w["id"])
        self.assertRegex(body["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        d = self.wait_state(w["id"], "delivered")
        self.assertEqual((d["attempts"], d["status"]), (1, 200))
        # The secret is never shown again, nor written to the audit log or the server log.
        for path in ("/api/v1/webhooks", "/api/v1/webhooks/%d" % w["id"],
                     "/api/v1/audit?limit=100"):
            r = self.s.request("GET", path, token=self.t)
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(SECRET, r.body)
            self.assertNotIn('"secret"', r.body)
        self.assertNotIn(SECRET, self.s.read_log())
        one = self.s.request("GET", "/api/v1/webhooks/%d" % w["id"], token=self.t).json()
        self.assertEqual(one["deliveries"], {"pending": 0, "delivered": 1, "failed": 0})
        actions = [e["action"] for e in self.s.request(
            "GET", "/api/v1/audit?limit=100", token=self.t).json()["items"]]
        self.assertIn("webhook.create", actions)
        self.assertIn("webhook.test", actions)
        # Deleting removes the webhook and its deliveries, and is audited.
        r = self.s.request("DELETE", "/api/v1/webhooks/%d" % w["id"], token=self.t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s.request("GET", "/api/v1/webhooks/%d" % w["id"],
                                        token=self.t).status, 404)
        with sqlite3.connect(self.s.db_path()) as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone(),
                             (0,))
        actions = [e["action"] for e in self.s.request(
            "GET", "/api/v1/audit?limit=100", token=self.t).json()["items"]]
        self.assertIn("webhook.delete", actions)

    def test_generated_secret_is_returned_once_and_signs(self):
        r = self.create("http://127.0.0.1:9/unused", secret=None, events=["*"])
        self.assertEqual(r.status, 201, r)
        w = r.json()
        self.assertRegex(w["secret"], r"^whsec_[A-Za-z0-9_-]{43}$")
        self.rx = Receiver(w["secret"])
        with sqlite3.connect(self.s.db_path()) as db:
            db.execute("UPDATE webhooks SET url = ? WHERE id = ?", (self.rx.url, w["id"]))
        r = self.s.request("GET", "/api/v1/webhooks/%d" % w["id"], token=self.t)
        self.assertNotIn("secret", r.json())
        self.s.request("POST", "/api/v1/webhooks/%d/test" % w["id"], token=self.t)
        self.assertTrue(self.rx.wait(1)[0]["valid"])

    def test_failure_is_retried_until_delivered(self):
        self.rx = Receiver(SECRET, statuses=[500, 503])
        w = self.create(self.rx.url).json()
        self.s.request("POST", "/api/v1/webhooks/%d/test" % w["id"], token=self.t)
        got = self.rx.wait(3)
        self.assertEqual([g["answered"] for g in got], [500, 503, 200])
        self.assertTrue(all(g["valid"] for g in got))
        # The same delivery each time, with a fresh timestamp and signature.
        self.assertEqual(len({g["headers"]["X-Fleetpatch-Delivery"] for g in got}), 1)
        self.assertEqual(len({g["body"] for g in got}), 1)
        d = self.wait_state(w["id"], "delivered")
        self.assertEqual((d["attempts"], d["status"]), (3, 200))
        self.assertIsNone(d["last_error"])
        # A wait of 1 s, then 2 s: the backoff doubles.
        t = [float(g["headers"]["X-Fleetpatch-Timestamp"]) for g in got]
        self.assertGreaterEqual(t[2] - t[1], 1)

    def test_bad_input_is_refused_and_nothing_stored(self):
        good = {"url": "http://127.0.0.1:9/x", "secret": SECRET, "events": ["rollout.*"]}
        bad = [
            dict(good, url="ftp://127.0.0.1/x"),
            dict(good, url="not a url"),
            dict(good, url="http://"),
            dict(good, url="http://h/" + "x" * 2048),
            dict(good, url=5),
            dict(good, secret="short"),
            dict(good, secret="x" * 257),
            dict(good, events=[]),
            dict(good, events="rollout.*"),
            dict(good, events=["Rollout.Started"]),
            dict(good, events=["a,b"]),
            dict(good, events=["ping", "ping"]),
            dict(good, events=["e%d" % i for i in range(33)]),
            dict(good, events=[7]),
            dict(good, colour="blue"),
            {"events": ["ping"]},
        ]
        for body in bad:
            r = self.s.request("POST", "/api/v1/webhooks", body, token=self.t)
            self.assertEqual(r.status, 400, (body, r))
            self.assertTrue(r.json()["error"]["message"], r)
        for method, path in (("GET", "/api/v1/webhooks/99"), ("DELETE", "/api/v1/webhooks/99"),
                             ("GET", "/api/v1/webhooks/99/deliveries"),
                             ("POST", "/api/v1/webhooks/99/test"),
                             ("GET", "/api/v1/webhooks/abc")):
            r = self.s.request(method, path, token=self.t)
            self.assertEqual(r.status, 404, (method, path, r))
        self.assertEqual(self.s.request("GET", "/api/v1/webhooks", token=self.t).json()["total"],
                         0)
        with sqlite3.connect(self.s.db_path()) as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM webhooks").fetchone(), (0,))
            self.assertEqual(db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone(),
                             (0,))
        actions = [e["action"] for e in self.s.request(
            "GET", "/api/v1/audit?limit=100", token=self.t).json()["items"]]
        self.assertFalse([a for a in actions if a.startswith("webhook.")])
        # Without a token, nothing.
        self.assertEqual(self.s.request("GET", "/api/v1/webhooks").status, 401)

    def test_gives_up_after_ten_attempts(self):
        port = free_port()  # nobody listens: every attempt fails
        w = self.create("http://127.0.0.1:%d/hook" % port).json()
        self.s.request("POST", "/api/v1/webhooks/%d/test" % w["id"], token=self.t)
        d = self.wait_state(w["id"], "pending")
        deadline = time.time() + TIMEOUT
        while d["attempts"] < 1 and time.time() < deadline:
            time.sleep(0.05)
            d = self.deliveries(w["id"])[0]
        # Fast-forward, with the server stopped so no attempt races the edit: nine
        # attempts behind it and due now, so the next is the tenth.
        self.assertEqual(self.s.stop(), 0)
        with sqlite3.connect(self.s.db_path()) as db:
            db.execute("UPDATE webhook_deliveries SET attempts = 9, next_at = 0")
        self.s.start()
        d = self.wait_state(w["id"], "failed")
        self.assertEqual(d["attempts"], 10)
        self.assertNotIn("status", d)
        self.assertNotIn("next_attempt_at", d)
        self.assertTrue(d["last_error"].startswith("gave up after 10 attempts"), d)
        one = self.s.request("GET", "/api/v1/webhooks/%d" % w["id"], token=self.t).json()
        self.assertEqual(one["deliveries"], {"pending": 0, "delivered": 0, "failed": 1})
        # A given-up delivery is not sent again, even once the receiver is up.
        self.rx = Receiver(SECRET, port=port)
        time.sleep(1.5)
        self.assertEqual(self.rx.got, [])

    def test_finished_deliveries_are_pruned_after_the_retention(self):
        """webhook_retention_days (30 by default): delivered and given-up
        deliveries older than that are deleted when the delivery thread
        starts (then hourly); a pending one stays whatever its age."""
        self.rx = Receiver(SECRET)
        w = self.create(self.rx.url).json()
        ping = lambda wid: self.s.request("POST", "/api/v1/webhooks/%d/test" % wid,
                                          token=self.t).json()["delivery_id"]
        old_ok, new_ok = ping(w["id"]), ping(w["id"])
        self.rx.wait(2)
        deadline = time.time() + TIMEOUT
        while time.time() < deadline and any(
                d["state"] != "delivered" for d in self.deliveries(w["id"])):
            time.sleep(0.05)
        dead = self.create("http://127.0.0.1:%d/hook" % free_port()).json()
        old_pending, old_failed = ping(dead["id"]), ping(dead["id"])
        self.assertEqual(self.s.stop(), 0)
        with sqlite3.connect(self.s.db_path()) as db:
            db.execute("UPDATE webhook_deliveries SET created_at = '2020-01-01T00:00:00Z' "
                       "WHERE id IN (?, ?, ?)", (old_ok, old_pending, old_failed))
            # The way the delivery thread marks a delivery it gave up on.
            db.execute("UPDATE webhook_deliveries SET attempts = 10, status = -1, "
                       "last_error = 'gave up after 10 attempts' WHERE id = ?", (old_failed,))
        self.s.start()
        deadline = time.time() + TIMEOUT
        while time.time() < deadline and len(self.deliveries(w["id"])) != 1:
            time.sleep(0.05)
        self.assertEqual([d["id"] for d in self.deliveries(w["id"])], [new_ok])
        self.assertEqual([d["id"] for d in self.deliveries(dead["id"])], [old_pending])
        self.assertIn("pruned webhook deliveries", self.s.read_log())
        self.assertIn("deleted=2", self.s.read_log())

    def test_pending_delivery_survives_kill_9(self):
        port = free_port()  # nobody listens here yet: the first attempts fail
        w = self.create("http://127.0.0.1:%d/hook" % port).json()
        did = self.s.request("POST", "/api/v1/webhooks/%d/test" % w["id"],
                             token=self.t).json()["delivery_id"]
        d = self.wait_state(w["id"], "pending")
        deadline = time.time() + TIMEOUT
        while d["attempts"] < 1 and time.time() < deadline:
            time.sleep(0.05)
            d = self.deliveries(w["id"])[0]
        self.assertGreaterEqual(d["attempts"], 1)
        self.assertEqual(d["status"], 0)
        self.assertTrue(d["last_error"])
        self.s.stop(signal.SIGKILL)
        self.rx = Receiver(SECRET, port=port)
        self.s.start()
        got = self.rx.wait(1)[0]
        self.assertTrue(got["valid"])
        self.assertEqual(got["headers"]["X-Fleetpatch-Delivery"], str(did))
        self.wait_state(w["id"], "delivered")


if __name__ == "__main__":
    unittest.main()
