"""The device agent end to end: a real fleetpatchd, a release published with
the real CLI, and real `fleetpatch-agent --simulate DIR` devices that enrol
(accepted through the API), get an assignment, download it into slot B,
switch the simulated bootloader, "reboot" (re-exec), pass the health check,
commit and report the version they run. Also: a failing health check rolls
back to slot A and reports why; a hostile server (through a proxy) that
sends a wrong image, replays an old assignment, or cuts a download short
(which resumes with a Range request); wrong hardware; a corrupt journal."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import urllib.parse

from fpharness import BUILD, SOURCE, TIMEOUT, Operator, Server, agent_log, wait_for

AGENT = os.path.join(BUILD, "fleetpatch-agent")
WAIT = 4 * TIMEOUT
FW_SIZE = 6 * 1024 * 1024 + 12345  # over one 4 MiB sync step (download_sync_mib), to test resume


def rd(path):
    with open(path, "rb") as f:
        return f.read()


class Proxy:
    """A hostile (or flaky) server in front of the real one: modes change
    what it does to the agent's requests."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = set()
        self.ranges = []
        self.saved_assignment = None
        self.cut_done = False
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                proxy.handle(self)

            def do_POST(self):
                proxy.handle(self)

            def do_PUT(self):
                proxy.handle(self)

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the agent hangs up on answers it refuses

        self.httpd = Quiet(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def forward(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else None
        hdrs = {k: v for k, v in h.headers.items()
                if k.lower() in ("authorization", "x-fp-signature", "content-type", "range")}
        req = urllib.request.Request(self.upstream + h.path, data=body, method=h.command,
                                     headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def reply(self, h, status, headers, data, send=None):
        h.send_response(status)
        for k, v in headers.items():
            if k.lower() in ("content-type", "content-range", "accept-ranges", "etag"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data if send is None else data[:send])
        h.wfile.flush()

    def handle(self, h):
        path = h.path
        if path.startswith("/api/v1/device/artifacts/"):
            self.ranges.append(h.headers.get("Range"))
        if path == "/api/v1/device/checkin" and "loop" in self.mode:
            h.send_response(302)
            h.send_header("Location", path)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if path == "/api/v1/device/checkin" and "huge" in self.mode:
            self.reply(h, 200, {}, b"{" + b" " * (2 << 20) + b"}")
            return
        if path == "/api/v1/device/checkin" and "badcheckin" in self.mode:
            self.reply(h, 200, {}, b'{"poll_interval_s": "soon", "assignment": {"version": -1}}')
            return
        if path == "/api/v1/device/checkin" and "slow" in self.mode:
            # A byte a second: under the agent's low-speed limit for its stall timeout.
            h.send_response(200)
            h.send_header("Content-Length", "100")
            h.end_headers()
            try:
                for _ in range(12):
                    h.wfile.write(b" ")
                    h.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            h.close_connection = True
            return
        status, headers, data = self.forward(h)
        if path == "/api/v1/device/assignment" and status == 200:
            if "replay" in self.mode and self.saved_assignment:
                data = self.saved_assignment
            elif self.saved_assignment is None:
                self.saved_assignment = data
        if path == "/api/v1/device/checkin" and "replay" in self.mode:
            j = json.loads(data)
            j["assignment"] = {"version": 99, "url": "/api/v1/device/assignment"}
            data = json.dumps(j).encode()
        if path.startswith("/api/v1/device/artifacts/") and status in (200, 206):
            if "corrupt" in self.mode:
                data = bytes([data[0] ^ 1]) + data[1:]
            if "cut" in self.mode and not self.cut_done:
                # Promise the whole body, send 5 MiB of it, and drop the connection.
                self.cut_done = True
                self.reply(h, status, headers, data, send=5 * 1024 * 1024)
                h.close_connection = True
                return
        self.reply(h, status, headers, data)


class AgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-agent-")
        cls.s = Server(config="poll_interval_seconds = 5\n").start()
        cls.t = cls.s.login()
        cls.procs = []
        cls.publish()

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        # A sanitizer report in any agent's log fails the run.
        import glob
        import re
        reports = []
        for log in glob.glob(os.path.join(cls.tmp.name, "*", "agent.log")):
            if re.search(rb"AddressSanitizer|LeakSanitizer|runtime error:", rd(log)):
                reports.append(log)
        cls.s.close()
        cls.tmp.cleanup()
        if reports:
            raise AssertionError("sanitizer reports in %s" % reports)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    def publish(cls):
        """One offline key for root and targets; the releases, as an operator does it."""
        cls.op = Operator(cls.s, cls.t, cls.tmp.name).init_root()
        cls.fw = {}
        for name, version, counter, backend in (("fw-2.0.bin", "2.0", 2, "ab"),
                                                ("fw-3.0.bin", "3.0", 3, "ab"),
                                                ("app-1.0.pkg", "1.0", 1, "pkg"),
                                                ("cfg-1.bin", "1", 1, "swap"),
                                                ("cfg-2.bin", "2", 1, "swap")):
            data = (version.encode() * 1000) + os.urandom(FW_SIZE - 3000)
            if backend != "ab":
                data = data[:100000]
            cls.fw[name] = data
            cls.op.release(name, data, version, counter, backend=backend)

    def device(self, name, server=None, model="sim-1", extra=""):
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "agent.conf"), "w") as f:
            f.write("server = %s\nidentity = serial:%s\nmodel = %s\ntuf_root = %s\n"
                    "poll_interval_seconds = 1\nstall_timeout_seconds = 5\ndownload_sync_mib = 4\n%s" %
                    (server or self.s.url, name, model, self.op.root, extra))
        return d

    def start(self, d):
        log = open(os.path.join(d, "agent.log"), "ab")
        p = subprocess.Popen([AGENT, "--simulate", d], stdout=log, stderr=log)
        log.close()
        self.procs.append(p)
        return p

    def stop(self, p):
        p.terminate()
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)

    def log(self, d):
        return agent_log(d)

    def wait(self, what, fn, d=None):
        return wait_for(what, fn, WAIT, (lambda: self.log(d)) if d else None, step=0.2)

    def find(self, identity):
        r = self.s.request("GET", "/api/v1/devices?per_page=1000", token=self.t).json()
        for x in r["items"]:
            if x["identity"] == identity:
                return x
        return None

    def enrol(self, name, d):
        dev = self.wait("enrolment request", lambda: self.find("serial:" + name), d)
        self.assertEqual(dev["status"], "pending")
        r = self.s.request("POST", "/api/v1/devices/%d/accept" % dev["id"], token=self.t)
        self.assertEqual(r.status, 200, r)
        return dev["id"]

    def assign(self, dev, target):
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev, {"target": target},
                           token=self.t)
        self.assertEqual(r.status, 200, r)

    def dev(self, dev):
        return self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()

    def bootenv(self, d):
        return dict(l.split("=", 1) for l in rd(os.path.join(d, "bootenv")).decode().split("\n")
                    if "=" in l)

    def test_1_install_reboot_commit(self):
        d = self.device("sim1")
        p = self.start(d)
        dev = self.enrol("sim1", d)
        key = rd(os.path.join(d, "state", "device.key"))
        self.assertIn(b"PRIVATE KEY", key)
        self.assertEqual(os.stat(os.path.join(d, "state", "device.key")).st_mode & 0o777, 0o600)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        self.assign(dev, "fw-2.0.bin")
        self.wait("version 2.0 reported",
                  lambda: self.dev(dev).get("firmware_version") == "2.0", d)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"B")
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.fw["fw-2.0.bin"])
        env = self.bootenv(d)
        self.assertEqual(env["BOOT_ORDER"], "B A")
        attrs = self.dev(dev)["attributes"]
        self.assertEqual(attrs["fp_update_status"], "installed")
        self.assertEqual(attrs["fp_slot"], "B")
        self.assertEqual(attrs["fp_reboots"], "1")
        self.assertEqual(attrs["fp_download_bytes"], str(FW_SIZE))
        log = self.log(d)
        for line in ("made the device key pair", "assignment verified", "to=reboot",
                     "health check\" ok=1", "update committed"):
            self.assertIn(line, log)
        # The next update goes to slot A, and the agent still runs as one process.
        self.assign(dev, "fw-3.0.bin")
        self.wait("version 3.0 reported",
                  lambda: self.dev(dev).get("firmware_version") == "3.0", d)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        self.assertEqual(rd(os.path.join(d, "slot-a.img")), self.fw["fw-3.0.bin"])
        self.assertIsNone(p.poll())
        # A downgrade to a lower security counter is refused, and nothing is written.
        before = rd(os.path.join(d, "slot-b.img"))
        self.assign(dev, "fw-2.0.bin")
        self.wait("downgrade refused",
                  lambda: "downgrade" in self.dev(dev)["attributes"].get("fp_last_error", ""),
                  d)
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), before)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        self.stop(p)

    def test_2_health_check_fails_rolls_back(self):
        d = self.device("sim2")
        with open(os.path.join(d, "health-fail"), "w") as f:
            f.write("fail\n")
        p = self.start(d)
        dev = self.enrol("sim2", d)
        self.assign(dev, "fw-2.0.bin")
        self.wait("rollback reported",
                  lambda: self.dev(dev)["attributes"].get("fp_update_status") == "failed", d)
        attrs = self.dev(dev)["attributes"]
        self.assertIn("the health check failed", attrs["fp_last_error"])
        self.assertIn("health-fail", attrs["fp_last_error"])
        self.assertEqual(self.dev(dev)["firmware_version"], "1.0")
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        env = self.bootenv(d)
        self.assertEqual((env["BOOT_ORDER"], env["BOOT_B_LEFT"]), ("A B", "0"))
        self.assertEqual(attrs["fp_reboots"], "2")  # into B, and back into A
        self.stop(p)

    def test_3_fell_back_to_old_slot(self):
        """The new slot never reaches the agent: the bootloader runs out of attempts."""
        d = self.device("sim3")
        with open(os.path.join(d, "boot-hang"), "w") as f:
            f.write("the new slot hangs\n")
        p = self.start(d)
        dev = self.enrol("sim3", d)
        self.assign(dev, "fw-2.0.bin")
        self.wait("fallback reported",
                  lambda: "fell back" in self.dev(dev)["attributes"].get("fp_last_error", ""),
                  d)
        self.assertEqual(self.log(d).count("simulated hang of the new slot"), 3)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        self.assertEqual(self.dev(dev)["firmware_version"], "1.0")
        self.assertEqual(self.bootenv(d)["BOOT_ORDER"], "A B")
        self.stop(p)

    def test_4_hostile_server(self):
        proxy = Proxy(self.s.url)
        try:
            d = self.device("sim4", server=proxy.url)
            p = self.start(d)
            dev = self.enrol("sim4", d)
            # A wrong image: refused after streaming, the boot slot never switched.
            proxy.mode = {"corrupt"}
            self.assign(dev, "fw-2.0.bin")
            self.wait("wrong image refused",
                      lambda: "did not verify" in
                      self.dev(dev)["attributes"].get("fp_last_error", ""), d)
            self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
            self.assertEqual(self.bootenv(d)["BOOT_ORDER"], "A B")
            self.assertIn("hash", self.dev(dev)["attributes"]["fp_last_error"])
            # A download cut short resumes with a Range request.
            proxy.mode = {"cut"}
            proxy.ranges = []
            self.assign(dev, "fw-3.0.bin")
            self.wait("version 3.0 after a resumed download",
                      lambda: self.dev(dev).get("firmware_version") == "3.0", d)
            self.assertIsNone(proxy.ranges[0])
            self.assertTrue(any(r and r.startswith("bytes=") and r != "bytes=0-"
                                for r in proxy.ranges), proxy.ranges)
            self.assertIn("resuming the download with a Range request", self.log(d))
            self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.fw["fw-3.0.bin"])
            # A redirect loop and an oversized answer end in a clear log line.
            proxy.mode = {"loop"}
            self.wait("redirect loop", lambda: "redirect loop" in self.log(d), d)
            proxy.mode = {"huge"}
            self.wait("oversized answer", lambda: "larger than the cap" in self.log(d), d)
            # A malformed check-in answer is refused whole; a slow one is given up on.
            proxy.mode = {"badcheckin"}
            self.wait("malformed check-in answer",
                      lambda: "check-in answer refused" in self.log(d), d)
            self.assertIn("poll_interval_s must be an integer", self.log(d))
            proxy.mode = {"slow"}
            self.wait("slow answer", lambda: "gave up on a slow transfer" in self.log(d), d)
            # A replayed (older) assignment is refused: the proxy serves the first one.
            proxy.mode = {"replay"}
            self.wait("replay refused", lambda: "replayed assignment" in self.log(d), d)
            self.assertEqual(self.dev(dev)["firmware_version"], "3.0")
            self.stop(p)
        finally:
            proxy.close()

    def test_5_wrong_hardware_and_corrupt_journal(self):
        d = self.device("sim5")
        p = self.start(d)
        dev = self.enrol("sim5", d)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        self.stop(p)
        self.assign(dev, "fw-2.0.bin")
        # The device is not the hardware the release is signed for.
        conf = rd(os.path.join(d, "agent.conf")).replace(b"model = sim-1", b"model = sim-9")
        with open(os.path.join(d, "agent.conf"), "wb") as f:
            f.write(conf)
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"is not for hardware 'sim-9'", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "slot-b.img")))
        # A torn journal tail is cut off and logged; the agent keeps its state.
        with open(os.path.join(d, "state", "journal"), "ab") as f:
            f.write(b"FPJ1\x40\x00\x00\x00garbage")
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"torn or corrupt tail", r.stderr)
        # A journal that is garbage throughout: idle on the booted slot.
        with open(os.path.join(d, "state", "journal"), "wb") as f:
            f.write(os.urandom(300))
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"no valid record", r.stderr)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")

    def test_7_tls_pinned_ca(self):
        """HTTPS: the pinned CA is accepted, another CA is a TLS error."""
        d0 = self.path("tls")
        os.makedirs(d0)
        certs = {}
        for name in ("server", "other"):
            cert, key = os.path.join(d0, name + ".pem"), os.path.join(d0, name + ".key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True,
                           timeout=TIMEOUT)
            certs[name] = (cert, key)
        data = os.path.join(d0, "data")
        os.makedirs(data)
        s = Server(data_dir=data, config="tls_cert = %s\ntls_key = %s\n" % certs["server"])
        log = open(s.log_path, "ab")
        proc = subprocess.Popen([os.path.join(BUILD, "fleetpatchd"), "--listen",
                                 "127.0.0.1:%d" % s.port, "--data-dir", data],
                                stdout=log, stderr=log)
        try:
            url = "https://127.0.0.1:%d" % s.port
            bad = self.device("tls-bad", server=url, extra="ca_file = %s\n" % certs["other"][0])
            r = subprocess.run([AGENT, "--simulate", bad, "--once"], capture_output=True,
                               timeout=WAIT)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"authentication failed", r.stderr)
            self.assertRegex(r.stderr, b"(?i)certificate|SSL|TLS")
            good = self.device("tls-good", server=url,
                               extra="ca_file = %s\n" % certs["server"][0])
            deadline = time.time() + WAIT
            while time.time() < deadline:
                r = subprocess.run([AGENT, "--simulate", good, "--once"], capture_output=True,
                                   timeout=WAIT)
                if b"not accepted yet" in r.stderr:
                    break
                time.sleep(0.2)  # the server may still be starting
            self.assertIn(b"not accepted yet", r.stderr)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
            log.close()

    def test_8_real_mode_hook_bootloader(self):
        """`run --config` as on hardware: slots are plain paths, the bootloader a hook
        program, the booted slot a file, a reboot a command (the test plays the
        bootloader in between); packages come from a dpkg status file."""
        d = self.path("real")
        os.makedirs(os.path.join(d, "root", "var", "lib", "dpkg"))
        with open(os.path.join(d, "root", "var", "lib", "dpkg", "status"), "w") as f:
            f.write("Package: busybox\nStatus: install ok installed\nVersion: 1.36.1-3\n\n"
                    "Package: old\nStatus: deinstall ok config-files\nVersion: 1\n")
        env_file = os.path.join(d, "hookenv")
        hook = os.path.join(d, "hook.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\nenv=%s\ncase \"$1\" in\nget) [ -f \"$env\" ] && cat \"$env\";"
                    " exit 0 ;;\nset) shift; : >\"$env.tmp\"; for kv in \"$@\"; do"
                    " echo \"$kv\" >>\"$env.tmp\"; done; mv \"$env.tmp\" \"$env\" ;;\n"
                    "*) exit 2 ;;\nesac\n" % env_file)
        os.chmod(hook, 0o755)
        with open(os.path.join(d, "slot-a"), "w") as f:
            f.write("factory\n")
        with open(os.path.join(d, "booted"), "w") as f:
            f.write("A\n")
        conf = os.path.join(d, "agent.conf")
        with open(conf, "w") as f:
            f.write("server = %s\nidentity = serial:real\nmodel = sim-1\ntuf_root = %s\n"
                    "poll_interval_seconds = 1\nstate_dir = %s/state\nslot_a = %s/slot-a\n"
                    "slot_b = %s/slot-b\nbooted_slot_file = %s/booted\nbootloader = hook\n"
                    "bootloader_hook = %s\nreboot_command = true\nfirmware_version = 1.0\n"
                    "packages_db = dpkg\npackages_root = %s/root\n"
                    "health_command = test -f %s/slot-b\n" %
                    (self.s.url, self.op.root, d, d, d, d, hook, d, d))

        def start():
            log = open(os.path.join(d, "agent.log"), "ab")
            p = subprocess.Popen([AGENT, "run", "--config", conf], stdout=log, stderr=log)
            log.close()
            self.procs.append(p)
            return p
        p = start()
        dev = self.enrol("real", d)
        self.wait("inventory with packages",
                  lambda: self.dev(dev).get("components"), d)
        self.assertEqual([(c["name"], c.get("version")) for c in self.dev(dev)["components"]],
                         [("busybox", "1.36.1-3")])
        self.assign(dev, "fw-2.0.bin")
        self.wait("reboot requested", lambda: "msg=\"rebooting\"" in self.log(d), d)
        self.stop(p)
        # The bootloader's step: the first slot in BOOT_ORDER with attempts left.
        env = dict(l.split("=", 1) for l in rd(env_file).decode().split("\n") if "=" in l)
        self.assertEqual(env["BOOT_ORDER"], "B A")
        left = int(env["BOOT_B_LEFT"])
        self.assertEqual(left, 3)
        with open(env_file, "w") as f:
            f.write("BOOT_ORDER=B A\nBOOT_A_LEFT=%s\nBOOT_B_LEFT=%d\n" %
                    (env["BOOT_A_LEFT"], left - 1))
        with open(os.path.join(d, "booted"), "w") as f:
            f.write("B\n")
        p = start()
        self.wait("version 2.0 reported", lambda: self.dev(dev).get("firmware_version") == "2.0",
                  d)
        env = dict(l.split("=", 1) for l in rd(env_file).decode().split("\n") if "=" in l)
        self.assertEqual((env["BOOT_ORDER"], env["BOOT_B_LEFT"]), ("B A", "3"))
        self.assertEqual(rd(os.path.join(d, "slot-b")), self.fw["fw-2.0.bin"])
        self.assertEqual(rd(os.path.join(d, "slot-a")), b"factory\n")
        self.stop(p)

    def test_9_full_disk(self):
        """A full disk (ENOSPC through the power-cut test's write shim): a clear log
        line, the old slot keeps booting, and the update goes on once there is room."""
        shim = os.path.join(BUILD, "libfp_dropshim.so")
        if not os.path.exists(shim):
            self.skipTest("no write shim in this build")
        d = self.device("sim9")
        p = self.start(d)
        dev = self.enrol("sim9", d)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        self.stop(p)
        self.assign(dev, "fw-2.0.bin")
        env = dict(os.environ, LD_PRELOAD=shim, FP_SHIM_ENOSPC="slot-b.img",
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                   ":verify_asan_link_order=0")
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True, env=env,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"No space left on device", r.stderr)
        self.assertIn(b"download interrupted", r.stderr)
        self.assertEqual(self.bootenv(d)["BOOT_ORDER"], "A B")
        # The journal cannot be written either: the agent does not act.
        env["FP_SHIM_ENOSPC"] = "/state/journal"
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True, env=env,
                           timeout=WAIT)
        self.assertIn(b"cannot write the journal; not acting", r.stderr)
        self.assertEqual(self.bootenv(d)["BOOT_ORDER"], "A B")
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"A")
        # Room again: the update completes.
        p = self.start(d)
        self.wait("version 2.0 reported",
                  lambda: self.dev(dev).get("firmware_version") == "2.0", d)
        self.stop(p)

    def module(self, d):
        """An install module that logs each state and installs the payload as a file."""
        os.makedirs(os.path.join(d, "modules"))
        m = os.path.join(d, "modules", "pkg")
        with open(m, "w") as f:
            f.write("#!/bin/sh\nset -e\nd=%s\necho \"$1\" >> $d/module.log\n"
                    "test -f \"$2/target.json\"\n"
                    "case \"$1\" in\n"
                    "Install) cp \"$2/payload\" $d/installed.pkg ;;\n"
                    "NeedsReboot) cat $d/module-reboot 2>/dev/null || echo No ;;\n"
                    "Rollback) rm -f $d/installed.pkg ;;\n"
                    "esac\n" % d)
        os.chmod(m, 0o755)

    def test_10_install_module(self):
        d = self.device("sim10")
        self.module(d)
        p = self.start(d)
        dev = self.enrol("sim10", d)
        self.assign(dev, "app-1.0.pkg")
        self.wait("module update installed",
                  lambda: self.dev(dev)["attributes"].get("fp_update_status") == "installed",
                  d)
        self.assertEqual(rd(os.path.join(d, "module.log")).decode().split(),
                         ["Download", "Install", "NeedsReboot", "Commit", "Cleanup"])
        self.assertEqual(rd(os.path.join(d, "installed.pkg")), self.fw["app-1.0.pkg"])
        self.assertFalse(os.path.exists(os.path.join(d, "state", "module", "payload")))
        attrs = self.dev(dev)["attributes"]
        self.assertEqual((attrs["fp_target"], attrs["fp_reboots"]), ("app-1.0.pkg", "0"))
        self.assertEqual(self.dev(dev)["firmware_version"], "1.0")
        self.assertEqual(self.bootenv(d)["BOOT_ORDER"], "A B")
        self.stop(p)

    def test_11_install_module_reboot_and_rollback(self):
        d = self.device("sim11")
        self.module(d)
        with open(os.path.join(d, "module-reboot"), "w") as f:
            f.write("Yes\n")
        with open(os.path.join(d, "health-fail"), "w") as f:
            f.write("fail\n")
        p = self.start(d)
        dev = self.enrol("sim11", d)
        self.assign(dev, "app-1.0.pkg")
        self.wait("module update rolled back",
                  lambda: self.dev(dev)["attributes"].get("fp_update_status") == "failed", d)
        self.assertEqual(rd(os.path.join(d, "module.log")).decode().split(),
                         ["Download", "Install", "NeedsReboot", "Rollback", "Cleanup"])
        self.assertFalse(os.path.exists(os.path.join(d, "installed.pkg")))
        attrs = self.dev(dev)["attributes"]
        self.assertIn("the health check failed", attrs["fp_last_error"])
        self.assertEqual(attrs["fp_reboots"], "1")
        self.stop(p)
        # A module this device does not have: refused, nothing run.
        os.unlink(os.path.join(d, "modules", "pkg"))
        self.assign(dev, "app-1.0.pkg")
        r = subprocess.run([AGENT, "--simulate", d, "--once"], capture_output=True,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"needs the install module 'pkg', which this device does not have",
                      r.stderr)
        self.assertEqual(len(rd(os.path.join(d, "module.log")).split()), 5)

    def test_12_swap_module(self):
        """dist/modules/swap: a file replaced by an atomic rename, the previous one
        kept and put back when the health check fails."""
        d = self.device("sim12")
        os.makedirs(os.path.join(d, "modules"))
        shutil.copy(os.path.join(SOURCE, "dist", "modules", "swap"),
                    os.path.join(d, "modules", "swap"))
        cfg = os.path.join(d, "app.cfg")
        with open(cfg, "w") as f:
            f.write("factory settings\n")
        with open(os.path.join(d, "modules", "swap.conf"), "w") as f:
            f.write("target=%s\ntype=file\nkeep=2\n" % cfg)
        p = self.start(d)
        dev = self.enrol("sim12", d)
        self.assign(dev, "cfg-1.bin")
        self.wait("cfg-1 installed",
                  lambda: self.dev(dev)["attributes"].get("fp_target") == "cfg-1.bin" and
                  self.dev(dev)["attributes"].get("fp_update_status") == "installed", d)
        self.assertTrue(os.path.islink(cfg))
        self.assertEqual(rd(cfg), self.fw["cfg-1.bin"])
        # The next one fails its health check: the previous file comes back.
        with open(os.path.join(d, "health-fail"), "w") as f:
            f.write("fail\n")
        self.assign(dev, "cfg-2.bin")
        self.wait("cfg-2 rolled back",
                  lambda: self.dev(dev)["attributes"].get("fp_update_status") == "failed", d)
        self.assertEqual(rd(cfg), self.fw["cfg-1.bin"])
        os.unlink(os.path.join(d, "health-fail"))
        self.stop(p)
        # The factory file was kept as the first version.
        self.assertEqual(rd(os.path.join(d, "app.cfg.versions", "original")),
                         b"factory settings\n")

    def test_6_usage(self):
        r = subprocess.run([AGENT, "run"], capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([AGENT, "run", "--help"], capture_output=True, timeout=TIMEOUT)
        self.assertIn(b"--simulate DIR", r.stdout)
        d = self.path("bad-conf")
        os.makedirs(d)
        with open(os.path.join(d, "agent.conf"), "w") as f:
            f.write("nonsense = 1\n")
        r = subprocess.run([AGENT, "--simulate", d], capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown setting 'nonsense'", r.stderr)


if __name__ == "__main__":
    unittest.main()
