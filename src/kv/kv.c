/*
 * kv.c -- the KV blob store: the meta page, the index (a B+ tree from key
 * to record location), puts (zstd when it saves space), streaming puts and
 * gets, deletes with tombstones, renames, copies between databases,
 * compaction, statistics and verification.
 * Design: src/kv/README.md.
 */
#include "kv/kv.h"
#include <string.h>
#include <zstd.h>
#include "btree/btree.h"
#include "err.h"
#include "kv/kv_int.h"
#include "mem.h"


_Static_assert(KV_NS_USER == FMT_KV_NS_USER && KV_NS_SYS == FMT_KV_NS_SYS,
	       "kv.h repeats format.h's namespaces");

static rdb_err *E(pager_txn *t) { return pager_txn_err(t); }
static uint32_t PS(pager_txn *t) { return pager_page_size(pager_txn_pager(t)); }

static rdb_rc nomem(pager_txn *t)
{
	return rdb_err_set(E(t), RDB_NOMEM, "out of memory (KV store)");
}

size_t kv_max_key(const pager_txn *t)
{
	size_t m = bt_max_key(pager_page_size(pager_txn_pager(t)));

	return m < KV_KEY_MAX ? m : KV_KEY_MAX;
}

static rdb_rc check_key(pager_txn *t, size_t klen)
{
	if (klen == 0 || klen > kv_max_key(t))
		return rdb_err_set(E(t), RDB_TOOBIG,
				   "KV key of %zu bytes: keys are 1 to %zu "
				   "bytes", klen, kv_max_key(t));
	return RDB_OK;
}

/* ==== meta page ========================================================= */

/* The four counts at d: live keys, live, dead, saved (u64 each). */
static void count_get(kv_count *c, const unsigned char *d)
{
	c->live_keys = fmt_get_u64(d);
	c->live = fmt_get_u64(d + 8);
	c->dead = fmt_get_u64(d + 16);
	c->saved = fmt_get_u64(d + 24);
}

static void count_put(unsigned char *d, const kv_count *c)
{
	fmt_put_u64(d, c->live_keys);
	fmt_put_u64(d + 8, c->live);
	fmt_put_u64(d + 16, c->dead);
	fmt_put_u64(d + 24, c->saved);
}

static rdb_rc meta_read(pager_txn *t, kv_meta *m, int *exists)
{
	rdb_pgno pgno = (rdb_pgno)pager_anchor(t, FMT_ANCHOR_KV);
	pager_page *pg;
	unsigned char *d;
	rdb_rc rc;

	memset(m, 0, sizeof(*m));
	*exists = pgno != 0;
	if (pgno == 0)
		return RDB_OK;
	if ((rc = pager_get(t, pgno, &pg)) != RDB_OK)
		return rc;
	d = pager_data(pg);
	m->self = pgno;
	m->index = fmt_get_u32(d + KV_META_INDEX);
	m->head = fmt_get_u32(d + KV_META_HEAD);
	m->tail = fmt_get_u32(d + KV_META_TAIL);
	m->tail_off = fmt_get_u32(d + KV_META_TAIL_OFF);
	count_get(&m->all, d + KV_META_LIVE_KEYS);
	count_get(&m->user, d + KV_META_U_LIVE_KEYS);
	if (d[FMT_PAGE_TYPE] != FMT_PT_KV_META ||
	    fmt_get_u32(d + KV_META_VERSION) != 1 || m->index == 0 ||
	    (m->tail != 0 && (m->tail_off < KV_LOG_DATA ||
			      m->tail_off > PS(t))))
		rc = rdb_err_set(E(t), RDB_CORRUPT,
				 "page %u: KV meta page is damaged", pgno);
	pager_unref(pg);
	return rc;
}

static rdb_rc meta_write(pager_txn *t, const kv_meta *m)
{
	pager_page *pg;
	unsigned char *d;
	rdb_rc rc = pager_get(t, m->self, &pg);

	if (rc == RDB_OK && (rc = pager_write(t, &pg)) == RDB_OK) {
		d = pager_data(pg);
		fmt_put_u32(d + KV_META_VERSION, 1);
		fmt_put_u32(d + KV_META_INDEX, m->index);
		fmt_put_u32(d + KV_META_HEAD, m->head);
		fmt_put_u32(d + KV_META_TAIL, m->tail);
		fmt_put_u32(d + KV_META_TAIL_OFF, m->tail_off);
		count_put(d + KV_META_LIVE_KEYS, &m->all);
		count_put(d + KV_META_U_LIVE_KEYS, &m->user);
	}
	pager_unref(pg);
	return rc;
}

/* Read the meta page, creating the store first if asked and missing;
 * without create, *exists tells whether there is a store. */
static rdb_rc meta_open(pager_txn *t, kv_meta *m, int create, int *exists)
{
	pager_page *pg;
	rdb_rc rc = meta_read(t, m, exists);

	if (rc != RDB_OK || *exists || !create)
		return rc;
	if ((rc = pager_alloc(t, FMT_PT_KV_META, &pg)) != RDB_OK)
		return rc;
	m->self = pager_pgno(pg);
	pager_unref(pg);
	if ((rc = bt_create(t, &m->index)) != RDB_OK ||
	    (rc = pager_set_anchor(t, FMT_ANCHOR_KV, m->self)) != RDB_OK)
		return rc;
	*exists = 1;
	return meta_write(t, m);
}

/* ==== index ============================================================ */

static rdb_rc ix_lookup(pager_txn *t, const kv_meta *m, const void *key,
			size_t klen, kv_loc *loc)
{
	unsigned char v[KV_IX_SIZE];
	size_t n;
	rdb_rc rc = bt_get_buf(t, m->index, key, klen, v, sizeof(v), &n);

	if (rc == RDB_RANGE || (rc == RDB_OK && n != KV_IX_SIZE))
		return rdb_err_set(E(t), RDB_CORRUPT,
				   "KV index entry of key '%s' is damaged",
				   kv_key_text(key, klen));
	if (rc != RDB_OK)
		return rc;
	loc->pgno = fmt_get_u32(v + KV_IX_PGNO);
	loc->off = fmt_get_u32(v + KV_IX_OFF);
	loc->len = fmt_get_u64(v + KV_IX_LEN);
	loc->raw = fmt_get_u64(v + KV_IX_RAW);
	if (loc->len < KV_REC_HDR + klen)
		return rdb_err_set(E(t), RDB_CORRUPT,
				   "KV index entry of key '%s' is damaged",
				   kv_key_text(key, klen));
	return RDB_OK;
}

/* Like ix_lookup, but a missing key is *found = 0, not an error. */
static rdb_rc ix_find(pager_txn *t, const kv_meta *m, const void *key,
		      size_t klen, kv_loc *loc, int *found)
{
	rdb_rc rc = ix_lookup(t, m, key, klen, loc);

	*found = rc == RDB_OK;
	if (rc == RDB_NOTFOUND) {
		rdb_err_clear(E(t));
		rc = RDB_OK;
	}
	return rc;
}

static rdb_rc ix_put(pager_txn *t, const kv_meta *m, const void *key,
		     size_t klen, const kv_loc *loc)
{
	unsigned char v[KV_IX_SIZE];

	fmt_put_u32(v + KV_IX_PGNO, loc->pgno);
	fmt_put_u32(v + KV_IX_OFF, loc->off);
	fmt_put_u64(v + KV_IX_LEN, loc->len);
	fmt_put_u64(v + KV_IX_RAW, loc->raw);
	return bt_upsert(t, m->index, key, klen, v, sizeof(v), NULL);
}

/* ==== accounting ======================================================== */

static uint64_t saved_of(const kv_loc *l, size_t klen)
{
	uint64_t stored = l->len - KV_REC_HDR - klen;

	return l->raw > stored ? l->raw - stored : 0;
}

static void count_put_one(kv_count *c, const kv_loc *old, int found,
			  const kv_loc *nw, size_t klen)
{
	if (found) {
		c->dead += old->len;
		c->live -= old->len;
		c->saved -= saved_of(old, klen);
	} else {
		c->live_keys++;
	}
	c->live += nw->len;
	c->saved += saved_of(nw, klen);
}

static void count_del_one(kv_count *c, const kv_loc *old, uint64_t tomb,
			  size_t klen)
{
	c->dead += old->len + tomb;
	c->live -= old->len;
	c->saved -= saved_of(old, klen);
	c->live_keys--;
}

/* A key of the user namespace: KV_NS_USER and at least one byte (users'
 * keys are never empty). */
static int is_user(const void *key, size_t klen)
{
	return klen > 1 && *(const unsigned char *)key == KV_NS_USER;
}

/* nw replaced old (if found) under key. */
static void account_put(kv_meta *m, const kv_loc *old, int found,
			const kv_loc *nw, const void *key, size_t klen)
{
	count_put_one(&m->all, old, found, nw, klen);
	if (is_user(key, klen))
		count_put_one(&m->user, old, found, nw, klen);
}

/* old under key went away, leaving a tombstone of tomb bytes. */
static void account_del(kv_meta *m, const kv_loc *old, uint64_t tomb,
			const void *key, size_t klen)
{
	count_del_one(&m->all, old, tomb, klen);
	if (is_user(key, klen))
		count_del_one(&m->user, old, tomb, klen);
}

/* ==== writing records =================================================== */

static void hdr_fill(unsigned char *h, uint32_t flags, size_t klen,
		     uint64_t stored, uint64_t raw)
{
	memset(h, 0, KV_REC_HDR);
	h[KV_REC_FLAGS] = (unsigned char)flags;
	fmt_put_u16(h + KV_REC_KLEN, (uint16_t)klen);
	fmt_put_u64(h + KV_REC_STORED, stored);
	fmt_put_u64(h + KV_REC_RAW, raw);
}

/* Append a record whose stored bytes are in memory. */
static rdb_rc append_record(pager_txn *t, kv_meta *m, const void *key,
			    size_t klen, uint32_t flags, const void *stored,
			    uint64_t n, uint64_t raw, kv_loc *loc)
{
	unsigned char h[KV_REC_HDR];
	XXH3_state_t st;
	kv_app a;
	rdb_rc rc;

	hdr_fill(h, flags, klen, n, raw);
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, key, klen);
	if (n > 0)
		XXH3_64bits_update(&st, stored, (size_t)n);
	XXH3_64bits_update(&st, h + KV_REC_FLAGS, KV_REC_HDR - KV_REC_FLAGS);
	fmt_put_u64(h + KV_REC_CKSUM, XXH3_64bits_digest(&st));
	if ((rc = kv_app_begin(&a, t, m)) != RDB_OK)
		return rc;
	rc = kv_app_pos(&a, &loc->pgno, &loc->off);
	if (rc == RDB_OK)
		rc = kv_app_write(&a, h, sizeof(h));
	if (rc == RDB_OK)
		rc = kv_app_write(&a, key, klen);
	if (rc == RDB_OK && n > 0)
		rc = kv_app_write(&a, stored, (size_t)n);
	kv_app_end(&a);
	loc->len = KV_REC_HDR + klen + n;
	loc->raw = raw;
	return rc;
}

void kv_ctx_free(kv_ctx *cx)
{
	if (cx == NULL)
		return;
	kv_ahead_end(cx);
	kv_cz_free(cx->cz);
	kv_dz_free(cx->dz);
	rdb_free(cx->buf);
	rdb_free(cx->run);
	memset(cx, 0, sizeof(*cx));
}

/* cx's scratch with at least n bytes. */
static rdb_rc scratch(pager_txn *t, kv_ctx *cx, size_t n, unsigned char **out)
{
	if (n > cx->cap) {
		unsigned char *b = rdb_realloc(cx->buf, n);

		if (b == NULL)
			return nomem(t);
		cx->buf = b;
		cx->cap = n;
	}
	*out = cx->buf;
	return RDB_OK;
}

/* The stored form of val: *out (borrowed from cx until its next use) with
 * *n bytes, or *out = NULL to store the value as it is. */
static rdb_rc maybe_compress(pager_txn *t, kv_ctx *cx, const void *val,
			     size_t vlen, const unsigned char **out, size_t *n)
{
	unsigned char *buf = NULL;
	size_t bound;
	rdb_rc rc;

	*out = NULL;
	if (vlen < KV_COMPRESS_MIN || kv_ahead_take(cx, val, vlen, out, n))
		return RDB_OK;
	if (cx->cz == NULL && (cx->cz = kv_cz_new()) == NULL)
		return nomem(t);
	bound = kv_zip_bound(vlen);
	if ((rc = scratch(t, cx, bound, &buf)) != RDB_OK)
		return rc;
	if ((*n = kv_zip(cx->cz, buf, bound, val, vlen)) != 0)
		*out = buf;
	return RDB_OK;
}

rdb_rc kv_put(pager_txn *t, kv_ctx *cx, const void *key, size_t klen,
	      const void *val, size_t vlen)
{
	kv_ctx local = { 0 };
	const unsigned char *z = NULL;
	kv_meta m;
	kv_loc old, nw;
	size_t zn = 0;
	int exists, found;
	rdb_rc rc;

	if ((rc = check_key(t, klen)) != RDB_OK)
		return rc;
	if (vlen > KV_MAX_PUT)
		return rdb_err_set(E(t), RDB_TOOBIG,
				   "KV value of %zu bytes: puts take up to %u "
				   "bytes (stream larger ones)", vlen,
				   KV_MAX_PUT);
	if (cx == NULL)
		cx = &local;
	if ((rc = meta_open(t, &m, 1, &exists)) != RDB_OK ||
	    (rc = ix_find(t, &m, key, klen, &old, &found)) != RDB_OK ||
	    (rc = maybe_compress(t, cx, val, vlen, &z, &zn)) != RDB_OK)
		goto out;
	if (z != NULL)
		rc = append_record(t, &m, key, klen, KV_F_ZSTD, z, zn, vlen,
				   &nw);
	else
		rc = append_record(t, &m, key, klen, 0, val, vlen, vlen, &nw);
	if (rc == RDB_OK)
		rc = ix_put(t, &m, key, klen, &nw);
	if (rc == RDB_OK) {
		account_put(&m, &old, found, &nw, key, klen);
		rc = meta_write(t, &m);
	}
out:
	kv_ctx_free(&local);
	return rc;
}

/* ==== streaming put ===================================================== */

typedef struct sput {
	pager_txn *t;
	kv_app a;
	XXH3_state_t sum;
	ZSTD_CCtx *cz;            /* NULL: stored as it comes */
	unsigned char *in, *out;  /* KV_CHUNK and ZSTD_CStreamOutSize() */
	size_t out_cap;
	uint64_t stored, raw;
} sput;

static rdb_rc sput_emit(sput *s, const void *buf, size_t n)
{
	XXH3_64bits_update(&s->sum, buf, n);
	s->stored += n;
	return kv_app_write(&s->a, buf, n);
}

/* Feed n raw bytes (end: flush the compressor). */
static rdb_rc sput_feed(sput *s, const void *buf, size_t n, int end)
{
	ZSTD_inBuffer in = { buf, n, 0 };
	rdb_rc rc = RDB_OK;
	size_t left;

	s->raw += n;
	if (s->cz == NULL)
		return n ? sput_emit(s, buf, n) : RDB_OK;
	do {
		ZSTD_outBuffer out = { s->out, s->out_cap, 0 };

		left = ZSTD_compressStream2(s->cz, &out, &in,
					    end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return rdb_err_set(E(s->t), RDB_INTERNAL,
					   "compression failed: %s",
					   ZSTD_getErrorName(left));
		if (out.pos > 0)
			rc = sput_emit(s, s->out, out.pos);
	} while (rc == RDB_OK && (in.pos < in.size || (end && left != 0)));
	return rc;
}

/* Pull the whole value; the first chunk decides on compression. */
static rdb_rc sput_pull(sput *s, kv_reader read, void *arg)
{
	size_t got = 0;
	int first = 1;
	rdb_rc rc = RDB_OK;

	for (;;) {
		if (read(arg, s->in, KV_CHUNK, &got) != 0)
			return rdb_err_set(E(s->t), RDB_INTERRUPT,
					   "KV streaming put aborted by its "
					   "reader");
		if (got > KV_CHUNK)
			return rdb_err_set(E(s->t), RDB_MISUSE,
					   "KV reader returned too many bytes");
		if (first && got >= KV_COMPRESS_MIN) {
			size_t c;

			if ((s->cz = kv_cz_new()) == NULL)
				return nomem(s->t);
			c = ZSTD_compress2(s->cz, s->out, s->out_cap, s->in,
					   got);
			if (ZSTD_isError(c) || c >= got - got / 10) {
				kv_cz_free(s->cz);
				s->cz = NULL;
			} else {
				/* The stream starts a frame of its own. */
				ZSTD_CCtx_reset(s->cz, ZSTD_reset_session_only);
			}
		}
		first = 0;
		if (got == 0)
			return sput_feed(s, NULL, 0, 1);
		if ((rc = sput_feed(s, s->in, got, 0)) != RDB_OK)
			return rc;
	}
}

rdb_rc kv_put_stream(pager_txn *t, const void *key, size_t klen,
		     kv_reader read, void *arg)
{
	unsigned char h[KV_REC_HDR] = { 0 };
	kv_meta m;
	kv_loc old, nw;
	sput s;
	int exists, found, open = 0;
	rdb_rc rc;

	if ((rc = check_key(t, klen)) != RDB_OK)
		return rc;
	memset(&s, 0, sizeof(s));
	s.t = t;
	s.out_cap = ZSTD_CStreamOutSize();
	s.in = rdb_malloc(KV_CHUNK);
	s.out = rdb_malloc(s.out_cap);
	if (s.in == NULL || s.out == NULL) {
		rc = nomem(t);
		goto out;
	}
	if ((rc = meta_open(t, &m, 1, &exists)) != RDB_OK ||
	    (rc = ix_find(t, &m, key, klen, &old, &found)) != RDB_OK ||
	    (rc = kv_app_begin(&s.a, t, &m)) != RDB_OK)
		goto out;
	open = 1;
	XXH3_64bits_reset(&s.sum);
	XXH3_64bits_update(&s.sum, key, klen);
	if ((rc = kv_app_pos(&s.a, &nw.pgno, &nw.off)) != RDB_OK ||
	    (rc = kv_app_write(&s.a, h, sizeof(h))) != RDB_OK ||
	    (rc = kv_app_write(&s.a, key, klen)) != RDB_OK ||
	    (rc = sput_pull(&s, read, arg)) != RDB_OK)
		goto out;
	/* Only now are the lengths known: seal and place the header. */
	hdr_fill(h, s.cz ? KV_F_ZSTD : 0, klen, s.stored, s.raw);
	XXH3_64bits_update(&s.sum, h + KV_REC_FLAGS, KV_REC_HDR - KV_REC_FLAGS);
	fmt_put_u64(h + KV_REC_CKSUM, XXH3_64bits_digest(&s.sum));
	kv_app_end(&s.a);
	open = 0;
	nw.len = KV_REC_HDR + klen + s.stored;
	nw.raw = s.raw;
	if ((rc = kv_log_patch(t, nw.pgno, nw.off, h, sizeof(h))) ||
	    (rc = ix_put(t, &m, key, klen, &nw)))
		goto out;
	account_put(&m, &old, found, &nw, key, klen);
	rc = meta_write(t, &m);
out:
	if (open)
		kv_app_end(&s.a);
	kv_cz_free(s.cz);
	rdb_free(s.in);
	rdb_free(s.out);
	return rc;
}

/* ==== reading =========================================================== */

static rdb_rc locate(pager_txn *t, const void *key, size_t klen,
		     kv_loc *loc)
{
	kv_meta m;
	int exists;
	rdb_rc rc;

	if ((rc = check_key(t, klen)) != RDB_OK ||
	    (rc = meta_read(t, &m, &exists)) != RDB_OK)
		return rc;
	if (!exists)
		return rdb_err_set(E(t), RDB_NOTFOUND, "KV key '%s' not found",
				   kv_key_text(key, klen));
	rc = ix_lookup(t, &m, key, klen, loc);
	if (rc == RDB_NOTFOUND)
		rdb_err_set(E(t), RDB_NOTFOUND, "KV key '%s' not found",
			    kv_key_text(key, klen));
	return rc;
}

rdb_rc kv_value_len(pager_txn *t, const void *key, size_t klen,
		    uint64_t *vlen)
{
	kv_loc loc;
	rdb_rc rc = locate(t, key, klen, &loc);

	*vlen = rc == RDB_OK ? loc.raw : 0;
	return rc;
}

/* Decompress stored bytes (one or more zstd frames) from r to write, in
 * chunks.  zstd may hold output back after its input is used up, so the
 * loop runs until the last frame is complete, not until the input ends. */
static rdb_rc unzstd_stream(kv_rec *r, pager_txn *t, unsigned char *in,
			    unsigned char *out, kv_writer write, void *arg)
{
	ZSTD_DCtx *dz = kv_dz_new();
	ZSTD_inBuffer ib = { in, 0, 0 };
	uint64_t produced = 0;
	size_t got, ret = 1;
	rdb_rc rc = RDB_OK;

	if (dz == NULL)
		return nomem(t);
	while (rc == RDB_OK) {
		ZSTD_outBuffer ob = { out, KV_CHUNK, 0 };

		if (ib.pos == ib.size && r->left > 0) {
			if ((rc = kv_rec_read(r, in, KV_CHUNK, &got)))
				break;
			ib.size = got;
			ib.pos = 0;
		}
		ret = ZSTD_decompressStream(dz, &ob, &ib);
		if (ZSTD_isError(ret)) {
			rc = RDB_CORRUPT;
			break;
		}
		produced += ob.pos;
		if (produced > r->raw) {
			rc = RDB_CORRUPT;
			break;
		}
		if (ob.pos > 0 && write(arg, out, ob.pos) != 0)
			rc = rdb_err_set(E(t), RDB_INTERRUPT,
					 "KV streaming get stopped by its "
					 "writer");
		/* Done when no input is left and the last frame is complete
		 * or nothing more comes out.  A value may be several frames
		 * (maybe_compress()): a complete frame with input left is
		 * followed by the next. */
		if (ib.pos == ib.size && r->left == 0 &&
		    (ret == 0 || ob.pos < ob.size))
			break;
	}
	kv_dz_free(dz);
	if (rc == RDB_OK && (ret != 0 || produced != r->raw ||
			     ib.pos != ib.size || r->left != 0))
		rc = RDB_CORRUPT;
	return rc;
}

/* Copy stored bytes from r to write, in chunks. */
static rdb_rc plain_stream(kv_rec *r, pager_txn *t, unsigned char *in,
			   kv_writer write, void *arg)
{
	size_t got;
	rdb_rc rc = RDB_OK;

	while (rc == RDB_OK && r->left > 0) {
		if ((rc = kv_rec_read(r, in, KV_CHUNK, &got)) != RDB_OK)
			break;
		if (write(arg, in, got) != 0)
			rc = rdb_err_set(E(t), RDB_INTERRUPT,
					 "KV streaming get stopped by its "
					 "writer");
	}
	return rc;
}

/* Stream the value at loc to write; verify the checksum at the end. */
static rdb_rc stream_value(pager_txn *t, const kv_loc *loc, const void *key,
			   size_t klen, kv_writer write, void *arg)
{
	unsigned char *in = rdb_malloc(KV_CHUNK), *out = rdb_malloc(KV_CHUNK);
	kv_rec r;
	int opened = 0;
	rdb_rc rc = RDB_OK;

	if (in == NULL || out == NULL)
		rc = nomem(t);
	if (rc == RDB_OK)
		opened = (rc = kv_rec_open(&r, t, loc, key, klen)) == RDB_OK;
	if (rc == RDB_OK)
		rc = (r.flags & KV_F_ZSTD)
			     ? unzstd_stream(&r, t, in, out, write, arg)
			     : plain_stream(&r, t, in, write, arg);
	/* A damaged record shows as a bad checksum whatever failed first. */
	if (opened && (rc == RDB_OK || rc == RDB_CORRUPT)) {
		rdb_rc c = kv_rec_close(&r, loc, key, klen);

		if (c != RDB_OK)
			rc = c;
		else if (rc == RDB_CORRUPT)
			rc = rdb_err_set(E(t), RDB_CORRUPT,
					 "KV value of key '%s' on page %u does "
					 "not decompress",
					 kv_key_text(key, klen), loc->pgno);
	}
	rdb_free(in);
	rdb_free(out);
	return rc;
}

rdb_rc kv_get_stream(pager_txn *t, const void *key, size_t klen,
		     kv_writer write, void *arg)
{
	kv_loc loc;
	rdb_rc rc = locate(t, key, klen, &loc);

	if (rc != RDB_OK)
		return rc;
	return stream_value(t, &loc, key, klen, write, arg);
}

/* Open the record at loc, reading its pages in runs through cx's run
 * buffer when it spans enough pages (src/kv/README.md, "Reading"); without
 * memory for the buffer, through the pool. */
static rdb_rc open_runs(kv_rec *r, pager_txn *t, kv_ctx *cx,
			const kv_loc *loc, const void *key, size_t klen)
{
	uint32_t ps = pager_page_size(pager_txn_pager(t));
	uint64_t pages = kv_rec_pages(t, loc), cap = KV_RUN_BYTES / ps;

	if (pages < KV_RUN_MIN_PAGES)
		return kv_rec_open(r, t, loc, key, klen);
	if (cap < 2)
		cap = 2;
	if (pages < cap)
		cap = pages;
	if (cap * ps > cx->run_cap) {
		rdb_free(cx->run);
		cx->run_cap = 0;
		if ((cx->run = rdb_malloc((size_t)cap * ps)) == NULL)
			return kv_rec_open(r, t, loc, key, klen);
		cx->run_cap = (size_t)cap * ps;
	}
	return kv_rec_open_run(r, t, loc, key, klen, cx->run,
			       (uint32_t)(cx->run_cap / ps));
}

/* Read the value at loc into dst (loc->raw bytes) and verify it. */
static rdb_rc read_into(pager_txn *t, kv_ctx *cx, const kv_loc *loc,
			const void *key, size_t klen, unsigned char *dst)
{
	unsigned char *src = NULL;
	size_t got, d;
	kv_rec r;
	rdb_rc rc = open_runs(&r, t, cx, loc, key, klen);

	if (rc != RDB_OK)
		return rc;
	if (!(r.flags & KV_F_ZSTD)) {
		rc = kv_rec_read(&r, dst, (size_t)r.stored, &got);
		return rc != RDB_OK ? rc : kv_rec_close(&r, loc, key, klen);
	}
	if (r.stored > SIZE_MAX / 2)
		return rdb_err_set(E(t), RDB_TOOBIG, "KV value too big");
	if ((rc = scratch(t, cx, (size_t)r.stored, &src)) != RDB_OK ||
	    (rc = kv_rec_read(&r, src, (size_t)r.stored, &got)) != RDB_OK ||
	    (rc = kv_rec_close(&r, loc, key, klen)) != RDB_OK)
		return rc;
	if (cx->dz == NULL && (cx->dz = kv_dz_new()) == NULL)
		return nomem(t);
	d = ZSTD_decompressDCtx(cx->dz, dst, (size_t)loc->raw, src, got);
	if (ZSTD_isError(d) || d != loc->raw)
		return rdb_err_set(E(t), RDB_CORRUPT,
				   "KV value of key '%s' on page %u does not "
				   "decompress", kv_key_text(key, klen),
				   loc->pgno);
	return RDB_OK;
}

rdb_rc kv_get_into(pager_txn *t, kv_ctx *cx, const void *key, size_t klen,
		   void *buf, size_t cap, size_t *vlen)
{
	kv_ctx local = { 0 };
	kv_loc loc;
	rdb_rc rc;

	*vlen = 0;
	if ((rc = locate(t, key, klen, &loc)) != RDB_OK)
		return rc;
	*vlen = loc.raw > SIZE_MAX ? SIZE_MAX : (size_t)loc.raw;
	if (loc.raw > cap)
		return rdb_err_set(E(t), RDB_RANGE,
				   "KV value of %llu bytes does not fit a "
				   "buffer of %zu",
				   (unsigned long long)loc.raw, cap);
	rc = read_into(t, cx ? cx : &local, &loc, key, klen, buf);
	kv_ctx_free(&local);
	return rc;
}

rdb_rc kv_get(pager_txn *t, kv_ctx *cx, const void *key, size_t klen,
	      void **val, size_t *vlen)
{
	kv_ctx local = { 0 };
	unsigned char *buf;
	kv_loc loc;
	rdb_rc rc;

	*val = NULL;
	*vlen = 0;
	if ((rc = locate(t, key, klen, &loc)) != RDB_OK)
		return rc;
	if (loc.raw > (uint64_t)SIZE_MAX / 2)
		return rdb_err_set(E(t), RDB_TOOBIG,
				   "KV value of key '%s' is too big for memory",
				   kv_key_text(key, klen));
	if ((buf = rdb_malloc(loc.raw ? (size_t)loc.raw : 1)) == NULL)
		return nomem(t);
	rc = read_into(t, cx ? cx : &local, &loc, key, klen, buf);
	kv_ctx_free(&local);
	if (rc != RDB_OK) {
		rdb_free(buf);
		return rc;
	}
	*val = buf;
	*vlen = (size_t)loc.raw;
	return RDB_OK;
}

/* ==== delete, rename, copy ============================================== */

rdb_rc kv_delete(pager_txn *t, const void *key, size_t klen, int *existed)
{
	kv_meta m;
	kv_loc old, tomb;
	int exists, found;
	rdb_rc rc;

	if (existed != NULL)
		*existed = 0;
	if ((rc = check_key(t, klen)) != RDB_OK ||
	    (rc = meta_read(t, &m, &exists)) != RDB_OK || !exists ||
	    (rc = ix_find(t, &m, key, klen, &old, &found)) != RDB_OK || !found)
		return rc;
	if ((rc = append_record(t, &m, key, klen, KV_F_TOMBSTONE, NULL, 0, 0,
				&tomb)) != RDB_OK ||
	    (rc = bt_delete(t, m.index, key, klen)) != RDB_OK)
		return rc;
	account_del(&m, &old, tomb.len, key, klen);
	if (existed != NULL)
		*existed = 1;
	return meta_write(t, &m);
}

/*
 * Append a copy of the record at loc (key `key`, read in transaction src)
 * under the name dkey to dst's log (meta dm), as stored, verifying the
 * source checksum on the way: a damaged record is never laundered into a
 * valid one.  *nw gets the new record.
 */
static rdb_rc copy_record(pager_txn *src, const kv_loc *loc, const void *key,
			  size_t klen, pager_txn *dst, kv_meta *dm,
			  const void *dkey, size_t dklen, kv_loc *nw)
{
	unsigned char h[KV_REC_HDR] = { 0 }, *buf = rdb_malloc(KV_CHUNK);
	XXH3_state_t st;
	kv_rec r;
	kv_app a;
	size_t got;
	int open = 0;
	rdb_rc rc;

	if (buf == NULL)
		return nomem(dst);
	if ((rc = kv_rec_open(&r, src, loc, key, klen)) != RDB_OK ||
	    (rc = kv_app_begin(&a, dst, dm)) != RDB_OK)
		goto out;
	open = 1;
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, dkey, dklen);
	if ((rc = kv_app_pos(&a, &nw->pgno, &nw->off)) != RDB_OK ||
	    (rc = kv_app_write(&a, h, sizeof(h))) != RDB_OK ||
	    (rc = kv_app_write(&a, dkey, dklen)) != RDB_OK)
		goto out;
	while (rc == RDB_OK && r.left > 0) {
		if ((rc = kv_rec_read(&r, buf, KV_CHUNK, &got)) != RDB_OK)
			break;
		XXH3_64bits_update(&st, buf, got);
		rc = kv_app_write(&a, buf, got);
	}
	if (rc != RDB_OK || (rc = kv_rec_close(&r, loc, key, klen)) != RDB_OK)
		goto out;
	kv_app_end(&a);
	open = 0;
	hdr_fill(h, r.flags, dklen, r.stored, r.raw);
	XXH3_64bits_update(&st, h + KV_REC_FLAGS, KV_REC_HDR - KV_REC_FLAGS);
	fmt_put_u64(h + KV_REC_CKSUM, XXH3_64bits_digest(&st));
	nw->len = KV_REC_HDR + dklen + r.stored;
	nw->raw = r.raw;
	rc = kv_log_patch(dst, nw->pgno, nw->off, h, sizeof(h));
out:
	if (open)
		kv_app_end(&a);
	rdb_free(buf);
	return rc;
}

rdb_rc kv_rename(pager_txn *t, const void *from, size_t flen,
		 const void *to, size_t tlen)
{
	kv_meta m;
	kv_loc src, old, nw, tomb;
	int exists, found;
	rdb_rc rc;

	if ((rc = check_key(t, flen)) != RDB_OK ||
	    (rc = check_key(t, tlen)) != RDB_OK)
		return rc;
	if (flen == tlen && memcmp(from, to, flen) == 0)
		return rdb_err_set(E(t), RDB_MISUSE,
				   "KV rename of '%s' to itself",
				   kv_key_text(from, flen));
	if ((rc = locate(t, from, flen, &src)) != RDB_OK ||
	    (rc = meta_read(t, &m, &exists)) != RDB_OK ||
	    (rc = ix_find(t, &m, to, tlen, &old, &found)) != RDB_OK ||
	    (rc = copy_record(t, &src, from, flen, t, &m, to, tlen, &nw)) ||
	    (rc = ix_put(t, &m, to, tlen, &nw)) != RDB_OK ||
	    (rc = append_record(t, &m, from, flen, KV_F_TOMBSTONE, NULL, 0, 0,
				&tomb)) != RDB_OK ||
	    (rc = bt_delete(t, m.index, from, flen)) != RDB_OK)
		return rc;
	account_put(&m, &old, found, &nw, to, tlen);
	account_del(&m, &src, tomb.len, from, flen);
	return meta_write(t, &m);
}

rdb_rc kv_copy(pager_txn *src, pager_txn *dst, const void *key, size_t klen)
{
	kv_meta m;
	kv_loc loc, old, nw;
	int exists, found;
	rdb_rc rc;

	if ((rc = locate(src, key, klen, &loc)) != RDB_OK)
		return rc;
	if ((rc = check_key(dst, klen)) != RDB_OK ||
	    (rc = meta_open(dst, &m, 1, &exists)) != RDB_OK ||
	    (rc = ix_find(dst, &m, key, klen, &old, &found)) != RDB_OK)
		return rc;
	rc = copy_record(src, &loc, key, klen, dst, &m, key, klen, &nw);
	if (rc != RDB_OK) {
		/* Report the source's problem in the destination too. */
		if (pager_txn_err(src)->rc != RDB_OK)
			rdb_err_set(E(dst), rc, "%s", pager_txn_err(src)->msg);
		return rc;
	}
	if ((rc = ix_put(dst, &m, key, klen, &nw)) != RDB_OK)
		return rc;
	account_put(&m, &old, found, &nw, key, klen);
	return meta_write(dst, &m);
}

/* ==== compaction ======================================================== */

/* Free the log chain starting at head (pages of the old log only). */
static rdb_rc free_chain(pager_txn *t, rdb_pgno head)
{
	uint32_t n = 0;
	rdb_rc rc = RDB_OK;

	while (head != 0 && rc == RDB_OK) {
		pager_page *pg;
		rdb_pgno next;
		int intact;

		if (++n > pager_txn_page_count(t))
			return rdb_err_set(E(t), RDB_CORRUPT,
					   "page %u: KV log chain loops", head);
		if ((rc = pager_get_lenient(t, head, &pg, &intact)) != RDB_OK)
			return rc;
		next = fmt_get_u32(pager_data(pg) + KV_LOG_NEXT);
		/* A damaged page's link cannot be trusted to free pages by. */
		if (!intact || pager_data(pg)[FMT_PAGE_TYPE] != FMT_PT_KV)
			rc = rdb_err_set(E(t), RDB_CORRUPT,
					 "page %u: damaged KV log page", head);
		pager_unref(pg);
		if (rc == RDB_OK)
			rc = pager_free_page(t, head);
		head = next;
	}
	return rc;
}

/* Call fn for every index entry, in key order. */
typedef rdb_rc (*entry_fn)(pager_txn *t, kv_meta *m, const unsigned char *key,
			   size_t klen, const kv_loc *loc, void *arg);

static rdb_rc each_entry(pager_txn *t, kv_meta *m, entry_fn fn, void *arg)
{
	unsigned char key[KV_KEY_MAX];
	bt_cursor *c;
	const void *k;
	size_t klen;
	rdb_rc rc = bt_cursor_open(t, m->index, &c);

	if (rc != RDB_OK)
		return rc;
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		kv_loc loc;

		if ((rc = bt_key(c, &k, &klen)) != RDB_OK)
			break;
		if (klen == 0 || klen > sizeof(key)) {
			rc = rdb_err_set(E(t), RDB_CORRUPT,
					 "KV index holds a key of %zu bytes",
					 klen);
			break;
		}
		/* A copy: fn may change the tree under the cursor. */
		memcpy(key, k, klen);
		if ((rc = ix_lookup(t, m, key, klen, &loc)) != RDB_OK ||
		    (rc = fn(t, m, key, klen, &loc, arg)) != RDB_OK)
			break;
	}
	bt_cursor_close(c);
	return rc == RDB_NOTFOUND ? RDB_OK : rc;
}

/* Copy a live record into the new log of m and point the index at it. */
static rdb_rc move_entry(pager_txn *t, kv_meta *m, const unsigned char *key,
			 size_t klen, const kv_loc *loc, void *arg)
{
	kv_loc nw;
	rdb_rc rc = copy_record(t, loc, key, klen, t, m, key, klen, &nw);

	(void)arg;
	return rc != RDB_OK ? rc : ix_put(t, m, key, klen, &nw);
}

rdb_rc kv_compact(pager_txn *t)
{
	kv_meta m;
	rdb_pgno old_head;
	int exists;
	rdb_rc rc;

	if ((rc = meta_read(t, &m, &exists)) != RDB_OK || !exists)
		return rc;
	old_head = m.head;
	m.head = m.tail = 0;
	m.tail_off = 0;
	if ((rc = each_entry(t, &m, move_entry, NULL)) != RDB_OK ||
	    (rc = free_chain(t, old_head)) != RDB_OK)
		return rc;
	m.all.dead = 0;
	m.user.dead = 0;
	return meta_write(t, &m);
}

rdb_rc kv_maybe_compact(pager_txn *t)
{
	kv_meta m;
	int exists;
	rdb_rc rc = meta_read(t, &m, &exists);

	if (rc != RDB_OK || !exists)
		return rc;
	/* Half the store is dead, and it is worth the work. */
	if (m.all.dead > m.all.live && m.all.dead + m.all.live >= 16ull * PS(t))
		return kv_compact(t);
	return RDB_OK;
}

static rdb_rc stats_of(pager_txn *t, int user, kv_stats *out)
{
	kv_meta m;
	int exists;
	rdb_rc rc = meta_read(t, &m, &exists);
	const kv_count *c = user ? &m.user : &m.all;

	memset(out, 0, sizeof(*out));
	if (rc == RDB_OK && exists) {
		out->live_keys = c->live_keys;
		out->live_bytes = c->live;
		out->dead_bytes = c->dead;
		out->saved_bytes = c->saved;
	}
	return rc;
}

rdb_rc kv_get_stats(pager_txn *t, kv_stats *out)
{
	return stats_of(t, 0, out);
}

rdb_rc kv_get_user_stats(pager_txn *t, kv_stats *out)
{
	return stats_of(t, 1, out);
}

rdb_rc kv_index_root(pager_txn *t, rdb_pgno *root)
{
	kv_meta m;
	int exists;
	rdb_rc rc = meta_read(t, &m, &exists);

	*root = rc == RDB_OK ? m.index : 0;
	return rc;
}

/* ==== verification ====================================================== */

static rdb_rc mark(pager_txn *t, unsigned char *seen, rdb_pgno pgno)
{
	if (pgno == 0 || pgno >= pager_txn_page_count(t) ||
	    (seen[pgno / 8] & (1u << (pgno % 8))))
		return rdb_err_set(E(t), RDB_CORRUPT,
				   "page %u: KV page out of range or used "
				   "twice", pgno);
	seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return RDB_OK;
}

static int discard(void *arg, const void *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
	return 0;
}

typedef struct tally {
	uint64_t keys, bytes;         /* every key */
	uint64_t u_keys, u_bytes;     /* the user namespace's */
} tally;

/* Read and check one record, counting it. */
static rdb_rc check_entry(pager_txn *t, kv_meta *m, const unsigned char *key,
			  size_t klen, const kv_loc *loc, void *arg)
{
	tally *n = arg;
	rdb_rc rc = stream_value(t, loc, key, klen, discard, NULL);

	(void)m;
	n->keys++;
	n->bytes += loc->len;
	if (is_user(key, klen)) {
		n->u_keys++;
		n->u_bytes += loc->len;
	}
	return rc;
}

/* Every index entry's record reads and checks; totals match the meta. */
static rdb_rc verify_records(pager_txn *t, kv_meta *m)
{
	tally n = { 0, 0, 0, 0 };
	rdb_rc rc = each_entry(t, m, check_entry, &n);

	if (rc == RDB_OK && (n.keys != m->all.live_keys ||
			     n.bytes != m->all.live))
		rc = rdb_err_set(E(t), RDB_CORRUPT,
				 "KV meta counts %llu keys in %llu bytes, the "
				 "index %llu in %llu",
				 (unsigned long long)m->all.live_keys,
				 (unsigned long long)m->all.live,
				 (unsigned long long)n.keys,
				 (unsigned long long)n.bytes);
	else if (rc == RDB_OK && (n.u_keys != m->user.live_keys ||
				  n.u_bytes != m->user.live))
		rc = rdb_err_set(E(t), RDB_CORRUPT,
				 "KV meta counts %llu user keys in %llu bytes, "
				 "the index %llu in %llu",
				 (unsigned long long)m->user.live_keys,
				 (unsigned long long)m->user.live,
				 (unsigned long long)n.u_keys,
				 (unsigned long long)n.u_bytes);
	return rc;
}

rdb_rc kv_verify(pager_txn *t, unsigned char *seen)
{
	unsigned char *own = NULL;
	rdb_pgno pgno, last = 0;
	kv_meta m;
	int exists;
	rdb_rc rc = meta_read(t, &m, &exists);

	if (rc != RDB_OK || !exists)
		return rc;
	if (seen == NULL &&
	    (seen = own = rdb_calloc(pager_txn_page_count(t) / 8 + 1, 1)) ==
		    NULL)
		return nomem(t);
	rc = mark(t, seen, m.self);
	if (rc == RDB_OK)
		rc = bt_verify(t, m.index, seen, NULL);
	for (pgno = m.head; rc == RDB_OK && pgno != 0;) {
		pager_page *pg;

		if ((rc = mark(t, seen, pgno)) != RDB_OK ||
		    (rc = pager_get(t, pgno, &pg)) != RDB_OK)
			break;
		if (pager_data(pg)[FMT_PAGE_TYPE] != FMT_PT_KV)
			rc = rdb_err_set(E(t), RDB_CORRUPT,
					 "page %u: not a KV log page", pgno);
		last = pgno;
		pgno = fmt_get_u32(pager_data(pg) + KV_LOG_NEXT);
		pager_unref(pg);
	}
	if (rc == RDB_OK && last != m.tail)
		rc = rdb_err_set(E(t), RDB_CORRUPT,
				 "KV log ends at page %u, the meta says %u",
				 last, m.tail);
	if (rc == RDB_OK)
		rc = verify_records(t, &m);
	rdb_free(own);
	return rc;
}
