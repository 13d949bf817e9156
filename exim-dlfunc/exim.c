/*
 * exim.c - the ${dlfunc} entry points of mtasts.so.
 *
 * Exim calls each as int f(uschar **yield, int argc, uschar *argv[]).
 * Every one returns OK: an expansion that fails inside
 * hosts_require_tls or an event fails OPEN in Exim, so a refusal is
 * data. A wrong number of arguments (a configuration mistake) refuses
 * and says so in the panic log. The last argument of the first three is
 * optional: the mtasts.conf path ("" or absent: /etc/mtasts/mtasts.conf,
 * or the built-in defaults when that file does not exist).
 *
 *	exim_mode    {$domain}{conf}
 *		"none", "testing", "enforce", or "error" (cannot decide:
 *		fail closed). For the router's address_data.
 *	exim_tls     {$domain}{$address_data}{conf}
 *		"*" when TLS with a verified certificate is required, else
 *		"". For hosts_require_tls and tls_verify_hosts.
 *	exim_connect {$domain}{$host}{$host_address}{$address_data}{dane}
 *	    {conf}
 *		"" to connect, else why not. For the tcp:connect event.
 *		dane "yes": the host is left to Exim's DANE.
 *	exim_event   {$event_name}{$domain}{$host}{$host_address}
 *	    {$address_data}{tls}{$event_data}
 *		always "": records tcp:close, msg:delivery,
 *		msg:host:defer and tls:fail:connect. tls: "none" (clear
 *		text), "unverified" or "verified" (from $tls_out_cipher
 *		and $tls_out_certificate_verified). No conf argument: the
 *		file of the calls before it in this process is used.
 *
 * Exim 4.96 passes at most 8 arguments to a dlfunc, and with all 8 the
 * count it gives is wrong (the array is not NULL-terminated): no entry
 * point takes more than 7.
 */
#include <string.h>

#define DLFUNC_IMPL
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <local_scan.h>
#pragma GCC diagnostic pop

#include "exim.h"

int	 exim_mode(uschar **, int, uschar *[]);
int	 exim_tls(uschar **, int, uschar *[]);
int	 exim_connect(uschar **, int, uschar *[]);
int	 exim_event(uschar **, int, uschar *[]);

static int	 exim_yield(uschar **, const char *);
static int	 exim_args(const char *, int, int, int);
static const char *exim_conf(int, uschar *[], int);

int
exim_mode(uschar **yield, int argc, uschar *argv[])
{
	if (!exim_args("exim_mode", argc, 1, 2))
		return exim_yield(yield, "error");
	return exim_yield(yield, decide_mode(exim_conf(argc, argv, 1),
	    CS argv[0]));
}

int
exim_tls(uschar **yield, int argc, uschar *argv[])
{
	if (!exim_args("exim_tls", argc, 2, 3))
		return exim_yield(yield, "*");
	return exim_yield(yield, decide_tls(exim_conf(argc, argv, 2),
	    CS argv[0], CS argv[1]));
}

int
exim_connect(uschar **yield, int argc, uschar *argv[])
{
	const char	*why;

	if (!exim_args("exim_connect", argc, 5, 6))
		return exim_yield(yield, "mtasts: misconfigured");
	why = decide_connect(exim_conf(argc, argv, 5), CS argv[0],
	    CS argv[1], CS argv[2], CS argv[3],
	    strcmp(CS argv[4], "yes") == 0);
	return exim_yield(yield, why != NULL ? why : "");
}

int
exim_event(uschar **yield, int argc, uschar *argv[])
{
	struct report_event	 ev;

	if (!exim_args("exim_event", argc, 7, 7))
		return exim_yield(yield, "");
	ev.event = CS argv[0];
	ev.domain = CS argv[1];
	ev.mx = CS argv[2];
	ev.addr = CS argv[3];
	ev.routed = CS argv[4];
	ev.tls = CS argv[5];
	ev.data = CS argv[6];
	report_event(NULL, &ev);
	return exim_yield(yield, "");
}

/* The result, copied into Exim's memory. */
static int
exim_yield(uschar **yield, const char *s)
{
	*yield = string_copy(CUS s);
	return OK;
}

static int
exim_args(const char *fn, int argc, int min, int max)
{
	if (argc >= min && argc <= max)
		return 1;
	proc_log(XLOG_PANIC, "%s: %d arguments, expected %d to %d; "
	    "refusing", fn, argc, min, max);
	return 0;
}

/* The optional configuration path at argv[i]. */
static const char *
exim_conf(int argc, uschar *argv[], int i)
{
	return argc > i ? CS argv[i] : "";
}
