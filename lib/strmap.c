/*
 * strmap.c — open-addressing string hash map (see strmap.h).
 */
#include "fleetpatch/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *key; /* NULL when empty */
	void *value;
	uint64_t hash;
};

struct fp_strmap {
	struct slot *slots;
	size_t cap, count; /* cap is a power of two */
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

int fp_strmap_new(struct fp_strmap **out)
{
	struct fp_strmap *m = calloc(1, sizeof(*m));
	if (!m || !(m->slots = calloc(64, sizeof(*m->slots)))) {
		free(m);
		return FP_ENOMEM;
	}
	m->cap = 64;
	*out = m;
	return 0;
}

void fp_strmap_free(struct fp_strmap *m, void (*free_value)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key) {
			free(m->slots[i].key);
			if (free_value)
				free_value(m->slots[i].value);
		}
	free(m->slots);
	free(m);
}

static struct slot *find(const struct fp_strmap *m, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	for (;;) {
		struct slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

void *fp_strmap_get(const struct fp_strmap *m, const char *key)
{
	struct slot *s = find(m, key, fnv1a(key));
	return s->key ? s->value : NULL;
}

static int grow(struct fp_strmap *m)
{
	struct fp_strmap bigger = {calloc(m->cap * 2, sizeof(struct slot)), m->cap * 2, m->count};
	if (!bigger.slots)
		return FP_ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*find(&bigger, m->slots[i].key, m->slots[i].hash) = m->slots[i];
	free(m->slots);
	*m = bigger;
	return 0;
}

int fp_strmap_put(struct fp_strmap *m, const char *key, void *value, void **old)
{
	if (old)
		*old = NULL;
	/* Keep the load under 3/4 so probes stay short. */
	if ((m->count + 1) * 4 > m->cap * 3 && grow(m))
		return FP_ENOMEM;
	uint64_t h = fnv1a(key);
	struct slot *s = find(m, key, h);
	if (s->key) {
		if (old)
			*old = s->value;
		s->value = value;
		return 0;
	}
	if (!(s->key = strdup(key)))
		return FP_ENOMEM;
	s->hash = h;
	s->value = value;
	m->count++;
	return 0;
}

size_t fp_strmap_count(const struct fp_strmap *m)
{
	return m->count;
}
