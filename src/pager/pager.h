/*
 * pager.h -- fixed-size pages of one database file: an LRU buffer pool,
 * snapshot transactions, atomic commit through a write-ahead log, free
 * pages, checkpoints.
 *
 * Layer:  pager.  May include os.h, format.h, err.h, mem.h, rdb.h.
 *         Used by btree and kv (and tests).
 * Contract:
 *   - Page 0 is the database header and belongs to the pager; upper layers
 *     use pages 1 .. page_count-1, reach the header only through anchors.
 *   - Each page's bytes [0, 8) hold its checksum and belong to the pager;
 *     byte 8 is the page type and bytes 9 .. page_size-1 belong to the
 *     layer that allocated the page (see format.h).
 *   - A transaction (pager_txn) is used by one thread at a time.  Any
 *     number of read transactions and at most one write transaction run at
 *     once, from any threads.  A read transaction sees the snapshot that
 *     was committed (under FULL: made durable) when it began; a write
 *     transaction sees the latest commit plus its own changes.
 *   - pager_get() pins a page until pager_unref().  pager_data() is
 *     borrowed: valid while the page is pinned.  A page from pager_get() is
 *     read-only; pager_write() swaps the handle for the transaction's
 *     private, writable copy.  Every page must be unpinned before the
 *     transaction commits or rolls back.
 *   - Fallible calls return rdb_rc.  On failure out-params are NULL/0 and
 *     the reason is in the rdb_err given to pager_begin() (or to the call).
 *     Nothing here prints, exits or aborts (asserts excepted).
 *   - Bytes read from the files are untrusted: a bad checksum, an
 *     out-of-range page number or an inconsistent free list is RDB_CORRUPT
 *     naming the page.
 *   - After an I/O error whose outcome is unknown (a failed sync, a failed
 *     write of committed frames) the pager refuses further writes with the
 *     original code; close and reopen to recover the last committed state.
 * Design and invariants: src/pager/README.md.  Bytes: docs/format.md.
 */
#ifndef RDB_PAGER_H
#define RDB_PAGER_H
#include <stdint.h>
#include "rdb.h"
#include "err.h"
#include "pager/os.h"

typedef uint32_t rdb_pgno;
typedef struct pager pager;            /* opaque */
typedef struct pager_txn pager_txn;    /* opaque */
typedef struct pager_page pager_page;  /* opaque; a pinned page */

/* Durability of a commit. */
typedef enum pager_sync {
	PAGER_SYNC_OFF = 0,    /* visible in memory; WAL written later */
	PAGER_SYNC_NORMAL = 1, /* WAL written at commit, fsync at checkpoint */
	PAGER_SYNC_FULL = 2    /* WAL fsynced before commit returns */
} pager_sync;

typedef struct pager_opts {
	uint32_t page_size;       /* new database only; 0 = 4096 */
	uint32_t cache_pages;     /* buffer-pool frames; 0 = 2000, min 16 */
	pager_sync sync;          /* default PAGER_SYNC_FULL */
	uint32_t busy_timeout_ms; /* wait for the write lock; default 5000 */
	uint32_t ckpt_frames;     /* auto-checkpoint past this; 0 = 1000 */
	int readonly;             /* no writes, no checkpoint, WAL kept */
	int create;               /* create the file when it is missing */
} pager_opts;

typedef struct pager_stats {
	uint64_t hits;         /* page requests served from the pool */
	uint64_t misses;       /* page requests that read a file */
	uint64_t evictions;    /* frames reused for another page */
	uint64_t spills;       /* uncommitted pages written to the WAL */
	uint64_t wal_frames;   /* frames appended to the WAL */
	uint64_t checkpoints;  /* checkpoints that copied pages */
	uint64_t commits;      /* write transactions committed */
	uint64_t syncs;        /* fsyncs of the WAL or the database file */
	uint32_t page_size;
	uint32_t cache_pages;
	uint32_t page_count;   /* latest commit */
	uint32_t free_pages;   /* latest commit */
	uint32_t wal_frames_now; /* frames in the WAL not yet reset */
} pager_stats;

/* Defaults: page 4096, 2000 frames, FULL, 5000 ms, 1000 frames, create. */
void pager_opts_default(pager_opts *o);

/* ---- open / close ---------------------------------------------------- */

/*
 * Open (or create, with o->create) the database at path through vfs and
 * recover its WAL.  A missing or empty file becomes a new database (not
 * allowed read-only).  Errors: RDB_CANTOPEN, RDB_BUSY (another open file
 * holds the lock), RDB_NOTADB, RDB_CORRUPT, RDB_IOERR, RDB_NOMEM,
 * RDB_MISUSE (bad options).  On RDB_OK the caller owns *out and frees it
 * with pager_close().  vfs and err are borrowed and must outlive *out; err
 * also receives errors of pager_close() and pager_checkpoint().
 */
rdb_rc pager_open(os_vfs *vfs, const char *path, const pager_opts *o,
		  rdb_err *err, pager **out);

/*
 * Checkpoint everything, remove the WAL and free p.  Every transaction
 * must have ended, else RDB_MISUSE and nothing is done.  Otherwise p is
 * freed and the checkpoint's error, if any, is returned (the WAL is then
 * kept and replayed at the next open).  NULL is a no-op returning RDB_OK.
 */
rdb_rc pager_close(pager *p);

uint32_t pager_page_size(const pager *p);
/* The file system p was opened through (borrowed, as given to
 * pager_open()): upper layers open their private temporary files with it
 * (the sql sorter's spill file, src/sql/README.md "Sorting"). */
os_vfs *pager_vfs(const pager *p);
void pager_get_stats(pager *p, pager_stats *out);
/*
 * Ask for a buffer pool of n frames (at least 16, at most 2^24 and 2^40
 * bytes; 0 = the default of 2000).  The pool is rebuilt (its cached pages
 * dropped) at the first moment no transaction is open and no frame is in
 * use by a checkpoint: at once when the pager is idle, else when the last
 * open transaction ends.  Without memory for the new pool the old one
 * stays and the request is dropped.  pager_cache_size() is the size asked
 * for while a request waits, else the pool's.
 */
void pager_set_cache(pager *p, uint32_t n);
uint32_t pager_cache_size(pager *p);
/* Change the durability of later commits. */
void pager_set_sync(pager *p, pager_sync s);
pager_sync pager_get_sync(pager *p);

/*
 * Copy every committed frame no live reader still needs into the database
 * file, and reset the WAL when all of it is copied.  Waits for the write
 * lock like a writer (RDB_BUSY after the busy timeout).
 */
rdb_rc pager_checkpoint(pager *p);

/* ---- transactions ---------------------------------------------------- */

/*
 * Begin a read (write == 0) or write transaction.  A second writer waits up
 * to the busy timeout, then RDB_BUSY.  RDB_READONLY for a write on a
 * read-only pager.  err is borrowed until the transaction ends and receives
 * every error of calls made on it.  On RDB_OK the caller owns *out and ends
 * it with pager_commit() or pager_rollback().
 */
rdb_rc pager_begin(pager *p, int write, rdb_err *err, pager_txn **out);

/*
 * Make the write transaction's changes durable (per the sync level) and
 * visible, then end it.  A read transaction just ends.  On failure nothing
 * of the transaction is applied (if the outcome is unknown, see the
 * contract above) and t is ended all the same.
 */
rdb_rc pager_commit(pager_txn *t);

/* Discard the transaction's changes and end it.  NULL is a no-op. */
void pager_rollback(pager_txn *t);

int pager_txn_is_write(const pager_txn *t);
/* The pager t belongs to, and the rdb_err given to pager_begin(). */
pager *pager_txn_pager(const pager_txn *t);
rdb_err *pager_txn_err(const pager_txn *t);
/* Counts the transaction's page changes (every pager_write, pager_alloc
 * and pager_free_page call, successful or not).  A cursor that remembers
 * it can tell that pages it holds may be stale. */
uint64_t pager_txn_version(const pager_txn *t);
/* The committed write transactions visible to t when it began: two
 * transactions with the same number saw the same database. */
uint64_t pager_txn_snapshot(const pager_txn *t);
/* Pages in the transaction's snapshot, including page 0. */
rdb_pgno pager_txn_page_count(const pager_txn *t);
/* Free pages in the transaction's snapshot. */
uint32_t pager_txn_free_count(const pager_txn *t);

/* ---- savepoints ------------------------------------------------------ *
 * Nested savepoints inside a write transaction (statement atomicity, SQL
 * SAVEPOINT / RELEASE / ROLLBACK TO).  Savepoint ids count the nesting
 * depth: the outermost open one is 1, the innermost is the number open.
 *   - Rolling back to a savepoint restores everything the transaction
 *     changed since it began: page bytes, allocations and frees (free
 *     list, page count), anchors; pager_txn_version() moves on.  Nothing
 *     on disk or visible to readers changes.  Cost: proportional to the
 *     pages changed since the savepoint; the bytes kept for them are in
 *     memory.
 *   - After pager_savepoint(), a page must go through pager_write() again
 *     before it is changed, even if it was already writable.  A page still
 *     pinned across pager_savepoint_rollback() is stale: unpin it
 *     (pager_write() on it is RDB_MISUSE).
 *   - Commit releases every savepoint; pager_rollback() discards them.
 *   - RDB_NOMEM from any call leaves a state that rolling back to an open
 *     savepoint (or pager_rollback()) undoes.  If pager_savepoint_rollback()
 *     itself fails (no memory or an I/O error while re-creating pages in a
 *     full buffer pool), every later change and commit fail with its code:
 *     the transaction can only be rolled back.
 * Design: src/pager/README.md, "Savepoints".
 */

/* Open a savepoint nested in those open; *out gets its id.  On failure
 * nothing changes.  RDB_MISUSE in a read transaction. */
rdb_rc pager_savepoint(pager_txn *t, uint32_t *out);

/* Close savepoint id and those inside it, keeping their changes (they
 * now belong to the enclosing savepoint, if any).  RDB_MISUSE if id is
 * not open. */
rdb_rc pager_savepoint_release(pager_txn *t, uint32_t id);

/* Undo every change made since savepoint id began and close the
 * savepoints inside it; id itself stays open (as SQL ROLLBACK TO), so it
 * can be rolled back again or released.  RDB_MISUSE if id is not open. */
rdb_rc pager_savepoint_rollback(pager_txn *t, uint32_t id);

/* ---- pages ----------------------------------------------------------- */

/* Pin page pgno (1 .. page_count-1) of t's snapshot into *out. */
rdb_rc pager_get(pager_txn *t, rdb_pgno pgno, pager_page **out);

/* As pager_get(), but a page whose checksum fails is still returned, with
 * *intact = 0, for a layer that checks finer-grained records itself (the
 * KV log).  Such a page stays suspect: pager_get() refuses it. */
rdb_rc pager_get_lenient(pager_txn *t, rdb_pgno pgno, pager_page **out,
			 int *intact);

/*
 * Read pages first, first+1, .. (at most n) of t's snapshot straight from
 * the database file into buf (n * page_size bytes), past the buffer pool
 * and without verifying their checksums: for a layer whose records carry
 * their own checksums (the KV log), so a page's bytes are only as trusted
 * as pager_get_lenient()'s.  Only the leading run of pages whose version
 * for t is the database file's copy and that the pool does not hold is
 * read: the run ends before the first page that t sees in the WAL or as
 * its own uncommitted copy, that the pool holds (cheaper from there), or
 * that lies past the snapshot's last page.  *got gets the number of pages
 * read (0 .. n; page first + i is at buf + i * page_size); the caller
 * reads the page after them with pager_get_lenient().  Errors: RDB_IOERR,
 * RDB_CORRUPT (the file ends before the run does).
 */
rdb_rc pager_read_run(pager_txn *t, rdb_pgno first, uint32_t n,
		      unsigned char *buf, uint32_t *got);

/*
 * Make *pg writable within write transaction t: *pg is replaced by t's
 * private copy (the old handle is unpinned; the new one is pinned).  Data
 * pointers taken before the call must be fetched again.
 */
rdb_rc pager_write(pager_txn *t, pager_page **pg);

/* Allocate a page (reusing a free page before growing the file), zeroed
 * but for its type byte, writable and pinned into *out. */
rdb_rc pager_alloc(pager_txn *t, uint8_t type, pager_page **out);

/* Return page pgno (unpinned) to the free list. */
rdb_rc pager_free_page(pager_txn *t, rdb_pgno pgno);

/* Unpin.  NULL is a no-op. */
void pager_unref(pager_page *pg);
unsigned char *pager_data(pager_page *pg);   /* borrowed, see contract */
rdb_pgno pager_pgno(const pager_page *pg);

/* Anchors: FMT_N_ANCHORS 64-bit values in the header for upper layers. */
uint64_t pager_anchor(const pager_txn *t, unsigned idx);
rdb_rc pager_set_anchor(pager_txn *t, unsigned idx, uint64_t value);

/*
 * Walk t's free list: calls fn(arg, pgno, is_trunk) for every free page
 * and checks the list's consistency (range, no repeats, count matches the
 * header).  RDB_CORRUPT on a bad list; stops early if fn returns nonzero.
 */
rdb_rc pager_freelist_walk(pager_txn *t,
			   int (*fn)(void *arg, rdb_pgno pgno, int is_trunk),
			   void *arg);

#ifndef NDEBUG
int pager_check(pager *p);     /* internal invariants; for assert() only */
#endif

#endif /* RDB_PAGER_H */
