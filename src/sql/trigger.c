/*
 * trigger.c -- running triggers: the triggers of a statement's target
 * table are compiled with the statement (each body statement a program of
 * its own, NEW and OLD the sources of a frame query that is the parent of
 * the body's queries) and fired per row by dml.c.  Design:
 * src/sql/README.md ("Views and triggers").
 */
#include "bind.h"
#include "select.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

rdb_rc dml_bind_insert(binder *b, sql_prog *p);
rdb_rc dml_bind_update(binder *b, sql_prog *p);
rdb_rc dml_bind_delete(binder *b, sql_prog *p);

/* One compiled trigger. */
typedef struct trig_one {
	sql_stmt *tree;           /* owned: the parsed CREATE TRIGGER */
	const sql_create_trigger *ct;   /* in tree */
	query *frame;             /* in all: NEW and OLD */
	int new_src, old_src;     /* their source numbers, -1 if absent */
	query **all;              /* owned: frame and WHEN's queries */
	int nall;
	sql_prog **body;          /* owned: one program per body statement */
	int nbody;
} trig_one;

struct trig_prog {
	int n;
	trig_one *t;              /* owned */
};

/* The triggers being compiled, innermost first: a trigger never fires
 * itself, directly or through others (SQLite's recursive_triggers off). */
struct trig_active {
	const char *name;
	const trig_active *next;
};

static int is_active(const trig_active *a, const char *name)
{
	for (; a != NULL; a = a->next)
		if (strcasecmp(a->name, name) == 0)
			return 1;
	return 0;
}

static void body_free(sql_prog *sp)
{
	if (sp == NULL)
		return;
	sp->ast = NULL;           /* the tree belongs to the trigger */
	prog_free(sp);
}

void trig_free(trig_prog *tp)
{
	int i, j;

	if (tp == NULL)
		return;
	for (i = 0; i < tp->n; i++) {
		trig_one *t = &tp->t[i];

		for (j = 0; j < t->nbody; j++)
			body_free(t->body[j]);
		rdb_free(t->body);
		query_free_all(t->all, t->nall);
		sql_stmt_free(t->tree);
	}
	rdb_free(tp->t);
	rdb_free(tp);
}

/* ---- compiling ---------------------------------------------------------- */

/* The table or view statement p writes. */
static const char *target_of(const sql_prog *p)
{
	if (p->tb != NULL)
		return p->tb->name;
	switch (p->ast->kind) {
	case SQL_INSERT: return p->ast->u.insert.table;
	case SQL_UPDATE: return p->ast->u.update.table;
	default: return p->ast->u.del.table;
	}
}

/* The name of the column UPDATE p sets in its SET i, or NULL (a rowid, or
 * an unknown column of a view). */
static const char *set_col(const sql_prog *p, int i)
{
	int k = p->ins_map[i];

	if (k < 0)
		return NULL;
	if (p->vq != NULL)
		return p->vq->src[0].colnames[k];
	return k < p->tb->ncols ? p->tb->cols[k].name : NULL;
}

/* Does trigger ct fire for this statement (event, UPDATE OF columns,
 * INSTEAD OF exactly when the target is a view)? */
static int applies(const sql_create_trigger *ct, const sql_prog *p,
		   sql_trigger_event ev)
{
	const char *name;
	int i, j;

	if (ct->event != ev ||
	    (ct->time == SQL_TRIG_INSTEAD_OF) != (p->vq != NULL))
		return 0;
	if (ev != SQL_TRIG_UPDATE || ct->update_cols.n == 0)
		return 1;
	for (i = 0; i < p->nins; i++)
		for (j = 0; j < ct->update_cols.n; j++)
			if ((name = set_col(p, i)) != NULL &&
			    strcasecmp(name, ct->update_cols.names[j]) == 0)
				return 1;
	return 0;
}

/* Frame source k: a row of the target table, or of the view p->vq reads. */
static rdb_rc frame_src(binder *b, query *f, int k, const char *name,
			const sql_prog *p)
{
	qsrc *s = &f->src[k];

	s->name = name;
	s->tb = p->tb;
	if (p->vq != NULL) {
		s->nvals = p->vq->src[0].nvals;
		s->colnames = p->vq->src[0].colnames;
	} else {
		s->nvals = tbl_nvals(p->tb);
	}
	return src_nulls(b, s);
}

/* The frame: a query that is never run, whose sources NEW and OLD hold
 * the row being changed while the trigger runs. */
static rdb_rc make_frame(binder *b, trig_one *t, const sql_prog *p)
{
	sql_trigger_event ev = t->ct->event;
	query *f;
	rdb_rc rc = RDB_OK;
	int k = 0;

	if ((f = t->frame = query_new(b, NULL)) == NULL)
		return RDB_NOMEM;
	if ((f->src = rdb_calloc(2, sizeof(qsrc))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	t->new_src = t->old_src = -1;
	if (ev != SQL_TRIG_DELETE) {
		t->new_src = k;
		rc = frame_src(b, f, k++, "new", p);
		f->nsrc = k;
	}
	if (rc == RDB_OK && ev != SQL_TRIG_INSERT) {
		t->old_src = k;
		rc = frame_src(b, f, k++, "old", p);
		f->nsrc = k;
	}
	return rc;
}

/* Compile one body statement of t into its own program. */
static rdb_rc body_compile(binder *ob, sql_prog *p, trig_one *t,
			   sql_stmt *st, sql_prog **out)
{
	binder b;
	sql_prog *sp;
	rdb_rc rc;

	if ((sp = *out = rdb_calloc(1, sizeof(*sp))) == NULL)
		return rdb_err_set(ob->err, RDB_NOMEM, "out of memory");
	sp->ast = st;
	sp->c = p->c;
	sql_ctx_init(&sp->cx, ob->err, (uint64_t)(uintptr_t)sp);
	sp->cx.max_len = &p->c->max_len;
	if (tbl_ctx_new(&sp->tcx) != RDB_OK)
		return rdb_err_set(ob->err, RDB_NOMEM, "out of memory");
	memset(&b, 0, sizeof(b));
	b.ast = t->tree;
	b.s = ob->s;
	b.err = ob->err;
	b.frame = t->frame;
	b.active = ob->active;
	switch (st->kind) {
	case SQL_SELECT:
		sp->op = OP_SELECT;
		rc = bind_select(&b, st->u.select, t->frame, &sp->q);
		break;
	case SQL_INSERT:
		sp->op = OP_INSERT;
		rc = dml_bind_insert(&b, sp);
		break;
	case SQL_UPDATE:
		sp->op = OP_UPDATE;
		rc = dml_bind_update(&b, sp);
		break;
	default:
		sp->op = OP_DELETE;
		rc = dml_bind_delete(&b, sp);
		break;
	}
	sp->queries = b.all;
	sp->nqueries = b.nall;
	sp->trees = b.trees;
	sp->ntrees = b.ntrees;
	return rc;
}

/* Parse and compile the stored trigger tr into t. */
static rdb_rc compile_one(binder *ob, sql_prog *p, const tbl_object *tr,
			  sql_trigger_event ev, trig_one *t, int *used)
{
	trig_active me = { tr->name, ob->active };
	binder b;
	size_t tail;
	rdb_rc rc;
	int i;

	*used = 0;
	rc = sql_parse(tr->sql, strlen(tr->sql), ob->err, &t->tree, &tail);
	if (rc == RDB_OK && (t->tree == NULL ||
			     t->tree->kind != SQL_CREATE_TRIGGER))
		rc = rdb_err_set(ob->err, RDB_CORRUPT, "malformed trigger "
				 "'%s' in the catalog", tr->name);
	if (rc != RDB_OK)
		return rc;
	t->ct = &t->tree->u.create_trigger;
	if (!applies(t->ct, p, ev))
		return RDB_OK;
	*used = 1;
	memset(&b, 0, sizeof(b));
	b.ast = t->tree;
	b.s = ob->s;
	b.err = ob->err;
	b.active = &me;
	rc = make_frame(&b, t, p);
	if (rc == RDB_OK && t->ct->when != NULL) {
		b.frame = t->frame;
		rc = bind_expr(&b, t->frame, t->ct->when, 0);
	}
	t->all = b.all;
	t->nall = b.nall;
	bind_free_trees(b.trees, b.ntrees);
	if (rc == RDB_OK && (t->body = rdb_calloc((size_t)t->ct->n_body,
						  sizeof(*t->body))) == NULL)
		rc = rdb_err_set(ob->err, RDB_NOMEM, "out of memory");
	b.active = &me;
	for (i = 0; i < t->ct->n_body && rc == RDB_OK; i++) {
		binder inner = b;

		inner.active = &me;
		t->nbody = i + 1;
		rc = body_compile(&inner, p, t, t->ct->body[i], &t->body[i]);
	}
	return rc;
}

rdb_rc trig_compile(binder *b, sql_prog *p, sql_trigger_event ev)
{
	const tbl_object *tr;
	trig_prog *tp;
	rdb_rc rc = RDB_OK;
	int i, used;

	if (!tbl_schema_has_triggers(b->s, target_of(p)))
		return RDB_OK;
	if ((tp = p->trig = rdb_calloc(1, sizeof(*tp))) == NULL ||
	    (tp->t = rdb_calloc((size_t)tbl_schema_ntriggers(b->s),
				sizeof(*tp->t))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < tbl_schema_ntriggers(b->s) && rc == RDB_OK; i++) {
		tr = tbl_schema_trigger_at(b->s, i);
		if (strcasecmp(tr->table, target_of(p)) != 0 ||
		    is_active(b->active, tr->name))
			continue;
		rc = compile_one(b, p, tr, ev, &tp->t[tp->n], &used);
		if (rc != RDB_OK || used) {
			tp->n++;
		} else {
			sql_stmt_free(tp->t[tp->n].tree);
			memset(&tp->t[tp->n], 0, sizeof(tp->t[tp->n]));
		}
	}
	return rc;
}

int trig_suppressed(binder *b, const sql_prog *p, sql_trigger_event ev)
{
	const trig_active *a;
	const tbl_object *tr;
	sql_stmt *tree;
	size_t tail;
	int hit = 0;

	for (a = b->active; a != NULL && !hit; a = a->next) {
		tr = tbl_schema_trigger(b->s, a->name);
		if (tr == NULL || strcasecmp(tr->table, target_of(p)) != 0 ||
		    sql_parse(tr->sql, strlen(tr->sql), b->err, &tree,
			      &tail) != RDB_OK)
			continue;
		hit = tree != NULL && tree->kind == SQL_CREATE_TRIGGER &&
		      applies(&tree->u.create_trigger, p, ev);
		sql_stmt_free(tree);
	}
	rdb_err_clear(b->err);
	return hit;
}

/* ---- firing --------------------------------------------------------------- */

/* Run body statement sp to its end.  Its rows count in total_changes (as
 * SQLite's, even if the firing statement fails later), not in changes. */
static rdb_rc run_body(sql_prog *p, sql_prog *sp)
{
	rdb_rc rc = prog_start(sp, p->t, NULL, 0);

	if (rc == RDB_OK && sp->op == OP_SELECT) {
		while ((rc = query_next(sp, sp->q)) == RDB_ROW)
			;
		if (rc == RDB_DONE)
			rc = RDB_OK;
	}
	if (rc == RDB_OK && sp->op != OP_SELECT)
		p->c->total_changes += sp->changes;
	prog_stop(sp);
	return rc;
}

/* Run trigger t for the current row; *ignore on RAISE(IGNORE). */
static rdb_rc fire_one(sql_prog *p, trig_one *t, int *ignore)
{
	int i, truth = 1;
	rdb_rc rc = RDB_OK;

	if (t->ct->when != NULL) {
		p->raise_ignore = 0;
		rc = eval_truth(p, t->frame, t->ct->when, &truth);
		if (rc != RDB_OK && p->raise_ignore)
			*ignore = 1;
		if (rc != RDB_OK || truth != 1)
			return *ignore ? RDB_OK : rc;
	}
	for (i = 0; i < t->nbody && rc == RDB_OK; i++) {
		t->body[i]->raise_ignore = 0;
		rc = run_body(p, t->body[i]);
		if (rc != RDB_OK && t->body[i]->raise_ignore) {
			*ignore = 1;
			return RDB_OK;
		}
	}
	return rc;
}

rdb_rc trig_fire(sql_prog *p, int time, const tbl_value *nrow,
		 const tbl_value *orow, int *ignore)
{
	trig_prog *tp = p->trig;
	int64_t rowid;
	rdb_rc rc = RDB_OK;
	int i;

	*ignore = 0;
	if (tp == NULL)
		return RDB_OK;
	rowid = p->c->last_rowid;
	for (i = 0; i < tp->n && rc == RDB_OK && !*ignore; i++) {
		trig_one *t = &tp->t[i];

		if ((int)t->ct->time != time)
			continue;
		if (t->new_src >= 0)
			t->frame->src[t->new_src].row = nrow;
		if (t->old_src >= 0)
			t->frame->src[t->old_src].row = orow;
		rc = fire_one(p, t, ignore);
	}
	p->c->last_rowid = rowid;   /* as SQLite: back to the outer value */
	return rc;
}

int trig_any(const sql_prog *p)
{
	return p->trig != NULL && p->trig->n > 0;
}

/* ---- RAISE ---------------------------------------------------------------- */

rdb_rc trig_raise(sql_prog *p, const sql_expr *e)
{
	if (e->u.raise.kind == SQL_RAISE_IGNORE) {
		p->raise_ignore = 1;
		return rdb_err_set(p->cx.err, RDB_ERROR, "RAISE(IGNORE)");
	}
	/* prep.c ends the statement (FAIL) or the transaction (ROLLBACK)
	 * as SQLite does; ABORT is the ordinary failure. */
	p->c->raise_end = e->u.raise.kind == SQL_RAISE_FAIL ? 1
			: e->u.raise.kind == SQL_RAISE_ROLLBACK ? 2 : 0;
	return rdb_err_set(p->cx.err, RDB_CONSTRAINT, "%s",
			   e->u.raise.msg != NULL ? e->u.raise.msg : "");
}
