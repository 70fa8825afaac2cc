"""bench/agent.py IMAGE RUNS — the measurements of bench/agent.sh (see there)."""
import os
import shutil
import signal
import socket
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


PEER_IDLE_S = 10  # how long each peer daemon runs before it is measured
POLL_S = 60  # the simulated device's poll interval; SIGUSR1 makes it poll sooner
IDLE_SAMPLE_S = 3  # how long the idle agent is sampled
POLLS = 5  # polls forced with SIGUSR1 to measure a poll's CPU and peak memory


def cpu_ms(pid, children):
    """utime+stime of pid, or of its waited-for children (cutime+cstime), in ms."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    ticks = int(st[13]) + int(st[14]) if children else int(st[11]) + int(st[12])
    return ticks * 1000.0 / os.sysconf("SC_CLK_TCK")

DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


def tree_pids(root):
    """root and all its descendants, from /proc/*/stat."""
    children = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open("/proc/%s/stat" % e) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(e))
    out, todo = [], [root]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(children.get(x, []))
    return out


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def openssl_ca(d, purpose=None):
    """A throwaway self-signed CA certificate (ca.pem) and key in d."""
    a = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         os.path.join(d, "ca.key"), "-out", os.path.join(d, "ca.pem"), "-days", "30",
         "-subj", "/CN=fleetpatch-bench-ca", "-addext", "keyUsage=digitalSignature,keyCertSign"]
    if purpose:
        a += ["-addext", "extendedKeyUsage=" + purpose]
    subprocess.run(a, check=True, capture_output=True)
    return os.path.join(d, "ca.pem")


class Daemons:
    """Processes started in their own session; stop() kills every process group."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log, env=None, cwd=None):
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever is left of the group (swupdate's webserver, ...)
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.procs = []


def private_bus(d, dm):
    """A dbus-daemon of our own (system-bus type, permissive policy) on a socket in d."""
    sock = os.path.join(d, "bus")
    with open(os.path.join(d, "dbus.conf"), "w") as f:
        f.write(DBUS_CONF % sock)
    log = open(os.path.join(d, "dbus.log"), "wb")
    p = dm.start(["dbus-daemon", "--config-file=" + os.path.join(d, "dbus.conf"), "--nofork"],
                 log)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    return p, "unix:path=" + sock


def start_swupdate(d, dm):
    """swupdate as Debian's init script runs it (swupdate -v), plus the webserver
    (-w) and a minimal swupdate.cfg; -k: it is built for signed images and
    refuses to start without a certificate."""
    os.makedirs(os.path.join(d, "www"))
    ca = openssl_ca(d, "emailProtection")
    with open(os.path.join(d, "swupdate.cfg"), "w") as f:
        f.write('globals: {\n\tverbose = true;\n\tloglevel = 5;\n};\n'
                'identify: ( { name = "board"; value = "sim-1"; } );\n')
    env = dict(os.environ, TMPDIR=d)  # its IPC sockets (sockinstctrl, swupdateprog)
    log = open(os.path.join(d, "log"), "wb")
    port = free_port()
    p = dm.start(["swupdate", "-v", "-f", os.path.join(d, "swupdate.cfg"), "-k", ca,
                  "-H", "sim-1:1.0", "-w", "-r %s -p %d" % (os.path.join(d, "www"), port)],
                 log, env=env, cwd=d)
    return p, None


def start_rauc(d, dm):
    """rauc service on a private system bus: compatible, bootloader=noop, one
    raw slot pair of files, a keyring holding a throwaway CA."""
    bus, addr = private_bus(d, dm)
    ca = openssl_ca(d)
    for n in ("rootfs.0", "rootfs.1"):
        with open(os.path.join(d, n), "wb") as f:
            f.truncate(16 << 20)
    os.makedirs(os.path.join(d, "data"))
    with open(os.path.join(d, "system.conf"), "w") as f:
        f.write("[system]\ncompatible=sim-1\nbootloader=noop\ndata-directory=%s\n\n"
                "[keyring]\npath=%s\n\n"
                "[slot.rootfs.0]\ndevice=%s\ntype=raw\nbootname=A\n\n"
                "[slot.rootfs.1]\ndevice=%s\ntype=raw\nbootname=B\n"
                % (os.path.join(d, "data"), ca, os.path.join(d, "rootfs.0"),
                   os.path.join(d, "rootfs.1")))
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=addr)
    log = open(os.path.join(d, "log"), "wb")
    p = dm.start(["rauc", "service", "--conf=" + os.path.join(d, "system.conf")], log,
                 env=env, cwd=d)
    return p, bus


def start_mender(d, dm):
    """mender daemon (Debian's mender-client 3.4, one Go binary) with a config
    whose server is 127.0.0.1 on a port nobody listens on, its data dir in d
    and a private system bus. Debian ships neither /etc/mender/artifact_info
    nor an identity script, without which the daemon never gets past its
    first checks; both are provided in a mount namespace of its own (bind
    mounts over /etc/mender and /usr/share/mender/identity), so nothing on
    the host changes."""
    bus, addr = private_bus(d, dm)
    data, etc, ident = (os.path.join(d, x) for x in ("data", "etc", "identity"))
    for x in (data, etc, ident):
        os.makedirs(x)
    with open(os.path.join(data, "device_type"), "w") as f:
        f.write("device_type=sim-1\n")
    with open(os.path.join(etc, "artifact_info"), "w") as f:
        f.write("artifact_name=bench-1.0\n")
    script = os.path.join(ident, "mender-device-identity")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho serial=bench-mender-1\n")
    os.chmod(script, 0o755)
    port = free_port()  # bound and released: nobody listens there
    with open(os.path.join(d, "mender.conf"), "w") as f:
        f.write('{\n  "ServerURL": "https://127.0.0.1:%d",\n  "TenantToken": "",\n'
                '  "UpdatePollIntervalSeconds": 1800,\n  "InventoryPollIntervalSeconds": 28800,\n'
                '  "RetryPollIntervalSeconds": 300,\n  "DeviceTypeFile": "%s"\n}\n'
                % (port, os.path.join(data, "device_type")))
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=addr)
    log = open(os.path.join(d, "log"), "wb")
    cmd = ("mount --bind %s /etc/mender && mount --bind %s /usr/share/mender/identity && "
           "exec mender --no-syslog --config %s --fallback-config %s --data %s daemon"
           % (etc, ident, os.path.join(d, "mender.conf"), os.path.join(d, "none.conf"), data))
    p = dm.start(["unshare", "--mount", "--propagation", "private", "sh", "-c", cmd], log,
                 env=env, cwd=d)
    return p, bus


def measure_peers(tmp, info):
    """Each installed peer daemon idles PEER_IDLE_S seconds in a directory of
    its own; returns {peer: KiB} summed over its process tree (the private
    dbus-daemon not counted, reported apart)."""
    out = {}
    for name, binary, start in (("swupdate", "swupdate", start_swupdate),
                                ("rauc", "rauc", start_rauc),
                                ("mender-client", "mender", start_mender)):
        if not shutil.which(binary):
            info("peer_idle_not_measured", name, "(not installed)")
            continue
        d = os.path.join(tmp, "peer-" + name)
        os.makedirs(d)
        dm = Daemons()
        try:
            p, bus = start(d, dm)
            time.sleep(PEER_IDLE_S)
            if p.poll() is not None:
                with open(os.path.join(d, "log"), "rb") as f:
                    tail = f.read().decode(errors="replace").strip().splitlines()[-3:]
                info("peer_idle_not_measured", name, "(exited with %s after start: %s)"
                     % (p.returncode, " | ".join(tail)))
                continue
            pids = tree_pids(p.pid)
            per = [(x, rss_kib(x)) for x in pids]
            total = sum(k for _, k in per)
            out[name] = total
            info("peer_idle_rss_kib", name, total, "(%d processes: %s)"
                 % (len(per), " + ".join(str(k) for _, k in per)))
            info("peer_idle_rss_anon_kib", name, sum(rss_kib(x, "RssAnon") for x in pids),
                 "(private memory)")
            if bus is not None:
                info("peer_private_dbus_rss_kib", name, rss_kib(bus.pid), "(not counted)")
        except (OSError, subprocess.CalledProcessError) as e:
            info("peer_idle_not_measured", name, "(%s)" % e)
        finally:
            dm.stop()
    return out


def stripped_size(path, tmp):
    out = os.path.join(tmp, os.path.basename(path) + ".stripped")
    subprocess.run(["strip", "-o", out, path], check=True, capture_output=True)
    n = os.path.getsize(out)
    os.unlink(out)
    return n


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
        poll_peak, poll_cpu = [], []

        def tree_rss():
            return sum(rss_kib(x) for x in tree_pids(proc.pid))

        def device(name, extra_args=()):
            """A fresh simulated device polling every POLL_S s, accepted and reported."""
            d = p(name)
            os.makedirs(d)
            with open(os.path.join(d, "agent.conf"), "w") as f:
                f.write("server = %s\nidentity = serial:%s\nmodel = sim-1\n"
                        "tuf_root = %s\npoll_interval_seconds = %d\n"
                        % (s.url, name, p("root.json"), POLL_S))
            log = open(p(name + ".log"), "wb")
            pr = subprocess.Popen([AGENT, "--simulate", d] + list(extra_args), stdout=log,
                                  stderr=log)
            log.close()
            dev = None
            while dev is None:
                for x in s.request("GET", "/api/v1/devices?per_page=1000",
                                   token=t).json()["items"]:
                    if x["identity"] == "serial:" + name:
                        dev = x["id"]
                time.sleep(0.1)
            s.request("POST", "/api/v1/devices/%d/accept" % dev, token=t)
            pr.send_signal(signal.SIGUSR1)  # poll now, not in POLL_S
            while s.request("GET", "/api/v1/devices/%d" % dev,
                            token=t).json().get("firmware_version") != "1.0":
                time.sleep(0.1)
            return d, pr, dev

        def settle(pr):
            """Until only the idle process is left (no worker), then a moment more."""
            while len(tree_pids(pr.pid)) > 1:
                time.sleep(0.01)
            time.sleep(0.5)

        def idle_rss(pr):
            """Median of the tree's VmRSS sampled every 20 ms for IDLE_SAMPLE_S s."""
            settle(pr)
            samples, end = [], time.monotonic() + IDLE_SAMPLE_S
            while time.monotonic() < end:
                samples.append(sum(rss_kib(x) for x in tree_pids(pr.pid)))
                time.sleep(0.02)
            return int(statistics.median(samples))

        def polls(pr, cpu_of):
            """POLLS polls forced with SIGUSR1: CPU ms per poll and the tree's peak RSS."""
            hi = [0]
            c0 = cpu_of(pr.pid)
            for _ in range(POLLS):
                settle(pr)
                pr.send_signal(signal.SIGUSR1)
                end = time.monotonic() + 0.5
                while time.monotonic() < end:
                    hi[0] = max(hi[0], sum(rss_kib(x) for x in tree_pids(pr.pid)))
                    time.sleep(0.005)
            settle(pr)
            return (cpu_of(pr.pid) - c0) / POLLS, hi[0]

        for r in range(runs):
            # dd: the same bytes into a slot file, synced.
            slot = p("dd-slot.img")
            t0 = time.monotonic()
            subprocess.run(["dd", "if=" + image, "of=" + slot, "bs=1M", "conv=fsync"],
                           check=True, capture_output=True)
            dd_ms.append((time.monotonic() - t0) * 1000)
            os.unlink(slot)
            # The agent: a fresh simulated device each run.
            d, proc, dev = device("bench%d" % r)
            idle.append(idle_rss(proc))
            idle_anon.append(sum(rss_kib(x, "RssAnon") for x in tree_pids(proc.pid)))
            # Polls with nothing to do: the workers' CPU (children's time of fleetpatch-agentd).
            cpu, hi = polls(proc, lambda pid: cpu_ms(pid, children=True))
            poll_cpu.append(cpu)
            poll_peak.append(hi)
            s.request("POST", "/api/v1/devices/%d/assignment" % dev, {"target": "big.img"},
                      token=t)
            hi = [0]
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    hi[0] = max(hi[0], tree_rss())
                    time.sleep(0.02)
            th = threading.Thread(target=sample)
            th.start()
            proc.send_signal(signal.SIGUSR1)
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
            shutil.rmtree(d)
        # The same agent polling from one process (--single-process), for comparison.
        d, proc, dev = device("bench-single", ["--single-process"])
        single_idle = int(idle_rss(proc))
        single_cpu, _ = polls(proc, lambda pid: cpu_ms(pid, children=False))
        proc.terminate()
        proc.wait()
        shutil.rmtree(d)
        size_b = os.path.getsize(AGENT)
        stripped = p("agent.stripped")
        subprocess.run(["strip", "-o", stripped, AGENT], check=True)
        info = lambda *a: print("info:", *a)
        info("agent_binary_bytes", os.path.getsize(stripped), "(stripped;", size_b, "unstripped)")
        info("agentd_binary_bytes", stripped_size(AGENT + "d", tmp), "(fleetpatch-agentd, static,"
             " stripped)")
        for peer in ("swupdate", "rauc", "mender", "mender-update"):
            path = shutil.which(peer)
            if path:
                real = os.path.realpath(path)
                info("peer_binary_bytes", peer, stripped_size(real, tmp), "(stripped;",
                     os.path.getsize(real), "as installed)")
            else:
                info("peer_not_installed", peer)
        peers = measure_peers(tmp, info)
        info("agent_idle_rss_kib", statistics.median(idle))
        info("agent_idle_rss_anon_kib", statistics.median(idle_anon),
             "(private memory; the rest of RSS is shared libraries' pages)")
        info("agent_install_peak_rss_kib", statistics.median(peak), "(%d MiB image)" % (size >> 20))
        info("agent_poll_peak_rss_kib", statistics.median(poll_peak),
             "(a poll with nothing to do: fleetpatch-agentd plus its worker)")
        info("agent_poll_cpu_ms", round(statistics.median(poll_cpu), 1),
             "(per poll with nothing to do, worker started from fleetpatch-agentd)")
        info("agent_single_process_idle_rss_kib", single_idle,
             "(--single-process: the agent polls from one resident process)")
        info("agent_single_process_poll_cpu_ms", round(single_cpu, 1))
        am, dm = statistics.median(agent_ms), statistics.median(dd_ms)
        info("agent_install_mib_s", round((size / 1048576) / (am / 1000), 1))
        info("dd_mib_s", round((size / 1048576) / (dm / 1000), 1))
        print("bench: install_vs_dd %.2f x" % (dm / am))
        print("bench: agent_idle_rss %d KiB" % statistics.median(idle))
        print("bench: agent_install_rss %d KiB" % statistics.median(peak))
        if peers:
            name = min(peers, key=peers.get)
            info("smallest_peer", name, peers[name], "KiB")
            print("bench: agent_rss_vs_smallest_peer %.3f x" % (statistics.median(idle)
                                                              / peers[name]))
        else:
            info("agent_rss_vs_smallest_peer not computed: no peer daemon stayed up")
    finally:
        s.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
