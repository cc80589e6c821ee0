// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss stats: the module's counters, from /proc/net/stat/ipsecmss of
 * the caller's network namespace.  The file is in lnstat's layout: a line
 * of column names ("ipv4_syn ipv4_lowered ... ipv6_syn ..."), then one
 * line of hexadecimal values per CPU, which are summed here.  The names
 * say everything: a module with counters this tool has never heard of
 * still prints right (a column without a family prefix is "global").  As
 * in lnstat, "entries" (the number of rules) is a count, the same on every
 * row: it is read, not summed.  The first layout (a "family" column, then
 * a line of decimal totals per family) is still read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define STATS_PATH	"/proc/net/stat/ipsecmss"
#define STATS_COLS	64	/* columns of the file */
#define STATS_FAMS	4	/* ipv4, ipv6, global, and one spare */
#define NAME_LEN	32

struct stats_table {
	char fams[STATS_FAMS][NAME_LEN];
	char names[STATS_COLS][NAME_LEN];	/* counters, file order */
	unsigned long long v[STATS_FAMS][STATS_COLS];
	unsigned char have[STATS_FAMS][STATS_COLS];
	int nfams, nnames;
};

/* The column of the file: which family, which counter, summed or not. */
struct stats_col {
	int fam, name;
	int gauge;
};

static int stats_split(char *line, char cells[][NAME_LEN], int max)
{
	char *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (n == max || strlen(tok) >= NAME_LEN)
			return -1;
		snprintf(cells[n++], NAME_LEN, "%s", tok);
	}
	return n;
}

/* The index of @s in @names (added when new), -1 when full. */
static int stats_intern(char names[][NAME_LEN], int *n, int max,
			const char *s, size_t len)
{
	int i;

	for (i = 0; i < *n; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], s, len))
			return i;
	if (*n == max)
		return -1;
	snprintf(names[*n], NAME_LEN, "%.*s", (int)len, s);
	return (*n)++;
}

/* "ipv4_syn": family ipv4, counter syn; a name without one is global. */
static int stats_column(struct stats_table *t, const char *name,
			struct stats_col *c)
{
	const char *fam = "global", *ctr = name;

	if (!strncmp(name, "ipv4_", 5) || !strncmp(name, "ipv6_", 5)) {
		fam = name;
		ctr = name + 5;
	}
	c->fam = stats_intern(t->fams, &t->nfams, STATS_FAMS, fam,
			      fam == name ? 4 : strlen(fam));
	c->name = stats_intern(t->names, &t->nnames, STATS_COLS, ctr,
			       strlen(ctr));
	c->gauge = !strcmp(name, "entries");
	return c->fam < 0 || c->name < 0 || !*ctr ? -1 : 0;
}

/* A whole token as a number of @base. */
static int stats_number(const char *s, int base, unsigned long long *v)
{
	char *end;

	if (!*s || strspn(s, "0123456789abcdefABCDEF") != strlen(s) ||
	    (base == 10 && strspn(s, "0123456789") != strlen(s)))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno || *end ? -1 : 0;
}

static void stats_set(struct stats_table *t, int fam, int name,
		      unsigned long long v, int gauge)
{
	t->v[fam][name] = gauge ? v : t->v[fam][name] + v;
	t->have[fam][name] = 1;
}

/*
 * lnstat: every line after the header a CPU's row of hexadecimal values,
 * all of them summed; a row of another width is an error (a sum without
 * it would be wrong).
 */
static int stats_read_lnstat(FILE *f, struct stats_table *t,
			     char names[][NAME_LEN], int ncols)
{
	static char cells[STATS_COLS][NAME_LEN];
	struct stats_col cols[STATS_COLS];
	unsigned long long v;
	char line[2048];
	int i, n, rows = 0;

	for (i = 0; i < ncols; i++)
		if (stats_column(t, names[i], &cols[i]) < 0)
			return -1;
	while (fgets(line, sizeof(line), f)) {
		n = stats_split(line, cells, STATS_COLS);
		if (!n)
			continue;
		if (n != ncols)
			return -1;
		for (i = 0; i < n; i++) {
			if (stats_number(cells[i], 16, &v) < 0)
				return -1;
			stats_set(t, cols[i].fam, cols[i].name, v,
				  cols[i].gauge);
		}
		rows++;
	}
	return rows ? 0 : -1;
}

/*
 * The first layout: "family" and the counter names, then per family its
 * name and decimal totals; rows that are not that are passed over.
 */
static int stats_read_families(FILE *f, struct stats_table *t,
			       char names[][NAME_LEN], int ncols)
{
	static char cells[STATS_COLS][NAME_LEN];
	unsigned long long v[STATS_COLS];
	char line[2048];
	int fam, i, rows = 0;

	for (i = 1; i < ncols; i++)
		stats_intern(t->names, &t->nnames, STATS_COLS, names[i],
			     strlen(names[i]));
	while (fgets(line, sizeof(line), f)) {
		if (stats_split(line, cells, STATS_COLS) != ncols)
			continue;
		for (i = 1; i < ncols; i++)
			if (stats_number(cells[i], 10, &v[i]) < 0)
				break;
		if (i < ncols)
			continue;
		fam = stats_intern(t->fams, &t->nfams, STATS_FAMS, cells[0],
				   strlen(cells[0]));
		if (fam < 0)
			return -1;
		for (i = 1; i < ncols; i++)
			stats_set(t, fam, i - 1, v[i], 0);
		rows++;
	}
	return rows ? 0 : -1;
}

/* The families first, in file order, "global" (lnstat's entries) last. */
static void stats_global_last(struct stats_table *t)
{
	unsigned long long v[STATS_COLS];
	unsigned char have[STATS_COLS];
	int g, last = t->nfams - 1;

	for (g = 0; g < last && strcmp(t->fams[g], "global"); g++)
		;
	if (g >= last)
		return;
	memcpy(v, t->v[g], sizeof(v));
	memcpy(have, t->have[g], sizeof(have));
	memmove(t->fams[g], t->fams[g + 1], (size_t)(last - g) * sizeof(t->fams[0]));
	memmove(t->v[g], t->v[g + 1], (size_t)(last - g) * sizeof(t->v[0]));
	memmove(t->have[g], t->have[g + 1], (size_t)(last - g) * sizeof(t->have[0]));
	snprintf(t->fams[last], NAME_LEN, "global");
	memcpy(t->v[last], v, sizeof(v));
	memcpy(t->have[last], have, sizeof(have));
}

static int stats_read(const char *path, struct stats_table *t)
{
	static char names[STATS_COLS][NAME_LEN];
	char line[2048];
	int ncols = -1, rc = -1;
	FILE *f;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f))
		ncols = stats_split(line, names, STATS_COLS);
	if (ncols >= 2 && !strcmp(names[0], "family"))
		rc = stats_read_families(f, t, names, ncols);
	else if (ncols >= 1)
		rc = stats_read_lnstat(f, t, names, ncols);
	fclose(f);
	stats_global_last(t);
	if (rc < 0)
		errno = EPROTO;
	return rc;
}

/* One column per family, one row per counter: narrow enough to read. */
static void stats_print_text(const struct stats_table *t)
{
	int c, r;

	printf("%-14s", "");
	for (r = 0; r < t->nfams; r++)
		printf(" %14s", t->fams[r]);
	printf("\n");
	for (c = 0; c < t->nnames; c++) {
		printf("%-14s", t->names[c]);
		for (r = 0; r < t->nfams; r++)
			if (t->have[r][c])
				printf(" %14llu", t->v[r][c]);
			else
				printf(" %14s", "-");
		printf("\n");
	}
}

static void stats_record(const struct stats_table *t, int r,
			 enum out_format fmt)
{
	struct record rec;
	int c;

	rec_begin(&rec, fmt);
	if (fmt == FMT_KV)
		rec_str(&rec, "family", t->fams[r]);
	for (c = 0; c < t->nnames; c++)
		if (t->have[r][c])
			rec_uint(&rec, t->names[c], t->v[r][c]);
	rec_end(&rec);
}

/* kv: a line per family; JSON: an object of families. */
static void stats_print_records(const struct stats_table *t,
				enum out_format fmt)
{
	int r;

	if (fmt == FMT_JSON)
		putchar('{');
	for (r = 0; r < t->nfams; r++) {
		if (fmt == FMT_JSON)
			printf("%s\"%s\": ", r ? ", " : "", t->fams[r]);
		stats_record(t, r, fmt);
	}
	if (fmt == FMT_JSON)
		printf("}\n");
}

void stats_usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " stats [--format text|kv|json] [--file PATH]\n");
	fprintf(f, "Print the IPSECMSS target's counters for this network namespace\n");
	fprintf(f, "(" STATS_PATH ", summed over the CPUs): a table with a\n");
	fprintf(f, "column per family, a line per family (kv), or a JSON object.\n");
	fprintf(f, "  --file PATH        read PATH instead\n");
	usage_format(f);
}

int stats_main(const struct command *cmd, int argc, char **argv)
{
	struct stats_table t;
	struct cli_opts o;
	const char *path;
	int rc;

	rc = cli_parse(cmd, argc, argv, &o);
	if (rc)
		return rc;
	path = o.file ? o.file : STATS_PATH;
	if (stats_read(path, &t) < 0) {
		runtime_error("cannot read %s: %s%s", path, strerror(errno),
			      errno == ENOENT ?
			      " (is the xt_IPSECMSS module loaded?)" : "");
		return EXIT_RUNTIME;
	}
	if (o.format == FMT_TEXT)
		stats_print_text(&t);
	else
		stats_print_records(&t, o.format);
	return 0;
}
