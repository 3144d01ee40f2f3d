/*
 * api_test.h -- internal hooks of the public API for rdb's own tests (not
 * installed, not in include/rdb.h): open a database through any file
 * interface, such as the fault-injecting in-memory one of os.h, and run a
 * checkpoint on demand.
 *
 * Layer:  api.  Used only by tests/.
 */
#ifndef RDB_API_TEST_H
#define RDB_API_TEST_H
#include "rdb.h"
#include "pager/pager.h"         /* os_vfs, through pager/os.h */

/*
 * rdb_open_v2() through vfs (borrowed: it must outlive the handle) instead
 * of the POSIX files; RDB_OPEN_MEMORY is not allowed here (RDB_MISUSE).
 * Same results and ownership as rdb_open_v2().
 */
int rdb_open_vfs(os_vfs *vfs, const char *path, rdb **out,
		 const rdb_open_opts *opts);

/* Copy every committed frame into the database file (pager_checkpoint);
 * RDB_MISUSE inside BEGIN ... COMMIT.  Readers still running keep the
 * frames they need. */
int rdb_checkpoint_now(rdb *db);

#endif /* RDB_API_TEST_H */
