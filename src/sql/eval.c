/*
 * eval.c -- evaluating bound expressions against the current rows of a
 * query and its enclosing queries.  Semantics come from value.c and
 * func.c; this file walks the tree.  Design: src/sql/README.md
 * ("Execution").
 */
#include "exec.h"
#include <string.h>
#include <time.h>
#include "mem.h"

rdb_rc eval(sql_prog *p, query *q, const sql_expr *e, sql_value *out);

#define ARGS_ON_STACK 8

/* The query `up` levels out from q. */
static query *outer(query *q, int up)
{
	while (up-- > 0 && q != NULL)
		q = q->parent;
	return q;
}

static rdb_rc column(sql_prog *p, query *q, const xinfo *x, sql_value *out)
{
	query *at = outer(q, x->up);
	qsrc *s;

	(void)p;
	if (at == NULL || x->src >= at->nsrc)
		return rdb_err_set(p->cx.err, RDB_INTERNAL, "bad column");
	s = &at->src[x->src];
	if (s->row == NULL || s->null_row) {
		sql_value_null(out);
		return RDB_OK;
	}
	sql_value_from_tbl(out, &s->row[x->slot]);
	return RDB_OK;
}

static rdb_rc param(sql_prog *p, const sql_expr *e, sql_value *out)
{
	int i = e->u.param.index;

	if (i < 1 || i > p->nparams || p->params == NULL)
		sql_value_null(out);
	else
		sql_value_from_tbl(out, &p->params[i - 1]);
	return RDB_OK;
}

/* The expression's affinity for comparisons (columns and CASTs have one). */
sql_aff expr_aff(const sql_expr *e)
{
	while (e->op == SQL_E_COLLATE || e->op == SQL_E_POS)
		e = e->left;
	if (e->aux_p != NULL && (xi(e)->kind == XK_COL ||
				 xi(e)->kind == XK_SUBQ ||
				 xi(e)->kind == XK_ALIAS ||
				 e->op == SQL_E_CAST))
		return xi(e)->aff;
	return SQL_AFF_NONE;
}

static sql_cmp_op cmp_op(sql_op op)
{
	switch (op) {
	case SQL_E_EQ: return SQL_CMP_EQ;
	case SQL_E_NE: return SQL_CMP_NE;
	case SQL_E_LT: return SQL_CMP_LT;
	case SQL_E_LE: return SQL_CMP_LE;
	case SQL_E_GT: return SQL_CMP_GT;
	case SQL_E_GE: return SQL_CMP_GE;
	case SQL_E_IS: return SQL_CMP_IS;
	default: return SQL_CMP_ISNOT;
	}
}

static sql_binop bin_op(sql_op op)
{
	switch (op) {
	case SQL_E_ADD: return SQL_OP_ADD;
	case SQL_E_SUB: return SQL_OP_SUB;
	case SQL_E_MUL: return SQL_OP_MUL;
	case SQL_E_DIV: return SQL_OP_DIV;
	case SQL_E_MOD: return SQL_OP_REM;
	case SQL_E_BITAND: return SQL_OP_BITAND;
	case SQL_E_BITOR: return SQL_OP_BITOR;
	case SQL_E_LSHIFT: return SQL_OP_SHL;
	case SQL_E_RSHIFT: return SQL_OP_SHR;
	default: return SQL_OP_CONCAT;
	}
}

/* Evaluate both operands of a binary node. */
static rdb_rc two(sql_prog *p, query *q, const sql_expr *e, sql_value *a,
		  sql_value *b)
{
	rdb_rc rc;

	if ((rc = eval(p, q, e->left, a)) != RDB_OK)
		return rc;
	if ((rc = eval(p, q, e->right, b)) != RDB_OK)
		sql_value_free(a);
	return rc;
}

static rdb_rc compare(sql_prog *p, query *q, const sql_expr *e,
		      sql_value *out)
{
	sql_value a, b;
	rdb_rc rc;

	if ((rc = two(p, q, e, &a, &b)) != RDB_OK)
		return rc;
	sql_compare(cmp_op(e->op), &a, &b,
		    sql_aff_compare(expr_aff(e->left), expr_aff(e->right)),
		    out);
	sql_value_free(&a);
	sql_value_free(&b);
	return RDB_OK;
}

static rdb_rc arith(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	sql_value a, b;
	rdb_rc rc;

	if ((rc = two(p, q, e, &a, &b)) != RDB_OK)
		return rc;
	rc = sql_binary(&p->cx, bin_op(e->op), &a, &b, out);
	sql_value_free(&a);
	sql_value_free(&b);
	return rc;
}

/* AND / OR with SQLite's short circuit: the right side is not evaluated
 * when the left decides. */
static rdb_rc logic(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	sql_value a, b;
	int ta;
	rdb_rc rc;

	if ((rc = eval(p, q, e->left, &a)) != RDB_OK)
		return rc;
	ta = sql_value_truth(&a);
	if ((e->op == SQL_E_AND && ta == 0) || (e->op == SQL_E_OR && ta == 1)) {
		sql_value_free(&a);
		sql_value_int(out, e->op == SQL_E_OR);
		return RDB_OK;
	}
	if ((rc = eval(p, q, e->right, &b)) != RDB_OK) {
		sql_value_free(&a);
		return rc;
	}
	if (e->op == SQL_E_AND)
		sql_and(&a, &b, out);
	else
		sql_or(&a, &b, out);
	sql_value_free(&a);
	sql_value_free(&b);
	return RDB_OK;
}

static rdb_rc unary(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	sql_value a;
	rdb_rc rc;

	/* SQLite negates a real literal itself (so -0.0 is negative zero)
	 * and anything else as 0 - x (so -(0.0 + 0) is positive zero). */
	if (e->op == SQL_E_NEG && e->left->op == SQL_E_REAL) {
		sql_value_real(out, -e->left->u.r);
		return RDB_OK;
	}
	if ((rc = eval(p, q, e->left, &a)) != RDB_OK)
		return rc;
	switch (e->op) {
	case SQL_E_NEG: sql_negate(&a, out); break;
	case SQL_E_BITNOT: sql_bitnot(&a, out); break;
	case SQL_E_NOT: sql_not(&a, out); break;
	case SQL_E_ISNULL:
		sql_value_int(out, sql_value_class(&a) == TBL_NULL);
		break;
	default:
		sql_value_int(out, sql_value_class(&a) != TBL_NULL);
		break;
	}
	sql_value_free(&a);
	return RDB_OK;
}

/* Negate out in place when the node has the NOT flag. */
static void maybe_not(const sql_expr *e, sql_value *out)
{
	sql_value v;

	if (!(e->flags & SQL_EF_NOT))
		return;
	sql_not(out, &v);
	sql_value_free(out);
	*out = v;
}

static rdb_rc like(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	sql_value a, b, esc;
	rdb_rc rc;

	if ((rc = two(p, q, e, &a, &b)) != RDB_OK)
		return rc;
	sql_value_null(&esc);
	if (e->u.like.escape != NULL)
		rc = eval(p, q, e->u.like.escape, &esc);
	if (rc == RDB_OK && e->u.like.kind == SQL_LIKE)
		rc = sql_like(&p->cx, &a, &b, e->u.like.escape ? &esc : NULL,
			      out);
	else if (rc == RDB_OK && e->u.like.kind == SQL_GLOB)
		rc = sql_glob(&p->cx, &a, &b, out);
	else if (rc == RDB_OK)
		rc = rdb_err_set(p->cx.err, RDB_ERROR, "no such function: %s",
				 e->u.like.kind == SQL_REGEXP ? "REGEXP"
							     : "MATCH");
	sql_value_free(&a);
	sql_value_free(&b);
	sql_value_free(&esc);
	if (rc == RDB_OK)
		maybe_not(e, out);
	return rc;
}

/* x BETWEEN lo AND hi is x >= lo AND x <= hi, each with its affinity. */
static rdb_rc between(sql_prog *p, query *q, const sql_expr *e,
		      sql_value *out)
{
	sql_value x, lo, hi, c1, c2;
	sql_aff ax = expr_aff(e->left);
	rdb_rc rc;

	if ((rc = eval(p, q, e->left, &x)) != RDB_OK)
		return rc;
	if ((rc = eval(p, q, e->u.between.lo, &lo)) != RDB_OK)
		goto fail_x;
	if ((rc = eval(p, q, e->u.between.hi, &hi)) != RDB_OK)
		goto fail_lo;
	sql_compare(SQL_CMP_GE, &x, &lo,
		    sql_aff_compare(ax, expr_aff(e->u.between.lo)), &c1);
	sql_compare(SQL_CMP_LE, &x, &hi,
		    sql_aff_compare(ax, expr_aff(e->u.between.hi)), &c2);
	sql_and(&c1, &c2, out);
	maybe_not(e, out);
	sql_value_free(&hi);
fail_lo:
	sql_value_free(&lo);
fail_x:
	sql_value_free(&x);
	return rc;
}

/* Evaluate the n expressions of list into vals (which the caller frees
 * with free_vals). */
static rdb_rc eval_list(sql_prog *p, query *q, const sql_expr_list *l,
			sql_value *vals)
{
	int i;
	rdb_rc rc;

	for (i = 0; i < l->n; i++) {
		if ((rc = eval(p, q, l->items[i], &vals[i])) != RDB_OK) {
			while (i-- > 0)
				sql_value_free(&vals[i]);
			return rc;
		}
	}
	return RDB_OK;
}

static void free_vals(sql_value *vals, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sql_value_free(&vals[i]);
}

/* Room for n values: on the stack when small, else allocated. */
static sql_value *vals_get(sql_prog *p, sql_value *stack, int n)
{
	sql_value *v;

	if (n <= ARGS_ON_STACK)
		return stack;
	if ((v = rdb_calloc((size_t)n, sizeof(*v))) == NULL)
		rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	return v;
}

static void vals_put(sql_value *v, sql_value *stack)
{
	if (v != stack)
		rdb_free(v);
}

static rdb_rc in_const_list(sql_prog *p, query *q, const sql_expr *e,
			    sql_value *out);

static rdb_rc in_list(sql_prog *p, query *q, const sql_expr *e,
		      sql_value *out)
{
	sql_value x, stack[ARGS_ON_STACK], *vals;
	int n = e->list.n;
	rdb_rc rc;

	if (n > 0 && xi(e) != NULL && xi(e)->const_list)
		return in_const_list(p, q, e, out);
	if (n == 0) {
		/* SQLite: x IN () is false and x NOT IN () true, even for a
		 * NULL x. */
		sql_value_int(out, (e->flags & SQL_EF_NOT) != 0);
		return RDB_OK;
	}
	if ((rc = eval(p, q, e->left, &x)) != RDB_OK)
		return rc;
	if ((vals = vals_get(p, stack, n)) == NULL) {
		sql_value_free(&x);
		return RDB_NOMEM;
	}
	if ((rc = eval_list(p, q, &e->list, vals)) == RDB_OK) {
		sql_in(&x, vals, n, expr_aff(e->left), out);
		maybe_not(e, out);
		free_vals(vals, n);
	}
	vals_put(vals, stack);
	sql_value_free(&x);
	return rc;
}

/* x IN (constants): the list is evaluated once per run, given x's
 * affinity, sorted, and searched by bisection. */
static rdb_rc in_const_list(sql_prog *p, query *q, const sql_expr *e,
			    sql_value *out)
{
	xinfo *xl = xi(e);
	sql_aff aff = expr_aff(e->left);
	sql_value x, v;
	tbl_value t;
	int i;
	rdb_rc rc = RDB_OK;

	if (!xl->cached) {
		subq_free_list(xl);
		mrows_init(&xl->list, 1);
		for (i = 0; i < e->list.n && rc == RDB_OK; i++) {
			if ((rc = eval(p, q, e->list.items[i], &v)) != RDB_OK)
				break;
			sql_value_apply_aff(&v, aff);
			t = sql_value_tbl(&v);
			if (t.cls == TBL_NULL)
				xl->list_null = 1;
			else
				rc = mrows_add(&xl->list, &t, p->cx.err);
			sql_value_free(&v);
		}
		if (rc == RDB_OK)
			rc = mrows_sort(&xl->list, 0, NULL, NULL, NULL,
					p->cx.err);
		if (rc != RDB_OK)
			return rc;
		xl->cached = 1;
		xl->next_cached = p->caches;
		p->caches = xl;
	}
	if ((rc = eval(p, q, e->left, &x)) != RDB_OK)
		return rc;
	t = sql_value_tbl(&x);
	if (t.cls == TBL_NULL)
		sql_value_null(out);
	else if (mrows_find(&xl->list, &t))
		sql_value_int(out, 1);
	else if (xl->list_null)
		sql_value_null(out);
	else
		sql_value_int(out, 0);
	sql_value_free(&x);
	maybe_not(e, out);
	return RDB_OK;
}

static rdb_rc case_expr(sql_prog *p, query *q, const sql_expr *e,
			sql_value *out)
{
	sql_value base, w, c;
	int i, hit = 0;
	rdb_rc rc = RDB_OK;

	sql_value_null(&base);
	if (e->left != NULL && (rc = eval(p, q, e->left, &base)) != RDB_OK)
		return rc;
	for (i = 0; i + 1 < e->list.n && !hit; i += 2) {
		if ((rc = eval(p, q, e->list.items[i], &w)) != RDB_OK)
			break;
		if (e->left != NULL) {
			sql_compare(SQL_CMP_EQ, &base, &w,
				    sql_aff_compare(expr_aff(e->left),
						    expr_aff(e->list.items[i])),
				    &c);
			hit = sql_value_truth(&c) == 1;
		} else {
			hit = sql_value_truth(&w) == 1;
		}
		sql_value_free(&w);
		if (hit)
			rc = eval(p, q, e->list.items[i + 1], out);
	}
	sql_value_free(&base);
	if (rc != RDB_OK || hit)
		return rc;
	if (e->right != NULL)
		return eval(p, q, e->right, out);
	sql_value_null(out);
	return RDB_OK;
}

static rdb_rc cast(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	sql_value a;
	rdb_rc rc;

	if ((rc = eval(p, q, e->left, &a)) != RDB_OK)
		return rc;
	rc = sql_cast(&p->cx, &a, xi(e)->aff, out);
	sql_value_free(&a);
	return rc;
}

/* coalesce/ifnull and iif evaluate only the arguments they need. */
static rdb_rc lazy(sql_prog *p, query *q, const sql_expr *e, sql_value *out,
		   int *handled)
{
	const char *name = xi(e)->fn->name;
	sql_value c;
	int i;
	rdb_rc rc;

	*handled = 1;
	if (strcmp(name, "iif") == 0 && e->list.n == 3) {
		if ((rc = eval(p, q, e->list.items[0], &c)) != RDB_OK)
			return rc;
		i = sql_value_truth(&c) == 1 ? 1 : 2;
		sql_value_free(&c);
		return eval(p, q, e->list.items[i], out);
	}
	if (strcmp(name, "coalesce") != 0 && strcmp(name, "ifnull") != 0) {
		*handled = 0;
		return RDB_OK;
	}
	for (i = 0; i < e->list.n; i++) {
		if ((rc = eval(p, q, e->list.items[i], out)) != RDB_OK)
			return rc;
		if (sql_value_class(out) != TBL_NULL || i == e->list.n - 1)
			return RDB_OK;
		sql_value_free(out);
	}
	sql_value_null(out);
	return RDB_OK;
}

static rdb_rc func(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	sql_value stack[ARGS_ON_STACK], *args;
	int n = e->list.n, handled;
	rdb_rc rc;

	if ((rc = lazy(p, q, e, out, &handled)) != RDB_OK || handled)
		return rc;
	if ((args = vals_get(p, stack, n)) == NULL)
		return RDB_NOMEM;
	if ((rc = eval_list(p, q, &e->list, args)) == RDB_OK) {
		rc = xi(e)->fn->fn(&p->cx, n, args, out);
		free_vals(args, n);
	}
	vals_put(args, stack);
	return rc;
}

/* CURRENT_TIME, CURRENT_DATE, CURRENT_TIMESTAMP (UTC, as SQLite). */
static rdb_rc ctime_expr(sql_prog *p, const sql_expr *e, sql_value *out)
{
	static const char *const fmt[] = { "%H:%M:%S", "%Y-%m-%d",
					   "%Y-%m-%d %H:%M:%S" };
	char buf[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	gmtime_r(&now, &tm);
	n = strftime(buf, sizeof(buf), fmt[e->u.ctime % 3], &tm);
	return sql_value_set_bytes(&p->cx, out, TBL_TEXT, buf, n);
}

static rdb_rc literal(sql_prog *p, const sql_expr *e, sql_value *out)
{
	switch (e->op) {
	case SQL_E_INT: sql_value_int(out, e->u.i); break;
	case SQL_E_REAL: sql_value_real(out, e->u.r); break;
	case SQL_E_STR:
		sql_value_borrow(out, TBL_TEXT, e->u.str.p, e->u.str.n);
		break;
	case SQL_E_BLOB:
		sql_value_borrow(out, TBL_BLOB, e->u.str.p, e->u.str.n);
		break;
	case SQL_E_TRUE: sql_value_int(out, 1); break;
	case SQL_E_FALSE: sql_value_int(out, 0); break;
	case SQL_E_CTIME: return ctime_expr(p, e, out);
	default: sql_value_null(out); break;
	}
	return RDB_OK;
}


static rdb_rc eval_op(sql_prog *p, query *q, const sql_expr *e,
		      sql_value *out)
{
	switch (e->op) {
	case SQL_E_INT: case SQL_E_REAL: case SQL_E_STR: case SQL_E_BLOB:
	case SQL_E_NULL: case SQL_E_TRUE: case SQL_E_FALSE: case SQL_E_CTIME:
		return literal(p, e, out);
	case SQL_E_PARAM: return param(p, e, out);
	case SQL_E_NEG: case SQL_E_BITNOT: case SQL_E_NOT: case SQL_E_ISNULL:
	case SQL_E_NOTNULL:
		return unary(p, q, e, out);
	case SQL_E_POS: case SQL_E_COLLATE: return eval(p, q, e->left, out);
	case SQL_E_OR: case SQL_E_AND: return logic(p, q, e, out);
	case SQL_E_EQ: case SQL_E_NE: case SQL_E_IS: case SQL_E_ISNOT:
	case SQL_E_LT: case SQL_E_LE: case SQL_E_GT: case SQL_E_GE:
		return compare(p, q, e, out);
	case SQL_E_BITAND: case SQL_E_BITOR: case SQL_E_LSHIFT:
	case SQL_E_RSHIFT: case SQL_E_ADD: case SQL_E_SUB: case SQL_E_MUL:
	case SQL_E_DIV: case SQL_E_MOD: case SQL_E_CONCAT:
		return arith(p, q, e, out);
	case SQL_E_LIKE: return like(p, q, e, out);
	case SQL_E_BETWEEN: return between(p, q, e, out);
	case SQL_E_IN_LIST: return in_list(p, q, e, out);
	case SQL_E_CASE: return case_expr(p, q, e, out);
	case SQL_E_CAST: return cast(p, q, e, out);
	case SQL_E_IN_SELECT: case SQL_E_EXISTS: case SQL_E_SUBQUERY:
		return subq_eval(p, q, e, out);
	case SQL_E_RAISE:
		return trig_raise(p, e);
	default:
		return rdb_err_set(p->cx.err, RDB_ERROR, "unsupported "
				   "expression at %u:%u", e->pos.line,
				   e->pos.col);
	}
}

/* Evaluate e for the current rows.  *out may borrow bytes from rows,
 * parameters and the tree: copy it (sql_value_copy) to keep it longer
 * than the current rows.  The caller frees *out with sql_value_free. */
rdb_rc eval(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	xinfo *x = xi(e);
	rdb_rc rc;

	if (atomic_load_explicit(&p->c->interrupt, memory_order_relaxed))
		return rdb_err_set(p->cx.err, RDB_INTERRUPT, "interrupted");
	if (x != NULL) {
		if (x->cached && x->constant)
			return sql_value_pass(&p->cx, out, &x->cache);
		switch (x->kind) {
		case XK_COL: return column(p, q, x, out);
		case XK_ALIAS: return eval(p, q, x->target, out);
		case XK_CONN:
			sql_value_int(out, x->slot == 0 ? p->c->changes
					   : x->slot == 1 ? p->c->total_changes
							  : p->c->last_rowid);
			return RDB_OK;
		case XK_AGG:
			if (q->r != NULL && q->r->aggv != NULL)
				return sql_value_pass(&p->cx, out,
						      &q->r->aggv[x->slot]);
			sql_value_null(out);
			return RDB_OK;
		case XK_FUNC:
			rc = func(p, q, e, out);
			break;
		default:
			rc = eval_op(p, q, e, out);
			break;
		}
	} else {
		rc = eval_op(p, q, e, out);
	}
	if (rc == RDB_OK && x != NULL && x->constant) {
		/* Constant: keep an owned copy for the rest of the run. */
		if (sql_value_copy(&p->cx, &x->cache, out) == RDB_OK) {
			x->cached = 1;
			x->next_cached = p->caches;
			p->caches = x;
		}
	}
	return rc;
}

/* The truth of e for the current rows: 1, 0, or -1 for NULL. */
rdb_rc eval_truth(sql_prog *p, query *q, const sql_expr *e, int *truth)
{
	sql_value v;
	rdb_rc rc;

	if ((rc = eval(p, q, e, &v)) != RDB_OK)
		return rc;
	*truth = sql_value_truth(&v);
	sql_value_free(&v);
	return RDB_OK;
}

/* Forget the values cached during a run. */
void eval_clear_caches(sql_prog *p)
{
	xinfo *x, *next;

	for (x = p->caches; x != NULL; x = next) {
		next = x->next_cached;
		sql_value_free(&x->cache);
		subq_free_list(x);
		x->cached = 0;
		x->next_cached = NULL;
	}
	p->caches = NULL;
}
