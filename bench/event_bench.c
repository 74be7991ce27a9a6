/*
 * Event decoding benchmark driver (bench/event.sh): reads NDJSON plays into
 * memory, then times, over the same records in the same run, event_parse
 * (canonical fast path, jansson for the rest) against jansson alone
 * (json_loadb + event_from_json, what event_parse did before the fast
 * path). Prints one line per variant: name, records, CPU seconds of the
 * best of REPEAT passes, ns per record. CPU time (not wall time), because
 * the machine is shared.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "event/event.h"

#include <jansson.h>
#include <time.h>

#define MAX_RECORDS 2000000

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_jansson(const char *buf, size_t len, const struct event_rules *rules,
                         struct play_event *ev)
{
	struct event_error why;
	json_t *obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	int rc = obj ? event_from_json(obj, rules, ev, &why) : TS_EINVAL;

	json_decref(obj);
	return rc;
}

static int parse_event(const char *buf, size_t len, const struct event_rules *rules,
                       struct play_event *ev)
{
	struct event_error why;

	return event_parse(buf, len, rules, ev, &why);
}

int main(int argc, char **argv)
{
	static char *line[MAX_RECORDS];
	static size_t len[MAX_RECORDS];
	int (*const fn[2])(const char *, size_t, const struct event_rules *,
	                   struct play_event *) = {parse_jansson, parse_event};
	static const char *const name[2] = {"jansson", "event_parse"};
	struct event_rules rules = {"NA SA EU AF AS OC", time_now_us(), 30LL * 86400 * 1000000,
	                            3600LL * 1000000};
	FILE *f = argc == 3 ? fopen(argv[1], "r") : NULL;
	size_t n = 0, cap = 0;
	long repeat = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	char *buf = NULL;
	ssize_t r;

	if (!f || repeat < 1) {
		fprintf(stderr, "usage: event_bench PLAYS.ndjson REPEAT\n");
		return 2;
	}
	while (n < MAX_RECORDS && (r = getline(&buf, &cap, f)) > 0) {
		len[n] = (size_t)r - (buf[r - 1] == '\n');
		line[n] = malloc(len[n] + 1);
		if (!line[n])
			return 1;
		memcpy(line[n], buf, len[n] + 1);
		n++;
	}
	free(buf);
	fclose(f);
	for (int v = 0; v < 2; v++) {
		double best = 0;
		size_t bad = 0;

		for (long k = 0; k < repeat; k++) {
			struct play_event ev;
			double t = cpu_now();

			bad = 0;
			for (size_t i = 0; i < n; i++)
				bad += fn[v](line[i], len[i], &rules, &ev) != 0;
			t = cpu_now() - t;
			best = k == 0 || t < best ? t : best;
		}
		printf("%s %zu %.3f %.0f %zu\n", name[v], n, best, best * 1e9 / (double)n, bad);
	}
	for (size_t i = 0; i < n; i++)
		free(line[i]);
	return 0;
}
