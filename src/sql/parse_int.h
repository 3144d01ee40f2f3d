/*
 * parse_int.h -- private to the parser files of src/sql (lex.c, parse*.c):
 * tokens, the lexer, the parser's state and its arena helpers.
 * The tree it builds is described in ast.h; design notes in README.md
 * ("Parser").
 */
#ifndef RDB_SQL_PARSE_INT_H
#define RDB_SQL_PARSE_INT_H
#include <stddef.h>
#include <stdint.h>
#include "sql/ast.h"

typedef enum tk {
	TK_EOF,             /* end of input (or a NUL byte) */
	TK_ILLEGAL,         /* unrecognized token */
	TK_SPACE,           /* whitespace or comment (lex_next skips it) */
	TK_ID,              /* name, possibly quoted */
	TK_STRING,          /* 'text' */
	TK_INTEGER,         /* 123, 0x1f */
	TK_FLOAT,           /* 1.5, .5, 1e3 */
	TK_BLOB,            /* x'0a' */
	TK_VARIABLE,        /* ?, ?12, :a, @a, $a */
	TK_SEMI, TK_LP, TK_RP, TK_COMMA, TK_DOT,
	TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_REM,
	TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
	TK_BITAND, TK_BITOR, TK_BITNOT, TK_LSHIFT, TK_RSHIFT, TK_CONCAT,
	TK_PTR,             /* -> and ->> (lexed, not supported) */
	/* keywords that may also serve as names (SQLite's %fallback ID) */
	TK_ABORT,
	TK_ACTION,
	TK_AFTER,
	TK_ALWAYS,
	TK_ANALYZE,
	TK_ASC,
	TK_ATTACH,
	TK_BEFORE,
	TK_BEGIN,
	TK_BY,
	TK_CASCADE,
	TK_CAST,
	TK_COLUMN,
	TK_CONFLICT,
	TK_CURRENT,
	TK_CURRENT_DATE,
	TK_CURRENT_TIME,
	TK_CURRENT_TIMESTAMP,
	TK_DATABASE,
	TK_DEFERRED,
	TK_DESC,
	TK_DETACH,
	TK_DO,
	TK_END,
	TK_EACH,
	TK_EXCLUSIVE,
	TK_EXCLUDE,
	TK_EXPLAIN,
	TK_FAIL,
	TK_FIRST,
	TK_FOLLOWING,
	TK_FOR,
	TK_GENERATED,
	TK_GLOB,
	TK_GROUPS,
	TK_IF,
	TK_IGNORE,
	TK_IMMEDIATE,
	TK_INITIALLY,
	TK_INSTEAD,
	TK_KEY,
	TK_LAST,
	TK_LIKE,
	TK_MATCH,
	TK_MATERIALIZED,
	TK_NO,
	TK_NULLS,
	TK_OF,
	TK_OFFSET,
	TK_OTHERS,
	TK_PARTITION,
	TK_PLAN,
	TK_PRAGMA,
	TK_PRECEDING,
	TK_QUERY,
	TK_RAISE,
	TK_RANGE,
	TK_RECURSIVE,
	TK_REGEXP,
	TK_REINDEX,
	TK_RELEASE,
	TK_RENAME,
	TK_REPLACE,
	TK_RESTRICT,
	TK_ROLLBACK,
	TK_ROW,
	TK_ROWS,
	TK_SAVEPOINT,
	TK_TEMP,
	TK_TEMPORARY,
	TK_TIES,
	TK_TRIGGER,
	TK_UNBOUNDED,
	TK_VACUUM,
	TK_VIEW,
	TK_VIRTUAL,
	TK_WITH,
	TK_WITHOUT,
	/* reserved keywords */
	TK_ADD,
	TK_ALL,
	TK_ALTER,
	TK_AND,
	TK_AS,
	TK_AUTOINCREMENT,
	TK_BETWEEN,
	TK_CASE,
	TK_CHECK,
	TK_COLLATE,
	TK_COMMIT,
	TK_CONSTRAINT,
	TK_CREATE,
	TK_CROSS,
	TK_DEFAULT,
	TK_DEFERRABLE,
	TK_DELETE,
	TK_DISTINCT,
	TK_DROP,
	TK_ELSE,
	TK_ESCAPE,
	TK_EXCEPT,
	TK_EXISTS,
	TK_FILTER,
	TK_FOREIGN,
	TK_FROM,
	TK_FULL,
	TK_GROUP,
	TK_HAVING,
	TK_IN,
	TK_INDEX,
	TK_INDEXED,
	TK_INNER,
	TK_INSERT,
	TK_INTERSECT,
	TK_INTO,
	TK_IS,
	TK_ISNULL,
	TK_JOIN,
	TK_LEFT,
	TK_LIMIT,
	TK_NATURAL,
	TK_NOT,
	TK_NOTHING,
	TK_NOTNULL,
	TK_NULL,
	TK_ON,
	TK_OR,
	TK_ORDER,
	TK_OUTER,
	TK_OVER,
	TK_PRIMARY,
	TK_REFERENCES,
	TK_RETURNING,
	TK_RIGHT,
	TK_SELECT,
	TK_SET,
	TK_TABLE,
	TK_THEN,
	TK_TO,
	TK_TRANSACTION,
	TK_UNION,
	TK_UNIQUE,
	TK_UPDATE,
	TK_USING,
	TK_VALUES,
	TK_WHEN,
	TK_WHERE,
	TK_WINDOW,
	TK_COUNT
} tk;

#define TK_FALLBACK_FIRST TK_ABORT
#define TK_FALLBACK_LAST TK_WITHOUT

/* A token: its type and where its text is in the input. */
typedef struct token {
	tk type;
	uint32_t off;       /* offset in the input */
	uint32_t len;
	uint32_t line, col; /* 1-based; col in bytes */
} token;

typedef struct lexer {
	const char *z;      /* the input (borrowed) */
	size_t n;           /* its length; a NUL byte ends it earlier */
	size_t off;         /* where the next token starts */
	uint32_t line;      /* line of z[off] */
	size_t line_start;  /* offset of that line's first byte */
	int open_comment;   /* a block comment ran to the end */
} lexer;

/* Set up l over z[0..n).  Inputs past 4 GiB are cut off by the caller. */
void lex_init(lexer *l, const char *z, size_t n);
/* The next token that is not whitespace or a comment. */
void lex_next(lexer *l, token *t);
/* The keyword token of z[0..n) (any case), or TK_ID if none. */
tk lex_keyword(const char *z, size_t n);
/* Is c a byte that may appear in an unquoted name? */
int lex_idchar(unsigned char c);

/* ---- the parser's state --------------------------------------------- */

typedef struct parser {
	lexer lx;
	token tok;          /* the current token */
	token prev;         /* the one consumed last */
	token peek;         /* a token after tok, if have_peek */
	int have_peek;
	const char *z;      /* the input (borrowed) */
	size_t stmt_off;    /* input offset of the statement's first token */
	sql_arena *arena;
	rdb_err *err;
	rdb_rc rc;          /* first error, RDB_OK if none */
	int depth;          /* current nesting of expressions/selects */
	int n_params;       /* largest parameter index so far */
	int cap_params;
	const char **param_names; /* in the arena, [cap_params] */
	int in_trigger;     /* parsing a trigger body */
	uint32_t object_off; /* CREATE/DROP: offset of the object's name */
	const char *no_params; /* non-NULL: parameters refused, this says
				  why (CREATE VIEW, CREATE TRIGGER) */
} parser;

void *arena_alloc(sql_arena *a, size_t n);        /* zeroed; NULL: no mem */
sql_arena *arena_new(size_t first_chunk);
void arena_free(sql_arena *a);

/* Helpers shared by the parse*.c files (parse.c). */
void *p_alloc(parser *p, size_t n);               /* zeroed; sets NOMEM */
rdb_rc p_error_near(parser *p, const token *t);   /* near "x": syntax... */
rdb_rc p_error(parser *p, rdb_rc rc, const token *t, const char *fmt, ...)
	RDB_PRINTF(4, 5);
void p_advance(parser *p);
const token *p_peek(parser *p);
int p_accept(parser *p, tk type);
rdb_rc p_expect(parser *p, tk type);
int p_is_name(tk type);                           /* ID/STRING/fallback */
rdb_rc p_name(parser *p, const char **out);       /* any name token */
rdb_rc p_ids(parser *p, const char **out);        /* ID or fallback kw */
char *p_dequote(parser *p, const token *t);
sql_pos p_pos(parser *p, const token *t);
void p_span_end(parser *p, sql_pos *pos);         /* end at prev token */
rdb_rc p_push(parser *p, void **arr, int *n, int *cap, size_t size,
	      void **slot);
rdb_rc p_enter(parser *p);                        /* depth + 1, limit */
char *p_copy(parser *p, const char *s, size_t n);

/* Expressions and selects (parse_expr.c). */
rdb_rc parse_expr(parser *p, sql_expr **out);
rdb_rc parse_expr_list(parser *p, sql_expr_list *out);
rdb_rc parse_select(parser *p, sql_select **out);
int p_starts_select(parser *p);                   /* SELECT or VALUES */
rdb_rc parse_typename(parser *p, const char **out);
rdb_rc parse_default(parser *p, sql_expr **out);  /* DEFAULT's value */
/* Statements (parse.c) and DDL (parse_ddl.c). */
rdb_rc parse_create(parser *p, sql_stmt *s);
rdb_rc parse_alter(parser *p, sql_stmt *s);       /* after ALTER */
rdb_rc parse_dml(parser *p, sql_stmt *s);         /* INSERT UPDATE DELETE */
rdb_rc parse_indexed_cols(parser *p, sql_indexed_col **cols, int *n);
rdb_rc parse_name_list(parser *p, sql_name_list *out); /* ( a, b ) */
rdb_rc parse_stmt_body(parser *p, sql_stmt *s);    /* trigger bodies */

#endif /* RDB_SQL_PARSE_INT_H */
