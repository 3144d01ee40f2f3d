/*
 * bind.h -- the binder and planner's shared declarations (bind.c,
 * bind_select.c, plan.c).  Internal to src/sql.
 */
#ifndef RDB_SQL_BIND_H
#define RDB_SQL_BIND_H
#include "exec.h"

typedef struct trig_active trig_active;

typedef struct binder {
	sql_stmt *ast;            /* borrowed: the tree being bound */
	tbl_schema *s;            /* borrowed */
	rdb_err *err;             /* borrowed */
	int nparams;              /* largest parameter index seen */
	int depth;                /* nesting of queries */
	query **all;              /* owned: every query made (query_new) */
	int nall, call;
	sql_stmt **trees;         /* owned: parse trees of the views bound
				     (view.c), handed to the program */
	int ntrees;
	int view_depth;           /* views being bound inside views */
	query *frame;             /* in a trigger: the query holding NEW and
				     OLD, parent of the body's queries */
	const trig_active *active; /* triggers being compiled (trigger.c) */
	size_t hj_budget;         /* bytes a hash table may hold on this
				     connection (hj_budget()); 0: unknown,
				     plan no grouping through one */
} binder;

/* view.c: bind source s as the view named si->name (a subquery of its
 * stored SELECT); RDB_NOTFOUND (no message) if there is no such view. */
rdb_rc bind_view(binder *b, query *q, const sql_src *si, qsrc *s);
/* Free n parse trees and their array (binder.trees, prog.trees). */
void bind_free_trees(sql_stmt **trees, int n);
/* Refuse a write to name when it is a view (INSERT/UPDATE/DELETE). */
rdb_rc view_refuse_write(binder *b, const char *name);
/* vdml.c: INSERT, UPDATE and DELETE whose target is a view (dml.c
 * dispatches): bound with the view's INSTEAD OF triggers (none is SQLite's
 * "cannot modify" error), and run by firing them per row. */
rdb_rc vdml_bind_insert(binder *b, sql_prog *p);
rdb_rc vdml_bind_update(binder *b, sql_prog *p);
rdb_rc vdml_bind_delete(binder *b, sql_prog *p);
rdb_rc vdml_run(sql_prog *p);
/* trigger.c: compile the triggers of p->tb (or of the view p->vq reads) that event ev of statement p
 * fires (p->nins/ins_map give an UPDATE's columns) into p->trig. */
rdb_rc trig_compile(binder *b, sql_prog *p, sql_trigger_event ev);
/* trigger.c: would a trigger being compiled (b->active) fire for p's
 * event ev?  (It is left out: a trigger never fires itself.) */
int trig_suppressed(binder *b, const sql_prog *p, sql_trigger_event ev);
/* check.c: compile the CHECK constraints of p->tb into p->chk (NULL
 * when it has none). */
rdb_rc chk_compile(binder *b, sql_prog *p);
/* check.c: CREATE TABLE: bind ct's CHECK constraints over a row of def
 * (its name and columns) to report what they may not use. */
rdb_rc chk_validate(binder *b, const tbl_table *def,
		    const sql_create_table *ct);
/* ctas.c: CREATE TABLE ... AS SELECT (p->q the bound select), against
 * the catalog s as it is in p->t (ddl_run). */
rdb_rc ddl_create_as(sql_prog *p, tbl_schema *s);
/* rename.c: ALTER TABLE tb RENAME TO (p's statement) against the catalog
 * s as it is in p->t. */
rdb_rc ddl_rename_table(sql_prog *p, tbl_schema *s, const tbl_table *tb);
/* view.c: CREATE/DROP VIEW, CREATE/DROP TRIGGER and REINDEX (ddl_run). */
rdb_rc view_ddl_run(sql_prog *p, tbl_schema *s);

/* Flags of bind_expr(). */
#define BF_AGG 0x01               /* aggregates allowed here */
#define BF_IN_AGG 0x02            /* inside an aggregate's arguments */
#define BF_ALIAS 0x04             /* result aliases resolve after columns */
#define BF_ALIAS_FIRST 0x08       /* result aliases resolve before columns */

xinfo *bind_ann(binder *b, sql_expr *e);
void *bind_alloc(binder *b, size_t n);
rdb_rc bind_error(binder *b, const sql_expr *e, const char *fmt,
		  const char *name);
rdb_rc bind_expr(binder *b, query *q, sql_expr *e, int flags);
rdb_rc bind_add_agg(binder *b, query *q, sql_expr *e, const sql_func *f);
void bind_mark_correlated(query *q, int up, int src);
const char *src_col_name(const qsrc *s, int i);
/* The affinity and declared type (*decl, NULL for none) of slot i of
 * source s: a table's column, or a view's or subquery's result. */
sql_aff src_aff(const qsrc *s, int i, const char **decl);
/* The declared type of result column i of q as a subquery, or NULL:
 * that of the table column it names, through views and subqueries, as in
 * SQLite (which reads a compound's from its last term). */
const char *query_decl(const query *q, int i);
int src_find(const qsrc *s, const char *name);
/* Give s (nvals set) its row of NULLs (s->nulls, freed with the query):
 * a LEFT JOIN's missing row, or the row before one is read. */
rdb_rc src_nulls(binder *b, qsrc *s);

/* A new empty query, registered in b->all (which owns it). */
query *query_new(binder *b, query *parent);
/* Free the n queries of a registry and the registry. */
void query_free_all(query **all, int n);

/* Bind a (compound) select; parent is the enclosing query for correlated
 * references (NULL at the top).  *out is owned by b->all. */
rdb_rc bind_select(binder *b, sql_select *sel, query *parent, query **out);
/* Bind a table as the single source of an UPDATE or DELETE. */
rdb_rc bind_table_query(binder *b, const char *table, const char *alias,
			sql_expr *where, query **out);
/* Choose access paths, place the WHERE conjuncts (conj[0..n), already
 * bound), decide on sorting. */
rdb_rc plan_query(binder *b, query *q, sql_expr **conj, int n);
/* Decide whether q's ORDER BY needs a sort (after binding it). */
rdb_rc plan_order(binder *b, query *q);
/* A pre-bound reference to slot `slot` of source `src` of q. */
sql_expr *mk_col(binder *b, query *q, int src, int slot);
sql_expr *mk_binary(binder *b, sql_op op, sql_expr *l, sql_expr *r);
/* Append the AND-conjuncts of e to a growing array. */
rdb_rc conj_split(binder *b, sql_expr *e, sql_expr ***arr, int *n,
		  int *cap);

#endif /* RDB_SQL_BIND_H */
