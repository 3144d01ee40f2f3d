/*
 * func.h -- the built-in SQL functions: scalar functions looked up by name
 * and argument count for the binder, and aggregate accumulators (with
 * DISTINCT) for the executor.
 *
 * Layer:  sql (internal header).  May include sql/value.h and what it may.
 * Contract:
 *   - Semantics are SQLite's (3.40); see value.h for the value rules
 *     (results never point into an argument's own bytes; they may borrow
 *     what an argument borrowed).  Design: src/sql/README.md, "Values and
 *     functions".
 *   - A scalar function reads argc arguments (within the entry's
 *     min_args..max_args) and writes *out; on failure *out is NULL and
 *     cx->err holds SQLite's message ("integer overflow", "string or blob
 *     too big", ...).
 *   - coalesce, ifnull and iif are plain functions here; an executor may
 *     evaluate their arguments lazily (as SQLite does) with the same
 *     results.
 *   - Aggregates: the executor keeps one sql_agg per group and aggregate
 *     call: sql_agg_init(), sql_agg_step() per row, sql_agg_final() once,
 *     sql_agg_free().  With DISTINCT the first argument's values are
 *     deduplicated (equal as sql_value_cmp() says: 1 and 1.0 are one
 *     value, the first one seen is kept).
 */
#ifndef RDB_SQL_FUNC_H
#define RDB_SQL_FUNC_H
#include "sql/value.h"

typedef rdb_rc (*sql_scalar_fn)(sql_ctx *cx, int argc, const sql_value *argv,
				sql_value *out);

typedef enum sql_agg_kind {
	SQL_AGG_NONE = 0,         /* a scalar function */
	SQL_AGG_COUNT,            /* count(x); count() and count(*) count rows */
	SQL_AGG_SUM,
	SQL_AGG_TOTAL,
	SQL_AGG_AVG,
	SQL_AGG_MIN,
	SQL_AGG_MAX,
	SQL_AGG_GROUP_CONCAT
} sql_agg_kind;

#define SQL_FUNC_DETERMINISTIC 0x01   /* same arguments, same result */

typedef struct sql_func {
	const char *name;         /* lower case */
	int8_t min_args;
	int8_t max_args;          /* -1: no limit */
	uint8_t flags;            /* SQL_FUNC_* */
	sql_agg_kind agg;         /* SQL_AGG_NONE for scalar functions */
	sql_scalar_fn fn;         /* scalar functions only */
} sql_func;

/* Find the function called name (n bytes, ASCII case-insensitive) taking
 * argc arguments (count(*) is argc 0).  min and max with one argument are
 * the aggregates, with more the scalar functions.  *out is borrowed from a
 * static table.  Errors (RDB_ERROR): "no such function: NAME", "wrong
 * number of arguments to function NAME()". */
rdb_rc sql_func_find(const char *name, size_t n, int argc, rdb_err *err,
		     const sql_func **out);

/* ---- DISTINCT ------------------------------------------------------------- */

/* A set of values (a hash table of owned copies). */
typedef struct sql_distinct sql_distinct;

/* On RDB_OK the caller owns *out: free with sql_distinct_free(). */
rdb_rc sql_distinct_new(sql_ctx *cx, sql_distinct **out);
/* Add a copy of v unless an equal value is present; *added says which. */
rdb_rc sql_distinct_add(sql_ctx *cx, sql_distinct *d, const sql_value *v,
			int *added);
/* Is a value equal to v in the set? */
int sql_distinct_has(const sql_distinct *d, const sql_value *v);
/* The memory the set holds, in bytes (its table and its values). */
size_t sql_distinct_bytes(const sql_distinct *d);
size_t sql_distinct_count(const sql_distinct *d);
void sql_distinct_free(sql_distinct *d);                 /* NULL-safe */

/* ---- aggregates ------------------------------------------------------------ */

typedef struct sql_agg {
	sql_agg_kind kind;
	sql_distinct *distinct;   /* owned; NULL without DISTINCT */
	int64_t cnt;              /* values (or rows) counted */
	int64_t isum;             /* sum: exact integer sum */
	double rsum;              /* sum/total/avg: floating sum */
	uint8_t approx;           /* a non-integer was summed */
	uint8_t overflow;         /* the integer sum overflowed */
	uint8_t started;          /* group_concat: a value was appended */
	uint8_t load_row;         /* min/max: after a step, 1 if SQLite would
				     take the group's bare columns from this
				     row (a new best, or a NULL before any
				     value); see sql_agg_step() */
	sql_value best;           /* min/max: owned copy of the best so far */
	rdb_buf text;             /* group_concat: owned */
} sql_agg;

/* Prepare a for the aggregate f (f->agg != SQL_AGG_NONE). */
rdb_rc sql_agg_init(sql_ctx *cx, sql_agg *a, const sql_func *f,
		    int distinct);
/* Feed one row's arguments (argc as looked up; 0 for count(*)).  For
 * min and max, a->load_row then tells whether the other columns of a
 * "SELECT a, max(b)" group come from this row, as in SQLite. */
rdb_rc sql_agg_step(sql_ctx *cx, sql_agg *a, int argc,
		    const sql_value *argv);
/* The result for the rows fed so far (*out owns its bytes).  Errors:
 * sum's "integer overflow", RDB_NOMEM. */
rdb_rc sql_agg_final(sql_ctx *cx, sql_agg *a, sql_value *out);
/* Release what a owns; a may be initialised again.  NULL-safe. */
void sql_agg_free(sql_agg *a);

#endif /* RDB_SQL_FUNC_H */
