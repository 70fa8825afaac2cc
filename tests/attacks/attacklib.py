"""Shared pieces of the attack tests (tests/attacks/test_*.py).

Each attack test plays the attacker end to end against the real binaries on
127.0.0.1:

- `Repo`: a real fleetpatchd whose TUF repository is set up the way an
  operator does it, with offline keys made by the real `fleetpatch` CLI (key
  generate, root init, release create, metadata sign / merge, push,
  release publish), one directory and passphrase per key holder;
- `Client`: the victim, the real `fleetpatch-agent tuf` client with its own
  metadata and target directories, and a snapshot of both to prove that a
  refused attack stored nothing;
- `Mirror`: an attacker-controlled HTTP server that relays the repository
  and replaces chosen files with tampered bytes or with a handler that
  misbehaves (trickles, streams without end, cuts the body);
- `forge()`: signs metadata with a key the attacker holds (a key of its own,
  or an online key stolen from the server's data directory).
"""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from fpharness import BUILD, TIMEOUT, DeviceKey, Server  # noqa: E402

CLI = os.path.join(BUILD, "fleetpatch")
AGENT = os.path.join(BUILD, "fleetpatch-agent")

__all__ = ["BUILD", "TIMEOUT", "DeviceKey", "Server", "CLI", "AGENT", "canonical", "serialize",
           "forge", "new_key", "keyid", "key_object", "tuf_time", "Repo", "Client", "Mirror",
           "rd", "target_path"]


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def canonical(value):
    """The canonical JSON that TUF signs (no control characters occur in our metadata)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def serialize(md):
    """Metadata as the repository stores and serves it: compact JSON with sorted keys."""
    return canonical(md)


def tuf_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


_KEYS = tempfile.TemporaryDirectory(prefix="fp-attack-keys-")


class Key:
    """An ed25519 private key in a PEM file, used through the openssl command line
    (an implementation independent of ours, as in fpharness)."""

    def __init__(self, path):
        self.path = path
        der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True, timeout=TIMEOUT).stdout
        self.public_raw = der[-32:]  # the SubjectPublicKeyInfo ends with the raw key

    def sign(self, msg):
        with tempfile.NamedTemporaryFile(dir=_KEYS.name) as f:
            f.write(msg)
            f.flush()
            return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.path,
                                   "-in", f.name], check=True, capture_output=True,
                                  timeout=TIMEOUT).stdout


def new_key():
    """A fresh ed25519 key the attacker holds."""
    path = os.path.join(_KEYS.name, "key-%d.pem" % time.time_ns())
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True,
                   capture_output=True, timeout=TIMEOUT)
    return Key(path)


def key_object(priv):
    return {"keytype": "ed25519", "scheme": "ed25519",
            "keyval": {"public": priv.public_raw.hex()}}


def keyid(priv):
    return hashlib.sha256(canonical(key_object(priv))).hexdigest()


def forge(signed, *keys):
    """A metadata document whose `signed` part is signed by each of keys."""
    msg = canonical(signed)
    sigs = [{"keyid": keyid(k), "sig": k.sign(msg).hex()} for k in keys]
    return serialize({"signatures": sigs, "signed": signed})


class Repo:
    """A fleetpatchd with a TUF repository set up by the real CLI.

    root_keys / targets_keys name the key holders; each gets a directory with
    an encrypted private key and a passphrase file, as on their own machine.
    """

    def __init__(self, config="", root_keys=("r1",), root_threshold=1,
                 targets_keys=("alice",), targets_threshold=1):
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-attack-")
        self.root_keys = list(root_keys)
        self.targets_keys = list(targets_keys)
        self.targets_threshold = targets_threshold
        self.server = Server(config=config or None).start()
        self.token = self.server.login()
        self.env = dict(os.environ, FLEETPATCH_SERVER=self.server.url,
                        FLEETPATCH_TOKEN=self.token, XDG_CONFIG_HOME=self.tmp.name)
        self.env.pop("FLEETPATCH_KEY_PASSPHRASE", None)
        for who in self.root_keys + self.targets_keys:
            d = self.holder(who)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "pass"), "w") as f:
                f.write("passphrase of %s\n" % who)
            self.cli(["key", "generate", "--out", os.path.join(d, "k"),
                      "--passphrase-file", os.path.join(d, "pass")])
        pubs = lambda names: ",".join(self.pub(w) for w in names)
        unsigned = self.path("root-1-unsigned.json")
        self.cli(["root", "init", "--out", unsigned, "--root-key", pubs(self.root_keys),
                  "--targets-key", pubs(self.targets_keys), "--server-keys",
                  "--root-threshold", str(root_threshold),
                  "--targets-threshold", str(targets_threshold), "--expires-days", "30"])
        self.root_path = self.path("root.json")
        self.sign_merge(unsigned, self.root_keys[:root_threshold], self.root_path)
        self.cli(["metadata", "push", self.root_path])
        self.n_releases = 0

    # ---- Offline side (the operator's machines) --------------------------------------------

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def holder(self, who):
        return os.path.join(self.tmp.name, "holder-" + who)

    def pub(self, who):
        return os.path.join(self.holder(who), "k.pub")

    def cli(self, args, ok=True):
        p = subprocess.run([CLI] + args, env=self.env, capture_output=True, timeout=TIMEOUT,
                           cwd=self.tmp.name)
        if ok and p.returncode != 0:
            raise AssertionError("fleetpatch %s: %d\n%s%s" % (
                " ".join(args), p.returncode, p.stdout.decode(), p.stderr.decode()))
        return p

    def sign(self, file, who):
        """Signs a copy of file in who's own directory with who's key; returns the copy."""
        mine = os.path.join(self.holder(who), "signing-%d-%s" % (time.time_ns(),
                                                                 os.path.basename(file)))
        shutil.copy(file, mine)
        self.cli(["metadata", "sign", mine, "--key", os.path.join(self.holder(who), "k.key"),
                  "--passphrase-file", os.path.join(self.holder(who), "pass")])
        return mine

    def sign_merge(self, file, signers, out):
        copies = [self.sign(file, who) for who in signers]
        if len(copies) == 1:
            shutil.copy(copies[0], out)
        else:
            self.cli(["metadata", "merge", "--out", out] + copies)
        return out

    def upload(self, data):
        r = self.server.request("POST", "/api/v1/artifacts", raw=data, token=self.token)
        if r.status not in (200, 201):
            raise AssertionError("artifact upload: %r" % r)

    def targets_file(self, name, data, version="1.0", hardware="sim-1,sim-2", counter=1):
        """The next targets version (unsigned) with target `name` added, from the server's."""
        self.upload(data)
        art = self.path("art-%d-%s" % (time.time_ns(), name))
        with open(art, "wb") as f:
            f.write(data)
        out = self.path("targets-%d-%s.json" % (time.time_ns(), name))
        src = "--from-server" if self.n_releases else "--new"
        self.cli(["release", "create", "--artifact", art, "--name", name, "--version", version,
                  "--hardware", hardware, "--security-counter", str(counter), "--backend", "ab",
                  src, "--out", out])
        return out

    def publish(self, name, data, **kw):
        """Publishes a new targets version with `name`, signed by a threshold of holders."""
        unsigned = self.targets_file(name, data, **kw)
        signed = self.sign_merge(unsigned, self.targets_keys[:self.targets_threshold],
                                 unsigned + ".signed")
        self.cli(["release", "publish", signed])
        self.n_releases += 1
        return signed

    # ---- What the server serves ------------------------------------------------------------

    @property
    def meta_url(self):
        return self.server.url + "/api/v1/repo/metadata"

    @property
    def target_url(self):
        return self.server.url + "/api/v1/repo/targets/"

    def get(self, path):
        """The bytes the server serves at /api/v1/repo/<path> (metadata/… or targets/…)."""
        with urllib.request.urlopen(self.server.url + "/api/v1/repo/" + path,
                                    timeout=TIMEOUT) as resp:
            return resp.read()

    def meta(self, file):
        return self.get("metadata/" + file)

    def meta_json(self, file):
        return json.loads(self.meta(file))

    def status(self):
        r = self.server.request("GET", "/api/v1/repo/status", token=self.token)
        assert r.status == 200, r
        return r.json()["roles"]

    def online_key(self, role):
        """An online key (snapshot, timestamp, director) as a thief of the server has it."""
        return Key(os.path.join(self.server.data_dir, "keys", role + ".pem"))

    # ---- The director ----------------------------------------------------------------------

    def device(self, identity, model):
        """Enrols and accepts a device; returns (device id, device token)."""
        key = DeviceKey(self.tmp.name)
        r = key.auth(self.server, identity, {"model": model})
        assert r.status in (200, 201, 202), r
        dev = r.json()["device_id"]
        r = self.server.request("POST", "/api/v1/devices/%d/accept" % dev, token=self.token)
        assert r.status in (200, 204), r
        r = key.auth(self.server, identity)
        assert r.status == 200, r
        return dev, r.json()["token"]

    def assign(self, dev, target):
        return self.server.request("POST", "/api/v1/devices/%d/assignment" % dev,
                                   {"target": target}, token=self.token)

    def assignment_doc(self, device_token):
        """The signed assignment document, as the device fetches it."""
        r = self.server.request("GET", "/api/v1/device/assignment", token=device_token)
        assert r.status == 200, r
        return r.body.encode()

    def director_pub(self):
        """The director's public key, pinned by the device, as a PEM file."""
        path = self.path("director.pub")
        keys = self.server.request("GET", "/api/v1/repo/keys").json()
        with open(path, "w") as f:
            f.write(keys["director"]["public_key_pem"])
        return path

    def director_verify(self, doc, device, *args):
        """Runs `fleetpatch-agent director-verify` on the document bytes doc."""
        path = self.path("assignment-%d.json" % time.time_ns())
        with open(path, "wb") as f:
            f.write(doc)
        return subprocess.run([AGENT, "director-verify", "--key", self.director_pub(),
                               "--device", device] + list(args) + [path],
                              capture_output=True, text=True, timeout=TIMEOUT)

    def close(self):
        self.server.close()
        self.tmp.cleanup()


class Client:
    """The victim: `fleetpatch-agent tuf` with its own metadata and target directories."""

    def __init__(self, repo, name="client"):
        self.repo = repo
        self.md = repo.path(name + "-metadata")
        self.tg = repo.path(name + "-targets")
        os.makedirs(self.md)
        os.makedirs(self.tg)
        p = self.run(["init", repo.root_path])
        if p.returncode != 0:
            raise AssertionError("init: %r" % p)

    def run(self, args, timeout=TIMEOUT):
        return subprocess.run([AGENT, "tuf", "--metadata-dir", self.md] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def refresh(self, meta_url=None, extra=()):
        return self.run(["--metadata-url", meta_url or self.repo.meta_url, "refresh"] +
                        list(extra))

    def download(self, names, meta_url=None, target_url=None, extra=(), timeout=TIMEOUT):
        args = ["--metadata-url", meta_url or self.repo.meta_url,
                "--target-base-url", target_url or self.repo.target_url,
                "--target-dir", self.tg]
        for n in names if isinstance(names, (list, tuple)) else [names]:
            args += ["--target-name", n]
        return self.run(args + list(extra) + ["download"], timeout=timeout)

    def state(self):
        """Everything the client stores: metadata files with their bytes, and every
        entry of the target directory (hidden temporary files included)."""
        md = {f: rd(os.path.join(self.md, f)) for f in sorted(os.listdir(self.md))}
        return md, sorted(os.listdir(self.tg))

    def trusted(self, role):
        """The version of role in the stored metadata, or None."""
        p = os.path.join(self.md, role + ".json")
        return json.loads(rd(p))["signed"]["version"] if os.path.exists(p) else None


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        m = self.server.mirror
        path = self.path.lstrip("/")
        m.hits.append(path)
        route = m.routes.get(path)
        try:
            if callable(route):
                route(self)
            elif route is not None:
                self.send(200, route)
            else:
                self.relay(path)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def relay(self, path):
        try:
            with urllib.request.urlopen(self.server.mirror.upstream + path,
                                        timeout=TIMEOUT) as r:
                self.send(r.status, r.read())
        except urllib.error.HTTPError as e:
            self.send(e.code, e.read())


class Mirror:
    """An attacker-controlled mirror on 127.0.0.1.

    It serves /metadata/<file> and /targets/<file>: whatever `routes` says for
    that path (bytes, or a callable that gets the request handler and writes
    the response itself), otherwise the repository's own bytes, relayed.
    `hits` records every path requested, so a test can show the client
    actually fetched the tampered file.
    """

    def __init__(self, repo):
        self.upstream = repo.server.url + "/api/v1/repo/"
        self.routes = {}
        self.hits = []
        self.stop = threading.Event()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.mirror = self
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def meta_url(self):
        return self.url + "/metadata"

    @property
    def target_url(self):
        return self.url + "/targets/"

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def target_path(name, data):
    """The consistent-snapshot path of a target on the repository: targets/<sha256>.<name>."""
    return "targets/%s.%s" % (hashlib.sha256(data).hexdigest(), name)
