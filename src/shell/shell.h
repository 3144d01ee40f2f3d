/*
 * shell.h -- the pieces of the rdb command-line shell that do not talk to
 * the database: result formatting (output.c), the CSV reader (csv.c),
 * command-line and dot-command parsing (args.c) and statement assembly
 * from input lines (input.c).
 *
 * Layer:  shell (top).  May include only include/rdb.h and its own files.
 * Contract:
 *   - The reference for every byte printed is the sqlite3 shell (3.40,
 *     the one Debian 12 ships); src/shell/README.md lists the choices.
 *   - The shell is a program, not the library: it allocates with the C
 *     library through sh_malloc() & co., which print "Error: out of
 *     memory" and exit on failure, as sqlite3's shell does.
 */
#ifndef RDB_SHELL_H
#define RDB_SHELL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "rdb.h"

/* ---- memory (exit on failure) --------------------------------------- */

void *sh_malloc(size_t n);
void *sh_realloc(void *p, size_t n);
char *sh_strdup(const char *s);
char *sh_strndup(const char *s, size_t n);

/* A growable NUL-terminated string.  Zero-initialise; free s->p. */
typedef struct sh_str {
	char *p;                 /* owned; NULL until the first append */
	size_t len;
	size_t cap;
} sh_str;
void sh_str_add(sh_str *s, const void *bytes, size_t n);
void sh_str_adds(sh_str *s, const char *z);
void sh_str_addf(sh_str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sh_str_free(sh_str *s);

/* ---- output modes (output.c) ---------------------------------------- */

typedef enum sh_mode {
	SH_MODE_LIST,
	SH_MODE_CSV,
	SH_MODE_TABS,
	SH_MODE_LINE,
	SH_MODE_JSON,
	SH_MODE_BOX,
	SH_MODE_TABLE,
	SH_MODE_MARKDOWN,
	SH_MODE_QUOTE,
	SH_MODE_COLUMN,
	SH_MODE_HTML,
	SH_MODE_INSERT,
	SH_MODE_COUNT_
} sh_mode;

/* The mode's name as .mode takes it ("list"), and back (-1 if unknown;
 * unique prefixes are not accepted: sqlite3 3.40 takes whole names). */
const char *sh_mode_name(sh_mode m);
int sh_mode_parse(const char *name);
/* 1 for the modes that lay rows out in aligned columns. */
int sh_mode_columnar(sh_mode m);

#define SH_MAX_WIDTHS 100
#define SH_SEP_MAX 20

/* Everything .mode, .headers, .separator, .nullvalue and .width set. */
typedef struct sh_format {
	sh_mode mode;
	int header;              /* print column names */
	char colsep[SH_SEP_MAX];
	char rowsep[SH_SEP_MAX];
	char nullvalue[SH_SEP_MAX];
	int widths[SH_MAX_WIDTHS];   /* .width; 0 = automatic, < 0 right */
	int n_widths;
	int wrap;                /* columnar: wrap cells wider than this */
	int wordwrap;            /* columnar: wrap at word boundaries */
	int quote;               /* columnar: show values as SQL literals */
	char table[128];         /* insert mode: the table name */
} sh_format;

/* The settings of `sqlite3` started without options (list, "|", "\n"). */
void sh_format_default(sh_format *f);
/* Switch f to mode m as sqlite3's ".mode m" does (separators, and the
 * header and wrap defaults of the columnar modes).  header_set says
 * whether the user chose headers explicitly (then they stay). */
void sh_format_set_mode(sh_format *f, sh_mode m, int header_set);

/* The table name of insert mode, quoted as sqlite3 does when needed. */
void sh_format_set_table(sh_format *f, const char *name);

/* What the command-line option -<m> does (sqlite3 3.40 main()): csv and
 * quote set "," between columns, tabs "\t"; nothing else changes. */
void sh_format_flag_mode(sh_format *f, sh_mode m);

/* One typed value of a result row (what rdb_column_* return). */
typedef struct sh_value {
	int type;                /* RDB_INTEGER, RDB_FLOAT, RDB_TEXT, ... */
	int64_t i;
	double r;
	const void *p;           /* text or blob bytes; borrowed */
	size_t n;
} sh_value;

/*
 * sqlite's "%!.<prec>g": up to prec significant digits, always a '.'
 * ("1.0", "1.0e+20"), exponent of at least two digits, "Inf"/"-Inf".
 * The digits come from sqlite 3.40's long-double algorithm, so they are
 * the same bytes sqlite3 prints (prec 15 for REAL as text, 20 for quote
 * and json modes).  buf needs 64 bytes.
 */
void sh_real_text(double r, int prec, char *buf);

/* The output of one statement: header and rows in the current format. */
typedef struct sh_out sh_out;

/* Start a result set of ncol columns named names[] (borrowed for the
 * call; NULL names print as "").  f is copied.  Free with sh_out_end. */
sh_out *sh_out_begin(const sh_format *f, FILE *out, int ncol,
		     const char *const *names);
/* Print (or, in the columnar modes, keep) one row of ncol values. */
void sh_out_row(sh_out *o, const sh_value *vals);
/* Finish: the columnar modes print here; json closes its array.  Frees
 * o (NULL-safe).  An interrupted result (stop != 0) prints what the
 * columnar modes gathered so far only if stop == 0. */
void sh_out_end(sh_out *o, int stop);

/*
 * The rows of EXPLAIN QUERY PLAN (id, parent id, detail) drawn as
 * sqlite3 draws them in every mode: "QUERY PLAN", then one line per row
 * under its parent with "|--" / "`--" and "|  " / "   " indentation.
 */
typedef struct sh_eqp {
	int n, cap;
	int *id, *parent;        /* owned */
	char **detail;           /* owned */
} sh_eqp;
void sh_eqp_add(sh_eqp *e, int id, int parent, const char *detail);
/* Print the tree (nothing for no rows or a NULL out) and empty e. */
void sh_eqp_render(sh_eqp *e, FILE *out);
/* 1 if sql starts with EXPLAIN QUERY PLAN (after blanks and comments). */
int sh_is_eqp(const char *sql);

/* Text helpers shared with the dot-commands. */
void sh_print_quoted(FILE *out, const char *z);   /* 'it''s' */
void sh_print_hex_blob(FILE *out, const void *p, size_t n);  /* X'00ff' */
/* 1 if name must be quoted as an SQL identifier (not [A-Za-z_][\w]* or a
 * keyword). */
int sh_ident_needs_quote(const char *name);
/* 1 if word (n bytes) is an SQL keyword, case-insensitively. */
int sh_is_keyword(const char *word, size_t n);
/* The keyword list (NULL-terminated), for tab completion. */
extern const char *const sh_keywords[];
/* Characters of a UTF-8 string (continuation bytes are not counted). */
int sh_utf8_chars(const char *z);

/* ---- CSV reader for .import (csv.c) ----------------------------------- */

/*
 * RFC 4180 records: fields separated by sep, records ended by LF or CRLF
 * (or the end of the file), fields in double quotes may hold sep, quotes
 * (doubled) and line breaks.  Stricter than sqlite3, so that .import
 * never loads half a file: a quote inside an unquoted field, anything but
 * sep or a line break after a closing quote, or a quote left open at the
 * end is an error naming the line.  Blank lines are skipped; a UTF-8 BOM
 * at the start is ignored.
 */
typedef struct sh_csv sh_csv;

/* Read from in (borrowed; must outlive the reader). */
sh_csv *sh_csv_open(FILE *in, char sep);
void sh_csv_close(sh_csv *c);             /* NULL-safe; does not fclose */
/*
 * The next record: RDB_ROW with *n fields in *fields (NUL-terminated,
 * lengths in *lens; borrowed until the next call), RDB_DONE at the end,
 * RDB_ERROR for a malformed record (sh_csv_errmsg() says why and where).
 */
int sh_csv_next(sh_csv *c, char ***fields, size_t **lens, int *n);
/* The line on which the last record returned started (1-based). */
long sh_csv_line(const sh_csv *c);
const char *sh_csv_errmsg(const sh_csv *c);

/* ---- command line and dot-commands (args.c) ------------------------- */

/* The command line: rdb [OPTIONS] [FILE] [SQL...] */
typedef struct sh_args {
	sh_format fmt;           /* after -csv, -header, -separator, ... */
	int header_set;          /* -header or -noheader was given */
	int bail, batch, interactive, echo, readonly;
	int version, help;
	const char *file;        /* borrowed from argv; NULL: in memory */
	const char **sql;        /* owned array of borrowed strings */
	int n_sql;
	const char **cmds;       /* -cmd COMMAND, in order (owned array) */
	int n_cmds;
	const char *init;        /* -init FILE */
	unsigned page_size;      /* -pagesize; 0: default */
	long cache_pages;        /* -cachesize; 0: default */
	int sync;                /* -sync: RDB_SYNC_*; 0: default */
} sh_args;

/*
 * Parse argv (one or two leading dashes per option, in any order, the
 * first other word is FILE, the rest SQL).  Returns 0, or -1 with a
 * message such as "unknown option: -x" in err.  Free with sh_args_free.
 */
int sh_args_parse(int argc, char **argv, sh_args *a, char *err,
		  size_t errcap);
void sh_args_free(sh_args *a);
/* The -help text. */
void sh_usage(FILE *out, const char *argv0);

/*
 * Split a dot-command line as sqlite3 does: words separated by spaces;
 * '...' taken literally; "..." and bare words with backslash escapes
 * (\t \n \r \\ \" \' \NNN octal ...).  The leading '.' is not part of
 * argv[0].  Returns argc (argv[argc] is NULL); free with sh_argv_free.
 */
int sh_dot_split(const char *line, char ***argv);
void sh_argv_free(char **argv);
/* Resolve backslash escapes of z in place. */
void sh_unescape(char *z);

/* The dot-command table. */
typedef struct sh_dot {
	const char *name;        /* "mode" */
	int min;                 /* shortest prefix accepted */
	const char *usage;       /* ".mode MODE ?OPTIONS?" */
	const char *help;        /* one line; more lines after '\n' */
} sh_dot;
/* The command named by word (a whole name or an accepted prefix), or
 * NULL. */
const sh_dot *sh_dot_find(const char *word);
/* All commands, ending with a NULL name. */
extern const sh_dot sh_dots[];
/* .help [TOPIC]: every command, or those whose name starts with topic
 * (with their details).  Returns how many were printed. */
int sh_dot_help(FILE *out, const char *topic);
/* "on"/"yes"/"true" or a non-zero integer -> 1, "off"/"no"/"false"/0 ->
 * 0, else -1. */
int sh_bool(const char *z);

/* ---- statements from input lines (input.c) -------------------------- */

/*
 * Lines in, statements out, as sqlite3's batch loop does it: a line that
 * starts with '.' when no statement is pending is a dot-command; '#'
 * lines and lines of only whitespace or comments are skipped; other lines
 * accumulate until the text ends with ';' outside quotes and comments and
 * complete() (rdb_complete in the program) agrees.  A line holding only
 * "/" or "go" ends the pending statement like ';'.
 */
typedef struct sh_input {
	sh_str sql;              /* pending statement text, lines + "\n" */
	long lineno;             /* lines fed so far */
	long start;              /* line on which the pending text began */
	unsigned state;          /* scanner state between lines */
	int (*complete)(const char *sql);  /* NULL: the ';' test alone */
} sh_input;

enum {
	SH_LINE_MORE,            /* part of a statement: read on */
	SH_LINE_SKIP,            /* nothing to run (blank, comment, #) */
	SH_LINE_DOT,             /* *text is a dot-command line */
	SH_LINE_SQL              /* *text is complete SQL to run */
};

void sh_input_init(sh_input *in, int (*complete)(const char *sql));
void sh_input_free(sh_input *in);
/* Feed one line (no newline).  For DOT and SQL, *text is borrowed until
 * the next call and *start is its first line number. */
int sh_input_feed(sh_input *in, const char *line, const char **text,
		  long *start);
/* At the end of the input: SH_LINE_SQL with a pending statement that was
 * never terminated (sqlite3 runs it too), else SH_LINE_SKIP. */
int sh_input_finish(sh_input *in, const char **text, long *start);
/* 1 while a statement is pending (the continuation prompt shows). */
int sh_input_pending(const sh_input *in);

/* Read one line of f into s without its "\n" or "\r\n".  Returns 0 at the
 * end of the input (nothing read), else 1. */
int sh_read_line(FILE *f, sh_str *s);

#endif /* RDB_SHELL_H */
