/*
 * app.h -- the state of the running rdb program, shared by main.c (the
 * input loops, SQL execution, interactive mode) and dot.c (the
 * dot-commands).  These two files call the database through rdb.h; the
 * rest of src/shell does not, so the test program links without them.
 */
#ifndef RDB_SHELL_APP_H
#define RDB_SHELL_APP_H
#include <signal.h>
#include <stdio.h>
#include "shell.h"

typedef struct shell {
	rdb *db;                 /* owned; NULL only while reopening */
	char *path;              /* owned; NULL: in memory */
	rdb_open_opts opts;      /* for .open and the first open */
	sh_format fmt;
	int header_set;          /* headers chosen explicitly */
	FILE *out;               /* stdout, or .output/.once's file */
	int out_pipe;            /* out came from popen() */
	int once;                /* .once: commands left before stdout */
	int bail, echo, timer, changes;
	int interactive;
	int n_err;               /* errors so far (batch exit status) */
	int nesting;             /* .read depth */
	int quit;                /* .quit/.exit seen */
	int exit_code;
} shell;

/* The one shell (for the SIGINT handler). */
extern shell *sh_app;
extern volatile sig_atomic_t sh_interrupts;  /* Ctrl-C since the last
						   command started */
extern volatile sig_atomic_t sh_running;     /* a statement is running */

/* Run every statement of sql (its first line is line, for messages;
 * 0: no line number).  Returns 0, or 1 after reporting an error. */
int app_run_sql(shell *sh, const char *sql, long line);
/* Run one dot-command line.  Returns 0, 1 after an error, 2 to quit. */
int app_dot(shell *sh, const char *line);
/* Process all lines of in (name for messages).  Returns 0 or 1. */
int app_process(shell *sh, FILE *in, int interactive);
/* Open sh->path (NULL: memory) with sh->opts into sh->db, reporting an
 * error on stderr.  Returns 0 or 1. */
int app_open(shell *sh);
/* Back to stdout after .output/.once. */
void app_output_reset(shell *sh);
/* Print an error: "Error: msg" ("Error: near line N: msg" for N > 0). */
void app_error(shell *sh, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The first column of every row of sql (with one text parameter, may be
 * NULL) as a NULL-terminated array; free with sh_argv_free. */
char **app_column0(shell *sh, const char *sql, const char *param);

#endif /* RDB_SHELL_APP_H */
