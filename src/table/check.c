/*
 * check.c -- tbl_check(): every tree verifies, every row decodes and fits
 * its columns' types, and every index holds exactly the entries its
 * table's rows imply (the integrity check reuses it).  Design:
 * src/table/README.md ("Invariants").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <string.h>
#include "mem.h"

typedef struct checker {
	pager_txn *t;
	const tbl_table *tb;
	tbl_value *row;           /* owned: tbl_nvals values */
	tbl_value tmp;
	rdb_buf key, val, ent, scr, other;
	uint64_t nrows;
	char conv[TBL_SCRATCH];
} checker;

static rdb_rc bad_row(checker *ck, const char *what, const char *name)
{
	return rdb_err_set(pager_txn_err(ck->t), RDB_CORRUPT, "table '%s', "
			   "row %llu: %s%s%s", ck->tb->name,
			   (unsigned long long)ck->nrows, what,
			   name ? " " : "", name ? name : "");
}

static int same_value(const tbl_value *a, const tbl_value *b)
{
	if (a->cls != b->cls)
		return 0;
	if (a->cls == TBL_INT)
		return a->i == b->i;
	if (a->cls == TBL_REAL)
		return a->r == b->r;
	if (a->cls == TBL_TEXT || a->cls == TBL_BLOB)
		return a->n == b->n && (a->n == 0 ||
					memcmp(a->p, b->p, a->n) == 0);
	return 1;
}

/* Each value is what its column's type would store. */
static rdb_rc check_values(checker *ck)
{
	const tbl_table *tb = ck->tb;
	rdb_err quiet = { 0 };
	int i;

	for (i = 0; i < tb->ncols; i++) {
		ck->tmp = ck->row[i];
		if (ck->tmp.cls == TBL_NULL) {
			if (tb->cols[i].notnull || tb->cols[i].pk)
				return bad_row(ck, "NULL in NOT NULL column",
					       tb->cols[i].name);
			continue;
		}
		if (tbl_value_apply(tb, i, &ck->tmp, ck->conv, &quiet) !=
		    RDB_OK || !same_value(&ck->tmp, &ck->row[i]))
			return bad_row(ck, "value does not fit column",
				       tb->cols[i].name);
	}
	if (tb->npk == 0 && ck->row[tb->ncols].cls != TBL_INT)
		return bad_row(ck, "rowid is not an integer", NULL);
	return RDB_OK;
}

/* The entry of the current row is in index i. */
static rdb_rc check_entry(checker *ck, const tbl_index *ix)
{
	tbl_layout l;
	size_t vn = 0;
	rdb_rc rc;

	tbl_layout_of(ck->tb, ix, &l);
	rdb_buf_reset(&ck->ent);
	rc = tbl_layout_encode(&l, 0, l.nix, ck->row, &ck->ent);
	if (rc == RDB_OK)
		rc = rdb_buf_append(&ck->ent, ck->key.p, ck->key.n);
	if (rc == RDB_OK)
		rc = bt_get_buf(ck->t, ix->root, ck->ent.p, ck->ent.n, NULL, 0,
				&vn);
	if (rc == RDB_NOTFOUND)
		return bad_row(ck, "missing from index", ix->name);
	if (rc == RDB_RANGE)
		return bad_row(ck, "has an entry with a value in index",
			       ix->name);
	return rc == RDB_NOMEM ? tbl_nomem(ck->t) : rc;
}

static rdb_rc check_row(checker *ck, bt_cursor *c)
{
	const void *k, *v;
	size_t kn, vn;
	rdb_rc rc;
	int i;

	if ((rc = bt_key(c, &k, &kn)) != RDB_OK ||
	    (rc = bt_value(c, &v, &vn)) != RDB_OK)
		return rc;
	rdb_buf_reset(&ck->key);
	rdb_buf_reset(&ck->val);
	if (rdb_buf_append(&ck->key, k, kn) || rdb_buf_append(&ck->val, v, vn))
		return tbl_nomem(ck->t);
	rc = tbl_row_load(ck->tb, ck->key.p, ck->key.n, ck->val.p, ck->val.n,
			  ck->row, &ck->scr);
	if (rc == RDB_CORRUPT)
		return bad_row(ck, "malformed", NULL);
	if (rc == RDB_OK)
		rc = check_values(ck);
	for (i = 0; i < ck->tb->nidx && rc == RDB_OK; i++)
		rc = check_entry(ck, &ck->tb->idx[i]);
	return rc;
}

/* No two entries of a unique index share their (non-NULL) columns. */
static rdb_rc check_unique(checker *ck, const tbl_index *ix)
{
	tbl_value vals[TBL_MAX_COMPS];
	bt_cursor *c = NULL;
	tbl_layout l;
	const void *k;
	size_t kn, used;
	int i, nul;
	rdb_rc rc;

	tbl_layout_of(ck->tb, ix, &l);
	rdb_buf_reset(&ck->other);
	rc = bt_cursor_open(ck->t, ix->root, &c);
	for (rc = rc ? rc : bt_first(c); rc == RDB_OK;
	     rc = rc ? rc : bt_next(c)) {
		if ((rc = bt_key(c, &k, &kn)) != RDB_OK)
			break;
		rc = tbl_key_decode(k, kn, l.nix, l.type, l.desc, vals,
				    &ck->scr, &used);
		if (rc != RDB_OK) {
			rc = rdb_err_set(pager_txn_err(ck->t), RDB_CORRUPT,
					 "index '%s': malformed entry",
					 ix->name);
			break;
		}
		for (i = 0, nul = 0; i < l.nix; i++)
			nul |= vals[i].cls == TBL_NULL;
		if (!nul && ck->other.n == used &&
		    memcmp(ck->other.p, k, used) == 0) {
			rc = rdb_err_set(pager_txn_err(ck->t), RDB_CORRUPT,
					 "unique index '%s' holds a duplicate",
					 ix->name);
			break;
		}
		rdb_buf_reset(&ck->other);
		if (!nul && rdb_buf_append(&ck->other, k, used) != RDB_OK)
			rc = RDB_NOMEM;
	}
	bt_cursor_close(c);
	return rc == RDB_NOTFOUND ? RDB_OK : rc;
}

/* Verify index i's tree; it holds as many entries as the table rows. */
static rdb_rc check_index(checker *ck, const tbl_index *ix,
			  unsigned char *seen)
{
	bt_stats st;
	rdb_rc rc = bt_verify(ck->t, ix->root, seen, &st);

	if (rc == RDB_OK && st.keys != ck->nrows)
		rc = rdb_err_set(pager_txn_err(ck->t), RDB_CORRUPT, "index "
				 "'%s' holds %llu entries for %llu rows of "
				 "table '%s'", ix->name,
				 (unsigned long long)st.keys,
				 (unsigned long long)ck->nrows, ck->tb->name);
	if (rc == RDB_OK && ix->unique)
		rc = check_unique(ck, ix);
	return rc;
}

static rdb_rc check_table(checker *ck, unsigned char *seen)
{
	const tbl_table *tb = ck->tb;
	bt_cursor *c = NULL;
	bt_stats st;
	rdb_rc rc;
	int i;

	ck->nrows = 0;
	ck->row = rdb_calloc((size_t)tbl_nvals(tb), sizeof(tbl_value));
	if (ck->row == NULL)
		return tbl_nomem(ck->t);
	rc = bt_verify(ck->t, tb->root, seen, &st);
	if (rc == RDB_OK)
		rc = bt_cursor_open(ck->t, tb->root, &c);
	for (rc = rc ? rc : bt_first(c); rc == RDB_OK;
	     rc = rc ? rc : bt_next(c)) {
		rc = check_row(ck, c);
		ck->nrows++;
	}
	bt_cursor_close(c);
	rdb_free(ck->row);
	ck->row = NULL;
	if (rc != RDB_NOTFOUND)
		return rc;
	for (i = 0, rc = RDB_OK; i < tb->nidx && rc == RDB_OK; i++)
		rc = check_index(ck, &tb->idx[i], seen);
	return rc;
}

/* Every row of a system table decodes. */
static rdb_rc check_system(pager_txn *t, const tbl_table *tb)
{
	tbl_cursor *c = NULL;
	const tbl_value *row;
	rdb_rc rc = tbl_cursor_open(t, tb, NULL, &c);

	while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW)
		rc = tbl_cursor_row(c, &row);
	tbl_cursor_close(c);
	return rc == RDB_DONE ? RDB_OK : rc;
}

rdb_rc tbl_check(pager_txn *t, const tbl_schema *s, unsigned char *seen)
{
	checker ck;
	rdb_rc rc = RDB_OK;
	int i;

	assert(t != NULL && s != NULL);
	memset(&ck, 0, sizeof(ck));
	ck.t = t;
	for (i = 0; i < s->n && rc == RDB_OK; i++) {
		ck.tb = &s->tables[i];
		rc = ck.tb->system ? check_system(t, ck.tb)
				   : check_table(&ck, seen);
	}
	rdb_buf_free(&ck.key);
	rdb_buf_free(&ck.val);
	rdb_buf_free(&ck.ent);
	rdb_buf_free(&ck.scr);
	rdb_buf_free(&ck.other);
	return rc;
}
