# uboot-boot.cmd: fleetpatch's A/B slot selection for U-Boot (hush shell).
#
# The device side of the boot protocol in docs/design/agent.md: fleetpatch-agent
# writes BOOT_ORDER ("A B" or "B A") and BOOT_A_LEFT / BOOT_B_LEFT (boot attempts
# left, decimal) with fw_setenv; this script boots the first slot in BOOT_ORDER
# with attempts left and spends one; when no slot has any, it gives both
# fp_attempts again and boots the first. It saves the environment before the
# kernel starts, so a boot that hangs has used its attempt.
#
# Build it with: mkimage -A arm64 -T script -C none -n fleetpatch -d uboot-boot.cmd boot.scr
# The board's environment provides: fp_attempts (the agent's boot_attempts, 3),
# fp_A_root / fp_B_root (root= of each slot), fp_A_part / fp_B_part (the
# partition holding each slot's kernel), fp_bootargs, and devtype/devnum.
#
# The counters are decremented through a lookup, not setexpr: setexpr reads and
# writes hexadecimal, which would turn 10 attempts into "f".

test -n "${fp_attempts}" || setenv fp_attempts 3
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT ${fp_attempts}
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT ${fp_attempts}

setenv fp_slot
for s in ${BOOT_ORDER}; do
	if test -z "${fp_slot}" && test "${s}" = "A" && test ${BOOT_A_LEFT} -gt 0; then
		setenv fp_slot A
	fi
	if test -z "${fp_slot}" && test "${s}" = "B" && test ${BOOT_B_LEFT} -gt 0; then
		setenv fp_slot B
	fi
done

# No attempts left anywhere: both slots get theirs again; the first in order boots.
if test -z "${fp_slot}"; then
	echo "fleetpatch: no slot has boot attempts left; resetting them"
	setenv BOOT_A_LEFT ${fp_attempts}
	setenv BOOT_B_LEFT ${fp_attempts}
	for s in ${BOOT_ORDER}; do
		test -n "${fp_slot}" || setenv fp_slot ${s}
	done
fi

# Spend one attempt of the chosen slot (1..10, the agent's boot_attempts range).
setenv fp_prev 0
for n in 1 2 3 4 5 6 7 8 9 10; do
	if test "${fp_slot}" = "A" && test "${BOOT_A_LEFT}" = "${n}"; then
		setenv fp_left ${fp_prev}
	fi
	if test "${fp_slot}" = "B" && test "${BOOT_B_LEFT}" = "${n}"; then
		setenv fp_left ${fp_prev}
	fi
	setenv fp_prev ${n}
done
if test "${fp_slot}" = "A"; then
	setenv BOOT_A_LEFT ${fp_left}
	setenv bootargs "${fp_bootargs} root=${fp_A_root} rootwait fleetpatch.slot=A"
	setenv fp_part ${fp_A_part}
else
	setenv BOOT_B_LEFT ${fp_left}
	setenv bootargs "${fp_bootargs} root=${fp_B_root} rootwait fleetpatch.slot=B"
	setenv fp_part ${fp_B_part}
fi
setenv fp_prev
setenv fp_left
saveenv

echo "fleetpatch: booting slot ${fp_slot} (BOOT_ORDER=${BOOT_ORDER} A=${BOOT_A_LEFT} B=${BOOT_B_LEFT})"
load ${devtype} ${devnum}:${fp_part} ${kernel_addr_r} /boot/Image
load ${devtype} ${devnum}:${fp_part} ${fdt_addr_r} /boot/board.dtb
booti ${kernel_addr_r} - ${fdt_addr_r}
