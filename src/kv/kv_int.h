/*
 * kv_int.h -- layouts and helpers shared by the KV store's own files
 * (log.c: the record log; kv.c: the store).  Not for other modules.
 * Bytes: docs/format.md ("KV store"); design: src/kv/README.md.
 */
#ifndef RDB_KV_INT_H
#define RDB_KV_INT_H
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include "kv/kv.h"
#include "format.h"

/* ---- meta page (type FMT_PT_KV_META), found through FMT_ANCHOR_KV ---- */
#define KV_META_VERSION 16u   /* u32 1 */
#define KV_META_INDEX 20u     /* u32 index tree root */
#define KV_META_HEAD 24u      /* u32 first log page */
#define KV_META_TAIL 28u      /* u32 last log page */
#define KV_META_TAIL_OFF 32u  /* u32 bytes used in the last log page */
#define KV_META_LIVE_KEYS 40u /* u64 */
#define KV_META_LIVE 48u      /* u64 bytes of live records */
#define KV_META_DEAD 56u      /* u64 bytes of dead records and tombstones */
#define KV_META_SAVED 64u     /* u64 bytes compression saves (live) */
/* The same four counts for the keys of the user namespace (KV_NS_USER). */
#define KV_META_U_LIVE_KEYS 72u
#define KV_META_U_LIVE 80u
#define KV_META_U_DEAD 88u
#define KV_META_U_SAVED 96u

/* ---- log page (type FMT_PT_KV): a stream of record bytes ------------- */
#define KV_LOG_NEXT 16u       /* u32 next log page, 0 = last */
#define KV_LOG_DATA 24u       /* record bytes from here to the page end */

/* ---- record ------------------------------------------------------------ */
#define KV_REC_CKSUM 0u       /* u64 XXH3-64 of key, value, bytes [8,32) */
#define KV_REC_FLAGS 8u       /* u8 */
#define KV_REC_KLEN 10u       /* u16 */
#define KV_REC_STORED 16u     /* u64 value bytes that follow the key */
#define KV_REC_RAW 24u        /* u64 value length before compression */
#define KV_REC_HDR 32u
#define KV_F_TOMBSTONE 0x1u
#define KV_F_ZSTD 0x2u

/* ---- index entry (the B+ tree value) --------------------------------- */
#define KV_IX_PGNO 0u         /* u32 page of the record's first byte */
#define KV_IX_OFF 4u          /* u32 offset in that page */
#define KV_IX_LEN 8u          /* u64 record length in bytes */
#define KV_IX_RAW 16u         /* u64 value length before compression */
#define KV_IX_SIZE 24u

/* Where a record is and what the index says of it. */
typedef struct kv_loc {
	rdb_pgno pgno;
	uint32_t off;
	uint64_t len;
	uint64_t raw;
} kv_loc;

/* Live keys, live record bytes, dead bytes, bytes compression saves. */
typedef struct kv_count {
	uint64_t live_keys, live, dead, saved;
} kv_count;

typedef struct kv_meta {
	rdb_pgno self;
	rdb_pgno index, head, tail;
	uint32_t tail_off;
	kv_count all;             /* every key */
	kv_count user;            /* keys of the user namespace */
} kv_meta;

/* ---- zip.c: compression ------------------------------------------------ */

/* Values shorter than this are stored as they are. */
#define KV_COMPRESS_MIN 128u
/* zstd's fast strategy with acceleration 7 (a negative level) and matches
 * of at least 7 bytes: about half the size of text, compressed and
 * decompressed about a third faster than level 1, which shrank text twice
 * as much but made puts and gets wait for zstd (docs/benchmarks.md). */
#define KV_ZSTD_LEVEL (-7)
#define KV_ZSTD_MIN_MATCH 7
/* Values of two samples or more are tried on their first KV_SAMPLE bytes,
 * which must shrink by 1/16 for the rest to be compressed. */
#define KV_SAMPLE 4096u

/* A ZSTD_CCtx with the store's parameters (give it back with kv_cz_free()),
 * or NULL without memory. */
void *kv_cz_new(void);
/* Give back a context of kv_cz_new() (NULL-safe); the same pair for
 * decompression contexts (ZSTD_DCtx).  Contexts are pooled (zip.c). */
void kv_cz_free(void *cz);
void *kv_dz_new(void);
void kv_dz_free(void *dz);
/* Bytes kv_zip() may write for a value of vlen bytes. */
size_t kv_zip_bound(size_t vlen);
/* The stored form of val into buf (cap >= kv_zip_bound(vlen)) with cz:
 * its length, or 0 if the value is to be stored as it is. */
size_t kv_zip(void *cz, unsigned char *buf, size_t cap, const void *val,
	      size_t vlen);
/* If val is the next value of cx's batch (kv_ahead_begin()), its stored
 * form: 1 with *out (NULL: store it as it is; else borrowed until the next
 * call on cx) and *n; 0 if the caller must compress it itself. */
int kv_ahead_take(kv_ctx *cx, const void *val, size_t vlen,
		  const unsigned char **out, size_t *n);

/* ---- log.c: appending ------------------------------------------------- */

/* Appends bytes at the end of the log of meta m (write transaction). */
typedef struct kv_app {
	pager_txn *t;
	kv_meta *m;               /* borrowed: tail fields advance */
	pager_page *pg;           /* pinned, writable tail page */
} kv_app;

rdb_rc kv_app_begin(kv_app *a, pager_txn *t, kv_meta *m);
/* Where the next byte goes (a new page if the tail is full). */
rdb_rc kv_app_pos(kv_app *a, rdb_pgno *pgno, uint32_t *off);
rdb_rc kv_app_write(kv_app *a, const void *buf, size_t n);
void kv_app_end(kv_app *a);
/* Overwrite n bytes at (pgno, off) of this transaction's log (the header
 * of a streamed record, written once its lengths are known). */
rdb_rc kv_log_patch(pager_txn *t, rdb_pgno pgno, uint32_t off,
		    const void *buf, size_t n);

/* ---- log.c: reading ---------------------------------------------------- */

/*
 * Reads a record's bytes, following the log pages from its first byte.
 * Pages come through the pool one at a time, or, given a run buffer, in
 * runs of consecutive pages read from the database file with one call
 * (pager_read_run(): only pages whose snapshot version is the file's; the
 * others still come through the pool).  Either way every page's type is
 * checked and its link followed; page checksums are not checked, the
 * record's checksum is (kv_rec_close()).
 */
typedef struct kv_rd {
	pager_txn *t;
	rdb_pgno pgno;            /* page of the next byte */
	uint32_t off;
	uint32_t pages;           /* log pages left to visit (loop bound) */
	uint32_t want;            /* pages of the record from pgno on */
	unsigned char *run;       /* borrowed, run_cap pages; NULL: pool only */
	uint32_t run_cap;
	rdb_pgno run_first;       /* run holds pages run_first .. + run_n - 1 */
	uint32_t run_n;
} kv_rd;

/* Read runs only for records of this many pages or more: a record on one
 * or two pages is as quick from the pool, which also keeps it cached. */
#define KV_RUN_MIN_PAGES 3u
/* A run buffer holds at most this many bytes (and at least 2 pages). */
#define KV_RUN_BYTES (256u << 10)

rdb_rc kv_rd_begin(kv_rd *r, pager_txn *t, rdb_pgno pgno, uint32_t off,
		   uint64_t len);
rdb_rc kv_rd_read(kv_rd *r, void *buf, size_t n);
/* Log pages the record at loc touches (for sizing a run buffer). */
uint64_t kv_rec_pages(const pager_txn *t, const kv_loc *loc);

/* A record being read: header parsed, key checked, checksum running. */
typedef struct kv_rec {
	kv_rd rd;
	XXH3_state_t sum;
	unsigned char hdr[KV_REC_HDR];
	uint32_t flags;
	uint64_t stored, raw, left;   /* left: stored bytes not yet read */
	const void *key;          /* borrowed from kv_rec_open*() */
	size_t klen;
	rdb_pgno first;           /* page of the record's first byte */
} kv_rec;

/* Open the record at loc and check that it is key's (RDB_CORRUPT naming
 * the key and page if not). */
rdb_rc kv_rec_open(kv_rec *r, pager_txn *t, const kv_loc *loc,
		   const void *key, size_t klen);
/* The same, reading pages in runs through run (borrowed until the record
 * is closed; run_pages pages of the database's size; NULL: as
 * kv_rec_open()). */
rdb_rc kv_rec_open_run(kv_rec *r, pager_txn *t, const kv_loc *loc,
		       const void *key, size_t klen, unsigned char *run,
		       uint32_t run_pages);
/* Read the next up to n stored bytes; *got gets the count. */
rdb_rc kv_rec_read(kv_rec *r, void *buf, size_t n, size_t *got);
/* After every stored byte was read: verify the checksum. */
rdb_rc kv_rec_close(kv_rec *r, const kv_loc *loc, const void *key,
		    size_t klen);

/* A printable form of a key for messages (static per thread); a key of
 * the user namespace is shown as its user sees it, without KV_NS_USER. */
const char *kv_key_text(const void *key, size_t klen);

#endif /* RDB_KV_INT_H */
