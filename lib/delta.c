/*
 * delta.c — delta updates with zstd against the running slot (see delta.h
 * and docs/design/artifact.md).
 *
 * Creating: every aligned block of the base is hashed into an index; a
 * rolling hash over the target finds target bytes that occur verbatim in the
 * base (wherever they moved to), and each match is extended both ways. Each
 * target window then gets a list of base extents: the matches inside it and,
 * for the bytes between matches, the base bytes on the same diagonal as the
 * neighbouring match (where the old version of modified content usually
 * sits). The extents, concatenated in target order, are the window's zstd
 * prefix, so that consecutive matches keep one distance and zstd encodes
 * them as repeat offsets.
 *
 * Applying: a state machine over the fed bytes; per window it reads the
 * extents from the base into one prefix buffer and streams the frame through
 * a zstd decoder whose window is capped by the header.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fleetpatch/delta.h"

#define HASH_MUL       0x9e3779b97f4a7c15ull
#define MERGE_SLACK    4096       /* bytes of base bridged to join two extents */
#define BASE_CHUNK     (1u << 20) /* bytes of base hashed at a time by the applier */
#define VARINT_MAX     10         /* bytes of a 64-bit varint */
#define FRAME_SLACK    1024       /* bytes a frame may exceed ZSTD_compressBound by */
#define APPLY_OVERHEAD (1u << 20) /* zstd's own buffers and ours, an upper bound */
#define WINDOW_LOG_MIN 10         /* zstd's smallest window log */

/* ---- header ---- */

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void header_encode(const struct fp_delta_header *h, unsigned char out[FP_DELTA_HEADER_SIZE])
{
	memcpy(out, FP_DELTA_MAGIC, 8);
	put32(out + 8, FP_DELTA_FORMAT_VERSION);
	put32(out + 12, h->window_size);
	put32(out + 16, h->prefix_max);
	put32(out + 20, h->window_log);
	put64(out + 24, h->base_size);
	put64(out + 32, h->target_size);
	memcpy(out + 40, h->base_sha256, 32);
	memcpy(out + 72, h->target_sha256, 32);
}

int fp_delta_header_parse(const void *buf, size_t n, struct fp_delta_header *h, struct fp_err *err)
{
	const unsigned char *p = buf;
	if (n < FP_DELTA_HEADER_SIZE)
		return fp_err_set(err, FP_EINVAL, "delta: header truncated at %zu bytes", n);
	if (memcmp(p, FP_DELTA_MAGIC, 8) != 0)
		return fp_err_set(err, FP_EINVAL, "delta: not a fleetpatch delta (bad magic)");
	if (get32(p + 8) != FP_DELTA_FORMAT_VERSION)
		return fp_err_set(err, FP_EUNSUPP,
		                  "delta: format version %u; this build applies version %u only",
		                  get32(p + 8), FP_DELTA_FORMAT_VERSION);
	h->window_size = get32(p + 12);
	h->prefix_max = get32(p + 16);
	h->window_log = get32(p + 20);
	h->base_size = get64(p + 24);
	h->target_size = get64(p + 32);
	memcpy(h->base_sha256, p + 40, 32);
	memcpy(h->target_sha256, p + 72, 32);
	if (h->window_size == 0 || h->window_size > FP_DELTA_WINDOW_MAX)
		return fp_err_set(err, FP_ETOOBIG, "delta: window of %u bytes; the cap is %u",
		                  h->window_size, FP_DELTA_WINDOW_MAX);
	if (h->prefix_max > FP_DELTA_PREFIX_MAX)
		return fp_err_set(err, FP_ETOOBIG, "delta: prefix of %u bytes; the cap is %u",
		                  h->prefix_max, FP_DELTA_PREFIX_MAX);
	if (h->window_log < WINDOW_LOG_MIN || h->window_log > FP_DELTA_WINDOW_LOG_MAX)
		return fp_err_set(err, FP_ETOOBIG, "delta: zstd window log %u is outside %d..%d",
		                  h->window_log, WINDOW_LOG_MIN, FP_DELTA_WINDOW_LOG_MAX);
	if (h->target_size > FP_DELTA_TARGET_MAX || h->base_size > FP_DELTA_TARGET_MAX)
		return fp_err_set(err, FP_ETOOBIG, "delta: image sizes over the cap of %llu bytes",
		                  (unsigned long long)FP_DELTA_TARGET_MAX);
	return 0;
}

uint64_t fp_delta_apply_mem(const struct fp_delta_header *h)
{
	uint64_t win = h->target_size < h->window_size ? h->target_size : h->window_size;
	return (uint64_t)h->prefix_max + win + APPLY_OVERHEAD;
}

/* ---- varints ---- */

static size_t varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- creating ---- */

struct match {
	uint64_t t, b, len;
};

struct ext {
	uint64_t b, len;
	int from_match;
};

struct index {
	uint64_t *keys; /* hash + 1; 0 is an empty slot */
	uint32_t *blocks;
	uint64_t *filter; /* one bit per hash bucket of the filter */
	size_t mask, fmask;
};

struct plan {
	struct ext *ext;
	size_t n, cap;
	uint64_t prefix_len;
};

static uint64_t block_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0;
	for (size_t i = 0; i < n; i++)
		h = h * HASH_MUL + p[i] + 1;
	return h;
}

static int uniform(const unsigned char *p, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return 0;
	return 1;
}

static size_t slot_of(uint64_t h, size_t mask)
{
	return (size_t)((h * 0xff51afd7ed558ccdull) >> 17) & mask;
}

static int index_build(struct index *ix, const unsigned char *base, size_t base_len, size_t bs)
{
	size_t nb = base_len / bs, cap = 1024, fcap = 1 << 16;
	while (cap < 2 * nb)
		cap <<= 1;
	while (fcap < 16 * nb)
		fcap <<= 1;
	ix->keys = calloc(cap, sizeof(*ix->keys));
	ix->blocks = calloc(cap, sizeof(*ix->blocks));
	ix->filter = calloc(fcap / 64, sizeof(*ix->filter));
	if (!ix->keys || !ix->blocks || !ix->filter)
		return FP_ENOMEM;
	ix->mask = cap - 1;
	ix->fmask = fcap - 1;
	for (size_t k = 0; k < nb; k++) {
		const unsigned char *p = base + k * bs;
		if (uniform(p, bs))
			continue;
		uint64_t h = block_hash(p, bs), key = h + 1 ? h + 1 : 1;
		size_t s = slot_of(h, ix->mask);
		/* The first block with a hash stays; a later copy adds nothing. */
		while (ix->keys[s] && ix->keys[s] != key)
			s = (s + 1) & ix->mask;
		if (ix->keys[s])
			continue;
		ix->keys[s] = key;
		ix->blocks[s] = (uint32_t)k;
		size_t f = (size_t)(h >> 20) & ix->fmask;
		ix->filter[f / 64] |= 1ull << (f % 64);
	}
	return 0;
}

static void index_free(struct index *ix)
{
	free(ix->keys);
	free(ix->blocks);
	free(ix->filter);
}

static size_t common_fwd(const unsigned char *a, const unsigned char *b, size_t max)
{
	size_t n = 0;
	while (n + 8 <= max) {
		uint64_t x, y;
		memcpy(&x, a + n, 8);
		memcpy(&y, b + n, 8);
		if (x != y)
			break;
		n += 8;
	}
	while (n < max && a[n] == b[n])
		n++;
	return n;
}

static int push_match(struct match **m, size_t *n, size_t *cap, struct match v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct match *p = realloc(*m, nc * sizeof(*p));
		if (!p)
			return FP_ENOMEM;
		*m = p;
		*cap = nc;
	}
	(*m)[(*n)++] = v;
	return 0;
}

/* Finds target bytes that occur verbatim in the base, in target order, not overlapping. */
static int find_matches(const unsigned char *base, size_t base_len, const unsigned char *tgt,
                        size_t tgt_len, size_t bs, struct match **out, size_t *nout)
{
	struct index ix = {0};
	struct match *m = NULL;
	size_t n = 0, cap = 0;
	int rc = FP_ENOMEM;
	*out = NULL;
	*nout = 0;
	if (base_len < bs || tgt_len < bs)
		return 0;
	if (index_build(&ix, base, base_len, bs))
		goto out;
	uint64_t pow = 1; /* HASH_MUL^(bs-1) */
	for (size_t i = 1; i < bs; i++)
		pow *= HASH_MUL;
	size_t t = 0, covered = 0, run = 1;
	uint64_t h = block_hash(tgt, bs);
	for (size_t i = 1; i < bs; i++)
		run = tgt[i] == tgt[i - 1] ? run + 1 : 1;
	while (t + bs <= tgt_len) {
		size_t f = (size_t)(h >> 20) & ix.fmask;
		if (run < bs && (ix.filter[f / 64] >> (f % 64) & 1)) {
			uint64_t key = h + 1 ? h + 1 : 1;
			size_t s = slot_of(h, ix.mask);
			while (ix.keys[s] && ix.keys[s] != key)
				s = (s + 1) & ix.mask;
			size_t b = (size_t)ix.blocks[s] * bs;
			if (ix.keys[s] && memcmp(base + b, tgt + t, bs) == 0) {
				size_t tt = t, bb = b;
				while (tt > covered && bb > 0 && base[bb - 1] == tgt[tt - 1]) {
					tt--;
					bb--;
				}
				size_t len = (t - tt) + bs;
				len += common_fwd(base + b + bs, tgt + t + bs,
				                  base_len - b - bs < tgt_len - t - bs
				                      ? base_len - b - bs
				                      : tgt_len - t - bs);
				if (push_match(&m, &n, &cap, (struct match){tt, bb, len}))
					goto out;
				t = tt + len;
				covered = t;
				if (t + bs > tgt_len)
					break;
				h = block_hash(tgt + t, bs);
				run = 1;
				for (size_t i = 1; i < bs; i++)
					run = tgt[t + i] == tgt[t + i - 1] ? run + 1 : 1;
				continue;
			}
		}
		if (t + bs >= tgt_len)
			break;
		h = (h - (tgt[t] + 1ull) * pow) * HASH_MUL + tgt[t + bs] + 1;
		run = tgt[t + bs] == tgt[t + bs - 1] ? run + 1 : 1;
		t++;
	}
	*out = m;
	*nout = n;
	m = NULL;
	rc = 0;
out:
	free(m);
	index_free(&ix);
	return rc;
}

static int push_ext(struct plan *p, uint64_t b, uint64_t len, int from_match)
{
	if (len == 0)
		return 0;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		struct ext *e = realloc(p->ext, nc * sizeof(*e));
		if (!e)
			return FP_ENOMEM;
		p->ext = e;
		p->cap = nc;
	}
	p->ext[p->n++] = (struct ext){b, len, from_match};
	return 0;
}

/* Base range [t0 + d, t1 + d) clipped to the base, as an extent. */
static int push_diag(struct plan *p, uint64_t t0, uint64_t t1, int64_t d, uint64_t base_len,
                     int from_match)
{

	int64_t b0 = (int64_t)t0 + d, b1 = (int64_t)t1 + d;
	if (b0 < 0)
		b0 = 0;
	if (b1 > (int64_t)base_len)
		b1 = (int64_t)base_len;
	return b1 > b0 ? push_ext(p, (uint64_t)b0, (uint64_t)(b1 - b0), from_match) : 0;
}

/*
 * Chooses the base extents of target window [ws, we): matches, then the
 * diagonal of a neighbouring match for the bytes between them; within
 * prefix_max bytes (gap extents go first when over), merged where they touch.
 */
static int plan_window(const struct match *m, size_t nm, size_t *mi, uint64_t ws, uint64_t we,
                       uint64_t base_len, uint64_t prefix_max, struct plan *p)
{
	size_t i = *mi;
	while (i < nm && m[i].t + m[i].len <= ws)
		i++;
	*mi = i;
	int64_t last_d = 0;
	int have_d = 0;
	if (i > 0) {
		last_d = (int64_t)m[i - 1].b - (int64_t)m[i - 1].t;
		have_d = 1;
	}
	uint64_t pos = ws;
	p->n = 0;
	for (; i < nm && m[i].t < we; i++) {
		uint64_t ms = m[i].t > ws ? m[i].t : ws;
		uint64_t me = m[i].t + m[i].len < we ? m[i].t + m[i].len : we;
		int64_t d = (int64_t)m[i].b - (int64_t)m[i].t;
		if (ms > pos && push_diag(p, pos, ms, have_d ? last_d : d, base_len, 0))
			return FP_ENOMEM;
		if (push_diag(p, ms, me, d, base_len, 1))
			return FP_ENOMEM;
		last_d = d;
		have_d = 1;
		pos = me;
	}
	if (pos < we && push_diag(p, pos, we, have_d ? last_d : 0, base_len, 0))
		return FP_ENOMEM;
	/* Over budget: gap extents go first, then the matches at the end of the window. */
	uint64_t total = 0;
	for (size_t k = 0; k < p->n; k++)
		total += p->ext[k].len;
	int drop_gaps = total > prefix_max;
	size_t w = 0;
	uint64_t used = 0;
	for (size_t k = 0; k < p->n && used < prefix_max; k++) {
		struct ext e = p->ext[k];
		if (drop_gaps && !e.from_match)
			continue;
		if (w > 0) {
			/* Merge with the previous extent when it continues it in the base. */
			struct ext *q = &p->ext[w - 1];
			uint64_t qend = q->b + q->len;
			if (e.b >= q->b && e.b <= qend + MERGE_SLACK) {
				uint64_t end = e.b + e.len > qend ? e.b + e.len : qend;
				if (end - qend > prefix_max - used)
					end = qend + (prefix_max - used);
				used += end - qend;
				q->len = end - q->b;
				continue;
			}
			/* An extent inside a recent one adds nothing to the prefix. */
			int inside = 0;
			for (size_t r = w > 8 ? w - 8 : 0; r < w && !inside; r++)
				inside = e.b >= p->ext[r].b &&
				         e.b + e.len <= p->ext[r].b + p->ext[r].len;
			if (inside)
				continue;
		}
		if (e.len > prefix_max - used)
			e.len = prefix_max - used;
		used += e.len;
		p->ext[w++] = e;
	}
	p->n = w;
	p->prefix_len = 0;
	for (size_t k = 0; k < p->n; k++)
		p->prefix_len += p->ext[k].len;
	return 0;
}

static unsigned ceil_log2(uint64_t v)
{
	unsigned l = 0;
	while (l < 63 && (1ull << l) < v)
		l++;
	return l;
}

int fp_delta_create(const void *base_v, size_t base_len, const void *target_v, size_t target_len,
                    const struct fp_delta_params *params, fp_delta_write_fn write, void *ctx,
                    struct fp_delta_stats *stats, struct fp_err *err)
{
	const unsigned char *base = base_v, *tgt = target_v;
	struct fp_delta_params pr = params ? *params : (struct fp_delta_params){0};
	struct match *m = NULL;
	size_t nm = 0;
	struct plan *plans = NULL;
	unsigned char *prefix = NULL, *frame = NULL, *hdrbuf = NULL;
	ZSTD_CCtx *cc = NULL;
	struct fp_delta_stats st = {0};
	int rc = FP_ENOMEM;
	if (!pr.window_size) {
		/*
		 * A sixteenth of the image, as a power of two from 1 MiB to the
		 * default: a small image is applied in little memory, a large one
		 * gets the largest window (more context for new content).
		 */
		pr.window_size = 1u << 20;
		while (pr.window_size < FP_DELTA_DEFAULT_WINDOW && pr.window_size < target_len / 16)
			pr.window_size <<= 1;
	}
	if (!pr.prefix_max)
		pr.prefix_max = FP_DELTA_DEFAULT_PREFIX;
	if (!pr.level)
		pr.level = FP_DELTA_DEFAULT_LEVEL;
	if (!pr.block_size)
		pr.block_size = FP_DELTA_DEFAULT_BLOCK;
	if (pr.window_size < 4096 || pr.window_size > FP_DELTA_WINDOW_MAX ||
	    pr.prefix_max > FP_DELTA_PREFIX_MAX || pr.level < 1 || pr.level > ZSTD_maxCLevel() ||
	    pr.block_size < 16 || pr.block_size > (1u << 20) || target_len > FP_DELTA_TARGET_MAX ||
	    base_len > FP_DELTA_TARGET_MAX || base_len / pr.block_size > UINT32_MAX)
		return fp_err_set(err, FP_EINVAL,
		                  "delta: window 4 KiB..%u MiB, prefix up to %u MiB, level 1..%d, "
		                  "block 16 B..1 MiB, images up to 1 TiB",
		                  FP_DELTA_WINDOW_MAX >> 20, FP_DELTA_PREFIX_MAX >> 20,
		                  ZSTD_maxCLevel());
	uint64_t nwin = (target_len + pr.window_size - 1) / pr.window_size;
	if ((rc = find_matches(base, base_len, tgt, target_len, pr.block_size, &m, &nm)))
		goto out;
	for (size_t i = 0; i < nm; i++)
		st.matched_bytes += m[i].len;
	/* Plan every window first, so the header can state the largest prefix. */
	plans = calloc(nwin ? nwin : 1, sizeof(*plans));
	if (!plans)
		goto out;
	size_t mi = 0;
	uint64_t wmax = 0;
	for (uint64_t w = 0; w < nwin; w++) {
		uint64_t ws = w * pr.window_size;
		uint64_t we = ws + pr.window_size < target_len ? ws + pr.window_size : target_len;
		if ((rc = plan_window(m, nm, &mi, ws, we, base_len, pr.prefix_max, &plans[w])))
			goto out;
		if (plans[w].prefix_len > st.prefix_max)
			st.prefix_max = plans[w].prefix_len;
		if (plans[w].prefix_len + (we - ws) > wmax)
			wmax = plans[w].prefix_len + (we - ws);
		st.extents += plans[w].n;
	}
	struct fp_delta_header h = {
	    .window_size = pr.window_size,
	    .prefix_max = (uint32_t)st.prefix_max,
	    .window_log = ceil_log2(wmax) < WINDOW_LOG_MIN ? WINDOW_LOG_MIN : ceil_log2(wmax),
	    .base_size = base_len,
	    .target_size = target_len,
	};
	EVP_Digest(base_len ? base : (const unsigned char *)"", base_len, h.base_sha256, NULL,
	           EVP_sha256(), NULL);
	EVP_Digest(target_len ? tgt : (const unsigned char *)"", target_len, h.target_sha256, NULL,
	           EVP_sha256(), NULL);
	if (h.window_log > FP_DELTA_WINDOW_LOG_MAX) {
		rc = fp_err_set(err, FP_EINVAL, "delta: window plus prefix over 2^%d bytes",
		                FP_DELTA_WINDOW_LOG_MAX);
		goto out;
	}
	size_t hdr_cap = FP_DELTA_HEADER_SIZE;
	for (uint64_t w = 0; w < nwin; w++)
		if (VARINT_MAX * (2 + 2 * plans[w].n) > hdr_cap)
			hdr_cap = VARINT_MAX * (2 + 2 * plans[w].n);
	size_t fcap = ZSTD_compressBound(pr.window_size);
	prefix = malloc(st.prefix_max ? st.prefix_max : 1);
	frame = malloc(fcap);
	hdrbuf = malloc(hdr_cap);
	cc = ZSTD_createCCtx();
	if (!prefix || !frame || !hdrbuf || !cc) {
		rc = FP_ENOMEM;
		goto out;
	}
	header_encode(&h, hdrbuf);
	if ((rc = write(ctx, hdrbuf, FP_DELTA_HEADER_SIZE, err)))
		goto out;
	st.delta_size = FP_DELTA_HEADER_SIZE;
	for (uint64_t w = 0; w < nwin; w++) {
		uint64_t ws = w * pr.window_size;
		size_t wl =
		    (size_t)((ws + pr.window_size < target_len ? ws + pr.window_size : target_len) -
		             ws);
		const struct plan *p = &plans[w];
		size_t hn = varint_put(hdrbuf, p->n), fill = 0;
		uint64_t prev_end = 0;
		for (size_t k = 0; k < p->n; k++) {
			hn += varint_put(hdrbuf + hn,
			                 zigzag((int64_t)p->ext[k].b - (int64_t)prev_end));
			hn += varint_put(hdrbuf + hn, p->ext[k].len);
			memcpy(prefix + fill, base + p->ext[k].b, p->ext[k].len);
			fill += p->ext[k].len;
			prev_end = p->ext[k].b + p->ext[k].len;
		}
		size_t z;
		if (ZSTD_isError(z = ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters)) ||
		    ZSTD_isError(
		        z = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, pr.level)) ||
		    ZSTD_isError(
		        z = ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, (int)h.window_log)) ||
		    ZSTD_isError(
		        z = ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1)) ||
		    ZSTD_isError(z = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0)) ||
		    (fill && ZSTD_isError(z = ZSTD_CCtx_refPrefix(cc, prefix, fill)))) {
			rc = fp_err_set(err, FP_ENOMEM, "delta: zstd: %s", ZSTD_getErrorName(z));
			goto out;
		}
		z = ZSTD_compress2(cc, frame, fcap, tgt + ws, wl);
		if (ZSTD_isError(z)) {
			rc = fp_err_set(err, FP_ENOMEM, "delta: zstd: %s", ZSTD_getErrorName(z));
			goto out;
		}
		hn += varint_put(hdrbuf + hn, z);
		if ((rc = write(ctx, hdrbuf, hn, err)) || (rc = write(ctx, frame, z, err)))
			goto out;
		st.delta_size += hn + z;
		st.windows++;
	}
	rc = 0;
out:
	if (rc == FP_ENOMEM && err && !err->msg[0])
		fp_err_set(err, rc, "delta: out of memory");
	if (plans)
		for (uint64_t w = 0; w < nwin; w++)
			free(plans[w].ext);
	free(plans);
	free(m);
	free(prefix);
	free(frame);
	free(hdrbuf);
	ZSTD_freeCCtx(cc);
	if (stats)
		*stats = st;
	return rc;
}

/* ---- applying ---- */

enum apply_state {
	A_HDR,
	A_COUNT,
	A_EXT_OFF,
	A_EXT_LEN,
	A_FSIZE,
	A_FRAME,
	A_DONE,
	A_FINISHED,
	A_FAILED
};

struct fp_delta_applier {
	struct fp_delta_apply_opts o;
	enum apply_state state;
	struct fp_err fail;
	unsigned char hdr[FP_DELTA_HEADER_SIZE];
	size_t hdr_have;
	struct fp_delta_header h;
	uint64_t n_windows, win, win_len, win_out;
	uint64_t n_ext, ext_i, prev_end;
	int64_t ext_step;
	uint64_t vr_val;
	unsigned vr_shift;
	unsigned char *prefix;
	size_t prefix_len;
	uint64_t frame_left;
	int frame_done;
	ZSTD_DStream *zd;
	unsigned char *zout;
	size_t zout_size;
	EVP_MD_CTX *md;
	uint64_t out_total;
};

int fp_delta_applier_new(const struct fp_delta_apply_opts *opts, struct fp_delta_applier **out,
                         struct fp_err *err)
{
	*out = NULL;
	if (!opts || !opts->read_base || !opts->write)
		return fp_err_set(err, FP_EINVAL, "delta: read_base and write are required");
	struct fp_delta_applier *a = calloc(1, sizeof(*a));
	if (!a)
		return fp_err_set(err, FP_ENOMEM, "delta: out of memory");
	a->o = *opts;
	if (!a->o.target_max || a->o.target_max > FP_DELTA_TARGET_MAX)
		a->o.target_max = FP_DELTA_TARGET_MAX;
	a->md = EVP_MD_CTX_new();
	if (!a->md || EVP_DigestInit_ex(a->md, EVP_sha256(), NULL) != 1) {
		fp_delta_applier_free(a);
		return fp_err_set(err, FP_ECRYPTO, "delta: cannot set up SHA-256");
	}
	*out = a;
	return 0;
}

void fp_delta_applier_free(struct fp_delta_applier *a)
{
	if (!a)
		return;
	EVP_MD_CTX_free(a->md);
	ZSTD_freeDStream(a->zd);
	free(a->zout);
	free(a->prefix);
	free(a);
}

const struct fp_delta_header *fp_delta_applier_header(const struct fp_delta_applier *a)
{
	return a->hdr_have == FP_DELTA_HEADER_SIZE && a->state != A_HDR ? &a->h : NULL;
}

static int afail(struct fp_delta_applier *a, struct fp_err *err, int code)
{
	a->state = A_FAILED;
	a->fail.code = code;
	if (err && err->msg[0])
		a->fail = *err;
	else
		snprintf(a->fail.msg, sizeof(a->fail.msg), "delta: %s", fp_err_name(code));
	a->fail.code = code;
	if (err && !err->msg[0])
		*err = a->fail;
	return code;
}

static int check_base(struct fp_delta_applier *a, struct fp_err *err)
{
	unsigned char *buf = malloc(BASE_CHUNK), md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int l = 0;
	int rc = 0;
	if (!buf || !c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		rc = fp_err_set(err, FP_ENOMEM, "delta: out of memory");
		goto out;
	}
	for (uint64_t off = 0; off < a->h.base_size;) {
		size_t n =
		    a->h.base_size - off < BASE_CHUNK ? (size_t)(a->h.base_size - off) : BASE_CHUNK;
		if ((rc = a->o.read_base(a->o.ctx, off, buf, n, err)))
			goto out;
		if (EVP_DigestUpdate(c, buf, n) != 1) {
			rc = fp_err_set(err, FP_ECRYPTO, "delta: SHA-256 failed");
			goto out;
		}
		off += n;
	}
	if (EVP_DigestFinal_ex(c, md, &l) != 1) {
		rc = fp_err_set(err, FP_ECRYPTO, "delta: SHA-256 failed");
		goto out;
	}
	if (memcmp(md, a->h.base_sha256, 32) != 0) {
		char hex[65];
		static const char x[] = "0123456789abcdef";
		for (int i = 0; i < 32; i++) {
			hex[2 * i] = x[a->h.base_sha256[i] >> 4];
			hex[2 * i + 1] = x[a->h.base_sha256[i] & 15];
		}
		hex[64] = '\0';
		rc = fp_err_set(err, FP_ECONFLICT,
		                "delta: wrong base: the delta applies to an image with sha256 %s, "
		                "which the running slot does not hold; a full download is needed",
		                hex);
	}
out:
	free(buf);
	EVP_MD_CTX_free(c);
	return rc;
}

static int got_header(struct fp_delta_applier *a, struct fp_err *err)
{
	int rc = fp_delta_header_parse(a->hdr, sizeof(a->hdr), &a->h, err);
	if (rc)
		return rc;
	if (a->h.base_size != a->o.base_size)
		return fp_err_set(err, FP_ECONFLICT,
		                  "delta: wrong base: the delta applies to an image of %llu bytes, "
		                  "the running slot holds %llu; a full download is needed",
		                  (unsigned long long)a->h.base_size,
		                  (unsigned long long)a->o.base_size);
	if (a->h.target_size > a->o.target_max)
		return fp_err_set(
		    err, FP_ETOOBIG, "delta: makes an image of %llu bytes, over the cap of %llu",
		    (unsigned long long)a->h.target_size, (unsigned long long)a->o.target_max);
	if (a->o.mem_max && fp_delta_apply_mem(&a->h) > a->o.mem_max)
		return fp_err_set(
		    err, FP_ETOOBIG,
		    "delta: needs %llu bytes of memory to apply, over the cap of %llu",
		    (unsigned long long)fp_delta_apply_mem(&a->h),
		    (unsigned long long)a->o.mem_max);
	if (!a->o.skip_base_check && (rc = check_base(a, err)))
		return rc;
	a->prefix = malloc(a->h.prefix_max ? a->h.prefix_max : 1);
	a->zd = ZSTD_createDStream();
	a->zout_size = ZSTD_DStreamOutSize();
	a->zout = malloc(a->zout_size);
	if (!a->prefix || !a->zd || !a->zout)
		return fp_err_set(err, FP_ENOMEM, "delta: out of memory");
	size_t z = ZSTD_DCtx_setParameter(a->zd, ZSTD_d_windowLogMax, (int)a->h.window_log);
	if (ZSTD_isError(z))
		return fp_err_set(err, FP_EINVAL, "delta: zstd: %s", ZSTD_getErrorName(z));
	a->n_windows = (a->h.target_size + a->h.window_size - 1) / a->h.window_size;
	a->win = 0;
	a->state = a->n_windows ? A_COUNT : A_DONE;
	return 0;
}

/* Starts window a->win: its extent list comes next. */
static void next_window(struct fp_delta_applier *a)
{
	a->win++;
	a->state = a->win < a->n_windows ? A_COUNT : A_DONE;
}

static int start_frame(struct fp_delta_applier *a, struct fp_err *err)
{
	uint64_t ws = a->win * a->h.window_size;
	a->win_len =
	    a->h.target_size - ws < a->h.window_size ? a->h.target_size - ws : a->h.window_size;
	if (a->frame_left == 0 || a->frame_left > ZSTD_compressBound(a->win_len) + FRAME_SLACK)
		return fp_err_set(err, FP_EINVAL,
		                  "delta: window %llu: a frame of %llu bytes for %llu "
		                  "bytes of output is corrupt",
		                  (unsigned long long)a->win, (unsigned long long)a->frame_left,
		                  (unsigned long long)a->win_len);
	size_t z = ZSTD_DCtx_reset(a->zd, ZSTD_reset_session_only);
	if (!ZSTD_isError(z) && a->prefix_len)
		z = ZSTD_DCtx_refPrefix(a->zd, a->prefix, a->prefix_len);
	if (ZSTD_isError(z))
		return fp_err_set(err, FP_EINVAL, "delta: zstd: %s", ZSTD_getErrorName(z));
	a->win_out = 0;
	a->frame_done = 0;
	a->state = A_FRAME;
	return 0;
}

static int frame_out(struct fp_delta_applier *a, size_t n, struct fp_err *err)
{
	if (n == 0)
		return 0;
	if (n > a->win_len - a->win_out)
		return fp_err_set(
		    err, FP_EINVAL,
		    "delta: window %llu decodes to more than its %llu bytes; the delta "
		    "is corrupt",
		    (unsigned long long)a->win, (unsigned long long)a->win_len);
	a->win_out += n;
	a->out_total += n;
	if (EVP_DigestUpdate(a->md, a->zout, n) != 1)
		return fp_err_set(err, FP_ECRYPTO, "delta: SHA-256 failed");
	return a->o.write(a->o.ctx, a->zout, n, err);
}

static int frame_bytes(struct fp_delta_applier *a, const unsigned char *p, size_t n,
                       struct fp_err *err)
{
	ZSTD_inBuffer in = {p, n, 0};
	a->frame_left -= n;
	for (;;) {
		if (a->frame_done && in.pos < in.size)
			return fp_err_set(err, FP_EINVAL,
			                  "delta: window %llu: bytes after its frame",
			                  (unsigned long long)a->win);
		ZSTD_outBuffer o = {a->zout, a->zout_size, 0};
		size_t z = ZSTD_decompressStream(a->zd, &o, &in);
		if (ZSTD_isError(z))
			return fp_err_set(err, FP_EINVAL, "delta: window %llu: zstd: %s",
			                  (unsigned long long)a->win, ZSTD_getErrorName(z));
		a->frame_done = z == 0;
		int rc = frame_out(a, o.pos, err);
		if (rc)
			return rc;
		/* Past the frame's end the decoder would start another frame: stop there. */
		if (a->frame_done || (in.pos == in.size && o.pos < o.size))
			break;
	}
	if (a->frame_done && in.pos < in.size)
		return fp_err_set(err, FP_EINVAL, "delta: window %llu: bytes after its frame",
		                  (unsigned long long)a->win);
	if (a->frame_left == 0) {
		if (!a->frame_done || a->win_out != a->win_len)
			return fp_err_set(
			    err, FP_EINVAL,
			    "delta: window %llu decodes to %llu of its %llu bytes; the "
			    "delta is corrupt",
			    (unsigned long long)a->win, (unsigned long long)a->win_out,
			    (unsigned long long)a->win_len);
		next_window(a);
	}
	return 0;
}

/* Takes one varint byte; 1 when the value is complete (in *v), 0 when more follow. */
static int varint_byte(struct fp_delta_applier *a, unsigned char c, uint64_t *v, struct fp_err *err)
{
	if (a->vr_shift > 63 || (a->vr_shift == 63 && (c & 0x7e)))
		return fp_err_set(err, FP_EINVAL, "delta: window %llu: a number over 64 bits",
		                  (unsigned long long)a->win);
	a->vr_val |= (uint64_t)(c & 0x7f) << a->vr_shift;
	a->vr_shift += 7;
	if (c & 0x80)
		return 0;
	*v = a->vr_val;
	a->vr_val = 0;
	a->vr_shift = 0;
	return 1;
}

static int got_number(struct fp_delta_applier *a, uint64_t v, struct fp_err *err)
{
	switch (a->state) {
	case A_COUNT:
		if (v > FP_DELTA_EXTENTS_MAX)
			return fp_err_set(err, FP_ETOOBIG,
			                  "delta: window %llu lists %llu extents; the "
			                  "cap is %d",
			                  (unsigned long long)a->win, (unsigned long long)v,
			                  FP_DELTA_EXTENTS_MAX);
		a->n_ext = v;
		a->ext_i = 0;
		a->prev_end = 0;
		a->prefix_len = 0;
		a->state = v ? A_EXT_OFF : A_FSIZE;
		return 0;
	case A_EXT_OFF:
		a->ext_step = unzigzag(v);
		a->state = A_EXT_LEN;
		return 0;
	case A_EXT_LEN: {
		/* Both terms are within 2^40 before they are added: no overflow. */
		int64_t step = a->ext_step;
		uint64_t off = 0;
		int inside = step >= -(int64_t)a->prev_end && step <= (int64_t)a->h.base_size;
		if (inside)
			off = (uint64_t)((int64_t)a->prev_end + step);
		if (!inside || v == 0 || off > a->h.base_size || v > a->h.base_size - off)
			return fp_err_set(err, FP_EINVAL,
			                  "delta: window %llu: extent %llu lies outside the base",
			                  (unsigned long long)a->win, (unsigned long long)a->ext_i);
		if (v > a->h.prefix_max - a->prefix_len)
			return fp_err_set(
			    err, FP_EINVAL,
			    "delta: window %llu: its extents exceed the declared prefix "
			    "of %u bytes",
			    (unsigned long long)a->win, a->h.prefix_max);
		int rc = a->o.read_base(a->o.ctx, off, a->prefix + a->prefix_len, v, err);
		if (rc)
			return rc;
		a->prefix_len += v;
		a->prev_end = off + v;
		a->state = ++a->ext_i < a->n_ext ? A_EXT_OFF : A_FSIZE;
		return 0;
	}
	case A_FSIZE: a->frame_left = v; return start_frame(a, err);
	default: return fp_err_set(err, FP_EINVAL, "delta: internal state error");
	}
}

int fp_delta_applier_feed(struct fp_delta_applier *a, const void *buf, size_t n, struct fp_err *err)
{
	const unsigned char *p = buf;
	int rc = 0;
	if (err)
		fp_err_clear(err);
	if (a->state == A_FAILED) {
		if (err)
			*err = a->fail;
		return a->fail.code;
	}
	while (n > 0) {
		size_t take = 1;
		uint64_t v = 0;
		switch (a->state) {
		case A_HDR:
			take = sizeof(a->hdr) - a->hdr_have < n ? sizeof(a->hdr) - a->hdr_have : n;
			memcpy(a->hdr + a->hdr_have, p, take);
			a->hdr_have += take;
			if (a->hdr_have == sizeof(a->hdr))
				rc = got_header(a, err);
			break;
		case A_COUNT:
		case A_EXT_OFF:
		case A_EXT_LEN:
		case A_FSIZE:
			rc = varint_byte(a, *p, &v, err);
			rc = rc == 1 ? got_number(a, v, err) : rc;
			break;
		case A_FRAME:
			take = a->frame_left < n ? (size_t)a->frame_left : n;
			rc = frame_bytes(a, p, take, err);
			break;
		default:
			rc =
			    fp_err_set(err, FP_EINVAL, "delta: %zu bytes after the last window", n);
			take = n;
			break;
		}
		if (rc)
			return afail(a, err, rc);
		p += take;
		n -= take;
	}
	return 0;
}

int fp_delta_applier_finish(struct fp_delta_applier *a, struct fp_err *err)
{
	if (err)
		fp_err_clear(err);
	if (a->state == A_FAILED) {
		if (err)
			*err = a->fail;
		return a->fail.code;
	}
	if (a->state == A_FINISHED)
		return 0;
	if (a->state != A_DONE)
		return afail(a, err,
		             fp_err_set(err, FP_EINVAL,
		                        "delta: truncated: %llu of %llu target bytes were made",
		                        (unsigned long long)a->out_total,
		                        (unsigned long long)a->h.target_size));
	unsigned char md[32];
	unsigned int l = 0;
	if (EVP_DigestFinal_ex(a->md, md, &l) != 1)
		return afail(a, err, fp_err_set(err, FP_ECRYPTO, "delta: SHA-256 failed"));
	if (memcmp(md, a->h.target_sha256, 32) != 0)
		return afail(a, err,
		             fp_err_set(err, FP_ECRYPTO,
		                        "delta: the result's sha256 differs from the target's; "
		                        "discard what was written"));
	a->state = A_FINISHED;
	return 0;
}
