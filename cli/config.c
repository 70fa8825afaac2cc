/*
 * config.c — reading and writing the credentials file.
 *
 * The file holds a bearer token, so it is created 0600 inside a 0700
 * directory, written to a temporary file in the same directory and renamed
 * over the old one, so a crash never leaves half a file or a readable copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int config_dir(char out[PATH_MAX], struct fp_err *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;
	if (xdg && *xdg)
		n = snprintf(out, PATH_MAX, "%s/fleetpatch", xdg);
	else if (home && *home)
		n = snprintf(out, PATH_MAX, "%s/.config/fleetpatch", home);
	else
		return fp_err_set(err, FP_EINVAL,
		                  "cannot find the configuration directory: set XDG_CONFIG_HOME or "
		                  "HOME");
	if (n < 0 || n >= PATH_MAX - 32)
		return fp_err_set(err, FP_ETOOBIG, "the configuration directory path is too long");
	return 0;
}

int cli_creds_path(char out[PATH_MAX], struct fp_err *err)
{
	char dir[PATH_MAX];
	int rc = config_dir(dir, err);
	if (rc == 0 && snprintf(out, PATH_MAX, "%s/credentials.json", dir) >= PATH_MAX)
		rc = fp_err_set(err, FP_ETOOBIG, "the configuration directory path is too long");
	return rc;
}

static void copy_member(const json_t *o, const char *key, char *out, size_t outsz)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (v && strlen(v) < outsz)
		memcpy(out, v, strlen(v) + 1);
}

int cli_creds_load(struct cli_creds *cr, struct fp_err *err)
{
	char path[PATH_MAX];
	memset(cr, 0, sizeof(*cr));
	int rc = cli_creds_path(path, err);
	if (rc)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return fp_err_set(err, FP_ENOTFOUND, "not logged in (no %s)", path);
		return fp_err_set(err, FP_EIO, "cannot read %s: %s", path, strerror(errno));
	}
	json_error_t je;
	json_t *o = json_loadf(f, 0, &je);
	long size = ftell(f);
	fclose(f);
	if (!json_is_object(o) || size > CLI_CREDS_FILE_MAX) {
		json_decref(o);
		return fp_err_set(err, FP_EINVAL,
		                  "%s is not a credentials file; remove it and log in again", path);
	}
	copy_member(o, "server", cr->server, sizeof(cr->server));
	copy_member(o, "token", cr->token, sizeof(cr->token));
	copy_member(o, "username", cr->username, sizeof(cr->username));
	json_decref(o);
	return 0;
}

int cli_creds_save(const struct cli_creds *cr, struct fp_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	int fd = -1, rc = config_dir(dir, err);
	char *text = NULL;
	if (rc)
		return rc;
	if (snprintf(path, sizeof(path), "%s/credentials.json", dir) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.credentials.XXXXXX", dir) >= (int)sizeof(tmp))
		return fp_err_set(err, FP_ETOOBIG, "the configuration directory path is too long");
	/* Create the parent ~/.config as the user would, and our own directory private. */
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return fp_err_set(err, FP_EIO, "cannot create %s: %s", dir,
			                  strerror(errno));
		*slash = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "cannot create %s: %s", dir, strerror(errno));
	json_t *o = json_pack("{s:s,s:s,s:s}", "server", cr->server, "token", cr->token, "username",
	                      cr->username);
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (!text)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	fd = mkstemp(tmp); /* mkstemp creates the file 0600 */
	if (fd < 0) {
		rc =
		    fp_err_set(err, FP_EIO, "cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	size_t len = strlen(text);
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd)) {
		rc = fp_err_set(err, FP_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		rc = fp_err_set(err, FP_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path))
		rc = fp_err_set(err, FP_EIO, "cannot replace %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}

int cli_creds_remove(struct fp_err *err)
{
	char path[PATH_MAX];
	int rc = cli_creds_path(path, err);
	if (rc == 0 && unlink(path) && errno != ENOENT)
		rc = fp_err_set(err, FP_EIO, "cannot remove %s: %s", path, strerror(errno));
	return rc;
}

void cli_creds_wipe(struct cli_creds *cr)
{
	explicit_bzero(cr->token, sizeof(cr->token));
}
