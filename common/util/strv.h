/*
 * strv.h - a vector of strings as the core hands them out: char **v with
 * its count n beside it, every string and the array from malloc(). DNS
 * answers (TXT strings, addresses), MX host sets, a policy's mx patterns,
 * a TLS-RPT record's rua URIs, report strings and forwarders are such
 * vectors; mtasts_mx_free() and the other public free functions free
 * theirs with strv_free().
 */
#ifndef MTASTS_STRV_H
#define MTASTS_STRV_H

#include <stddef.h>

/* Frees the n strings of v, then v; v may be NULL. */
void	strv_free(char **v, size_t n);
/*
 * Appends s to *v of *n strings, taking s over. s may be NULL, so that
 * strv_push(&v, &n, NULL, strdup(x)) needs one check. cap NULL: the
 * array holds exactly *n pointers and grows by one. Else *cap is its
 * room, kept by the caller from the first push on (0 with the vector
 * empty), and the array doubles when full: for vectors an untrusted
 * input can make long. MTASTS_OK, or MTASTS_ENOMEM with s freed and *v,
 * *n, *cap as they were.
 */
int	strv_push(char ***v, size_t *n, size_t *cap, char *s);
/*
 * A copy of the n strings of v in a new vector *out (NULL when n is 0).
 * MTASTS_OK or MTASTS_ENOMEM (*out NULL).
 */
int	strv_dup(char *const *v, size_t n, char ***out);

#endif
