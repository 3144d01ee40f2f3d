/*
 * check_sorter.c -- the sql layer's external sorter (src/sql/sorter.h):
 * a randomized model test against qsort at tiny budgets (many runs,
 * multi-pass merges), allocation and I/O faults, damaged spill pages, and
 * ORDER BY / GROUP BY / compounds through the public API with a tiny
 * cache giving the same rows as with a large one.  Cases: model, faults,
 * sql, large.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api/api_test.h"
#include "mem.h"
#include "rdb.h"
#include "pager/os.h"
#include "sql/sorter.h"
#include "sql_util.h"
#include "table/table.h"
#include "test_util.h"

/* ---- the model ------------------------------------------------------------ */

typedef struct mrow {
	tbl_value v[4];           /* text and blob bytes: malloc'd */
	long seq;
} mrow;

typedef struct spec {
	int width, ncols, dedupe;
	int cols[4], desc[4], nf[4];
} spec;

static const char alpha[] = "abAB z\x01\xff";

static void gen_value(uint64_t *s, tbl_value *v)
{
	unsigned r = (unsigned)tu_rand_below(s, 10);
	size_t i, n;
	char *p;

	memset(v, 0, sizeof(*v));
	if (r == 0)
		return;
	if (r <= 3) {
		v->cls = TBL_INT;
		v->i = (int64_t)tu_rand_below(s, 11) - 5;
		if (tu_rand_below(s, 20) == 0)
			v->i = (int64_t)tu_rand(s);
		return;
	}
	if (r <= 5) {
		v->cls = TBL_REAL;
		v->r = (double)((int64_t)tu_rand_below(s, 21) - 10) / 2.0;
		return;
	}
	v->cls = r <= 7 ? TBL_TEXT : TBL_BLOB;
	n = tu_rand_below(s, 6);
	if (tu_rand_below(s, 40) == 0)
		n = 200 + tu_rand_below(s, 1500);   /* spans spill pages */
	p = malloc(n + 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++)
		p[i] = alpha[tu_rand_below(s, sizeof(alpha) - 1)];
	v->p = p;
	v->n = n;
}

static void free_rows(mrow *rows, long n)
{
	long i;
	int k;

	for (i = 0; i < n; i++)
		for (k = 0; k < 4; k++)
			free((void *)rows[i].v[k].p);
	free(rows);
}

static const spec *cmp_spec;

/* The order the sorter promises, written independently of sorter.c. */
static int model_cmp(const void *pa, const void *pb)
{
	const mrow *a = pa, *b = pb;
	const spec *sp = cmp_spec;
	int i, c, n = sp->ncols > 0 ? sp->ncols : sp->width;

	for (i = 0; sp->ncols >= 0 && i < n; i++) {
		int k = sp->ncols > 0 ? sp->cols[i] : i;
		int an = a->v[k].cls == TBL_NULL, bn = b->v[k].cls == TBL_NULL;

		c = tbl_value_cmp(&a->v[k], &b->v[k]);
		if (sp->ncols > 0 && an != bn)
			return (an ? -1 : 1) * (sp->nf[i] ? 1 : -1);
		if (c != 0)
			return sp->ncols > 0 && sp->desc[i] ? -c : c;
	}
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int same_value(const tbl_value *a, const tbl_value *b)
{
	if (a->cls != b->cls)
		return 0;
	switch (a->cls) {
	case TBL_INT: return a->i == b->i;
	case TBL_REAL: return memcmp(&a->r, &b->r, sizeof(a->r)) == 0;
	case TBL_TEXT: case TBL_BLOB:
		return a->n == b->n && (a->n == 0 ||
					memcmp(a->p, b->p, a->n) == 0);
	default: return 1;
	}
}

static int all_equal(int w, const tbl_value *a, const tbl_value *b)
{
	int i;

	for (i = 0; i < w; i++)
		if (tbl_value_cmp(&a[i], &b[i]) != 0)
			return 0;
	return 1;
}

static void random_spec(uint64_t *s, spec *sp)
{
	int i;

	memset(sp, 0, sizeof(*sp));
	sp->width = 1 + (int)tu_rand_below(s, 4);
	switch (tu_rand_below(s, 4)) {
	case 0:
		sp->ncols = 0;
		sp->dedupe = (int)tu_rand_below(s, 2);
		return;
	case 1:
		sp->ncols = SORTER_KEEP_ORDER;
		return;
	default:
		sp->ncols = 1 + (int)tu_rand_below(s, (uint64_t)sp->width);
	}
	for (i = 0; i < sp->ncols; i++) {
		sp->cols[i] = (int)tu_rand_below(s, (uint64_t)sp->width);
		sp->desc[i] = (int)tu_rand_below(s, 2);
		sp->nf[i] = (int)tu_rand_below(s, 2);
	}
}

static void opts_of(const spec *sp, os_vfs *vfs, size_t budget,
		    uint32_t page, sorter_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->width = sp->width;
	o->ncols = sp->ncols;
	o->cols = sp->cols;
	o->desc = sp->desc;
	o->nulls_first = sp->nf;
	o->dedupe = sp->dedupe;
	o->budget = budget;
	o->page_size = page;
	o->vfs = vfs;
}

/* Sort rows[0..n) with the sorter (rows must stay in input order) and
 * compare with the model; returns the sorter's stats. */
static void check_against_model(const spec *sp, mrow *rows, long n,
				os_vfs *vfs, size_t budget, uint32_t page,
				sorter_stats *st)
{
	rdb_err err = { 0 };
	sorter_opts o;
	sorter *s;
	const tbl_value *row;
	long i, out = 0, prev = -1;
	rdb_rc rc;

	opts_of(sp, vfs, budget, page, &o);
	ck_assert_int_eq(sorter_new(&o, &err, &s), RDB_OK);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(sorter_add(s, rows[i].v), RDB_OK);
	ck_assert_int_eq(sorter_finish(s), RDB_OK);
	cmp_spec = sp;
	qsort(rows, (size_t)n, sizeof(*rows), model_cmp);
	for (i = 0; i < n; i++) {
		int k;

		if (sp->dedupe && prev >= 0 &&
		    all_equal(sp->width, rows[prev].v, rows[i].v))
			continue;
		prev = i;
		rc = sorter_next(s, &row);
		ck_assert_msg(rc == RDB_ROW, "row %ld: rc %d (%s)", out, rc,
			      err.msg);
		for (k = 0; k < sp->width; k++)
			ck_assert_msg(same_value(&row[k], &rows[i].v[k]),
				      "row %ld col %d differs", out, k);
		out++;
	}
	ck_assert_int_eq(sorter_next(s, &row), RDB_DONE);
	ck_assert_int_eq(sorter_next(s, &row), RDB_DONE);
	sorter_get_stats(s, st);
	ck_assert_int_eq(sorter_count(s), n);
	sorter_free(s);
}

static mrow *gen_rows(uint64_t *s, const spec *sp, long n)
{
	mrow *rows = calloc((size_t)n + 1, sizeof(*rows));
	long i;
	int k;

	ck_assert_ptr_nonnull(rows);
	for (i = 0; i < n; i++) {
		for (k = 0; k < sp->width; k++)
			gen_value(s, &rows[i].v[k]);
		rows[i].seq = i;
	}
	return rows;
}

/* ---- model ------------------------------------------------------------------ */

START_TEST(test_sorter_random_specs_tiny_budgets_match_qsort)
{
	uint64_t seed = tu_seed(), s = seed;
	os_vfs *vfs = os_mem_new();
	long iters = tu_scaled(60, 10), it, spilled = 0, multipass = 0;

	tu_seed_note("sorter model", seed);
	ck_assert_ptr_nonnull(vfs);
	for (it = 0; it < iters; it++) {
		spec sp;
		sorter_stats st;
		long n = (long)tu_rand_below(&s, 3000);
		size_t budget = 256 + tu_rand_below(&s, 8192);
		uint32_t page = tu_rand_below(&s, 2) ? 512 : 1024;
		mrow *rows;

		if (it % 5 == 0)
			budget = 1u << 20;     /* in memory */
		random_spec(&s, &sp);
		rows = gen_rows(&s, &sp, n);
		check_against_model(&sp, rows, n, vfs, budget, page, &st);
		spilled += st.runs > 0;
		multipass += st.passes > 0;
		free_rows(rows, n);
	}
	ck_assert_int_gt(spilled, iters / 3);
	ck_assert_int_gt(multipass, 0);
	os_mem_free(vfs);
}
END_TEST

START_TEST(test_sorter_many_runs_merge_in_several_passes)
{
	uint64_t s = 77;
	os_vfs *vfs = os_mem_new();
	spec sp = { .width = 2, .ncols = 1, .cols = { 1 }, .desc = { 1 } };
	long n = tu_scaled(20000, 2000);
	mrow *rows = gen_rows(&s, &sp, n);
	sorter_stats st;

	check_against_model(&sp, rows, n, vfs, 2048, 512, &st);
	ck_assert_int_gt(st.runs, 50);
	ck_assert_int_ge(st.passes, 2);
	ck_assert_int_eq(st.fan_in, 2);
	free_rows(rows, n);
	os_mem_free(vfs);
}
END_TEST

START_TEST(test_sorter_empty_and_single_row_inputs_work)
{
	os_vfs *vfs = os_mem_new();
	spec sp = { .width = 1, .ncols = 0 };
	uint64_t s = 5;
	mrow *rows = gen_rows(&s, &sp, 1);
	sorter_stats st;

	check_against_model(&sp, rows, 0, vfs, 64, 512, &st);
	check_against_model(&sp, rows, 1, vfs, 64, 512, &st);
	free_rows(rows, 1);
	os_mem_free(vfs);
}
END_TEST

START_TEST(test_sorter_bad_options_are_misuse)
{
	rdb_err err = { 0 };
	sorter_opts o;
	sorter *s = (sorter *)1;
	int col = 3;

	memset(&o, 0, sizeof(o));
	o.width = 2;
	o.ncols = 1;
	o.cols = &col;
	o.budget = 4096;
	o.page_size = 512;
	o.vfs = os_unix_vfs();
	ck_assert_int_eq(sorter_new(&o, &err, &s), RDB_MISUSE);
	ck_assert_ptr_null(s);
	col = 1;
	o.page_size = 100;
	ck_assert_int_eq(sorter_new(&o, &err, &s), RDB_MISUSE);
	o.page_size = 512;
	o.dedupe = 1;
	ck_assert_int_eq(sorter_new(&o, &err, &s), RDB_MISUSE);
	sorter_free(NULL);
}
END_TEST

/* The spill file is unlinked as soon as it exists: the folder stays
 * empty while the sorter works and after it is freed. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

START_TEST(test_sorter_real_spill_file_leaves_nothing_behind)
{
	char dir[256];
	rdb_err err = { 0 };
	spec sp = { .width = 1, .ncols = 0 };
	sorter_opts o;
	sorter *s;
	const tbl_value *row;
	tbl_value v = { .cls = TBL_INT };
	long i, n = 5000;
	int64_t last = -1;

	tu_tmp_path(dir, sizeof(dir));
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(setenv("TMPDIR", dir, 1), 0);
	opts_of(&sp, os_unix_vfs(), 4096, 4096, &o);
	ck_assert_int_eq(sorter_new(&o, &err, &s), RDB_OK);
	for (i = 0; i < n; i++) {
		v.i = (i * 7919) % n;
		ck_assert_int_eq(sorter_add(s, &v), RDB_OK);
	}
	ck_assert(sorter_spilled(s));
	ck_assert_int_eq(dir_entries(dir), 0);
	ck_assert_int_eq(sorter_finish(s), RDB_OK);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sorter_next(s, &row), RDB_ROW);
		ck_assert_int_eq(row[0].i, last + 1);
		last = row[0].i;
	}
	ck_assert_int_eq(sorter_next(s, &row), RDB_DONE);
	sorter_free(s);
	ck_assert_int_eq(dir_entries(dir), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- faults ------------------------------------------------------------------ */

/* Sort 400 generated rows through a spill at a small budget; returns the
 * first error (RDB_OK when every row came back in order). */
static rdb_rc run_scenario(os_vfs *vfs, rdb_err *err)
{
	spec sp = { .width = 2, .ncols = 1, .cols = { 0 } };
	uint64_t s = 99;
	mrow *rows = gen_rows(&s, &sp, 400);
	sorter_opts o;
	sorter *so = NULL;
	const tbl_value *row;
	long i, got = 0;
	rdb_rc rc;

	opts_of(&sp, vfs, 1024, 512, &o);
	rc = sorter_new(&o, err, &so);
	for (i = 0; i < 400 && rc == RDB_OK; i++)
		rc = sorter_add(so, rows[i].v);
	if (rc == RDB_OK)
		rc = sorter_finish(so);
	if (rc == RDB_OK)
		while ((rc = sorter_next(so, &row)) == RDB_ROW)
			got++;
	if (rc == RDB_DONE) {
		ck_assert_int_eq(got, 400);
		rc = RDB_OK;
	}
	sorter_free(so);
	free_rows(rows, 400);
	return rc;
}

START_TEST(test_sorter_allocation_failures_fail_cleanly)
{
	os_vfs *vfs = os_mem_new();
	rdb_err err = { 0 };
	long n, fired = 0;
	rdb_rc rc;

	for (n = 1;; n++) {
		rdb_mem_fail_at(n, 0);
		rc = run_scenario(vfs, &err);
		rdb_mem_fail_at(0, 0);
		if (rc == RDB_OK)
			break;
		fired++;
		ck_assert_msg(rc == RDB_NOMEM, "alloc %ld: rc %d (%s)", n, rc,
			      err.msg);
		ck_assert_ptr_nonnull(strstr(err.msg, "memory"));
	}
	ck_assert_int_gt(fired, 20);
	os_mem_free(vfs);
}
END_TEST

static void io_faults(os_fault kind, rdb_rc want)
{
	os_vfs *vfs = os_mem_new();
	rdb_err err = { 0 };
	uint64_t calls, k;
	long fired = 0;
	rdb_rc rc;

	ck_assert_int_eq(run_scenario(vfs, &err), RDB_OK);
	os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(run_scenario(vfs, &err), RDB_OK);
	calls = os_mem_calls(vfs);
	ck_assert_uint_gt(calls, 20);
	for (k = 1; k <= calls; k++) {
		os_mem_set_fault(vfs, kind, k, 0, k);
		rc = run_scenario(vfs, &err);
		if (!os_mem_fault_fired(vfs)) {
			ck_assert_int_eq(rc, RDB_OK);
			continue;
		}
		fired++;
		ck_assert_msg(rc == want, "fault at %llu: rc %d (%s)",
			      (unsigned long long)k, rc, err.msg);
	}
	os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_gt(fired, 10);
	os_mem_free(vfs);
}

START_TEST(test_sorter_io_errors_fail_cleanly)
{
	io_faults(OS_FAULT_EIO, RDB_IOERR);
}
END_TEST

START_TEST(test_sorter_full_disk_is_rdb_full)
{
	io_faults(OS_FAULT_ENOSPC, RDB_FULL);
}
END_TEST

/* A vfs over os_mem that flips one byte of the nth read. */
typedef struct flip_vfs {
	os_vfs base;
	os_vfs *under;
	long reads, at;
	size_t off;
} flip_vfs;

typedef struct flip_file {
	os_file base;
	os_file *under;
	flip_vfs *v;
} flip_file;

static rdb_rc flip_read(os_file *f, uint64_t off, void *buf, size_t n,
			size_t *got, rdb_err *err)
{
	flip_file *ff = (flip_file *)f;
	rdb_rc rc = os_read(ff->under, off, buf, n, got, err);

	if (rc == RDB_OK && ++ff->v->reads == ff->v->at && *got > ff->v->off)
		((unsigned char *)buf)[ff->v->off] ^= 0x20;
	return rc;
}

static rdb_rc flip_write(os_file *f, uint64_t off, const void *buf, size_t n,
			 rdb_err *err)
{
	return os_write(((flip_file *)f)->under, off, buf, n, err);
}

static rdb_rc flip_sync(os_file *f, rdb_err *err)
{
	return os_sync(((flip_file *)f)->under, err);
}

static rdb_rc flip_truncate(os_file *f, uint64_t size, rdb_err *err)
{
	return os_truncate(((flip_file *)f)->under, size, err);
}

static rdb_rc flip_size(os_file *f, uint64_t *out, rdb_err *err)
{
	return os_size(((flip_file *)f)->under, out, err);
}

static rdb_rc flip_lock(os_file *f, rdb_err *err)
{
	return os_lock(((flip_file *)f)->under, err);
}

static void flip_close(os_file *f)
{
	if (f == NULL)
		return;
	os_close(((flip_file *)f)->under);
	free(f);
}

static const os_file_methods flip_methods = {
	flip_read, flip_write, flip_sync, flip_truncate, flip_size, flip_lock,
	flip_close
};

static rdb_rc flip_open(os_vfs *v, const char *path, int flags,
			os_file **out, rdb_err *err)
{
	flip_vfs *fv = (flip_vfs *)v;
	flip_file *f = calloc(1, sizeof(*f));
	rdb_rc rc;

	ck_assert_ptr_nonnull(f);
	*out = NULL;
	if ((rc = fv->under->open(fv->under, path, flags, &f->under, err)) !=
	    RDB_OK) {
		free(f);
		return rc;
	}
	f->base.m = &flip_methods;
	f->v = fv;
	*out = &f->base;
	return RDB_OK;
}

static rdb_rc flip_remove(os_vfs *v, const char *path, rdb_err *err)
{
	flip_vfs *fv = (flip_vfs *)v;

	return fv->under->remove(fv->under, path, err);
}

START_TEST(test_sorter_damaged_spill_page_is_corrupt)
{
	flip_vfs fv = { { flip_open, flip_remove, NULL, NULL }, NULL, 0, 0,
			0 };
	rdb_err err = { 0 };
	long at, hits = 0;
	size_t offs[] = { 3, 9, 12, 100, 511 };
	unsigned k;
	rdb_rc rc;

	fv.under = os_mem_new();
	ck_assert_ptr_nonnull(fv.under);
	for (k = 0; k < sizeof(offs) / sizeof(offs[0]); k++)
		for (at = 1; at < 60; at += 7) {
			fv.reads = 0;
			fv.at = at;
			fv.off = offs[k];
			rc = run_scenario(&fv.base, &err);
			if (fv.reads < at) {
				ck_assert_int_eq(rc, RDB_OK);
				continue;
			}
			hits++;
			ck_assert_msg(rc == RDB_CORRUPT, "read %ld byte %zu: "
				      "rc %d", at, offs[k], rc);
			ck_assert_ptr_nonnull(strstr(err.msg, "sort spill"));
		}
	ck_assert_int_gt(hits, 10);
	os_mem_free(fv.under);
}
END_TEST

/* ---- sql -------------------------------------------------------------------------- */

typedef struct digest {
	uint64_t h;
	long rows;
	char first[200];
} digest;

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		*h = (*h ^ c[i]) * 1099511628211ull;
}

/* Every row of sql as text, hashed in order. */
static void query_digest(rdb *db, const char *sql, digest *d)
{
	rdb_stmt *st;
	int rc, i, n;

	memset(d, 0, sizeof(*d));
	d->h = 1469598103934665603ull;
	ck_assert_msg(rdb_prepare(db, sql, -1, &st, NULL) == RDB_OK, "%s: %s",
		      sql, rdb_errmsg(db));
	n = rdb_column_count(st);
	while ((rc = rdb_step(st)) == RDB_ROW) {
		for (i = 0; i < n; i++) {
			const unsigned char *t = rdb_column_text(st, i);
			int ty = rdb_column_type(st, i);

			hash_bytes(&d->h, &ty, sizeof(ty));
			if (t != NULL)
				hash_bytes(&d->h, t, strlen((const char *)t) + 1);
			if (d->rows == 0 && i == 0 && t != NULL)
				snprintf(d->first, sizeof(d->first), "%s", t);
		}
		d->rows++;
	}
	ck_assert_msg(rc == RDB_DONE, "%s: %s", sql, rdb_errmsg(db));
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}

static const char *const queries[] = {
	"SELECT a, b, c FROM t ORDER BY b, a DESC",
	"SELECT * FROM t ORDER BY c DESC NULLS FIRST, a",
	"SELECT a, c FROM t ORDER BY c NULLS LAST, a DESC LIMIT 500 OFFSET 7",
	"SELECT b, count(*), sum(a), min(c), max(c), avg(a) FROM t GROUP BY b",
	("SELECT a % 997 AS k, count(DISTINCT b), total(a) FROM t "
	"GROUP BY k HAVING count(*) > 1 ORDER BY 3 DESC, k"),
	"SELECT c, count(*) FROM t GROUP BY c ORDER BY count(*) DESC, c",
	"SELECT b, a FROM t GROUP BY b",
	("SELECT a FROM t WHERE a % 3 = 0 UNION ALL SELECT a + 1 FROM t "
	"WHERE a % 5 = 0 ORDER BY 1 DESC"),
	"SELECT b FROM t UNION SELECT c FROM t ORDER BY 1",
	"SELECT DISTINCT b FROM t ORDER BY b",
	("SELECT b FROM t WHERE a % 2 = 0 INTERSECT "
	"SELECT b FROM t WHERE a % 3 = 0"),
	"SELECT c FROM t EXCEPT SELECT c FROM t WHERE a % 4 = 0",
	("SELECT b, c FROM t WHERE a < 5000 UNION SELECT b, c FROM t WHERE "
	"a > 100 UNION ALL SELECT 'z', 1 EXCEPT SELECT b, c FROM t WHERE "
	"a % 9 = 0"),
	("SELECT a % 10 FROM t UNION ALL SELECT a % 7 FROM t UNION "
	"SELECT 3.0 UNION ALL SELECT c FROM t WHERE a < 3000"),
	("SELECT x.b, count(*) FROM t AS x, (SELECT a FROM t WHERE a < 20) AS y"
	" WHERE x.a % 50 = y.a GROUP BY x.b ORDER BY 2, 1"),
};
#define N_QUERIES (sizeof(queries) / sizeof(queries[0]))

static void fill_table(rdb *db, long n)
{
	rdb_stmt *st;
	uint64_t s = 4242;
	long i;
	char txt[64];

	su_ok(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c)");
	su_ok(db, "BEGIN");
	ck_assert_int_eq(rdb_prepare(db, "INSERT INTO t VALUES(?, ?, ?)", -1,
				     &st, NULL), RDB_OK);
	for (i = 0; i < n; i++) {
		uint64_t r = tu_rand(&s);

		snprintf(txt, sizeof(txt), "name-%05llu-%s",
			 (unsigned long long)(r % (uint64_t)(n / 3 + 1)),
			 r % 7 == 0 ? "long-long-long-long-long-tail" : "x");
		ck_assert_int_eq(rdb_bind_int64(st, 1, i), RDB_OK);
		ck_assert_int_eq(rdb_bind_text(st, 2, txt, -1), RDB_OK);
		if (r % 11 == 0)
			ck_assert_int_eq(rdb_bind_null(st, 3), RDB_OK);
		else if (r % 2)
			ck_assert_int_eq(rdb_bind_int64(st, 3,
					 (int64_t)(r >> 40) % 5000), RDB_OK);
		else
			ck_assert_int_eq(rdb_bind_double(st, 3,
					 (double)(r >> 44) / 4.0), RDB_OK);
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		ck_assert_int_eq(rdb_reset(st), RDB_OK);
	}
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	su_ok(db, "COMMIT");
}

static rdb *open_db(const char *path, long cache_pages)
{
	rdb_open_opts o;
	rdb *db;

	memset(&o, 0, sizeof(o));
	o.cache_pages = cache_pages;
	o.sync = RDB_SYNC_OFF;
	ck_assert_int_eq(rdb_open_v2(path, &db, &o), RDB_OK);
	return db;
}

START_TEST(test_sorter_tiny_cache_queries_match_large_cache)
{
	char path[256];
	digest big[N_QUERIES], small;
	rdb *db;
	unsigned i;

	tu_tmp_path(path, sizeof(path));
	db = open_db(path, 4000);
	fill_table(db, tu_scaled(30000, 6000));
	for (i = 0; i < N_QUERIES; i++)
		query_digest(db, queries[i], &big[i]);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	db = open_db(path, 16);
	for (i = 0; i < N_QUERIES; i++) {
		query_digest(db, queries[i], &small);
		ck_assert_msg(small.rows == big[i].rows, "%s: %ld rows, want "
			      "%ld", queries[i], small.rows, big[i].rows);
		ck_assert_msg(small.h == big[i].h, "%s: rows differ (first "
			      "'%s', want '%s')", queries[i], small.first,
			      big[i].first);
		ck_assert_int_gt(small.rows, 0);
	}
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

START_TEST(test_sorter_tiny_cache_group_by_results_are_exact)
{
	char path[256];
	rdb *db;

	tu_tmp_path(path, sizeof(path));
	db = open_db(path, 16);
	fill_table(db, tu_scaled(20000, 4000));
	/* every group counted once, in key order */
	ck_assert_str_eq(su_query(db, "SELECT count(*), sum(n), "
				  "sum(n = 1) > 0 FROM (SELECT b, count(*) "
				  "AS n FROM t GROUP BY b)"),
			 su_query(db, "SELECT count(DISTINCT b), count(*), 1 "
				  "FROM t"));
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM (SELECT b, "
				  "lag FROM (SELECT b, (SELECT max(b) FROM t "
				  "AS u WHERE u.b < g.b) AS lag FROM (SELECT b "
				  "FROM t GROUP BY b LIMIT 50) AS g))"), "50");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

/* Rows of a one-column text query: their count, an order-independent
 * hash of the values, and whether the last `tail` rows ascend. */
typedef struct colset {
	long rows;
	uint64_t sum;
	int tail_sorted;
} colset;

static colset column_set(rdb *db, const char *sql, long tail, long total)
{
	char prev[128] = "", cur[128];
	colset cs = { 0, 0, 1 };
	rdb_stmt *st;
	int rc;

	ck_assert_msg(rdb_prepare(db, sql, -1, &st, NULL) == RDB_OK, "%s: %s",
		      sql, rdb_errmsg(db));
	while ((rc = rdb_step(st)) == RDB_ROW) {
		const unsigned char *t = rdb_column_text(st, 0);
		uint64_t h = 1469598103934665603ull;

		snprintf(cur, sizeof(cur), "%s", t ? (const char *)t : "");
		hash_bytes(&h, cur, strlen(cur) + 1);
		cs.sum += h * 0x9E3779B97F4A7C15ull;
		if (cs.rows > total - tail && strcmp(prev, cur) >= 0)
			cs.tail_sorted = 0;
		snprintf(prev, sizeof(prev), "%s", cur);
		cs.rows++;
	}
	ck_assert_msg(rc == RDB_DONE, "%s: %s", sql, rdb_errmsg(db));
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	return cs;
}

/* SELECT DISTINCT without ORDER BY whose set of rows outgrows half the
 * cache switches to a deduplicating sort that may spill (select.c,
 * distinct_spill): the same rows, each once, as with a large cache and as
 * GROUP BY gives; after the switch the rows come in value order (the
 * evidence that it happened), while the large cache keeps the scan's
 * order.  LIMIT and OFFSET count the rows of both phases. */
START_TEST(test_sorter_tiny_cache_distinct_spills_and_keeps_each_row_once)
{
	const char *sql = "SELECT DISTINCT b FROM t";
	char path[256];
	colset big, small, grouped;
	long n;
	rdb *db;

	tu_tmp_path(path, sizeof(path));
	db = open_db(path, 4000);
	fill_table(db, tu_scaled(30000, 6000));
	n = atol(su_query(db, "SELECT count(DISTINCT b) FROM t"));
	ck_assert_int_gt(n, 1500);
	big = column_set(db, sql, 1000, n);
	ck_assert_int_eq(big.rows, n);
	ck_assert(!big.tail_sorted);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	db = open_db(path, 16);
	small = column_set(db, sql, 1000, n);
	grouped = column_set(db, "SELECT b FROM t GROUP BY b", 0, n);
	ck_assert_int_eq(small.rows, n);
	ck_assert_int_eq(grouped.rows, n);
	ck_assert(small.sum == big.sum && small.sum == grouped.sum);
	ck_assert(small.tail_sorted);
	ck_assert_str_eq(su_query(db, "SELECT count(*), count(DISTINCT b) "
				  "FROM (SELECT DISTINCT b FROM t LIMIT 1000 "
				  "OFFSET 1000)"), "1000|1000");
	ck_assert_int_eq(atol(su_query(db, "SELECT count(*) FROM (SELECT "
				       "DISTINCT c, b FROM t)")),
			 atol(su_query(db, "SELECT count(*) FROM (SELECT c, b "
				       "FROM t GROUP BY c, b)")));
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

/* Run sql to the end; returns the step's code, *rows the rows seen. */
/* SELECT DISTINCT with ORDER BY whose set of rows outgrows half the cache
 * (select.c, distinct_spill and distinct_reorder): exactly the rows, in
 * exactly the order, of the same query with a large cache, including an
 * ORDER BY on a column not in the result (the first row of each set of
 * equal rows in sorted order is the one kept).  Evidence of the spill:
 * the DISTINCT read in key order makes many more file calls than the
 * same read without DISTINCT (its spill file's writes and reads). */
static const char *const ordered_distinct[] = {
	"SELECT DISTINCT b FROM t ORDER BY a DESC",
	"SELECT DISTINCT c, b FROM t ORDER BY c DESC, a LIMIT 4000 OFFSET 13",
	"SELECT DISTINCT b FROM t ORDER BY length(b), b DESC",
	"SELECT DISTINCT c % 7, b FROM t WHERE a % 3 > 0 ORDER BY 1, a",
};
#define N_ORDERED (sizeof(ordered_distinct) / sizeof(ordered_distinct[0]))

static uint64_t query_calls(os_vfs *vfs, rdb *db, const char *sql)
{
	uint64_t before = os_mem_calls(vfs);
	digest d;

	query_digest(db, sql, &d);
	return os_mem_calls(vfs) - before;
}

START_TEST(test_sorter_tiny_cache_ordered_distinct_spills_in_order)
{
	os_vfs *vfs = os_mem_new();
	digest big[N_ORDERED], small;
	rdb_open_opts o;
	uint64_t plain, distinct;
	rdb *db;
	unsigned i;

	memset(&o, 0, sizeof(o));
	o.cache_pages = 4000;
	o.sync = RDB_SYNC_OFF;
	ck_assert_int_eq(rdb_open_vfs(vfs, "d.db", &db, &o), RDB_OK);
	fill_table(db, tu_scaled(30000, 6000));
	for (i = 0; i < N_ORDERED; i++)
		query_digest(db, ordered_distinct[i], &big[i]);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	o.cache_pages = 16;
	ck_assert_int_eq(rdb_open_vfs(vfs, "d.db", &db, &o), RDB_OK);
	for (i = 0; i < N_ORDERED; i++) {
		query_digest(db, ordered_distinct[i], &small);
		ck_assert_int_gt(small.rows, 100);
		ck_assert_msg(small.rows == big[i].rows, "%s: %ld rows, want "
			      "%ld", ordered_distinct[i], small.rows,
			      big[i].rows);
		ck_assert_msg(small.h == big[i].h, "%s: rows differ (first "
			      "'%s', want '%s')", ordered_distinct[i],
			      small.first, big[i].first);
	}
	plain = query_calls(vfs, db, "SELECT b FROM t ORDER BY a DESC");
	distinct = query_calls(vfs, db, ordered_distinct[0]);
	ck_assert_msg(distinct > plain + 20, "DISTINCT %llu calls, plain %llu",
		      (unsigned long long)distinct, (unsigned long long)plain);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	os_mem_free(vfs);
}
END_TEST

static int run_query(rdb *db, const char *sql, long *rows)
{
	rdb_stmt *st;
	int rc;

	*rows = 0;
	if ((rc = rdb_prepare(db, sql, -1, &st, NULL)) != RDB_OK)
		return rc;
	while ((rc = rdb_step(st)) == RDB_ROW)
		(*rows)++;
	(void)rdb_finalize(st);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* Faults at every stride-th file call of a spilling query (the database
 * and the spill file share the os_mem vfs): the statement fails with the
 * fault's code, and the same query then works on the same handle. */
static void sql_faults(os_fault kind, int want, const char *sql)
{
	os_vfs *vfs = os_mem_new();
	rdb_open_opts o;
	rdb *db;
	long rows, good, fired = 0;
	uint64_t calls, k, stride;
	int rc;

	memset(&o, 0, sizeof(o));
	o.cache_pages = 16;
	o.sync = RDB_SYNC_OFF;
	ck_assert_int_eq(rdb_open_vfs(vfs, "sorter.db", &db, &o), RDB_OK);
	fill_table(db, 3000);
	os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(run_query(db, sql, &good), RDB_OK);
	calls = os_mem_calls(vfs);
	ck_assert_uint_gt(calls, 30);
	stride = calls / 40 + 1;
	for (k = 1; k <= calls; k += stride) {
		os_mem_set_fault(vfs, kind, k, 0, k);
		rc = run_query(db, sql, &rows);
		if (os_mem_fault_fired(vfs)) {
			fired++;
			ck_assert_msg(rc == want, "fault at %llu: %d (%s)",
				      (unsigned long long)k, rc,
				      rdb_errmsg(db));
		} else {
			ck_assert_int_eq(rc, RDB_OK);
		}
		os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
		ck_assert_int_eq(run_query(db, sql, &rows), RDB_OK);
		ck_assert_int_eq(rows, good);
	}
	ck_assert_int_gt(fired, 10);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	os_mem_free(vfs);
}

static const char fault_group[] = "SELECT b, count(*), max(c) FROM t "
	"GROUP BY b ORDER BY 2 DESC, b";
/* DISTINCT past its budget (3,000 rows, a 16-page cache) */
static const char fault_distinct[] = "SELECT DISTINCT b, c FROM t";
/* the same with ORDER BY, in key order (no sort: only DISTINCT spills) */
static const char fault_distinct_ordered[] = "SELECT DISTINCT b, c FROM t "
	"ORDER BY a DESC";

START_TEST(test_sorter_sql_io_error_while_spilling_fails_statement)
{
	sql_faults(OS_FAULT_EIO, RDB_IOERR, fault_group);
	sql_faults(OS_FAULT_EIO, RDB_IOERR, fault_distinct);
	sql_faults(OS_FAULT_EIO, RDB_IOERR, fault_distinct_ordered);
}
END_TEST

START_TEST(test_sorter_sql_full_disk_while_spilling_is_rdb_full)
{
	sql_faults(OS_FAULT_ENOSPC, RDB_FULL, fault_group);
	sql_faults(OS_FAULT_ENOSPC, RDB_FULL, fault_distinct);
	sql_faults(OS_FAULT_ENOSPC, RDB_FULL, fault_distinct_ordered);
}
END_TEST

/* EXPLAIN names the temporary structures: the lines SQLite prints. */
START_TEST(test_sorter_explain_names_temp_structures)
{
	char path[256];
	rdb *db;

	tu_tmp_path(path, sizeof(path));
	db = open_db(path, 16);
	su_ok(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c)");
	ck_assert_ptr_nonnull(strstr(su_query(db, "EXPLAIN QUERY PLAN SELECT "
				     "b FROM t ORDER BY b"),
				     "USE TEMP B-TREE FOR ORDER BY"));
	ck_assert_ptr_null(strstr(su_query(db, "EXPLAIN QUERY PLAN SELECT "
				  "b FROM t ORDER BY a"), "TEMP B-TREE"));
	ck_assert_ptr_nonnull(strstr(su_query(db, "EXPLAIN QUERY PLAN SELECT "
				     "b, count(*) FROM t GROUP BY b"),
				     "USE TEMP B-TREE FOR GROUP BY"));
	ck_assert_ptr_nonnull(strstr(su_query(db, "EXPLAIN QUERY PLAN SELECT "
				     "DISTINCT c FROM t"),
				     "USE TEMP B-TREE FOR DISTINCT"));
	ck_assert_ptr_nonnull(strstr(su_query(db, "EXPLAIN QUERY PLAN SELECT "
				     "b FROM t UNION SELECT c FROM t"),
				     "UNION USING TEMP B-TREE"));
	su_ok(db, "INSERT INTO t VALUES (1, 'x', 3), (2, 'y', 1)");
	ck_assert_str_eq(su_query(db, "SELECT c FROM t UNION SELECT a FROM t "
				  "ORDER BY 1 DESC, 1, 1 DESC"), "3\n2\n1");
	ck_assert_str_eq(su_query(db, "SELECT b FROM t ORDER BY a, a, b, a, "
				  "a DESC"), "x\ny");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

/* ---- large ------------------------------------------------------------------------ */

START_TEST(test_sorter_order_by_a_million_rows_with_8mib_cache)
{
	char path[256];
	rdb *db;
	rdb_stmt *st;
	uint64_t s = 31337;
	long n = tu_scaled(1000000, 20000), i, got = 0;
	int64_t prev = INT64_MIN, prev_a = -1;
	int rc;

	tu_tmp_path(path, sizeof(path));
	db = open_db(path, 2048);
	su_ok(db, "CREATE TABLE big(a INTEGER PRIMARY KEY, v INTEGER)");
	su_ok(db, "BEGIN");
	ck_assert_int_eq(rdb_prepare(db, "INSERT INTO big VALUES(?, ?)", -1,
				     &st, NULL), RDB_OK);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(rdb_bind_int64(st, 1, i), RDB_OK);
		ck_assert_int_eq(rdb_bind_int64(st, 2, (int64_t)
				 tu_rand_below(&s, (uint64_t)n / 2)), RDB_OK);
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		ck_assert_int_eq(rdb_reset(st), RDB_OK);
	}
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	su_ok(db, "COMMIT");
	ck_assert_int_eq(rdb_prepare(db, "SELECT v, a FROM big ORDER BY v, "
				     "a DESC", -1, &st, NULL), RDB_OK);
	while ((rc = rdb_step(st)) == RDB_ROW) {
		int64_t v = rdb_column_int64(st, 0), a = rdb_column_int64(st, 1);

		ck_assert(v > prev || (v == prev && a < prev_a));
		prev = v;
		prev_a = a;
		got++;
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_int_eq(got, n);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

Suite *sorter_suite(void)
{
	Suite *s = suite_create("sorter");
	TCase *tc;

	tc = tcase_create("model");
	tcase_add_test(tc, test_sorter_random_specs_tiny_budgets_match_qsort);
	tcase_add_test(tc, test_sorter_many_runs_merge_in_several_passes);
	tcase_add_test(tc, test_sorter_empty_and_single_row_inputs_work);
	tcase_add_test(tc, test_sorter_bad_options_are_misuse);
	tcase_add_test(tc, test_sorter_real_spill_file_leaves_nothing_behind);
	tcase_set_timeout(tc, 60 + 60 * tu_scale());
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_test(tc, test_sorter_allocation_failures_fail_cleanly);
	tcase_add_test(tc, test_sorter_io_errors_fail_cleanly);
	tcase_add_test(tc, test_sorter_full_disk_is_rdb_full);
	tcase_add_test(tc, test_sorter_damaged_spill_page_is_corrupt);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("sql");
	tcase_add_test(tc, test_sorter_tiny_cache_queries_match_large_cache);
	tcase_add_test(tc, test_sorter_tiny_cache_group_by_results_are_exact);
	tcase_add_test(tc,
		test_sorter_tiny_cache_distinct_spills_and_keeps_each_row_once);
	tcase_add_test(tc,
		test_sorter_tiny_cache_ordered_distinct_spills_in_order);
	tcase_add_test(tc, test_sorter_explain_names_temp_structures);
	tcase_add_test(tc,
		       test_sorter_sql_io_error_while_spilling_fails_statement);
	tcase_add_test(tc, test_sorter_sql_full_disk_while_spilling_is_rdb_full);
	tcase_set_timeout(tc, 60 + 60 * tu_scale());
	suite_add_tcase(s, tc);

	tc = tcase_create("large");
	tcase_add_test(tc, test_sorter_order_by_a_million_rows_with_8mib_cache);
	tcase_set_timeout(tc, 120 + 120 * tu_scale());
	suite_add_tcase(s, tc);
	return s;
}
