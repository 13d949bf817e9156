/*
 * fuzz_tlsrpt_record.c - libFuzzer target for
 * mtasts_tlsrpt_record_parse().
 *
 * The input is split into TXT records at NUL bytes. Invariants (abort()
 * when broken): a success gives at least one rua URI, each starting with
 * mailto: or https: (any case) and holding no white space, ",", "!" or
 * ";"; a failure leaves *out NULL and says why in diag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"

#define MAXREC	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_uri(const char *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_tlsrpt_record	*rec = (void *)1;
	struct mtasts_diag		 diag;
	const char			*txt[MAXREC];
	char				*buf, *p, *end;
	size_t				 n = 0, i;
	int				 rc;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf, end = buf + size; n < MAXREC && p <= end;
	    p += strlen(p) + 1)
		txt[n++] = p;
	rc = mtasts_tlsrpt_record_parse(txt, n, &rec, &diag);
	if (rc == MTASTS_OK) {
		if (rec == NULL || rec->nrua == 0 ||
		    diag.error.msg[0] != '\0')
			abort();
		for (i = 0; i < rec->nrua; i++)
			check_uri(rec->rua[i]);
		mtasts_tlsrpt_record_free(rec);
	} else if (rec != NULL || diag.error.msg[0] == '\0')
		abort();
	free(buf);
	return 0;
}

static void
check_uri(const char *u)
{
	if (strncasecmp(u, "mailto:", 7) != 0 &&
	    strncasecmp(u, "https://", 8) != 0)
		abort();
	if (strpbrk(u, " \t,!;") != NULL)
		abort();
}
