/*
 * tufcli.c — shared helpers of the signing commands (tufcli.h).
 */
#include "tufcli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/sig.h"

int cli_md_read(const char *file, json_t **md)
{
	char *data = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	*md = NULL;
	int ex = cli_read_file(file, CLI_MD_MAX, &data, &len);
	if (ex)
		return ex;
	if (fp_cjson_load(data, len, CLI_MD_MAX, md, &err)) {
		cli_error("%s: %s", file, err.msg);
		ex = CLI_EXIT_FAIL;
	} else if (!json_is_object(json_object_get(*md, "signed")) ||
	           !json_is_array(json_object_get(*md, "signatures"))) {
		cli_error("%s: not TUF metadata ({\"signed\": {...}, \"signatures\": [...]})",
		          file);
		json_decref(*md);
		*md = NULL;
		ex = CLI_EXIT_FAIL;
	}
	free(data);
	return ex;
}

int cli_md_write(const char *file, const json_t *md)
{
	char *out = NULL, tmp[4200];
	size_t len = 0;
	struct fp_err err = {0};
	if (fp_tuf_serialize(md, &out, &len, &err)) {
		cli_error("%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", file) >= sizeof(tmp)) {
		free(out);
		cli_error("%s: the path is too long", file);
		return CLI_EXIT_FAIL;
	}
	int fd = mkostemp(tmp, O_CLOEXEC), ex = CLI_EXIT_FAIL;
	if (fd < 0) {
		cli_error("cannot write next to %s: %s", file, strerror(errno));
		free(out);
		return ex;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, out + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp, file) == 0)
			ex = CLI_EXIT_OK;
	}
	if (fd >= 0)
		close(fd);
	if (ex) {
		cli_error("cannot write %s: %s", file, strerror(errno));
		unlink(tmp);
	}
	free(out);
	return ex;
}

int cli_pub_key(const char *file, json_t **key, char keyid[FP_TUF_KEYID_LEN + 1])
{
	char *pem = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	int ex = cli_read_file(file, FP_PUBKEY_PEM_MAX, &pem, &len);
	if (ex)
		return ex;
	if (fp_tuf_key_from_pem(pem, key, keyid, &err)) {
		cli_error("%s: %s", file, err.msg);
		ex = CLI_EXIT_FAIL;
	}
	free(pem);
	return ex;
}

int cli_md_set_expiry(json_t *signed_part, long days)
{
	char exp[21];
	struct fp_err err = {0};
	if (fp_tuf_time_format((int64_t)time(NULL) + (int64_t)days * 86400, exp, &err)) {
		cli_error("%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	json_object_set_new(signed_part, "expires", json_string(exp));
	return CLI_EXIT_OK;
}

int cli_get_raw(struct cli *c, const char *path, struct cli_response *rs)
{
	struct fp_err err = {0};
	struct cli_request rq = {.method = "GET", .path = path, .timeout_s = CLI_TOTAL_TIMEOUT};
	int rc = cli_http_do(c, &rq, rs, &err);
	if (rc)
		return cli_http_outcome(c, rc, &err, rs);
	return CLI_EXIT_OK;
}

int cli_post_raw(struct cli *c, const char *path, const char *data, size_t len, json_t **out)
{
	struct fp_err err = {0};
	struct cli_response rs;
	struct cli_request rq = {.method = "POST",
	                         .path = path,
	                         .ctype = "application/json",
	                         .body = data,
	                         .body_len = len,
	                         .timeout_s = CLI_TOTAL_TIMEOUT};
	int rc = cli_http_do(c, &rq, &rs, &err);
	int ex = cli_http_outcome(c, rc, &err, &rs);
	if (ex == CLI_EXIT_OK && out) {
		json_error_t je;
		if (!(*out = json_loadb(rs.body, rs.len, 0, &je))) {
			cli_error("the server sent invalid JSON: %s", je.text);
			ex = CLI_EXIT_UNREACHABLE;
		}
	}
	cli_response_free(&rs);
	return ex;
}
