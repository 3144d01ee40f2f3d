/*
 * ast.h -- the SQL syntax tree, the parser that builds it and the printer
 * that turns it back into SQL text.  Internal to the sql layer.
 *
 * Layer:  sql.  May include buf.h, err.h, mem.h, rdb.h.
 * Contract:
 *   - sql_parse() parses one statement (SQLite's dialect) into a tree
 *     allocated in one arena that belongs to the statement: the caller
 *     owns *out and frees the whole tree with sql_stmt_free().  Every
 *     pointer inside a tree (nodes, names, strings, lists) is borrowed
 *     from it: valid until sql_stmt_free() of the top statement.  The
 *     tree does not point into the caller's input.
 *   - Names are dequoted, NUL-terminated and kept in the case written;
 *     SQL compares them without regard to ASCII case.
 *   - Nodes are plain structs, readable by anyone; the parser is the only
 *     writer, except the fields marked "free for the binder".
 *   - Expressions are at most SQL_MAX_DEPTH levels high (a subquery counts
 *     the height of its own expressions), and compound selects have at
 *     most SQL_MAX_COMPOUND terms, so code recursing over a tree is
 *     bounded.  Deeper input fails with RDB_TOOBIG.
 *   - Errors: RDB_ERROR with SQLite's message and the position,
 *     `near "FORM": syntax error at 1:10` (line:column, 1-based; the
 *     column counts bytes), `unrecognized token: "'abc" at 2:5`,
 *     `incomplete input at 1:15`; RDB_TOOBIG; RDB_NOMEM.  Nothing here
 *     prints, exits or aborts.  Thread-safe (no global state).
 * Grammar coverage, tree shapes and printing rules: src/sql/README.md
 * ("Parser").
 */
#ifndef RDB_SQL_AST_H
#define RDB_SQL_AST_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "buf.h"
#include "err.h"

#define SQL_MAX_DEPTH 1000      /* expression height / parser nesting */
#define SQL_MAX_COMPOUND 500    /* terms of one compound SELECT */
#define SQL_MAX_PARAM 32766     /* largest ?NNN */

typedef struct sql_expr sql_expr;
typedef struct sql_select sql_select;
typedef struct sql_stmt sql_stmt;
typedef struct sql_arena sql_arena;   /* opaque */

/* Position and text span of a node.  line and col (1-based, col in
 * bytes) are counted from the start of the string given to sql_parse();
 * off and len locate the node's source text inside its statement's
 * sql_stmt.sql (off is relative to that text). */
typedef struct sql_pos {
	uint32_t line, col;
	uint32_t off, len;
} sql_pos;

typedef struct sql_expr_list {
	int n;
	sql_expr **items;
} sql_expr_list;

typedef struct sql_name_list {
	int n;
	const char **names;
} sql_name_list;

/* ---- expressions ------------------------------------------------------- */

typedef enum sql_op {
	/* literals */
	SQL_E_INT,        /* i; a decimal too large for int64 is SQL_E_REAL,
			     but -9223372036854775808 is an SQL_E_INT */
	SQL_E_REAL,       /* r; the literal as written is the pos span */
	SQL_E_STR,        /* str: dequoted text */
	SQL_E_BLOB,       /* str: the bytes of x'..' */
	SQL_E_NULL,
	SQL_E_TRUE,       /* unquoted TRUE / FALSE */
	SQL_E_FALSE,
	SQL_E_CTIME,      /* ctime: CURRENT_TIME/_DATE/_TIMESTAMP */
	SQL_E_PARAM,      /* param */
	SQL_E_COLUMN,     /* col: [[schema.]table.]name */
	/* unary: operand in left */
	SQL_E_NEG, SQL_E_POS, SQL_E_BITNOT, SQL_E_NOT,
	SQL_E_ISNULL,     /* x ISNULL, x IS NULL */
	SQL_E_NOTNULL,    /* x NOTNULL, x NOT NULL, x IS NOT NULL */
	SQL_E_COLLATE,    /* left COLLATE collation */
	/* binary: left op right */
	SQL_E_OR, SQL_E_AND,
	SQL_E_EQ, SQL_E_NE, SQL_E_IS, SQL_E_ISNOT,
	SQL_E_LT, SQL_E_LE, SQL_E_GT, SQL_E_GE,
	SQL_E_BITAND, SQL_E_BITOR, SQL_E_LSHIFT, SQL_E_RSHIFT,
	SQL_E_ADD, SQL_E_SUB, SQL_E_MUL, SQL_E_DIV, SQL_E_MOD,
	SQL_E_CONCAT,
	/* special forms; SQL_EF_NOT marks the NOT variants */
	SQL_E_LIKE,       /* left [NOT] LIKE|GLOB|REGEXP|MATCH right
			     [ESCAPE like.escape]; like.kind */
	SQL_E_BETWEEN,    /* left [NOT] BETWEEN between.lo AND between.hi */
	SQL_E_IN_LIST,    /* left [NOT] IN (list) -- list may be empty */
	SQL_E_IN_SELECT,  /* left [NOT] IN (select) */
	SQL_E_IN_TABLE,   /* left [NOT] IN [schema.]table: col.schema,
			     col.table (col.name is NULL) */
	SQL_E_CASE,       /* CASE [left] WHEN..THEN.. [ELSE right] END:
			     list holds when0, then0, when1, then1, ... */
	SQL_E_CAST,       /* CAST(left AS type) */
	SQL_E_FUNC,       /* func.name(list), SQL_EF_DISTINCT, SQL_EF_STAR */
	SQL_E_EXISTS,     /* EXISTS (select) */
	SQL_E_SUBQUERY,   /* (select), a scalar subquery */
	SQL_E_VECTOR,     /* (a, b, ...), a row value: list */
	SQL_E_RAISE       /* RAISE(raise.kind [, raise.msg]) in triggers */
} sql_op;

#define SQL_EF_NOT      0x01   /* NOT LIKE / NOT BETWEEN / NOT IN */
#define SQL_EF_DISTINCT 0x02   /* f(DISTINCT x) */
#define SQL_EF_STAR     0x04   /* f(*) */
#define SQL_EF_QUOTED   0x08   /* column name written "in quotes" */

typedef enum sql_like_kind {
	SQL_LIKE, SQL_GLOB, SQL_REGEXP, SQL_MATCH
} sql_like_kind;

typedef enum sql_raise_kind {
	SQL_RAISE_IGNORE, SQL_RAISE_ROLLBACK, SQL_RAISE_ABORT, SQL_RAISE_FAIL
} sql_raise_kind;

struct sql_expr {
	sql_op op;
	uint8_t flags;            /* SQL_EF_* */
	uint16_t height;          /* 1 for a leaf */
	sql_pos pos;
	sql_expr *left;           /* operand / left operand / CASE base */
	sql_expr *right;          /* right operand / CASE ELSE */
	sql_expr_list list;       /* IN list, CASE arms, FUNC args, VECTOR */
	sql_select *select;       /* IN_SELECT, EXISTS, SUBQUERY */
	union {
		int64_t i;
		double r;
		struct {
			const char *p;    /* NUL-terminated (blobs too) */
			size_t n;         /* bytes, without the NUL */
		} str;
		struct {
			int index;        /* 1-based, numbered as SQLite does */
			const char *name; /* ":a", "@a", "$a", "?5"; NULL for ? */
		} param;
		struct {
			const char *schema;  /* NULL if not written */
			const char *table;   /* NULL if not written */
			const char *name;
		} col;
		struct {
			sql_expr *lo, *hi;
		} between;
		struct {
			sql_like_kind kind;
			sql_expr *escape;    /* NULL if none */
		} like;
		const char *collation;  /* COLLATE */
		const char *type;       /* CAST: the type name as written */
		int ctime;              /* CTIME: 0 TIME, 1 DATE, 2 TIMESTAMP */
		struct {
			const char *name;
		} func;
		struct {
			sql_raise_kind kind;
			const char *msg;     /* NULL for IGNORE */
		} raise;
	} u;
	/* Free for the binder: zero after parsing, never read by the parser
	 * or the printer. */
	int aux_i[2];
	void *aux_p;
};

/* ---- SELECT ------------------------------------------------------------ */

typedef struct sql_result_col {
	sql_expr *expr;           /* NULL for * and t.* */
	const char *star_table;   /* t of t.*; NULL otherwise */
	int star;                 /* 1 for * and t.* */
	const char *alias;        /* AS name; NULL if none */
	const char *text;         /* the expression's source text (SQLite's
				     name for an unaliased column) */
	sql_pos pos;
} sql_result_col;

typedef enum sql_join {
	SQL_JOIN_NONE,            /* the first table of a FROM clause */
	SQL_JOIN_COMMA,           /* a, b */
	SQL_JOIN_INNER,           /* [INNER] JOIN */
	SQL_JOIN_CROSS,           /* CROSS JOIN */
	SQL_JOIN_LEFT,            /* LEFT [OUTER] JOIN */
	SQL_JOIN_RIGHT,           /* RIGHT [OUTER] JOIN */
	SQL_JOIN_FULL             /* FULL [OUTER] JOIN */
} sql_join;

/* One item of a FROM clause, joined to the items before it. */
typedef struct sql_src {
	sql_join join;            /* how it joins the items before it */
	int natural;              /* NATURAL ... JOIN */
	const char *schema;       /* NULL if not written */
	const char *name;         /* table or view; NULL for a subquery */
	sql_select *subquery;     /* ( select ); NULL for a table */
	const char *alias;        /* NULL if none */
	const char *indexed_by;   /* INDEXED BY name; NULL if none */
	int not_indexed;          /* NOT INDEXED */
	sql_expr *on;             /* ON expr; NULL if none */
	sql_name_list using_cols; /* USING (a, b); n == 0 if none */
	sql_pos pos;
} sql_src;

typedef enum sql_compound {
	SQL_COMPOUND_NONE,        /* the first term */
	SQL_UNION, SQL_UNION_ALL, SQL_INTERSECT, SQL_EXCEPT
} sql_compound;

/* One SELECT ... or VALUES ... term of a (compound) select. */
typedef struct sql_core {
	sql_compound op;          /* how it combines with the terms before */
	int distinct;             /* SELECT DISTINCT */
	int n_cols;               /* result columns; 0 for VALUES */
	sql_result_col *cols;
	int n_src;                /* FROM items; 0 without FROM */
	sql_src *src;
	sql_expr *where;          /* NULL if none */
	sql_expr_list group_by;
	sql_expr *having;         /* NULL if none */
	int n_rows;               /* VALUES rows; 0 for SELECT */
	sql_expr_list *rows;      /* every row has the same length */
	sql_pos pos;
} sql_core;

typedef enum sql_nulls {
	SQL_NULLS_DEFAULT, SQL_NULLS_FIRST, SQL_NULLS_LAST
} sql_nulls;

typedef struct sql_order {
	sql_expr *expr;           /* may be an SQL_E_INT ordinal */
	int desc;
	sql_nulls nulls;
} sql_order;

/* ((core0 op1 core1) op2 core2) ... [ORDER BY] [LIMIT [OFFSET]] */
struct sql_select {
	int n_cores;              /* >= 1, <= SQL_MAX_COMPOUND */
	sql_core *cores;
	int n_order;
	sql_order *order;
	sql_expr *limit;          /* NULL if none */
	sql_expr *offset;         /* NULL if none; LIMIT a, b gives
				     offset a and limit b */
	uint16_t height;          /* max height of its expressions */
	sql_pos pos;
};

/* ---- statements ---------------------------------------------------------- */

typedef enum sql_kind {
	SQL_SELECT, SQL_INSERT, SQL_UPDATE, SQL_DELETE,
	SQL_CREATE_TABLE, SQL_CREATE_INDEX, SQL_CREATE_VIEW,
	SQL_CREATE_TRIGGER, SQL_DROP,
	SQL_BEGIN, SQL_COMMIT, SQL_ROLLBACK, SQL_SAVEPOINT, SQL_RELEASE,
	SQL_PRAGMA, SQL_REINDEX, SQL_ANALYZE, SQL_VACUUM, SQL_ALTER_TABLE
} sql_kind;

/* ON CONFLICT / INSERT OR ... */
typedef enum sql_conflict {
	SQL_OR_DEFAULT, SQL_OR_ROLLBACK, SQL_OR_ABORT, SQL_OR_FAIL,
	SQL_OR_IGNORE, SQL_OR_REPLACE
} sql_conflict;

typedef struct sql_insert {
	sql_conflict conflict;    /* REPLACE INTO gives SQL_OR_REPLACE */
	const char *schema, *table, *alias;
	sql_name_list cols;       /* n == 0: all columns */
	sql_select *select;       /* VALUES rows are a select of one VALUES
				     core; NULL for DEFAULT VALUES */
} sql_insert;

typedef struct sql_set {
	sql_name_list cols;       /* one name, or (a, b) = row value */
	sql_expr *value;
} sql_set;

typedef struct sql_update {
	sql_conflict conflict;
	const char *schema, *table, *alias;
	int n_sets;
	sql_set *sets;
	sql_expr *where;          /* NULL if none */
} sql_update;

typedef struct sql_delete {
	const char *schema, *table, *alias;
	sql_expr *where;          /* NULL if none */
} sql_delete;

/* A column of an index, key or UNIQUE constraint. */
typedef struct sql_indexed_col {
	const char *name;         /* the column; NULL if expr is not a name */
	sql_expr *expr;           /* always set */
	const char *collation;    /* NULL if none */
	int desc;
} sql_indexed_col;

typedef enum sql_fk_action {
	SQL_FK_NONE, SQL_FK_SET_NULL, SQL_FK_SET_DEFAULT, SQL_FK_CASCADE,
	SQL_FK_RESTRICT, SQL_FK_NO_ACTION
} sql_fk_action;

typedef struct sql_fk {
	const char *table;
	sql_name_list cols;       /* n == 0: the parent's primary key */
	sql_fk_action on_delete, on_update;
	int deferrable;           /* 1 DEFERRABLE INITIALLY DEFERRED */
} sql_fk;

typedef struct sql_column_def {
	const char *name;
	const char *type;         /* as written, "VARCHAR(8)"; NULL if none */
	int primary_key;          /* PRIMARY KEY column constraint */
	int pk_desc;
	int autoincrement;
	sql_conflict pk_conflict;
	int not_null;
	sql_conflict not_null_conflict;
	int unique;
	sql_conflict unique_conflict;
	sql_expr *default_value;  /* NULL if none */
	const char *collation;    /* NULL if none */
	sql_expr_list checks;
	const char **check_names; /* per check: CONSTRAINT name, or NULL */
	sql_fk *references;       /* NULL if none */
	sql_pos pos;
} sql_column_def;

typedef enum sql_tcons_kind {
	SQL_TC_PRIMARY_KEY, SQL_TC_UNIQUE, SQL_TC_CHECK, SQL_TC_FOREIGN_KEY
} sql_tcons_kind;

typedef struct sql_table_cons {
	sql_tcons_kind kind;
	const char *name;         /* CONSTRAINT name; NULL if none */
	int n_cols;               /* PRIMARY KEY, UNIQUE */
	sql_indexed_col *cols;
	sql_conflict conflict;
	sql_expr *check;          /* CHECK */
	sql_name_list fk_cols;    /* FOREIGN KEY (cols) */
	sql_fk *fk;               /* FOREIGN KEY ... REFERENCES */
	sql_pos pos;
} sql_table_cons;

typedef struct sql_create_table {
	int temp, if_not_exists;
	const char *schema, *name;
	int n_cols;
	sql_column_def *cols;
	int n_cons;
	sql_table_cons *cons;
	int without_rowid, strict;
	sql_select *as_select;    /* CREATE TABLE .. AS select: no columns */
} sql_create_table;

typedef enum sql_alter_kind {
	SQL_ALTER_RENAME,         /* RENAME TO name */
	SQL_ALTER_RENAME_COLUMN,  /* RENAME [COLUMN] name TO new_name */
	SQL_ALTER_ADD_COLUMN,     /* ADD [COLUMN] col */
	SQL_ALTER_DROP_COLUMN     /* DROP [COLUMN] name */
} sql_alter_kind;

typedef struct sql_alter {
	sql_alter_kind kind;
	const char *schema, *table;
	const char *name;         /* the new table name, or the column */
	const char *new_name;     /* RENAME COLUMN: the column's new name */
	sql_column_def col;       /* ADD COLUMN (its pos spans its text) */
} sql_alter;

typedef struct sql_create_index {
	int unique, if_not_exists;
	const char *schema, *name, *table;
	int n_cols;
	sql_indexed_col *cols;
	sql_expr *where;          /* partial index; NULL if none */
} sql_create_index;

typedef struct sql_create_view {
	int temp, if_not_exists;
	const char *schema, *name;
	sql_name_list cols;
	sql_select *select;
} sql_create_view;

typedef enum sql_trigger_time {
	SQL_TRIG_BEFORE, SQL_TRIG_AFTER, SQL_TRIG_INSTEAD_OF
} sql_trigger_time;

typedef enum sql_trigger_event {
	SQL_TRIG_INSERT, SQL_TRIG_UPDATE, SQL_TRIG_DELETE
} sql_trigger_event;

typedef struct sql_create_trigger {
	int temp, if_not_exists;
	const char *schema, *name, *table;
	sql_trigger_time time;    /* BEFORE when not written */
	int time_written;         /* 1 if BEFORE/AFTER/INSTEAD OF written */
	sql_trigger_event event;
	sql_name_list update_cols; /* UPDATE OF a, b */
	int for_each_row;         /* written (it is the only kind anyway) */
	sql_expr *when;           /* NULL if none */
	int n_body;               /* >= 1 */
	sql_stmt **body;          /* INSERT, UPDATE, DELETE or SELECT */
} sql_create_trigger;

typedef enum sql_object {
	SQL_OBJ_TABLE, SQL_OBJ_INDEX, SQL_OBJ_VIEW, SQL_OBJ_TRIGGER
} sql_object;

typedef struct sql_drop {
	sql_object object;
	int if_exists;
	const char *schema, *name;
} sql_drop;

typedef enum sql_txn_mode {
	SQL_TXN_DEFAULT, SQL_TXN_DEFERRED, SQL_TXN_IMMEDIATE,
	SQL_TXN_EXCLUSIVE
} sql_txn_mode;

typedef struct sql_pragma {
	const char *schema, *name;
	const char *value;        /* NULL, or the value's text: a name or a
				     keyword as written, a dequoted string,
				     or a number with its sign ("-2000") */
	int value_is_string;      /* value was a 'string' */
	int paren;                /* PRAGMA x(value) rather than = value */
} sql_pragma;

struct sql_stmt {
	sql_kind kind;
	int explain;              /* 0; 1 EXPLAIN; 2 EXPLAIN QUERY PLAN */
	const char *sql;          /* the statement's text from its first
				     token through its last (no ';'),
				     NUL-terminated; CREATE statements are
				     stored in the catalog as this text */
	size_t n_sql;
	uint32_t object_off;      /* CREATE, DROP: offset in sql of the
				     object's name (after any "schema.") */
	sql_pos pos;              /* of the first token */
	int n_params;             /* largest parameter index used */
	const char **param_names; /* [n_params]; [i] is the name of index
				     i + 1, NULL if nameless or unused */
	union {
		sql_select *select;           /* SQL_SELECT */
		sql_insert insert;
		sql_update update;
		sql_delete del;
		sql_create_table create_table;
		sql_create_index create_index;
		sql_create_view create_view;
		sql_create_trigger create_trigger;
		sql_drop drop;
		sql_alter alter;              /* SQL_ALTER_TABLE */
		sql_txn_mode begin;           /* SQL_BEGIN */
		const char *savepoint;        /* SAVEPOINT, RELEASE, ROLLBACK
						 TO (NULL: plain ROLLBACK) */
		sql_pragma pragma;
		struct {                      /* REINDEX, ANALYZE, VACUUM */
			const char *schema;   /* NULL if not written */
			const char *name;     /* NULL if not written */
		} target;
	} u;
	sql_arena *arena;         /* owned; NULL in trigger body statements */
};

/* ---- entry points -------------------------------------------------------- */

/*
 * Parse the first statement of sql[0..n) (a NUL byte also ends the input).
 * Leading whitespace, comments and empty statements (';') are skipped.
 * On RDB_OK, *out is the statement (caller owns it: sql_stmt_free()) or
 * NULL when nothing but whitespace, comments and ';' was left, and *tail
 * is the offset just past the statement's ';' (or n), where the next
 * statement starts.  On failure *out is NULL, *tail is 0 and err holds the
 * message.  err may be NULL.
 */
rdb_rc sql_parse(const char *sql, size_t n, rdb_err *err, sql_stmt **out,
		 size_t *tail);

/* Free a statement from sql_parse() and its whole tree.  NULL is a
 * no-op; never call it on a trigger body statement. */
void sql_stmt_free(sql_stmt *s);

/* Allocate n zeroed bytes (8-byte aligned) in s's arena, freed with s:
 * for the binder's annotations.  NULL when out of memory.  s must come
 * from sql_parse(). */
void *sql_stmt_alloc(sql_stmt *s, size_t n);

/* 1 if text is one or more complete statements, i.e. it ends with ';'
 * outside any string, comment or trigger body (like sqlite3_complete),
 * else 0.  text is NUL-terminated. */
int sql_complete(const char *text);

/*
 * Append canonical SQL for a statement, a select or an expression to out:
 * keywords in upper case, single spaces, names quoted only when they need
 * it, parentheses only where precedence needs them.  Printing a parsed
 * tree, parsing the text and printing again gives the same text.
 * Returns RDB_OK or RDB_NOMEM (out keeps what was appended so far).
 */
rdb_rc sql_print_stmt(const sql_stmt *s, rdb_buf *out);

/*
 * Append the text SQLite keeps in sqlite_schema.sql for a CREATE TABLE
 * (not AS SELECT), INDEX, VIEW or TRIGGER statement: "CREATE TABLE ",
 * "CREATE UNIQUE INDEX ", ... followed by the statement's own text from
 * the object's name on -- so TEMP, IF NOT EXISTS, a schema qualifier and
 * the spacing and case of the first words are normalized, the rest is kept
 * as written.  RDB_MISUSE for other statements; RDB_NOMEM.
 */
rdb_rc sql_schema_text(const sql_stmt *s, rdb_buf *out);
rdb_rc sql_print_select(const sql_select *s, rdb_buf *out);
rdb_rc sql_print_expr(const sql_expr *e, rdb_buf *out);

#endif /* RDB_SQL_AST_H */
