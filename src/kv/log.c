/*
 * log.c -- the KV record log: a chain of log pages carrying one stream of
 * record bytes.  Appending fills the tail page and links new pages; a
 * record may span pages.  Reading follows the chain from a record's first
 * byte, checking page types and bounding the walk; log pages are read
 * leniently because every record carries its own checksum.
 * Design: src/kv/README.md.  Bytes: docs/format.md ("KV store").
 */
#include "kv/kv_int.h"
#include <stdio.h>
#include <string.h>
#include "err.h"

static uint32_t page_size_of(pager_txn *t)
{
	return pager_page_size(pager_txn_pager(t));
}

/* ==== appending ======================================================== */

/* A new, empty log page linked after the current tail (if any). */
static rdb_rc new_log_page(kv_app *a)
{
	pager_page *pg;
	rdb_rc rc = pager_alloc(a->t, FMT_PT_KV, &pg);

	if (rc != RDB_OK)
		return rc;
	if (a->pg != NULL) {
		fmt_put_u32(pager_data(a->pg) + KV_LOG_NEXT, pager_pgno(pg));
		pager_unref(a->pg);
	} else {
		a->m->head = pager_pgno(pg);
	}
	a->pg = pg;
	a->m->tail = pager_pgno(pg);
	a->m->tail_off = KV_LOG_DATA;
	return RDB_OK;
}

rdb_rc kv_app_begin(kv_app *a, pager_txn *t, kv_meta *m)
{
	rdb_rc rc;

	a->t = t;
	a->m = m;
	a->pg = NULL;
	if (m->tail == 0)
		return new_log_page(a);
	rc = pager_get(t, m->tail, &a->pg);
	if (rc == RDB_OK && pager_data(a->pg)[FMT_PAGE_TYPE] != FMT_PT_KV)
		rc = rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
				 "page %u: KV log tail is not a log page",
				 m->tail);
	if (rc == RDB_OK)
		rc = pager_write(t, &a->pg);
	if (rc != RDB_OK) {
		pager_unref(a->pg);
		a->pg = NULL;
	}
	return rc;
}

rdb_rc kv_app_pos(kv_app *a, rdb_pgno *pgno, uint32_t *off)
{
	rdb_rc rc;

	/* A full tail page: the next byte starts a new page. */
	if (a->m->tail_off >= page_size_of(a->t) &&
	    (rc = new_log_page(a)) != RDB_OK)
		return rc;
	*pgno = a->m->tail;
	*off = a->m->tail_off;
	return RDB_OK;
}

rdb_rc kv_app_write(kv_app *a, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint32_t ps = page_size_of(a->t);
	rdb_rc rc;

	while (n > 0) {
		size_t room = ps - a->m->tail_off, k;

		if (room == 0) {
			if ((rc = new_log_page(a)) != RDB_OK)
				return rc;
			continue;
		}
		k = n < room ? n : room;
		memcpy(pager_data(a->pg) + a->m->tail_off, p, k);
		a->m->tail_off += (uint32_t)k;
		p += k;
		n -= k;
	}
	return RDB_OK;
}

void kv_app_end(kv_app *a)
{
	pager_unref(a->pg);
	a->pg = NULL;
}

rdb_rc kv_log_patch(pager_txn *t, rdb_pgno pgno, uint32_t off,
		    const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint32_t ps = page_size_of(t);
	rdb_rc rc = RDB_OK;

	while (n > 0 && rc == RDB_OK) {
		pager_page *pg;
		size_t k = ps - off < n ? ps - off : n;

		if ((rc = pager_get(t, pgno, &pg)) != RDB_OK)
			break;
		if ((rc = pager_write(t, &pg)) == RDB_OK) {
			memcpy(pager_data(pg) + off, p, k);
			p += k;
			n -= k;
			pgno = fmt_get_u32(pager_data(pg) + KV_LOG_NEXT);
			off = KV_LOG_DATA;
		}
		pager_unref(pg);
	}
	return rc;
}

/* ==== reading ========================================================== */

/* Pages a record of len bytes from (off in its first page) touches. */
static uint64_t pages_of(uint32_t ps, uint32_t off, uint64_t len)
{
	uint32_t per = ps - KV_LOG_DATA;

	return ((uint64_t)(off - KV_LOG_DATA) + len + per - 1) / per;
}

uint64_t kv_rec_pages(const pager_txn *t, const kv_loc *loc)
{
	uint32_t ps = pager_page_size(pager_txn_pager(t));

	if (loc->off < KV_LOG_DATA || loc->off > ps)
		return 1;
	return pages_of(ps, loc->off, loc->len);
}

rdb_rc kv_rd_begin(kv_rd *r, pager_txn *t, rdb_pgno pgno, uint32_t off,
		   uint64_t len)
{
	uint32_t ps = page_size_of(t), per = ps - KV_LOG_DATA;
	uint64_t want;

	r->t = t;
	r->pgno = pgno;
	r->off = off;
	r->run = NULL;
	r->run_cap = r->run_n = 0;
	r->run_first = 0;
	if (off < KV_LOG_DATA || off > ps)
		return rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
				   "page %u: KV record offset %u is impossible",
				   pgno, off);
	r->pages = (uint32_t)((len + (off - KV_LOG_DATA)) / per) + 2;
	want = pages_of(ps, off, len);
	r->want = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
	return RDB_OK;
}

/* Load the run that starts at r->pgno: the record's pages from there, as
 * many as the buffer holds, if they are the file's (r->run_n = 0 when
 * the first is not, or when one page is left: the pool serves those). */
static rdb_rc load_run(kv_rd *r)
{
	uint32_t n = r->want < r->run_cap ? r->want : r->run_cap;

	r->run_n = 0;
	r->run_first = r->pgno;
	if (n < 2)
		return RDB_OK;
	return pager_read_run(r->t, r->pgno, n, r->run, &r->run_n);
}

/* The bytes of page r->pgno: from the run if it has the page (loading a
 * new run when the page is past it), else pinned through the pool (*pg:
 * unpin it).  The page must be a log page. */
static rdb_rc page_bytes(kv_rd *r, const unsigned char **d, pager_page **pg)
{
	uint32_t ps = page_size_of(r->t);
	int intact;
	rdb_rc rc;

	*pg = NULL;
	if (r->run != NULL && (r->pgno < r->run_first ||
			       r->pgno - r->run_first >= r->run_n) &&
	    (rc = load_run(r)) != RDB_OK)
		return rc;
	if (r->run != NULL && r->pgno >= r->run_first &&
	    r->pgno - r->run_first < r->run_n) {
		*d = r->run + (size_t)(r->pgno - r->run_first) * ps;
	} else {
		if ((rc = pager_get_lenient(r->t, r->pgno, pg, &intact)))
			return rc;
		*d = pager_data(*pg);
	}
	if ((*d)[FMT_PAGE_TYPE] != FMT_PT_KV) {
		pager_unref(*pg);
		*pg = NULL;
		return rdb_err_set(pager_txn_err(r->t), RDB_CORRUPT,
				   "page %u: not a KV log page", r->pgno);
	}
	return RDB_OK;
}

rdb_rc kv_rd_read(kv_rd *r, void *buf, size_t n)
{
	unsigned char *p = buf;
	uint32_t ps = page_size_of(r->t);
	rdb_rc rc = RDB_OK;

	while (n > 0 && rc == RDB_OK) {
		const unsigned char *d;
		pager_page *pg;
		size_t k;

		if (r->pages == 0)
			return rdb_err_set(pager_txn_err(r->t), RDB_CORRUPT,
					   "page %u: KV record runs past its "
					   "length", r->pgno);
		if ((rc = page_bytes(r, &d, &pg)) != RDB_OK)
			break;
		k = ps - r->off < n ? ps - r->off : n;
		memcpy(p, d + r->off, k);
		p += k;
		n -= k;
		r->off += (uint32_t)k;
		if (r->off == ps) {
			r->pgno = fmt_get_u32(d + KV_LOG_NEXT);
			r->off = KV_LOG_DATA;
			r->pages--;
			if (r->want > 0)
				r->want--;
		}
		pager_unref(pg);
	}
	return rc;
}

const char *kv_key_text(const void *key, size_t klen)
{
	static _Thread_local char buf[80];
	const unsigned char *k = key;
	size_t i = 0, o = 0;

	if (klen > 1 && k[0] == KV_NS_USER)
		i = 1;
	for (; i < klen && o < sizeof(buf) - 8; i++) {
		if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\\')
			buf[o++] = (char)k[i];
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
					      "\\x%02x", k[i]);
	}
	if (i < klen)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

static rdb_rc damaged(pager_txn *t, const kv_loc *loc, const void *key,
		      size_t klen, const char *what)
{
	return rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
			   "KV record of key '%s' on page %u is damaged (%s)",
			   kv_key_text(key, klen), loc->pgno, what);
}

rdb_rc kv_rec_open(kv_rec *r, pager_txn *t, const kv_loc *loc,
		   const void *key, size_t klen)
{
	return kv_rec_open_run(r, t, loc, key, klen, NULL, 0);
}

rdb_rc kv_rec_open_run(kv_rec *r, pager_txn *t, const kv_loc *loc,
		       const void *key, size_t klen, unsigned char *run,
		       uint32_t run_pages)
{
	unsigned char kbuf[KV_KEY_MAX];
	size_t kl;
	rdb_rc rc = kv_rd_begin(&r->rd, t, loc->pgno, loc->off, loc->len);

	if (rc == RDB_OK && run != NULL) {
		r->rd.run = run;
		r->rd.run_cap = run_pages;
	}
	if (rc != RDB_OK || (rc = kv_rd_read(&r->rd, r->hdr, KV_REC_HDR)))
		return rc == RDB_CORRUPT ? damaged(t, loc, key, klen,
						   "unreadable") : rc;
	r->flags = r->hdr[KV_REC_FLAGS];
	kl = fmt_get_u16(r->hdr + KV_REC_KLEN);
	r->stored = fmt_get_u64(r->hdr + KV_REC_STORED);
	r->raw = fmt_get_u64(r->hdr + KV_REC_RAW);
	if (kl != klen || kl > sizeof(kbuf) ||
	    KV_REC_HDR + kl + r->stored != loc->len || r->raw != loc->raw ||
	    (r->flags & ~KV_F_ZSTD) != 0 ||
	    (!(r->flags & KV_F_ZSTD) && r->stored != r->raw))
		return damaged(t, loc, key, klen, "header");
	if ((rc = kv_rd_read(&r->rd, kbuf, kl)) != RDB_OK)
		return rc == RDB_CORRUPT ? damaged(t, loc, key, klen,
						   "unreadable") : rc;
	if (memcmp(kbuf, key, kl) != 0)
		return damaged(t, loc, key, klen, "another key");
	XXH3_64bits_reset(&r->sum);
	XXH3_64bits_update(&r->sum, kbuf, kl);
	r->left = r->stored;
	r->key = key;
	r->klen = klen;
	r->first = loc->pgno;
	return RDB_OK;
}

rdb_rc kv_rec_read(kv_rec *r, void *buf, size_t n, size_t *got)
{
	rdb_rc rc;

	if (n > r->left)
		n = (size_t)r->left;
	*got = 0;
	if (n == 0)
		return RDB_OK;
	if ((rc = kv_rd_read(&r->rd, buf, n)) == RDB_CORRUPT) {
		rdb_err *e = pager_txn_err(r->rd.t);
		char why[128];

		snprintf(why, sizeof(why), "%.100s", e->msg);
		return rdb_err_set(e, RDB_CORRUPT, "KV record of key '%s' on "
				   "page %u is damaged (%s)",
				   kv_key_text(r->key, r->klen), r->first, why);
	}
	if (rc != RDB_OK)
		return rc;
	XXH3_64bits_update(&r->sum, buf, n);
	r->left -= n;
	*got = n;
	return RDB_OK;
}

rdb_rc kv_rec_close(kv_rec *r, const kv_loc *loc, const void *key,
		    size_t klen)
{
	XXH3_64bits_update(&r->sum, r->hdr + KV_REC_FLAGS,
			   KV_REC_HDR - KV_REC_FLAGS);
	if (r->left != 0 ||
	    XXH3_64bits_digest(&r->sum) != fmt_get_u64(r->hdr + KV_REC_CKSUM))
		return damaged(r->rd.t, loc, key, klen, "checksum mismatch");
	return RDB_OK;
}
