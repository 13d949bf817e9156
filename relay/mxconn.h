/*
 * mxconn.h - one SMTP client connection to one MX address (mxconn.c).
 */
#ifndef RELAY_MXCONN_H
#define RELAY_MXCONN_H

#include <stddef.h>

#include <openssl/ssl.h>

enum mxconn_ev {
	MXCONN_REPLY,	/* a whole reply: code and its lines */
	MXCONN_TLS,	/* the TLS handshake is done */
	MXCONN_DRAIN,	/* the message data queued fell below the low mark */
	MXCONN_ERROR	/* connection failed, closed or timed out: text */
};

/*
 * text: a reply's lines without their codes, joined with '\n', printable
 * ASCII only; for MXCONN_ERROR what went wrong.
 */
typedef void mxconn_cb(void *arg, enum mxconn_ev ev, int code,
    const char *text);

struct mxconn;

/* Connects to addr (IPv4 or IPv6 text) and waits for the greeting. */
struct mxconn	*mxconn_connect(const char *addr, unsigned port,
		    unsigned connect_timeout, unsigned greeting_timeout,
		    mxconn_cb *cb, void *arg);
/* Sends line (CRLF added) and waits timeout seconds for its reply. */
void		 mxconn_command(struct mxconn *, unsigned timeout,
		    const char *line);
/* Waits for a reply without sending anything (after the final dot). */
void		 mxconn_expect(struct mxconn *, unsigned timeout);
/* After the 220 to STARTTLS: runs the handshake on ssl (taken over). */
void		 mxconn_starttls(struct mxconn *, SSL *ssl, unsigned timeout);
SSL		*mxconn_ssl(struct mxconn *);
/* Queues message bytes; returns the bytes queued and not yet sent. */
size_t		 mxconn_write(struct mxconn *, const void *, size_t,
		    unsigned timeout);
/* The local address of the connection, as text ("" before connected). */
const char	*mxconn_local(const struct mxconn *);
const char	*mxconn_peer(const struct mxconn *);
/* Closes at once; no callback after this. */
void		 mxconn_free(struct mxconn *);

#endif
