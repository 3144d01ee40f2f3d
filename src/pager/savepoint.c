/*
 * savepoint.c -- nested savepoints inside a write transaction: the header
 * saved at each savepoint, a journal of what each page looked like before
 * its first change after the newest savepoint, and rollback to any open
 * savepoint.  Design and the rules that make it correct:
 * src/pager/README.md, "Savepoints".
 */
#include "pager/pager_int.h"
#include <assert.h>
#include <string.h>
#include "mem.h"

/* One journal entry: how to give page pgno back the bytes the
 * transaction saw when the savepoint current at the time began. */
typedef struct sp_entry {
	struct sp_entry *older;   /* the next entry down the journal */
	struct sp_entry *same;    /* the previous entry of the same page */
	uint64_t seq;             /* 0, 1, ... in journal order */
	rdb_pgno pgno;
	uint8_t has_data;         /* 1: data holds the bytes; 0: dropping
				   * the private copy restores them */
	uint8_t final;            /* rollback: still to apply */
	unsigned char data[];     /* page_size bytes when has_data */
} sp_entry;

typedef struct sp_level {
	uint64_t start;           /* seq of the savepoint's first entry */
	uint32_t wal_n;           /* WAL slots in use when it began */
	hdr h;                    /* the transaction's header then */
} sp_level;

struct sp_state {
	sp_level *lv;             /* owned: cap levels, t->n_sp open */
	uint32_t cap;
	sp_entry *top;            /* owned: the newest entry (chain: older) */
	uint64_t next_seq;
	uint32_t *mkey;           /* owned: page -> newest entry, open */
	sp_entry **mval;          /* addressing; key pgno + 1, 0 = empty; */
	uint32_t mcap, mused;     /* a key stays when its value is NULL */
	rdb_rc broken;            /* a rollback failed half-way */
};

/* ==== page -> newest entry ============================================ */

static uint32_t map_slot(const sp_state *s, rdb_pgno pgno)
{
	uint32_t i = (uint32_t)(pgno * 2654435761u) & (s->mcap - 1);

	while (s->mkey[i] != 0 && s->mkey[i] != pgno + 1)
		i = (i + 1) & (s->mcap - 1);
	return i;
}

static sp_entry *map_get(const sp_state *s, rdb_pgno pgno)
{
	uint32_t i;

	if (s->mcap == 0)
		return NULL;
	i = map_slot(s, pgno);
	return s->mkey[i] != 0 ? s->mval[i] : NULL;
}

/* Set pgno's entry; room for a new key must have been reserved. */
static void map_set(sp_state *s, rdb_pgno pgno, sp_entry *e)
{
	uint32_t i = map_slot(s, pgno);

	if (s->mkey[i] == 0) {
		s->mkey[i] = pgno + 1;
		s->mused++;
	}
	s->mval[i] = e;
}

/* Room for one more key (load at most 3/4). */
static rdb_rc map_reserve(sp_state *s)
{
	uint32_t cap = s->mcap ? s->mcap * 2 : 64, i, old = s->mcap;
	uint32_t *k = s->mkey;
	sp_entry **v = s->mval;

	if ((uint64_t)(s->mused + 1) * 4 <= (uint64_t)s->mcap * 3)
		return RDB_OK;
	s->mkey = rdb_calloc(cap, sizeof(*s->mkey));
	s->mval = rdb_calloc(cap, sizeof(*s->mval));
	if (s->mkey == NULL || s->mval == NULL) {
		rdb_free(s->mkey);
		rdb_free(s->mval);
		s->mkey = k;
		s->mval = v;
		return RDB_NOMEM;
	}
	s->mcap = cap;
	s->mused = 0;
	for (i = 0; i < old; i++)
		if (k[i] != 0)
			map_set(s, k[i] - 1, v[i]);
	rdb_free(k);
	rdb_free(v);
	return RDB_OK;
}

/* ==== the journal ===================================================== */

static void free_entries(sp_entry *e)
{
	while (e != NULL) {
		sp_entry *o = e->older;

		rdb_free(e);
		e = o;
	}
}

/* A map this small is cleared in place; a larger one is freed, so that
 * releasing a savepoint costs what its statement journalled, not what the
 * largest one before it did. */
#define MAP_KEEP 256u

/* Forget every entry (no savepoint is open any more). */
static void journal_clear(sp_state *s)
{
	free_entries(s->top);
	s->top = NULL;
	s->next_seq = 0;
	if (s->mused == 0)
		return;
	if (s->mcap <= MAP_KEEP) {
		memset(s->mkey, 0, sizeof(*s->mkey) * s->mcap);
		memset(s->mval, 0, sizeof(*s->mval) * s->mcap);
	} else {
		rdb_free(s->mkey);
		rdb_free(s->mval);
		s->mkey = NULL;
		s->mval = NULL;
		s->mcap = 0;
	}
	s->mused = 0;
}

static const sp_level *top_level(const pager_txn *t)
{
	return &t->sp->lv[t->n_sp - 1];
}

/* Has pgno an entry since the newest savepoint began? */
static int in_scope(const pager_txn *t, rdb_pgno pgno)
{
	const sp_entry *e = map_get(t->sp, pgno);

	return e != NULL && e->seq >= top_level(t)->start;
}

/* Push an entry for pgno holding data (page_size bytes), or none. */
static rdb_rc journal_add(pager_txn *t, rdb_pgno pgno,
			  const unsigned char *data)
{
	sp_state *s = t->sp;
	uint32_t ps = t->p->page_size;
	sp_entry *e;

	if (map_reserve(s) != RDB_OK ||
	    (e = rdb_malloc(sizeof(*e) + (data != NULL ? ps : 0))) == NULL)
		return rdb_err_set(t->err, RDB_NOMEM,
				   "out of memory (savepoint journal)");
	e->pgno = pgno;
	e->has_data = data != NULL;
	e->final = 0;
	if (data != NULL)
		memcpy(e->data, data, ps);
	e->seq = s->next_seq++;
	e->older = s->top;
	e->same = map_get(s, pgno);
	s->top = e;
	map_set(s, pgno, e);
	return RDB_OK;
}

/*
 * Journal what pgno holds now, as t sees it (pg: a pinned handle of it if
 * the caller has one).  A page with no private copy whose versions all
 * live in the WAL or in the committed database file needs no bytes: its
 * current version stays where it is whatever a rollback takes back.
 */
static rdb_rc note_view(pager_txn *t, rdb_pgno pgno, pager_page *pg)
{
	pager *p = t->p;
	pager_page *f;
	rdb_rc rc;

	lock(&p->mu);
	f = txn_find_private(t, pgno);
	if (f != NULL)
		pool_pin(&p->pool, f);
	unlock(&p->mu);
	if (f == NULL && txn_logs_page(t, pgno))
		return journal_add(t, pgno, NULL);
	if (f == NULL && pg != NULL)
		return journal_add(t, pgno, pg->data);
	if (f == NULL && (rc = txn_get_page(t, pgno, &f)) != RDB_OK)
		return rc;
	rc = journal_add(t, pgno, f->data);
	pager_unref(f);
	return rc;
}

rdb_rc sp_broken(pager_txn *t)
{
	if (t->sp == NULL || t->sp->broken == RDB_OK)
		return RDB_OK;
	return rdb_err_set(t->err, t->sp->broken,
			   "a savepoint rollback failed: the transaction can "
			   "only be rolled back");
}

rdb_rc sp_note_page(pager_txn *t, pager_page *pg)
{
	rdb_rc rc = sp_broken(t);

	if (rc != RDB_OK || in_scope(t, pg->pgno))
		return rc;
	if (pg->pgno >= top_level(t)->h.page_count)
		return journal_add(t, pg->pgno, NULL);
	return note_view(t, pg->pgno, pg);
}

rdb_rc sp_note_unused(pager_txn *t, rdb_pgno pgno)
{
	rdb_rc rc = sp_broken(t);

	if (rc != RDB_OK || in_scope(t, pgno))
		return rc;
	return journal_add(t, pgno, NULL);
}

rdb_rc sp_note_free(pager_txn *t, rdb_pgno pgno)
{
	rdb_rc rc = sp_broken(t);

	if (rc != RDB_OK || in_scope(t, pgno))
		return rc;
	if (pgno >= top_level(t)->h.page_count)
		return journal_add(t, pgno, NULL);
	return note_view(t, pgno, NULL);
}

rdb_rc sp_note_spill(pager_txn *t, pager_page **v, uint32_t n)
{
	uint32_t i;
	rdb_rc rc;

	/* A broken journal is never used again: nothing to keep. */
	if (t->sp->broken != RDB_OK)
		return RDB_OK;
	for (i = 0; i < n; i++)
		if (!in_scope(t, v[i]->pgno) &&
		    (rc = journal_add(t, v[i]->pgno, v[i]->data)) != RDB_OK)
			return rc;
	return RDB_OK;
}

void sp_free(pager_txn *t)
{
	sp_state *s = t->sp;

	if (s == NULL)
		return;
	free_entries(s->top);
	rdb_free(s->lv);
	rdb_free(s->mkey);
	rdb_free(s->mval);
	rdb_free(s);
	t->sp = NULL;
	t->n_sp = 0;
}

#ifndef NDEBUG
int sp_check(pager_txn *t)
{
	const sp_entry *e;
	uint32_t i;

	if (t->sp == NULL)
		return t->n_sp == 0;
	for (i = 0; i < t->n_sp; i++) {
		assert(t->sp->lv[i].start <= t->sp->next_seq);
		assert(t->sp->lv[i].wal_n <= t->p->wal.n);
		assert(i == 0 || t->sp->lv[i].start >= t->sp->lv[i - 1].start);
		assert(i == 0 || t->sp->lv[i].wal_n >= t->sp->lv[i - 1].wal_n);
	}
	for (e = t->sp->top; e != NULL && e->older != NULL; e = e->older)
		assert(e->seq > e->older->seq);
	assert(t->sp->top == NULL || t->sp->top->seq + 1 == t->sp->next_seq);
	return 1;
}
#endif

/* ==== public calls ===================================================== */

static rdb_rc check_id(pager_txn *t, uint32_t id, const char *what)
{
	if (!t->write || id == 0 || id > t->n_sp)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "cannot %s savepoint %u: it is not open",
				   what, id);
	return sp_broken(t);
}

rdb_rc pager_savepoint(pager_txn *t, uint32_t *out)
{
	sp_level *lv;
	rdb_rc rc;

	assert(t != NULL && out != NULL);
	*out = 0;
	if (!t->write)
		return rdb_err_set(t->err, RDB_MISUSE,
				   "savepoint in a read transaction");
	if ((rc = sp_broken(t)) != RDB_OK)
		return rc;
	if (t->sp == NULL && (t->sp = rdb_calloc(1, sizeof(*t->sp))) == NULL)
		return rdb_err_set(t->err, RDB_NOMEM, "out of memory");
	if (t->n_sp == t->sp->cap) {
		uint32_t cap = t->sp->cap ? t->sp->cap * 2 : 8;
		sp_level *n = rdb_realloc(t->sp->lv, sizeof(*n) * cap);

		if (n == NULL)
			return rdb_err_set(t->err, RDB_NOMEM, "out of memory");
		t->sp->lv = n;
		t->sp->cap = cap;
	}
	lv = &t->sp->lv[t->n_sp];
	lv->start = t->sp->next_seq;
	lock(&t->p->mu);
	lv->wal_n = t->p->wal.n;
	unlock(&t->p->mu);
	lv->h = t->h;
	*out = ++t->n_sp;
	assert(sp_check(t));
	return RDB_OK;
}

rdb_rc pager_savepoint_release(pager_txn *t, uint32_t id)
{
	rdb_rc rc;

	assert(t != NULL);
	if ((rc = check_id(t, id, "release")) != RDB_OK)
		return rc;
	/* The entries stay: they belong to the enclosing savepoint now. */
	t->n_sp = id - 1;
	if (t->n_sp == 0)
		journal_clear(t->sp);
	assert(sp_check(t));
	return RDB_OK;
}

/* Take the entries made since `start` off the journal, newest first, and
 * point the map back at the older ones.  The oldest entry of each page
 * (the one with its bytes as of the savepoint) is marked final. */
static sp_entry *detach(sp_state *s, uint64_t start)
{
	sp_entry *list = s->top, *last = NULL, *e;

	for (e = s->top; e != NULL && e->seq >= start; e = e->older) {
		map_set(s, e->pgno, e->same);
		e->final = e->same == NULL || e->same->seq < start;
		last = e;
	}
	if (last == NULL)
		return NULL;
	s->top = last->older;
	last->older = NULL;
	s->next_seq = start;
	return list;
}

/* With mu held: apply the final entries that need no new frame (drop a
 * private copy, or overwrite one).  Cannot fail.  Afterwards every
 * private frame holds its savepoint bytes, so a spill while the rest is
 * restored writes only correct pages. */
static void restore_in_place(pager_txn *t, sp_entry *list)
{
	uint32_t ps = t->p->page_size;
	sp_entry *e;

	for (e = list; e != NULL; e = e->older) {
		pager_page *f;

		if (!e->final)
			continue;
		f = txn_find_private(t, e->pgno);
		if (f != NULL && !e->has_data)
			txn_discard_private(t, f);
		else if (f != NULL)
			memcpy(f->data, e->data, ps);
		e->final = f == NULL && e->has_data;
	}
}

/* Give the remaining pages private frames with their savepoint bytes
 * (a frame may have to be made by spilling). */
static rdb_rc restore_rest(pager_txn *t, sp_entry *list)
{
	sp_entry *e;
	rdb_rc rc;

	for (e = list; e != NULL; e = e->older) {
		pager_page *f;

		if (!e->final)
			continue;
		rc = txn_new_private(t, e->pgno, 0, &f);
		if (rc != RDB_OK)
			return rc;
		memcpy(f->data, e->data, t->p->page_size);
		pager_unref(f);
	}
	return RDB_OK;
}

rdb_rc pager_savepoint_rollback(pager_txn *t, uint32_t id)
{
	pager *p;
	sp_level *lv;
	sp_entry *list;
	rdb_rc rc;

	assert(t != NULL);
	if ((rc = check_id(t, id, "roll back to")) != RDB_OK)
		return rc;
	p = t->p;
	t->n_sp = id;
	lv = &t->sp->lv[id - 1];
	/* Cursors that remember the version find their place again. */
	t->version++;
	t->h = lv->h;
	list = detach(t->sp, lv->start);
	lock(&p->mu);
	/* Frames spilled since the savepoint: the journal holds every page
	 * among them whose bytes still matter. */
	wal_index_truncate_to(&p->wal, p, lv->wal_n);
	restore_in_place(t, list);
	unlock(&p->mu);
	rc = restore_rest(t, list);
	free_entries(list);
	if (rc != RDB_OK)
		t->sp->broken = rc;
	assert(sp_check(t));
	return rc;
}
