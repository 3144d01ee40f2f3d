/*
 * slt.c -- sqllogictest runner: reads .test scripts, runs each record on
 * an engine (rdb or SQLite, see slt.h), compares results as SQLite's own
 * runner does, and prints per-file and total counts.  Usage, format
 * support and the list files: tests/slt/README.md.
 */
#include "slt.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HASH_THRESHOLD 8
#define MSG_CAP 1024
#define SHOW_MAX 20          /* values shown per side of a failure */

typedef struct options {
	const slt_engine *eng;
	const char *name;        /* matched by skipif/onlyif */
	int verbose;
	int use_file;            /* a temporary file, not memory */
	int complete;            /* print the scripts with fresh results */
	int timing;              /* per-file time and slowest record */
	const char *expect_path;
	const char *write_path;
	slt_list *expect;        /* owned, or NULL */
	slt_list *exceptions;    /* owned, or NULL */
} options;

/* Outcome of one statement or query record. */
enum { R_PASS, R_FAIL, R_SKIP, R_EXCEPT };

/* A script in memory: the file's bytes with each line NUL-terminated. */
typedef struct script {
	const char *path;
	char *text;              /* owned */
	char **line;             /* owned array; line[i] is line i + 1 */
	int n;
} script;

/* A record's header and body, located in a script. */
typedef struct record {
	int first;               /* index of its first line (conditions) */
	int head;                /* index of the statement/query line */
	int end;                 /* index just past the record */
	int skip;                /* excluded by skipif/onlyif */
	char tok[4][128];        /* tokens of the head line */
	char *sql;               /* owned: body lines joined by '\n' */
	int sep;                 /* index of "----", or -1 */
	int res;                 /* index of the first result line */
	int n_res;               /* result lines (comment lines excluded) */
} record;

typedef struct label {
	char name[128];
	char hash[33];
} label;

/* Per-file run state. */
typedef struct run {
	const options *o;
	script *s;
	void *db;
	int threshold;
	label *labels;           /* owned */
	size_t n_labels;
	slt_values got;          /* owned: the last query's values */
	char msg[MSG_CAP];
	int echo;                /* --complete: next line index to print */
	/* records in order: their head lines (1-based) and outcomes */
	int *rec;                /* owned */
	unsigned char *out;      /* owned */
	size_t n_rec, cap_rec;
	int ex_entry;            /* entry in o->exceptions, or -1 */
	double slowest;          /* --timing: seconds of the slowest record */
	int slowest_line;
} run;

/* ---- scripts -------------------------------------------------------- */

static int script_load(script *s, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, cap = 1 << 16, got, i;
	char *p;

	*s = (script){.path = path};
	if (f == NULL) {
		fprintf(stderr, "slt: cannot open '%s': %s\n", path,
			strerror(errno));
		return 1;
	}
	s->text = xmalloc(cap + 1);
	while ((got = fread(s->text + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap)
			s->text = xrealloc(s->text, (cap *= 2) + 1);
	}
	fclose(f);
	s->text[len] = '\0';
	s->line = xmalloc((len + 2) * sizeof(*s->line));
	p = s->text;
	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(s->text + len - p));
		char *e = nl ? nl : s->text + len;

		*e = '\0';
		/* as SQLite's runner: drop a CR (CRLF files exist in the
		 * corpus) and make a line of blanks empty */
		if (e > p && e[-1] == '\r')
			*--e = '\0';
		for (i = 0; p + i < e && isspace((unsigned char)p[i]); i++)
			;
		if (p + i == e)
			p[0] = '\0';
		s->line[s->n++] = p;
		if (nl == NULL || nl + 1 == s->text + len)
			break;
		p = nl + 1;
	}
	return 0;
}

static void script_free(script *s)
{
	free(s->text);
	free(s->line);
}

static int is_comment(const char *l)
{
	return l[0] == '#';
}

/* Split l into up to 4 whitespace-separated tokens. */
static void tokenize(const char *l, char tok[4][128])
{
	size_t k, n;

	for (k = 0; k < 4; k++) {
		l += strspn(l, " \t");
		n = strcspn(l, " \t");
		if (n >= 128)
			n = 127;
		memcpy(tok[k], l, n);
		tok[k][n] = '\0';
		l += strcspn(l, " \t");
	}
}

/* Append line to the growing text *buf (len *n). */
static void join_line(char **buf, size_t *n, const char *line)
{
	size_t l = strlen(line);

	*buf = xrealloc(*buf, *n + l + 2);
	if (*n > 0)
		(*buf)[(*n)++] = '\n';
	memcpy(*buf + *n, line, l + 1);
	*n += l;
}

/*
 * Parse the record starting at or after line index i into r.  Returns 0
 * at the end of the script.  Comment lines are skipped everywhere, as in
 * SQLite's runner; a record ends at the first empty line.
 */
static int record_parse(run *ru, int i, record *r)
{
	script *s = ru->s;
	size_t n_sql = 0;
	int k, is_query;

	while (i < s->n && (s->line[i][0] == '\0' || is_comment(s->line[i])))
		i++;
	if (i >= s->n)
		return 0;
	*r = (record){.first = i, .sep = -1};
	for (;;) {
		tokenize(s->line[i], r->tok);
		if (strcmp(r->tok[0], "skipif") != 0 &&
		    strcmp(r->tok[0], "onlyif") != 0)
			break;
		k = strcasecmp(r->tok[1], ru->o->name) == 0;
		if (r->tok[0][0] == 's' ? k : !k)
			r->skip = 1;
		do
			i++;
		while (i < s->n && is_comment(s->line[i]));
		if (i >= s->n || s->line[i][0] == '\0') {
			r->tok[0][0] = '\0';    /* conditions without a record */
			r->head = r->end = i;
			return 1;
		}
	}
	r->head = i++;
	is_query = strcmp(r->tok[0], "query") == 0;
	for (; i < s->n && s->line[i][0] != '\0'; i++) {
		if (is_comment(s->line[i]))
			continue;
		if (is_query && r->sep < 0 && strcmp(s->line[i], "----") == 0) {
			r->sep = i;
			r->res = i + 1;
		} else if (r->sep >= 0) {
			r->n_res++;
		} else {
			join_line(&r->sql, &n_sql, s->line[i]);
		}
	}
	if (r->sql == NULL)
		r->sql = xstrndup("", 0);
	r->end = i;
	return 1;
}

/* The k-th result line of r (comment lines skipped). */
static void result_lines(const run *ru, const record *r, char **v)
{
	int i, k = 0;

	for (i = r->res; k < r->n_res; i++)
		if (!is_comment(ru->s->line[i]))
			v[k++] = ru->s->line[i];
}

/* ---- executing ------------------------------------------------------ */

/* Run every statement of sql, ignoring rows.  0 on success. */
static int exec_all(run *ru, const char *sql)
{
	const slt_engine *eng = ru->o->eng;
	const char *p = sql;
	void *st;
	int rc;

	while (*p != '\0') {
		if (eng->prepare(ru->db, &p, &st, ru->msg, MSG_CAP))
			return 1;
		if (st == NULL)
			return 0;
		while ((rc = eng->step(st, ru->msg, MSG_CAP)) == SLT_ROW)
			;
		eng->finalize(st);
		if (rc != SLT_DONE)
			return 1;
	}
	return 0;
}

/*
 * Run the first statement of sql as a query into ru->got: 0 on success,
 * 1 when it failed to compile or has the wrong number of columns, 2 when
 * a step failed (ru->got holds the rows before the error).
 */
static int query_collect(run *ru, const char *sql, const char *types)
{
	const slt_engine *eng = ru->o->eng;
	const char *p = sql;
	void *st = NULL;
	int rc;

	slt_values_clear(&ru->got);
	if (eng->prepare(ru->db, &p, &st, ru->msg, MSG_CAP))
		return 1;
	if (st == NULL) {
		slt_msg(ru->msg, MSG_CAP, "the query holds no statement");
		return 1;
	}
	rc = slt_collect(eng, st, types, &ru->got, ru->msg, MSG_CAP);
	eng->finalize(st);
	return rc;
}

static void show_sql(const char *sql)
{
	const char *p = sql, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		fprintf(stderr, "    %.*s\n", nl ? (int)(nl - p) : (int)strlen(p),
			p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void show_values(const char *what, char *const *v, size_t n)
{
	size_t i;

	fprintf(stderr, "  %s (%zu value%s):\n", what, n, n == 1 ? "" : "s");
	for (i = 0; i < n && i < SHOW_MAX; i++)
		fprintf(stderr, "    %s\n", v[i]);
	if (n > SHOW_MAX)
		fprintf(stderr, "    ... %zu more\n", n - SHOW_MAX);
}

/* Report a failed record (details with --verbose). */
static void report_fail(const run *ru, const record *r, const char *why)
{
	if (!ru->o->verbose)
		return;
	fprintf(stderr, "%s:%d: %s failed: %s\n", ru->s->path, r->head + 1,
		r->tok[0], why);
	fprintf(stderr, "  SQL:\n");
	show_sql(r->sql);
}

static int run_statement(run *ru, const record *r)
{
	int want_ok = strcmp(r->tok[1], "ok") == 0;
	int failed;

	if (!want_ok && strcmp(r->tok[1], "error") != 0) {
		fprintf(stderr, "%s:%d: statement must be 'ok' or 'error', "
			"not '%s'\n", ru->s->path, r->head + 1, r->tok[1]);
		return R_FAIL;
	}
	failed = exec_all(ru, r->sql);
	if (want_ok && failed) {
		report_fail(ru, r, ru->msg);
		return R_FAIL;
	}
	if (!want_ok && !failed) {
		report_fail(ru, r, "it succeeded, an error was expected");
		return R_FAIL;
	}
	return R_PASS;
}

/* Is line "N values hashing to <32 hex>"?  Sets *n and hash. */
static int parse_hash_line(const char *line, long *n, char hash[33])
{
	int used = 0;

	if (sscanf(line, "%ld values hashing to %32[0-9a-f]%n", n, hash,
		   &used) != 2)
		return 0;
	return line[used] == '\0' && strlen(hash) == 32;
}

/* The hash a query record's expected results stand for. */
static void expected_hash(const run *ru, const record *r, char hash[33])
{
	char **v = xmalloc(((size_t)r->n_res + 1) * sizeof(*v));
	long n;

	result_lines(ru, r, v);
	if (r->n_res != 1 || !parse_hash_line(v[0], &n, hash))
		slt_md5(v, (size_t)r->n_res, hash);
	free(v);
}

/* Check a labelled record against earlier records with the same label;
 * the first one defines it.  0 when they agree. */
static int label_check(run *ru, const char *name, const char *hash)
{
	size_t i;

	for (i = 0; i < ru->n_labels; i++)
		if (strcmp(ru->labels[i].name, name) == 0)
			return strcmp(ru->labels[i].hash, hash) != 0;
	ru->labels = xrealloc(ru->labels, (ru->n_labels + 1) *
			      sizeof(*ru->labels));
	snprintf(ru->labels[ru->n_labels].name, sizeof(ru->labels[0].name),
		 "%s", name);
	memcpy(ru->labels[ru->n_labels].hash, hash, 33);
	ru->n_labels++;
	return 0;
}

/* Compare ru->got with r's expected results.  0 when they match. */
static int compare(run *ru, const record *r, char **want, char got_hash[33])
{
	char hash[33];
	long n;
	size_t i;

	slt_md5(ru->got.v, ru->got.n, got_hash);
	if (r->n_res == 1 && parse_hash_line(want[0], &n, hash)) {
		if ((size_t)n == ru->got.n && strcmp(hash, got_hash) == 0)
			return 0;
		slt_msg(ru->msg, MSG_CAP, "wrong result: %zu values hashing "
			"to %s", ru->got.n, got_hash);
		return 1;
	}
	if ((size_t)r->n_res != ru->got.n) {
		slt_msg(ru->msg, MSG_CAP, "wrong result: %zu values, %d "
			"expected", ru->got.n, r->n_res);
		return 1;
	}
	for (i = 0; i < ru->got.n; i++) {
		if (strcmp(want[i], ru->got.v[i]) != 0) {
			slt_msg(ru->msg, MSG_CAP, "wrong result: value %zu is "
				"'%s', '%s' expected", i + 1, ru->got.v[i],
				want[i]);
			return 1;
		}
	}
	return 0;
}

/* Sort mode of a query: rows of columns, rows of 1 (valuesort), or 0. */
static int sort_cols(const record *r, size_t *ncols)
{
	const char *m = r->tok[2];

	*ncols = 0;
	if (m[0] == '\0' || strcmp(m, "nosort") == 0)
		return 0;
	if (strcmp(m, "rowsort") == 0)
		*ncols = strlen(r->tok[1]);
	else if (strcmp(m, "valuesort") == 0)
		*ncols = 1;
	else
		return 1;
	return 0;
}

static void complete_query(run *ru, const record *r);

static int run_query(run *ru, const record *r)
{
	char **want, got_hash[33], hash[33];
	char why[2 * MSG_CAP + 64], step_err[MSG_CAP + 40];
	size_t ncols;
	int rc;

	if (r->tok[1][0] == '\0' || strspn(r->tok[1], "TIR") !=
	    strlen(r->tok[1]) || sort_cols(r, &ncols)) {
		fprintf(stderr, "%s:%d: bad query header (types '%s', sort "
			"'%s')\n", ru->s->path, r->head + 1, r->tok[1],
			r->tok[2]);
		return R_FAIL;
	}
	/* As in SQLite's runner, an error while stepping ends the rows: the
	 * corpus expects "no rows" from a sum() that overflows. */
	step_err[0] = '\0';
	rc = query_collect(ru, r->sql, r->tok[1]);
	if (rc == 1) {
		snprintf(why, sizeof(why), "error: %s", ru->msg);
		report_fail(ru, r, why);
		return R_FAIL;
	}
	if (rc == 2)
		snprintf(step_err, sizeof(step_err), " (the query stopped "
			 "with an error: %s)", ru->msg);
	rc = R_PASS;
	slt_sort(&ru->got, ncols);
	if (ru->o->complete) {
		complete_query(ru, r);
		return R_PASS;
	}
	want = xmalloc(((size_t)r->n_res + 1) * sizeof(*want));
	result_lines(ru, r, want);
	if (compare(ru, r, want, got_hash)) {
		rc = R_FAIL;
		snprintf(why, sizeof(why), "%s%s", ru->msg, step_err);
		report_fail(ru, r, why);
		if (ru->o->verbose) {
			show_values("expected", want, (size_t)r->n_res);
			show_values("got", ru->got.v, ru->got.n);
		}
	} else if (r->tok[3][0] != '\0') {
		expected_hash(ru, r, hash);
		if (label_check(ru, r->tok[3], hash)) {
			rc = R_FAIL;
			report_fail(ru, r, "the result differs from earlier "
				    "records with its label");
		}
	}
	free(want);
	return rc;
}

/* ---- --complete ----------------------------------------------------- */

static void echo_to(run *ru, int end)
{
	for (; ru->echo < end && ru->echo < ru->s->n; ru->echo++)
		printf("%s\n", ru->s->line[ru->echo]);
}

/* Print r with the results just computed in place of its old ones. */
static void complete_query(run *ru, const record *r)
{
	char hash[33];
	size_t i;

	if (r->sep >= 0) {
		echo_to(ru, r->sep + 1);
	} else {
		echo_to(ru, r->end);
		printf("----\n");
	}
	if (ru->threshold > 0 && ru->got.n > (size_t)ru->threshold) {
		slt_md5(ru->got.v, ru->got.n, hash);
		printf("%zu values hashing to %s\n", ru->got.n, hash);
	} else {
		for (i = 0; i < ru->got.n; i++)
			printf("%s\n", ru->got.v[i]);
	}
	ru->echo = r->end;
}

/* ---- one file ------------------------------------------------------- */

static void add_outcome(run *ru, int line, int outcome)
{
	if (ru->n_rec == ru->cap_rec) {
		ru->cap_rec = ru->cap_rec ? 2 * ru->cap_rec : 256;
		ru->rec = xrealloc(ru->rec, ru->cap_rec * sizeof(*ru->rec));
		ru->out = xrealloc(ru->out, ru->cap_rec * sizeof(*ru->out));
	}
	ru->rec[ru->n_rec] = line;
	ru->out[ru->n_rec++] = (unsigned char)outcome;
}

/* Run a statement or query record, applying the exception list. */
static int run_record(run *ru, const record *r)
{
	const char *why = slt_list_reason(ru->o->exceptions, ru->ex_entry,
					  r->head + 1);
	int rc;

	rc = r->tok[0][0] == 's' ? run_statement(ru, r) : run_query(ru, r);
	if (why == NULL)
		return rc;
	if (rc == R_PASS) {
		fprintf(stderr, "%s:%d: listed as an exception but passes; "
			"remove it from the exception list\n", ru->s->path,
			r->head + 1);
		return R_PASS;
	}
	if (ru->o->verbose)
		fprintf(stderr, "%s:%d: excepted: %s\n", ru->s->path,
			r->head + 1, why);
	return R_EXCEPT;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Handle one record; returns 1 when the script halts. */
static int dispatch(run *ru, record *r, int halted)
{
	const char *kind = r->tok[0];
	int is_rec = strcmp(kind, "statement") == 0 ||
		     strcmp(kind, "query") == 0;

	if (is_rec && (halted || r->skip)) {
		/* as in SQLite's runner, a skipped record's expected results
		 * still define its label for the records that run */
		if (!halted && kind[0] == 'q' && r->tok[3][0] != '\0') {
			char hash[33];

			expected_hash(ru, r, hash);
			(void)label_check(ru, r->tok[3], hash);
		}
		add_outcome(ru, r->head + 1, R_SKIP);
		return halted;
	}
	if (is_rec) {
		double t0 = now();

		add_outcome(ru, r->head + 1, run_record(ru, r));
		if (now() - t0 > ru->slowest) {
			ru->slowest = now() - t0;
			ru->slowest_line = r->head + 1;
		}
		return 0;
	}
	if (halted || r->skip || kind[0] == '\0')
		return halted;
	if (strcmp(kind, "hash-threshold") == 0) {
		ru->threshold = atoi(r->tok[1]);
		return 0;
	}
	if (strcmp(kind, "halt") == 0)
		return 1;
	fprintf(stderr, "%s:%d: unknown record type '%s'\n", ru->s->path,
		r->head + 1, kind);
	add_outcome(ru, r->head + 1, R_FAIL);
	return 0;
}

/* A fresh temporary database path for --file (buf of cap bytes). */
static void temp_db_path(char *buf, size_t cap)
{
	static unsigned seq;
	const char *dir = getenv("TMPDIR");

	snprintf(buf, cap, "%s/slt-%ld-%u.db", dir && *dir ? dir : "/tmp",
		 (long)getpid(), seq++);
}

static void remove_db(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[4200];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		(void)unlink(p);
	}
}

/* Run every record of the loaded script s on a fresh database. */
static int run_script(run *ru)
{
	char dbpath[4096];
	record r;
	int i = 0, halted = 0;

	if (ru->o->use_file)
		temp_db_path(dbpath, sizeof(dbpath));
	if (ru->o->eng->open(ru->o->use_file ? dbpath : NULL, &ru->db,
			     ru->msg, MSG_CAP)) {
		fprintf(stderr, "%s: %s\n", ru->s->path, ru->msg);
		return 1;
	}
	while (record_parse(ru, i, &r)) {
		halted = dispatch(ru, &r, halted);
		free(r.sql);
		i = r.end;
	}
	if (ru->o->complete)
		echo_to(ru, ru->s->n);
	ru->o->eng->close(ru->db);
	if (ru->o->use_file)
		remove_db(dbpath);
	return 0;
}

/* ---- totals and main ------------------------------------------------ */

typedef struct totals {
	long pass, fail, skip, except;
	long regress, fresh, stale;
	int io_errors;
	/* for --write-expect: every file's records and outcomes */
	char **paths;
	int **recs;
	unsigned char **oks;
	size_t *n_recs;
	size_t n_files;
} totals;

/* Compare a file's outcomes with the expectation file. */
static void check_expect(const options *o, run *ru, totals *t)
{
	int e = slt_list_find(o->expect, ru->s->path);
	size_t i;

	t->stale += slt_list_stale(o->expect, e, ru->s->path, ru->rec,
				   ru->n_rec);
	t->stale += slt_list_stale(o->exceptions, ru->ex_entry, ru->s->path,
				   ru->rec, ru->n_rec);
	if (o->expect == NULL)
		return;
	for (i = 0; i < ru->n_rec; i++) {
		int listed = e >= 0 && slt_list_has(o->expect, e, ru->rec[i]);

		if (listed && ru->out[i] != R_PASS) {
			fprintf(stderr, "%s:%d: regression: listed as passing "
				"in %s, now %s\n", ru->s->path, ru->rec[i],
				o->expect_path, ru->out[i] == R_SKIP ?
				"skipped" : "failing");
			t->regress++;
		} else if (!listed && ru->out[i] == R_PASS) {
			t->fresh++;
		} else if (e < 0 && ru->out[i] == R_FAIL) {
			/* a file the list does not know must pass whole */
			fprintf(stderr, "%s:%d: fails, and %s does not list "
				"the file: all its records must pass\n",
				ru->s->path, ru->rec[i], o->expect_path);
			t->regress++;
		}
	}
}

static void run_file(const options *o, const char *path, totals *t)
{
	script s;
	run ru = {.o = o, .s = &s, .threshold = DEFAULT_HASH_THRESHOLD};
	long c[4] = {0};
	size_t i;
	double t0 = now();

	if (script_load(&s, path)) {
		t->io_errors++;
		return;
	}
	ru.ex_entry = slt_list_find(o->exceptions, path);
	if (run_script(&ru))
		t->io_errors++;
	for (i = 0; i < ru.n_rec; i++)
		c[ru.out[i]]++;
	if (!o->complete) {
		printf("%s: %ld passed, %ld failed, %ld skipped", path,
		       c[R_PASS], c[R_FAIL], c[R_SKIP]);
		if (c[R_EXCEPT] > 0)
			printf(", %ld excepted", c[R_EXCEPT]);
		if (o->timing)
			printf(" (%.2f s; slowest record: line %d, %.3f s)",
			       now() - t0, ru.slowest_line, ru.slowest);
		printf("\n");
		fflush(stdout);
	}
	t->pass += c[R_PASS];
	t->fail += c[R_FAIL];
	t->skip += c[R_SKIP];
	t->except += c[R_EXCEPT];
	check_expect(o, &ru, t);
	t->paths = xrealloc(t->paths, (t->n_files + 1) * sizeof(char *));
	t->recs = xrealloc(t->recs, (t->n_files + 1) * sizeof(int *));
	t->oks = xrealloc(t->oks, (t->n_files + 1) * sizeof(char *));
	t->n_recs = xrealloc(t->n_recs, (t->n_files + 1) * sizeof(size_t));
	for (i = 0; i < ru.n_rec; i++)
		ru.out[i] = ru.out[i] == R_PASS;
	t->paths[t->n_files] = xstrndup(path, strlen(path));
	t->recs[t->n_files] = ru.rec;
	t->oks[t->n_files] = ru.out;
	t->n_recs[t->n_files++] = ru.n_rec;
	free(ru.labels);
	slt_values_free(&ru.got);
	script_free(&s);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: slt [options] file.test...\n"
"  --engine rdb|sqlite   engine to run (default rdb)\n"
"  --engine-name NAME    name skipif/onlyif records match (default: the\n"
"                        engine's name)\n"
"  --verbose, -v         print each failing record: file:line, SQL,\n"
"                        expected and got\n"
"  --expect FILE         fail only when a record FILE lists as passing\n"
"                        does not pass (or a file FILE does not list fails)\n"
"  --write-expect FILE   write the passing records of this run into FILE\n"
"                        (entries of other files are kept)\n"
"  --exceptions FILE     records that fail on purpose (each with its\n"
"                        docs/sql.md section and reason): counted apart\n"
"  --file                use a temporary database file, not memory\n"
"  --timing              add each file's run time and its slowest record\n"
"  --complete            print each script with the results the engine\n"
"                        computes (to write expected results)\n"
"Prints 'file: P passed, F failed, S skipped' per file, then\n"
"'N passed, M failed'.  Exit status 0 when nothing failed (or, with\n"
"--expect, nothing regressed), 1 otherwise, 2 on bad usage or I/O.\n");
}

static const slt_engine *pick_engine(const char *name)
{
	if (strcmp(name, "sqlite") == 0)
		return &slt_sqlite_engine;
	if (strcmp(name, "rdb") == 0) {
		if (slt_rdb_engine == NULL) {
			fprintf(stderr, "slt: engine 'rdb' is not built: "
				"librdb has no SQL API yet (see "
				"tests/slt/README.md)\n");
			exit(2);
		}
		return slt_rdb_engine;
	}
	fprintf(stderr, "slt: unknown engine '%s' (rdb or sqlite)\n", name);
	exit(2);
}

/* Parse options; returns the index of the first file argument. */
static int parse_args(int argc, char **argv, options *o)
{
	const char *engine = "rdb", *exc = NULL;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		int has_val = i + 1 < argc;

		if (strcmp(a, "--engine") == 0 && has_val)
			engine = argv[++i];
		else if (strcmp(a, "--engine-name") == 0 && has_val)
			o->name = argv[++i];
		else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
			o->verbose = 1;
		else if (strcmp(a, "--expect") == 0 && has_val)
			o->expect_path = argv[++i];
		else if (strcmp(a, "--write-expect") == 0 && has_val)
			o->write_path = argv[++i];
		else if (strcmp(a, "--exceptions") == 0 && has_val)
			exc = argv[++i];
		else if (strcmp(a, "--file") == 0)
			o->use_file = 1;
		else if (strcmp(a, "--timing") == 0)
			o->timing = 1;
		else if (strcmp(a, "--complete") == 0)
			o->complete = 1;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(2);
		}
	}
	if (o->complete)
		o->verbose = 1;     /* the output is the script: say why */
	if (i == argc) {
		usage(stderr);
		exit(2);
	}
	o->eng = pick_engine(engine);
	if (o->name == NULL)
		o->name = o->eng->name;
	if (o->expect_path != NULL)
		o->expect = slt_expect_read(o->expect_path, 0);
	if (exc != NULL)
		o->exceptions = slt_exceptions_read(exc);
	return i;
}

static void totals_free(totals *t)
{
	size_t i;

	for (i = 0; i < t->n_files; i++) {
		free(t->paths[i]);
		free(t->recs[i]);
		free(t->oks[i]);
	}
	free(t->paths);
	free(t->recs);
	free(t->oks);
	free(t->n_recs);
}

/* The summary lines and the exit status. */
static int finish(const options *o, totals *t)
{
	int bad;

	if (o->complete)
		return t->io_errors ? 2 : t->fail > 0;
	printf("total: %zu file%s, %ld skipped", t->n_files,
	       t->n_files == 1 ? "" : "s", t->skip);
	if (t->except > 0)
		printf(", %ld excepted", t->except);
	printf("\n");
	if (o->expect != NULL)
		printf("expectations (%s): %ld regression%s, %ld record%s "
		       "passing that %s does not list\n", o->expect_path,
		       t->regress, t->regress == 1 ? "" : "s", t->fresh,
		       t->fresh == 1 ? "" : "s", o->expect_path);
	printf("%ld passed, %ld failed\n", t->pass, t->fail);
	bad = t->stale > 0 || (o->expect ? t->regress > 0 : t->fail > 0);
	if (t->io_errors > 0)
		return 2;
	return bad;
}

int main(int argc, char **argv)
{
	options o = {0};
	totals t = {0};
	int i, rc;

	for (i = parse_args(argc, argv, &o); i < argc; i++)
		run_file(&o, argv[i], &t);
	rc = finish(&o, &t);
	if (o.write_path != NULL && t.io_errors == 0) {
		slt_list *old = slt_expect_read(o.write_path, 1);

		if (slt_expect_write(o.write_path, old, t.n_files, t.paths,
				     t.recs, t.oks, t.n_recs))
			rc = 2;
		else
			printf("wrote %s\n", o.write_path);
		slt_list_free(old);
	}
	slt_list_free(o.expect);
	slt_list_free(o.exceptions);
	totals_free(&t);
	return rc;
}
