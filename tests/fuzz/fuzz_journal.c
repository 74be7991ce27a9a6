/*
 * libFuzzer target: the api journal's segment parser (api_journal_parse),
 * which reads back files an api left behind — whatever a crash, a full disk
 * or an operator made of them. Every record it accepts must encode back to
 * the same 16 bytes.
 */
#include "base/common.h"
#include "api/api_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const uint8_t *data;
	size_t off;
};

static int check(const char *region, int32_t hour, int64_t plays, void *arg)
{
	struct walk *w = arg;
	unsigned char again[API_JOURNAL_RECORD];

	if (api_journal_encode(region, hour, plays, again))
		BUG("accepted a record it cannot encode at byte %zu", w->off);
	if (memcmp(again, w->data + w->off, API_JOURNAL_RECORD))
		BUG("record at byte %zu does not encode back", w->off);
	w->off += API_JOURNAL_RECORD;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk w = {data, 0};
	struct ts_err err;

	api_journal_parse(data, size, check, &w, &err);
	return 0;
}
