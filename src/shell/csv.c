/*
 * csv.c -- the RFC 4180 reader behind .import: one record at a time, with
 * the line number of each record for error messages.  The rules (and
 * where they are stricter than sqlite3's reader) are in shell.h.
 */
#include "shell.h"
#include <stdlib.h>
#include <string.h>

struct sh_csv {
	FILE *in;                /* borrowed */
	char sep;
	long line;               /* line of the next character */
	long rec_line;           /* line where the last record began */
	int started;             /* the BOM check is done */
	sh_str *field;           /* owned: one per field of the record */
	int n_field, cap_field;
	char **ptrs;             /* owned array; strings live in field[] */
	size_t *lens;            /* owned */
	int back[4];             /* pushed-back bytes, last on top */
	int n_back;
	char err[160];
};

sh_csv *sh_csv_open(FILE *in, char sep)
{
	sh_csv *c = sh_malloc(sizeof(*c));

	memset(c, 0, sizeof(*c));
	c->in = in;
	c->sep = sep;
	c->line = 1;
	return c;
}

void sh_csv_close(sh_csv *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->cap_field; i++)
		sh_str_free(&c->field[i]);
	free(c->field);
	free(c->ptrs);
	free(c->lens);
	free(c);
}

long sh_csv_line(const sh_csv *c)
{
	return c->rec_line;
}

const char *sh_csv_errmsg(const sh_csv *c)
{
	return c->err;
}

static int rd(sh_csv *c)
{
	return c->n_back > 0 ? c->back[--c->n_back] : getc(c->in);
}

static void unrd(sh_csv *c, int ch)
{
	if (ch != EOF)
		c->back[c->n_back++] = ch;
}

static int get(sh_csv *c)
{
	int ch = rd(c);

	if (ch == '\n')
		c->line++;
	return ch;
}

/* After a '\r': '\n' if a '\n' follows (consumed), else '\r'. */
static int after_cr(sh_csv *c)
{
	int nx = rd(c);

	if (nx == '\n') {
		c->line++;
		return '\n';
	}
	unrd(c, nx);
	return '\r';
}

/* A new empty field at the end of the record. */
static sh_str *new_field(sh_csv *c)
{
	sh_str *f;

	if (c->n_field == c->cap_field) {
		int cap = c->cap_field ? c->cap_field * 2 : 8;

		c->field = sh_realloc(c->field, (size_t)cap * sizeof(*c->field));
		memset(c->field + c->cap_field, 0,
		       (size_t)(cap - c->cap_field) * sizeof(*c->field));
		c->ptrs = sh_realloc(c->ptrs, (size_t)cap * sizeof(*c->ptrs));
		c->lens = sh_realloc(c->lens, (size_t)cap * sizeof(*c->lens));
		c->cap_field = cap;
	}
	f = &c->field[c->n_field++];
	f->len = 0;
	sh_str_add(f, "", 0);
	return f;
}

static void skip_bom(sh_csv *c)
{
	int a, b, d;

	c->started = 1;
	if ((a = rd(c)) != 0xef) {
		unrd(c, a);
		return;
	}
	b = rd(c);
	d = rd(c);
	if (b == 0xbb && d == 0xbf)
		return;
	unrd(c, d);
	unrd(c, b);
	unrd(c, a);
}

/* The rest of a quoted field, after its opening quote.  Returns the
 * character after the closing quote, or -2 after setting err. */
static int quoted_field(sh_csv *c, sh_str *f)
{
	long start = c->line;
	int ch;

	for (;;) {
		ch = get(c);
		if (ch == EOF) {
			snprintf(c->err, sizeof(c->err), "line %ld: "
				 "unterminated quoted field (the quote "
				 "opened on line %ld is never closed)",
				 c->line, start);
			return -2;
		}
		if (ch == '"') {
			ch = get(c);
			if (ch != '"')
				break;
		}
		sh_str_add(f, &(char){(char)ch}, 1);
	}
	if (ch == '\r')
		ch = after_cr(c);
	if (ch != c->sep && ch != '\n' && ch != EOF) {
		snprintf(c->err, sizeof(c->err), "line %ld: unexpected "
			 "character after the closing quote of a field",
			 c->line);
		return -2;
	}
	return ch;
}

/* An unquoted field whose first character is ch.  Returns the character
 * that ended it (sep, '\n' or EOF), or -2 after setting err. */
static int plain_field(sh_csv *c, sh_str *f, int ch)
{
	for (;; ch = get(c)) {
		if (ch == c->sep || ch == '\n' || ch == EOF)
			return ch;
		if (ch == '\r' && after_cr(c) == '\n')
			return '\n';
		if (ch == '"') {
			snprintf(c->err, sizeof(c->err), "line %ld: a quote "
				 "inside an unquoted field (quote the whole "
				 "field and double the quote)", c->line);
			return -2;
		}
		sh_str_add(f, &(char){(char)ch}, 1);
	}
}

int sh_csv_next(sh_csv *c, char ***fields, size_t **lens, int *n)
{
	int ch, i;

	*fields = NULL;
	*lens = NULL;
	*n = 0;
	if (!c->started)
		skip_bom(c);
	do {                         /* blank lines carry no record */
		c->rec_line = c->line;
		ch = get(c);
		if (ch == '\r')
			ch = after_cr(c);
	} while (ch == '\n');
	if (ch == EOF)
		return ferror(c->in) ? (snprintf(c->err, sizeof(c->err),
			"line %ld: read error", c->line), RDB_ERROR) : RDB_DONE;
	c->n_field = 0;
	for (;;) {
		sh_str *f = new_field(c);

		if (ch == '"')
			ch = quoted_field(c, f);
		else
			ch = plain_field(c, f, ch);
		if (ch == -2)
			return RDB_ERROR;
		if (ch != c->sep)
			break;
		ch = get(c);
	}
	for (i = 0; i < c->n_field; i++) {
		c->ptrs[i] = c->field[i].p;
		c->lens[i] = c->field[i].len;
	}
	*fields = c->ptrs;
	*lens = c->lens;
	*n = c->n_field;
	return RDB_ROW;
}
