"""bench/rollout.py — the measurements of `bench/run.sh rollout` (see bench/rollout.sh).

A real fleetpatchd on its SQLite database and FP_BENCH_ROLLOUT_DEVICES
(default 10,000) simulated devices in one `fleetpatch-agent fleet` process
poll every FP_BENCH_POLL_S seconds. A rollout of a published release with
three phases (1 %, 10 %, 100 %; soak FP_BENCH_SOAK_S after the first two) is
approved and started, and timed from the approval until every device
reported a healthy boot on the new release (the rollout completed).

The least the poll interval and the soak times allow: a phase's devices
learn of their assignment at their next poll, so with more than a handful
of devices the last of them starts one poll interval after the phase
started, and the next phase cannot start before the soak has passed after
that. Installing, rebooting and reporting take time too, but that is what
the overhead measures. So rollout_min_s = 3 * poll + 2 * soak, and
rollout_overhead = rollout_10k_s / rollout_min_s (target <= 1.2).
Also printed: the server's CPU seconds and peak RSS during the rollout, and
the fleet process's.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from fpharness import BUILD, Server  # noqa: E402

CLI = os.path.join(BUILD, "fleetpatch")
AGENT = os.path.join(BUILD, "fleetpatch-agent")
DEVICES = int(os.environ.get("FP_BENCH_ROLLOUT_DEVICES", "10000"))
POLL = int(os.environ.get("FP_BENCH_POLL_S", "60"))
SOAK = int(os.environ.get("FP_BENCH_SOAK_S", "60"))
THREADS = int(os.environ.get("FP_BENCH_FLEET_THREADS", "32"))
IMAGE = 64 * 1024


def info(name, value, unit):
    print("info: %s %s %s" % (name, value, unit), flush=True)


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run(cmd, env, cwd):
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True)
    if p.returncode:
        sys.exit("%s: %s%s" % (" ".join(cmd), p.stdout.decode(), p.stderr.decode()))
    return p


def main():
    tmp = tempfile.TemporaryDirectory(prefix="fp-bench-rollout-")
    d = tmp.name
    s = Server(config="poll_interval_seconds = %d\nthreads = 4\n" % POLL).start()
    t = s.login()
    env = dict(os.environ, FLEETPATCH_SERVER=s.url, FLEETPATCH_TOKEN=t, XDG_CONFIG_HOME=d)
    pw = os.path.join(d, "pass")
    with open(pw, "w") as f:
        f.write("bench passphrase\n")
    key = ["--key", os.path.join(d, "k.key"), "--passphrase-file", pw]
    run([CLI, "key", "generate", "--out", os.path.join(d, "k"), "--passphrase-file", pw], env, d)
    run([CLI, "root", "init", "--out", "root.json", "--root-key", "k.pub", "--targets-key",
         "k.pub", "--server-keys"], env, d)
    run([CLI, "metadata", "sign", "root.json"] + key, env, d)
    run([CLI, "metadata", "push", "root.json"], env, d)
    for version in ("1.0", "2.0"):
        name = "fw-%s.bin" % version
        with open(os.path.join(d, name), "wb") as f:
            f.write(os.urandom(IMAGE))
        run([CLI, "release", "upload", name], env, d)
        run([CLI, "release", "create", "--artifact", name, "--name", name, "--version", version,
             "--hardware", "sim-1", "--security-counter", "1", "--backend", "ab",
             "--out", "targets.json",
             "--from-server"], env, d)
        run([CLI, "metadata", "sign", "targets.json"] + key, env, d)
        run([CLI, "release", "publish", "targets.json"], env, d)

    log = open(os.path.join(d, "fleet.log"), "ab")
    fleet = subprocess.Popen(
        [AGENT, "fleet", "--dir", os.path.join(d, "fleet"), "--count", str(DEVICES), "--server",
         s.url, "--model", "sim-1", "--firmware-version", "1.0", "--identity-prefix", "sim-",
         "--tuf-root", os.path.join(d, "root.json"), "--threads", str(THREADS)],
        stdout=log, stderr=log)
    try:
        t0 = time.time()
        accepted = set()
        while len(accepted) < DEVICES:
            if fleet.poll() is not None:
                sys.exit("the fleet process exited: %d" % fleet.returncode)
            r = s.request("GET", "/api/v1/devices?status=pending&per_page=1000", token=t).json()
            for dev in r["items"]:
                if s.request("POST", "/api/v1/devices/%d/accept" % dev["id"],
                             token=t).status == 200:
                    accepted.add(dev["id"])
            if not r["items"]:
                time.sleep(1)
        info("enrol_s", round(time.time() - t0, 1), "s")

        def reporting(version):
            n, page = 0, 1
            while True:
                r = s.request("GET", "/api/v1/devices?per_page=1000&page=%d" % page,
                              token=t).json()
                n += sum(1 for x in r["items"] if x.get("firmware_version") == version)
                if page * 1000 >= r["total"]:
                    return n
                page += 1

        while reporting("1.0") < DEVICES:
            time.sleep(2)
        info("fleet_ready_s", round(time.time() - t0, 1), "s")
        r = s.request("POST", "/api/v1/groups", {"name": "bench", "filter": "model == sim-1"},
                      token=t)
        assert r.status == 201, r
        r = s.request("POST", "/api/v1/users", {"username": "appr", "role": "approver",
                                                "password": "approver-pass-123"}, token=t)
        assert r.status == 201, r
        appr = s.login("appr", "approver-pass-123")
        soak = "%ds" % SOAK
        r = s.request("POST", "/api/v1/rollouts", {
            "name": "bench", "release": "fw-2.0.bin", "group": "bench",
            "phases": [{"percent": 1, "soak": soak}, {"percent": 10, "soak": soak},
                       {"percent": 100}]}, token=t)
        assert r.status == 201, r
        rid = r.json()["id"]
        cpu0, fcpu0 = cpu_s(s.proc.pid), cpu_s(fleet.pid)
        start = time.time()
        r = s.request("POST", "/api/v1/rollouts/%d/approve" % rid,
                      {"ticket": "BENCH-1", "reason": "benchmark"}, token=appr)
        assert r.status == 200, r
        r = s.request("POST", "/api/v1/rollouts/%d/start" % rid, {}, token=t)
        assert r.status == 200, r
        while True:
            ro = s.request("GET", "/api/v1/rollouts/%d" % rid, token=t).json()
            if ro["state"] == "completed":
                break
            if ro["state"] not in ("running", "approved"):
                sys.exit("the rollout is %s: %s" % (ro["state"], ro["reason"]))
            time.sleep(1)
        took = time.time() - start
        cpu = cpu_s(s.proc.pid) - cpu0
        fcpu = cpu_s(fleet.pid) - fcpu0
        least = 3 * POLL + 2 * SOAK
        info("devices", DEVICES, "devices")
        info("poll_interval_s", POLL, "s")
        info("soak_s", SOAK, "s")
        info("server_cpu_s", round(cpu, 1), "s")
        info("fleet_cpu_s", round(fcpu, 1), "s")
        info("fleet_peak_rss_mb", round(status_kib(fleet.pid, "VmHWM") / 1024, 1), "MB")
        print("bench: rollout_10k_s %.1f s" % took)
        print("bench: rollout_min_s %d s" % least)
        print("bench: rollout_overhead %.3f x" % (took / least))
        print("bench: rollout_server_cpu_s %.1f s" % cpu)
        print("bench: rollout_server_peak_rss_mb %.1f MB" %
              (status_kib(s.proc.pid, "VmHWM") / 1024))
    finally:
        fleet.terminate()
        try:
            fleet.wait(timeout=60)
        except subprocess.TimeoutExpired:
            fleet.kill()
        log.close()
        s.close()
        tmp.cleanup()


if __name__ == "__main__":
    main()
