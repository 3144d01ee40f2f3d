/*
 * select.c -- running a query: result rows straight from the join, or
 * through a materialization for GROUP BY / aggregates, a sort for ORDER
 * BY, or the set operations of a compound select; then DISTINCT, OFFSET
 * and LIMIT.  Design: src/sql/README.md ("Execution").
 */
#include "select.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "hashjoin.h"
#include "mem.h"

/* ---- run state ------------------------------------------------------------ */

/* Only owned bytes need freeing: the result columns of a scan borrow
 * theirs from the rows (no call per column and row). */
static void free_outv(run *r, int n)
{
	int i;

	for (i = 0; r->outv != NULL && i < n; i++)
		if (r->outv[i].mem == SQL_MEM_HEAP)
			sql_value_free(&r->outv[i]);
}

static void free_aggv(run *r, int n)
{
	int i;

	for (i = 0; r->aggv != NULL && i < n; i++)
		sql_value_free(&r->aggv[i]);
}

static void sgroup_free(sgroup *sg, int nagg);
static void hgroup_free(hgroup *hg, int nagg);

void query_close(sql_prog *p, query *q)
{
	run *r = q->r;
	int i;

	(void)p;
	if (r == NULL)
		return;
	for (i = 0; i < q->nsrc; i++) {
		src_close(&q->src[i]);
		mrows_free(&q->src[i].sub_rows);
		q->src[i].sub_ready = 0;
		q->src[i].cache_off = 0;
	}
	for (i = 0; i < q->nterms; i++)
		query_close(p, q->terms[i]);
	free_outv(r, q->nout);
	free_aggv(r, q->nagg);
	rdb_free(r->outv);
	rdb_free(r->aggv);
	mrows_free(&r->m);
	sorter_free(r->srt);
	sorter_free(r->dsrt);
	sql_distinct_free(r->seen);
	sgroup_free(r->sg, q->nagg);
	hgroup_free(r->hg, q->nagg);
	rdb_buf_free(&r->kbuf);
	rdb_free(r);
	q->r = NULL;
}

/* LIMIT and OFFSET as SQLite reads them: integers (a negative limit is no
 * limit), other values are an error. */
static rdb_rc eval_count(sql_prog *p, query *q, const sql_expr *e,
			 int64_t *out, const char *what)
{
	sql_value v, n;
	rdb_rc rc;

	if ((rc = eval(p, q, e, &v)) != RDB_OK)
		return rc;
	rc = sql_cast(&p->cx, &v, SQL_AFF_NUMERIC, &n);
	if (rc == RDB_OK && sql_value_class(&n) != TBL_INT)
		rc = rdb_err_set(p->cx.err, RDB_MISMATCH, "datatype mismatch "
				 "in %s", what);
	if (rc == RDB_OK)
		*out = n.v.i;
	sql_value_free(&v);
	sql_value_free(&n);
	return rc;
}

rdb_rc query_open(sql_prog *p, query *q)
{
	run *r;
	rdb_rc rc = RDB_OK;

	query_close(p, q);
	if ((r = rdb_calloc(1, sizeof(*r))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	q->r = r;
	r->p = p;
	r->limit = -1;
	r->outv = rdb_calloc((size_t)q->nout + 1, sizeof(sql_value));
	if (q->nagg > 0)
		r->aggv = rdb_calloc((size_t)q->nagg, sizeof(sql_value));
	if (r->outv == NULL || (q->nagg > 0 && r->aggv == NULL))
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	mrows_init(&r->m, q->nout + q->norder);
	if (q->limit != NULL)
		rc = eval_count(p, q, q->limit, &r->limit, "LIMIT");
	if (rc == RDB_OK && q->offset != NULL)
		rc = eval_count(p, q, q->offset, &r->offset, "OFFSET");
	if (r->offset < 0)
		r->offset = 0;
	if (rc == RDB_OK && q->distinct)
		rc = sql_distinct_new(&p->cx, &r->seen);
	if (rc == RDB_OK && q->distinct && q->nterms <= 1 &&
	    q->nvalues == 0) {
		sorter_opts o;

		sorter_opts_for(p->t, &o);
		r->dbudget = o.budget == SIZE_MAX ? 0 : o.budget;
	}
	return rc;
}

/* ---- result rows ------------------------------------------------------------- */

/* A result column that is a column of this query's sources is borrowed
 * from the current row as eval() would, without its dispatch (most
 * result columns of a scan).  0 if e is anything else. */
static int out_column(const query *q, const sql_expr *e, sql_value *out)
{
	const xinfo *x = xi(e);
	const qsrc *s;

	if (x == NULL || x->kind != XK_COL || x->up != 0 || x->src < 0 ||
	    x->src >= q->nsrc)
		return 0;
	s = &q->src[x->src];
	if (s->row == NULL || s->null_row)
		sql_value_null(out);
	else
		sql_value_from_tbl(out, &s->row[x->slot]);
	return 1;
}

static rdb_rc compute_out(sql_prog *p, query *q)
{
	run *r = q->r;
	int i;
	rdb_rc rc;

	free_outv(r, q->nout);
	for (i = 0; i < q->nout; i++)
		if (!out_column(q, q->out[i], &r->outv[i]) &&
		    (rc = eval(p, q, q->out[i], &r->outv[i])) != RDB_OK)
			return rc;
	return RDB_OK;
}

/* Append the current result row and its ORDER BY keys to r->m. */
static rdb_rc push_row(sql_prog *p, query *q)
{
	run *r = q->r;
	tbl_value stack[64], *row = stack;
	sql_value *keys = NULL;
	int i, w = q->nout + q->norder;
	rdb_rc rc;

	if ((rc = compute_out(p, q)) != RDB_OK)
		return rc;
	if (w > 64 && (row = rdb_malloc((size_t)w * sizeof(*row))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	if (q->norder > 0 &&
	    (keys = rdb_calloc((size_t)q->norder, sizeof(*keys))) == NULL)
		rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < q->nout && rc == RDB_OK; i++)
		row[i] = sql_value_tbl(&r->outv[i]);
	for (i = 0; i < q->norder && rc == RDB_OK; i++) {
		const xinfo *x = xi(q->order[i]);

		if (x != NULL && x->kind == XK_OUTCOL)
			row[q->nout + i] = row[x->slot];
		else if ((rc = eval(p, q, q->order[i], &keys[i])) == RDB_OK)
			row[q->nout + i] = sql_value_tbl(&keys[i]);
	}
	if (rc == RDB_OK)
		rc = r->srt != NULL ? sorter_add(r->srt, row)
				    : mrows_add(&r->m, row, p->cx.err);
	for (i = 0; keys != NULL && i < q->norder; i++)
		sql_value_free(&keys[i]);
	rdb_free(keys);
	if (row != stack)
		rdb_free(row);
	return rc;
}

/* The rows of a sort that LIMIT and OFFSET let through: the sorter
 * need keep only that many (top-N); 0 for all.  Not with DISTINCT, which
 * drops rows after the sort. */
static long topn_limit(const query *q)
{
	const run *r = q->r;

	if (q->distinct || q->limit == NULL || r->limit <= 0 ||
	    r->limit > (int64_t)(LONG_MAX / 2) ||
	    r->offset > (int64_t)(LONG_MAX / 2))
		return 0;
	return (long)(r->limit + r->offset);
}

/* Start q->r->srt, the sorter that push_row() feeds: ordered by the ORDER
 * BY keys when sorted (at key_base + i in each row, or with key_base < 0
 * the result columns the terms name), else in the order rows come. */
static rdb_rc open_out(sql_prog *p, query *q, int sorted, int key_base)
{
	sorter_opts o;
	int cols[64] = { 0 }, *c = cols, i;
	rdb_rc rc;

	sorted = sorted && q->norder > 0;
	sorter_free(q->r->srt);
	q->r->srt = NULL;
	if (sorted && q->norder > 64 &&
	    (c = rdb_malloc((size_t)q->norder * sizeof(int))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; sorted && i < q->norder; i++)
		c[i] = key_base < 0 ? xi(q->order[i])->slot : key_base + i;
	sorter_opts_for(p->t, &o);
	o.width = key_base < 0 ? q->nout : q->nout + q->norder;
	o.ncols = sorted ? q->norder : SORTER_KEEP_ORDER;
	o.cols = c;
	o.desc = q->order_desc;
	o.nulls_first = q->order_nulls_first;
	if (sorted)
		o.limit = topn_limit(q);
	rc = sorter_new(&o, p->cx.err, &q->r->srt);
	if (c != cols)
		rdb_free(c);
	return rc;
}

static rdb_rc materialize_sorted(sql_prog *p, query *q)
{
	rdb_rc rc;

	if ((rc = open_out(p, q, 1, q->nout)) != RDB_OK)
		return rc;
	while ((rc = join_next(p, q)) == RDB_ROW)
		if ((rc = push_row(p, q)) != RDB_OK)
			return rc;
	if (rc != RDB_DONE)
		return rc;
	return sorter_finish(q->r->srt);
}

/* ---- GROUP BY ----------------------------------------------------------------- */

typedef struct group {
	const unsigned char *key;  /* in the store's chunks */
	size_t klen;
	sql_agg *aggs;             /* owned: nagg */
	tbl_value *rep;            /* owned: the first row of every source */
} group;

typedef struct grouping {
	group *g;
	long n, cap;
	long *slots;               /* hash table: group index + 1, 0 free */
	long nslots;
	mrows store;               /* owns the keys' and rows' bytes */
	int width;                 /* values of all sources */
	size_t mem, budget;        /* estimated bytes held; the limit */
	sorter *spill;             /* owned, once mem passed budget: rows of
				     groups not in the table, each its key
				     (a blob) and the sources' values */
	tbl_value *tmp;            /* owned: width + 1 values */
	tbl_value *cur;            /* owned: width + 1 values: the first row
				     of the spilled group being emitted */
	rdb_buf cur_bytes;         /* owned: their bytes */
} grouping;

static void grouping_free(grouping *gr, int nagg)
{
	long i;
	int j;

	for (i = 0; i < gr->n; i++) {
		for (j = 0; gr->g[i].aggs != NULL && j < nagg; j++)
			sql_agg_free(&gr->g[i].aggs[j]);
		rdb_free(gr->g[i].aggs);
		rdb_free(gr->g[i].rep);
	}
	rdb_free(gr->g);
	rdb_free(gr->slots);
	mrows_free(&gr->store);
	sorter_free(gr->spill);
	rdb_free(gr->tmp);
	rdb_free(gr->cur);
	rdb_buf_free(&gr->cur_bytes);
}

/* The encoded GROUP BY key of the current row into r->kbuf. */
static rdb_rc group_key(sql_prog *p, query *q)
{
	rdb_buf *b = &q->r->kbuf;
	sql_value v;
	tbl_value t;
	int i;
	rdb_rc rc;

	rdb_buf_reset(b);
	for (i = 0; i < q->ngroup; i++) {
		if ((rc = eval(p, q, q->group[i], &v)) != RDB_OK)
			return rc;
		t = sql_value_tbl(&v);
		rc = tbl_key_append(b, &t, 0);
		sql_value_free(&v);
		if (rc != RDB_OK)
			return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	}
	return RDB_OK;
}

static rdb_rc grow_slots(sql_prog *p, grouping *gr)
{
	long n = gr->nslots ? 2 * gr->nslots : 256, i, j;
	long *s = rdb_calloc((size_t)n, sizeof(*s));

	if (s == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < gr->n; i++) {
		j = (long)(XXH3_64bits(gr->g[i].key, gr->g[i].klen) &
			   (uint64_t)(n - 1));
		while (s[j] != 0)
			j = (j + 1) & (n - 1);
		s[j] = i + 1;
	}
	rdb_free(gr->slots);
	gr->slots = s;
	gr->nslots = n;
	return RDB_OK;
}

/* The current values of every source into vals[0 .. width). */
static void src_values(query *q, tbl_value *vals)
{
	int i, j, k = 0;

	for (i = 0; i < q->nsrc; i++)
		for (j = 0; j < q->src[i].nvals; j++, k++)
			vals[k] = q->src[i].null_row || !q->src[i].row
					  ? q->src[i].nulls[j]
					  : q->src[i].row[j];
}

/* Make vals (width values, as src_values() gave) the sources' rows. */
static void set_src_rows(query *q, const tbl_value *vals)
{
	int i, k = 0;

	for (i = 0; i < q->nsrc; i++) {
		q->src[i].row = vals + k;
		q->src[i].null_row = 0;
		k += q->src[i].nvals;
	}
}

/* Copy the current rows of every source as the group's representative. */
static rdb_rc copy_rep(sql_prog *p, query *q, grouping *gr, group *g)
{
	int k;
	rdb_rc rc;

	if ((g->rep = rdb_malloc(((size_t)gr->width + 1) *
				 sizeof(tbl_value))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	src_values(q, g->rep);
	gr->mem += ((size_t)gr->width + 1) * sizeof(tbl_value);
	for (k = 0; k < gr->width; k++) {
		if ((rc = mrows_copy_bytes(&gr->store, &g->rep[k],
					   p->cx.err)) != RDB_OK)
			return rc;
		if (g->rep[k].cls == TBL_TEXT || g->rep[k].cls == TBL_BLOB)
			gr->mem += g->rep[k].n;
	}
	return RDB_OK;
}

static rdb_rc new_group(sql_prog *p, query *q, grouping *gr, long *idx,
			int with_rep)
{
	rdb_buf *b = &q->r->kbuf;
	tbl_value kv = { .cls = TBL_BLOB, .p = b->p, .n = b->n };
	group *g;
	int j;
	rdb_rc rc;

	if (gr->n == gr->cap) {
		long cap = gr->cap ? 2 * gr->cap : 64;
		group *ng = rdb_realloc(gr->g, (size_t)cap * sizeof(*ng));

		if (ng == NULL)
			return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
		gr->g = ng;
		gr->cap = cap;
	}
	g = &gr->g[gr->n];
	memset(g, 0, sizeof(*g));
	gr->n++;
	if ((rc = mrows_copy_bytes(&gr->store, &kv, p->cx.err)) != RDB_OK)
		return rc;
	g->key = kv.p;
	g->klen = kv.n;
	gr->mem += sizeof(*g) + 4 * sizeof(long) + kv.n +
		   ((size_t)q->nagg + 1) * sizeof(sql_agg);
	if ((g->aggs = rdb_calloc((size_t)q->nagg + 1, sizeof(sql_agg))) ==
	    NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (j = 0; j < q->nagg; j++)
		if ((rc = sql_agg_init(&p->cx, &g->aggs[j], q->aggs[j].fn,
				       q->aggs[j].distinct)) != RDB_OK)
			return rc;
	*idx = gr->n - 1;
	return with_rep ? copy_rep(p, q, gr, g) : RDB_OK;
}

/* The group of the key in r->kbuf, created on first sight; once the
 * groups spill, a key not in the table gives *idx = -1. */
static rdb_rc find_group(sql_prog *p, query *q, grouping *gr, long *idx)
{
	rdb_buf *b = &q->r->kbuf;
	long j;
	rdb_rc rc;

	if ((gr->n + 1) * 2 > gr->nslots && (rc = grow_slots(p, gr)) != RDB_OK)
		return rc;
	j = (long)(XXH3_64bits(b->p, b->n) & (uint64_t)(gr->nslots - 1));
	for (; gr->slots[j] != 0; j = (j + 1) & (gr->nslots - 1)) {
		group *g = &gr->g[gr->slots[j] - 1];

		if (g->klen == b->n &&
		    (b->n == 0 || memcmp(g->key, b->p, b->n) == 0)) {
			*idx = gr->slots[j] - 1;
			return RDB_OK;
		}
	}
	if (gr->spill != NULL) {
		*idx = -1;
		return RDB_OK;
	}
	if ((rc = new_group(p, q, gr, idx, 1)) != RDB_OK)
		return rc;
	gr->slots[j] = *idx + 1;
	return RDB_OK;
}

/* Feed the current row to every aggregate of group g. */
static rdb_rc agg_step(sql_prog *p, query *q, group *g)
{
	sql_value args[8];
	int j, i, n;
	rdb_rc rc = RDB_OK;

	for (j = 0; j < q->nagg && rc == RDB_OK; j++) {
		const qagg *a = &q->aggs[j];

		n = a->argc < 8 ? a->argc : 8;
		if (a->argc > 8)
			return rdb_err_set(p->cx.err, RDB_ERROR, "too many "
					   "arguments to %s()", a->fn->name);
		for (i = 0; i < n && rc == RDB_OK; i++)
			if ((rc = eval(p, q, a->call->list.items[i],
				       &args[i])) != RDB_OK)
				n = i;
		if (rc == RDB_OK)
			rc = sql_agg_step(&p->cx, &g->aggs[j], n, args);
		for (i = 0; i < n; i++)
			sql_value_free(&args[i]);
	}
	return rc;
}

static int cmp_groups(const void *a, const void *b, void *arg)
{
	const group *g = arg;
	const group *x = &g[*(const long *)a], *y = &g[*(const long *)b];
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = n ? memcmp(x->key, y->key, n) : 0;

	return c != 0 ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Make group g's row current: representative rows and aggregate
 * results; then HAVING and the result row. */
static rdb_rc emit_group(sql_prog *p, query *q, grouping *gr, group *g)
{
	run *r = q->r;
	int i, j, k = 0, t = 1;
	rdb_rc rc;

	for (i = 0; i < q->nsrc; i++) {
		q->src[i].row = g->rep != NULL ? g->rep + k : q->src[i].nulls;
		q->src[i].null_row = g->rep == NULL;
		k += q->src[i].nvals;
	}
	(void)gr;
	free_aggv(r, q->nagg);
	for (j = 0; j < q->nagg; j++)
		if ((rc = sql_agg_final(&p->cx, &g->aggs[j], &r->aggv[j])) !=
		    RDB_OK)
			return rc;
	if (q->having != NULL &&
	    (rc = eval_truth(p, q, q->having, &t)) != RDB_OK)
		return rc;
	return t == 1 ? push_row(p, q) : RDB_OK;
}

/* Compare a spilled row's key (a blob) with group g's, as cmp_groups. */
static int key_cmp(const tbl_value *k, const group *g)
{
	size_t n = k->n < g->klen ? k->n : g->klen;
	int c = n ? memcmp(k->p, g->key, n) : 0;

	return c != 0 ? c : (k->n > g->klen) - (k->n < g->klen);
}

/* Aggregate the spilled rows of the next key (*row is the first; *more
 * the sorter's last answer) and emit the group. */
static rdb_rc emit_spilled(sql_prog *p, query *q, grouping *gr,
			  const tbl_value **row, rdb_rc *more)
{
	group g;
	int j, w = gr->width + 1;
	rdb_rc rc;

	memset(&g, 0, sizeof(g));
	if ((rc = mrows_copy_row(&gr->cur_bytes, gr->cur, *row, w,
				 p->cx.err)) != RDB_OK)
		return rc;
	g.key = gr->cur[0].p;
	g.klen = gr->cur[0].n;
	g.rep = gr->cur + 1;
	if ((g.aggs = rdb_calloc((size_t)q->nagg + 1, sizeof(sql_agg))) ==
	    NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (j = 0; j < q->nagg && rc == RDB_OK; j++)
		rc = sql_agg_init(&p->cx, &g.aggs[j], q->aggs[j].fn,
				  q->aggs[j].distinct);
	while (rc == RDB_OK && *more == RDB_ROW && key_cmp(*row, &g) == 0) {
		set_src_rows(q, *row + 1);
		if ((rc = agg_step(p, q, &g)) != RDB_OK)
			break;
		*more = sorter_next(gr->spill, row);
		if (*more != RDB_ROW && *more != RDB_DONE)
			rc = *more;
	}
	if (rc == RDB_OK)
		rc = emit_group(p, q, gr, &g);
	for (j = 0; j < q->nagg; j++)
		sql_agg_free(&g.aggs[j]);
	rdb_free(g.aggs);
	return rc;
}

/* Emit the groups in key order: those of the table merged with those
 * spilled (their keys are disjoint). */
static rdb_rc emit_groups(sql_prog *p, query *q, grouping *gr)
{
	long *order, i = 0;
	const tbl_value *row = NULL;
	rdb_rc rc = RDB_OK, more = RDB_DONE;

	if ((order = rdb_malloc(((size_t)gr->n + 1) * sizeof(long))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < gr->n; i++)
		order[i] = i;
	qsort_r(order, (size_t)gr->n, sizeof(long), cmp_groups, gr->g);
	if (gr->spill != NULL && (rc = sorter_finish(gr->spill)) == RDB_OK) {
		more = sorter_next(gr->spill, &row);
		rc = more == RDB_ROW || more == RDB_DONE ? RDB_OK : more;
	}
	for (i = 0; rc == RDB_OK && (i < gr->n || more == RDB_ROW);) {
		if (more == RDB_ROW &&
		    (i == gr->n || key_cmp(&row[0], &gr->g[order[i]]) < 0))
			rc = emit_spilled(p, q, gr, &row, &more);
		else
			rc = emit_group(p, q, gr, &gr->g[order[i++]]);
	}
	rdb_free(order);
	for (i = 0; i < q->nsrc; i++) {
		q->src[i].row = NULL;
		q->src[i].null_row = 0;
	}
	return rc;
}

/* A new sorter of rows of width values in the order of value col. */
static rdb_rc sorter_by(sql_prog *p, int width, int col, sorter **out)
{
	sorter_opts o;

	sorter_opts_for(p->t, &o);
	o.width = width;
	o.ncols = 1;
	o.cols = &col;            /* copied by sorter_new() */
	o.desc = NULL;
	o.nulls_first = NULL;
	return sorter_new(&o, p->cx.err, out);
}

/* The groups outgrew the budget: from now on rows of keys not in the
 * table go to a sorter, to be aggregated in key order at the end. */
static rdb_rc start_spill(sql_prog *p, grouping *gr)
{
	size_t width = (size_t)gr->width + 1;

	gr->tmp = rdb_malloc(width * sizeof(tbl_value));
	gr->cur = rdb_malloc(width * sizeof(tbl_value));
	if (gr->tmp == NULL || gr->cur == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	return sorter_by(p, gr->width + 1, 0, &gr->spill);
}

/* Add the current row, with its key from r->kbuf, to the spill. */
static rdb_rc spill_row(query *q, grouping *gr)
{
	rdb_buf *b = &q->r->kbuf;

	gr->tmp[0] = (tbl_value){ .cls = TBL_BLOB, .p = b->p, .n = b->n };
	src_values(q, gr->tmp + 1);
	return sorter_add(gr->spill, gr->tmp);
}

/* One joined row into its group (or the spill). */
static rdb_rc group_row(sql_prog *p, query *q, grouping *gr)
{
	long idx;
	rdb_rc rc;

	if ((rc = group_key(p, q)) != RDB_OK ||
	    (rc = find_group(p, q, gr, &idx)) != RDB_OK)
		return rc;
	if (idx < 0)
		return spill_row(q, gr);
	if ((rc = agg_step(p, q, &gr->g[idx])) != RDB_OK)
		return rc;
	if (gr->spill == NULL && gr->mem > gr->budget && q->ngroup > 0)
		return start_spill(p, gr);
	return RDB_OK;
}

/* The groups in a table; with pending, the join's current row is the
 * first row (the hash table of q->hash_group was over budget). */
static rdb_rc materialize_groups(sql_prog *p, query *q, int pending)
{
	grouping gr;
	sorter_opts o;
	long idx;
	int i;
	rdb_rc rc;

	memset(&gr, 0, sizeof(gr));
	mrows_init(&gr.store, 0);
	sorter_opts_for(p->t, &o);
	gr.budget = o.budget;
	for (i = 0; i < q->nsrc; i++)
		gr.width += q->src[i].nvals;
	if ((rc = open_out(p, q, q->sort, q->nout)) != RDB_OK)
		return rc;
	rc = pending ? RDB_ROW : join_next(p, q);
	while (rc == RDB_ROW && (rc = group_row(p, q, &gr)) == RDB_OK)
		rc = join_next(p, q);
	if (rc == RDB_DONE && gr.n == 0 && q->ngroup == 0) {
		/* An aggregate over no rows still gives one row. */
		rdb_buf_reset(&q->r->kbuf);
		rc = new_group(p, q, &gr, &idx, 0);
		if (rc == RDB_OK)
			rc = RDB_DONE;
	}
	if (rc == RDB_DONE)
		rc = emit_groups(p, q, &gr);
	grouping_free(&gr, q->nagg);
	if (rc == RDB_OK)
		rc = sorter_finish(q->r->srt);
	return rc;
}

/* ---- GROUP BY in key order --------------------------------------------------- *
 * When the plan says the joined rows arrive grouped (q->stream_group:
 * the outermost source is read in the order of the GROUP BY columns,
 * plan.c), one group is aggregated at a time: no group table, no spill,
 * and the groups come out in the order the group table would emit them.
 * The first row of a new key ends the group before it.  That row stays
 * current in the join (no cursor moves) while the finished group is made
 * current from its copy; the next call makes the join's rows current
 * again and opens the new group with that row. */

typedef struct saved_row {
	const tbl_value *row;
	int null_row;
} saved_row;

struct sgroup {
	group g;                   /* the open group: aggs owned, rep = rep */
	rdb_buf key;               /* owned: its key */
	tbl_value *rep;            /* owned: width values, its first row */
	tbl_value *tmp;            /* owned: width values */
	rdb_buf rep_bytes;         /* owned: their bytes */
	saved_row *saved;          /* owned: nsrc rows of the join */
	uint64_t outer;            /* the outermost source's nrow when the
				     key was last computed */
	int width;
	int have;                  /* a group is open */
	int pending;               /* the join's row opens the next group */
	int done;                  /* the join has no more rows */
};

static void sgroup_free(sgroup *sg, int nagg)
{
	int j;

	if (sg == NULL)
		return;
	for (j = 0; sg->g.aggs != NULL && j < nagg; j++)
		sql_agg_free(&sg->g.aggs[j]);
	rdb_free(sg->g.aggs);
	rdb_buf_free(&sg->key);
	rdb_free(sg->rep);
	rdb_free(sg->tmp);
	rdb_buf_free(&sg->rep_bytes);
	rdb_free(sg->saved);
	rdb_free(sg);
}

static rdb_rc sgroup_new(sql_prog *p, query *q)
{
	sgroup *sg;
	int i;

	if ((sg = rdb_calloc(1, sizeof(*sg))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	q->r->sg = sg;
	for (i = 0; i < q->nsrc; i++)
		sg->width += q->src[i].nvals;
	sg->rep = rdb_calloc((size_t)sg->width + 1, sizeof(tbl_value));
	sg->tmp = rdb_calloc((size_t)sg->width + 1, sizeof(tbl_value));
	sg->saved = rdb_calloc((size_t)q->nsrc + 1, sizeof(saved_row));
	sg->g.aggs = rdb_calloc((size_t)q->nagg + 1, sizeof(sql_agg));
	if (sg->rep == NULL || sg->tmp == NULL || sg->saved == NULL ||
	    sg->g.aggs == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	return RDB_OK;
}

/* Open a group with the current row, whose key is in r->kbuf. */
static rdb_rc sgroup_open(sql_prog *p, query *q, sgroup *sg)
{
	rdb_buf *b = &q->r->kbuf;
	int j;
	rdb_rc rc;

	rdb_buf_reset(&sg->key);
	if (rdb_buf_append(&sg->key, b->p, b->n) != RDB_OK)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	src_values(q, sg->tmp);
	if ((rc = mrows_copy_row(&sg->rep_bytes, sg->rep, sg->tmp, sg->width,
				 p->cx.err)) != RDB_OK)
		return rc;
	sg->g.rep = sg->rep;
	for (j = 0; j < q->nagg; j++) {
		sql_agg_free(&sg->g.aggs[j]);
		if ((rc = sql_agg_init(&p->cx, &sg->g.aggs[j], q->aggs[j].fn,
				       q->aggs[j].distinct)) != RDB_OK)
			return rc;
	}
	sg->have = 1;
	sg->outer = q->src[q->jorder[0]].nrow;
	return agg_step(p, q, &sg->g);
}

/* Close the open group: its row current, its aggregates' results in
 * r->aggv; *pass = HAVING holds. */
static rdb_rc sgroup_close(sql_prog *p, query *q, sgroup *sg, int *pass)
{
	run *r = q->r;
	int j;
	rdb_rc rc;

	*pass = 1;
	sg->have = 0;
	set_src_rows(q, sg->rep);
	free_aggv(r, q->nagg);
	for (j = 0; j < q->nagg; j++)
		if ((rc = sql_agg_final(&p->cx, &sg->g.aggs[j],
					&r->aggv[j])) != RDB_OK)
			return rc;
	if (q->having != NULL &&
	    (rc = eval_truth(p, q, q->having, pass)) != RDB_OK)
		return rc;
	*pass = *pass == 1;
	return RDB_OK;
}

static void save_rows(query *q, sgroup *sg)
{
	int i;

	for (i = 0; i < q->nsrc; i++) {
		sg->saved[i].row = q->src[i].row;
		sg->saved[i].null_row = q->src[i].null_row;
	}
}

static void restore_rows(query *q, const sgroup *sg)
{
	int i;

	for (i = 0; i < q->nsrc; i++) {
		q->src[i].row = sg->saved[i].row;
		q->src[i].null_row = sg->saved[i].null_row;
	}
}

/* The row of the join opens the next group: back from emitting. */
static rdb_rc sgroup_resume(sql_prog *p, query *q, sgroup *sg)
{
	rdb_rc rc;

	restore_rows(q, sg);
	sg->pending = 0;
	if ((rc = group_key(p, q)) != RDB_OK)
		return rc;
	return sgroup_open(p, q, sg);
}

static int same_key(const sgroup *sg, const rdb_buf *b)
{
	return sg->key.n == b->n && (b->n == 0 ||
				     memcmp(sg->key.p, b->p, b->n) == 0);
}

/* RDB_ROW with the next group (passing HAVING) current, or RDB_DONE. */
static rdb_rc stream_next(sql_prog *p, query *q)
{
	sgroup *sg = q->r->sg;
	int pass;
	rdb_rc rc;

	if (sg == NULL && (rc = sgroup_new(p, q)) != RDB_OK)
		return rc;
	sg = q->r->sg;
	if (sg->pending && (rc = sgroup_resume(p, q, sg)) != RDB_OK)
		return rc;
	while (!sg->done) {
		if ((rc = join_next(p, q)) == RDB_DONE) {
			sg->done = 1;
			break;
		}
		if (rc != RDB_ROW)
			return rc;
		/* The key reads the outermost source alone: while its row
		 * stays, so does the key. */
		if (sg->have && q->src[q->jorder[0]].nrow == sg->outer) {
			if ((rc = agg_step(p, q, &sg->g)) != RDB_OK)
				return rc;
			continue;
		}
		if ((rc = group_key(p, q)) != RDB_OK)
			return rc;
		sg->outer = q->src[q->jorder[0]].nrow;
		if (!sg->have || same_key(sg, &q->r->kbuf)) {
			rc = sg->have ? agg_step(p, q, &sg->g)
				      : sgroup_open(p, q, sg);
			if (rc != RDB_OK)
				return rc;
			continue;
		}
		save_rows(q, sg);
		sg->pending = 1;
		if ((rc = sgroup_close(p, q, sg, &pass)) != RDB_OK)
			return rc;
		if (pass)
			return RDB_ROW;
		if ((rc = sgroup_resume(p, q, sg)) != RDB_OK)
			return rc;
	}
	while (sg->have) {
		if ((rc = sgroup_close(p, q, sg, &pass)) != RDB_OK)
			return rc;
		if (pass)
			return RDB_ROW;
	}
	return RDB_DONE;
}

/* GROUP BY in key order with ORDER BY: the groups' rows into the
 * sorter. */
static rdb_rc materialize_streamed(sql_prog *p, query *q)
{
	rdb_rc rc;

	if ((rc = open_out(p, q, 1, q->nout)) != RDB_OK)
		return rc;
	while ((rc = stream_next(p, q)) == RDB_ROW)
		if ((rc = push_row(p, q)) != RDB_OK)
			return rc;
	if (rc != RDB_DONE)
		return rc;
	return sorter_finish(q->r->srt);
}

/* ---- GROUP BY through the hash table ------------------------------------------ *
 * When the plan groups by the key of the source read through a hash table
 * (q->hash_group, plan.c), each of its rows is a group: every joined row
 * is aggregated into the accumulators of the row it found, and the rows
 * that found any come out in the order they were entered, which is the
 * table's key order and so the groups' order.  Its rows are all a group
 * shows (the plan checked that nothing outside an aggregate reads the
 * other source). */

struct hgroup {
	sql_agg *aggs;             /* owned: nrows * nagg, those of hit rows
				     initialised */
	uint8_t *hit;              /* owned: per row, a joined row found it */
	long nrows;
	long pos;                  /* the next row to emit */
	int fallback;              /* the table was over budget: the groups
				     went through the group table instead */
};

static void hgroup_free(hgroup *hg, int nagg)
{
	long i;
	int j;

	if (hg == NULL)
		return;
	for (i = 0; i < hg->nrows; i++)
		for (j = 0; hg->hit[i] && j < nagg; j++)
			sql_agg_free(&hg->aggs[i * nagg + j]);
	rdb_free(hg->aggs);
	rdb_free(hg->hit);
	rdb_free(hg);
}

/* The joined row into the accumulators of the row it found. */
static rdb_rc hgroup_row(sql_prog *p, query *q, hgroup *hg)
{
	long i = hj_row(&q->src[q->jorder[1]]);
	group g = { .aggs = hg->aggs + i * q->nagg };
	int j;
	rdb_rc rc;

	if (!hg->hit[i]) {
		hg->hit[i] = 1;
		for (j = 0; j < q->nagg; j++)
			if ((rc = sql_agg_init(&p->cx, &g.aggs[j], q->aggs[j].fn,
					       q->aggs[j].distinct)) != RDB_OK)
				return rc;
	}
	return agg_step(p, q, &g);
}

/* Aggregate every joined row (the first call of a run). */
static rdb_rc hgroup_fill(sql_prog *p, query *q)
{
	qsrc *gs = &q->src[q->jorder[1]];
	hgroup *hg;
	rdb_rc rc;

	if ((hg = q->r->hg = rdb_calloc(1, sizeof(*hg))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	if ((rc = join_next(p, q)) != RDB_ROW)
		return rc == RDB_DONE ? RDB_OK : rc;
	if (!hj_active(gs)) {
		hg->fallback = 1;
		return materialize_groups(p, q, 1);
	}
	/* The table is built: its rows are the groups. */
	hg->nrows = gs->sub_rows.n;
	hg->aggs = rdb_calloc((size_t)hg->nrows * (size_t)q->nagg + 1,
			      sizeof(sql_agg));
	hg->hit = rdb_calloc((size_t)hg->nrows + 1, 1);
	if (hg->aggs == NULL || hg->hit == NULL) {
		hg->nrows = 0;
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	}
	do {
		if ((rc = hgroup_row(p, q, hg)) != RDB_OK)
			return rc;
	} while ((rc = join_next(p, q)) == RDB_ROW);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* RDB_ROW with the next group (passing HAVING) current, or RDB_DONE. */
static rdb_rc hgroup_next(sql_prog *p, query *q)
{
	hgroup *hg = q->r->hg;
	qsrc *gs = &q->src[q->jorder[1]], *os = &q->src[q->jorder[0]];
	sql_agg *a;
	long i;
	int j, pass = 1;
	rdb_rc rc;

	while (hg->pos < hg->nrows) {
		i = hg->pos++;
		if (!hg->hit[i])
			continue;
		a = hg->aggs + i * q->nagg;
		gs->row = mrows_row(&gs->sub_rows, i);
		gs->null_row = 0;
		os->row = os->nulls;
		os->null_row = 1;
		free_aggv(q->r, q->nagg);
		for (j = 0; j < q->nagg; j++)
			if ((rc = sql_agg_final(&p->cx, &a[j],
						&q->r->aggv[j])) != RDB_OK)
				return rc;
		if (q->having != NULL &&
		    (rc = eval_truth(p, q, q->having, &pass)) != RDB_OK)
			return rc;
		if (pass == 1)
			return RDB_ROW;
	}
	return RDB_DONE;
}

/* Start a run of q->hash_group: the groups are ready to come out of
 * hgroup_next(), or in r->srt (r->mready) when sorted or when the
 * group table stood in. */
static rdb_rc hgroup_start(sql_prog *p, query *q)
{
	run *r = q->r;
	rdb_rc rc;

	if ((rc = hgroup_fill(p, q)) != RDB_OK || r->hg->fallback)
		return rc == RDB_OK ? (r->mready = 1, RDB_OK) : rc;
	if (!q->sort)
		return RDB_OK;
	if ((rc = open_out(p, q, 1, q->nout)) != RDB_OK)
		return rc;
	while ((rc = hgroup_next(p, q)) == RDB_ROW)
		if ((rc = push_row(p, q)) != RDB_OK)
			return rc;
	if (rc != RDB_DONE || (rc = sorter_finish(r->srt)) != RDB_OK)
		return rc;
	r->mready = 1;
	return RDB_OK;
}

/* ---- compound selects ----------------------------------------------------------- *
 * The rows so far live in an unfinished sorter: a set (every column
 * ascending, duplicates dropped) after UNION, INTERSECT and EXCEPT, else
 * in the order they came (UNION ALL), so any of them may spill. */

typedef struct comp {
	sorter *s;                 /* owned */
	int set;
} comp;

static rdb_rc comp_new(sql_prog *p, query *q, int set, comp *c)
{
	sorter_opts o;

	sorter_opts_for(p->t, &o);
	o.width = q->nout;
	o.ncols = set ? 0 : SORTER_KEEP_ORDER;
	o.cols = o.desc = o.nulls_first = NULL;
	o.dedupe = set;
	c->set = set;
	return sorter_new(&o, p->cx.err, &c->s);
}

/* Add the rows of the compound's term t to s. */
static rdb_rc term_rows(sql_prog *p, query *t, sorter *s)
{
	tbl_value stack[64], *row = stack;
	int i;
	rdb_rc rc;

	if (t->nout > 64 &&
	    (row = rdb_malloc((size_t)t->nout * sizeof(*row))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = query_open(p, t);
	while (rc == RDB_OK && (rc = query_next(p, t)) == RDB_ROW) {
		for (i = 0; i < t->nout; i++)
			row[i] = sql_value_tbl(&t->r->outv[i]);
		rc = sorter_add(s, row);
	}
	query_close(p, t);
	if (row != stack)
		rdb_free(row);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* Finish src and add its rows to dst; src is freed. */
static rdb_rc drain(sorter *src, sorter *dst)
{
	const tbl_value *row;
	rdb_rc rc = sorter_finish(src);

	while (rc == RDB_OK && (rc = sorter_next(src, &row)) == RDB_ROW)
		rc = sorter_add(dst, row);
	sorter_free(src);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* Make acc a set (set = 1) or a list in order (set = 0). */
static rdb_rc comp_as(sql_prog *p, query *q, comp *acc, int set)
{
	comp n;
	rdb_rc rc;

	if (acc->set == set)
		return RDB_OK;
	if ((rc = comp_new(p, q, set, &n)) != RDB_OK)
		return rc;
	rc = drain(acc->s, n.s);
	*acc = n;
	return rc;
}

static int row_cmp(const tbl_value *a, const tbl_value *b, int w)
{
	int i, c;

	for (i = 0; i < w; i++)
		if ((c = tbl_value_cmp(&a[i], &b[i])) != 0)
			return c;
	return 0;
}

/* Walk the sets a and b (finished) in step and add to out the rows of a
 * that are in b (keep = 1: INTERSECT) or are not (keep = 0: EXCEPT). */
static rdb_rc set_merge(query *q, sorter *a, sorter *b, sorter *out,
			int keep)
{
	const tbl_value *x, *y = NULL;
	rdb_rc rx = RDB_DONE, ry = sorter_next(b, &y), rc = RDB_OK;
	int c;

	while (rc == RDB_OK && (rx = sorter_next(a, &x)) == RDB_ROW) {
		c = -1;
		while (ry == RDB_ROW && (c = row_cmp(x, y, q->nout)) > 0)
			ry = sorter_next(b, &y);
		if (ry != RDB_ROW && ry != RDB_DONE)
			return ry;
		if (ry == RDB_DONE)
			c = -1;
		if ((c == 0) == keep)
			rc = sorter_add(out, x);
	}
	if (rc == RDB_OK && rx != RDB_DONE)
		rc = rx;
	if (rc == RDB_OK && ry != RDB_ROW && ry != RDB_DONE)
		rc = ry;
	return rc;
}

/* acc = acc INTERSECT / EXCEPT term t.  An empty acc stays empty and t
 * is not run (SQLite's merge of ORDER BY compounds stops there too: a
 * costly right-hand term of an empty left one costs nothing). */
static rdb_rc intersect_except(sql_prog *p, query *q, comp *acc, query *t,
			       int keep)
{
	comp tc = { NULL, 1 }, out = { NULL, 1 };
	rdb_rc rc;

	if ((rc = comp_as(p, q, acc, 1)) != RDB_OK ||
	    sorter_count(acc->s) == 0)
		return rc;
	if ((rc = comp_new(p, q, 1, &tc)) == RDB_OK &&
	    (rc = term_rows(p, t, tc.s)) == RDB_OK &&
	    (rc = sorter_finish(tc.s)) == RDB_OK &&
	    (rc = sorter_finish(acc->s)) == RDB_OK &&
	    (rc = comp_new(p, q, 1, &out)) == RDB_OK)
		rc = set_merge(q, acc->s, tc.s, out.s, keep);
	sorter_free(tc.s);
	sorter_free(acc->s);
	*acc = out;
	return rc;
}

static rdb_rc materialize_compound(sql_prog *p, query *q)
{
	run *r = q->r;
	comp acc = { NULL, 0 };
	int i;
	rdb_rc rc;

	rc = comp_new(p, q, q->ops[1] != SQL_UNION_ALL, &acc);
	if (rc == RDB_OK)
		rc = term_rows(p, q->terms[0], acc.s);
	for (i = 1; i < q->nterms && rc == RDB_OK; i++) {
		sql_compound op = q->ops[i];

		if (op == SQL_UNION_ALL || op == SQL_UNION) {
			if ((rc = comp_as(p, q, &acc, op == SQL_UNION)) == RDB_OK)
				rc = term_rows(p, q->terms[i], acc.s);
		} else {
			rc = intersect_except(p, q, &acc, q->terms[i],
					      op == SQL_INTERSECT);
		}
	}
	if (rc == RDB_OK && q->norder > 0 &&
	    (rc = open_out(p, q, 1, -1)) == RDB_OK) {
		rc = drain(acc.s, r->srt);
		acc.s = NULL;
		if (rc == RDB_OK)
			rc = sorter_finish(r->srt);
	} else if (rc == RDB_OK) {
		sorter_free(r->srt);
		r->srt = acc.s;
		acc.s = NULL;
		rc = sorter_finish(r->srt);
	}
	sorter_free(acc.s);
	return rc;
}

/* ---- the next row ---------------------------------------------------------------- */

/* Produce the next candidate row into outv (before DISTINCT/LIMIT). */
static rdb_rc next_candidate(sql_prog *p, query *q)
{
	run *r = q->r;
	const tbl_value *row;
	int i;
	rdb_rc rc;

	if (q->hash_group && r->hg == NULL &&
	    (rc = hgroup_start(p, q)) != RDB_OK)
		return rc;
	if (q->hash_group && !r->mready) {
		if ((rc = hgroup_next(p, q)) != RDB_ROW)
			return rc;
		return compute_out(p, q) == RDB_OK ? RDB_ROW : p->cx.err->rc;
	}
	if (q->stream_group && !q->sort) {
		if ((rc = stream_next(p, q)) != RDB_ROW)
			return rc;
		return compute_out(p, q) == RDB_OK ? RDB_ROW : p->cx.err->rc;
	}
	if (!r->mready && (q->nterms > 1 || q->agg || q->sort)) {
		rc = q->nterms > 1 ? materialize_compound(p, q)
		     : q->stream_group ? materialize_streamed(p, q)
		     : q->agg ? materialize_groups(p, q, 0)
			      : materialize_sorted(p, q);
		if (rc != RDB_OK)
			return rc;
		r->mready = 1;
	}
	if (r->mready) {
		if (r->srt != NULL) {
			if ((rc = sorter_next(r->srt, &row)) != RDB_ROW)
				return rc;
		} else if (r->mpos >= r->m.n) {
			return RDB_DONE;
		} else {
			row = mrows_row(&r->m, r->mpos++);
		}
		free_outv(r, q->nout);
		for (i = 0; i < q->nout; i++)
			sql_value_from_tbl(&r->outv[i], &row[i]);
		return RDB_ROW;
	}
	if (q->nvalues > 0) {
		if (r->mpos >= q->nvalues)
			return RDB_DONE;
		free_outv(r, q->nout);
		for (i = 0; i < q->nout; i++)
			if ((rc = eval(p, q, q->values[r->mpos].items[i],
				       &r->outv[i])) != RDB_OK)
				return rc;
		r->mpos++;
		return RDB_ROW;
	}
	if ((rc = join_next(p, q)) != RDB_ROW)
		return rc;
	return compute_out(p, q) == RDB_OK ? RDB_ROW : p->cx.err->rc;
}

/* The DISTINCT key of n values (equal rows, equal bytes) into b. */
static rdb_rc row_key(sql_prog *p, const tbl_value *row, int n, rdb_buf *b)
{
	int i;

	rdb_buf_reset(b);
	for (i = 0; i < n; i++)
		if (tbl_key_append(b, &row[i], 0) != RDB_OK)
			return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	return RDB_OK;
}

/* The DISTINCT key of the row in outv (borrowing r->kbuf). */
static rdb_rc distinct_key(sql_prog *p, query *q, sql_value *key)
{
	run *r = q->r;
	tbl_value t;
	int i;

	rdb_buf_reset(&r->kbuf);
	for (i = 0; i < q->nout; i++) {
		t = sql_value_tbl(&r->outv[i]);
		if (tbl_key_append(&r->kbuf, &t, 0) != RDB_OK)
			return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	}
	sql_value_borrow(key, TBL_BLOB, r->kbuf.p, r->kbuf.n);
	return RDB_OK;
}

/* Is the row in outv new?  (DISTINCT) */
static rdb_rc is_new(sql_prog *p, query *q, int *added)
{
	sql_value key;
	rdb_rc rc;

	if ((rc = distinct_key(p, q, &key)) != RDB_OK)
		return rc;
	return sql_distinct_add(&p->cx, q->r->seen, &key, added);
}

/*
 * DISTINCT whose set of rows passed its budget (half the cache, as for a
 * sort): the row in outv and all the rows still to come go into a sorter
 * that may spill to disk; distinct_next() then emits those not already
 * emitted (the set stops growing).  Without ORDER BY the sorter drops
 * duplicates and the rows after the switch come out in the order of
 * their values, which SQL leaves unspecified.  With ORDER BY each row
 * also carries its place in the sorted stream, and distinct_reorder()
 * puts the first of each set of equal rows back in that order: the
 * output is the one the hash set alone would give.
 */
static rdb_rc distinct_reorder(sql_prog *p, query *q);

static rdb_rc distinct_spill(sql_prog *p, query *q)
{
	run *r = q->r;
	sorter_opts o;
	tbl_value *row;
	int64_t place = 0;
	int i, ordered = q->norder > 0;
	rdb_rc rc;

	sorter_opts_for(p->t, &o);
	o.width = q->nout + ordered;
	o.ncols = 0;
	o.dedupe = !ordered;
	if ((row = rdb_calloc((size_t)o.width, sizeof(*row))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = sorter_new(&o, p->cx.err, &r->dsrt);
	while (rc == RDB_OK) {
		for (i = 0; i < q->nout; i++)
			row[i] = sql_value_tbl(&r->outv[i]);
		if (ordered)
			row[q->nout] = (tbl_value){ .cls = TBL_INT,
						    .i = place++ };
		if ((rc = sorter_add(r->dsrt, row)) != RDB_OK)
			break;
		if ((rc = next_candidate(p, q)) == RDB_DONE) {
			rc = sorter_finish(r->dsrt);
			break;
		}
		if (rc == RDB_ROW)
			rc = RDB_OK;
	}
	rdb_free(row);
	if (rc == RDB_OK && ordered)
		rc = distinct_reorder(p, q);
	return rc;
}

/* Copy the first row of each run of equal result columns (the least
 * place: equal rows come ordered by it) that was not emitted before the
 * switch from r->dsrt into a sorter by place, which replaces it. */
static rdb_rc distinct_reorder(sql_prog *p, query *q)
{
	run *r = q->r;
	const tbl_value *row;
	sorter *by_place = NULL;
	rdb_buf prev = { 0 };
	sql_value key;
	int have_prev = 0;
	rdb_rc rc;

	rc = sorter_by(p, q->nout + 1, q->nout, &by_place);
	while (rc == RDB_OK &&
	       (rc = sorter_next(r->dsrt, &row)) == RDB_ROW) {
		if ((rc = row_key(p, row, q->nout, &r->kbuf)) != RDB_OK)
			break;
		if (have_prev && prev.n == r->kbuf.n &&
		    memcmp(prev.p, r->kbuf.p, prev.n) == 0)
			continue;
		have_prev = 1;
		rdb_buf_reset(&prev);
		if (rdb_buf_append(&prev, r->kbuf.p, r->kbuf.n) != RDB_OK) {
			rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
			break;
		}
		sql_value_borrow(&key, TBL_BLOB, r->kbuf.p, r->kbuf.n);
		rc = sql_distinct_has(r->seen, &key) ? RDB_OK
						       : sorter_add(by_place, row);
	}
	if (rc == RDB_DONE)
		rc = sorter_finish(by_place);
	rdb_buf_free(&prev);
	sorter_free(r->dsrt);
	r->dsrt = by_place;
	return rc;
}

/* The next row of the DISTINCT sorter not emitted before the switch. */
static rdb_rc distinct_next(sql_prog *p, query *q)
{
	run *r = q->r;
	const tbl_value *row;
	sql_value key;
	rdb_rc rc;
	int i;

	for (;;) {
		if ((rc = sorter_next(r->dsrt, &row)) != RDB_ROW)
			return rc;
		free_outv(r, q->nout);
		for (i = 0; i < q->nout; i++)
			sql_value_from_tbl(&r->outv[i], &row[i]);
		if ((rc = distinct_key(p, q, &key)) != RDB_OK)
			return rc;
		if (!sql_distinct_has(r->seen, &key))
			return RDB_ROW;
	}
}

/* The next candidate that DISTINCT lets through (RDB_ROW in outv). */
static rdb_rc next_distinct(sql_prog *p, query *q)
{
	run *r = q->r;
	int added = 0;
	rdb_rc rc;

	while (r->dsrt == NULL && !added) {
		if ((rc = next_candidate(p, q)) != RDB_ROW)
			return rc;
		if (r->dbudget > 0 &&
		    sql_distinct_bytes(r->seen) > r->dbudget) {
			if ((rc = distinct_spill(p, q)) != RDB_OK)
				return rc;
			break;
		}
		if ((rc = is_new(p, q, &added)) != RDB_OK)
			return rc;
	}
	return added ? RDB_ROW : distinct_next(p, q);
}

rdb_rc query_next(sql_prog *p, query *q)
{
	run *r = q->r;
	rdb_rc rc;

	for (;;) {
		if (r->limit >= 0 && r->emitted >= r->limit)
			return RDB_DONE;
		rc = q->distinct ? next_distinct(p, q) : next_candidate(p, q);
		if (rc != RDB_ROW)
			return rc;
		if (r->offset > 0) {
			r->offset--;
			continue;
		}
		r->emitted++;
		return RDB_ROW;
	}
}
