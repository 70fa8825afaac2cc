"""Power-cut test of the device agent: real fleetpatchd, a published
release pair, and simulated devices (fleetpatch-agent --simulate DIR)
that are killed with SIGKILL at random instants of their updates
(download, slot write, switch, reboot, health check, commit). After a
cut, writes that were not synced yet are dropped (with probability one
half) through the dropshim LD_PRELOAD library, which undoes every write
made since the file's last fsync. Then:

  * the slot the simulated bootloader will boot next must hold a whole,
    known image (the factory image or one of the releases): a partial or
    unverified image there is a bad outcome;
  * once the cuts of an update stop, the device must converge within a
    time limit: it reports the assigned version (or, when its health
    check is told to fail, the old version with the reason; or, when the
    cuts used up the new slot's boot attempts, the old version with
    "fell back" as the reason).

usage: powercut.py [--cuts N] [--devices K] [--seed S]
Prints `bench: powercut_cuts N` and `bench: powercut_bad N`; exit 1 on a
bad outcome."""
import argparse
import glob
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
from fpharness import BUILD, SANITIZE, TIMEOUT, Server  # noqa: E402

CLI = os.path.join(BUILD, "fleetpatch")
AGENT = os.path.join(BUILD, "fleetpatch-agent")
SHIM = os.path.join(BUILD, "libfp_dropshim.so")
FACTORY = b"fleetpatch simulated factory image\n"
FW_SIZE = 5 * 1024 * 1024 + 777  # five 1 MiB sync steps of the slot writer
CONVERGE_S = 60


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def run(args, env):
    p = subprocess.run(args, env=env, capture_output=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("%s: %s%s" % (" ".join(args), p.stdout.decode(), p.stderr.decode()))
    return p


def drop_unsynced(d):
    """Undoes every write made since its file's last fsync (dropshim's logs)."""
    undo = os.path.join(d, ".undo")
    if not os.path.isdir(undo):
        return 0
    by_ino = {}
    for root, _, files in os.walk(d):
        if root.startswith(undo):
            continue
        for f in files:
            p = os.path.join(root, f)
            by_ino[os.lstat(p).st_ino] = p
    dropped = 0
    for log in os.listdir(undo):
        target = by_ino.get(int(log))
        data = rd(os.path.join(undo, log))
        recs, off = [], 0
        while off + 24 <= len(data):
            o, n, size = struct.unpack_from("<QQQ", data, off)
            if off + 24 + n > len(data):
                break
            recs.append((o, data[off + 24:off + 24 + n], size))
            off += 24 + n
        if target and recs:
            with open(target, "r+b") as f:
                for o, old, _ in reversed(recs):
                    f.seek(o)
                    f.write(old)
                f.truncate(recs[0][2])
            dropped += 1
    shutil.rmtree(undo)
    return dropped


def journal_state(d):
    """The state of the last valid record of the agent's journal (lib/journal.c's format)."""
    import json
    import zlib
    try:
        data = rd(os.path.join(d, "state", "journal"))
    except OSError:
        return "none"
    off, state = 0, "none"
    while off + 12 <= len(data) and data[off:off + 4] == b"FPJ1":
        n, crc = struct.unpack_from("<II", data, off + 4)
        payload = data[off + 12:off + 12 + n]
        if len(payload) != n or zlib.crc32(payload) != crc:
            break
        state = json.loads(payload)["state"]
        off += 12 + n
    return state


def next_boot(d):
    """The slot the simulated bootloader picks next (agent/bootloader.c's rule)."""
    env = {"BOOT_ORDER": "A B", "BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"}
    p = os.path.join(d, "bootenv")
    if os.path.exists(p):
        env.update(l.split("=", 1) for l in rd(p).decode().split("\n") if "=" in l)
    order = env["BOOT_ORDER"].split()
    for s in order:
        if int(env["BOOT_%s_LEFT" % s]) > 0:
            return s
    return order[0]


class Fleet:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.TemporaryDirectory(prefix="fp-powercut-")
        self.s = Server(config="poll_interval_seconds = 5\n").start()
        self.t = self.s.login()
        self.env = dict(os.environ, FLEETPATCH_SERVER=self.s.url, FLEETPATCH_TOKEN=self.t,
                        XDG_CONFIG_HOME=self.tmp.name)
        self.env.pop("FLEETPATCH_KEY_PASSPHRASE", None)
        self.lock = threading.Lock()
        self.cuts = 0
        self.bad = []
        self.at = {}
        self.fallbacks = 0
        self.images = {FACTORY}
        self.publish()

    def path(self, n):
        return os.path.join(self.tmp.name, n)

    def publish(self):
        with open(self.path("pass"), "w") as f:
            f.write("power cut passphrase\n")
        key = ["--key", self.path("k.key"), "--passphrase-file", self.path("pass")]
        run([CLI, "key", "generate", "--out", self.path("k"), "--passphrase-file",
             self.path("pass")], self.env)
        run([CLI, "root", "init", "--out", self.path("root.json"), "--root-key",
             self.path("k.pub"), "--targets-key", self.path("k.pub"), "--server-keys"], self.env)
        run([CLI, "metadata", "sign", self.path("root.json")] + key, self.env)
        run([CLI, "metadata", "push", self.path("root.json")], self.env)
        for name, version in (("fw-2.0.bin", "2.0"), ("fw-2.1.bin", "2.1")):
            data = version.encode() * 100 + os.urandom(FW_SIZE - 300)
            self.images.add(data)
            with open(self.path(name), "wb") as f:
                f.write(data)
            run([CLI, "release", "upload", self.path(name)], self.env)
            run([CLI, "release", "create", "--artifact", self.path(name), "--name", name,
                 "--version", version, "--hardware", "sim-1", "--security-counter", "2",
                 "--backend", "ab", "--from-server", "--out", self.path("t.json")], self.env)
            run([CLI, "metadata", "sign", self.path("t.json")] + key, self.env)
            run([CLI, "release", "publish", self.path("t.json")], self.env)

    def api(self, method, path, body=None):
        return self.s.request(method, path, body, token=self.t)

    def device(self, i, rng):
        name = "pc%03d" % i
        d = self.path(name)
        logs = self.path(name + ".log")
        os.makedirs(d)
        with open(os.path.join(d, "agent.conf"), "w") as f:
            f.write("server = %s\nidentity = serial:%s\nmodel = sim-1\ntuf_root = %s\n"
                    "poll_interval_seconds = 1\n"
                    # A download of about 0.3 s and a health check of 0.1 s, so that
                    # the cuts fall in every phase.
                    "download_max_bytes_per_second = 16000000\n"
                    "health_command = sleep 0.1\n"
                    # Progress records every MiB, so cuts resume downloads midway.
                    "download_sync_mib = 1\n" % (self.s.url, name, self.path("root.json")))
        env = dict(os.environ)
        if os.path.exists(SHIM):
            env["LD_PRELOAD"] = SHIM
            env["FP_SHIM_DIR"] = d
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
        state = {"proc": None}

        def start():
            log = open(logs, "ab")
            # A process group of its own: fleetpatch-agentd and its worker.
            state["proc"] = subprocess.Popen([AGENT, "--simulate", d], stdout=log, stderr=log,
                                             env=env, start_new_session=True)
            log.close()

        def cut():
            # A power cut stops the whole device at once: SIGKILL to the group
            # (fleetpatch-agentd and the worker it runs), and nothing of it may
            # still run when the disk is inspected or the device starts again.
            p = state["proc"]
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            deadline = time.time() + TIMEOUT
            while time.time() < deadline:
                try:
                    os.killpg(p.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.005)
            else:
                with self.lock:
                    self.bad.append("%s: the agent's processes outlived the cut" % name)
            if rng.random() < 0.5:
                drop_unsynced(d)
            elif os.path.isdir(os.path.join(d, ".undo")):
                shutil.rmtree(os.path.join(d, ".undo"))
            st = journal_state(d)
            slot = next_boot(d)
            img = os.path.join(d, "slot-%s.img" % slot.lower())
            with self.lock:
                self.cuts += 1
                self.at[st] = self.at.get(st, 0) + 1
                if not os.path.exists(img) and slot == "A":
                    return  # cut before the factory image was made: it is made at start
                if not os.path.exists(img) or rd(img) not in self.images:
                    self.bad.append("%s: cut %d: slot %s would boot an unknown image" %
                                    (name, self.cuts, slot))

        start()
        dev_id = None
        deadline = time.time() + CONVERGE_S
        while dev_id is None and time.time() < deadline:
            r = self.api("GET", "/api/v1/devices?per_page=1000").json()
            for x in r["items"]:
                if x["identity"] == "serial:" + name:
                    dev_id = x["id"]
            time.sleep(0.1)
        self.api("POST", "/api/v1/devices/%d/accept" % dev_id)
        targets = ["fw-2.0.bin", "fw-2.1.bin"]
        versions = {"fw-2.0.bin": "2.0", "fw-2.1.bin": "2.1"}
        k = 0
        while True:
            with self.lock:
                if self.cuts >= self.args.cuts:
                    break
            target = targets[k % 2]
            k += 1
            failing = rng.random() < 0.2
            hf = os.path.join(d, "health-fail")
            if failing:
                open(hf, "w").close()
            elif os.path.exists(hf):
                os.unlink(hf)
            before = self.api("GET", "/api/v1/devices/%d" % dev_id).json()
            old_version = before.get("firmware_version")
            r = self.api("POST", "/api/v1/devices/%d/assignment" % dev_id, {"target": target})
            assert r.status == 200, r
            # The first cut comes once the update has begun, the others soon
            # after each restart (which continues the journaled update at once).
            def begun():
                log = rd(logs)
                return log.count(b"assignment verified") + log.count(b"already runs")
            seen = begun()
            deadline = time.time() + 10
            while begun() == seen and time.time() < deadline:
                time.sleep(0.005)
            for _ in range(rng.randint(1, 4)):
                time.sleep(rng.uniform(0.0, 0.6))
                cut()
                start()
            want = old_version if failing else versions[target]
            deadline = time.time() + CONVERGE_S
            ok = False
            while time.time() < deadline:
                j = self.api("GET", "/api/v1/devices/%d" % dev_id).json()
                a = j.get("attributes", {})
                if j.get("firmware_version") == want and a.get("fp_state") == "idle" and \
                        (not failing or a.get("fp_update_status") == "failed"):
                    ok = True
                    break
                # Three cuts while the new slot boots use up its boot attempts: the
                # bootloader falls back, and the device reports that on the old
                # version. That is a safe, converged outcome too.
                if not failing and j.get("firmware_version") == old_version and \
                        a.get("fp_state") == "idle" and \
                        "fell back" in a.get("fp_last_error", ""):
                    ok = True
                    with self.lock:
                        self.fallbacks += 1
                    break
                time.sleep(0.2)
            if not ok:
                with self.lock:
                    self.bad.append("%s: did not converge to %s (failing=%s); log:\n%s" %
                                    (name, want, failing, rd(logs).decode()[-3000:]))
                break
            if failing:
                # A failed target is not retried for the same assignment; move on.
                os.unlink(hf)
        state["proc"].terminate()
        state["proc"].wait(timeout=TIMEOUT)
        if re.search(rb"AddressSanitizer|LeakSanitizer|runtime error:", rd(logs)):
            with self.lock:
                self.bad.append("%s: sanitizer report in %s" % (name, logs))

    def run(self):
        threads = []
        for i in range(self.args.devices):
            rng = random.Random(self.args.seed * 1000 + i)
            t = threading.Thread(target=self.device_guard, args=(i, rng))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()

    def device_guard(self, i, rng):
        try:
            self.device(i, rng)
        except Exception as e:  # a crash of the driver counts as a bad outcome
            with self.lock:
                self.bad.append("device %d: %r" % (i, e))

    def close(self):
        self.s.close()
        self.tmp.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cuts", type=int, default=200)
    ap.add_argument("--devices", type=int, default=4)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    fleet = Fleet(args)
    t0 = time.time()
    try:
        fleet.run()
    finally:
        fleet.close()
    print("powercut: seed %d, %d devices, %.1f s, shim %s" %
          (args.seed, args.devices, time.time() - t0,
           "on" if os.path.exists(SHIM) else "off"))
    print("powercut: updates that fell back after repeated cuts during the new slot's "
          "boot: %d" % fleet.fallbacks)
    print("powercut: journal state after each cut: %s" %
          ", ".join("%s %d" % kv for kv in sorted(fleet.at.items())))
    for b in fleet.bad[:10]:
        print("BAD:", b)
    print("bench: powercut_cuts %d" % fleet.cuts)
    print("bench: powercut_bad %d" % len(fleet.bad))
    return 1 if fleet.bad else 0


if __name__ == "__main__":
    sys.exit(main())
