/*
 * config.h — the credentials file that `fleetpatch login` writes:
 * $XDG_CONFIG_HOME/fleetpatch/credentials.json (or ~/.config/…), mode 0600,
 * holding the server URL, the session token and the username.
 */
#ifndef FP_CLI_CONFIG_H
#define FP_CLI_CONFIG_H

#include <limits.h>

#include "cli.h"

#define CLI_CREDS_FILE_MAX 65536 /* bytes of the credentials file */

struct cli_creds {
	char server[CLI_SERVER_MAX];
	char token[CLI_TOKEN_MAX];
	char username[128];
};

/* The file's path; FP_EINVAL when neither XDG_CONFIG_HOME nor HOME is set. */
int cli_creds_path(char out[PATH_MAX], struct fp_err *err) FP_WUR;

/* Loads the file; FP_ENOTFOUND when there is none, FP_EINVAL when it is malformed. */
int cli_creds_load(struct cli_creds *cr, struct fp_err *err) FP_WUR;

/* Writes the file atomically (temporary file, fsync, rename) with mode 0600. */
int cli_creds_save(const struct cli_creds *cr, struct fp_err *err) FP_WUR;

/* Removes the file; 0 when there was none. */
int cli_creds_remove(struct fp_err *err) FP_WUR;

/* Overwrites the secrets of cr. */
void cli_creds_wipe(struct cli_creds *cr);

#endif
