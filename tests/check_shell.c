/*
 * check_shell.c -- the rdb shell's engine-independent parts: output modes
 * compared byte for byte with the sqlite3 program on random result sets,
 * REAL formatting, the CSV reader, command-line and dot-command parsing,
 * and statement assembly from input lines.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "shell/shell.h"
#include "test_util.h"

/* ====================================================================
 * Random result sets, as SQL for sqlite3 and as sh_values for us
 * ==================================================================== */

#define MAX_COLS 5
#define MAX_ROWS 7

typedef struct cell {
	sh_value v;
	char sql[1024];          /* the literal or expression giving v */
	unsigned char bytes[64]; /* text or blob bytes */
} cell;

typedef struct dataset {
	int ncol, nrow;
	char names[MAX_COLS][32];
	cell cells[MAX_ROWS][MAX_COLS];
} dataset;

static const char *const name_pool[] = {
	"a", "id", "Name", "x y", "select", "col\"q", "it's", "é", "日本",
	"a,b", "", "long_column_name_here", "n\nl", "tab\there", "<b>&",
};

static const char *const text_pieces[] = {
	"a", "hello", " ", ",", "\"", "'", "\n", "\r\n", "\t", "|", "é",
	"日本語", "\x01", "x", "0", "-", "<&>", "\\", "wörld", "\r", "  ",
	"word", "NULL", "\x7f",
};

static void add_text(cell *c, uint64_t *rs)
{
	size_t n = 0, k = tu_rand_below(rs, 6), len;
	char *q;

	if (tu_rand_below(rs, 8) == 0)
		k = 12;
	while (k-- > 0) {
		const char *p = text_pieces[tu_rand_below(rs,
			sizeof(text_pieces) / sizeof(text_pieces[0]))];

		len = strlen(p);
		if (n + len >= sizeof(c->bytes))
			break;
		memcpy(c->bytes + n, p, len);
		n += len;
	}
	c->v.type = RDB_TEXT;
	c->v.p = c->bytes;
	c->v.n = n;
	q = c->sql;
	*q++ = '\'';
	/* sqlite3 drops a '\r' that ends an input line, so carriage
	 * returns go in as char(13). */
	for (size_t i = 0; i < n; i++) {
		if (c->bytes[i] == '\r') {
			strcpy(q, "'||char(13)||'");
			q += strlen(q);
			continue;
		}
		if (c->bytes[i] == '\'')
			*q++ = '\'';
		*q++ = (char)c->bytes[i];
	}
	*q++ = '\'';
	*q = '\0';
}

static void add_blob(cell *c, uint64_t *rs)
{
	size_t n = tu_rand_below(rs, 6), i;
	int len;

	for (i = 0; i < n; i++) {
		uint64_t k = tu_rand_below(rs, 4);

		c->bytes[i] = k == 0 ? 0 : k == 1 ? (unsigned char)('a' + i)
			: (unsigned char)tu_rand_below(rs, 256);
	}
	c->v.type = RDB_BLOB;
	c->v.p = c->bytes;
	c->v.n = n;
	len = snprintf(c->sql, sizeof(c->sql), "X'");
	for (i = 0; i < n; i++)
		len += snprintf(c->sql + len, sizeof(c->sql) - len, "%02x",
				c->bytes[i]);
	snprintf(c->sql + len, sizeof(c->sql) - len, "'");
}

/* The double libsqlite3 makes of the SQL expression e: the value the
 * sqlite3 program prints.  Its decimal-to-binary conversion (3.40's
 * sqlite3AtoF, a long double product rounded again to double) is not
 * always strtod's correctly rounded one: 6.4464873600e-01 is one ulp
 * apart. */
static double sqlite_real(const char *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char sql[128];
	double r;

	ck_assert_int_lt(snprintf(sql, sizeof(sql), "SELECT %s", e),
			 (int)sizeof(sql));
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_type(st, 0), SQLITE_FLOAT);
	r = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* REALs whose value sqlite knows: short decimal literals (as libsqlite3
 * converts them), integers scaled by powers of two (exact in binary),
 * and the infinities. */
static void add_real(cell *c, uint64_t *rs)
{
	static const char *const special[] = {
		"0.0", "1.0", "0.1", "0.5", "100.0", "1e15", "1e16", "2e15",
		"1e20", "123456789012345678.0", "3.14159265358979",
		"0.000123", "1e-5", "9.99999999999999e+99", "1e100", "-1.0",
	};
	uint64_t k = tu_rand_below(rs, 8);

	c->v.type = RDB_FLOAT;
	if (k == 0) {
		const char *s = special[tu_rand_below(rs,
			sizeof(special) / sizeof(special[0]))];

		snprintf(c->sql, sizeof(c->sql), "%s", s);
		c->v.r = sqlite_real(c->sql);
	} else if (k <= 3) {
		int digits = 1 + (int)tu_rand_below(rs, 12);
		int e = (int)tu_rand_below(rs, 41) - 20;
		double m = (double)tu_rand_below(rs, 1000000000) / 1e9 * 10.0;

		snprintf(c->sql, sizeof(c->sql), "%.*e", digits - 1,
			 m * pow(10.0, e));
		c->v.r = sqlite_real(c->sql);
	} else if (k <= 6) {
		int64_t m = (int64_t)(tu_rand(rs) >> (11 + tu_rand_below(rs,
						       50)));
		int shift = (int)tu_rand_below(rs, 13) - 6, i;
		int len;
		double r = (double)m;

		if (tu_rand_below(rs, 2))
			m = -m, r = -r;
		len = snprintf(c->sql, sizeof(c->sql), "(CAST(%lld AS REAL)",
			       (long long)m);
		for (i = 0; i < (shift < 0 ? -shift : shift); i++) {
			len += snprintf(c->sql + len, sizeof(c->sql) - len,
					shift < 0 ? "/1048576.0" : "*1048576.0");
			r = shift < 0 ? r / 1048576.0 : r * 1048576.0;
		}
		snprintf(c->sql + len, sizeof(c->sql) - len, ")");
		c->v.r = r;
	} else {
		int neg = (int)tu_rand_below(rs, 2);

		snprintf(c->sql, sizeof(c->sql), "%s(1e308*10)", neg ? "-" : "");
		c->v.r = neg ? -INFINITY : INFINITY;
	}
}

static void add_int(cell *c, uint64_t *rs)
{
	static const int64_t special[] = {
		0, 1, -1, 42, 9223372036854775807LL, -9223372036854775807LL - 1,
		1000000, -12345,
	};

	c->v.type = RDB_INTEGER;
	if (tu_rand_below(rs, 3) == 0)
		c->v.i = special[tu_rand_below(rs, 8)];
	else
		c->v.i = (int64_t)(tu_rand(rs) >> tu_rand_below(rs, 64));
	snprintf(c->sql, sizeof(c->sql), "%lld", (long long)c->v.i);
}

static void random_dataset(dataset *d, uint64_t *rs)
{
	int r, i;

	memset(d, 0, sizeof(*d));
	d->ncol = 1 + (int)tu_rand_below(rs, MAX_COLS);
	d->nrow = (int)tu_rand_below(rs, MAX_ROWS + 1);
	if (d->nrow == 0 && tu_rand_below(rs, 3))
		d->nrow = 1;
	for (i = 0; i < d->ncol; i++)
		snprintf(d->names[i], sizeof(d->names[i]), "%s", name_pool[
			tu_rand_below(rs, sizeof(name_pool) /
				      sizeof(name_pool[0]))]);
	for (r = 0; r < MAX_ROWS; r++) {
		for (i = 0; i < d->ncol; i++) {
			cell *c = &d->cells[r][i];

			switch (tu_rand_below(rs, 6)) {
			case 0: add_int(c, rs); break;
			case 1: add_real(c, rs); break;
			case 2: add_blob(c, rs); break;
			case 3: c->v.type = RDB_NULL;
				snprintf(c->sql, sizeof(c->sql), "NULL");
				break;
			default: add_text(c, rs); break;
			}
		}
	}
}

/* The query as SQL: SELECT ... UNION ALL SELECT ... (LIMIT 0 when the
 * result is empty, still naming the columns). */
static void dataset_sql(const dataset *d, sh_str *s)
{
	int r, i, n = d->nrow ? d->nrow : 1;

	for (r = 0; r < n; r++) {
		sh_str_adds(s, r ? " UNION ALL SELECT " : "SELECT ");
		for (i = 0; i < d->ncol; i++) {
			const char *p;

			if (i)
				sh_str_adds(s, ", ");
			sh_str_adds(s, d->cells[r][i].sql);
			sh_str_adds(s, " AS \"");
			for (p = d->names[i]; *p; p++) {
				if (*p == '"')
					sh_str_add(s, p, 1);
				sh_str_add(s, p, 1);
			}
			sh_str_adds(s, "\"");
		}
	}
	sh_str_adds(s, d->nrow ? ";\n" : " LIMIT 0;\n");
}

/* Our formatter's bytes for d in format f. */
static char *format_dataset(const dataset *d, const sh_format *f,
			    size_t *len)
{
	const char *names[MAX_COLS];
	sh_value vals[MAX_COLS];
	char *buf = NULL;
	FILE *mf = open_memstream(&buf, len);
	sh_out *o;
	int r, i;

	ck_assert_ptr_nonnull(mf);
	for (i = 0; i < d->ncol; i++)
		names[i] = d->names[i];
	o = sh_out_begin(f, mf, d->ncol, names);
	for (r = 0; r < d->nrow; r++) {
		for (i = 0; i < d->ncol; i++)
			vals[i] = d->cells[r][i].v;
		sh_out_row(o, vals);
	}
	sh_out_end(o, 0);
	fclose(mf);
	return buf;
}

/* ====================================================================
 * Running sqlite3
 * ==================================================================== */

static int have_sqlite3(void)
{
	static int known = -1;

	if (known < 0)
		known = system("sqlite3 -version >/dev/null 2>&1") == 0;
	return known;
}

/* Run `sqlite3 -batch <args> :memory: < script` and return its stdout. */
static char *run_sqlite3(const char *args, const char *script, size_t *len)
{
	char path[256], cmd[1024];
	sh_str out = {0};
	char chunk[4096];
	size_t got;
	FILE *p;

	tu_tmp_path(path, sizeof(path));
	tu_write_file(path, script, strlen(script));
	snprintf(cmd, sizeof(cmd), "sqlite3 -batch %s :memory: < '%s'",
		 args, path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	sh_str_add(&out, "", 0);
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
		sh_str_add(&out, chunk, got);
	ck_assert_int_eq(pclose(p), 0);
	unlink(path);
	*len = out.len;
	return out.p;
}

static void dump_bytes(const char *what, const char *p, size_t n)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes):\n", what, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n')
			fputs("\\n\n", stderr);
		else if (c < ' ' || c == 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputc('\n', stderr);
}

/* Compare our output for d under f with sqlite3's under args + script
 * prefix; on a difference, print both and fail. */
static void compare(const dataset *d, const sh_format *f, const char *args,
		    const char *prefix)
{
	sh_str script = {0};
	size_t n_exp, n_got;
	char *exp, *got;

	sh_str_adds(&script, prefix);
	dataset_sql(d, &script);
	exp = run_sqlite3(args, script.p, &n_exp);
	got = format_dataset(d, f, &n_got);
	if (n_exp != n_got || memcmp(exp, got, n_exp) != 0) {
		fprintf(stderr, "mode %s, args '%s', script:\n%s",
			sh_mode_name(f->mode), args, script.p);
		dump_bytes("sqlite3", exp, n_exp);
		dump_bytes("rdb", got, n_got);
		ck_abort_msg("output of mode %s differs from sqlite3's",
			     sh_mode_name(f->mode));
	}
	free(exp);
	free(got);
	sh_str_free(&script);
}

static const char *const safe_nulls[] = {"NULL", "-", "(null)", "∅", "x"};
static const char *const safe_seps[] = {";", "::", " ", ", ", "|"};

/* Mode m chosen with command-line options (-csv -header ...). */
static void compare_flags(const dataset *d, sh_mode m, uint64_t *rs)
{
	sh_format f;
	char args[256];
	int len;

	sh_format_default(&f);
	sh_format_flag_mode(&f, m);
	f.header = (int)tu_rand_below(rs, 2);
	len = snprintf(args, sizeof(args), "-%s %s", sh_mode_name(m),
		       f.header ? "-header" : "-noheader");
	if (m == SH_MODE_INSERT) {
		len = snprintf(args, sizeof(args), "%s -cmd '.mode insert t'",
			       f.header ? "-header" : "-noheader");
		f.mode = m;
		sh_format_set_table(&f, "t");
	}
	if (tu_rand_below(rs, 3) == 0) {
		const char *nv = safe_nulls[tu_rand_below(rs, 5)];

		snprintf(f.nullvalue, sizeof(f.nullvalue), "%s", nv);
		len += snprintf(args + len, sizeof(args) - len,
				" -nullvalue '%s'", nv);
	}
	if ((m == SH_MODE_LIST || m == SH_MODE_CSV) &&
	    tu_rand_below(rs, 3) == 0) {
		const char *sep = safe_seps[tu_rand_below(rs, 5)];

		snprintf(f.colsep, sizeof(f.colsep), "%s", sep);
		snprintf(args + len, sizeof(args) - len, " -separator '%s'",
			 sep);
	}
	compare(d, &f, args, "");
}

/* Mode m chosen with dot-commands (.mode m --wrap N, .width, ...). */
static void compare_dots(const dataset *d, sh_mode m, uint64_t *rs)
{
	sh_format f;
	sh_str pre = {0};
	int hdr = (int)tu_rand_below(rs, 3), i;

	sh_format_default(&f);
	sh_format_set_mode(&f, m, hdr < 2);
	if (hdr < 2)
		f.header = hdr;
	sh_str_addf(&pre, ".mode %s", sh_mode_name(m));
	if (m == SH_MODE_INSERT) {
		sh_format_set_table(&f, "my table");
		sh_str_adds(&pre, " \"my table\"");
	}
	if (sh_mode_columnar(m)) {
		if (tu_rand_below(rs, 2)) {
			f.wrap = 1 + (int)tu_rand_below(rs, 12);
			sh_str_addf(&pre, " --wrap %d", f.wrap);
		}
		if (tu_rand_below(rs, 3) == 0) {
			f.wordwrap = 1;
			sh_str_adds(&pre, " --wordwrap on");
		}
		if (tu_rand_below(rs, 4) == 0) {
			f.quote = 1;
			sh_str_adds(&pre, " --quote");
		}
	}
	sh_str_adds(&pre, "\n");
	if (hdr < 2)
		sh_str_addf(&pre, ".headers %s\n", hdr ? "on" : "off");
	if (sh_mode_columnar(m) && tu_rand_below(rs, 2)) {
		f.n_widths = (int)tu_rand_below(rs, MAX_COLS + 1);
		sh_str_adds(&pre, ".width");
		for (i = 0; i < f.n_widths; i++) {
			f.widths[i] = (int)tu_rand_below(rs, 17) - 8;
			sh_str_addf(&pre, " %d", f.widths[i]);
		}
		sh_str_adds(&pre, "\n");
	}
	if (tu_rand_below(rs, 3) == 0) {
		const char *nv = safe_nulls[tu_rand_below(rs, 5)];

		snprintf(f.nullvalue, sizeof(f.nullvalue), "%s", nv);
		sh_str_addf(&pre, ".nullvalue '%s'\n", nv);
	}
	compare(d, &f, "", pre.p);
	sh_str_free(&pre);
}

START_TEST(test_shell_output_every_mode_matches_sqlite3)
{
	uint64_t seed = tu_seed(), rs = seed;
	long n = tu_scaled(40, 4), k;
	dataset d;
	int m;

	if (!have_sqlite3()) {
		fprintf(stderr, "shell: sqlite3 is not installed (scripts/"
			"deps.sh installs it); output not compared\n");
		return;
	}
	tu_seed_note("shell output", seed);
	for (k = 0; k < n; k++) {
		random_dataset(&d, &rs);
		for (m = 0; m < SH_MODE_COUNT_; m++) {
			if (tu_rand_below(&rs, 2))
				compare_flags(&d, (sh_mode)m, &rs);
			else
				compare_dots(&d, (sh_mode)m, &rs);
		}
	}
}
END_TEST

START_TEST(test_shell_real_text_is_sqlite_printf)
{
	static const struct {
		double r;
		int prec;
		const char *want;
	} cases[] = {
		{1.0, 15, "1.0"}, {0.1, 15, "0.1"}, {1e20, 15, "1.0e+20"},
		{1.5e-7, 15, "1.5e-07"}, {0.1 + 0.2, 15, "0.3"},
		{-0.0, 15, "0.0"}, {2e15, 15, "2.0e+15"},
		{123456789012345.0, 15, "123456789012345.0"},
		{1e100, 15, "1.0e+100"}, {-2.5e-300, 15, "-2.5e-300"},
		{0.0001, 15, "0.0001"}, {0.00001, 15, "1.0e-05"},
		{0.1, 20, "0.10000000000000000555"},
		{2e15, 20, "2000000000000000.0"},
		{1e308 * 10, 15, "Inf"}, {-1e308 * 10, 20, "-Inf"},
		{100.0 / 3, 15, "33.3333333333333"},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sh_real_text(cases[i].r, cases[i].prec, buf);
		ck_assert_msg(strcmp(buf, cases[i].want) == 0,
			      "%.17g: '%s' not '%s'", cases[i].r, buf,
			      cases[i].want);
	}
}
END_TEST

/* EXPLAIN QUERY PLAN rows taken from libsqlite3 and drawn by us look
 * like the sqlite3 program's drawing of the same query. */
START_TEST(test_shell_eqp_tree_matches_sqlite3)
{
	static const char schema[] =
		"CREATE TABLE t(a INTEGER, b TEXT); CREATE INDEX ta ON t(a);"
		"CREATE TABLE u(c INTEGER PRIMARY KEY, d TEXT);";
	static const char *const queries[] = {
		"SELECT * FROM t WHERE a = 1",
		"SELECT * FROM t, u WHERE a = c AND b IN (SELECT d FROM u) "
		"ORDER BY b",
		"SELECT * FROM t WHERE a > (SELECT max(a) FROM t) UNION "
		"SELECT 1, 2",
		"SELECT b, count(*) FROM t GROUP BY b",
		"SELECT * FROM (SELECT a FROM t UNION ALL SELECT c FROM u) "
		"WHERE a IN (SELECT c FROM u WHERE d LIKE 'x%')",
		"WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
		"WHERE x < 5) SELECT * FROM r, t WHERE t.a = r.x",
	};
	sqlite3 *db;
	size_t q;

	if (!have_sqlite3())
		return;
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, schema, NULL, NULL, NULL),
			 SQLITE_OK);
	for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		sh_str sql = {0}, script = {0};
		sqlite3_stmt *st;
		sh_eqp e = {0};
		char *got = NULL, *exp;
		size_t n_got = 0, n_exp;
		FILE *f = open_memstream(&got, &n_got);

		sh_str_addf(&sql, "  /* c */ explain  QUERY plan %s",
			    queries[q]);
		ck_assert(sh_is_eqp(sql.p));
		ck_assert_int_eq(sqlite3_prepare_v2(db, sql.p, -1, &st, NULL),
				 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			sh_eqp_add(&e, sqlite3_column_int(st, 0),
				   sqlite3_column_int(st, 1),
				   (const char *)sqlite3_column_text(st, 3));
		sqlite3_finalize(st);
		sh_eqp_render(&e, f);
		fclose(f);
		sh_str_addf(&script, "%s\n%s;\n", schema, sql.p);
		exp = run_sqlite3("", script.p, &n_exp);
		ck_assert_msg(n_exp == n_got && memcmp(exp, got, n_got) == 0,
			      "query %zu: sqlite3 drew\n%s\nwe drew\n%s", q,
			      exp, got);
		free(exp);
		free(got);
		sh_str_free(&sql);
		sh_str_free(&script);
	}
	sqlite3_close(db);
	ck_assert(!sh_is_eqp("EXPLAIN SELECT 1"));
	ck_assert(!sh_is_eqp("EXPLAIN QUERY PLANS"));
	ck_assert(sh_is_eqp("-- x\nEXPLAIN\nQUERY\tPLAN SELECT 1"));
}
END_TEST

/* ====================================================================
 * CSV reader
 * ==================================================================== */

static FILE *mem_in(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	ck_assert_ptr_nonnull(f);
	return f;
}

/* Read all of text; the records joined as "f1|f2\n" into *out.  Returns
 * the last sh_csv_next() code (RDB_DONE or RDB_ERROR). */
static int read_all(const char *text, char sep, sh_str *out, char *err,
		    size_t errcap)
{
	FILE *f = mem_in(text);
	sh_csv *c = sh_csv_open(f, sep);
	char **fields;
	size_t *lens;
	int n, rc, i;

	sh_str_add(out, "", 0);
	while ((rc = sh_csv_next(c, &fields, &lens, &n)) == RDB_ROW) {
		for (i = 0; i < n; i++) {
			ck_assert_uint_eq(strlen(fields[i]), lens[i]);
			sh_str_adds(out, fields[i]);
			sh_str_adds(out, i < n - 1 ? "|" : "\n");
		}
	}
	if (err)
		snprintf(err, errcap, "%s", sh_csv_errmsg(c));
	sh_csv_close(c);
	fclose(f);
	return rc;
}

START_TEST(test_shell_csv_rfc4180_cases_parse)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"a,b,c\n1,2,3\n", "a|b|c\n1|2|3\n"},
		{"a,b\r\n1,2\r\n", "a|b\n1|2\n"},
		{"a,b\n1,2", "a|b\n1|2\n"},
		{"\"x,y\",\"he said \"\"hi\"\"\"\n", "x,y|he said \"hi\"\n"},
		{"\"multi\nline\",z\n", "multi\nline|z\n"},
		{"\"crlf\r\ninside\"\r\n", "crlf\r\ninside\n"},
		{",,\n", "||\n"},
		{"\"\",\"\"\n", "|\n"},
		{"a\n\n\nb\n", "a\nb\n"},
		{"\xef\xbb\xbfid,name\n", "id|name\n"},
		{"\xef\xbbx\n", "\xef\xbbx\n"},
		{"a\rb,c\n", "a\rb|c\n"},
		{"tab\tsep,x\n", "tab\tsep|x\n"},
		{"", ""},
		{"\n\r\n", ""},
		{"last,\n", "last|\n"},
		{"é,日本\n", "é|日本\n"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sh_str out = {0};

		ck_assert_int_eq(read_all(cases[i].in, ',', &out, NULL, 0),
				 RDB_DONE);
		ck_assert_msg(strcmp(out.p, cases[i].out) == 0,
			      "case %zu: got '%s'", i, out.p);
		sh_str_free(&out);
	}
}
END_TEST

START_TEST(test_shell_csv_malformed_names_line)
{
	static const struct {
		const char *in, *line;
	} cases[] = {
		{"a,b\n1,2\n3,\"4\n5,6\n", "line 5:"},
		{"a,b\n1,2\n3,4\"x\n", "line 3:"},
		{"a,b\n\"1\"x,2\n", "line 2:"},
		{"h\r\nok\r\n\"bad\" ,x\r\n", "line 3:"},
		{"\"a\nb\nc\"\nd\"e\n", "line 4:"},
	};
	size_t i;
	char err[200];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sh_str out = {0};

		ck_assert_int_eq(read_all(cases[i].in, ',', &out, err,
					  sizeof(err)), RDB_ERROR);
		ck_assert_msg(strncmp(err, cases[i].line,
				      strlen(cases[i].line)) == 0,
			      "case %zu: '%s'", i, err);
		sh_str_free(&out);
	}
}
END_TEST

START_TEST(test_shell_csv_line_numbers_follow_records)
{
	const char *in = "a\n\"b\nb\"\n\nc\r\nd";
	long want[] = {1, 2, 5, 6};
	FILE *f = mem_in(in);
	sh_csv *c = sh_csv_open(f, ',');
	char **fields;
	size_t *lens;
	int n, k = 0;

	while (sh_csv_next(c, &fields, &lens, &n) == RDB_ROW) {
		ck_assert_int_lt(k, 4);
		ck_assert_int_eq(sh_csv_line(c), want[k]);
		k++;
	}
	ck_assert_int_eq(k, 4);
	sh_csv_close(c);
	fclose(f);
}
END_TEST

/* Random records written as CSV (quoted when needed or at random, LF or
 * CRLF) read back unchanged. */
START_TEST(test_shell_csv_random_round_trip)
{
	static const char *const pieces[] = {
		"a", "bc", ",", "\"", "\n", "\r\n", " ", "é", ";", "x\"y",
		"", "0", "\t",
	};
	uint64_t seed = tu_seed(), rs = seed;
	long rounds = tu_scaled(300, 20), r;

	tu_seed_note("shell csv", seed);
	for (r = 0; r < rounds; r++) {
		char sep = tu_rand_below(&rs, 4) ? ',' : ';';
		int nrec = 1 + (int)tu_rand_below(&rs, 6), nf, k, i;
		sh_str csv = {0}, want = {0}, got = {0};

		sh_str_add(&csv, "", 0);
		sh_str_add(&want, "", 0);
		nf = 1 + (int)tu_rand_below(&rs, 5);
		for (k = 0; k < nrec; k++) {
			for (i = 0; i < nf; i++) {
				sh_str fld = {0};
				int np = (int)tu_rand_below(&rs, 4), q;
				const char *p;

				sh_str_add(&fld, "", 0);
				while (np-- > 0)
					sh_str_adds(&fld, pieces[tu_rand_below(
						&rs, sizeof(pieces) /
						sizeof(pieces[0]))]);
				/* one empty field alone is a blank line */
				if (nf == 1 && fld.len == 0)
					sh_str_adds(&fld, "v");
				q = strpbrk(fld.p, ",;\"\r\n") != NULL ||
				    tu_rand_below(&rs, 4) == 0;
				if (q)
					sh_str_adds(&csv, "\"");
				for (p = fld.p; *p; p++) {
					if (*p == '"')
						sh_str_add(&csv, p, 1);
					sh_str_add(&csv, p, 1);
				}
				if (q)
					sh_str_adds(&csv, "\"");
				sh_str_adds(&want, fld.p);
				sh_str_adds(&want, i < nf - 1 ? "|" : "\n");
				if (i < nf - 1)
					sh_str_add(&csv, &sep, 1);
				sh_str_free(&fld);
			}
			if (k < nrec - 1 || tu_rand_below(&rs, 2))
				sh_str_adds(&csv, tu_rand_below(&rs, 2) ?
					    "\r\n" : "\n");
		}
		ck_assert_int_eq(read_all(csv.p, sep, &got, NULL, 0),
				 RDB_DONE);
		ck_assert_msg(strcmp(got.p, want.p) == 0,
			      "csv '%s': want '%s' got '%s'", csv.p, want.p,
			      got.p);
		sh_str_free(&csv);
		sh_str_free(&want);
		sh_str_free(&got);
	}
}
END_TEST

/* ====================================================================
 * Command line and dot-command lines
 * ==================================================================== */

static int parse(sh_args *a, char *err, const char *const *words, int n)
{
	char *argv[32];
	int i;

	argv[0] = (char *)"rdb";
	for (i = 0; i < n; i++)
		argv[i + 1] = (char *)words[i];
	argv[n + 1] = NULL;
	return sh_args_parse(n + 1, argv, a, err, 200);
}

START_TEST(test_shell_args_options_and_operands_parse)
{
	const char *w[] = {"-csv", "--header", "-separator", ";", "db.rdb",
			   "-bail", "select 1;", "--cmd", ".mode box",
			   ".tables", "-pagesize", "8192", "--sync", "normal",
			   "-cachesize", "100", "-nullvalue", "NIL",
			   "-newline", "\r\n", "-init", "x.sql", "-readonly",
			   "-echo", "-batch"};
	sh_args a;
	char err[200];

	ck_assert_int_eq(parse(&a, err, w, 25), 0);
	ck_assert_int_eq(a.fmt.mode, SH_MODE_CSV);
	ck_assert_int_eq(a.fmt.header, 1);
	ck_assert_int_eq(a.header_set, 1);
	ck_assert_str_eq(a.fmt.colsep, ";");
	ck_assert_str_eq(a.fmt.rowsep, "\r\n");
	ck_assert_str_eq(a.fmt.nullvalue, "NIL");
	ck_assert_str_eq(a.file, "db.rdb");
	ck_assert_int_eq(a.n_sql, 2);
	ck_assert_str_eq(a.sql[0], "select 1;");
	ck_assert_str_eq(a.sql[1], ".tables");
	ck_assert_int_eq(a.n_cmds, 1);
	ck_assert_str_eq(a.cmds[0], ".mode box");
	ck_assert_int_eq(a.page_size, 8192);
	ck_assert_int_eq(a.cache_pages, 100);
	ck_assert_int_eq(a.sync, RDB_SYNC_NORMAL);
	ck_assert_str_eq(a.init, "x.sql");
	ck_assert(a.bail && a.readonly && a.echo && a.batch);
	ck_assert(!a.interactive && !a.version && !a.help);
	sh_args_free(&a);
}
END_TEST

START_TEST(test_shell_args_every_documented_option_is_accepted)
{
	static const char *const flags[] = {
		"csv", "json", "line", "box", "table", "markdown", "list",
		"tabs", "quote", "column", "header", "noheader", "bail",
		"batch", "interactive", "echo", "readonly", "version", "help",
		"html",
	};
	static const char *const valued[][2] = {
		{"separator", ","}, {"newline", "\n"}, {"nullvalue", "x"},
		{"cmd", ".show"}, {"init", "f"}, {"pagesize", "512"},
		{"cachesize", "10"}, {"sync", "off"}, {"sync", "FULL"},
	};
	char one[40], two[40], err[200];
	sh_args a;
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const char *w[2] = {one, two};

		snprintf(one, sizeof(one), "-%s", flags[i]);
		snprintf(two, sizeof(two), "--%s", flags[i]);
		ck_assert_msg(parse(&a, err, w, 2) == 0, "%s: %s", one, err);
		ck_assert_ptr_null(a.file);
		sh_args_free(&a);
	}
	for (i = 0; i < sizeof(valued) / sizeof(valued[0]); i++) {
		const char *w[2] = {one, valued[i][1]};

		snprintf(one, sizeof(one), "--%s", valued[i][0]);
		ck_assert_msg(parse(&a, err, w, 2) == 0, "%s: %s", one, err);
		ck_assert_ptr_null(a.file);
		sh_args_free(&a);
	}
}
END_TEST

START_TEST(test_shell_args_bad_options_are_errors)
{
	static const struct {
		const char *w[2];
		int n;
		const char *msg;
	} cases[] = {
		{{"-bogus"}, 1, "unknown option: -bogus"},
		{{"--separator"}, 1, "missing argument to --separator"},
		{{"-pagesize", "1000"}, 2, "-pagesize: expected a power of "
		 "two from 512 to 65536, not '1000'"},
		{{"-pagesize", "131072"}, 2, "-pagesize: expected a power of "
		 "two from 512 to 65536, not '131072'"},
		{{"-cachesize", "0"}, 2, "-cachesize: expected a number of "
		 "pages from 1, not '0'"},
		{{"-sync", "sometimes"}, 2, "-sync: expected off, normal or "
		 "full, not 'sometimes'"},
	};
	char err[200];
	sh_args a;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse(&a, err, cases[i].w, cases[i].n), -1);
		ck_assert_str_eq(err, cases[i].msg);
		sh_args_free(&a);
	}
}
END_TEST

START_TEST(test_shell_args_later_options_override_earlier)
{
	const char *w1[] = {"-separator", ";", "-csv"};
	const char *w2[] = {"-csv", "-separator", ";", "-list"};
	const char *w3[] = {"-header", "-noheader", "-tabs"};
	char err[200];
	sh_args a;

	ck_assert_int_eq(parse(&a, err, w1, 3), 0);
	ck_assert_str_eq(a.fmt.colsep, ",");
	sh_args_free(&a);
	ck_assert_int_eq(parse(&a, err, w2, 4), 0);
	ck_assert_int_eq(a.fmt.mode, SH_MODE_LIST);
	ck_assert_str_eq(a.fmt.colsep, ";");
	sh_args_free(&a);
	ck_assert_int_eq(parse(&a, err, w3, 3), 0);
	ck_assert_int_eq(a.fmt.header, 0);
	ck_assert_str_eq(a.fmt.colsep, "\t");
	sh_args_free(&a);
}
END_TEST

START_TEST(test_shell_dot_split_quotes_and_escapes)
{
	static const struct {
		const char *line;
		const char *want;        /* words joined by '|' */
	} cases[] = {
		{".mode csv", "mode|csv"},
		{".separator \"\\t\" '\\t' x\\ny", "separator|\t|\\t|x\ny"},
		{".print \"a b\"   'c d'  e ", "print|a b|c d|e"},
		{".x \"unterminated", "x|unterminated"},
		{".x \"\\101\\102C\" \\q \\\\", "x|ABC|q|\\"},
		{".x 'it''s'", "x|it|s"},
		{".x \"say \\\"hi\\\"\"", "x|say \"hi\""},
		{".", ""},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **argv;
		int n = sh_dot_split(cases[i].line, &argv), k;
		sh_str got = {0};

		sh_str_add(&got, "", 0);
		for (k = 0; k < n; k++) {
			if (k)
				sh_str_adds(&got, "|");
			sh_str_adds(&got, argv[k]);
		}
		ck_assert_ptr_null(argv[n]);
		ck_assert_msg(strcmp(got.p, cases[i].want) == 0,
			      "'%s' gave '%s'", cases[i].line, got.p);
		sh_argv_free(argv);
		sh_str_free(&got);
	}
}
END_TEST

/* .print echoes its words joined by spaces: the same random lines through
 * sqlite3 and through sh_dot_split give the same bytes. */
START_TEST(test_shell_dot_split_matches_sqlite3)
{
	static const char *const pieces[] = {
		"a", "bc", " ", "  ", "\"", "'", "\\t", "\\n", "\\101", "\\\\",
		"\\q", "\\'", "\\\"", "é", "x\\7y",
	};
	uint64_t seed = tu_seed(), rs = seed;
	sh_str script = {0}, want = {0};
	long n = tu_scaled(200, 20), k;
	size_t got_n;
	char *got;

	if (!have_sqlite3())
		return;
	tu_seed_note("shell dot split", seed);
	sh_str_add(&want, "", 0);
	for (k = 0; k < n; k++) {
		sh_str line = {0};
		int np = 1 + (int)tu_rand_below(&rs, 8), i, argc;
		char **argv;

		sh_str_adds(&line, ".print ");
		while (np-- > 0)
			sh_str_adds(&line, pieces[tu_rand_below(&rs,
				sizeof(pieces) / sizeof(pieces[0]))]);
		sh_str_adds(&script, line.p);
		sh_str_adds(&script, "\n");
		argc = sh_dot_split(line.p, &argv);
		for (i = 1; i < argc; i++) {
			if (i > 1)
				sh_str_adds(&want, " ");
			sh_str_adds(&want, argv[i]);
		}
		sh_str_adds(&want, "\n");
		sh_argv_free(argv);
		sh_str_free(&line);
	}
	got = run_sqlite3("", script.p, &got_n);
	if (got_n != want.len || memcmp(got, want.p, got_n) != 0) {
		fprintf(stderr, "script:\n%s", script.p);
		dump_bytes("sqlite3", got, got_n);
		dump_bytes("rdb", want.p, want.len);
		ck_abort_msg("dot-command words differ from sqlite3's");
	}
	free(got);
	sh_str_free(&script);
	sh_str_free(&want);
}
END_TEST

START_TEST(test_shell_dot_table_finds_names_and_prefixes)
{
	static const char *const issue[] = {
		"help", "open", "tables", "schema", "indexes", "mode",
		"headers", "separator", "nullvalue", "width", "timer", "echo",
		"bail", "show", "read", "output", "once", "import", "dump",
		"check", "stats", "kv", "quit", "exit",
	};
	size_t i;
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	for (i = 0; i < sizeof(issue) / sizeof(issue[0]); i++) {
		const sh_dot *d = sh_dot_find(issue[i]);

		ck_assert_msg(d != NULL, ".%s missing", issue[i]);
		ck_assert_str_eq(d->name, issue[i]);
		ck_assert_ptr_nonnull(d->help);
	}
	ck_assert_str_eq(sh_dot_find("he")->name, "headers");
	ck_assert_str_eq(sh_dot_find("h")->name, "help");
	ck_assert_str_eq(sh_dot_find("q")->name, "quit");
	ck_assert_str_eq(sh_dot_find("tab")->name, "tables");
	ck_assert_ptr_null(sh_dot_find("s"));
	ck_assert_ptr_null(sh_dot_find("nosuch"));
	ck_assert_ptr_null(sh_dot_find("modes"));
	f = open_memstream(&buf, &len);
	for (i = 0; sh_dots[i].name; i++)
		;
	ck_assert_int_eq(sh_dot_help(f, NULL), (int)i);
	ck_assert_int_eq(sh_dot_help(f, "imp"), 1);
	ck_assert_int_eq(sh_dot_help(f, ".mode"), 1);
	ck_assert_int_eq(sh_dot_help(f, "zzz"), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, ".import ?--csv? ?--skip N? FILE"));
	ck_assert_ptr_nonnull(strstr(buf, "--skip N   Skip the first N"));
	ck_assert_ptr_nonnull(strstr(buf, "--wordwrap B"));
	free(buf);
	ck_assert_int_eq(sh_bool("ON"), 1);
	ck_assert_int_eq(sh_bool("no"), 0);
	ck_assert_int_eq(sh_bool("maybe"), -1);
	ck_assert_int_eq(sh_bool("2"), 1);
	ck_assert_int_eq(sh_bool("-0"), 0);
	ck_assert_int_eq(sh_bool("1x"), -1);
}
END_TEST

/* ====================================================================
 * Statements from lines
 * ==================================================================== */

/* Feed lines (separated by '\n' in script) and describe the results as
 * "kind@start:text" items joined by ' / '. */
static void feed_script(const char *script, int (*complete)(const char *),
			sh_str *out)
{
	static const char *const kinds[] = {"more", "skip", "dot", "sql"};
	sh_input in;
	char *copy = sh_strdup(script), *line, *save = NULL;
	const char *text;
	long start;
	int k;

	sh_str_add(out, "", 0);
	sh_input_init(&in, complete);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		k = sh_input_feed(&in, strcmp(line, "~") ? line : "", &text,
				  &start);
		ck_assert_int_eq(sh_input_pending(&in), k == SH_LINE_MORE);
		if (out->len)
			sh_str_adds(out, " / ");
		sh_str_adds(out, kinds[k]);
		if (text)
			sh_str_addf(out, "@%ld:%s", start, text);
	}
	if (sh_input_finish(&in, &text, &start) == SH_LINE_SQL)
		sh_str_addf(out, " / end@%ld:%s", start, text);
	sh_input_free(&in);
	free(copy);
}

static int needs_end(const char *sql)
{
	return strstr(sql, "TRIGGER") == NULL || strstr(sql, "END;") != NULL;
}

START_TEST(test_shell_input_statements_and_line_numbers)
{
	static const struct {
		const char *script;      /* "~" is an empty line */
		const char *want;
	} cases[] = {
		{"select 1;", "sql@1:select 1;\n"},
		{"select\n1\n;", "more / more / sql@1:select\n1\n;\n"},
		{"~\n-- c\n.mode csv\nselect 2;",
		 "skip / skip / dot@3:.mode csv / sql@4:select 2;\n"},
		{"/* a\nb */\nselect 3; /* x */",
		 "more / skip / sql@3:select 3; /* x */\n"},
		{"select ';'\n;", "more / sql@1:select ';'\n;\n"},
		{"select 'it''s;'\n;", "more / sql@1:select 'it''s;'\n;\n"},
		{"select \"a;b\", [c;d], `e;f`\n;",
		 "more / sql@1:select \"a;b\", [c;d], `e;f`\n;\n"},
		{"select 1; -- done", "sql@1:select 1; -- done\n"},
		{"select 'multi\nline;'\n;",
		 "more / more / sql@1:select 'multi\nline;'\n;\n"},
		{"select 1\ngo", "more / sql@1:select 1\n;\n"},
		{"select 1\n  /  ", "more / sql@1:select 1\n;\n"},
		{"go\n/", "skip / skip"},
		{"select 1\n.mode csv\n;", "more / more / sql@1:select 1\n"
		 ".mode csv\n;\n"},
		{"# a comment\n  .mode box\n;",
		 "skip / more / sql@2:  .mode box\n;\n"},
		{"select 1", "more / end@1:select 1\n"},
		{"/* never closed", "more"},
		{"select 1; select 2\n;",
		 "more / sql@1:select 1; select 2\n;\n"},
		{"select '/*';\nselect 5;",
		 "sql@1:select '/*';\n / sql@2:select 5;\n"},
		{"select 1; /* a\n */", "more / sql@1:select 1; /* a\n */\n"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sh_str got = {0};

		feed_script(cases[i].script, NULL, &got);
		ck_assert_msg(strcmp(got.p, cases[i].want) == 0,
			      "case %zu: got '%s'", i, got.p);
		sh_str_free(&got);
	}
}
END_TEST

START_TEST(test_shell_input_asks_complete_before_running)
{
	sh_str got = {0};

	feed_script("CREATE TRIGGER t AFTER INSERT ON x BEGIN\n"
		    "SELECT 1;\nEND;\nselect 2;", needs_end, &got);
	ck_assert_str_eq(got.p, "more / more / sql@1:CREATE TRIGGER t AFTER "
			 "INSERT ON x BEGIN\nSELECT 1;\nEND;\n / "
			 "sql@4:select 2;\n");
	sh_str_free(&got);
}
END_TEST

/* A recalled history entry is one line holding newlines. */
START_TEST(test_shell_input_line_with_newlines_is_scanned_whole)
{
	sh_input in;
	const char *text;
	long start;

	sh_input_init(&in, NULL);
	ck_assert_int_eq(sh_input_feed(&in, "select 1 -- c;\n;", &text,
				       &start), SH_LINE_SQL);
	ck_assert_str_eq(text, "select 1 -- c;\n;\n");
	ck_assert_int_eq(sh_input_feed(&in, "select 2 -- c;\n + 1", &text,
				       &start), SH_LINE_MORE);
	ck_assert_int_eq(sh_input_feed(&in, ";", &text, &start), SH_LINE_SQL);
	ck_assert_int_eq(start, 2);
	sh_input_free(&in);
}
END_TEST

START_TEST(test_shell_read_line_strips_line_ends)
{
	static const char text[] = "a\r\nb\n\nc\rd\ne";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	const char *want[] = {"a", "b", "", "c\rd", "e"};
	sh_str s = {0};
	int i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(sh_read_line(f, &s), 1);
		ck_assert_str_eq(s.p, want[i]);
	}
	ck_assert_int_eq(sh_read_line(f, &s), 0);
	fclose(f);
	sh_str_free(&s);
}
END_TEST

Suite *shell_suite(void)
{
	Suite *s = suite_create("shell");
	TCase *tc = tcase_create("output");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shell_output_every_mode_matches_sqlite3);
	tcase_add_test(tc, test_shell_real_text_is_sqlite_printf);
	tcase_add_test(tc, test_shell_eqp_tree_matches_sqlite3);
	suite_add_tcase(s, tc);

	tc = tcase_create("csv");
	tcase_add_test(tc, test_shell_csv_rfc4180_cases_parse);
	tcase_add_test(tc, test_shell_csv_malformed_names_line);
	tcase_add_test(tc, test_shell_csv_line_numbers_follow_records);
	tcase_add_test(tc, test_shell_csv_random_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_test(tc, test_shell_args_options_and_operands_parse);
	tcase_add_test(tc, test_shell_args_every_documented_option_is_accepted);
	tcase_add_test(tc, test_shell_args_bad_options_are_errors);
	tcase_add_test(tc, test_shell_args_later_options_override_earlier);
	tcase_add_test(tc, test_shell_dot_split_quotes_and_escapes);
	tcase_add_test(tc, test_shell_dot_split_matches_sqlite3);
	tcase_add_test(tc, test_shell_dot_table_finds_names_and_prefixes);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_test(tc, test_shell_input_statements_and_line_numbers);
	tcase_add_test(tc, test_shell_input_asks_complete_before_running);
	tcase_add_test(tc, test_shell_input_line_with_newlines_is_scanned_whole);
	tcase_add_test(tc, test_shell_read_line_strips_line_ends);
	suite_add_tcase(s, tc);
	return s;
}
