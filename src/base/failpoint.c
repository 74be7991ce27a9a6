/*
 * See failpoint.h.
 */
#include "base/common.h"
#include "base/failpoint.h"

#include <signal.h>
#include <stdatomic.h>

static atomic_int state; /* 0 unread, 1 none, 2 armed */
static char armed_name[64];
static long armed_at;
static atomic_long hits;

static void arm(void)
{
	const char *v = getenv("TS_FAILPOINT");
	const char *colon = v ? strchr(v, ':') : NULL;
	size_t len = colon ? (size_t)(colon - v) : (v ? strlen(v) : 0);

	if (!v || !len || len >= sizeof(armed_name)) {
		atomic_store(&state, 1);
		return;
	}
	memcpy(armed_name, v, len);
	armed_name[len] = '\0';
	armed_at = colon ? strtol(colon + 1, NULL, 10) : 1;
	if (armed_at < 1)
		armed_at = 1;
	atomic_store(&state, 2);
}

void failpoint(const char *name)
{
	if (atomic_load(&state) == 0)
		arm();
	if (atomic_load(&state) != 2 || strcmp(name, armed_name))
		return;
	if (atomic_fetch_add(&hits, 1) + 1 == armed_at) {
		fprintf(stderr, "failpoint %s: SIGKILL\n", name);
		raise(SIGKILL);
	}
}

long failpoint_arg(const char *name)
{
	if (atomic_load(&state) == 0)
		arm();
	if (atomic_load(&state) != 2 || strcmp(name, armed_name))
		return 0;
	return armed_at;
}
