/*
 * cmd_group.c — `fleetpatch group …`: device groups (/api/v1/groups). A
 * group created with --filter is dynamic (its members follow the filter);
 * without one it is static and members are added by device id.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "http.h"

static const char usage[] = "usage: fleetpatch group COMMAND ...\n"
                            "\n"
                            "  list [--page N] [--per-page N] [--all]\n"
                            "  show NAME\n"
                            "  create NAME [--description D] [--filter EXPR]\n"
                            "  update NAME [--description D] [--filter EXPR]\n"
                            "  delete NAME\n"
                            "  devices NAME [--page N] [--per-page N] [--all]\n"
                            "  add NAME ID...\n"
                            "  remove NAME ID\n"
                            "\n"
                            "Each command has --help.\n";

static const struct cli_col group_cols[] = {
    {"NAME", "name", 32},     {"TYPE", "type", 0},
    {"FILTER", "filter", 48}, {"DESCRIPTION", "description", 40},
    {NULL, NULL, 0},
};

static const struct cli_col member_cols[] = {
    {"ID", "id", 0},        {"IDENTITY", "identity", 28},
    {"NAME", "name", 20},   {"STATUS", "status", 0},
    {"MODEL", "model", 16}, {"FIRMWARE", "firmware_version", 14},
    {"IP", "ip", 39},       {NULL, NULL, 0},
};

static void group_path(struct cli_url *u, const char *name, const char *suffix)
{
	cli_url_init(u, "/api/v1/groups/");
	cli_url_seg(u, name);
	cli_url_add(u, suffix);
}

static int group_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch group list [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists device groups.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 0))
		return c->rc;
	return cli_list(c, "/api/v1/groups", group_cols);
}

/* show, delete: one name, one request. */
static int group_one(struct cli *c, int argc, char **argv, const char *method, const char *use)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	struct cli_url u;
	group_path(&u, argv[optind], "");
	return cli_show(c, method, u.s, NULL);
}

static int group_show(struct cli *c, int argc, char **argv)
{
	return group_one(c, argc, argv, "GET",
	                 "usage: fleetpatch group show NAME [--json]\n\nShows a group and how "
	                 "many devices it holds.\n");
}

static int group_delete(struct cli *c, int argc, char **argv)
{
	return group_one(c, argc, argv, "DELETE",
	                 "usage: fleetpatch group delete NAME\n\nDeletes a group (not its "
	                 "devices).\n");
}

/* create and update: --description and --filter. */
static int group_write(struct cli *c, int argc, char **argv, int create, const char *use)
{
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"description", required_argument, NULL, 'd'},
	    {"filter", required_argument, NULL, 'f'},
	    CLI_OPTS_END,
	};
	json_t *body = json_object();
	int o, ex = CLI_EXIT_OK, stop = 0;
	while (!stop && ex == CLI_EXIT_OK && (o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			stop = 1;
		else if (o == 'd')
			json_object_set_new(body, "description", json_string(optarg));
		else if (o == 'f')
			json_object_set_new(body, "filter", json_string(optarg));
	}
	struct cli_url u;
	if (stop || ex || cli_operands(c, argc, argv, 1, use)) {
		ex = ex ? ex : c->rc;
	} else if (create) {
		json_object_set_new(body, "name", json_string(argv[optind]));
		ex = cli_show(c, "POST", "/api/v1/groups", body);
	} else if (json_object_size(body) == 0) {
		ex = cli_usage_error(use, "nothing to change: give --description or --filter");
	} else {
		group_path(&u, argv[optind], "");
		ex = cli_show(c, "PATCH", u.s, body);
	}
	json_decref(body);
	return ex;
}

static int group_create(struct cli *c, int argc, char **argv)
{
	return group_write(
	    c, argc, argv, 1,
	    "usage: fleetpatch group create NAME [--description D] [--filter EXPR] [--json]\n"
	    "\n"
	    "Creates a group. With --filter it is dynamic: its members are the devices that\n"
	    "match the expression, e.g. 'exposure == internet and tags == camera'. Without\n"
	    "one it is static: add members with 'group add'.\n");
}

static int group_update(struct cli *c, int argc, char **argv)
{
	return group_write(
	    c, argc, argv, 0,
	    "usage: fleetpatch group update NAME [--description D] [--filter EXPR] [--json]\n"
	    "\n"
	    "Changes a group's description, or a dynamic group's filter.\n");
}

static int group_devices(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch group devices NAME [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists the devices in a group.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	struct cli_url u;
	group_path(&u, argv[optind], "/devices");
	return cli_list(c, u.s, member_cols);
}

static int group_add(struct cli *c, int argc, char **argv)
{
	static const char use[] = "usage: fleetpatch group add NAME ID... [--json]\n"
	                          "\n"
	                          "Adds devices to a static group by id (all or none).\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1)
		if (o == CLI_STOP)
			return c->rc;
	if (argc - optind < 2)
		return cli_usage_error(use, "a group name and at least one device id are required");
	json_t *ids = json_array();
	for (int i = optind + 1; i < argc; i++) {
		long id;
		if (cli_parse_long(argv[i], 1, LONG_MAX, &id)) {
			json_decref(ids);
			return cli_usage_error(use, "'%s' is not a device id", argv[i]);
		}
		json_array_append_new(ids, json_integer(id));
	}
	json_t *body = json_pack("{s:o}", "device_ids", ids);
	struct cli_url u;
	group_path(&u, argv[optind], "/members");
	int ex = cli_show(c, "POST", u.s, body);
	json_decref(body);
	return ex;
}

static int group_remove(struct cli *c, int argc, char **argv)
{
	static const char use[] = "usage: fleetpatch group remove NAME ID [--json]\n"
	                          "\n"
	                          "Removes a device from a static group.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	int o;
	long id;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1)
		if (o == CLI_STOP)
			return c->rc;
	if (cli_operands(c, argc, argv, 2, use))
		return c->rc;
	if (cli_parse_long(argv[optind + 1], 1, LONG_MAX, &id))
		return cli_usage_error(use, "'%s' is not a device id", argv[optind + 1]);
	struct cli_url u;
	group_path(&u, argv[optind], "/members/");
	cli_url_seg(&u, argv[optind + 1]);
	return cli_show(c, "DELETE", u.s, NULL);
}

int cli_cmd_group(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"list", group_list},     {"show", group_show},     {"create", group_create},
	    {"update", group_update}, {"delete", group_delete}, {"devices", group_devices},
	    {"add", group_add},       {"remove", group_remove},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
