/*
 * checkpoint.c -- copying committed WAL frames into the database file,
 * never overwriting what a live reader still needs, and restarting the WAL
 * once all of it is home.
 * Design: src/pager/README.md, "Checkpoint".
 */
#include "pager/pager_int.h"
#include <stdlib.h>
#include "mem.h"

typedef struct ck_item {
	rdb_pgno pgno;
	uint32_t slot;
} ck_item;

static int ck_cmp(const void *a, const void *b)
{
	const ck_item *x = a, *y = b;

	if (x->pgno != y->pgno)
		return x->pgno < y->pgno ? -1 : 1;
	return x->slot > y->slot ? -1 : x->slot < y->slot;
}

/* Sync the WAL and count every written commit as durable.  Fresh pages
 * that commits in the WAL rely on are synced first. */
static rdb_rc sync_wal(pager *p, rdb_err *err)
{
	rdb_rc rc = RDB_OK;

	if (p->db_unsynced) {
		rc = os_sync(p->db, err);
		stat_add(&p->st_syncs, 1);
		if (rc == RDB_OK)
			p->db_unsynced = 0;
	}
	if (rc == RDB_OK) {
		rc = os_sync(p->wal.f, err);
		stat_add(&p->st_syncs, 1);
	}
	if (rc != RDB_OK) {
		atomic_store(&p->broken, rc);
		return rc;
	}
	lock(&p->sync_mu);
	if (p->written_fseq > p->durable_fseq)
		p->durable_fseq = p->written_fseq;
	lock(&p->mu);
	if (p->durable_fseq > p->visible_fseq)
		p->visible_fseq = p->durable_fseq;
	unlock(&p->mu);
	pthread_cond_broadcast(&p->sync_cond);
	unlock(&p->sync_mu);
	return RDB_OK;
}

/* Slots (count from 0) that every live reader's snapshot includes. */
static uint32_t ckpt_limit(pager *p)
{
	wal *w = &p->wal;
	uint64_t limit;
	pager_txn *t;

	lock(&p->mu);
	limit = w->n_committed ? fseq_of(w, w->n_committed - 1) : w->gen_base;
	for (t = p->live; t != NULL; t = t->rnext)
		if (!t->write && t->mx < limit)
			limit = t->mx;
	unlock(&p->mu);
	return limit > w->gen_base ? (uint32_t)(limit - w->gen_base) : 0;
}

/* Bytes of WAL slot `slot` (page pgno): the cached frame if there is one
 * (*pin set, unref it), else read into buf. */
static rdb_rc slot_bytes(pager *p, uint32_t slot, rdb_pgno pgno,
			 unsigned char *buf, const unsigned char **out,
			 pager_page **pin, rdb_err *err)
{
	pager_page *f;

	lock(&p->mu);
	f = pool_find(&p->pool, pgno, fseq_of(&p->wal, slot));
	if (f != NULL && f->state == FR_READY && !f->suspect)
		pool_pin(&p->pool, f);
	else
		f = NULL;
	unlock(&p->mu);
	*pin = f;
	*out = f != NULL ? f->data : buf;
	return f != NULL ? RDB_OK : wal_read_slot(p, slot, pgno, buf, err);
}

/* Copy the newest frame <= limit of each page in slots
 * [n_backfilled, limit) into the database file. */
static rdb_rc copy_frames(pager *p, uint32_t limit, unsigned char *buf,
			  int *copied_header, rdb_err *err)
{
	wal *w = &p->wal;
	uint32_t n = limit - w->n_backfilled, i, k = 0, pages = 0;
	ck_item *it = rdb_malloc(sizeof(*it) * n);
	uint32_t max_pages = p->st_page_count;
	uint64_t size = 0;
	run_writer r;
	rdb_rc rc;

	if (it == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory (checkpoint)");
	if ((rc = run_begin(&r, p, err)) != RDB_OK) {
		rdb_free(it);
		return rc;
	}
	for (i = 0; i < n; i++) {
		it[i].slot = w->n_backfilled + i;
		it[i].pgno = w->slot_pgno[it[i].slot];
	}
	qsort(it, n, sizeof(*it), ck_cmp);
	for (i = 0; i < n && rc == RDB_OK; i++) {
		const unsigned char *src;
		pager_page *pin = NULL;

		if (i > 0 && it[i].pgno == it[i - 1].pgno)
			continue;
		if (it[i].pgno >= max_pages)
			rc = rdb_err_set(err, RDB_CORRUPT,
					 "page %u: beyond the %u pages of the "
					 "database (write-ahead log)",
					 it[i].pgno, max_pages);
		if (rc == RDB_OK)
			rc = slot_bytes(p, it[i].slot, it[i].pgno, buf, &src,
					&pin, err);
		if (rc == RDB_OK) {
			rc = run_add(&r, it[i].pgno, src);
			if (it[i].pgno == 0)
				pages = fmt_get_u32(src + FMT_HDR_PAGE_COUNT);
		}
		pager_unref(pin);
		it[k++] = it[i];
	}
	if (rc == RDB_OK)
		rc = run_flush(&r);
	/* Pages allocated and freed in one transaction were never written:
	 * extend the file so that its size always covers the page count. */
	if (rc == RDB_OK)
		rc = os_size(p->db, &size, err);
	*copied_header = rc == RDB_OK && pages > 0;
	if (rc == RDB_OK && size < (uint64_t)pages * p->page_size)
		rc = os_truncate(p->db, (uint64_t)pages * p->page_size, err);
	if (rc == RDB_OK) {
		/* The database file's copies of these pages changed. */
		lock(&p->mu);
		for (i = 0; i < k; i++) {
			pager_page *f = pool_find(&p->pool, it[i].pgno, VER_DB);

			if (f != NULL)
				pool_discard(&p->pool, f);
		}
		unlock(&p->mu);
	}
	rdb_free(it);
	return rc;
}

/* After a full backfill: cached WAL versions become database-file
 * versions.  restart_lock is write-held and mu held: readers find either
 * the old index and old keys or the new (empty) index and new keys. */
static void rekey_for_restart(pager *p)
{
	wal *w = &p->wal;
	uint32_t s;

	for (s = w->n; s-- > 0;) {
		rdb_pgno pgno = w->slot_pgno[s];
		pager_page *f = pool_find(&p->pool, pgno, fseq_of(w, s));
		uint64_t newest = wal_lookup(w, pgno, SNAP_ALL);

		if (newest == fseq_of(w, s)) {
			pager_page *old = pool_find(&p->pool, pgno, VER_DB);

			if (old != NULL)
				pool_discard(&p->pool, old);
			if (f != NULL) {
				pool_hash_remove(&p->pool, f);
				f->ver = VER_DB;
				pool_hash_insert(&p->pool, f);
			}
		} else if (f != NULL) {
			pool_discard(&p->pool, f);
		}
	}
}

static rdb_rc restart_wal(pager *p, rdb_err *err)
{
	rdb_rc rc;

	pthread_rwlock_wrlock(&p->restart_lock);
	lock(&p->mu);
	rekey_for_restart(p);
	wal_reset_index(&p->wal);
	unlock(&p->mu);
	rc = wal_restart(p, err);
	/* Every frame is in the synced database file, so a WAL whose new
	 * header could not be written (a full disk, an I/O error) loses
	 * nothing: its old frames replay to the same pages.  The next writer
	 * rewrites the header before its first frame. */
	if (rc != RDB_OK)
		p->wal.hdr_pending = 1;
	pthread_rwlock_unlock(&p->restart_lock);
	return rc;
}

/*
 * Copy what every reader allows into the database file; restart the WAL
 * if all of it is copied (not at close: the caller removes the file).
 * The caller holds the write lock and has no uncommitted frames.
 *
 * Both syncs happen at every durability level: the WAL must be durable
 * before the database file holds anything newer than it (else a power
 * loss replays old frames over newer pages), and the database file must
 * be durable before the WAL restarts (else a power loss keeps the new
 * generation but loses the pages copied out of the old one).
 */
rdb_rc checkpoint_locked(pager *p, rdb_err *err, int for_close)
{
	wal *w = &p->wal;
	uint32_t limit;
	int copied_header = 0;
	unsigned char *buf;
	rdb_rc rc;

	if (w->f == NULL || w->n == 0)
		return RDB_OK;
	if ((rc = broken_rc(p, err)) != RDB_OK)
		return rc;
	if ((rc = wal_flush(p, err)) != RDB_OK)
		return rc;
	if (w->n_backfilled < w->n_committed) {
		if ((rc = sync_wal(p, err)) != RDB_OK)
			return rc;
		limit = ckpt_limit(p);
		if (limit > w->n_backfilled) {
			buf = rdb_malloc(p->page_size);
			if (buf == NULL)
				return rdb_err_set(err, RDB_NOMEM,
						   "out of memory (checkpoint)");
			rc = copy_frames(p, limit, buf, &copied_header, err);
			rdb_free(buf);
			if (rc == RDB_OK) {
				rc = os_sync(p->db, err);
				stat_add(&p->st_syncs, 1);
				if (rc == RDB_OK)
					p->db_unsynced = 0;
				if (rc == RDB_OK && copied_header)
					p->db_has_header = 1;
			}
			if (rc != RDB_OK)
				return rc;
			lock(&p->mu);
			w->n_backfilled = limit;
			unlock(&p->mu);
			stat_add(&p->st_checkpoints, 1);
		}
	}
	if (!for_close && w->n_backfilled == w->n_committed &&
	    w->n == w->n_committed)
		return restart_wal(p, err);
	return RDB_OK;
}

rdb_rc pager_checkpoint(pager *p)
{
	rdb_rc rc;

	if (p->opts.readonly)
		return RDB_OK;
	rc = writer_lock(p, p->err);
	if (rc != RDB_OK)
		return rc;
	rc = checkpoint_locked(p, p->err, 0);
	writer_unlock(p);
	return rc;
}
