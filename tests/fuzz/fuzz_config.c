/*
 * libFuzzer target: the .env parser and every key's value checks.
 */
#include "base/common.h"
#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_config cfg;
	struct ts_err err;
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	config_init(&cfg);
	if (config_load_stream(&cfg, f, "fuzz", &err) && !err.msg[0])
		BUG("error without a message");
	fclose(f);
	config_release(&cfg);
	return 0;
}
