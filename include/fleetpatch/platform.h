/*
 * platform.h — the CPE names a device's inventory stands for.
 *
 * NVD describes vulnerable products as CPE names; a device is described by
 * its inventory. This module turns one into the other: the firmware or
 * operating system (`o:`), the hardware (`h:`) and every installed component
 * that names a CPE (`a:`). A model → CPE mapping (editable by operators)
 * wins over the derived names, because vendors' CPE names rarely equal their
 * marketing names (D-Link is "dlink", Synology's DSM is
 * "diskstation_manager").
 */
#ifndef FLEETPATCH_PLATFORM_H
#define FLEETPATCH_PLATFORM_H

#include <stddef.h>

#include "fleetpatch/cpe.h"
#include "fleetpatch/device.h"

/* A mapping for one (manufacturer, model): CPE 2.3 names, or NULL. */
struct fp_platform_map {
	const char *firmware_cpe; /* the version attribute is replaced by the firmware version */
	const char *hardware_cpe; /* used as given */
	/* Components of the firmware image (its SBOM), added to the device's own. */
	const struct fp_component *extra;
	size_t n_extra;
};

/*
 * Builds the device's CPE set into *out (caller frees with
 * fp_platform_free). Without a mapping: Android → o:google:android:OS_VERSION,
 * iOS/iPadOS → o:apple:iphone_os / ipados:OS_VERSION, otherwise
 * o:VENDOR:MODEL_firmware:FIRMWARE and h:VENDOR:MODEL:- from the
 * manufacturer and model (lower case, spaces as '_'). Components with a CPE
 * contribute it (with the component's version when the CPE has none).
 * Components without a CPE are not matched by CPE. Invalid mapping CPEs are
 * an error naming the mapping.
 */
int fp_platform_cpes(const struct fp_device_rec *r, const struct fp_platform_map *map,
                     struct fp_cpe **out, size_t *n, struct fp_err *err) FP_WUR;
void fp_platform_free(struct fp_cpe *cpes, size_t n);

#endif
