/*
 * main.c -- the rdb program: command line, opening the database, running
 * SQL with the current output mode, batch and interactive input (libedit:
 * history in ~/.rdb_history, completion, Ctrl-C through rdb_interrupt).
 * Behaviour follows the sqlite3 shell; src/shell/README.md lists it.
 */
#include "app.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include <editline/readline.h>

shell *sh_app;
volatile sig_atomic_t sh_interrupts;
volatile sig_atomic_t sh_running;

/* ====================================================================
 * Errors, opening
 * ==================================================================== */

void app_error(shell *sh, long line, const char *fmt, ...)
{
	va_list ap;

	(void)sh;
	fflush(stdout);
	if (line > 0)
		fprintf(stderr, "Error: near line %ld: ", line);
	else
		fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int app_open(shell *sh)
{
	rdb_open_opts o = sh->opts;
	int rc;

	if (sh->path == NULL)
		o.flags |= RDB_OPEN_MEMORY;
	rc = rdb_open_v2(sh->path ? sh->path : ":memory:", &sh->db, &o);
	if (rc == RDB_OK)
		return 0;
	app_error(sh, 0, "unable to open database \"%s\": %s",
		  sh->path ? sh->path : ":memory:",
		  sh->db ? rdb_errmsg(sh->db) : rdb_errstr(rc));
	rdb_close(sh->db);
	sh->db = NULL;
	return 1;
}

void app_output_reset(shell *sh)
{
	if (sh->out != stdout) {
		if (sh->out_pipe)
			pclose(sh->out);
		else
			fclose(sh->out);
	}
	sh->out = stdout;
	sh->out_pipe = 0;
	sh->once = 0;
}

/* ====================================================================
 * Running SQL
 * ==================================================================== */

/* The current row of st as typed values. */
static void row_values(rdb_stmt *st, int ncol, sh_value *v)
{
	int i;

	for (i = 0; i < ncol; i++) {
		v[i].type = rdb_column_type(st, i);
		switch (v[i].type) {
		case RDB_INTEGER:
			v[i].i = rdb_column_int64(st, i);
			break;
		case RDB_FLOAT:
			v[i].r = rdb_column_double(st, i);
			break;
		case RDB_TEXT:
			v[i].p = rdb_column_text(st, i);
			v[i].n = (size_t)rdb_column_bytes(st, i);
			break;
		case RDB_BLOB:
			v[i].p = rdb_column_blob(st, i);
			v[i].n = (size_t)rdb_column_bytes(st, i);
			break;
		default:
			v[i].type = RDB_NULL;
			break;
		}
	}
}

/* Step st to its end, printing its rows.  Returns the last step's code. */
static int print_rows(shell *sh, rdb_stmt *st)
{
	int ncol = rdb_column_count(st), rc, i;
	const char **names;
	sh_value *vals;
	sh_out *o;

	rc = rdb_step(st);
	if (rc != RDB_ROW || ncol <= 0) {
		while (rc == RDB_ROW)
			rc = rdb_step(st);
		return rc;
	}
	names = sh_malloc((size_t)ncol * sizeof(*names));
	vals = sh_malloc((size_t)ncol * sizeof(*vals));
	for (i = 0; i < ncol; i++)
		names[i] = rdb_column_name(st, i);
	o = sh_out_begin(&sh->fmt, sh->out, ncol, names);
	do {
		row_values(st, ncol, vals);
		sh_out_row(o, vals);
	} while ((rc = rdb_step(st)) == RDB_ROW);
	sh_out_end(o, rc != RDB_DONE);
	free(names);
	free(vals);
	return rc;
}

/* EXPLAIN QUERY PLAN: its rows (id, parent, notused, detail) as a tree,
 * as sqlite3 shows them whatever the mode. */
static int print_plan(shell *sh, rdb_stmt *st)
{
	sh_eqp e = {0};
	int rc;

	if (rdb_column_count(st) < 4)
		return print_rows(sh, st);
	while ((rc = rdb_step(st)) == RDB_ROW)
		sh_eqp_add(&e, (int)rdb_column_int64(st, 0),
			   (int)rdb_column_int64(st, 1),
			   (const char *)rdb_column_text(st, 3));
	sh_eqp_render(&e, rc == RDB_DONE ? sh->out : NULL);
	return rc;
}

int app_run_sql(shell *sh, const char *sql, long line)
{
	const char *p = sql, *tail = NULL;
	rdb_stmt *st;
	int rc;

	while (*p) {
		st = NULL;
		rc = rdb_prepare(sh->db, p, -1, &st, &tail);
		if (rc != RDB_OK) {
			app_error(sh, line, "%s", rdb_errmsg(sh->db));
			return 1;
		}
		if (st == NULL)
			break;
		rc = sh_is_eqp(p) ? print_plan(sh, st) : print_rows(sh, st);
		if (rc != RDB_DONE) {
			app_error(sh, line, "%s", rc == RDB_INTERRUPT ?
				  "interrupted" : rdb_errmsg(sh->db));
			rdb_finalize(st);
			return 1;
		}
		rdb_finalize(st);
		if (sh->changes)
			fprintf(sh->out, "changes: %lld   total_changes: %lld\n",
				(long long)rdb_changes(sh->db),
				(long long)rdb_total_changes(sh->db));
		if (tail == NULL || tail <= p)
			break;
		p = tail;
	}
	return 0;
}

/* ====================================================================
 * Input
 * ==================================================================== */

static double now_real(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static void cpu_times(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* .once sets once to 2: its own end counts one, the next command's end
 * sends the output back to stdout. */
static void once_done(shell *sh)
{
	if (sh->once > 0 && --sh->once == 0)
		app_output_reset(sh);
}

/* One complete SQL text: echo, timer, run, and .once's end. */
static int run_text(shell *sh, const char *sql, long line)
{
	double r0 = 0, u0 = 0, s0 = 0, u1, s1;
	int rc;

	if (sh->echo) {
		size_t n = strlen(sql);

		while (n > 0 && sql[n - 1] == '\n')
			n--;
		fprintf(sh->out, "%.*s\n", (int)n, sql);
	}
	if (sh->timer) {
		r0 = now_real();
		cpu_times(&u0, &s0);
	}
	sh_interrupts = 0;
	sh_running = 1;
	rc = app_run_sql(sh, sql, line);
	sh_running = 0;
	if (sh->timer) {
		cpu_times(&u1, &s1);
		fprintf(sh->out, "Run Time: real %.3f user %f sys %f\n",
			now_real() - r0, u1 - u0, s1 - s0);
	}
	once_done(sh);
	return rc;
}

static int run_dot(shell *sh, const char *line)
{
	int rc;

	if (sh->echo)
		fprintf(sh->out, "%s\n", line);
	rc = app_dot(sh, line);
	once_done(sh);
	return rc;
}

/* Has completion for the rest of input.c's rule: rdb_complete(). */
static int complete(const char *sql)
{
	return rdb_complete(sql);
}

/* Lines of a batch (a file, a pipe, .read): stop at the end, at .quit,
 * or at the first error under -bail. */
int app_process(shell *sh, FILE *in, int interactive)
{
	sh_input inp;
	sh_str line = {0};
	const char *text;
	long start;
	int k, rc, n_err = 0;

	(void)interactive;
	sh_input_init(&inp, complete);
	while (!sh->quit && sh_read_line(in, &line)) {
		if (sh_interrupts > 0) {   /* Ctrl-C stops a batch */
			n_err++;
			break;
		}
		k = sh_input_feed(&inp, line.p, &text, &start);
		if (k == SH_LINE_DOT) {
			rc = run_dot(sh, text);
		} else if (k == SH_LINE_SQL) {
			rc = run_text(sh, text, start);
		} else {
			continue;
		}
		if (rc == 2)
			break;
		if (rc) {
			n_err++;
			if (sh->bail)
				break;
		}
	}
	if (!sh->quit && !(n_err && sh->bail) && sh_interrupts == 0 &&
	    sh_input_finish(&inp, &text, &start) == SH_LINE_SQL)
		n_err += run_text(sh, text, start);
	sh_input_free(&inp);
	sh_str_free(&line);
	sh->n_err += n_err;
	return n_err > 0;
}

/* ====================================================================
 * Interactive mode
 * ==================================================================== */

static char history_path[4096];

/* Completion candidates for the word being typed: dot-commands at the
 * start of a line, else SQL keywords, table names and column names. */
static char **candidates;

static void load_candidates(int dot)
{
	char **tables = NULL, **cols = NULL;
	size_t n = 0, cap = 256, i;

	sh_argv_free(candidates);
	candidates = sh_malloc(cap * sizeof(*candidates));
#define ADD(s) do {							\
		if (n + 2 > cap) {					\
			cap *= 2;					\
			candidates = sh_realloc(candidates,		\
					cap * sizeof(*candidates));	\
		}							\
		candidates[n++] = sh_strdup(s);				\
	} while (0)
	if (dot) {
		for (i = 0; sh_dots[i].name; i++) {
			char buf[64];

			snprintf(buf, sizeof(buf), ".%s", sh_dots[i].name);
			ADD(buf);
		}
	} else {
		for (i = 0; sh_keywords[i]; i++)
			ADD(sh_keywords[i]);
		tables = app_column0(sh_app, "SELECT name FROM rdb_tables",
				     NULL);
		cols = app_column0(sh_app, "SELECT DISTINCT name FROM "
				   "rdb_columns", NULL);
		for (i = 0; tables && tables[i]; i++)
			ADD(tables[i]);
		for (i = 0; cols && cols[i]; i++)
			ADD(cols[i]);
	}
#undef ADD
	candidates[n] = NULL;
	sh_argv_free(tables);
	sh_argv_free(cols);
}

static char *generate(const char *text, int state)
{
	static size_t idx, len;
	const char *c;

	if (state == 0) {
		idx = 0;
		len = strlen(text);
	}
	while (candidates && (c = candidates[idx]) != NULL) {
		idx++;
		if (strncasecmp(c, text, len) != 0)
			continue;
		if (len > 0 && islower((unsigned char)text[0]) &&
		    sh_is_keyword(c, strlen(c))) {
			char *low = sh_strdup(c), *q;

			for (q = low; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			return low;
		}
		return sh_strdup(c);
	}
	return NULL;
}

static char **attempt_completion(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	load_candidates(start == 0 && rl_line_buffer[0] == '.');
	return rl_completion_matches(text, generate);
}

static void history_setup(void)
{
	const char *home = getenv("HOME");

	if (home == NULL || !*home)
		return;
	snprintf(history_path, sizeof(history_path), "%s/.rdb_history", home);
	stifle_history(2000);
	read_history(history_path);
}

/* Keep a multi-line statement as one history entry, without its final
 * newline. */
static void remember(const char *text)
{
	size_t n = strlen(text);
	char *h;

	while (n > 0 && text[n - 1] == '\n')
		n--;
	if (n == 0)
		return;
	h = sh_strndup(text, n);
	add_history(h);
	free(h);
}

static int interactive_loop(shell *sh)
{
	sh_input inp;
	const char *text;
	long start;
	char *line;
	int k, rc;

	history_setup();
	rl_attempted_completion_function = attempt_completion;
	rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,.";
	sh_input_init(&inp, complete);
	while (!sh->quit) {
		line = readline(sh_input_pending(&inp) ? "   ...> " : "rdb> ");
		if (line == NULL) {
			putchar('\n');
			break;
		}
		k = sh_input_feed(&inp, line, &text, &start);
		sh_interrupts = 0;
		if (k == SH_LINE_DOT) {
			remember(text);
			rc = run_dot(sh, text);
			if (rc == 2)
				sh->quit = 1;
		} else if (k == SH_LINE_SQL) {
			remember(text);
			(void)run_text(sh, text, 0);
		}
		free(line);
		fflush(sh->out);
	}
	sh_input_free(&inp);
	if (history_path[0])
		write_history(history_path);
	sh_argv_free(candidates);
	candidates = NULL;
	return 0;
}

/* Ctrl-C: stop the running statement (it rolls back); three in a row
 * with nothing running end a batch. */
static void on_sigint(int sig)
{
	(void)sig;
	sh_interrupts++;
	if (sh_running && sh_app && sh_app->db)
		rdb_interrupt(sh_app->db);
	if (sh_interrupts > 2 && sh_app && !sh_app->interactive)
		_exit(1);
}

/* ====================================================================
 * main
 * ==================================================================== */

static void banner(const shell *sh)
{
	printf("rdb version %s\n"
	       "Enter \".help\" for usage hints.\n", rdb_libversion());
	if (sh->path == NULL)
		printf("Connected to a transient in-memory database.\n"
		       "Use \".open FILENAME\" to reopen on a persistent "
		       "database.\n");
}

static void read_init(shell *sh, const char *init)
{
	char path[4096];
	const char *home = getenv("HOME");
	FILE *f;

	if (init == NULL) {
		if (home == NULL)
			return;
		snprintf(path, sizeof(path), "%s/.rdbrc", home);
		init = path;
		if (access(init, R_OK) != 0)
			return;
	}
	if ((f = fopen(init, "r")) == NULL) {
		app_error(sh, 0, "cannot open \"%s\": %s", init,
			  strerror(errno));
		sh->n_err++;
		return;
	}
	if (sh->interactive)
		printf("-- Loading resources from %s\n", init);
	(void)app_process(sh, f, 0);
	fclose(f);
}

/* The -cmd commands, then either the SQL arguments or standard input. */
static int run(shell *sh, const sh_args *a)
{
	int i;

	for (i = 0; i < a->n_cmds && !sh->quit; i++) {
		const char *c = a->cmds[i];

		if ((c[0] == '.' ? run_dot(sh, c) : run_text(sh, c, 0)) &&
		    sh->bail)
			return 1;
	}
	if (sh->quit)
		return sh->exit_code;
	if (a->n_sql > 0) {
		for (i = 0; i < a->n_sql && !sh->quit; i++) {
			const char *c = a->sql[i];
			int rc = c[0] == '.' ? run_dot(sh, c)
					     : run_text(sh, c, 0);

			if (rc == 2)
				break;
			if (rc)
				return 1;
		}
		return sh->quit ? sh->exit_code : 0;
	}
	if (sh->interactive) {
		banner(sh);
		interactive_loop(sh);
		return sh->quit ? sh->exit_code : 0;
	}
	app_process(sh, stdin, 0);
	if (sh->quit)
		return sh->exit_code;
	return sh->n_err > 0;
}

int main(int argc, char **argv)
{
	static shell sh;
	char err[256];
	sh_args a;
	int rc;

	if (sh_args_parse(argc, argv, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "rdb: Error: %s\n"
			"Use -help for a list of options.\n", err);
		sh_args_free(&a);
		return 1;
	}
	if (a.help || a.version) {
		if (a.help)
			sh_usage(stdout, "rdb");
		else
			printf("%s\n", rdb_libversion());
		sh_args_free(&a);
		return 0;
	}
	sh.fmt = a.fmt;
	sh.header_set = a.header_set;
	sh.bail = a.bail;
	sh.echo = a.echo;
	sh.out = stdout;
	sh.interactive = a.interactive ||
		(!a.batch && a.n_sql == 0 && isatty(0));
	sh.path = a.file && strcmp(a.file, ":memory:") ? sh_strdup(a.file)
						       : NULL;
	sh.opts.flags = a.readonly ? RDB_OPEN_READONLY
				   : RDB_OPEN_READWRITE | RDB_OPEN_CREATE;
	sh.opts.page_size = a.page_size;
	sh.opts.cache_pages = a.cache_pages;
	sh.opts.sync = a.sync;
	sh_app = &sh;
	signal(SIGINT, on_sigint);
	if (app_open(&sh) != 0) {
		sh_args_free(&a);
		free(sh.path);
		return 1;
	}
	read_init(&sh, a.init);
	rc = run(&sh, &a);
	app_output_reset(&sh);
	if (rdb_close(sh.db) != RDB_OK)
		rc = rc ? rc : 1;
	sh_args_free(&a);
	free(sh.path);
	return rc;
}
