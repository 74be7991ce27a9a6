/*
 * A deterministic catalog: each song and each artist gets its own PRNG
 * stream seeded from (catalog seed, index), and names are put together from
 * small word lists. Each song either starts a new artist (one in eight, more
 * among the first songs) or
 * goes to the artist of a random earlier song, so prolific artists get more
 * (a Yule process) and song i depends only on songs before it: a larger
 * catalog with the same seed extends a smaller one. An artist has one genre;
 * a song's duration is drawn around its genre's typical length.
 */
#include "base/common.h"
#include "sim/sim_catalog.h"
#include "sim/sim_rng.h"

#include <errno.h>
#include <math.h>

struct sim_catalog {
	uint64_t seed;
	uint32_t nsongs, nartists;
	int32_t *duration_ms;
	uint32_t *artist; /* per song */
};

static const char *const adjectives[] = {
    "Electric", "Golden",  "Broken", "Midnight", "Silent", "Neon",    "Wild",   "Lonely",
    "Burning",  "Velvet",  "Paper",  "Crystal",  "Fading", "Endless", "Sweet",  "Hollow",
    "Restless", "Shining", "Blue",   "Crimson",  "Secret", "Distant", "Little", "Northern",
    "Summer",   "Frozen",  "Holy",   "Cosmic",   "Quiet",  "Lucky",   "Savage", "Tender",
};

static const char *const nouns[] = {
    "Heart",  "River",   "Fire",   "Dream",     "Light",   "City",   "Ocean", "Road",
    "Star",   "Rain",    "Shadow", "Garden",    "Thunder", "Mirror", "Ghost", "Highway",
    "Moon",   "Summer",  "Echo",   "Wolf",      "Diamond", "Window", "Storm", "Paradise",
    "Signal", "Horizon", "Memory", "Satellite", "Fever",   "Island", "Smoke", "Angel",
};

static const char *const verbs[] = {
    "Chasing", "Holding", "Finding", "Losing",  "Saving",  "Calling",  "Breaking", "Riding",
    "Leaving", "Kissing", "Burning", "Keeping", "Missing", "Fighting", "Wanting",  "Taking",
};

static const char *const first_names[] = {
    "Ava",   "Leo",  "Maya",  "Noah",  "Zara",  "Kai",   "Luna",  "Omar",   "Ines",  "Theo",
    "Nia",   "Hugo", "Mila",  "Ravi",  "Sofia", "Jonas", "Yuki",  "Amara",  "Diego", "Freya",
    "Malik", "Elif", "Tariq", "Chloe", "Mateo", "Hana",  "Felix", "Adaeze", "Lars",  "Priya",
};

static const char *const last_names[] = {
    "Rivers",    "Stone",  "Nakamura", "Okafor",  "Silva",    "Moreau", "Kowalski", "Haddad",
    "Lindqvist", "Reyes",  "Mensah",   "Park",    "Castillo", "Novak",  "Sato",     "Fontaine",
    "Adeyemi",   "Marino", "Kaur",     "Brennan", "Volkov",   "Duarte", "Achebe",   "Whitlock",
};

/* Genres with a typical song length in seconds and its spread. */
static const struct {
	const char *name;
	double mean_s, sd_s;
} genres[] = {
    {"pop", 205, 30},        {"hip-hop", 195, 40}, {"rock", 235, 45},      {"electronic", 250, 60},
    {"r&b", 215, 35},        {"latin", 210, 30},   {"country", 200, 30},   {"jazz", 290, 80},
    {"classical", 380, 150}, {"k-pop", 200, 25},   {"afrobeats", 215, 35}, {"indie", 225, 45},
};

static const char *const mix_tags[] = {"Acoustic", "Live", "Remix", "Radio Edit", "Demo"};

#define PICK(rng, list) (list)[sim_rng_below((rng), ARRAY_SIZE(list))]

static void stream(struct sim_rng *r, uint64_t seed, uint64_t kind, uint64_t i)
{
	uint64_t st = seed ^ (kind << 56) ^ (i * 0x9e3779b97f4a7c15ULL);

	sim_rng_seed(r, sim_rng_splitmix(&st));
}

static uint32_t artist_genre(const struct sim_catalog *c, uint32_t a)
{
	struct sim_rng r;

	stream(&r, c->seed, 2, a);
	return (uint32_t)sim_rng_below(&r, ARRAY_SIZE(genres));
}

static void artist_name(const struct sim_catalog *c, uint32_t a, char *out, size_t size)
{
	struct sim_rng r;
	uint64_t form;

	stream(&r, c->seed, 3, a);
	form = sim_rng_below(&r, 10);
	if (form < 5)
		snprintf(out, size, "%s %s", PICK(&r, first_names), PICK(&r, last_names));
	else if (form < 7)
		snprintf(out, size, "The %s %ss", PICK(&r, adjectives), PICK(&r, nouns));
	else if (form < 9)
		snprintf(out, size, "%s %s", PICK(&r, adjectives), PICK(&r, nouns));
	else
		snprintf(out, size, "DJ %s", PICK(&r, last_names));
}

static void song_title(struct sim_rng *r, char *out, size_t size)
{
	uint64_t form = sim_rng_below(r, 10);
	int n;

	if (form < 4)
		n = snprintf(out, size, "%s %s", PICK(r, adjectives), PICK(r, nouns));
	else if (form < 6)
		n = snprintf(out, size, "%s of the %s", PICK(r, nouns), PICK(r, nouns));
	else if (form < 8)
		n = snprintf(out, size, "%s the %s", PICK(r, verbs), PICK(r, nouns));
	else if (form < 9)
		n = snprintf(out, size, "%s", PICK(r, nouns));
	else
		n = snprintf(out, size, "%s %ss", PICK(r, verbs), PICK(r, nouns));
	if (n > 0 && (size_t)n < size && sim_rng_chance(r, 0.06))
		snprintf(out + n, size - (size_t)n, " (%s)", PICK(r, mix_tags));
}

void sim_catalog_song_id(uint32_t i, char *out)
{
	snprintf(out, SIM_SONG_ID_SIZE, "s%06u", i);
}

/* Song i's artist and duration, from its own stream. Songs are drawn in
 * order, so c->artist[j] is set for every j < i. */
static void song_draws(struct sim_catalog *c, uint32_t i)
{
	struct sim_rng r;
	uint32_t g;
	double secs;

	stream(&r, c->seed, 1, i);
	/* The first songs start artists more often, so that small catalogs
	 * have more than a couple of them. */
	if (i == 0 || sim_rng_chance(&r, i < 64 ? 0.5 : 0.125))
		c->artist[i] = c->nartists++;
	else
		c->artist[i] = c->artist[sim_rng_below(&r, i)];
	g = artist_genre(c, c->artist[i]);
	secs = genres[g].mean_s + genres[g].sd_s * sim_rng_normal(&r);
	secs = fmin(fmax(secs, 60), 1200);
	c->duration_ms[i] = (int32_t)lround(secs * 1000);
}

void sim_catalog_song(const struct sim_catalog *c, uint32_t i, struct sim_song *out)
{
	uint32_t artist = c->artist[i];
	struct sim_rng r;

	stream(&r, c->seed, 4, i); /* the title's own stream */
	out->duration_ms = c->duration_ms[i];
	sim_catalog_song_id(i, out->id);
	song_title(&r, out->title, sizeof(out->title));
	artist_name(c, artist, out->artist, sizeof(out->artist));
	out->genre = genres[artist_genre(c, artist)].name;
}

int sim_catalog_new(uint64_t seed, uint32_t nsongs, struct sim_catalog **out, struct ts_err *err)
{
	struct sim_catalog *c;

	*out = NULL;
	if (nsongs < 1 || nsongs > SIM_CATALOG_MAX_SONGS)
		return ts_err_set(err, TS_EINVAL, "catalog: songs must be in [1, %d]",
		                  SIM_CATALOG_MAX_SONGS);
	c = calloc(1, sizeof(*c));
	if (c) {
		c->duration_ms = malloc((size_t)nsongs * sizeof(*c->duration_ms));
		c->artist = malloc((size_t)nsongs * sizeof(*c->artist));
	}
	if (!c || !c->duration_ms || !c->artist) {
		sim_catalog_free(c);
		return ts_err_set(err, TS_ENOMEM, "catalog: out of memory for %u songs", nsongs);
	}
	c->seed = seed;
	c->nsongs = nsongs;
	for (uint32_t i = 0; i < nsongs; i++)
		song_draws(c, i);
	*out = c;
	return 0;
}

void sim_catalog_free(struct sim_catalog *c)
{
	if (!c)
		return;
	free(c->duration_ms);
	free(c->artist);
	free(c);
}

uint32_t sim_catalog_size(const struct sim_catalog *c)
{
	return c->nsongs;
}

const char *sim_catalog_genre(const struct sim_catalog *c, uint32_t i)
{
	return genres[artist_genre(c, c->artist[i])].name;
}

uint64_t sim_catalog_seed(const struct sim_catalog *c)
{
	return c->seed;
}

int32_t sim_catalog_duration_ms(const struct sim_catalog *c, uint32_t i)
{
	return c->duration_ms[i];
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int sim_catalog_write_csv(const struct sim_catalog *c, FILE *f, struct ts_err *err)
{
	struct sim_song s;

	fputs("id,title,artist,genre,duration_ms\n", f);
	for (uint32_t i = 0; i < c->nsongs; i++) {
		sim_catalog_song(c, i, &s);
		fprintf(f, "%s,", s.id);
		csv_field(f, s.title);
		fputc(',', f);
		csv_field(f, s.artist);
		fputc(',', f);
		csv_field(f, s.genre);
		fprintf(f, ",%d\n", (int)s.duration_ms);
	}
	if (fflush(f) || ferror(f))
		return ts_err_set(err, TS_EIO, "catalog: write failed: %s", strerror(errno));
	return 0;
}
