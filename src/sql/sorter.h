/*
 * sorter.h -- an external sorter for the sql layer: rows of tbl_values
 * are kept in memory up to a byte budget; past it, the rows so far are
 * sorted into a run written to a private spill file, and the runs are
 * merged (k-way, through a heap; in several passes when there are more
 * runs than the budget holds pages for).  ORDER BY, GROUP BY (when its
 * groups outgrow the budget), compound selects and the materialized
 * output of grouped queries go through it.
 *
 * Layer:  sql (internal to src/sql).  Uses os.h through pager/pager.h:
 *         the spill file is a plain page file of the same vfs as the
 *         database, not a pager file (src/sql/README.md, "Sorting").
 * Contract:
 *   - Life cycle: sorter_new(), any number of sorter_add(), one
 *     sorter_finish(), then sorter_next() until RDB_DONE; sorter_free()
 *     at any point (NULL-safe) releases everything, the spill file
 *     included (it is removed from its folder as soon as it is created,
 *     so nothing is left behind even by a crash).
 *   - sorter_add() copies the row and its bytes.  Rows come out of
 *     sorter_next() ordered by the key columns as mrows_sort() orders
 *     them, stable (equal keys keep the order they were added in).
 *   - With a limit (top-N), the first `limit` of those rows come out,
 *     the same ones a full sort would give first, perhaps followed by
 *     more (when the kept rows outgrew the budget, the sorter became a
 *     plain one): the caller still stops after `limit` rows.
 *   - The row given by sorter_next() is borrowed: valid until the next
 *     call on the sorter.
 *   - Fallible calls return rdb_rc with the reason in the rdb_err given
 *     to sorter_new(): RDB_NOMEM, the vfs's RDB_CANTOPEN / RDB_IOERR /
 *     RDB_FULL, and RDB_CORRUPT when a page read back fails its checksum
 *     or holds a malformed record.  After an error the only useful call is
 *     sorter_free(); nothing leaks.
 *   - Nothing here prints, exits or aborts (asserts excepted).
 */
#ifndef RDB_SQL_SORTER_H
#define RDB_SQL_SORTER_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "err.h"
#include "pager/pager.h"
#include "table/table.h"

typedef struct sorter sorter;          /* opaque */

/* The order of the rows. */
#define SORTER_KEEP_ORDER (-1)         /* ncols: no sort; rows come out in
					  the order they were added */

typedef struct sorter_opts {
	int width;                /* values per row, >= 1 */
	int ncols;                /* key columns: > 0 with cols/desc/
				     nulls_first; 0: every column ascending
				     (NULLs first); SORTER_KEEP_ORDER */
	const int *cols;          /* ncols column indexes (copied) */
	const int *desc;          /* ncols flags (copied; NULL: none) */
	const int *nulls_first;   /* ncols flags (copied; NULL: NULLs first
				     ascending, last descending) */
	int dedupe;               /* with ncols 0: rows equal to the row
				     before (tbl_value_cmp) are dropped */
	long limit;               /* > 0 with ncols > 0: only the first
				     `limit` rows of the sorted output are
				     wanted (top-N: at most that many rows
				     are kept, in a heap); 0: all */
	size_t budget;            /* bytes of rows held in memory */
	uint32_t page_size;       /* spill file page size, 512..65536 */
	os_vfs *vfs;              /* borrowed: must outlive the sorter;
				     NULL only with budget SIZE_MAX (never
				     spills) */
} sorter_opts;

typedef struct sorter_stats {
	long rows;                /* rows added */
	long runs;                /* runs written to the spill file */
	long passes;              /* merge passes that wrote a run */
	uint64_t pages;           /* pages written to the spill file */
	int fan_in;               /* runs merged at once */
	long dropped;             /* top-N: rows dropped as past the limit */
	int topn_off;             /* top-N: the kept rows passed the budget
				     and it became a plain sort */
} sorter_stats;

/* The budget for a statement running in t: half the pager's cache
 * (cache_pages * page_size / 2), at least SORTER_MIN_BUDGET; page size and
 * vfs those of t's pager; with t NULL, an unlimited budget.  Sets every
 * field of o but width and the key (dedupe 0, limit 0). */
#define SORTER_MIN_BUDGET (64u * 1024u)
void sorter_opts_for(pager_txn *t, sorter_opts *o);

/* On RDB_OK the caller owns *out (free with sorter_free()).  err is
 * borrowed and must outlive *out.  RDB_MISUSE for bad options. */
rdb_rc sorter_new(const sorter_opts *o, rdb_err *err, sorter **out);
void sorter_free(sorter *s);                          /* NULL-safe */

/* Add a copy of row[0 .. width).  May write a run (I/O errors). */
rdb_rc sorter_add(sorter *s, const tbl_value *row);
/* No more rows: sort in memory, or write the last run and merge runs
 * until one pass of merging is left. */
rdb_rc sorter_finish(sorter *s);
/* RDB_ROW with *row the next row (borrowed, see the contract), RDB_DONE
 * after the last, or an error. */
rdb_rc sorter_next(sorter *s, const tbl_value **row);
/* Rows added so far. */
long sorter_count(const sorter *s);
/* Has a run been written to the spill file? */
int sorter_spilled(const sorter *s);
void sorter_get_stats(const sorter *s, sorter_stats *out);

#endif /* RDB_SQL_SORTER_H */
