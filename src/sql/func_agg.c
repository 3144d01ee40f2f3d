/*
 * func_agg.c -- aggregate accumulators (count, sum, total, avg, min, max,
 * group_concat) and the DISTINCT value set (contract in func.h; design in
 * src/sql/README.md, "Values and functions").
 */
#include "sql/func.h"
#include <assert.h>
#include <math.h>
#include <string.h>
#include "mem.h"

/* ---- DISTINCT: open addressing over owned values --------------------------- */

struct sql_distinct {
	sql_value *slots;         /* owned; TBL_NULL class marks a free slot */
	uint8_t *used;            /* owned; 1 where slots[i] holds a value */
	size_t cap;               /* power of two */
	size_t n;
	size_t bytes;             /* of the values' text and blob bytes */
	int has_null;             /* NULL is a value of its own */
};

/* A hash that agrees with sql_value_cmp(): equal numbers (2 and 2.0)
 * hash alike because both hash their double value. */
static uint64_t hash_value(const sql_value *v)
{
	const unsigned char *p;
	uint64_t h = 1469598103934665603ull;
	double r;
	size_t i;

	switch (v->v.cls) {
	case TBL_INT:
	case TBL_REAL:
		r = v->v.cls == TBL_INT ? (double)v->v.i : v->v.r;
		if (r == 0.0)
			r = 0.0;        /* -0.0 equals 0 */
		memcpy(&h, &r, sizeof(h));
		h ^= h >> 29;
		h *= 0xBF58476D1CE4E5B9ull;
		return h ^ (h >> 32);
	default:
		p = sql_value_ptr(v);
		for (i = 0; i < v->v.n; i++)
			h = (h ^ p[i]) * 1099511628211ull;
		return h ^ (uint64_t)v->v.cls;
	}
}

rdb_rc sql_distinct_new(sql_ctx *cx, sql_distinct **out)
{
	sql_distinct *d = rdb_calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	*out = d;
	return RDB_OK;
}

static rdb_rc grow(sql_ctx *cx, sql_distinct *d)
{
	size_t cap = d->cap ? d->cap * 2 : 16, i, j;
	sql_value *slots = rdb_calloc(cap, sizeof(*slots));
	uint8_t *used = rdb_calloc(cap, 1);

	if (slots == NULL || used == NULL) {
		rdb_free(slots);
		rdb_free(used);
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	}
	for (i = 0; i < d->cap; i++) {
		if (!d->used[i])
			continue;
		j = hash_value(&d->slots[i]) & (cap - 1);
		while (used[j])
			j = (j + 1) & (cap - 1);
		slots[j] = d->slots[i];   /* moves ownership */
		used[j] = 1;
	}
	rdb_free(d->slots);
	rdb_free(d->used);
	d->slots = slots;
	d->used = used;
	d->cap = cap;
	return RDB_OK;
}

rdb_rc sql_distinct_add(sql_ctx *cx, sql_distinct *d, const sql_value *v,
			int *added)
{
	size_t j;
	rdb_rc rc;

	*added = 0;
	if (v->v.cls == TBL_NULL) {
		*added = !d->has_null;
		d->has_null = 1;
		return RDB_OK;
	}
	if ((d->n + 1) * 4 > d->cap * 3 && (rc = grow(cx, d)) != RDB_OK)
		return rc;
	j = hash_value(v) & (d->cap - 1);
	for (; d->used[j]; j = (j + 1) & (d->cap - 1))
		if (sql_value_cmp(&d->slots[j], v) == 0)
			return RDB_OK;
	if ((rc = sql_value_copy(cx, &d->slots[j], v)) != RDB_OK)
		return rc;
	d->used[j] = 1;
	d->n++;
	if (v->v.cls == TBL_TEXT || v->v.cls == TBL_BLOB)
		d->bytes += v->v.n;
	*added = 1;
	return RDB_OK;
}

int sql_distinct_has(const sql_distinct *d, const sql_value *v)
{
	size_t j;

	if (v->v.cls == TBL_NULL)
		return d->has_null;
	if (d->cap == 0)
		return 0;
	j = hash_value(v) & (d->cap - 1);
	for (; d->used[j]; j = (j + 1) & (d->cap - 1))
		if (sql_value_cmp(&d->slots[j], v) == 0)
			return 1;
	return 0;
}

size_t sql_distinct_bytes(const sql_distinct *d)
{
	return sizeof(*d) + d->cap * (sizeof(*d->slots) + 1) + d->bytes;
}

size_t sql_distinct_count(const sql_distinct *d)
{
	return d->n + (size_t)d->has_null;
}

void sql_distinct_free(sql_distinct *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->cap; i++)
		if (d->used[i])
			sql_value_free(&d->slots[i]);
	rdb_free(d->slots);
	rdb_free(d->used);
	rdb_free(d);
}

/* ---- aggregates ------------------------------------------------------------------ */

rdb_rc sql_agg_init(sql_ctx *cx, sql_agg *a, const sql_func *f,
		    int distinct)
{
	assert(f->agg != SQL_AGG_NONE);
	memset(a, 0, sizeof(*a));
	sql_value_null(&a->best);
	a->kind = f->agg;
	if (distinct)
		return sql_distinct_new(cx, &a->distinct);
	return RDB_OK;
}

/* sum, total and avg: integers add exactly until one overflows; any
 * other value (text by its numeric prefix) makes the sum approximate. */
static rdb_rc sum_step(sql_agg *a, const sql_value *x)
{
	sql_value v = *x;

	if (v.v.cls == TBL_TEXT)
		sql_value_apply_aff(&v, SQL_AFF_NUMERIC);
	if (v.v.cls == TBL_NULL)
		return RDB_OK;
	a->cnt++;
	if (v.v.cls == TBL_INT) {
		a->rsum += (double)v.v.i;
		if (!a->approx && !a->overflow &&
		    __builtin_add_overflow(a->isum, v.v.i, &a->isum))
			a->approx = a->overflow = 1;
	} else {
		a->rsum += sql_value_to_real(&v);
		a->approx = 1;
	}
	return RDB_OK;
}

static rdb_rc minmax_step(sql_ctx *cx, sql_agg *a, const sql_value *x)
{
	int c;

	/* SQLite loads the bare columns from every row until the first
	 * value, then only from rows that improve on the best. */
	a->load_row = a->best.v.cls == TBL_NULL;
	if (x->v.cls == TBL_NULL)
		return RDB_OK;
	if (a->best.v.cls != TBL_NULL) {
		c = sql_value_cmp(&a->best, x);
		if (a->kind == SQL_AGG_MAX ? c >= 0 : c <= 0)
			return RDB_OK;
	}
	a->load_row = 1;
	sql_value_free(&a->best);
	return sql_value_copy(cx, &a->best, x);
}

static rdb_rc concat_step(sql_ctx *cx, sql_agg *a, int argc,
			  const sql_value *argv)
{
	char t0[SQL_NUM_TEXT], t1[SQL_NUM_TEXT];
	const unsigned char *p, *sep = (const unsigned char *)",";
	size_t n, nsep = 1;

	if (argv[0].v.cls == TBL_NULL)
		return RDB_OK;
	if (argc == 2)
		sql_value_text(&argv[1], t1, &sep, &nsep);
	sql_value_text(&argv[0], t0, &p, &n);
	if (a->text.n + n + (a->started ? nsep : 0) > sql_max_len(cx))
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	if (rdb_buf_reserve(&a->text, n + nsep + 1) != RDB_OK)
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	if (a->started && sep != NULL)
		(void)rdb_buf_append(&a->text, sep, nsep);
	(void)rdb_buf_append(&a->text, p, n);
	a->started = 1;
	return RDB_OK;
}

rdb_rc sql_agg_step(sql_ctx *cx, sql_agg *a, int argc, const sql_value *argv)
{
	int added;
	rdb_rc rc;

	if (a->distinct != NULL && argc > 0) {
		if (argv[0].v.cls == TBL_NULL)
			return RDB_OK;
		rc = sql_distinct_add(cx, a->distinct, &argv[0], &added);
		if (rc != RDB_OK || !added)
			return rc;
	}
	switch (a->kind) {
	case SQL_AGG_COUNT:
		if (argc == 0 || argv[0].v.cls != TBL_NULL)
			a->cnt++;
		return RDB_OK;
	case SQL_AGG_SUM: case SQL_AGG_TOTAL: case SQL_AGG_AVG:
		return sum_step(a, &argv[0]);
	case SQL_AGG_MIN: case SQL_AGG_MAX:
		return minmax_step(cx, a, &argv[0]);
	case SQL_AGG_GROUP_CONCAT:
		return concat_step(cx, a, argc, argv);
	default:
		assert(0);
		return RDB_INTERNAL;
	}
}

rdb_rc sql_agg_final(sql_ctx *cx, sql_agg *a, sql_value *out)
{
	sql_value_null(out);
	switch (a->kind) {
	case SQL_AGG_COUNT:
		sql_value_int(out, a->cnt);
		return RDB_OK;
	case SQL_AGG_SUM:
		if (a->cnt == 0)
			return RDB_OK;
		if (a->overflow)
			return rdb_err_set(cx->err, RDB_ERROR,
					   "integer overflow");
		if (a->approx)
			sql_value_real(out, a->rsum);
		else
			sql_value_int(out, a->isum);
		return RDB_OK;
	case SQL_AGG_TOTAL:
		sql_value_real(out, a->rsum);
		return RDB_OK;
	case SQL_AGG_AVG:
		if (a->cnt > 0)
			sql_value_real(out, a->rsum / (double)a->cnt);
		return RDB_OK;
	case SQL_AGG_MIN: case SQL_AGG_MAX:
		return sql_value_copy(cx, out, &a->best);
	case SQL_AGG_GROUP_CONCAT:
		if (!a->started)
			return RDB_OK;
		return sql_value_set_bytes(cx, out, TBL_TEXT, a->text.p,
					   a->text.n);
	default:
		assert(0);
		return RDB_INTERNAL;
	}
}

void sql_agg_free(sql_agg *a)
{
	if (a == NULL)
		return;
	sql_distinct_free(a->distinct);
	sql_value_free(&a->best);
	rdb_buf_free(&a->text);
	memset(a, 0, sizeof(*a));
}
