/*
 * Unit tests of the aggregate's in-memory counts (flow_counts.h): every
 * file counts for its region and for ALL, one entry per (group, song) of a
 * file, in first-seen order; a random batch sums to what a plain table of
 * counts gives; and a chart's top 10 is a full sort's first ten, ties going
 * to the smaller song id in byte order.
 */
#include "tests/unit/test.h"
#include "base/dbuf.h"
#include "flow/flow_counts.h"

/* The entries as "region hour song plays\n" lines, in their order. */
static void dump(const struct flow_counts *c, struct dbuf *out)
{
	dbuf_init(out, 1 << 24);
	for (size_t i = 0; i < c->nents; i++) {
		const struct flow_counts_group *g = &c->groups[c->ents[i].key >> 32];
		const struct flow_counts_song *s = &c->songs[c->ents[i].key & 0xffffffffu];
		dbuf_addf(out, "%s %s %.*s %llu\n", g->region, g->hour, (int)s->len, s->s,
		          (unsigned long long)c->ents[i].plays);
	}
}

/* The number in a song name "songN" (N past the first 4 bytes). */
static int song_number(const struct flow_counts_song *s)
{
	int n = 0;

	for (uint32_t i = 4; i < s->len; i++)
		n = n * 10 + (s->s[i] - '0');
	return n;
}

static void add(struct flow_counts *c, const char *song, uint64_t n)
{
	struct ts_err err;

	CHECK_INT(flow_counts_add(c, song, strlen(song), n, &err), 0);
}

TEST(flow_counts_per_file_with_all)
{
	struct flow_counts c;
	struct ts_err err;
	struct dbuf out;

	flow_counts_init(&c);
	CHECK_INT(flow_counts_file(&c, "NA", "2026-11-20 13:00:00+00", &err), 0);
	add(&c, "s10", 2);
	add(&c, "s1", 1);
	add(&c, "s10", 3);
	CHECK_INT(flow_counts_end_file(&c, &err), 0);
	CHECK_INT(flow_counts_file(&c, "EU", "2026-11-20 13:00:00+00", &err), 0);
	add(&c, "s1", 4);
	add(&c, "\xc3\xa9t\xc3\xa9", 1); /* bytes past ASCII sort last */
	CHECK_INT(flow_counts_end_file(&c, &err), 0);
	CHECK_INT(flow_counts_file(&c, "EU", "2026-11-20 12:00:00+00", &err), 0);
	add(&c, "s2", 7);
	CHECK_INT(flow_counts_end_file(&c, &err), 0);
	/* A second file of a period already seen adds to it. */
	CHECK_INT(flow_counts_file(&c, "NA", "2026-11-20 13:00:00+00", &err), 0);
	add(&c, "s1", 10);
	CHECK_INT(flow_counts_end_file(&c, &err), 0);
	dump(&c, &out);
	CHECK_STR(dbuf_str(&out), "NA 2026-11-20 13:00:00+00 s10 5\n"
	                          "ALL 2026-11-20 13:00:00+00 s10 5\n"
	                          "NA 2026-11-20 13:00:00+00 s1 1\n"
	                          "ALL 2026-11-20 13:00:00+00 s1 1\n"
	                          "EU 2026-11-20 13:00:00+00 s1 4\n"
	                          "ALL 2026-11-20 13:00:00+00 s1 4\n"
	                          "EU 2026-11-20 13:00:00+00 \xc3\xa9t\xc3\xa9 1\n"
	                          "ALL 2026-11-20 13:00:00+00 \xc3\xa9t\xc3\xa9 1\n"
	                          "EU 2026-11-20 12:00:00+00 s2 7\n"
	                          "ALL 2026-11-20 12:00:00+00 s2 7\n"
	                          "NA 2026-11-20 13:00:00+00 s1 10\n"
	                          "ALL 2026-11-20 13:00:00+00 s1 10\n");
	CHECK_INT((int)c.ngroups, 5); /* NA, EU, ALL at 13:00; EU, ALL at 12:00 */
	CHECK_INT((int)c.nsongs, 4);  /* s10, s1, été, s2 */
	dbuf_release(&out);
	flow_counts_release(&c);
}

/* An enriched file with no rows (every play a duplicate) counts nothing. */
TEST(flow_counts_empty_file)
{
	struct flow_counts c;
	struct ts_err err;

	flow_counts_init(&c);
	CHECK_INT(flow_counts_file(&c, "EU", "2026-11-20 13:00:00+00", &err), 0);
	CHECK_INT(flow_counts_end_file(&c, &err), 0);
	CHECK_INT((int)c.nents, 0);
	CHECK_INT((int)c.nsongs, 0);
	flow_counts_release(&c);
}

TEST(flow_counts_random_batch_sums)
{
	static const char *const regions[] = {"AF", "EU", "NA"};
	static const char *const hours[] = {"2026-11-20 00:00:00+00", "2026-11-20 01:00:00+00"};
	enum { SONGS = 20000, FILES = 40 };
	static uint64_t want[4][2][SONGS]; /* region (3 = ALL), hour, song */
	static uint64_t got_by[4][2][SONGS];
	struct flow_counts c;
	struct ts_err err;
	uint64_t x = 12345, total = 0, got = 0;
	char name[16];

	memset(want, 0, sizeof(want));
	flow_counts_init(&c);
	for (int f = 0; f < FILES; f++) {
		int r = f % 3, h = (f / 3) % 2;
		CHECK_INT(flow_counts_file(&c, regions[r], hours[h], &err), 0);
		for (int i = 0; i < 2000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			int s = (int)((x >> 33) % SONGS);
			snprintf(name, sizeof(name), "song%d", s);
			add(&c, name, 1 + (x >> 60));
			want[r][h][s] += 1 + (x >> 60);
			want[3][h][s] += 1 + (x >> 60);
			total += 2 * (1 + (x >> 60));
		}
		CHECK_INT(flow_counts_end_file(&c, &err), 0);
	}
	memset(got_by, 0, sizeof(got_by));
	for (size_t i = 0; i < c.nents; i++) {
		const struct flow_counts_group *g = &c.groups[c.ents[i].key >> 32];
		const struct flow_counts_song *s = &c.songs[c.ents[i].key & 0xffffffffu];
		int r = !strcmp(g->region, "ALL")  ? 3
		        : !strcmp(g->region, "AF") ? 0
		        : !strcmp(g->region, "EU") ? 1
		                                   : 2;
		int h = !strcmp(g->hour, hours[1]);
		CHECK(c.ents[i].plays > 0);
		got_by[r][h][song_number(s)] += c.ents[i].plays;
		got += c.ents[i].plays;
	}
	CHECK(got == total);
	CHECK(!memcmp(got_by, want, sizeof(want)));
	flow_counts_release(&c);
}

static char names[300][8];

static int cmp_ranked(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b; /* {plays, song} */

	if (x[0] != y[0])
		return x[0] > y[0] ? -1 : 1;
	return strcmp(names[x[1]], names[y[1]]);
}

/* The chart's songs equal the first ten of a full sort (most plays first,
 * ties to the smaller song id in byte order, which is not the order of the
 * song numbers here: "s10" < "s9"), whatever the order of the offers and
 * however many ties; fewer than ten songs give fewer rows. */
TEST(flow_top_equals_full_sort)
{
	struct flow_counts_song songs[300];
	uint64_t all[300][2];
	uint32_t seed = 7;

	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", (i * 7) % 300);
		songs[i] = (struct flow_counts_song){names[i], (uint32_t)strlen(names[i])};
	}
	for (int round = 0; round < 200; round++) {
		struct flow_top t = {0};
		int n = round % 30 == 0 ? round % 7 : 1 + (int)(seed % 300);

		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			all[i][0] = (seed >> 16) % (round % 2 ? 5 : 1000); /* many ties */
			all[i][1] = (uint64_t)i;
		}
		/* Offered in a shuffled order (7919 is a prime above n). */
		for (int k = 0; k < n; k++) {
			int i = (int)((k * 7919u + (unsigned)round * 31u) % (unsigned)n);
			flow_top_offer(&t, songs, (uint32_t)all[i][1], all[i][0]);
		}
		qsort(all, (size_t)n, sizeof(all[0]), cmp_ranked);
		CHECK_INT(t.n, n < FLOW_TOP_N ? n : FLOW_TOP_N);
		for (int r = 0; r < t.n; r++) {
			CHECK_INT((int)t.plays[r], (int)all[r][0]);
			CHECK_INT((int)t.song[r], (int)all[r][1]);
		}
	}
}
