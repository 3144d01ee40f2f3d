/*
 * objects.c -- views and triggers in the catalog: their rows (a view is a
 * row of rdb_tables of type 'view', a trigger a row of rdb_triggers), how
 * schemas load them, and the lookups.  The text is stored and returned,
 * never parsed.  Design: src/table/README.md ("Views and triggers").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <string.h>
#include <strings.h>
#include "format.h"
#include "mem.h"

#define E(t) pager_txn_err(t)

static tbl_value txt(const char *s)
{
	return (tbl_value){ .cls = TBL_TEXT, .p = s, .n = strlen(s) };
}

static void object_clear(tbl_object *o)
{
	rdb_free(o->name);
	rdb_free(o->table);
	rdb_free(o->sql);
}

void tbl_schema_free_objects(tbl_schema *s)
{
	int i;

	for (i = 0; i < s->nviews; i++)
		object_clear(&s->views[i]);
	for (i = 0; i < s->ntrig; i++)
		object_clear(&s->trig[i]);
	rdb_free(s->views);
	rdb_free(s->trig);
	s->views = s->trig = NULL;
	s->nviews = s->ntrig = 0;
}

/* ---- loading ------------------------------------------------------------ */

static rdb_rc append(pager_txn *t, tbl_object **arr, int *n,
		     const tbl_value *name, const tbl_value *table,
		     const tbl_value *sql)
{
	tbl_object *na, *o;

	if (name->cls != TBL_TEXT || sql->cls != TBL_TEXT ||
	    (table != NULL && table->cls != TBL_TEXT))
		return rdb_err_set(E(t), RDB_CORRUPT, "catalog: bad row of a "
				   "view or trigger");
	na = rdb_realloc(*arr, (size_t)(*n + 1) * sizeof(*na));
	if (na == NULL)
		return tbl_nomem(t);
	*arr = na;
	o = &na[(*n)++];
	memset(o, 0, sizeof(*o));
	o->name = tbl_strndup(name->p, name->n);
	o->sql = tbl_strndup(sql->p, sql->n);
	if (table != NULL)
		o->table = tbl_strndup(table->p, table->n);
	if (!o->name || !o->sql || (table != NULL && !o->table))
		return tbl_nomem(t);
	return RDB_OK;
}

rdb_rc tbl_schema_add_view(pager_txn *t, tbl_schema *s, const tbl_value *r)
{
	return append(t, &s->views, &s->nviews, &r[TB_NAME], NULL,
		      &r[TB_SQL]);
}

rdb_rc tbl_schema_copy_views(pager_txn *t, tbl_schema *dst,
			     const tbl_schema *src)
{
	rdb_rc rc = RDB_OK;
	int i;

	for (i = 0; i < src->nviews && rc == RDB_OK; i++) {
		tbl_value name = txt(src->views[i].name);
		tbl_value sql = txt(src->views[i].sql);

		rc = append(t, &dst->views, &dst->nviews, &name, NULL, &sql);
	}
	return rc;
}

rdb_rc tbl_schema_load_triggers(pager_txn *t, tbl_schema *s)
{
	tbl_cursor *c = NULL;
	const tbl_value *r;
	rdb_rc rc;

	rc = tbl_cursor_open(t, &tbl_sys[SYS_TRIGGERS], NULL, &c);
	while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW) {
		rc = tbl_cursor_row(c, &r);
		if (rc == RDB_OK)
			rc = append(t, &s->trig, &s->ntrig, &r[TR_NAME],
				    &r[TR_TABLE], &r[TR_SQL]);
	}
	tbl_cursor_close(c);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* ---- lookups -------------------------------------------------------------- */

static const tbl_object *find(const tbl_object *a, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (tbl_name_eq(a[i].name, name))
			return &a[i];
	return NULL;
}

const tbl_object *tbl_schema_view(const tbl_schema *s, const char *name)
{
	return find(s->views, s->nviews, name);
}

const tbl_object *tbl_schema_trigger(const tbl_schema *s, const char *name)
{
	return find(s->trig, s->ntrig, name);
}

int tbl_schema_nviews(const tbl_schema *s)
{
	return s->nviews;
}

const tbl_object *tbl_schema_view_at(const tbl_schema *s, int i)
{
	return i >= 0 && i < s->nviews ? &s->views[i] : NULL;
}

int tbl_schema_ntriggers(const tbl_schema *s)
{
	return s->ntrig;
}

const tbl_object *tbl_schema_trigger_at(const tbl_schema *s, int i)
{
	return i >= 0 && i < s->ntrig ? &s->trig[i] : NULL;
}

int tbl_schema_has_triggers(const tbl_schema *s, const char *table)
{
	int i;

	for (i = 0; i < s->ntrig; i++)
		if (tbl_name_eq(s->trig[i].table, table))
			return 1;
	return 0;
}

/* ---- DDL ------------------------------------------------------------------ */

static void view_row(tbl_value r[TB_NCOLS], const char *name,
		     const char *sql)
{
	r[TB_NAME] = txt(name);
	r[TB_TYPE] = txt("view");
	r[TB_ROOT] = (tbl_value){ .cls = TBL_INT, .i = 0 };
	r[TB_SQL] = txt(sql);
	r[TB_ROWS] = (tbl_value){ .cls = TBL_INT, .i = 0 };
}

static rdb_rc put_checked(pager_txn *t, int id, const tbl_value *r)
{
	rdb_buf k = { 0 };
	rdb_rc rc = tbl_sys_key(&k, id, r);

	if (rc == RDB_OK && k.n > kv_max_key(t))
		rc = rdb_err_set(E(t), RDB_TOOBIG, "name too long: '%.40s'",
				 (const char *)r[0].p);
	rdb_buf_free(&k);
	if (rc == RDB_NOMEM)
		return tbl_nomem(t);
	return rc == RDB_OK ? tbl_sys_put(t, id, r) : rc;
}

rdb_rc tbl_create_view(pager_txn *t, const tbl_schema *s, const char *name,
		       const char *sql)
{
	tbl_value r[TB_NCOLS];
	rdb_rc rc;

	assert(t != NULL && sql != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK ||
	    (rc = tbl_check_name(t, s, name, "view", 0)) != RDB_OK)
		return rc;
	view_row(r, name, sql);
	rc = put_checked(t, SYS_TABLES, r);
	return rc == RDB_OK ? tbl_version_bump(t) : rc;
}

rdb_rc tbl_drop_trigger_row(pager_txn *t, const tbl_object *tr)
{
	tbl_value r[TR_NCOLS];

	r[TR_NAME] = txt(tr->name);
	r[TR_TABLE] = txt(tr->table);
	r[TR_SQL] = txt(tr->sql);
	return tbl_sys_del(t, SYS_TRIGGERS, r);
}

rdb_rc tbl_drop_view(pager_txn *t, const tbl_schema *s, const char *name)
{
	const tbl_object *v;
	tbl_value r[TB_NCOLS];
	rdb_rc rc;
	int i;

	assert(t != NULL && name != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if ((v = tbl_schema_view(s, name)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such view: '%s'", name);
	view_row(r, v->name, v->sql);
	rc = tbl_sys_del(t, SYS_TABLES, r);
	for (i = 0; i < s->ntrig && rc == RDB_OK; i++)
		if (tbl_name_eq(s->trig[i].table, v->name))
			rc = tbl_drop_trigger_row(t, &s->trig[i]);
	return rc == RDB_OK ? tbl_version_bump(t) : rc;
}

rdb_rc tbl_create_trigger(pager_txn *t, const tbl_schema *s,
			  const char *name, const char *table,
			  const char *sql)
{
	const tbl_table *tb;
	const tbl_object *v = NULL;
	tbl_value r[TR_NCOLS];
	rdb_rc rc;

	assert(t != NULL && table != NULL && sql != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if (name == NULL || name[0] == '\0' ||
	    strncasecmp(name, "rdb_", 4) == 0)
		return rdb_err_set(E(t), RDB_ERROR, "trigger name is empty or "
				   "reserved for internal use: '%s'",
				   name ? name : "");
	if (tbl_schema_trigger(s, name) != NULL)
		return rdb_err_set(E(t), RDB_ERROR, "there is already a "
				   "trigger named '%s'", name);
	tb = tbl_schema_table(s, table);
	if (tb == NULL && (v = tbl_schema_view(s, table)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such table: '%s'",
				   table);
	if (tb != NULL && tb->system)
		return rdb_err_set(E(t), RDB_ERROR, "cannot create trigger on "
				   "system table '%s'", tb->name);
	r[TR_NAME] = txt(name);
	r[TR_TABLE] = txt(tb != NULL ? tb->name : v->name);
	r[TR_SQL] = txt(sql);
	rc = put_checked(t, SYS_TRIGGERS, r);
	return rc == RDB_OK ? tbl_version_bump(t) : rc;
}

rdb_rc tbl_drop_trigger(pager_txn *t, const tbl_schema *s, const char *name)
{
	const tbl_object *tr;
	rdb_rc rc;

	assert(t != NULL && name != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if ((tr = tbl_schema_trigger(s, name)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such trigger: '%s'",
				   name);
	rc = tbl_drop_trigger_row(t, tr);
	return rc == RDB_OK ? tbl_version_bump(t) : rc;
}
