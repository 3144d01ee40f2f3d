/*
 * check_sqldiff.c -- differential test: random schemas and random SQL
 * (INSERT, UPDATE, DELETE, SELECT with joins, grouping, compounds and
 * subqueries, transactions) run through rdb's public API and through an
 * in-memory libsqlite3 on the same STRICT tables; success or failure
 * (constraint vs other error), rdb_changes and result rows must agree.
 * Where rdb differs from SQLite on purpose (docs/sql.md) the generator
 * stays away, citing the section.  A mismatch prints the seed and the
 * script, shrunk to the statements needed to reproduce it.
 *
 * Work is bounded: SQLite runs each statement first under an instruction
 * budget, and a statement over it (nested subqueries over a three-way
 * join can ask for billions of rows) ends the session there, unrun on
 * rdb; rdb then runs it under a watchdog, and a statement SQLite finished
 * within its budget but rdb did not within WATCH_S seconds fails the test
 * naming it (a plan far worse than SQLite's, or a hang).
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "sql_util.h"
#include "test_util.h"

/* ---- the schema model -------------------------------------------------- */

enum { T_INT, T_REAL, T_TEXT, T_BLOB, T_ANY, N_TYPES };
static const char *const type_name[N_TYPES] = {
	"INTEGER", "REAL", "TEXT", "BLOB", "ANY"
};

#define MAX_TABLES 3
#define MAX_GROW_ROWS 40      /* no INSERT ... SELECT past this many rows */
#define MAX_COLS 5

typedef struct col {
	int type;
	int notnull, unique, pk;
	int rowid;                 /* an INTEGER PRIMARY KEY */
	int ukey;                  /* in the key or a unique index */
} col;

typedef struct table {
	int n_cols;
	col cols[MAX_COLS];
} table;

typedef struct gen {
	uint64_t rng;
	int n_tables;
	table t[MAX_TABLES];
	int n_alias;               /* aliases handed out in this statement */
	int depth;                 /* subquery nesting */
	/* what the current SELECT's comparison must tolerate */
	int ordered;               /* ORDER BY fixes the order of rows */
	int loose;                 /* 2 and 2.0 may stand for each other */
	int limited;               /* LIMIT/OFFSET: compare order keys only */
	int in_txn;                /* inside BEGIN ... */
	int txn_cols[MAX_TABLES];  /* each table's columns at BEGIN: a
				      ROLLBACK takes back an ADD COLUMN */
	/* 1 + the table an UPDATE or DELETE changes (0: none): its
	 * subqueries read the other tables (docs/sql.md, "Subqueries of
	 * UPDATE and DELETE") */
	int changing;
	long rows_max;             /* rows of the largest table */
	int in_group_key;          /* generating a GROUP BY key */
	int one_source;            /* INSERT ... SELECT: FROM one table */
} gen;

static int rnd(gen *g, int n)
{
	return (int)tu_rand_below(&g->rng, (uint64_t)n);
}

static int chance(gen *g, int pct)
{
	return rnd(g, 100) < pct;
}

/*
 * Values.  Reals are dyadic fractions of small magnitude, so sums and
 * averages are exact whatever order the engines add the rows in.
 */
static const char *const int_vals[] = {
	"0", "1", "2", "3", "-1", "7", "10", "-5", "100"
};
static const char *const real_vals[] = {
	"0.5", "-1.5", "2.5", "1.0", "3.0", "0.25", "10.75"
};
static const char *const text_vals[] = {
	"'a'", "'b'", "'A'", "'abc'", "'ab%'", "'1'", "'2'", "'2.5'", "''",
	"'B_c'", "' 3 '", "'x y'"
};
static const char *const blob_vals[] = {
	"x''", "x'00'", "x'61'", "x'0102'", "x'ff'"
};
#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *value_of_type(gen *g, int type)
{
	switch (type) {
	case T_INT: return int_vals[rnd(g, N_OF(int_vals))];
	case T_REAL: return real_vals[rnd(g, N_OF(real_vals))];
	case T_TEXT: return text_vals[rnd(g, N_OF(text_vals))];
	case T_BLOB: return blob_vals[rnd(g, N_OF(blob_vals))];
	default: return value_of_type(g, rnd(g, T_ANY));
	}
}

/* A value for a column: mostly of its type, sometimes anything (never
 * a wrong type when strict). */
static const char *value_for(gen *g, const col *c, int strict)
{
	if (chance(g, 8))
		return "NULL";
	/* docs/sql.md "INTEGER PRIMARY KEY": a NULL there becomes 1 in a
	 * table whose keys are all negative (SQLite: the largest + 1). */
	if (c->rowid)
		return int_vals[rnd(g, 4)];
	if (!strict && chance(g, 4))
		return value_of_type(g, rnd(g, T_ANY));
	return value_of_type(g, c->type);
}

/* ", UNIQUE(ca, cb [DESC])": a UNIQUE table constraint on two columns (the
 * first never DESC: see gen_create_index). */
static void gen_unique_cons(gen *g, table *t, sbuf *b)
{
	int a = rnd(g, t->n_cols), c = rnd(g, t->n_cols - 1);

	if (c >= a)
		c++;
	sb_add(b, ", UNIQUE(c%d, c%d%s)", a, c, chance(g, 30) ? " DESC" : "");
	t->cols[a].ukey = t->cols[c].ukey = 1;
}

static void gen_create_table(gen *g, int ti, sbuf *b)
{
	table *t = &g->t[ti];
	int i, npk, kind;

	t->n_cols = 2 + rnd(g, MAX_COLS - 1);
	for (i = 0; i < t->n_cols; i++) {
		t->cols[i] = (col){ .type = rnd(g, N_TYPES) };
		t->cols[i].notnull = chance(g, 20);
		t->cols[i].unique = chance(g, 12);
	}
	/* 0: rowid table, 1: one-column key, 2: composite key. */
	kind = rnd(g, 3);
	npk = kind == 0 ? 0 : kind == 1 ? 1 : 2 + rnd(g, t->n_cols - 1);
	if (npk > t->n_cols)
		npk = t->n_cols;
	sb_add(b, "CREATE TABLE t%d(", ti);
	for (i = 0; i < t->n_cols; i++) {
		col *c = &t->cols[i];

		/* docs/sql.md "Keys keep values, not classes": an ANY key
		 * column reads 2.0 back as 2, so key columns have a type. */
		if (i < npk && c->type == T_ANY)
			c->type = T_INT;
		/* docs/sql.md "Primary-key columns are NOT NULL" (and
		 * "INTEGER PRIMARY KEY ... DESC included"): key columns are
		 * declared NOT NULL, and a one-column INTEGER key is ASC. */
		if (i < npk)
			c->notnull = 1, c->pk = 1;
		c->ukey = c->pk || c->unique;
		sb_add(b, "%sc%d %s", i ? ", " : "", i, type_name[c->type]);
		if (npk == 1 && i == 0) {
			sb_add(b, " PRIMARY KEY%s", c->type == T_INT ? "" :
			       chance(g, 50) ? " DESC" : " ASC");
			if (c->type == T_INT)   /* a NULL is a new rowid */
				c->notnull = 0, c->rowid = 1;
		}
		if (c->notnull)
			sb_add(b, " NOT NULL");
		if (c->unique && !c->pk)
			sb_add(b, " UNIQUE");
		if (chance(g, 15) && !c->pk)
			sb_add(b, " DEFAULT %s", value_of_type(g, c->type));
	}
	if (npk > 1) {
		sb_add(b, ", PRIMARY KEY(");
		for (i = 0; i < npk; i++)
			sb_add(b, "%sc%d%s", i ? ", " : "", i,
			       chance(g, 30) ? " DESC" : "");
		sb_add(b, ")");
	}
	if (t->n_cols > 2 && chance(g, 20))
		gen_unique_cons(g, t, b);
	if (chance(g, 20)) {
		int c = rnd(g, t->n_cols);

		sb_add(b, ", CHECK (c%d IS NULL OR c%d <> %s)", c, c,
		       value_of_type(g, t->cols[c].type));
	}
	sb_add(b, ") STRICT");
}

/* ALTER TABLE ... ADD COLUMN: a nullable column, maybe with a literal
 * DEFAULT of its type and a CHECK that the default passes, so that it
 * succeeds on both engines whatever rows are there. */
static void gen_add_column(gen *g, int ti, sbuf *b)
{
	table *t = &g->t[ti];
	col *c = &t->cols[t->n_cols];
	const char *v;

	*c = (col){ .type = rnd(g, N_TYPES) };
	sb_add(b, "ALTER TABLE t%d ADD COLUMN c%d %s", ti, t->n_cols,
	       type_name[c->type]);
	if (chance(g, 60)) {
		v = value_of_type(g, c->type);
		/* docs/sql.md "Schema statements": an integral REAL default
		 * of an ANY column reads as an integer in SQLite's old rows */
		if (c->type == T_ANY && (strcmp(v, "1.0") == 0 ||
					 strcmp(v, "3.0") == 0))
			v = "2.5";
		sb_add(b, " DEFAULT %s", v);
		if (chance(g, 30))
			sb_add(b, " CHECK (c%d IS NULL OR c%d = %s OR c%d <> "
			       "%s)", t->n_cols, t->n_cols, v, t->n_cols,
			       value_of_type(g, c->type));
	}
	t->n_cols++;
}

static void gen_create_index(gen *g, int ti, int n, sbuf *b)
{
	table *t = &g->t[ti];
	int i, k = 1 + rnd(g, t->n_cols < 3 ? t->n_cols : 3);
	int used = 0, unique = chance(g, 20);

	sb_add(b, "CREATE %sINDEX i%d_%d ON t%d(", unique ? "UNIQUE " : "",
	       ti, n, ti);
	for (i = 0; i < k; i++) {
		int c = rnd(g, t->n_cols);

		if (used & (1 << c))
			continue;
		/* A nullable first column is never DESC: SQLite 3.40 looks
		 * for NULLs of IN (SELECT c FROM t) at the start of such an
		 * index, where DESC does not put them (5 IN (SELECT c ...)
		 * over the values NULL and 2 is 0 there, NULL elsewhere and
		 * in rdb). */
		sb_add(b, "%sc%d%s", used ? ", " : "", c,
		       chance(g, 30) && (used || t->cols[c].notnull)
			       ? " DESC" : "");
		used |= 1 << c;
		t->cols[c].ukey |= unique;   /* (also if CREATE fails) */
	}
	sb_add(b, ")");
}

/* ---- expressions ------------------------------------------------------- */

/* The sources visible to an expression: alias numbers and tables. */
typedef struct scope {
	int n;
	int alias[2 * MAX_TABLES];
	int table[2 * MAX_TABLES];
	const struct scope *up;
} scope;

static void gen_expr(gen *g, const scope *s, int depth, sbuf *b);
static void gen_select_sub(gen *g, const scope *up, int one_col, sbuf *b);

static void gen_colref(gen *g, const scope *s, sbuf *b)
{
	/* Mostly the innermost sources; sometimes an outer one (a
	 * correlated reference). */
	while (s->up != NULL && chance(g, 25))
		s = s->up;
	{
		int k = rnd(g, s->n);
		int ti = s->table[k];

		sb_add(b, "a%d.c%d", s->alias[k], rnd(g, g->t[ti].n_cols));
	}
}

static void gen_leaf(gen *g, const scope *s, sbuf *b)
{
	if (s != NULL && s->n > 0 && chance(g, 65))
		gen_colref(g, s, b);
	else if (chance(g, 8))
		sb_add(b, "NULL");
	else if (chance(g, 3))
		sb_add(b, "-0.0");
	else
		sb_add(b, "%s", value_of_type(g, rnd(g, T_ANY)));
}

static const char *const cmp_ops[] = {
	"=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT", "==", "!="
};
static const char *const arith_ops[] = { "+", "-", "*", "/", "%", "||" };
static const char *const like_pats[] = {
	"'a%'", "'%b%'", "'_'", "'A_C'", "'%'", "'1%'", "''",
	"'ab\\%' ESCAPE '\\'"
};
static const char *const glob_pats[] = {
	"'a*'", "'*b*'", "'?'", "'[a-c]*'", "'*'", "'1*'", "'[^a]*'"
};
static const char *const funcs1[] = {
	"abs", "length", "lower", "upper", "typeof", "quote", "hex",
	"trim", "unicode", "sign"
};
static const char *const cast_types[] = {
	"INTEGER", "REAL", "TEXT", "BLOB", "NUMERIC"
};

static void gen_in_list(gen *g, const scope *s, int depth, sbuf *b)
{
	int i, n = 1 + rnd(g, 4);

	sb_add(b, "(");
	for (i = 0; i < n; i++) {
		if (i)
			sb_add(b, ", ");
		if (chance(g, 80))
			sb_add(b, "%s", value_of_type(g, rnd(g, T_ANY)));
		else
			gen_expr(g, s, depth + 1, b);
	}
	sb_add(b, ")");
}

static void gen_subquery_expr(gen *g, const scope *s, int depth, sbuf *b)
{
	if (g->changing && g->n_tables == 1) {
		gen_leaf(g, s, b);
		return;
	}
	int k = rnd(g, 3);

	/* SQLite (3.40.1) applies the affinity of "x IN (SELECT y)" to x in
	 * place when x is read from a GROUP BY key's row, so another result
	 * column reading x gets the converted value (a TEXT column's '2'
	 * comes out as the integer 2; seed 11901409598006333549): no IN
	 * (SELECT) in grouping keys. */
	if (k == 0 && g->in_group_key)
		k = 1;
	switch (k) {
	case 0:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, " %sIN ", chance(g, 30) ? "NOT " : "");
		gen_select_sub(g, s, 1, b);
		break;
	case 1:
		sb_add(b, "%sEXISTS ", chance(g, 30) ? "NOT " : "");
		gen_select_sub(g, s, 0, b);
		break;
	default:
		gen_select_sub(g, s, 2, b);   /* scalar: one row, one column */
		break;
	}
}

static void gen_expr(gen *g, const scope *s, int depth, sbuf *b)
{
	int k;

	if (depth >= 3 || chance(g, 30)) {
		gen_leaf(g, s, b);
		return;
	}
	k = rnd(g, 17);
	sb_add(b, "(");
	switch (k) {
	case 0: case 1: case 2:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, " %s ", cmp_ops[rnd(g, N_OF(cmp_ops))]);
		gen_expr(g, s, depth + 1, b);
		break;
	case 3: case 4:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, " %s ", arith_ops[rnd(g, N_OF(arith_ops))]);
		gen_expr(g, s, depth + 1, b);
		break;
	case 5:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, chance(g, 50) ? " AND " : " OR ");
		gen_expr(g, s, depth + 1, b);
		break;
	case 6:
		sb_add(b, chance(g, 50) ? "NOT " : "-");
		gen_expr(g, s, depth + 1, b);
		break;
	case 7:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, chance(g, 50) ? " IS NULL" : " IS NOT NULL");
		break;
	case 8:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, " %sBETWEEN ", chance(g, 20) ? "NOT " : "");
		gen_leaf(g, s, b);
		sb_add(b, " AND ");
		gen_leaf(g, s, b);
		break;
	case 9:
		gen_expr(g, s, depth + 1, b);
		sb_add(b, " %sIN ", chance(g, 20) ? "NOT " : "");
		gen_in_list(g, s, depth, b);
		break;
	case 10:
		gen_expr(g, s, depth + 1, b);
		if (chance(g, 60))
			sb_add(b, " %sLIKE %s", chance(g, 20) ? "NOT " : "",
			       like_pats[rnd(g, N_OF(like_pats))]);
		else
			sb_add(b, " %sGLOB %s", chance(g, 20) ? "NOT " : "",
			       glob_pats[rnd(g, N_OF(glob_pats))]);
		break;
	case 11:
		sb_add(b, "CASE ");
		if (chance(g, 40)) {
			gen_expr(g, s, depth + 1, b);
			sb_add(b, " WHEN ");
			gen_leaf(g, s, b);
		} else {
			sb_add(b, "WHEN ");
			gen_expr(g, s, depth + 1, b);
		}
		sb_add(b, " THEN ");
		gen_expr(g, s, depth + 1, b);
		if (chance(g, 60)) {
			sb_add(b, " ELSE ");
			gen_expr(g, s, depth + 1, b);
		}
		sb_add(b, " END");
		break;
	case 12:
		sb_add(b, "CAST(");
		gen_expr(g, s, depth + 1, b);
		sb_add(b, " AS %s)", cast_types[rnd(g, N_OF(cast_types))]);
		break;
	case 13:
		sb_add(b, "%s(", funcs1[rnd(g, N_OF(funcs1))]);
		gen_expr(g, s, depth + 1, b);
		sb_add(b, ")");
		break;
	case 14: {
		static const char *const f2[] = {
			"coalesce", "ifnull", "nullif", "max", "min", "instr",
			"substr"
		};
		sb_add(b, "%s(", f2[rnd(g, N_OF(f2))]);
		gen_expr(g, s, depth + 1, b);
		sb_add(b, ", ");
		gen_expr(g, s, depth + 1, b);
		sb_add(b, ")");
		break;
	}
	default:
		if (g->depth < 2) {
			g->depth++;
			gen_subquery_expr(g, s, depth, b);
			g->depth--;
		} else {
			gen_leaf(g, s, b);
		}
		break;
	}
	sb_add(b, ")");
}

/* ---- SELECT ------------------------------------------------------------ */

/* FROM with 1..3 sources; fills s (whose up is set by the caller). */
static void gen_from(gen *g, scope *s, int max_src, sbuf *b)
{
	int i, n = 1;

	if (max_src > 1 && chance(g, 35))
		n = 2 + (max_src > 2 && chance(g, 30));
	sb_add(b, " FROM ");
	for (i = 0; i < n; i++) {
		int ti = rnd(g, g->n_tables), a = g->n_alias++;
		int on = 0;

		while (ti == g->changing - 1)
			ti = rnd(g, g->n_tables);

		if (i > 0) {
			switch (rnd(g, 4)) {
			case 0: sb_add(b, ", "); break;
			case 1: sb_add(b, " JOIN "), on = 1; break;
			case 2: sb_add(b, " CROSS JOIN "); break;
			default: sb_add(b, " LEFT JOIN "), on = 1; break;
			}
		}
		sb_add(b, "t%d AS a%d", ti, a);
		s->alias[s->n] = a;
		s->table[s->n] = ti;
		s->n++;
		if (on) {
			sb_add(b, " ON ");
			gen_expr(g, s, 1, b);
		}
	}
}

static void gen_where(gen *g, const scope *s, sbuf *b)
{
	if (chance(g, 70)) {
		sb_add(b, " WHERE ");
		gen_expr(g, s, 0, b);
	}
}

/*
 * A subquery in an expression.  one_col: 0 for EXISTS (any columns), 1
 * for IN (one column), 2 for a scalar subquery (one column; an aggregate
 * without GROUP BY so it has one row, or LIMIT 1 after an ORDER BY that
 * fixes the row).
 */
static void gen_select_sub(gen *g, const scope *up, int one_col, sbuf *b)
{
	scope s = { .up = up };
	sbuf from = {0};
	char *fromtxt;

	gen_from(g, &s, 2, &from);
	fromtxt = sb_take(&from);
	sb_add(b, "(SELECT ");
	if (one_col == 2 && chance(g, 60)) {
		static const char *const aggs[] = {
			"count", "sum", "min", "max", "total", "avg"
		};
		/* An aggregate reading only outer columns belongs to the
		 * outer query in SQLite, not in rdb (docs/sql.md, "Queries"):
		 * the argument reads the subquery's own sources. */
		scope inner = s;
		const char *agg = aggs[rnd(g, N_OF(aggs))];

		inner.up = NULL;
		/* min() and max() keep the first of equal values (2 and
		 * 2.0, 0.0 and -0.0), which depends on the scan order, and
		 * sums add in it (put_value()). */
		if (strcmp(agg, "count") != 0)
			g->loose = 1;
		sb_add(b, "%s(", agg);
		gen_expr(g, &inner, 1, b);
		sb_add(b, ")%s", fromtxt);
		gen_where(g, &s, b);
	} else {
		gen_expr(g, &s, 1, b);
		sb_add(b, "%s", fromtxt);
		gen_where(g, &s, b);
		if (one_col == 2) {
			sb_add(b, " ORDER BY 1 LIMIT 1");
			g->loose = 1;   /* the first of equal values, as above */
		}
	}
	sb_add(b, ")");
	free(fromtxt);
}

static void gen_order_all(gen *g, int ncols, sbuf *b)
{
	int i, first = rnd(g, ncols);

	/* Every column, starting anywhere: the order is then fixed up to
	 * values that compare equal (2 and 2.0). */
	sb_add(b, " ORDER BY ");
	for (i = 0; i < ncols; i++) {
		int c = (first + i) % ncols + 1;

		sb_add(b, "%s%d%s", i ? ", " : "", c,
		       chance(g, 40) ? " DESC" : "");
	}
	g->ordered = 1;
}

static void gen_limit(gen *g, sbuf *b)
{
	if (g->ordered && chance(g, 30)) {
		sb_add(b, " LIMIT %d", rnd(g, 6));
		if (chance(g, 40))
			sb_add(b, " OFFSET %d", rnd(g, 4));
		g->limited = 1;
	}
}

/* A plain (non-aggregate) SELECT core of ncols result columns. */
static void gen_core_plain(gen *g, int ncols, int distinct, sbuf *b)
{
	scope s = {0};
	sbuf from = {0};
	char *fromtxt;
	int i;

	gen_from(g, &s, g->one_source ? 1 : 3, &from);
	fromtxt = sb_take(&from);
	sb_add(b, "SELECT %s", distinct ? "DISTINCT " : "");
	for (i = 0; i < ncols; i++) {
		if (i)
			sb_add(b, ", ");
		gen_expr(g, &s, 1, b);
	}
	sb_add(b, "%s", fromtxt);
	gen_where(g, &s, b);
	free(fromtxt);
}

/*
 * An aggregate SELECT: GROUP BY expressions that are also the leading
 * result columns, then aggregates.  docs/sql.md "Queries": bare columns
 * of a grouped query come from the group's first row in rdb and its last
 * in SQLite, so result columns are only grouping terms or aggregates.
 */
static int gen_core_agg(gen *g, sbuf *b)
{
	static const char *const aggs[] = {
		"count", "sum", "min", "max", "total", "avg"
	};
	scope s = {0};
	sbuf from = {0}, grp = {0};
	char *fromtxt;
	char *keys[2];
	int i, nk = rnd(g, 3), na = 1 + rnd(g, 2);

	gen_from(g, &s, 3, &from);
	fromtxt = sb_take(&from);
	for (i = 0; i < nk; i++) {
		/* SQLite folds `0 AND x` to the literal 0 while parsing, and
		 * an integer literal in GROUP BY is an ordinal there: keys
		 * are columns or expressions without AND and OR. */
		do {
			free(grp.p);
			grp = (sbuf){0};
			g->in_group_key = 1;
			if (chance(g, 50))
				gen_colref(g, &s, &grp);
			else
				gen_expr(g, &s, 2, &grp);
			g->in_group_key = 0;
		} while (strstr(grp.p, " AND ") || strstr(grp.p, " OR ") ||
			 strstr(grp.p, ".c") == NULL);
		keys[i] = sb_take(&grp);
	}
	sb_add(b, "SELECT ");
	for (i = 0; i < nk; i++)
		sb_add(b, "%s, ", keys[i]);
	for (i = 0; i < na; i++) {
		if (chance(g, 20)) {
			sb_add(b, "count(*)");
		} else {
			sb_add(b, "%s(%s", aggs[rnd(g, N_OF(aggs))],
			       chance(g, 25) ? "DISTINCT " : "");
			gen_expr(g, &s, 2, b);
			sb_add(b, ")");
		}
		sb_add(b, "%s", i + 1 < na ? ", " : "");
	}
	sb_add(b, "%s", fromtxt);
	gen_where(g, &s, b);
	if (nk > 0) {
		sb_add(b, " GROUP BY ");
		for (i = 0; i < nk; i++)
			sb_add(b, "%s%s", i ? ", " : "", keys[i]);
		if (chance(g, 30)) {
			sb_add(b, " HAVING %s(", aggs[rnd(g, N_OF(aggs))]);
			gen_expr(g, &s, 2, b);
			sb_add(b, ") %s ", cmp_ops[rnd(g, 6)]);
			gen_leaf(g, NULL, b);
		}
	}
	for (i = 0; i < nk; i++)
		free(keys[i]);
	free(fromtxt);
	/* min() and max() keep the first of equal values (2, 2.0) and
	 * sums of mixed classes depend on nothing but the values, but which
	 * of 2 and 2.0 names a group depends on the scan order. */
	g->loose = 1;
	return nk + na;
}

/* A whole query; sets g->ordered, g->loose and g->limited. */
static void gen_query(gen *g, sbuf *b)
{
	int kind = rnd(g, 10), ncols;

	g->ordered = g->loose = g->limited = 0;
	g->n_alias = 0;
	if (kind < 5) {
		int distinct = chance(g, 20);

		ncols = 1 + rnd(g, 3);
		gen_core_plain(g, ncols, distinct, b);
		if (distinct)
			g->loose = 1;  /* which of 2 and 2.0 is kept */
	} else if (kind < 8) {
		ncols = gen_core_agg(g, b);
	} else {
		static const char *const ops[] = {
			" UNION ", " UNION ALL ", " INTERSECT ", " EXCEPT "
		};
		const char *op = ops[rnd(g, N_OF(ops))];

		ncols = 1 + rnd(g, 2);
		gen_core_plain(g, ncols, 0, b);
		sb_add(b, "%s", op);
		gen_core_plain(g, ncols, 0, b);
		if (strcmp(op, " UNION ALL ") != 0)
			g->loose = 1;
	}
	if (chance(g, 60))
		gen_order_all(g, ncols, b);
	gen_limit(g, b);
}

/* ---- DML ---------------------------------------------------------------- */

/*
 * docs/sql.md "Conflict clauses": OR FAIL and OR ROLLBACK behave as ABORT
 * in rdb, so only ABORT, IGNORE and REPLACE are used.  docs/sql.md
 * "Transactions": a statement failing on a type check keeps its earlier
 * rows in SQLite 3.40 when it is OR IGNORE or inside BEGIN, so *strict
 * asks for values of the columns' types there.
 */
static const char *conflict(gen *g, int *strict)
{
	*strict = g->in_txn;
	switch (rnd(g, 6)) {
	case 0: *strict = 1; return "OR IGNORE ";
	case 1: return "OR REPLACE ";
	case 2: return "OR ABORT ";
	default: return "";
	}
}

static void gen_insert(gen *g, sbuf *b)
{
	int ti = rnd(g, g->n_tables), i, r;
	table *t = &g->t[ti];
	int ncols = t->n_cols, cols[MAX_COLS], strict;

	for (i = 0; i < ncols; i++)
		cols[i] = i;
	if (chance(g, 30)) {
		/* A subset (shuffled): the rest take their defaults. */
		for (i = ncols - 1; i > 0; i--) {
			int j = rnd(g, i + 1), x = cols[i];

			cols[i] = cols[j], cols[j] = x;
		}
		ncols = 1 + rnd(g, ncols);
	}
	const char *how = conflict(g, &strict);

	sb_add(b, "INSERT %sINTO t%d(", how, ti);
	for (i = 0; i < ncols; i++)
		sb_add(b, "%sc%d", i ? ", " : "", cols[i]);
	sb_add(b, ") ");
	for (i = 0; i < ncols && !t->cols[cols[i]].rowid; i++)
		;
	/* Not into an INTEGER PRIMARY KEY: a SELECT can put a negative key
	 * there, and the next NULL key then differs on purpose (docs/sql.md
	 * "INTEGER PRIMARY KEY"; seed 12501124301541442133). */
	if (!strict && i == ncols && g->rows_max < MAX_GROW_ROWS &&
	    chance(g, 15)) {
		/* INSERT ... SELECT in a fixed order, so that conflicts and
		 * new rowids come out the same.  From one table and only
		 * while the tables are small, so that a table at most
		 * doubles once past the cap: a join would square its size,
		 * and a three-way join of tables of 10^5 rows (seen) never
		 * ends in either engine. */
		g->n_alias = 0;
		g->one_source = 1;
		gen_core_plain(g, ncols, 0, b);
		g->one_source = 0;
		gen_order_all(g, ncols, b);
		return;
	}
	sb_add(b, "VALUES ");
	for (r = 1 + rnd(g, 4); r > 0; r--) {
		sb_add(b, "(");
		for (i = 0; i < ncols; i++)
			sb_add(b, "%s%s", i ? ", " : "",
			       value_for(g, &t->cols[cols[i]], strict));
		sb_add(b, ")%s", r > 1 ? ", " : "");
	}
}

/*
 * UPDATE.  Rows are changed one by one in each engine's scan order, which
 * differs (SQLite's rowid tables with another PRIMARY KEY are read in
 * rowid order, rdb's in key order), so columns of the key or of a unique
 * index get only constants (two rows changed collide in either order),
 * and none at all under OR IGNORE and OR REPLACE (which row survives
 * depends on the order).
 */
static void gen_update(gen *g, sbuf *b)
{
	int ti = rnd(g, g->n_tables), i, n, strict, plain = 0;
	table *t = &g->t[ti];
	scope s = { .n = 1 };
	const char *how = conflict(g, &strict);
	int orclause = how[0] != '\0' && strcmp(how, "OR ABORT ") != 0;

	for (i = 0; i < t->n_cols; i++)
		plain += !t->cols[i].ukey;
	if (plain == 0)
		how = "", orclause = 0;
	g->n_alias = 1;
	s.alias[0] = 0;
	s.table[0] = ti;
	g->changing = ti + 1;
	sb_add(b, "UPDATE %st%d AS a0 SET ", how, ti);
	n = 1 + rnd(g, 2);
	for (i = 0; i < n; i++) {
		int c;

		do
			c = rnd(g, t->n_cols);
		while (orclause && t->cols[c].ukey);
		sb_add(b, "%sc%d = ", i ? ", " : "", c);
		if (strict || t->cols[c].ukey || chance(g, 50))
			sb_add(b, "%s", value_for(g, &t->cols[c], strict));
		else
			gen_expr(g, &s, 1, b);
	}
	gen_where(g, &s, b);
	g->changing = 0;
}

static void gen_delete(gen *g, sbuf *b)
{
	int ti = rnd(g, g->n_tables);
	scope s = { .n = 1 };

	g->n_alias = 1;
	s.alias[0] = 0;
	s.table[0] = ti;
	g->changing = ti + 1;
	sb_add(b, "DELETE FROM t%d AS a0", ti);
	gen_where(g, &s, b);
	g->changing = 0;
}

/* ---- running a statement on both engines ------------------------------- */

typedef struct outcome {
	int rc;                  /* 0 ok, 1 constraint, 2 other error */
	int64_t changes;
	int n_rows;
	char **exact;            /* rows: classes and values */
	char **loose;            /* rows with numbers by value only */
	char msg[200];
} outcome;

static void outcome_free(outcome *o)
{
	int i;

	for (i = 0; i < o->n_rows; i++) {
		free(o->exact[i]);
		free(o->loose[i]);
	}
	free(o->exact);
	free(o->loose);
	*o = (outcome){0};
}

/* One value: class letter, then value (bytes in hex).  Reals are compared
 * to 14 significant digits, and in the loose form (aggregates and every
 * other query whose numbers may come from a sum) to 12, with magnitudes
 * under 1e-9 as 0: sum(), total() and avg() add in row order, and the
 * engines legitimately read rows in different orders (SQLite's rowid
 * tables in insertion order, rdb in key order), which can move the last
 * bit of a sum; when the sum cancels (2 + 1/10.75 - 2) that last bit of
 * the addends is a larger part of the result (seed 8281005049493394829:
 * 0.093023255813954 and ...953). */
static void put_value(sbuf *ex, sbuf *lo, int type, int64_t i, double r,
		      const unsigned char *p, int n)
{
	int k;

	switch (type) {
	case 1:
		sb_add(ex, "I%lld|", (long long)i);
		if ((double)i == (double)(int64_t)(double)i &&
		    i > -(1LL << 53) && i < (1LL << 53))
			sb_add(lo, "N%.12g|", (double)i);
		else
			sb_add(lo, "I%lld|", (long long)i);
		break;
	case 2:
		sb_add(ex, "R%.14g|", r);
		sb_add(lo, "N%.12g|", fabs(r) < 1e-9 ? 0.0 : r);
		break;
	case 3:
	case 4:
		sb_add(ex, "%c", type == 3 ? 'T' : 'B');
		sb_add(lo, "%c", type == 3 ? 'T' : 'B');
		for (k = 0; k < n; k++) {
			sb_add(ex, "%02x", p[k]);
			sb_add(lo, "%02x", p[k]);
		}
		sb_add(ex, "|");
		sb_add(lo, "|");
		break;
	default:
		sb_add(ex, "N|");
		sb_add(lo, "Z|");
		break;
	}
}

static void add_row(outcome *o, sbuf *ex, sbuf *lo)
{
	o->exact = realloc(o->exact, sizeof(char *) * (size_t)(o->n_rows + 1));
	o->loose = realloc(o->loose, sizeof(char *) * (size_t)(o->n_rows + 1));
	ck_assert(o->exact != NULL && o->loose != NULL);
	o->exact[o->n_rows] = sb_take(ex);
	o->loose[o->n_rows] = sb_take(lo);
	o->n_rows++;
}

static void run_rdb(rdb *db, const char *sql, outcome *o)
{
	rdb_stmt *st = NULL;
	int rc, i;

	*o = (outcome){0};
	rc = rdb_prepare(db, sql, -1, &st, NULL);
	while (rc == RDB_OK || rc == RDB_ROW) {
		if ((rc = rdb_step(st)) != RDB_ROW)
			break;
		sbuf ex = {0}, lo = {0};

		for (i = 0; i < rdb_column_count(st); i++) {
			int t = rdb_column_type(st, i);
			const unsigned char *p = t == RDB_BLOB ?
				rdb_column_blob(st, i) :
				t == RDB_TEXT ? rdb_column_text(st, i) : NULL;

			put_value(&ex, &lo, t, rdb_column_int64(st, i),
				  rdb_column_double(st, i), p,
				  rdb_column_bytes(st, i));
		}
		add_row(o, &ex, &lo);
	}
	if (rc == RDB_DONE) {
		o->rc = 0;
		o->changes = rdb_changes(db);
	} else {
		o->rc = rc == RDB_CONSTRAINT ? 1 : 2;
		snprintf(o->msg, sizeof(o->msg), "%s", rdb_errmsg(db));
	}
	rdb_finalize(st);
}

static void run_sqlite(sqlite3 *db, const char *sql, outcome *o)
{
	sqlite3_stmt *st = NULL;
	int rc, i;

	*o = (outcome){0};
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		sbuf ex = {0}, lo = {0};

		for (i = 0; i < sqlite3_column_count(st); i++) {
			int t = sqlite3_column_type(st, i);
			const unsigned char *p = t == SQLITE_BLOB ?
				sqlite3_column_blob(st, i) :
				t == SQLITE_TEXT ? sqlite3_column_text(st, i)
						 : NULL;

			put_value(&ex, &lo, t, sqlite3_column_int64(st, i),
				  sqlite3_column_double(st, i), p,
				  sqlite3_column_bytes(st, i));
		}
		add_row(o, &ex, &lo);
	}
	if (rc == SQLITE_DONE) {
		o->rc = 0;
		o->changes = sqlite3_changes(db);
	} else {
		/* A value that an INTEGER PRIMARY KEY cannot take is
		 * SQLITE_MISMATCH in SQLite, RDB_CONSTRAINT in rdb (docs/
		 * sql.md "Assigning a value to a column"). */
		o->rc = (rc & 0xff) == SQLITE_CONSTRAINT ||
			(rc & 0xff) == SQLITE_MISMATCH ? 1 : 2;
		snprintf(o->msg, sizeof(o->msg), "%s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How a statement's results are compared. */
typedef struct mode {
	int query;       /* compare rows */
	int ordered;     /* in order (by the loose form: ties 2 / 2.0) */
	int loose;       /* numbers by value only */
	int limited;     /* rows chosen among ties may differ in class */
	int dml;         /* compare rdb_changes */
} mode;

/* NULL when the outcomes agree, else a static description. */
static const char *differ(const mode *m, outcome *a, outcome *b)
{
	char **ra, **rb;
	int i;

	if (a->rc != b->rc)
		return "success or error class";
	if (a->rc != 0)
		return NULL;
	if (m->dml && a->changes != b->changes)
		return "rdb_changes";
	if (!m->query)
		return NULL;
	if (a->n_rows != b->n_rows)
		return "row count";
	if (m->ordered)
		for (i = 0; i < a->n_rows; i++)
			if (strcmp(a->loose[i], b->loose[i]) != 0)
				return "row order or values";
	if ((m->limited && m->ordered) || a->n_rows == 0)
		return NULL;
	ra = m->loose ? a->loose : a->exact;
	rb = m->loose ? b->loose : b->exact;
	qsort(ra, (size_t)a->n_rows, sizeof(char *), cmp_str);
	qsort(rb, (size_t)b->n_rows, sizeof(char *), cmp_str);
	for (i = 0; i < a->n_rows; i++)
		if (strcmp(ra[i], rb[i]) != 0)
			return "rows (as a multiset)";
	return NULL;
}

/* ---- scripts, replay and shrinking ------------------------------------- */

typedef struct step {
	char *sql;
	mode m;
} step;

typedef struct script {
	step *s;
	int n, cap;
} script;

static void script_add(script *sc, char *sql, const mode *m)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->s = realloc(sc->s, sizeof(step) * (size_t)sc->cap);
		ck_assert_ptr_nonnull(sc->s);
	}
	sc->s[sc->n].sql = sql;
	sc->s[sc->n].m = *m;
	sc->n++;
}

static void script_free(script *sc)
{
	int i;

	for (i = 0; i < sc->n; i++)
		free(sc->s[i].sql);
	free(sc->s);
	*sc = (script){0};
}

/* SQLite's budget per statement: OPS_MAX calls of its progress handler,
 * one every OPS_EVERY virtual-machine instructions (a count that is the
 * same on every run of the same statement on the same rows), about a
 * second of CPU.  The sessions' statements need far less but for a rare
 * few whose nested subqueries multiply large joins. */
#define OPS_EVERY 1000
#define OPS_MAX 50000L
/* rdb's time per statement SQLite finished, seconds. */
#define WATCH_S 60

/* Interrupts db when a statement runs past its deadline. */
typedef struct watch {
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* armed, disarmed or stop changed */
	pthread_t th;
	rdb *db;
	struct timespec deadline; /* CLOCK_MONOTONIC */
	int armed, fired, stop;
} watch;

static void *watch_main(void *arg)
{
	watch *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		if (!w->armed)
			pthread_cond_wait(&w->cv, &w->mu);
		else if (pthread_cond_timedwait(&w->cv, &w->mu,
						&w->deadline) == ETIMEDOUT &&
			 w->armed) {
			w->armed = 0;
			w->fired = 1;
			rdb_interrupt(w->db);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void watch_start(watch *w, rdb *db)
{
	pthread_condattr_t ca;

	*w = (watch){ .db = db };
	ck_assert_int_eq(pthread_condattr_init(&ca), 0);
	ck_assert_int_eq(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	ck_assert_int_eq(pthread_cond_init(&w->cv, &ca), 0);
	pthread_condattr_destroy(&ca);
	ck_assert_int_eq(pthread_mutex_init(&w->mu, NULL), 0);
	ck_assert_int_eq(pthread_create(&w->th, NULL, watch_main, w), 0);
}

/* Arm (on = 1, WATCH_S from now) or disarm; disarming returns 1 if the
 * watchdog fired since it was armed. */
static int watch_set(watch *w, int on)
{
	int fired;

	pthread_mutex_lock(&w->mu);
	if (on) {
		clock_gettime(CLOCK_MONOTONIC, &w->deadline);
		w->deadline.tv_sec += WATCH_S;
		w->fired = 0;
	}
	w->armed = on;
	fired = w->fired;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return fired;
}

static void watch_stop(watch *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

typedef struct engines {
	rdb *r;
	sqlite3 *s;
	long ops;                 /* SQLite's progress calls this statement */
	watch w;                  /* over rdb */
} engines;

static int count_ops(void *arg)
{
	long *ops = arg;

	return ++*ops > OPS_MAX;  /* non-zero: SQLITE_INTERRUPT */
}

static void engines_open(engines *e)
{
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY | RDB_OPEN_READWRITE |
				     RDB_OPEN_CREATE };

	ck_assert_int_eq(rdb_open_v2("", &e->r, &o), RDB_OK);
	ck_assert_int_eq(sqlite3_open(":memory:", &e->s), SQLITE_OK);
	sqlite3_progress_handler(e->s, OPS_EVERY, count_ops, &e->ops);
	watch_start(&e->w, e->r);
}

static void engines_close(engines *e)
{
	watch_stop(&e->w);
	ck_assert_int_eq(rdb_close(e->r), RDB_OK);
	ck_assert_int_eq(sqlite3_close(e->s), SQLITE_OK);
}

/* What run_step returns for a statement over SQLite's budget (not run on
 * rdb: the session cannot go on from there), and for one rdb ran past
 * the watchdog on. */
static const char over_budget[] = "over SQLite's budget";
static const char too_slow[] = "too slow";

/* Run one step on both, SQLite first; returns the difference (NULL if
 * none), over_budget or too_slow. */
static const char *run_step(engines *e, const step *st, outcome *a,
			    outcome *b)
{
	e->ops = 0;
	run_sqlite(e->s, st->sql, b);
	if (e->ops > OPS_MAX) {
		*a = (outcome){0};
		return over_budget;
	}
	watch_set(&e->w, 1);
	run_rdb(e->r, st->sql, a);
	if (watch_set(&e->w, 0))
		return too_slow;
	return differ(&st->m, a, b);
}

/* Replay the steps marked in keep[]; 1 if the last one still differs
 * (its outcomes are left in a and b when they are not NULL). */
static int replay_fails(const script *sc, const char *keep, outcome *ra,
			outcome *rb)
{
	engines e;
	outcome a = {0}, b = {0};
	const char *why;
	int i, bad = 0;

	engines_open(&e);
	for (i = 0; i < sc->n; i++) {
		if (!keep[i])
			continue;
		outcome_free(&a);
		outcome_free(&b);
		why = run_step(&e, &sc->s[i], &a, &b);
		bad = why != NULL && why != over_budget && why != too_slow;
		if (why == over_budget || why == too_slow)
			break;    /* the rest cannot be compared */
	}
	engines_close(&e);
	if (ra != NULL && bad) {
		outcome_free(ra);
		outcome_free(rb);
		*ra = a, *rb = b;
	} else {
		outcome_free(&a);
		outcome_free(&b);
	}
	return bad;
}

/*
 * Drop every step whose removal keeps the last step failing (one pass
 * over single steps, then another: cheap and usually enough to leave the
 * schema, a few rows and the failing statement).
 */
static void shrink_and_fail(script *sc, uint64_t seed, long session,
			    const char *why,
			    outcome *a, outcome *b)
{
	char *keep = malloc((size_t)sc->n);
	sbuf msg = {0};
	int i, pass;

	ck_assert_ptr_nonnull(keep);
	memset(keep, 1, (size_t)sc->n);
	if (replay_fails(sc, keep, NULL, NULL)) {
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i + 1 < sc->n; i++) {
				if (!keep[i])
					continue;
				keep[i] = 0;
				if (!replay_fails(sc, keep, NULL, NULL))
					keep[i] = 1;
			}
		(void)replay_fails(sc, keep, a, b);
	}
	tu_seed_note("sqldiff", seed);
	sb_add(&msg, "sqldiff: %s differs (seed %llu, session %ld); "
	       "script:\n", why, (unsigned long long)seed, session);
	for (i = 0; i < sc->n; i++)
		if (keep[i])
			sb_add(&msg, "  %s;\n", sc->s[i].sql);
	sb_add(&msg, "rdb: rc class %d, changes %lld, %d rows%s%s\n", a->rc,
	       (long long)a->changes, a->n_rows, a->rc ? ": " : "", a->msg);
	for (i = 0; i < a->n_rows && i < 8; i++)
		sb_add(&msg, "    %s\n", a->exact[i]);
	sb_add(&msg, "sqlite: rc class %d, changes %lld, %d rows%s%s\n",
	       b->rc, (long long)b->changes, b->n_rows, b->rc ? ": " : "",
	       b->msg);
	for (i = 0; i < b->n_rows && i < 8; i++)
		sb_add(&msg, "    %s\n", b->exact[i]);
	free(keep);
	ck_abort_msg("%s", msg.p);
}

/* rdb ran the script's last statement past the watchdog (SQLite ran it
 * in ops thousand instructions): fail with the whole script (shrinking
 * would run slow statements again and again). */
static void slow_fail(const script *sc, uint64_t seed, long session,
		      long ops)
{
	sbuf msg = {0};
	int i;

	tu_seed_note("sqldiff", seed);
	sb_add(&msg, "sqldiff: rdb ran the last statement longer than %d s, "
	       "SQLite in %ld thousand instructions (seed %llu, session "
	       "%ld); script:\n", WATCH_S, ops, (unsigned long long)seed,
	       session);
	for (i = 0; i < sc->n; i++)
		sb_add(&msg, "  %s;\n", sc->s[i].sql);
	fputs(msg.p, stderr);     /* longer than Check's messages */
	ck_abort_msg("sqldiff: rdb too slow on: %s (seed %llu, session %ld; "
		     "the script is on stderr)", sc->s[sc->n - 1].sql,
		     (unsigned long long)seed, session);
}

/* ---- the test ---------------------------------------------------------- */

typedef struct tally {
	long statements, queries, rows, errors;
	long cut;                 /* sessions ended by SQLite's budget */
} tally;

/* Generate one statement of a session into *sql and *m. */
static void gen_statement(gen *g, char **sql, mode *m)
{
	int *in_txn = &g->in_txn;
	sbuf b = {0};
	int k = rnd(g, 100), ti = rnd(g, g->n_tables);

	*m = (mode){0};
	if (k < 3 && !*in_txn) {
		sb_add(&b, "BEGIN");
		*in_txn = 1;
		for (ti = 0; ti < g->n_tables; ti++)
			g->txn_cols[ti] = g->t[ti].n_cols;
	} else if (k < 6 && *in_txn) {
		int rollback = chance(g, 60);

		sb_add(&b, rollback ? "ROLLBACK" : "COMMIT");
		*in_txn = 0;
		for (ti = 0; rollback && ti < g->n_tables; ti++)
			g->t[ti].n_cols = g->txn_cols[ti];
	} else if (k < 35) {
		gen_insert(g, &b);
		m->dml = 1;
	} else if (k < 45) {
		gen_update(g, &b);
		m->dml = 1;
	} else if (k < 50) {
		gen_delete(g, &b);
		m->dml = 1;
	} else if (k < 53) {
		gen_create_index(g, rnd(g, g->n_tables), k, &b);
	} else if (k < 54 && g->t[ti].n_cols < MAX_COLS) {
		gen_add_column(g, ti, &b);
	} else {
		gen_query(g, &b);
		m->query = 1;
		m->ordered = g->ordered;
		m->loose = g->loose;
		m->limited = g->limited;
	}
	*sql = sb_take(&b);
}

/* The rows of rdb's largest table (the engines hold the same rows). */
static long rows_max(rdb *db, int n_tables)
{
	long max = 0;
	int i;

	for (i = 0; i < n_tables; i++) {
		char sql[64];
		rdb_stmt *st = NULL;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM t%d", i);
		if (rdb_prepare(db, sql, -1, &st, NULL) == RDB_OK &&
		    rdb_step(st) == RDB_ROW && rdb_column_int64(st, 0) > max)
			max = (long)rdb_column_int64(st, 0);
		rdb_finalize(st);
	}
	return max;
}

static void run_session(uint64_t seed, long session, int n_statements,
			tally *ty)
{
	gen g = { .rng = (seed + (uint64_t)session * 0x9E3779B97F4A7C15ull) | 1 };
	script sc = {0};
	engines e;
	int i;

	engines_open(&e);
	g.n_tables = 1 + rnd(&g, MAX_TABLES);
	for (i = 0; i < g.n_tables + n_statements; i++) {
		outcome a, b;
		const char *why;
		char *sql;
		mode m = {0};

		if (i < g.n_tables) {
			sbuf cb = {0};

			gen_create_table(&g, i, &cb);
			sql = sb_take(&cb);
		} else {
			gen_statement(&g, &sql, &m);
		}
		script_add(&sc, sql, &m);
		why = run_step(&e, &sc.s[sc.n - 1], &a, &b);
		if (why == over_budget) {
			ty->cut++;
			outcome_free(&a);
			outcome_free(&b);
			break;
		}
		if (why == too_slow)
			slow_fail(&sc, seed, session, e.ops);
		if (why != NULL)
			shrink_and_fail(&sc, seed, session, why, &a, &b);
		if (m.dml)
			g.rows_max = rows_max(e.r, g.n_tables);
		ty->statements++;
		ty->queries += m.query;
		ty->rows += a.n_rows;
		ty->errors += a.rc != 0;
		outcome_free(&a);
		outcome_free(&b);
	}
	engines_close(&e);
	script_free(&sc);
}

START_TEST(test_sqldiff_random_sessions_match_sqlite)
{
	uint64_t seed = tu_seed();
	long i, n = tu_scaled(100, 3);
	tally ty = {0};

	tu_seed_note("sqldiff", seed);
	for (i = 0; i < n; i++)
		run_session(seed, i, 80, &ty);
	fprintf(stderr, "sqldiff: %ld sessions (%ld ended early by a "
		"statement over SQLite's budget), %ld statements (%ld "
		"queries, %ld rows, %ld errors) agree with SQLite\n", n,
		ty.cut, ty.statements, ty.queries, ty.rows, ty.errors);
}
END_TEST

/*
 * Cases the random sessions found, kept as fixed scripts: every step is
 * compared with SQLite as in the random test (values by class, reals bit
 * for bit, rows as multisets unless the statement has an ORDER BY).
 */
static const char *const regress[][6] = {
	/* A negated real literal is negative zero, as in SQLite; 0 - x
	 * only for anything else. */
	{ "CREATE TABLE t(a ANY, b INTEGER) STRICT",
	  "INSERT INTO t VALUES (-0.0, 1), (-(-0.0), 2), (-(0.0 + 0), 3)",
	  "SELECT a, b, -0.0, atan2(-0.0, -1), atan2(a, -1) FROM t" },
	/* A REAL column stores -0.0 as +0.0 (SQLite stores it as the
	 * integer 0); an ANY column keeps the sign. */
	{ "CREATE TABLE t(a REAL, b ANY) STRICT",
	  "INSERT INTO t VALUES (-0.0, -0.0), (0.0 * -1, 1), (-0, 2)",
	  "SELECT a, b, atan2(a, -1), atan2(b, -1) FROM t" },
	/* A UNIQUE index holds many rows whose column is NULL: its order
	 * alone does not give ORDER BY c3, c2 DESC. */
	{ "CREATE TABLE t2(c0 REAL PRIMARY KEY DESC NOT NULL, c2 BLOB, "
	  "c3 ANY UNIQUE) STRICT",
	  "INSERT INTO t2 VALUES (3.0, x'', NULL), (-1.5, x'0102', NULL), "
	  "(0.5, x'00', x'0102')",
	  "SELECT c3, c2 FROM t2 ORDER BY c3, c2 DESC" },
	/* A scan in key order gives one row of a0 per key, not one joined
	 * row: the terms after the key still order a0's joined rows. */
	{ "CREATE TABLE t0(c0 INTEGER PRIMARY KEY, c1 ANY) STRICT",
	  "INSERT INTO t0(c1) VALUES ('2.5'), ('2.5'), ('2.5')",
	  "SELECT a0.c0, a0.c1, a0.c0 < a1.c0 FROM t0 AS a0, t0 AS a1 "
	  "ORDER BY 1, 2 DESC, 3 DESC",
	  "SELECT DISTINCT a0.c0, a0.c1, trim(a0.c0 < a1.c0) FROM t0 AS a0 "
	  "LEFT JOIN t0 AS a1 ON a1.c0 > 1 ORDER BY 1, 2 DESC, 3 DESC" },
	/* UPDATE OR REPLACE skips a row its own REPLACE deleted. */
	{ "CREATE TABLE t1(c0 TEXT, c1 INTEGER) STRICT",
	  "CREATE UNIQUE INDEX i1 ON t1(c1)",
	  "INSERT INTO t1 VALUES ('b', 0), ('x y', 1), ('b', -1), ('b', 3)",
	  "UPDATE OR REPLACE t1 SET c0 = '1', c1 = (NOT c0)",
	  "SELECT * FROM t1" },
};

START_TEST(test_sqldiff_found_cases_match_sqlite)
{
	const char *const *c = regress[_i];
	engines e;
	int k;

	engines_open(&e);
	for (k = 0; k < 6 && c[k] != NULL; k++) {
		step st = { .sql = (char *)c[k] };
		outcome a, b;
		const char *why;

		st.m.dml = strncmp(c[k], "CREATE", 6) != 0;
		st.m.query = strncmp(c[k], "SELECT", 6) == 0;
		st.m.ordered = strstr(c[k], "ORDER BY") != NULL;
		why = run_step(&e, &st, &a, &b);
		ck_assert_msg(why == NULL && a.rc == 0, "%s: %s differs "
			      "(rdb: %s; sqlite: %s)", c[k], why ? why : "rc",
			      a.msg, b.msg);
		outcome_free(&a);
		outcome_free(&b);
	}
	engines_close(&e);
}
END_TEST

Suite *sqldiff_suite(void)
{
	Suite *s = suite_create("sqldiff");
	TCase *tc = tcase_create("random");

	tcase_add_test(tc, test_sqldiff_random_sessions_match_sqlite);
	tcase_set_timeout(tc, 300 + 300 * tu_scale());
	suite_add_tcase(s, tc);
	tc = tcase_create("found");
	tcase_add_loop_test(tc, test_sqldiff_found_cases_match_sqlite, 0,
			    N_OF(regress));
	suite_add_tcase(s, tc);
	return s;
}
