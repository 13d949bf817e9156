/*
 * digest_out.c - writes a digest (digest.c) for a terminal, as JSON, or
 * as one self-contained HTML page.
 *
 * Every string that comes from a report is untrusted. For the terminal
 * it goes through report_put() (control and format characters escaped,
 * as "mtasts report show" does); in JSON through jsonw's escaping; in
 * HTML first through report_put() (so control characters show as \xHH,
 * as in the terminal) and then with & < > " ' as character references,
 * in text and attribute values alike. The page has no script and loads
 * nothing: inline CSS, a bar chart drawn here as inline SVG, tables,
 * and each report's JSON one click away in a <details> element.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "cli.h"
#include "digest.h"
#include "jsonw.h"

#define CHART_W		720
#define CHART_H		200
#define CHART_PAD	40

static void	out_day(char *, size_t, time_t);
static void	out_pad(FILE *, size_t, size_t);
static void	out_rows(FILE *, const char *, const struct dg_table *, int);
static void	out_pct(FILE *, uint64_t, uint64_t);
static void	out_change(FILE *, const char *, uint64_t, uint64_t);
static uint64_t	out_prev(const struct dg_table *, const char *);
static void	out_json_rows(struct jsonw *, const char *,
		    const struct dg_table *, const char *, const char *);
static void	html_put(FILE *, const char *);
static void	html_table(FILE *, const char *, const char *,
		    const struct dg_table *, int);
static void	html_chart(FILE *, const struct dg_table *);
static void	html_details(FILE *, const struct digest *);

static void
out_day(char *buf, size_t size, time_t t)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d", &tm);
}

static void
out_pad(FILE *fp, size_t w, size_t to)
{
	for (; w < to; w++)
		fputc(' ', fp);
}

static void
out_pct(FILE *fp, uint64_t fail, uint64_t all)
{
	if (all == 0)
		fputs("-", fp);
	else
		fprintf(fp, "%.2f%%", 100.0 * (double)fail / (double)all);
}

/* Rows: key (escaped), [key2,] sessions, failed; fails only: count. */
static void
out_rows(FILE *fp, const char *title, const struct dg_table *t, int fails)
{
	size_t	i, w;

	fprintf(fp, "\n%s:\n", title);
	if (t->n == 0)
		fputs("  none\n", fp);
	for (i = 0; i < t->n; i++) {
		fputs("  ", fp);
		w = report_put(fp, t->v[i].key);
		if (t->v[i].key2 != NULL) {
			out_pad(fp, w, 28);
			fputc(' ', fp);
			w = 29 + report_put(fp, t->v[i].key2);
		}
		out_pad(fp, w, 48);
		if (fails)
			fprintf(fp, " %12llu\n", (unsigned long long)
			    t->v[i].fail);
		else
			fprintf(fp, " %12llu %10llu\n", (unsigned long long)
			    dg_add(t->v[i].ok, t->v[i].fail),
			    (unsigned long long)t->v[i].fail);
	}
}

static uint64_t
out_prev(const struct dg_table *t, const char *key)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return dg_add(t->v[i].ok, t->v[i].fail);
	return 0;
}

static void
out_change(FILE *fp, const char *what, uint64_t before, uint64_t now)
{
	size_t	w;

	fputs("  ", fp);
	w = report_put(fp, what);
	out_pad(fp, w, 48);
	fprintf(fp, " %12llu -> %llu (%s%lld)\n",
	    (unsigned long long)before, (unsigned long long)now,
	    now >= before ? "+" : "-", (long long)(now >= before ?
	    now - before : before - now));
}

void
digest_text(const struct digest *d, FILE *fp)
{
	char	from[16], to[16], pfrom[16], pto[16];
	size_t	i;

	out_day(from, sizeof(from), d->since);
	out_day(to, sizeof(to), d->until - 1);
	out_day(pfrom, sizeof(pfrom), d->psince);
	out_day(pto, sizeof(pto), d->since - 1);
	fprintf(fp, "TLS-RPT digest %s to %s (previous period %s to %s)\n",
	    from, to, pfrom, pto);
	fprintf(fp, "reports: %u read, %u duplicate, %u outside both "
	    "periods, %u unreadable\n", d->nread, d->ndup, d->nout, d->nbad);
	fprintf(fp, "sessions: %llu (%llu successful, %llu failed, ",
	    (unsigned long long)dg_add(d->ok, d->fail),
	    (unsigned long long)d->ok, (unsigned long long)d->fail);
	out_pct(fp, d->fail, dg_add(d->ok, d->fail));
	fputs(")\n", fp);
	fprintf(fp, "\n%-50s %12s %10s", "", "sessions", "failed");
	out_rows(fp, "by policy domain", &d->domains, 0);
	out_rows(fp, "by sending organisation", &d->orgs, 0);
	out_rows(fp, "by day", &d->days, 0);
	out_rows(fp, "failures by result type", &d->results, 1);
	out_rows(fp, "failures by result type and MX host", &d->result_mx, 1);
	out_rows(fp, "failing MX hosts", &d->mx, 1);
	fputs("\nchanges since the previous period:\n", fp);
	out_change(fp, "sessions", dg_add(d->pok, d->pfail),
	    dg_add(d->ok, d->fail));
	out_change(fp, "failed sessions", d->pfail, d->fail);
	for (i = 0; i < d->results.n; i++)
		out_change(fp, d->results.v[i].key, out_prev(&d->presults,
		    d->results.v[i].key), d->results.v[i].fail);
	for (i = 0; i < d->presults.n; i++)
		if (out_prev(&d->results, d->presults.v[i].key) == 0)
			out_change(fp, d->presults.v[i].key,
			    d->presults.v[i].fail, 0);
}

static void
out_json_rows(struct jsonw *js, const char *name, const struct dg_table *t,
    const char *k1, const char *k2)
{
	size_t	i;

	jsonw_array_begin(js, name);
	for (i = 0; i < t->n; i++) {
		jsonw_object_begin(js, NULL);
		jsonw_string(js, k1, t->v[i].key);
		if (k2 != NULL)
			jsonw_string(js, k2, t->v[i].key2);
		if (t->v[i].reports > 0)
			jsonw_uint(js, "reports", t->v[i].reports);
		jsonw_uint(js, "sessions", dg_add(t->v[i].ok, t->v[i].fail));
		jsonw_uint(js, "failed", t->v[i].fail);
		jsonw_object_end(js);
	}
	jsonw_array_end(js);
}

void
digest_json(const struct digest *d, FILE *fp)
{
	struct jsonw	js;
	char		day[16];

	jsonw_init(&js, fp);
	jsonw_object_begin(&js, NULL);
	out_day(day, sizeof(day), d->since);
	jsonw_string(&js, "since", day);
	out_day(day, sizeof(day), d->until - 1);
	jsonw_string(&js, "until", day);
	jsonw_object_begin(&js, "reports");
	jsonw_uint(&js, "read", d->nread);
	jsonw_uint(&js, "duplicate", d->ndup);
	jsonw_uint(&js, "outside", d->nout);
	jsonw_uint(&js, "unreadable", d->nbad);
	jsonw_object_end(&js);
	jsonw_uint(&js, "sessions", dg_add(d->ok, d->fail));
	jsonw_uint(&js, "failed", d->fail);
	out_json_rows(&js, "domains", &d->domains, "domain", NULL);
	out_json_rows(&js, "organizations", &d->orgs, "organization", NULL);
	out_json_rows(&js, "days", &d->days, "day", NULL);
	out_json_rows(&js, "result_types", &d->results, "result_type", NULL);
	out_json_rows(&js, "result_mx", &d->result_mx, "result_type",
	    "mx_host");
	out_json_rows(&js, "failing_mx", &d->mx, "mx_host", NULL);
	jsonw_object_begin(&js, "previous");
	out_day(day, sizeof(day), d->psince);
	jsonw_string(&js, "since", day);
	jsonw_uint(&js, "sessions", dg_add(d->pok, d->pfail));
	jsonw_uint(&js, "failed", d->pfail);
	out_json_rows(&js, "result_types", &d->presults, "result_type", NULL);
	out_json_rows(&js, "organizations", &d->porgs, "organization", NULL);
	jsonw_object_end(&js);
	jsonw_object_end(&js);
	jsonw_finish(&js);
}

/* s escaped for the terminal (report_put), then for HTML. */
static void
html_put(FILE *fp, const char *s)
{
	char	*buf = NULL, *p;
	size_t	 len;
	FILE	*mem;

	if ((mem = open_memstream(&buf, &len)) == NULL)
		return;
	report_put(mem, s);
	if (fclose(mem) != 0) {
		free(buf);
		return;
	}
	for (p = buf; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*p, fp);
		}
	}
	free(buf);
}

static void
html_table(FILE *fp, const char *id, const char *head,
    const struct dg_table *t, int fails)
{
	size_t	i;

	fprintf(fp, "<table id=\"%s\">\n<thead><tr>%s</tr></thead>\n<tbody>\n",
	    id, head);
	for (i = 0; i < t->n; i++) {
		fputs("<tr><td>", fp);
		html_put(fp, t->v[i].key);
		if (t->v[i].key2 != NULL) {
			fputs("</td><td>", fp);
			html_put(fp, t->v[i].key2);
		}
		if (fails)
			fprintf(fp, "</td><td class=\"n\">%llu</td></tr>\n",
			    (unsigned long long)t->v[i].fail);
		else
			fprintf(fp, "</td><td class=\"n\">%llu</td>"
			    "<td class=\"n\">%llu</td></tr>\n",
			    (unsigned long long)dg_add(t->v[i].ok,
			    t->v[i].fail), (unsigned long long)t->v[i].fail);
	}
	fputs("</tbody>\n</table>\n", fp);
}

/* Stacked bars per day: successes (green) under failures (red). */
static void
html_chart(FILE *fp, const struct dg_table *days)
{
	uint64_t	max = 1, all;
	double		bw, x, hok, hfail;
	size_t		i;

	for (i = 0; i < days->n; i++)
		if ((all = dg_add(days->v[i].ok, days->v[i].fail)) > max)
			max = all;
	bw = (double)(CHART_W - CHART_PAD) / (double)(days->n ? days->n : 1);
	fprintf(fp, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"sessions per day\">\n", CHART_W, CHART_H + 30,
	    CHART_W, CHART_H + 30);
	fprintf(fp, "<text x=\"0\" y=\"12\" class=\"axis\">%llu</text>\n"
	    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
	    (unsigned long long)max, CHART_PAD, CHART_H, CHART_W, CHART_H);
	for (i = 0; i < days->n; i++) {
		x = CHART_PAD + bw * (double)i + 2;
		hok = (double)CHART_H * (double)days->v[i].ok / (double)max;
		hfail = (double)CHART_H * (double)days->v[i].fail /
		    (double)max;
		fprintf(fp, "<rect class=\"ok\" data-day=\"%s\" data-n=\"%llu\" "
		    "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		    "<title>%s: %llu successful</title></rect>\n",
		    days->v[i].key, (unsigned long long)days->v[i].ok, x,
		    CHART_H - hok, bw - 4, hok, days->v[i].key,
		    (unsigned long long)days->v[i].ok);
		fprintf(fp, "<rect class=\"fail\" data-day=\"%s\" "
		    "data-n=\"%llu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\"><title>%s: %llu failed</title></rect>\n",
		    days->v[i].key, (unsigned long long)days->v[i].fail, x,
		    CHART_H - hok - hfail, bw - 4, hfail, days->v[i].key,
		    (unsigned long long)days->v[i].fail);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" class=\"axis\">%.5s"
		    "</text>\n", x, CHART_H + 16, days->v[i].key + 5);
	}
	fputs("</svg>\n", fp);
}

/* Each report of the period, its JSON one click away. */
static void
html_details(FILE *fp, const struct digest *d)
{
	const struct mtasts_report	*r;
	char				*json, day[16];
	size_t				 i;

	for (i = 0; i < d->nreps; i++) {
		r = d->reps[i];
		if (!dg_in(r, d->since, d->until))
			continue;
		out_day(day, sizeof(day), r->start);
		fprintf(fp, "<details class=\"report\"><summary>%s ", day);
		html_put(fp, r->org ? r->org : "(no organization)");
		fputs(": ", fp);
		html_put(fp, r->report_id ? r->report_id : "(no id)");
		fputs("</summary>\n<pre>", fp);
		if ((json = mtasts_report_json(r)) != NULL)
			html_put(fp, json);
		free(json);
		fputs("</pre></details>\n", fp);
	}
}

void
digest_html(const struct digest *d, FILE *fp)
{
	char	from[16], to[16];

	out_day(from, sizeof(from), d->since);
	out_day(to, sizeof(to), d->until - 1);
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<title>TLS-RPT digest %s to %s</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:2em;color:#222}\n"
	    "table{border-collapse:collapse;margin:1em 0}\n"
	    "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}\n"
	    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	    "rect.ok{fill:#3a3}rect.fail{fill:#d33}\n"
	    ".axis{font-size:11px;fill:#555;stroke:#999}\n"
	    "pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;"
	    "padding:.5em}\n.legend span{display:inline-block;width:1em;"
	    "height:1em;margin:0 .3em}\n</style>\n</head>\n<body>\n",
	    from, to);
	fprintf(fp, "<h1>TLS-RPT digest %s to %s</h1>\n", from, to);
	fprintf(fp, "<p id=\"summary\">%llu sessions, <span id=\"failed\">"
	    "%llu</span> failed, from %u reports (%u duplicates counted "
	    "once); previous period: %llu sessions, %llu failed.</p>\n",
	    (unsigned long long)dg_add(d->ok, d->fail),
	    (unsigned long long)d->fail, d->nread - d->ndup, d->ndup,
	    (unsigned long long)dg_add(d->pok, d->pfail),
	    (unsigned long long)d->pfail);
	fputs("<h2>Sessions per day</h2>\n<p class=\"legend\">"
	    "<span style=\"background:#3a3\"></span>successful "
	    "<span style=\"background:#d33\"></span>failed</p>\n", fp);
	html_chart(fp, &d->days);
	fputs("<h2>Failures by result type</h2>\n", fp);
	html_table(fp, "by-result", "<th>result type</th><th>failed</th>",
	    &d->results, 1);
	fputs("<h2>By sending organisation</h2>\n", fp);
	html_table(fp, "by-org", "<th>organisation</th><th>sessions</th>"
	    "<th>failed</th>", &d->orgs, 0);
	fputs("<h2>By policy domain</h2>\n", fp);
	html_table(fp, "by-domain", "<th>policy domain</th><th>sessions</th>"
	    "<th>failed</th>", &d->domains, 0);
	fputs("<h2>Failing MX hosts</h2>\n", fp);
	html_table(fp, "failing-mx", "<th>result type</th><th>MX host</th>"
	    "<th>failed</th>", &d->result_mx, 1);
	fputs("<h2>Reports</h2>\n", fp);
	html_details(fp, d);
	fputs("</body>\n</html>\n", fp);
}
