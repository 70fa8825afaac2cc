/*
 * cmd_artifact.c — `fleetpatch artifact …`: building, inspecting and
 * applying artifacts offline, for a device maker's build machine.
 *
 * Nothing here talks to the server. The format is lib/artifact.c and
 * lib/delta.c; this file only maps files, reads and writes them. apply-delta
 * does what the agent does on a device: it streams the artifact through the
 * reader, feeds the delta payload to the applier, reads the base with pread
 * and writes the result to a temporary file that is renamed into place only
 * once every hash has matched.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fleetpatch/artifact.h"
#include "fleetpatch/artifact_patch.h"
#include "fleetpatch/delta.h"

#define READ_CHUNK (1u << 20) /* bytes of an artifact read at a time */
#define PATH_BUF   4096

static const char usage[] =
    "usage: fleetpatch artifact COMMAND ...\n"
    "\n"
    "  create --out FILE --payload NAME:TYPE:PATH[:zstd] ... [--version V] [--compatible HW]\n"
    "  inspect FILE\n"
    "  verify FILE --length N --sha256 HEX [--sha512 HEX]\n"
    "  delta --base OLD --new NEW --out FILE [--name NAME] [--base-version V] [--version V]\n"
    "  apply-delta --base OLD --delta FILE --out NEW\n"
    "\n"
    "Offline commands: they need no server. Each command has --help.\n";

enum {
	OPT_OUT = CLI_OPT_FIRST_OWN,
	OPT_PAYLOAD,
	OPT_VERSION,
	OPT_COMPAT,
	OPT_BASE,
	OPT_NEW,
	OPT_NAME,
	OPT_BASE_VERSION,
	OPT_DELTA,
	OPT_WINDOW,
	OPT_PREFIX,
	OPT_LEVEL,
	OPT_BLOCK,
	OPT_MEM_MAX,
	OPT_LENGTH,
	OPT_SHA256,
	OPT_SHA512,
};

/* Writes a new file through a temporary name; rename on success, unlink on failure. */
struct outfile {
	char tmp[PATH_BUF];
	const char *path;
	int fd;
};

static int out_open(struct outfile *o, const char *path)
{
	o->path = path;
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp-%ld", path, (long)getpid());
	o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		cli_error("cannot create %s: %s", o->tmp, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int out_close(struct outfile *o, int ok)
{
	if (o->fd < 0)
		return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	if (ok && (fsync(o->fd) != 0 || close(o->fd) != 0)) {
		cli_error("cannot write %s: %s", o->tmp, strerror(errno));
		ok = 0;
	} else if (!ok) {
		close(o->fd);
	}
	o->fd = -1;
	if (ok && rename(o->tmp, o->path) != 0) {
		cli_error("cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
		ok = 0;
	}
	if (!ok)
		unlink(o->tmp);
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* A read-only mapping of a whole file (an empty file maps to NULL, 0). */
struct mapped {
	void *p;
	size_t len;
};

static int map_file(const char *path, struct mapped *m)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	m->p = NULL;
	m->len = 0;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cli_error("cannot open %s: %s", path,
		          fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAIL;
	}
	m->len = (size_t)st.st_size;
	if (m->len) {
		m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m->p == MAP_FAILED) {
			m->p = NULL;
			cli_error("cannot map %s: %s", path, strerror(errno));
			close(fd);
			return CLI_EXIT_FAIL;
		}
		madvise(m->p, m->len, MADV_SEQUENTIAL);
	}
	close(fd);
	return CLI_EXIT_OK;
}

static void unmap_file(struct mapped *m)
{
	if (m->p)
		munmap(m->p, m->len);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- create ---- */

static int artifact_create(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch artifact create --out FILE --payload NAME:TYPE:PATH[:zstd] ...\n"
	    "                                  [--version V] [--compatible HW ...]\n"
	    "\n"
	    "Builds an artifact from payload files. TYPE is image, file or module; ':zstd'\n"
	    "stores the payload zstd-compressed. --compatible may repeat. The artifact is\n"
	    "written to a temporary file and renamed to FILE when complete.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"out", required_argument, NULL, OPT_OUT},
	    {"payload", required_argument, NULL, OPT_PAYLOAD},
	    {"version", required_argument, NULL, OPT_VERSION},
	    {"compatible", required_argument, NULL, OPT_COMPAT},
	    CLI_OPTS_END,
	};
	struct fp_artifact_input in[FP_ARTIFACT_PAYLOADS_MAX];
	const char *compat[FP_ARTIFACT_COMPAT_MAX];
	char *specs[FP_ARTIFACT_PAYLOADS_MAX] = {0};
	size_t n = 0, nc = 0;
	const char *out = NULL, *version = NULL;
	int o, ex = CLI_EXIT_USAGE;
	memset(in, 0, sizeof(in));
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP) {
			ex = c->rc;
			goto done;
		}
		if (o == OPT_OUT)
			out = optarg;
		else if (o == OPT_VERSION)
			version = optarg;
		else if (o == OPT_COMPAT) {
			if (nc == FP_ARTIFACT_COMPAT_MAX) {
				ex = cli_usage_error(use, "at most %d --compatible",
				                     FP_ARTIFACT_COMPAT_MAX);
				goto done;
			}
			compat[nc++] = optarg;
		} else if (o == OPT_PAYLOAD) {
			if (n == FP_ARTIFACT_PAYLOADS_MAX) {
				ex = cli_usage_error(use, "at most %d payloads",
				                     FP_ARTIFACT_PAYLOADS_MAX);
				goto done;
			}
			char *s = strdup(optarg), *type, *path, *comp;
			specs[n] = s;
			if (!s || !(type = strchr(s, ':')) || !(path = strchr(type + 1, ':'))) {
				ex = cli_usage_error(use,
				                     "--payload: expected NAME:TYPE:PATH[:zstd]");
				goto done;
			}
			*type++ = '\0';
			*path++ = '\0';
			comp = strrchr(path, ':');
			in[n].compression = FP_ARTIFACT_COMP_NONE;
			if (comp && strcmp(comp, ":zstd") == 0) {
				*comp = '\0';
				in[n].compression = FP_ARTIFACT_COMP_ZSTD;
			}
			in[n].name = s;
			in[n].type = type;
			in[n].path = path;
			n++;
		}
	}
	if (cli_operands(c, argc, argv, 0, use)) {
		ex = c->rc;
		goto done;
	}
	if (!out || n == 0) {
		ex = cli_usage_error(use, "--out and at least one --payload are required");
		goto done;
	}
	struct outfile of;
	if ((ex = out_open(&of, out)))
		goto done;
	struct fp_err err = {0};
	int rc = fp_artifact_write(of.fd, version, compat, nc, in, n, &err);
	if (rc)
		cli_error("%s", err.msg);
	ex = out_close(&of, rc == 0);
	if (!ex)
		printf("wrote %s (%zu payload%s)\n", out, n, n == 1 ? "" : "s");
done:
	for (size_t i = 0; i < FP_ARTIFACT_PAYLOADS_MAX; i++)
		free(specs[i]);
	return ex;
}

/* ---- reading an artifact from a file ---- */

/* Streams the file at path through feed, then finish (an artifact reader or a patcher). */
static int read_stream(const char *path, int (*feed)(void *, const void *, size_t, struct fp_err *),
                       int (*finish)(void *, struct fp_err *), void *obj, struct fp_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = malloc(READ_CHUNK);
	int rc = 0;
	if (fd < 0 || !buf) {
		rc = fp_err_set(err, FP_EIO, "cannot open %s: %s", path,
		                fd < 0 ? strerror(errno) : "out of memory");
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t got = read(fd, buf, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = fp_err_set(err, FP_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if ((rc = feed(obj, buf, (size_t)got, err)))
			goto out;
	}
	rc = finish(obj, err);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static int reader_feed(void *r, const void *buf, size_t n, struct fp_err *err)
{
	return fp_artifact_reader_feed(r, buf, n, err);
}

static int reader_finish(void *r, struct fp_err *err)
{
	return fp_artifact_reader_finish(r, err);
}

static int read_artifact(const char *path, struct fp_artifact_reader *r, struct fp_err *err)
{
	return read_stream(path, reader_feed, reader_finish, r, err);
}

static int patcher_feed(void *p, const void *buf, size_t n, struct fp_err *err)
{
	return fp_artifact_patcher_feed(p, buf, n, err);
}

static int patcher_finish(void *p, struct fp_err *err)
{
	return fp_artifact_patcher_finish(p, err);
}

/* ---- inspect ---- */

static void print_hex(const char *label, const unsigned char *d, size_t n)
{
	printf("%s", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", d[i]);
	printf("\n");
}

static int artifact_inspect(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch artifact inspect FILE [--json]\n"
	    "\n"
	    "Reads the artifact as a device would, checking every payload's sha256, and\n"
	    "prints its manifest and the whole file's length, sha256 and sha512 (what its\n"
	    "TUF target must name). Exits 1 when the artifact is invalid.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	const char *path = argv[optind];
	struct fp_artifact_reader *r = NULL;
	struct fp_err err = {0};
	int rc =
	    fp_artifact_reader_new(NULL, &(struct fp_artifact_reader_opts){.raw = 1}, &r, &err);
	if (!rc)
		rc = read_artifact(path, r, &err);
	if (rc) {
		cli_error("%s: %s", path, err.msg);
		fp_artifact_reader_free(r);
		return CLI_EXIT_FAIL;
	}
	const struct fp_artifact_manifest *m = fp_artifact_reader_manifest(r);
	uint64_t len = 0;
	unsigned char d256[32], d512[64], msha[32];
	char hex[65], hex2[65];
	if (fp_artifact_reader_digests(r, &len, d256, d512) ||
	    fp_artifact_reader_manifest_sha256(r, msha)) {
		cli_error("%s: internal error: no digests", path);
		fp_artifact_reader_free(r);
		return CLI_EXIT_FAIL;
	}
	if (c->json) {
		json_t *pl = json_array();
		for (size_t i = 0; i < m->n_payloads; i++) {
			const struct fp_artifact_payload *p = &m->payloads[i];
			fp_artifact_hex32(p->sha256, hex);
			json_t *o =
			    json_pack("{s:s,s:s,s:I,s:s,s:s,s:I}", "name", p->name, "type", p->type,
			              "size", (json_int_t)p->size, "sha256", hex, "compression",
			              p->compression == FP_ARTIFACT_COMP_ZSTD ? "zstd" : "none",
			              "content_size", (json_int_t)p->content_size);
			if (p->is_delta) {
				fp_artifact_hex32(p->delta.base_sha256, hex);
				fp_artifact_hex32(p->delta.target_sha256, hex2);
				json_object_set_new(
				    o, "delta",
				    json_pack("{s:s,s:I,s:s,s:I,s:s}", "base_version",
				              p->delta.base_version, "base_size",
				              (json_int_t)p->delta.base_size, "base_sha256", hex,
				              "target_size", (json_int_t)p->delta.target_size,
				              "target_sha256", hex2));
			}
			json_array_append_new(pl, o);
		}
		json_t *compat = json_array();
		for (size_t i = 0; i < m->n_compatible; i++)
			json_array_append_new(compat, json_string(m->compatible[i]));
		char h512[129];
		for (int i = 0; i < 64; i++)
			snprintf(h512 + 2 * i, 3, "%02x", d512[i]);
		fp_artifact_hex32(d256, hex);
		fp_artifact_hex32(msha, hex2);
		json_t *root =
		    json_pack("{s:i,s:s,s:o,s:o,s:I,s:{s:s,s:s},s:s}", "format",
		              (int)FP_ARTIFACT_FORMAT_VERSION, "version", m->version, "compatible",
		              compat, "payloads", pl, "length", (json_int_t)len, "hashes", "sha256",
		              hex, "sha512", h512, "manifest_sha256", hex2);
		char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(root);
	} else {
		printf("artifact %s: valid (format %u)\n", path, FP_ARTIFACT_FORMAT_VERSION);
		printf("version:    %s\n", m->version[0] ? m->version : "-");
		printf("compatible:");
		for (size_t i = 0; i < m->n_compatible; i++)
			printf(" %s", m->compatible[i]);
		printf("%s\n", m->n_compatible ? "" : " -");
		printf("length:     %" PRIu64 " bytes\n", len);
		print_hex("sha256:     ", d256, 32);
		print_hex("sha512:     ", d512, 64);
		print_hex("manifest:   sha256 ", msha, 32);
		for (size_t i = 0; i < m->n_payloads; i++) {
			const struct fp_artifact_payload *p = &m->payloads[i];
			fp_artifact_hex32(p->sha256, hex);
			printf("payload %s: type %s, %" PRIu64 " bytes, compression %s", p->name,
			       p->type, p->size,
			       p->compression == FP_ARTIFACT_COMP_ZSTD ? "zstd" : "none");
			if (p->compression == FP_ARTIFACT_COMP_ZSTD)
				printf(" (%" PRIu64 " bytes of content)", p->content_size);
			printf(", sha256 %s (verified)\n", hex);
			if (p->is_delta) {
				fp_artifact_hex32(p->delta.base_sha256, hex);
				fp_artifact_hex32(p->delta.target_sha256, hex2);
				printf("  delta from %s (%" PRIu64 " bytes, sha256 %s)\n",
				       p->delta.base_version[0] ? p->delta.base_version : "-",
				       p->delta.base_size, hex);
				printf("  to an image of %" PRIu64 " bytes, sha256 %s\n",
				       p->delta.target_size, hex2);
			}
		}
	}
	fp_artifact_reader_free(r);
	return CLI_EXIT_OK;
}

/* ---- verify ---- */

static int parse_hex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", s[2 * i]) ||
		    !strchr("0123456789abcdef", s[2 * i + 1]))
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int artifact_verify(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch artifact verify FILE --length N --sha256 HEX [--sha512 HEX]\n"
	    "\n"
	    "Verifies the artifact against the length and hashes its signed TUF target\n"
	    "names, in one streaming pass that also checks the format and every payload's\n"
	    "sha256. Prints 'artifact FILE: verified' and exits 0, or exits 1.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"length", required_argument, NULL, OPT_LENGTH},
	    {"sha256", required_argument, NULL, OPT_SHA256},
	    {"sha512", required_argument, NULL, OPT_SHA512},
	    CLI_OPTS_END,
	};
	unsigned char want256[32], want512[64];
	int have256 = 0, have512 = 0, o;
	long long length = -1;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case OPT_LENGTH: {
			char *end;
			errno = 0;
			length = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || length < 0)
				return cli_usage_error(use, "--length: expected a number of bytes");
			break;
		}
		case OPT_SHA256:
			if (parse_hex(optarg, want256, 32))
				return cli_usage_error(
				    use, "--sha256: expected 64 lowercase hex digits");
			have256 = 1;
			break;
		case OPT_SHA512:
			if (parse_hex(optarg, want512, 64))
				return cli_usage_error(
				    use, "--sha512: expected 128 lowercase hex digits");
			have512 = 1;
			break;
		}
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	if (length < 0 || !have256)
		return cli_usage_error(use, "--length and --sha256 are required");
	const char *path = argv[optind];
	struct fp_artifact_reader *r = NULL;
	struct fp_err err = {0};
	/* The length is known: the reader refuses a byte more before hashing it. */
	struct fp_artifact_reader_opts ro = {.total_max = (uint64_t)length ? (uint64_t)length : 1,
	                                     .raw = 1};
	int rc = fp_artifact_reader_new(NULL, &ro, &r, &err);
	if (!rc)
		rc = read_artifact(path, r, &err);
	uint64_t len = 0;
	unsigned char d256[32], d512[64];
	if (!rc && fp_artifact_reader_digests(r, &len, d256, d512))
		rc = fp_err_set(&err, FP_EINVAL, "no digests");
	if (!rc && len != (uint64_t)length)
		rc = fp_err_set(&err, FP_EINVAL, "its length is %" PRIu64 ", the target says %lld",
		                len, length);
	if (!rc && (memcmp(d256, want256, 32) != 0 || (have512 && memcmp(d512, want512, 64) != 0)))
		rc = fp_err_set(&err, FP_ECRYPTO, "its hashes differ from the target's");
	fp_artifact_reader_free(r);
	if (rc) {
		cli_error("%s: NOT verified: %s", path, err.msg);
		return CLI_EXIT_FAIL;
	}
	printf("artifact %s: verified (%" PRIu64 " bytes, sha256%s)\n", path, len,
	       have512 ? " and sha512" : "");
	return CLI_EXIT_OK;
}

/* ---- delta ---- */

struct membuf {
	unsigned char *p;
	size_t len, cap;
};

static int membuf_write(void *ctx, const void *buf, size_t n, struct fp_err *err)
{
	struct membuf *b = ctx;
	if (n > b->cap - b->len) {
		size_t nc = b->cap ? b->cap : (1u << 20);
		while (nc - b->len < n)
			nc *= 2;
		unsigned char *p = realloc(b->p, nc);
		if (!p)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		b->p = p;
		b->cap = nc;
	}
	memcpy(b->p + b->len, buf, n);
	b->len += n;
	return 0;
}

static int parse_mib(const char *use, const char *opt, const char *s, uint32_t *out)
{
	long v;
	if (cli_parse_long(s, 1, 4096, &v))
		return cli_usage_error(use, "%s: expected a number of MiB", opt);
	*out = (uint32_t)(v << 20);
	return 0;
}

static int artifact_delta(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch artifact delta --base OLD --new NEW --out FILE [--name NAME]\n"
	    "                                 [--base-version V] [--version V] [--compatible HW]\n"
	    "                                 [--window MIB] [--prefix MIB] [--level N] [--block "
	    "N]\n"
	    "\n"
	    "Builds a delta artifact: one image payload (named NAME, default rootfs) that\n"
	    "turns the image OLD into NEW on a device that runs OLD. --window is the target\n"
	    "bytes per zstd frame (default: a sixteenth of NEW as a power of two, 1 to 16),\n"
	    "--prefix the most base bytes a frame refers to (default 32); a device needs\n"
	    "about window + the largest prefix + 1 MiB to apply it (printed).\n"
	    "--level is the zstd level (default 19), --block the indexed block size (default\n"
	    "256 bytes).\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"base", required_argument, NULL, OPT_BASE},
	    {"new", required_argument, NULL, OPT_NEW},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"base-version", required_argument, NULL, OPT_BASE_VERSION},
	    {"version", required_argument, NULL, OPT_VERSION},
	    {"compatible", required_argument, NULL, OPT_COMPAT},
	    {"window", required_argument, NULL, OPT_WINDOW},
	    {"prefix", required_argument, NULL, OPT_PREFIX},
	    {"level", required_argument, NULL, OPT_LEVEL},
	    {"block", required_argument, NULL, OPT_BLOCK},
	    CLI_OPTS_END,
	};
	const char *base = NULL, *newp = NULL, *out = NULL, *name = "rootfs", *bver = "",
	           *version = NULL;
	const char *compat[FP_ARTIFACT_COMPAT_MAX];
	size_t nc = 0;
	struct fp_delta_params pr = {0};
	long v;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case OPT_BASE: base = optarg; break;
		case OPT_NEW: newp = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_NAME: name = optarg; break;
		case OPT_BASE_VERSION: bver = optarg; break;
		case OPT_VERSION: version = optarg; break;
		case OPT_COMPAT:
			if (nc == FP_ARTIFACT_COMPAT_MAX)
				return cli_usage_error(use, "at most %d --compatible",
				                       FP_ARTIFACT_COMPAT_MAX);
			compat[nc++] = optarg;
			break;
		case OPT_WINDOW:
			if (parse_mib(use, "--window", optarg, &pr.window_size))
				return CLI_EXIT_USAGE;
			break;
		case OPT_PREFIX:
			if (parse_mib(use, "--prefix", optarg, &pr.prefix_max))
				return CLI_EXIT_USAGE;
			break;
		case OPT_LEVEL:
			if (cli_parse_long(optarg, 1, 22, &v))
				return cli_usage_error(use, "--level: expected 1 to 22");
			pr.level = (int)v;
			break;
		case OPT_BLOCK:
			if (cli_parse_long(optarg, 16, 1 << 20, &v))
				return cli_usage_error(use,
				                       "--block: expected 16 to 1048576 bytes");
			pr.block_size = (uint32_t)v;
			break;
		}
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	if (!base || !newp || !out)
		return cli_usage_error(use, "--base, --new and --out are required");
	if (strlen(bver) > FP_ARTIFACT_VERSION_MAX)
		return cli_usage_error(use, "--base-version: at most %d bytes",
		                       FP_ARTIFACT_VERSION_MAX);
	struct mapped mb = {0}, mn = {0};
	struct membuf d = {0};
	struct fp_delta_stats st = {0};
	struct fp_err err = {0};
	struct outfile of = {.fd = -1};
	int ex = map_file(base, &mb);
	if (!ex)
		ex = map_file(newp, &mn);
	if (ex)
		goto out;
	double t0 = now_s();
	if (fp_delta_create(mb.p, mb.len, mn.p, mn.len, &pr, membuf_write, &d, &st, &err)) {
		cli_error("%s", err.msg);
		ex = CLI_EXIT_FAIL;
		goto out;
	}
	double t1 = now_s();
	struct fp_artifact_delta info = {.base_size = mb.len, .target_size = mn.len};
	struct fp_delta_header h;
	if (fp_delta_header_parse(d.p, d.len, &h, &err)) {
		cli_error("%s", err.msg);
		ex = CLI_EXIT_FAIL;
		goto out;
	}
	memcpy(info.base_sha256, h.base_sha256, 32);
	memcpy(info.target_sha256, h.target_sha256, 32);
	snprintf(info.base_version, sizeof(info.base_version), "%s", bver);
	struct fp_artifact_input in = {.name = name,
	                               .type = "image",
	                               .data = d.p ? (const void *)d.p : "",
	                               .len = d.len,
	                               .compression = FP_ARTIFACT_COMP_NONE,
	                               .delta = &info};
	if ((ex = out_open(&of, out)))
		goto out;
	int rc = fp_artifact_write(of.fd, version, compat, nc, &in, 1, &err);
	if (rc)
		cli_error("%s", err.msg);
	ex = out_close(&of, rc == 0);
	if (ex)
		goto out;
	printf("wrote %s: delta of %zu bytes for a %zu-byte image (%.1f%%), %" PRIu64
	       " windows, %" PRIu64 " bytes found in the base, largest prefix %" PRIu64
	       " bytes, %.1f s; applying needs about %" PRIu64 " MiB\n",
	       out, d.len, mn.len, mn.len ? 100.0 * (double)d.len / (double)mn.len : 0.0,
	       st.windows, st.matched_bytes, st.prefix_max, t1 - t0,
	       (fp_delta_apply_mem(&h) + (1u << 20) - 1) >> 20);
out:
	free(d.p);
	unmap_file(&mb);
	unmap_file(&mn);
	return ex;
}

/* ---- apply-delta ---- */

struct apply {
	int base_fd;
	uint64_t base_size;
	uint64_t mem_max;
	struct outfile *of;
};

static int base_read(void *ctx, uint64_t off, void *buf, size_t n, struct fp_err *err)
{
	struct apply *ap = ctx;
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t r = pread(ap->base_fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fp_err_set(err, FP_EIO, "cannot read the base at %" PRIu64 ": %s",
			                  off, r < 0 ? strerror(errno) : "end of file");
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

static int out_write(void *ctx, const void *buf, size_t n, struct fp_err *err)
{
	struct apply *ap = ctx;
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t w = write(ap->of->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fp_err_set(err, FP_EIO, "cannot write %s: %s", ap->of->tmp,
			                  strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int artifact_apply_delta(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch artifact apply-delta --base OLD --delta FILE --out NEW\n"
	    "                                       [--mem-max MIB]\n"
	    "\n"
	    "Applies the delta payload of the artifact FILE to the image OLD, as a device\n"
	    "does: the artifact and the delta stream through, OLD is read where the delta\n"
	    "points, NEW is written through a temporary file and appears only when the\n"
	    "artifact, the base and the result have all matched their sha256. --mem-max\n"
	    "refuses deltas that need more memory to apply.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"base", required_argument, NULL, OPT_BASE},
	    {"delta", required_argument, NULL, OPT_DELTA},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"mem-max", required_argument, NULL, OPT_MEM_MAX},
	    CLI_OPTS_END,
	};
	const char *base = NULL, *delta = NULL, *out = NULL;
	struct apply ap = {.base_fd = -1};
	long v;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case OPT_BASE: base = optarg; break;
		case OPT_DELTA: delta = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_MEM_MAX:
			if (cli_parse_long(optarg, 1, 1 << 20, &v))
				return cli_usage_error(use, "--mem-max: expected a number of MiB");
			ap.mem_max = (uint64_t)v << 20;
			break;
		}
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	if (!base || !delta || !out)
		return cli_usage_error(use, "--base, --delta and --out are required");
	struct stat st;
	ap.base_fd = open(base, O_RDONLY | O_CLOEXEC);
	if (ap.base_fd < 0 || fstat(ap.base_fd, &st) != 0) {
		cli_error("cannot open %s: %s", base, strerror(errno));
		if (ap.base_fd >= 0)
			close(ap.base_fd);
		return CLI_EXIT_FAIL;
	}
	ap.base_size = (uint64_t)st.st_size;
	struct outfile of;
	int ex = out_open(&of, out);
	if (ex) {
		close(ap.base_fd);
		return ex;
	}
	ap.of = &of;
	struct fp_artifact_patch_opts po = {.base_size = ap.base_size,
	                                    .mem_max = ap.mem_max,
	                                    .read_base = base_read,
	                                    .write = out_write,
	                                    .ctx = &ap};
	struct fp_artifact_patcher *pt = NULL;
	struct fp_err err = {0};
	int rc = fp_artifact_patcher_new(&po, &pt, &err);
	if (!rc)
		rc = read_stream(delta, patcher_feed, patcher_finish, pt, &err);
	if (rc)
		cli_error("%s: %s", delta, err.msg);
	fp_artifact_patcher_free(pt);
	close(ap.base_fd);
	ex = out_close(&of, rc == 0);
	if (!ex)
		printf("wrote %s\n", out);
	return ex;
}

int cli_cmd_artifact(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"create", artifact_create},           {"inspect", artifact_inspect},
	    {"verify", artifact_verify},           {"delta", artifact_delta},
	    {"apply-delta", artifact_apply_delta},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
