"""Shared helpers for fleetpatch integration tests.

Starts real fleetpatchd processes on 127.0.0.1 with a private data directory,
talks to them over HTTP with the standard library only, and signs device
requests with the openssl command line (an implementation independent of ours).
"""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("FP_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("FP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
SANITIZE = os.environ.get("FP_SANITIZE", "OFF") in ("ON", "1", "TRUE")
TIMEOUT = 60 if SANITIZE else 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout, log=None, step=0.1):
    """fn()'s first true value, polled every step seconds; an AssertionError
    naming what (with log()'s text, when given) after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for %s\n%s" % (what, log() if log else ""))


def agent_log(d):
    """The text of DIR/agent.log, where the tests send a simulated device's log."""
    with open(os.path.join(d, "agent.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")


def kill_all(procs):
    """kill -9 and reap every process of procs still running."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:300])


class Server:
    """One fleetpatchd process with its own data directory."""

    def __init__(self, data_dir=None, extra_args=(), config=None):
        self.tmp = None
        if data_dir is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="fp-it-")
            data_dir = self.tmp.name
        self.data_dir = data_dir
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.extra_args = list(extra_args)
        if config is not None:
            with open(os.path.join(data_dir, "fleetpatchd.conf"), "w") as f:
                f.write(config)
        self.proc = None
        self.admin_password = None
        self.log_path = os.path.join(data_dir, "server.log")

    def start(self, expect_ok=True):
        self.log = open(self.log_path, "ab")
        args = [os.path.join(BUILD, "fleetpatchd"), "--listen", "127.0.0.1:%d" % self.port,
                "--data-dir", self.data_dir] + self.extra_args
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        if not expect_ok:
            return self.proc.wait(timeout=TIMEOUT)
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("fleetpatchd exited early:\n" + self.read_log())
            try:
                if self.request("GET", "/api/v1/health").status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("fleetpatchd did not become healthy:\n" + self.read_log())
        m = re.search(r"password: (\S+)", self.read_log())
        if m and self.admin_password is None:
            self.admin_password = m.group(1)
        return self

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        if self.proc:
            self.log.close()
        self.proc = None
        return rc

    def close(self):
        rc = self.stop()
        log = self.read_log() if os.path.exists(self.log_path) else ""
        if self.tmp:
            self.tmp.cleanup()
        # A sanitizer report or a crash fails the test that owned the server.
        if re.search(r"AddressSanitizer|LeakSanitizer|runtime error:", log) or \
                (rc is not None and rc != 0):
            raise AssertionError("fleetpatchd exited with %r; its log:\n%s" % (rc, log[-20000:]))

    def db_path(self):
        return os.path.join(self.data_dir, "fleetpatch.db")

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        data = None
        hdrs = dict(headers or {})
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token:
            hdrs["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                return Response(r.status, dict(r.headers), r.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read().decode("utf-8", "replace"))

    def status_of_oversized(self, method, path, length, token=None):
        """Sends only the headers of a request whose declared body is `length`
        bytes and returns the status the server answers with at once."""
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % (
            method, path, length)
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as c:
            c.sendall((head + "\r\n").encode())
            line = c.recv(4096).decode("latin-1").split("\r\n")[0]
        return int(line.split()[1])

    def login(self, username="admin", password=None):
        r = self.request("POST", "/api/v1/auth/login",
                         {"username": username, "password": password or self.admin_password})
        if r.status != 200:
            raise AssertionError("login failed: %r" % r)
        return r.json()["token"]

    def wait_import(self, token, job_id):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            j = self.request("GET", "/api/v1/imports/%d" % job_id, token=token).json()
            if j["status"] in ("succeeded", "failed"):
                return j
            time.sleep(0.05)
        raise AssertionError("import %d did not finish" % job_id)

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.close()


class DeviceKey:
    """An ed25519 device key pair made and used through the openssl CLI."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "dev-%d.pem" % time.time_ns())
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.path],
                       check=True, timeout=TIMEOUT)
        self.public_pem = subprocess.run(["openssl", "pkey", "-in", self.path, "-pubout"],
                                         check=True, capture_output=True,
                                         timeout=TIMEOUT).stdout.decode()

    def sign(self, data):
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.path,
                                  "-in", f.name], check=True, capture_output=True,
                                 timeout=TIMEOUT).stdout
        return base64.b64encode(sig).decode()

    def auth(self, server, identity, inventory=None, timestamp=None):
        # Like an agent, never reuse a timestamp: the server refuses replays.
        if timestamp is None:
            timestamp = max(int(time.time()), getattr(self, "last_ts", 0) + 1)
            self.last_ts = timestamp
        body = {"identity": identity, "public_key": self.public_pem, "timestamp": timestamp}
        if inventory is not None:
            body["inventory"] = inventory
        raw = json.dumps(body).encode()
        return server.request("POST", "/api/v1/device/auth", raw=raw,
                              headers={"X-FP-Signature": self.sign(raw),
                                       "Content-Type": "application/json"})


class Fleet:
    """`fleetpatch-agent fleet`: `count` simulated devices in one process, in
    base/dev-NNNNN, with identities prefix + NNNNN. Files a test puts in a
    device's directory before start() (health-fail, boot-hang, its own
    agent.conf) apply to that device."""

    def __init__(self, server, base, count, tuf_root, model="sim-1", prefix="fleet-",
                 threads=8, poll_interval=1, extra_args=()):
        self.server = server
        self.base = base
        self.count = count
        self.prefix = prefix
        self.args = [os.path.join(BUILD, "fleetpatch-agent"), "fleet", "--dir", base,
                     "--count", str(count), "--server", server.url, "--tuf-root", tuf_root,
                     "--model", model, "--identity-prefix", prefix, "--threads", str(threads),
                     "--poll-interval", str(poll_interval)] + list(extra_args)
        self.log_path = os.path.join(base, "fleet.log")
        self.proc = None
        self.ids = {}  # identity -> device id on the server

    def dir(self, i):
        return os.path.join(self.base, "dev-%05d" % i)

    def identity(self, i):
        return "%s%05d" % (self.prefix, i)

    def start(self):
        os.makedirs(self.base, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=log)
        return self

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def accept_all(self, token, timeout=None):
        """Accepts the fleet's enrolment requests as they arrive: pages of
        GET /api/v1/devices?status=pending (1,000 a page) and one
        POST /api/v1/devices/{id}/accept each. Returns {identity: id}."""
        deadline = time.time() + (timeout or 4 * TIMEOUT)
        mine = set(self.identity(i) for i in range(self.count))
        while len(self.ids) < self.count:
            if time.time() > deadline:
                raise AssertionError("only %d of %d devices asked to enrol:\n%s" % (
                    len(self.ids), self.count, self.read_log()[-5000:]))
            if self.proc.poll() is not None:
                raise AssertionError("the fleet exited with %r:\n%s" % (
                    self.proc.returncode, self.read_log()[-5000:]))
            r = self.server.request("GET", "/api/v1/devices?status=pending&per_page=1000",
                                    token=token)
            if r.status != 200:
                raise AssertionError("listing pending devices: %r" % r)
            items = [x for x in r.json()["items"] if x["identity"] in mine]
            for x in items:
                a = self.server.request("POST", "/api/v1/devices/%d/accept" % x["id"],
                                        token=token)
                if a.status != 200:
                    raise AssertionError("accept %s: %r" % (x["identity"], a))
                self.ids[x["identity"]] = x["id"]
            if not items:
                time.sleep(0.2)
        return self.ids

    def stop(self, sig=signal.SIGTERM):
        """Stops the fleet; its exit status (0 after a clean stop)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


class Operator:
    """An operator at the real CLI (`fleetpatch`) against server with token,
    working in workdir: one offline key for root and targets, made, signed into
    root.json and pushed by init_root(); releases published as an operator does
    it: upload, `release create --from-server`, sign, publish."""

    def __init__(self, server, token, workdir):
        self.dir = workdir
        self.env = dict(os.environ, FLEETPATCH_SERVER=server.url, FLEETPATCH_TOKEN=token,
                        XDG_CONFIG_HOME=workdir)
        self.env.pop("FLEETPATCH_KEY_PASSPHRASE", None)
        self.root = self.path("root.json")
        self.key = ["--key", self.path("k.key"), "--passphrase-file", self.path("pass")]

    def path(self, name):
        return os.path.join(self.dir, name)

    def cli(self, args, token=None, check=True):
        env = dict(self.env, FLEETPATCH_TOKEN=token) if token else self.env
        p = subprocess.run([os.path.join(BUILD, "fleetpatch")] + list(args), env=env,
                           capture_output=True, timeout=TIMEOUT, cwd=self.dir)
        if check and p.returncode != 0:
            raise AssertionError("fleetpatch %s: %d\n%s%s" % (" ".join(args), p.returncode,
                                                               p.stdout.decode(),
                                                               p.stderr.decode()))
        return p

    def init_root(self):
        with open(self.path("pass"), "w") as f:
            f.write("test passphrase\n")
        self.cli(["key", "generate", "--out", self.path("k"), "--passphrase-file",
                  self.path("pass")])
        self.cli(["root", "init", "--out", self.root, "--root-key", self.path("k.pub"),
                  "--targets-key", self.path("k.pub"), "--server-keys"])
        self.cli(["metadata", "sign", self.root] + self.key)
        self.cli(["metadata", "push", self.root])
        return self

    def release(self, name, data, version, counter, backend="ab", hardware="sim-1",
                extra=()):
        """Publishes data as target name; data=None publishes the file already at path(name)."""
        p = self.path(name)
        if data is not None:
            with open(p, "wb") as f:
                f.write(data)
        self.cli(["release", "upload", p])
        self.cli(["release", "create", "--artifact", p, "--name", name, "--version", version,
                  "--hardware", hardware, "--security-counter", str(counter), "--backend",
                  backend, "--out", self.path("targets.json"), "--from-server"] + list(extra))
        self.cli(["metadata", "sign", self.path("targets.json")] + self.key)
        self.cli(["release", "publish", self.path("targets.json")])
