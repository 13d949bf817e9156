/*
 * fuzz_report_show.c - libFuzzer target for mtasts_report_parse(): the
 * reader of reports others send us (JSON, gzip, whole messages), and the
 * JSON writer on whatever it accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mtasts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_report	*r = NULL;
	struct mtasts_diag	 diag;
	char			*json;

	if (mtasts_report_parse((const char *)data, size, &r, &diag) ==
	    MTASTS_OK) {
		json = mtasts_report_json(r);
		free(json);
		mtasts_report_free(r);
	}
	return 0;
}
