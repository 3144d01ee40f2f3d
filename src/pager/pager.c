/*
 * pager.c -- open and close, the header page, transactions, page access
 * with copy-on-write, spilling, commit with group commit, checkpoints.
 * Design, locking order and invariants: src/pager/README.md.
 */
#include "pager/pager.h"
#include <assert.h>
#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#include "format.h"
#include "mem.h"
#include "pager/pager_int.h"

#define SPILL_BATCH 64u
#define DEFAULT_CACHE_PAGES 2000u
#define MIN_CACHE_PAGES 16u


/* ==== small helpers ===================================================== */

void page_seal(unsigned char *data, uint32_t page_size, rdb_pgno pgno)
{
	fmt_put_u64(data + FMT_PAGE_CKSUM,
		    XXH3_64bits_withSeed(data + 8, page_size - 8, pgno));
}

rdb_rc page_verify(const unsigned char *data, uint32_t page_size,
		   rdb_pgno pgno, const char *where, rdb_err *err)
{
	uint64_t want = XXH3_64bits_withSeed(data + 8, page_size - 8, pgno);

	if (fmt_get_u64(data + FMT_PAGE_CKSUM) != want)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page %u: checksum mismatch in the %s",
				   pgno, where);
	return RDB_OK;
}

uint64_t pager_random64(const void *salt, size_t n)
{
	static _Atomic uint64_t counter;
	struct timespec ts;
	uint64_t v[3];

	clock_gettime(CLOCK_REALTIME, &ts);
	v[0] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	v[1] = atomic_fetch_add(&counter, 1) + (uint64_t)(uintptr_t)&ts;
	v[2] = XXH3_64bits(salt, n);
	return XXH3_64bits(v, sizeof(v));
}


/* Under OFF, frames wait in memory and are written in batches. */
static int deferred(pager *p)
{
	return atomic_load(&p->sync) == PAGER_SYNC_OFF;
}

/* ==== the header page =================================================== */

static void hdr_encode(const hdr *h, uint32_t ps, unsigned char *d)
{
	unsigned i;

	memset(d + 8, 0, ps - 8);
	d[FMT_PAGE_TYPE] = FMT_PT_HEADER;
	memcpy(d + FMT_HDR_MAGIC, FMT_MAGIC, FMT_MAGIC_LEN);
	fmt_put_u32(d + FMT_HDR_VERSION, FMT_VERSION);
	fmt_put_u32(d + FMT_HDR_PAGE_SIZE, ps);
	fmt_put_u32(d + FMT_HDR_PAGE_COUNT, h->page_count);
	fmt_put_u32(d + FMT_HDR_FREE_HEAD, h->free_head);
	fmt_put_u32(d + FMT_HDR_FREE_COUNT, h->free_count);
	fmt_put_u64(d + FMT_HDR_CHANGE, h->change);
	fmt_put_u64(d + FMT_HDR_DB_ID, h->db_id);
	for (i = 0; i < FMT_N_ANCHORS; i++)
		fmt_put_u64(d + FMT_HDR_ANCHORS + 8 * i, h->anchors[i]);
}

static rdb_rc hdr_decode(const pager *p, const unsigned char *d, hdr *h,
			 rdb_err *err)
{
	unsigned i;

	if (memcmp(d + FMT_HDR_MAGIC, FMT_MAGIC, FMT_MAGIC_LEN) != 0)
		return rdb_err_set(err, RDB_NOTADB,
				   "'%s' is not an rdb database", p->path);
	if (fmt_get_u32(d + FMT_HDR_VERSION) != FMT_VERSION)
		return rdb_err_set(err, RDB_CORRUPT,
				   "'%s' has file format version %u; this "
				   "build reads only version %u", p->path,
				   fmt_get_u32(d + FMT_HDR_VERSION),
				   FMT_VERSION);
	if (d[FMT_PAGE_TYPE] != FMT_PT_HEADER ||
	    fmt_get_u32(d + FMT_HDR_PAGE_SIZE) != p->page_size)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page 0: header of '%s' is damaged", p->path);
	h->page_count = fmt_get_u32(d + FMT_HDR_PAGE_COUNT);
	h->free_head = fmt_get_u32(d + FMT_HDR_FREE_HEAD);
	h->free_count = fmt_get_u32(d + FMT_HDR_FREE_COUNT);
	h->change = fmt_get_u64(d + FMT_HDR_CHANGE);
	h->db_id = fmt_get_u64(d + FMT_HDR_DB_ID);
	for (i = 0; i < FMT_N_ANCHORS; i++)
		h->anchors[i] = fmt_get_u64(d + FMT_HDR_ANCHORS + 8 * i);
	if (h->page_count < 1 || h->free_head >= h->page_count ||
	    h->free_count >= h->page_count)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page 0: header of '%s' has impossible "
				   "counts (%u pages, %u free)", p->path,
				   h->page_count, h->free_count);
	return RDB_OK;
}

/* ==== locks ============================================================= */

rdb_rc writer_lock(pager *p, rdb_err *err)
{
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += p->opts.busy_timeout_ms / 1000;
	dl.tv_nsec += (long)(p->opts.busy_timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	lock(&p->wr_mu);
	while (p->writer_active && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->wr_cond, &p->wr_mu, &dl);
	if (p->writer_active) {
		unlock(&p->wr_mu);
		return rdb_err_set(err, RDB_BUSY,
				   "database '%s' is locked: another write "
				   "transaction is in progress", p->path);
	}
	p->writer_active = 1;
	unlock(&p->wr_mu);
	return RDB_OK;
}

void writer_unlock(pager *p)
{
	lock(&p->wr_mu);
	p->writer_active = 0;
	pthread_cond_signal(&p->wr_cond);
	unlock(&p->wr_mu);
}

rdb_rc broken_rc(pager *p, rdb_err *err)
{
	int b = atomic_load(&p->broken);

	if (b == 0)
		return RDB_OK;
	return rdb_err_set(err, (rdb_rc)b,
			   "database '%s' had an I/O error whose outcome is "
			   "unknown: close and reopen it", p->path);
}

/* ==== frames: fetch, private copies, spill ============================= */

/* Room for n more WAL slots; mu held because readers walk the index. */
static rdb_rc reserve_slots(pager *p, uint32_t n, rdb_err *err)
{
	rdb_rc rc;

	lock(&p->mu);
	rc = wal_reserve(&p->wal, n, p->page_size, err);
	unlock(&p->mu);
	return rc;
}

static rdb_rc spill(pager_txn *t);

/*
 * With mu held: a frame for a new page, off every list and the hash.
 * A writer that holds too many private pages, or finds no clean frame,
 * spills some of its unpinned private pages to the WAL first (dropping
 * mu meanwhile).
 */
static rdb_rc frame_acquire(pager_txn *t, int for_private, pager_page **out)
{
	pager *p = t->p;
	pool *pl = &p->pool;
	pager_page *f;
	rdb_rc rc;

	for (;;) {
		int over = t->write && for_private &&
			   pl->n_private >= pl->max_private;

		if (!over && (f = pool_take_frame(pl, p)) != NULL) {
			*out = f;
			return RDB_OK;
		}
		if (!t->write || pl->dirty.n == 0)
			return rdb_err_set(t->err, RDB_NOMEM,
					   "buffer pool of %u pages is full: "
					   "every page is in use",
					   pl->n_frames);
		unlock(&p->mu);
		rc = spill(t);
		lock(&p->mu);
		if (rc != RDB_OK)
			return rc;
	}
}

/* Read version ver of pgno from its file into buf; *suspect set if its
 * checksum fails (the caller decides whether that is an error). */
static rdb_rc load_bytes(pager *p, rdb_pgno pgno, uint64_t ver,
			 uint32_t slot, unsigned char *buf, int *suspect,
			 rdb_err *err)
{
	size_t got = 0;
	rdb_rc rc;

	if (ver != VER_DB) {
		rc = wal_read_slot_raw(p, slot, pgno, buf, err);
	} else {
		rc = os_read(p->db, (uint64_t)pgno * p->page_size, buf,
			     p->page_size, &got, err);
		if (rc == RDB_OK && got != p->page_size)
			rc = rdb_err_set(err, RDB_CORRUPT,
					 "page %u: missing, '%s' is truncated",
					 pgno, p->path);
	}
	*suspect = rc == RDB_OK &&
		   page_verify(buf, p->page_size, pgno, "", NULL) != RDB_OK;
	return rc;
}

/* A frame whose checksum failed is an error unless the caller asked for
 * lenient reads (then *intact tells). */
static rdb_rc check_suspect(pager_txn *t, pager_page *f, int lenient,
			    int *intact)
{
	if (intact != NULL)
		*intact = !f->suspect;
	if (!f->suspect || lenient)
		return RDB_OK;
	pool_unpin(&t->p->pool, f);
	return rdb_err_set(t->err, RDB_CORRUPT,
			   "page %u: checksum mismatch in the %s", f->pgno,
			   f->ver == VER_DB ? "database file"
					    : "write-ahead log");
}

/*
 * With mu held (and restart_lock read-held when ver is a WAL frame): pin
 * version ver of pgno, loading it on a miss.  mu is dropped during I/O.
 */
static rdb_rc fetch(pager_txn *t, rdb_pgno pgno, uint64_t ver, int lenient,
		    pager_page **out, int *intact)
{
	pager *p = t->p;
	pager_page *f = pool_find(&p->pool, pgno, ver), *g;
	uint32_t slot = 0;
	int suspect = 0;
	rdb_rc rc;

	if (f != NULL) {
		pool_pin(&p->pool, f);
		stat_add(&p->st_hits, 1);
		if (f->state == FR_LOADING) {
			unlock(&p->mu);
			lock(&f->latch);
			unlock(&f->latch);
			lock(&p->mu);
		}
		if (f->load_rc != RDB_OK) {
			rc = f->load_rc;
			pool_unpin(&p->pool, f);
			return rdb_err_set(t->err, rc, "page %u: cannot be read",
					   pgno);
		}
		if ((rc = check_suspect(t, f, lenient, intact)) != RDB_OK)
			return rc;
		*out = f;
		return RDB_OK;
	}
	stat_add(&p->st_misses, 1);
	rc = frame_acquire(t, 0, &f);
	if (rc != RDB_OK)
		return rc;
	/* A spill may have dropped mu: another thread may have loaded it. */
	if ((g = pool_find(&p->pool, pgno, ver)) != NULL) {
		f->pin = 1;
		pool_unpin(&p->pool, f);     /* not in the hash: freed */
		return fetch(t, pgno, ver, lenient, out, intact);
	}
	f->pgno = pgno;
	f->ver = ver;
	f->state = FR_LOADING;
	f->load_rc = RDB_OK;
	f->pin = 1;
	if (pthread_mutex_trylock(&f->latch) != 0)
		assert(!"a free frame's latch is held");
	pool_hash_insert(&p->pool, f);
	if (ver != VER_DB)
		slot = (uint32_t)(ver - p->wal.gen_base - 1);
	unlock(&p->mu);
	rc = load_bytes(p, pgno, ver, slot, f->data, &suspect, t->err);
	lock(&p->mu);
	f->load_rc = rc;
	f->suspect = (uint8_t)suspect;
	if (rc == RDB_OK)
		f->state = FR_READY;
	else
		pool_hash_remove(&p->pool, f);
	unlock(&f->latch);
	if (rc != RDB_OK) {
		pool_unpin(&p->pool, f);
		return rc;
	}
	if ((rc = check_suspect(t, f, lenient, intact)) != RDB_OK)
		return rc;
	*out = f;
	return RDB_OK;
}

/* Pin pgno as t sees it (its private copy first).  pgno 0 allowed.
 * A cached version is pinned under mu alone; reading a WAL frame from
 * the file also needs restart_lock, taken before mu (lock order). */
static rdb_rc get_page_as(pager_txn *t, rdb_pgno pgno, int lenient,
			  pager_page **out, int *intact)
{
	pager *p = t->p;
	pager_page *f = NULL;
	uint64_t ver;
	rdb_rc rc;

	*out = NULL;
	if (intact != NULL)
		*intact = 1;
	lock(&p->mu);
	if (t->write)
		f = pool_find(&p->pool, pgno, VER_PRIVATE);
	if (f == NULL) {
		ver = wal_lookup(&p->wal, pgno, t->mx);
		f = pool_find(&p->pool, pgno, ver);
		if (f == NULL || f->state != FR_READY || f->suspect) {
			if (ver == VER_DB) {
				rc = fetch(t, pgno, ver, lenient, out, intact);
				unlock(&p->mu);
				return rc;
			}
			unlock(&p->mu);
			pthread_rwlock_rdlock(&p->restart_lock);
			lock(&p->mu);
			rc = fetch(t, pgno, wal_lookup(&p->wal, pgno, t->mx),
				   lenient, out, intact);
			unlock(&p->mu);
			pthread_rwlock_unlock(&p->restart_lock);
			return rc;
		}
	}
	pool_pin(&p->pool, f);
	stat_add(&p->st_hits, 1);
	unlock(&p->mu);
	*out = f;
	return RDB_OK;
}

static rdb_rc get_page(pager_txn *t, rdb_pgno pgno, pager_page **out)
{
	return get_page_as(t, pgno, 0, out, NULL);
}

rdb_rc txn_get_page(pager_txn *t, rdb_pgno pgno, pager_page **out)
{
	return get_page(t, pgno, out);
}

static void dirty_link(pager_txn *t, pager_page *f)
{
	f->dprev = NULL;
	f->dnext = t->dirty;
	if (t->dirty != NULL)
		t->dirty->dprev = f;
	t->dirty = f;
	t->n_dirty++;
}

static void dirty_unlink(pager_txn *t, pager_page *f)
{
	if (f->dprev != NULL)
		f->dprev->dnext = f->dnext;
	else
		t->dirty = f->dnext;
	if (f->dnext != NULL)
		f->dnext->dprev = f->dprev;
	f->dprev = f->dnext = NULL;
	t->n_dirty--;
}

/* A pinned private frame for pgno, not yet filled.  mu not held. */
static rdb_rc private_frame(pager_txn *t, rdb_pgno pgno, pager_page **out)
{
	pager *p = t->p;
	pager_page *f;
	rdb_rc rc;

	lock(&p->mu);
	rc = frame_acquire(t, 1, &f);
	if (rc == RDB_OK) {
		f->pgno = pgno;
		f->ver = VER_PRIVATE;
		f->state = FR_READY;
		f->load_rc = RDB_OK;
		f->suspect = 0;
		f->pin = 1;
		pool_hash_insert(&p->pool, f);
		dirty_link(t, f);
		*out = f;
	}
	unlock(&p->mu);
	return rc;
}

rdb_rc txn_new_private(pager_txn *t, rdb_pgno pgno, uint8_t type,
		       pager_page **out)
{
	pager *p = t->p;
	pager_page *f;
	rdb_rc rc;

	lock(&p->mu);
	f = pool_find(&p->pool, pgno, VER_PRIVATE);
	if (f != NULL)
		pool_pin(&p->pool, f);
	unlock(&p->mu);
	if (f == NULL) {
		rc = private_frame(t, pgno, &f);
		if (rc != RDB_OK)
			return rc;
	}
	memset(f->data, 0, p->page_size);
	f->data[FMT_PAGE_TYPE] = type;
	*out = f;
	return RDB_OK;
}

pager_page *txn_find_private(pager_txn *t, rdb_pgno pgno)
{
	return pool_find(&t->p->pool, pgno, VER_PRIVATE);
}

void txn_discard_private(pager_txn *t, pager_page *f)
{
	assert(f->ver == VER_PRIVATE && f->in_hash);
	dirty_unlink(t, f);
	pool_discard(&t->p->pool, f);
}

rdb_rc txn_drop_private(pager_txn *t, rdb_pgno pgno)
{
	pager *p = t->p;
	pager_page *f;
	rdb_rc rc = RDB_OK;

	lock(&p->mu);
	f = pool_find(&p->pool, pgno, VER_PRIVATE);
	if (f != NULL && f->pin > 0) {
		rc = rdb_err_set(t->err, RDB_MISUSE,
				 "page %u is freed while still in use", pgno);
	} else if (f != NULL) {
		dirty_unlink(t, f);
		pool_discard(&p->pool, f);
	}
	unlock(&p->mu);
	return rc;
}

/* With mu held: private frame f, just written to its file, becomes the
 * clean cached version ver (replacing a stale copy of that version). */
static void became_clean(pager *p, pager_page *f, uint64_t ver)
{
	pager_page *old = pool_find(&p->pool, f->pgno, ver);

	if (old != NULL)
		pool_discard(&p->pool, old);
	pool_hash_remove(&p->pool, f);
	f->ver = ver;
	pool_hash_insert(&p->pool, f);
}

/* Split v[0..n) in place: pages the WAL must log first, fresh pages
 * (no snapshot has them) after; returns the number logged. */
static uint32_t partition(pager_txn *t, pager_page **v, uint32_t n)
{
	uint32_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (txn_logs_page(t, v[i]->pgno)) {
			pager_page *x = v[k];

			v[k++] = v[i];
			v[i] = x;
		}
	}
	return k;
}

/*
 * Write up to SPILL_BATCH of the writer's least recently used unpinned
 * private pages out: fresh pages to the database file, others to the WAL
 * as uncommitted frames.  Either way they become clean cached versions
 * that only the writer's snapshot sees.  mu not held.
 */
static rdb_rc spill(pager_txn *t)
{
	pager *p = t->p;
	pager_page *batch[SPILL_BATCH], *f;
	uint32_t k = 0, i, s0, nlog;
	rdb_rc rc;

	lock(&p->mu);
	while (k < SPILL_BATCH && (f = p->pool.dirty.tail) != NULL) {
		pool_pin(&p->pool, f);
		dirty_unlink(t, f);
		batch[k++] = f;
	}
	unlock(&p->mu);
	if (k == 0)
		return rdb_err_set(t->err, RDB_NOMEM,
				   "buffer pool of %u pages is full",
				   p->pool.n_frames);
	nlog = partition(t, batch, k);
	/* Logged pages leave slots a savepoint rollback takes back: the
	 * journal keeps what it needs of them first. */
	rc = t->n_sp != 0 ? sp_note_spill(t, batch, nlog) : RDB_OK;
	if (rc == RDB_OK) {
		rc = db_write_pages(p, batch + nlog, k - nlog, t->err);
		if (k > nlog)
			t->wrote_db = 1;
	}
	if (rc == RDB_OK && nlog > 0 &&
	    (rc = wal_ensure_file(p, t->err)) == RDB_OK &&
	    (rc = reserve_slots(p, nlog, t->err)) == RDB_OK)
		rc = wal_write_frames(p, batch, nlog, 0, deferred(p), t->err);
	lock(&p->mu);
	s0 = p->wal.n;
	if (rc == RDB_OK)
		wal_index_append(&p->wal, batch, nlog);
	for (i = 0; i < k; i++) {
		f = batch[i];
		if (rc != RDB_OK)
			dirty_link(t, f);
		else
			became_clean(p, f, i < nlog ? fseq_of(&p->wal, s0 + i)
						    : VER_DB);
		pool_unpin(&p->pool, f);
	}
	unlock(&p->mu);
	if (rc == RDB_OK) {
		stat_add(&p->st_spills, k);
		stat_add(&p->st_wal_frames, nlog);
	}
	return rc;
}

/* ==== public page calls ================================================= */

rdb_rc pager_get(pager_txn *t, rdb_pgno pgno, pager_page **out)
{
	assert(t != NULL && out != NULL);
	*out = NULL;
	if (pgno == 0 || pgno >= t->h.page_count)
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u is out of range (%u pages)", pgno,
				   t->h.page_count);
	return get_page(t, pgno, out);
}

rdb_rc pager_get_lenient(pager_txn *t, rdb_pgno pgno, pager_page **out,
			 int *intact)
{
	assert(t != NULL && out != NULL && intact != NULL);
	*out = NULL;
	*intact = 0;
	if (pgno == 0 || pgno >= t->h.page_count)
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u is out of range (%u pages)", pgno,
				   t->h.page_count);
	return get_page_as(t, pgno, 1, out, intact);
}

/* Replace *pg by t's private copy of it. */
static rdb_rc make_private(pager_txn *t, pager_page **pg)
{
	pager *p = t->p;
	pager_page *f = *pg, *nf;
	rdb_rc rc;

	if (f->ver == VER_PRIVATE)
		return RDB_OK;
	rc = private_frame(t, f->pgno, &nf);
	if (rc != RDB_OK)
		return rc;
	memcpy(nf->data, f->data, p->page_size);
	pager_unref(f);
	*pg = nf;
	return RDB_OK;
}

rdb_rc pager_write(pager_txn *t, pager_page **pg)
{
	rdb_rc rc;

	assert(t != NULL && pg != NULL && *pg != NULL);
	t->version++;
	if (!t->write)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "page %u written in a read transaction",
				   (*pg)->pgno);
	/* Within a write transaction only a savepoint rollback takes a
	 * frame the writer has pinned out of the hash (and only the writer
	 * does, so no lock is needed to look). */
	if (!(*pg)->in_hash)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "page %u is stale: a savepoint was rolled "
				   "back while it was pinned", (*pg)->pgno);
	if (t->n_sp != 0 && (rc = sp_note_page(t, *pg)) != RDB_OK)
		return rc;
	return make_private(t, pg);
}

rdb_rc pager_alloc(pager_txn *t, uint8_t type, pager_page **out)
{
	rdb_pgno pgno = 0;
	rdb_rc rc;

	assert(t != NULL && out != NULL);
	*out = NULL;
	t->version++;
	if (!t->write)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "page allocated in a read transaction");
	rc = freelist_pop(t, &pgno);
	if (rc != RDB_OK)
		return rc;
	if (pgno == 0) {
		if (t->h.page_count == UINT32_MAX)
			return rdb_err_set(t->err, RDB_FULL,
					   "database is full: %u pages",
					   t->h.page_count);
		if (t->n_sp != 0 &&
		    (rc = sp_note_unused(t, t->h.page_count)) != RDB_OK)
			return rc;
		pgno = t->h.page_count++;
	}
	return txn_new_private(t, pgno, type, out);
}

rdb_rc pager_free_page(pager_txn *t, rdb_pgno pgno)
{
	rdb_rc rc;

	assert(t != NULL);
	t->version++;
	if (!t->write)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "page %u freed in a read transaction", pgno);
	if (pgno == 0 || pgno >= t->h.page_count)
		return rdb_err_set(t->err, RDB_CORRUPT,
				   "page %u is out of range (%u pages)", pgno,
				   t->h.page_count);
	if (t->n_sp != 0 && (rc = sp_note_free(t, pgno)) != RDB_OK)
		return rc;
	return freelist_push(t, pgno);
}

void pager_unref(pager_page *pg)
{
	pager *p;

	if (pg == NULL)
		return;
	p = pg->p;
	lock(&p->mu);
	pool_unpin(&p->pool, pg);
	unlock(&p->mu);
}

unsigned char *pager_data(pager_page *pg)
{
	return pg->data;
}

rdb_pgno pager_pgno(const pager_page *pg)
{
	return pg->pgno;
}

uint64_t pager_anchor(const pager_txn *t, unsigned idx)
{
	return idx < FMT_N_ANCHORS ? t->h.anchors[idx] : 0;
}

rdb_rc pager_set_anchor(pager_txn *t, unsigned idx, uint64_t value)
{
	rdb_rc rc;

	if (!t->write || idx >= FMT_N_ANCHORS)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "anchor %u cannot be set here", idx);
	if (t->n_sp != 0 && (rc = sp_broken(t)) != RDB_OK)
		return rc;
	t->h.anchors[idx] = value;
	return RDB_OK;
}

int pager_txn_is_write(const pager_txn *t) { return t->write; }
uint64_t pager_txn_version(const pager_txn *t) { return t->version; }
uint64_t pager_txn_snapshot(const pager_txn *t)
{
	return t->write ? t->h_begin.change : t->h.change;
}
pager *pager_txn_pager(const pager_txn *t) { return t->p; }
rdb_err *pager_txn_err(const pager_txn *t) { return t->err; }
rdb_pgno pager_txn_page_count(const pager_txn *t) { return t->h.page_count; }
uint32_t pager_txn_free_count(const pager_txn *t) { return t->h.free_count; }

/* ==== transactions ====================================================== */

static void registry_add(pager *p, pager_txn *t)
{
	t->rprev = NULL;
	t->rnext = p->live;
	if (p->live != NULL)
		p->live->rprev = t;
	p->live = t;
	p->n_live++;
}

static void registry_remove(pager *p, pager_txn *t)
{
	if (t->rprev != NULL)
		t->rprev->rnext = t->rnext;
	else
		p->live = t->rnext;
	if (t->rnext != NULL)
		t->rnext->rprev = t->rprev;
	p->n_live--;
}

/* Under mu: give the pool the size pager_set_cache() asked for, if no
 * transaction is open (else the last one to end does it). */
static void cache_resize(pager *p)
{
	if (p->cache_want == 0 || p->n_live > 0)
		return;
	if (p->cache_want == p->pool.n_frames ||
	    pool_resize(&p->pool, p->cache_want, p) != RDB_BUSY)
		p->cache_want = 0;
}

void pager_set_cache(pager *p, uint32_t n)
{
	uint64_t max = ((uint64_t)1 << 40) / p->page_size;

	if (n == 0)
		n = DEFAULT_CACHE_PAGES;
	if (n < MIN_CACHE_PAGES)
		n = MIN_CACHE_PAGES;
	if (max > (uint64_t)1 << 24)
		max = (uint64_t)1 << 24;
	if (n > max)
		n = (uint32_t)max;
	lock(&p->mu);
	p->cache_want = n;
	cache_resize(p);
	unlock(&p->mu);
}

uint32_t pager_cache_size(pager *p)
{
	uint32_t n;

	lock(&p->mu);
	n = p->cache_want != 0 ? p->cache_want : p->pool.n_frames;
	unlock(&p->mu);
	return n;
}

static void txn_end(pager_txn *t)
{
	pager *p = t->p;

	lock(&p->mu);
	registry_remove(p, t);
	cache_resize(p);
	unlock(&p->mu);
	sp_free(t);
	rdb_free(t);
}

/* Load and decode the header page of t's snapshot into t->h. */
static rdb_rc read_header(pager_txn *t)
{
	pager_page *pg;
	rdb_rc rc = get_page(t, 0, &pg);

	if (rc != RDB_OK)
		return rc;
	rc = hdr_decode(t->p, pg->data, &t->h, t->err);
	pager_unref(pg);
	return rc;
}

static void fresh_header(pager *p, hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->page_count = 1;
	h->db_id = pager_random64(p->path, strlen(p->path));
	p->db_id = h->db_id;
}

rdb_rc pager_begin(pager *p, int write, rdb_err *err, pager_txn **out)
{
	pager_txn *t;
	rdb_rc rc;

	assert(p != NULL && out != NULL);
	*out = NULL;
	if (write && p->opts.readonly)
		return rdb_err_set(err, RDB_READONLY,
				   "database '%s' is open read-only", p->path);
	if (write && (rc = broken_rc(p, err)) != RDB_OK)
		return rc;
	t = rdb_calloc(1, sizeof(*t));
	if (t == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	t->p = p;
	t->err = err;
	t->write = write != 0;
	if (write && (rc = writer_lock(p, err)) != RDB_OK) {
		rdb_free(t);
		return rc;
	}
	lock(&p->mu);
	t->mx = write ? SNAP_ALL : p->visible_fseq;
	registry_add(p, t);
	unlock(&p->mu);
	if (write && p->is_new)
		fresh_header(p, &t->h);
	else if ((rc = read_header(t)) != RDB_OK) {
		txn_end(t);
		if (write)
			writer_unlock(p);
		return rc;
	}
	t->base_pages = t->h.page_count;
	t->h_begin = t->h;
	*out = t;
	return RDB_OK;
}

/* Drop the writer's private pages and uncommitted frames. */
static void discard_changes(pager_txn *t)
{
	pager *p = t->p;
	pager_page *f;
	uint32_t i;

	lock(&p->mu);
	while ((f = t->dirty) != NULL) {
		dirty_unlink(t, f);
		pool_discard(&p->pool, f);
	}
	wal_index_truncate(&p->wal, p);
	/* Fresh pages spilled to the file are garbage now; so are cached
	 * copies of them (rare: a rollback after a large transaction). */
	for (i = 0; t->wrote_db && i < p->pool.n_frames; i++) {
		f = &p->pool.frames[i];
		if (f->in_hash && f->ver == VER_DB && f->pgno >= t->base_pages)
			pool_discard(&p->pool, f);
	}
	unlock(&p->mu);
}

void pager_rollback(pager_txn *t)
{
	pager *p;

	if (t == NULL)
		return;
	p = t->p;
	if (t->write) {
		discard_changes(t);
		writer_unlock(p);
	}
	txn_end(t);
}

/* Put the transaction's header into its private page 0. */
static rdb_rc seal_header(pager_txn *t, pager_page **out)
{
	pager_page *pg;
	rdb_rc rc;

	if (t->p->is_new) {
		rc = txn_new_private(t, 0, FMT_PT_HEADER, &pg);
	} else {
		rc = get_page(t, 0, &pg);
		if (rc == RDB_OK && (rc = make_private(t, &pg)) != RDB_OK)
			pager_unref(pg);
	}
	if (rc != RDB_OK)
		return rc;
	t->h.change++;
	hdr_encode(&t->h, t->p->page_size, pg->data);
	*out = pg;
	return RDB_OK;
}

/* Did the transaction change the header (so that page 0 must be
 * logged)?  Most small transactions do not: then they log their pages
 * only, the commit marker riding on the last one. */
static int header_changed(const pager_txn *t)
{
	const hdr *a = &t->h, *b = &t->h_begin;

	return t->p->is_new || a->page_count != b->page_count ||
	       a->free_head != b->free_head || a->free_count != b->free_count ||
	       memcmp(a->anchors, b->anchors, sizeof(a->anchors)) != 0;
}

/* Gather the private pages into a new vector: those the WAL logs (the
 * header, if any, last among them), then the fresh ones. */
static rdb_rc gather(pager_txn *t, pager_page *h0, pager_page ***vec_out,
		     uint32_t *nlog, uint32_t *n_out)
{
	pager_page **vec = rdb_malloc(sizeof(*vec) * (t->n_dirty + 1));
	pager_page *f;
	uint32_t n = 0;

	if (vec == NULL)
		return rdb_err_set(t->err, RDB_NOMEM, "out of memory");
	for (f = t->dirty; f != NULL; f = f->dnext) {
		if (f->pin > 0) {
			rdb_free(vec);
			return rdb_err_set(t->err, RDB_MISUSE,
					   "page %u is still pinned at commit",
					   f->pgno);
		}
		if (f != h0)
			vec[n++] = f;
	}
	*nlog = partition(t, vec, n);
	if (h0 != NULL) {
		/* The header goes behind the logged pages: it carries the
		 * commit marker then. */
		vec[n++] = h0;
		if (*nlog < n - 1) {
			pager_page *x = vec[*nlog];

			vec[*nlog] = h0;
			vec[n - 1] = x;
		}
		(*nlog)++;
	}
	*vec_out = vec;
	*n_out = n;
	return RDB_OK;
}

/* Make the written frames committed and the pages clean cached versions;
 * vec[0..nlog) were logged, the rest written to the file. */
static uint64_t publish(pager_txn *t, pager_page **vec, uint32_t nlog,
			uint32_t n)
{
	pager *p = t->p;
	wal *w = &p->wal;
	uint32_t s0, i;
	uint64_t last;

	lock(&p->mu);
	s0 = w->n;
	wal_index_append(w, vec, nlog);
	w->n_committed = w->n;
	for (i = 0; i < n; i++) {
		pager_page *f = vec[i];

		dirty_unlink(t, f);
		pool_pin(&p->pool, f);
		became_clean(p, f, i < nlog ? fseq_of(w, s0 + i) : VER_DB);
		pool_unpin(&p->pool, f);
	}
	last = fseq_of(w, w->n - 1);
	if (atomic_load(&p->sync) != PAGER_SYNC_FULL)
		p->visible_fseq = last;
	p->st_page_count = t->h.page_count;
	p->st_free_pages = t->h.free_count;
	unlock(&p->mu);
	lock(&p->sync_mu);
	p->written_fseq = last;
	p->n_written++;
	unlock(&p->sync_mu);
	stat_add(&p->st_commits, 1);
	stat_add(&p->st_wal_frames, nlog);
	return last;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A leader waits at most this long for its group. */
#define GATHER_NS 200000u

/*
 * The sync leader (sync_mu held) first lets as many commits reach the WAL
 * as the previous sync covered, so that one fsync covers them all.
 * Without this, the threads that the previous sync released are only
 * starting their next transactions when the leader syncs, and groups stay
 * small (about 2.3 commits per sync with 4 committing threads).  It
 * yields the CPU rather than sleeping (a timed sleep costs more than the
 * wait itself on a busy machine), at most GATHER_NS.  A lone committer's
 * groups are of one, so it never waits.
 */
static void gather_group(pager *p)
{
	uint64_t t0;

	if (p->last_group <= 1 || p->n_written - p->n_synced >= p->last_group)
		return;
	t0 = now_ns();
	while (p->n_written - p->n_synced < p->last_group &&
	       now_ns() - t0 < GATHER_NS) {
		unlock(&p->sync_mu);
		sched_yield();
		lock(&p->sync_mu);
	}
}

/* Under FULL: wait until a sync covers commit fseq `target`, leading the
 * next sync if none is running (group commit). */
static rdb_rc wait_durable(pager *p, uint64_t target, rdb_err *err)
{
	uint64_t n;
	rdb_rc rc = RDB_OK;

	lock(&p->sync_mu);
	while (p->durable_fseq < target && atomic_load(&p->broken) == 0) {
		uint64_t want;

		if (p->sync_running) {
			pthread_cond_wait(&p->sync_cond, &p->sync_mu);
			continue;
		}
		p->sync_running = 1;
		gather_group(p);
		want = p->written_fseq;
		n = p->n_written;
		unlock(&p->sync_mu);
		rc = os_sync(p->wal.f, err);
		stat_add(&p->st_syncs, 1);
		lock(&p->sync_mu);
		p->last_group = n - p->n_synced;
		p->n_synced = n;
		p->sync_running = 0;
		if (rc != RDB_OK) {
			atomic_store(&p->broken, rc);
		} else if (want > p->durable_fseq) {
			p->durable_fseq = want;
			lock(&p->mu);
			if (want > p->visible_fseq)
				p->visible_fseq = want;
			unlock(&p->mu);
		}
		pthread_cond_broadcast(&p->sync_cond);
	}
	if (p->durable_fseq < target)
		rc = broken_rc(p, err);
	unlock(&p->sync_mu);
	return rc;
}

/* Fresh pages are written to the database file; under FULL the file is
 * synced before the commit frame can make them part of the database. */
static rdb_rc write_fresh(pager_txn *t, pager_page **v, uint32_t n)
{
	pager *p = t->p;
	rdb_rc rc = db_write_pages(p, v, n, t->err);

	if (n > 0)
		t->wrote_db = 1;
	if (rc == RDB_OK && p->db_unsynced &&
	    atomic_load(&p->sync) == PAGER_SYNC_FULL) {
		rc = os_sync(p->db, t->err);
		stat_add(&p->st_syncs, 1);
		if (rc == RDB_OK)
			p->db_unsynced = 0;
	}
	return rc;
}

/* Write t's pages (the logged ones as frames ending in a commit frame)
 * and publish them.  On failure nothing is published (the caller rolls
 * back). */
static rdb_rc commit_frames(pager_txn *t, uint64_t *last)
{
	pager *p = t->p;
	pager_page *h0 = NULL, **vec = NULL;
	uint32_t n = 0, nlog = 0;
	rdb_rc rc;

	*last = 0;
	if (header_changed(t)) {
		if ((rc = seal_header(t, &h0)) != RDB_OK)
			return rc;
		pager_unref(h0);
	}
	rc = gather(t, h0, &vec, &nlog, &n);
	if (rc == RDB_OK && n == 0) {
		/* Nothing changed: nothing to write. */
		rdb_free(vec);
		return RDB_OK;
	}
	if (rc == RDB_OK)
		rc = wal_ensure_file(p, t->err);
	if (rc == RDB_OK)
		rc = reserve_slots(p, nlog, t->err);
	if (rc == RDB_OK)
		rc = write_fresh(t, vec + nlog, n - nlog);
	if (rc == RDB_OK)
		rc = wal_write_frames(p, vec, nlog, t->h.page_count,
				      deferred(p), t->err);
	if (rc == RDB_OK)
		*last = publish(t, vec, nlog, n);
	rdb_free(vec);
	return rc;
}

rdb_rc pager_commit(pager_txn *t)
{
	pager *p;
	uint64_t last = 0;
	rdb_rc rc;

	if (t == NULL)
		return RDB_MISUSE;
	p = t->p;
	if (!t->write) {
		txn_end(t);
		return RDB_OK;
	}
	rc = broken_rc(p, t->err);
	if (rc == RDB_OK && t->n_sp != 0)
		rc = sp_broken(t);
	if (rc == RDB_OK)
		rc = commit_frames(t, &last);
	if (rc != RDB_OK) {
		discard_changes(t);
		writer_unlock(p);
		txn_end(t);
		return rc;
	}
	p->is_new = 0;
	/* The commit stands whatever the automatic checkpoint does; a
	 * failed sync inside it poisons the pager and shows below. */
	if (p->wal.n_committed - p->wal.n_backfilled >= p->opts.ckpt_frames)
		(void)checkpoint_locked(p, NULL, 0);
	writer_unlock(p);
	if (atomic_load(&p->sync) == PAGER_SYNC_FULL)
		rc = wait_durable(p, last, t->err);
	txn_end(t);
	return rc;
}

/* ==== open / close ====================================================== */

void pager_opts_default(pager_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->page_size = FMT_DEFAULT_PAGE_SIZE;
	o->cache_pages = DEFAULT_CACHE_PAGES;
	o->sync = PAGER_SYNC_FULL;
	o->busy_timeout_ms = 5000;
	o->ckpt_frames = 1000;
	o->create = 1;
}

static rdb_rc check_opts(pager_opts *o, rdb_err *err)
{
	if (o->page_size == 0)
		o->page_size = FMT_DEFAULT_PAGE_SIZE;
	if (o->cache_pages == 0)
		o->cache_pages = DEFAULT_CACHE_PAGES;
	if (o->cache_pages < MIN_CACHE_PAGES)
		o->cache_pages = MIN_CACHE_PAGES;
	if (o->ckpt_frames == 0)
		o->ckpt_frames = 1000;
	if (!fmt_page_size_ok(o->page_size))
		return rdb_err_set(err, RDB_MISUSE,
				   "page size %u is not a power of two from "
				   "%u to %u", o->page_size, FMT_MIN_PAGE_SIZE,
				   FMT_MAX_PAGE_SIZE);
	if (o->sync > PAGER_SYNC_FULL)
		return rdb_err_set(err, RDB_MISUSE, "bad durability level %d",
				   (int)o->sync);
	return RDB_OK;
}

static void pager_free_all(pager *p)
{
	if (p == NULL)
		return;
	wal_destroy(&p->wal);
	pool_destroy(&p->pool);
	rdb_free(p->run_buf);
	os_close(p->db);
	pthread_mutex_destroy(&p->mu);
	pthread_rwlock_destroy(&p->restart_lock);
	pthread_mutex_destroy(&p->wr_mu);
	pthread_cond_destroy(&p->wr_cond);
	pthread_mutex_destroy(&p->sync_mu);
	pthread_cond_destroy(&p->sync_cond);
	rdb_free(p->path);
	rdb_free(p);
}

static char *str_cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = rdb_malloc(na + nb + 1);

	if (s != NULL) {
		memcpy(s, a, na);
		memcpy(s + na, b, nb + 1);
	}
	return s;
}

static pager *pager_new(os_vfs *vfs, const char *path, const pager_opts *o,
			rdb_err *err)
{
	pager *p = rdb_calloc(1, sizeof(*p));
	pthread_rwlockattr_t ra;

	if (p == NULL)
		return NULL;
	p->vfs = vfs;
	p->err = err;
	p->opts = *o;
	atomic_store(&p->sync, (int)o->sync);
	pthread_mutex_init(&p->mu, NULL);
	pthread_rwlockattr_init(&ra);
	/* Restarts must not starve behind a stream of readers. */
	pthread_rwlockattr_setkind_np(&ra,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->restart_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&p->wr_mu, NULL);
	pthread_cond_init(&p->wr_cond, NULL);
	pthread_mutex_init(&p->sync_mu, NULL);
	pthread_cond_init(&p->sync_cond, NULL);
	wal_init(&p->wal);
	p->path = str_cat(path, "");
	p->wal.path = str_cat(path, "-wal");
	if (p->path == NULL || p->wal.path == NULL) {
		pager_free_all(p);
		return NULL;
	}
	return p;
}

/* Read the database file's first bytes: *ps = its page size, or 0 with
 * *bad set to the error when it is not a usable rdb header. */
static rdb_rc probe_db(pager *p, uint64_t size, uint32_t *ps, rdb_rc *bad)
{
	unsigned char b[FMT_HDR_END];
	size_t got = 0;
	rdb_rc rc;

	*ps = 0;
	*bad = RDB_OK;
	if (size == 0)
		return RDB_OK;
	rc = os_read(p->db, 0, b, sizeof(b), &got, p->err);
	if (rc != RDB_OK)
		return rc;
	if (got < FMT_HDR_MAGIC + FMT_MAGIC_LEN ||
	    memcmp(b + FMT_HDR_MAGIC, FMT_MAGIC, FMT_MAGIC_LEN) != 0) {
		*bad = rdb_err_set(p->err, RDB_NOTADB,
				   "'%s' is not an rdb database", p->path);
		return RDB_OK;
	}
	if (got >= FMT_HDR_END &&
	    fmt_get_u32(b + FMT_HDR_VERSION) != FMT_VERSION) {
		*bad = rdb_err_set(p->err, RDB_CORRUPT,
				   "'%s' has file format version %u; this "
				   "build reads only version %u", p->path,
				   fmt_get_u32(b + FMT_HDR_VERSION),
				   FMT_VERSION);
		return RDB_OK;
	}
	if (got < FMT_HDR_END ||
	    !fmt_page_size_ok(fmt_get_u32(b + FMT_HDR_PAGE_SIZE))) {
		*bad = rdb_err_set(p->err, RDB_CORRUPT,
				   "page 0: header of '%s' is damaged or "
				   "truncated", p->path);
		return RDB_OK;
	}
	*ps = fmt_get_u32(b + FMT_HDR_PAGE_SIZE);
	p->db_id = fmt_get_u64(b + FMT_HDR_DB_ID);
	return RDB_OK;
}

/* Create the first header of a new database and commit it. */
static rdb_rc create_db(pager *p)
{
	pager_txn *t;
	rdb_rc rc;

	p->is_new = 1;
	rc = pager_begin(p, 1, p->err, &t);
	if (rc == RDB_OK)
		rc = pager_commit(t);
	/* Put the header into the file now, so that later transactions may
	 * write fresh pages straight there. */
	if (rc == RDB_OK)
		rc = pager_checkpoint(p);
	return rc;
}

/* Check the committed header against the file and set the stats. */
static rdb_rc validate_open(pager *p)
{
	pager_txn *t;
	uint64_t size = 0;
	rdb_rc rc = os_size(p->db, &size, p->err);

	if (rc == RDB_OK)
		rc = pager_begin(p, 0, p->err, &t);
	if (rc != RDB_OK)
		return rc;
	if (p->wal.n_committed == 0 &&
	    size < (uint64_t)t->h.page_count * p->page_size)
		rc = rdb_err_set(p->err, RDB_CORRUPT,
				 "'%s' is truncated: %llu bytes for %u pages",
				 p->path, (unsigned long long)size,
				 t->h.page_count);
	p->st_page_count = t->h.page_count;
	p->st_free_pages = t->h.free_count;
	pager_rollback(t);
	return rc;
}

/* Open the files, recover the WAL, find or create the header. */
static rdb_rc open_files(pager *p)
{
	int flags = p->opts.readonly ? OS_OPEN_READONLY
				     : (p->opts.create ? OS_OPEN_CREATE : 0);
	uint64_t size = 0;
	uint32_t db_ps = 0, ps = 0;
	char why[sizeof(p->err->msg)];
	rdb_rc rc, bad;

	rc = p->vfs->open(p->vfs, p->path, flags, &p->db, p->err);
	if (rc == RDB_OK)
		rc = os_lock(p->db, p->err);
	if (rc == RDB_OK)
		rc = os_size(p->db, &size, p->err);
	if (rc == RDB_OK)
		rc = probe_db(p, size, &db_ps, &bad);
	if (rc == RDB_OK && bad != RDB_OK)   /* the WAL's work may reuse err */
		snprintf(why, sizeof(why), "%s", p->err->msg);
	if (rc == RDB_OK)
		rc = wal_recover(p, db_ps, size == 0, &ps);
	if (rc != RDB_OK)
		return rc;
	/* A usable WAL carries the newest header (every commit writes page
	 * 0), so a database file damaged by an interrupted checkpoint is
	 * repaired from it. */
	if (p->wal.n_committed == 0 && bad != RDB_OK)
		return rdb_err_set(p->err, bad, "%s", why);
	p->db_has_header = db_ps != 0 && bad == RDB_OK;
	p->page_size = p->wal.n_committed ? ps
					  : (db_ps ? db_ps : p->opts.page_size);
	rc = pool_init(&p->pool, p->opts.cache_pages, p->page_size, p);
	if (rc != RDB_OK)
		return rdb_err_set(p->err, rc, "out of memory (buffer pool)");
	if (p->wal.n_committed > 0) {
		p->visible_fseq = fseq_of(&p->wal, p->wal.n_committed - 1);
		p->written_fseq = p->durable_fseq = p->visible_fseq;
	} else if (size == 0) {
		if (p->opts.readonly)
			return rdb_err_set(p->err, RDB_CANTOPEN,
					   "cannot open empty database '%s' "
					   "read-only", p->path);
		rc = create_db(p);
		if (rc != RDB_OK)
			return rc;
	}
	return validate_open(p);
}

rdb_rc pager_open(os_vfs *vfs, const char *path, const pager_opts *o,
		  rdb_err *err, pager **out)
{
	pager_opts opts;
	pager *p;
	rdb_rc rc;

	assert(vfs != NULL && path != NULL && out != NULL);
	*out = NULL;
	if (o != NULL)
		opts = *o;
	else
		pager_opts_default(&opts);
	rc = check_opts(&opts, err);
	if (rc != RDB_OK)
		return rc;
	p = pager_new(vfs, path, &opts, err);
	if (p == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	rc = open_files(p);
	if (rc != RDB_OK) {
		pager_free_all(p);
		return rc;
	}
	*out = p;
	return RDB_OK;
}

rdb_rc pager_close(pager *p)
{
	rdb_rc rc = RDB_OK;

	if (p == NULL)
		return RDB_OK;
	if (p->n_live > 0)
		return rdb_err_set(p->err, RDB_MISUSE,
				   "database '%s' closed with %u transactions "
				   "open", p->path, p->n_live);
	if (!p->opts.readonly && p->wal.f != NULL) {
		rc = broken_rc(p, p->err);
		if (rc == RDB_OK)
			rc = checkpoint_locked(p, p->err, 1);
		if (rc == RDB_OK) {
			/* Even under OFF a clean close leaves a durable file. */
			rc = os_sync(p->db, p->err);
			stat_add(&p->st_syncs, 1);
		}
		if (rc == RDB_OK && p->wal.n_backfilled == p->wal.n_committed) {
			os_close(p->wal.f);
			p->wal.f = NULL;
			rc = p->vfs->remove(p->vfs, p->wal.path, p->err);
		}
	}
	pager_free_all(p);
	return rc;
}

/* ==== configuration and statistics ===================================== */

uint32_t pager_page_size(const pager *p)
{
	return p->page_size;
}

void pager_set_sync(pager *p, pager_sync s)
{
	atomic_store(&p->sync, (int)s);
	if (s != PAGER_SYNC_FULL) {
		lock(&p->sync_mu);
		lock(&p->mu);
		if (p->written_fseq > p->visible_fseq)
			p->visible_fseq = p->written_fseq;
		unlock(&p->mu);
		unlock(&p->sync_mu);
	}
}

pager_sync pager_get_sync(pager *p)
{
	return (pager_sync)atomic_load(&p->sync);
}

os_vfs *pager_vfs(const pager *p)
{
	return p->vfs;
}

void pager_get_stats(pager *p, pager_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->hits = atomic_load(&p->st_hits);
	out->misses = atomic_load(&p->st_misses);
	out->evictions = atomic_load(&p->st_evictions);
	out->spills = atomic_load(&p->st_spills);
	out->wal_frames = atomic_load(&p->st_wal_frames);
	out->checkpoints = atomic_load(&p->st_checkpoints);
	out->commits = atomic_load(&p->st_commits);
	out->syncs = atomic_load(&p->st_syncs);
	out->page_size = p->page_size;
	lock(&p->mu);
	out->cache_pages = p->pool.n_frames;
	out->page_count = p->st_page_count;
	out->free_pages = p->st_free_pages;
	out->wal_frames_now = p->wal.n;
	unlock(&p->mu);
}

#ifndef NDEBUG
int pager_check(pager *p)
{
	uint32_t pinned = 0, i;

	lock(&p->mu);
	for (i = 0; i < p->pool.n_frames; i++)
		if (p->pool.frames[i].list == L_NONE)
			pinned++;
	assert(pinned + p->pool.free.n + p->pool.clean.n + p->pool.dirty.n ==
	       p->pool.n_frames);
	assert(p->wal.n_backfilled <= p->wal.n_committed);
	assert(p->wal.n_committed <= p->wal.n);
	unlock(&p->mu);
	return 1;
}
#endif
