"""Staged rollouts end to end: a real fleetpatchd, releases published with the
real CLI, and a fleet of 200 simulated devices (`fleetpatch-agent fleet`,
one process) that enrol, poll, install, reboot, check their health and
report. Proves: bad input is refused with nothing changed; a canary phase in
which 30% of devices fail their health check trips its threshold, stops the
rollout by itself and reverts the devices it updated, and no device outside
the canary is touched; a good release completes every phase, across a
kill -9 of the server, with each device assigned exactly once; devices
outside their maintenance window (in their own time zone) wait for it;
overlapping rollouts conflict unless the new one has a higher priority;
the CLI shows per-phase progress; webhooks are signed."""
import datetime
import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from fpharness import BUILD, TIMEOUT, Operator, Server

AGENT = os.path.join(BUILD, "fleetpatch-agent")
N = 200
WAIT = 240
FW_SIZE = 64 * 1024


class Receiver:
    """A webhook receiver on 127.0.0.1 that records what it is sent."""

    def __init__(self):
        self.got = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


class RolloutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-rollout-")
        cls.s = Server(config="poll_interval_seconds = 5\nrollout_tick_ms = 200\n"
                       "webhook_retry_base_seconds = 1\n").start()
        cls.t = cls.s.login()
        for user, role in (("op", "operator"), ("appr", "approver"), ("view", "viewer")):
            r = cls.s.request("POST", "/api/v1/users", {"username": user, "role": role,
                                                        "password": "pw-" + user + "-123456"},
                              token=cls.t)
            assert r.status == 201, r
        cls.op = cls.s.login("op", "pw-op-123456")
        cls.appr = cls.s.login("appr", "pw-appr-123456")
        cls.view = cls.s.login("view", "pw-view-123456")
        cls.operator = Operator(cls.s, cls.t, cls.tmp.name)
        cls.hooks = Receiver()
        r = cls.s.request("POST", "/api/v1/webhooks",
                          {"url": cls.hooks.url, "secret": "rollout-hook-secret-0123456789",
                           "events": ["rollout.*"]}, token=cls.t)
        assert r.status == 201, r
        cls.publish()
        cls.fleet = None
        cls.start_fleet()
        cls.ids = cls.accept_all()
        r = cls.s.request("POST", "/api/v1/groups", {"name": "fleet", "filter": "model == sim-1"},
                          token=cls.op)
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        if cls.fleet and cls.fleet.poll() is None:
            cls.fleet.terminate()
            try:
                cls.fleet.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                cls.fleet.kill()
                cls.fleet.wait()
        cls.hooks.close()
        log = open(cls.path("fleet.log"), "rb").read()
        cls.s.close()
        cls.tmp.cleanup()
        if b"AddressSanitizer" in log or b"runtime error:" in log:
            raise AssertionError("sanitizer report in the fleet's log")

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    def cli(cls, args, token=None, check=True):
        return cls.operator.cli(args, token=token, check=check)

    @classmethod
    def publish(cls):
        """1.0 (what the devices run, so a revert has somewhere to go), 2.0 and 3.0."""
        cls.operator.init_root()
        for version in ("1.0", "2.0", "3.0"):
            # One security counter for all: a revert must not be refused as a rollback attack.
            cls.operator.release("fw-%s.bin" % version,
                                 version.encode() * 100 + os.urandom(FW_SIZE - 300), version, 1)

    @classmethod
    def start_fleet(cls):
        log = open(cls.path("fleet.log"), "ab")
        cls.fleet = subprocess.Popen(
            [AGENT, "fleet", "--dir", cls.path("fleet"), "--count", str(N), "--server", cls.s.url,
             "--model", "sim-1", "--firmware-version", "1.0", "--identity-prefix", "sim-",
             "--tuf-root", cls.operator.root, "--threads", "16"],
            stdout=log, stderr=log)
        log.close()

    @classmethod
    def devices(cls, token=None):
        out = []
        page = 1
        while True:
            r = cls.s.request("GET", "/api/v1/devices?per_page=1000&page=%d" % page,
                              token=token or cls.t).json()
            out += r["items"]
            if len(out) >= r["total"] or not r["items"]:
                return out
            page += 1

    @classmethod
    def accept_all(cls):
        deadline = time.time() + WAIT
        seen = {}
        while time.time() < deadline and len(seen) < N:
            for d in cls.devices():
                if d["identity"].startswith("sim-") and d["id"] not in seen:
                    if d["status"] == "pending":
                        r = cls.s.request("POST", "/api/v1/devices/%d/accept" % d["id"],
                                          token=cls.t)
                        assert r.status == 200, r
                    seen[d["id"]] = d["identity"]
            time.sleep(0.5)
        assert len(seen) == N, "only %d of %d devices enrolled" % (len(seen), N)
        # Every device reports what it runs before any rollout is made.
        cls.wait_for("every device reporting firmware 1.0",
                     lambda: sum(1 for d in cls.devices() if d.get("firmware_version") == "1.0"
                                 and d["identity"].startswith("sim-")) == N)
        return sorted(seen)

    @classmethod
    def wait_for(cls, what, fn, timeout=WAIT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.5)
        raise AssertionError("timed out waiting for %s\nfleet log tail:\n%s" % (
            what, open(cls.path("fleet.log"), "rb").read()[-4000:].decode("utf-8", "replace")))

    def tearDown(self):
        # A failed test must not leave a live rollout that blocks the next ones.
        for ro in self.api("GET", "/api/v1/rollouts?per_page=100")["items"]:
            if ro["state"] in ("draft", "approved", "running", "waiting_approval", "paused"):
                self.s.request("POST", "/api/v1/rollouts/%d/abort" % ro["id"], {}, token=self.op)

    def api(self, method, path, body=None, token=None, status=200):
        r = self.s.request(method, path, body, token=token or self.op)
        self.assertEqual(r.status, status, r)
        return r.json() if r.body else None

    def rollout(self, rid):
        return self.api("GET", "/api/v1/rollouts/%d" % rid)

    def rollout_devices(self, rid, state=None):
        q = "&state=" + state if state else ""
        return self.api("GET", "/api/v1/rollouts/%d/devices?per_page=1000%s" % (rid, q))["items"]

    def assignment_versions(self):
        out = {}
        for i in self.ids:
            r = self.s.request("GET", "/api/v1/devices/%d/assignment" % i, token=self.t)
            out[i] = r.json()["version"] if r.status == 200 else 0
        return out

    def firmware(self):
        return {d["id"]: d.get("firmware_version") for d in self.devices()
                if d["id"] in set(self.ids)}

    def create(self, release, phases, **kw):
        body = dict(name="r-" + release, release=release, group="fleet", phases=phases)
        body.update(kw)
        return self.api("POST", "/api/v1/rollouts", body, status=201)

    def approve_and_start(self, rid):
        self.api("POST", "/api/v1/rollouts/%d/approve" % rid,
                 {"ticket": "CHG-%d" % rid, "reason": "tested in the lab"}, token=self.appr)
        return self.api("POST", "/api/v1/rollouts/%d/start" % rid, {})

    def count_rollouts(self):
        return self.api("GET", "/api/v1/rollouts")["total"]

    def test_1_bad_input_changes_nothing(self):
        before = self.count_rollouts()
        ph = [{"percent": 100}]
        cases = [
            ({"name": "x", "release": "fw-2.0.bin", "group": "nope", "phases": ph}, 422, "group"),
            ({"name": "x", "release": "fw-9.bin", "group": "fleet", "phases": ph}, 422,
             "fw-9.bin"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet",
              "phases": [{"percent": 50}, {"percent": 20}, {"percent": 100}]}, 400, "phases[1]"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet",
              "phases": [{"percent": 10}, {"percent": 50}]}, 400, "100"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet", "phases": ph,
              "windows": [{"days": "sat", "start": "02:00", "end": "02:00"}]}, 400, "never"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet", "phases": ph,
              "windows": []}, 400, "windows"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet", "filter": "model == a",
              "phases": ph}, 400, "exactly one"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet", "phases": ph,
              "surprise": 1}, 400, "surprise"),
            ({"name": "x", "release": "fw-2.0.bin", "group": "fleet", "phases": ph,
              "start_at": "2030-01-02T00:00:00Z", "deadline": "2030-01-01T00:00:00Z"}, 400,
             "deadline"),
        ]
        for body, status, word in cases:
            r = self.s.request("POST", "/api/v1/rollouts", body, token=self.op)
            self.assertEqual(r.status, status, (body, r))
            self.assertIn(word, r.json()["error"]["message"], body)
        # A viewer cannot create one.
        r = self.s.request("POST", "/api/v1/rollouts", {"name": "x", "release": "fw-2.0.bin",
                                                        "group": "fleet", "phases": ph},
                           token=self.view)
        self.assertEqual(r.status, 403)
        self.assertEqual(self.count_rollouts(), before)
        # A draft: it cannot start unapproved, its creator cannot approve it, an
        # operator cannot approve at all; after an abort nothing more is allowed.
        ro = self.create("fw-2.0.bin", ph)
        rid = ro["id"]
        self.assertEqual(ro["state"], "draft")
        self.assertEqual(ro["devices"], N)
        r = self.s.request("POST", "/api/v1/rollouts/%d/start" % rid, {}, token=self.op)
        self.assertEqual(r.status, 409, r)
        self.assertIn("not approved", r.json()["error"]["message"])
        r = self.s.request("POST", "/api/v1/rollouts/%d/approve" % rid,
                           {"ticket": "T", "reason": "r"}, token=self.op)
        self.assertEqual(r.status, 403, r)
        r = self.s.request("POST", "/api/v1/rollouts/%d/approve" % rid, {"ticket": "T"},
                           token=self.appr)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.rollout(rid)["state"], "draft")
        self.api("POST", "/api/v1/rollouts/%d/abort" % rid, {"reason": "test"})
        for verb in ("start", "pause", "resume", "abort"):
            r = self.s.request("POST", "/api/v1/rollouts/%d/%s" % (rid, verb), {}, token=self.op)
            self.assertEqual(r.status, 409, (verb, r))
        self.assertEqual(self.rollout(rid)["state"], "aborted")
        # No device was assigned anything by all of this.
        self.assertEqual(set(self.assignment_versions().values()), {0})
        audit = self.api("GET", "/api/v1/audit?limit=1000", token=self.t)["items"]
        actions = [e["action"] for e in audit if e["object"] == "rollout:%d" % rid]
        self.assertIn("rollout.create", actions)
        self.assertIn("rollout.abort", actions)

    def test_2_bad_canary_stops_and_reverts(self):
        phases = [{"name": "canary", "percent": 10, "failure": {"percent": 20, "action": "revert"}},
                  {"name": "half", "percent": 50}, {"name": "all", "percent": 100}]
        ro = self.create("fw-2.0.bin", phases)
        rid = ro["id"]
        canary = [d["device_id"] for d in self.rollout_devices(rid) if d["phase"] == 0]
        self.assertEqual(len(canary), N // 10)
        # 30% of the canary fail their health check after the update.
        bad = canary[:len(canary) * 3 // 10]
        identity = {d["id"]: d["identity"] for d in self.devices()}
        flags = [os.path.join(self.path("fleet"), self.dev_dir(identity[i]), "health-fail")
                 for i in bad]
        for f in flags:
            open(f, "w").close()
        try:
            self.bad_canary(rid, canary, bad)
        finally:
            for f in flags:
                os.unlink(f)

    def bad_canary(self, rid, canary, bad):
        versions = self.assignment_versions()
        self.approve_and_start(rid)
        self.wait_for("the rollout to revert", lambda: self.rollout(rid)["state"] == "reverted")
        ro = self.rollout(rid)
        self.assertTrue(ro["phases"][0]["tripped"])
        self.assertIn("canary", ro["reason"])
        # Only canary devices were ever assigned anything.
        after = self.assignment_versions()
        touched = {i for i in self.ids if after[i] != versions[i]}
        self.assertTrue(touched <= set(canary), touched - set(canary))
        fw = self.firmware()
        # Every device runs 1.0 again: the failed ones rolled back on the device,
        # the updated ones were reverted by the rollout.
        self.assertEqual({fw[i] for i in self.ids}, {"1.0"})
        states = {d["device_id"]: d for d in self.rollout_devices(rid)}
        # The bad devices that installed it failed their health check; one whose
        # assignment was withdrawn before it fetched it never tried.
        failed = [i for i in bad if states[i]["state"] == "failed"]
        self.assertGreaterEqual(len(failed), 4)  # the threshold: 20 % of 20
        for i in bad:
            if i in failed:
                self.assertIn("health check failed", states[i]["reason"])
            else:
                self.assertEqual(states[i]["state"], "cancelled", states[i])
        reverted = [i for i in canary if states[i]["state"] == "reverted"]
        self.assertGreater(len(reverted), 0)
        for i in set(canary) - set(bad):
            self.assertIn(states[i]["state"], ("reverted", "cancelled", "failed"), states[i])
        for i in set(self.ids) - set(canary):
            self.assertEqual(states[i]["state"], "cancelled", states[i])
            self.assertEqual(states[i]["attempts"], 0, states[i])
        # The webhook saw the trip and the revert, signed with the secret.
        self.wait_for("webhooks", lambda: {"rollout.threshold_tripped", "rollout.reverted"} <=
                      {h.get("X-Fleetpatch-Event") for h, _ in self.hooks.got}, timeout=60)
        for h, body in self.hooks.got:
            ts = h["X-Fleetpatch-Timestamp"]
            mac = hmac.new(b"rollout-hook-secret-0123456789", ts.encode() + b"." + body,
                           hashlib.sha256).hexdigest()
            self.assertEqual(h["X-Fleetpatch-Signature"], "sha256=" + mac)

    def dev_dir(self, identity):
        return "dev-%05d" % int(identity.split("-")[1])

    def test_3_good_release_completes_across_kill9(self):
        phases = [{"name": "canary", "percent": 1, "soak": "2s"},
                  {"name": "early", "percent": 10, "soak": "2s"},
                  {"name": "all", "percent": 100}]
        ro = self.create("fw-2.0.bin", phases)
        rid = ro["id"]
        versions = self.assignment_versions()
        self.approve_and_start(rid)
        self.wait_for("the last phase to start", lambda: self.rollout(rid)["phase"] == 2)
        # The server dies mid-rollout and comes back; the rollout goes on.
        self.s.stop(signal.SIGKILL)
        self.s.start()
        self.wait_for("the rollout to complete",
                      lambda: self.rollout(rid)["state"] == "completed")
        ro = self.rollout(rid)
        self.assertEqual(ro["progress"]["succeeded"], N)
        self.assertEqual([p["status"] for p in ro["phases"]], ["completed"] * 3)
        self.assertEqual([p["devices"] for p in ro["phases"]], [2, 18, 180])
        fw = self.firmware()
        self.assertEqual({fw[i] for i in self.ids}, {"2.0"})
        # Each device was assigned exactly once, the kill notwithstanding: one
        # attempt, and the director's current version is that assignment's.
        after = self.assignment_versions()
        rows = self.rollout_devices(rid)
        self.assertEqual(len(rows), N)
        odd = [d for d in rows if d["attempts"] != 1 or
               after[d["device_id"]] != d["assignment_version"] or
               d["assignment_version"] <= versions[d["device_id"]]]
        self.assertEqual(odd, [])
        audit = self.api("GET", "/api/v1/audit?limit=1000", token=self.t)["items"]
        mine = [e["action"] for e in audit if e["object"] == "rollout:%d" % rid]
        for a in ("rollout.create", "rollout.approve", "rollout.start", "rollout.phase_started",
                  "rollout.phase_completed", "rollout.completed"):
            self.assertIn(a, mine)
        # The CLI shows the phases with their counts.
        out = self.cli(["rollout", "status", str(rid)]).stdout.decode()
        self.assertIn("completed", out)
        self.assertIn("%d of %d devices updated" % (N, N), out)
        for name in ("canary", "early", "all"):
            self.assertIn(name, out)

    def test_4_devices_wait_for_their_window(self):
        # Half the fleet is in Tokyo (UTC+9, no DST), half in UTC. The window is
        # open now in UTC and closed now in Tokyo.
        tokyo = set(self.ids[: N // 2])
        for i in self.ids:
            self.api("PATCH", "/api/v1/devices/%d" % i,
                     {"attributes": {"timezone": "Asia/Tokyo" if i in tokyo else "UTC"}})
        now = datetime.datetime.now(datetime.timezone.utc)
        start = (now - datetime.timedelta(minutes=30)).strftime("%H:%M")
        end = (now + datetime.timedelta(minutes=90)).strftime("%H:%M")
        ro = self.create("fw-3.0.bin", [{"percent": 100}],
                         windows=[{"days": "daily", "start": start, "end": end}])
        rid = ro["id"]
        self.approve_and_start(rid)
        self.wait_for("the UTC devices to update",
                      lambda: sum(1 for v in self.firmware().values() if v == "3.0") == N // 2)
        time.sleep(6)  # more than a poll interval: nobody else moves
        fw = self.firmware()
        self.assertEqual({fw[i] for i in tokyo}, {"2.0"})
        states = {d["device_id"]: d["state"] for d in self.rollout_devices(rid)}
        self.assertEqual({states[i] for i in tokyo}, {"waiting"})
        self.assertEqual(self.rollout(rid)["state"], "running")
        # Their window opens (they move to UTC): they update and the rollout completes.
        for i in tokyo:
            self.api("PATCH", "/api/v1/devices/%d" % i, {"attributes": {"timezone": "UTC"}})
        self.wait_for("the rollout to complete",
                      lambda: self.rollout(rid)["state"] == "completed")
        self.assertEqual(set(self.firmware().values()), {"3.0"})

    def test_5_overlapping_rollouts(self):
        a = self.create("fw-2.0.bin", [{"percent": 100}])
        r = self.s.request("POST", "/api/v1/rollouts",
                           {"name": "b", "release": "fw-2.0.bin", "group": "fleet",
                            "phases": [{"percent": 100}]}, token=self.op)
        self.assertEqual(r.status, 409, r)
        self.assertIn("rollout %d" % a["id"], r.json()["error"]["message"])
        b = self.create("fw-2.0.bin", [{"percent": 100}], priority=5)
        self.assertEqual(b["priority"], 5)
        for x in (a, b):
            self.api("POST", "/api/v1/rollouts/%d/abort" % x["id"], {})
        out = self.cli(["rollout", "list"]).stdout.decode()
        self.assertIn("aborted", out)
        # The CLI builds a specification from options over a --spec file.
        spec = self.path("spec.json")
        with open(spec, "w") as f:
            json.dump({"phases": [{"percent": 100}], "priority": 7, "retries": 2}, f)
        out = self.cli(["--json", "rollout", "create", "--name", "cli", "--release",
                        "fw-2.0.bin", "--group", "fleet", "--spec", spec, "--retries", "1",
                        "--phase", "10%:1m:90:2:abort", "--phase", "100%",
                        "--window", "weekdays,22:00-04:00"], token=self.op).stdout
        ro = json.loads(out)
        self.assertEqual(ro["priority"], 7)
        self.assertEqual(ro["spec"]["retries"], 1)
        first = ro["spec"]["phases"][0]
        self.assertEqual((first["percent"], first["success"], first["failure"]["count"],
                          first["failure"]["action"]), (10, 90, 2, "abort"))
        self.assertEqual(len(ro["spec"]["windows"]), 5)
        self.api("POST", "/api/v1/rollouts/%d/abort" % ro["id"], {"reason": "done"})
        self.assertEqual(self.rollout(ro["id"])["reason"], "aborted by user:op: done")
        p = self.cli(["rollout", "create", "--name", "x", "--release", "fw-2.0.bin",
                      "--group", "fleet", "--phase", "10x"], token=self.op, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--phase", p.stderr.decode())


if __name__ == "__main__":
    unittest.main()
