/*
 * value.h -- runtime values of the SQL layer and the pure evaluation core:
 * conversions, affinity, comparison, operators, CAST, LIKE/GLOB, printf.
 *
 * Layer:  sql (internal header; the executor and the functions use it).
 *         May include table/table.h, buf.h, err.h, mem.h, rdb.h.
 * Contract:
 *   - Semantics are SQLite's (3.40), checked value by value against
 *     libsqlite3 by tests/check_sqlfunc.c.  Design: src/sql/README.md,
 *     "Values and functions".
 *   - A sql_value holds a tbl_value plus where its bytes live (mem):
 *       SQL_MEM_NONE    NULL or a number: no bytes; copy with =.
 *       SQL_MEM_BORROW  text/blob bytes borrowed from elsewhere (a row, a
 *                       constant); valid as long as their source; copy
 *                       with = (the copy borrows the same bytes).
 *       SQL_MEM_INLINE  up to SQL_INLINE_MAX bytes kept in the value's own
 *                       buffer; copy with = (the bytes travel along).
 *       SQL_MEM_HEAP    bytes owned by the value (rdb_malloc); never copy
 *                       with =: use sql_value_copy() or sql_value_move(),
 *                       release with sql_value_free().
 *     Read the bytes through sql_value_ptr() (for SQL_MEM_INLINE the
 *     field v.p is NULL, since a copy would leave it dangling); get a
 *     tbl_value for the table layer with sql_value_tbl().
 *   - Numbers, NULL and texts of at most SQL_INLINE_MAX bytes never
 *     allocate; the rendering of any number fits inline.
 *   - An operator or function writes its result to *out, which the caller
 *     passes uninitialised or freed; *out never points into an argument's
 *     inline buffer or heap bytes, but it may borrow what an argument
 *     borrowed (so it lives as long as that argument's source).  On
 *     failure *out is NULL and the reason is in cx->err.
 *   - Text is UTF-8 and may contain NUL bytes (char(0), blobs cast to
 *     text); like SQLite, functions that read text as a C string stop at
 *     the first NUL (length, LIKE, printf arguments, trim's set).
 *   - No global state: everything per statement lives in the sql_ctx.
 */
#ifndef RDB_SQL_VALUE_H
#define RDB_SQL_VALUE_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "buf.h"
#include "err.h"
#include "num.h"
#include "table/table.h"

/* ---- values -------------------------------------------------------------- */

#define SQL_INLINE_MAX 23

/* The longest text a value may hold (SQLite's SQLITE_MAX_LENGTH): the
 * hard bound of RDB_LIMIT_LENGTH, and its default. */
#define SQL_MAX_LENGTH 1000000000

typedef enum sql_mem {
	SQL_MEM_NONE = 0,
	SQL_MEM_BORROW,
	SQL_MEM_INLINE,
	SQL_MEM_HEAP
} sql_mem;

typedef struct sql_value {
	tbl_value v;               /* class, number, bytes (see sql_value_ptr) */
	uint8_t mem;               /* sql_mem */
	char buf[SQL_INLINE_MAX];  /* the bytes when mem == SQL_MEM_INLINE */
} sql_value;

/* The evaluation context of one statement.  Zero it, then
 * sql_ctx_init(); release with sql_ctx_free(). */
typedef struct sql_ctx {
	rdb_err *err;              /* borrowed: where failures are recorded */
	rdb_buf scratch;           /* owned: reused by printf and friends */
	uint64_t rng;              /* random(): splitmix64 state */
	const size_t *max_len;     /* borrowed: the longest string or blob a
				      value may be (its connection's
				      RDB_LIMIT_LENGTH), read at each use */
} sql_ctx;

/* max_len starts at a constant SQL_MAX_LENGTH; a statement of a
 * connection points it at the connection's limit. */
void sql_ctx_init(sql_ctx *cx, rdb_err *err, uint64_t seed);
/* The longest string or blob cx's values may be (<= SQL_MAX_LENGTH). */
static inline size_t sql_max_len(const sql_ctx *cx)
{
	return *cx->max_len;
}
void sql_ctx_free(sql_ctx *cx);                 /* NULL-safe */
/* The next 64 random bits of cx's generator. */
uint64_t sql_ctx_random(sql_ctx *cx);

static inline const void *sql_value_ptr(const sql_value *x)
{
	return x->mem == SQL_MEM_INLINE ? (const void *)x->buf : x->v.p;
}
static inline tbl_class sql_value_class(const sql_value *x)
{
	return x->v.cls;
}
/* A tbl_value view of x; its bytes are borrowed from x (valid while x is
 * alive and unmoved). */
static inline tbl_value sql_value_tbl(const sql_value *x)
{
	tbl_value t = x->v;

	t.p = sql_value_ptr(x);
	return t;
}

/* Constructors.  They never fail: text and blob ones borrow. */
void sql_value_null(sql_value *out);
void sql_value_int(sql_value *out, int64_t i);
void sql_value_real(sql_value *out, double r);  /* a NaN becomes NULL */
void sql_value_borrow(sql_value *out, tbl_class cls, const void *p,
		      size_t n);
/* Borrow the bytes of t (which must outlive *out). */
void sql_value_from_tbl(sql_value *out, const tbl_value *t);
/* Text or blob with a private copy of n bytes at p (inline if small). */
rdb_rc sql_value_set_bytes(sql_ctx *cx, sql_value *out, tbl_class cls,
			   const void *p, size_t n);
/* Text or blob taking ownership of p (from rdb_malloc, n bytes). */
void sql_value_take(sql_value *out, tbl_class cls, void *p, size_t n);
/* *out = a copy of src that owns its bytes (never borrows). */
rdb_rc sql_value_copy(sql_ctx *cx, sql_value *out, const sql_value *src);
/* *out = src, where out borrows only what src borrowed. */
rdb_rc sql_value_pass(sql_ctx *cx, sql_value *out, const sql_value *src);
/* Make x own its bytes (a borrowed value gets a private copy). */
rdb_rc sql_value_own(sql_ctx *cx, sql_value *x);
/* *dst = *src and src becomes NULL (dst must be free). */
void sql_value_move(sql_value *dst, sql_value *src);
/* Release the bytes x owns; x becomes NULL.  NULL-safe. */
void sql_value_free(sql_value *x);

/* ---- conversions (SQLite's sqlite3AtoF, sqlite3Atoi64, ...) ------------- */

/* The shared rules of num.h (the table layer converts by them too), under
 * the SQL layer's names. */
#define SQL_NUM_TEXT NUM_TEXT
static inline int sql_atof(const char *z, size_t n, double *out)
{
	return num_atof(z, n, out);
}
static inline int sql_atoi64(const char *z, size_t n, int64_t *out)
{
	return num_atoi64(z, n, out);
}
static inline size_t sql_render_int(int64_t i, char buf[SQL_NUM_TEXT])
{
	return num_render_int(i, buf);
}
static inline size_t sql_render_real(double r, char buf[SQL_NUM_TEXT])
{
	return num_render_real(r, buf);
}

/* Conversions of sqlite3_value_int64/double/text: numbers from text and
 * blobs by their numeric prefix; reals to integers clamped. */
int64_t sql_value_to_int(const sql_value *x);
double sql_value_to_real(const sql_value *x);
/* The bytes of x read as text: its own for text and blobs, else its
 * rendering in tmp.  NULL gives *p == NULL. */
void sql_value_text(const sql_value *x, char tmp[SQL_NUM_TEXT],
		    const unsigned char **p, size_t *n);
/* Truth value for WHERE, CASE, AND/OR: -1 for NULL, else 0 or 1 (numeric
 * value != 0; text by its numeric prefix, so '1abc' is true). */
int sql_value_truth(const sql_value *x);
/* 32-bit truncation used where SQLite calls sqlite3_value_int(). */
int32_t sql_value_to_int32(const sql_value *x);

/* ---- affinity (sqlite.org "Datatypes In SQLite", 3 and 4.2) ------------- */

typedef enum sql_aff {
	SQL_AFF_NONE = 0,          /* an expression without affinity */
	SQL_AFF_BLOB,              /* a column of type BLOB/ANY/none */
	SQL_AFF_TEXT,
	SQL_AFF_NUMERIC,
	SQL_AFF_INTEGER,
	SQL_AFF_REAL
} sql_aff;

/* The affinity of a declared type name, by SQLite's rules (INT, CHAR/
 * CLOB/TEXT, BLOB or empty, REAL/FLOA/DOUB, else NUMERIC). */
sql_aff sql_aff_of_name(const char *name, size_t n);
/* The affinity of a column of declared type t. */
sql_aff sql_aff_of_type(tbl_type t);
/* The affinity a comparison applies, from its operands' affinities
 * (SQLite's sqlite3CompareAffinity). */
sql_aff sql_aff_compare(sql_aff left, sql_aff right);
/* Apply affinity in place as a comparison does: NUMERIC/INTEGER/REAL turn
 * text that is entirely a number into that number; TEXT renders numbers;
 * NONE/BLOB change nothing.  Never allocates. */
void sql_value_apply_aff(sql_value *x, sql_aff aff);

/* ---- comparison ----------------------------------------------------------- */

/* SQLite's sqlite3MemCompare with the BINARY collation: NULL < numbers
 * (2 = 2.0, exact between integers and reals) < text < blob. */
int sql_value_cmp(const sql_value *a, const sql_value *b);

typedef enum sql_cmp_op {
	SQL_CMP_EQ, SQL_CMP_NE, SQL_CMP_LT, SQL_CMP_LE, SQL_CMP_GT,
	SQL_CMP_GE, SQL_CMP_IS, SQL_CMP_ISNOT
} sql_cmp_op;

/* a op b after applying aff (from sql_aff_compare()) to both operands:
 * integer 1 or 0, or NULL when an operand is NULL (except IS, IS NOT). */
void sql_compare(sql_cmp_op op, const sql_value *a, const sql_value *b,
		 sql_aff aff, sql_value *out);
/* x IN (list of n values), the list having no affinity and aff being x's
 * own (as SQLite: "a IN (x, y)" is "a = +x OR a = +y"). */
void sql_in(const sql_value *x, const sql_value *list, int n, sql_aff aff,
	    sql_value *out);

/* ---- operators -------------------------------------------------------------- */

typedef enum sql_binop {
	SQL_OP_ADD, SQL_OP_SUB, SQL_OP_MUL, SQL_OP_DIV, SQL_OP_REM,
	SQL_OP_BITAND, SQL_OP_BITOR, SQL_OP_SHL, SQL_OP_SHR, SQL_OP_CONCAT
} sql_binop;

/* a op b.  Arithmetic: integers when both operands are (or read as)
 * integers, overflow of + - * goes to real, x/0 and x%0 are NULL.  Only
 * CONCAT allocates (RDB_NOMEM, RDB_TOOBIG). */
rdb_rc sql_binary(sql_ctx *cx, sql_binop op, const sql_value *a,
		  const sql_value *b, sql_value *out);
void sql_negate(const sql_value *a, sql_value *out);   /* -a, as 0 - a */
void sql_bitnot(const sql_value *a, sql_value *out);   /* ~a */
void sql_not(const sql_value *a, sql_value *out);      /* NOT a */
void sql_and(const sql_value *a, const sql_value *b, sql_value *out);
void sql_or(const sql_value *a, const sql_value *b, sql_value *out);

/* CAST(x AS <type of affinity aff>); SQL_AFF_NONE casts to BLOB. */
rdb_rc sql_cast(sql_ctx *cx, const sql_value *x, sql_aff aff,
		sql_value *out);

/* str LIKE pat [ESCAPE esc] (esc may be NULL), ASCII case-insensitive;
 * str GLOB pat.  Errors: an ESCAPE that is not one character, a pattern
 * longer than 50,000 bytes (RDB_ERROR, SQLite's messages). */
rdb_rc sql_like(sql_ctx *cx, const sql_value *str, const sql_value *pat,
		const sql_value *esc, sql_value *out);
rdb_rc sql_glob(sql_ctx *cx, const sql_value *str, const sql_value *pat,
		sql_value *out);

/* ---- printf ---------------------------------------------------------------- */

/* Append SQLite's printf(fmt, args...) to out (fmt: n bytes, read up to
 * its first NUL).  Conversions %d %i %u %f %e %E %g %G %s %z %q %Q %w %c
 * %x %X %o %p %r %n %%, flags - + space # ! 0 ',', width and precision
 * (numbers or '*').  Missing arguments read as NULL.  An unknown
 * conversion ends the output.  *wrote (may be NULL) tells whether any
 * output was produced, even empty (SQLite's printf() is NULL if not).
 * Errors: RDB_NOMEM, RDB_TOOBIG (out is then left as it was). */
rdb_rc sql_printf(sql_ctx *cx, const char *fmt, size_t n, int argc,
		  const sql_value *argv, rdb_buf *out, int *wrote);

#endif /* RDB_SQL_VALUE_H */
