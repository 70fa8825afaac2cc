/*
 * cmd_device.c — `fleetpatch device …`: the device inventory
 * (/api/v1/devices). --set field=value and --tag are checked here with the
 * same rules the server applies (lib/device.c), so a typo is a usage error
 * that names the field before anything is sent.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fleetpatch/device.h"
#include "http.h"
#include "output.h"

#define PEM_MAX  16384              /* bytes of a public key file */
#define SBOM_MAX ((size_t)32 << 20) /* bytes of an SBOM; the server's cap too */

static const char usage[] =
    "usage: fleetpatch device COMMAND ...\n"
    "\n"
    "  list [--filter EXPR] [--status S] [--sort [-]FIELD] [--page N] [--per-page N] [--all]\n"
    "  show ID\n"
    "  add --identity I [--public-key-file PEM] [--set FIELD=VALUE ...] [--tag T ...]\n"
    "  update ID [--set FIELD=VALUE ...] [--tag T ...] [--clear FIELD ...]\n"
    "  delete ID\n"
    "  accept ID\n"
    "  reject ID\n"
    "  sbom ID FILE\n"
    "\n"
    "FIELD is a device attribute: identity, name, serial, manufacturer, model,\n"
    "hw_revision, firmware_version, platform, os_version, patch_level,\n"
    "update_mechanism, ip, mac, mac_vendor, hostname, network, criticality, exposure,\n"
    "owner, eol_date. Each command has --help.\n";

static const struct cli_col device_cols[] = {
    {"ID", "id", 0},
    {"IDENTITY", "identity", 28},
    {"NAME", "name", 20},
    {"STATUS", "status", 0},
    {"MANUFACTURER", "manufacturer", 14},
    {"MODEL", "model", 16},
    {"FIRMWARE", "firmware_version", 14},
    {"IP", "ip", 39},
    {"LAST SEEN", "last_seen", 0},
    {NULL, NULL, 0},
};

/* The device path for operand id: "/api/v1/devices/ID" plus suffix. */
static int device_path(const char *id, const char *suffix, struct cli_url *u, const char *use)
{
	long v;
	if (cli_parse_long(id, 1, LONG_MAX, &v))
		return cli_usage_error(use, "'%s' is not a device id (a positive number)", id);
	cli_url_init(u, "/api/v1/devices/");
	cli_url_seg(u, id);
	cli_url_add(u, suffix);
	return 0;
}

static int device_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch device list [--filter EXPR] [--status S] [--sort [-]FIELD]\n"
	    "                              [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists devices, 50 per page by default.\n"
	    "\n"
	    "  --filter EXPR   a filter expression, e.g. 'tags == camera and firmware < \"5.5\"'\n"
	    "  --status S      discovered, preauthorized, pending, accepted or rejected\n"
	    "  --sort FIELD    sort by a device field; -FIELD for descending\n"
	    "  --page N, --per-page N (1-1000), --all (every page)\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    CLI_PAGING_OPTS,
	    {"filter", required_argument, NULL, 'f'},
	    {"status", required_argument, NULL, 's'},
	    {"sort", required_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	const char *filter = NULL, *status = NULL, *sort = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'f')
			filter = optarg;
		else if (o == 's')
			status = optarg;
		else if (o == CLI_OPT_FIRST_OWN)
			sort = optarg;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/devices");
	cli_url_query(&u, "filter", filter);
	cli_url_query(&u, "status", status);
	cli_url_query(&u, "sort", sort);
	return cli_list(c, u.s, device_cols);
}

/* show, delete, accept, reject: one device id, one request. */
static int device_one(struct cli *c, int argc, char **argv, const char *method, const char *suffix,
                      const char *use)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	struct cli_url u;
	if (device_path(argv[optind], suffix, &u, use))
		return CLI_EXIT_USAGE;
	return cli_show(c, method, u.s, NULL);
}

static int device_show(struct cli *c, int argc, char **argv)
{
	return device_one(c, argc, argv, "GET", "",
	                  "usage: fleetpatch device show ID [--json]\n\nShows one device.\n");
}

static int device_delete(struct cli *c, int argc, char **argv)
{
	return device_one(c, argc, argv, "DELETE", "",
	                  "usage: fleetpatch device delete ID\n\nDeletes a device.\n");
}

static int device_accept(struct cli *c, int argc, char **argv)
{
	return device_one(c, argc, argv, "POST", "/accept",
	                  "usage: fleetpatch device accept ID\n\nAccepts a device's enrolment "
	                  "(it must have a key: pending, or pre-authorised).\n");
}

static int device_reject(struct cli *c, int argc, char **argv)
{
	return device_one(c, argc, argv, "POST", "/reject",
	                  "usage: fleetpatch device reject ID\n\nRejects a device; its tokens "
	                  "stop working.\n");
}

static int device_sbom(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch device sbom ID FILE [--json]\n"
	    "\n"
	    "Uploads the software bill of materials of a device (CycloneDX or SPDX JSON, at\n"
	    "most 32 MiB). Its components replace the device's component list; their CPE\n"
	    "names and versions are matched against the imported CVE records.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 2))
		return c->rc;
	struct cli_url u;
	if (device_path(argv[optind], "/sbom", &u, use))
		return CLI_EXIT_USAGE;
	struct cli_response rs = {0};
	json_t *o = NULL;
	int ex = cli_upload(c, u.s, argv[optind + 1], SBOM_MAX, &rs, &o);
	if (ex == CLI_EXIT_OK) {
		if (c->json)
			cli_print_body(rs.body, rs.len);
		else
			cli_print_object(o);
		cli_response_free(&rs);
	}
	json_decref(o);
	return ex;
}

/* ---- add and update: building the JSON body ---- */

/* Applies --set FIELD=VALUE to body after checking it; an empty VALUE becomes null. */
static int set_field(json_t *body, const char *arg, const char *use)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name))
		return cli_usage_error(use, "--set '%s': expected FIELD=VALUE", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	int f = fp_device_field_lookup(name);
	if (f < 0)
		return cli_usage_error(use, "--set: '%s' is not a device field", name);
	const char *key = fp_device_field_name((enum fp_device_field)f);
	if (!eq[1])
		return json_object_set_new(body, key, json_null()) ? CLI_EXIT_FAIL : 0;
	struct fp_device_rec rec;
	struct fp_err err = {0};
	fp_device_rec_init(&rec);
	int rc = fp_device_rec_set(&rec, name, eq + 1, &err);
	if (rc == 0)
		rc = json_object_set_new(body, key, json_string(rec.f[f]));
	fp_device_rec_free(&rec);
	if (rc)
		return cli_usage_error(use, "--set: %s", err.msg[0] ? err.msg : "invalid value");
	return 0;
}

static int add_tag(json_t *body, const char *tag, const char *use)
{
	struct fp_device_rec rec;
	struct fp_err err = {0};
	fp_device_rec_init(&rec);
	int rc = fp_device_rec_add_tag(&rec, tag, &err);
	fp_device_rec_free(&rec);
	if (rc)
		return cli_usage_error(use, "--tag '%s': %s", tag, err.msg);
	json_t *tags = json_object_get(body, "tags");
	if (!tags) {
		tags = json_array();
		json_object_set_new(body, "tags", tags);
	}
	return json_array_append_new(tags, json_string(tag)) ? CLI_EXIT_FAIL : 0;
}

static int read_pem(const char *path, json_t *body)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		cli_error("cannot open %s: %m", path);
		return CLI_EXIT_FAIL;
	}
	char *pem = malloc(PEM_MAX + 1);
	size_t n = pem ? fread(pem, 1, PEM_MAX + 1, f) : 0;
	int bad = ferror(f) || !pem;
	fclose(f);
	int ex = CLI_EXIT_OK;
	if (bad || n == 0 || n > PEM_MAX) {
		cli_error("%s: expected a PEM public key of at most %d bytes", path, PEM_MAX);
		ex = CLI_EXIT_FAIL;
	} else {
		pem[n] = '\0';
		json_object_set_new(body, "public_key", json_string(pem));
	}
	free(pem);
	return ex;
}

static int device_add(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch device add --identity I [--public-key-file PEM]\n"
	    "                             [--set FIELD=VALUE ...] [--tag T ...] [--json]\n"
	    "\n"
	    "Adds a device. With --public-key-file the device is pre-authorised: its agent\n"
	    "can enrol with that key without waiting for an operator.\n"
	    "\n"
	    "  --identity I           the device's stable identity (e.g. serial:ABC123)\n"
	    "  --public-key-file PEM  the device's public key\n"
	    "  --set FIELD=VALUE      a device attribute (repeatable); see 'device --help'\n"
	    "  --tag T                a tag (repeatable)\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"identity", required_argument, NULL, 'i'},
	    {"public-key-file", required_argument, NULL, 'k'},
	    {"set", required_argument, NULL, 's'},
	    {"tag", required_argument, NULL, 't'},
	    CLI_OPTS_END,
	};
	json_t *body = json_object();
	const char *identity = NULL, *pem = NULL;
	int o, ex = CLI_EXIT_OK, stop = 0;
	while (!stop && ex == CLI_EXIT_OK && (o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			stop = 1;
		else if (o == 'i')
			identity = optarg;
		else if (o == 'k')
			pem = optarg;
		else if (o == 's')
			ex = set_field(body, optarg, use);
		else if (o == 't')
			ex = add_tag(body, optarg, use);
	}
	if (stop || ex || cli_operands(c, argc, argv, 0, use)) {
		ex = ex ? ex : c->rc;
		goto out;
	}
	if (!identity) {
		ex = cli_usage_error(use, "--identity is required");
		goto out;
	}
	char arg[FP_DEVICE_STR_MAX + 16];
	snprintf(arg, sizeof(arg), "identity=%s", identity);
	if ((ex = set_field(body, arg, use)) || (pem && (ex = read_pem(pem, body))))
		goto out;
	ex = cli_show(c, "POST", "/api/v1/devices", body);
out:
	json_decref(body);
	return ex;
}

static int device_update(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch device update ID [--set FIELD=VALUE ...] [--attr KEY=VALUE ...]\n"
	    "                                   [--tag T ...] [--clear FIELD ...] [--json]\n"
	    "\n"
	    "Changes a device's attributes; the ones not named stay as they are.\n"
	    "\n"
	    "  --set FIELD=VALUE  set an attribute (repeatable)\n"
	    "  --attr KEY=VALUE   set a free-form attribute, e.g. timezone=Europe/Berlin\n"
	    "  --tag T            the device's tags become exactly the --tag values given\n"
	    "  --clear FIELD      forget an attribute; --clear tags removes every tag\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"set", required_argument, NULL, 's'},
	    {"tag", required_argument, NULL, 't'},
	    {"clear", required_argument, NULL, CLI_OPT_FIRST_OWN},
	    {"attr", required_argument, NULL, CLI_OPT_FIRST_OWN + 1},
	    CLI_OPTS_END,
	};
	json_t *body = json_object();
	int o, ex = CLI_EXIT_OK, stop = 0;
	char arg[128];
	const char *eq;
	while (!stop && ex == CLI_EXIT_OK && (o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			stop = 1;
		else if (o == 's')
			ex = set_field(body, optarg, use);
		else if (o == 't')
			ex = add_tag(body, optarg, use);
		else if (o == CLI_OPT_FIRST_OWN + 1 &&
		         (!(eq = strchr(optarg, '=')) || eq == optarg))
			ex = cli_usage_error(use, "--attr: expected KEY=VALUE, got '%.100s'",
			                     optarg);
		else if (o == CLI_OPT_FIRST_OWN + 1) {
			json_t *attrs = json_object_get(body, "attributes");
			if (!attrs)
				json_object_set_new(body, "attributes", attrs = json_object());
			char key[FP_DEVICE_ATTR_KEY_MAX + 1];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - optarg), optarg);
			json_object_set_new(attrs, key, json_string(eq + 1));
		} else if (o == CLI_OPT_FIRST_OWN && strcmp(optarg, "tags") == 0)
			json_object_set_new(body, "tags", json_array());
		else if (o == CLI_OPT_FIRST_OWN && strcmp(optarg, "identity") == 0)
			ex = cli_usage_error(use, "--clear: a device cannot lose its identity");
		else if (o == CLI_OPT_FIRST_OWN && strlen(optarg) < 100) {
			snprintf(arg, sizeof(arg), "%s=", optarg);
			ex = set_field(body, arg, use);
		} else if (o == CLI_OPT_FIRST_OWN) {
			ex =
			    cli_usage_error(use, "--clear: '%.100s' is not a device field", optarg);
		}
	}
	struct cli_url u;
	if (stop || ex || cli_operands(c, argc, argv, 1, use)) {
		ex = ex ? ex : c->rc;
	} else if (json_object_size(body) == 0) {
		ex =
		    cli_usage_error(use, "nothing to change: give --set, --attr, --tag or --clear");
	} else if (!(ex = device_path(argv[optind], "", &u, use))) {
		ex = cli_show(c, "PATCH", u.s, body);
	}
	json_decref(body);
	return ex;
}

int cli_cmd_device(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"list", device_list},     {"show", device_show},     {"add", device_add},
	    {"update", device_update}, {"delete", device_delete}, {"accept", device_accept},
	    {"reject", device_reject}, {"sbom", device_sbom},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
