/*
 * pool.c -- the buffer pool: a fixed array of frames, a hash table keyed
 * by (page number, version), a free list, a clock over the clean frames
 * and an LRU list of the writer's private frames.  Every function here is
 * called with the pager's mutex held; none does I/O.
 * Design: src/pager/README.md, "Buffer pool".
 */
#include "pager/pager_int.h"
#include <assert.h>
#include <string.h>
#include <sys/mman.h>
#include "mem.h"

/* Pools at least this large are aligned to it and offered huge pages:
 * fewer page faults as frames are first used, fewer TLB misses after. */
#define HUGE_ALIGN ((size_t)2 << 20)

/* Uses a clean frame can bank (README.md, "Buffer pool"): each time it is
 * unpinned adds one, each pass of the clock's hand takes one.  A page
 * used between passes stays; a page read once goes at the next pass. */
#define REF_MAX 3u

static uint32_t hash_key(rdb_pgno pgno, uint64_t ver)
{
	uint64_t h = ((uint64_t)pgno * 0x9E3779B97F4A7C15ull) ^
		     (ver * 0xC2B2AE3D27D4EB4Full);

	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static void list_push_head(frame_list *l, pager_page *f)
{
	f->prev = NULL;
	f->next = l->head;
	if (l->head != NULL)
		l->head->prev = f;
	else
		l->tail = f;
	l->head = f;
	l->n++;
}

static frame_list *list_of(pool *pl, uint8_t which)
{
	switch (which) {
	case L_FREE: return &pl->free;
	case L_DIRTY: return &pl->dirty;
	default: return NULL;
	}
}

void pool_list_remove(pool *pl, pager_page *f)
{
	frame_list *l;

	if (f->list == L_CLEAN) {
		/* The clock finds clean frames by walking the array: leaving
		 * it touches nothing but f (a linked LRU would touch both
		 * neighbours, two cache misses on every hit). */
		f->list = L_NONE;
		pl->clean.n--;
		return;
	}
	if ((l = list_of(pl, f->list)) == NULL)
		return;
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
	f->list = L_NONE;
	l->n--;
}

static void list_put(pool *pl, pager_page *f, uint8_t which)
{
	assert(f->list == L_NONE);
	if (which == L_CLEAN) {
		pl->clean.n++;
		if (f->ref < REF_MAX)
			f->ref++;
	} else {
		list_push_head(list_of(pl, which), f);
	}
	f->list = which;
}

rdb_rc pool_init(pool *pl, uint32_t n_frames, uint32_t page_size, pager *p)
{
	uint32_t nb = 16, i;

	memset(pl, 0, sizeof(*pl));
	pl->n_frames = n_frames;
	pl->page_size = page_size;
	size_t bytes = (size_t)n_frames * page_size;
	int huge = bytes >= 2 * HUGE_ALIGN;

	while (nb < n_frames * 2)
		nb <<= 1;
	pl->mem_raw = rdb_malloc(bytes + (huge ? HUGE_ALIGN : 0));
	pl->frames = rdb_calloc(n_frames, sizeof(pager_page));
	pl->hash = rdb_calloc(nb, sizeof(pager_page *));
	if (pl->mem_raw == NULL || pl->frames == NULL || pl->hash == NULL) {
		rdb_free(pl->mem_raw);
		rdb_free(pl->frames);
		rdb_free(pl->hash);
		memset(pl, 0, sizeof(*pl));
		return RDB_NOMEM;
	}
	pl->mem = pl->mem_raw;
	if (huge) {
		uintptr_t a = ((uintptr_t)pl->mem_raw + HUGE_ALIGN - 1) &
			      ~(uintptr_t)(HUGE_ALIGN - 1);

		pl->mem = (unsigned char *)a;
#ifdef MADV_HUGEPAGE
		/* Only a hint: without huge pages nothing changes. */
		(void)madvise(pl->mem, bytes & ~(HUGE_ALIGN - 1),
			      MADV_HUGEPAGE);
#endif
	}
	/* Touch the frames now: the page faults (and, with huge pages, any
	 * compaction the kernel does to find them) happen once, at open,
	 * instead of inside the first large transaction. */
	memset(pl->mem, 0, bytes);
	pl->hash_mask = nb - 1;
	/* The writer may hold at most 7/8 of the pool as private pages, so
	 * readers always find frames for their own pages. */
	pl->max_private = n_frames - (n_frames / 8 > 4 ? n_frames / 8 : 4);
	for (i = 0; i < n_frames; i++) {
		pager_page *f = &pl->frames[i];

		f->p = p;
		f->data = pl->mem + (size_t)i * page_size;
		pthread_mutex_init(&f->latch, NULL);
		list_put(pl, f, L_FREE);
	}
	return RDB_OK;
}

void pool_destroy(pool *pl)
{
	uint32_t i;

	if (pl->frames != NULL)
		for (i = 0; i < pl->n_frames; i++)
			pthread_mutex_destroy(&pl->frames[i].latch);
	rdb_free(pl->mem_raw);
	rdb_free(pl->frames);
	rdb_free(pl->hash);
	memset(pl, 0, sizeof(*pl));
}

rdb_rc pool_resize(pool *pl, uint32_t n_frames, pager *p)
{
	pool np;
	rdb_rc rc;

	if (pl->free.n + pl->clean.n != pl->n_frames)
		return RDB_BUSY;          /* a frame is pinned or private */
	if ((rc = pool_init(&np, n_frames, pl->page_size, p)) != RDB_OK)
		return rc;
	pool_destroy(pl);
	*pl = np;
	return RDB_OK;
}

pager_page *pool_find(pool *pl, rdb_pgno pgno, uint64_t ver)
{
	pager_page *f = pl->hash[hash_key(pgno, ver) & pl->hash_mask];

	while (f != NULL && (f->pgno != pgno || f->ver != ver))
		f = f->hnext;
	return f;
}

void pool_hash_insert(pool *pl, pager_page *f)
{
	pager_page **b = &pl->hash[hash_key(f->pgno, f->ver) & pl->hash_mask];

	assert(!f->in_hash);
	f->hnext = *b;
	*b = f;
	f->in_hash = 1;
	if (f->ver == VER_PRIVATE)
		pl->n_private++;
}

void pool_hash_remove(pool *pl, pager_page *f)
{
	pager_page **b = &pl->hash[hash_key(f->pgno, f->ver) & pl->hash_mask];

	if (!f->in_hash)
		return;
	while (*b != f)
		b = &(*b)->hnext;
	*b = f->hnext;
	f->hnext = NULL;
	f->in_hash = 0;
	if (f->ver == VER_PRIVATE)
		pl->n_private--;
}

void pool_pin(pool *pl, pager_page *f)
{
	if (f->pin == 0)
		pool_list_remove(pl, f);
	f->pin++;
}

void pool_unpin(pool *pl, pager_page *f)
{
	assert(f->pin > 0);
	if (--f->pin > 0)
		return;
	if (!f->in_hash) {
		f->state = FR_FREE;
		list_put(pl, f, L_FREE);
	} else if (f->ver == VER_PRIVATE) {
		list_put(pl, f, L_DIRTY);
	} else {
		list_put(pl, f, L_CLEAN);
	}
}

/* The clock: sweep from the hand, taking one use off each clean frame
 * it passes, and take the first clean frame with none left.  At most
 * REF_MAX + 1 turns.  NULL when no frame is clean. */
static pager_page *clock_victim(pool *pl)
{
	uint64_t n;

	if (pl->clean.n == 0)
		return NULL;
	for (n = 0; n <= (REF_MAX + 1) * (uint64_t)pl->n_frames; n++) {
		pager_page *f = &pl->frames[pl->hand];

		if (++pl->hand == pl->n_frames)
			pl->hand = 0;
		if (f->list != L_CLEAN)
			continue;
		if (f->ref == 0)
			return f;
		f->ref--;
	}
	assert(!"clean frames counted but not found");
	return NULL;
}

pager_page *pool_take_frame(pool *pl, pager *p)
{
	pager_page *f = pl->free.tail;

	if (f == NULL) {
		f = clock_victim(pl);
		if (f == NULL)
			return NULL;
		pool_hash_remove(pl, f);
		atomic_fetch_add_explicit(&p->st_evictions, 1,
					  memory_order_relaxed);
	}
	pool_list_remove(pl, f);
	f->state = FR_FREE;
	f->load_rc = RDB_OK;
	f->pin = 0;
	f->ref = 0;
	return f;
}

void pool_discard(pool *pl, pager_page *f)
{
	pool_hash_remove(pl, f);
	if (f->pin == 0) {
		pool_list_remove(pl, f);
		f->state = FR_FREE;
		list_put(pl, f, L_FREE);
	}
}
