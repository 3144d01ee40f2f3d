/*
 * slt.h -- the sqllogictest runner's internal interfaces: the engine
 * interface its backends implement (rdb through include/rdb.h, SQLite
 * through libsqlite3), result formatting and hashing, and the expectation
 * and exception lists.  Format, usage and file formats: tests/slt/README.md.
 *
 * This is a test program, not library code: it prints, exits on bad
 * usage and allocates with malloc (through the x* helpers, which exit on
 * out-of-memory).
 */
#ifndef RDB_SLT_H
#define RDB_SLT_H
#include <stddef.h>
#include <stdint.h>

/* ---- engines -------------------------------------------------------- */

/* Value types reported by column_type (sqlite3's numbering). */
#define SLT_INTEGER 1
#define SLT_FLOAT 2
#define SLT_TEXT 3
#define SLT_BLOB 4
#define SLT_NULL 5

/* step results */
#define SLT_ROW 1
#define SLT_DONE 0
#define SLT_ERR (-1)

/*
 * One database engine.  Handles (db, stmt) are the engine's own objects
 * behind void pointers.  Calls that fail write a one-line reason into
 * msg (cap bytes, always NUL-terminated) and return non-zero / SLT_ERR.
 */
typedef struct slt_engine {
	const char *name;    /* the name skipif/onlyif records match */
	/* Open a new empty database: in memory if path is NULL, else the
	 * file path (which does not exist yet).  On success *db is owned by
	 * the caller and closed with close(). */
	int (*open)(const char *path, void **db, char *msg, size_t cap);
	void (*close)(void *db);                       /* NULL-safe */
	/* Compile the first statement at *sql and move *sql past it.
	 * *stmt is NULL when only whitespace or comments were left. */
	int (*prepare)(void *db, const char **sql, void **stmt, char *msg,
		       size_t cap);
	int (*step)(void *stmt, char *msg, size_t cap); /* SLT_ROW/DONE/ERR */
	int (*column_count)(void *stmt);
	int (*column_type)(void *stmt, int i);          /* SLT_INTEGER... */
	int64_t (*column_int64)(void *stmt, int i);
	double (*column_double)(void *stmt, int i);
	/* borrowed until the next step or finalize; NULL for SQL NULL */
	const char *(*column_text)(void *stmt, int i);
	void (*finalize)(void *stmt);                  /* NULL-safe */
} slt_engine;

extern const slt_engine slt_sqlite_engine;
/* NULL when librdb has no SQL API yet (see SLT_HAVE_RDB_SQL). */
extern const slt_engine *const slt_rdb_engine;

/* ---- results (slt_result.c) ----------------------------------------- */

/* A query's values as the format prints them, row-major. */
typedef struct slt_values {
	char **v;            /* owned: n strings, each owned */
	size_t n;
	size_t cap;
} slt_values;

void slt_values_add(slt_values *vs, const char *s, size_t len);
void slt_values_clear(slt_values *vs);      /* frees the strings, keeps v */
void slt_values_free(slt_values *vs);

/*
 * Run the query st (already prepared on eng) to the end and append its
 * values, formatted for the type letters in types ('I', 'R', 'T'), to
 * out.  Returns 0; 1 with a reason in msg when the column count differs
 * from strlen(types) or a letter is unknown; 2 with the engine's message
 * in msg when a step failed (out keeps the rows before it).
 */
int slt_collect(const slt_engine *eng, void *st, const char *types,
		slt_values *out, char *msg, size_t cap);

/* Sort rows of ncols values (rowsort: ncols = columns; valuesort: 1) by
 * strcmp, column by column. */
void slt_sort(slt_values *vs, size_t ncols);

/* MD5 of the values, each followed by "\n", as 32 lower-case hex digits
 * into hex (33 bytes). */
void slt_md5(char *const *v, size_t n, char hex[33]);

/* ---- expectations and exceptions (slt_expect.c) ---------------------- */

/* The key a path is listed under: the path without leading "./" and
 * "../" components.  Borrowed from path. */
const char *slt_path_key(const char *path);
/* Does the file at path match the listed key? (equal, or path ends with
 * "/" key). */
int slt_path_matches(const char *path, const char *key);

typedef struct slt_list slt_list;   /* line-number sets per file */

/* Read an expectation file (ranges of record lines known to pass).
 * Exits with a message on a malformed line.  A missing file is an error
 * unless may_be_missing. */
slt_list *slt_expect_read(const char *path, int may_be_missing);
/* Read an exception list ("file:line docs/sql.md#section reason"). */
slt_list *slt_exceptions_read(const char *path);
void slt_list_free(slt_list *l);

/* The entry of l for the test file at path, or -1 if none. */
int slt_list_find(const slt_list *l, const char *path);
/* Is line listed in entry e?  Marks the line as seen when listed. */
int slt_list_has(slt_list *l, int e, int line);
/* The reason and section of the exception at (e, line), or NULL. */
const char *slt_list_reason(const slt_list *l, int e, int line);
/*
 * After running entry e's file, whose record lines are rec[0..n): report
 * (to stderr, prefixed by path) listed lines or range ends that are not
 * record lines.  Returns how many were reported.
 */
int slt_list_stale(const slt_list *l, int e, const char *path,
		   const int *rec, size_t n);

/*
 * Rewrite the expectation file at path: the files run in this invocation
 * (paths[k], whose records start at lines recs[k][0..n_recs[k]) and passed
 * where oks[k][i] is 1) replace their old entries; entries of other files
 * are kept.  Returns 0 or non-zero after printing the reason.
 */
int slt_expect_write(const char *path, const slt_list *old, size_t n_files,
		     char *const *paths, int *const *recs,
		     unsigned char *const *oks, const size_t *n_recs);

/* ---- helpers -------------------------------------------------------- */

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
/* snprintf into msg that never overflows and always terminates */
void slt_msg(char *msg, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* RDB_SLT_H */
