/*
 * gz.h - gzip (RFC 1952) in memory on zlib, with a size cap.
 */
#ifndef MTASTS_GZ_H
#define MTASTS_GZ_H

#include <stddef.h>

/* Is buf the start of a gzip stream? */
int	gz_is_gzip(const void *buf, size_t len);
/* Compresses len bytes into a new buffer *out of *outlen bytes.
 * MTASTS_OK or MTASTS_ENOMEM. */
int	gz_compress(const void *in, size_t len, char **out, size_t *outlen);
/* Decompresses a gzip stream into a new NUL-terminated buffer of at most
 * max bytes. MTASTS_OK, MTASTS_ESYNTAX (not gzip, corrupt, truncated),
 * MTASTS_ETOOBIG, MTASTS_ENOMEM. */
int	gz_decompress(const void *in, size_t len, size_t max, char **out,
	    size_t *outlen);

#endif
