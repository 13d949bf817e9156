/*
 * mime.h - the bits of MIME (RFC 2045, 2046) that TLS-RPT mail needs:
 * base64 both ways, and finding the report part of a received message.
 */
#ifndef MTASTS_MIME_H
#define MTASTS_MIME_H

#include <stddef.h>

/* base64 of len bytes in lines of 76 characters ending in CRLF, in a new
 * NUL-terminated string; NULL when out of memory. */
char	*mime_base64(const void *in, size_t len);
/* Decodes base64 text, skipping white space and stopping at "=" or at
 * the first other byte outside the alphabet, into a new buffer.
 * MTASTS_OK, MTASTS_ESYNTAX (nothing decoded), MTASTS_ENOMEM. */
int	mime_unbase64(const char *in, size_t len, char **out,
	    size_t *outlen);
/*
 * Finds in a message the body of the first part whose Content-Type is
 * application/tlsrpt+gzip or application/tlsrpt+json (else, as a
 * fallback, a part whose file name ends in .json or .json.gz) and
 * decodes its Content-Transfer-Encoding (base64 or none). MTASTS_OK
 * with a new buffer, MTASTS_ENOTFOUND, MTASTS_ENOMEM.
 */
int	mime_find_report(const char *msg, size_t len, char **out,
	    size_t *outlen);

#endif
