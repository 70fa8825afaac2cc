"""The agent's U-Boot and GRUB adapters against the real Debian tools:
fw_printenv/fw_setenv from libubootenv-tool (a redundant environment in two
regular files, named by an fw_env.config given with `uboot_env_config`) and
grub-editenv from grub-common (a grubenv made by `grub-editenv FILE create`).

`fleetpatch-agent run --config` updates a device from a real fleetpatchd. The
test plays the bootloader between the agent's runs, as the reference scripts in
contrib/bootloader/ do it (BOOT_ORDER, BOOT_x_LEFT: the first slot in order
with attempts left, one spent; none left: all reset, the first taken), writing
the environment in the bootloader's own format (a U-Boot environment image
with its CRC and redundancy flag; GRUB's 1024-byte environment block) and
telling the agent the slot through `booted_slot_file`. Every expectation is
derived from the protocol in docs/design/agent.md and read back with
`fw_printenv` or `grub-editenv list`.

Covered for both: mark-good at the first start, the switch, a boot of the new
slot and the commit, a new slot that never comes up (its attempts run out and
the bootloader falls back; the agent rolls back), a corrupt environment
(bad CRC / invalid block) and a missing tool: a clear log line and no switch;
a U-Boot environment that does not hold the variables yet.
Also: the reference scripts use exactly the variables the agent writes."""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

from fpharness import BUILD, SOURCE, TIMEOUT, Operator, Server, agent_log, kill_all, wait_for

AGENT = os.path.join(BUILD, "fleetpatch-agent")
WAIT = 4 * TIMEOUT
ATTEMPTS = 3  # the agent's boot_attempts (its default)
ENV_SIZE = 0x4000  # one copy of the U-Boot environment
GRUBENV_SIZE = 1024
GRUBENV_HEAD = b"# GRUB Environment Block\n"
# What a board's U-Boot saves before fleetpatch ever ran: no BOOT_* variables yet.
FACTORY_ENV = {"bootdelay": "2", "baudrate": "115200", "bootcmd": "run fp_boot",
               "fp_boot": "load mmc 0:1 ${scriptaddr} boot.scr; source ${scriptaddr}"}
SLOTS = ("A", "B")


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def wr(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


# --- the bootloaders' own storage formats, as U-Boot and GRUB write them ------

def uboot_image(env, flag):
    """One copy of a redundant U-Boot environment: CRC-32 of the data, the
    flag byte (the higher one is current), then NAME=VALUE\\0 ... \\0, padded."""
    data = b"".join(b"%s=%s\0" % (k.encode(), v.encode()) for k, v in sorted(env.items()))
    data += b"\0"
    data += b"\0" * (ENV_SIZE - 5 - len(data))
    return struct.pack("<IB", zlib.crc32(data), flag) + data


def uboot_parse(image):
    """(env, flag) of one copy, or None when its CRC does not match."""
    crc, flag = struct.unpack("<IB", image[:5])
    data = image[5:]
    if zlib.crc32(data) != crc:
        return None
    env = {}
    for item in data.split(b"\0\0", 1)[0].split(b"\0"):
        if item:
            k, v = item.decode().split("=", 1)
            env[k] = v
    return env, flag


def grubenv_image(env):
    text = GRUBENV_HEAD + b"".join(b"%s=%s\n" % (k.encode(), v.encode())
                                   for k, v in env.items())
    return text + b"#" * (GRUBENV_SIZE - len(text))


def grubenv_parse(block):
    assert block.startswith(GRUBENV_HEAD) and len(block) == GRUBENV_SIZE, block[:64]
    return dict(l.split("=", 1) for l in block[len(GRUBENV_HEAD):].decode().split("\n")
                if "=" in l)


class UBoot:
    """U-Boot with a redundant environment in two files."""
    name = "uboot"

    def __init__(self, d):
        self.d = d
        self.copies = [os.path.join(d, "uboot-env.0"), os.path.join(d, "uboot-env.1")]
        self.config = os.path.join(d, "fw_env.config")
        wr(self.config, "# device  offset  size\n%s 0x0 0x%x\n%s 0x0 0x%x\n" % (
            self.copies[0], ENV_SIZE, self.copies[1], ENV_SIZE))
        # As `saveenv` leaves it on a new board: copy 0 current, copy 1 older.
        wr(self.copies[0], uboot_image(FACTORY_ENV, 1))
        wr(self.copies[1], uboot_image({}, 0))

    def conf(self):
        return "bootloader = uboot\nuboot_env_config = %s\n" % self.config

    def current(self):
        """U-Boot's choice between the copies: the valid one, or the higher flag."""
        p = [uboot_parse(rd(c)) for c in self.copies]
        assert p[0] or p[1], "no valid U-Boot environment copy"
        if not p[0] or not p[1]:
            i = 0 if p[0] else 1
        else:
            f0, f1 = p[0][1], p[1][1]
            # The flag counts up and wraps: 0 after 255 is the newer one.
            i = 1 if (f0, f1) == (255, 0) else 0 if (f0, f1) == (0, 255) else int(f1 > f0)
        return p[i][0], p[i][1], i

    def save(self, env):
        """`saveenv` with a redundant environment: the other copy, flag + 1."""
        _, flag, i = self.current()
        wr(self.copies[1 - i], uboot_image(env, (flag + 1) % 256))

    def load(self):
        return self.current()[0]

    def tool_read(self):
        """What the real fw_printenv prints for the boot variables."""
        p = subprocess.run(["fw_printenv", "-c", self.config, "BOOT_ORDER", "BOOT_A_LEFT",
                            "BOOT_B_LEFT", "bootcmd"], capture_output=True, timeout=TIMEOUT)
        assert p.returncode == 0, p
        return dict(l.split("=", 1) for l in p.stdout.decode().splitlines())

    def corrupt(self):
        for c in self.copies:
            b = bytearray(rd(c))
            b[10] ^= 0xFF
            wr(c, bytes(b))

    def tool(self):
        return "fw_printenv"


class Grub:
    """GRUB with its environment block, made by grub-install's `grub-editenv create`."""
    name = "grub"

    def __init__(self, d):
        self.d = d
        self.file = os.path.join(d, "grubenv")
        subprocess.run(["grub-editenv", self.file, "create"], check=True, timeout=TIMEOUT)

    def conf(self):
        return "bootloader = grub\nbootenv_file = %s\n" % self.file

    def save(self, env):
        """GRUB's save_env rewrites the block in place."""
        wr(self.file, grubenv_image(env))

    def load(self):
        return grubenv_parse(rd(self.file))

    def tool_read(self):
        p = subprocess.run(["grub-editenv", self.file, "list"], capture_output=True,
                           timeout=TIMEOUT)
        assert p.returncode == 0, p
        return dict(l.split("=", 1) for l in p.stdout.decode().splitlines())

    def corrupt(self):
        b = bytearray(rd(self.file))
        b[0:6] = b"GARBLE"
        wr(self.file, bytes(b))

    def tool(self):
        return "grub-editenv"


def bootloader_step(bl):
    """One boot, as contrib/bootloader/uboot-boot.cmd and grub.cfg do it: unset
    variables get their defaults; the first slot in BOOT_ORDER with attempts
    left is booted and one attempt spent; when none has any, all are reset and
    the first is booted. The environment is saved before the kernel starts."""
    env = bl.load()
    env.setdefault("BOOT_ORDER", "A B")
    for s in SLOTS:
        env.setdefault("BOOT_%s_LEFT" % s, str(ATTEMPTS))
    order = env["BOOT_ORDER"].split()
    pick = next((s for s in order if int(env["BOOT_%s_LEFT" % s]) > 0), None)
    if pick is None:
        for s in SLOTS:
            env["BOOT_%s_LEFT" % s] = str(ATTEMPTS)
        pick = order[0]
    env["BOOT_%s_LEFT" % pick] = str(int(env["BOOT_%s_LEFT" % pick]) - 1)
    bl.save(env)
    wr(os.path.join(bl.d, "booted"), pick + "\n")
    return pick


class BootloaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("fw_printenv", "fw_setenv", "grub-editenv"):
            if not shutil.which(tool):
                raise AssertionError("%s is missing: run FP_DEPS_TEST=1 scripts/deps.sh" % tool)
        cls.tmp = tempfile.TemporaryDirectory(prefix="fp-boot-")
        cls.s = Server(config="poll_interval_seconds = 5\n").start()
        cls.t = cls.s.login()
        cls.procs = []
        cls.publish()

    @classmethod
    def tearDownClass(cls):
        kill_all(cls.procs)
        reports = [d for d in os.listdir(cls.tmp.name)
                   if os.path.exists(os.path.join(cls.tmp.name, d, "agent.log")) and
                   re.search(rb"AddressSanitizer|LeakSanitizer|runtime error:",
                             rd(os.path.join(cls.tmp.name, d, "agent.log")))]
        cls.s.close()
        cls.tmp.cleanup()
        if reports:
            raise AssertionError("sanitizer reports in %s" % reports)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    def publish(cls):
        cls.op = Operator(cls.s, cls.t, cls.tmp.name).init_root()
        cls.fw = {}
        for name, version, counter in (("fw-2.0.bin", "2.0", 2), ("fw-3.0.bin", "3.0", 3)):
            cls.fw[name] = version.encode() * 1000 + os.urandom(200000)
            cls.op.release(name, cls.fw[name], version, counter, hardware="board-1")

    # --- one device: slots, booted slot file, configuration ------------------

    def device(self, name, kind):
        d = self.path(name)
        os.makedirs(d)
        bl = kind(d)
        wr(os.path.join(d, "slot-a"), b"factory image\n")
        conf = os.path.join(d, "agent.conf")
        wr(conf, "server = %s\nidentity = serial:%s\nmodel = board-1\ntuf_root = %s\n"
           "poll_interval_seconds = 1\nstate_dir = %s/state\nslot_a = %s/slot-a\n"
           "slot_b = %s/slot-b\nbooted_slot_file = %s/booted\nreboot_command = touch %s/reboot\n"
           "firmware_version = 1.0\npackages_db = none\nboot_attempts = %d\n"
           "health_command = test ! -e %s/health-fail\n%s" %
           (self.s.url, name, self.op.root, d, d, d, d, d, ATTEMPTS, d, bl.conf()))
        return d, bl, conf

    def start(self, d, conf, env=None):
        if os.path.exists(os.path.join(d, "reboot")):
            os.unlink(os.path.join(d, "reboot"))
        with open(os.path.join(d, "agent.log"), "ab") as log:
            p = subprocess.Popen([AGENT, "run", "--config", conf], stdout=log, stderr=log,
                                 env=env)
        self.procs.append(p)
        return p

    def stop(self, p):
        p.terminate()
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)

    def log(self, d):
        return agent_log(d)

    def wait(self, what, fn, d):
        return wait_for(what, fn, WAIT, lambda: self.log(d)[-6000:], step=0.2)

    def enrol(self, name, d):
        def find():
            r = self.s.request("GET", "/api/v1/devices?per_page=1000", token=self.t).json()
            return next((x for x in r["items"] if x["identity"] == "serial:" + name), None)
        dev = self.wait("enrolment request", find, d)
        r = self.s.request("POST", "/api/v1/devices/%d/accept" % dev["id"], token=self.t)
        self.assertEqual(r.status, 200, r)
        return dev["id"]

    def assign(self, dev, target):
        r = self.s.request("POST", "/api/v1/devices/%d/assignment" % dev, {"target": target},
                           token=self.t)
        self.assertEqual(r.status, 200, r)

    def dev(self, dev):
        return self.s.request("GET", "/api/v1/devices/%d" % dev, token=self.t).json()

    def attr(self, dev, name):
        return (self.dev(dev).get("attributes") or {}).get(name)

    def expect(self, bl, order, a, b):
        """The boot variables as the real tool reads them back."""
        got = bl.tool_read()
        self.assertEqual((got["BOOT_ORDER"], got["BOOT_A_LEFT"], got["BOOT_B_LEFT"]),
                         (order, str(a), str(b)))

    # --- the update cycle -----------------------------------------------------

    def cycle(self, kind):
        name = "cycle-" + kind.name
        d, bl, conf = self.device(name, kind)
        # First power-on: the bootloader script sets its defaults and boots A.
        self.assertEqual(bootloader_step(bl), "A")
        self.assertEqual(bl.load()["BOOT_A_LEFT"], str(ATTEMPTS - 1))
        p = self.start(d, conf)
        dev = self.enrol(name, d)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        # Mark-good at start in idle: A first with full attempts again.
        self.expect(bl, "A B", ATTEMPTS, ATTEMPTS)

        # The switch: the new slot B first with boot_attempts, A keeps its own.
        self.assign(dev, "fw-2.0.bin")
        self.wait("reboot", lambda: os.path.exists(os.path.join(d, "reboot")), d)
        self.stop(p)
        self.expect(bl, "B A", ATTEMPTS, ATTEMPTS)
        self.assertEqual(rd(os.path.join(d, "slot-b")), self.fw["fw-2.0.bin"])
        if kind is UBoot:
            # fw_setenv wrote the other copy with a higher flag; the old copy stays
            # valid, and the board's own variables were kept.
            env, flag, i = bl.current()
            self.assertEqual(env["bootcmd"], FACTORY_ENV["bootcmd"])
            self.assertIsNotNone(uboot_parse(rd(bl.copies[1 - i])))

        # The bootloader boots B (one attempt spent), the health check passes, commit.
        self.assertEqual(bootloader_step(bl), "B")
        self.expect(bl, "B A", ATTEMPTS, ATTEMPTS - 1)
        p = self.start(d, conf)
        self.wait("version 2.0 reported",
                  lambda: self.dev(dev).get("firmware_version") == "2.0", d)
        self.expect(bl, "B A", ATTEMPTS, ATTEMPTS)
        self.assertEqual(self.attr(dev, "fp_update_status"), "installed", self.dev(dev))

        # fw-3.0 into A, whose kernel never comes up: each boot spends an attempt
        # of A until none is left, then the bootloader falls back to B.
        self.assign(dev, "fw-3.0.bin")
        self.wait("reboot", lambda: os.path.exists(os.path.join(d, "reboot")), d)
        self.stop(p)
        self.expect(bl, "A B", ATTEMPTS, ATTEMPTS)
        for left in range(ATTEMPTS - 1, -1, -1):
            self.assertEqual(bootloader_step(bl), "A")
            self.expect(bl, "A B", left, ATTEMPTS)
        self.assertEqual(bootloader_step(bl), "B")
        self.expect(bl, "A B", 0, ATTEMPTS - 1)
        # The agent on B: rollback, B first with full attempts, none for A.
        p = self.start(d, conf)
        self.wait("the fallback reported",
                  lambda: "fell back" in (self.attr(dev, "fp_last_error") or ""), d)
        self.expect(bl, "B A", 0, ATTEMPTS)
        self.assertEqual(self.dev(dev)["firmware_version"], "2.0")
        self.assertEqual(self.attr(dev, "fp_update_status"), "failed")
        # The next boot takes B, as the bootloader would.
        self.stop(p)
        self.assertEqual(bootloader_step(bl), "B")
        if kind is UBoot:
            self.assertEqual(bl.tool_read()["bootcmd"], FACTORY_ENV["bootcmd"])

    def test_1_uboot_cycle(self):
        self.cycle(UBoot)

    def test_2_grub_cycle(self):
        self.cycle(Grub)

    # --- bad input: no switch -------------------------------------------------

    def refused(self, kind, how):
        name = "%s-%s" % (how, kind.name)
        d, bl, conf = self.device(name, kind)
        self.assertEqual(bootloader_step(bl), "A")
        env = dict(os.environ)
        p = self.start(d, conf)
        dev = self.enrol(name, d)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        self.stop(p)
        if how == "corrupt":
            bl.corrupt()
        else:
            # Only the shell's own directory on PATH: no bootloader tool there.
            os.makedirs(os.path.join(d, "bin"))
            os.symlink("/bin/sh", os.path.join(d, "bin", "sh"))
            env["PATH"] = os.path.join(d, "bin")
        before = {f: rd(os.path.join(d, f)) for f in os.listdir(d)
                  if f.startswith(("uboot-env", "grubenv"))}
        p = self.start(d, conf, env)
        self.assign(dev, "fw-2.0.bin")
        want = ("is not installed or cannot run" if how == "missing"
                else "failed (exit")
        self.wait("the error in the log",
                  lambda: "bootloader could not be switched" in self.log(d) and
                  "retrying at the next poll" in self.log(d), d)
        log = self.log(d)
        self.assertIn("bootloader: %s %s" % (bl.tool(), want), log)
        # A failing tool is run at most twice per poll (the switch, then the
        # rollback), not again and again until the step guard stops it.
        for chunk in log.split("retrying at the next poll"):
            self.assertLessEqual(chunk.count('msg="action failed"'), 2, chunk[-3000:])
        self.wait("the failure reported",
                  lambda: "could not be switched" in (self.attr(dev, "fp_last_error") or ""),
                  d)
        self.stop(p)
        # No switch, no reboot: the environment is as it was and A still boots.
        self.assertFalse(os.path.exists(os.path.join(d, "reboot")))
        for f, data in before.items():
            self.assertEqual(rd(os.path.join(d, f)), data, f)
        self.assertEqual(self.dev(dev)["firmware_version"], "1.0")
        if how == "missing":
            self.assertEqual(bootloader_step(bl), "A")

    def test_3_uboot_corrupt_environment(self):
        self.refused(UBoot, "corrupt")

    def test_4_grub_corrupt_environment(self):
        self.refused(Grub, "corrupt")

    def test_5_uboot_missing_tool(self):
        self.refused(UBoot, "missing")

    def test_6_grub_missing_tool(self):
        self.refused(Grub, "missing")

    def test_8_uboot_environment_without_the_variables(self):
        """A board whose saved environment has no BOOT_* variables yet (fw_printenv
        prints "NAME=" for them): they read as the defaults, the switch writes them."""
        d, bl, conf = self.device("unset-uboot", UBoot)
        wr(os.path.join(d, "booted"), "A\n")
        self.assertEqual(bl.tool_read()["BOOT_ORDER"], "")
        p = self.start(d, conf)
        dev = self.enrol("unset-uboot", d)
        self.wait("first report", lambda: self.dev(dev).get("firmware_version") == "1.0", d)
        self.assign(dev, "fw-2.0.bin")
        self.wait("reboot", lambda: os.path.exists(os.path.join(d, "reboot")), d)
        self.stop(p)
        self.assertNotIn("cannot mark the booted slot good", self.log(d))
        self.expect(bl, "B A", ATTEMPTS, ATTEMPTS)
        self.assertEqual(bootloader_step(bl), "B")

    # --- the reference scripts ------------------------------------------------

    def test_7_reference_scripts_use_the_agents_variables(self):
        """contrib/bootloader/: the variables of the scripts are the ones the agent
        writes (agent/bootloader.c), and each script counts down from every
        value boot_attempts allows (agent/config.h)."""
        src = rd(os.path.join(SOURCE, "agent", "bootloader.c")).decode()
        literals = " ".join(re.findall(r'"(?:[^"\\\n]|\\.)*"', src))
        agent_vars = set(re.findall(r"\bBOOT_[A-Z_]+\b", literals))
        self.assertEqual(agent_vars, {"BOOT_ORDER", "BOOT_A_LEFT", "BOOT_B_LEFT"})
        cap = int(re.search(r"#define AGENT_ATTEMPTS_MAX\s+(\d+)",
                            rd(os.path.join(SOURCE, "agent", "config.h")).decode()).group(1))
        scripts = {}
        for script in ("uboot-boot.cmd", "grub.cfg"):
            text = rd(os.path.join(SOURCE, "contrib", "bootloader", script)).decode()
            code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
            scripts[script] = code
            self.assertEqual(set(re.findall(r"\bBOOT_[A-Z_]+\b", code)), agent_vars, script)
            for s in SLOTS:
                self.assertIn("fleetpatch.slot=%s" % s, code, script)
            self.assertIn('"A B"', code, script)  # the default order
        # U-Boot's setexpr is hexadecimal: the script looks the count up instead.
        self.assertNotIn("setexpr", scripts["uboot-boot.cmd"])
        self.assertIn("for n in %s; do" % " ".join(str(n) for n in range(1, cap + 1)),
                      scripts["uboot-boot.cmd"])
        # GRUB has no arithmetic: its script spells out each count of each slot.
        for s in SLOTS:
            for n in range(1, cap + 1):
                self.assertIn('[ "${BOOT_%s_LEFT}" = "%d" ]; then set BOOT_%s_LEFT=%d' %
                              (s, n, s, n - 1), scripts["grub.cfg"])

if __name__ == "__main__":
    unittest.main(verbosity=2)
