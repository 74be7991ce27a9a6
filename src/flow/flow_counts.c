/*
 * See flow_counts.h. Songs are interned once per batch (a hash lookup per
 * distinct song of a dictionary chunk, not per play); a file's counts are
 * summed in a dense array indexed by song, then appended as entries for its
 * group and for ALL.
 */
#include "base/common.h"
#include "flow/flow_counts.h"

#define SONGS_MAX (1u << 24)

void flow_counts_init(struct flow_counts *c)
{
	memset(c, 0, sizeof(*c));
	flow_hash_init(&c->index, SONGS_MAX);
}

void flow_counts_release(struct flow_counts *c)
{
	for (size_t i = 0; i < c->nsongs; i++)
		free(c->songs[i].s);
	free(c->songs);
	free(c->groups);
	free(c->ents);
	free(c->file);
	free(c->touched);
	flow_hash_release(&c->index);
	memset(c, 0, sizeof(*c));
}

/* Makes room for one more element of size sz in *p (capacity *cap). */
static int grow(void **p, size_t *cap, size_t n, size_t sz, struct ts_err *err)
{
	size_t cap2 = *cap ? *cap * 2 : 1024;
	void *q;

	if (n < *cap)
		return 0;
	q = realloc(*p, cap2 * sz);
	if (!q)
		return ts_err_set(err, TS_ENOMEM, "out of memory counting plays");
	*p = q;
	*cap = cap2;
	return 0;
}

static int group_of(struct flow_counts *c, const char *region, const char *hour, uint32_t *g,
                    struct ts_err *err)
{
	int rc;

	/* Newest first: a batch's files come ordered by hour. */
	for (size_t i = c->ngroups; i-- > 0;)
		if (!strcmp(c->groups[i].region, region) && !strcmp(c->groups[i].hour, hour)) {
			*g = (uint32_t)i;
			return 0;
		}
	rc = grow((void **)&c->groups, &c->capgroups, c->ngroups, sizeof(*c->groups), err);
	if (rc)
		return rc;
	c->groups[c->ngroups] = (struct flow_counts_group){region, hour};
	*g = (uint32_t)c->ngroups++;
	return 0;
}

int flow_counts_file(struct flow_counts *c, const char *region, const char *hour,
                     struct ts_err *err)
{
	int rc = group_of(c, region, hour, &c->group, err);

	return rc ? rc : group_of(c, "ALL", hour, &c->all, err);
}

static int intern(struct flow_counts *c, const void *s, size_t len, uint32_t *id,
                  struct ts_err *err)
{
	int64_t v = flow_hash_get(&c->index, s, len);
	int rc, added;
	char *copy;

	if (v >= 0) {
		*id = (uint32_t)v;
		return 0;
	}
	rc = grow((void **)&c->songs, &c->capsongs, c->nsongs, sizeof(*c->songs), err);
	if (!rc && c->nsongs >= c->capfile) {
		size_t cap = c->capsongs;
		uint64_t *f = realloc(c->file, cap * sizeof(*f));
		uint32_t *t = f ? realloc(c->touched, cap * sizeof(*t)) : NULL;
		if (f)
			c->file = f;
		if (t)
			c->touched = t;
		if (!f || !t)
			return ts_err_set(err, TS_ENOMEM, "out of memory counting plays");
		memset(c->file + c->capfile, 0, (cap - c->capfile) * sizeof(*f));
		c->capfile = cap;
	}
	if (rc)
		return rc;
	if (!(copy = malloc(len ? len : 1)))
		return ts_err_set(err, TS_ENOMEM, "out of memory counting plays");
	if (len)
		memcpy(copy, s, len);
	rc = flow_hash_put(&c->index, copy, len, (uint32_t)c->nsongs, &added, err);
	if (rc) {
		free(copy);
		return rc;
	}
	c->songs[c->nsongs] = (struct flow_counts_song){copy, (uint32_t)len};
	*id = (uint32_t)c->nsongs++;
	return 0;
}

int flow_counts_add(struct flow_counts *c, const void *s, size_t len, uint64_t n,
                    struct ts_err *err)
{
	uint32_t id = 0;
	int rc = intern(c, s, len, &id, err);

	if (rc)
		return rc;
	if (!c->file[id])
		c->touched[c->ntouched++] = id;
	c->file[id] += n;
	return 0;
}

static int push(struct flow_counts *c, uint32_t g, uint32_t song, uint64_t plays,
                struct ts_err *err)
{
	int rc = grow((void **)&c->ents, &c->capents, c->nents, sizeof(*c->ents), err);

	if (!rc)
		c->ents[c->nents++] = (struct flow_counts_ent){(uint64_t)g << 32 | song, plays};
	return rc;
}

int flow_counts_end_file(struct flow_counts *c, struct ts_err *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < c->ntouched; i++) {
		uint32_t id = c->touched[i];
		rc = push(c, c->group, id, c->file[id], err);
		rc = rc ? rc : push(c, c->all, id, c->file[id], err);
		c->file[id] = 0;
	}
	c->ntouched = 0;
	return rc;
}

/* Byte order of two songs' ids (a shorter prefix first). */
static int cmp_song(const struct flow_counts_song *x, const struct flow_counts_song *y)
{
	int r = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* Whether (song a, plays pa) ranks above (song b, plays pb). */
static int above(const struct flow_counts_song *songs, uint32_t a, uint64_t pa, uint32_t b,
                 uint64_t pb)
{
	return pa != pb ? pa > pb : cmp_song(&songs[a], &songs[b]) < 0;
}

void flow_top_offer(struct flow_top *t, const struct flow_counts_song *songs, uint32_t song,
                    uint64_t plays)
{
	int i;

	if (t->n == FLOW_TOP_N) {
		if (!above(songs, song, plays, t->song[FLOW_TOP_N - 1], t->plays[FLOW_TOP_N - 1]))
			return;
		i = FLOW_TOP_N - 1; /* the last one drops out */
	} else {
		i = t->n++;
	}
	/* Insertion into the ranked list, from the bottom. */
	for (; i > 0 && above(songs, song, plays, t->song[i - 1], t->plays[i - 1]); i--) {
		t->song[i] = t->song[i - 1];
		t->plays[i] = t->plays[i - 1];
	}
	t->song[i] = song;
	t->plays[i] = plays;
}
