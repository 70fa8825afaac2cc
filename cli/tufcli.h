/*
 * tufcli.h — what the CLI's signing commands (key, metadata, root, release,
 * repo) share: reading and writing metadata files as canonical JSON, public
 * key files, and raw requests to the repository endpoints.
 */
#ifndef FP_CLI_TUFCLI_H
#define FP_CLI_TUFCLI_H

#include <jansson.h>
#include <stdint.h>

#include "cli.h"
#include "fleetpatch/tuf.h"
#include "http.h"

#define CLI_MD_MAX      FP_TUF_TARGETS_MAX /* bytes of a metadata file the CLI reads */
#define CLI_EXPIRES_MAX 3650               /* days an --expires-days may ask for */

/* Reads a metadata file strictly (caps, no duplicate keys). Errors are printed; exit code. */
int cli_md_read(const char *file, json_t **md);
/* Writes md as canonical JSON to file (through a temporary file and rename). Exit code. */
int cli_md_write(const char *file, const json_t *md);
/* The TUF key object and key id of a PEM public key file. Exit code. */
int cli_pub_key(const char *file, json_t **key, char keyid[FP_TUF_KEYID_LEN + 1]);
/* Sets signed.expires to now + days. */
int cli_md_set_expiry(json_t *signed_part, long days);
/*
 * GETs path; on a transport failure prints it and returns its exit code,
 * else CLI_EXIT_OK with the answer in *rs (any status; free it).
 */
int cli_get_raw(struct cli *c, const char *path, struct cli_response *rs);
/* POSTs the bytes as application/json and prints errors like cli_api; *out optional. */
int cli_post_raw(struct cli *c, const char *path, const char *data, size_t len, json_t **out);

/* Uploads a signed root or targets file (metadata push, release publish). Exit code. */
int cli_push_file(struct cli *c, const char *file);

int cli_cmd_key(struct cli *c, int argc, char **argv);
int cli_cmd_metadata(struct cli *c, int argc, char **argv);
int cli_cmd_root(struct cli *c, int argc, char **argv);
int cli_cmd_release(struct cli *c, int argc, char **argv);
int cli_cmd_repo(struct cli *c, int argc, char **argv);

#endif
