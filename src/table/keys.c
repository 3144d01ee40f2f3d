/*
 * keys.c -- key layouts: which row slots make a table's or an index's key,
 * in which order and direction, and turning stored (key, value) pairs back
 * into rows.  Design: src/table/README.md ("Storage").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <string.h>

static void add(tbl_layout *l, uint16_t slot, tbl_type type, int desc)
{
	assert(l->n < TBL_MAX_COMPS);
	l->slot[l->n] = slot;
	l->type[l->n] = type;
	l->desc[l->n] = (uint8_t)(desc != 0);
	l->n++;
}

void tbl_layout_of(const tbl_table *tb, const tbl_index *ix, tbl_layout *l)
{
	int i, c;

	l->n = 0;
	if (ix != NULL)
		for (i = 0; i < ix->ncols; i++) {
			c = ix->cols[i];
			add(l, (uint16_t)c, tb->cols[c].type, ix->desc[i]);
		}
	l->nix = l->n;
	if (tb->npk == 0) {
		add(l, tb->ncols, TBL_TY_INTEGER, 0);
		return;
	}
	for (i = 0; i < tb->npk; i++) {
		c = tb->pk[i];
		add(l, (uint16_t)c, tb->cols[c].type, tb->cols[c].pk_desc);
	}
}

rdb_rc tbl_layout_encode(const tbl_layout *l, int from, int to,
			 const tbl_value *row, rdb_buf *b)
{
	rdb_rc rc = RDB_OK;
	int i;

	for (i = from; i < to && rc == RDB_OK; i++)
		rc = tbl_key_append(b, &row[l->slot[i]], l->desc[i]);
	return rc;
}

rdb_rc tbl_row_load(const tbl_table *tb, const void *key, size_t klen,
		    const void *val, size_t vlen, tbl_value *row,
		    rdb_buf *scratch)
{
	tbl_layout l;

	tbl_layout_of(tb, NULL, &l);
	return tbl_row_load_l(tb, &l, key, klen, val, vlen, row, scratch);
}

rdb_rc tbl_row_load_l(const tbl_table *tb, const tbl_layout *l,
		      const void *key, size_t klen, const void *val,
		      size_t vlen, tbl_value *row, rdb_buf *scratch)
{
	tbl_value kv[TBL_MAX_COMPS];
	size_t used = 0;
	rdb_rc rc;
	int i;

	rc = tbl_key_decode(key, klen, l->n, l->type, l->desc, kv, scratch,
			    &used);
	if (rc == RDB_OK && used != klen)
		rc = RDB_CORRUPT;
	if (rc != RDB_OK)
		return rc;
	for (i = 0; i < l->n; i++)
		row[l->slot[i]] = kv[i];
	return tbl_row_decode(tb, val, vlen, row);
}

size_t tbl_max_key(pager_txn *t)
{
	return bt_max_key(pager_page_size(pager_txn_pager(t)));
}
