"""Delta updates end to end: a delta published as its own TUF target, the
director offering it (signed "mode": "delta") to a device whose firmware is
the delta's base, and the agent rebuilding the image from the running slot
into the inactive one. A device whose running slot is not the base reports
the failure; the server re-signs the assignment full, and only then does the
agent download the full image (the proxy in front of the server counts)."""
import hashlib
import os
import random
import unittest

import test_agent
from fpharness import Operator
from test_agent import FW_SIZE, Proxy, rd


class DeltaTest(unittest.TestCase):
    @classmethod
    def publish(cls):
        cls.op = Operator(cls.s, cls.t, cls.tmp.name).init_root()
        rnd = random.Random(7)
        base = bytearray(rnd.randbytes(FW_SIZE))
        new = bytearray(base)
        for i in range(0, FW_SIZE, 1 << 20):  # a few changed runs, as a real update has
            new[i + 100:i + 4196] = rnd.randbytes(4096)
        cls.base, cls.new = bytes(base), bytes(new)
        for name, data in (("base.img", cls.base), ("fw-2.0.bin", cls.new)):
            with open(cls.path(name), "wb") as f:
                f.write(data)
        cls.op.cli(["artifact", "delta", "--base", cls.path("base.img"), "--new",
                 cls.path("fw-2.0.bin"), "--out", cls.path("fw-2.0-from-1.0.delta")])
        cls.delta = rd(cls.path("fw-2.0-from-1.0.delta"))
        cls.sha = {n: hashlib.sha256(d).hexdigest()
                   for n, d in (("full", cls.new), ("delta", cls.delta))}
        cls.op.release("fw-2.0.bin", None, "2.0", 2)
        cls.op.release("fw-2.0-from-1.0.delta", None, "2.0", 2,
                       extra=["--delta-of", "fw-2.0.bin", "--base-sha256",
                              hashlib.sha256(cls.base).hexdigest(), "--base-version", "1.0"])

    def counting_proxy(self):
        """A proxy that records, in order, the artifacts fetched and the delta reports."""
        p = Proxy(self.s.url)
        p.events = []
        handle = p.handle

        def h(req):
            if req.path.startswith("/api/v1/device/artifacts/"):
                p.events.append(("artifact", req.path.rsplit("/", 1)[1]))
            elif req.path == "/api/v1/device/assignment/delta-failed":
                p.events.append(("delta-failed", None))
            handle(req)
        p.handle = h
        self.addCleanup(p.close)
        return p

    def sim(self, name, slot_a, proxy):
        d = self.device(name, server=proxy.url)
        with open(os.path.join(d, "slot-a.img"), "wb") as f:
            f.write(slot_a)
        p = self.start(d)
        dev = self.enrol(name, d)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        return d, p, dev

    def audit(self, action, dev):
        items = self.s.request("GET", "/api/v1/audit?limit=1000", token=self.t).json()["items"]
        return [x for x in items if x.get("action") == action and
                x.get("object") == "device:%d" % dev]


    def test_delta_update(self):
        proxy = self.counting_proxy()
        d, p, dev = self.sim("delta1", self.base, proxy)
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev,
                           {"target": "fw-2.0.bin"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        self.wait("version 2.0 reported",
                  lambda: self.dev(dev).get("firmware_version") == "2.0", d)
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.new)
        self.assertEqual(rd(os.path.join(d, "booted")).strip(), b"B")
        fetched = [x for _, x in proxy.events]
        self.assertIn(self.sha["delta"], fetched)
        self.assertNotIn(self.sha["full"], fetched)
        self.assertNotIn(("delta-failed", None), proxy.events)
        got = int(self.dev(dev)["attributes"]["fp_download_bytes"])
        self.assertEqual(got, len(self.delta))
        self.assertLess(got, FW_SIZE // 10)
        self.assertIn("mode=delta", self.log(d))
        self.assertIn("image made from the delta and verified", self.log(d))
        self.assertEqual(self.audit("director.delta_failed", dev), [])
        self.stop(p)

    def test_wrong_base_falls_back_only_when_told(self):
        proxy = self.counting_proxy()
        other = bytes(random.Random(8).randbytes(FW_SIZE))  # not the delta's base
        d, p, dev = self.sim("delta2", other, proxy)
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev,
                           {"target": "fw-2.0.bin"}, token=self.t)
        self.assertEqual(r.status, 200, r)
        self.wait("version 2.0 reported",
                  lambda: self.dev(dev).get("firmware_version") == "2.0", d)
        self.assertEqual(rd(os.path.join(d, "slot-b.img")), self.new)
        ev = proxy.events
        full = ev.index(("artifact", self.sha["full"]))
        report = ev.index(("delta-failed", None))
        self.assertLess(report, full, ev)  # the full image only after the report
        self.assertEqual(ev.count(("artifact", self.sha["full"])), 1, ev)
        self.assertIn(("artifact", self.sha["delta"]), ev[:report])
        log = self.log(d)
        self.assertIn("wrong base", log)
        self.assertIn("mode=full", log)
        entries = self.audit("director.delta_failed", dev)
        self.assertEqual(len(entries), 1, entries)
        a = self.s.request("GET", "/api/v1/devices/%d/assignment" % dev, token=self.t).json()
        self.assertTrue(a["delta_refused"])
        self.assertEqual(a["version"], 2)
        self.stop(p)


# The agent tests' server, device and wait helpers, without their tests.
for _n in ("setUpClass", "tearDownClass", "path", "device", "start", "stop", "log",
           "wait", "find", "enrol", "dev"):
    setattr(DeltaTest, _n, test_agent.AgentTest.__dict__[_n])


if __name__ == "__main__":
    unittest.main()
