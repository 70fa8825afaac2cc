"""`fleetpatch-agent tuf`: the plain TUF client against python-tuf's repository and against
repositories this test builds and signs itself (ed25519 through the openssl CLI, canonical
JSON through Python's json module), served over loopback, including attacks."""
import datetime
import hashlib
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from fpharness import BUILD, SOURCE, TIMEOUT

AGENT = os.path.join(BUILD, "fleetpatch-agent")
FIXTURE = os.path.join(SOURCE, "tests/data/tuf/python-tuf")
FAR = "2099-01-01T00:00:00Z"


def canonical(obj):
    """Canonical JSON as securesystemslib defines it, for values without control characters."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Key:
    """An ed25519 key made and used through the openssl command line."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "k-%d.pem" % time.time_ns())
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.path],
                       check=True, timeout=TIMEOUT)
        der = subprocess.run(["openssl", "pkey", "-in", self.path, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True, timeout=TIMEOUT).stdout
        self.obj = {"keytype": "ed25519", "scheme": "ed25519",
                    "keyval": {"public": der[-32:].hex()}}
        self.id = hashlib.sha256(canonical(self.obj)).hexdigest()

    def sign(self, data):
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.path,
                                   "-in", f.name], check=True, capture_output=True,
                                  timeout=TIMEOUT).stdout.hex()


def envelope(signed, keys):
    """A metadata file signed by keys, written indented (not canonical), as many tools do."""
    data = canonical(signed)
    sigs = [{"keyid": k.id, "sig": k.sign(data)} for k in keys]
    return json.dumps({"signatures": sigs, "signed": signed}, indent=1).encode()


def metafile(version, data=None):
    m = {"version": version}
    if data is not None:
        m["length"] = len(data)
        m["hashes"] = {"sha256": hashlib.sha256(data).hexdigest()}
    return m


class Repo:
    """A TUF repository with one key per role, published into a dict of URL paths."""

    def __init__(self, directory, consistent=False):
        self.dir = directory
        self.consistent = consistent
        self.root_keys = [Key(directory)]
        self.ts_key, self.snap_key, self.targ_key = Key(directory), Key(directory), Key(directory)
        self.root_version = 1
        self.roots = {}
        self.files = {}
        self.targets = {}
        self.versions = {"timestamp": 0, "snapshot": 0, "targets": 0}
        self.expires = {"timestamp": FAR, "snapshot": FAR, "targets": FAR}
        self.add_root(self.root_keys, [])

    def root_signed(self):
        keys = {k.id: k.obj for k in self.root_keys + [self.ts_key, self.snap_key, self.targ_key]}
        return {"_type": "root", "spec_version": "1.0.31", "version": self.root_version,
                "expires": FAR, "consistent_snapshot": self.consistent, "keys": keys,
                "roles": {"root": {"keyids": [k.id for k in self.root_keys], "threshold": 1},
                          "timestamp": {"keyids": [self.ts_key.id], "threshold": 1},
                          "snapshot": {"keyids": [self.snap_key.id], "threshold": 1},
                          "targets": {"keyids": [self.targ_key.id], "threshold": 1}}}

    def add_root(self, new_keys, old_keys):
        """Publishes the next root version with root keys new_keys, also signed by old_keys."""
        self.root_keys = new_keys
        data = envelope(self.root_signed(), old_keys + [k for k in new_keys if k not in old_keys])
        self.roots[self.root_version] = data
        self.files["/metadata/%d.root.json" % self.root_version] = data
        self.root_version += 1
        return data

    def publish(self):
        """Bumps and signs targets, snapshot and timestamp."""
        for role in ("targets", "snapshot", "timestamp"):
            self.versions[role] += 1
        targets = {name: {"length": len(d), "hashes": {
            "sha256": hashlib.sha256(d).hexdigest(), "sha512": hashlib.sha512(d).hexdigest()}}
            for name, d in self.targets.items()}
        t = envelope({"_type": "targets", "spec_version": "1.0.31",
                      "version": self.versions["targets"], "expires": self.expires["targets"],
                      "targets": targets}, [self.targ_key])
        s = envelope({"_type": "snapshot", "spec_version": "1.0.31",
                      "version": self.versions["snapshot"], "expires": self.expires["snapshot"],
                      "meta": {"targets.json": metafile(self.versions["targets"], t)}},
                     [self.snap_key])
        ts = envelope({"_type": "timestamp", "spec_version": "1.0.31",
                       "version": self.versions["timestamp"],
                       "expires": self.expires["timestamp"],
                       "meta": {"snapshot.json": metafile(self.versions["snapshot"], s)}},
                      [self.ts_key])
        if self.consistent:
            self.files["/metadata/%d.targets.json" % self.versions["targets"]] = t
            self.files["/metadata/%d.snapshot.json" % self.versions["snapshot"]] = s
        else:
            self.files["/metadata/targets.json"] = t
            self.files["/metadata/snapshot.json"] = s
        self.files["/metadata/timestamp.json"] = ts
        for name, d in self.targets.items():
            if self.consistent:
                head, sep, tail = name.rpartition("/")
                self.files["/targets/%s%s%s.%s" % (
                    head, sep, hashlib.sha256(d).hexdigest(), tail)] = d
            else:
                self.files["/targets/" + name] = d
        return ts


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        if callable(body):
            body(self)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def endless(handler):
    """A mirror that sends data without end and without a Content-Length."""
    handler.send_response(200)
    handler.end_headers()
    chunk = b"x" * 65536
    try:
        for _ in range(4096):  # 256 MiB at most, so a broken client cannot hang the test
            handler.wfile.write(chunk)
    except OSError:
        pass


class Mirror:
    def __init__(self, files):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.files = files
        self.httpd.requests = []
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Client:
    def __init__(self, directory, mirror):
        self.md = os.path.join(directory, "metadata")
        self.tg = os.path.join(directory, "targets")
        os.makedirs(self.md)
        os.makedirs(self.tg)
        self.mirror = mirror

    def run(self, *args):
        p = subprocess.run([AGENT, "tuf"] + list(args), capture_output=True, text=True,
                           timeout=TIMEOUT * 3)
        if "AddressSanitizer" in p.stderr or "runtime error:" in p.stderr:
            raise AssertionError("sanitizer report:\n" + p.stderr)
        return p

    def init(self, root_path):
        return self.run("--metadata-dir", self.md, "init", root_path)

    def refresh(self):
        return self.run("--metadata-dir", self.md, "--metadata-url", self.mirror.url + "/metadata",
                        "refresh")

    def download(self, *names):
        args = ["--metadata-url", self.mirror.url + "/metadata", "--metadata-dir", self.md]
        for n in names:
            args += ["--target-name", n]
        return self.run(*(args + ["--target-dir", self.tg, "--target-base-url",
                                  self.mirror.url + "/targets", "download"]))

    def version(self, role):
        path = os.path.join(self.md, role + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)["signed"]["version"]

    def metadata_files(self):
        return sorted(os.listdir(self.md))

    def target_files(self):
        return sorted(os.listdir(self.tg))

    def read_target(self, name):
        with open(os.path.join(self.tg, name), "rb") as f:
            return f.read()


class PythonTufRepositoryTest(unittest.TestCase):
    """Metadata and signatures made by python-tuf / securesystemslib."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-tuf-")
        files = {}
        for sub in ("metadata", "targets"):
            for name in os.listdir(os.path.join(FIXTURE, sub)):
                with open(os.path.join(FIXTURE, sub, name), "rb") as f:
                    files["/%s/%s" % (sub, name)] = f.read()
        del files["/metadata/1.root.json"]
        self.files = files
        self.mirror = Mirror(files)
        self.c = Client(self.tmp.name, self.mirror)

    def tearDown(self):
        self.mirror.close()
        self.tmp.cleanup()

    def test_refresh_and_download(self):
        p = self.c.init(os.path.join(FIXTURE, "metadata/root.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.c.metadata_files(), ["root.json"])
        p = self.c.refresh()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.c.metadata_files(),
                         ["root.json", "snapshot.json", "targets.json", "timestamp.json"])
        # The client asked for root version 2 first (5.3.3), then the other roles in order.
        self.assertEqual(self.mirror.httpd.requests,
                         ["/metadata/2.root.json", "/metadata/timestamp.json",
                          "/metadata/snapshot.json", "/metadata/targets.json"])
        # Stored files are the repository's bytes.
        with open(os.path.join(self.c.md, "targets.json"), "rb") as f:
            self.assertEqual(f.read(), self.files["/metadata/targets.json"])
        p = self.c.download("file1.txt", "file2.txt")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.c.target_files(), ["file1.txt", "file2.txt"])
        self.assertEqual(self.c.read_target("file1.txt"), self.files["/targets/file1.txt"])
        # Artifact cache: a second download fetches no target.
        self.mirror.httpd.requests.clear()
        p = self.c.download("file1.txt")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("/targets/file1.txt", self.mirror.httpd.requests)
        # file3.txt is delegated to role1; delegations are not followed yet.
        p = self.c.download("file3.txt")
        self.assertEqual(p.returncode, 1)
        self.assertIn("file3.txt", p.stderr)

    def test_tampered_target_is_not_stored(self):
        self.assertEqual(self.c.init(os.path.join(FIXTURE, "metadata/root.json")).returncode, 0)
        self.files["/targets/file1.txt"] = b"X" + self.files["/targets/file1.txt"][1:]
        p = self.c.download("file1.txt")
        self.assertEqual(p.returncode, 1)
        self.assertIn("sha", p.stderr)
        self.assertEqual(self.c.target_files(), [])

    def test_init_refuses_a_root_not_signed_by_itself(self):
        with open(os.path.join(FIXTURE, "metadata/root.json"), "rb") as f:
            doc = json.load(f)
        doc["signed"]["version"] = 2
        bad = os.path.join(self.tmp.name, "bad-root.json")
        with open(bad, "w") as f:
            json.dump(doc, f)
        p = self.c.init(bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn("valid signatures", p.stderr)
        self.assertEqual(self.c.metadata_files(), [])


class OwnRepositoryTest(unittest.TestCase):
    """Repositories signed here with the openssl CLI, and attacks on them."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-tuf-")
        self.repo = Repo(self.tmp.name)
        self.repo.targets["fw/image.bin"] = os.urandom(3000)
        self.repo.publish()
        self.mirror = Mirror(self.repo.files)
        self.c = Client(os.path.join(self.tmp.name, "client"), self.mirror)
        self.root1 = os.path.join(self.tmp.name, "root1.json")
        with open(self.root1, "wb") as f:
            f.write(self.repo.roots[1])
        p = self.c.init(self.root1)
        self.assertEqual(p.returncode, 0, p.stderr)

    def tearDown(self):
        self.mirror.close()
        self.tmp.cleanup()

    def test_download_nested_target(self):
        p = self.c.download("fw/image.bin")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.c.target_files(), ["fw%2Fimage.bin"])
        self.assertEqual(self.c.read_target("fw%2Fimage.bin"), self.repo.targets["fw/image.bin"])

    def test_timestamp_rollback_is_refused(self):
        old = self.repo.files["/metadata/timestamp.json"]
        self.repo.publish()
        self.assertEqual(self.c.refresh().returncode, 0)
        self.assertEqual(self.c.version("timestamp"), 2)
        self.repo.files["/metadata/timestamp.json"] = old
        p = self.c.refresh()
        self.assertEqual(p.returncode, 1)
        self.assertIn("rollback", p.stderr)
        self.assertEqual(self.c.version("timestamp"), 2)

    def test_expired_metadata_is_not_trusted(self):
        self.repo.expires["timestamp"] = iso(time.time() - 3600)
        self.repo.publish()
        p = self.c.refresh()
        self.assertEqual(p.returncode, 1)
        self.assertIn("expired", p.stderr)
        self.assertEqual(self.c.metadata_files(), ["root.json"])
        self.repo.expires["timestamp"] = FAR
        self.repo.expires["targets"] = iso(time.time() - 1)
        self.repo.publish()
        p = self.c.refresh()
        self.assertEqual(p.returncode, 1)
        self.assertIn("targets metadata v3 expired", p.stderr)
        self.assertIsNone(self.c.version("targets"))

    def test_target_length_and_hash_lies(self):
        name = "fw/image.bin"
        good = self.repo.targets[name]
        for served, reason in ((good[:-1], "not the signed"), (good + b"!", "more than the signed"),
                               (bytes(len(good)), "sha256 does not match")):
            self.repo.files["/targets/" + name] = served
            p = self.c.download(name)
            self.assertEqual(p.returncode, 1, served[:10])
            self.assertIn(reason, p.stderr)
            self.assertEqual(self.c.target_files(), [])

    def test_endless_responses_are_cut_at_the_cap(self):
        self.repo.files["/targets/fw/image.bin"] = endless
        start = time.time()
        p = self.c.download("fw/image.bin")
        self.assertEqual(p.returncode, 1)
        self.assertIn("more than the signed 3000 bytes", p.stderr)
        self.assertEqual(self.c.target_files(), [])
        # Metadata: timestamp is capped at 16384 bytes (no signed length for it).
        self.repo.files["/metadata/timestamp.json"] = endless
        p = self.c.refresh()
        self.assertEqual(p.returncode, 1)
        self.assertIn("larger than the cap of 16384 bytes", p.stderr)
        self.assertLess(time.time() - start, TIMEOUT)

    def test_root_rotation_chain(self):
        k2, k3 = Key(self.tmp.name), Key(self.tmp.name)
        self.repo.add_root([k2], self.repo.root_keys)
        self.repo.add_root([k3], [k2])
        self.repo.ts_key = Key(self.tmp.name)  # v4 also rotates the timestamp key
        self.repo.add_root([k3], [k3])
        self.repo.publish()
        p = self.c.refresh()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.c.version("root"), 4)
        self.assertEqual(self.c.version("timestamp"), 2)
        requested = [r for r in self.mirror.httpd.requests if r.endswith("root.json")]
        self.assertEqual(requested, ["/metadata/%d.root.json" % v for v in (2, 3, 4, 5)])

    def test_root_not_signed_by_previous_keys_is_refused(self):
        stranger = Key(self.tmp.name)
        self.repo.add_root([stranger], [])
        p = self.c.refresh()
        self.assertEqual(p.returncode, 1)
        self.assertIn("valid signatures by root keys of root v1", p.stderr)
        self.assertEqual(self.c.version("root"), 1)
        self.assertEqual(self.c.metadata_files(), ["root.json"])

    def test_consistent_snapshot_urls(self):
        tmp = os.path.join(self.tmp.name, "cs")
        os.makedirs(tmp)
        repo = Repo(tmp, consistent=True)
        repo.targets["a.txt"] = b"hello\n"
        repo.publish()
        repo.publish()
        mirror = Mirror(repo.files)
        try:
            c = Client(os.path.join(tmp, "client"), mirror)
            root = os.path.join(tmp, "root.json")
            with open(root, "wb") as f:
                f.write(repo.roots[1])
            self.assertEqual(c.init(root).returncode, 0)
            p = c.download("a.txt")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(c.read_target("a.txt"), b"hello\n")
            self.assertEqual(mirror.httpd.requests, [
                "/metadata/2.root.json", "/metadata/timestamp.json", "/metadata/2.snapshot.json",
                "/metadata/2.targets.json",
                "/targets/" + hashlib.sha256(b"hello\n").hexdigest() + ".a.txt"])
            self.assertEqual(c.metadata_files(),
                             ["root.json", "snapshot.json", "targets.json", "timestamp.json"])
        finally:
            mirror.close()

    def test_usage_errors_exit_1(self):
        self.assertEqual(self.c.run("refresh").returncode, 1)
        self.assertEqual(self.c.run("--metadata-dir", self.c.md, "refresh").returncode, 1)
        self.assertEqual(self.c.run("--metadata-dir", self.c.md, "frobnicate").returncode, 1)


if __name__ == "__main__":
    if not os.path.exists(AGENT):
        raise SystemExit("fleetpatch-agent is not built in " + BUILD)
    unittest.main()
