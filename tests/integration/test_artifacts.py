"""Artifacts: streamed uploads hashed on the fly, the size cap (one byte over
is refused and stores nothing), dedup, listings, and downloads with ETag,
If-None-Match, Range and device tokens."""
import hashlib
import http.client
import json
import os
import sqlite3
import tempfile
import unittest

from fpharness import TIMEOUT, DeviceKey, Server

CAP = 100000


def enrol(server, admin_token, tmpdir, identity, inventory=None):
    """An accepted device and its token."""
    key = DeviceKey(tmpdir)
    r = key.auth(server, identity, inventory or {"model": "sim-1"})
    assert r.status == 202, r
    dev = r.json()["device_id"]
    r = server.request("POST", "/api/v1/devices/%d/accept" % dev, token=admin_token)
    assert r.status == 200, r
    r = key.auth(server, identity)
    assert r.status == 200, r
    return dev, r.json()["token"]


class ArtifactsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-art-")
        cls.s = Server(config="artifact_max_bytes = %d\n" % CAP).start()
        cls.t = cls.s.login()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.tmp.cleanup()

    def stream(self, chunks, token=None, declared=None):
        """POSTs chunks with chunked transfer encoding (or a declared length)."""
        c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=TIMEOUT)
        try:
            c.putrequest("POST", "/api/v1/artifacts")
            c.putheader("Authorization", "Bearer " + (token or self.t))
            c.putheader("Content-Type", "application/octet-stream")
            if declared is None:
                c.putheader("Transfer-Encoding", "chunked")
            else:
                c.putheader("Content-Length", str(declared))
            c.endheaders()
            try:
                for ch in chunks:
                    if declared is None:
                        c.send(b"%x\r\n%s\r\n" % (len(ch), ch))
                    else:
                        c.send(ch)
                if declared is None:
                    c.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def rows(self):
        con = sqlite3.connect(self.s.db_path())
        try:
            return con.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0]
        finally:
            con.close()

    def stored_files(self):
        d = os.path.join(self.s.data_dir, "artifacts")
        names = [n for n in os.listdir(d) if n != "tmp"] if os.path.isdir(d) else []
        tmp = os.path.join(d, "tmp")
        return sorted(names), sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []

    def upload(self, data):
        r = self.s.request("POST", "/api/v1/artifacts", raw=data, token=self.t,
                           headers={"Content-Type": "application/octet-stream"})
        self.assertIn(r.status, (200, 201), r)
        return r.json()

    def test_streamed_upload_hashes_and_dedup(self):
        data = os.urandom(CAP)
        st, body = self.stream([data[i:i + 7000] for i in range(0, len(data), 7000)])
        self.assertEqual(st, 201, body)
        a = json.loads(body)
        self.assertEqual(a["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(a["hashes"]["sha512"], hashlib.sha512(data).hexdigest())
        self.assertEqual(a["length"], CAP)
        self.assertFalse(a["existed"])
        with open(os.path.join(self.s.data_dir, "artifacts", a["sha256"]), "rb") as f:
            self.assertEqual(f.read(), data)
        n = self.rows()
        again = self.upload(data)
        self.assertTrue(again["existed"])
        self.assertEqual(self.rows(), n)
        got = self.s.request("GET", "/api/v1/artifacts/" + a["sha256"], token=self.t).json()
        self.assertEqual(got["hashes"]["sha512"], a["hashes"]["sha512"])
        lst = self.s.request("GET", "/api/v1/artifacts?per_page=1", token=self.t).json()
        self.assertEqual(lst["per_page"], 1)
        self.assertGreaterEqual(lst["total"], 1)
        audit = self.s.request("GET", "/api/v1/audit?limit=1000", token=self.t).json()
        self.assertIn("artifact:" + a["sha256"],
                      [e.get("object") for e in audit["items"]])

    def test_one_byte_over_the_cap_stores_nothing(self):
        before = (self.rows(), self.stored_files())
        # Declared: refused before the body is read.
        self.assertEqual(self.s.status_of_oversized("POST", "/api/v1/artifacts", CAP + 1,
                                                    token=self.t), 413)
        # Chunked: refused when the byte over the cap arrives.
        data = os.urandom(CAP + 1)
        st, body = self.stream([data[:50000], data[50000:]])
        self.assertEqual(st, 413, body)
        self.assertIn(b"artifact_max_bytes", body)
        self.assertEqual((self.rows(), self.stored_files()), before)
        # Empty bodies are refused too.
        self.assertEqual(self.s.request("POST", "/api/v1/artifacts", raw=b"",
                                        token=self.t).status, 400)

    def test_roles_and_auth(self):
        self.assertEqual(self.s.request("POST", "/api/v1/artifacts", raw=b"x").status, 401)
        self.s.request("POST", "/api/v1/users", {"username": "viewer1", "password":
                                                 "a long enough password", "role": "viewer"},
                       token=self.t)
        vt = self.s.login("viewer1", "a long enough password")
        self.assertEqual(self.s.request("POST", "/api/v1/artifacts", raw=b"x",
                                        token=vt).status, 403)
        self.assertEqual(self.s.request("GET", "/api/v1/artifacts", token=vt).status, 200)
        self.assertEqual(self.s.request("GET", "/api/v1/artifacts/" + "0" * 64,
                                        token=vt).status, 404)
        self.assertEqual(self.s.request("GET", "/api/v1/artifacts/../../etc/passwd",
                                        token=vt).status, 404)

    def test_range_etag_and_device_download(self):
        data = bytes(range(256)) * 40
        a = self.upload(data)
        path = "/api/v1/artifacts/%s/content" % a["sha256"]
        r = self.s.request("GET", path, token=self.t)
        self.assertEqual(r.status, 200)
        etag = r.headers["ETag"]
        self.assertEqual(etag, '"%s"' % a["sha256"])
        self.assertEqual(r.headers["Accept-Ranges"], "bytes")
        raw = self.get_bytes(path, {})
        self.assertEqual(raw[0], 200)
        self.assertEqual(raw[2], data)
        self.assertEqual(self.get_bytes(path, {"If-None-Match": etag})[0], 304)
        self.assertEqual(self.get_bytes(path, {"If-None-Match": '"x", ' + etag})[0], 304)
        self.assertEqual(self.get_bytes(path, {"If-None-Match": '"other"'})[0], 200)
        st, h, b = self.get_bytes(path, {"Range": "bytes=10-19"})
        self.assertEqual((st, b, h["Content-Range"]), (206, data[10:20],
                                                        "bytes 10-19/%d" % len(data)))
        st, h, b = self.get_bytes(path, {"Range": "bytes=10000-"})
        self.assertEqual((st, b), (206, data[10000:]))
        st, h, b = self.get_bytes(path, {"Range": "bytes=-5"})
        self.assertEqual((st, b, h["Content-Range"]),
                         (206, data[-5:], "bytes %d-%d/%d" % (len(data) - 5, len(data) - 1,
                                                               len(data))))
        st, h, b = self.get_bytes(path, {"Range": "bytes=%d-" % len(data)})
        self.assertEqual((st, h["Content-Range"]), (416, "bytes */%d" % len(data)))
        # A device downloads with its own token, not an operator's, and resumes.
        dev, tok = enrol(self.s, self.t, self.tmp.name, "serial:ART1")
        dpath = "/api/v1/device/artifacts/" + a["sha256"]
        st, h, b = self.get_bytes(dpath, {"Range": "bytes=100-"}, tok)
        self.assertEqual((st, b), (206, data[100:]))
        self.assertEqual(self.get_bytes(dpath, {}, self.t)[0], 401)
        self.assertEqual(self.get_bytes(path, {}, tok)[0], 401)

    def test_interrupted_uploads_are_removed_at_start(self):
        d = tempfile.mkdtemp(dir=self.tmp.name)
        os.makedirs(os.path.join(d, "artifacts", "tmp"))
        left = os.path.join(d, "artifacts", "tmp", "upload-AbC123")
        with open(left, "wb") as f:
            f.write(b"half an upload")
        with Server(data_dir=d):
            self.assertFalse(os.path.exists(left))

    def get_bytes(self, path, headers, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=TIMEOUT)
        try:
            h = dict(headers)
            h["Authorization"] = "Bearer " + (token or self.t)
            c.request("GET", path, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
