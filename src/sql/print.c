/*
 * print.c -- the syntax tree back to canonical SQL text (tests, EXPLAIN,
 * error context).  Keywords in upper case, one space between words, names
 * quoted only when they must be, parentheses only where the operator
 * levels need them, so print(parse(print(t))) == print(t).  Notes:
 * README.md ("Parser", "Printing").
 */
#include "sql/parse_int.h"
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct writer {
	rdb_buf *b;
	rdb_rc rc;
} writer;

static void put(writer *w, const char *s)
{
	if (w->rc == RDB_OK)
		w->rc = rdb_buf_puts(w->b, s);
}

static void putn(writer *w, const char *s, size_t n)
{
	if (w->rc == RDB_OK)
		w->rc = rdb_buf_append(w->b, s, n);
}

/* Does the name need quotes to read back as the same name? */
static int needs_quotes(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || (s[0] >= '0' && s[0] <= '9') || s[0] == '$')
		return 1;
	for (i = 0; i < n; i++)
		if (!lex_idchar((unsigned char)s[i]))
			return 1;
	if (lex_keyword(s, n) != TK_ID)
		return 1;
	return (n == 4 && strncasecmp(s, "true", 4) == 0) ||
	       (n == 5 && strncasecmp(s, "false", 5) == 0);
}

static void quoted(writer *w, const char *s, char q)
{
	const char *e;

	putn(w, &q, 1);
	while ((e = strchr(s, q)) != NULL) {
		putn(w, s, (size_t)(e - s) + 1);
		putn(w, &q, 1);
		s = e + 1;
	}
	put(w, s);
	putn(w, &q, 1);
}

static void name(writer *w, const char *s)
{
	if (needs_quotes(s))
		quoted(w, s, '"');
	else
		put(w, s);
}

static void qname(writer *w, const char *schema, const char *n)
{
	if (schema != NULL) {
		name(w, schema);
		put(w, ".");
	}
	name(w, n);
}

static void names(writer *w, const sql_name_list *l)
{
	int i;

	put(w, "(");
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			put(w, ", ");
		name(w, l->names[i]);
	}
	put(w, ")");
}

/* ---- expressions ------------------------------------------------------------ */

enum {
	P_OR = 1, P_AND, P_NOT, P_EQ, P_REL, P_BIT, P_ADD, P_MUL, P_CONCAT,
	P_COLLATE, P_UNARY, P_PRIMARY
};

static int prec(const sql_expr *e)
{
	switch (e->op) {
	case SQL_E_OR: return P_OR;
	case SQL_E_AND: return P_AND;
	case SQL_E_NOT: return P_NOT;
	case SQL_E_EQ: case SQL_E_NE: case SQL_E_IS: case SQL_E_ISNOT:
	case SQL_E_ISNULL: case SQL_E_NOTNULL: case SQL_E_LIKE:
	case SQL_E_BETWEEN: case SQL_E_IN_LIST: case SQL_E_IN_SELECT:
	case SQL_E_IN_TABLE:
		return P_EQ;
	case SQL_E_LT: case SQL_E_LE: case SQL_E_GT: case SQL_E_GE:
		return P_REL;
	case SQL_E_BITAND: case SQL_E_BITOR: case SQL_E_LSHIFT:
	case SQL_E_RSHIFT:
		return P_BIT;
	case SQL_E_ADD: case SQL_E_SUB: return P_ADD;
	case SQL_E_MUL: case SQL_E_DIV: case SQL_E_MOD: return P_MUL;
	case SQL_E_CONCAT: return P_CONCAT;
	case SQL_E_COLLATE: return P_COLLATE;
	case SQL_E_NEG: case SQL_E_POS: case SQL_E_BITNOT: return P_UNARY;
	case SQL_E_INT: return e->u.i < 0 ? P_UNARY : P_PRIMARY;
	default: return P_PRIMARY;
	}
}

static const char *binop(sql_op op)
{
	static const char *const ops[] = {
		[SQL_E_OR] = " OR ", [SQL_E_AND] = " AND ", [SQL_E_EQ] = " = ",
		[SQL_E_NE] = " <> ", [SQL_E_IS] = " IS ",
		[SQL_E_ISNOT] = " IS NOT ", [SQL_E_LT] = " < ",
		[SQL_E_LE] = " <= ", [SQL_E_GT] = " > ", [SQL_E_GE] = " >= ",
		[SQL_E_BITAND] = " & ", [SQL_E_BITOR] = " | ",
		[SQL_E_LSHIFT] = " << ", [SQL_E_RSHIFT] = " >> ",
		[SQL_E_ADD] = " + ", [SQL_E_SUB] = " - ", [SQL_E_MUL] = " * ",
		[SQL_E_DIV] = " / ", [SQL_E_MOD] = " % ",
		[SQL_E_CONCAT] = " || ",
	};

	return ops[op];
}

static void expr(writer *w, const sql_expr *e, int need);
static void select_(writer *w, const sql_select *s);

static void expr_list(writer *w, const sql_expr_list *l)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			put(w, ", ");
		expr(w, l->items[i], P_OR);
	}
}

/* The shortest text that reads back as the same double. */
static void real(writer *w, double r)
{
	char s[64];
	int digits;

	if (isinf(r)) {
		put(w, "1e999");
		return;
	}
	for (digits = 15; digits <= 17; digits++) {
		snprintf(s, sizeof(s), "%.*g", digits, r);
		if (strtod(s, NULL) == r)
			break;
	}
	put(w, s);
	if (strpbrk(s, ".eE") == NULL)
		put(w, ".0");
}

static void blob(writer *w, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	put(w, "X'");
	for (i = 0; i < n; i++) {
		char two[2] = { hex[p[i] >> 4], hex[p[i] & 15] };

		putn(w, two, 2);
	}
	put(w, "'");
}

static void literal(writer *w, const sql_expr *e)
{
	static const char *const ctime[] = {
		"CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"
	};
	char num[32];

	switch (e->op) {
	case SQL_E_INT:
		snprintf(num, sizeof(num), "%" PRId64, e->u.i);
		put(w, num);
		break;
	case SQL_E_REAL: real(w, e->u.r); break;
	case SQL_E_STR: quoted(w, e->u.str.p, '\''); break;
	case SQL_E_BLOB:
		blob(w, (const unsigned char *)e->u.str.p, e->u.str.n);
		break;
	case SQL_E_NULL: put(w, "NULL"); break;
	case SQL_E_TRUE: put(w, "TRUE"); break;
	case SQL_E_FALSE: put(w, "FALSE"); break;
	case SQL_E_CTIME: put(w, ctime[e->u.ctime]); break;
	case SQL_E_PARAM:
		put(w, e->u.param.name != NULL ? e->u.param.name : "?");
		break;
	default: break;
	}
}

static void column(writer *w, const sql_expr *e)
{
	if (e->u.col.schema != NULL) {
		name(w, e->u.col.schema);
		put(w, ".");
	}
	if (e->u.col.table != NULL) {
		name(w, e->u.col.table);
		put(w, ".");
	}
	if (e->flags & SQL_EF_QUOTED)
		quoted(w, e->u.col.name, '"');
	else
		name(w, e->u.col.name);
}

static void unary(writer *w, const sql_expr *e)
{
	const sql_expr *x = e->left;

	put(w, e->op == SQL_E_NEG ? "-" : e->op == SQL_E_POS ? "+" :
	       e->op == SQL_E_BITNOT ? "~" : "NOT ");
	if (e->op == SQL_E_NOT) {
		expr(w, x, P_EQ);
	} else if (e->op == SQL_E_NEG && (x->op == SQL_E_NEG ||
					   (x->op == SQL_E_INT && x->u.i < 0))) {
		/* "--" would start a comment */
		put(w, "(");
		expr(w, x, P_OR);
		put(w, ")");
	} else {
		expr(w, x, P_UNARY);
	}
}

static void case_(writer *w, const sql_expr *e)
{
	int i;

	put(w, "CASE");
	if (e->left != NULL) {
		put(w, " ");
		expr(w, e->left, P_OR);
	}
	for (i = 0; i + 1 < e->list.n; i += 2) {
		put(w, " WHEN ");
		expr(w, e->list.items[i], P_OR);
		put(w, " THEN ");
		expr(w, e->list.items[i + 1], P_OR);
	}
	if (e->right != NULL) {
		put(w, " ELSE ");
		expr(w, e->right, P_OR);
	}
	put(w, " END");
}

/* A function name may be a non-reserved keyword (replace, like, glob)
 * without quotes: a keyword followed by "(" is a call.  CAST and RAISE
 * are the exceptions, being expressions of their own. */
static void func_name(writer *w, const char *s)
{
	tk k = lex_keyword(s, strlen(s));

	if (k >= TK_FALLBACK_FIRST && k <= TK_FALLBACK_LAST && k != TK_CAST &&
	    k != TK_RAISE && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(s))
		put(w, s);
	else
		name(w, s);
}

static void func(writer *w, const sql_expr *e)
{
	func_name(w, e->u.func.name);
	put(w, "(");
	if (e->flags & SQL_EF_STAR)
		put(w, "*");
	if (e->flags & SQL_EF_DISTINCT)
		put(w, "DISTINCT ");
	expr_list(w, &e->list);
	put(w, ")");
}

static void subquery(writer *w, const char *before, const sql_select *s)
{
	put(w, before);
	put(w, "(");
	select_(w, s);
	put(w, ")");
}

static void special(writer *w, const sql_expr *e)
{
	static const char *const like[] = { "LIKE ", "GLOB ", "REGEXP ",
		"MATCH " };
	static const char *const raise[] = { "IGNORE", "ROLLBACK", "ABORT",
		"FAIL" };

	switch (e->op) {
	case SQL_E_ISNULL: expr(w, e->left, P_EQ); put(w, " IS NULL"); break;
	case SQL_E_NOTNULL:
		expr(w, e->left, P_EQ);
		put(w, " IS NOT NULL");
		break;
	case SQL_E_COLLATE:
		expr(w, e->left, P_COLLATE);
		put(w, " COLLATE ");
		name(w, e->u.collation);
		break;
	case SQL_E_LIKE:
		expr(w, e->left, P_EQ);
		put(w, e->flags & SQL_EF_NOT ? " NOT " : " ");
		put(w, like[e->u.like.kind]);
		expr(w, e->right, P_REL);
		if (e->u.like.escape != NULL) {
			put(w, " ESCAPE ");
			expr(w, e->u.like.escape, P_BIT);
		}
		break;
	case SQL_E_BETWEEN:
		expr(w, e->left, P_EQ);
		put(w, e->flags & SQL_EF_NOT ? " NOT BETWEEN " : " BETWEEN ");
		expr(w, e->u.between.lo, P_REL);
		put(w, " AND ");
		expr(w, e->u.between.hi, P_REL);
		break;
	case SQL_E_IN_LIST:
	case SQL_E_IN_SELECT:
	case SQL_E_IN_TABLE:
		expr(w, e->left, P_EQ);
		put(w, e->flags & SQL_EF_NOT ? " NOT IN " : " IN ");
		if (e->op == SQL_E_IN_SELECT) {
			subquery(w, "", e->select);
		} else if (e->op == SQL_E_IN_TABLE) {
			qname(w, e->u.col.schema, e->u.col.table);
		} else {
			put(w, "(");
			expr_list(w, &e->list);
			put(w, ")");
		}
		break;
	case SQL_E_CASE: case_(w, e); break;
	case SQL_E_CAST:
		put(w, "CAST(");
		expr(w, e->left, P_OR);
		put(w, " AS ");
		put(w, e->u.type);
		put(w, ")");
		break;
	case SQL_E_FUNC: func(w, e); break;
	case SQL_E_EXISTS: subquery(w, "EXISTS ", e->select); break;
	case SQL_E_SUBQUERY: subquery(w, "", e->select); break;
	case SQL_E_VECTOR:
		put(w, "(");
		expr_list(w, &e->list);
		put(w, ")");
		break;
	case SQL_E_RAISE:
		put(w, "RAISE(");
		put(w, raise[e->u.raise.kind]);
		if (e->u.raise.msg != NULL) {
			put(w, ", ");
			quoted(w, e->u.raise.msg, '\'');
		}
		put(w, ")");
		break;
	default:
		literal(w, e);
		break;
	}
}

static void expr(writer *w, const sql_expr *e, int need)
{
	int p = prec(e), paren = p < need;

	if (paren)
		put(w, "(");
	if (e->op == SQL_E_COLUMN) {
		column(w, e);
	} else if (e->op == SQL_E_NEG || e->op == SQL_E_POS ||
		   e->op == SQL_E_BITNOT || e->op == SQL_E_NOT) {
		unary(w, e);
	} else if (e->op >= SQL_E_OR && e->op <= SQL_E_CONCAT) {
		expr(w, e->left, p);
		put(w, binop(e->op));
		expr(w, e->right, p + 1);
	} else {
		special(w, e);
	}
	if (paren)
		put(w, ")");
}

/* ---- SELECT -------------------------------------------------------------------- */

static void result_cols(writer *w, const sql_core *c)
{
	int i;

	for (i = 0; i < c->n_cols; i++) {
		const sql_result_col *rc = &c->cols[i];

		if (i > 0)
			put(w, ", ");
		if (rc->star && rc->star_table != NULL) {
			name(w, rc->star_table);
			put(w, ".*");
		} else if (rc->star) {
			put(w, "*");
		} else {
			expr(w, rc->expr, P_OR);
		}
		if (rc->alias != NULL) {
			put(w, " AS ");
			name(w, rc->alias);
		}
	}
}

static void src_item(writer *w, const sql_src *s)
{
	if (s->subquery != NULL)
		subquery(w, "", s->subquery);
	else
		qname(w, s->schema, s->name);
	if (s->alias != NULL) {
		put(w, " AS ");
		name(w, s->alias);
	}
	if (s->indexed_by != NULL) {
		put(w, " INDEXED BY ");
		name(w, s->indexed_by);
	} else if (s->not_indexed) {
		put(w, " NOT INDEXED");
	}
}

static void from(writer *w, const sql_core *c)
{
	static const char *const joins[] = {
		[SQL_JOIN_NONE] = "", [SQL_JOIN_COMMA] = ", ",
		[SQL_JOIN_INNER] = " JOIN ", [SQL_JOIN_CROSS] = " CROSS JOIN ",
		[SQL_JOIN_LEFT] = " LEFT JOIN ", [SQL_JOIN_RIGHT] = " RIGHT JOIN ",
		[SQL_JOIN_FULL] = " FULL JOIN ",
	};
	int i;

	put(w, " FROM ");
	for (i = 0; i < c->n_src; i++) {
		const sql_src *s = &c->src[i];

		if (s->natural)
			put(w, " NATURAL");
		put(w, joins[s->join]);
		src_item(w, s);
		if (s->on != NULL) {
			put(w, " ON ");
			expr(w, s->on, P_OR);
		}
		if (s->using_cols.n > 0) {
			put(w, " USING ");
			names(w, &s->using_cols);
		}
	}
}

static void core(writer *w, const sql_core *c)
{
	int i;

	if (c->n_rows > 0) {
		put(w, "VALUES ");
		for (i = 0; i < c->n_rows; i++) {
			put(w, i > 0 ? ", (" : "(");
			expr_list(w, &c->rows[i]);
			put(w, ")");
		}
		return;
	}
	put(w, c->distinct ? "SELECT DISTINCT " : "SELECT ");
	result_cols(w, c);
	if (c->n_src > 0)
		from(w, c);
	if (c->where != NULL) {
		put(w, " WHERE ");
		expr(w, c->where, P_OR);
	}
	if (c->group_by.n > 0) {
		put(w, " GROUP BY ");
		expr_list(w, &c->group_by);
	}
	if (c->having != NULL) {
		put(w, " HAVING ");
		expr(w, c->having, P_OR);
	}
}

static void select_(writer *w, const sql_select *s)
{
	static const char *const ops[] = {
		"", " UNION ", " UNION ALL ", " INTERSECT ", " EXCEPT "
	};
	int i;

	for (i = 0; i < s->n_cores; i++) {
		put(w, ops[s->cores[i].op]);
		core(w, &s->cores[i]);
	}
	for (i = 0; i < s->n_order; i++) {
		put(w, i == 0 ? " ORDER BY " : ", ");
		expr(w, s->order[i].expr, P_OR);
		if (s->order[i].desc)
			put(w, " DESC");
		if (s->order[i].nulls != SQL_NULLS_DEFAULT)
			put(w, s->order[i].nulls == SQL_NULLS_FIRST ?
			       " NULLS FIRST" : " NULLS LAST");
	}
	if (s->limit != NULL) {
		put(w, " LIMIT ");
		expr(w, s->limit, P_OR);
	}
	if (s->offset != NULL) {
		put(w, " OFFSET ");
		expr(w, s->offset, P_OR);
	}
}

rdb_rc sql_print_expr(const sql_expr *e, rdb_buf *out)
{
	writer w = { out, RDB_OK };

	expr(&w, e, P_OR);
	return w.rc;
}

rdb_rc sql_print_select(const sql_select *s, rdb_buf *out)
{
	writer w = { out, RDB_OK };

	select_(&w, s);
	return w.rc;
}

/* ---- statements ------------------------------------------------------------------ */

static const char *const conflicts[] = {
	"", "ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE"
};

static void on_conflict(writer *w, sql_conflict c)
{
	if (c != SQL_OR_DEFAULT) {
		put(w, " ON CONFLICT ");
		put(w, conflicts[c]);
	}
}

static void or_conflict(writer *w, sql_conflict c)
{
	if (c != SQL_OR_DEFAULT) {
		put(w, "OR ");
		put(w, conflicts[c]);
		put(w, " ");
	}
}

static void target(writer *w, const char *schema, const char *table,
		   const char *alias)
{
	qname(w, schema, table);
	if (alias != NULL) {
		put(w, " AS ");
		name(w, alias);
	}
}

static void where(writer *w, const sql_expr *e)
{
	if (e != NULL) {
		put(w, " WHERE ");
		expr(w, e, P_OR);
	}
}

static void insert(writer *w, const sql_insert *s)
{
	put(w, "INSERT ");
	or_conflict(w, s->conflict);
	put(w, "INTO ");
	target(w, s->schema, s->table, s->alias);
	if (s->cols.n > 0) {
		put(w, " ");
		names(w, &s->cols);
	}
	if (s->select == NULL) {
		put(w, " DEFAULT VALUES");
		return;
	}
	put(w, " ");
	select_(w, s->select);
}

static void update(writer *w, const sql_update *s)
{
	int i;

	put(w, "UPDATE ");
	or_conflict(w, s->conflict);
	target(w, s->schema, s->table, s->alias);
	for (i = 0; i < s->n_sets; i++) {
		put(w, i == 0 ? " SET " : ", ");
		if (s->sets[i].cols.n == 1)
			name(w, s->sets[i].cols.names[0]);
		else
			names(w, &s->sets[i].cols);
		put(w, " = ");
		expr(w, s->sets[i].value, P_OR);
	}
	where(w, s->where);
}

static void indexed_cols(writer *w, const sql_indexed_col *c, int n)
{
	int i;

	put(w, "(");
	for (i = 0; i < n; i++) {
		if (i > 0)
			put(w, ", ");
		expr(w, c[i].expr, P_OR);
		if (c[i].desc)
			put(w, " DESC");
	}
	put(w, ")");
}

static void references(writer *w, const sql_fk *fk)
{
	static const char *const actions[] = {
		"", "SET NULL", "SET DEFAULT", "CASCADE", "RESTRICT",
		"NO ACTION"
	};

	put(w, " REFERENCES ");
	name(w, fk->table);
	if (fk->cols.n > 0) {
		put(w, " ");
		names(w, &fk->cols);
	}
	if (fk->on_delete != SQL_FK_NONE) {
		put(w, " ON DELETE ");
		put(w, actions[fk->on_delete]);
	}
	if (fk->on_update != SQL_FK_NONE) {
		put(w, " ON UPDATE ");
		put(w, actions[fk->on_update]);
	}
	if (fk->deferrable)
		put(w, " DEFERRABLE INITIALLY DEFERRED");
}

/* DEFAULT takes a literal, a signed number or a name bare; anything else
 * goes in parentheses. */
static void default_value(writer *w, const sql_expr *e)
{
	const sql_expr *x = e;

	put(w, " DEFAULT ");
	if ((e->op == SQL_E_NEG || e->op == SQL_E_POS) &&
	    (e->left->op == SQL_E_INT || e->left->op == SQL_E_REAL))
		x = e->left;
	if ((x->op <= SQL_E_CTIME && !(x != e && x->op == SQL_E_INT &&
				       x->u.i < 0)) ||
	    (e->op == SQL_E_COLUMN && e->u.col.table == NULL)) {
		expr(w, e, P_OR);
		return;
	}
	put(w, "(");
	expr(w, e, P_OR);
	put(w, ")");
}

static void column_def(writer *w, const sql_column_def *c)
{
	int i;

	name(w, c->name);
	if (c->type != NULL) {
		put(w, " ");
		put(w, c->type);
	}
	if (c->primary_key) {
		put(w, c->pk_desc ? " PRIMARY KEY DESC" : " PRIMARY KEY");
		on_conflict(w, c->pk_conflict);
		if (c->autoincrement)
			put(w, " AUTOINCREMENT");
	}
	if (c->not_null) {
		put(w, " NOT NULL");
		on_conflict(w, c->not_null_conflict);
	}
	if (c->unique) {
		put(w, " UNIQUE");
		on_conflict(w, c->unique_conflict);
	}
	for (i = 0; i < c->checks.n; i++) {
		put(w, " CHECK (");
		expr(w, c->checks.items[i], P_OR);
		put(w, ")");
	}
	if (c->default_value != NULL)
		default_value(w, c->default_value);
	if (c->collation != NULL) {
		put(w, " COLLATE ");
		name(w, c->collation);
	}
	if (c->references != NULL)
		references(w, c->references);
}

static void table_cons(writer *w, const sql_table_cons *t)
{
	if (t->name != NULL) {
		put(w, "CONSTRAINT ");
		name(w, t->name);
		put(w, " ");
	}
	switch (t->kind) {
	case SQL_TC_PRIMARY_KEY:
	case SQL_TC_UNIQUE:
		put(w, t->kind == SQL_TC_UNIQUE ? "UNIQUE " : "PRIMARY KEY ");
		indexed_cols(w, t->cols, t->n_cols);
		on_conflict(w, t->conflict);
		break;
	case SQL_TC_CHECK:
		put(w, "CHECK (");
		expr(w, t->check, P_OR);
		put(w, ")");
		break;
	case SQL_TC_FOREIGN_KEY:
		put(w, "FOREIGN KEY ");
		names(w, &t->fk_cols);
		references(w, t->fk);
		break;
	}
}

static void create_table(writer *w, const sql_create_table *t)
{
	int i;

	put(w, t->temp ? "CREATE TEMP TABLE " : "CREATE TABLE ");
	if (t->if_not_exists)
		put(w, "IF NOT EXISTS ");
	qname(w, t->schema, t->name);
	if (t->as_select != NULL) {
		put(w, " AS ");
		select_(w, t->as_select);
		return;
	}
	put(w, " (");
	for (i = 0; i < t->n_cols; i++) {
		if (i > 0)
			put(w, ", ");
		column_def(w, &t->cols[i]);
	}
	for (i = 0; i < t->n_cons; i++) {
		put(w, ", ");
		table_cons(w, &t->cons[i]);
	}
	put(w, ")");
	if (t->without_rowid)
		put(w, " WITHOUT ROWID");
	if (t->strict)
		put(w, t->without_rowid ? ", STRICT" : " STRICT");
}

static void create_index(writer *w, const sql_create_index *c)
{
	put(w, c->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	if (c->if_not_exists)
		put(w, "IF NOT EXISTS ");
	qname(w, c->schema, c->name);
	put(w, " ON ");
	name(w, c->table);
	put(w, " ");
	indexed_cols(w, c->cols, c->n_cols);
	where(w, c->where);
}

static void create_view(writer *w, const sql_create_view *v)
{
	put(w, v->temp ? "CREATE TEMP VIEW " : "CREATE VIEW ");
	if (v->if_not_exists)
		put(w, "IF NOT EXISTS ");
	qname(w, v->schema, v->name);
	if (v->cols.n > 0) {
		put(w, " ");
		names(w, &v->cols);
	}
	put(w, " AS ");
	select_(w, v->select);
}

static void stmt(writer *w, const sql_stmt *s);

static void create_trigger(writer *w, const sql_create_trigger *t)
{
	static const char *const times[] = { " BEFORE", " AFTER",
		" INSTEAD OF" };
	static const char *const events[] = { " INSERT", " UPDATE",
		" DELETE" };
	int i;

	put(w, t->temp ? "CREATE TEMP TRIGGER " : "CREATE TRIGGER ");
	if (t->if_not_exists)
		put(w, "IF NOT EXISTS ");
	qname(w, t->schema, t->name);
	if (t->time_written)
		put(w, times[t->time]);
	put(w, events[t->event]);
	for (i = 0; i < t->update_cols.n; i++) {
		put(w, i == 0 ? " OF " : ", ");
		name(w, t->update_cols.names[i]);
	}
	put(w, " ON ");
	name(w, t->table);
	if (t->for_each_row)
		put(w, " FOR EACH ROW");
	if (t->when != NULL) {
		put(w, " WHEN ");
		expr(w, t->when, P_OR);
	}
	put(w, " BEGIN ");
	for (i = 0; i < t->n_body; i++) {
		stmt(w, t->body[i]);
		put(w, "; ");
	}
	put(w, "END");
}

static void pragma(writer *w, const sql_pragma *p)
{
	const char *v = p->value;

	put(w, "PRAGMA ");
	qname(w, p->schema, p->name);
	if (v == NULL)
		return;
	put(w, p->paren ? "(" : " = ");
	if (!p->value_is_string &&
	    (strspn(v, "-+0123456789.eExXabcdefABCDEF") == strlen(v) ||
	     !needs_quotes(v) || lex_keyword(v, strlen(v)) != TK_ID))
		put(w, v);
	else
		quoted(w, v, '\'');
	if (p->paren)
		put(w, ")");
}

static void simple(writer *w, const sql_stmt *s)
{
	static const char *const objects[] = { "TABLE ", "INDEX ", "VIEW ",
		"TRIGGER " };
	static const char *const modes[] = { "BEGIN", "BEGIN DEFERRED",
		"BEGIN IMMEDIATE", "BEGIN EXCLUSIVE" };

	switch (s->kind) {
	case SQL_DROP:
		put(w, "DROP ");
		put(w, objects[s->u.drop.object]);
		if (s->u.drop.if_exists)
			put(w, "IF EXISTS ");
		qname(w, s->u.drop.schema, s->u.drop.name);
		break;
	case SQL_BEGIN: put(w, modes[s->u.begin]); break;
	case SQL_COMMIT: put(w, "COMMIT"); break;
	case SQL_ROLLBACK:
		put(w, "ROLLBACK");
		if (s->u.savepoint != NULL) {
			put(w, " TO ");
			name(w, s->u.savepoint);
		}
		break;
	case SQL_SAVEPOINT:
	case SQL_RELEASE:
		put(w, s->kind == SQL_SAVEPOINT ? "SAVEPOINT " : "RELEASE ");
		name(w, s->u.savepoint);
		break;
	case SQL_PRAGMA: pragma(w, &s->u.pragma); break;
	default:
		put(w, s->kind == SQL_REINDEX ? "REINDEX" :
		       s->kind == SQL_ANALYZE ? "ANALYZE" : "VACUUM");
		if (s->u.target.schema != NULL || s->u.target.name != NULL)
			put(w, " ");
		if (s->u.target.name != NULL)
			qname(w, s->u.target.schema, s->u.target.name);
		else if (s->u.target.schema != NULL)
			name(w, s->u.target.schema);
		break;
	}
}

static void alter(writer *w, const sql_alter *a)
{
	put(w, "ALTER TABLE ");
	qname(w, a->schema, a->table);
	switch (a->kind) {
	case SQL_ALTER_RENAME:
		put(w, " RENAME TO ");
		name(w, a->name);
		break;
	case SQL_ALTER_RENAME_COLUMN:
		put(w, " RENAME COLUMN ");
		name(w, a->name);
		put(w, " TO ");
		name(w, a->new_name);
		break;
	case SQL_ALTER_ADD_COLUMN:
		put(w, " ADD COLUMN ");
		column_def(w, &a->col);
		break;
	default:
		put(w, " DROP COLUMN ");
		name(w, a->name);
		break;
	}
}

static void stmt(writer *w, const sql_stmt *s)
{
	if (s->explain)
		put(w, s->explain == 2 ? "EXPLAIN QUERY PLAN " : "EXPLAIN ");
	switch (s->kind) {
	case SQL_SELECT: select_(w, s->u.select); break;
	case SQL_INSERT: insert(w, &s->u.insert); break;
	case SQL_UPDATE: update(w, &s->u.update); break;
	case SQL_DELETE:
		put(w, "DELETE FROM ");
		target(w, s->u.del.schema, s->u.del.table, s->u.del.alias);
		where(w, s->u.del.where);
		break;
	case SQL_CREATE_TABLE: create_table(w, &s->u.create_table); break;
	case SQL_CREATE_INDEX: create_index(w, &s->u.create_index); break;
	case SQL_CREATE_VIEW: create_view(w, &s->u.create_view); break;
	case SQL_CREATE_TRIGGER:
		create_trigger(w, &s->u.create_trigger);
		break;
	case SQL_ALTER_TABLE: alter(w, &s->u.alter); break;
	default: simple(w, s); break;
	}
}

rdb_rc sql_print_stmt(const sql_stmt *s, rdb_buf *out)
{
	writer w = { out, RDB_OK };

	stmt(&w, s);
	return w.rc;
}

rdb_rc sql_schema_text(const sql_stmt *s, rdb_buf *out)
{
	const char *head;
	rdb_rc rc;

	switch (s->kind) {
	case SQL_CREATE_TABLE:
		if (s->u.create_table.as_select != NULL)
			return RDB_MISUSE;
		head = "CREATE TABLE ";
		break;
	case SQL_CREATE_INDEX:
		head = s->u.create_index.unique ? "CREATE UNIQUE INDEX " :
		       "CREATE INDEX ";
		break;
	case SQL_CREATE_VIEW: head = "CREATE VIEW "; break;
	case SQL_CREATE_TRIGGER: head = "CREATE TRIGGER "; break;
	default: return RDB_MISUSE;
	}
	assert(s->object_off <= s->n_sql);
	if ((rc = rdb_buf_puts(out, head)) != RDB_OK)
		return rc;
	return rdb_buf_append(out, s->sql + s->object_off,
			      s->n_sql - s->object_off);
}
