"""bench/run.sh fleet: `fleetpatch-agent fleet` against a local fleetpatchd.

1. FP_BENCH_FLEET devices (default 1000) polling every 60 s, idle: the
   process's RSS once every device has reported (and the time to enrol and
   accept them all).
2. The same fleet polling every FP_BENCH_FLEET_POLL s (default 2) with a
   64 KiB release assigned to every device: completed updates per second
   (download, switch, in-process reboot, health check, commit, report).

Prints "bench: NAME VALUE UNIT" lines. FP_BUILD_DIR picks the build (default
build-rel, else build)."""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
if "FP_BUILD_DIR" not in os.environ:
    rel = os.path.join(SRC, "build-rel")
    os.environ["FP_BUILD_DIR"] = rel if os.path.exists(os.path.join(rel, "fleetpatch-agent")) \
        else os.path.join(SRC, "build")
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from fpharness import BUILD, Fleet, Server  # noqa: E402

N = int(os.environ.get("FP_BENCH_FLEET", "1000"))
POLL = int(os.environ.get("FP_BENCH_FLEET_POLL", "2"))
THREADS = int(os.environ.get("FP_BENCH_FLEET_THREADS", "8"))
IMAGE = 64 * 1024


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cli(env, cwd, *args):
    subprocess.run([os.path.join(BUILD, "fleetpatch")] + list(args), env=env, cwd=cwd,
                   check=True, capture_output=True, timeout=120)


def publish(s, token, tmp):
    env = dict(os.environ, FLEETPATCH_SERVER=s.url, FLEETPATCH_TOKEN=token,
               XDG_CONFIG_HOME=tmp)
    p = lambda n: os.path.join(tmp, n)  # noqa: E731
    with open(p("pass"), "w") as f:
        f.write("bench passphrase\n")
    key = ["--key", p("k.key"), "--passphrase-file", p("pass")]
    cli(env, tmp, "key", "generate", "--out", p("k"), "--passphrase-file", p("pass"))
    cli(env, tmp, "root", "init", "--out", p("root.json"), "--root-key", p("k.pub"),
        "--targets-key", p("k.pub"), "--server-keys")
    cli(env, tmp, "metadata", "sign", p("root.json"), *key)
    cli(env, tmp, "metadata", "push", p("root.json"))
    with open(p("fw.bin"), "wb") as f:
        f.write(os.urandom(IMAGE))
    cli(env, tmp, "release", "upload", p("fw.bin"))
    cli(env, tmp, "release", "create", "--artifact", p("fw.bin"), "--name", "fw-2.0.bin",
        "--version", "2.0", "--hardware", "sim-1", "--security-counter", "2", "--backend", "ab",
        "--out", p("targets.json"), "--from-server")
    cli(env, tmp, "metadata", "sign", p("targets.json"), *key)
    cli(env, tmp, "release", "publish", p("targets.json"))
    return p("root.json")


def devices(s, token):
    out, page = [], 1
    while True:
        r = s.request("GET", "/api/v1/devices?per_page=1000&page=%d" % page, token=token).json()
        out += r["items"]
        if len(out) >= r.get("total", len(out)) or not r["items"]:
            return out
        page += 1


def count(s, token, pred):
    return sum(1 for d in devices(s, token) if pred(d))


def wait(what, fn, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if fn():
            return
        time.sleep(1)
    raise SystemExit("timed out waiting for " + what)


def run(poll, update):
    with tempfile.TemporaryDirectory(prefix="fp-bench-fleet-") as tmp:
        s = Server(config="poll_interval_seconds = %d\n" % max(poll, 5)).start()
        try:
            token = s.login()
            root = publish(s, token, tmp)
            fleet = Fleet(s, os.path.join(tmp, "fleet"), N, root, threads=THREADS,
                          poll_interval=poll)
            t0 = time.time()
            fleet.start()
            ids = fleet.accept_all(token, timeout=600)
            print("info: fleet_accept_%d %.1f s" % (N, time.time() - t0))
            wait("first reports",
                 lambda: count(s, token, lambda d: d.get("firmware_version") == "1.0") == N,
                 600)
            print("info: fleet_enrolled_and_reported_%d %.1f s" % (N, time.time() - t0))
            if not update:
                time.sleep(2 * poll if poll < 60 else 70)  # at least one idle poll each
                print("bench: fleet_rss_idle_%d %d KiB" % (N, rss_kib(fleet.proc.pid)))
                print("info: fleet_rss_per_device %.1f KiB" % (rss_kib(fleet.proc.pid) / N))
            else:
                t1 = time.time()
                for i in range(N):
                    r = s.request("POST", "/api/v1/devices/%d/assignment" % ids[fleet.identity(i)],
                                  {"target": "fw-2.0.bin"}, token=token)
                    assert r.status == 200, r
                t2 = time.time()
                peak = 0

                def done():
                    nonlocal peak
                    peak = max(peak, rss_kib(fleet.proc.pid))
                    return count(s, token, lambda d: d.get("firmware_version") == "2.0") == N

                wait("updates", done, 900)
                t3 = time.time()
                print("info: fleet_assign_%d %.1f s" % (N, t2 - t1))
                print("bench: fleet_updates_per_second %.1f updates/s (%d in %.1f s, poll %d s)"
                      % (N / (t3 - t1), N, t3 - t1, poll))
                print("info: fleet_rss_peak_updating %d KiB" % peak)
            assert fleet.stop() == 0, fleet.read_log()[-3000:]
        finally:
            s.close()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "both"
    if what in ("idle", "both"):
        run(60, False)
    if what in ("update", "both"):
        run(POLL, True)
