/*
 * See ingest_metrics.h.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "ingest/ingest_metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

struct ingest_metrics {
	struct MHD_Daemon *daemon;
	struct ingest_stats *stats;
	int port;
};

static int render(const struct ingest_stats *s, struct dbuf *out)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} rows[] = {
	    {"records_consumed_total", "counter", "Records read from Kafka.",
	     offsetof(struct ingest_stats, records)},
	    {"rows_committed_total", "counter", "Rows committed to the raw lake.",
	     offsetof(struct ingest_stats, rows)},
	    {"dead_letters_total", "counter", "Records sent to the dead-letter topic.",
	     offsetof(struct ingest_stats, dead)},
	    {"late_rows_total", "counter", "Rows committed into hours already closed.",
	     offsetof(struct ingest_stats, late)},
	    {"commits_total", "counter", "Batches committed.",
	     offsetof(struct ingest_stats, commits)},
	    {"files_committed_total", "counter", "Lake files committed.",
	     offsetof(struct ingest_stats, files)},
	    {"bytes_committed_total", "counter", "Bytes of lake files committed.",
	     offsetof(struct ingest_stats, bytes)},
	    {"hours_compacted_total", "counter", "Closed hours compacted.",
	     offsetof(struct ingest_stats, compacted)},
	    {"restarts_total", "counter", "Restarts after a service was unavailable.",
	     offsetof(struct ingest_stats, restarts)},
	    {"fetch_wakeups_total", "counter",
	     "Partitions sought to their position to wake librdkafka's fetcher.",
	     offsetof(struct ingest_stats, fetch_wakeups)},
	    {"fetch_refills_total", "counter",
	     "Watermark queries sent to wake librdkafka's fetcher before its queue runs dry.",
	     offsetof(struct ingest_stats, fetch_refills)},
	    {"backlog_seals_total", "counter",
	     "Batches committed as soon as their partition caught up after a backlog.",
	     offsetof(struct ingest_stats, backlog_seals)},
	    {"consumer_lag_records", "gauge",
	     "Records behind the high watermarks of the "
	     "assigned partitions.",
	     offsetof(struct ingest_stats, lag)},
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(rows); i++) {
		const _Atomic int64_t *v =
		    (const _Atomic int64_t *)((const char *)s + rows[i].offset);

		rc = dbuf_addf(out,
		               "# HELP topsongs_ingest_%s %s\n# TYPE topsongs_ingest_%s %s\n"
		               "topsongs_ingest_%s %lld\n",
		               rows[i].name, rows[i].help, rows[i].name, rows[i].type, rows[i].name,
		               (long long)*v);
	}
	if (!rc)
		rc = dbuf_addf(out,
		               "# HELP topsongs_ingest_commit_seconds Time to close, commit and "
		               "publish a batch.\n# TYPE topsongs_ingest_commit_seconds summary\n"
		               "topsongs_ingest_commit_seconds_sum %.6f\n"
		               "topsongs_ingest_commit_seconds_count %lld\n",
		               (double)s->commit_us / 1e6, (long long)s->commits);
	if (!rc)
		rc = dbuf_addf(out,
		               "# HELP topsongs_ingest_last_commit_seconds Unix time of the last "
		               "batch committed and published (0: none yet).\n"
		               "# TYPE topsongs_ingest_last_commit_seconds gauge\n"
		               "topsongs_ingest_last_commit_seconds %.6f\n",
		               (double)s->last_commit_us / 1e6);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct ingest_metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct dbuf body;
	int status = 200;
	size_t len;
	char *p;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	dbuf_init(&body, 1 << 20);
	if (strcmp(method, "GET") || strcmp(url, "/metrics")) {
		status = 404;
		dbuf_addstr(&body, "only GET /metrics here\n");
	} else {
		render(m->stats, &body);
	}
	p = dbuf_detach(&body, &len);
	resp = MHD_create_response_from_buffer(len, p ? p : (char *)"",
	                                       p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int ingest_metrics_start(const char *listen, struct ingest_stats *stats,
                         struct ingest_metrics **out, struct ts_err *err)
{
	struct ingest_metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_in sa = {0};
	const char *colon = strrchr(listen, ':');
	const union MHD_DaemonInfo *info;
	char host[64];

	if (!m)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - listen) : 0, listen);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)(colon ? strtol(colon + 1, NULL, 10) : 0));
	if (!colon || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		free(m);
		return ts_err_set(err, TS_EINVAL, "ingest.metrics-listen %s: expected IPv4:PORT",
		                  listen);
	}
	m->stats = stats;
	m->daemon =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	                     on_request, m, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT,
	                     64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->daemon) {
		free(m);
		return ts_err_set(err, TS_EIO, "cannot listen on %s", listen);
	}
	info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : 0;
	*out = m;
	return 0;
}

int ingest_metrics_port(const struct ingest_metrics *m)
{
	return m->port;
}

void ingest_metrics_stop(struct ingest_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->daemon);
	free(m);
}
