/*
 * select.h -- running queries (select.c, join.c, subq.c).  Internal to
 * src/sql.
 */
#ifndef RDB_SQL_SELECT_H
#define RDB_SQL_SELECT_H
#include "exec.h"

/* Start q (allocating its run state) for the current outer rows. */
rdb_rc query_open(sql_prog *p, query *q);
/* RDB_ROW with the row in q->r->outv (borrowed until the next call), or
 * RDB_DONE, or an error. */
rdb_rc query_next(sql_prog *p, query *q);
/* Close cursors and free the run state.  NULL-safe, idempotent. */
void query_close(sql_prog *p, query *q);

/* join.c: the next joined row of q's sources (their rows set). */
rdb_rc join_next(sql_prog *p, query *q);
void src_close(qsrc *s);
/* subq.c: fill s->sub_rows with the FROM subquery's rows. */
rdb_rc sub_materialize(sql_prog *p, qsrc *s);

#endif /* RDB_SQL_SELECT_H */
