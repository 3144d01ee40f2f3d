/*
 * pager_int.h -- structures shared by the pager's own files (pager.c,
 * pool.c, wal.c, freelist.c, direct.c, checkpoint.c, savepoint.c).  Not for
 * other modules: they see pager.h.
 * Design, locking order and invariants: src/pager/README.md.
 */
#ifndef RDB_PAGER_INT_H
#define RDB_PAGER_INT_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "pager/pager.h"
#include "format.h"

/* A page version: 0 = the database file's copy, 1.. = the WAL frame with
 * that sequence number (fseq), VER_PRIVATE = the writer's private copy. */
#define VER_DB 0ull
#define VER_PRIVATE UINT64_MAX
/* The writer's snapshot: every frame, committed or its own. */
#define SNAP_ALL (UINT64_MAX - 1)

enum { FR_FREE = 0, FR_LOADING, FR_READY };
enum { L_NONE = 0, L_FREE, L_CLEAN, L_DIRTY };

/* A buffer-pool frame.  pager_page is its public name.  The fields a
 * cache hit touches come first, in one cache line. */
struct pager_page {
	rdb_pgno pgno;            /* key, with ver */
	uint32_t pin;             /* pins; the frame is on no list while > 0 */
	uint64_t ver;
	pager_page *hnext;        /* hash chain */
	pager_page *prev, *next;  /* free list / dirty LRU list */
	unsigned char *data;      /* borrowed from pool->mem */
	pager *p;                 /* borrowed: owning pager */
	uint8_t state;            /* FR_* */
	uint8_t list;             /* L_*: which list it is on */
	uint8_t in_hash;
	uint8_t suspect;          /* loaded with a failing checksum */
	uint8_t ref;              /* clock: uses banked (pool.c, REF_MAX) */
	rdb_rc load_rc;           /* result of the load, for waiters */
	pager_page *dprev, *dnext;/* the writer's dirty list */
	pthread_mutex_t latch;    /* held by the loading thread while LOADING */
};

typedef struct frame_list {
	pager_page *head, *tail;  /* head = most recently used */
	uint32_t n;
} frame_list;

typedef struct pool {
	uint32_t n_frames;
	uint32_t page_size;
	unsigned char *mem_raw;   /* owned: the allocation */
	unsigned char *mem;       /* n_frames * page_size inside mem_raw */
	pager_page *frames;       /* owned: n_frames */
	pager_page **hash;        /* owned: n_buckets heads */
	uint32_t hash_mask;
	frame_list free, dirty;   /* linked lists */
	frame_list clean;         /* only n: clean unpinned frames (clock) */
	uint32_t hand;            /* clock hand: next frame to look at */
	uint32_t n_private;       /* frames with ver == VER_PRIVATE */
	uint32_t max_private;     /* spill beyond this */
} pool;

/* The decoded header page (page 0). */
typedef struct hdr {
	uint32_t page_count;
	uint32_t free_head;
	uint32_t free_count;
	uint64_t change;
	uint64_t db_id;
	uint64_t anchors[FMT_N_ANCHORS];
} hdr;

/* The write-ahead log and its in-memory index (slot = frame position in
 * the current generation; fseq = gen_base + slot + 1). */
typedef struct wal {
	os_file *f;               /* owned; NULL until the WAL file exists */
	char *path;               /* owned */
	int hdr_pending;          /* the file's header is invalid: rewrite */
	uint32_t gen;
	uint64_t salt;
	uint64_t hdr_cksum;
	uint64_t gen_base;
	uint32_t n;               /* slots holding frames (incl. uncommitted) */
	uint32_t n_committed;     /* slots up to and incl. the last commit */
	uint32_t n_backfilled;    /* slots copied into the database file */
	uint32_t cap;
	uint32_t *slot_pgno;      /* owned, cap */
	uint32_t *slot_prev;      /* owned, cap: previous slot of pgno + 1 */
	uint64_t *slot_cksum;     /* owned, cap: chain value after the slot */
	uint32_t *map_key;        /* owned: open addressing pgno -> head */
	uint32_t *map_val;        /* slot + 1, 0 = none */
	uint32_t map_cap;         /* power of two */
	uint32_t map_used;
	unsigned char *buf;       /* owned: frames being written */
	size_t buf_cap;
	/* Under PAGER_SYNC_OFF frames wait in memory: slots [n_written, n)
	 * are in pend, not yet in the file (readers copy them under mu). */
	uint32_t n_written;
	unsigned char *pend;      /* owned */
	size_t pend_len, pend_cap;
} wal;

typedef struct sp_state sp_state;  /* savepoint.c */

struct pager_txn {
	pager *p;
	rdb_err *err;             /* borrowed */
	int write;
	uint64_t mx;              /* snapshot: newest fseq visible */
	uint64_t version;         /* page changes so far */
	hdr h;                    /* header as of the snapshot (+ changes) */
	hdr h_begin;              /* writer: the header when it began */
	uint32_t base_pages;      /* writer: page count when it began; pages
				   * from here on are fresh (no snapshot has
				   * them) and go straight to the file */
	int wrote_db;             /* writer: fresh pages already written */
	pager_page *dirty;        /* writer: private frames (dnext list) */
	uint32_t n_dirty;
	uint32_t n_sp;            /* writer: savepoints open (0: no journal) */
	sp_state *sp;             /* owned: savepoint journal, NULL until the
				   * first savepoint */
	pager_txn *rprev, *rnext; /* registry of live transactions */
};

struct pager {
	os_vfs *vfs;              /* borrowed */
	rdb_err *err;             /* borrowed: open/close/checkpoint errors */
	char *path;               /* owned */
	os_file *db;              /* owned */
	uint32_t page_size;
	pager_opts opts;
	_Atomic int sync;         /* pager_sync */
	pool pool;
	uint32_t cache_want;      /* under mu: frames asked for by
				     pager_set_cache() and not yet given
				     (the pool is rebuilt when idle), 0 */
	wal wal;

	pthread_mutex_t mu;       /* pool, wal index, registry, visible */
	pthread_rwlock_t restart_lock; /* readers of WAL slots vs. restart */
	pthread_mutex_t wr_mu;    /* the write lock */
	pthread_cond_t wr_cond;
	int writer_active;
	pthread_mutex_t sync_mu;  /* group commit */
	pthread_cond_t sync_cond;
	int sync_running;
	uint64_t written_fseq;    /* newest commit written to the WAL */
	uint64_t durable_fseq;    /* newest commit known to be synced */
	uint64_t n_written;       /* commits written to the WAL (ever) */
	uint64_t n_synced;        /* of which a leader's sync covered */
	uint64_t last_group;      /* commits the last leader's sync covered */

	uint64_t visible_fseq;    /* snapshot given to new readers */
	pager_txn *live;          /* registry of live transactions */
	uint32_t n_live;
	_Atomic int broken;       /* rdb_rc that poisoned writes, or 0 */
	unsigned char *run_buf;   /* owned: direct.c's write buffer */
	int db_unsynced;          /* fresh pages written since the database
				   * file's last sync (write lock held) */
	int db_has_header;        /* the file holds a header page: only then
				   * may fresh pages go there directly */
	int is_new;               /* no header anywhere yet */
	uint64_t db_id;           /* the header's database id (for the WAL) */

	_Atomic uint64_t st_hits, st_misses, st_evictions, st_spills;
	_Atomic uint64_t st_wal_frames, st_checkpoints, st_commits, st_syncs;
	uint32_t st_page_count, st_free_pages;   /* under mu */
};

/* ---- small helpers ---------------------------------------------------- */
static inline void lock(pthread_mutex_t *m) { pthread_mutex_lock(m); }
static inline void unlock(pthread_mutex_t *m) { pthread_mutex_unlock(m); }
static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}
static inline uint64_t fseq_of(const wal *w, uint32_t slot)
{
	return w->gen_base + slot + 1;
}

/* ---- pool.c: frames, hash, LRU.  Callers hold p->mu unless noted. --- */
rdb_rc pool_init(pool *pl, uint32_t n_frames, uint32_t page_size,
		 pager *p);
void pool_destroy(pool *pl);
/* Replace the pool by a new one of n_frames (its cached pages dropped)
 * when every frame is free or clean: RDB_BUSY if one is pinned or
 * private, RDB_NOMEM (the old pool kept) without memory. */
rdb_rc pool_resize(pool *pl, uint32_t n_frames, pager *p);
pager_page *pool_find(pool *pl, rdb_pgno pgno, uint64_t ver);
void pool_hash_insert(pool *pl, pager_page *f);
void pool_hash_remove(pool *pl, pager_page *f);
void pool_list_remove(pool *pl, pager_page *f);
/* Pin f (taking it off whatever LRU list it is on). */
void pool_pin(pool *pl, pager_page *f);
/* Unpin f; at zero it goes to the list its state implies. */
void pool_unpin(pool *pl, pager_page *f);
/* A frame for a new page: the free list, else the clean LRU tail.
 * NULL if neither has one.  The frame is off every list and hash, pin 0. */
pager_page *pool_take_frame(pool *pl, pager *p);
/* Drop f from the hash; free it now if unpinned, else when unpinned. */
void pool_discard(pool *pl, pager_page *f);

/* ---- wal.c: the log file and its index. ----------------------------- */
void wal_init(wal *w);
void wal_destroy(wal *w);
size_t wal_frame_size(uint32_t page_size);
uint64_t wal_frame_off(uint32_t page_size, uint32_t slot);
/* Recover at open: read the header and frames, index committed frames.
 * db_ps is the database file's page size, 0 if unknown; an empty
 * database file (db_empty) never adopts a log; p->db_id, if not 0, must
 * match the log's;
 * *ps_out gets the WAL's page size when the WAL is used, else unchanged. */
rdb_rc wal_recover(pager *p, uint32_t db_ps, int db_empty,
		   uint32_t *ps_out);
/* Newest slot of pgno with fseq <= mx; returns fseq or VER_DB.  mu held. */
uint64_t wal_lookup(const wal *w, rdb_pgno pgno, uint64_t mx);
/* Make room for n more slots (allocation only, no I/O). */
rdb_rc wal_reserve(wal *w, uint32_t n, uint32_t page_size, rdb_err *err);
/* Create the WAL file (and its header) if it does not exist. */
rdb_rc wal_ensure_file(pager *p, rdb_err *err);
/* Write frames for pages[0..n) at slot w->n; the last is a commit frame
 * when commit_pages != 0.  No index change.  Caller holds the write lock
 * and has reserved n slots. */
rdb_rc wal_write_frames(pager *p, pager_page **pages, uint32_t n,
			uint32_t commit_pages, int defer, rdb_err *err);
/* Write the frames waiting in memory (writer only; mu not held). */
rdb_rc wal_flush(pager *p, rdb_err *err);
/* Add the n frames just written to the index (mu held). */
void wal_index_append(wal *w, pager_page **pages, uint32_t n);
/* Drop uncommitted slots [n_committed, n) from the index (mu held). */
void wal_index_truncate(wal *w, pager *p);
/* The same down to slot keep (n_committed <= keep <= n): the slots a
 * savepoint rollback takes back. */
void wal_index_truncate_to(wal *w, pager *p, uint32_t keep);
/* Read the page of slot into buf and verify it.  mu not held; the caller
 * holds restart_lock for reading or is the writer. */
rdb_rc wal_read_slot(pager *p, uint32_t slot, rdb_pgno pgno,
		     unsigned char *buf, rdb_err *err);
/* The same without the checksum check. */
rdb_rc wal_read_slot_raw(pager *p, uint32_t slot, rdb_pgno pgno,
			 unsigned char *buf, rdb_err *err);
/* Empty the index for a new generation (mu held, restart_lock
 * write-held, everything backfilled). */
void wal_reset_index(wal *w);
/* Write the new generation's header at offset 0 (after the reset). */
rdb_rc wal_restart(pager *p, rdb_err *err);

/* ---- checkpoint.c ---------------------------------------------------- */
/* Copy what readers allow into the database file and restart the WAL when
 * all of it is copied (not when for_close: the caller removes the WAL).
 * The caller holds the write lock and has no uncommitted frames. */
rdb_rc checkpoint_locked(pager *p, rdb_err *err, int for_close);

/* ---- pager.c helpers used by the other files ------------------------ */
rdb_rc writer_lock(pager *p, rdb_err *err);
void writer_unlock(pager *p);
/* The error that poisoned writes, recorded in err; RDB_OK if none. */
rdb_rc broken_rc(pager *p, rdb_err *err);
rdb_rc page_verify(const unsigned char *data, uint32_t page_size,
		   rdb_pgno pgno, const char *where, rdb_err *err);
void page_seal(unsigned char *data, uint32_t page_size, rdb_pgno pgno);
uint64_t pager_random64(const void *salt, size_t n);

/* ---- direct.c: runs of pages written to the database file ---------- */
typedef struct run_writer {
	pager *p;
	rdb_err *err;
	rdb_pgno first;
	uint32_t n;
} run_writer;
rdb_rc run_begin(run_writer *r, pager *p, rdb_err *err);
rdb_rc run_add(run_writer *r, rdb_pgno pgno, const unsigned char *data);
rdb_rc run_flush(run_writer *r);
/* Seal and write fresh pages v[0..n) (sorted in place) to the file. */
rdb_rc db_write_pages(pager *p, pager_page **v, uint32_t n, rdb_err *err);

/* ---- freelist.c ------------------------------------------------------ */
rdb_rc freelist_pop(pager_txn *t, rdb_pgno *out);
rdb_rc freelist_push(pager_txn *t, rdb_pgno pgno);

/* ---- pager.c: used by freelist.c and savepoint.c -------------------- */
rdb_rc txn_new_private(pager_txn *t, rdb_pgno pgno, uint8_t type,
		       pager_page **out);
rdb_rc txn_drop_private(pager_txn *t, rdb_pgno pgno);
/* Pin pgno as t sees it (page 0 allowed). */
rdb_rc txn_get_page(pager_txn *t, rdb_pgno pgno, pager_page **out);
/* With mu held: t's private frame of pgno, or NULL. */
pager_page *txn_find_private(pager_txn *t, rdb_pgno pgno);
/* With mu held: forget the private frame f even if pinned (its handle
 * stays readable until unpinned, but is no longer t's page). */
void txn_discard_private(pager_txn *t, pager_page *f);

/* Does a spill or commit log pgno to the WAL (rather than writing it
 * straight to the database file as a fresh page)? */
static inline int txn_logs_page(const pager_txn *t, rdb_pgno pgno)
{
	/* A file without its header yet must not gain pages first: a crash
	 * would leave it unreadable. */
	return pgno < t->base_pages || !t->p->db_has_header;
}

/* ---- savepoint.c: the savepoint journal ------------------------------ *
 * Every change to the transaction's view of a page is preceded, while a
 * savepoint is open, by one of the sp_note_* calls below (only when
 * t->n_sp != 0, so a transaction without savepoints pays one test).  They
 * fail only with RDB_NOMEM (or the error that broke the journal), and then
 * the change must not be made.  Design: README.md, "Savepoints". */

/* Page pg (pinned, as t sees it, private or not) is about to change. */
rdb_rc sp_note_page(pager_txn *t, pager_page *pg);
/* pgno is about to be handed out as a new page: its bytes did not matter
 * (a free-list leaf, or beyond the page count). */
rdb_rc sp_note_unused(pager_txn *t, rdb_pgno pgno);
/* pgno (in use, unpinned) is about to be freed. */
rdb_rc sp_note_free(pager_txn *t, rdb_pgno pgno);
/* The private frames v[0..n) are about to be spilled to the WAL. */
rdb_rc sp_note_spill(pager_txn *t, pager_page **v, uint32_t n);
/* The error that left the journal unusable (a failed rollback), or
 * RDB_OK; recorded in t->err. */
rdb_rc sp_broken(pager_txn *t);
/* Free the journal (the transaction ends).  t->sp may be NULL. */
void sp_free(pager_txn *t);
#ifndef NDEBUG
int sp_check(pager_txn *t);
#endif

#endif /* RDB_PAGER_INT_H */
