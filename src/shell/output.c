/*
 * output.c -- the output modes of the rdb shell.  Every mode prints the
 * bytes the sqlite3 3.40 shell prints for the same typed result rows;
 * tests/check_shell.c compares them with the sqlite3 program.  The
 * rules taken over (REAL text, CSV quoting, columnar wrapping) are listed
 * in src/shell/README.md, "Output".
 */
#include "shell.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ====================================================================
 * Memory and strings
 * ==================================================================== */

static void oom(void)
{
	fputs("Error: out of memory\n", stderr);
	exit(1);
}

void *sh_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *sh_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *sh_strndup(const char *s, size_t n)
{
	char *p = sh_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *sh_strdup(const char *s)
{
	return sh_strndup(s, strlen(s));
}

void sh_str_add(sh_str *s, const void *bytes, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 64;

		while (cap < s->len + n + 1)
			cap *= 2;
		s->p = sh_realloc(s->p, cap);
		s->cap = cap;
	}
	if (n)
		memcpy(s->p + s->len, bytes, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void sh_str_adds(sh_str *s, const char *z)
{
	sh_str_add(s, z, strlen(z));
}

void sh_str_addf(sh_str *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sh_str_add(s, "", 0);
	if (s->len + (size_t)n + 1 > s->cap) {
		s->cap = s->len + (size_t)n + 1;
		s->p = sh_realloc(s->p, s->cap);
	}
	va_start(ap, fmt);
	vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

void sh_str_free(sh_str *s)
{
	free(s->p);
	*s = (sh_str){0};
}

/* ====================================================================
 * Modes and formats
 * ==================================================================== */

static const char *const mode_names[SH_MODE_COUNT_] = {
	"list", "csv", "tabs", "line", "json", "box", "table", "markdown",
	"quote", "column", "html", "insert",
};

const char *sh_mode_name(sh_mode m)
{
	return (unsigned)m < SH_MODE_COUNT_ ? mode_names[m] : "?";
}

/* sqlite3 3.40 takes any prefix, trying the names in this order ("l" is
 * too short for lines and list). */
int sh_mode_parse(const char *name)
{
	static const struct {
		const char *name;
		int min;
		sh_mode m;
	} tab[] = {
		{"lines", 3, SH_MODE_LINE}, {"columns", 1, SH_MODE_COLUMN},
		{"list", 3, SH_MODE_LIST}, {"html", 1, SH_MODE_HTML},
		{"csv", 1, SH_MODE_CSV}, {"tabs", 1, SH_MODE_TABS},
		{"insert", 1, SH_MODE_INSERT}, {"quote", 1, SH_MODE_QUOTE},
		{"markdown", 1, SH_MODE_MARKDOWN}, {"table", 1, SH_MODE_TABLE},
		{"box", 1, SH_MODE_BOX}, {"json", 1, SH_MODE_JSON},
	};
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (n >= (size_t)tab[i].min && n <= strlen(tab[i].name) &&
		    strncmp(name, tab[i].name, n) == 0)
			return (int)tab[i].m;
	return -1;
}

int sh_mode_columnar(sh_mode m)
{
	return m == SH_MODE_COLUMN || m == SH_MODE_TABLE ||
	       m == SH_MODE_BOX || m == SH_MODE_MARKDOWN;
}

static void set_sep(char *dst, const char *src)
{
	snprintf(dst, SH_SEP_MAX, "%s", src);
}

void sh_format_default(sh_format *f)
{
	memset(f, 0, sizeof(*f));
	f->mode = SH_MODE_LIST;
	set_sep(f->colsep, "|");
	set_sep(f->rowsep, "\n");
	set_sep(f->table, "\"table\"");
}

/* sqlite3 3.40 ".mode": csv and tabs reset both separators (csv to
 * "\r\n" rows), quote and list keep them, columnar modes wrap at 60. */
void sh_format_set_mode(sh_format *f, sh_mode m, int header_set)
{
	f->mode = m;
	f->wrap = 0;
	f->wordwrap = 0;
	f->quote = 0;
	switch (m) {
	case SH_MODE_CSV:
		set_sep(f->colsep, ",");
		set_sep(f->rowsep, "\r\n");
		break;
	case SH_MODE_TABS:
		set_sep(f->colsep, "\t");
		break;
	case SH_MODE_LIST:
		set_sep(f->colsep, "|");
		set_sep(f->rowsep, "\n");
		break;
	case SH_MODE_LINE:
		set_sep(f->rowsep, "\n");
		break;
	case SH_MODE_QUOTE:
		set_sep(f->colsep, ",");
		set_sep(f->rowsep, "\n");
		break;
	case SH_MODE_COLUMN:
		set_sep(f->rowsep, "\n");
		/* fall through */
	case SH_MODE_BOX:
	case SH_MODE_TABLE:
	case SH_MODE_MARKDOWN:
		f->wrap = 60;
		if (!header_set)
			f->header = 1;
		break;
	default:
		break;
	}
}

void sh_format_set_table(sh_format *f, const char *name)
{
	size_t n = 0;
	int q = sh_ident_needs_quote(name);

	if (q)
		f->table[n++] = '"';
	for (; *name && n + 4 < sizeof(f->table); name++) {
		f->table[n++] = *name;
		if (q && *name == '"')
			f->table[n++] = '"';
	}
	if (q)
		f->table[n++] = '"';
	f->table[n] = '\0';
}

/* The command-line options -csv, -box, ...: like .mode, but csv keeps
 * "\n" rows, and no columnar defaults (headers stay off, no wrap). */
void sh_format_flag_mode(sh_format *f, sh_mode m)
{
	f->mode = m;
	if (m == SH_MODE_CSV || m == SH_MODE_QUOTE)
		set_sep(f->colsep, ",");
	else if (m == SH_MODE_TABS)
		set_sep(f->colsep, "\t");
}

/* ====================================================================
 * REAL values as sqlite's printf writes them
 * ==================================================================== */

static const double round_tab[] = {
	5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04, 5.0e-05,
	5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10,
};

/* The next decimal digit of *v (in [0, 10)), at most *left of them; the
 * long double arithmetic is sqlite 3.40's, digit for digit. */
static char next_digit(long double *v, int *left)
{
	int d;

	if (*left <= 0)
		return '0';
	(*left)--;
	d = (int)*v;
	*v = (*v - (long double)d) * 10.0;
	return (char)('0' + d);
}

/* Scale v (> 0) into [1, 10); returns the decimal exponent (> 350 for
 * an infinity). */
static int normalise(long double *v)
{
	long double scale = 1.0;
	int e = 0;

	while (*v >= 1e100 * scale && e <= 350) {
		scale *= 1e100;
		e += 100;
	}
	while (*v >= 1e10 * scale && e <= 350) {
		scale *= 1e10;
		e += 10;
	}
	while (*v >= 10.0 * scale && e <= 350) {
		scale *= 10.0;
		e++;
	}
	*v /= scale;
	while (*v < 1e-8) {
		*v *= 1e8;
		e -= 8;
	}
	while (*v < 1.0) {
		*v *= 10.0;
		e--;
	}
	return e;
}

static char *put_exponent(char *p, int e)
{
	*p++ = 'e';
	*p++ = e < 0 ? '-' : '+';
	if (e < 0)
		e = -e;
	if (e >= 100) {
		*p++ = (char)('0' + e / 100);
		e %= 100;
	}
	*p++ = (char)('0' + e / 10);
	*p++ = (char)('0' + e % 10);
	return p;
}

void sh_real_text(double r, int prec, char *buf)
{
	long double v = r, rounder;
	int e = 0, e2, left = 26, use_exp, idx;
	char *p = buf;

	if (r != r) {
		strcpy(buf, "NaN");
		return;
	}
	if (v < 0.0) {
		v = -v;
		*p++ = '-';
	}
	if (prec > 0)
		prec--;
	idx = prec & 0xfff;
	rounder = round_tab[idx % 10];
	for (; idx >= 10; idx -= 10)
		rounder *= 1.0e-10;
	if (v > 0.0 && (e = normalise(&v)) > 350) {
		strcpy(p, "Inf");
		return;
	}
	v += rounder;
	if (v >= 10.0) {
		v *= 0.1;
		e++;
	}
	use_exp = e < -4 || e > prec;
	if (!use_exp)
		prec -= e;
	e2 = use_exp ? 0 : e;
	if (e2 < 0)
		*p++ = '0';
	for (; e2 >= 0; e2--)
		*p++ = next_digit(&v, &left);
	*p++ = '.';
	for (e2++; e2 < 0; prec--, e2++)
		*p++ = '0';
	while (prec-- > 0)
		*p++ = next_digit(&v, &left);
	while (p[-1] == '0')
		p--;
	if (p[-1] == '.')
		*p++ = '0';
	if (use_exp)
		p = put_exponent(p, e);
	*p = '\0';
}

/* ====================================================================
 * Text helpers
 * ==================================================================== */

int sh_utf8_chars(const char *z)
{
	int n = 0;

	for (; *z; z++)
		if ((*z & 0xc0) != 0x80)
			n++;
	return n;
}

void sh_print_quoted(FILE *out, const char *z)
{
	fputc('\'', out);
	for (; *z; z++) {
		if (*z == '\'')
			fputc('\'', out);
		fputc(*z, out);
	}
	fputc('\'', out);
}

void sh_print_hex_blob(FILE *out, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	fputs("X'", out);
	for (i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
	fputc('\'', out);
}

/* A string of z in '...' with '' for quotes, and newlines and carriage
 * returns spelt char(10)/char(13) through replace(), as sqlite3's insert
 * mode writes them so that every statement stays on one line. */
static const char *unused_marker(const char *z, const char *a,
				 const char *b, char *buf)
{
	unsigned i = 0;

	if (strstr(z, a) == NULL)
		return a;
	if (strstr(z, b) == NULL)
		return b;
	do
		snprintf(buf, 20, "(%s%u)", a, i++);
	while (strstr(z, buf) != NULL);
	return buf;
}

static void print_quoted_escaped(FILE *out, const char *z)
{
	char buf_nl[20], buf_cr[20];
	const char *nl = NULL, *cr = NULL;

	if (strpbrk(z, "\n\r") == NULL) {
		sh_print_quoted(out, z);
		return;
	}
	if (strchr(z, '\n')) {
		fputs("replace(", out);
		nl = unused_marker(z, "\\n", "\\012", buf_nl);
	}
	if (strchr(z, '\r')) {
		fputs("replace(", out);
		cr = unused_marker(z, "\\r", "\\015", buf_cr);
	}
	fputc('\'', out);
	for (; *z; z++) {
		if (*z == '\n')
			fputs(nl, out);
		else if (*z == '\r')
			fputs(cr, out);
		else {
			if (*z == '\'')
				fputc('\'', out);
			fputc(*z, out);
		}
	}
	fputc('\'', out);
	if (cr)
		fprintf(out, ",'%s',char(13))", cr);
	if (nl)
		fprintf(out, ",'%s',char(10))", nl);
}

static void print_json_string(FILE *out, const char *z, size_t n)
{
	fputc('"', out);
	for (; n > 0; n--, z++) {
		unsigned char c = (unsigned char)*z;

		if (c == '\\' || c == '"') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c <= 0x1f) {
			static const char esc[] = "\bb\ff\nn\rr\tt";
			const char *e = memchr(esc, c, sizeof(esc) - 1);

			if (e != NULL && (e - esc) % 2 == 0)
				fprintf(out, "\\%c", e[1]);
			else
				fprintf(out, "\\u%04x", c);
		} else {
			fputc(c, out);
		}
	}
	fputc('"', out);
}

/* Which bytes force a CSV field into quotes: controls, space, '"', '\'',
 * DEL and every byte of a multi-byte character (sqlite3's needCsvQuote). */
static int csv_needs_quote(const char *z, const char *sep)
{
	const unsigned char *u = (const unsigned char *)z;

	if (*u == '\0')
		return 1;
	for (; *u; u++)
		if (*u <= ' ' || *u == '"' || *u == '\'' || *u >= 0x7f)
			return 1;
	return strstr(z, sep) != NULL;
}

static void print_csv(FILE *out, const char *z, const sh_format *f)
{
	if (z == NULL) {
		fputs(f->nullvalue, out);
		return;
	}
	if (!csv_needs_quote(z, f->colsep)) {
		fputs(z, out);
		return;
	}
	fputc('"', out);
	for (; *z; z++) {
		if (*z == '"')
			fputc('"', out);
		fputc(*z, out);
	}
	fputc('"', out);
}

static void print_html(FILE *out, const char *z)
{
	for (; *z; z++) {
		switch (*z) {
		case '<': fputs("&lt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*z, out); break;
		}
	}
}

/* ====================================================================
 * Keywords (identifier quoting, completion)
 * ==================================================================== */

const char *const sh_keywords[] = {
	"ABORT", "ACTION", "ADD", "AFTER", "ALL", "ALTER", "ALWAYS",
	"ANALYZE", "AND", "AS", "ASC", "ATTACH", "AUTOINCREMENT", "BEFORE",
	"BEGIN", "BETWEEN", "BY", "CASCADE", "CASE", "CAST", "CHECK",
	"COLLATE", "COLUMN", "COMMIT", "CONFLICT", "CONSTRAINT", "CREATE",
	"CROSS", "CURRENT", "CURRENT_DATE", "CURRENT_TIME",
	"CURRENT_TIMESTAMP", "DATABASE", "DEFAULT", "DEFERRABLE",
	"DEFERRED", "DELETE", "DESC", "DETACH", "DISTINCT", "DO", "DROP",
	"EACH", "ELSE", "END", "ESCAPE", "EXCEPT", "EXCLUDE", "EXCLUSIVE",
	"EXISTS", "EXPLAIN", "FAIL", "FILTER", "FIRST", "FOLLOWING", "FOR",
	"FOREIGN", "FROM", "FULL", "GENERATED", "GLOB", "GROUP", "GROUPS",
	"HAVING", "IF", "IGNORE", "IMMEDIATE", "IN", "INDEX", "INDEXED",
	"INITIALLY", "INNER", "INSERT", "INSTEAD", "INTERSECT", "INTO", "IS",
	"ISNULL", "JOIN", "KEY", "LAST", "LEFT", "LIKE", "LIMIT", "MATCH",
	"MATERIALIZED", "NATURAL", "NO", "NOT", "NOTHING", "NOTNULL", "NULL",
	"NULLS", "OF", "OFFSET", "ON", "OR", "ORDER", "OTHERS", "OUTER",
	"OVER", "PARTITION", "PLAN", "PRAGMA", "PRECEDING", "PRIMARY",
	"QUERY", "RAISE", "RANGE", "RECURSIVE", "REFERENCES", "REGEXP",
	"REINDEX", "RELEASE", "RENAME", "REPLACE", "RESTRICT", "RETURNING",
	"RIGHT", "ROLLBACK", "ROW", "ROWS", "SAVEPOINT", "SELECT", "SET",
	"TABLE", "TEMP", "TEMPORARY", "THEN", "TIES", "TO", "TRANSACTION",
	"TRIGGER", "UNBOUNDED", "UNION", "UNIQUE", "UPDATE", "USING",
	"VACUUM", "VALUES", "VIEW", "VIRTUAL", "WHEN", "WHERE", "WINDOW",
	"WITH", "WITHOUT", NULL,
};

int sh_is_keyword(const char *word, size_t n)
{
	int i;

	for (i = 0; sh_keywords[i] != NULL; i++)
		if (strlen(sh_keywords[i]) == n &&
		    strncasecmp(sh_keywords[i], word, n) == 0)
			return 1;
	return 0;
}

int sh_ident_needs_quote(const char *name)
{
	const unsigned char *u = (const unsigned char *)name;
	size_t i;

	if (!isalpha(u[0]) && u[0] != '_')
		return 1;
	for (i = 0; u[i]; i++)
		if (!isalnum(u[i]) && u[i] != '_')
			return 1;
	return sh_is_keyword(name, i);
}

static void print_ident(FILE *out, const char *name)
{
	if (!sh_ident_needs_quote(name)) {
		fputs(name, out);
		return;
	}
	fputc('"', out);
	for (; *name; name++) {
		if (*name == '"')
			fputc('"', out);
		fputc(*name, out);
	}
	fputc('"', out);
}

/* ====================================================================
 * Columnar layout (column, table, box, markdown)
 * ==================================================================== */

/*
 * The first display line of z: tabs expanded to multiples of 8, at most
 * maxw characters (0: no limit), cut before a control character.  *tail
 * gets where the next line starts, or NULL.  With wordwrap, a line cut at
 * maxw backs up to a space or a word boundary in its second half.
 */
static char *display_line(const unsigned char *z, const unsigned char **tail,
			  int maxw, int wordwrap)
{
	sh_str s = {0};
	int i = 0, n = 0, k;

	if (maxw < 0)
		maxw = -maxw;
	if (maxw == 0)
		maxw = 1000000;
	while (n < maxw) {
		if (z[i] >= ' ') {
			n++;
			do
				i++;
			while ((z[i] & 0xc0) == 0x80);
		} else if (z[i] == '\t') {
			do
				n++;
			while ((n & 7) != 0 && n < maxw);
			i++;
		} else {
			break;
		}
	}
	k = i;
	if (n >= maxw && wordwrap) {
		for (k = i; k > i / 2; k--)
			if (isspace(z[k - 1]))
				break;
		if (k <= i / 2)
			for (k = i; k > i / 2; k--)
				if (!!isalnum(z[k - 1]) != !!isalnum(z[k]) &&
				    (z[k] & 0xc0) != 0x80)
					break;
		if (k <= i / 2) {
			k = i;
		} else {
			i = k;
			while (z[i] == ' ')
				i++;
		}
	}
	if (n >= maxw && z[i] >= ' ')
		*tail = &z[i];
	else if (z[i] == '\r' && z[i + 1] == '\n')
		*tail = z[i + 2] ? &z[i + 2] : NULL;
	else if (z[i] == '\0' || z[i + 1] == '\0')
		*tail = NULL;
	else
		*tail = &z[i + 1];
	sh_str_add(&s, "", 0);
	for (i = n = 0; i < k;) {
		if (z[i] >= ' ') {
			n++;
			do
				sh_str_add(&s, &z[i++], 1);
			while ((z[i] & 0xc0) == 0x80);
		} else if (z[i] == '\t') {
			do {
				n++;
				sh_str_add(&s, " ", 1);
			} while ((n & 7) != 0 && n < maxw);
			i++;
		} else {
			break;
		}
	}
	return s.p;
}

struct sh_out {
	sh_format f;
	FILE *out;
	int ncol;
	char **names;            /* owned copies, "" for NULL */
	long n_rows;             /* rows received */
	sh_str tmp;              /* scratch for one value's text */
	/* columnar modes: display lines, header line first, row-major */
	char **cells;            /* owned */
	size_t n_cells, cap_cells;
	char *row_last;          /* per display row: last line of its row */
	size_t cap_rows;
	int multiline;           /* some row took several display lines */
	int *width;              /* actual column widths */
};

/* The value as text, like sqlite3_column_text(): NULL for NULL, text and
 * blobs up to their first NUL.  Borrowed until the next call. */
static const char *value_text(sh_out *o, const sh_value *v)
{
	char num[64];

	o->tmp.len = 0;
	switch (v->type) {
	case RDB_NULL:
		return NULL;
	case RDB_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)v->i);
		sh_str_adds(&o->tmp, num);
		break;
	case RDB_FLOAT:
		sh_real_text(v->r, 15, num);
		sh_str_adds(&o->tmp, num);
		break;
	default:
		sh_str_add(&o->tmp, v->p, v->n);
		break;
	}
	return o->tmp.p;
}

/* The value as an SQL literal, as the columnar modes show it with
 * --quote (text quoted, blobs x'..', NULL). */
static char *value_quoted(sh_out *o, const sh_value *v)
{
	sh_str s = {0};
	const char *z;
	size_t i;

	if (v->type == RDB_NULL)
		return sh_strdup("NULL");
	if (v->type == RDB_BLOB) {
		sh_str_adds(&s, "x'");
		for (i = 0; i < v->n; i++)
			sh_str_addf(&s, "%02x", ((const unsigned char *)v->p)[i]);
		sh_str_adds(&s, "'");
		return s.p;
	}
	z = value_text(o, v);
	if (v->type != RDB_TEXT)
		return sh_strdup(z);
	sh_str_adds(&s, "'");
	for (; *z; z++) {
		if (*z == '\'')
			sh_str_add(&s, z, 1);
		sh_str_add(&s, z, 1);
	}
	sh_str_adds(&s, "'");
	return s.p;
}

static int col_wrap(const sh_out *o, int i)
{
	int w = i < o->f.n_widths ? o->f.widths[i] : 0;

	if (w == 0)
		w = o->f.wrap;
	return w < 0 ? -w : w;
}

static int col_spec(const sh_out *o, int i)
{
	return i < o->f.n_widths ? o->f.widths[i] : 0;
}

static void add_cell(sh_out *o, char *cell)
{
	if (o->n_cells == o->cap_cells) {
		o->cap_cells = o->cap_cells ? o->cap_cells * 2 : 64;
		o->cells = sh_realloc(o->cells,
				      o->cap_cells * sizeof(*o->cells));
	}
	o->cells[o->n_cells++] = cell;
}

/* Start a display row; returns its index among the data rows. */
static size_t add_display_row(sh_out *o)
{
	size_t r = o->n_cells / (size_t)o->ncol - 1;

	if (r >= o->cap_rows) {
		o->cap_rows = o->cap_rows ? o->cap_rows * 2 : 64;
		o->row_last = sh_realloc(o->row_last, o->cap_rows);
	}
	o->row_last[r] = 1;
	return r;
}

static void columnar_row(sh_out *o, const sh_value *vals)
{
	const unsigned char **next = sh_malloc(o->ncol * sizeof(*next));
	char **src = sh_malloc(o->ncol * sizeof(*src));
	int i, more = 0, use_next = 0;
	size_t r;

	for (i = 0; i < o->ncol; i++) {
		const char *z;

		if (o->f.quote) {
			src[i] = value_quoted(o, &vals[i]);
		} else {
			z = value_text(o, &vals[i]);
			src[i] = sh_strdup(z ? z : o->f.nullvalue);
		}
		next[i] = NULL;
	}
	do {
		more = 0;
		r = add_display_row(o);
		for (i = 0; i < o->ncol; i++) {
			const unsigned char *u = (const unsigned char *)src[i];

			if (use_next)
				u = next[i] ? next[i] : (const unsigned char *)"";
			add_cell(o, display_line(u, &next[i], col_wrap(o, i),
						 o->f.wordwrap));
			if (next[i] != NULL) {
				more = 1;
				o->row_last[r] = 0;
				o->multiline = 1;
			}
		}
		use_next = more;
	} while (more);
	for (i = 0; i < o->ncol; i++)
		free(src[i]);
	free(src);
	free(next);
}

static void width_print(FILE *out, int w, const char *z)
{
	int aw = w < 0 ? -w : w, i, n;

	for (i = n = 0; z[i]; i++) {
		if ((z[i] & 0xc0) != 0x80) {
			n++;
			if (n == aw) {
				do
					i++;
				while ((z[i] & 0xc0) == 0x80);
				break;
			}
		}
	}
	if (n >= aw)
		fprintf(out, "%.*s", i, z);
	else if (w < 0)
		fprintf(out, "%*s%s", aw - n, "", z);
	else
		fprintf(out, "%s%*s", z, aw - n, "");
}

#define BOX_24 "\342\224\200"    /* U+2500 horizontal */
#define BOX_13 "\342\224\202"    /* U+2502 vertical */
#define BOX_23 "\342\224\214"    /* U+250c top left */
#define BOX_34 "\342\224\220"    /* U+2510 top right */
#define BOX_12 "\342\224\224"    /* U+2514 bottom left */
#define BOX_14 "\342\224\230"    /* U+2518 bottom right */
#define BOX_123 "\342\224\234"   /* U+251c left tee */
#define BOX_134 "\342\224\244"   /* U+2524 right tee */
#define BOX_234 "\342\224\254"   /* U+252c top tee */
#define BOX_124 "\342\224\264"   /* U+2534 bottom tee */
#define BOX_1234 "\342\224\274"  /* U+253c cross */

static void rule(sh_out *o, const char *left, const char *mid,
		 const char *right, const char *dash)
{
	int i, k;

	for (i = 0; i < o->ncol; i++) {
		fputs(i == 0 ? left : mid, o->out);
		for (k = 0; k < o->width[i] + 2; k++)
			fputs(dash, o->out);
	}
	fputs(right, o->out);
	fputc('\n', o->out);
}

static void row_rule(sh_out *o)
{
	if (o->f.mode == SH_MODE_TABLE)
		rule(o, "+", "+", "+", "-");
	else if (o->f.mode == SH_MODE_BOX)
		rule(o, BOX_123, BOX_1234, BOX_134, BOX_24);
	else if (o->f.mode == SH_MODE_COLUMN)
		fputc('\n', o->out);
}

/* The header: names centred between bars (table, box, markdown), or
 * padded names over dashes (column, when headers are on). */
static void columnar_header(sh_out *o)
{
	const char *bar = o->f.mode == SH_MODE_BOX ? BOX_13 : "|";
	int i, k, w, n;

	if (o->f.mode == SH_MODE_COLUMN) {
		if (!o->f.header)
			return;
		for (i = 0; i < o->ncol; i++) {
			w = col_spec(o, i) < 0 ? -o->width[i] : o->width[i];
			width_print(o->out, w, o->cells[i]);
			fputs(i == o->ncol - 1 ? "\n" : "  ", o->out);
		}
		for (i = 0; i < o->ncol; i++) {
			for (k = 0; k < o->width[i]; k++)
				fputc('-', o->out);
			fputs(i == o->ncol - 1 ? "\n" : "  ", o->out);
		}
		return;
	}
	if (o->f.mode == SH_MODE_TABLE)
		rule(o, "+", "+", "+", "-");
	else if (o->f.mode == SH_MODE_BOX)
		rule(o, BOX_23, BOX_234, BOX_34, BOX_24);
	fprintf(o->out, "%s ", bar);
	for (i = 0; i < o->ncol; i++) {
		w = o->width[i];
		n = sh_utf8_chars(o->cells[i]);
		fprintf(o->out, "%*s%s%*s", (w - n) / 2, "", o->cells[i],
			(w - n + 1) / 2, "");
		fprintf(o->out, i == o->ncol - 1 ? " %s\n" : " %s ", bar);
	}
	if (o->f.mode == SH_MODE_TABLE)
		rule(o, "+", "+", "+", "-");
	else if (o->f.mode == SH_MODE_BOX)
		rule(o, BOX_123, BOX_1234, BOX_134, BOX_24);
	else
		rule(o, "|", "|", "|", "-");
}

static void columnar_print(sh_out *o)
{
	const char *colsep = "  ", *rowsep = "\n", *start = "";
	size_t i, total = o->n_cells;
	int j, w;

	for (i = 0; i < total; i++) {
		int n = sh_utf8_chars(o->cells[i]);

		if (n > o->width[i % o->ncol])
			o->width[i % o->ncol] = n;
	}
	columnar_header(o);
	if (o->f.mode == SH_MODE_BOX) {
		colsep = " " BOX_13 " ";
		rowsep = " " BOX_13 "\n";
		start = BOX_13 " ";
	} else if (o->f.mode != SH_MODE_COLUMN) {
		colsep = " | ";
		rowsep = " |\n";
		start = "| ";
	}
	for (i = (size_t)o->ncol, j = 0; i < total; i++, j++) {
		if (j == 0)
			fputs(start, o->out);
		w = col_spec(o, j) < 0 ? -o->width[j] : o->width[j];
		width_print(o->out, w, o->cells[i]);
		if (j < o->ncol - 1) {
			fputs(colsep, o->out);
			continue;
		}
		fputs(rowsep, o->out);
		if (o->multiline && o->row_last[i / o->ncol - 1] &&
		    i + 1 < total)
			row_rule(o);
		j = -1;
	}
	if (o->f.mode == SH_MODE_TABLE)
		rule(o, "+", "+", "+", "-");
	else if (o->f.mode == SH_MODE_BOX)
		rule(o, BOX_12, BOX_124, BOX_14, BOX_24);
}

/* ====================================================================
 * Row-at-a-time modes
 * ==================================================================== */

/* A REAL as quote, insert and json modes write it: 20 digits; insert
 * and json write infinities as 1e999, insert whole values as "N.0". */
static void print_real_literal(FILE *out, double r, sh_mode m)
{
	char buf[64];

	if (m != SH_MODE_QUOTE && (r > 1.7976931348623157e308 ||
				   r < -1.7976931348623157e308)) {
		fputs(r > 0 ? "1e999" : "-1e999", out);
		return;
	}
	if (m == SH_MODE_INSERT && r >= -9223372036854775808.0 &&
	    r < 9223372036854775808.0 && r == (double)(long long)r) {
		fprintf(out, "%lld.0", (long long)r);
		return;
	}
	sh_real_text(r, 20, buf);
	fputs(buf, out);
}

/* A value as an SQL literal (quote and insert modes). */
static void print_literal(sh_out *o, const sh_value *v)
{
	const char *z;

	switch (v->type) {
	case RDB_NULL:
		fputs("NULL", o->out);
		break;
	case RDB_INTEGER:
		fprintf(o->out, "%lld", (long long)v->i);
		break;
	case RDB_FLOAT:
		print_real_literal(o->out, v->r, o->f.mode);
		break;
	case RDB_BLOB:
		sh_print_hex_blob(o->out, v->p, v->n);
		break;
	default:
		z = value_text(o, v);
		if (o->f.mode == SH_MODE_INSERT)
			print_quoted_escaped(o->out, z);
		else
			sh_print_quoted(o->out, z);
		break;
	}
}

static void print_json_value(sh_out *o, const sh_value *v)
{
	const char *z;

	switch (v->type) {
	case RDB_NULL:
		fputs("null", o->out);
		break;
	case RDB_FLOAT:
		print_real_literal(o->out, v->r, SH_MODE_JSON);
		break;
	case RDB_BLOB:
		print_json_string(o->out, v->p, v->n);
		break;
	case RDB_TEXT:
		z = value_text(o, v);
		print_json_string(o->out, z, strlen(z));
		break;
	default:
		fputs(value_text(o, v), o->out);
		break;
	}
}

/* The column names of list, tabs, csv, quote and html (first row). */
static void header_line(sh_out *o)
{
	FILE *out = o->out;
	int i;

	if (o->f.mode == SH_MODE_HTML) {
		fputs("<TR>", out);
		for (i = 0; i < o->ncol; i++) {
			fputs("<TH>", out);
			print_html(out, o->names[i]);
			fputs("</TH>\n", out);
		}
		fputs("</TR>\n", out);
		return;
	}
	for (i = 0; i < o->ncol; i++) {
		if (o->f.mode == SH_MODE_CSV)
			print_csv(out, o->names[i], &o->f);
		else if (o->f.mode == SH_MODE_QUOTE)
			sh_print_quoted(out, o->names[i]);
		else
			fputs(o->names[i], out);
		if (i < o->ncol - 1)
			fputs(o->f.colsep, out);
	}
	fputs(o->f.rowsep, out);
}

static void line_row(sh_out *o, const sh_value *vals)
{
	int i, w = 5;
	const char *z;

	for (i = 0; i < o->ncol; i++)
		if ((int)strlen(o->names[i]) > w)
			w = (int)strlen(o->names[i]);
	if (o->n_rows > 0)
		fputs(o->f.rowsep, o->out);
	for (i = 0; i < o->ncol; i++) {
		z = value_text(o, &vals[i]);
		fprintf(o->out, "%*s = %s%s", w, o->names[i],
			z ? z : o->f.nullvalue, o->f.rowsep);
	}
}

static void json_row(sh_out *o, const sh_value *vals)
{
	int i;

	fputs(o->n_rows == 0 ? "[{" : ",\n{", o->out);
	for (i = 0; i < o->ncol; i++) {
		print_json_string(o->out, o->names[i], strlen(o->names[i]));
		fputc(':', o->out);
		print_json_value(o, &vals[i]);
		if (i < o->ncol - 1)
			fputc(',', o->out);
	}
	fputc('}', o->out);
}

static void insert_row(sh_out *o, const sh_value *vals)
{
	int i;

	fprintf(o->out, "INSERT INTO %s", o->f.table);
	if (o->f.header) {
		fputc('(', o->out);
		for (i = 0; i < o->ncol; i++) {
			if (i > 0)
				fputc(',', o->out);
			print_ident(o->out, o->names[i]);
		}
		fputc(')', o->out);
	}
	for (i = 0; i < o->ncol; i++) {
		fputs(i > 0 ? "," : " VALUES(", o->out);
		print_literal(o, &vals[i]);
	}
	fputs(");\n", o->out);
}

/* list, tabs, csv, quote, html: one line per row. */
static void separated_row(sh_out *o, const sh_value *vals)
{
	FILE *out = o->out;
	const char *z;
	int i;

	if (o->n_rows == 0 && o->f.header)
		header_line(o);
	if (o->f.mode == SH_MODE_HTML)
		fputs("<TR>", out);
	for (i = 0; i < o->ncol; i++) {
		if (o->f.mode == SH_MODE_QUOTE) {
			print_literal(o, &vals[i]);
		} else if (o->f.mode == SH_MODE_HTML) {
			z = value_text(o, &vals[i]);
			fputs("<TD>", out);
			print_html(out, z ? z : o->f.nullvalue);
			fputs("</TD>\n", out);
			continue;
		} else {
			z = value_text(o, &vals[i]);
			if (o->f.mode == SH_MODE_CSV)
				print_csv(out, z, &o->f);
			else
				fputs(z ? z : o->f.nullvalue, out);
		}
		fputs(i < o->ncol - 1 ? o->f.colsep : o->f.rowsep, out);
	}
	if (o->f.mode == SH_MODE_HTML)
		fputs("</TR>\n", out);
	else if (o->ncol == 0 && o->f.mode == SH_MODE_CSV)
		fputs(o->f.rowsep, out);
}

/* ====================================================================
 * Result sets
 * ==================================================================== */

sh_out *sh_out_begin(const sh_format *f, FILE *out, int ncol,
		     const char *const *names)
{
	sh_out *o = sh_malloc(sizeof(*o));
	const unsigned char *unused;
	int i;

	memset(o, 0, sizeof(*o));
	o->f = *f;
	o->out = out;
	o->ncol = ncol;
	o->names = sh_malloc((size_t)ncol * sizeof(*o->names));
	for (i = 0; i < ncol; i++)
		o->names[i] = sh_strdup(names[i] ? names[i] : "");
	if (sh_mode_columnar(f->mode)) {
		o->width = sh_malloc((size_t)ncol * sizeof(*o->width));
		for (i = 0; i < ncol; i++) {
			int w = col_spec(o, i);

			o->width[i] = w < 0 ? -w : w;
			add_cell(o, display_line(
				(const unsigned char *)o->names[i], &unused,
				col_wrap(o, i), f->wordwrap));
		}
	}
	return o;
}

void sh_out_row(sh_out *o, const sh_value *vals)
{
	switch (o->f.mode) {
	case SH_MODE_COLUMN:
	case SH_MODE_TABLE:
	case SH_MODE_BOX:
	case SH_MODE_MARKDOWN:
		if (o->ncol > 0)
			columnar_row(o, vals);
		break;
	case SH_MODE_LINE:
		line_row(o, vals);
		break;
	case SH_MODE_JSON:
		json_row(o, vals);
		break;
	case SH_MODE_INSERT:
		insert_row(o, vals);
		break;
	default:
		separated_row(o, vals);
		break;
	}
	o->n_rows++;
}

void sh_out_end(sh_out *o, int stop)
{
	size_t i;
	int k;

	if (o == NULL)
		return;
	if (sh_mode_columnar(o->f.mode) && o->n_rows > 0 && o->ncol > 0 &&
	    !stop)
		columnar_print(o);
	if (o->f.mode == SH_MODE_JSON && o->n_rows > 0)
		fputs("]\n", o->out);
	for (i = 0; i < o->n_cells; i++)
		free(o->cells[i]);
	for (k = 0; k < o->ncol; k++)
		free(o->names[k]);
	free(o->cells);
	free(o->row_last);
	free(o->width);
	free(o->names);
	sh_str_free(&o->tmp);
	free(o);
}

/* ====================================================================
 * EXPLAIN QUERY PLAN as a tree
 * ==================================================================== */

void sh_eqp_add(sh_eqp *e, int id, int parent, const char *detail)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->id = sh_realloc(e->id, (size_t)e->cap * sizeof(*e->id));
		e->parent = sh_realloc(e->parent,
				       (size_t)e->cap * sizeof(*e->parent));
		e->detail = sh_realloc(e->detail,
				       (size_t)e->cap * sizeof(*e->detail));
	}
	e->id[e->n] = id;
	e->parent[e->n] = parent;
	e->detail[e->n] = sh_strdup(detail ? detail : "");
	e->n++;
}

/* The first row after row `after` (-1: from the start) whose parent is
 * parent, or -1. */
static int eqp_next(const sh_eqp *e, int parent, int after)
{
	int i;

	for (i = after + 1; i < e->n; i++)
		if (e->parent[i] == parent)
			return i;
	return -1;
}

static void eqp_level(const sh_eqp *e, FILE *out, int parent, char *prefix,
		      size_t cap)
{
	size_t n = strlen(prefix);
	int r, next;

	for (r = eqp_next(e, parent, -1); r >= 0; r = next) {
		next = eqp_next(e, parent, r);
		fprintf(out, "%s%s%s\n", prefix, next >= 0 ? "|--" : "`--",
			e->detail[r]);
		if (n + 7 < cap) {
			memcpy(prefix + n, next >= 0 ? "|  " : "   ", 4);
			eqp_level(e, out, e->id[r], prefix, cap);
			prefix[n] = '\0';
		}
	}
}

void sh_eqp_render(sh_eqp *e, FILE *out)
{
	char prefix[100] = "";
	int i;

	if (e->n > 0 && out != NULL) {
		fputs("QUERY PLAN\n", out);
		eqp_level(e, out, 0, prefix, sizeof(prefix));
	}
	for (i = 0; i < e->n; i++)
		free(e->detail[i]);
	free(e->id);
	free(e->parent);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

static const char *skip_blank(const char *z)
{
	for (;;) {
		while (isspace((unsigned char)*z))
			z++;
		if (z[0] == '-' && z[1] == '-') {
			z += strcspn(z, "\n");
		} else if (z[0] == '/' && z[1] == '*') {
			const char *end = strstr(z + 2, "*/");

			if (end == NULL)
				return z + strlen(z);
			z = end + 2;
		} else {
			return z;
		}
	}
}

int sh_is_eqp(const char *sql)
{
	static const char *const words[] = {"EXPLAIN", "QUERY", "PLAN"};
	size_t i, n;

	for (i = 0; i < 3; i++) {
		sql = skip_blank(sql);
		n = strlen(words[i]);
		if (strncasecmp(sql, words[i], n) != 0 ||
		    isalnum((unsigned char)sql[n]) || sql[n] == '_')
			return 0;
		sql += n;
	}
	return 1;
}
