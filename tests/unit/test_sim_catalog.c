/*
 * Unit tests of the simulated catalog: determinism for a seed, id and
 * duration rules, and the CSV that `topsongs catalog load` reads.
 */
#include "tests/unit/test.h"
#include "sim/sim_catalog.h"

TEST(sim_catalog_is_a_function_of_seed)
{
	struct sim_catalog *a = NULL, *b = NULL, *c = NULL;
	struct sim_song x, y;
	int same_title = 0;

	REQUIRE(sim_catalog_new(7, 500, &a, NULL) == 0);
	REQUIRE(sim_catalog_new(7, 2000, &b, NULL) == 0);
	REQUIRE(sim_catalog_new(8, 500, &c, NULL) == 0);
	for (uint32_t i = 0; i < 500; i++) {
		sim_catalog_song(a, i, &x);
		sim_catalog_song(b, i, &y);
		/* Same seed: song i is the same whatever the catalog size... */
		CHECK_STR(x.title, y.title);
		CHECK_STR(x.artist, y.artist);
		CHECK(x.duration_ms == y.duration_ms);
		sim_catalog_song(c, i, &y);
		same_title += !strcmp(x.title, y.title) && !strcmp(x.artist, y.artist);
	}
	/* ...and another seed gives another catalog. */
	CHECK(same_title < 25);
	sim_catalog_free(a);
	sim_catalog_free(b);
	sim_catalog_free(c);
}

TEST(sim_catalog_fields)
{
	struct sim_catalog *c = NULL;
	struct sim_song s;
	double sum = 0;
	int genres_seen = 0;
	const char *first_genre = NULL;

	REQUIRE(sim_catalog_new(1, 3000, &c, NULL) == 0);
	CHECK_INT(sim_catalog_size(c), 3000);
	for (uint32_t i = 0; i < 3000; i++) {
		sim_catalog_song(c, i, &s);
		CHECK(s.duration_ms >= 60000 && s.duration_ms <= 1200000);
		CHECK(s.duration_ms == sim_catalog_duration_ms(c, i));
		CHECK(s.title[0] && s.artist[0] && s.genre && s.genre[0]);
		sum += s.duration_ms;
		if (!first_genre)
			first_genre = s.genre;
		genres_seen += strcmp(first_genre, s.genre) != 0;
	}
	sim_catalog_song(c, 123, &s);
	CHECK_STR(s.id, "s000123");
	/* Songs last about three to four minutes on average. */
	CHECK(sum / 3000 > 180000 && sum / 3000 < 260000);
	CHECK(genres_seen > 0);
	sim_catalog_free(c);
}

TEST(sim_catalog_rejects_bad_sizes)
{
	struct sim_catalog *c = (struct sim_catalog *)&c;
	struct ts_err err;

	CHECK(sim_catalog_new(1, 0, &c, &err) == TS_EINVAL);
	CHECK(c == NULL);
	CHECK(sim_catalog_new(1, SIM_CATALOG_MAX_SONGS + 1, &c, &err) == TS_EINVAL);
	sim_catalog_free(NULL);
}

/* Counts the fields of one CSV record, honouring quotes. */
static int csv_fields(const char *line)
{
	int n = 1, quoted = 0;

	for (const char *p = line; *p && *p != '\n'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == ',' && !quoted)
			n++;
	}
	return quoted ? -1 : n;
}

TEST(sim_catalog_csv)
{
	struct sim_catalog *c = NULL;
	char *buf = NULL, line[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FILE *in;
	int rows = 0;

	REQUIRE(f);
	REQUIRE(sim_catalog_new(4, 250, &c, NULL) == 0);
	CHECK(sim_catalog_write_csv(c, f, NULL) == 0);
	fclose(f);
	in = fmemopen(buf, len, "r");
	REQUIRE(in);
	REQUIRE(fgets(line, sizeof(line), in));
	CHECK_STR(line, "id,title,artist,genre,duration_ms\n");
	while (fgets(line, sizeof(line), in)) {
		CHECK_INT(csv_fields(line), 5);
		CHECK(line[0] == 's');
		rows++;
	}
	CHECK_INT(rows, 250);
	fclose(in);
	free(buf);
	sim_catalog_free(c);
}
