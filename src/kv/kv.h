/*
 * kv.h -- the append-only key-value blob store inside the database file:
 * records (checksummed, zstd-compressed when that saves space) appended to
 * a chain of log pages, and a B+ tree index from key to record.
 *
 * Layer:  kv.  May include btree/btree.h, pager/pager.h, format.h, err.h,
 *         mem.h, rdb.h.  Used by table and api.
 * Contract:
 *   - Every call runs inside the caller's pager transaction and sees its
 *     snapshot; changes need a write transaction.  Errors are recorded in
 *     the transaction's rdb_err.  A failed change (other than
 *     RDB_NOTFOUND, RDB_TOOBIG, RDB_MISUSE, reported before anything
 *     changes) leaves the transaction fit only for rollback.
 *   - The store is found through header anchor FMT_ANCHOR_KV and created by
 *     the first change.  Keys: 1 .. kv_max_key() bytes.
 *   - Bytes of log pages are untrusted: each record carries its own
 *     checksum, so a damaged record is RDB_CORRUPT naming its key and page
 *     while other records stay readable.
 * Design: src/kv/README.md.  Bytes: docs/format.md ("KV store").
 */
#ifndef RDB_KV_H
#define RDB_KV_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "pager/pager.h"

/* Keys are at most this long whatever the page size (and at most what
 * the index tree takes; kv_max_key() gives the limit). */
#define KV_KEY_MAX 1024u

/* Key namespaces: the first byte of every key as the api and table layers
 * store it (format.h's FMT_KV_NS_*, repeated here for callers that do not
 * read bytes on disk).  Users' keys (rdb_kv_*) go behind KV_NS_USER and
 * the system tables' rows behind KV_NS_SYS; the store itself treats keys
 * as bytes, except that it keeps separate statistics for KV_NS_USER. */
#define KV_NS_USER 0x75u      /* 'u' */
#define KV_NS_SYS 0x73u       /* 's' */

/* Values are pulled from / pushed to callbacks in chunks of this size. */
#define KV_CHUNK 65536u
/* Largest value kv_put() takes from memory (streams take any size). */
#define KV_MAX_PUT (1u << 30)

typedef struct kv_stats {
	uint64_t live_keys;
	uint64_t live_bytes;
	uint64_t dead_bytes;
	uint64_t saved_bytes;
} kv_stats;

/* Pull callback: fill buf (cap bytes) and set *got; 0 at the end.
 * Non-zero return aborts with RDB_INTERRUPT. */
typedef int (*kv_reader)(void *arg, void *buf, size_t cap, size_t *got);
/* Push callback; non-zero return stops with RDB_INTERRUPT. */
typedef int (*kv_writer)(void *arg, const void *buf, size_t n);

/* Reusable compression state and scratch memory for a caller that makes
 * many calls (one per connection).  Zero-initialise; free with
 * kv_ctx_free().  Calls that take one accept NULL (then they make their
 * own, more slowly).  Not shared between threads. */
typedef struct kv_ahead kv_ahead;
typedef struct kv_ctx {
	void *cz;                 /* owned ZSTD_CCtx */
	void *dz;                 /* owned ZSTD_DCtx */
	unsigned char *buf;       /* owned scratch */
	size_t cap;
	unsigned char *run;       /* owned: log pages read in runs */
	size_t run_cap;
	kv_ahead *ahead;          /* owned: a batch's, see kv_ahead_begin() */
} kv_ctx;
void kv_ctx_free(kv_ctx *cx);

/*
 * A batch: the caller is about to kv_put() the values of ops[0..n) (the
 * puts among them) through cx, in this order.  For a batch with enough to
 * compress, a helper thread compresses its values ahead while the caller
 * appends, and kv_put() takes the results (the stored bytes are the same
 * as without).  ops and the values are borrowed until kv_ahead_end(cx),
 * which the caller must call (on failure too) before it changes or frees
 * them, and before cx is used by another thread.  Never fails: without
 * memory or a thread the batch is compressed by the caller as usual.
 */
void kv_ahead_begin(kv_ctx *cx, const rdb_kv_op *ops, size_t n);
void kv_ahead_end(kv_ctx *cx);            /* no-op without a batch */

size_t kv_max_key(const pager_txn *t);

rdb_rc kv_put(pager_txn *t, kv_ctx *cx, const void *key, size_t klen,
	      const void *val, size_t vlen);
rdb_rc kv_put_stream(pager_txn *t, const void *key, size_t klen,
		     kv_reader read, void *arg);

/* RDB_NOTFOUND if missing; else *vlen = the value's length. */
rdb_rc kv_value_len(pager_txn *t, const void *key, size_t klen,
		    uint64_t *vlen);
/* Push the value to write in chunks; the record's checksum is verified
 * at the end (RDB_CORRUPT after the chunks if it fails). */
rdb_rc kv_get_stream(pager_txn *t, const void *key, size_t klen,
		     kv_writer write, void *arg);
/* The value into a new buffer (caller frees with rdb_free), verified. */
rdb_rc kv_get(pager_txn *t, kv_ctx *cx, const void *key, size_t klen,
	      void **val, size_t *vlen);
/* The value into buf (cap bytes), verified; *vlen gets its length, and
 * RDB_RANGE (nothing read) if it does not fit. */
rdb_rc kv_get_into(pager_txn *t, kv_ctx *cx, const void *key, size_t klen,
		   void *buf, size_t cap, size_t *vlen);

/* *existed (may be NULL) tells whether key was stored. */
rdb_rc kv_delete(pager_txn *t, const void *key, size_t klen, int *existed);
rdb_rc kv_rename(pager_txn *t, const void *from, size_t flen,
		 const void *to, size_t tlen);
/* Copy key's record from src's snapshot into write transaction dst (of
 * another database) as stored (no recompression). */
rdb_rc kv_copy(pager_txn *src, pager_txn *dst, const void *key,
	       size_t klen);

/* Rewrite the live records into a new log and free the old one. */
rdb_rc kv_compact(pager_txn *t);
/* Compact if dead bytes exceed the live ones (and the store is not tiny). */
rdb_rc kv_maybe_compact(pager_txn *t);
/* Statistics of the whole store (every namespace; dead bytes include
 * tombstones). */
rdb_rc kv_get_stats(pager_txn *t, kv_stats *out);
/* The same for the keys of the user namespace only: live keys, their
 * bytes and savings, and the dead bytes their replaced and deleted
 * records and tombstones left (zero again after a compaction). */
rdb_rc kv_get_user_stats(pager_txn *t, kv_stats *out);

/* The index tree's root (0 if the store does not exist yet): keys map to
 * records; iterate it with bt_* cursors for prefix scans. */
rdb_rc kv_index_root(pager_txn *t, rdb_pgno *root);

/* Check every record and the index against each other (used by tests and
 * the integrity check); RDB_CORRUPT with the first problem. */
rdb_rc kv_verify(pager_txn *t, unsigned char *seen);

#endif /* RDB_KV_H */
