/*
 * parse_expr.c -- expressions (precedence climbing over SQLite's operator
 * levels) and SELECT statements: compound chains, result columns, FROM
 * with joins and subqueries, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT,
 * VALUES.  Tree shapes: ast.h; notes: README.md ("Parser").
 */
#include "sql/parse_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static rdb_rc expr_bin(parser *p, int min, sql_expr **out);
static rdb_rc unary(parser *p, sql_expr **out);

/* ---- building nodes -------------------------------------------------------- */

static sql_expr *new_expr(parser *p, sql_op op, const token *start)
{
	sql_expr *e = p_alloc(p, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->op = op;
	e->height = 1;
	e->pos = p_pos(p, start);
	return e;
}

static uint16_t h_of(const sql_expr *e)
{
	return e != NULL ? e->height : 0;
}

static uint16_t h_list(const sql_expr_list *l)
{
	uint16_t h = 0;
	int i;

	for (i = 0; i < l->n; i++)
		if (l->items[i]->height > h)
			h = l->items[i]->height;
	return h;
}

/* Set e's height from its children and end its span at the last token
 * consumed; fail when the tree gets too high. */
static rdb_rc finish(parser *p, sql_expr *e)
{
	unsigned h = h_of(e->left);

	if (h_of(e->right) > h)
		h = h_of(e->right);
	if (h_list(&e->list) > h)
		h = h_list(&e->list);
	if (e->select != NULL && e->select->height > h)
		h = e->select->height;
	if (e->op == SQL_E_BETWEEN) {
		if (h_of(e->u.between.lo) > h)
			h = h_of(e->u.between.lo);
		if (h_of(e->u.between.hi) > h)
			h = h_of(e->u.between.hi);
	} else if (e->op == SQL_E_LIKE && h_of(e->u.like.escape) > h) {
		h = h_of(e->u.like.escape);
	}
	if (h + 1 > SQL_MAX_DEPTH)
		return p_error(p, RDB_TOOBIG, NULL,
			       "expression tree is too large (maximum depth %d)",
			       SQL_MAX_DEPTH);
	e->height = (uint16_t)(h + 1);
	p_span_end(p, &e->pos);
	return RDB_OK;
}

/* A node whose span starts where left's does. */
static sql_expr *new_after(parser *p, sql_op op, sql_expr *left)
{
	sql_expr *e = p_alloc(p, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->op = op;
	e->pos = left->pos;
	e->left = left;
	return e;
}

rdb_rc parse_expr(parser *p, sql_expr **out)
{
	return expr_bin(p, 1, out);
}

rdb_rc parse_expr_list(parser *p, sql_expr_list *out)
{
	int cap = 0;
	sql_expr **slot = NULL;
	rdb_rc rc;

	out->n = 0;
	out->items = NULL;
	do {
		rc = p_push(p, (void **)&out->items, &out->n, &cap,
			    sizeof(*out->items), (void **)&slot);
		if (rc == RDB_OK)
			rc = parse_expr(p, slot);
		if (rc != RDB_OK)
			return rc;
	} while (p_accept(p, TK_COMMA));
	return RDB_OK;
}

int p_starts_select(parser *p)
{
	return p->tok.type == TK_SELECT || p->tok.type == TK_VALUES;
}

/* ---- literals ---------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/* Is the decimal text exactly 9223372036854775808 (2^63), the one integer
 * that is only an integer when negated? */
static int is_two_pow_63(const char *z, size_t n)
{
	while (n > 1 && z[0] == '0') {
		z++;
		n--;
	}
	return n == 19 && memcmp(z, "9223372036854775808", 19) == 0;
}

static rdb_rc number(parser *p, sql_expr **out)
{
	const token *t = &p->tok;
	const char *z = p->z + t->off;
	sql_expr *e = new_expr(p, SQL_E_INT, t);
	uint64_t v = 0;
	size_t i;

	if (e == NULL)
		return p->rc;
	if (t->type == TK_INTEGER && t->len > 2 && (z[1] == 'x' || z[1] == 'X')) {
		for (i = 2; i < t->len; i++) {
			if (v >> 60 != 0)
				return p_error(p, RDB_ERROR, t,
					       "hex literal too big: %.*s",
					       (int)(t->len > 100 ? 100 : t->len), z);
			v = v << 4 | (uint64_t)hexval(z[i]);
		}
		e->u.i = (int64_t)v;
	} else {
		for (i = 0; t->type == TK_INTEGER && i < t->len; i++) {
			if (v > (UINT64_MAX - 9) / 10 || v * 10 + (uint64_t)(z[i] - '0') >
			    (uint64_t)INT64_MAX)
				break;
			v = v * 10 + (uint64_t)(z[i] - '0');
		}
		if (t->type == TK_INTEGER && i == t->len) {
			e->u.i = (int64_t)v;
		} else {
			char *s = p_copy(p, z, t->len);

			if (s == NULL)
				return p->rc;
			e->op = SQL_E_REAL;
			e->u.r = strtod(s, NULL);
		}
	}
	p_advance(p);
	*out = e;
	return RDB_OK;
}

static rdb_rc blob(parser *p, sql_expr **out)
{
	const token *t = &p->tok;
	const char *z = p->z + t->off + 2;
	size_t n = (t->len - 3) / 2, i;
	sql_expr *e = new_expr(p, SQL_E_BLOB, t);
	unsigned char *b;

	if (e == NULL || (b = p_alloc(p, n + 1)) == NULL)
		return p->rc;
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(hexval(z[2 * i]) << 4 | hexval(z[2 * i + 1]));
	e->u.str.p = (const char *)b;
	e->u.str.n = n;
	p_advance(p);
	*out = e;
	return RDB_OK;
}

/* Register a parameter name; its index is the first one given to it. */
static rdb_rc param_slot(parser *p, int index, const char *name)
{
	if (index > p->cap_params) {
		int cap = p->cap_params < 8 ? 8 : p->cap_params;
		const char **names;

		while (cap < index)
			cap *= 2;
		names = p_alloc(p, (size_t)cap * sizeof(*names));
		if (names == NULL)
			return p->rc;
		if (p->cap_params > 0)
			memcpy(names, p->param_names,
			       (size_t)p->cap_params * sizeof(*names));
		p->param_names = names;
		p->cap_params = cap;
	}
	if (name != NULL && p->param_names[index - 1] == NULL)
		p->param_names[index - 1] = name;
	if (index > p->n_params)
		p->n_params = index;
	return RDB_OK;
}

static int param_find(parser *p, const char *name)
{
	int i;

	for (i = 0; i < p->n_params; i++)
		if (p->param_names[i] != NULL &&
		    strcmp(p->param_names[i], name) == 0)
			return i + 1;
	return 0;
}

/* ?, ?NNN, :name, @name, $name -- numbered as SQLite numbers them. */
static rdb_rc param(parser *p, sql_expr **out)
{
	const token *t = &p->tok;
	const char *z = p->z + t->off;
	sql_expr *e = new_expr(p, SQL_E_PARAM, t);
	char *name = NULL;
	long v = 0;
	size_t i;
	int index;

	if (e == NULL)
		return p->rc;
	/* a stored trigger or view would have no values for them */
	if (p->no_params != NULL)
		return p_error(p, RDB_ERROR, t, "%s", p->no_params);
	if (t->len > 1 && (name = p_copy(p, z, t->len)) == NULL)
		return p->rc;
	if (z[0] == '?' && t->len > 1) {
		for (i = 1; i < t->len && v <= SQL_MAX_PARAM; i++)
			v = v * 10 + (z[i] - '0');
		if (v < 1 || v > SQL_MAX_PARAM)
			return p_error(p, RDB_ERROR, t,
				       "variable number must be between ?1 and ?%d",
				       SQL_MAX_PARAM);
		index = (int)v;
	} else if (name == NULL || (index = param_find(p, name)) == 0) {
		if (p->n_params >= SQL_MAX_PARAM)
			return p_error(p, RDB_ERROR, t, "too many SQL variables");
		index = p->n_params + 1;
	}
	if (param_slot(p, index, name) != RDB_OK)
		return p->rc;
	e->u.param.index = index;
	e->u.param.name = name;
	p_advance(p);
	*out = e;
	return RDB_OK;
}

/* ---- primary expressions ----------------------------------------------------- */

static rdb_rc paren(parser *p, sql_expr **out)
{
	token lp = p->tok;
	sql_expr *e;
	rdb_rc rc;

	p_advance(p);
	if (p_starts_select(p)) {
		if ((e = new_expr(p, SQL_E_SUBQUERY, &lp)) == NULL)
			return p->rc;
		rc = parse_select(p, &e->select);
	} else {
		sql_expr_list l;

		rc = parse_expr_list(p, &l);
		if (rc != RDB_OK)
			return rc;
		if (l.n == 1) {
			e = l.items[0];
		} else {
			if ((e = new_expr(p, SQL_E_VECTOR, &lp)) == NULL)
				return p->rc;
			e->list = l;
		}
	}
	if (rc == RDB_OK)
		rc = p_expect(p, TK_RP);
	if (rc != RDB_OK)
		return rc;
	/* the span includes the parentheses: SQLite names the column
	 * of SELECT (a+1) "(a+1)" */
	e->pos.line = lp.line;
	e->pos.col = lp.col;
	e->pos.off = (uint32_t)(lp.off - p->stmt_off);
	if (e->op == SQL_E_SUBQUERY || e->op == SQL_E_VECTOR)
		return *out = e, finish(p, e);
	p_span_end(p, &e->pos);
	*out = e;
	return RDB_OK;
}

static rdb_rc case_expr(parser *p, sql_expr **out)
{
	sql_expr *e = new_expr(p, SQL_E_CASE, &p->tok);
	int cap = 0;
	sql_expr **slot = NULL;
	rdb_rc rc;

	if (e == NULL)
		return p->rc;
	p_advance(p);
	if (p->tok.type != TK_WHEN && (rc = parse_expr(p, &e->left)) != RDB_OK)
		return rc;
	if (p->tok.type != TK_WHEN)
		return p_error_near(p, &p->tok);
	while (p_accept(p, TK_WHEN)) {
		rc = p_push(p, (void **)&e->list.items, &e->list.n, &cap,
			    sizeof(*slot), (void **)&slot);
		if (rc == RDB_OK)
			rc = parse_expr(p, slot);
		if (rc == RDB_OK)
			rc = p_expect(p, TK_THEN);
		if (rc == RDB_OK)
			rc = p_push(p, (void **)&e->list.items, &e->list.n,
				    &cap, sizeof(*slot), (void **)&slot);
		if (rc == RDB_OK)
			rc = parse_expr(p, slot);
		if (rc != RDB_OK)
			return rc;
	}
	if (p_accept(p, TK_ELSE) && (rc = parse_expr(p, &e->right)) != RDB_OK)
		return rc;
	if ((rc = p_expect(p, TK_END)) != RDB_OK)
		return rc;
	*out = e;
	return finish(p, e);
}

/* One or more names, then an optional ( n [, m] ): kept as written. */
rdb_rc parse_typename(parser *p, const char **out)
{
	token first = p->tok;
	int i;

	if (!p_is_name(p->tok.type))
		return p_error_near(p, &p->tok);
	while (p_is_name(p->tok.type))
		p_advance(p);
	if (p_accept(p, TK_LP)) {
		for (i = 0; i < 2; i++) {
			if (p->tok.type == TK_PLUS || p->tok.type == TK_MINUS)
				p_advance(p);
			if (p->tok.type != TK_INTEGER && p->tok.type != TK_FLOAT)
				return p_error_near(p, &p->tok);
			p_advance(p);
			if (!p_accept(p, TK_COMMA))
				break;
			if (i == 1)
				return p_error_near(p, &p->prev);
		}
		if (p_expect(p, TK_RP) != RDB_OK)
			return p->rc;
	}
	*out = p_copy(p, p->z + first.off,
		      p->prev.off + p->prev.len - first.off);
	return *out != NULL ? RDB_OK : p->rc;
}

static rdb_rc cast_expr(parser *p, sql_expr **out)
{
	sql_expr *e = new_expr(p, SQL_E_CAST, &p->tok);
	rdb_rc rc;

	if (e == NULL)
		return p->rc;
	p_advance(p);
	p_advance(p);                      /* ( */
	if ((rc = parse_expr(p, &e->left)) != RDB_OK ||
	    (rc = p_expect(p, TK_AS)) != RDB_OK ||
	    (rc = parse_typename(p, &e->u.type)) != RDB_OK ||
	    (rc = p_expect(p, TK_RP)) != RDB_OK)
		return rc;
	*out = e;
	return finish(p, e);
}

static rdb_rc exists_expr(parser *p, sql_expr **out)
{
	sql_expr *e = new_expr(p, SQL_E_EXISTS, &p->tok);
	rdb_rc rc;

	if (e == NULL)
		return p->rc;
	p_advance(p);
	if ((rc = p_expect(p, TK_LP)) != RDB_OK ||
	    (rc = parse_select(p, &e->select)) != RDB_OK ||
	    (rc = p_expect(p, TK_RP)) != RDB_OK)
		return rc;
	*out = e;
	return finish(p, e);
}

static rdb_rc raise_expr(parser *p, sql_expr **out)
{
	sql_expr *e = new_expr(p, SQL_E_RAISE, &p->tok);
	rdb_rc rc;

	if (e == NULL)
		return p->rc;
	p_advance(p);
	p_advance(p);                      /* ( */
	switch (p->tok.type) {
	case TK_IGNORE: e->u.raise.kind = SQL_RAISE_IGNORE; break;
	case TK_ROLLBACK: e->u.raise.kind = SQL_RAISE_ROLLBACK; break;
	case TK_ABORT: e->u.raise.kind = SQL_RAISE_ABORT; break;
	case TK_FAIL: e->u.raise.kind = SQL_RAISE_FAIL; break;
	default: return p_error_near(p, &p->tok);
	}
	p_advance(p);
	if (e->u.raise.kind != SQL_RAISE_IGNORE) {
		if ((rc = p_expect(p, TK_COMMA)) != RDB_OK)
			return rc;
		if (p->tok.type != TK_STRING)
			return p_error_near(p, &p->tok);
		if ((e->u.raise.msg = p_dequote(p, &p->tok)) == NULL)
			return p->rc;
		p_advance(p);
	}
	if ((rc = p_expect(p, TK_RP)) != RDB_OK)
		return rc;
	*out = e;
	return finish(p, e);
}

static rdb_rc func_call(parser *p, sql_expr **out)
{
	sql_expr *e = new_expr(p, SQL_E_FUNC, &p->tok);
	rdb_rc rc;

	if (e == NULL || (e->u.func.name = p_dequote(p, &p->tok)) == NULL)
		return p->rc;
	p_advance(p);
	p_advance(p);                      /* ( */
	if (p_accept(p, TK_STAR)) {
		e->flags |= SQL_EF_STAR;
	} else if (p->tok.type != TK_RP) {
		if (p_accept(p, TK_DISTINCT))
			e->flags |= SQL_EF_DISTINCT;
		else
			(void)p_accept(p, TK_ALL);
		if ((rc = parse_expr_list(p, &e->list)) != RDB_OK)
			return rc;
	}
	if ((rc = p_expect(p, TK_RP)) != RDB_OK)
		return rc;
	*out = e;
	return finish(p, e);
}

static int is_name_tok(tk type)
{
	return p_is_name(type) || type == TK_STRING || type == TK_INDEXED || type == TK_NATURAL ||
	       type == TK_LEFT || type == TK_OUTER || type == TK_RIGHT ||
	       type == TK_FULL || type == TK_CROSS || type == TK_INNER;
}

/* [[schema.]table.]column, TRUE, FALSE */
static rdb_rc column_ref(parser *p, sql_expr **out)
{
	sql_expr *e = new_expr(p, SQL_E_COLUMN, &p->tok);
	const char *part[3];
	int n = 0;
	rdb_rc rc;

	if (e == NULL)
		return p->rc;
	if (p->tok.type == TK_ID && p->peek.type != TK_DOT &&
	    (p->tok.len == 4 || p->tok.len == 5) &&
	    (strncasecmp(p->z + p->tok.off, "true", p->tok.len) == 0 ||
	     strncasecmp(p->z + p->tok.off, "false", p->tok.len) == 0)) {
		e->op = p->tok.len == 4 ? SQL_E_TRUE : SQL_E_FALSE;
		p_advance(p);
		*out = e;
		return RDB_OK;
	}
	for (;;) {
		if (p->z[p->tok.off] == '"')
			e->flags |= SQL_EF_QUOTED;
		else
			e->flags &= (uint8_t)~SQL_EF_QUOTED;
		if (!is_name_tok(p->tok.type))
			return p_error_near(p, &p->tok);
		if ((rc = p_name(p, &part[n++])) != RDB_OK)
			return rc;
		if (n == 3 || p->tok.type != TK_DOT)
			break;
		p_advance(p);
	}
	e->u.col.name = part[n - 1];
	e->u.col.table = n >= 2 ? part[n - 2] : NULL;
	e->u.col.schema = n == 3 ? part[0] : NULL;
	*out = e;
	return finish(p, e);
}

static rdb_rc primary(parser *p, sql_expr **out)
{
	tk type = p->tok.type;
	sql_expr *e;

	switch (type) {
	case TK_INTEGER:
	case TK_FLOAT:
		return number(p, out);
	case TK_STRING:
		if (p_peek(p)->type == TK_DOT)     /* 't'.col names a column */
			return column_ref(p, out);
		if ((e = new_expr(p, SQL_E_STR, &p->tok)) == NULL ||
		    (e->u.str.p = p_dequote(p, &p->tok)) == NULL)
			return p->rc;
		e->u.str.n = strlen(e->u.str.p);
		p_advance(p);
		*out = e;
		return RDB_OK;
	case TK_BLOB:
		return blob(p, out);
	case TK_NULL:
		if ((e = new_expr(p, SQL_E_NULL, &p->tok)) == NULL)
			return p->rc;
		p_advance(p);
		*out = e;
		return RDB_OK;
	case TK_VARIABLE:
		return param(p, out);
	case TK_LP:
		return paren(p, out);
	case TK_CASE:
		return case_expr(p, out);
	case TK_EXISTS:
		return exists_expr(p, out);
	case TK_CURRENT_TIME:
	case TK_CURRENT_DATE:
	case TK_CURRENT_TIMESTAMP:
		if ((e = new_expr(p, SQL_E_CTIME, &p->tok)) == NULL)
			return p->rc;
		e->u.ctime = type == TK_CURRENT_TIME ? 0 :
			     type == TK_CURRENT_DATE ? 1 : 2;
		p_advance(p);
		*out = e;
		return RDB_OK;
	/* CAST and RAISE start an expression of their own: there, unlike
	 * elsewhere, SQLite does not take them for names */
	case TK_CAST:
		if (p_peek(p)->type == TK_LP)
			return cast_expr(p, out);
		return p_error_near(p, &p->peek);
	case TK_RAISE:
		if (p_peek(p)->type == TK_LP)
			return raise_expr(p, out);
		return p_error_near(p, &p->peek);
	default:
		if (!is_name_tok(type))
			return p_error_near(p, &p->tok);
		break;
	}
	if (p_peek(p)->type == TK_LP && type != TK_STRING)
		return func_call(p, out);
	return column_ref(p, out);
}

/*
 * DEFAULT's value, as SQLite's grammar has it: ( expr ), a literal, + or -
 * and a literal, or a name, which stands for the string of that name
 * (TRUE and FALSE excepted).
 */
rdb_rc parse_default(parser *p, sql_expr **out)
{
	token t = p->tok;
	sql_expr *e;
	rdb_rc rc;

	switch (t.type) {
	case TK_LP: case TK_INTEGER: case TK_FLOAT: case TK_STRING:
	case TK_BLOB: case TK_NULL: case TK_CURRENT_TIME: case TK_CURRENT_DATE:
	case TK_CURRENT_TIMESTAMP:
		return primary(p, out);
	case TK_PLUS:
	case TK_MINUS:
		p_advance(p);
		switch (p->tok.type) {
		case TK_INTEGER: case TK_FLOAT: case TK_STRING: case TK_BLOB:
		case TK_NULL:
			break;
		default:
			return p_error_near(p, &p->tok);
		}
		if ((e = new_expr(p, t.type == TK_PLUS ? SQL_E_POS : SQL_E_NEG,
				  &t)) == NULL)
			return p->rc;
		if ((rc = primary(p, &e->left)) != RDB_OK)
			return rc;
		if (e->op == SQL_E_NEG && e->left->op == SQL_E_REAL &&
		    is_two_pow_63(p->z + p->stmt_off + e->left->pos.off,
				  e->left->pos.len)) {
			e->op = SQL_E_INT;
			e->u.i = INT64_MIN;
			e->left = NULL;
		}
		*out = e;
		return finish(p, e);
	default:
		if (!p_is_name(t.type) || t.type == TK_STRING)
			return p_error_near(p, &p->tok);
		if ((e = new_expr(p, SQL_E_STR, &t)) == NULL ||
		    (e->u.str.p = p_dequote(p, &t)) == NULL)
			return p->rc;
		e->u.str.n = strlen(e->u.str.p);
		if (t.type == TK_ID && p->z[t.off] != '"' && p->z[t.off] != '[' &&
		    p->z[t.off] != '`' && (e->u.str.n == 4 || e->u.str.n == 5) &&
		    (strcasecmp(e->u.str.p, "true") == 0 ||
		     strcasecmp(e->u.str.p, "false") == 0))
			e->op = e->u.str.n == 4 ? SQL_E_TRUE : SQL_E_FALSE;
		p_advance(p);
		*out = e;
		return RDB_OK;
	}
}

/* ---- operators ----------------------------------------------------------------- */

enum {
	PREC_OR = 1, PREC_AND, PREC_NOT, PREC_EQ, PREC_REL, PREC_BIT,
	PREC_ADD, PREC_MUL, PREC_CONCAT, PREC_COLLATE
};

/* The level of the operator starting at the current token, 0 if none. */
static int op_prec(parser *p, sql_op *op)
{
	switch (p->tok.type) {
	case TK_OR: *op = SQL_E_OR; return PREC_OR;
	case TK_AND: *op = SQL_E_AND; return PREC_AND;
	case TK_EQ: *op = SQL_E_EQ; return PREC_EQ;
	case TK_NE: *op = SQL_E_NE; return PREC_EQ;
	case TK_IS: case TK_IN: case TK_LIKE: case TK_GLOB: case TK_REGEXP:
	case TK_MATCH: case TK_BETWEEN: case TK_ISNULL: case TK_NOTNULL:
		*op = SQL_E_EQ;     /* decided by special() */
		return PREC_EQ;
	case TK_NOT:
		switch (p_peek(p)->type) {
		case TK_IN: case TK_LIKE: case TK_GLOB: case TK_REGEXP:
		case TK_MATCH: case TK_BETWEEN: case TK_NULL:
			*op = SQL_E_NOT;
			return PREC_EQ;
		default:
			return 0;
		}
	case TK_LT: *op = SQL_E_LT; return PREC_REL;
	case TK_LE: *op = SQL_E_LE; return PREC_REL;
	case TK_GT: *op = SQL_E_GT; return PREC_REL;
	case TK_GE: *op = SQL_E_GE; return PREC_REL;
	case TK_BITAND: *op = SQL_E_BITAND; return PREC_BIT;
	case TK_BITOR: *op = SQL_E_BITOR; return PREC_BIT;
	case TK_LSHIFT: *op = SQL_E_LSHIFT; return PREC_BIT;
	case TK_RSHIFT: *op = SQL_E_RSHIFT; return PREC_BIT;
	case TK_PLUS: *op = SQL_E_ADD; return PREC_ADD;
	case TK_MINUS: *op = SQL_E_SUB; return PREC_ADD;
	case TK_STAR: *op = SQL_E_MUL; return PREC_MUL;
	case TK_SLASH: *op = SQL_E_DIV; return PREC_MUL;
	case TK_REM: *op = SQL_E_MOD; return PREC_MUL;
	case TK_CONCAT: *op = SQL_E_CONCAT; return PREC_CONCAT;
	case TK_COLLATE: *op = SQL_E_COLLATE; return PREC_COLLATE;
	default: return 0;
	}
}

/* x [NOT] IN ( list | select ) or x [NOT] IN [schema.]table */
static rdb_rc in_rhs(parser *p, sql_expr *e)
{
	rdb_rc rc;

	if (p_accept(p, TK_LP)) {
		if (p_starts_select(p)) {
			e->op = SQL_E_IN_SELECT;
			rc = parse_select(p, &e->select);
		} else {
			e->op = SQL_E_IN_LIST;
			rc = p->tok.type == TK_RP ? RDB_OK :
			     parse_expr_list(p, &e->list);
		}
		return rc != RDB_OK ? rc : p_expect(p, TK_RP);
	}
	e->op = SQL_E_IN_TABLE;
	if ((rc = p_name(p, &e->u.col.table)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_DOT)) {
		e->u.col.schema = e->u.col.table;
		rc = p_name(p, &e->u.col.table);
	}
	return rc;
}

static rdb_rc like_rhs(parser *p, sql_expr *e)
{
	rdb_rc rc;

	e->op = SQL_E_LIKE;
	switch (p->tok.type) {
	case TK_LIKE: e->u.like.kind = SQL_LIKE; break;
	case TK_GLOB: e->u.like.kind = SQL_GLOB; break;
	case TK_REGEXP: e->u.like.kind = SQL_REGEXP; break;
	default: e->u.like.kind = SQL_MATCH; break;
	}
	p_advance(p);
	if ((rc = expr_bin(p, PREC_REL, &e->right)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_ESCAPE))
		rc = expr_bin(p, PREC_BIT, &e->u.like.escape);
	return rc;
}

/* x IS [NOT] [DISTINCT FROM] y; IS NULL and IS NOT NULL become ISNULL
 * and NOTNULL, as in SQLite. */
static rdb_rc is_rhs(parser *p, sql_expr *e)
{
	int neg = p_accept(p, TK_NOT);
	rdb_rc rc;

	if (p->tok.type == TK_DISTINCT && p_peek(p)->type == TK_FROM) {
		p_advance(p);
		p_advance(p);
		neg = !neg;
	}
	if ((rc = expr_bin(p, PREC_REL, &e->right)) != RDB_OK)
		return rc;
	e->op = neg ? SQL_E_ISNOT : SQL_E_IS;
	if (e->right->op == SQL_E_NULL) {
		e->op = neg ? SQL_E_NOTNULL : SQL_E_ISNULL;
		e->right = NULL;
	}
	return RDB_OK;
}

/* The operators of the equality level that are not plain binary ones. */
static rdb_rc special(parser *p, sql_expr *e)
{
	rdb_rc rc;

	switch (p->tok.type) {
	case TK_ISNULL: e->op = SQL_E_ISNULL; p_advance(p); return RDB_OK;
	case TK_NOTNULL: e->op = SQL_E_NOTNULL; p_advance(p); return RDB_OK;
	case TK_IS: p_advance(p); return is_rhs(p, e);
	case TK_NOT:
		p_advance(p);
		if (p_accept(p, TK_NULL)) {
			e->op = SQL_E_NOTNULL;
			return RDB_OK;
		}
		e->flags |= SQL_EF_NOT;
		break;
	default:
		break;
	}
	if (p_accept(p, TK_IN))
		return in_rhs(p, e);
	if (p_accept(p, TK_BETWEEN)) {
		e->op = SQL_E_BETWEEN;
		/* as in SQLite's LALR grammar, only AND (or OR) ends the
		 * lower bound: x BETWEEN a = b AND c has bound a = b */
		if ((rc = expr_bin(p, PREC_NOT, &e->u.between.lo)) != RDB_OK ||
		    (rc = p_expect(p, TK_AND)) != RDB_OK)
			return rc;
		return expr_bin(p, PREC_REL, &e->u.between.hi);
	}
	return like_rhs(p, e);
}

static rdb_rc expr_bin(parser *p, int min, sql_expr **out)
{
	sql_expr *lhs, *e;
	sql_op op;
	int prec;
	rdb_rc rc;

	if ((rc = p_enter(p)) != RDB_OK || (rc = unary(p, &lhs)) != RDB_OK)
		return rc;
	while ((prec = op_prec(p, &op)) >= min && prec != 0) {
		if ((e = new_after(p, op, lhs)) == NULL)
			return p->rc;
		if (op == SQL_E_COLLATE) {
			p_advance(p);
			rc = p_ids(p, &e->u.collation);
		} else if (prec == PREC_EQ && p->tok.type != TK_EQ &&
			   p->tok.type != TK_NE) {
			rc = special(p, e);
		} else {
			p_advance(p);
			rc = expr_bin(p, prec + 1, &e->right);
		}
		if (rc != RDB_OK || (rc = finish(p, e)) != RDB_OK)
			return rc;
		lhs = e;
	}
	p->depth--;
	*out = lhs;
	return RDB_OK;
}

static rdb_rc unary(parser *p, sql_expr **out)
{
	token t = p->tok;
	sql_expr *e;
	sql_op op;
	rdb_rc rc;

	switch (t.type) {
	case TK_MINUS: op = SQL_E_NEG; break;
	case TK_PLUS: op = SQL_E_POS; break;
	case TK_BITNOT: op = SQL_E_BITNOT; break;
	case TK_NOT: op = SQL_E_NOT; break;
	default: return primary(p, out);
	}
	if ((e = new_expr(p, op, &t)) == NULL)
		return p->rc;
	p_advance(p);
	if ((rc = p_enter(p)) != RDB_OK)
		return rc;
	rc = op == SQL_E_NOT ? expr_bin(p, PREC_EQ, &e->left) :
	     unary(p, &e->left);
	if (rc != RDB_OK)
		return rc;
	p->depth--;
	if (op == SQL_E_NEG && e->left->op == SQL_E_REAL &&
	    is_two_pow_63(p->z + p->stmt_off + e->left->pos.off,
			  e->left->pos.len)) {
		e->op = SQL_E_INT;
		e->u.i = INT64_MIN;
		e->left = NULL;
	}
	*out = e;
	return finish(p, e);
}

/* ---- SELECT ---------------------------------------------------------------------- */

static rdb_rc parse_from(parser *p, sql_core *c, int *cap);

/* An implicit alias (no AS): a name, a string or a non-reserved keyword. */
static rdb_rc opt_alias(parser *p, const char **out)
{
	if (p_accept(p, TK_AS))
		return p_name(p, out);
	if (p_is_name(p->tok.type))
		return p_name(p, out);
	return RDB_OK;
}

static rdb_rc result_col(parser *p, sql_result_col *rc_out)
{
	const token *pk;
	token start = p->tok;
	rdb_rc rc;

	rc_out->pos = p_pos(p, &start);
	if (p_accept(p, TK_STAR)) {
		rc_out->star = 1;
		p_span_end(p, &rc_out->pos);
		return RDB_OK;
	}
	if (is_name_tok(p->tok.type) && (pk = p_peek(p))->type == TK_DOT) {
		lexer ahead = p->lx;
		token t2;

		lex_next(&ahead, &t2);
		if (t2.type == TK_STAR) {
			if ((rc = p_name(p, &rc_out->star_table)) != RDB_OK)
				return rc;
			p_advance(p);
			p_advance(p);
			rc_out->star = 1;
			p_span_end(p, &rc_out->pos);
			return RDB_OK;
		}
	}
	if ((rc = parse_expr(p, &rc_out->expr)) != RDB_OK)
		return rc;
	rc_out->text = p_copy(p, p->z + p->stmt_off + rc_out->expr->pos.off,
			      rc_out->expr->pos.len);
	if (rc_out->text == NULL)
		return p->rc;
	if ((rc = opt_alias(p, &rc_out->alias)) != RDB_OK)
		return rc;
	p_span_end(p, &rc_out->pos);
	return RDB_OK;
}

static rdb_rc values_core(parser *p, sql_core *c)
{
	int cap = 0;
	sql_expr_list *row = NULL;
	rdb_rc rc;

	do {
		token lp = p->tok;

		rc = p_push(p, (void **)&c->rows, &c->n_rows, &cap,
			    sizeof(*row), (void **)&row);
		if (rc == RDB_OK)
			rc = p_expect(p, TK_LP);
		if (rc == RDB_OK)
			rc = parse_expr_list(p, row);
		if (rc == RDB_OK)
			rc = p_expect(p, TK_RP);
		if (rc != RDB_OK)
			return rc;
		if (row->n != c->rows[0].n)
			return p_error(p, RDB_ERROR, &lp,
				       "all VALUES must have the same number "
				       "of terms");
	} while (p_accept(p, TK_COMMA));
	return RDB_OK;
}

static rdb_rc select_core(parser *p, sql_core *c)
{
	int cap = 0;
	sql_result_col *col = NULL;
	rdb_rc rc;

	c->pos = p_pos(p, &p->tok);
	if (p_accept(p, TK_VALUES))
		return values_core(p, c);
	if ((rc = p_expect(p, TK_SELECT)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_DISTINCT))
		c->distinct = 1;
	else
		(void)p_accept(p, TK_ALL);
	do {
		rc = p_push(p, (void **)&c->cols, &c->n_cols, &cap,
			    sizeof(*col), (void **)&col);
		if (rc == RDB_OK)
			rc = result_col(p, col);
		if (rc != RDB_OK)
			return rc;
	} while (p_accept(p, TK_COMMA));
	cap = 0;
	if (p_accept(p, TK_FROM) && (rc = parse_from(p, c, &cap)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_WHERE) && (rc = parse_expr(p, &c->where)) != RDB_OK)
		return rc;
	if (p->tok.type == TK_GROUP) {
		p_advance(p);
		if ((rc = p_expect(p, TK_BY)) != RDB_OK ||
		    (rc = parse_expr_list(p, &c->group_by)) != RDB_OK)
			return rc;
	}
	if (p_accept(p, TK_HAVING))
		return parse_expr(p, &c->having);
	return RDB_OK;
}

static rdb_rc order_by(parser *p, sql_select *s)
{
	int cap = 0;
	sql_order *o = NULL;
	rdb_rc rc;

	if ((rc = p_expect(p, TK_BY)) != RDB_OK)
		return rc;
	do {
		rc = p_push(p, (void **)&s->order, &s->n_order, &cap,
			    sizeof(*o), (void **)&o);
		if (rc == RDB_OK)
			rc = parse_expr(p, &o->expr);
		if (rc != RDB_OK)
			return rc;
		if (p_accept(p, TK_DESC))
			o->desc = 1;
		else
			(void)p_accept(p, TK_ASC);
		if (p_accept(p, TK_NULLS)) {
			if (p_accept(p, TK_FIRST))
				o->nulls = SQL_NULLS_FIRST;
			else if (p_accept(p, TK_LAST))
				o->nulls = SQL_NULLS_LAST;
			else
				return p_error_near(p, &p->tok);
		}
	} while (p_accept(p, TK_COMMA));
	return RDB_OK;
}

static rdb_rc limit(parser *p, sql_select *s)
{
	sql_expr *first;
	rdb_rc rc;

	if ((rc = parse_expr(p, &first)) != RDB_OK)
		return rc;
	s->limit = first;
	if (p_accept(p, TK_OFFSET))
		return parse_expr(p, &s->offset);
	if (p_accept(p, TK_COMMA)) {
		s->offset = first;
		return parse_expr(p, &s->limit);
	}
	return RDB_OK;
}

static uint16_t src_height(const sql_src *src)
{
	uint16_t h = h_of(src->on);

	if (src->subquery != NULL && src->subquery->height > h)
		h = src->subquery->height;
	return h;
}

static uint16_t core_height(const sql_core *c)
{
	uint16_t h = h_of(c->where), x;
	int i;

	if (h_of(c->having) > h)
		h = h_of(c->having);
	if ((x = h_list(&c->group_by)) > h)
		h = x;
	for (i = 0; i < c->n_cols; i++)
		if (h_of(c->cols[i].expr) > h)
			h = h_of(c->cols[i].expr);
	for (i = 0; i < c->n_src; i++)
		if ((x = src_height(&c->src[i])) > h)
			h = x;
	for (i = 0; i < c->n_rows; i++)
		if ((x = h_list(&c->rows[i])) > h)
			h = x;
	return h;
}

static void select_height(sql_select *s)
{
	uint16_t h = h_of(s->limit), x;
	int i;

	if (h_of(s->offset) > h)
		h = h_of(s->offset);
	for (i = 0; i < s->n_order; i++)
		if (h_of(s->order[i].expr) > h)
			h = h_of(s->order[i].expr);
	for (i = 0; i < s->n_cores; i++)
		if ((x = core_height(&s->cores[i])) > h)
			h = x;
	s->height = h;
}

static sql_compound compound_op(parser *p)
{
	switch (p->tok.type) {
	case TK_UNION:
		p_advance(p);
		return p_accept(p, TK_ALL) ? SQL_UNION_ALL : SQL_UNION;
	case TK_INTERSECT:
		p_advance(p);
		return SQL_INTERSECT;
	case TK_EXCEPT:
		p_advance(p);
		return SQL_EXCEPT;
	default:
		return SQL_COMPOUND_NONE;
	}
}

rdb_rc parse_select(parser *p, sql_select **out)
{
	sql_select *s;
	sql_compound op = SQL_COMPOUND_NONE;
	int cap = 0;
	sql_core *c = NULL;
	rdb_rc rc;

	if ((rc = p_enter(p)) != RDB_OK)
		return rc;
	if ((s = p_alloc(p, sizeof(*s))) == NULL)
		return p->rc;
	s->pos = p_pos(p, &p->tok);
	do {
		if (s->n_cores >= SQL_MAX_COMPOUND)
			return p_error(p, RDB_TOOBIG, &p->prev,
				       "too many terms in compound SELECT");
		rc = p_push(p, (void **)&s->cores, &s->n_cores, &cap,
			    sizeof(*c), (void **)&c);
		if (rc == RDB_OK)
			rc = select_core(p, c);
		if (rc != RDB_OK)
			return rc;
		c->op = op;
		p_span_end(p, &c->pos);
	} while ((op = compound_op(p)) != SQL_COMPOUND_NONE);
	/* SQLite's grammar attaches ORDER BY and LIMIT to a SELECT term:
	 * a (compound) select ending in VALUES has neither */
	if (c->n_rows > 0 && (p->tok.type == TK_ORDER ||
			      p->tok.type == TK_LIMIT))
		return p_error_near(p, &p->tok);
	if (p_accept(p, TK_ORDER) && (rc = order_by(p, s)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_LIMIT) && (rc = limit(p, s)) != RDB_OK)
		return rc;
	p_span_end(p, &s->pos);
	select_height(s);
	if (s->height + 1 > SQL_MAX_DEPTH)
		return p_error(p, RDB_TOOBIG, NULL,
			       "expression tree is too large (maximum depth %d)",
			       SQL_MAX_DEPTH);
	p->depth--;
	*out = s;
	return RDB_OK;
}

/* ---- FROM -------------------------------------------------------------------------- */

/* [NATURAL] [LEFT [OUTER] | RIGHT [OUTER] | FULL [OUTER] | INNER | CROSS]
 * JOIN, or a comma.  Returns 1 if one was read, 0 (having consumed
 * nothing) if none, -1 on a syntax error (p->rc set). */
static int join_op(parser *p, sql_join *join, int *natural)
{
	*natural = 0;
	if (p_accept(p, TK_COMMA)) {
		*join = SQL_JOIN_COMMA;
		return 1;
	}
	if (p->tok.type != TK_JOIN && p->tok.type != TK_NATURAL &&
	    p->tok.type != TK_LEFT && p->tok.type != TK_RIGHT &&
	    p->tok.type != TK_FULL && p->tok.type != TK_INNER &&
	    p->tok.type != TK_CROSS)
		return 0;
	*natural = p_accept(p, TK_NATURAL);
	*join = SQL_JOIN_INNER;
	if (p_accept(p, TK_LEFT))
		*join = SQL_JOIN_LEFT;
	else if (p_accept(p, TK_RIGHT))
		*join = SQL_JOIN_RIGHT;
	else if (p_accept(p, TK_FULL))
		*join = SQL_JOIN_FULL;
	else if (p_accept(p, TK_CROSS))
		*join = SQL_JOIN_CROSS;
	else
		(void)p_accept(p, TK_INNER);
	if (*join == SQL_JOIN_LEFT || *join == SQL_JOIN_RIGHT ||
	    *join == SQL_JOIN_FULL)
		(void)p_accept(p, TK_OUTER);
	if (p_expect(p, TK_JOIN) != RDB_OK)
		return -1;
	return 1;
}

/* ( join-clause ) with an alias: SELECT * FROM join-clause. */
static rdb_rc wrap_join(parser *p, sql_core *inner, sql_src *src)
{
	sql_select *s = p_alloc(p, sizeof(*s));
	sql_core *c = p_alloc(p, sizeof(*c));

	if (s == NULL || c == NULL)
		return p->rc;
	*c = *inner;
	if ((c->cols = p_alloc(p, sizeof(*c->cols))) == NULL)
		return p->rc;
	c->n_cols = 1;
	c->cols[0].star = 1;
	c->cols[0].pos = src->pos;
	s->cores = c;
	s->n_cores = 1;
	s->pos = src->pos;
	select_height(s);
	src->subquery = s;
	return RDB_OK;
}

/* ( select ) or ( join-clause ) as a FROM item.  A parenthesized join
 * without an alias is flattened into the enclosing FROM list. */
static rdb_rc paren_src(parser *p, sql_core *c, int *cap, sql_src **srcp)
{
	sql_src *src = *srcp;
	sql_core inner;
	int icap = 0, i, first = (int)(src - c->src);
	sql_join join = src->join;
	int natural = src->natural;
	rdb_rc rc;

	if (p_starts_select(p)) {
		if ((rc = parse_select(p, &src->subquery)) != RDB_OK ||
		    (rc = p_expect(p, TK_RP)) != RDB_OK)
			return rc;
		return opt_alias(p, &src->alias);
	}
	memset(&inner, 0, sizeof(inner));
	if ((rc = parse_from(p, &inner, &icap)) != RDB_OK ||
	    (rc = p_expect(p, TK_RP)) != RDB_OK)
		return rc;
	if (p->tok.type == TK_AS || p_is_name(p->tok.type)) {
		if ((rc = wrap_join(p, &inner, src)) != RDB_OK)
			return rc;
		return opt_alias(p, &src->alias);
	}
	c->n_src--;                          /* replace the item */
	for (i = 0; i < inner.n_src; i++) {
		sql_src *slot;

		rc = p_push(p, (void **)&c->src, &c->n_src, cap,
			    sizeof(*slot), (void **)&slot);
		if (rc != RDB_OK)
			return rc;
		*slot = inner.src[i];
	}
	c->src[first].join = join;
	c->src[first].natural = natural;
	*srcp = &c->src[c->n_src - 1];
	return RDB_OK;
}

static rdb_rc table_src(parser *p, sql_core *c, int *cap, sql_src **srcp)
{
	sql_src *src = *srcp;
	rdb_rc rc;

	if ((rc = p_enter(p)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_LP)) {
		rc = paren_src(p, c, cap, srcp);
		src = *srcp;
	} else {
		if ((rc = p_name(p, &src->name)) == RDB_OK &&
		    p_accept(p, TK_DOT)) {
			src->schema = src->name;
			rc = p_name(p, &src->name);
		}
		if (rc == RDB_OK)
			rc = opt_alias(p, &src->alias);
		if (rc == RDB_OK && p->tok.type == TK_INDEXED) {
			p_advance(p);
			if ((rc = p_expect(p, TK_BY)) == RDB_OK)
				rc = p_name(p, &src->indexed_by);
		} else if (rc == RDB_OK && p->tok.type == TK_NOT &&
			   p_peek(p)->type == TK_INDEXED) {
			p_advance(p);
			p_advance(p);
			src->not_indexed = 1;
		}
	}
	if (rc != RDB_OK)
		return rc;
	p->depth--;
	return RDB_OK;
}

static rdb_rc parse_from(parser *p, sql_core *c, int *cap)
{
	sql_join join = SQL_JOIN_NONE;
	int natural = 0, more;
	sql_src *src = NULL;
	rdb_rc rc;

	do {
		rc = p_push(p, (void **)&c->src, &c->n_src, cap, sizeof(*src),
			    (void **)&src);
		if (rc != RDB_OK)
			return rc;
		src->join = join;
		src->natural = natural;
		src->pos = p_pos(p, &p->tok);
		if ((rc = table_src(p, c, cap, &src)) != RDB_OK)
			return rc;
		if (join != SQL_JOIN_NONE && p_accept(p, TK_ON))
			rc = parse_expr(p, &src->on);
		else if (join != SQL_JOIN_NONE && p->tok.type == TK_USING) {
			p_advance(p);
			rc = parse_name_list(p, &src->using_cols);
		}
		if (rc != RDB_OK)
			return rc;
		p_span_end(p, &src->pos);
	} while ((more = join_op(p, &join, &natural)) > 0);
	return more < 0 ? p->rc : RDB_OK;
}
