/*
 * check_table.c -- the table layer's rows, indexes and cursors against an
 * in-memory model ("model"): four tables (a composite ASC/DESC key, a
 * hidden rowid, an INTEGER PRIMARY KEY DESC, an ANY/REAL key with
 * converted values) with unique and non-unique indexes; random inserts,
 * updates (key changes too), deletes in the three conflict modes, table
 * and index scans in both directions with random bounds, point lookups,
 * rollbacks, reopens and index re-creation, with tbl_check and a page
 * census along the way.  Plus focused cases for rowids, conflicts and
 * cursors ("rows").
 *
 * Replay: RDB_TEST_SEED=<seed>.  Contract under test: src/table/table.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "table/table.h"
#include "test_util.h"
#include "tbl_util.h"

/* ---- the tables -------------------------------------------------------------- */

#define NT 4
#define MAXV 6
#define MAXR 2000

/* t4(k ANY, r REAL, f BOOLEAN, PRIMARY KEY(k DESC, r)), index (f, k DESC):
 * values that are converted (an integer into REAL) and keys that keep
 * numbers by value (2.0 in an ANY key reads back as 2). */
static void create_t4(tdb *d)
{
	tbl_column c[] = { tcol("k", "ANY", 0, 0), tcol("r", "REAL", 0, 0),
			   tcol("f", "BOOLEAN", 0, 0) };
	uint16_t pk[] = { 0, 1 }, cols[] = { 2, 0 };
	uint8_t desc[] = { 0, 1 };
	tbl_table t = { .name = "t4", .ncols = 3, .cols = c, .npk = 2,
			.pk = pk };
	tbl_index ix = { .name = "t4_fk", .ncols = 2, .cols = cols,
			 .desc = desc };

	c[0].pk_desc = 1;
	ck_assert_int_eq(tbl_create_table(d->t, d->s, &t), RDB_OK);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_index(d->t, d->s, "t4", &ix), RDB_OK);
}

static void create_tables(tdb *d)
{
	tbl_column c1[] = { tcol("a", "INTEGER", 0, 0), tcol("b", "TEXT", 0, 0),
			    tcol("c", "REAL", 0, 0), tcol("d", "BLOB", 0, 0),
			    tcol("e", "INTEGER", 0, 1) };
	tbl_column c2[] = { tcol("x", "TEXT", 0, 1), tcol("y", "INTEGER", 0, 0),
			    tcol("z", "BLOB", 0, 0) };
	tbl_column c3[] = { tcol("id", "INTEGER", 0, 0),
			    tcol("v", "TEXT", 1, 0), tcol("w", "INTEGER", 0, 0) };
	uint16_t pk1[] = { 0, 1 }, pk3[] = { 0 };
	uint16_t ix_cd[] = { 2, 3 }, ix_bc[] = { 1, 2 }, ix_y[] = { 1 };
	uint16_t ix_w[] = { 2 };
	uint8_t d_cd[] = { 1, 0 }, d_bc[] = { 0, 0 }, d_y[] = { 1 };
	uint8_t d_w[] = { 0 };
	tbl_table t1 = { .name = "t1", .ncols = 5, .cols = c1, .npk = 2,
			 .pk = pk1 };
	tbl_table t2 = { .name = "t2", .ncols = 3, .cols = c2 };
	tbl_table t3 = { .name = "t3", .ncols = 3, .cols = c3, .npk = 1,
			 .pk = pk3 };
	tbl_index i1 = { .name = "t1_cd", .ncols = 2, .cols = ix_cd,
			 .desc = d_cd };
	tbl_index i2 = { .name = "t1_bc", .ncols = 2, .cols = ix_bc,
			 .desc = d_bc, .unique = 1 };
	tbl_index i3 = { .name = "t2_y", .ncols = 1, .cols = ix_y,
			 .desc = d_y };
	tbl_index i4 = { .name = "t3_w", .ncols = 1, .cols = ix_w,
			 .desc = d_w, .unique = 1 };

	c1[1].pk_desc = 1;
	c3[0].pk_desc = 1;
	ck_assert_int_eq(tdb_begin(d, 1), RDB_OK);
	ck_assert_msg(tbl_create_table(d->t, d->s, &t1) == RDB_OK, "%s",
		      d->terr.msg);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_table(d->t, d->s, &t2), RDB_OK);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_table(d->t, d->s, &t3), RDB_OK);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_index(d->t, d->s, "t1", &i1), RDB_OK);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_index(d->t, d->s, "t1", &i2), RDB_OK);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_index(d->t, d->s, "t2", &i3), RDB_OK);
	tdb_refresh(d);
	ck_assert_int_eq(tbl_create_index(d->t, d->s, "t3", &i4), RDB_OK);
	tdb_refresh(d);
	create_t4(d);
	ck_assert_int_eq(tdb_commit(d), RDB_OK);
}

static const char *const tnames[NT] = { "t1", "t2", "t3", "t4" };

/* ---- values -------------------------------------------------------------------- */

static const char *const texts[] = { "", "a", "ab", "b", "ba", "z",
	"hello", "hello world", "\xc3\xa9t\xc3\xa9", ("zzzzzzzzzzzzzzzzzzzz"
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") };
static const double reals[] = { -1.5, 0.0, 2.0, 2.5, 1e10, -0.25, 3.0 };
static const struct { const char *p; size_t n; } blobs[] = {
	{ "", 0 }, { "\0", 1 }, { "\0\1", 2 }, { "\xff", 1 }, { "abc", 3 },
	{ "\xff\xff\0", 3 } };
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Texts "k000" .. "k299", padded to 4 .. 43 bytes: many distinct values,
 * so that tables grow to several levels at small page sizes. */
#define NPOOL 300
static char pool[NPOOL][48];

static void pool_init(void)
{
	int i, n;

	for (i = 0; i < NPOOL; i++) {
		n = snprintf(pool[i], sizeof(pool[i]), "k%03d", i);
		memset(pool[i] + n, '.', (size_t)(i * 7 % 40));
		pool[i][n + i * 7 % 40] = '\0';
	}
}

static tbl_value rnd_val(uint64_t *r, tbl_type ty, int nulls)
{
	uint64_t c = tu_rand_below(r, 100);

	if (nulls && c < 8)
		return tv_null();
	switch (ty) {
	case TBL_TY_INTEGER:
		if (c > 97)
			return tv_int((int64_t)tu_rand(r));
		if (c > 60)
			return tv_int((int64_t)tu_rand_below(r, 500));
		return tv_int((int64_t)tu_rand_below(r, 16) - 3);
	case TBL_TY_REAL:
		if (c > 60)
			return tv_real((double)tu_rand_below(r, 200) / 4);
		return tv_real(reals[tu_rand_below(r, NELEM(reals))]);
	case TBL_TY_TEXT:
		if (c > 40)
			return tv_text(pool[tu_rand_below(r, NPOOL)]);
		return tv_text(texts[tu_rand_below(r, NELEM(texts))]);
	case TBL_TY_BOOLEAN:
		return tv_int(c & 1);
	case TBL_TY_ANY:
		return rnd_val(r, (tbl_type)(TBL_TY_INTEGER +
			       tu_rand_below(r, 4)), 0);
	default:
		c = tu_rand_below(r, NELEM(blobs));
		return tv_blob(blobs[c].p, blobs[c].n);
	}
}

/* ---- the model ------------------------------------------------------------------- */

typedef struct mrow {
	tbl_value v[MAXV];
} mrow;

typedef struct mtab {
	int n;
	mrow r[MAXR];
} mtab;

typedef struct model {
	mtab t[NT];
} model;

/* Key components of a table (ix NULL) or index: row slot and direction. */
typedef struct comps {
	int n, nix;
	int slot[16];
	int desc[16];
} comps;

static void comps_of(const tbl_table *tb, const tbl_index *ix, comps *c)
{
	int i;

	c->n = 0;
	for (i = 0; ix != NULL && i < ix->ncols; i++, c->n++) {
		c->slot[c->n] = ix->cols[i];
		c->desc[c->n] = ix->desc[i];
	}
	c->nix = c->n;
	if (tb->npk == 0) {
		c->slot[c->n] = tb->ncols;
		c->desc[c->n++] = 0;
	}
	for (i = 0; i < tb->npk; i++, c->n++) {
		c->slot[c->n] = tb->pk[i];
		c->desc[c->n] = tb->cols[tb->pk[i]].pk_desc;
	}
}

static int cmp1(const comps *c, int i, const tbl_value *a, const tbl_value *b)
{
	int r = tbl_value_cmp(a, b);

	return c->desc[i] ? -r : r;
}

/* Rows a and b on the first n components. */
static int cmp_rows(const comps *c, int n, const tbl_value *a,
		    const tbl_value *b)
{
	int i, r;

	for (i = 0; i < n; i++)
		if ((r = cmp1(c, i, &a[c->slot[i]], &b[c->slot[i]])) != 0)
			return r;
	return 0;
}

/* A row's first n components against bound values (one per component). */
static int cmp_bound(const comps *c, const tbl_value *row,
		     const tbl_value *bv, int n)
{
	int i, r;

	for (i = 0; i < n; i++)
		if ((r = cmp1(c, i, &row[c->slot[i]], &bv[i])) != 0)
			return r;
	return 0;
}

static const comps *sort_comps;

static int sort_fn(const void *a, const void *b)
{
	const mrow *x = a, *y = b;

	return cmp_rows(sort_comps, sort_comps->n, x->v, y->v);
}

/* ---- the rig ------------------------------------------------------------------ */

typedef struct rig {
	tdb d;
	model m, saved;
	uint64_t rng;
	mrow tmp[MAXR];
	long inserts, updates, deletes, scans, ix_scans, gets, violations;
	long ignored, replaced, rollbacks, reopens, reindexes, checks;
} rig;

static const tbl_table *rt(rig *g, int ti)
{
	return tdb_table(&g->d, tnames[ti]);
}

/* Rows of model table ti that conflict with row (skipping row self):
 * same key, or same non-NULL columns of a unique index.  Returns how many,
 * their positions in hits. */
static int m_conflicts(rig *g, int ti, const tbl_value *row, int self,
		       int *hits)
{
	const tbl_table *tb = rt(g, ti);
	mtab *mt = &g->m.t[ti];
	comps k, ix;
	int i, j, c, n = 0, nul, hit;

	comps_of(tb, NULL, &k);
	for (i = 0; i < mt->n; i++) {
		if (i == self)
			continue;
		hit = cmp_rows(&k, k.n, mt->r[i].v, row) == 0;
		for (j = 0; j < tb->nidx && !hit; j++) {
			if (!tb->idx[j].unique)
				continue;
			comps_of(tb, &tb->idx[j], &ix);
			for (c = 0, nul = 0; c < ix.nix; c++)
				nul |= row[ix.slot[c]].cls == TBL_NULL;
			hit = !nul && cmp_rows(&ix, ix.nix, mt->r[i].v, row)
				== 0;
		}
		if (hit)
			hits[n++] = i;
	}
	return n;
}

/* A NULL where the table refuses one (the ipk column excepted when it
 * is assigned). */
static int m_null_violation(const tbl_table *tb, const tbl_value *row,
			    int assign)
{
	int i;

	for (i = 0; i < tb->ncols; i++) {
		if (row[i].cls != TBL_NULL)
			continue;
		if (assign && tb->ipk && i == tb->pk[0])
			continue;
		if (tb->cols[i].notnull || tb->cols[i].pk)
			return 1;
	}
	return 0;
}

static int64_t m_next_id(rig *g, int ti, int slot)
{
	mtab *mt = &g->m.t[ti];
	int64_t max = 0;
	int i;

	for (i = 0; i < mt->n; i++)
		if (mt->r[i].v[slot].i > max)
			max = mt->r[i].v[slot].i;
	return max + 1;
}

static void m_remove(mtab *mt, int *hits, int n)
{
	int i, j, k = 0;

	for (i = 0, j = 0; i < mt->n; i++) {
		for (k = 0; k < n && hits[k] != i; k++)
			;
		if (k == n)
			mt->r[j++] = mt->r[i];
	}
	mt->n = j;
}

/* What the table stores for v in column c: integers in REAL columns
 * become reals; an integral real in an ANY key column reads back as an
 * integer (keys keep numbers by value). */
static tbl_value stored(const tbl_table *tb, int c, tbl_value v)
{
	if (c >= tb->ncols)
		return v;
	if (tb->cols[c].type == TBL_TY_REAL && v.cls == TBL_INT)
		return tv_real((double)v.i);
	if (tb->cols[c].type == TBL_TY_ANY && tb->cols[c].pk &&
	    v.cls == TBL_REAL && v.r == (double)(int64_t)v.r &&
	    v.r >= -9.2e18 && v.r <= 9.2e18)
		return tv_int((int64_t)v.r);
	return v;
}

static void rnd_row(rig *g, const tbl_table *tb, tbl_value *row)
{
	int i;

	for (i = 0; i < tb->ncols; i++)
		row[i] = rnd_val(&g->rng, tb->cols[i].type,
				 tu_rand_below(&g->rng, 4) == 0 ||
				 !tb->cols[i].pk);
	if (tb->npk == 0)
		row[tb->ncols] = tu_rand_below(&g->rng, 5) == 0
			? tv_int((int64_t)tu_rand_below(&g->rng, 40))
			: tv_null();
}

/* The expected outcome of a row change given conflicts; applies it to the
 * model.  Returns the expected rc. */
static rdb_rc m_apply(rig *g, int ti, const tbl_value *row, int self,
		      tbl_conflict on, int nullbad, int *done)
{
	const tbl_table *tb = rt(g, ti);
	mtab *mt = &g->m.t[ti];
	int hits[MAXR], n, i;

	*done = 0;
	if (nullbad) {
		g->violations++;
		return on == TBL_IGNORE ? RDB_OK : RDB_CONSTRAINT;
	}
	n = m_conflicts(g, ti, row, self, hits);
	if (n > 0 && on != TBL_REPLACE) {
		g->violations++;
		g->ignored += on == TBL_IGNORE;
		return on == TBL_IGNORE ? RDB_OK : RDB_CONSTRAINT;
	}
	g->replaced += n > 0;
	if (self >= 0)
		hits[n++] = self;
	m_remove(mt, hits, n);
	ck_assert_int_lt(mt->n, MAXR);
	for (i = 0; i < tbl_nvals(tb); i++)
		mt->r[mt->n].v[i] = row[i];
	mt->n++;
	*done = 1;
	return RDB_OK;
}

static void expect(rig *g, const char *op, rdb_rc rc, rdb_rc want)
{
	ck_assert_msg(rc == want, "%s: rc %d (%s), want %d [%s]", op, rc,
		      g->d.terr.msg, want, rdb_errstr(want));
}

static void op_insert(rig *g, int ti)
{
	const tbl_table *tb = rt(g, ti);
	tbl_value row[MAXV], in[MAXV];
	tbl_conflict on = (tbl_conflict)tu_rand_below(&g->rng, 3);
	int done = -1, mdone, nullbad, slot, i;
	rdb_rc rc, want;

	rnd_row(g, tb, row);
	nullbad = m_null_violation(tb, row, 1);
	slot = tb->npk == 0 ? tb->ncols : tb->ipk ? tb->pk[0] : -1;
	for (i = 0; i < tbl_nvals(tb); i++) {
		in[i] = row[i];
		row[i] = stored(tb, i, row[i]);
	}
	/* A NULL id is assigned max + 1 by the table. */
	if (!nullbad && slot >= 0 && row[slot].cls == TBL_NULL)
		row[slot] = tv_int(m_next_id(g, ti, slot));
	want = m_apply(g, ti, row, -1, on, nullbad, &mdone);
	rc = tbl_insert(g->d.t, g->d.cx, tb, in, on, &done);
	expect(g, "tbl_insert", rc, want);
	if (rc == RDB_OK)
		ck_assert_int_eq(done, mdone);
	if (rc == RDB_OK && done && slot >= 0)
		ck_assert_msg(tv_same(&in[slot], &row[slot]), "assigned id %s, "
			      "model %s", tv_str(&in[slot]),
			      tv_str(&row[slot]));
	/* The values were coerced in place (ANY keeps the class given). */
	for (i = 0; rc == RDB_OK && done && i < tb->ncols; i++)
		ck_assert_msg(tb->cols[i].type == TBL_TY_ANY ||
			      tv_same(&in[i], &row[i]), "%s.%s coerced to %s, "
			      "model %s", tb->name, tb->cols[i].name,
			      tv_str(&in[i]), tv_str(&row[i]));
	g->inserts++;
}

static void op_update(rig *g, int ti)
{
	const tbl_table *tb = rt(g, ti);
	mtab *mt = &g->m.t[ti];
	tbl_value old[MAXV], nw[MAXV], in[MAXV];
	tbl_conflict on = (tbl_conflict)tu_rand_below(&g->rng, 3);
	int self, i, done = -1, mdone, nullbad;
	rdb_rc rc, want;

	if (mt->n == 0)
		return;
	self = (int)tu_rand_below(&g->rng, (uint64_t)mt->n);
	for (i = 0; i < tbl_nvals(tb); i++)
		old[i] = nw[i] = mt->r[self].v[i];
	for (i = 0; i < tb->ncols; i++)
		if (tu_rand_below(&g->rng, 3) == 0)
			nw[i] = rnd_val(&g->rng, tb->cols[i].type,
					tu_rand_below(&g->rng, 6) == 0 ||
					!tb->cols[i].pk);
	if (tb->npk == 0 && tu_rand_below(&g->rng, 6) == 0)
		nw[tb->ncols] = tv_int((int64_t)tu_rand_below(&g->rng, 40));
	nullbad = m_null_violation(tb, nw, 0);
	for (i = 0; i < tbl_nvals(tb); i++) {
		in[i] = nw[i];
		nw[i] = stored(tb, i, nw[i]);
	}
	if (tb->npk == 0 && tu_rand_below(&g->rng, 2) &&
	    nw[tb->ncols].i == old[tb->ncols].i)
		in[tb->ncols] = tv_null();      /* keeps the rowid */
	want = m_apply(g, ti, nw, self, on, nullbad, &mdone);
	rc = tbl_update(g->d.t, g->d.cx, tb, old, in, on, &done);
	expect(g, "tbl_update", rc, want);
	if (rc == RDB_OK)
		ck_assert_int_eq(done, mdone);
	g->updates++;
}

static void op_delete(rig *g, int ti)
{
	const tbl_table *tb = rt(g, ti);
	mtab *mt = &g->m.t[ti];
	tbl_value key[MAXV];
	int self, hits[1];
	comps k;
	rdb_rc rc;

	comps_of(tb, NULL, &k);
	if (mt->n == 0 || tu_rand_below(&g->rng, 8) == 0) {
		/* A key that is (probably) not there. */
		rnd_row(g, tb, key);
		if (tb->npk == 0)
			key[tb->ncols] = tv_int(1000 + (int64_t)
						tu_rand_below(&g->rng, 9));
		for (self = 0; self < mt->n; self++)
			if (cmp_rows(&k, k.n, mt->r[self].v, key) == 0)
				break;
		if (self == mt->n) {
			for (self = 0; self < k.n; self++)
				if (key[k.slot[self]].cls == TBL_NULL)
					return;
			rc = tbl_delete(g->d.t, g->d.cx, tb, key);
			expect(g, "tbl_delete of a missing row", rc,
			       RDB_NOTFOUND);
			return;
		}
	} else {
		self = (int)tu_rand_below(&g->rng, (uint64_t)mt->n);
	}
	rc = tbl_delete(g->d.t, g->d.cx, tb, mt->r[self].v);
	expect(g, "tbl_delete", rc, RDB_OK);
	hits[0] = self;
	m_remove(mt, hits, 1);
	g->deletes++;
}

/* ---- reading back -------------------------------------------------------------- */

static void same_row(const tbl_table *tb, const tbl_value *got,
		     const tbl_value *want, const char *what, int i)
{
	int c;

	for (c = 0; c < tbl_nvals(tb); c++)
		ck_assert_msg(tv_same(&got[c], &want[c]), "%s of %s, row %d, "
			      "value %d: %s, model %s", what, tb->name, i, c,
			      tv_str(&got[c]), tv_str(&want[c]));
}

/* Random bound values for the first n components of c. */
static void rnd_bound(rig *g, const tbl_table *tb, const comps *c,
		      tbl_value *bv, int *n, int *incl)
{
	mtab *mt = &g->m.t[(tb->name[1] - '1')];
	int i, from = mt->n > 0 && tu_rand_below(&g->rng, 3) != 0;
	const mrow *r = from ? &mt->r[tu_rand_below(&g->rng,
						      (uint64_t)mt->n)] : NULL;

	*n = (int)tu_rand_below(&g->rng, (uint64_t)c->n + 1);
	*incl = (int)tu_rand_below(&g->rng, 2);
	for (i = 0; i < *n; i++) {
		if (r != NULL)
			bv[i] = r->v[c->slot[i]];
		else if (c->slot[i] == tb->ncols)
			bv[i] = tv_int((int64_t)tu_rand_below(&g->rng, 40));
		else
			bv[i] = rnd_val(&g->rng, tb->cols[c->slot[i]].type, 1);
	}
}

/* Model rows of table ti in c's order within the bounds: into g->tmp. */
static int m_select(rig *g, int ti, const comps *c, const tbl_value *lo,
		    int lon, int loi, const tbl_value *hi, int hin, int hii)
{
	mtab *mt = &g->m.t[ti];
	int i, n = 0, r;

	for (i = 0; i < mt->n; i++) {
		if (lon > 0) {
			r = cmp_bound(c, mt->r[i].v, lo, lon);
			if (r < 0 || (r == 0 && !loi))
				continue;
		}
		if (hin > 0) {
			r = cmp_bound(c, mt->r[i].v, hi, hin);
			if (r > 0 || (r == 0 && !hii))
				continue;
		}
		g->tmp[n++] = mt->r[i];
	}
	sort_comps = c;
	qsort(g->tmp, (size_t)n, sizeof(mrow), sort_fn);
	return n;
}

/* Scan table ti (ix -1) or its index ix with random bounds and a random
 * direction, and compare with the model. */
static void op_scan(rig *g, int ti, int ix, int full)
{
	const tbl_table *tb = rt(g, ti);
	const tbl_index *x = ix >= 0 ? &tb->idx[ix] : NULL;
	tbl_value lo[16], hi[16];
	const tbl_value *row, *ent;
	tbl_bound blo, bhi;
	tbl_cursor *c = NULL;
	int lon = 0, loi = 1, hin = 0, hii = 1, rev, n, i, ne, k;
	comps cp;
	rdb_rc rc;

	comps_of(tb, x, &cp);
	if (!full) {
		rnd_bound(g, tb, &cp, lo, &lon, &loi);
		rnd_bound(g, tb, &cp, hi, &hin, &hii);
	}
	rev = (int)tu_rand_below(&g->rng, 2);
	n = m_select(g, ti, &cp, lo, lon, loi, hi, hin, hii);
	blo = (tbl_bound){ lo, lon, loi };
	bhi = (tbl_bound){ hi, hin, hii };
	ck_assert_int_eq(tbl_cursor_open(g->d.t, tb, x, &c), RDB_OK);
	ck_assert_int_eq(tbl_cursor_range(c, &blo, &bhi, rev), RDB_OK);
	for (i = 0; i < n; i++) {
		k = rev ? n - 1 - i : i;
		rc = tbl_cursor_next(c);
		ck_assert_msg(rc == RDB_ROW, "scan of %s%s%s: row %d of %d: "
			      "rc %d (%s)", tb->name, x ? " by " : "",
			      x ? x->name : "", i, n, rc, g->d.terr.msg);
		if (x != NULL) {
			ck_assert_int_eq(tbl_cursor_entry(c, &ent, &ne),
					 RDB_OK);
			ck_assert_int_eq(ne, cp.n);
			for (ne = 0; ne < cp.n; ne++)
				ck_assert_msg(tv_same(&ent[ne],
					&g->tmp[k].v[cp.slot[ne]]), "entry "
					"of %s: component %d is %s, model %s",
					x->name, ne, tv_str(&ent[ne]),
					tv_str(&g->tmp[k].v[cp.slot[ne]]));
		}
		if (x == NULL || tu_rand_below(&g->rng, 3) == 0) {
			ck_assert_int_eq(tbl_cursor_row(c, &row), RDB_OK);
			same_row(tb, row, g->tmp[k].v, "scan", i);
		}
	}
	rc = tbl_cursor_next(c);
	ck_assert_msg(rc == RDB_DONE, "scan of %s%s%s returned more than the "
		      "model's %d rows (rc %d; bounds %d%s, %d%s, %s)",
		      tb->name, x ? " by " : "", x ? x->name : "", n, rc, lon,
		      loi ? " incl" : "", hin, hii ? " incl" : "",
		      rev ? "reverse" : "forward");
	tbl_cursor_close(c);
	if (x != NULL)
		g->ix_scans++;
	else
		g->scans++;
}

static void op_get(rig *g, int ti)
{
	const tbl_table *tb = rt(g, ti);
	mtab *mt = &g->m.t[ti];
	tbl_value key[16];
	const tbl_value *row;
	comps k;
	int i, self;
	rdb_rc rc;

	if (mt->n == 0)
		return;
	comps_of(tb, NULL, &k);
	self = (int)tu_rand_below(&g->rng, (uint64_t)mt->n);
	for (i = 0; i < k.n; i++)
		key[i] = mt->r[self].v[k.slot[i]];
	rc = tbl_get(g->d.t, g->d.cx, tb, key, &row);
	expect(g, "tbl_get", rc, RDB_OK);
	same_row(tb, row, mt->r[self].v, "tbl_get", self);
	g->gets++;
}

static void verify_all(rig *g, int census)
{
	const char *why;
	int ti;

	for (ti = 0; ti < NT; ti++)
		op_scan(g, ti, -1, 1);
	if (!census)
		return;
	why = tdb_census(&g->d);
	ck_assert_msg(why == NULL, "%s", why ? why : "");
	g->checks++;
}

/* Drop and re-create index t1_cd on the populated table (DDL mid-run). */
static void op_reindex(rig *g)
{
	uint16_t cols[] = { 2, 3 };
	uint8_t desc[] = { 1, 0 };
	tbl_index ix = { .name = "t1_cd", .ncols = 2, .cols = cols,
			 .desc = desc };

	expect(g, "tbl_drop_index", tbl_drop_index(g->d.t, g->d.s, "t1_cd"),
	       RDB_OK);
	tdb_refresh(&g->d);
	ck_assert_ptr_null(tbl_schema_index(g->d.s, "t1_cd", NULL));
	expect(g, "tbl_create_index", tbl_create_index(g->d.t, g->d.s, "t1",
	       &ix), RDB_OK);
	tdb_refresh(&g->d);
	g->reindexes++;
}

static void one_op(rig *g)
{
	int ti = (int)tu_rand_below(&g->rng, NT);
	uint64_t c = tu_rand_below(&g->rng, 100);
	const tbl_table *tb = rt(g, ti);

	if (c < 44)
		op_insert(g, ti);
	else if (c < 62)
		op_update(g, ti);
	else if (c < 72)
		op_delete(g, ti);
	else if (c < 82)
		op_scan(g, ti, -1, 0);
	else if (c < 94 && tb->nidx > 0)
		op_scan(g, ti, (int)tu_rand_below(&g->rng, tb->nidx), 0);
	else if (c < 99)
		op_get(g, ti);
	else
		op_reindex(g);
}

/* One transaction of 1..8 operations, committed or rolled back. */
static void one_txn(rig *g, long step)
{
	int n = 1 + (int)tu_rand_below(&g->rng, 8), i;

	expect(g, "begin", tdb_begin(&g->d, 1), RDB_OK);
	g->saved = g->m;
	for (i = 0; i < n; i++)
		one_op(g);
	if (tu_rand_below(&g->rng, 7) == 0) {
		tdb_rollback(&g->d);
		g->m = g->saved;
		g->rollbacks++;
	} else {
		expect(g, "commit", tdb_commit(&g->d), RDB_OK);
	}
	if (tu_rand_below(&g->rng, 40) == 0) {
		tdb_reopen(&g->d);
		g->reopens++;
	}
	expect(g, "begin (read)", tdb_begin(&g->d, 0), RDB_OK);
	verify_all(g, step % 4 == 0);
	tdb_rollback(&g->d);
}

/*
 * A run at scale 1 (1200 transactions; one measured run, seed
 * 1795285344798886231) made 2398 inserts, 987 updates, 469 deletes, 5327
 * table scans (most of them full scans in verification), 632 index scans,
 * 277 point lookups, 838 constraint violations (378 ignored, 399
 * replaced), 177 rollbacks, 38 reopens, 53 index re-creations and 301
 * full checks, ending with 118, 157, 41 and 320 rows; the assertion at
 * the end quotes the counts of a failing run.
 */
START_TEST(test_table_model_random_ops_match_reference)
{
	rig *g = calloc(1, sizeof(rig));
	uint64_t seed = tu_seed();
	long n = tu_scaled(1200, 60), i;

	ck_assert_ptr_nonnull(g);
	tu_seed_note("table model", seed);
	pool_init();
	g->rng = seed | 1;
	tdb_open(&g->d, tu_rand_below(&g->rng, 2) ? 4096 : 1024, 0);
	create_tables(&g->d);
	for (i = 0; i < n; i++)
		one_txn(g, i);
	tdb_reopen(&g->d);
	expect(g, "begin (read)", tdb_begin(&g->d, 0), RDB_OK);
	verify_all(g, 1);
	tdb_rollback(&g->d);
	ck_assert_msg(g->inserts > 0 && g->updates > 0 && g->deletes > 0 &&
		      g->scans > 0 && g->ix_scans > 0 && g->violations > 0 &&
		      g->rollbacks > 0 && (n < 200 || (g->reopens > 0 &&
		      g->ignored > 0 && g->replaced > 0)),
		      "seed %llu: %ld txns: %ld inserts, %ld updates, %ld "
		      "deletes, %ld scans, %ld index scans, %ld gets, %ld "
		      "violations (%ld ignored, %ld replaced), %ld rollbacks, "
		      "%ld reopens, %ld reindexes, %ld checks; final rows %d, %d, %d, %d",
		      (unsigned long long)seed, n, g->inserts, g->updates,
		      g->deletes, g->scans, g->ix_scans, g->gets,
		      g->violations, g->ignored, g->replaced, g->rollbacks,
		      g->reopens, g->reindexes, g->checks, g->m.t[0].n,
		      g->m.t[1].n, g->m.t[2].n, g->m.t[3].n);
	tdb_close(&g->d);
	free(g);
}
END_TEST

/* ==== rows: focused cases =================================================== */

static tdb R;

static void rsetup(void) { tdb_open(&R, 4096, 0); }
static void rteardown(void) { tdb_close(&R); }

#define ROK(call) do {							\
	rdb_rc rc_ = (call);						\
	ck_assert_msg(rc_ == RDB_OK, "%s: rc %d: %s", #call, rc_,	\
		      R.terr.msg);					\
} while (0)

/* t(id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'anon', tag TEXT
 * UNIQUE) and r(x INTEGER, y TEXT) without a key. */
static void rtables(void)
{
	tbl_column c[3] = { tcol("id", "INTEGER", 0, 0),
			    tcol("name", "TEXT", 1, 0), tcol("tag", "TEXT", 0, 1) };
	tbl_column d[2] = { tcol("x", "INTEGER", 0, 0), tcol("y", "TEXT", 0, 0) };
	uint16_t pk[1] = { 0 };
	tbl_table t = { .name = "t", .ncols = 3, .cols = c, .npk = 1,
			.pk = pk };
	tbl_table r = { .name = "r", .ncols = 2, .cols = d };

	c[1].has_dflt = 1;
	c[1].dflt = tv_text("anon");
	ROK(tdb_begin(&R, 1));
	ROK(tbl_create_table(R.t, R.s, &t));
	tdb_refresh(&R);
	ROK(tbl_create_table(R.t, R.s, &r));
	tdb_refresh(&R);
}

START_TEST(test_table_rowids_are_max_plus_one_and_written_back)
{
	const tbl_table *t, *r;
	tbl_value row[3];
	int done = 0;

	rtables();
	t = tdb_table(&R, "t");
	r = tdb_table(&R, "r");
	ck_assert(t->ipk && r->npk == 0);
	row[0] = tv_null();
	row[1] = tv_text("a");
	row[2] = tv_null();
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, &done));
	ck_assert(done && row[0].cls == TBL_INT && row[0].i == 1);
	row[0] = tv_int(41);
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	row[0] = tv_null();
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	ck_assert_int_eq(row[0].i, 42);
	/* The rowid of a keyless table is its last value. */
	row[0] = tv_int(7);
	row[1] = tv_text("y");
	row[2] = tv_null();
	ROK(tbl_insert(R.t, R.cx, r, row, TBL_ABORT, NULL));
	ck_assert(row[2].cls == TBL_INT && row[2].i == 1);
	row[2] = tv_int(-5);
	ROK(tbl_insert(R.t, R.cx, r, row, TBL_ABORT, NULL));
	row[2] = tv_int(-5);
	ck_assert_int_eq(tbl_insert(R.t, R.cx, r, row, TBL_ABORT, NULL),
			 RDB_CONSTRAINT);
	ck_assert_str_eq(R.terr.msg, "UNIQUE constraint failed: r.rowid");
	row[2] = tv_text("nine");
	ck_assert_int_eq(tbl_insert(R.t, R.cx, r, row, TBL_ABORT, NULL),
			 RDB_MISMATCH);
	row[2] = tv_int(INT64_MAX);
	ROK(tbl_insert(R.t, R.cx, r, row, TBL_ABORT, NULL));
	row[2] = tv_null();
	ck_assert_int_eq(tbl_insert(R.t, R.cx, r, row, TBL_ABORT, NULL),
			 RDB_FULL);
	tdb_rollback(&R);
}
END_TEST

START_TEST(test_table_conflict_modes_follow_sqlite)
{
	const tbl_table *t;
	const tbl_value *got;
	tbl_value row[3], key;
	int done = -1;

	rtables();
	t = tdb_table(&R, "t");
	row[0] = tv_int(1);
	row[1] = tv_text("one");
	row[2] = tv_text("x");
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	row[0] = tv_int(2);
	row[1] = tv_text("two");
	row[2] = tv_text("x");
	ck_assert_int_eq(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, &done),
			 RDB_CONSTRAINT);
	ck_assert_str_eq(R.terr.msg, "UNIQUE constraint failed: t.tag");
	ck_assert_int_eq(done, 0);
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_IGNORE, &done));
	ck_assert_int_eq(done, 0);
	/* REPLACE deletes the row that holds tag 'x' (id 1). */
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_REPLACE, &done));
	ck_assert_int_eq(done, 1);
	key = tv_int(1);
	ck_assert_int_eq(tbl_get(R.t, R.cx, t, &key, &got), RDB_NOTFOUND);
	row[0] = tv_int(2);
	row[1] = tv_text("dup");
	row[2] = tv_null();
	ck_assert_int_eq(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL),
			 RDB_CONSTRAINT);
	ck_assert_str_eq(R.terr.msg, "UNIQUE constraint failed: t.id");
	/* NOT NULL: ABORT fails, IGNORE skips, REPLACE takes the default. */
	row[0] = tv_int(3);
	row[1] = tv_null();
	ck_assert_int_eq(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL),
			 RDB_CONSTRAINT);
	ck_assert_str_eq(R.terr.msg, "NOT NULL constraint failed: t.name");
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_IGNORE, &done));
	ck_assert_int_eq(done, 0);
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_REPLACE, &done));
	key = tv_int(3);
	ROK(tbl_get(R.t, R.cx, t, &key, &got));
	ck_assert(tv_same(&got[1], &(tbl_value){ .cls = TBL_TEXT,
		  .p = "anon", .n = 4 }));
	/* NULLs in a unique column never conflict. */
	row[0] = tv_int(4);
	row[1] = tv_text("n");
	row[2] = tv_null();
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	row[0] = tv_int(5);
	ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	ck_assert_ptr_null(tdb_census(&R));
	tdb_rollback(&R);
}
END_TEST

START_TEST(test_table_update_moves_key_and_index_entries)
{
	const tbl_table *t;
	const tbl_value *got, *ent;
	tbl_value row[3], nw[3], key;
	tbl_cursor *c = NULL;
	int n;

	rtables();
	t = tdb_table(&R, "t");
	for (n = 1; n <= 3; n++) {
		row[0] = tv_int(n);
		row[1] = tv_text("v");
		row[2] = tv_text(n == 1 ? "a" : n == 2 ? "b" : "c");
		ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	}
	/* Only old's key is needed. */
	key = tv_int(2);
	nw[0] = tv_int(20);
	nw[1] = tv_text("moved");
	nw[2] = tv_text("z");
	ROK(tbl_update(R.t, R.cx, t, &key, nw, TBL_ABORT, NULL));
	ck_assert_int_eq(tbl_get(R.t, R.cx, t, &key, &got), RDB_NOTFOUND);
	key = tv_int(20);
	ROK(tbl_get(R.t, R.cx, t, &key, &got));
	ck_assert(tv_same(&got[1], &nw[1]));
	/* The unique index now has a, c, z in order, pointing at 1, 3, 20. */
	ROK(tbl_cursor_open(R.t, t, &t->idx[0], &c));
	for (n = 0; tbl_cursor_next(c) == RDB_ROW; n++) {
		int k;

		ROK(tbl_cursor_entry(c, &ent, &k));
		ck_assert_int_eq(k, 2);
		ck_assert_int_eq(ent[1].i, n == 0 ? 1 : n == 1 ? 3 : 20);
		ROK(tbl_cursor_row(c, &got));
		ck_assert_int_eq(got[0].i, ent[1].i);
	}
	ck_assert_int_eq(n, 3);
	tbl_cursor_close(c);
	/* Moving onto another row's tag conflicts and changes nothing. */
	key = tv_int(1);
	nw[0] = tv_int(1);
	nw[2] = tv_text("c");
	ck_assert_int_eq(tbl_update(R.t, R.cx, t, &key, nw, TBL_ABORT, NULL),
			 RDB_CONSTRAINT);
	key = tv_int(99);
	ck_assert_int_eq(tbl_update(R.t, R.cx, t, &key, nw, TBL_ABORT, NULL),
			 RDB_NOTFOUND);
	ck_assert_int_eq(tbl_delete(R.t, R.cx, t, &key), RDB_NOTFOUND);
	ck_assert_ptr_null(tdb_census(&R));
	tdb_rollback(&R);
}
END_TEST

/* A scan that deletes every row it visits sees each row once. */
START_TEST(test_table_cursor_survives_changes_through_the_table)
{
	const tbl_table *t;
	const tbl_value *got;
	tbl_value row[3];
	tbl_cursor *c = NULL;
	char tag[16];
	int n, seen = 0;
	rdb_rc rc;

	rtables();
	t = tdb_table(&R, "t");
	for (n = 0; n < 2000; n++) {
		snprintf(tag, sizeof(tag), "tag%05d", n);
		row[0] = tv_null();
		row[1] = tv_text("some longer text to fill pages quickly");
		row[2] = tv_text(tag);
		ROK(tbl_insert(R.t, R.cx, t, row, TBL_ABORT, NULL));
	}
	ROK(tbl_cursor_open(R.t, t, NULL, &c));
	while ((rc = tbl_cursor_next(c)) == RDB_ROW) {
		ROK(tbl_cursor_row(c, &got));
		ck_assert_int_eq(got[0].i, seen + 1);
		ROK(tbl_delete(R.t, R.cx, t, got));
		seen++;
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_int_eq(seen, 2000);
	tbl_cursor_close(c);
	ck_assert_ptr_null(tdb_census(&R));
	tdb_rollback(&R);
}
END_TEST

Suite *table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_table_model_random_ops_match_reference);
	suite_add_tcase(s, tc);
	tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, rsetup, rteardown);
	tcase_add_test(tc, test_table_rowids_are_max_plus_one_and_written_back);
	tcase_add_test(tc, test_table_conflict_modes_follow_sqlite);
	tcase_add_test(tc, test_table_update_moves_key_and_index_entries);
	tcase_add_test(tc, test_table_cursor_survives_changes_through_the_table);
	suite_add_tcase(s, tc);
	return s;
}
