/*
 * cache.c - "mtasts cache [-c CONF] [--json] list | show DOMAIN |
 * forget DOMAIN | flush": look into and clear the policy cache.
 *
 * Exit 0 on success, 1 when show names a domain that is not cached, 2 on
 * a usage, configuration or cache error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mtasts.h"
#include "cli.h"
#include "jsonw.h"

struct cache_out {
	struct jsonw	 js;
	int		 json;
	int		 full;		/* show: every field and the text */
};

static int	cache_print(void *, const struct mtasts_cache_entry *);
static void	cache_print_json(struct cache_out *,
		    const struct mtasts_cache_entry *);
static int	cache_usage(FILE *);

int
cache_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_ctx	*ctx;
	struct cache_out	 out;
	const char		*conf = NULL, *cmd;
	int			 ch, rc;

	memset(&out, 0, sizeof(out));
	while ((ch = getopt_long(argc, argv, "c:hj", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return cache_usage(stdout);
		case 'j':
			out.json = 1;
			break;
		default:
			return cache_usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cache_usage(stderr);
	cmd = argv[0];
	if ((strcmp(cmd, "list") == 0 || strcmp(cmd, "flush") == 0) ?
	    argc != 1 : (strcmp(cmd, "show") == 0 ||
	    strcmp(cmd, "forget") == 0) ? argc != 2 : 1)
		return cache_usage(stderr);
	if ((rc = cli_open(conf, 0, &ctx)) != CLI_OK)
		return rc;
	if (out.json) {
		jsonw_init(&out.js, stdout);
		jsonw_array_begin(&out.js, NULL);
	}
	if (strcmp(cmd, "list") == 0) {
		if (!out.json)
			printf("%-32s %-8s %-20s %s\n", "DOMAIN", "MODE",
			    "ID", "EXPIRES");
		rc = mtasts_cache_list(ctx, NULL, cache_print, &out);
	} else if (strcmp(cmd, "show") == 0) {
		out.full = 1;
		rc = mtasts_cache_list(ctx, argv[1], cache_print, &out);
	} else if (strcmp(cmd, "forget") == 0)
		rc = mtasts_cache_forget(ctx, argv[1]);
	else
		rc = mtasts_cache_flush(ctx);
	if (out.json) {
		jsonw_array_end(&out.js);
		jsonw_finish(&out.js);
	}
	mtasts_ctx_close(ctx);
	if (rc == MTASTS_ENOTFOUND) {
		fprintf(stderr, "mtasts cache: %s is not cached\n", argv[1]);
		return CLI_INVALID;
	}
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts cache %s: %s\n", cmd,
		    mtasts_strerror(rc));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int
cache_print(void *arg, const struct mtasts_cache_entry *e)
{
	struct cache_out	*out = arg;
	char			 t1[64], t2[64], t3[64], t4[64];

	if (out->json) {
		cache_print_json(out, e);
		return 0;
	}
	cli_time(t1, sizeof(t1), e->expires);
	if (!out->full) {
		printf("%-32s %-8s %-20s %s\n", e->domain, e->text ?
		    mtasts_mode_name(e->mode) : "-", e->text ? e->id : "-",
		    e->text ? t1 : "(failed fetch only)");
		return 0;
	}
	cli_time(t2, sizeof(t2), e->fetched);
	cli_time(t3, sizeof(t3), e->checked);
	cli_time(t4, sizeof(t4), e->failed);
	printf("domain:    %s\nid:        %s\nmode:      %s\n"
	    "max_age:   %u\nfetched:   %s\nexpires:   %s\nchecked:   %s\n"
	    "failed:    %s%s%s\n", e->domain, e->id, e->text ?
	    mtasts_mode_name(e->mode) : "-", e->max_age, t2, t1, t3, t4,
	    e->failed ? " for id " : "", e->failed ? e->failed_id : "");
	if (e->text != NULL)
		printf("policy:\n%s%s", e->text,
		    e->text[0] && e->text[strlen(e->text) - 1] != '\n' ?
		    "\n" : "");
	return 0;
}

static void
cache_print_json(struct cache_out *out, const struct mtasts_cache_entry *e)
{
	jsonw_object_begin(&out->js, NULL);
	jsonw_string(&out->js, "domain", e->domain);
	jsonw_string(&out->js, "id", e->id);
	jsonw_string(&out->js, "mode", e->text ? mtasts_mode_name(e->mode) :
	    "");
	jsonw_uint(&out->js, "max_age", e->max_age);
	jsonw_uint(&out->js, "fetched", (unsigned long long)e->fetched);
	jsonw_uint(&out->js, "expires", (unsigned long long)e->expires);
	jsonw_uint(&out->js, "checked", (unsigned long long)e->checked);
	jsonw_uint(&out->js, "failed", (unsigned long long)e->failed);
	jsonw_string(&out->js, "failed_id", e->failed_id);
	if (out->full && e->text != NULL)
		jsonw_string(&out->js, "policy", e->text);
	jsonw_object_end(&out->js);
}

static int
cache_usage(FILE *fp)
{
	return cli_usage(fp, "cache [-c CONF] [--json] list | show DOMAIN | "
	    "forget DOMAIN | flush\n\n"
	    "Lists, shows, forgets or empties the cached policies.\n");
}
