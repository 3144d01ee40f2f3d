/*
 * table.c -- row changes and lookups: insert, update (the key may change),
 * delete and get on user tables, keeping every index exact.  Every check
 * (types, NOT NULL, key sizes, uniqueness) happens before the first write,
 * so a failed row change changes nothing.  Design: src/table/README.md
 * ("Rows", "Constraints").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <string.h>
#include "mem.h"

struct tbl_ctx {
	tbl_value *row;           /* owned: tbl_get's row, or the old row */
	tbl_value *vrow;          /* owned: a row being deleted */
	size_t nrow;              /* slots in row and vrow */
	char *conv;               /* owned: TBL_SCRATCH bytes per column */
	size_t nconv;
	uint32_t *ixo, *oixo;     /* owned: per index start, end of the
				     columns, end: in ixk and oixk */
	size_t nixo;
	rdb_buf key, val, ixk;    /* the new row: key, value, index entries */
	rdb_buf okey, oval, oixk; /* the old (stored) row */
	rdb_buf scr, oscr;        /* key-decoding scratch */
	rdb_buf vkey, vval, vscr, vixk;   /* a row being deleted */
	rdb_buf hits;             /* keys of conflicting rows: u32 + bytes */
	rdb_buf tmp;
	tbl_check_fn check;       /* tbl_ctx_check(), or NULL */
	void *check_arg;
};

rdb_rc tbl_ctx_new(tbl_ctx **out)
{
	*out = rdb_calloc(1, sizeof(tbl_ctx));
	return *out != NULL ? RDB_OK : RDB_NOMEM;
}

void tbl_ctx_check(tbl_ctx *cx, tbl_check_fn fn, void *arg)
{
	cx->check = fn;
	cx->check_arg = arg;
}

/* The caller's row check, if any; a failure under IGNORE skips the row. */
static rdb_rc row_check(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			const tbl_value *row, tbl_conflict on, int *skip)
{
	rdb_rc rc;

	if (cx->check == NULL)
		return RDB_OK;
	rc = cx->check(cx->check_arg, tb, row);
	if (rc == RDB_CONSTRAINT && on == TBL_IGNORE) {
		rdb_err_clear(pager_txn_err(t));
		*skip = 1;
		return RDB_OK;
	}
	return rc;
}

/* The buffers of cx, freed in turn by tbl_ctx_free(). */
static void free_bufs(tbl_ctx *cx)
{
	rdb_buf *bufs[] = { &cx->key, &cx->val, &cx->ixk, &cx->okey,
			    &cx->oval, &cx->oixk, &cx->scr, &cx->oscr,
			    &cx->vkey, &cx->vval, &cx->vscr, &cx->vixk,
			    &cx->hits, &cx->tmp };
	size_t i;

	for (i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		rdb_buf_free(bufs[i]);
}

void tbl_ctx_free(tbl_ctx *cx)
{
	/* (&cx->key of a NULL cx is undefined behaviour: check first) */
	if (cx == NULL)
		return;
	free_bufs(cx);
	rdb_free(cx->row);
	rdb_free(cx->vrow);
	rdb_free(cx->conv);
	rdb_free(cx->ixo);
	rdb_free(cx->oixo);
	rdb_free(cx);
}

/* Grow cx's arrays for tb. */
static rdb_rc ctx_fit(pager_txn *t, tbl_ctx *cx, const tbl_table *tb)
{
	size_t nv = (size_t)tbl_nvals(tb), nc = (size_t)tb->ncols * TBL_SCRATCH;
	size_t no = 3 * (size_t)tb->nidx + 1;
	void *a, *b;

	if (cx->nrow < nv) {
		a = rdb_realloc(cx->row, nv * sizeof(tbl_value));
		if (a != NULL)
			cx->row = a;
		b = rdb_realloc(cx->vrow, nv * sizeof(tbl_value));
		if (b != NULL)
			cx->vrow = b;
		if (a == NULL || b == NULL)
			return tbl_nomem(t);
		cx->nrow = nv;
	}
	if (cx->nconv < nc) {
		if ((a = rdb_realloc(cx->conv, nc)) == NULL)
			return tbl_nomem(t);
		cx->conv = a;
		cx->nconv = nc;
	}
	if (cx->nixo < no) {
		a = rdb_realloc(cx->ixo, no * sizeof(uint32_t));
		if (a != NULL)
			cx->ixo = a;
		b = rdb_realloc(cx->oixo, no * sizeof(uint32_t));
		if (b != NULL)
			cx->oixo = b;
		if (a == NULL || b == NULL)
			return tbl_nomem(t);
		cx->nixo = no;
	}
	return RDB_OK;
}

static rdb_rc buf_rc(pager_txn *t, rdb_rc rc)
{
	return rc == RDB_NOMEM ? tbl_nomem(t) : rc;
}

/* ---- stored rows ------------------------------------------------------------ */

/* The value stored under key in tree root, into val. */
static rdb_rc tree_get(pager_txn *t, rdb_pgno root, const void *key,
		       size_t klen, rdb_buf *val)
{
	size_t n = 0;
	rdb_rc rc;

	rdb_buf_reset(val);
	rc = bt_get_buf(t, root, key, klen, val->p, val->cap, &n);
	if (rc == RDB_RANGE) {
		if (rdb_buf_reserve(val, n) != RDB_OK)
			return tbl_nomem(t);
		rc = bt_get_buf(t, root, key, klen, val->p, val->cap, &n);
	}
	if (rc == RDB_OK)
		val->n = n;
	return rc;
}

static rdb_rc load_stored(pager_txn *t, const tbl_table *tb, const void *key,
			  size_t klen, tbl_value *row, rdb_buf *val,
			  rdb_buf *scr)
{
	rdb_rc rc = tree_get(t, tb->root, key, klen, val);

	if (rc == RDB_NOTFOUND)
		return rdb_err_set(pager_txn_err(t), RDB_NOTFOUND,
				   "no such row in table '%s'", tb->name);
	if (rc == RDB_OK)
		rc = tbl_row_load(tb, key, klen, val->p, val->n, row, scr);
	if (rc == RDB_CORRUPT)
		return rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
				   "table '%s': malformed row", tb->name);
	return buf_rc(t, rc);
}

/* Index entries of row (whose table key is key) for every index of tb:
 * entry i is out[off[3i] .. off[3i+2]), its columns end at off[3i+1]. */
static rdb_rc ix_entries(const tbl_table *tb, const tbl_value *row,
			 const rdb_buf *key, rdb_buf *out, uint32_t *off)
{
	tbl_layout l;
	rdb_rc rc = RDB_OK;
	int i;

	rdb_buf_reset(out);
	for (i = 0; i < tb->nidx && rc == RDB_OK; i++) {
		tbl_layout_of(tb, &tb->idx[i], &l);
		off[3 * i] = (uint32_t)out->n;
		rc = tbl_layout_encode(&l, 0, l.nix, row, out);
		off[3 * i + 1] = (uint32_t)out->n;
		if (rc == RDB_OK)
			rc = rdb_buf_append(out, key->p, key->n);
		off[3 * i + 2] = (uint32_t)out->n;
	}
	return rc;
}

static rdb_rc table_key(const tbl_table *tb, const tbl_value *row,
			rdb_buf *out)
{
	tbl_layout l;

	tbl_layout_of(tb, NULL, &l);
	rdb_buf_reset(out);
	return tbl_layout_encode(&l, 0, l.n, row, out);
}

/* Delete the stored row with this key and its index entries. */
static rdb_rc delete_stored(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			    const void *key, size_t klen)
{
	tbl_layout l;
	rdb_rc rc;
	int i;

	rc = load_stored(t, tb, key, klen, cx->vrow, &cx->vval, &cx->vscr);
	for (i = 0; i < tb->nidx && rc == RDB_OK; i++) {
		tbl_layout_of(tb, &tb->idx[i], &l);
		rdb_buf_reset(&cx->vixk);
		rc = tbl_layout_encode(&l, 0, l.nix, cx->vrow, &cx->vixk);
		if (rc == RDB_OK)
			rc = rdb_buf_append(&cx->vixk, key, klen);
		if (rc == RDB_OK)
			rc = bt_delete(t, tb->idx[i].root, cx->vixk.p,
				       cx->vixk.n);
		if (rc == RDB_NOTFOUND)
			return rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
					   "index '%s' of table '%s' lacks "
					   "the entry of a row",
					   tb->idx[i].name, tb->name);
	}
	if (rc == RDB_OK)
		rc = bt_delete(t, tb->root, key, klen);
	return buf_rc(t, rc);
}

/* ---- a new row: values, key, encodings ---------------------------------------- */

static rdb_rc not_null(pager_txn *t, const tbl_table *tb, int col)
{
	return rdb_err_set(pager_txn_err(t), RDB_CONSTRAINT,
			   "NOT NULL constraint failed: %s.%s", tb->name,
			   tb->cols[col].name);
}

/* Coerce row in place.  A NULL in a NOT NULL or key column: IGNORE sets
 * *skip, REPLACE uses the default if there is one; a NULL in the ipk
 * column is left for the caller when assign is set. */
static rdb_rc coerce(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		     tbl_value *row, tbl_conflict on, int assign, int *skip)
{
	const tbl_column *col;
	rdb_rc rc;
	int i;

	for (i = 0; i < tb->ncols; i++) {
		col = &tb->cols[i];
		if (row[i].cls == TBL_NULL) {
			if (assign && tb->ipk && i == tb->pk[0])
				continue;
			if (!col->notnull && col->pk == 0)
				continue;
			if (on == TBL_IGNORE) {
				*skip = 1;
				return RDB_OK;
			}
			if (on != TBL_REPLACE || !col->has_dflt ||
			    col->dflt.cls == TBL_NULL)
				return not_null(t, tb, i);
			row[i] = col->dflt;
		}
		rc = tbl_value_apply(tb, i, &row[i], cx->conv + i * TBL_SCRATCH,
				     pager_txn_err(t));
		if (rc != RDB_OK)
			return rc;
	}
	if (tb->npk == 0 && row[tb->ncols].cls != TBL_NULL &&
	    row[tb->ncols].cls != TBL_INT)
		return rdb_err_set(pager_txn_err(t), RDB_MISMATCH,
				   "rowid of table '%s' must be an integer",
				   tb->name);
	return RDB_OK;
}

/* max(key) + 1 of a table keyed by one integer (rowid or ipk); 1 if it
 * is empty. */
static rdb_rc next_id(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		      int64_t *out)
{
	bt_cursor *c = NULL;
	tbl_layout l;
	tbl_value v;
	const void *k;
	size_t kn;
	rdb_rc rc;

	tbl_layout_of(tb, NULL, &l);
	rc = bt_cursor_open(t, tb->root, &c);
	if (rc == RDB_OK)
		rc = l.desc[0] ? bt_first(c) : bt_last(c);
	if (rc == RDB_OK)
		rc = bt_key(c, &k, &kn);
	if (rc == RDB_OK)
		rc = tbl_key_decode(k, kn, 1, l.type, l.desc, &v, &cx->scr,
				    NULL);
	bt_cursor_close(c);
	if (rc == RDB_NOTFOUND) {
		*out = 1;
		return RDB_OK;
	}
	if (rc == RDB_OK && v.cls != TBL_INT)
		rc = RDB_CORRUPT;
	if (rc == RDB_CORRUPT)
		return rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
				   "table '%s': malformed key", tb->name);
	if (rc != RDB_OK)
		return buf_rc(t, rc);
	if (v.i == INT64_MAX)
		return rdb_err_set(pager_txn_err(t), RDB_FULL, "table '%s' "
				   "has no integer key left", tb->name);
	*out = v.i < 0 ? 1 : v.i + 1;
	return RDB_OK;
}

/* Give a NULL rowid or ipk column its value. */
static rdb_rc assign_id(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			tbl_value *row)
{
	int slot = tb->npk == 0 ? tb->ncols : tb->ipk ? tb->pk[0] : -1;
	int64_t id;
	rdb_rc rc;

	if (slot < 0 || row[slot].cls != TBL_NULL)
		return RDB_OK;
	if ((rc = next_id(t, cx, tb, &id)) != RDB_OK)
		return rc;
	row[slot] = (tbl_value){ .cls = TBL_INT, .i = id };
	return RDB_OK;
}

/* Encode row: key, value and index entries into cx, checking sizes. */
static rdb_rc encode_row(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			 const tbl_value *row)
{
	size_t max = tbl_max_key(t), n;
	rdb_rc rc;
	int i;

	rc = table_key(tb, row, &cx->key);
	if (rc == RDB_OK) {
		rdb_buf_reset(&cx->val);
		rc = tbl_row_encode(tb, row, &cx->val);
	}
	if (rc == RDB_OK)
		rc = ix_entries(tb, row, &cx->key, &cx->ixk, cx->ixo);
	if (rc != RDB_OK)
		return buf_rc(t, rc);
	if (cx->key.n > max)
		return rdb_err_set(pager_txn_err(t), RDB_TOOBIG, "key of %zu "
				   "bytes is too long for table '%s' (maximum "
				   "%zu)", cx->key.n, tb->name, max);
	if (cx->val.n > BT_MAX_VALUE)
		return rdb_err_set(pager_txn_err(t), RDB_TOOBIG, "row of %zu "
				   "bytes is too long for table '%s'",
				   cx->val.n, tb->name);
	for (i = 0; i < tb->nidx; i++) {
		n = cx->ixo[3 * i + 2] - cx->ixo[3 * i];
		if (n > max)
			return rdb_err_set(pager_txn_err(t), RDB_TOOBIG,
					   "entry of %zu bytes is too long "
					   "for index '%s' (maximum %zu)", n,
					   tb->idx[i].name, max);
	}
	return RDB_OK;
}

/* ---- conflicts ----------------------------------------------------------------- */

/* Remember a conflicting row's key once. */
static rdb_rc add_hit(tbl_ctx *cx, const void *k, size_t kn)
{
	unsigned char *p = cx->hits.p, *end = p + cx->hits.n;
	uint32_t n;

	while (p < end) {
		memcpy(&n, p, 4);
		if (n == kn && memcmp(p + 4, k, kn) == 0)
			return RDB_OK;
		p += 4 + n;
	}
	n = (uint32_t)kn;
	if (rdb_buf_append(&cx->hits, &n, 4) != RDB_OK)
		return RDB_NOMEM;
	return rdb_buf_append(&cx->hits, k, kn);
}

/* One conflict found: ABORT fails, IGNORE skips, REPLACE remembers. */
static rdb_rc on_conflict(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			  const tbl_index *ix, tbl_conflict on,
			  const void *k, size_t kn, int *skip)
{
	if (on == TBL_ABORT)
		return tbl_unique_error(t, tb, ix);
	if (on == TBL_IGNORE) {
		*skip = 1;
		return RDB_OK;
	}
	return buf_rc(t, add_hit(cx, k, kn));
}

/* Can an insert leave the primary-key check to bt_insert(), which finds
 * a taken key in the same descent that inserts and changes nothing then?
 * Only if no other check comes after it (the unique indexes are probed
 * first, and SQLite reports the key's conflict before theirs) and the
 * conflict needs no deletion (not REPLACE).  This saves a descent per
 * row. */
static int key_probe_in_insert(const tbl_table *tb, tbl_conflict on)
{
	int i;

	if (on == TBL_REPLACE)
		return 0;
	for (i = 0; i < tb->nidx; i++)
		if (tb->idx[i].unique)
			return 0;
	return 1;
}

/* Find the rows the new row (encoded in cx) conflicts with.  self: the
 * key of the row being updated (NULL for an insert); its old index
 * entries are in cx->oixk. */
static rdb_rc conflicts(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			const tbl_value *row, const rdb_buf *self,
			tbl_conflict on, int *skip)
{
	const unsigned char *pre, *opre;
	size_t n = 0, plen;
	int i, found;
	rdb_rc rc = RDB_OK;

	rdb_buf_reset(&cx->hits);
	if (self == NULL && key_probe_in_insert(tb, on)) {
		/* bt_insert() finds a taken key itself (insert_row()). */
	} else if (self == NULL || self->n != cx->key.n ||
		   memcmp(self->p, cx->key.p, cx->key.n) != 0) {
		rc = bt_get_buf(t, tb->root, cx->key.p, cx->key.n, NULL, 0, &n);
		if (rc == RDB_OK || rc == RDB_RANGE)
			rc = on_conflict(t, cx, tb, NULL, on, cx->key.p,
					 cx->key.n, skip);
		else if (rc == RDB_NOTFOUND)
			rc = RDB_OK;
	}
	for (i = 0; i < tb->nidx && rc == RDB_OK && !*skip; i++) {
		if (!tb->idx[i].unique || tbl_ix_has_null(&tb->idx[i], row))
			continue;
		pre = cx->ixk.p + cx->ixo[3 * i];
		plen = cx->ixo[3 * i + 1] - cx->ixo[3 * i];
		opre = self ? cx->oixk.p + cx->oixo[3 * i] : NULL;
		if (opre != NULL && plen == cx->oixo[3 * i + 1] -
		    cx->oixo[3 * i] && memcmp(pre, opre, plen) == 0)
			continue;
		rc = tbl_ix_conflict(t, &tb->idx[i], pre, plen,
				     self ? self->p : NULL, self ? self->n : 0,
				     &cx->tmp, &found);
		if (rc == RDB_OK && found)
			rc = on_conflict(t, cx, tb, &tb->idx[i], on,
					 cx->tmp.p, cx->tmp.n, skip);
	}
	return rc;
}

/* REPLACE: delete the conflicting rows found. */
static rdb_rc remove_hits(pager_txn *t, tbl_ctx *cx, const tbl_table *tb)
{
	unsigned char *p = cx->hits.p, *end;
	uint32_t n;
	rdb_rc rc = RDB_OK;

	if (cx->hits.n == 0)
		return RDB_OK;       /* hits.p may be NULL: no p + 0 */
	end = p + cx->hits.n;
	while (p < end && rc == RDB_OK) {
		memcpy(&n, p, 4);
		rc = delete_stored(t, cx, tb, p + 4, n);
		p += 4 + n;
	}
	return rc;
}

static rdb_rc insert_entries(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			     int i)
{
	return bt_insert(t, tb->idx[i].root, cx->ixk.p + cx->ixo[3 * i],
			 cx->ixo[3 * i + 2] - cx->ixo[3 * i], "", 0);
}

/* The row itself.  When conflicts() left the key check to bt_insert(), a
 * taken key is reported (ABORT) or skips the row (IGNORE) here; nothing
 * has been written at that point. */
static rdb_rc insert_row(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
			 tbl_conflict on, int *skip)
{
	rdb_rc rc = bt_insert(t, tb->root, cx->key.p, cx->key.n,
			      cx->val.p ? (void *)cx->val.p : "", cx->val.n);

	if (rc != RDB_CONSTRAINT || !key_probe_in_insert(tb, on))
		return rc;
	if (on == TBL_ABORT)
		return tbl_unique_error(t, tb, NULL);
	rdb_err_clear(pager_txn_err(t));
	*skip = 1;
	return RDB_OK;
}

/* ---- the calls ----------------------------------------------------------------- */

rdb_rc tbl_insert(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		  tbl_value *row, tbl_conflict on, int *done)
{
	int skip = 0, i;
	rdb_rc rc;

	assert(t != NULL && cx != NULL && tb != NULL && row != NULL);
	if (done != NULL)
		*done = 0;
	if (tb->system)
		return tbl_sys_refuse(t, tb, "modified");
	rc = ctx_fit(t, cx, tb);
	if (rc == RDB_OK)
		rc = coerce(t, cx, tb, row, on, 1, &skip);
	if (rc == RDB_OK && !skip)
		rc = assign_id(t, cx, tb, row);
	if (rc == RDB_OK && !skip)
		rc = row_check(t, cx, tb, row, on, &skip);
	if (rc == RDB_OK && !skip)
		rc = encode_row(t, cx, tb, row);
	if (rc == RDB_OK && !skip)
		rc = conflicts(t, cx, tb, row, NULL, on, &skip);
	if (rc != RDB_OK || skip)
		return rc;
	/* From here on a failure leaves the transaction for rollback. */
	rc = remove_hits(t, cx, tb);
	if (rc == RDB_OK)
		rc = insert_row(t, cx, tb, on, &skip);
	if (skip)
		return rc;
	for (i = 0; i < tb->nidx && rc == RDB_OK; i++)
		rc = insert_entries(t, cx, tb, i);
	if (rc == RDB_OK && done != NULL)
		*done = 1;
	return rc;
}

/* Replace index entries that change, then the row itself. */
static rdb_rc update_write(pager_txn *t, tbl_ctx *cx, const tbl_table *tb)
{
	const unsigned char *o, *nw;
	size_t on, nn;
	rdb_rc rc = RDB_OK;
	int i, same;

	for (i = 0; i < tb->nidx && rc == RDB_OK; i++) {
		o = cx->oixk.p + cx->oixo[3 * i];
		on = cx->oixo[3 * i + 2] - cx->oixo[3 * i];
		nw = cx->ixk.p + cx->ixo[3 * i];
		nn = cx->ixo[3 * i + 2] - cx->ixo[3 * i];
		if (on == nn && memcmp(o, nw, nn) == 0)
			continue;
		rc = bt_delete(t, tb->idx[i].root, o, on);
		if (rc == RDB_NOTFOUND)
			rc = rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
					 "index '%s' of table '%s' lacks the "
					 "entry of a row", tb->idx[i].name,
					 tb->name);
		if (rc == RDB_OK)
			rc = insert_entries(t, cx, tb, i);
	}
	same = cx->okey.n == cx->key.n &&
	       memcmp(cx->okey.p, cx->key.p, cx->key.n) == 0;
	if (rc == RDB_OK && same)
		return bt_update(t, tb->root, cx->key.p, cx->key.n,
				 cx->val.p ? (void *)cx->val.p : "",
				 cx->val.n);
	if (rc == RDB_OK)
		rc = bt_delete(t, tb->root, cx->okey.p, cx->okey.n);
	if (rc == RDB_OK)
		rc = bt_insert(t, tb->root, cx->key.p, cx->key.n,
			       cx->val.p ? (void *)cx->val.p : "", cx->val.n);
	return rc;
}

/* Read the stored row with old's key into cx (okey, row, oixk). */
static rdb_rc load_old(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		       const tbl_value *old)
{
	rdb_rc rc = table_key(tb, old, &cx->okey);

	if (rc != RDB_OK)
		return buf_rc(t, rc);
	rc = load_stored(t, tb, cx->okey.p, cx->okey.n, cx->row, &cx->oval,
			 &cx->oscr);
	if (rc == RDB_OK)
		rc = buf_rc(t, ix_entries(tb, cx->row, &cx->okey, &cx->oixk,
					  cx->oixo));
	return rc;
}

rdb_rc tbl_update(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		  const tbl_value *old, tbl_value *new_row, tbl_conflict on,
		  int *done)
{
	int skip = 0;
	rdb_rc rc;

	assert(t != NULL && cx != NULL && tb != NULL && old != NULL);
	if (done != NULL)
		*done = 0;
	if (tb->system)
		return tbl_sys_refuse(t, tb, "modified");
	rc = ctx_fit(t, cx, tb);
	if (rc == RDB_OK)
		rc = load_old(t, cx, tb, old);
	if (rc != RDB_OK)
		return rc;
	if (tb->npk == 0 && new_row[tb->ncols].cls == TBL_NULL)
		new_row[tb->ncols] = cx->row[tb->ncols];
	rc = coerce(t, cx, tb, new_row, on, 0, &skip);
	if (rc == RDB_OK && !skip)
		rc = row_check(t, cx, tb, new_row, on, &skip);
	if (rc == RDB_OK && !skip)
		rc = encode_row(t, cx, tb, new_row);
	if (rc == RDB_OK && !skip)
		rc = conflicts(t, cx, tb, new_row, &cx->okey, on, &skip);
	if (rc != RDB_OK || skip)
		return rc;
	rc = remove_hits(t, cx, tb);
	if (rc == RDB_OK)
		rc = update_write(t, cx, tb);
	if (rc == RDB_OK && done != NULL)
		*done = 1;
	return rc;
}

rdb_rc tbl_delete(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		  const tbl_value *old)
{
	rdb_rc rc;

	assert(t != NULL && cx != NULL && tb != NULL && old != NULL);
	if (tb->system)
		return tbl_sys_refuse(t, tb, "modified");
	rc = ctx_fit(t, cx, tb);
	if (rc == RDB_OK)
		rc = buf_rc(t, table_key(tb, old, &cx->okey));
	if (rc == RDB_OK)
		rc = delete_stored(t, cx, tb, cx->okey.p, cx->okey.n);
	return rc;
}

/* A system table's row, from the KV store (cx->okey holds its key). */
static rdb_rc sys_get(pager_txn *t, tbl_ctx *cx, const tbl_table *tb)
{
	rdb_buf *v = &cx->oval;
	size_t n = 0;
	rdb_rc rc;

	rdb_buf_reset(v);
	rc = kv_get_into(t, NULL, cx->okey.p, cx->okey.n, v->p, v->cap, &n);
	if (rc == RDB_RANGE) {
		if (rdb_buf_reserve(v, n) != RDB_OK)
			return tbl_nomem(t);
		rc = kv_get_into(t, NULL, cx->okey.p, cx->okey.n, v->p,
				 v->cap, &n);
	}
	if (rc == RDB_NOTFOUND)
		return rdb_err_set(pager_txn_err(t), RDB_NOTFOUND,
				   "no such row in table '%s'", tb->name);
	if (rc == RDB_OK)
		rc = tbl_row_load(tb, cx->okey.p + 2, cx->okey.n - 2, v->p, n,
				  cx->row, &cx->oscr);
	if (rc == RDB_CORRUPT)
		return rdb_err_set(pager_txn_err(t), RDB_CORRUPT, "catalog: "
				   "malformed row in '%s'", tb->name);
	return rc;
}

rdb_rc tbl_get(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
	       const tbl_value *key, const tbl_value **row)
{
	int i, sys = tbl_sys_id(tb);
	tbl_layout l;
	rdb_rc rc = RDB_OK;

	assert(t != NULL && cx != NULL && tb != NULL && row != NULL);
	*row = NULL;
	tbl_layout_of(tb, NULL, &l);
	rdb_buf_reset(&cx->okey);
	if (sys >= 0) {
		unsigned char pre[2];

		tbl_sys_prefix(sys, pre);
		rc = rdb_buf_append(&cx->okey, pre, 2);
	}
	for (i = 0; i < l.n && rc == RDB_OK; i++)
		rc = tbl_key_append(&cx->okey, &key[i], l.desc[i]);
	if (rc == RDB_OK)
		rc = ctx_fit(t, cx, tb);
	if (rc == RDB_OK && sys >= 0)
		rc = sys_get(t, cx, tb);
	else if (rc == RDB_OK)
		rc = load_stored(t, tb, cx->okey.p, cx->okey.n, cx->row,
				 &cx->oval, &cx->oscr);
	if (rc == RDB_OK)
		*row = cx->row;
	return buf_rc(t, rc);
}
