/*
 * fuzz_sts_record.c - libFuzzer target for mtasts_sts_record_parse().
 *
 * The input is split into TXT records at NUL bytes (a record cannot hold
 * one once joined), so that record selection is fuzzed too. Invariants
 * (abort() when broken): a success gives an id of 1-32 letters and
 * digits; a failure clears the id and says why in diag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

#define MAXREC	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_sts_record	 rec;
	struct mtasts_diag		 diag;
	const char			*txt[MAXREC];
	char				*buf, *p, *end;
	size_t				 n = 0, i, len;
	int				 rc;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf, end = buf + size; n < MAXREC && p <= end;
	    p += strlen(p) + 1)
		txt[n++] = p;
	rc = mtasts_sts_record_parse(txt, n, &rec, &diag);
	if (rc == MTASTS_OK) {
		len = strlen(rec.id);
		if (len < 1 || len > MTASTS_ID_MAX ||
		    diag.error.msg[0] != '\0')
			abort();
		for (i = 0; i < len; i++)
			if (!((rec.id[i] >= 'a' && rec.id[i] <= 'z') ||
			    (rec.id[i] >= 'A' && rec.id[i] <= 'Z') ||
			    (rec.id[i] >= '0' && rec.id[i] <= '9')))
				abort();
	} else if (rec.id[0] != '\0' || diag.error.msg[0] == '\0')
		abort();
	free(buf);
	return 0;
}
