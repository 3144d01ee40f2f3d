/*
 * bt_util.h -- the rig of the B+ tree suites that work below the table
 * layer (btcov, btcov2, btcrowd): a pager on a database of its own
 * in-memory file system.  Every call fails the test on error.
 */
#ifndef RDB_BT_UTIL_H
#define RDB_BT_UTIL_H
#include <stdint.h>
#include "pager/os.h"
#include "pager/pager.h"

/* The database's name on the rig's file system. */
#define BT_RIG_DB "rig.db"

typedef struct bt_rig {
	os_vfs *vfs;              /* owned */
	pager *p;                 /* owned; NULL while closed */
	pager_opts o;
	rdb_err err;
	rdb_pgno root;            /* the suite's tree, once it made one */
} bt_rig;

/* A new in-memory file system and database of page size ps with cache
 * frames, open (everything else pager_opts_default()). */
void bt_rig_new(bt_rig *r, uint32_t ps, uint32_t cache);
/* Open r's database again with r->o (after pager_close(r->p)). */
void bt_rig_open(bt_rig *r);
/* Close r's pager and open the database again (the next reads come
 * from the files); returns pager_close()'s code. */
rdb_rc bt_rig_reopen(bt_rig *r);
/* A transaction (write or read) on r's pager. */
pager_txn *bt_rig_begin(bt_rig *r, int write);
/* Close the pager (if open) and free the file system. */
void bt_rig_free(bt_rig *r);

#endif /* RDB_BT_UTIL_H */
