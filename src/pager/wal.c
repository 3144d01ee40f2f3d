/*
 * wal.c -- the write-ahead log file (<db>-wal) and its in-memory index:
 * frame encoding, recovery at open, appends, rollback of uncommitted
 * frames, and the restart of a fully checkpointed log.
 * Design: src/pager/README.md, "WAL".  Bytes: docs/format.md.
 */
#include "pager/pager_int.h"
#include <assert.h>
#include <string.h>
#include <xxhash.h>
#include "mem.h"

void wal_init(wal *w)
{
	memset(w, 0, sizeof(*w));
}

void wal_destroy(wal *w)
{
	os_close(w->f);
	rdb_free(w->path);
	rdb_free(w->slot_pgno);
	rdb_free(w->slot_prev);
	rdb_free(w->slot_cksum);
	rdb_free(w->map_key);
	rdb_free(w->map_val);
	rdb_free(w->buf);
	rdb_free(w->pend);
	memset(w, 0, sizeof(*w));
}

/* Frames waiting in memory are flushed once they pass this size. */
#define WAL_PEND_MAX (1u << 20)

size_t wal_frame_size(uint32_t page_size)
{
	return (size_t)FMT_WAL_FRAME_HDR + page_size;
}

uint64_t wal_frame_off(uint32_t page_size, uint32_t slot)
{
	return FMT_WAL_HDR_SIZE + (uint64_t)slot * wal_frame_size(page_size);
}

/* Chain value of a frame: hash of its first 16 header bytes seeded with
 * the previous value, then of its page seeded with that. */
static uint64_t frame_cksum(uint64_t prev, const unsigned char *fh,
			    const unsigned char *page, uint32_t page_size)
{
	uint64_t h = XXH3_64bits_withSeed(fh, 16, prev);

	return XXH3_64bits_withSeed(page, page_size, h);
}

/* ---- index ------------------------------------------------------------ */

/* The map stores pgno + 1 as key (0 = never used).  A key whose chain
 * empties keeps its place with value 0, so probe sequences stay intact
 * until the next restart clears the map. */
static uint32_t map_slot(const wal *w, rdb_pgno pgno)
{
	uint32_t i = (uint32_t)(pgno * 2654435761u) & (w->map_cap - 1);

	while (w->map_key[i] != 0 && w->map_key[i] != pgno + 1)
		i = (i + 1) & (w->map_cap - 1);
	return i;
}

uint64_t wal_lookup(const wal *w, rdb_pgno pgno, uint64_t mx)
{
	uint32_t s;

	if (w->n == 0 || mx <= w->gen_base || w->map_cap == 0)
		return VER_DB;
	s = w->map_val[map_slot(w, pgno)];
	while (s != 0 && fseq_of(w, s - 1) > mx)
		s = w->slot_prev[s - 1];
	return s == 0 ? VER_DB : fseq_of(w, s - 1);
}

static rdb_rc map_grow(wal *w, uint32_t want)
{
	uint32_t cap = w->map_cap ? w->map_cap : 64, i;
	uint32_t *ok, *ov, ocap = w->map_cap;

	while (cap < want * 2)
		cap <<= 1;
	if (cap == w->map_cap)
		return RDB_OK;
	ok = w->map_key;
	ov = w->map_val;
	w->map_key = rdb_calloc(cap, sizeof(uint32_t));
	w->map_val = rdb_calloc(cap, sizeof(uint32_t));
	if (w->map_key == NULL || w->map_val == NULL) {
		rdb_free(w->map_key);
		rdb_free(w->map_val);
		w->map_key = ok;
		w->map_val = ov;
		return RDB_NOMEM;
	}
	w->map_cap = cap;
	for (i = 0; i < ocap; i++) {
		if (ok[i] != 0) {
			uint32_t j = map_slot(w, ok[i] - 1);

			w->map_key[j] = ok[i];
			w->map_val[j] = ov[i];
		}
	}
	rdb_free(ok);
	rdb_free(ov);
	return RDB_OK;
}

static rdb_rc grow_array(void **a, uint32_t cap, size_t elem)
{
	void *n = rdb_realloc(*a, (size_t)cap * elem);

	if (n == NULL)
		return RDB_NOMEM;
	*a = n;
	return RDB_OK;
}

rdb_rc wal_reserve(wal *w, uint32_t n, uint32_t page_size, rdb_err *err)
{
	uint32_t want = w->n + n, cap = w->cap ? w->cap : 64;
	size_t need = (size_t)n * wal_frame_size(page_size);

	if (want < w->n)
		return rdb_err_set(err, RDB_FULL, "write-ahead log is full");
	if (want > w->cap) {
		while (cap < want)
			cap *= 2;
		if (grow_array((void **)&w->slot_pgno, cap, 4) ||
		    grow_array((void **)&w->slot_prev, cap, 4) ||
		    grow_array((void **)&w->slot_cksum, cap, 8))
			goto nomem;
		w->cap = cap;
	}
	/* Distinct pages are at most the slots; keep the map half empty. */
	if (w->map_used + n >= w->map_cap / 2 &&
	    map_grow(w, w->map_used + n) != RDB_OK)
		goto nomem;
	if (need > w->buf_cap) {
		unsigned char *b = rdb_realloc(w->buf, need);

		if (b == NULL)
			goto nomem;
		w->buf = b;
		w->buf_cap = need;
	}
	return RDB_OK;
nomem:
	return rdb_err_set(err, RDB_NOMEM, "out of memory (write-ahead log)");
}

/* Index one slot; room must have been reserved. */
static void index_add(wal *w, rdb_pgno pgno, uint64_t cksum)
{
	uint32_t m = map_slot(w, pgno), s = w->n++;

	w->slot_pgno[s] = pgno;
	w->slot_prev[s] = w->map_val[m];
	w->slot_cksum[s] = cksum;
	if (w->map_key[m] == 0) {
		w->map_key[m] = pgno + 1;
		w->map_used++;
	}
	w->map_val[m] = s + 1;
}

void wal_index_append(wal *w, pager_page **pages, uint32_t n)
{
	uint32_t i, s0 = w->n;
	size_t fsz = 0;

	(void)s0;
	for (i = 0; i < n; i++) {
		/* The chain values were stored in the frame buffer. */
		unsigned char *fh = w->buf + fsz;

		index_add(w, pages[i]->pgno, fmt_get_u64(fh + FMT_WALF_CKSUM));
		fsz += FMT_WAL_FRAME_HDR + pages[i]->p->page_size;
	}
}

void wal_index_truncate(wal *w, pager *p)
{
	wal_index_truncate_to(w, p, w->n_committed);
}

void wal_index_truncate_to(wal *w, pager *p, uint32_t keep)
{
	assert(keep >= w->n_committed && keep <= w->n);
	while (w->n > keep) {
		uint32_t s = --w->n, m = map_slot(w, w->slot_pgno[s]);
		pager_page *f = NULL;

		/* Frames taken back: their fseqs will be used again, so no
		 * cached copy may survive. */
		if (p->pool.hash != NULL)
			f = pool_find(&p->pool, w->slot_pgno[s], fseq_of(w, s));
		if (f != NULL)
			pool_discard(&p->pool, f);
		w->map_val[m] = w->slot_prev[s];
	}
	/* Frames of the dropped slots that still wait in memory go too; any
	 * already in the file are overwritten by the next write. */
	if (keep >= w->n_written) {
		w->pend_len = (size_t)(keep - w->n_written) *
			      wal_frame_size(p->page_size);
	} else {
		w->n_written = keep;
		w->pend_len = 0;
	}
}

/* ---- file ------------------------------------------------------------- */

static void hdr_encode(wal *w, uint32_t page_size, uint64_t db_id,
		       unsigned char *h)
{
	memset(h, 0, FMT_WAL_HDR_SIZE);
	fmt_put_u32(h + FMT_WALH_MAGIC, FMT_WAL_MAGIC);
	fmt_put_u32(h + FMT_WALH_VERSION, FMT_VERSION);
	fmt_put_u32(h + FMT_WALH_PAGE_SIZE, page_size);
	fmt_put_u32(h + FMT_WALH_GEN, w->gen);
	fmt_put_u64(h + FMT_WALH_SALT, w->salt);
	fmt_put_u64(h + FMT_WALH_DB_ID, db_id);
	w->hdr_cksum = XXH3_64bits(h, FMT_WALH_CKSUM);
	fmt_put_u64(h + FMT_WALH_CKSUM, w->hdr_cksum);
}

/* Write a header for a new generation at offset 0. */
static rdb_rc write_header(pager *p, rdb_err *err)
{
	unsigned char h[FMT_WAL_HDR_SIZE];
	wal *w = &p->wal;
	uint64_t seed[3] = { w->salt, w->gen, (uint64_t)(uintptr_t)w };

	w->gen++;
	w->salt = pager_random64(seed, sizeof(seed));
	hdr_encode(w, p->page_size, p->db_id, h);
	return os_write(w->f, 0, h, sizeof(h), err);
}

rdb_rc wal_ensure_file(pager *p, rdb_err *err)
{
	wal *w = &p->wal;
	rdb_rc rc;

	if (w->f != NULL && !w->hdr_pending)
		return RDB_OK;
	if (w->f != NULL) {
		rc = write_header(p, err);
		if (rc == RDB_OK)
			w->hdr_pending = 0;
		return rc;
	}
	rc = p->vfs->open(p->vfs, w->path, OS_OPEN_CREATE, &w->f, err);
	if (rc != RDB_OK)
		return rc;
	rc = write_header(p, err);
	if (rc == RDB_OK && atomic_load(&p->sync) == PAGER_SYNC_FULL)
		rc = p->vfs->sync_dir(p->vfs, w->path, err);
	if (rc != RDB_OK) {
		os_close(w->f);
		w->f = NULL;
	}
	return rc;
}

/* Append len bytes of encoded frames to pend (mu held). */
static rdb_rc pend_append(wal *w, const unsigned char *b, size_t len)
{
	if (w->pend_len + len > w->pend_cap) {
		size_t cap = w->pend_cap ? w->pend_cap : 65536;
		unsigned char *n;

		while (cap < w->pend_len + len)
			cap *= 2;
		n = rdb_realloc(w->pend, cap);
		if (n == NULL)
			return RDB_NOMEM;
		w->pend = n;
		w->pend_cap = cap;
	}
	memcpy(w->pend + w->pend_len, b, len);
	w->pend_len += len;
	return RDB_OK;
}

rdb_rc wal_flush(pager *p, rdb_err *err)
{
	wal *w = &p->wal;
	size_t fsz = wal_frame_size(p->page_size);
	rdb_rc rc;

	if (w->pend_len == 0)
		return RDB_OK;
	/* Readers copy from pend under mu; it does not change until the
	 * write below is done and mu is taken. */
	rc = os_write(w->f, wal_frame_off(p->page_size, w->n_written), w->pend,
		      w->pend_len, err);
	if (rc != RDB_OK)
		return rc;
	pthread_mutex_lock(&p->mu);
	w->n_written += (uint32_t)(w->pend_len / fsz);
	w->pend_len = 0;
	pthread_mutex_unlock(&p->mu);
	return RDB_OK;
}

/* Encode frames for pages[0..n) at slot w->n into w->buf. */
static size_t encode_frames(pager *p, pager_page **pages, uint32_t n,
			    uint32_t commit_pages)
{
	wal *w = &p->wal;
	uint32_t ps = p->page_size, i;
	size_t fsz = wal_frame_size(ps);
	uint64_t chain = w->n ? w->slot_cksum[w->n - 1] : w->hdr_cksum;

	assert((size_t)n * fsz <= w->buf_cap);
	for (i = 0; i < n; i++) {
		unsigned char *fh = w->buf + (size_t)i * fsz;

		page_seal(pages[i]->data, ps, pages[i]->pgno);
		fmt_put_u32(fh + FMT_WALF_PGNO, pages[i]->pgno);
		fmt_put_u32(fh + FMT_WALF_COMMIT,
			    i + 1 == n ? commit_pages : 0);
		fmt_put_u64(fh + FMT_WALF_SALT, w->salt);
		chain = frame_cksum(chain, fh, pages[i]->data, ps);
		fmt_put_u64(fh + FMT_WALF_CKSUM, chain);
		memcpy(fh + FMT_WAL_FRAME_HDR, pages[i]->data, ps);
	}
	return (size_t)n * fsz;
}

rdb_rc wal_write_frames(pager *p, pager_page **pages, uint32_t n,
			uint32_t commit_pages, int defer, rdb_err *err)
{
	wal *w = &p->wal;
	size_t len = encode_frames(p, pages, n, commit_pages);
	rdb_rc rc;

	assert(w->f != NULL);
	if (defer) {
		pthread_mutex_lock(&p->mu);
		rc = pend_append(w, w->buf, len);
		pthread_mutex_unlock(&p->mu);
		if (rc != RDB_OK)
			return rdb_err_set(err, rc, "out of memory (log)");
		if (w->pend_len < WAL_PEND_MAX || (rc = wal_flush(p, err)) ==
		    RDB_OK)
			return RDB_OK;
		pthread_mutex_lock(&p->mu);
		w->pend_len -= len;        /* these frames never happened */
		pthread_mutex_unlock(&p->mu);
		return rc;
	}
	rc = wal_flush(p, err);
	if (rc == RDB_OK)
		rc = os_write(w->f, wal_frame_off(p->page_size, w->n), w->buf,
			      len, err);
	if (rc == RDB_OK) {
		pthread_mutex_lock(&p->mu);
		w->n_written = w->n + n;
		pthread_mutex_unlock(&p->mu);
	}
	return rc;
}

rdb_rc wal_read_slot_raw(pager *p, uint32_t slot, rdb_pgno pgno,
			 unsigned char *buf, rdb_err *err)
{
	wal *w = &p->wal;
	uint64_t off = wal_frame_off(p->page_size, slot) + FMT_WAL_FRAME_HDR;
	size_t got = 0, fsz = wal_frame_size(p->page_size);
	int in_mem = 0;
	rdb_rc rc;

	pthread_mutex_lock(&p->mu);
	if (slot >= w->n_written) {
		memcpy(buf, w->pend + (size_t)(slot - w->n_written) * fsz +
		       FMT_WAL_FRAME_HDR, p->page_size);
		in_mem = 1;
	}
	pthread_mutex_unlock(&p->mu);
	if (!in_mem) {
		rc = os_read(w->f, off, buf, p->page_size, &got, err);
		if (rc != RDB_OK)
			return rc;
		if (got != p->page_size)
			return rdb_err_set(err, RDB_CORRUPT,
					   "page %u: write-ahead log frame %u "
					   "is cut short", pgno, slot);
	}
	return RDB_OK;
}

rdb_rc wal_read_slot(pager *p, uint32_t slot, rdb_pgno pgno,
		     unsigned char *buf, rdb_err *err)
{
	rdb_rc rc = wal_read_slot_raw(p, slot, pgno, buf, err);

	if (rc != RDB_OK)
		return rc;
	return page_verify(buf, p->page_size, pgno, "write-ahead log", err);
}

void wal_reset_index(wal *w)
{
	assert(w->pend_len == 0);
	w->gen_base += w->n;
	w->n = w->n_committed = w->n_backfilled = w->n_written = 0;
	if (w->map_cap) {
		memset(w->map_key, 0, (size_t)w->map_cap * 4);
		memset(w->map_val, 0, (size_t)w->map_cap * 4);
	}
	w->map_used = 0;
}

rdb_rc wal_restart(pager *p, rdb_err *err)
{
	return write_header(p, err);
}

/* ---- recovery --------------------------------------------------------- */

/* Validate the header bytes; 0 if the log is not usable (or belongs to
 * another database: db_id 0 means the database file did not say). */
static int hdr_valid(wal *w, const unsigned char *h, uint32_t db_ps,
		     uint64_t db_id)
{
	uint32_t ps = fmt_get_u32(h + FMT_WALH_PAGE_SIZE);

	if (fmt_get_u32(h + FMT_WALH_MAGIC) != FMT_WAL_MAGIC ||
	    fmt_get_u32(h + FMT_WALH_VERSION) != FMT_VERSION ||
	    fmt_get_u64(h + FMT_WALH_CKSUM) != XXH3_64bits(h, FMT_WALH_CKSUM) ||
	    !fmt_page_size_ok(ps) || (db_ps != 0 && ps != db_ps) ||
	    (db_id != 0 && fmt_get_u64(h + FMT_WALH_DB_ID) != db_id))
		return 0;
	w->gen = fmt_get_u32(h + FMT_WALH_GEN);
	w->salt = fmt_get_u64(h + FMT_WALH_SALT);
	w->hdr_cksum = fmt_get_u64(h + FMT_WALH_CKSUM);
	return 1;
}

/* Scan frames from slot 0 until one fails its checks; index them all,
 * then drop those after the last commit.  Reads in chunks. */
static rdb_rc scan_frames(pager *p, uint32_t ps, rdb_err *err)
{
	wal *w = &p->wal;
	size_t fsz = wal_frame_size(ps), chunk = 64, got, i;
	uint64_t chain = w->hdr_cksum;
	uint32_t txn_start = 0;
	rdb_rc rc;

	for (;;) {
		rc = wal_reserve(w, (uint32_t)chunk, ps, err);
		if (rc != RDB_OK)
			return rc;
		rc = os_read(w->f, wal_frame_off(ps, w->n), w->buf,
			     chunk * fsz, &got, err);
		if (rc != RDB_OK)
			return rc;
		for (i = 0; i + fsz <= got; i += fsz) {
			unsigned char *fh = w->buf + i;
			uint32_t pgno = fmt_get_u32(fh + FMT_WALF_PGNO);
			uint32_t commit = fmt_get_u32(fh + FMT_WALF_COMMIT);

			if (fmt_get_u64(fh + FMT_WALF_SALT) != w->salt)
				goto done;
			chain = frame_cksum(chain, fh, fh + FMT_WAL_FRAME_HDR,
					    ps);
			if (chain != fmt_get_u64(fh + FMT_WALF_CKSUM))
				goto done;
			index_add(w, pgno, chain);
			if (commit != 0) {
				/* A valid chain with a page beyond the
				 * transaction's page count is damage, not a
				 * torn write: refuse rather than guess. */
				for (; txn_start < w->n; txn_start++)
					if (w->slot_pgno[txn_start] >= commit)
						return rdb_err_set(err,
							RDB_CORRUPT,
							"write-ahead log frame "
							"%u names page %u of "
							"%u", txn_start,
							w->slot_pgno[txn_start],
							commit);
				w->n_committed = w->n;
			}
		}
		if (got < chunk * fsz)
			break;
	}
done:
	w->n_written = w->n;
	wal_index_truncate(w, p);
	/* Nothing committed: the next write starts a fresh generation with
	 * this database's page size. */
	if (w->n_committed == 0)
		w->hdr_pending = 1;
	return RDB_OK;
}

rdb_rc wal_recover(pager *p, uint32_t db_ps, int db_empty, uint32_t *ps_out)
{
	unsigned char h[FMT_WAL_HDR_SIZE];
	wal *w = &p->wal;
	int exists = 0;
	size_t got = 0;
	rdb_rc rc;

	rc = p->vfs->exists(p->vfs, w->path, &exists, p->err);
	if (rc != RDB_OK || !exists)
		return rc;
	rc = p->vfs->open(p->vfs, w->path,
			  p->opts.readonly ? OS_OPEN_READONLY : 0, &w->f, p->err);
	if (rc != RDB_OK)
		return rc;
	rc = os_read(w->f, 0, h, sizeof(h), &got, p->err);
	if (rc != RDB_OK)
		return rc;
	/* An empty database file never adopts a log: that log is left over
	 * from a file that was removed (its fresh pages went with it). */
	if (got < sizeof(h) || db_empty || !hdr_valid(w, h, db_ps, p->db_id)) {
		/* A log that never got a valid header holds nothing
		 * committed; the next write starts a new generation. */
		w->gen = 0;
		w->salt = 0;
		w->hdr_pending = 1;
		return RDB_OK;
	}
	*ps_out = fmt_get_u32(h + FMT_WALH_PAGE_SIZE);
	p->db_id = fmt_get_u64(h + FMT_WALH_DB_ID);
	return scan_frames(p, *ps_out, p->err);
}
