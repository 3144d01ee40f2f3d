/*
 * check_schemaderive.c -- a table or index statement leaves the
 * connection a schema derived from the one before it (tbl_schema_derive:
 * only the tables it changed are read from the catalog).  Random DDL,
 * DML and transaction statements on a small pool of names (spelled in
 * several cases) run through the public API; after each one the
 * connection's schema, when it claims the catalog's current version, must
 * equal a schema read from the whole catalog in the same transaction,
 * field by field; after each successful table or index statement it must
 * claim the current version (the derivation took place).  Contract:
 * src/table/table.h (tbl_schema_derive).
 *
 * Replay: RDB_TEST_SEED=<seed> reruns the randomized test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "api/api_int.h"
#include "sql/sql_int.h"
#include "table/tbl_store.h"
#include "test_util.h"

#define EQ_STR(a, b, what) ck_assert_msg(((a) == NULL && (b) == NULL) || \
	((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0),		\
	"%s: '%s' vs '%s'", (what), (a) ? (a) : "(null)",		\
	(b) ? (b) : "(null)")

static void same_value(const tbl_value *a, const tbl_value *b)
{
	ck_assert_int_eq(a->cls, b->cls);
	if (a->cls == TBL_INT)
		ck_assert_int_eq(a->i, b->i);
	else if (a->cls == TBL_REAL)
		ck_assert(a->r == b->r);
	else if (a->cls == TBL_TEXT || a->cls == TBL_BLOB) {
		ck_assert_uint_eq(a->n, b->n);
		ck_assert(a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
	}
}

static void same_column(const tbl_column *a, const tbl_column *b)
{
	EQ_STR(a->name, b->name, "column name");
	EQ_STR(a->decl, b->decl, "column type");
	EQ_STR(a->dflt_sql, b->dflt_sql, "column default");
	ck_assert_int_eq(a->type, b->type);
	ck_assert_uint_eq(a->maxlen, b->maxlen);
	ck_assert_uint_eq(a->notnull, b->notnull);
	ck_assert_uint_eq(a->unique, b->unique);
	ck_assert_uint_eq(a->pk, b->pk);
	ck_assert_uint_eq(a->pk_desc, b->pk_desc);
	ck_assert_uint_eq(a->has_dflt, b->has_dflt);
	same_value(&a->dflt, &b->dflt);
}

static void same_index(const tbl_index *a, const tbl_index *b)
{
	EQ_STR(a->name, b->name, "index name");
	EQ_STR(a->sql, b->sql, "index sql");
	ck_assert_uint_eq(a->root, b->root);
	ck_assert_uint_eq(a->unique, b->unique);
	ck_assert_int_eq(a->origin, b->origin);
	ck_assert_uint_eq(a->ncols, b->ncols);
	ck_assert(memcmp(a->cols, b->cols, a->ncols * sizeof(*a->cols)) == 0);
	ck_assert(memcmp(a->desc, b->desc, a->ncols) == 0);
}

static void same_table(const tbl_table *a, const tbl_table *b)
{
	int i;

	EQ_STR(a->name, b->name, "table name");
	EQ_STR(a->sql, b->sql, "table sql");
	ck_assert_uint_eq(a->root, b->root);
	ck_assert_uint_eq(a->system, b->system);
	ck_assert_uint_eq(a->ipk, b->ipk);
	ck_assert_uint_eq(a->ncols, b->ncols);
	for (i = 0; i < a->ncols; i++)
		same_column(&a->cols[i], &b->cols[i]);
	ck_assert_uint_eq(a->npk, b->npk);
	ck_assert(a->npk == 0 ||
		  memcmp(a->pk, b->pk, a->npk * sizeof(*a->pk)) == 0);
	ck_assert_uint_eq(a->nidx, b->nidx);
	for (i = 0; i < a->nidx; i++)
		same_index(&a->idx[i], &b->idx[i]);
}

static void same_object(const tbl_object *a, const tbl_object *b)
{
	EQ_STR(a->name, b->name, "object name");
	EQ_STR(a->table, b->table, "object table");
	EQ_STR(a->sql, b->sql, "object sql");
}

/* The schemas describe the same catalog (the row estimates aside). */
static void same_schema(const tbl_schema *a, const tbl_schema *b)
{
	int i;

	ck_assert_uint_eq(tbl_schema_version(a), tbl_schema_version(b));
	ck_assert_int_eq(tbl_schema_count(a), tbl_schema_count(b));
	for (i = 0; i < tbl_schema_count(a); i++)
		same_table(tbl_schema_at(a, i), tbl_schema_at(b, i));
	ck_assert_int_eq(tbl_schema_nviews(a), tbl_schema_nviews(b));
	for (i = 0; i < tbl_schema_nviews(a); i++)
		same_object(tbl_schema_view_at(a, i), tbl_schema_view_at(b, i));
	ck_assert_int_eq(tbl_schema_ntriggers(a), tbl_schema_ntriggers(b));
	for (i = 0; i < tbl_schema_ntriggers(a); i++)
		same_object(tbl_schema_trigger_at(a, i),
			    tbl_schema_trigger_at(b, i));
}

/* Compare the connection's schema with the whole catalog as its
 * transaction (or a new read transaction) sees it.  1 if it claimed the
 * current version. */
static int check_conn(rdb *db)
{
	sql_conn *c = db->sql;
	pager_txn *t = c->txn, *own = NULL;
	tbl_schema *full = NULL;
	rdb_err err;
	int current;

	memset(&err, 0, sizeof(err));
	if (t == NULL) {
		ck_assert_int_eq(pager_begin(db->p, 0, &err, &own), RDB_OK);
		t = own;
	}
	ck_assert_int_eq(tbl_schema_get(t, NULL, &full), RDB_OK);
	current = c->schema != NULL &&
		  tbl_schema_version(c->schema) == tbl_schema_version(full);
	if (current)
		same_schema(c->schema, full);
	tbl_schema_unref(full);
	if (own != NULL)
		pager_rollback(own);
	return current;
}

static const char *const tables[] = { "t1", "T1", "t2", "tAb", "TAB" };
static const char *const indexes[] = { "i1", "I1", "i2", "ix3" };

static const char *pick(uint64_t *rng, const char *const *a, size_t n)
{
	return a[tu_rand_below(rng, n)];
}

#define T() pick(&rng, tables, sizeof(tables) / sizeof(tables[0]))
#define I() pick(&rng, indexes, sizeof(indexes) / sizeof(indexes[0]))

/* A random statement into sql; 1 if it is a table or index statement. */
static int statement(uint64_t *rngp, char *sql, size_t cap, int *col)
{
	static const char *const defs[] = {
		"(a INTEGER PRIMARY KEY, b TEXT UNIQUE DEFAULT 'x', "
		"c REAL CHECK (c >= 0))",
		"(a TEXT, b INT NOT NULL DEFAULT 7, c BLOB, "
		"PRIMARY KEY(a DESC, b), UNIQUE(b, c))",
		"(b TEXT, c INT)",
		"(a INT UNIQUE, b VARCHAR(10) DEFAULT 'q', c ANY) STRICT",
	};
	uint64_t rng = *rngp;
	int k = (int)tu_rand_below(&rng, 15), ddl = 1;

	switch (k) {
	case 0: case 1:
		snprintf(sql, cap, "CREATE TABLE %s%s%s", tu_rand_below(&rng, 3)
			 ? "" : "IF NOT EXISTS ", T(),
			 defs[tu_rand_below(&rng, 4)]);
		break;
	case 2:
		snprintf(sql, cap, "CREATE %sINDEX %s%s ON %s(b%s, c)",
			 tu_rand_below(&rng, 2) ? "UNIQUE " : "",
			 tu_rand_below(&rng, 3) ? "" : "IF NOT EXISTS ", I(),
			 T(), tu_rand_below(&rng, 2) ? " DESC" : "");
		break;
	case 3:
		snprintf(sql, cap, "DROP TABLE %s%s",
			 tu_rand_below(&rng, 2) ? "IF EXISTS " : "", T());
		break;
	case 4:
		snprintf(sql, cap, "DROP INDEX %s%s",
			 tu_rand_below(&rng, 2) ? "IF EXISTS " : "", I());
		break;
	case 5:
		snprintf(sql, cap, "ALTER TABLE %s ADD COLUMN d%d INT "
			 "DEFAULT %d", T(), (*col)++, (int)tu_rand_below(&rng,
									  9));
		break;
	case 6:
		snprintf(sql, cap, "ALTER TABLE %s RENAME TO %s", T(), T());
		break;
	case 7:
		snprintf(sql, cap, "CREATE TABLE %s AS SELECT * FROM %s", T(),
			 T());
		break;
	case 8:
		ddl = 0;
		snprintf(sql, cap, tu_rand_below(&rng, 2)
			 ? "CREATE VIEW v1 AS SELECT * FROM %s"
			 : "DROP VIEW IF EXISTS v1%.0s", T());
		break;
	case 9:
		ddl = 0;
		snprintf(sql, cap, tu_rand_below(&rng, 2)
			 ? "CREATE TRIGGER tr1 AFTER INSERT ON %s BEGIN "
			   "SELECT 1; END"
			 : "DROP TRIGGER IF EXISTS tr1%.0s", T());
		break;
	case 10: case 11:
		ddl = 0;
		snprintf(sql, cap, "INSERT INTO %s(b, c) VALUES ('%d', %d)",
			 T(), (int)tu_rand_below(&rng, 5),
			 (int)tu_rand_below(&rng, 5));
		break;
	default: {
		static const char *const txn[] = {
			"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT s",
			"ROLLBACK TO s", "RELEASE s", "REINDEX",
		};

		ddl = 0;
		snprintf(sql, cap, "%s", txn[tu_rand_below(&rng, 7)]);
		break;
	}
	}
	*rngp = rng;
	return ddl;
}

START_TEST(test_schemaderive_random_ddl_matches_a_full_reload)
{
	uint64_t seed = tu_seed(), rng = seed;
	long n = tu_scaled(3000, 600), i, derived = 0, ok = 0;
	char path[256], sql[512];
	int col = 0, ddl, rc;
	rdb *db = NULL;

	tu_seed_note("schemaderive model", seed);
	tu_tmp_path(path, sizeof(path));
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	for (i = 0; i < n; i++) {
		ddl = statement(&rng, sql, sizeof(sql), &col);
		rc = rdb_exec(db, sql, NULL, NULL, NULL);
		ck_assert_msg(rc == RDB_OK || rc == RDB_ERROR ||
			      rc == RDB_CONSTRAINT, "%s: rc %d: %s", sql, rc,
			      rdb_errmsg(db));
		ok += rc == RDB_OK;
		if (check_conn(db) && ddl && rc == RDB_OK)
			derived++;
		else
			ck_assert_msg(!(ddl && rc == RDB_OK), "%s left the "
				      "connection an old schema", sql);
		if (i % 500 == 499) {          /* and across a reopen */
			(void)rdb_exec(db, "COMMIT", NULL, NULL, NULL);
			ck_assert_int_eq(rdb_close(db), RDB_OK);
			ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
		}
	}
	fprintf(stderr, "schemaderive: %ld statements, %ld succeeded, %ld "
		"schemas derived\n", n, ok, derived);
	ck_assert_int_gt(derived, n / 20);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

/* Many tables: each CREATE derives (the test above checks exactness; this
 * one the case the derivation exists for, and names that sort between,
 * before and after the tables already there). */
START_TEST(test_schemaderive_many_tables_each_create_derives)
{
	char path[256], sql[256];
	rdb *db = NULL;
	int i, n = (int)tu_scaled(300, 60);

	tu_tmp_path(path, sizeof(path));
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "CREATE TABLE %c%d(a INTEGER "
			 "PRIMARY KEY, b TEXT); CREATE INDEX x%d ON %c%d(b)",
			 "mAz"[i % 3], (i * 7919) % 1000, i, "mAz"[i % 3],
			 (i * 7919) % 1000);
		ck_assert_msg(rdb_exec(db, sql, NULL, NULL, NULL) == RDB_OK,
			      "%s: %s", sql, rdb_errmsg(db));
		ck_assert(check_conn(db));
	}
	ck_assert_int_eq(tbl_schema_count(db->sql->schema) - TBL_NSYS, n);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}
END_TEST

Suite *schemaderive_suite(void)
{
	Suite *s = suite_create("schemaderive");
	TCase *tc = tcase_create("derive");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_schemaderive_random_ddl_matches_a_full_reload);
	tcase_add_test(tc, test_schemaderive_many_tables_each_create_derives);
	suite_add_tcase(s, tc);
	return s;
}
