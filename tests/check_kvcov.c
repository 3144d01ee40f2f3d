/*
 * check_kvcov.c -- the KV store's rarely taken paths, found with `make
 * coverage COV_SUITES=...` (docs/testing.md, "Coverage"): a damaged meta
 * page, index entry or log chain is RDB_CORRUPT naming it ("corrupt");
 * records whose checksum is right but whose compressed bytes are not
 * ("zstd"); misbehaving stream callbacks ("stream"); and an I/O error or
 * an allocation failure at every call of a fixed workload ("faults"),
 * after which the store reopens at the state before or after the workload.
 * Contracts under test: src/kv/kv.h, src/pager/pager.h, src/pager/os.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "btree/btree.h"
#include "kv/kv.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
#include "mem.h"
#include "bt_util.h"
#include "fault_util.h"
#include "test_util.h"

/* Layout constants of src/kv/kv_int.h (docs/format.md, "KV store"). */
#define META_VERSION 16u
#define META_INDEX 20u
#define META_HEAD 24u
#define META_TAIL 28u
#define META_TAIL_OFF 32u
#define META_LIVE_KEYS 40u
#define META_U_LIVE_KEYS 72u
#define LOG_NEXT 16u
#define REC_CKSUM 0u
#define REC_FLAGS 8u
#define REC_KLEN 10u
#define REC_STORED 16u
#define REC_RAW 24u
#define REC_HDR 32u
#define IX_PGNO 0u
#define IX_OFF 4u
#define IX_LEN 8u
#define IX_RAW 16u
#define IX_SIZE 24u

/* ==== a database on the in-memory file system ========================= */

typedef bt_rig rig;

static void commit(pager_txn *t)
{
	ck_assert_int_eq(pager_commit(t), RDB_OK);
}

/* Value bytes: text-like (compressible) or not, named by a seed. */
static void fill(unsigned char *b, size_t n, uint64_t seed, int text)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = text ? (unsigned char)("abcdefgh ijkl\n"[
				       (i / 7 + seed) % 14])
			    : (unsigned char)tu_rand(&s);
}

static void put(pager_txn *t, const char *key, size_t n, uint64_t seed,
		int text)
{
	unsigned char *v = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(v);
	fill(v, n, seed, text);
	ck_assert_int_eq(kv_put(t, NULL, key, strlen(key), v, n), RDB_OK);
	free(v);
}

/* key's value must be (n, seed, text). */
static void expect(pager_txn *t, const char *key, size_t n, uint64_t seed,
		   int text)
{
	unsigned char *want = malloc(n ? n : 1);
	void *got = NULL;
	size_t glen = 0;
	rdb_rc rc;

	ck_assert_ptr_nonnull(want);
	fill(want, n, seed, text);
	rc = kv_get(t, NULL, key, strlen(key), &got, &glen);
	ck_assert_msg(rc == RDB_OK, "kv_get '%s': %d %s", key, rc,
		      pager_txn_err(t)->msg);
	ck_assert_uint_eq(glen, n);
	ck_assert(memcmp(got, want, n) == 0);
	rdb_free(got);
	free(want);
}

static void expect_corrupt(rdb_rc rc, pager_txn *t, const char *what)
{
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s), want RDB_CORRUPT", rc,
		      pager_txn_err(t)->msg);
	ck_assert_msg(strstr(pager_txn_err(t)->msg, what) != NULL,
		      "message '%s' lacks '%s'", pager_txn_err(t)->msg, what);
}

/* Pin page pgno writable in t; the caller edits pager_data() and unrefs. */
static pager_page *edit(pager_txn *t, rdb_pgno pgno)
{
	pager_page *pg = NULL;

	ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	return pg;
}

static rdb_pgno meta_pgno(pager_txn *t)
{
	rdb_pgno m = (rdb_pgno)pager_anchor(t, FMT_ANCHOR_KV);

	ck_assert_uint_ne(m, 0);
	return m;
}

static rdb_pgno index_root(pager_txn *t)
{
	rdb_pgno root = 0;

	ck_assert_int_eq(kv_index_root(t, &root), RDB_OK);
	ck_assert_uint_ne(root, 0);
	return root;
}

/* The index entry of key. */
static void ix_read(pager_txn *t, const char *key, unsigned char v[IX_SIZE])
{
	size_t n = 0;

	ck_assert_int_eq(bt_get_buf(t, index_root(t), key, strlen(key), v,
				    IX_SIZE, &n), RDB_OK);
	ck_assert_uint_eq(n, IX_SIZE);
}

static void ix_write(pager_txn *t, const char *key, const void *v, size_t n)
{
	ck_assert_int_eq(bt_upsert(t, index_root(t), key, strlen(key), v, n,
				   NULL),
			 RDB_OK);
}

/* A reader giving `give` bytes per call (text) until `left` is used. */
typedef struct source {
	size_t left, give;
} source;

static int from_source(void *arg, void *buf, size_t cap, size_t *got)
{
	source *s = arg;
	size_t n = s->give < s->left ? s->give : s->left;

	fill(buf, n < cap ? n : cap, 5, 1);
	*got = n;
	s->left -= n;
	return 0;
}

/* ==== corrupt: meta page, index entries, log chain ===================== */

static rig cr;

static void cr_setup(void)
{
	pager_txn *t;

	bt_rig_new(&cr, 4096, 64);
	t = bt_rig_begin(&cr, 1);
	put(t, "alpha", 100, 1, 0);
	put(t, "beta", 9000, 2, 0);         /* three log pages */
	put(t, "ugamma", 300, 3, 1);        /* a user-namespace key */
	commit(t);
}

static void cr_teardown(void)
{
	bt_rig_free(&cr);
}

/* Five ways the meta page can be wrong; each is found at the next read. */
START_TEST(test_kvcov_damaged_meta_page_is_corrupt)
{
	pager_txn *t = bt_rig_begin(&cr, 1);
	rdb_pgno m = meta_pgno(t);
	pager_page *pg = edit(t, m);
	unsigned char *d = pager_data(pg);
	char want[64];
	void *v = NULL;
	size_t n = 0;
	rdb_pgno root = 1;
	kv_stats st;

	switch (_i) {
	case 0: d[FMT_PAGE_TYPE] = FMT_PT_KV; break;
	case 1: fmt_put_u32(d + META_VERSION, 2); break;
	case 2: fmt_put_u32(d + META_INDEX, 0); break;
	case 3: fmt_put_u32(d + META_TAIL_OFF, 8); break;
	default: fmt_put_u32(d + META_TAIL_OFF, 4097); break;
	}
	pager_unref(pg);
	commit(t);
	t = bt_rig_begin(&cr, 0);
	snprintf(want, sizeof(want), "page %u: KV meta page is damaged", m);
	expect_corrupt(kv_get(t, NULL, "alpha", 5, &v, &n), t, want);
	ck_assert_ptr_null(v);
	expect_corrupt(kv_verify(t, NULL), t, want);
	ck_assert_int_eq(kv_index_root(t, &root), RDB_CORRUPT);
	ck_assert_uint_eq(root, 0);
	ck_assert_int_eq(kv_get_stats(t, &st), RDB_CORRUPT);
	ck_assert_uint_eq(st.live_keys, 0);
	pager_rollback(t);
	t = bt_rig_begin(&cr, 1);
	ck_assert_int_eq(kv_delete(t, "alpha", 5, NULL), RDB_CORRUPT);
	ck_assert_int_eq(kv_maybe_compact(t), RDB_CORRUPT);
	ck_assert_int_eq(kv_compact(t), RDB_CORRUPT);
	expect_corrupt(kv_put(t, NULL, "new", 3, "v", 1), t, want);
	pager_rollback(t);
}
END_TEST

/* An index entry of the wrong size, or one whose record length cannot
 * hold the key, is damaged; nothing is read from the log. */
START_TEST(test_kvcov_damaged_index_entry_is_corrupt)
{
	unsigned char v[IX_SIZE + 8];
	pager_txn *t = bt_rig_begin(&cr, 1);
	void *val = NULL;
	size_t n = 0;

	ix_read(t, "alpha", v);
	if (_i == 0)
		ix_write(t, "alpha", v, 10);
	else if (_i == 1)
		ix_write(t, "alpha", v, sizeof(v));
	else {
		fmt_put_u64(v + IX_LEN, REC_HDR + 4);   /* key is 5 bytes */
		ix_write(t, "alpha", v, IX_SIZE);
	}
	commit(t);
	t = bt_rig_begin(&cr, 0);
	expect_corrupt(kv_get(t, NULL, "alpha", 5, &val, &n), t,
		       "KV index entry of key 'alpha' is damaged");
	expect_corrupt(kv_verify(t, NULL), t, "'alpha'");
	expect(t, "beta", 9000, 2, 0);
	pager_rollback(t);
}
END_TEST

/* An entry pointing outside a log page's data, or at a page that is not
 * a log page, makes the record unreadable; other keys still read. */
START_TEST(test_kvcov_index_entry_off_the_log_is_corrupt)
{
	unsigned char v[IX_SIZE];
	pager_txn *t = bt_rig_begin(&cr, 1);
	void *val = NULL;
	size_t n = 0;

	ix_read(t, "alpha", v);
	if (_i == 0)
		fmt_put_u32(v + IX_OFF, 3);
	else if (_i == 1)
		fmt_put_u32(v + IX_OFF, 4097);
	else
		fmt_put_u32(v + IX_PGNO, meta_pgno(t));
	ix_write(t, "alpha", v, IX_SIZE);
	commit(t);
	t = bt_rig_begin(&cr, 0);
	expect_corrupt(kv_get(t, NULL, "alpha", 5, &val, &n), t,
		       "KV record of key 'alpha' on page");
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, "(unreadable)"));
	expect(t, "ugamma", 300, 3, 1);
	pager_rollback(t);
}
END_TEST

/* An entry claiming a value too big for memory is refused before any
 * allocation (kv_get) or found not to fit (kv_get_into). */
START_TEST(test_kvcov_index_entry_huge_value_is_toobig_or_range)
{
	unsigned char v[IX_SIZE], buf[16];
	pager_txn *t = bt_rig_begin(&cr, 1);
	void *val = NULL;
	size_t n = 0;
	uint64_t len;

	ix_read(t, "alpha", v);
	fmt_put_u64(v + IX_RAW, UINT64_MAX);
	ix_write(t, "alpha", v, IX_SIZE);
	commit(t);
	t = bt_rig_begin(&cr, 0);
	ck_assert_int_eq(kv_get(t, NULL, "alpha", 5, &val, &n), RDB_TOOBIG);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg,
				     "too big for memory"));
	ck_assert_ptr_null(val);
	ck_assert_int_eq(kv_get_into(t, NULL, "alpha", 5, buf, sizeof(buf),
				     &n), RDB_RANGE);
	ck_assert_uint_eq(n, SIZE_MAX);
	ck_assert_int_eq(kv_value_len(t, "alpha", 5, &len), RDB_OK);
	ck_assert_uint_eq(len, UINT64_MAX);
	pager_rollback(t);
}
END_TEST

/* The second log page of the chain (the first one's successor). */
static rdb_pgno second_log_page(pager_txn *t, rdb_pgno *first)
{
	unsigned char v[IX_SIZE];
	pager_page *pg = NULL;
	rdb_pgno next;

	ix_read(t, "alpha", v);              /* the first record */
	*first = fmt_get_u32(v + IX_PGNO);
	ck_assert_int_eq(pager_get(t, *first, &pg), RDB_OK);
	next = fmt_get_u32(pager_data(pg) + LOG_NEXT);
	pager_unref(pg);
	ck_assert_uint_ne(next, 0);
	return next;
}

/* Links of the log chain that loop, leave the file or reach a page of
 * another kind, and a meta tail that is not the chain's end. */
START_TEST(test_kvcov_damaged_log_chain_is_corrupt)
{
	static const char *const want[] = {
		"KV page out of range or used twice",
		"KV page out of range or used twice",
		"not a KV log page",
		"KV log ends at page",
	};
	pager_txn *t = bt_rig_begin(&cr, 1);
	rdb_pgno first, other = 0;
	pager_page *pg;

	(void)second_log_page(t, &first);
	ck_assert_int_eq(bt_create(t, &other), RDB_OK);
	pg = edit(t, _i == 3 ? meta_pgno(t) : first);
	if (_i == 0)
		fmt_put_u32(pager_data(pg) + LOG_NEXT, first);
	else if (_i == 1)
		fmt_put_u32(pager_data(pg) + LOG_NEXT,
			    pager_txn_page_count(t) + 7);
	else if (_i == 2)
		fmt_put_u32(pager_data(pg) + LOG_NEXT, other);
	else
		fmt_put_u32(pager_data(pg) + META_TAIL, first);
	pager_unref(pg);
	commit(t);
	t = bt_rig_begin(&cr, 1);
	expect_corrupt(kv_verify(t, NULL), t, want[_i]);
	/* Compaction frees the old chain by its links: a link to a page
	 * of another kind or a loop is found, not followed. */
	if (_i == 0 || _i == 2)
		ck_assert_int_eq(kv_compact(t), RDB_CORRUPT);
	pager_rollback(t);
}
END_TEST

/* Meta counts that disagree with the index, for all keys or the user
 * namespace's, fail the verification. */
START_TEST(test_kvcov_meta_counts_disagreeing_with_index_are_corrupt)
{
	pager_txn *t = bt_rig_begin(&cr, 1);
	pager_page *pg = edit(t, meta_pgno(t));
	unsigned char *d = pager_data(pg);
	/* keys, then bytes (8 further on), of all keys then user keys */
	unsigned off = (_i % 2 == 0 ? META_LIVE_KEYS : META_U_LIVE_KEYS) +
		       (_i >= 2 ? 8u : 0u);

	fmt_put_u64(d + off, fmt_get_u64(d + off) + 1);
	pager_unref(pg);
	commit(t);
	t = bt_rig_begin(&cr, 0);
	expect_corrupt(kv_verify(t, NULL), t,
		       _i == 0 ? "KV meta counts 4 keys" :
		       _i == 1 ? "KV meta counts 2 user keys" :
		       _i == 2 ? "KV meta counts 3 keys" :
				 "KV meta counts 1 user keys");
	expect(t, "ugamma", 300, 3, 1);
	pager_rollback(t);
}
END_TEST

/* An empty key in the index tree (the store never writes one) stops
 * verification and compaction with RDB_CORRUPT. */
START_TEST(test_kvcov_empty_key_in_index_is_corrupt)
{
	pager_txn *t = bt_rig_begin(&cr, 1);
	unsigned char v[IX_SIZE];

	ix_read(t, "alpha", v);
	ck_assert_int_eq(bt_insert(t, index_root(t), "", 0, v, IX_SIZE),
			 RDB_OK);
	expect_corrupt(kv_verify(t, NULL), t,
		       "KV index holds a key of 0 bytes");
	expect_corrupt(kv_compact(t), t, "KV index holds a key of 0 bytes");
	pager_rollback(t);
}
END_TEST

/* Every call on a database without a store: reads find nothing, changes
 * other than puts change nothing and create no store; bad key lengths are
 * RDB_TOOBIG first. */
START_TEST(test_kvcov_calls_without_a_store_find_nothing_create_nothing)
{
	char long_key[KV_KEY_MAX + 2];
	rig r;
	pager_txn *t;
	rdb_pgno root = 7;
	kv_stats st;
	uint64_t len;
	int existed = 1;
	source src = { 10, 10 };

	bt_rig_new(&r, 4096, 64);
	memset(long_key, 'k', sizeof(long_key));
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(kv_delete(t, "a", 1, &existed), RDB_OK);
	ck_assert_int_eq(existed, 0);
	ck_assert_int_eq(kv_delete(t, "", 0, &existed), RDB_TOOBIG);
	ck_assert_int_eq(kv_rename(t, "a", 1, "b", 1), RDB_NOTFOUND);
	ck_assert_int_eq(kv_rename(t, "a", 1, "", 0), RDB_TOOBIG);
	ck_assert_int_eq(kv_rename(t, long_key, sizeof(long_key), "b", 1),
			 RDB_TOOBIG);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, "keys are 1 to"));
	ck_assert_int_eq(kv_put_stream(t, "", 0, from_source, &src),
			 RDB_TOOBIG);
	ck_assert_uint_eq(src.left, 10);        /* nothing was read */
	ck_assert_int_eq(kv_value_len(t, "a", 1, &len), RDB_NOTFOUND);
	ck_assert_int_eq(kv_compact(t), RDB_OK);
	ck_assert_int_eq(kv_maybe_compact(t), RDB_OK);
	ck_assert_int_eq(kv_verify(t, NULL), RDB_OK);
	ck_assert_int_eq(kv_get_user_stats(t, &st), RDB_OK);
	ck_assert_uint_eq(st.live_keys + st.live_bytes + st.dead_bytes, 0);
	ck_assert_int_eq(kv_index_root(t, &root), RDB_OK);
	ck_assert_uint_eq(root, 0);
	ck_assert_uint_eq(pager_anchor(t, FMT_ANCHOR_KV), 0);
	commit(t);
	kv_ctx_free(NULL);
	bt_rig_free(&r);
}
END_TEST

/* ==== zstd: right checksum, wrong compressed bytes ===================== */

/* Rewrite the record of key (a compressed value in one page) with fn
 * applied to its header and stored bytes, its checksum recomputed so
 * that only the compressed data tells.  *raw gets the value length. */
typedef void (*rec_fn)(unsigned char *hdr, unsigned char *stored,
		       size_t n, unsigned char *ix, int how);

static void forge(rig *r, const char *key, rec_fn fn, int how)
{
	unsigned char v[IX_SIZE], *d, *h;
	size_t klen = strlen(key), n;
	pager_txn *t = bt_rig_begin(r, 1);
	pager_page *pg;
	XXH3_state_t st;
	uint32_t off;

	ix_read(t, key, v);
	off = fmt_get_u32(v + IX_OFF);
	n = (size_t)fmt_get_u64(v + IX_LEN) - REC_HDR - klen;
	ck_assert_uint_le(off + REC_HDR + klen + n, 4096);
	pg = edit(t, fmt_get_u32(v + IX_PGNO));
	d = pager_data(pg);
	h = d + off;
	ck_assert_uint_eq(h[REC_FLAGS], 2);     /* KV_F_ZSTD */
	ck_assert_uint_eq(fmt_get_u16(h + REC_KLEN), klen);
	fn(h, h + REC_HDR + klen, n, v, how);
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, key, klen);
	XXH3_64bits_update(&st, h + REC_HDR + klen, n);
	XXH3_64bits_update(&st, h + REC_FLAGS, REC_HDR - REC_FLAGS);
	fmt_put_u64(h + REC_CKSUM, XXH3_64bits_digest(&st));
	pager_unref(pg);
	ix_write(t, key, v, IX_SIZE);
	commit(t);
}

/* how 0: garbage in the frame; 1: the lengths say one byte more than
 * the frame holds; 2: one byte less. */
static void spoil(unsigned char *hdr, unsigned char *stored, size_t n,
		  unsigned char *ix, int how)
{
	uint64_t raw = fmt_get_u64(hdr + REC_RAW);

	if (how == 0) {
		memset(stored + n / 2, 0xA5, n - n / 2);
		return;
	}
	if (how == 3) {
		hdr[REC_FLAGS] |= 0x4;          /* a flag nobody defined */
		return;
	}
	if (how == 4) {
		hdr[REC_FLAGS] = 0;             /* plain, yet stored != raw */
		return;
	}
	raw = how == 1 ? raw + 1 : raw - 1;
	fmt_put_u64(hdr + REC_RAW, raw);
	fmt_put_u64(ix + IX_RAW, raw);
}

typedef struct sink {
	size_t n, calls, stop_at;
} sink;

static int to_sink(void *arg, const void *buf, size_t n)
{
	sink *s = arg;

	(void)buf;
	s->n += n;
	return ++s->calls == s->stop_at;
}

START_TEST(test_kvcov_bad_compressed_bytes_with_good_checksum_are_corrupt)
{
	rig r;
	pager_txn *t;
	void *val = NULL;
	size_t n = 0;
	sink s = { 0, 0, 0 };
	const char *why = _i < 3 ? "does not decompress" : "damaged (header)";

	bt_rig_new(&r, 4096, 64);
	t = bt_rig_begin(&r, 1);
	put(t, "text", 3000, 9, 1);
	put(t, "other", 200, 10, 0);
	commit(t);
	forge(&r, "text", spoil, _i);
	t = bt_rig_begin(&r, 0);
	expect_corrupt(kv_get(t, NULL, "text", 4, &val, &n), t,
		       "of key 'text' on page");
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, why));
	ck_assert_ptr_null(val);
	expect_corrupt(kv_get_stream(t, "text", 4, to_sink, &s), t, why);
	expect_corrupt(kv_verify(t, NULL), t, why);
	expect(t, "other", 200, 10, 0);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* More contexts in use at once than the process keeps for reuse (8):
 * each of ten kv_ctx compresses and decompresses its own value right,
 * and giving them all back frees those the pool cannot keep. */
START_TEST(test_kvcov_more_contexts_than_the_pool_keeps_all_work)
{
	enum { N = 10 };
	kv_ctx cx[N];
	unsigned char want[2000];
	rig r;
	pager_txn *t;
	char key[16];
	int i;

	memset(cx, 0, sizeof(cx));
	bt_rig_new(&r, 4096, 64);
	t = bt_rig_begin(&r, 1);
	for (i = 0; i < N; i++) {
		fill(want, sizeof(want), 60 + (uint64_t)i, 1);
		snprintf(key, sizeof(key), "c%d", i);
		ck_assert_int_eq(kv_put(t, &cx[i], key, 2, want, sizeof(want)),
				 RDB_OK);
		ck_assert_ptr_nonnull(cx[i].cz);
	}
	for (i = 0; i < N; i++) {
		unsigned char got[2000];
		size_t n = 0;

		fill(want, sizeof(want), 60 + (uint64_t)i, 1);
		snprintf(key, sizeof(key), "c%d", i);
		ck_assert_int_eq(kv_get_into(t, &cx[i], key, 2, got, sizeof(got),
					     &n), RDB_OK);
		ck_assert_uint_eq(n, sizeof(want));
		ck_assert(memcmp(got, want, n) == 0);
		ck_assert_ptr_nonnull(cx[i].dz);
	}
	for (i = 0; i < N; i++)
		kv_ctx_free(&cx[i]);
	ck_assert_int_eq(kv_verify(t, NULL), RDB_OK);
	commit(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== stream: callbacks that misbehave ================================= */

/* A reader that claims more bytes than it was offered is misuse, and the
 * store is unchanged. */
START_TEST(test_kvcov_put_stream_reader_overrun_is_misuse)
{
	rig r;
	pager_txn *t;
	source src = { 200000, 65537 };
	kv_stats st;

	bt_rig_new(&r, 4096, 64);
	t = bt_rig_begin(&r, 1);
	put(t, "keep", 50, 1, 0);
	ck_assert_int_eq(kv_put_stream(t, "big", 3, from_source, &src),
			 RDB_MISUSE);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg,
				     "KV reader returned too many bytes"));
	pager_rollback(t);
	t = bt_rig_begin(&r, 0);
	ck_assert_int_eq(kv_get_stats(t, &st), RDB_OK);
	ck_assert_uint_eq(st.live_keys, 0);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* A writer that stops during a compressed value's stream is
 * RDB_INTERRUPT after exactly the chunks it took; a complete stream of
 * the same value gives every byte. */
START_TEST(test_kvcov_get_stream_writer_stop_on_compressed_is_interrupt)
{
	rig r;
	pager_txn *t;
	source src = { 300000, 65536 };
	sink all = { 0, 0, 0 }, some = { 0, 0, 2 };

	bt_rig_new(&r, 4096, 64);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(kv_put_stream(t, "big", 3, from_source, &src),
			 RDB_OK);
	commit(t);
	t = bt_rig_begin(&r, 0);
	ck_assert_int_eq(kv_get_stream(t, "big", 3, to_sink, &all), RDB_OK);
	ck_assert_uint_eq(all.n, 300000);
	ck_assert_uint_ge(all.calls, 5);
	ck_assert_int_eq(kv_get_stream(t, "big", 3, to_sink, &some),
			 RDB_INTERRUPT);
	ck_assert_uint_eq(some.calls, 2);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg,
				     "stopped by its writer"));
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== ahead: batches compressed by a helper thread ===================== */

#define AH_N 7

/* A batch of four large text values, a random one, a delete, a value too
 * big to be compressed ahead and a small one; its values in *buf. */
static void ah_ops(rdb_kv_op *ops, unsigned char **buf)
{
	static const size_t len[AH_N] = { 400000, 400000, 300000, 5u << 20,
					  400000, 300000, 60 };
	static const char *const key[AH_N] = { "a0", "a1", "a2", "a3",
					       "a4", "a5", "a6" };
	size_t i;

	for (i = 0; i < AH_N; i++) {
		buf[i] = malloc(len[i]);
		ck_assert_ptr_nonnull(buf[i]);
		fill(buf[i], len[i], 40 + i, i != 2);
		ops[i] = (rdb_kv_op){ 0, key[i], 2, buf[i], len[i] };
	}
	ops[5].del = 1;          /* deletes "a5" (missing: a no-op) */
	ops[5].val = NULL;
}

/* Puts in another order than announced, and allocation failures while
 * the batch starts, change nothing but speed: every value reads back. */
START_TEST(test_kvcov_batch_ahead_out_of_order_or_without_memory_stores_all)
{
	static const int order[2][AH_N] = { { 0, 1, 2, 3, 4, 5, 6 },
					     { 1, 0, 3, 2, 6, 4, 5 } };
	rdb_kv_op ops[AH_N];
	unsigned char *buf[AH_N];
	kv_ctx cx = { 0 };
	rig r;
	pager_txn *t;
	size_t i;

	ah_ops(ops, buf);
	bt_rig_new(&r, 4096, 256);
	t = bt_rig_begin(&r, 1);
	if (_i >= 2)
		rdb_mem_fail_at(_i - 1, 0);     /* 1st, 2nd, ... allocation */
	kv_ahead_begin(&cx, ops, AH_N);
	rdb_mem_fail_at(0, 0);
	for (i = 0; i < AH_N; i++) {
		const rdb_kv_op *op = &ops[order[_i == 1][i]];

		if (op->del)
			ck_assert_int_eq(kv_delete(t, op->key, op->klen, NULL),
					 RDB_OK);
		else
			ck_assert_int_eq(kv_put(t, &cx, op->key, op->klen,
						op->val, op->vlen), RDB_OK);
	}
	kv_ahead_end(&cx);
	commit(t);
	t = bt_rig_begin(&r, 0);
	for (i = 0; i < AH_N; i++) {
		void *got = NULL;
		size_t n = 0;
		rdb_rc rc = kv_get(t, &cx, ops[i].key, 2, &got, &n);

		if (ops[i].del) {
			ck_assert_int_eq(rc, RDB_NOTFOUND);
			continue;
		}
		ck_assert_int_eq(rc, RDB_OK);
		ck_assert_uint_eq(n, ops[i].vlen);
		ck_assert(memcmp(got, ops[i].val, n) == 0);
		rdb_free(got);
	}
	ck_assert_int_eq(kv_verify(t, NULL), RDB_OK);
	pager_rollback(t);
	kv_ctx_free(&cx);
	for (i = 0; i < AH_N; i++)
		free(buf[i]);
	bt_rig_free(&r);
}
END_TEST

/* ==== limits: bad arguments, forged lengths, damaged chains ============ */

/* A key of 0 bytes or longer than kv_max_key() is RDB_TOOBIG for every
 * call, before anything is read or changed; so is a value too long for
 * kv_put(). */
START_TEST(test_kvcov_bad_key_lengths_are_toobig_everywhere)
{
	char long_key[KV_KEY_MAX + 1], buf[8];
	pager_txn *t = bt_rig_begin(&cr, 1);
	source src = { 10, 10 };
	sink s = { 0, 0, 0 };
	size_t lens[2] = { 0, sizeof(long_key) }, n = 7;
	void *v = &n;
	uint64_t len = 7;
	kv_stats st;
	int i;

	memset(long_key, 'k', sizeof(long_key));
	ck_assert_uint_lt(kv_max_key(t), sizeof(long_key));
	for (i = 0; i < 2; i++) {
		size_t k = lens[i];

		ck_assert_int_eq(kv_put(t, NULL, long_key, k, "v", 1),
				 RDB_TOOBIG);
		ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg,
					     "keys are 1 to"));
		ck_assert_int_eq(kv_put_stream(t, long_key, k, from_source,
					       &src), RDB_TOOBIG);
		ck_assert_int_eq(kv_get(t, NULL, long_key, k, &v, &n),
				 RDB_TOOBIG);
		ck_assert_ptr_null(v);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(kv_get_into(t, NULL, long_key, k, buf,
					     sizeof(buf), &n), RDB_TOOBIG);
		ck_assert_int_eq(kv_get_stream(t, long_key, k, to_sink, &s),
				 RDB_TOOBIG);
		ck_assert_int_eq(kv_value_len(t, long_key, k, &len),
				 RDB_TOOBIG);
		ck_assert_uint_eq(len, 0);
		ck_assert_int_eq(kv_copy(t, t, long_key, k), RDB_TOOBIG);
		ck_assert_int_eq(kv_rename(t, "alpha", 5, long_key, k),
				 RDB_TOOBIG);
	}
	ck_assert_int_eq(kv_put(t, NULL, "big", 3, "v", (size_t)KV_MAX_PUT + 1),
			 RDB_TOOBIG);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, "stream larger"));
	ck_assert_uint_eq(src.left, 10);
	ck_assert_uint_eq(s.calls, 0);
	ck_assert_int_eq(kv_get_stats(t, &st), RDB_OK);
	ck_assert_uint_eq(st.live_keys, 3);
	ck_assert_int_eq(kv_verify(t, NULL), RDB_OK);
	pager_rollback(t);
}
END_TEST

/* A meta page whose tail is a page of another kind: every append (put,
 * streamed put, tombstone, rename) is RDB_CORRUPT naming it. */
START_TEST(test_kvcov_log_tail_of_another_kind_stops_appends)
{
	pager_txn *t = bt_rig_begin(&cr, 1);
	pager_page *pg = edit(t, meta_pgno(t));
	source src = { 300, 300 };
	char want[64];
	rdb_rc rc;

	fmt_put_u32(pager_data(pg) + META_TAIL, index_root(t));
	pager_unref(pg);
	commit(t);
	snprintf(want, sizeof(want), "page %u: KV log tail is not a log page",
		 index_root(t = bt_rig_begin(&cr, 1)));
	switch (_i) {
	case 0: rc = kv_put(t, NULL, "new", 3, "v", 1); break;
	case 1: rc = kv_put_stream(t, "new", 3, from_source, &src); break;
	case 2: rc = kv_delete(t, "alpha", 5, NULL); break;
	default: rc = kv_rename(t, "alpha", 5, "new", 3); break;
	}
	expect_corrupt(rc, t, want);
	pager_rollback(t);
	t = bt_rig_begin(&cr, 0);
	expect(t, "alpha", 100, 1, 0);
	pager_rollback(t);
}
END_TEST

/* A damaged index entry stops every change of its key (delete, streamed
 * put, put, rename to it, copy of it) with RDB_CORRUPT; the meta page
 * damaged the same way stops a streamed put and a copy into it. */
START_TEST(test_kvcov_damaged_entry_or_meta_stops_changes)
{
	unsigned char v[IX_SIZE];
	pager_txn *t = bt_rig_begin(&cr, 1), *d;
	source src = { 300, 300 };
	rig other;
	pager_page *pg;
	const char *why = "KV index entry of key 'alpha' is damaged";

	ix_read(t, "alpha", v);
	ix_write(t, "alpha", v, 10);
	expect_corrupt(kv_delete(t, "alpha", 5, NULL), t, why);
	expect_corrupt(kv_put_stream(t, "alpha", 5, from_source, &src), t,
		       why);
	expect_corrupt(kv_put(t, NULL, "alpha", 5, "v", 1), t, why);
	expect_corrupt(kv_rename(t, "beta", 4, "alpha", 5), t, why);
	bt_rig_new(&other, 4096, 64);
	d = bt_rig_begin(&other, 1);
	expect_corrupt(kv_copy(t, d, "alpha", 5), t, why);
	pager_rollback(t);
	/* the destination's meta page is damaged */
	ck_assert_int_eq(kv_put(d, NULL, "x", 1, "v", 1), RDB_OK);
	pg = edit(d, meta_pgno(d));
	pager_data(pg)[FMT_PAGE_TYPE] = FMT_PT_KV;
	pager_unref(pg);
	t = bt_rig_begin(&cr, 0);
	expect_corrupt(kv_copy(t, d, "beta", 4), d, "KV meta page is damaged");
	expect_corrupt(kv_put_stream(d, "y", 1, from_source, &src), d,
		       "KV meta page is damaged");
	pager_rollback(t);
	pager_rollback(d);
	bt_rig_free(&other);
}
END_TEST

/* A key longer than the destination's page size allows cannot be copied
 * there (RDB_TOOBIG, nothing read); the source keeps it. */
START_TEST(test_kvcov_copy_to_smaller_pages_with_long_key_is_toobig)
{
	char key[300];
	rig small;
	pager_txn *t, *d;
	kv_stats st;

	memset(key, 'q', sizeof(key));
	bt_rig_new(&small, 512, 16);
	t = bt_rig_begin(&cr, 1);
	ck_assert_int_eq(kv_put(t, NULL, key, sizeof(key), "value", 5),
			 RDB_OK);
	d = bt_rig_begin(&small, 1);
	ck_assert_uint_lt(kv_max_key(d), sizeof(key));
	ck_assert_int_eq(kv_copy(t, d, key, sizeof(key)), RDB_TOOBIG);
	ck_assert_int_eq(kv_copy(t, d, "alpha", 5), RDB_OK);
	ck_assert_int_eq(kv_get_stats(d, &st), RDB_OK);
	ck_assert_uint_eq(st.live_keys, 1);
	commit(d);
	commit(t);
	bt_rig_free(&small);
}
END_TEST

/* Rewrite the header of alpha's record (100 plain bytes at the start of
 * the first log page) and its index entry to claim `stored` bytes
 * (`raw` before compression) with flags; the checksum is left stale. */
static void forge_lengths(uint64_t stored, uint64_t raw, unsigned flags)
{
	unsigned char v[IX_SIZE], *h;
	pager_txn *t = bt_rig_begin(&cr, 1);
	pager_page *pg;

	ix_read(t, "alpha", v);
	pg = edit(t, fmt_get_u32(v + IX_PGNO));
	h = pager_data(pg) + fmt_get_u32(v + IX_OFF);
	ck_assert_uint_eq(fmt_get_u64(h + REC_STORED), 100);
	h[REC_FLAGS] = (unsigned char)flags;
	fmt_put_u64(h + REC_STORED, stored);
	fmt_put_u64(h + REC_RAW, raw);
	pager_unref(pg);
	fmt_put_u64(v + IX_LEN, REC_HDR + 5 + stored);
	fmt_put_u64(v + IX_RAW, raw);
	ix_write(t, "alpha", v, IX_SIZE);
	commit(t);
}

/* A plain record claiming 2^32 pages' worth of bytes: the read's page
 * budget (computed in 32 bits) runs out inside the chain, and the stream
 * ends RDB_CORRUPT with the record's bytes not all read. */
START_TEST(test_kvcov_record_longer_than_its_chain_is_corrupt)
{
	uint64_t n = (uint64_t)(4096 - 24) << 32;
	pager_txn *t;
	sink s = { 0, 0, 0 };
	uint64_t len = 0;

	forge_lengths(n, n, 0);
	t = bt_rig_begin(&cr, 0);
	ck_assert_int_eq(kv_value_len(t, "alpha", 5, &len), RDB_OK);
	ck_assert_uint_eq(len, n);
	expect_corrupt(kv_get_stream(t, "alpha", 5, to_sink, &s), t,
		       "KV record of key 'alpha' on page");
	/* the budget ran out inside the first chunk: nothing was passed on */
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, "checksum"));
	expect(t, "beta", 9000, 2, 0);
	pager_rollback(t);
}
END_TEST

/* A compressed record claiming more stored bytes than memory could hold
 * is RDB_TOOBIG for kv_get and kv_get_into (its value length is small). */
START_TEST(test_kvcov_compressed_record_too_big_for_memory_is_toobig)
{
	unsigned char buf[200];
	pager_txn *t;
	void *v = NULL;
	size_t n = 0;

	forge_lengths((1ull << 63) + 8, 100, 2);
	t = bt_rig_begin(&cr, 0);
	ck_assert_int_eq(kv_get(t, NULL, "alpha", 5, &v, &n), RDB_TOOBIG);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(kv_get_into(t, NULL, "alpha", 5, buf, sizeof(buf),
				     &n), RDB_TOOBIG);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, "too big"));
	pager_rollback(t);
}
END_TEST

/* A record whose key starts on the next log page: a damaged link makes
 * the key unreadable (RDB_CORRUPT); with the file intact, an I/O error at
 * each call of the read is RDB_IOERR, never a wrong value. */
START_TEST(test_kvcov_key_on_next_page_unreadable_or_ioerr)
{
	rig r;
	pager_txn *t;
	pager_page *pg;
	unsigned char v[IX_SIZE];
	void *got = NULL;
	size_t n = 0;
	uint64_t at;
	int failed = 0, ok = 0;

	bt_rig_new(&r, 4096, 64);
	t = bt_rig_begin(&r, 1);
	/* 24 + (32 + 1 + 4007) = 4064: "bb"'s header ends the page */
	put(t, "a", 4007, 31, 0);
	put(t, "bb", 10, 32, 0);
	ix_read(t, "bb", v);
	ck_assert_uint_eq(fmt_get_u32(v + IX_OFF), 4096 - REC_HDR);
	commit(t);
	ck_assert_int_eq(bt_rig_reopen(&r), RDB_OK);
	for (at = 1; at < 40; at++) {
		rdb_rc rc;

		os_mem_set_fault(r.vfs, OS_FAULT_EIO, at, 0, 0);
		t = NULL;
		rc = pager_begin(r.p, 0, &r.err, &t);
		if (rc == RDB_OK)
			rc = kv_get(t, NULL, "bb", 2, &got, &n);
		ck_assert_msg(rc == RDB_OK || rc == RDB_IOERR, "at %llu: %d %s",
			      (unsigned long long)at, rc, r.err.msg);
		if (rc == RDB_OK) {
			ck_assert_uint_eq(n, 10);
			rdb_free(got);
			ok++;
		} else {
			failed++;
		}
		got = NULL;
		pager_rollback(t);
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
		ck_assert_int_eq(bt_rig_reopen(&r), RDB_OK);
	}
	ck_assert_int_gt(failed, 2);
	ck_assert_int_gt(ok, 2);
	t = bt_rig_begin(&r, 1);
	pg = edit(t, fmt_get_u32(v + IX_PGNO));
	fmt_put_u32(pager_data(pg) + LOG_NEXT, meta_pgno(t));
	pager_unref(pg);
	expect_corrupt(kv_get(t, NULL, "bb", 2, &got, &n), t, "(unreadable)");
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* Verification refuses a meta page already counted by the caller's page
 * map, and a log chain whose head lies past the end of the file. */
START_TEST(test_kvcov_verify_pages_seen_twice_or_past_end_are_corrupt)
{
	pager_txn *t = bt_rig_begin(&cr, 1);
	rdb_pgno m = meta_pgno(t);
	unsigned char *seen = calloc(pager_txn_page_count(t) / 8 + 1, 1);
	pager_page *pg;

	ck_assert_ptr_nonnull(seen);
	seen[m / 8] |= (unsigned char)(1u << (m % 8));
	expect_corrupt(kv_verify(t, seen), t,
		       "KV page out of range or used twice");
	memset(seen, 0, pager_txn_page_count(t) / 8 + 1);
	ck_assert_int_eq(kv_verify(t, seen), RDB_OK);
	pg = edit(t, m);
	fmt_put_u32(pager_data(pg) + META_HEAD, pager_txn_page_count(t) + 3);
	pager_unref(pg);
	expect_corrupt(kv_verify(t, NULL), t,
		       "KV page out of range or used twice");
	pager_rollback(t);
	free(seen);
}
END_TEST

/* With 64 KiB pages the index tree takes keys longer than the store's
 * limit: such a key (never written by the store) stops verification and
 * compaction with RDB_CORRUPT. */
START_TEST(test_kvcov_index_key_over_store_limit_is_corrupt)
{
	unsigned char key[KV_KEY_MAX + 500], v[IX_SIZE];
	rig r;
	pager_txn *t;
	size_t n = 0;

	bt_rig_new(&r, 65536, 16);
	ck_assert_uint_gt(bt_max_key(65536), sizeof(key));
	t = bt_rig_begin(&r, 1);
	put(t, "a", 500, 1, 0);
	ck_assert_int_eq(bt_get_buf(t, index_root(t), "a", 1, v, IX_SIZE, &n),
			 RDB_OK);
	memset(key, 'z', sizeof(key));
	ck_assert_int_eq(bt_insert(t, index_root(t), key, sizeof(key), v,
				   IX_SIZE), RDB_OK);
	expect_corrupt(kv_verify(t, NULL), t, "KV index holds a key of 1524 "
		       "bytes");
	expect_corrupt(kv_compact(t), t, "KV index holds a key of 1524 bytes");
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* Compaction frees the old log by its links and trusts none that leads
 * off the chain: the last page linking to a page of another kind, back
 * to the chain's head, or a last page whose checksum fails (its records
 * intact: the damage is past them) is RDB_CORRUPT, and rolls back. */
START_TEST(test_kvcov_compaction_refuses_damaged_chain_end)
{
	pager_txn *t = bt_rig_begin(&cr, 1);
	rdb_pgno first, last = 0, other = 0;
	pager_page *pg = NULL;
	unsigned char *bytes = NULL;
	size_t len = 0;

	(void)second_log_page(t, &first);
	ck_assert_int_eq(pager_get(t, meta_pgno(t), &pg), RDB_OK);
	last = fmt_get_u32(pager_data(pg) + META_TAIL);
	ck_assert_uint_lt(fmt_get_u32(pager_data(pg) + META_TAIL_OFF), 4000);
	pager_unref(pg);
	ck_assert_int_eq(bt_create(t, &other), RDB_OK);
	if (_i < 2) {
		pg = edit(t, last);
		fmt_put_u32(pager_data(pg) + LOG_NEXT, _i == 0 ? other : first);
		pager_unref(pg);
	}
	commit(t);
	if (_i == 2) {
		ck_assert_int_eq(pager_close(cr.p), RDB_OK);
		cr.p = NULL;
		ck_assert_int_eq(os_mem_file_bytes(cr.vfs, BT_RIG_DB, &bytes, &len),
				 RDB_OK);
		ck_assert_uint_ge(len, (size_t)(last + 1) * 4096);
		bytes[(size_t)last * 4096 + 4090] ^= 0x55;
		ck_assert_int_eq(os_mem_file_set(cr.vfs, BT_RIG_DB, bytes, len),
				 RDB_OK);
		rdb_free(bytes);
		bt_rig_open(&cr);
	}
	t = bt_rig_begin(&cr, 1);
	expect(t, "ugamma", 300, 3, 1);
	ck_assert_int_eq(kv_compact(t), RDB_CORRUPT);
	ck_assert_ptr_nonnull(strstr(pager_txn_err(t)->msg, "KV log"));
	pager_rollback(t);
	t = bt_rig_begin(&cr, 0);
	expect(t, "beta", 9000, 2, 0);
	pager_rollback(t);
}
END_TEST

/* ==== faults: every call of a workload fails once ===================== */

/* The workload's keys: before (state 0) and after (state 1). */
typedef struct want {
	const char *key;
	size_t n[2];
	uint64_t seed[2];
	int text[2];
} want;

static const want wl_state[] = {
	{ "k0", { 40, 2800 }, { 1, 11 }, { 0, 1 } },
	{ "k1", { 6000, 6000 }, { 2, 2 }, { 1, 1 } },
	{ "k2", { 90, 0 }, { 3, 0 }, { 0, 0 } },       /* deleted */
	{ "k3", { 8800, 0 }, { 4, 0 }, { 0, 0 } },     /* renamed to k9 */
	{ "k4", { 0, 20000 }, { 0, 5 }, { 0, 1 } },    /* streamed in */
	{ "k5", { 2400, 2400 }, { 6, 6 }, { 1, 1 } },
	{ "k6", { 9000, 9000 }, { 7, 7 }, { 0, 0 } },
	{ "k9", { 0, 8800 }, { 0, 4 }, { 0, 0 } },
};
#define WL_N (sizeof(wl_state) / sizeof(wl_state[0]))

/* 0: the workload below changes the store of wl_state; 1: it creates
 * the store in an empty database (wl_create). */
static int wl_mode;

static void wl_setup(rig *r)
{
	pager_txn *t;
	size_t i;

	bt_rig_new(r, 512, 16);
	if (wl_mode == 1)
		return;
	t = bt_rig_begin(r, 1);
	for (i = 0; i < WL_N; i++)
		if (wl_state[i].n[0] > 0)
			put(t, wl_state[i].key, wl_state[i].n[0],
			    wl_state[i].seed[0], wl_state[i].text[0]);
	commit(t);
	ck_assert_int_eq(bt_rig_reopen(r), RDB_OK);
}

static int wl_reader(void *arg, void *buf, size_t cap, size_t *got)
{
	size_t *left = arg, n = *left < cap ? *left : cap;
	unsigned char all[20000];

	fill(all, sizeof(all), 5, 1);
	memcpy(buf, all + (sizeof(all) - *left), n);
	*got = n;
	*left -= n;
	return 0;
}

/* Mode 1: a put and a streamed put of 70,000 bytes (two chunks) into
 * a database without a store. */
static rdb_rc wl_create(pager_txn *t)
{
	source src = { 70000, 65536 };
	unsigned char v[300];
	rdb_rc rc;

	fill(v, sizeof(v), 21, 1);
	if ((rc = kv_put(t, NULL, "n1", 2, v, sizeof(v))) != RDB_OK ||
	    (rc = kv_put_stream(t, "n2", 2, from_source, &src)) != RDB_OK)
		return rc;
	return RDB_OK;
}

/* Run the workload; the first failure's code, or RDB_OK if it
 * committed.  Every step that fails must have set a message.  *in_commit
 * tells whether it got as far as pager_commit(), whose failure may leave
 * the transaction committed or not (src/pager/pager.h). */
static rdb_rc wl_run(rig *r, int *in_commit)
{
	unsigned char v[2800], into[6000];
	kv_ctx cx = { 0 };
	pager_txn *t = NULL;
	size_t left = 20000, n;
	sink s = { 0, 0, 0 };
	void *got = NULL;
	int existed;
	rdb_rc rc;

	*in_commit = 0;
	fill(v, sizeof(v), 11, 1);
	if ((rc = pager_begin(r->p, 1, &r->err, &t)) != RDB_OK)
		return rc;
	if (wl_mode == 1) {
		if ((rc = wl_create(t)) != RDB_OK) {
			ck_assert_msg(r->err.msg[0] != '\0', "rc %d without "
				      "message", rc);
			pager_rollback(t);
			return rc;
		}
		*in_commit = 1;
		return pager_commit(t);
	}
	if ((rc = kv_get_stream(t, "k5", 2, to_sink, &s)) != RDB_OK ||
	    (rc = kv_get_into(t, &cx, "k1", 2, into, sizeof(into), &n)) ||
	    (rc = kv_put(t, &cx, "k0", 2, v, sizeof(v))) != RDB_OK ||
	    (rc = kv_delete(t, "k2", 2, &existed)) != RDB_OK ||
	    (rc = kv_rename(t, "k3", 2, "k9", 2)) != RDB_OK ||
	    (rc = kv_put_stream(t, "k4", 2, wl_reader, &left)) != RDB_OK ||
	    (rc = kv_get(t, &cx, "k0", 2, &got, &n)) != RDB_OK ||
	    (rc = kv_compact(t)) != RDB_OK ||
	    (rc = kv_verify(t, NULL)) != RDB_OK) {
		rdb_free(got);
		kv_ctx_free(&cx);
		ck_assert_msg(r->err.msg[0] != '\0', "rc %d without message",
			      rc);
		pager_rollback(t);
		return rc;
	}
	rdb_free(got);
	kv_ctx_free(&cx);
	ck_assert_uint_eq(s.n, 2400);
	ck_assert_int_eq(existed, 1);
	*in_commit = 1;
	return pager_commit(t);
}

/* The store holds exactly state st (0 before, 1 after the workload). */
static void wl_expect(rig *r, int st)
{
	pager_txn *t = bt_rig_begin(r, 0);
	rdb_pgno root = 1;
	uint64_t len;
	size_t i;

	ck_assert_int_eq(kv_verify(t, NULL), RDB_OK);
	if (wl_mode == 1 && st == 0) {
		ck_assert_int_eq(kv_index_root(t, &root), RDB_OK);
		ck_assert_uint_eq(root, 0);
	} else if (wl_mode == 1) {
		expect(t, "n1", 300, 21, 1);
		ck_assert_int_eq(kv_value_len(t, "n2", 2, &len), RDB_OK);
		ck_assert_uint_eq(len, 70000);
	}
	for (i = 0; wl_mode == 0 && i < WL_N; i++) {
		const want *w = &wl_state[i];

		if (w->n[st] > 0)
			expect(t, w->key, w->n[st], w->seed[st], w->text[st]);
		else
			ck_assert_int_eq(kv_value_len(t, w->key,
						      strlen(w->key), &len),
					 RDB_NOTFOUND);
	}
	pager_rollback(t);
}

/* Calls (os) or allocations (mem) the workload makes without faults. */
static uint64_t wl_measure(int mem)
{
	rig r;
	uint64_t n;
	int in_commit;

	wl_setup(&r);
	if (mem)
		rdb_mem_fail_at(0, 0);
	else
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(wl_run(&r, &in_commit), RDB_OK);
	n = mem ? (uint64_t)rdb_mem_count() : os_mem_calls(r.vfs);
	wl_expect(&r, 1);
	bt_rig_free(&r);
	return n;
}

/* The state (0 or 1) the store is in, judged by k0's length. */
static int wl_state_now(rig *r)
{
	pager_txn *t = bt_rig_begin(r, 0);
	uint64_t len = 0;
	rdb_rc rc = kv_value_len(t, wl_mode ? "n1" : "k0", 2, &len);

	pager_rollback(t);
	if (wl_mode == 1)
		return rc == RDB_OK;
	ck_assert_int_eq(rc, RDB_OK);
	ck_assert(len == wl_state[0].n[0] || len == wl_state[0].n[1]);
	return len == wl_state[0].n[1];
}

/* One trial: fail call (or allocation) `at` once; the workload fails
 * with that error or succeeds, and after a reopen the store is in the
 * state before or after it: after if it committed, before if it failed
 * ahead of pager_commit(), either if pager_commit() failed. */
static int wl_trial(int mem, uint64_t at)
{
	rig r;
	rdb_rc rc;
	int in_commit;

	wl_setup(&r);
	fu_arm(r.vfs, !mem, at);
	rc = wl_run(&r, &in_commit);
	fu_end(r.vfs, !mem, at, rc, r.err.msg);
	(void)bt_rig_reopen(&r);
	wl_expect(&r, rc == RDB_OK || (in_commit && wl_state_now(&r)));
	bt_rig_free(&r);
	return rc != RDB_OK;
}

/* Trials at every call for the first 400 and every few past that. */
static void wl_sweep(int mode, int mem)
{
	uint64_t n, at, step;
	long failed = 0, trials = 0;

	wl_mode = mode;
	n = wl_measure(mem);
	ck_assert_uint_gt(n, 8);
	for (at = 1; at <= n + 1; at += step) {
		step = at < 400 ? 1 : (uint64_t)(1 + 6 / tu_scale());
		failed += wl_trial(mem, at);
		trials++;
	}
	ck_assert_int_gt(failed, trials / 2);
}

START_TEST(test_kvcov_io_error_at_each_call_fails_cleanly_and_atomically)
{
	wl_sweep(0, 0);
}
END_TEST

START_TEST(test_kvcov_io_error_creating_store_fails_cleanly_and_atomically)
{
	wl_sweep(1, 0);
}
END_TEST

START_TEST(test_kvcov_nomem_creating_store_fails_cleanly_and_atomically)
{
	wl_sweep(1, 1);
}
END_TEST

START_TEST(test_kvcov_nomem_at_each_allocation_fails_cleanly_and_atomically)
{
	wl_sweep(0, 1);
}
END_TEST

Suite *kvcov_suite(void)
{
	Suite *s = suite_create("kvcov");
	TCase *tc = tcase_create("corrupt");

	tcase_add_checked_fixture(tc, cr_setup, cr_teardown);
	tcase_add_loop_test(tc, test_kvcov_damaged_meta_page_is_corrupt, 0, 5);
	tcase_add_loop_test(tc, test_kvcov_damaged_index_entry_is_corrupt, 0,
			    3);
	tcase_add_loop_test(tc, test_kvcov_index_entry_off_the_log_is_corrupt,
			    0, 3);
	tcase_add_test(tc, test_kvcov_index_entry_huge_value_is_toobig_or_range);
	tcase_add_loop_test(tc, test_kvcov_damaged_log_chain_is_corrupt, 0, 4);
	tcase_add_loop_test(tc,
			    test_kvcov_meta_counts_disagreeing_with_index_are_corrupt,
			    0, 4);
	tcase_add_test(tc, test_kvcov_empty_key_in_index_is_corrupt);
	tcase_add_test(tc,
		       test_kvcov_calls_without_a_store_find_nothing_create_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, cr_setup, cr_teardown);
	tcase_add_test(tc, test_kvcov_bad_key_lengths_are_toobig_everywhere);
	tcase_add_loop_test(tc, test_kvcov_log_tail_of_another_kind_stops_appends,
			    0, 4);
	tcase_add_test(tc, test_kvcov_damaged_entry_or_meta_stops_changes);
	tcase_add_test(tc,
		       test_kvcov_copy_to_smaller_pages_with_long_key_is_toobig);
	tcase_add_test(tc, test_kvcov_record_longer_than_its_chain_is_corrupt);
	tcase_add_test(tc,
		       test_kvcov_compressed_record_too_big_for_memory_is_toobig);
	tcase_add_test(tc, test_kvcov_key_on_next_page_unreadable_or_ioerr);
	tcase_add_test(tc,
		       test_kvcov_verify_pages_seen_twice_or_past_end_are_corrupt);
	tcase_add_test(tc, test_kvcov_index_key_over_store_limit_is_corrupt);
	tcase_add_loop_test(tc, test_kvcov_compaction_refuses_damaged_chain_end,
			    0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("zstd");
	tcase_add_loop_test(tc,
		test_kvcov_bad_compressed_bytes_with_good_checksum_are_corrupt,
		0, 5);
	tcase_add_test(tc, test_kvcov_more_contexts_than_the_pool_keeps_all_work);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_test(tc, test_kvcov_put_stream_reader_overrun_is_misuse);
	tcase_add_test(tc,
		       test_kvcov_get_stream_writer_stop_on_compressed_is_interrupt);
	suite_add_tcase(s, tc);

	tc = tcase_create("ahead");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc,
		test_kvcov_batch_ahead_out_of_order_or_without_memory_stores_all,
		0, 6);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc,
		       test_kvcov_io_error_at_each_call_fails_cleanly_and_atomically);
	tcase_add_test(tc,
		       test_kvcov_nomem_at_each_allocation_fails_cleanly_and_atomically);
	tcase_add_test(tc,
		       test_kvcov_io_error_creating_store_fails_cleanly_and_atomically);
	tcase_add_test(tc,
		       test_kvcov_nomem_creating_store_fails_cleanly_and_atomically);
	suite_add_tcase(s, tc);
	return s;
}
