/*
 * server.c - the SMTP server smtpd relays to: one struct sess per
 * connection from an allowed client (main.c checks the address).
 *
 * Contract: one recipient domain per transaction (a RCPT for another
 * domain gets 452 4.5.3, which smtpd retries in a transaction of its
 * own, unless no recipient of the first was taken: then the transaction
 * moves to the new domain, so a failing domain never holds back the
 * others); every reply to RCPT, DATA and the final dot is the MX's own or a
 * 4xx from mta.c, never a 250 the MX did not give. No PIPELINING: one
 * command at a time, so a reply always answers the command in flight.
 * Extensions advertised are only those passed on (8BITMIME, SMTPUTF8,
 * SIZE). The message is streamed to the MX as it arrives, dot-stuffing
 * untouched; reading from smtpd stops while RELAY_DATA_HIGH bytes wait
 * for the MX, so memory stays bounded whatever the message size.
 * Command lines longer than RELAY_LINE_MAX are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "relay.h"

enum sess_state { S_CMD, S_WAIT, S_DATA, S_CLOSE };
enum sess_wait { W_NONE, W_RCPT, W_DATA, W_DOT };

struct sess {
	struct bufferevent	*bev;
	char			 peer[64];
	enum sess_state		 state;
	enum sess_wait		 wait;
	int			 in_process;	/* sess_process() runs */
	int			 have_mail;
	char			 from[RELAY_LINE_MAX];
	char			 size[24];
	struct mta_env		 env;
	struct mta		*m;
	char			 domain[MTASTS_NAME_MAX + 1];
	unsigned		 nrcpt;		/* accepted by the MX */
	int			 at_bol;	/* DATA: at a line start */
	int			 discard;	/* DATA: the MX is gone */
	int			 blocked;	/* DATA: waiting for a drain */
	struct sess		*prev, *next;
};

static struct sess	*sessions;

static void	sess_on_read(struct bufferevent *, void *);
static void	sess_on_write(struct bufferevent *, void *);
static void	sess_on_event(struct bufferevent *, short, void *);
static void	sess_process(struct sess *);
static void	sess_command(struct sess *, char *);
static void	sess_data(struct sess *);
static void	sess_free(struct sess *);
static void	sess_reset(struct sess *);
static void	sess_send(struct sess *, const char *);
static void	sess_idle(struct sess *, int);

void
server_accept(int fd, const char *peer)
{
	struct sess	*s;
	char		 greet[320];

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->bev = bufferevent_socket_new(relay.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		relay_log(MTASTS_LOG_ERR, "session from %s: out of memory",
		    peer);
		evutil_closesocket(fd);
		free(s);
		return;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	bufferevent_setcb(s->bev, sess_on_read, sess_on_write, sess_on_event,
	    s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, RELAY_DATA_HIGH);
	sess_idle(s, 1);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->next = sessions;
	if (sessions != NULL)
		sessions->prev = s;
	sessions = s;
	snprintf(greet, sizeof(greet), "220 %s ESMTP mtasts-relay\r\n",
	    relay.helo);
	sess_send(s, greet);
	relay_log(MTASTS_LOG_DEBUG, "session from %s", peer);
}

void
server_close_all(void)
{
	while (sessions != NULL)
		sess_free(sessions);
}

static void
sess_free(struct sess *s)
{
	mta_free(s->m);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	bufferevent_free(s->bev);
	free(s);
}

/* Reading from smtpd is bounded by the idle timeout, except while smtpd
 * waits for us (then the MX's timeouts bound the wait). */
static void
sess_idle(struct sess *s, int on)
{
	struct timeval	tv = { (time_t)relay.t.idle, 0 };

	bufferevent_set_timeouts(s->bev, on ? &tv : NULL, &tv);
}

static void
sess_send(struct sess *s, const char *text)
{
	bufferevent_write(s->bev, text, strlen(text));
}

static void
sess_reset(struct sess *s)
{
	mta_free(s->m);
	s->m = NULL;
	s->have_mail = 0;
	s->nrcpt = 0;
	s->domain[0] = '\0';
	s->discard = s->blocked = 0;
}

static void
sess_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct sess	*s = arg;

	if (what & BEV_EVENT_TIMEOUT)
		relay_log(MTASTS_LOG_WARN, "session from %s: timed out", s->peer);
	sess_free(s);
}

static void
sess_on_write(struct bufferevent *bev, void *arg)
{
	struct sess	*s = arg;

	if (s->state == S_CLOSE)
		sess_free(s);
}

static void
sess_on_read(struct bufferevent *bev, void *arg)
{
	sess_process(arg);
}

/* What mta.c answers for the command in flight. */
void
sess_on_reply(struct sess *s, const char *reply)
{
	enum sess_wait	w = s->wait;

	if (s->state != S_WAIT)
		return;
	sess_send(s, reply);
	s->wait = W_NONE;
	s->state = S_CMD;
	if (w == W_RCPT && reply[0] == '2')
		s->nrcpt++;
	else if (w == W_DATA && strncmp(reply, "354", 3) == 0) {
		s->state = S_DATA;
		s->at_bol = 1;
	} else if (w == W_DOT)
		sess_reset(s);
	sess_idle(s, 1);
	if (!s->in_process)
		sess_process(s);
}

/* The MX took what was queued: read more of the message. */
void
sess_on_drain(struct sess *s)
{
	if (!s->blocked)
		return;
	s->blocked = 0;
	bufferevent_enable(s->bev, EV_READ);
	if (!s->in_process)
		sess_process(s);
}

static void
sess_process(struct sess *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->bev);
	char		*line;
	size_t		 n;

	s->in_process = 1;
	while (s->state == S_CMD || (s->state == S_DATA && !s->blocked)) {
		if (s->state == S_DATA) {
			sess_data(s);
			if (s->state == S_DATA)
				break;
			continue;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > RELAY_LINE_MAX) {
				sess_send(s, "500 5.5.2 line too long\r\n");
				s->state = S_CLOSE;
			}
			break;
		}
		if (n >= RELAY_LINE_MAX || strlen(line) != n)
			sess_send(s, "500 5.5.2 line too long or with NUL\r\n");
		else
			sess_command(s, line);
		free(line);
	}
	s->in_process = 0;
}

/* "<addr>" after "FROM:" or "TO:": the address, and what follows. */
static int
sess_path(char *p, char **addr, char **rest)
{
	char	*e;

	while (*p == ' ')
		p++;
	if (*p != '<' || (e = strchr(p, '>')) == NULL)
		return -1;
	*e = '\0';
	*addr = p + 1;
	*rest = e + 1;
	return strpbrk(*addr, "<> \t") == NULL ? 0 : -1;
}

/* MAIL FROM parameters: those we advertised, nothing else. */
static int
sess_mail_params(struct sess *s, char *p)
{
	char	*tok;

	for (tok = strtok(p, " "); tok != NULL; tok = strtok(NULL, " ")) {
		if (strcasecmp(tok, "BODY=8BITMIME") == 0)
			s->env.body8 = 1;
		else if (strcasecmp(tok, "BODY=7BIT") == 0)
			s->env.body7 = 1;
		else if (strcasecmp(tok, "SMTPUTF8") == 0)
			s->env.utf8 = 1;
		else if (strncasecmp(tok, "SIZE=", 5) == 0 &&
		    strlen(tok + 5) > 0 && strlen(tok + 5) < sizeof(s->size) &&
		    strspn(tok + 5, "0123456789") == strlen(tok + 5)) {
			snprintf(s->size, sizeof(s->size), "%s", tok + 5);
			s->env.size = s->size;
		} else
			return -1;
	}
	return 0;
}

static void
sess_mail(struct sess *s, char *arg)
{
	char	*addr, *rest;

	if (s->have_mail) {
		sess_send(s, "503 5.5.1 MAIL already given\r\n");
		return;
	}
	memset(&s->env, 0, sizeof(s->env));
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    sess_path(arg + 5, &addr, &rest) == -1) {
		sess_send(s, "501 5.5.4 syntax: MAIL FROM:<address>\r\n");
		return;
	}
	snprintf(s->from, sizeof(s->from), "%s", addr);
	if (sess_mail_params(s, rest) == -1) {
		sess_send(s, "555 5.5.4 unsupported MAIL parameter\r\n");
		return;
	}
	s->env.from = s->from;
	s->have_mail = 1;
	sess_send(s, "250 2.1.0 Ok\r\n");
}

static void
sess_rcpt(struct sess *s, char *arg)
{
	char	*addr, *rest, *at, dom[MTASTS_NAME_MAX + 1];
	char	 line[RELAY_LINE_MAX + 16];

	if (!s->have_mail) {
		sess_send(s, "503 5.5.1 MAIL first\r\n");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    sess_path(arg + 3, &addr, &rest) == -1 ||
	    (at = strrchr(addr, '@')) == NULL ||
	    mtasts_name_normalize(at + 1, 0, dom) != MTASTS_OK) {
		sess_send(s, "501 5.1.3 syntax: RCPT TO:<user@domain>\r\n");
		return;
	}
	if (rest[strspn(rest, " ")] != '\0') {
		sess_send(s, "555 5.5.4 unsupported RCPT parameter\r\n");
		return;
	}
	if (s->m != NULL && strcmp(dom, s->domain) != 0 && s->nrcpt == 0) {
		/* no recipient of the first domain was taken: the
		 * transaction moves to this one, or a domain that keeps
		 * failing would hold back the others smtpd sends with it
		 * (it retries them together, in the same order) */
		mta_free(s->m);
		s->m = NULL;
	}
	if (s->m != NULL && strcmp(dom, s->domain) != 0) {
		sess_send(s, "452 4.5.3 one recipient domain per transaction:"
		    " send this one separately\r\n");
		return;
	}
	if (s->m == NULL) {
		if ((s->m = mta_new(s, dom, &s->env)) == NULL) {
			sess_send(s, "451 4.3.0 out of memory\r\n");
			return;
		}
		snprintf(s->domain, sizeof(s->domain), "%s", dom);
	}
	snprintf(line, sizeof(line), "RCPT TO:<%s>", addr);
	s->state = S_WAIT;
	s->wait = W_RCPT;
	sess_idle(s, 0);
	mta_rcpt(s->m, line);
}

static void
sess_data_cmd(struct sess *s)
{
	if (!s->have_mail || s->m == NULL) {
		sess_send(s, "503 5.5.1 MAIL and RCPT first\r\n");
		return;
	}
	if (s->nrcpt == 0) {
		sess_send(s, "554 5.5.1 no valid recipients\r\n");
		return;
	}
	s->state = S_WAIT;
	s->wait = W_DATA;
	sess_idle(s, 0);
	mta_data(s->m);
}

static void
sess_ehlo(struct sess *s, int ehlo)
{
	char	buf[400];

	sess_reset(s);
	if (!ehlo) {
		snprintf(buf, sizeof(buf), "250 %s\r\n", relay.helo);
		sess_send(s, buf);
		return;
	}
	snprintf(buf, sizeof(buf), "250-%s\r\n250-8BITMIME\r\n"
	    "250-SMTPUTF8\r\n250 SIZE\r\n", relay.helo);
	sess_send(s, buf);
}

static void
sess_command(struct sess *s, char *line)
{
	char	*arg;
	size_t	 n = strcspn(line, " ");

	arg = line + n + (line[n] == ' ');
	if (n == 4 && strncasecmp(line, "EHLO", 4) == 0)
		sess_ehlo(s, 1);
	else if (n == 4 && strncasecmp(line, "HELO", 4) == 0)
		sess_ehlo(s, 0);
	else if (n == 4 && strncasecmp(line, "MAIL", 4) == 0)
		sess_mail(s, arg);
	else if (n == 4 && strncasecmp(line, "RCPT", 4) == 0)
		sess_rcpt(s, arg);
	else if (n == 4 && strncasecmp(line, "DATA", 4) == 0)
		sess_data_cmd(s);
	else if (n == 4 && strncasecmp(line, "RSET", 4) == 0) {
		sess_reset(s);
		sess_send(s, "250 2.0.0 Ok\r\n");
	} else if (n == 4 && strncasecmp(line, "NOOP", 4) == 0)
		sess_send(s, "250 2.0.0 Ok\r\n");
	else if (n == 4 && strncasecmp(line, "QUIT", 4) == 0) {
		sess_send(s, "221 2.0.0 Bye\r\n");
		s->state = S_CLOSE;
	} else
		sess_send(s, "502 5.5.2 command not implemented\r\n");
}

/* Passes len bytes at the head of in to the MX (or drops them). */
static void
sess_data_pass(struct sess *s, struct evbuffer *in, size_t len)
{
	int	r;

	if (!s->discard) {
		r = mta_data_write(s->m, evbuffer_pullup(in, (ssize_t)len),
		    len);
		if (r == -1)
			s->discard = 1;
		else if (r == 1) {
			s->blocked = 1;
			bufferevent_disable(s->bev, EV_READ);
		}
	}
	evbuffer_drain(in, len);
}

/* The message, line by line as far as the buffer allows. */
static void
sess_data(struct sess *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr	 p;
	size_t			 eol, len, have;
	char			 head[3];

	while (!s->blocked && (have = evbuffer_get_length(in)) > 0) {
		p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
		if (p.pos == -1) {
			/* no line end: pass what cannot start ".\r\n" */
			if (s->at_bol && have < 3)
				return;
			sess_data_pass(s, in, have);
			s->at_bol = 0;
			continue;
		}
		len = (size_t)p.pos + eol;
		evbuffer_copyout(in, head, len < 3 ? len : 3);
		if (s->at_bol && ((len == 3 && memcmp(head, ".\r\n", 3) == 0) ||
		    (len == 2 && memcmp(head, ".\n", 2) == 0))) {
			evbuffer_drain(in, len);
			s->state = S_WAIT;
			s->wait = W_DOT;
			sess_idle(s, 0);
			mta_data_end(s->m);
			return;
		}
		sess_data_pass(s, in, len);
		s->at_bol = 1;
	}
}
