/*
 * seeds.c -- write the generated seeds of the file, wal and kv targets
 * (databases made by the library itself, on real files in a temporary
 * folder):  seeds <corpus folder>  writes <folder>/file/..., wal/...,
 * kv/...  Run by hand (`make fuzz-seeds`); the seeds are kept in git.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rdb.h"

static char tmpdir[] = "/tmp/rdb-seeds-XXXXXX";

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long n;

	*len = 0;
	if (f == NULL)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void put(const char *dir, const char *name, const void *a,
		size_t na, const void *b, size_t nb)
{
	char path[4096];
	FILE *f;

	(void)mkdir(dir, 0777);     /* the folder may exist already */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb)) {
		fprintf(stderr, "seeds: cannot write '%s'\n", path);
		exit(1);
	}
	fclose(f);
}

static rdb *open_db(const char *name, unsigned page_size)
{
	rdb_open_opts o = {0};
	char path[256];
	rdb *db;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	o.page_size = page_size;
	if (rdb_open_v2(path, &db, &o) != RDB_OK) {
		fprintf(stderr, "seeds: %s\n", rdb_errmsg(db));
		exit(1);
	}
	return db;
}

static void exec(rdb *db, const char *sql)
{
	char *msg = NULL;

	if (rdb_exec(db, sql, NULL, NULL, &msg) != RDB_OK) {
		fprintf(stderr, "seeds: %s: %s\n", sql, msg);
		exit(1);
	}
}

static const char schema[] =
	"CREATE TABLE t1(a INTEGER PRIMARY KEY, b TEXT, c REAL);"
	"CREATE TABLE t2(x INT, y TEXT, z BLOB);"
	"CREATE UNIQUE INDEX t2xy ON t2(x, y);"
	"CREATE INDEX t1b ON t1(b);";

static void rows(rdb *db, int from, int n)
{
	char sql[256];
	int i;

	exec(db, "BEGIN");
	for (i = from; i < from + n; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO t1 VALUES (%d, "
			 "'row %d %.*s', %d.5); INSERT INTO t2 VALUES (%d, "
			 "'y%d', zeroblob(%d))", i, i, i % 40,
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i, i % 7,
			 i, i % 300);
		exec(db, sql);
	}
	exec(db, "COMMIT");
}

/* file/: closed (checkpointed) databases of a few shapes. */
static void file_seeds(const char *out, unsigned page_size, int n,
		       const char *name)
{
	rdb *db = open_db(name, page_size);
	char path[256];
	unsigned char *b;
	size_t len;

	exec(db, schema);
	rows(db, 1, n);
	if (n > 20)
		exec(db, "DELETE FROM t1 WHERE a % 3 = 0");
	rdb_close(db);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	b = slurp(path, &len);
	put(out, name, b, len, NULL, 0);
	free(b);
}

/* wal/: length, file, log, copied while the writer is open. */
static void wal_seed(const char *out, int n_more, const char *name)
{
	rdb *db = open_db(name, 1024);
	char path[256];
	unsigned char *d, *w, hdr[4];
	size_t nd, nw;

	exec(db, schema);
	rows(db, 1, 10);
	rdb_close(db);
	db = open_db(name, 1024);
	rows(db, 100, n_more);
	exec(db, "UPDATE t1 SET b = 'changed' WHERE a < 5");
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	d = slurp(path, &nd);
	snprintf(path, sizeof(path), "%s/%s-wal", tmpdir, name);
	w = slurp(path, &nw);
	rdb_close(db);
	hdr[0] = nd & 0xff, hdr[1] = nd >> 8 & 0xff;
	hdr[2] = nd >> 16 & 0xff, hdr[3] = nd >> 24 & 0xff;
	{
		unsigned char *all = malloc(4 + nd);

		memcpy(all, hdr, 4);
		memcpy(all + 4, d, nd);
		put(out, name, all, 4 + nd, w, nw);
		free(all);
	}
	free(d);
	free(w);
}

/* kv/: small values, a large compressible one, a streamed one. */
static int reader(void *arg, void *buf, size_t cap, size_t *got)
{
	size_t *left = arg, n = *left < cap ? *left : cap;

	memset(buf, 'r', n);
	*left -= n;
	*got = n;
	return 0;
}

static void kv_seed(const char *out, int big, const char *name)
{
	rdb *db = open_db(name, 1024);
	char path[256], key[32], val[64];
	unsigned char *b;
	size_t len, left = 70000;
	int i;

	for (i = 0; i < 30; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value %d", i * 7);
		rdb_kv_put(db, key, strlen(key), val, strlen(val));
	}
	if (big) {
		char *v = malloc(20000);

		for (i = 0; i < 20000; i++)
			v[i] = (char)('a' + i % 13);
		rdb_kv_put(db, "big", 3, v, 20000);
		free(v);
		rdb_kv_put_stream(db, "stream", 6, reader, &left);
		rdb_kv_delete(db, "k3", 2, NULL);
	}
	rdb_close(db);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	b = slurp(path, &len);
	put(out, name, b, len, NULL, 0);
	free(b);
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc != 2 || mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "usage: seeds <corpus folder>\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/file", argv[1]);
	file_seeds(dir, 512, 3, "small512.rdb");
	file_seeds(dir, 1024, 60, "rows1k.rdb");
	file_seeds(dir, 4096, 5, "page4k.rdb");
	snprintf(dir, sizeof(dir), "%s/wal", argv[1]);
	wal_seed(dir, 3, "wal-small");
	wal_seed(dir, 25, "wal-rows");
	snprintf(dir, sizeof(dir), "%s/kv", argv[1]);
	kv_seed(dir, 0, "kv-small.rdb");
	kv_seed(dir, 1, "kv-big.rdb");
	if (system("true") == 0) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
