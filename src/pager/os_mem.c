/*
 * os_mem.c -- the os.h file interface over an in-memory file system that
 * can simulate a crash, a power loss, a torn write, an I/O error or a full
 * disk at a chosen call.  The contract is in os.h ("in-memory files"); the
 * choices it leaves open are listed below.
 *
 * Model.  A node is a named file: its current bytes (what reads see) and
 * its durable bytes (as of its last sync).  A handle (mem_file) refers to
 * a node.  Removing a name unlinks the node at once, but like POSIX the
 * bytes live on for the handles still open; a new file with the same name
 * is a different node.  One mutex guards the whole vfs.
 *
 * Choices made where os.h is silent:
 *   - Handles opened before os_mem_restart() are stale: every call on them
 *     fails with RDB_IOERR (it is still counted); close() works.
 *   - os_mem_set_fault() resets the counter and the fault state but not a
 *     crash or a pending power loss; only os_mem_restart() clears those.
 *     os_mem_restart() leaves the counter and os_mem_fault_fired() as they
 *     are.
 *   - ENOSPC "fires" (os_mem_fault_fired) when a write or growing truncate
 *     actually fails, not when call N is reached.
 *   - TORN on a call that is not a write tears the most recent write only
 *     if nothing but reads, writes to other files and namespace calls came
 *     after it: a sync, truncate, remove or os_mem_file_set of its file
 *     makes it whole.  The pre-image is kept only while TORN is armed.
 *   - Writing or truncating through a read-only handle is RDB_READONLY.
 *
 * Invariants (asserted by mem_check()):
 *   1. node->n_open is the number of handles whose node it is.
 *   2. A lock owner is an open, current handle on that node.
 *   3. cur.len <= cur.cap and dur.len <= cur.cap (restart copies dur into
 *      cur without allocating; capacities never shrink).
 *   4. A removed node has n_open > 0 (otherwise it is freed at once).
 *   5. pre.node, when set, is a node still in the list.
 *   6. Outside [dirty_lo, dirty_hi) a node's cur and dur hold the same
 *      bytes; if that range is empty they also have the same length.  So
 *      a sync copies only that range.
 */
#include "pager/os.h"
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "err.h"
#include "mem.h"

typedef struct mem_buf {
	unsigned char *p;       /* owned */
	size_t len;
	size_t cap;
} mem_buf;

typedef struct mem_file mem_file;

typedef struct mem_node {
	char *name;             /* owned */
	mem_buf cur;            /* the bytes reads see */
	mem_buf dur;            /* the bytes as of the last sync */
	size_t dirty_lo;        /* cur may differ from dur only in */
	size_t dirty_hi;        /* [dirty_lo, dirty_hi); empty if lo >= hi */
	int removed;            /* name unlinked; lives while n_open > 0 */
	int n_open;             /* handles on this node */
	mem_file *lock_owner;   /* borrowed: the handle holding the lock */
	struct mem_node *next;
} mem_node;

typedef struct mem_vfs mem_vfs;

struct mem_file {
	os_file base;           /* must be first */
	mem_vfs *vfs;           /* borrowed */
	mem_node *node;         /* shared, counted in node->n_open */
	int readonly;
	uint64_t epoch;         /* vfs->epoch when opened */
	mem_file *prev, *next;  /* vfs->handles */
};

struct mem_vfs {
	os_vfs base;            /* must be first */
	pthread_mutex_t mu;
	mem_node *nodes;        /* owned: named and removed-but-open files */
	mem_file *handles;      /* owned: every open handle */
	uint64_t epoch;         /* bumped by os_mem_restart() */

	os_fault kind;          /* armed fault */
	uint64_t at;            /* ... fires at this call number */
	int sticky;
	uint64_t rng;           /* torn-write cuts, from the seed */
	uint64_t calls;         /* since os_mem_set_fault() */
	int fired;              /* a fault had an effect */
	int crashed;            /* every call fails until restart */
	int power_lost;         /* restart drops unsynced bytes */
	int eio_stuck;          /* sticky EIO fired */
	int full;               /* next write / growing truncate fails */

	struct {                /* the most recent write, while TORN armed */
		mem_node *node; /* borrowed; NULL if none */
		uint64_t off;
		size_t n;       /* bytes written */
		size_t old_len; /* file length before the write */
		mem_buf old;    /* bytes [off, min(off+n, old_len)) before */
	} pre;
};

/* What a write asked for, so that a torn-write fault can apply part of
 * it. */
typedef struct write_args {
	mem_file *f;
	uint64_t off;
	const void *buf;
	size_t n;
} write_args;

/* ---- buffers and nodes ----------------------------------------------- */

/* Make room for need bytes, doubling so that appends stay cheap. */
static int buf_reserve(mem_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	unsigned char *p;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = rdb_realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static mem_node *node_find(mem_vfs *v, const char *name)
{
	mem_node *nd;

	for (nd = v->nodes; nd != NULL; nd = nd->next)
		if (!nd->removed && strcmp(nd->name, name) == 0)
			return nd;
	return NULL;
}

/* Syncs copy only the bytes changed since the last one: crash tests sync
 * a growing log often, and copying it whole each time is quadratic. */
static void node_clean(mem_node *nd)
{
	nd->dirty_lo = SIZE_MAX;
	nd->dirty_hi = 0;
}

static int node_dirty(const mem_node *nd)
{
	return nd->dirty_lo < nd->dirty_hi;
}

static void node_mark(mem_node *nd, size_t lo, size_t hi)
{
	if (lo < nd->dirty_lo)
		nd->dirty_lo = lo;
	if (hi > nd->dirty_hi)
		nd->dirty_hi = hi;
}

static mem_node *node_new(mem_vfs *v, const char *name)
{
	size_t n = strlen(name) + 1;
	mem_node *nd = rdb_calloc(1, sizeof(*nd));

	if (nd == NULL)
		return NULL;
	nd->name = rdb_malloc(n);
	if (nd->name == NULL) {
		rdb_free(nd);
		return NULL;
	}
	memcpy(nd->name, name, n);
	node_clean(nd);
	nd->next = v->nodes;
	v->nodes = nd;
	return nd;
}

/* The torn-write pre-image no longer applies to nd. */
static void pre_forget(mem_vfs *v, const mem_node *nd)
{
	if (v->pre.node == nd)
		v->pre.node = NULL;
}

static void node_free(mem_vfs *v, mem_node *nd)
{
	mem_node **pp;

	for (pp = &v->nodes; *pp != nd; pp = &(*pp)->next)
		assert(*pp != NULL);
	*pp = nd->next;
	pre_forget(v, nd);
	rdb_free(nd->cur.p);
	rdb_free(nd->dur.p);
	rdb_free(nd->name);
	rdb_free(nd);
}

/* Store n bytes at off in nd's current bytes, zero-filling any gap. */
static rdb_rc node_write(mem_node *nd, uint64_t off, const void *buf,
			 size_t n, rdb_err *err)
{
	size_t end;

	if (n == 0)
		return RDB_OK;          /* like pwrite: no extension */
	if (off > SIZE_MAX - n)
		return rdb_err_set(err, RDB_FULL, "file '%s' too large",
				   nd->name);
	end = (size_t)off + n;
	if (buf_reserve(&nd->cur, end) != 0)
		return rdb_err_set(err, RDB_NOMEM,
				   "out of memory writing '%s'", nd->name);
	if (off > nd->cur.len) {
		memset(nd->cur.p + nd->cur.len, 0, (size_t)off - nd->cur.len);
		node_mark(nd, nd->cur.len, end);
	} else {
		node_mark(nd, (size_t)off, end);
	}
	memcpy(nd->cur.p + off, buf, n);
	if (end > nd->cur.len)
		nd->cur.len = end;
	return RDB_OK;
}

#ifndef NDEBUG
/* The numbered invariants of the file comment; for assert() only. */
static int mem_check(mem_vfs *v)
{
	mem_node *nd;
	mem_file *f;
	int found_pre = v->pre.node == NULL;

	for (nd = v->nodes; nd != NULL; nd = nd->next) {
		int n = 0, owner_ok = nd->lock_owner == NULL;

		for (f = v->handles; f != NULL; f = f->next) {
			n += f->node == nd;
			owner_ok |= f == nd->lock_owner &&
				    f->epoch == v->epoch;
		}
		assert(n == nd->n_open);                          /* 1 */
		assert(owner_ok && (nd->lock_owner == NULL ||
				    nd->lock_owner->node == nd));     /* 2 */
		assert(nd->cur.len <= nd->cur.cap &&
		       nd->dur.len <= nd->cur.cap);                   /* 3 */
		assert(!nd->removed || nd->n_open > 0);               /* 4 */
		assert(node_dirty(nd) || nd->cur.len == nd->dur.len); /* 6 */
		found_pre |= nd == v->pre.node;
	}
	assert(found_pre);                                            /* 5 */
	return 1;
}
#endif

/* ---- faults ---------------------------------------------------------- */

/* splitmix64: any seed, including 0, gives a usable sequence. */
static uint64_t next_rand(mem_vfs *v)
{
	uint64_t z = (v->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static size_t cut_below(mem_vfs *v, size_t n)
{
	return n == 0 ? 0 : (size_t)(next_rand(v) % n);
}

/* Before a write while TORN is armed: keep what it will overwrite. */
static rdb_rc pre_save(mem_vfs *v, mem_node *nd, uint64_t off, size_t n,
		       rdb_err *err)
{
	size_t k = 0;

	if (off < nd->cur.len)
		k = nd->cur.len - (size_t)off < n ?
		    nd->cur.len - (size_t)off : n;
	if (buf_reserve(&v->pre.old, k) != 0)
		return rdb_err_set(err, RDB_NOMEM,
				   "out of memory writing '%s'", nd->name);
	if (k > 0)
		memcpy(v->pre.old.p, nd->cur.p + off, k);
	v->pre.old.len = k;
	v->pre.node = nd;
	v->pre.off = off;
	v->pre.n = n;
	v->pre.old_len = nd->cur.len;
	return RDB_OK;
}

/* Revert the bytes of the most recent write after a random cut point. */
static void tear_last_write(mem_vfs *v)
{
	mem_node *nd = v->pre.node;
	size_t cut, i, new_len;

	if (nd == NULL)
		return;
	cut = cut_below(v, v->pre.n);
	for (i = cut; i < v->pre.old.len; i++)
		nd->cur.p[v->pre.off + i] = v->pre.old.p[i];
	/* Bytes the write appended past the old end are dropped again;
	 * with nothing kept, so is any zero gap it opened. */
	new_len = v->pre.old_len;
	if (cut > 0 && v->pre.off + cut > new_len)
		new_len = (size_t)v->pre.off + cut;
	if (nd->cur.len > new_len)
		nd->cur.len = new_len;
	v->pre.node = NULL;
}

/* TORN at a write: only a random prefix of it reaches the file. */
static void tear_this_write(mem_vfs *v, const write_args *w)
{
	mem_file *f = w->f;

	if (f->readonly || f->epoch != v->epoch)
		return;
	/* Out of memory here only makes the prefix empty. */
	(void)node_write(f->node, w->off, w->buf, cut_below(v, w->n), NULL);
}

/* Call number v->calls has reached the armed fault: apply it. */
static rdb_rc fire(mem_vfs *v, const write_args *w, const char *name,
		   rdb_err *err)
{
	unsigned long long n = (unsigned long long)v->calls;

	switch (v->kind) {
	case OS_FAULT_ENOSPC:
		v->full = 1;
		return RDB_OK;
	case OS_FAULT_EIO:
		v->fired = 1;
		v->eio_stuck = v->sticky;
		return rdb_err_set(err, RDB_IOERR,
				   "simulated I/O error (call %llu, '%s')",
				   n, name);
	case OS_FAULT_TORN:
		if (w != NULL)
			tear_this_write(v, w);
		else
			tear_last_write(v);
		break;
	case OS_FAULT_POWERLOSS:
		v->power_lost = 1;
		break;
	case OS_FAULT_CRASH:
	case OS_FAULT_NONE:
		break;
	}
	v->fired = 1;
	v->crashed = 1;
	return rdb_err_set(err, RDB_IOERR, "simulated crash (call %llu, '%s')",
			   n, name);
}

/*
 * Count a call and decide whether it may go ahead.  f is the handle for
 * file calls (NULL for vfs calls), w the arguments of a write.  Called
 * with the mutex held.
 */
static rdb_rc begin_call(mem_vfs *v, mem_file *f, const char *name,
			 const write_args *w, rdb_err *err)
{
	unsigned long long n = (unsigned long long)++v->calls;

	if (v->crashed)
		return rdb_err_set(err, RDB_IOERR,
				   "simulated crash (call %llu, '%s')", n,
				   name);
	if (v->eio_stuck)
		return rdb_err_set(err, RDB_IOERR,
				   "simulated I/O error (call %llu, '%s')",
				   n, name);
	if (v->kind != OS_FAULT_NONE && v->calls == v->at) {
		rdb_rc rc = fire(v, w, name, err);

		if (rc != RDB_OK)
			return rc;
	}
	if (f != NULL && f->epoch != v->epoch)
		return rdb_err_set(err, RDB_IOERR,
				   "file '%s' was opened before a restart",
				   name);
	return RDB_OK;
}

/* For a write or a growing truncate: a simulated full disk? */
static rdb_rc check_space(mem_vfs *v, const char *name, rdb_err *err)
{
	if (!v->full)
		return RDB_OK;
	v->full = v->sticky;
	v->fired = 1;
	return rdb_err_set(err, RDB_FULL, "simulated disk full writing '%s'",
			   name);
}

static rdb_rc check_writable(mem_file *f, const char *what, rdb_err *err)
{
	if (!f->readonly)
		return RDB_OK;
	return rdb_err_set(err, RDB_READONLY, "cannot %s '%s': opened read-only",
			   what, f->node->name);
}

/* ---- file methods ---------------------------------------------------- */

static rdb_rc mem_read(os_file *f, uint64_t off, void *buf, size_t n,
		       size_t *got, rdb_err *err)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v = mf->vfs;
	mem_node *nd = mf->node;
	rdb_rc rc;

	assert((buf != NULL || n == 0) && got != NULL);
	*got = 0;
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, mf, nd->name, NULL, err);
	if (rc == RDB_OK && off < nd->cur.len) {
		size_t k = nd->cur.len - (size_t)off;

		if (k > n)
			k = n;
		memcpy(buf, nd->cur.p + off, k);
		*got = k;
	}
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static rdb_rc mem_write(os_file *f, uint64_t off, const void *buf, size_t n,
			rdb_err *err)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v = mf->vfs;
	mem_node *nd = mf->node;
	write_args w = { mf, off, buf, n };
	rdb_rc rc;

	assert(buf != NULL || n == 0);
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, mf, nd->name, &w, err);
	if (rc == RDB_OK)
		rc = check_writable(mf, "write", err);
	if (rc == RDB_OK)
		rc = check_space(v, nd->name, err);
	if (rc == RDB_OK && v->kind == OS_FAULT_TORN && !v->fired)
		rc = pre_save(v, nd, off, n, err);
	if (rc == RDB_OK)
		rc = node_write(nd, off, buf, n, err);
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static rdb_rc mem_sync(os_file *f, rdb_err *err)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v = mf->vfs;
	mem_node *nd = mf->node;
	rdb_rc rc;

	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, mf, nd->name, NULL, err);
	if (rc == RDB_OK && node_dirty(nd)) {
		size_t hi = nd->dirty_hi < nd->cur.len ? nd->dirty_hi :
			    nd->cur.len;

		if (buf_reserve(&nd->dur, nd->cur.len) != 0) {
			rc = rdb_err_set(err, RDB_NOMEM,
					 "out of memory syncing '%s'",
					 nd->name);
		} else {
			if (nd->dirty_lo < hi)
				memcpy(nd->dur.p + nd->dirty_lo,
				       nd->cur.p + nd->dirty_lo,
				       hi - nd->dirty_lo);
			nd->dur.len = nd->cur.len;
			node_clean(nd);
		}
	}
	if (rc == RDB_OK)
		pre_forget(v, nd);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static rdb_rc mem_truncate(os_file *f, uint64_t size, rdb_err *err)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v = mf->vfs;
	mem_node *nd = mf->node;
	rdb_rc rc;

	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, mf, nd->name, NULL, err);
	if (rc == RDB_OK)
		rc = check_writable(mf, "truncate", err);
	if (rc != RDB_OK || size == nd->cur.len)
		goto done;
	if (size > nd->cur.len) {
		rc = check_space(v, nd->name, err);
		if (rc == RDB_OK && size > SIZE_MAX)
			rc = rdb_err_set(err, RDB_FULL, "file '%s' too large",
					 nd->name);
		if (rc == RDB_OK && buf_reserve(&nd->cur, (size_t)size) != 0)
			rc = rdb_err_set(err, RDB_NOMEM,
					 "out of memory growing '%s'",
					 nd->name);
		if (rc != RDB_OK)
			goto done;
		memset(nd->cur.p + nd->cur.len, 0, (size_t)size - nd->cur.len);
	}
	if (size < nd->cur.len)
		node_mark(nd, (size_t)size, nd->cur.len);
	else
		node_mark(nd, nd->cur.len, (size_t)size);
	nd->cur.len = (size_t)size;
	pre_forget(v, nd);
done:
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static rdb_rc mem_size(os_file *f, uint64_t *out, rdb_err *err)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v = mf->vfs;
	rdb_rc rc;

	assert(out != NULL);
	*out = 0;
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, mf, mf->node->name, NULL, err);
	if (rc == RDB_OK)
		*out = mf->node->cur.len;
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static rdb_rc mem_lock(os_file *f, rdb_err *err)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v = mf->vfs;
	mem_node *nd = mf->node;
	rdb_rc rc;

	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, mf, nd->name, NULL, err);
	if (rc == RDB_OK && nd->lock_owner != NULL && nd->lock_owner != mf)
		rc = rdb_err_set(err, RDB_BUSY,
				 "database '%s' is locked by another "
				 "connection", nd->name);
	else if (rc == RDB_OK)
		nd->lock_owner = mf;
	pthread_mutex_unlock(&v->mu);
	return rc;
}

/* Unlink f from the vfs and drop its node if it was the last handle on a
 * removed file.  Mutex held. */
static void handle_free(mem_vfs *v, mem_file *f)
{
	mem_node *nd = f->node;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		v->handles = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	if (nd->lock_owner == f)
		nd->lock_owner = NULL;
	if (--nd->n_open == 0 && nd->removed)
		node_free(v, nd);
	rdb_free(f);
}

static void mem_close(os_file *f)
{
	mem_file *mf = (mem_file *)f;
	mem_vfs *v;

	if (mf == NULL)
		return;
	v = mf->vfs;
	pthread_mutex_lock(&v->mu);
	handle_free(v, mf);
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
}

static const os_file_methods mem_methods = {
	mem_read, mem_write, mem_sync, mem_truncate, mem_size, mem_lock,
	mem_close
};

/* ---- vfs methods ----------------------------------------------------- */

/* Open (or create) path.  Mutex held. */
static rdb_rc open_locked(mem_vfs *v, const char *path, int flags,
			  mem_file **out, rdb_err *err)
{
	mem_node *nd = node_find(v, path);
	mem_file *f;

	if (nd == NULL && !(flags & OS_OPEN_CREATE))
		return rdb_err_set(err, RDB_CANTOPEN,
				   "cannot open '%s': no such file", path);
	f = rdb_calloc(1, sizeof(*f));
	if (f == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory opening '%s'",
				   path);
	if (nd == NULL && (nd = node_new(v, path)) == NULL) {
		rdb_free(f);
		return rdb_err_set(err, RDB_NOMEM, "out of memory opening '%s'",
				   path);
	}
	f->base.m = &mem_methods;
	f->vfs = v;
	f->node = nd;
	f->readonly = (flags & OS_OPEN_READONLY) != 0;
	f->epoch = v->epoch;
	f->next = v->handles;
	if (v->handles != NULL)
		v->handles->prev = f;
	v->handles = f;
	nd->n_open++;
	*out = f;
	return RDB_OK;
}

static rdb_rc mem_open(os_vfs *vfs, const char *path, int flags,
		       os_file **out, rdb_err *err)
{
	mem_vfs *v = (mem_vfs *)vfs;
	mem_file *f = NULL;
	rdb_rc rc;

	assert(v != NULL && path != NULL && out != NULL);
	*out = NULL;
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, NULL, path, NULL, err);
	if (rc == RDB_OK)
		rc = open_locked(v, path, flags, &f, err);
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
	if (rc == RDB_OK)
		*out = &f->base;
	return rc;
}

static rdb_rc mem_remove(os_vfs *vfs, const char *path, rdb_err *err)
{
	mem_vfs *v = (mem_vfs *)vfs;
	mem_node *nd;
	rdb_rc rc;

	assert(v != NULL && path != NULL);
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, NULL, path, NULL, err);
	if (rc == RDB_OK && (nd = node_find(v, path)) != NULL) {
		nd->removed = 1;
		pre_forget(v, nd);
		if (nd->n_open == 0)
			node_free(v, nd);
	}
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static rdb_rc mem_exists(os_vfs *vfs, const char *path, int *out,
			 rdb_err *err)
{
	mem_vfs *v = (mem_vfs *)vfs;
	rdb_rc rc;

	assert(v != NULL && path != NULL && out != NULL);
	*out = 0;
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, NULL, path, NULL, err);
	if (rc == RDB_OK)
		*out = node_find(v, path) != NULL;
	pthread_mutex_unlock(&v->mu);
	return rc;
}

/* Creation and removal are durable at once: only the fault counts. */
static rdb_rc mem_sync_dir(os_vfs *vfs, const char *path, rdb_err *err)
{
	mem_vfs *v = (mem_vfs *)vfs;
	rdb_rc rc;

	assert(v != NULL && path != NULL);
	pthread_mutex_lock(&v->mu);
	rc = begin_call(v, NULL, path, NULL, err);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

/* ---- public: life cycle and test hooks -------------------------------- */

os_vfs *os_mem_new(void)
{
	mem_vfs *v = rdb_calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	if (pthread_mutex_init(&v->mu, NULL) != 0) {
		rdb_free(v);
		return NULL;
	}
	v->base.open = mem_open;
	v->base.remove = mem_remove;
	v->base.exists = mem_exists;
	v->base.sync_dir = mem_sync_dir;
	return &v->base;
}

/* Handles still open are freed too; using them afterwards is a bug. */
void os_mem_free(os_vfs *vfs)
{
	mem_vfs *v = (mem_vfs *)vfs;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	while (v->handles != NULL)
		handle_free(v, v->handles);
	while (v->nodes != NULL)
		node_free(v, v->nodes);
	pthread_mutex_unlock(&v->mu);
	pthread_mutex_destroy(&v->mu);
	rdb_free(v->pre.old.p);
	rdb_free(v);
}

void os_mem_set_fault(os_vfs *vfs, os_fault kind, uint64_t at, int sticky,
		      uint64_t seed)
{
	mem_vfs *v = (mem_vfs *)vfs;

	assert(v != NULL);
	pthread_mutex_lock(&v->mu);
	v->kind = kind;
	v->at = at;
	v->sticky = sticky != 0;
	v->rng = seed;
	v->calls = 0;
	v->fired = 0;
	v->eio_stuck = 0;
	v->full = 0;
	v->pre.node = NULL;
	pthread_mutex_unlock(&v->mu);
}

uint64_t os_mem_calls(os_vfs *vfs)
{
	mem_vfs *v = (mem_vfs *)vfs;
	uint64_t n;

	pthread_mutex_lock(&v->mu);
	n = v->calls;
	pthread_mutex_unlock(&v->mu);
	return n;
}

int os_mem_crashed(os_vfs *vfs)
{
	mem_vfs *v = (mem_vfs *)vfs;
	int c;

	pthread_mutex_lock(&v->mu);
	c = v->crashed;
	pthread_mutex_unlock(&v->mu);
	return c;
}

int os_mem_fault_fired(os_vfs *vfs)
{
	mem_vfs *v = (mem_vfs *)vfs;
	int c;

	pthread_mutex_lock(&v->mu);
	c = v->fired;
	pthread_mutex_unlock(&v->mu);
	return c;
}

void os_mem_restart(os_vfs *vfs)
{
	mem_vfs *v = (mem_vfs *)vfs;
	mem_node *nd;

	assert(v != NULL);
	pthread_mutex_lock(&v->mu);
	for (nd = v->nodes; nd != NULL; nd = nd->next) {
		if (v->power_lost && node_dirty(nd)) {
			/* Invariant 3: cur has room for dur. */
			if (nd->dur.len > 0)
				memcpy(nd->cur.p, nd->dur.p, nd->dur.len);
			nd->cur.len = nd->dur.len;
			node_clean(nd);
		}
		nd->lock_owner = NULL;
	}
	v->epoch++;
	v->kind = OS_FAULT_NONE;
	v->crashed = 0;
	v->power_lost = 0;
	v->eio_stuck = 0;
	v->full = 0;
	v->pre.node = NULL;
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
}

rdb_rc os_mem_file_bytes(os_vfs *vfs, const char *path, unsigned char **out,
			 size_t *len)
{
	mem_vfs *v = (mem_vfs *)vfs;
	mem_node *nd;
	rdb_rc rc = RDB_OK;

	assert(v != NULL && path != NULL && out != NULL && len != NULL);
	*out = NULL;
	*len = 0;
	pthread_mutex_lock(&v->mu);
	nd = node_find(v, path);
	if (nd == NULL) {
		rc = RDB_CANTOPEN;
	} else if ((*out = rdb_malloc(nd->cur.len)) == NULL) {
		rc = RDB_NOMEM;
	} else {
		if (nd->cur.len > 0)
			memcpy(*out, nd->cur.p, nd->cur.len);
		*len = nd->cur.len;
	}
	pthread_mutex_unlock(&v->mu);
	return rc;
}

rdb_rc os_mem_file_set(os_vfs *vfs, const char *path, const void *bytes,
		       size_t len)
{
	mem_vfs *v = (mem_vfs *)vfs;
	mem_node *nd;
	int created = 0;
	rdb_rc rc = RDB_OK;

	assert(v != NULL && path != NULL && (bytes != NULL || len == 0));
	pthread_mutex_lock(&v->mu);
	nd = node_find(v, path);
	if (nd == NULL) {
		nd = node_new(v, path);
		created = 1;
	}
	if (nd == NULL) {
		rc = RDB_NOMEM;
	} else if (buf_reserve(&nd->cur, len) != 0 ||
		   buf_reserve(&nd->dur, len) != 0) {
		rc = RDB_NOMEM;
		if (created)
			node_free(v, nd);
	} else {
		if (len > 0) {
			memcpy(nd->cur.p, bytes, len);
			memcpy(nd->dur.p, bytes, len);
		}
		nd->cur.len = nd->dur.len = len;
		node_clean(nd);
		pre_forget(v, nd);
	}
	assert(mem_check(v));
	pthread_mutex_unlock(&v->mu);
	return rc;
}
