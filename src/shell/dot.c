/*
 * dot.c -- the dot-commands of the rdb shell (.help lists them; args.c
 * holds their table).  Catalog questions are queries on the system tables
 * rdb_tables, rdb_columns and rdb_indexes; .kv uses the rdb_kv_* calls.
 */
#include "app.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

/* ====================================================================
 * Queries
 * ==================================================================== */

/* Prepare sql with an optional text parameter ?1.  NULL after reporting
 * an error. */
static rdb_stmt *prepare1(shell *sh, const char *sql, const char *param)
{
	rdb_stmt *st = NULL;

	if (rdb_prepare(sh->db, sql, -1, &st, NULL) != RDB_OK ||
	    st == NULL) {
		app_error(sh, 0, "%s", rdb_errmsg(sh->db));
		return NULL;
	}
	if (param && rdb_bind_text(st, 1, param, -1) != RDB_OK) {
		app_error(sh, 0, "%s", rdb_errmsg(sh->db));
		rdb_finalize(st);
		return NULL;
	}
	return st;
}

char **app_column0(shell *sh, const char *sql, const char *param)
{
	char **v = sh_malloc(sizeof(*v));
	size_t n = 0;
	rdb_stmt *st;

	v[0] = NULL;
	if (sh->db == NULL || (st = prepare1(sh, sql, param)) == NULL)
		return v;
	while (rdb_step(st) == RDB_ROW) {
		const unsigned char *t = rdb_column_text(st, 0);

		v = sh_realloc(v, (n + 2) * sizeof(*v));
		v[n++] = sh_strdup(t ? (const char *)t : "");
		v[n] = NULL;
	}
	rdb_finalize(st);
	return v;
}

/* Run sql (no rows expected).  0, or 1 after reporting an error. */
static int exec1(shell *sh, const char *sql)
{
	char *msg = NULL;

	if (rdb_exec(sh->db, sql, NULL, NULL, &msg) == RDB_OK)
		return 0;
	app_error(sh, 0, "%s", msg ? msg : rdb_errmsg(sh->db));
	rdb_free_msg(msg);
	return 1;
}

/* name as an SQL identifier, quoted when it needs to be. */
static void add_ident(sh_str *s, const char *name)
{
	if (!sh_ident_needs_quote(name)) {
		sh_str_adds(s, name);
		return;
	}
	sh_str_adds(s, "\"");
	for (; *name; name++) {
		if (*name == '"')
			sh_str_add(s, name, 1);
		sh_str_add(s, name, 1);
	}
	sh_str_adds(s, "\"");
}

/* ====================================================================
 * Settings
 * ==================================================================== */

static int usage(const sh_dot *d)
{
	fprintf(stderr, "Usage: %s\n", d->usage);
	return 1;
}

/* .bail .echo .timer .changes .headers: one on|off argument. */
static int set_flag(shell *sh, const sh_dot *d, int argc, char **argv)
{
	int v;

	if (argc != 2)
		return usage(d);
	if ((v = sh_bool(argv[1])) < 0) {
		/* sqlite3 warns and carries on */
		fprintf(stderr, "ERROR: Not a boolean value: \"%s\". "
			"Assuming \"no\".\n", argv[1]);
		v = 0;
	}
	if (strcmp(d->name, "bail") == 0)
		sh->bail = v;
	else if (strcmp(d->name, "echo") == 0)
		sh->echo = v;
	else if (strcmp(d->name, "timer") == 0)
		sh->timer = v;
	else if (strcmp(d->name, "changes") == 0)
		sh->changes = v;
	else {
		sh->fmt.header = v;
		sh->header_set = 1;
	}
	return 0;
}

static int mode_options(shell *sh, int argc, char **argv, int i)
{
	for (; i < argc; i++) {
		const char *o = argv[i] + (argv[i][0] == '-' &&
					   argv[i][1] == '-');

		if (strcmp(o, "-wrap") == 0 && i + 1 < argc) {
			sh->fmt.wrap = atoi(argv[++i]);
		} else if (strcmp(o, "-wordwrap") == 0 && i + 1 < argc) {
			sh->fmt.wordwrap = sh_bool(argv[++i]) == 1;
		} else if (strcmp(o, "-ww") == 0) {
			sh->fmt.wordwrap = 1;
		} else if (strcmp(o, "-quote") == 0) {
			sh->fmt.quote = 1;
		} else if (strcmp(o, "-noquote") == 0) {
			sh->fmt.quote = 0;
		} else {
			app_error(sh, 0, "unknown .mode option: %s", argv[i]);
			return 1;
		}
	}
	return 0;
}

static int do_mode(shell *sh, int argc, char **argv)
{
	int m, i = 2;

	if (argc < 2) {
		fprintf(sh->out, "current output mode: %s\n",
			sh_mode_name(sh->fmt.mode));
		return 0;
	}
	if ((m = sh_mode_parse(argv[1])) < 0) {
		app_error(sh, 0, "mode should be one of: box column csv html "
			  "insert json line list markdown quote table tabs");
		return 1;
	}
	sh_format_set_mode(&sh->fmt, (sh_mode)m, sh->header_set);
	if (m == SH_MODE_INSERT)
		sh_format_set_table(&sh->fmt, argc > 2 && argv[2][0] != '-'
				    ? argv[i++] : "table");
	return mode_options(sh, argc, argv, i);
}

static void print_c_string(FILE *out, const char *z)
{
	fputc('"', out);
	for (; *z; z++) {
		unsigned char c = (unsigned char)*z;

		if (c == '\\' || c == '"')
			fprintf(out, "\\%c", c);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < ' ' || c == 0x7f)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
	fputs("\"\n", out);
}

static void do_show(shell *sh)
{
	FILE *o = sh->out;
	int i;

	fprintf(o, "%12.12s: %s\n", "bail", sh->bail ? "on" : "off");
	fprintf(o, "%12.12s: %s\n", "echo", sh->echo ? "on" : "off");
	fprintf(o, "%12.12s: %s\n", "headers", sh->fmt.header ? "on" : "off");
	fprintf(o, "%12.12s: %s", "mode", sh_mode_name(sh->fmt.mode));
	if (sh_mode_columnar(sh->fmt.mode))
		fprintf(o, " --wrap %d --wordwrap %s --%squote", sh->fmt.wrap,
			sh->fmt.wordwrap ? "on" : "off",
			sh->fmt.quote ? "" : "no");
	else if (sh->fmt.mode == SH_MODE_INSERT)
		fprintf(o, " %s", sh->fmt.table);
	fputc('\n', o);
	fprintf(o, "%12.12s: ", "nullvalue");
	print_c_string(o, sh->fmt.nullvalue);
	fprintf(o, "%12.12s: %s\n", "output",
		sh->out == stdout ? "stdout" : "file");
	fprintf(o, "%12.12s: ", "colseparator");
	print_c_string(o, sh->fmt.colsep);
	fprintf(o, "%12.12s: ", "rowseparator");
	print_c_string(o, sh->fmt.rowsep);
	fprintf(o, "%12.12s: %s\n", "timer", sh->timer ? "on" : "off");
	fprintf(o, "%12.12s: ", "width");
	for (i = 0; i < sh->fmt.n_widths; i++)
		fprintf(o, "%d ", sh->fmt.widths[i]);
	fprintf(o, "\n%12.12s: %s\n", "filename",
		sh->path ? sh->path : ":memory:");
}

static int do_output(shell *sh, int argc, char **argv, int once)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	FILE *f;

	if (argc > 2 || (once && argc != 2)) {
		fprintf(stderr, "Usage: %s\n", once ? ".once FILE"
			: ".output ?FILE?");
		return 1;
	}
	app_output_reset(sh);
	if (name == NULL || strcmp(name, "-") == 0 ||
	    strcmp(name, "stdout") == 0)
		return 0;
	f = name[0] == '|' ? popen(name + 1, "w") : fopen(name, "w");
	if (f == NULL) {
		app_error(sh, 0, "cannot open \"%s\": %s", name,
			  strerror(errno));
		return 1;
	}
	sh->out = f;
	sh->out_pipe = name[0] == '|';
	sh->once = once ? 2 : 0;
	return 0;
}

static int do_open(shell *sh, int argc, char **argv)
{
	const char *file = NULL;
	int fresh = 0, ro = 0, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--new") == 0 || strcmp(argv[i], "-new")
		    == 0)
			fresh = 1;
		else if (strcmp(argv[i], "--readonly") == 0 ||
			 strcmp(argv[i], "-readonly") == 0)
			ro = 1;
		else if (argv[i][0] == '-' || file)
			return usage(sh_dot_find("open"));
		else
			file = argv[i];
	}
	rdb_close(sh->db);
	sh->db = NULL;
	free(sh->path);
	sh->path = file && strcmp(file, ":memory:") ? sh_strdup(file) : NULL;
	if (fresh && sh->path) {
		sh_str wal = {0};

		sh_str_addf(&wal, "%s-wal", sh->path);
		(void)unlink(sh->path);
		(void)unlink(wal.p);
		sh_str_free(&wal);
	}
	sh->opts.flags = ro ? RDB_OPEN_READONLY
			    : RDB_OPEN_READWRITE | RDB_OPEN_CREATE;
	if (app_open(sh) == 0)
		return 0;
	free(sh->path);             /* keep a usable database */
	sh->path = NULL;
	sh->opts.flags = RDB_OPEN_READWRITE | RDB_OPEN_CREATE;
	(void)app_open(sh);
	return 1;
}

static int do_read(shell *sh, int argc, char **argv)
{
	FILE *f;
	int rc;

	if (argc != 2)
		return usage(sh_dot_find("read"));
	if (sh->nesting >= 25) {
		app_error(sh, 0, ".read nested too deeply");
		return 1;
	}
	if ((f = fopen(argv[1], "r")) == NULL) {
		app_error(sh, 0, "cannot open \"%s\"", argv[1]);
		return 1;
	}
	sh->nesting++;
	rc = app_process(sh, f, 0);
	sh->nesting--;
	fclose(f);
	return rc;
}

/* ====================================================================
 * Catalog
 * ==================================================================== */

/* Names in columns across an 80-character line, as sqlite3's .tables. */
static void print_names(FILE *out, char **names)
{
	int n = 0, maxlen = 0, cols, rows, i, j;

	for (n = 0; names[n]; n++)
		if ((int)strlen(names[n]) > maxlen)
			maxlen = (int)strlen(names[n]);
	if (n == 0)
		return;
	cols = 80 / (maxlen + 2);
	if (cols < 1)
		cols = 1;
	rows = (n + cols - 1) / cols;
	for (i = 0; i < rows; i++) {
		for (j = i; j < n; j += rows)
			fprintf(out, "%s%-*s", j < rows ? "" : "  ", maxlen,
				names[j]);
		fputc('\n', out);
	}
}

static int do_tables(shell *sh, int argc, char **argv)
{
	char **names;

	if (argc > 2)
		return usage(sh_dot_find("tables"));
	names = app_column0(sh, argc > 1
		? "SELECT name FROM rdb_tables WHERE type = 'table' AND "
		  "name LIKE ?1 ORDER BY name"
		: "SELECT name FROM rdb_tables WHERE type = 'table' "
		  "ORDER BY name", argc > 1 ? argv[1] : NULL);
	print_names(sh->out, names);
	sh_argv_free(names);
	return 0;
}

static int do_indexes(shell *sh, int argc, char **argv)
{
	char **names;

	if (argc > 2)
		return usage(sh_dot_find("indexes"));
	names = app_column0(sh, argc > 1
		? "SELECT name FROM rdb_indexes WHERE table_name LIKE ?1 "
		  "ORDER BY name"
		: "SELECT name FROM rdb_indexes ORDER BY name",
		argc > 1 ? argv[1] : NULL);
	print_names(sh->out, names);
	sh_argv_free(names);
	return 0;
}

/* CREATE statements of the user tables matching pattern (NULL: all) and
 * of their indexes, each followed by ";\n". */
static void print_schema(shell *sh, const char *pattern)
{
	char **tables, **sql, **isql;
	int i, k;

	tables = app_column0(sh, "SELECT name FROM rdb_tables WHERE type = "
			     "'table' AND name LIKE ?1 ORDER BY name",
			     pattern ? pattern : "%");
	for (i = 0; tables[i]; i++) {
		sql = app_column0(sh, "SELECT sql FROM rdb_tables WHERE name "
				  "= ?1", tables[i]);
		if (sql[0])
			fprintf(sh->out, "%s;\n", sql[0]);
		sh_argv_free(sql);
		isql = app_column0(sh, "SELECT sql FROM rdb_indexes WHERE "
				   "table_name = ?1 AND sql IS NOT NULL "
				   "ORDER BY name", tables[i]);
		for (k = 0; isql[k]; k++)
			fprintf(sh->out, "%s;\n", isql[k]);
		sh_argv_free(isql);
	}
	sh_argv_free(tables);
}

/* A value as an SQL literal that reads back as the same value. */
static void add_literal(sh_str *s, rdb_stmt *st, int i)
{
	char buf[64];
	const unsigned char *p;
	int n, k;

	switch (rdb_column_type(st, i)) {
	case RDB_INTEGER:
		sh_str_addf(s, "%lld", (long long)rdb_column_int64(st, i));
		break;
	case RDB_FLOAT: {
		double r = rdb_column_double(st, i);

		if (isinf(r)) {
			sh_str_adds(s, r > 0 ? "1e999" : "-1e999");
			break;
		}
		sh_real_text(r, 15, buf);
		if (strtod(buf, NULL) != r)
			snprintf(buf, sizeof(buf), "%.17e", r);
		sh_str_adds(s, buf);
		break;
	}
	case RDB_TEXT:
		p = rdb_column_text(st, i);
		n = rdb_column_bytes(st, i);
		sh_str_adds(s, "'");
		for (k = 0; k < n; k++) {
			if (p[k] == '\'')
				sh_str_adds(s, "'");
			sh_str_add(s, &p[k], 1);
		}
		sh_str_adds(s, "'");
		break;
	case RDB_BLOB:
		p = rdb_column_blob(st, i);
		n = rdb_column_bytes(st, i);
		sh_str_adds(s, "X'");
		for (k = 0; k < n; k++)
			sh_str_addf(s, "%02x", p[k]);
		sh_str_adds(s, "'");
		break;
	default:
		sh_str_adds(s, "NULL");
		break;
	}
}

static int dump_rows(shell *sh, const char *table)
{
	sh_str q = {0}, ins = {0}, line = {0};
	rdb_stmt *st;
	int rc, i, n;

	sh_str_adds(&q, "SELECT * FROM ");
	add_ident(&q, table);
	sh_str_adds(&ins, "INSERT INTO ");
	add_ident(&ins, table);
	sh_str_adds(&ins, " VALUES(");
	st = prepare1(sh, q.p, NULL);
	sh_str_free(&q);
	if (st == NULL) {
		sh_str_free(&ins);
		return 1;
	}
	n = rdb_column_count(st);
	while ((rc = rdb_step(st)) == RDB_ROW) {
		line.len = 0;
		sh_str_add(&line, ins.p, ins.len);
		for (i = 0; i < n; i++) {
			if (i)
				sh_str_adds(&line, ",");
			add_literal(&line, st, i);
		}
		sh_str_adds(&line, ");\n");
		fputs(line.p, sh->out);
	}
	if (rc != RDB_DONE)
		app_error(sh, 0, "%s", rdb_errmsg(sh->db));
	rdb_finalize(st);
	sh_str_free(&ins);
	sh_str_free(&line);
	return rc != RDB_DONE;
}

static int do_dump(shell *sh, int argc, char **argv)
{
	char **tables, **sql;
	int i, k, rc = 0;

	if (argc > 2)
		return usage(sh_dot_find("dump"));
	tables = app_column0(sh, "SELECT name FROM rdb_tables WHERE type = "
			     "'table' AND name LIKE ?1 ORDER BY name",
			     argc > 1 ? argv[1] : "%");
	fputs("BEGIN TRANSACTION;\n", sh->out);
	for (i = 0; tables[i]; i++) {
		sql = app_column0(sh, "SELECT sql FROM rdb_tables WHERE name "
				  "= ?1", tables[i]);
		if (sql[0])
			fprintf(sh->out, "%s;\n", sql[0]);
		sh_argv_free(sql);
		rc |= dump_rows(sh, tables[i]);
	}
	for (i = 0; tables[i]; i++) {
		sql = app_column0(sh, "SELECT sql FROM rdb_indexes WHERE "
				  "table_name = ?1 AND sql IS NOT NULL "
				  "ORDER BY name", tables[i]);
		for (k = 0; sql[k]; k++)
			fprintf(sh->out, "%s;\n", sql[k]);
		sh_argv_free(sql);
	}
	fputs("COMMIT;\n", sh->out);
	sh_argv_free(tables);
	return rc;
}

static int do_check(shell *sh)
{
	char **rows = app_column0(sh, "PRAGMA integrity_check", NULL);
	int i, bad = 0;

	for (i = 0; rows[i]; i++) {
		fprintf(sh->out, "%s\n", rows[i]);
		bad |= strcmp(rows[i], "ok") != 0;
	}
	if (i == 0)
		bad = 1;
	sh_argv_free(rows);
	return bad;
}

/* One PRAGMA's value, if the engine answers it. */
static void stat_pragma(shell *sh, const char *label, const char *pragma)
{
	rdb_stmt *st = NULL;

	if (rdb_prepare(sh->db, pragma, -1, &st, NULL) != RDB_OK || !st)
		return;
	if (rdb_step(st) == RDB_ROW)
		fprintf(sh->out, "%-22s %lld\n", label,
			(long long)rdb_column_int64(st, 0));
	rdb_finalize(st);
}

static void stat_line(shell *sh, const char *label, unsigned long long v)
{
	fprintf(sh->out, "%-22s %llu\n", label, v);
}

static int do_stats(shell *sh)
{
	rdb_kv_stats ks;
	rdb_stats st;
	int rc;

	stat_pragma(sh, "page size:", "PRAGMA page_size");
	stat_pragma(sh, "page count:", "PRAGMA page_count");
	stat_pragma(sh, "free pages:", "PRAGMA freelist_count");
	if ((rc = rdb_stats_get(sh->db, &st)) != RDB_OK) {
		app_error(sh, 0, "%s", rdb_errmsg(sh->db));
		return 1;
	}
	stat_line(sh, "cache pages:", st.cache_pages);
	stat_line(sh, "cache hits:", st.cache_hits);
	stat_line(sh, "cache misses:", st.cache_misses);
	stat_line(sh, "cache evictions:", st.cache_evictions);
	stat_line(sh, "wal frames:", st.wal_frames);
	stat_line(sh, "commits:", st.commits);
	stat_line(sh, "checkpoints:", st.checkpoints);
	stat_line(sh, "syncs:", st.syncs);
	if ((rc = rdb_kv_stats_get(sh->db, &ks)) != RDB_OK) {
		app_error(sh, 0, "%s", rdb_errmsg(sh->db));
		return 1;
	}
	fprintf(sh->out, "%-22s %llu\n", "kv live keys:",
		(unsigned long long)ks.live_keys);
	fprintf(sh->out, "%-22s %llu\n", "kv live bytes:",
		(unsigned long long)ks.live_bytes);
	fprintf(sh->out, "%-22s %llu\n", "kv dead bytes:",
		(unsigned long long)ks.dead_bytes);
	fprintf(sh->out, "%-22s %llu\n", "kv compression saved:",
		(unsigned long long)ks.saved_bytes);
	return 0;
}

/* ====================================================================
 * .import
 * ==================================================================== */

typedef struct import {
	shell *sh;
	const char *file, *table;
	FILE *in;
	sh_csv *csv;
	int skip;
	int ncol;
	char **types;            /* declared type of each column */
	rdb_stmt *ins;
	long rows;
	double t0;
	long size;
	int progress;            /* a progress line was printed */
} import;

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* CREATE TABLE table(header names, all TEXT). */
static int create_from_header(import *im, char **f, int n)
{
	sh_str sql = {0};
	int i, rc;

	sh_str_adds(&sql, "CREATE TABLE ");
	add_ident(&sql, im->table);
	sh_str_adds(&sql, "(");
	for (i = 0; i < n; i++) {
		if (i)
			sh_str_adds(&sql, ", ");
		sh_str_adds(&sql, "\"");
		for (const char *p = f[i]; *p; p++) {
			if (*p == '"')
				sh_str_add(&sql, p, 1);
			sh_str_add(&sql, p, 1);
		}
		sh_str_adds(&sql, "\" TEXT");
	}
	sh_str_adds(&sql, ")");
	rc = exec1(im->sh, sql.p);
	sh_str_free(&sql);
	return rc;
}

static int prepare_insert(import *im)
{
	sh_str sql = {0};
	int i;

	im->types = app_column0(im->sh, "SELECT type FROM rdb_columns WHERE "
				"table_name = ?1 ORDER BY cid", im->table);
	for (im->ncol = 0; im->types[im->ncol]; im->ncol++)
		;
	if (im->ncol == 0) {
		app_error(im->sh, 0, "no such table: %s", im->table);
		return 1;
	}
	sh_str_adds(&sql, "INSERT INTO ");
	add_ident(&sql, im->table);
	sh_str_adds(&sql, " VALUES(");
	for (i = 0; i < im->ncol; i++)
		sh_str_adds(&sql, i ? ",?" : "?");
	sh_str_adds(&sql, ")");
	im->ins = prepare1(im->sh, sql.p, NULL);
	sh_str_free(&sql);
	return im->ins == NULL;
}

/* Bind a field by its column's declared type: numbers for INTEGER and
 * REAL columns when the whole field is one, NULL for an empty field
 * there, text otherwise. */
static int bind_field(import *im, int i, const char *f, size_t n)
{
	const char *ty = im->types[i];
	char *end;

	if (strncasecmp(ty, "INT", 3) == 0 || strcasecmp(ty, "BIGINT") == 0 ||
	    strcasecmp(ty, "BOOLEAN") == 0 || strncasecmp(ty, "REAL", 4) == 0
	    || strncasecmp(ty, "FLOAT", 5) == 0 ||
	    strncasecmp(ty, "DOUBLE", 6) == 0) {
		long long v;
		double d;

		if (n == 0)
			return rdb_bind_null(im->ins, i + 1);
		errno = 0;
		v = strtoll(f, &end, 10);
		if (*end == '\0' && errno == 0 && !isspace((unsigned char)*f))
			return rdb_bind_int64(im->ins, i + 1, v);
		d = strtod(f, &end);
		if (*end == '\0' && !isspace((unsigned char)*f))
			return rdb_bind_double(im->ins, i + 1, d);
	}
	return rdb_bind_text(im->ins, i + 1, f, (int)n);
}

static void progress(import *im)
{
	double t = now() - im->t0;
	long pos;

	if (t < 1.0 || !isatty(2) || im->rows % 1000 != 0)
		return;
	pos = ftell(im->in);
	if (im->size > 0 && pos >= 0)
		fprintf(stderr, "\rimporting %s: %ld rows, %3d%%", im->file,
			im->rows, (int)(100.0 * (double)pos / im->size));
	else
		fprintf(stderr, "\rimporting %s: %ld rows", im->file,
			im->rows);
	im->progress = 1;
}

/* Every record into the table; 0, or 1 after reporting an error. */
static int import_rows(import *im, int have_header)
{
	char **f;
	size_t *len;
	int n, rc, i, first = 1;

	while ((rc = sh_csv_next(im->csv, &f, &len, &n)) == RDB_ROW) {
		if (im->skip > 0) {
			im->skip--;
			continue;
		}
		if (first && !have_header) {
			if (create_from_header(im, f, n) != 0)
				return 1;
			have_header = 1;
			first = 0;
			if (prepare_insert(im) != 0)
				return 1;
			continue;
		}
		first = 0;
		if (im->ins == NULL && prepare_insert(im) != 0)
			return 1;
		if (n != im->ncol) {
			app_error(im->sh, 0, "%s line %ld: expected %d columns "
				  "but found %d", im->file,
				  sh_csv_line(im->csv), im->ncol, n);
			return 1;
		}
		for (i = 0; i < n; i++)
			if (bind_field(im, i, f[i], len[i]) != RDB_OK)
				break;
		if (i < n || rdb_step(im->ins) != RDB_DONE) {
			app_error(im->sh, 0, "%s line %ld: %s", im->file,
				  sh_csv_line(im->csv),
				  rdb_errmsg(im->sh->db));
			return 1;
		}
		rdb_reset(im->ins);
		im->rows++;
		progress(im);
	}
	if (rc == RDB_ERROR) {
		app_error(im->sh, 0, "%s %s", im->file,
			  sh_csv_errmsg(im->csv));
		return 1;
	}
	if (im->ins == NULL && prepare_insert(im) != 0)
		return 1;
	return 0;
}

static int import_args(import *im, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i] + (argv[i][0] == '-' &&
					   argv[i][1] == '-');

		if (strcmp(a, "-csv") == 0 || strcmp(a, "-ascii") == 0) {
			continue;
		} else if (strcmp(a, "-skip") == 0 && i + 1 < argc) {
			im->skip = atoi(argv[++i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return -1;
		} else if (im->file == NULL) {
			im->file = argv[i];
		} else if (im->table == NULL) {
			im->table = argv[i];
		} else {
			return -1;
		}
	}
	return im->file && im->table ? 0 : -1;
}

static int do_import(shell *sh, int argc, char **argv)
{
	import im;
	char **exists;
	int rc, own_txn, have;

	memset(&im, 0, sizeof(im));
	im.sh = sh;
	if (import_args(&im, argc, argv) != 0)
		return usage(sh_dot_find("import"));
	if ((im.in = fopen(im.file, "rb")) == NULL) {
		app_error(sh, 0, "cannot open \"%s\": %s", im.file,
			  strerror(errno));
		return 1;
	}
	if (fseek(im.in, 0, SEEK_END) == 0)
		im.size = ftell(im.in);
	rewind(im.in);
	exists = app_column0(sh, "SELECT name FROM rdb_tables WHERE name = ?1",
			     im.table);
	have = exists[0] != NULL;
	sh_argv_free(exists);
	im.csv = sh_csv_open(im.in, ',');
	im.t0 = now();
	own_txn = rdb_get_autocommit(sh->db);
	rc = own_txn ? exec1(sh, "BEGIN") : 0;
	if (rc == 0)
		rc = import_rows(&im, have);
	rdb_finalize(im.ins);
	if (own_txn && rc == 0)
		rc = exec1(sh, "COMMIT");
	if (own_txn && rc != 0 && !rdb_get_autocommit(sh->db))
		(void)exec1(sh, "ROLLBACK");
	if (im.progress)
		fprintf(stderr, "\rimported %s: %ld rows%s\n", im.file,
			im.rows, rc ? " (rolled back)" : "          ");
	sh_argv_free(im.types);
	sh_csv_close(im.csv);
	fclose(im.in);
	return rc;
}

/* ====================================================================
 * .kv
 * ==================================================================== */

static int kv_fail(shell *sh, int rc)
{
	app_error(sh, 0, "%s", rc == RDB_OK ? "" : rdb_errmsg(sh->db));
	return 1;
}

static int file_reader(void *arg, void *buf, size_t cap, size_t *got)
{
	*got = fread(buf, 1, cap, (FILE *)arg);
	return ferror((FILE *)arg) ? 1 : 0;
}

static int kv_put(shell *sh, const char *key, const char *val)
{
	FILE *f;
	int rc;

	if (val[0] != '@') {
		rc = rdb_kv_put(sh->db, key, strlen(key), val, strlen(val));
		return rc == RDB_OK ? 0 : kv_fail(sh, rc);
	}
	if ((f = fopen(val + 1, "rb")) == NULL) {
		app_error(sh, 0, "cannot open \"%s\": %s", val + 1,
			  strerror(errno));
		return 1;
	}
	rc = rdb_kv_put_stream(sh->db, key, strlen(key), file_reader, f);
	fclose(f);
	return rc == RDB_OK ? 0 : kv_fail(sh, rc);
}

static int kv_list(shell *sh, const char *prefix)
{
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t n;
	int rc;

	rc = rdb_kv_iter_open(sh->db, prefix, strlen(prefix), &it);
	if (rc != RDB_OK)
		return kv_fail(sh, rc);
	while ((rc = rdb_kv_iter_next(it, &k, &n)) == RDB_ROW) {
		fwrite(k, 1, n, sh->out);
		fputc('\n', sh->out);
	}
	rdb_kv_iter_close(it);
	return rc == RDB_DONE ? 0 : kv_fail(sh, rc);
}

static int do_kv(shell *sh, int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	void *val = NULL;
	size_t n;
	int rc, existed = 0;

	if (strcmp(op, "get") == 0 && argc == 3) {
		rc = rdb_kv_get_alloc(sh->db, argv[2], strlen(argv[2]), &val,
				      &n);
		if (rc == RDB_NOTFOUND) {
			app_error(sh, 0, "no such key: '%s'", argv[2]);
			return 1;
		}
		if (rc != RDB_OK)
			return kv_fail(sh, rc);
		fwrite(val, 1, n, sh->out);
		fputc('\n', sh->out);
		rdb_kv_free(val);
		return 0;
	}
	if (strcmp(op, "put") == 0 && argc == 4)
		return kv_put(sh, argv[2], argv[3]);
	if (strcmp(op, "del") == 0 && argc == 3) {
		rc = rdb_kv_delete(sh->db, argv[2], strlen(argv[2]), &existed);
		if (rc != RDB_OK)
			return kv_fail(sh, rc);
		if (!existed) {
			app_error(sh, 0, "no such key: '%s'", argv[2]);
			return 1;
		}
		return 0;
	}
	if (strcmp(op, "list") == 0 && argc <= 3)
		return kv_list(sh, argc == 3 ? argv[2] : "");
	if (strcmp(op, "compact") == 0 && argc == 2) {
		rc = rdb_kv_compact(sh->db);
		return rc == RDB_OK ? 0 : kv_fail(sh, rc);
	}
	return usage(sh_dot_find("kv"));
}

/* ====================================================================
 * Dispatch
 * ==================================================================== */

static int do_separator(shell *sh, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return usage(sh_dot_find("separator"));
	snprintf(sh->fmt.colsep, sizeof(sh->fmt.colsep), "%s", argv[1]);
	if (argc == 3)
		snprintf(sh->fmt.rowsep, sizeof(sh->fmt.rowsep), "%s",
			 argv[2]);
	return 0;
}

static int do_width(shell *sh, int argc, char **argv)
{
	int i;

	sh->fmt.n_widths = 0;
	for (i = 1; i < argc && i <= SH_MAX_WIDTHS; i++)
		sh->fmt.widths[sh->fmt.n_widths++] = atoi(argv[i]);
	return 0;
}

static int do_misc(shell *sh, const sh_dot *d, int argc, char **argv)
{
	int i;

	if (strcmp(d->name, "print") == 0) {
		for (i = 1; i < argc; i++)
			fprintf(sh->out, "%s%s", i > 1 ? " " : "", argv[i]);
		fputc('\n', sh->out);
		return 0;
	}
	if (strcmp(d->name, "nullvalue") == 0) {
		if (argc != 2)
			return usage(d);
		snprintf(sh->fmt.nullvalue, sizeof(sh->fmt.nullvalue), "%s",
			 argv[1]);
		return 0;
	}
	if (strcmp(d->name, "help") == 0) {
		if (sh_dot_help(sh->out, argc > 1 ? argv[1] : NULL) == 0)
			fprintf(sh->out, "Nothing matches '%s'\n", argv[1]);
		return 0;
	}
	if (strcmp(d->name, "show") == 0) {
		do_show(sh);
		return 0;
	}
	sh->quit = 1;                /* .quit, .exit */
	sh->exit_code = strcmp(d->name, "exit") == 0 && argc > 1
		? atoi(argv[1]) : 0;
	return 2;
}

static int dispatch(shell *sh, const sh_dot *d, int argc, char **argv)
{
	static const char *const flags[] = {
		"bail", "echo", "timer", "changes", "headers",
	};
	const char *n = d->name;
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(n, flags[i]) == 0)
			return set_flag(sh, d, argc, argv);
	if (strcmp(n, "mode") == 0)
		return do_mode(sh, argc, argv);
	if (strcmp(n, "separator") == 0)
		return do_separator(sh, argc, argv);
	if (strcmp(n, "width") == 0)
		return do_width(sh, argc, argv);
	if (strcmp(n, "output") == 0 || strcmp(n, "once") == 0)
		return do_output(sh, argc, argv, n[1] == 'n');
	if (strcmp(n, "open") == 0)
		return do_open(sh, argc, argv);
	if (strcmp(n, "read") == 0)
		return do_read(sh, argc, argv);
	if (strcmp(n, "tables") == 0)
		return do_tables(sh, argc, argv);
	if (strcmp(n, "indexes") == 0 || strcmp(n, "indices") == 0)
		return do_indexes(sh, argc, argv);
	if (strcmp(n, "schema") == 0) {
		print_schema(sh, argc > 1 ? argv[1] : NULL);
		return 0;
	}
	if (strcmp(n, "dump") == 0)
		return do_dump(sh, argc, argv);
	if (strcmp(n, "check") == 0)
		return do_check(sh);
	if (strcmp(n, "stats") == 0)
		return do_stats(sh);
	if (strcmp(n, "import") == 0)
		return do_import(sh, argc, argv);
	if (strcmp(n, "kv") == 0)
		return do_kv(sh, argc, argv);
	return do_misc(sh, d, argc, argv);
}

int app_dot(shell *sh, const char *line)
{
	const sh_dot *d;
	char **argv;
	int argc, rc;

	argc = sh_dot_split(line, &argv);
	if (argc == 0) {
		sh_argv_free(argv);
		return 0;
	}
	if ((d = sh_dot_find(argv[0])) == NULL) {
		fprintf(stderr, "Error: unknown command or invalid arguments: "
			" \"%s\". Enter \".help\" for help\n", argv[0]);
		sh_argv_free(argv);
		return 1;
	}
	rc = dispatch(sh, d, argc, argv);
	fflush(sh->out);
	sh_argv_free(argv);
	return rc;
}
