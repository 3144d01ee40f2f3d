/*
 * hello.c -- embedding rdb: open a database file, create a table with a
 * primary key, insert rows through a prepared statement, query them back,
 * and keep a blob in the key-value store.  Build it against an installed
 * rdb with
 *     cc hello.c $(pkg-config --cflags --libs rdb) -o hello
 * and run `./hello demo.rdb`.  It exits 0 when everything it read back is
 * what it wrote (make check builds and runs it).
 */
#include <stdio.h>
#include <string.h>
#include <rdb.h>

static int fail(rdb *db, const char *what)
{
	fprintf(stderr, "hello: %s: %s\n", what, rdb_errmsg(db));
	rdb_close(db);
	return 1;
}

static int print_row(void *arg, int n, char **vals, char **names)
{
	int i;

	(void)names;
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "|" : "", vals[i] ? vals[i] : "NULL");
	printf("\n");
	++*(int *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const users[][3] = {
		{ "ironman", "Tony", "Stark" },
		{ "hulk", "Bruce", "Banner" },
		{ "thor", "Thor", "Odinson" },
	};
	const char *path = argc > 1 ? argv[1] : "hello.rdb";
	rdb *db;
	rdb_stmt *st;
	char buf[64];
	size_t n;
	int i, rows = 0;

	printf("rdb %s\n", rdb_libversion());
	if (rdb_open(path, &db) != RDB_OK)
		return fail(db, "open");
	if (rdb_exec(db, "DROP TABLE IF EXISTS users;"
		     "CREATE TABLE users(id INTEGER PRIMARY KEY,"
		     " username VARCHAR(20) UNIQUE, first_name TEXT,"
		     " last_name TEXT)", NULL, NULL, NULL) != RDB_OK)
		return fail(db, "create");

	/* One transaction, one prepared statement, many rows. */
	if (rdb_exec(db, "BEGIN", NULL, NULL, NULL) != RDB_OK ||
	    rdb_prepare(db, "INSERT INTO users(username, first_name,"
			" last_name) VALUES (?, ?, ?)", -1, &st, NULL) != RDB_OK)
		return fail(db, "prepare");
	for (i = 0; i < 3; i++) {
		rdb_bind_text(st, 1, users[i][0], -1);
		rdb_bind_text(st, 2, users[i][1], -1);
		rdb_bind_text(st, 3, users[i][2], -1);
		if (rdb_step(st) != RDB_DONE)
			return fail(db, "insert");
		rdb_reset(st);
	}
	rdb_finalize(st);
	if (rdb_exec(db, "COMMIT", NULL, NULL, NULL) != RDB_OK)
		return fail(db, "commit");

	/* A query with a parameter, read column by column. */
	if (rdb_prepare(db, "SELECT id, first_name FROM users"
			" WHERE username = :name", -1, &st, NULL) != RDB_OK)
		return fail(db, "prepare");
	rdb_bind_text(st, rdb_bind_parameter_index(st, ":name"), "hulk", -1);
	if (rdb_step(st) != RDB_ROW || rdb_column_int64(st, 0) != 2 ||
	    strcmp((const char *)rdb_column_text(st, 1), "Bruce") != 0)
		return fail(db, "query");
	rdb_finalize(st);

	/* Every row through rdb_exec's callback. */
	if (rdb_exec(db, "SELECT * FROM users ORDER BY id", print_row, &rows,
		     NULL) != RDB_OK || rows != 3)
		return fail(db, "select");

	/* The key-value store lives in the same file. */
	if (rdb_kv_put(db, "greeting", 8, "hello, world", 12) != RDB_OK ||
	    rdb_kv_get(db, "greeting", 8, buf, sizeof(buf), &n) != RDB_OK ||
	    n != 12 || memcmp(buf, "hello, world", 12) != 0)
		return fail(db, "kv");
	printf("%.*s\n", (int)n, buf);
	return rdb_close(db) == RDB_OK ? 0 : 1;
}
