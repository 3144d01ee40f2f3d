/*
 * db.c -- the public connection and key-value API of include/rdb.h over
 * the pager and the KV store: one handle per open database, calls
 * serialised by the handle's mutex, each KV call its own transaction.
 * Users' keys are stored behind the namespace byte KV_NS_USER (kv.h):
 * every call adds it and iteration strips it, so users never see or
 * change the system's records (docs/kv.md, "Namespaces").
 * The SQL layer will extend this file's handle (see ARCHITECTURE.md).
 */
#include "rdb.h"
#include "api_int.h"
#include "api_test.h"
#include <pthread.h>
#include <string.h>
#include "btree/btree.h"
#include "err.h"
#include "kv/kv.h"
#include "mem.h"
#include "pager/pager.h"

int rdb_open(const char *path, rdb **out)
{
	return rdb_open_v2(path, out, NULL);
}

/* Translate the public options into the pager's; RDB_MISUSE if invalid. */
static rdb_rc open_opts(const rdb_open_opts *in, pager_opts *o)
{
	int flags = in != NULL && in->flags != 0
			    ? in->flags : RDB_OPEN_READWRITE | RDB_OPEN_CREATE;

	pager_opts_default(o);
	o->readonly = (flags & RDB_OPEN_READONLY) != 0;
	o->create = (flags & RDB_OPEN_CREATE) != 0 && !o->readonly;
	if ((flags & RDB_OPEN_READONLY) && (flags & RDB_OPEN_READWRITE))
		return RDB_MISUSE;
	if (in == NULL)
		return RDB_OK;
	if (in->page_size != 0)
		o->page_size = in->page_size;
	if (in->cache_pages < 0 || in->cache_pages > 0x7fffffffL)
		return RDB_MISUSE;
	if (in->cache_pages > 0)
		o->cache_pages = (uint32_t)in->cache_pages;
	if (in->busy_timeout_ms > 0)
		o->busy_timeout_ms = in->busy_timeout_ms;
	switch (in->sync) {
	case 0: break;
	case RDB_SYNC_OFF: o->sync = PAGER_SYNC_OFF; break;
	case RDB_SYNC_NORMAL: o->sync = PAGER_SYNC_NORMAL; break;
	case RDB_SYNC_FULL: o->sync = PAGER_SYNC_FULL; break;
	default: return RDB_MISUSE;
	}
	return RDB_OK;
}

/* rdb_open_v2() through vfs (NULL: the POSIX files, or a private
 * in-memory file system for RDB_OPEN_MEMORY). */
static int open_through(os_vfs *vfs, const char *path, rdb **out,
			const rdb_open_opts *opts)
{
	pager_opts o;
	rdb *db;
	rdb_rc rc;
	int memory = opts != NULL && (opts->flags & RDB_OPEN_MEMORY);

	if (out == NULL)
		return RDB_MISUSE;
	*out = NULL;
	if ((path == NULL && !memory) || open_opts(opts, &o) != RDB_OK)
		return RDB_MISUSE;
	if ((db = rdb_calloc(1, sizeof(*db))) == NULL)
		return RDB_NOMEM;
	pthread_mutex_init(&db->mu, NULL);
	if (vfs == NULL)
		vfs = os_unix_vfs();
	if (memory) {
		path = "memory.rdb";
		o.create = 1;
		o.readonly = 0;
		if ((vfs = db->mem = os_mem_new()) == NULL) {
			rdb_close(db);
			return RDB_NOMEM;
		}
	}
	rc = pager_open(vfs, path, &o, &db->err, &db->p);
	if (rc == RDB_OK)
		rc = sql_conn_new(db->p, &db->err, &db->sql);
	*out = db;
	return rc;
}

int rdb_open_v2(const char *path, rdb **out, const rdb_open_opts *opts)
{
	return open_through(NULL, path, out, opts);
}

int rdb_open_vfs(os_vfs *vfs, const char *path, rdb **out,
		 const rdb_open_opts *opts)
{
	if (out != NULL)
		*out = NULL;
	if (vfs == NULL || (opts != NULL && (opts->flags & RDB_OPEN_MEMORY)))
		return RDB_MISUSE;
	return open_through(vfs, path, out, opts);
}

int rdb_checkpoint_now(rdb *db)
{
	rdb_rc rc;

	if (db == NULL || db->p == NULL)
		return RDB_MISUSE;
	pthread_mutex_lock(&db->mu);
	rdb_err_clear(&db->err);
	if (sql_conn_txn(db->sql) != NULL)
		rc = rdb_err_set(&db->err, RDB_MISUSE, "cannot checkpoint "
				 "inside a transaction");
	else
		rc = pager_checkpoint(db->p);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int rdb_close(rdb *db)
{
	rdb_rc rc;

	if (db == NULL)
		return RDB_OK;
	if (db->n_stmts > 0) {
		rdb_err_set(&db->err, RDB_MISUSE,
			    "unable to close due to unfinalized statements");
		return RDB_MISUSE;
	}
	if (db->sql != NULL && sql_conn_free(db->sql) != RDB_OK)
		return RDB_MISUSE;
	db->sql = NULL;
	rc = pager_close(db->p);
	if (rc == RDB_MISUSE) {
		/* A KV iterator is still open: the handle stays usable. */
		(void)sql_conn_new(db->p, &db->err, &db->sql);
		return rc;
	}
	os_mem_free(db->mem);
	kv_ctx_free(&db->kv);
	pthread_mutex_destroy(&db->mu);
	rdb_free(db);
	return rc;
}

int rdb_stats_get(rdb *db, rdb_stats *out)
{
	pager_stats ps;

	if (db == NULL || db->p == NULL || out == NULL)
		return RDB_MISUSE;
	pager_get_stats(db->p, &ps);
	memset(out, 0, sizeof(*out));
	out->page_size = ps.page_size;
	out->page_count = ps.page_count;
	out->free_pages = ps.free_pages;
	out->cache_pages = ps.cache_pages;
	out->cache_hits = ps.hits;
	out->cache_misses = ps.misses;
	out->cache_evictions = ps.evictions;
	out->wal_frames = ps.wal_frames_now;
	out->commits = ps.commits;
	out->checkpoints = ps.checkpoints;
	out->syncs = ps.syncs;
	return RDB_OK;
}

int rdb_errcode(rdb *db)
{
	return db == NULL ? RDB_MISUSE : (int)db->err.rc;
}

const char *rdb_errmsg(rdb *db)
{
	if (db == NULL)
		return rdb_errstr(RDB_MISUSE);
	return db->err.rc == RDB_OK || db->err.msg[0] == '\0'
		       ? rdb_errstr(db->err.rc) : db->err.msg;
}

/* ---- transactions around one call ------------------------------------ */

typedef sql_txn_fn txn_fn;
static rdb_rc run_txn(rdb *db, int write, txn_fn fn, void *arg);

/* Record the outcome of a call in db->err and return it. */
static rdb_rc finish(rdb *db, rdb_rc rc)
{
	if (rc == RDB_OK)
		rdb_err_clear(&db->err);
	else if (db->terr.rc == rc)
		db->err = db->terr;
	else if (db->err.rc != rc)
		rdb_err_set(&db->err, rc, "%s", rdb_errstr(rc));
	return rc;
}

/* Run fn in a transaction of its own (write or read), committing on
 * success and rolling back on failure.  Calls on db are serialised. */
static rdb_rc in_txn(rdb *db, int write, txn_fn fn, void *arg)
{
	pager_txn *t;
	rdb_rc rc;

	if (db == NULL || db->p == NULL)
		return RDB_MISUSE;
	pthread_mutex_lock(&db->mu);
	rdb_err_clear(&db->terr);
	rdb_err_clear(&db->err);
	if (!sql_conn_autocommit(db->sql)) {
		/* Inside BEGIN ... COMMIT (or SAVEPOINT ... RELEASE): part of
		 * that transaction, even before its first statement. */
		rc = sql_conn_run(db->sql, fn, arg);
		rc = finish(db, rc);
		pthread_mutex_unlock(&db->mu);
		return rc;
	}
	rc = pager_begin(db->p, write, &db->terr, &t);
	if (rc == RDB_OK) {
		rc = fn(t, arg);
		if (rc == RDB_OK && write)
			rc = kv_maybe_compact(t);
		if (rc == RDB_OK)
			rc = pager_commit(t);
		else
			pager_rollback(t);
	}
	rc = finish(db, rc);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* ---- arguments of the calls ------------------------------------------- */

typedef struct kv_args {
	kv_ctx *cx;               /* the handle's, under its mutex */
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
	void *buf;
	size_t cap;
	size_t *out_len;
	void **out_val;
	int *flag;
	const void *key2;
	size_t klen2;
	const rdb_kv_op *ops;
	size_t n_ops;
	rdb_kv_reader rd;
	rdb_kv_writer wr;
	void *cb_arg;
	rdb_kv_stats *stats;
} kv_args;

/* ---- the user namespace ------------------------------------------------ */

/* A user's key as the store holds it: KV_NS_USER, then the key. */
typedef struct ukey {
	unsigned char b[1 + KV_KEY_MAX];
	size_t n;
} ukey;

/* The longest user key: one byte goes to the namespace. */
static size_t user_max_key(pager_txn *t)
{
	return kv_max_key(t) - 1;
}

/* Build key's stored form in *u; RDB_TOOBIG (nothing changed) for a key
 * the user may not have. */
static rdb_rc ukey_make(pager_txn *t, ukey *u, const void *key, size_t klen)
{
	if (klen == 0 || klen > user_max_key(t))
		return rdb_err_set(pager_txn_err(t), RDB_TOOBIG,
				   "KV key of %zu bytes: keys are 1 to %zu "
				   "bytes", klen, user_max_key(t));
	u->b[0] = KV_NS_USER;
	memcpy(u->b + 1, key, klen);
	u->n = klen + 1;
	return RDB_OK;
}

size_t rdb_kv_max_key(rdb *db)
{
	pager_txn *t;
	size_t n = 0;
	rdb_err e;

	if (db == NULL || db->p == NULL)
		return 0;
	if (pager_begin(db->p, 0, &e, &t) == RDB_OK) {
		n = user_max_key(t);
		pager_rollback(t);
	}
	return n;
}

static int misuse(rdb *db)
{
	if (db != NULL)
		rdb_err_set(&db->err, RDB_MISUSE, "bad argument");
	return RDB_MISUSE;
}

static rdb_rc do_put(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	return rc != RDB_OK ? rc : kv_put(t, a->cx, u.b, u.n, a->val, a->vlen);
}

int rdb_kv_put(rdb *db, const void *key, size_t klen, const void *val,
	       size_t vlen)
{
	kv_args a = { .key = key, .klen = klen, .val = val, .vlen = vlen };

	if (key == NULL || (val == NULL && vlen > 0))
		return misuse(db);
	return run_txn(db, 1, do_put, &a);
}

static rdb_rc do_get(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	return rc != RDB_OK ? rc : kv_get_into(t, a->cx, u.b, u.n, a->buf,
					       a->cap, a->out_len);
}

int rdb_kv_get(rdb *db, const void *key, size_t klen, void *buf, size_t cap,
	       size_t *vlen)
{
	size_t dummy;
	kv_args a = { .key = key, .klen = klen, .buf = buf, .cap = cap,
		      .out_len = vlen != NULL ? vlen : &dummy };
	rdb_rc rc;

	if (key == NULL || (buf == NULL && cap > 0))
		return misuse(db);
	*a.out_len = 0;
	rc = run_txn(db, 0, do_get, &a);
	if (rc != RDB_OK && rc != RDB_RANGE)
		*a.out_len = 0;
	return rc;
}

static rdb_rc do_get_alloc(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	return rc != RDB_OK ? rc : kv_get(t, a->cx, u.b, u.n, a->out_val,
					  a->out_len);
}

int rdb_kv_get_alloc(rdb *db, const void *key, size_t klen, void **val,
		     size_t *vlen)
{
	kv_args a = { .key = key, .klen = klen, .out_val = val,
		      .out_len = vlen };

	if (key == NULL || val == NULL || vlen == NULL)
		return misuse(db);
	*val = NULL;
	*vlen = 0;
	return run_txn(db, 0, do_get_alloc, &a);
}

void rdb_kv_free(void *p)
{
	rdb_free(p);
}

static rdb_rc do_exists(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	uint64_t len;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	if (rc != RDB_OK)
		return rc;
	rc = kv_value_len(t, u.b, u.n, &len);
	*a->flag = rc == RDB_OK;
	if (rc == RDB_NOTFOUND) {
		rdb_err_clear(pager_txn_err(t));
		rc = RDB_OK;
	}
	return rc;
}

int rdb_kv_exists(rdb *db, const void *key, size_t klen, int *exists)
{
	kv_args a = { .key = key, .klen = klen, .flag = exists };

	if (key == NULL || exists == NULL)
		return misuse(db);
	*exists = 0;
	return in_txn(db, 0, do_exists, &a);
}

static rdb_rc do_delete(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	return rc != RDB_OK ? rc : kv_delete(t, u.b, u.n, a->flag);
}

int rdb_kv_delete(rdb *db, const void *key, size_t klen, int *existed)
{
	int dummy;
	kv_args a = { .key = key, .klen = klen,
		      .flag = existed != NULL ? existed : &dummy };

	if (key == NULL)
		return misuse(db);
	return in_txn(db, 1, do_delete, &a);
}

static rdb_rc do_batch(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	size_t i;
	ukey u;
	rdb_rc rc = RDB_OK;

	kv_ahead_begin(a->cx, a->ops, a->n_ops);
	for (i = 0; i < a->n_ops && rc == RDB_OK; i++) {
		const rdb_kv_op *op = &a->ops[i];

		if (op->key == NULL || (!op->del && op->val == NULL &&
					op->vlen > 0))
			rc = rdb_err_set(pager_txn_err(t), RDB_MISUSE,
					 "batch operation %zu has no key or "
					 "value", i);
		else if ((rc = ukey_make(t, &u, op->key, op->klen)) != RDB_OK)
			break;
		else if (op->del)
			rc = kv_delete(t, u.b, u.n, NULL);
		else
			rc = kv_put(t, a->cx, u.b, u.n, op->val, op->vlen);
	}
	kv_ahead_end(a->cx);
	return rc;
}

int rdb_kv_batch(rdb *db, const rdb_kv_op *ops, size_t n)
{
	kv_args a = { .ops = ops, .n_ops = n };

	if (ops == NULL && n > 0)
		return misuse(db);
	return run_txn(db, 1, do_batch, &a);
}

static rdb_rc do_put_stream(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	return rc != RDB_OK ? rc : kv_put_stream(t, u.b, u.n, a->rd,
						 a->cb_arg);
}

int rdb_kv_put_stream(rdb *db, const void *key, size_t klen,
		      rdb_kv_reader read, void *arg)
{
	kv_args a = { .key = key, .klen = klen, .rd = read, .cb_arg = arg };

	if (key == NULL || read == NULL)
		return misuse(db);
	return in_txn(db, 1, do_put_stream, &a);
}

static rdb_rc do_get_stream(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey u;
	rdb_rc rc = ukey_make(t, &u, a->key, a->klen);

	return rc != RDB_OK ? rc : kv_get_stream(t, u.b, u.n, a->wr,
						 a->cb_arg);
}

int rdb_kv_get_stream(rdb *db, const void *key, size_t klen,
		      rdb_kv_writer write, void *arg)
{
	kv_args a = { .key = key, .klen = klen, .wr = write, .cb_arg = arg };

	if (key == NULL || write == NULL)
		return misuse(db);
	return in_txn(db, 0, do_get_stream, &a);
}

static rdb_rc do_rename(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	ukey from, to;
	rdb_rc rc;

	if ((rc = ukey_make(t, &from, a->key, a->klen)) != RDB_OK ||
	    (rc = ukey_make(t, &to, a->key2, a->klen2)) != RDB_OK)
		return rc;
	return kv_rename(t, from.b, from.n, to.b, to.n);
}

int rdb_kv_rename(rdb *db, const void *from, size_t flen, const void *to,
		  size_t tlen)
{
	kv_args a = { .key = from, .klen = flen, .key2 = to, .klen2 = tlen };

	if (from == NULL || to == NULL)
		return misuse(db);
	return in_txn(db, 1, do_rename, &a);
}

static rdb_rc do_compact(pager_txn *t, void *arg)
{
	(void)arg;
	return kv_compact(t);
}

int rdb_kv_compact(rdb *db)
{
	return in_txn(db, 1, do_compact, NULL);
}

static rdb_rc do_stats(pager_txn *t, void *arg)
{
	kv_args *a = arg;
	kv_stats s;
	rdb_rc rc = kv_get_user_stats(t, &s);

	a->stats->live_keys = s.live_keys;
	a->stats->live_bytes = s.live_bytes;
	a->stats->dead_bytes = s.dead_bytes;
	a->stats->saved_bytes = s.saved_bytes;
	return rc;
}

int rdb_kv_stats_get(rdb *db, rdb_kv_stats *out)
{
	kv_args a = { .stats = out };

	if (out == NULL)
		return misuse(db);
	memset(out, 0, sizeof(*out));
	return in_txn(db, 0, do_stats, &a);
}

/* ---- two databases ------------------------------------------------------ */

/* Copy key from src to dst in one write transaction of dst. */
static rdb_rc copy_between(rdb *src, rdb *dst, const void *key, size_t klen)
{
	pager_txn *ts = NULL, *td = NULL;
	ukey u;
	rdb_rc rc;

	rdb_err_clear(&src->terr);
	rdb_err_clear(&dst->terr);
	rc = pager_begin(src->p, 0, &src->terr, &ts);
	if (rc == RDB_OK)
		rc = pager_begin(dst->p, 1, &dst->terr, &td);
	/* The key must fit both databases (their page sizes may differ). */
	if (rc == RDB_OK && (rc = ukey_make(ts, &u, key, klen)) == RDB_OK)
		rc = ukey_make(td, &u, key, klen);
	if (rc == RDB_OK)
		rc = kv_copy(ts, td, u.b, u.n);
	if (rc == RDB_OK)
		rc = kv_maybe_compact(td);
	if (rc == RDB_OK)
		rc = pager_commit(td);
	else
		pager_rollback(td);
	pager_rollback(ts);
	if (rc != RDB_OK && dst->terr.rc == RDB_OK && src->terr.rc != RDB_OK)
		dst->terr = src->terr;
	return rc;
}

/* Lock two handles in a fixed order, so that copies in both directions
 * cannot deadlock. */
static void lock2(rdb *a, rdb *b)
{
	if ((uintptr_t)a > (uintptr_t)b) {
		rdb *x = a;

		a = b;
		b = x;
	}
	pthread_mutex_lock(&a->mu);
	pthread_mutex_lock(&b->mu);
}

static void unlock2(rdb *a, rdb *b)
{
	pthread_mutex_unlock(&a->mu);
	pthread_mutex_unlock(&b->mu);
}

static int move_key(rdb *src, rdb *dst, const void *key, size_t klen,
		    int transfer)
{
	rdb_rc rc;

	if (src == NULL || dst == NULL || src->p == NULL || dst->p == NULL ||
	    key == NULL)
		return misuse(dst);
	if (src == dst) {
		rdb_err_set(&src->err, RDB_MISUSE,
			    "KV copy needs two different databases");
		return RDB_MISUSE;
	}
	lock2(src, dst);
	rc = copy_between(src, dst, key, klen);
	rc = finish(dst, rc);
	if (rc != RDB_OK)
		src->err = dst->err;
	unlock2(src, dst);
	if (rc == RDB_OK && transfer) {
		kv_args a = { .key = key, .klen = klen, .flag = NULL };

		rc = in_txn(src, 1, do_delete, &a);
	}
	return rc;
}

int rdb_kv_copy(rdb *src, rdb *dst, const void *key, size_t klen)
{
	return move_key(src, dst, key, klen, 0);
}

int rdb_kv_transfer(rdb *src, rdb *dst, const void *key, size_t klen)
{
	return move_key(src, dst, key, klen, 1);
}

/* ---- iteration ----------------------------------------------------------- */

struct rdb_kv_iter {
	rdb *db;                  /* borrowed */
	pager_txn *t;             /* owned: a read transaction */
	rdb_err err;
	bt_cursor *c;             /* owned; NULL if the store is empty */
	unsigned char *prefix;    /* owned: KV_NS_USER, then the user's */
	size_t plen;              /* including KV_NS_USER */
	int started;
	int done;                 /* RDB_DONE was returned: it stays so */
};

/* Report an iterator's error through its handle (under its mutex, since
 * other threads may be using the handle). */
static rdb_rc iter_fail(rdb_kv_iter *it, rdb_rc rc)
{
	pthread_mutex_lock(&it->db->mu);
	if (it->err.rc == rc)
		it->db->err = it->err;
	else
		rdb_err_set(&it->db->err, rc, "%s", rdb_errstr(rc));
	pthread_mutex_unlock(&it->db->mu);
	return rc;
}

int rdb_kv_iter_open(rdb *db, const void *prefix, size_t plen,
		     rdb_kv_iter **out)
{
	rdb_kv_iter *it;
	rdb_pgno root = 0;
	rdb_rc rc;

	if (db == NULL || db->p == NULL || out == NULL ||
	    (prefix == NULL && plen > 0))
		return misuse(db);
	*out = NULL;
	if ((it = rdb_calloc(1, sizeof(*it))) == NULL ||
	    (it->prefix = rdb_malloc(plen + 1)) == NULL) {
		rdb_free(it);
		return finish(db, rdb_err_set(&db->err, RDB_NOMEM,
					      "out of memory"));
	}
	it->db = db;
	/* Even an empty prefix stays inside the user namespace. */
	it->prefix[0] = KV_NS_USER;
	it->plen = plen + 1;
	if (plen > 0)
		memcpy(it->prefix + 1, prefix, plen);
	rc = pager_begin(db->p, 0, &it->err, &it->t);
	if (rc == RDB_OK)
		rc = kv_index_root(it->t, &root);
	if (rc == RDB_OK && root != 0)
		rc = bt_cursor_open(it->t, root, &it->c);
	if (rc != RDB_OK) {
		db->terr = it->err;
		rdb_kv_iter_close(it);
		return finish(db, rc);
	}
	*out = it;
	return RDB_OK;
}

int rdb_kv_iter_next(rdb_kv_iter *it, const void **key, size_t *klen)
{
	rdb_rc rc;

	if (it == NULL || key == NULL || klen == NULL)
		return RDB_MISUSE;
	if (it->c == NULL || it->done)
		return RDB_DONE;
	rc = it->started ? bt_next(it->c)
			 : bt_seek_ge(it->c, it->prefix, it->plen);
	it->started = 1;
	if (rc == RDB_OK)
		rc = bt_key(it->c, key, klen);
	/* The namespace byte alone is no user's key (they are 1+ bytes). */
	if (rc == RDB_OK && *klen == 1 && (rc = bt_next(it->c)) == RDB_OK)
		rc = bt_key(it->c, key, klen);
	if (rc == RDB_NOTFOUND ||
	    (rc == RDB_OK && (*klen < it->plen ||
			      memcmp(*key, it->prefix, it->plen) != 0))) {
		*key = NULL;
		*klen = 0;
		it->done = 1;
		return RDB_DONE;
	}
	if (rc != RDB_OK)
		return iter_fail(it, rc);
	/* The user sees the key without its namespace byte. */
	*key = (const unsigned char *)*key + 1;
	*klen -= 1;
	return RDB_ROW;
}

int rdb_kv_iter_value(rdb_kv_iter *it, void **val, size_t *vlen)
{
	const void *key;
	size_t klen;
	rdb_rc rc;

	if (it == NULL || val == NULL || vlen == NULL || it->c == NULL ||
	    it->done || !bt_valid(it->c))
		return RDB_MISUSE;
	rc = bt_key(it->c, &key, &klen);
	if (rc == RDB_OK)
		rc = kv_get(it->t, NULL, key, klen, val, vlen);
	return rc == RDB_OK ? RDB_OK : iter_fail(it, rc);
}

void rdb_kv_iter_close(rdb_kv_iter *it)
{
	if (it == NULL)
		return;
	bt_cursor_close(it->c);
	pager_rollback(it->t);
	rdb_free(it->prefix);
	rdb_free(it);
}

/* in_txn() for calls that use the handle's KV context (set under the
 * handle's mutex, which in_txn() holds for the whole call). */
static rdb_rc run_txn(rdb *db, int write, txn_fn fn, void *arg)
{
	kv_args *a = arg;

	if (db != NULL)
		a->cx = &db->kv;
	return in_txn(db, write, fn, arg);
}
