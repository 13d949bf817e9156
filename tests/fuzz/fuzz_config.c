/*
 * fuzz_config.c - libFuzzer target: mtasts.conf(5) parsing from memory.
 * Whatever the input, config_parse() returns a config or an error with
 * a diagnostic naming a line, and leaks nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config		*conf = NULL;
	struct mtasts_diag	 diag;
	size_t			 i;
	int			 rc;

	rc = config_parse((const char *)data, size, &conf, &diag);
	if (rc == MTASTS_OK) {
		for (i = 0; i < conf->noverrides; i++)
			if (config_override(conf,
			    conf->overrides[i].domain) == NULL)
				__builtin_trap();
		config_free(conf);
	} else if (conf != NULL || (rc == MTASTS_ECONFIG &&
	    (diag.error.msg[0] == '\0' ||
	    memchr(diag.error.msg, '\0', sizeof(diag.error.msg)) == NULL)))
		__builtin_trap();
	return 0;
}
