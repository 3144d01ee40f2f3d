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

#endif /* RDB_SHELL_H */
