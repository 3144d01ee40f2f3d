/*
 * rename.c -- ALTER TABLE t RENAME TO n: the table's CREATE TABLE text
 * and its CREATE INDEX texts get the new name where they name the table
 * (written in double quotes, as SQLite writes it), and the table layer
 * moves the catalog rows (tbl_rename_table).  SQLite also rewrites views
 * and triggers that name the table; rdb refuses the rename while one
 * does.  Rules: docs/sql.md ("Schema statements").
 */
#include "bind.h"
#include "parse_int.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether token t of z is the name `name` (bare or quoted). */
static int is_name(const char *z, const token *t, const char *name)
{
	const char *s = z + t->off;
	size_t n = t->len, i, k = 0, len = strlen(name);
	char q;

	if (t->type != TK_ID && !(t->type >= TK_FALLBACK_FIRST &&
				   t->type <= TK_FALLBACK_LAST))
		return 0;
	if (n == 0 || (s[0] != '"' && s[0] != '`' && s[0] != '['))
		return n == len && strncasecmp(s, name, n) == 0;
	q = s[0] == '[' ? ']' : s[0];
	for (i = 1; i + 1 < n; i++, k++) {
		if (k >= len || lower(s[i]) != lower(name[k]))
			return 0;
		if (s[i] == q)
			i++;              /* a doubled quote */
	}
	return k == len;
}

/* Whether the text sql names `name` anywhere as a name token. */
static int mentions(const char *sql, const char *name)
{
	lexer lx;
	token t;

	lex_init(&lx, sql, strlen(sql));
	for (lex_next(&lx, &t); t.type != TK_EOF && t.type != TK_ILLEGAL;
	     lex_next(&lx, &t))
		if (is_name(sql, &t, name))
			return 1;
	return 0;
}

/* sql with its first name token after the first `after` tokens replaced
 * by "name"; NULL without memory or if there is no such token. */
static char *replace_name(const char *sql, int after, const char *name)
{
	rdb_buf b = { 0 };
	lexer lx;
	token t;
	int i;

	lex_init(&lx, sql, strlen(sql));
	for (i = 0, lex_next(&lx, &t); i < after && t.type != TK_EOF;
	     i++, lex_next(&lx, &t))
		;
	if (t.type == TK_EOF)
		return NULL;
	if (rdb_buf_append(&b, sql, t.off) || rdb_buf_putc(&b, '"'))
		goto fail;
	for (i = 0; name[i] != '\0'; i++)
		if ((name[i] == '"' && rdb_buf_putc(&b, '"')) ||
		    rdb_buf_putc(&b, name[i]))
			goto fail;
	if (rdb_buf_putc(&b, '"') || rdb_buf_puts(&b, sql + t.off + t.len) ||
	    rdb_buf_terminate(&b))
		goto fail;
	return (char *)rdb_buf_detach(&b);
fail:
	rdb_buf_free(&b);
	return NULL;
}

/* Tokens before the table's name in a stored CREATE INDEX text: those up
 * to and including ON. */
static int before_table(const char *sql)
{
	lexer lx;
	token t;
	int i = 0;

	lex_init(&lx, sql, strlen(sql));
	for (lex_next(&lx, &t); t.type != TK_EOF && t.type != TK_ON;
	     lex_next(&lx, &t))
		i++;
	return i + 1;
}

/* A view or trigger whose text names the table: the rename is refused. */
static rdb_rc refuse_refs(sql_prog *p, tbl_schema *s, const tbl_table *tb)
{
	const tbl_object *o;
	int i;

	for (i = 0; i < tbl_schema_nviews(s); i++)
		if (mentions((o = tbl_schema_view_at(s, i))->sql, tb->name))
			return rdb_err_set(p->cx.err, RDB_ERROR, "cannot rename "
					   "table %s: view %s refers to it "
					   "(drop the view first)", tb->name,
					   o->name);
	for (i = 0; i < tbl_schema_ntriggers(s); i++)
		if (mentions((o = tbl_schema_trigger_at(s, i))->sql, tb->name))
			return rdb_err_set(p->cx.err, RDB_ERROR, "cannot rename "
					   "table %s: trigger %s refers to it "
					   "(drop the trigger first)", tb->name,
					   o->name);
	return RDB_OK;
}

rdb_rc ddl_rename_table(sql_prog *p, tbl_schema *s, const tbl_table *tb)
{
	const char *name = p->ast->u.alter.name;
	char *sql = NULL, **ix = NULL;
	rdb_rc rc;
	int i;

	if ((rc = refuse_refs(p, s, tb)) != RDB_OK)
		return rc;
	/* "CREATE TABLE name": the name is the third token. */
	if ((sql = replace_name(tb->sql, 2, name)) == NULL ||
	    (tb->nidx > 0 &&
	     (ix = rdb_calloc(tb->nidx, sizeof(*ix))) == NULL))
		rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; rc == RDB_OK && i < tb->nidx; i++)
		if (tb->idx[i].sql != NULL &&
		    (ix[i] = replace_name(tb->idx[i].sql,
					  before_table(tb->idx[i].sql),
					  name)) == NULL)
			rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	if (rc == RDB_OK)
		rc = tbl_rename_table(p->t, s, tb->name, name, sql,
				      (const char *const *)ix);
	for (i = 0; ix != NULL && i < tb->nidx; i++)
		rdb_free(ix[i]);
	rdb_free(ix);
	rdb_free(sql);
	return rc;
}
