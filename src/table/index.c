/*
 * index.c -- secondary indexes: uniqueness probes and the wording of
 * constraint errors.  An index is a B+ tree keyed by the encodings of its
 * columns followed by the table's key, with empty values.  Design:
 * src/table/README.md ("Storage", "Constraints").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "mem.h"

int tbl_ix_has_null(const tbl_index *ix, const tbl_value *row)
{
	int i;

	for (i = 0; i < ix->ncols; i++)
		if (row[ix->cols[i]].cls == TBL_NULL)
			return 1;
	return 0;
}

/* Scan the entries that start with pre for one whose table key is not
 * self. */
static rdb_rc probe(bt_cursor *c, const void *pre, size_t plen,
		    const void *self, size_t slen, rdb_buf *other, int *found)
{
	const unsigned char *k;
	const void *kp;
	size_t kn;
	rdb_rc rc;

	for (rc = bt_seek_ge(c, pre, plen); rc == RDB_OK; rc = bt_next(c)) {
		if ((rc = bt_key(c, &kp, &kn)) != RDB_OK)
			return rc;
		k = kp;
		if (kn < plen || memcmp(k, pre, plen) != 0)
			return RDB_OK;
		if (self != NULL && kn - plen == slen &&
		    memcmp(k + plen, self, slen) == 0)
			continue;
		*found = 1;
		rdb_buf_reset(other);
		return rdb_buf_append(other, k + plen, kn - plen);
	}
	return rc == RDB_NOTFOUND ? RDB_OK : rc;
}

rdb_rc tbl_ix_conflict(pager_txn *t, const tbl_index *ix, const void *pre,
		       size_t plen, const void *self, size_t slen,
		       rdb_buf *other, int *found)
{
	bt_cursor *c = NULL;
	rdb_rc rc;

	*found = 0;
	rc = bt_cursor_open(t, ix->root, &c);
	if (rc == RDB_OK)
		rc = probe(c, pre, plen, self, slen, other, found);
	bt_cursor_close(c);
	return rc == RDB_NOMEM ? tbl_nomem(t) : rc;
}

rdb_rc tbl_unique_error(pager_txn *t, const tbl_table *tb,
			const tbl_index *ix)
{
	char msg[RDB_ERR_MSG_MAX];
	size_t n = 0;
	int i, c, nc = ix != NULL ? ix->ncols : tb->npk;

	msg[0] = '\0';
	for (i = 0; i < nc && n < sizeof(msg); i++) {
		c = ix != NULL ? ix->cols[i] : tb->pk[i];
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s.%s",
				      i ? ", " : "", tb->name,
				      tb->cols[c].name);
	}
	if (nc == 0)
		snprintf(msg, sizeof(msg), "%s.rowid", tb->name);
	return rdb_err_set(pager_txn_err(t), RDB_CONSTRAINT,
			   "UNIQUE constraint failed: %s", msg);
}
