"""A lost journal (a file without one valid record), end to end against a
real fleetpatchd: the agent keeps a copy of its last idle record
(state/journal.idle) and from it (docs/design/agent.md, "Journal"):

- booted on the committed slot, it is idle there and reports the version
  that slot really holds (2.0 after an update), not the configured one;
- booted on the other slot in the middle of an update (killed during the
  trial boot's health check), it does not trust that slot: it rolls back to
  the committed slot and reboots into it; the assignment then installs anew;
- without the copy, it starts over idle on the booted slot with the
  configured version, and says so.
"""
import os
import signal
import subprocess
import tempfile
import unittest

from fpharness import BUILD, TIMEOUT, Operator, Server, agent_log, kill_all, wait_for

AGENT = os.path.join(BUILD, "fleetpatch-agent")
WAIT = 4 * TIMEOUT


def rd(path):
    with open(path, "rb") as f:
        return f.read()


class AgentJournalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-agent-journal-")
        cls.s = Server(config="poll_interval_seconds = 5\n").start()
        cls.t = cls.s.login()
        cls.op = Operator(cls.s, cls.t, cls.tmp.name).init_root()
        cls.fw = {}
        for version, counter in (("2.0", 2), ("3.0", 3)):
            name = "fw-%s.bin" % version
            cls.fw[name] = version.encode() * 1000 + os.urandom(200000)
            cls.op.release(name, cls.fw[name], version, counter)
        cls.procs = []

    @classmethod
    def tearDownClass(cls):
        kill_all(cls.procs)
        cls.s.close()
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    def conf(self, d, name, extra=""):
        with open(os.path.join(d, "agent.conf"), "w") as f:
            f.write("server = %s\nidentity = serial:%s\nmodel = sim-1\ntuf_root = %s\n"
                    "poll_interval_seconds = 1\n%s" % (self.s.url, name,
                                                       self.op.root, extra))

    def start(self, d):
        log = open(os.path.join(d, "agent.log"), "ab")
        pr = subprocess.Popen([AGENT, "--simulate", d], stdout=log, stderr=log)
        log.close()
        self.procs.append(pr)
        return pr

    def once(self, d):
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stderr.decode("utf-8", "replace")

    def log(self, d):
        return agent_log(d)

    def wait(self, what, fn, d):
        return wait_for(what, fn, WAIT, lambda: self.log(d)[-4000:])

    def dev(self, ident):
        r = self.s.request("GET", "/api/v1/devices?per_page=1000", token=self.t).json()
        return next((x for x in r["items"] if x["identity"] == "serial:" + ident), None)

    def updated(self, name):
        """A device that enrolled and installed 2.0 into slot B; the agent is stopped."""
        d = self.path(name)
        os.makedirs(d)
        self.conf(d, name)
        pr = self.start(d)
        dev = self.wait("enrolment", lambda: self.dev(name), d)
        self.s.request("POST", "/api/v1/devices/%d/accept" % dev["id"], token=self.t)
        self.wait("1.0", lambda: self.dev(name).get("firmware_version") == "1.0", d)
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev["id"],
                           {"target": "fw-2.0.bin"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        self.wait("2.0", lambda: self.dev(name).get("firmware_version") == "2.0", d)
        pr.terminate()
        self.assertEqual(pr.wait(timeout=TIMEOUT), 0)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"B")
        self.assertTrue(os.path.exists(os.path.join(d, "state", "journal.idle")))
        return d, dev["id"]

    def lose_journal(self, d):
        with open(os.path.join(d, "state", "journal"), "wb") as f:
            f.write(os.urandom(300))

    def test_1_idle_on_the_committed_slot(self):
        d, dev = self.updated("j1")
        # The server has 2.0: a report of the configured version would set it back to 1.0.
        self.lose_journal(d)
        err = self.once(d)
        self.assertIn("journal has no valid record", err)
        self.assertIn("journal restored from the copy of the last idle record", err)
        self.assertIn("booted=B version=2.0", err)
        j = self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()
        self.assertEqual(j["firmware_version"], "2.0")
        self.assertEqual(j["attributes"]["fp_slot"], "B")
        self.assertEqual(j["attributes"]["fp_state"], "idle")
        # The restored state carries on: the next update goes to slot A.
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev,
                           {"target": "fw-3.0.bin"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        for _ in range(3):  # download+switch+reboot+commit happen within one --once run
            self.once(d)
            if rd(os.path.join(d, "booted")).strip() == b"A":
                break
        self.assertEqual(rd(os.path.join(d, "slot-a.img")), self.fw["fw-3.0.bin"])
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.fw["fw-2.0.bin"])

    def test_2_lost_during_a_trial_boot(self):
        d, dev = self.updated("j2")
        # The next update's trial boot of slot A hangs in its health check; power cut there.
        self.conf(d, "j2", "health_command = sleep 60\n")
        before = self.log(d).count("to=health")
        pr = self.start(d)
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev,
                           {"target": "fw-3.0.bin"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        self.wait("the trial boot's health check", lambda: self.log(d).count("to=health") > before, d)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        pr.send_signal(signal.SIGKILL)
        pr.wait()
        self.lose_journal(d)
        self.conf(d, "j2")
        err = self.once(d)
        self.assertIn("returning to the committed slot B", err, err)
        # Rolled back first: the bootloader back on B, a reboot (the simulated one
        # re-executes) into B, which holds 2.0...
        i = err.index("returning to the committed slot B")
        self.assertRegex(err[i:], r'msg="rebooting".*\n.*msg="started" identity=serial:j2 '
                         r'booted=B state=rollback version=2\.0')
        self.assertRegex(err[i:], r"from=rollback to=idle")
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.fw["fw-2.0.bin"])
        # ... and then the assignment, still 3.0 on the server, is installed again
        # from the start and committed after a healthy trial boot.
        self.assertRegex(err[i:], r"from=idle to=download target=fw-3\.0\.bin")
        self.assertIn("msg=\"update committed\" target=fw-3.0.bin", err)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        self.assertEqual(rd(os.path.join(d, "slot-a.img")), self.fw["fw-3.0.bin"])
        env = dict(x.split("=", 1) for x in rd(os.path.join(d, "bootenv")).decode().split("\n")
                   if "=" in x)
        self.assertEqual(env["BOOT_ORDER"], "A B")
        j = self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()
        self.assertEqual(j["firmware_version"], "3.0")

    def test_3_no_copy(self):
        d, dev = self.updated("j3")
        os.unlink(os.path.join(d, "state", "journal.idle"))
        self.lose_journal(d)
        err = self.once(d)
        self.assertIn("no copy of the last idle record; idle on the booted slot", err)
        self.assertIn("copy=missing version=1.0", err)
        # The copy is written again, from the state the agent now believes.
        self.assertTrue(os.path.exists(os.path.join(d, "state", "journal.idle")))
        # A damaged copy is refused the same way.
        with open(os.path.join(d, "state", "journal.idle"), "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xff")
        self.lose_journal(d)
        err = self.once(d)
        self.assertIn("copy=damaged", err)


if __name__ == "__main__":
    unittest.main()
