/*
 * sorter.c -- the external sorter: an in-memory run (mrows plus an index
 * sorted with qsort_r), runs spilled to a private page file, and a k-way
 * heap merge over them, in several passes when needed.  Design and the
 * spill file's bytes: src/sql/README.md ("Sorting").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE               /* qsort_r */
#endif
#include "sorter.h"
#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#include "exec.h"
#include "mem.h"

/* Spill page layout: [0,8) XXH3-64 of [8, page_size) seeded with the page
 * number; [8,12) data bytes used in this page (little-endian); [12, ...)
 * the run's byte stream of records. */
#define PG_HDR 12u
#define MAX_FAN_IN 4096

typedef struct spill_run {
	uint64_t first;           /* first page */
	uint64_t npages;
	long nrows;
} spill_run;

typedef struct reader {
	uint64_t pg, end;         /* next page to read; one past the last */
	unsigned char *page;      /* owned: page_size bytes */
	size_t pos, used;         /* read position and data bytes in page */
	long left;                /* records not yet read */
	rdb_buf rec;              /* owned: the current record's bytes */
	tbl_value *row;           /* owned: width values pointing into rec */
} reader;

typedef struct writer {
	uint64_t first, pg;       /* the run's first page; the page filling */
	unsigned char *page;      /* owned: page_size bytes */
	size_t used;              /* data bytes in page */
	long nrows;
} writer;

enum { ST_ADD = 0, ST_MEMORY, ST_MERGE, ST_DONE };

struct sorter {
	sorter_opts o;            /* cols/desc/nulls_first point below */
	int *key;                 /* owned: cols, desc, nulls_first */
	rdb_err *err;             /* borrowed */
	int state;
	mrows m;                  /* owned: the in-memory run */
	size_t mem;               /* estimated bytes of m */
	long *idx;                /* owned: m's rows in sorted order;
				     top-N: the heap of the kept rows */
	long nkept, cidx;         /* top-N: rows in the heap; idx's room */
	int topn;                 /* top-N mode (o.limit > 0, a key) */
	long pos;                 /* ST_MEMORY: next index in idx */
	os_file *f;               /* owned: the spill file, or NULL */
	uint64_t npages;          /* pages written to f */
	spill_run *runs;          /* owned */
	long nruns, cruns;
	reader *rd;               /* owned: the final merge's readers */
	int nrd;
	int *heap;                /* owned: reader indexes, a binary heap */
	int nheap;
	int advance;              /* ST_MERGE: heap[0] must be advanced */
	rdb_buf enc;              /* owned: scratch record encoding */
	rdb_buf prev_bytes;       /* owned: dedupe: the last row's bytes */
	tbl_value *prev;          /* owned: dedupe: the last row, or NULL */
	int have_prev;
	sorter_stats st;
};

static atomic_ulong spill_seq;

/* ---- comparing ------------------------------------------------------------ */

static int cmp_vals(const sorter *s, const tbl_value *a, const tbl_value *b)
{
	int i, c, n = s->o.ncols ? s->o.ncols : s->o.width;

	if (s->o.ncols < 0)
		return 0;
	for (i = 0; i < n; i++) {
		int k = s->o.ncols ? s->o.cols[i] : i;
		int an = a[k].cls == TBL_NULL, bn = b[k].cls == TBL_NULL;

		if (s->o.ncols && (an || bn)) {
			if (an && bn)
				continue;
			c = an ? -1 : 1;
			return s->o.nulls_first[i] ? c : -c;
		}
		if ((c = tbl_value_cmp(&a[k], &b[k])) != 0)
			return s->o.ncols && s->o.desc[i] ? -c : c;
	}
	return 0;
}

static int cmp_idx(const void *pa, const void *pb, void *arg)
{
	const sorter *s = arg;
	long ia = *(const long *)pa, ib = *(const long *)pb;
	int c = cmp_vals(s, mrows_row(&s->m, ia), mrows_row(&s->m, ib));

	return c != 0 ? c : (ia > ib) - (ia < ib);
}

static int rows_equal(int width, const tbl_value *a, const tbl_value *b)
{
	int i;

	for (i = 0; i < width; i++)
		if (tbl_value_cmp(&a[i], &b[i]) != 0)
			return 0;
	return 1;
}

/* ---- life cycle ----------------------------------------------------------- */

void sorter_opts_for(pager_txn *t, sorter_opts *o)
{
	pager *pg;
	pager_stats st;
	size_t b;

	o->dedupe = 0;
	o->limit = 0;
	if (t == NULL) {
		/* No transaction (nothing reads the database): never spill. */
		o->budget = SIZE_MAX;
		o->page_size = 4096;
		o->vfs = NULL;
		return;
	}
	pg = pager_txn_pager(t);
	pager_get_stats(pg, &st);
	b = (size_t)st.cache_pages * st.page_size / 2;
	o->budget = b > SORTER_MIN_BUDGET ? b : SORTER_MIN_BUDGET;
	o->page_size = st.page_size;
	o->vfs = pager_vfs(pg);
}

static rdb_rc check_opts(const sorter_opts *o, rdb_err *err)
{
	int i;

	if (o->width < 1 || o->ncols < SORTER_KEEP_ORDER ||
	    (o->ncols > 0 && o->cols == NULL) ||
	    o->page_size < 512 || o->page_size > 65536 ||
	    (o->vfs == NULL && o->budget != SIZE_MAX) ||
	    (o->dedupe && o->ncols != 0) || o->limit < 0)
		return rdb_err_set(err, RDB_MISUSE, "bad sorter options");
	for (i = 0; i < o->ncols; i++)
		if (o->cols[i] < 0 || o->cols[i] >= o->width)
			return rdb_err_set(err, RDB_MISUSE, "sort column %d "
					   "out of range", o->cols[i]);
	return RDB_OK;
}

rdb_rc sorter_new(const sorter_opts *o, rdb_err *err, sorter **out)
{
	sorter *s;
	int i, n = o->ncols > 0 ? o->ncols : 0;
	rdb_rc rc;

	*out = NULL;
	if ((rc = check_opts(o, err)) != RDB_OK)
		return rc;
	if ((s = rdb_calloc(1, sizeof(*s))) == NULL ||
	    (s->key = rdb_malloc(3 * (size_t)n * sizeof(int) + 1)) == NULL) {
		rdb_free(s);
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	}
	s->o = *o;
	s->err = err;
	for (i = 0; i < n; i++) {
		s->key[i] = o->cols[i];
		s->key[n + i] = o->desc != NULL && o->desc[i];
		s->key[2 * n + i] = o->nulls_first != NULL
					    ? o->nulls_first[i] != 0
					    : !s->key[n + i];
	}
	s->o.cols = s->key;
	s->o.desc = s->key + n;
	s->o.nulls_first = s->key + 2 * n;
	mrows_init(&s->m, o->width);
	s->topn = o->limit > 0 && o->ncols > 0;
	s->st.fan_in = (int)(o->budget / (o->page_size + 64u)) - 1;
	if (s->st.fan_in < 2)
		s->st.fan_in = 2;
	if (s->st.fan_in > MAX_FAN_IN)
		s->st.fan_in = MAX_FAN_IN;
	*out = s;
	return RDB_OK;
}

static void readers_free(sorter *s)
{
	int i;

	for (i = 0; i < s->nrd; i++) {
		rdb_free(s->rd[i].page);
		rdb_buf_free(&s->rd[i].rec);
		rdb_free(s->rd[i].row);
	}
	rdb_free(s->rd);
	rdb_free(s->heap);
	s->rd = NULL;
	s->heap = NULL;
	s->nrd = s->nheap = 0;
}

void sorter_free(sorter *s)
{
	if (s == NULL)
		return;
	readers_free(s);
	mrows_free(&s->m);
	rdb_free(s->idx);
	os_close(s->f);
	rdb_free(s->runs);
	rdb_buf_free(&s->enc);
	rdb_buf_free(&s->prev_bytes);
	rdb_free(s->prev);
	rdb_free(s->key);
	rdb_free(s);
}

long sorter_count(const sorter *s)
{
	return s->st.rows;
}

int sorter_spilled(const sorter *s)
{
	return s->nruns > 0 || s->st.runs > 0;
}

void sorter_get_stats(const sorter *s, sorter_stats *out)
{
	*out = s->st;
}

/* ---- the spill file --------------------------------------------------------- */

/* Create the spill file and unlink it at once: it lives as long as the
 * open handle, so neither an error nor a crash leaves it behind. */
static rdb_rc spill_open(sorter *s)
{
	char path[512];
	const char *dir = getenv("TMPDIR");
	unsigned long n = atomic_fetch_add(&spill_seq, 1);
	struct timespec ts;
	rdb_rc rc;

	/* Unique enough without getpid(): the clock, this sorter's address
	 * and a counter; the name is gone again right after the open. */
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (dir == NULL || *dir == '\0' || strlen(dir) > 400)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/rdb-sort-%llx-%lx-%lu", dir,
		 (unsigned long long)ts.tv_sec * 1000000000ull +
			 (unsigned long long)ts.tv_nsec,
		 (unsigned long)(uintptr_t)s, n);
	rc = s->o.vfs->open(s->o.vfs, path, OS_OPEN_CREATE, &s->f, s->err);
	if (rc != RDB_OK)
		return rc;
	if ((rc = s->o.vfs->remove(s->o.vfs, path, s->err)) != RDB_OK) {
		os_close(s->f);
		s->f = NULL;
	}
	return rc;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static rdb_rc page_flush(sorter *s, writer *w)
{
	uint32_t ps = s->o.page_size;
	uint64_t sum;
	rdb_rc rc;

	put_u32(w->page + 8, (uint32_t)w->used);
	memset(w->page + PG_HDR + w->used, 0, ps - PG_HDR - w->used);
	sum = XXH3_64bits_withSeed(w->page + 8, ps - 8, w->pg);
	memcpy(w->page, &sum, 8);
	rc = os_write(s->f, w->pg * ps, w->page, ps, s->err);
	if (rc != RDB_OK)
		return rc;
	w->pg++;
	w->used = 0;
	s->st.pages++;
	return RDB_OK;
}

static rdb_rc writer_start(sorter *s, writer *w)
{
	rdb_rc rc;

	memset(w, 0, sizeof(*w));
	if (s->f == NULL && (rc = spill_open(s)) != RDB_OK)
		return rc;
	if ((w->page = rdb_malloc(s->o.page_size)) == NULL)
		return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
	w->first = w->pg = s->npages;
	return RDB_OK;
}

static rdb_rc writer_put(sorter *s, writer *w, const unsigned char *p,
			 size_t n)
{
	size_t room, k;
	rdb_rc rc;

	while (n > 0) {
		room = s->o.page_size - PG_HDR - w->used;
		k = n < room ? n : room;
		memcpy(w->page + PG_HDR + w->used, p, k);
		w->used += k;
		p += k;
		n -= k;
		if (w->used == s->o.page_size - PG_HDR &&
		    (rc = page_flush(s, w)) != RDB_OK)
			return rc;
	}
	return RDB_OK;
}

/* Flush the last page and record the run (spliced in at position at). */
static rdb_rc writer_end(sorter *s, writer *w, spill_run *out)
{
	rdb_rc rc;

	if (w->used > 0 && (rc = page_flush(s, w)) != RDB_OK)
		return rc;
	out->first = w->first;
	out->npages = w->pg - w->first;
	out->nrows = w->nrows;
	s->npages = w->pg;
	rdb_free(w->page);
	w->page = NULL;
	s->st.runs++;
	return RDB_OK;
}

/* ---- records ------------------------------------------------------------------ *
 * A record: varint body length, then per value a class byte and INT:
 * zigzag varint; REAL: 8 bytes; TEXT, BLOB: varint length, bytes. */

static size_t varint(unsigned char *t, uint64_t v)
{
	size_t n = 0;

	do {
		t[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return n;
}

static rdb_rc put_varint(rdb_buf *b, uint64_t v)
{
	unsigned char t[10];

	return rdb_buf_append(b, t, varint(t, v));
}

static rdb_rc encode_value(rdb_buf *b, const tbl_value *v)
{
	uint64_t z;
	rdb_rc rc = rdb_buf_putc(b, (unsigned char)v->cls);

	if (rc != RDB_OK)
		return rc;
	switch (v->cls) {
	case TBL_INT:
		z = ((uint64_t)v->i << 1) ^ (uint64_t)(v->i >> 63);
		return put_varint(b, z);
	case TBL_REAL:
		return rdb_buf_append(b, &v->r, sizeof(v->r));
	case TBL_TEXT: case TBL_BLOB:
		if ((rc = put_varint(b, v->n)) != RDB_OK)
			return rc;
		return v->n ? rdb_buf_append(b, v->p, v->n) : RDB_OK;
	default:
		return RDB_OK;
	}
}

static rdb_rc write_row(sorter *s, writer *w, const tbl_value *row)
{
	unsigned char hdr[10];
	size_t hn;
	int i;
	rdb_rc rc = RDB_OK;

	rdb_buf_reset(&s->enc);
	for (i = 0; i < s->o.width && rc == RDB_OK; i++)
		rc = encode_value(&s->enc, &row[i]);
	if (rc != RDB_OK)
		return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
	hn = varint(hdr, s->enc.n);
	if ((rc = writer_put(s, w, hdr, hn)) != RDB_OK ||
	    (rc = writer_put(s, w, s->enc.p, s->enc.n)) != RDB_OK)
		return rc;
	w->nrows++;
	return RDB_OK;
}

static int get_varint(const unsigned char **p, const unsigned char *end,
		      uint64_t *out)
{
	uint64_t v = 0;
	int shift = 0;

	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 1;
		}
		shift += 7;
	}
	return 0;
}

static int decode_value(const unsigned char **p, const unsigned char *end,
			tbl_value *v)
{
	uint64_t z;

	memset(v, 0, sizeof(*v));
	if (*p >= end || **p > TBL_BLOB)
		return 0;
	v->cls = (tbl_class)*(*p)++;
	switch (v->cls) {
	case TBL_INT:
		if (!get_varint(p, end, &z))
			return 0;
		v->i = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
		return 1;
	case TBL_REAL:
		if (end - *p < 8)
			return 0;
		memcpy(&v->r, *p, 8);
		*p += 8;
		return v->r == v->r;
	case TBL_TEXT: case TBL_BLOB:
		if (!get_varint(p, end, &z) || z > (uint64_t)(end - *p))
			return 0;
		v->n = (size_t)z;
		v->p = *p;
		*p += z;
		return 1;
	default:
		return 1;
	}
}

/* ---- reading runs --------------------------------------------------------------- */

static rdb_rc corrupt(sorter *s, uint64_t pg, const char *what)
{
	return rdb_err_set(s->err, RDB_CORRUPT, "sort spill file page %llu: "
			   "%s", (unsigned long long)pg, what);
}

static rdb_rc reader_load(sorter *s, reader *r)
{
	uint32_t ps = s->o.page_size;
	uint64_t sum;
	size_t got;
	rdb_rc rc;

	if (r->pg >= r->end)
		return corrupt(s, r->pg, "run ends inside a record");
	rc = os_read(s->f, r->pg * ps, r->page, ps, &got, s->err);
	if (rc != RDB_OK)
		return rc;
	if (got != ps)
		return corrupt(s, r->pg, "short read");
	memcpy(&sum, r->page, 8);
	if (sum != XXH3_64bits_withSeed(r->page + 8, ps - 8, r->pg))
		return corrupt(s, r->pg, "checksum mismatch");
	r->used = get_u32(r->page + 8);
	if (r->used == 0 || r->used > ps - PG_HDR)
		return corrupt(s, r->pg, "bad byte count");
	r->pg++;
	r->pos = 0;
	return RDB_OK;
}

/* Copy the next n bytes of the run to dst (NULL: into r->rec). */
static rdb_rc reader_get(sorter *s, reader *r, unsigned char *dst, size_t n)
{
	size_t k;
	rdb_rc rc;

	while (n > 0) {
		if (r->pos == r->used && (rc = reader_load(s, r)) != RDB_OK)
			return rc;
		k = r->used - r->pos;
		k = n < k ? n : k;
		if (dst != NULL) {
			memcpy(dst, r->page + PG_HDR + r->pos, k);
			dst += k;
		} else if (rdb_buf_append(&r->rec, r->page + PG_HDR + r->pos,
					  k) != RDB_OK) {
			return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
		}
		r->pos += k;
		n -= k;
	}
	return RDB_OK;
}

/* Read the run's next record into r->row.  *got = 0 at the run's end. */
static rdb_rc reader_next(sorter *s, reader *r, int *got)
{
	unsigned char c;
	uint64_t len = 0;
	const unsigned char *p, *end;
	int i, shift = 0;
	rdb_rc rc;

	*got = 0;
	if (r->left == 0)
		return RDB_OK;
	do {
		if ((rc = reader_get(s, r, &c, 1)) != RDB_OK)
			return rc;
		len |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while ((c & 0x80) && shift < 64);
	if ((c & 0x80) || len > ((uint64_t)1 << 40))
		return corrupt(s, r->pg - 1, "bad record length");
	rdb_buf_reset(&r->rec);
	if ((rc = reader_get(s, r, NULL, (size_t)len)) != RDB_OK)
		return rc;
	p = r->rec.p;
	end = p + r->rec.n;
	for (i = 0; i < s->o.width; i++)
		if (!decode_value(&p, end, &r->row[i]))
			return corrupt(s, r->pg - 1, "malformed record");
	if (p != end)
		return corrupt(s, r->pg - 1, "malformed record");
	r->left--;
	*got = 1;
	return RDB_OK;
}

/* ---- merging ---------------------------------------------------------------------- */

static int heap_less(const sorter *s, int a, int b)
{
	int c = cmp_vals(s, s->rd[a].row, s->rd[b].row);

	return c != 0 ? c < 0 : a < b;
}

static void heap_down(sorter *s, int i)
{
	int *h = s->heap, n = s->nheap, l, m, t;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < n && heap_less(s, h[l], h[m]))
			m = l;
		if (l + 1 < n && heap_less(s, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Readers over runs[a, b), each positioned on its first row, in a heap. */
static rdb_rc merge_open(sorter *s, long a, long b)
{
	int i, n = (int)(b - a), got;
	rdb_rc rc;

	readers_free(s);
	if ((s->rd = rdb_calloc((size_t)n, sizeof(reader))) == NULL ||
	    (s->heap = rdb_malloc((size_t)n * sizeof(int))) == NULL)
		return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
	s->nrd = n;
	for (i = 0; i < n; i++) {
		reader *r = &s->rd[i];

		r->pg = s->runs[a + i].first;
		r->end = r->pg + s->runs[a + i].npages;
		r->left = s->runs[a + i].nrows;
		r->page = rdb_malloc(s->o.page_size);
		r->row = rdb_calloc((size_t)s->o.width, sizeof(tbl_value));
		if (r->page == NULL || r->row == NULL)
			return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
		if ((rc = reader_next(s, r, &got)) != RDB_OK)
			return rc;
		if (got)
			s->heap[s->nheap++] = i;
	}
	for (i = s->nheap / 2 - 1; i >= 0; i--)
		heap_down(s, i);
	return RDB_OK;
}

/* Move heap[0]'s reader to its next row (or drop it) and restore order. */
static rdb_rc merge_advance(sorter *s)
{
	int got;
	rdb_rc rc = reader_next(s, &s->rd[s->heap[0]], &got);

	if (rc != RDB_OK)
		return rc;
	if (!got)
		s->heap[0] = s->heap[--s->nheap];
	heap_down(s, 0);
	return RDB_OK;
}

/* Merge runs[a, b) into one new run *out. */
static rdb_rc merge_runs(sorter *s, long a, long b, spill_run *out)
{
	writer w;
	rdb_rc rc = merge_open(s, a, b);

	if (rc == RDB_OK)
		rc = writer_start(s, &w);
	else
		memset(&w, 0, sizeof(w));
	while (rc == RDB_OK && s->nheap > 0) {
		rc = write_row(s, &w, s->rd[s->heap[0]].row);
		if (rc == RDB_OK)
			rc = merge_advance(s);
	}
	if (rc == RDB_OK)
		rc = writer_end(s, &w, out);
	rdb_free(w.page);
	readers_free(s);
	return rc;
}

/* One pass: every fan_in consecutive runs become one (order kept, so
 * the merge stays stable). */
static rdb_rc merge_pass(sorter *s)
{
	long a, n = 0, f = s->st.fan_in;
	rdb_rc rc;

	for (a = 0; a < s->nruns; a += f, n++) {
		long b = a + f < s->nruns ? a + f : s->nruns;
		spill_run out;

		if (b - a == 1) {
			s->runs[n] = s->runs[a];
			continue;
		}
		if ((rc = merge_runs(s, a, b, &out)) != RDB_OK)
			return rc;
		s->runs[n] = out;
	}
	s->nruns = n;
	s->st.passes++;
	return RDB_OK;
}

/* ---- memory ------------------------------------------------------------------------ */

/* What a row costs in memory: its values, its index entry, its bytes. */
static size_t row_cost(const sorter *s, const tbl_value *row)
{
	size_t n = (size_t)s->o.width * sizeof(tbl_value) + sizeof(long);
	int i;

	for (i = 0; i < s->o.width; i++)
		if (row[i].cls == TBL_TEXT || row[i].cls == TBL_BLOB)
			n += row[i].n;
	return n;
}

/* ---- top-N ------------------------------------------------------------------------ *
 * With a limit, m holds the rows kept so far plus dead ones (evicted
 * from the heap, their bytes still in m's chunks); idx[0 .. nkept) is a
 * heap whose root is the kept row that would come out last (key, then
 * position in m: positions follow the order rows were added, so ties
 * keep the sort's stability).  A row that would come out after the root
 * of a full heap is dropped at once.  When dead rows outnumber the kept
 * ones, the kept rows are copied into a fresh m in the order they came. */

/* Does row a of m come out before row b? */
static int topn_before(const sorter *s, long a, long b)
{
	int c = cmp_vals(s, mrows_row(&s->m, a), mrows_row(&s->m, b));

	return c != 0 ? c < 0 : a < b;
}

static void topn_swap(long *h, long i, long j)
{
	long t = h[i];

	h[i] = h[j];
	h[j] = t;
}

static void topn_up(sorter *s, long i)
{
	long parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!topn_before(s, s->idx[parent], s->idx[i]))
			return;
		topn_swap(s->idx, parent, i);
		i = parent;
	}
}

static void topn_down(sorter *s, long i)
{
	long l, m, n = s->nkept;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < n && topn_before(s, s->idx[m], s->idx[l]))
			m = l;
		if (l + 1 < n && topn_before(s, s->idx[m], s->idx[l + 1]))
			m = l + 1;
		if (m == i)
			return;
		topn_swap(s->idx, i, m);
		i = m;
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Copy the kept rows into a fresh m, in the order they were added, and
 * rebuild the heap over them. */
static rdb_rc topn_compact(sorter *s)
{
	mrows nm;
	const tbl_value *row;
	long i;
	rdb_rc rc;

	if (s->nkept > 1)
		qsort(s->idx, (size_t)s->nkept, sizeof(long), cmp_long);
	mrows_init(&nm, s->o.width);
	s->mem = 0;
	for (i = 0; i < s->nkept; i++) {
		row = mrows_row(&s->m, s->idx[i]);
		if ((rc = mrows_add(&nm, row, s->err)) != RDB_OK) {
			mrows_free(&nm);
			return rc;
		}
		s->mem += row_cost(s, row);
		s->idx[i] = i;
	}
	mrows_free(&s->m);
	s->m = nm;
	for (i = s->nkept / 2 - 1; i >= 0; i--)
		topn_down(s, i);
	return RDB_OK;
}

/* Leave top-N mode: m holds the kept rows in the order they came, as if
 * only they had been added; from now on every row is kept. */
static rdb_rc topn_stop(sorter *s)
{
	rdb_rc rc = topn_compact(s);

	rdb_free(s->idx);
	s->idx = NULL;
	s->nkept = s->cidx = 0;
	s->topn = 0;
	return rc;
}

static rdb_rc topn_add(sorter *s, const tbl_value *row)
{
	int full = s->nkept == s->o.limit;
	rdb_rc rc;

	s->st.rows++;
	if (full) {
		s->st.dropped++;
		if (cmp_vals(s, row, mrows_row(&s->m, s->idx[0])) >= 0)
			return RDB_OK;       /* would come out after them all */
	} else if (s->nkept == s->cidx) {
		long cap = s->cidx ? 2 * s->cidx : 64;
		long *n = rdb_realloc(s->idx, (size_t)cap * sizeof(*n));

		if (n == NULL)
			return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
		s->idx = n;
		s->cidx = cap;
	}
	if ((rc = mrows_add(&s->m, row, s->err)) != RDB_OK)
		return rc;
	s->mem += row_cost(s, row);
	if (full) {
		s->idx[0] = s->m.n - 1;
		topn_down(s, 0);
	} else {
		s->idx[s->nkept++] = s->m.n - 1;
		topn_up(s, s->nkept - 1);
	}
	if ((s->m.n - s->nkept > s->nkept + 64 || s->mem > s->o.budget) &&
	    (rc = topn_compact(s)) != RDB_OK)
		return rc;
	if (s->mem > s->o.budget) {
		s->st.topn_off = 1;
		return topn_stop(s);
	}
	return RDB_OK;
}

/* ---- adding rows ---------------------------------------------------------------- */

static rdb_rc sort_memory(sorter *s)
{
	long i;

	rdb_free(s->idx);
	s->idx = NULL;
	if ((s->idx = rdb_malloc(((size_t)s->m.n + 1) * sizeof(long))) == NULL)
		return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < s->m.n; i++)
		s->idx[i] = i;
	if (s->o.ncols >= 0 && s->m.n > 1)
		qsort_r(s->idx, (size_t)s->m.n, sizeof(long), cmp_idx, s);
	return RDB_OK;
}

static rdb_rc add_run(sorter *s, const spill_run *r)
{
	if (s->nruns == s->cruns) {
		long cap = s->cruns ? 2 * s->cruns : 16;
		spill_run *n = rdb_realloc(s->runs, (size_t)cap * sizeof(*n));

		if (n == NULL)
			return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
		s->runs = n;
		s->cruns = cap;
	}
	s->runs[s->nruns++] = *r;
	return RDB_OK;
}

/* Sort the rows in memory and write them as a run. */
static rdb_rc spill(sorter *s)
{
	writer w;
	spill_run run;
	long i;
	rdb_rc rc;

	if ((rc = sort_memory(s)) != RDB_OK)
		return rc;
	rc = writer_start(s, &w);
	for (i = 0; i < s->m.n && rc == RDB_OK; i++)
		rc = write_row(s, &w, mrows_row(&s->m, s->idx[i]));
	if (rc == RDB_OK)
		rc = writer_end(s, &w, &run);
	rdb_free(w.page);
	if (rc == RDB_OK)
		rc = add_run(s, &run);
	mrows_reset(&s->m);
	rdb_free(s->idx);
	s->idx = NULL;
	s->mem = 0;
	return rc;
}

rdb_rc sorter_add(sorter *s, const tbl_value *row)
{
	size_t cost;
	rdb_rc rc;

	assert(s->state == ST_ADD);
	if (s->topn)
		return topn_add(s, row);
	cost = row_cost(s, row);
	if (s->m.n > 0 && s->mem + cost > s->o.budget &&
	    (rc = spill(s)) != RDB_OK)
		return rc;
	if ((rc = mrows_add(&s->m, row, s->err)) != RDB_OK)
		return rc;
	s->mem += cost;
	s->st.rows++;
	return RDB_OK;
}

/* Put m's rows in idx order, so that they are read sequentially. */
static rdb_rc permute(sorter *s)
{
	size_t w = (size_t)s->o.width;
	tbl_value *nv;
	long i;

	if ((nv = rdb_malloc(((size_t)s->m.n + 1) * w * sizeof(*nv))) == NULL)
		return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < s->m.n; i++)
		memcpy(nv + (size_t)i * w, mrows_row(&s->m, s->idx[i]),
		       w * sizeof(*nv));
	rdb_free(s->m.v);
	s->m.v = nv;
	s->m.cap = s->m.n + 1;
	rdb_free(s->idx);
	s->idx = NULL;
	return RDB_OK;
}

rdb_rc sorter_finish(sorter *s)
{
	rdb_rc rc;

	assert(s->state == ST_ADD);
	if (s->topn && (rc = topn_stop(s)) != RDB_OK)
		return rc;
	if (s->nruns == 0) {
		if (s->o.ncols >= 0 && s->m.n > 1 &&
		    ((rc = sort_memory(s)) != RDB_OK ||
		     (rc = permute(s)) != RDB_OK))
			return rc;
		s->state = ST_MEMORY;
		return RDB_OK;
	}
	if (s->m.n > 0 && (rc = spill(s)) != RDB_OK)
		return rc;
	while (s->nruns > s->st.fan_in)
		if ((rc = merge_pass(s)) != RDB_OK)
			return rc;
	if ((rc = merge_open(s, 0, s->nruns)) != RDB_OK)
		return rc;
	s->state = ST_MERGE;
	return RDB_OK;
}

/* ---- reading the result -------------------------------------------------------- */

/* The next row before dedupe. */
static rdb_rc next_raw(sorter *s, const tbl_value **row)
{
	rdb_rc rc;

	if (s->state == ST_MEMORY) {
		if (s->pos >= s->m.n)
			return RDB_DONE;
		*row = mrows_row(&s->m, s->pos++);
		return RDB_ROW;
	}
	if (s->advance && (rc = merge_advance(s)) != RDB_OK)
		return rc;
	s->advance = 0;
	if (s->nheap == 0)
		return RDB_DONE;
	*row = s->rd[s->heap[0]].row;
	s->advance = 1;
	return RDB_ROW;
}

/* Keep a copy of row as the last row seen (dedupe over merged runs). */
static rdb_rc keep_prev(sorter *s, const tbl_value *row)
{
	if (s->prev == NULL &&
	    (s->prev = rdb_malloc((size_t)s->o.width * sizeof(tbl_value))) ==
	    NULL)
		return rdb_err_set(s->err, RDB_NOMEM, "out of memory");
	s->have_prev = 0;
	if (mrows_copy_row(&s->prev_bytes, s->prev, row, s->o.width,
			   s->err) != RDB_OK)
		return RDB_NOMEM;
	s->have_prev = 1;
	return RDB_OK;
}

rdb_rc sorter_next(sorter *s, const tbl_value **row)
{
	const tbl_value *r = NULL;
	rdb_rc rc;

	*row = NULL;
	if (s->state == ST_DONE)
		return RDB_DONE;
	assert(s->state == ST_MEMORY || s->state == ST_MERGE);
	for (;;) {
		if ((rc = next_raw(s, &r)) != RDB_ROW) {
			if (rc == RDB_DONE)
				s->state = ST_DONE;
			return rc;
		}
		if (!s->o.dedupe)
			break;
		if (s->have_prev && rows_equal(s->o.width, s->prev, r))
			continue;
		if ((rc = keep_prev(s, r)) != RDB_OK)
			return rc;
		break;
	}
	*row = r;
	return RDB_ROW;
}
