/*
 * lex.c -- SQLite's tokenizer: names (plain, "quoted", [bracketed],
 * `backticked`), keywords in any case, strings, blobs, numbers,
 * parameters, operators, comments; and sql_complete().
 * Design notes: README.md ("Parser").
 */
#include "sql/parse_int.h"
#include <string.h>

/* Character classes, indexed by byte. */
enum {
	CC_X = 0,         /* illegal */
	CC_SPACE,         /* space, tab, newline, \f, \r */
	CC_ID,            /* a-z A-Z _ and bytes >= 0x80 */
	CC_XID,           /* x X: a name or the start of a blob */
	CC_DIGIT,
	CC_DOLLAR,        /* $ */
	CC_VARNAME,       /* : @ */
	CC_VARNUM,        /* ? */
	CC_QUOTE,         /* ' " ` */
	CC_LBRACKET,
	CC_MINUS, CC_LP, CC_RP, CC_SEMI, CC_PLUS, CC_STAR, CC_SLASH,
	CC_PERCENT, CC_EQ, CC_LT, CC_GT, CC_BANG, CC_COMMA, CC_AND,
	CC_TILDE, CC_PIPE, CC_DOT, CC_NUL
};

/* Class of each byte (generated from the rules above the enum). */
static const unsigned char cclass[256] = {
	CC_NUL, CC_X, CC_X, CC_X, CC_X, CC_X,
	CC_X, CC_X, CC_X, CC_SPACE, CC_SPACE, CC_X,
	CC_SPACE, CC_SPACE, CC_X, CC_X, CC_X, CC_X,
	CC_X, CC_X, CC_X, CC_X, CC_X, CC_X,
	CC_X, CC_X, CC_X, CC_X, CC_X, CC_X,
	CC_X, CC_X, CC_SPACE, CC_BANG, CC_QUOTE, CC_X,
	CC_DOLLAR, CC_PERCENT, CC_AND, CC_QUOTE, CC_LP, CC_RP,
	CC_STAR, CC_PLUS, CC_COMMA, CC_MINUS, CC_DOT, CC_SLASH,
	CC_DIGIT, CC_DIGIT, CC_DIGIT, CC_DIGIT, CC_DIGIT, CC_DIGIT,
	CC_DIGIT, CC_DIGIT, CC_DIGIT, CC_DIGIT, CC_VARNAME, CC_SEMI,
	CC_LT, CC_EQ, CC_GT, CC_VARNUM, CC_VARNAME, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_XID, CC_ID,
	CC_ID, CC_LBRACKET, CC_X, CC_X, CC_X, CC_ID,
	CC_QUOTE, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_XID, CC_ID, CC_ID, CC_X, CC_PIPE, CC_X,
	CC_TILDE, CC_X, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID, CC_ID, CC_ID,
	CC_ID, CC_ID, CC_ID, CC_ID,
};


/* Generated table: keyword, token, fallback to a name. */
static const struct keyword {
	const char *word;
	unsigned char len;
	unsigned char tk;
	unsigned char next;      /* index + 1 of the next in the bucket, 0 */
} keywords[147] = {
	{ "ABORT", 5, TK_ABORT, 0 },
	{ "ACTION", 6, TK_ACTION, 21 },
	{ "ADD", 3, TK_ADD, 9 },
	{ "AFTER", 5, TK_AFTER, 6 },
	{ "ALL", 3, TK_ALL, 63 },
	{ "ALTER", 5, TK_ALTER, 29 },
	{ "ALWAYS", 6, TK_ALWAYS, 58 },
	{ "ANALYZE", 7, TK_ANALYZE, 68 },
	{ "AND", 3, TK_AND, 0 },
	{ "AS", 2, TK_AS, 41 },
	{ "ASC", 3, TK_ASC, 39 },
	{ "ATTACH", 6, TK_ATTACH, 0 },
	{ "AUTOINCREMENT", 13, TK_AUTOINCREMENT, 57 },
	{ "BEFORE", 6, TK_BEFORE, 0 },
	{ "BEGIN", 5, TK_BEGIN, 0 },
	{ "BETWEEN", 7, TK_BETWEEN, 0 },
	{ "BY", 2, TK_BY, 0 },
	{ "CASCADE", 7, TK_CASCADE, 22 },
	{ "CASE", 4, TK_CASE, 89 },
	{ "CAST", 4, TK_CAST, 65 },
	{ "CHECK", 5, TK_CHECK, 53 },
	{ "COLLATE", 7, TK_COLLATE, 55 },
	{ "COLUMN", 6, TK_COLUMN, 0 },
	{ "COMMIT", 6, TK_COMMIT, 0 },
	{ "CONFLICT", 8, TK_CONFLICT, 52 },
	{ "CONSTRAINT", 10, TK_CONSTRAINT, 0 },
	{ "CREATE", 6, TK_CREATE, 0 },
	{ "CROSS", 5, TK_CROSS, 0 },
	{ "CURRENT", 7, TK_CURRENT, 0 },
	{ "CURRENT_DATE", 12, TK_CURRENT_DATE, 31 },
	{ "CURRENT_TIME", 12, TK_CURRENT_TIME, 98 },
	{ "CURRENT_TIMESTAMP", 17, TK_CURRENT_TIMESTAMP, 56 },
	{ "DATABASE", 8, TK_DATABASE, 72 },
	{ "DEFAULT", 7, TK_DEFAULT, 50 },
	{ "DEFERRED", 8, TK_DEFERRED, 96 },
	{ "DEFERRABLE", 10, TK_DEFERRABLE, 0 },
	{ "DELETE", 6, TK_DELETE, 60 },
	{ "DESC", 4, TK_DESC, 46 },
	{ "DETACH", 6, TK_DETACH, 101 },
	{ "DISTINCT", 8, TK_DISTINCT, 42 },
	{ "DO", 2, TK_DO, 0 },
	{ "DROP", 4, TK_DROP, 0 },
	{ "END", 3, TK_END, 87 },
	{ "EACH", 4, TK_EACH, 81 },
	{ "ELSE", 4, TK_ELSE, 77 },
	{ "ESCAPE", 6, TK_ESCAPE, 0 },
	{ "EXCEPT", 6, TK_EXCEPT, 0 },
	{ "EXCLUSIVE", 9, TK_EXCLUSIVE, 0 },
	{ "EXCLUDE", 7, TK_EXCLUDE, 0 },
	{ "EXISTS", 6, TK_EXISTS, 0 },
	{ "EXPLAIN", 7, TK_EXPLAIN, 0 },
	{ "FAIL", 4, TK_FAIL, 59 },
	{ "FILTER", 6, TK_FILTER, 0 },
	{ "FIRST", 5, TK_FIRST, 0 },
	{ "FOLLOWING", 9, TK_FOLLOWING, 93 },
	{ "FOR", 3, TK_FOR, 66 },
	{ "FOREIGN", 7, TK_FOREIGN, 0 },
	{ "FROM", 4, TK_FROM, 83 },
	{ "FULL", 4, TK_FULL, 0 },
	{ "GENERATED", 9, TK_GENERATED, 0 },
	{ "GLOB", 4, TK_GLOB, 73 },
	{ "GROUP", 5, TK_GROUP, 85 },
	{ "GROUPS", 6, TK_GROUPS, 0 },
	{ "HAVING", 6, TK_HAVING, 0 },
	{ "IF", 2, TK_IF, 86 },
	{ "IGNORE", 6, TK_IGNORE, 0 },
	{ "IMMEDIATE", 9, TK_IMMEDIATE, 0 },
	{ "IN", 2, TK_IN, 0 },
	{ "INDEX", 5, TK_INDEX, 0 },
	{ "INDEXED", 7, TK_INDEXED, 74 },
	{ "INITIALLY", 9, TK_INITIALLY, 0 },
	{ "INNER", 5, TK_INNER, 88 },
	{ "INSERT", 6, TK_INSERT, 0 },
	{ "INSTEAD", 7, TK_INSTEAD, 0 },
	{ "INTERSECT", 9, TK_INTERSECT, 0 },
	{ "INTO", 4, TK_INTO, 0 },
	{ "IS", 2, TK_IS, 0 },
	{ "ISNULL", 6, TK_ISNULL, 79 },
	{ "JOIN", 4, TK_JOIN, 95 },
	{ "KEY", 3, TK_KEY, 0 },
	{ "LAST", 4, TK_LAST, 82 },
	{ "LEFT", 4, TK_LEFT, 97 },
	{ "LIKE", 4, TK_LIKE, 0 },
	{ "LIMIT", 5, TK_LIMIT, 0 },
	{ "MATCH", 5, TK_MATCH, 0 },
	{ "MATERIALIZED", 12, TK_MATERIALIZED, 0 },
	{ "NATURAL", 7, TK_NATURAL, 91 },
	{ "NO", 2, TK_NO, 0 },
	{ "NOT", 3, TK_NOT, 0 },
	{ "NOTHING", 7, TK_NOTHING, 0 },
	{ "NOTNULL", 7, TK_NOTNULL, 0 },
	{ "NULL", 4, TK_NULL, 0 },
	{ "NULLS", 5, TK_NULLS, 0 },
	{ "OF", 2, TK_OF, 0 },
	{ "OFFSET", 6, TK_OFFSET, 0 },
	{ "ON", 2, TK_ON, 0 },
	{ "OR", 2, TK_OR, 0 },
	{ "ORDER", 5, TK_ORDER, 100 },
	{ "OTHERS", 6, TK_OTHERS, 0 },
	{ "OUTER", 5, TK_OUTER, 0 },
	{ "OVER", 4, TK_OVER, 0 },
	{ "PARTITION", 9, TK_PARTITION, 0 },
	{ "PLAN", 4, TK_PLAN, 0 },
	{ "PRAGMA", 6, TK_PRAGMA, 0 },
	{ "PRECEDING", 9, TK_PRECEDING, 0 },
	{ "PRIMARY", 7, TK_PRIMARY, 0 },
	{ "QUERY", 5, TK_QUERY, 0 },
	{ "RAISE", 5, TK_RAISE, 109 },
	{ "RANGE", 5, TK_RANGE, 0 },
	{ "RECURSIVE", 9, TK_RECURSIVE, 0 },
	{ "REFERENCES", 10, TK_REFERENCES, 135 },
	{ "REGEXP", 6, TK_REGEXP, 129 },
	{ "REINDEX", 7, TK_REINDEX, 0 },
	{ "RELEASE", 7, TK_RELEASE, 116 },
	{ "RENAME", 6, TK_RENAME, 0 },
	{ "REPLACE", 7, TK_REPLACE, 146 },
	{ "RESTRICT", 8, TK_RESTRICT, 0 },
	{ "RETURNING", 9, TK_RETURNING, 0 },
	{ "RIGHT", 5, TK_RIGHT, 132 },
	{ "ROLLBACK", 8, TK_ROLLBACK, 133 },
	{ "ROW", 3, TK_ROW, 0 },
	{ "ROWS", 4, TK_ROWS, 0 },
	{ "SAVEPOINT", 9, TK_SAVEPOINT, 139 },
	{ "SELECT", 6, TK_SELECT, 0 },
	{ "SET", 3, TK_SET, 0 },
	{ "TABLE", 5, TK_TABLE, 0 },
	{ "TEMP", 4, TK_TEMP, 0 },
	{ "TEMPORARY", 9, TK_TEMPORARY, 0 },
	{ "THEN", 4, TK_THEN, 0 },
	{ "TIES", 4, TK_TIES, 0 },
	{ "TO", 2, TK_TO, 0 },
	{ "TRANSACTION", 11, TK_TRANSACTION, 0 },
	{ "TRIGGER", 7, TK_TRIGGER, 0 },
	{ "UNBOUNDED", 9, TK_UNBOUNDED, 0 },
	{ "UNION", 5, TK_UNION, 142 },
	{ "UNIQUE", 6, TK_UNIQUE, 137 },
	{ "UPDATE", 6, TK_UPDATE, 0 },
	{ "USING", 5, TK_USING, 0 },
	{ "VACUUM", 6, TK_VACUUM, 0 },
	{ "VALUES", 6, TK_VALUES, 147 },
	{ "VIEW", 4, TK_VIEW, 0 },
	{ "VIRTUAL", 7, TK_VIRTUAL, 0 },
	{ "WHEN", 4, TK_WHEN, 0 },
	{ "WHERE", 5, TK_WHERE, 0 },
	{ "WINDOW", 6, TK_WINDOW, 0 },
	{ "WITH", 4, TK_WITH, 0 },
	{ "WITHOUT", 7, TK_WITHOUT, 0 },
};
/* index + 1 of the first keyword of each hash bucket, 0 if none */
static const unsigned char kw_bucket[256] = {
	0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 80, 0, 71, 0, 0, 69, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 113, 0, 0, 107, 0, 106, 0, 121, 0,
	0, 0, 128, 0, 0, 0, 0, 0, 0, 141, 0, 0, 0, 0, 0, 145,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	114, 115, 108, 0, 138, 104, 0, 0, 0, 0, 0, 0, 0, 0, 110, 0,
	0, 134, 0, 0, 118, 0, 144, 0, 0, 0, 126, 0, 105, 136, 0, 0,
	0, 120, 0, 102, 127, 0, 0, 140, 0, 0, 0, 0, 0, 130, 103, 0,
	0, 119, 143, 125, 0, 122, 124, 0, 0, 123, 0, 111, 117, 0, 112, 131,
	0, 14, 0, 99, 18, 27, 78, 19, 44, 84, 0, 3, 8, 76, 11, 30,
	0, 75, 48, 0, 35, 36, 0, 33, 92, 37, 12, 43, 49, 38, 61, 45,
	23, 54, 67, 5, 40, 16, 0, 15, 2, 62, 90, 34, 94, 32, 47, 70,
	28, 0, 0, 64, 20, 13, 24, 4, 25, 51, 26, 7, 0, 1, 0, 10,
};

int lex_idchar(unsigned char c)
{
	unsigned char k = cclass[c];

	return k == CC_ID || k == CC_XID || k == CC_DIGIT || k == CC_DOLLAR;
}

static unsigned char upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

tk lex_keyword(const char *z, size_t n)
{
	const struct keyword *k;
	unsigned h;
	int i;
	size_t j;

	if (n < 2 || n > 17)
		return TK_ID;
	h = ((upper((unsigned char)z[0]) * 4u) ^
	     (upper((unsigned char)z[n - 1]) * 3u) ^ (unsigned)n) % 256u;
	for (i = kw_bucket[h]; i != 0; i = k->next) {
		k = &keywords[i - 1];
		if (k->len != n)
			continue;
		for (j = 0; j < n; j++)
			if (upper((unsigned char)z[j]) != (unsigned char)k->word[j])
				break;
		if (j == n)
			return (tk)k->tk;
	}
	return TK_ID;
}

void lex_init(lexer *l, const char *z, size_t n)
{
	l->z = z;
	l->n = n;
	l->off = 0;
	l->line = 1;
	l->line_start = 0;
	l->open_comment = 0;
}

/* A NUL byte ends the input, as in SQLite: the lexer finds it as it goes
 * (a scan of the whole input per statement would make a script of many
 * statements quadratic). */
static void cut_at(lexer *l, size_t i)
{
	l->n = i;
}

/* Skip a quoted token starting at z[i] (the quote q); return the offset
 * just past it, or 0 when it is not terminated.  A doubled closing quote
 * is an escaped quote, except for ']'. */
static size_t skip_quoted(lexer *l, size_t i, char q)
{
	const char *z = l->z;
	size_t n = l->n;

	for (i++; i < n; i++) {
		if (z[i] != q) {
			if (z[i] == '\n') {
				l->line++;
				l->line_start = i + 1;
			} else if (z[i] == '\0') {
				cut_at(l, i);
				return 0;
			}
			continue;
		}
		if (q != ']' && i + 1 < n && z[i + 1] == q) {
			i++;
			continue;
		}
		return i + 1;
	}
	return 0;
}

/* Length of the number at z[i], and whether it is a float. */
static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static size_t scan_number(const lexer *l, size_t i, tk *type)
{
	const char *z = l->z;
	size_t n = l->n, s = i;
	const unsigned char *cc = cclass;

	*type = TK_INTEGER;
	if (z[i] == '0' && i + 2 < n && (z[i + 1] == 'x' || z[i + 1] == 'X') &&
	    is_hex(z[i + 2])) {
		for (i += 2; i < n && is_hex(z[i]); i++)
			;
	} else {
		while (i < n && cc[(unsigned char)z[i]] == CC_DIGIT)
			i++;
		if (i < n && z[i] == '.') {
			*type = TK_FLOAT;
			for (i++; i < n && cc[(unsigned char)z[i]] == CC_DIGIT;
			     i++)
				;
		}
		if (i < n && (z[i] == 'e' || z[i] == 'E') &&
		    ((i + 1 < n && cc[(unsigned char)z[i + 1]] == CC_DIGIT) ||
		     (i + 2 < n && (z[i + 1] == '+' || z[i + 1] == '-') &&
		      cc[(unsigned char)z[i + 2]] == CC_DIGIT))) {
			*type = TK_FLOAT;
			for (i += 2; i < n && cc[(unsigned char)z[i]] == CC_DIGIT;
			     i++)
				;
		}
	}
	/* SQLite: a number running straight into a name is one bad token */
	if (i < n && lex_idchar((unsigned char)z[i])) {
		*type = TK_ILLEGAL;
		while (i < n && lex_idchar((unsigned char)z[i]))
			i++;
	}
	return i - s;
}

static size_t scan_name(const lexer *l, size_t i)
{
	size_t s = i;

	while (i < l->n && lex_idchar((unsigned char)l->z[i]))
		i++;
	return i - s;
}

/* Length and type of a blob literal x'..' at z[i] (z[i+1] is a quote). */
static size_t scan_blob(lexer *l, size_t i, tk *type)
{
	const char *z = l->z;
	size_t s = i, j;

	*type = TK_BLOB;
	for (j = i + 2; j < l->n && z[j] != '\''; j++) {
		if (z[j] == '\0')
			cut_at(l, j);
		else if (!is_hex(z[j]))
			*type = TK_ILLEGAL;
	}
	if (j >= l->n) {
		*type = TK_ILLEGAL;
		return j - s;
	}
	if ((j - i - 2) % 2 != 0)
		*type = TK_ILLEGAL;
	return j + 1 - s;
}

/* A parameter at z[i]: ?NNN, or :name @name $name (with SQLite's $a::b
 * and $a(x) forms kept to the plain name part). */
static size_t scan_variable(const lexer *l, size_t i, tk *type)
{
	const unsigned char *cc = cclass;
	size_t s = i, len;

	*type = TK_VARIABLE;
	if (l->z[i] == '?') {
		for (i++; i < l->n && cc[(unsigned char)l->z[i]] == CC_DIGIT;
		     i++)
			;
		return i - s;
	}
	len = scan_name(l, i + 1);
	if (len == 0)
		*type = TK_ILLEGAL;
	return len + 1;
}

/* Whitespace and comments from z[i]: their length.  Newlines update the
 * line counters. */
static size_t scan_space(lexer *l, size_t i)
{
	const char *z = l->z;
	size_t s = i, n = l->n;

	for (;;) {
		while (i < n && cclass[(unsigned char)z[i]] == CC_SPACE) {
			if (z[i] == '\n') {
				l->line++;
				l->line_start = i + 1;
			}
			i++;
		}
		if (i + 1 < n && z[i] == '-' && z[i + 1] == '-') {
			while (i < n && z[i] != '\n' && z[i] != '\0')
				i++;
		} else if (i + 1 < n && z[i] == '/' && z[i + 1] == '*') {
			/* an unterminated comment runs to the end, as in
			 * SQLite */
			for (i += 2; i < n && !(z[i] == '*' && i + 1 < n &&
						z[i + 1] == '/') && z[i] != '\0'; i++)
				if (z[i] == '\n') {
					l->line++;
					l->line_start = i + 1;
				}
			if (i < n && z[i] == '\0')
				cut_at(l, i);
			n = l->n;
			if (i >= n)
				l->open_comment = 1;
			i = i < n ? i + 2 : n;
		} else {
			return i - s;
		}
	}
}

/* Operators: the token type and length at z[i]. */
static size_t scan_op(const lexer *l, size_t i, tk *type)
{
	char c = l->z[i], d = i + 1 < l->n ? l->z[i + 1] : 0;

	switch (c) {
	case '-':
		if (d == '>') {
			*type = TK_PTR;
			return (i + 2 < l->n && l->z[i + 2] == '>') ? 3 : 2;
		}
		*type = TK_MINUS;
		return 1;
	case '(': *type = TK_LP; return 1;
	case ')': *type = TK_RP; return 1;
	case ';': *type = TK_SEMI; return 1;
	case '+': *type = TK_PLUS; return 1;
	case '*': *type = TK_STAR; return 1;
	case '/': *type = TK_SLASH; return 1;
	case '%': *type = TK_REM; return 1;
	case ',': *type = TK_COMMA; return 1;
	case '&': *type = TK_BITAND; return 1;
	case '~': *type = TK_BITNOT; return 1;
	case '=': *type = TK_EQ; return d == '=' ? 2 : 1;
	case '<':
		*type = d == '=' ? TK_LE : d == '>' ? TK_NE :
			d == '<' ? TK_LSHIFT : TK_LT;
		return *type == TK_LT ? 1 : 2;
	case '>':
		*type = d == '=' ? TK_GE : d == '>' ? TK_RSHIFT : TK_GT;
		return *type == TK_GT ? 1 : 2;
	case '!':
		*type = d == '=' ? TK_NE : TK_ILLEGAL;
		return d == '=' ? 2 : 1;
	case '|':
		*type = d == '|' ? TK_CONCAT : TK_BITOR;
		return d == '|' ? 2 : 1;
	default:
		*type = TK_ILLEGAL;
		return 1;
	}
}

/* One token of any kind at z[i] (not at the end): its length. */
static size_t scan_token(lexer *l, size_t i, tk *type)
{
	const char *z = l->z;
	unsigned char c = (unsigned char)z[i];
	size_t len;

	switch (cclass[c]) {
	case CC_NUL:
		cut_at(l, i);
		*type = TK_EOF;
		return 0;
	case CC_SPACE:
		*type = TK_SPACE;
		return scan_space(l, i);
	case CC_XID:
		if (i + 1 < l->n && z[i + 1] == '\'')
			return scan_blob(l, i, type);
		/* fall through */
	case CC_ID:
		len = scan_name(l, i);
		*type = lex_keyword(z + i, len);
		return len;
	case CC_DIGIT:
		return scan_number(l, i, type);
	case CC_DOT:
		if (i + 1 < l->n && cclass[(unsigned char)z[i + 1]] ==
		    CC_DIGIT)
			return scan_number(l, i, type);
		*type = TK_DOT;
		return 1;
	case CC_QUOTE:
	case CC_LBRACKET:
		len = skip_quoted(l, i, c == '[' ? ']' : (char)c);
		if (len == 0) {
			*type = TK_ILLEGAL;
			return l->n - i;
		}
		*type = c == '\'' ? TK_STRING : TK_ID;
		return len - i;
	case CC_DOLLAR:
	case CC_VARNAME:
	case CC_VARNUM:
		return scan_variable(l, i, type);
	case CC_MINUS:
		if (i + 1 < l->n && z[i + 1] == '-') {
			*type = TK_SPACE;
			return scan_space(l, i);
		}
		return scan_op(l, i, type);
	case CC_SLASH:
		if (i + 1 < l->n && z[i + 1] == '*') {
			*type = TK_SPACE;
			return scan_space(l, i);
		}
		return scan_op(l, i, type);
	default:
		return scan_op(l, i, type);
	}
}

void lex_next(lexer *l, token *t)
{
	size_t len;
	tk type;

	for (;;) {
		if (l->off >= l->n) {
			t->type = TK_EOF;
			t->off = (uint32_t)l->n;
			t->len = 0;
			t->line = l->line;
			t->col = (uint32_t)(l->n - l->line_start + 1);
			return;
		}
		t->line = l->line;
		t->col = (uint32_t)(l->off - l->line_start + 1);
		t->off = (uint32_t)l->off;
		len = scan_token(l, l->off, &type);
		l->off += len;
		if (type == TK_EOF)
			continue;
		if (type != TK_SPACE)
			break;
	}
	t->type = type;
	t->len = (uint32_t)len;
}

/* ---- sql_complete ------------------------------------------------------ */

/* SQLite's sqlite3_complete() state machine: a statement is complete at a
 * ';' unless it is inside CREATE [TEMP] TRIGGER ... BEGIN ... END. */
enum { CT_SEMI, CT_WS, CT_OTHER, CT_EXPLAIN, CT_CREATE, CT_TEMP,
	CT_TRIGGER, CT_END };

static const unsigned char complete_trans[8][8] = {
	/*            SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
	/* 0 INVALID */ { 1, 0, 2, 3, 4, 2, 2, 2 },
	/* 1 START   */ { 1, 1, 2, 3, 4, 2, 2, 2 },
	/* 2 NORMAL  */ { 1, 2, 2, 2, 2, 2, 2, 2 },
	/* 3 EXPLAIN */ { 1, 3, 3, 2, 4, 2, 2, 2 },
	/* 4 CREATE  */ { 1, 4, 2, 2, 2, 4, 5, 2 },
	/* 5 TRIGGER */ { 6, 5, 5, 5, 5, 5, 5, 5 },
	/* 6 SEMI    */ { 6, 6, 5, 5, 5, 5, 5, 7 },
	/* 7 END     */ { 1, 7, 5, 5, 5, 5, 5, 5 },
};

static int complete_class(tk type)
{
	switch (type) {
	case TK_SEMI: return CT_SEMI;
	case TK_SPACE: return CT_WS;
	case TK_EXPLAIN: return CT_EXPLAIN;
	case TK_CREATE: return CT_CREATE;
	case TK_TEMP: case TK_TEMPORARY: return CT_TEMP;
	case TK_TRIGGER: return CT_TRIGGER;
	case TK_END: return CT_END;
	default: return CT_OTHER;
	}
}

int sql_complete(const char *text)
{
	lexer l;
	int state = 0;
	size_t len;
	tk type;

	if (text == NULL)
		return 0;
	lex_init(&l, text, strlen(text));
	while (l.off < l.n) {
		char c = l.z[l.off];

		len = scan_token(&l, l.off, &type);
		if (type == TK_EOF)
			break;
		/* an unterminated string, name or comment is incomplete */
		if (type == TK_ILLEGAL && (c == '\'' || c == '"' || c == '`' ||
					   c == '['))
			return 0;
		if (l.open_comment)
			return 0;
		l.off += len;
		state = complete_trans[state][complete_class(type)];
	}
	return state == 1;
}
