/*
 * input.c -- turning input lines into dot-commands and complete SQL
 * statements, with the line numbers batch error messages report.  The
 * scanner follows sqlite3 3.40's quickscan(): a few bits of state carried
 * from one line to the next.
 */
#include "shell.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Scanner state: the closing character awaited (a quote, ']', or '*' for
 * the end of a comment) in the low byte, and two flags. */
#define QS_WAIT_MASK 0xffu
#define QS_DARK 0x100u           /* something other than blanks/comments */
#define QS_SEMI 0x200u           /* the last dark character was ';' */

static unsigned wait_char(unsigned st)
{
	return st & QS_WAIT_MASK;
}

static unsigned set_wait(unsigned st, unsigned c)
{
	return (st & ~QS_WAIT_MASK) | c;
}

/* Inside a quoted name or string or a comment: find its end. */
static const char *scan_wait(const char *z, unsigned *st)
{
	unsigned w = wait_char(*st);
	char c;

	while ((c = *z++) != '\0') {
		if ((unsigned char)c != w)
			continue;
		if (w == '*') {
			if (*z != '/')
				continue;
			z++;
		} else if (w != ']' && *z == c) {
			z++;             /* a doubled quote stays inside */
			continue;
		}
		*st = set_wait(*st, 0);
		return z;
	}
	return NULL;
}

/* Scan one line, updating *st. */
static void scan_line(const char *z, unsigned *st)
{
	char c;

	if (wait_char(*st) && (z = scan_wait(z, st)) == NULL)
		return;
	while ((c = *z++) != '\0') {
		if (isspace((unsigned char)c))
			continue;
		if (c == '-' && *z == '-') {
			/* a comment to the end of the line (a recalled
			 * history entry may hold several lines) */
			if ((z = strchr(z, '\n')) == NULL)
				return;
			continue;
		}
		if (c == ';') {
			*st |= QS_SEMI;
			continue;
		}
		if (c == '/' && *z == '*') {
			*st = set_wait(*st, '*');
			z++;
		} else if (c == '[' || c == '`' || c == '\'' || c == '"') {
			*st = set_wait((*st & ~QS_SEMI) | QS_DARK,
				       c == '[' ? ']' : (unsigned char)c);
		} else {
			*st = (*st & ~QS_SEMI) | QS_DARK;
			continue;
		}
		if ((z = scan_wait(z, st)) == NULL)
			return;
	}
}

void sh_input_init(sh_input *in, int (*complete)(const char *sql))
{
	memset(in, 0, sizeof(*in));
	in->complete = complete;
}

void sh_input_free(sh_input *in)
{
	sh_str_free(&in->sql);
}

int sh_input_pending(const sh_input *in)
{
	return in->sql.len > 0;
}

/* A line of only "/" or "go" (any case), as in SQL Server and Oracle
 * scripts: it ends the statement. */
static int is_terminator_line(const char *z)
{
	while (isspace((unsigned char)*z))
		z++;
	if (*z == '/')
		z++;
	else if (strncasecmp(z, "go", 2) == 0)
		z += 2;
	else
		return 0;
	while (isspace((unsigned char)*z))
		z++;
	return *z == '\0';
}

static int is_complete(sh_input *in)
{
	return in->complete == NULL || in->complete(in->sql.p);
}

static int take_sql(sh_input *in, const char **text, long *start)
{
	*text = in->sql.p;
	*start = in->start;
	in->sql.len = 0;   /* the text stays valid until the next feed */
	in->state = 0;
	return SH_LINE_SQL;
}

int sh_input_feed(sh_input *in, const char *line, const char **text,
		  long *start)
{
	*text = NULL;
	*start = 0;
	in->lineno++;
	if (in->sql.p != NULL && in->sql.len == 0)
		in->sql.p[0] = '\0';
	if (!wait_char(in->state) && is_terminator_line(line))
		line = ";";
	if (in->sql.len == 0 && (line[0] == '.' || line[0] == '#')) {
		in->state = 0;
		if (line[0] == '#')
			return SH_LINE_SKIP;
		*text = line;
		*start = in->lineno;
		return SH_LINE_DOT;
	}
	scan_line(line, &in->state);
	if (in->sql.len == 0) {
		if (!(in->state & QS_DARK) && !wait_char(in->state)) {
			in->state = 0;
			return SH_LINE_SKIP;
		}
		in->start = in->lineno;
	}
	sh_str_adds(&in->sql, line);
	sh_str_adds(&in->sql, "\n");
	if ((in->state & QS_SEMI) && !wait_char(in->state) && is_complete(in))
		return take_sql(in, text, start);
	if (!(in->state & QS_DARK) && !wait_char(in->state)) {
		in->sql.len = 0;     /* only comments: nothing to run */
		in->state = 0;
		return SH_LINE_SKIP;
	}
	return SH_LINE_MORE;
}

int sh_input_finish(sh_input *in, const char **text, long *start)
{
	*text = NULL;
	*start = 0;
	if (in->sql.len > 0 && (in->state & QS_DARK))
		return take_sql(in, text, start);
	in->sql.len = 0;
	in->state = 0;
	return SH_LINE_SKIP;
}

int sh_read_line(FILE *f, sh_str *s)
{
	int c, any = 0;

	s->len = 0;
	sh_str_add(s, "", 0);
	while ((c = getc(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		sh_str_add(s, &(char){(char)c}, 1);
	}
	if (s->len > 0 && s->p[s->len - 1] == '\r' && c == '\n')
		s->p[--s->len] = '\0';
	return any;
}
