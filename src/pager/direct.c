/*
 * direct.c -- pages straight to and from the database file.  Writing: runs
 * of consecutive pages are gathered into one buffer and written with one
 * call; used by checkpoints (copying WAL frames home) and by commits and
 * spills of fresh pages, which no snapshot can see and so need no WAL
 * frame.  Reading: a run of consecutive pages whose snapshot version is
 * the file's copy, with one call past the pool (pager_read_run()).
 * Design: src/pager/README.md, "Fresh pages" and "Reading runs".
 */
#include "pager/pager_int.h"
#include <stdlib.h>
#include <string.h>
#include "mem.h"

/* Pages gathered per write. */
#define RUN_BYTES (1u << 20)

static uint32_t run_max(const pager *p)
{
	uint32_t n = RUN_BYTES / p->page_size;

	return n ? n : 1;
}

rdb_rc run_begin(run_writer *r, pager *p, rdb_err *err)
{
	r->p = p;
	r->err = err;
	r->first = 0;
	r->n = 0;
	if (p->run_buf == NULL) {
		p->run_buf = rdb_malloc((size_t)run_max(p) * p->page_size);
		if (p->run_buf == NULL)
			return rdb_err_set(err, RDB_NOMEM,
					   "out of memory (page writes)");
	}
	return RDB_OK;
}

rdb_rc run_flush(run_writer *r)
{
	pager *p = r->p;
	rdb_rc rc;

	if (r->n == 0)
		return RDB_OK;
	rc = os_write(p->db, (uint64_t)r->first * p->page_size, p->run_buf,
		      (size_t)r->n * p->page_size, r->err);
	r->n = 0;
	return rc;
}

rdb_rc run_add(run_writer *r, rdb_pgno pgno, const unsigned char *data)
{
	pager *p = r->p;
	rdb_rc rc;

	if (r->n > 0 && (pgno != r->first + r->n || r->n == run_max(p)) &&
	    (rc = run_flush(r)) != RDB_OK)
		return rc;
	if (r->n == 0)
		r->first = pgno;
	memcpy(p->run_buf + (size_t)r->n * p->page_size, data, p->page_size);
	r->n++;
	return RDB_OK;
}

static int by_pgno(const void *a, const void *b)
{
	rdb_pgno x = (*(pager_page *const *)a)->pgno;
	rdb_pgno y = (*(pager_page *const *)b)->pgno;

	return x < y ? -1 : x > y;
}

rdb_rc db_write_pages(pager *p, pager_page **v, uint32_t n, rdb_err *err)
{
	run_writer r;
	uint32_t i;
	rdb_rc rc = run_begin(&r, p, err);

	if (rc != RDB_OK || n == 0)
		return rc;
	qsort(v, n, sizeof(*v), by_pgno);
	for (i = 0; i < n && rc == RDB_OK; i++) {
		page_seal(v[i]->data, p->page_size, v[i]->pgno);
		rc = run_add(&r, v[i]->pgno, v[i]->data);
	}
	if (rc == RDB_OK)
		rc = run_flush(&r);
	/* Whatever happened, the file may now hold bytes not yet synced. */
	p->db_unsynced = 1;
	return rc;
}

/* With mu held: may t read pgno from the database file as it is now?  Its
 * version for t must be the file's (no private copy, no WAL frame within
 * t's snapshot), and a page the pool holds is cheaper from there.  The
 * file's copy of such a page cannot change while t lives: a checkpoint
 * copies home only frames that every live snapshot includes, fresh pages
 * lie past every reader's page count, and the writer spills only in its
 * own calls (src/pager/README.md, "Reading runs"). */
static int file_is_current(pager_txn *t, rdb_pgno pgno)
{
	pool *pl = &t->p->pool;

	if (pgno == 0 || pgno >= t->h.page_count)
		return 0;
	if (t->write && pool_find(pl, pgno, VER_PRIVATE) != NULL)
		return 0;
	if (wal_lookup(&t->p->wal, pgno, t->mx) != VER_DB)
		return 0;
	return pool_find(pl, pgno, VER_DB) == NULL;
}

rdb_rc pager_read_run(pager_txn *t, rdb_pgno first, uint32_t n,
		      unsigned char *buf, uint32_t *got)
{
	pager *p = t->p;
	size_t want, bytes = 0;
	uint32_t k = 0;
	rdb_rc rc;

	*got = 0;
	lock(&p->mu);
	while (k < n && file_is_current(t, first + k))
		k++;
	unlock(&p->mu);
	if (k == 0)
		return RDB_OK;
	want = (size_t)k * p->page_size;
	rc = os_read(p->db, (uint64_t)first * p->page_size, buf, want, &bytes,
		     t->err);
	if (rc == RDB_OK && bytes != want)
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u: missing, '%s' is truncated",
				   first + (uint32_t)(bytes / p->page_size),
				   p->path);
	if (rc == RDB_OK) {
		stat_add(&p->st_misses, k);
		*got = k;
	}
	return rc;
}
