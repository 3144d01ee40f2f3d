/*
 * slt_expect.c -- the two lists the runner reads: the expectation file
 * (per test file, the record lines known to pass, as ranges) and the
 * exception list (records that fail on purpose, each with a docs/sql.md
 * section and a reason).  Formats: tests/slt/README.md.
 */
#include "slt.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
	int lo, hi;          /* record lines lo..hi (inclusive) */
	char *why;           /* owned; exceptions only: "reason [section]" */
} range;

typedef struct entry {
	char *key;           /* owned; see slt_path_key() */
	range *r;            /* owned, sorted by lo */
	size_t n, cap;
} entry;

struct slt_list {
	entry *e;            /* owned */
	size_t n, cap;
};

const char *slt_path_key(const char *path)
{
	for (;;) {
		if (strncmp(path, "./", 2) == 0)
			path += 2;
		else if (strncmp(path, "../", 3) == 0)
			path += 3;
		else
			return path;
	}
}

/* Does a end with the path components of b? */
static int ends_with_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la < lb || strcmp(a + la - lb, b) != 0)
		return 0;
	return la == lb || a[la - lb - 1] == '/';
}

int slt_path_matches(const char *path, const char *key)
{
	const char *k = slt_path_key(path);

	return ends_with_path(k, key) || ends_with_path(key, k);
}

int slt_list_find(const slt_list *l, const char *path)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (slt_path_matches(path, l->e[i].key))
			return (int)i;
	return -1;
}

static entry *entry_get(slt_list *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->e[i].key, key) == 0)
			return &l->e[i];
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->e = xrealloc(l->e, l->cap * sizeof(*l->e));
	}
	l->e[l->n] = (entry){.key = xstrndup(key, strlen(key))};
	return &l->e[l->n++];
}

static void entry_add(entry *e, int lo, int hi, char *why)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		e->r = xrealloc(e->r, e->cap * sizeof(*e->r));
	}
	e->r[e->n++] = (range){lo, hi, why};
}

static int cmp_range(const void *a, const void *b)
{
	const range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

static void list_sort(slt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		qsort(l->e[i].r, l->e[i].n, sizeof(range), cmp_range);
}

static void die_at(const char *path, int line, const char *what)
{
	fprintf(stderr, "%s:%d: %s\n", path, line, what);
	exit(2);
}

/* Parse "N" or "N-M" ranges separated by commas into e. */
static void parse_ranges(entry *e, char *s, const char *path, int line)
{
	char *end;
	long lo, hi;

	if (strcmp(s, "-") == 0)
		return;             /* listed, with no passing record */
	while (*s != '\0') {
		errno = 0;
		lo = strtol(s, &end, 10);
		if (end == s || lo <= 0 || errno != 0)
			die_at(path, line, "expected a line number or range");
		hi = lo;
		s = end;
		if (*s == '-') {
			hi = strtol(s + 1, &end, 10);
			if (end == s + 1 || hi < lo)
				die_at(path, line, "bad range");
			s = end;
		}
		entry_add(e, (int)lo, (int)hi, NULL);
		if (*s == ',')
			s++;
		else if (*s != '\0')
			die_at(path, line, "ranges are separated by commas");
	}
}

/* The next line of f without its newline and trailing blanks, or NULL at
 * the end.  *buf is owned by the caller (free it). */
static char *next_line(FILE *f, char **buf, size_t *cap)
{
	ssize_t n = getline(buf, cap, f);

	if (n < 0)
		return NULL;
	while (n > 0 && isspace((unsigned char)(*buf)[n - 1]))
		(*buf)[--n] = '\0';
	return *buf;
}

slt_list *slt_expect_read(const char *path, int may_be_missing)
{
	slt_list *l = xmalloc(sizeof(*l));
	FILE *f = fopen(path, "r");
	char *buf = NULL, *s, *sp;
	size_t cap = 0;
	int line = 0;

	*l = (slt_list){0};
	if (f == NULL) {
		if (may_be_missing && errno == ENOENT)
			return l;
		fprintf(stderr, "slt: cannot read '%s': %s\n", path,
			strerror(errno));
		exit(2);
	}
	while ((s = next_line(f, &buf, &cap)) != NULL) {
		line++;
		if (s[0] == '#' || s[0] == '\0')
			continue;
		sp = strchr(s, ' ');
		if (sp == NULL)
			die_at(path, line, "expected '<test file> <ranges>' "
			       "or '<test file> -'");
		*sp = '\0';
		parse_ranges(entry_get(l, s), sp + 1 + strspn(sp + 1, " "),
			     path, line);
	}
	free(buf);
	fclose(f);
	list_sort(l);
	return l;
}

/* The anchor GitHub gives a heading: lower case, blanks to '-', other
 * punctuation than '-' and '_' dropped. */
static void heading_slug(const char *h, char *out, size_t cap)
{
	size_t n = 0;

	h += strspn(h, "#");
	h += strspn(h, " ");
	for (; *h != '\0' && n + 1 < cap; h++) {
		unsigned char c = (unsigned char)*h;

		if (isalnum(c) || c == '-' || c == '_' || c >= 0x80)
			out[n++] = (char)tolower(c);
		else if (c == ' ')
			out[n++] = '-';
	}
	out[n] = '\0';
}

/*
 * Is anchor a heading of docs/sql.md?  1 when it is, or when the runner
 * does not run from the top directory (no docs/sql.md to check against).
 */
static int section_exists(const char *anchor)
{
	FILE *f = fopen("docs/sql.md", "r");
	char *buf = NULL, *s, slug[256];
	size_t cap = 0;
	int found = 0;

	if (f == NULL)
		return 1;
	while (!found && (s = next_line(f, &buf, &cap)) != NULL) {
		if (s[0] != '#')
			continue;
		heading_slug(s, slug, sizeof(slug));
		found = strcmp(slug, anchor) == 0;
	}
	free(buf);
	fclose(f);
	return found;
}

/* One exception line: "<file>:<line> docs/sql.md#<section> <reason>". */
static void parse_exception(slt_list *l, char *s, const char *path, int line)
{
	char *colon, *sec, *why, *end, *text;
	long rec;

	sec = strchr(s, ' ');
	if (sec == NULL)
		die_at(path, line, "expected '<file>:<line> "
		       "docs/sql.md#<section> <reason>'");
	*sec++ = '\0';
	sec += strspn(sec, " ");
	colon = strrchr(s, ':');
	if (colon == NULL)
		die_at(path, line, "expected '<file>:<line>'");
	*colon = '\0';
	rec = strtol(colon + 1, &end, 10);
	if (rec <= 0 || *end != '\0')
		die_at(path, line, "bad record line number");
	if (strncmp(sec, "docs/sql.md#", 12) != 0 || sec[12] == '\0' ||
	    sec[12] == ' ')
		die_at(path, line, "each exception names its docs/sql.md "
		       "section (docs/sql.md#<section>)");
	why = strchr(sec, ' ');
	if (why == NULL || why[strspn(why, " ")] == '\0')
		die_at(path, line, "each exception gives its reason");
	*why++ = '\0';
	why += strspn(why, " ");
	if (!section_exists(sec + 12))
		die_at(path, line, "docs/sql.md has no such section");
	text = xmalloc(strlen(why) + strlen(sec) + 4);
	sprintf(text, "%s [%s]", why, sec);
	entry_add(entry_get(l, s), (int)rec, (int)rec, text);
}

slt_list *slt_exceptions_read(const char *path)
{
	slt_list *l = xmalloc(sizeof(*l));
	FILE *f = fopen(path, "r");
	char *buf = NULL, *s;
	size_t cap = 0;
	int line = 0;

	*l = (slt_list){0};
	if (f == NULL) {
		fprintf(stderr, "slt: cannot read '%s': %s\n", path,
			strerror(errno));
		exit(2);
	}
	while ((s = next_line(f, &buf, &cap)) != NULL) {
		line++;
		if (s[0] == '#' || s[0] == '\0')
			continue;
		parse_exception(l, s, path, line);
	}
	free(buf);
	fclose(f);
	list_sort(l);
	return l;
}

void slt_list_free(slt_list *l)
{
	size_t i, j;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < l->e[i].n; j++)
			free(l->e[i].r[j].why);
		free(l->e[i].r);
		free(l->e[i].key);
	}
	free(l->e);
	free(l);
}

/* The range of entry e holding line, or NULL. */
static const range *find_range(const slt_list *l, int e, int line)
{
	const entry *en;
	size_t lo = 0, hi, mid;

	if (l == NULL || e < 0)
		return NULL;
	en = &l->e[e];
	hi = en->n;
	while (lo < hi) {      /* first range with r.lo > line */
		mid = lo + (hi - lo) / 2;
		if (en->r[mid].lo <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && en->r[lo - 1].hi >= line)
		return &en->r[lo - 1];
	return NULL;
}

int slt_list_has(slt_list *l, int e, int line)
{
	return find_range(l, e, line) != NULL;
}

const char *slt_list_reason(const slt_list *l, int e, int line)
{
	const range *r = find_range(l, e, line);

	return r ? r->why : NULL;
}

static int is_record(const int *rec, size_t n, int line)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rec[mid] == line)
			return 1;
		if (rec[mid] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int slt_list_stale(const slt_list *l, int e, const char *path,
		   const int *rec, size_t n)
{
	const entry *en;
	size_t i;
	int bad = 0;

	if (l == NULL || e < 0)
		return 0;
	en = &l->e[e];
	for (i = 0; i < en->n; i++) {
		const range *r = &en->r[i];

		if (!is_record(rec, n, r->lo) || !is_record(rec, n, r->hi)) {
			fprintf(stderr, "%s:%d: listed (%d-%d) but no record "
				"starts there: the list is stale\n", path,
				is_record(rec, n, r->lo) ? r->hi : r->lo,
				r->lo, r->hi);
			bad++;
		}
	}
	return bad;
}

/* Write key's ranges, at most about 76 characters per line. */
static void write_ranges(FILE *f, const char *key, const range *r, size_t n)
{
	size_t i, col = 0;
	char item[32];

	for (i = 0; i < n; i++) {
		if (r[i].lo == r[i].hi)
			snprintf(item, sizeof(item), "%d", r[i].lo);
		else
			snprintf(item, sizeof(item), "%d-%d", r[i].lo, r[i].hi);
		if (col > 0 && col + strlen(item) + 1 > 76) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0)
			col = (size_t)fprintf(f, "%s %s", key, item);
		else
			col += (size_t)fprintf(f, ",%s", item);
	}
	if (n == 0)
		fprintf(f, "%s -\n", key);
	else
		fputc('\n', f);
}

/* Ranges of consecutive passing records of one file, into e. */
static void pass_ranges(entry *e, const int *rec, const unsigned char *ok,
			size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		if (!ok[i]) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n && ok[j + 1]; j++)
			;
		entry_add(e, rec[i], rec[j], NULL);
		i = j + 1;
	}
}

int slt_expect_write(const char *path, const slt_list *old, size_t n_files,
		     char *const *paths, int *const *recs,
		     unsigned char *const *oks, const size_t *n_recs)
{
	char tmp[4096];
	size_t i, k;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "slt: cannot write '%s': %s\n", tmp,
			strerror(errno));
		return 1;
	}
	fprintf(f, "# sqllogictest records known to pass: per test file, "
		"the lines of\n# its passing records (a range a-b covers "
		"every record starting\n# in lines a..b).  Written by "
		"slt --write-expect; see tests/slt/README.md.\n");
	for (i = 0; old != NULL && i < old->n; i++) {
		for (k = 0; k < n_files; k++)
			if (slt_path_matches(paths[k], old->e[i].key))
				break;
		if (k == n_files)
			write_ranges(f, old->e[i].key, old->e[i].r,
				     old->e[i].n);
	}
	for (k = 0; k < n_files; k++) {
		entry e = {0};

		pass_ranges(&e, recs[k], oks[k], n_recs[k]);
		write_ranges(f, slt_path_key(paths[k]), e.r, e.n);
		free(e.r);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "slt: cannot write '%s': %s\n", path,
			strerror(errno));
		remove(tmp);
		return 1;
	}
	return 0;
}
