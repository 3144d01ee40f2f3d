/*
 * freelist.c -- free pages: a chain of trunk pages, each listing up to
 * FMT_FREE_CAPACITY leaf page numbers.  Leaves are never read or written
 * while free; trunks are ordinary pages of the transaction.
 * Design: src/pager/README.md, "Free pages".  Bytes: docs/format.md.
 */
#include "pager/pager_int.h"
#include <string.h>
#include "mem.h"

/* Pin trunk page pgno and check its type and count. */
static rdb_rc get_trunk(pager_txn *t, rdb_pgno pgno, pager_page **out)
{
	uint32_t cap = FMT_FREE_CAPACITY(t->p->page_size);
	unsigned char *d;
	rdb_rc rc = pager_get(t, pgno, out);

	if (rc != RDB_OK)
		return rc;
	d = pager_data(*out);
	if (d[FMT_PAGE_TYPE] != FMT_PT_FREE ||
	    fmt_get_u32(d + FMT_FREE_COUNT) > cap ||
	    fmt_get_u32(d + FMT_FREE_NEXT) >= t->h.page_count) {
		pager_unref(*out);
		*out = NULL;
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u: bad free-list trunk", pgno);
	}
	return RDB_OK;
}

rdb_rc freelist_pop(pager_txn *t, rdb_pgno *out)
{
	pager_page *tr;
	unsigned char *d;
	uint32_t count, leaf;
	rdb_rc rc;

	*out = 0;
	if (t->h.free_head == 0)
		return RDB_OK;
	if (t->h.free_count == 0)
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page 0: free list is not empty but its "
				   "count is 0");
	rc = get_trunk(t, t->h.free_head, &tr);
	if (rc != RDB_OK)
		return rc;
	d = pager_data(tr);
	count = fmt_get_u32(d + FMT_FREE_COUNT);
	if (count == 0) {
		/* The trunk itself is the page handed out. */
		if (t->n_sp != 0 && (rc = sp_note_page(t, tr)) != RDB_OK) {
			pager_unref(tr);
			return rc;
		}
		*out = t->h.free_head;
		t->h.free_head = fmt_get_u32(d + FMT_FREE_NEXT);
		t->h.free_count--;
		pager_unref(tr);
		return RDB_OK;
	}
	leaf = fmt_get_u32(d + FMT_FREE_ENTRIES + 4 * (count - 1));
	if (leaf == 0 || leaf >= t->h.page_count || leaf == t->h.free_head) {
		pager_unref(tr);
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u: free-list entry %u is out of range",
				   t->h.free_head, leaf);
	}
	/* A leaf's bytes never mattered: the journal keeps none. */
	rc = t->n_sp != 0 ? sp_note_unused(t, leaf) : RDB_OK;
	if (rc == RDB_OK)
		rc = pager_write(t, &tr);
	if (rc == RDB_OK) {
		fmt_put_u32(pager_data(tr) + FMT_FREE_COUNT, count - 1);
		t->h.free_count--;
		*out = leaf;
	}
	pager_unref(tr);
	return rc;
}

rdb_rc freelist_push(pager_txn *t, rdb_pgno pgno)
{
	uint32_t cap = FMT_FREE_CAPACITY(t->p->page_size), count;
	pager_page *tr;
	rdb_rc rc;

	rc = txn_drop_private(t, pgno);
	if (rc != RDB_OK)
		return rc;
	if (t->h.free_head != 0) {
		rc = get_trunk(t, t->h.free_head, &tr);
		if (rc != RDB_OK)
			return rc;
		count = fmt_get_u32(pager_data(tr) + FMT_FREE_COUNT);
		if (count < cap) {
			rc = pager_write(t, &tr);
			if (rc == RDB_OK) {
				unsigned char *d = pager_data(tr);

				fmt_put_u32(d + FMT_FREE_ENTRIES + 4 * count,
					    pgno);
				fmt_put_u32(d + FMT_FREE_COUNT, count + 1);
				t->h.free_count++;
			}
			pager_unref(tr);
			return rc;
		}
		pager_unref(tr);
	}
	/* No room: the freed page becomes the new first trunk. */
	rc = txn_new_private(t, pgno, FMT_PT_FREE, &tr);
	if (rc != RDB_OK)
		return rc;
	fmt_put_u32(pager_data(tr) + FMT_FREE_NEXT, t->h.free_head);
	fmt_put_u32(pager_data(tr) + FMT_FREE_COUNT, 0);
	pager_unref(tr);
	t->h.free_head = pgno;
	t->h.free_count++;
	return RDB_OK;
}

/* Mark pgno seen; RDB_CORRUPT if out of range or seen before. */
static rdb_rc mark(pager_txn *t, unsigned char *seen, rdb_pgno pgno,
		   rdb_pgno from)
{
	if (pgno == 0 || pgno >= t->h.page_count ||
	    (seen[pgno / 8] & (1u << (pgno % 8))))
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u: free-list entry %u is out of range "
				   "or listed twice", from, pgno);
	seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return RDB_OK;
}

/* Walk one trunk's leaves; *stop set when fn asks to stop. */
static rdb_rc walk_leaves(pager_txn *t, const unsigned char *d, rdb_pgno tp,
			  unsigned char *seen, uint32_t *n,
			  int (*fn)(void *, rdb_pgno, int), void *arg,
			  int *stop)
{
	uint32_t count = fmt_get_u32(d + FMT_FREE_COUNT), i;
	rdb_rc rc;

	for (i = 0; i < count && !*stop; i++) {
		rdb_pgno leaf = fmt_get_u32(d + FMT_FREE_ENTRIES + 4 * i);

		if ((rc = mark(t, seen, leaf, tp)) != RDB_OK)
			return rc;
		(*n)++;
		if (fn != NULL && fn(arg, leaf, 0))
			*stop = 1;
	}
	return RDB_OK;
}

rdb_rc pager_freelist_walk(pager_txn *t,
			   int (*fn)(void *arg, rdb_pgno pgno, int is_trunk),
			   void *arg)
{
	unsigned char *seen = rdb_calloc(t->h.page_count / 8 + 1, 1);
	rdb_pgno tp = t->h.free_head;
	uint32_t n = 0;
	int stop = 0;
	rdb_rc rc = RDB_OK;

	if (seen == NULL)
		return rdb_err_set(t->err, RDB_NOMEM, "out of memory");
	while (tp != 0 && !stop && rc == RDB_OK) {
		pager_page *tr;

		if ((rc = mark(t, seen, tp, tp)) != RDB_OK ||
		    (rc = get_trunk(t, tp, &tr)) != RDB_OK)
			break;
		n++;
		if (fn != NULL && fn(arg, tp, 1))
			stop = 1;
		rc = walk_leaves(t, pager_data(tr), tp, seen, &n, fn, arg,
				 &stop);
		tp = fmt_get_u32(pager_data(tr) + FMT_FREE_NEXT);
		pager_unref(tr);
	}
	if (rc == RDB_OK && !stop && n != t->h.free_count)
		rc = rdb_err_set(t->err, RDB_CORRUPT,
				 "free list holds %u pages, the header says %u",
				 n, t->h.free_count);
	rdb_free(seen);
	return rc;
}
