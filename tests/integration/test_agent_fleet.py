"""`fleetpatch-agent fleet`: 50 simulated devices in ONE process against a real
fleetpatchd. A release is published with the real CLI and assigned to every
device; five devices are told to fail their health check. The 45 others must
install, reboot (in-process, no re-exec), pass the check, commit and report
the new version; the five must roll back and report why. The fleet's pid
never changes and no other agent process appears."""
import os
import re
import signal
import tempfile
import time
import unittest

from fpharness import BUILD, TIMEOUT, Fleet, Operator, Server

AGENT = os.path.join(BUILD, "fleetpatch-agent")
COUNT = 50
FAILING = (3, 11, 22, 37, 49)
IMAGE_SIZE = 64 * 1024


def agent_pids():
    """The pids of the fleetpatch-agent processes this test started (its children)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except OSError:
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if os.path.basename(argv0) == b"fleetpatch-agent" and ppid == os.getpid():
            pids.append(int(p))
    return pids


class FleetTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-fleet-")
        self.s = Server(config="poll_interval_seconds = 5\n").start()
        self.t = self.s.login()
        self.fleet = None

    def tearDown(self):
        if self.fleet:
            self.fleet.stop(signal.SIGKILL)
        self.s.close()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def publish(self, name, version, counter):
        """One offline key for root and targets, one release."""
        self.op = Operator(self.s, self.t, self.tmp.name).init_root()
        self.op.release(name, version.encode() * 100 + os.urandom(IMAGE_SIZE - 3 * 100),
                        version, counter)

    def devices(self):
        r = self.s.request("GET", "/api/v1/devices?per_page=1000", token=self.t)
        self.assertEqual(r.status, 200, r)
        return {x["identity"]: x for x in r.json()["items"]}

    def wait(self, what, fn, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.25)
        self.fail("timed out waiting for %s\n%s" % (what, self.fleet.read_log()[-5000:]))

    def test_fleet_of_50_in_one_process(self):
        self.publish("fw-2.0.bin", "2.0", 2)
        base = self.path("fleet")
        self.fleet = Fleet(self.s, base, COUNT, self.op.root,
                           extra_args=["--timezone", "Europe/Berlin"])
        for i in FAILING:
            os.makedirs(self.fleet.dir(i))
            with open(os.path.join(self.fleet.dir(i), "health-fail"), "w") as f:
                f.write("fail\n")
        # An agent.conf that is already there wins over the fleet's options.
        os.makedirs(self.fleet.dir(7))
        with open(os.path.join(self.fleet.dir(7), "agent.conf"), "w") as f:
            f.write("server = %s\nidentity = fleet-00007\nmodel = sim-1\n"
                    "firmware_version = 1.0\ntuf_root = %s\npoll_interval_seconds = 1\n"
                    "timezone = Asia/Tokyo\n" % (self.s.url, self.op.root))
        before = set(agent_pids())
        t0 = time.time()
        self.fleet.start()
        pid = self.fleet.proc.pid
        ids = self.fleet.accept_all(self.t)
        self.assertEqual(len(ids), COUNT)
        self.wait("first reports", lambda: sum(
            1 for d in self.devices().values()
            if d["identity"].startswith("fleet-") and d.get("firmware_version") == "1.0")
            == COUNT, 4 * TIMEOUT)
        versions = {}
        for i in range(COUNT):
            r = self.s.request("POST", "/api/v1/devices/%d/assignment" % ids[
                self.fleet.identity(i)], {"target": "fw-2.0.bin"}, token=self.t)
            self.assertEqual(r.status, 200, r)
            versions[self.fleet.identity(i)] = r.json()["version"]

        def settled():
            devs = self.devices()
            done = [d for d in devs.values() if d["identity"].startswith("fleet-") and
                    d.get("attributes", {}).get("fp_update_status") in ("installed", "failed")]
            return devs if len(done) == COUNT else None

        devs = self.wait("every device to finish its update", settled, 4 * TIMEOUT)
        elapsed = time.time() - t0
        for i in range(COUNT):
            d = devs[self.fleet.identity(i)]
            a = d["attributes"]
            self.assertEqual(a["fp_assignment_version"], str(versions[d["identity"]]), d)
            self.assertEqual(a["timezone"], "Asia/Tokyo" if i == 7 else "Europe/Berlin")
            if i in FAILING:
                self.assertEqual(d["firmware_version"], "1.0", d)
                self.assertEqual(a["fp_update_status"], "failed", d)
                self.assertIn("the health check failed", a["fp_last_error"])
                self.assertIn("health-fail", a["fp_last_error"])
                self.assertEqual(a["fp_slot"], "A")
                self.assertEqual(a["fp_reboots"], "2")  # into B, and back into A
            else:
                self.assertEqual(d["firmware_version"], "2.0", d)
                self.assertEqual(a["fp_update_status"], "installed", d)
                self.assertEqual(a["fp_last_error"], "")
                self.assertEqual(a["fp_slot"], "B")
                self.assertEqual(a["fp_reboots"], "1")
                with open(os.path.join(self.fleet.dir(i), "booted")) as f:
                    self.assertEqual(f.read().strip(), "B")
        # One process all along: the same pid, never re-executed, no other agent.
        self.assertIsNone(self.fleet.proc.poll())
        self.assertEqual(set(agent_pids()) - before, {pid})
        log = self.fleet.read_log()
        self.assertEqual(log.count("fleet started"), 1, log[-5000:])
        self.assertLess(elapsed, 60, "the fleet took %.1f s" % elapsed)
        self.assertEqual(self.fleet.stop(), 0, log[-5000:])
        log = self.fleet.read_log()
        self.assertIn("fleet stopped", log)
        self.assertIsNone(re.search(r"AddressSanitizer|LeakSanitizer|runtime error:", log),
                          log[-20000:])
        # Errors only by default: the health failures, nothing else per device.
        for line in log.splitlines():
            if "level=" in line and "level=info" not in line:
                self.assertRegex(line, r"device=fleet-000(03|11|22|37|49) ", line)

    def test_boot_hang_and_wrong_hardware_per_device(self):
        """A simulated boot hang restarts only that device, in-process, until the
        bootloader falls back, while its neighbour installs; a device's own
        agent.conf (another model) wins over the fleet's options."""
        self.publish("fw-2.0.bin", "2.0", 2)
        self.fleet = Fleet(self.s, self.path("fleet"), 3, self.op.root)
        os.makedirs(self.fleet.dir(1))
        with open(os.path.join(self.fleet.dir(1), "boot-hang"), "w") as f:
            f.write("hang\n")
        os.makedirs(self.fleet.dir(2))
        with open(os.path.join(self.fleet.dir(2), "agent.conf"), "w") as f:
            f.write("server = %s\nidentity = fleet-00002\nmodel = other-9\n"
                    "tuf_root = %s\npoll_interval_seconds = 1\n" % (
                        self.s.url, self.op.root))
        self.fleet.start()
        pid = self.fleet.proc.pid
        ids = self.fleet.accept_all(self.t)
        for i in range(3):
            r = self.s.request("POST", "/api/v1/devices/%d/assignment" % ids[
                self.fleet.identity(i)], {"target": "fw-2.0.bin"}, token=self.t)
            # The server already refuses the release for the other model.
            self.assertEqual(r.status, 422 if i == 2 else 200, r)

        def attrs(i):
            d = self.devices()[self.fleet.identity(i)]
            return d, d.get("attributes", {})

        self.wait("both outcomes", lambda: all(
            attrs(i)[1].get("fp_update_status") in ("installed", "failed") for i in range(2)),
            4 * TIMEOUT)
        d, a = attrs(0)
        self.assertEqual((d["firmware_version"], a["fp_update_status"]), ("2.0", "installed"))
        d, a = attrs(1)
        self.assertEqual((d["firmware_version"], a["fp_update_status"]), ("1.0", "failed"))
        self.assertIn("fell back", a["fp_last_error"])
        self.assertEqual(a["fp_reboots"], "1")  # into B; the hangs and fallback are no request
        d, a = attrs(2)
        self.assertEqual((d["model"], a["fp_update_status"]), ("other-9", "none"))
        self.assertEqual(self.fleet.proc.pid, pid)
        self.assertIsNone(self.fleet.proc.poll())
        self.assertEqual(self.fleet.stop(), 0)


if __name__ == "__main__":
    unittest.main()
