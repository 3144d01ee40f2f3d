/*
 * parse.c -- the parser's driver: sql_parse(), the arena, token helpers,
 * parameters, and the statements that are not DDL or queries
 * (transactions, PRAGMA, REINDEX, ANALYZE, VACUUM, INSERT, UPDATE,
 * DELETE).  A hand-written recursive-descent parser for SQLite's grammar;
 * see README.md ("Parser").
 */
#include "sql/parse_int.h"
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "mem.h"

/* ---- arena --------------------------------------------------------------- */

typedef struct chunk {
	struct chunk *next;
	size_t cap, used;
	max_align_t data[];
} chunk;

struct sql_arena {
	chunk *head;
	size_t next_size;         /* size of the next chunk's data */
};

#define ARENA_MAX_CHUNK ((size_t)64 * 1024)

static chunk *chunk_new(size_t cap)
{
	chunk *c = rdb_malloc(sizeof(*c) + cap);

	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

sql_arena *arena_new(size_t first_chunk)
{
	sql_arena *a = rdb_malloc(sizeof(*a));

	if (a == NULL)
		return NULL;
	a->next_size = first_chunk < 256 ? 256 : first_chunk;
	a->head = chunk_new(a->next_size);
	if (a->head == NULL) {
		rdb_free(a);
		return NULL;
	}
	return a;
}

void *arena_alloc(sql_arena *a, size_t n)
{
	chunk *c = a->head;
	void *r;

	n = (n + 7) & ~(size_t)7;
	if (n == 0)
		n = 8;
	if (c->cap - c->used < n) {
		size_t cap = a->next_size * 2;

		if (cap > ARENA_MAX_CHUNK)
			cap = ARENA_MAX_CHUNK;
		a->next_size = cap;
		if (cap < n)
			cap = n;
		c = chunk_new(cap);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		a->head = c;
	}
	r = (char *)c->data + c->used;
	c->used += n;
	memset(r, 0, n);
	return r;
}

void arena_free(sql_arena *a)
{
	chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		rdb_free(c);
	}
	rdb_free(a);
}

void sql_stmt_free(sql_stmt *s)
{
	if (s != NULL)
		arena_free(s->arena);
}

void *sql_stmt_alloc(sql_stmt *s, size_t n)
{
	return arena_alloc(s->arena, n);
}

/* ---- errors and tokens ----------------------------------------------------- */

rdb_rc p_error(parser *p, rdb_rc rc, const token *t, const char *fmt, ...)
{
	char msg[RDB_ERR_MSG_MAX];
	va_list ap;

	if (p->rc != RDB_OK)
		return p->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->rc = rc;
	if (t != NULL)
		return rdb_err_set(p->err, rc, "%s at %u:%u", msg,
				   (unsigned)t->line, (unsigned)t->col);
	return rdb_err_set(p->err, rc, "%s", msg);
}

rdb_rc p_error_near(parser *p, const token *t)
{
	int len = t->len > 200 ? 200 : (int)t->len;

	if (t->type == TK_EOF)
		return p_error(p, RDB_ERROR, t, "incomplete input");
	if (t->type == TK_ILLEGAL)
		return p_error(p, RDB_ERROR, t, "unrecognized token: \"%.*s\"",
			       len, p->z + t->off);
	return p_error(p, RDB_ERROR, t, "near \"%.*s\": syntax error", len,
		       p->z + t->off);
}

void *p_alloc(parser *p, size_t n)
{
	void *r = arena_alloc(p->arena, n);

	if (r == NULL)
		(void)p_error(p, RDB_NOMEM, NULL, "out of memory");
	return r;
}

void p_advance(parser *p)
{
	p->prev = p->tok;
	if (p->have_peek) {
		p->tok = p->peek;
		p->have_peek = 0;
	} else {
		lex_next(&p->lx, &p->tok);
	}
}

const token *p_peek(parser *p)
{
	if (!p->have_peek) {
		lex_next(&p->lx, &p->peek);
		p->have_peek = 1;
	}
	return &p->peek;
}

int p_accept(parser *p, tk type)
{
	if (p->tok.type != type)
		return 0;
	p_advance(p);
	return 1;
}

rdb_rc p_expect(parser *p, tk type)
{
	if (p->tok.type != type)
		return p_error_near(p, &p->tok);
	p_advance(p);
	return RDB_OK;
}

static int is_fallback(tk type)
{
	return type >= TK_FALLBACK_FIRST && type <= TK_FALLBACK_LAST;
}

static int is_join_kw(tk type)
{
	return type == TK_NATURAL || type == TK_LEFT || type == TK_OUTER ||
	       type == TK_RIGHT || type == TK_FULL || type == TK_CROSS ||
	       type == TK_INNER;
}

int p_is_name(tk type)
{
	return type == TK_ID || type == TK_STRING || is_fallback(type);
}

char *p_copy(parser *p, const char *s, size_t n)
{
	char *r = p_alloc(p, n + 1);

	if (r != NULL) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

/* The text of a name or string token without its quotes; doubled quotes
 * inside stand for one (except in [brackets]). */
char *p_dequote(parser *p, const token *t)
{
	const char *z = p->z + t->off;
	char q = z[0], close;
	size_t i, j;
	char *r;

	if (t->len < 2 || (q != '"' && q != '\'' && q != '`' && q != '['))
		return p_copy(p, z, t->len);
	close = q == '[' ? ']' : q;
	r = p_alloc(p, t->len);
	if (r == NULL)
		return NULL;
	for (i = 1, j = 0; i + 1 < t->len; i++) {
		r[j++] = z[i];
		if (z[i] == close && close != ']')
			i++;
	}
	r[j] = '\0';
	return r;
}

/* nm: a name, a string, a keyword that may be a name, or a join keyword. */
rdb_rc p_name(parser *p, const char **out)
{
	tk type = p->tok.type;

	if (!p_is_name(type) && type != TK_INDEXED && !is_join_kw(type))
		return p_error_near(p, &p->tok);
	*out = p_dequote(p, &p->tok);
	if (*out == NULL)
		return p->rc;
	p_advance(p);
	return RDB_OK;
}

/* ids: a name, a string or a keyword that may be a name. */
rdb_rc p_ids(parser *p, const char **out)
{
	if (!p_is_name(p->tok.type))
		return p_error_near(p, &p->tok);
	return p_name(p, out);
}

sql_pos p_pos(parser *p, const token *t)
{
	sql_pos pos;

	pos.line = t->line;
	pos.col = t->col;
	pos.off = (uint32_t)(t->off - p->stmt_off);
	pos.len = t->len;
	return pos;
}

void p_span_end(parser *p, sql_pos *pos)
{
	uint32_t end = (uint32_t)(p->prev.off + p->prev.len - p->stmt_off);

	pos->len = end > pos->off ? end - pos->off : 0;
}

/* Append one element of size bytes to an arena array; *slot gets it. */
rdb_rc p_push(parser *p, void **arr, int *n, int *cap, size_t size,
	      void **slot)
{
	if (*n == *cap) {
		int ncap = *cap < 4 ? 4 : *cap * 2;
		void *na = p_alloc(p, (size_t)ncap * size);

		if (na == NULL)
			return p->rc;
		if (*n > 0)
			memcpy(na, *arr, (size_t)*n * size);
		*arr = na;
		*cap = ncap;
	}
	*slot = (char *)*arr + (size_t)*n * size;
	(*n)++;
	return RDB_OK;
}

rdb_rc p_enter(parser *p)
{
	if (++p->depth > SQL_MAX_DEPTH)
		return p_error(p, RDB_TOOBIG, &p->tok,
			       "parser stack overflow (nesting deeper than %d)",
			       SQL_MAX_DEPTH);
	return RDB_OK;
}

/* ( a, b, ... ) */
rdb_rc parse_name_list(parser *p, sql_name_list *out)
{
	int cap = 0;
	const char **slot = NULL;
	rdb_rc rc;

	out->n = 0;
	out->names = NULL;
	if ((rc = p_expect(p, TK_LP)) != RDB_OK)
		return rc;
	do {
		rc = p_push(p, (void **)&out->names, &out->n, &cap,
			    sizeof(*out->names), (void **)&slot);
		if (rc == RDB_OK)
			rc = p_name(p, slot);
		if (rc != RDB_OK)
			return rc;
	} while (p_accept(p, TK_COMMA));
	return p_expect(p, TK_RP);
}

/* ---- transactions, PRAGMA, maintenance --------------------------------------- */

static rdb_rc parse_begin(parser *p, sql_stmt *s)
{
	s->kind = SQL_BEGIN;
	if (p_accept(p, TK_DEFERRED))
		s->u.begin = SQL_TXN_DEFERRED;
	else if (p_accept(p, TK_IMMEDIATE))
		s->u.begin = SQL_TXN_IMMEDIATE;
	else if (p_accept(p, TK_EXCLUSIVE))
		s->u.begin = SQL_TXN_EXCLUSIVE;
	if (p_accept(p, TK_TRANSACTION) && p_is_name(p->tok.type))
		p_advance(p);           /* a transaction name is ignored */
	return RDB_OK;
}

/* COMMIT|END [TRANSACTION]; ROLLBACK [TRANSACTION] [TO [SAVEPOINT] x] */
static rdb_rc parse_end(parser *p, sql_stmt *s, sql_kind kind)
{
	s->kind = kind;
	if (p_accept(p, TK_TRANSACTION) && p_is_name(p->tok.type) &&
	    !(kind == SQL_ROLLBACK && p->tok.type == TK_TO))
		p_advance(p);
	if (kind == SQL_ROLLBACK && p_accept(p, TK_TO)) {
		(void)p_accept(p, TK_SAVEPOINT);
		return p_name(p, &s->u.savepoint);
	}
	return RDB_OK;
}

/* The value of PRAGMA x = value / x(value): a name, keyword, string or
 * signed number, kept as text. */
static rdb_rc pragma_value(parser *p, sql_pragma *pr)
{
	const token *t = &p->tok;
	int neg = 0;

	if (t->type == TK_PLUS || t->type == TK_MINUS) {
		neg = t->type == TK_MINUS;
		p_advance(p);
		if (t->type != TK_INTEGER && t->type != TK_FLOAT)
			return p_error_near(p, t);
	}
	if (t->type == TK_STRING)
		pr->value_is_string = 1;
	else if (t->type != TK_INTEGER && t->type != TK_FLOAT &&
		 t->type != TK_ID && t->type != TK_ON &&
		 t->type != TK_DELETE && t->type != TK_DEFAULT &&
		 !(t->type >= TK_FALLBACK_FIRST && t->type < TK_COUNT))
		return p_error_near(p, t);
	if (neg) {
		char *v = p_alloc(p, t->len + 2);

		if (v == NULL)
			return p->rc;
		v[0] = '-';
		memcpy(v + 1, p->z + t->off, t->len);
		pr->value = v;
	} else if ((pr->value = p_dequote(p, t)) == NULL) {
		return p->rc;
	}
	p_advance(p);
	return RDB_OK;
}

static rdb_rc parse_pragma(parser *p, sql_stmt *s)
{
	sql_pragma *pr = &s->u.pragma;
	rdb_rc rc;

	s->kind = SQL_PRAGMA;
	if ((rc = p_name(p, &pr->name)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_DOT)) {
		pr->schema = pr->name;
		if ((rc = p_name(p, &pr->name)) != RDB_OK)
			return rc;
	}
	if (p_accept(p, TK_EQ))
		return pragma_value(p, pr);
	if (p_accept(p, TK_LP)) {
		pr->paren = 1;
		if ((rc = pragma_value(p, pr)) != RDB_OK)
			return rc;
		return p_expect(p, TK_RP);
	}
	return RDB_OK;
}

/* REINDEX / ANALYZE [[schema.]name]; VACUUM [schema] */
static rdb_rc parse_target(parser *p, sql_stmt *s, sql_kind kind)
{
	rdb_rc rc;

	s->kind = kind;
	if (!p_is_name(p->tok.type) && p->tok.type != TK_INDEXED)
		return RDB_OK;
	if ((rc = p_name(p, &s->u.target.name)) != RDB_OK)
		return rc;
	if (kind == SQL_VACUUM) {
		s->u.target.schema = s->u.target.name;
		s->u.target.name = NULL;
	} else if (p_accept(p, TK_DOT)) {
		s->u.target.schema = s->u.target.name;
		return p_name(p, &s->u.target.name);
	}
	return RDB_OK;
}

/* ---- INSERT, UPDATE, DELETE ------------------------------------------------------- */

static sql_conflict conflict_of(tk type)
{
	switch (type) {
	case TK_ROLLBACK: return SQL_OR_ROLLBACK;
	case TK_ABORT: return SQL_OR_ABORT;
	case TK_FAIL: return SQL_OR_FAIL;
	case TK_IGNORE: return SQL_OR_IGNORE;
	case TK_REPLACE: return SQL_OR_REPLACE;
	default: return SQL_OR_DEFAULT;
	}
}

/* OR ROLLBACK|ABORT|FAIL|IGNORE|REPLACE */
static rdb_rc or_conflict(parser *p, sql_conflict *out)
{
	if (!p_accept(p, TK_OR))
		return RDB_OK;
	*out = conflict_of(p->tok.type);
	if (*out == SQL_OR_DEFAULT)
		return p_error_near(p, &p->tok);
	p_advance(p);
	return RDB_OK;
}

/* [schema.]table [AS alias]; trigger bodies allow no schema. */
static rdb_rc target_table(parser *p, const char **schema,
			   const char **table, const char **alias)
{
	rdb_rc rc;

	if ((rc = p_name(p, table)) != RDB_OK)
		return rc;
	if (p->tok.type == TK_DOT) {
		if (p->in_trigger)
			return p_error(p, RDB_ERROR, &p->tok,
				       "qualified table names are not allowed "
				       "on INSERT, UPDATE, and DELETE statements "
				       "within triggers");
		p_advance(p);
		*schema = *table;
		if ((rc = p_name(p, table)) != RDB_OK)
			return rc;
	}
	if (alias != NULL && p_accept(p, TK_AS))
		return p_name(p, alias);
	return RDB_OK;
}

static rdb_rc parse_insert(parser *p, sql_stmt *s)
{
	sql_insert *ins = &s->u.insert;
	rdb_rc rc;

	s->kind = SQL_INSERT;
	if (p_accept(p, TK_REPLACE)) {
		ins->conflict = SQL_OR_REPLACE;
	} else {
		p_advance(p);                   /* INSERT */
		if ((rc = or_conflict(p, &ins->conflict)) != RDB_OK)
			return rc;
	}
	if ((rc = p_expect(p, TK_INTO)) != RDB_OK ||
	    (rc = target_table(p, &ins->schema, &ins->table,
			       &ins->alias)) != RDB_OK)
		return rc;
	if (p->tok.type == TK_LP &&
	    (rc = parse_name_list(p, &ins->cols)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_DEFAULT))
		return p_expect(p, TK_VALUES);
	if (!p_starts_select(p))
		return p_error_near(p, &p->tok);
	return parse_select(p, &ins->select);
}

static rdb_rc parse_set(parser *p, sql_update *up)
{
	int cap = 0;
	sql_set *set = NULL;
	rdb_rc rc;

	do {
		rc = p_push(p, (void **)&up->sets, &up->n_sets, &cap,
			    sizeof(*set), (void **)&set);
		if (rc != RDB_OK)
			return rc;
		if (p->tok.type == TK_LP) {
			rc = parse_name_list(p, &set->cols);
		} else {
			set->cols.n = 1;
			set->cols.names = p_alloc(p, sizeof(char *));
			if (set->cols.names == NULL)
				return p->rc;
			rc = p_name(p, &set->cols.names[0]);
		}
		if (rc == RDB_OK)
			rc = p_expect(p, TK_EQ);
		if (rc == RDB_OK)
			rc = parse_expr(p, &set->value);
		if (rc != RDB_OK)
			return rc;
	} while (p_accept(p, TK_COMMA));
	return RDB_OK;
}

static rdb_rc parse_update(parser *p, sql_stmt *s)
{
	sql_update *up = &s->u.update;
	rdb_rc rc;

	s->kind = SQL_UPDATE;
	p_advance(p);
	if ((rc = or_conflict(p, &up->conflict)) != RDB_OK ||
	    (rc = target_table(p, &up->schema, &up->table,
			       &up->alias)) != RDB_OK ||
	    (rc = p_expect(p, TK_SET)) != RDB_OK ||
	    (rc = parse_set(p, up)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_WHERE))
		return parse_expr(p, &up->where);
	return RDB_OK;
}

static rdb_rc parse_delete(parser *p, sql_stmt *s)
{
	sql_delete *d = &s->u.del;
	rdb_rc rc;

	s->kind = SQL_DELETE;
	p_advance(p);
	if ((rc = p_expect(p, TK_FROM)) != RDB_OK ||
	    (rc = target_table(p, &d->schema, &d->table, &d->alias)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_WHERE))
		return parse_expr(p, &d->where);
	return RDB_OK;
}

rdb_rc parse_dml(parser *p, sql_stmt *s)
{
	switch (p->tok.type) {
	case TK_INSERT:
	case TK_REPLACE:
		return parse_insert(p, s);
	case TK_UPDATE:
		return parse_update(p, s);
	case TK_DELETE:
		return parse_delete(p, s);
	default:
		s->kind = SQL_SELECT;
		if (!p_starts_select(p))
			return p_error_near(p, &p->tok);
		return parse_select(p, &s->u.select);
	}
}

/* ---- statements ---------------------------------------------------------------------- */

static rdb_rc parse_cmd(parser *p, sql_stmt *s)
{
	switch (p->tok.type) {
	case TK_BEGIN:
		p_advance(p);
		return parse_begin(p, s);
	case TK_COMMIT:
	case TK_END:
		p_advance(p);
		return parse_end(p, s, SQL_COMMIT);
	case TK_ROLLBACK:
		p_advance(p);
		return parse_end(p, s, SQL_ROLLBACK);
	case TK_SAVEPOINT:
		p_advance(p);
		s->kind = SQL_SAVEPOINT;
		return p_name(p, &s->u.savepoint);
	case TK_RELEASE:
		p_advance(p);
		s->kind = SQL_RELEASE;
		(void)p_accept(p, TK_SAVEPOINT);
		return p_name(p, &s->u.savepoint);
	case TK_PRAGMA:
		p_advance(p);
		return parse_pragma(p, s);
	case TK_REINDEX:
		p_advance(p);
		return parse_target(p, s, SQL_REINDEX);
	case TK_ANALYZE:
		p_advance(p);
		return parse_target(p, s, SQL_ANALYZE);
	case TK_VACUUM:
		p_advance(p);
		return parse_target(p, s, SQL_VACUUM);
	case TK_CREATE:
	case TK_DROP:
		return parse_create(p, s);
	case TK_ALTER:
		p_advance(p);
		return parse_alter(p, s);
	default:
		return parse_dml(p, s);
	}
}

/* Copy the statement's text and parameter names into its arena. */
static rdb_rc stmt_finish(parser *p, sql_stmt *s, const token *first)
{
	size_t end = p->prev.off + p->prev.len;

	s->n_sql = end - first->off;
	s->sql = p_copy(p, p->z + first->off, s->n_sql);
	s->pos = p_pos(p, first);
	s->pos.len = (uint32_t)s->n_sql;
	s->n_params = p->n_params;
	s->param_names = p->param_names;
	s->object_off = p->object_off;
	return s->sql != NULL ? RDB_OK : p->rc;
}

/* One statement after [EXPLAIN [QUERY PLAN]], up to ';' or the end. */
rdb_rc parse_stmt_body(parser *p, sql_stmt *s)
{
	token first = p->tok;
	rdb_rc rc;

	p->stmt_off = first.off;
	s->pos = p_pos(p, &first);
	if ((rc = parse_cmd(p, s)) != RDB_OK)
		return rc;
	return stmt_finish(p, s, &first);
}

static rdb_rc parse_top(parser *p, sql_stmt *s)
{
	token first = p->tok;
	rdb_rc rc;

	p->stmt_off = first.off;
	if (p_accept(p, TK_EXPLAIN)) {
		s->explain = 1;
		if (p_accept(p, TK_QUERY)) {
			if ((rc = p_expect(p, TK_PLAN)) != RDB_OK)
				return rc;
			s->explain = 2;
		}
	}
	if ((rc = parse_cmd(p, s)) != RDB_OK)
		return rc;
	if (p->tok.type != TK_SEMI && p->tok.type != TK_EOF)
		return p_error_near(p, &p->tok);
	return stmt_finish(p, s, &first);
}

rdb_rc sql_parse(const char *sql, size_t n, rdb_err *err, sql_stmt **out,
		 size_t *tail)
{
	parser p;
	sql_stmt *s;
	rdb_rc rc;

	assert(sql != NULL && out != NULL && tail != NULL);
	*out = NULL;
	*tail = 0;
	if (n > UINT32_MAX - 1)
		return rdb_err_set(err, RDB_TOOBIG, "statement too long");
	memset(&p, 0, sizeof(p));
	p.z = sql;
	p.err = err;
	lex_init(&p.lx, sql, n);
	do
		lex_next(&p.lx, &p.tok);
	while (p.tok.type == TK_SEMI);
	if (p.tok.type == TK_EOF) {
		*tail = n;
		return RDB_OK;
	}
	p.arena = arena_new(1024);
	if (p.arena == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	s = p_alloc(&p, sizeof(*s));
	if (s == NULL || (rc = parse_top(&p, s)) != RDB_OK) {
		arena_free(p.arena);
		return p.rc;
	}
	s->arena = p.arena;
	*tail = p.tok.type == TK_SEMI ? p.tok.off + 1u : p.lx.n;
	if (p.tok.type == TK_EOF)
		*tail = n;
	*out = s;
	return RDB_OK;
}
