/*
 * exec.h -- compiled statements of the sql layer: bound expressions,
 * query plans (sources with their access paths, grouping, ordering) and
 * the programs that run them.  Internal to src/sql.  Design:
 * src/sql/README.md ("Binding and planning", "Execution").
 *
 * Ownership: a program (sql_prog) owns its parse tree, and everything the
 * binder adds lives in that tree's arena or is owned by the program; all
 * of it is freed by prog_free().  Runtime state (cursors, materialized
 * rows) is owned by the program between prog_start() and prog_stop().
 */
#ifndef RDB_SQL_EXEC_H
#define RDB_SQL_EXEC_H
#include "sql_int.h"
#include "sql/ast.h"
#include "sql/value.h"
#include "sql/func.h"
#include "sql/sorter.h"

typedef struct query query;
typedef struct run run;
typedef struct sgroup sgroup;
typedef struct hgroup hgroup;

/* ---- materialized rows (sorting, grouping, compounds, subqueries) ---------
 * Rows of `width` tbl_values whose text and blob bytes live in chunks the
 * set owns: pointers into it stay valid until mrows_free(), even while the
 * set grows (mrows.c). */
typedef struct mchunk mchunk;

typedef struct mrows {
	int width;                /* values per row */
	long n, cap;              /* rows */
	tbl_value *v;             /* owned: n * width values */
	mchunk *bytes;            /* owned: where their bytes live */
} mrows;

void mrows_init(mrows *m, int width);
/* Append a row: copies of vals[0..width) and their bytes. */
rdb_rc mrows_add(mrows *m, const tbl_value *vals, rdb_err *err);
/* Append one value to a row being built value by value (see mrows_row). */
rdb_rc mrows_copy_bytes(mrows *m, tbl_value *v, rdb_err *err);
static inline tbl_value *mrows_row(const mrows *m, long i)
{
	return m->v + (size_t)i * (size_t)m->width;
}
void mrows_reset(mrows *m);               /* drop the rows, keep width */
void mrows_free(mrows *m);                /* NULL-safe */
/* Sort rows by the given columns (desc / nulls_first per column, n
 * columns), stable; or, with ncols 0, by every column ascending. */
rdb_rc mrows_sort(mrows *m, int ncols, const int *cols, const int *desc,
		  const int *nulls_first, rdb_err *err);
/* After mrows_sort() with ncols 0: drop rows equal to their predecessor. */
void mrows_dedupe(mrows *m);
/* Copy src[0..n) into dst[0..n), their text and blob bytes into b (reset
 * first): dst borrows from b until b next changes. */
rdb_rc mrows_copy_row(rdb_buf *b, tbl_value *dst, const tbl_value *src,
		      int n, rdb_err *err);
/* Is v in the sorted one-column rows of m (tbl_value_cmp equality)? */
int mrows_find(const mrows *m, const tbl_value *v);


/* ---- bound expressions ------------------------------------------------------
 * The binder hangs an xinfo on every expression node (sql_expr.aux_p). */
typedef enum xkind {
	XK_PLAIN = 0,             /* evaluated from its operands */
	XK_COL,                   /* a column of a source (up levels out) */
	XK_AGG,                   /* an aggregate's result in the group */
	XK_FUNC,                  /* a scalar function */
	XK_SUBQ,                  /* scalar subquery, EXISTS, IN (select) */
	XK_OUTCOL,                /* ORDER BY naming a result column */
	XK_ALIAS,                 /* a result alias: evaluates target */
	XK_CONN                   /* changes(), total_changes(),
				     last_insert_rowid(): slot says which */
} xkind;

typedef struct xinfo {
	xkind kind;
	int up;                   /* XK_COL: query levels outwards */
	int src;                  /* XK_COL: source of that query */
	int slot;                 /* XK_COL: value slot; XK_AGG: aggregate;
				     XK_OUTCOL: result column */
	sql_aff aff;              /* the expression's affinity */
	const sql_func *fn;       /* XK_FUNC, XK_AGG */
	const char *decl;         /* XK_COL, XK_SUBQ (scalar): declared
				     type, or NULL (query_decl()) */
	const sql_expr *target;   /* XK_ALIAS: the aliased expression */
	query *sub;               /* XK_SUBQ */
	int correlated;           /* XK_SUBQ: uses outer columns */
	int const_list;           /* IN (list) of constants: sorted once */
	int constant;             /* no columns, no aggregates, no subquery
				     that changes: same value all run */
	int cached;               /* runtime: cache (or list) is valid */
	mrows list;               /* runtime, IN (select): sorted values */
	int list_null;            /* runtime: the list holds a NULL */
	sql_value cache;          /* runtime, owned */
	struct xinfo *next_cached;/* list of caches to clear per run */
} xinfo;

static inline xinfo *xi(const sql_expr *e)
{
	return (xinfo *)e->aux_p;
}

/* ---- sources and access paths ---------------------------------------------- */

#define HJ_MAX_COLS 8            /* equality columns of a hash join */

typedef enum access {
	ACC_SCAN = 0,             /* every row of the table (or index) */
	ACC_RANGE,                /* key prefix equalities and/or a range */
	ACC_ROWS                  /* a materialized subquery */
} access;

typedef struct qsrc {
	const char *name;         /* alias, else table name (borrowed) */
	const tbl_table *tb;      /* borrowed from the schema; NULL for a
				     subquery */
	query *sub;               /* FROM (select): materialized */
	int left;                 /* LEFT JOIN: NULL row if nothing matches */
	int nvals;                /* values per row */
	const char **colnames;    /* subquery: its result names */
	uint8_t *using_hidden;    /* per slot: merged by USING/NATURAL into
				     an earlier source (arena), or NULL */
	sql_expr **on;            /* LEFT JOIN: ON conjuncts (arena) */
	int non;
	/* access path */
	access acc;
	const tbl_index *ix;      /* NULL: the table's own key */
	int nkey;                 /* components of the chosen key */
	int key_slot[2 * TBL_MAX_KEY_COLS];   /* their row slots ... */
	uint8_t key_desc[2 * TBL_MAX_KEY_COLS];  /* ... and directions */
	int neq;                  /* leading key columns fixed by equality */
	sql_expr *eq[TBL_MAX_KEY_COLS];   /* the values (not the terms) */
	sql_aff eq_aff[TBL_MAX_KEY_COLS]; /* affinity applied to them */
	sql_expr *in;             /* IN (list) term on key column neq */
	sql_aff in_aff;
	sql_expr *lo, *hi;        /* range values on key column neq */
	sql_aff lo_aff, hi_aff;
	int lo_incl, hi_incl;
	int reverse;              /* scan backwards (ORDER BY ... DESC) */
	int covering;             /* runtime: rows come from the index
				     entries alone (cover_ok() in join.c) */
	int sel;                  /* a SELECT's source: needs only the
				     slots in `used` */
	uint64_t used;            /* slots read by the query: bit i for slot
				     i < 63, bit 63 for any slot >= 63 */
	sql_expr **filt;          /* conjuncts checked once this source has
				     a row (arena) */
	int nfilt;
	/* runtime */
	tbl_cursor *cur;          /* owned while open */
	int in_pos;               /* next IN list item */
	int matched;              /* LEFT JOIN: a row matched this round */
	int null_row;             /* LEFT JOIN: emitting the NULL row */
	int null_done;            /* LEFT JOIN: the NULL row was produced */
	int exhausted;            /* no more rows this round */
	mrows inv;                /* owned: IN list values in key order */
	mrows sub_rows;           /* owned: a FROM subquery's rows */
	int sub_ready;            /* sub_rows holds this run's rows */
	int cache_scan;           /* an inner full scan: read the table once
				     into sub_rows, then from memory */
	int cache_off;            /* runtime: the table was too big for it */
	const tbl_value *row;     /* current row: nvals values */
	uint64_t nrow;            /* rows it has produced (join_next): a
				     new value means a new current row */
	tbl_value *nulls;         /* owned: nvals NULLs */
	tbl_value *cov;           /* owned: a covering entry as a row (nvals
				     values; unused slots NULL), or NULL */
	long sub_pos;             /* ACC_ROWS: next materialized row */
	sql_value eqv[TBL_MAX_KEY_COLS + 2];  /* owned bound values */
	/* hash join (plan.c plans it, hashjoin.c runs it): an inner SCAN
	 * with equalities "column = value of earlier sources" */
	int nhash;                /* equality columns; 0: no hash join */
	int hash_slot[HJ_MAX_COLS];       /* this source's columns ... */
	sql_expr *hash_val[HJ_MAX_COLS];  /* ... equal to these values */
	sql_aff hash_aff[HJ_MAX_COLS];    /* the comparisons' affinity */
	sql_expr **hbuild;        /* filters on this source alone, checked
				     while building (arena) */
	int nhbuild;
	sql_expr **hfilt, **hon;  /* filt and on without the equalities and
				     hbuild: checked per probe hit (arena) */
	int nhfilt, nhon;
	int hash_force;           /* hashed although a key serves it (the
				     grouped source of q->hash_group): the
				     key is the nested loop's path when the
				     table is over budget */
	struct hjoin *hj;         /* runtime, owned: the hash table */
	int hash_off;             /* runtime: over budget, nested loop */
} qsrc;

/* ---- aggregates -------------------------------------------------------------- */

typedef struct qagg {
	sql_expr *call;           /* the SQL_E_FUNC node (borrowed) */
	const sql_func *fn;
	int distinct;
	int argc;
} qagg;

/* ---- queries ----------------------------------------------------------------- */

/* One SELECT core, or a compound of cores (terms). */
struct query {
	query *parent;            /* enclosing query for correlated refs */
	int nsrc;
	qsrc *src;                /* owned array */
	int *jorder;              /* join order: level -> source (arena) */
	int nout;                 /* result columns */
	sql_expr **out;           /* bound result expressions (arena) */
	const char **names;       /* result names (arena) */
	const char **alias;       /* result aliases or NULL (arena) */
	const char **decltypes;   /* declared types or NULL (arena) */
	sql_expr **where_const;   /* conjuncts using no source (arena) */
	int nwhere_const;
	sql_expr_list *values;    /* VALUES rows (borrowed from the tree) */
	int nvalues;
	/* grouping */
	int agg;                  /* aggregate query (GROUP BY or aggs) */
	int ngroup;
	sql_expr **group;         /* GROUP BY expressions */
	sql_expr *having;
	int nagg;
	qagg *aggs;               /* arena */
	int cagg;
	int stream_group;         /* the joined rows arrive grouped (in
				     key order): aggregate one group at a
				     time (plan.c, select.c) */
	int hash_group;           /* two sources, grouped by the key of
				     jorder[1], which is read through a hash
				     table: each of its rows is a group
				     (plan.c, select.c) */
	int correlated;           /* refers to an enclosing query's rows */
	uint64_t parent_use;      /* of those, the sources of the parent
				     query it reads (bit src & 63), itself
				     or in its subqueries: where the parent
				     may test it (plan.c) */
	int distinct;
	/* ordering (of the whole query) */
	int norder;
	sql_expr **order;         /* bound ORDER BY expressions */
	int *order_desc;
	int *order_nulls_first;
	int sort;                 /* a sort is needed */
	sql_expr *limit, *offset;
	/* compound */
	int nterms;               /* > 1 for a compound select */
	query **terms;            /* owned */
	sql_compound *ops;        /* ops[i] joins terms[i] to those before */
	/* runtime */
	run *r;                   /* owned while running */
};

/* The running state of a query (select.c). */
struct run {
	sql_prog *p;              /* borrowed */
	int level;                /* join depth being advanced; -1: done */
	int started;
	sql_value *aggv;          /* owned: the current group's results */
	mrows m;                  /* materialized output of a compound;
				     each row: nout results then sort keys */
	sorter *srt;              /* owned: sorted or grouped output (each
				     row as in m), which may spill to disk
				     (sorter.h); read instead of m when set */
	long mpos;
	int mready;               /* m is complete: emit from it */
	sql_distinct *seen;       /* owned: DISTINCT output rows */
	sorter *dsrt;             /* owned: DISTINCT past its budget: the
				     rows not read yet, deduplicated by a
				     sort that may spill (select.c) */
	size_t dbudget;           /* bytes seen may hold; 0: no limit */
	sgroup *sg;               /* owned: GROUP BY in key order */
	hgroup *hg;               /* owned: GROUP BY through the hash table */
	rdb_buf kbuf;             /* owned: scratch for keys */
	int64_t limit, offset;    /* -1: no limit */
	int64_t emitted;
	sql_value *outv;          /* owned: nout values of the current row */
	int term;                 /* compound: the term being read */
};

/* ---- programs ------------------------------------------------------------------ */

typedef enum prog_op {
	OP_SELECT, OP_INSERT, OP_UPDATE, OP_DELETE, OP_DDL, OP_BEGIN,
	OP_COMMIT, OP_ROLLBACK, OP_PRAGMA, OP_EXPLAIN, OP_SAVEPOINT,
	OP_RELEASE, OP_ROLLBACK_TO
} prog_op;

typedef struct trig_prog trig_prog;   /* trigger.c */
typedef struct chk_prog chk_prog;   /* check.c */

struct sql_prog {
	prog_op op;
	sql_stmt *ast;            /* owned parse tree (its arena holds the
				     binder's annotations) */
	tbl_schema *schema;       /* owned reference it was bound against */
	query *q;                 /* SELECT, EXPLAIN, INSERT ... SELECT
				     (one of queries) */
	query **queries;          /* owned: every query of the statement */
	int nqueries;
	sql_stmt **trees;         /* owned: parse trees of the views used */
	int ntrees;
	trig_prog *trig;          /* owned: triggers of tb it fires, or NULL */
	chk_prog *chk;            /* owned: CHECK constraints of tb, or NULL */
	int raise_ignore;         /* RAISE(IGNORE) ended the last eval */
	const tbl_table *tb;      /* INSERT/UPDATE/DELETE target (NULL for
				     a view) */
	query *vq;                /* INSERT/UPDATE/DELETE on a view: the
				     view as a one-source query (vdml.c;
				     UPDATE and DELETE run it as q) */
	int *ins_map;             /* INSERT: table column -> value index */
	int nins;
	int n_cols;               /* result columns */
	const char **names, **decltypes;
	xinfo *caches;            /* expressions caching per run */
	/* runtime */
	sql_ctx cx;               /* owned evaluation context */
	tbl_ctx *tcx;             /* owned table-layer scratch */
	pager_txn *t;             /* borrowed while running */
	const tbl_value *params;  /* borrowed while running */
	int nparams;
	sql_conn *c;              /* borrowed */
	int64_t changes;
	sql_value *outv;          /* owned: the current result row */
	tbl_value *outt;          /* owned: its tbl_value view */
	mrows result;             /* materialized result (PRAGMA, EXPLAIN,
				     DML done in the first step) */
	long result_pos;
	int done;
};

/* eval.c: evaluate e for the current rows of q (and its enclosing
 * queries).  *out may borrow from rows, parameters and the tree; free it
 * with sql_value_free(). */
rdb_rc eval(sql_prog *p, query *q, const sql_expr *e, sql_value *out);
/* 1 true, 0 false, -1 NULL. */
rdb_rc eval_truth(sql_prog *p, query *q, const sql_expr *e, int *truth);
sql_aff expr_aff(const sql_expr *e);
void eval_clear_caches(sql_prog *p);
/* subq.c: scalar subquery, EXISTS, IN (SELECT). */
rdb_rc subq_eval(sql_prog *p, query *q, const sql_expr *e, sql_value *out);
void subq_free_list(xinfo *x);

/* prep.c calls these. */
rdb_rc prog_compile(sql_conn *c, tbl_schema *s, sql_stmt *ast,
		    sql_prog **out);
rdb_rc prog_start(sql_prog *p, pager_txn *t, const tbl_value *params,
		  int nparams);
/* RDB_ROW (row in p->outt), RDB_DONE, or an error. */
rdb_rc prog_next(sql_prog *p);
void prog_stop(sql_prog *p);
void prog_free(sql_prog *p);
/* trigger.c: fire the triggers of p of timing time (sql_trigger_time)
 * for a row (nrow NEW, orow OLD; either may be NULL); *ignore = 1 if one
 * did RAISE(IGNORE) (skip the row).  Errors end the statement. */
rdb_rc trig_fire(sql_prog *p, int time, const tbl_value *nrow,
		 const tbl_value *orow, int *ignore);
int trig_any(const sql_prog *p);          /* p fires any trigger */
/* dml.c: p inserts one row (VALUES of one row, or DEFAULT VALUES) into a
 * table that has no trigger for it.  Such a statement fails before its
 * first write unless the file or memory fails (the table layer checks
 * every constraint first), so it needs no statement savepoint. */
int dml_one_row(const sql_prog *p);
void trig_free(trig_prog *tp);            /* NULL-safe */
rdb_rc trig_raise(sql_prog *p, const sql_expr *e);   /* RAISE(...) */
/* check.c: judge the CHECK constraints of p->tb on a row being written
 * (a tbl_check_fn; arg is the sql_prog), and free them (NULL-safe). */
rdb_rc chk_row(void *arg, const tbl_table *tb, const tbl_value *row);
void chk_free(chk_prog *c);

#endif /* RDB_SQL_EXEC_H */
