/*
 * relay.h - what the files of mtasts-relay(8) share.
 *
 * main.c owns the process (options, listener, loop, log); server.c is
 * the SMTP server that smtpd talks to (one struct sess per connection);
 * mta.c delivers one transaction to one recipient domain under its
 * MTA-STS policy (one struct mta), asking the core for every decision;
 * mxconn.c is the SMTP client dialogue with one MX address; tls.c is
 * OpenSSL: the client context, certificate facts, DANE.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "mtasts.h"

#define RELAY_LINE_MAX		2048	/* a command line from smtpd */
#define RELAY_REPLY_MAX		1024	/* a reply kept for smtpd */
#define RELAY_WHY_MAX		1024	/* why the hosts of a domain failed */
#define RELAY_DATA_HIGH		(256 * 1024) /* buffered toward the MX */
#define RELAY_DATA_LOW		(64 * 1024)

/* Timeouts in seconds (RFC 5321 section 4.5.3.2 by default). */
struct relay_timeouts {
	unsigned	 connect;	/* TCP connect to an MX address */
	unsigned	 greeting;	/* the MX's 220 */
	unsigned	 command;	/* EHLO, STARTTLS, MAIL, RCPT, QUIT */
	unsigned	 data_init;	/* the reply to DATA */
	unsigned	 data_block;	/* each write of the message */
	unsigned	 data_end;	/* the reply to the final dot */
	unsigned	 idle;		/* smtpd silent between commands */
};

struct relay {
	struct event_base	*base;
	struct mtasts_ctx	*ctx;
	SSL_CTX			*ssl;
	struct relay_timeouts	 t;
	char			 helo[256];	/* our EHLO name to MX hosts */
	unsigned		 port;		/* MX port (25) */
	int			 verbose;
};
extern struct relay	relay;

void	 relay_log(enum mtasts_loglevel, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 relay_clean(char *, size_t, const char *, size_t);

/* server.c: smtpd's side. */
struct sess;
void	 server_accept(int, const char *);
void	 server_close_all(void);

/* What mta.c tells the session: the reply for the command it waits on. */
void	 sess_on_reply(struct sess *, const char *);
void	 sess_on_drain(struct sess *);

/* mta.c: one transaction to one recipient domain. */
struct mta;
struct mta_env {
	const char	*from;		/* reverse path, without <> */
	int		 body8;		/* BODY=8BITMIME */
	int		 body7;		/* BODY=7BIT */
	int		 utf8;		/* SMTPUTF8 */
	const char	*size;		/* SIZE=, or NULL */
};
struct mta	*mta_new(struct sess *, const char *, const struct mta_env *);
void		 mta_rcpt(struct mta *, const char *);
void		 mta_data(struct mta *);
int		 mta_data_write(struct mta *, const void *, size_t);
void		 mta_data_end(struct mta *);
void		 mta_free(struct mta *);

/* tls.c: the peer certificate as the core wants to see it. */
struct tls_cert {
	struct mtasts_cert_facts facts;		/* points into the below */
	char			*names;
	char			*issuer;
	char			*subject;
};
int		 tls_init(const char *);
SSL		*tls_client(const char *, int);
int		 tls_dane(SSL *, const char *, const struct mtasts_tlsa *,
		    size_t);
enum mtasts_tls	 tls_outcome(SSL *, struct tls_cert *, char *, size_t);
void		 tls_cert_clear(struct tls_cert *);
void		 tls_free(void);

#endif
