"""The agent between polls: `fleetpatch-agent --simulate DIR` execs
fleetpatch-agentd, which holds nothing but a timer and runs the agent once
per poll as a short-lived worker (docs/design/agent.md, "Idle memory").

Checked against a real fleetpatchd and a release published with the real
CLI: between polls only fleetpatch-agentd is running; SIGUSR1 polls now; a
worker continues the session of the one before (no new authentication, the
session file is 0600); a corrupt session file is refused and the agent
authenticates again; an update installs, reboots and commits through the
workers; kill -9 of fleetpatch-agentd takes a busy worker with it (a power
cut), SIGTERM stops both; a worker that cannot start is retried;
--single-process polls from one process; a missing fleetpatch-agentd is a
clear error."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from fpharness import BUILD, TIMEOUT, Operator, Server, agent_log, kill_all, wait_for

AGENT = os.path.join(BUILD, "fleetpatch-agent")
WAIT = 4 * TIMEOUT


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def tree(root):
    """root and its descendants that are alive, from /proc/*/stat."""
    children = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open("/proc/%s/stat" % e) as f:
                    st = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if st[0] != "Z":
                children.setdefault(int(st[1]), []).append(int(e))
    out, todo = [], [root]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(children.get(x, []))
    return out


def exe(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return None


class AgentIdleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-agent-idle-")
        cls.s = Server(config="poll_interval_seconds = 5\n").start()
        cls.t = cls.s.login()
        cls.procs = []
        cls.op = Operator(cls.s, cls.t, cls.tmp.name).init_root()
        cls.image = b"2.0" * 1000 + os.urandom(300000)
        cls.op.release("fw-2.0.bin", cls.image, "2.0", 2)

    @classmethod
    def tearDownClass(cls):
        kill_all(cls.procs)
        cls.s.close()
        cls.tmp.cleanup()

    def device(self, name, server=None, poll=3600):
        d = os.path.join(self.tmp.name, name)
        os.makedirs(d)
        with open(os.path.join(d, "agent.conf"), "w") as f:
            f.write("server = %s\nidentity = serial:%s\nmodel = sim-1\ntuf_root = %s\n"
                    "poll_interval_seconds = %d\nstall_timeout_seconds = 5\n" %
                    (server or self.s.url, name, self.op.root,
                     poll))
        return d

    def start(self, d, *extra, agent=AGENT):
        log = open(os.path.join(d, "agent.log"), "ab")
        p = subprocess.Popen([agent, "--simulate", d, "-v"] + list(extra), stdout=log,
                             stderr=log)
        log.close()
        self.procs.append(p)
        return p

    def log(self, d):
        return agent_log(d)

    def wait(self, what, fn, d=None):
        return wait_for(what, fn, WAIT, (lambda: self.log(d)[-4000:]) if d else None)

    def find(self, identity):
        r = self.s.request("GET", "/api/v1/devices?per_page=1000", token=self.t).json()
        for x in r["items"]:
            if x["identity"] == identity:
                return x
        return None

    def dev(self, dev):
        return self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()

    def idle(self, p, d):
        """Waits until no worker runs: the process tree is fleetpatch-agentd alone."""
        self.wait("an idle agent", lambda: [exe(x) for x in tree(p.pid)] == ["fleetpatch-agentd"],
                  d)

    def test_1_workers_between_polls(self):
        d = self.device("idle1")
        p = self.start(d)
        dev = self.wait("enrolment request", lambda: self.find("serial:idle1"), d)
        self.idle(p, d)
        # Not accepted yet, and the next poll is an hour away: SIGUSR1 polls now.
        r = self.s.request("POST", "/api/v1/devices/%d/accept" % dev["id"], token=self.t)
        self.assertEqual(r.status, 200, r)
        p.send_signal(signal.SIGUSR1)
        # The enrolment request already told the server 1.0: wait for the session itself.
        self.wait("the first session",
                  lambda: self.log(d).count("msg=\"authenticated\"") == 1, d)
        self.idle(p, d)
        self.assertEqual(self.dev(dev["id"]).get("firmware_version"), "1.0")
        session = os.path.join(d, "state", "session")
        self.assertEqual(os.stat(session).st_mode & 0o777, 0o600)
        self.assertTrue(rd(session).startswith(b"fleetpatch-agent-session 1\n"))
        self.assertEqual(self.log(d).count("msg=\"authenticated\""), 1)
        # The next worker continues the session: it starts and polls, without a new login.
        starts = self.log(d).count("msg=\"started\"")
        bootenv = os.stat(os.path.join(d, "bootenv")).st_mtime_ns
        p.send_signal(signal.SIGUSR1)
        self.wait("a third worker", lambda: self.log(d).count("msg=\"started\"") == starts + 1, d)
        self.idle(p, d)
        self.assertEqual(self.log(d).count("msg=\"authenticated\""), 1, self.log(d))
        self.assertNotIn("inventory sent", self.log(d).split("msg=\"started\"")[-1])
        # A poll is not a boot: the simulated bootloader did not run again, so slot A
        # keeps the 3 attempts its first start marked good (docs/design/agent.md)...
        env = dict(x.split("=", 1) for x in rd(os.path.join(d, "bootenv")).decode().split("\n")
                   if "=" in x)
        self.assertEqual((env["BOOT_ORDER"], env["BOOT_A_LEFT"]), ("A B", "3"))
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        # ... nor did anything write the boot environment (flash).
        self.assertEqual(os.stat(os.path.join(d, "bootenv")).st_mtime_ns, bootenv)
        # A corrupt session file is refused; the worker authenticates again.
        with open(session, "wb") as f:
            f.write(b"fleetpatch-agent-session 1\ntoken=\x01\n")
        p.send_signal(signal.SIGUSR1)
        self.wait("a new session", lambda: self.log(d).count("msg=\"authenticated\"") == 2, d)
        self.assertIn("session file refused", self.log(d))
        self.idle(p, d)
        # An update: download, switch, reboot (the worker re-executes), health check, commit.
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev["id"],
                           {"target": "fw-2.0.bin"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        p.send_signal(signal.SIGUSR1)
        self.wait("version 2.0 reported",
                  lambda: self.dev(dev["id"]).get("firmware_version") == "2.0", d)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"B")
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.image)
        self.assertIn("update committed", self.log(d))
        # The reboot ended the session: the rebooted device authenticated anew.
        self.assertEqual(self.log(d).count("msg=\"authenticated\""), 3, self.log(d))
        self.idle(p, d)
        p.terminate()
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        self.assertIn("fleetpatch-agentd: level=info msg=\"stopped\"", self.log(d))

    def silent_server(self):
        """A listener that accepts and never answers: a worker waits in its check-in."""
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        self.addCleanup(ls.close)
        return "http://127.0.0.1:%d" % ls.getsockname()[1]

    def busy_worker(self, p, d):
        return self.wait("a worker", lambda: exe(p.pid) == "fleetpatch-agentd" and [
            x for x in tree(p.pid)[1:] if exe(x) == "fleetpatch-agent"], d)[0]

    def test_2_power_cut_and_stop(self):
        url = self.silent_server()
        d = self.device("idle2", server=url)
        p = self.start(d)
        w = self.busy_worker(p, d)
        # kill -9 of fleetpatch-agentd is a power cut: the worker goes with it.
        p.kill()
        p.wait()
        self.wait("the worker gone", lambda: not os.path.exists("/proc/%d/exe" % w)
                  or exe(w) != "fleetpatch-agent", d)
        # SIGTERM stops the worker in its transfer, then fleetpatch-agentd.
        p = self.start(d)
        w = self.busy_worker(p, d)
        t0 = time.monotonic()
        p.terminate()
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        self.assertLess(time.monotonic() - t0, 30)  # not the 60 s API timeout
        self.assertFalse(os.path.exists("/proc/%d/exe" % w) and exe(w) == "fleetpatch-agent")
        self.assertIn("stopped (SIGTERM)", self.log(d))

    def test_3_worker_that_cannot_start(self):
        d = self.device("idle3")
        p = self.start(d)
        self.wait("enrolment request", lambda: self.find("serial:idle3"), d)
        self.idle(p, d)
        # The journal cannot be opened: the poll fails, fleetpatch-agentd stays and retries.
        journal = os.path.join(d, "state", "journal")
        os.rename(journal, journal + ".away")
        os.mkdir(journal)
        p.send_signal(signal.SIGUSR1)
        self.wait("a failed poll", lambda: "the poll ended without a report" in self.log(d), d)
        self.assertIn("exit=1", self.log(d).split("the poll ended without a report")[1])
        self.assertIsNone(p.poll())
        os.rmdir(journal)
        os.rename(journal + ".away", journal)
        starts = self.log(d).count("msg=\"started\"")
        p.send_signal(signal.SIGUSR1)
        self.wait("a good poll again", lambda: self.log(d).count("msg=\"started\"") > starts, d)
        self.idle(p, d)
        p.terminate()
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)

    def test_4_single_process_and_missing_supervisor(self):
        d = self.device("idle4", poll=1)
        p = self.start(d, "--single-process")
        self.wait("enrolment request", lambda: self.find("serial:idle4"), d)
        self.wait("a few polls", lambda: self.log(d).count("not accepted yet") >= 2, d)
        self.assertEqual([exe(x) for x in tree(p.pid)], ["fleetpatch-agent"])
        p.terminate()
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        # The agent without fleetpatch-agentd next to it: a clear error, not a silent fallback.
        lone = os.path.join(self.tmp.name, "lone")
        os.makedirs(lone)
        shutil.copy(AGENT, lone)
        r = subprocess.run([os.path.join(lone, "fleetpatch-agent"), "--simulate", d],
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"fleetpatch-agentd", r.stderr)
        self.assertIn(b"--single-process", r.stderr)
        # Its options are the agent's own; a bad one is a usage error before any exec.
        r = subprocess.run([AGENT, "--simulate", d, "--worker", "x", "--report-fd", "3"],
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--worker: not a number", r.stderr)


if __name__ == "__main__":
    unittest.main()
