/*
 * check_sqlparse.c -- the SQL front end (src/sql/ast.h): the lexer, the
 * parser's tree and the printer.  Cases: print (statements of every kind
 * and their canonical text), tree (fields the executor reads), errors
 * (messages with positions), complete (sql_complete), hostile (random
 * bytes, deep nesting, huge tokens), nomem (allocation failure at every
 * point), corpus (every statement of the sqllogictest files parses and
 * prints to a fixed point).
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "sql/ast.h"
#include "mem.h"
#include "test_util.h"

/* Parse exactly one statement; fail the test on error. */
static sql_stmt *parse1(const char *sql)
{
	rdb_err err = { 0 };
	sql_stmt *s = NULL;
	size_t tail = 0;
	rdb_rc rc = sql_parse(sql, strlen(sql), &err, &s, &tail);

	ck_assert_msg(rc == RDB_OK, "parse of [%s] failed: %s", sql, err.msg);
	ck_assert_msg(s != NULL, "[%s] parsed as empty", sql);
	return s;
}

/* The canonical text of sql; the caller frees it. */
static char *print1(const char *sql)
{
	sql_stmt *s = parse1(sql);
	rdb_buf b = { 0 };

	ck_assert_int_eq(sql_print_stmt(s, &b), RDB_OK);
	ck_assert_int_eq(rdb_buf_terminate(&b), RDB_OK);
	sql_stmt_free(s);
	return (char *)rdb_buf_detach(&b);
}

/* sql prints as want, and want prints as itself. */
static void check_print(const char *sql, const char *want)
{
	char *got = print1(sql), *again;

	ck_assert_msg(strcmp(got, want) == 0, "[%s]\n printed [%s]\n wanted [%s]",
		      sql, got, want);
	again = print1(got);
	ck_assert_msg(strcmp(again, got) == 0, "[%s] reprinted as [%s]", got,
		      again);
	rdb_free(got);
	rdb_free(again);
}

/* Parsing sql fails with rc and exactly the message msg. */
static void check_error(const char *sql, rdb_rc rc, const char *msg)
{
	rdb_err err = { 0 };
	sql_stmt *s = (sql_stmt *)&err;
	size_t tail = 99;

	ck_assert_int_eq(sql_parse(sql, strlen(sql), &err, &s, &tail), rc);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(tail, 0);
	ck_assert_msg(strcmp(err.msg, msg) == 0, "[%s]: got [%s] wanted [%s]",
		      sql, err.msg, msg);
}

/* ---- print ------------------------------------------------------------- */

static const char *const print_cases[][2] = {
	/* SELECT */
	{ "select 1", "SELECT 1" },
	{ "SELECT a+1, b AS x, * FROM t WHERE a=1", "SELECT a + 1, b AS x, * FROM t WHERE a = 1" },
	{ "select distinct t.*, u.a y from t, u", "SELECT DISTINCT t.*, u.a AS y FROM t, u" },
	{ "select all a from main.t as x", "SELECT a FROM main.t AS x" },
	{ "select a from t group by a, b having count(*) > 1",
	  "SELECT a FROM t GROUP BY a, b HAVING count(*) > 1" },
	{ "select a from t order by 1 desc, b asc nulls last, c nulls first",
	  "SELECT a FROM t ORDER BY 1 DESC, b NULLS LAST, c NULLS FIRST" },
	{ "select a from t limit 5", "SELECT a FROM t LIMIT 5" },
	{ "select a from t limit 5 offset ?", "SELECT a FROM t LIMIT 5 OFFSET ?" },
	{ "select a from t limit 5, 10", "SELECT a FROM t LIMIT 10 OFFSET 5" },
	{ "values (1, 'a'), (2, 'b')", "VALUES (1, 'a'), (2, 'b')" },
	{ "select 1 union select 2 union all select 3 intersect select 4 except select 5 order by 1 limit 2",
	  "SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 INTERSECT SELECT 4 EXCEPT SELECT 5 ORDER BY 1 LIMIT 2" },
	{ "select * from a join b on a.x=b.x left outer join c using(x, y) cross join d natural left join e inner join f right join g full outer join h",
	  "SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (x, y) CROSS JOIN d NATURAL LEFT JOIN e JOIN f RIGHT JOIN g FULL JOIN h" },
	{ "select * from (select 1 as x) s, (values (2)) as v",
	  "SELECT * FROM (SELECT 1 AS x) AS s, (VALUES (2)) AS v" },
	{ "select * from (a join b) as j", "SELECT * FROM (SELECT * FROM a JOIN b) AS j" },
	{ "select * from (a, b) join c", "SELECT * FROM a, b JOIN c" },
	{ "select * from t indexed by i, u not indexed",
	  "SELECT * FROM t INDEXED BY i, u NOT INDEXED" },
	{ "select x from t where x in (select y from u) and exists (select 1 from v where v.a = t.a) and (select max(z) from w) > 0",
	  "SELECT x FROM t WHERE x IN (SELECT y FROM u) AND EXISTS (SELECT 1 FROM v WHERE v.a = t.a) AND (SELECT max(z) FROM w) > 0" },
	/* expressions */
	{ "select -9223372036854775808, 9223372036854775808, 0x10, 0xffffffffffffffff, 1.5e3, .5, 1e999",
	  "SELECT -9223372036854775808, 9.223372036854776e+18, 16, -1, 1500.0, 0.5, 1e999" },
	{ "select 'it''s', x'0aFf', null, true, FALSE, current_timestamp",
	  "SELECT 'it''s', X'0AFF', NULL, TRUE, FALSE, CURRENT_TIMESTAMP" },
	{ "select ?, ?5, :a, @b, $c, :a, ?", "SELECT ?, ?5, :a, @b, $c, :a, ?" },
	{ "select (1+2)*3, 1+2*3, 1-(2-3), (1-2)-3, - - 1, -(-1), ~+1",
	  "SELECT (1 + 2) * 3, 1 + 2 * 3, 1 - (2 - 3), 1 - 2 - 3, -(-1), -(-1), ~+1" },
	{ "select a or b and c, (a or b) and c, not a = b, (not a) = b, not not a",
	  "SELECT a OR b AND c, (a OR b) AND c, NOT a = b, (NOT a) = b, NOT (NOT a)" },
	{ "select a||b||c, a<<1|2&3, a%2, a/b, a == b, a != b, a <> b, a <= b, a >= b",
	  "SELECT a || b || c, a << 1 | 2 & 3, a % 2, a / b, a = b, a <> b, a <> b, a <= b, a >= b" },
	{ "select a is null, a isnull, a notnull, a not null, a is not null, a is b, a is not b, a is distinct from b, a is not distinct from b",
	  "SELECT a IS NULL, a IS NULL, a IS NOT NULL, a IS NOT NULL, a IS NOT NULL, a IS b, a IS NOT b, a IS NOT b, a IS b" },
	{ "select a between 1 and 2, a not between b+1 and c, a between 1 and 2 and b",
	  "SELECT a BETWEEN 1 AND 2, a NOT BETWEEN b + 1 AND c, a BETWEEN 1 AND 2 AND b" },
	{ "select a in (1,2), a not in (), a in t, a not in main.t, (a, b) in (select 1, 2)",
	  "SELECT a IN (1, 2), a NOT IN (), a IN t, a NOT IN main.t, (a, b) IN (SELECT 1, 2)" },
	{ "select a like 'x%', a not like b escape '!', a glob '*', a not glob b, a regexp b, a match b",
	  "SELECT a LIKE 'x%', a NOT LIKE b ESCAPE '!', a GLOB '*', a NOT GLOB b, a REGEXP b, a MATCH b" },
	{ "select case a when 1 then 'x' when 2 then 'y' else 'z' end, case when a then b end",
	  "SELECT CASE a WHEN 1 THEN 'x' WHEN 2 THEN 'y' ELSE 'z' END, CASE WHEN a THEN b END" },
	{ "select cast(a as integer), cast(b as varchar(10)), cast(c as decimal(10, -2))",
	  "SELECT CAST(a AS integer), CAST(b AS varchar(10)), CAST(c AS decimal(10, -2))" },
	{ "select count(*), count(distinct a), coalesce(a, b, 1), random(), replace(a, 'x', 'y'), like(a, b), glob(a,b)",
	  "SELECT count(*), count(DISTINCT a), coalesce(a, b, 1), random(), replace(a, 'x', 'y'), like(a, b), glob(a, b)" },
	{ "select a collate nocase, b collate \"binary\" || c, -a collate rtrim",
	  "SELECT a COLLATE nocase, b COLLATE binary || c, -a COLLATE rtrim" },
	{ "select \"select\", [a b], `c``d`, \"x\"\"y\", t.\"z\", main.t.c",
	  "SELECT \"select\", \"a b\", \"c`d\", \"x\"\"y\", t.\"z\", main.t.c" },
	{ "select a = (b = c), (a = b) = c, a < b = c, a = b < c",
	  "SELECT a = (b = c), a = b = c, a < b = c, a = b < c" },
	{ "select - (a + b), -a * b, (a collate x) collate y, a in (1) in (2)",
	  "SELECT -(a + b), -a * b, a COLLATE x COLLATE y, a IN (1) IN (2)" },
	{ "select 't'.a, \"t\".\"b\", [t].[c]", "SELECT t.a, t.\"b\", t.c" },
	{ "select key, desc, plan, replace, left.a from left", /* names that are keywords */
	  "SELECT \"key\", \"desc\", \"plan\", \"replace\", \"left\".a FROM \"left\"" },
	/* INSERT, UPDATE, DELETE */
	{ "insert into t values (1, 2), (3, 4)", "INSERT INTO t VALUES (1, 2), (3, 4)" },
	{ "insert or replace into main.t (a, b) select x, y from u",
	  "INSERT OR REPLACE INTO main.t (a, b) SELECT x, y FROM u" },
	{ "replace into t values (1)", "INSERT OR REPLACE INTO t VALUES (1)" },
	{ "insert or ignore into t default values", "INSERT OR IGNORE INTO t DEFAULT VALUES" },
	{ "update or abort t set a = 1, b = b + 1 where c", "UPDATE OR ABORT t SET a = 1, b = b + 1 WHERE c" },
	{ "update t set (a, b) = (1, 2)", "UPDATE t SET (a, b) = (1, 2)" },
	{ "delete from t where a in (1, 2)", "DELETE FROM t WHERE a IN (1, 2)" },
	{ "delete from t", "DELETE FROM t" },
	/* DDL */
	{ "create table if not exists t1( x INTEGER PRIMARY KEY desc autoincrement, y VARCHAR ( 8 ) not null on conflict ignore default 'a', z unique check (z > 0) collate nocase references p(a) on delete cascade, w default -1, v default (1+2), u default x'00', unique (x, y), primary key (y collate nocase desc), check (x<y), constraint fk foreign key (z) references p on update set null deferrable initially deferred) without rowid, strict",
	  "CREATE TABLE IF NOT EXISTS t1 (x INTEGER PRIMARY KEY DESC AUTOINCREMENT, y VARCHAR ( 8 ) NOT NULL ON CONFLICT IGNORE DEFAULT 'a', z UNIQUE CHECK (z > 0) COLLATE nocase REFERENCES p (a) ON DELETE CASCADE, w DEFAULT -1, v DEFAULT (1 + 2), u DEFAULT X'00', UNIQUE (x, y), PRIMARY KEY (y COLLATE nocase DESC), CHECK (x < y), CONSTRAINT fk FOREIGN KEY (z) REFERENCES p ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED) WITHOUT ROWID, STRICT" },
	{ "create temp table t (a, b unsigned big int, c double precision, d decimal(10,5))",
	  "CREATE TEMP TABLE t (a, b unsigned big int, c double precision, d decimal(10,5))" },
	{ "create table t as select * from u", "CREATE TABLE t AS SELECT * FROM u" },
	{ "create table t(a default abc, b default true, c default -'x', d default +1.5, e default ('x'), f default -9223372036854775808, g default current_date)",
	  "CREATE TABLE t (a DEFAULT 'abc', b DEFAULT TRUE, c DEFAULT (-'x'), d DEFAULT +1.5, e DEFAULT 'x', f DEFAULT -9223372036854775808, g DEFAULT CURRENT_DATE)" },
	{ "create table t(a) , strict", "CREATE TABLE t (a) STRICT" },
	{ "create table t(a) strict", "CREATE TABLE t (a) STRICT" },
	{ "create unique index if not exists i on t(a collate nocase, b desc) where a > 0",
	  "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a COLLATE nocase, b DESC) WHERE a > 0" },
	{ "create index i on t (a)", "CREATE INDEX i ON t (a)" },
	{ "create view if not exists v (a, b) as select 1, 2", "CREATE VIEW IF NOT EXISTS v (a, b) AS SELECT 1, 2" },
	{ "create temporary view v as select x from t1 where x>0", "CREATE TEMP VIEW v AS SELECT x FROM t1 WHERE x > 0" },
	{ "create trigger t1r1 update on t1 begin select 1; end", "CREATE TRIGGER t1r1 UPDATE ON t1 BEGIN SELECT 1; END" },
	{ "create trigger if not exists r before update of a, b on t for each row when new.a > old.a begin insert into log values (new.a); update u set c = 1; delete from w where x = old.a; select raise(abort, 'no'), raise(ignore); end",
	  "CREATE TRIGGER IF NOT EXISTS r BEFORE UPDATE OF a, b ON t FOR EACH ROW WHEN new.a > old.a BEGIN INSERT INTO log VALUES (new.a); UPDATE u SET c = 1; DELETE FROM w WHERE x = old.a; SELECT RAISE(ABORT, 'no'), RAISE(IGNORE); END" },
	{ "create trigger r instead of delete on v begin select 1; end", "CREATE TRIGGER r INSTEAD OF DELETE ON v BEGIN SELECT 1; END" },
	{ "create trigger r after insert on t begin select 1; select 2; end", "CREATE TRIGGER r AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END" },
	{ "drop table if exists main.t", "DROP TABLE IF EXISTS main.t" },
	{ "drop index i", "DROP INDEX i" },
	{ "drop view v", "DROP VIEW v" },
	{ "drop trigger if exists r", "DROP TRIGGER IF EXISTS r" },
	/* transactions and others */
	{ "begin", "BEGIN" },
	{ "begin immediate transaction", "BEGIN IMMEDIATE" },
	{ "begin deferred", "BEGIN DEFERRED" },
	{ "begin exclusive", "BEGIN EXCLUSIVE" },
	{ "commit transaction", "COMMIT" },
	{ "end", "COMMIT" },
	{ "rollback", "ROLLBACK" },
	{ "rollback transaction to savepoint s", "ROLLBACK TO s" },
	{ "savepoint s", "SAVEPOINT s" },
	{ "release savepoint s", "RELEASE s" },
	{ "explain select 1", "EXPLAIN SELECT 1" },
	{ "explain query plan select * from t where a = 1", "EXPLAIN QUERY PLAN SELECT * FROM t WHERE a = 1" },
	{ "pragma page_size", "PRAGMA page_size" },
	{ "pragma cache_size = -2000", "PRAGMA cache_size = -2000" },
	{ "pragma main.synchronous=FULL", "PRAGMA main.synchronous = FULL" },
	{ "pragma journal_mode = 'wal'", "PRAGMA journal_mode = 'wal'" },
	{ "pragma table_info(t1)", "PRAGMA table_info(t1)" },
	{ "pragma integrity_check", "PRAGMA integrity_check" },
	{ "alter table main.t1 add column c integer not null default -1 check (c < 9)", "ALTER TABLE main.t1 ADD COLUMN c integer NOT NULL CHECK (c < 9) DEFAULT -1" },
	{ "alter table t1 add c", "ALTER TABLE t1 ADD COLUMN c" },
	{ "alter table t1 rename to \"t 2\"", "ALTER TABLE t1 RENAME TO \"t 2\"" },
	{ "alter table t1 rename c to d", "ALTER TABLE t1 RENAME COLUMN c TO d" },
	{ "alter table t1 drop column c", "ALTER TABLE t1 DROP COLUMN c" },
	{ "reindex", "REINDEX" },
	{ "reindex t1i1", "REINDEX t1i1" },
	{ "reindex main.t1", "REINDEX main.t1" },
	{ "analyze", "ANALYZE" },
	{ "vacuum", "VACUUM" },
};

START_TEST(test_sqlparse_print_gives_canonical_text)
{
	check_print(print_cases[_i][0], print_cases[_i][1]);
}
END_TEST

/* ---- tree ---------------------------------------------------------------- */

START_TEST(test_sqlparse_tree_select_fields_and_spans)
{
	const char *sql = "  SELECT a  +  1, t.b AS x, (c) FROM t AS u "
			  "WHERE u.a = ?2 AND b = :n;  SELECT 2";
	sql_stmt *s = NULL;
	size_t tail = 0;
	const sql_core *c;
	const sql_expr *w;

	ck_assert_int_eq(sql_parse(sql, strlen(sql), NULL, &s, &tail), RDB_OK);
	ck_assert_uint_eq(tail, strstr(sql, ";") + 1 - sql);
	ck_assert_int_eq(s->kind, SQL_SELECT);
	ck_assert_str_eq(s->sql, "SELECT a  +  1, t.b AS x, (c) FROM t AS u "
			 "WHERE u.a = ?2 AND b = :n");
	ck_assert_uint_eq(s->n_sql, strlen(s->sql));
	ck_assert_uint_eq(s->pos.line, 1);
	ck_assert_uint_eq(s->pos.col, 3);
	c = &s->u.select->cores[0];
	ck_assert_int_eq(c->n_cols, 3);
	ck_assert_str_eq(c->cols[0].text, "a  +  1");
	ck_assert_ptr_null(c->cols[0].alias);
	ck_assert_int_eq(c->cols[0].expr->op, SQL_E_ADD);
	ck_assert_int_eq(c->cols[0].expr->height, 2);
	ck_assert_str_eq(c->cols[1].alias, "x");
	ck_assert_str_eq(c->cols[1].expr->u.col.table, "t");
	ck_assert_str_eq(c->cols[1].expr->u.col.name, "b");
	ck_assert_str_eq(c->cols[2].text, "(c)");
	ck_assert_int_eq(c->n_src, 1);
	ck_assert_str_eq(c->src[0].name, "t");
	ck_assert_str_eq(c->src[0].alias, "u");
	w = c->where;
	ck_assert_int_eq(w->op, SQL_E_AND);
	ck_assert_int_eq(w->left->right->op, SQL_E_PARAM);
	ck_assert_int_eq(w->left->right->u.param.index, 2);
	ck_assert_int_eq(w->right->right->u.param.index, 3);
	ck_assert_str_eq(w->right->right->u.param.name, ":n");
	ck_assert_int_eq(s->n_params, 3);
	ck_assert_ptr_null(s->param_names[0]);
	ck_assert_str_eq(s->param_names[1], "?2");
	ck_assert_str_eq(s->param_names[2], ":n");
	/* positions are 1-based line:column of the node's first token */
	ck_assert_uint_eq(w->right->pos.line, 1);
	ck_assert_uint_eq(w->right->pos.col, (unsigned)(strstr(sql, "b = :n") - sql + 1));
	ck_assert_uint_eq(w->right->pos.len, strlen("b = :n"));
	sql_stmt_free(s);
}
END_TEST

START_TEST(test_sqlparse_tree_params_numbered_as_sqlite)
{
	sql_stmt *s = parse1("SELECT ?, :a, ?, ?10, :a, @b, ?, $c");
	const sql_core *c = &s->u.select->cores[0];
	static const int want[] = { 1, 2, 3, 10, 2, 11, 12, 13 };
	int i;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(c->cols[i].expr->u.param.index, want[i]);
	ck_assert_int_eq(s->n_params, 13);
	ck_assert_str_eq(s->param_names[1], ":a");
	ck_assert_str_eq(s->param_names[9], "?10");
	ck_assert_str_eq(s->param_names[10], "@b");
	ck_assert_ptr_null(s->param_names[4]);
	sql_stmt_free(s);
}
END_TEST

START_TEST(test_sqlparse_tree_ddl_fields)
{
	sql_stmt *s = parse1("CREATE TABLE IF NOT EXISTS \"my t\"(id INTEGER "
			     "PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', "
			     "v REAL UNIQUE, UNIQUE(name, v DESC))");
	const sql_create_table *t = &s->u.create_table;

	ck_assert_int_eq(s->kind, SQL_CREATE_TABLE);
	ck_assert_int_eq(t->if_not_exists, 1);
	ck_assert_str_eq(t->name, "my t");
	ck_assert_int_eq(t->n_cols, 3);
	ck_assert_str_eq(t->cols[0].type, "INTEGER");
	ck_assert_int_eq(t->cols[0].primary_key, 1);
	ck_assert_int_eq(t->cols[1].not_null, 1);
	ck_assert_int_eq(t->cols[1].default_value->op, SQL_E_STR);
	ck_assert_int_eq(t->cols[2].unique, 1);
	ck_assert_int_eq(t->n_cons, 1);
	ck_assert_int_eq(t->cons[0].kind, SQL_TC_UNIQUE);
	ck_assert_str_eq(t->cons[0].cols[1].name, "v");
	ck_assert_int_eq(t->cons[0].cols[1].desc, 1);
	ck_assert_str_eq(s->sql, "CREATE TABLE IF NOT EXISTS \"my t\"(id INTEGER "
			 "PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', "
			 "v REAL UNIQUE, UNIQUE(name, v DESC))");
	sql_stmt_free(s);

	s = parse1("CREATE TRIGGER r AFTER UPDATE OF a ON t BEGIN\n"
		   "  UPDATE u SET x = new.a;\n  SELECT 1;\nEND");
	ck_assert_int_eq(s->u.create_trigger.n_body, 2);
	ck_assert_str_eq(s->u.create_trigger.body[0]->sql,
			 "UPDATE u SET x = new.a");
	ck_assert_uint_eq(s->u.create_trigger.body[1]->pos.line, 3);
	ck_assert_str_eq(s->u.create_trigger.update_cols.names[0], "a");
	sql_stmt_free(s);
}
END_TEST

START_TEST(test_sqlparse_tree_joins_compounds_subqueries)
{
	sql_stmt *s = parse1("SELECT * FROM a NATURAL LEFT JOIN b, c CROSS JOIN "
			     "(SELECT 1) AS d JOIN e USING (x, y) RIGHT JOIN f "
			     "ON f.z = e.z UNION ALL SELECT 1 INTERSECT VALUES (2) "
			     "EXCEPT SELECT 3 ORDER BY 1 DESC NULLS FIRST LIMIT 1, 2");
	const sql_select *sel = s->u.select;
	const sql_core *c = &sel->cores[0];

	ck_assert_int_eq(sel->n_cores, 4);
	ck_assert_int_eq(sel->cores[0].op, SQL_COMPOUND_NONE);
	ck_assert_int_eq(sel->cores[1].op, SQL_UNION_ALL);
	ck_assert_int_eq(sel->cores[2].op, SQL_INTERSECT);
	ck_assert_int_eq(sel->cores[2].n_rows, 1);
	ck_assert_int_eq(sel->cores[2].n_cols, 0);
	ck_assert_int_eq(sel->cores[3].op, SQL_EXCEPT);
	ck_assert_int_eq(sel->n_order, 1);
	ck_assert_int_eq(sel->order[0].desc, 1);
	ck_assert_int_eq(sel->order[0].nulls, SQL_NULLS_FIRST);
	ck_assert_int_eq(sel->limit->u.i, 2);
	ck_assert_int_eq(sel->offset->u.i, 1);
	ck_assert_int_eq(c->n_src, 6);
	ck_assert_int_eq(c->src[0].join, SQL_JOIN_NONE);
	ck_assert_int_eq(c->src[1].join, SQL_JOIN_LEFT);
	ck_assert_int_eq(c->src[1].natural, 1);
	ck_assert_int_eq(c->src[2].join, SQL_JOIN_COMMA);
	ck_assert_int_eq(c->src[3].join, SQL_JOIN_CROSS);
	ck_assert_ptr_nonnull(c->src[3].subquery);
	ck_assert_ptr_null(c->src[3].name);
	ck_assert_str_eq(c->src[3].alias, "d");
	ck_assert_int_eq(c->src[4].join, SQL_JOIN_INNER);
	ck_assert_int_eq(c->src[4].using_cols.n, 2);
	ck_assert_str_eq(c->src[4].using_cols.names[1], "y");
	ck_assert_int_eq(c->src[5].join, SQL_JOIN_RIGHT);
	ck_assert_int_eq(c->src[5].on->op, SQL_E_EQ);
	sql_stmt_free(s);

	s = parse1("SELECT x IN (1, 2), x NOT IN (SELECT y FROM t), x IN t, "
		   "EXISTS (SELECT 1), (SELECT 2), (1, 2), x NOT LIKE 'a' "
		   "ESCAPE '!', x NOT BETWEEN 1 AND 2, CASE x WHEN 1 THEN 2 END, "
		   "count(DISTINCT x), count(*), CAST(x AS VARCHAR(10))");
	c = &s->u.select->cores[0];
	ck_assert_int_eq(c->cols[0].expr->op, SQL_E_IN_LIST);
	ck_assert_int_eq(c->cols[0].expr->list.n, 2);
	ck_assert_int_eq(c->cols[1].expr->op, SQL_E_IN_SELECT);
	ck_assert_int_eq(c->cols[1].expr->flags & SQL_EF_NOT, SQL_EF_NOT);
	ck_assert_int_eq(c->cols[2].expr->op, SQL_E_IN_TABLE);
	ck_assert_str_eq(c->cols[2].expr->u.col.table, "t");
	ck_assert_int_eq(c->cols[3].expr->op, SQL_E_EXISTS);
	ck_assert_int_eq(c->cols[4].expr->op, SQL_E_SUBQUERY);
	ck_assert_int_eq(c->cols[4].expr->height, 2);
	ck_assert_int_eq(c->cols[5].expr->op, SQL_E_VECTOR);
	ck_assert_int_eq(c->cols[6].expr->op, SQL_E_LIKE);
	ck_assert_int_eq(c->cols[6].expr->u.like.kind, SQL_LIKE);
	ck_assert_str_eq(c->cols[6].expr->u.like.escape->u.str.p, "!");
	ck_assert_int_eq(c->cols[7].expr->op, SQL_E_BETWEEN);
	ck_assert_int_eq(c->cols[7].expr->u.between.hi->u.i, 2);
	ck_assert_int_eq(c->cols[8].expr->op, SQL_E_CASE);
	ck_assert_int_eq(c->cols[8].expr->list.n, 2);
	ck_assert_int_eq(c->cols[9].expr->flags, SQL_EF_DISTINCT);
	ck_assert_int_eq(c->cols[10].expr->flags, SQL_EF_STAR);
	ck_assert_int_eq(c->cols[10].expr->list.n, 0);
	ck_assert_str_eq(c->cols[11].expr->u.type, "VARCHAR(10)");
	/* the binder may allocate in the statement's arena */
	ck_assert_ptr_nonnull(sql_stmt_alloc(s, 100000));
	ck_assert_ptr_nonnull(sql_stmt_alloc(s, 8));
	sql_stmt_free(s);
}
END_TEST

/* SQLite's sqlite_schema.sql text for each statement (from SQLite 3.40). */
static const char *const schema_cases[][2] = {
	{ "create   table if not exists main.\"t\" (a)  ", "CREATE TABLE \"t\" (a)" },
	{ "CREATE unique INDEX   IF NOT EXISTS i ON t(a)", "CREATE UNIQUE INDEX i ON t(a)" },
	{ "create index i2 on t(b) where b > 0", "CREATE INDEX i2 on t(b) where b > 0" },
	{ "create temp view  v as select 1", "CREATE VIEW v as select 1" },
	{ "create  TRIGGER if not exists main.r  after insert on t begin select 1; end",
	  "CREATE TRIGGER r  after insert on t begin select 1; end" },
	{ "create temporary table w(b) /* c */", "CREATE TABLE w(b)" },
	{ "  CREATE TABLE x(a) -- hi", "CREATE TABLE x(a)" },
};

START_TEST(test_sqlparse_tree_schema_text_like_sqlite)
{
	sql_stmt *s = parse1(schema_cases[_i][0]);
	rdb_buf b = { 0 };

	ck_assert_int_eq(sql_schema_text(s, &b), RDB_OK);
	ck_assert_int_eq(rdb_buf_terminate(&b), RDB_OK);
	ck_assert_str_eq((const char *)b.p, schema_cases[_i][1]);
	rdb_buf_free(&b);
	sql_stmt_free(s);
	s = parse1("CREATE TABLE t AS SELECT 1");
	ck_assert_int_eq(sql_schema_text(s, &b), RDB_MISUSE);
	sql_stmt_free(s);
	s = parse1("DROP TABLE main.t");
	ck_assert_int_eq(sql_schema_text(s, &b), RDB_MISUSE);
	ck_assert_str_eq(s->sql + s->object_off, "t");
	sql_stmt_free(s);
	rdb_buf_free(&b);
}
END_TEST

START_TEST(test_sqlparse_tree_script_and_empty_statements)
{
	const char *sql = " ;; SELECT 1 ; -- c\n /* d */ INSERT INTO t "
			  "VALUES(1);\n;  -- end";
	size_t off = 0, tail, n = strlen(sql);
	int kinds[4], k = 0;
	sql_stmt *s;

	for (;;) {
		ck_assert_int_eq(sql_parse(sql + off, n - off, NULL, &s, &tail),
				 RDB_OK);
		off += tail;
		if (s == NULL)
			break;
		ck_assert_int_lt(k, 4);
		kinds[k++] = s->kind;
		sql_stmt_free(s);
	}
	ck_assert_int_eq(k, 2);
	ck_assert_int_eq(kinds[0], SQL_SELECT);
	ck_assert_int_eq(kinds[1], SQL_INSERT);
	ck_assert_uint_eq(off, n);
	/* a NUL byte ends the input, also inside a string or a comment */
	ck_assert_int_eq(sql_parse("SELECT 1\0garbage", 16, NULL, &s, &tail),
			 RDB_OK);
	ck_assert_str_eq(s->sql, "SELECT 1");
	ck_assert_uint_eq(tail, 16);
	sql_stmt_free(s);
	ck_assert_int_eq(sql_parse("SELECT 1 /*\0*/", 15, NULL, &s, &tail),
			 RDB_OK);
	sql_stmt_free(s);
	ck_assert_int_eq(sql_parse("SELECT 'a\0'", 12, NULL, &s, &tail),
			 RDB_ERROR);
	ck_assert_int_eq(sql_parse("\0SELECT 1", 9, NULL, &s, &tail), RDB_OK);
	ck_assert_ptr_null(s);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

static const struct {
	const char *sql;
	rdb_rc rc;
	const char *msg;
} error_cases[] = {
	{ "SELECT * FORM t", RDB_ERROR, "near \"FORM\": syntax error at 1:10" },
	{ "SELECT 1,\n  2 FROM\n", RDB_ERROR, "incomplete input at 3:1" },
	{ "SELECT 'abc", RDB_ERROR, "unrecognized token: \"'abc\" at 1:8" },
	{ "SELECT \"abc", RDB_ERROR, "unrecognized token: \"\"abc\" at 1:8" },
	{ "SELECT x'abc'", RDB_ERROR, "unrecognized token: \"x'abc'\" at 1:8" },
	{ "SELECT x'zz'", RDB_ERROR, "unrecognized token: \"x'zz'\" at 1:8" },
	{ "SELECT 12abc", RDB_ERROR, "unrecognized token: \"12abc\" at 1:8" },
	{ "SELECT 1 ! 2", RDB_ERROR, "unrecognized token: \"!\" at 1:10" },
	{ "SELECT :", RDB_ERROR, "unrecognized token: \":\" at 1:8" },
	{ "SELECT ?0", RDB_ERROR, "variable number must be between ?1 and ?32766 at 1:8" },
	{ "SELECT ?32767", RDB_ERROR, "variable number must be between ?1 and ?32766 at 1:8" },
	{ "SELECT 0x10000000000000000", RDB_ERROR, "hex literal too big: 0x10000000000000000 at 1:8" },
	{ "VALUES (1, 2), (3)", RDB_ERROR, "all VALUES must have the same number of terms at 1:16" },
	{ "SELECT 1 SELECT 2", RDB_ERROR, "near \"SELECT\": syntax error at 1:10" },
	{ "SELECT (1", RDB_ERROR, "incomplete input at 1:10" },
	{ "SELECT a FROM t WHERE a IN (1,)", RDB_ERROR, "near \")\": syntax error at 1:31" },
	{ "CREATE TABLE t(a PRIMARY)", RDB_ERROR, "near \")\": syntax error at 1:25" },
	{ "ALTER TABLE t ADD", RDB_ERROR, "incomplete input at 1:18" },
	{ "ALTER TABLE t RENAME c", RDB_ERROR, "incomplete input at 1:23" },
	{ "ALTER t ADD c", RDB_ERROR, "near \"t\": syntax error at 1:7" },
	{ "CREATE TRIGGER r UPDATE ON t BEGIN SELECT 1; ", RDB_ERROR, "incomplete input at 1:46" },
	{ "CREATE TRIGGER r UPDATE ON t BEGIN INSERT INTO main.x VALUES(1); END", RDB_ERROR,
	  "qualified table names are not allowed on INSERT, UPDATE, and DELETE statements within triggers at 1:52" },
	{ "CREATE TABLE t(a) WITHOUT x", RDB_ERROR, "near \"x\": syntax error at 1:27" },
	{ "DROP COLUMN x", RDB_ERROR, "near \"COLUMN\": syntax error at 1:6" },
	{ "SELECT CASE 1 END", RDB_ERROR, "near \"END\": syntax error at 1:15" },
	{ "BEGIN; SELECT", RDB_OK, "" },
	{ "  \n\n   selec 1", RDB_ERROR, "near \"selec\": syntax error at 3:4" },
	{ "SELECT 1 FROM t ORDER a", RDB_ERROR, "near \"a\": syntax error at 1:23" },
	{ "SELECT a FROM t LEFT t2", RDB_ERROR, "near \"t2\": syntax error at 1:22" },
	{ "SELECT 'a\nbc', \"x\ny\", * FORM t", RDB_ERROR, "near \"FORM\": syntax error at 3:7" },
	{ "SELECT * /* a\n b */ FORM t", RDB_ERROR, "near \"FORM\": syntax error at 2:7" },
	{ "SELECT\t1\r\n,\n\n  a.", RDB_ERROR, "incomplete input at 4:5" },
	{ "SELECT (SELECT 1 ORDER BY 1 UNION SELECT 2)", RDB_ERROR, "near \"UNION\": syntax error at 1:29" },
	{ "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", RDB_ERROR, "near \"ON\": syntax error at 1:26" },
	{ "CREATE VIEW v AS SELECT ?", RDB_ERROR, "parameters are not allowed in views at 1:25" },
	{ "CREATE TRIGGER r DELETE ON t WHEN :a BEGIN SELECT 1; END", RDB_ERROR, "trigger cannot use variables at 1:35" },
	{ "CREATE TRIGGER r DELETE ON t BEGIN SELECT @b; END", RDB_ERROR, "trigger cannot use variables at 1:43" },
	{ "CREATE TABLE t(a) WITHOUT ROWID,", RDB_ERROR, "incomplete input at 1:33" },
	{ "CREATE TABLE t(a) STRICT, ;", RDB_ERROR, "near \";\": syntax error at 1:27" },
	{ "CREATE TABLE t(a DEFAULT 1 + 2)", RDB_ERROR, "near \"+\": syntax error at 1:28" },
	{ "CREATE TABLE t(a DEFAULT -(1))", RDB_ERROR, "near \"(\": syntax error at 1:27" },
	{ "CREATE TABLE t(PRIMARY KEY(a))", RDB_ERROR, "near \"PRIMARY\": syntax error at 1:16" },
	{ "SELECT raise, 1", RDB_ERROR, "near \",\": syntax error at 1:13" },
	{ "SELECT cast", RDB_ERROR, "incomplete input at 1:12" },
	{ "VALUES (1) ORDER BY 1", RDB_ERROR, "near \"ORDER\": syntax error at 1:12" },
	{ "WITH x AS (SELECT 1) SELECT * FROM x", RDB_ERROR, "near \"WITH\": syntax error at 1:1" },
};

START_TEST(test_sqlparse_errors_have_message_and_position)
{
	if (error_cases[_i].rc == RDB_OK) {
		sql_stmt *s = parse1(error_cases[_i].sql);

		sql_stmt_free(s);
		return;
	}
	check_error(error_cases[_i].sql, error_cases[_i].rc,
		    error_cases[_i].msg);
}
END_TEST

/* ---- complete ------------------------------------------------------------ */

START_TEST(test_sqlparse_complete_like_sqlite)
{
	ck_assert_int_eq(sql_complete("SELECT 1;"), 1);
	ck_assert_int_eq(sql_complete("SELECT 1"), 0);
	ck_assert_int_eq(sql_complete("SELECT 1; -- note"), 1);
	ck_assert_int_eq(sql_complete("SELECT 1; /* open"), 0);
	ck_assert_int_eq(sql_complete("SELECT ';"), 0);
	ck_assert_int_eq(sql_complete("SELECT \";\";"), 1);
	ck_assert_int_eq(sql_complete("SELECT [;"), 0);
	ck_assert_int_eq(sql_complete(""), 0);
	ck_assert_int_eq(sql_complete(";"), 1);
	ck_assert_int_eq(sql_complete("CREATE TRIGGER r UPDATE ON t BEGIN "
					"SELECT 1;"), 0);
	ck_assert_int_eq(sql_complete("CREATE TRIGGER r UPDATE ON t BEGIN "
					"SELECT 1; END"), 0);
	ck_assert_int_eq(sql_complete("CREATE TRIGGER r UPDATE ON t BEGIN "
					"SELECT 1; END;"), 1);
	ck_assert_int_eq(sql_complete("create temp trigger r update on t "
					"begin select 1; end ;"), 1);
	ck_assert_int_eq(sql_complete("EXPLAIN CREATE TRIGGER r UPDATE ON t "
					"BEGIN SELECT 1;"), 0);
	ck_assert_int_eq(sql_complete("CREATE TABLE trigger(a);"), 1);
	ck_assert_int_eq(sql_complete(NULL), 0);
}
END_TEST

/* ---- hostile input ----------------------------------------------------- */

/* Parse text of length n (any bytes); whatever happens must be a clean
 * RDB_OK or an error with a message.  Returns the rc of the first
 * statement. */
static rdb_rc parse_any(const char *z, size_t n)
{
	rdb_err err = { 0 };
	sql_stmt *s = NULL;
	size_t tail = 0;
	rdb_rc rc = sql_parse(z, n, &err, &s, &tail);

	if (rc == RDB_OK) {
		ck_assert_uint_le(tail, n);
		sql_stmt_free(s);
	} else {
		ck_assert_ptr_null(s);
		ck_assert_int_eq(err.rc, rc);
		ck_assert_str_ne(err.msg, "");
	}
	return rc;
}

START_TEST(test_sqlparse_hostile_random_bytes_never_crash)
{
	static const char *const words[] = {
		"SELECT", "FROM", "WHERE", "(", ")", ",", "a", "1", "'x'", "+",
		"-", "*", "IN", "NOT", "BETWEEN", "AND", "OR", "CASE", "WHEN",
		"THEN", "END", "JOIN", "ON", "CREATE", "TABLE", "TRIGGER",
		"BEGIN", ";", "x'00'", "?", ":a", "VALUES", "UNION", "IS",
		"NULL", "ORDER", "BY", "LIMIT", "COLLATE", "CAST", "AS", ".",
		"EXISTS", "INSERT", "INTO", "UPDATE", "SET", "=", "/*", "--\n",
	};
	uint64_t seed = tu_seed();
	long n_iter = tu_scaled(20000, 500), i;
	char buf[512];

	tu_seed_note("sqlparse random", seed);
	for (i = 0; i < n_iter; i++) {
		size_t len = (size_t)tu_rand_below(&seed, sizeof(buf)), j = 0;

		if (i % 2 == 0) {
			for (j = 0; j < len; j++)
				buf[j] = (char)tu_rand_below(&seed, 256);
		} else {
			while (j + 12 < len) {
				const char *w = words[tu_rand_below(&seed,
					sizeof(words) / sizeof(words[0]))];
				size_t wl = strlen(w);

				if (j + wl + 1 >= sizeof(buf))
					break;
				memcpy(buf + j, w, wl);
				j += wl;
				buf[j++] = ' ';
			}
			len = j;
		}
		(void)parse_any(buf, len);
	}
}
END_TEST

/* Text made of prefix repeated n times, then mid, then suffix n times. */
static char *repeat3(const char *prefix, const char *mid, const char *suffix,
		     long n)
{
	size_t lp = strlen(prefix), lm = strlen(mid), ls = strlen(suffix);
	char *z = malloc((lp + ls) * (size_t)n + lm + 1), *w = z;
	long i;

	ck_assert_ptr_nonnull(z);
	for (i = 0; i < n; i++, w += lp)
		memcpy(w, prefix, lp);
	memcpy(w, mid, lm);
	w += lm;
	for (i = 0; i < n; i++, w += ls)
		memcpy(w, suffix, ls);
	*w = '\0';
	return z;
}

START_TEST(test_sqlparse_hostile_deep_nesting_is_toobig)
{
	static const char *const shapes[][3] = {
		{ "SELECT ", "1", "" },                 /* template */
		{ "(", "1", ")" },
		{ "- ", "1", "" },
		{ "NOT ", "1", "" },
		{ "(SELECT ", "1", ")" },
		{ "1+", "1", "" },                      /* left-deep chain */
		{ "f(", "1", ")" },
		{ "CASE WHEN 1 THEN ", "1", " END" },
		{ "EXISTS(SELECT ", "1", ")" },
		{ "1 IN (", "1", ")" },
	};
	size_t k;

	for (k = 1; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		char *inner = repeat3(shapes[k][0], shapes[k][1],
				      shapes[k][2], 100000);
		char *sql = malloc(strlen(inner) + 8);
		rdb_err err = { 0 };
		sql_stmt *s = NULL;
		size_t tail;

		ck_assert_ptr_nonnull(sql);
		strcpy(sql, "SELECT ");
		strcat(sql, inner);
		ck_assert_int_eq(sql_parse(sql, strlen(sql), &err, &s, &tail),
				 RDB_TOOBIG);
		ck_assert_ptr_null(s);
		free(inner);
		free(sql);
		/* 100 levels are fine */
		inner = repeat3(shapes[k][0], shapes[k][1], shapes[k][2], 100);
		sql = malloc(strlen(inner) + 8);
		ck_assert_ptr_nonnull(sql);
		strcpy(sql, "SELECT ");
		strcat(sql, inner);
		ck_assert_int_eq(parse_any(sql, strlen(sql)), RDB_OK);
		free(inner);
		free(sql);
	}
}
END_TEST

START_TEST(test_sqlparse_hostile_many_compound_terms_is_toobig)
{
	char *sql = repeat3("SELECT 1 UNION ", "SELECT 1", "", 600);

	ck_assert_int_eq(parse_any(sql, strlen(sql)), RDB_TOOBIG);
	free(sql);
	sql = repeat3("SELECT 1 UNION ", "SELECT 1", "", 400);
	ck_assert_int_eq(parse_any(sql, strlen(sql)), RDB_OK);
	free(sql);
}
END_TEST

START_TEST(test_sqlparse_hostile_huge_tokens_parse)
{
	size_t n = 4u << 20, i;
	char *sql = malloc(n + 64);
	sql_stmt *s;

	ck_assert_ptr_nonnull(sql);
	/* a 4 MiB string literal, name and number */
	strcpy(sql, "SELECT '");
	for (i = 8; i < n; i++)
		sql[i] = 'a' + (char)(i % 26);
	strcpy(sql + n, "'");
	s = parse1(sql);
	ck_assert_uint_eq(s->u.select->cores[0].cols[0].expr->u.str.n, n - 8);
	sql_stmt_free(s);
	memcpy(sql, "SELECT a", 8);
	sql[n] = '\0';
	s = parse1(sql);
	ck_assert_int_eq(s->u.select->cores[0].cols[0].expr->op, SQL_E_COLUMN);
	sql_stmt_free(s);
	for (i = 7; i < n; i++)
		sql[i] = '9';
	s = parse1(sql);
	ck_assert_int_eq(s->u.select->cores[0].cols[0].expr->op, SQL_E_REAL);
	sql_stmt_free(s);
	/* an unterminated huge comment is just a comment */
	memcpy(sql, "SELECT 1/*", 10);
	ck_assert_int_eq(parse_any(sql, n), RDB_OK);
	free(sql);
}
END_TEST

/* ---- allocation failure -------------------------------------------------- */

static const char *const nomem_cases[] = {
	"SELECT a + 1, b AS x, t.*, count(DISTINCT c) FROM t AS u JOIN v "
	"USING (a) LEFT JOIN (SELECT 1 AS a UNION ALL SELECT 2) AS w ON "
	"w.a = u.a WHERE a IN (1, 2, 3) AND b BETWEEN ?1 AND :x OR "
	"EXISTS (SELECT 1 FROM z WHERE z.q LIKE 'a%' ESCAPE '!') GROUP BY 1 "
	"HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 10 OFFSET 5",
	"CREATE TABLE t1 (x INTEGER PRIMARY KEY, y VARCHAR(8) NOT NULL "
	"DEFAULT 'a', z REAL UNIQUE CHECK (z > 0), UNIQUE (x, y), "
	"FOREIGN KEY (z) REFERENCES p (a))",
	"CREATE TRIGGER r BEFORE UPDATE OF a ON t FOR EACH ROW WHEN new.a > 0 "
	"BEGIN INSERT INTO log VALUES (new.a, old.a); DELETE FROM u; END",
	"INSERT INTO t (a, b, c) VALUES (1, 'x', x'00'), (2, 'y', NULL), "
	"(3, 'z', CASE WHEN 1 THEN 2 ELSE 3 END), (?, ?, ?), (:a, :b, :c)",
};

START_TEST(test_sqlparse_nomem_every_allocation_fails_cleanly)
{
	const char *sql = nomem_cases[_i];
	long n;
	int sticky;

	for (sticky = 0; sticky <= 1; sticky++) {
		for (n = 1;; n++) {
			rdb_err err = { 0 };
			sql_stmt *s = NULL;
			size_t tail;
			rdb_rc rc;

			rdb_mem_fail_at(n, sticky);
			rc = sql_parse(sql, strlen(sql), &err, &s, &tail);
			if (!rdb_mem_failed()) {
				rdb_mem_fail_at(0, 0);
				ck_assert_int_eq(rc, RDB_OK);
				sql_stmt_free(s);
				break;
			}
			rdb_mem_fail_at(0, 0);
			ck_assert_int_eq(rc, RDB_NOMEM);
			ck_assert_ptr_null(s);
			ck_assert_str_eq(err.msg, "out of memory");
		}
		ck_assert_int_gt(n, 1);
	}
}
END_TEST

START_TEST(test_sqlparse_nomem_in_printer_is_reported)
{
	sql_stmt *s = parse1(nomem_cases[0]);
	long n;

	for (n = 1;; n++) {
		rdb_buf b = { 0 };
		rdb_rc rc;

		rdb_mem_fail_at(n, 0);
		rc = sql_print_stmt(s, &b);
		if (!rdb_mem_failed()) {
			rdb_mem_fail_at(0, 0);
			ck_assert_int_eq(rc, RDB_OK);
			rdb_buf_free(&b);
			break;
		}
		rdb_mem_fail_at(0, 0);
		ck_assert_int_eq(rc, RDB_NOMEM);
		rdb_buf_free(&b);
	}
	sql_stmt_free(s);
}
END_TEST

/* ---- corpus ---------------------------------------------------------------- */

typedef struct corpus_stats {
	long n_must;          /* statement ok / query records parsed */
	long n_error_parsed;  /* statement error records that parse */
	long n_error_failed;  /* ... that do not */
	long n_skipped;       /* onlyif another engine, skipif sqlite */
	long n_stmts;         /* statements printed and reparsed */
	size_t bytes;         /* SQL text parsed */
} corpus_stats;

/* Parse every statement of sql (NUL-terminated); each one must print to a
 * fixed point.  Returns the first failing rc, RDB_OK if all parsed. */
static rdb_rc corpus_sql(const char *sql, const char *where,
			 corpus_stats *st)
{
	size_t off = 0, n = strlen(sql), tail;

	st->bytes += n;
	for (;;) {
		rdb_err err = { 0 };
		sql_stmt *s = NULL;
		rdb_rc rc = sql_parse(sql + off, n - off, &err, &s, &tail);
		rdb_buf b = { 0 };
		char *again;

		if (rc != RDB_OK)
			return rc;
		if (s == NULL)
			return RDB_OK;
		off += tail;
		ck_assert_int_eq(sql_print_stmt(s, &b), RDB_OK);
		ck_assert_int_eq(rdb_buf_terminate(&b), RDB_OK);
		sql_stmt_free(s);
		again = print1((const char *)b.p);
		ck_assert_msg(strcmp(again, (const char *)b.p) == 0,
			      "%s: [%.300s] reprinted as [%.300s]", where, b.p,
			      again);
		rdb_free(again);
		rdb_buf_free(&b);
		st->n_stmts++;
	}
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	long len;
	char *z, *r, *w;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	z = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_eq(fread(z, 1, (size_t)len, f), (size_t)len);
	z[len] = '\0';
	fclose(f);
	/* some files have CRLF line ends */
	for (r = w = z; *r != '\0'; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	return z;
}

/* Does this condition line exclude the next record from what the parser
 * must handle?  Records for other engines ("onlyif mysql") and records
 * SQLite or rdb skip ("skipif sqlite", "skipif rdb") are excluded. */
static int excludes_sqlite(const char *line)
{
	char verb[16], engine[32];
	int ours;

	if (sscanf(line, "%15s %31s", verb, engine) != 2)
		return 0;
	ours = strcmp(engine, "sqlite") == 0 || strcmp(engine, "rdb") == 0;
	if (strcmp(verb, "onlyif") == 0)
		return !ours;
	return strcmp(verb, "skipif") == 0 && ours;
}

/* Run one .test file of the sqllogictest format through the parser. */
static void corpus_file(const char *path, corpus_stats *st)
{
	char *text = read_all(path), *line, *next, *sql;
	int skip = 0, must;
	size_t cap = 1 << 16;
	char where[1100];
	long lineno = 0;

	sql = malloc(cap);
	ck_assert_ptr_nonnull(sql);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (strncmp(line, "onlyif ", 7) == 0 ||
		    strncmp(line, "skipif ", 7) == 0) {
			skip |= excludes_sqlite(line);
			continue;
		}
		if (strcmp(line, "halt") == 0 && !skip)
			break;
		if (strncmp(line, "statement ", 10) != 0 &&
		    strncmp(line, "query ", 6) != 0) {
			if (strcmp(line, "halt") == 0)
				skip = 0;
			continue;
		}
		must = strncmp(line, "statement error", 15) != 0;
		snprintf(where, sizeof(where), "%s:%ld", path, lineno);
		sql[0] = '\0';
		/* the SQL runs to a blank line or "----" */
		while (next != NULL && *next != '\0' && *next != '\n' &&
		       strncmp(next, "----", 4) != 0) {
			char *end = strchr(next, '\n');
			size_t len = end != NULL ? (size_t)(end - next) : strlen(next);
			size_t have = strlen(sql);

			ck_assert_uint_lt(have + len + 2, cap);
			memcpy(sql + have, next, len);
			sql[have + len] = '\n';
			sql[have + len + 1] = '\0';
			next = end != NULL ? end + 1 : NULL;
			lineno++;
		}
		if (skip) {
			st->n_skipped++;
		} else if (must) {
			rdb_err err = { 0 };
			sql_stmt *s = NULL;
			size_t tail;

			if (corpus_sql(sql, where, st) != RDB_OK) {
				(void)sql_parse(sql, strlen(sql), &err, &s, &tail);
				ck_abort_msg("%s: [%.300s] does not parse: %s",
					     where, sql, err.msg);
			}
			st->n_must++;
		} else if (corpus_sql(sql, where, st) == RDB_OK) {
			st->n_error_parsed++;
		} else {
			st->n_error_failed++;
		}
		skip = 0;
	}
	free(sql);
	free(text);
}

/* The corpus directory: $RDB_SLT_DIR, or ../shared/sqllogictest from the
 * main checkout or from a worktree below it. */
static const char *corpus_dir(void)
{
	static const char *const candidates[] = {
		"../shared/sqllogictest", "../../shared/sqllogictest",
		"/work/shared/sqllogictest",
	};
	const char *env = getenv("RDB_SLT_DIR");
	size_t i;

	if (env != NULL && *env != '\0')
		return env;
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL;
}

START_TEST(test_sqlparse_corpus_every_record_parses_and_reprints)
{
	static const char *const files[] = {
		"select1.test", "select2.test", "select3.test", "select4.test",
		"select5.test", "evidence/in1.test", "evidence/in2.test",
		"evidence/slt_lang_aggfunc.test",
		"evidence/slt_lang_createtrigger.test",
		"evidence/slt_lang_createview.test",
		"evidence/slt_lang_dropindex.test",
		"evidence/slt_lang_droptable.test",
		"evidence/slt_lang_droptrigger.test",
		"evidence/slt_lang_dropview.test",
		"evidence/slt_lang_reindex.test",
		"evidence/slt_lang_replace.test",
		"evidence/slt_lang_update.test",
	};
	const char *dir = corpus_dir();
	corpus_stats st = { 0 };
	struct timespec t0, t1;
	char path[1024];
	double secs;
	glob_t own;
	size_t i;

	ck_assert_msg(dir != NULL, "sqllogictest corpus not found: set "
		      "RDB_SLT_DIR to the directory of select1.test");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		corpus_file(path, &st);
	}
	/* the project's own files (run from the top of the tree) */
	ck_assert_int_eq(glob("tests/slt/*.test", 0, NULL, &own), 0);
	ck_assert_uint_gt(own.gl_pathc, 0);
	for (i = 0; i < own.gl_pathc; i++)
		corpus_file(own.gl_pathv[i], &st);
	globfree(&own);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "sqlparse corpus: %ld records parsed, %ld 'statement "
		"error' records parse and %ld do not, %ld skipped; %ld "
		"statements printed and reparsed; %.1f MB in %.2f s of CPU\n",
		st.n_must, st.n_error_parsed, st.n_error_failed, st.n_skipped,
		st.n_stmts, (double)st.bytes / 1e6, secs);
	/* the five select files alone hold over 10,000 queries */
	ck_assert_int_gt(st.n_must, 10000);
	ck_assert_int_ge(st.n_stmts, st.n_must);
}
END_TEST

/* ---- against SQLite ------------------------------------------------------ */

/* A random constant expression of SQLite's operators, at most depth d
 * more levels deep, appended to buf (cap bytes). */
static void random_expr(uint64_t *seed, int d, char *buf, size_t cap)
{
	static const char *const lits[] = {
		"1", "0", "2", "3", "-1", "NULL", "'a'", "'1'", "1.5", "5", "7",
		"x'01'", "'%'",
	};
	static const char *const ops[] = {
		"+", "-", "*", "/", "%", "||", "<<", ">>", "&", "|", "<", "<=",
		">", ">=", "=", "==", "!=", "<>", "AND", "OR", "IS", "IS NOT",
		"COLLATE nocase ||",
	};
	static const char *const unary[] = { "-", "+", "~", "NOT " };
	static const char *const post[] = {
		" ISNULL", " NOTNULL", " NOT NULL", " IS NULL", " IS NOT NULL",
		" COLLATE rtrim",
	};
	size_t n = strlen(buf);
	int k = d <= 0 ? 0 : (int)tu_rand_below(seed, 12);

#define PICK(a) a[tu_rand_below(seed, sizeof(a) / sizeof(a[0]))]
#define ADD(str) snprintf(buf + strlen(buf), cap - strlen(buf), "%s", str)
#define SUB() random_expr(seed, d - 1, buf, cap)
	if (cap - n < 64) {
		ADD("1");
		return;
	}
	switch (k) {
	case 0: case 1: ADD(PICK(lits)); break;
	case 2: case 3: case 4: case 5:
		SUB(); ADD(" "); ADD(PICK(ops)); ADD(" "); SUB();
		break;
	case 6: ADD(PICK(unary)); SUB(); break;
	case 7:
		SUB(); ADD(tu_rand_below(seed, 2) ? " NOT BETWEEN " :
			   " BETWEEN ");
		SUB(); ADD(" AND "); SUB();
		break;
	case 8:
		SUB(); ADD(tu_rand_below(seed, 2) ? " NOT IN (" : " IN (");
		SUB(); ADD(", "); SUB(); ADD(")");
		break;
	case 9:
		SUB(); ADD(tu_rand_below(seed, 2) ? " NOT LIKE " : " GLOB ");
		SUB();
		break;
	case 10: SUB(); ADD(PICK(post)); break;
	default:
		ADD(tu_rand_below(seed, 2) ? "(" : "CASE WHEN ");
		SUB();
		ADD(strchr(buf + n, '(') == buf + n ? ")" : " THEN 1 ELSE 0 END");
		break;
	}
#undef PICK
#undef ADD
#undef SUB
}

/* The single value of sql run by SQLite as text ("type:value"), or the
 * error. */
static void sqlite_value(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, cap, "%d:%s", sqlite3_column_type(st, 0),
			 t != NULL ? (const char *)t : "");
	} else {
		snprintf(out, cap, "error: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
}

/* Our tree has SQLite's operator levels if SQLite computes the same value
 * from the original text and from our printed text, whose parentheses
 * spell out our tree. */
START_TEST(test_sqlparse_sqlite_same_values_from_printed_expressions)
{
	uint64_t seed = tu_seed();
	long n = tu_scaled(20000, 500), i, n_compared = 0;
	sqlite3 *db;

	tu_seed_note("sqlparse vs sqlite", seed);
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (i = 0; i < n; i++) {
		char sql[4096] = "SELECT ", want[512], got[512];
		sql_stmt *s = NULL;
		rdb_buf b = { 0 };
		size_t tail;

		random_expr(&seed, 5, sql, sizeof(sql));
		if (sql_parse(sql, strlen(sql), NULL, &s, &tail) != RDB_OK) {
			sqlite_value(db, sql, want, sizeof(want));
			ck_assert_msg(strncmp(want, "error", 5) == 0,
				      "[%s] is SQL to SQLite (%s)", sql, want);
			continue;
		}
		ck_assert_int_eq(sql_print_stmt(s, &b), RDB_OK);
		ck_assert_int_eq(rdb_buf_terminate(&b), RDB_OK);
		sql_stmt_free(s);
		sqlite_value(db, sql, want, sizeof(want));
		sqlite_value(db, (const char *)b.p, got, sizeof(got));
		ck_assert_msg(strcmp(want, got) == 0, "[%s] gives %s, printed "
			      "as [%s] it gives %s", sql, want, b.p, got);
		rdb_buf_free(&b);
		n_compared++;
	}
	sqlite3_close(db);
	ck_assert_int_gt(n_compared, n / 2);
}
END_TEST

START_TEST(test_sqlparse_sqlite_complete_agrees)
{
	static const char *const parts[] = {
		"CREATE", " ", "TEMP", "TRIGGER", "BEGIN", "END", ";",
		"select 1", "EXPLAIN", "'a;b'", "\"x;\"", "[;]", "`;`",
		"/* ; */", "-- ;\n", "\n", "x", "(", ")", "CASE", "'", "\"",
		"/*", "--", "temporary", "create trigger t update on x begin",
		"end;", "tRiGgEr", "eNd", "e", "nd",
	};
	uint64_t seed = tu_seed();
	long n = tu_scaled(20000, 500), i;

	tu_seed_note("sqlparse complete", seed);
	for (i = 0; i < n; i++) {
		char text[1024] = "";
		int k = (int)tu_rand_below(&seed, 12) + 1;

		while (k-- > 0 && strlen(text) < sizeof(text) - 64) {
			strcat(text, parts[tu_rand_below(&seed,
				sizeof(parts) / sizeof(parts[0]))]);
			if (tu_rand_below(&seed, 2))
				strcat(text, " ");
		}
		ck_assert_msg(sql_complete(text) == sqlite3_complete(text),
			      "[%s]: ours %d, SQLite %d", text,
			      sql_complete(text), sqlite3_complete(text));
	}
}
END_TEST

/* ---- speed ----------------------------------------------------------------- */

START_TEST(test_sqlparse_speed_parses_a_large_insert_quickly)
{
	long rows = tu_scaled(100000, 1000), i;
	size_t cap = (size_t)rows * 64 + 64, n;
	char *sql = malloc(cap);
	struct timespec t0, t1;
	sql_stmt *s;
	double secs;

	ck_assert_ptr_nonnull(sql);
	n = (size_t)sprintf(sql, "INSERT INTO t VALUES ");
	for (i = 0; i < rows; i++)
		n += (size_t)sprintf(sql + n, "%s(%ld, 'name %ld', %ld.5, NULL)",
				     i > 0 ? ", " : "", i, i * 7, i);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	s = parse1(sql);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ck_assert_int_eq(s->u.insert.select->cores[0].n_rows, rows);
	sql_stmt_free(s);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "sqlparse speed: %.1f MB of INSERT parsed at %.0f MB/s\n",
		(double)n / 1e6, (double)n / 1e6 / (secs > 0 ? secs : 1e-9));
	free(sql);
}
END_TEST

Suite *sqlparse_suite(void)
{
	Suite *s = suite_create("sqlparse");
	TCase *tc;

	tc = tcase_create("print");
	tcase_add_loop_test(tc, test_sqlparse_print_gives_canonical_text, 0,
			    (int)(sizeof(print_cases) / sizeof(print_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("tree");
	tcase_add_test(tc, test_sqlparse_tree_select_fields_and_spans);
	tcase_add_test(tc, test_sqlparse_tree_params_numbered_as_sqlite);
	tcase_add_test(tc, test_sqlparse_tree_ddl_fields);
	tcase_add_test(tc, test_sqlparse_tree_joins_compounds_subqueries);
	tcase_add_loop_test(tc, test_sqlparse_tree_schema_text_like_sqlite, 0,
			    (int)(sizeof(schema_cases) / sizeof(schema_cases[0])));
	tcase_add_test(tc, test_sqlparse_tree_script_and_empty_statements);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_sqlparse_errors_have_message_and_position,
			    0, (int)(sizeof(error_cases) / sizeof(error_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("complete");
	tcase_add_test(tc, test_sqlparse_complete_like_sqlite);
	suite_add_tcase(s, tc);

	tc = tcase_create("sqlite");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sqlparse_sqlite_same_values_from_printed_expressions);
	tcase_add_test(tc, test_sqlparse_sqlite_complete_agrees);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sqlparse_hostile_random_bytes_never_crash);
	tcase_add_test(tc, test_sqlparse_hostile_deep_nesting_is_toobig);
	tcase_add_test(tc, test_sqlparse_hostile_many_compound_terms_is_toobig);
	tcase_add_test(tc, test_sqlparse_hostile_huge_tokens_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("nomem");
	tcase_add_loop_test(tc, test_sqlparse_nomem_every_allocation_fails_cleanly,
			    0, (int)(sizeof(nomem_cases) / sizeof(nomem_cases[0])));
	tcase_add_test(tc, test_sqlparse_nomem_in_printer_is_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sqlparse_corpus_every_record_parses_and_reprints);
	tcase_add_test(tc, test_sqlparse_speed_parses_a_large_insert_quickly);
	suite_add_tcase(s, tc);
	return s;
}
