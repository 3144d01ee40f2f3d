/*
 * sql_util.c -- SQL test helpers; see sql_util.h.
 */
#include "sql_util.h"
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[65536];

void su_ok(rdb *db, const char *sql)
{
	char *msg = NULL;
	int rc = rdb_exec(db, sql, NULL, NULL, &msg);

	ck_assert_msg(rc == RDB_OK, "%s: %s", sql, msg ? msg : "?");
	rdb_free_msg(msg);
}

static int collect(void *arg, int n, char **vals, char **names)
{
	size_t len = strlen(out);
	int i;

	(void)arg;
	(void)names;
	if (len > 0)
		out[len++] = '\n';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
					i ? "|" : "", vals[i] ? vals[i]
							      : "NULL");
	out[len] = '\0';
	return 0;
}

const char *su_query(rdb *db, const char *sql)
{
	char *msg = NULL;
	int rc;

	out[0] = '\0';
	rc = rdb_exec(db, sql, collect, NULL, &msg);
	ck_assert_msg(rc == RDB_OK, "%s: %s", sql, msg ? msg : "?");
	rdb_free_msg(msg);
	return out;
}

void sb_add(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		need = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(need, 0);
		if ((size_t)need < room) {
			b->n += (size_t)need;
			return;
		}
		b->cap = (b->cap + (size_t)need + 64) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
}

char *sb_take(sbuf *b)
{
	char *p = b->p ? b->p : strdup("");

	*b = (sbuf){0};
	return p;
}
