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

/* REALs that reach sqlite exactly: short decimal literals, integers
 * scaled by powers of two (exact in binary), and the infinities. */
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
		c->v.r = strtod(s, NULL);
	} else if (k <= 3) {
		int digits = 1 + (int)tu_rand_below(rs, 12);
		int e = (int)tu_rand_below(rs, 41) - 20;
		double m = (double)tu_rand_below(rs, 1000000000) / 1e9 * 10.0;

		snprintf(c->sql, sizeof(c->sql), "%.*e", digits - 1,
			 m * pow(10.0, e));
		c->v.r = strtod(c->sql, NULL);
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

Suite *shell_suite(void)
{
	Suite *s = suite_create("shell");
	TCase *tc = tcase_create("output");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shell_output_every_mode_matches_sqlite3);
	suite_add_tcase(s, tc);

	tc = tcase_create("csv");
	tcase_add_test(tc, test_shell_csv_rfc4180_cases_parse);
	tcase_add_test(tc, test_shell_csv_malformed_names_line);
	tcase_add_test(tc, test_shell_csv_line_numbers_follow_records);
	tcase_add_test(tc, test_shell_csv_random_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
