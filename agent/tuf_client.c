/*
 * tuf_client.c — `fleetpatch-agent tuf`: a plain TUF client that speaks the
 * tuf-conformance client CLI protocol.
 *
 *   fleetpatch-agent tuf --metadata-dir D init ROOT
 *   fleetpatch-agent tuf --metadata-dir D --metadata-url U refresh
 *   fleetpatch-agent tuf --metadata-dir D --metadata-url U --target-name NAME...
 *                        --target-base-url T --target-dir DIR download
 *
 * The decisions are lib/tuf's trusted set; this file only fetches, reads
 * and writes files. Metadata is stored under non-versioned names (root.json,
 * timestamp.json, snapshot.json, targets.json), each written to a temporary
 * file, synced and renamed, and only after the trusted set accepted it.
 * Targets are streamed through a verifier into a temporary file in the
 * target directory and renamed only once their length and hashes match.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "fileio.h"
#include "fleetpatch/cjson.h"
#include "fleetpatch/tuf.h"

#define TUF_TARGET_NAMES_MAX 1000 /* --target-name options in one call */
#define TUF_PATH_MAX         4096 /* bytes of a local path */
#define TUF_IO_CHUNK         65536

struct tuf_args {
	const char *metadata_dir;
	const char *metadata_url;
	const char *target_base_url;
	const char *target_dir;
	const char *names[TUF_TARGET_NAMES_MAX];
	size_t n_names;
	int verbose;
};

static const char tuf_usage[] =
    "usage: fleetpatch-agent tuf --metadata-dir DIR init TRUSTED_ROOT\n"
    "       fleetpatch-agent tuf --metadata-dir DIR --metadata-url URL refresh\n"
    "       fleetpatch-agent tuf --metadata-dir DIR --metadata-url URL --target-name PATH...\n"
    "                            --target-base-url URL --target-dir DIR download\n"
    "\n"
    "A TUF 1.0 client (the tuf-conformance client CLI protocol). 'init' stores a\n"
    "trusted root.json in DIR; 'refresh' updates root, timestamp, snapshot and targets\n"
    "from URL by the TUF client workflow; 'download' refreshes, then downloads each\n"
    "--target-name (repeatable, in order) into --target-dir after checking its length\n"
    "and hashes. A target already there with the right hashes is not downloaded again.\n"
    "\n"
    "--stall-timeout SECONDS (default 30, at most 3600): give up on a transfer that\n"
    "moves fewer than 1024 bytes per second for that long (a mirror that trickles\n"
    "bytes); each metadata file also has 60 s in all and each target 900 s.\n"
    "\n"
    "Options may come before or after the command. -v prints each step.\n"
    "Exit status: 0 when everything succeeded, 1 otherwise.\n";

static int verbose;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("fleetpatch-agent tuf: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- Files --------------------------------------------------------------------------------- */

static int join(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= outsz ? FP_ETOOBIG : 0;
}

/* Reads a whole file of at most cap bytes. FP_ENOTFOUND when it does not exist. */
static int read_capped(const char *path, size_t cap, char **buf, size_t *len, struct fp_err *err)
{
	int rc = 0;
	char *p = NULL;
	size_t n = 0;
	*buf = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return fp_err_set(err, FP_ENOTFOUND, "%s does not exist", path);
		return fp_err_set(err, FP_EIO, "%s: %s", path, strerror(errno));
	}
	p = malloc(cap + 2);
	if (!p) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	n = fread(p, 1, cap + 1, f);
	if (ferror(f)) {
		rc = fp_err_set(err, FP_EIO, "%s: read error", path);
		goto out;
	}
	if (n > cap) {
		rc = fp_err_set(err, FP_ETOOBIG, "%s is larger than %zu bytes", path, cap);
		goto out;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	p = NULL;
out:
	free(p);
	fclose(f);
	return rc;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

/* Creates a hidden temporary file next to final_name in dir (not ending in .json). */
static int temp_open(const char *dir, const char *final_name, char *tmp, size_t tmpsz,
                     struct fp_err *err)
{
	int n = snprintf(tmp, tmpsz, "%s/.%s.tmp-XXXXXX", dir, final_name);
	if (n < 0 || (size_t)n >= tmpsz)
		return fp_err_set(err, FP_ETOOBIG, "path in %s is too long", dir);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return fp_err_set(err, FP_EIO, "cannot create a file in %s: %s", dir,
		                  strerror(errno));
	/* Metadata and targets are public; mkstemp() makes files private. */
	if (fchmod(fd, 0644) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return fp_err_set(err, FP_EIO, "cannot create a file in %s: %s", dir, strerror(e));
	}
	return fd;
}

/*
 * Removes the temporary files of final_name that an earlier run left in dir
 * when it was killed or lost power mid-write (a failing run removes its own):
 * without this, every interrupted download would leave a partial copy behind
 * for good. Runs of the client must not share a directory at the same time.
 */
static void temp_clean(const char *dir, const char *final_name)
{
	char prefix[TUF_PATH_MAX];
	int n = snprintf(prefix, sizeof(prefix), ".%s.tmp-", final_name);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		/* mkstemp() replaces the six X of the template. */
		if (strncmp(e->d_name, prefix, (size_t)n) == 0 &&
		    strlen(e->d_name) == (size_t)n + 6) {
			note("removing %s/%s, left by an interrupted run", dir, e->d_name);
			unlinkat(dirfd(d), e->d_name, 0);
		}
	}
	closedir(d);
}

/* Syncs and closes fd, renames tmp to dir/name and syncs dir; removes tmp on failure. */
static int temp_commit(int fd, const char *tmp, const char *dir, const char *name,
                       struct fp_err *err)
{
	char path[TUF_PATH_MAX];
	int bad = fsync(fd) != 0;
	bad |= close(fd) != 0;
	if (bad || join(path, sizeof(path), dir, name) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return fp_err_set(err, FP_EIO, "cannot store %s in %s: %s", name, dir, strerror(e));
	}
	sync_dir(dir);
	return 0;
}

/* Stores data as dir/name atomically: temporary file, fsync, rename, fsync of dir. */
static int store_atomic(const char *dir, const char *name, const void *data, size_t n,
                        struct fp_err *err)
{
	char tmp[TUF_PATH_MAX];
	temp_clean(dir, name);
	int fd = temp_open(dir, name, tmp, sizeof(tmp), err);
	if (fd < 0)
		return fd;
	if (agent_write_all(fd, data, n) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return fp_err_set(err, FP_EIO, "cannot write %s in %s: %s", name, dir, strerror(e));
	}
	return temp_commit(fd, tmp, dir, name, err);
}

/* ---- URLs --------------------------------------------------------------------------------------
 */

/* base + "/" + path, with bytes outside a URL path's safe set percent-encoded. */
static int url_join(char *out, size_t outsz, const char *base, const char *path)
{
	static const char safe[] = "-._~/!$&'()*+,;=:@";
	size_t n = strlen(base);
	if (n + 2 > outsz)
		return FP_ETOOBIG;
	memcpy(out, base, n);
	if (n == 0 || base[n - 1] != '/')
		out[n++] = '/';
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (n + 4 > outsz)
			return FP_ETOOBIG;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(safe, *p))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, 4, "%%%02X", *p);
	}
	out[n] = '\0';
	return 0;
}

/*
 * The file name of a target in the target directory: the target path with
 * every byte outside [A-Za-z0-9._~-] percent-encoded (so "a/b" is "a%2Fb"),
 * as python-tuf names them; a name cannot be "." or "..".
 */
static int target_file_name(char *out, size_t outsz, const char *name)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (n + 4 > outsz)
			return FP_ETOOBIG;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._~-", *p))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, 4, "%%%02X", *p);
	}
	out[n] = '\0';
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return FP_EINVAL;
	return 0;
}

/* ---- Refresh (the client workflow) ------------------------------------------------------------
 */

static int fetch_role(const char *url_base, const char *file, size_t cap, char **buf, size_t *len,
                      struct fp_err *err)
{
	char url[AGENT_URL_MAX + 1];
	if (url_join(url, sizeof(url), url_base, file) != 0)
		return fp_err_set(err, FP_ETOOBIG, "metadata URL is too long");
	note("fetching %s (at most %zu bytes)", url, cap);
	return agent_fetch_mem(url, cap, AGENT_FETCH_META_TIMEOUT, buf, len, err);
}

/* The byte cap of a metadata fetch: the signed length if smaller than the role's cap. */
static size_t fetch_cap(const struct fp_tuf_metafile *m, size_t role_max)
{
	return m->length > 0 && (uint64_t)m->length < role_max ? (size_t)m->length : role_max;
}

/* Loads the stored copy of role into t, if there is one that still verifies. */
static int load_local(struct fp_tuf_trusted *t, const char *dir, enum fp_tuf_role role, int64_t now)
{
	char path[TUF_PATH_MAX], name[32];
	char *buf = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	snprintf(name, sizeof(name), "%s.json", fp_tuf_role_name(role));
	if (join(path, sizeof(path), dir, name) != 0)
		return FP_ETOOBIG;
	int rc = read_capped(path,
	                     role == FP_TUF_TIMESTAMP  ? FP_TUF_TIMESTAMP_MAX
	                     : role == FP_TUF_SNAPSHOT ? FP_TUF_SNAPSHOT_MAX
	                                               : FP_TUF_TARGETS_MAX,
	                     &buf, &len, &err);
	if (rc == FP_ENOTFOUND)
		return rc;
	if (rc == 0) {
		if (role == FP_TUF_TIMESTAMP)
			rc = fp_tuf_update_timestamp(t, buf, len, now, &err);
		else if (role == FP_TUF_SNAPSHOT)
			rc = fp_tuf_update_snapshot(t, buf, len, now, 1, &err);
		else
			rc = fp_tuf_update_targets(t, buf, len, now, &err);
	}
	if (rc)
		note("stored %s not used: %s", name, err.msg);
	/*
	 * 5.3.11: a stored timestamp or snapshot whose signatures no longer
	 * verify was signed by keys the new root rotated out (fast-forward
	 * attack recovery): delete it. (For these two, FP_EAUTH can only mean
	 * a missing threshold: a stored snapshot's hashes are not rechecked.)
	 */
	if (rc == FP_EAUTH && (role == FP_TUF_TIMESTAMP || role == FP_TUF_SNAPSHOT)) {
		note("deleting %s: its keys were rotated", name);
		unlink(path);
	}
	free(buf);
	return rc;
}

/*
 * The "roles" entries of timestamp and snapshot in a root document (keys and
 * threshold), as one object to compare across a rotation. NULL when the
 * document does not parse, which cannot happen for a root the trusted set
 * accepted. Caller owns the result.
 */
static json_t *online_roles(const char *root, size_t len)
{
	json_t *md = NULL, *out = NULL;
	if (fp_cjson_load(root, len, FP_TUF_ROOT_MAX, &md, NULL) != 0)
		return NULL;
	const json_t *roles = json_object_get(json_object_get(md, "signed"), "roles");
	out = json_pack("{s:O*,s:O*}", "timestamp", json_object_get(roles, "timestamp"), "snapshot",
	                json_object_get(roles, "snapshot"));
	json_decref(md);
	return out;
}

/*
 * 5.3.11: when the new root changed the timestamp or the snapshot keys,
 * delete both stored files. A fast-forwarded snapshot signed by a key that
 * stays trusted (only the timestamp key was rotated) would otherwise keep
 * refusing the repository's lower versions as a rollback.
 */
static void forget_online_roles(const char *dir)
{
	char path[TUF_PATH_MAX];
	static const char *const names[] = {"timestamp.json", "snapshot.json"};
	for (size_t i = 0; i < 2; i++) {
		if (join(path, sizeof(path), dir, names[i]) != 0)
			continue;
		if (unlink(path) == 0)
			note("deleting %s: root rotated the timestamp or snapshot keys", names[i]);
	}
	sync_dir(dir);
}

static int cmd_init(const struct tuf_args *a, const char *root_path, struct fp_err *err);

static int refresh(const struct tuf_args *a, struct fp_tuf_trusted **out, struct fp_err *err)
{
	int rc;
	char path[TUF_PATH_MAX], file[64];
	char *buf = NULL;
	size_t len = 0;
	struct fp_tuf_trusted *t = NULL;
	struct fp_tuf_metafile m;
	int64_t now = (int64_t)time(NULL);
	json_t *first_roles = NULL, *last_roles = NULL;

	*out = NULL;
	if (join(path, sizeof(path), a->metadata_dir, "root.json") != 0)
		return fp_err_set(err, FP_ETOOBIG, "metadata directory path is too long");
	rc = read_capped(path, FP_TUF_ROOT_MAX, &buf, &len, err);
	if (rc == FP_ENOTFOUND)
		return fp_err_set(err, rc, "no trusted root in %s (run 'init' first)",
		                  a->metadata_dir);
	if (rc)
		return rc;
	rc = fp_tuf_trusted_new(buf, len, &t, err);
	if (rc == 0)
		first_roles = online_roles(buf, len);
	free(buf);
	buf = NULL;
	if (rc)
		return rc;

	/* 5.3: the root chain, N+1 after N until the repository has no next version. */
	for (int i = 0; i < FP_TUF_ROOT_ROTATIONS_MAX; i++) {
		snprintf(file, sizeof(file), "%lld.root.json",
		         (long long)fp_tuf_version(t, FP_TUF_ROOT) + 1);
		rc = fetch_role(a->metadata_url, file, FP_TUF_ROOT_MAX, &buf, &len, err);
		if (rc == FP_ENOTFOUND) {
			rc = 0;
			break;
		}
		if (rc == 0)
			rc = fp_tuf_update_root(t, buf, len, err);
		if (rc == 0)
			rc = store_atomic(a->metadata_dir, "root.json", buf, len, err);
		if (rc == 0) {
			json_decref(last_roles);
			last_roles = online_roles(buf, len);
		}
		free(buf);
		buf = NULL;
		if (rc)
			goto out;
		note("trusted root is now version %lld", (long long)fp_tuf_version(t, FP_TUF_ROOT));
	}

	if (last_roles && !json_equal(first_roles, last_roles))
		forget_online_roles(a->metadata_dir);

	/* 5.4: timestamp, after the stored one for rollback protection. */
	(void)load_local(t, a->metadata_dir, FP_TUF_TIMESTAMP, now);
	rc = fetch_role(a->metadata_url, "timestamp.json", FP_TUF_TIMESTAMP_MAX, &buf, &len, err);
	if (rc == 0) {
		rc = fp_tuf_update_timestamp(t, buf, len, now, err);
		if (rc == 0)
			rc = store_atomic(a->metadata_dir, "timestamp.json", buf, len, err);
		else if (rc == FP_EEXIST)
			rc = 0;
	}
	free(buf);
	buf = NULL;
	if (rc)
		goto out;

	/* 5.5: snapshot; a stored copy that is still the right one is kept. */
	if (load_local(t, a->metadata_dir, FP_TUF_SNAPSHOT, now) != 0) {
		rc = fp_tuf_expected_meta(t, FP_TUF_SNAPSHOT, &m, err);
		if (rc)
			goto out;
		if (fp_tuf_consistent_snapshot(t))
			snprintf(file, sizeof(file), "%lld.snapshot.json", (long long)m.version);
		else
			snprintf(file, sizeof(file), "snapshot.json");
		rc = fetch_role(a->metadata_url, file, fetch_cap(&m, FP_TUF_SNAPSHOT_MAX), &buf,
		                &len, err);
		if (rc == 0)
			rc = fp_tuf_update_snapshot(t, buf, len, now, 0, err);
		if (rc == 0)
			rc = store_atomic(a->metadata_dir, "snapshot.json", buf, len, err);
		free(buf);
		buf = NULL;
		if (rc)
			goto out;
	}

	/* 5.6: top-level targets, likewise. */
	if (load_local(t, a->metadata_dir, FP_TUF_TARGETS, now) != 0) {
		rc = fp_tuf_expected_meta(t, FP_TUF_TARGETS, &m, err);
		if (rc)
			goto out;
		if (fp_tuf_consistent_snapshot(t))
			snprintf(file, sizeof(file), "%lld.targets.json", (long long)m.version);
		else
			snprintf(file, sizeof(file), "targets.json");
		rc = fetch_role(a->metadata_url, file, fetch_cap(&m, FP_TUF_TARGETS_MAX), &buf,
		                &len, err);
		if (rc == 0)
			rc = fp_tuf_update_targets(t, buf, len, now, err);
		if (rc == 0)
			rc = store_atomic(a->metadata_dir, "targets.json", buf, len, err);
		free(buf);
		buf = NULL;
		if (rc)
			goto out;
	}
	note("trusted versions: root %lld, timestamp %lld, snapshot %lld, targets %lld",
	     (long long)fp_tuf_version(t, FP_TUF_ROOT),
	     (long long)fp_tuf_version(t, FP_TUF_TIMESTAMP),
	     (long long)fp_tuf_version(t, FP_TUF_SNAPSHOT),
	     (long long)fp_tuf_version(t, FP_TUF_TARGETS));
	*out = t;
	t = NULL;
out:
	json_decref(first_roles);
	json_decref(last_roles);
	fp_tuf_trusted_free(t);
	return rc;
}

int agent_tuf_refresh(const char *metadata_dir, const char *metadata_url,
                      struct fp_tuf_trusted **out, struct fp_err *err)
{
	struct tuf_args a = {.metadata_dir = metadata_dir, .metadata_url = metadata_url};
	return refresh(&a, out, err);
}

int agent_tuf_init(const char *metadata_dir, const char *root_path, struct fp_err *err)
{
	struct tuf_args a = {.metadata_dir = metadata_dir};
	return cmd_init(&a, root_path, err);
}

/* ---- Download (5.7) ----------------------------------------------------------------------------
 */

/* 1 when dir/file exists and has exactly the target's length and hashes. */
static int cached(const char *dir, const char *file, const struct fp_tuf_target *tg)
{
	char path[TUF_PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	struct fp_tuf_hasher *h = NULL;
	int ok = 0;
	if (join(path, sizeof(path), dir, file) != 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	buf = malloc(TUF_IO_CHUNK);
	if (buf && fp_tuf_hasher_new(tg, &h, NULL) == 0) {
		ok = 1;
		while (ok && (len = fread(buf, 1, TUF_IO_CHUNK, f)) > 0)
			ok = fp_tuf_hasher_update(h, buf, len, NULL) == 0;
		ok = ok && !ferror(f) && fp_tuf_hasher_final(h, NULL) == 0;
	}
	fp_tuf_hasher_free(h);
	free(buf);
	fclose(f);
	return ok;
}

struct file_sink {
	int fd;
	struct fp_tuf_hasher *h;
};

static int to_file(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct file_sink *s = ctx;
	int rc = fp_tuf_hasher_update(s->h, data, n, err);
	if (rc)
		return rc;
	if (agent_write_all(s->fd, data, n) != 0)
		return fp_err_set(err, FP_EIO, "cannot write the download: %s", strerror(errno));
	return 0;
}

static int download_one(const struct tuf_args *a, const struct fp_tuf_trusted *t, const char *name,
                        struct fp_err *err)
{
	struct fp_tuf_target tg;
	struct file_sink s = {.fd = -1};
	char file[3 * FP_TUF_NAME_MAX + 1], tmp[TUF_PATH_MAX], url[AGENT_URL_MAX + 1];
	char remote[2 * FP_TUF_NAME_MAX + 2 * FP_TUF_SHA512_LEN + 2];
	int rc = fp_tuf_target_get(t, name, &tg, err);
	if (rc)
		return rc;
	if (target_file_name(file, sizeof(file), name) != 0)
		return fp_err_set(err, FP_EINVAL, "target path \"%.200s\" cannot be a file name",
		                  name);
	temp_clean(a->target_dir, file);
	if (cached(a->target_dir, file, &tg)) {
		note("%s is already in %s with the signed hashes", name, a->target_dir);
		return 0;
	}
	/* With consistent snapshots the file is fetched as DIR/HASH.NAME (5.7.3). */
	if (fp_tuf_consistent_snapshot(t)) {
		const char *slash = strrchr(name, '/');
		size_t dirlen = slash ? (size_t)(slash - name) + 1 : 0;
		char hex[2 * FP_TUF_SHA512_LEN + 1];
		const uint8_t *d = tg.hashes.has_sha256 ? tg.hashes.sha256 : tg.hashes.sha512;
		size_t dn = tg.hashes.has_sha256 ? FP_TUF_SHA256_LEN : FP_TUF_SHA512_LEN;
		if (!tg.hashes.has_sha256 && !tg.hashes.has_sha512)
			return fp_err_set(err, FP_EUNSUPP, "target %.200s has no sha256 or sha512",
			                  name);
		for (size_t i = 0; i < dn; i++)
			snprintf(hex + 2 * i, 3, "%02x", d[i]);
		snprintf(remote, sizeof(remote), "%.*s%s.%s", (int)dirlen, name, hex,
		         name + dirlen);
	} else {
		snprintf(remote, sizeof(remote), "%s", name);
	}
	if (url_join(url, sizeof(url), a->target_base_url, remote) != 0)
		return fp_err_set(err, FP_ETOOBIG, "target URL is too long");
	rc = fp_tuf_hasher_new(&tg, &s.h, err);
	if (rc)
		return rc;
	s.fd = temp_open(a->target_dir, file, tmp, sizeof(tmp), err);
	if (s.fd < 0) {
		rc = s.fd;
		goto out;
	}
	note("fetching %s (%lld bytes signed)", url, (long long)tg.length);
	rc = agent_fetch(url, (size_t)tg.length, AGENT_FETCH_TARGET_TIMEOUT, to_file, &s, err);
	if (rc == FP_ETOOBIG)
		rc = fp_err_set(err, FP_EAUTH,
		                "target %.200s: the mirror sent more than the "
		                "signed %lld bytes",
		                name, (long long)tg.length);
	if (rc == 0)
		rc = fp_tuf_hasher_final(s.h, err);
	if (rc == 0) {
		rc = temp_commit(s.fd, tmp, a->target_dir, file, err);
		s.fd = -1;
		tmp[0] = '\0';
	}
out:
	if (s.fd >= 0) {
		close(s.fd);
		unlink(tmp);
	}
	fp_tuf_hasher_free(s.h);
	return rc;
}

/* ---- Commands ----------------------------------------------------------------------------------
 */

static int cmd_init(const struct tuf_args *a, const char *root_path, struct fp_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct fp_tuf_trusted *t = NULL;
	int rc = read_capped(root_path, FP_TUF_ROOT_MAX, &buf, &len, err);
	/* Refuse a root that is not even signed by its own keys; nothing is stored then. */
	if (rc == 0)
		rc = fp_tuf_trusted_new(buf, len, &t, err);
	if (rc == 0)
		rc = store_atomic(a->metadata_dir, "root.json", buf, len, err);
	if (rc == 0)
		note("initialised %s with root version %lld", a->metadata_dir,
		     (long long)fp_tuf_version(t, FP_TUF_ROOT));
	fp_tuf_trusted_free(t);
	free(buf);
	return rc;
}

static int cmd_download(const struct tuf_args *a, struct fp_err *err)
{
	struct fp_tuf_trusted *t = NULL;
	int rc = refresh(a, &t, err);
	for (size_t i = 0; rc == 0 && i < a->n_names; i++) {
		rc = download_one(a, t, a->names[i], err);
		if (rc == 0)
			note("%s is in %s", a->names[i], a->target_dir);
	}
	fp_tuf_trusted_free(t);
	return rc;
}

enum { OPT_MDIR = 256, OPT_MURL, OPT_TNAME, OPT_TBASE, OPT_TDIR, OPT_STALL };

int agent_tuf_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"metadata-dir", required_argument, NULL, OPT_MDIR},
	    {"metadata-url", required_argument, NULL, OPT_MURL},
	    {"target-name", required_argument, NULL, OPT_TNAME},
	    {"target-base-url", required_argument, NULL, OPT_TBASE},
	    {"target-dir", required_argument, NULL, OPT_TDIR},
	    {"stall-timeout", required_argument, NULL, OPT_STALL},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct tuf_args a = {0};
	struct fp_err err = {0};
	int o, rc;
	char *end;
	long stall;
	optind = 1;
	/* Options may follow the command, as in the protocol's examples. */
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case OPT_MDIR: a.metadata_dir = optarg; break;
		case OPT_MURL: a.metadata_url = optarg; break;
		case OPT_TBASE: a.target_base_url = optarg; break;
		case OPT_TDIR: a.target_dir = optarg; break;
		case OPT_TNAME:
			if (a.n_names == TUF_TARGET_NAMES_MAX) {
				fprintf(stderr, "fleetpatch-agent tuf: at most %d --target-name\n",
				        TUF_TARGET_NAMES_MAX);
				return 1;
			}
			a.names[a.n_names++] = optarg;
			break;
		case OPT_STALL:
			stall = strtol(optarg, &end, 10);
			if (end == optarg || *end || stall < 1 || stall > AGENT_FETCH_STALL_MAX) {
				fprintf(
				    stderr,
				    "fleetpatch-agent tuf: --stall-timeout takes 1 to %d seconds\n",
				    AGENT_FETCH_STALL_MAX);
				return 1;
			}
			agent_fetch_set_stall_timeout(stall);
			break;
		case 'v': verbose = ++a.verbose; break;
		case 'h': fputs(tuf_usage, stdout); return 0;
		default: fputs(tuf_usage, stderr); return 1;
		}
	}
	const char *cmd = optind < argc ? argv[optind] : NULL;
	int nargs = argc - optind - 1;
	if (!cmd || !a.metadata_dir) {
		fputs(tuf_usage, stderr);
		return 1;
	}
	if (strcmp(cmd, "init") == 0 && nargs == 1) {
		rc = cmd_init(&a, argv[optind + 1], &err);
	} else if (strcmp(cmd, "refresh") == 0 && nargs == 0 && a.metadata_url) {
		struct fp_tuf_trusted *t = NULL;
		rc = refresh(&a, &t, &err);
		fp_tuf_trusted_free(t);
	} else if (strcmp(cmd, "download") == 0 && nargs == 0 && a.metadata_url &&
	           a.target_base_url && a.target_dir && a.n_names) {
		rc = cmd_download(&a, &err);
	} else {
		fputs(tuf_usage, stderr);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "fleetpatch-agent tuf %s: %s\n", cmd, err.msg);
		return 1;
	}
	return 0;
}
