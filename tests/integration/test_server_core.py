"""fleetpatchd start-up, health, metrics, config, migrations, TLS and shutdown."""
import os
import re
import signal
import sqlite3
import ssl
import subprocess
import tempfile
import unittest
import urllib.request

from fpharness import BUILD, TIMEOUT, Server, free_port


class CoreTest(unittest.TestCase):
    def test_health_metrics_and_first_admin(self):
        with Server() as s:
            r = s.request("GET", "/api/v1/health")
            self.assertEqual(r.status, 200)
            h = r.json()
            self.assertEqual(h["status"], "ok")
            self.assertEqual(h["database"], "ok")
            self.assertGreaterEqual(h["schema_version"], 1)
            self.assertIsNotNone(s.admin_password)
            self.assertGreaterEqual(len(s.admin_password), 16)
            token = s.login()
            s.request("GET", "/api/v1/devices", token=token)
            m = s.request("GET", "/metrics")
            self.assertEqual(m.status, 200)
            self.assertIn("text/plain", m.headers["Content-Type"])
            self.assertRegex(m.body, r'fleetpatch_build_info\{version="[0-9.]+"\} 1')
            self.assertRegex(m.body, r'fleetpatch_http_requests_total\{method="GET",'
                                     r'route="/api/v1/devices",code="2xx"\} 1\n')
            self.assertIn('fleetpatch_logins_total{outcome="success"} 1', m.body)
            # Logs are key=value lines.
            self.assertRegex(s.read_log(), r'ts=\S+ level=info msg="listening" url=http://')
            self.assertEqual(s.stop(), 0, "SIGTERM must shut down cleanly")
            # A second start keeps the admin and prints no new password.
            s.admin_password_before = s.admin_password
            log_before = s.read_log()
            s.start()
            new_part = s.read_log()[len(log_before):]
            self.assertNotIn("password:", new_part)
            self.assertTrue(s.login(password=s.admin_password_before))
            con = sqlite3.connect(s.db_path())
            self.assertEqual(con.execute("SELECT COUNT(*) FROM users").fetchone()[0], 1)
            self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            # The password is stored as a scrypt hash, never in clear.
            h = con.execute("SELECT password_hash FROM users").fetchone()[0]
            self.assertTrue(h.startswith("$scrypt$"))
            self.assertNotIn(s.admin_password, h)
            con.close()

    def test_unknown_routes_and_methods(self):
        with Server() as s:
            r = s.request("GET", "/api/v1/nope")
            self.assertEqual(r.status, 404)
            self.assertEqual(r.json()["error"]["code"], "not_found")
            r = s.request("DELETE", "/api/v1/health")
            self.assertEqual(r.status, 405)
            self.assertIn("message", r.json()["error"])

    def test_refuses_newer_schema(self):
        with tempfile.TemporaryDirectory() as d:
            s = Server(data_dir=d).start()
            s.stop()
            con = sqlite3.connect(os.path.join(d, "fleetpatch.db"))
            con.execute("UPDATE schema_version SET version = 999")
            con.commit()
            con.close()
            s2 = Server(data_dir=d)
            rc = s2.start(expect_ok=False)
            self.assertEqual(rc, 1)
            self.assertIn("schema version 999 is newer", s2.read_log())

    def test_refuses_plain_http_off_loopback(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([os.path.join(BUILD, "fleetpatchd"), "--listen",
                                "0.0.0.0:%d" % free_port(), "--data-dir", d],
                               capture_output=True, timeout=TIMEOUT, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("refusing plain HTTP", p.stderr)

    def test_bad_config_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            s = Server(data_dir=d, config="listen = 127.0.0.1:1\nthreds = 4\n")
            self.assertEqual(s.start(expect_ok=False), 1)
            self.assertIn("line 2: unknown setting 'threds'", s.read_log())
            with open(os.path.join(d, "fleetpatchd.conf"), "w") as f:
                f.write("session_ttl_seconds = 5\n")
            self.assertEqual(s.start(expect_ok=False), 1)
            self.assertIn("session_ttl_seconds must be an integer from 60", s.read_log())

    def test_help_and_bad_flags(self):
        fpd = os.path.join(BUILD, "fleetpatchd")
        p = subprocess.run([fpd, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--listen ADDR:PORT", p.stdout)
        p = subprocess.run([fpd, "--bogus"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([fpd, "--listen", "nonsense"], capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not ADDR:PORT", p.stderr)

    def test_https_from_config(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True,
                           timeout=TIMEOUT)
            s = Server(data_dir=d, config="tls_cert = %s\ntls_key = %s\n" % (cert, key))
            s.url = s.url.replace("http://", "https://")
            log = open(s.log_path, "ab")
            proc = subprocess.Popen([os.path.join(BUILD, "fleetpatchd"), "--listen",
                                     "127.0.0.1:%d" % s.port, "--data-dir", d],
                                    stdout=log, stderr=log)
            try:
                ctx = ssl.create_default_context(cafile=cert)
                body = None
                for _ in range(int(TIMEOUT * 20)):
                    try:
                        with urllib.request.urlopen(s.url + "/api/v1/health", context=ctx,
                                                    timeout=TIMEOUT) as r:
                            body = r.read().decode()
                            break
                    except OSError:
                        import time
                        time.sleep(0.05)
                self.assertIsNotNone(body, s.read_log())
                self.assertIn('"status":"ok"', body)
                self.assertIn("url=https://", s.read_log())
            finally:
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
                log.close()

    def test_oversized_and_slow_paths(self):
        with Server() as s:
            r = s.request("GET", "/api/v1/" + "a" * 2000)
            self.assertEqual(r.status, 414)
            self.assertEqual(r.json()["error"]["code"], "too_large")


if __name__ == "__main__":
    unittest.main()
