/*
 * fz_kv.c -- fuzz target: the input is a database file holding key-value
 * records (seeds: small, large compressed and streamed values; fuzz/
 * seeds.c).  Every record is read three ways (iterator value, get_alloc,
 * get_stream), then one put and one delete run on the damaged file.
 * A damaged record must give RDB_CORRUPT, never a crash.
 */
#include "fuzz_util.h"
#include <stdlib.h>
#include <string.h>

static int sink(void *arg, const void *buf, size_t n)
{
	(void)buf;
	*(size_t *)arg += n;
	return 0;
}

static void read_one(rdb *db, rdb_kv_iter *it, const void *key, size_t klen)
{
	void *v = NULL;
	size_t vlen = 0, streamed = 0;
	int exists = 0;
	unsigned char small[16];

	if (rdb_kv_iter_value(it, &v, &vlen) == RDB_OK)
		rdb_kv_free(v);
	v = NULL;
	if (rdb_kv_get_alloc(db, key, klen, &v, &vlen) == RDB_OK)
		rdb_kv_free(v);
	(void)rdb_kv_get(db, key, klen, small, sizeof(small), &vlen);
	(void)rdb_kv_get_stream(db, key, klen, sink, &streamed);
	(void)rdb_kv_exists(db, key, klen, &exists);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rdb *db = NULL;
	rdb_kv_iter *it = NULL;
	int n = 0;

	if (size > (1u << 20))
		return 0;
	if (fz_open_files(data, size, NULL, 0, &db) == RDB_OK &&
	    rdb_kv_iter_open(db, NULL, 0, &it) == RDB_OK) {
		const void *key;
		size_t klen;

		while (n++ < 1000 && rdb_kv_iter_next(it, &key, &klen) ==
		       RDB_ROW) {
			unsigned char copy[2048];

			if (klen > sizeof(copy))
				continue;
			memcpy(copy, key, klen);
			read_one(db, it, copy, klen);
		}
		rdb_kv_iter_close(it);
		(void)rdb_kv_put(db, "fuzz", 4, "value", 5);
		(void)rdb_kv_delete(db, "k1", 2, NULL);
	}
	(void)rdb_close(db);
	return 0;
}
