/*
 * parse_ddl.c -- CREATE TABLE (columns, column and table constraints,
 * table options, AS SELECT), CREATE INDEX, CREATE VIEW, CREATE TRIGGER
 * and DROP.  Tree shapes: ast.h; notes: README.md ("Parser").
 */
#include "sql/parse_int.h"
#include <string.h>
#include <strings.h>

/* [schema.]name; the offset of name's token goes to p->object_off (the
 * catalog's text of a CREATE statement starts there). */
static rdb_rc qualified(parser *p, const char **schema, const char **name)
{
	rdb_rc rc;

	p->object_off = (uint32_t)(p->tok.off - p->stmt_off);
	rc = p_name(p, name);
	if (rc == RDB_OK && p_accept(p, TK_DOT)) {
		*schema = *name;
		p->object_off = (uint32_t)(p->tok.off - p->stmt_off);
		rc = p_name(p, name);
	}
	return rc;
}

static rdb_rc if_not_exists(parser *p, int *out)
{
	if (p->tok.type != TK_IF)
		return RDB_OK;
	p_advance(p);
	*out = 1;
	if (p_expect(p, TK_NOT) != RDB_OK)
		return p->rc;
	return p_expect(p, TK_EXISTS);
}

/* ON CONFLICT ROLLBACK|ABORT|FAIL|IGNORE|REPLACE, if present. */
static rdb_rc on_conflict(parser *p, sql_conflict *out)
{
	if (p->tok.type != TK_ON)
		return RDB_OK;
	p_advance(p);
	if (p_expect(p, TK_CONFLICT) != RDB_OK)
		return p->rc;
	switch (p->tok.type) {
	case TK_ROLLBACK: *out = SQL_OR_ROLLBACK; break;
	case TK_ABORT: *out = SQL_OR_ABORT; break;
	case TK_FAIL: *out = SQL_OR_FAIL; break;
	case TK_IGNORE: *out = SQL_OR_IGNORE; break;
	case TK_REPLACE: *out = SQL_OR_REPLACE; break;
	default: return p_error_near(p, &p->tok);
	}
	p_advance(p);
	return RDB_OK;
}

/* col [COLLATE x] [ASC|DESC], ... inside parentheses. */
rdb_rc parse_indexed_cols(parser *p, sql_indexed_col **cols, int *n)
{
	int cap = 0;
	sql_indexed_col *c = NULL;
	rdb_rc rc;

	if ((rc = p_expect(p, TK_LP)) != RDB_OK)
		return rc;
	do {
		sql_expr *e;

		rc = p_push(p, (void **)cols, n, &cap, sizeof(*c),
			    (void **)&c);
		if (rc == RDB_OK)
			rc = parse_expr(p, &c->expr);
		if (rc != RDB_OK)
			return rc;
		for (e = c->expr; e->op == SQL_E_COLLATE; e = e->left)
			if (c->collation == NULL)
				c->collation = e->u.collation;
		if (e->op == SQL_E_COLUMN && e->u.col.table == NULL)
			c->name = e->u.col.name;
		else if (e->op == SQL_E_STR)
			c->name = e->u.str.p;   /* SQLite: 'a' names a column */
		if (p_accept(p, TK_DESC))
			c->desc = 1;
		else
			(void)p_accept(p, TK_ASC);
	} while (p_accept(p, TK_COMMA));
	return p_expect(p, TK_RP);
}

static sql_fk_action fk_action(parser *p)
{
	if (p_accept(p, TK_CASCADE))
		return SQL_FK_CASCADE;
	if (p_accept(p, TK_RESTRICT))
		return SQL_FK_RESTRICT;
	if (p_accept(p, TK_NO))
		return p_accept(p, TK_ACTION) ? SQL_FK_NO_ACTION : SQL_FK_NONE;
	if (p_accept(p, TK_SET)) {
		if (p_accept(p, TK_NULL))
			return SQL_FK_SET_NULL;
		if (p_accept(p, TK_DEFAULT))
			return SQL_FK_SET_DEFAULT;
	}
	return SQL_FK_NONE;
}

/* REFERENCES t [(cols)] [ON DELETE|UPDATE action] [MATCH x]
 * [[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]] */
static rdb_rc references(parser *p, sql_fk **out)
{
	sql_fk *fk = p_alloc(p, sizeof(*fk));
	const char *ignored;
	rdb_rc rc;

	if (fk == NULL)
		return p->rc;
	if ((rc = p_name(p, &fk->table)) != RDB_OK)
		return rc;
	if (p->tok.type == TK_LP &&
	    (rc = parse_name_list(p, &fk->cols)) != RDB_OK)
		return rc;
	for (;;) {
		if (p->tok.type == TK_ON) {
			int del;
			sql_fk_action a;

			p_advance(p);
			del = p->tok.type == TK_DELETE;
			if (!del && p->tok.type != TK_UPDATE)
				return p_error_near(p, &p->tok);
			p_advance(p);
			if ((a = fk_action(p)) == SQL_FK_NONE)
				return p_error_near(p, &p->tok);
			*(del ? &fk->on_delete : &fk->on_update) = a;
		} else if (p_accept(p, TK_MATCH)) {
			if ((rc = p_name(p, &ignored)) != RDB_OK)
				return rc;
		} else {
			break;
		}
	}
	if (p->tok.type == TK_DEFERRABLE ||
	    (p->tok.type == TK_NOT && p_peek(p)->type == TK_DEFERRABLE)) {
		int neg = p_accept(p, TK_NOT);

		p_advance(p);
		fk->deferrable = 0;
		if (p_accept(p, TK_INITIALLY)) {
			if (p_accept(p, TK_DEFERRED))
				fk->deferrable = !neg;
			else if (p_expect(p, TK_IMMEDIATE) != RDB_OK)
				return p->rc;
		}
	}
	*out = fk;
	return RDB_OK;
}

/* One column constraint; name is its CONSTRAINT name or NULL (kept for
 * CHECK, whose failure message names it). */
static rdb_rc column_constraint(parser *p, sql_column_def *col,
				const char *name)
{
	sql_expr **check = NULL;
	const char **cname = NULL;
	int cap, nn, ncap;
	rdb_rc rc = RDB_OK;

	switch (p->tok.type) {
	case TK_PRIMARY:
		p_advance(p);
		if ((rc = p_expect(p, TK_KEY)) != RDB_OK)
			return rc;
		col->primary_key = 1;
		if (p_accept(p, TK_DESC))
			col->pk_desc = 1;
		else
			(void)p_accept(p, TK_ASC);
		if ((rc = on_conflict(p, &col->pk_conflict)) != RDB_OK)
			return rc;
		col->autoincrement = p_accept(p, TK_AUTOINCREMENT);
		return RDB_OK;
	case TK_NOT:
		p_advance(p);
		if ((rc = p_expect(p, TK_NULL)) != RDB_OK)
			return rc;
		col->not_null = 1;
		return on_conflict(p, &col->not_null_conflict);
	case TK_NULL:
		p_advance(p);          /* NULL: allowed, changes nothing */
		return on_conflict(p, &col->not_null_conflict);
	case TK_UNIQUE:
		p_advance(p);
		col->unique = 1;
		return on_conflict(p, &col->unique_conflict);
	case TK_CHECK:
		p_advance(p);
		cap = nn = ncap = col->checks.n;
		if ((rc = p_expect(p, TK_LP)) != RDB_OK ||
		    (rc = p_push(p, (void **)&col->checks.items, &col->checks.n,
				 &cap, sizeof(*check), (void **)&check)) != RDB_OK ||
		    (rc = p_push(p, (void **)&col->check_names, &nn, &ncap,
				 sizeof(*cname), (void **)&cname)) != RDB_OK ||
		    (rc = parse_expr(p, check)) != RDB_OK)
			return rc;
		*cname = name;
		return p_expect(p, TK_RP);
	case TK_DEFAULT:
		p_advance(p);
		return parse_default(p, &col->default_value);
	case TK_COLLATE:
		p_advance(p);
		return p_ids(p, &col->collation);
	case TK_REFERENCES:
		p_advance(p);
		return references(p, &col->references);
	default:
		return p_error_near(p, &p->tok);
	}
}

/* The CHECK list grows one at a time through p_push's doubling, so its
 * capacity is recomputed from n: a power of two >= 4, or n itself. */
static rdb_rc column_def(parser *p, sql_column_def *col)
{
	const char *name;
	rdb_rc rc;

	col->pos = p_pos(p, &p->tok);
	if ((rc = p_name(p, &col->name)) != RDB_OK)
		return rc;
	if (p_is_name(p->tok.type) &&
	    (rc = parse_typename(p, &col->type)) != RDB_OK)
		return rc;
	/* A CONSTRAINT name stays for the column's later constraints until
	 * the next one (SQLite's rule; only CHECK messages show it). */
	name = NULL;
	for (;;) {
		switch (p->tok.type) {
		case TK_CONSTRAINT:
			p_advance(p);
			if ((rc = p_name(p, &name)) != RDB_OK)
				return rc;
			/* fall through */
		case TK_PRIMARY: case TK_NOT: case TK_NULL: case TK_UNIQUE:
		case TK_CHECK: case TK_DEFAULT: case TK_COLLATE:
		case TK_REFERENCES:
			if ((rc = column_constraint(p, col, name)) != RDB_OK)
				return rc;
			break;
		default:
			p_span_end(p, &col->pos);
			return RDB_OK;
		}
	}
}

static rdb_rc table_constraint(parser *p, sql_table_cons *tc)
{
	rdb_rc rc;

	tc->pos = p_pos(p, &p->tok);
	if (p_accept(p, TK_CONSTRAINT) && (rc = p_name(p, &tc->name)) != RDB_OK)
		return rc;
	switch (p->tok.type) {
	case TK_PRIMARY:
		p_advance(p);
		tc->kind = SQL_TC_PRIMARY_KEY;
		if ((rc = p_expect(p, TK_KEY)) != RDB_OK)
			return rc;
		/* fall through */
	case TK_UNIQUE:
		if (p->tok.type == TK_UNIQUE) {
			p_advance(p);
			tc->kind = SQL_TC_UNIQUE;
		}
		if ((rc = parse_indexed_cols(p, &tc->cols, &tc->n_cols)) != RDB_OK)
			return rc;
		return on_conflict(p, &tc->conflict);
	case TK_CHECK:
		p_advance(p);
		tc->kind = SQL_TC_CHECK;
		if ((rc = p_expect(p, TK_LP)) != RDB_OK ||
		    (rc = parse_expr(p, &tc->check)) != RDB_OK)
			return rc;
		return p_expect(p, TK_RP);
	case TK_FOREIGN:
		p_advance(p);
		tc->kind = SQL_TC_FOREIGN_KEY;
		if ((rc = p_expect(p, TK_KEY)) != RDB_OK ||
		    (rc = parse_name_list(p, &tc->fk_cols)) != RDB_OK ||
		    (rc = p_expect(p, TK_REFERENCES)) != RDB_OK)
			return rc;
		return references(p, &tc->fk);
	default:
		return p_error_near(p, &p->tok);
	}
}

/* WITHOUT ROWID or STRICT; at the end of the statement, nothing. */
static rdb_rc table_option(parser *p, sql_create_table *ct)
{
	if (p_accept(p, TK_WITHOUT)) {
		if (p->tok.type != TK_ID || p->tok.len != 5 ||
		    strncasecmp(p->z + p->tok.off, "rowid", 5) != 0)
			return p_error_near(p, &p->tok);
		p_advance(p);
		ct->without_rowid = 1;
	} else if (p->tok.type == TK_ID && p->tok.len == 6 &&
		   strncasecmp(p->z + p->tok.off, "strict", 6) == 0) {
		p_advance(p);
		ct->strict = 1;
	} else if (p->tok.type != TK_SEMI && p->tok.type != TK_EOF) {
		return p_error_near(p, &p->tok);
	} else if (p->prev.type == TK_COMMA) {
		return p_error_near(p, &p->tok);
	}
	return RDB_OK;
}

/* ( columns [, constraints] ) [WITHOUT ROWID] [, STRICT] */
static rdb_rc table_body(parser *p, sql_create_table *ct)
{
	int cap = 0, ccap = 0;
	void *slot = NULL;
	rdb_rc rc;

	p_advance(p);                              /* ( */
	do {
		tk t = p->tok.type;

		/* the first item is a column, as in SQLite's grammar */
		if (ct->n_cols > 0 && (t == TK_CONSTRAINT || t == TK_PRIMARY ||
				       t == TK_UNIQUE || t == TK_CHECK ||
				       t == TK_FOREIGN || ct->n_cons > 0)) {
			rc = p_push(p, (void **)&ct->cons, &ct->n_cons, &ccap,
				    sizeof(*ct->cons), &slot);
			if (rc == RDB_OK)
				rc = table_constraint(p, slot);
		} else {
			rc = p_push(p, (void **)&ct->cols, &ct->n_cols, &cap,
				    sizeof(*ct->cols), &slot);
			if (rc == RDB_OK)
				rc = column_def(p, slot);
		}
		if (rc != RDB_OK)
			return rc;
	} while (p_accept(p, TK_COMMA));
	if ((rc = p_expect(p, TK_RP)) != RDB_OK)
		return rc;
	/* SQLite: [option] (, option)* -- so a leading comma is allowed */
	if (p->tok.type != TK_COMMA && table_option(p, ct) != RDB_OK)
		return p->rc;
	while (p_accept(p, TK_COMMA))
		if (table_option(p, ct) != RDB_OK)
			return p->rc;
	return RDB_OK;
}

static rdb_rc create_table(parser *p, sql_stmt *s, int temp)
{
	sql_create_table *ct = &s->u.create_table;
	rdb_rc rc;

	s->kind = SQL_CREATE_TABLE;
	ct->temp = temp;
	if ((rc = if_not_exists(p, &ct->if_not_exists)) != RDB_OK ||
	    (rc = qualified(p, &ct->schema, &ct->name)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_AS))
		return parse_select(p, &ct->as_select);
	if (p->tok.type != TK_LP)
		return p_error_near(p, &p->tok);
	return table_body(p, ct);
}

static rdb_rc create_index(parser *p, sql_stmt *s, int unique)
{
	sql_create_index *ci = &s->u.create_index;
	rdb_rc rc;

	s->kind = SQL_CREATE_INDEX;
	ci->unique = unique;
	if ((rc = if_not_exists(p, &ci->if_not_exists)) != RDB_OK ||
	    (rc = qualified(p, &ci->schema, &ci->name)) != RDB_OK ||
	    (rc = p_expect(p, TK_ON)) != RDB_OK ||
	    (rc = p_name(p, &ci->table)) != RDB_OK ||
	    (rc = parse_indexed_cols(p, &ci->cols, &ci->n_cols)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_WHERE))
		return parse_expr(p, &ci->where);
	return RDB_OK;
}

static rdb_rc create_view(parser *p, sql_stmt *s, int temp)
{
	sql_create_view *cv = &s->u.create_view;
	rdb_rc rc;

	s->kind = SQL_CREATE_VIEW;
	cv->temp = temp;
	p->no_params = "parameters are not allowed in views";
	if ((rc = if_not_exists(p, &cv->if_not_exists)) != RDB_OK ||
	    (rc = qualified(p, &cv->schema, &cv->name)) != RDB_OK)
		return rc;
	if (p->tok.type == TK_LP &&
	    (rc = parse_name_list(p, &cv->cols)) != RDB_OK)
		return rc;
	if ((rc = p_expect(p, TK_AS)) != RDB_OK)
		return rc;
	return parse_select(p, &cv->select);
}

/* [BEFORE|AFTER|INSTEAD OF] DELETE|INSERT|UPDATE [OF cols] ON t */
static rdb_rc trigger_event(parser *p, sql_create_trigger *tr)
{
	rdb_rc rc;
	int cap = 0;
	const char **slot = NULL;

	tr->time_written = 1;
	if (p_accept(p, TK_AFTER))
		tr->time = SQL_TRIG_AFTER;
	else if (p_accept(p, TK_INSTEAD)) {
		tr->time = SQL_TRIG_INSTEAD_OF;
		if ((rc = p_expect(p, TK_OF)) != RDB_OK)
			return rc;
	} else if (!p_accept(p, TK_BEFORE))
		tr->time_written = 0;
	if (p_accept(p, TK_DELETE)) {
		tr->event = SQL_TRIG_DELETE;
	} else if (p_accept(p, TK_INSERT)) {
		tr->event = SQL_TRIG_INSERT;
	} else if (p_accept(p, TK_UPDATE)) {
		tr->event = SQL_TRIG_UPDATE;
		if (p_accept(p, TK_OF)) {
			do {
				rc = p_push(p, (void **)&tr->update_cols.names,
					    &tr->update_cols.n, &cap,
					    sizeof(*slot), (void **)&slot);
				if (rc == RDB_OK)
					rc = p_name(p, slot);
				if (rc != RDB_OK)
					return rc;
			} while (p_accept(p, TK_COMMA));
		}
	} else {
		return p_error_near(p, &p->tok);
	}
	if ((rc = p_expect(p, TK_ON)) != RDB_OK)
		return rc;
	return p_name(p, &tr->table);
}

/* BEGIN stmt; [stmt; ...] END -- each body statement keeps its own text
 * and positions relative to it. */
static rdb_rc trigger_body(parser *p, sql_create_trigger *tr)
{
	size_t outer_off = p->stmt_off;
	int cap = 0;
	sql_stmt **slot = NULL;
	rdb_rc rc;

	if ((rc = p_expect(p, TK_BEGIN)) != RDB_OK)
		return rc;
	p->in_trigger = 1;
	do {
		tk t = p->tok.type;

		if (t != TK_INSERT && t != TK_REPLACE && t != TK_UPDATE &&
		    t != TK_DELETE && t != TK_SELECT && t != TK_VALUES)
			return p_error_near(p, &p->tok);
		rc = p_push(p, (void **)&tr->body, &tr->n_body, &cap,
			    sizeof(*slot), (void **)&slot);
		if (rc == RDB_OK && (*slot = p_alloc(p, sizeof(**slot))) == NULL)
			rc = p->rc;
		if (rc == RDB_OK)
			rc = parse_stmt_body(p, *slot);
		if (rc == RDB_OK)
			rc = p_expect(p, TK_SEMI);
		if (rc != RDB_OK)
			return rc;
	} while (p->tok.type != TK_END);
	p_advance(p);
	p->in_trigger = 0;
	p->stmt_off = outer_off;
	return RDB_OK;
}

static rdb_rc create_trigger(parser *p, sql_stmt *s, int temp)
{
	sql_create_trigger *tr = &s->u.create_trigger;
	rdb_rc rc;

	s->kind = SQL_CREATE_TRIGGER;
	tr->temp = temp;
	p->no_params = "trigger cannot use variables";
	if ((rc = if_not_exists(p, &tr->if_not_exists)) != RDB_OK ||
	    (rc = qualified(p, &tr->schema, &tr->name)) != RDB_OK ||
	    (rc = trigger_event(p, tr)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_FOR)) {
		if ((rc = p_expect(p, TK_EACH)) != RDB_OK ||
		    (rc = p_expect(p, TK_ROW)) != RDB_OK)
			return rc;
		tr->for_each_row = 1;
	}
	if (p_accept(p, TK_WHEN) && (rc = parse_expr(p, &tr->when)) != RDB_OK)
		return rc;
	return trigger_body(p, tr);
}

static rdb_rc parse_drop(parser *p, sql_stmt *s)
{
	sql_drop *d = &s->u.drop;

	s->kind = SQL_DROP;
	switch (p->tok.type) {
	case TK_TABLE: d->object = SQL_OBJ_TABLE; break;
	case TK_INDEX: d->object = SQL_OBJ_INDEX; break;
	case TK_VIEW: d->object = SQL_OBJ_VIEW; break;
	case TK_TRIGGER: d->object = SQL_OBJ_TRIGGER; break;
	default: return p_error_near(p, &p->tok);
	}
	p_advance(p);
	if (p->tok.type == TK_IF) {
		p_advance(p);
		if (p_expect(p, TK_EXISTS) != RDB_OK)
			return p->rc;
		d->if_exists = 1;
	}
	return qualified(p, &d->schema, &d->name);
}

/* ALTER TABLE [schema.]t RENAME TO n | RENAME [COLUMN] c TO n |
 * ADD [COLUMN] column-def | DROP [COLUMN] c (after ALTER). */
rdb_rc parse_alter(parser *p, sql_stmt *s)
{
	sql_alter *a = &s->u.alter;
	rdb_rc rc;

	s->kind = SQL_ALTER_TABLE;
	if ((rc = p_expect(p, TK_TABLE)) != RDB_OK ||
	    (rc = qualified(p, &a->schema, &a->table)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_ADD)) {
		a->kind = SQL_ALTER_ADD_COLUMN;
		(void)p_accept(p, TK_COLUMN);
		return column_def(p, &a->col);
	}
	if (p_accept(p, TK_DROP)) {
		a->kind = SQL_ALTER_DROP_COLUMN;
		(void)p_accept(p, TK_COLUMN);
		return p_name(p, &a->name);
	}
	if ((rc = p_expect(p, TK_RENAME)) != RDB_OK)
		return rc;
	if (p_accept(p, TK_TO)) {
		a->kind = SQL_ALTER_RENAME;
		return p_name(p, &a->name);
	}
	a->kind = SQL_ALTER_RENAME_COLUMN;
	(void)p_accept(p, TK_COLUMN);
	if ((rc = p_name(p, &a->name)) != RDB_OK ||
	    (rc = p_expect(p, TK_TO)) != RDB_OK)
		return rc;
	return p_name(p, &a->new_name);
}

/* CREATE ... or DROP ... */
rdb_rc parse_create(parser *p, sql_stmt *s)
{
	int temp = 0;

	if (p_accept(p, TK_DROP))
		return parse_drop(p, s);
	p_advance(p);                              /* CREATE */
	if (p_accept(p, TK_TEMP) || p_accept(p, TK_TEMPORARY))
		temp = 1;
	switch (p->tok.type) {
	case TK_TABLE:
		p_advance(p);
		return create_table(p, s, temp);
	case TK_VIEW:
		p_advance(p);
		return create_view(p, s, temp);
	case TK_TRIGGER:
		p_advance(p);
		return create_trigger(p, s, temp);
	case TK_UNIQUE:
	case TK_INDEX:
		if (temp)
			return p_error_near(p, &p->tok);
		if (p_accept(p, TK_UNIQUE)) {
			if (p_expect(p, TK_INDEX) != RDB_OK)
				return p->rc;
			return create_index(p, s, 1);
		}
		p_advance(p);
		return create_index(p, s, 0);
	default:
		return p_error_near(p, &p->tok);
	}
}
