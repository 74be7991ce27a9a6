/*
 * See flow_catalog.h.
 */
#include "base/common.h"
#include "db/db.h"
#include "flow/flow_catalog.h"
#include "flow/flow_copy.h"
#include "flow/flow_csv.h"
#include "sim/sim_catalog.h"

#include <errno.h>

static int begin(struct db *db, struct flow_copy *c, struct ts_err *err)
{
	int rc = db_exec(db, "BEGIN", err);

	rc = rc ? rc
	        : db_exec(db,
	                  "CREATE TEMP TABLE songs_in (line bigint, song_id text, title text, "
	                  "artist text, genre text, duration_ms int) ON COMMIT DROP",
	                  err);
	return rc ? rc
	          : flow_copy_begin(db,
	                            "COPY songs_in (line, song_id, title, artist, genre, "
	                            "duration_ms) FROM STDIN",
	                            c, err);
}

/* The copied rows into songs; the last record of a song_id wins. */
static int finish(struct db *db, struct flow_copy *c, int rc, struct ts_err *err)
{
	if (!rc)
		rc = flow_copy_finish(c, err);
	else
		flow_copy_abort(c);
	rc = rc ? rc
	        : db_exec(db,
	                  "INSERT INTO songs (song_id, title, artist, genre, duration_ms) "
	                  "SELECT DISTINCT ON (song_id) song_id, title, artist, genre, duration_ms "
	                  "FROM songs_in ORDER BY song_id, line DESC "
	                  "ON CONFLICT (song_id) DO UPDATE SET title = EXCLUDED.title, "
	                  "artist = EXCLUDED.artist, genre = EXCLUDED.genre, "
	                  "duration_ms = EXCLUDED.duration_ms, loaded_at = now()",
	                  err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

static int put_song(struct flow_copy *c, long line, const char *id, const char *title,
                    const char *artist, const char *genre, int has_dur, int32_t dur,
                    struct ts_err *err)
{
	int rc = flow_copy_int(c, line, err);

	rc = rc ? rc : flow_copy_str(c, id, strlen(id), err);
	rc = rc ? rc : flow_copy_str(c, title, strlen(title), err);
	rc = rc ? rc : flow_copy_str(c, artist, strlen(artist), err);
	rc = rc ? rc : flow_copy_str(c, genre, strlen(genre), err);
	rc = rc ? rc : has_dur ? flow_copy_int(c, dur, err) : flow_copy_null(c, err);
	return rc ? rc : flow_copy_end_row(c, err);
}

static int on_song(const struct flow_csv_song *s, void *arg, struct ts_err *err)
{
	return put_song(arg, s->line, s->song_id, s->title, s->artist, s->genre, s->has_duration,
	                s->duration_ms, err);
}

int flow_catalog_load_csv(struct db *db, FILE *f, const char *name, int64_t *songs,
                          struct ts_err *err)
{
	struct flow_copy c = {0};
	struct flow_csv *p = malloc(sizeof(*p));
	char buf[65536];
	size_t n;
	int rc;

	*songs = 0;
	if (!p)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	flow_csv_init(p, on_song, &c);
	rc = begin(db, &c, err);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		free(p);
		return rc;
	}
	while (!rc && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		rc = flow_csv_feed(p, buf, n, err);
	if (!rc && ferror(f))
		rc = ts_err_set(err, TS_EIO, "read error: %s", strerror(errno));
	rc = rc ? rc : flow_csv_finish(p, err);
	*songs = p->records;
	rc = finish(db, &c, rc, err);
	free(p);
	return rc ? ts_err_wrap(err, "%s", name) : 0;
}

int flow_catalog_load_sim(struct db *db, uint64_t seed, uint32_t nsongs, int64_t *songs,
                          struct ts_err *err)
{
	struct sim_catalog *cat = NULL;
	struct flow_copy c = {0};
	struct sim_song s;
	int rc = sim_catalog_new(seed, nsongs, &cat, err);

	*songs = 0;
	if (rc)
		return rc;
	rc = begin(db, &c, err);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		sim_catalog_free(cat);
		return rc;
	}
	for (uint32_t i = 0; !rc && i < nsongs; i++) {
		sim_catalog_song(cat, i, &s);
		rc = put_song(&c, (long)i + 1, s.id, s.title, s.artist, s.genre, 1, s.duration_ms,
		              err);
	}
	*songs = rc ? 0 : nsongs;
	rc = finish(db, &c, rc, err);
	sim_catalog_free(cat);
	return rc;
}
