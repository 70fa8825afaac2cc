"""bench/agent.py IMAGE RUNS — the measurements of bench/agent.sh (see there)."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from fpharness import BUILD, Server  # noqa: E402

CLI = os.path.join(BUILD, "fleetpatch")
AGENT = os.path.join(BUILD, "fleetpatch-agent")


def rss_kib(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    image, runs = sys.argv[1], int(sys.argv[2])
    size = os.path.getsize(image)
    tmp = tempfile.mkdtemp(prefix="fp-bench-agent-", dir=os.path.dirname(image))
    s = Server(config="poll_interval_seconds = 5\nartifact_max_bytes = %d\n" % (size + 1)).start()
    try:
        t = s.login()
        env = dict(os.environ, FLEETPATCH_SERVER=s.url, FLEETPATCH_TOKEN=t,
                   XDG_CONFIG_HOME=tmp)
        env.pop("FLEETPATCH_KEY_PASSPHRASE", None)
        p = lambda n: os.path.join(tmp, n)

        def cli(*a):
            subprocess.run([CLI] + list(a), env=env, check=True, capture_output=True,
                           timeout=3600)
        with open(p("pass"), "w") as f:
            f.write("bench passphrase\n")
        key = ["--key", p("k.key"), "--passphrase-file", p("pass")]
        cli("key", "generate", "--out", p("k"), "--passphrase-file", p("pass"))
        cli("root", "init", "--out", p("root.json"), "--root-key", p("k.pub"),
            "--targets-key", p("k.pub"), "--server-keys")
        cli("metadata", "sign", p("root.json"), *key)
        cli("metadata", "push", p("root.json"))
        cli("release", "upload", image)
        cli("release", "create", "--artifact", image, "--name", "big.img", "--version", "2.0",
            "--hardware", "sim-1", "--security-counter", "1", "--backend", "ab",
            "--from-server", "--out", p("t.json"))
        cli("metadata", "sign", p("t.json"), *key)
        cli("release", "publish", p("t.json"))

        agent_ms, dd_ms, peak, idle, idle_anon = [], [], [], [], []
        for r in range(runs):
            # dd: the same bytes into a slot file, synced.
            slot = p("dd-slot.img")
            t0 = time.monotonic()
            subprocess.run(["dd", "if=" + image, "of=" + slot, "bs=1M", "conv=fsync"],
                           check=True, capture_output=True)
            dd_ms.append((time.monotonic() - t0) * 1000)
            os.unlink(slot)
            # The agent: a fresh simulated device each run.
            d = p("dev%d" % r)
            os.makedirs(d)
            with open(os.path.join(d, "agent.conf"), "w") as f:
                f.write("server = %s\nidentity = serial:bench%d\nmodel = sim-1\n"
                        "tuf_root = %s\npoll_interval_seconds = 1\n" % (s.url, r, p("root.json")))
            log = open(p("agent%d.log" % r), "wb")
            proc = subprocess.Popen([AGENT, "--simulate", d], stdout=log, stderr=log)
            dev = None
            while dev is None:
                for x in s.request("GET", "/api/v1/devices?per_page=1000", token=t).json()["items"]:
                    if x["identity"] == "serial:bench%d" % r:
                        dev = x["id"]
                time.sleep(0.1)
            s.request("POST", "/api/v1/devices/%d/accept" % dev, token=t)
            time.sleep(3)  # a few idle polls
            idle.append(rss_kib(proc.pid))
            idle_anon.append(rss_kib(proc.pid, "RssAnon"))
            s.request("POST", "/api/v1/devices/%d/assignment" % dev, {"target": "big.img"},
                      token=t)
            hi = [0]
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    hi[0] = max(hi[0], rss_kib(proc.pid))
                    time.sleep(0.02)
            th = threading.Thread(target=sample)
            th.start()
            while True:
                j = s.request("GET", "/api/v1/devices/%d" % dev, token=t).json()
                if j.get("firmware_version") == "2.0":
                    break
                time.sleep(0.2)
            stop.set()
            th.join()
            peak.append(hi[0])
            agent_ms.append(int(j["attributes"]["fp_install_ms"]))
            proc.terminate()
            proc.wait()
            log.close()
            shutil.rmtree(d)
        size_b = os.path.getsize(AGENT)
        stripped = p("agent.stripped")
        subprocess.run(["strip", "-o", stripped, AGENT], check=True)
        info = lambda *a: print("info:", *a)
        info("agent_binary_bytes", os.path.getsize(stripped), "(stripped;", size_b, "unstripped)")
        for peer in ("swupdate", "rauc", "mender", "mender-update"):
            path = shutil.which(peer)
            if path:
                info("peer_binary_bytes", peer, os.path.getsize(os.path.realpath(path)))
            else:
                info("peer_not_installed", peer)
        info("agent_idle_rss_kib", statistics.median(idle))
        info("agent_idle_rss_anon_kib", statistics.median(idle_anon),
             "(private memory; the rest of RSS is shared libraries' pages)")
        info("agent_install_peak_rss_kib", statistics.median(peak), "(%d MiB image)" % (size >> 20))
        am, dm = statistics.median(agent_ms), statistics.median(dd_ms)
        info("agent_install_mib_s", round((size / 1048576) / (am / 1000), 1))
        info("dd_mib_s", round((size / 1048576) / (dm / 1000), 1))
        print("bench: install_vs_dd %.2f x" % (dm / am))
        print("bench: agent_idle_rss %d KiB" % statistics.median(idle))
        print("bench: agent_install_rss %d KiB" % statistics.median(peak))
    finally:
        s.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
