/*
 * explain.c -- EXPLAIN and EXPLAIN QUERY PLAN: the chosen plan as rows
 * (id, parent, notused, detail) in the shape of SQLite's EXPLAIN QUERY
 * PLAN: per table SCAN or SEARCH with the key or index and its bounds,
 * then whether a temporary b-tree sorts or groups.  Design: docs/sql.md
 * ("EXPLAIN").
 */
#include "exec.h"
#include <stdio.h>
#include <string.h>
#include "mem.h"

typedef struct explainer {
	sql_prog *p;
	int next_id;
} explainer;

static rdb_rc line(explainer *x, int parent, const char *detail, int *id)
{
	tbl_value row[4];

	*id = ++x->next_id;
	row[0] = (tbl_value){ .cls = TBL_INT, .i = *id };
	row[1] = (tbl_value){ .cls = TBL_INT, .i = parent };
	row[2] = (tbl_value){ .cls = TBL_INT, .i = 0 };
	row[3] = (tbl_value){ .cls = TBL_TEXT, .p = detail,
			      .n = strlen(detail) };
	if (x->p->result.width == 0)
		mrows_init(&x->p->result, 4);
	return mrows_add(&x->p->result, row, x->p->cx.err);
}

/* The name of key component i of source s. */
static const char *key_name(const qsrc *s, int i)
{
	int slot = s->key_slot[i];

	return slot < s->tb->ncols ? s->tb->cols[slot].name : "rowid";
}

/* "(a=? AND b>? AND b<?)" for the bounds of source s. */
static void bounds_text(const qsrc *s, rdb_buf *b)
{
	int i, first = 1;

	(void)rdb_buf_puts(b, " (");
	for (i = 0; i < s->neq; i++) {
		(void)rdb_buf_puts(b, first ? "" : " AND ");
		(void)rdb_buf_puts(b, key_name(s, i));
		(void)rdb_buf_puts(b, "=?");
		first = 0;
	}
	if (s->in != NULL) {
		(void)rdb_buf_puts(b, first ? "" : " AND ");
		(void)rdb_buf_puts(b, key_name(s, s->neq));
		(void)rdb_buf_puts(b, " IN (...)");
		first = 0;
	}
	if (s->lo != NULL) {
		(void)rdb_buf_puts(b, first ? "" : " AND ");
		(void)rdb_buf_puts(b, key_name(s, s->neq));
		(void)rdb_buf_puts(b, s->lo_incl ? ">=?" : ">?");
		first = 0;
	}
	if (s->hi != NULL) {
		(void)rdb_buf_puts(b, first ? "" : " AND ");
		(void)rdb_buf_puts(b, key_name(s, s->neq));
		(void)rdb_buf_puts(b, s->hi_incl ? "<=?" : "<?");
	}
	(void)rdb_buf_puts(b, ")");
}

static rdb_rc explain_query(explainer *x, const query *q, int parent);

/* " USING HASH TABLE (b=? AND c=?)" for a hash join (docs/sql.md). */
static void hash_text(const qsrc *s, rdb_buf *b)
{
	int i, slot;

	(void)rdb_buf_puts(b, " USING HASH TABLE (");
	for (i = 0; i < s->nhash; i++) {
		slot = s->hash_slot[i];
		(void)rdb_buf_puts(b, i ? " AND " : "");
		(void)rdb_buf_puts(b, s->tb == NULL ? s->colnames[slot] :
				   slot < s->tb->ncols ? s->tb->cols[slot].name
						       : "rowid");
		(void)rdb_buf_puts(b, "=?");
	}
	(void)rdb_buf_puts(b, ")");
}

static rdb_rc explain_source(explainer *x, const qsrc *s, int parent)
{
	rdb_buf b = { 0 };
	int id, range;
	rdb_rc rc;

	if (s->sub != NULL) {
		char t[300];

		snprintf(t, sizeof(t), "MATERIALIZE %s", s->name);
		if ((rc = line(x, parent, t, &id)) != RDB_OK)
			return rc;
		if ((rc = explain_query(x, s->sub, id)) != RDB_OK)
			return rc;
		(void)rdb_buf_puts(&b, "SCAN ");
		(void)rdb_buf_puts(&b, s->name);
		if (s->nhash > 0)
			hash_text(s, &b);
		goto emit;
	}
	/* A hashed source is scanned once to build its table, whatever
	 * key could serve its nested loop (which runs only when the table
	 * is over budget). */
	range = s->acc == ACC_RANGE && s->nhash == 0;
	(void)rdb_buf_puts(&b, range ? "SEARCH " : "SCAN ");
	(void)rdb_buf_puts(&b, s->tb->name);
	if (s->name != NULL && strcmp(s->name, s->tb->name) != 0) {
		(void)rdb_buf_puts(&b, " AS ");
		(void)rdb_buf_puts(&b, s->name);
	}
	if (s->ix != NULL && (range || s->acc != ACC_RANGE)) {
		(void)rdb_buf_puts(&b, " USING INDEX ");
		(void)rdb_buf_puts(&b, s->ix->name);
	} else if (range) {
		(void)rdb_buf_puts(&b, s->tb->npk == 0 || s->tb->ipk
					      ? " USING INTEGER PRIMARY KEY"
					      : " USING PRIMARY KEY");
	}
	if (range)
		bounds_text(s, &b);
	if (s->nhash > 0)
		hash_text(s, &b);
	if (s->left)
		(void)rdb_buf_puts(&b, " (LEFT JOIN)");
emit:
	if (rdb_buf_terminate(&b) != RDB_OK) {
		rdb_buf_free(&b);
		return rdb_err_set(x->p->cx.err, RDB_NOMEM, "out of memory");
	}
	rc = line(x, parent, (const char *)b.p, &id);
	rdb_buf_free(&b);
	return rc;
}

static const char *compound_name(sql_compound op)
{
	switch (op) {
	case SQL_UNION: return "UNION USING TEMP B-TREE";
	case SQL_UNION_ALL: return "UNION ALL";
	case SQL_INTERSECT: return "INTERSECT USING TEMP B-TREE";
	default: return "EXCEPT USING TEMP B-TREE";
	}
}

/* A sort keeps only the rows LIMIT and OFFSET let through when there is
 * a LIMIT and no DISTINCT (select.c, topn_limit()). */
static const char *order_line(const query *q)
{
	return q->limit != NULL && !q->distinct
		       ? "USE TOP-N HEAP FOR ORDER BY"
		       : "USE TEMP B-TREE FOR ORDER BY";
}

static rdb_rc explain_query(explainer *x, const query *q, int parent)
{
	int i, id;
	rdb_rc rc = RDB_OK;

	if (q->nterms > 1) {
		if ((rc = line(x, parent, "COMPOUND QUERY", &id)) != RDB_OK)
			return rc;
		for (i = 0; i < q->nterms && rc == RDB_OK; i++) {
			int tid;

			rc = line(x, id, i == 0 ? "LEFT-MOST SUBQUERY"
						: compound_name(q->ops[i]), &tid);
			if (rc == RDB_OK)
				rc = explain_query(x, q->terms[i], tid);
		}
		if (rc == RDB_OK && q->norder > 0)
			rc = line(x, parent, order_line(q), &id);
		return rc;
	}
	if (q->nvalues > 0)
		return line(x, parent, "SCAN CONSTANT ROW", &id);
	for (i = 0; i < q->nsrc && rc == RDB_OK; i++)
		rc = explain_source(x, &q->src[q->jorder[i]], parent);
	if (rc == RDB_OK && q->agg && q->ngroup > 0)
		rc = line(x, parent, q->stream_group ? "USE KEY ORDER FOR GROUP BY"
				     : q->hash_group ? "USE HASH TABLE FOR GROUP BY"
				     : "USE TEMP B-TREE FOR GROUP BY", &id);
	if (rc == RDB_OK && q->distinct)
		rc = line(x, parent, "USE TEMP B-TREE FOR DISTINCT", &id);
	if (rc == RDB_OK && q->sort)
		rc = line(x, parent, order_line(q), &id);
	return rc;
}

rdb_rc explain_run(sql_prog *p)
{
	explainer x = { p, 1 };

	if (p->q == NULL)
		return RDB_OK;
	return explain_query(&x, p->q, 0);
}
