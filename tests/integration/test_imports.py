"""Discovery and inventory imports through the API: every format, idempotence,
row rejects with reasons, malformed files that change nothing, and a real
`nmap -oX` scan of ports this test opens on 127.0.0.1."""
import http.server
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import unittest

from fpharness import TIMEOUT, Server

OUI = "/usr/share/ieee-data/oui.csv"


def oui_entry():
    """A real (prefix, vendor) pair from Debian's ieee-data."""
    with open(OUI, encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            parts = line.split(",")
            if parts[0] == "MA-L" and len(parts[1]) == 6 and parts[2] and '"' not in line:
                return parts[1].lower(), parts[2]
    raise AssertionError("no MA-L row in " + OUI)


class ImportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server().start()
        cls.t = cls.s.login()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def imp(self, fmt, data, dry_run=False, token=None):
        path = "/api/v1/imports?format=" + fmt + ("&dry_run=true" if dry_run else "")
        r = self.s.request("POST", path, raw=data, token=token or self.t)
        if r.status != 202:
            return r, None
        return r, self.s.wait_import(self.t, r.json()["id"])

    def count(self):
        con = sqlite3.connect(self.s.db_path())
        try:
            return con.execute("SELECT COUNT(*) FROM devices").fetchone()[0]
        finally:
            con.close()

    def device(self, identity):
        r = self.s.request("GET", "/api/v1/devices?filter=identity%20%3D%3D%20%22" +
                           identity.replace(":", "%3A") + "%22", token=self.t).json()
        self.assertEqual(len(r["items"]), 1, "%s: %r" % (identity, r))
        return r["items"][0]

    def test_csv_report_idempotence_and_rejects(self):
        csv = ("identity,name,model,firmware,exposure,mac,tags,attr.rack\n"
               "serial:C1,cam-1,ds-2cd2142,5.4.5,internal,00:11:22:33:44:01,camera;lab,r1\n"
               "serial:C2,cam-2,ds-2cd2142,5.5.0,internal,00:11:22:33:44:02,camera,r1\n"
               "\"serial:C3\",\"cam, three\",ds-2cd2142,5.5.0,isolated,,camera,r2\n"
               "serial:C4,cam-4,ds-2cd2142,5.5.0,internal,not-a-mac,camera,r2\n")
        r, job = self.imp("csv", csv)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(job["status"], "succeeded", job)
        rep = job["report"]
        self.assertEqual((rep["created"], rep["updated"], rep["unchanged"]), (3, 0, 0))
        self.assertEqual(len(rep["rejected"]), 1)
        self.assertEqual(rep["rejected_total"], 1)
        self.assertEqual(rep["rejected"][0]["line"], 5)
        self.assertIn("mac", rep["rejected"][0]["reason"])
        self.assertEqual(job["progress"], {"done": 3, "total": 3})
        d = self.device("serial:C3")
        self.assertEqual(d["name"], "cam, three")
        self.assertEqual(d["status"], "discovered")
        self.assertEqual(d["attributes"], {"rack": "r2"})
        # The same file again changes nothing and duplicates nothing.
        n = self.count()
        _, job = self.imp("csv", csv)
        self.assertEqual((job["report"]["created"], job["report"]["unchanged"]), (0, 3))
        self.assertEqual(self.count(), n)
        # A changed row updates that device only.
        _, job = self.imp("csv", csv.replace("5.4.5", "5.5.82"))
        self.assertEqual((job["report"]["updated"], job["report"]["unchanged"]), (1, 2))
        self.assertEqual(self.device("serial:C1")["firmware_version"], "5.5.82")

    def test_malformed_files_change_nothing(self):
        n = self.count()
        jobs = self.s.request("GET", "/api/v1/imports", token=self.t).json()["total"]
        for fmt, data, msg in (
                ("csv", "identity,name\nserial:X1,\"unterminated\n", "quote"),
                ("csv", "identity,modle\nserial:X1,m\n", "modle"),
                ("json", '{"devices": [', "json file"),
                ("nmap", "<nmaprun><host>", None),
                ("nmap", "<?xml version=\"1.0\"?><other/>", "nmaprun"),
                ("dhcpd", "lease 10.0.0.1 {\n  hardware ethernet 00:11:22:33:44:55;\n", None),
                ("csv", b"identity,name\nserial:X1,\xff\xfe\n", None)):
            r, _ = self.imp(fmt, data)
            self.assertEqual(r.status, 400, "%s %r: %r" % (fmt, data, r))
            if msg:
                self.assertIn(msg, r.json()["error"]["message"])
        r, _ = self.imp("xls", "x")
        self.assertEqual(r.status, 400)
        self.assertIn("format", r.json()["error"]["message"])
        self.assertEqual(self.count(), n)
        self.assertEqual(self.s.request("GET", "/api/v1/imports",
                                        token=self.t).json()["total"], jobs)

    def test_dry_run_reports_without_storing(self):
        n = self.count()
        _, job = self.imp("json", '[{"identity": "serial:DRY1"}, {"identity": "serial:DRY2"}]',
                          dry_run=True)
        self.assertEqual(job["status"], "succeeded")
        self.assertTrue(job["dry_run"])
        self.assertEqual(job["report"]["created"], 2)
        self.assertEqual(self.count(), n)

    def test_viewer_cannot_import(self):
        r = self.s.request("POST", "/api/v1/users", {"username": "viewer1", "role": "viewer",
                                                     "password": "viewer-password-1"},
                           token=self.t)
        self.assertEqual(r.status, 201)
        v = self.s.login("viewer1", "viewer-password-1")
        r, _ = self.imp("json", '[{"identity": "serial:V1"}]', token=v)
        self.assertEqual(r.status, 403)

    def test_oversized_upload_is_refused_early(self):
        self.assertEqual(self.s.status_of_oversized("POST", "/api/v1/imports?format=csv",
                                                    (64 << 20) + 1, token=self.t), 413)

    def test_json_import(self):
        _, job = self.imp("json", '{"devices": [{"identity": "serial:J1", "model": "x1", '
                                  '"tags": ["a"]}, {"identity": "serial:J2", "exposure": "dmz"}]}')
        self.assertEqual(job["report"]["created"], 1)
        self.assertEqual(job["report"]["rejected"][0]["line"], 2)
        self.assertIn("exposure", job["report"]["rejected"][0]["reason"])

    @unittest.skipUnless(os.path.exists(OUI), "ieee-data is not installed")
    def test_dhcp_leases_with_mac_vendor(self):
        prefix, vendor = oui_entry()
        mac = ":".join([prefix[0:2], prefix[2:4], prefix[4:6], "aa", "bb", "01"])
        dnsmasq = ("1767225600 %s 192.168.7.21 printer-1 01:%s\n"
                   "1767225600 02:00:00:00:00:07 192.168.7.22 * *\n" % (mac, mac))
        _, job = self.imp("dnsmasq", dnsmasq)
        self.assertEqual(job["status"], "succeeded", job)
        self.assertEqual(job["report"]["created"], 2)
        d = self.device("mac:" + mac)
        self.assertEqual(d["ip"], "192.168.7.21")
        self.assertEqual(d["hostname"], "printer-1")
        self.assertEqual(d["mac_vendor"], vendor)
        dhcpd = ("# isc-dhcp-4.4.3\nauthoring-byte-order little-endian;\n"
                 "lease 192.168.7.30 {\n  starts 4 2026/11/19 10:00:00;\n"
                 "  ends 4 2026/11/19 22:00:00;\n  binding state active;\n"
                 "  hardware ethernet 02:00:00:00:00:30;\n  client-hostname \"cam-30\";\n}\n"
                 "lease 192.168.7.30 {\n  starts 5 2026/11/20 10:00:00;\n"
                 "  ends 5 2026/11/20 22:00:00;\n  binding state active;\n"
                 "  hardware ethernet 02:00:00:00:00:31;\n  client-hostname \"cam-31\";\n}\n")
        _, job = self.imp("dhcpd", dhcpd)
        self.assertEqual(job["status"], "succeeded", job)
        # The later lease for the same address wins.
        self.assertEqual(self.device("mac:02:00:00:00:00:31")["hostname"], "cam-31")

    def test_mdm_export(self):
        mdm = ("Device name,Serial number,Manufacturer,Model,OS,OS version,"
               "Security patch level,Wi-Fi MAC,Primary user UPN,Compliance\n"
               "PHONE-17,R58M12ABCDE,samsung,SM-G991B,Android,14,2024-05-01,"
               "02:11:22:33:44:55,ana@example.com,Compliant\n"
               "IPAD-3,DMPXK1ABCDEF,Apple,\"iPad13,1\",iPadOS,17.5.1,,,ben@example.com,Compliant\n")
        _, job = self.imp("mdm", mdm)
        self.assertEqual(job["status"], "succeeded", job)
        d = self.device("serial:R58M12ABCDE")
        self.assertEqual(d["platform"], "android")
        self.assertEqual(d["patch_level"], "2024-05-01")
        self.assertEqual(d["os_version"], "14")
        self.assertEqual(d["owner"], "ana@example.com")
        self.assertEqual(d["update_mechanism"], "mdm")

    @unittest.skipUnless(shutil.which("nmap"), "nmap is not installed")
    def test_real_nmap_scan_of_our_own_ports(self):
        # Two services this test opens on loopback: an HTTP server and a bare listener.
        httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        bare = socket.socket()
        bare.bind(("127.0.0.1", 0))
        bare.listen(8)
        ports = sorted([httpd.server_address[1], bare.getsockname()[1]])
        try:
            scan = subprocess.run(["nmap", "-oX", "-", "-sT", "-sV", "--version-light", "-Pn",
                                   "-n", "-p", ",".join(map(str, ports)), "127.0.0.1"],
                                  capture_output=True, timeout=120, check=True).stdout
        finally:
            httpd.shutdown()
            bare.close()
        self.assertIn(b"<nmaprun", scan)
        _, job = self.imp("nmap", scan)
        self.assertEqual(job["status"], "succeeded", job)
        self.assertEqual(job["report"]["created"] + job["report"]["updated"], 1)
        d = self.device("ip:127.0.0.1")
        self.assertEqual(d["ip"], "127.0.0.1")
        open_ports = d["attributes"]["open_ports"].split(",")
        for p in ports:
            self.assertIn("%d/tcp" % p, open_ports)
        names = [c["name"] for c in d["components"]]
        self.assertTrue(any("http" in n.lower() for n in names), names)
        # Scanning again and importing again updates the same device.
        _, job = self.imp("nmap", scan)
        self.assertEqual(job["report"]["created"], 0)


if __name__ == "__main__":
    unittest.main()
