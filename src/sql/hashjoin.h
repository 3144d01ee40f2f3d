/*
 * hashjoin.h -- hash joins: the inner source of a join step read through
 * a hash table on its equality columns instead of a scan per outer row.
 * Internal to src/sql; join.c calls it.  Plan: plan.c (hash_plan).
 * Design: src/sql/README.md ("Hash joins"); EXPLAIN and the memory
 * budget: docs/sql.md ("Joins").
 *
 * Contract:
 *   - The table is built on the first hj_open() of a query run from the
 *     rows of the source that pass s->hbuild, keyed by the values of
 *     s->hash_slot with s->hash_aff applied, and kept until hj_free()
 *     (src_close(), at the end of the run).  Rows whose key has a NULL
 *     are left out: NULL never equals anything.
 *   - Keys match exactly when "=" with that affinity is true
 *     (sql_compare), so integer 1 finds real 1.0 and text '1' finds 1
 *     under NUMERIC affinity.
 *   - When the rows pass the budget (8 times the page cache in bytes:
 *     64 MiB with the default cache) the table is dropped and s->hash_off
 *     set: the caller reads the source by its nested loop path for the
 *     rest of the run.
 */
#ifndef RDB_SQL_HASHJOIN_H
#define RDB_SQL_HASHJOIN_H
#include "exec.h"

typedef struct hjoin hjoin;

/* Build the table if needed, then look up the key of the current outer
 * rows: the next hj_next() calls return its rows.  On RDB_OK with
 * s->hash_off set, the table was over budget and nothing is positioned;
 * with s->exhausted set, the key had a NULL (no row matches). */
rdb_rc hj_open(sql_prog *p, query *q, qsrc *s);
/* The next row with the looked-up key into s->row: RDB_ROW or RDB_DONE. */
rdb_rc hj_next(qsrc *s);
/* Free the table and forget hash_off.  NULL-safe on s->hj. */
void hj_free(qsrc *s);

/* The bytes a hash table may hold on pager pg (see the contract). */
size_t hj_budget(pager *pg);
/* The row of s->sub_rows that the last hj_next() returned: the rows are
 * numbered in the order they were entered (a table's in key order). */
long hj_row(const qsrc *s);

/* Is source s read through its hash table (planned, within budget)? */
static inline int hj_active(const qsrc *s)
{
	return s->nhash > 0 && !s->hash_off;
}

#endif /* RDB_SQL_HASHJOIN_H */
