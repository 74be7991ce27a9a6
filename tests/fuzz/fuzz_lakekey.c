/*
 * libFuzzer target: the lake key parser of retention and the ledger
 * (lake_key_parse), which reads keys listed by the store — on S3,
 * whatever the bucket holds. Accepted keys must give a well-formed region,
 * a real date and an hour 0..23, and print back to the same partition.
 */
#include "base/common.h"
#include "lake/lake_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char key[1100], region[16], day[16], again[64];
	int hour;

	if (size >= sizeof(key))
		return 0;
	memcpy(key, data, size);
	key[size] = '\0';
	if (lake_key_parse(key, region, day, &hour))
		return 0;
	if (hour < 0 || hour > 23 || !*region || strlen(region) > 15 || strlen(day) != 10)
		BUG("accepted a bad partition: %s", key);
	snprintf(again, sizeof(again), "region=%s/date=%s/hour=%02d/", region, day, hour);
	if (!strstr(key, again))
		BUG("parsed %s from %s", again, key);
	return 0;
}
