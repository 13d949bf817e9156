/*
 * gz.c - gzip in memory: the .json.gz of a TLS-RPT report (RFC 8460
 * section 5.3) going out, and reports coming in, decompressed under a
 * cap so that a small bomb cannot take the memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "mtasts.h"
#include "util/gz.h"

#define GZ_WINDOW	(15 + 16)	/* zlib: gzip wrapper */
#define GZ_CHUNK	65536

int
gz_is_gzip(const void *buf, size_t len)
{
	const unsigned char	*p = buf;

	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int
gz_compress(const void *in, size_t len, char **out, size_t *outlen)
{
	z_stream	 z;
	char		*buf;
	uLong		 bound;
	int		 rc;

	*out = NULL;
	*outlen = 0;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, GZ_WINDOW, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return MTASTS_ENOMEM;
	bound = deflateBound(&z, (uLong)len);
	if ((buf = malloc(bound)) == NULL) {
		deflateEnd(&z);
		return MTASTS_ENOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return MTASTS_ENOMEM;
	}
	*out = buf;
	return MTASTS_OK;
}

int
gz_decompress(const void *in, size_t len, size_t max, char **out,
    size_t *outlen)
{
	z_stream	 z;
	char		*buf = NULL, *nb;
	size_t		 size = 0;
	int		 rc, err;

	*out = NULL;
	*outlen = 0;
	if (!gz_is_gzip(in, len))
		return MTASTS_ESYNTAX;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, GZ_WINDOW) != Z_OK)
		return MTASTS_ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out + GZ_CHUNK + 1 > size) {
			size = z.total_out + GZ_CHUNK + 1;
			if ((nb = realloc(buf, size)) == NULL) {
				err = MTASTS_ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		z.next_out = (Bytef *)buf + z.total_out;
		z.avail_out = (uInt)(size - 1 - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (z.total_out > max) {
			err = MTASTS_ETOOBIG;
			goto fail;
		}
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			err = MTASTS_ESYNTAX;	/* truncated */
			goto fail;
		}
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			err = rc == Z_MEM_ERROR ? MTASTS_ENOMEM :
			    MTASTS_ESYNTAX;
			goto fail;
		}
	} while (rc != Z_STREAM_END);
	buf[z.total_out] = '\0';
	*out = buf;
	*outlen = z.total_out;
	inflateEnd(&z);
	return MTASTS_OK;
fail:
	inflateEnd(&z);
	free(buf);
	return err;
}
