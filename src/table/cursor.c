/*
 * cursor.c -- cursors over a table's rows (a B+ tree for user tables, a
 * key range of the KV index for system tables) or over an index, with
 * bounds in key-encoding order and either direction.  Design:
 * src/table/README.md ("Cursors").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <string.h>
#include "format.h"
#include "mem.h"

enum { BEFORE, ON, DONE };

struct tbl_cursor {
	pager_txn *t;             /* borrowed */
	const tbl_table *tb;      /* borrowed from the schema */
	const tbl_index *ix;      /* borrowed; NULL for the rows */
	int sys;                  /* system table id, or -1 */
	bt_cursor *bc;            /* owned; NULL: nothing to scan */
	bt_cursor *rbc;           /* owned: an index's rows (read
				     transactions), opened at the first */
	tbl_layout l;             /* the key's components */
	tbl_layout rl;            /* the table key's (rows) */
	unsigned char pre[2];     /* key prefix of a system table's rows */
	size_t npre;
	rdb_buf lo;               /* keys >= lo ... */
	rdb_buf hi;               /* ... and < hi (if has_hi) */
	int has_hi, empty, reverse, state;
	int copy;                 /* write transaction: entries are copied */
	rdb_buf key, val;         /* copies of the current entry (copy) */
	const unsigned char *kp;  /* the current key: borrowed from bc (read
				     transactions) or key.p */
	size_t kn;
	const unsigned char *vp;  /* its row value, once have_val: borrowed
				     from bc or val.p */
	size_t vn;
	int have_val;
	rdb_buf scratch, scratch2, scratch3;
	tbl_value *row;           /* owned: tbl_nvals values */
	tbl_value ent[TBL_MAX_COMPS];
	int have_row, have_ent;   /* decoded for the current entry */
	kv_ctx kcx;               /* owned */
};

static rdb_rc corrupt(tbl_cursor *c, const char *what)
{
	if (c->ix != NULL)
		return rdb_err_set(pager_txn_err(c->t), RDB_CORRUPT,
				   "index '%s' of table '%s': %s",
				   c->ix->name, c->tb->name, what);
	return rdb_err_set(pager_txn_err(c->t), RDB_CORRUPT, "table '%s': %s",
			   c->tb->name, what);
}

rdb_rc tbl_cursor_open(pager_txn *t, const tbl_table *tb,
		       const tbl_index *ix, tbl_cursor **out)
{
	tbl_cursor *c;
	rdb_pgno root = tb->root;
	rdb_rc rc = RDB_OK;

	assert(t != NULL && tb != NULL && out != NULL);
	*out = NULL;
	if ((c = rdb_calloc(1, sizeof(*c))) == NULL)
		return tbl_nomem(t);
	c->t = t;
	c->tb = tb;
	c->ix = ix;
	c->sys = tbl_sys_id(tb);
	c->copy = pager_txn_is_write(t);
	tbl_layout_of(tb, ix, &c->l);
	tbl_layout_of(tb, NULL, &c->rl);
	c->row = rdb_calloc((size_t)tbl_nvals(tb), sizeof(tbl_value));
	if (c->row == NULL) {
		tbl_cursor_close(c);
		return tbl_nomem(t);
	}
	if (c->sys >= 0) {
		assert(ix == NULL);
		tbl_sys_prefix(c->sys, c->pre);
		c->npre = 2;
		rc = kv_index_root(t, &root);
	} else if (ix != NULL) {
		root = ix->root;
	}
	if (rc == RDB_OK && root != 0)
		rc = bt_cursor_open(t, root, &c->bc);
	if (rc == RDB_OK)
		rc = tbl_cursor_range(c, NULL, NULL, 0);
	if (rc != RDB_OK) {
		tbl_cursor_close(c);
		return rc;
	}
	*out = c;
	return RDB_OK;
}

void tbl_cursor_close(tbl_cursor *c)
{
	if (c == NULL)
		return;
	bt_cursor_close(c->bc);
	bt_cursor_close(c->rbc);
	rdb_buf_free(&c->lo);
	rdb_buf_free(&c->hi);
	rdb_buf_free(&c->key);
	rdb_buf_free(&c->val);
	rdb_buf_free(&c->scratch);
	rdb_buf_free(&c->scratch2);
	rdb_buf_free(&c->scratch3);
	kv_ctx_free(&c->kcx);
	rdb_free(c->row);
	rdb_free(c);
}

/* ---- bounds ----------------------------------------------------------------- */

/* The smallest string greater than every string that starts with b's
 * bytes: drop trailing 0xff bytes, then add one to the last.  0 if there
 * is none (b was all 0xff). */
static int successor(rdb_buf *b)
{
	while (b->n > 0 && b->p[b->n - 1] == 0xff)
		b->n--;
	if (b->n == 0)
		return 0;
	b->p[b->n - 1]++;
	return 1;
}

/* b = the key prefix, then the encodings of bound's values. */
static rdb_rc bound_bytes(tbl_cursor *c, const tbl_bound *bd, rdb_buf *b)
{
	rdb_rc rc;
	int i;

	rdb_buf_reset(b);
	rc = rdb_buf_append(b, c->pre, c->npre);
	for (i = 0; bd != NULL && i < bd->n && rc == RDB_OK; i++)
		rc = tbl_key_append(b, &bd->vals[i], c->l.desc[i]);
	return rc;
}

rdb_rc tbl_cursor_range(tbl_cursor *c, const tbl_bound *lo,
			const tbl_bound *hi, int reverse)
{
	int lo_n = lo != NULL ? lo->n : 0, hi_n = hi != NULL ? hi->n : 0;
	rdb_rc rc;

	assert(c != NULL);
	if (lo_n < 0 || hi_n < 0 || lo_n > c->l.n || hi_n > c->l.n)
		return rdb_err_set(pager_txn_err(c->t), RDB_MISUSE,
				   "cursor bound on %d columns of a key of %d",
				   lo_n > hi_n ? lo_n : hi_n, c->l.n);
	c->state = BEFORE;
	c->reverse = reverse;
	c->empty = 0;
	rc = bound_bytes(c, lo, &c->lo);
	if (rc == RDB_OK)
		rc = bound_bytes(c, hi, &c->hi);
	if (rc != RDB_OK)
		return rc == RDB_NOMEM ? tbl_nomem(c->t) : rc;
	/* lo: exclusive skips every key that starts with the bound. */
	if (lo_n > 0 && !lo->inclusive && !successor(&c->lo))
		c->empty = 1;
	/* hi: inclusive keeps every key that starts with the bound; with
	 * no bound, a system table's keys end where its prefix does. */
	c->has_hi = 1;
	if ((hi_n > 0 && hi->inclusive) || hi_n == 0)
		c->has_hi = successor(&c->hi);
	return RDB_OK;
}

/* ---- moving ----------------------------------------------------------------- */

static int cmp_bytes(const void *a, size_t an, const void *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int r = n > 0 ? memcmp(a, b, n) : 0;

	return r != 0 ? r : (an > bn) - (an < bn);
}

/* Position on the first entry of the range in the cursor's direction. */
static rdb_rc seek_start(tbl_cursor *c)
{
	const void *k;
	size_t kn;
	rdb_rc rc;

	if (!c->reverse)
		return c->lo.n > 0 ? bt_seek_ge(c->bc, c->lo.p, c->lo.n)
				   : bt_first(c->bc);
	if (!c->has_hi)
		return bt_last(c->bc);
	rc = bt_seek_le(c->bc, c->hi.p, c->hi.n);
	if (rc == RDB_OK)
		rc = bt_key(c->bc, &k, &kn);
	if (rc == RDB_OK && cmp_bytes(k, kn, c->hi.p, c->hi.n) == 0)
		rc = bt_prev(c->bc);
	return rc;
}

/* Take the current entry.  A read transaction's snapshot never changes
 * and the B+ tree cursor keeps its leaf pinned until it moves, so the key
 * (and the row value, read when the row is) is borrowed from it.  In a
 * write transaction the tree may change before the row is read (through
 * this statement or another): the key and, for a table's rows, the value
 * are copied now. */
static rdb_rc take(tbl_cursor *c, const void *k, size_t kn)
{
	const void *v;
	size_t vn;
	rdb_rc rc;

	c->have_row = c->have_ent = c->have_val = 0;
	if (!c->copy) {
		c->kp = k;
		c->kn = kn;
		return RDB_OK;
	}
	rdb_buf_reset(&c->key);
	if (rdb_buf_append(&c->key, k, kn) != RDB_OK)
		return tbl_nomem(c->t);
	c->kp = c->key.p;
	c->kn = c->key.n;
	if (c->ix != NULL || c->sys >= 0)
		return RDB_OK;
	rc = bt_value(c->bc, &v, &vn);
	if (rc != RDB_OK)
		return rc;
	rdb_buf_reset(&c->val);
	if (rdb_buf_append(&c->val, v, vn) != RDB_OK)
		return tbl_nomem(c->t);
	c->vp = c->val.p;
	c->vn = c->val.n;
	c->have_val = 1;
	return RDB_OK;
}

rdb_rc tbl_cursor_next(tbl_cursor *c)
{
	const void *k;
	size_t kn;
	rdb_rc rc;

	assert(c != NULL);
	if (c->state == DONE || c->bc == NULL || c->empty) {
		c->state = DONE;
		return RDB_DONE;
	}
	if (c->state == BEFORE)
		rc = seek_start(c);
	else
		rc = c->reverse ? bt_prev(c->bc) : bt_next(c->bc);
	if (rc == RDB_OK)
		rc = bt_key(c->bc, &k, &kn);
	if (rc == RDB_OK &&
	    (c->reverse ? cmp_bytes(k, kn, c->lo.p, c->lo.n) < 0
			: c->has_hi && cmp_bytes(k, kn, c->hi.p, c->hi.n) >= 0))
		rc = RDB_NOTFOUND;
	if (rc == RDB_NOTFOUND) {
		c->state = DONE;
		return RDB_DONE;
	}
	if (rc == RDB_OK)
		rc = take(c, k, kn);
	if (rc != RDB_OK) {
		c->state = DONE;
		return rc;
	}
	c->state = ON;
	return RDB_ROW;
}

/* ---- reading ---------------------------------------------------------------- */

/* The value of the current system-table row, from the KV store. */
static rdb_rc kv_value(tbl_cursor *c)
{
	size_t vn = 0;
	rdb_rc rc;

	rdb_buf_reset(&c->val);
	rc = kv_get_into(c->t, &c->kcx, c->kp, c->kn, c->val.p, c->val.cap,
			 &vn);
	if (rc == RDB_RANGE) {
		if (rdb_buf_reserve(&c->val, vn) != RDB_OK)
			return tbl_nomem(c->t);
		rc = kv_get_into(c->t, &c->kcx, c->kp, c->kn, c->val.p,
				 c->val.cap, &vn);
	}
	if (rc == RDB_NOTFOUND)
		return corrupt(c, "a key of the KV index has no record");
	c->val.n = vn;
	return rc;
}

/* Read transactions: the row of key k through a B+ tree cursor on the
 * table kept open from entry to entry, so that consecutive lookups share
 * the inner nodes it keeps pinned (src/btree/README.md, "Cursors"); the
 * value is borrowed from its leaf until the next lookup. */
static rdb_rc row_seek(tbl_cursor *c, const void *k, size_t kn)
{
	const void *got, *v;
	size_t gn;
	rdb_rc rc;

	if (c->rbc == NULL &&
	    (rc = bt_cursor_open(c->t, c->tb->root, &c->rbc)) != RDB_OK)
		return rc;
	rc = bt_seek_ge(c->rbc, k, kn);
	if (rc == RDB_OK && (rc = bt_key(c->rbc, &got, &gn)) == RDB_OK &&
	    (gn != kn || (kn > 0 && memcmp(got, k, kn) != 0)))
		rc = RDB_NOTFOUND;
	if (rc == RDB_OK && (rc = bt_value(c->rbc, &v, &c->vn)) == RDB_OK)
		c->vp = v;
	return rc;
}

/* Write transactions: a copy of the row of key k into c->val. */
static rdb_rc row_copy(tbl_cursor *c, const void *k, size_t kn)
{
	size_t vn = 0;
	rdb_rc rc;

	rdb_buf_reset(&c->val);
	rc = bt_get_buf(c->t, c->tb->root, k, kn, c->val.p, c->val.cap, &vn);
	if (rc == RDB_RANGE) {
		if (rdb_buf_reserve(&c->val, vn) != RDB_OK)
			return tbl_nomem(c->t);
		rc = bt_get_buf(c->t, c->tb->root, k, kn, c->val.p,
				c->val.cap, &vn);
	}
	c->val.n = vn;
	c->vp = c->val.p;
	c->vn = c->val.n;
	return rc;
}

/* Through an index: the table row named by the entry's key suffix, into
 * c->vp, c->vn. */
static rdb_rc ix_lookup(tbl_cursor *c, const void **k, size_t *kn)
{
	tbl_value tmp[TBL_MAX_COMPS];
	size_t used = 0;
	rdb_rc rc;

	rc = tbl_key_decode(c->kp, c->kn, c->l.nix, c->l.type, c->l.desc, tmp,
			    &c->scratch3, &used);
	if (rc != RDB_OK)
		return rc == RDB_CORRUPT ? corrupt(c, "malformed entry") : rc;
	*k = c->kp + used;
	*kn = c->kn - used;
	rc = c->copy ? row_copy(c, *k, *kn) : row_seek(c, *k, *kn);
	if (rc == RDB_NOTFOUND)
		return corrupt(c, "an entry names a missing row");
	return rc;
}

/* The current row's table key into *k, *kn and its stored value into
 * c->vp, c->vn (for an index, the row the entry names). */
static rdb_rc row_value(tbl_cursor *c, const void **k, size_t *kn)
{
	const void *v = NULL;
	rdb_rc rc;

	*k = c->kp + c->npre;
	*kn = c->kn - c->npre;
	if (c->have_val)
		return RDB_OK;
	if (c->ix == NULL && c->sys < 0) {
		rc = bt_value(c->bc, &v, &c->vn);
		c->vp = v;
		return rc;
	}
	if (c->ix != NULL)
		return ix_lookup(c, k, kn);
	rc = kv_value(c);
	c->vp = c->val.p;
	c->vn = c->val.n;
	return rc;
}

rdb_rc tbl_cursor_row(tbl_cursor *c, const tbl_value **row)
{
	const void *k;
	size_t kn;
	rdb_rc rc;

	assert(c != NULL && row != NULL);
	*row = NULL;
	if (c->state != ON)
		return rdb_err_set(pager_txn_err(c->t), RDB_MISUSE,
				   "cursor is not on a row");
	if (!c->have_row) {
		rc = row_value(c, &k, &kn);
		if (rc == RDB_OK)
			rc = tbl_row_load_l(c->tb, &c->rl, k, kn, c->vp,
					    c->vn, c->row, &c->scratch);
		if (rc == RDB_CORRUPT)
			return corrupt(c, "malformed row");
		if (rc != RDB_OK)
			return rc;
		c->have_row = 1;
	}
	*row = c->row;
	return RDB_OK;
}

rdb_rc tbl_cursor_entry(tbl_cursor *c, const tbl_value **vals, int *n)
{
	size_t used = 0;
	rdb_rc rc;

	assert(c != NULL && vals != NULL && n != NULL);
	*vals = NULL;
	*n = 0;
	if (c->state != ON || c->ix == NULL)
		return rdb_err_set(pager_txn_err(c->t), RDB_MISUSE, "%s",
				   c->ix == NULL ? "not an index cursor"
						 : "cursor is not on a row");
	if (!c->have_ent) {
		rc = tbl_key_decode(c->kp, c->kn, c->l.n, c->l.type,
				    c->l.desc, c->ent, &c->scratch2, &used);
		if (rc == RDB_OK && used != c->kn)
			rc = RDB_CORRUPT;
		if (rc == RDB_CORRUPT)
			return corrupt(c, "malformed entry");
		if (rc != RDB_OK)
			return rc;
		c->have_ent = 1;
	}
	*vals = c->ent;
	*n = c->l.n;
	return RDB_OK;
}

rdb_rc tbl_cursor_key(tbl_cursor *c, const tbl_value **key, int *n)
{
	size_t used = 0;
	rdb_rc rc;

	assert(c != NULL && key != NULL && n != NULL);
	*key = NULL;
	*n = 0;
	if (c->state != ON || c->ix != NULL)
		return rdb_err_set(pager_txn_err(c->t), RDB_MISUSE, "%s",
				   c->ix != NULL ? "not a table cursor"
						 : "cursor is not on a row");
	/* A table cursor leaves ent and scratch2 to this function. */
	rc = tbl_key_decode(c->kp + c->npre, c->kn - c->npre, c->rl.n,
			    c->rl.type, c->rl.desc, c->ent, &c->scratch2,
			    &used);
	if (rc == RDB_OK && used != c->kn - c->npre)
		rc = RDB_CORRUPT;
	if (rc == RDB_CORRUPT)
		return corrupt(c, "malformed key");
	if (rc != RDB_OK)
		return rc;
	*key = c->ent;
	*n = c->rl.n;
	return RDB_OK;
}
