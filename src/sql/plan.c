/*
 * plan.c -- the planner: places each WHERE conjunct at the first join
 * level where its columns are known, chooses per table an access path
 * (a SEARCH on a prefix of the primary key or of an index with equality,
 * IN and range bounds, else a SCAN), and decides whether ORDER BY needs a
 * sort.  Design: src/sql/README.md ("Binding and planning").
 */
#include "bind.h"
#include <string.h>

/* ---- which sources an expression uses ------------------------------------- */

#define ALL_SOURCES (~(uint64_t)0)

static uint64_t expr_mask(const sql_expr *e);

static uint64_t list_mask(const sql_expr_list *l)
{
	uint64_t m = 0;
	int i;

	for (i = 0; i < l->n; i++)
		m |= expr_mask(l->items[i]);
	return m;
}

/* Bits of the sources of this query that e reads (a correlated subquery:
 * the ones it or its own subqueries read; none if it reads only queries
 * further out, whose rows stay put while this one runs). */
static uint64_t expr_mask(const sql_expr *e)
{
	const xinfo *x;
	uint64_t m = 0;

	if (e == NULL)
		return 0;
	x = xi(e);
	if (x != NULL && x->kind == XK_COL)
		return x->up == 0 ? (uint64_t)1 << (x->src & 63) : 0;
	if (x != NULL && x->kind == XK_ALIAS)
		return expr_mask(x->target);
	if (x != NULL && x->kind == XK_SUBQ && x->correlated)
		m = x->sub->parent_use;
	m |= expr_mask(e->left) | expr_mask(e->right) | list_mask(&e->list);
	if (e->op == SQL_E_BETWEEN)
		m |= expr_mask(e->u.between.lo) | expr_mask(e->u.between.hi);
	if (e->op == SQL_E_LIKE && e->u.like.escape != NULL)
		m |= expr_mask(e->u.like.escape);
	return m;
}

static rdb_rc add_filter(binder *b, qsrc *s, sql_expr *e)
{
	sql_expr **a;

	if ((a = bind_alloc(b, (size_t)(s->nfilt + 1) * sizeof(*a))) == NULL)
		return RDB_NOMEM;
	if (s->nfilt > 0)
		memcpy(a, s->filt, (size_t)s->nfilt * sizeof(*a));
	a[s->nfilt++] = e;
	s->filt = a;
	return RDB_OK;
}

/* ---- usable terms ------------------------------------------------------------ */

typedef struct term {
	int slot;                 /* the column of source k */
	sql_op op;                /* EQ, LT, LE, GT, GE, or IN_LIST */
	sql_expr *val;            /* the other side (IN: the IN node) */
	sql_aff aff;              /* applied to the value before seeking */
	int conj;                 /* its conjunct in the source's filters;
				     -1: an ON term, or a conjunct that
				     must stay */
} term;

/* The slot of e if it is a plain column of source k of this query. */
static int col_of(const sql_expr *e, int k)
{
	const xinfo *x = xi(e);

	if (x != NULL && x->kind == XK_ALIAS)
		return col_of(x->target, k);
	if (e->op != SQL_E_COLUMN || x == NULL || x->kind != XK_COL ||
	    x->up != 0 || x->src != k)
		return -1;
	return x->slot;
}

/* May a comparison with affinity caff seek in a column of type ty?  The
 * seek compares encoded values, so it must agree with the comparison. */
static int aff_ok(const qsrc *s, int slot, sql_aff caff)
{
	tbl_type ty = slot < s->tb->ncols ? s->tb->cols[slot].type
					  : TBL_TY_INTEGER;

	switch (ty) {
	case TBL_TY_INTEGER: case TBL_TY_REAL: case TBL_TY_BOOLEAN:
	case TBL_TY_BLOB:
		return 1;
	case TBL_TY_TEXT:
		return caff == SQL_AFF_TEXT || caff == SQL_AFF_NONE ||
		       caff == SQL_AFF_BLOB;
	default:
		return caff == SQL_AFF_NONE || caff == SQL_AFF_BLOB;
	}
}

static sql_op flip(sql_op op)
{
	switch (op) {
	case SQL_E_LT: return SQL_E_GT;
	case SQL_E_LE: return SQL_E_GE;
	case SQL_E_GT: return SQL_E_LT;
	case SQL_E_GE: return SQL_E_LE;
	default: return op;
	}
}

static int make_term(const qsrc *s, uint64_t before, int slot, sql_op op,
		     sql_expr *col, sql_expr *val, term *t)
{
	if (slot < 0 || (expr_mask(val) & ~before) != 0)
		return 0;
	t->slot = slot;
	t->op = op;
	t->val = val;
	t->aff = sql_aff_compare(expr_aff(col), expr_aff(val));
	return aff_ok(s, slot, t->aff);
}

/* Turn conjunct e into up to two terms usable by source k when the
 * sources in `before` have rows. */
static int terms_of(const qsrc *s, int k, uint64_t before, sql_expr *e,
		    term out[2])
{
	int n = 0, slot;

	switch (e->op) {
	case SQL_E_EQ: case SQL_E_LT: case SQL_E_LE: case SQL_E_GT:
	case SQL_E_GE:
		if (make_term(s, before, col_of(e->left, k), e->op, e->left,
			      e->right, &out[0]))
			return 1;
		return make_term(s, before, col_of(e->right, k), flip(e->op),
				 e->right, e->left, &out[0]);
	case SQL_E_BETWEEN:
		if (e->flags & SQL_EF_NOT)
			return 0;
		slot = col_of(e->left, k);
		n += make_term(s, before, slot, SQL_E_GE, e->left,
			       e->u.between.lo, &out[n]);
		n += make_term(s, before, slot, SQL_E_LE, e->left,
			       e->u.between.hi, &out[n]);
		return n;
	case SQL_E_IN_LIST:
		if ((e->flags & SQL_EF_NOT) || e->list.n == 0)
			return 0;
		slot = col_of(e->left, k);
		if (slot < 0 || (list_mask(&e->list) & ~before) != 0)
			return 0;
		out[0].slot = slot;
		out[0].op = SQL_E_IN_LIST;
		out[0].val = e;
		/* "x IN (list)": the list takes x's affinity. */
		out[0].aff = expr_aff(e->left);
		return aff_ok(s, slot, out[0].aff);
	default:
		return 0;
	}
}

/* ---- choosing a key ---------------------------------------------------------- */

typedef struct cand {
	const tbl_index *ix;
	int nkey;
	int slot[2 * TBL_MAX_KEY_COLS];
	uint8_t desc[2 * TBL_MAX_KEY_COLS];
	int unique_cols;          /* leading columns that are unique */
} cand;

/* The key of the table (ix NULL) or of an index (its columns, then the
 * table's key). */
static void cand_of(const tbl_table *tb, const tbl_index *ix, cand *c)
{
	int i;

	c->ix = ix;
	c->nkey = 0;
	if (ix != NULL) {
		for (i = 0; i < ix->ncols; i++) {
			c->slot[c->nkey] = ix->cols[i];
			c->desc[c->nkey++] = ix->desc[i];
		}
	}
	if (tb->npk == 0) {
		c->slot[c->nkey] = tb->ncols;
		c->desc[c->nkey++] = 0;
	}
	for (i = 0; i < tb->npk; i++) {
		c->slot[c->nkey] = tb->pk[i];
		c->desc[c->nkey++] = tb->cols[tb->pk[i]].pk_desc;
	}
	c->unique_cols = ix != NULL ? (ix->unique ? ix->ncols : c->nkey)
				    : c->nkey;
}

typedef struct choice {
	int score;
	int neq;
	term *eq[TBL_MAX_KEY_COLS];
	term *in, *lo, *hi;
} choice;

static term *find_term(term *t, int n, int slot, int eq_only)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].slot == slot && (t[i].op == SQL_E_EQ || !eq_only))
			return &t[i];
	return NULL;
}

static void score(const cand *c, term *t, int n, choice *ch)
{
	int i;

	memset(ch, 0, sizeof(*ch));
	while (ch->neq < c->nkey && ch->neq < TBL_MAX_KEY_COLS &&
	       (ch->eq[ch->neq] = find_term(t, n, c->slot[ch->neq], 1)))
		ch->neq++;
	ch->score = ch->neq * 10;
	if (ch->neq >= c->unique_cols) {
		ch->score += 100;
		return;
	}
	for (i = 0; i < n && ch->neq < c->nkey; i++) {
		if (t[i].slot != c->slot[ch->neq])
			continue;
		if (t[i].op == SQL_E_IN_LIST && ch->in == NULL)
			ch->in = &t[i];
		else if ((t[i].op == SQL_E_GT || t[i].op == SQL_E_GE) &&
			 ch->lo == NULL)
			ch->lo = &t[i];
		else if ((t[i].op == SQL_E_LT || t[i].op == SQL_E_LE) &&
			 ch->hi == NULL)
			ch->hi = &t[i];
	}
	if (ch->in != NULL) {
		ch->lo = ch->hi = NULL;
		ch->score += 8;
	}
	ch->score += (ch->lo != NULL ? 3 : 0) + (ch->hi != NULL ? 3 : 0);
}

static void apply_choice(qsrc *s, const cand *c, const choice *ch)
{
	int i;

	s->ix = c->ix;
	s->nkey = c->nkey;
	memcpy(s->key_slot, c->slot, sizeof(c->slot));
	memcpy(s->key_desc, c->desc, sizeof(c->desc));
	s->acc = ch->score > 0 ? ACC_RANGE : ACC_SCAN;
	s->neq = ch->neq;
	for (i = 0; i < ch->neq; i++) {
		s->eq[i] = ch->eq[i]->val;
		s->eq_aff[i] = ch->eq[i]->aff;
	}
	s->in = ch->in != NULL ? ch->in->val : NULL;
	s->in_aff = ch->in != NULL ? ch->in->aff : SQL_AFF_NONE;
	s->lo = ch->lo != NULL ? ch->lo->val : NULL;
	s->lo_aff = ch->lo != NULL ? ch->lo->aff : SQL_AFF_NONE;
	s->lo_incl = ch->lo != NULL && ch->lo->op == SQL_E_GE;
	s->hi = ch->hi != NULL ? ch->hi->val : NULL;
	s->hi_aff = ch->hi != NULL ? ch->hi->aff : SQL_AFF_NONE;
	s->hi_incl = ch->hi != NULL && ch->hi->op == SQL_E_LE;
}

/* Is term t one of the bounds of choice ch? */
static int term_used(const choice *ch, const term *t)
{
	return t == ch->lo || t == ch->hi || (ch->neq > 0 && t == ch->eq[0]);
}

/*
 * Drop the conjuncts that the seek decides exactly, so that they are not
 * evaluated again on every row (SQLite's disableTerm): those all of whose
 * terms are the equality or range bounds on a rowid-like key (the hidden
 * rowid or an INTEGER PRIMARY KEY).  Such a key is never NULL and orders
 * its integers against a bound of any class as the comparison does, and
 * a NULL bound reads nothing, so the cursor's range holds exactly the
 * rows that pass.  Only for the outermost source (bounds of constants
 * and parameters; nothing is hashed there).
 */
static void drop_decided(qsrc *s, const cand *c, const choice *ch,
			 const term *t, int n)
{
	int i, j, k, terms, used;

	if (c->ix != NULL || c->nkey != 1 || ch->in != NULL ||
	    (s->tb->npk != 0 && !s->tb->ipk))
		return;
	for (i = k = 0; i < s->nfilt; i++) {
		for (j = terms = used = 0; j < n; j++)
			if (t[j].conj == i) {
				terms++;
				used += term_used(ch, &t[j]);
			}
		if (terms == 0 || used < terms)
			s->filt[k++] = s->filt[i];
	}
	s->nfilt = k;
}

/* Pick the best key of source k from its filters (and ON terms), the
 * sources in `before` having rows. */
static rdb_rc choose_access(binder *b, query *q, int k, uint64_t before)
{
	qsrc *s = &q->src[k];
	term *t;
	int i, j, c_of, n = 0, cap = 2 * (s->nfilt + s->non) + 1;
	cand c, best_c;
	choice ch, best;

	if (s->tb == NULL)
		return RDB_OK;
	if ((t = bind_alloc(b, (size_t)cap * sizeof(*t))) == NULL)
		return RDB_NOMEM;
	for (i = 0; i < s->nfilt; i++) {
		j = terms_of(s, k, before, s->filt[i], &t[n]);
		/* A BETWEEN with one usable bound is not decided by it. */
		c_of = j == 1 && s->filt[i]->op == SQL_E_BETWEEN ? -1 : i;
		while (j-- > 0)
			t[n++].conj = c_of;
	}
	for (i = 0; i < s->non; i++)
		for (j = terms_of(s, k, before, s->on[i], &t[n]); j > 0; j--)
			t[n++].conj = -1;
	cand_of(s->tb, NULL, &best_c);
	score(&best_c, t, n, &best);
	for (i = 0; i < s->tb->nidx; i++) {
		cand_of(s->tb, &s->tb->idx[i], &c);
		score(&c, t, n, &ch);
		if (ch.score > best.score) {
			best = ch;
			best_c = c;
		}
	}
	apply_choice(s, &best_c, &best);
	if (before == 0)
		drop_decided(s, &best_c, &best, t, n);
	return RDB_OK;
}

/* ---- hash joins ---------------------------------------------------------------- */

/* Does e read nothing but this query's rows and give the same value for
 * the same rows (no enclosing query's columns, no correlated subquery,
 * no random function, no current time)? */
static int row_local(const sql_expr *e)
{
	const xinfo *x;
	int i;

	if (e == NULL)
		return 1;
	x = xi(e);
	if (x != NULL && x->kind == XK_ALIAS)
		return row_local(x->target);
	if (x != NULL && ((x->kind == XK_COL && x->up != 0) ||
			  x->kind == XK_AGG ||
			  (x->kind == XK_SUBQ && x->correlated) ||
			  (x->kind == XK_FUNC &&
			   !(x->fn->flags & SQL_FUNC_DETERMINISTIC))))
		return 0;
	if (e->op == SQL_E_CTIME || !row_local(e->left) ||
	    !row_local(e->right))
		return 0;
	for (i = 0; i < e->list.n; i++)
		if (!row_local(e->list.items[i]))
			return 0;
	if (e->op == SQL_E_BETWEEN)
		return row_local(e->u.between.lo) &&
		       row_local(e->u.between.hi);
	return e->op != SQL_E_LIKE || row_local(e->u.like.escape);
}

/* If e is "column of k = value of the sources in before", add it to the
 * hash keys of source k and say so. */
static int hash_key(qsrc *s, int k, uint64_t before, sql_expr *e)
{
	sql_expr *col = e->left, *val = e->right;
	int slot;

	if (e->op != SQL_E_EQ || s->nhash >= HJ_MAX_COLS)
		return 0;
	if ((slot = col_of(col, k)) < 0) {
		col = e->right;
		val = e->left;
		slot = col_of(col, k);
	}
	/* A COLLATE on the value would make "=" depend on the collation;
	 * keep the nested loop for it (docs/sql.md, "Joins"). */
	if (slot < 0 || val->op == SQL_E_COLLATE ||
	    (expr_mask(val) & ~before) != 0 ||
	    ((expr_mask(val) >> (k & 63)) & 1))
		return 0;
	s->hash_slot[s->nhash] = slot;
	s->hash_val[s->nhash] = val;
	s->hash_aff[s->nhash++] = sql_aff_compare(expr_aff(col),
						   expr_aff(val));
	return 1;
}

/* Split conjuncts c[0..n) of source k into hash keys (when keys_ok),
 * filters checked while building (when build_ok) and the rest, which
 * stay to be checked per probe hit (*rest, *nrest). */
static rdb_rc hash_split(binder *b, qsrc *s, int k, uint64_t before,
			 sql_expr **c, int n, int keys_ok, int build_ok,
			 sql_expr ***rest, int *nrest)
{
	uint64_t bit = (uint64_t)1 << (k & 63);
	sql_expr **r, **bf;
	int i;

	r = bind_alloc(b, (size_t)(n + 1) * sizeof(*r));
	bf = bind_alloc(b, (size_t)(s->nhbuild + n + 1) * sizeof(*bf));
	if (r == NULL || bf == NULL)
		return RDB_NOMEM;
	if (s->nhbuild > 0)
		memcpy(bf, s->hbuild, (size_t)s->nhbuild * sizeof(*bf));
	s->hbuild = bf;
	*nrest = 0;
	for (i = 0; i < n; i++) {
		if (keys_ok && hash_key(s, k, before, c[i]))
			continue;
		if (build_ok && expr_mask(c[i]) == bit && row_local(c[i]))
			s->hbuild[s->nhbuild++] = c[i];
		else
			r[(*nrest)++] = c[i];
	}
	*rest = r;
	return RDB_OK;
}

/* Plan a hash join for source k, read at a level > 0 by a SCAN (or from
 * an uncorrelated FROM subquery), if one of its conjuncts is an equality
 * with earlier sources.  For a LEFT JOIN only its ON conjuncts may serve
 * (keys and build filters): a row failing the WHERE still counts as a
 * match there. */
static rdb_rc hash_plan(binder *b, query *q, int k, uint64_t before)
{
	qsrc *s = &q->src[k];
	rdb_rc rc;

	if ((s->acc == ACC_RANGE && !s->hash_force) ||
	    (s->acc == ACC_ROWS && s->sub->correlated))
		return RDB_OK;
	s->nhash = s->nhbuild = 0;
	if ((rc = hash_split(b, s, k, before, s->on, s->non, 1, 1, &s->hon,
			     &s->nhon)) != RDB_OK ||
	    (rc = hash_split(b, s, k, before, s->filt, s->nfilt, !s->left,
			     !s->left, &s->hfilt, &s->nhfilt)) != RDB_OK)
		return rc;
	if (s->nhash == 0)
		s->nhbuild = 0;
	return RDB_OK;
}

/* ---- placing conjuncts --------------------------------------------------------- */

/* The join level of the latest source in mask m. */
static int level_of(const query *q, const int *pos, uint64_t m)
{
	int i, lvl = 0;

	if (m == ALL_SOURCES)
		return q->nsrc - 1;
	for (i = 0; i < q->nsrc && i < 64; i++)
		if ((m >> i) & 1)
			lvl = pos[i] > lvl ? pos[i] : lvl;
	return lvl;
}

static rdb_rc place(binder *b, query *q, const int *pos, sql_expr *e)
{
	uint64_t m = expr_mask(e);

	if (m == 0 || q->nsrc == 0) {
		sql_expr **a = bind_alloc(b, (size_t)(q->nwhere_const + 1) *
					     sizeof(*a));

		if (a == NULL)
			return RDB_NOMEM;
		if (q->nwhere_const > 0)
			memcpy(a, q->where_const,
			       (size_t)q->nwhere_const * sizeof(*a));
		a[q->nwhere_const++] = e;
		q->where_const = a;
		return RDB_OK;
	}
	return add_filter(b, &q->src[q->jorder[level_of(q, pos, m)]], e);
}

/* How well source k can be read once the sources in `before` have rows:
 * its best key's score, else 1 if a conjunct links it to them. */
static int join_score(binder *b, query *q, int k, uint64_t before,
		      sql_expr **conj, int n)
{
	qsrc *s = &q->src[k];
	uint64_t bit = (uint64_t)1 << k, m;
	term t[2];
	cand c;
	choice ch;
	int i, j, nt = 0, linked = 0, best = 0;
	term *all;

	if (s->tb == NULL)
		return 0;
	if ((all = bind_alloc(b, (size_t)(2 * n + 1) * sizeof(*all))) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		m = expr_mask(conj[i]);
		if (!(m & bit) || m == ALL_SOURCES || (m & ~(before | bit)))
			continue;
		linked = 1;
		j = terms_of(s, k, before, conj[i], t);
		memcpy(&all[nt], t, (size_t)j * sizeof(*t));
		nt += j;
	}
	for (i = -1; i < s->tb->nidx; i++) {
		cand_of(s->tb, i < 0 ? NULL : &s->tb->idx[i], &c);
		score(&c, all, nt, &ch);
		best = ch.score > best ? ch.score : best;
	}
	return best > 0 ? best + 1 : linked;
}

/* May source k be read once the sources in `before` have rows?  The
 * right side of a LEFT JOIN comes after every source to its left in FROM
 * (its NULL row is decided per row of those); any other source may go
 * anywhere, before or after a LEFT JOIN (its conjuncts are placed where
 * their columns are known, after the NULL row of a LEFT JOIN they read). */
static int may_read(const query *q, int k, uint64_t before)
{
	uint64_t left_of = ((uint64_t)1 << (k & 63)) - 1;

	return !q->src[k].left || (before & left_of) == left_of;
}

/* Would reading source k now put it before the right side of a LEFT
 * JOIN that comes before it in FROM?  Only a source read through a key
 * or index may go there: a scan moved out of the way would run that
 * LEFT JOIN (and its ON, perhaps a subquery) once per row it lets
 * through, where SQLite, weighing row counts, keeps it inside (sqldiff:
 * 34 s against SQLite's 0.02 s). */
static int passes_left(const query *q, int k, uint64_t before)
{
	int j;

	for (j = 0; j < k; j++)
		if (q->src[j].left && !((before >> j) & 1))
			return 1;
	return 0;
}

/* Choose the join order greedily: at each level the source that can be
 * read best given the sources before it (a key lookup beats a linked
 * scan beats a cross product) among those may_read() and passes_left()
 * allow; FROM order breaks ties.  With a subquery or view in FROM the
 * FROM order is kept. */
static rdb_rc join_order(binder *b, query *q, sql_expr **conj, int n,
			 int *pos)
{
	uint64_t before = 0;
	int lvl, k, best, bs, sc, keep = 0;

	if ((q->jorder = bind_alloc(b, (size_t)(q->nsrc + 1) * sizeof(int))) ==
	    NULL)
		return RDB_NOMEM;
	for (k = 0; k < q->nsrc; k++)
		keep |= q->src[k].tb == NULL;
	for (lvl = 0; lvl < q->nsrc; lvl++) {
		best = -1;
		bs = -1;
		for (k = 0; k < q->nsrc; k++) {
			if (((before >> k) & 1) || !may_read(q, k, before))
				continue;
			if (keep) {
				best = k;
				break;
			}
			sc = join_score(b, q, k, before, conj, n);
			if (sc <= 1 && passes_left(q, k, before))
				continue;
			if (sc > bs) {
				bs = sc;
				best = k;
			}
		}
		q->jorder[lvl] = best;
		pos[best] = lvl;
		before |= (uint64_t)1 << best;
	}
	return RDB_OK;
}

/* ---- grouping through a hash table -------------------------------------------- *
 * "SELECT u.id, sum(o.amount) FROM u JOIN o ON o.uid = u.id GROUP BY
 * u.id": read by u's key, each u row takes an index seek in o and, per
 * matching o row, a lookup of the row at a random place in o.  When u is
 * grouped by its own key and joined on it, each u row is a group: the
 * other plan scans o in order, finds each o row's u row in a hash table
 * built on u's key, and sums into that u row; the u rows come out in the
 * order they were read, by key, which is the groups' order.  It is
 * chosen when the row estimates say it reads less (docs/sql.md,
 * "Joins"). */

#define HG_SETUP 16.0             /* a hash table's set-up, in rows read */
#define HG_BUILD 2.0              /* entering a row, in rows read */
#define HG_FILTER 0.25            /* rows a filter conjunct lets through */
#define HG_ENTRY 96               /* bytes per entry besides its values:
				     hash, chains, text (a guess) */

/* Binary search steps over n rows: the cost of a seek in rows read. */
static double steps(uint64_t n)
{
	double d = 1;

	while (n > 1) {
		n >>= 1;
		d++;
	}
	return d;
}

static double est_rows(const qsrc *s)
{
	return s->tb->rows > 0 ? (double)s->tb->rows : 1.0;
}

/* Does e read no column of source k but inside aggregates (the rows of
 * a group agree on everything else)? */
static int bare_free_of(const sql_expr *e, int k)
{
	const xinfo *x;
	int i;

	if (e == NULL)
		return 1;
	x = xi(e);
	if (x != NULL && (x->kind == XK_AGG || x->kind == XK_OUTCOL))
		return 1;
	if (x != NULL && x->kind == XK_ALIAS)
		return bare_free_of(x->target, k);
	if (x != NULL && x->kind == XK_COL)
		return x->up != 0 || x->src != k;
	if (x != NULL && x->kind == XK_SUBQ && x->correlated)
		return 0;
	if (!bare_free_of(e->left, k) || !bare_free_of(e->right, k))
		return 0;
	for (i = 0; i < e->list.n; i++)
		if (!bare_free_of(e->list.items[i], k))
			return 0;
	if (e->op == SQL_E_BETWEEN)
		return bare_free_of(e->u.between.lo, k) &&
		       bare_free_of(e->u.between.hi, k);
	return e->op != SQL_E_LIKE || bare_free_of(e->u.like.escape, k);
}

/* Are the GROUP BY terms the columns of source g's table key, in its
 * order and ascending, maybe followed by other columns of g? */
static int groups_by_key(const query *q, int g, cand *c)
{
	int i, slot;

	cand_of(q->src[g].tb, NULL, c);
	if (q->ngroup < c->nkey)
		return 0;
	for (i = 0; i < q->ngroup; i++) {
		if ((slot = col_of(q->group[i], g)) < 0)
			return 0;
		if (i < c->nkey && (c->slot[i] != slot || c->desc[i]))
			return 0;
	}
	return 1;
}

/* Is every column of c equal, by a conjunct, to a value of source k
 * alone (a hash key of g once k has rows; hash_key())? */
static int key_joined(const query *q, int g, int k, const cand *c,
		      sql_expr **conj, int n)
{
	uint64_t kb = (uint64_t)1 << k, gb = (uint64_t)1 << g;
	term t[2];
	int i, j, found;

	for (i = 0; i < c->nkey; i++) {
		for (j = found = 0; j < n && !found; j++)
			found = expr_mask(conj[j]) == (kb | gb) &&
				conj[j]->op == SQL_E_EQ &&
				terms_of(&q->src[g], g, kb, conj[j], t) == 1 &&
				t[0].slot == c->slot[i] &&
				t[0].val->op != SQL_E_COLLATE &&
				expr_mask(t[0].val) == kb;
		if (!found)
			return 0;
	}
	return 1;
}

/* Rows read by the two-level plan that place_all() made: the outer
 * source's rows, then per outer row a seek and, per row found through an
 * index that does not hold every column the query reads, a lookup of
 * the row by its key.  A negative answer: not a keyed nested loop. */
static double nested_cost(const query *q)
{
	const qsrc *o = &q->src[q->jorder[0]], *in = &q->src[q->jorder[1]];
	double outer = est_rows(o), nin = est_rows(in), fan, look = 0, pass;
	uint64_t have = 0;
	int i;

	if (in->acc != ACC_RANGE || in->neq == 0 || in->nhash > 0)
		return -1;
	if (o->acc == ACC_RANGE && o->neq >= o->nkey)
		outer = 1;
	else if (o->acc == ACC_RANGE)
		outer *= o->neq > 0 ? HG_FILTER * HG_FILTER : HG_FILTER;
	for (i = 0, pass = outer; i < o->nfilt; i++)
		pass *= HG_FILTER;
	fan = nin / est_rows(o);
	if (fan < 1 || (in->ix == NULL ? in->neq >= in->nkey
		        : in->ix->unique && in->neq >= in->ix->ncols))
		fan = 1;          /* at most one row per seek */
	for (i = 0; i < in->nkey && in->key_slot[i] < 63; i++)
		have |= (uint64_t)1 << in->key_slot[i];
	if (in->ix != NULL && (in->used & ~have) != 0)
		look = steps(in->tb->rows);
	return outer + pass * (steps(in->tb->rows) + fan * (1 + look));
}

/* The source to group through a hash table (jorder[1] of the new plan),
 * or -1: keep the plan place_all() made. */
static int hash_group_better(binder *b, query *q, sql_expr **conj, int n)
{
	int g, k, i;
	double nested, hashed, bytes;
	cand c;

	if (!q->agg || q->ngroup == 0 || q->nsrc != 2 || q->nterms > 1 ||
	    q->nvalues > 0 || q->correlated || b->hj_budget == 0 ||
	    q->src[0].tb == NULL || q->src[1].tb == NULL ||
	    q->src[0].left || q->src[1].left ||
	    (nested = nested_cost(q)) < 0)
		return -1;
	for (g = 0; g < 2; g++) {
		k = 1 - g;
		if (!groups_by_key(q, g, &c) || !key_joined(q, g, k, &c, conj, n))
			continue;
		for (i = 0; i < q->nout && bare_free_of(q->out[i], k); i++)
			;
		if (i < q->nout || !bare_free_of(q->having, k))
			continue;
		bytes = est_rows(&q->src[g]) *
			((double)(q->src[g].nvals + c.nkey) * sizeof(tbl_value) +
			 HG_ENTRY + (double)q->nagg * sizeof(sql_agg));
		hashed = HG_SETUP + est_rows(&q->src[k]) * 2 +
			 est_rows(&q->src[g]) * HG_BUILD;
		if (bytes <= (double)b->hj_budget && hashed < nested)
			return g;
	}
	return -1;
}

/* Place the conjuncts at the levels of the join order q->jorder (pos:
 * source -> level) and choose every source's access path. */
static rdb_rc place_all(binder *b, query *q, const int *pos, sql_expr **conj,
			int n)
{
	uint64_t before = 0;
	int i;
	rdb_rc rc;

	for (i = 0; i < n; i++)
		if ((rc = place(b, q, pos, conj[i])) != RDB_OK)
			return rc;
	for (i = 0; i < q->nsrc; i++) {
		qsrc *s = &q->src[q->jorder[i]];

		if ((rc = choose_access(b, q, q->jorder[i], before)) != RDB_OK)
			return rc;
		if (i > 0 && (rc = hash_plan(b, q, q->jorder[i], before)) !=
		    RDB_OK)
			return rc;
		before |= (uint64_t)1 << q->jorder[i];
		s->cache_scan = i > 0 && s->tb != NULL && s->acc == ACC_SCAN;
	}
	return RDB_OK;
}

/* Forget what place_all() decided (its arrays stay in the arena). */
static void unplan(query *q)
{
	int i;

	for (i = 0; i < q->nsrc; i++) {
		qsrc *s = &q->src[i];

		s->filt = s->hbuild = s->hfilt = s->hon = NULL;
		s->nfilt = s->nhbuild = s->nhfilt = s->nhon = s->nhash = 0;
		s->acc = ACC_SCAN;
		s->ix = NULL;
		s->neq = 0;
		s->in = s->lo = s->hi = NULL;
		s->cache_scan = 0;
	}
	q->where_const = NULL;
	q->nwhere_const = 0;
}

rdb_rc plan_query(binder *b, query *q, sql_expr **conj, int n)
{
	int pos[64], g;
	rdb_rc rc;

	if (q->nsrc > 64)
		return rdb_err_set(b->err, RDB_ERROR, "at most 64 tables in a "
				   "join");
	if ((rc = join_order(b, q, conj, n, pos)) != RDB_OK ||
	    (rc = place_all(b, q, pos, conj, n)) != RDB_OK)
		return rc;
	if ((g = hash_group_better(b, q, conj, n)) < 0)
		return RDB_OK;
	unplan(q);
	q->jorder[0] = 1 - g;
	q->jorder[1] = g;
	pos[1 - g] = 0;
	pos[g] = 1;
	q->src[g].hash_force = 1;
	q->hash_group = 1;
	return place_all(b, q, pos, conj, n);
}

/* ---- the order of the rows: ORDER BY, GROUP BY ------------------------------- */

/* The slot of the outermost source that ORDER BY term e reads, or -1. */
static int order_slot(const query *q, const sql_expr *e)
{
	const xinfo *x = xi(e);

	if (x != NULL && x->kind == XK_OUTCOL)
		e = q->out[x->slot];
	return col_of(e, q->jorder[0]);
}

/* The leading columns of c past the neq equalities that hold one row
 * per value: a UNIQUE index holds any number of rows whose columns are
 * NULL, so it counts only when those columns are NOT NULL. */
static int unique_prefix(const tbl_table *tb, const cand *c, int neq)
{
	int k;

	for (k = neq; k < c->unique_cols; k++)
		if (c->slot[k] < tb->ncols && !tb->cols[c->slot[k]].notnull)
			return c->nkey;
	return c->unique_cols;
}

/* Do the joined rows arrive grouped, in the order of the groups' keys?
 * They do when every GROUP BY term is a column of the outermost source,
 * read forwards in the order of a key whose leading columns (past those
 * fixed by equalities) are the terms in their order, ascending -- up to
 * a prefix that holds one row per value, after which the remaining terms
 * can only repeat the same row's columns.  The key's encoding orders
 * values as the group keys' encoding does (tbl_key_append), so equal
 * keys are neighbours. */
static int group_in_key_order(const query *q)
{
	const qsrc *s;
	cand c;
	int i, j, k, slot, uniq;

	if (!q->agg || q->ngroup == 0 || q->nsrc == 0 || q->nterms > 1 ||
	    q->nvalues > 0)
		return 0;
	s = &q->src[q->jorder[0]];
	if (s->tb == NULL || s->in != NULL || s->reverse || s->left ||
	    s->nhash > 0 || s->cache_scan)
		return 0;
	cand_of(s->tb, s->ix, &c);
	uniq = unique_prefix(s->tb, &c, s->neq);
	for (i = 0, j = s->neq; i < q->ngroup; i++) {
		if ((slot = col_of(q->group[i], q->jorder[0])) < 0)
			return 0;
		for (k = 0; k < s->neq && c.slot[k] != slot; k++)
			;
		if (k < s->neq || j >= uniq)
			continue;         /* fixed, or one row per prefix */
		if (j >= c.nkey || c.slot[j] != slot || c.desc[j])
			return 0;
		j++;
	}
	return 1;
}

/* Do ORDER BY terms i.. read nothing but the outermost source?  Then
 * they are the same for every joined row one of its rows makes, and a
 * key prefix holding one of its rows per value orders them too. */
static int rest_reads_outer(const query *q, int i)
{
	uint64_t outer = (uint64_t)1 << (q->jorder[0] & 63);
	const sql_expr *e;
	const xinfo *x;

	for (; i < q->norder; i++) {
		e = q->order[i];
		x = xi(e);
		if (x != NULL && x->kind == XK_OUTCOL)
			e = q->out[x->slot];
		if ((expr_mask(e) & ~outer) != 0)
			return 0;
	}
	return 1;
}

/* Does reading source 0 in key order (or backwards) give the ORDER BY? */
static int key_gives_order(const query *q, const cand *c, int neq,
			   int *reverse)
{
	int i, j = neq, dir = -1, slot, d, k;
	int uniq = unique_prefix(q->src[q->jorder[0]].tb, c, neq);

	for (i = 0; i < q->norder; i++) {
		if (j >= uniq) {
			/* One row of source 0 per key prefix: done if the
			 * rest cannot tell its joined rows apart. */
			if (!rest_reads_outer(q, i))
				return 0;
			break;
		}
		if ((slot = order_slot(q, q->order[i])) < 0)
			return 0;
		for (k = 0; k < neq && c->slot[k] != slot; k++)
			;
		if (k < neq)
			continue;                 /* fixed by equality */
		if (j >= c->nkey || c->slot[j] != slot)
			return 0;
		if (q->order_nulls_first[i] != !q->order_desc[i])
			return 0;
		d = q->order_desc[i] ^ c->desc[j];
		if (dir >= 0 && d != dir)
			return 0;
		dir = d;
		j++;
	}
	*reverse = dir > 0;
	return 1;
}

rdb_rc plan_order(binder *b, query *q)
{
	qsrc *s;
	cand c;
	int i, rev;

	(void)b;
	/* ORDER BY may read only what the rows of a group agree on, too. */
	for (i = 0; q->hash_group && i < q->norder; i++)
		if (!bare_free_of(q->order[i], q->jorder[0]))
			q->hash_group = 0;
	q->stream_group = group_in_key_order(q);
	q->sort = q->norder > 0;
	if (q->norder == 0 || q->nterms > 1 || q->agg || q->nsrc == 0 ||
	    q->nvalues > 0)
		return RDB_OK;
	s = &q->src[q->jorder[0]];
	if (s->tb == NULL || s->in != NULL)
		return RDB_OK;
	cand_of(s->tb, s->ix, &c);
	if (key_gives_order(q, &c, s->neq, &rev)) {
		q->sort = 0;
		s->reverse = rev;
		return RDB_OK;
	}
	if (s->acc != ACC_SCAN)
		return RDB_OK;
	for (i = 0; i < s->tb->nidx; i++) {
		cand_of(s->tb, &s->tb->idx[i], &c);
		if (key_gives_order(q, &c, 0, &rev)) {
			choice none;

			memset(&none, 0, sizeof(none));
			apply_choice(s, &c, &none);
			q->sort = 0;
			s->reverse = rev;
			return RDB_OK;
		}
	}
	return RDB_OK;
}
