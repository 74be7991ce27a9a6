/*
 * libFuzzer target: the play event validator and its canonical JSON. Any
 * input must be either rejected with a field/rule, or accepted and turned
 * into canonical JSON that validates again to the same canonical JSON; and
 * whatever the canonical fast path accepts, jansson alone accepts with the
 * same event, and is what event_to_json writes when it says so.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "event/event.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_rules rules = {"NA SA EU AF AS OC", 1795000000000000LL,
	                            3650LL * 86400 * 1000000, 3650LL * 86400 * 1000000};
	struct play_event ev, ev2;
	struct event_error why;
	struct dbuf a, b;
	bool as_written;
	json_t *obj;

	if (event_parse_canonical((const char *)data, size, &rules, &ev, &as_written)) {
		obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
		if (!obj || event_from_json(obj, &rules, &ev2, &why))
			BUG("fast path accepted what jansson rejects");
		/* The fast path keeps the coordinates' text when it is what
		 * %.15g writes; jansson keeps none, so event_to_json formats
		 * its doubles: the two must write the same bytes. */
		dbuf_init(&a, 1 << 20);
		dbuf_init(&b, 1 << 20);
		if (event_to_json(&ev, &a) || event_to_json(&ev2, &b) || a.len != b.len ||
		    memcmp(a.buf, b.buf, a.len))
			BUG("fast path's JSON and jansson's differ");
		/* The api sends such an input as it is, for event_to_json's. */
		if (as_written && (a.len != size || memcmp(a.buf, data, size)))
			BUG("input taken as written by event_to_json, which writes otherwise");
		dbuf_release(&a);
		dbuf_release(&b);
		memcpy(ev2.lat_text, ev.lat_text, sizeof(ev.lat_text));
		memcpy(ev2.lon_text, ev.lon_text, sizeof(ev.lon_text));
		if (memcmp(&ev, &ev2, sizeof(ev)))
			BUG("fast path and jansson differ");
		json_decref(obj);
	}
	if (event_parse((const char *)data, size, &rules, &ev, &why)) {
		if (!why.rule)
			BUG("rejected without a rule");
		return 0;
	}
	dbuf_init(&a, 1 << 20);
	dbuf_init(&b, 1 << 20);
	if (event_to_json(&ev, &a))
		BUG("canonical JSON failed");
	if (event_parse(a.buf, a.len, &rules, &ev2, &why))
		BUG("canonical JSON rejected: %s %s", why.field ? why.field : "-", why.rule);
	event_to_json(&ev2, &b);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
		BUG("canonical JSON not stable");
	dbuf_release(&a);
	dbuf_release(&b);
	return 0;
}
