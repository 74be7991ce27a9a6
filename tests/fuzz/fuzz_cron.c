/*
 * libFuzzer target: the schedule parser (every, cron with time zones,
 * shorthands) and next-fire computation on whatever it accepts: a parsed
 * schedule's next fire is always strictly later than the time asked about.
 */
#include "base/common.h"
#include "sched/sched_schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t probes[] = {0, 1774746000000000LL, 1792890000000000LL,
	                                 1700000000123456LL};
	char text[SCHED_TEXT_MAX + 2];
	struct sched_schedule s;
	struct ts_err err;
	int64_t next, again;

	if (size > SCHED_TEXT_MAX + 1)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sched_schedule_parse(text, &s, &err)) {
		if (!err.msg[0])
			BUG("error without a message");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		if (sched_schedule_next(&s, probes[i], &next))
			continue;
		if (next <= probes[i])
			BUG("next fire %lld not after %lld", (long long)next, (long long)probes[i]);
		if (!sched_schedule_next(&s, next, &again) && again <= next)
			BUG("fires go backwards");
	}
	return 0;
}
