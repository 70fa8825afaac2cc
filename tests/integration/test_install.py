"""`cmake --install` of the build into a temporary prefix: the binaries, with
fleetpatch-agentd next to fleetpatch-agent; the agent's systemd unit, its
install modules at the agent's default module_dir (under the prefix) and the
reference bootloader scripts; the docs the unit points at. The installed
agent, run from the prefix, enrols with a real server and idles as
fleetpatch-agentd from the same directory."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from fpharness import BUILD, TIMEOUT, Operator, Server


def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-install-")
        self.prefix = os.path.join(self.tmp.name, "usr")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", self.prefix],
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def tearDown(self):
        self.tmp.cleanup()

    def test_layout(self):
        p = lambda *a: os.path.join(self.prefix, *a)
        for b in ("fleetpatchd", "fleetpatch", "fleetpatch-agent", "fleetpatch-agentd"):
            self.assertTrue(os.access(p("bin", b), os.X_OK), b)
        self.assertTrue(os.access(p("lib", "fleetpatch", "modules", "swap"), os.X_OK))
        unit = open(p("lib", "systemd", "system", "fleetpatch-agent.service")).read()
        self.assertIn("ExecStart=/usr/bin/fleetpatch-agent run", unit)
        # The documentation the unit names is installed where it says.
        doc = [x.split("file:///usr/", 1)[1] for x in unit.splitlines()
               if x.startswith("Documentation=file:///usr/")]
        self.assertEqual(len(doc), 1)
        self.assertTrue(os.path.isfile(p(doc[0])), doc[0])
        for f in ("uboot-boot.cmd", "grub.cfg"):
            self.assertTrue(os.path.isfile(p("share", "fleetpatch", "bootloader", f)), f)
        self.assertTrue(os.path.isfile(p("share", "doc", "fleetpatch", "api", "openapi.yaml")))

    def test_installed_agent_runs(self):
        s = Server(config="poll_interval_seconds = 5\n").start()
        try:
            t = s.login()
            op = Operator(s, t, self.tmp.name).init_root()
            d = os.path.join(self.tmp.name, "dev")
            os.makedirs(d)
            with open(os.path.join(d, "agent.conf"), "w") as f:
                f.write("server = %s\nidentity = serial:installed\nmodel = sim-1\n"
                        "tuf_root = %s\npoll_interval_seconds = 3600\n" % (s.url, op.root))
            agent = os.path.join(self.prefix, "bin", "fleetpatch-agent")
            log = open(os.path.join(d, "agent.log"), "wb")
            proc = subprocess.Popen([agent, "--simulate", d], stdout=log, stderr=log)
            try:
                deadline = time.time() + 4 * TIMEOUT
                found = None
                while time.time() < deadline and not found:
                    r = s.request("GET", "/api/v1/devices?per_page=100", token=t).json()
                    found = [x for x in r["items"] if x["identity"] == "serial:installed"]
                    time.sleep(0.1)
                self.assertTrue(found, open(os.path.join(d, "agent.log")).read())
                # Between polls: the installed fleetpatch-agentd, from the same directory.
                while time.time() < deadline and exe(proc.pid) != agent + "d":
                    time.sleep(0.05)
                self.assertEqual(exe(proc.pid), agent + "d")
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
                log.close()
        finally:
            s.close()
        shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
