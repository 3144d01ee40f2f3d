/*
 * sql_util.c -- SQL test helpers; see sql_util.h.
 */
#include "sql_util.h"
#include <check.h>
#include <stdio.h>
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
